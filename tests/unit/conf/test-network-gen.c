/* What a network definition turns into on the host: dnsmasq's configuration and the
 * nftables table, as golden files (tests/data/network/NAME.{dnsmasq.conf,nft}); regenerate
 * with HEARTH_REGENERATE=1. Also the lease file and its helper,
 * table names and the detection of other firewalls' drop policies. */
#include "dnsmasq-config.h"
#include "hearth-error.h"
#include "nat-firewall.h"
#include "network-def.h"
#include "network-driver.h"
#include "network-leases.h"

#include <gio/gio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *data_path(const char *name)
{
    return g_build_filename(g_getenv("HEARTH_SOURCE_ROOT"), "tests", "data", "network", name, NULL);
}

static HearthNetworkDef *load_def(const char *name)
{
    g_autofree char *file = g_strdup_printf("%s.xml", name);
    g_autofree char *path = data_path(file);
    g_autofree char *xml = NULL;
    g_autoptr(GError) error = NULL;
    HearthNetworkDef *def;

    g_assert_true(g_file_get_contents(path, &xml, NULL, NULL));
    def = network_def_parse(xml, strlen(xml), 0, &error);
    g_assert_no_error(error);
    return def;
}

/* Compare @text with NAME.SUFFIX; NULL @text means the file must not exist. */
static void check_golden(const char *name, const char *suffix, const char *text)
{
    g_autofree char *file = g_strdup_printf("%s.%s", name, suffix);
    g_autofree char *path = data_path(file);
    g_autofree char *expected = NULL;

    if (g_strcmp0(g_getenv("HEARTH_REGENERATE"), "1") == 0) {
        if (text)
            g_assert_true(g_file_set_contents(path, text, -1, NULL));
        else
            unlink(path);
    }
    if (!text) {
        g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
        return;
    }
    if (!g_file_get_contents(path, &expected, NULL, NULL))
        g_error("missing golden file %s (run with HEARTH_REGENERATE=1 once)", path);
    g_assert_cmpstr(text, ==, expected);
}

/* nft's own parser and the kernel's checks, in a private network namespace and without
 * committing anything (nft -c). Only possible as root. */
static void nft_check(const char *ruleset)
{
    g_autoptr(GSubprocess) proc = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *err = NULL;

    if (geteuid() != 0 || !g_file_test("/usr/sbin/nft", G_FILE_TEST_IS_EXECUTABLE)) {
        g_test_message("not root or no nft: ruleset syntax not checked");
        return;
    }
    proc = g_subprocess_new(G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE |
                                G_SUBPROCESS_FLAGS_STDOUT_SILENCE,
                            &error, "unshare", "-n", "/usr/sbin/nft", "-c", "-f", "-", NULL);
    g_assert_no_error(error);
    g_assert_true(g_subprocess_communicate_utf8(proc, ruleset, NULL, NULL, &err, &error));
    if (!g_subprocess_get_successful(proc))
        g_error("nft -c refuses the ruleset: %s\n%s", err, ruleset);
}

/* dnsmasq's own syntax check (--test reads the file and exits). */
static void dnsmasq_check(const char *conf)
{
    g_autofree char *dir = g_dir_make_tmp("hearth-dnsmasq-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "test.conf", NULL);
    g_autofree char *arg = g_strconcat("--conf-file=", path, NULL);
    g_autoptr(GSubprocess) proc = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *out = NULL;

    if (!g_file_test("/usr/sbin/dnsmasq", G_FILE_TEST_IS_EXECUTABLE)) {
        g_test_message("no dnsmasq: configuration syntax not checked");
        rmdir(dir);
        return;
    }
    g_assert_true(g_file_set_contents(path, conf, -1, NULL));
    proc = g_subprocess_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_MERGE,
                            &error, "/usr/sbin/dnsmasq", "--test", arg, NULL);
    g_assert_no_error(error);
    g_assert_true(g_subprocess_communicate_utf8(proc, NULL, NULL, &out, NULL, &error));
    if (!g_subprocess_get_successful(proc))
        g_error("dnsmasq --test refuses the configuration: %s\n%s", out, conf);
    unlink(path);
    rmdir(dir);
}

static const char *const cases[] = {"default",     "isolated",        "route-dev", "nat-full",
                                    "host-bridge", "unknown-content", NULL};

