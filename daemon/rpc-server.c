#include "rpc-server.h"
#include "hearth-error.h"
#include "rpc-tls.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <glib-unix.h>
#include <glib/gi18n-lib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define READ_CHUNK 65536
/* Stop reading from a client whose replies pile up unread. */
#define OUTBUF_HIGH_WATER (8u * 1024 * 1024)
/* A client that lets this much pile up (events it never reads) is dropped. */
#define OUTBUF_HARD_LIMIT ((gsize)RPC_MESSAGE_MAX * 2)

typedef struct {
    int fd;
    gboolean readonly;
    gboolean tls; /* connections speak TLS first (the server's context) */
    char *path;   /* unlinked at close when we created it */
    guint source_id;
    RpcServer *server;
} RpcListener;

struct RpcServer {
    HearthDaemon *daemon;
    guint max_clients;
    guint max_client_requests;
    GPtrArray *listeners;
    GList *clients;
    guint n_clients;
    guint64 next_client_id;
    RpcTlsContext *tls_ctx;
};

typedef struct {
    GSource source;
    RpcClient *client;
    gpointer tag;
} ClientSource;

struct RpcStream {
    RpcClient *client;
    gint32 proc;
    guint32 serial;
    const RpcStreamFuncs *funcs;
    gpointer user_data;
};

struct RpcClient {
    gint refs;
    RpcServer *server;
    guint64 id;
    int fd;
    GSource *source;
    GIOCondition events;
    gboolean readonly; /* from the socket or CONNECT_OPEN flags */
    gboolean open;     /* CONNECT_OPEN done */
    gboolean closed;
    gboolean close_callback;
    GByteArray *inbuf;  /* bytes read and not yet handled (possibly several packets) */
    GByteArray *outbuf; /* bytes queued for the peer */
    gsize out_off;
    guint in_flight;     /* async calls not yet answered */
    gboolean processing; /* inside client_process_input: a finishing call must not re-enter */
    GArray *event_regs[EVENT_OBJECT_COUNT];
    GList *streams; /* RpcStream * */
    gint32 next_callback_id;
    pid_t peer_pid;
    uid_t peer_uid;
    RpcTlsSession *tls;       /* TLS connections */
    gboolean tls_handshaking; /* no RPC before the handshake and the confirmation byte */
    char *peer_addr;          /* TCP peer, for the log */
};

static void client_close(RpcClient *client, const char *why);
static void client_update_events(RpcClient *client);
static void client_process_input(RpcClient *client);

static RpcClient *client_ref(RpcClient *client)
{
    g_atomic_int_inc(&client->refs);
    return client;
}

static void client_unref(RpcClient *client)
{
    if (!g_atomic_int_dec_and_test(&client->refs))
        return;
    g_byte_array_unref(client->inbuf);
    g_byte_array_unref(client->outbuf);
    for (int i = 0; i < EVENT_OBJECT_COUNT; i++)
        g_array_unref(client->event_regs[i]);
    rpc_tls_session_free(client->tls);
    g_free(client->peer_addr);
    g_free(client);
}

HearthDaemon *rpc_client_get_daemon(RpcClient *client)
{
    return client->server->daemon;
}

gboolean rpc_client_is_readonly(RpcClient *client)
{
    return client->readonly;
}

gboolean rpc_client_is_open(RpcClient *client)
{
    return client->open;
}

void rpc_client_set_open(RpcClient *client, gboolean readonly)
{
    client->open = TRUE;
    client->readonly |= readonly;
}

void rpc_client_set_close_callback(RpcClient *client, gboolean registered)
{
    client->close_callback = registered;
}

GArray *rpc_client_event_registrations(RpcClient *client, EventObject object)
{
    return client->event_regs[object];
}

gint32 rpc_client_next_callback_id(RpcClient *client)
{
    return client->next_callback_id++;
}

/* ---- output ---- */

