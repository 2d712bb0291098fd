#include "domain-runner.h"
#include "atomic-file.h"
#include "blockjob-chain.h"
#include "blockjob.h"
#include "disk-chain.h"
#include "domain-events.h"
#include "hearth-config.h"
#include "hearth-error.h"
#include "net-tap.h"
#include "network-driver.h"
#include "host-caps.h"
#include "host-stats.h"
#include "qemu-command.h"
#include "runtime-files.h"
#include "uuid-util.h"
#include "xml-extra.h"
#include "worker-client.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define START_TIMEOUT_MS 30000
#define REQUEST_TIMEOUT_MS 30000

struct DomainRuntime {
    HearthDaemon *daemon;
    HearthDomain *dom;
    char *dir;
    char *control_path;
    WorkerClient *wc;
    GPid worker_pid; /* when the worker is our child */
    guint child_watch;
    guint connect_timer;
    gint64 connect_deadline;
    guint connect_delay_ms;
    gboolean starting;
    gboolean start_paused;
    gboolean finished;
    gboolean unexpected_end; /* QEMU ended unasked (not a guest panic): STOPPED/FAILED */
    gint32 id;               /* assigned at start, published once the guest runs */
    RunnerDoneFunc start_done;
    gpointer start_data;
    GHashTable *ptys; /* chardev id → pty path */
    pid_t qemu_pid;
    int vnc_port;
};

static char *worker_binary;
static gint32 next_domain_id = 1;

static int state_from_name(const char *name)
{
    if (!name)
        return DOMAIN_STATE_NOSTATE;
    if (g_str_equal(name, "running") || g_str_equal(name, "starting"))
        return DOMAIN_STATE_RUNNING;
    if (g_str_equal(name, "paused"))
        return DOMAIN_STATE_PAUSED;
    if (g_str_equal(name, "shutdown"))
        return DOMAIN_STATE_SHUTDOWN;
    if (g_str_equal(name, "crashed"))
        return DOMAIN_STATE_CRASHED;
    if (g_str_equal(name, "shutoff"))
        return DOMAIN_STATE_SHUTOFF;
    return DOMAIN_STATE_NOSTATE;
}

static void find_worker_binary(void)
{
    g_autofree char *self = g_file_read_link("/proc/self/exe", NULL);
    g_autofree char *dir = self ? g_path_get_dirname(self) : NULL;
    const char *env = g_getenv("HEARTH_WORKER");
    g_autofree char *in_build = dir ? g_build_filename(dir, "worker", "hearth-worker", NULL) : NULL;

    if (env)
        worker_binary = g_strdup(env);
    else if (in_build && g_file_test(in_build, G_FILE_TEST_IS_EXECUTABLE))
        worker_binary = g_steal_pointer(&in_build);
    else
        worker_binary = g_build_filename(HEARTH_LIBEXEC_DIR, "hearth-worker", NULL);
}

void domain_runner_init(HearthDaemon *daemon)
{
    g_autofree char *qemu_run = g_build_filename(daemon->paths->run_dir, "qemu", NULL);
    g_autofree char *qemu_log = g_build_filename(daemon->paths->log_dir, "qemu", NULL);
    g_autofree char *nvram = g_build_filename(daemon->paths->state_dir, "qemu", "nvram", NULL);

    find_worker_binary();
    g_mkdir_with_parents(qemu_run, 0700);
    g_mkdir_with_parents(qemu_log, 0700);
    g_mkdir_with_parents(nvram, 0700);
}

/* ---- finishing ---- */

static int stop_detail_for_reason(int state, int reason, gboolean unexpected)
{
    /* libvirt 9.0: QEMU ending unasked is STOPPED/FAILED, a guest panic STOPPED/CRASHED; the
     * state is "shut off (crashed)" for both */
    if (unexpected)
        return 5; /* STOPPED_FAILED */
    if (state == DOMAIN_STATE_CRASHED || reason == REASON_SHUTOFF_CRASHED)
        return 2; /* STOPPED_CRASHED */
    switch (reason) {
    case REASON_SHUTOFF_SHUTDOWN:
        return 0;
    case REASON_SHUTOFF_DESTROYED:
        return 1;
    case REASON_SHUTOFF_FAILED:
        return 5;
    default:
        return 1;
    }
}

static void runtime_free(DomainRuntime *rt)
{
    if (rt->connect_timer)
        g_source_remove(rt->connect_timer);
    if (rt->child_watch)
        g_source_remove(rt->child_watch);
    worker_client_free(rt->wc);
    g_clear_pointer(&rt->ptys, g_hash_table_unref);
    g_free(rt->dir);
    g_free(rt->control_path);
    g_free(rt);
}

static void remove_runtime_dir(const char *dir)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *name;

    while (d && (name = g_dir_read_name(d))) {
        g_autofree char *path = g_build_filename(dir, name, NULL);
        g_unlink(path);
    }
    g_rmdir(dir);
}

/* The guest is gone: record it, tell everyone, forget the worker. */
static void runtime_finish(DomainRuntime *rt, int state, int reason, gboolean emit)
{
    HearthDaemon *daemon = rt->daemon;
    HearthDomain *dom = rt->dom;
    int detail = stop_detail_for_reason(state, reason, rt->unexpected_end);

    if (rt->finished)
        return;
    rt->finished = TRUE;
    g_info("domain '%s' stopped (state %d, reason %d)", dom->def->name, state, reason);
    /* libvirt reports a guest that crashed as shut off, reason crashed. */
    dom->state = DOMAIN_STATE_SHUTOFF;
    dom->reason = reason;
    if (emit && dom->id >= 0)
        domain_events_lifecycle(daemon, dom, DOMAIN_EVENT_STOPPED, detail);
    domain_store_set_id(daemon->domains, dom, -1);
    blockjob_on_domain_stopped(daemon, dom);
    g_clear_pointer(&dom->live, domain_def_free);
    dom->updated = FALSE;
    dom->runtime = NULL;
    remove_runtime_dir(rt->dir);
    runtime_free(rt);
    if (!dom->persistent)
        domain_store_remove(daemon->domains, dom);
}

