/* Layout, as QEMU's qcow2 driver creates it: cluster 0 the header (with the backing format
 * extension and the backing file name), cluster 1 the refcount table, cluster 2 its only
 * refcount block (16-bit refcounts), then the L1 table, all zero: no cluster is allocated. */
#include "snapshot-image.h"
#include "hearth-error.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#define QCOW2_MAGIC 0x514649fbu
#define QCOW2_HEADER_LEN 104u
#define QCOW2_EXT_BACKING_FORMAT 0xe2792acau
#define QCOW2_REFCOUNT_ORDER 4u

static void put32(guint8 *p, guint32 v)
{
    p[0] = (guint8)(v >> 24);
    p[1] = (guint8)(v >> 16);
    p[2] = (guint8)(v >> 8);
    p[3] = (guint8)v;
}

static void put64(guint8 *p, guint64 v)
{
    put32(p, (guint32)(v >> 32));
    put32(p + 4, (guint32)v);
}

static gboolean write_at(int fd, const void *buf, gsize len, guint64 off)
{
    const guint8 *p = buf;

    while (len > 0) {
        ssize_t n = pwrite(fd, p, len, (off_t)off);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return FALSE;
        p += n;
        len -= (gsize)n;
        off += (guint64)n;
    }
    return TRUE;
}

gboolean snapshot_image_create(const char *path, guint64 size, guint cluster_bits,
                               const char *backing, const char *backing_fmt, int uid, int gid,
                               GError **error)
{
    const guint64 cluster = (guint64)1 << cluster_bits;
    guint64 l2_span, l1_size, l1_bytes, l1_clusters, nclusters, end;
    gsize blen = strlen(backing), flen = strlen(backing_fmt);
    gsize ext_len = 8 + ((flen + 7) & ~(gsize)7) + 8;
    g_autofree guint8 *head = NULL;
    g_autofree guint8 *refblock = NULL;
    guint8 reftable[8];
    int fd;

    if (cluster_bits < 9 || cluster_bits > 21 || size == 0 || size > ((guint64)1 << 55) ||
        blen == 0 || blen > 1023 || flen == 0 || flen > 16 ||
        QCOW2_HEADER_LEN + ext_len + blen > cluster) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_INTERNAL,
                    _("cannot create overlay '%s': unusable image parameters"), path);
        return FALSE;
    }
    size = (size + 511) & ~(guint64)511; /* QEMU counts whole sectors */
    l2_span = cluster / 8 * cluster;
    l1_size = (size + l2_span - 1) / l2_span;
    l1_bytes = l1_size * 8;
    l1_clusters = (l1_bytes + cluster - 1) / cluster;
    nclusters = 3 + l1_clusters;
    if (nclusters > cluster / 2 || l1_size > G_MAXUINT32) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_INTERNAL,
                    _("cannot create overlay '%s': the disk is too large"), path);
        return FALSE;
    }

    head = g_malloc0(cluster);
    put32(head + 0, QCOW2_MAGIC);
    put32(head + 4, 3);                          /* version */
    put64(head + 8, QCOW2_HEADER_LEN + ext_len); /* backing_file_offset */
    put32(head + 16, (guint32)blen);             /* backing_file_size */
    put32(head + 20, cluster_bits);
    put64(head + 24, size);
    put32(head + 36, (guint32)l1_size);
    put64(head + 40, 3 * cluster); /* l1_table_offset */
    put64(head + 48, cluster);     /* refcount_table_offset */
    put32(head + 56, 1);           /* refcount_table_clusters */
    put32(head + 96, QCOW2_REFCOUNT_ORDER);
    put32(head + 100, QCOW2_HEADER_LEN);
    put32(head + QCOW2_HEADER_LEN, QCOW2_EXT_BACKING_FORMAT);
    put32(head + QCOW2_HEADER_LEN + 4, (guint32)flen);
    memcpy(head + QCOW2_HEADER_LEN + 8, backing_fmt, flen);
    /* the end-of-extensions marker is the zeroed 8 bytes that follow */
    memcpy(head + QCOW2_HEADER_LEN + ext_len, backing, blen);

    put64(reftable, 2 * cluster);
    refblock = g_malloc0(nclusters * 2);
    for (guint64 i = 0; i < nclusters; i++)
        refblock[i * 2 + 1] = 1;
    end = 3 * cluster + l1_bytes;

    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        hearth_error_set_errno(error, errno, _("failed to create image file '%s'"), path);
        return FALSE;
    }
    if ((uid >= 0 || gid >= 0) && fchown(fd, (uid_t)uid, (gid_t)gid) < 0)
        goto fail;
    if (!write_at(fd, head, QCOW2_HEADER_LEN + ext_len + blen, 0) ||
        !write_at(fd, reftable, sizeof(reftable), cluster) ||
        !write_at(fd, refblock, nclusters * 2, 2 * cluster) || ftruncate(fd, (off_t)end) < 0 ||
        fsync(fd) < 0)
        goto fail;
    close(fd);
    return TRUE;

fail:
    hearth_error_set_errno(error, errno, _("failed to write image file '%s'"), path);
    close(fd);
    g_unlink(path);
    return FALSE;
}
