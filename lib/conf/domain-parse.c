/* domain_def_parse: the <domain> root and its simple top-level elements. Walks the
 * tree directly (no XPath): this runs for every definition the daemon loads. */
#include "domain-internal.h"

#include "uuid-util.h"

static const char *const lifecycle_actions[] = {"destroy", "restart", "preserve", "rename-restart",
                                                NULL};
static const char *const crash_actions[] = {
    "destroy",          "restart",          "preserve", "rename-restart",
    "coredump-destroy", "coredump-restart", NULL};

typedef enum {
    TOP_NAME,
    TOP_UUID,
    TOP_TITLE,
    TOP_DESCRIPTION,
    TOP_METADATA,
    TOP_MAX_MEMORY,
    TOP_MEMORY,
    TOP_CURRENT_MEMORY,
    TOP_MEMORY_BACKING,
    TOP_VCPU,
    TOP_OS,
    TOP_FEATURES,
    TOP_CPU,
    TOP_CLOCK,
    TOP_ON_POWEROFF,
    TOP_ON_REBOOT,
    TOP_ON_CRASH,
    TOP_PM,
    TOP_DEVICES,
    TOP_LAST
} TopElement;

static const char *const top_names[TOP_LAST + 1] = {
    "name",          "uuid",          "title",    "description", "metadata", "maxMemory", "memory",
    "currentMemory", "memoryBacking", "vcpu",     "os",          "features", "cpu",       "clock",
    "on_poweroff",   "on_reboot",     "on_crash", "pm",          "devices",  NULL};

static gboolean parse_text_once(XNode *c, char **out)
{
    g_free(*out);
    *out = xml_text_dup(c);
    return TRUE;
}

static gboolean parse_uuid(XNode *c, HearthDomainDef *def, GError **error)
{
    g_autofree char *text = xml_text_dup(c);

    if (!hearth_uuid_parse(text, def->uuid)) {
        conf_error(error, HEARTH_ERR_XML_ERROR, _("invalid UUID '%s' in <uuid>"), g_strstrip(text));
        return FALSE;
    }
    return TRUE;
}

static gboolean parse_vcpu(XNode *c, HearthDomainDef *def, GError **error)
{
    g_autofree char *text = xml_text_dup(c);
    guint64 v = 0;

    if (!conf_parse_uint(text, 16384, &v) || v == 0) {
        conf_error(error, HEARTH_ERR_XML_ERROR, _("<vcpu> must be a positive integer, got '%s'"),
                   g_strstrip(text));
        return FALSE;
    }
    def->vcpus = (guint)v;
    if (!conf_prop_enum(c, "placement", CONF_ATTRS("static", "auto"), FALSE, &def->vcpu_placement,
                        error))
        return FALSE;
    if (xml_prop(c, "current")) {
        v = 0;
        if (!conf_prop_uint(c, "current", def->vcpus, &v, error))
            return FALSE;
        if (v == 0) {
            conf_error(error, HEARTH_ERR_XML_ERROR,
                       _("attribute 'current' of <vcpu> must be between 1 and %u"), def->vcpus);
            return FALSE;
        }
        def->vcpus_current = (guint)v;
    }
    def->vcpu_cpuset = xml_prop_dup(c, "cpuset");
    if (def->vcpu_cpuset && !conf_cpuset_check(def->vcpu_cpuset)) {
        conf_error(error, HEARTH_ERR_XML_ERROR, _("invalid cpuset '%s' in <vcpu>"),
                   def->vcpu_cpuset);
        return FALSE;
    }
    return TRUE;
}

static gboolean parse_max_memory(XNode *c, HearthDomainDef *def, GError **error)
{
    guint64 slots = 0;

    if (!conf_parse_memory(c, "unit", "KiB", &def->max_memory_kib, error))
        return FALSE;
    if (!xml_prop(c, "slots")) {
        conf_error(error, HEARTH_ERR_XML_ERROR, _("missing attribute 'slots' in <maxMemory>"));
        return FALSE;
    }
    if (!conf_prop_uint(c, "slots", G_MAXUINT, &slots, error))
        return FALSE;
    def->max_memory_slots = (guint)slots;
    return TRUE;
}

