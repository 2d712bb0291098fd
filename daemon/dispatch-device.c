/* attach-device, detach-device, update-device (and attach-disk, attach-interface, ...) on the
 * persistent definition (--config, or a shut-off domain). Changing the devices of a running
 * guest (hotplug) is not done yet: refused with a message saying so. */
#include "dispatch-util.h"
#include "domain-runner.h"
#include "domain-store.h"
#include "hearth-daemon.h"
#include "hearth-error.h"
#include "rpc-server.h"

#include <glib/gi18n-lib.h>

/* virDomainDeviceModifyFlags */
enum { DEVICE_MODIFY_FORCE = 4 };

/* TRUE when the persistent definition is to change; a running guest's devices cannot. */
static gboolean affect_config(HearthDomain *dom, guint flags, const char *what, GError **error)
{
    gboolean live, config;

    if (!dispatch_resolve_impact(dom, flags, &live, &config, error))
        return FALSE;
    if (live) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_OPERATION_UNSUPPORTED,
                    _("%s on a running guest (hotplug) is not supported by Hearth yet; use "
                      "--config to change the definition for the next start"),
                    what);
        return FALSE;
    }
    return TRUE;
}

static const char *device_name(const HearthDomainDevice *dev)
{
    if (dev->kind == HEARTH_DEVICE_DISK)
        return dev->u.disk->target_dev;
    if (dev->kind == HEARTH_DEVICE_INTERFACE)
        return dev->u.net->mac;
    return NULL;
}

typedef enum { MODIFY_ATTACH, MODIFY_DETACH, MODIFY_UPDATE } Modify;

static DispatchResult modify(HearthCall *call, const RemoteNonnullDomain *ref, const char *xml,
                             guint flags, Modify op, GError **error)
{
    static const char *const what[] = {N_("attaching a device"), N_("detaching a device"),
                                       N_("updating a device")};
    HearthDomain *dom = dispatch_lookup_domain(call, ref, error);
    HearthDaemon *daemon = rpc_client_get_daemon(call->client);
    g_autoptr(HearthDomainDef) copy = NULL;
    HearthDomainDevice *dev;
    const char *name;
    int found;

    if (!dom ||
        !dispatch_check_flags(flags,
                              DISPATCH_AFFECT_LIVE | DISPATCH_AFFECT_CONFIG | DEVICE_MODIFY_FORCE,
                              "virDomainModifyDevice", error) ||
        !affect_config(dom, flags, _(what[op]), error))
        return DISPATCH_FAILED;
    dev = domain_device_parse_xml(xml, error);
    if (!dev)
        return DISPATCH_FAILED;
    name = device_name(dev);
    copy = domain_def_copy(dom->def);
    found = domain_def_find_device(copy, dev);
    switch (op) {
    case MODIFY_ATTACH:
        if (found >= 0 && dev->kind != HEARTH_DEVICE_INTERFACE) {
            g_set_error(error, HEARTH_ERROR, HEARTH_ERR_OPERATION_INVALID,
                        name ? _("target %s already exists") : _("the device already exists"),
                        name);
            domain_device_free(dev);
            return DISPATCH_FAILED;
        }
        domain_def_insert_device(copy, dev);
        break;
    case MODIFY_DETACH:
    case MODIFY_UPDATE:
        if (found < 0) {
            g_set_error(error, HEARTH_ERROR, HEARTH_ERR_DEVICE_MISSING,
                        name ? _("no device %s in domain '%s'")
                             : _("no matching device in domain '%s'"),
                        name ? name : dom->def->name, dom->def->name);
            domain_device_free(dev);
            return DISPATCH_FAILED;
        }
        if (op == MODIFY_UPDATE && dev->kind != HEARTH_DEVICE_DISK) {
            g_set_error(error, HEARTH_ERROR, HEARTH_ERR_OPERATION_UNSUPPORTED,
                        _("only disks can be updated (e.g. a CD-ROM's media)"));
            domain_device_free(dev);
            return DISPATCH_FAILED;
        }
        g_ptr_array_remove_index(copy->devices, (guint)found);
        if (op == MODIFY_UPDATE)
            g_ptr_array_insert(copy->devices, found, dev);
        else
            domain_device_free(dev);
        break;
    }
    if (!domain_store_replace_def(daemon->domains, dom, g_steal_pointer(&copy), error))
        return DISPATCH_FAILED;
    g_info("domain '%s': %s%s%s (config)", dom->def->name, what[op], name ? " " : "",
           name ? name : "");
    return DISPATCH_DONE;
}

DispatchResult dispatch_domain_attach_device(HearthCall *call,
                                             const RemoteDomainAttachDeviceArgs *args, void *ret,
                                             GError **error)
{
    (void)ret;
    return modify(call, &args->dom, args->xml, DISPATCH_AFFECT_LIVE, MODIFY_ATTACH, error);
}

DispatchResult dispatch_domain_attach_device_flags(HearthCall *call,
                                                   const RemoteDomainAttachDeviceFlagsArgs *args,
                                                   void *ret, GError **error)
{
    (void)ret;
    return modify(call, &args->dom, args->xml, args->flags, MODIFY_ATTACH, error);
}

DispatchResult dispatch_domain_detach_device(HearthCall *call,
                                             const RemoteDomainDetachDeviceArgs *args, void *ret,
                                             GError **error)
{
    (void)ret;
    return modify(call, &args->dom, args->xml, DISPATCH_AFFECT_LIVE, MODIFY_DETACH, error);
}

DispatchResult dispatch_domain_detach_device_flags(HearthCall *call,
                                                   const RemoteDomainDetachDeviceFlagsArgs *args,
                                                   void *ret, GError **error)
{
    (void)ret;
    return modify(call, &args->dom, args->xml, args->flags, MODIFY_DETACH, error);
}

DispatchResult dispatch_domain_update_device_flags(HearthCall *call,
                                                   const RemoteDomainUpdateDeviceFlagsArgs *args,
                                                   void *ret, GError **error)
{
    (void)ret;
    return modify(call, &args->dom, args->xml, args->flags, MODIFY_UPDATE, error);
}
