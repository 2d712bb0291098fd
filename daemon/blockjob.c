#include "blockjob.h"
#include "uuid-util.h"
#include "blockjob-chain.h"
#include "blockjob-offline.h"
#include "domain-events.h"
#include "domain-runner.h"
#include "hearth-error.h"
#include "snapshot-store.h"

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <string.h>

struct BlockJob {
    BlockJobSpec *spec;
    char *state;
    gboolean offline;
    guint64 cur, end; /* offline progress */
    BlockJobWatch watch;
    gpointer watch_data;
};

static GHashTable *tables; /* domain uuid (16 bytes) → GPtrArray of BlockJob * */

static void parked_release(const HearthDomain *dom, const char *id);

void blockjob_spec_free(BlockJobSpec *spec)
{
    if (!spec)
        return;
    g_free(spec->id);
    g_free(spec->target);
    g_free(spec->top_path);
    g_free(spec->base_path);
    g_free(spec->active_path);
    g_free(spec->base_format);
    g_free(spec->above_path);
    if (spec->removed_paths)
        g_ptr_array_unref(spec->removed_paths);
    g_free(spec);
}

static void job_free(BlockJob *job)
{
    blockjob_spec_free(job->spec);
    g_free(job->state);
    g_free(job);
}

static GPtrArray *jobs_of(const HearthDomain *dom, gboolean create)
{
    const guint8 *uuid = dom->def->uuid;
    GPtrArray *jobs;

    if (!tables)
        tables = g_hash_table_new_full(hearth_uuid_hash, hearth_uuid_equal, g_free,
                                       (GDestroyNotify)g_ptr_array_unref);
    jobs = g_hash_table_lookup(tables, uuid);
    if (!jobs && create) {
        jobs = g_ptr_array_new_with_free_func((GDestroyNotify)job_free);
        g_hash_table_insert(tables, g_memdup2(uuid, 16), jobs);
    }
    return jobs;
}

BlockJob *blockjob_find(const HearthDomain *dom, const char *target)
{
    GPtrArray *jobs = jobs_of(dom, FALSE);

    for (guint i = 0; jobs && i < jobs->len; i++) {
        BlockJob *job = jobs->pdata[i];

        if (g_strcmp0(job->spec->target, target) == 0)
            return job;
    }
    return NULL;
}

static BlockJob *find_by_id(const HearthDomain *dom, const char *id)
{
    GPtrArray *jobs = jobs_of(dom, FALSE);

    for (guint i = 0; jobs && id && i < jobs->len; i++) {
        BlockJob *job = jobs->pdata[i];

        if (g_str_equal(job->spec->id, id))
            return job;
    }
    return NULL;
}

gboolean blockjob_any(const HearthDomain *dom)
{
    GPtrArray *jobs = jobs_of(dom, FALSE);

    return jobs && jobs->len > 0;
}

const BlockJobSpec *blockjob_spec(const BlockJob *job)
{
    return job->spec;
}

const char *blockjob_state(const BlockJob *job)
{
    return job->state;
}

void blockjob_set_watch(BlockJob *job, BlockJobWatch watch, gpointer data)
{
    job->watch = watch;
    job->watch_data = data;
}

gboolean blockjob_offline(const BlockJob *job)
{
    return job->offline;
}

static void set_state(BlockJob *job, const char *state)
{
    g_free(job->state);
    job->state = g_strdup(state);
}

static BlockJob *add_job(const HearthDomain *dom, BlockJobSpec *spec, const char *state)
{
    BlockJob *job = g_new0(BlockJob, 1);

    job->spec = spec;
    job->state = g_strdup(state);
    g_ptr_array_add(jobs_of(dom, TRUE), job);
    return job;
}

static void remove_job(const HearthDomain *dom, BlockJob *job)
{
    GPtrArray *jobs = jobs_of(dom, FALSE);

    if (jobs)
        g_ptr_array_remove(jobs, job);
}

BlockJob *blockjob_add_offline(HearthDomain *dom, BlockJobSpec *spec)
{
    BlockJob *job = add_job(dom, spec, "running");

    job->offline = TRUE;
    return job;
}

