/* network_def_format: libvirt's element order (name, uuid, forward, bridge, mtu, mac,
 * domain, dns, ip), so `virsh net-dumpxml` output looks familiar. Verbatim elements follow
 * the modeled ones they belong to. */
#include "network-def.h"
#include "domain-internal.h"

#include "uuid-util.h"

static gboolean extra_has_children(const HearthXmlExtra *extra)
{
    return extra->children && extra->children->len > 0;
}

/* "<name" is already written: finish with the extra attributes and either "/>" or the
 * verbatim children and the closing tag. */
static void finish_simple(GString *buf, int level, const char *name, const HearthXmlExtra *extra)
{
    xml_extra_format_attrs(buf, extra);
    if (!extra_has_children(extra)) {
        g_string_append(buf, "/>\n");
        return;
    }
    g_string_append(buf, ">\n");
    xml_extra_format_children(buf, level + 1, extra);
    xml_buf_indent(buf, level);
    g_string_append_printf(buf, "</%s>\n", name);
}

static void attr_ipv4(GString *buf, const char *name, guint32 addr)
{
    char s[16];

    xml_buf_attr(buf, name, network_ipv4_format(addr, s));
}

static void format_forward(GString *buf, int level, const HearthNetworkDef *def)
{
    gboolean nat =
        def->has_nat_ports || def->nat_addr_start || !xml_extra_is_empty(&def->nat_extra);

    xml_buf_indent(buf, level);
    g_string_append(buf, "<forward");
    xml_buf_attr(buf, "dev", def->forward_dev);
    xml_buf_attr(buf, "mode", def->forward_mode_name);
    xml_extra_format_attrs(buf, &def->forward_extra);
    if (!nat && !extra_has_children(&def->forward_extra)) {
        g_string_append(buf, "/>\n");
        return;
    }
    g_string_append(buf, ">\n");
    if (nat) {
        xml_buf_indent(buf, level + 1);
        g_string_append(buf, "<nat");
        xml_extra_format_attrs(buf, &def->nat_extra);
        if (!def->has_nat_ports && !def->nat_addr_start && !extra_has_children(&def->nat_extra)) {
            g_string_append(buf, "/>\n");
        } else {
            g_string_append(buf, ">\n");
            if (def->nat_addr_start) {
                xml_buf_indent(buf, level + 2);
                g_string_append(buf, "<address");
                attr_ipv4(buf, "start", def->nat_addr_start);
                attr_ipv4(buf, "end", def->nat_addr_end);
                g_string_append(buf, "/>\n");
            }
            if (def->has_nat_ports) {
                xml_buf_indent(buf, level + 2);
                g_string_append(buf, "<port");
                xml_buf_attr_uint(buf, "start", def->nat_port_start);
                xml_buf_attr_uint(buf, "end", def->nat_port_end);
                g_string_append(buf, "/>\n");
            }
            xml_extra_format_children(buf, level + 2, &def->nat_extra);
            xml_buf_indent(buf, level + 1);
            g_string_append(buf, "</nat>\n");
        }
    }
    xml_extra_format_children(buf, level + 1, &def->forward_extra);
    xml_buf_indent(buf, level);
    g_string_append(buf, "</forward>\n");
}

static void format_bridge(GString *buf, int level, const HearthNetworkDef *def)
{
    xml_buf_indent(buf, level);
    g_string_append(buf, "<bridge");
    xml_buf_attr(buf, "name", def->bridge);
    xml_buf_attr(buf, "stp", conf_tristate_str(def->bridge_stp, TRUE));
    if (def->has_bridge_delay)
        xml_buf_attr_uint(buf, "delay", def->bridge_delay);
    finish_simple(buf, level, "bridge", &def->bridge_extra);
}

static void format_dns(GString *buf, int level, const HearthNetworkDef *def)
{
    xml_buf_indent(buf, level);
    g_string_append(buf, "<dns");
    xml_buf_attr(buf, "enable", conf_tristate_str(def->dns_enable, FALSE));
    xml_extra_format_attrs(buf, &def->dns_extra);
    if (def->dns_hosts->len == 0 && !extra_has_children(&def->dns_extra)) {
        g_string_append(buf, "/>\n");
        return;
    }
    g_string_append(buf, ">\n");
    xml_extra_format_children(buf, level + 1, &def->dns_extra);
    for (guint i = 0; i < def->dns_hosts->len; i++) {
        const HearthNetDnsHost *h = g_ptr_array_index(def->dns_hosts, i);

        xml_buf_indent(buf, level + 1);
        g_string_append(buf, "<host");
        xml_buf_attr(buf, "ip", h->ip);
        g_string_append(buf, ">\n");
        for (guint j = 0; j < h->hostnames->len; j++)
            xml_buf_text_element(buf, level + 2, "hostname", g_ptr_array_index(h->hostnames, j));
        xml_buf_indent(buf, level + 1);
        g_string_append(buf, "</host>\n");
    }
    xml_buf_indent(buf, level);
    g_string_append(buf, "</dns>\n");
}