static void start_complete(DomainRuntime *rt, const GError *error)
{
    RunnerDoneFunc done = rt->start_done;
    gpointer data = rt->start_data;

    rt->starting = FALSE;
    rt->start_done = NULL;
    if (done)
        done(error, data);
}

/* ---- events from the worker ---- */

static gboolean chr_has_attr(const HearthDomainChr *chr, const char *name)
{
    for (guint i = 0; chr->extra.attrs && i < chr->extra.attrs->len; i++) {
        const HearthXmlAttr *a = chr->extra.attrs->pdata[i];
        if (g_str_equal(a->name, name))
            return TRUE;
    }
    return FALSE;
}

static void fill_live_ptys(DomainRuntime *rt)
{
    HearthDomainDef *live = rt->dom->live;

    if (!live || !rt->ptys)
        return;
    for (guint i = 0; live->devices && i < live->devices->len; i++) {
        HearthDomainDevice *dev = live->devices->pdata[i];
        HearthDomainChr *chr;
        const char *path;
        g_autofree char *id = NULL;

        if (dev->kind != HEARTH_DEVICE_CHR)
            continue;
        chr = dev->u.chr;
        if (!chr->type || !g_str_equal(chr->type, "pty"))
            continue;
        /* Serial ports, and a console that mirrors serial0, use chardev charserialN. */
        id = g_strdup_printf("charserial%d", chr->target_port >= 0 ? chr->target_port : 0);
        path = g_hash_table_lookup(rt->ptys, id);
        if (path) {
            g_free(chr->source_path);
            chr->source_path = g_strdup(path);
            chr->has_source = TRUE;
            /* libvirt also names a pty console's device in a tty attribute. */
            if (chr->kind == HEARTH_CHR_CONSOLE && !chr_has_attr(chr, "tty"))
                xml_extra_add_attr(&chr->extra, "tty", path);
        }
    }
}

static void set_ptys_from(DomainRuntime *rt, GHashTable *kv)
{
    GHashTableIter it;
    gpointer k, v;

    g_clear_pointer(&rt->ptys, g_hash_table_unref);
    rt->ptys = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    if (g_hash_table_lookup(kv, "qemu_pid"))
        rt->qemu_pid = (pid_t)atoi(g_hash_table_lookup(kv, "qemu_pid"));
    g_hash_table_iter_init(&it, kv);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        if (g_str_has_prefix(k, "pty."))
            g_hash_table_insert(rt->ptys, g_strdup((char *)k + 4), g_strdup(v));
    }
    fill_live_ptys(rt);
}

static void apply_state(DomainRuntime *rt, int state, int reason, gboolean emit)
{
    HearthDomain *dom = rt->dom;
    int old = dom->state;

    if (state == DOMAIN_STATE_NOSTATE)
        return;
    dom->state = state;
    dom->reason = reason;
    if (!emit || old == state || dom->id < 0)
        return;
    if (state == DOMAIN_STATE_PAUSED)
        domain_events_lifecycle(rt->daemon, dom, DOMAIN_EVENT_SUSPENDED, 0);
    else if (state == DOMAIN_STATE_RUNNING && old == DOMAIN_STATE_PAUSED)
        domain_events_lifecycle(rt->daemon, dom, DOMAIN_EVENT_RESUMED, 0);
}

static void runtime_handle_worker_gone(DomainRuntime *rt);

static void on_orphan_exit(GPid pid, gint status, gpointer data)
{
    g_spawn_close_pid(pid);
}

/* hearthd is a child subreaper: a QEMU whose worker was killed becomes our child. Reap it
 * when it ends, so no zombie waits for a slow PID 1. */
static void reap_if_our_child(pid_t pid)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/stat", (int)pid);
    g_autofree char *data = NULL;
    const char *p;
    int ppid = 0;

    if (pid <= 0 || !g_file_get_contents(path, &data, NULL, NULL) || !(p = strrchr(data, ')')))
        return;
    if (sscanf(p + 2, "%*c %d", &ppid) == 1 && ppid == (int)getpid())
        g_child_watch_add(pid, on_orphan_exit, NULL);
}

static void start_announce(DomainRuntime *rt)
{
    HearthDomain *dom = rt->dom;

    domain_events_lifecycle(rt->daemon, dom, DOMAIN_EVENT_STARTED, 0);
    if (dom->state == DOMAIN_STATE_PAUSED)
        domain_events_lifecycle(rt->daemon, dom, DOMAIN_EVENT_SUSPENDED, 0);
    start_complete(rt, NULL);
}

static const char *vnc_password(const HearthDomainDef *def)
{
    for (guint i = 0; def && def->devices && i < def->devices->len; i++) {
        HearthDomainDevice *dev = def->devices->pdata[i];
        if (dev->kind == HEARTH_DEVICE_GRAPHICS && dev->u.graphics->type &&
            g_str_equal(dev->u.graphics->type, "vnc") && dev->u.graphics->passwd)
            return dev->u.graphics->passwd;
    }
    return NULL;
}

