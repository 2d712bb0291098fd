#include "qemu-machines.h"
#include "atomic-file.h"
#include "hearth-error.h"

#include <errno.h>
#include <glib/gi18n-lib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_HELP_SIZE (1024 * 1024)
#define CACHE_MAGIC "# hearth qemu machine cache v1"

typedef struct {
    char *stamp; /* "mtime size" of the binary the list came from */
    GPtrArray *machines;
} CacheEntry;

static GMutex cache_lock;
static GHashTable *memory_cache; /* binary path -> CacheEntry */
static char *cache_dir;

static void cache_entry_free(gpointer p)
{
    CacheEntry *e = p;

    g_free(e->stamp);
    g_ptr_array_unref(e->machines);
    g_free(e);
}

static void qemu_machine_free(gpointer p)
{
    QemuMachine *m = p;

    g_free(m->name);
    g_free(m->canonical);
    g_free(m);
}

/* "pc-q35-2.8" -> 2, 8; FALSE when @name does not start with @prefix and a version. */
static gboolean machine_version(const char *name, const char *prefix, guint *major, guint *minor)
{
    const char *p;
    char *end;

    if (!g_str_has_prefix(name, prefix))
        return FALSE;
    p = name + strlen(prefix);
    if (!g_ascii_isdigit(*p))
        return FALSE;
    *major = (guint)g_ascii_strtoull(p, &end, 10);
    *minor = 0;
    if (*end == '.')
        *minor = (guint)g_ascii_strtoull(end + 1, NULL, 10);
    return TRUE;
}

/* `-machine help` does not print CPU limits; these are QEMU's for the x86 machine families. */
static guint machine_max_cpus(const char *name)
{
    guint major, minor;

    if (g_str_equal(name, "isapc") || g_str_equal(name, "x-remote"))
        return 1;
    if (g_str_equal(name, "microvm"))
        return 288;
    if (machine_version(name, "pc-q35-", &major, &minor))
        return (major > 2 || (major == 2 && minor >= 8)) ? 288 : 255;
    return 255;
}

/* Strips a trailing "(...)" group from @desc if it is one we know, reporting which. */
static gboolean strip_marker(char *desc, QemuMachine *m)
{
    gsize len = strlen(desc);
    char *open;

    if (len == 0 || desc[len - 1] != ')')
        return FALSE;
    open = strrchr(desc, '(');
    if (!open)
        return FALSE;
    desc[len - 1] = '\0';
    if (g_str_equal(open + 1, "default")) {
        m->is_default = TRUE;
    } else if (g_str_equal(open + 1, "deprecated")) {
        m->deprecated = TRUE;
    } else if (g_str_has_prefix(open + 1, "alias of ") && !m->canonical) {
        m->canonical = g_strstrip(g_strdup(open + 1 + strlen("alias of ")));
    } else {
        desc[len - 1] = ')';
        return FALSE;
    }
    *open = '\0';
    g_strchomp(desc);
    return TRUE;
}

GPtrArray *qemu_machines_parse(const char *text)
{
    GPtrArray *machines = g_ptr_array_new_with_free_func(qemu_machine_free);
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);

    for (guint i = 0; lines[i]; i++) {
        char *line = g_strstrip(lines[i]);
        char *space;
        QemuMachine *m;

        if (*line == '\0' || g_str_has_suffix(line, ":"))
            continue; /* blank or the "Supported machines are:" header */
        space = strpbrk(line, " \t");
        m = g_new0(QemuMachine, 1);
        m->name = space ? g_strndup(line, (gsize)(space - line)) : g_strdup(line);
        if (space) {
            g_autofree char *desc = g_strstrip(g_strdup(space));

            while (strip_marker(desc, m))
                ;
        }
        /* "none" starts no guest; libvirt does not list it either. */
        if (g_str_equal(m->name, "none") || (m->canonical && *m->canonical == '\0')) {
            qemu_machine_free(m);
            continue;
        }
        g_ptr_array_add(machines, m);
    }
    for (guint i = 0; i < machines->len; i++) {
        QemuMachine *m = machines->pdata[i];

        m->max_cpus = machine_max_cpus(m->canonical ? m->canonical : m->name);
    }
    return machines;
}

const QemuMachine *qemu_machines_lookup(GPtrArray *machines, const char *name)
{
    for (guint i = 0; i < machines->len; i++) {
        const QemuMachine *m = machines->pdata[i];

        if (!g_str_equal(m->name, name))
            continue;
        if (!m->canonical)
            return m;
        for (guint j = 0; j < machines->len; j++) {
            const QemuMachine *c = machines->pdata[j];

            if (!c->canonical && g_str_equal(c->name, m->canonical))
                return c;
        }
        return NULL;
    }
    return NULL;
}

const char *qemu_machines_default(GPtrArray *machines)
{
    for (guint i = 0; i < machines->len; i++) {
        const QemuMachine *m = machines->pdata[i];

        if (m->is_default)
            return m->canonical ? m->canonical : m->name;
    }
    for (guint i = 0; i < machines->len; i++) {
        const QemuMachine *m = machines->pdata[i];

        if (!m->canonical)
            return m->name;
    }
    return NULL;
}

