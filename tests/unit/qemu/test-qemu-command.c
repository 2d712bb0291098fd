/* Golden files: tests/data/qemu-argv/NAME.xml → NAME.args (one argument per line), or
 * NAME.err for configurations that must be refused. HEARTH_REGENERATE=1 rewrites them. */
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "domain-def.h"
#include "hearth-error.h"
#include "qemu-command.h"

typedef struct {
    const char *name;
    int error_code; /* 0: must build */
    gboolean kvm_available;
    const char *net_fds; /* "0=21,1=22": interface ordinal = fd */
    gboolean nvram;      /* pass an NVRAM path */
    int vnc_port;
} Case;

static const Case cases[] = {
    {"minimal-tcg-pc", 0, FALSE, NULL, FALSE, -1},
    {"q35-sata-cdrom", 0, FALSE, NULL, FALSE, -1},
    {"kernel-virtio-chain", 0, FALSE, NULL, FALSE, -1},
    {"two-disks-numbering", 0, FALSE, NULL, FALSE, -1},
    {"disk-options", 0, FALSE, NULL, FALSE, -1},
    {"disk-scsi-ide", 0, FALSE, NULL, FALSE, -1},
    {"boot-order-devices", 0, FALSE, "0=30", FALSE, -1},
    {"boot-order-os", 0, FALSE, NULL, FALSE, -1},
    {"uefi-auto", 0, FALSE, NULL, TRUE, -1},
    {"uefi-loader-secure", 0, TRUE, NULL, TRUE, -1},
    {"hugepages", 0, FALSE, NULL, FALSE, -1},
    {"hugepages-1g", 0, FALSE, NULL, FALSE, -1},
    {"serial-pty-console", 0, FALSE, NULL, FALSE, -1},
    {"serial-file-unix", 0, FALSE, NULL, FALSE, -1},
    {"console-only", 0, FALSE, NULL, FALSE, -1},
    {"channels-virtio-console", 0, FALSE, NULL, FALSE, -1},
    {"vnc-autoport-video-tablet", 0, FALSE, NULL, FALSE, 5907},
    {"vnc-listen-password", 0, FALSE, NULL, FALSE, -1},
    {"video-models", 0, FALSE, NULL, FALSE, -1},
    {"balloon-rng", 0, FALSE, NULL, FALSE, -1},
    {"net-user-tap", 0, FALSE, "1=33,2=34", FALSE, -1},
    {"cpu-custom-topology", 0, FALSE, NULL, FALSE, -1},
    {"cpu-host-model-tcg", 0, FALSE, NULL, FALSE, -1},
    {"kvm-available", 0, TRUE, NULL, FALSE, -1},
    {"clock-pm-features", 0, TRUE, NULL, FALSE, -1},
    {"q35-virt-manager", 0, TRUE, "0=40", FALSE, -1},
    {"pc-explicit-addresses", 0, FALSE, NULL, FALSE, -1},
    {"sound-watchdog-panic", 0, FALSE, NULL, FALSE, -1},
    {"qemu-commandline", 0, FALSE, NULL, FALSE, -1},
    /* refused */
    {"kvm-unavailable", HEARTH_ERR_CONFIG_UNSUPPORTED, FALSE, NULL, FALSE, -1},
    {"err-hostdev", HEARTH_ERR_CONFIG_UNSUPPORTED, FALSE, NULL, FALSE, -1},
    {"err-spice", HEARTH_ERR_CONFIG_UNSUPPORTED, FALSE, NULL, FALSE, -1},
    {"err-floppy", HEARTH_ERR_CONFIG_UNSUPPORTED, FALSE, NULL, FALSE, -1},
    {"err-missing-tap-fd", HEARTH_ERR_INTERNAL, FALSE, "1=20", FALSE, -1},
    {"err-network-disk", HEARTH_ERR_CONFIG_UNSUPPORTED, FALSE, NULL, FALSE, -1},
    {"err-video-model", HEARTH_ERR_CONFIG_UNSUPPORTED, FALSE, NULL, FALSE, -1},
    {"err-disk-bus-usb", HEARTH_ERR_CONFIG_UNSUPPORTED, FALSE, NULL, FALSE, -1},
    {"err-unknown-child", HEARTH_ERR_CONFIG_UNSUPPORTED, FALSE, NULL, FALSE, -1},
    {"err-tpm", HEARTH_ERR_CONFIG_UNSUPPORTED, FALSE, NULL, FALSE, -1},
    {"err-hugepage-size", HEARTH_ERR_CONFIG_UNSUPPORTED, FALSE, NULL, FALSE, -1},
    {"err-host-passthrough-tcg", HEARTH_ERR_CONFIG_UNSUPPORTED, FALSE, NULL, FALSE, -1},
    {"err-pci-conflict", HEARTH_ERR_CONFIG_UNSUPPORTED, FALSE, NULL, FALSE, -1},
    {"err-uefi-no-nvram", HEARTH_ERR_INTERNAL, FALSE, NULL, FALSE, -1},
    {"err-vnc-no-port", HEARTH_ERR_INTERNAL, FALSE, NULL, FALSE, -1},
};

