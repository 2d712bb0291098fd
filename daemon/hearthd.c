/* hearthd: start-up and shutdown. Everything else happens in the main loop. */
#include "atomic-file.h"
#include "daemon-config.h"
#include "daemon-log.h"
#include "daemon-paths.h"
#include "domain-runner.h"
#include "domain-store.h"
#include "hearth-config.h"
#include "hearth-daemon.h"
#include "hearth-error.h"
#include "network-driver.h"
#include "host-caps.h"
#include "rpc-server.h"
#include "systemd-glue.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <glib/gi18n-lib.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <unistd.h>

static char *opt_root;
static char *opt_config;
static gboolean opt_daemon;
static gboolean opt_verbose;
static gboolean opt_version;

static GOptionEntry options[] = {
    {"root", 'r', 0, G_OPTION_ARG_FILENAME, &opt_root,
     N_("Keep every file under DIR (DIR/etc/hearth, DIR/run/hearth, ...)"), N_("DIR")},
    {"config", 'f', 0, G_OPTION_ARG_FILENAME, &opt_config, N_("Configuration file"), N_("FILE")},
    {"daemon", 'd', 0, G_OPTION_ARG_NONE, &opt_daemon, N_("Detach and run in the background"),
     NULL},
    {"verbose", 'v', 0, G_OPTION_ARG_NONE, &opt_verbose, N_("Log debug messages"), NULL},
    {"version", 'V', 0, G_OPTION_ARG_NONE, &opt_version, N_("Print the version and exit"), NULL},
    {NULL}};

static gboolean on_quit_signal(gpointer data)
{
    HearthDaemon *daemon = data;

    g_info("shutting down on signal");
    g_main_loop_quit(daemon->loop);
    return G_SOURCE_CONTINUE;
}

/* One daemon per root: a second one must fail instead of stealing sockets. */
static int take_pid_lock(const DaemonPaths *paths, GError **error)
{
    g_autofree char *path = g_build_filename(paths->run_dir, "hearthd.pid", NULL);
    g_autofree char *pid = NULL;
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);

    if (fd < 0) {
        hearth_error_set_errno(error, errno, "cannot open '%s'", path);
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_OPERATION_FAILED,
                    _("another hearthd is already running with state in '%s' (lock '%s' is "
                      "held)"),
                    paths->run_dir, path);
        close(fd);
        return -1;
    }
    pid = g_strdup_printf("%d\n", (int)getpid());
    if (ftruncate(fd, 0) < 0 || write(fd, pid, strlen(pid)) < 0)
        g_warning("cannot write pid file '%s': %s", path, g_strerror(errno));
    return fd;
}

/* The server's TLS credentials, from hearthd.conf; --root's DIR prefixes their paths too. */
static gboolean setup_tls(HearthDaemon *daemon, GError **error)
{
    const DaemonConfig *c = daemon->config;
    const char *root = daemon->paths->root;
    g_autofree char *ca = g_strconcat(root, c->ca_file, NULL);
    g_autofree char *cert = g_strconcat(root, c->cert_file, NULL);
    g_autofree char *key = g_strconcat(root, c->key_file, NULL);
    g_autofree char *crl = g_strconcat(root, c->crl_file, NULL);
    RpcTlsSettings settings = {
        .ca_file = ca,
        .cert_file = cert,
        .key_file = key,
        .crl_file = crl,
        .priority = c->tls_priority,
        .no_verify = c->tls_no_verify_certificate,
        .allowed_dn = (const char *const *)c->tls_allowed_dn_list,
    };
    RpcTlsContext *ctx = rpc_tls_context_new(&settings, error);

    if (!ctx)
        return FALSE;
    rpc_server_set_tls(daemon->server, ctx);
    return TRUE;
}

/* Sockets handed over by systemd: by name when given (NAME-ro read-only, NAME-tls TLS), else
 * read-write then read-only. */
