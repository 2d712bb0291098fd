/* Snapshot procedures. Queries answer from the metadata in memory; create, revert and delete
 * are in snapshot-create.c, snapshot-revert.c and snapshot-delete.c. */
#include "domain-events.h"
#include "domain-store.h"
#include "hearth-daemon.h"
#include "hearth-error.h"
#include "dispatch-util.h"
#include "rpc-server.h"
#include "snapshot-ops.h"
#include "snapshot-store.h"
#include "uuid-util.h"

#include <glib/gi18n-lib.h>
#include <string.h>

enum { LIST_ROOTS = 1, LIST_DESCENDANTS = 1, LIST_TOPOLOGICAL = 1 << 10, LIST_ALL_FLAGS = 0x7ff };
enum { XML_SECURE = 1 };

static HearthDaemon *daemon_of(HearthCall *call)
{
    return rpc_client_get_daemon(call->client);
}

HearthDomain *snapshot_lookup_domain(HearthCall *call, const RemoteNonnullDomain *ref,
                                     GError **error)
{
    return dispatch_lookup_domain(call, ref, error);
}

HearthSnapshotDef *snapshot_lookup(HearthCall *call, const RemoteNonnullDomainSnapshot *ref,
                                   HearthDomain **dom_out, GError **error)
{
    HearthDomain *dom = snapshot_lookup_domain(call, &ref->dom, error);

    if (!dom)
        return NULL;
    if (dom_out)
        *dom_out = dom;
    return snapshot_list_get(snapshot_store_get(daemon_of(call), dom), ref->name, error);
}

void snapshot_to_wire(const HearthDomain *dom, const char *name, RemoteNonnullDomainSnapshot *out)
{
    out->name = g_strdup(name);
    domain_to_wire(dom, &out->dom);
}

/* The snapshots a listing call asks for: roots or all, or children or descendants of @parent,
 * filtered by the remaining flags. */
static GPtrArray *select_snapshots(SnapshotList *list, const char *parent, guint flags)
{
    GPtrArray *set;
    GPtrArray *out = g_ptr_array_new();

    if (parent)
        set = snapshot_list_children(list, parent, (flags & LIST_DESCENDANTS) != 0);
    else if (flags & LIST_ROOTS)
        set = snapshot_list_children(list, NULL, FALSE);
    else
        set = snapshot_list_all(list);
    for (guint i = 0; i < set->len; i++) {
        if (snapshot_list_matches(list, set->pdata[i], flags & ~(LIST_ROOTS | LIST_TOPOLOGICAL)))
            g_ptr_array_add(out, set->pdata[i]);
    }
    g_ptr_array_unref(set);
    return out;
}

static DispatchResult list_names(HearthCall *call, HearthDomain *dom, const char *parent,
                                 gint32 maxnames, guint flags, guint32 *len, char ***val,
                                 GError **error)
{
    g_autoptr(GPtrArray) sel = NULL;

    if (maxnames < 0) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_INVALID_ARG,
                    _("maxnames must not be negative"));
        return DISPATCH_FAILED;
    }
    sel = select_snapshots(snapshot_store_get(daemon_of(call), dom), parent, flags);
    *val = g_new0(char *, MIN(sel->len, (guint)maxnames) + 1);
    for (guint i = 0; i < sel->len && i < (guint)maxnames; i++)
        (*val)[(*len)++] = g_strdup(((HearthSnapshotDef *)sel->pdata[i])->name);
    return DISPATCH_DONE;
}

static void list_objects(HearthCall *call, HearthDomain *dom, const char *parent, gint32 need,
                         guint flags, guint32 *len, RemoteNonnullDomainSnapshot **val, gint32 *ret)
{
    g_autoptr(GPtrArray) sel =
        select_snapshots(snapshot_store_get(daemon_of(call), dom), parent, flags);

    *ret = (gint32)sel->len;
    if (!need)
        return;
    *val = g_new0(RemoteNonnullDomainSnapshot, sel->len ? sel->len : 1);
    for (guint i = 0; i < sel->len; i++)
        snapshot_to_wire(dom, ((HearthSnapshotDef *)sel->pdata[i])->name, &(*val)[i]);
    *len = sel->len;
}

DispatchResult dispatch_domain_snapshot_num(HearthCall *call,
                                            const RemoteDomainSnapshotNumArgs *args,
                                            RemoteDomainSnapshotNumRet *ret, GError **error)
{
    HearthDomain *dom;
    g_autoptr(GPtrArray) sel = NULL;

    if (!dispatch_check_flags(args->flags, LIST_ALL_FLAGS, "virDomainSnapshotNum", error) ||
        !(dom = snapshot_lookup_domain(call, &args->dom, error)))
        return DISPATCH_FAILED;
    sel = select_snapshots(snapshot_store_get(daemon_of(call), dom), NULL, args->flags);
    ret->num = (gint32)sel->len;
    return DISPATCH_DONE;
}

