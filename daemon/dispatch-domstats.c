/* Per-domain figures virsh shows: domblkstat, domblkinfo, domifstat, dommemstat, vcpuinfo,
 * domjobinfo, domcontrol. What QEMU alone knows (block I/O counters, vCPU threads) is asked over
 * QMP through the worker; the rest comes from /proc and the image files. */
#include "blockjob-chain.h"
#include "dispatch-util.h"
#include "domain-runner.h"
#include "domain-store.h"
#include "hearth-daemon.h"
#include "hearth-error.h"
#include "host-stats.h"
#include "image-probe.h"
#include "rpc-server.h"

#include <errno.h>
#include <glib/gi18n-lib.h>
#include <sched.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* virDomainMemoryStatTags */
enum { MEMSTAT_ACTUAL_BALLOON = 6, MEMSTAT_RSS = 7 };
/* virVcpuState */
enum { VCPU_RUNNING = 1 };

static gboolean require_running(HearthDomain *dom, GError **error)
{
    if (hearth_domain_is_active(dom) && domain_runner_qemu_pid(dom) > 0)
        return TRUE;
    g_set_error(error, HEARTH_ERROR, HEARTH_ERR_OPERATION_INVALID, _("domain is not running"));
    return FALSE;
}

/* A QMP query for a call, answered when the worker replies. */
typedef struct {
    HearthCall *call;
    HearthDaemon *daemon;
    guint8 uuid[16];
    char *name; /* disk the call asked about; "" for all */
    int maxinfo;
    int maplen;
} QueryCtx;

static QueryCtx *query_new(HearthCall *call, HearthDomain *dom, const char *name)
{
    QueryCtx *q = g_new0(QueryCtx, 1);

    q->call = call;
    q->daemon = rpc_client_get_daemon(call->client);
    memcpy(q->uuid, dom->def->uuid, 16);
    q->name = g_strdup(name ? name : "");
    return q;
}

static void query_free(QueryCtx *q)
{
    g_free(q->name);
    g_free(q);
}

static json_t *qmp_args(const char *execute)
{
    return json_pack("{s:s}", "execute", execute);
}

/* ---- domblkstat ---- */

static gboolean disk_node(HearthDomain *dom, const char *name, char **node, GError **error)
{
    HearthDomainDisk *disk = dom->live ? chain_find_disk(dom->live, name) : NULL;
    int index = disk ? chain_layer_index(disk, &disk->src) : -1;

    if (!disk) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_INVALID_ARG,
                    _("invalid path: domain '%s' has no disk '%s'"), dom->def->name, name);
        return FALSE;
    }
    if (index < 0) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_OPERATION_INVALID,
                    _("disk '%s' of domain '%s' has no image"), name, dom->def->name);
        return FALSE;
    }
    *node = g_strdup_printf("libvirt-%d-format", index);
    return TRUE;
}

static void on_blockstats(json_t *result, const GError *error, gpointer data)
{
    QueryCtx *q = data;
    RemoteDomainBlockStatsRet *ret = q->call->ret;
    HearthDomain *dom = domain_store_lookup_by_uuid(q->daemon->domains, q->uuid);
    g_autofree char *node = NULL;
    g_autoptr(GError) local = NULL;
    gboolean found = FALSE;
    size_t i;
    json_t *entry;

    if (error) {
        hearth_call_fail(q->call, error);
        query_free(q);
        return;
    }
    if (!dom || (*q->name && !disk_node(dom, q->name, &node, &local))) {
        if (!local)
            g_set_error(&local, HEARTH_ERROR, HEARTH_ERR_NO_DOMAIN, _("domain is gone"));
        hearth_call_fail(q->call, local);
        query_free(q);
        return;
    }
    json_array_foreach(result, i, entry)
    {
        const char *name = json_string_value(json_object_get(entry, "node-name"));
        json_t *st = json_object_get(entry, "stats");

        /* a disk's device, named by its top node (every disk when the path is "") */
        if (!name || !st || !g_str_has_prefix(name, "libvirt-") ||
            (node ? strcmp(name, node) != 0 : !json_string_value(json_object_get(entry, "qdev"))))
            continue;
        found = TRUE;
        ret->rd_req += json_integer_value(json_object_get(st, "rd_operations"));
        ret->rd_bytes += json_integer_value(json_object_get(st, "rd_bytes"));
        ret->wr_req += json_integer_value(json_object_get(st, "wr_operations"));
        ret->wr_bytes += json_integer_value(json_object_get(st, "wr_bytes"));
    }
    ret->errs = -1; /* QEMU does not count them: -1 is libvirt's "unknown" */
    if (!found && node) {
        g_set_error(&local, HEARTH_ERROR, HEARTH_ERR_INTERNAL,
                    _("QEMU reports no statistics for disk '%s'"), q->name);
        hearth_call_fail(q->call, local);
    } else {
        hearth_call_complete(q->call);
    }
    query_free(q);
}

