/* Block job procedures: BLOCK_PULL, BLOCK_REBASE (pull with a base), BLOCK_COMMIT,
 * GET_BLOCK_JOB_INFO, BLOCK_JOB_SET_SPEED, BLOCK_JOB_ABORT. The arguments are checked against
 * the live chain here; blockjob.c runs the job through the worker, blockjob-offline.c with
 * qemu-img when the domain is shut off. */
#include "blockjob-chain.h"
#include "blockjob-offline.h"
#include "blockjob.h"
#include "disk-chain.h"
#include "domain-store.h"
#include "hearth-daemon.h"
#include "hearth-error.h"
#include "dispatch-util.h"
#include "rpc-server.h"
#include "uuid-util.h"

#include <glib/gi18n-lib.h>
#include <string.h>

enum { PULL_BANDWIDTH_BYTES = 1 << 6 };
enum {
    REBASE_SHALLOW = 1 << 0,
    REBASE_REUSE_EXT = 1 << 1,
    REBASE_COPY_RAW = 1 << 2,
    REBASE_COPY = 1 << 3,
    REBASE_RELATIVE = 1 << 4,
    REBASE_COPY_DEV = 1 << 5,
    REBASE_BANDWIDTH_BYTES = 1 << 6,
};
enum {
    COMMIT_SHALLOW = 1 << 0,
    COMMIT_DELETE = 1 << 1,
    COMMIT_ACTIVE = 1 << 2,
    COMMIT_RELATIVE = 1 << 3,
    COMMIT_BANDWIDTH_BYTES = 1 << 4,
};
enum { ABORT_ASYNC = 1 << 0, ABORT_PIVOT = 1 << 1 };
enum { INFO_BANDWIDTH_BYTES = 1 << 0 };
enum { SPEED_BANDWIDTH_BYTES = 1 << 0 };

/* MiB/s unless @bytes; the result in bytes/s. */
static gboolean bandwidth_bytes(guint64 bandwidth, gboolean bytes, guint64 *out, GError **error)
{
    const guint64 max = G_MAXINT64;

    if (!bytes && bandwidth > (max >> 20)) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_OVERFLOW,
                    _("bandwidth must be less than %" G_GUINT64_FORMAT), (max >> 20) + 1);
        return FALSE;
    }
    if (bytes && bandwidth > max) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_OVERFLOW,
                    _("bandwidth must be less than %" G_GUINT64_FORMAT), max);
        return FALSE;
    }
    *out = bytes ? bandwidth : bandwidth << 20;
    return TRUE;
}

/* The definition a job works on: the live one, or for a shut-off domain a copy of the
 * persistent one with the chains read from the image headers (as a start would). */
static HearthDomainDef *job_def(HearthDomain *dom, HearthDomainDef **filled, GError **error)
{
    if (hearth_domain_is_active(dom) || dom->runtime)
        return dom->live ? dom->live : dom->def;
    *filled = domain_def_copy(dom->def);
    if (!*filled || !disk_chain_fill(*filled, error))
        return NULL;
    return *filled;
}

/* The disk a job is about, in the definition it works on, and that it is free. */
static HearthDomainDisk *job_disk(HearthDomain *dom, HearthDomainDef *def, const char *path,
                                  GError **error)
{
    HearthDomainDisk *disk = chain_find_disk(def, path);

    if (!disk || !disk->src.path) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_INVALID_ARG, _("disk '%s' not found in domain"),
                    path);
        return NULL;
    }
    if (dom->runtime && !hearth_domain_is_active(dom)) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_OPERATION_INVALID,
                    _("domain is still starting"));
        return NULL;
    }
    return disk;
}

static gboolean disk_free_for_job(HearthDomain *dom, HearthDomainDisk *disk, GError **error)
{
    if (blockjob_find(dom, disk->target_dev)) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_OPERATION_INVALID,
                    _("disk '%s' already in active block job"), disk->target_dev);
        return FALSE;
    }
    if (hearth_domain_is_active(dom) && chain_layer_index(disk, &disk->src) < 0) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_OPERATION_UNSUPPORTED,
                    _("disk '%s' has no block node numbers (the domain was started by an older "
                      "hearthd); restart it to run block jobs"),
                    disk->target_dev);
        return FALSE;
    }
    return TRUE;
}

