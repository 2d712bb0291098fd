/* Network XML: golden round trips (tests/data/network/NAME.xml -> NAME.out.xml, checked
 * against libvirt's network.rng and ours), bad input and the error each must give, and the
 * address helpers. Regenerate the golden files with HEARTH_REGENERATE=1, never by hand. */
#include "hearth-error.h"
#include "network-def.h"
#include "test-helpers.h"

#include <string.h>

#define LIBVIRT_SCHEMA "/usr/share/libvirt/schemas/network.rng"

static char *data_path(const char *name)
{
    const char *root = g_getenv("HEARTH_SOURCE_ROOT");

    g_assert_nonnull(root);
    return g_build_filename(root, "tests", "data", "network", name, NULL);
}

static char *read_data(const char *name)
{
    g_autofree char *path = data_path(name);
    g_autoptr(GError) error = NULL;
    char *text = NULL;

    if (!g_file_get_contents(path, &text, NULL, &error))
        g_error("cannot read %s: %s", path, error->message);
    return text;
}

/* Generated parts (uuid, MAC) made stable for comparison. */
static void mask_generated(char *xml)
{
    char *p = strstr(xml, "<uuid>");

    if (p && strlen(p) > 6 + 36)
        memcpy(p + 6, "00000000-0000-0000-0000-000000000000", 36);
    p = strstr(xml, "<mac address='52:54:00:");
    if (p)
        memcpy(p + 23, "00:00:00", 8);
}

static const struct {
    const char *name;
    gboolean generated;
} golden[] = {
    {"default", FALSE},     {"isolated", FALSE},        {"route-dev", FALSE}, {"nat-full", FALSE},
    {"host-bridge", FALSE}, {"unknown-content", FALSE}, {"generated", TRUE},
};

static void test_golden(gconstpointer data)
{
    const char *name = golden[GPOINTER_TO_INT(data)].name;
    gboolean generated = golden[GPOINTER_TO_INT(data)].generated;
    g_autofree char *in_name = g_strdup_printf("%s.xml", name);
    g_autofree char *out_name = g_strdup_printf("%s.out.xml", name);
    g_autofree char *input = read_data(in_name);
    g_autofree char *out = NULL, *expected = NULL, *again = NULL, *err = NULL;
    g_autofree char *ours =
        g_build_filename(g_getenv("HEARTH_SOURCE_ROOT"), "xml-schemas", "network.rng", NULL);
    g_autoptr(HearthNetworkDef) def = NULL, def2 = NULL, copy = NULL;
    g_autoptr(GError) error = NULL;

    def = network_def_parse(input, strlen(input), NETWORK_DEF_PARSE_VALIDATE, &error);
    g_assert_no_error(error);
    out = network_def_format(def);
    if (generated)
        mask_generated(out);
    if (g_strcmp0(g_getenv("HEARTH_REGENERATE"), "1") == 0) {
        g_autofree char *path = data_path(out_name);

        g_assert_true(g_file_set_contents(path, out, -1, NULL));
    }
    expected = read_data(out_name);
    g_assert_cmpstr(out, ==, expected);

    if (!g_file_test(LIBVIRT_SCHEMA, G_FILE_TEST_IS_REGULAR))
        g_error("libvirt's schema %s is missing: apt-get install libvirt-clients", LIBVIRT_SCHEMA);
    err = test_rng_validate(LIBVIRT_SCHEMA, out);
    if (err)
        g_error("%s does not validate against libvirt's network.rng: %s\n%s", out_name, err, out);
    err = test_rng_validate(ours, out);
    if (err)
        g_error("%s does not validate against xml-schemas/network.rng: %s", out_name, err);

    /* parse -> format -> parse -> format is stable, and so is a copy */
    def2 = network_def_parse(out, strlen(out), NETWORK_DEF_PARSE_VALIDATE, &error);
    g_assert_no_error(error);
    again = network_def_format(def2);
    g_assert_cmpstr(again, ==, out);
    copy = network_def_copy(def);
    g_assert_nonnull(copy);
    g_free(again);
    again = network_def_format(copy);
    if (generated)
        mask_generated(again);
    g_assert_cmpstr(again, ==, out);
}