static ssize_t client_send(RpcClient *client, const guint8 *buf, gsize len)
{
    if (client->tls)
        return rpc_tls_send(client->tls, buf, len);
    return send(client->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
}

static void client_flush(RpcClient *client)
{
    if (client->tls_handshaking)
        return;
    while (client->out_off < client->outbuf->len) {
        ssize_t n = client_send(client, client->outbuf->data + client->out_off,
                                client->outbuf->len - client->out_off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n <= 0) {
            client_close(client, g_strerror(errno));
            return;
        }
        client->out_off += (gsize)n;
    }
    if (client->out_off == client->outbuf->len) {
        g_byte_array_set_size(client->outbuf, 0);
        client->out_off = 0;
    } else if (client->out_off > READ_CHUNK) {
        g_byte_array_remove_range(client->outbuf, 0, (guint)client->out_off);
        client->out_off = 0;
    }
}

static void client_queue_packet(RpcClient *client, const RpcHeader *hdr, const XdrType *type,
                                gconstpointer body, const GError *error)
{
    gsize start;

    if (client->closed)
        return;
    if (client->outbuf->len - client->out_off > OUTBUF_HARD_LIMIT) {
        client_close(client, "client does not read its replies");
        return;
    }
    start = client->outbuf->len;
    rpc_packet_begin(client->outbuf, hdr);
    if (error)
        rpc_error_encode(client->outbuf, error);
    else if (type)
        xdr_encode(type, body, client->outbuf);
    if (client->outbuf->len - start > RPC_MESSAGE_MAX) {
        /* Too big for any client to accept: answer with an error instead. */
        g_autoptr(GError) err = g_error_new(HEARTH_ERROR, HEARTH_ERR_RPC,
                                            _("reply for procedure %d is too large"), hdr->proc);
        RpcHeader eh = *hdr;

        g_byte_array_set_size(client->outbuf, (guint)start);
        eh.status = RPC_STATUS_ERROR;
        rpc_packet_begin(client->outbuf, &eh);
        rpc_error_encode(client->outbuf, err);
    }
    rpc_packet_finish(client->outbuf, start);
    client_flush(client);
    client_update_events(client);
}

/* The error as libvirt would word it: its standard prefix for the code, once. */
static GError *error_for_wire(const GError *error)
{
    const char *prefix =
        error->domain == HEARTH_ERROR ? hearth_error_code_prefix(error->code) : NULL;

    if (!prefix || g_str_has_prefix(error->message, prefix))
        return g_error_copy(error);
    return g_error_new(error->domain, error->code, "%s: %s", prefix, error->message);
}

static void client_send_reply(RpcClient *client, const RpcHeader *call_hdr, const XdrType *type,
                              gconstpointer ret, const GError *error)
{
    RpcHeader hdr = *call_hdr;
    g_autoptr(GError) wire_error = error ? error_for_wire(error) : NULL;

    hdr.type = RPC_TYPE_REPLY;
    hdr.status = error ? RPC_STATUS_ERROR : RPC_STATUS_OK;
    client_queue_packet(client, &hdr, type, ret, wire_error);
}

void rpc_client_send_message(RpcClient *client, guint32 program, gint32 proc, const XdrType *type,
                             gconstpointer msg)
{
    RpcHeader hdr = {.prog = program,
                     .vers = 1,
                     .proc = proc,
                     .type = RPC_TYPE_MESSAGE,
                     .serial = 0,
                     .status = RPC_STATUS_OK};

    client_queue_packet(client, &hdr, type, msg, NULL);
}

/* ---- calls ---- */

static void call_free(HearthCall *call)
{
    if (call->info) {
        if (call->args)
            xdr_clear(call->info->args, call->args);
        if (call->ret)
            xdr_clear(call->info->ret, call->ret);
    }
    g_free(call->args);
    g_free(call->ret);
    client_unref(call->client);
    g_free(call);
}

static void call_finish(HearthCall *call, const GError *error)
{
    RpcClient *client = call->client;

    client_send_reply(client, &call->header, call->info->ret, call->ret, error);
    call_free(call);
}

void hearth_call_complete(HearthCall *call)
{
    RpcClient *client = client_ref(call->client);

    client->in_flight--;
    call_finish(call, NULL);
    client_update_events(client);
    client_process_input(client);
    client_unref(client);
}

void hearth_call_fail(HearthCall *call, const GError *error)
{
    RpcClient *client = client_ref(call->client);

    client->in_flight--;
    call_finish(call, error);
    client_update_events(client);
    client_process_input(client);
    client_unref(client);
}

static gboolean proc_allowed_before_open(gint32 proc)
{
    switch (proc) {
    case REMOTE_PROC_AUTH_LIST:
    case REMOTE_PROC_AUTH_SASL_INIT:
    case REMOTE_PROC_AUTH_SASL_START:
    case REMOTE_PROC_AUTH_SASL_STEP:
    case REMOTE_PROC_AUTH_POLKIT:
    case REMOTE_PROC_CONNECT_SUPPORTS_FEATURE:
    case REMOTE_PROC_CONNECT_OPEN:
    case REMOTE_PROC_CONNECT_CLOSE:
        return TRUE;
    default:
        return FALSE;
    }
}

static void reply_error(RpcClient *client, const RpcHeader *hdr, int code, const char *fmt, ...)
    G_GNUC_PRINTF(4, 5);

static void reply_error(RpcClient *client, const RpcHeader *hdr, int code, const char *fmt, ...)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *msg = NULL;
    va_list ap;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    error = g_error_new_literal(HEARTH_ERROR, code, msg);
    client_send_reply(client, hdr, NULL, NULL, error);
}

