/* The host side of a virtual network, in libvirt's order: bridge (MAC, MTU, STP), firewall
 * table, addresses, link up, IPv4 forwarding, dnsmasq, status files. What was done is
 * recorded in a NetworkRuntime, and teardown undoes exactly that, in reverse. Nothing here
 * touches driver state, so it can run in a worker thread. */
#pragma once

#include "dnsmasq-process.h"
#include "network-def.h"
#include "network-store.h"

#include <glib.h>

G_BEGIN_DECLS

/* Programs a network needs; NULL where it needs none. */
typedef struct {
    char *nft;
    char *dnsmasq;
    char *helper; /* hearth-leases */
} NetworkTools;

void network_tools_clear(NetworkTools *tools);
/* Find what @def needs ($HEARTH_NFT, $HEARTH_DNSMASQ, $HEARTH_LEASES_HELPER override). */
gboolean network_tools_find(const HearthNetworkDef *def, NetworkTools *tools, GError **error);

struct NetworkRuntime {
    char *bridge;       /* the bridge we created */
    char *table;        /* the nftables table we loaded */
    char *dnsmasq_conf; /* identifies our dnsmasq in its command line */
    DnsmasqPid dnsmasq;
    /* main thread only: the watch on dnsmasq's pidfd */
    int pidfd;
    guint watch;
    gint64 dnsmasq_since;      /* monotonic time it was last (re)started or adopted */
    const NetworkPaths *paths; /* the driver's, for restarting dnsmasq */
};
typedef struct NetworkRuntime NetworkRuntime;

NetworkRuntime *network_runtime_new(void);
void network_runtime_free(NetworkRuntime *rt);
GHashTable *network_runtime_to_state(const NetworkRuntime *rt);
NetworkRuntime *network_runtime_from_state(GHashTable *state);

/* Refuse before touching anything: @def's subnets must not overlap a route of the host. */
gboolean network_check_routes(const HearthNetworkDef *def, GError **error);

/* Bring the network up; on failure everything done so far is undone and @rt is empty. */
gboolean network_bringup(const NetworkPaths *paths, const NetworkTools *tools,
                         const HearthNetworkDef *live, NetworkRuntime *rt, GError **error);
/* Undo what @rt records: dnsmasq, the bridge (down, then deleted), the firewall table,
 * the status files; steps that fail are logged and the rest still done. With @retired, the
 * bridge is only set down and renamed "hearth-delN" (its name is free again at once) and
 * *@retired gets that name for network_delete_retired(), which the caller runs after
 * replying: deleting a bridge costs the kernel ~40 ms. */
void network_teardown(const NetworkPaths *paths, const char *name, NetworkRuntime *rt,
                      char **retired);
void network_delete_retired(const char *retired);
/* At start-up: delete retired bridges a previous hearthd had no time to delete. */
void network_delete_leftovers(void);

/* After a hearthd restart: load the firewall table again (someone may have flushed the
 * ruleset) and start dnsmasq if it is no longer running. */
gboolean network_refresh(const NetworkPaths *paths, const NetworkTools *tools,
                         const HearthNetworkDef *live, NetworkRuntime *rt, GError **error);

G_END_DECLS
