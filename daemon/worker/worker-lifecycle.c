/* The domain's life: start and adopt sequences, QMP events to states, on_poweroff/on_reboot/
 * on_crash, fake reboot, destroy with escalation, and what happens when QEMU is gone. */
#include "worker.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>

/* A guest that asked to power off gets this long to exit on SIGTERM before SIGKILL. */
#define WK_LIFECYCLE_KILL_AFTER_MS 10000

static void note_status_write(struct worker *w)
{
    char err[WK_ERRLEN];

    if (wk_status_write(w, err) < 0)
        wk_note(w, "%s", err);
}

void wk_set_state(struct worker *w, enum wk_state state, int reason)
{
    _cleanup_json_ json_t *ev = NULL;

    if (w->state == state && w->reason == reason)
        return;
    w->state = state;
    w->reason = reason;
    if (w->phase != WK_PHASE_ACTIVE)
        return; /* the start sequence writes its own status when it is done */
    note_status_write(w);
    ev = json_pack("{s:s, s:s, s:i}", "event", "state", "state", wk_state_name(state), "reason",
                   reason);
    wk_control_broadcast(w, ev);
}

int wk_terminate(struct worker *w, int final_reason, unsigned kill_after_ms)
{
    w->final_reason = final_reason;
    if (wk_qemu_signal(w, SIGTERM) < 0 && errno != ESRCH)
        return -1;
    w->kill_at = kill_after_ms ? wk_now_ms() + kill_after_ms : 0;
    return 0;
}

/* --- restart: system_reset, then cont ------------------------------------------------------ */

static void restart_cont_done(struct worker *w, uint64_t token, json_t *reply)
{
    const char *error = wk_qmp_error(reply);

    w->fake_reboot = false;
    if (reply && error)
        wk_note(w, "cannot resume the guest after its reset: %s", error);
}

static void restart_reset_done(struct worker *w, uint64_t token, json_t *reply)
{
    const char *error = wk_qmp_error(reply);

    if (!reply)
        return;
    if (error) {
        wk_note(w, "cannot reset the guest: %s", error);
        w->fake_reboot = false;
        return;
    }
    w->run_reason = WK_RUNNING_BOOTED;
    wk_qmp_send(w, "cont", NULL, restart_cont_done, 0);
}

void wk_restart_guest(struct worker *w)
{
    w->got_shutdown = false;
    w->fake_reboot = true; /* also hides the STOP that comes with the guest's shutdown */
    wk_qmp_send(w, "system_reset", NULL, restart_reset_done, 0);
}

static void apply_action(struct worker *w, enum wk_action action, int final_reason)
{
    switch (action) {
    case WK_ACT_DESTROY:
    case WK_ACT_COREDUMP_DESTROY: /* no dump support: destroy */
        if (w->final_reason >= 0)
            break; /* already on its way out (a destroy, say): keep that reason */
        if (wk_terminate(w, final_reason, WK_LIFECYCLE_KILL_AFTER_MS) < 0)
            wk_note(w, "cannot signal QEMU: %s", strerror(errno));
        break;
    case WK_ACT_RESTART:
    case WK_ACT_RENAME_RESTART:
    case WK_ACT_COREDUMP_RESTART:
        wk_restart_guest(w);
        break;
    case WK_ACT_PRESERVE:
        break;
    }
}

/* --- QMP events ------------------------------------------------------------------------------ */

static void on_shutdown(struct worker *w, json_t *data)
{
    bool guest = json_is_true(json_object_get(data, "guest"));
    const char *reason = json_string_value(json_object_get(data, "reason"));

    w->got_shutdown = true;
    if (reason && strcmp(reason, "guest-panic") == 0)
        return; /* GUEST_PANICKED decides */
    if (guest && w->fake_reboot) {
        /* The guest obeyed the power button of a `reboot`: start it again, state unchanged. */
        wk_restart_guest(w);
        return;
    }
    wk_set_state(w, WK_SHUTDOWN, WK_SHUTDOWN_UNKNOWN);
    if (!guest || w->phase != WK_PHASE_ACTIVE)
        return;
    /* With -no-reboot a guest reboot arrives as a shutdown caused by guest-reset. */
    if (reason && strcmp(reason, "guest-reset") == 0)
        apply_action(w, w->conf.on_reboot, WK_SHUTOFF_SHUTDOWN);
    else
        apply_action(w, w->conf.on_poweroff, WK_SHUTOFF_SHUTDOWN);
}