static void on_start_password(WorkerClient *wc, json_t *result, const GError *error, gpointer data)
{
    DomainRuntime *rt = data;
    g_autoptr(GError) failed = NULL;

    (void)result;
    if (!rt->starting)
        return;
    if (!error) {
        start_announce(rt);
        return;
    }
    /* As libvirt: a guest whose console password cannot be set does not run. */
    failed = g_error_new(HEARTH_ERROR, HEARTH_ERR_OPERATION_FAILED,
                         _("cannot set the VNC password of domain '%s': %s"), rt->dom->def->name,
                         error->message);
    g_warning("%s", failed->message);
    worker_client_request(wc, "destroy", NULL, REQUEST_TIMEOUT_MS, NULL, NULL);
    start_complete(rt, failed);
}

static void on_status_for_start(WorkerClient *wc, json_t *result, const GError *error,
                                gpointer data)
{
    DomainRuntime *rt = data;
    HearthDomain *dom = rt->dom;
    g_autoptr(GHashTable) kv = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    const char *key;
    json_t *value;

    if (error) {
        g_warning("domain '%s': cannot read worker status: %s", dom->def->name, error->message);
    } else {
        json_object_foreach(result, key, value)
        {
            if (json_is_string(value))
                g_hash_table_insert(kv, g_strdup(key), g_strdup(json_string_value(value)));
        }
        set_ptys_from(rt, kv);
    }
    if (rt->starting) {
        const char *password = vnc_password(dom->live);

        /* -vnc ...,password=on refuses every client until QEMU has the password. */
        if (password)
            worker_client_request(wc, "qmp",
                                  json_pack("{s:s, s:{s:s, s:s}}", "execute", "set_password",
                                            "arguments", "protocol", "vnc", "password", password),
                                  REQUEST_TIMEOUT_MS, on_start_password, rt);
        else
            start_announce(rt);
    }
    blockjob_on_worker_ready(rt->daemon, dom);
}

static void on_worker_event(WorkerClient *wc, json_t *event, gpointer data)
{
    DomainRuntime *rt = data;
    const char *name;

    if (!event) {
        runtime_handle_worker_gone(rt);
        return;
    }
    name = json_string_value(json_object_get(event, "event"));
    if (!name)
        return;
    if (g_str_equal(name, "job")) {
        blockjob_on_worker_event(rt->daemon, rt->dom, event);
        return;
    }
    if (g_str_equal(name, "greeting") || g_str_equal(name, "state")) {
        int state = state_from_name(json_string_value(json_object_get(event, "state")));
        int reason = (int)json_integer_value(json_object_get(event, "reason"));

        /* Only shutoff is final: "crashed" means QEMU is kept (on_crash=preserve). */
        if (state == DOMAIN_STATE_SHUTOFF) {
            runtime_finish(rt, state, reason, TRUE);
            return;
        }
        apply_state(rt, state, reason, !g_str_equal(name, "greeting"));
        if (g_str_equal(name, "greeting")) {
            if (rt->dom->id < 0)
                domain_store_set_id(rt->daemon->domains, rt->dom, rt->id);
            worker_client_request(wc, "status", NULL, REQUEST_TIMEOUT_MS, on_status_for_start, rt);
        }
    } else if (g_str_equal(name, "exited")) {
        int state = state_from_name(json_string_value(json_object_get(event, "state")));
        int reason = (int)json_integer_value(json_object_get(event, "reason"));

        rt->unexpected_end = json_is_true(json_object_get(event, "unexpected"));
        runtime_finish(rt, state == DOMAIN_STATE_NOSTATE ? DOMAIN_STATE_SHUTOFF : state, reason,
                       TRUE);
    }
}

/* ---- connecting to a worker ---- */

static gboolean try_connect(gpointer data)
{
    DomainRuntime *rt = data;
    g_autoptr(GError) error = NULL;

    rt->wc = worker_client_connect(rt->control_path, on_worker_event, rt, &error);
    if (rt->wc) {
        rt->connect_timer = 0;
        return G_SOURCE_REMOVE;
    }
    if (g_get_monotonic_time() > rt->connect_deadline) {
        g_autoptr(GError) timeout =
            g_error_new(HEARTH_ERROR, HEARTH_ERR_OPERATION_TIMEOUT,
                        _("timed out waiting for domain '%s' to start"), rt->dom->def->name);
        rt->connect_timer = 0;
        if (rt->worker_pid > 0)
            kill(rt->worker_pid, SIGKILL); /* the child watch finishes the cleanup */
        start_complete(rt, timeout);
        return G_SOURCE_REMOVE;
    }
    /* Back off gently: QEMU takes tens of milliseconds to come up. */
    rt->connect_delay_ms = MIN(rt->connect_delay_ms * 2, 20);
    rt->connect_timer = g_timeout_add(rt->connect_delay_ms, try_connect, rt);
    return G_SOURCE_REMOVE;
}

/* Connect to a worker that is starting (its control socket appears once QEMU runs). */
static void begin_connect(DomainRuntime *rt)
{
    rt->connect_deadline = g_get_monotonic_time() + START_TIMEOUT_MS * 1000;
    rt->connect_delay_ms = 1;
    try_connect(rt);
}

static char *status_error(DomainRuntime *rt)
{
    g_autofree char *status = g_build_filename(rt->dir, "status", NULL);
    g_autoptr(GHashTable) kv = runtime_kv_read(status, NULL);
    const char *msg = kv ? g_hash_table_lookup(kv, "error") : NULL;

    return g_strdup(msg);
}

