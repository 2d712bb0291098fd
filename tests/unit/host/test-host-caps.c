#include "hearth-error.h"
#include "host-caps.h"
#include "host-priv.h"
#include "host-test-util.h"

#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

/* A temporary directory with fake QEMU binaries installed as the host's. */
typedef struct {
    char *dir;
    char *x86_64;
    char *i386;
} FakeHost;

static void fake_host_setup(FakeHost *fh, gconstpointer data)
{
    fh->dir = g_dir_make_tmp("host-caps-XXXXXX", NULL);
    g_assert_nonnull(fh->dir);
    fh->x86_64 = host_test_fake_qemu(fh->dir, "qemu-system-x86_64");
    fh->i386 = host_test_fake_qemu(fh->dir, "qemu-system-i386");
    host_caps_test_reset();
    host_caps_test_set_qemu("x86_64", fh->x86_64);
    host_caps_test_set_qemu("i686", fh->i386);
}

static void fake_host_teardown(FakeHost *fh, gconstpointer data)
{
    const char *names[] = {fh->x86_64, fh->i386};

    for (gsize i = 0; i < G_N_ELEMENTS(names); i++) {
        g_autofree char *count = g_strdup_printf("%s.count", names[i]);
        g_unlink(count);
        g_unlink(names[i]);
    }
    g_rmdir(fh->dir);
    g_free(fh->dir);
    g_free(fh->x86_64);
    g_free(fh->i386);
    host_caps_test_reset();
}

static gboolean real_kvm_usable(void)
{
    int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);

    if (fd < 0)
        return FALSE;
    close(fd);
    return TRUE;
}

