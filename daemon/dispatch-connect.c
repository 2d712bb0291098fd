/* Connection set-up and host queries: the handshake every client makes, and what
 * `virsh version/hostname/nodeinfo/capabilities/sysinfo/domcapabilities/maxvcpus` ask. */
#include "hearth-config.h"
#include "hearth-daemon.h"
#include "hearth-error.h"
#include "host-caps.h"
#include "host-node.h"
#include "rpc-server.h"

#include <glib/gi18n-lib.h>
#include <stdio.h>
#include <string.h>

/* VIR_DRV_FEATURE_* values we answer yes to. */
enum {
    FEATURE_TYPED_PARAM_STRING = 9,
    FEATURE_PROGRAM_KEEPALIVE = 10,
    FEATURE_REMOTE_EVENT_CALLBACK = 14,
    FEATURE_REMOTE_CLOSE_CALLBACK = 15,
};

#define HEARTH_LIBVIRT_COMPAT_VERSION 9000000 /* the API level we speak: libvirt 9.0.0 */
#define HEARTH_URI "qemu:///system"

DispatchResult dispatch_auth_list(HearthCall *call, const void *args, RemoteAuthListRet *ret,
                                  GError **error)
{
    /* Unix sockets rely on file permissions, as libvirtd's default auth_unix_rw=none. */
    ret->types_len = 1;
    ret->types_val = g_new0(gint32, 1);
    ret->types_val[0] = 0;
    return DISPATCH_DONE;
}

DispatchResult dispatch_connect_supports_feature(HearthCall *call,
                                                 const RemoteConnectSupportsFeatureArgs *args,
                                                 RemoteConnectSupportsFeatureRet *ret,
                                                 GError **error)
{
    switch (args->feature) {
    case FEATURE_TYPED_PARAM_STRING:
    case FEATURE_PROGRAM_KEEPALIVE:
    case FEATURE_REMOTE_EVENT_CALLBACK:
    case FEATURE_REMOTE_CLOSE_CALLBACK:
        ret->supported = 1;
        break;
    default:
        ret->supported = 0;
    }
    return DISPATCH_DONE;
}

static gboolean uri_is_ours(const char *name)
{
    g_autofree char *base = NULL;
    char *q;

    /* NULL and "" ask the server to pick: we only have one driver. */
    if (!name || !*name)
        return TRUE;
    base = g_strdup(name);
    q = strchr(base, '?');
    if (q)
        *q = '\0';
    return g_str_equal(base, "qemu:///system") || g_str_equal(base, "qemu:///session");
}

DispatchResult dispatch_connect_open(HearthCall *call, const RemoteConnectOpenArgs *args, void *ret,
                                     GError **error)
{
    if (rpc_client_is_open(call->client)) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_INTERNAL, _("connection already open"));
        return DISPATCH_FAILED;
    }
    if (!uri_is_ours(args->name)) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_NO_CONNECT,
                    _("no connection driver available for %s"), args->name);
        return DISPATCH_FAILED;
    }
    rpc_client_set_open(call->client, (args->flags & 1) != 0);
    return DISPATCH_DONE;
}

DispatchResult dispatch_connect_close(HearthCall *call, const void *args, void *ret, GError **error)
{
    return DISPATCH_DONE;
}

DispatchResult dispatch_connect_register_close_callback(HearthCall *call, const void *args,
                                                        void *ret, GError **error)
{
    rpc_client_set_close_callback(call->client, TRUE);
    return DISPATCH_DONE;
}

DispatchResult dispatch_connect_unregister_close_callback(HearthCall *call, const void *args,
                                                          void *ret, GError **error)
{
    rpc_client_set_close_callback(call->client, FALSE);
    return DISPATCH_DONE;
}

DispatchResult dispatch_connect_get_type(HearthCall *call, const void *args,
                                         RemoteConnectGetTypeRet *ret, GError **error)
{
    ret->type = g_strdup("QEMU");
    return DISPATCH_DONE;
}

