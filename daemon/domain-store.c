#include "domain-store.h"
#include "atomic-file.h"
#include "hearth-error.h"
#include "uuid-util.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

struct DomainStore {
    char *domain_dir;
    char *autostart_dir;
    GHashTable *by_name; /* name → HearthDomain (owns) */
    GHashTable *by_uuid; /* uuid bytes → HearthDomain */
    GHashTable *by_id;   /* id → HearthDomain, active only */
};

static void hearth_domain_free(HearthDomain *dom)
{
    domain_def_free(dom->def);
    domain_def_free(dom->live);
    g_free(dom);
}

DomainStore *domain_store_new(const char *domain_dir, const char *autostart_dir)
{
    DomainStore *store = g_new0(DomainStore, 1);

    store->domain_dir = g_strdup(domain_dir);
    store->autostart_dir = g_strdup(autostart_dir);
    store->by_name =
        g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)hearth_domain_free);
    store->by_uuid = g_hash_table_new(hearth_uuid_hash, hearth_uuid_equal);
    store->by_id = g_hash_table_new(g_direct_hash, g_direct_equal);
    return store;
}

void domain_store_free(DomainStore *store)
{
    if (!store)
        return;
    g_hash_table_unref(store->by_uuid);
    g_hash_table_unref(store->by_id);
    g_hash_table_unref(store->by_name);
    g_free(store->domain_dir);
    g_free(store->autostart_dir);
    g_free(store);
}

const HearthDomainDef *hearth_domain_current_def(const HearthDomain *dom)
{
    return dom->live ? dom->live : dom->def;
}

gboolean hearth_domain_is_active(const HearthDomain *dom)
{
    return dom->id >= 0;
}

/* Indexes key on the persistent definition's strings; a live copy has the same name and uuid. */
static const char *dom_name(const HearthDomain *dom)
{
    return dom->def->name;
}

static const guint8 *dom_uuid(const HearthDomain *dom)
{
    return dom->def->uuid;
}

static char *def_path(DomainStore *store, const char *name)
{
    g_autofree char *file = g_strconcat(name, ".xml", NULL);

    return g_build_filename(store->domain_dir, file, NULL);
}

static char *autostart_path(DomainStore *store, const char *name)
{
    g_autofree char *file = g_strconcat(name, ".xml", NULL);

    return g_build_filename(store->autostart_dir, file, NULL);
}

static void index_add(DomainStore *store, HearthDomain *dom)
{
    g_hash_table_insert(store->by_name, (gpointer)dom_name(dom), dom);
    g_hash_table_insert(store->by_uuid, (gpointer)dom_uuid(dom), dom);
    if (dom->id >= 0)
        g_hash_table_insert(store->by_id, GINT_TO_POINTER(dom->id), dom);
}

/* Unindex without freeing. */
static void index_remove(DomainStore *store, HearthDomain *dom)
{
    g_hash_table_remove(store->by_uuid, dom_uuid(dom));
    if (dom->id >= 0)
        g_hash_table_remove(store->by_id, GINT_TO_POINTER(dom->id));
    g_hash_table_steal(store->by_name, dom_name(dom));
}

static void move_aside(const char *path, const char *why)
{
    g_autofree char *dest =
        g_strdup_printf("%s.corrupt-%" G_GINT64_FORMAT, path, g_get_real_time() / G_USEC_PER_SEC);

    if (rename(path, dest) < 0)
        g_warning("cannot move aside '%s': %s", path, g_strerror(errno));
    else
        g_warning("domain definition '%s' is unusable (%s); moved to '%s'", path, why, dest);
}

/* One definition file as read and parsed by a loader thread. */
typedef struct {
    char *file;
    HearthDomainDef *def;
    GError *error;
} LoadSlot;

/* Larger than any definition the parser accepts: a bigger file fails to parse. */
#define DOMAIN_FILE_MAX (8u * 1024 * 1024)

typedef struct {
    const char *dir;
    LoadSlot *slots;
    guint n_slots;
    guint first; /* this thread parses slots first, first + stride, ... */
    guint stride;
} LoadJob;

