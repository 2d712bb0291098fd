/* <graphics>: ports, listen addresses, password (only in secure output). */
#include "domain-internal.h"

static const char *const graphics_types[] = {"sdl",   "vnc",          "rdp",  "desktop",
                                             "spice", "egl-headless", "dbus", NULL};

static void listen_free(gpointer p)
{
    HearthGraphicsListen *l = p;

    g_free(l->type);
    g_free(l->address);
    g_free(l->network);
    g_free(l->socket);
    xml_extra_clear(&l->extra);
    g_free(l);
}

static gboolean graphics_port_parse(XNode *node, const char *attr, int *out, GError **error)
{
    const char *s = xml_prop(node, attr);
    guint64 v;

    if (!s)
        return TRUE;
    if (strcmp(s, "-1") == 0) {
        *out = -1;
        return TRUE;
    }
    if (!conf_parse_uint(s, 65535, &v)) {
        conf_error(error, HEARTH_ERR_XML_ERROR,
                   _("invalid %s '%s' in <graphics>: expected -1 or a port number"), attr, s);
        return FALSE;
    }
    *out = (int)v;
    return TRUE;
}

static gboolean graphics_listen_parse(XNode *c, HearthDomainGraphics *gr, GError **error)
{
    HearthGraphicsListen *l = g_new0(HearthGraphicsListen, 1);
    XNode *t;

    g_ptr_array_add(gr->listens, l);
    if (!conf_prop_enum(c, "type", CONF_ATTRS("address", "network", "socket", "none"), TRUE,
                        &l->type, error))
        return FALSE;
    xml_extra_collect_attrs(&l->extra, c, CONF_ATTRS("type", "address", "network", "socket"));
    l->address = xml_prop_dup(c, "address");
    l->network = xml_prop_dup(c, "network");
    l->socket = xml_prop_dup(c, "socket");
    XML_FOREACH_CHILD(c, t)
    xml_extra_add_child(&l->extra, t);
    return TRUE;
}

gboolean graphics_parse(XNode *node, HearthDomainGraphics *gr, GError **error)
{
    const char *listen_attr = xml_prop(node, "listen");
    HearthGraphicsListen *first;
    XNode *c;

    gr->listens = g_ptr_array_new_with_free_func(listen_free);
    if (!conf_prop_enum(node, "type", graphics_types, TRUE, &gr->type, error))
        return FALSE;
    xml_extra_collect_attrs(
        &gr->extra, node,
        CONF_ATTRS("type", "port", "tlsPort", "autoport", "listen", "passwd", "keymap"));
    if (!graphics_port_parse(node, "port", &gr->port, error) ||
        !graphics_port_parse(node, "tlsPort", &gr->tls_port, error) ||
        !conf_prop_tristate(node, "autoport", FALSE, &gr->autoport, error))
        return FALSE;
    if ((gr->port == -1 || gr->tls_port == -1) && gr->autoport == HEARTH_TRISTATE_ABSENT)
        gr->autoport = HEARTH_TRISTATE_YES;
    gr->passwd = xml_prop_dup(node, "passwd");
    gr->keymap = xml_prop_dup(node, "keymap");

    XML_FOREACH_CHILD(node, c)
    {
        int r;

        if (xml_is(c, "listen")) {
            if (!graphics_listen_parse(c, gr, error))
                return FALSE;
        } else if ((r = device_info_parse_child(&gr->info, c, FALSE, error)) != 0) {
            if (r < 0)
                return FALSE;
        } else {
            xml_extra_add_child(&gr->extra, c);
        }
    }

    /* The legacy listen='' attribute is the first address listen, as in libvirt. */
    if (listen_attr) {
        first = gr->listens->len ? g_ptr_array_index(gr->listens, 0) : NULL;
        if (!first) {
            first = g_new0(HearthGraphicsListen, 1);
            first->type = g_strdup("address");
            first->address = g_strdup(listen_attr);
            g_ptr_array_add(gr->listens, first);
        } else if (g_strcmp0(first->type, "address") != 0 ||
                   g_strcmp0(first->address, listen_attr) != 0) {
            conf_error(error, HEARTH_ERR_XML_ERROR,
                       _("graphics 'listen' attribute '%s' must match the 'address' attribute "
                         "of the first <listen> element"),
                       listen_attr);
            return FALSE;
        }
    }
    return TRUE;
}

void graphics_format(GString *buf, int level, const HearthDomainGraphics *gr, guint flags)
{
    const HearthGraphicsListen *first = NULL;
    gboolean autoport = gr->autoport == HEARTH_TRISTATE_YES;
    guint i;

    if (gr->listens && gr->listens->len)
        first = g_ptr_array_index(gr->listens, 0);
    xml_buf_indent(buf, level);
    g_string_append(buf, "<graphics");
    xml_buf_attr(buf, "type", gr->type);
    /* Automatically chosen ports are runtime state. */
    if (gr->port > 0 && !(autoport && (flags & DOMAIN_DEF_FORMAT_INACTIVE)))
        g_string_append_printf(buf, " port='%d'", gr->port);
    else if (gr->port != 0 || (autoport && gr->tls_port == 0))
        g_string_append(buf, " port='-1'");
    if (gr->tls_port > 0 && !(autoport && (flags & DOMAIN_DEF_FORMAT_INACTIVE)))
        g_string_append_printf(buf, " tlsPort='%d'", gr->tls_port);
    else if (gr->tls_port != 0)
        g_string_append(buf, " tlsPort='-1'");
    xml_buf_attr(buf, "autoport", conf_tristate_str(gr->autoport, FALSE));
    if (first && g_strcmp0(first->type, "address") == 0)
        xml_buf_attr(buf, "listen", first->address);
    if (flags & DOMAIN_DEF_FORMAT_SECURE)
        xml_buf_attr(buf, "passwd", gr->passwd);
    xml_buf_attr(buf, "keymap", gr->keymap);
    xml_extra_format_attrs(buf, &gr->extra);
    if (!first && !gr->extra.children && !gr->info.alias && !gr->info.address) {
        g_string_append(buf, "/>\n");
        return;
    }
    g_string_append(buf, ">\n");
    for (i = 0; gr->listens && i < gr->listens->len; i++) {
        const HearthGraphicsListen *l = g_ptr_array_index(gr->listens, i);

        xml_buf_indent(buf, level + 1);
        g_string_append(buf, "<listen");
        xml_buf_attr(buf, "type", l->type);
        xml_buf_attr(buf, "address", l->address);
        xml_buf_attr(buf, "network", l->network);
        xml_buf_attr(buf, "socket", l->socket);
        xml_extra_format_attrs(buf, &l->extra);
        if (l->extra.children) {
            g_string_append(buf, ">\n");
            xml_extra_format_children(buf, level + 2, &l->extra);
            xml_buf_indent(buf, level + 1);
            g_string_append(buf, "</listen>\n");
        } else {
            g_string_append(buf, "/>\n");
        }
    }
    device_tail_format(buf, level + 1, &gr->info, &gr->extra, flags);
    xml_buf_indent(buf, level);
    g_string_append(buf, "</graphics>\n");
}

void graphics_free(HearthDomainGraphics *gr)
{
    if (!gr)
        return;
    g_free(gr->type);
    g_free(gr->passwd);
    g_free(gr->keymap);
    g_clear_pointer(&gr->listens, g_ptr_array_unref);
    device_info_clear(&gr->info);
    xml_extra_clear(&gr->extra);
    g_free(gr);
}
