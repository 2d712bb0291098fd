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