static gpointer load_thread(gpointer data)
{
    LoadJob *job = data;
    int dirfd = open(job->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    gsize cap = 16384;
    g_autofree char *buf = g_malloc(cap);

    /* One buffer per thread and openat(): with thousands of small files the system calls,
     * not the parsing, would otherwise dominate. */
    for (guint i = job->first; i < job->n_slots; i += job->stride) {
        LoadSlot *slot = &job->slots[i];
        gsize len = 0;
        int fd = dirfd >= 0 ? openat(dirfd, slot->file, O_RDONLY | O_CLOEXEC) : -1;

        if (fd < 0) {
            g_set_error(&slot->error, G_FILE_ERROR, g_file_error_from_errno(errno),
                        "cannot open: %s", g_strerror(errno));
            continue;
        }
        for (;;) {
            ssize_t n;

            if (len == cap) {
                if (cap >= DOMAIN_FILE_MAX) {
                    break;
                }
                cap *= 2;
                buf = g_realloc(buf, cap);
            }
            n = read(fd, buf + len, cap - len);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                break;
            len += (gsize)n;
        }
        close(fd);
        slot->def = domain_def_parse(buf, len, 0, &slot->error);
    }
    if (dirfd >= 0)
        close(dirfd);
    return NULL;
}

/* Parsing dominates start-up with many definitions: spread it over the CPUs. */
static void parse_all(const char *dir, LoadSlot *slots, guint n)
{
    guint n_threads = CLAMP(g_get_num_processors(), 1, 8);
    LoadJob jobs[8];
    GThread *threads[8];

    if (n < 64)
        n_threads = 1;
    for (guint t = 0; t < n_threads; t++) {
        jobs[t] =
            (LoadJob){.dir = dir, .slots = slots, .n_slots = n, .first = t, .stride = n_threads};
        threads[t] = t == 0 ? NULL : g_thread_new("hearth-load", load_thread, &jobs[t]);
    }
    load_thread(&jobs[0]);
    for (guint t = 1; t < n_threads; t++)
        g_thread_join(threads[t]);
}

static void load_slot(DomainStore *store, LoadSlot *slot, GHashTable *autostart)
{
    g_autofree char *path = g_build_filename(store->domain_dir, slot->file, NULL);
    g_autofree char *expected = g_strndup(slot->file, strlen(slot->file) - 4);
    g_autofree char *link = NULL;
    HearthDomainDef *def = g_steal_pointer(&slot->def);
    HearthDomain *dom;

    if (!def) {
        if (g_error_matches(slot->error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
            return;
        move_aside(path, slot->error->message);
        return;
    }
    if (!g_str_equal(def->name, expected)) {
        g_autofree char *why = g_strdup_printf("it defines '%s', not '%s'", def->name, expected);
        domain_def_free(def);
        move_aside(path, why);
        return;
    }
    if (g_hash_table_contains(store->by_uuid, def->uuid)) {
        domain_def_free(def);
        move_aside(path, "its uuid is already used by another definition");
        return;
    }
    dom = g_new0(HearthDomain, 1);
    dom->def = def;
    dom->persistent = TRUE;
    dom->id = -1;
    dom->state = DOMAIN_STATE_SHUTOFF;
    link = g_strconcat(def->name, ".xml", NULL);
    dom->autostart = g_hash_table_contains(autostart, link);
    index_add(store, dom);
}

/* Names in the autostart directory, read once rather than probed per domain. */
static GHashTable *read_autostart_names(const char *dir_path)
{
    GHashTable *set = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_autoptr(GDir) dir = g_dir_open(dir_path, 0, NULL);
    const char *name;

    while (dir && (name = g_dir_read_name(dir)))
        g_hash_table_add(set, g_strdup(name));
    return set;
}

/* Temporary files of writes a crash interrupted: their rename never happened, so the
 * definition they were meant to replace is intact beside them. */
static void remove_stale_temp_files(const char *dir_path)
{
    g_autoptr(GDir) dir = g_dir_open(dir_path, 0, NULL);
    const char *name;

    while (dir && (name = g_dir_read_name(dir))) {
        if (strstr(name, ".xml.tmp-") || g_str_has_suffix(name, ".xml.tmp")) {
            g_autofree char *path = g_build_filename(dir_path, name, NULL);
            g_info("removing leftover temporary file '%s'", path);
            g_unlink(path);
        }
    }
}

static gint compare_slot_names(gconstpointer a, gconstpointer b)
{
    return strcmp(((const LoadSlot *)a)->file, ((const LoadSlot *)b)->file);
}

void domain_store_load(DomainStore *store)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GDir) dir = g_dir_open(store->domain_dir, 0, &error);
    g_autoptr(GArray) slots = g_array_new(FALSE, TRUE, sizeof(LoadSlot));
    g_autoptr(GHashTable) autostart = NULL;
    const char *name;
    gint64 start = g_get_monotonic_time();

    if (!dir) {
        g_warning("cannot read domain directory: %s", error->message);
        return;
    }
    remove_stale_temp_files(store->domain_dir);
    remove_stale_temp_files(store->autostart_dir);
    while ((name = g_dir_read_name(dir))) {
        LoadSlot slot = {0};

        if (name[0] == '.' || !g_str_has_suffix(name, ".xml") || strlen(name) <= 4)
            continue;
        slot.file = g_strdup(name);
        g_array_append_val(slots, slot);
    }
    parse_all(store->domain_dir, (LoadSlot *)slots->data, slots->len);
    autostart = read_autostart_names(store->autostart_dir);
    /* Index in a stable order so that a uuid clash always keeps the same file. */
    g_array_sort(slots, compare_slot_names);
    for (guint i = 0; i < slots->len; i++) {
        LoadSlot *slot = &g_array_index(slots, LoadSlot, i);
        load_slot(store, slot, autostart);
        g_clear_error(&slot->error);
        g_free(slot->file);
    }
    g_info("loaded %u domain definitions in %.1f ms", g_hash_table_size(store->by_name),
           (g_get_monotonic_time() - start) / 1000.0);
}

guint domain_store_count(DomainStore *store)
{
    return g_hash_table_size(store->by_name);
}

HearthDomain *domain_store_lookup_by_name(DomainStore *store, const char *name)
{
    return name ? g_hash_table_lookup(store->by_name, name) : NULL;
}

HearthDomain *domain_store_lookup_by_uuid(DomainStore *store, const guint8 *uuid)
{
    return g_hash_table_lookup(store->by_uuid, uuid);
}

HearthDomain *domain_store_lookup_by_id(DomainStore *store, gint32 id)
{
    return id >= 0 ? g_hash_table_lookup(store->by_id, GINT_TO_POINTER(id)) : NULL;
}

static gint compare_for_listing(gconstpointer a, gconstpointer b)
{
    const HearthDomain *x = *(HearthDomain *const *)a;
    const HearthDomain *y = *(HearthDomain *const *)b;

    if (x->id >= 0 && y->id >= 0)
        return x->id < y->id ? -1 : x->id > y->id;
    if (x->id >= 0)
        return -1;
    if (y->id >= 0)
        return 1;
    return strcmp(dom_name(x), dom_name(y));
}

GPtrArray *domain_store_list(DomainStore *store)
{
    GPtrArray *list = g_ptr_array_sized_new(g_hash_table_size(store->by_name));
    GHashTableIter it;
    gpointer value;

    g_hash_table_iter_init(&it, store->by_name);
    while (g_hash_table_iter_next(&it, NULL, &value))
        g_ptr_array_add(list, value);
    g_ptr_array_sort(list, compare_for_listing);
    return list;
}

static gboolean write_def(DomainStore *store, const HearthDomainDef *def, GError **error)
{
    g_autofree char *path = def_path(store, def->name);
    g_autofree char *xml =
        domain_def_format(def, DOMAIN_DEF_FORMAT_SECURE | DOMAIN_DEF_FORMAT_INACTIVE);

    return atomic_file_write(path, xml, strlen(xml), 0600, error);
}

HearthDomain *domain_store_define(DomainStore *store, HearthDomainDef *def, gboolean *is_new,
                                  GError **error)
{
    g_autoptr(HearthDomainDef) owned = def;
    HearthDomain *by_uuid = domain_store_lookup_by_uuid(store, def->uuid);
    HearthDomain *by_name = domain_store_lookup_by_name(store, def->name);
    char uuidstr[HEARTH_UUID_STRING_LEN];

    if (!domain_name_check(def->name, error))
        return NULL;
    if (by_uuid && !g_str_equal(dom_name(by_uuid), def->name)) {
        hearth_uuid_format(def->uuid, uuidstr);
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_OPERATION_FAILED,
                    _("domain '%s' is already defined with uuid %s"), dom_name(by_uuid), uuidstr);
        return NULL;
    }
    if (by_name && by_name != by_uuid) {
        hearth_uuid_format(dom_uuid(by_name), uuidstr);
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_OPERATION_FAILED,
                    _("domain '%s' already exists with uuid %s"), def->name, uuidstr);
        return NULL;
    }
    if (!write_def(store, def, error))
        return NULL;

    *is_new = by_uuid == NULL || !by_uuid->persistent;
    if (by_uuid) {
        /* While running, the new definition takes effect at the next start. */
        by_uuid->updated = by_uuid->live != NULL;
        index_remove(store, by_uuid);
        domain_def_free(by_uuid->def);
        by_uuid->def = g_steal_pointer(&owned);
        index_add(store, by_uuid);
        by_uuid->persistent = TRUE;
        return by_uuid;
    }

    HearthDomain *dom = g_new0(HearthDomain, 1);
    dom->def = g_steal_pointer(&owned);
    dom->persistent = TRUE;
    dom->id = -1;
    dom->state = DOMAIN_STATE_SHUTOFF;
    index_add(store, dom);
    return dom;
}

