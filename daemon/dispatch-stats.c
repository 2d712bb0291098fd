/* CONNECT_GET_ALL_DOMAIN_STATS: what virt-manager polls every second (state, CPU time, vCPUs,
 * balloon). Answered from memory and /proc, never from a guest's worker. */
#include "domain-events.h"
#include "domain-runner.h"
#include "domain-store.h"
#include "hearth-daemon.h"
#include "hearth-error.h"
#include "rpc-server.h"

#include <glib/gi18n-lib.h>
#include <string.h>

/* virDomainStatsTypes */
enum {
    STATS_STATE = 1,
    STATS_CPU_TOTAL = 2,
    STATS_BALLOON = 4,
    STATS_VCPU = 8,
};
enum { TP_INT = 1, TP_UINT = 2, TP_LLONG = 3, TP_ULLONG = 4 };
/* The list filters of virConnectListAllDomains we honour, and GET_ALL_DOMAIN_STATS' own. */
enum {
    FILTER_ACTIVE = 1,
    FILTER_INACTIVE = 2,
    FILTER_RUNNING = 16,
    FILTER_PAUSED = 32,
    FILTER_SHUTOFF = 64,
    FILTER_OTHER = 128,
    FLAG_ENFORCE = 1u << 31, /* NOWAIT and BACKING change nothing here */
};

static void add_param(GArray *params, const char *field, int type, guint64 value)
{
    RemoteTypedParam p = {.field = g_strdup(field)};

    p.value.type = type;
    switch (type) {
    case TP_INT:
        p.value.u.i = (gint32)value;
        break;
    case TP_UINT:
        p.value.u.ui = (guint32)value;
        break;
    default:
        p.value.u.ul = value;
    }
    g_array_append_val(params, p);
}

static gboolean state_matches(const HearthDomain *dom, guint flags)
{
    gboolean active = hearth_domain_is_active(dom);

    if ((flags & (FILTER_ACTIVE | FILTER_INACTIVE)) &&
        !((flags & FILTER_ACTIVE && active) || (flags & FILTER_INACTIVE && !active)))
        return FALSE;
    if (flags & (FILTER_RUNNING | FILTER_PAUSED | FILTER_SHUTOFF | FILTER_OTHER)) {
        int s = dom->state;
        return (flags & FILTER_RUNNING && s == DOMAIN_STATE_RUNNING) ||
               (flags & FILTER_PAUSED && s == DOMAIN_STATE_PAUSED) ||
               (flags & FILTER_SHUTOFF && s == DOMAIN_STATE_SHUTOFF) ||
               (flags & FILTER_OTHER && s != DOMAIN_STATE_RUNNING && s != DOMAIN_STATE_PAUSED &&
                s != DOMAIN_STATE_SHUTOFF);
    }
    return TRUE;
}

static void fill_record(HearthDomain *dom, guint stats, RemoteDomainStatsRecord *rec)
{
    const HearthDomainDef *def = hearth_domain_current_def(dom);
    GArray *params = g_array_new(FALSE, TRUE, sizeof(RemoteTypedParam));
    guint vcpus = def->vcpus_current ? def->vcpus_current : def->vcpus;
    guint64 current = def->current_memory_kib ? def->current_memory_kib : def->memory_kib;

    domain_to_wire(dom, &rec->dom);
    if (stats & STATS_STATE) {
        add_param(params, "state.state", TP_INT, (guint64)dom->state);
        add_param(params, "state.reason", TP_INT, (guint64)dom->reason);
    }
    if ((stats & STATS_CPU_TOTAL) && hearth_domain_is_active(dom))
        add_param(params, "cpu.time", TP_ULLONG, domain_runner_cpu_time(dom));
    if (stats & STATS_BALLOON) {
        add_param(params, "balloon.current", TP_ULLONG, current);
        add_param(params, "balloon.maximum", TP_ULLONG, def->memory_kib);
    }
    if (stats & STATS_VCPU) {
        add_param(params, "vcpu.current", TP_UINT, vcpus);
        add_param(params, "vcpu.maximum", TP_UINT, def->vcpus);
    }
    rec->params_len = params->len;
    rec->params_val = (RemoteTypedParam *)g_array_free(params, FALSE);
}

DispatchResult dispatch_connect_get_all_domain_stats(HearthCall *call,
                                                     const RemoteConnectGetAllDomainStatsArgs *args,
                                                     RemoteConnectGetAllDomainStatsRet *ret,
                                                     GError **error)
{
    DomainStore *store = rpc_client_get_daemon(call->client)->domains;
    const guint known = STATS_STATE | STATS_CPU_TOTAL | STATS_BALLOON | STATS_VCPU;
    g_autoptr(GPtrArray) doms = g_ptr_array_new();

    if ((args->flags & FLAG_ENFORCE) && (args->stats & ~known)) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_ARGUMENT_UNSUPPORTED,
                    _("requested statistics 0x%x are not supported"), args->stats & ~known);
        return DISPATCH_FAILED;
    }
    if (args->doms_len > 0) {
        /* Explicit domains: list filters do not apply (libvirt rejects them). */
        for (guint i = 0; i < args->doms_len; i++) {
            HearthDomain *dom = domain_store_lookup_by_uuid(store, args->doms_val[i].uuid);
            if (!dom) {
                g_set_error(error, HEARTH_ERROR, HEARTH_ERR_NO_DOMAIN,
                            _("no domain with matching uuid (%s)"), args->doms_val[i].name);
                return DISPATCH_FAILED;
            }
            g_ptr_array_add(doms, dom);
        }
    } else {
        g_autoptr(GPtrArray) all = domain_store_list(store);
        for (guint i = 0; i < all->len; i++) {
            if (state_matches(all->pdata[i], args->flags))
                g_ptr_array_add(doms, all->pdata[i]);
        }
    }
    ret->retStats_len = doms->len;
    ret->retStats_val = g_new0(RemoteDomainStatsRecord, doms->len ? doms->len : 1);
    for (guint i = 0; i < doms->len; i++)
        fill_record(doms->pdata[i], args->stats ? args->stats : known, &ret->retStats_val[i]);
    return DISPATCH_DONE;
}
