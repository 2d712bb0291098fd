/* SNAPSHOT_CREATE_XML: external disk-only snapshots. A running domain's disks move to their
 * new overlays in one QMP transaction run by its worker (all or none; the worker removes what
 * it created for a failed attempt). A shut-off domain gets its overlays from qemu-img, and its
 * persistent definition moves to them. Either way the metadata is written last, as libvirt's
 * domainsnapshot XML, and the snapshot becomes the current one. */
#include "blockjob-chain.h"
#include "uuid-util.h"
#include "blockjob.h"
#include "child-process.h"
#include "domain-runner.h"
#include "hearth-error.h"
#include "image-probe.h"
#include "snapshot-image.h"
#include "snapshot-ops.h"
#include "snapshot-store.h"

#include <errno.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct {
    char *target;
    char *file;    /* the new overlay */
    char *backing; /* the image it goes on top of (the disk's image now) */
    char *backing_fmt;
    int node, overlay; /* node numbers, live only */
    gboolean create;   /* FALSE with REUSE_EXT */
    gboolean created;  /* made by this attempt (offline) */
} DiskPlan;

typedef struct {
    HearthDaemon *daemon;
    HearthCall *call;
    guint8 uuid[16];
    HearthSnapshotDef *def;
    guint flags;
    RemoteNonnullDomainSnapshot *out;
    gboolean live;
    GPtrArray *plans; /* DiskPlan * */
    guint next;       /* offline: the next overlay to create */
    char *qemu_img;
} CreateCtx;

/* Domains with a snapshot being taken (uuid keys): one at a time per domain. */
static GHashTable *busy;

static void plan_free(DiskPlan *p)
{
    g_free(p->target);
    g_free(p->file);
    g_free(p->backing);
    g_free(p->backing_fmt);
    g_free(p);
}

static void ctx_free(CreateCtx *ctx)
{
    if (busy)
        g_hash_table_remove(busy, ctx->uuid);
    snapshot_def_free(ctx->def);
    if (ctx->plans)
        g_ptr_array_unref(ctx->plans);
    g_free(ctx->qemu_img);
    g_free(ctx);
}

static char *real_dir_of(const char *path)
{
    g_autofree char *dir = g_path_get_dirname(path);
    char *real = realpath(dir, NULL);
    char *out = g_strdup(real);

    free(real);
    return out;
}

static gboolean under(const char *path, const char *dir)
{
    gsize n = strlen(dir);

    return dir[0] && strncmp(path, dir, n) == 0 &&
           (path[n] == '\0' || path[n] == '/' || (n == 1 && dir[0] == '/'));
}

gboolean snapshot_path_allowed(HearthDaemon *daemon, const HearthDomainDef *def, const char *path,
                               GError **error)
{
    g_autofree char *dir = real_dir_of(path);
    g_autofree char *images = g_build_filename(daemon->paths->state_dir, "images", NULL);
    g_autofree char *images_real = realpath(images, NULL);
    g_autoptr(GString) allowed = g_string_new(NULL);

    if (!dir) {
        g_autofree char *d = g_path_get_dirname(path);

        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_INVALID_ARG,
                    _("failed to create image file '%s': directory '%s' does not exist"), path, d);
        return FALSE;
    }
    if (images_real && under(dir, images_real))
        return TRUE;
    g_string_append(allowed, images_real ? images_real : images);
    for (guint i = 0; def->devices && i < def->devices->len; i++) {
        HearthDomainDevice *dev = def->devices->pdata[i];

        if (dev->kind != HEARTH_DEVICE_DISK)
            continue;
        for (HearthDiskSource *l = &dev->u.disk->src; l && l->path; l = l->backing) {
            g_autofree char *d = real_dir_of(l->path);

            if (!d)
                continue;
            if (under(dir, d))
                return TRUE;
            if (!strstr(allowed->str, d))
                g_string_append_printf(allowed, ", %s", d);
        }
    }
    g_set_error(error, HEARTH_ERROR, HEARTH_ERR_INVALID_ARG,
                _("snapshot file '%s' is outside the directories new images may be created in "
                  "(those of the domain's disk images, and %s): %s"),
                path, images_real ? images_real : images, allowed->str);
    return FALSE;
}

/* ---- checks ---- */

