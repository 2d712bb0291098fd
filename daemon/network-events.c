#include "network-events.h"
#include "rpc-server.h"

#include <string.h>

void network_to_wire(const HearthNetworkDef *def, RemoteNonnullNetwork *out)
{
    out->name = g_strdup(def->name);
    memcpy(out->uuid, def->uuid, 16);
}

typedef struct {
    RemoteNonnullNetwork net;
    int event;
} LifecycleData;

static void deliver_to_client(RpcClient *client, gpointer user_data)
{
    LifecycleData *d = user_data;
    GArray *regs = rpc_client_event_registrations(client, EVENT_OBJECT_NETWORK);

    for (guint i = 0; i < regs->len; i++) {
        const EventRegistration *reg = &g_array_index(regs, EventRegistration, i);
        RemoteNetworkEventLifecycleMsg msg = {
            .callbackID = reg->callback_id, .net = d->net, .event = d->event, .detail = 0};

        if (reg->event_id != NETWORK_EVENT_ID_LIFECYCLE)
            continue;
        if (reg->has_filter && memcmp(reg->uuid, d->net.uuid, 16) != 0)
            continue;
        rpc_client_send_message(client, RPC_PROGRAM_REMOTE, REMOTE_PROC_NETWORK_EVENT_LIFECYCLE,
                                &remote_network_event_lifecycle_msg_xdr, &msg);
    }
}

void network_events_lifecycle(HearthDaemon *daemon, const char *name, const guint8 *uuid, int event)
{
    LifecycleData d = {.event = event};

    if (!daemon->server)
        return;
    d.net.name = (char *)name;
    memcpy(d.net.uuid, uuid, 16);
    rpc_server_foreach_client(daemon->server, deliver_to_client, &d);
}