static int adopt_activation_sockets(HearthDaemon *daemon, gboolean *tls_adopted, GError **error)
{
    char **names = NULL;
    int n = systemd_listen_fds_with_names(&names);

    for (int i = 0; i < n; i++) {
        int fd = 3 + i; /* SD_LISTEN_FDS_START */
        gboolean ro = names && names[i] ? g_str_has_suffix(names[i], "-ro") : i > 0;
        gboolean tls = names && names[i] && g_str_has_suffix(names[i], "-tls");

        if ((tls && !*tls_adopted && !setup_tls(daemon, error)) ||
            !rpc_server_adopt_listener(daemon->server, fd, ro && !tls, tls, error)) {
            g_strfreev(names);
            return -1;
        }
        *tls_adopted |= tls;
    }
    g_strfreev(names);
    return n < 0 ? 0 : n;
}

static gboolean listen_all(HearthDaemon *daemon, GError **error)
{
    const DaemonConfig *c = daemon->config;
    gboolean tls_adopted = FALSE;
    int adopted = adopt_activation_sockets(daemon, &tls_adopted, error);

    if (adopted < 0)
        return FALSE;
    if (adopted == 0) {
        if (!rpc_server_listen_unix(daemon->server, daemon->paths->rw_socket, FALSE, error) ||
            !rpc_server_listen_unix(daemon->server, daemon->paths->ro_socket, TRUE, error))
            return FALSE;
    }
    if (c->listen_tls && !tls_adopted) {
        if (!setup_tls(daemon, error) ||
            !rpc_server_listen_tls(daemon->server, c->listen_addr, c->tls_port, error))
            return FALSE;
        g_info("serving qemu+tls:// on %s port %u",
               c->listen_addr && *c->listen_addr ? c->listen_addr : "every address", c->tls_port);
    }
    if (c->listen_libvirt_paths) {
        g_autofree char *dir = g_strconcat(daemon->paths->root, "/run/libvirt", NULL);
        g_autofree char *rw = g_build_filename(dir, "libvirt-sock", NULL);
        g_autofree char *ro = g_build_filename(dir, "libvirt-sock-ro", NULL);

        if (!hearth_mkdir_p(dir, 0755, error) ||
            !rpc_server_listen_unix(daemon->server, rw, FALSE, error) ||
            !rpc_server_listen_unix(daemon->server, ro, TRUE, error)) {
            g_prefix_error(error, _("listen_libvirt_paths: "));
            return FALSE;
        }
        g_info("also serving libvirt's default sockets in %s", dir);
    }
    return TRUE;
}

/* --daemon: the parent exits only once the child is serving (or has failed), so scripts can
 * rely on the sockets being there when it returns. */
static int detach(int *notify_fd)
{
    int pipefd[2];
    pid_t pid;
    char status = 1;

    if (pipe2(pipefd, O_CLOEXEC) < 0)
        return -1;
    pid = fork();
    if (pid < 0)
        return -1;
    if (pid > 0) {
        close(pipefd[1]);
        if (read(pipefd[0], &status, 1) != 1)
            status = 1;
        _exit(status);
    }
    close(pipefd[0]);
    setsid();
    {
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (null >= 0) {
            dup2(null, STDIN_FILENO);
            dup2(null, STDOUT_FILENO);
            dup2(null, STDERR_FILENO);
            close(null);
        }
    }
    *notify_fd = pipefd[1];
    return 0;
}

static void report_ready(int notify_fd, char status)
{
    if (notify_fd >= 0) {
        if (write(notify_fd, &status, 1) < 0)
            g_warning("cannot tell the parent we are ready: %s", g_strerror(errno));
        close(notify_fd);
    }
}