static void handle_remote_call(RpcClient *client, const RpcHeader *hdr, const guint8 *body,
                               gsize len)
{
    const RemoteProcInfo *info = remote_proc_info(hdr->proc);
    DispatchFunc func;
    HearthCall *call;
    g_autoptr(GError) error = NULL;
    DispatchResult res;

    if (hdr->vers != 1) {
        reply_error(client, hdr, HEARTH_ERR_RPC, _("unsupported version %u of program 0x%x"),
                    hdr->vers, hdr->prog);
        return;
    }
    if (info && (info->flags & REMOTE_PROC_FLAG_MESSAGE)) {
        reply_error(client, hdr, HEARTH_ERR_RPC, _("procedure %d is an event, not a call"),
                    hdr->proc);
        return;
    }
    if (!info) {
        if (hdr->proc >= 1 && hdr->proc <= REMOTE_PROC_LAST)
            reply_error(client, hdr, HEARTH_ERR_NO_SUPPORT, _("procedure %d"), hdr->proc);
        else
            reply_error(client, hdr, HEARTH_ERR_RPC, _("unknown procedure: %d"), hdr->proc);
        return;
    }
    if (!client->open && !proc_allowed_before_open(hdr->proc)) {
        reply_error(client, hdr, HEARTH_ERR_INTERNAL, _("connection not open"));
        return;
    }
    if (client->readonly && !(info->flags & REMOTE_PROC_FLAG_READONLY)) {
        reply_error(client, hdr, HEARTH_ERR_OPERATION_DENIED, _("read only access prevents %s"),
                    info->name);
        return;
    }
    func = remote_dispatch_lookup(hdr->proc);
    if (!func) {
        reply_error(client, hdr, HEARTH_ERR_NO_SUPPORT, "%s", info->name);
        return;
    }

    call = g_new0(HearthCall, 1);
    call->client = client_ref(client);
    call->header = *hdr;
    call->info = info;
    if (info->args)
        call->args = g_malloc0(xdr_type_size(info->args));
    if (info->ret)
        call->ret = g_malloc0(xdr_type_size(info->ret));
    if (!xdr_decode(info->args, body, len, call->args, &error)) {
        g_prefix_error(&error, _("cannot decode arguments of %s: "), info->name);
        call_finish(call, error);
        return;
    }

    client->in_flight++;
    res = func(call, call->args, call->ret, &error);
    switch (res) {
    case DISPATCH_DONE:
        client->in_flight--;
        call_finish(call, NULL);
        break;
    case DISPATCH_FAILED:
        client->in_flight--;
        if (!error)
            error = g_error_new(HEARTH_ERROR, HEARTH_ERR_INTERNAL, _("%s failed"), info->name);
        call_finish(call, error);
        break;
    case DISPATCH_ASYNC:
        break; /* the handler owns call now */
    }
}

/* ---- streams ---- */

RpcStream *rpc_stream_open(HearthCall *call, const RpcStreamFuncs *funcs, gpointer user_data)
{
    RpcStream *st = g_new0(RpcStream, 1);

    st->client = call->client;
    st->proc = call->header.proc;
    st->serial = call->header.serial;
    st->funcs = funcs;
    st->user_data = user_data;
    call->client->streams = g_list_prepend(call->client->streams, st);
    return st;
}

