/* Lifecycle procedures: start, stop, pause, reboot. Each is a request to the domain's worker;
 * the RPC call completes when the worker has done it, and never blocks other calls. */
#include "domain-events.h"
#include "domain-runner.h"
#include "domain-store.h"
#include "hearth-daemon.h"
#include "hearth-error.h"
#include "host-postparse.h"
#include "dispatch-util.h"
#include "rpc-server.h"
#include "uuid-util.h"

#include <glib/gi18n-lib.h>
#include <string.h>

enum {
    START_PAUSED = 1,
    START_AUTODESTROY = 2,
    START_BYPASS_CACHE = 4,
    START_FORCE_BOOT = 8,
    START_VALIDATE = 16,
    START_RESET_NVRAM = 32
};
enum { DESTROY_GRACEFUL = 1, DESTROY_REMOVE_LOGS = 2 };
enum { SHUTDOWN_ACPI = 1 };

static HearthDaemon *daemon_of(HearthCall *call)
{
    return rpc_client_get_daemon(call->client);
}

/* Completion for calls whose reply is void. */
static void done_void(const GError *error, gpointer data)
{
    HearthCall *call = data;

    if (error)
        hearth_call_fail(call, error);
    else
        hearth_call_complete(call);
}

static DispatchResult request(HearthCall *call, const RemoteNonnullDomain *ref, const char *cmd,
                              json_t *args, GError **error)
{
    HearthDomain *dom = dispatch_lookup_domain(call, ref, error);

    if (!dom) {
        json_decref(args);
        return DISPATCH_FAILED;
    }
    if (!hearth_domain_is_active(dom)) {
        json_decref(args);
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_OPERATION_INVALID, _("domain is not running"));
        return DISPATCH_FAILED;
    }
    domain_runner_request(daemon_of(call), dom, cmd, args, done_void, call);
    return DISPATCH_ASYNC;
}

/* ---- start ---- */

typedef struct {
    HearthCall *call;
    unsigned char uuid[16];
    RemoteNonnullDomain *out; /* where the started domain goes, or NULL */
    gboolean transient;
} StartCtx;

static void on_started(const GError *error, gpointer data)
{
    StartCtx *ctx = data;
    HearthDaemon *daemon = daemon_of(ctx->call);
    HearthDomain *dom = domain_store_lookup_by_uuid(daemon->domains, ctx->uuid);

    if (error) {
        /* A transient domain that never ran does not exist. */
        if (ctx->transient && dom && !dom->runtime && !hearth_domain_is_active(dom))
            domain_store_remove(daemon->domains, dom);
        hearth_call_fail(ctx->call, error);
    } else {
        if (ctx->out && dom)
            domain_to_wire(dom, ctx->out);
        hearth_call_complete(ctx->call);
    }
    g_free(ctx);
}

static DispatchResult start_domain_def(HearthCall *call, HearthDomain *dom, HearthDomainDef *def,
                                       guint flags, RemoteNonnullDomain *out, gboolean transient)
{
    StartCtx *ctx = g_new0(StartCtx, 1);

    ctx->call = call;
    memcpy(ctx->uuid, dom->def->uuid, 16);
    ctx->out = out;
    ctx->transient = transient;
    domain_runner_start_with_def(daemon_of(call), dom, def, (flags & START_PAUSED) != 0, on_started,
                                 ctx);
    return DISPATCH_ASYNC;
}

static DispatchResult start_domain(HearthCall *call, HearthDomain *dom, guint flags,
                                   RemoteNonnullDomain *out, gboolean transient)
{
    return start_domain_def(call, dom, NULL, flags, out, transient);
}

static const guint start_flags_ok =
    START_PAUSED | START_AUTODESTROY | START_BYPASS_CACHE | START_FORCE_BOOT | START_VALIDATE;

DispatchResult dispatch_domain_create(HearthCall *call, const RemoteDomainCreateArgs *args,
                                      void *ret, GError **error)
{
    HearthDomain *dom = dispatch_lookup_domain(call, &args->dom, error);

    if (!dom)
        return DISPATCH_FAILED;
    return start_domain(call, dom, 0, NULL, FALSE);
}

DispatchResult dispatch_domain_create_with_flags(HearthCall *call,
                                                 const RemoteDomainCreateWithFlagsArgs *args,
                                                 RemoteDomainCreateWithFlagsRet *ret,
                                                 GError **error)
{
    HearthDomain *dom;

    if (!dispatch_check_flags(args->flags, start_flags_ok, "virDomainCreateWithFlags", error))
        return DISPATCH_FAILED;
    dom = dispatch_lookup_domain(call, &args->dom, error);
    if (!dom)
        return DISPATCH_FAILED;
    return start_domain(call, dom, args->flags, &ret->dom, FALSE);
}

