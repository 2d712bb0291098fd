/* Snapshot XML (lib/conf/snapshot-*.c): golden files tests/data/snapshot/NAME.xml -> parse ->
 * format == NAME[.variant].out.xml (regenerate with HEARTH_REGENERATE=1, never by hand), every
 * output checked against libvirt's own domainsnapshot.rng; parse errors; the disk alignment and
 * default overlay names of a disk-only snapshot request. */
#include "snapshot-def.h"
#include "test-helpers.h"

#include <string.h>

#define LIBVIRT_SCHEMA "/usr/share/libvirt/schemas/domainsnapshot.rng"

static char *data_path(const char *name)
{
    const char *root = g_getenv("HEARTH_SOURCE_ROOT");

    g_assert_nonnull(root);
    return g_build_filename(root, "tests", "data", "snapshot", name, NULL);
}

static char *read_data(const char *name, gsize *len)
{
    g_autofree char *path = data_path(name);
    g_autoptr(GError) error = NULL;
    char *content = NULL;

    if (!g_file_get_contents(path, &content, len, &error))
        g_error("cannot read %s: %s", path, error->message);
    return content;
}

typedef struct {
    const char *name;
    guint parse_flags;
    guint format_flags;
    const char *variant;
    gboolean not_libvirt; /* content libvirt's schema does not know (kept verbatim by us) */
} GoldenCase;

static const GoldenCase cases[] = {
    {"virsh-create-as", 0, 0, NULL, FALSE},
    {"virsh-diskspec", 0, 0, NULL, FALSE},
    {"libvirt-live", 0, 0, NULL, FALSE},
    {"libvirt-offline-internal", SNAPSHOT_PARSE_INTERNAL, SNAPSHOT_FORMAT_INTERNAL, "internal",
     FALSE},
    {"libvirt-offline-internal", SNAPSHOT_PARSE_INTERNAL, 0, NULL, FALSE},
    {"unknown-content", 0, 0, NULL, TRUE},
    {"escaping", 0, 0, NULL, FALSE},
};

static void test_golden(gconstpointer data)
{
    const GoldenCase *c = data;
    g_autofree char *in_name = g_strconcat(c->name, ".xml", NULL);
    g_autofree char *out_name = c->variant ? g_strdup_printf("%s.%s.out.xml", c->name, c->variant)
                                           : g_strdup_printf("%s.out.xml", c->name);
    g_autofree char *out_path = data_path(out_name);
    g_autoptr(GError) error = NULL;
    g_autoptr(HearthSnapshotDef) def = NULL;
    g_autoptr(HearthSnapshotDef) again = NULL;
    g_autofree char *xml = NULL, *formatted = NULL, *expected = NULL, *twice = NULL;
    g_autofree char *schema_errors = NULL;
    gsize len;

    xml = read_data(in_name, &len);
    def = snapshot_def_parse(xml, len, c->parse_flags, &error);
    g_assert_no_error(error);
    formatted = snapshot_def_format(def, c->format_flags);
    if (g_getenv("HEARTH_REGENERATE")) {
        g_assert_true(g_file_set_contents(out_path, formatted, -1, NULL));
        return;
    }
    expected = read_data(out_name, NULL);
    g_assert_cmpstr(formatted, ==, expected);
    /* Formatting is a fixed point. */
    again = snapshot_def_parse(formatted, strlen(formatted), c->parse_flags, &error);
    g_assert_no_error(error);
    twice = snapshot_def_format(again, c->format_flags);
    g_assert_cmpstr(twice, ==, formatted);
    if (!(c->format_flags & SNAPSHOT_FORMAT_INTERNAL) && !c->not_libvirt) {
        g_assert_true(g_file_test(LIBVIRT_SCHEMA, G_FILE_TEST_IS_REGULAR));
        schema_errors = test_rng_validate(LIBVIRT_SCHEMA, formatted);
        if (schema_errors)
            g_error("%s: libvirt's schema rejects our output: %s", c->name, schema_errors);
    }
}

static void test_active_only_internal(void)
{
    g_autofree char *xml = read_data("libvirt-offline-internal.xml", NULL);
    g_autoptr(HearthSnapshotDef) internal =
        snapshot_def_parse(xml, strlen(xml), SNAPSHOT_PARSE_INTERNAL, NULL);
    g_autoptr(HearthSnapshotDef) client = NULL;
    g_autofree char *out = NULL;

    g_assert_nonnull(internal);
    g_assert_true(internal->current);
    g_assert_cmpint(internal->creation_time, ==, 1795317556);
    g_assert_cmpstr(internal->state, ==, "shutoff");
    g_assert_nonnull(internal->dom);
    g_assert_null(internal->inactive_dom);
    /* From a client, <active> is not ours to take: dropped, never current. */
    client = snapshot_def_parse(xml, strlen(xml), 0, NULL);
    g_assert_nonnull(client);
    g_assert_false(client->current);
    internal->current = TRUE;
    out = snapshot_def_format(internal, 0);
    g_assert_null(strstr(out, "<active>"));
}

