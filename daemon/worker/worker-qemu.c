/* The QEMU process: spawning it into its own session with the monitor fd and the log as
 * stdout/stderr, signalling it, reaping it, and reading its last words from the log. */
#include "worker.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#define WK_MAX_GROUPS 256
#define WK_TAIL_BYTES 4096
#define WK_TAIL_LINES 3

int wk_log_open(struct worker *w, char *err)
{
    w->log_fd = open(w->conf.qemu_log, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (w->log_fd < 0) {
        wk_err_errno(err, errno, "cannot open log file '%s'", w->conf.qemu_log);
        return -1;
    }
    return 0;
}

/* libvirt's log line prefix: "2026-11-22 10:00:00.123+0000: ". */
static void log_stamp(char *out, size_t len)
{
    struct timespec ts;
    struct tm tm;

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    snprintf(out, len, "%04d-%02d-%02d %02d:%02d:%02d.%03ld+0000: ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
}

void wk_log_write(struct worker *w, const char *fmt, ...)
{
    struct wk_buf b = {0};
    char tmp[512];
    va_list ap;
    int n;

    if (w->log_fd < 0)
        return;
    log_stamp(tmp, sizeof(tmp));
    wk_buf_append(&b, tmp, strlen(tmp));
    wk_buf_append(&b, "hearth-worker: ", strlen("hearth-worker: "));
    va_start(ap, fmt);
    n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    wk_buf_append(&b, tmp, n < (int)sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
    wk_buf_append(&b, "\n", 1);
    (void)wk_write_all(w->log_fd, b.data, b.len);
    wk_buf_free(&b);
}

static void log_argv(struct worker *w)
{
    struct wk_buf b = {0};
    char stamp[64];

    log_stamp(stamp, sizeof(stamp));
    wk_buf_append(&b, stamp, strlen(stamp));
    wk_buf_append(&b, "hearth-worker: starting QEMU:", strlen("hearth-worker: starting QEMU:"));
    for (char **a = w->argv; *a; a++) {
        bool plain = **a != '\0';
        for (const char *p = *a; *p; p++)
            if (!isalnum((unsigned char)*p) && !strchr("-_=,./:@+", *p))
                plain = false;
        wk_buf_append(&b, " ", 1);
        if (plain) {
            wk_buf_append(&b, *a, strlen(*a));
            continue;
        }
        wk_buf_append(&b, "'", 1);
        for (const char *p = *a; *p; p++) {
            if (*p == '\'')
                wk_buf_append(&b, "'\\''", 4);
            else
                wk_buf_append(&b, p, 1);
        }
        wk_buf_append(&b, "'", 1);
    }
    wk_buf_append(&b, "\n", 1);
    (void)wk_write_all(w->log_fd, b.data, b.len);
    wk_buf_free(&b);
}

struct wk_creds {
    bool drop;
    uid_t uid;
    gid_t gid;
    gid_t groups[WK_MAX_GROUPS];
    int ngroups;
};

/* "UID:GID:G1,G2,...": ids hearthd resolved, so that the (static) worker never needs NSS. */
static int parse_ids(const char *text, struct wk_creds *c, char *err)
{
    char *end;
    const char *p = text;

    errno = 0;
    c->uid = (uid_t)strtoul(p, &end, 10);
    if (errno || end == p || *end != ':')
        goto bad;
    p = end + 1;
    c->gid = (gid_t)strtoul(p, &end, 10);
    if (errno || end == p || (*end != ':' && *end != '\0'))
        goto bad;
    c->ngroups = 0;
    while (*end == ':' || *end == ',') {
        p = end + 1;
        if (*p == '\0')
            break;
        if (c->ngroups >= WK_MAX_GROUPS)
            goto bad;
        c->groups[c->ngroups++] = (gid_t)strtoul(p, &end, 10);
        if (errno || end == p)
            goto bad;
    }
    if (*end != '\0')
        goto bad;
    if (c->ngroups == 0)
        c->groups[c->ngroups++] = c->gid;
    c->drop = c->uid != 0 || c->gid != 0;
    return 0;
bad:
    wk_err(err, "invalid qemu_ids '%s'", text);
    return -1;
}

/* Credentials for QEMU, from ids hearthd resolved (the worker is static and does no name
 * lookups). Only root changes them. */
static int resolve_creds(struct worker *w, struct wk_creds *c, char *err)
{
    memset(c, 0, sizeof(*c));
    if (geteuid() != 0 || !w->conf.qemu_ids)
        return 0;
    return parse_ids(w->conf.qemu_ids, c, err);
}

enum { STEP_SETUP, STEP_CREDS, STEP_EXEC };

/* Only async-signal-safe calls from here to exec. */
static void __attribute__((noreturn))
child_exec(struct worker *w, int qmp_fd, int devnull, int errfd, const struct wk_creds *c)
{
    sigset_t none;
    int report[2] = {STEP_SETUP, 0};

    sigemptyset(&none);
    if (sigprocmask(SIG_SETMASK, &none, NULL) < 0 || signal(SIGPIPE, SIG_DFL) == SIG_ERR ||
        signal(SIGHUP, SIG_DFL) == SIG_ERR || setsid() < 0 || dup2(devnull, 0) < 0 ||
        dup2(w->log_fd, 1) < 0 || dup2(w->log_fd, 2) < 0 || fcntl(qmp_fd, F_SETFD, 0) < 0 ||
        fchdir(w->cwd_fd) < 0)
        goto fail;
    umask(w->umask_saved);
    report[0] = STEP_CREDS;
    if (c->drop &&
        (setgroups((size_t)c->ngroups, c->groups) < 0 || setgid(c->gid) < 0 || setuid(c->uid) < 0))
        goto fail;
    report[0] = STEP_EXEC;
    execv(w->argv[0], w->argv);
fail:
    report[1] = errno;
    (void)!write(errfd, report, sizeof(report));
    _exit(127);
}

int wk_qemu_spawn(struct worker *w, int qmp_fd, char *err)
{
    struct wk_creds creds;
    _cleanup_close_ int devnull = -1;
    int pipefd[2], report[2];
    ssize_t n;
    pid_t pid;

    if (resolve_creds(w, &creds, err) < 0)
        return -1;
    devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (devnull < 0) {
        wk_err_errno(err, errno, "cannot open /dev/null");
        return -1;
    }
    log_argv(w);
    w->log_offset = lseek(w->log_fd, 0, SEEK_END);
    if (pipe2(pipefd, O_CLOEXEC) < 0) {
        wk_err_errno(err, errno, "cannot create a pipe");
        return -1;
    }
    pid = fork();
    if (pid < 0) {
        wk_err_errno(err, errno, "cannot fork");
        close(pipefd[0]);
        close(pipefd[1]);
        return -1;
    }
    if (pid == 0)
        child_exec(w, qmp_fd, devnull, pipefd[1], &creds);
    close(pipefd[1]);
    w->qemu_pid = pid;
    w->qemu_is_child = true;
    w->qemu_alive = true;
    (void)wk_proc_start_time(pid, &w->qemu_start);
    /* EOF means exec succeeded (the pipe is close-on-exec); this wait is bounded by exec. */
    do
        n = read(pipefd[0], report, sizeof(report));
    while (n < 0 && errno == EINTR);
    close(pipefd[0]);
    if (n == (ssize_t)sizeof(report)) {
        int status;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
        /* It never became QEMU: no pid to record. */
        w->qemu_alive = false;
        w->qemu_pid = 0;
        w->qemu_start = 0;
        if (report[0] == STEP_EXEC)
            wk_err_errno(err, report[1], "cannot execute '%s'", w->argv[0]);
        else if (report[0] == STEP_CREDS)
            wk_err_errno(err, report[1], "cannot switch to user %u group %u for QEMU",
                         (unsigned)creds.uid, (unsigned)creds.gid);
        else
            wk_err_errno(err, report[1], "cannot set up the QEMU process");
        return -1;
    }
    return 0;
}

bool wk_qemu_reap(struct worker *w)
{
    bool reaped = false;
    int status;
    pid_t pid;

    /* QEMU is our only child, but reap anything that turns up. */
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        if (pid == w->qemu_pid && w->qemu_alive) {
            w->qemu_alive = false;
            w->have_wstatus = true;
            w->wstatus = status;
            reaped = true;
        }
    }
    return reaped;
}

int wk_qemu_signal(struct worker *w, int sig)
{
    if (!w->qemu_alive)
        return 0;
    /* Not our child: only the pidfd is safe against a reused pid. */
    if (w->pid_fd >= 0)
        return (int)syscall(SYS_pidfd_send_signal, w->pid_fd, sig, NULL, 0);
    return kill(w->qemu_pid, sig);
}

void wk_exit_status_str(int wstatus, char *out, size_t outlen)
{
    if (WIFSIGNALED(wstatus))
        snprintf(out, outlen, "signal:%d", WTERMSIG(wstatus));
    else
        snprintf(out, outlen, "exit:%d", WEXITSTATUS(wstatus));
}

/* "-msg timestamp=on" prefixes lines with "2026-11-22T10:00:00.123456Z ". */
static const char *skip_timestamp(const char *line)
{
    const char *p = line;

    if (!(isdigit((unsigned char)p[0]) && isdigit((unsigned char)p[3]) && p[4] == '-'))
        return line;
    while (*p && *p != ' ' && *p != 'Z')
        p++;
    if (*p == 'Z' && p[1] == ' ')
        return p + 2;
    return line;
}

void wk_qemu_log_tail(struct worker *w, char *out, size_t outlen)
{
    char buf[WK_TAIL_BYTES + 1];
    const char *lines[64];
    size_t nlines = 0, first;
    bool any_error = false;
    off_t end, from;
    ssize_t n;

    out[0] = '\0';
    if (w->log_fd < 0)
        return;
    end = lseek(w->log_fd, 0, SEEK_END);
    from = end - WK_TAIL_BYTES > w->log_offset ? end - WK_TAIL_BYTES : w->log_offset;
    if (end <= from)
        return;
    n = pread(w->log_fd, buf, (size_t)(end - from), from);
    if (n <= 0)
        return;
    buf[n] = '\0';
    for (char *save = NULL, *l = strtok_r(buf, "\r\n", &save); l && nlines < 64;
         l = strtok_r(NULL, "\r\n", &save)) {
        l = (char *)skip_timestamp(l);
        while (isspace((unsigned char)*l))
            l++;
        if (!*l || strncmp(l, "hearth-worker:", 14) == 0)
            continue;
        lines[nlines++] = l;
        if (!strstr(l, "warning:"))
            any_error = true;
    }
    /* Warnings before the real error would only bury it. */
    if (any_error) {
        size_t kept = 0;
        for (size_t i = 0; i < nlines; i++)
            if (!strstr(lines[i], "warning:"))
                lines[kept++] = lines[i];
        nlines = kept;
    }
    first = nlines > WK_TAIL_LINES ? nlines - WK_TAIL_LINES : 0;
    for (size_t i = first; i < nlines; i++) {
        size_t used = strlen(out);
        snprintf(out + used, outlen - used, "%s%s", i > first ? "; " : "", lines[i]);
    }
}