void blockjob_offline_progress(BlockJob *job, guint64 cur, guint64 end)
{
    job->cur = cur;
    job->end = end;
}

BlockJob *blockjob_find_id(const HearthDomain *dom, const char *id)
{
    return find_by_id(dom, id);
}

/* ---- the job's description, kept by the worker ---- */

static json_t *spec_to_json(const BlockJobSpec *s)
{
    json_t *removed = json_array();
    json_t *o;

    for (guint i = 0; s->removed_paths && i < s->removed_paths->len; i++)
        json_array_append_new(removed, json_string(s->removed_paths->pdata[i]));
    o = json_pack("{s:s, s:s, s:i, s:i, s:i, s:o, s:b}", "id", s->id, "target", s->target, "type",
                  s->type, "top", s->top, "base", s->base, "removed", removed, "delete",
                  s->delete_files);
    if (s->top_path)
        json_object_set_new(o, "top_path", json_string(s->top_path));
    if (s->base_path)
        json_object_set_new(o, "base_path", json_string(s->base_path));
    if (s->active_path)
        json_object_set_new(o, "active_path", json_string(s->active_path));
    if (s->base_format)
        json_object_set_new(o, "base_format", json_string(s->base_format));
    return o;
}

static char *json_str_dup(json_t *o, const char *key)
{
    return g_strdup(json_string_value(json_object_get(o, key)));
}

static BlockJobSpec *spec_from_json(json_t *o)
{
    BlockJobSpec *s;
    json_t *p;
    size_t i;

    if (!json_is_string(json_object_get(o, "id")) || !json_is_string(json_object_get(o, "target")))
        return NULL;
    s = g_new0(BlockJobSpec, 1);
    s->id = json_str_dup(o, "id");
    s->target = json_str_dup(o, "target");
    s->type = (int)json_integer_value(json_object_get(o, "type"));
    s->top = (int)json_integer_value(json_object_get(o, "top"));
    s->base = json_object_get(o, "base") ? (int)json_integer_value(json_object_get(o, "base")) : -1;
    s->top_path = json_str_dup(o, "top_path");
    s->base_path = json_str_dup(o, "base_path");
    s->active_path = json_str_dup(o, "active_path");
    s->base_format = json_str_dup(o, "base_format");
    s->delete_files = json_is_true(json_object_get(o, "delete"));
    s->removed_paths = g_ptr_array_new_with_free_func(g_free);
    json_array_foreach(json_object_get(o, "removed"), i, p)
    {
        if (json_is_string(p))
            g_ptr_array_add(s->removed_paths, g_strdup(json_string_value(p)));
    }
    return s;
}

/* ---- the end of a job: definitions, snapshot metadata, events ---- */

/* Snapshots whose image for this disk was the committed top now find that state in base. */
static void snapshots_follow_commit(HearthDaemon *daemon, HearthDomain *dom, const BlockJobSpec *s)
{
    SnapshotList *list = snapshot_store_get(daemon, dom);
    g_autoptr(GPtrArray) all = snapshot_list_all(list);

    for (guint i = 0; i < all->len; i++) {
        HearthSnapshotDef *snap = all->pdata[i];
        HearthDomainDef *defs[] = {snap->dom, snap->inactive_dom};
        gboolean changed = FALSE;
        g_autoptr(GError) error = NULL;

        for (guint k = 0; k < G_N_ELEMENTS(defs); k++) {
            HearthDomainDisk *disk = defs[k] ? chain_find_disk(defs[k], s->target) : NULL;

            if (!disk || g_strcmp0(disk->src.path, s->top_path) != 0)
                continue;
            g_free(disk->src.path);
            disk->src.path = g_strdup(s->base_path);
            chain_forget_backing(disk);
            changed = TRUE;
        }
        if (changed && !snapshot_list_save(list, snap, &error))
            g_warning("domain '%s': cannot update snapshot '%s': %s", dom->def->name, snap->name,
                      error->message);
    }
}