gboolean domain_store_replace_def(DomainStore *store, HearthDomain *dom, HearthDomainDef *def,
                                  GError **error)
{
    g_autoptr(HearthDomainDef) owned = def;

    if (!g_str_equal(def->name, dom->def->name) || memcmp(def->uuid, dom->def->uuid, 16) != 0) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_INTERNAL,
                    _("a replacement definition must keep the name and uuid"));
        return FALSE;
    }
    if (dom->persistent && !write_def(store, def, error))
        return FALSE;
    /* The indexes point into the definition's strings: re-key them around the swap. */
    index_remove(store, dom);
    domain_def_free(dom->def);
    dom->def = g_steal_pointer(&owned);
    index_add(store, dom);
    return TRUE;
}

static gboolean remove_autostart_link(DomainStore *store, const char *name, GError **error)
{
    g_autofree char *link = autostart_path(store, name);

    return atomic_file_remove(link, error);
}

gboolean domain_store_undefine(DomainStore *store, HearthDomain *dom, GError **error)
{
    g_autofree char *path = NULL;

    if (!dom->persistent) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_OPERATION_INVALID,
                    _("cannot undefine transient domain"));
        return FALSE;
    }
    path = def_path(store, dom->def->name);
    if (!remove_autostart_link(store, dom->def->name, error) || !atomic_file_remove(path, error))
        return FALSE;
    dom->autostart = FALSE;
    if (dom->live) {
        /* A running domain stays, as a transient one, until it stops. */
        dom->persistent = FALSE;
        return TRUE;
    }
    index_remove(store, dom);
    hearth_domain_free(dom);
    return TRUE;
}

