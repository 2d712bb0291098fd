/* daemon/host/host-stats.c on fixture trees: /proc/stat, /proc/meminfo and NUMA meminfo. */
#include "hearth-error.h"
#include "host-stats.h"

#include <glib/gstdio.h>
#include <unistd.h>

static void remove_tree(const char *path)
{
    GDir *d = g_dir_open(path, 0, NULL);
    const char *name;

    while (d && (name = g_dir_read_name(d))) {
        g_autofree char *child = g_build_filename(path, name, NULL);

        if (g_file_test(child, G_FILE_TEST_IS_DIR))
            remove_tree(child);
        else
            g_unlink(child);
    }
    if (d)
        g_dir_close(d);
    g_rmdir(path);
}

static char *make_root(gboolean numa)
{
    g_autoptr(GError) error = NULL;
    char *root = g_dir_make_tmp("host-stats-XXXXXX", &error);
    g_autofree char *proc = g_build_filename(root, "proc", NULL);
    g_autofree char *stat = g_build_filename(proc, "stat", NULL);
    g_autofree char *meminfo = g_build_filename(proc, "meminfo", NULL);

    g_assert_no_error(error);
    g_assert_cmpint(g_mkdir_with_parents(proc, 0755), ==, 0);
    g_assert_true(g_file_set_contents(stat,
                                      "cpu  100 20 30 400 5 6 7 8 0 0\n"
                                      "cpu0 60 10 20 200 3 4 5 4 0 0\n"
                                      "cpu1 40 10 10 200 2 2 2 4 0 0\n"
                                      "intr 12345\n",
                                      -1, NULL));
    g_assert_true(g_file_set_contents(meminfo,
                                      "MemTotal:       2048000 kB\n"
                                      "MemFree:         512000 kB\n"
                                      "MemAvailable:    900000 kB\n"
                                      "Buffers:          10000 kB\n"
                                      "Cached:          300000 kB\n"
                                      "SwapCached:           0 kB\n",
                                      -1, NULL));
    for (int n = 0; numa && n < 2; n++) {
        g_autofree char *dir = g_strdup_printf("%s/sys/devices/system/node/node%d", root, n);
        g_autofree char *file = g_build_filename(dir, "meminfo", NULL);
        g_autofree char *text = g_strdup_printf("Node %d MemTotal:       1024000 kB\n"
                                                "Node %d MemFree:         %d kB\n",
                                                n, n, n == 0 ? 200000 : 312000);

        g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
        g_assert_true(g_file_set_contents(file, text, -1, NULL));
    }
    return root;
}

static void test_cpu(void)
{
    g_autofree char *root = make_root(FALSE);
    g_autoptr(GError) error = NULL;
    guint64 tick = G_GUINT64_CONSTANT(1000000000) / (guint64)sysconf(_SC_CLK_TCK);
    HostCpuStats st;

    g_assert_true(host_cpu_stats_read_at(root, HOST_ALL_CPUS, &st, &error));
    g_assert_cmpuint(st.user, ==, 120 * tick);            /* user + nice */
    g_assert_cmpuint(st.kernel, ==, (30 + 6 + 7) * tick); /* system + irq + softirq */
    g_assert_cmpuint(st.idle, ==, 400 * tick);
    g_assert_cmpuint(st.iowait, ==, 5 * tick);
    g_assert_true(host_cpu_stats_read_at(root, 1, &st, &error));
    g_assert_cmpuint(st.user, ==, 50 * tick);
    g_assert_false(host_cpu_stats_read_at(root, 2, &st, &error));
    g_assert_error(error, HEARTH_ERROR, HEARTH_ERR_INVALID_ARG);
    remove_tree(root);
}

static void test_memory(void)
{
    g_autofree char *flat = make_root(FALSE);
    g_autofree char *numa = make_root(TRUE);
    g_autoptr(GError) error = NULL;
    g_autoptr(GArray) cells = NULL;
    HostMemoryStats st;

    g_assert_true(host_memory_stats_read_at(flat, HOST_ALL_CELLS, &st, &error));
    g_assert_cmpuint(st.total, ==, 2048000);
    g_assert_cmpuint(st.free, ==, 512000);
    g_assert_cmpuint(st.buffers, ==, 10000);
    g_assert_cmpuint(st.cached, ==, 300000); /* not SwapCached */
    /* without NUMA information the host is cell 0 */
    g_assert_true(host_memory_stats_read_at(flat, 0, &st, &error));
    g_assert_cmpuint(st.total, ==, 2048000);
    g_assert_false(host_memory_stats_read_at(flat, 1, &st, &error));
    g_clear_error(&error);
    g_assert_true(host_memory_stats_read_at(numa, 1, &st, &error));
    g_assert_cmpuint(st.total, ==, 1024000);
    g_assert_cmpuint(st.free, ==, 312000);
    g_assert_cmpuint(st.buffers, ==, 0);
    cells = host_cells_free_read_at(numa, 0, 8, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(cells->len, ==, 2);
    g_assert_cmpuint(g_array_index(cells, guint64, 1), ==, 312000 * 1024ull);
    g_clear_pointer(&cells, g_array_unref);
    cells = host_cells_free_read_at(flat, 0, 8, &error);
    g_assert_cmpuint(cells->len, ==, 1);
    g_assert_cmpuint(g_array_index(cells, guint64, 0), ==, 512000 * 1024ull);
    g_assert_null(host_cells_free_read_at(numa, 5, 1, &error));
    g_assert_error(error, HEARTH_ERROR, HEARTH_ERR_INVALID_ARG);
    remove_tree(flat);
    remove_tree(numa);
}

static void test_cpu_models(void)
{
    guint n = 0;
    const char *const *names = host_cpu_model_names("x86_64", &n);

    g_assert_nonnull(names);
    g_assert_cmpuint(n, >, 20);
    g_assert_cmpstr(names[0], ==, "qemu64");
    g_assert_null(host_cpu_model_names("sparc64", &n));
    g_assert_cmpuint(n, ==, 0);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/host-stats/cpu", test_cpu);
    g_test_add_func("/host-stats/memory", test_memory);
    g_test_add_func("/host-stats/cpu-models", test_cpu_models);
    return g_test_run();
}
