/* Domain definition procedures: define, look up, list, describe, undefine, rename, metadata.
 * Everything here answers from memory; nothing waits on a guest. */
#include "domain-events.h"
#include "domain-runner.h"
#include "domain-store.h"
#include "hearth-daemon.h"
#include "hearth-error.h"
#include "host-postparse.h"
#include "dispatch-util.h"
#include "rpc-server.h"
#include "snapshot-store.h"
#include "uuid-util.h"

#include <glib/gi18n-lib.h>
#include <string.h>

/* virConnectListAllDomainsFlags */
enum {
    LIST_ACTIVE = 1 << 0,
    LIST_INACTIVE = 1 << 1,
    LIST_PERSISTENT = 1 << 2,
    LIST_TRANSIENT = 1 << 3,
    LIST_RUNNING = 1 << 4,
    LIST_PAUSED = 1 << 5,
    LIST_SHUTOFF = 1 << 6,
    LIST_OTHER = 1 << 7,
    LIST_MANAGEDSAVE = 1 << 8,
    LIST_NO_MANAGEDSAVE = 1 << 9,
    LIST_AUTOSTART = 1 << 10,
    LIST_NO_AUTOSTART = 1 << 11,
    LIST_HAS_SNAPSHOT = 1 << 12,
    LIST_NO_SNAPSHOT = 1 << 13,
    LIST_HAS_CHECKPOINT = 1 << 14,
    LIST_NO_CHECKPOINT = 1 << 15,
};

enum { XML_SECURE = 1, XML_INACTIVE = 2, XML_UPDATE_CPU = 4, XML_MIGRATABLE = 8 };
enum { VCPU_MAXIMUM = 4, VCPU_GUEST = 8, VCPU_HOTPLUGGABLE = 16 };
enum { DEFINE_VALIDATE = 1 };
enum {
    UNDEFINE_MANAGED_SAVE = 1,
    UNDEFINE_SNAPSHOTS_METADATA = 2,
    UNDEFINE_NVRAM = 4,
    UNDEFINE_KEEP_NVRAM = 8,
    UNDEFINE_CHECKPOINTS_METADATA = 16,
    UNDEFINE_TPM = 32,
    UNDEFINE_KEEP_TPM = 64,
};

static DomainStore *store_of(HearthCall *call)
{
    return rpc_client_get_daemon(call->client)->domains;
}

static HearthDaemon *daemon_of(HearthCall *call)
{
    return rpc_client_get_daemon(call->client);
}

#define LOOKUP_OR_FAIL(dom, ref)                                                                   \
    HearthDomain *dom = dispatch_lookup_domain(call, (ref), error);                                \
    if (!dom)                                                                                      \
        return DISPATCH_FAILED;

static gboolean domain_matches(HearthDaemon *daemon, const HearthDomain *dom, guint flags)
{
    gboolean active = hearth_domain_is_active(dom);

#define FILTER_PAIR(yes, no, value)                                                                \
    if ((flags & ((yes) | (no))) &&                                                                \
        !(((flags & (yes)) && (value)) || ((flags & (no)) && !(value))))                           \
        return FALSE;
    FILTER_PAIR(LIST_ACTIVE, LIST_INACTIVE, active);
    FILTER_PAIR(LIST_PERSISTENT, LIST_TRANSIENT, dom->persistent);
    FILTER_PAIR(LIST_AUTOSTART, LIST_NO_AUTOSTART, dom->autostart);
    FILTER_PAIR(LIST_MANAGEDSAVE, LIST_NO_MANAGEDSAVE, FALSE);
    /* Counting snapshots reads their directory: only when the filter asks. */
    FILTER_PAIR(LIST_HAS_SNAPSHOT, LIST_NO_SNAPSHOT,
                (flags & (LIST_HAS_SNAPSHOT | LIST_NO_SNAPSHOT)) &&
                    snapshot_store_count(daemon, dom) > 0);
    FILTER_PAIR(LIST_HAS_CHECKPOINT, LIST_NO_CHECKPOINT, FALSE);
#undef FILTER_PAIR
    if (flags & (LIST_RUNNING | LIST_PAUSED | LIST_SHUTOFF | LIST_OTHER)) {
        gboolean ok = ((flags & LIST_RUNNING) && dom->state == DOMAIN_STATE_RUNNING) ||
                      ((flags & LIST_PAUSED) && dom->state == DOMAIN_STATE_PAUSED) ||
                      ((flags & LIST_SHUTOFF) && dom->state == DOMAIN_STATE_SHUTOFF) ||
                      ((flags & LIST_OTHER) && dom->state != DOMAIN_STATE_RUNNING &&
                       dom->state != DOMAIN_STATE_PAUSED && dom->state != DOMAIN_STATE_SHUTOFF);
        if (!ok)
            return FALSE;
    }
    return TRUE;
}