DispatchResult dispatch_domain_block_stats(HearthCall *call, const RemoteDomainBlockStatsArgs *args,
                                           RemoteDomainBlockStatsRet *ret, GError **error)
{
    HearthDomain *dom = dispatch_lookup_domain(call, &args->dom, error);
    g_autofree char *node = NULL;

    (void)ret;
    if (!dom || !require_running(dom, error) ||
        (*args->path && !disk_node(dom, args->path, &node, error)))
        return DISPATCH_FAILED;
    domain_runner_query(rpc_client_get_daemon(call->client), dom, "qmp",
                        qmp_args("query-blockstats"), 0, on_blockstats,
                        query_new(call, dom, args->path));
    return DISPATCH_ASYNC;
}

/* ---- domblkinfo ---- */

DispatchResult dispatch_domain_get_block_info(HearthCall *call,
                                              const RemoteDomainGetBlockInfoArgs *args,
                                              RemoteDomainGetBlockInfoRet *ret, GError **error)
{
    HearthDomain *dom = dispatch_lookup_domain(call, &args->dom, error);
    HearthDomainDisk *disk;
    g_auto(ImageInfo) info = {0};
    struct stat st;

    if (!dom || !dispatch_check_flags(args->flags, 0, "virDomainGetBlockInfo", error))
        return DISPATCH_FAILED;
    /* as libvirt: the running guest's disk, else the defined one */
    disk = chain_find_disk(dom->live ? dom->live : dom->def, args->path);
    if (!disk) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_INVALID_ARG,
                    _("invalid path: domain '%s' has no disk '%s'"), dom->def->name, args->path);
        return DISPATCH_FAILED;
    }
    if (!disk->src.path || stat(disk->src.path, &st) < 0) {
        hearth_error_set_errno(error, disk->src.path ? errno : ENOENT,
                               "cannot access the image of disk '%s'", args->path);
        return DISPATCH_FAILED;
    }
    if (S_ISREG(st.st_mode) && !image_probe_file(disk->src.path, &info, error))
        return DISPATCH_FAILED;
    ret->physical = (guint64)st.st_size;
    ret->allocation = (guint64)st.st_blocks * 512;
    ret->capacity = info.virtual_size ? info.virtual_size : (guint64)st.st_size;
    return DISPATCH_DONE;
}

/* ---- domifstat ---- */

/* The 16 counters of @dev in /proc/net/dev (this process's network namespace, as libvirt reads
 * them): receive bytes, packets, errs, drop, fifo, frame, compressed, multicast, then transmit
 * bytes, packets, errs, drop, ... */
static gboolean netdev_counters(const char *dev, guint64 v[16])
{
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;

    if (!g_file_get_contents("/proc/net/dev", &text, NULL, NULL))
        return FALSE;
    lines = g_strsplit(text, "\n", -1);
    for (guint i = 0; lines[i]; i++) {
        char *colon = strchr(lines[i], ':');
        g_auto(GStrv) f = NULL;
        guint n = 0;

        if (!colon)
            continue;
        *colon = '\0';
        if (strcmp(g_strstrip(lines[i]), dev) != 0)
            continue;
        f = g_strsplit_set(colon + 1, " \t", -1);
        for (guint j = 0; f[j] && n < 16; j++)
            if (*f[j])
                v[n++] = g_ascii_strtoull(f[j], NULL, 10);
        return n == 16;
    }
    return FALSE;
}

