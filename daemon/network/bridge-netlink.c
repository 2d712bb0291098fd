/* Hand-written rtnetlink: the handful of fixed-shape requests we send fit in one small
 * buffer each, so a helper library would add a dependency and no safety. */
#include "bridge-netlink.h"
#include "hearth-error.h"

#include <arpa/inet.h>
#include <errno.h>
#include <glib/gi18n-lib.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define NL_BUF 1024

typedef struct {
    union {
        struct nlmsghdr hdr;
        guint8 bytes[NL_BUF];
    } u;
    gboolean overflow;
} NlMsg;

static void nl_init(NlMsg *m, guint16 type, guint16 flags, const void *payload, gsize len)
{
    memset(m, 0, sizeof(*m));
    m->u.hdr.nlmsg_len = NLMSG_LENGTH(len);
    m->u.hdr.nlmsg_type = type;
    m->u.hdr.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
    memcpy(NLMSG_DATA(&m->u.hdr), payload, len);
}

static struct rtattr *nl_put(NlMsg *m, guint16 type, const void *data, gsize len)
{
    gsize at = NLMSG_ALIGN(m->u.hdr.nlmsg_len);
    struct rtattr *rta;

    if (at + RTA_SPACE(len) > NL_BUF) {
        m->overflow = TRUE;
        return NULL;
    }
    rta = (struct rtattr *)(m->u.bytes + at);
    rta->rta_type = type;
    rta->rta_len = (unsigned short)RTA_LENGTH(len);
    if (len)
        memcpy(RTA_DATA(rta), data, len);
    m->u.hdr.nlmsg_len = (guint32)(at + RTA_ALIGN(rta->rta_len));
    return rta;
}

static void nl_put_u32(NlMsg *m, guint16 type, guint32 v)
{
    nl_put(m, type, &v, sizeof(v));
}

static void nl_put_str(NlMsg *m, guint16 type, const char *s)
{
    nl_put(m, type, s, strlen(s) + 1);
}

static void nl_nest_end(NlMsg *m, struct rtattr *nest)
{
    if (nest)
        nest->rta_len = (unsigned short)(m->u.bytes + m->u.hdr.nlmsg_len - (guint8 *)nest);
}

/* The kernel's extended-ack message, if it sent one after the echoed request. */
static const char *nl_ext_ack(const struct nlmsghdr *h)
{
    const struct nlmsgerr *e = NLMSG_DATA(h);
    gsize off, total = h->nlmsg_len;
    const struct rtattr *a;

    if (!(h->nlmsg_flags & NLM_F_ACK_TLVS))
        return NULL;
    off = NLMSG_HDRLEN + sizeof(*e);
    if (!(h->nlmsg_flags & NLM_F_CAPPED))
        off += NLMSG_ALIGN(e->msg.nlmsg_len) - NLMSG_HDRLEN;
    while (off + sizeof(*a) <= total) {
        a = (const struct rtattr *)((const guint8 *)h + off);
        if (a->rta_len < sizeof(*a) || off + a->rta_len > total)
            break;
        if (a->rta_type == NLMSGERR_ATTR_MSG && a->rta_len > RTA_LENGTH(0) &&
            ((const char *)RTA_DATA(a))[a->rta_len - RTA_LENGTH(0) - 1] == '\0')
            return RTA_DATA(a);
        off += RTA_ALIGN(a->rta_len);
    }
    return NULL;
}

static void nl_fail(GError **error, int err, const char *ext, const char *what)
{
    g_set_error(error, HEARTH_ERROR, HEARTH_ERR_SYSTEM_ERROR, "%s: %s%s%s%s", what, g_strerror(err),
                ext ? " (" : "", ext ? ext : "", ext ? ")" : "");
}

