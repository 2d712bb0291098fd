/* hearth-worker: one per running domain; holds QEMU, its QMP monitor and its status file
 * (docs/worker-protocol.md). Plain C + jansson only: it has to stay small. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>

#define WK_ERRLEN 1024
#define WK_PROTOCOL_VERSION 1

/* virErrorNumber values used in control replies. */
enum {
    WK_ERR_INTERNAL = 1,
    WK_ERR_NO_SUPPORT = 3,
    WK_ERR_INVALID_ARG = 8,
    WK_ERR_OPERATION_FAILED = 9,
    WK_ERR_SYSTEM_ERROR = 38,
    WK_ERR_OPERATION_INVALID = 55,
    WK_ERR_OPERATION_TIMEOUT = 68,
};

/* States as named in the status file; reasons are libvirt's virDomain*Reason values. */
enum wk_state {
    WK_STARTING,
    WK_RUNNING,
    WK_PAUSED,
    WK_SHUTDOWN,
    WK_SHUTOFF,
    WK_CRASHED,
    WK_PMSUSPENDED,
};

enum {
    WK_RUNNING_UNKNOWN = 0,
    WK_RUNNING_BOOTED = 1,
    WK_RUNNING_UNPAUSED = 5,
    WK_RUNNING_WAKEUP = 8,
    WK_PAUSED_UNKNOWN = 0,
    WK_PAUSED_USER = 1,
    WK_PAUSED_IOERROR = 5,
    WK_PAUSED_WATCHDOG = 6,
    WK_SHUTDOWN_UNKNOWN = 0,
    WK_SHUTOFF_SHUTDOWN = 1,
    WK_SHUTOFF_DESTROYED = 2,
    WK_SHUTOFF_CRASHED = 3,
    WK_SHUTOFF_FAILED = 6,
    WK_CRASHED_PANICKED = 1,
};

enum wk_action {
    WK_ACT_DESTROY,
    WK_ACT_RESTART,
    WK_ACT_PRESERVE,
    WK_ACT_RENAME_RESTART,
    WK_ACT_COREDUMP_DESTROY,
    WK_ACT_COREDUMP_RESTART,
};

enum wk_phase {
    WK_PHASE_STARTING, /* QEMU spawned (or adopted), QMP not yet set up */
    WK_PHASE_ACTIVE,   /* control socket open, lifecycle handled */
    WK_PHASE_EXITED,   /* QEMU gone, final status written */
};

/* Cleanup attributes: early returns stay correct. */
static inline void wk_freep(void *p)
{
    free(*(void **)p);
}
static inline void wk_closep(const int *fd)
{
    if (*fd >= 0)
        close(*fd);
}
static inline void wk_json_decrefp(json_t **j)
{
    json_decref(*j);
}
#define _cleanup_free_ __attribute__((cleanup(wk_freep)))
#define _cleanup_close_ __attribute__((cleanup(wk_closep)))
#define _cleanup_json_ __attribute__((cleanup(wk_json_decrefp)))

/* worker-util.c ---------------------------------------------------------------------------- */

struct wk_buf {
    char *data;
    size_t len, cap;
};

void wk_buf_append(struct wk_buf *b, const void *data, size_t len);
void wk_buf_consume(struct wk_buf *b, size_t n);
void wk_buf_free(struct wk_buf *b);
/* One read from a nonblocking fd: 1 data, 0 EOF, -1 error, -2 nothing there. */
int wk_buf_read(struct wk_buf *b, int fd);
/* Writes out as much as the fd takes; -1 on a broken peer. */
int wk_buf_flush(struct wk_buf *b, int fd);
/* Next complete line (without '\n', NUL-terminated in place) or NULL; *pos advances. */
char *wk_buf_next_line(struct wk_buf *b, size_t *pos, size_t *len);