static void apply_to_live(HearthDaemon *daemon, HearthDomain *dom, const BlockJobSpec *s,
                          gboolean pivoted)
{
    HearthDomainDisk *disk = dom->live ? chain_find_disk(dom->live, s->target) : NULL;
    HearthDiskSource *top, *base, *above = NULL;
    g_autoptr(GError) error = NULL;

    if (!disk)
        return;
    /* Each edit finds its layers by number, so applying it twice changes nothing. */
    switch (s->type) {
    case BLOCK_JOB_TYPE_PULL:
        top = chain_layer_by_index(disk, s->top, NULL);
        base = s->base >= 0 ? chain_layer_by_index(disk, s->base, NULL) : NULL;
        if (top && (s->base < 0 || base))
            chain_drop_between(top, base);
        break;
    case BLOCK_JOB_TYPE_COMMIT:
        top = chain_layer_by_index(disk, s->top, &above);
        base = chain_layer_by_index(disk, s->base, NULL);
        if (top && above && base)
            chain_drop_between(above, base);
        break;
    case BLOCK_JOB_TYPE_ACTIVE_COMMIT:
        base = chain_layer_by_index(disk, s->base, NULL);
        if (pivoted && base)
            chain_pivot(disk, base);
        break;
    }
    if (!domain_runner_save_live(daemon, dom, &error))
        g_warning("domain '%s': %s", dom->def->name, error->message);
}

/* As libvirt: the persistent disk (if it is the same image) keeps only its top image, and an
 * active commit that pivoted moves it to the base. */
static void apply_to_persistent(HearthDaemon *daemon, HearthDomain *dom, const BlockJobSpec *s,
                                gboolean pivoted)
{
    HearthDomainDisk *pdisk = chain_find_disk(dom->def, s->target);
    g_autoptr(HearthDomainDef) copy = NULL;
    g_autoptr(GError) error = NULL;
    HearthDomainDisk *disk;

    if (!dom->persistent || !pdisk || g_strcmp0(pdisk->src.path, s->active_path) != 0)
        return;
    copy = domain_def_copy(dom->def);
    disk = copy ? chain_find_disk(copy, s->target) : NULL;
    if (!disk)
        return;
    if (s->type == BLOCK_JOB_TYPE_ACTIVE_COMMIT && pivoted) {
        HearthDomainDisk *live = dom->live ? chain_find_disk(dom->live, s->target) : NULL;

        const char *fmt = s->base_format ? s->base_format : live ? live->src.format : NULL;

        g_free(disk->src.path);
        disk->src.path = g_strdup(s->base_path);
        if (fmt) {
            g_free(disk->src.format);
            disk->src.format = g_strdup(fmt);
        }
    }
    chain_forget_backing(disk);
    if (!domain_store_replace_def(daemon->domains, dom, g_steal_pointer(&copy), &error))
        g_warning("domain '%s': cannot update the persistent definition: %s", dom->def->name,
                  error->message);
}

static void delete_images(HearthDomain *dom, const BlockJobSpec *s)
{
    for (guint i = 0; s->removed_paths && i < s->removed_paths->len; i++) {
        const char *path = s->removed_paths->pdata[i];

        if (g_unlink(path) < 0)
            g_warning("domain '%s': cannot delete committed image '%s': %s", dom->def->name, path,
                      g_strerror(errno));
    }
}

static void forget_done(const GError *error, gpointer data)
{
    char *id = data;

    if (error)
        g_debug("block job %s: job-forget: %s", id, error->message);
    g_free(id);
}

