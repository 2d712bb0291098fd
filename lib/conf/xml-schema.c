#include "xml-schema.h"
#include "domain-internal.h"

#include <libxml/relaxng.h>

#include "hearth-config.h"

#define SCHEMA_MAX_ERRORS 5

typedef struct {
    xmlRelaxNGPtr schema;
    char *error; /* why compiling failed */
} SchemaCache;

/* $HEARTH_SCHEMA_DIR, else the installed schemas, else the source tree's (tests, demos). */
static char *schema_path(const char *file)
{
    const char *env = g_getenv("HEARTH_SCHEMA_DIR");
    g_autofree char *installed = NULL;

    if (env && *env)
        return g_build_filename(env, file, NULL);
    installed = g_build_filename(HEARTH_SCHEMA_DIR, file, NULL);
    if (g_file_test(installed, G_FILE_TEST_IS_REGULAR))
        return g_steal_pointer(&installed);
    return g_build_filename(HEARTH_SOURCE_SCHEMA_DIR, file, NULL);
}

static void collect_error(void *data, xmlErrorPtr err)
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

static char *join_errors(GPtrArray *errors)
{
    g_ptr_array_add(errors, NULL);
    return g_strjoinv("; ", (char **)errors->pdata);
}

static gpointer schema_compile(gpointer data)
{
    const char *file = data;
    SchemaCache *cache = g_new0(SchemaCache, 1);
    g_autofree char *path = schema_path(file);
    g_autoptr(GPtrArray) errors = g_ptr_array_new_with_free_func(g_free);
    xmlRelaxNGParserCtxtPtr pctxt;

    xmlInitParser();
    pctxt = xmlRelaxNGNewParserCtxt(path);
    if (!pctxt) {
        cache->error = g_strdup_printf(_("cannot load schema %s"), path);
        return cache;
    }
    xmlRelaxNGSetParserStructuredErrors(pctxt, collect_error, errors);
    cache->schema = xmlRelaxNGParse(pctxt);
    xmlRelaxNGFreeParserCtxt(pctxt);
    if (!cache->schema) {
        g_autofree char *why = join_errors(errors);

        cache->error = g_strdup_printf(_("cannot compile schema %s: %s"), path, why);
    }
    return cache;
}

char *xml_schema_unknown_child(xmlNodePtr parent, const char *const *known)
{
    for (xmlNodePtr c = parent ? parent->children : NULL; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE || c->ns)
            continue;
        if (conf_enum_index(known, (const char *)c->name) < 0)
            return g_strdup_printf("Element %s has extra content: %s (line %d)",
                                   (const char *)parent->name, (const char *)c->name,
                                   (int)xmlGetLineNo(c));
    }
    return NULL;
}

gboolean xml_schema_validate(XmlSchema *schema, const char *xml, gsize len, GError **error)
{
    SchemaCache *cache = g_once(&schema->once, schema_compile, (gpointer)schema->file);
    g_autoptr(GPtrArray) errors = g_ptr_array_new_with_free_func(g_free);
    xmlRelaxNGValidCtxtPtr vctxt;
    xmlDocPtr doc;
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
    xmlRelaxNGSetValidStructuredErrors(vctxt, collect_error, errors);
    rc = xmlRelaxNGValidateDoc(vctxt, doc);
    xmlRelaxNGFreeValidCtxt(vctxt);
    if (rc != 0) {
        g_autofree char *hint = schema->explain ? schema->explain(doc) : NULL;
        g_autofree char *why = errors->len ? join_errors(errors) : NULL;

        conf_error(error, HEARTH_ERR_XML_INVALID_SCHEMA,
                   _("XML document failed to validate against schema: %s"),
                   hint  ? hint
                   : why ? why
                         : _("unknown error"));
    }
    xmlFreeDoc(doc);
    return rc == 0;
}
