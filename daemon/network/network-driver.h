/* The daemon's networks: definitions (persistent ones on disk, transient ones in memory),
 * starting and stopping them, and what guests need from a running one. Start and stop run
 * in a worker thread and complete in the main loop; queries answer from memory. */
#pragma once

#include "network-def.h"
#include "network-leases.h"

#include <glib.h>

G_BEGIN_DECLS

typedef struct NetworkDriver NetworkDriver;
typedef struct NetworkRuntime NetworkRuntime;

typedef enum {
    NETWORK_IDLE = 0,
    NETWORK_STARTING,
    NETWORK_STOPPING,
} NetworkBusy;

typedef struct {
    HearthNetworkDef *def;  /* the persistent definition, or the transient one */
    HearthNetworkDef *live; /* the running definition; NULL while inactive */
    gboolean persistent;
    gboolean autostart;
    NetworkBusy busy;
    NetworkRuntime *rt; /* what was set up for it (driver-private); NULL while inactive */
} HearthNetwork;

/* @qemu_config_dir is CONFIG/qemu (networks go in its networks/ subdirectory). With
 * @private_root (hearthd --root) in a network namespace that has a default route (a real
 * host's), nothing is started: tests and demos must not change the host's network; run
 * them in a namespace of their own (HEARTH_ALLOW_HOST_NETWORK=1 lifts this). */
NetworkDriver *network_driver_new(const char *qemu_config_dir, const char *run_dir,
                                  const char *state_dir, gboolean private_root);
/* Frees memory only: running networks stay up for the next hearthd to adopt. */
void network_driver_free(NetworkDriver *drv);

/* At start-up: load the definitions (on the very first start, define libvirt's `default`
 * network and mark it autostart), then re-adopt the networks a previous hearthd left
 * running, restarting their dnsmasq if it died. */
void network_driver_load(NetworkDriver *drv);
/* At start-up, after loading: start the autostart networks (synchronously, so that guests
 * started afterwards find them). */
void network_driver_autostart(NetworkDriver *drv);

guint network_driver_count(NetworkDriver *drv);
/* All networks sorted by name (the array does not own them). */
GPtrArray *network_driver_list(NetworkDriver *drv);
HearthNetwork *network_driver_lookup_by_name(NetworkDriver *drv, const char *name);
HearthNetwork *network_driver_lookup_by_uuid(NetworkDriver *drv, const guint8 *uuid);

/* The definition a query should show: live when active, else the persistent one. */
const HearthNetworkDef *hearth_network_current_def(const HearthNetwork *net);
gboolean hearth_network_is_active(const HearthNetwork *net);

/* Define or redefine (takes @def); gives it a bridge name if it has none. An active
 * network keeps running with its live definition. */
HearthNetwork *network_driver_define(NetworkDriver *drv, HearthNetworkDef *def, gboolean *is_new,
                                     GError **error);
/* A network that exists only while it runs (takes @def); start it next. */
HearthNetwork *network_driver_add_transient(NetworkDriver *drv, HearthNetworkDef *def,
                                            GError **error);
/* Forget a transient network that never started (its start was refused). */
void network_driver_remove_transient(NetworkDriver *drv, HearthNetwork *net);
/* Remove the persistent definition; an inactive network is freed, an active one becomes
 * transient. */
gboolean network_driver_undefine(NetworkDriver *drv, HearthNetwork *net, GError **error);
gboolean network_driver_set_autostart(NetworkDriver *drv, HearthNetwork *net, gboolean autostart,
                                      GError **error);

typedef void (*NetworkDoneFunc)(const GError *error, gpointer user_data);

/* Checks come first and fail here (FALSE, @error set, @done not called) without touching
 * the host; otherwise the bring-up runs in a thread, is undone in reverse order if any
 * step fails, and @done is called from the main loop. A transient network that fails to
 * start, or stops, is removed before @done runs: look it up again by uuid. */
gboolean network_driver_start(NetworkDriver *drv, HearthNetwork *net, NetworkDoneFunc done,
                              gpointer user_data, GError **error);
gboolean network_driver_stop(NetworkDriver *drv, HearthNetwork *net, NetworkDoneFunc done,
                             gpointer user_data, GError **error);

/* Current leases of an active network (NetworkLease *, expired ones left out), those of
 * @mac only when given. An inactive network has none. */
GPtrArray *network_driver_leases(NetworkDriver *drv, HearthNetwork *net, const char *mac,
                                 GError **error);

/* For a guest interface on @network_name: the bridge to attach its tap to and the MTU to
 * give it. Errors: NO_NETWORK, OPERATION_INVALID "network 'x' is not active". */
gboolean network_driver_port_bridge(NetworkDriver *drv, const char *network_name, char **bridge_out,
                                    int *mtu_out, GError **error);

G_END_DECLS