DispatchResult dispatch_domain_interface_stats(HearthCall *call,
                                               const RemoteDomainInterfaceStatsArgs *args,
                                               RemoteDomainInterfaceStatsRet *ret, GError **error)
{
    HearthDomain *dom = dispatch_lookup_domain(call, &args->dom, error);
    const HearthDomainInterface *found = NULL;
    guint64 v[16] = {0};

    if (!dom || !require_running(dom, error))
        return DISPATCH_FAILED;
    for (guint i = 0; dom->live && dom->live->devices && i < dom->live->devices->len; i++) {
        const HearthDomainDevice *dev = dom->live->devices->pdata[i];
        const HearthDomainInterface *net = dev->u.net;

        if (dev->kind == HEARTH_DEVICE_INTERFACE &&
            (g_strcmp0(net->target_dev, args->device) == 0 ||
             g_ascii_strcasecmp(net->mac ? net->mac : "", args->device) == 0))
            found = net;
    }
    if (!found || !found->target_dev) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_INVALID_ARG,
                    found ? _("interface '%s' of domain '%s' has no host device (user "
                              "networking): no statistics")
                          : _("invalid path, '%s' is not a known interface of domain '%s'"),
                    args->device, dom->def->name);
        return DISPATCH_FAILED;
    }
    if (!netdev_counters(found->target_dev, v)) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_OPERATION_FAILED,
                    _("no statistics for interface '%s' of domain '%s'"), found->target_dev,
                    dom->def->name);
        return DISPATCH_FAILED;
    }
    /* The tap's receive side is what the guest sent: swapped, as libvirt does. */
    ret->rx_bytes = (gint64)v[8];
    ret->rx_packets = (gint64)v[9];
    ret->rx_errs = (gint64)v[10];
    ret->rx_drop = (gint64)v[11];
    ret->tx_bytes = (gint64)v[0];
    ret->tx_packets = (gint64)v[1];
    ret->tx_errs = (gint64)v[2];
    ret->tx_drop = (gint64)v[3];
    return DISPATCH_DONE;
}

/* ---- dommemstat ---- */

static guint64 proc_status_kib(pid_t pid, const char *key)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/status", (int)pid);
    g_autofree char *text = NULL;

    return g_file_get_contents(path, &text, NULL, NULL) ? host_proc_kv_value(text, key) : 0;
}

DispatchResult dispatch_domain_memory_stats(HearthCall *call,
                                            const RemoteDomainMemoryStatsArgs *args,
                                            RemoteDomainMemoryStatsRet *ret, GError **error)
{
    HearthDomain *dom = dispatch_lookup_domain(call, &args->dom, error);
    const HearthDomainDef *def;
    guint n = 0;

    if (!dom || !dispatch_check_flags(args->flags, 0, "virDomainMemoryStats", error) ||
        !require_running(dom, error))
        return DISPATCH_FAILED;
    def = dom->live ? dom->live : dom->def;
    /* Without guest statistics polling, what libvirt reports too: the balloon's size (it never
     * moves: Hearth does not resize balloons) and QEMU's resident memory. */
    ret->stats_val = g_new0(RemoteDomainMemoryStat, 2);
    if (args->maxStats > n) {
        ret->stats_val[n].tag = MEMSTAT_ACTUAL_BALLOON;
        ret->stats_val[n++].val =
            def->current_memory_kib ? def->current_memory_kib : def->memory_kib;
    }
    if (args->maxStats > n) {
        ret->stats_val[n].tag = MEMSTAT_RSS;
        ret->stats_val[n++].val = proc_status_kib(domain_runner_qemu_pid(dom), "VmRSS");
    }
    ret->stats_len = n;
    return DISPATCH_DONE;
}

/* ---- vcpuinfo ---- */

