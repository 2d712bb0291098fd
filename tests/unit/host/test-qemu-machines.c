#include "hearth-error.h"
#include "host-caps.h"
#include "host-priv.h"
#include "host-test-util.h"
#include "qemu-machines.h"

#include <glib/gstdio.h>
#include <string.h>
#include <utime.h>

static void test_parse_captured(void)
{
    g_autofree char *path = host_test_fixture("machine-help-x86_64.txt");
    g_autofree char *text = NULL;
    g_autoptr(GPtrArray) machines = NULL;
    const QemuMachine *m;

    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    machines = qemu_machines_parse(text);
    /* 61 machines in QEMU 7.2's list, without "none". */
    g_assert_cmpuint(machines->len, ==, 60);
    g_assert_cmpstr(qemu_machines_default(machines), ==, "pc-i440fx-7.2");

    m = qemu_machines_lookup(machines, "pc");
    g_assert_nonnull(m);
    g_assert_cmpstr(m->name, ==, "pc-i440fx-7.2");
    g_assert_null(m->canonical);
    g_assert_true(m->is_default);
    g_assert_cmpuint(m->max_cpus, ==, 255);

    m = qemu_machines_lookup(machines, "q35");
    g_assert_nonnull(m);
    g_assert_cmpstr(m->name, ==, "pc-q35-7.2");
    g_assert_cmpuint(m->max_cpus, ==, 288);
    g_assert_cmpuint(qemu_machines_lookup(machines, "pc-q35-2.7")->max_cpus, ==, 255);
    g_assert_cmpuint(qemu_machines_lookup(machines, "pc-q35-2.10")->max_cpus, ==, 288);
    g_assert_cmpuint(qemu_machines_lookup(machines, "pc-q35-4.0.1")->max_cpus, ==, 288);
    g_assert_cmpuint(qemu_machines_lookup(machines, "isapc")->max_cpus, ==, 1);
    g_assert_cmpuint(qemu_machines_lookup(machines, "microvm")->max_cpus, ==, 288);
    g_assert_true(qemu_machines_lookup(machines, "pc-i440fx-1.4")->deprecated);
    g_assert_false(qemu_machines_lookup(machines, "pc-i440fx-2.0")->deprecated);
    g_assert_null(qemu_machines_lookup(machines, "none"));
    g_assert_null(qemu_machines_lookup(machines, "bogus"));

    for (guint i = 0; i < machines->len; i++) {
        m = machines->pdata[i];
        if (g_str_equal(m->name, "pc"))
            g_assert_cmpstr(m->canonical, ==, "pc-i440fx-7.2");
        g_assert_null(strchr(m->name, ' '));
    }
}

static void test_parse_variants(void)
{
    /* Older QEMUs mark the alias as the default, and markers can stack. */
    const char *text = "Supported machines are:\n"
                       "foo                  Foo board (alias of foo-2.0) (default)\n"
                       "foo-2.0              Foo board\n"
                       "bar                  Bar (with parentheses) (deprecated)\n"
                       "\n"
                       "loner\n";
    g_autoptr(GPtrArray) machines = qemu_machines_parse(text);
    const QemuMachine *m;

    g_assert_cmpuint(machines->len, ==, 4);
    g_assert_cmpstr(qemu_machines_default(machines), ==, "foo-2.0");
    m = machines->pdata[0];
    g_assert_cmpstr(m->canonical, ==, "foo-2.0");
    g_assert_true(m->is_default);
    m = qemu_machines_lookup(machines, "bar");
    g_assert_true(m->deprecated);
    g_assert_null(m->canonical);
    g_assert_nonnull(qemu_machines_lookup(machines, "loner"));

    machines = (g_ptr_array_unref(machines), qemu_machines_parse(""));
    g_assert_cmpuint(machines->len, ==, 0);
    g_assert_null(qemu_machines_default(machines));
}

static void rm_rf(const char *path)
{
    GDir *dir = g_dir_open(path, 0, NULL);
    const char *name;

    if (dir) {
        while ((name = g_dir_read_name(dir))) {
            g_autofree char *child = g_build_filename(path, name, NULL);
            rm_rf(child);
        }
        g_dir_close(dir);
        g_rmdir(path);
    } else {
        g_unlink(path);
    }
}

static guint count_files(const char *path)
{
    GDir *dir = g_dir_open(path, 0, NULL);
    guint n = 0;

    if (!dir)
        return 0;
    while (g_dir_read_name(dir))
        n++;
    g_dir_close(dir);
    return n;
}