static void on_worker_exit(GPid pid, gint wait_status, gpointer data)
{
    DomainRuntime *rt = data;

    g_spawn_close_pid(pid);
    rt->child_watch = 0;
    rt->worker_pid = 0;
    if (rt->starting) {
        g_autofree char *msg = status_error(rt);
        g_autoptr(GError) error = g_error_new(
            HEARTH_ERROR, HEARTH_ERR_INTERNAL, _("process exited while starting domain '%s': %s"),
            rt->dom->def->name, msg ? msg : _("the worker failed without a message"));
        HearthDomain *dom = rt->dom;

        g_warning("%s", error->message);
        start_complete(rt, error);
        if (dom->runtime == rt)
            runtime_finish(rt, DOMAIN_STATE_SHUTOFF, REASON_SHUTOFF_FAILED, dom->id >= 0);
        return;
    }
    if (!worker_client_is_connected(rt->wc))
        runtime_handle_worker_gone(rt);
}

/* ---- spawning ---- */

/* The tap fds a starting guest's QEMU inherits: our fd → the number QEMU sees. */
typedef struct {
    GArray *source; /* int */
    GArray *target; /* int */
} InheritedFds;

static void inherited_fds_clear(InheritedFds *fds)
{
    for (guint i = 0; fds->source && i < fds->source->len; i++)
        close(g_array_index(fds->source, int, i));
    g_clear_pointer(&fds->source, g_array_unref);
    g_clear_pointer(&fds->target, g_array_unref);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(InheritedFds, inherited_fds_clear)

/* Numbers well above anything the worker opens before it starts QEMU. */
#define TAP_FD_BASE 100

static gboolean spawn_worker_with_fds(DomainRuntime *rt, gboolean adopt, InheritedFds *fds,
                                      GError **error);

static gboolean spawn_worker(DomainRuntime *rt, gboolean adopt, GError **error)
{
    return spawn_worker_with_fds(rt, adopt, NULL, error);
}

static gboolean spawn_worker_with_fds(DomainRuntime *rt, gboolean adopt, InheritedFds *fds,
                                      GError **error)
{
    g_autofree char *log_path = NULL;
    g_autofree char *base = g_strconcat(rt->dom->def->name, ".log", NULL);
    const char *argv[] = {worker_binary, "--dir", rt->dir, adopt ? "--adopt" : NULL, NULL};
    int log_fd;
    gboolean ok;

    log_path = g_build_filename(rt->daemon->paths->log_dir, "qemu", base, NULL);
    log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (log_fd < 0) {
        hearth_error_set_errno(error, errno, "cannot open '%s'", log_path);
        return FALSE;
    }
    ok = g_spawn_async_with_pipes_and_fds(
        NULL, argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, -1, log_fd, log_fd,
        fds && fds->source ? (const gint *)fds->source->data : NULL,
        fds && fds->target ? (const gint *)fds->target->data : NULL,
        fds && fds->source ? fds->source->len : 0, &rt->worker_pid, NULL, NULL, NULL, error);
    close(log_fd);
    if (!ok)
        return FALSE;
    rt->child_watch = g_child_watch_add(rt->worker_pid, on_worker_exit, rt);
    return TRUE;
}

static DomainRuntime *runtime_new(HearthDaemon *daemon, HearthDomain *dom)
{
    DomainRuntime *rt = g_new0(DomainRuntime, 1);

    rt->daemon = daemon;
    rt->dom = dom;
    rt->dir = g_build_filename(daemon->paths->run_dir, "qemu", dom->def->name, NULL);
    rt->control_path = g_build_filename(rt->dir, "control.sock", NULL);
    rt->vnc_port = -1;
    return rt;
}

/* A free TCP port for autoport VNC, as libvirt picks one (5900 upwards). */
static int pick_vnc_port(void)
{
    for (int port = 5900; port < 65536; port++) {
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((guint16)port)};
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int ok;

        if (fd < 0)
            return -1;
        sa.sin_addr.s_addr = htonl(INADDR_ANY);
        ok = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
        close(fd);
        if (ok)
            return port;
    }
    return -1;
}

static gboolean needs_autoport(const HearthDomainDef *def)
{
    for (guint i = 0; def->devices && i < def->devices->len; i++) {
        HearthDomainDevice *dev = def->devices->pdata[i];
        if (dev->kind == HEARTH_DEVICE_GRAPHICS && dev->u.graphics->type &&
            g_str_equal(dev->u.graphics->type, "vnc") && dev->u.graphics->port == -1)
            return TRUE;
    }
    return FALSE;
}

static void set_live_vnc_port(HearthDomainDef *live, int port)
{
    for (guint i = 0; live->devices && i < live->devices->len; i++) {
        HearthDomainDevice *dev = live->devices->pdata[i];
        if (dev->kind == HEARTH_DEVICE_GRAPHICS && dev->u.graphics->type &&
            g_str_equal(dev->u.graphics->type, "vnc") && dev->u.graphics->port == -1) {
            dev->u.graphics->port = port;
            return;
        }
    }
}

static gboolean write_argv(const char *dir, GStrv argv, GError **error)
{
    g_autoptr(GString) s = g_string_new(NULL);
    g_autofree char *path = g_build_filename(dir, "qemu.argv", NULL);

    for (guint i = 0; argv[i]; i++)
        g_string_append_len(s, argv[i], (gssize)strlen(argv[i]) + 1);
    return atomic_file_write(path, s->str, s->len, 0600, error);
}

/* hearthd.conf's qemu_user/qemu_group as "UID:GID:G1,G2,..." for the worker, which is
 * static and does no name lookups. NULL (no change) when QEMU keeps hearthd's ids. */
