/* Snapshot metadata of every domain: one libvirt domainsnapshot XML file per snapshot in
 * STATE/qemu/snapshot/DOMAIN/NAME.xml (mode 0600, written atomically), the current snapshot
 * marked in its own file by <active>1</active>, as libvirt keeps them. A domain's list is
 * read from disk the first time it is asked for; afterwards memory and disk change together. */
#pragma once

#include "domain-store.h"
#include "hearth-daemon.h"
#include "snapshot-def.h"

#include <glib.h>

G_BEGIN_DECLS

typedef struct SnapshotList SnapshotList;

/* The domain's snapshots (never NULL; empty when it has none). */
SnapshotList *snapshot_store_get(HearthDaemon *daemon, const HearthDomain *dom);
/* Undefine with UNDEFINE_SNAPSHOTS_METADATA: forget every snapshot and remove the files. */
gboolean snapshot_store_forget(HearthDaemon *daemon, const HearthDomain *dom, GError **error);
/* How many snapshots a domain has (0 without reading anything when none were ever made). */
guint snapshot_store_count(HearthDaemon *daemon, const HearthDomain *dom);

guint snapshot_list_count(SnapshotList *list);
HearthSnapshotDef *snapshot_list_lookup(SnapshotList *list, const char *name);
/* As lookup, or NO_DOMAIN_SNAPSHOT "no domain snapshot with matching name '%s'". */
HearthSnapshotDef *snapshot_list_get(SnapshotList *list, const char *name, GError **error);
HearthSnapshotDef *snapshot_list_current(SnapshotList *list);
/* Every snapshot, parents before their children, siblings by creation time then name. */
GPtrArray *snapshot_list_all(SnapshotList *list);
/* Direct children of @name (NULL: the roots), or every descendant. */
GPtrArray *snapshot_list_children(SnapshotList *list, const char *name, gboolean descendants);

/* Add a new snapshot (takes def), written to disk first; it becomes the current one when
 * @make_current. A name that exists is an error. */
gboolean snapshot_list_add(SnapshotList *list, HearthSnapshotDef *def, gboolean make_current,
                           GError **error);
/* Write a snapshot whose definition was edited in place. */
gboolean snapshot_list_save(SnapshotList *list, HearthSnapshotDef *def, GError **error);
/* Make @name (NULL: none) the current snapshot; both files involved are rewritten. */
gboolean snapshot_list_set_current(SnapshotList *list, const char *name, GError **error);
/* Remove one snapshot's metadata: its children move to its parent, and the parent becomes
 * current if it was. */
gboolean snapshot_list_remove(SnapshotList *list, const char *name, GError **error);

/* virDomainSnapshotListFlags filtering (ROOTS/DESCENDANTS excepted, which pick the set). */
gboolean snapshot_list_matches(SnapshotList *list, const HearthSnapshotDef *def, guint flags);

G_END_DECLS
