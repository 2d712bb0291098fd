/* Helper programs (nft, dnsmasq, qemu-img): spawned with GLib's spawn API, their output read
 * from pipes, their exit reaped either by blocking (any thread) or by main-loop sources.
 *
 * GSubprocess would do the same, but it brings GIO and, through it, GObject, libmount,
 * libblkid, libselinux and libffi into the daemon: about 1 MiB of idle RSS for five callers. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
    CHILD_STDOUT_PIPE = 1 << 0,  /* otherwise /dev/null */
    CHILD_STDERR_PIPE = 1 << 1,  /* otherwise /dev/null */
    CHILD_STDERR_MERGE = 1 << 2, /* stderr into the stdout pipe (with CHILD_STDOUT_PIPE) */
} ChildFlags;

typedef struct ChildProcess ChildProcess;

/* A chunk of the child's stdout as it arrives (must not free the child). */
typedef void (*ChildOutputFunc)(ChildProcess *child, const char *data, gsize len,
                                gpointer user_data);
/* The child exited and its pipes reached their end; the callback may free the child. */
typedef void (*ChildExitFunc)(ChildProcess *child, gpointer user_data);

/* Starts argv (argv[0] looked up in PATH when it has no slash) with stdin from /dev/null and
 * no other descriptor inherited. envp NULL: the daemon's environment. */
ChildProcess *child_process_spawn(const char *const *argv, const char *const *envp,
                                  ChildFlags flags, GError **error);

/* Blocking, from any thread: reads the pipes to their end and reaps the child. The texts
 * (NUL-terminated, never NULL) are returned when asked for. FALSE only when reading failed. */
gboolean child_process_communicate(ChildProcess *child, char **out, char **err, GError **error);

/* Non-blocking, in the calling thread's default main context: stdout goes to on_output
 * (or is collected when on_output is NULL), stderr is collected, on_exit runs once. */
void child_process_watch(ChildProcess *child, ChildOutputFunc on_output, ChildExitFunc on_exit,
                         gpointer user_data);

/* After the exit: TRUE when the child exited with status 0. */
gboolean child_process_succeeded(const ChildProcess *child);
/* What was collected so far (empty when not piped or not collected). */
const char *child_process_stdout(const ChildProcess *child);
const char *child_process_stderr(const ChildProcess *child);
GPid child_process_pid(const ChildProcess *child);

/* SIGKILL, if the child still runs; its exit is reported as usual. */
void child_process_kill(ChildProcess *child);

/* A child that still runs is killed and reaped in the background. */
void child_process_free(ChildProcess *child);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(ChildProcess, child_process_free)

G_END_DECLS
