/* Where hearthd keeps things: three tiers, as libvirt does (config, runtime, state), plus logs.
 * --root DIR moves all of them under DIR so tests and demos never touch the host. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
    char *root;          /* "" for the real system */
    char *config_dir;    /* ROOT/etc/hearth */
    char *run_dir;       /* ROOT/run/hearth */
    char *state_dir;     /* ROOT/var/lib/hearth */
    char *log_dir;       /* ROOT/var/log/hearth */
    char *cache_dir;     /* ROOT/var/cache/hearth */
    char *domain_dir;    /* CONFIG/qemu: one NAME.xml per persistent domain */
    char *autostart_dir; /* CONFIG/qemu/autostart: symlinks, as libvirt keeps them */
    char *rw_socket;     /* RUN/hearth-sock */
    char *ro_socket;     /* RUN/hearth-sock-ro */
    char *config_file;   /* CONFIG/hearthd.conf */
} DaemonPaths;

DaemonPaths *daemon_paths_new(const char *root);
void daemon_paths_free(DaemonPaths *paths);
gboolean daemon_paths_create(const DaemonPaths *paths, GError **error);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DaemonPaths, daemon_paths_free)

G_END_DECLS