static void on_cpus(json_t *result, const GError *error, gpointer data)
{
    QueryCtx *q = data;
    RemoteDomainGetVcpusRet *ret = q->call->ret;
    HearthDomain *dom = domain_store_lookup_by_uuid(q->daemon->domains, q->uuid);
    pid_t pid = dom ? domain_runner_qemu_pid(dom) : 0;
    guint n = error ? 0 : (guint)MIN(json_array_size(result), (size_t)q->maxinfo);

    if (error || !pid) {
        g_autoptr(GError) gone = NULL;

        if (!error)
            g_set_error(&gone, HEARTH_ERROR, HEARTH_ERR_OPERATION_INVALID,
                        _("domain is not running"));
        hearth_call_fail(q->call, error ? error : gone);
        query_free(q);
        return;
    }
    ret->info_val = g_new0(RemoteVcpuInfo, MAX(n, 1));
    ret->info_len = n;
    ret->cpumaps_len = n * (guint)q->maplen;
    ret->cpumaps_val = g_malloc0(MAX(ret->cpumaps_len, 1));
    for (guint i = 0; i < n; i++) {
        json_t *c = json_array_get(result, i);
        int tid = (int)json_integer_value(json_object_get(c, "thread-id"));
        RemoteVcpuInfo *info = &ret->info_val[i];
        g_autofree char *stat = g_strdup_printf("/proc/%d/task/%d/stat", (int)pid, tid);
        cpu_set_t mask;

        info->number = (guint32)json_integer_value(json_object_get(c, "cpu-index"));
        info->state = VCPU_RUNNING;
        host_proc_cpu_time(stat, &info->cpu_time, &info->cpu);
        CPU_ZERO(&mask);
        if (q->maplen > 0 && sched_getaffinity(tid, sizeof(mask), &mask) == 0) {
            for (int cpu = 0; cpu < q->maplen * 8 && cpu < CPU_SETSIZE; cpu++)
                if (CPU_ISSET(cpu, &mask))
                    ret->cpumaps_val[i * (guint)q->maplen + (guint)cpu / 8] |= 1u << (cpu % 8);
        }
    }
    hearth_call_complete(q->call);
    query_free(q);
}

DispatchResult dispatch_domain_get_vcpus(HearthCall *call, const RemoteDomainGetVcpusArgs *args,
                                         RemoteDomainGetVcpusRet *ret, GError **error)
{
    HearthDomain *dom = dispatch_lookup_domain(call, &args->dom, error);
    QueryCtx *q;

    (void)ret;
    if (!dom || !require_running(dom, error))
        return DISPATCH_FAILED;
    if (args->maxinfo < 1 || args->maxinfo > REMOTE_VCPUINFO_MAX || args->maplen < 0 ||
        (gint64)args->maxinfo * args->maplen > REMOTE_CPUMAPS_MAX) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_RPC, _("maxinfo or maplen out of range"));
        return DISPATCH_FAILED;
    }
    q = query_new(call, dom, NULL);
    q->maxinfo = args->maxinfo;
    q->maplen = args->maplen;
    domain_runner_query(rpc_client_get_daemon(call->client), dom, "qmp",
                        qmp_args("query-cpus-fast"), 0, on_cpus, q);
    return DISPATCH_ASYNC;
}

/* ---- domjobinfo, domcontrol ---- */

DispatchResult dispatch_domain_get_job_info(HearthCall *call,
                                            const RemoteDomainGetJobInfoArgs *args,
                                            RemoteDomainGetJobInfoRet *ret, GError **error)
{
    HearthDomain *dom = dispatch_lookup_domain(call, &args->dom, error);

    /* No migration or save ever runs: VIR_DOMAIN_JOB_NONE, as libvirt says when idle. */
    if (!dom || !require_running(dom, error))
        return DISPATCH_FAILED;
    ret->type = 0;
    return DISPATCH_DONE;
}

DispatchResult dispatch_domain_get_control_info(HearthCall *call,
                                                const RemoteDomainGetControlInfoArgs *args,
                                                RemoteDomainGetControlInfoRet *ret, GError **error)
{
    HearthDomain *dom = dispatch_lookup_domain(call, &args->dom, error);

    if (!dom || !dispatch_check_flags(args->flags, 0, "virDomainGetControlInfo", error))
        return DISPATCH_FAILED;
    /* VIR_DOMAIN_CONTROL_OK: queries never wait on a busy monitor here */
    ret->state = 0;
    ret->details = 0;
    ret->stateTime = 0;
    return DISPATCH_DONE;
}
