#include "runtime-files.h"

#include <stdlib.h>
#include <string.h>

GHashTable *runtime_kv_read(const char *path, GError **error)
{
    g_autofree char *data = NULL;
    g_auto(GStrv) lines = NULL;
    GHashTable *kv;

    if (!g_file_get_contents(path, &data, NULL, error))
        return NULL;
    kv = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    lines = g_strsplit(data, "\n", -1);
    for (guint i = 0; lines[i]; i++) {
        char *eq = strchr(lines[i], '=');
        if (!eq || lines[i][0] == '#')
            continue;
        *eq = '\0';
        g_hash_table_insert(kv, g_strdup(lines[i]), g_strdup(eq + 1));
    }
    return kv;
}

guint64 runtime_process_start_time(pid_t pid)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/stat", (int)pid);
    g_autofree char *data = NULL;
    char *p;
    int field = 2;

    if (pid <= 0 || !g_file_get_contents(path, &data, NULL, NULL))
        return 0;
    /* The command name (field 2) may hold spaces and parentheses: skip to its last ')'. */
    p = strrchr(data, ')');
    if (!p)
        return 0;
    p++;
    while (*p && field < 22) {
        if (*p == ' ')
            field++;
        p++;
    }
    if (field != 22)
        return 0;
    /* A zombie has exited: it is not alive for our purposes. */
    if (data[strlen(data) > 0 ? (gsize)(strrchr(data, ')') - data) + 2 : 0] == 'Z')
        return 0;
    return g_ascii_strtoull(p, NULL, 10);
}

gboolean runtime_process_alive(GHashTable *kv, const char *pid_key, const char *start_key)
{
    const char *pid = g_hash_table_lookup(kv, pid_key);
    const char *start = g_hash_table_lookup(kv, start_key);
    guint64 now;

    if (!pid || !start)
        return FALSE;
    now = runtime_process_start_time((pid_t)atoi(pid));
    return now != 0 && now == g_ascii_strtoull(start, NULL, 10);
}
