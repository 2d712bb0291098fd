/* HearthSnapshotDef: allocation, names, and filling in a disk-only snapshot request. */
#include "snapshot-def.h"
#include "domain-internal.h"

static const char *const location_names[] = {"default",  "no",     "internal",
                                             "external", "manual", NULL};

const char *snapshot_location_name(HearthSnapshotLocation loc)
{
    return location_names[loc];
}

HearthSnapshotDef *snapshot_def_new(void)
{
    HearthSnapshotDef *def = g_new0(HearthSnapshotDef, 1);

    def->creation_time = -1;
    return def;
}

void snapshot_disk_free(HearthSnapshotDisk *disk)
{
    if (!disk)
        return;
    g_free(disk->name);
    g_free(disk->driver_type);
    g_free(disk->file);
    xml_extra_clear(&disk->extra);
    g_free(disk);
}

void snapshot_def_free(HearthSnapshotDef *def)
{
    if (!def)
        return;
    g_free(def->name);
    g_free(def->description);
    g_free(def->state);
    g_free(def->parent);
    g_free(def->memory_file);
    if (def->disks)
        g_ptr_array_unref(def->disks);
    domain_def_free(def->dom);
    domain_def_free(def->inactive_dom);
    xml_extra_clear(&def->extra);
    g_free(def);
}

gboolean snapshot_name_check(const char *name, GError **error)
{
    gsize len = name ? strlen(name) : 0;

    if (len == 0) {
        conf_error(error, HEARTH_ERR_INVALID_ARG, _("snapshot name must not be empty"));
        return FALSE;
    }
    if (len > 200) {
        conf_error(error, HEARTH_ERR_INVALID_ARG,
                   _("snapshot name is %" G_GSIZE_FORMAT " bytes long; at most 200 bytes are "
                     "allowed because the name becomes part of file names"),
                   len);
        return FALSE;
    }
    if (!g_utf8_validate(name, (gssize)len, NULL)) {
        conf_error(error, HEARTH_ERR_INVALID_ARG, _("snapshot name is not valid UTF-8"));
        return FALSE;
    }
    if (name[0] == '.' || strchr(name, '/')) {
        conf_error(error, HEARTH_ERR_INVALID_ARG,
                   _("invalid snapshot name '%s': it must not start with '.' or contain '/'"),
                   name);
        return FALSE;
    }
    for (const char *p = name; *p; p++) {
        if ((guchar)*p < 0x20 || *p == 0x7f) {
            conf_error(error, HEARTH_ERR_INVALID_ARG,
                       _("snapshot name must not contain control characters"));
            return FALSE;
        }
    }
    return TRUE;
}

HearthSnapshotDisk *snapshot_def_find_disk(const HearthSnapshotDef *def, const char *target)
{
    for (guint i = 0; def->disks && i < def->disks->len; i++) {
        HearthSnapshotDisk *d = def->disks->pdata[i];

        if (g_strcmp0(d->name, target) == 0)
            return d;
    }
    return NULL;
}

char *snapshot_default_overlay_name(const char *path, const char *name)
{
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(path, '.');
    gsize keep = strlen(path);

    if (dot && (!slash || dot > slash))
        keep = (gsize)(dot - path);
    return g_strdup_printf("%.*s.%s", (int)keep, path, name);
}

static HearthDomainDisk *domain_disk_by_name(const HearthDomainDef *dom, const char *name)
{
    for (guint i = 0; dom->devices && i < dom->devices->len; i++) {
        HearthDomainDevice *dev = dom->devices->pdata[i];

        if (dev->kind != HEARTH_DEVICE_DISK)
            continue;
        if (g_strcmp0(dev->u.disk->target_dev, name) == 0)
            return dev->u.disk;
    }
    /* A disk may be named by its image path, as virsh users do. */
    for (guint i = 0; name[0] == '/' && dom->devices && i < dom->devices->len; i++) {
        HearthDomainDevice *dev = dom->devices->pdata[i];

        if (dev->kind == HEARTH_DEVICE_DISK && g_strcmp0(dev->u.disk->src.path, name) == 0)
            return dev->u.disk;
    }
    return NULL;
}

static HearthSnapshotLocation default_location(const HearthDomainDisk *disk)
{
    if (disk->device == HEARTH_DISK_DEVICE_CDROM || disk->device == HEARTH_DISK_DEVICE_FLOPPY ||
        disk->readonly || !disk->src.path)
        return HEARTH_SNAPSHOT_LOC_NO;
    return HEARTH_SNAPSHOT_LOC_EXTERNAL;
}

