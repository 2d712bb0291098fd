/* A new, empty qcow2 overlay written directly (what `qemu-img create -f qcow2 -b BACKING -F FMT`
 * writes), so that a live snapshot needs no qemu-img process and no blockdev-create job. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Creates @path (which must not exist; mode 0600, owner @uid/@gid unless -1) as a qcow2 v3
 * image of @size bytes and 2^@cluster_bits byte clusters whose backing file is @backing
 * (absolute) in format @backing_fmt. Nothing is left behind on failure. */
gboolean snapshot_image_create(const char *path, guint64 size, guint cluster_bits,
                               const char *backing, const char *backing_fmt, int uid, int gid,
                               GError **error);

G_END_DECLS