static void test_generated(gconstpointer data)
{
    const char *name = data;
    g_autoptr(HearthNetworkDef) def = load_def(name);
    g_autofree char *pid = g_strdup_printf("/run/hearth/network/%s.pid", name);
    DnsmasqFiles files = {.pid_file = pid};
    g_autofree char *table = NULL, *conf = NULL, *ruleset = NULL;

    if (def->bridge && strstr(def->bridge, "%d")) {
        g_autoptr(GHashTable) used = g_hash_table_new(g_str_hash, g_str_equal);

        g_assert_true(network_def_assign_bridge(def, used, NULL));
    }
    network_def_fill_live(def);
    table = nat_firewall_table_name(def->name);
    conf = dnsmasq_config_text(def, &files);
    ruleset = nat_firewall_ruleset(def, table);
    check_golden(name, "dnsmasq.conf", conf);
    if (conf)
        dnsmasq_check(conf);
    check_golden(name, "nft", ruleset);
    if (ruleset)
        nft_check(ruleset);
}

static void test_table_name(void)
{
    g_autofree char *plain = nat_firewall_table_name("default");
    g_autofree char *odd = nat_firewall_table_name("my net.1");
    g_autofree char *odd2 = nat_firewall_table_name("my_net_1");

    g_assert_cmpstr(plain, ==, "hearth_default");
    g_assert_true(g_str_has_prefix(odd, "hearth_my_net_1_"));
    g_assert_cmpstr(odd2, ==, "hearth_my_net_1");
    g_assert_cmpstr(odd, !=, odd2);
}

static void test_forward_drops(void)
{
    const char *json =
        "{\"nftables\": [{\"metainfo\": {\"version\": \"1.0.6\"}},"
        "{\"chain\": {\"family\": \"ip\", \"table\": \"filter\", \"name\": \"FORWARD\","
        " \"handle\": 1, \"type\": \"filter\", \"hook\": \"forward\", \"prio\": 0,"
        " \"policy\": \"drop\"}},"
        "{\"chain\": {\"family\": \"ip\", \"table\": \"filter\", \"name\": \"INPUT\","
        " \"handle\": 2, \"type\": \"filter\", \"hook\": \"input\", \"prio\": 0,"
        " \"policy\": \"drop\"}},"
        "{\"chain\": {\"family\": \"inet\", \"table\": \"fw\", \"name\": \"fwd\","
        " \"handle\": 3, \"type\": \"filter\", \"hook\": \"forward\", \"prio\": 0,"
        " \"policy\": \"accept\"}},"
        "{\"chain\": {\"family\": \"ip6\", \"table\": \"f6\", \"name\": \"fwd\","
        " \"handle\": 4, \"type\": \"filter\", \"hook\": \"forward\", \"prio\": 0,"
        " \"policy\": \"drop\"}},"
        "{\"chain\": {\"family\": \"ip\", \"table\": \"hearth_default\", \"name\": \"forward\","
        " \"handle\": 5, \"type\": \"filter\", \"hook\": \"forward\", \"prio\": 0,"
        " \"policy\": \"drop\"}},"
        "{\"chain\": {\"family\": \"ip\", \"table\": \"filter\", \"name\": \"DOCKER\","
        " \"handle\": 6}}]}";
    g_autoptr(GPtrArray) found = nat_firewall_forward_drops(json, "hearth_default");
    g_autoptr(GPtrArray) none = nat_firewall_forward_drops("not json", "x");

    g_assert_cmpuint(found->len, ==, 1);
    g_assert_cmpstr(g_ptr_array_index(found, 0), ==, "ip filter FORWARD");
    g_assert_cmpuint(none->len, ==, 0);
}

static void test_no_dnsmasq(void)
{
    const char *xml = "<network><name>n</name><bridge name='virbr9'/></network>";
    g_autoptr(HearthNetworkDef) def = network_def_parse(xml, strlen(xml), 0, NULL);
    DnsmasqFiles files = {"/p"};
    g_autofree char *conf = dnsmasq_config_text(def, &files);

    g_assert_null(conf); /* no address: nothing for dnsmasq to serve */
}

