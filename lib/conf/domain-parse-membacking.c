/* <memoryBacking>: hugepages, sharing, locking, source and access. */
#include "domain-internal.h"

static void hugepage_clear(gpointer p)
{
    g_free(((HearthHugepage *)p)->nodeset);
}

static gboolean hugepages_parse(XNode *node, HearthDomainMemoryBacking *mb, GError **error)
{
    XNode *c;

    XML_FOREACH_CHILD(node, c)
    {
        HearthHugepage page = {0, NULL};

        if (!xml_is(c, "page") || !xml_is_simple(c, CONF_ATTRS("size", "unit", "nodeset")) ||
            !xml_prop(c, "size")) {
            conf_error(error, HEARTH_ERR_XML_ERROR,
                       _("unexpected <%s> in <memoryBacking><hugepages> (line %d): expected "
                         "<page size='' [unit=''] [nodeset='']/>"),
                       (const char *)c->name, xml_line(c));
            return FALSE;
        }
        if (!conf_memory_to_kib(xml_prop(c, "size"), xml_prop(c, "unit"), "KiB", "page",
                                &page.size_kib, error))
            return FALSE;
        if (page.size_kib == 0) {
            conf_error(error, HEARTH_ERR_XML_ERROR,
                       _("hugepage size in <memoryBacking> must be positive"));
            return FALSE;
        }
        page.nodeset = xml_prop_dup(c, "nodeset");
        if (page.nodeset && !conf_cpuset_check(page.nodeset)) {
            conf_error(error, HEARTH_ERR_XML_ERROR,
                       _("invalid nodeset '%s' in <memoryBacking><hugepages><page>"), page.nodeset);
            g_free(page.nodeset);
            return FALSE;
        }
        if (!mb->pages) {
            mb->pages = g_array_new(FALSE, FALSE, sizeof(HearthHugepage));
            g_array_set_clear_func(mb->pages, hugepage_clear);
        }
        g_array_append_val(mb->pages, page);
    }
    return TRUE;
}

static gboolean membacking_flag(XNode *c, const char *name, gboolean *flag)
{
    if (!xml_is(c, name) || *flag || !xml_is_simple(c, NULL))
        return FALSE;
    *flag = TRUE;
    return TRUE;
}

gboolean domain_membacking_parse(XNode *node, HearthDomainMemoryBacking *mb, GError **error)
{
    XNode *c;

    mb->present = TRUE;
    xml_extra_collect_attrs(&mb->extra, node, NULL);
    XML_FOREACH_CHILD(node, c)
    {
        if (xml_is(c, "hugepages") && !mb->hugepages && !c->properties && !c->nsDef) {
            mb->hugepages = TRUE;
            if (!hugepages_parse(c, mb, error))
                return FALSE;
        } else if (membacking_flag(c, "nosharepages", &mb->nosharepages) ||
                   membacking_flag(c, "locked", &mb->locked) ||
                   membacking_flag(c, "discard", &mb->discard)) {
            continue;
        } else if (xml_is(c, "source") && !mb->source_type &&
                   xml_is_simple(c, CONF_ATTRS("type"))) {
            if (!conf_prop_enum(c, "type", CONF_ATTRS("file", "anonymous", "memfd"), TRUE,
                                &mb->source_type, error))
                return FALSE;
        } else if (xml_is(c, "access") && !mb->access_mode &&
                   xml_is_simple(c, CONF_ATTRS("mode"))) {
            if (!conf_prop_enum(c, "mode", CONF_ATTRS("shared", "private"), TRUE, &mb->access_mode,
                                error))
                return FALSE;
        } else {
            xml_extra_add_child(&mb->extra, c);
        }
    }
    return TRUE;
}

static void membacking_empty(GString *buf, int level, const char *name, const char *attr,
                             const char *value)
{
    xml_buf_indent(buf, level);
    g_string_append_printf(buf, "<%s", name);
    if (attr)
        xml_buf_attr(buf, attr, value);
    g_string_append(buf, "/>\n");
}

void domain_membacking_format(GString *buf, int level, const HearthDomainMemoryBacking *mb)
{
    guint i;

    if (!mb->present)
        return;
    xml_buf_indent(buf, level);
    g_string_append(buf, "<memoryBacking");
    xml_extra_format_attrs(buf, &mb->extra);
    if (!mb->hugepages && !mb->nosharepages && !mb->locked && !mb->source_type &&
        !mb->access_mode && !mb->discard && !mb->extra.children) {
        g_string_append(buf, "/>\n");
        return;
    }
    g_string_append(buf, ">\n");
    level++;
    if (mb->hugepages && !mb->pages) {
        membacking_empty(buf, level, "hugepages", NULL, NULL);
    } else if (mb->hugepages) {
        xml_buf_indent(buf, level);
        g_string_append(buf, "<hugepages>\n");
        for (i = 0; i < mb->pages->len; i++) {
            const HearthHugepage *p = &g_array_index(mb->pages, HearthHugepage, i);

            xml_buf_indent(buf, level + 1);
            g_string_append_printf(buf, "<page size='%" G_GUINT64_FORMAT "' unit='KiB'",
                                   p->size_kib);
            xml_buf_attr(buf, "nodeset", p->nodeset);
            g_string_append(buf, "/>\n");
        }
        xml_buf_indent(buf, level);
        g_string_append(buf, "</hugepages>\n");
    }
    if (mb->nosharepages)
        membacking_empty(buf, level, "nosharepages", NULL, NULL);
    if (mb->locked)
        membacking_empty(buf, level, "locked", NULL, NULL);
    if (mb->source_type)
        membacking_empty(buf, level, "source", "type", mb->source_type);
    if (mb->access_mode)
        membacking_empty(buf, level, "access", "mode", mb->access_mode);
    if (mb->discard)
        membacking_empty(buf, level, "discard", NULL, NULL);
    xml_extra_format_children(buf, level, &mb->extra);
    level--;
    xml_buf_indent(buf, level);
    g_string_append(buf, "</memoryBacking>\n");
}

void domain_membacking_clear(HearthDomainMemoryBacking *mb)
{
    if (mb->pages)
        g_array_unref(mb->pages);
    g_free(mb->source_type);
    g_free(mb->access_mode);
    xml_extra_clear(&mb->extra);
    memset(mb, 0, sizeof(*mb));
}
