#include "worker-client.h"
#include "hearth-error.h"

#include <errno.h>
#include <glib-unix.h>
#include <glib/gi18n-lib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* A worker's lines are small; anything this long without a newline is a broken worker. */
#define WORKER_LINE_MAX (8u * 1024 * 1024)

typedef struct {
    gint64 id;
    WorkerReplyFunc on_reply;
    gpointer user_data;
    guint timeout_id;
    WorkerClient *wc;
} PendingRequest;

struct WorkerClient {
    gint refs;
    int fd;
    guint in_watch;
    guint out_watch;
    gboolean closed;
    GByteArray *inbuf;
    GByteArray *outbuf;
    gint64 next_id;
    GList *pending; /* PendingRequest *, oldest first */
    WorkerEventFunc on_event;
    gpointer user_data;
    gboolean greeted;
};

static WorkerClient *wc_ref(WorkerClient *wc)
{
    wc->refs++;
    return wc;
}

static void wc_unref(WorkerClient *wc)
{
    if (--wc->refs > 0)
        return;
    g_byte_array_unref(wc->inbuf);
    g_byte_array_unref(wc->outbuf);
    g_free(wc);
}

static void pending_finish(PendingRequest *p, json_t *result, const GError *error)
{
    WorkerClient *wc = p->wc;

    if (p->timeout_id)
        g_source_remove(p->timeout_id);
    wc->pending = g_list_remove(wc->pending, p);
    if (p->on_reply)
        p->on_reply(wc, result, error, p->user_data);
    g_free(p);
}

static void wc_shutdown(WorkerClient *wc, gboolean notify)
{
    g_autoptr(GError) lost = NULL;

    if (wc->closed)
        return;
    wc->closed = TRUE;
    if (wc->in_watch)
        g_source_remove(wc->in_watch);
    if (wc->out_watch)
        g_source_remove(wc->out_watch);
    wc->in_watch = wc->out_watch = 0;
    close(wc->fd);
    wc->fd = -1;
    lost = g_error_new(HEARTH_ERROR, HEARTH_ERR_OPERATION_FAILED,
                       _("lost the connection to the domain's worker process"));
    wc_ref(wc);
    while (wc->pending)
        pending_finish(wc->pending->data, NULL, lost);
    if (notify && wc->on_event)
        wc->on_event(wc, NULL, wc->user_data);
    wc_unref(wc);
}

static void handle_line(WorkerClient *wc, const char *line, gsize len)
{
    json_error_t jerr;
    json_t *msg = json_loadb(line, len, 0, &jerr);
    json_t *id;

    if (!msg || !json_is_object(msg)) {
        g_warning("worker sent malformed JSON: %s", msg ? "not an object" : jerr.text);
        json_decref(msg);
        return;
    }
    if (!wc->greeted && json_object_get(msg, "hearth-worker")) {
        json_int_t version = json_integer_value(json_object_get(msg, "hearth-worker"));
        wc->greeted = TRUE;
        if (version != 1) {
            g_warning("worker speaks protocol version %" JSON_INTEGER_FORMAT ", not 1", version);
            json_decref(msg);
            wc_shutdown(wc, TRUE);
            return;
        }
        json_object_set_new(msg, "event", json_string("greeting"));
        if (wc->on_event)
            wc->on_event(wc, msg, wc->user_data);
        json_decref(msg);
        return;
    }
    id = json_object_get(msg, "id");
    if (json_is_integer(id)) {
        for (GList *l = wc->pending; l; l = l->next) {
            PendingRequest *p = l->data;
            if (p->id != json_integer_value(id))
                continue;
            json_t *err = json_object_get(msg, "error");
            if (err) {
                g_autoptr(GError) error =
                    g_error_new_literal(HEARTH_ERROR,
                                        json_is_integer(json_object_get(err, "code"))
                                            ? (int)json_integer_value(json_object_get(err, "code"))
                                            : HEARTH_ERR_OPERATION_FAILED,
                                        json_string_value(json_object_get(err, "message"))
                                            ? json_string_value(json_object_get(err, "message"))
                                            : _("the worker reported an error"));
                pending_finish(p, NULL, error);
            } else {
                pending_finish(p, json_object_get(msg, "return"), NULL);
            }
            break;
        }
    } else if (json_object_get(msg, "event") && wc->on_event) {
        wc->on_event(wc, msg, wc->user_data);
    }
    json_decref(msg);
}

