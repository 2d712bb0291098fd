/* bridge-netlink.c and net-tap.c against the kernel, in a network namespace of the test's
 * own (unshare(CLONE_NEWNET) first thing), read back with `ip -j`. Needs root; skipped
 * otherwise. */
#include "bridge-netlink.h"
#include "hearth-error.h"
#include "net-tap.h"

#include <gio/gio.h>
#include <jansson.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>

static gboolean have_netns;

/* `ip -j -d link|addr show dev NAME` as the first JSON object, or NULL if it fails. */
static json_t *ip_show(const char *what, const char *dev)
{
    g_autoptr(GSubprocess) proc = NULL;
    g_autofree char *out = NULL;
    json_t *root, *first;

    proc = g_subprocess_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_SILENCE,
                            NULL, "ip", "-j", "-d", what, "show", "dev", dev, NULL);
    if (!proc || !g_subprocess_communicate_utf8(proc, NULL, NULL, &out, NULL, NULL) ||
        !g_subprocess_get_successful(proc))
        return NULL;
    root = json_loads(out, 0, NULL);
    first = json_incref(json_array_get(root, 0));
    json_decref(root);
    return first;
}

static gboolean has_flag(json_t *link, const char *flag)
{
    json_t *f;
    size_t i;

    json_array_foreach(json_object_get(link, "flags"), i, f)
    {
        if (g_strcmp0(json_string_value(f), flag) == 0)
            return TRUE;
    }
    return FALSE;
}

#define SKIP_UNLESS_NETNS()                                                                        \
    if (!have_netns) {                                                                             \
        g_test_skip("needs root for a private network namespace");                                 \
        return;                                                                                    \
    }

static void test_bridge(void)
{
    g_autoptr(GError) error = NULL;
    json_t *link, *addr, *data;

    SKIP_UNLESS_NETNS();
    g_assert_true(netlink_bridge_create("hbr0", "52:54:00:7c:b9:ae", 9000, TRUE, 0, &error));
    g_assert_no_error(error);
    g_assert_true(netlink_link_exists("hbr0"));
    g_assert_cmpuint(netlink_link_get_mtu("hbr0"), ==, 9000);
    link = ip_show("link", "hbr0");
    g_assert_nonnull(link);
    g_assert_cmpstr(json_string_value(json_object_get(link, "address")), ==, "52:54:00:7c:b9:ae");
    data = json_object_get(json_object_get(link, "linkinfo"), "info_data");
    g_assert_cmpstr(
        json_string_value(json_object_get(json_object_get(link, "linkinfo"), "info_kind")), ==,
        "bridge");
    g_assert_cmpint(json_integer_value(json_object_get(data, "stp_state")), ==, 1);
    g_assert_false(has_flag(link, "UP"));
    json_decref(link);

    /* a second bridge of that name is refused with the kernel's reason */
    g_assert_false(netlink_bridge_create("hbr0", NULL, 0, FALSE, 0, &error));
    g_assert_error(error, HEARTH_ERROR, HEARTH_ERR_SYSTEM_ERROR);
    g_assert_nonnull(strstr(error->message, "cannot create bridge 'hbr0'"));
    g_clear_error(&error);

    g_assert_true(netlink_addr_add_ipv4("hbr0", 0xc0a87a01, 24, &error));
    g_assert_true(netlink_link_set_up("hbr0", TRUE, &error));
    g_assert_no_error(error);
    link = ip_show("link", "hbr0");
    g_assert_true(has_flag(link, "UP"));
    json_decref(link);
    addr = ip_show("addr", "hbr0");
    {
        json_t *a = json_array_get(json_object_get(addr, "addr_info"), 0);

        g_assert_cmpstr(json_string_value(json_object_get(a, "local")), ==, "192.168.122.1");
        g_assert_cmpint(json_integer_value(json_object_get(a, "prefixlen")), ==, 24);
        g_assert_cmpstr(json_string_value(json_object_get(a, "broadcast")), ==, "192.168.122.255");
    }
    json_decref(addr);

    g_assert_true(netlink_link_delete("hbr0", &error));
    g_assert_false(netlink_link_exists("hbr0"));
    g_assert_true(netlink_link_delete("hbr0", &error)); /* already gone: fine */
    g_assert_no_error(error);
}

static void test_stp_off(void)
{
    g_autoptr(GError) error = NULL;
    json_t *link, *data;

    SKIP_UNLESS_NETNS();
    g_assert_true(netlink_bridge_create("hbr1", NULL, 0, FALSE, 3, &error));
    link = ip_show("link", "hbr1");
    data = json_object_get(json_object_get(link, "linkinfo"), "info_data");
    g_assert_cmpint(json_integer_value(json_object_get(data, "stp_state")), ==, 0);
    g_assert_cmpint(json_integer_value(json_object_get(data, "forward_delay")), ==, 300);
    json_decref(link);
    g_assert_true(netlink_link_delete("hbr1", &error));
}

static void test_tap(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *name = NULL;
    json_t *link;
    int fd;

    SKIP_UNLESS_NETNS();
    if (access("/dev/net/tun", R_OK | W_OK) != 0) {
        g_test_skip("no /dev/net/tun");
        return;
    }
    g_assert_true(netlink_bridge_create("hbr2", "52:54:00:00:00:01", 0, TRUE, 0, &error));
    g_assert_true(netlink_link_set_up("hbr2", TRUE, &error));

    fd = net_tap_create("hbr2", "52:54:00:9e:1b:85", 1400, &name, &error);
    g_assert_no_error(error);
    g_assert_cmpint(fd, >=, 0);
    g_assert_true(g_str_has_prefix(name, "vnet"));
    link = ip_show("link", name);
    g_assert_cmpstr(json_string_value(json_object_get(link, "address")), ==, "fe:54:00:9e:1b:85");
    g_assert_cmpint(json_integer_value(json_object_get(link, "mtu")), ==, 1400);
    g_assert_cmpstr(json_string_value(json_object_get(link, "master")), ==, "hbr2");
    g_assert_true(has_flag(link, "UP"));
    json_decref(link);
    /* not persistent: gone with the last fd */
    close(fd);
    g_assert_false(netlink_link_exists(name));

    /* MTU 0: the bridge's */
    g_free(name);
    name = NULL;
    fd = net_tap_create("hbr2", "52:54:00:9e:1b:86", 0, &name, &error);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpuint(netlink_link_get_mtu(name), ==, netlink_link_get_mtu("hbr2"));
    close(fd);

    g_assert_cmpint(net_tap_create("hbr2", "fe:54:00:00:00:01", 0, NULL, &error), ==, -1);
    g_assert_error(error, HEARTH_ERROR, HEARTH_ERR_CONFIG_UNSUPPORTED);
    g_clear_error(&error);
    g_assert_cmpint(net_tap_create("nosuchbr", "52:54:00:00:00:01", 0, NULL, &error), ==, -1);
    g_assert_nonnull(strstr(error->message, "bridge 'nosuchbr' does not exist"));
    g_clear_error(&error);
    g_assert_true(netlink_link_delete("hbr2", &error));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    /* Everything below happens in a namespace that dies with this process. */
    have_netns = geteuid() == 0 && unshare(CLONE_NEWNET) == 0;
    g_test_add_func("/network-netlink/bridge", test_bridge);
    g_test_add_func("/network-netlink/stp-off", test_stp_off);
    g_test_add_func("/network-netlink/tap", test_tap);
    return g_test_run();
}
