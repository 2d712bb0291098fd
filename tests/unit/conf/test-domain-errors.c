/* Hostile and invalid input: every failure is a GError with the right code and a
 * message that says what is wrong. */
#include "domain-def.h"
#include "hearth-error.h"
#include "test-helpers.h"

#include <string.h>

#define DOMAIN_HEAD "<domain type='kvm'>\n  <name>t</name>\n"
#define DOMAIN_OS "  <os>\n    <type>hvm</type>\n  </os>\n"

static void expect_error(const char *xml, gsize len, guint flags, int code, const char *needle)
{
    g_autoptr(GError) error = NULL;
    HearthDomainDef *def = domain_def_parse(xml, len, flags, &error);

    if (def)
        g_error("expected failure (%s) for:\n%s", needle, xml);
    g_assert_nonnull(error);
    if (error->domain != HEARTH_ERROR || error->code != code || !strstr(error->message, needle))
        g_error("expected code %d containing '%s', got %d: %s", code, needle, error->code,
                error->message);
}

static void expect_str_error(const char *xml, int code, const char *needle)
{
    expect_error(xml, strlen(xml), 0, code, needle);
}

static void test_malformed(void)
{
    expect_str_error("<domain type='kvm'><name>x</name>\n<memory>1</memory></domin>",
                     HEARTH_ERR_XML_DETAIL, "line 2");
    expect_str_error("", HEARTH_ERR_XML_DETAIL, "malformed XML");
    expect_str_error("<domain type='kvm'><name>&undefined;</name></domain>", HEARTH_ERR_XML_DETAIL,
                     "undefined");
    expect_str_error("<network><name>x</name></network>", HEARTH_ERR_XML_ERROR,
                     "expected root element <domain>, got <network>");
    expect_str_error("<domain><name>x</name></domain>", HEARTH_ERR_XML_ERROR,
                     "missing attribute 'type' in <domain>");
    expect_str_error("<domain type='kvm'><name a:b='c'>x</name></domain>", HEARTH_ERR_XML_DETAIL,
                     "Namespace prefix a");
    expect_str_error(DOMAIN_HEAD "  <memory>1</memory>\n" DOMAIN_OS
                                 "  <devices>\n    <serial type='pty'>stray<target port='0'/>"
                                 "</serial>\n  </devices>\n</domain>",
                     HEARTH_ERR_XML_ERROR, "unexpected text 'stray' in <serial>");
    expect_str_error("<domain type='kvm'><name x='1'>n</name></domain>", HEARTH_ERR_XML_ERROR,
                     "unexpected attribute or child element in <name>");
    expect_str_error("<domain type='xen'><name>x</name></domain>", HEARTH_ERR_CONFIG_UNSUPPORTED,
                     "'xen'");
}

static void test_billion_laughs(void)
{
    const char *xml = "<?xml version='1.0'?>\n"
                      "<!DOCTYPE domain [\n"
                      "  <!ENTITY lol 'lol'>\n"
                      "  <!ENTITY lol1 '&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;'>\n"
                      "  <!ENTITY lol2 '&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;'>\n"
                      "  <!ENTITY lol3 '&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;'>\n"
                      "  <!ENTITY lol9 '&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;'>\n"
                      "]>\n"
                      "<domain type='kvm'><name>&lol9;</name></domain>\n";
    const char *xxe = "<!DOCTYPE domain [<!ENTITY xxe SYSTEM 'file:///etc/passwd'>]>\n"
                      "<domain type='kvm'><name>&xxe;</name></domain>\n";
    const char *plain = "<!DOCTYPE domain>\n<domain type='kvm'><name>x</name></domain>\n";

    expect_str_error(xml, HEARTH_ERR_XML_DETAIL, "DOCTYPE");
    expect_str_error(xxe, HEARTH_ERR_XML_DETAIL, "DOCTYPE");
    expect_str_error(plain, HEARTH_ERR_XML_DETAIL, "DOCTYPE");
}

static void test_deep_nesting(void)
{
    GString *s = g_string_new("<domain type='kvm'><name>x</name><metadata>");
    int i;

    for (i = 0; i < 10000; i++)
        g_string_append(s, "<a:x xmlns:a='urn:a'>");
    for (i = 0; i < 10000; i++)
        g_string_append(s, "</a:x>");
    g_string_append(s, "</metadata></domain>");
    expect_error(s->str, s->len, 0, HEARTH_ERR_XML_DETAIL, "limit of 64 levels");
    g_string_free(s, TRUE);
}

static void test_too_large(void)
{
    gsize len = 4 * 1024 * 1024 + 1;
    g_autofree char *xml = g_malloc(len + 1);
    const char *head = DOMAIN_HEAD "<description>";

    memset(xml, 'a', len);
    memcpy(xml, head, strlen(head));
    xml[len] = '\0';
    expect_error(xml, len, 0, HEARTH_ERR_XML_DETAIL, "too large");
}

