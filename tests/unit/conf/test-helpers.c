#include "test-helpers.h"

#include <libxml/parser.h>
#include <libxml/relaxng.h>
#include <string.h>

char *test_data_path(const char *name)
{
    const char *root = g_getenv("HEARTH_SOURCE_ROOT");

    g_assert_nonnull(root);
    return g_build_filename(root, "tests", "data", "domain", name, NULL);
}

char *test_read_data(const char *name, gsize *len)
{
    g_autofree char *path = test_data_path(name);
    g_autoptr(GError) error = NULL;
    char *content = NULL;

    if (!g_file_get_contents(path, &content, len, &error))
        g_error("cannot read %s: %s", path, error->message);
    return content;
}

static void collect(void *data, xmlErrorPtr err)
{
    GString *s = data;

    if (err && err->message)
        g_string_append_printf(s, "line %d: %s", err->line, err->message);
}

char *test_rng_validate(const char *rng_path, const char *xml)
{
    static GHashTable *cache; /* compiling libvirt's schema takes a while: once per path */
    GString *errors = g_string_new(NULL);
    xmlRelaxNGPtr schema;
    xmlRelaxNGValidCtxtPtr vctxt;
    xmlDocPtr doc;
    int rc;

    if (!cache)
        cache = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    schema = g_hash_table_lookup(cache, rng_path);
    if (!schema) {
        xmlRelaxNGParserCtxtPtr pctxt = xmlRelaxNGNewParserCtxt(rng_path);

        xmlRelaxNGSetParserStructuredErrors(pctxt, collect, errors);
        schema = xmlRelaxNGParse(pctxt);
        xmlRelaxNGFreeParserCtxt(pctxt);
        if (!schema) {
            g_string_prepend(errors, "schema does not compile: ");
            return g_string_free(errors, FALSE);
        }
        g_hash_table_insert(cache, g_strdup(rng_path), schema);
    }
    doc = xmlReadMemory(xml, (int)strlen(xml), "out.xml", NULL, XML_PARSE_NONET);
    g_assert_nonnull(doc);
    vctxt = xmlRelaxNGNewValidCtxt(schema);
    xmlRelaxNGSetValidStructuredErrors(vctxt, collect, errors);
    rc = xmlRelaxNGValidateDoc(vctxt, doc);
    xmlRelaxNGFreeValidCtxt(vctxt);
    xmlFreeDoc(doc);
    if (rc == 0) {
        g_string_free(errors, TRUE);
        return NULL;
    }
    return g_string_free(errors, FALSE);
}