static guint count_substr(const char *s, const char *needle)
{
    guint n = 0;

    for (const char *p = strstr(s, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

static void test_caps_fixture(FakeHost *fh, gconstpointer data)
{
    const char *name = data;
    g_autofree char *root = host_test_fixture(name);
    g_autoptr(GError) error = NULL;
    g_autofree char *xml = NULL;

    host_caps_test_set_kvm_device("/nonexistent/kvm");
    xml = host_capabilities_xml_at(root, &error);
    g_assert_no_error(error);
    g_assert_nonnull(xml);
    host_test_validate(xml, "capability.rng");
    g_assert_cmpuint(count_substr(xml, "<guest>"), ==, 2);
    g_assert_cmpuint(count_substr(xml, "<domain type='qemu'/>"), ==, 2);
    g_assert_null(strstr(xml, "<domain type='kvm'/>"));
    g_assert_nonnull(strstr(xml, "<secmodel>\n      <model>none</model>"));

    if (g_str_equal(name, "node-single")) {
        g_assert_nonnull(strstr(xml, "<uuid>3d1219c7-c4c5-404a-aa1f-6d2a48adfda4</uuid>"));
        g_assert_nonnull(strstr(xml, "<topology sockets='1' dies='1' cores='2' threads='1'/>"));
        g_assert_nonnull(strstr(xml, "<memory unit='KiB'>5204172</memory>"));
        g_assert_nonnull(
            strstr(xml, "<cpu id='1' socket_id='0' die_id='0' core_id='1' siblings='1'/>"));
    } else if (g_str_equal(name, "node-numa2-smt")) {
        g_assert_null(strstr(xml, "<uuid>"));
        g_assert_nonnull(strstr(xml, "<cells num='2'>"));
        g_assert_nonnull(strstr(xml, "<topology sockets='2' dies='1' cores='2' threads='2'/>"));
        g_assert_nonnull(strstr(xml, "<model>SandyBridge</model>"));
        g_assert_nonnull(strstr(xml, "<feature name='vmx'/>"));
        g_assert_nonnull(strstr(xml, "<sibling id='1' value='21'/>"));
        g_assert_nonnull(
            strstr(xml, "<cpu id='6' socket_id='1' die_id='0' core_id='0' siblings='2,6'/>"));
    } else {
        g_assert_null(strstr(xml, "<uuid>")); /* an all-zero machine-id is no identity */
        g_assert_nonnull(strstr(xml, "<cpu id='3'/>"));
        g_assert_nonnull(strstr(xml, "<vendor>AMD</vendor>"));
    }
}

static void test_caps_guests(FakeHost *fh, gconstpointer data)
{
    g_autofree char *root = host_test_fixture("node-single");
    g_autoptr(GError) error = NULL;
    g_autofree char *xml = NULL;
    g_autofree char *emulator = g_strdup_printf("<emulator>%s</emulator>", fh->x86_64);
    const char *x86_64_guest;

    host_caps_test_set_kvm_device("/dev/null"); /* opens read-write: counts as usable */
    host_caps_test_set_qemu("i686", NULL);
    xml = host_capabilities_xml_at(root, &error);
    g_assert_no_error(error);
    host_test_validate(xml, "capability.rng");
    /* Without qemu-system-i386 there is no i686 guest. */
    g_assert_cmpuint(count_substr(xml, "<guest>"), ==, 1);
    g_assert_null(strstr(xml, "i686"));
    x86_64_guest = strstr(xml, "<arch name='x86_64'>");
    g_assert_nonnull(x86_64_guest);
    g_assert_nonnull(strstr(x86_64_guest, "<wordsize>64</wordsize>"));
    g_assert_nonnull(strstr(x86_64_guest, emulator));
    /* Default machine first, then its alias. */
    g_assert_nonnull(strstr(x86_64_guest, "<machine maxCpus='255'>pc-i440fx-7.2</machine>\n"
                                          "      <machine canonical='pc-i440fx-7.2' "
                                          "maxCpus='255'>pc</machine>\n"));
    g_assert_nonnull(strstr(x86_64_guest, "<machine maxCpus='255' deprecated='yes'>"
                                          "pc-i440fx-1.4</machine>"));
    g_assert_null(strstr(x86_64_guest, ">none<"));
    g_assert_nonnull(strstr(x86_64_guest, "<domain type='qemu'/>\n      <domain type='kvm'/>"));
    g_assert_nonnull(strstr(x86_64_guest, "<disksnapshot default='on' toggle='no'/>"));
    g_assert_null(strstr(x86_64_guest, "<pae/>"));

    /* No QEMU at all: host only, still valid. */
    host_caps_test_set_qemu("x86_64", NULL);
    g_clear_pointer(&xml, g_free);
    xml = host_capabilities_xml_at(root, &error);
    g_assert_no_error(error);
    host_test_validate(xml, "capability.rng");
    g_assert_null(strstr(xml, "<guest>"));
}

static void test_caps_i686(FakeHost *fh, gconstpointer data)
{
    g_autofree char *root = host_test_fixture("node-single");
    g_autoptr(GError) error = NULL;
    g_autofree char *xml = NULL;
    const char *guest;

    host_caps_test_set_kvm_device("/nonexistent/kvm");
    xml = host_capabilities_xml_at(root, &error);
    g_assert_no_error(error);
    guest = strstr(xml, "<arch name='i686'>");
    g_assert_nonnull(guest);
    g_assert_true(guest < strstr(xml, "<arch name='x86_64'>"));
    g_assert_nonnull(strstr(guest, "<wordsize>32</wordsize>"));
    g_assert_nonnull(strstr(guest, fh->i386));
    g_assert_nonnull(strstr(guest, "<pae/>\n      <nonpae/>"));
}

static void test_caps_real(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *xml = NULL;

    host_caps_test_reset();
    xml = host_capabilities_xml(&error);
    g_assert_no_error(error);
    host_test_validate(xml, "capability.rng");
    if (host_qemu_binary("x86_64")) {
        g_assert_nonnull(strstr(xml, "<arch name='x86_64'>"));
        g_assert_cmpuint(count_substr(xml, "<domain type='kvm'/>") > 0, ==, real_kvm_usable());
    } else {
        g_test_message("qemu-system-x86_64 is not installed: no guests to check");
    }
}

static void test_domcaps_valid(FakeHost *fh, gconstpointer data)
{
    struct {
        const char *emulator, *arch, *machine, *virttype;
        const char *expect[4];
    } cases[] = {
        {NULL,
         NULL,
         NULL,
         "qemu",
         {"<machine>pc-i440fx-7.2</machine>", "<vcpu max='255'/>", "<arch>x86_64</arch>",
          "<domain>qemu</domain>"}},
        {NULL,
         "x86_64",
         "q35",
         "qemu",
         {"<machine>pc-q35-7.2</machine>", "<vcpu max='288'/>",
          "<mode name='host-passthrough' supported='no'/>", NULL}},
        {NULL,
         "i686",
         "isapc",
         "qemu",
         {"<arch>i686</arch>", "<vcpu max='1'/>", "<enum name='firmware'/>", NULL}},
        {fh->x86_64,
         "i686",
         "pc",
         "qemu",
         {"<arch>i686</arch>", "qemu-system-x86_64</path>", NULL, NULL}},
        {fh->i386,
         NULL,
         "pc-q35-6.2",
         "kvm",
         {"<arch>i686</arch>", "<domain>kvm</domain>",
          "<mode name='host-passthrough' supported='yes'>", NULL}},
        {fh->x86_64, NULL, NULL, NULL, {"<domain>kvm</domain>", NULL, NULL, NULL}},
    };

    host_caps_test_set_kvm_device("/dev/null");
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) error = NULL;
        g_autofree char *xml = host_domain_capabilities_xml(
            cases[i].emulator, cases[i].arch, cases[i].machine, cases[i].virttype, &error);

        g_assert_no_error(error);
        g_assert_nonnull(xml);
        host_test_validate(xml, "domaincaps.rng");
        for (gsize j = 0; j < G_N_ELEMENTS(cases[i].expect) && cases[i].expect[j]; j++) {
            if (!strstr(xml, cases[i].expect[j]))
                g_test_fail_printf("case %zu: no \"%s\" in\n%s", i, cases[i].expect[j], xml);
        }
    }
}

static void test_domcaps_firmware(FakeHost *fh, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *pc = host_domain_capabilities_xml(NULL, NULL, "pc", "qemu", &error);
    g_autofree char *q35 = host_domain_capabilities_xml(NULL, NULL, "q35", "qemu", &error);

    g_assert_no_error(error);
    if (!g_file_test("/usr/share/OVMF/OVMF_CODE_4M.fd", G_FILE_TEST_EXISTS)) {
        g_test_skip("Debian's ovmf package is not installed");
        return;
    }
    g_assert_nonnull(strstr(pc, "<value>/usr/share/OVMF/OVMF_CODE_4M.fd</value>"));
    g_assert_nonnull(strstr(pc, "<enum name='firmware'>\n      <value>efi</value>"));
    /* Secure Boot needs SMM, which only q35 has. */
    g_assert_null(strstr(pc, "secboot"));
    g_assert_nonnull(strstr(pc, "<enum name='secure'>\n        <value>no</value>\n"));
    if (g_file_test("/usr/share/OVMF/OVMF_CODE_4M.secboot.fd", G_FILE_TEST_EXISTS)) {
        g_assert_nonnull(strstr(q35, "OVMF_CODE_4M.secboot.fd"));
        g_assert_nonnull(strstr(q35, "<enum name='secure'>\n        <value>yes</value>"));
    }
}

static void test_domcaps_errors(FakeHost *fh, gconstpointer data)
{
    struct {
        const char *emulator, *arch, *machine, *virttype;
        int code;
        const char *named;
    } cases[] = {
        {NULL, "armv7l", NULL, NULL, HEARTH_ERR_INVALID_ARG, "armv7l"},
        {NULL, "i386", NULL, NULL, HEARTH_ERR_INVALID_ARG, "i386"},
        {NULL, NULL, NULL, "xen", HEARTH_ERR_INVALID_ARG, "xen"},
        {NULL, NULL, "bogus-machine", "qemu", HEARTH_ERR_INVALID_ARG, "bogus-machine"},
        {"/bin/sh", NULL, NULL, "qemu", HEARTH_ERR_INVALID_ARG, "/bin/sh"},
        {fh->i386, "x86_64", NULL, "qemu", HEARTH_ERR_INVALID_ARG, "x86_64"},
        {NULL, NULL, NULL, "kvm", HEARTH_ERR_CONFIG_UNSUPPORTED, "kvm"},
    };

    host_caps_test_set_kvm_device("/nonexistent/kvm");
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) error = NULL;
        g_autofree char *xml = host_domain_capabilities_xml(
            cases[i].emulator, cases[i].arch, cases[i].machine, cases[i].virttype, &error);

        g_assert_null(xml);
        g_assert_error(error, HEARTH_ERROR, cases[i].code);
        if (!strstr(error->message, cases[i].named))
            g_test_fail_printf("case %zu: \"%s\" does not name \"%s\"", i, error->message,
                               cases[i].named);
    }
    /* Without KVM the default virttype is qemu. */
    {
        g_autoptr(GError) error = NULL;
        g_autofree char *xml = host_domain_capabilities_xml(NULL, NULL, NULL, NULL, &error);

        g_assert_no_error(error);
        g_assert_nonnull(strstr(xml, "<domain>qemu</domain>"));
    }
}