/* QEMU's version as libvirt encodes it (major * 1e6 + minor * 1e3 + micro), probed once. */
static guint64 qemu_version(void)
{
    static guint64 cached;
    static gboolean probed;
    const char *bin;
    g_autofree char *out = NULL;
    guint major = 0, minor = 0, micro = 0;
    const char *p;

    if (probed)
        return cached;
    probed = TRUE;
    bin = host_qemu_binary("x86_64");
    if (!bin)
        return 0;
    {
        const char *argv[] = {bin, "--version", NULL};
        if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &out,
                          NULL, NULL, NULL))
            return 0;
    }
    p = out ? strstr(out, "version ") : NULL;
    if (p && sscanf(p + 8, "%u.%u.%u", &major, &minor, &micro) >= 2)
        cached = (guint64)major * 1000000 + minor * 1000 + micro;
    return cached;
}

DispatchResult dispatch_connect_get_version(HearthCall *call, const void *args,
                                            RemoteConnectGetVersionRet *ret, GError **error)
{
    ret->hv_ver = qemu_version();
    return DISPATCH_DONE;
}

DispatchResult dispatch_connect_get_lib_version(HearthCall *call, const void *args,
                                                RemoteConnectGetLibVersionRet *ret, GError **error)
{
    ret->lib_ver = HEARTH_LIBVIRT_COMPAT_VERSION;
    return DISPATCH_DONE;
}

DispatchResult dispatch_connect_get_hostname(HearthCall *call, const void *args,
                                             RemoteConnectGetHostnameRet *ret, GError **error)
{
    ret->hostname = g_strdup(g_get_host_name());
    return DISPATCH_DONE;
}

DispatchResult dispatch_connect_get_uri(HearthCall *call, const void *args,
                                        RemoteConnectGetUriRet *ret, GError **error)
{
    ret->uri = g_strdup(HEARTH_URI);
    return DISPATCH_DONE;
}

DispatchResult dispatch_connect_is_secure(HearthCall *call, const void *args,
                                          RemoteConnectIsSecureRet *ret, GError **error)
{
    ret->secure = 1; /* a local unix socket */
    return DISPATCH_DONE;
}

DispatchResult dispatch_connect_get_max_vcpus(HearthCall *call,
                                              const RemoteConnectGetMaxVcpusArgs *args,
                                              RemoteConnectGetMaxVcpusRet *ret, GError **error)
{
    int n = host_max_vcpus(args->type, error);

    if (n < 0)
        return DISPATCH_FAILED;
    ret->max_vcpus = n;
    return DISPATCH_DONE;
}

DispatchResult dispatch_node_get_info(HearthCall *call, const void *args, RemoteNodeGetInfoRet *ret,
                                      GError **error)
{
    HostNodeInfo info;

    if (!host_node_info_read(&info, error))
        return DISPATCH_FAILED;
    memcpy(ret->model, info.model, sizeof(ret->model));
    ret->memory = info.memory_kib;
    ret->cpus = info.cpus;
    ret->mhz = info.mhz;
    ret->nodes = info.nodes;
    ret->sockets = info.sockets;
    ret->cores = info.cores;
    ret->threads = info.threads;
    return DISPATCH_DONE;
}

DispatchResult dispatch_connect_get_capabilities(HearthCall *call, const void *args,
                                                 RemoteConnectGetCapabilitiesRet *ret,
                                                 GError **error)
{
    ret->capabilities = host_capabilities_xml(error);
    return ret->capabilities ? DISPATCH_DONE : DISPATCH_FAILED;
}

DispatchResult
dispatch_connect_get_domain_capabilities(HearthCall *call,
                                         const RemoteConnectGetDomainCapabilitiesArgs *args,
                                         RemoteConnectGetDomainCapabilitiesRet *ret, GError **error)
{
    ret->capabilities = host_domain_capabilities_xml(args->emulatorbin, args->arch, args->machine,
                                                     args->virttype, error);
    return ret->capabilities ? DISPATCH_DONE : DISPATCH_FAILED;
}

DispatchResult dispatch_connect_get_sysinfo(HearthCall *call,
                                            const RemoteConnectGetSysinfoArgs *args,
                                            RemoteConnectGetSysinfoRet *ret, GError **error)
{
    ret->sysinfo = host_sysinfo_xml(error);
    return ret->sysinfo ? DISPATCH_DONE : DISPATCH_FAILED;
}

DispatchResult dispatch_node_get_security_model(HearthCall *call, const void *args,
                                                RemoteNodeGetSecurityModelRet *ret, GError **error)
{
    /* No security driver: empty model and doi, as libvirtd with security_driver="none". */
    return DISPATCH_DONE;
}
