#include "daemon-paths.h"
#include "atomic-file.h"

DaemonPaths *daemon_paths_new(const char *root)
{
    DaemonPaths *p = g_new0(DaemonPaths, 1);
    const char *r = root ? root : "";

    p->root = g_strdup(r);
    p->config_dir = g_strconcat(r, "/etc/hearth", NULL);
    p->run_dir = g_strconcat(r, "/run/hearth", NULL);
    p->state_dir = g_strconcat(r, "/var/lib/hearth", NULL);
    p->log_dir = g_strconcat(r, "/var/log/hearth", NULL);
    p->cache_dir = g_strconcat(r, "/var/cache/hearth", NULL);
    p->domain_dir = g_build_filename(p->config_dir, "qemu", NULL);
    p->autostart_dir = g_build_filename(p->domain_dir, "autostart", NULL);
    p->rw_socket = g_build_filename(p->run_dir, "hearth-sock", NULL);
    p->ro_socket = g_build_filename(p->run_dir, "hearth-sock-ro", NULL);
    p->config_file = g_build_filename(p->config_dir, "hearthd.conf", NULL);
    return p;
}

void daemon_paths_free(DaemonPaths *p)
{
    if (!p)
        return;
    g_free(p->root);
    g_free(p->config_dir);
    g_free(p->run_dir);
    g_free(p->state_dir);
    g_free(p->log_dir);
    g_free(p->cache_dir);
    g_free(p->domain_dir);
    g_free(p->autostart_dir);
    g_free(p->rw_socket);
    g_free(p->ro_socket);
    g_free(p->config_file);
    g_free(p);
}

gboolean daemon_paths_create(const DaemonPaths *p, GError **error)
{
    const char *dirs[] = {p->config_dir, p->run_dir,    p->state_dir,    p->log_dir,
                          p->cache_dir,  p->domain_dir, p->autostart_dir};

    for (gsize i = 0; i < G_N_ELEMENTS(dirs); i++) {
        if (!hearth_mkdir_p(dirs[i], 0755, error))
            return FALSE;
    }
    return TRUE;
}