static json_t *node(int n)
{
    g_autofree char *name = g_strdup_printf("libvirt-%d-format", n);

    return json_string(name);
}

static BlockJobSpec *spec_new(const char *prefix, HearthDomainDisk *disk, int type,
                              HearthDiskSource *top, HearthDiskSource *base)
{
    BlockJobSpec *s = g_new0(BlockJobSpec, 1);

    s->target = g_strdup(disk->target_dev);
    s->type = type;
    s->top = chain_layer_index(disk, top);
    s->base = base ? chain_layer_index(disk, base) : -1;
    /* As libvirt names them; a job on a shut-off domain has no nodes. */
    s->id = s->top >= 0
                ? g_strdup_printf("%s-%s-libvirt-%d-format", prefix, disk->target_dev, s->top)
                : g_strdup_printf("%s-%s-offline", prefix, disk->target_dev);
    s->top_path = g_strdup(top->path);
    s->base_path = base ? g_strdup(base->path) : NULL;
    s->base_format = base ? g_strdup(base->format ? base->format : "raw") : NULL;
    s->active_path = g_strdup(disk->src.path);
    s->removed_paths = g_ptr_array_new_with_free_func(g_free);
    return s;
}

/* ---- pull ---- */

static DispatchResult pull(HearthCall *call, const RemoteNonnullDomain *ref, const char *path,
                           const char *base_name, guint64 bandwidth, gboolean bytes, GError **error)
{
    HearthDomain *dom = dispatch_lookup_domain(call, ref, error);
    g_autoptr(HearthDomainDef) filled = NULL;
    HearthDomainDef *def;
    HearthDomainDisk *disk;
    HearthDiskSource *base = NULL;
    g_autoptr(BlockJobSpec) spec = NULL;
    json_t *args, *remove;
    guint64 speed;

    if (!dom || !bandwidth_bytes(bandwidth, bytes, &speed, error) ||
        !(def = job_def(dom, &filled, error)) || !(disk = job_disk(dom, def, path, error)) ||
        !disk_free_for_job(dom, disk, error))
        return DISPATCH_FAILED;
    if (base_name) {
        base = chain_find_layer(disk, base_name, NULL);
        if (!base || base == &disk->src) {
            g_set_error(error, HEARTH_ERROR, HEARTH_ERR_INVALID_ARG,
                        _("could not find image '%s' beneath '%s' in chain for '%s'"), base_name,
                        disk->src.path, disk->target_dev);
            return DISPATCH_FAILED;
        }
    }
    spec = spec_new("pull", disk, BLOCK_JOB_TYPE_PULL, &disk->src, base);
    spec->bandwidth = speed;
    remove = json_array();
    for (HearthDiskSource *l = disk->src.backing; l && l != base && l->path; l = l->backing) {
        json_array_append_new(remove, json_integer(chain_layer_index(disk, l)));
        g_ptr_array_add(spec->removed_paths, g_strdup(l->path));
    }
    if (!hearth_domain_is_active(dom)) {
        json_decref(remove);
        return blockjob_offline_start(call, dom, g_steal_pointer(&spec), error);
    }
    args = json_pack("{s:o}", "device", (node(spec->top)));
    if (speed)
        json_object_set_new(args, "speed", json_integer((json_int_t)speed));
    if (base) {
        json_object_set_new(args, "base-node", (node(spec->base)));
        json_object_set_new(args, "backing-file", json_string(base->path));
    }
    return blockjob_start_live(call, dom, g_steal_pointer(&spec), "block-stream", args, remove);
}

DispatchResult dispatch_domain_block_pull(HearthCall *call, const RemoteDomainBlockPullArgs *args,
                                          void *ret, GError **error)
{
    if (!dispatch_check_flags(args->flags, PULL_BANDWIDTH_BYTES, "virDomainBlockPull", error))
        return DISPATCH_FAILED;
    return pull(call, &args->dom, args->path, NULL, args->bandwidth,
                (args->flags & PULL_BANDWIDTH_BYTES) != 0, error);
}

