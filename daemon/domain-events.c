#include "domain-events.h"
#include "rpc-server.h"

#include <string.h>

void domain_to_wire(const HearthDomain *dom, RemoteNonnullDomain *out)
{
    const HearthDomainDef *def = hearth_domain_current_def(dom);

    out->name = g_strdup(def->name);
    memcpy(out->uuid, def->uuid, 16);
    out->id = dom->id;
}

typedef struct {
    gint32 event_id;
    const guint8 *uuid;
    /* Sends one message for one matching registration. */
    void (*send)(RpcClient *client, const EventRegistration *reg, gpointer msg_data);
    gpointer msg_data;
} EventDelivery;

static void deliver_to_client(RpcClient *client, gpointer user_data)
{
    EventDelivery *d = user_data;
    GArray *regs = rpc_client_event_registrations(client, EVENT_OBJECT_DOMAIN);

    for (guint i = 0; i < regs->len; i++) {
        const EventRegistration *reg = &g_array_index(regs, EventRegistration, i);

        if (reg->event_id != d->event_id)
            continue;
        if (reg->has_filter && memcmp(reg->uuid, d->uuid, 16) != 0)
            continue;
        d->send(client, reg, d->msg_data);
    }
}

typedef struct {
    RemoteNonnullDomain dom;
    int event;
    int detail;
} LifecycleData;

static void send_lifecycle(RpcClient *client, const EventRegistration *reg, gpointer data)
{
    LifecycleData *l = data;

    if (reg->callback_id < 0) {
        RemoteDomainEventLifecycleMsg msg = {.dom = l->dom, .event = l->event, .detail = l->detail};
        rpc_client_send_message(client, RPC_PROGRAM_REMOTE, REMOTE_PROC_DOMAIN_EVENT_LIFECYCLE,
                                &remote_domain_event_lifecycle_msg_xdr, &msg);
    } else {
        RemoteDomainEventCallbackLifecycleMsg msg = {
            .callbackID = reg->callback_id,
            .msg = {.dom = l->dom, .event = l->event, .detail = l->detail},
        };
        rpc_client_send_message(client, RPC_PROGRAM_REMOTE,
                                REMOTE_PROC_DOMAIN_EVENT_CALLBACK_LIFECYCLE,
                                &remote_domain_event_callback_lifecycle_msg_xdr, &msg);
    }
}

void domain_events_lifecycle(HearthDaemon *daemon, const HearthDomain *dom, int event, int detail)
{
    LifecycleData data = {.event = event, .detail = detail};
    EventDelivery d = {.event_id = DOMAIN_EVENT_ID_LIFECYCLE,
                       .uuid = hearth_domain_current_def(dom)->uuid,
                       .send = send_lifecycle,
                       .msg_data = &data};

    domain_to_wire(dom, &data.dom);
    rpc_server_foreach_client(daemon->server, deliver_to_client, &d);
    g_free(data.dom.name);
}

typedef struct {
    RemoteNonnullDomain dom;
    int type;
    const char *nsuri;
} MetadataData;

static void send_metadata(RpcClient *client, const EventRegistration *reg, gpointer data)
{
    MetadataData *m = data;
    RemoteDomainEventCallbackMetadataChangeMsg msg = {
        .callbackID = reg->callback_id,
        .dom = m->dom,
        .type = m->type,
        .nsuri = (char *)m->nsuri,
    };

    if (reg->callback_id < 0)
        return; /* no legacy form exists */
    rpc_client_send_message(client, RPC_PROGRAM_REMOTE,
                            REMOTE_PROC_DOMAIN_EVENT_CALLBACK_METADATA_CHANGE,
                            &remote_domain_event_callback_metadata_change_msg_xdr, &msg);
}

void domain_events_metadata_change(HearthDaemon *daemon, const HearthDomain *dom, int type,
                                   const char *nsuri)
{
    MetadataData data = {.type = type, .nsuri = nsuri};
    EventDelivery d = {.event_id = DOMAIN_EVENT_ID_METADATA_CHANGE,
                       .uuid = hearth_domain_current_def(dom)->uuid,
                       .send = send_metadata,
                       .msg_data = &data};

    domain_to_wire(dom, &data.dom);
    rpc_server_foreach_client(daemon->server, deliver_to_client, &d);
    g_free(data.dom.name);
}

typedef struct {
    RemoteNonnullDomain dom;
    const char *path;
    const char *target;
    int type;
    int status;
} BlockJobData;

static void send_block_job(RpcClient *client, const EventRegistration *reg, gpointer data)
{
    BlockJobData *b = data;

    if (reg->callback_id < 0) {
        RemoteDomainEventBlockJobMsg msg = {
            .dom = b->dom, .path = (char *)b->path, .type = b->type, .status = b->status};
        rpc_client_send_message(client, RPC_PROGRAM_REMOTE, REMOTE_PROC_DOMAIN_EVENT_BLOCK_JOB,
                                &remote_domain_event_block_job_msg_xdr, &msg);
    } else {
        RemoteDomainEventCallbackBlockJobMsg msg = {
            .callbackID = reg->callback_id,
            .msg = {.dom = b->dom, .path = (char *)b->path, .type = b->type, .status = b->status},
        };
        rpc_client_send_message(client, RPC_PROGRAM_REMOTE,
                                REMOTE_PROC_DOMAIN_EVENT_CALLBACK_BLOCK_JOB,
                                &remote_domain_event_callback_block_job_msg_xdr, &msg);
    }
}

static void send_block_job_2(RpcClient *client, const EventRegistration *reg, gpointer data)
{
    BlockJobData *b = data;
    RemoteDomainEventBlockJob2Msg msg = {
        .callbackID = reg->callback_id,
        .dom = b->dom,
        .dst = (char *)b->target,
        .type = b->type,
        .status = b->status,
    };

    if (reg->callback_id < 0)
        return; /* no legacy form exists */
    rpc_client_send_message(client, RPC_PROGRAM_REMOTE, REMOTE_PROC_DOMAIN_EVENT_BLOCK_JOB_2,
                            &remote_domain_event_block_job_2_msg_xdr, &msg);
}

void domain_events_block_job(HearthDaemon *daemon, const HearthDomain *dom, const char *path,
                             const char *target, int type, int status)
{
    BlockJobData data = {
        .path = path ? path : "", .target = target, .type = type, .status = status};
    EventDelivery d = {.event_id = DOMAIN_EVENT_ID_BLOCK_JOB,
                       .uuid = hearth_domain_current_def(dom)->uuid,
                       .send = send_block_job,
                       .msg_data = &data};

    domain_to_wire(dom, &data.dom);
    rpc_server_foreach_client(daemon->server, deliver_to_client, &d);
    d.event_id = DOMAIN_EVENT_ID_BLOCK_JOB_2;
    d.send = send_block_job_2;
    rpc_server_foreach_client(daemon->server, deliver_to_client, &d);
    g_free(data.dom.name);
}