static gboolean path_in_any_chain(const HearthDomainDef *def, const char *path)
{
    for (guint i = 0; def->devices && i < def->devices->len; i++) {
        HearthDomainDevice *dev = def->devices->pdata[i];

        if (dev->kind != HEARTH_DEVICE_DISK)
            continue;
        for (HearthDiskSource *l = &dev->u.disk->src; l; l = l->backing)
            if (g_strcmp0(l->path, path) == 0)
                return TRUE;
    }
    return FALSE;
}

static DiskPlan *plan_disk(HearthDaemon *daemon, HearthDomain *dom, const HearthDomainDef *cur,
                           const HearthSnapshotDisk *sd, guint flags, GError **error)
{
    HearthDomainDisk *disk = chain_find_disk(cur, sd->name);
    DiskPlan *p;
    struct stat st;

    if (sd->snapshot == HEARTH_SNAPSHOT_LOC_INTERNAL ||
        sd->snapshot == HEARTH_SNAPSHOT_LOC_MANUAL) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_NO_SUPPORT,
                    _("%s snapshots of disk '%s' are not supported; Hearth takes external "
                      "snapshots"),
                    snapshot_location_name(sd->snapshot), sd->name);
        return NULL;
    }
    if (sd->type != HEARTH_DISK_TYPE_FILE) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_CONFIG_UNSUPPORTED,
                    _("external snapshot of disk '%s' must be a file"), sd->name);
        return NULL;
    }
    if (g_strcmp0(sd->driver_type, "qcow2") != 0) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_CONFIG_UNSUPPORTED,
                    _("external snapshot format for disk %s is unsupported: %s"), sd->name,
                    sd->driver_type);
        return NULL;
    }
    if (!disk || disk->src.type != HEARTH_DISK_TYPE_FILE || !disk->src.path) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_CONFIG_UNSUPPORTED,
                    _("external snapshots of disk '%s' need a file image"), sd->name);
        return NULL;
    }
    if (!g_path_is_absolute(sd->file)) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_CONFIG_UNSUPPORTED,
                    _("external snapshot file for disk %s must use absolute path"), sd->name);
        return NULL;
    }
    if (!snapshot_path_allowed(daemon, cur, sd->file, error))
        return NULL;
    if (path_in_any_chain(cur, sd->file)) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_CONFIG_UNSUPPORTED,
                    _("external snapshot file for disk %s is already in use by the domain: %s"),
                    sd->name, sd->file);
        return NULL;
    }
    if (!(flags & SNAP_CREATE_REUSE_EXT) && lstat(sd->file, &st) == 0) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_CONFIG_UNSUPPORTED,
                    _("external snapshot file for disk %s already exists and is not a block "
                      "device: %s"),
                    sd->name, sd->file);
        return NULL;
    }
    if ((flags & SNAP_CREATE_REUSE_EXT) && stat(sd->file, &st) < 0) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_CONFIG_UNSUPPORTED,
                    _("missing existing file for disk %s: %s"), sd->name, sd->file);
        return NULL;
    }
    if (hearth_domain_is_active(dom) && chain_layer_index(disk, &disk->src) < 0) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_OPERATION_UNSUPPORTED,
                    _("disk '%s' has no block node numbers (the domain was started by an older "
                      "hearthd); restart it to take snapshots"),
                    sd->name);
        return NULL;
    }
    p = g_new0(DiskPlan, 1);
    p->target = g_strdup(disk->target_dev);
    p->file = g_strdup(sd->file);
    p->backing = g_strdup(disk->src.path);
    p->backing_fmt = g_strdup(disk->src.format ? disk->src.format : "raw");
    p->create = !(flags & SNAP_CREATE_REUSE_EXT);
    p->node = chain_layer_index(disk, &disk->src);
    return p;
}

/* The definition a snapshot records: as it was, without node numbers, and with each disk
 * only as deep as its persistent definition describes it (the rest is in the image headers). */
static HearthDomainDef *recorded_def(const HearthDomain *dom, const HearthDomainDef *cur)
{
    HearthDomainDef *copy = domain_def_copy(cur);

    if (!copy)
        return NULL;
    chain_strip_indices(copy);
    for (guint i = 0; copy->devices && i < copy->devices->len; i++) {
        HearthDomainDevice *dev = copy->devices->pdata[i];
        HearthDomainDisk *pdisk;

        if (dev->kind != HEARTH_DEVICE_DISK)
            continue;
        pdisk = chain_find_disk(dom->def, dev->u.disk->target_dev);
        if (cur == dom->def ||
            (pdisk && g_strcmp0(pdisk->src.path, dev->u.disk->src.path) == 0 && pdisk->src.backing))
            continue;
        chain_forget_backing(dev->u.disk);
    }
    return copy;
}