typedef struct {
    const char *xml;
    int code;
    const char *message;
} ErrorCase;

static const ErrorCase errors[] = {
    {"<domain/>", 27, "expected root element <domainsnapshot>"},
    {"<domainsnapshot><name>a/b</name></domainsnapshot>", 8, "must not start with '.' or contain"},
    {"<domainsnapshot><name>.x</name></domainsnapshot>", 8, "must not start with '.'"},
    {"<domainsnapshot><name>a</name><name>b</name></domainsnapshot>", 27, "more than one <name>"},
    {"<domainsnapshot><creationTime>soon</creationTime></domainsnapshot>", 27,
     "invalid creationTime 'soon'"},
    {"<domainsnapshot><memory snapshot='sideways'/></domainsnapshot>", 27,
     "unknown snapshot location 'sideways'"},
    {"<domainsnapshot><memory snapshot='no' file='/m'/></domainsnapshot>", 27,
     "requires external snapshot"},
    {"<domainsnapshot><disks><disk snapshot='external'/></disks></domainsnapshot>", 27,
     "missing name from disk snapshot element"},
    {"<domainsnapshot><disks><disk name='vda' snapshot='no'><source file='/x'/></disk></disks>"
     "</domainsnapshot>",
     27, "requires use of external snapshot mode"},
    {"<domainsnapshot><disks><bogus/></disks></domainsnapshot>", 27, "unexpected <bogus>"},
    {"<domainsnapshot>stray</domainsnapshot>", 27, "unexpected text 'stray'"},
    {"<domainsnapshot><domain type='qemu'><name>x</name></domain></domainsnapshot>", 27, "memory"},
};

static void test_errors(void)
{
    for (guint i = 0; i < G_N_ELEMENTS(errors); i++) {
        g_autoptr(GError) error = NULL;
        g_autoptr(HearthSnapshotDef) def =
            snapshot_def_parse(errors[i].xml, strlen(errors[i].xml), 0, &error);

        if (def || !error)
            g_error("case %u (%s) parsed", i, errors[i].xml);
        if (error->code != errors[i].code || !strstr(error->message, errors[i].message))
            g_error("case %u: got code %d '%s', wanted %d '...%s...'", i, error->code,
                    error->message, errors[i].code, errors[i].message);
    }
}

static void test_validate_flag(void)
{
    const char *good = "<domainsnapshot>\n  <name>s1</name>\n</domainsnapshot>\n";
    const char *bad = "<domainsnapshot><nonsense/></domainsnapshot>";
    g_autoptr(GError) error = NULL;
    g_autoptr(HearthSnapshotDef) ok =
        snapshot_def_parse(good, strlen(good), SNAPSHOT_PARSE_VALIDATE, &error);
    g_autoptr(HearthSnapshotDef) refused = NULL;

    g_assert_no_error(error);
    g_assert_nonnull(ok);
    refused = snapshot_def_parse(bad, strlen(bad), SNAPSHOT_PARSE_VALIDATE, &error);
    g_assert_null(refused);
    g_assert_error(error, g_quark_from_static_string("hearth-error-quark"), 92);
    g_assert_nonnull(strstr(error->message, "nonsense"));
}

/* ---- aligning a disk-only request with a domain ---- */

static const char *domain_xml =
    "<domain type='qemu'><name>d</name><memory>131072</memory>"
    "<os><type arch='x86_64'>hvm</type></os><devices>"
    "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
    "<source file='/img/mid.qcow2'/><target dev='vda' bus='virtio'/></disk>"
    "<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
    "<source file='/img/data'/><target dev='vdb' bus='virtio'/></disk>"
    "<disk type='file' device='cdrom'><source file='/img/x.iso'/><target dev='hdc'/>"
    "<readonly/></disk>"
    "<disk type='file' device='disk'><source file='/img/ro.img'/><target dev='vdc'/>"
    "<readonly/></disk>"
    "<disk type='block' device='disk'><source dev='/dev/sdz'/><target dev='vdd'/></disk>"
    "</devices></domain>";

static HearthSnapshotDef *align(const char *snap_xml, GError **error)
{
    g_autoptr(HearthDomainDef) dom = domain_def_parse(domain_xml, strlen(domain_xml), 0, NULL);
    g_autoptr(HearthSnapshotDef) def = snapshot_def_parse(snap_xml, strlen(snap_xml), 0, NULL);

    g_assert_nonnull(dom);
    g_assert_nonnull(def);
    if (!snapshot_def_align_disks(def, dom, error))
        return NULL;
    return g_steal_pointer(&def);
}

