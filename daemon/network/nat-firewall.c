/* The ruleset follows the one tested in network namespaces (docs: qemu-blockjobs-and-nat.md
 * §5.8): DHCP/DNS accepted on the bridge, guests out and replies back in, everything else
 * into or out of the bridge rejected, and masquerade for the subnet leaving the bridge. */
#include "nat-firewall.h"
#include "child-process.h"
#include "hearth-error.h"

#include <glib/gi18n-lib.h>
#include <jansson.h>
#include <string.h>

char *nat_firewall_table_name(const char *network_name)
{
    GString *s = g_string_new("hearth_");
    gboolean changed = FALSE;
    gsize n = 0;

    for (const char *p = network_name; *p && n < 64; p++, n++) {
        if (g_ascii_isalnum(*p) || *p == '_') {
            g_string_append_c(s, *p);
        } else {
            g_string_append_c(s, '_');
            changed = TRUE;
        }
    }
    if (changed || strlen(network_name) > 64)
        g_string_append_printf(s, "_%08x", g_str_hash(network_name));
    return g_string_free(s, FALSE);
}

typedef struct {
    char net[16];
    guint prefix;
} Subnet;

static GArray *subnets_of(const HearthNetworkDef *def)
{
    GArray *a = g_array_new(FALSE, TRUE, sizeof(Subnet));

    for (guint i = 0; i < def->ips->len; i++) {
        const HearthNetIp *ip = g_ptr_array_index(def->ips, i);
        Subnet s = {.prefix = ip->prefix};

        network_ipv4_format(network_ip_subnet(ip), s.net);
        g_array_append_val(a, s);
    }
    return a;
}

static void host_chains(GString *buf, const char *br)
{
    g_string_append_printf(buf,
                           "\tchain input {\n"
                           "\t\ttype filter hook input priority filter; policy accept;\n"
                           "\t\tiifname \"%s\" udp dport { 53, 67 } accept comment \"DNS and "
                           "DHCP from guests\"\n"
                           "\t\tiifname \"%s\" tcp dport 53 accept comment \"DNS over TCP from "
                           "guests\"\n"
                           "\t}\n"
                           "\tchain output {\n"
                           "\t\ttype filter hook output priority filter; policy accept;\n"
                           "\t\toifname \"%s\" udp dport { 53, 68 } accept comment \"DNS and "
                           "DHCP replies to guests\"\n"
                           "\t\toifname \"%s\" tcp dport 53 accept comment \"DNS over TCP "
                           "replies to guests\"\n"
                           "\t}\n",
                           br, br, br, br);
}

static void forward_chain(GString *buf, const HearthNetworkDef *def, GArray *subnets)
{
    const char *br = def->bridge;
    const char *dev = def->forward_dev;
    g_autofree char *in_dev = dev ? g_strdup_printf("iifname \"%s\" ", dev) : g_strdup("");
    g_autofree char *out_dev = dev ? g_strdup_printf("oifname \"%s\" ", dev) : g_strdup("");

    g_string_append(buf, "\tchain forward {\n"
                         "\t\ttype filter hook forward priority filter; policy accept;\n");
    g_string_append_printf(buf,
                           "\t\tiifname \"%s\" oifname \"%s\" accept comment \"guest to guest "
                           "on the same bridge\"\n",
                           br, br);
    for (guint i = 0; i < subnets->len; i++) {
        const Subnet *s = &g_array_index(subnets, Subnet, i);

        if (def->forward_mode == HEARTH_NET_FORWARD_NAT)
            g_string_append_printf(buf,
                                   "\t\t%soifname \"%s\" ip daddr %s/%u ct state "
                                   "established,related accept comment \"replies back to "
                                   "guests\"\n",
                                   in_dev, br, s->net, s->prefix);
        else if (def->forward_mode == HEARTH_NET_FORWARD_ROUTE)
            g_string_append_printf(buf,
                                   "\t\t%soifname \"%s\" ip daddr %s/%u accept comment "
                                   "\"routed traffic to guests\"\n",
                                   in_dev, br, s->net, s->prefix);
    }
    g_string_append_printf(buf,
                           "\t\toifname \"%s\" counter reject comment \"nothing else may "
                           "enter the network\"\n",
                           br);
    for (guint i = 0; def->forward_mode != HEARTH_NET_FORWARD_NONE && i < subnets->len; i++) {
        const Subnet *s = &g_array_index(subnets, Subnet, i);

        g_string_append_printf(buf,
                               "\t\tiifname \"%s\" %sip saddr %s/%u accept comment \"guests "
                               "out\"\n",
                               br, out_dev, s->net, s->prefix);
    }
    g_string_append_printf(buf, "\t\tiifname \"%s\" counter reject comment \"%s\"\n", br,
                           def->forward_mode == HEARTH_NET_FORWARD_NONE
                               ? "isolated network"
                               : "spoofed sources and other destinations");
    g_string_append(buf, "\t}\n");
}

