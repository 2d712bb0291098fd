/* Reads disk image headers (qcow2, else raw) to learn an image's format and backing file,
 * without running qemu-img: starting a guest must not wait for a child process per layer.
 * Image files are untrusted input: every offset and length is bounds-checked. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
    char *format;         /* "qcow2" or "raw" */
    char *backing_file;   /* as written in the header (may be relative), NULL if none */
    char *backing_format; /* from the header extension, NULL if not recorded */
    guint64 virtual_size; /* bytes */
    guint32 cluster_bits; /* qcow2 only */
} ImageInfo;

void image_info_clear(ImageInfo *info);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(ImageInfo, image_info_clear)

/* Parse an image header from memory (exposed for tests and fuzzing). */
gboolean image_probe_buffer(const guint8 *buf, gsize len, guint64 file_size, ImageInfo *info,
                            GError **error);
/* Probe the file at PATH. */
gboolean image_probe_file(const char *path, ImageInfo *info, GError **error);

/* A backing file name resolved against the directory of the image that names it. */
char *image_resolve_backing(const char *image_path, const char *backing);

G_END_DECLS