static void test_domcaps_real(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *xml = NULL;

    host_caps_test_reset();
    if (!host_qemu_binary("x86_64")) {
        g_test_skip("qemu-system-x86_64 is not installed");
        return;
    }
    xml = host_domain_capabilities_xml(NULL, NULL, NULL, NULL, &error);
    g_assert_no_error(error);
    host_test_validate(xml, "domaincaps.rng");
    g_assert_nonnull(
        strstr(xml, real_kvm_usable() ? "<domain>kvm</domain>" : "<domain>qemu</domain>"));
    g_clear_pointer(&xml, g_free);
    xml = host_domain_capabilities_xml(host_qemu_binary("x86_64"), "x86_64", "q35", "qemu", &error);
    g_assert_no_error(error);
    host_test_validate(xml, "domaincaps.rng");
}

static void test_sysinfo(void)
{
    g_autofree char *root = host_test_fixture("dmi");
    g_autofree char *empty = host_test_fixture("node-single");
    g_autoptr(GError) error = NULL;
    g_autofree char *xml = host_sysinfo_xml_at(root, &error);
    g_autofree char *domain = NULL;

    g_assert_no_error(error);
    g_assert_true(g_str_has_prefix(xml, "<sysinfo type='smbios'>\n  <bios>\n"
                                        "    <entry name='vendor'>SeaBIOS</entry>\n"));
    g_assert_nonnull(strstr(xml, "<entry name='date'>04/01/2014</entry>"));
    g_assert_nonnull(strstr(xml,
                            "<system>\n    <entry name='manufacturer'>QEMU</entry>\n"
                            "    <entry name='product'>Standard PC (Q35 + ICH9, 2009)</entry>"));
    g_assert_nonnull(
        strstr(xml, "<entry name='uuid'>0b5b7f5e-4a6d-4d3c-9b1e-2f3a4b5c6d7e</entry>"));
    g_assert_null(strstr(xml, "'serial'")); /* blank values are left out */
    g_assert_nonnull(strstr(xml, "<baseBoard>\n    <entry name='manufacturer'>"
                                 "Hearth &amp; Sons &lt;test&gt;</entry>"));
    g_assert_nonnull(strstr(xml, "<chassis>"));

    /* libvirt's schema for <sysinfo> lives in the domain grammar. */
    domain = g_strdup_printf("<domain type='qemu'><name>t</name><memory>131072</memory>%s"
                             "<os><type>hvm</type><smbios mode='sysinfo'/></os></domain>",
                             xml);
    host_test_validate(domain, "domain.rng");

    g_clear_pointer(&xml, g_free);
    xml = host_sysinfo_xml_at(empty, &error);
    g_assert_null(xml);
    g_assert_error(error, HEARTH_ERROR, HEARTH_ERR_NO_SUPPORT);
    g_assert_cmpint(error->code, ==, 3);
}

