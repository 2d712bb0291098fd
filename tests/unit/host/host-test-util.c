#include "host-test-util.h"

#include <glib/gstdio.h>
#include <libxml/parser.h>
#include <libxml/relaxng.h>
#include <string.h>

#define LIBVIRT_SCHEMA_DIR "/usr/share/libvirt/schemas"

char *host_test_fixture(const char *name)
{
    const char *src = g_getenv("HEARTH_SOURCE_ROOT");

    g_assert_nonnull(src);
    return g_build_filename(src, "tests", "data", "host", name, NULL);
}

char *host_test_fake_qemu(const char *dir, const char *name)
{
    g_autofree char *help = host_test_fixture("machine-help-x86_64.txt");
    g_autofree char *path = g_build_filename(dir, name, NULL);
    g_autofree char *script = g_strdup_printf("#!/bin/sh\n"
                                              "echo \"$*\" >> '%s.count'\n"
                                              "exec cat '%s'\n",
                                              path, help);
    g_autoptr(GError) error = NULL;

    g_assert_true(g_file_set_contents(path, script, -1, &error));
    g_assert_no_error(error);
    g_assert_cmpint(g_chmod(path, 0755), ==, 0);
    return g_steal_pointer(&path);
}

guint host_test_fake_qemu_runs(const char *path)
{
    g_autofree char *count = g_strdup_printf("%s.count", path);
    g_autofree char *text = NULL;
    guint n = 0;

    if (!g_file_get_contents(count, &text, NULL, NULL))
        return 0;
    for (const char *p = text; *p; p++)
        if (*p == '\n')
            n++;
    if (n)
        g_assert_nonnull(strstr(text, "-machine help\n"));
    return n;
}

static void collect_error(void *data, xmlErrorPtr err)
{
    g_string_append_printf(data, "line %d: %s", err->line, err->message);
}

gboolean host_test_xml_valid(const char *xml, const char *schema, char **errors_out)
{
    g_autofree char *path = g_build_filename(LIBVIRT_SCHEMA_DIR, schema, NULL);
    g_autoptr(GString) errors = g_string_new(NULL);
    xmlRelaxNGParserCtxtPtr pctxt;
    xmlRelaxNGPtr rng;
    xmlRelaxNGValidCtxtPtr vctxt;
    xmlDocPtr doc;
    int rc;

    if (!g_file_test(path, G_FILE_TEST_EXISTS)) {
        /* No silent skip: without the schemas these tests would prove nothing. */
        g_error("libvirt's RelaxNG schema %s is missing: install the Debian package libvirt0 "
                "(it ships " LIBVIRT_SCHEMA_DIR ")",
                path);
    }
    pctxt = xmlRelaxNGNewParserCtxt(path);
    rng = xmlRelaxNGParse(pctxt);
    xmlRelaxNGFreeParserCtxt(pctxt);
    g_assert_nonnull(rng);
    doc = xmlReadMemory(xml, (int)strlen(xml), "generated.xml", NULL, XML_PARSE_NONET);
    if (!doc) {
        xmlRelaxNGFree(rng);
        *errors_out = g_strdup("not well-formed XML");
        return FALSE;
    }
    vctxt = xmlRelaxNGNewValidCtxt(rng);
    xmlRelaxNGSetValidStructuredErrors(vctxt, collect_error, errors);
    rc = xmlRelaxNGValidateDoc(vctxt, doc);
    xmlRelaxNGFreeValidCtxt(vctxt);
    xmlRelaxNGFree(rng);
    xmlFreeDoc(doc);
    *errors_out = g_strdup(errors->str);
    return rc == 0;
}

void host_test_validate(const char *xml, const char *schema)
{
    g_autofree char *errors = NULL;

    if (!host_test_xml_valid(xml, schema, &errors))
        g_test_fail_printf("XML does not validate against %s:\n%s\n%s", schema, errors, xml);
}
