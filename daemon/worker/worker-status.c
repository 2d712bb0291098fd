/* The status file: the whole state in key=value lines, replaced atomically on every change. */
#include "worker.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static const char *const state_names[] = {
    [WK_STARTING] = "starting",       [WK_RUNNING] = "running", [WK_PAUSED] = "paused",
    [WK_SHUTDOWN] = "shutdown",       [WK_SHUTOFF] = "shutoff", [WK_CRASHED] = "crashed",
    [WK_PMSUSPENDED] = "pmsuspended",
};

const char *wk_state_name(enum wk_state s)
{
    return state_names[s];
}

int wk_proc_start_time(pid_t pid, unsigned long long *start)
{
    char path[64], buf[1024], *p;
    _cleanup_close_ int fd = -1;
    ssize_t n;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    n = read(fd, buf, sizeof(buf) - 1);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    /* comm may contain spaces and parentheses: fields start after the last ')'. */
    p = strrchr(buf, ')');
    if (!p)
        return -1;
    p++;
    for (int field = 3; field < 22; field++) {
        while (*p == ' ')
            p++;
        while (*p && *p != ' ')
            p++;
        if (!*p)
            return -1;
    }
    errno = 0;
    *start = strtoull(p, NULL, 10);
    return errno ? -1 : 0;
}

bool wk_proc_alive(pid_t pid, unsigned long long start)
{
    unsigned long long now;
    char path[64], buf[512], *p;
    _cleanup_close_ int fd = -1;
    ssize_t n;

    if (pid <= 0 || wk_proc_start_time(pid, &now) < 0 || now != start)
        return false;
    /* A zombie has its start time but is no longer a guest. */
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    n = read(fd, buf, sizeof(buf) - 1);
    if (n <= 0)
        return false;
    buf[n] = '\0';
    p = strrchr(buf, ')');
    return p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}

typedef void (*field_fn)(void *opaque, const char *key, const char *str, long long num);

/* The one list of status fields, for the file and for the `status` command. */
static void status_fields(struct worker *w, field_fn emit, void *opaque)
{
    char key[96], text[64];

    emit(opaque, "version", NULL, WK_PROTOCOL_VERSION);
    emit(opaque, "worker_pid", NULL, w->pid);
    emit(opaque, "worker_start", NULL, (long long)w->start);
    if (w->qemu_pid > 0) {
        emit(opaque, "qemu_pid", NULL, w->qemu_pid);
        emit(opaque, "qemu_start", NULL, (long long)w->qemu_start);
    }
    emit(opaque, "state", wk_state_name(w->state), 0);
    emit(opaque, "reason", NULL, w->reason);
    for (size_t i = 0; i < w->nptys; i++) {
        snprintf(key, sizeof(key), "pty.%s", w->ptys[i].id);
        emit(opaque, key, w->ptys[i].path, 0);
    }
    if (w->have_wstatus) {
        wk_exit_status_str(w->wstatus, text, sizeof(text));
        emit(opaque, "exit_status", text, 0);
    }
    if (w->error[0])
        emit(opaque, "error", w->error, 0);
    emit(opaque, "updated", NULL, (long long)time(NULL));
}

static void emit_line(void *opaque, const char *key, const char *str, long long num)
{
    struct wk_buf *b = opaque;
    char tmp[32];

    wk_buf_append(b, key, strlen(key));
    wk_buf_append(b, "=", 1);
    if (str) {
        /* One line per key, whatever a value holds. */
        for (const char *p = str; *p; p++) {
            char c = (*p == '\n' || *p == '\r') ? ' ' : *p;
            wk_buf_append(b, &c, 1);
        }
    } else {
        int n = snprintf(tmp, sizeof(tmp), "%lld", num);
        wk_buf_append(b, tmp, (size_t)n);
    }
    wk_buf_append(b, "\n", 1);
}

/* Strings, exactly as in the file: a reader of one reads the other. */
static void emit_json(void *opaque, const char *key, const char *str, long long num)
{
    char tmp[32];

    if (!str) {
        snprintf(tmp, sizeof(tmp), "%lld", num);
        str = tmp;
    }
    json_object_set_new(opaque, key, json_string(str));
}

json_t *wk_status_json(struct worker *w)
{
    json_t *obj = json_object();
    status_fields(w, emit_json, obj);
    return obj;
}

int wk_status_write(struct worker *w, char *err)
{
    struct wk_buf b = {0};
    _cleanup_close_ int fd = -1;
    int rc = -1;

    status_fields(w, emit_line, &b);
    fd = openat(w->dir_fd, "status.tmp", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        wk_err_errno(err, errno, "cannot create '%s/status.tmp'", w->dir);
        goto out;
    }
    if (wk_write_all(fd, b.data, b.len) < 0 || fsync(fd) < 0) {
        wk_err_errno(err, errno, "cannot write '%s/status.tmp'", w->dir);
        goto out;
    }
    if (renameat(w->dir_fd, "status.tmp", w->dir_fd, "status") < 0) {
        wk_err_errno(err, errno, "cannot rename '%s/status.tmp'", w->dir);
        goto out;
    }
    if (fsync(w->dir_fd) < 0) {
        wk_err_errno(err, errno, "cannot sync '%s'", w->dir);
        goto out;
    }
    rc = 0;
out:
    wk_buf_free(&b);
    return rc;
}

static int parse_ull(const char *value, unsigned long long *out)
{
    char *end;
    errno = 0;
    *out = strtoull(value, &end, 10);
    return (errno || end == value || *end) ? -1 : 0;
}

static int prev_set(void *opaque, const char *key, const char *value, char *err)
{
    struct wk_prev_status *st = opaque;
    unsigned long long v;

    if (strcmp(key, "state") == 0) {
        for (size_t i = 0; i < sizeof(state_names) / sizeof(state_names[0]); i++)
            if (strcmp(value, state_names[i]) == 0) {
                st->state = (enum wk_state)i;
                return 0;
            }
        wk_err(err, "unknown state '%s'", value);
        return -1;
    }
    if (strcmp(key, "worker_pid") != 0 && strcmp(key, "worker_start") != 0 &&
        strcmp(key, "qemu_pid") != 0 && strcmp(key, "qemu_start") != 0 &&
        strcmp(key, "reason") != 0)
        return 0;
    if (parse_ull(value, &v) < 0) {
        wk_err(err, "invalid %s '%s'", key, value);
        return -1;
    }
    if (strcmp(key, "worker_pid") == 0)
        st->worker_pid = (pid_t)v;
    else if (strcmp(key, "worker_start") == 0)
        st->worker_start = v;
    else if (strcmp(key, "qemu_pid") == 0)
        st->qemu_pid = (pid_t)v;
    else if (strcmp(key, "qemu_start") == 0)
        st->qemu_start = v;
    else
        st->reason = (int)v;
    return 0;
}

int wk_status_read(const char *path, struct wk_prev_status *st, char *err)
{
    _cleanup_free_ char *text = NULL;
    char sub[WK_ERRLEN];
    size_t len;

    memset(st, 0, sizeof(*st));
    st->state = WK_SHUTOFF;
    if (wk_read_file(path, 64 * 1024, &text, &len, err) < 0)
        return -1;
    if (wk_kv_parse(text, prev_set, st, sub) < 0) {
        wk_err(err, "%s: %s", path, sub);
        return -1;
    }
    return 0;
}