DispatchResult dispatch_domain_block_rebase(HearthCall *call,
                                            const RemoteDomainBlockRebaseArgs *args, void *ret,
                                            GError **error)
{
    const guint copy_only = REBASE_SHALLOW | REBASE_REUSE_EXT | REBASE_COPY_RAW | REBASE_COPY_DEV;

    if (!dispatch_check_flags(args->flags, 0x7f, "virDomainBlockRebase", error))
        return DISPATCH_FAILED;
    if (args->flags & REBASE_COPY) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_NO_SUPPORT,
                    _("block copy (blockcopy, blockrebase --copy) is not supported"));
        return DISPATCH_FAILED;
    }
    if (args->flags & copy_only) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_INVALID_ARG,
                    _("flags 0x%x are only valid for a block copy"), args->flags & copy_only);
        return DISPATCH_FAILED;
    }
    if (args->flags & REBASE_RELATIVE) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_ARGUMENT_UNSUPPORTED,
                    _("relative backing file names are not supported"));
        return DISPATCH_FAILED;
    }
    return pull(call, &args->dom, args->path, args->base, args->bandwidth,
                (args->flags & REBASE_BANDWIDTH_BYTES) != 0, error);
}

/* ---- commit ---- */

DispatchResult dispatch_domain_block_commit(HearthCall *call,
                                            const RemoteDomainBlockCommitArgs *args, void *ret,
                                            GError **error)
{
    HearthDomain *dom;
    g_autoptr(HearthDomainDef) filled = NULL;
    HearthDomainDef *def;
    HearthDomainDisk *disk;
    HearthDiskSource *top, *base, *above = NULL;
    g_autoptr(BlockJobSpec) spec = NULL;
    gboolean active;
    json_t *qargs, *remove;
    guint64 speed;

    if (!dispatch_check_flags(args->flags, 0x1f, "virDomainBlockCommit", error) ||
        !(dom = dispatch_lookup_domain(call, &args->dom, error)) ||
        !bandwidth_bytes(args->bandwidth, (args->flags & COMMIT_BANDWIDTH_BYTES) != 0, &speed,
                         error) ||
        !(def = job_def(dom, &filled, error)) || !(disk = job_disk(dom, def, args->disk, error)) ||
        !disk_free_for_job(dom, disk, error))
        return DISPATCH_FAILED;
    if (args->flags & COMMIT_RELATIVE) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_ARGUMENT_UNSUPPORTED,
                    _("relative backing file names are not supported"));
        return DISPATCH_FAILED;
    }
    top = args->top ? chain_find_layer(disk, args->top, &above) : &disk->src;
    if (!top) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_INVALID_ARG,
                    _("could not find image '%s' in chain for '%s'"), args->top, disk->target_dev);
        return DISPATCH_FAILED;
    }
    active = top == &disk->src;
    if (active && !(args->flags & COMMIT_ACTIVE)) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_INVALID_ARG,
                    _("commit of '%s' active layer requires active flag"), disk->target_dev);
        return DISPATCH_FAILED;
    }
    if (!active && (args->flags & COMMIT_ACTIVE)) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_INVALID_ARG,
                    _("active commit requested but '%s' is not active"), top->path);
        return DISPATCH_FAILED;
    }
    if (!top->backing || !top->backing->path) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_INVALID_ARG,
                    _("could not find base image in chain for '%s'"), disk->target_dev);
        return DISPATCH_FAILED;
    }
    if (args->base) {
        base = chain_find_layer(disk, args->base, NULL);
        if (!base || !chain_layer_is_below(top, base)) {
            g_set_error(error, HEARTH_ERROR, HEARTH_ERR_INVALID_ARG,
                        _("could not find image '%s' beneath '%s' in chain for '%s'"), args->base,
                        top->path, disk->target_dev);
            return DISPATCH_FAILED;
        }
        if ((args->flags & COMMIT_SHALLOW) && base != top->backing) {
            g_set_error(error, HEARTH_ERROR, HEARTH_ERR_INVALID_ARG,
                        _("base '%s' is not immediately below '%s' in chain for '%s'"), base->path,
                        top->path, disk->target_dev);
            return DISPATCH_FAILED;
        }
    } else if (args->flags & COMMIT_SHALLOW) {
        base = top->backing;
    } else {
        for (base = top->backing; base->backing && base->backing->path; base = base->backing)
            ;
    }
    spec = blockjob_commit_spec(disk, top, above, base, &qargs, &remove);
    spec->bandwidth = speed;
    spec->delete_files = (args->flags & COMMIT_DELETE) != 0;
    if (!hearth_domain_is_active(dom)) {
        json_decref(remove);
        json_decref(qargs);
        return blockjob_offline_start(call, dom, g_steal_pointer(&spec), error);
    }
    if (speed)
        json_object_set_new(qargs, "speed", json_integer((json_int_t)speed));
    return blockjob_start_live(call, dom, g_steal_pointer(&spec), "block-commit", qargs, remove);
}

