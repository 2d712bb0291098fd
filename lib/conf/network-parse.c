/* network_def_parse: the <network> element and its children; network-validate.c then adds
 * libvirt's defaults and checks the whole. */
#include "network-def.h"
#include "domain-internal.h"

#include "uuid-util.h"

#include <arpa/inet.h>

static const char *const forward_modes[] = {"none", "nat", "route", "open", "bridge", NULL};
static const char *const other_forward_modes[] = {"passthrough", "private", "vepa", "hostdev",
                                                  NULL};

typedef struct {
    HearthNetworkDef *def;
    const char *name; /* for messages; "" until known */
} ParseCtx;

/* Interface names as the kernel takes them (at most 15 bytes, no '/', ':' or blanks), and
 * nothing that would need quoting in the firewall ruleset or dnsmasq's configuration. */
static gboolean ifname_check(const char *s, gboolean template_ok)
{
    gsize len = s ? strlen(s) : 0;
    const char *tmpl = template_ok && s ? strstr(s, "%d") : NULL;

    if (len == 0 || len > 15 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
        return FALSE;
    for (const char *p = s; *p; p++) {
        if (p == tmpl) {
            p++;
            continue;
        }
        if ((guchar)*p <= 0x20 || *p == 0x7f || strchr("/:\"'\\%,;{}#$`", *p))
            return FALSE;
    }
    return TRUE;
}

/* DNS names: letters, digits, '-', '_' and '.' (no empty label). */
static gboolean dns_name_check(const char *s)
{
    gsize len = s ? strlen(s) : 0;

    if (len == 0 || len > 253 || s[0] == '.' || s[0] == '-' || strstr(s, ".."))
        return FALSE;
    for (const char *p = s; *p; p++) {
        if (!g_ascii_isalnum(*p) && *p != '-' && *p != '.' && *p != '_')
            return FALSE;
    }
    return TRUE;
}

static gboolean prop_ipv4(XNode *node, const char *attr, gboolean required, guint32 *out,
                          GError **error)
{
    const char *s = xml_prop(node, attr);

    if (!s) {
        if (required)
            conf_error(error, HEARTH_ERR_XML_ERROR, _("missing attribute '%s' in <%s> (line %d)"),
                       attr, node->name, xml_line(node));
        return !required;
    }
    if (!network_ipv4_parse(s, out)) {
        conf_error(error, HEARTH_ERR_XML_ERROR,
                   _("invalid IPv4 address '%s' in attribute '%s' of <%s> (line %d)"), s, attr,
                   node->name, xml_line(node));
        return FALSE;
    }
    return TRUE;
}

static gboolean prop_mac(XNode *node, const char *attr, char **out, GError **error)
{
    const char *s = xml_prop(node, attr);
    guint8 b[6];

    if (!network_mac_parse(s, b) || (b[0] & 1)) {
        conf_error(error, HEARTH_ERR_XML_ERROR,
                   _("invalid MAC address '%s' in <%s> (line %d): expected a unicast address "
                     "like 52:54:00:12:34:56"),
                   s ? s : "", node->name, xml_line(node));
        return FALSE;
    }
    g_free(*out);
    *out = g_strdup_printf("%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4], b[5]);
    return TRUE;
}

static gboolean simple_or_fail(XNode *node, const char *const *known, GError **error)
{
    if (xml_is_simple(node, known))
        return TRUE;
    conf_error(error, HEARTH_ERR_XML_ERROR,
               _("unexpected attribute or child element in <%s> (line %d)"), node->name,
               xml_line(node));
    return FALSE;
}

static gboolean once(gboolean *seen, XNode *node, GError **error)
{
    if (*seen) {
        conf_error(error, HEARTH_ERR_XML_ERROR, _("duplicate <%s> in network XML (line %d)"),
                   node->name, xml_line(node));
        return FALSE;
    }
    *seen = TRUE;
    return TRUE;
}

static gboolean parse_nat(XNode *node, HearthNetworkDef *def, GError **error)
{
    gboolean seen_addr = FALSE, seen_port = FALSE;
    XNode *c;

    xml_extra_collect_attrs(&def->nat_extra, node, NULL);
    XML_FOREACH_CHILD(node, c)
    {
        if (xml_is(c, "address")) {
            if (!once(&seen_addr, c, error) ||
                !simple_or_fail(c, CONF_ATTRS("start", "end"), error) ||
                !prop_ipv4(c, "start", TRUE, &def->nat_addr_start, error) ||
                !prop_ipv4(c, "end", TRUE, &def->nat_addr_end, error))
                return FALSE;
        } else if (xml_is(c, "port")) {
            guint64 start = 0, end = 0;

            if (!once(&seen_port, c, error) ||
                !simple_or_fail(c, CONF_ATTRS("start", "end"), error))
                return FALSE;
            if (!xml_prop(c, "start") || !xml_prop(c, "end")) {
                conf_error(error, HEARTH_ERR_XML_ERROR,
                           _("<port> in <nat> needs both 'start' and 'end' (line %d)"),
                           xml_line(c));
                return FALSE;
            }
            if (!conf_prop_uint(c, "start", 65535, &start, error) ||
                !conf_prop_uint(c, "end", 65535, &end, error))
                return FALSE;
            def->has_nat_ports = TRUE;
            def->nat_port_start = (guint)start;
            def->nat_port_end = (guint)end;
        } else {
            xml_extra_add_child(&def->nat_extra, c);
        }
    }
    return TRUE;
}

static gboolean parse_forward(XNode *node, HearthNetworkDef *def, GError **error)
{
    const char *mode = xml_prop(node, "mode");
    gboolean seen_nat = FALSE;
    XNode *c;
    int i;

    def->has_forward = TRUE;
    if (!mode) {
        def->forward_mode = HEARTH_NET_FORWARD_NAT;
    } else if ((i = conf_enum_index(forward_modes, mode)) > 0) {
        def->forward_mode = (HearthNetForwardMode)i;
    } else if (conf_enum_index(other_forward_modes, mode) >= 0) {
        def->forward_mode = HEARTH_NET_FORWARD_OTHER;
    } else {
        conf_error(error, HEARTH_ERR_XML_ERROR,
                   _("unknown forward mode '%s' (line %d): expected nat, route, open, bridge, "
                     "passthrough, private, vepa or hostdev"),
                   mode, xml_line(node));
        return FALSE;
    }
    def->forward_mode_name = g_strdup(mode ? mode : "nat");
    def->forward_dev = xml_prop_dup(node, "dev");
    if (def->forward_dev && !ifname_check(def->forward_dev, FALSE)) {
        conf_error(error, HEARTH_ERR_XML_ERROR,
                   _("invalid interface name '%s' in <forward dev=''> (line %d)"), def->forward_dev,
                   xml_line(node));
        return FALSE;
    }
    xml_extra_collect_attrs(&def->forward_extra, node, CONF_ATTRS("mode", "dev"));
    XML_FOREACH_CHILD(node, c)
    {
        if (xml_is(c, "nat")) {
            if (!once(&seen_nat, c, error) || !parse_nat(c, def, error))
                return FALSE;
        } else {
            xml_extra_add_child(&def->forward_extra, c);
        }
    }
    return TRUE;
}

static gboolean parse_bridge(XNode *node, HearthNetworkDef *def, GError **error)
{
    XNode *c;

    def->has_bridge = TRUE;
    def->bridge = xml_prop_dup(node, "name");
    if (def->bridge && !ifname_check(def->bridge, TRUE)) {
        conf_error(error, HEARTH_ERR_XML_ERROR,
                   _("invalid bridge name '%s' (line %d): at most 15 characters, without '/', "
                     "':', quotes or blanks"),
                   def->bridge, xml_line(node));
        return FALSE;
    }
    if (!conf_prop_tristate(node, "stp", TRUE, &def->bridge_stp, error))
        return FALSE;
    if (xml_prop(node, "delay")) {
        if (!conf_prop_uint(node, "delay", 300, &def->bridge_delay, error))
            return FALSE;
        def->has_bridge_delay = TRUE;
    }
    xml_extra_collect_attrs(&def->bridge_extra, node, CONF_ATTRS("name", "stp", "delay"));
    XML_FOREACH_CHILD(node, c)
    xml_extra_add_child(&def->bridge_extra, c);
    return TRUE;
}

static gboolean parse_mtu(XNode *node, HearthNetworkDef *def, GError **error)
{
    guint64 v = 0;

    if (!simple_or_fail(node, CONF_ATTRS("size"), error))
        return FALSE;
    if (!xml_prop(node, "size")) {
        conf_error(error, HEARTH_ERR_XML_ERROR, _("missing attribute 'size' in <mtu> (line %d)"),
                   xml_line(node));
        return FALSE;
    }
    if (!conf_prop_uint(node, "size", 65535, &v, error))
        return FALSE;
    if (v < 68) {
        conf_error(error, HEARTH_ERR_CONFIG_UNSUPPORTED,
                   _("MTU %u of network is too small: IPv4 needs at least 68"), (guint)v);
        return FALSE;
    }
    def->mtu = (guint)v;
    return TRUE;
}

static gboolean parse_domain(XNode *node, HearthNetworkDef *def, GError **error)
{
    XNode *c;

    def->domain_name = xml_prop_dup(node, "name");
    if (!dns_name_check(def->domain_name)) {
        conf_error(error, HEARTH_ERR_XML_ERROR, _("invalid domain name '%s' in <domain> (line %d)"),
                   def->domain_name ? def->domain_name : "", xml_line(node));
        return FALSE;
    }
    xml_extra_collect_attrs(&def->domain_extra, node, CONF_ATTRS("name"));
    XML_FOREACH_CHILD(node, c)
    xml_extra_add_child(&def->domain_extra, c);
    return TRUE;
}

static gboolean parse_dns_host(XNode *node, HearthNetworkDef *def, GError **error)
{
    HearthNetDnsHost *h;
    const char *ip = xml_prop(node, "ip");
    guint8 buf[16];
    XNode *c;

    if (!ip || (inet_pton(AF_INET, ip, buf) != 1 && inet_pton(AF_INET6, ip, buf) != 1)) {
        conf_error(error, HEARTH_ERR_XML_ERROR,
                   _("<host> in <dns> needs a valid 'ip' attribute, got '%s' (line %d)"),
                   ip ? ip : "", xml_line(node));
        return FALSE;
    }
    if (node->properties->next || node->nsDef) {
        conf_error(error, HEARTH_ERR_XML_ERROR,
                   _("unexpected attribute in <host> of <dns> (line %d)"), xml_line(node));
        return FALSE;
    }
    h = network_def_add_dns_host(def);
    h->ip = g_strdup(ip);
    XML_FOREACH_CHILD(node, c)
    {
        g_autofree char *name = NULL;

        if (!xml_is(c, "hostname") || !xml_is_simple(c, NULL)) {
            conf_error(error, HEARTH_ERR_XML_ERROR,
                       _("unexpected <%s> in <host> of <dns> (line %d): expected <hostname>"),
                       c->name, xml_line(c));
            return FALSE;
        }
        name = g_strstrip(xml_text_dup(c));
        if (!dns_name_check(name)) {
            conf_error(error, HEARTH_ERR_XML_ERROR, _("invalid host name '%s' in <dns> (line %d)"),
                       name, xml_line(c));
            return FALSE;
        }
        g_ptr_array_add(h->hostnames, g_steal_pointer(&name));
    }
    if (h->hostnames->len == 0) {
        conf_error(error, HEARTH_ERR_XML_ERROR,
                   _("<host ip='%s'> in <dns> has no <hostname> (line %d)"), ip, xml_line(node));
        return FALSE;
    }
    return TRUE;
}

static gboolean parse_dns(XNode *node, HearthNetworkDef *def, GError **error)
{
    XNode *c;

    def->has_dns = TRUE;
    if (!conf_prop_tristate(node, "enable", FALSE, &def->dns_enable, error))
        return FALSE;
    xml_extra_collect_attrs(&def->dns_extra, node, CONF_ATTRS("enable"));
    XML_FOREACH_CHILD(node, c)
    {
        if (xml_is(c, "host")) {
            if (!parse_dns_host(c, def, error))
                return FALSE;
        } else {
            xml_extra_add_child(&def->dns_extra, c);
        }
    }
    return TRUE;
}

static gboolean parse_dhcp(XNode *node, HearthNetIp *ip, GError **error)
{
    XNode *c, *g;

    ip->has_dhcp = TRUE;
    xml_extra_collect_attrs(&ip->dhcp_extra, node, NULL);
    XML_FOREACH_CHILD(node, c)
    {
        if (xml_is(c, "range")) {
            HearthNetDhcpRange *r = g_new0(HearthNetDhcpRange, 1);

            g_ptr_array_add(ip->ranges, r);
            if (!prop_ipv4(c, "start", TRUE, &r->start, error) ||
                !prop_ipv4(c, "end", TRUE, &r->end, error))
                return FALSE;
            xml_extra_collect_attrs(&r->extra, c, CONF_ATTRS("start", "end"));
            XML_FOREACH_CHILD(c, g)
            xml_extra_add_child(&r->extra, g);
        } else if (xml_is(c, "host")) {
            HearthNetDhcpHost *h = g_new0(HearthNetDhcpHost, 1);

            g_ptr_array_add(ip->hosts, h);
            if (xml_prop(c, "mac") && !prop_mac(c, "mac", &h->mac, error))
                return FALSE;
            if (!h->mac && !xml_prop(c, "id")) {
                conf_error(error, HEARTH_ERR_XML_ERROR,
                           _("<host> in <dhcp> needs a 'mac' (or 'id') attribute (line %d)"),
                           xml_line(c));
                return FALSE;
            }
            h->name = xml_prop_dup(c, "name");
            if (h->name && !dns_name_check(h->name)) {
                conf_error(error, HEARTH_ERR_XML_ERROR,
                           _("invalid host name '%s' in <dhcp> (line %d)"), h->name, xml_line(c));
                return FALSE;
            }
            if (!prop_ipv4(c, "ip", FALSE, &h->ip, error))
                return FALSE;
            xml_extra_collect_attrs(&h->extra, c, CONF_ATTRS("mac", "name", "ip"));
            XML_FOREACH_CHILD(c, g)
            xml_extra_add_child(&h->extra, g);
        } else {
            xml_extra_add_child(&ip->dhcp_extra, c);
        }
    }
    return TRUE;
}

static gboolean parse_ip(XNode *node, ParseCtx *ctx, GError **error)
{
    HearthNetIp *ip;
    const char *family = xml_prop(node, "family");
    const char *address = xml_prop(node, "address");
    const char *prefix = xml_prop(node, "prefix");
    const char *netmask = xml_prop(node, "netmask");
    gboolean seen_dhcp = FALSE;
    XNode *c;

    if ((family && strcmp(family, "ipv4") != 0) || (address && strchr(address, ':'))) {
        conf_error(error, HEARTH_ERR_CONFIG_UNSUPPORTED,
                   _("IPv6 addresses are not supported in network '%s' (line %d)"), ctx->name,
                   xml_line(node));
        return FALSE;
    }
    ip = network_def_add_ip(ctx->def);
    if (!prop_ipv4(node, "address", TRUE, &ip->address, error))
        return FALSE;
    if (prefix && netmask) {
        conf_error(error, HEARTH_ERR_XML_ERROR,
                   _("<ip> of network '%s' has both 'prefix' and 'netmask' (line %d)"), ctx->name,
                   xml_line(node));
        return FALSE;
    }
    if (prefix) {
        guint64 v = 0;

        if (!conf_parse_uint(prefix, G_MAXUINT32, &v) || v > 32 || v == 0) {
            conf_error(error, HEARTH_ERR_CONFIG_UNSUPPORTED,
                       _("invalid IPv4 prefix '%s' in network '%s': it must be between 1 and "
                         "32"),
                       prefix, ctx->name);
            return FALSE;
        }
        ip->prefix = (guint)v;
        ip->prefix_given = TRUE;
    } else if (netmask) {
        guint32 mask;

        if (!prop_ipv4(node, "netmask", TRUE, &mask, error))
            return FALSE;
        ip->prefix = (guint)__builtin_popcount(mask);
        if (ip->prefix == 0 || network_ip_mask(ip->prefix) != mask) {
            conf_error(error, HEARTH_ERR_CONFIG_UNSUPPORTED,
                       _("invalid netmask '%s' in network '%s': the one bits must be "
                         "contiguous and at least one"),
                       netmask, ctx->name);
            return FALSE;
        }
        ip->prefix_given = TRUE;
        ip->netmask_form = TRUE;
    } else {
        /* As libvirt: the classful prefix of the address. */
        guint8 first = (guint8)(ip->address >> 24);

        ip->prefix = first < 128 ? 8 : first < 192 ? 16 : 24;
    }
    xml_extra_collect_attrs(&ip->extra, node, CONF_ATTRS("address", "prefix", "netmask"));
    XML_FOREACH_CHILD(node, c)
    {
        if (xml_is(c, "dhcp")) {
            if (!once(&seen_dhcp, c, error) || !parse_dhcp(c, ip, error))
                return FALSE;
        } else {
            xml_extra_add_child(&ip->extra, c);
        }
    }
    return TRUE;
}

static gboolean parse_uuid(XNode *node, HearthNetworkDef *def, GError **error)
{
    g_autofree char *text = g_strstrip(xml_text_dup(node));

    if (!hearth_uuid_parse(text, def->uuid)) {
        conf_error(error, HEARTH_ERR_XML_ERROR, _("invalid UUID '%s' in <uuid>"), text);
        return FALSE;
    }
    return TRUE;
}

typedef struct {
    gboolean name, uuid, forward, bridge, mtu, mac, domain, dns;
} Seen;

static gboolean parse_child(XNode *c, ParseCtx *ctx, Seen *seen, GError **error)
{
    HearthNetworkDef *def = ctx->def;

    if (c->ns) {
        xml_extra_add_child(&def->extra, c);
        return TRUE;
    }
    if (xml_is(c, "name")) {
        if (!once(&seen->name, c, error) || !simple_or_fail(c, NULL, error))
            return FALSE;
        def->name = xml_text_dup(c);
        return TRUE;
    }
    if (xml_is(c, "uuid"))
        return once(&seen->uuid, c, error) && simple_or_fail(c, NULL, error) &&
               parse_uuid(c, def, error);
    if (xml_is(c, "forward"))
        return once(&seen->forward, c, error) && parse_forward(c, def, error);
    if (xml_is(c, "bridge"))
        return once(&seen->bridge, c, error) && parse_bridge(c, def, error);
    if (xml_is(c, "mtu"))
        return once(&seen->mtu, c, error) && parse_mtu(c, def, error);
    if (xml_is(c, "mac"))
        return once(&seen->mac, c, error) && simple_or_fail(c, CONF_ATTRS("address"), error) &&
               prop_mac(c, "address", &def->mac, error);
    if (xml_is(c, "domain"))
        return once(&seen->domain, c, error) && parse_domain(c, def, error);
    if (xml_is(c, "dns"))
        return once(&seen->dns, c, error) && parse_dns(c, def, error);
    if (xml_is(c, "ip"))
        return parse_ip(c, ctx, error);
    if (xml_is(c, "title") || xml_is(c, "description") || xml_is(c, "metadata"))
        xml_extra_add_child(&def->head_extra, c);
    else
        xml_extra_add_child(&def->extra, c);
    return TRUE;
}

/* The name first, so that every later message can say which network it is about. */
static const char *peek_name(XNode *root, XDoc *doc)
{
    for (XNode *c = xml_first_element(root); c; c = xml_next_element(c)) {
        if (xml_is(c, "name")) {
            g_autofree char *text = xml_text_dup(c);

            c->text_read = FALSE;
            return xdoc_strndup(doc, text, strlen(text));
        }
    }
    return "";
}

HearthNetworkDef *network_def_parse(const char *xml, gsize len, guint flags, GError **error)
{
    g_autoptr(XDoc) doc = NULL;
    g_autoptr(HearthNetworkDef) def = NULL;
    ParseCtx ctx;
    Seen seen = {0};
    XNode *root, *c;

    if ((flags & NETWORK_DEF_PARSE_VALIDATE) && !network_schema_validate(xml, len, error))
        return NULL;
    doc = xml_safe_parse(xml, len, error);
    if (!doc)
        return NULL;
    root = doc->root;
    if (!xml_is(root, "network")) {
        conf_error(error, HEARTH_ERR_XML_ERROR, _("expected root element <network>, got <%s>"),
                   root->name);
        return NULL;
    }
    def = network_def_new();
    ctx.def = def;
    ctx.name = peek_name(root, doc);
    xml_extra_collect_attrs(&def->extra, root, NULL);
    XML_FOREACH_CHILD(root, c)
    {
        if (!parse_child(c, &ctx, &seen, error))
            return NULL;
    }
    if (!seen.uuid)
        hearth_uuid_generate(def->uuid);
    if (!xml_check_stray_text(root, error) || !network_def_validate(def, error))
        return NULL;
    return g_steal_pointer(&def);
}
