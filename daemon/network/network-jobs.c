/* Start and stop: checks in the main thread, then the bring-up or teardown in a worker
 * thread, completed from the main loop; and the watch on each network's dnsmasq. */
#include "network-driver-priv.h"
#include "bridge-netlink.h"
#include "hearth-error.h"

#include <glib-unix.h>
#include <glib/gi18n-lib.h>
#include <string.h>
#include <unistd.h>

static void dnsmasq_watch_stop(NetworkRuntime *rt)
{
    if (rt->watch)
        g_source_remove(rt->watch);
    rt->watch = 0;
    if (rt->pidfd >= 0)
        close(rt->pidfd);
    rt->pidfd = -1;
}

/* A dnsmasq that ran for a while and died is started again (once per exit); one that dies
 * right away would only die again, so it stays down and says so. */
static gboolean on_dnsmasq_exit(gint fd, GIOCondition cond, gpointer data)
{
    HearthNetwork *net = data;
    NetworkRuntime *rt = net->rt;
    gboolean restart = g_get_monotonic_time() - rt->dnsmasq_since > 5 * G_USEC_PER_SEC;
    g_autoptr(GError) error = NULL;
    NetworkTools tools = {0};

    close(rt->pidfd);
    rt->pidfd = -1;
    rt->watch = 0;
    if (restart && network_tools_find(net->live, &tools, &error) &&
        network_refresh(rt->paths, &tools, net->live, rt, &error)) {
        g_warning("dnsmasq of network '%s' exited; started it again (pid %d)", net->def->name,
                  (int)rt->dnsmasq.pid);
        network_jobs_watch_dnsmasq(NULL, net);
    } else {
        g_warning("dnsmasq of network '%s' exited%s%s; DHCP and DNS on bridge '%s' stay down "
                  "until the network is restarted",
                  net->def->name, error ? ": " : " right after starting",
                  error ? error->message : "", net->live->bridge);
    }
    network_tools_clear(&tools);
    return G_SOURCE_REMOVE;
}

void network_jobs_watch_dnsmasq(NetworkDriver *drv, HearthNetwork *net)
{
    NetworkRuntime *rt = net->rt;

    if (drv)
        rt->paths = drv->paths;
    if (!rt->dnsmasq.pid)
        return;
    rt->dnsmasq_since = g_get_monotonic_time();
    rt->pidfd = dnsmasq_process_pidfd(&rt->dnsmasq);
    if (rt->pidfd >= 0)
        rt->watch = g_unix_fd_add(rt->pidfd, G_IO_IN, on_dnsmasq_exit, net);
}

/* Another active (or starting) network on an overlapping subnet. */
static gboolean check_overlaps(NetworkDriver *drv, HearthNetwork *net, GError **error)
{
    const HearthNetworkDef *def = net->def;
    GHashTableIter it;
    gpointer value;

    g_hash_table_iter_init(&it, drv->by_name);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        HearthNetwork *o = value;
        /* One that is starting counts as running already. */
        const HearthNetworkDef *od = o->live                       ? o->live
                                     : o->busy == NETWORK_STARTING ? o->def
                                                                   : NULL;

        if (o == net || !od)
            continue;
        for (guint i = 0; i < def->ips->len; i++) {
            const HearthNetIp *a = g_ptr_array_index(def->ips, i);

            for (guint j = 0; j < od->ips->len; j++) {
                const HearthNetIp *b = g_ptr_array_index(od->ips, j);
                char sa[16], sb[16];

                if (!network_subnets_overlap(a->address, a->prefix, b->address, b->prefix))
                    continue;
                g_set_error(error, HEARTH_ERROR, HEARTH_ERR_OPERATION_FAILED,
                            _("network '%s' (%s/%u) overlaps network '%s' (%s/%u), which is "
                              "active on bridge '%s'"),
                            def->name, network_ipv4_format(network_ip_subnet(a), sa), a->prefix,
                            od->name, network_ipv4_format(network_ip_subnet(b), sb), b->prefix,
                            od->bridge ? od->bridge : "");
                return FALSE;
            }
        }
    }
    return TRUE;
}

static gboolean check_start(NetworkDriver *drv, HearthNetwork *net, NetworkTools *tools,
                            GError **error)
{
    HearthNetworkDef *def = net->def;

    if (!network_driver_check_idle(net, error))
        return FALSE;
    if (hearth_network_is_active(net)) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_OPERATION_INVALID,
                    _("network is already active"));
        return FALSE;
    }
    if (def->forward_mode == HEARTH_NET_FORWARD_OTHER) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_CONFIG_UNSUPPORTED,
                    _("forward mode '%s' of network '%s' is not supported"), def->forward_mode_name,
                    def->name);
        return FALSE;
    }
    if (def->forward_mode == HEARTH_NET_FORWARD_BRIDGE && !netlink_link_exists(def->bridge))
        g_warning("network '%s' uses bridge '%s', which does not exist (yet); guests cannot "
                  "attach to it until it does",
                  def->name, def->bridge);
    if (!network_def_is_virtual(def))
        return TRUE;
    if (drv->host_guard) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_OPERATION_INVALID,
                    _("refusing to start network '%s': this hearthd runs with --root in a "
                      "network namespace that has a default route (the host's own, it seems), "
                      "and starting a network would change the host's network; run it in a "
                      "namespace of its own (ip netns exec, unshare -n) or set "
                      "HEARTH_ALLOW_HOST_NETWORK=1"),
                    def->name);
        return FALSE;
    }
    if (!def->bridge || strstr(def->bridge, "%d")) {
        if (!network_driver_assign_bridge(drv, def, net, error) ||
            (net->persistent && !network_store_write_config(drv->paths, def, error)))
            return FALSE;
    }
    if (netlink_link_exists(def->bridge)) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_OPERATION_FAILED,
                    _("bridge name '%s' of network '%s' is already in use by a network device "
                      "on this host"),
                    def->bridge, def->name);
        return FALSE;
    }
    return check_overlaps(drv, net, error) && network_check_routes(def, error) &&
           network_tools_find(def, tools, error);
}

