/* Durable replacement of small files: temp file, fsync, rename, fsync of the directory.
 * A crash at any point leaves either the old or the new content, never a mix. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

gboolean atomic_file_write(const char *path, const char *data, gsize len, int mode, GError **error);

/* Remove a file and fsync its directory; a missing file is not an error. */
gboolean atomic_file_remove(const char *path, GError **error);

/* mkdir -p with a mode, reporting errno as a GError. */
gboolean hearth_mkdir_p(const char *path, int mode, GError **error);

G_END_DECLS
