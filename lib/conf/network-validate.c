/* network_def_validate: libvirt's defaults for virtual networks and the semantic checks
 * (subnets, DHCP ranges and hosts, what each forward mode allows), once everything is known. */
#include "domain-internal.h"
#include "network-def.h"

static gboolean check_range(const HearthNetworkDef *def, const HearthNetIp *ip,
                            const HearthNetDhcpRange *r, GError **error)
{
    guint32 subnet = network_ip_subnet(ip), bcast = subnet | ~network_ip_mask(ip->prefix);
    char a[16], b[16], n[16], x[16];

    network_ipv4_format(r->start, a);
    network_ipv4_format(r->end, b);
    network_ipv4_format(subnet, n);
    if (r->start < subnet || r->start > bcast || r->end < subnet || r->end > bcast) {
        conf_error(error, HEARTH_ERR_CONFIG_UNSUPPORTED,
                   _("DHCP range %s - %s is not entirely within network %s/%u of network '%s'"), a,
                   b, n, ip->prefix, def->name);
        return FALSE;
    }
    if (r->start > r->end) {
        conf_error(error, HEARTH_ERR_CONFIG_UNSUPPORTED,
                   _("DHCP range %s - %s of network '%s' is reversed"), a, b, def->name);
        return FALSE;
    }
    if (ip->prefix <= 30 && (r->start == subnet || r->end == bcast)) {
        network_ipv4_format(r->start == subnet ? subnet : bcast, x);
        conf_error(error, HEARTH_ERR_CONFIG_UNSUPPORTED,
                   _("DHCP range %s - %s of network '%s' includes the %s address %s"), a, b,
                   def->name, r->start == subnet ? _("network") : _("broadcast"), x);
        return FALSE;
    }
    return TRUE;
}

static gboolean check_host(const HearthNetworkDef *def, const HearthNetIp *ip, guint index,
                           GError **error)
{
    const HearthNetDhcpHost *h = g_ptr_array_index(ip->hosts, index);
    guint32 subnet = network_ip_subnet(ip), bcast = subnet | ~network_ip_mask(ip->prefix);
    char a[16], n[16];

    if (!h->ip)
        return TRUE;
    network_ipv4_format(h->ip, a);
    network_ipv4_format(subnet, n);
    if ((h->ip & network_ip_mask(ip->prefix)) != subnet ||
        (ip->prefix <= 30 && (h->ip == subnet || h->ip == bcast))) {
        conf_error(error, HEARTH_ERR_CONFIG_UNSUPPORTED,
                   _("DHCP host %s of network '%s' is not a host address of network %s/%u"), a,
                   def->name, n, ip->prefix);
        return FALSE;
    }
    if (h->ip == ip->address) {
        conf_error(error, HEARTH_ERR_CONFIG_UNSUPPORTED,
                   _("DHCP host %s of network '%s' is the network's own address"), a, def->name);
        return FALSE;
    }
    for (guint j = 0; j < index; j++) {
        const HearthNetDhcpHost *o = g_ptr_array_index(ip->hosts, j);

        if (o->ip == h->ip || (h->mac && g_strcmp0(o->mac, h->mac) == 0)) {
            conf_error(error, HEARTH_ERR_CONFIG_UNSUPPORTED,
                       _("DHCP hosts of network '%s' repeat %s %s"), def->name,
                       o->ip == h->ip ? _("the address") : _("the MAC address"),
                       o->ip == h->ip ? a : h->mac);
            return FALSE;
        }
    }
    return TRUE;
}

