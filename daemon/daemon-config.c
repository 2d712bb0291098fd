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
    return cfg;
}

void daemon_config_free(DaemonConfig *cfg)
{
    if (!cfg)
        return;
    g_free(cfg->log_level);
    g_free(cfg->qemu_user);
    g_free(cfg->qemu_group);
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
    if (g_key_file_has_key(kf, GROUP, "listen_libvirt_paths", NULL)) {
        cfg->listen_libvirt_paths =
            g_key_file_get_boolean(kf, GROUP, "listen_libvirt_paths", &local);
        if (local) {
            g_set_error(error, HEARTH_ERROR, HEARTH_ERR_CONF_SYNTAX,
                        _("hearthd.conf: 'listen_libvirt_paths' must be true or false"));
            return NULL;
        }
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
