#include "network-store.h"
#include "atomic-file.h"
#include "hearth-error.h"

#include <errno.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

NetworkPaths *network_paths_new(const char *qemu_config_dir, const char *run_root,
                                const char *state_root)
{
    NetworkPaths *p = g_new0(NetworkPaths, 1);

    p->config_dir = g_build_filename(qemu_config_dir, "networks", NULL);
    p->autostart_dir = g_build_filename(p->config_dir, "autostart", NULL);
    p->run_dir = g_build_filename(run_root, "network", NULL);
    p->dnsmasq_dir = g_build_filename(state_root, "dnsmasq", NULL);
    return p;
}

void network_paths_free(NetworkPaths *p)
{
    if (!p)
        return;
    g_free(p->config_dir);
    g_free(p->autostart_dir);
    g_free(p->run_dir);
    g_free(p->dnsmasq_dir);
    g_free(p);
}

gboolean network_paths_create(const NetworkPaths *p, gboolean *first_start, GError **error)
{
    *first_start = !g_file_test(p->config_dir, G_FILE_TEST_IS_DIR);
    return hearth_mkdir_p(p->autostart_dir, 0755, error) &&
           hearth_mkdir_p(p->run_dir, 0755, error) && hearth_mkdir_p(p->dnsmasq_dir, 0755, error);
}

char *network_paths_file(const char *dir, const char *name, const char *suffix)
{
    g_autofree char *file = g_strconcat(name, suffix, NULL);

    return g_build_filename(dir, file, NULL);
}

gboolean network_store_write_config(const NetworkPaths *p, const HearthNetworkDef *def,
                                    GError **error)
{
    g_autofree char *path = network_paths_file(p->config_dir, def->name, ".xml");
    g_autofree char *xml = network_def_format(def);

    return atomic_file_write(path, xml, strlen(xml), 0600, error);
}

gboolean network_store_delete_config(const NetworkPaths *p, const char *name, GError **error)
{
    g_autofree char *path = network_paths_file(p->config_dir, name, ".xml");
    g_autofree char *link = network_paths_file(p->autostart_dir, name, ".xml");

    return atomic_file_remove(link, error) && atomic_file_remove(path, error);
}

gboolean network_store_get_autostart(const NetworkPaths *p, const char *name)
{
    g_autofree char *link = network_paths_file(p->autostart_dir, name, ".xml");

    return g_file_test(link, G_FILE_TEST_EXISTS);
}

gboolean network_store_set_autostart(const NetworkPaths *p, const char *name, gboolean autostart,
                                     GError **error)
{
    g_autofree char *link = network_paths_file(p->autostart_dir, name, ".xml");
    g_autofree char *target = NULL;
    g_autofree char *tmp = NULL;

    if (!autostart)
        return atomic_file_remove(link, error);
    /* A symlink made under a temporary name and renamed into place appears atomically. */
    target = network_paths_file(p->config_dir, name, ".xml");
    tmp = g_strconcat(link, ".tmp", NULL);
    unlink(tmp);
    if (symlink(target, tmp) < 0 || rename(tmp, link) < 0) {
        hearth_error_set_errno(error, errno, "cannot create autostart link '%s'", link);
        unlink(tmp);
        return FALSE;
    }
    return TRUE;
}

static void move_aside(const char *path, const char *why)
{
    g_autofree char *dest =
        g_strdup_printf("%s.corrupt-%" G_GINT64_FORMAT, path, g_get_real_time() / G_USEC_PER_SEC);

    if (rename(path, dest) < 0)
        g_warning("cannot move aside '%s': %s", path, g_strerror(errno));
    else
        g_warning("network definition '%s' is unusable (%s); moved to '%s'", path, why, dest);
}

