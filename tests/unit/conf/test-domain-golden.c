/* Golden files: tests/data/domain/NAME.xml -> parse -> format == NAME[.variant].out.xml.
 * Regenerate with HEARTH_REGENERATE=1, never by hand. */
#include "domain-def.h"
#include "test-helpers.h"

#include <string.h>

#define LIBVIRT_SCHEMA "/usr/share/libvirt/schemas/domain.rng"

typedef struct {
    const char *name;
    guint flags;
    const char *variant; /* NULL for NAME.out.xml */
    gboolean mask_uuid;  /* the input has no <uuid>: one is generated */
} GoldenCase;

static const GoldenCase cases[] = {
    {"minimal", 0, NULL, TRUE},
    {"full-q35", 0, NULL, FALSE},
    {"full-q35", DOMAIN_DEF_FORMAT_INACTIVE, "inactive", FALSE},
    {"memory-units", 0, NULL, FALSE},
    {"backing-chain", 0, NULL, FALSE},
    {"metadata-ns", 0, NULL, FALSE},
    {"unknown-content", 0, NULL, FALSE},
    {"graphics-vnc", 0, NULL, FALSE},
    {"graphics-vnc", DOMAIN_DEF_FORMAT_SECURE, "secure", FALSE},
    {"graphics-vnc", DOMAIN_DEF_FORMAT_INACTIVE, "inactive", FALSE},
    {"uefi-secure-boot", 0, NULL, FALSE},
    {"direct-kernel", 0, NULL, FALSE},
    {"chardevs", 0, NULL, FALSE},
    {"chardevs", DOMAIN_DEF_FORMAT_INACTIVE, "inactive", FALSE},
    {"cpu-custom", 0, NULL, FALSE},
    {"hugepages", 0, NULL, FALSE},
    {"boot-order", 0, NULL, FALSE},
    {"escaping", 0, NULL, FALSE},
};

static void mask_uuid(char *xml)
{
    char *p = strstr(xml, "<uuid>");

    if (p && strlen(p) > 6 + 36)
        memcpy(p + 6, "00000000-0000-0000-0000-000000000000", 36);
}

static char *our_schema_path(void)
{
    return g_build_filename(g_getenv("HEARTH_SOURCE_ROOT"), "xml-schemas", "domain.rng", NULL);
}

static void check_schemas(const char *what, const char *xml)
{
    g_autofree char *ours = our_schema_path();
    g_autofree char *err = NULL;

    if (!g_file_test(LIBVIRT_SCHEMA, G_FILE_TEST_IS_REGULAR))
        g_error("libvirt's schema %s is missing: it comes with Debian's libvirt0 package "
                "(pulled in by libvirt-clients; build-aux/install-deps.sh installs it)",
                LIBVIRT_SCHEMA);
    err = test_rng_validate(LIBVIRT_SCHEMA, xml);
    if (err)
        g_error("%s does not validate against libvirt's domain.rng: %s\n%s", what, err, xml);
    err = test_rng_validate(ours, xml);
    if (err)
        g_error("%s does not validate against xml-schemas/domain.rng: %s\n%s", what, err, xml);
}

static void test_golden(gconstpointer data)
{
    const GoldenCase *tc = data;
    g_autofree char *in_name = g_strdup_printf("%s.xml", tc->name);
    g_autofree char *out_name = tc->variant
                                    ? g_strdup_printf("%s.%s.out.xml", tc->name, tc->variant)
                                    : g_strdup_printf("%s.out.xml", tc->name);
    g_autofree char *out_path = test_data_path(out_name);
    g_autoptr(GError) error = NULL;
    g_autoptr(HearthDomainDef) def = NULL;
    g_autoptr(HearthDomainDef) def2 = NULL;
    g_autofree char *input = NULL, *formatted = NULL, *expected = NULL, *again = NULL;
    gsize len;

    input = test_read_data(in_name, &len);
    def = domain_def_parse(input, len, DOMAIN_DEF_PARSE_VALIDATE, &error);
    g_assert_no_error(error);
    g_assert_nonnull(def);
    formatted = domain_def_format(def, tc->flags);
    if (tc->mask_uuid)
        mask_uuid(formatted);

    if (g_strcmp0(g_getenv("HEARTH_REGENERATE"), "1") == 0) {
        g_assert_true(g_file_set_contents(out_path, formatted, -1, &error));
        g_test_message("regenerated %s", out_path);
    }
    expected = test_read_data(out_name, NULL);
    g_assert_cmpstr(formatted, ==, expected);
    check_schemas(out_name, formatted);

    /* parse -> format -> parse -> format is stable */
    def2 = domain_def_parse(formatted, strlen(formatted), DOMAIN_DEF_PARSE_VALIDATE, &error);
    g_assert_no_error(error);
    again = domain_def_format(def2, tc->flags);
    if (tc->mask_uuid)
        mask_uuid(again);
    g_assert_cmpstr(again, ==, formatted);
}

static void test_copy(void)
{
    g_autoptr(GError) error = NULL;
    gsize len;
    g_autofree char *input = test_read_data("full-q35.xml", &len);
    g_autoptr(HearthDomainDef) def = domain_def_parse(input, len, 0, &error);
    g_autoptr(HearthDomainDef) copy = NULL;
    g_autofree char *a = NULL, *b = NULL;

    g_assert_no_error(error);
    copy = domain_def_copy(def);
    g_assert_nonnull(copy);
    a = domain_def_format(def, DOMAIN_DEF_FORMAT_SECURE);
    b = domain_def_format(copy, DOMAIN_DEF_FORMAT_SECURE);
    g_assert_cmpstr(a, ==, b);
    g_assert_true(copy->devices != def->devices);
}

int main(int argc, char **argv)
{
    gsize i;

    g_test_init(&argc, &argv, NULL);
    for (i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *path =
            g_strdup_printf("/conf/golden/%s%s%s", cases[i].name, cases[i].variant ? "/" : "",
                            cases[i].variant ? cases[i].variant : "");

        g_test_add_data_func(path, &cases[i], test_golden);
    }
    g_test_add_func("/conf/copy", test_copy);
    return g_test_run();
}
