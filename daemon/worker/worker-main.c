/* hearth-worker --dir DIR [--adopt]: arguments, process setup, and the one poll loop. The only
 * file that prints. */
#include "worker.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>

#define WK_MAX_POLLFDS 40
#define WK_MAX_INHERITED 256

static void usage(FILE *out)
{
    fprintf(out, "Usage: hearth-worker --dir RUNDIR [--adopt]\n"
                 "Runs one domain's QEMU and answers on RUNDIR/control.sock "
                 "(docs/worker-protocol.md).\n");
}

void wk_note(struct worker *w, const char *fmt, ...)
{
    char text[WK_ERRLEN];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    wk_buf_append(&w->notes, text, strlen(text));
    wk_buf_append(&w->notes, "\n", 1);
}

static void print_notes(struct worker *w)
{
    size_t pos = 0, len;
    char *line;

    while ((line = wk_buf_next_line(&w->notes, &pos, &len))) {
        if (w->detached)
            wk_log_write(w, "%s", line);
        else
            fprintf(stderr, "hearth-worker: %s\n", line);
    }
    wk_buf_consume(&w->notes, pos);
}

void wk_detach_stdio(struct worker *w)
{
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);

    if (null < 0)
        return;
    fflush(stderr);
    (void)dup2(null, 0);
    (void)dup2(null, 1);
    (void)dup2(w->log_fd >= 0 ? w->log_fd : null, 2);
    close(null);
    w->detached = true;
}

/* Descriptors hearthd passed down (taps and the like) belong to QEMU, at the same numbers. */
static size_t list_inherited(int *fds, size_t max)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *de;
    size_t n = 0;

    if (!d)
        return 0;
    while ((de = readdir(d)) && n < max) {
        int fd = atoi(de->d_name);
        if (fd > 2 && fd != dirfd(d) && !(fcntl(fd, F_GETFD) & FD_CLOEXEC))
            fds[n++] = fd;
    }
    closedir(d);
    return n;
}

static int setup(struct worker *w, char *err)
{
    sigset_t mask;

    w->umask_saved = umask(077);
    w->cwd_fd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (chdir(w->dir) < 0) {
        wk_err_errno(err, errno, "cannot enter '%s'", w->dir);
        return -1;
    }
    w->dir_fd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (w->cwd_fd < 0 || w->dir_fd < 0) {
        wk_err_errno(err, errno, "cannot open '%s'", w->dir);
        return -1;
    }
    /* Our own session: hearthd's end (or its process group's signals) is not ours. */
    (void)setsid();
    w->pid = getpid();
    if (wk_proc_start_time(w->pid, &w->start) < 0) {
        wk_err(err, "cannot read /proc/self/stat");
        return -1;
    }
    signal(SIGPIPE, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    sigemptyset(&mask);
    sigaddset(&mask, SIGCHLD);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0 ||
        (w->sig_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC)) < 0 ||
        (w->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC)) < 0) {
        wk_err_errno(err, errno, "cannot set up signal and timer descriptors");
        return -1;
    }
    return 0;
}

static void arm_timer(struct worker *w)
{
    uint64_t a = wk_lifecycle_next_deadline(w), b = wk_control_next_deadline(&w->ctl);
    uint64_t next = (a && (!b || a < b)) ? a : b;
    struct itimerspec its = {0};

    if (next == w->armed_deadline)
        return;
    w->armed_deadline = next;
    if (next) {
        its.it_value.tv_sec = (time_t)(next / 1000);
        its.it_value.tv_nsec = (long)(next % 1000) * 1000000;
    }
    (void)timerfd_settime(w->timer_fd, TFD_TIMER_ABSTIME, &its, NULL);
}

