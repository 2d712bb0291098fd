#include "domain-internal.h"

#include <stdarg.h>

XNode *xml_first_element(XNode *parent)
{
    XNode *c;

    for (c = parent->children; c; c = c->next) {
        if (c->type == XNODE_ELEMENT)
            return c;
    }
    return NULL;
}

XNode *xml_walk_children(XNode *parent)
{
    parent->walked = TRUE;
    return xml_first_element(parent);
}

gboolean xml_check_stray_text(XNode *node, GError **error)
{
    XNode *c;

    for (c = node->children; c; c = c->next) {
        if (c->type == XNODE_ELEMENT) {
            if (!xml_check_stray_text(c, error))
                return FALSE;
            continue;
        }
        if (node->walked && !node->text_read) {
            const char *p = c->content;

            while (g_ascii_isspace(*p))
                p++;
            if (*p) {
                g_autofree char *text = g_strndup(p, 40);

                conf_error(error, HEARTH_ERR_XML_ERROR, _("unexpected text '%s' in <%s> (line %d)"),
                           g_strstrip(text), node->name, node->line);
                return FALSE;
            }
        }
    }
    return TRUE;
}

XNode *xml_next_element(XNode *node)
{
    for (node = node->next; node; node = node->next) {
        if (node->type == XNODE_ELEMENT)
            return node;
    }
    return NULL;
}

const char *xml_prop(XNode *node, const char *name)
{
    XAttr *a;

    for (a = node->properties; a; a = a->next) {
        if (!a->ns && strcmp(a->name, name) == 0)
            return a->value;
    }
    return NULL;
}

char *xml_prop_dup(XNode *node, const char *name)
{
    return g_strdup(xml_prop(node, name));
}

char *xml_text_dup(XNode *node)
{
    XNode *c;
    GString *s = NULL;

    node->text_read = TRUE;
    /* Fast path: a single text child. */
    c = node->children;
    if (c && !c->next && c->type == XNODE_TEXT)
        return g_strdup((const char *)c->content);
    s = g_string_new(NULL);
    for (; c; c = c->next) {
        if (c->type == XNODE_TEXT)
            g_string_append(s, (const char *)c->content);
    }
    return g_string_free(s, FALSE);
}

gboolean xml_is_simple(XNode *node, const char *const *known)
{
    XAttr *a;

    if (node->nsDef || xml_first_element(node))
        return FALSE;
    for (a = node->properties; a; a = a->next) {
        if (a->ns || conf_enum_index(known, (const char *)a->name) < 0)
            return FALSE;
    }
    return TRUE;
}

int xml_line(XNode *node)
{
    return node->line;
}

void conf_error(GError **error, int code, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    if (error && !*error)
        *error = g_error_new_valist(HEARTH_ERROR, code, fmt, ap);
    va_end(ap);
}

gboolean conf_parse_uint(const char *s, guint64 max, guint64 *out)
{
    guint64 v = 0;
    const char *p = s;

    if (!s)
        return FALSE;
    while (g_ascii_isspace(*p))
        p++;
    if (!g_ascii_isdigit(*p))
        return FALSE;
    for (; g_ascii_isdigit(*p); p++) {
        guint d = (guint)(*p - '0');

        if (v > (G_MAXUINT64 - d) / 10)
            return FALSE;
        v = v * 10 + d;
    }
    while (g_ascii_isspace(*p))
        p++;
    if (*p || v > max)
        return FALSE;
    *out = v;
    return TRUE;
}

gboolean conf_prop_uint(XNode *node, const char *attr, guint64 max, guint64 *out, GError **error)
{
    const char *s = xml_prop(node, attr);

    if (!s)
        return TRUE;
    if (!conf_parse_uint(s, max, out)) {
        conf_error(error, HEARTH_ERR_XML_ERROR,
                   _("invalid value '%s' for attribute '%s' of <%s>: expected an integer "
                     "between 0 and %" G_GUINT64_FORMAT),
                   s, attr, (const char *)node->name, max);
        return FALSE;
    }
    return TRUE;
}

static const char *const tristate_yesno[] = {"", "yes", "no", NULL};
static const char *const tristate_onoff[] = {"", "on", "off", NULL};

const char *conf_tristate_str(HearthTristate t, gboolean onoff)
{
    if (t == HEARTH_TRISTATE_ABSENT)
        return NULL;
    return onoff ? tristate_onoff[t] : tristate_yesno[t];
}

gboolean conf_prop_tristate(XNode *node, const char *attr, gboolean onoff, HearthTristate *out,
                            GError **error)
{
    const char *s = xml_prop(node, attr);
    const char *const *vals = onoff ? tristate_onoff : tristate_yesno;

    if (!s) {
        *out = HEARTH_TRISTATE_ABSENT;
        return TRUE;
    }
    if (strcmp(s, vals[1]) == 0) {
        *out = HEARTH_TRISTATE_YES;
    } else if (strcmp(s, vals[2]) == 0) {
        *out = HEARTH_TRISTATE_NO;
    } else {
        conf_error(error, HEARTH_ERR_XML_ERROR,
                   _("invalid value '%s' for attribute '%s' of <%s>: expected '%s' or '%s'"), s,
                   attr, (const char *)node->name, vals[1], vals[2]);
        return FALSE;
    }
    return TRUE;
}

