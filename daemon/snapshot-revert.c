/* REVERT_TO_SNAPSHOT for external disk-only snapshots (beyond libvirt 9.0). The snapshot's
 * images stay as they are: each disk gets a fresh qcow2 overlay on top of the image the
 * snapshot froze, and the definition becomes the one the snapshot recorded. A running domain
 * is stopped first and started again afterwards (a disk-only snapshot holds no memory, so the
 * guest boots from the reverted disks), as is a shut-off one with RUNNING or PAUSED. */
#include "blockjob-chain.h"
#include "blockjob.h"
#include "domain-runner.h"
#include "hearth-error.h"
#include "image-probe.h"
#include "snapshot-image.h"
#include "snapshot-ops.h"
#include "snapshot-store.h"

#include <errno.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>

typedef struct {
    HearthDaemon *daemon;
    HearthCall *call;
    guint8 uuid[16];
    char *name;
    gboolean start, paused;
} RevertCtx;

static void ctx_free(RevertCtx *ctx)
{
    g_free(ctx->name);
    g_free(ctx);
}

static void finish(RevertCtx *ctx, const GError *error)
{
    if (error)
        hearth_call_fail(ctx->call, error);
    else
        hearth_call_complete(ctx->call);
    ctx_free(ctx);
}

/* A name next to the image the snapshot froze: mid.qcow2 and s1 give mid.s1-revert1. */
static char *revert_overlay_name(const char *image, const char *snap)
{
    g_autofree char *stem = snapshot_default_overlay_name(image, snap);

    for (guint n = 1;; n++) {
        char *path = g_strdup_printf("%s-revert%u", stem, n);
        struct stat st;

        if (lstat(path, &st) < 0 && errno == ENOENT)
            return path;
        g_free(path);
    }
}

/* The definition to go back to, with its disks on new overlays (created here). */
static HearthDomainDef *reverted_def(const HearthDomain *dom, const HearthSnapshotDef *snap,
                                     GPtrArray *created, GError **error)
{
    g_autoptr(HearthDomainDef) def =
        domain_def_copy(snap->inactive_dom ? snap->inactive_dom : snap->dom);

    if (!def) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_INTERNAL,
                    _("the definition recorded in snapshot '%s' does not parse"), snap->name);
        return NULL;
    }
    /* The domain may have been renamed since: it keeps its name. */
    g_free(def->name);
    def->name = g_strdup(dom->def->name);
    chain_strip_indices(def);
    for (guint i = 0; snap->disks && i < snap->disks->len; i++) {
        HearthSnapshotDisk *sd = snap->disks->pdata[i];
        HearthDomainDisk *disk;
        g_auto(ImageInfo) info = {0};
        g_autofree char *overlay = NULL;
        struct stat st;

        if (sd->snapshot != HEARTH_SNAPSHOT_LOC_EXTERNAL)
            continue;
        disk = chain_find_disk(def, sd->name);
        if (!disk || !disk->src.path)
            continue;
        if (!image_probe_file(disk->src.path, &info, error)) {
            g_prefix_error(error, _("cannot revert disk '%s' to snapshot '%s': "), sd->name,
                           snap->name);
            return NULL;
        }
        overlay = revert_overlay_name(disk->src.path, snap->name);
        if (stat(disk->src.path, &st) < 0)
            st.st_uid = st.st_gid = (uid_t)-1;
        if (!snapshot_image_create(overlay, info.virtual_size,
                                   info.cluster_bits ? info.cluster_bits : 16, disk->src.path,
                                   disk->src.format ? disk->src.format : "raw", (int)st.st_uid,
                                   (int)st.st_gid, error))
            return NULL;
        g_ptr_array_add(created, g_strdup(overlay));
        g_free(disk->src.path);
        disk->src.path = g_steal_pointer(&overlay);
        g_free(disk->src.format);
        disk->src.format = g_strdup("qcow2");
        disk->has_driver = TRUE;
        if (!disk->driver_name)
            disk->driver_name = g_strdup("qemu");
        chain_forget_backing(disk);
    }
    return g_steal_pointer(&def);
}

static void on_restarted(const GError *error, gpointer data)
{
    RevertCtx *ctx = data;

    finish(ctx, error);
}