static void test_sysinfo_real(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *xml = host_sysinfo_xml(&error);

    if (!xml) {
        g_assert_error(error, HEARTH_ERROR, HEARTH_ERR_NO_SUPPORT);
        g_test_message("no SMBIOS on this host: %s", error->message);
        return;
    }
    g_assert_true(g_str_has_prefix(xml, "<sysinfo type='smbios'>"));
}

/* The validator itself must reject what libvirt would. */
static void test_validator_rejects(void)
{
    g_autofree char *errors = NULL;

    g_assert_false(
        host_test_xml_valid("<capabilities><bogus/></capabilities>", "capability.rng", &errors));
    g_assert_cmpstr(errors, !=, "");
    g_clear_pointer(&errors, g_free);
    g_assert_false(host_test_xml_valid("<domainCapabilities><path>/x</path></domainCapabilities>",
                                       "domaincaps.rng", &errors));
    g_clear_pointer(&errors, g_free);
    g_assert_false(host_test_xml_valid("<capabilities>", "capability.rng", &errors));
}

static void test_max_vcpus(void)
{
    g_autoptr(GError) error = NULL;

    host_caps_test_reset();
    g_assert_cmpint(host_max_vcpus(NULL, &error), ==, 255);
    g_assert_cmpint(host_max_vcpus("qemu", &error), ==, 255);
    g_assert_cmpint(host_max_vcpus("QEMU", &error), ==, 255);
    g_assert_no_error(error);
    g_assert_cmpint(host_max_vcpus("kvm", &error), >, 0);
    g_assert_no_error(error);
    g_test_message("kvm max vcpus: %d", host_max_vcpus("KVM", NULL));

    host_caps_test_set_kvm_device("/nonexistent/kvm");
    g_assert_cmpint(host_max_vcpus("kvm", &error), ==, 255);
    g_assert_cmpint(host_max_vcpus("xen", &error), ==, -1);
    g_assert_error(error, HEARTH_ERROR, HEARTH_ERR_INVALID_ARG);
    g_assert_nonnull(strstr(error->message, "xen"));
    host_caps_test_reset();
}