static void on_panic(struct worker *w, json_t *data)
{
    const char *action = json_string_value(json_object_get(data, "action"));

    if (action && strcmp(action, "poweroff") == 0) {
        w->final_reason = WK_SHUTOFF_CRASHED; /* QEMU ends by itself */
        return;
    }
    /* "crashed" is a state a guest stays in (preserve); on the way to shutoff or a restart
     * the GUEST_PANICKED notification says what happened. */
    if (w->phase != WK_PHASE_ACTIVE || w->conf.on_crash == WK_ACT_PRESERVE)
        wk_set_state(w, WK_CRASHED, WK_CRASHED_PANICKED);
    else
        apply_action(w, w->conf.on_crash, WK_SHUTOFF_CRASHED);
}

void wk_lifecycle_qmp_event(struct worker *w, json_t *ev)
{
    const char *name = json_string_value(json_object_get(ev, "event"));
    json_t *data = json_object_get(ev, "data");
    const char *action = json_string_value(json_object_get(data, "action"));
    _cleanup_json_ json_t *note = json_pack("{s:s, s:s}", "event", "qmp", "name", name);

    /* Every event goes to the clients verbatim, before the state change it causes. */
    if (data)
        json_object_set(note, "data", data);
    if (json_object_get(ev, "timestamp"))
        json_object_set(note, "timestamp", json_object_get(ev, "timestamp"));
    wk_control_broadcast(w, note);
    wk_jobs_qmp_event(w, name, data);

    if (strcmp(name, "STOP") == 0) {
        /* Not a pause: the STOP of a reboot, or of a guest on its way out. */
        if (w->state == WK_RUNNING && !w->fake_reboot && w->final_reason < 0)
            wk_set_state(w, WK_PAUSED, w->pause_reason);
        w->pause_reason = WK_PAUSED_UNKNOWN;
    } else if (strcmp(name, "RESUME") == 0) {
        if (w->state != WK_SHUTOFF)
            wk_set_state(w, WK_RUNNING, w->run_reason ? w->run_reason : WK_RUNNING_UNPAUSED);
        w->run_reason = WK_RUNNING_UNKNOWN;
    } else if (strcmp(name, "SHUTDOWN") == 0) {
        on_shutdown(w, data);
    } else if (strcmp(name, "RESET") == 0) {
        if (json_is_true(json_object_get(data, "guest")) && w->phase == WK_PHASE_ACTIVE &&
            w->conf.on_reboot == WK_ACT_DESTROY)
            apply_action(w, WK_ACT_DESTROY, WK_SHUTOFF_SHUTDOWN);
    } else if (strcmp(name, "GUEST_PANICKED") == 0) {
        on_panic(w, data);
    } else if (strcmp(name, "SUSPEND") == 0) {
        wk_set_state(w, WK_PMSUSPENDED, 0);
    } else if (strcmp(name, "WAKEUP") == 0) {
        if (w->state == WK_PMSUSPENDED)
            wk_set_state(w, WK_RUNNING, WK_RUNNING_WAKEUP);
    } else if (strcmp(name, "BLOCK_IO_ERROR") == 0) {
        if (action && strcmp(action, "stop") == 0)
            w->pause_reason = WK_PAUSED_IOERROR;
    } else if (strcmp(name, "WATCHDOG") == 0) {
        if (action && strcmp(action, "pause") == 0)
            w->pause_reason = WK_PAUSED_WATCHDOG;
    }
}

/* --- start and adopt ------------------------------------------------------------------------- */

/* Start failed after QEMU was spawned: record why, make sure QEMU goes, and let
 * wk_lifecycle_qemu_exited finish. Adopting never kills the guest. */
static void start_failed(struct worker *w, const char *what, const char *detail)
{
    if (!w->error[0])
        snprintf(w->error, sizeof(w->error), "%s%s%s", what, detail ? ": " : "",
                 detail ? detail : "");
    w->start_deadline = 0;
    if (w->adopt) {
        w->done = true;
        w->exit_code = 1;
        wk_note(w, "%s", w->error);
        return;
    }
    w->final_reason = WK_SHUTOFF_FAILED;
    (void)wk_qemu_signal(w, SIGKILL);
}

