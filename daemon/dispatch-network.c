/* Network procedures. Definitions and queries answer from memory; start and stop complete
 * asynchronously when the network driver's worker thread is done, so no other call waits. */
#include "hearth-daemon.h"
#include "hearth-error.h"
#include "network-driver.h"
#include "network-events.h"
#include "dispatch-util.h"
#include "rpc-server.h"
#include "uuid-util.h"

#include <glib/gi18n-lib.h>
#include <string.h>

/* virConnectListAllNetworksFlags */
enum {
    LIST_INACTIVE = 1 << 0,
    LIST_ACTIVE = 1 << 1,
    LIST_PERSISTENT = 1 << 2,
    LIST_TRANSIENT = 1 << 3,
    LIST_AUTOSTART = 1 << 4,
    LIST_NO_AUTOSTART = 1 << 5,
};
enum { XML_INACTIVE = 1 };
enum { DEFINE_VALIDATE = 1, CREATE_VALIDATE = 1 };
enum { IP_ADDR_TYPE_IPV4 = 0 };

static HearthDaemon *daemon_of(HearthCall *call)
{
    return rpc_client_get_daemon(call->client);
}

static NetworkDriver *drv_of(HearthCall *call)
{
    return daemon_of(call)->networks;
}

static HearthNetwork *lookup(HearthCall *call, const RemoteNonnullNetwork *ref, GError **error)
{
    HearthNetwork *net = network_driver_lookup_by_uuid(drv_of(call), ref->uuid);
    char uuid[HEARTH_UUID_STRING_LEN];

    if (!net) {
        hearth_uuid_format(ref->uuid, uuid);
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_NO_NETWORK,
                    _("Network not found: no network with matching uuid '%s' (%s)"), uuid,
                    ref->name ? ref->name : "");
    }
    return net;
}

#define LOOKUP_OR_FAIL(net, ref)                                                                   \
    HearthNetwork *net = lookup(call, (ref), error);                                               \
    if (!net)                                                                                      \
        return DISPATCH_FAILED;

static void to_wire(const HearthNetwork *net, RemoteNonnullNetwork *out)
{
    network_to_wire(hearth_network_current_def(net), out);
}

/* ---- listing ---- */

static gboolean network_matches(const HearthNetwork *net, guint flags)
{
#define FILTER_PAIR(yes, no, value)                                                                \
    if ((flags & ((yes) | (no))) &&                                                                \
        !(((flags & (yes)) && (value)) || ((flags & (no)) && !(value))))                           \
        return FALSE;
    FILTER_PAIR(LIST_ACTIVE, LIST_INACTIVE, hearth_network_is_active(net));
    FILTER_PAIR(LIST_PERSISTENT, LIST_TRANSIENT, net->persistent);
    FILTER_PAIR(LIST_AUTOSTART, LIST_NO_AUTOSTART, net->autostart);
#undef FILTER_PAIR
    return TRUE;
}

DispatchResult dispatch_connect_list_all_networks(HearthCall *call,
                                                  const RemoteConnectListAllNetworksArgs *args,
                                                  RemoteConnectListAllNetworksRet *ret,
                                                  GError **error)
{
    g_autoptr(GPtrArray) all = network_driver_list(drv_of(call));
    guint n = 0;

    if (!dispatch_check_flags(args->flags, 0x3f, "virConnectListAllNetworks", error))
        return DISPATCH_FAILED;
    if (args->need_results)
        ret->nets_val = g_new0(RemoteNonnullNetwork, all->len ? all->len : 1);
    for (guint i = 0; i < all->len; i++) {
        const HearthNetwork *net = all->pdata[i];

        if (!network_matches(net, args->flags))
            continue;
        if (args->need_results)
            to_wire(net, &ret->nets_val[n]);
        n++;
    }
    ret->nets_len = args->need_results ? n : 0;
    ret->ret = n;
    return DISPATCH_DONE;
}

static guint count_active(HearthCall *call, gboolean active)
{
    g_autoptr(GPtrArray) all = network_driver_list(drv_of(call));
    guint n = 0;

    for (guint i = 0; i < all->len; i++)
        n += hearth_network_is_active(all->pdata[i]) == active;
    return n;
}

static gboolean list_names(HearthCall *call, gint32 maxnames, gboolean active, guint32 *len,
                           char ***names, GError **error)
{
    g_autoptr(GPtrArray) all = network_driver_list(drv_of(call));

    if (maxnames < 0) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_INVALID_ARG,
                    _("maxnames must not be negative"));
        return FALSE;
    }
    *names = g_new0(char *, all->len + 1);
    *len = 0;
    for (guint i = 0; i < all->len && *len < (guint)maxnames; i++) {
        const HearthNetwork *net = all->pdata[i];

        if (hearth_network_is_active(net) == active)
            (*names)[(*len)++] = g_strdup(net->def->name);
    }
    return TRUE;
}

