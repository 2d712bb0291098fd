#include "image-probe.h"
#include "hearth-error.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n-lib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define QCOW2_MAGIC 0x514649fbu
#define QCOW2_EXT_END 0u
#define QCOW2_EXT_BACKING_FORMAT 0xe2792acau
#define QCOW2_BACKING_NAME_MAX 1023u /* QEMU's own limit */
#define PROBE_READ 65536u

void image_info_clear(ImageInfo *info)
{
    g_clear_pointer(&info->format, g_free);
    g_clear_pointer(&info->backing_file, g_free);
    g_clear_pointer(&info->backing_format, g_free);
    info->virtual_size = 0;
    info->cluster_bits = 0;
}

static guint32 be32(const guint8 *p)
{
    return (guint32)p[0] << 24 | (guint32)p[1] << 16 | (guint32)p[2] << 8 | p[3];
}

static guint64 be64(const guint8 *p)
{
    return (guint64)be32(p) << 32 | be32(p + 4);
}

static gboolean bad_image(GError **error, const char *what)
{
    g_set_error(error, HEARTH_ERROR, HEARTH_ERR_OPERATION_FAILED, _("malformed qcow2 header: %s"),
                what);
    return FALSE;
}

/* A name from an image header: no NUL bytes inside, valid UTF-8. */
static char *header_string(const guint8 *p, gsize len)
{
    if (memchr(p, '\0', len) || !g_utf8_validate((const char *)p, (gssize)len, NULL))
        return NULL;
    return g_strndup((const char *)p, len);
}

static gboolean parse_extensions(const guint8 *buf, gsize len, gsize off, ImageInfo *info,
                                 GError **error)
{
    /* Extensions follow the header until an end marker; never walk past what was read. */
    for (int i = 0; i < 64 && off + 8 <= len; i++) {
        guint32 type = be32(buf + off);
        guint32 elen = be32(buf + off + 4);

        if (type == QCOW2_EXT_END)
            return TRUE;
        if (elen > len - off - 8)
            return bad_image(error, "header extension runs past the header");
        if (type == QCOW2_EXT_BACKING_FORMAT) {
            g_free(info->backing_format);
            info->backing_format = header_string(buf + off + 8, elen);
            if (!info->backing_format)
                return bad_image(error, "invalid backing format name");
        }
        off += 8 + (((gsize)elen + 7) & ~(gsize)7);
    }
    return TRUE;
}

gboolean image_probe_buffer(const guint8 *buf, gsize len, guint64 file_size, ImageInfo *info,
                            GError **error)
{
    guint32 version, header_len = 72;
    guint64 backing_off;
    guint32 backing_len;

    memset(info, 0, sizeof(*info));
    if (len < 72 || be32(buf) != QCOW2_MAGIC) {
        info->format = g_strdup("raw");
        info->virtual_size = file_size;
        return TRUE;
    }
    version = be32(buf + 4);
    if (version != 2 && version != 3)
        return bad_image(error, "unsupported version");
    backing_off = be64(buf + 8);
    backing_len = be32(buf + 16);
    info->cluster_bits = be32(buf + 20);
    info->virtual_size = be64(buf + 24);
    if (info->cluster_bits < 9 || info->cluster_bits > 21)
        return bad_image(error, "cluster size out of range");
    if (version == 3) {
        if (len < 104)
            return bad_image(error, "truncated version 3 header");
        header_len = be32(buf + 100);
        if (header_len < 104 || header_len > len)
            return bad_image(error, "header length out of range");
    }
    info->format = g_strdup("qcow2");
    if (!parse_extensions(buf, len, header_len, info, error)) {
        image_info_clear(info);
        return FALSE;
    }
    if (backing_off != 0) {
        if (backing_len == 0 || backing_len > QCOW2_BACKING_NAME_MAX) {
            image_info_clear(info);
            return bad_image(error, "backing file name length out of range");
        }
        if (backing_off > len || backing_len > len - backing_off) {
            image_info_clear(info);
            return bad_image(error, "backing file name outside the header cluster");
        }
        info->backing_file = header_string(buf + backing_off, backing_len);
        if (!info->backing_file) {
            image_info_clear(info);
            return bad_image(error, "invalid backing file name");
        }
    }
    return TRUE;
}

gboolean image_probe_file(const char *path, ImageInfo *info, GError **error)
{
    g_autofree guint8 *buf = g_malloc(PROBE_READ);
    struct stat st;
    ssize_t n;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    gboolean ok;

    if (fd < 0) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_NO_SOURCE,
                    _("cannot access disk image '%s': %s"), path, g_strerror(errno));
        return FALSE;
    }
    if (fstat(fd, &st) < 0) {
        hearth_error_set_errno(error, errno, "cannot stat '%s'", path);
        close(fd);
        return FALSE;
    }
    n = pread(fd, buf, PROBE_READ, 0);
    close(fd);
    if (n < 0) {
        hearth_error_set_errno(error, errno, "cannot read '%s'", path);
        return FALSE;
    }
    ok = image_probe_buffer(buf, (gsize)n, (guint64)st.st_size, info, error);
    if (!ok)
        g_prefix_error(error, "%s: ", path);
    return ok;
}

char *image_resolve_backing(const char *image_path, const char *backing)
{
    g_autofree char *dir = NULL;

    if (g_path_is_absolute(backing))
        return g_strdup(backing);
    dir = g_path_get_dirname(image_path);
    return g_build_filename(dir, backing, NULL);
}
