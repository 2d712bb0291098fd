#include "network-bringup.h"
#include "bridge-netlink.h"
#include "dnsmasq-config.h"
#include "hearth-config.h"
#include "hearth-error.h"
#include "nat-firewall.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <glib/gi18n-lib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

void network_tools_clear(NetworkTools *t)
{
    g_clear_pointer(&t->nft, g_free);
    g_clear_pointer(&t->dnsmasq, g_free);
    g_clear_pointer(&t->helper, g_free);
}

/* sbin is often missing from a daemon's PATH, so look there too. */
static char *find_program(const char *name, const char *env)
{
    const char *override = g_getenv(env);
    const char *dirs[] = {"/usr/sbin", "/sbin", "/usr/bin"};
    char *found;

    if (override && *override)
        return g_file_test(override, G_FILE_TEST_IS_EXECUTABLE) ? g_strdup(override) : NULL;
    found = g_find_program_in_path(name);
    if (found)
        return found;
    for (gsize i = 0; i < G_N_ELEMENTS(dirs); i++) {
        g_autofree char *path = g_build_filename(dirs[i], name, NULL);

        if (g_file_test(path, G_FILE_TEST_IS_EXECUTABLE))
            return g_steal_pointer(&path);
    }
    return NULL;
}

/* Beside hearthd in a build tree (daemon/network/), else installed in libexecdir. */
static char *find_helper(void)
{
    const char *override = g_getenv("HEARTH_LEASES_HELPER");
    g_autofree char *self = g_file_read_link("/proc/self/exe", NULL);
    g_autofree char *dir = self ? g_path_get_dirname(self) : NULL;
    g_autofree char *beside = dir ? g_build_filename(dir, "network", "hearth-leases", NULL) : NULL;
    g_autofree char *installed = g_build_filename(HEARTH_LIBEXEC_DIR, "hearth-leases", NULL);

    if (override && *override)
        return g_file_test(override, G_FILE_TEST_IS_EXECUTABLE) ? g_strdup(override) : NULL;
    if (beside && g_file_test(beside, G_FILE_TEST_IS_EXECUTABLE))
        return g_steal_pointer(&beside);
    if (g_file_test(installed, G_FILE_TEST_IS_EXECUTABLE))
        return g_steal_pointer(&installed);
    return NULL;
}

gboolean network_tools_find(const HearthNetworkDef *def, NetworkTools *t, GError **error)
{
    gboolean firewall = network_def_is_virtual(def) && def->forward_mode != HEARTH_NET_FORWARD_OPEN;
    gboolean dhcp_dns = network_def_is_virtual(def) && def->ips->len > 0;

    if (firewall && !(t->nft = find_program("nft", "HEARTH_NFT"))) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_OPERATION_FAILED,
                    _("network '%s' needs nft for its firewall rules, but it was not found "
                      "(install the nftables package)"),
                    def->name);
        return FALSE;
    }
    if (dhcp_dns && !(t->dnsmasq = find_program("dnsmasq", "HEARTH_DNSMASQ"))) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_OPERATION_FAILED,
                    _("network '%s' needs dnsmasq for DHCP and DNS, but it was not found "
                      "(install the dnsmasq-base package)"),
                    def->name);
        network_tools_clear(t);
        return FALSE;
    }
    if (dhcp_dns && !(t->helper = find_helper())) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_OPERATION_FAILED,
                    _("network '%s' needs the hearth-leases helper, which was not found in %s"),
                    def->name, HEARTH_LIBEXEC_DIR);
        network_tools_clear(t);
        return FALSE;
    }
    return TRUE;
}

NetworkRuntime *network_runtime_new(void)
{
    NetworkRuntime *rt = g_new0(NetworkRuntime, 1);

    rt->pidfd = -1;
    return rt;
}

void network_runtime_free(NetworkRuntime *rt)
{
    if (!rt)
        return;
    if (rt->watch)
        g_source_remove(rt->watch);
    if (rt->pidfd >= 0)
        close(rt->pidfd);
    g_free(rt->bridge);
    g_free(rt->table);
    g_free(rt->dnsmasq_conf);
    g_free(rt);
}

GHashTable *network_runtime_to_state(const NetworkRuntime *rt)
{
    GHashTable *kv = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);

    if (rt->bridge)
        g_hash_table_insert(kv, "bridge", g_strdup(rt->bridge));
    if (rt->table)
        g_hash_table_insert(kv, "firewall_table", g_strdup(rt->table));
    if (rt->dnsmasq.pid) {
        g_hash_table_insert(kv, "dnsmasq_pid", g_strdup_printf("%d", (int)rt->dnsmasq.pid));
        g_hash_table_insert(kv, "dnsmasq_start_time",
                            g_strdup_printf("%" G_GUINT64_FORMAT, rt->dnsmasq.start_time));
        g_hash_table_insert(kv, "dnsmasq_conf", g_strdup(rt->dnsmasq_conf));
    }
    return kv;
}