static void nat_chain(GString *buf, const HearthNetworkDef *def, GArray *subnets)
{
    g_autofree char *out = def->forward_dev ? g_strdup_printf("oifname \"%s\"", def->forward_dev)
                                            : g_strdup_printf("oifname != \"%s\"", def->bridge);
    guint pstart = def->has_nat_ports ? def->nat_port_start : 1024;
    guint pend = def->has_nat_ports ? def->nat_port_end : 65535;
    g_autofree char *action = NULL;
    g_autofree char *ports = g_strdup_printf("%u-%u", pstart, pend);
    char a[16], b[16];

    if (def->nat_addr_start) {
        network_ipv4_format(def->nat_addr_start, a);
        network_ipv4_format(def->nat_addr_end, b);
        action = def->nat_addr_start == def->nat_addr_end ? g_strdup_printf("snat to %s", a)
                                                          : g_strdup_printf("snat to %s-%s", a, b);
    } else {
        action = g_strdup("masquerade");
    }
    g_string_append(buf, "\tchain postrouting {\n"
                         "\t\ttype nat hook postrouting priority srcnat; policy accept;\n");
    for (guint i = 0; i < subnets->len; i++) {
        const Subnet *s = &g_array_index(subnets, Subnet, i);

        g_string_append_printf(buf,
                               "\t\tip saddr %s/%u ip daddr 224.0.0.0/24 return comment "
                               "\"local multicast\"\n"
                               "\t\tip saddr %s/%u ip daddr 255.255.255.255 return comment "
                               "\"broadcast\"\n",
                               s->net, s->prefix, s->net, s->prefix);
        for (int proto = 0; proto < 2; proto++)
            g_string_append_printf(buf, "\t\tip saddr %s/%u %s meta l4proto %s counter %s%s:%s\n",
                                   s->net, s->prefix, out, proto ? "udp" : "tcp", action,
                                   def->nat_addr_start ? "" : " to ", ports);
        g_string_append_printf(buf, "\t\tip saddr %s/%u %s counter %s\n", s->net, s->prefix, out,
                               action);
    }
    g_string_append(buf, "\t}\n");
}

char *nat_firewall_ruleset(const HearthNetworkDef *def, const char *table)
{
    g_autoptr(GArray) subnets = NULL;
    GString *buf;

    if (!network_def_is_virtual(def) || def->forward_mode == HEARTH_NET_FORWARD_OPEN ||
        !def->bridge)
        return NULL;
    subnets = subnets_of(def);
    buf = g_string_new(NULL);
    g_string_append_printf(buf, "table ip %s {\n\tcomment \"managed by hearthd\"\n", table);
    host_chains(buf, def->bridge);
    forward_chain(buf, def, subnets);
    if (def->forward_mode == HEARTH_NET_FORWARD_NAT && subnets->len)
        nat_chain(buf, def, subnets);
    g_string_append(buf, "}\n");
    return g_string_free(buf, FALSE);
}

char *nat_firewall_load_text(const char *table, const char *ruleset)
{
    return g_strdup_printf("table ip %s\ndelete table ip %s\n%s", table, table, ruleset);
}

