/* Links and addresses over rtnetlink (a NETLINK_ROUTE socket per call), in the caller's
 * network namespace: create and delete bridges, MAC, MTU, master, up/down, IPv4 addresses.
 * Every function reports the kernel's errno (and its extended-ack text) in @error. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A bridge with @mac ("52:54:00:..", or NULL for the kernel's choice), @mtu (0 = default),
 * STP on or off and a forward delay in seconds. Fails if the name exists. */
gboolean netlink_bridge_create(const char *name, const char *mac, guint mtu, gboolean stp,
                               guint delay_seconds, GError **error);
/* Delete a link; one that does not exist is not an error. */
gboolean netlink_link_delete(const char *name, GError **error);
gboolean netlink_link_set_up(const char *name, gboolean up, GError **error);
gboolean netlink_link_set_mac(const char *name, const guint8 mac[6], GError **error);
gboolean netlink_link_set_mtu(const char *name, guint mtu, GError **error);
/* The device must be down. */
gboolean netlink_link_rename(const char *name, const char *new_name, GError **error);
gboolean netlink_link_set_master(const char *name, const char *master, GError **error);
/* ADDR/PREFIX with its broadcast address, scope global. */
gboolean netlink_addr_add_ipv4(const char *name, guint32 addr, guint prefix, GError **error);

/* Whether a network device of that name exists here. */
gboolean netlink_link_exists(const char *name);
/* The device's MTU, 0 if it does not exist. */
guint netlink_link_get_mtu(const char *name);

G_END_DECLS
