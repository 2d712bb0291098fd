/* domain_device_parse_xml and domain_def_insert_device: a device added to a definition lands
 * where libvirt's formatter puts its kind, whatever order the definition was written in. */
#include "domain-def.h"
#include "hearth-error.h"

#include <string.h>

static const char *const DOMAIN =
    "<domain type='qemu'><name>ins</name><memory>131072</memory>"
    "<os><type arch='x86_64' machine='pc'>hvm</type></os><devices>"
    "<disk type='file' device='disk'><source file='/i/a.img'/><target dev='vda' bus='virtio'/>"
    "</disk>"
    "<interface type='user'/>"
    "<graphics type='vnc' port='-1'/>"
    "<watchdog model='i6300esb'/>"
    "</devices></domain>";

static char *kinds(const HearthDomainDef *def)
{
    GString *s = g_string_new(NULL);

    for (guint i = 0; i < def->devices->len; i++) {
        const HearthDomainDevice *d = def->devices->pdata[i];
        static const char *const names[] = {"disk",    "controller", "interface", "chr",
                                            "input",   "graphics",   "video",     "sound",
                                            "balloon", "rng",        "other"};

        g_string_append_printf(s, "%s%s", i ? " " : "", names[d->kind]);
    }
    return g_string_free(s, FALSE);
}

static void add(HearthDomainDef *def, const char *xml)
{
    g_autoptr(GError) error = NULL;
    HearthDomainDevice *dev = domain_device_parse_xml(xml, &error);

    g_assert_no_error(error);
    g_assert_nonnull(dev);
    domain_def_insert_device(def, dev);
}

static void test_insert_order(void)
{
    g_autoptr(GError) error = NULL;
    HearthDomainDef *def = domain_def_parse(DOMAIN, strlen(DOMAIN), 0, &error);
    g_autofree char *order = NULL;
    g_autofree char *xml = NULL;

    g_assert_no_error(error);
    add(def, "<memballoon model='virtio'/>");
    add(def, "<controller type='usb' index='0' model='piix3-uhci'/>");
    add(def, "<input type='mouse' bus='ps2'/>");
    add(def, "<audio id='1' type='none'/>");
    add(def, "<video><model type='cirrus'/></video>");
    add(def, "<serial type='pty'><target port='0'/></serial>");
    order = kinds(def);
    /* disk, controller, interface, serial, input, graphics, audio, video, watchdog, balloon */
    g_assert_cmpstr(order, ==,
                    "disk controller interface chr input graphics other video other balloon");
    xml = domain_def_format(def, 0);
    g_assert_nonnull(strstr(xml, "<audio id='1' type='none'/>"));
    g_assert_true(strstr(xml, "<audio") < strstr(xml, "<video>"));
    g_assert_true(strstr(xml, "<video>") < strstr(xml, "<watchdog"));
    domain_def_free(def);
}

static void test_find(void)
{
    g_autoptr(GError) error = NULL;
    HearthDomainDef *def = domain_def_parse(DOMAIN, strlen(DOMAIN), 0, &error);
    HearthDomainDevice *d;

    g_assert_no_error(error);
    /* a disk by its target, whatever the source */
    d = domain_device_parse_xml("<disk type='file'><source file='/other.img'/>"
                                "<target dev='vda'/></disk>",
                                &error);
    g_assert_cmpint(domain_def_find_device(def, d), ==, 0);
    domain_device_free(d);
    d = domain_device_parse_xml("<disk type='file'><target dev='vdz'/></disk>", &error);
    g_assert_cmpint(domain_def_find_device(def, d), ==, -1);
    domain_device_free(d);
    /* anything else by its XML */
    d = domain_device_parse_xml("<watchdog model='i6300esb'/>", &error);
    g_assert_cmpint(domain_def_find_device(def, d), ==, 3);
    domain_device_free(d);
    d = domain_device_parse_xml("<watchdog model='ib700'/>", &error);
    g_assert_cmpint(domain_def_find_device(def, d), ==, -1);
    domain_device_free(d);
    g_assert_no_error(error);
    domain_def_free(def);
}

static void test_parse_errors(void)
{
    g_autoptr(GError) error = NULL;

    g_assert_null(domain_device_parse_xml("<disk type='file'>", &error));
    g_assert_error(error, HEARTH_ERROR, HEARTH_ERR_XML_DETAIL);
    g_clear_error(&error);
    g_assert_null(domain_device_parse_xml("<graphics type='teletype'/>", &error));
    g_assert_nonnull(error);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/domain-insert/order", test_insert_order);
    g_test_add_func("/domain-insert/find", test_find);
    g_test_add_func("/domain-insert/parse-errors", test_parse_errors);
    return g_test_run();
}