struct NftCommand {
    ChildProcess *proc;
    char *what; /* for messages */
};

static NftCommand *nft_start(const char *what, GError **error, const char *const *argv)
{
    g_autoptr(GError) local = NULL;
    NftCommand *cmd;
    ChildProcess *proc;

    proc = child_process_spawn(argv, NULL, CHILD_STDOUT_PIPE | CHILD_STDERR_PIPE, &local);
    if (!proc) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_BUILD_FIREWALL, _("%s: cannot run %s: %s"),
                    what, argv[0], local->message);
        return NULL;
    }
    cmd = g_new0(NftCommand, 1);
    cmd->proc = proc;
    cmd->what = g_strdup(what);
    return cmd;
}

gboolean nat_firewall_wait(NftCommand *cmd, char **out, GError **error)
{
    g_autofree char *stdout_text = NULL, *stderr_text = NULL;
    g_autoptr(GError) local = NULL;
    gboolean ok;

    ok = child_process_communicate(cmd->proc, &stdout_text, &stderr_text, &local);
    if (!ok)
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_BUILD_FIREWALL, "%s: %s", cmd->what,
                    local->message);
    else if (!(ok = child_process_succeeded(cmd->proc)))
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_BUILD_FIREWALL, "%s: %s", cmd->what,
                    g_strstrip(stderr_text));
    else if (out)
        *out = g_steal_pointer(&stdout_text);
    child_process_free(cmd->proc);
    g_free(cmd->what);
    g_free(cmd);
    return ok;
}

NftCommand *nat_firewall_load_start(const char *nft, const char *file, GError **error)
{
    g_autofree char *what = g_strdup_printf(_("cannot load nftables rules from '%s'"), file);

    return nft_start(what, error, (const char *[]){nft, "-f", file, NULL});
}

NftCommand *nat_firewall_delete_start(const char *nft, const char *table, GError **error)
{
    g_autofree char *what = g_strdup_printf(_("cannot delete nftables table '%s'"), table);
    g_autofree char *cmd = g_strdup_printf("add table ip %s; delete table ip %s", table, table);

    return nft_start(what, error, (const char *[]){nft, cmd, NULL});
}

NftCommand *nat_firewall_list_chains_start(const char *nft, GError **error)
{
    return nft_start(_("cannot list nftables chains"), error,
                     (const char *[]){nft, "-j", "list", "chains", NULL});
}

gboolean nat_firewall_load(const char *nft, const char *file, GError **error)
{
    NftCommand *cmd = nat_firewall_load_start(nft, file, error);

    return cmd && nat_firewall_wait(cmd, NULL, error);
}

gboolean nat_firewall_delete(const char *nft, const char *table, GError **error)
{
    NftCommand *cmd = nat_firewall_delete_start(nft, table, error);

    return cmd && nat_firewall_wait(cmd, NULL, error);
}

GPtrArray *nat_firewall_forward_drops(const char *json, const char *own_table)
{
    GPtrArray *found = g_ptr_array_new_with_free_func(g_free);
    json_t *root = json_loads(json, 0, NULL);
    json_t *items = json_object_get(root, "nftables");
    json_t *item;
    size_t i;

    json_array_foreach(items, i, item)
    {
        json_t *chain = json_object_get(item, "chain");
        const char *family = json_string_value(json_object_get(chain, "family"));
        const char *tbl = json_string_value(json_object_get(chain, "table"));
        const char *name = json_string_value(json_object_get(chain, "name"));
        const char *hook = json_string_value(json_object_get(chain, "hook"));
        const char *policy = json_string_value(json_object_get(chain, "policy"));

        if (!family || !tbl || !name || g_strcmp0(hook, "forward") != 0 ||
            g_strcmp0(policy, "drop") != 0)
            continue;
        if ((strcmp(family, "ip") != 0 && strcmp(family, "inet") != 0) ||
            g_strcmp0(tbl, own_table) == 0)
            continue;
        g_ptr_array_add(found, g_strdup_printf("%s %s %s", family, tbl, name));
    }
    json_decref(root);
    return found;
}