static gboolean parse_lifecycle(XNode *c, const char *const *actions, char **out, GError **error)
{
    g_autofree char *text = g_strstrip(xml_text_dup(c));

    if (conf_enum_index(actions, text) < 0) {
        conf_error(error, HEARTH_ERR_XML_ERROR, _("invalid action '%s' in <%s>"), text,
                   (const char *)c->name);
        return FALSE;
    }
    g_free(*out);
    *out = g_steal_pointer(&text);
    return TRUE;
}

static gboolean parse_pm(XNode *node, HearthDomainDef *def, GError **error)
{
    XNode *c;

    def->has_pm = TRUE;
    xml_extra_collect_attrs(&def->pm_extra, node, NULL);
    XML_FOREACH_CHILD(node, c)
    {
        HearthTristate *t = NULL;

        if (xml_is(c, "suspend-to-mem"))
            t = &def->pm_suspend_to_mem;
        else if (xml_is(c, "suspend-to-disk"))
            t = &def->pm_suspend_to_disk;
        if (t && *t == HEARTH_TRISTATE_ABSENT && xml_is_simple(c, CONF_ATTRS("enabled"))) {
            if (!conf_prop_tristate(c, "enabled", FALSE, t, error))
                return FALSE;
        } else {
            xml_extra_add_child(&def->pm_extra, c);
        }
    }
    return TRUE;
}

static gboolean parse_devices(XNode *node, HearthDomainDef *def, GError **error)
{
    XNode *c;

    xml_extra_collect_attrs(&def->devices_extra, node, NULL);
    XML_FOREACH_CHILD(node, c)
    {
        HearthDomainDevice *dev;

        if (xml_is(c, "emulator") && !def->emulator && xml_is_simple(c, NULL)) {
            def->emulator = g_strstrip(xml_text_dup(c));
            continue;
        }
        dev = domain_device_parse(c, error);
        if (!dev)
            return FALSE;
        g_ptr_array_add(def->devices, dev);
    }
    return TRUE;
}

static gboolean parse_top(XNode *c, TopElement which, HearthDomainDef *def, GError **error)
{
    switch (which) {
    case TOP_NAME:
        return parse_text_once(c, &def->name);
    case TOP_UUID:
        return parse_uuid(c, def, error);
    case TOP_TITLE:
        parse_text_once(c, &def->title);
        if (strchr(def->title, '\n')) {
            conf_error(error, HEARTH_ERR_XML_ERROR, _("Domain title can't contain newlines"));
            return FALSE;
        }
        return TRUE;
    case TOP_DESCRIPTION:
        return parse_text_once(c, &def->description);
    case TOP_METADATA:
        return domain_metadata_parse(c, def, error);
    case TOP_MAX_MEMORY:
        return parse_max_memory(c, def, error);
    case TOP_MEMORY:
        xml_extra_collect_attrs(&def->memory_extra, c, CONF_ATTRS("unit"));
        return conf_parse_memory(c, "unit", "KiB", &def->memory_kib, error);
    case TOP_CURRENT_MEMORY:
        return conf_parse_memory(c, "unit", "KiB", &def->current_memory_kib, error);
    case TOP_MEMORY_BACKING:
        return domain_membacking_parse(c, &def->mem_backing, error);
    case TOP_VCPU:
        return parse_vcpu(c, def, error);
    case TOP_OS:
        return domain_os_parse(c, &def->os, error);
    case TOP_FEATURES:
        return domain_features_parse(c, &def->features, error);
    case TOP_CPU:
        return domain_cpu_parse(c, &def->cpu, error);
    case TOP_CLOCK:
        return domain_clock_parse(c, &def->clock, error);
    case TOP_ON_POWEROFF:
        return parse_lifecycle(c, lifecycle_actions, &def->on_poweroff, error);
    case TOP_ON_REBOOT:
        return parse_lifecycle(c, lifecycle_actions, &def->on_reboot, error);
    case TOP_ON_CRASH:
        return parse_lifecycle(c, crash_actions, &def->on_crash, error);
    case TOP_PM:
        return parse_pm(c, def, error);
    case TOP_DEVICES:
        return parse_devices(c, def, error);
    case TOP_LAST:
        break;
    }
    return FALSE;
}

/* Simple top-level elements have no room for unknown content: refuse it rather than
 * drop it. */