DispatchResult dispatch_connect_list_all_domains(HearthCall *call,
                                                 const RemoteConnectListAllDomainsArgs *args,
                                                 RemoteConnectListAllDomainsRet *ret,
                                                 GError **error)
{
    g_autoptr(GPtrArray) all = domain_store_list(store_of(call));
    guint n = 0;

    if (!dispatch_check_flags(args->flags, 0xffff, "virConnectListAllDomains", error))
        return DISPATCH_FAILED;
    if (args->need_results)
        ret->domains_val = g_new0(RemoteNonnullDomain, all->len ? all->len : 1);
    for (guint i = 0; i < all->len; i++) {
        const HearthDomain *dom = all->pdata[i];

        if (!domain_matches(daemon_of(call), dom, args->flags))
            continue;
        if (args->need_results)
            domain_to_wire(dom, &ret->domains_val[n]);
        n++;
    }
    ret->domains_len = args->need_results ? n : 0;
    ret->ret = n;
    return DISPATCH_DONE;
}

DispatchResult dispatch_connect_num_of_domains(HearthCall *call, const void *args,
                                               RemoteConnectNumOfDomainsRet *ret, GError **error)
{
    g_autoptr(GPtrArray) all = domain_store_list(store_of(call));

    ret->num = 0;
    for (guint i = 0; i < all->len; i++)
        ret->num += hearth_domain_is_active(all->pdata[i]);
    return DISPATCH_DONE;
}

DispatchResult dispatch_connect_list_domains(HearthCall *call,
                                             const RemoteConnectListDomainsArgs *args,
                                             RemoteConnectListDomainsRet *ret, GError **error)
{
    g_autoptr(GPtrArray) all = domain_store_list(store_of(call));

    if (args->maxids < 0) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_INVALID_ARG, _("maxids must not be negative"));
        return DISPATCH_FAILED;
    }
    ret->ids_val = g_new0(gint32, all->len + 1);
    for (guint i = 0; i < all->len && ret->ids_len < (guint)args->maxids; i++) {
        const HearthDomain *dom = all->pdata[i];
        if (hearth_domain_is_active(dom))
            ret->ids_val[ret->ids_len++] = dom->id;
    }
    return DISPATCH_DONE;
}

DispatchResult dispatch_connect_num_of_defined_domains(HearthCall *call, const void *args,
                                                       RemoteConnectNumOfDefinedDomainsRet *ret,
                                                       GError **error)
{
    g_autoptr(GPtrArray) all = domain_store_list(store_of(call));

    ret->num = 0;
    for (guint i = 0; i < all->len; i++)
        ret->num += !hearth_domain_is_active(all->pdata[i]);
    return DISPATCH_DONE;
}

DispatchResult
dispatch_connect_list_defined_domains(HearthCall *call,
                                      const RemoteConnectListDefinedDomainsArgs *args,
                                      RemoteConnectListDefinedDomainsRet *ret, GError **error)
{
    g_autoptr(GPtrArray) all = domain_store_list(store_of(call));

    if (args->maxnames < 0) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_INVALID_ARG,
                    _("maxnames must not be negative"));
        return DISPATCH_FAILED;
    }
    ret->names_val = g_new0(char *, all->len + 1);
    for (guint i = 0; i < all->len && ret->names_len < (guint)args->maxnames; i++) {
        const HearthDomain *dom = all->pdata[i];
        if (!hearth_domain_is_active(dom))
            ret->names_val[ret->names_len++] = g_strdup(hearth_domain_current_def(dom)->name);
    }
    return DISPATCH_DONE;
}