static gboolean align_one(HearthSnapshotDef *def, HearthSnapshotDisk *sd,
                          const HearthDomainDisk *disk, GError **error)
{
    if (sd->snapshot == HEARTH_SNAPSHOT_LOC_DEFAULT)
        sd->snapshot = default_location(disk);
    if (sd->snapshot != HEARTH_SNAPSHOT_LOC_EXTERNAL)
        return TRUE;
    if (!sd->has_type) {
        sd->type = HEARTH_DISK_TYPE_FILE;
        sd->has_type = TRUE;
    }
    if (!sd->driver_type)
        sd->driver_type = g_strdup("qcow2");
    if (sd->file)
        return TRUE;
    if (disk->src.type != HEARTH_DISK_TYPE_FILE) {
        static const char *const types[] = {"file",   "block", "dir",       "network",
                                            "volume", "nvme",  "vhostuser", "vhostvdpa"};

        conf_error(error, HEARTH_ERR_CONFIG_UNSUPPORTED,
                   _("cannot generate external snapshot name for disk '%s' on a '%s' device"),
                   sd->name, types[disk->src.type]);
        return FALSE;
    }
    if (!disk->src.path) {
        conf_error(error, HEARTH_ERR_CONFIG_UNSUPPORTED,
                   _("cannot generate external snapshot name for disk '%s' without source"),
                   sd->name);
        return FALSE;
    }
    sd->file = snapshot_default_overlay_name(disk->src.path, def->name);
    return TRUE;
}

gboolean snapshot_def_align_disks(HearthSnapshotDef *def, const HearthDomainDef *dom,
                                  GError **error)
{
    g_autoptr(GPtrArray) aligned =
        g_ptr_array_new_with_free_func((GDestroyNotify)snapshot_disk_free);
    g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);

    /* Named disks first, each resolved to its target. */
    for (guint i = 0; def->disks && i < def->disks->len; i++) {
        HearthSnapshotDisk *sd = def->disks->pdata[i];
        HearthDomainDisk *disk = sd->name ? domain_disk_by_name(dom, sd->name) : NULL;

        if (!disk) {
            conf_error(error, HEARTH_ERR_CONFIG_UNSUPPORTED, _("no disk named '%s'"),
                       sd->name ? sd->name : "");
            return FALSE;
        }
        if (g_hash_table_contains(seen, disk->target_dev)) {
            conf_error(error, HEARTH_ERR_CONFIG_UNSUPPORTED, _("disk '%s' specified twice"),
                       sd->name);
            return FALSE;
        }
        g_hash_table_add(seen, disk->target_dev);
        if (!g_str_equal(sd->name, disk->target_dev)) {
            g_free(sd->name);
            sd->name = g_strdup(disk->target_dev);
        }
    }
    /* Then every disk of the domain in its order, as libvirt lists them. */
    for (guint i = 0; dom->devices && i < dom->devices->len; i++) {
        HearthDomainDevice *dev = dom->devices->pdata[i];
        HearthDomainDisk *disk;
        HearthSnapshotDisk *sd = NULL;

        if (dev->kind != HEARTH_DEVICE_DISK)
            continue;
        disk = dev->u.disk;
        for (guint j = 0; def->disks && j < def->disks->len; j++) {
            HearthSnapshotDisk *cand = def->disks->pdata[j];

            if (cand && g_str_equal(cand->name, disk->target_dev)) {
                sd = g_ptr_array_steal_index(def->disks, j);
                g_ptr_array_insert(def->disks, (gint)j, NULL);
                break;
            }
        }
        if (!sd) {
            sd = g_new0(HearthSnapshotDisk, 1);
            sd->name = g_strdup(disk->target_dev);
        }
        g_ptr_array_add(aligned, sd);
        if (!align_one(def, sd, disk, error))
            return FALSE;
    }
    if (def->disks)
        g_ptr_array_unref(def->disks);
    def->disks = g_steal_pointer(&aligned);

    /* Two disks must never share an overlay. */
    for (guint i = 0; i < def->disks->len; i++) {
        HearthSnapshotDisk *a = def->disks->pdata[i];

        for (guint j = i + 1; a->file && j < def->disks->len; j++) {
            HearthSnapshotDisk *b = def->disks->pdata[j];

            if (b->file && a->snapshot == HEARTH_SNAPSHOT_LOC_EXTERNAL &&
                b->snapshot == HEARTH_SNAPSHOT_LOC_EXTERNAL && g_str_equal(a->file, b->file)) {
                conf_error(error, HEARTH_ERR_CONFIG_UNSUPPORTED,
                           _("cannot generate external snapshot name for disk '%s': collision "
                             "with disk '%s'"),
                           b->name, a->name);
                return FALSE;
            }
        }
    }
    return TRUE;
}