gboolean domain_store_set_autostart(DomainStore *store, HearthDomain *dom, gboolean autostart,
                                    GError **error)
{
    g_autofree char *link = NULL;
    g_autofree char *target = NULL;
    g_autofree char *tmp = NULL;

    if (!dom->persistent) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_OPERATION_INVALID,
                    _("cannot set autostart for transient domain"));
        return FALSE;
    }
    if (dom->autostart == autostart)
        return TRUE;
    link = autostart_path(store, dom->def->name);
    if (!autostart) {
        if (!atomic_file_remove(link, error))
            return FALSE;
        dom->autostart = FALSE;
        return TRUE;
    }
    /* A symlink made under a temporary name and renamed into place appears atomically. */
    target = def_path(store, dom->def->name);
    tmp = g_strconcat(link, ".tmp", NULL);
    unlink(tmp);
    if (symlink(target, tmp) < 0 || rename(tmp, link) < 0) {
        hearth_error_set_errno(error, errno, "cannot create autostart link '%s'", link);
        unlink(tmp);
        return FALSE;
    }
    dom->autostart = TRUE;
    return TRUE;
}

HearthDomain *domain_store_add_transient(DomainStore *store, HearthDomainDef *def, GError **error)
{
    g_autoptr(HearthDomainDef) owned = def;
    HearthDomain *clash = domain_store_lookup_by_uuid(store, def->uuid);
    char uuidstr[HEARTH_UUID_STRING_LEN];
    HearthDomain *dom;

    if (!domain_name_check(def->name, error))
        return NULL;
    if (!clash)
        clash = domain_store_lookup_by_name(store, def->name);
    if (clash) {
        hearth_uuid_format(dom_uuid(clash), uuidstr);
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_OPERATION_FAILED,
                    _("domain '%s' already exists with uuid %s"), dom_name(clash), uuidstr);
        return NULL;
    }
    dom = g_new0(HearthDomain, 1);
    dom->def = g_steal_pointer(&owned);
    dom->persistent = FALSE;
    dom->id = -1;
    dom->state = DOMAIN_STATE_SHUTOFF;
    index_add(store, dom);
    return dom;
}