/* Send one request and wait for its acknowledgement. Returns 0 or a positive errno. */
static int nl_talk(NlMsg *m, char **ext_out)
{
    static gint seq;
    struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
    struct timeval tv = {.tv_sec = 5};
    guint8 reply[8192] __attribute__((aligned(4)));
    int one = 1, fd, err = EIO;

    if (m->overflow)
        return EMSGSIZE;
    fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0)
        return errno;
    setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    m->u.hdr.nlmsg_seq = (guint32)g_atomic_int_add(&seq, 1) + 1;
    if (sendto(fd, m->u.bytes, m->u.hdr.nlmsg_len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        err = errno;
        close(fd);
        return err;
    }
    for (;;) {
        ssize_t n = recv(fd, reply, sizeof(reply), 0);
        struct nlmsghdr *h;
        gsize left;

        if (n < 0) {
            if (errno == EINTR)
                continue;
            err = errno;
            break;
        }
        left = (gsize)n;
        for (h = (struct nlmsghdr *)reply; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
            const struct nlmsgerr *e;

            if (h->nlmsg_seq != m->u.hdr.nlmsg_seq || h->nlmsg_type != NLMSG_ERROR)
                continue;
            e = NLMSG_DATA(h);
            err = -e->error;
            if (err && ext_out && nl_ext_ack(h))
                *ext_out = g_strdup(nl_ext_ack(h));
            close(fd);
            return err;
        }
    }
    close(fd);
    return err;
}

static gboolean nl_run(NlMsg *m, GError **error, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

static gboolean nl_run(NlMsg *m, GError **error, const char *fmt, ...)
{
    g_autofree char *ext = NULL;
    g_autofree char *what = NULL;
    va_list ap;
    int err = nl_talk(m, &ext);

    if (err == 0)
        return TRUE;
    va_start(ap, fmt);
    what = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    nl_fail(error, err, ext, what);
    errno = err;
    return FALSE;
}

static int link_index(const char *name, GError **error)
{
    unsigned idx = if_nametoindex(name);

    if (idx == 0)
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_SYSTEM_ERROR,
                    _("network device '%s' does not exist"), name);
    return (int)idx;
}

gboolean netlink_link_exists(const char *name)
{
    return if_nametoindex(name) != 0;
}

guint netlink_link_get_mtu(const char *name)
{
    struct ifreq ifr = {0};
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    guint mtu = 0;

    if (fd < 0 || strlen(name) >= IFNAMSIZ) {
        if (fd >= 0)
            close(fd);
        return 0;
    }
    g_strlcpy(ifr.ifr_name, name, IFNAMSIZ);
    if (ioctl(fd, SIOCGIFMTU, &ifr) == 0 && ifr.ifr_mtu > 0)
        mtu = (guint)ifr.ifr_mtu;
    close(fd);
    return mtu;
}

gboolean netlink_bridge_create(const char *name, const char *mac, guint mtu, gboolean stp,
                               guint delay_seconds, GError **error)
{
    struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
    struct rtattr *linkinfo, *data;
    NlMsg m;

    nl_init(&m, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &ifi, sizeof(ifi));
    nl_put_str(&m, IFLA_IFNAME, name);
    if (mac) {
        guint8 addr[6];
        unsigned v[6];

        if (sscanf(mac, "%2x:%2x:%2x:%2x:%2x:%2x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6) {
            g_set_error(error, HEARTH_ERROR, HEARTH_ERR_INVALID_MAC, _("invalid MAC address '%s'"),
                        mac);
            return FALSE;
        }
        for (int i = 0; i < 6; i++)
            addr[i] = (guint8)v[i];
        nl_put(&m, IFLA_ADDRESS, addr, sizeof(addr));
    }
    if (mtu)
        nl_put_u32(&m, IFLA_MTU, mtu);
    linkinfo = nl_put(&m, IFLA_LINKINFO, NULL, 0);
    nl_put_str(&m, IFLA_INFO_KIND, "bridge");
    data = nl_put(&m, IFLA_INFO_DATA, NULL, 0);
    /* Clock ticks (USER_HZ 100). The kernel applies the delay before STP, then clamps it to
     * at least 2 s while STP is on, as it does for `ip link add ... type bridge`. */
    nl_put_u32(&m, IFLA_BR_FORWARD_DELAY, delay_seconds * 100);
    nl_put_u32(&m, IFLA_BR_STP_STATE, stp ? 1 : 0);
    nl_nest_end(&m, data);
    nl_nest_end(&m, linkinfo);
    return nl_run(&m, error, _("cannot create bridge '%s'"), name);
}

gboolean netlink_link_delete(const char *name, GError **error)
{
    struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
    NlMsg m;

    ifi.ifi_index = (int)if_nametoindex(name);
    if (ifi.ifi_index == 0)
        return TRUE;
    nl_init(&m, RTM_DELLINK, 0, &ifi, sizeof(ifi));
    if (nl_run(&m, error, _("cannot delete network device '%s'"), name))
        return TRUE;
    if (errno == ENODEV) {
        g_clear_error(error);
        return TRUE;
    }
    return FALSE;
}

/* RTM_NEWLINK on an existing device with one attribute (or none). */
static gboolean link_change(const char *name, guint flags, guint change, guint16 attr,
                            const void *data, gsize len, const char *what, GError **error)
{
    struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_flags = flags, .ifi_change = change};
    NlMsg m;

    ifi.ifi_index = link_index(name, error);
    if (ifi.ifi_index == 0)
        return FALSE;
    nl_init(&m, RTM_NEWLINK, 0, &ifi, sizeof(ifi));
    if (data)
        nl_put(&m, attr, data, len);
    return nl_run(&m, error, "%s", what);
}

