/* SNAPSHOT_DELETE. METADATA_ONLY forgets the snapshot and leaves the images. Otherwise (beyond
 * libvirt 9.0) each external disk's overlay that the snapshot created, if the disk still runs
 * on it, is merged into the image below it (the one the snapshot froze): a block commit, live
 * through the worker or offline with qemu-img, an active commit pivoting at once. The chain
 * loses a layer and every other snapshot's metadata follows (a snapshot that froze the overlay
 * now finds its state in the image below). CHILDREN / CHILDREN_ONLY take the descendants too,
 * leaves first. */
#include "blockjob-chain.h"
#include "blockjob.h"
#include "disk-chain.h"
#include "hearth-error.h"
#include "snapshot-ops.h"
#include "snapshot-store.h"

#include <glib/gi18n-lib.h>
#include <string.h>

typedef struct {
    char *target, *overlay;
} Merge;

typedef struct {
    HearthDaemon *daemon;
    HearthCall *call;
    guint8 uuid[16];
    GPtrArray *names; /* snapshots to delete, in order */
    guint next;
    GPtrArray *merges; /* of names[next], NULL until planned */
    guint merge;
} DeleteCtx;

static void merge_free(Merge *m)
{
    g_free(m->target);
    g_free(m->overlay);
    g_free(m);
}

static void ctx_free(DeleteCtx *ctx)
{
    g_ptr_array_unref(ctx->names);
    if (ctx->merges)
        g_ptr_array_unref(ctx->merges);
    g_free(ctx);
}

static void finish(DeleteCtx *ctx, const GError *error)
{
    if (error)
        hearth_call_fail(ctx->call, error);
    else
        hearth_call_complete(ctx->call);
    ctx_free(ctx);
}

/* The image a snapshot froze for a disk: that disk's source in its <domain>. */
static const char *frozen_image(const HearthSnapshotDef *snap, const char *target)
{
    HearthDomainDisk *disk = snap->dom ? chain_find_disk(snap->dom, target) : NULL;

    return disk ? disk->src.path : NULL;
}

/* The definition whose chains are in force, with every layer (read from the image headers for
 * a shut-off domain). */
static HearthDomainDef *chain_def(HearthDomain *dom, HearthDomainDef **filled, GError **error)
{
    if (dom->live)
        return dom->live;
    *filled = domain_def_copy(dom->def);
    if (!*filled || !disk_chain_fill(*filled, error))
        return NULL;
    return *filled;
}

/* Which overlays of @snap are still layers to merge, and whether merging them is safe. */
static GPtrArray *plan_merges(DeleteCtx *ctx, HearthDomain *dom, HearthSnapshotDef *snap,
                              GError **error)
{
    SnapshotList *list = snapshot_store_get(ctx->daemon, dom);
    g_autoptr(GPtrArray) merges = g_ptr_array_new_with_free_func((GDestroyNotify)merge_free);
    g_autoptr(HearthDomainDef) filled = NULL;
    g_autoptr(GPtrArray) all = snapshot_list_all(list);
    HearthDomainDef *def = chain_def(dom, &filled, error);

    if (!def)
        return NULL;
    for (guint i = 0; snap->disks && i < snap->disks->len; i++) {
        HearthSnapshotDisk *sd = snap->disks->pdata[i];
        HearthDomainDisk *disk = chain_find_disk(def, sd->name);
        HearthDiskSource *layer = disk && sd->file ? chain_find_layer(disk, sd->file, NULL) : NULL;
        const char *frozen = frozen_image(snap, sd->name);
        Merge *m;

        /* Not in the chain any more (reverted, pulled away): nothing to merge. */
        if (sd->snapshot != HEARTH_SNAPSHOT_LOC_EXTERNAL || !layer || !layer->backing ||
            !layer->backing->path || g_strcmp0(layer->backing->path, frozen) != 0)
            continue;
        /* Merging rewrites the frozen image: no other snapshot may need it as it is. */
        for (guint k = 0; k < all->len; k++) {
            HearthSnapshotDef *other = all->pdata[k];

            if (other == snap || g_strcmp0(frozen_image(other, sd->name), frozen) != 0)
                continue;
            g_set_error(error, HEARTH_ERROR, HEARTH_ERR_OPERATION_UNSUPPORTED,
                        _("cannot merge snapshot '%s' of disk '%s' into '%s': snapshot '%s' "
                          "needs that image as it is; delete it first, or use --metadata"),
                        snap->name, sd->name, frozen, other->name);
            return NULL;
        }
        m = g_new0(Merge, 1);
        m->target = g_strdup(sd->name);
        m->overlay = g_strdup(sd->file);
        g_ptr_array_add(merges, m);
    }
    return g_steal_pointer(&merges);
}

static void step(DeleteCtx *ctx);

static void on_merge(HearthDaemon *daemon, HearthDomain *dom, const char *state,
                     const char *error_text, gpointer data)
{
    DeleteCtx *ctx = data;
    g_autoptr(GError) error = NULL;

    if (g_str_equal(state, "ready")) {
        BlockJob *job = NULL;
        Merge *m = ctx->merges->pdata[ctx->merge];

        job = blockjob_find(dom, m->target);
        if (job)
            blockjob_pivot_internal(daemon, dom, job);
        return;
    }
    if (!g_str_equal(state, "completed")) {
        Merge *m = ctx->merges->pdata[ctx->merge];

        g_set_error(&error, HEARTH_ERROR, HEARTH_ERR_OPERATION_FAILED,
                    _("merging '%s' of disk '%s' %s: %s"), m->overlay, m->target, state,
                    error_text ? error_text : _("no reason given"));
        finish(ctx, error);
        return;
    }
    ctx->merge++;
    step(ctx);
}

