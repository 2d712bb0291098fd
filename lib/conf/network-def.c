/* Allocation, copying, names and address arithmetic of HearthNetworkDef. */
#include "network-def.h"
#include "domain-internal.h"

#include <arpa/inet.h>

static void dhcp_range_free(gpointer p)
{
    HearthNetDhcpRange *r = p;

    xml_extra_clear(&r->extra);
    g_free(r);
}

static void dhcp_host_free(gpointer p)
{
    HearthNetDhcpHost *h = p;

    g_free(h->mac);
    g_free(h->name);
    xml_extra_clear(&h->extra);
    g_free(h);
}

static void ip_free(gpointer p)
{
    HearthNetIp *ip = p;

    g_ptr_array_unref(ip->ranges);
    g_ptr_array_unref(ip->hosts);
    xml_extra_clear(&ip->dhcp_extra);
    xml_extra_clear(&ip->extra);
    g_free(ip);
}

static void dns_host_free(gpointer p)
{
    HearthNetDnsHost *h = p;

    g_free(h->ip);
    g_ptr_array_unref(h->hostnames);
    g_free(h);
}

HearthNetworkDef *network_def_new(void)
{
    HearthNetworkDef *def = g_new0(HearthNetworkDef, 1);

    def->ips = g_ptr_array_new_with_free_func(ip_free);
    def->dns_hosts = g_ptr_array_new_with_free_func(dns_host_free);
    return def;
}

HearthNetIp *network_def_add_ip(HearthNetworkDef *def)
{
    HearthNetIp *ip = g_new0(HearthNetIp, 1);

    ip->ranges = g_ptr_array_new_with_free_func(dhcp_range_free);
    ip->hosts = g_ptr_array_new_with_free_func(dhcp_host_free);
    g_ptr_array_add(def->ips, ip);
    return ip;
}

HearthNetDnsHost *network_def_add_dns_host(HearthNetworkDef *def)
{
    HearthNetDnsHost *h = g_new0(HearthNetDnsHost, 1);

    h->hostnames = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(def->dns_hosts, h);
    return h;
}

void network_def_free(HearthNetworkDef *def)
{
    if (!def)
        return;
    g_free(def->name);
    g_free(def->forward_mode_name);
    g_free(def->forward_dev);
    xml_extra_clear(&def->nat_extra);
    xml_extra_clear(&def->forward_extra);
    g_free(def->bridge);
    xml_extra_clear(&def->bridge_extra);
    g_free(def->mac);
    g_free(def->domain_name);
    xml_extra_clear(&def->domain_extra);
    g_ptr_array_unref(def->dns_hosts);
    xml_extra_clear(&def->dns_extra);
    g_ptr_array_unref(def->ips);
    xml_extra_clear(&def->head_extra);
    xml_extra_clear(&def->extra);
    g_free(def);
}

/* The XML round trip is lossless by design, so it is the one deep copy that can never
 * forget a field (as domain_def_copy). */
HearthNetworkDef *network_def_copy(const HearthNetworkDef *def)
{
    g_autofree char *xml = NULL;

    if (!def)
        return NULL;
    xml = network_def_format(def);
    return network_def_parse(xml, strlen(xml), 0, NULL);
}

gboolean network_name_check(const char *name, GError **error)
{
    gsize len;

    if (!name || !*name) {
        conf_error(error, HEARTH_ERR_INVALID_ARG, _("network name must not be empty"));
        return FALSE;
    }
    len = strlen(name);
    if (len > 200) {
        conf_error(error, HEARTH_ERR_INVALID_ARG,
                   _("network name is %" G_GSIZE_FORMAT " bytes long; at most 200 bytes are "
                     "allowed because the name becomes part of file names"),
                   len);
        return FALSE;
    }
    if (!g_utf8_validate(name, (gssize)len, NULL)) {
        conf_error(error, HEARTH_ERR_INVALID_ARG, _("network name is not valid UTF-8"));
        return FALSE;
    }
    if (name[0] == '.') {
        conf_error(error, HEARTH_ERR_INVALID_ARG, _("network name '%s' must not start with '.'"),
                   name);
        return FALSE;
    }
    if (strchr(name, '/')) {
        conf_error(error, HEARTH_ERR_INVALID_ARG, _("network name '%s' must not contain '/'"),
                   name);
        return FALSE;
    }
    for (const char *p = name; *p; p++) {
        if ((guchar)*p < 0x20 || *p == 0x7f) {
            conf_error(error, HEARTH_ERR_INVALID_ARG,
                       _("network name must not contain control characters"));
            return FALSE;
        }
    }
    return TRUE;
}