static gboolean on_readable(gint fd, GIOCondition cond, gpointer data)
{
    WorkerClient *wc = data;
    guint8 buf[16384];
    gsize start = 0;
    ssize_t n;

    n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return G_SOURCE_CONTINUE;
    if (n <= 0) {
        wc->in_watch = 0;
        wc_shutdown(wc, TRUE);
        return G_SOURCE_REMOVE;
    }
    g_byte_array_append(wc->inbuf, buf, (guint)n);
    wc_ref(wc);
    while (!wc->closed) {
        guint8 *nl = memchr(wc->inbuf->data + start, '\n', wc->inbuf->len - start);
        if (!nl)
            break;
        handle_line(wc, (const char *)wc->inbuf->data + start,
                    (gsize)(nl - (wc->inbuf->data + start)));
        start = (gsize)(nl - wc->inbuf->data) + 1;
    }
    if (!wc->closed) {
        g_byte_array_remove_range(wc->inbuf, 0, (guint)start);
        if (wc->inbuf->len > WORKER_LINE_MAX) {
            g_warning("worker sent an overlong line; disconnecting");
            wc->in_watch = 0;
            wc_shutdown(wc, TRUE);
            wc_unref(wc);
            return G_SOURCE_REMOVE;
        }
    }
    {
        gboolean keep = !wc->closed;
        wc_unref(wc);
        return keep ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
    }
}

static gboolean flush_out(WorkerClient *wc)
{
    while (wc->outbuf->len > 0) {
        ssize_t n = send(wc->fd, wc->outbuf->data, wc->outbuf->len, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return TRUE;
        if (n < 0)
            return FALSE;
        g_byte_array_remove_range(wc->outbuf, 0, (guint)n);
    }
    return TRUE;
}

static gboolean on_writable(gint fd, GIOCondition cond, gpointer data)
{
    WorkerClient *wc = data;

    if (!flush_out(wc)) {
        wc->out_watch = 0;
        wc_shutdown(wc, TRUE);
        return G_SOURCE_REMOVE;
    }
    if (wc->outbuf->len == 0) {
        wc->out_watch = 0;
        return G_SOURCE_REMOVE;
    }
    return G_SOURCE_CONTINUE;
}

WorkerClient *worker_client_connect(const char *socket_path, WorkerEventFunc on_event,
                                    gpointer user_data, GError **error)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    WorkerClient *wc;
    int fd;

    if (strlen(socket_path) >= sizeof(addr.sun_path)) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_INTERNAL, _("socket path '%s' is too long"),
                    socket_path);
        return NULL;
    }
    strcpy(addr.sun_path, socket_path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        hearth_error_set_errno(error, errno, "cannot connect to worker socket '%s'", socket_path);
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    wc = g_new0(WorkerClient, 1);
    wc->refs = 1;
    wc->fd = fd;
    wc->inbuf = g_byte_array_new();
    wc->outbuf = g_byte_array_new();
    wc->next_id = 1;
    wc->on_event = on_event;
    wc->user_data = user_data;
    wc->in_watch = g_unix_fd_add(fd, G_IO_IN | G_IO_HUP | G_IO_ERR, on_readable, wc);
    return wc;
}

void worker_client_free(WorkerClient *wc)
{
    if (!wc)
        return;
    wc->on_event = NULL;
    wc_shutdown(wc, FALSE);
    wc_unref(wc);
}

gboolean worker_client_is_connected(WorkerClient *wc)
{
    return wc && !wc->closed;
}

static gboolean on_timeout(gpointer data)
{
    PendingRequest *p = data;
    g_autoptr(GError) error = g_error_new(HEARTH_ERROR, HEARTH_ERR_OPERATION_TIMEOUT,
                                          _("the domain's worker did not answer in time"));

    p->timeout_id = 0;
    pending_finish(p, NULL, error);
    return G_SOURCE_REMOVE;
}

void worker_client_request(WorkerClient *wc, const char *cmd, json_t *args, guint timeout_ms,
                           WorkerReplyFunc on_reply, gpointer user_data)
{
    json_t *msg = args ? args : json_object();
    PendingRequest *p;
    char *text;

    if (wc->closed) {
        g_autoptr(GError) error = g_error_new(HEARTH_ERROR, HEARTH_ERR_OPERATION_FAILED,
                                              _("the domain's worker is not connected"));
        json_decref(msg);
        if (on_reply)
            on_reply(wc, NULL, error, user_data);
        return;
    }
    p = g_new0(PendingRequest, 1);
    p->id = wc->next_id++;
    p->on_reply = on_reply;
    p->user_data = user_data;
    p->wc = wc;
    json_object_set_new(msg, "id", json_integer(p->id));
    json_object_set_new(msg, "cmd", json_string(cmd));
    json_object_set_new(msg, "timeout_ms", json_integer(timeout_ms));
    text = json_dumps(msg, JSON_COMPACT);
    json_decref(msg);
    g_byte_array_append(wc->outbuf, (const guint8 *)text, (guint)strlen(text));
    g_byte_array_append(wc->outbuf, (const guint8 *)"\n", 1);
    free(text);
    wc->pending = g_list_append(wc->pending, p);
    /* The worker enforces the deadline too; ours covers a worker that hangs. */
    p->timeout_id = g_timeout_add(timeout_ms + 2000, on_timeout, p);
    if (!flush_out(wc)) {
        wc_shutdown(wc, TRUE);
        return;
    }
    if (wc->outbuf->len > 0 && !wc->out_watch)
        wc->out_watch = g_unix_fd_add(wc->fd, G_IO_OUT, on_writable, wc);
}