static const struct {
    const char *what;
    int code;
    const char *message; /* a part of it */
    const char *xml;
} bad[] = {
    {"prefix over 32", HEARTH_ERR_CONFIG_UNSUPPORTED, "invalid IPv4 prefix '33' in network 'n1'",
     "<network><name>n1</name><ip address='10.9.0.1' prefix='33'/></network>"},
    {"prefix 0", HEARTH_ERR_CONFIG_UNSUPPORTED, "between 1 and 32",
     "<network><name>n</name><ip address='10.9.0.1' prefix='0'/></network>"},
    {"range outside the subnet", HEARTH_ERR_CONFIG_UNSUPPORTED,
     "DHCP range 10.9.1.2 - 10.9.1.10 is not entirely within network 10.9.0.0/24 of network 'n2'",
     "<network><name>n2</name><ip address='10.9.0.1' prefix='24'><dhcp>"
     "<range start='10.9.1.2' end='10.9.1.10'/></dhcp></ip></network>"},
    {"range reversed", HEARTH_ERR_CONFIG_UNSUPPORTED, "is reversed",
     "<network><name>n</name><ip address='10.8.0.1' prefix='24'><dhcp>"
     "<range start='10.8.0.9' end='10.8.0.2'/></dhcp></ip></network>"},
    {"range with the broadcast address", HEARTH_ERR_CONFIG_UNSUPPORTED,
     "includes the broadcast address 10.8.0.255",
     "<network><name>n</name><ip address='10.8.0.1' prefix='24'><dhcp>"
     "<range start='10.8.0.9' end='10.8.0.255'/></dhcp></ip></network>"},
    {"range with the network address", HEARTH_ERR_CONFIG_UNSUPPORTED,
     "includes the network address 10.8.0.0",
     "<network><name>n</name><ip address='10.8.0.1' prefix='24'><dhcp>"
     "<range start='10.8.0.0' end='10.8.0.20'/></dhcp></ip></network>"},
    {"host outside the subnet", HEARTH_ERR_CONFIG_UNSUPPORTED,
     "DHCP host 10.6.0.5 of network 'a' is not a host address of network 10.5.0.0/24",
     "<network><name>a</name><ip address='10.5.0.1' prefix='24'><dhcp>"
     "<range start='10.5.0.2' end='10.5.0.9'/>"
     "<host mac='52:54:00:00:00:01' name='h1' ip='10.6.0.5'/></dhcp></ip></network>"},
    {"host on the gateway", HEARTH_ERR_CONFIG_UNSUPPORTED, "is the network's own address",
     "<network><name>a</name><ip address='10.5.0.1' prefix='24'><dhcp>"
     "<host mac='52:54:00:00:00:01' ip='10.5.0.1'/></dhcp></ip></network>"},
    {"hosts repeat a MAC", HEARTH_ERR_CONFIG_UNSUPPORTED,
     "repeat the MAC address 52:54:00:00:00:01",
     "<network><name>a</name><ip address='10.5.0.1' prefix='24'><dhcp>"
     "<host mac='52:54:00:00:00:01' ip='10.5.0.7'/><host mac='52:54:00:00:00:01' ip='10.5.0.8'/>"
     "</dhcp></ip></network>"},
    {"two DHCP servers", HEARTH_ERR_CONFIG_UNSUPPORTED, "more than one IPv4 address",
     "<network><name>a</name><ip address='10.5.0.1' prefix='24'><dhcp/></ip>"
     "<ip address='10.6.0.1' prefix='24'><dhcp/></ip></network>"},
    {"overlapping addresses", HEARTH_ERR_CONFIG_UNSUPPORTED, "overlapping subnets",
     "<network><name>a</name><ip address='10.5.0.1' prefix='16'/>"
     "<ip address='10.5.1.1' prefix='24'/></network>"},
    {"bad address", HEARTH_ERR_XML_ERROR, "invalid IPv4 address '10.5.0.300'",
     "<network><name>k2</name><ip address='10.5.0.300' prefix='24'/></network>"},
    {"missing address", HEARTH_ERR_XML_ERROR, "missing attribute 'address' in <ip>",
     "<network><name>k2</name><ip prefix='24'/></network>"},
    {"non-contiguous netmask", HEARTH_ERR_CONFIG_UNSUPPORTED, "invalid netmask '255.255.0.255'",
     "<network><name>g</name><ip address='10.8.0.1' netmask='255.255.0.255'/></network>"},
    {"prefix and netmask", HEARTH_ERR_XML_ERROR, "both 'prefix' and 'netmask'",
     "<network><name>g</name><ip address='10.8.0.1' netmask='255.255.255.0' prefix='24'/>"
     "</network>"},
    {"IPv6", HEARTH_ERR_CONFIG_UNSUPPORTED, "IPv6 addresses are not supported",
     "<network><name>g</name><ip family='ipv6' address='fd00::1' prefix='64'/></network>"},
    {"missing name", HEARTH_ERR_NO_NAME, "missing name information",
     "<network><ip address='10.5.0.1' prefix='24'/></network>"},
    {"name with a slash", HEARTH_ERR_XML_ERROR, "must not contain '/'",
     "<network><name>k4/x</name></network>"},
    {"multicast bridge MAC", HEARTH_ERR_XML_ERROR, "invalid MAC address '53:54:00:00:00:01'",
     "<network><name>k3</name><mac address='53:54:00:00:00:01'/></network>"},
    {"bridge name too long", HEARTH_ERR_XML_ERROR, "invalid bridge name 'abcdefghijklmnop'",
     "<network><name>b</name><bridge name='abcdefghijklmnop'/></network>"},
    {"bridge name with a quote", HEARTH_ERR_XML_ERROR, "invalid bridge name",
     "<network><name>b</name><bridge name='br\"0'/></network>"},
    {"host bridge without a name", HEARTH_ERR_CONFIG_UNSUPPORTED, "needs <bridge name='...'/>",
     "<network><name>e</name><forward mode='bridge'/></network>"},
    {"host bridge with an address", HEARTH_ERR_CONFIG_UNSUPPORTED,
     "<ip> is not allowed in network 'e' with forward mode 'bridge'",
     "<network><name>e</name><forward mode='bridge'/><bridge name='br0'/>"
     "<ip address='10.5.0.1' prefix='24'/></network>"},
    {"NAT ports in routed mode", HEARTH_ERR_CONFIG_UNSUPPORTED, "<nat> is not allowed",
     "<network><name>r</name><forward mode='route'><nat><port start='1' end='2'/></nat>"
     "</forward></network>"},
    {"NAT ports reversed", HEARTH_ERR_CONFIG_UNSUPPORTED, "invalid NAT port range 3000-2000",
     "<network><name>r</name><forward mode='nat'><nat><port start='3000' end='2000'/></nat>"
     "</forward></network>"},
    {"unknown forward mode", HEARTH_ERR_XML_ERROR, "unknown forward mode 'tunnel'",
     "<network><name>r</name><forward mode='tunnel'/></network>"},
    {"two bridges", HEARTH_ERR_XML_ERROR, "duplicate <bridge>",
     "<network><name>r</name><bridge name='a'/><bridge name='b'/></network>"},
    {"MTU too small", HEARTH_ERR_CONFIG_UNSUPPORTED, "MTU 60",
     "<network><name>r</name><mtu size='60'/></network>"},
    {"stray text", HEARTH_ERR_XML_ERROR, "unexpected text 'oops'",
     "<network><name>r</name>oops</network>"},
    {"malformed", HEARTH_ERR_XML_DETAIL, "malformed XML", "<network><name>r</name>"},
    {"wrong root", HEARTH_ERR_XML_ERROR, "expected root element <network>, got <domain>",
     "<domain><name>r</name></domain>"},
    {"bad DNS host", HEARTH_ERR_XML_ERROR, "needs a valid 'ip'",
     "<network><name>r</name><dns><host ip='x'><hostname>a</hostname></host></dns></network>"},
};

