#include "atomic-file.h"
#include "uuid-util.h"

#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>

static void test_write_replace(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = g_dir_make_tmp("atomic-XXXXXX", &error);
    g_autofree char *path = g_build_filename(dir, "def.xml", NULL);
    g_autofree char *content = NULL;
    GDir *d;
    struct stat st;
    int entries = 0;

    g_assert_no_error(error);
    g_assert_true(atomic_file_write(path, "one", 3, 0600, &error));
    g_assert_no_error(error);
    g_assert_true(atomic_file_write(path, "second", 6, 0600, &error));
    g_assert_true(g_file_get_contents(path, &content, NULL, NULL));
    g_assert_cmpstr(content, ==, "second");
    g_assert_cmpint(g_stat(path, &st), ==, 0);
    g_assert_cmpint(st.st_mode & 0777, ==, 0600);

    /* No temporary files are left behind. */
    d = g_dir_open(dir, 0, NULL);
    while (g_dir_read_name(d))
        entries++;
    g_dir_close(d);
    g_assert_cmpint(entries, ==, 1);

    g_assert_true(atomic_file_remove(path, &error));
    g_assert_true(atomic_file_remove(path, &error)); /* missing is fine */
    g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
    g_rmdir(dir);
}

static void test_write_into_missing_dir(void)
{
    g_autoptr(GError) error = NULL;

    g_assert_false(atomic_file_write("/nonexistent-dir/x/y.xml", "a", 1, 0600, &error));
    g_assert_error(error, g_quark_from_static_string("hearth-error-quark"), 38);
    g_assert_nonnull(strstr(error->message, "/nonexistent-dir/x/y.xml"));
}

static void test_uuid_roundtrip(void)
{
    guint8 u[HEARTH_UUID_LEN], v[HEARTH_UUID_LEN];
    char s[HEARTH_UUID_STRING_LEN];

    g_assert_true(hearth_uuid_parse("77a7cfd9-3c2b-4f4e-9d1b-0123456789ab", u));
    hearth_uuid_format(u, s);
    g_assert_cmpstr(s, ==, "77a7cfd9-3c2b-4f4e-9d1b-0123456789ab");
    g_assert_true(hearth_uuid_parse("77A7CFD93C2B4F4E9D1B0123456789AB", v));
    g_assert_cmpmem(u, 16, v, 16);
    g_assert_false(hearth_uuid_parse("77a7cfd9-3c2b-4f4e-9d1b-0123456789", v));
    g_assert_false(hearth_uuid_parse("77a7cfd9-3c2b-4f4e-9d1b-0123456789abcd", v));
    g_assert_false(hearth_uuid_parse("zza7cfd9-3c2b-4f4e-9d1b-0123456789ab", v));
    hearth_uuid_generate(u);
    g_assert_false(hearth_uuid_is_null(u));
}

/* Sequential UUIDs (…-000000000001, …-000000000002, as scripts write them) must spread over a
 * table's buckets: a hash of the first bytes alone put 10,000 of them in one bucket. */
static void test_uuid_hash_spread(void)
{
    g_autoptr(GHashTable) low_bits = g_hash_table_new(g_direct_hash, g_direct_equal);
    g_autoptr(GHashTable) low_bits_front = g_hash_table_new(g_direct_hash, g_direct_equal);

    for (guint i = 0; i < 10000; i++) {
        char s[HEARTH_UUID_STRING_LEN];
        guint8 u[HEARTH_UUID_LEN];

        g_snprintf(s, sizeof(s), "be000000-0000-4000-8000-%012x", i);
        g_assert_true(hearth_uuid_parse(s, u));
        g_hash_table_add(low_bits, GUINT_TO_POINTER((hearth_uuid_hash(u) & 0x3fff) + 1));
        g_snprintf(s, sizeof(s), "%08x-0000-4000-8000-000000000000", i);
        g_assert_true(hearth_uuid_parse(s, u));
        g_hash_table_add(low_bits_front, GUINT_TO_POINTER((hearth_uuid_hash(u) & 0x3fff) + 1));
    }
    /* 10,000 random values in 16,384 buckets occupy about 6,300 of them. */
    g_assert_cmpuint(g_hash_table_size(low_bits), >, 5000);
    g_assert_cmpuint(g_hash_table_size(low_bits_front), >, 5000);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/atomic-file/write-replace", test_write_replace);
    g_test_add_func("/atomic-file/missing-dir", test_write_into_missing_dir);
    g_test_add_func("/uuid/roundtrip", test_uuid_roundtrip);
    g_test_add_func("/uuid/hash-spread", test_uuid_hash_spread);
    return g_test_run();
}
