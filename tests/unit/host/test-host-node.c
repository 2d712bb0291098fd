#include "hearth-error.h"
#include "host-node.h"

#include <string.h>

static char *fixture(const char *name)
{
    const char *src = g_getenv("HEARTH_SOURCE_ROOT");

    g_assert_nonnull(src);
    return g_build_filename(src, "tests", "data", "host", name, NULL);
}

static void test_single_node(void)
{
    g_autofree char *root = fixture("node-single");
    g_autoptr(GError) error = NULL;
    HostNodeInfo info;

    g_assert_true(host_node_info_read_at(root, &info, &error));
    g_assert_no_error(error);
    g_assert_cmpstr(info.model, ==, host_arch());
    /* The node's memory, not /proc/meminfo's (they differ on this fixture, as on the host it
     * was taken from, and `virsh nodeinfo` shows the node's). */
    g_assert_cmpuint(info.memory_kib, ==, 5204172);
    g_assert_cmpint(info.cpus, ==, 2);
    g_assert_cmpint(info.mhz, ==, 2600);
    g_assert_cmpint(info.nodes, ==, 1);
    g_assert_cmpint(info.sockets, ==, 1);
    g_assert_cmpint(info.cores, ==, 2);
    g_assert_cmpint(info.threads, ==, 1);
}

