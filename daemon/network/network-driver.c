/* The set of networks: definitions, lookups, what guests and clients ask. Starting and
 * stopping is network-jobs.c, hearthd's start-up network-startup.c. */
#include "network-driver-priv.h"
#include "bridge-netlink.h"
#include "hearth-error.h"
#include "uuid-util.h"

#include <glib/gi18n-lib.h>
#include <net/if.h>
#include <string.h>

static void hearth_network_free(HearthNetwork *net)
{
    network_def_free(net->def);
    network_def_free(net->live);
    network_runtime_free(net->rt);
    g_free(net);
}

/* A namespace with a default route reaches other networks: a real host's, not a test's
 * (comparing with PID 1's namespace fails in containers, where that one is often not ours
 * and not readable). */
static gboolean has_default_route(void)
{
    g_autofree char *v4 = NULL, *v6 = NULL;
    g_auto(GStrv) lines = NULL;

    if (g_file_get_contents("/proc/net/route", &v4, NULL, NULL)) {
        lines = g_strsplit(v4, "\n", -1);
        for (char **l = lines; *l; l++) {
            g_auto(GStrv) f = g_strsplit_set(*l, " \t", -1);
            g_autoptr(GPtrArray) cols = g_ptr_array_new();

            for (char **c = f; *c; c++)
                if (**c)
                    g_ptr_array_add(cols, *c);
            if (cols->len >= 8 && strcmp(cols->pdata[1], "00000000") == 0 &&
                strcmp(cols->pdata[7], "00000000") == 0)
                return TRUE;
        }
    }
    /* IPv6: destination ::/0 through anything but lo */
    if (g_file_get_contents("/proc/net/ipv6_route", &v6, NULL, NULL)) {
        g_auto(GStrv) l6 = g_strsplit(v6, "\n", -1);

        for (char **l = l6; *l; l++) {
            if (g_str_has_prefix(*l, "00000000000000000000000000000000 00 ") &&
                !g_str_has_suffix(g_strstrip(*l), " lo"))
                return TRUE;
        }
    }
    return FALSE;
}

NetworkDriver *network_driver_new(const char *qemu_config_dir, const char *run_dir,
                                  const char *state_dir, gboolean private_root)
{
    NetworkDriver *drv = g_new0(NetworkDriver, 1);

    drv->paths = network_paths_new(qemu_config_dir, run_dir, state_dir);
    drv->host_guard = private_root && has_default_route() &&
                      g_strcmp0(g_getenv("HEARTH_ALLOW_HOST_NETWORK"), "1") != 0;
    drv->by_name =
        g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)hearth_network_free);
    drv->by_uuid = g_hash_table_new(hearth_uuid_hash, hearth_uuid_equal);
    return drv;
}

void network_driver_free(NetworkDriver *drv)
{
    if (!drv)
        return;
    /* Let running start/stop threads finish; their completions see shutting_down. */
    drv->shutting_down = TRUE;
    while (drv->jobs)
        g_main_context_iteration(NULL, TRUE);
    g_hash_table_unref(drv->by_uuid);
    g_hash_table_unref(drv->by_name);
    network_paths_free(drv->paths);
    g_free(drv);
}

/* ---- the set of networks ---- */

void network_driver_index_add(NetworkDriver *drv, HearthNetwork *net)
{
    g_hash_table_insert(drv->by_name, net->def->name, net);
    g_hash_table_insert(drv->by_uuid, net->def->uuid, net);
}

static void index_remove(NetworkDriver *drv, HearthNetwork *net)
{
    g_hash_table_remove(drv->by_uuid, net->def->uuid);
    g_hash_table_steal(drv->by_name, net->def->name);
}

void network_driver_forget(NetworkDriver *drv, HearthNetwork *net)
{
    index_remove(drv, net);
    hearth_network_free(net);
}

guint network_driver_count(NetworkDriver *drv)
{
    return g_hash_table_size(drv->by_name);
}

static gint compare_by_name(gconstpointer a, gconstpointer b)
{
    const HearthNetwork *x = *(HearthNetwork *const *)a, *y = *(HearthNetwork *const *)b;

    return strcmp(x->def->name, y->def->name);
}

GPtrArray *network_driver_list(NetworkDriver *drv)
{
    GPtrArray *list = g_ptr_array_sized_new(g_hash_table_size(drv->by_name));
    GHashTableIter it;
    gpointer value;

    g_hash_table_iter_init(&it, drv->by_name);
    while (g_hash_table_iter_next(&it, NULL, &value))
        g_ptr_array_add(list, value);
    g_ptr_array_sort(list, compare_by_name);
    return list;
}

