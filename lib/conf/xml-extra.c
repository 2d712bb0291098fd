#include "xml-extra.h"

#include <string.h>

static void xml_attr_free(gpointer p)
{
    HearthXmlAttr *a = p;

    g_free(a->name);
    g_free(a->value);
    g_free(a);
}

void xml_extra_clear(HearthXmlExtra *extra)
{
    g_clear_pointer(&extra->attrs, g_ptr_array_unref);
    g_clear_pointer(&extra->children, g_ptr_array_unref);
}

gboolean xml_extra_is_empty(const HearthXmlExtra *extra)
{
    return (!extra->attrs || extra->attrs->len == 0) &&
           (!extra->children || extra->children->len == 0);
}

void xml_extra_add_attr(HearthXmlExtra *extra, const char *name, const char *value)
{
    HearthXmlAttr *a = g_new(HearthXmlAttr, 1);

    if (!extra->attrs)
        extra->attrs = g_ptr_array_new_with_free_func(xml_attr_free);
    a->name = g_strdup(name);
    a->value = g_strdup(value);
    g_ptr_array_add(extra->attrs, a);
}

void xml_extra_add_child_xml(HearthXmlExtra *extra, char *xml)
{
    if (!extra->children)
        extra->children = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(extra->children, xml);
}

void xml_extra_add_child(HearthXmlExtra *extra, XNode *node)
{
    xml_extra_add_child_xml(extra, xml_node_serialize(node, FALSE));
}

void xml_extra_copy(HearthXmlExtra *dst, const HearthXmlExtra *src)
{
    guint i;

    memset(dst, 0, sizeof(*dst));
    for (i = 0; src->attrs && i < src->attrs->len; i++) {
        const HearthXmlAttr *a = g_ptr_array_index(src->attrs, i);

        xml_extra_add_attr(dst, a->name, a->value);
    }
    for (i = 0; src->children && i < src->children->len; i++)
        xml_extra_add_child_xml(dst, g_strdup(g_ptr_array_index(src->children, i)));
}

static char *xml_qualified_name(XNs *ns, const char *name)
{
    if (ns && ns->prefix)
        return g_strdup_printf("%s:%s", (const char *)ns->prefix, (const char *)name);
    return g_strdup((const char *)name);
}

void xml_extra_collect_attrs(HearthXmlExtra *extra, XNode *node, const char *const *known)
{
    XAttr *attr;
    XNs *ns;

    for (ns = node->nsDef; ns; ns = ns->next) {
        g_autofree char *name =
            ns->prefix ? g_strdup_printf("xmlns:%s", (const char *)ns->prefix) : g_strdup("xmlns");

        xml_extra_add_attr(extra, name, (const char *)ns->href);
    }
    for (attr = node->properties; attr; attr = attr->next) {
        const char *const *k;
        gboolean found = FALSE;
        g_autofree char *qname = NULL;

        if (!attr->ns) {
            for (k = known; k && *k; k++) {
                if (strcmp(*k, (const char *)attr->name) == 0) {
                    found = TRUE;
                    break;
                }
            }
        }
        if (found)
            continue;
        qname = xml_qualified_name(attr->ns, attr->name);
        xml_extra_add_attr(extra, qname, attr->value);
    }
}

/* ---- output helpers ---- */

void xml_buf_indent(GString *buf, int level)
{
    static const char spaces[] = "                                                                ";
    int n = level * 2;

    while (n > 0) {
        int chunk = MIN(n, (int)sizeof(spaces) - 1);

        g_string_append_len(buf, spaces, chunk);
        n -= chunk;
    }
}

static void xml_buf_escape(GString *buf, const char *s, gboolean attr, gboolean newlines)
{
    const char *run = s;

    for (; *s; s++) {
        const char *rep = NULL;

        switch (*s) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '\'':
            rep = attr ? "&apos;" : NULL;
            break;
        case '"':
            rep = attr ? "&quot;" : NULL;
            break;
        case '\n':
            rep = (attr || newlines) ? "&#10;" : NULL;
            break;
        case '\r':
            rep = "&#13;";
            break;
        case '\t':
            rep = attr ? "&#9;" : NULL;
            break;
        default:
            break;
        }
        if (rep) {
            g_string_append_len(buf, run, s - run);
            g_string_append(buf, rep);
            run = s + 1;
        }
    }
    g_string_append_len(buf, run, s - run);
}