static void test_qemu_binary(void)
{
    host_caps_test_reset();
    g_assert_null(host_qemu_binary("aarch64"));
    g_assert_null(host_qemu_binary(NULL));
    if (g_file_test("/usr/bin/qemu-system-x86_64", G_FILE_TEST_IS_EXECUTABLE)) {
        const char *p = host_qemu_binary("x86_64");

        g_assert_nonnull(p);
        g_assert_true(g_path_is_absolute(p));
        g_assert_true(g_str_has_suffix(p, "/qemu-system-x86_64"));
        g_assert_true(p == host_qemu_binary("x86_64")); /* cached */
        g_assert_cmpstr(host_qemu_binary_arch(p), ==, "x86_64");
        g_assert_cmpstr(host_qemu_binary_arch("/usr/bin/qemu-system-x86_64"), ==, "x86_64");
    }
    g_assert_null(host_qemu_binary_arch("/bin/sh"));
}

#define FAKE(path, func, data)                                                                     \
    g_test_add(path, FakeHost, data, fake_host_setup, func, fake_host_teardown)

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    FAKE("/host/caps/fixture/single", test_caps_fixture, "node-single");
    FAKE("/host/caps/fixture/numa2-smt", test_caps_fixture, "node-numa2-smt");
    FAKE("/host/caps/fixture/nonuma-offline", test_caps_fixture, "node-nonuma-offline");
    FAKE("/host/caps/guests", test_caps_guests, NULL);
    FAKE("/host/caps/i686", test_caps_i686, NULL);
    g_test_add_func("/host/caps/real", test_caps_real);
    FAKE("/host/domcaps/valid", test_domcaps_valid, NULL);
    FAKE("/host/domcaps/firmware", test_domcaps_firmware, NULL);
    FAKE("/host/domcaps/errors", test_domcaps_errors, NULL);
    g_test_add_func("/host/domcaps/real", test_domcaps_real);
    g_test_add_func("/host/sysinfo/fixture", test_sysinfo);
    g_test_add_func("/host/sysinfo/real", test_sysinfo_real);
    g_test_add_func("/host/validator-rejects", test_validator_rejects);
    g_test_add_func("/host/max-vcpus", test_max_vcpus);
    g_test_add_func("/host/qemu-binary", test_qemu_binary);
    return g_test_run();
}