HearthNetwork *network_driver_lookup_by_name(NetworkDriver *drv, const char *name)
{
    return name ? g_hash_table_lookup(drv->by_name, name) : NULL;
}

HearthNetwork *network_driver_lookup_by_uuid(NetworkDriver *drv, const guint8 *uuid)
{
    return g_hash_table_lookup(drv->by_uuid, uuid);
}

const HearthNetworkDef *hearth_network_current_def(const HearthNetwork *net)
{
    return net->live ? net->live : net->def;
}

gboolean hearth_network_is_active(const HearthNetwork *net)
{
    return net->live != NULL;
}

/* The network (other than @except) whose definition or live copy uses @bridge. */
static HearthNetwork *bridge_user(NetworkDriver *drv, const char *bridge, HearthNetwork *except)
{
    GHashTableIter it;
    gpointer value;

    g_hash_table_iter_init(&it, drv->by_name);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        HearthNetwork *n = value;

        if (n == except)
            continue;
        if (g_strcmp0(n->def->bridge, bridge) == 0 ||
            (n->live && g_strcmp0(n->live->bridge, bridge) == 0))
            return n;
    }
    return NULL;
}

/* Names taken by other networks and by the host's devices. */
gboolean network_driver_assign_bridge(NetworkDriver *drv, HearthNetworkDef *def,
                                      HearthNetwork *except, GError **error)
{
    g_autoptr(GHashTable) in_use = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    struct if_nameindex *ifs = if_nameindex();
    GHashTableIter it;
    gpointer value;

    for (struct if_nameindex *i = ifs; i && i->if_index; i++)
        g_hash_table_add(in_use, g_strdup(i->if_name));
    if (ifs)
        if_freenameindex(ifs);
    g_hash_table_iter_init(&it, drv->by_name);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        HearthNetwork *n = value;

        if (n == except)
            continue;
        if (n->def->bridge)
            g_hash_table_add(in_use, g_strdup(n->def->bridge));
        if (n->live && n->live->bridge)
            g_hash_table_add(in_use, g_strdup(n->live->bridge));
    }
    return network_def_assign_bridge(def, in_use, error);
}

static gboolean check_unique(NetworkDriver *drv, const HearthNetworkDef *def, gboolean transient,
                             GError **error)
{
    HearthNetwork *by_uuid = network_driver_lookup_by_uuid(drv, def->uuid);
    HearthNetwork *by_name = network_driver_lookup_by_name(drv, def->name);
    HearthNetwork *clash = by_name && (transient || by_name != by_uuid) ? by_name : NULL;
    char uuid[HEARTH_UUID_STRING_LEN];

    if (!clash && by_uuid && (transient || !g_str_equal(by_uuid->def->name, def->name)))
        clash = by_uuid;
    if (!clash)
        return TRUE;
    hearth_uuid_format(clash->def->uuid, uuid);
    g_set_error(error, HEARTH_ERROR, HEARTH_ERR_OPERATION_FAILED,
                _("network '%s' already exists with uuid %s"), clash->def->name, uuid);
    return FALSE;
}

static gboolean check_bridge(NetworkDriver *drv, HearthNetworkDef *def, HearthNetwork *existing,
                             GError **error)
{
    HearthNetwork *user;

    /* A redefinition without a bridge name keeps the one it had. */
    if (!def->bridge && existing && existing->def->bridge && network_def_is_virtual(def))
        def->bridge = g_strdup(existing->def->bridge);
    if (def->bridge && !strstr(def->bridge, "%d") &&
        (user = bridge_user(drv, def->bridge, existing))) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_OPERATION_FAILED,
                    _("bridge name '%s' is already in use by network '%s'"), def->bridge,
                    user->def->name);
        return FALSE;
    }
    return network_driver_assign_bridge(drv, def, existing, error);
}

HearthNetwork *network_driver_define(NetworkDriver *drv, HearthNetworkDef *def, gboolean *is_new,
                                     GError **error)
{
    g_autoptr(HearthNetworkDef) owned = def;
    HearthNetwork *existing;
    HearthNetwork *net;

    if (!network_name_check(def->name, error) || !check_unique(drv, def, FALSE, error))
        return NULL;
    existing = network_driver_lookup_by_uuid(drv, def->uuid);
    if (!check_bridge(drv, def, existing, error) ||
        !network_store_write_config(drv->paths, def, error))
        return NULL;
    *is_new = !existing || !existing->persistent;
    if (existing) {
        index_remove(drv, existing);
        network_def_free(existing->def);
        existing->def = g_steal_pointer(&owned);
        existing->persistent = TRUE;
        network_driver_index_add(drv, existing);
        return existing;
    }
    net = g_new0(HearthNetwork, 1);
    net->def = g_steal_pointer(&owned);
    net->persistent = TRUE;
    network_driver_index_add(drv, net);
    return net;
}