void blockjob_end(HearthDaemon *daemon, HearthDomain *dom, BlockJob *job, const char *state,
                  gboolean pivoted, const char *error)
{
    const BlockJobSpec *s = job->spec;
    int status = g_str_equal(state, "completed") ? BLOCK_JOB_COMPLETED
                 : g_str_equal(state, "failed")  ? BLOCK_JOB_FAILED
                                                 : BLOCK_JOB_CANCELED;
    const HearthDomainDef *cur = hearth_domain_current_def(dom);
    HearthDomainDisk *disk;
    gboolean offline = job->offline;
    g_autofree char *id = g_strdup(s->id);
    BlockJobWatch watch = job->watch;
    gpointer watch_data = job->watch_data;

    if (status == BLOCK_JOB_COMPLETED) {
        if (offline || s->type != BLOCK_JOB_TYPE_ACTIVE_COMMIT || pivoted) {
            apply_to_live(daemon, dom, s, pivoted);
            apply_to_persistent(daemon, dom, s, pivoted);
        }
        if (s->type != BLOCK_JOB_TYPE_PULL && (s->type == BLOCK_JOB_TYPE_COMMIT || pivoted))
            snapshots_follow_commit(daemon, dom, s);
        if (s->delete_files && (s->type == BLOCK_JOB_TYPE_COMMIT || pivoted))
            delete_images(dom, s);
    }
    if (error)
        g_info("domain '%s': block job %s %s: %s", dom->def->name, s->id, state, error);
    else
        g_info("domain '%s': block job %s %s", dom->def->name, s->id, state);
    cur = hearth_domain_current_def(dom);
    disk = chain_find_disk(cur, s->target);
    domain_events_block_job(daemon, dom, disk ? disk->src.path : s->active_path, s->target, s->type,
                            status);
    parked_release(dom, id);
    remove_job(dom, job);
    if (!offline && dom->runtime)
        domain_runner_request(daemon, dom, "job-forget", json_pack("{s:s}", "job", id), forget_done,
                              g_strdup(id));
    if (watch)
        watch(daemon, dom, state, error, watch_data);
}

/* A job as the worker describes it (an event, or an entry of job-info). */
static void worker_job_update(HearthDaemon *daemon, HearthDomain *dom, json_t *o)
{
    const char *id = json_string_value(json_object_get(o, "job"));
    const char *state = json_string_value(json_object_get(o, "state"));
    BlockJob *job = find_by_id(dom, id);

    if (!id || !state)
        return;
    if (!job) {
        /* A job this hearthd did not start: re-adopted after a restart. */
        BlockJobSpec *spec = spec_from_json(json_object_get(o, "info"));

        if (!spec)
            return;
        job = add_job(dom, spec, "running");
    }
    if (g_str_equal(state, "ready")) {
        if (g_strcmp0(job->state, "ready") != 0)
            blockjob_set_ready(daemon, dom, job);
    } else if (g_str_equal(state, "running")) {
        if (g_str_equal(job->state, "starting"))
            set_state(job, "running");
    } else {
        blockjob_end(daemon, dom, job, state, json_is_true(json_object_get(o, "pivoted")),
                     json_string_value(json_object_get(o, "error")));
    }
}

void blockjob_set_ready(HearthDaemon *daemon, HearthDomain *dom, BlockJob *job)
{
    HearthDomainDisk *disk = chain_find_disk(hearth_domain_current_def(dom), job->spec->target);

    set_state(job, "ready");
    if (job->offline)
        job->cur = job->end;
    domain_events_block_job(daemon, dom, disk ? disk->src.path : job->spec->active_path,
                            job->spec->target, job->spec->type, BLOCK_JOB_READY);
    parked_release(dom, job->spec->id);
    if (job->watch)
        job->watch(daemon, dom, "ready", NULL, job->watch_data);
}

void blockjob_on_worker_event(HearthDaemon *daemon, HearthDomain *dom, json_t *event)
{
    worker_job_update(daemon, dom, event);
}

typedef struct {
    HearthDaemon *daemon;
    guint8 uuid[16];
    char *id;
    HearthCall *call;
    gboolean bytes;
    gboolean may_hold; /* GET_BLOCK_JOB_INFO of a client waiting like virsh */
} JobCtx;

static JobCtx *ctx_new(HearthDaemon *daemon, const HearthDomain *dom, const char *id,
                       HearthCall *call)
{
    JobCtx *ctx = g_new0(JobCtx, 1);

    ctx->daemon = daemon;
    memcpy(ctx->uuid, dom->def->uuid, 16);
    ctx->id = g_strdup(id);
    ctx->call = call;
    return ctx;
}

