/* The golden configurations on a real QEMU 7.2: paths rewritten to temporary images,
 * sockets and taps, a QMP socket added, then qmp_capabilities, query-status (prelaunch),
 * query-named-block-nodes (every libvirt-N node there) and quit. Fails if QEMU is missing. */
#include <fcntl.h>
#include <gio/gio.h>
#include <gio/gunixsocketaddress.h>
#include <glib/gstdio.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "domain-def.h"
#include "qemu-command.h"

typedef struct {
    const char *name;
    gboolean needs_kvm;
    gboolean as_tcg; /* run under TCG: this host's KVM lacks SMM, which Secure Boot needs */
} LiveCase;

static const LiveCase cases[] = {
    {"minimal-tcg-pc", FALSE, FALSE},
    {"q35-sata-cdrom", FALSE, FALSE},
    {"kernel-virtio-chain", FALSE, FALSE},
    {"two-disks-numbering", FALSE, FALSE},
    {"disk-options", FALSE, FALSE},
    {"disk-scsi-ide", FALSE, FALSE},
    {"boot-order-devices", FALSE, FALSE},
    {"boot-order-os", FALSE, FALSE},
    {"uefi-auto", FALSE, FALSE},
    {"uefi-loader-secure", FALSE, TRUE},
    {"serial-pty-console", FALSE, FALSE},
    {"serial-file-unix", FALSE, FALSE},
    {"console-only", FALSE, FALSE},
    {"channels-virtio-console", FALSE, FALSE},
    {"vnc-autoport-video-tablet", FALSE, FALSE},
    {"vnc-listen-password", FALSE, FALSE},
    {"video-models", FALSE, FALSE},
    {"balloon-rng", FALSE, FALSE},
    {"net-user-tap", FALSE, FALSE},
    {"cpu-custom-topology", FALSE, FALSE},
    {"cpu-host-model-tcg", FALSE, FALSE},
    {"kvm-available", TRUE, FALSE},
    {"clock-pm-features", TRUE, FALSE},
    {"q35-virt-manager", TRUE, FALSE},
    {"pc-explicit-addresses", FALSE, FALSE},
    {"sound-watchdog-panic", FALSE, FALSE},
    {"qemu-commandline", FALSE, FALSE},
};

typedef struct {
    char *dir;
    guint counter;
    GHashTable *net_fds; /* ordinal → tap fd */
    GPtrArray *fds_to_close;
} Live;

static char *new_path(Live *live, const char *ext)
{
    return g_strdup_printf("%s/f%u%s", live->dir, live->counter++, ext);
}

static void run(const char *const *argv)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *err = NULL;
    int status = 0;

    if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL,
                      NULL, NULL, NULL, &err, &status, &error))
        g_error("%s: %s", argv[0], error->message);
    if (!g_spawn_check_wait_status(status, NULL))
        g_error("%s failed: %s", argv[0], err);
}

/* Images bottom-up so each overlay records its backing file, as the caller's would. */
static void make_images(Live *live, HearthDiskSource *src, gboolean cdrom)
{
    const char *fmt = src->format ? src->format : "raw";
    g_autofree char *path = NULL;

    if (!src->path)
        return;
    if (src->backing && src->backing->path)
        make_images(live, src->backing, cdrom);
    path = new_path(live, strcmp(fmt, "qcow2") == 0 ? ".qcow2" : ".img");
    if (src->backing && src->backing->path) {
        const char *argv[] = {
            "qemu-img",           "create", "-q", "-f", fmt, "-b", src->backing->path, "-F",
            src->backing->format, path,     NULL};

        run(argv);
    } else {
        const char *argv[] = {"qemu-img", "create", "-q", "-f", fmt, path, "16M", NULL};

        run(argv);
    }
    g_free(src->path);
    src->path = g_steal_pointer(&path);
    src->type = HEARTH_DISK_TYPE_FILE;
}

/* Enough of a bzImage header for QEMU's loader; with -S no guest code ever runs. */
static char *fake_kernel(Live *live)
{
    char *path = new_path(live, ".vmlinuz");
    g_autofree guint8 *buf = g_malloc0(65536);

    buf[0x1f1] = 4;
    memcpy(buf + 0x202, "HdrS", 4);
    buf[0x206] = 0x0f;
    buf[0x207] = 0x02;
    buf[0x211] = 0x01;
    buf[0x22c] = 0xff;
    buf[0x22d] = 0xff;
    buf[0x22e] = 0xff;
    buf[0x22f] = 0x37;
    g_assert_true(g_file_set_contents(path, (char *)buf, 65536, NULL));
    return path;
}

