/* TLS for the remote protocol (qemu+tls://, port 16514), with GnuTLS: the server's credentials,
 * one session per connection, and the x509 checks libvirtd makes on its clients. */
#pragma once

#include <glib.h>
#include <sys/types.h>

G_BEGIN_DECLS

typedef struct {
    const char *ca_file;   /* CA certificates the clients' certificates must chain to */
    const char *cert_file; /* the server's certificate and key */
    const char *key_file;
    const char *crl_file;          /* optional: used when the file exists */
    const char *priority;          /* GnuTLS priority string; NULL: "NORMAL" */
    gboolean no_verify;            /* accept clients whose certificate fails the checks (logged) */
    const char *const *allowed_dn; /* glob patterns for the client's DN; NULL: any */
} RpcTlsSettings;

typedef struct RpcTlsContext RpcTlsContext;
typedef struct RpcTlsSession RpcTlsSession;

typedef enum {
    RPC_TLS_DONE,
    RPC_TLS_WANT_READ,
    RPC_TLS_WANT_WRITE,
    RPC_TLS_FAILED,
} RpcTlsStatus;

/* Loads and checks the credentials; an error names the file that is missing or wrong. */
RpcTlsContext *rpc_tls_context_new(const RpcTlsSettings *settings, GError **error);
void rpc_tls_context_free(RpcTlsContext *ctx);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(RpcTlsContext, rpc_tls_context_free)

RpcTlsSession *rpc_tls_session_new(RpcTlsContext *ctx, int fd, GError **error);
void rpc_tls_session_free(RpcTlsSession *s);

/* One step of the handshake on a non-blocking socket; DONE once the client's certificate has
 * passed the checks (or they are off). */
RpcTlsStatus rpc_tls_handshake(RpcTlsSession *s, GError **error);

/* recv()/send() semantics: -1 with errno EAGAIN when the socket is not ready, 0 at the end.
 * A send that returned EAGAIN is retried by the next call, whatever its arguments. */
ssize_t rpc_tls_recv(RpcTlsSession *s, void *buf, size_t len);
ssize_t rpc_tls_send(RpcTlsSession *s, const void *buf, size_t len);
/* Decrypted bytes buffered in the session: poll() will not announce them. */
gboolean rpc_tls_pending(RpcTlsSession *s);
/* The client's distinguished name, once the handshake is done (NULL without a certificate). */
const char *rpc_tls_peer_dn(RpcTlsSession *s);

G_END_DECLS
