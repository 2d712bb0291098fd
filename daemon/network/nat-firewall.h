/* One nftables table per network (`table ip hearth_<name>`): generated from the definition,
 * loaded in one `nft -f -` transaction and removed with one `nft delete table`, so teardown
 * is atomic and touches nothing else. */
#pragma once

#include "network-def.h"

#include <glib.h>

G_BEGIN_DECLS

/* "hearth_" + the network name, with characters nft does not take in identifiers replaced
 * (and a hash added so different names never map to the same table). */
char *nat_firewall_table_name(const char *network_name);

/* The table for a virtual network, matching interfaces by name so it can be loaded before
 * the bridge exists. NULL for modes that need no firewall (open, bridge). */
char *nat_firewall_ruleset(const HearthNetworkDef *def, const char *table);

/* What nft loads: the table declared, deleted and defined again in one transaction, so it
 * replaces an old copy atomically and works whether or not one exists. */
char *nat_firewall_load_text(const char *table, const char *ruleset);

/* nft running in the background while the caller does other steps. */
typedef struct NftCommand NftCommand;
/* `nft -f FILE` (a file written from nat_firewall_load_text()). */
NftCommand *nat_firewall_load_start(const char *nft, const char *file, GError **error);
/* Delete the table; one that is already gone is not an error. */
NftCommand *nat_firewall_delete_start(const char *nft, const char *table, GError **error);
/* `nft -j list chains`, for nat_firewall_forward_drops(). */
NftCommand *nat_firewall_list_chains_start(const char *nft, GError **error);
/* Wait for it and free it: FALSE with nft's own message in @error; @out (may be NULL) gets
 * its standard output. */
gboolean nat_firewall_wait(NftCommand *cmd, char **out, GError **error);

/* The same, waiting at once. */
gboolean nat_firewall_load(const char *nft, const char *file, GError **error);
gboolean nat_firewall_delete(const char *nft, const char *table, GError **error);

/* Base chains of other tables that drop forwarded IPv4 by default (policy drop on the
 * forward hook, as Docker's FORWARD), from `nft -j list chains` output: "family table
 * chain" strings, or an empty array. */
GPtrArray *nat_firewall_forward_drops(const char *json, const char *own_table);

G_END_DECLS