/* ---- info, speed, abort ---- */

static BlockJob *job_for(HearthCall *call, const RemoteNonnullDomain *ref, const char *path,
                         HearthDomain **dom_out, gboolean must_exist, GError **error)
{
    HearthDomain *dom = dispatch_lookup_domain(call, ref, error);
    HearthDomainDisk *disk;
    BlockJob *job;

    if (!dom)
        return NULL;
    *dom_out = dom;
    disk = chain_find_disk(hearth_domain_current_def(dom), path);
    if (!disk) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_INVALID_ARG, _("disk '%s' not found in domain"),
                    path);
        return NULL;
    }
    job = blockjob_find(dom, disk->target_dev);
    if (!job && must_exist)
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_INVALID_ARG,
                    _("disk %s does not have an active block job"), disk->target_dev);
    return job;
}

DispatchResult dispatch_domain_get_block_job_info(HearthCall *call,
                                                  const RemoteDomainGetBlockJobInfoArgs *args,
                                                  RemoteDomainGetBlockJobInfoRet *ret,
                                                  GError **error)
{
    HearthDomain *dom = NULL;
    BlockJob *job;

    if (!dispatch_check_flags(args->flags, INFO_BANDWIDTH_BYTES, "virDomainGetBlockJobInfo", error))
        return DISPATCH_FAILED;
    job = job_for(call, &args->dom, args->path, &dom, FALSE, error);
    if (!job) {
        /* A shut-off domain can have jobs too (qemu-img): no job is not an error there. */
        if (!dom || (error && *error))
            return DISPATCH_FAILED;
        ret->found = 0;
        return DISPATCH_DONE;
    }
    return blockjob_info(call, dom, job, (args->flags & INFO_BANDWIDTH_BYTES) != 0);
}

DispatchResult dispatch_domain_block_job_set_speed(HearthCall *call,
                                                   const RemoteDomainBlockJobSetSpeedArgs *args,
                                                   void *ret, GError **error)
{
    HearthDomain *dom = NULL;
    BlockJob *job;
    guint64 speed;

    if (!dispatch_check_flags(args->flags, SPEED_BANDWIDTH_BYTES, "virDomainBlockJobSetSpeed",
                              error) ||
        !bandwidth_bytes(args->bandwidth, (args->flags & SPEED_BANDWIDTH_BYTES) != 0, &speed,
                         error) ||
        !(job = job_for(call, &args->dom, args->path, &dom, TRUE, error)))
        return DISPATCH_FAILED;
    if (blockjob_offline(job)) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_ARGUMENT_UNSUPPORTED,
                    _("the speed of a block job on a shut-off domain (qemu-img) cannot be "
                      "changed"));
        return DISPATCH_FAILED;
    }
    return blockjob_set_speed(call, dom, job, speed);
}

DispatchResult dispatch_domain_block_job_abort(HearthCall *call,
                                               const RemoteDomainBlockJobAbortArgs *args, void *ret,
                                               GError **error)
{
    HearthDomain *dom = NULL;
    BlockJob *job;

    if (!dispatch_check_flags(args->flags, ABORT_ASYNC | ABORT_PIVOT, "virDomainBlockJobAbort",
                              error) ||
        !(job = job_for(call, &args->dom, args->path, &dom, TRUE, error)))
        return DISPATCH_FAILED;
    if (blockjob_offline(job))
        return blockjob_offline_abort(call, dom, job, (args->flags & ABORT_PIVOT) != 0, error);
    return blockjob_abort(call, dom, job, (args->flags & ABORT_PIVOT) != 0,
                          (args->flags & ABORT_ASYNC) != 0, error);
}
