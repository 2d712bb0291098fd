/* Argument list, compact JSON, QemuOpts escaping, errors and XML fragments. */
#include "qemu-command-priv.h"

#include <errno.h>
#include <libxml/parser.h>
#include <stdarg.h>
#include <string.h>

void qemu_cmd_add(QemuCmd *cmd, const char *arg)
{
    g_ptr_array_add(cmd->args, g_strdup(arg));
}

void qemu_cmd_add_pair(QemuCmd *cmd, const char *opt, const char *value)
{
    qemu_cmd_add(cmd, opt);
    qemu_cmd_add(cmd, value);
}

void qemu_cmd_take_pair(QemuCmd *cmd, const char *opt, char *value)
{
    qemu_cmd_add(cmd, opt);
    g_ptr_array_add(cmd->args, value);
}

GString *qemu_json_new(void)
{
    return g_string_new("{");
}

static void json_key(GString *j, const char *key)
{
    if (j->str[j->len - 1] != '{')
        g_string_append_c(j, ',');
    g_string_append_c(j, '"');
    g_string_append(j, key);
    g_string_append(j, "\":");
}

static void json_escape(GString *j, const char *s)
{
    g_string_append_c(j, '"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;

        switch (c) {
        case '"':
            g_string_append(j, "\\\"");
            break;
        case '\\':
            g_string_append(j, "\\\\");
            break;
        case '\n':
            g_string_append(j, "\\n");
            break;
        case '\r':
            g_string_append(j, "\\r");
            break;
        case '\t':
            g_string_append(j, "\\t");
            break;
        default:
            if (c < 0x20)
                g_string_append_printf(j, "\\u%04x", c);
            else
                g_string_append_c(j, (char)c);
        }
    }
    g_string_append_c(j, '"');
}

void qemu_json_str(GString *j, const char *key, const char *value)
{
    if (!value)
        return;
    json_key(j, key);
    json_escape(j, value);
}

void qemu_json_int(GString *j, const char *key, gint64 value)
{
    json_key(j, key);
    g_string_append_printf(j, "%" G_GINT64_FORMAT, value);
}

void qemu_json_bool(GString *j, const char *key, gboolean value)
{
    json_key(j, key);
    g_string_append(j, value ? "true" : "false");
}

void qemu_json_null(GString *j, const char *key)
{
    json_key(j, key);
    g_string_append(j, "null");
}

void qemu_json_raw(GString *j, const char *key, const char *json)
{
    json_key(j, key);
    g_string_append(j, json);
}

char *qemu_json_finish(GString *j)
{
    g_string_append_c(j, '}');
    return g_string_free(j, FALSE);
}

void qemu_opt_escape(GString *buf, const char *value)
{
    for (; *value; value++) {
        if (*value == ',')
            g_string_append_c(buf, ',');
        g_string_append_c(buf, *value);
    }
}

void qemu_unsupported(GError **error, const char *fmt, ...)
{
    g_autofree char *msg = NULL;
    va_list ap;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error(error, HEARTH_ERROR, HEARTH_ERR_CONFIG_UNSUPPORTED,
                _("unsupported configuration: %s"), msg);
}

void qemu_internal(GError **error, const char *fmt, ...)
{
    g_autofree char *msg = NULL;
    va_list ap;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error(error, HEARTH_ERROR, HEARTH_ERR_INTERNAL, _("internal error: %s"), msg);
}

xmlDocPtr qemu_xml_parse(const char *xml, GError **error)
{
    /* Serialized fragments may use prefixes declared on <domain>; those namespace errors
     * are harmless here, so parse quietly and judge only well-formedness. */
    xmlDocPtr doc = xmlReadMemory(xml, (int)strlen(xml), "fragment.xml", NULL,
                                  XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);

    if (!doc || !xmlDocGetRootElement(doc)) {
        if (doc)
            xmlFreeDoc(doc);
        qemu_internal(error, _("cannot read the kept XML element '%.60s'"), xml);
        return NULL;
    }
    return doc;
}