static void ctx_free(JobCtx *ctx)
{
    g_free(ctx->id);
    g_free(ctx);
}

static void on_jobs_listed(json_t *result, const GError *error, gpointer data)
{
    JobCtx *ctx = data;
    HearthDomain *dom = domain_store_lookup_by_uuid(ctx->daemon->domains, ctx->uuid);
    json_t *o;
    size_t i;

    if (!error && dom && dom->runtime) {
        json_array_foreach(result, i, o) worker_job_update(ctx->daemon, dom, o);
    }
    ctx_free(ctx);
}

void blockjob_on_worker_ready(HearthDaemon *daemon, HearthDomain *dom)
{
    domain_runner_query(daemon, dom, "job-info", NULL, 0, on_jobs_listed,
                        ctx_new(daemon, dom, NULL, NULL));
}

void blockjob_on_domain_stopped(HearthDaemon *daemon, HearthDomain *dom)
{
    GPtrArray *jobs = jobs_of(dom, FALSE);

    /* A guest that ends takes its jobs along: their waiters hear it as a failure. The worker
     * is gone, so nothing is sent to it. */
    for (guint i = jobs ? jobs->len : 0; i-- > 0;) {
        BlockJob *job = jobs->pdata[i];

        if (job->offline)
            continue;
        job->offline = TRUE;
        blockjob_end(daemon, dom, job, "failed", FALSE, "the domain stopped");
    }
}

/* ---- starting ---- */

static const char *kind_name(int type)
{
    return type == BLOCK_JOB_TYPE_PULL     ? "pull"
           : type == BLOCK_JOB_TYPE_COMMIT ? "commit"
                                           : "active-commit";
}

static void on_started(json_t *result, const GError *error, gpointer data)
{
    JobCtx *ctx = data;
    HearthDomain *dom = domain_store_lookup_by_uuid(ctx->daemon->domains, ctx->uuid);
    BlockJob *job = dom ? find_by_id(dom, ctx->id) : NULL;

    if (error) {
        BlockJobWatch watch = job ? job->watch : NULL;
        gpointer watch_data = job ? job->watch_data : NULL;

        if (job && g_str_equal(job->state, "starting"))
            remove_job(dom, job);
        if (ctx->call)
            hearth_call_fail(ctx->call, error);
        else if (watch)
            watch(ctx->daemon, dom, "failed", error->message, watch_data);
    } else {
        if (job && g_str_equal(job->state, "starting"))
            set_state(job, "running");
        if (ctx->call)
            hearth_call_complete(ctx->call);
    }
    ctx_free(ctx);
}

static BlockJob *start_live(HearthDaemon *daemon, HearthCall *call, HearthDomain *dom,
                            BlockJobSpec *spec, const char *execute, json_t *arguments,
                            json_t *remove)
{
    json_t *req = json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:o}", "job", spec->id, "disk",
                            spec->target, "kind", kind_name(spec->type), "execute", execute,
                            "arguments", arguments, "remove", remove, "info", spec_to_json(spec));
    JobCtx *ctx = ctx_new(daemon, dom, spec->id, call);
    BlockJob *job = add_job(dom, spec, "starting");

    domain_runner_query(daemon, dom, "job-start", req, 0, on_started, ctx);
    return job;
}

DispatchResult blockjob_start_live(HearthCall *call, HearthDomain *dom, BlockJobSpec *spec,
                                   const char *execute, json_t *arguments, json_t *remove)
{
    start_live(rpc_client_get_daemon(call->client), call, dom, spec, execute, arguments, remove);
    return DISPATCH_ASYNC;
}

static json_t *node_json(int n)
{
    g_autofree char *name = g_strdup_printf("libvirt-%d-format", n);

    return json_string(name);
}