DispatchResult dispatch_domain_snapshot_list_names(HearthCall *call,
                                                   const RemoteDomainSnapshotListNamesArgs *args,
                                                   RemoteDomainSnapshotListNamesRet *ret,
                                                   GError **error)
{
    HearthDomain *dom;

    if (!dispatch_check_flags(args->flags, LIST_ALL_FLAGS, "virDomainSnapshotListNames", error) ||
        !(dom = snapshot_lookup_domain(call, &args->dom, error)))
        return DISPATCH_FAILED;
    return list_names(call, dom, NULL, args->maxnames, args->flags, &ret->names_len,
                      &ret->names_val, error);
}

DispatchResult dispatch_domain_list_all_snapshots(HearthCall *call,
                                                  const RemoteDomainListAllSnapshotsArgs *args,
                                                  RemoteDomainListAllSnapshotsRet *ret,
                                                  GError **error)
{
    HearthDomain *dom;

    if (!dispatch_check_flags(args->flags, LIST_ALL_FLAGS, "virDomainListAllSnapshots", error) ||
        !(dom = snapshot_lookup_domain(call, &args->dom, error)))
        return DISPATCH_FAILED;
    list_objects(call, dom, NULL, args->need_results, args->flags, &ret->snapshots_len,
                 &ret->snapshots_val, &ret->ret);
    return DISPATCH_DONE;
}

DispatchResult
dispatch_domain_snapshot_lookup_by_name(HearthCall *call,
                                        const RemoteDomainSnapshotLookupByNameArgs *args,
                                        RemoteDomainSnapshotLookupByNameRet *ret, GError **error)
{
    HearthDomain *dom;

    if (!dispatch_check_flags(args->flags, 0, "virDomainSnapshotLookupByName", error) ||
        !(dom = snapshot_lookup_domain(call, &args->dom, error)) ||
        !snapshot_list_get(snapshot_store_get(daemon_of(call), dom), args->name, error))
        return DISPATCH_FAILED;
    snapshot_to_wire(dom, args->name, &ret->snap);
    return DISPATCH_DONE;
}

DispatchResult dispatch_domain_snapshot_get_xml_desc(HearthCall *call,
                                                     const RemoteDomainSnapshotGetXmlDescArgs *args,
                                                     RemoteDomainSnapshotGetXmlDescRet *ret,
                                                     GError **error)
{
    HearthSnapshotDef *def;

    if (!dispatch_check_flags(args->flags, XML_SECURE, "virDomainSnapshotGetXMLDesc", error))
        return DISPATCH_FAILED;
    if ((args->flags & XML_SECURE) && rpc_client_is_readonly(call->client)) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_OPERATION_DENIED,
                    _("virDomainSnapshotGetXMLDesc with secure flag"));
        return DISPATCH_FAILED;
    }
    def = snapshot_lookup(call, &args->snap, NULL, error);
    if (!def)
        return DISPATCH_FAILED;
    ret->xml = snapshot_def_format(def, (args->flags & XML_SECURE) ? SNAPSHOT_FORMAT_SECURE : 0);
    return DISPATCH_DONE;
}

DispatchResult dispatch_domain_has_current_snapshot(HearthCall *call,
                                                    const RemoteDomainHasCurrentSnapshotArgs *args,
                                                    RemoteDomainHasCurrentSnapshotRet *ret,
                                                    GError **error)
{
    HearthDomain *dom;

    if (!dispatch_check_flags(args->flags, 0, "virDomainHasCurrentSnapshot", error) ||
        !(dom = snapshot_lookup_domain(call, &args->dom, error)))
        return DISPATCH_FAILED;
    ret->result = snapshot_list_current(snapshot_store_get(daemon_of(call), dom)) != NULL;
    return DISPATCH_DONE;
}

DispatchResult dispatch_domain_snapshot_current(HearthCall *call,
                                                const RemoteDomainSnapshotCurrentArgs *args,
                                                RemoteDomainSnapshotCurrentRet *ret, GError **error)
{
    HearthDomain *dom;
    HearthSnapshotDef *cur;

    if (!dispatch_check_flags(args->flags, 0, "virDomainSnapshotCurrent", error) ||
        !(dom = snapshot_lookup_domain(call, &args->dom, error)))
        return DISPATCH_FAILED;
    cur = snapshot_list_current(snapshot_store_get(daemon_of(call), dom));
    if (!cur) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_NO_DOMAIN_SNAPSHOT,
                    _("the domain does not have a current snapshot"));
        return DISPATCH_FAILED;
    }
    snapshot_to_wire(dom, cur->name, &ret->snap);
    return DISPATCH_DONE;
}

DispatchResult dispatch_domain_snapshot_get_parent(HearthCall *call,
                                                   const RemoteDomainSnapshotGetParentArgs *args,
                                                   RemoteDomainSnapshotGetParentRet *ret,
                                                   GError **error)
{
    HearthDomain *dom = NULL;
    HearthSnapshotDef *def;

    if (!dispatch_check_flags(args->flags, 0, "virDomainSnapshotGetParent", error) ||
        !(def = snapshot_lookup(call, &args->snap, &dom, error)))
        return DISPATCH_FAILED;
    if (!def->parent ||
        !snapshot_list_lookup(snapshot_store_get(daemon_of(call), dom), def->parent)) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_NO_DOMAIN_SNAPSHOT,
                    _("snapshot '%s' does not have a parent"), def->name);
        return DISPATCH_FAILED;
    }
    snapshot_to_wire(dom, def->parent, &ret->snap);
    return DISPATCH_DONE;
}

