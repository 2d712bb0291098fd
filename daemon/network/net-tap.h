/* Guest taps on a bridge: what hearthd (privileged) does before handing QEMU the fd. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Create a tap (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR) named vnetN by the kernel, give it the
 * guest's MAC with the first byte replaced by 0xfe (so the bridge never adopts it), set its
 * MTU (@mtu, or the bridge's when 0), attach it to @bridge and set it up. Returns the tap fd
 * (close-on-exec; the device disappears when the last fd is closed) and its name, or -1. */
int net_tap_create(const char *bridge, const char *mac, int mtu, char **ifname_out, GError **error);

G_END_DECLS