void domain_store_remove(DomainStore *store, HearthDomain *dom)
{
    index_remove(store, dom);
    hearth_domain_free(dom);
}

void domain_store_set_id(DomainStore *store, HearthDomain *dom, gint32 id)
{
    if (dom->id >= 0)
        g_hash_table_remove(store->by_id, GINT_TO_POINTER(dom->id));
    dom->id = id;
    if (id >= 0)
        g_hash_table_insert(store->by_id, GINT_TO_POINTER(id), dom);
}

gboolean domain_store_rename(DomainStore *store, HearthDomain *dom, const char *new_name,
                             GError **error)
{
    g_autofree char *old_name = NULL;
    g_autofree char *old_path = NULL;
    g_autoptr(GError) name_error = NULL;
    gboolean had_autostart = dom->autostart;

    if (!domain_name_check(new_name, &name_error)) {
        /* as libvirt: a bad new name is an XML error, like a bad <name> */
        g_set_error_literal(error, HEARTH_ERROR, HEARTH_ERR_XML_ERROR, name_error->message);
        return FALSE;
    }
    if (hearth_domain_is_active(dom)) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_OPERATION_INVALID,
                    _("cannot rename active domain"));
        return FALSE;
    }
    if (!dom->persistent) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_OPERATION_INVALID,
                    _("cannot rename a transient domain"));
        return FALSE;
    }
    if (domain_store_lookup_by_name(store, new_name)) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_OPERATION_INVALID,
                    _("domain with name '%s' already exists"), new_name);
        return FALSE;
    }
    old_name = g_strdup(dom->def->name);
    old_path = def_path(store, old_name);

    /* Write the new file first: a crash in between leaves two copies, never none. */
    index_remove(store, dom);
    g_free(dom->def->name);
    dom->def->name = g_strdup(new_name);
    if (!write_def(store, dom->def, error)) {
        g_free(dom->def->name);
        dom->def->name = g_steal_pointer(&old_name);
        index_add(store, dom);
        return FALSE;
    }
    index_add(store, dom);
    if (had_autostart) {
        dom->autostart = FALSE;
        if (!domain_store_set_autostart(store, dom, TRUE, error))
            return FALSE;
        remove_autostart_link(store, old_name, NULL);
    }
    return atomic_file_remove(old_path, error);
}