DispatchResult
dispatch_domain_snapshot_num_children(HearthCall *call,
                                      const RemoteDomainSnapshotNumChildrenArgs *args,
                                      RemoteDomainSnapshotNumChildrenRet *ret, GError **error)
{
    HearthDomain *dom = NULL;
    HearthSnapshotDef *def;
    g_autoptr(GPtrArray) sel = NULL;

    if (!dispatch_check_flags(args->flags, LIST_ALL_FLAGS, "virDomainSnapshotNumChildren", error) ||
        !(def = snapshot_lookup(call, &args->snap, &dom, error)))
        return DISPATCH_FAILED;
    sel = select_snapshots(snapshot_store_get(daemon_of(call), dom), def->name, args->flags);
    ret->num = (gint32)sel->len;
    return DISPATCH_DONE;
}

DispatchResult dispatch_domain_snapshot_list_children_names(
    HearthCall *call, const RemoteDomainSnapshotListChildrenNamesArgs *args,
    RemoteDomainSnapshotListChildrenNamesRet *ret, GError **error)
{
    HearthDomain *dom = NULL;
    HearthSnapshotDef *def;

    if (!dispatch_check_flags(args->flags, LIST_ALL_FLAGS, "virDomainSnapshotListChildrenNames",
                              error) ||
        !(def = snapshot_lookup(call, &args->snap, &dom, error)))
        return DISPATCH_FAILED;
    return list_names(call, dom, def->name, args->maxnames, args->flags, &ret->names_len,
                      &ret->names_val, error);
}

DispatchResult dispatch_domain_snapshot_list_all_children(
    HearthCall *call, const RemoteDomainSnapshotListAllChildrenArgs *args,
    RemoteDomainSnapshotListAllChildrenRet *ret, GError **error)
{
    HearthDomain *dom = NULL;
    HearthSnapshotDef *def;

    if (!dispatch_check_flags(args->flags, LIST_ALL_FLAGS, "virDomainSnapshotListAllChildren",
                              error) ||
        !(def = snapshot_lookup(call, &args->snapshot, &dom, error)))
        return DISPATCH_FAILED;
    list_objects(call, dom, def->name, args->need_results, args->flags, &ret->snapshots_len,
                 &ret->snapshots_val, &ret->ret);
    return DISPATCH_DONE;
}

DispatchResult dispatch_domain_snapshot_is_current(HearthCall *call,
                                                   const RemoteDomainSnapshotIsCurrentArgs *args,
                                                   RemoteDomainSnapshotIsCurrentRet *ret,
                                                   GError **error)
{
    HearthSnapshotDef *def;

    if (!dispatch_check_flags(args->flags, 0, "virDomainSnapshotIsCurrent", error) ||
        !(def = snapshot_lookup(call, &args->snap, NULL, error)))
        return DISPATCH_FAILED;
    ret->current = def->current;
    return DISPATCH_DONE;
}

DispatchResult
dispatch_domain_snapshot_has_metadata(HearthCall *call,
                                      const RemoteDomainSnapshotHasMetadataArgs *args,
                                      RemoteDomainSnapshotHasMetadataRet *ret, GError **error)
{
    if (!dispatch_check_flags(args->flags, 0, "virDomainSnapshotHasMetadata", error) ||
        !snapshot_lookup(call, &args->snap, NULL, error))
        return DISPATCH_FAILED;
    ret->metadata = 1;
    return DISPATCH_DONE;
}

DispatchResult dispatch_domain_snapshot_create_xml(HearthCall *call,
                                                   const RemoteDomainSnapshotCreateXmlArgs *args,
                                                   RemoteDomainSnapshotCreateXmlRet *ret,
                                                   GError **error)
{
    HearthDomain *dom = snapshot_lookup_domain(call, &args->dom, error);

    if (!dom)
        return DISPATCH_FAILED;
    return snapshot_create(call, dom, args->xml_desc, args->flags, &ret->snap, error);
}

DispatchResult dispatch_domain_snapshot_delete(HearthCall *call,
                                               const RemoteDomainSnapshotDeleteArgs *args,
                                               void *ret, GError **error)
{
    HearthDomain *dom = NULL;
    HearthSnapshotDef *def = snapshot_lookup(call, &args->snap, &dom, error);

    if (!def)
        return DISPATCH_FAILED;
    return snapshot_delete(call, dom, def, args->flags, error);
}

DispatchResult dispatch_domain_revert_to_snapshot(HearthCall *call,
                                                  const RemoteDomainRevertToSnapshotArgs *args,
                                                  void *ret, GError **error)
{
    HearthDomain *dom = NULL;
    HearthSnapshotDef *def = snapshot_lookup(call, &args->snap, &dom, error);

    if (!def)
        return DISPATCH_FAILED;
    return snapshot_revert(call, dom, def, args->flags, error);
}