static void test_align_defaults(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(HearthSnapshotDef) def =
        align("<domainsnapshot><name>s1</name><disks><disk name='vdd' snapshot='no'/>"
              "</disks></domainsnapshot>",
              &error);
    g_autofree char *out = NULL;

    g_assert_no_error(error);
    out = snapshot_def_format(def, 0);
    g_assert_cmpstr(out, ==,
                    "<domainsnapshot>\n"
                    "  <name>s1</name>\n"
                    "  <disks>\n"
                    "    <disk name='vda' snapshot='external' type='file'>\n"
                    "      <driver type='qcow2'/>\n"
                    "      <source file='/img/mid.s1'/>\n"
                    "    </disk>\n"
                    "    <disk name='vdb' snapshot='external' type='file'>\n"
                    "      <driver type='qcow2'/>\n"
                    "      <source file='/img/data.s1'/>\n"
                    "    </disk>\n"
                    "    <disk name='hdc' snapshot='no'/>\n"
                    "    <disk name='vdc' snapshot='no'/>\n"
                    "    <disk name='vdd' snapshot='no'/>\n"
                    "  </disks>\n"
                    "</domainsnapshot>\n");
}

static void test_align_by_path_and_file(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(HearthSnapshotDef) def =
        align("<domainsnapshot><name>s2</name><disks>"
              "<disk name='/img/data' snapshot='external'><source file='/img/other.qcow2'/></disk>"
              "<disk name='vdd' snapshot='no'/></disks></domainsnapshot>",
              &error);
    HearthSnapshotDisk *vdb;

    g_assert_no_error(error);
    vdb = snapshot_def_find_disk(def, "vdb");
    g_assert_nonnull(vdb);
    g_assert_cmpstr(vdb->file, ==, "/img/other.qcow2");
    g_assert_cmpint(vdb->snapshot, ==, HEARTH_SNAPSHOT_LOC_EXTERNAL);
    g_assert_cmpstr(snapshot_def_find_disk(def, "vda")->file, ==, "/img/mid.s2");
    g_assert_null(snapshot_def_find_disk(def, "/img/data"));
}

static void test_align_errors(void)
{
    static const struct {
        const char *xml;
        const char *message;
    } bad[] = {
        {"<domainsnapshot><name>s</name><disks><disk name='vdz'/></disks></domainsnapshot>",
         "no disk named 'vdz'"},
        {"<domainsnapshot><name>s</name><disks><disk name='vda'/><disk name='/img/mid.qcow2'/>"
         "</disks></domainsnapshot>",
         "disk '/img/mid.qcow2' specified twice"},
        /* the block disk gets no generated name */
        {"<domainsnapshot><name>s</name></domainsnapshot>",
         "cannot generate external snapshot name for disk 'vdd' on a 'block' device"},
        {"<domainsnapshot><name>s</name><disks><disk name='vdd' snapshot='no'/>"
         "<disk name='vdb'><source file='/img/mid.s'/></disk></disks></domainsnapshot>",
         "collision with disk 'vda'"},
    };

    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GError) error = NULL;
        g_autoptr(HearthSnapshotDef) def = align(bad[i].xml, &error);

        g_assert_null(def);
        g_assert_nonnull(error);
        g_assert_cmpint(error->code, ==, 67);
        if (!strstr(error->message, bad[i].message))
            g_error("case %u: '%s' lacks '%s'", i, error->message, bad[i].message);
    }
}

static void test_default_names(void)
{
    static const char *const table[][3] = {
        {"/srv/lab/mid.qcow2", "snap1", "/srv/lab/mid.snap1"},
        {"/srv/lab/mid.snap1", "snap2", "/srv/lab/mid.snap2"},
        {"/srv/lab/noext", "s", "/srv/lab/noext.s"},
        {"/srv/la.b/noext", "s", "/srv/la.b/noext.s"},
        {"/a/b.c.d", "s", "/a/b.c.s"},
    };

    for (guint i = 0; i < G_N_ELEMENTS(table); i++) {
        g_autofree char *got = snapshot_default_overlay_name(table[i][0], table[i][1]);

        g_assert_cmpstr(got, ==, table[i][2]);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *path =
            g_strdup_printf("/snapshot/golden/%s%s%s", cases[i].name, cases[i].variant ? "." : "",
                            cases[i].variant ? cases[i].variant : "");
        g_test_add_data_func(path, &cases[i], test_golden);
    }
    g_test_add_func("/snapshot/active-only-internal", test_active_only_internal);
    g_test_add_func("/snapshot/errors", test_errors);
    g_test_add_func("/snapshot/validate-flag", test_validate_flag);
    g_test_add_func("/snapshot/align/defaults", test_align_defaults);
    g_test_add_func("/snapshot/align/by-path-and-file", test_align_by_path_and_file);
    g_test_add_func("/snapshot/align/errors", test_align_errors);
    g_test_add_func("/snapshot/default-names", test_default_names);
    return g_test_run();
}