static void test_unknown_toplevel(void)
{
    const char *xml = DOMAIN_HEAD "  <memory>1048576</memory>\n" DOMAIN_OS "  <bogus/>\n"
                                  "</domain>\n";
    g_autoptr(GError) error = NULL;
    g_autoptr(HearthDomainDef) def = NULL;
    g_autofree char *out = NULL;

    expect_error(xml, strlen(xml), DOMAIN_DEF_PARSE_VALIDATE, HEARTH_ERR_XML_INVALID_SCHEMA,
                 "bogus");
    expect_error(xml, strlen(xml), DOMAIN_DEF_PARSE_VALIDATE, HEARTH_ERR_XML_INVALID_SCHEMA,
                 "line 7");
    /* Without validation nothing is lost: the element comes back. */
    def = domain_def_parse(xml, strlen(xml), 0, &error);
    g_assert_no_error(error);
    out = domain_def_format(def, 0);
    g_assert_nonnull(strstr(out, "  <bogus/>\n"));
}

static void test_schema_strict(void)
{
    const char *bad_attr = DOMAIN_HEAD "  <memory>1048576</memory>\n" DOMAIN_OS "  <devices>\n"
                                       "    <disk type='file' device='disk' foo='1'>\n"
                                       "      <target dev='vda'/>\n"
                                       "    </disk>\n"
                                       "  </devices>\n"
                                       "</domain>\n";
    const char *bad_device = DOMAIN_HEAD "  <memory>1048576</memory>\n" DOMAIN_OS "  <devices>\n"
                                         "    <gizmo/>\n"
                                         "  </devices>\n"
                                         "</domain>\n";

    expect_error(bad_attr, strlen(bad_attr), DOMAIN_DEF_PARSE_VALIDATE,
                 HEARTH_ERR_XML_INVALID_SCHEMA, "failed to validate against schema");
    expect_error(bad_device, strlen(bad_device), DOMAIN_DEF_PARSE_VALIDATE,
                 HEARTH_ERR_XML_INVALID_SCHEMA, "gizmo");
}

static void test_semantic(void)
{
    expect_str_error(DOMAIN_HEAD "  <memory unit='XB'>1</memory>\n" DOMAIN_OS "</domain>",
                     HEARTH_ERR_XML_ERROR, "invalid memory unit 'XB' in <memory>");
    expect_str_error(DOMAIN_HEAD "  <memory>lots</memory>\n" DOMAIN_OS "</domain>",
                     HEARTH_ERR_XML_ERROR, "'lots'");
    expect_str_error(DOMAIN_HEAD "  <memory unit='E'>100000</memory>\n" DOMAIN_OS "</domain>",
                     HEARTH_ERR_XML_ERROR, "too large");
    expect_str_error("<domain type='kvm'><memory>1</memory>" DOMAIN_OS "</domain>",
                     HEARTH_ERR_NO_NAME, "missing name information in domain XML");
    expect_str_error(DOMAIN_HEAD DOMAIN_OS "</domain>", HEARTH_ERR_XML_ERROR, "missing <memory>");
    expect_str_error(DOMAIN_HEAD "  <memory>1</memory>\n  <vcpu>abc</vcpu>\n" DOMAIN_OS "</domain>",
                     HEARTH_ERR_XML_ERROR, "<vcpu> must be a positive integer, got 'abc'");
    expect_str_error(DOMAIN_HEAD "  <memory>1</memory>\n  <vcpu>0</vcpu>\n" DOMAIN_OS "</domain>",
                     HEARTH_ERR_XML_ERROR, "<vcpu> must be a positive integer, got '0'");
    expect_str_error(DOMAIN_HEAD "  <uuid>not-a-uuid</uuid>\n  <memory>1</memory>\n" DOMAIN_OS
                                 "</domain>",
                     HEARTH_ERR_XML_ERROR, "invalid UUID 'not-a-uuid'");
    expect_str_error(DOMAIN_HEAD "  <uuid>77a7cfd9-3c2b-4f4e-9d1b-0123456789</uuid>\n"
                                 "  <memory>1</memory>\n" DOMAIN_OS "</domain>",
                     HEARTH_ERR_XML_ERROR, "invalid UUID");
    expect_str_error(DOMAIN_HEAD "  <memory>1</memory>\n"
                                 "  <os>\n    <type>xen</type>\n  </os>\n</domain>",
                     HEARTH_ERR_CONFIG_UNSUPPORTED, "'xen'");
    expect_str_error(DOMAIN_HEAD "  <memory>1</memory>\n"
                                 "  <os>\n    <type>hvm</type>\n    <boot dev='usb'/>\n"
                                 "  </os>\n</domain>",
                     HEARTH_ERR_XML_ERROR, "invalid boot device 'usb'");
    expect_str_error(DOMAIN_HEAD "  <memory>1</memory>\n" DOMAIN_OS
                                 "  <devices>\n    <disk type='file'>\n"
                                 "      <source file='/a'/>\n    </disk>\n  </devices>\n"
                                 "</domain>",
                     HEARTH_ERR_XML_ERROR, "missing <target> in <disk>");
    expect_str_error(DOMAIN_HEAD "  <memory>1</memory>\n" DOMAIN_OS
                                 "  <devices>\n    <interface type='network'>\n"
                                 "      <mac address='01:00:5e:00:00:01'/>\n"
                                 "      <source network='default'/>\n"
                                 "    </interface>\n  </devices>\n</domain>",
                     HEARTH_ERR_XML_ERROR, "invalid MAC address '01:00:5e:00:00:01'");
    expect_str_error(DOMAIN_HEAD "  <memory>1</memory>\n"
                                 "  <os>\n    <type>hvm</type>\n    <boot dev='hd'/>\n"
                                 "  </os>\n"
                                 "  <devices>\n    <disk type='file'>\n"
                                 "      <target dev='vda'/>\n      <boot order='1'/>\n"
                                 "    </disk>\n  </devices>\n</domain>",
                     HEARTH_ERR_XML_ERROR, "cannot be used together");
    expect_str_error(DOMAIN_HEAD "  <memory>1</memory>\n" DOMAIN_OS
                                 "  <on_crash>explode</on_crash>\n</domain>",
                     HEARTH_ERR_XML_ERROR, "invalid action 'explode' in <on_crash>");
    expect_str_error(DOMAIN_HEAD "  <name>again</name>\n  <memory>1</memory>\n" DOMAIN_OS
                                 "</domain>",
                     HEARTH_ERR_XML_ERROR, "duplicate <name>");
    expect_str_error(DOMAIN_HEAD "  <maxMemory slots='4'>1</maxMemory>\n"
                                 "  <memory>2</memory>\n" DOMAIN_OS "</domain>",
                     HEARTH_ERR_XML_ERROR, "must not be smaller");
}