/* ---- finishing ---- */

static void remove_created(CreateCtx *ctx)
{
    for (guint i = 0; ctx->plans && i < ctx->plans->len; i++) {
        DiskPlan *p = ctx->plans->pdata[i];

        if (p->created && g_unlink(p->file) < 0 && errno != ENOENT)
            g_warning("cannot remove overlay '%s': %s", p->file, g_strerror(errno));
        p->created = FALSE;
    }
}

static void switch_persistent(CreateCtx *ctx, HearthDomain *dom)
{
    g_autoptr(HearthDomainDef) copy = NULL;
    g_autoptr(GError) error = NULL;
    gboolean changed = FALSE;

    if (!dom->persistent)
        return;
    copy = domain_def_copy(dom->def);
    for (guint i = 0; copy && i < ctx->plans->len; i++) {
        DiskPlan *p = ctx->plans->pdata[i];
        HearthDomainDisk *disk = chain_find_disk(copy, p->target);

        /* Only a disk that still names the image the overlay went on. */
        if (!disk || g_strcmp0(disk->src.path, p->backing) != 0)
            continue;
        g_free(disk->src.path);
        disk->src.path = g_strdup(p->file);
        g_free(disk->src.format);
        disk->src.format = g_strdup("qcow2");
        disk->has_driver = TRUE;
        if (!disk->driver_name)
            disk->driver_name = g_strdup("qemu");
        chain_forget_backing(disk);
        changed = TRUE;
    }
    if (changed &&
        !domain_store_replace_def(ctx->daemon->domains, dom, g_steal_pointer(&copy), &error))
        g_warning("domain '%s': cannot switch the persistent definition to the snapshot "
                  "overlays: %s",
                  dom->def->name, error->message);
}

static void on_halted(const GError *error, gpointer data)
{
    CreateCtx *ctx = data;

    if (error)
        g_warning("snapshot '%s': cannot halt the domain: %s", ctx->def ? ctx->def->name : "?",
                  error->message);
    hearth_call_complete(ctx->call);
    ctx_free(ctx);
}

static void create_finish(CreateCtx *ctx, const GError *error)
{
    HearthDomain *dom = domain_store_lookup_by_uuid(ctx->daemon->domains, ctx->uuid);
    g_autoptr(GError) local = NULL;
    g_autofree char *name = g_strdup(ctx->def->name);

    if (!error && !dom)
        error = local = g_error_new(HEARTH_ERROR, HEARTH_ERR_NO_DOMAIN,
                                    _("the domain went away during the snapshot"));
    if (!error && !ctx->live && hearth_domain_is_active(dom))
        error = local = g_error_new(HEARTH_ERROR, HEARTH_ERR_OPERATION_INVALID,
                                    _("the domain was started while its snapshot was taken; "
                                      "nothing was changed"));
    if (error) {
        remove_created(ctx);
        hearth_call_fail(ctx->call, error);
        ctx_free(ctx);
        return;
    }
    if (ctx->live && dom->live) {
        for (guint i = 0; i < ctx->plans->len; i++) {
            DiskPlan *p = ctx->plans->pdata[i];
            HearthDomainDisk *disk = chain_find_disk(dom->live, p->target);

            if (disk)
                chain_push_overlay(disk, p->file, "qcow2", p->overlay);
        }
        if (!domain_runner_save_live(ctx->daemon, dom, &local))
            g_warning("domain '%s': %s", dom->def->name, local->message);
        g_clear_error(&local);
    }
    switch_persistent(ctx, dom);
    if (!(ctx->flags & SNAP_CREATE_NO_METADATA)) {
        HearthSnapshotDef *def = g_steal_pointer(&ctx->def);

        if (!snapshot_list_add(snapshot_store_get(ctx->daemon, dom), def, TRUE, &local)) {
            /* The disks have moved on: say so, but the images are consistent. */
            g_prefix_error(&local, _("the snapshot was taken but its metadata was not saved: "));
            hearth_call_fail(ctx->call, local);
            ctx_free(ctx);
            return;
        }
    }
    g_info("domain '%s': snapshot '%s' created (%s)", dom->def->name, name,
           ctx->live ? "live" : "offline");
    snapshot_to_wire(dom, name, ctx->out);
    if ((ctx->flags & SNAP_CREATE_HALT) && hearth_domain_is_active(dom)) {
        domain_runner_request(ctx->daemon, dom, "destroy", NULL, on_halted, ctx);
        return;
    }
    hearth_call_complete(ctx->call);
    ctx_free(ctx);
}

