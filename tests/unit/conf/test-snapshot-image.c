/* daemon/snapshot-image.c: the qcow2 overlays hearthd writes for live snapshots must be images
 * QEMU's own tools accept: `qemu-img check` clean, `qemu-img info` naming the backing file and
 * format, and data written through them readable back (with the backing data below). */
#include "snapshot-image.h"

#include <glib/gstdio.h>
#include <string.h>

static char *run(const char *cmdline, int *status)
{
    g_autofree char *out = NULL, *err = NULL;
    g_autoptr(GError) error = NULL;
    int wait_status = 0;

    if (!g_spawn_command_line_sync(cmdline, &out, &err, &wait_status, &error))
        g_error("cannot run %s: %s", cmdline, error->message);
    *status = g_spawn_check_wait_status(wait_status, NULL) ? 0 : 1;
    return g_strconcat(out, err, NULL);
}

static void check_image(const char *dir, guint64 size, guint cluster_bits)
{
    g_autofree char *backing = g_build_filename(dir, "backing.qcow2", NULL);
    g_autofree char *overlay = g_build_filename(dir, "overlay.qcow2", NULL);
    g_autofree char *cmd = NULL, *out = NULL;
    g_autoptr(GError) error = NULL;
    int status;

    g_unlink(backing);
    g_unlink(overlay);
    cmd = g_strdup_printf("qemu-img create -q -f qcow2 %s %" G_GUINT64_FORMAT, backing, size);
    g_free(run(cmd, &status));
    g_assert_cmpint(status, ==, 0);
    g_assert_true(
        snapshot_image_create(overlay, size, cluster_bits, backing, "qcow2", -1, -1, &error));
    g_assert_no_error(error);

    g_free(cmd);
    cmd = g_strdup_printf("qemu-img check %s", overlay);
    out = run(cmd, &status);
    if (status != 0 || !strstr(out, "No errors were found"))
        g_error("qemu-img check of a %" G_GUINT64_FORMAT "-byte image, cluster bits %u:\n%s", size,
                cluster_bits, out);
    g_free(out);
    g_free(cmd);
    cmd = g_strdup_printf("qemu-img info --output=json %s", overlay);
    out = run(cmd, &status);
    g_assert_cmpint(status, ==, 0);
    {
        g_autofree char *want_size =
            g_strdup_printf("\"virtual-size\": %" G_GUINT64_FORMAT, (size + 511) / 512 * 512);
        g_autofree char *want_cluster = g_strdup_printf("\"cluster-size\": %u", 1u << cluster_bits);
        g_autofree char *want_backing = g_strdup_printf("\"backing-filename\": \"%s\"", backing);

        g_assert_nonnull(strstr(out, want_size));
        g_assert_nonnull(strstr(out, want_cluster));
        g_assert_nonnull(strstr(out, want_backing));
        g_assert_nonnull(strstr(out, "\"backing-filename-format\": \"qcow2\""));
    }
    g_free(out);
    /* Data: the backing file's below, the overlay's own on top. */
    g_free(cmd);
    cmd = g_strdup_printf("qemu-io -f qcow2 -c 'write -P 0x5a 0 64k' %s", backing);
    g_free(run(cmd, &status));
    g_assert_cmpint(status, ==, 0);
    g_free(cmd);
    cmd = g_strdup_printf("qemu-io -f qcow2 -c 'write -P 0xa5 64k 64k' -c 'read -P 0x5a 0 64k' "
                          "-c 'read -P 0xa5 64k 64k' %s",
                          overlay);
    out = run(cmd, &status);
    if (status != 0 || strstr(out, "fail") || strstr(out, "Pattern verification"))
        g_error("qemu-io on the overlay:\n%s", out);
    g_free(out);
    g_free(cmd);
    cmd = g_strdup_printf("qemu-img check %s", overlay);
    out = run(cmd, &status);
    g_assert_cmpint(status, ==, 0);
}

static void test_sizes(void)
{
    g_autofree char *dir = g_dir_make_tmp("snapimg-XXXXXX", NULL);
    static const struct {
        guint64 size;
        guint bits;
    } cases[] = {
        {64 << 20, 16},   {(64 << 20) + 1, 16}, {1 << 20, 9},
        {3ull << 40, 16}, {100 << 20, 12},      {8ull << 40, 21},
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++)
        check_image(dir, cases[i].size, cases[i].bits);
    g_autofree char *b = g_build_filename(dir, "backing.qcow2", NULL);
    g_autofree char *o = g_build_filename(dir, "overlay.qcow2", NULL);
    g_unlink(b);
    g_unlink(o);
    g_rmdir(dir);
}

static void test_refuses(void)
{
    g_autofree char *dir = g_dir_make_tmp("snapimg-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "exists", NULL);
    g_autoptr(GError) error = NULL;

    g_assert_true(g_file_set_contents(path, "keep", -1, NULL));
    g_assert_false(snapshot_image_create(path, 1 << 20, 16, "/b", "qcow2", -1, -1, &error));
    g_assert_nonnull(error);
    g_clear_error(&error);
    {
        g_autofree char *content = NULL;

        g_assert_true(g_file_get_contents(path, &content, NULL, NULL));
        g_assert_cmpstr(content, ==, "keep");
    }
    g_unlink(path);
    g_assert_false(snapshot_image_create(path, 1 << 20, 30, "/b", "qcow2", -1, -1, &error));
    g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
    g_rmdir(dir);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/snapshot-image/sizes", test_sizes);
    g_test_add_func("/snapshot-image/refuses", test_refuses);
    return g_test_run();
}