static void test_bad_names(void)
{
    static const struct {
        const char *name;
        const char *needle;
    } bad[] = {
        {"a/b", "'/'"},
        {".hidden", "'.'"},
        {"", "empty"},
        {"tab\there", "control"},
    };
    gsize i;

    for (i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GError) error = NULL;
        g_autofree char *xml = g_strdup_printf(
            "<domain type='kvm'><name>%s</name><memory>1</memory>" DOMAIN_OS "</domain>",
            bad[i].name);

        g_assert_false(domain_name_check(bad[i].name, &error));
        g_assert_error(error, HEARTH_ERROR, HEARTH_ERR_INVALID_ARG);
        g_assert_nonnull(strstr(error->message, bad[i].needle));
        /* libvirt: an empty <name> is "missing name information" (NO_NAME) */
        if (*bad[i].name)
            expect_str_error(xml, HEARTH_ERR_XML_ERROR, bad[i].needle);
        else
            expect_str_error(xml, HEARTH_ERR_NO_NAME, "missing name information");
    }
    {
        g_autoptr(GError) error = NULL;
        g_autofree char *long_name = g_strnfill(201, 'x');

        g_assert_false(domain_name_check(long_name, &error));
        g_assert_nonnull(strstr(error->message, "201 bytes"));
        g_clear_error(&error);
        g_assert_false(domain_name_check("bad\xff", &error));
        g_assert_nonnull(strstr(error->message, "UTF-8"));
        g_clear_error(&error);
        long_name[200] = '\0';
        g_assert_true(domain_name_check(long_name, &error));
        g_assert_true(domain_name_check("web-01 (prod) ünïcode", &error));
        g_assert_no_error(error);
    }
}

static void test_null_error(void)
{
    /* Callers may pass no GError at all. */
    g_assert_null(domain_def_parse("<oops", 5, 0, NULL));
    g_assert_null(domain_def_parse("<domain type='kvm'><name>a/b</name><memory>1</memory>"
                                   "<os><type>hvm</type></os></domain>",
                                   strlen("<domain type='kvm'><name>a/b</name><memory>1</memory>"
                                          "<os><type>hvm</type></os></domain>"),
                                   0, NULL));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/conf/errors/malformed", test_malformed);
    g_test_add_func("/conf/errors/billion-laughs", test_billion_laughs);
    g_test_add_func("/conf/errors/deep-nesting", test_deep_nesting);
    g_test_add_func("/conf/errors/too-large", test_too_large);
    g_test_add_func("/conf/errors/unknown-toplevel", test_unknown_toplevel);
    g_test_add_func("/conf/errors/schema-strict", test_schema_strict);
    g_test_add_func("/conf/errors/semantic", test_semantic);
    g_test_add_func("/conf/errors/names", test_bad_names);
    g_test_add_func("/conf/errors/null-error", test_null_error);
    return g_test_run();
}