static char *resolve_qemu_ids(const DaemonConfig *cfg, GError **error)
{
    struct passwd *pw = NULL;
    struct group *gr = NULL;
    gid_t groups[64];
    int ngroups = G_N_ELEMENTS(groups);
    GString *ids;
    gid_t gid;

    if (geteuid() != 0)
        return NULL;
    if (cfg->qemu_user && !(pw = getpwnam(cfg->qemu_user))) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_CONFIG_UNSUPPORTED,
                    _("hearthd.conf: unknown qemu_user '%s'"), cfg->qemu_user);
        return NULL;
    }
    if (cfg->qemu_group && !(gr = getgrnam(cfg->qemu_group))) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_CONFIG_UNSUPPORTED,
                    _("hearthd.conf: unknown qemu_group '%s'"), cfg->qemu_group);
        return NULL;
    }
    if ((!pw || pw->pw_uid == 0) && (!gr || gr->gr_gid == 0))
        return NULL;
    gid = gr ? gr->gr_gid : pw ? pw->pw_gid : 0;
    ids = g_string_new(NULL);
    g_string_append_printf(ids, "%u:%u:", pw ? (unsigned)pw->pw_uid : 0u, (unsigned)gid);
    if (pw && getgrouplist(pw->pw_name, gid, groups, &ngroups) >= 0) {
        for (int i = 0; i < ngroups; i++)
            g_string_append_printf(ids, "%s%u", i ? "," : "", (unsigned)groups[i]);
    } else {
        g_string_append_printf(ids, "%u", (unsigned)gid);
    }
    return g_string_free(ids, FALSE);
}

static gboolean prepare_runtime_dir(DomainRuntime *rt, HearthDomainDef *live, GStrv argv,
                                    gboolean paused, GError **error)
{
    HearthDaemon *daemon = rt->daemon;
    g_autofree char *conf_path = g_build_filename(rt->dir, "worker.conf", NULL);
    g_autofree char *xml_path = g_build_filename(rt->dir, "live.xml", NULL);
    g_autofree char *base = g_strconcat(live->name, ".log", NULL);
    g_autofree char *qemu_log = g_build_filename(daemon->paths->log_dir, "qemu", base, NULL);
    g_autofree char *xml = NULL;
    g_autoptr(GString) conf = g_string_new(NULL);
    char uuid[HEARTH_UUID_STRING_LEN];

    remove_runtime_dir(rt->dir);
    if (!hearth_mkdir_p(rt->dir, 0700, error) || !write_argv(rt->dir, argv, error))
        return FALSE;
    hearth_uuid_format(live->uuid, uuid);
    g_string_append_printf(conf, "name=%s\nuuid=%s\non_poweroff=%s\non_reboot=%s\non_crash=%s\n",
                           live->name, uuid, live->on_poweroff ? live->on_poweroff : "destroy",
                           live->on_reboot ? live->on_reboot : "restart",
                           live->on_crash ? live->on_crash : "destroy");
    g_string_append_printf(conf, "start_paused=%d\nqemu_log=%s\n", paused ? 1 : 0, qemu_log);
    {
        g_autoptr(GError) local = NULL;
        g_autofree char *ids = resolve_qemu_ids(daemon->config, &local);
        if (local) {
            g_propagate_error(error, g_steal_pointer(&local));
            return FALSE;
        }
        if (ids)
            g_string_append_printf(conf, "qemu_ids=%s\n", ids);
    }
    g_string_append_printf(conf, "persistent=%d\nid=%d\n", rt->dom->persistent ? 1 : 0, rt->id);
    /* The worker gives up (and cleans up its QEMU) before we stop waiting for it. */
    g_string_append_printf(conf, "start_timeout_ms=%d\n", START_TIMEOUT_MS - 5000);
    if (!atomic_file_write(conf_path, conf->str, conf->len, 0600, error))
        return FALSE;
    xml = domain_def_format(live, DOMAIN_DEF_FORMAT_SECURE);
    return atomic_file_write(xml_path, xml, strlen(xml), 0600, error);
}

static gboolean copy_nvram_template(const char *template, const char *dest, GError **error)
{
    g_autofree char *data = NULL;
    gsize len;

    if (g_file_test(dest, G_FILE_TEST_EXISTS))
        return TRUE;
    if (!g_file_get_contents(template, &data, &len, error))
        return FALSE;
    return atomic_file_write(dest, data, len, 0600, error);
}

/* A tap on the right bridge for every network/bridge interface; the live definition gets
 * the tap's name, as libvirt's live XML shows <target dev='vnetN'/>. */
static gboolean create_taps(HearthDaemon *daemon, HearthDomainDef *live, GHashTable *net_fds,
                            InheritedFds *fds, GError **error)
{
    int ordinal = -1;

    for (guint i = 0; live->devices && i < live->devices->len; i++) {
        HearthDomainDevice *dev = live->devices->pdata[i];
        HearthDomainInterface *net;
        g_autofree char *bridge = NULL;
        g_autofree char *ifname = NULL;
        int mtu = 0, fd, target;

        if (dev->kind != HEARTH_DEVICE_INTERFACE)
            continue;
        ordinal++;
        net = dev->u.net;
        if (net->type == HEARTH_NET_TYPE_NETWORK) {
            if (!network_driver_port_bridge(daemon->networks, net->source_network, &bridge, &mtu,
                                            error))
                return FALSE;
        } else if (net->type == HEARTH_NET_TYPE_BRIDGE) {
            if (!net->source_bridge) {
                g_set_error(error, HEARTH_ERROR, HEARTH_ERR_XML_ERROR,
                            _("interface %s of type 'bridge' has no source bridge"),
                            net->mac ? net->mac : "");
                return FALSE;
            }
            bridge = g_strdup(net->source_bridge);
        } else {
            continue; /* user networking needs no tap; others are refused by the generator */
        }
        fd = net_tap_create(bridge, net->mac, mtu, &ifname, error);
        if (fd < 0)
            return FALSE;
        target = TAP_FD_BASE + (int)fds->source->len;
        g_array_append_val(fds->source, fd);
        g_array_append_val(fds->target, target);
        g_hash_table_insert(net_fds, GINT_TO_POINTER(ordinal), GINT_TO_POINTER(target));
        g_free(net->target_dev);
        net->target_dev = g_steal_pointer(&ifname);
        g_free(net->source_bridge);
        net->source_bridge = g_strdup(bridge);
    }
    return TRUE;
}