NetworkRuntime *network_runtime_from_state(GHashTable *kv)
{
    NetworkRuntime *rt = network_runtime_new();
    const char *pid = g_hash_table_lookup(kv, "dnsmasq_pid");
    const char *start = g_hash_table_lookup(kv, "dnsmasq_start_time");

    rt->bridge = g_strdup(g_hash_table_lookup(kv, "bridge"));
    rt->table = g_strdup(g_hash_table_lookup(kv, "firewall_table"));
    rt->dnsmasq_conf = g_strdup(g_hash_table_lookup(kv, "dnsmasq_conf"));
    if (pid && start) {
        rt->dnsmasq.pid = (pid_t)g_ascii_strtoll(pid, NULL, 10);
        rt->dnsmasq.start_time = g_ascii_strtoull(start, NULL, 10);
    }
    return rt;
}

gboolean network_check_routes(const HearthNetworkDef *def, GError **error)
{
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;

    if (!g_file_get_contents("/proc/net/route", &text, NULL, NULL))
        return TRUE; /* nothing to compare with */
    lines = g_strsplit(text, "\n", -1);
    for (char **l = lines + (lines[0] ? 1 : 0); *l; l++) {
        char iface[64];
        unsigned dest, mask;
        guint32 d, m;
        guint prefix;

        if (sscanf(*l, "%63s %x %*x %*x %*d %*d %*d %x", iface, &dest, &mask) != 3)
            continue;
        /* /proc prints the network-order words as native integers. */
        d = ntohl(dest);
        m = ntohl(mask);
        if (m == 0)
            continue; /* a default route overlaps everything and collides with nothing */
        prefix = (guint)__builtin_popcount(m);
        for (guint i = 0; i < def->ips->len; i++) {
            const HearthNetIp *ip = g_ptr_array_index(def->ips, i);
            char a[16], b[16];

            if (!network_subnets_overlap(ip->address, ip->prefix, d, prefix))
                continue;
            g_set_error(error, HEARTH_ERROR, HEARTH_ERR_OPERATION_FAILED,
                        _("network '%s' (%s/%u) overlaps the route %s/%u on interface '%s' "
                          "that is already in use on this host"),
                        def->name, network_ipv4_format(network_ip_subnet(ip), a), ip->prefix,
                        network_ipv4_format(d, b), prefix, iface);
            return FALSE;
        }
    }
    return TRUE;
}

static gboolean sysctl_write(const char *path, const char *value, GError **error)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    gssize n;

    if (fd < 0) {
        hearth_error_set_errno(error, errno, "cannot open %s", path);
        return FALSE;
    }
    n = write(fd, value, strlen(value));
    if (n < 0) {
        hearth_error_set_errno(error, errno, "cannot write %s", path);
        close(fd);
        return FALSE;
    }
    close(fd);
    return TRUE;
}

static void disable_ipv6(const char *bridge)
{
    /* With no IPv6 address configured, the bridge must not autoconfigure one either. */
    const char *const keys[][2] = {{"disable_ipv6", "1"}, {"accept_ra", "0"}, {"autoconf", "0"}};

    for (gsize i = 0; i < G_N_ELEMENTS(keys); i++) {
        g_autofree char *path =
            g_strdup_printf("/proc/sys/net/ipv6/conf/%s/%s", bridge, keys[i][0]);

        if (g_file_test(path, G_FILE_TEST_EXISTS))
            sysctl_write(path, keys[i][1], NULL);
    }
}

static gboolean enable_forwarding(GError **error)
{
    const char *path = "/proc/sys/net/ipv4/ip_forward";
    g_autofree char *cur = NULL;

    if (g_file_get_contents(path, &cur, NULL, NULL) && g_str_has_prefix(cur, "1"))
        return TRUE;
    if (!sysctl_write(path, "1\n", error)) {
        g_prefix_error(error, _("cannot enable IPv4 forwarding: "));
        return FALSE;
    }
    return TRUE;
}

static gboolean write_file(const char *path, const char *text, int mode, GError **error)
{
    /* Regenerated at every start: atomic replacement is enough, durability is not needed. */
    return g_file_set_contents_full(path, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, mode, error);
}

