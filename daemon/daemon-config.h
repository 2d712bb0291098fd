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
    /* qemu+tls:// (libvirtd's keys and defaults; the files are under --root's DIR) */
    gboolean listen_tls;
    guint tls_port;
    char *listen_addr; /* NULL: every address */
    char *ca_file, *cert_file, *key_file, *crl_file;
    gboolean tls_no_verify_certificate;
    GStrv tls_allowed_dn_list; /* NULL: any client the CA signed */
    char *tls_priority;
} DaemonConfig;

DaemonConfig *daemon_config_new_defaults(void);
/* A missing file gives the defaults; a malformed one is an error that names the key. */
DaemonConfig *daemon_config_load(const char *path, gboolean must_exist, GError **error);
void daemon_config_free(DaemonConfig *cfg);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DaemonConfig, daemon_config_free)

G_END_DECLS