DispatchResult dispatch_domain_lookup_by_name(HearthCall *call,
                                              const RemoteDomainLookupByNameArgs *args,
                                              RemoteDomainLookupByNameRet *ret, GError **error)
{
    HearthDomain *dom = domain_store_lookup_by_name(store_of(call), args->name);

    if (!dom) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_NO_DOMAIN,
                    _("no domain with matching name '%s'"), args->name);
        return DISPATCH_FAILED;
    }
    domain_to_wire(dom, &ret->dom);
    return DISPATCH_DONE;
}

DispatchResult dispatch_domain_lookup_by_uuid(HearthCall *call,
                                              const RemoteDomainLookupByUuidArgs *args,
                                              RemoteDomainLookupByUuidRet *ret, GError **error)
{
    HearthDomain *dom = domain_store_lookup_by_uuid(store_of(call), args->uuid);
    char uuid[HEARTH_UUID_STRING_LEN];

    if (!dom) {
        hearth_uuid_format(args->uuid, uuid);
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_NO_DOMAIN,
                    _("no domain with matching uuid '%s'"), uuid);
        return DISPATCH_FAILED;
    }
    domain_to_wire(dom, &ret->dom);
    return DISPATCH_DONE;
}

DispatchResult dispatch_domain_lookup_by_id(HearthCall *call,
                                            const RemoteDomainLookupByIdArgs *args,
                                            RemoteDomainLookupByIdRet *ret, GError **error)
{
    HearthDomain *dom = domain_store_lookup_by_id(store_of(call), args->id);

    if (!dom) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_NO_DOMAIN, _("no domain with matching id %d"),
                    args->id);
        return DISPATCH_FAILED;
    }
    domain_to_wire(dom, &ret->dom);
    return DISPATCH_DONE;
}

static HearthDomain *define_common(HearthCall *call, const char *xml, guint flags, GError **error)
{
    HearthDomainDef *def;
    HearthDomain *dom;
    gboolean is_new = FALSE;

    if (!dispatch_check_flags(flags, DEFINE_VALIDATE, "virDomainDefineXMLFlags", error))
        return NULL;
    def = domain_def_parse(xml, strlen(xml),
                           (flags & DEFINE_VALIDATE) ? DOMAIN_DEF_PARSE_VALIDATE : 0, error);
    if (!def)
        return NULL;
    if (!host_domain_post_parse(def, error)) {
        domain_def_free(def);
        return NULL;
    }
    dom = domain_store_define(store_of(call), def, &is_new, error);
    if (!dom)
        return NULL;
    g_info("defined domain '%s'", dom->def->name);
    domain_events_lifecycle(daemon_of(call), dom, DOMAIN_EVENT_DEFINED,
                            is_new ? DOMAIN_EVENT_DEFINED_ADDED : DOMAIN_EVENT_DEFINED_UPDATED);
    return dom;
}

DispatchResult dispatch_domain_define_xml(HearthCall *call, const RemoteDomainDefineXmlArgs *args,
                                          RemoteDomainDefineXmlRet *ret, GError **error)
{
    HearthDomain *dom = define_common(call, args->xml, 0, error);

    if (!dom)
        return DISPATCH_FAILED;
    domain_to_wire(dom, &ret->dom);
    return DISPATCH_DONE;
}

DispatchResult dispatch_domain_define_xml_flags(HearthCall *call,
                                                const RemoteDomainDefineXmlFlagsArgs *args,
                                                RemoteDomainDefineXmlFlagsRet *ret, GError **error)
{
    HearthDomain *dom = define_common(call, args->xml, args->flags, error);

    if (!dom)
        return DISPATCH_FAILED;
    domain_to_wire(dom, &ret->dom);
    return DISPATCH_DONE;
}