static gboolean start_dnsmasq(const NetworkPaths *paths, const NetworkTools *tools,
                              const HearthNetworkDef *live, NetworkRuntime *rt, GError **error)
{
    g_autofree char *conf = network_paths_file(paths->dnsmasq_dir, live->name, ".conf");
    g_autofree char *pid = network_paths_file(paths->run_dir, live->name, ".pid");
    g_autofree char *leases = network_paths_file(paths->dnsmasq_dir, live->bridge, ".status");
    DnsmasqFiles files = {.pid_file = pid};
    g_autofree char *conf_text = dnsmasq_config_text(live, &files);
    DnsmasqLaunch launch = {.binary = tools->dnsmasq,
                            .conf_file = conf,
                            .pid_file = pid,
                            .helper = tools->helper,
                            .leases_file = leases,
                            .bridge = live->bridge};

    if (!conf_text)
        return TRUE;
    if (!write_file(conf, conf_text, 0600, error) ||
        !dnsmasq_process_start(&launch, &rt->dnsmasq, error))
        return FALSE;
    g_free(rt->dnsmasq_conf);
    rt->dnsmasq_conf = g_steal_pointer(&conf);
    return TRUE;
}

/* Other tables whose forward hook drops by default defeat our accepts: say so. */
static void warn_foreign_firewalls(NftCommand *list, const HearthNetworkDef *live,
                                   const char *table)
{
    g_autofree char *json = NULL;
    g_autoptr(GPtrArray) drops = NULL;
    g_autofree char *names = NULL;

    if (!nat_firewall_wait(list, &json, NULL))
        return;
    drops = nat_firewall_forward_drops(json, table);
    if (drops->len == 0)
        return;
    g_ptr_array_add(drops, NULL);
    names = g_strjoinv("', '", (char **)drops->pdata);
    g_warning("network '%s': the nftables chain '%s' drops forwarded traffic by default "
              "(policy drop, as Docker's FORWARD chain does); an accept in Hearth's table "
              "cannot override it, so guests on '%s' will not reach other networks until that "
              "firewall accepts traffic from and to '%s'",
              live->name, names, live->bridge, live->bridge);
}

/* The firewall transaction runs in nft while the bridge gets its addresses and dnsmasq
 * starts; the network counts as started only once nft has succeeded, and nothing can reach
 * the new bridge before then, as guests are attached only to started networks. */
gboolean network_bringup(const NetworkPaths *paths, const NetworkTools *tools,
                         const HearthNetworkDef *live, NetworkRuntime *rt, GError **error)
{
    g_autofree char *table = nat_firewall_table_name(live->name);
    g_autofree char *ruleset = NULL;
    g_autofree char *nft_file = network_paths_file(paths->run_dir, live->name, ".nft");
    g_autoptr(GHashTable) state = NULL;
    NftCommand *load = NULL, *list = NULL;

    if (network_def_is_virtual(live)) {
        if (!netlink_bridge_create(live->bridge, live->mac, live->mtu,
                                   live->bridge_stp != HEARTH_TRISTATE_NO,
                                   (guint)live->bridge_delay, error))
            return FALSE;
        rt->bridge = g_strdup(live->bridge);
        disable_ipv6(live->bridge);
        ruleset = nat_firewall_ruleset(live, table);
        if (ruleset) {
            g_autofree char *text = nat_firewall_load_text(table, ruleset);

            if (!write_file(nft_file, text, 0600, error) ||
                !(load = nat_firewall_load_start(tools->nft, nft_file, error)))
                goto undo;
            rt->table = g_strdup(table);
            if (live->forward_mode != HEARTH_NET_FORWARD_NONE)
                list = nat_firewall_list_chains_start(tools->nft, NULL);
        }
        for (guint i = 0; i < live->ips->len; i++) {
            const HearthNetIp *ip = g_ptr_array_index(live->ips, i);

            if (!netlink_addr_add_ipv4(live->bridge, ip->address, ip->prefix, error))
                goto undo;
        }
        if (!netlink_link_set_up(live->bridge, TRUE, error))
            goto undo;
        /* Never set back, as libvirt: other things on the host may rely on it by now. */
        if (live->forward_mode != HEARTH_NET_FORWARD_NONE && !enable_forwarding(error))
            goto undo;
        if (!start_dnsmasq(paths, tools, live, rt, error))
            goto undo;
        if (load) {
            gboolean ok = nat_firewall_wait(g_steal_pointer(&load), NULL, error);

            if (!ok)
                goto undo;
        }
        if (list)
            warn_foreign_firewalls(g_steal_pointer(&list), live, table);
    }
    state = network_runtime_to_state(rt);
    if (network_store_write_status(paths, live, state, error))
        return TRUE;
undo:
    /* Wait for what still runs before undoing: the table may exist only once nft is done. */
    if (load)
        nat_firewall_wait(load, NULL, NULL);
    if (list)
        nat_firewall_wait(list, NULL, NULL);
    network_teardown(paths, live->name, rt, NULL);
    return FALSE;
}