static void stream_packet(RpcStream *st, guint32 type, guint32 status, const guint8 *buf, gsize len)
{
    RpcHeader hdr = {.prog = RPC_PROGRAM_REMOTE,
                     .vers = 1,
                     .proc = st->proc,
                     .type = type,
                     .serial = st->serial,
                     .status = status};
    gsize start;

    if (st->client->closed)
        return;
    start = st->client->outbuf->len;
    rpc_packet_begin(st->client->outbuf, &hdr);
    if (len)
        g_byte_array_append(st->client->outbuf, buf, (guint)len);
    rpc_packet_finish(st->client->outbuf, start);
    client_flush(st->client);
    client_update_events(st->client);
}

void rpc_stream_send(RpcStream *st, const guint8 *buf, gsize len)
{
    /* Keep each packet well under the message limit. */
    while (len > 0) {
        gsize n = MIN(len, 256 * 1024);
        stream_packet(st, RPC_TYPE_STREAM, RPC_STATUS_CONTINUE, buf, n);
        buf += n;
        len -= n;
    }
}

static void stream_forget(RpcStream *st)
{
    st->client->streams = g_list_remove(st->client->streams, st);
    g_free(st);
}

void rpc_stream_close(RpcStream *st)
{
    stream_packet(st, RPC_TYPE_STREAM, RPC_STATUS_OK, NULL, 0);
    stream_forget(st);
}

gsize rpc_stream_backlog(RpcStream *st)
{
    return st->client->outbuf->len - st->client->out_off;
}

static void streams_close_all(RpcClient *client)
{
    while (client->streams) {
        RpcStream *st = client->streams->data;
        st->funcs->closed(st, FALSE, st->user_data);
        stream_forget(st);
    }
}

static void handle_stream_packet(RpcClient *client, const RpcHeader *hdr, const guint8 *body,
                                 gsize len)
{
    RpcStream *st = NULL;

    for (GList *l = client->streams; l; l = l->next) {
        RpcStream *s = l->data;
        if (s->proc == hdr->proc && s->serial == hdr->serial)
            st = s;
    }
    if (!st)
        return; /* data for a stream we already closed */
    if (hdr->status == RPC_STATUS_CONTINUE) {
        st->funcs->data(st, body, len, st->user_data);
        return;
    }
    /* Finish or abort: the client waits for an empty reply. */
    {
        RpcHeader reply = *hdr;
        reply.type = RPC_TYPE_REPLY;
        reply.status = RPC_STATUS_OK;
        st->funcs->closed(st, hdr->status == RPC_STATUS_OK, st->user_data);
        stream_forget(st);
        client_queue_packet(client, &reply, NULL, NULL, NULL);
    }
}

static void handle_keepalive(RpcClient *client, const RpcHeader *hdr)
{
    if (hdr->proc == RPC_KEEPALIVE_PING) {
        RpcHeader pong = {.prog = RPC_PROGRAM_KEEPALIVE,
                          .vers = 1,
                          .proc = RPC_KEEPALIVE_PONG,
                          .type = RPC_TYPE_MESSAGE,
                          .serial = 0,
                          .status = RPC_STATUS_OK};
        client_queue_packet(client, &pong, NULL, NULL, NULL);
    }
    /* PONGs answer our own pings, which we do not send; anything else is ignored. */
}

/* Returns FALSE when the connection must be dropped. */
static gboolean handle_packet(RpcClient *client, const guint8 *data, gsize len)
{
    RpcHeader hdr;
    g_autoptr(GError) error = NULL;

    if (!rpc_header_decode(data, len, &hdr, &error)) {
        g_info("client %" G_GUINT64_FORMAT ": %s", client->id, error->message);
        return FALSE;
    }
    if (hdr.prog == RPC_PROGRAM_KEEPALIVE) {
        handle_keepalive(client, &hdr);
        return TRUE;
    }
    if (hdr.type != RPC_TYPE_CALL) {
        if (hdr.type == RPC_TYPE_STREAM && hdr.prog == RPC_PROGRAM_REMOTE) {
            handle_stream_packet(client, &hdr, data + RPC_HEADER_LEN, len - RPC_HEADER_LEN);
            return TRUE;
        }
        /* Holes (sparse streams) we never negotiate; descriptors (CALL_WITH_FDS) we accept
         * none of, and replies from a client are bogus. */
        if (hdr.type == RPC_TYPE_STREAM_HOLE)
            return TRUE;
        g_info("client %" G_GUINT64_FORMAT ": unexpected packet (program %#x, procedure %d, "
               "type %d, serial %u)",
               client->id, hdr.prog, hdr.proc, hdr.type, hdr.serial);
        return FALSE;
    }
    if (hdr.prog != RPC_PROGRAM_REMOTE) {
        reply_error(client, &hdr, HEARTH_ERR_RPC, _("cannot find program %u version %u"), hdr.prog,
                    hdr.vers);
        return TRUE;
    }
    handle_remote_call(client, &hdr, data + RPC_HEADER_LEN, len - RPC_HEADER_LEN);
    return TRUE;
}

