/* Host statistics: NODE_GET_CPU_STATS, NODE_GET_MEMORY_STATS, NODE_GET_FREE_MEMORY,
 * NODE_GET_CELLS_FREE_MEMORY, and CONNECT_GET_CPU_MODEL_NAMES. */
#include "dispatch-util.h"
#include "hearth-error.h"
#include "host-stats.h"
#include "rpc-server.h"

#include <glib/gi18n-lib.h>

/* libvirt's Linux driver has exactly four figures of each kind; nparams 0 asks how many. */
#define N_NODE_STATS 4

static gboolean check_nparams(int nparams, const char *api, GError **error)
{
    if (nparams == N_NODE_STATS)
        return TRUE;
    g_set_error(error, HEARTH_ERROR, HEARTH_ERR_INVALID_ARG,
                _("nparams in %s must be %d (or 0 to ask for the count)"), api, N_NODE_STATS);
    return FALSE;
}

DispatchResult dispatch_node_get_cpu_stats(HearthCall *call, const RemoteNodeGetCpuStatsArgs *args,
                                           RemoteNodeGetCpuStatsRet *ret, GError **error)
{
    HostCpuStats st;

    (void)call;
    if (!dispatch_check_flags(args->flags, 0, "virNodeGetCPUStats", error))
        return DISPATCH_FAILED;
    ret->nparams = N_NODE_STATS;
    if (args->nparams == 0)
        return DISPATCH_DONE;
    if (!check_nparams(args->nparams, "virNodeGetCPUStats", error) ||
        !host_cpu_stats_read_at("/", args->cpuNum, &st, error))
        return DISPATCH_FAILED;
    ret->params_val = g_new0(RemoteNodeGetCpuStats, N_NODE_STATS);
    ret->params_len = N_NODE_STATS;
    ret->params_val[0] = (RemoteNodeGetCpuStats){g_strdup("kernel"), st.kernel};
    ret->params_val[1] = (RemoteNodeGetCpuStats){g_strdup("user"), st.user};
    ret->params_val[2] = (RemoteNodeGetCpuStats){g_strdup("idle"), st.idle};
    ret->params_val[3] = (RemoteNodeGetCpuStats){g_strdup("iowait"), st.iowait};
    return DISPATCH_DONE;
}

DispatchResult dispatch_node_get_memory_stats(HearthCall *call,
                                              const RemoteNodeGetMemoryStatsArgs *args,
                                              RemoteNodeGetMemoryStatsRet *ret, GError **error)
{
    HostMemoryStats st;

    (void)call;
    if (!dispatch_check_flags(args->flags, 0, "virNodeGetMemoryStats", error))
        return DISPATCH_FAILED;
    ret->nparams = N_NODE_STATS;
    if (args->nparams == 0)
        return DISPATCH_DONE;
    if (!check_nparams(args->nparams, "virNodeGetMemoryStats", error) ||
        !host_memory_stats_read_at("/", args->cellNum, &st, error))
        return DISPATCH_FAILED;
    ret->params_val = g_new0(RemoteNodeGetMemoryStats, N_NODE_STATS);
    ret->params_len = N_NODE_STATS;
    ret->params_val[0] = (RemoteNodeGetMemoryStats){g_strdup("total"), st.total};
    ret->params_val[1] = (RemoteNodeGetMemoryStats){g_strdup("free"), st.free};
    ret->params_val[2] = (RemoteNodeGetMemoryStats){g_strdup("buffers"), st.buffers};
    ret->params_val[3] = (RemoteNodeGetMemoryStats){g_strdup("cached"), st.cached};
    return DISPATCH_DONE;
}

DispatchResult dispatch_node_get_free_memory(HearthCall *call, const void *args,
                                             RemoteNodeGetFreeMemoryRet *ret, GError **error)
{
    HostMemoryStats st;

    (void)call;
    (void)args;
    if (!host_memory_stats_read_at("/", HOST_ALL_CELLS, &st, error))
        return DISPATCH_FAILED;
    ret->freeMem = st.free * 1024;
    return DISPATCH_DONE;
}

DispatchResult dispatch_node_get_cells_free_memory(HearthCall *call,
                                                   const RemoteNodeGetCellsFreeMemoryArgs *args,
                                                   RemoteNodeGetCellsFreeMemoryRet *ret,
                                                   GError **error)
{
    GArray *cells;

    (void)call;
    if (args->maxcells > REMOTE_NODE_MAX_CELLS) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_RPC, _("maxCells > REMOTE_NODE_MAX_CELLS"));
        return DISPATCH_FAILED;
    }
    cells = host_cells_free_read_at("/", args->startCell, args->maxcells, error);
    if (!cells)
        return DISPATCH_FAILED;
    ret->cells_len = cells->len;
    ret->cells_val = (guint64 *)(void *)g_array_free(cells, FALSE);
    return DISPATCH_DONE;
}

DispatchResult dispatch_connect_get_cpu_model_names(HearthCall *call,
                                                    const RemoteConnectGetCpuModelNamesArgs *args,
                                                    RemoteConnectGetCpuModelNamesRet *ret,
                                                    GError **error)
{
    guint n = 0;
    const char *const *names = host_cpu_model_names(args->arch, &n);

    (void)call;
    if (!dispatch_check_flags(args->flags, 0, "virConnectGetCPUModelNames", error))
        return DISPATCH_FAILED;
    if (!names) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_INVALID_ARG,
                    _("cannot find CPU models for architecture '%s'"), args->arch);
        return DISPATCH_FAILED;
    }
    ret->ret = (gint32)n;
    if (args->need_results) {
        ret->models_val = g_new0(char *, n);
        ret->models_len = n;
        for (guint i = 0; i < n; i++)
            ret->models_val[i] = g_strdup(names[i]);
    }
    return DISPATCH_DONE;
}