static gboolean check_ips(const HearthNetworkDef *def, GError **error)
{
    gboolean dhcp_seen = FALSE;

    for (guint i = 0; i < def->ips->len; i++) {
        const HearthNetIp *ip = g_ptr_array_index(def->ips, i);

        for (guint j = 0; j < i; j++) {
            const HearthNetIp *o = g_ptr_array_index(def->ips, j);

            if (network_subnets_overlap(ip->address, ip->prefix, o->address, o->prefix)) {
                conf_error(error, HEARTH_ERR_CONFIG_UNSUPPORTED,
                           _("the addresses of network '%s' are on overlapping subnets"),
                           def->name);
                return FALSE;
            }
        }
        if (!ip->has_dhcp)
            continue;
        if (dhcp_seen) {
            conf_error(error, HEARTH_ERR_CONFIG_UNSUPPORTED,
                       _("network '%s' has <dhcp> on more than one IPv4 address; DHCP is "
                         "supported on one address per network"),
                       def->name);
            return FALSE;
        }
        dhcp_seen = TRUE;
        for (guint j = 0; j < ip->ranges->len; j++) {
            if (!check_range(def, ip, g_ptr_array_index(ip->ranges, j), error))
                return FALSE;
        }
        for (guint j = 0; j < ip->hosts->len; j++) {
            if (!check_host(def, ip, j, error))
                return FALSE;
        }
    }
    return TRUE;
}

static gboolean unsupported_in_mode(const HearthNetworkDef *def, const char *what, GError **error)
{
    conf_error(error, HEARTH_ERR_CONFIG_UNSUPPORTED,
               _("%s is not allowed in network '%s' with forward mode '%s'"), what, def->name,
               def->forward_mode_name);
    return FALSE;
}

gboolean network_def_validate(HearthNetworkDef *def, GError **error)
{
    g_autoptr(GError) name_error = NULL;

    if (!def->name || !*def->name) {
        conf_error(error, HEARTH_ERR_NO_NAME, _("missing name information in network XML"));
        return FALSE;
    }
    if (!network_name_check(def->name, &name_error)) {
        conf_error(error, HEARTH_ERR_XML_ERROR, _("invalid <name> in network XML: %s"),
                   name_error->message);
        return FALSE;
    }
    if (!def->has_forward)
        def->forward_mode = HEARTH_NET_FORWARD_NONE;
    if ((def->has_nat_ports || def->nat_addr_start) && def->forward_mode != HEARTH_NET_FORWARD_NAT)
        return unsupported_in_mode(def, "<nat>", error);
    if (def->has_nat_ports &&
        (def->nat_port_start == 0 || def->nat_port_start > def->nat_port_end)) {
        conf_error(error, HEARTH_ERR_CONFIG_UNSUPPORTED,
                   _("invalid NAT port range %u-%u in network '%s'"), def->nat_port_start,
                   def->nat_port_end, def->name);
        return FALSE;
    }
    if (def->nat_addr_start > def->nat_addr_end) {
        conf_error(error, HEARTH_ERR_CONFIG_UNSUPPORTED,
                   _("NAT address range of network '%s' is reversed"), def->name);
        return FALSE;
    }

    if (network_def_is_virtual(def)) {
        def->has_bridge = TRUE;
        if (def->bridge_stp == HEARTH_TRISTATE_ABSENT)
            def->bridge_stp = HEARTH_TRISTATE_YES;
        if (!def->has_bridge_delay) {
            def->has_bridge_delay = TRUE;
            def->bridge_delay = 0;
        }
        if (!def->mac)
            def->mac = network_mac_generate();
        if (def->forward_dev && def->forward_mode == HEARTH_NET_FORWARD_OPEN)
            return unsupported_in_mode(def, "<forward dev=''>", error);
    } else if (def->forward_mode == HEARTH_NET_FORWARD_BRIDGE) {
        if (!def->bridge || strstr(def->bridge, "%d")) {
            conf_error(error, HEARTH_ERR_CONFIG_UNSUPPORTED,
                       _("network '%s' with forward mode 'bridge' needs <bridge name='...'/> "
                         "naming an existing host bridge"),
                       def->name);
            return FALSE;
        }
        if (def->ips->len)
            return unsupported_in_mode(def, "<ip>", error);
        if (def->mac)
            return unsupported_in_mode(def, "<mac>", error);
        if (def->domain_name || def->has_dns)
            return unsupported_in_mode(def, "<dns> or <domain>", error);
        if (def->bridge_stp != HEARTH_TRISTATE_ABSENT || def->has_bridge_delay)
            return unsupported_in_mode(def, "<bridge stp='' delay=''>", error);
    }
    return check_ips(def, error);
}
