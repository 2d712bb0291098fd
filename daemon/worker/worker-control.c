/* The control socket: JSON lines, a greeting per client, one request running at a time with a
 * deadline each, and notifications to every client. */
#include "worker.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#define WK_MAX_CLIENTS 32
#define WK_CLIENT_LINE_MAX (1024 * 1024)
#define WK_CLIENT_OUT_MAX (16 * 1024 * 1024)
#define WK_MAX_QUEUED 256
#define WK_DEFAULT_TIMEOUT_MS 30000
#define WK_MAX_TIMEOUT_MS (24 * 3600 * 1000)

struct wk_client {
    struct wk_client *next;
    int fd;
    bool dead; /* freed at the end of the loop iteration, never mid-dispatch */
    struct wk_buf in, out;
};

struct wk_request {
    struct wk_request *next;
    struct wk_client *client; /* NULL once the client has gone */
    json_int_t id;
    uint64_t seq;
    uint64_t deadline;
    bool running;
    json_t *msg;
};

static bool pumping;

void wk_control_init(struct wk_control *c)
{
    memset(c, 0, sizeof(*c));
    c->listen_fd = -1;
    c->next_seq = 1;
}

int wk_control_listen(struct worker *w, char *err)
{
    if (wk_listen_unix("control.sock", 16, &w->ctl.listen_fd, err) < 0)
        return -1;
    if (chmod("control.sock", 0600) < 0) {
        wk_err_errno(err, errno, "cannot set the mode of control.sock");
        return -1;
    }
    return 0;
}

void wk_control_stop_listening(struct worker *w)
{
    if (w->ctl.listen_fd < 0)
        return;
    close(w->ctl.listen_fd);
    w->ctl.listen_fd = -1;
    unlink("control.sock");
}

static void client_send(struct wk_client *cl, json_t *msg)
{
    char *text;

    if (cl->dead)
        return;
    text = json_dumps(msg, JSON_COMPACT);
    if (!text)
        abort();
    wk_buf_append(&cl->out, text, strlen(text));
    wk_buf_append(&cl->out, "\n", 1);
    free(text);
    /* A client that stops reading is dropped rather than allowed to grow us without bound. */
    if (wk_buf_flush(&cl->out, cl->fd) < 0 || cl->out.len > WK_CLIENT_OUT_MAX)
        cl->dead = true;
}

static void send_error(struct wk_client *cl, json_t *id, int code, const char *message)
{
    _cleanup_json_ json_t *msg = json_pack("{s:O, s:{s:i, s:s}}", "id", id ? id : json_null(),
                                           "error", "code", code, "message", message);
    client_send(cl, msg);
}

static void request_free(struct wk_request *r)
{
    json_decref(r->msg);
    free(r);
}

static void request_unlink(struct wk_control *c, struct wk_request *r)
{
    struct wk_request **pp = &c->head, *prev = NULL;

    while (*pp && *pp != r) {
        prev = *pp;
        pp = &(*pp)->next;
    }
    if (!*pp)
        return;
    *pp = r->next;
    if (c->tail == r)
        c->tail = prev;
    c->nqueued--;
}

static void pump(struct worker *w)
{
    struct wk_control *c = &w->ctl;

    if (pumping)
        return; /* the outer call keeps going */
    pumping = true;
    while (c->head && !c->head->running) {
        struct wk_request *r = c->head;
        r->running = true;
        wk_command_run(w, r->seq, json_string_value(json_object_get(r->msg, "cmd")), r->msg);
    }
    pumping = false;
}

static struct wk_request *find_seq(struct wk_control *c, uint64_t seq)
{
    for (struct wk_request *r = c->head; r; r = r->next)
        if (r->seq == seq)
            return r;
    return NULL;
}

void wk_control_reply(struct worker *w, uint64_t seq, json_t *result)
{
    struct wk_request *r = find_seq(&w->ctl, seq);

    if (!r) { /* answered already: it timed out */
        json_decref(result);
        return;
    }
    if (r->client) {
        _cleanup_json_ json_t *msg =
            json_pack("{s:I, s:o}", "id", r->id, "return", result ? result : json_object());
        client_send(r->client, msg);
    } else {
        json_decref(result);
    }
    request_unlink(&w->ctl, r);
    request_free(r);
    pump(w);
}