/* ---- live: the worker's transaction ---- */

static void on_worker_snapshot(const GError *error, gpointer data)
{
    create_finish(data, error);
}

/* The overlay files, made here: a worker then only has to open them (no qemu-img, no
 * blockdev-create job). Size and cluster size are those of the image they go on. */
static gboolean create_overlays(CreateCtx *ctx, GError **error)
{
    for (guint i = 0; i < ctx->plans->len; i++) {
        DiskPlan *p = ctx->plans->pdata[i];
        g_auto(ImageInfo) info = {0};
        struct stat st;

        if (!p->create)
            continue;
        if (!image_probe_file(p->backing, &info, error)) {
            g_prefix_error(error, _("cannot read '%s': "), p->backing);
            return FALSE;
        }
        if (stat(p->backing, &st) < 0)
            st.st_uid = st.st_gid = (uid_t)-1;
        if (!snapshot_image_create(p->file, info.virtual_size,
                                   info.cluster_bits ? info.cluster_bits : 16, p->backing,
                                   p->backing_fmt, (int)st.st_uid, (int)st.st_gid, error))
            return FALSE;
        p->created = TRUE;
    }
    return TRUE;
}

static void start_live(CreateCtx *ctx, HearthDomain *dom)
{
    g_autoptr(GError) error = NULL;
    json_t *disks;

    if (!create_overlays(ctx, &error)) {
        create_finish(ctx, error);
        return;
    }
    disks = json_array();
    for (guint i = 0; i < ctx->plans->len; i++) {
        DiskPlan *p = ctx->plans->pdata[i];

        p->overlay = chain_next_index(dom);
        json_array_append_new(disks, json_pack("{s:s, s:i, s:i, s:s, s:s, s:s, s:b}", "target",
                                               p->target, "node", p->node, "overlay", p->overlay,
                                               "file", p->file, "backing_file", p->backing,
                                               "backing_fmt", p->backing_fmt, "create", 0));
    }
    domain_runner_request(ctx->daemon, dom, "snapshot", json_pack("{s:o}", "disks", disks),
                          on_worker_snapshot, ctx);
}

/* ---- offline: qemu-img create, one overlay after the other ---- */

static void create_next_offline(CreateCtx *ctx);

static void on_qemu_img(ChildProcess *proc, gpointer data)
{
    CreateCtx *ctx = data;
    DiskPlan *p = ctx->plans->pdata[ctx->next];
    g_autoptr(GError) error = NULL;

    if (!child_process_succeeded(proc)) {
        g_autofree char *err_text = g_strstrip(g_strdup(child_process_stderr(proc)));

        g_set_error(&error, HEARTH_ERROR, HEARTH_ERR_OPERATION_FAILED,
                    _("failed to create image file '%s': %s"), p->file,
                    *err_text ? err_text : _("qemu-img failed"));
    }
    child_process_free(proc);
    if (error) {
        create_finish(ctx, error);
        return;
    }
    ctx->next++;
    create_next_offline(ctx);
}

static void create_next_offline(CreateCtx *ctx)
{
    g_autoptr(GError) error = NULL;
    DiskPlan *p;
    ChildProcess *proc;

    while (ctx->next < ctx->plans->len && !((DiskPlan *)ctx->plans->pdata[ctx->next])->create)
        ctx->next++;
    if (ctx->next >= ctx->plans->len) {
        create_finish(ctx, NULL);
        return;
    }
    p = ctx->plans->pdata[ctx->next];
    proc = child_process_spawn((const char *const[]){ctx->qemu_img, "create", "-q", "-f", "qcow2",
                                                     "-F", p->backing_fmt, "-b", p->backing,
                                                     p->file, NULL},
                               NULL, CHILD_STDERR_PIPE, &error);
    if (!proc) {
        create_finish(ctx, error);
        return;
    }
    /* From here the file is ours to remove if anything fails. */
    p->created = TRUE;
    child_process_watch(proc, NULL, on_qemu_img, ctx);
}

