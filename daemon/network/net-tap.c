/* Taps are not persistent (no TUNSETPERSIST): QEMU holds the fd, and the device goes away
 * with the last holder, so a crashed guest leaves nothing behind. */
#include "net-tap.h"
#include "bridge-netlink.h"
#include "hearth-error.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n-lib.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

int net_tap_create(const char *bridge, const char *mac, int mtu, char **ifname_out, GError **error)
{
    struct ifreq ifr = {0};
    unsigned v[6];
    guint8 tapmac[6];
    guint tap_mtu;
    int fd;

    if (!mac ||
        sscanf(mac, "%2x:%2x:%2x:%2x:%2x:%2x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_INVALID_MAC, _("invalid MAC address '%s'"),
                    mac ? mac : "");
        return -1;
    }
    if (v[0] == 0xfe) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_CONFIG_UNSUPPORTED,
                    _("guest MAC address '%s' must not start with 0xfe: that prefix marks the "
                      "host side of a tap"),
                    mac);
        return -1;
    }
    for (int i = 0; i < 6; i++)
        tapmac[i] = (guint8)v[i];
    tapmac[0] = 0xfe;
    tap_mtu = mtu > 0 ? (guint)mtu : netlink_link_get_mtu(bridge);
    if (!netlink_link_exists(bridge)) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_OPERATION_FAILED,
                    _("bridge '%s' does not exist"), bridge);
        return -1;
    }

    fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        hearth_error_set_errno(error, errno, "cannot open /dev/net/tun");
        return -1;
    }
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
    g_strlcpy(ifr.ifr_name, "vnet%d", IFNAMSIZ);
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        hearth_error_set_errno(error, errno, "cannot create a tap device");
        close(fd);
        return -1;
    }
    /* MTU before enslaving, as the bridge would otherwise lower its own to match. */
    if (!netlink_link_set_mac(ifr.ifr_name, tapmac, error) ||
        (tap_mtu && !netlink_link_set_mtu(ifr.ifr_name, tap_mtu, error)) ||
        !netlink_link_set_master(ifr.ifr_name, bridge, error) ||
        !netlink_link_set_up(ifr.ifr_name, TRUE, error)) {
        close(fd);
        return -1;
    }
    if (ifname_out)
        *ifname_out = g_strdup(ifr.ifr_name);
    return fd;
}
