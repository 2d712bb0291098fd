/* The DHCP leases of one bridge, kept by the hearth-leases helper that dnsmasq runs on every
 * lease change (STATE/dnsmasq/BRIDGE.status, JSON in libvirt's format) and read back by
 * NETWORK_GET_DHCP_LEASES. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
    char *ip;
    char *mac;
    char *client_id; /* NULL when the client sent none */
    char *hostname;  /* NULL when the client sent none */
    gint64 expiry;   /* seconds since the epoch; 0 = never */
} NetworkLease;

void network_lease_free(NetworkLease *lease);

/* All leases in the file; a missing file is an empty list. */
GPtrArray *network_leases_load(const char *path, GError **error);
/* Write the list atomically (0644). */
gboolean network_leases_save(const char *path, GPtrArray *leases, GError **error);

/* Drop the leases that expired before @now; TRUE if any were dropped. */
gboolean network_leases_expire(GPtrArray *leases, gint64 now);

G_END_DECLS
