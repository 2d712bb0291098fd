/* The control commands (docs/worker-protocol.md, "Control socket"). */
#include "worker.h"

#include <string.h>

/* Lifecycle commands need a QEMU that is up and a monitor to talk to. */
static bool require_qemu(struct worker *w, uint64_t seq)
{
    if (w->phase == WK_PHASE_ACTIVE && w->qemu_alive && w->qmp.fd >= 0)
        return true;
    wk_control_fail(w, seq, WK_ERR_OPERATION_INVALID, "domain is not running");
    return false;
}

/* Replies with QMP's "return" value, or its error as OPERATION_FAILED. */
static void qmp_done(struct worker *w, uint64_t seq, json_t *reply)
{
    const char *error = wk_qmp_error(reply);

    if (error) {
        wk_control_fail(w, seq, WK_ERR_OPERATION_FAILED, "%s", error);
        return;
    }
    wk_control_reply(w, seq, json_incref(json_object_get(reply, "return")));
}

static void empty_done(struct worker *w, uint64_t seq, json_t *reply)
{
    const char *error = wk_qmp_error(reply);

    if (error)
        wk_control_fail(w, seq, WK_ERR_OPERATION_FAILED, "%s", error);
    else
        wk_control_reply(w, seq, json_object());
}

static void stop_done(struct worker *w, uint64_t seq, json_t *reply)
{
    if (wk_qmp_error(reply))
        w->pause_reason = WK_PAUSED_UNKNOWN;
    empty_done(w, seq, reply);
}

static void cont_done(struct worker *w, uint64_t seq, json_t *reply)
{
    if (wk_qmp_error(reply))
        w->run_reason = WK_RUNNING_UNKNOWN;
    empty_done(w, seq, reply);
}

static void reboot_done(struct worker *w, uint64_t seq, json_t *reply)
{
    if (wk_qmp_error(reply))
        w->fake_reboot = false;
    empty_done(w, seq, reply);
}

static void cmd_destroy(struct worker *w, uint64_t seq, json_t *req)
{
    json_t *graceful = json_object_get(req, "graceful");

    if (graceful && !json_is_boolean(graceful)) {
        wk_control_fail(w, seq, WK_ERR_INVALID_ARG, "\"graceful\" must be a boolean");
        return;
    }
    if (w->phase == WK_PHASE_EXITED || !w->qemu_alive) {
        wk_control_fail(w, seq, WK_ERR_OPERATION_INVALID, "domain is not running");
        return;
    }
    /* Answered when QEMU has exited (wk_lifecycle_qemu_exited) or by the deadline. */
    w->exit_waiter = seq;
    if (wk_terminate(w, WK_SHUTOFF_DESTROYED, json_is_true(graceful) ? 0 : 1000) < 0) {
        w->exit_waiter = 0;
        wk_control_fail(w, seq, WK_ERR_SYSTEM_ERROR, "cannot signal QEMU process %d",
                        (int)w->qemu_pid);
    }
}

static void cmd_qmp(struct worker *w, uint64_t seq, json_t *req)
{
    const char *execute = json_string_value(json_object_get(req, "execute"));
    json_t *args = json_object_get(req, "arguments");

    if (!execute) {
        wk_control_fail(w, seq, WK_ERR_INVALID_ARG, "\"execute\" must be a string");
        return;
    }
    if (args && !json_is_object(args)) {
        wk_control_fail(w, seq, WK_ERR_INVALID_ARG, "\"arguments\" must be an object");
        return;
    }
    if (!require_qemu(w, seq))
        return;
    wk_qmp_send(w, execute, json_incref(args), qmp_done, seq);
}

bool wk_command_is_immediate(const char *cmd)
{
    return strcmp(cmd, "status") == 0 || strcmp(cmd, "job-info") == 0;
}

void wk_command_run(struct worker *w, uint64_t seq, const char *cmd, json_t *req)
{
    if (strcmp(cmd, "status") == 0) {
        wk_control_reply(w, seq, wk_status_json(w));
    } else if (strcmp(cmd, "cont") == 0) {
        if (!require_qemu(w, seq))
            return;
        w->run_reason = WK_RUNNING_UNPAUSED;
        wk_qmp_send(w, "cont", NULL, cont_done, seq);
    } else if (strcmp(cmd, "stop") == 0) {
        if (!require_qemu(w, seq))
            return;
        w->pause_reason = WK_PAUSED_USER;
        wk_qmp_send(w, "stop", NULL, stop_done, seq);
    } else if (strcmp(cmd, "powerdown") == 0) {
        if (require_qemu(w, seq))
            wk_qmp_send(w, "system_powerdown", NULL, empty_done, seq);
    } else if (strcmp(cmd, "reboot") == 0) {
        if (!require_qemu(w, seq))
            return;
        w->fake_reboot = true;
        wk_qmp_send(w, "system_powerdown", NULL, reboot_done, seq);
    } else if (strcmp(cmd, "reset") == 0) {
        if (require_qemu(w, seq))
            wk_qmp_send(w, "system_reset", NULL, empty_done, seq);
    } else if (strcmp(cmd, "destroy") == 0) {
        cmd_destroy(w, seq, req);
    } else if (strcmp(cmd, "qmp") == 0) {
        cmd_qmp(w, seq, req);
    } else if (strcmp(cmd, "shutdown-worker") == 0) {
        if (w->phase != WK_PHASE_EXITED) {
            wk_control_fail(w, seq, WK_ERR_OPERATION_INVALID,
                            "QEMU is still running; destroy the domain first");
            return;
        }
        w->done = true;
        wk_control_reply(w, seq, json_object());
    } else if (!wk_jobs_command(w, seq, cmd, req)) {
        wk_control_fail(w, seq, WK_ERR_NO_SUPPORT, "unknown command '%s'", cmd);
    }
}
