/* QMP client: one command in flight at a time, replies matched by id, events handed on in
 * the order they arrive (QEMU often sends them before the reply of the command that caused
 * them). */
#include "worker.h"

#include <poll.h>
#include <stdio.h>
#include <string.h>

/* Replies such as query-qmp-schema are a few hundred KiB; far more is a broken monitor. */
#define WK_QMP_LINE_MAX (64u * 1024 * 1024)

struct wk_qmp_cmd {
    struct wk_qmp_cmd *next;
    uint64_t id;
    char *line;
    wk_qmp_fn fn;
    uint64_t token;
};

void wk_qmp_init(struct wk_qmp *q)
{
    memset(q, 0, sizeof(*q));
    q->fd = -1;
    q->next_id = 1;
}

static void send_head(struct wk_qmp *q)
{
    if (q->fd < 0 || !q->head || q->head_sent)
        return;
    wk_buf_append(&q->out, q->head->line, strlen(q->head->line));
    q->head_sent = true;
    /* A unix socket almost always takes it at once; POLLOUT covers the rest. */
    (void)wk_buf_flush(&q->out, q->fd);
}

void wk_qmp_attach(struct wk_qmp *q, int fd)
{
    q->fd = fd;
    send_head(q);
}

void wk_qmp_send(struct worker *w, const char *execute, json_t *args, wk_qmp_fn fn, uint64_t token)
{
    struct wk_qmp *q = &w->qmp;
    _cleanup_json_ json_t *msg = NULL;
    struct wk_qmp_cmd *cmd;
    char *text;

    if (q->fd < 0) {
        json_decref(args);
        fn(w, token, NULL);
        return;
    }
    cmd = wk_xmalloc(sizeof(*cmd));
    cmd->next = NULL;
    cmd->id = q->next_id++;
    cmd->fn = fn;
    cmd->token = token;
    msg = json_pack("{s:s, s:I}", "execute", execute, "id", (json_int_t)cmd->id);
    if (args)
        json_object_set_new(msg, "arguments", args);
    text = json_dumps(msg, JSON_COMPACT);
    if (!text)
        abort();
    cmd->line = wk_xmalloc(strlen(text) + 2);
    sprintf(cmd->line, "%s\n", text);
    free(text);
    if (q->tail)
        q->tail->next = cmd;
    else
        q->head = cmd;
    q->tail = cmd;
    send_head(q);
}

short wk_qmp_events(const struct wk_qmp *q)
{
    return (short)(POLLIN | (q->out.len ? POLLOUT : 0));
}

const char *wk_qmp_error(json_t *reply)
{
    json_t *e;
    const char *desc;

    if (!reply)
        return "QEMU's monitor connection was lost";
    e = json_object_get(reply, "error");
    if (!e)
        return NULL;
    desc = json_string_value(json_object_get(e, "desc"));
    return desc ? desc : "QEMU reported an error without a description";
}

static void handle_reply(struct worker *w, json_t *msg)
{
    struct wk_qmp *q = &w->qmp;
    struct wk_qmp_cmd *cmd = q->head;
    json_t *id = json_object_get(msg, "id");

    if (!cmd || !q->head_sent)
        return;
    /* A reply without id answers a command QEMU could not parse: ours, the one in flight. */
    if (id && (!json_is_integer(id) || (uint64_t)json_integer_value(id) != cmd->id))
        return;
    q->head = cmd->next;
    if (!q->head)
        q->tail = NULL;
    q->head_sent = false;
    cmd->fn(w, cmd->token, msg);
    free(cmd->line);
    free(cmd);
    send_head(q);
}

static void handle_line(struct worker *w, const char *line, size_t len)
{
    json_error_t jerr;
    _cleanup_json_ json_t *msg = json_loadb(line, len, 0, &jerr);

    /* A big reply (query-qmp-schema: 200 KiB of JSON, megabytes as a tree) leaves the heap
     * fragmented; have main give the memory back once it is freed. */
    if (len > 64 * 1024)
        w->trim_heap = true;

    if (!json_is_object(msg)) {
        wk_note(w, "QEMU's monitor sent something that is not a JSON object: %s", jerr.text);
        return;
    }
    /* The greeting ({"QMP": ...}) needs no answer: qmp_capabilities went out with the
     * connection already. */
    if (json_is_string(json_object_get(msg, "event"))) {
        wk_lifecycle_qmp_event(w, msg);
    } else if (json_object_get(msg, "return") || json_object_get(msg, "error")) {
        handle_reply(w, msg);
    }
}

int wk_qmp_io(struct worker *w, short revents, char *err)
{
    struct wk_qmp *q = &w->qmp;
    bool eof = false;
    size_t pos = 0, len;
    char *line;

    if (q->fd < 0)
        return -1;
    if (revents & POLLOUT) {
        if (wk_buf_flush(&q->out, q->fd) < 0) {
            wk_err(err, "QEMU's monitor connection broke");
            wk_qmp_close(w);
            return -1;
        }
    }
    if (revents & (POLLIN | POLLHUP | POLLERR)) {
        /* Drain everything: on exit QEMU's last events are all in the socket already. */
        for (;;) {
            int rc = wk_buf_read(&q->in, q->fd);
            if (rc == -2)
                break;
            if (rc <= 0) {
                eof = true;
                break;
            }
        }
    }
    while (q->fd >= 0 && (line = wk_buf_next_line(&q->in, &pos, &len)))
        handle_line(w, line, len);
    wk_buf_consume(&q->in, pos);
    if (q->fd >= 0 && q->in.len > WK_QMP_LINE_MAX) {
        wk_err(err, "QEMU's monitor sent a line longer than %u bytes", WK_QMP_LINE_MAX);
        wk_qmp_close(w);
        return -1;
    }
    if (q->fd >= 0 && eof) {
        wk_err(err, "QEMU closed its monitor connection");
        wk_qmp_close(w);
        return -1;
    }
    return q->fd >= 0 ? 0 : -1;
}

void wk_qmp_close(struct worker *w)
{
    struct wk_qmp *q = &w->qmp;
    struct wk_qmp_cmd *cmd;

    if (q->fd < 0)
        return;
    close(q->fd);
    q->fd = -1;
    wk_buf_free(&q->out);
    wk_buf_free(&q->in);
    /* Every waiter hears exactly once, even when QEMU is gone. */
    while ((cmd = q->head)) {
        q->head = cmd->next;
        if (!q->head)
            q->tail = NULL;
        cmd->fn(w, cmd->token, NULL);
        free(cmd->line);
        free(cmd);
    }
    q->head_sent = false;
    /* What QEMU's end means is for the process watch (SIGCHLD or pidfd) to say. */
}
