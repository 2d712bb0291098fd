/* Running domains: hearthd's side of the per-domain workers (docs/worker-protocol.md).
 * Start prepares the runtime directory and spawns a worker; every later operation is a
 * request to that worker. Nothing here blocks the main loop, and one busy domain never holds
 * up queries about it or any other domain. */
#pragma once

#include "domain-store.h"
#include "hearth-daemon.h"

#include <jansson.h>

G_BEGIN_DECLS

/* Called once when an operation finishes; error NULL on success. */
typedef void (*RunnerDoneFunc)(const GError *error, gpointer user_data);

/* virDomain*Reason values we use. */
enum {
    REASON_RUNNING_BOOTED = 1,
    REASON_RUNNING_UNPAUSED = 5,
    REASON_PAUSED_USER = 1,
    REASON_SHUTOFF_UNKNOWN = 0,
    REASON_SHUTOFF_SHUTDOWN = 1,
    REASON_SHUTOFF_DESTROYED = 2,
    REASON_SHUTOFF_CRASHED = 3,
    REASON_SHUTOFF_FAILED = 6,
};

void domain_runner_init(HearthDaemon *daemon);

/* Start a domain that is shut off; its live definition is a copy of its persistent one. */
void domain_runner_start(HearthDaemon *daemon, HearthDomain *dom, gboolean paused,
                         RunnerDoneFunc done, gpointer user_data);

/* The same with a live definition of the caller's (taken): CREATE_XML of a defined domain. */
void domain_runner_start_with_def(HearthDaemon *daemon, HearthDomain *dom, HearthDomainDef *def,
                                  gboolean paused, RunnerDoneFunc done, gpointer user_data);

/* Send a worker command (cont, stop, powerdown, reboot, reset, destroy, qmp...). args may be
 * NULL and is consumed. destroy completes once the domain is marked shut off. */
void domain_runner_request(HearthDaemon *daemon, HearthDomain *dom, const char *cmd, json_t *args,
                           RunnerDoneFunc done, gpointer user_data);

/* As domain_runner_request, for commands whose result the caller reads (result NULL on error).
 * timeout_ms 0: the default. */
typedef void (*RunnerReplyFunc)(json_t *result, const GError *error, gpointer user_data);
void domain_runner_query(HearthDaemon *daemon, HearthDomain *dom, const char *cmd, json_t *args,
                         guint timeout_ms, RunnerReplyFunc reply, gpointer user_data);

/* Rewrite RUN/qemu/NAME/live.xml from dom->live (after its disk chains changed). */
gboolean domain_runner_save_live(HearthDaemon *daemon, HearthDomain *dom, GError **error);

/* At start: reconnect to every live worker in RUN/qemu, take over guests whose worker died,
 * and record the final state of those that ended while hearthd was down. */
void domain_runner_adopt_all(HearthDaemon *daemon);

/* At start, after adoption: start every autostart domain that is not running. */
void domain_runner_autostart(HearthDaemon *daemon);

/* CPU time QEMU has used, in nanoseconds (0 when not running). */
/* The running guest's QEMU process (0 when none). */
pid_t domain_runner_qemu_pid(HearthDomain *dom);
guint64 domain_runner_cpu_time(HearthDomain *dom);

/* Pseudo-terminal of a running domain's chardev (e.g. "serial0"), or NULL. */
const char *domain_runner_pty(HearthDomain *dom, const char *chardev);

G_END_DECLS