static char *data_path(const char *name, const char *ext)
{
    const char *root = g_getenv("HEARTH_SOURCE_ROOT");
    g_autofree char *file = g_strconcat(name, ext, NULL);

    g_assert_nonnull(root);
    return g_build_filename(root, "tests", "data", "qemu-argv", file, NULL);
}

static GHashTable *parse_fds(const char *spec)
{
    GHashTable *fds = g_hash_table_new(g_direct_hash, g_direct_equal);
    g_auto(GStrv) parts = spec ? g_strsplit(spec, ",", -1) : NULL;
    guint i;

    for (i = 0; parts && parts[i]; i++) {
        int key, fd;

        g_assert_cmpint(sscanf(parts[i], "%d=%d", &key, &fd), ==, 2);
        g_hash_table_insert(fds, GINT_TO_POINTER(key), GINT_TO_POINTER(fd));
    }
    return fds;
}

static void compare_golden(const char *name, const char *ext, const char *actual)
{
    g_autofree char *path = data_path(name, ext);
    g_autofree char *expected = NULL;
    g_autoptr(GError) error = NULL;

    if (g_strcmp0(g_getenv("HEARTH_REGENERATE"), "1") == 0) {
        if (!g_file_set_contents(path, actual, -1, &error))
            g_error("cannot write %s: %s", path, error->message);
        return;
    }
    if (!g_file_get_contents(path, &expected, NULL, &error))
        g_error("cannot read %s (run with HEARTH_REGENERATE=1 to create it): %s", path,
                error->message);
    if (strcmp(expected, actual) != 0) {
        g_printerr("--- %s\n+++ generated\n%s\n", path, actual);
        g_test_fail();
    }
}

static void test_case(gconstpointer data)
{
    const Case *c = data;
    g_autofree char *xml_path = data_path(c->name, ".xml");
    g_autofree char *xml = NULL;
    g_autofree char *runtime = g_strdup_printf("/run/hearth/qemu/%s", c->name);
    g_autofree char *nvram = g_strdup_printf("/var/lib/hearth/qemu/nvram/%s_VARS.fd", c->name);
    g_autoptr(GHashTable) fds = parse_fds(c->net_fds);
    g_autoptr(GError) error = NULL;
    g_autoptr(HearthDomainDef) def = NULL;
    g_auto(GStrv) argv = NULL;
    gsize len = 0;
    QemuCommandOptions opts = {
        .emulator = "/usr/bin/qemu-system-x86_64",
        .runtime_dir = runtime,
        .nvram_path = c->nvram ? nvram : NULL,
        .vnc_port = c->vnc_port,
        .net_fds = fds,
        .kvm_available = c->kvm_available,
    };

    if (!g_file_get_contents(xml_path, &xml, &len, &error))
        g_error("cannot read %s: %s", xml_path, error->message);
    def = domain_def_parse(xml, len, 0, &error);
    g_assert_no_error(error);
    argv = qemu_command_build(def, &opts, &error);
    if (c->error_code) {
        g_autofree char *text = NULL;

        g_assert_null(argv);
        g_assert_nonnull(error);
        g_assert_true(error->domain == HEARTH_ERROR);
        if (error->code != c->error_code)
            g_error("%s: expected error code %d, got %d: %s", c->name, c->error_code, error->code,
                    error->message);
        text = g_strdup_printf("%s\n", error->message);
        compare_golden(c->name, ".err", text);
    } else {
        g_autofree char *joined = NULL;
        g_autofree char *text = NULL;

        if (!argv)
            g_error("%s: %s", c->name, error->message);
        g_assert_no_error(error);
        joined = g_strjoinv("\n", argv);
        text = g_strconcat(joined, "\n", NULL);
        compare_golden(c->name, ".args", text);
    }
}