/* ---- the request ---- */

static gboolean check_request(HearthDomain *dom, HearthSnapshotDef *def, guint flags,
                              GError **error)
{
    gboolean disk_only = (flags & SNAP_CREATE_DISK_ONLY) || def->memory == HEARTH_SNAPSHOT_LOC_NO;

    if (flags & SNAP_CREATE_QUIESCE) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_NO_SUPPORT,
                    _("quiesced snapshots need the QEMU guest agent, which Hearth does not "
                      "support"));
        return FALSE;
    }
    if (def->memory == HEARTH_SNAPSHOT_LOC_INTERNAL ||
        def->memory == HEARTH_SNAPSHOT_LOC_EXTERNAL || def->memory == HEARTH_SNAPSHOT_LOC_MANUAL ||
        (flags & SNAP_CREATE_LIVE)) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_CONFIG_UNSUPPORTED,
                    _("memory snapshots are not supported: Hearth takes external disk-only "
                      "snapshots (--disk-only)"));
        return FALSE;
    }
    if ((flags & SNAP_CREATE_DISK_ONLY) && def->memory == HEARTH_SNAPSHOT_LOC_DEFAULT)
        def->memory = HEARTH_SNAPSHOT_LOC_NO;
    if (disk_only)
        return TRUE;
    if (hearth_domain_is_active(dom)) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_CONFIG_UNSUPPORTED,
                    _("a snapshot of a running domain without --disk-only includes its memory, "
                      "which is not supported: use --disk-only"));
        return FALSE;
    }
    /* Shut off, no flag: libvirt would take internal snapshots unless told otherwise. */
    for (guint i = 0; def->disks && i < def->disks->len; i++) {
        HearthSnapshotDisk *d = def->disks->pdata[i];

        if (d->snapshot != HEARTH_SNAPSHOT_LOC_EXTERNAL && d->snapshot != HEARTH_SNAPSHOT_LOC_NO)
            break;
        if (i + 1 == def->disks->len) {
            def->memory = HEARTH_SNAPSHOT_LOC_NO;
            return TRUE;
        }
    }
    g_set_error(error, HEARTH_ERROR, HEARTH_ERR_NO_SUPPORT,
                _("internal snapshots are not supported: use --disk-only for external snapshots"));
    return FALSE;
}

static DispatchResult redefine(HearthCall *call, HearthDomain *dom, HearthSnapshotDef *def,
                               guint flags, RemoteNonnullDomainSnapshot *out, GError **error)
{
    HearthDaemon *daemon = rpc_client_get_daemon(call->client);
    SnapshotList *list = snapshot_store_get(daemon, dom);
    g_autoptr(HearthSnapshotDef) owned = def;
    g_autofree char *name = NULL;

    if (!def->name) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_INVALID_ARG,
                    _("a redefined snapshot must have a name"));
        return DISPATCH_FAILED;
    }
    name = g_strdup(def->name);
    if (def->creation_time < 0)
        def->creation_time = g_get_real_time() / G_USEC_PER_SEC;
    if (snapshot_list_lookup(list, name)) {
        HearthSnapshotDef *old = snapshot_list_lookup(list, name);
        gboolean was_current = old->current;

        if (!snapshot_list_remove(list, name, error))
            return DISPATCH_FAILED;
        if (was_current)
            flags |= SNAP_CREATE_CURRENT;
    }
    if (!snapshot_list_add(list, g_steal_pointer(&owned), (flags & SNAP_CREATE_CURRENT) != 0,
                           error))
        return DISPATCH_FAILED;
    snapshot_to_wire(dom, name, out);
    return DISPATCH_DONE;
}