void qemu_machines_set_cache_dir(const char *dir)
{
    g_mutex_lock(&cache_lock);
    g_free(cache_dir);
    cache_dir = g_strdup(dir);
    g_mutex_unlock(&cache_lock);
}

void qemu_machines_reset(void)
{
    g_mutex_lock(&cache_lock);
    g_clear_pointer(&memory_cache, g_hash_table_unref);
    g_mutex_unlock(&cache_lock);
}

/* Runs `BINARY -machine help`. GLib's plain spawn keeps hearthd off GIO (and the libraries it
 * pulls in), which matters for the daemon's memory footprint; the probe prints a few KiB and
 * exits at once, so a synchronous call once per binary is fine. */
static char *probe_help(const char *binary, GError **error)
{
    const char *argv[] = {binary, "-machine", "help", NULL};
    g_auto(GStrv) env = g_environ_setenv(g_get_environ(), "LC_ALL", "C", TRUE);
    g_autoptr(GError) local = NULL;
    char *out = NULL;
    int status = 0;

    if (!g_spawn_sync(NULL, (char **)argv, env, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &out, NULL,
                      &status, &local)) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_INTERNAL, _("cannot run '%s': %s"), binary,
                    local->message);
        return NULL;
    }
    if (!g_spawn_check_wait_status(status, NULL)) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_INTERNAL, _("'%s -machine help' failed"),
                    binary);
        g_free(out);
        return NULL;
    }
    if (!out || strlen(out) > MAX_HELP_SIZE) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_INTERNAL,
                    _("unexpected output from '%s -machine help'"), binary);
        g_free(out);
        return NULL;
    }
    return out;
}

static char *cache_file_path(const char *dir, const char *binary)
{
    g_autofree char *sum = g_compute_checksum_for_string(G_CHECKSUM_SHA256, binary, -1);
    g_autofree char *name = g_strdup_printf("qemu-machines-%.16s.txt", sum);

    return g_build_filename(dir, name, NULL);
}

static char *cache_header(const char *binary, const char *stamp)
{
    return g_strdup_printf(CACHE_MAGIC "\nbinary=%s\nstamp=%s\n\n", binary, stamp);
}

/* The help text stored for @binary with @stamp, or NULL when missing or stale. */
static char *cache_file_load(const char *dir, const char *binary, const char *stamp)
{
    g_autofree char *path = cache_file_path(dir, binary);
    g_autofree char *header = cache_header(binary, stamp);
    g_autofree char *text = NULL;

    if (!g_file_get_contents(path, &text, NULL, NULL) || !g_str_has_prefix(text, header))
        return NULL;
    return g_strdup(text + strlen(header));
}

/* Best effort: a cache that cannot be written only costs a probe next time. */
static void cache_file_store(const char *dir, const char *binary, const char *stamp,
                             const char *help)
{
    g_autofree char *path = cache_file_path(dir, binary);
    g_autofree char *header = cache_header(binary, stamp);
    g_autofree char *data = g_strconcat(header, help, NULL);

    if (!hearth_mkdir_p(dir, 0755, NULL))
        return;
    atomic_file_write(path, data, strlen(data), 0644, NULL);
}

GPtrArray *qemu_machines_get(const char *binary, GError **error)
{
    g_autofree char *stamp = NULL;
    g_autofree char *help = NULL;
    CacheEntry *entry;
    GPtrArray *result = NULL;
    struct stat st;

    if (stat(binary, &st) < 0) {
        hearth_error_set_errno(error, errno, _("cannot access '%s'"), binary);
        return NULL;
    }
    stamp = g_strdup_printf("%lld.%09ld %lld", (long long)st.st_mtim.tv_sec,
                            (long)st.st_mtim.tv_nsec, (long long)st.st_size);

    /* Held across the probe, so that concurrent callers wait for one probe. */
    g_mutex_lock(&cache_lock);
    if (!memory_cache)
        memory_cache = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, cache_entry_free);
    entry = g_hash_table_lookup(memory_cache, binary);
    if (entry && g_str_equal(entry->stamp, stamp)) {
        result = g_ptr_array_ref(entry->machines);
        goto out;
    }
    if (cache_dir)
        help = cache_file_load(cache_dir, binary, stamp);
    if (!help) {
        help = probe_help(binary, error);
        if (!help)
            goto out;
        if (cache_dir)
            cache_file_store(cache_dir, binary, stamp, help);
    }
    entry = g_new0(CacheEntry, 1);
    entry->stamp = g_strdup(stamp);
    entry->machines = qemu_machines_parse(help);
    g_hash_table_replace(memory_cache, g_strdup(binary), entry);
    result = g_ptr_array_ref(entry->machines);
out:
    g_mutex_unlock(&cache_lock);
    return result;
}