/* Handle every complete packet in inbuf, as long as the client may have more calls. */
static void client_process_input(RpcClient *client)
{
    gsize off = 0;

    /* A handler may finish its call at once (even an "async" one): the loop below is
     * already walking the buffer, so it carries on from where it is. */
    if (client->processing)
        return;
    client->processing = TRUE;
    client_ref(client);
    while (!client->closed && client->inbuf->len - off >= 4) {
        const guint8 *p = client->inbuf->data + off;
        guint32 len = (guint32)p[0] << 24 | (guint32)p[1] << 16 | (guint32)p[2] << 8 | p[3];
        g_autoptr(GError) error = NULL;

        if (!rpc_length_check(len, &error)) {
            g_info("client %" G_GUINT64_FORMAT ": %s", client->id, error->message);
            client_close(client, error->message);
            break;
        }
        if (client->inbuf->len - off < len)
            break;
        if (client->in_flight >= client->server->max_client_requests ||
            client->outbuf->len - client->out_off > OUTBUF_HIGH_WATER)
            break;
        if (!handle_packet(client, p + 4, len - 4)) {
            client_close(client, "protocol error");
            break;
        }
        off += len;
    }
    if (!client->closed && off > 0)
        g_byte_array_remove_range(client->inbuf, 0, (guint)off);
    /* Give back memory a large packet made us grow into. */
    if (!client->closed && client->inbuf->len == 0 && off > 4 * READ_CHUNK) {
        g_byte_array_unref(client->inbuf);
        client->inbuf = g_byte_array_sized_new(4096);
    }
    client->processing = FALSE;
    client_update_events(client);
    client_unref(client);
}

static ssize_t client_recv(RpcClient *client, guint8 *buf, gsize len)
{
    if (client->tls)
        return rpc_tls_recv(client->tls, buf, len);
    return recv(client->fd, buf, len, MSG_DONTWAIT);
}

/* Decrypted data waiting in GnuTLS: poll() will not report it, so the source is woken. */
static gboolean client_tls_pending(RpcClient *client)
{
    return client->tls && !client->tls_handshaking && rpc_tls_pending(client->tls);
}

static void client_read(RpcClient *client)
{
    for (int rounds = 0; rounds < 16 && !client->closed; rounds++) {
        gsize want = READ_CHUNK;
        guint old = client->inbuf->len;
        ssize_t n;

        g_byte_array_set_size(client->inbuf, old + (guint)want);
        n = client_recv(client, client->inbuf->data + old, want);
        if (n < 0 && errno == EINTR) {
            g_byte_array_set_size(client->inbuf, old);
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            g_byte_array_set_size(client->inbuf, old);
            break;
        }
        if (n <= 0) {
            g_byte_array_set_size(client->inbuf, old);
            client_close(client, n == 0 ? "end of file" : g_strerror(errno));
            return;
        }
        g_byte_array_set_size(client->inbuf, old + (guint)n);
        client_process_input(client);
        if (!(client->events & G_IO_IN) || ((gsize)n < want && !client_tls_pending(client)))
            break;
    }
    if (!client->closed && (client->events & G_IO_IN) && client_tls_pending(client))
        g_source_set_ready_time(client->source, 0);
}

/* The TLS handshake, then libvirt's confirmation byte (0x01), then RPC as on a unix socket. */
static void client_tls_step(RpcClient *client)
{
    g_autoptr(GError) error = NULL;
    GIOCondition want;

    switch (rpc_tls_handshake(client->tls, &error)) {
    case RPC_TLS_WANT_READ:
        want = G_IO_IN;
        break;
    case RPC_TLS_WANT_WRITE:
        want = G_IO_OUT;
        break;
    case RPC_TLS_FAILED:
        g_warning("TLS client %s refused: %s", client->peer_addr, error->message);
        client_close(client, error->message);
        return;
    case RPC_TLS_DONE:
    default:
        g_info("TLS client %s connected (%s)", client->peer_addr,
               rpc_tls_peer_dn(client->tls) ? rpc_tls_peer_dn(client->tls) : "no certificate");
        client->tls_handshaking = FALSE;
        /* before anything queued meanwhile (nothing has been sent yet) */
        g_byte_array_prepend(client->outbuf, (const guint8 *)"\x01", 1);
        client_flush(client);
        client_update_events(client);
        return;
    }
    if (want != client->events) {
        g_source_modify_unix_fd(client->source, ((ClientSource *)client->source)->tag, want);
        client->events = want;
    }
}