int conf_enum_index(const char *const *values, const char *s)
{
    int i;

    for (i = 0; s && values && values[i]; i++) {
        if (strcmp(values[i], s) == 0)
            return i;
    }
    return -1;
}

gboolean conf_prop_enum(XNode *node, const char *attr, const char *const *values, gboolean required,
                        char **out, GError **error)
{
    const char *s = xml_prop(node, attr);

    if (!s) {
        if (required) {
            conf_error(error, HEARTH_ERR_XML_ERROR, _("missing attribute '%s' in <%s>"), attr,
                       (const char *)node->name);
            return FALSE;
        }
        return TRUE;
    }
    if (values && conf_enum_index(values, s) < 0) {
        g_autofree char *list = g_strjoinv("', '", (char **)values);

        conf_error(error, HEARTH_ERR_XML_ERROR,
                   _("invalid value '%s' for attribute '%s' of <%s> (expected one of '%s')"), s,
                   attr, (const char *)node->name, list);
        return FALSE;
    }
    g_free(*out);
    *out = g_strdup(s);
    return TRUE;
}

/* libvirt's scaled integers: a bare letter or "XiB" is a power of 1024, "XB" of 1000. */
static gboolean memory_unit_scale(const char *unit, guint64 *scale)
{
    static const char letters[] = "kmgtpe";
    const char *pos;
    gsize len = strlen(unit);
    guint64 base, s = 1;
    int i, power;

    if (strcmp(unit, "b") == 0 || strcmp(unit, "bytes") == 0) {
        *scale = 1;
        return TRUE;
    }
    if (len == 0 || len > 3)
        return FALSE;
    pos = strchr(letters, g_ascii_tolower(unit[0]));
    if (!pos || !unit[0])
        return FALSE;
    power = (int)(pos - letters) + 1;
    if (len == 1 || (len == 3 && unit[1] == 'i' && unit[2] == 'B'))
        base = 1024;
    else if (len == 2 && unit[1] == 'B')
        base = 1000;
    else
        return FALSE;
    for (i = 0; i < power; i++)
        s *= base;
    *scale = s;
    return TRUE;
}

gboolean conf_memory_to_kib(const char *value, const char *unit, const char *default_unit,
                            const char *elem, guint64 *kib, GError **error)
{
    g_autofree char *text = g_strstrip(g_strdup(value ? value : ""));
    guint64 scale, v;

    if (!unit)
        unit = default_unit;
    if (!memory_unit_scale(unit, &scale)) {
        conf_error(error, HEARTH_ERR_XML_ERROR, _("invalid memory unit '%s' in <%s>"), unit, elem);
        return FALSE;
    }
    if (!conf_parse_uint(text, G_MAXUINT64, &v)) {
        conf_error(error, HEARTH_ERR_XML_ERROR, _("<%s> must be a non-negative integer, got '%s'"),
                   elem, text);
        return FALSE;
    }
    /* Bytes are rounded up to whole KiB, as libvirt does. */
    if (v > G_MAXUINT64 / scale || v * scale > G_MAXINT64) {
        conf_error(error, HEARTH_ERR_XML_ERROR, _("memory size '%s %s' in <%s> is too large"), text,
                   unit, elem);
        return FALSE;
    }
    *kib = (v * scale + 1023) / 1024;
    return TRUE;
}

gboolean conf_parse_memory(XNode *node, const char *unit_attr, const char *default_unit,
                           guint64 *kib, GError **error)
{
    g_autofree char *text = xml_text_dup(node);

    return conf_memory_to_kib(text, xml_prop(node, unit_attr), default_unit,
                              (const char *)node->name, kib, error);
}

/* "0-3,^2,8" style CPU lists. */
gboolean conf_cpuset_check(const char *s)
{
    const char *p = s;

    if (!s || !*s)
        return FALSE;
    for (;;) {
        guint64 a = 0, b = 0;

        while (*p == ' ')
            p++;
        if (*p == '^')
            p++;
        if (!g_ascii_isdigit(*p))
            return FALSE;
        while (g_ascii_isdigit(*p)) {
            a = a * 10 + (guint64)(*p++ - '0');
            if (a > 65535)
                return FALSE;
        }
        if (*p == '-') {
            p++;
            if (!g_ascii_isdigit(*p))
                return FALSE;
            while (g_ascii_isdigit(*p)) {
                b = b * 10 + (guint64)(*p++ - '0');
                if (b > 65535)
                    return FALSE;
            }
            if (b < a)
                return FALSE;
        }
        while (*p == ' ')
            p++;
        if (*p == '\0')
            return TRUE;
        if (*p != ',')
            return FALSE;
        p++;
    }
}