gboolean network_refresh(const NetworkPaths *paths, const NetworkTools *tools,
                         const HearthNetworkDef *live, NetworkRuntime *rt, GError **error)
{
    g_autofree char *ruleset = NULL;
    g_autoptr(GHashTable) state = NULL;

    if (rt->table && tools->nft && (ruleset = nat_firewall_ruleset(live, rt->table))) {
        g_autofree char *file = network_paths_file(paths->run_dir, live->name, ".nft");
        g_autofree char *text = nat_firewall_load_text(rt->table, ruleset);

        if (!write_file(file, text, 0600, error) || !nat_firewall_load(tools->nft, file, error))
            return FALSE;
    }
    if (tools->dnsmasq &&
        !(rt->dnsmasq_conf && dnsmasq_process_matches(&rt->dnsmasq, rt->dnsmasq_conf))) {
        g_info("dnsmasq of network '%s' is not running; starting it again", live->name);
        memset(&rt->dnsmasq, 0, sizeof(rt->dnsmasq));
        if (!start_dnsmasq(paths, tools, live, rt, error))
            return FALSE;
        state = network_runtime_to_state(rt);
        return network_store_write_status(paths, live, state, error);
    }
    return TRUE;
}

#define DOOMED_PREFIX "hearth-del"

/* Down and renamed, the bridge frees its name and carries no traffic; deleting it costs the
 * kernel tens of milliseconds of RCU grace periods, which the caller need not wait for. */
static char *bridge_retire(const char *bridge)
{
    unsigned idx = if_nametoindex(bridge);
    g_autofree char *doomed = g_strdup_printf(DOOMED_PREFIX "%u", idx);
    g_autoptr(GError) error = NULL;

    if (idx == 0 || strlen(doomed) > 15 || !netlink_link_rename(bridge, doomed, &error)) {
        if (error)
            g_debug("%s; deleting it right away", error->message);
        return NULL;
    }
    return g_steal_pointer(&doomed);
}

void network_delete_retired(const char *doomed)
{
    g_autoptr(GError) error = NULL;

    if (!netlink_link_delete(doomed, &error))
        g_warning("%s", error->message);
}

void network_delete_leftovers(void)
{
    struct if_nameindex *ifs = if_nameindex();

    for (struct if_nameindex *i = ifs; i && i->if_index; i++) {
        if (g_str_has_prefix(i->if_name, DOOMED_PREFIX))
            network_delete_retired(i->if_name);
    }
    if (ifs)
        if_freenameindex(ifs);
}

void network_teardown(const NetworkPaths *paths, const char *name, NetworkRuntime *rt,
                      char **retired)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *nft = rt->table ? find_program("nft", "HEARTH_NFT") : NULL;
    NftCommand *del = NULL;
    int dnsmasq_fd = -1;

    /* dnsmasq exits and nft deletes the table while the bridge goes down. */
    if (rt->dnsmasq.pid && rt->dnsmasq_conf)
        dnsmasq_fd = dnsmasq_process_terminate(&rt->dnsmasq, rt->dnsmasq_conf);
    if (rt->table && nft)
        del = nat_firewall_delete_start(nft, rt->table, &error);
    if (rt->table && !del) {
        g_warning("network '%s': nftables table '%s' left in place: %s", name, rt->table,
                  error ? error->message : "nft not found");
        g_clear_error(&error);
    }
    if (rt->bridge) {
        if (!netlink_link_set_up(rt->bridge, FALSE, &error)) {
            g_debug("network '%s': %s", name, error->message);
            g_clear_error(&error);
        }
        if (retired)
            *retired = bridge_retire(rt->bridge);
        if ((!retired || !*retired) && !netlink_link_delete(rt->bridge, &error)) {
            g_warning("network '%s': %s", name, error->message);
            g_clear_error(&error);
        }
        g_clear_pointer(&rt->bridge, g_free);
    }
    dnsmasq_process_finish(dnsmasq_fd, 1000);
    memset(&rt->dnsmasq, 0, sizeof(rt->dnsmasq));
    if (del && !nat_firewall_wait(del, NULL, &error))
        g_warning("network '%s': nftables table '%s' left in place: %s", name, rt->table,
                  error->message);
    g_clear_pointer(&rt->table, g_free);
    network_store_delete_status(paths, name);
}