static void do_revert(RevertCtx *ctx)
{
    HearthDomain *dom = domain_store_lookup_by_uuid(ctx->daemon->domains, ctx->uuid);
    SnapshotList *list = dom ? snapshot_store_get(ctx->daemon, dom) : NULL;
    HearthSnapshotDef *snap = list ? snapshot_list_lookup(list, ctx->name) : NULL;
    g_autoptr(GPtrArray) created = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GError) error = NULL;
    HearthDomainDef *def;

    if (!snap) {
        g_set_error(&error, HEARTH_ERROR, HEARTH_ERR_NO_DOMAIN_SNAPSHOT,
                    _("snapshot '%s' went away during the revert"), ctx->name);
        finish(ctx, error);
        return;
    }
    if (hearth_domain_is_active(dom) || dom->runtime) {
        g_set_error(&error, HEARTH_ERROR, HEARTH_ERR_OPERATION_INVALID,
                    _("the domain was started during the revert; nothing was changed"));
        finish(ctx, error);
        return;
    }
    def = reverted_def(dom, snap, created, &error);
    if (!def || !domain_store_replace_def(ctx->daemon->domains, dom, def, &error)) {
        for (guint i = 0; i < created->len; i++)
            g_unlink(created->pdata[i]);
        finish(ctx, error);
        return;
    }
    if (!snapshot_list_set_current(list, ctx->name, &error))
        g_warning("domain '%s': %s", dom->def->name, error->message);
    g_clear_error(&error);
    g_info("domain '%s' reverted to snapshot '%s'", dom->def->name, ctx->name);
    if (ctx->start) {
        domain_runner_start(ctx->daemon, dom, ctx->paused, on_restarted, ctx);
        return;
    }
    finish(ctx, NULL);
}

static void on_stopped(const GError *error, gpointer data)
{
    RevertCtx *ctx = data;

    if (error) {
        finish(ctx, error);
        return;
    }
    do_revert(ctx);
}

DispatchResult snapshot_revert(HearthCall *call, HearthDomain *dom, HearthSnapshotDef *def,
                               guint flags, GError **error)
{
    HearthDaemon *daemon = rpc_client_get_daemon(call->client);
    gboolean active = hearth_domain_is_active(dom);
    RevertCtx *ctx;

    if (flags & ~0xfu) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_INVALID_ARG,
                    _("unsupported flags (0x%x) in function %s"), flags & ~0xfu,
                    "virDomainRevertToSnapshot");
        return DISPATCH_FAILED;
    }
    if ((flags & SNAP_REVERT_RUNNING) && (flags & SNAP_REVERT_PAUSED)) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_INVALID_ARG,
                    _("flags 'running' and 'paused' are mutually exclusive"));
        return DISPATCH_FAILED;
    }
    if (!dom->persistent) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_OPERATION_UNSUPPORTED,
                    _("reverting a transient domain is not supported"));
        return DISPATCH_FAILED;
    }
    if (def->memory == HEARTH_SNAPSHOT_LOC_INTERNAL ||
        def->memory == HEARTH_SNAPSHOT_LOC_EXTERNAL) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_NO_SUPPORT,
                    _("reverting to a snapshot with memory state is not supported"));
        return DISPATCH_FAILED;
    }
    for (guint i = 0; def->disks && i < def->disks->len; i++) {
        HearthSnapshotDisk *sd = def->disks->pdata[i];

        if (sd->snapshot == HEARTH_SNAPSHOT_LOC_INTERNAL ||
            sd->snapshot == HEARTH_SNAPSHOT_LOC_MANUAL) {
            g_set_error(error, HEARTH_ERROR, HEARTH_ERR_NO_SUPPORT,
                        _("reverting to %s disk snapshots is not supported"),
                        snapshot_location_name(sd->snapshot));
            return DISPATCH_FAILED;
        }
    }
    if (!def->dom) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_OPERATION_INVALID,
                    _("snapshot '%s' records no domain definition to revert to"), def->name);
        return DISPATCH_FAILED;
    }
    if (blockjob_any(dom)) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_OPERATION_INVALID,
                    _("domain has an active block job"));
        return DISPATCH_FAILED;
    }
    if (dom->runtime && !active) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_OPERATION_INVALID,
                    _("domain is still starting"));
        return DISPATCH_FAILED;
    }
    ctx = g_new0(RevertCtx, 1);
    ctx->daemon = daemon;
    ctx->call = call;
    memcpy(ctx->uuid, dom->def->uuid, 16);
    ctx->name = g_strdup(def->name);
    ctx->start = active || (flags & (SNAP_REVERT_RUNNING | SNAP_REVERT_PAUSED));
    ctx->paused = (flags & SNAP_REVERT_PAUSED) ||
                  (active && dom->state == DOMAIN_STATE_PAUSED && !(flags & SNAP_REVERT_RUNNING));
    if (active) {
        domain_runner_request(daemon, dom, "destroy", NULL, on_stopped, ctx);
        return DISPATCH_ASYNC;
    }
    do_revert(ctx);
    return DISPATCH_ASYNC;
}