static gboolean top_is_plain(XNode *c, TopElement which)
{
    switch (which) {
    case TOP_NAME:
    case TOP_UUID:
    case TOP_TITLE:
    case TOP_DESCRIPTION:
    case TOP_ON_POWEROFF:
    case TOP_ON_REBOOT:
    case TOP_ON_CRASH:
        return xml_is_simple(c, NULL);
    case TOP_METADATA:
        return !c->properties;
    case TOP_MEMORY:
        return !xml_first_element(c);
    case TOP_MAX_MEMORY:
        return xml_is_simple(c, CONF_ATTRS("unit", "slots"));
    case TOP_CURRENT_MEMORY:
        return xml_is_simple(c, CONF_ATTRS("unit"));
    case TOP_VCPU:
        return xml_is_simple(c, CONF_ATTRS("placement", "current", "cpuset"));
    default:
        return TRUE;
    }
}

static gboolean parse_root(XNode *root, HearthDomainDef *def, GError **error)
{
    const char *type = xml_prop(root, "type");
    guint32 seen = 0;
    XNs *ns;
    XNode *c;

    if (!type) {
        conf_error(error, HEARTH_ERR_XML_ERROR, _("missing attribute 'type' in <domain>"));
        return FALSE;
    }
    if (strcmp(type, "kvm") == 0) {
        def->virt_type = HEARTH_VIRT_KVM;
    } else if (strcmp(type, "qemu") == 0) {
        def->virt_type = HEARTH_VIRT_QEMU;
    } else {
        conf_error(error, HEARTH_ERR_CONFIG_UNSUPPORTED,
                   _("unsupported domain type '%s': expected 'kvm' or 'qemu'"), type);
        return FALSE;
    }
    for (ns = root->nsDef; ns; ns = ns->next) {
        HearthXmlAttr *a = g_new0(HearthXmlAttr, 1);

        a->name =
            ns->prefix ? g_strdup_printf("xmlns:%s", (const char *)ns->prefix) : g_strdup("xmlns");
        a->value = g_strdup((const char *)ns->href);
        g_ptr_array_add(def->root_ns, a);
    }
    {
        /* The runtime id belongs to the daemon, not to the definition. */
        XAttr *a;

        for (a = root->properties; a; a = a->next) {
            if (a->ns || (strcmp(a->name, "type") != 0 && strcmp(a->name, "id") != 0)) {
                g_autofree char *q = a->ns && a->ns->prefix
                                         ? g_strdup_printf("%s:%s", a->ns->prefix, a->name)
                                         : g_strdup(a->name);

                xml_extra_add_attr(&def->extra, q, a->value);
            }
        }
    }

    XML_FOREACH_CHILD(root, c)
    {
        int which = c->ns ? -1 : conf_enum_index(top_names, (const char *)c->name);

        if (which < 0) {
            xml_extra_add_child(&def->extra, c);
            continue;
        }
        if (!top_is_plain(c, (TopElement)which)) {
            conf_error(error, HEARTH_ERR_XML_ERROR,
                       _("unexpected attribute or child element in <%s> (line %d)"),
                       top_names[which], xml_line(c));
            return FALSE;
        }
        if (seen & (1u << which)) {
            conf_error(error, HEARTH_ERR_XML_ERROR, _("duplicate <%s> in domain XML (line %d)"),
                       top_names[which], xml_line(c));
            return FALSE;
        }
        seen |= 1u << which;
        if (!parse_top(c, (TopElement)which, def, error))
            return FALSE;
    }
    if (!(seen & (1u << TOP_NAME))) {
        conf_error(error, HEARTH_ERR_NO_NAME, _("missing name information in domain XML"));
        return FALSE;
    }
    if (!(seen & (1u << TOP_MEMORY))) {
        conf_error(error, HEARTH_ERR_XML_ERROR, _("missing <memory> in domain XML"));
        return FALSE;
    }
    if (!(seen & (1u << TOP_OS))) {
        conf_error(error, HEARTH_ERR_XML_ERROR, _("missing <os> in domain XML"));
        return FALSE;
    }
    if (!(seen & (1u << TOP_UUID)))
        hearth_uuid_generate(def->uuid);
    /* Verbatim subtrees were never walked, so their text is not checked. */
    root->walked = TRUE;
    return xml_check_stray_text(root, error);
}

