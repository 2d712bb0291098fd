/* The interface between hearthd and its TLS module (daemon/tls/, hearth-tls.so): one table of
 * functions, looked up by name and checked by ABI number when the module is loaded. */
#pragma once

#include "rpc-tls.h"

G_BEGIN_DECLS

#define HEARTH_TLS_MODULE_ABI 1
#define HEARTH_TLS_MODULE_SYMBOL "hearth_tls_module_ops"

typedef struct {
    guint abi;
    RpcTlsContext *(*context_new)(const RpcTlsSettings *settings, GError **error);
    void (*context_free)(RpcTlsContext *ctx);
    RpcTlsSession *(*session_new)(RpcTlsContext *ctx, int fd, GError **error);
    void (*session_free)(RpcTlsSession *s);
    RpcTlsStatus (*handshake)(RpcTlsSession *s, GError **error);
    ssize_t (*recv)(RpcTlsSession *s, void *buf, size_t len);
    ssize_t (*send)(RpcTlsSession *s, const void *buf, size_t len);
    gboolean (*pending)(RpcTlsSession *s);
    const char *(*peer_dn)(RpcTlsSession *s);
} RpcTlsOps;

const RpcTlsOps *hearth_tls_module_ops(void);

G_END_DECLS