GHashTable *qemu_xml_attrs(const char *xml, char **name, GError **error)
{
    xmlDocPtr doc = qemu_xml_parse(xml, error);
    xmlNodePtr root;
    xmlAttrPtr a;
    GHashTable *attrs;

    if (!doc)
        return NULL;
    root = xmlDocGetRootElement(doc);
    attrs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    for (a = root->properties; a; a = a->next) {
        xmlChar *v = xmlNodeListGetString(doc, a->children, 1);

        g_hash_table_insert(attrs, g_strdup((const char *)a->name), g_strdup(v ? (char *)v : ""));
        xmlFree(v);
    }
    if (name)
        *name = g_strdup((const char *)root->name);
    xmlFreeDoc(doc);
    return attrs;
}

/* The element name at the start of a serialized element. */
static char *xml_element_name(const char *xml)
{
    const char *p = xml, *end;

    while (*p && *p != '<')
        p++;
    if (*p)
        p++;
    end = p;
    while (*end && !g_ascii_isspace(*end) && *end != '/' && *end != '>')
        end++;
    return g_strndup(p, (gsize)(end - p));
}

static gboolean name_in(const char *name, const char *const *list)
{
    for (; list && *list; list++) {
        if (strcmp(*list, name) == 0)
            return TRUE;
    }
    return FALSE;
}

const char *qemu_extra_attr(const HearthXmlExtra *extra, const char *name)
{
    guint i;

    for (i = 0; extra->attrs && i < extra->attrs->len; i++) {
        const HearthXmlAttr *a = g_ptr_array_index(extra->attrs, i);

        if (strcmp(a->name, name) == 0)
            return a->value;
    }
    return NULL;
}

/* "<driver> in <disk> 'vda'", or just "<disk> 'vda'" when @who names @elem itself. */
static char *extra_place(const char *elem, const char *who)
{
    g_autofree char *open = g_strdup_printf("<%s", elem);

    if (!who)
        return g_strdup_printf("<%s>", elem);
    if (g_str_has_prefix(who, open))
        return g_strdup(who);
    return g_strdup_printf("<%s> in %s", elem, who);
}

gboolean qemu_extra_check(const HearthXmlExtra *extra, const char *elem, const char *who,
                          const char *const *attrs, const char *const *children, GError **error)
{
    guint i;

    for (i = 0; extra->attrs && i < extra->attrs->len; i++) {
        const HearthXmlAttr *a = g_ptr_array_index(extra->attrs, i);
        g_autofree char *place = NULL;

        if (g_str_has_prefix(a->name, "xmlns") || name_in(a->name, attrs))
            continue;
        place = extra_place(elem, who);
        qemu_unsupported(error, _("attribute %s='%s' of %s is not supported"), a->name, a->value,
                         place);
        return FALSE;
    }
    for (i = 0; extra->children && i < extra->children->len; i++) {
        g_autofree char *n = xml_element_name(g_ptr_array_index(extra->children, i));
        g_autofree char *place = NULL;

        if (name_in(n, children))
            continue;
        place = extra_place(elem, who);
        qemu_unsupported(error, _("element <%s> in %s is not supported"), n, place);
        return FALSE;
    }
    return TRUE;
}

gboolean qemu_parse_uint(const char *s, guint64 max, guint64 *out)
{
    guint64 v;
    char *end = NULL;

    if (!s || !*s || *s == '-' || *s == '+' || g_ascii_isspace(*s))
        return FALSE;
    errno = 0;
    v = g_ascii_strtoull(s, &end, 0);
    if (errno || !end || *end || v > max)
        return FALSE;
    *out = v;
    return TRUE;
}

gboolean qemu_name_is_safe(const char *s)
{
    if (!s || !*s)
        return FALSE;
    for (; *s; s++) {
        if (!g_ascii_isalnum(*s) && !strchr("-_.+:", *s))
            return FALSE;
    }
    return TRUE;
}