static DispatchResult undefine_common(HearthCall *call, const RemoteNonnullDomain *ref, guint flags,
                                      GError **error)
{
    HearthDomain *dom;
    HearthDomain snapshot_for_event;
    HearthDomainDef *def_for_event;
    guint nsnapshots = 0;

    if (!dispatch_check_flags(flags,
                              UNDEFINE_MANAGED_SAVE | UNDEFINE_SNAPSHOTS_METADATA | UNDEFINE_NVRAM |
                                  UNDEFINE_KEEP_NVRAM | UNDEFINE_CHECKPOINTS_METADATA |
                                  UNDEFINE_TPM | UNDEFINE_KEEP_TPM,
                              "virDomainUndefineFlags", error))
        return DISPATCH_FAILED;
    if ((flags & UNDEFINE_NVRAM) && (flags & UNDEFINE_KEEP_NVRAM)) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_INVALID_ARG,
                    _("cannot both keep and delete nvram"));
        return DISPATCH_FAILED;
    }
    dom = dispatch_lookup_domain(call, ref, error);
    if (!dom)
        return DISPATCH_FAILED;
    if (dom->def->os.nvram && !(flags & (UNDEFINE_NVRAM | UNDEFINE_KEEP_NVRAM))) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_OPERATION_INVALID,
                    _("cannot undefine domain with nvram"));
        return DISPATCH_FAILED;
    }
    /* As libvirt: a shut-off domain's snapshot metadata goes only when asked for. */
    if (!hearth_domain_is_active(dom))
        nsnapshots = snapshot_store_count(daemon_of(call), dom);
    if (nsnapshots && !(flags & UNDEFINE_SNAPSHOTS_METADATA)) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_OPERATION_INVALID,
                    _("cannot delete inactive domain with %u snapshots"), nsnapshots);
        return DISPATCH_FAILED;
    }

    /* The event names the domain, which undefine may free: keep a copy of what it needs. */
    def_for_event = domain_def_copy(hearth_domain_current_def(dom));
    snapshot_for_event = *dom;
    snapshot_for_event.def = def_for_event;
    snapshot_for_event.live = NULL;
    if (!domain_store_undefine(store_of(call), dom, error)) {
        domain_def_free(def_for_event);
        return DISPATCH_FAILED;
    }
    g_info("undefined domain '%s'", def_for_event->name);
    if (nsnapshots && !snapshot_store_forget(daemon_of(call), &snapshot_for_event, error))
        g_warning("domain '%s': cannot remove its snapshot metadata: %s", def_for_event->name,
                  (*error)->message);
    g_clear_error(error);
    domain_events_lifecycle(daemon_of(call), &snapshot_for_event, DOMAIN_EVENT_UNDEFINED,
                            DOMAIN_EVENT_UNDEFINED_REMOVED);
    domain_def_free(def_for_event);
    return DISPATCH_DONE;
}

DispatchResult dispatch_domain_undefine(HearthCall *call, const RemoteDomainUndefineArgs *args,
                                        void *ret, GError **error)
{
    return undefine_common(call, &args->dom, 0, error);
}

DispatchResult dispatch_domain_undefine_flags(HearthCall *call,
                                              const RemoteDomainUndefineFlagsArgs *args, void *ret,
                                              GError **error)
{
    return undefine_common(call, &args->dom, args->flags, error);
}

/* The live XML carries the runtime id on the root element, as libvirt's does. */
static char *xml_add_domain_id(char *xml, gint32 id)
{
    char *type = strstr(xml, "<domain type='");
    char *end = type ? strchr(type + 14, '\'') : NULL;
    char *out;

    if (!end || id < 0)
        return xml;
    out = g_strdup_printf("%.*s id='%d'%s", (int)(end + 1 - xml), xml, id, end + 1);
    g_free(xml);
    return out;
}