void domain_runner_start(HearthDaemon *daemon, HearthDomain *dom, gboolean paused,
                         RunnerDoneFunc done, gpointer user_data)
{
    domain_runner_start_with_def(daemon, dom, NULL, paused, done, user_data);
}

void domain_runner_start_with_def(HearthDaemon *daemon, HearthDomain *dom, HearthDomainDef *def,
                                  gboolean paused, RunnerDoneFunc done, gpointer user_data)
{
    g_autoptr(HearthDomainDef) override = def;
    g_autoptr(GHashTable) net_fds = g_hash_table_new(g_direct_hash, g_direct_equal);
    g_auto(InheritedFds)
        fds = {g_array_new(FALSE, FALSE, sizeof(int)), g_array_new(FALSE, FALSE, sizeof(int))};
    g_autoptr(GError) error = NULL;
    g_autoptr(HearthDomainDef) live = NULL;
    g_auto(GStrv) argv = NULL;
    g_autofree char *nvram = NULL;
    QemuCommandOptions opts = {0};
    DomainRuntime *rt;

    if (dom->runtime || hearth_domain_is_active(dom)) {
        g_set_error(&error, HEARTH_ERROR, HEARTH_ERR_OPERATION_INVALID,
                    _("domain is already running"));
        done(error, user_data);
        return;
    }
    if (blockjob_any(dom)) {
        g_set_error(&error, HEARTH_ERROR, HEARTH_ERR_OPERATION_INVALID,
                    _("a block job is working on the domain's images; wait for it or abort it"));
        done(error, user_data);
        return;
    }
    live = override ? g_steal_pointer(&override) : domain_def_copy(dom->def);
    if (!disk_chain_fill(live, &error))
        goto fail;
    blockjob_chain_number(live);
    opts.emulator = live->emulator ? live->emulator
                                   : host_qemu_binary(live->os.arch ? live->os.arch : "x86_64");
    if (!opts.emulator) {
        g_set_error(&error, HEARTH_ERROR, HEARTH_ERR_CONFIG_UNSUPPORTED,
                    _("no QEMU emulator found for architecture '%s'"),
                    live->os.arch ? live->os.arch : "x86_64");
        goto fail;
    }
    if (!g_file_test(opts.emulator, G_FILE_TEST_IS_EXECUTABLE)) {
        g_set_error(&error, HEARTH_ERROR, HEARTH_ERR_CONFIG_UNSUPPORTED,
                    _("emulator '%s' does not exist or is not executable"), opts.emulator);
        goto fail;
    }
    rt = runtime_new(daemon, dom);
    rt->id = next_domain_id++;
    opts.runtime_dir = rt->dir;
    opts.kvm_available = host_kvm_usable();
    opts.vnc_port = -1;
    if (needs_autoport(live)) {
        opts.vnc_port = pick_vnc_port();
        set_live_vnc_port(live, opts.vnc_port);
    }
    if (qemu_domain_wants_nvram(live)) {
        g_autofree char *file = g_strconcat(live->name, "_VARS.fd", NULL);
        nvram = g_build_filename(daemon->paths->state_dir, "qemu", "nvram", file, NULL);
        if (!copy_nvram_template(qemu_nvram_template(live), nvram, &error)) {
            runtime_free(rt);
            goto fail;
        }
        opts.nvram_path = nvram;
    }
    opts.net_fds = net_fds;
    if (!create_taps(daemon, live, net_fds, &fds, &error)) {
        runtime_free(rt);
        goto fail;
    }
    argv = qemu_command_build(live, &opts, &error);
    if (!argv || !prepare_runtime_dir(rt, live, argv, paused, &error) ||
        !spawn_worker_with_fds(rt, FALSE, &fds, &error)) {
        remove_runtime_dir(rt->dir);
        runtime_free(rt);
        goto fail;
    }
    g_info("starting domain '%s' (worker pid %d)", live->name, (int)rt->worker_pid);
    rt->starting = TRUE;
    rt->start_paused = paused;
    rt->start_done = done;
    rt->start_data = user_data;
    dom->runtime = rt;
    dom->live = g_steal_pointer(&live);
    begin_connect(rt);
    return;

fail:
    /* as libvirt: a start that failed leaves "shut off (failed)" */
    dom->reason = REASON_SHUTOFF_FAILED;
    done(error, user_data);
}

/* ---- requests ---- */

typedef struct {
    DomainRuntime *rt;
    char *cmd;
    RunnerDoneFunc done;
    RunnerReplyFunc reply; /* instead of done, when the caller wants the result */
    gpointer user_data;
} RequestCtx;

