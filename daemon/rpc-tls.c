/* hearthd's side of TLS: loads hearth-tls.so (GnuTLS) the first time TLS is configured and
 * forwards to it. A hearthd without TLS never maps GnuTLS. */
#include "rpc-tls-module.h"
#include "hearth-config.h"
#include "hearth-error.h"

#include <dlfcn.h>
#include <glib/gi18n-lib.h>

static const RpcTlsOps *tls_ops;

/* HEARTH_TLS_MODULE, else beside hearthd in a build tree (daemon/tls/), else installed. */
static char *find_module(void)
{
    const char *env = g_getenv("HEARTH_TLS_MODULE");
    g_autofree char *self = g_file_read_link("/proc/self/exe", NULL);
    g_autofree char *dir = self ? g_path_get_dirname(self) : NULL;
    g_autofree char *beside = dir ? g_build_filename(dir, "tls", "hearth-tls.so", NULL) : NULL;

    if (env && *env)
        return g_strdup(env);
    if (beside && g_file_test(beside, G_FILE_TEST_EXISTS))
        return g_steal_pointer(&beside);
    return g_build_filename(HEARTH_MODULE_DIR, "hearth-tls.so", NULL);
}

static gboolean load_module(GError **error)
{
    g_autofree char *path = NULL;
    const RpcTlsOps *(*get)(void);
    void *handle;

    if (tls_ops)
        return TRUE;
    path = find_module();
    handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_CONF_SYNTAX,
                    _("TLS is configured but its module cannot be loaded: %s"), dlerror());
        return FALSE;
    }
    get = (const RpcTlsOps *(*)(void))dlsym(handle, HEARTH_TLS_MODULE_SYMBOL);
    if (!get || !get() || get()->abi != HEARTH_TLS_MODULE_ABI) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_CONF_SYNTAX,
                    _("'%s' is not a TLS module of this hearthd"), path);
        dlclose(handle);
        return FALSE;
    }
    /* kept loaded for the daemon's life */
    tls_ops = get();
    return TRUE;
}

RpcTlsContext *rpc_tls_context_new(const RpcTlsSettings *settings, GError **error)
{
    return load_module(error) ? tls_ops->context_new(settings, error) : NULL;
}

void rpc_tls_context_free(RpcTlsContext *ctx)
{
    if (ctx)
        tls_ops->context_free(ctx);
}

RpcTlsSession *rpc_tls_session_new(RpcTlsContext *ctx, int fd, GError **error)
{
    return tls_ops->session_new(ctx, fd, error);
}

void rpc_tls_session_free(RpcTlsSession *s)
{
    if (s)
        tls_ops->session_free(s);
}

RpcTlsStatus rpc_tls_handshake(RpcTlsSession *s, GError **error)
{
    return tls_ops->handshake(s, error);
}

ssize_t rpc_tls_recv(RpcTlsSession *s, void *buf, size_t len)
{
    return tls_ops->recv(s, buf, len);
}

ssize_t rpc_tls_send(RpcTlsSession *s, const void *buf, size_t len)
{
    return tls_ops->send(s, buf, len);
}

gboolean rpc_tls_pending(RpcTlsSession *s)
{
    return tls_ops->pending(s);
}

const char *rpc_tls_peer_dn(RpcTlsSession *s)
{
    return tls_ops->peer_dn(s);
}