DispatchResult dispatch_domain_get_xml_desc(HearthCall *call,
                                            const RemoteDomainGetXmlDescArgs *args,
                                            RemoteDomainGetXmlDescRet *ret, GError **error)
{
    const HearthDomainDef *def;
    guint fmt = 0;

    if (!dispatch_check_flags(args->flags,
                              XML_SECURE | XML_INACTIVE | XML_UPDATE_CPU | XML_MIGRATABLE,
                              "virDomainGetXMLDesc", error))
        return DISPATCH_FAILED;
    if ((args->flags & XML_SECURE) && rpc_client_is_readonly(call->client)) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_OPERATION_DENIED,
                    _("virDomainGetXMLDesc with secure flag"));
        return DISPATCH_FAILED;
    }
    LOOKUP_OR_FAIL(dom, &args->dom);
    def = (args->flags & (XML_INACTIVE | XML_MIGRATABLE)) && dom->persistent
              ? dom->def
              : hearth_domain_current_def(dom);
    if (args->flags & XML_SECURE)
        fmt |= DOMAIN_DEF_FORMAT_SECURE;
    if ((args->flags & (XML_INACTIVE | XML_MIGRATABLE)) || !hearth_domain_is_active(dom))
        fmt |= DOMAIN_DEF_FORMAT_INACTIVE;
    ret->xml = domain_def_format(def, fmt);
    if (!(fmt & DOMAIN_DEF_FORMAT_INACTIVE))
        ret->xml = xml_add_domain_id(ret->xml, dom->id);
    return DISPATCH_DONE;
}

static guint current_vcpus(const HearthDomainDef *def)
{
    return def->vcpus_current ? def->vcpus_current : def->vcpus;
}

DispatchResult dispatch_domain_get_info(HearthCall *call, const RemoteDomainGetInfoArgs *args,
                                        RemoteDomainGetInfoRet *ret, GError **error)
{
    const HearthDomainDef *def;

    LOOKUP_OR_FAIL(dom, &args->dom);
    def = hearth_domain_current_def(dom);
    ret->state = (guint32)dom->state;
    ret->maxMem = def->memory_kib;
    ret->memory = def->current_memory_kib ? def->current_memory_kib : def->memory_kib;
    ret->nrVirtCpu = current_vcpus(def);
    ret->cpuTime = domain_runner_cpu_time(dom);
    return DISPATCH_DONE;
}

DispatchResult dispatch_domain_get_state(HearthCall *call, const RemoteDomainGetStateArgs *args,
                                         RemoteDomainGetStateRet *ret, GError **error)
{
    if (!dispatch_check_flags(args->flags, 0, "virDomainGetState", error))
        return DISPATCH_FAILED;
    LOOKUP_OR_FAIL(dom, &args->dom);
    ret->state = dom->state;
    ret->reason = dom->reason;
    return DISPATCH_DONE;
}

DispatchResult dispatch_domain_get_autostart(HearthCall *call,
                                             const RemoteDomainGetAutostartArgs *args,
                                             RemoteDomainGetAutostartRet *ret, GError **error)
{
    LOOKUP_OR_FAIL(dom, &args->dom);
    ret->autostart = dom->autostart;
    return DISPATCH_DONE;
}

DispatchResult dispatch_domain_set_autostart(HearthCall *call,
                                             const RemoteDomainSetAutostartArgs *args, void *ret,
                                             GError **error)
{
    LOOKUP_OR_FAIL(dom, &args->dom);
    if (!domain_store_set_autostart(store_of(call), dom, args->autostart != 0, error))
        return DISPATCH_FAILED;
    return DISPATCH_DONE;
}

DispatchResult dispatch_domain_is_active(HearthCall *call, const RemoteDomainIsActiveArgs *args,
                                         RemoteDomainIsActiveRet *ret, GError **error)
{
    LOOKUP_OR_FAIL(dom, &args->dom);
    ret->active = hearth_domain_is_active(dom);
    return DISPATCH_DONE;
}

DispatchResult dispatch_domain_is_persistent(HearthCall *call,
                                             const RemoteDomainIsPersistentArgs *args,
                                             RemoteDomainIsPersistentRet *ret, GError **error)
{
    LOOKUP_OR_FAIL(dom, &args->dom);
    ret->persistent = dom->persistent;
    return DISPATCH_DONE;
}

DispatchResult dispatch_domain_is_updated(HearthCall *call, const RemoteDomainIsUpdatedArgs *args,
                                          RemoteDomainIsUpdatedRet *ret, GError **error)
{
    LOOKUP_OR_FAIL(dom, &args->dom);
    ret->updated = dom->updated;
    return DISPATCH_DONE;
}