BlockJobSpec *blockjob_commit_spec(HearthDomainDisk *disk, HearthDiskSource *top,
                                   HearthDiskSource *above, HearthDiskSource *base,
                                   json_t **arguments, json_t **remove)
{
    BlockJobSpec *s = g_new0(BlockJobSpec, 1);
    gboolean active = top == &disk->src;

    s->target = g_strdup(disk->target_dev);
    s->type = active ? BLOCK_JOB_TYPE_ACTIVE_COMMIT : BLOCK_JOB_TYPE_COMMIT;
    s->top = chain_layer_index(disk, top);
    s->base = chain_layer_index(disk, base);
    /* As libvirt names them; a job on a shut-off domain has no nodes. */
    s->id = s->top >= 0 ? g_strdup_printf("commit-%s-libvirt-%d-format", disk->target_dev, s->top)
                        : g_strdup_printf("commit-%s-offline", disk->target_dev);
    s->top_path = g_strdup(top->path);
    s->base_path = g_strdup(base->path);
    s->base_format = g_strdup(base->format ? base->format : "raw");
    s->active_path = g_strdup(disk->src.path);
    s->above_path = above ? g_strdup(above->path) : NULL;
    s->removed_paths = g_ptr_array_new_with_free_func(g_free);
    *remove = json_array();
    for (HearthDiskSource *l = top; l && l != base; l = l->backing) {
        json_array_append_new(*remove, json_integer(chain_layer_index(disk, l)));
        g_ptr_array_add(s->removed_paths, g_strdup(l->path));
    }
    *arguments =
        json_pack("{s:o, s:o, s:o}", "device", node_json(chain_layer_index(disk, &disk->src)),
                  "top-node", node_json(s->top), "base-node", node_json(s->base));
    /* The image above top learns its new backing file; an active commit has none above. */
    if (!active)
        json_object_set_new(*arguments, "backing-file", json_string(base->path));
    return s;
}

gboolean blockjob_start_internal(HearthDaemon *daemon, HearthDomain *dom, BlockJobSpec *spec,
                                 json_t *arguments, json_t *remove, BlockJobWatch watch,
                                 gpointer data, GError **error)
{
    BlockJob *job;

    if (!hearth_domain_is_active(dom)) {
        json_decref(arguments);
        json_decref(remove);
        job = blockjob_offline_begin(daemon, dom, spec, error);
        if (!job)
            return FALSE;
    } else {
        job = start_live(daemon, NULL, dom, spec, "block-commit", arguments, remove);
    }
    blockjob_set_watch(job, watch, data);
    return TRUE;
}

static void on_pivoted(json_t *result, const GError *error, gpointer data)
{
    JobCtx *ctx = data;

    /* The job's end (the worker's event) reports the outcome to its watch. */
    if (error)
        g_warning("block job %s: pivot failed: %s", ctx->id, error->message);
    ctx_free(ctx);
}

void blockjob_pivot_internal(HearthDaemon *daemon, HearthDomain *dom, BlockJob *job)
{
    if (job->offline) {
        blockjob_offline_pivot(daemon, dom, job);
        return;
    }
    domain_runner_query(daemon, dom, "job-abort",
                        json_pack("{s:s, s:b, s:b}", "job", job->spec->id, "pivot", 1, "async", 0),
                        0, on_pivoted, ctx_new(daemon, dom, job->spec->id, NULL));
}

/* ---- info, speed, abort ---- */

/* virsh's --wait loop asks GET_BLOCK_JOB_INFO, then sleeps 500 ms, and only looks at the
 * events it got when it wakes. To let it return as soon as QEMU is done, a client that waits
 * the way virsh does (callbacks for both block job events on this domain, flags 0) has its
 * query held while the job runs: it is answered once the job is ready or over, a moment
 * after the event went out so that the client's event thread has seen it, or after
 * PARK_MAX_MS with the progress then (a job that ends while virsh sleeps is seen at its next
 * query, as with libvirtd). */
#define PARK_MAX_MS 3000
#define PARK_SETTLE_MS 20

typedef struct {
    HearthDaemon *daemon;
    HearthCall *call;
    guint8 uuid[16];
    char *id;
    guint timer;
} ParkedInfo;

