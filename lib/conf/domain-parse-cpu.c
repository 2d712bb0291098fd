/* <cpu>: mode, model, vendor, topology, features; cache and numa stay verbatim. */
#include "domain-internal.h"

static void cpu_feature_free(gpointer p)
{
    HearthCpuFeature *f = p;

    g_free(f->name);
    g_free(f->policy);
    g_free(f);
}

static gboolean cpu_topology_parse(XNode *c, HearthDomainCpu *cpu, GError **error)
{
    static const char *const names[] = {"sockets", "dies", "cores", "threads"};
    guint *fields[] = {&cpu->sockets, &cpu->dies, &cpu->cores, &cpu->threads};
    int i;

    for (i = 0; i < 4; i++) {
        guint64 v = 0;

        if (!xml_prop(c, names[i])) {
            if (i == 1)
                continue; /* dies is optional */
            conf_error(error, HEARTH_ERR_XML_ERROR, _("missing attribute '%s' in <cpu><topology>"),
                       names[i]);
            return FALSE;
        }
        if (!conf_prop_uint(c, names[i], G_MAXUINT, &v, error))
            return FALSE;
        if (v == 0) {
            conf_error(error, HEARTH_ERR_XML_ERROR,
                       _("attribute '%s' of <cpu><topology> must be a positive integer"), names[i]);
            return FALSE;
        }
        *fields[i] = (guint)v;
    }
    cpu->has_topology = TRUE;
    return TRUE;
}

static gboolean cpu_feature_parse(XNode *c, HearthDomainCpu *cpu, GError **error)
{
    HearthCpuFeature *f = g_new0(HearthCpuFeature, 1);

    g_ptr_array_add(cpu->features, f);
    if (!conf_prop_enum(c, "name", NULL, TRUE, &f->name, error) ||
        !conf_prop_enum(c, "policy",
                        CONF_ATTRS("force", "require", "optional", "disable", "forbid"), FALSE,
                        &f->policy, error))
        return FALSE;
    if (!f->policy)
        f->policy = g_strdup("require");
    return TRUE;
}

gboolean domain_cpu_parse(XNode *node, HearthDomainCpu *cpu, GError **error)
{
    XNode *c;

    cpu->present = TRUE;
    cpu->features = g_ptr_array_new_with_free_func(cpu_feature_free);
    if (!conf_prop_enum(node, "mode",
                        CONF_ATTRS("custom", "host-model", "host-passthrough", "maximum"), FALSE,
                        &cpu->mode, error) ||
        !conf_prop_enum(node, "match", CONF_ATTRS("minimum", "exact", "strict"), FALSE, &cpu->match,
                        error) ||
        !conf_prop_enum(node, "check", CONF_ATTRS("none", "partial", "full"), FALSE, &cpu->check,
                        error))
        return FALSE;
    xml_extra_collect_attrs(&cpu->extra, node, CONF_ATTRS("mode", "match", "check"));

    XML_FOREACH_CHILD(node, c)
    {
        if (xml_is(c, "model") && !cpu->model && !xml_first_element(c)) {
            if (!conf_prop_enum(c, "fallback", CONF_ATTRS("allow", "forbid"), FALSE,
                                &cpu->model_fallback, error))
                return FALSE;
            xml_extra_collect_attrs(&cpu->model_extra, c, CONF_ATTRS("fallback"));
            cpu->model = g_strstrip(xml_text_dup(c));
        } else if (xml_is(c, "vendor") && !cpu->vendor && xml_is_simple(c, NULL)) {
            cpu->vendor = g_strstrip(xml_text_dup(c));
        } else if (xml_is(c, "topology") && !cpu->has_topology &&
                   xml_is_simple(c, CONF_ATTRS("sockets", "dies", "cores", "threads"))) {
            if (!cpu_topology_parse(c, cpu, error))
                return FALSE;
        } else if (xml_is(c, "feature") && xml_is_simple(c, CONF_ATTRS("name", "policy"))) {
            if (!cpu_feature_parse(c, cpu, error))
                return FALSE;
        } else {
            xml_extra_add_child(&cpu->extra, c);
        }
    }
    return TRUE;
}

void domain_cpu_format(GString *buf, int level, const HearthDomainCpu *cpu)
{
    guint i;
    gboolean empty;

    if (!cpu->present)
        return;
    xml_buf_indent(buf, level);
    g_string_append(buf, "<cpu");
    xml_buf_attr(buf, "mode", cpu->mode);
    xml_buf_attr(buf, "match", cpu->match);
    xml_buf_attr(buf, "check", cpu->check);
    xml_extra_format_attrs(buf, &cpu->extra);
    empty = !cpu->model && !cpu->vendor && !cpu->has_topology && cpu->features->len == 0 &&
            !cpu->extra.children;
    if (empty) {
        g_string_append(buf, "/>\n");
        return;
    }
    g_string_append(buf, ">\n");
    level++;
    if (cpu->model) {
        xml_buf_indent(buf, level);
        g_string_append(buf, "<model");
        xml_buf_attr(buf, "fallback", cpu->model_fallback);
        xml_extra_format_attrs(buf, &cpu->model_extra);
        g_string_append_c(buf, '>');
        xml_buf_escape_text(buf, cpu->model);
        g_string_append(buf, "</model>\n");
    }
    xml_buf_text_element(buf, level, "vendor", cpu->vendor);
    if (cpu->has_topology) {
        xml_buf_indent(buf, level);
        g_string_append_printf(buf, "<topology sockets='%u'", cpu->sockets);
        if (cpu->dies)
            g_string_append_printf(buf, " dies='%u'", cpu->dies);
        g_string_append_printf(buf, " cores='%u' threads='%u'/>\n", cpu->cores, cpu->threads);
    }
    for (i = 0; i < cpu->features->len; i++) {
        const HearthCpuFeature *f = g_ptr_array_index(cpu->features, i);

        xml_buf_indent(buf, level);
        g_string_append(buf, "<feature");
        xml_buf_attr(buf, "policy", f->policy);
        xml_buf_attr(buf, "name", f->name);
        g_string_append(buf, "/>\n");
    }
    xml_extra_format_children(buf, level, &cpu->extra);
    level--;
    xml_buf_indent(buf, level);
    g_string_append(buf, "</cpu>\n");
}

void domain_cpu_clear(HearthDomainCpu *cpu)
{
    g_free(cpu->mode);
    g_free(cpu->match);
    g_free(cpu->check);
    g_free(cpu->model);
    g_free(cpu->model_fallback);
    xml_extra_clear(&cpu->model_extra);
    g_free(cpu->vendor);
    if (cpu->features)
        g_ptr_array_unref(cpu->features);
    xml_extra_clear(&cpu->extra);
    memset(cpu, 0, sizeof(*cpu));
}
