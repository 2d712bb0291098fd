/* <features>: common hypervisor flags; hyperv, kvm, gic, ... stay verbatim. */
#include "domain-internal.h"

typedef enum {
    FEATURE_PRESENCE, /* <acpi/> */
    FEATURE_APIC,     /* <apic eoi='on'/> */
    FEATURE_STATE,    /* <pmu state='off'/> */
} FeatureKind;

static const struct {
    const char *name;
    FeatureKind kind;
} features[HEARTH_FEATURE_LAST] = {
    [HEARTH_FEATURE_ACPI] = {"acpi", FEATURE_PRESENCE},
    [HEARTH_FEATURE_APIC] = {"apic", FEATURE_APIC},
    [HEARTH_FEATURE_PAE] = {"pae", FEATURE_PRESENCE},
    [HEARTH_FEATURE_HAP] = {"hap", FEATURE_STATE},
    [HEARTH_FEATURE_VIRIDIAN] = {"viridian", FEATURE_PRESENCE},
    [HEARTH_FEATURE_PRIVNET] = {"privnet", FEATURE_PRESENCE},
    [HEARTH_FEATURE_PVSPINLOCK] = {"pvspinlock", FEATURE_STATE},
    [HEARTH_FEATURE_PMU] = {"pmu", FEATURE_STATE},
    [HEARTH_FEATURE_VMPORT] = {"vmport", FEATURE_STATE},
    [HEARTH_FEATURE_SMM] = {"smm", FEATURE_STATE},
    [HEARTH_FEATURE_VMCOREINFO] = {"vmcoreinfo", FEATURE_STATE},
    [HEARTH_FEATURE_HTM] = {"htm", FEATURE_STATE},
};

static int feature_lookup(XNode *c)
{
    int i;

    if (c->ns)
        return -1;
    for (i = 0; i < HEARTH_FEATURE_LAST; i++) {
        if (strcmp(features[i].name, (const char *)c->name) == 0)
            return i;
    }
    return -1;
}

/* 1 when modeled, 0 when @c must stay verbatim, -1 on error. */
static int feature_parse(XNode *c, int i, HearthDomainFeatures *f, GError **error)
{
    XNode *t;

    switch (features[i].kind) {
    case FEATURE_PRESENCE:
        if (!xml_is_simple(c, CONF_ATTRS("state")))
            return 0;
        /* libvirt accepts state='on|off' here too */
        if (!conf_prop_tristate(c, "state", TRUE, &f->state[i], error))
            return -1;
        break;
    case FEATURE_APIC:
        if (!xml_is_simple(c, CONF_ATTRS("eoi")))
            return 0;
        if (!conf_prop_enum(c, "eoi", CONF_ATTRS("on", "off"), FALSE, &f->apic_eoi, error))
            return -1;
        break;
    case FEATURE_STATE:
        if (c->nsDef)
            return 0;
        if (!conf_prop_tristate(c, "state", TRUE, &f->state[i], error))
            return -1;
        xml_extra_collect_attrs(&f->item_extra[i], c, CONF_ATTRS("state"));
        XML_FOREACH_CHILD(c, t)
        xml_extra_add_child(&f->item_extra[i], t);
        break;
    }
    if (f->state[i] == HEARTH_TRISTATE_ABSENT)
        f->state[i] = HEARTH_TRISTATE_YES;
    return 1;
}

gboolean domain_features_parse(XNode *node, HearthDomainFeatures *f, GError **error)
{
    XNode *c;

    f->present = TRUE;
    xml_extra_collect_attrs(&f->extra, node, NULL);
    XML_FOREACH_CHILD(node, c)
    {
        int i = feature_lookup(c);
        int r = 0;

        if (i >= 0 && f->state[i] == HEARTH_TRISTATE_ABSENT)
            r = feature_parse(c, i, f, error);
        if (r < 0)
            return FALSE;
        if (r == 0)
            xml_extra_add_child(&f->extra, c);
    }
    return TRUE;
}

void domain_features_format(GString *buf, int level, const HearthDomainFeatures *f)
{
    int i;

    if (!f->present)
        return;
    xml_buf_indent(buf, level);
    g_string_append(buf, "<features");
    xml_extra_format_attrs(buf, &f->extra);
    g_string_append(buf, ">\n");
    for (i = 0; i < HEARTH_FEATURE_LAST; i++) {
        const HearthXmlExtra *ie = &f->item_extra[i];

        if (f->state[i] == HEARTH_TRISTATE_ABSENT)
            continue;
        xml_buf_indent(buf, level + 1);
        g_string_append_printf(buf, "<%s", features[i].name);
        switch (features[i].kind) {
        case FEATURE_PRESENCE:
            if (f->state[i] == HEARTH_TRISTATE_NO)
                g_string_append(buf, " state='off'");
            break;
        case FEATURE_APIC:
            xml_buf_attr(buf, "eoi", f->apic_eoi);
            break;
        case FEATURE_STATE:
            xml_buf_attr(buf, "state", conf_tristate_str(f->state[i], TRUE));
            xml_extra_format_attrs(buf, ie);
            break;
        }
        if (ie->children) {
            g_string_append(buf, ">\n");
            xml_extra_format_children(buf, level + 2, ie);
            xml_buf_indent(buf, level + 1);
            g_string_append_printf(buf, "</%s>\n", features[i].name);
        } else {
            g_string_append(buf, "/>\n");
        }
    }
    xml_extra_format_children(buf, level + 1, &f->extra);
    xml_buf_indent(buf, level);
    g_string_append(buf, "</features>\n");
}

void domain_features_clear(HearthDomainFeatures *f)
{
    int i;

    g_free(f->apic_eoi);
    for (i = 0; i < HEARTH_FEATURE_LAST; i++)
        xml_extra_clear(&f->item_extra[i]);
    xml_extra_clear(&f->extra);
    memset(f, 0, sizeof(*f));
}
