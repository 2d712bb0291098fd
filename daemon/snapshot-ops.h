/* Snapshot operations behind the RPC handlers: create (disk-only, external), revert and delete
 * (with merge) of external snapshots. Each returns DISPATCH_ASYNC when it has to wait for the
 * domain's worker or qemu-img, and completes the call itself. */
#pragma once

#include "domain-store.h"
#include "rpc-server.h"
#include "snapshot-def.h"

G_BEGIN_DECLS

/* virDomainSnapshotCreateFlags, virDomainSnapshotDeleteFlags, virDomainSnapshotRevertFlags */
enum {
    SNAP_CREATE_REDEFINE = 1 << 0,
    SNAP_CREATE_CURRENT = 1 << 1,
    SNAP_CREATE_NO_METADATA = 1 << 2,
    SNAP_CREATE_HALT = 1 << 3,
    SNAP_CREATE_DISK_ONLY = 1 << 4,
    SNAP_CREATE_REUSE_EXT = 1 << 5,
    SNAP_CREATE_QUIESCE = 1 << 6,
    SNAP_CREATE_ATOMIC = 1 << 7,
    SNAP_CREATE_LIVE = 1 << 8,
    SNAP_CREATE_VALIDATE = 1 << 9,
};
enum {
    SNAP_DELETE_CHILDREN = 1 << 0,
    SNAP_DELETE_METADATA_ONLY = 1 << 1,
    SNAP_DELETE_CHILDREN_ONLY = 1 << 2,
};
enum {
    SNAP_REVERT_RUNNING = 1 << 0,
    SNAP_REVERT_PAUSED = 1 << 1,
    SNAP_REVERT_FORCE = 1 << 2,
    SNAP_REVERT_RESET_NVRAM = 1 << 3,
};

/* dispatch-snapshot.c */
HearthDomain *snapshot_lookup_domain(HearthCall *call, const RemoteNonnullDomain *ref,
                                     GError **error);
HearthSnapshotDef *snapshot_lookup(HearthCall *call, const RemoteNonnullDomainSnapshot *ref,
                                   HearthDomain **dom_out, GError **error);
void snapshot_to_wire(const HearthDomain *dom, const char *name, RemoteNonnullDomainSnapshot *out);

/* snapshot-create.c */
DispatchResult snapshot_create(HearthCall *call, HearthDomain *dom, const char *xml, guint flags,
                               RemoteNonnullDomainSnapshot *out, GError **error);
/* The directories a snapshot's new overlay may be created in: those of the domain's current
 * disk images, and STATE/images. */
gboolean snapshot_path_allowed(HearthDaemon *daemon, const HearthDomainDef *def, const char *path,
                               GError **error);

/* snapshot-delete.c */
DispatchResult snapshot_delete(HearthCall *call, HearthDomain *dom, HearthSnapshotDef *def,
                               guint flags, GError **error);

/* snapshot-revert.c */
DispatchResult snapshot_revert(HearthCall *call, HearthDomain *dom, HearthSnapshotDef *def,
                               guint flags, GError **error);

G_END_DECLS