static gboolean client_source_dispatch(GSource *source, GSourceFunc cb, gpointer data)
{
    ClientSource *cs = (ClientSource *)source;
    RpcClient *client = cs->client;
    GIOCondition rev = g_source_query_unix_fd(source, cs->tag);

    client_ref(client);
    if (client->tls) {
        g_source_set_ready_time(source, -1);
        if (client->tls_handshaking) {
            if (rev & (G_IO_ERR | G_IO_HUP) && !(rev & G_IO_IN))
                client_close(client, "hang-up during the TLS handshake");
            else
                client_tls_step(client);
            client_unref(client);
            return G_SOURCE_CONTINUE;
        }
        if (client_tls_pending(client) && (client->events & G_IO_IN))
            rev |= G_IO_IN;
    }
    if (rev & G_IO_OUT) {
        client_flush(client);
        client_update_events(client);
    }
    if (!client->closed && (rev & G_IO_IN))
        client_read(client);
    if (!client->closed && (rev & (G_IO_ERR | G_IO_HUP)) && !(rev & G_IO_IN))
        client_close(client, "hang-up");
    client_unref(client);
    return G_SOURCE_CONTINUE;
}

static GSourceFuncs client_source_funcs = {
    .dispatch = client_source_dispatch,
};

static void client_update_events(RpcClient *client)
{
    GIOCondition want = 0;
    ClientSource *cs;

    if (client->closed || client->tls_handshaking)
        return;
    if (client->in_flight < client->server->max_client_requests &&
        client->outbuf->len - client->out_off <= OUTBUF_HIGH_WATER)
        want |= G_IO_IN;
    if (client->out_off < client->outbuf->len)
        want |= G_IO_OUT;
    if ((want & G_IO_IN) && client_tls_pending(client))
        g_source_set_ready_time(client->source, 0);
    if (want == client->events)
        return;
    cs = (ClientSource *)client->source;
    g_source_modify_unix_fd(client->source, cs->tag, want);
    client->events = want;
}

static void client_close(RpcClient *client, const char *why)
{
    RpcServer *server = client->server;

    if (client->closed)
        return;
    client->closed = TRUE;
    /* Ordinary ends stay quiet; a connection we drop is worth a line in the log. */
    if (g_str_equal(why, "end of file") || g_str_equal(why, "hang-up") ||
        g_str_equal(why, "server shutdown"))
        g_debug("client %" G_GUINT64_FORMAT " closed: %s", client->id, why);
    else
        g_info("client %" G_GUINT64_FORMAT " (%s) disconnected: %s", client->id,
               client->peer_addr ? client->peer_addr : "?", why);
    streams_close_all(client);
    g_source_destroy(client->source);
    g_source_unref(client->source);
    client->source = NULL;
    close(client->fd);
    client->fd = -1;
    server->clients = g_list_remove(server->clients, client);
    server->n_clients--;
    client_unref(client);
}

