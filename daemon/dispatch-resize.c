/* setmem, setmaxmem and setvcpus: the persistent definition (--config), and the balloon of a
 * running guest (setmem --live, QMP balloon). vCPU hotplug and growing a running guest's
 * maximum memory are refused, as libvirt refuses what QEMU cannot do. */
#include "dispatch-util.h"
#include "domain-runner.h"
#include "domain-store.h"
#include "hearth-daemon.h"
#include "hearth-error.h"
#include "rpc-server.h"

#include <glib/gi18n-lib.h>
#include <string.h>

/* virDomainMemoryModFlags, virDomainVcpuFlags (besides the LIVE and CONFIG impact bits) */
enum { MEM_MAXIMUM = 4, VCPU_MAXIMUM = 4, VCPU_GUEST = 8 };

static gboolean has_balloon(const HearthDomainDef *def)
{
    for (guint i = 0; def && def->devices && i < def->devices->len; i++) {
        const HearthDomainDevice *d = def->devices->pdata[i];

        if (d->kind == HEARTH_DEVICE_MEMBALLOON && g_strcmp0(d->u.memballoon->model, "none") != 0)
            return TRUE;
    }
    return FALSE;
}

typedef struct {
    HearthCall *call;
    HearthDaemon *daemon;
    guint8 uuid[16];
    guint64 kib;
    HearthDomainDef *config; /* the persistent change, made once the live one worked */
} BalloonCtx;

static void on_balloon(json_t *result, const GError *error, gpointer data)
{
    BalloonCtx *b = data;
    HearthDomain *dom = domain_store_lookup_by_uuid(b->daemon->domains, b->uuid);
    g_autoptr(GError) local = NULL;

    (void)result;
    if (!error && dom && dom->live) {
        dom->live->current_memory_kib = b->kib;
        if (!domain_runner_save_live(b->daemon, dom, &local))
            g_warning("domain '%s': %s", dom->def->name, local->message);
        g_clear_error(&local);
    }
    if (!error && dom && b->config &&
        !domain_store_replace_def(b->daemon->domains, dom, g_steal_pointer(&b->config), &local))
        error = local;
    if (error)
        hearth_call_fail(b->call, error);
    else
        hearth_call_complete(b->call);
    if (b->config)
        domain_def_free(b->config);
    g_free(b);
}

static DispatchResult set_memory(HearthCall *call, const RemoteNonnullDomain *ref, guint64 kib,
                                 guint flags, GError **error)
{
    HearthDomain *dom = dispatch_lookup_domain(call, ref, error);
    g_autoptr(HearthDomainDef) copy = NULL;
    gboolean live, config;
    BalloonCtx *b;

    if (!dom ||
        !dispatch_check_flags(flags, DISPATCH_AFFECT_LIVE | DISPATCH_AFFECT_CONFIG | MEM_MAXIMUM,
                              "virDomainSetMemoryFlags", error) ||
        !dispatch_resolve_impact(dom, flags, &live, &config, error))
        return DISPATCH_FAILED;
    if (kib == 0) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_INVALID_ARG, _("memory must not be 0"));
        return DISPATCH_FAILED;
    }
    if (flags & MEM_MAXIMUM) {
        if (live) {
            g_set_error(error, HEARTH_ERROR, HEARTH_ERR_OPERATION_INVALID,
                        _("cannot resize the maximum memory on an active domain"));
            return DISPATCH_FAILED;
        }
        copy = domain_def_copy(dom->def);
        copy->memory_kib = kib;
        if (copy->current_memory_kib > kib || copy->current_memory_kib == 0)
            copy->current_memory_kib = kib;
        return domain_store_replace_def(rpc_client_get_daemon(call->client)->domains, dom,
                                        g_steal_pointer(&copy), error)
                   ? DISPATCH_DONE
                   : DISPATCH_FAILED;
    }
    if (kib > (live && dom->live ? dom->live : dom->def)->memory_kib ||
        (config && kib > dom->def->memory_kib)) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_INVALID_ARG,
                    _("cannot set memory higher than max memory"));
        return DISPATCH_FAILED;
    }
    if (config) {
        copy = domain_def_copy(dom->def);
        copy->current_memory_kib = kib;
    }
    if (!live)
        return domain_store_replace_def(rpc_client_get_daemon(call->client)->domains, dom,
                                        g_steal_pointer(&copy), error)
                   ? DISPATCH_DONE
                   : DISPATCH_FAILED;
    if (!has_balloon(dom->live)) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_OPERATION_INVALID,
                    _("Unable to change memory of active domain without the balloon device and "
                      "guest OS balloon driver"));
        return DISPATCH_FAILED;
    }
    b = g_new0(BalloonCtx, 1);
    b->call = call;
    b->daemon = rpc_client_get_daemon(call->client);
    memcpy(b->uuid, dom->def->uuid, 16);
    b->kib = kib;
    b->config = g_steal_pointer(&copy);
    domain_runner_query(b->daemon, dom, "qmp",
                        json_pack("{s:s, s:{s:I}}", "execute", "balloon", "arguments", "value",
                                  (json_int_t)(kib * 1024)),
                        0, on_balloon, b);
    return DISPATCH_ASYNC;
}

