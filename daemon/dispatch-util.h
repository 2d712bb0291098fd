/* What every request handler needs: flag checks and domain lookups worded as libvirt's. */
#pragma once

#include "domain-store.h"
#include "rpc-server.h"

G_BEGIN_DECLS

/* INVALID_ARG "unsupported flags (0x..) in function FUNC" for any bit outside @allowed. */
gboolean dispatch_check_flags(guint flags, guint allowed, const char *func, GError **error);

/* The domain a client's reference names, by uuid as libvirtd resolves it; NO_DOMAIN if none. */
HearthDomain *dispatch_lookup_domain(HearthCall *call, const RemoteNonnullDomain *ref,
                                     GError **error);

/* virDomainModificationImpact */
enum { DISPATCH_AFFECT_LIVE = 1, DISPATCH_AFFECT_CONFIG = 2 };

/* What a LIVE/CONFIG/CURRENT call changes, by libvirt's rules: CURRENT is the running guest of
 * an active domain and the definition of an inactive one; LIVE needs a running domain, CONFIG a
 * persistent one (OPERATION_INVALID, worded as libvirt's, otherwise). */
gboolean dispatch_resolve_impact(HearthDomain *dom, guint flags, gboolean *live, gboolean *config,
                                 GError **error);

G_END_DECLS