GPtrArray *network_store_load_configs(const NetworkPaths *p)
{
    GPtrArray *defs = g_ptr_array_new_with_free_func((GDestroyNotify)network_def_free);
    g_autoptr(GError) error = NULL;
    GDir *dir = g_dir_open(p->config_dir, 0, &error);
    const char *file;

    if (!dir) {
        g_warning("cannot read network directory: %s", error->message);
        return defs;
    }
    while ((file = g_dir_read_name(dir))) {
        g_autofree char *path = NULL;
        g_autofree char *data = NULL;
        g_autofree char *expected = NULL;
        g_autoptr(GError) local = NULL;
        HearthNetworkDef *def;
        gsize len;

        if (file[0] == '.' || !g_str_has_suffix(file, ".xml") || strlen(file) <= 4)
            continue;
        path = g_build_filename(p->config_dir, file, NULL);
        if (!g_file_test(path, G_FILE_TEST_IS_REGULAR))
            continue;
        if (!g_file_get_contents(path, &data, &len, &local)) {
            g_warning("cannot read '%s': %s", path, local->message);
            continue;
        }
        def = network_def_parse(data, len, 0, &local);
        if (!def) {
            move_aside(path, local->message);
            continue;
        }
        expected = g_strndup(file, strlen(file) - 4);
        if (!g_str_equal(def->name, expected)) {
            g_autofree char *why =
                g_strdup_printf("it defines '%s', not '%s'", def->name, expected);

            network_def_free(def);
            move_aside(path, why);
            continue;
        }
        g_ptr_array_add(defs, def);
    }
    g_dir_close(dir);
    return defs;
}

gboolean network_store_write_status(const NetworkPaths *p, const HearthNetworkDef *live,
                                    GHashTable *state, GError **error)
{
    g_autofree char *xml_path = network_paths_file(p->run_dir, live->name, ".xml");
    g_autofree char *state_path = network_paths_file(p->run_dir, live->name, ".state");
    g_autofree char *xml = network_def_format(live);
    g_autoptr(GString) kv = g_string_new(NULL);
    g_autoptr(GList) keys = g_list_sort(g_hash_table_get_keys(state), (GCompareFunc)strcmp);

    for (GList *k = keys; k; k = k->next)
        g_string_append_printf(kv, "%s=%s\n", (const char *)k->data,
                               (const char *)g_hash_table_lookup(state, k->data));
    /* RUN is a tmpfs: consistent (rename) is enough, durable would only cost fsyncs. */
    return g_file_set_contents_full(state_path, kv->str, (gssize)kv->len,
                                    G_FILE_SET_CONTENTS_CONSISTENT, 0600, error) &&
           g_file_set_contents_full(xml_path, xml, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, error);
}

void network_store_delete_status(const NetworkPaths *p, const char *name)
{
    g_autofree char *xml_path = network_paths_file(p->run_dir, name, ".xml");
    g_autofree char *state_path = network_paths_file(p->run_dir, name, ".state");
    g_autofree char *nft_path = network_paths_file(p->run_dir, name, ".nft");

    unlink(xml_path);
    unlink(state_path);
    unlink(nft_path);
}

GPtrArray *network_store_list_status(const NetworkPaths *p)
{
    GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
    GDir *dir = g_dir_open(p->run_dir, 0, NULL);
    const char *file;

    while (dir && (file = g_dir_read_name(dir))) {
        if (file[0] != '.' && g_str_has_suffix(file, ".xml") && strlen(file) > 4)
            g_ptr_array_add(names, g_strndup(file, strlen(file) - 4));
    }
    if (dir)
        g_dir_close(dir);
    return names;
}

gboolean network_store_read_status(const NetworkPaths *p, const char *name, HearthNetworkDef **live,
                                   GHashTable **state, GError **error)
{
    g_autofree char *xml_path = network_paths_file(p->run_dir, name, ".xml");
    g_autofree char *state_path = network_paths_file(p->run_dir, name, ".state");
    g_autofree char *xml = NULL, *kv = NULL;
    g_auto(GStrv) lines = NULL;
    gsize len;
    HearthNetworkDef *def;
    GHashTable *table;

    if (!g_file_get_contents(xml_path, &xml, &len, error))
        return FALSE;
    def = network_def_parse(xml, len, 0, error);
    if (!def)
        return FALSE;
    table = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    if (g_file_get_contents(state_path, &kv, NULL, NULL)) {
        lines = g_strsplit(kv, "\n", -1);
        for (char **l = lines; *l; l++) {
            char *eq = strchr(*l, '=');

            if (eq)
                g_hash_table_insert(table, g_strndup(*l, (gsize)(eq - *l)), g_strdup(eq + 1));
        }
    }
    *live = def;
    *state = table;
    return TRUE;
}
