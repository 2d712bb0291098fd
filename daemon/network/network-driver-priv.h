/* What the network driver's files share: the driver itself, and the helpers one part
 * lends another. Not for use outside daemon/network/. */
#pragma once

#include "network-bringup.h"
#include "network-driver.h"
#include "network-store.h"

G_BEGIN_DECLS

struct NetworkDriver {
    NetworkPaths *paths;
    gboolean host_guard; /* refuse to change the host's own network namespace */
    GHashTable *by_name; /* name → HearthNetwork (owns) */
    GHashTable *by_uuid; /* uuid bytes → HearthNetwork */
    guint jobs;          /* start/stop threads not yet completed */
    gboolean shutting_down;
};

/* network-driver.c: the set of networks */
void network_driver_index_add(NetworkDriver *drv, HearthNetwork *net);
/* Unindex and free. */
void network_driver_forget(NetworkDriver *drv, HearthNetwork *net);
/* A free virbrN (or template expansion) for @def, skipping other networks' and devices'. */
gboolean network_driver_assign_bridge(NetworkDriver *drv, HearthNetworkDef *def,
                                      HearthNetwork *except, GError **error);
gboolean network_driver_check_idle(const HearthNetwork *net, GError **error);

/* network-jobs.c: start and stop */
/* Watch the network's dnsmasq and start it again if it dies after running a while. */
void network_jobs_watch_dnsmasq(NetworkDriver *drv, HearthNetwork *net);
/* Start in the calling thread (hearthd's start-up); FALSE only when the checks refuse. */
gboolean network_jobs_start_sync(NetworkDriver *drv, HearthNetwork *net, GError **error);

G_END_DECLS
