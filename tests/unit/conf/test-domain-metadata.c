/* virDomainGetMetadata/SetMetadata semantics for description, title and elements. */
#include "domain-def.h"
#include "hearth-error.h"
#include "test-helpers.h"

#include <string.h>

static HearthDomainDef *load(const char *name)
{
    g_autoptr(GError) error = NULL;
    gsize len;
    g_autofree char *xml = test_read_data(name, &len);
    HearthDomainDef *def = domain_def_parse(xml, len, 0, &error);

    g_assert_no_error(error);
    return def;
}

static void expect_missing(const HearthDomainDef *def, int type, const char *uri)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *v = domain_def_get_metadata(def, type, uri, &error);

    g_assert_null(v);
    g_assert_error(error, HEARTH_ERROR, HEARTH_ERR_NO_DOMAIN_METADATA);
}

static void test_description_title(void)
{
    g_autoptr(HearthDomainDef) def = load("minimal.xml");
    g_autoptr(GError) error = NULL;
    g_autofree char *v = NULL;
    g_autofree char *xml = NULL;

    expect_missing(def, DOMAIN_METADATA_DESCRIPTION, NULL);
    expect_missing(def, DOMAIN_METADATA_TITLE, NULL);

    g_assert_true(domain_def_set_metadata(def, DOMAIN_METADATA_DESCRIPTION, "two\nlines & <b>",
                                          NULL, NULL, &error));
    g_assert_true(domain_def_set_metadata(def, DOMAIN_METADATA_TITLE, "Title", NULL, NULL, &error));
    g_assert_no_error(error);
    v = domain_def_get_metadata(def, DOMAIN_METADATA_DESCRIPTION, NULL, &error);
    g_assert_cmpstr(v, ==, "two\nlines & <b>");
    g_clear_pointer(&v, g_free);
    v = domain_def_get_metadata(def, DOMAIN_METADATA_TITLE, NULL, &error);
    g_assert_cmpstr(v, ==, "Title");
    xml = domain_def_format(def, 0);
    g_assert_nonnull(strstr(xml, "  <title>Title</title>\n  <description>two\nlines &amp; "
                                 "&lt;b&gt;</description>\n"));

    /* titles are one line */
    g_assert_false(domain_def_set_metadata(def, DOMAIN_METADATA_TITLE, "a\nb", NULL, NULL, &error));
    g_assert_error(error, HEARTH_ERROR, HEARTH_ERR_INVALID_ARG);
    g_clear_error(&error);

    /* NULL and "" remove */
    g_assert_true(
        domain_def_set_metadata(def, DOMAIN_METADATA_DESCRIPTION, NULL, NULL, NULL, &error));
    g_assert_true(domain_def_set_metadata(def, DOMAIN_METADATA_TITLE, "", NULL, NULL, &error));
    expect_missing(def, DOMAIN_METADATA_DESCRIPTION, NULL);
    expect_missing(def, DOMAIN_METADATA_TITLE, NULL);

    g_assert_false(
        domain_def_set_metadata(def, DOMAIN_METADATA_DESCRIPTION, "bell\a", NULL, NULL, &error));
    g_assert_error(error, HEARTH_ERROR, HEARTH_ERR_INVALID_ARG);
    g_clear_error(&error);

    g_assert_false(domain_def_set_metadata(def, 7, "x", NULL, NULL, &error));
    g_assert_error(error, HEARTH_ERROR, HEARTH_ERR_INVALID_ARG);
}

static void test_elements(void)
{
    g_autoptr(HearthDomainDef) def = load("metadata-ns.xml");
    g_autoptr(HearthDomainDef) reparsed = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *v = NULL;
    g_autofree char *xml = NULL;

    v = domain_def_get_metadata(def, DOMAIN_METADATA_ELEMENT, "http://app1.org/app1/", &error);
    g_assert_no_error(error);
    /* handed back without the namespace, as libvirt does */
    g_assert_cmpstr(v, ==, "<foo>fooish</foo>");
    g_clear_pointer(&v, g_free);
    expect_missing(def, DOMAIN_METADATA_ELEMENT, "http://nowhere.example/");

    /* set: the element is put into the namespace under the given prefix */
    g_assert_true(domain_def_set_metadata(def, DOMAIN_METADATA_ELEMENT,
                                          "<hearth><owner team='infra'>alice</owner></hearth>", "h",
                                          "https://hearth.example/ns/1", &error));
    g_assert_no_error(error);
    v = domain_def_get_metadata(def, DOMAIN_METADATA_ELEMENT, "https://hearth.example/ns/1",
                                &error);
    g_assert_cmpstr(v, ==, "<hearth>\n  <owner team=\"infra\">alice</owner>\n</hearth>");
    g_clear_pointer(&v, g_free);

    /* replace an existing one: still only one element for the URI */
    g_assert_true(domain_def_set_metadata(def, DOMAIN_METADATA_ELEMENT, "<bar>new</bar>", "app2",
                                          "http://app2.org/app2/", &error));
    v = domain_def_get_metadata(def, DOMAIN_METADATA_ELEMENT, "http://app2.org/app2/", &error);
    g_assert_cmpstr(v, ==, "<bar>new</bar>");
    g_clear_pointer(&v, g_free);

    /* formatting and re-parsing keeps the namespaces */
    xml = domain_def_format(def, 0);
    reparsed = domain_def_parse(xml, strlen(xml), DOMAIN_DEF_PARSE_VALIDATE, &error);
    g_assert_no_error(error);
    v = domain_def_get_metadata(reparsed, DOMAIN_METADATA_ELEMENT, "https://hearth.example/ns/1",
                                &error);
    g_assert_nonnull(v);
    g_clear_pointer(&v, g_free);

    /* remove */
    g_assert_true(domain_def_set_metadata(def, DOMAIN_METADATA_ELEMENT, NULL, NULL,
                                          "http://app1.org/app1/", &error));
    expect_missing(def, DOMAIN_METADATA_ELEMENT, "http://app1.org/app1/");

    /* bad input */
    g_assert_false(
        domain_def_set_metadata(def, DOMAIN_METADATA_ELEMENT, "<x/>", "bad key", "urn:x", &error));
    g_assert_error(error, HEARTH_ERROR, HEARTH_ERR_INVALID_ARG);
    g_clear_error(&error);
    g_assert_false(
        domain_def_set_metadata(def, DOMAIN_METADATA_ELEMENT, "<x/>", "k", NULL, &error));
    g_assert_error(error, HEARTH_ERROR, HEARTH_ERR_INVALID_ARG);
    g_clear_error(&error);
    g_assert_false(
        domain_def_set_metadata(def, DOMAIN_METADATA_ELEMENT, "<x>", "k", "urn:x", &error));
    g_assert_error(error, HEARTH_ERROR, HEARTH_ERR_XML_DETAIL);
    g_clear_error(&error);
    g_assert_false(domain_def_set_metadata(def, DOMAIN_METADATA_ELEMENT,
                                           "<!DOCTYPE x [<!ENTITY a 'b'>]><x>&a;</x>", "k", "urn:x",
                                           &error));
    g_assert_error(error, HEARTH_ERROR, HEARTH_ERR_XML_DETAIL);
    g_clear_error(&error);
    v = domain_def_get_metadata(def, DOMAIN_METADATA_ELEMENT, NULL, &error);
    g_assert_null(v);
    g_assert_error(error, HEARTH_ERROR, HEARTH_ERR_INVALID_ARG);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/conf/metadata/description-title", test_description_title);
    g_test_add_func("/conf/metadata/elements", test_elements);
    return g_test_run();
}