static enum wk_state map_qemu_status(struct worker *w, const char *st, int *reason)
{
    static const struct {
        const char *name;
        enum wk_state state;
        int reason;
    } map[] = {
        {"running", WK_RUNNING, WK_RUNNING_UNKNOWN},
        {"shutdown", WK_SHUTDOWN, WK_SHUTDOWN_UNKNOWN},
        {"guest-panicked", WK_CRASHED, WK_CRASHED_PANICKED},
        {"suspended", WK_PMSUSPENDED, 0},
        {"io-error", WK_PAUSED, WK_PAUSED_IOERROR},
        {"watchdog", WK_PAUSED, WK_PAUSED_WATCHDOG},
    };
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        if (strcmp(st, map[i].name) != 0)
            continue;
        *reason = w->state == map[i].state ? w->reason : map[i].reason;
        return map[i].state;
    }
    /* prelaunch, paused, and the migration/snapshot states: not running guest code. */
    *reason = w->state == WK_PAUSED ? w->reason : WK_PAUSED_UNKNOWN;
    return WK_PAUSED;
}

static void start_done(struct worker *w)
{
    char err[WK_ERRLEN];

    w->start_deadline = 0;
    w->phase = WK_PHASE_ACTIVE;
    if (wk_status_write(w, err) < 0) {
        w->phase = WK_PHASE_STARTING;
        start_failed(w, err, NULL);
        return;
    }
    /* Before the socket: once hearthd hears the greeting, its pipes from us see EOF. */
    wk_detach_stdio(w);
    if (wk_control_listen(w, err) < 0) {
        w->phase = WK_PHASE_STARTING;
        start_failed(w, err, NULL);
        return;
    }
    if (w->adopt)
        wk_jobs_adopted(w);
    /* Adopted in a state nobody handled while no worker ran: handle it now. */
    if (w->adopt && w->state == WK_SHUTDOWN)
        apply_action(w, w->conf.on_poweroff, WK_SHUTOFF_SHUTDOWN);
    else if (w->adopt && w->state == WK_CRASHED)
        apply_action(w, w->conf.on_crash, WK_SHUTOFF_CRASHED);
}

static void query_status_done(struct worker *w, uint64_t token, json_t *reply)
{
    const char *st = json_string_value(json_object_get(json_object_get(reply, "return"), "status"));
    int reason;
    enum wk_state state;

    if (!reply)
        return;
    if (!st) {
        start_failed(w, "query-status failed", wk_qmp_error(reply));
        return;
    }
    state = map_qemu_status(w, st, &reason);
    w->state = state;
    w->reason = reason;
    w->got_shutdown = state == WK_SHUTDOWN;
    start_done(w);
}

static void start_cont_done(struct worker *w, uint64_t token, json_t *reply)
{
    const char *error = wk_qmp_error(reply);

    if (!reply)
        return; /* QEMU is going away; its exit says why */
    if (error) {
        start_failed(w, "cannot start the guest CPUs", error);
        return;
    }
    /* RESUME came before this reply and set the state already. */
    w->state = WK_RUNNING;
    w->reason = WK_RUNNING_BOOTED;
    start_done(w);
}

static void chardev_done(struct worker *w, uint64_t token, json_t *reply)
{
    json_t *list = json_object_get(reply, "return"), *dev;
    size_t i;

    if (!reply)
        return;
    if (!json_is_array(list)) {
        start_failed(w, "query-chardev failed", wk_qmp_error(reply));
        return;
    }
    w->ptys = wk_xmalloc(sizeof(*w->ptys) * (json_array_size(list) + 1));
    json_array_foreach(list, i, dev)
    {
        const char *label = json_string_value(json_object_get(dev, "label"));
        const char *file = json_string_value(json_object_get(dev, "filename"));
        if (!label || !file || strncmp(file, "pty:", 4) != 0)
            continue;
        w->ptys[w->nptys].id = wk_xstrdup(label);
        w->ptys[w->nptys].path = wk_xstrdup(file + 4);
        w->nptys++;
    }
    if (w->adopt) {
        wk_qmp_send(w, "query-status", NULL, query_status_done, 0);
    } else if (w->conf.start_paused) {
        w->state = WK_PAUSED;
        w->reason = WK_PAUSED_USER;
        start_done(w);
    } else {
        w->run_reason = WK_RUNNING_BOOTED;
        wk_qmp_send(w, "cont", NULL, start_cont_done, 0);
    }
}

