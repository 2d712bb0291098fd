/* libvirt's memory units: powers of 1024 for a bare letter or "XiB", of 1000 for "XB";
 * values are stored in KiB, rounded up. Also checks defaults filled in by parsing. */
#include "domain-def.h"
#include "hearth-error.h"

#include <string.h>

static guint64 memory_kib(const char *value, const char *unit)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *xml =
        g_strdup_printf("<domain type='kvm'><name>u</name><memory%s%s%s>%s</memory>"
                        "<os><type>hvm</type></os></domain>",
                        unit ? " unit='" : "", unit ? unit : "", unit ? "'" : "", value);
    g_autoptr(HearthDomainDef) def = domain_def_parse(xml, strlen(xml), 0, &error);

    g_assert_no_error(error);
    return def->memory_kib;
}

static void test_units(void)
{
    static const struct {
        const char *value, *unit;
        guint64 kib;
    } cases[] = {
        {"1048576", NULL, 1048576},
        {"1024", "b", 1},
        {"1025", "bytes", 2}, /* rounded up */
        {"1", "bytes", 1},
        {"0", "KiB", 0},
        {"4", "k", 4},
        {"4", "KiB", 4},
        {"1024", "KB", 1000},
        {"2", "M", 2048},
        {"2", "MiB", 2048},
        {"2", "MB", 1954}, /* 2000000 bytes */
        {"1", "G", 1048576},
        {"1", "GiB", 1048576},
        {"1", "GB", 976563},
        {"1", "T", G_GUINT64_CONSTANT(1073741824)},
        {"1", "TiB", G_GUINT64_CONSTANT(1073741824)},
        {"1", "TB", G_GUINT64_CONSTANT(976562500)},
        {"1", "m", 1024}, /* the letter is case-insensitive, as in libvirt */
        {" 8 ", "g", 8388608},
    };
    gsize i;

    for (i = 0; i < G_N_ELEMENTS(cases); i++) {
        guint64 got = memory_kib(cases[i].value, cases[i].unit);

        if (got != cases[i].kib)
            g_error("%s %s: expected %" G_GUINT64_FORMAT " KiB, got %" G_GUINT64_FORMAT,
                    cases[i].value, cases[i].unit ? cases[i].unit : "(none)", cases[i].kib, got);
    }
}

static void test_defaults(void)
{
    const char *xml = "<domain type='qemu'><name>d</name><memory unit='MiB'>512</memory>"
                      "<currentMemory unit='GiB'>4</currentMemory>"
                      "<vcpu current='4'>4</vcpu><os><type>hvm</type></os>"
                      "<devices><interface type='user'/>"
                      "<controller type='usb'/><controller type='usb' index='0'/>"
                      "<controller type='usb'/></devices></domain>";
    g_autoptr(GError) error = NULL;
    g_autoptr(HearthDomainDef) def = domain_def_parse(xml, strlen(xml), 0, &error);
    HearthDomainDevice *dev;
    guint8 zero[16] = {0};

    g_assert_no_error(error);
    g_assert_cmpint(def->virt_type, ==, HEARTH_VIRT_QEMU);
    /* currentMemory never exceeds memory */
    g_assert_cmpuint(def->current_memory_kib, ==, 524288);
    g_assert_cmpuint(def->vcpus, ==, 4);
    g_assert_cmpuint(def->vcpus_current, ==, 0);
    /* a UUID is generated */
    g_assert_true(memcmp(def->uuid, zero, 16) != 0);
    /* a MAC in QEMU's range is generated */
    dev = g_ptr_array_index(def->devices, 0);
    g_assert_cmpint(dev->kind, ==, HEARTH_DEVICE_INTERFACE);
    g_assert_true(g_str_has_prefix(dev->u.net->mac, "52:54:00:"));
    /* controller indexes: the lowest free one per type, as libvirt assigns them */
    g_assert_cmpint(((HearthDomainDevice *)g_ptr_array_index(def->devices, 1))->u.controller->index,
                    ==, 1);
    g_assert_cmpint(((HearthDomainDevice *)g_ptr_array_index(def->devices, 2))->u.controller->index,
                    ==, 0);
    g_assert_cmpint(((HearthDomainDevice *)g_ptr_array_index(def->devices, 3))->u.controller->index,
                    ==, 2);
    /* no boot element anywhere: boot from the first disk */
    g_assert_cmpuint(def->os.boot_devs->len, ==, 1);
    g_assert_cmpint(g_array_index(def->os.boot_devs, HearthBootDev, 0), ==, HEARTH_BOOT_HD);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/conf/units/memory", test_units);
    g_test_add_func("/conf/units/defaults", test_defaults);
    return g_test_run();
}