gboolean network_def_is_virtual(const HearthNetworkDef *def)
{
    switch (def->forward_mode) {
    case HEARTH_NET_FORWARD_NONE:
    case HEARTH_NET_FORWARD_NAT:
    case HEARTH_NET_FORWARD_ROUTE:
    case HEARTH_NET_FORWARD_OPEN:
        return TRUE;
    default:
        return FALSE;
    }
}

/* "%d" expanded by hand: the template comes from a client and must never reach printf. */
static char *expand_template(const char *tmpl, guint n)
{
    const char *p = strstr(tmpl, "%d");
    g_autofree char *num = g_strdup_printf("%u", n);

    if (!p)
        return g_strdup(tmpl);
    return g_strdup_printf("%.*s%s%s", (int)(p - tmpl), tmpl, num, p + 2);
}

gboolean network_def_assign_bridge(HearthNetworkDef *def, GHashTable *in_use, GError **error)
{
    const char *tmpl;

    if (!network_def_is_virtual(def) || (def->bridge && !strstr(def->bridge, "%d")))
        return TRUE;
    tmpl = def->bridge ? def->bridge : "virbr%d";
    for (guint n = 0; n < 256; n++) {
        g_autofree char *name = expand_template(tmpl, n);

        if (strlen(name) > 15)
            break;
        if (!in_use || !g_hash_table_contains(in_use, name)) {
            g_free(def->bridge);
            def->bridge = g_steal_pointer(&name);
            def->has_bridge = TRUE;
            return TRUE;
        }
    }
    conf_error(error, HEARTH_ERR_INTERNAL,
               _("cannot find a free bridge name for network '%s' from template '%s'"), def->name,
               tmpl);
    return FALSE;
}

void network_def_fill_live(HearthNetworkDef *def)
{
    if (def->forward_mode == HEARTH_NET_FORWARD_NAT && !def->has_nat_ports) {
        def->has_nat_ports = TRUE;
        def->nat_port_start = 1024;
        def->nat_port_end = 65535;
    }
}

guint32 network_ip_mask(guint prefix)
{
    if (prefix == 0)
        return 0;
    if (prefix >= 32)
        return 0xffffffffu;
    return 0xffffffffu << (32 - prefix);
}

gboolean network_subnets_overlap(guint32 a, guint prefix_a, guint32 b, guint prefix_b)
{
    guint32 mask = network_ip_mask(MIN(prefix_a, prefix_b));

    return (a & mask) == (b & mask);
}

const char *network_ipv4_format(guint32 addr, char *buf)
{
    struct in_addr in = {.s_addr = htonl(addr)};

    if (!inet_ntop(AF_INET, &in, buf, 16))
        g_strlcpy(buf, "?", 16);
    return buf;
}

gboolean network_ipv4_parse(const char *s, guint32 *out)
{
    struct in_addr in;

    if (!s || inet_pton(AF_INET, s, &in) != 1)
        return FALSE;
    *out = ntohl(in.s_addr);
    return TRUE;
}

const HearthNetIp *network_def_dhcp_ip(const HearthNetworkDef *def)
{
    for (guint i = 0; i < def->ips->len; i++) {
        const HearthNetIp *ip = g_ptr_array_index(def->ips, i);

        if (ip->has_dhcp)
            return ip;
    }
    return NULL;
}

guint network_def_dhcp_size(const HearthNetworkDef *def)
{
    const HearthNetIp *ip = network_def_dhcp_ip(def);
    guint64 n = 0;

    for (guint i = 0; ip && i < ip->ranges->len; i++) {
        const HearthNetDhcpRange *r = g_ptr_array_index(ip->ranges, i);

        n += (guint64)r->end - r->start + 1;
    }
    return (guint)MIN(n, G_MAXUINT);
}

gboolean network_mac_parse(const char *s, guint8 out[6])
{
    if (!s || strlen(s) != 17)
        return FALSE;
    for (int i = 0; i < 6; i++) {
        int hi = g_ascii_xdigit_value(s[i * 3]), lo = g_ascii_xdigit_value(s[i * 3 + 1]);

        if (hi < 0 || lo < 0 || (i < 5 && s[i * 3 + 2] != ':'))
            return FALSE;
        out[i] = (guint8)(hi << 4 | lo);
    }
    return TRUE;
}

char *network_mac_generate(void)
{
    return g_strdup_printf("52:54:00:%02x:%02x:%02x", g_random_int_range(0, 256),
                           g_random_int_range(0, 256), g_random_int_range(0, 256));
}
