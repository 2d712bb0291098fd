/* dnsmasq's configuration for a network, as text, bound to the bridge only. The fixed DHCP
 * hosts (`<host mac= ip= name=>`) and DNS hosts (`<dns><host>`) are written into it rather
 * than into separate hosts files: dnsmasq reads those only after dropping to `nobody`, and
 * fails silently when a directory on the way is private (a `--root` under a 0700 dir). */
#pragma once

#include "network-def.h"

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
    const char *pid_file;
} DnsmasqFiles;

/* NULL when the network needs no dnsmasq (no IPv4 address, or not a virtual network). */
char *dnsmasq_config_text(const HearthNetworkDef *def, const DnsmasqFiles *files);

G_END_DECLS