DispatchResult dispatch_connect_num_of_networks(HearthCall *call, const void *args,
                                                RemoteConnectNumOfNetworksRet *ret, GError **error)
{
    ret->num = (gint32)count_active(call, TRUE);
    return DISPATCH_DONE;
}

DispatchResult dispatch_connect_num_of_defined_networks(HearthCall *call, const void *args,
                                                        RemoteConnectNumOfDefinedNetworksRet *ret,
                                                        GError **error)
{
    ret->num = (gint32)count_active(call, FALSE);
    return DISPATCH_DONE;
}

DispatchResult dispatch_connect_list_networks(HearthCall *call,
                                              const RemoteConnectListNetworksArgs *args,
                                              RemoteConnectListNetworksRet *ret, GError **error)
{
    return list_names(call, args->maxnames, TRUE, &ret->names_len, &ret->names_val, error)
               ? DISPATCH_DONE
               : DISPATCH_FAILED;
}

DispatchResult
dispatch_connect_list_defined_networks(HearthCall *call,
                                       const RemoteConnectListDefinedNetworksArgs *args,
                                       RemoteConnectListDefinedNetworksRet *ret, GError **error)
{
    return list_names(call, args->maxnames, FALSE, &ret->names_len, &ret->names_val, error)
               ? DISPATCH_DONE
               : DISPATCH_FAILED;
}

/* ---- lookups and queries ---- */

DispatchResult dispatch_network_lookup_by_name(HearthCall *call,
                                               const RemoteNetworkLookupByNameArgs *args,
                                               RemoteNetworkLookupByNameRet *ret, GError **error)
{
    HearthNetwork *net = network_driver_lookup_by_name(drv_of(call), args->name);

    if (!net) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_NO_NETWORK,
                    _("Network not found: no network with matching name '%s'"), args->name);
        return DISPATCH_FAILED;
    }
    to_wire(net, &ret->net);
    return DISPATCH_DONE;
}

DispatchResult dispatch_network_lookup_by_uuid(HearthCall *call,
                                               const RemoteNetworkLookupByUuidArgs *args,
                                               RemoteNetworkLookupByUuidRet *ret, GError **error)
{
    HearthNetwork *net = network_driver_lookup_by_uuid(drv_of(call), args->uuid);
    char uuid[HEARTH_UUID_STRING_LEN];

    if (!net) {
        hearth_uuid_format(args->uuid, uuid);
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_NO_NETWORK,
                    _("Network not found: no network with matching uuid '%s'"), uuid);
        return DISPATCH_FAILED;
    }
    to_wire(net, &ret->net);
    return DISPATCH_DONE;
}

DispatchResult dispatch_network_get_xml_desc(HearthCall *call,
                                             const RemoteNetworkGetXmlDescArgs *args,
                                             RemoteNetworkGetXmlDescRet *ret, GError **error)
{
    const HearthNetworkDef *def;

    if (!dispatch_check_flags(args->flags, XML_INACTIVE, "virNetworkGetXMLDesc", error))
        return DISPATCH_FAILED;
    LOOKUP_OR_FAIL(net, &args->net);
    def = (args->flags & XML_INACTIVE) && net->persistent ? net->def
                                                          : hearth_network_current_def(net);
    ret->xml = network_def_format(def);
    return DISPATCH_DONE;
}

DispatchResult dispatch_network_get_autostart(HearthCall *call,
                                              const RemoteNetworkGetAutostartArgs *args,
                                              RemoteNetworkGetAutostartRet *ret, GError **error)
{
    LOOKUP_OR_FAIL(net, &args->net);
    ret->autostart = net->autostart;
    return DISPATCH_DONE;
}

DispatchResult dispatch_network_set_autostart(HearthCall *call,
                                              const RemoteNetworkSetAutostartArgs *args, void *ret,
                                              GError **error)
{
    LOOKUP_OR_FAIL(net, &args->net);
    return network_driver_set_autostart(drv_of(call), net, args->autostart != 0, error)
               ? DISPATCH_DONE
               : DISPATCH_FAILED;
}

DispatchResult dispatch_network_is_active(HearthCall *call, const RemoteNetworkIsActiveArgs *args,
                                          RemoteNetworkIsActiveRet *ret, GError **error)
{
    LOOKUP_OR_FAIL(net, &args->net);
    ret->active = hearth_network_is_active(net);
    return DISPATCH_DONE;
}

