/* RelaxNG validation against our xml-schemas/domain.rng. */
#include "domain-internal.h"
#include "xml-schema.h"

/* libxml2 reports a bad child of an <interleave> only as "Extra element devices in
 * interleave"; name the unknown element ourselves when that is the cause. */
static const char *const known_top[] = {"name",
                                        "uuid",
                                        "genid",
                                        "title",
                                        "description",
                                        "metadata",
                                        "maxMemory",
                                        "memory",
                                        "currentMemory",
                                        "blkiotune",
                                        "memtune",
                                        "memoryBacking",
                                        "vcpu",
                                        "vcpus",
                                        "iothreads",
                                        "iothreadids",
                                        "defaultiothread",
                                        "cputune",
                                        "numatune",
                                        "resource",
                                        "sysinfo",
                                        "bootloader",
                                        "bootloader_args",
                                        "os",
                                        "idmap",
                                        "features",
                                        "cpu",
                                        "clock",
                                        "on_poweroff",
                                        "on_reboot",
                                        "on_crash",
                                        "on_lockfailure",
                                        "pm",
                                        "perf",
                                        "devices",
                                        "seclabel",
                                        "keywrap",
                                        "launchSecurity",
                                        "throttlegroups",
                                        NULL};
static const char *const known_devices[] = {
    "emulator",   "disk",    "controller", "interface",   "serial",    "console",    "parallel",
    "channel",    "input",   "graphics",   "video",       "sound",     "memballoon", "rng",
    "filesystem", "hostdev", "redirdev",   "redirfilter", "smartcard", "watchdog",   "tpm",
    "hub",        "panic",   "shmem",      "memory",      "iommu",     "vsock",      "lease",
    "nvram",      "audio",   "crypto",     "pstore",      NULL};

static char *schema_explain(xmlDocPtr doc)
{
    xmlNodePtr root = xmlDocGetRootElement(doc);
    char *why = xml_schema_unknown_child(root, known_top);

    if (why)
        return why;
    for (xmlNodePtr c = root->children; c; c = c->next) {
        if (c->type == XML_ELEMENT_NODE && !c->ns && strcmp((const char *)c->name, "devices") == 0)
            return xml_schema_unknown_child(c, known_devices);
    }
    return NULL;
}

static XmlSchema domain_schema = XML_SCHEMA_INIT("domain.rng", schema_explain);

gboolean domain_schema_validate(const char *xml, gsize len, GError **error)
{
    return xml_schema_validate(&domain_schema, xml, len, error);
}
