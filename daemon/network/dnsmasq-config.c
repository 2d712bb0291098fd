/* The lines and their order follow what libvirt 9.0 writes, so a user comparing the two
 * sees the same configuration; only the paths, the "created by" line and the inline hosts
 * (dhcp-host=, host-record= instead of libvirt's hosts files) differ. */
#include "dnsmasq-config.h"

#include <string.h>

char *dnsmasq_config_text(const HearthNetworkDef *def, const DnsmasqFiles *files)
{
    const HearthNetIp *dhcp = network_def_dhcp_ip(def);
    gboolean dns = def->dns_enable != HEARTH_TRISTATE_NO;
    GString *buf;
    char a[16], b[16], m[16];

    if (!network_def_is_virtual(def) || def->ips->len == 0 || !def->bridge)
        return NULL;
    buf = g_string_new(NULL);
    g_string_append_printf(buf,
                           "##WARNING:  THIS IS AN AUTO-GENERATED FILE. CHANGES TO IT ARE LIKELY "
                           "TO BE\n"
                           "##OVERWRITTEN AND LOST.  Changes to this configuration should be "
                           "made using:\n"
                           "##    virsh net-edit %s\n"
                           "## or other application using the libvirt API.\n"
                           "##\n"
                           "## dnsmasq conf file created by hearthd\n"
                           "strict-order\n",
                           def->name);
    if (def->domain_name)
        g_string_append_printf(buf, "domain=%s\nexpand-hosts\n", def->domain_name);
    g_string_append_printf(buf,
                           "pid-file=%s\n"
                           "except-interface=lo\n"
                           "bind-dynamic\n"
                           "interface=%s\n",
                           files->pid_file, def->bridge);
    if (!dns)
        g_string_append(buf, "port=0\n");
    if (def->forward_mode == HEARTH_NET_FORWARD_NONE) {
        /* Isolated: no default route for guests, and no upstream to forward queries to. */
        g_string_append(buf, "dhcp-option=3\nno-resolv\n");
    }
    if (dhcp) {
        network_ipv4_format(network_ip_mask(dhcp->prefix), m);
        for (guint i = 0; i < dhcp->ranges->len; i++) {
            const HearthNetDhcpRange *r = g_ptr_array_index(dhcp->ranges, i);

            g_string_append_printf(buf, "dhcp-range=%s,%s,%s\n", network_ipv4_format(r->start, a),
                                   network_ipv4_format(r->end, b), m);
        }
        if (!dhcp->ranges->len) {
            /* Fixed hosts only: a static range lets dnsmasq answer for them. */
            g_string_append_printf(buf, "dhcp-range=%s,static,%s\n",
                                   network_ipv4_format(network_ip_subnet(dhcp), a), m);
        }
        g_string_append_printf(buf,
                               "dhcp-no-override\n"
                               "dhcp-authoritative\n"
                               "dhcp-lease-max=%u\n",
                               MAX(network_def_dhcp_size(def), 1u));
        for (guint i = 0; i < dhcp->hosts->len; i++) {
            const HearthNetDhcpHost *h = g_ptr_array_index(dhcp->hosts, i);

            if (!h->mac)
                continue;
            g_string_append_printf(buf, "dhcp-host=%s", h->mac);
            if (h->ip)
                g_string_append_printf(buf, ",%s", network_ipv4_format(h->ip, a));
            if (h->name)
                g_string_append_printf(buf, ",%s", h->name);
            g_string_append_c(buf, '\n');
        }
    }
    for (guint i = 0; dns && i < def->dns_hosts->len; i++) {
        const HearthNetDnsHost *h = g_ptr_array_index(def->dns_hosts, i);

        g_string_append(buf, "host-record=");
        for (guint j = 0; j < h->hostnames->len; j++)
            g_string_append_printf(buf, "%s,", (const char *)g_ptr_array_index(h->hostnames, j));
        g_string_append_printf(buf, "%s\n", h->ip);
    }
    if (dhcp && def->mtu)
        g_string_append_printf(buf, "dhcp-option=option:mtu,%u\n", def->mtu);
    return g_string_free(buf, FALSE);
}
