/* Event registration procedures. Registrations live with the connection and die with it. */
#include "domain-events.h"
#include "hearth-error.h"
#include "rpc-server.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#define NETWORK_EVENT_ID_LAST 1

static gboolean check_event_id(gint32 event_id, gint32 last, GError **error)
{
    if (event_id < 0 || event_id >= last) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_INVALID_ARG, _("unsupported event ID %d"),
                    event_id);
        return FALSE;
    }
    return TRUE;
}

static gint32 add_registration(RpcClient *client, EventObject object, gint32 event_id,
                               const guint8 *uuid)
{
    EventRegistration reg = {.event_id = event_id};

    reg.callback_id = rpc_client_next_callback_id(client);
    if (uuid) {
        reg.has_filter = TRUE;
        memcpy(reg.uuid, uuid, 16);
    }
    g_array_append_val(rpc_client_event_registrations(client, object), reg);
    return reg.callback_id;
}

static gboolean remove_registration(RpcClient *client, EventObject object, gint32 callback_id,
                                    GError **error)
{
    GArray *regs = rpc_client_event_registrations(client, object);

    for (guint i = 0; i < regs->len; i++) {
        if (g_array_index(regs, EventRegistration, i).callback_id == callback_id) {
            g_array_remove_index(regs, i);
            return TRUE;
        }
    }
    g_set_error(error, HEARTH_ERROR, HEARTH_ERR_INVALID_ARG, _("callback ID %d not registered"),
                callback_id);
    return FALSE;
}

DispatchResult dispatch_connect_domain_event_callback_register_any(
    HearthCall *call, const RemoteConnectDomainEventCallbackRegisterAnyArgs *args,
    RemoteConnectDomainEventCallbackRegisterAnyRet *ret, GError **error)
{
    if (!check_event_id(args->eventID, DOMAIN_EVENT_ID_LAST, error))
        return DISPATCH_FAILED;
    ret->callbackID = add_registration(call->client, EVENT_OBJECT_DOMAIN, args->eventID,
                                       args->dom ? args->dom->uuid : NULL);
    return DISPATCH_DONE;
}

DispatchResult dispatch_connect_domain_event_callback_deregister_any(
    HearthCall *call, const RemoteConnectDomainEventCallbackDeregisterAnyArgs *args, void *ret,
    GError **error)
{
    return remove_registration(call->client, EVENT_OBJECT_DOMAIN, args->callbackID, error)
               ? DISPATCH_DONE
               : DISPATCH_FAILED;
}

/* Legacy forms: one registration per event ID, no callback id on the wire. */
static gboolean legacy_register(RpcClient *client, gint32 event_id, GError **error)
{
    GArray *regs = rpc_client_event_registrations(client, EVENT_OBJECT_DOMAIN);
    EventRegistration reg = {.callback_id = -1, .event_id = event_id};

    for (guint i = 0; i < regs->len; i++) {
        const EventRegistration *r = &g_array_index(regs, EventRegistration, i);
        if (r->callback_id < 0 && r->event_id == event_id) {
            g_set_error(error, HEARTH_ERROR, HEARTH_ERR_INTERNAL,
                        _("domain event %d already registered"), event_id);
            return FALSE;
        }
    }
    g_array_append_val(regs, reg);
    return TRUE;
}

static gboolean legacy_deregister(RpcClient *client, gint32 event_id, GError **error)
{
    GArray *regs = rpc_client_event_registrations(client, EVENT_OBJECT_DOMAIN);

    for (guint i = 0; i < regs->len; i++) {
        const EventRegistration *r = &g_array_index(regs, EventRegistration, i);
        if (r->callback_id < 0 && r->event_id == event_id) {
            g_array_remove_index(regs, i);
            return TRUE;
        }
    }
    g_set_error(error, HEARTH_ERROR, HEARTH_ERR_INTERNAL, _("domain event %d not registered"),
                event_id);
    return FALSE;
}

DispatchResult
dispatch_connect_domain_event_register_any(HearthCall *call,
                                           const RemoteConnectDomainEventRegisterAnyArgs *args,
                                           void *ret, GError **error)
{
    if (!check_event_id(args->eventID, DOMAIN_EVENT_ID_LAST, error) ||
        !legacy_register(call->client, args->eventID, error))
        return DISPATCH_FAILED;
    return DISPATCH_DONE;
}

DispatchResult
dispatch_connect_domain_event_deregister_any(HearthCall *call,
                                             const RemoteConnectDomainEventDeregisterAnyArgs *args,
                                             void *ret, GError **error)
{
    return legacy_deregister(call->client, args->eventID, error) ? DISPATCH_DONE : DISPATCH_FAILED;
}

DispatchResult dispatch_connect_domain_event_register(HearthCall *call, const void *args,
                                                      RemoteConnectDomainEventRegisterRet *ret,
                                                      GError **error)
{
    if (!legacy_register(call->client, DOMAIN_EVENT_ID_LIFECYCLE, error))
        return DISPATCH_FAILED;
    ret->cb_registered = 1;
    return DISPATCH_DONE;
}

DispatchResult dispatch_connect_domain_event_deregister(HearthCall *call, const void *args,
                                                        RemoteConnectDomainEventDeregisterRet *ret,
                                                        GError **error)
{
    if (!legacy_deregister(call->client, DOMAIN_EVENT_ID_LIFECYCLE, error))
        return DISPATCH_FAILED;
    ret->cb_registered = 0;
    return DISPATCH_DONE;
}

DispatchResult dispatch_connect_network_event_register_any(
    HearthCall *call, const RemoteConnectNetworkEventRegisterAnyArgs *args,
    RemoteConnectNetworkEventRegisterAnyRet *ret, GError **error)
{
    if (!check_event_id(args->eventID, NETWORK_EVENT_ID_LAST, error))
        return DISPATCH_FAILED;
    ret->callbackID = add_registration(call->client, EVENT_OBJECT_NETWORK, args->eventID,
                                       args->net ? args->net->uuid : NULL);
    return DISPATCH_DONE;
}

DispatchResult dispatch_connect_network_event_deregister_any(
    HearthCall *call, const RemoteConnectNetworkEventDeregisterAnyArgs *args, void *ret,
    GError **error)
{
    return remove_registration(call->client, EVENT_OBJECT_NETWORK, args->callbackID, error)
               ? DISPATCH_DONE
               : DISPATCH_FAILED;
}