static void on_request_reply(WorkerClient *wc, json_t *result, const GError *error, gpointer data)
{
    RequestCtx *ctx = data;
    DomainRuntime *rt = ctx->rt;

    /* The worker may report the guest gone (and be let go) before its destroy reply
     * arrives: the guest is gone either way, which is what destroy asked for. rt is still
     * allocated here: pending replies are settled before the runtime is freed. */
    if (g_str_equal(ctx->cmd, "destroy") && rt->finished)
        error = NULL;
    else if (!error && g_str_equal(ctx->cmd, "destroy") && rt->dom->runtime == rt)
        runtime_finish(rt, DOMAIN_STATE_SHUTOFF, REASON_SHUTOFF_DESTROYED, TRUE);
    else if (!error && g_str_equal(ctx->cmd, "stop"))
        apply_state(rt, DOMAIN_STATE_PAUSED, REASON_PAUSED_USER, TRUE);
    else if (!error && g_str_equal(ctx->cmd, "cont"))
        apply_state(rt, DOMAIN_STATE_RUNNING, REASON_RUNNING_UNPAUSED, TRUE);
    if (ctx->reply)
        ctx->reply(error ? NULL : result, error, ctx->user_data);
    else
        ctx->done(error, ctx->user_data);
    g_free(ctx->cmd);
    g_free(ctx);
}

/* One command to the domain's worker; exactly one of @done and @reply gets the outcome. */
static void submit(HearthDomain *dom, const char *cmd, json_t *args, guint timeout_ms,
                   RunnerDoneFunc done, RunnerReplyFunc reply, gpointer user_data)
{
    DomainRuntime *rt = dom->runtime;
    RequestCtx *ctx;

    if (!rt || rt->starting || !rt->wc) {
        g_autoptr(GError) error =
            g_error_new(HEARTH_ERROR, HEARTH_ERR_OPERATION_INVALID,
                        rt ? _("domain is still starting") : _("domain is not running"));
        json_decref(args);
        if (reply)
            reply(NULL, error, user_data);
        else
            done(error, user_data);
        return;
    }
    ctx = g_new0(RequestCtx, 1);
    ctx->rt = rt;
    ctx->cmd = g_strdup(cmd);
    ctx->done = done;
    ctx->reply = reply;
    ctx->user_data = user_data;
    worker_client_request(rt->wc, cmd, args, timeout_ms ? timeout_ms : REQUEST_TIMEOUT_MS,
                          on_request_reply, ctx);
}

void domain_runner_request(HearthDaemon *daemon, HearthDomain *dom, const char *cmd, json_t *args,
                           RunnerDoneFunc done, gpointer user_data)
{
    (void)daemon;
    submit(dom, cmd, args, 0, done, NULL, user_data);
}

void domain_runner_query(HearthDaemon *daemon, HearthDomain *dom, const char *cmd, json_t *args,
                         guint timeout_ms, RunnerReplyFunc reply, gpointer user_data)
{
    (void)daemon;
    submit(dom, cmd, args, timeout_ms, NULL, reply, user_data);
}

gboolean domain_runner_save_live(HearthDaemon *daemon, HearthDomain *dom, GError **error)
{
    g_autofree char *path = NULL;
    g_autofree char *xml = NULL;

    if (!dom->runtime || !dom->live)
        return TRUE;
    path = g_build_filename(dom->runtime->dir, "live.xml", NULL);
    xml = domain_def_format(dom->live, DOMAIN_DEF_FORMAT_SECURE);
    /* Runtime state (RUN is a tmpfs): replaced atomically, no need to survive a power cut. */
    return g_file_set_contents_full(path, xml, (gssize)strlen(xml), G_FILE_SET_CONTENTS_CONSISTENT,
                                    0600, error);
}

pid_t domain_runner_qemu_pid(HearthDomain *dom)
{
    return dom->runtime ? dom->runtime->qemu_pid : 0;
}

guint64 domain_runner_cpu_time(HearthDomain *dom)
{
    g_autofree char *path = NULL;
    guint64 ns = 0;

    if (!dom->runtime || dom->runtime->qemu_pid <= 0)
        return 0;
    path = g_strdup_printf("/proc/%d/stat", (int)dom->runtime->qemu_pid);
    host_proc_cpu_time(path, &ns, NULL);
    return ns;
}

const char *domain_runner_pty(HearthDomain *dom, const char *chardev)
{
    if (!dom->runtime || !dom->runtime->ptys)
        return NULL;
    return g_hash_table_lookup(dom->runtime->ptys, chardev);
}

/* ---- losing and adopting workers ---- */

/* The control connection ended without an "exited" message: decide from the status file and
 * the processes whether the guest ended, or lives on without a worker. */
static void runtime_handle_worker_gone(DomainRuntime *rt)
{
    g_autofree char *status_path = g_build_filename(rt->dir, "status", NULL);
    g_autoptr(GHashTable) kv = runtime_kv_read(status_path, NULL);
    int state = kv ? state_from_name(g_hash_table_lookup(kv, "state")) : DOMAIN_STATE_NOSTATE;
    const char *reason = kv ? g_hash_table_lookup(kv, "reason") : NULL;

    if (rt->finished || rt->starting)
        return;
    worker_client_free(rt->wc);
    rt->wc = NULL;
    if (state == DOMAIN_STATE_SHUTOFF) {
        runtime_finish(rt, state, reason ? atoi(reason) : REASON_SHUTOFF_UNKNOWN, TRUE);
        return;
    }
    if (kv && runtime_process_alive(kv, "qemu_pid", "qemu_start")) {
        g_autoptr(GError) error = NULL;

        if (runtime_process_alive(kv, "worker_pid", "worker_start")) {
            /* The worker lives but dropped us: reconnect. */
            rt->wc = worker_client_connect(rt->control_path, on_worker_event, rt, &error);
            if (rt->wc)
                return;
        }
        g_warning("domain '%s': worker lost while QEMU runs; starting a new worker to adopt it",
                  rt->dom->def->name);
        reap_if_our_child((pid_t)atoi(g_hash_table_lookup(kv, "qemu_pid")));
        if (rt->child_watch) {
            g_source_remove(rt->child_watch);
            rt->child_watch = 0;
        }
        if (spawn_worker(rt, TRUE, &error)) {
            begin_connect(rt);
            return;
        }
        g_warning("domain '%s': cannot adopt QEMU: %s", rt->dom->def->name, error->message);
    }
    rt->unexpected_end = TRUE;
    runtime_finish(rt, DOMAIN_STATE_SHUTOFF, REASON_SHUTOFF_CRASHED, TRUE);
}

