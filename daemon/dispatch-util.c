#include "dispatch-util.h"
#include "hearth-daemon.h"
#include "hearth-error.h"
#include "uuid-util.h"

#include <glib/gi18n-lib.h>

gboolean dispatch_check_flags(guint flags, guint allowed, const char *func, GError **error)
{
    if (flags & ~allowed) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_INVALID_ARG,
                    _("unsupported flags (0x%x) in function %s"), flags & ~allowed, func);
        return FALSE;
    }
    return TRUE;
}

HearthDomain *dispatch_lookup_domain(HearthCall *call, const RemoteNonnullDomain *ref,
                                     GError **error)
{
    HearthDomain *dom =
        domain_store_lookup_by_uuid(rpc_client_get_daemon(call->client)->domains, ref->uuid);
    char uuid[HEARTH_UUID_STRING_LEN];

    if (!dom) {
        hearth_uuid_format(ref->uuid, uuid);
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_NO_DOMAIN,
                    _("no domain with matching uuid '%s' (%s)"), uuid, ref->name ? ref->name : "");
    }
    return dom;
}

gboolean dispatch_resolve_impact(HearthDomain *dom, guint flags, gboolean *live, gboolean *config,
                                 GError **error)
{
    gboolean active = hearth_domain_is_active(dom);

    *live = flags & DISPATCH_AFFECT_LIVE;
    *config = flags & DISPATCH_AFFECT_CONFIG;
    if (!*live && !*config) {
        *live = active;
        *config = !active;
    }
    if (*live && !active) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_OPERATION_INVALID, _("domain is not running"));
        return FALSE;
    }
    if (*config && !dom->persistent) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_OPERATION_INVALID,
                    _("cannot change the persistent configuration of a transient domain"));
        return FALSE;
    }
    return TRUE;
}