static void caps_done(struct worker *w, uint64_t token, json_t *reply)
{
    const char *error = wk_qmp_error(reply);

    if (!reply)
        return;
    if (error) {
        start_failed(w, "QMP negotiation failed", error);
        return;
    }
    wk_qmp_send(w, "query-chardev", NULL, chardev_done, 0);
}

/* Another worker or QEMU still owns the directory: touch nothing of theirs. */
static bool dir_taken(struct worker *w, char *err)
{
    struct wk_prev_status prev;
    char ignored[WK_ERRLEN];

    if (wk_status_read("status", &prev, ignored) < 0)
        return false;
    if (wk_proc_alive(prev.worker_pid, prev.worker_start)) {
        wk_err(err, "worker %d is still running in '%s'", (int)prev.worker_pid, w->dir);
        return true;
    }
    if (wk_proc_alive(prev.qemu_pid, prev.qemu_start)) {
        wk_err(err, "QEMU %d is still running in '%s'", (int)prev.qemu_pid, w->dir);
        return true;
    }
    return false;
}

int wk_lifecycle_start(struct worker *w, char *err)
{
    _cleanup_close_ int listen_fd = -1;
    int qmp_fd = -1, rc;

    w->state = WK_STARTING;
    w->reason = 0;
    if (dir_taken(w, err))
        return -1;
    if (wk_conf_load("worker.conf", &w->conf, err) < 0)
        goto fail;
    rc = wk_listen_unix("qmp.sock", 1, &listen_fd, err);
    if (rc == -2)
        return -1;
    if (rc < 0 || chmod("qmp.sock", 0600) < 0 ||
        wk_argv_load("qemu.argv", listen_fd, &w->argv, err) < 0 || wk_log_open(w, err) < 0)
        goto fail;
    /* Connected before QEMU even runs: it answers with its greeting the moment it is ready. */
    if (wk_connect_unix("qmp.sock", &qmp_fd, err) < 0)
        goto fail;
    if (wk_qemu_spawn(w, listen_fd, err) < 0) {
        close(qmp_fd);
        goto fail;
    }
    wk_qmp_attach(&w->qmp, qmp_fd);
    wk_qmp_send(w, "qmp_capabilities", NULL, caps_done, 0);
    w->start_deadline = wk_now_ms() + w->conf.start_timeout_ms;
    note_status_write(w);
    return 0;

fail:
    if (!err[0])
        wk_err_errno(err, errno, "cannot set up qmp.sock");
    snprintf(w->error, sizeof(w->error), "%s", err);
    w->state = WK_SHUTOFF;
    w->reason = WK_SHUTOFF_FAILED;
    note_status_write(w);
    if (listen_fd >= 0)
        unlink("qmp.sock");
    return -1;
}

int wk_lifecycle_adopt(struct worker *w, char *err)
{
    struct wk_prev_status prev;
    int fd;

    if (wk_status_read("status", &prev, err) < 0 || wk_conf_load("worker.conf", &w->conf, err) < 0)
        return -1;
    if (prev.state == WK_SHUTOFF) {
        wk_err(err, "nothing to adopt: the status file says the domain is shut off");
        return -1;
    }
    if (prev.worker_pid > 0 && prev.worker_pid != w->pid &&
        wk_proc_alive(prev.worker_pid, prev.worker_start)) {
        wk_err(err, "worker %d is still running", (int)prev.worker_pid);
        return -1;
    }
    if (prev.qemu_pid <= 0) {
        wk_err(err, "the status file names no QEMU process");
        return -1;
    }
    w->qemu_pid = prev.qemu_pid;
    w->qemu_start = prev.qemu_start;
    w->state = prev.state;
    w->reason = prev.reason;
    /* Open the pidfd first, then check the start time: the pidfd then surely is that QEMU. */
    w->pid_fd = (int)syscall(SYS_pidfd_open, prev.qemu_pid, 0);
    if (w->pid_fd < 0 && errno != ESRCH) {
        wk_err_errno(err, errno, "cannot watch QEMU process %d", (int)prev.qemu_pid);
        return -1;
    }
    if (w->pid_fd < 0 || !wk_proc_alive(prev.qemu_pid, prev.qemu_start)) {
        wk_err(err, "QEMU process %d is gone", (int)prev.qemu_pid);
        snprintf(w->error, sizeof(w->error), "%s", err);
        w->state = WK_SHUTOFF;
        w->reason = WK_SHUTOFF_CRASHED;
        note_status_write(w);
        return -1;
    }
    w->qemu_alive = true;
    if (wk_log_open(w, err) < 0 || wk_connect_unix("qmp.sock", &fd, err) < 0)
        return -1;
    wk_log_write(w, "adopted QEMU process %d", (int)w->qemu_pid);
    wk_jobs_load(w);
    wk_qmp_attach(&w->qmp, fd);
    wk_qmp_send(w, "qmp_capabilities", NULL, caps_done, 0);
    w->start_deadline = wk_now_ms() + w->conf.start_timeout_ms;
    return 0;
}

