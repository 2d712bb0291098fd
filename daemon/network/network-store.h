/* Where networks live on disk, as libvirt keeps them:
 *   CONFIG/qemu/networks/NAME.xml            persistent definitions (0600, written durably)
 *   CONFIG/qemu/networks/autostart/NAME.xml  autostart symlinks
 *   RUN/network/NAME.xml, NAME.state         live definition and what we set up for it
 *   RUN/network/NAME.pid                     dnsmasq's pid file
 *   STATE/dnsmasq/NAME.conf, BRIDGE.status (leases)                            */
#pragma once

#include "network-def.h"

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
    char *config_dir;
    char *autostart_dir;
    char *run_dir;
    char *dnsmasq_dir;
} NetworkPaths;

/* @qemu_config_dir is CONFIG/qemu; @run_root RUN; @state_root STATE. */
NetworkPaths *network_paths_new(const char *qemu_config_dir, const char *run_root,
                                const char *state_root);
void network_paths_free(NetworkPaths *paths);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NetworkPaths, network_paths_free)

/* Create the directories; FALSE if the config directory had to be created (first start). */
gboolean network_paths_create(const NetworkPaths *paths, gboolean *first_start, GError **error);

/* A file of a network: dir/NAME + suffix. */
char *network_paths_file(const char *dir, const char *name, const char *suffix);

gboolean network_store_write_config(const NetworkPaths *paths, const HearthNetworkDef *def,
                                    GError **error);
/* Remove the definition and its autostart link. */
gboolean network_store_delete_config(const NetworkPaths *paths, const char *name, GError **error);
gboolean network_store_set_autostart(const NetworkPaths *paths, const char *name,
                                     gboolean autostart, GError **error);
gboolean network_store_get_autostart(const NetworkPaths *paths, const char *name);

/* Every CONFIG/qemu/networks/NAME.xml that parses and is named NAME; the others are logged
 * and moved aside (NAME.xml.corrupt-TIME). */
GPtrArray *network_store_load_configs(const NetworkPaths *paths);

/* Live state: the definition and a key=value record (written state first, XML last, so an
 * XML file always has its record). */
gboolean network_store_write_status(const NetworkPaths *paths, const HearthNetworkDef *live,
                                    GHashTable *state, GError **error);
void network_store_delete_status(const NetworkPaths *paths, const char *name);
/* Names of networks with a RUN/network/NAME.xml. */
GPtrArray *network_store_list_status(const NetworkPaths *paths);
gboolean network_store_read_status(const NetworkPaths *paths, const char *name,
                                   HearthNetworkDef **live, GHashTable **state, GError **error);

G_END_DECLS