DispatchResult dispatch_domain_get_os_type(HearthCall *call, const RemoteDomainGetOsTypeArgs *args,
                                           RemoteDomainGetOsTypeRet *ret, GError **error)
{
    const HearthDomainDef *def;

    LOOKUP_OR_FAIL(dom, &args->dom);
    def = hearth_domain_current_def(dom);
    ret->type = g_strdup(def->os.type ? def->os.type : "hvm");
    return DISPATCH_DONE;
}

DispatchResult dispatch_domain_get_max_memory(HearthCall *call,
                                              const RemoteDomainGetMaxMemoryArgs *args,
                                              RemoteDomainGetMaxMemoryRet *ret, GError **error)
{
    LOOKUP_OR_FAIL(dom, &args->dom);
    ret->memory = hearth_domain_current_def(dom)->memory_kib;
    return DISPATCH_DONE;
}

DispatchResult dispatch_domain_get_max_vcpus(HearthCall *call,
                                             const RemoteDomainGetMaxVcpusArgs *args,
                                             RemoteDomainGetMaxVcpusRet *ret, GError **error)
{
    LOOKUP_OR_FAIL(dom, &args->dom);
    if (!hearth_domain_is_active(dom)) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_OPERATION_INVALID, _("domain is not running"));
        return DISPATCH_FAILED;
    }
    ret->num = (gint32)hearth_domain_current_def(dom)->vcpus;
    return DISPATCH_DONE;
}

DispatchResult dispatch_domain_get_vcpus_flags(HearthCall *call,
                                               const RemoteDomainGetVcpusFlagsArgs *args,
                                               RemoteDomainGetVcpusFlagsRet *ret, GError **error)
{
    const HearthDomainDef *def;

    if (!dispatch_check_flags(
            args->flags, DISPATCH_AFFECT_LIVE | DISPATCH_AFFECT_CONFIG | VCPU_MAXIMUM | VCPU_GUEST,
            "virDomainGetVcpusFlags", error))
        return DISPATCH_FAILED;
    if ((args->flags & DISPATCH_AFFECT_LIVE) && (args->flags & DISPATCH_AFFECT_CONFIG)) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_INVALID_ARG,
                    _("flags 'live' and 'config' are mutually exclusive"));
        return DISPATCH_FAILED;
    }
    LOOKUP_OR_FAIL(dom, &args->dom);
    if (args->flags & VCPU_GUEST) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_ARGUMENT_UNSUPPORTED,
                    _("querying vCPUs from the guest agent is not supported"));
        return DISPATCH_FAILED;
    }
    if ((args->flags & DISPATCH_AFFECT_LIVE) && !hearth_domain_is_active(dom)) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_OPERATION_INVALID, _("domain is not running"));
        return DISPATCH_FAILED;
    }
    def = (args->flags & DISPATCH_AFFECT_CONFIG) && dom->persistent
              ? dom->def
              : hearth_domain_current_def(dom);
    ret->num = (gint32)((args->flags & VCPU_MAXIMUM) ? def->vcpus : current_vcpus(def));
    return DISPATCH_DONE;
}

DispatchResult dispatch_domain_get_metadata(HearthCall *call,
                                            const RemoteDomainGetMetadataArgs *args,
                                            RemoteDomainGetMetadataRet *ret, GError **error)
{
    const HearthDomainDef *def;

    if (!dispatch_check_flags(args->flags, DISPATCH_AFFECT_LIVE | DISPATCH_AFFECT_CONFIG,
                              "virDomainGetMetadata", error))
        return DISPATCH_FAILED;
    LOOKUP_OR_FAIL(dom, &args->dom);
    def = (args->flags & DISPATCH_AFFECT_CONFIG) && dom->persistent
              ? dom->def
              : hearth_domain_current_def(dom);
    ret->metadata = domain_def_get_metadata(def, args->type, args->uri, error);
    return ret->metadata ? DISPATCH_DONE : DISPATCH_FAILED;
}

