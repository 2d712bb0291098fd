#include "network-leases.h"
#include "hearth-error.h"

#include <errno.h>
#include <glib/gi18n-lib.h>
#include <jansson.h>
#include <stdlib.h>

void network_lease_free(NetworkLease *lease)
{
    if (!lease)
        return;
    g_free(lease->ip);
    g_free(lease->mac);
    g_free(lease->client_id);
    g_free(lease->hostname);
    g_free(lease);
}

static char *dup_member(json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));

    return s && *s ? g_strdup(s) : NULL;
}

GPtrArray *network_leases_load(const char *path, GError **error)
{
    GPtrArray *leases = g_ptr_array_new_with_free_func((GDestroyNotify)network_lease_free);
    g_autofree char *text = NULL;
    g_autoptr(GError) local = NULL;
    json_error_t jerr;
    json_t *root, *item;
    size_t i;

    if (!g_file_get_contents(path, &text, NULL, &local)) {
        if (g_error_matches(local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
            return leases;
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_READ_FAILED, _("cannot read leases: %s"),
                    local->message);
        g_ptr_array_unref(leases);
        return NULL;
    }
    if (!*g_strstrip(text))
        return leases; /* libvirt leaves an empty file when there are no leases */
    root = json_loads(text, 0, &jerr);
    if (!json_is_array(root)) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_READ_FAILED,
                    _("lease file '%s' is not a JSON array: %s"), path,
                    root ? _("wrong type") : jerr.text);
        json_decref(root);
        g_ptr_array_unref(leases);
        return NULL;
    }
    json_array_foreach(root, i, item)
    {
        NetworkLease *l = g_new0(NetworkLease, 1);

        l->ip = dup_member(item, "ip-address");
        l->mac = dup_member(item, "mac-address");
        l->client_id = dup_member(item, "client-id");
        l->hostname = dup_member(item, "hostname");
        l->expiry = json_integer_value(json_object_get(item, "expiry-time"));
        if (!l->ip || !l->mac) {
            network_lease_free(l);
            continue;
        }
        g_ptr_array_add(leases, l);
    }
    json_decref(root);
    return leases;
}

gboolean network_leases_save(const char *path, GPtrArray *leases, GError **error)
{
    json_t *root = json_array();
    char *text;
    gboolean ok;
    g_autoptr(GError) local = NULL;

    for (guint i = 0; i < leases->len; i++) {
        const NetworkLease *l = g_ptr_array_index(leases, i);
        json_t *obj = json_object();

        json_object_set_new(obj, "ip-address", json_string(l->ip));
        json_object_set_new(obj, "mac-address", json_string(l->mac));
        if (l->client_id)
            json_object_set_new(obj, "client-id", json_string(l->client_id));
        if (l->hostname)
            json_object_set_new(obj, "hostname", json_string(l->hostname));
        json_object_set_new(obj, "expiry-time", json_integer(l->expiry));
        json_array_append_new(root, obj);
    }
    text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(root);
    ok = g_file_set_contents_full(path, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0644, &local);
    free(text);
    if (!ok)
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_WRITE_FAILED, _("cannot write leases: %s"),
                    local->message);
    return ok;
}

gboolean network_leases_expire(GPtrArray *leases, gint64 now)
{
    gboolean dropped = FALSE;

    for (guint i = leases->len; i-- > 0;) {
        const NetworkLease *l = g_ptr_array_index(leases, i);

        if (l->expiry > 0 && l->expiry < now) {
            g_ptr_array_remove_index(leases, i);
            dropped = TRUE;
        }
    }
    return dropped;
}