/* Every golden XML in the directory has a case: no file goes untested. */
static void test_all_files_listed(void)
{
    g_autofree char *dir_path = data_path("", "");
    g_autoptr(GDir) dir = g_dir_open(dir_path, 0, NULL);
    const char *f;

    g_assert_nonnull(dir);
    while ((f = g_dir_read_name(dir))) {
        g_autofree char *base = NULL;
        gboolean found = FALSE;
        guint i;

        if (!g_str_has_suffix(f, ".xml"))
            continue;
        base = g_strndup(f, strlen(f) - 4);
        for (i = 0; i < G_N_ELEMENTS(cases); i++)
            found |= strcmp(cases[i].name, base) == 0;
        if (!found)
            g_error("%s has no test case", f);
    }
}

/* Same input, same argv: no hidden state between builds. */
static void test_deterministic(void)
{
    g_autofree char *xml_path = data_path("q35-virt-manager", ".xml");
    g_autofree char *xml = NULL;
    g_autoptr(GHashTable) fds = parse_fds("0=40");
    g_autoptr(HearthDomainDef) def = NULL;
    g_auto(GStrv) a = NULL;
    g_auto(GStrv) b = NULL;
    gsize len;
    QemuCommandOptions opts = {"/usr/bin/qemu-system-x86_64", "/run/x", NULL, -1, fds, TRUE};

    g_assert_true(g_file_get_contents(xml_path, &xml, &len, NULL));
    def = domain_def_parse(xml, len, 0, NULL);
    g_assert_nonnull(def);
    a = qemu_command_build(def, &opts, NULL);
    b = qemu_command_build(def, &opts, NULL);
    g_assert_nonnull(a);
    g_assert_true(g_strv_equal((const char *const *)a, (const char *const *)b));
}

static void test_firmware_select(void)
{
    static const char *xml = "<domain type='qemu'><name>fw</name><memory>65536</memory>"
                             "<os firmware='efi'><type machine='q35'>hvm</type>"
                             "<firmware><feature enabled='yes' name='secure-boot'/>"
                             "<feature enabled='no' name='enrolled-keys'/></firmware></os>"
                             "</domain>";
    g_autoptr(HearthDomainDef) def = domain_def_parse(xml, strlen(xml), 0, NULL);
    g_autoptr(GError) error = NULL;
    QemuFirmware fw;

    g_assert_nonnull(def);
    g_assert_true(qemu_firmware_select(def, &fw, &error));
    g_assert_cmpstr(fw.code, ==, "/usr/share/OVMF/OVMF_CODE_4M.secboot.fd");
    g_assert_cmpstr(fw.nvram_template, ==, "/usr/share/OVMF/OVMF_VARS_4M.fd");
    g_assert_true(fw.pflash && fw.readonly && fw.secure);
    g_assert_true(qemu_domain_wants_nvram(def));
    g_free(def->os.firmware);
    def->os.firmware = NULL;
    g_assert_false(qemu_firmware_select(def, &fw, &error));
    g_assert_no_error(error);
    g_assert_false(qemu_domain_wants_nvram(def));
    g_assert_null(qemu_nvram_template(def));
}

int main(int argc, char **argv)
{
    guint i;

    g_test_init(&argc, &argv, NULL);
    for (i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *path = g_strdup_printf("/qemu/argv/%s", cases[i].name);

        g_test_add_data_func(path, &cases[i], test_case);
    }
    g_test_add_func("/qemu/argv/all-files-listed", test_all_files_listed);
    g_test_add_func("/qemu/argv/deterministic", test_deterministic);
    g_test_add_func("/qemu/firmware/select", test_firmware_select);
    return g_test_run();
}