static void format_dhcp(GString *buf, int level, const HearthNetIp *ip)
{
    xml_buf_indent(buf, level);
    g_string_append(buf, "<dhcp");
    xml_extra_format_attrs(buf, &ip->dhcp_extra);
    if (!ip->ranges->len && !ip->hosts->len && !extra_has_children(&ip->dhcp_extra)) {
        g_string_append(buf, "/>\n");
        return;
    }
    g_string_append(buf, ">\n");
    for (guint i = 0; i < ip->ranges->len; i++) {
        const HearthNetDhcpRange *r = g_ptr_array_index(ip->ranges, i);

        xml_buf_indent(buf, level + 1);
        g_string_append(buf, "<range");
        attr_ipv4(buf, "start", r->start);
        attr_ipv4(buf, "end", r->end);
        finish_simple(buf, level + 1, "range", &r->extra);
    }
    for (guint i = 0; i < ip->hosts->len; i++) {
        const HearthNetDhcpHost *h = g_ptr_array_index(ip->hosts, i);

        xml_buf_indent(buf, level + 1);
        g_string_append(buf, "<host");
        xml_buf_attr(buf, "mac", h->mac);
        xml_buf_attr(buf, "name", h->name);
        if (h->ip)
            attr_ipv4(buf, "ip", h->ip);
        finish_simple(buf, level + 1, "host", &h->extra);
    }
    xml_extra_format_children(buf, level + 1, &ip->dhcp_extra);
    xml_buf_indent(buf, level);
    g_string_append(buf, "</dhcp>\n");
}

static void format_ip(GString *buf, int level, const HearthNetIp *ip)
{
    xml_buf_indent(buf, level);
    g_string_append(buf, "<ip");
    attr_ipv4(buf, "address", ip->address);
    if (ip->netmask_form)
        attr_ipv4(buf, "netmask", network_ip_mask(ip->prefix));
    else if (ip->prefix_given)
        xml_buf_attr_uint(buf, "prefix", ip->prefix);
    xml_extra_format_attrs(buf, &ip->extra);
    if (!ip->has_dhcp && !extra_has_children(&ip->extra)) {
        g_string_append(buf, "/>\n");
        return;
    }
    g_string_append(buf, ">\n");
    xml_extra_format_children(buf, level + 1, &ip->extra);
    if (ip->has_dhcp)
        format_dhcp(buf, level + 1, ip);
    xml_buf_indent(buf, level);
    g_string_append(buf, "</ip>\n");
}

char *network_def_format(const HearthNetworkDef *def)
{
    GString *buf = g_string_sized_new(1024);
    char uuid[HEARTH_UUID_STRING_LEN];

    g_string_append(buf, "<network");
    xml_extra_format_attrs(buf, &def->extra);
    g_string_append(buf, ">\n");
    xml_buf_text_element(buf, 1, "name", def->name);
    hearth_uuid_format(def->uuid, uuid);
    xml_buf_text_element(buf, 1, "uuid", uuid);
    xml_extra_format_children(buf, 1, &def->head_extra);
    if (def->has_forward)
        format_forward(buf, 1, def);
    if (def->has_bridge)
        format_bridge(buf, 1, def);
    if (def->mtu) {
        xml_buf_indent(buf, 1);
        g_string_append(buf, "<mtu");
        xml_buf_attr_uint(buf, "size", def->mtu);
        g_string_append(buf, "/>\n");
    }
    if (def->mac) {
        xml_buf_indent(buf, 1);
        g_string_append(buf, "<mac");
        xml_buf_attr(buf, "address", def->mac);
        g_string_append(buf, "/>\n");
    }
    if (def->domain_name) {
        xml_buf_indent(buf, 1);
        g_string_append(buf, "<domain");
        xml_buf_attr(buf, "name", def->domain_name);
        finish_simple(buf, 1, "domain", &def->domain_extra);
    }
    if (def->has_dns)
        format_dns(buf, 1, def);
    for (guint i = 0; i < def->ips->len; i++)
        format_ip(buf, 1, g_ptr_array_index(def->ips, i));
    xml_extra_format_children(buf, 1, &def->extra);
    g_string_append(buf, "</network>\n");
    return g_string_free(buf, FALSE);
}