DispatchResult dispatch_network_is_persistent(HearthCall *call,
                                              const RemoteNetworkIsPersistentArgs *args,
                                              RemoteNetworkIsPersistentRet *ret, GError **error)
{
    LOOKUP_OR_FAIL(net, &args->net);
    ret->persistent = net->persistent;
    return DISPATCH_DONE;
}

DispatchResult dispatch_network_get_bridge_name(HearthCall *call,
                                                const RemoteNetworkGetBridgeNameArgs *args,
                                                RemoteNetworkGetBridgeNameRet *ret, GError **error)
{
    const HearthNetworkDef *def;

    LOOKUP_OR_FAIL(net, &args->net);
    def = hearth_network_current_def(net);
    if (!def->bridge) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_INTERNAL,
                    _("network '%s' does not have a bridge name."), def->name);
        return DISPATCH_FAILED;
    }
    ret->name = g_strdup(def->bridge);
    return DISPATCH_DONE;
}

/* The prefix of the network address @ip is on, 0 if none. */
static guint lease_prefix(const HearthNetworkDef *def, const char *ip)
{
    guint32 addr;

    if (!network_ipv4_parse(ip, &addr))
        return 0;
    for (guint i = 0; i < def->ips->len; i++) {
        const HearthNetIp *n = g_ptr_array_index(def->ips, i);

        if ((addr & network_ip_mask(n->prefix)) == network_ip_subnet(n))
            return n->prefix;
    }
    return 0;
}

DispatchResult dispatch_network_get_dhcp_leases(HearthCall *call,
                                                const RemoteNetworkGetDhcpLeasesArgs *args,
                                                RemoteNetworkGetDhcpLeasesRet *ret, GError **error)
{
    g_autoptr(GPtrArray) leases = NULL;
    const HearthNetworkDef *def;

    if (!dispatch_check_flags(args->flags, 0, "virNetworkGetDHCPLeases", error))
        return DISPATCH_FAILED;
    LOOKUP_OR_FAIL(net, &args->net);
    leases = network_driver_leases(drv_of(call), net, args->mac, error);
    if (!leases)
        return DISPATCH_FAILED;
    def = hearth_network_current_def(net);
    ret->ret = leases->len;
    if (!args->need_results)
        return DISPATCH_DONE;
    ret->leases_val = g_new0(RemoteNetworkDhcpLease, leases->len ? leases->len : 1);
    ret->leases_len = leases->len;
    for (guint i = 0; i < leases->len; i++) {
        const NetworkLease *l = g_ptr_array_index(leases, i);
        RemoteNetworkDhcpLease *w = &ret->leases_val[i];

        w->iface = g_strdup(def->bridge ? def->bridge : "");
        w->expirytime = l->expiry;
        w->type = IP_ADDR_TYPE_IPV4;
        w->mac = g_strdup(l->mac);
        w->ipaddr = g_strdup(l->ip);
        w->prefix = lease_prefix(def, l->ip);
        w->hostname = g_strdup(l->hostname);
        w->clientid = g_strdup(l->client_id);
    }
    return DISPATCH_DONE;
}

/* ---- definitions ---- */

static HearthNetwork *define_common(HearthCall *call, const char *xml, guint flags, GError **error)
{
    HearthNetworkDef *def;
    HearthNetwork *net;
    gboolean is_new = FALSE;

    if (!dispatch_check_flags(flags, DEFINE_VALIDATE, "virNetworkDefineXMLFlags", error))
        return NULL;
    def = network_def_parse(xml, strlen(xml),
                            (flags & DEFINE_VALIDATE) ? NETWORK_DEF_PARSE_VALIDATE : 0, error);
    if (!def)
        return NULL;
    net = network_driver_define(drv_of(call), def, &is_new, error);
    if (!net)
        return NULL;
    g_info("defined network '%s'", net->def->name);
    network_events_lifecycle(daemon_of(call), net->def->name, net->def->uuid,
                             NETWORK_EVENT_DEFINED);
    return net;
}

DispatchResult dispatch_network_define_xml(HearthCall *call, const RemoteNetworkDefineXmlArgs *args,
                                           RemoteNetworkDefineXmlRet *ret, GError **error)
{
    HearthNetwork *net = define_common(call, args->xml, 0, error);

    if (!net)
        return DISPATCH_FAILED;
    to_wire(net, &ret->net);
    return DISPATCH_DONE;
}

DispatchResult dispatch_network_define_xml_flags(HearthCall *call,
                                                 const RemoteNetworkDefineXmlFlagsArgs *args,
                                                 RemoteNetworkDefineXmlFlagsRet *ret,
                                                 GError **error)
{
    HearthNetwork *net = define_common(call, args->xml, args->flags, error);

    if (!net)
        return DISPATCH_FAILED;
    to_wire(net, &ret->net);
    return DISPATCH_DONE;
}