void wk_control_fail(struct worker *w, uint64_t seq, int code, const char *fmt, ...)
{
    struct wk_request *r = find_seq(&w->ctl, seq);
    char message[WK_ERRLEN];
    va_list ap;

    if (!r)
        return;
    va_start(ap, fmt);
    vsnprintf(message, sizeof(message), fmt, ap);
    va_end(ap);
    if (r->client) {
        _cleanup_json_ json_t *id = json_integer(r->id);
        send_error(r->client, id, code, message);
    }
    request_unlink(&w->ctl, r);
    request_free(r);
    pump(w);
}

static void handle_request(struct worker *w, struct wk_client *cl, const char *line, size_t len)
{
    struct wk_control *c = &w->ctl;
    json_error_t jerr;
    _cleanup_json_ json_t *msg = json_loadb(line, len, 0, &jerr);
    json_t *id, *timeout;
    const char *cmd;
    json_int_t timeout_ms = WK_DEFAULT_TIMEOUT_MS;
    struct wk_request *r;
    char text[WK_ERRLEN];

    if (!json_is_object(msg)) {
        snprintf(text, sizeof(text), "request is not a JSON object: %s",
                 msg ? "wrong type" : jerr.text);
        send_error(cl, NULL, WK_ERR_INVALID_ARG, text);
        return;
    }
    id = json_object_get(msg, "id");
    if (!json_is_integer(id)) {
        send_error(cl, NULL, WK_ERR_INVALID_ARG, "request has no integer \"id\"");
        return;
    }
    cmd = json_string_value(json_object_get(msg, "cmd"));
    if (!cmd) {
        send_error(cl, id, WK_ERR_INVALID_ARG, "request has no string \"cmd\"");
        return;
    }
    timeout = json_object_get(msg, "timeout_ms");
    if (timeout) {
        timeout_ms = json_is_integer(timeout) ? json_integer_value(timeout) : -1;
        if (timeout_ms <= 0 || timeout_ms > WK_MAX_TIMEOUT_MS) {
            send_error(cl, id, WK_ERR_INVALID_ARG, "\"timeout_ms\" must be 1..86400000");
            return;
        }
    }
    if (c->nqueued >= WK_MAX_QUEUED) {
        send_error(cl, id, WK_ERR_OPERATION_FAILED, "too many requests are queued");
        return;
    }
    r = wk_xmalloc(sizeof(*r));
    *r = (struct wk_request){
        .client = cl,
        .id = json_integer_value(id),
        .seq = c->next_seq++,
        .deadline = wk_now_ms() + (uint64_t)timeout_ms,
        .msg = json_incref(msg),
    };
    /* Queries never wait behind a long command: they are answered where they stand. */
    if (wk_command_is_immediate(cmd)) {
        r->running = true;
        r->next = c->head;
        c->head = r;
        if (!c->tail)
            c->tail = r;
        c->nqueued++;
        wk_command_run(w, r->seq, cmd, r->msg);
        return;
    }
    if (c->tail)
        c->tail->next = r;
    else
        c->head = r;
    c->tail = r;
    c->nqueued++;
    pump(w);
}

static void client_greet(struct worker *w, struct wk_client *cl)
{
    _cleanup_json_ json_t *msg =
        json_pack("{s:i, s:i, s:s, s:i}", "hearth-worker", WK_PROTOCOL_VERSION, "pid", (int)w->pid,
                  "state", wk_state_name(w->state), "reason", w->reason);
    if (w->qemu_pid > 0)
        json_object_set_new(msg, "qemu_pid", json_integer(w->qemu_pid));
    client_send(cl, msg);
}

static void accept_clients(struct worker *w)
{
    struct wk_control *c = &w->ctl;

    for (;;) {
        int fd = accept4(c->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        struct wk_client *cl;
        if (fd < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED)
                wk_note(w, "cannot accept a control connection: %s", strerror(errno));
            return;
        }
        if (c->nclients >= WK_MAX_CLIENTS) {
            close(fd);
            continue;
        }
        cl = wk_xmalloc(sizeof(*cl));
        *cl = (struct wk_client){.next = c->clients, .fd = fd};
        c->clients = cl;
        c->nclients++;
        client_greet(w, cl);
    }
}

