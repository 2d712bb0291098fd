#include "host-stats.h"
#include "hearth-error.h"

#include <glib/gi18n-lib.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *read_file(const char *root, const char *rel, GError **error)
{
    g_autofree char *path = g_build_filename(root, rel, NULL);
    g_autoptr(GError) local = NULL;
    char *text = NULL;

    if (!g_file_get_contents(path, &text, NULL, &local)) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_INTERNAL, _("cannot read %s: %s"), path,
                    local->message);
        return NULL;
    }
    return text;
}

gboolean host_cpu_stats_read_at(const char *root, int cpu, HostCpuStats *out, GError **error)
{
    g_autofree char *text = read_file(root, "proc/stat", error);
    g_autofree char *want = cpu == HOST_ALL_CPUS ? g_strdup("cpu") : g_strdup_printf("cpu%d", cpu);
    g_auto(GStrv) lines = NULL;
    guint64 ns_per_tick = G_GUINT64_CONSTANT(1000000000) / (guint64)sysconf(_SC_CLK_TCK);

    if (!text)
        return FALSE;
    if (cpu < HOST_ALL_CPUS) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_INVALID_ARG, _("invalid cpuNum %d"), cpu);
        return FALSE;
    }
    lines = g_strsplit(text, "\n", -1);
    for (guint i = 0; lines[i]; i++) {
        g_auto(GStrv) f = g_strsplit_set(lines[i], " ", -1);
        guint64 v[8] = {0};
        guint n = 0;

        if (!f[0] || strcmp(f[0], want) != 0)
            continue;
        /* "cpu  user nice system idle iowait irq softirq steal ..." (runs of spaces) */
        for (guint j = 1; f[j] && n < G_N_ELEMENTS(v); j++)
            if (*f[j])
                v[n++] = g_ascii_strtoull(f[j], NULL, 10);
        out->user = (v[0] + v[1]) * ns_per_tick;
        out->kernel = (v[2] + v[5] + v[6]) * ns_per_tick;
        out->idle = v[3] * ns_per_tick;
        out->iowait = v[4] * ns_per_tick;
        return TRUE;
    }
    g_set_error(error, HEARTH_ERROR, HEARTH_ERR_INVALID_ARG,
                _("invalid cpuNum %d: the host has no such CPU"), cpu);
    return FALSE;
}

/* "Key:   123 kB" lines (/proc/meminfo), or "Node 0 Key:   123 kB" (a NUMA node's meminfo). */
guint64 host_proc_kv_value(const char *text, const char *key)
{
    g_autofree char *needle = g_strconcat(key, ":", NULL);
    const char *p = text;

    while ((p = strstr(p, needle))) {
        if (p == text || p[-1] == '\n' || p[-1] == ' ')
            return g_ascii_strtoull(p + strlen(needle), NULL, 10);
        p += strlen(needle);
    }
    return 0;
}

gboolean host_proc_cpu_time(const char *stat_path, guint64 *ns, int *last_cpu)
{
    g_autofree char *text = NULL;
    g_auto(GStrv) f = NULL;
    const char *p;

    *ns = 0;
    if (last_cpu)
        *last_cpu = -1;
    if (!g_file_get_contents(stat_path, &text, NULL, NULL) || !(p = strrchr(text, ')')))
        return FALSE;
    /* After the command name: state (field 3) is f[0]; utime and stime are fields 14 and 15,
     * the last CPU field 39. */
    f = g_strsplit(p + 2, " ", -1);
    if (g_strv_length(f) < 13)
        return FALSE;
    *ns = (g_ascii_strtoull(f[11], NULL, 10) + g_ascii_strtoull(f[12], NULL, 10)) *
          (G_GUINT64_CONSTANT(1000000000) / (guint64)sysconf(_SC_CLK_TCK));
    if (last_cpu && g_strv_length(f) > 36)
        *last_cpu = (int)g_ascii_strtoll(f[36], NULL, 10);
    return TRUE;
}

gboolean host_memory_stats_read_at(const char *root, int cell, HostMemoryStats *out, GError **error)
{
    g_autofree char *text = NULL;

    if (cell == HOST_ALL_CELLS) {
        text = read_file(root, "proc/meminfo", error);
    } else if (cell >= 0) {
        g_autofree char *rel = g_strdup_printf("sys/devices/system/node/node%d/meminfo", cell);
        g_autofree char *dir = g_build_filename(root, "sys/devices/system/node", NULL);

        /* no NUMA information: the host is cell 0 */
        if (cell == 0 && !g_file_test(dir, G_FILE_TEST_IS_DIR))
            text = read_file(root, "proc/meminfo", error);
        else
            text = read_file(root, rel, NULL);
        if (!text && !(error && *error))
            g_set_error(error, HEARTH_ERROR, HEARTH_ERR_INVALID_ARG,
                        _("invalid cellNum %d: the host has no such NUMA cell"), cell);
    } else {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_INVALID_ARG, _("invalid cellNum %d"), cell);
    }
    if (!text)
        return FALSE;
    out->total = host_proc_kv_value(text, "MemTotal");
    out->free = host_proc_kv_value(text, "MemFree");
    out->buffers = host_proc_kv_value(text, "Buffers");
    out->cached = host_proc_kv_value(text, "Cached");
    return TRUE;
}

GArray *host_cells_free_read_at(const char *root, int start, int max, GError **error)
{
    g_autoptr(GArray) cells = g_array_new(FALSE, FALSE, sizeof(guint64));
    g_autofree char *dir = g_build_filename(root, "sys/devices/system/node", NULL);
    gboolean numa = g_file_test(dir, G_FILE_TEST_IS_DIR);

    if (start < 0 || max <= 0) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_INVALID_ARG,
                    _("invalid cell range: start %d, count %d"), start, max);
        return NULL;
    }
    for (int cell = start; cell < start + max; cell++) {
        HostMemoryStats st;
        guint64 bytes;

        if (!numa && cell > 0)
            break;
        if (!host_memory_stats_read_at(root, cell, &st, NULL))
            break;
        bytes = st.free * 1024;
        g_array_append_val(cells, bytes);
    }
    if (cells->len == 0) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_INVALID_ARG, _("start cell %d out of range"),
                    start);
        return NULL;
    }
    return g_steal_pointer(&cells);
}