/* Defaults and cross-element checks, as libvirt's post-parse does. */
static gboolean post_parse(HearthDomainDef *def, GError **error)
{
    gboolean device_boot = FALSE;
    guint i, j;

    g_autoptr(GError) name_error = NULL;

    if (!def->name || !*def->name) {
        conf_error(error, HEARTH_ERR_NO_NAME,
                   _("missing name information in domain XML: <name> is empty"));
        return FALSE;
    }
    if (!domain_name_check(def->name, &name_error)) {
        conf_error(error, HEARTH_ERR_XML_ERROR, _("invalid <name> in domain XML: %s"),
                   name_error->message);
        return FALSE;
    }
    if (def->max_memory_kib && def->max_memory_kib < def->memory_kib) {
        conf_error(error, HEARTH_ERR_XML_ERROR,
                   _("<maxMemory> (%" G_GUINT64_FORMAT " KiB) must not be smaller than "
                     "<memory> (%" G_GUINT64_FORMAT " KiB)"),
                   def->max_memory_kib, def->memory_kib);
        return FALSE;
    }
    if (def->current_memory_kib == 0 || def->current_memory_kib > def->memory_kib)
        def->current_memory_kib = def->memory_kib;
    if (def->vcpus == 0)
        def->vcpus = 1;
    if (def->vcpus_current == def->vcpus)
        def->vcpus_current = 0;

    for (i = 0; i < def->devices->len; i++) {
        HearthDomainDevice *dev = g_ptr_array_index(def->devices, i);

        if (domain_device_boot_order(dev))
            device_boot = TRUE;
        if (dev->kind == HEARTH_DEVICE_DISK) {
            for (j = 0; j < i; j++) {
                HearthDomainDevice *o = g_ptr_array_index(def->devices, j);

                if (o->kind == HEARTH_DEVICE_DISK &&
                    strcmp(o->u.disk->target_dev, dev->u.disk->target_dev) == 0) {
                    conf_error(error, HEARTH_ERR_XML_ERROR,
                               _("target '%s' duplicated for disk sources"),
                               dev->u.disk->target_dev);
                    return FALSE;
                }
            }
        }
        if (dev->kind == HEARTH_DEVICE_CONTROLLER && dev->u.controller->index < 0) {
            /* lowest index not yet used by a controller of the same type */
            HearthDomainController *ctl = dev->u.controller;
            int idx = 0;

            for (j = 0; j < def->devices->len; j++) {
                HearthDomainDevice *o = g_ptr_array_index(def->devices, j);

                if (o->kind == HEARTH_DEVICE_CONTROLLER && o != dev &&
                    strcmp(o->u.controller->type, ctl->type) == 0 &&
                    o->u.controller->index == idx) {
                    idx++;
                    j = (guint)-1; /* restart the scan */
                }
            }
            ctl->index = idx;
        }
    }
    if (device_boot && def->os.boot_devs->len > 0) {
        conf_error(error, HEARTH_ERR_XML_ERROR,
                   _("per-device boot elements cannot be used together with os/boot elements"));
        return FALSE;
    }
    if (!device_boot && def->os.boot_devs->len == 0 && !def->os.kernel) {
        HearthBootDev hd = HEARTH_BOOT_HD;

        g_array_append_val(def->os.boot_devs, hd);
    }
    return TRUE;
}

HearthDomainDef *domain_def_parse(const char *xml, gsize len, guint flags, GError **error)
{
    g_autoptr(XDoc) doc = NULL;
    XNode *root;
    HearthDomainDef *def;

    /* Validation needs libxml2's own tree: a second, slower parse only on this path. */
    if ((flags & DOMAIN_DEF_PARSE_VALIDATE) && !domain_schema_validate(xml, len, error))
        return NULL;
    doc = xml_safe_parse(xml, len, error);
    if (!doc)
        return NULL;
    root = doc->root;
    if (!xml_is(root, "domain")) {
        conf_error(error, HEARTH_ERR_XML_ERROR, _("expected root element <domain>, got <%s>"),
                   root->name);
        return NULL;
    }
    def = domain_def_new();
    if (!parse_root(root, def, error) || !post_parse(def, error)) {
        domain_def_free(def);
        return NULL;
    }
    return def;
}