/* --- the end ---------------------------------------------------------------------------------- */

void wk_lifecycle_qemu_exited(struct worker *w)
{
    char err[WK_ERRLEN], text[64] = "unknown";
    _cleanup_json_ json_t *ev = NULL;
    bool during_start = w->phase == WK_PHASE_STARTING && !w->adopt;
    bool unexpected;

    /* QEMU's last events (a SHUTDOWN, say) are in the socket: they decide the reason. */
    if (w->qmp.fd >= 0)
        (void)wk_qmp_io(w, POLLIN, err);
    wk_qmp_close(w);
    wk_jobs_qemu_exited(w);
    w->kill_at = 0;
    w->start_deadline = 0;
    if (w->have_wstatus)
        wk_exit_status_str(w->wstatus, text, sizeof(text));

    if (during_start) {
        if (!w->error[0])
            wk_qemu_log_tail(w, w->error, sizeof(w->error));
        if (!w->error[0])
            snprintf(w->error, sizeof(w->error), "QEMU exited while starting (%s)", text);
        w->state = WK_SHUTOFF;
        w->reason = WK_SHUTOFF_FAILED;
        w->phase = WK_PHASE_EXITED;
        wk_log_write(w, "QEMU failed to start (%s): %s", text, w->error);
        note_status_write(w);
        unlink("qmp.sock");
        w->done = true;
        w->exit_code = 1;
        return;
    }

    w->state = WK_SHUTOFF;
    /* as libvirt: an exit nobody asked for and without a SHUTDOWN event first is a crash (of
     * QEMU, not of the guest: libvirt's event says "failed" for it) */
    unexpected = w->final_reason < 0 && !w->got_shutdown;
    if (w->final_reason >= 0)
        w->reason = w->final_reason;
    else
        w->reason = w->got_shutdown ? WK_SHUTOFF_SHUTDOWN : WK_SHUTOFF_CRASHED;
    w->phase = WK_PHASE_EXITED;
    wk_log_write(w, "QEMU exited (%s), shutoff reason %d", text, w->reason);
    note_status_write(w);
    wk_control_stop_listening(w);
    unlink("qmp.sock");

    ev = json_pack("{s:s, s:s, s:i, s:b}", "event", "exited", "state", "shutoff", "reason",
                   w->reason, "unexpected", unexpected);
    if (w->have_wstatus)
        json_object_set_new(ev, "exit_status", json_string(text));
    wk_control_broadcast(w, ev);
    if (w->exit_waiter) {
        uint64_t seq = w->exit_waiter;
        w->exit_waiter = 0;
        wk_control_reply(w, seq, json_object());
    }
    w->exit_code = 0;
}

uint64_t wk_lifecycle_next_deadline(const struct worker *w)
{
    uint64_t next = w->kill_at;

    if (w->start_deadline && (!next || w->start_deadline < next))
        next = w->start_deadline;
    return next;
}

void wk_lifecycle_timers(struct worker *w, uint64_t now)
{
    char text[128];

    if (w->kill_at && now >= w->kill_at) {
        w->kill_at = 0;
        wk_log_write(w, "QEMU did not exit on SIGTERM; sending SIGKILL");
        (void)wk_qemu_signal(w, SIGKILL);
    }
    if (w->start_deadline && now >= w->start_deadline) {
        snprintf(text, sizeof(text), "QEMU did not answer on its monitor within %u ms",
                 w->conf.start_timeout_ms);
        start_failed(w, text, NULL);
    }
}
