/* domain_def_format: libvirt's element order, so `virsh dumpxml` output looks familiar.
 * Verbatim top-level elements are put back into the slot libvirt gives them. */
#include "domain-internal.h"

#include "uuid-util.h"

typedef enum {
    SLOT_NAME,
    SLOT_UUID,
    SLOT_TITLE,
    SLOT_DESCRIPTION,
    SLOT_METADATA,
    SLOT_MEMORY, /* maxMemory, memory, currentMemory */
    SLOT_MEMORY_BACKING,
    SLOT_VCPU,
    SLOT_OS,
    SLOT_FEATURES,
    SLOT_CPU,
    SLOT_CLOCK,
    SLOT_LIFECYCLE,
    SLOT_PM,
    SLOT_DEVICES,
    SLOT_NONE, /* verbatim only */
} Slot;

/* libvirt's top-level order; verbatim elements are emitted after the modeled element
 * of the same row. */
static const struct {
    const char *name;
    Slot modeled;
} top_order[] = {
    {"name", SLOT_NAME},
    {"uuid", SLOT_UUID},
    {"genid", SLOT_NONE},
    {"title", SLOT_TITLE},
    {"description", SLOT_DESCRIPTION},
    {"metadata", SLOT_METADATA},
    {"maxMemory", SLOT_NONE},
    {"memory", SLOT_MEMORY},
    {"currentMemory", SLOT_NONE},
    {"blkiotune", SLOT_NONE},
    {"memtune", SLOT_NONE},
    {"memoryBacking", SLOT_MEMORY_BACKING},
    {"vcpu", SLOT_VCPU},
    {"vcpus", SLOT_NONE},
    {"iothreads", SLOT_NONE},
    {"iothreadids", SLOT_NONE},
    {"defaultiothread", SLOT_NONE},
    {"cputune", SLOT_NONE},
    {"numatune", SLOT_NONE},
    {"resource", SLOT_NONE},
    {"sysinfo", SLOT_NONE},
    {"bootloader", SLOT_NONE},
    {"bootloader_args", SLOT_NONE},
    {"os", SLOT_OS},
    {"idmap", SLOT_NONE},
    {"features", SLOT_FEATURES},
    {"cpu", SLOT_CPU},
    {"clock", SLOT_CLOCK},
    {"on_poweroff", SLOT_LIFECYCLE},
    {"on_reboot", SLOT_NONE},
    {"on_crash", SLOT_NONE},
    {"on_lockfailure", SLOT_NONE},
    {"pm", SLOT_PM},
    {"perf", SLOT_NONE},
    {"devices", SLOT_DEVICES},
    {"seclabel", SLOT_NONE},
    {"keywrap", SLOT_NONE},
    {"launchSecurity", SLOT_NONE},
};

static gboolean fragment_known(const char *xml)
{
    gsize i;

    for (i = 0; i < G_N_ELEMENTS(top_order); i++) {
        if (xml_fragment_is(xml, top_order[i].name))
            return TRUE;
    }
    return FALSE;
}

static void format_memory(GString *buf, const HearthDomainDef *def)
{
    if (def->max_memory_kib) {
        g_string_append_printf(
            buf, "  <maxMemory slots='%u' unit='KiB'>%" G_GUINT64_FORMAT "</maxMemory>\n",
            def->max_memory_slots, def->max_memory_kib);
    }
    g_string_append(buf, "  <memory unit='KiB'");
    xml_extra_format_attrs(buf, &def->memory_extra);
    g_string_append_printf(buf, ">%" G_GUINT64_FORMAT "</memory>\n", def->memory_kib);
    g_string_append_printf(buf,
                           "  <currentMemory unit='KiB'>%" G_GUINT64_FORMAT "</currentMemory>\n",
                           def->current_memory_kib);
}

static void format_vcpu(GString *buf, const HearthDomainDef *def)
{
    g_string_append(buf, "  <vcpu");
    xml_buf_attr(buf, "placement", def->vcpu_placement ? def->vcpu_placement : "static");
    xml_buf_attr(buf, "cpuset", def->vcpu_cpuset);
    if (def->vcpus_current)
        g_string_append_printf(buf, " current='%u'", def->vcpus_current);
    g_string_append_printf(buf, ">%u</vcpu>\n", def->vcpus);
}

