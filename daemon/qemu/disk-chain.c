#include "disk-chain.h"
#include "hearth-error.h"
#include "image-probe.h"

#include <glib/gi18n-lib.h>

#define CHAIN_DEPTH_MAX 200

static HearthDiskSource *backing_source_new(const char *path, const char *format)
{
    HearthDiskSource *src = g_new0(HearthDiskSource, 1);

    src->type = HEARTH_DISK_TYPE_FILE;
    src->path = g_strdup(path);
    src->format = g_strdup(format);
    src->has_source = TRUE;
    src->index = -1;
    return src;
}

static gboolean fill_one(HearthDomainDisk *disk, GError **error)
{
    HearthDiskSource *cur = &disk->src;
    g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

    for (int depth = 0; depth < CHAIN_DEPTH_MAX; depth++) {
        g_auto(ImageInfo) info = {0};
        g_autofree char *backing = NULL;

        if (!cur->path || cur->backing_end)
            return TRUE;
        if (g_hash_table_contains(seen, cur->path)) {
            g_set_error(error, HEARTH_ERROR, HEARTH_ERR_INVALID_ARG,
                        _("backing chain of disk '%s' loops back to '%s'"),
                        disk->target_dev ? disk->target_dev : "?", cur->path);
            return FALSE;
        }
        g_hash_table_add(seen, g_strdup(cur->path));
        /* Layers the XML names are taken as given; the chain goes on below the last one
         * (libvirt's persistent XML after a snapshot names just one level). */
        if (cur->backing) {
            cur = cur->backing;
            continue;
        }
        if (!image_probe_file(cur->path, &info, error))
            return FALSE;
        if (!cur->format || g_str_equal(cur->format, "raw") || !info.backing_file) {
            /* A raw layer (or one declared raw) has no backing file. */
            cur->backing_end = TRUE;
            return TRUE;
        }
        if (!g_str_equal(cur->format, info.format)) {
            g_set_error(error, HEARTH_ERROR, HEARTH_ERR_CONFIG_UNSUPPORTED,
                        _("disk image '%s' is %s, but the definition says %s"), cur->path,
                        info.format, cur->format);
            return FALSE;
        }
        if (!info.backing_format) {
            g_set_error(error, HEARTH_ERROR, HEARTH_ERR_CONFIG_UNSUPPORTED,
                        _("format of backing image '%s' of image '%s' was not specified in the "
                          "image metadata"),
                        info.backing_file, cur->path);
            return FALSE;
        }
        backing = image_resolve_backing(cur->path, info.backing_file);
        cur->backing = backing_source_new(backing, info.backing_format);
        cur = cur->backing;
    }
    g_set_error(error, HEARTH_ERROR, HEARTH_ERR_INVALID_ARG,
                _("backing chain of disk '%s' is deeper than %d images"),
                disk->target_dev ? disk->target_dev : "?", CHAIN_DEPTH_MAX);
    return FALSE;
}

gboolean disk_chain_fill(HearthDomainDef *def, GError **error)
{
    for (guint i = 0; def->devices && i < def->devices->len; i++) {
        HearthDomainDevice *dev = def->devices->pdata[i];

        if (dev->kind != HEARTH_DEVICE_DISK)
            continue;
        if (dev->u.disk->src.type != HEARTH_DISK_TYPE_FILE &&
            dev->u.disk->src.type != HEARTH_DISK_TYPE_BLOCK)
            continue;
        if (!fill_one(dev->u.disk, error))
            return FALSE;
    }
    return TRUE;
}
