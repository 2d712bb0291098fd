/* DOMAIN_INTERFACE_ADDRESSES (`virsh domifaddr`): a running guest's addresses as our dnsmasq
 * leased them (source LEASE, the default). The guest agent and ARP sources are not offered. */
#include "domain-store.h"
#include "hearth-daemon.h"
#include "hearth-error.h"
#include "network-driver.h"
#include "network-leases.h"
#include "rpc-server.h"

#include <glib/gi18n-lib.h>
#include <stdio.h>
#include <string.h>

enum { SOURCE_LEASE = 0, SOURCE_AGENT = 1, SOURCE_ARP = 2 };
enum { IP_ADDR_TYPE_IPV4 = 0 };

/* The prefix of the network's subnet the leased address is in. */
static guint32 lease_prefix(HearthNetwork *net, const char *ip)
{
    const HearthNetworkDef *def = net->live ? net->live : net->def;
    guint32 a, b, c, d;

    if (sscanf(ip, "%u.%u.%u.%u", &a, &b, &c, &d) == 4) {
        guint32 addr = a << 24 | b << 16 | c << 8 | d;
        for (guint i = 0; def->ips && i < def->ips->len; i++) {
            const HearthNetIp *nip = def->ips->pdata[i];
            if ((addr & network_ip_mask(nip->prefix)) ==
                (nip->address & network_ip_mask(nip->prefix)))
                return nip->prefix;
        }
    }
    return 24;
}

DispatchResult dispatch_domain_interface_addresses(HearthCall *call,
                                                   const RemoteDomainInterfaceAddressesArgs *args,
                                                   RemoteDomainInterfaceAddressesRet *ret,
                                                   GError **error)
{
    HearthDaemon *daemon = rpc_client_get_daemon(call->client);
    HearthDomain *dom = domain_store_lookup_by_uuid(daemon->domains, args->dom.uuid);
    g_autoptr(GArray) ifaces = g_array_new(FALSE, TRUE, sizeof(RemoteDomainInterface));
    const HearthDomainDef *def;

    if (!dom) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_NO_DOMAIN,
                    _("no domain with matching uuid (%s)"), args->dom.name);
        return DISPATCH_FAILED;
    }
    if (args->source != SOURCE_LEASE) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_ARGUMENT_UNSUPPORTED,
                    _("only the 'lease' source of interface addresses is supported"));
        return DISPATCH_FAILED;
    }
    if (!hearth_domain_is_active(dom)) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_OPERATION_INVALID, _("domain is not running"));
        return DISPATCH_FAILED;
    }
    def = hearth_domain_current_def(dom);
    for (guint i = 0; def->devices && i < def->devices->len; i++) {
        const HearthDomainDevice *dev = def->devices->pdata[i];
        const HearthDomainInterface *nic;
        HearthNetwork *net;
        g_autoptr(GPtrArray) leases = NULL;
        RemoteDomainInterface out = {0};

        if (dev->kind != HEARTH_DEVICE_INTERFACE)
            continue;
        nic = dev->u.net;
        if (nic->type != HEARTH_NET_TYPE_NETWORK || !nic->source_network || !nic->mac)
            continue;
        net = network_driver_lookup_by_name(daemon->networks, nic->source_network);
        if (!net)
            continue;
        leases = network_driver_leases(daemon->networks, net, nic->mac, NULL);
        if (!leases || leases->len == 0)
            continue;
        out.name = g_strdup(nic->target_dev ? nic->target_dev : "-");
        out.hwaddr = g_strdup(nic->mac);
        out.addrs_len = leases->len;
        out.addrs_val = g_new0(RemoteDomainIpAddr, leases->len);
        for (guint j = 0; j < leases->len; j++) {
            const NetworkLease *lease = leases->pdata[j];
            out.addrs_val[j].type = IP_ADDR_TYPE_IPV4;
            out.addrs_val[j].addr = g_strdup(lease->ip);
            out.addrs_val[j].prefix = lease_prefix(net, lease->ip);
        }
        g_array_append_val(ifaces, out);
    }
    ret->ifaces_len = ifaces->len;
    ret->ifaces_val = (RemoteDomainInterface *)g_array_free(g_steal_pointer(&ifaces), FALSE);
    return DISPATCH_DONE;
}