static void test_lazy_probe_and_cache(void)
{
    g_autofree char *tmp = g_dir_make_tmp("host-caps-XXXXXX", NULL);
    g_autofree char *cache = g_build_filename(tmp, "cache", NULL);
    g_autofree char *qemu = host_test_fake_qemu(tmp, "qemu-system-x86_64");
    g_autoptr(GError) error = NULL;
    g_autofree char *xml = NULL;
    g_autofree char *domcaps = NULL;
    struct utimbuf times = {1000000000, 1000000000};
    FILE *f;

    host_caps_test_reset();
    host_caps_test_set_qemu("x86_64", qemu);
    host_caps_test_set_qemu("i686", NULL);

    /* Configuring the cache probes nothing. */
    host_caps_set_cache_dir(cache);
    g_assert_cmpuint(host_test_fake_qemu_runs(qemu), ==, 0);
    g_assert_false(g_file_test(cache, G_FILE_TEST_EXISTS));

    xml = host_capabilities_xml(&error);
    g_assert_no_error(error);
    g_assert_nonnull(strstr(xml, "<machine canonical='pc-q35-7.2' maxCpus='288'>q35</machine>"));
    g_assert_cmpuint(host_test_fake_qemu_runs(qemu), ==, 1);
    g_assert_cmpuint(count_files(cache), ==, 1);

    /* Memory cache, shared with domain capabilities. */
    g_clear_pointer(&xml, g_free);
    xml = host_capabilities_xml(&error);
    domcaps = host_domain_capabilities_xml(NULL, NULL, "q35", "qemu", &error);
    g_assert_no_error(error);
    g_assert_cmpuint(host_test_fake_qemu_runs(qemu), ==, 1);

    /* A restarted daemon reads the file instead of probing. */
    qemu_machines_reset();
    g_clear_pointer(&xml, g_free);
    xml = host_capabilities_xml(&error);
    g_assert_no_error(error);
    g_assert_cmpuint(host_test_fake_qemu_runs(qemu), ==, 1);

    /* A changed binary (size and mtime) is probed again, and the file replaced. */
    f = g_fopen(qemu, "a");
    fputs("# upgraded\n", f);
    fclose(f);
    g_assert_cmpint(utime(qemu, &times), ==, 0);
    g_clear_pointer(&xml, g_free);
    xml = host_capabilities_xml(&error);
    g_assert_no_error(error);
    g_assert_cmpuint(host_test_fake_qemu_runs(qemu), ==, 2);
    g_assert_cmpuint(count_files(cache), ==, 1);
    qemu_machines_reset();
    g_clear_pointer(&xml, g_free);
    xml = host_capabilities_xml(&error);
    g_assert_cmpuint(host_test_fake_qemu_runs(qemu), ==, 2);

    /* A corrupt cache file is ignored and rewritten. */
    {
        GDir *dir = g_dir_open(cache, 0, NULL);
        g_autofree char *file = g_build_filename(cache, g_dir_read_name(dir), NULL);

        g_dir_close(dir);
        g_assert_true(g_file_set_contents(file, "garbage", -1, NULL));
    }
    qemu_machines_reset();
    g_clear_pointer(&xml, g_free);
    xml = host_capabilities_xml(&error);
    g_assert_no_error(error);
    g_assert_cmpuint(host_test_fake_qemu_runs(qemu), ==, 3);

    host_caps_set_cache_dir(NULL);
    host_caps_test_reset();
    rm_rf(tmp);
}

static void test_probe_failure(void)
{
    g_autofree char *tmp = g_dir_make_tmp("host-caps-XXXXXX", NULL);
    g_autofree char *qemu = g_build_filename(tmp, "qemu-system-x86_64", NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) machines = NULL;

    g_assert_true(g_file_set_contents(qemu, "#!/bin/sh\nexit 1\n", -1, NULL));
    g_assert_cmpint(g_chmod(qemu, 0755), ==, 0);
    host_caps_test_reset();
    machines = qemu_machines_get(qemu, &error);
    g_assert_null(machines);
    g_assert_error(error, HEARTH_ERROR, HEARTH_ERR_INTERNAL);
    g_assert_nonnull(strstr(error->message, qemu));
    g_clear_error(&error);

    g_assert_null(qemu_machines_get("/nonexistent/qemu", &error));
    g_assert_error(error, HEARTH_ERROR, HEARTH_ERR_SYSTEM_ERROR);
    rm_rf(tmp);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/host/machines/parse-captured", test_parse_captured);
    g_test_add_func("/host/machines/parse-variants", test_parse_variants);
    g_test_add_func("/host/machines/lazy-probe-and-cache", test_lazy_probe_and_cache);
    g_test_add_func("/host/machines/probe-failure", test_probe_failure);
    return g_test_run();
}
