#include "daemon-log.h"
#include "hearth-error.h"

#include <errno.h>
#include <stdio.h>
#include <unistd.h>

static FILE *log_stream;
static GLogLevelFlags log_threshold = G_LOG_LEVEL_INFO;
static gboolean use_journal;

static const char *level_name(GLogLevelFlags level)
{
    if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL))
        return "error";
    if (level & G_LOG_LEVEL_WARNING)
        return "warning";
    if (level & (G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO))
        return "info";
    return "debug";
}

static GLogLevelFlags parse_level(const char *name)
{
    if (g_str_equal(name, "error"))
        return G_LOG_LEVEL_CRITICAL;
    if (g_str_equal(name, "warning"))
        return G_LOG_LEVEL_WARNING;
    if (g_str_equal(name, "debug"))
        return G_LOG_LEVEL_DEBUG;
    return G_LOG_LEVEL_INFO;
}

static GLogWriterOutput writer(GLogLevelFlags level, const GLogField *fields, gsize n_fields,
                               gpointer user_data)
{
    const char *message = NULL;
    g_autoptr(GDateTime) now = NULL;
    g_autofree char *stamp = NULL;

    /* GLib orders levels from ERROR (lowest bit) to DEBUG (highest bit). */
    if ((level & G_LOG_LEVEL_MASK) > log_threshold)
        return G_LOG_WRITER_HANDLED;
    if (use_journal)
        return g_log_writer_journald(level, fields, n_fields, user_data);
    for (gsize i = 0; i < n_fields; i++) {
        if (g_str_equal(fields[i].key, "MESSAGE"))
            message = fields[i].value;
    }
    now = g_date_time_new_now_utc();
    stamp = g_date_time_format(now, "%Y-%m-%d %H:%M:%S.%f");
    stamp[23] = '\0'; /* milliseconds are enough */
    fprintf(stderr, "%s %d %s: %s\n", stamp, (int)getpid(), level_name(level),
            message ? message : "");
    if (log_stream) {
        fprintf(log_stream, "%s %d %s: %s\n", stamp, (int)getpid(), level_name(level),
                message ? message : "");
        fflush(log_stream);
    }
    return G_LOG_WRITER_HANDLED;
}

gboolean daemon_log_init(const char *log_file, const char *level, GError **error)
{
    log_threshold = parse_level(level ? level : "info");
    use_journal = g_log_writer_is_journald(fileno(stderr));
    if (log_file && !use_journal) {
        log_stream = fopen(log_file, "ae");
        if (!log_stream) {
            hearth_error_set_errno(error, errno, "cannot open log file '%s'", log_file);
            return FALSE;
        }
    }
    g_log_set_writer_func(writer, NULL, NULL);
    return TRUE;
}

void daemon_log_close(void)
{
    if (log_stream)
        fclose(log_stream);
    log_stream = NULL;
}