DispatchResult dispatch_domain_set_memory_flags(HearthCall *call,
                                                const RemoteDomainSetMemoryFlagsArgs *args,
                                                void *ret, GError **error)
{
    (void)ret;
    return set_memory(call, &args->dom, args->memory, args->flags, error);
}

DispatchResult dispatch_domain_set_memory(HearthCall *call, const RemoteDomainSetMemoryArgs *args,
                                          void *ret, GError **error)
{
    (void)ret;
    return set_memory(call, &args->dom, args->memory, DISPATCH_AFFECT_LIVE, error);
}

DispatchResult dispatch_domain_set_max_memory(HearthCall *call,
                                              const RemoteDomainSetMaxMemoryArgs *args, void *ret,
                                              GError **error)
{
    (void)ret;
    return set_memory(call, &args->dom, args->memory, MEM_MAXIMUM, error);
}

static DispatchResult set_vcpus(HearthCall *call, const RemoteNonnullDomain *ref, guint n,
                                guint flags, GError **error)
{
    HearthDomain *dom = dispatch_lookup_domain(call, ref, error);
    g_autoptr(HearthDomainDef) copy = NULL;
    gboolean live, config;

    if (!dom ||
        !dispatch_check_flags(
            flags, DISPATCH_AFFECT_LIVE | DISPATCH_AFFECT_CONFIG | VCPU_MAXIMUM | VCPU_GUEST,
            "virDomainSetVcpusFlags", error) ||
        !dispatch_resolve_impact(dom, flags, &live, &config, error))
        return DISPATCH_FAILED;
    if (flags & VCPU_GUEST) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_NO_SUPPORT,
                    _("setting the vCPUs the guest uses needs the QEMU guest agent, which "
                      "Hearth does not use"));
        return DISPATCH_FAILED;
    }
    if (live) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_OPERATION_UNSUPPORTED,
                    _("changing the vCPUs of a running guest (hotplug) is not supported by "
                      "Hearth yet; use --config for the next start"));
        return DISPATCH_FAILED;
    }
    if (n == 0) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_INVALID_ARG, _("vcpus must not be 0"));
        return DISPATCH_FAILED;
    }
    copy = domain_def_copy(dom->def);
    if (flags & VCPU_MAXIMUM) {
        guint current = copy->vcpus_current ? copy->vcpus_current : copy->vcpus;

        copy->vcpus = n;
        copy->vcpus_current = current < n ? current : 0;
    } else {
        if (n > copy->vcpus) {
            g_set_error(error, HEARTH_ERROR, HEARTH_ERR_INVALID_ARG,
                        _("requested vcpus is greater than max allowable vcpus for the "
                          "persistent domain: %u > %u"),
                        n, copy->vcpus);
            return DISPATCH_FAILED;
        }
        copy->vcpus_current = n == copy->vcpus ? 0 : n;
    }
    return domain_store_replace_def(rpc_client_get_daemon(call->client)->domains, dom,
                                    g_steal_pointer(&copy), error)
               ? DISPATCH_DONE
               : DISPATCH_FAILED;
}

DispatchResult dispatch_domain_set_vcpus_flags(HearthCall *call,
                                               const RemoteDomainSetVcpusFlagsArgs *args, void *ret,
                                               GError **error)
{
    (void)ret;
    return set_vcpus(call, &args->dom, args->nvcpus, args->flags, error);
}

DispatchResult dispatch_domain_set_vcpus(HearthCall *call, const RemoteDomainSetVcpusArgs *args,
                                         void *ret, GError **error)
{
    (void)ret;
    return set_vcpus(call, &args->dom, args->nvcpus, DISPATCH_AFFECT_LIVE, error);
}