gboolean netlink_link_set_up(const char *name, gboolean up, GError **error)
{
    g_autofree char *what = g_strdup_printf(up ? _("cannot bring network device '%s' up")
                                               : _("cannot bring network device '%s' down"),
                                            name);

    return link_change(name, up ? IFF_UP : 0, IFF_UP, 0, NULL, 0, what, error);
}

gboolean netlink_link_set_mac(const char *name, const guint8 mac[6], GError **error)
{
    g_autofree char *what = g_strdup_printf(_("cannot set the MAC address of '%s'"), name);

    return link_change(name, 0, 0, IFLA_ADDRESS, mac, 6, what, error);
}

gboolean netlink_link_set_mtu(const char *name, guint mtu, GError **error)
{
    g_autofree char *what = g_strdup_printf(_("cannot set MTU %u on '%s'"), mtu, name);
    guint32 v = mtu;

    return link_change(name, 0, 0, IFLA_MTU, &v, sizeof(v), what, error);
}

gboolean netlink_link_rename(const char *name, const char *new_name, GError **error)
{
    g_autofree char *what = g_strdup_printf(_("cannot rename '%s' to '%s'"), name, new_name);

    return link_change(name, 0, 0, IFLA_IFNAME, new_name, strlen(new_name) + 1, what, error);
}

gboolean netlink_link_set_master(const char *name, const char *master, GError **error)
{
    g_autofree char *what = g_strdup_printf(_("cannot attach '%s' to bridge '%s'"), name, master);
    guint32 idx = (guint32)link_index(master, error);

    if (idx == 0)
        return FALSE;
    return link_change(name, 0, 0, IFLA_MASTER, &idx, sizeof(idx), what, error);
}

gboolean netlink_addr_add_ipv4(const char *name, guint32 addr, guint prefix, GError **error)
{
    struct ifaddrmsg ifa = {
        .ifa_family = AF_INET, .ifa_prefixlen = (guint8)prefix, .ifa_scope = RT_SCOPE_UNIVERSE};
    guint32 mask = prefix ? 0xffffffffu << (32 - prefix) : 0;
    guint32 be = htonl(addr), bcast = htonl(addr | ~mask);
    char text[INET_ADDRSTRLEN];
    NlMsg m;

    ifa.ifa_index = (guint32)link_index(name, error);
    if (ifa.ifa_index == 0)
        return FALSE;
    nl_init(&m, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, &ifa, sizeof(ifa));
    nl_put(&m, IFA_LOCAL, &be, sizeof(be));
    nl_put(&m, IFA_ADDRESS, &be, sizeof(be));
    if (prefix < 31)
        nl_put(&m, IFA_BROADCAST, &bcast, sizeof(bcast));
    inet_ntop(AF_INET, &be, text, sizeof(text));
    return nl_run(&m, error, _("cannot add address %s/%u to '%s'"), text, prefix, name);
}
