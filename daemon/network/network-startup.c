/* hearthd's start-up: definitions from disk, libvirt's default network on the first start,
 * networks a previous hearthd left running, autostart. */
#include "network-driver-priv.h"
#include "bridge-netlink.h"
#include "hearth-config.h"
#include "hearth-error.h"

#include <glib/gi18n-lib.h>
#include <string.h>

static char *default_network_file(void)
{
    g_autofree char *installed = g_build_filename(HEARTH_DATA_DIR, "networks", "default.xml", NULL);

    if (g_file_test(installed, G_FILE_TEST_IS_REGULAR))
        return g_steal_pointer(&installed);
    return g_build_filename(HEARTH_SOURCE_DATA_DIR, "networks", "default.xml", NULL);
}

/* As libvirt's package does on installation: `default` defined and marked autostart. */
static void define_default(NetworkDriver *drv)
{
    g_autofree char *path = default_network_file();
    g_autofree char *xml = NULL;
    g_autoptr(GError) error = NULL;
    HearthNetworkDef *def;
    HearthNetwork *net;
    gboolean is_new;
    gsize len;

    if (!g_file_get_contents(path, &xml, &len, &error)) {
        g_warning("cannot define the default network: %s", error->message);
        return;
    }
    def = network_def_parse(xml, len, 0, &error);
    if (!def || !(net = network_driver_define(drv, def, &is_new, &error)) ||
        !network_driver_set_autostart(drv, net, TRUE, &error)) {
        g_warning("cannot define the default network from '%s': %s", path, error->message);
        return;
    }
    g_info("defined network 'default' (bridge %s) and marked it autostart", net->def->bridge);
}

static void load_configs(NetworkDriver *drv)
{
    g_autoptr(GPtrArray) defs = network_store_load_configs(drv->paths);

    for (guint i = 0; i < defs->len; i++) {
        HearthNetworkDef *def = g_ptr_array_index(defs, i);
        HearthNetwork *net;

        if (network_driver_lookup_by_uuid(drv, def->uuid)) {
            g_warning("network '%s' repeats the uuid of another definition; ignored", def->name);
            continue;
        }
        net = g_new0(HearthNetwork, 1);
        net->def = g_steal_pointer(&defs->pdata[i]);
        net->persistent = TRUE;
        net->autostart = network_store_get_autostart(drv->paths, net->def->name);
        network_driver_index_add(drv, net);
    }
    /* Definitions written by hand may lack a bridge name: give them one now. */
    {
        g_autoptr(GPtrArray) all = network_driver_list(drv);

        for (guint i = 0; i < all->len; i++) {
            HearthNetwork *net = g_ptr_array_index(all, i);
            g_autoptr(GError) error = NULL;

            if (!network_def_is_virtual(net->def) ||
                (net->def->bridge && !strstr(net->def->bridge, "%d")))
                continue;
            if (!network_driver_assign_bridge(drv, net->def, net, &error) ||
                !network_store_write_config(drv->paths, net->def, &error))
                g_warning("network '%s': %s", net->def->name, error->message);
        }
    }
}

/* A network a previous hearthd left running. */
static void adopt(NetworkDriver *drv, const char *name)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GHashTable) state = NULL;
    HearthNetworkDef *live = NULL;
    NetworkRuntime *rt;
    HearthNetwork *net;
    NetworkTools tools = {0};

    if (!network_store_read_status(drv->paths, name, &live, &state, &error)) {
        g_warning("cannot read the live state of network '%s': %s", name, error->message);
        return;
    }
    rt = network_runtime_from_state(state);
    net = network_driver_lookup_by_name(drv, name);
    if (net && memcmp(net->def->uuid, live->uuid, 16) != 0)
        net = NULL;
    if (rt->bridge && !netlink_link_exists(rt->bridge)) {
        g_warning("network '%s' was active, but its bridge '%s' is gone: cleaning up and "
                  "marking it inactive",
                  name, rt->bridge);
        g_clear_pointer(&rt->bridge, g_free);
        network_teardown(drv->paths, name, rt, NULL);
        network_runtime_free(rt);
        network_def_free(live);
        return;
    }
    if (!net) {
        if (network_driver_lookup_by_name(drv, name) ||
            network_driver_lookup_by_uuid(drv, live->uuid)) {
            g_warning("live network '%s' clashes with another definition; leaving it alone", name);
            network_runtime_free(rt);
            network_def_free(live);
            return;
        }
        net = g_new0(HearthNetwork, 1);
        net->def = network_def_copy(live);
        network_driver_index_add(drv, net);
    }
    net->live = live;
    net->rt = rt;
    if (!network_tools_find(live, &tools, &error) ||
        !network_refresh(drv->paths, &tools, live, rt, &error))
        g_warning("network '%s' is active but could not be fully restored: %s", name,
                  error->message);
    network_tools_clear(&tools);
    network_jobs_watch_dnsmasq(drv, net);
    g_info("re-adopted active network '%s'%s", name, rt->dnsmasq.pid ? " and its dnsmasq" : "");
}

void network_driver_load(NetworkDriver *drv)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) active = NULL;
    gboolean first_start = FALSE;

    if (!network_paths_create(drv->paths, &first_start, &error)) {
        g_warning("networks unavailable: %s", error->message);
        return;
    }
    if (!drv->host_guard)
        network_delete_leftovers();
    load_configs(drv);
    if (first_start)
        define_default(drv);
    active = network_store_list_status(drv->paths);
    for (guint i = 0; i < active->len; i++) {
        /* A bridge of that name here is not ours to take over (see host_guard). */
        if (drv->host_guard)
            g_warning("not adopting network '%s': --root in a namespace with a default route",
                      (const char *)g_ptr_array_index(active, i));
        else
            adopt(drv, g_ptr_array_index(active, i));
    }
    g_info("loaded %u networks (%u active)", network_driver_count(drv), active->len);
}

void network_driver_autostart(NetworkDriver *drv)
{
    g_autoptr(GPtrArray) all = network_driver_list(drv);

    for (guint i = 0; i < all->len; i++) {
        HearthNetwork *net = g_ptr_array_index(all, i);
        g_autoptr(GError) error = NULL;

        if (!net->autostart || hearth_network_is_active(net))
            continue;
        if (drv->host_guard && network_def_is_virtual(net->def)) {
            g_info("not autostarting network '%s': --root in a namespace with a default route",
                   net->def->name);
            continue;
        }
        if (!network_jobs_start_sync(drv, net, &error))
            g_warning("cannot autostart network '%s': %s", net->def->name, error->message);
    }
}
