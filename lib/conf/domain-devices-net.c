/* <interface>: mac, source, model, target. */
#include "domain-internal.h"

static const char *const net_types[] = {"network", "bridge", "user", "ethernet", NULL};

static gboolean net_mac_parse(const char *s, char **out)
{
    guint8 b[6];
    int i;

    if (!s || strlen(s) != 17)
        return FALSE;
    for (i = 0; i < 6; i++) {
        int hi = g_ascii_xdigit_value(s[i * 3]), lo = g_ascii_xdigit_value(s[i * 3 + 1]);

        if (hi < 0 || lo < 0 || (i < 5 && s[i * 3 + 2] != ':'))
            return FALSE;
        b[i] = (guint8)(hi << 4 | lo);
    }
    if (b[0] & 1) /* multicast */
        return FALSE;
    *out = g_strdup_printf("%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4], b[5]);
    return TRUE;
}

static char *net_mac_generate(void)
{
    /* QEMU's OUI, as libvirt uses for guests. */
    return g_strdup_printf("52:54:00:%02x:%02x:%02x", g_random_int_range(0, 256),
                           g_random_int_range(0, 256), g_random_int_range(0, 256));
}

static void net_children_to_extra(HearthXmlExtra *extra, XNode *node)
{
    XNode *c;

    XML_FOREACH_CHILD(node, c)
    xml_extra_add_child(extra, c);
}

gboolean net_parse(XNode *node, HearthDomainInterface *net, GError **error)
{
    const char *type = xml_prop(node, "type");
    XNode *c;
    int i;

    if (!type) {
        conf_error(error, HEARTH_ERR_XML_ERROR,
                   _("missing attribute 'type' in <interface> (line %d)"), xml_line(node));
        return FALSE;
    }
    i = conf_enum_index(net_types, type);
    net->type = i < 0 ? HEARTH_NET_TYPE_OTHER : (HearthNetType)i;
    net->type_name = g_strdup(type);
    xml_extra_collect_attrs(&net->extra, node, CONF_ATTRS("type"));

    XML_FOREACH_CHILD(node, c)
    {
        int r;

        if (xml_is(c, "mac") && !net->mac && xml_prop(c, "address") && !c->properties->next &&
            !xml_first_element(c)) {
            if (!net_mac_parse(xml_prop(c, "address"), &net->mac)) {
                conf_error(error, HEARTH_ERR_XML_ERROR,
                           _("invalid MAC address '%s' in <interface> (expected a unicast "
                             "address like 52:54:00:12:34:56)"),
                           xml_prop(c, "address"));
                return FALSE;
            }
        } else if (xml_is(c, "source") && !net->has_source) {
            net->has_source = TRUE;
            xml_extra_collect_attrs(&net->source_extra, c, CONF_ATTRS("network", "bridge", "dev"));
            net->source_network = xml_prop_dup(c, "network");
            net->source_bridge = xml_prop_dup(c, "bridge");
            net->source_dev = xml_prop_dup(c, "dev");
            net_children_to_extra(&net->source_extra, c);
        } else if (xml_is(c, "model") && !net->model && xml_prop(c, "type") &&
                   !c->properties->next && !xml_first_element(c)) {
            net->model = xml_prop_dup(c, "type");
        } else if (xml_is(c, "target") && !net->target_dev && xml_prop(c, "dev")) {
            xml_extra_collect_attrs(&net->target_extra, c, CONF_ATTRS("dev"));
            net->target_dev = xml_prop_dup(c, "dev");
            net_children_to_extra(&net->target_extra, c);
        } else if ((r = device_info_parse_child(&net->info, c, TRUE, error)) != 0) {
            if (r < 0)
                return FALSE;
        } else {
            xml_extra_add_child(&net->extra, c);
        }
    }
    if (net->type == HEARTH_NET_TYPE_NETWORK && !net->source_network) {
        conf_error(error, HEARTH_ERR_XML_ERROR,
                   _("missing <source network=''> in <interface type='network'> (line %d)"),
                   xml_line(node));
        return FALSE;
    }
    if (net->type == HEARTH_NET_TYPE_BRIDGE && !net->source_bridge) {
        conf_error(error, HEARTH_ERR_XML_ERROR,
                   _("missing <source bridge=''> in <interface type='bridge'> (line %d)"),
                   xml_line(node));
        return FALSE;
    }
    if (!net->mac)
        net->mac = net_mac_generate();
    return TRUE;
}

static void net_simple_element(GString *buf, int level, const char *name, const char *const *attrs,
                               const HearthXmlExtra *extra)
{
    xml_buf_indent(buf, level);
    g_string_append_printf(buf, "<%s", name);
    for (; attrs[0]; attrs += 2)
        xml_buf_attr(buf, attrs[0], attrs[1]);
    if (extra)
        xml_extra_format_attrs(buf, extra);
    if (extra && extra->children) {
        g_string_append(buf, ">\n");
        xml_extra_format_children(buf, level + 1, extra);
        xml_buf_indent(buf, level);
        g_string_append_printf(buf, "</%s>\n", name);
    } else {
        g_string_append(buf, "/>\n");
    }
}

/* Tap names the host picked at start-up are runtime state, as in libvirt. */
static gboolean net_target_is_generated(const HearthDomainInterface *net, guint flags)
{
    return (flags & DOMAIN_DEF_FORMAT_INACTIVE) && xml_extra_is_empty(&net->target_extra) &&
           (g_str_has_prefix(net->target_dev, "vnet") ||
            g_str_has_prefix(net->target_dev, "macvtap") ||
            g_str_has_prefix(net->target_dev, "macvlan"));
}

void net_format(GString *buf, int level, const HearthDomainInterface *net, guint flags)
{
    xml_buf_indent(buf, level);
    g_string_append(buf, "<interface");
    xml_buf_attr(buf, "type", net->type_name);
    xml_extra_format_attrs(buf, &net->extra);
    g_string_append(buf, ">\n");
    level++;
    if (net->mac)
        net_simple_element(buf, level, "mac", (const char *[]){"address", net->mac, NULL}, NULL);
    if (net->has_source)
        net_simple_element(buf, level, "source",
                           (const char *[]){"network", net->source_network, "bridge",
                                            net->source_bridge, "dev", net->source_dev, NULL},
                           &net->source_extra);
    if (net->target_dev && !net_target_is_generated(net, flags))
        net_simple_element(buf, level, "target", (const char *[]){"dev", net->target_dev, NULL},
                           &net->target_extra);
    if (net->model)
        net_simple_element(buf, level, "model", (const char *[]){"type", net->model, NULL}, NULL);
    device_tail_format(buf, level, &net->info, &net->extra, flags);
    level--;
    xml_buf_indent(buf, level);
    g_string_append(buf, "</interface>\n");
}

void net_free(HearthDomainInterface *net)
{
    if (!net)
        return;
    g_free(net->type_name);
    g_free(net->mac);
    g_free(net->source_network);
    g_free(net->source_bridge);
    g_free(net->source_dev);
    xml_extra_clear(&net->source_extra);
    g_free(net->model);
    g_free(net->target_dev);
    xml_extra_clear(&net->target_extra);
    device_info_clear(&net->info);
    xml_extra_clear(&net->extra);
    g_free(net);
}