DispatchResult dispatch_domain_set_metadata(HearthCall *call,
                                            const RemoteDomainSetMetadataArgs *args, void *ret,
                                            GError **error)
{
    g_autoptr(HearthDomainDef) updated = NULL;
    gboolean live, config;

    if (!dispatch_check_flags(args->flags, DISPATCH_AFFECT_LIVE | DISPATCH_AFFECT_CONFIG,
                              "virDomainSetMetadata", error))
        return DISPATCH_FAILED;
    LOOKUP_OR_FAIL(dom, &args->dom);
    live = (args->flags & DISPATCH_AFFECT_LIVE) ||
           (!(args->flags & DISPATCH_AFFECT_CONFIG) && dom->live);
    config = (args->flags & DISPATCH_AFFECT_CONFIG) || !dom->live;
    if (live && !dom->live) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_OPERATION_INVALID, _("domain is not running"));
        return DISPATCH_FAILED;
    }
    if (config && !dom->persistent) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_OPERATION_INVALID,
                    _("cannot change persistent config of a transient domain"));
        return DISPATCH_FAILED;
    }
    if (config) {
        /* Change a copy first so a failed write leaves memory and disk in agreement. */
        updated = domain_def_copy(dom->def);
        if (!domain_def_set_metadata(updated, args->type, args->metadata, args->key, args->uri,
                                     error) ||
            !domain_store_replace_def(store_of(call), dom, g_steal_pointer(&updated), error))
            return DISPATCH_FAILED;
    }
    if (live && !domain_def_set_metadata(dom->live, args->type, args->metadata, args->key,
                                         args->uri, error))
        return DISPATCH_FAILED;
    domain_events_metadata_change(daemon_of(call), dom, args->type, args->uri);
    return DISPATCH_DONE;
}

DispatchResult dispatch_domain_rename(HearthCall *call, const RemoteDomainRenameArgs *args,
                                      RemoteDomainRenameRet *ret, GError **error)
{
    g_autoptr(HearthDomainDef) old_def = NULL;
    HearthDomain old_view;

    if (!dispatch_check_flags(args->flags, 0, "virDomainRename", error))
        return DISPATCH_FAILED;
    if (!args->new_name) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_INVALID_ARG, _("new name must not be NULL"));
        return DISPATCH_FAILED;
    }
    LOOKUP_OR_FAIL(dom, &args->dom);
    /* The snapshots' metadata names the domain: libvirt refuses too. */
    if (snapshot_store_count(daemon_of(call), dom) > 0) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_OPERATION_INVALID,
                    _("cannot rename domain with snapshots"));
        return DISPATCH_FAILED;
    }
    old_def = domain_def_copy(dom->def);
    if (!domain_store_rename(store_of(call), dom, args->new_name, error))
        return DISPATCH_FAILED;
    old_view = *dom;
    old_view.def = old_def;
    old_view.live = NULL;
    domain_events_lifecycle(daemon_of(call), &old_view, DOMAIN_EVENT_UNDEFINED,
                            DOMAIN_EVENT_UNDEFINED_RENAMED);
    domain_events_lifecycle(daemon_of(call), dom, DOMAIN_EVENT_DEFINED,
                            DOMAIN_EVENT_DEFINED_RENAMED);
    ret->retcode = 0;
    return DISPATCH_DONE;
}

DispatchResult
dispatch_domain_has_managed_save_image(HearthCall *call,
                                       const RemoteDomainHasManagedSaveImageArgs *args,
                                       RemoteDomainHasManagedSaveImageRet *ret, GError **error)
{
    LOOKUP_OR_FAIL(dom, &args->dom);
    ret->result = 0; /* we never save guest memory to disk */
    return DISPATCH_DONE;
}

DispatchResult dispatch_domain_get_security_label(HearthCall *call,
                                                  const RemoteDomainGetSecurityLabelArgs *args,
                                                  RemoteDomainGetSecurityLabelRet *ret,
                                                  GError **error)
{
    LOOKUP_OR_FAIL(dom, &args->dom);
    ret->enforcing = 0;
    return DISPATCH_DONE;
}

DispatchResult dispatch_domain_get_messages(HearthCall *call,
                                            const RemoteDomainGetMessagesArgs *args,
                                            RemoteDomainGetMessagesRet *ret, GError **error)
{
    LOOKUP_OR_FAIL(dom, &args->dom);
    return DISPATCH_DONE;
}