static void test_bad(gconstpointer data)
{
    guint i = GPOINTER_TO_UINT(data);
    g_autoptr(GError) error = NULL;
    g_autoptr(HearthNetworkDef) def = network_def_parse(bad[i].xml, strlen(bad[i].xml), 0, &error);

    g_assert_null(def);
    g_assert_nonnull(error);
    if (error->code != bad[i].code || !strstr(error->message, bad[i].message))
        g_error("%s: got code %d '%s', expected code %d with '%s'", bad[i].what, error->code,
                error->message, bad[i].code, bad[i].message);
}

static void test_validate(void)
{
    const char *xml = "<network><name>k</name><ip address='10.5.0.1' prefix='24'/><bogus/>"
                      "</network>";
    g_autoptr(GError) error = NULL;
    g_autoptr(HearthNetworkDef) def = network_def_parse(xml, strlen(xml), 0, &error);

    /* kept verbatim without validation, refused with it */
    g_assert_no_error(error);
    g_assert_nonnull(def);
    g_clear_pointer(&def, network_def_free);
    def = network_def_parse(xml, strlen(xml), NETWORK_DEF_PARSE_VALIDATE, &error);
    g_assert_null(def);
    g_assert_error(error, HEARTH_ERROR, HEARTH_ERR_XML_INVALID_SCHEMA);
    g_assert_nonnull(strstr(error->message, "Element network has extra content: bogus"));
}

