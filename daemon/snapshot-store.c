#include "snapshot-store.h"
#include "uuid-util.h"
#include "atomic-file.h"
#include "hearth-error.h"

#include <glib/gi18n-lib.h>
#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

/* virDomainSnapshotListFlags */
enum {
    LIST_METADATA = 1 << 1,
    LIST_LEAVES = 1 << 2,
    LIST_NO_LEAVES = 1 << 3,
    LIST_NO_METADATA = 1 << 4,
    LIST_INACTIVE = 1 << 5,
    LIST_ACTIVE = 1 << 6,
    LIST_DISK_ONLY = 1 << 7,
    LIST_INTERNAL = 1 << 8,
    LIST_EXTERNAL = 1 << 9,
};

struct SnapshotList {
    char *dir;
    GHashTable *by_name; /* name → HearthSnapshotDef * (owned) */
    char *current;       /* borrowed from the current snapshot's def */
};

static GHashTable *lists; /* domain uuid (16 bytes) → SnapshotList * */

static void list_free(SnapshotList *list)
{
    g_free(list->dir);
    g_hash_table_unref(list->by_name);
    g_free(list);
}

static char *domain_dir(HearthDaemon *daemon, const HearthDomain *dom)
{
    return g_build_filename(daemon->paths->state_dir, "qemu", "snapshot", dom->def->name, NULL);
}

static char *file_path(SnapshotList *list, const char *name)
{
    g_autofree char *base = g_strconcat(name, ".xml", NULL);

    return g_build_filename(list->dir, base, NULL);
}

static void load_dir(SnapshotList *list)
{
    g_autoptr(GDir) d = g_dir_open(list->dir, 0, NULL);
    const char *entry;

    while (d && (entry = g_dir_read_name(d))) {
        g_autofree char *path = g_build_filename(list->dir, entry, NULL);
        g_autofree char *xml = NULL;
        g_autofree char *want = NULL;
        g_autoptr(GError) error = NULL;
        HearthSnapshotDef *def;
        gsize len;

        if (!g_str_has_suffix(entry, ".xml"))
            continue;
        want = g_strndup(entry, strlen(entry) - 4);
        if (!g_file_get_contents(path, &xml, &len, &error) ||
            !(def = snapshot_def_parse(xml, len, SNAPSHOT_PARSE_INTERNAL, &error))) {
            g_warning("ignoring snapshot metadata %s: %s", path, error->message);
            continue;
        }
        if (g_strcmp0(def->name, want) != 0 || g_hash_table_contains(list->by_name, want)) {
            g_warning("ignoring snapshot metadata %s: it names snapshot '%s'", path,
                      def->name ? def->name : "");
            snapshot_def_free(def);
            continue;
        }
        if (def->current && list->current)
            def->current = FALSE;
        if (def->current)
            list->current = def->name;
        g_hash_table_insert(list->by_name, def->name, def);
    }
}

SnapshotList *snapshot_store_get(HearthDaemon *daemon, const HearthDomain *dom)
{
    SnapshotList *list;

    if (!lists)
        lists = g_hash_table_new_full(hearth_uuid_hash, hearth_uuid_equal, g_free,
                                      (GDestroyNotify)list_free);
    list = g_hash_table_lookup(lists, dom->def->uuid);
    if (list) {
        g_autofree char *dir = domain_dir(daemon, dom);

        /* The directory follows the domain's name (a rename since the list was read). */
        if (!g_str_equal(dir, list->dir)) {
            if (g_file_test(list->dir, G_FILE_TEST_IS_DIR) && g_rename(list->dir, dir) < 0)
                g_warning("cannot move snapshot metadata %s to %s: %s", list->dir, dir,
                          g_strerror(errno));
            g_free(list->dir);
            list->dir = g_steal_pointer(&dir);
        }
        return list;
    }
    list = g_new0(SnapshotList, 1);
    list->dir = domain_dir(daemon, dom);
    list->by_name =
        g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)snapshot_def_free);
    load_dir(list);
    g_hash_table_insert(lists, g_memdup2(dom->def->uuid, 16), list);
    return list;
}

guint snapshot_store_count(HearthDaemon *daemon, const HearthDomain *dom)
{
    return snapshot_list_count(snapshot_store_get(daemon, dom));
}

