/* hearthd.conf: a GKeyFile with a [hearthd] group; every key optional, defaults built in. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
    guint max_clients;             /* connections at once */
    guint max_client_requests;     /* calls in flight per connection */
    guint max_workers;             /* running domains (worker processes) */
    gboolean listen_libvirt_paths; /* also serve /run/libvirt/libvirt-sock and -ro */
    char *log_level;               /* error, warning, info, debug */
    char *qemu_user;               /* user and group QEMU runs as */
    char *qemu_group;
} DaemonConfig;

DaemonConfig *daemon_config_new_defaults(void);
/* A missing file gives the defaults; a malformed one is an error that names the key. */
DaemonConfig *daemon_config_load(const char *path, gboolean must_exist, GError **error);
void daemon_config_free(DaemonConfig *cfg);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DaemonConfig, daemon_config_free)

G_END_DECLS