DispatchResult snapshot_create(HearthCall *call, HearthDomain *dom, const char *xml, guint flags,
                               RemoteNonnullDomainSnapshot *out, GError **error)
{
    HearthDaemon *daemon = rpc_client_get_daemon(call->client);
    g_autoptr(HearthSnapshotDef) def = NULL;
    SnapshotList *list = snapshot_store_get(daemon, dom);
    HearthSnapshotDef *current;
    const HearthDomainDef *cur;
    CreateCtx *ctx;
    g_autoptr(GPtrArray) plans = NULL;
    gboolean active = hearth_domain_is_active(dom);

    if (flags & ~0x3ffu) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_INVALID_ARG,
                    _("unsupported flags (0x%x) in function %s"), flags & ~0x3ffu,
                    "virDomainSnapshotCreateXML");
        return DISPATCH_FAILED;
    }
    def = snapshot_def_parse(xml, strlen(xml),
                             (flags & SNAP_CREATE_VALIDATE) ? SNAPSHOT_PARSE_VALIDATE : 0, error);
    if (!def)
        return DISPATCH_FAILED;
    if (flags & SNAP_CREATE_REDEFINE)
        return redefine(call, dom, g_steal_pointer(&def), flags, out, error);
    if (flags & SNAP_CREATE_CURRENT) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_INVALID_ARG,
                    _("the current flag is only valid with redefine"));
        return DISPATCH_FAILED;
    }
    if (!check_request(dom, def, flags, error))
        return DISPATCH_FAILED;
    if (dom->runtime && !active) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_OPERATION_INVALID,
                    _("domain is still starting"));
        return DISPATCH_FAILED;
    }
    if (!def->name)
        def->name = g_strdup_printf("%" G_GINT64_FORMAT, g_get_real_time() / G_USEC_PER_SEC);
    if (snapshot_list_lookup(list, def->name)) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_OPERATION_FAILED,
                    _("domain moment %s already exists"), def->name);
        return DISPATCH_FAILED;
    }
    if (blockjob_any(dom)) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_OPERATION_INVALID,
                    _("domain has an active block job"));
        return DISPATCH_FAILED;
    }
    if (busy && g_hash_table_contains(busy, dom->def->uuid)) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_OPERATION_INVALID,
                    _("another snapshot of this domain is being taken"));
        return DISPATCH_FAILED;
    }
    cur = active ? dom->live : dom->def;
    if (!snapshot_def_align_disks(def, cur, error))
        return DISPATCH_FAILED;
    plans = g_ptr_array_new_with_free_func((GDestroyNotify)plan_free);
    for (guint i = 0; i < def->disks->len; i++) {
        HearthSnapshotDisk *sd = def->disks->pdata[i];
        DiskPlan *p;

        if (sd->snapshot == HEARTH_SNAPSHOT_LOC_NO)
            continue;
        if (!(p = plan_disk(daemon, dom, cur, sd, flags, error)))
            return DISPATCH_FAILED;
        g_ptr_array_add(plans, p);
    }
    if (plans->len == 0) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_CONFIG_UNSUPPORTED,
                    _("disk-only snapshots require at least one disk to be selected for "
                      "snapshot"));
        return DISPATCH_FAILED;
    }
    /* The metadata, as libvirt records it. */
    current = snapshot_list_current(list);
    g_free(def->state);
    def->state = g_strdup(active ? "disk-snapshot" : "shutoff");
    g_free(def->parent);
    def->parent = current ? g_strdup(current->name) : NULL;
    def->creation_time = g_get_real_time() / G_USEC_PER_SEC;
    domain_def_free(def->dom);
    def->dom = recorded_def(dom, cur);
    domain_def_free(def->inactive_dom);
    def->inactive_dom = active && dom->persistent ? recorded_def(dom, dom->def) : NULL;

    ctx = g_new0(CreateCtx, 1);
    ctx->daemon = daemon;
    ctx->call = call;
    memcpy(ctx->uuid, dom->def->uuid, 16);
    ctx->def = g_steal_pointer(&def);
    ctx->flags = flags;
    ctx->out = out;
    ctx->live = active;
    ctx->plans = g_steal_pointer(&plans);
    if (!busy)
        busy = g_hash_table_new_full(hearth_uuid_hash, hearth_uuid_equal, g_free, NULL);
    g_hash_table_add(busy, g_memdup2(ctx->uuid, 16));
    if (active) {
        start_live(ctx, dom);
        return DISPATCH_ASYNC;
    }
    ctx->qemu_img = g_find_program_in_path("qemu-img");
    if (!ctx->qemu_img) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_CONFIG_UNSUPPORTED,
                    _("qemu-img is needed to snapshot a shut-off domain and was not found"));
        ctx_free(ctx);
        return DISPATCH_FAILED;
    }
    create_next_offline(ctx);
    return DISPATCH_ASYNC;
}
