/* RelaxNG validation against our xml-schemas/domain.rng, compiled once per process. */
#include "domain-internal.h"

#include <libxml/relaxng.h>

#include "hearth-config.h"

#define SCHEMA_FILE "domain.rng"
#define SCHEMA_MAX_ERRORS 5

typedef struct {
    xmlRelaxNGPtr schema;
    char *error; /* why compiling failed */
} SchemaCache;

static char *schema_path(void)
{
    const char *env = g_getenv("HEARTH_SCHEMA_DIR");
    g_autofree char *installed = NULL;

    if (env && *env)
        return g_build_filename(env, SCHEMA_FILE, NULL);
    installed = g_build_filename(HEARTH_SCHEMA_DIR, SCHEMA_FILE, NULL);
    if (g_file_test(installed, G_FILE_TEST_IS_REGULAR))
        return g_steal_pointer(&installed);
    return g_build_filename(HEARTH_SOURCE_SCHEMA_DIR, SCHEMA_FILE, NULL);
}

static void schema_collect_error(void *data, xmlErrorPtr err)
{
    GPtrArray *errors = data;
    g_autofree char *msg = NULL;
    int line;

    if (!err || !err->message || errors->len >= SCHEMA_MAX_ERRORS)
        return;
    msg = g_strstrip(g_strdup(err->message));
    line = err->node ? (int)xmlGetLineNo((xmlNodePtr)err->node) : err->line;
    if (line > 0)
        g_ptr_array_add(errors, g_strdup_printf("%s (line %d)", msg, line));
    else
        g_ptr_array_add(errors, g_steal_pointer(&msg));
}

static char *schema_join_errors(GPtrArray *errors)
{
    g_ptr_array_add(errors, NULL);
    return g_strjoinv("; ", (char **)errors->pdata);
}

static gpointer schema_compile(gpointer unused)
{
    SchemaCache *cache = g_new0(SchemaCache, 1);
    g_autofree char *path = schema_path();
    g_autoptr(GPtrArray) errors = g_ptr_array_new_with_free_func(g_free);
    xmlRelaxNGParserCtxtPtr pctxt;

    xmlInitParser();
    pctxt = xmlRelaxNGNewParserCtxt(path);
    if (!pctxt) {
        cache->error = g_strdup_printf(_("cannot load schema %s"), path);
        return cache;
    }
    xmlRelaxNGSetParserStructuredErrors(pctxt, schema_collect_error, errors);
    cache->schema = xmlRelaxNGParse(pctxt);
    xmlRelaxNGFreeParserCtxt(pctxt);
    if (!cache->schema) {
        g_autofree char *why = schema_join_errors(errors);

        cache->error = g_strdup_printf(_("cannot compile schema %s: %s"), path, why);
    }
    return cache;
}

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

static char *schema_unknown_child(xmlNodePtr parent, const char *const *known)
{
    xmlNodePtr c;

    for (c = parent->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE || c->ns)
            continue;
        if (conf_enum_index(known, (const char *)c->name) < 0)
            return g_strdup_printf("Element %s has extra content: %s (line %d)",
                                   (const char *)parent->name, (const char *)c->name,
                                   (int)xmlGetLineNo(c));
    }
    return NULL;
}

static char *schema_explain(xmlDocPtr doc)
{
    xmlNodePtr root = xmlDocGetRootElement(doc);
    xmlNodePtr c;
    char *why = schema_unknown_child(root, known_top);

    if (why)
        return why;
    for (c = root->children; c; c = c->next) {
        if (c->type == XML_ELEMENT_NODE && !c->ns && strcmp((const char *)c->name, "devices") == 0)
            return schema_unknown_child(c, known_devices);
    }
    return NULL;
}

gboolean domain_schema_validate(const char *xml, gsize len, GError **error)
{
    xmlDocPtr doc;
    static GOnce once = G_ONCE_INIT;
    SchemaCache *cache = g_once(&once, schema_compile, NULL);
    g_autoptr(GPtrArray) errors = g_ptr_array_new_with_free_func(g_free);
    xmlRelaxNGValidCtxtPtr vctxt;
    int rc;

    if (!cache->schema) {
        conf_error(error, HEARTH_ERR_INTERNAL, "%s", cache->error);
        return FALSE;
    }
    doc = xml_safe_parse_libxml(xml, len, error);
    if (!doc)
        return FALSE;
    vctxt = xmlRelaxNGNewValidCtxt(cache->schema);
    if (!vctxt) {
        xmlFreeDoc(doc);
        conf_error(error, HEARTH_ERR_NO_MEMORY, _("cannot create schema validation context"));
        return FALSE;
    }
    xmlRelaxNGSetValidStructuredErrors(vctxt, schema_collect_error, errors);
    rc = xmlRelaxNGValidateDoc(vctxt, doc);
    xmlRelaxNGFreeValidCtxt(vctxt);
    if (rc != 0) {
        g_autofree char *hint = schema_explain(doc);
        g_autofree char *why = errors->len ? schema_join_errors(errors) : NULL;

        if (hint) {
            g_free(why);
            why = g_steal_pointer(&hint);
        }

        conf_error(error, HEARTH_ERR_XML_INVALID_SCHEMA,
                   _("XML document failed to validate against schema: %s"),
                   why ? why : _("unknown error"));
        xmlFreeDoc(doc);
        return FALSE;
    }
    xmlFreeDoc(doc);
    return TRUE;
}