void xml_buf_escape_attr(GString *buf, const char *value)
{
    xml_buf_escape(buf, value, TRUE, TRUE);
}

void xml_buf_escape_text(GString *buf, const char *text)
{
    xml_buf_escape(buf, text, FALSE, FALSE);
}

void xml_buf_attr(GString *buf, const char *name, const char *value)
{
    if (!value)
        return;
    g_string_append_c(buf, ' ');
    g_string_append(buf, name);
    g_string_append(buf, "='");
    xml_buf_escape_attr(buf, value);
    g_string_append_c(buf, '\'');
}

void xml_buf_attr_uint(GString *buf, const char *name, guint64 value)
{
    g_string_append_printf(buf, " %s='%" G_GUINT64_FORMAT "'", name, value);
}

void xml_buf_text_element(GString *buf, int level, const char *name, const char *text)
{
    if (!text)
        return;
    xml_buf_indent(buf, level);
    if (!*text) {
        g_string_append_printf(buf, "<%s/>\n", name);
        return;
    }
    g_string_append_printf(buf, "<%s>", name);
    xml_buf_escape_text(buf, text);
    g_string_append_printf(buf, "</%s>\n", name);
}

void xml_buf_fragment(GString *buf, int level, const char *xml)
{
    const char *nl;

    xml_buf_indent(buf, level);
    while ((nl = strchr(xml, '\n'))) {
        g_string_append_len(buf, xml, nl - xml + 1);
        xml_buf_indent(buf, level);
        xml = nl + 1;
    }
    g_string_append(buf, xml);
    g_string_append_c(buf, '\n');
}

void xml_extra_format_attrs(GString *buf, const HearthXmlExtra *extra)
{
    guint i;

    for (i = 0; extra->attrs && i < extra->attrs->len; i++) {
        const HearthXmlAttr *a = g_ptr_array_index(extra->attrs, i);

        xml_buf_attr(buf, a->name, a->value);
    }
}

void xml_extra_format_children(GString *buf, int level, const HearthXmlExtra *extra)
{
    guint i;

    for (i = 0; extra->children && i < extra->children->len; i++)
        xml_buf_fragment(buf, level, g_ptr_array_index(extra->children, i));
}

gboolean xml_fragment_is(const char *xml, const char *name)
{
    gsize n = strlen(name);

    return xml[0] == '<' && strncmp(xml + 1, name, n) == 0 &&
           (xml[n + 1] == ' ' || xml[n + 1] == '>' || xml[n + 1] == '/');
}

void xml_extra_format_children_named(GString *buf, int level, const HearthXmlExtra *extra,
                                     const char *name, gboolean named)
{
    guint i;

    for (i = 0; extra->children && i < extra->children->len; i++) {
        const char *x = g_ptr_array_index(extra->children, i);

        if (xml_fragment_is(x, name) == named)
            xml_buf_fragment(buf, level, x);
    }
}

/* ---- subtree serialization ---- */

typedef struct {
    XNode *root;
    gboolean self_contained;
    GPtrArray *decls; /* XNs *needed on the fragment root */
} SerializeCtx;

static gboolean ns_declared_between(XNode *node, XNode *root, XNs *ns)
{
    for (; node; node = node->parent) {
        XNs *d;

        for (d = node->nsDef; d; d = d->next) {
            if (d == ns)
                return TRUE;
        }
        if (node == root)
            break;
    }
    return FALSE;
}

static gboolean ns_declared_on_doc_root(XNode *node, XNs *ns)
{
    XNode *top = node;
    XNs *d;

    while (top->parent)
        top = top->parent;
    for (d = top->nsDef; d; d = d->next) {
        if (d == ns)
            return TRUE;
    }
    return FALSE;
}