static void handle_signals(struct worker *w)
{
    struct signalfd_siginfo si;

    while (read(w->sig_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        if (si.ssi_signo == SIGCHLD) {
            if (wk_qemu_reap(w))
                wk_lifecycle_qemu_exited(w);
        } else {
            /* Only `destroy` ends a guest; a stop of hearthd's service must not. */
            wk_note(w, "ignoring signal %u from pid %u", si.ssi_signo, si.ssi_pid);
        }
    }
}

static bool finished(struct worker *w)
{
    if (w->done && wk_control_flushed(&w->ctl))
        return true;
    return w->phase == WK_PHASE_EXITED && !wk_control_has_clients(&w->ctl);
}

static void run_loop(struct worker *w)
{
    struct pollfd pfds[WK_MAX_POLLFDS];
    char err[WK_ERRLEN];

    while (!finished(w)) {
        size_t n = 0;
        arm_timer(w);
        pfds[n++] = (struct pollfd){.fd = w->qmp.fd, .events = wk_qmp_events(&w->qmp)};
        pfds[n++] = (struct pollfd){.fd = w->pid_fd, .events = POLLIN};
        pfds[n++] = (struct pollfd){.fd = w->sig_fd, .events = POLLIN};
        pfds[n++] = (struct pollfd){.fd = w->timer_fd, .events = POLLIN};
        n += wk_control_pollfds(&w->ctl, pfds + n, WK_MAX_POLLFDS - n);
        if (poll(pfds, n, -1) < 0) {
            if (errno == EINTR)
                continue;
            wk_note(w, "poll failed: %s", strerror(errno));
            break;
        }
        /* The monitor first: events must be seen before the exit they precede. */
        /* A closed monitor is not an end by itself: the process watch decides. */
        if (pfds[0].revents && pfds[0].fd == w->qmp.fd)
            (void)wk_qmp_io(w, pfds[0].revents, err);
        if (pfds[1].revents && w->pid_fd >= 0) {
            /* Readable for good once QEMU has exited: stop watching it. */
            close(w->pid_fd);
            w->pid_fd = -1;
            w->qemu_alive = false;
            wk_lifecycle_qemu_exited(w);
        }
        if (pfds[2].revents)
            handle_signals(w);
        if (pfds[3].revents) {
            uint64_t expirations;
            (void)!read(w->timer_fd, &expirations, sizeof(expirations));
            w->armed_deadline = 0;
            wk_lifecycle_timers(w, wk_now_ms());
            wk_control_timers(w, wk_now_ms());
        }
        for (size_t i = 4; i < n; i++)
            if (pfds[i].revents)
                wk_control_io(w, pfds[i].fd, pfds[i].revents);
        wk_control_reap(w);
        print_notes(w);
        if (w->trim_heap) {
            w->trim_heap = false;
            malloc_trim(0);
        }
    }
}

static void cleanup(struct worker *w)
{
    wk_control_close(w);
    wk_qmp_close(w);
    print_notes(w);
    wk_buf_free(&w->notes);
    for (size_t i = 0; i < w->nptys; i++) {
        free(w->ptys[i].id);
        free(w->ptys[i].path);
    }
    free(w->ptys);
    wk_argv_free(w->argv);
    wk_conf_free(&w->conf);
    int *fds[] = {&w->cwd_fd, &w->dir_fd, &w->log_fd, &w->sig_fd, &w->timer_fd, &w->pid_fd};
    for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
        if (*fds[i] >= 0)
            close(*fds[i]);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"dir", required_argument, NULL, 'd'},
        {"adopt", no_argument, NULL, 'a'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct worker w = {
        .cwd_fd = -1,
        .dir_fd = -1,
        .log_fd = -1,
        .sig_fd = -1,
        .timer_fd = -1,
        .pid_fd = -1,
        .final_reason = -1,
    };
    int inherited[WK_MAX_INHERITED];
    size_t ninherited;
    char err[WK_ERRLEN] = "";
    int opt, rc;

    /* Every descriptor we open later must not land on 0-2. */
    while ((rc = open("/dev/null", O_RDWR)) >= 0 && rc <= 2)
        ;
    if (rc > 2)
        close(rc);
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (opt) {
        case 'd':
            w.dir = optarg;
            break;
        case 'a':
            w.adopt = true;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (!w.dir || optind != argc) {
        usage(stderr);
        return 2;
    }
    ninherited = list_inherited(inherited, WK_MAX_INHERITED);
    wk_qmp_init(&w.qmp);
    wk_control_init(&w.ctl);

    if (setup(&w, err) < 0) {
        fprintf(stderr, "hearth-worker: %s\n", err);
        cleanup(&w);
        return 1;
    }
    rc = w.adopt ? wk_lifecycle_adopt(&w, err) : wk_lifecycle_start(&w, err);
    /* QEMU has its copies now (or never needs them): ours would only keep taps alive. */
    for (size_t i = 0; i < ninherited; i++)
        close(inherited[i]);
    if (rc < 0) {
        fprintf(stderr, "hearth-worker: %s\n", err);
        print_notes(&w);
        cleanup(&w);
        return 1;
    }
    print_notes(&w);
    run_loop(&w);
    if (w.exit_code != 0 && w.error[0] && !w.detached)
        fprintf(stderr, "hearth-worker: %s\n", w.error);
    rc = w.exit_code;
    cleanup(&w);
    return rc;
}