static char *peer_address(int fd)
{
    struct sockaddr_storage sa;
    socklen_t len = sizeof(sa);
    char host[NI_MAXHOST], serv[NI_MAXSERV];

    if (getpeername(fd, (struct sockaddr *)&sa, &len) < 0 || sa.ss_family == AF_UNIX ||
        getnameinfo((struct sockaddr *)&sa, len, host, sizeof(host), serv, sizeof(serv),
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0)
        return g_strdup("(local)");
    return g_strdup_printf(sa.ss_family == AF_INET6 ? "[%s]:%s" : "%s:%s", host, serv);
}

static void server_add_client(RpcServer *server, int fd, gboolean readonly, gboolean tls)
{
    RpcClient *client;
    ClientSource *cs;
    struct ucred cred;
    socklen_t cred_len = sizeof(cred);
    RpcTlsSession *session = NULL;

    if (tls) {
        g_autoptr(GError) error = NULL;

        session = rpc_tls_session_new(server->tls_ctx, fd, &error);
        if (!session) {
            g_warning("%s", error->message);
            close(fd);
            return;
        }
    }
    client = g_new0(RpcClient, 1);
    client->tls = session;
    client->tls_handshaking = session != NULL;
    client->peer_addr = peer_address(fd);

    client->refs = 1;
    client->server = server;
    client->id = ++server->next_client_id;
    client->fd = fd;
    client->readonly = readonly;
    client->inbuf = g_byte_array_sized_new(4096);
    client->outbuf = g_byte_array_sized_new(4096);
    client->next_callback_id = 1;
    for (int i = 0; i < EVENT_OBJECT_COUNT; i++)
        client->event_regs[i] = g_array_new(FALSE, TRUE, sizeof(EventRegistration));
    if (!tls && getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cred_len) == 0) {
        client->peer_pid = cred.pid;
        client->peer_uid = cred.uid;
    }
    client->source = g_source_new(&client_source_funcs, sizeof(ClientSource));
    cs = (ClientSource *)client->source;
    cs->client = client;
    client->events = G_IO_IN;
    cs->tag = g_source_add_unix_fd(client->source, fd, G_IO_IN);
    g_source_set_name(client->source, "hearth-client");
    g_source_attach(client->source, NULL);
    server->clients = g_list_prepend(server->clients, client);
    server->n_clients++;
    g_debug("client %" G_GUINT64_FORMAT " connected (%s, pid %d, uid %d, %s)", client->id,
            client->peer_addr, (int)client->peer_pid, (int)client->peer_uid,
            tls        ? "TLS"
            : readonly ? "read-only"
                       : "read-write");
}

static gboolean listener_accept(gint fd, GIOCondition cond, gpointer data)
{
    RpcListener *l = data;

    for (int i = 0; i < 64; i++) {
        int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

        if (cfd < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                g_warning("accept on %s failed: %s", l->path ? l->path : "socket",
                          g_strerror(errno));
            break;
        }
        if (l->server->n_clients >= l->server->max_clients) {
            g_warning("refusing connection: max_clients (%u) reached", l->server->max_clients);
            close(cfd);
            continue;
        }
        server_add_client(l->server, cfd, l->readonly, l->tls);
    }
    return G_SOURCE_CONTINUE;
}

RpcServer *rpc_server_new(HearthDaemon *daemon, guint max_clients, guint max_client_requests)
{
    RpcServer *server = g_new0(RpcServer, 1);

    server->daemon = daemon;
    server->max_clients = max_clients;
    server->max_client_requests = max_client_requests;
    server->listeners = g_ptr_array_new();
    return server;
}

static void listener_free(RpcListener *l)
{
    if (l->source_id)
        g_source_remove(l->source_id);
    if (l->fd >= 0)
        close(l->fd);
    if (l->path)
        unlink(l->path);
    g_free(l->path);
    g_free(l);
}

void rpc_server_close_listeners(RpcServer *server)
{
    for (guint i = 0; i < server->listeners->len; i++)
        listener_free(server->listeners->pdata[i]);
    g_ptr_array_set_size(server->listeners, 0);
}

void rpc_server_free(RpcServer *server)
{
    if (!server)
        return;
    rpc_server_close_listeners(server);
    while (server->clients)
        client_close(server->clients->data, "server shutdown");
    g_ptr_array_unref(server->listeners);
    rpc_tls_context_free(server->tls_ctx);
    g_free(server);
}

static gboolean listener_add(RpcServer *server, int fd, const char *path, gboolean readonly,
                             gboolean tls)
{
    RpcListener *l = g_new0(RpcListener, 1);

    l->fd = fd;
    l->readonly = readonly;
    l->tls = tls;
    l->path = g_strdup(path);
    l->server = server;
    l->source_id = g_unix_fd_add(fd, G_IO_IN, listener_accept, l);
    g_ptr_array_add(server->listeners, l);
    return TRUE;
}

