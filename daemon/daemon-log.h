/* Log writer for hearthd: one line per message to stderr and the daemon log file, or to the
 * journal when systemd connected stderr to it. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

gboolean daemon_log_init(const char *log_file, const char *level, GError **error);
void daemon_log_close(void);

G_END_DECLS