typedef struct {
    NetworkDriver *drv;
    HearthNetwork *net;
    char *name; /* the thread's copy: a redefinition may replace net->def meanwhile */
    gboolean stop;
    NetworkTools tools;
    HearthNetworkDef *live; /* start: the definition being brought up */
    NetworkRuntime *rt;
    GError *error;
    NetworkDoneFunc done;
    gpointer user_data;
    gint64 since; /* monotonic start, for the log */
} NetworkJob;

static void job_free(NetworkJob *job)
{
    network_tools_clear(&job->tools);
    g_free(job->name);
    network_def_free(job->live);
    network_runtime_free(job->rt);
    g_clear_error(&job->error);
    g_free(job);
}

static gboolean job_done(gpointer data);

/* Bring-up and teardown block (netlink, nft, dnsmasq): each job has a thread of its own, and
 * its result comes back to the main loop. */
static gpointer job_thread(gpointer data)
{
    NetworkJob *job = data;
    g_autofree char *retired = NULL;

    if (job->stop)
        network_teardown(job->drv->paths, job->name, job->rt, &retired);
    else
        network_bringup(job->drv->paths, &job->tools, job->live, job->rt, &job->error);
    /* The reply goes out before the retired bridge is deleted, which is slow. */
    g_idle_add(job_done, job);
    if (retired)
        network_delete_retired(retired);
    return NULL;
}

static void job_finish(NetworkJob *job)
{
    NetworkDriver *drv = job->drv;
    HearthNetwork *net = job->net;
    double ms = (g_get_monotonic_time() - job->since) / 1000.0;

    net->busy = NETWORK_IDLE;
    if (job->stop) {
        g_info("network '%s' stopped (%.1f ms)", net->def->name, ms);
        g_clear_pointer(&net->live, network_def_free);
        if (!net->persistent)
            network_driver_forget(drv, net);
    } else if (job->error) {
        g_warning("network '%s' failed to start: %s", net->def->name, job->error->message);
        if (!net->persistent)
            network_driver_forget(drv, net);
    } else {
        g_info("network '%s' started on bridge '%s' (%.1f ms)", net->def->name,
               job->live->bridge ? job->live->bridge : "", ms);
        net->live = g_steal_pointer(&job->live);
        net->rt = g_steal_pointer(&job->rt);
        network_jobs_watch_dnsmasq(drv, net);
    }
}

static gboolean job_done(gpointer data)
{
    NetworkJob *job = data;

    job->drv->jobs--;
    job_finish(job);
    if (!job->drv->shutting_down && job->done)
        job->done(job->error, job->user_data);
    job_free(job);
    return G_SOURCE_REMOVE;
}

static void job_run(NetworkJob *job)
{
    job->since = g_get_monotonic_time();
    job->drv->jobs++;
    job->net->busy = job->stop ? NETWORK_STOPPING : NETWORK_STARTING;
    g_thread_unref(g_thread_new("network-job", job_thread, job));
}

static NetworkJob *start_job(NetworkDriver *drv, HearthNetwork *net, GError **error)
{
    NetworkJob *job = g_new0(NetworkJob, 1);

    job->drv = drv;
    job->net = net;
    job->name = g_strdup(net->def->name);
    if (!check_start(drv, net, &job->tools, error)) {
        job_free(job);
        return NULL;
    }
    job->live = network_def_copy(net->def);
    network_def_fill_live(job->live);
    job->rt = network_runtime_new();
    return job;
}

gboolean network_driver_start(NetworkDriver *drv, HearthNetwork *net, NetworkDoneFunc done,
                              gpointer user_data, GError **error)
{
    NetworkJob *job = start_job(drv, net, error);

    if (!job)
        return FALSE;
    job->done = done;
    job->user_data = user_data;
    job_run(job);
    return TRUE;
}

gboolean network_driver_stop(NetworkDriver *drv, HearthNetwork *net, NetworkDoneFunc done,
                             gpointer user_data, GError **error)
{
    NetworkJob *job;

    if (!network_driver_check_idle(net, error))
        return FALSE;
    if (!hearth_network_is_active(net)) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_OPERATION_INVALID,
                    _("network '%s' is not active"), net->def->name);
        return FALSE;
    }
    job = g_new0(NetworkJob, 1);
    job->drv = drv;
    job->net = net;
    job->name = g_strdup(net->def->name);
    job->stop = TRUE;
    job->rt = g_steal_pointer(&net->rt);
    if (!job->rt)
        job->rt = network_runtime_new();
    dnsmasq_watch_stop(job->rt); /* its exit is expected now */
    job->done = done;
    job->user_data = user_data;
    job_run(job);
    return TRUE;
}

gboolean network_jobs_start_sync(NetworkDriver *drv, HearthNetwork *net, GError **error)
{
    NetworkJob *job = start_job(drv, net, error);

    if (!job)
        return FALSE;
    job->since = g_get_monotonic_time();
    network_bringup(drv->paths, &job->tools, job->live, job->rt, &job->error);
    job_finish(job);
    job_free(job);
    return TRUE; /* a bring-up failure is logged by job_finish */
}