static void test_defaults(void)
{
    const char *xml = "<network><name>d</name><forward/><ip address='172.16.5.1'/></network>";
    g_autoptr(GError) error = NULL;
    g_autoptr(HearthNetworkDef) def = network_def_parse(xml, strlen(xml), 0, &error);
    const HearthNetIp *ip;

    g_assert_no_error(error);
    g_assert_cmpint(def->forward_mode, ==, HEARTH_NET_FORWARD_NAT);
    g_assert_cmpstr(def->forward_mode_name, ==, "nat");
    g_assert_cmpint(def->bridge_stp, ==, HEARTH_TRISTATE_YES);
    g_assert_true(def->has_bridge_delay);
    g_assert_true(g_str_has_prefix(def->mac, "52:54:00:"));
    g_assert_null(def->bridge);
    ip = g_ptr_array_index(def->ips, 0);
    g_assert_cmpuint(ip->prefix, ==, 16); /* classful, as libvirt */
    g_assert_false(def->has_nat_ports);
    network_def_fill_live(def);
    g_assert_true(def->has_nat_ports);
    g_assert_cmpuint(def->nat_port_start, ==, 1024);
    g_assert_cmpuint(def->nat_port_end, ==, 65535);
}

static void test_assign_bridge(void)
{
    const char *xml = "<network><name>d</name></network>";
    const char *tmpl = "<network><name>t</name><bridge name='lab%dbr'/></network>";
    const char *host = "<network><name>h</name><forward mode='bridge'/><bridge name='br0'/>"
                       "</network>";
    g_autoptr(GHashTable) in_use = g_hash_table_new(g_str_hash, g_str_equal);
    g_autoptr(HearthNetworkDef) def = network_def_parse(xml, strlen(xml), 0, NULL);
    g_autoptr(HearthNetworkDef) t = network_def_parse(tmpl, strlen(tmpl), 0, NULL);
    g_autoptr(HearthNetworkDef) h = network_def_parse(host, strlen(host), 0, NULL);

    g_hash_table_add(in_use, "virbr0");
    g_hash_table_add(in_use, "virbr1");
    g_hash_table_add(in_use, "lab0br");
    g_assert_true(network_def_assign_bridge(def, in_use, NULL));
    g_assert_cmpstr(def->bridge, ==, "virbr2");
    g_assert_true(network_def_assign_bridge(t, in_use, NULL));
    g_assert_cmpstr(t->bridge, ==, "lab1br");
    g_assert_true(network_def_assign_bridge(h, in_use, NULL));
    g_assert_cmpstr(h->bridge, ==, "br0");
}

static void test_addresses(void)
{
    guint32 a, b;
    char buf[16];

    g_assert_true(network_ipv4_parse("192.168.122.1", &a));
    g_assert_cmphex(a, ==, 0xc0a87a01);
    g_assert_cmpstr(network_ipv4_format(a, buf), ==, "192.168.122.1");
    g_assert_false(network_ipv4_parse("192.168.122", &a));
    g_assert_false(network_ipv4_parse("1.2.3.4 ", &a));
    g_assert_cmphex(network_ip_mask(24), ==, 0xffffff00);
    g_assert_cmphex(network_ip_mask(0), ==, 0);
    g_assert_cmphex(network_ip_mask(32), ==, 0xffffffff);
    g_assert_true(network_ipv4_parse("10.5.0.0", &a) && network_ipv4_parse("10.5.3.0", &b));
    g_assert_true(network_subnets_overlap(a, 16, b, 24));
    g_assert_true(network_subnets_overlap(b, 24, a, 16));
    g_assert_false(network_subnets_overlap(a, 24, b, 24));
}

static void test_dhcp_size(void)
{
    g_autofree char *input = read_data("nat-full.xml");
    g_autoptr(HearthNetworkDef) def = network_def_parse(input, strlen(input), 0, NULL);

    g_assert_nonnull(network_def_dhcp_ip(def));
    g_assert_cmpuint(network_def_dhcp_size(def), ==, 110);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    for (guint i = 0; i < G_N_ELEMENTS(golden); i++) {
        g_autofree char *path = g_strdup_printf("/network/golden/%s", golden[i].name);

        g_test_add_data_func(path, GUINT_TO_POINTER(i), test_golden);
    }
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autofree char *path = g_strdup_printf("/network/bad/%u", i);

        g_test_add_data_func(path, GUINT_TO_POINTER(i), test_bad);
    }
    g_test_add_func("/network/validate", test_validate);
    g_test_add_func("/network/defaults", test_defaults);
    g_test_add_func("/network/assign-bridge", test_assign_bridge);
    g_test_add_func("/network/addresses", test_addresses);
    g_test_add_func("/network/dhcp-size", test_dhcp_size);
    return g_test_run();
}