gboolean rpc_server_listen_unix(RpcServer *server, const char *path, gboolean readonly,
                                GError **error)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    int fd;

    if (strlen(path) >= sizeof(addr.sun_path)) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_CONF_SYNTAX, _("socket path '%s' is too long"),
                    path);
        return FALSE;
    }
    strcpy(addr.sun_path, path);

    /* Someone answering on the path means another daemon serves it: never steal it. */
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        hearth_error_set_errno(error, errno, "cannot create socket");
        return FALSE;
    }
    if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0) {
        close(fd);
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_OPERATION_FAILED,
                    _("another daemon is already serving '%s'"), path);
        return FALSE;
    }
    close(fd);
    if (unlink(path) < 0 && errno != ENOENT) {
        hearth_error_set_errno(error, errno, "cannot remove stale socket '%s'", path);
        return FALSE;
    }

    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        hearth_error_set_errno(error, errno, "cannot create socket");
        return FALSE;
    }
    if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        hearth_error_set_errno(error, errno, "cannot bind '%s'", path);
        close(fd);
        return FALSE;
    }
    if (chmod(path, readonly ? 0666 : 0600) < 0 || listen(fd, 512) < 0) {
        hearth_error_set_errno(error, errno, "cannot listen on '%s'", path);
        close(fd);
        unlink(path);
        return FALSE;
    }
    return listener_add(server, fd, path, readonly, FALSE);
}

gboolean rpc_server_adopt_listener(RpcServer *server, int fd, gboolean readonly, gboolean tls,
                                   GError **error)
{
    int flags = fcntl(fd, F_GETFL);

    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0 ||
        fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
        hearth_error_set_errno(error, errno, "cannot use inherited socket %d", fd);
        return FALSE;
    }
    if (tls && !server->tls_ctx) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_CONF_SYNTAX,
                    _("a TLS socket was passed in, but TLS is not configured (listen_tls)"));
        return FALSE;
    }
    return listener_add(server, fd, NULL, readonly, tls);
}

void rpc_server_set_tls(RpcServer *server, RpcTlsContext *ctx)
{
    rpc_tls_context_free(server->tls_ctx);
    server->tls_ctx = ctx;
}

gboolean rpc_server_listen_tls(RpcServer *server, const char *address, guint port, GError **error)
{
    struct addrinfo hints = {.ai_flags = AI_PASSIVE, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    g_autofree char *service = g_strdup_printf("%u", port);
    const char *host = address && *address ? address : NULL;
    guint bound = 0;
    gboolean failed = FALSE;
    int rc;

    if (!server->tls_ctx) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_INTERNAL, _("TLS is not configured"));
        return FALSE;
    }
    rc = getaddrinfo(host, service, &hints, &res);
    if (rc != 0) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_CONF_SYNTAX,
                    _("cannot resolve listen_addr '%s': %s"), host ? host : "*", gai_strerror(rc));
        return FALSE;
    }
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        int one = 1;
        int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

        if (fd < 0 && (errno == EAFNOSUPPORT || errno == EPROTONOSUPPORT))
            continue; /* e.g. no IPv6 on this host */
        if (fd < 0) {
            hearth_error_set_errno(error, errno, "cannot create socket");
            failed = TRUE;
            break;
        }
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        /* one socket per family: [::] must not also claim 0.0.0.0 */
        if (ai->ai_family == AF_INET6)
            setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 512) < 0) {
            char name[NI_MAXHOST] = "?";

            getnameinfo(ai->ai_addr, ai->ai_addrlen, name, sizeof(name), NULL, 0, NI_NUMERICHOST);
            hearth_error_set_errno(error, errno, "cannot listen for TLS on %s port %u", name, port);
            close(fd);
            failed = TRUE;
            break;
        }
        listener_add(server, fd, NULL, FALSE, TRUE);
        bound++;
    }
    freeaddrinfo(res);
    if (failed)
        return FALSE;
    if (bound == 0) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_OPERATION_FAILED,
                    _("no address to listen for TLS on (listen_addr '%s')"), host ? host : "*");
        return FALSE;
    }
    return TRUE;
}

guint rpc_server_client_count(RpcServer *server)
{
    return server->n_clients;
}

void rpc_server_foreach_client(RpcServer *server, RpcClientFunc func, gpointer user_data)
{
    /* Sending may close a client and remove it from the list: walk a snapshot. */
    g_autoptr(GPtrArray) snapshot = g_ptr_array_new_with_free_func((GDestroyNotify)client_unref);

    for (GList *l = server->clients; l; l = l->next)
        g_ptr_array_add(snapshot, client_ref(l->data));
    for (guint i = 0; i < snapshot->len; i++) {
        RpcClient *c = snapshot->pdata[i];
        if (!c->closed)
            func(c, user_data);
    }
}
