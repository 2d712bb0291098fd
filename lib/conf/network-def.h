/* libvirt's network XML as a public, hypervisor-neutral structure: parse, validate, format.
 * IPv4 addresses are host-order guint32 so subnet arithmetic stays simple; everything not
 * modeled is kept verbatim in HearthXmlExtra fields. */
#pragma once

#include <glib.h>

#include "domain-def.h" /* HearthTristate */
#include "xml-extra.h"

G_BEGIN_DECLS

typedef enum {
    HEARTH_NET_FORWARD_NONE = 0, /* no <forward>: isolated */
    HEARTH_NET_FORWARD_NAT,
    HEARTH_NET_FORWARD_ROUTE,
    HEARTH_NET_FORWARD_OPEN,
    HEARTH_NET_FORWARD_BRIDGE, /* an existing host bridge */
    HEARTH_NET_FORWARD_OTHER,  /* passthrough, private, vepa, hostdev: kept, not startable */
} HearthNetForwardMode;

typedef struct {
    guint32 start, end;
    HearthXmlExtra extra; /* e.g. <lease> */
} HearthNetDhcpRange;

typedef struct {
    char *mac;  /* normalized lower case; NULL when the host is given by id */
    char *name; /* may be NULL */
    guint32 ip; /* 0 = none */
    HearthXmlExtra extra;
} HearthNetDhcpHost;

typedef struct {
    guint32 address;
    guint prefix;
    gboolean netmask_form; /* written as netmask='' (else prefix='', or neither) */
    gboolean prefix_given;
    gboolean has_dhcp;
    GPtrArray *ranges; /* HearthNetDhcpRange * */
    GPtrArray *hosts;  /* HearthNetDhcpHost * */
    HearthXmlExtra dhcp_extra;
    HearthXmlExtra extra; /* family='ipv4', localPtr, <tftp>, ... */
} HearthNetIp;

typedef struct {
    char *ip;             /* IPv4 or IPv6, as written */
    GPtrArray *hostnames; /* char * */
} HearthNetDnsHost;

typedef struct {
    char *name;
    guint8 uuid[16];

    gboolean has_forward;
    HearthNetForwardMode forward_mode;
    char *forward_mode_name; /* as written; NULL for <forward/> */
    char *forward_dev;
    gboolean has_nat_ports;
    guint nat_port_start, nat_port_end;
    guint32 nat_addr_start, nat_addr_end; /* 0 = masquerade */
    HearthXmlExtra nat_extra;
    HearthXmlExtra forward_extra;

    gboolean has_bridge;
    char *bridge;              /* NULL until assigned */
    HearthTristate bridge_stp; /* on by default for virtual networks */
    gboolean has_bridge_delay;
    guint64 bridge_delay; /* seconds */
    HearthXmlExtra bridge_extra;

    char *mac; /* bridge MAC, 52:54:00:xx:xx:xx when generated */
    guint mtu; /* 0 = default */

    char *domain_name;
    HearthXmlExtra domain_extra;

    gboolean has_dns;
    HearthTristate dns_enable;
    GPtrArray *dns_hosts; /* HearthNetDnsHost * */
    HearthXmlExtra dns_extra;

    GPtrArray *ips; /* HearthNetIp *: IPv4 only */

    HearthXmlExtra head_extra; /* <title>, <description>, <metadata>: written after <uuid> */
    HearthXmlExtra extra;      /* unknown <network> attributes (and xmlns) and elements */
} HearthNetworkDef;

enum { NETWORK_DEF_PARSE_VALIDATE = 1u << 0 }; /* check against xml-schemas/network.rng */

/* Parse and check a network definition; generates a uuid, and for virtual networks (nat,
 * route, open, isolated) a bridge MAC and the STP default. The bridge name may still be
 * NULL or a template ("virbr%d"): see network_def_assign_bridge(). */
HearthNetworkDef *network_def_parse(const char *xml, gsize len, guint flags, GError **error);
/* Fill in libvirt's defaults for virtual networks (STP on, delay 0, a bridge MAC) and check
 * the whole: prefixes, DHCP ranges and hosts inside their subnet, one DHCP server, what the
 * forward mode allows. network_def_parse() ends with it; code that builds a definition
 * calls it too. */
gboolean network_def_validate(HearthNetworkDef *def, GError **error);
/* Check a document against xml-schemas/network.rng (compiled once per process). */
gboolean network_schema_validate(const char *xml, gsize len, GError **error);

/* libvirt-style 2-space indented XML with a trailing newline. */
char *network_def_format(const HearthNetworkDef *def);

/* What a started network reports beyond its definition (libvirt fills in the NAT port
 * range), applied to the live copy. */
void network_def_fill_live(HearthNetworkDef *def);

HearthNetworkDef *network_def_new(void);
/* New empty elements appended to def->ips / def->dns_hosts (which own them). */
HearthNetIp *network_def_add_ip(HearthNetworkDef *def);
HearthNetDnsHost *network_def_add_dns_host(HearthNetworkDef *def);
HearthNetworkDef *network_def_copy(const HearthNetworkDef *def);
void network_def_free(HearthNetworkDef *def);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HearthNetworkDef, network_def_free)

/* Non-empty, no '/', no leading '.', no control characters, at most 200 bytes, UTF-8. */
gboolean network_name_check(const char *name, GError **error);

/* TRUE for the modes hearthd builds itself (bridge, firewall, dnsmasq). */
gboolean network_def_is_virtual(const HearthNetworkDef *def);

/* Give a virtual network a bridge name when it has none or a "%d" template: the first
 * virbrN (or template expansion) not in @in_use (a set of names). */
gboolean network_def_assign_bridge(HearthNetworkDef *def, GHashTable *in_use, GError **error);

/* The subnet of an address: network address and mask. */
guint32 network_ip_mask(guint prefix);
static inline guint32 network_ip_subnet(const HearthNetIp *ip)
{
    return ip->address & network_ip_mask(ip->prefix);
}
/* TRUE when the two subnets share any address. */
gboolean network_subnets_overlap(guint32 a, guint prefix_a, guint32 b, guint prefix_b);

/* Dotted quad of a host-order address into @buf (at least 16 bytes); returns @buf. */
const char *network_ipv4_format(guint32 addr, char *buf);
gboolean network_ipv4_parse(const char *s, guint32 *out);

/* The IPv4 address whose <dhcp> serves the network, or NULL. */
const HearthNetIp *network_def_dhcp_ip(const HearthNetworkDef *def);
/* Number of addresses the DHCP ranges can hand out (dnsmasq's dhcp-lease-max). */
guint network_def_dhcp_size(const HearthNetworkDef *def);

/* "aa:bb:cc:dd:ee:ff" into 6 bytes (FALSE when malformed). */
gboolean network_mac_parse(const char *s, guint8 out[6]);
/* A random 52:54:00:xx:xx:xx (QEMU's OUI, as libvirt uses). */
char *network_mac_generate(void);

G_END_DECLS