DispatchResult dispatch_domain_create_xml(HearthCall *call, const RemoteDomainCreateXmlArgs *args,
                                          RemoteDomainCreateXmlRet *ret, GError **error)
{
    HearthDomainDef *def;
    HearthDomain *dom;
    DomainStore *store = daemon_of(call)->domains;

    if (!dispatch_check_flags(args->flags, start_flags_ok, "virDomainCreateXML", error))
        return DISPATCH_FAILED;
    def = domain_def_parse(args->xml_desc, strlen(args->xml_desc),
                           (args->flags & START_VALIDATE) ? DOMAIN_DEF_PARSE_VALIDATE : 0, error);
    if (!def)
        return DISPATCH_FAILED;
    if (!host_domain_post_parse(def, error)) {
        domain_def_free(def);
        return DISPATCH_FAILED;
    }
    /* A defined domain of the same name and uuid runs with this definition, as in libvirt. */
    dom = domain_store_lookup_by_uuid(store, def->uuid);
    if (dom && g_str_equal(dom->def->name, def->name)) {
        if (dom->runtime || hearth_domain_is_active(dom)) {
            g_set_error(error, HEARTH_ERROR, HEARTH_ERR_OPERATION_INVALID,
                        _("domain '%s' is already active"), def->name);
            domain_def_free(def);
            return DISPATCH_FAILED;
        }
        return start_domain_def(call, dom, def, args->flags, &ret->dom, FALSE);
    }
    dom = domain_store_add_transient(store, def, error);
    if (!dom)
        return DISPATCH_FAILED;
    return start_domain(call, dom, args->flags, &ret->dom, TRUE);
}

/* ---- stop, pause, reboot ---- */

DispatchResult dispatch_domain_destroy(HearthCall *call, const RemoteDomainDestroyArgs *args,
                                       void *ret, GError **error)
{
    return request(call, &args->dom, "destroy", NULL, error);
}

DispatchResult dispatch_domain_destroy_flags(HearthCall *call,
                                             const RemoteDomainDestroyFlagsArgs *args, void *ret,
                                             GError **error)
{
    if (!dispatch_check_flags(args->flags, DESTROY_GRACEFUL | DESTROY_REMOVE_LOGS,
                              "virDomainDestroyFlags", error))
        return DISPATCH_FAILED;
    return request(call, &args->dom, "destroy",
                   json_pack("{s:b}", "graceful", (args->flags & DESTROY_GRACEFUL) != 0), error);
}

static gboolean check_shutdown_mode(guint flags, const char *func, GError **error)
{
    if (!dispatch_check_flags(flags, 0x1f, func, error))
        return FALSE;
    if (flags & ~SHUTDOWN_ACPI) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_ARGUMENT_UNSUPPORTED,
                    _("only the ACPI power button mode is supported (flags 0x%x)"), flags);
        return FALSE;
    }
    return TRUE;
}

DispatchResult dispatch_domain_shutdown(HearthCall *call, const RemoteDomainShutdownArgs *args,
                                        void *ret, GError **error)
{
    return request(call, &args->dom, "powerdown", NULL, error);
}

DispatchResult dispatch_domain_shutdown_flags(HearthCall *call,
                                              const RemoteDomainShutdownFlagsArgs *args, void *ret,
                                              GError **error)
{
    if (!check_shutdown_mode(args->flags, "virDomainShutdownFlags", error))
        return DISPATCH_FAILED;
    return request(call, &args->dom, "powerdown", NULL, error);
}

DispatchResult dispatch_domain_reboot(HearthCall *call, const RemoteDomainRebootArgs *args,
                                      void *ret, GError **error)
{
    if (!check_shutdown_mode(args->flags, "virDomainReboot", error))
        return DISPATCH_FAILED;
    return request(call, &args->dom, "reboot", NULL, error);
}

DispatchResult dispatch_domain_reset(HearthCall *call, const RemoteDomainResetArgs *args, void *ret,
                                     GError **error)
{
    if (!dispatch_check_flags(args->flags, 0, "virDomainReset", error))
        return DISPATCH_FAILED;
    return request(call, &args->dom, "reset", NULL, error);
}

DispatchResult dispatch_domain_suspend(HearthCall *call, const RemoteDomainSuspendArgs *args,
                                       void *ret, GError **error)
{
    return request(call, &args->dom, "stop", NULL, error);
}

DispatchResult dispatch_domain_resume(HearthCall *call, const RemoteDomainResumeArgs *args,
                                      void *ret, GError **error)
{
    return request(call, &args->dom, "cont", NULL, error);
}