static HearthDomain *domain_for_runtime_dir(HearthDaemon *daemon, const char *dir, GHashTable *conf)
{
    guint8 uuid[16];
    const char *uuidstr = g_hash_table_lookup(conf, "uuid");
    HearthDomain *dom = NULL;
    g_autofree char *xml_path = g_build_filename(dir, "live.xml", NULL);
    g_autofree char *xml = NULL;
    gsize len;
    g_autoptr(GError) error = NULL;
    HearthDomainDef *live;

    if (uuidstr && hearth_uuid_parse(uuidstr, uuid))
        dom = domain_store_lookup_by_uuid(daemon->domains, uuid);
    if (!g_file_get_contents(xml_path, &xml, &len, &error) ||
        !(live = domain_def_parse(xml, len, 0, &error))) {
        g_warning("cannot read live definition in %s: %s", dir, error->message);
        return dom;
    }
    if (!dom) {
        dom = domain_store_add_transient(daemon->domains, domain_def_copy(live), &error);
        if (!dom) {
            g_warning("cannot re-create transient domain from %s: %s", dir, error->message);
            domain_def_free(live);
            return NULL;
        }
    }
    domain_def_free(dom->live);
    dom->live = live;
    return dom;
}

static void adopt_one(HearthDaemon *daemon, const char *dir)
{
    g_autofree char *conf_path = g_build_filename(dir, "worker.conf", NULL);
    g_autofree char *status_path = g_build_filename(dir, "status", NULL);
    g_autoptr(GHashTable) conf = runtime_kv_read(conf_path, NULL);
    g_autoptr(GHashTable) status = runtime_kv_read(status_path, NULL);
    g_autoptr(GError) error = NULL;
    HearthDomain *dom;
    DomainRuntime *rt;
    const char *id;
    int state;

    if (!conf || !status) {
        g_warning("ignoring incomplete runtime directory %s", dir);
        return;
    }
    dom = domain_for_runtime_dir(daemon, dir, conf);
    if (!dom)
        return;
    rt = runtime_new(daemon, dom);
    dom->runtime = rt;
    state = state_from_name(g_hash_table_lookup(status, "state"));
    id = g_hash_table_lookup(conf, "id");
    if (state == DOMAIN_STATE_SHUTOFF ||
        (!runtime_process_alive(status, "qemu_pid", "qemu_start") &&
         !runtime_process_alive(status, "worker_pid", "worker_start"))) {
        const char *reason = g_hash_table_lookup(status, "reason");
        int r = state == DOMAIN_STATE_SHUTOFF && reason ? atoi(reason) : REASON_SHUTOFF_CRASHED;
        g_info("domain '%s' ended while hearthd was down (reason %d)", dom->def->name, r);
        runtime_finish(rt, DOMAIN_STATE_SHUTOFF, r, FALSE);
        return;
    }
    rt->id = id ? atoi(id) : next_domain_id++;
    domain_store_set_id(daemon->domains, dom, rt->id);
    if (dom->id >= next_domain_id)
        next_domain_id = dom->id + 1;
    dom->state = state;
    dom->reason =
        atoi(g_hash_table_lookup(status, "reason") ? g_hash_table_lookup(status, "reason") : "0");
    set_ptys_from(rt, status);
    rt->wc = worker_client_connect(rt->control_path, on_worker_event, rt, &error);
    if (!rt->wc) {
        g_info("domain '%s': worker unreachable (%s)", dom->def->name, error->message);
        runtime_handle_worker_gone(rt);
        return;
    }
    g_info("re-adopted running domain '%s' (id %d)", dom->def->name, dom->id);
}

void domain_runner_adopt_all(HearthDaemon *daemon)
{
    g_autofree char *root = g_build_filename(daemon->paths->run_dir, "qemu", NULL);
    g_autoptr(GDir) d = g_dir_open(root, 0, NULL);
    const char *name;

    while (d && (name = g_dir_read_name(d))) {
        g_autofree char *dir = g_build_filename(root, name, NULL);
        if (g_file_test(dir, G_FILE_TEST_IS_DIR))
            adopt_one(daemon, dir);
    }
}

static void on_autostart_done(const GError *error, gpointer data)
{
    char *name = data;

    if (error)
        g_warning("autostart of domain '%s' failed: %s", name, error->message);
    else
        g_info("autostarted domain '%s'", name);
    g_free(name);
}

void domain_runner_autostart(HearthDaemon *daemon)
{
    g_autoptr(GPtrArray) all = domain_store_list(daemon->domains);

    for (guint i = 0; i < all->len; i++) {
        HearthDomain *dom = all->pdata[i];
        if (dom->autostart && !dom->runtime && !hearth_domain_is_active(dom))
            domain_runner_start(daemon, dom, FALSE, on_autostart_done, g_strdup(dom->def->name));
    }
}