static GPtrArray *parked; /* ParkedInfo * */

static void on_info(json_t *result, const GError *error, gpointer data);
static void translate(BlockJob *job, guint64 cur, guint64 end, guint64 speed, gboolean ready,
                      gboolean bytes, RemoteDomainGetBlockJobInfoRet *ret);

static gboolean parked_fire(gpointer data)
{
    ParkedInfo *p = data;
    HearthDomain *dom = domain_store_lookup_by_uuid(p->daemon->domains, p->uuid);
    BlockJob *job = dom ? find_by_id(dom, p->id) : NULL;

    g_ptr_array_remove(parked, p);
    /* Answered afresh: found = 0 if the job is over. */
    memset(p->call->ret, 0, sizeof(RemoteDomainGetBlockJobInfoRet));
    if (!job) {
        hearth_call_complete(p->call); /* the job is over: found = 0 */
    } else if (job->offline) {
        translate(job, job->cur, job->end, 0, g_str_equal(job->state, "ready"), FALSE,
                  p->call->ret);
        hearth_call_complete(p->call);
    } else {
        domain_runner_query(p->daemon, dom, "job-info", NULL, 0, on_info,
                            ctx_new(p->daemon, dom, p->id, p->call));
    }
    g_free(p->id);
    g_free(p);
    return G_SOURCE_REMOVE;
}

/* The job's state changed: let its held queries go, after the events. */
static void parked_release(const HearthDomain *dom, const char *id)
{
    for (guint i = 0; parked && i < parked->len; i++) {
        ParkedInfo *p = parked->pdata[i];

        if (memcmp(p->uuid, dom->def->uuid, 16) != 0 || g_strcmp0(p->id, id) != 0)
            continue;
        g_source_remove(p->timer);
        p->timer = g_timeout_add(PARK_SETTLE_MS, parked_fire, p);
    }
}

static gboolean client_waits_like_virsh(HearthCall *call, const HearthDomain *dom)
{
    GArray *regs = rpc_client_event_registrations(call->client, EVENT_OBJECT_DOMAIN);
    gboolean job = FALSE, job2 = FALSE;

    for (guint i = 0; regs && i < regs->len; i++) {
        const EventRegistration *r = &g_array_index(regs, EventRegistration, i);

        if (r->callback_id < 0 || !r->has_filter || memcmp(r->uuid, dom->def->uuid, 16) != 0)
            continue;
        job |= r->event_id == DOMAIN_EVENT_ID_BLOCK_JOB;
        job2 |= r->event_id == DOMAIN_EVENT_ID_BLOCK_JOB_2;
    }
    return job && job2;
}

static void park(HearthCall *call, const HearthDomain *dom, BlockJob *job, guint hold_ms)
{
    ParkedInfo *p = g_new0(ParkedInfo, 1);

    p->daemon = rpc_client_get_daemon(call->client);
    p->call = call;
    memcpy(p->uuid, dom->def->uuid, 16);
    p->id = g_strdup(job->spec->id);
    p->timer = g_timeout_add(hold_ms, parked_fire, p);
    if (!parked)
        parked = g_ptr_array_new();
    g_ptr_array_add(parked, p);
}

static void translate(BlockJob *job, guint64 cur, guint64 end, guint64 speed, gboolean ready,
                      gboolean bytes, RemoteDomainGetBlockJobInfoRet *ret)
{
    ret->found = 1;
    ret->type = job->spec->type;
    /* As libvirt: cur == end means done to pollers, so not before QEMU says so. */
    if (cur == 0 && end == 0) {
        end = 1;
        cur = ready ? 1 : 0;
    }
    if (!ready && cur == end && cur > 0)
        cur--;
    ret->cur = cur;
    ret->end = end;
    ret->bandwidth = bytes ? speed : (speed + (1 << 20) - 1) >> 20;
}