static void client_read(struct worker *w, struct wk_client *cl)
{
    size_t pos = 0, len;
    char *line;
    int rc;

    do
        rc = wk_buf_read(&cl->in, cl->fd);
    while (rc == 1 && cl->in.len < WK_CLIENT_LINE_MAX);
    while (!cl->dead && (line = wk_buf_next_line(&cl->in, &pos, &len)))
        handle_request(w, cl, line, len);
    wk_buf_consume(&cl->in, pos);
    if (rc == 0 || rc == -1 || cl->in.len >= WK_CLIENT_LINE_MAX)
        cl->dead = true;
}

void wk_control_io(struct worker *w, int fd, short revents)
{
    struct wk_control *c = &w->ctl;

    if (fd == c->listen_fd) {
        accept_clients(w);
        return;
    }
    for (struct wk_client *cl = c->clients; cl; cl = cl->next) {
        if (cl->fd != fd || cl->dead)
            continue;
        if (revents & POLLOUT && wk_buf_flush(&cl->out, cl->fd) < 0)
            cl->dead = true;
        if (!cl->dead && revents & (POLLIN | POLLHUP | POLLERR))
            client_read(w, cl);
        return;
    }
}

/* Frees clients marked dead; their queued requests go, a running one loses its reply. */
void wk_control_reap(struct worker *w)
{
    struct wk_control *c = &w->ctl;
    struct wk_client **pp = &c->clients;

    while (*pp) {
        struct wk_client *cl = *pp;
        if (!cl->dead) {
            pp = &cl->next;
            continue;
        }
        *pp = cl->next;
        c->nclients--;
        for (struct wk_request *r = c->head, *next; r; r = next) {
            next = r->next;
            if (r->client != cl)
                continue;
            r->client = NULL;
            if (!r->running) {
                request_unlink(c, r);
                request_free(r);
            }
        }
        close(cl->fd);
        wk_buf_free(&cl->in);
        wk_buf_free(&cl->out);
        free(cl);
    }
}

size_t wk_control_pollfds(struct wk_control *c, void *pfds_v, size_t max)
{
    struct pollfd *pfds = pfds_v;
    size_t n = 0;

    if (c->listen_fd >= 0 && n < max)
        pfds[n++] = (struct pollfd){.fd = c->listen_fd, .events = POLLIN};
    for (struct wk_client *cl = c->clients; cl && n < max; cl = cl->next)
        if (!cl->dead)
            pfds[n++] = (struct pollfd){.fd = cl->fd,
                                        .events = (short)(POLLIN | (cl->out.len ? POLLOUT : 0))};
    return n;
}

void wk_control_broadcast(struct worker *w, json_t *msg)
{
    for (struct wk_client *cl = w->ctl.clients; cl; cl = cl->next)
        client_send(cl, msg);
}

uint64_t wk_control_next_deadline(const struct wk_control *c)
{
    uint64_t next = 0;

    for (const struct wk_request *r = c->head; r; r = r->next)
        if (!next || r->deadline < next)
            next = r->deadline;
    return next;
}

void wk_control_timers(struct worker *w, uint64_t now)
{
    struct wk_control *c = &w->ctl;
    struct wk_request *r, *next;

    for (r = c->head; r; r = next) {
        next = r->next;
        if (r->deadline > now)
            continue;
        if (r->client) {
            _cleanup_json_ json_t *id = json_integer(r->id);
            char text[128];
            snprintf(text, sizeof(text), "'%s' did not finish in time",
                     json_string_value(json_object_get(r->msg, "cmd")));
            send_error(r->client, id, WK_ERR_OPERATION_TIMEOUT, text);
        }
        request_unlink(c, r);
        request_free(r);
    }
    pump(w);
}

bool wk_control_has_clients(const struct wk_control *c)
{
    for (const struct wk_client *cl = c->clients; cl; cl = cl->next)
        if (!cl->dead)
            return true;
    return false;
}

bool wk_control_flushed(const struct wk_control *c)
{
    for (const struct wk_client *cl = c->clients; cl; cl = cl->next)
        if (!cl->dead && cl->out.len)
            return false;
    return true;
}

void wk_control_close(struct worker *w)
{
    struct wk_control *c = &w->ctl;

    wk_control_stop_listening(w);
    for (struct wk_client *cl = c->clients; cl; cl = cl->next)
        cl->dead = true;
    wk_control_reap(w);
    while (c->head) {
        struct wk_request *r = c->head;
        request_unlink(c, r);
        request_free(r);
    }
}