/* A free TCP port at or above @from; a random start keeps concurrent runs apart. */
static int free_port(int from)
{
    int port, start = from + g_random_int_range(0, 400);

    for (port = start; port < start + 500; port++) {
        g_autoptr(GSocket) s = g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, 0, NULL);
        g_autoptr(GSocketAddress) any = g_inet_socket_address_new_from_string("0.0.0.0", port);

        if (s && g_socket_bind(s, any, FALSE, NULL))
            return port;
    }
    g_error("no free TCP port from %d", from);
}

static int tap_open(void)
{
    struct ifreq ifr;
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);

    if (fd < 0)
        return -1;
    memset(&ifr, 0, sizeof(ifr));
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
    g_strlcpy(ifr.ifr_name, "hqtest%d", sizeof(ifr.ifr_name));
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void rewrite(Live *live, HearthDomainDef *def, QemuCommandOptions *opts)
{
    guint i, nets = 0;

    if (def->os.kernel) {
        g_free(def->os.kernel);
        def->os.kernel = fake_kernel(live);
    }
    if (def->os.initrd) {
        g_free(def->os.initrd);
        def->os.initrd = new_path(live, ".initrd");
        g_assert_true(g_file_set_contents(def->os.initrd, "initrd", -1, NULL));
    }
    g_clear_pointer(&def->os.dtb, g_free);
    if (qemu_domain_wants_nvram(def)) {
        g_autofree char *data = NULL;
        gsize len;

        opts->nvram_path = new_path(live, "_VARS.fd");
        g_assert_true(g_file_get_contents(qemu_nvram_template(def), &data, &len, NULL));
        g_assert_true(g_file_set_contents(opts->nvram_path, data, (gssize)len, NULL));
        g_clear_pointer(&def->os.nvram, g_free);
    }
    for (i = 0; i < def->devices->len; i++) {
        HearthDomainDevice *dev = g_ptr_array_index(def->devices, i);

        if (dev->kind == HEARTH_DEVICE_DISK) {
            make_images(live, &dev->u.disk->src, dev->u.disk->device == HEARTH_DISK_DEVICE_CDROM);
        } else if (dev->kind == HEARTH_DEVICE_CHR) {
            HearthDomainChr *chr = dev->u.chr;

            if (chr->source_path) {
                g_free(chr->source_path);
                chr->source_path = new_path(live, ".chr");
            }
            if (chr->log_file) {
                g_free(chr->log_file);
                chr->log_file = new_path(live, ".log");
            }
            if (chr->source_service) {
                g_free(chr->source_service);
                chr->source_service = g_strdup_printf("%d", free_port(20000));
            }
        } else if (dev->kind == HEARTH_DEVICE_GRAPHICS) {
            HearthDomainGraphics *gr = dev->u.graphics;
            guint l;

            if (gr->port > 0)
                gr->port = free_port(gr->port + 100);
            for (l = 0; l < gr->listens->len; l++) {
                HearthGraphicsListen *gl = g_ptr_array_index(gr->listens, l);

                if (gl->address) {
                    g_free(gl->address);
                    gl->address = g_strdup("127.0.0.1");
                }
            }
        } else if (dev->kind == HEARTH_DEVICE_INTERFACE) {
            HearthDomainInterface *net = dev->u.net;

            if (net->type != HEARTH_NET_TYPE_USER) {
                int fd = tap_open();

                if (fd < 0)
                    g_error("cannot open a tap device for %s (root and /dev/net/tun needed)",
                            net->mac);
                g_hash_table_insert(live->net_fds, GINT_TO_POINTER(nets), GINT_TO_POINTER(fd));
                g_ptr_array_add(live->fds_to_close, GINT_TO_POINTER(fd));
            }
            nets++;
        }
    }
    opts->vnc_port = free_port(6000);
}