static gboolean start_merge(DeleteCtx *ctx, HearthDomain *dom, Merge *m, GError **error)
{
    g_autoptr(HearthDomainDef) filled = NULL;
    HearthDomainDef *def = chain_def(dom, &filled, error);
    HearthDomainDisk *disk = def ? chain_find_disk(def, m->target) : NULL;
    HearthDiskSource *above = NULL;
    HearthDiskSource *top = disk ? chain_find_layer(disk, m->overlay, &above) : NULL;
    BlockJobSpec *spec;
    json_t *args = NULL, *remove = NULL;

    if (!def)
        return FALSE;
    if (!top || !top->backing) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_OPERATION_FAILED,
                    _("'%s' is no longer in the chain of disk '%s'"), m->overlay, m->target);
        return FALSE;
    }
    if (blockjob_find(dom, m->target)) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_OPERATION_INVALID,
                    _("disk '%s' already in active block job"), m->target);
        return FALSE;
    }
    spec = blockjob_commit_spec(disk, top, above, top->backing, &args, &remove);
    /* The overlay's data is in the image below now: it goes, unless QEMU still has the
     * image above it open (its new backing-file header may not be on disk yet). */
    spec->delete_files = !dom->live || top == &disk->src;
    return blockjob_start_internal(ctx->daemon, dom, spec, args, remove, on_merge, ctx, error);
}

static void step(DeleteCtx *ctx)
{
    HearthDomain *dom = domain_store_lookup_by_uuid(ctx->daemon->domains, ctx->uuid);
    g_autoptr(GError) error = NULL;

    while (dom && ctx->next < ctx->names->len) {
        SnapshotList *list = snapshot_store_get(ctx->daemon, dom);
        const char *name = ctx->names->pdata[ctx->next];
        HearthSnapshotDef *snap = snapshot_list_lookup(list, name);

        if (snap && !ctx->merges) {
            ctx->merges = plan_merges(ctx, dom, snap, &error);
            ctx->merge = 0;
            if (!ctx->merges)
                break;
        }
        if (snap && ctx->merge < ctx->merges->len) {
            if (!start_merge(ctx, dom, ctx->merges->pdata[ctx->merge], &error))
                break;
            return; /* on_merge goes on */
        }
        if (snap && !snapshot_list_remove(list, name, &error))
            break;
        g_clear_pointer(&ctx->merges, g_ptr_array_unref);
        ctx->next++;
    }
    if (!dom && !error)
        g_set_error(&error, HEARTH_ERROR, HEARTH_ERR_NO_DOMAIN,
                    _("the domain went away during the snapshot deletion"));
    finish(ctx, error);
}

DispatchResult snapshot_delete(HearthCall *call, HearthDomain *dom, HearthSnapshotDef *def,
                               guint flags, GError **error)
{
    HearthDaemon *daemon = rpc_client_get_daemon(call->client);
    SnapshotList *list = snapshot_store_get(daemon, dom);
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    DeleteCtx *ctx;

    if (flags & ~0x7u) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_INVALID_ARG,
                    _("unsupported flags (0x%x) in function %s"), flags & ~0x7u,
                    "virDomainSnapshotDelete");
        return DISPATCH_FAILED;
    }
    if ((flags & SNAP_DELETE_CHILDREN) && (flags & SNAP_DELETE_CHILDREN_ONLY)) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_INVALID_ARG,
                    _("flags 'children' and 'children-only' are mutually exclusive"));
        return DISPATCH_FAILED;
    }
    if (flags & (SNAP_DELETE_CHILDREN | SNAP_DELETE_CHILDREN_ONLY)) {
        g_autoptr(GPtrArray) kids = snapshot_list_children(list, def->name, TRUE);

        /* Leaves first: each merge then finds its overlay still the one below its child's. */
        for (guint i = kids->len; i-- > 0;)
            g_ptr_array_add(names, g_strdup(((HearthSnapshotDef *)kids->pdata[i])->name));
    }
    if (!(flags & SNAP_DELETE_CHILDREN_ONLY))
        g_ptr_array_add(names, g_strdup(def->name));
    if (flags & SNAP_DELETE_METADATA_ONLY) {
        for (guint i = 0; i < names->len; i++)
            if (!snapshot_list_remove(list, names->pdata[i], error))
                return DISPATCH_FAILED;
        return DISPATCH_DONE;
    }
    if (blockjob_any(dom)) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_OPERATION_INVALID,
                    _("domain has an active block job"));
        return DISPATCH_FAILED;
    }
    if (dom->runtime && !hearth_domain_is_active(dom)) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_OPERATION_INVALID,
                    _("domain is still starting"));
        return DISPATCH_FAILED;
    }
    ctx = g_new0(DeleteCtx, 1);
    ctx->daemon = daemon;
    ctx->call = call;
    memcpy(ctx->uuid, dom->def->uuid, 16);
    ctx->names = g_steal_pointer(&names);
    step(ctx);
    return DISPATCH_ASYNC;
}