gboolean snapshot_store_forget(HearthDaemon *daemon, const HearthDomain *dom, GError **error)
{
    SnapshotList *list = snapshot_store_get(daemon, dom);
    GHashTableIter it;
    gpointer name;

    g_hash_table_iter_init(&it, list->by_name);
    while (g_hash_table_iter_next(&it, &name, NULL)) {
        g_autofree char *path = file_path(list, name);

        if (!atomic_file_remove(path, error))
            return FALSE;
    }
    g_rmdir(list->dir);
    g_hash_table_remove(lists, dom->def->uuid);
    return TRUE;
}

guint snapshot_list_count(SnapshotList *list)
{
    return g_hash_table_size(list->by_name);
}

HearthSnapshotDef *snapshot_list_lookup(SnapshotList *list, const char *name)
{
    return name ? g_hash_table_lookup(list->by_name, name) : NULL;
}

HearthSnapshotDef *snapshot_list_get(SnapshotList *list, const char *name, GError **error)
{
    HearthSnapshotDef *def = snapshot_list_lookup(list, name);

    if (!def)
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_NO_DOMAIN_SNAPSHOT,
                    _("no domain snapshot with matching name '%s'"), name ? name : "");
    return def;
}

HearthSnapshotDef *snapshot_list_current(SnapshotList *list)
{
    return snapshot_list_lookup(list, list->current);
}

static gint compare_age(gconstpointer a, gconstpointer b)
{
    const HearthSnapshotDef *x = *(HearthSnapshotDef *const *)a;
    const HearthSnapshotDef *y = *(HearthSnapshotDef *const *)b;

    if (x->creation_time != y->creation_time)
        return x->creation_time < y->creation_time ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* Snapshots whose parent is @parent (NULL: roots, including those whose parent is gone). */
static GPtrArray *direct_children(SnapshotList *list, const char *parent)
{
    GPtrArray *out = g_ptr_array_new();
    GHashTableIter it;
    gpointer value;

    g_hash_table_iter_init(&it, list->by_name);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        HearthSnapshotDef *def = value;
        gboolean root = !def->parent || !g_hash_table_contains(list->by_name, def->parent);

        if (parent ? g_strcmp0(def->parent, parent) == 0 && !root : root)
            g_ptr_array_add(out, def);
    }
    g_ptr_array_sort(out, compare_age);
    return out;
}

static void add_subtree(SnapshotList *list, const char *name, GPtrArray *out, guint depth)
{
    g_autoptr(GPtrArray) kids = direct_children(list, name);

    /* Parent links come from files: a cycle must not recurse forever. */
    if (depth > g_hash_table_size(list->by_name))
        return;
    for (guint i = 0; i < kids->len; i++) {
        HearthSnapshotDef *def = kids->pdata[i];

        g_ptr_array_add(out, def);
        add_subtree(list, def->name, out, depth + 1);
    }
}

GPtrArray *snapshot_list_all(SnapshotList *list)
{
    GPtrArray *out = g_ptr_array_new();

    add_subtree(list, NULL, out, 0);
    return out;
}

GPtrArray *snapshot_list_children(SnapshotList *list, const char *name, gboolean descendants)
{
    GPtrArray *out;

    if (!descendants)
        return direct_children(list, name);
    out = g_ptr_array_new();
    add_subtree(list, name, out, 0);
    return out;
}

static gboolean write_def(SnapshotList *list, const HearthSnapshotDef *def, GError **error)
{
    g_autofree char *path = file_path(list, def->name);
    g_autofree char *xml =
        snapshot_def_format(def, SNAPSHOT_FORMAT_INTERNAL | SNAPSHOT_FORMAT_SECURE);

    if (!hearth_mkdir_p(list->dir, 0700, error))
        return FALSE;
    return atomic_file_write(path, xml, strlen(xml), 0600, error);
}

gboolean snapshot_list_save(SnapshotList *list, HearthSnapshotDef *def, GError **error)
{
    return write_def(list, def, error);
}