static void test_leases_file(void)
{
    g_autofree char *dir = g_dir_make_tmp("hearth-leases-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "virbr0.status", NULL);
    g_autoptr(GPtrArray) leases =
        g_ptr_array_new_with_free_func((GDestroyNotify)network_lease_free);
    g_autoptr(GPtrArray) back = NULL;
    g_autoptr(GError) error = NULL;
    NetworkLease *l = g_new0(NetworkLease, 1);
    NetworkLease *old = g_new0(NetworkLease, 1);

    l->ip = g_strdup("192.168.122.42");
    l->mac = g_strdup("52:54:00:9e:1b:85");
    l->client_id = g_strdup("01:52:54:00:9e:1b:85");
    l->expiry = 4000000000;
    old->ip = g_strdup("192.168.122.43");
    old->mac = g_strdup("52:54:00:9e:1b:86");
    old->hostname = g_strdup("old");
    old->expiry = 1000;
    g_ptr_array_add(leases, l);
    g_ptr_array_add(leases, old);
    g_assert_true(network_leases_save(path, leases, &error));
    back = network_leases_load(path, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(back->len, ==, 2);
    g_assert_true(network_leases_expire(back, 2000));
    g_assert_cmpuint(back->len, ==, 1);
    l = g_ptr_array_index(back, 0);
    g_assert_cmpstr(l->ip, ==, "192.168.122.42");
    g_assert_cmpstr(l->client_id, ==, "01:52:54:00:9e:1b:85");
    g_assert_null(l->hostname);
    g_assert_cmpint(l->expiry, ==, 4000000000);

    /* libvirt's empty file and a missing one are both "no leases" */
    g_assert_true(g_file_set_contents(path, "", 0, NULL));
    g_clear_pointer(&back, g_ptr_array_unref);
    back = network_leases_load(path, &error);
    g_assert_cmpuint(back->len, ==, 0);
    unlink(path);
    g_clear_pointer(&back, g_ptr_array_unref);
    back = network_leases_load(path, &error);
    g_assert_cmpuint(back->len, ==, 0);
    rmdir(dir);
}

/* The helper as dnsmasq runs it: init, add, old (keeps the name), del. */
static char *run_helper(const char *file, const char *const *argv, const char *expires)
{
    const char *helper = g_getenv("HEARTH_LEASES_HELPER");
    g_autoptr(GSubprocessLauncher) l =
        g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
    g_autoptr(GPtrArray) args = g_ptr_array_new();
    g_autoptr(GSubprocess) proc = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *err = NULL;
    char *out = NULL;

    g_assert_nonnull(helper);
    g_subprocess_launcher_setenv(l, "HEARTH_LEASES_FILE", file, TRUE);
    g_subprocess_launcher_setenv(l, "DNSMASQ_CLIENT_ID", "01:52:54:00:12:34:56", TRUE);
    if (expires)
        g_subprocess_launcher_setenv(l, "DNSMASQ_LEASE_EXPIRES", expires, TRUE);
    g_ptr_array_add(args, (gpointer)helper);
    for (; *argv; argv++)
        g_ptr_array_add(args, (gpointer)*argv);
    g_ptr_array_add(args, NULL);
    proc = g_subprocess_launcher_spawnv(l, (const char *const *)args->pdata, &error);
    g_assert_no_error(error);
    g_assert_true(g_subprocess_communicate_utf8(proc, NULL, NULL, &out, &err, &error));
    if (!g_subprocess_get_successful(proc))
        g_error("hearth-leases failed: %s", err);
    return out;
}

static void test_leases_helper(void)
{
    g_autofree char *dir = g_dir_make_tmp("hearth-leases-XXXXXX", NULL);
    g_autofree char *file = g_build_filename(dir, "virbr0.status", NULL);
    g_autofree char *lock = g_strconcat(file, ".lock", NULL);
    g_autoptr(GPtrArray) leases = NULL;
    g_autofree char *out = NULL;
    NetworkLease *l;

    g_free(run_helper(file, (const char *[]){"add", "52:54:00:12:34:56", "10.0.0.5", "vm1", NULL},
                      "4000000000"));
    g_free(run_helper(file, (const char *[]){"old", "52:54:00:12:34:56", "10.0.0.5", NULL},
                      "4000000100"));
    g_free(run_helper(file, (const char *[]){"add", "52:54:00:AB:CD:EF", "10.0.0.6", NULL},
                      "4000000000"));
    out = run_helper(file, (const char *[]){"init", NULL}, NULL);
    g_assert_cmpstr(out, ==,
                    "4000000100 52:54:00:12:34:56 10.0.0.5 vm1 01:52:54:00:12:34:56\n"
                    "4000000000 52:54:00:ab:cd:ef 10.0.0.6 * 01:52:54:00:12:34:56\n");
    g_free(run_helper(file, (const char *[]){"del", "52:54:00:12:34:56", "10.0.0.5", NULL}, NULL));
    leases = network_leases_load(file, NULL);
    g_assert_cmpuint(leases->len, ==, 1);
    l = g_ptr_array_index(leases, 0);
    g_assert_cmpstr(l->ip, ==, "10.0.0.6");
    unlink(file);
    unlink(lock);
    rmdir(dir);
}

/* Definitions through the driver, without starting anything: files, autostart links, the
 * default network, and what guests get asked for an unknown or inactive network. */
static void test_driver_definitions(void)
{
    g_autofree char *root = g_dir_make_tmp("hearth-netdrv-XXXXXX", NULL);
    g_autofree char *qemu = g_build_filename(root, "etc", "qemu", NULL);
    g_autofree char *run = g_build_filename(root, "run", NULL);
    g_autofree char *state = g_build_filename(root, "state", NULL);
    g_autofree char *conf = g_build_filename(qemu, "networks", "lab.xml", NULL);
    g_autofree char *link = g_build_filename(qemu, "networks", "autostart", "lab.xml", NULL);
    g_autofree char *dlink = g_build_filename(qemu, "networks", "autostart", "default.xml", NULL);
    const char *xml = "<network><name>lab</name><ip address='10.66.0.1' prefix='24'/></network>";
    const char *clash = "<network><name>lab2</name><bridge name='virbr1'/></network>";
    g_autoptr(GError) error = NULL;
    g_autofree char *bridge = NULL;
    NetworkDriver *drv = network_driver_new(qemu, run, state, TRUE);
    HearthNetwork *net, *def_net;
    gboolean is_new = FALSE;
    int mtu = 0;

    network_driver_load(drv);
    /* first start: libvirt's default network, autostart */
    def_net = network_driver_lookup_by_name(drv, "default");
    g_assert_nonnull(def_net);
    g_assert_true(def_net->autostart && def_net->persistent);
    g_assert_cmpstr(def_net->def->bridge, ==, "virbr0");
    g_assert_true(g_file_test(dlink, G_FILE_TEST_IS_SYMLINK));

    net = network_driver_define(drv, network_def_parse(xml, strlen(xml), 0, NULL), &is_new, &error);
    g_assert_no_error(error);
    g_assert_true(is_new);
    g_assert_cmpstr(net->def->bridge, ==, "virbr1"); /* virbr0 is default's */
    g_assert_true(g_file_test(conf, G_FILE_TEST_IS_REGULAR));
    g_assert_true(network_driver_set_autostart(drv, net, TRUE, &error));
    g_assert_true(g_file_test(link, G_FILE_TEST_IS_SYMLINK));

    g_assert_null(network_driver_define(drv, network_def_parse(clash, strlen(clash), 0, NULL),
                                        &is_new, &error));
    g_assert_error(error, HEARTH_ERROR, HEARTH_ERR_OPERATION_FAILED);
    g_assert_nonnull(
        strstr(error->message, "bridge name 'virbr1' is already in use by network 'lab'"));
    g_clear_error(&error);

    g_assert_false(network_driver_port_bridge(drv, "nope", &bridge, &mtu, &error));
    g_assert_error(error, HEARTH_ERROR, HEARTH_ERR_NO_NETWORK);
    g_clear_error(&error);
    g_assert_false(network_driver_port_bridge(drv, "lab", &bridge, &mtu, &error));
    g_assert_error(error, HEARTH_ERROR, HEARTH_ERR_OPERATION_INVALID);
    g_assert_cmpstr(error->message, ==, "network 'lab' is not active");
    g_assert_null(bridge);
    g_clear_error(&error);

    /* a reload finds the same */
    network_driver_free(drv);
    drv = network_driver_new(qemu, run, state, TRUE);
    network_driver_load(drv);
    g_assert_cmpuint(network_driver_count(drv), ==, 2);
    net = network_driver_lookup_by_name(drv, "lab");
    g_assert_true(net->autostart);
    g_assert_cmpstr(net->def->bridge, ==, "virbr1");
    g_assert_true(network_driver_undefine(drv, net, &error));
    g_assert_false(g_file_test(conf, G_FILE_TEST_EXISTS));
    g_assert_false(g_file_test(link, G_FILE_TEST_EXISTS));
    g_assert_null(network_driver_lookup_by_name(drv, "lab"));
    network_driver_free(drv);

    /* not the first start any more: default stays undefined once undefined */
    drv = network_driver_new(qemu, run, state, TRUE);
    network_driver_load(drv);
    g_assert_true(
        network_driver_undefine(drv, network_driver_lookup_by_name(drv, "default"), &error));
    network_driver_free(drv);
    drv = network_driver_new(qemu, run, state, TRUE);
    network_driver_load(drv);
    g_assert_cmpuint(network_driver_count(drv), ==, 0);
    network_driver_free(drv);
    {
        g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", root);

        g_assert_cmpint(system(cmd), ==, 0);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    for (guint i = 0; cases[i]; i++) {
        g_autofree char *path = g_strdup_printf("/network-gen/golden/%s", cases[i]);

        g_test_add_data_func(path, cases[i], test_generated);
    }
    g_test_add_func("/network-gen/table-name", test_table_name);
    g_test_add_func("/network-gen/forward-drops", test_forward_drops);
    g_test_add_func("/network-gen/no-dnsmasq", test_no_dnsmasq);
    g_test_add_func("/network-gen/leases-file", test_leases_file);
    g_test_add_func("/network-gen/leases-helper", test_leases_helper);
    g_test_add_func("/network-gen/driver-definitions", test_driver_definitions);
    return g_test_run();
}