DispatchResult dispatch_network_undefine(HearthCall *call, const RemoteNetworkUndefineArgs *args,
                                         void *ret, GError **error)
{
    g_autofree char *name = NULL;
    guint8 uuid[16];

    LOOKUP_OR_FAIL(net, &args->net);
    /* Undefining an inactive network frees it: keep what the event needs. */
    name = g_strdup(net->def->name);
    memcpy(uuid, net->def->uuid, 16);
    if (!network_driver_undefine(drv_of(call), net, error))
        return DISPATCH_FAILED;
    g_info("undefined network '%s'", name);
    network_events_lifecycle(daemon_of(call), name, uuid, NETWORK_EVENT_UNDEFINED);
    return DISPATCH_DONE;
}

/* ---- start and stop ---- */

typedef struct {
    HearthCall *call;
    char *name;
    guint8 uuid[16];
    RemoteNonnullNetwork *out; /* CREATE_XML: where the network goes */
    int event;
} OpCtx;

static OpCtx *op_new(HearthCall *call, const HearthNetwork *net, RemoteNonnullNetwork *out,
                     int event)
{
    OpCtx *ctx = g_new0(OpCtx, 1);

    ctx->call = call;
    ctx->name = g_strdup(net->def->name);
    memcpy(ctx->uuid, net->def->uuid, 16);
    ctx->out = out;
    ctx->event = event;
    return ctx;
}

static void op_done(const GError *error, gpointer data)
{
    OpCtx *ctx = data;
    HearthDaemon *daemon = daemon_of(ctx->call);

    if (error) {
        hearth_call_fail(ctx->call, error);
    } else {
        if (ctx->out) {
            ctx->out->name = g_strdup(ctx->name);
            memcpy(ctx->out->uuid, ctx->uuid, 16);
        }
        network_events_lifecycle(daemon, ctx->name, ctx->uuid, ctx->event);
        hearth_call_complete(ctx->call);
    }
    g_free(ctx->name);
    g_free(ctx);
}

static DispatchResult start_network(HearthCall *call, HearthNetwork *net, RemoteNonnullNetwork *out,
                                    GError **error)
{
    OpCtx *ctx = op_new(call, net, out, NETWORK_EVENT_STARTED);

    if (network_driver_start(drv_of(call), net, op_done, ctx, error))
        return DISPATCH_ASYNC;
    g_free(ctx->name);
    g_free(ctx);
    return DISPATCH_FAILED;
}

DispatchResult dispatch_network_create(HearthCall *call, const RemoteNetworkCreateArgs *args,
                                       void *ret, GError **error)
{
    LOOKUP_OR_FAIL(net, &args->net);
    return start_network(call, net, NULL, error);
}

static DispatchResult create_xml_common(HearthCall *call, const char *xml, guint flags,
                                        RemoteNonnullNetwork *out, GError **error)
{
    HearthNetworkDef *def;
    HearthNetwork *net;
    DispatchResult res;

    if (!dispatch_check_flags(flags, CREATE_VALIDATE, "virNetworkCreateXMLFlags", error))
        return DISPATCH_FAILED;
    def = network_def_parse(xml, strlen(xml),
                            (flags & CREATE_VALIDATE) ? NETWORK_DEF_PARSE_VALIDATE : 0, error);
    if (!def)
        return DISPATCH_FAILED;
    net = network_driver_add_transient(drv_of(call), def, error);
    if (!net)
        return DISPATCH_FAILED;
    res = start_network(call, net, out, error);
    if (res == DISPATCH_FAILED)
        network_driver_remove_transient(drv_of(call), net);
    return res;
}

DispatchResult dispatch_network_create_xml(HearthCall *call, const RemoteNetworkCreateXmlArgs *args,
                                           RemoteNetworkCreateXmlRet *ret, GError **error)
{
    return create_xml_common(call, args->xml, 0, &ret->net, error);
}

DispatchResult dispatch_network_create_xml_flags(HearthCall *call,
                                                 const RemoteNetworkCreateXmlFlagsArgs *args,
                                                 RemoteNetworkCreateXmlFlagsRet *ret,
                                                 GError **error)
{
    return create_xml_common(call, args->xml, args->flags, &ret->net, error);
}

DispatchResult dispatch_network_destroy(HearthCall *call, const RemoteNetworkDestroyArgs *args,
                                        void *ret, GError **error)
{
    OpCtx *ctx;

    LOOKUP_OR_FAIL(net, &args->net);
    ctx = op_new(call, net, NULL, NETWORK_EVENT_STOPPED);
    if (network_driver_stop(drv_of(call), net, op_done, ctx, error))
        return DISPATCH_ASYNC;
    g_free(ctx->name);
    g_free(ctx);
    return DISPATCH_FAILED;
}