gboolean snapshot_list_set_current(SnapshotList *list, const char *name, GError **error)
{
    HearthSnapshotDef *old = snapshot_list_current(list);
    HearthSnapshotDef *def = snapshot_list_lookup(list, name);

    if (old == def)
        return TRUE;
    if (old) {
        old->current = FALSE;
        if (!write_def(list, old, error)) {
            old->current = TRUE;
            return FALSE;
        }
        list->current = NULL;
    }
    if (def) {
        def->current = TRUE;
        if (!write_def(list, def, error)) {
            def->current = FALSE;
            return FALSE;
        }
        list->current = def->name;
    }
    return TRUE;
}

gboolean snapshot_list_add(SnapshotList *list, HearthSnapshotDef *def, gboolean make_current,
                           GError **error)
{
    g_autoptr(HearthSnapshotDef) owned = def;

    if (g_hash_table_contains(list->by_name, def->name)) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_OPERATION_FAILED,
                    _("domain moment %s already exists"), def->name);
        return FALSE;
    }
    /* Written once, already marked current; then the old current loses its mark. */
    def->current = make_current;
    if (!write_def(list, def, error))
        return FALSE;
    g_hash_table_insert(list->by_name, def->name, g_steal_pointer(&owned));
    if (make_current) {
        HearthSnapshotDef *old = snapshot_list_current(list);

        list->current = def->name;
        if (old && old != def) {
            old->current = FALSE;
            if (!write_def(list, old, error))
                return FALSE;
        }
    }
    return TRUE;
}

gboolean snapshot_list_remove(SnapshotList *list, const char *name, GError **error)
{
    HearthSnapshotDef *def = snapshot_list_lookup(list, name);
    g_autofree char *path = NULL;
    g_autoptr(GPtrArray) kids = NULL;

    if (!def)
        return snapshot_list_get(list, name, error) != NULL;
    /* Children first: they name their new parent before this one goes. */
    kids = direct_children(list, name);
    for (guint i = 0; i < kids->len; i++) {
        HearthSnapshotDef *kid = kids->pdata[i];

        g_free(kid->parent);
        kid->parent = g_strdup(def->parent);
        if (!write_def(list, kid, error))
            return FALSE;
    }
    if (def->current && !snapshot_list_set_current(list, def->parent, error))
        return FALSE;
    path = file_path(list, name);
    if (!atomic_file_remove(path, error))
        return FALSE;
    if (list->current == def->name)
        list->current = NULL;
    g_hash_table_remove(list->by_name, name);
    return TRUE;
}

static gboolean is_external(const HearthSnapshotDef *def)
{
    if (def->memory == HEARTH_SNAPSHOT_LOC_EXTERNAL)
        return TRUE;
    for (guint i = 0; def->disks && i < def->disks->len; i++) {
        const HearthSnapshotDisk *d = def->disks->pdata[i];

        if (d->snapshot == HEARTH_SNAPSHOT_LOC_EXTERNAL)
            return TRUE;
    }
    return FALSE;
}

gboolean snapshot_list_matches(SnapshotList *list, const HearthSnapshotDef *def, guint flags)
{
    if ((flags & (LIST_LEAVES | LIST_NO_LEAVES)) &&
        (flags & (LIST_LEAVES | LIST_NO_LEAVES)) != (LIST_LEAVES | LIST_NO_LEAVES)) {
        g_autoptr(GPtrArray) kids = direct_children(list, def->name);

        if ((flags & LIST_LEAVES) ? kids->len > 0 : kids->len == 0)
            return FALSE;
    }
    /* Every snapshot Hearth lists has metadata. */
    if ((flags & LIST_NO_METADATA) && !(flags & LIST_METADATA))
        return FALSE;
    if (flags & (LIST_INACTIVE | LIST_ACTIVE | LIST_DISK_ONLY)) {
        const char *st = def->state ? def->state : "";
        gboolean ok = g_str_equal(st, "shutoff")         ? (flags & LIST_INACTIVE) != 0
                      : g_str_equal(st, "disk-snapshot") ? (flags & LIST_DISK_ONLY) != 0
                                                         : (flags & LIST_ACTIVE) != 0;
        if (!ok)
            return FALSE;
    }
    if ((flags & (LIST_INTERNAL | LIST_EXTERNAL)) &&
        !((flags & LIST_EXTERNAL) ? is_external(def) : FALSE) &&
        !((flags & LIST_INTERNAL) ? !is_external(def) : FALSE))
        return FALSE;
    return TRUE;
}