static void format_pm(GString *buf, const HearthDomainDef *def)
{
    if (!def->has_pm)
        return;
    g_string_append(buf, "  <pm");
    xml_extra_format_attrs(buf, &def->pm_extra);
    if (!def->pm_suspend_to_mem && !def->pm_suspend_to_disk && !def->pm_extra.children) {
        g_string_append(buf, "/>\n");
        return;
    }
    g_string_append(buf, ">\n");
    if (def->pm_suspend_to_mem)
        g_string_append_printf(buf, "    <suspend-to-mem enabled='%s'/>\n",
                               conf_tristate_str(def->pm_suspend_to_mem, FALSE));
    if (def->pm_suspend_to_disk)
        g_string_append_printf(buf, "    <suspend-to-disk enabled='%s'/>\n",
                               conf_tristate_str(def->pm_suspend_to_disk, FALSE));
    xml_extra_format_children(buf, 2, &def->pm_extra);
    g_string_append(buf, "  </pm>\n");
}

static void format_devices(GString *buf, const HearthDomainDef *def, guint flags)
{
    guint i;

    g_string_append(buf, "  <devices");
    xml_extra_format_attrs(buf, &def->devices_extra);
    if (!def->emulator && def->devices->len == 0) {
        g_string_append(buf, "/>\n");
        return;
    }
    g_string_append(buf, ">\n");
    xml_buf_text_element(buf, 2, "emulator", def->emulator);
    for (i = 0; i < def->devices->len; i++)
        domain_device_format(buf, 2, g_ptr_array_index(def->devices, i), flags);
    g_string_append(buf, "  </devices>\n");
}

static void format_slot(GString *buf, Slot slot, const HearthDomainDef *def, guint flags)
{
    char uuid[HEARTH_UUID_STRING_LEN];

    switch (slot) {
    case SLOT_NAME:
        xml_buf_text_element(buf, 1, "name", def->name);
        break;
    case SLOT_UUID:
        hearth_uuid_format(def->uuid, uuid);
        g_string_append_printf(buf, "  <uuid>%s</uuid>\n", uuid);
        break;
    case SLOT_TITLE:
        xml_buf_text_element(buf, 1, "title", def->title);
        break;
    case SLOT_DESCRIPTION:
        xml_buf_text_element(buf, 1, "description", def->description);
        break;
    case SLOT_METADATA:
        domain_metadata_format(buf, 1, def);
        break;
    case SLOT_MEMORY:
        format_memory(buf, def);
        break;
    case SLOT_MEMORY_BACKING:
        domain_membacking_format(buf, 1, &def->mem_backing);
        break;
    case SLOT_VCPU:
        format_vcpu(buf, def);
        break;
    case SLOT_OS:
        domain_os_format(buf, 1, &def->os);
        break;
    case SLOT_FEATURES:
        domain_features_format(buf, 1, &def->features);
        break;
    case SLOT_CPU:
        domain_cpu_format(buf, 1, &def->cpu);
        break;
    case SLOT_CLOCK:
        domain_clock_format(buf, 1, &def->clock);
        break;
    case SLOT_LIFECYCLE:
        xml_buf_text_element(buf, 1, "on_poweroff",
                             def->on_poweroff ? def->on_poweroff : "destroy");
        xml_buf_text_element(buf, 1, "on_reboot", def->on_reboot ? def->on_reboot : "restart");
        xml_buf_text_element(buf, 1, "on_crash", def->on_crash ? def->on_crash : "destroy");
        break;
    case SLOT_PM:
        format_pm(buf, def);
        break;
    case SLOT_DEVICES:
        format_devices(buf, def, flags);
        break;
    case SLOT_NONE:
        break;
    }
}

char *domain_def_format(const HearthDomainDef *def, guint flags)
{
    GString *buf = g_string_sized_new(4096);
    GPtrArray *extra = def->extra.children;
    gsize i;
    guint j;

    g_string_append(buf, "<domain");
    xml_buf_attr(buf, "type", def->virt_type == HEARTH_VIRT_KVM ? "kvm" : "qemu");
    for (j = 0; j < def->root_ns->len; j++) {
        const HearthXmlAttr *a = g_ptr_array_index(def->root_ns, j);

        xml_buf_attr(buf, a->name, a->value);
    }
    xml_extra_format_attrs(buf, &def->extra);
    g_string_append(buf, ">\n");

    for (i = 0; i < G_N_ELEMENTS(top_order); i++) {
        format_slot(buf, top_order[i].modeled, def, flags);
        for (j = 0; extra && j < extra->len; j++) {
            const char *x = g_ptr_array_index(extra, j);

            if (xml_fragment_is(x, top_order[i].name))
                xml_buf_fragment(buf, 1, x);
        }
    }
    /* Namespaced and unknown elements last, in document order. */
    for (j = 0; extra && j < extra->len; j++) {
        const char *x = g_ptr_array_index(extra, j);

        if (!fragment_known(x))
            xml_buf_fragment(buf, 1, x);
    }
    g_string_append(buf, "</domain>\n");
    return g_string_free(buf, FALSE);
}
