/* Character devices: <serial>, <console>, <parallel>, <channel>. */
#include "domain-internal.h"

static const char *const chr_kinds[] = {"serial", "console", "parallel", "channel", NULL};
static const char *const chr_types[] = {
    "null", "vc",   "pty",      "dev",       "file", "pipe",         "stdio", "udp",
    "tcp",  "unix", "spicevmc", "spiceport", "nmdm", "qemu-vdagent", "dbus",  NULL};

static void chr_children_to_extra(HearthXmlExtra *extra, XNode *node)
{
    XNode *c;

    XML_FOREACH_CHILD(node, c)
    xml_extra_add_child(extra, c);
}

gboolean chr_parse(XNode *node, HearthDomainChr *chr, GError **error)
{
    XNode *c;
    guint64 port;

    chr->kind = (HearthChrKind)conf_enum_index(chr_kinds, (const char *)node->name);
    chr->target_port = -1;
    if (!xml_prop(node, "type")) {
        chr->type = g_strdup("pty"); /* libvirt's default */
    } else if (!conf_prop_enum(node, "type", chr_types, FALSE, &chr->type, error)) {
        return FALSE;
    }
    xml_extra_collect_attrs(&chr->extra, node, CONF_ATTRS("type"));

    XML_FOREACH_CHILD(node, c)
    {
        int r;

        if (xml_is(c, "source") && !chr->has_source) {
            chr->has_source = TRUE;
            xml_extra_collect_attrs(&chr->source_extra, c,
                                    CONF_ATTRS("path", "mode", "host", "service"));
            chr->source_path = xml_prop_dup(c, "path");
            chr->source_host = xml_prop_dup(c, "host");
            chr->source_service = xml_prop_dup(c, "service");
            if (!conf_prop_enum(c, "mode", CONF_ATTRS("bind", "connect"), FALSE, &chr->source_mode,
                                error))
                return FALSE;
            chr_children_to_extra(&chr->source_extra, c);
        } else if (xml_is(c, "target") && !chr->has_target) {
            chr->has_target = TRUE;
            xml_extra_collect_attrs(&chr->target_extra, c, CONF_ATTRS("type", "port", "name"));
            chr->target_type = xml_prop_dup(c, "type");
            chr->target_name = xml_prop_dup(c, "name");
            if (xml_prop(c, "port")) {
                if (!conf_prop_uint(c, "port", G_MAXINT, &port, error))
                    return FALSE;
                chr->target_port = (int)port;
            }
            chr_children_to_extra(&chr->target_extra, c);
        } else if (xml_is(c, "log") && !chr->log_file && xml_prop(c, "file") &&
                   xml_is_simple(c, CONF_ATTRS("file", "append"))) {
            chr->log_file = xml_prop_dup(c, "file");
            if (!conf_prop_tristate(c, "append", TRUE, &chr->log_append, error))
                return FALSE;
        } else if ((r = device_info_parse_child(&chr->info, c, FALSE, error)) != 0) {
            if (r < 0)
                return FALSE;
        } else {
            xml_extra_add_child(&chr->extra, c);
        }
    }
    return TRUE;
}

void chr_format(GString *buf, int level, const HearthDomainChr *chr, guint flags)
{
    const char *name = chr_kinds[chr->kind];
    /* A pty path is allocated at start-up: not part of the persistent config. */
    gboolean hide_path = (flags & DOMAIN_DEF_FORMAT_INACTIVE) && g_strcmp0(chr->type, "pty") == 0;
    const char *path = hide_path ? NULL : chr->source_path;

    xml_buf_indent(buf, level);
    g_string_append_printf(buf, "<%s", name);
    xml_buf_attr(buf, "type", chr->type);
    xml_extra_format_attrs(buf, &chr->extra);
    g_string_append(buf, ">\n");
    level++;
    if (chr->has_source && (path || chr->source_mode || chr->source_host || chr->source_service ||
                            !xml_extra_is_empty(&chr->source_extra) || !hide_path)) {
        xml_buf_indent(buf, level);
        g_string_append(buf, "<source");
        xml_buf_attr(buf, "mode", chr->source_mode);
        xml_buf_attr(buf, "path", path);
        xml_buf_attr(buf, "host", chr->source_host);
        xml_buf_attr(buf, "service", chr->source_service);
        xml_extra_format_attrs(buf, &chr->source_extra);
        if (chr->source_extra.children) {
            g_string_append(buf, ">\n");
            xml_extra_format_children(buf, level + 1, &chr->source_extra);
            xml_buf_indent(buf, level);
            g_string_append(buf, "</source>\n");
        } else {
            g_string_append(buf, "/>\n");
        }
    }
    if (chr->log_file) {
        xml_buf_indent(buf, level);
        g_string_append(buf, "<log");
        xml_buf_attr(buf, "file", chr->log_file);
        xml_buf_attr(buf, "append", conf_tristate_str(chr->log_append, TRUE));
        g_string_append(buf, "/>\n");
    }
    if (chr->has_target) {
        xml_buf_indent(buf, level);
        g_string_append(buf, "<target");
        xml_buf_attr(buf, "type", chr->target_type);
        xml_buf_attr(buf, "name", chr->target_name);
        if (chr->target_port >= 0)
            g_string_append_printf(buf, " port='%d'", chr->target_port);
        xml_extra_format_attrs(buf, &chr->target_extra);
        if (chr->target_extra.children) {
            g_string_append(buf, ">\n");
            xml_extra_format_children(buf, level + 1, &chr->target_extra);
            xml_buf_indent(buf, level);
            g_string_append(buf, "</target>\n");
        } else {
            g_string_append(buf, "/>\n");
        }
    }
    device_tail_format(buf, level, &chr->info, &chr->extra, flags);
    level--;
    xml_buf_indent(buf, level);
    g_string_append_printf(buf, "</%s>\n", name);
}

void chr_free(HearthDomainChr *chr)
{
    if (!chr)
        return;
    g_free(chr->type);
    g_free(chr->source_path);
    g_free(chr->source_mode);
    g_free(chr->source_host);
    g_free(chr->source_service);
    xml_extra_clear(&chr->source_extra);
    g_free(chr->target_type);
    g_free(chr->target_name);
    xml_extra_clear(&chr->target_extra);
    g_free(chr->log_file);
    device_info_clear(&chr->info);
    xml_extra_clear(&chr->extra);
    g_free(chr);
}
