/* Helper programs run with g_spawn_async_with_pipes_and_fds(); see child-process.h. */
#include "child-process.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

/* Enough for any error message; a runaway child cannot grow the daemon through its stderr. */
#define STDERR_KEEP (64 * 1024)

struct ChildProcess {
    GPid pid;
    gboolean exited;
    int wait_status;
    int out_fd; /* read ends, -1 once at their end */
    int err_fd;
    guint out_src; /* main-loop sources while watched */
    guint err_src;
    guint exit_src;
    GString *out;
    GString *err;
    ChildOutputFunc on_output;
    ChildExitFunc on_exit;
    gpointer user_data;
    gboolean reported;
};

static void close_pipe(int p[2])
{
    for (int i = 0; i < 2; i++)
        if (p[i] >= 0)
            close(p[i]);
}

ChildProcess *child_process_spawn(const char *const *argv, const char *const *envp,
                                  ChildFlags flags, GError **error)
{
    GSpawnFlags spawn_flags =
        G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_SEARCH_PATH | G_SPAWN_STDIN_FROM_DEV_NULL;
    int out_pipe[2] = {-1, -1};
    int err_pipe[2] = {-1, -1};
    int out_w = -1;
    int err_w = -1;
    ChildProcess *c;
    GPid pid;
    gboolean ok;

    /* Close-on-exec: another thread spawning meanwhile must not inherit our pipe ends (GLib
     * also closes every descriptor above 2 in the child). */
    if (flags & CHILD_STDOUT_PIPE) {
        if (!g_unix_open_pipe(out_pipe, FD_CLOEXEC, error))
            return NULL;
        out_w = out_pipe[1];
    } else {
        spawn_flags |= G_SPAWN_STDOUT_TO_DEV_NULL;
    }
    if ((flags & CHILD_STDERR_MERGE) && out_w >= 0) {
        err_w = out_w;
    } else if (flags & CHILD_STDERR_PIPE) {
        if (!g_unix_open_pipe(err_pipe, FD_CLOEXEC, error)) {
            close_pipe(out_pipe);
            return NULL;
        }
        err_w = err_pipe[1];
    } else {
        spawn_flags |= G_SPAWN_STDERR_TO_DEV_NULL;
    }
    ok = g_spawn_async_with_pipes_and_fds(NULL, argv, envp, spawn_flags, NULL, NULL, -1, out_w,
                                          err_w, NULL, NULL, 0, &pid, NULL, NULL, NULL, error);
    /* The child has its copies of the write ends; ours would keep the pipes from ending. */
    if (out_pipe[1] >= 0)
        close(out_pipe[1]);
    if (err_pipe[1] >= 0)
        close(err_pipe[1]);
    if (!ok) {
        if (out_pipe[0] >= 0)
            close(out_pipe[0]);
        if (err_pipe[0] >= 0)
            close(err_pipe[0]);
        return NULL;
    }
    c = g_new0(ChildProcess, 1);
    c->pid = pid;
    c->out_fd = out_pipe[0];
    c->err_fd = err_pipe[0];
    c->out = g_string_new(NULL);
    c->err = g_string_new(NULL);
    return c;
}

/* One read from a pipe; FALSE when the pipe has reached its end (and is closed). */
static gboolean read_some(ChildProcess *c, gboolean is_out)
{
    int *fd = is_out ? &c->out_fd : &c->err_fd;
    char buf[4096];
    ssize_t n = read(*fd, buf, sizeof(buf));

    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return TRUE;
    if (n <= 0) {
        close(*fd);
        *fd = -1;
        return FALSE;
    }
    if (is_out && c->on_output)
        c->on_output(c, buf, (gsize)n, c->user_data);
    else if (is_out)
        g_string_append_len(c->out, buf, n);
    else if (c->err->len < STDERR_KEEP)
        g_string_append_len(c->err, buf, MIN(n, (ssize_t)(STDERR_KEEP - c->err->len)));
    return TRUE;
}