static void on_info(json_t *result, const GError *error, gpointer data)
{
    JobCtx *ctx = data;
    RemoteDomainGetBlockJobInfoRet *ret = ctx->call->ret;
    HearthDomain *dom = domain_store_lookup_by_uuid(ctx->daemon->domains, ctx->uuid);
    BlockJob *job = dom ? find_by_id(dom, ctx->id) : NULL;
    json_t *o;
    size_t i;

    if (error) {
        hearth_call_fail(ctx->call, error);
        ctx_free(ctx);
        return;
    }
    json_array_foreach(result, i, o)
    {
        const char *state = json_string_value(json_object_get(o, "state"));

        if (!job || g_strcmp0(json_string_value(json_object_get(o, "job")), ctx->id) != 0 ||
            (g_strcmp0(state, "running") != 0 && g_strcmp0(state, "ready") != 0))
            continue;
        gboolean ready = json_is_true(json_object_get(o, "ready"));

        translate(job, (guint64)json_integer_value(json_object_get(o, "cur")),
                  (guint64)json_integer_value(json_object_get(o, "end")),
                  (guint64)json_integer_value(json_object_get(o, "speed")), ready, ctx->bytes, ret);
        if (ctx->may_hold && !ready) {
            park(ctx->call, dom, job, PARK_MAX_MS);
            ctx_free(ctx);
            return;
        }
    }
    hearth_call_complete(ctx->call);
    ctx_free(ctx);
}

DispatchResult blockjob_info(HearthCall *call, HearthDomain *dom, BlockJob *job, gboolean bytes)
{
    HearthDaemon *daemon = rpc_client_get_daemon(call->client);
    gboolean may_hold =
        !bytes && g_strcmp0(job->state, "ready") != 0 && client_waits_like_virsh(call, dom);
    JobCtx *ctx;

    if (job->offline) {
        translate(job, job->cur, job->end, 0, g_str_equal(job->state, "ready"), bytes, call->ret);
        if (!may_hold)
            return DISPATCH_DONE;
        park(call, dom, job, PARK_MAX_MS);
        return DISPATCH_ASYNC;
    }
    ctx = ctx_new(daemon, dom, job->spec->id, call);
    ctx->bytes = bytes;
    ctx->may_hold = may_hold;
    domain_runner_query(daemon, dom, "job-info", NULL, 0, on_info, ctx);
    return DISPATCH_ASYNC;
}

static void on_void(json_t *result, const GError *error, gpointer data)
{
    JobCtx *ctx = data;

    if (error)
        hearth_call_fail(ctx->call, error);
    else
        hearth_call_complete(ctx->call);
    ctx_free(ctx);
}

DispatchResult blockjob_set_speed(HearthCall *call, HearthDomain *dom, BlockJob *job, guint64 speed)
{
    HearthDaemon *daemon = rpc_client_get_daemon(call->client);

    domain_runner_query(daemon, dom, "job-set-speed",
                        json_pack("{s:s, s:I}", "job", job->spec->id, "speed", (json_int_t)speed),
                        0, on_void, ctx_new(daemon, dom, job->spec->id, call));
    return DISPATCH_ASYNC;
}

DispatchResult blockjob_abort(HearthCall *call, HearthDomain *dom, BlockJob *job, gboolean pivot,
                              gboolean async, GError **error)
{
    HearthDaemon *daemon = rpc_client_get_daemon(call->client);

    if (pivot && job->spec->type != BLOCK_JOB_TYPE_ACTIVE_COMMIT) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_OPERATION_INVALID,
                    _("job type '%s' does not support pivot"),
                    job->spec->type == BLOCK_JOB_TYPE_PULL ? "pull" : "commit");
        return DISPATCH_FAILED;
    }
    if (pivot && g_strcmp0(job->state, "ready") != 0) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_OPERATION_INVALID,
                    _("block job '%s' not ready for pivot yet"), job->spec->id);
        return DISPATCH_FAILED;
    }
    domain_runner_query(
        daemon, dom, "job-abort",
        json_pack("{s:s, s:b, s:b}", "job", job->spec->id, "pivot", pivot, "async", async), 0,
        on_void, ctx_new(daemon, dom, job->spec->id, call));
    return DISPATCH_ASYNC;
}
