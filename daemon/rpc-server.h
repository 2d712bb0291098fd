/* The RPC endpoint: listening unix sockets and the connections accepted on them. Each
 * connection reads whole packets, hands calls to the dispatcher and queues replies and
 * events; a connection that breaks the protocol costs only itself. */
#pragma once

#include "rpc-packet.h"
#include "remote-protocol.h"
#include "remote-dispatch.h"
#include "rpc-tls.h"
#include "xdr.h"

#include <glib.h>
#include <sys/types.h>

G_BEGIN_DECLS

typedef struct RpcServer RpcServer;
typedef struct RpcClient RpcClient;
typedef struct HearthDaemon HearthDaemon;

/* A registration made with CONNECT_*_EVENT_*REGISTER_ANY. */
typedef struct {
    gint32 callback_id; /* -1 for the legacy (no callback id) form */
    gint32 event_id;
    gboolean has_filter;
    guint8 uuid[16]; /* the object filtered on, when has_filter */
} EventRegistration;

typedef enum { EVENT_OBJECT_DOMAIN, EVENT_OBJECT_NETWORK, EVENT_OBJECT_COUNT } EventObject;

struct HearthCall {
    RpcClient *client;
    RpcHeader header;
    const RemoteProcInfo *info;
    gpointer args;
    gpointer ret;
};

RpcServer *rpc_server_new(HearthDaemon *daemon, guint max_clients, guint max_client_requests);
void rpc_server_free(RpcServer *server);

/* Bind PATH (0600 read-write or 0666 read-only). A live server on PATH is an error naming it;
 * a stale socket file is replaced. */
gboolean rpc_server_listen_unix(RpcServer *server, const char *path, gboolean readonly,
                                GError **error);
/* Serve an already-listening socket (systemd socket activation); tls needs rpc_server_set_tls. */
gboolean rpc_server_adopt_listener(RpcServer *server, int fd, gboolean readonly, gboolean tls,
                                   GError **error);
/* The TLS credentials for TLS listeners (the server owns them). */
void rpc_server_set_tls(RpcServer *server, RpcTlsContext *ctx);
/* Listen for qemu+tls:// on ADDRESS (NULL or "": every address, IPv4 and IPv6) and PORT. */
gboolean rpc_server_listen_tls(RpcServer *server, const char *address, guint port, GError **error);
void rpc_server_close_listeners(RpcServer *server);
guint rpc_server_client_count(RpcServer *server);

typedef void (*RpcClientFunc)(RpcClient *client, gpointer user_data);
void rpc_server_foreach_client(RpcServer *server, RpcClientFunc func, gpointer user_data);

HearthDaemon *rpc_client_get_daemon(RpcClient *client);
gboolean rpc_client_is_readonly(RpcClient *client);
gboolean rpc_client_is_open(RpcClient *client);
void rpc_client_set_open(RpcClient *client, gboolean readonly);
void rpc_client_set_close_callback(RpcClient *client, gboolean registered);

/* Event registrations of one connection for one object kind. */
GArray *rpc_client_event_registrations(RpcClient *client, EventObject object);
gint32 rpc_client_next_callback_id(RpcClient *client);

/* Queue an unsolicited MESSAGE packet (an event) to this client. */
void rpc_client_send_message(RpcClient *client, guint32 program, gint32 proc, const XdrType *type,
                             gconstpointer msg);

/* A data stream opened by a call (e.g. DOMAIN_OPEN_CONSOLE): STREAM packets that carry the
 * call's procedure and serial. */
typedef struct RpcStream RpcStream;
typedef struct {
    void (*data)(RpcStream *stream, const guint8 *buf, gsize len, gpointer user_data);
    /* The client finished (finish = TRUE) or aborted the stream, or went away; the stream is
     * freed right after this returns. */
    void (*closed)(RpcStream *stream, gboolean finish, gpointer user_data);
} RpcStreamFuncs;

/* Open a stream for the call being dispatched, before its reply is sent. */
RpcStream *rpc_stream_open(HearthCall *call, const RpcStreamFuncs *funcs, gpointer user_data);
void rpc_stream_send(RpcStream *stream, const guint8 *buf, gsize len);
/* Our side ended (EOF): tell the client and forget the stream. No callback follows. */
void rpc_stream_close(RpcStream *stream);
/* Bytes queued for this stream's client: producers pause above a limit. */
gsize rpc_stream_backlog(RpcStream *stream);

/* Finish a call a handler returned DISPATCH_ASYNC for: reply with call->ret, or the error. */
void hearth_call_complete(HearthCall *call);
void hearth_call_fail(HearthCall *call, const GError *error);

G_END_DECLS
