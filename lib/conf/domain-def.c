/* Allocation, release, copying and name rules of HearthDomainDef. */
#include "domain-internal.h"

static void ns_attr_free(gpointer p)
{
    HearthXmlAttr *a = p;

    g_free(a->name);
    g_free(a->value);
    g_free(a);
}

HearthDomainDef *domain_def_new(void)
{
    HearthDomainDef *def = g_new0(HearthDomainDef, 1);

    def->devices = g_ptr_array_new_with_free_func((GDestroyNotify)domain_device_free);
    def->root_ns = g_ptr_array_new_with_free_func(ns_attr_free);
    return def;
}

void domain_def_free(HearthDomainDef *def)
{
    if (!def)
        return;
    g_free(def->name);
    g_free(def->title);
    g_free(def->description);
    if (def->metadata)
        g_ptr_array_unref(def->metadata);
    xml_extra_clear(&def->memory_extra);
    domain_membacking_clear(&def->mem_backing);
    g_free(def->vcpu_placement);
    g_free(def->vcpu_cpuset);
    domain_os_clear(&def->os);
    domain_features_clear(&def->features);
    domain_cpu_clear(&def->cpu);
    domain_clock_clear(&def->clock);
    g_free(def->on_poweroff);
    g_free(def->on_reboot);
    g_free(def->on_crash);
    xml_extra_clear(&def->pm_extra);
    g_free(def->emulator);
    if (def->devices)
        g_ptr_array_unref(def->devices);
    xml_extra_clear(&def->devices_extra);
    if (def->root_ns)
        g_ptr_array_unref(def->root_ns);
    xml_extra_clear(&def->extra);
    g_free(def);
}

/* Like libvirt's virDomainDefCopy: the XML round trip is lossless by design, so it is
 * the one deep copy that can never forget a field. */
HearthDomainDef *domain_def_copy(const HearthDomainDef *def)
{
    g_autofree char *xml = NULL;

    if (!def)
        return NULL;
    xml = domain_def_format(def, DOMAIN_DEF_FORMAT_SECURE);
    /* Only a definition edited into an invalid state can fail here (NULL then). */
    return domain_def_parse(xml, strlen(xml), 0, NULL);
}

gboolean domain_name_check(const char *name, GError **error)
{
    const char *p;
    gsize len;

    if (!name || !*name) {
        conf_error(error, HEARTH_ERR_INVALID_ARG, _("domain name must not be empty"));
        return FALSE;
    }
    len = strlen(name);
    if (len > 200) {
        conf_error(error, HEARTH_ERR_INVALID_ARG,
                   _("domain name is %" G_GSIZE_FORMAT " bytes long; at most 200 bytes are "
                     "allowed because the name becomes part of file and socket paths"),
                   len);
        return FALSE;
    }
    if (!g_utf8_validate(name, (gssize)len, NULL)) {
        conf_error(error, HEARTH_ERR_INVALID_ARG, _("domain name is not valid UTF-8"));
        return FALSE;
    }
    if (name[0] == '.') {
        conf_error(error, HEARTH_ERR_INVALID_ARG, _("domain name '%s' must not start with '.'"),
                   name);
        return FALSE;
    }
    if (strchr(name, '/')) {
        conf_error(error, HEARTH_ERR_INVALID_ARG, _("domain name '%s' must not contain '/'"), name);
        return FALSE;
    }
    for (p = name; *p; p++) {
        if ((guchar)*p < 0x20 || *p == 0x7f) {
            conf_error(error, HEARTH_ERR_INVALID_ARG,
                       _("domain name must not contain control characters"));
            return FALSE;
        }
    }
    return TRUE;
}