gboolean child_process_communicate(ChildProcess *c, char **out, char **err, GError **error)
{
    gboolean ok = TRUE;
    int status;

    while (c->out_fd >= 0 || c->err_fd >= 0) {
        struct pollfd p[2];
        nfds_t n = 0;

        if (c->out_fd >= 0)
            p[n++] = (struct pollfd){.fd = c->out_fd, .events = POLLIN};
        if (c->err_fd >= 0)
            p[n++] = (struct pollfd){.fd = c->err_fd, .events = POLLIN};
        if (poll(p, n, -1) < 0) {
            if (errno == EINTR)
                continue;
            g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno),
                        "cannot read the output of process %d: %s", (int)c->pid, g_strerror(errno));
            ok = FALSE;
            break;
        }
        for (nfds_t i = 0; i < n; i++)
            if (p[i].revents)
                read_some(c, p[i].fd == c->out_fd);
    }
    if (!ok)
        kill(c->pid, SIGKILL);
    while (!c->exited) {
        if (waitpid(c->pid, &status, 0) == c->pid) {
            c->wait_status = status;
            c->exited = TRUE;
        } else if (errno != EINTR) {
            /* Reaped elsewhere: the status is lost, so it counts as a failure. */
            c->wait_status = W_EXITCODE(255, 0);
            c->exited = TRUE;
        }
    }
    if (out)
        *out = g_strdup(c->out->str);
    if (err)
        *err = g_strdup(c->err->str);
    return ok;
}

static void maybe_report(ChildProcess *c)
{
    if (!c->exited || c->out_fd >= 0 || c->err_fd >= 0 || c->reported)
        return;
    c->reported = TRUE;
    if (c->on_exit)
        c->on_exit(c, c->user_data); /* last: it may free c */
}

static gboolean on_pipe(gint fd, GIOCondition cond, gpointer data)
{
    ChildProcess *c = data;
    gboolean is_out = fd == c->out_fd;

    (void)cond;
    if (read_some(c, is_out))
        return G_SOURCE_CONTINUE;
    if (is_out)
        c->out_src = 0;
    else
        c->err_src = 0;
    maybe_report(c);
    return G_SOURCE_REMOVE;
}

static void on_child_exit(GPid pid, gint status, gpointer data)
{
    ChildProcess *c = data;

    g_spawn_close_pid(pid);
    c->exit_src = 0;
    c->exited = TRUE;
    c->wait_status = status;
    maybe_report(c);
}

void child_process_watch(ChildProcess *c, ChildOutputFunc on_output, ChildExitFunc on_exit,
                         gpointer user_data)
{
    c->on_output = on_output;
    c->on_exit = on_exit;
    c->user_data = user_data;
    if (c->out_fd >= 0) {
        g_unix_set_fd_nonblocking(c->out_fd, TRUE, NULL);
        c->out_src = g_unix_fd_add(c->out_fd, G_IO_IN | G_IO_HUP | G_IO_ERR, on_pipe, c);
    }
    if (c->err_fd >= 0) {
        g_unix_set_fd_nonblocking(c->err_fd, TRUE, NULL);
        c->err_src = g_unix_fd_add(c->err_fd, G_IO_IN | G_IO_HUP | G_IO_ERR, on_pipe, c);
    }
    if (!c->exited)
        c->exit_src = g_child_watch_add(c->pid, on_child_exit, c);
    else
        maybe_report(c);
}

gboolean child_process_succeeded(const ChildProcess *c)
{
    return c->exited && g_spawn_check_wait_status(c->wait_status, NULL);
}

const char *child_process_stdout(const ChildProcess *c)
{
    return c->out->str;
}

const char *child_process_stderr(const ChildProcess *c)
{
    return c->err->str;
}

GPid child_process_pid(const ChildProcess *c)
{
    return c->pid;
}

void child_process_kill(ChildProcess *c)
{
    if (!c->exited)
        kill(c->pid, SIGKILL);
}

static void reap_quietly(GPid pid, gint status, gpointer data)
{
    (void)status;
    (void)data;
    g_spawn_close_pid(pid);
}

void child_process_free(ChildProcess *c)
{
    if (!c)
        return;
    if (c->out_src)
        g_source_remove(c->out_src);
    if (c->err_src)
        g_source_remove(c->err_src);
    if (c->exit_src)
        g_source_remove(c->exit_src);
    if (c->out_fd >= 0)
        close(c->out_fd);
    if (c->err_fd >= 0)
        close(c->err_fd);
    if (!c->exited) {
        kill(c->pid, SIGKILL);
        g_child_watch_add(c->pid, reap_quietly, NULL);
    }
    g_string_free(c->out, TRUE);
    g_string_free(c->err, TRUE);
    g_free(c);
}