int main(int argc, char **argv)
{
    g_autoptr(GOptionContext) ctx = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(DaemonPaths) paths = NULL;
    g_autoptr(DaemonConfig) config = NULL;
    g_autofree char *log_file = NULL;
    HearthDaemon daemon = {0};
    int lock_fd, notify_fd = -1;

    setlocale(LC_ALL, "");
    bindtextdomain(GETTEXT_PACKAGE, HEARTH_LOCALE_DIR);
    bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
    textdomain(GETTEXT_PACKAGE);
    signal(SIGPIPE, SIG_IGN);
    /* A QEMU whose worker is killed is re-parented to us rather than to a slow PID 1. */
    prctl(PR_SET_CHILD_SUBREAPER, 1);

    ctx = g_option_context_new(_("- libvirt-compatible virtualization daemon"));
    g_option_context_add_main_entries(ctx, options, GETTEXT_PACKAGE);
    if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
        fprintf(stderr, "hearthd: %s\n", error->message);
        return 2;
    }
    if (opt_version) {
        printf("hearthd %s\n", HEARTH_VERSION);
        return 0;
    }
    if (!opt_root && geteuid() != 0) {
        fprintf(stderr, "hearthd: %s\n", _("run as root, or give --root DIR for a private tree"));
        return 2;
    }
    if (opt_root && !g_path_is_absolute(opt_root)) {
        g_autofree char *cwd = g_get_current_dir();
        char *abs = g_build_filename(cwd, opt_root, NULL);
        g_free(opt_root);
        opt_root = abs;
    }

    paths = daemon_paths_new(opt_root);
    config = daemon_config_load(opt_config ? opt_config : paths->config_file, opt_config != NULL,
                                &error);
    if (!config) {
        fprintf(stderr, "hearthd: %s\n", error->message);
        return 2;
    }
    if (!daemon_paths_create(paths, &error)) {
        fprintf(stderr, "hearthd: %s\n", error->message);
        return 1;
    }
    log_file = g_build_filename(paths->log_dir, "hearthd.log", NULL);
    if (!daemon_log_init(log_file, opt_verbose ? "debug" : config->log_level, &error)) {
        fprintf(stderr, "hearthd: %s\n", error->message);
        return 1;
    }
    if (opt_daemon && detach(&notify_fd) < 0) {
        g_critical("cannot detach: %s", g_strerror(errno));
        return 1;
    }
    lock_fd = take_pid_lock(paths, &error);
    if (lock_fd < 0) {
        g_critical("%s", error->message);
        report_ready(notify_fd, 1);
        return 1;
    }

    daemon.paths = paths;
    daemon.config = config;
    daemon.loop = g_main_loop_new(NULL, FALSE);
    host_caps_set_cache_dir(paths->cache_dir);
    daemon.domains = domain_store_new(paths->domain_dir, paths->autostart_dir);
    domain_store_load(daemon.domains);
    /* Networks before guests: autostart domains may need them. */
    daemon.networks = network_driver_new(paths->domain_dir, paths->run_dir, paths->state_dir,
                                         paths->root[0] != '\0');
    network_driver_load(daemon.networks);
    network_driver_autostart(daemon.networks);
    domain_runner_init(&daemon);
    domain_runner_adopt_all(&daemon);
    daemon.server = rpc_server_new(&daemon, config->max_clients, config->max_client_requests);
    if (!listen_all(&daemon, &error)) {
        g_critical("%s", error->message);
        {
            g_autofree char *status = g_strdup_printf("STATUS=Failed: %s", error->message);
            systemd_notify(status);
        }
        rpc_server_free(daemon.server);
        network_driver_free(daemon.networks);
        domain_store_free(daemon.domains);
        g_main_loop_unref(daemon.loop);
        report_ready(notify_fd, 1);
        g_free(opt_root);
        g_free(opt_config);
        return 1;
    }

    g_unix_signal_add(SIGTERM, on_quit_signal, &daemon);
    g_unix_signal_add(SIGINT, on_quit_signal, &daemon);
    g_info("hearthd %s ready: %s (read-only: %s), %u domains", HEARTH_VERSION, paths->rw_socket,
           paths->ro_socket, domain_store_count(daemon.domains));
    {
        g_autofree char *ready = g_strdup_printf("READY=1\nSTATUS=Serving %u domains\nMAINPID=%d",
                                                 domain_store_count(daemon.domains), (int)getpid());
        systemd_notify(ready);
    }
    report_ready(notify_fd, 0);
    domain_runner_autostart(&daemon);

    g_main_loop_run(daemon.loop);

    systemd_notify("STOPPING=1");
    rpc_server_free(daemon.server);
    network_driver_free(daemon.networks);
    domain_store_free(daemon.domains);
    g_main_loop_unref(daemon.loop);
    close(lock_fd);
    daemon_log_close();
    g_free(opt_root);
    g_free(opt_config);
    return 0;
}
