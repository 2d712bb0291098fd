#include "daemon-config.h"
#include "hearth-error.h"

#include <glib/gi18n-lib.h>

#define GROUP "hearthd"

DaemonConfig *daemon_config_new_defaults(void)
{
    DaemonConfig *cfg = g_new0(DaemonConfig, 1);

    cfg->max_clients = 5000;
    cfg->max_client_requests = 16;
    cfg->max_workers = 1024;
    cfg->listen_libvirt_paths = FALSE;
    cfg->log_level = g_strdup("info");
    cfg->qemu_user = g_strdup("root");
    cfg->qemu_group = g_strdup("root");
    cfg->tls_port = 16514;
    cfg->ca_file = g_strdup("/etc/pki/CA/cacert.pem");
    cfg->cert_file = g_strdup("/etc/pki/libvirt/servercert.pem");
    cfg->key_file = g_strdup("/etc/pki/libvirt/private/serverkey.pem");
    cfg->crl_file = g_strdup("/etc/pki/CA/cacrl.pem");
    cfg->tls_priority = g_strdup("NORMAL");
    return cfg;
}

void daemon_config_free(DaemonConfig *cfg)
{
    if (!cfg)
        return;
    g_free(cfg->log_level);
    g_free(cfg->qemu_user);
    g_free(cfg->qemu_group);
    g_free(cfg->listen_addr);
    g_free(cfg->ca_file);
    g_free(cfg->cert_file);
    g_free(cfg->key_file);
    g_free(cfg->crl_file);
    g_strfreev(cfg->tls_allowed_dn_list);
    g_free(cfg->tls_priority);
    g_free(cfg);
}

static gboolean read_uint(GKeyFile *kf, const char *key, guint min, guint max, guint *out,
                          GError **error)
{
    g_autoptr(GError) local = NULL;
    gint64 v;

    if (!g_key_file_has_key(kf, GROUP, key, NULL))
        return TRUE;
    v = g_key_file_get_int64(kf, GROUP, key, &local);
    if (local || v < min || v > max) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_CONF_SYNTAX,
                    _("hearthd.conf: '%s' must be an integer between %u and %u"), key, min, max);
        return FALSE;
    }
    *out = (guint)v;
    return TRUE;
}

static gboolean read_bool(GKeyFile *kf, const char *key, gboolean *out, GError **error)
{
    g_autoptr(GError) local = NULL;
    gboolean v;

    if (!g_key_file_has_key(kf, GROUP, key, NULL))
        return TRUE;
    v = g_key_file_get_boolean(kf, GROUP, key, &local);
    if (local) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_CONF_SYNTAX,
                    _("hearthd.conf: '%s' must be true or false"), key);
        return FALSE;
    }
    *out = v;
    return TRUE;
}

static gboolean read_string(GKeyFile *kf, const char *key, char **out)
{
    char *v = g_key_file_get_string(kf, GROUP, key, NULL);

    if (v) {
        g_free(*out);
        *out = g_strstrip(v);
    }
    return TRUE;
}

DaemonConfig *daemon_config_load(const char *path, gboolean must_exist, GError **error)
{
    g_autoptr(DaemonConfig) cfg = daemon_config_new_defaults();
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_autoptr(GError) local = NULL;
    const char *levels[] = {"error", "warning", "info", "debug"};
    gboolean level_ok = FALSE;

    if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, &local)) {
        if (!must_exist && g_error_matches(local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
            return g_steal_pointer(&cfg);
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_CONF_SYNTAX, _("cannot read '%s': %s"), path,
                    local->message);
        return NULL;
    }
    if (!read_uint(kf, "max_clients", 1, 1000000, &cfg->max_clients, error) ||
        !read_uint(kf, "max_client_requests", 1, 1024, &cfg->max_client_requests, error) ||
        !read_uint(kf, "max_workers", 1, 100000, &cfg->max_workers, error))
        return NULL;
    if (!read_bool(kf, "listen_libvirt_paths", &cfg->listen_libvirt_paths, error) ||
        !read_bool(kf, "listen_tls", &cfg->listen_tls, error) ||
        !read_bool(kf, "tls_no_verify_certificate", &cfg->tls_no_verify_certificate, error) ||
        !read_uint(kf, "tls_port", 1, 65535, &cfg->tls_port, error))
        return NULL;
    read_string(kf, "listen_addr", &cfg->listen_addr);
    read_string(kf, "ca_file", &cfg->ca_file);
    read_string(kf, "cert_file", &cfg->cert_file);
    read_string(kf, "key_file", &cfg->key_file);
    read_string(kf, "crl_file", &cfg->crl_file);
    read_string(kf, "tls_priority", &cfg->tls_priority);
    if (g_key_file_has_key(kf, GROUP, "tls_allowed_dn_list", NULL)) {
        g_strfreev(cfg->tls_allowed_dn_list);
        cfg->tls_allowed_dn_list =
            g_key_file_get_string_list(kf, GROUP, "tls_allowed_dn_list", NULL, NULL);
        for (guint i = 0; cfg->tls_allowed_dn_list && cfg->tls_allowed_dn_list[i]; i++)
            g_strstrip(cfg->tls_allowed_dn_list[i]);
    }
    read_string(kf, "log_level", &cfg->log_level);
    read_string(kf, "qemu_user", &cfg->qemu_user);
    read_string(kf, "qemu_group", &cfg->qemu_group);
    for (gsize i = 0; i < G_N_ELEMENTS(levels); i++)
        level_ok |= g_str_equal(cfg->log_level, levels[i]);
    if (!level_ok) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_CONF_SYNTAX,
                    _("hearthd.conf: unknown log_level '%s' (use error, warning, info or debug)"),
                    cfg->log_level);
        return NULL;
    }
    return g_steal_pointer(&cfg);
}
