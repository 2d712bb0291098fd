/* dnsmasq is re-parented when it daemonizes, so we never waitpid() it: liveness is read from
 * /proc, exits are seen through a pidfd, and signals go through the pidfd so a PID reused
 * after the check can never be hit. */
#include "dnsmasq-process.h"
#include "child-process.h"
#include "hearth-error.h"

#include <errno.h>
#include <glib/gi18n-lib.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

guint64 dnsmasq_process_start_time(pid_t pid)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/stat", (int)pid);
    g_autofree char *text = NULL;
    g_auto(GStrv) fields = NULL;
    const char *p;

    if (pid <= 0 || !g_file_get_contents(path, &text, NULL, NULL))
        return 0;
    /* The command name may contain spaces and ')': fields start after the last ')'. */
    p = strrchr(text, ')');
    if (!p)
        return 0;
    fields = g_strsplit(p + 2, " ", 0);
    /* fields[0] is field 3 (state); start time is field 22. */
    if (g_strv_length(fields) < 20 || fields[0][0] == 'Z' || fields[0][0] == 'X')
        return 0;
    return g_ascii_strtoull(fields[19], NULL, 10);
}

static gboolean cmdline_has(pid_t pid, const char *arg)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/cmdline", (int)pid);
    g_autofree char *text = NULL;
    gsize len, off = 0;

    if (!g_file_get_contents(path, &text, &len, NULL))
        return FALSE;
    while (off < len) {
        if (strcmp(text + off, arg) == 0)
            return TRUE;
        off += strlen(text + off) + 1;
    }
    return FALSE;
}

gboolean dnsmasq_process_matches(const DnsmasqPid *p, const char *conf_file)
{
    g_autofree char *arg = g_strconcat("--conf-file=", conf_file, NULL);

    return p->pid > 0 && p->start_time && dnsmasq_process_start_time(p->pid) == p->start_time &&
           cmdline_has(p->pid, arg);
}

int dnsmasq_process_pidfd(const DnsmasqPid *p)
{
    int fd;

    if (p->pid <= 0)
        return -1;
    fd = (int)syscall(SYS_pidfd_open, p->pid, 0);
    if (fd < 0)
        return -1;
    /* Checked after opening: from here on the fd names this very process. */
    if (dnsmasq_process_start_time(p->pid) != p->start_time) {
        close(fd);
        return -1;
    }
    return fd;
}

static gboolean wait_exit(int pidfd, guint timeout_ms)
{
    struct pollfd pfd = {.fd = pidfd, .events = POLLIN};
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;

    for (;;) {
        gint64 left = (deadline - g_get_monotonic_time()) / 1000;
        int r = poll(&pfd, 1, (int)MAX(left, 0));

        if (r > 0)
            return TRUE;
        if (r == 0 || (r < 0 && errno != EINTR))
            return FALSE;
    }
}

int dnsmasq_process_terminate(const DnsmasqPid *p, const char *conf_file)
{
    int fd;

    if (!dnsmasq_process_matches(p, conf_file))
        return -1;
    fd = dnsmasq_process_pidfd(p);
    if (fd >= 0 && syscall(SYS_pidfd_send_signal, fd, SIGTERM, NULL, 0) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

void dnsmasq_process_finish(int pidfd, guint timeout_ms)
{
    if (pidfd < 0)
        return;
    if (!wait_exit(pidfd, timeout_ms)) {
        syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
        wait_exit(pidfd, 1000);
    }
    close(pidfd);
}

void dnsmasq_process_stop(const DnsmasqPid *p, const char *conf_file, guint timeout_ms)
{
    dnsmasq_process_finish(dnsmasq_process_terminate(p, conf_file), timeout_ms);
}

static pid_t read_pid_file(const char *path)
{
    g_autofree char *text = NULL;
    gint64 v;

    if (!g_file_get_contents(path, &text, NULL, NULL))
        return 0;
    v = g_ascii_strtoll(g_strstrip(text), NULL, 10);
    return v > 0 && v < G_MAXINT ? (pid_t)v : 0;
}

gboolean dnsmasq_process_start(const DnsmasqLaunch *l, DnsmasqPid *out, GError **error)
{
    g_autoptr(ChildProcess) proc = NULL;
    g_autoptr(GError) local = NULL;
    g_autofree char *conf_arg = g_strconcat("--conf-file=", l->conf_file, NULL);
    g_autofree char *script_arg = g_strconcat("--dhcp-script=", l->helper, NULL);
    g_autofree char *err_text = NULL;
    g_auto(GStrv) env = g_get_environ();
    DnsmasqPid p = {0};
    gint64 deadline;

    /* A pid file left by an earlier dnsmasq must not be mistaken for this one's. */
    unlink(l->pid_file);
    env = g_environ_setenv(env, "HEARTH_LEASES_FILE", l->leases_file, TRUE);
    env = g_environ_setenv(env, "VIR_BRIDGE_NAME", l->bridge, TRUE);
    proc = child_process_spawn(
        (const char *const[]){l->binary, conf_arg, "--leasefile-ro", script_arg, NULL},
        (const char *const *)env, CHILD_STDERR_PIPE, &local);
    if (!proc || !child_process_communicate(proc, NULL, &err_text, &local)) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_OPERATION_FAILED, _("cannot run %s: %s"),
                    l->binary, local->message);
        return FALSE;
    }
    if (!child_process_succeeded(proc)) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_OPERATION_FAILED,
                    _("dnsmasq failed to start on bridge '%s': %s"), l->bridge,
                    *g_strstrip(err_text) ? err_text : _("no message"));
        return FALSE;
    }
    /* The launcher exits once the daemon has written its pid file; allow a moment anyway. */
    deadline = g_get_monotonic_time() + G_USEC_PER_SEC;
    while ((p.pid = read_pid_file(l->pid_file)) == 0 && g_get_monotonic_time() < deadline)
        g_usleep(2000);
    p.start_time = dnsmasq_process_start_time(p.pid);
    if (!p.pid || !p.start_time) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_OPERATION_FAILED,
                    _("dnsmasq for bridge '%s' exited right after starting (pid file '%s')"),
                    l->bridge, l->pid_file);
        return FALSE;
    }
    *out = p;
    return TRUE;
}