static void test_numa_smt(void)
{
    g_autofree char *root = fixture("node-numa2-smt");
    g_autoptr(GError) error = NULL;
    g_autoptr(HostTopology) topo = NULL;
    HostNodeInfo info;
    HostCell *cell;
    HostCpu *cpu;
    HostDistance *d;

    g_assert_true(host_node_info_read_at(root, &info, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(info.memory_kib, ==, 1048576 + 2097152);
    g_assert_cmpint(info.cpus, ==, 8);
    g_assert_cmpint(info.mhz, ==, 3400);
    g_assert_cmpint(info.nodes, ==, 2);
    g_assert_cmpint(info.sockets, ==, 1); /* per node */
    g_assert_cmpint(info.cores, ==, 2);
    g_assert_cmpint(info.threads, ==, 2);

    topo = host_topology_read_at(root, &error);
    g_assert_no_error(error);
    g_assert_nonnull(topo);
    g_assert_cmpuint(topo->sockets, ==, 2);
    g_assert_cmpuint(topo->dies, ==, 1);
    g_assert_cmpuint(topo->cores, ==, 2);
    g_assert_cmpuint(topo->threads, ==, 2);
    g_assert_cmpuint(topo->cells->len, ==, 2);
    cell = topo->cells->pdata[0];
    g_assert_cmpuint(cell->cpus->len, ==, 4);
    cpu = cell->cpus->pdata[2];
    g_assert_cmpuint(cpu->id, ==, 4);
    g_assert_true(cpu->online);
    g_assert_cmpuint(cpu->socket_id, ==, 0);
    g_assert_cmpuint(cpu->core_id, ==, 0);
    g_assert_cmpstr(cpu->siblings, ==, "0,4");
    cell = topo->cells->pdata[1];
    g_assert_cmpuint(cell->id, ==, 1);
    g_assert_cmpuint(cell->memory_kib, ==, 2097152);
    g_assert_cmpuint(cell->distances->len, ==, 2);
    d = &g_array_index(cell->distances, HostDistance, 0);
    g_assert_cmpuint(d->id, ==, 0);
    g_assert_cmpuint(d->value, ==, 21);
    d = &g_array_index(cell->distances, HostDistance, 1);
    g_assert_cmpuint(d->id, ==, 1);
    g_assert_cmpuint(d->value, ==, 10);
}

static void test_offline_flat(void)
{
    g_autofree char *root = fixture("node-nonuma-offline");
    g_autoptr(GError) error = NULL;
    g_autoptr(HostTopology) topo = NULL;
    HostNodeInfo info;
    HostCell *cell;

    g_assert_true(host_node_info_read_at(root, &info, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(info.memory_kib, ==, 4000000); /* no NUMA sysfs: /proc/meminfo */
    g_assert_cmpint(info.cpus, ==, 3);
    g_assert_cmpint(info.mhz, ==, 1999);
    /* 3 online cores cannot account for 4 present CPUs: reported flat, like libvirt. */
    g_assert_cmpint(info.nodes, ==, 1);
    g_assert_cmpint(info.sockets, ==, 1);
    g_assert_cmpint(info.cores, ==, 4);
    g_assert_cmpint(info.threads, ==, 1);

    topo = host_topology_read_at(root, &error);
    g_assert_nonnull(topo);
    cell = topo->cells->pdata[0];
    g_assert_cmpuint(cell->memory_kib, ==, 4000000);
    g_assert_cmpuint(cell->cpus->len, ==, 4);
    g_assert_false(((HostCpu *)cell->cpus->pdata[3])->online);
    g_assert_true(((HostCpu *)cell->cpus->pdata[2])->online);
}

static void test_missing_root(void)
{
    g_autoptr(GError) error = NULL;
    HostNodeInfo info;

    memset(&info, 0x5a, sizeof(info));
    g_assert_false(host_node_info_read_at("/nonexistent-hearth-root", &info, &error));
    g_assert_error(error, HEARTH_ERROR, HEARTH_ERR_SYSTEM_ERROR);
    g_assert_nonnull(strstr(error->message, "/nonexistent-hearth-root"));
    g_assert_cmpint(info.cpus, ==, 0x5a5a5a5a); /* untouched on failure */
}

static void test_real_host(void)
{
    g_autoptr(GError) error = NULL;
    HostNodeInfo info;

    g_assert_true(host_node_info_read(&info, &error));
    g_assert_no_error(error);
    g_assert_cmpint(info.cpus, >, 0);
    g_assert_cmpuint(info.memory_kib, >, 0);
    g_assert_cmpint(info.nodes, >=, 1);
    g_assert_cmpint((gint64)info.nodes * info.sockets * info.cores * info.threads, >=, info.cpus);
    g_test_message("host: %s %" G_GUINT64_FORMAT " KiB cpus=%d mhz=%d nodes=%d sockets=%d "
                   "cores=%d threads=%d",
                   info.model, info.memory_kib, info.cpus, info.mhz, info.nodes, info.sockets,
                   info.cores, info.threads);
}

static void check_cpuset(const char *in, const char *expected)
{
    g_autoptr(GArray) ids = g_array_new(FALSE, FALSE, sizeof(guint));
    g_autofree char *out = NULL;

    g_assert_true(host_cpuset_parse(in, ids));
    out = host_cpuset_format(ids);
    g_assert_cmpstr(out, ==, expected);
}

static void test_cpuset(void)
{
    g_autoptr(GArray) ids = g_array_new(FALSE, FALSE, sizeof(guint));

    check_cpuset("0-3,8,10-11\n", "0-3,8,10-11");
    check_cpuset(" 5,1-2,2\n", "1-2,5");
    check_cpuset("0,4", "0,4");
    check_cpuset("", "");
    g_assert_false(host_cpuset_parse("1-", ids));
    g_assert_false(host_cpuset_parse("a", ids));
    g_assert_false(host_cpuset_parse("3-1", ids));
    g_assert_false(host_cpuset_parse("1,,2", ids));
}

static void test_cpu_model(void)
{
    g_autofree char *intel = fixture("node-numa2-smt");
    g_autofree char *amd = fixture("node-nonuma-offline");
    g_autoptr(HostCpuInfo) a = host_cpu_info_read_at(intel, NULL);
    g_autoptr(HostCpuInfo) b = host_cpu_info_read_at(amd, NULL);

    g_assert_nonnull(a);
    g_assert_nonnull(b);
    g_assert_cmpstr(a->vendor, ==, "Intel");
    g_assert_cmpstr(host_cpu_model_guess(a), ==, "SandyBridge");
    g_assert_cmpstr(b->vendor, ==, "AMD");
    g_assert_cmpstr(host_cpu_model_guess(b), ==, "Opteron_G3");
    g_hash_table_remove(b->flags, "lm");
    g_assert_cmpstr(host_cpu_model_guess(b), ==, "qemu32");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/host/node/single", test_single_node);
    g_test_add_func("/host/node/numa-smt", test_numa_smt);
    g_test_add_func("/host/node/offline-flat", test_offline_flat);
    g_test_add_func("/host/node/missing-root", test_missing_root);
    g_test_add_func("/host/node/real-host", test_real_host);
    g_test_add_func("/host/node/cpuset", test_cpuset);
    g_test_add_func("/host/node/cpu-model", test_cpu_model);
    return g_test_run();
}