HearthNetwork *network_driver_add_transient(NetworkDriver *drv, HearthNetworkDef *def,
                                            GError **error)
{
    g_autoptr(HearthNetworkDef) owned = def;
    HearthNetwork *net;

    if (!network_name_check(def->name, error) || !check_unique(drv, def, TRUE, error) ||
        !check_bridge(drv, def, NULL, error))
        return NULL;
    net = g_new0(HearthNetwork, 1);
    net->def = g_steal_pointer(&owned);
    network_driver_index_add(drv, net);
    return net;
}

void network_driver_remove_transient(NetworkDriver *drv, HearthNetwork *net)
{
    if (!net->persistent && !net->live && net->busy == NETWORK_IDLE)
        network_driver_forget(drv, net);
}

gboolean network_driver_check_idle(const HearthNetwork *net, GError **error)
{
    if (net->busy == NETWORK_IDLE)
        return TRUE;
    g_set_error(error, HEARTH_ERROR, HEARTH_ERR_OPERATION_INVALID,
                _("network '%s' is being %s; try again when that has finished"), net->def->name,
                net->busy == NETWORK_STARTING ? _("started") : _("stopped"));
    return FALSE;
}

gboolean network_driver_undefine(NetworkDriver *drv, HearthNetwork *net, GError **error)
{
    if (!net->persistent) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_OPERATION_INVALID,
                    _("cannot undefine transient network"));
        return FALSE;
    }
    if (!network_driver_check_idle(net, error) ||
        !network_store_delete_config(drv->paths, net->def->name, error))
        return FALSE;
    net->persistent = FALSE;
    net->autostart = FALSE;
    if (!hearth_network_is_active(net))
        network_driver_forget(drv, net);
    return TRUE;
}

gboolean network_driver_set_autostart(NetworkDriver *drv, HearthNetwork *net, gboolean autostart,
                                      GError **error)
{
    if (!net->persistent) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_OPERATION_INVALID,
                    _("cannot set autostart for transient network"));
        return FALSE;
    }
    if (net->autostart == autostart)
        return TRUE;
    if (!network_store_set_autostart(drv->paths, net->def->name, autostart, error))
        return FALSE;
    net->autostart = autostart;
    return TRUE;
}

/* ---- what guests and clients ask ---- */

GPtrArray *network_driver_leases(NetworkDriver *drv, HearthNetwork *net, const char *mac,
                                 GError **error)
{
    g_autofree char *path = NULL;
    GPtrArray *leases;

    if (!net->live || !net->live->bridge)
        return g_ptr_array_new_with_free_func((GDestroyNotify)network_lease_free);
    path = network_paths_file(drv->paths->dnsmasq_dir, net->live->bridge, ".status");
    leases = network_leases_load(path, error);
    if (!leases)
        return NULL;
    network_leases_expire(leases, g_get_real_time() / G_USEC_PER_SEC);
    for (guint i = leases->len; mac && i-- > 0;) {
        const NetworkLease *l = g_ptr_array_index(leases, i);

        if (g_ascii_strcasecmp(l->mac, mac) != 0)
            g_ptr_array_remove_index(leases, i);
    }
    return leases;
}

gboolean network_driver_port_bridge(NetworkDriver *drv, const char *network_name, char **bridge_out,
                                    int *mtu_out, GError **error)
{
    HearthNetwork *net = network_driver_lookup_by_name(drv, network_name);
    guint mtu;

    if (!net) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_NO_NETWORK,
                    _("Network not found: no network with matching name '%s'"), network_name);
        return FALSE;
    }
    if (!net->live) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_OPERATION_INVALID,
                    _("network '%s' is not active"), network_name);
        return FALSE;
    }
    if (!net->live->bridge) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_CONFIG_UNSUPPORTED,
                    _("network '%s' has no bridge to attach guests to"), network_name);
        return FALSE;
    }
    mtu = net->live->mtu ? net->live->mtu : netlink_link_get_mtu(net->live->bridge);
    if (bridge_out)
        *bridge_out = g_strdup(net->live->bridge);
    if (mtu_out)
        *mtu_out = (int)mtu;
    return TRUE;
}