static char *qmp_line(GDataInputStream *in, const char *log_path, const char *want)
{
    for (;;) {
        g_autoptr(GError) error = NULL;
        char *line = g_data_input_stream_read_line(in, NULL, NULL, &error);

        if (!line) {
            g_autofree char *log = NULL;

            g_usleep(200000);
            g_file_get_contents(log_path, &log, NULL, NULL);
            g_error("QMP closed while waiting for %s: %s\nQEMU said:\n%s", want,
                    error ? error->message : "end of stream", log ? log : "");
        }
        if (strstr(line, want))
            return line;
        g_free(line); /* an event */
    }
}

static void qmp_send(GOutputStream *out, const char *log_path, const char *cmd)
{
    g_autofree char *line = g_strconcat(cmd, "\n", NULL);
    g_autoptr(GError) error = NULL;

    if (!g_output_stream_write_all(out, line, strlen(line), NULL, NULL, &error)) {
        g_autofree char *log = NULL;

        g_usleep(200000);
        g_file_get_contents(log_path, &log, NULL, NULL);
        g_error("cannot send %s: %s\nQEMU said:\n%s", cmd, error->message, log ? log : "");
    }
}

static void test_live(gconstpointer data)
{
    const LiveCase *c = data;
    const char *root = g_getenv("HEARTH_SOURCE_ROOT");
    g_autofree char *xml_path = NULL;
    g_autofree char *xml = NULL;
    g_autofree char *qmp = NULL;
    g_autofree char *run_dir = NULL;
    g_autofree char *stderr_path = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(HearthDomainDef) def = NULL;
    g_autoptr(GPtrArray) args = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GSubprocessLauncher) launcher = NULL;
    g_autoptr(GSubprocess) proc = NULL;
    g_autoptr(GSocketClient) client = g_socket_client_new();
    g_autoptr(GSocketConnection) conn = NULL;
    g_autoptr(GDataInputStream) in = NULL;
    GOutputStream *out;
    g_auto(GStrv) argv = NULL;
    g_autofree char *line = NULL;
    Live live = {0};
    QemuCommandOptions opts = {0};
    gsize len;
    guint i;
    int tries;

    g_autofree char *emulator = g_find_program_in_path("qemu-system-x86_64");
    g_autofree char *qemu_img = g_find_program_in_path("qemu-img");

    if (!emulator || !qemu_img) {
        g_test_message("qemu-system-x86_64 and qemu-img are required for this test");
        g_test_fail();
        return;
    }
    if (c->needs_kvm && access("/dev/kvm", R_OK | W_OK) != 0) {
        g_test_skip("KVM is not usable here");
        return;
    }
    live.dir = g_dir_make_tmp("hearth-qemu-XXXXXX", &error);
    g_assert_no_error(error);
    live.net_fds = g_hash_table_new(g_direct_hash, g_direct_equal);
    live.fds_to_close = g_ptr_array_new();
    xml_path = g_strdup_printf("%s/tests/data/qemu-argv/%s.xml", root, c->name);
    g_assert_true(g_file_get_contents(xml_path, &xml, &len, NULL));
    def = domain_def_parse(xml, len, 0, &error);
    g_assert_no_error(error);

    if (c->as_tcg) {
        def->virt_type = HEARTH_VIRT_QEMU;
        g_clear_pointer(&def->cpu.mode, g_free);
    }
    run_dir = g_build_filename(live.dir, "run", NULL);
    g_assert_cmpint(g_mkdir(run_dir, 0700), ==, 0);
    opts.emulator = emulator;
    opts.runtime_dir = run_dir;
    opts.net_fds = live.net_fds;
    opts.kvm_available = TRUE;
    rewrite(&live, def, &opts);
    argv = qemu_command_build(def, &opts, &error);
    g_assert_no_error(error);
    g_assert_nonnull(argv);

    qmp = g_build_filename(live.dir, "qmp.sock", NULL);
    for (i = 0; argv[i]; i++)
        g_ptr_array_add(args, g_strdup(argv[i]));
    g_ptr_array_add(args, g_strdup("-chardev"));
    g_ptr_array_add(args, g_strdup_printf("socket,id=charmonitor,path=%s,server=on,wait=off", qmp));
    g_ptr_array_add(args, g_strdup("-mon"));
    g_ptr_array_add(args, g_strdup("chardev=charmonitor,id=monitor,mode=control"));
    g_ptr_array_add(args, NULL);

    stderr_path = g_build_filename(live.dir, "qemu.log", NULL);
    launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDIN_INHERIT);
    g_subprocess_launcher_set_stderr_file_path(launcher, stderr_path);
    g_subprocess_launcher_set_stdout_file_path(launcher, stderr_path);
    for (i = 0; i < live.fds_to_close->len; i++) {
        int fd = GPOINTER_TO_INT(g_ptr_array_index(live.fds_to_close, i));

        g_subprocess_launcher_take_fd(launcher, fd, fd); /* same number in QEMU */
    }
    proc = g_subprocess_launcher_spawnv(launcher, (const char *const *)args->pdata, &error);
    g_assert_no_error(error);

    for (tries = 0; tries < 300 && !conn; tries++) {
        g_autoptr(GSocketAddress) addr = g_unix_socket_address_new(qmp);

        conn = g_socket_client_connect(client, G_SOCKET_CONNECTABLE(addr), NULL, NULL);
        if (!conn) {
            g_autofree char *log = NULL;

            g_usleep(50000);
            if (g_subprocess_get_identifier(proc) == NULL) { /* reaped: QEMU is gone */
                g_file_get_contents(stderr_path, &log, NULL, NULL);
                g_error("%s: QEMU exited before QMP came up:\n%s\nargv: %s", c->name, log,
                        g_strjoinv(" ", (char **)args->pdata));
            }
        }
    }
    if (!conn) {
        g_autofree char *log = NULL;

        g_file_get_contents(stderr_path, &log, NULL, NULL);
        g_subprocess_force_exit(proc);
        g_error("%s: no QMP socket after 15 s:\n%s", c->name, log);
    }
    in = g_data_input_stream_new(g_io_stream_get_input_stream(G_IO_STREAM(conn)));
    out = g_io_stream_get_output_stream(G_IO_STREAM(conn));
    g_free(qmp_line(in, stderr_path, "\"QMP\""));
    qmp_send(out, stderr_path, "{\"execute\":\"qmp_capabilities\"}");
    g_free(qmp_line(in, stderr_path, "\"return\""));
    qmp_send(out, stderr_path, "{\"execute\":\"query-status\"}");
    line = qmp_line(in, stderr_path, "\"return\"");
    if (!strstr(line, "\"status\": \"prelaunch\""))
        g_error("%s: unexpected status %s", c->name, line);
    g_free(line);
    qmp_send(out, stderr_path,
             "{\"execute\":\"query-named-block-nodes\",\"arguments\":{\"flat\":true}}");
    line = qmp_line(in, stderr_path, "\"return\"");
    for (i = 0; argv[i]; i++) {
        const char *nn = argv[i + 1] && strcmp(argv[i], "-blockdev") == 0
                             ? strstr(argv[i + 1], "\"node-name\":\"")
                             : NULL;
        g_autofree char *name = NULL;
        g_autofree char *quoted = NULL;

        if (!nn)
            continue;
        nn += strlen("\"node-name\":\"");
        name = g_strndup(nn, strcspn(nn, "\""));
        quoted = g_strdup_printf("\"node-name\": \"%s\"", name);
        if (!strstr(line, quoted))
            g_error("%s: node %s missing from query-named-block-nodes", c->name, name);
    }
    qmp_send(out, stderr_path, "{\"execute\":\"quit\"}");
    g_subprocess_wait(proc, NULL, &error);
    g_assert_no_error(error);
    if (!g_subprocess_get_if_exited(proc) || g_subprocess_get_exit_status(proc) != 0) {
        g_autofree char *log = NULL;

        g_file_get_contents(stderr_path, &log, NULL, NULL);
        g_error("%s: QEMU did not exit cleanly:\n%s", c->name, log);
    }
    {
        g_autofree char *log = NULL;

        g_file_get_contents(stderr_path, &log, NULL, NULL);
        if (log && *log)
            g_test_message("%s: QEMU said: %s", c->name, log);
    }
    g_free((char *)opts.nvram_path);
    g_hash_table_unref(live.net_fds);
    g_ptr_array_unref(live.fds_to_close);
    {
        const char *rm[] = {"rm", "-rf", live.dir, NULL};

        run(rm);
    }
    g_free(live.dir);
}

int main(int argc, char **argv)
{
    guint i;

    g_test_init(&argc, &argv, NULL);
    for (i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *path = g_strdup_printf("/qemu/launch/%s", cases[i].name);

        g_test_add_data_func(path, &cases[i], test_live);
    }
    return g_test_run();
}
