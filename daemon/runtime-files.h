/* The key=value files in a domain's runtime directory (worker.conf, status), and the
 * pid + start-time check that keeps a reused PID from passing for a live process. */
#pragma once

#include <glib.h>
#include <sys/types.h>

G_BEGIN_DECLS

/* NULL (and error set) when the file cannot be read. */
GHashTable *runtime_kv_read(const char *path, GError **error);

/* Start time of a process in clock ticks since boot (/proc/PID/stat field 22), 0 if none. */
guint64 runtime_process_start_time(pid_t pid);

/* TRUE when kv[pid_key] names a process that is alive with start time kv[start_key]. */
gboolean runtime_process_alive(GHashTable *kv, const char *pid_key, const char *start_key);

G_END_DECLS