static void serialize_need_ns(SerializeCtx *ctx, XNode *node, XNs *ns)
{
    guint i;

    if (!ns || (ns->prefix && strcmp((const char *)ns->prefix, "xml") == 0))
        return;
    if (ns_declared_between(node, ctx->root, ns))
        return;
    if (!ctx->self_contained && ns_declared_on_doc_root(node, ns))
        return;
    for (i = 0; i < ctx->decls->len; i++) {
        XNs *d = g_ptr_array_index(ctx->decls, i);

        if (g_strcmp0((const char *)d->prefix, (const char *)ns->prefix) == 0)
            return;
    }
    g_ptr_array_add(ctx->decls, ns);
}

static void serialize_collect_ns(SerializeCtx *ctx, XNode *node)
{
    XNode *c;
    XAttr *a;

    serialize_need_ns(ctx, node, node->ns);
    for (a = node->properties; a; a = a->next)
        serialize_need_ns(ctx, node, a->ns);
    for (c = node->children; c; c = c->next) {
        if (c->type == XNODE_ELEMENT)
            serialize_collect_ns(ctx, c);
    }
}

static void serialize_ns_decl(GString *buf, XNs *ns)
{
    if (ns->prefix) {
        g_string_append_printf(buf, " xmlns:%s='", (const char *)ns->prefix);
    } else {
        g_string_append(buf, " xmlns='");
    }
    xml_buf_escape_attr(buf, ns->href ? (const char *)ns->href : "");
    g_string_append_c(buf, '\'');
}

static gboolean text_is_blank(const char *s)
{
    for (; s && *s; s++) {
        if (!g_ascii_isspace(*s))
            return FALSE;
    }
    return TRUE;
}

static void serialize_node(SerializeCtx *ctx, GString *buf, XNode *node, int level)
{
    XNode *c;
    XAttr *a;
    XNs *d;
    gboolean has_elements = FALSE, has_text = FALSE, mixed = FALSE;
    g_autofree char *qname = xml_qualified_name(node->ns, node->name);

    g_string_append_c(buf, '<');
    g_string_append(buf, qname);
    if (node == ctx->root) {
        guint i;

        for (i = 0; i < ctx->decls->len; i++)
            serialize_ns_decl(buf, g_ptr_array_index(ctx->decls, i));
    }
    for (d = node->nsDef; d; d = d->next)
        serialize_ns_decl(buf, d);
    for (a = node->properties; a; a = a->next) {
        g_autofree char *aname = xml_qualified_name(a->ns, a->name);

        xml_buf_attr(buf, aname, a->value);
    }

    for (c = node->children; c; c = c->next) {
        if (c->type == XNODE_ELEMENT) {
            has_elements = TRUE;
        } else if (c->type == XNODE_TEXT) {
            has_text = TRUE;
            if (!text_is_blank(c->content))
                mixed = TRUE;
        }
    }
    if (!has_elements && !has_text) {
        g_string_append(buf, "/>");
        return;
    }
    g_string_append_c(buf, '>');
    if (!has_elements || mixed) {
        /* Text is significant here: reproduce children inline, no added whitespace. */
        for (c = node->children; c; c = c->next) {
            if (c->type == XNODE_ELEMENT)
                serialize_node(ctx, buf, c, level);
            else if (c->type == XNODE_TEXT)
                xml_buf_escape(buf, (const char *)c->content, FALSE, TRUE);
        }
    } else {
        for (c = node->children; c; c = c->next) {
            if (c->type != XNODE_ELEMENT)
                continue;
            g_string_append_c(buf, '\n');
            xml_buf_indent(buf, level + 1);
            serialize_node(ctx, buf, c, level + 1);
        }
        g_string_append_c(buf, '\n');
        xml_buf_indent(buf, level);
    }
    g_string_append(buf, "</");
    g_string_append(buf, qname);
    g_string_append_c(buf, '>');
}

char *xml_node_serialize(XNode *node, gboolean self_contained)
{
    SerializeCtx ctx = {node, self_contained, NULL};
    GString *buf = g_string_sized_new(128);

    ctx.decls = g_ptr_array_new();
    serialize_collect_ns(&ctx, node);
    serialize_node(&ctx, buf, node, 0);
    g_ptr_array_unref(ctx.decls);
    return g_string_free(buf, FALSE);
}