uint64_t wk_now_ms(void);
void wk_err(char *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void wk_err_errno(char *err, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void *wk_xmalloc(size_t n);
char *wk_xstrdup(const char *s);
int wk_read_file(const char *path, size_t max, char **out, size_t *len, char *err);
int wk_write_all(int fd, const void *data, size_t len);
/* Binds a listening unix socket at path (relative to the cwd); a stale socket file is replaced,
 * a live one is an error (-2). */
int wk_listen_unix(const char *path, int backlog, int *fd_out, char *err);
int wk_connect_unix(const char *path, int *fd_out, char *err);

/* worker-conf.c ---------------------------------------------------------------------------- */

struct wk_conf {
    char *name, *uuid;
    enum wk_action on_poweroff, on_reboot, on_crash;
    bool start_paused;
    char *qemu_log;
    char *qemu_ids; /* "UID:GID:G1,G2,..." resolved by hearthd: no name lookups here */
    unsigned start_timeout_ms;
};

/* Calls fn(key, value) for each key=value line; '#' comments and blank lines skipped. */
typedef int (*wk_kv_fn)(void *opaque, const char *key, const char *value, char *err);
int wk_kv_parse(char *text, wk_kv_fn fn, void *opaque, char *err);
int wk_conf_load(const char *path, struct wk_conf *conf, char *err);
void wk_conf_free(struct wk_conf *conf);
/* qemu.argv (NUL-separated) plus -S, -no-shutdown and the monitor pair on fd qmp_fd. */
int wk_argv_load(const char *path, int qmp_fd, char ***argv_out, char *err);
void wk_argv_free(char **argv);

/* The rest works on the worker as a whole. */
struct worker;

/* worker-qmp.c ----------------------------------------------------------------------------- */

/* reply is QEMU's whole answer, or NULL when the monitor went away first. */
typedef void (*wk_qmp_fn)(struct worker *w, uint64_t token, json_t *reply);
struct wk_qmp_cmd;

struct wk_qmp {
    int fd;
    struct wk_buf in, out;
    uint64_t next_id;
    struct wk_qmp_cmd *head, *tail; /* head is in flight once sent */
    bool head_sent;
};

void wk_qmp_init(struct wk_qmp *q);
void wk_qmp_attach(struct wk_qmp *q, int fd);
/* Queues {"execute":..., "arguments": args (stolen, may be NULL)}; fn runs exactly once. */
void wk_qmp_send(struct worker *w, const char *execute, json_t *args, wk_qmp_fn fn, uint64_t token);
short wk_qmp_events(const struct wk_qmp *q);
/* Handles readiness; returns -1 once the monitor is gone (then already closed). */
int wk_qmp_io(struct worker *w, short revents, char *err);
void wk_qmp_close(struct worker *w);
/* The error's desc of a reply (NULL for success); for a lost monitor a fixed text. */
const char *wk_qmp_error(json_t *reply);

/* worker-control.c ------------------------------------------------------------------------- */

struct wk_client;
struct wk_request;

struct wk_control {
    int listen_fd;
    struct wk_client *clients;
    unsigned nclients;
    struct wk_request *head, *tail;
    unsigned nqueued;
    uint64_t next_seq;
};

void wk_control_init(struct wk_control *c);
int wk_control_listen(struct worker *w, char *err);
void wk_control_stop_listening(struct worker *w);
void wk_control_close(struct worker *w);
/* pollfds for the listener and clients; returns how many were filled. */
size_t wk_control_pollfds(struct wk_control *c, void *pfds, size_t max);
void wk_control_io(struct worker *w, int fd, short revents);
void wk_control_broadcast(struct worker *w, json_t *msg);
/* Finishes the running request with token seq (if still waiting): result stolen. */
void wk_control_reply(struct worker *w, uint64_t seq, json_t *result);
void wk_control_fail(struct worker *w, uint64_t seq, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
uint64_t wk_control_next_deadline(const struct wk_control *c);
void wk_control_timers(struct worker *w, uint64_t now);
bool wk_control_has_clients(const struct wk_control *c);
/* Frees clients that went away; called once per loop iteration. */
void wk_control_reap(struct worker *w);
bool wk_control_flushed(const struct wk_control *c);

/* worker-commands.c ------------------------------------------------------------------------ */

/* Runs one request; answers now or later through wk_control_reply/fail(seq). */
void wk_command_run(struct worker *w, uint64_t seq, const char *cmd, json_t *req);
/* Commands answered at once, never queued behind a running one. */
bool wk_command_is_immediate(const char *cmd);

/* worker-jobs.c ---------------------------------------------------------------------------- */

/* snapshot, job-start, job-info, job-set-speed, job-abort, job-forget; false if not one. */
bool wk_jobs_command(struct worker *w, uint64_t seq, const char *cmd, json_t *req);
void wk_jobs_qmp_event(struct worker *w, const char *name, json_t *data);
/* Adoption: read the jobs file, then (once QMP is up) learn how the jobs fared meanwhile. */
void wk_jobs_load(struct worker *w);
void wk_jobs_adopted(struct worker *w);
void wk_jobs_qemu_exited(struct worker *w);

/* worker-status.c -------------------------------------------------------------------------- */

int wk_proc_start_time(pid_t pid, unsigned long long *start);
/* True if pid runs and started at start (a reused pid never counts). */
bool wk_proc_alive(pid_t pid, unsigned long long start);
const char *wk_state_name(enum wk_state s);
int wk_status_write(struct worker *w, char *err);
json_t *wk_status_json(struct worker *w);

struct wk_prev_status {
    pid_t worker_pid, qemu_pid;
    unsigned long long worker_start, qemu_start;
    enum wk_state state;
    int reason;
};
int wk_status_read(const char *path, struct wk_prev_status *st, char *err);

/* worker-qemu.c ---------------------------------------------------------------------------- */

int wk_log_open(struct worker *w, char *err);
void wk_log_write(struct worker *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int wk_qemu_spawn(struct worker *w, int qmp_listen_fd, char *err);
/* Reaps QEMU if it has exited; returns true then (wstatus filled). */
bool wk_qemu_reap(struct worker *w);
int wk_qemu_signal(struct worker *w, int sig);
/* QEMU's own last words from the log since it was spawned, trimmed to one line. */
void wk_qemu_log_tail(struct worker *w, char *out, size_t outlen);
void wk_exit_status_str(int wstatus, char *out, size_t outlen);

/* worker-lifecycle.c ----------------------------------------------------------------------- */

int wk_lifecycle_start(struct worker *w, char *err);
int wk_lifecycle_adopt(struct worker *w, char *err);
void wk_lifecycle_qmp_event(struct worker *w, json_t *ev);
void wk_lifecycle_qemu_exited(struct worker *w);
void wk_lifecycle_timers(struct worker *w, uint64_t now);
uint64_t wk_lifecycle_next_deadline(const struct worker *w);
void wk_set_state(struct worker *w, enum wk_state state, int reason);
/* SIGTERM now; SIGKILL after kill_after_ms unless 0. final_reason: shutoff reason to record. */
int wk_terminate(struct worker *w, int final_reason, unsigned kill_after_ms);
void wk_restart_guest(struct worker *w);

/* worker-main.c ---------------------------------------------------------------------------- */

/* Records a message for main to print (modules never print). */
void wk_note(struct worker *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Once started: stdin/stdout to /dev/null, stderr to the domain log, so that hearthd's pipes
 * see EOF. */
void wk_detach_stdio(struct worker *w);

struct wk_pty {
    char *id, *path;
};

struct worker {
    const char *dir;
    bool adopt;
    struct wk_conf conf;
    char **argv;
    int cwd_fd; /* hearthd's cwd, restored for QEMU */
    int dir_fd; /* the runtime directory (also our cwd) */
    int log_fd; /* QEMU's log, O_APPEND */
    int sig_fd; /* signalfd: SIGCHLD, SIGTERM, SIGINT */
    int timer_fd;
    int pid_fd; /* adopt mode: QEMU is not our child */
    mode_t umask_saved;
    pid_t pid;
    unsigned long long start;
    pid_t qemu_pid;
    unsigned long long qemu_start;
    bool qemu_is_child, qemu_alive;
    bool have_wstatus;
    int wstatus;
    off_t log_offset; /* where QEMU's own output starts */

    enum wk_phase phase;
    enum wk_state state;
    int reason;
    int pause_reason; /* for the next STOP */
    int run_reason;   /* for the next RESUME */
    int final_reason; /* -1 until someone asks QEMU to end */
    bool got_shutdown, fake_reboot;
    uint64_t kill_at;        /* SIGKILL escalation, 0 = none */
    uint64_t start_deadline; /* QMP must be up by then */
    uint64_t exit_waiter;    /* control request waiting for QEMU to end */
    struct wk_pty *ptys;
    size_t nptys;
    char error[WK_ERRLEN];

    struct wk_qmp qmp;
    struct wk_control ctl;
    uint64_t armed_deadline;

    struct wk_buf notes;
    bool trim_heap; /* a large message went through: return freed memory to the kernel */
    bool detached;
    bool done;
    int exit_code;
};
