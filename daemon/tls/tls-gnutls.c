/* GnuTLS server sessions for qemu+tls://, built as a module (hearth-tls.so) that hearthd loads
 * only when TLS is configured: linking GnuTLS and its libraries into every hearthd cost 2.4 MiB
 * of idle RSS. The checks on a client's certificate are libvirtd's
 * (docs: ../shared/reference/libvirt-rpc.md §7.4): it must be presented, chain to our CA
 * (dates and CRL included), not be a CA itself, allow TLS client use when its extended key
 * usage is critical, and match tls_allowed_dn_list when one is set. */
#include "rpc-tls-module.h"
#include "hearth-error.h"

#include <errno.h>
#include <glib/gi18n-lib.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <string.h>
#include <time.h>

struct RpcTlsContext {
    gnutls_certificate_credentials_t creds;
    gnutls_priority_t priority;
    gboolean no_verify;
    GStrv allowed_dn;
};

struct RpcTlsSession {
    RpcTlsContext *ctx;
    gnutls_session_t session;
    gboolean send_blocked; /* the last send returned EAGAIN: GnuTLS holds the record */
    char *peer_dn;
};

static void tls_context_free(RpcTlsContext *ctx);
static void tls_session_free(RpcTlsSession *s);

static gboolean tls_fail(GError **error, const char *what, const char *file, int rc)
{
    g_set_error(error, HEARTH_ERROR, HEARTH_ERR_CONF_SYNTAX, _("TLS: %s '%s': %s"), what, file,
                gnutls_strerror(rc));
    return FALSE;
}

static gnutls_x509_crt_t load_first_cert(const char *file, GError **error)
{
    gnutls_datum_t data = {NULL, 0};
    gnutls_x509_crt_t cert = NULL;
    int rc;

    if ((rc = gnutls_load_file(file, &data)) < 0) {
        tls_fail(error, _("cannot read certificate"), file, rc);
        return NULL;
    }
    rc = gnutls_x509_crt_init(&cert);
    if (rc >= 0)
        rc = gnutls_x509_crt_import(cert, &data, GNUTLS_X509_FMT_PEM);
    gnutls_free(data.data);
    if (rc < 0) {
        gnutls_x509_crt_deinit(cert);
        tls_fail(error, _("cannot parse certificate"), file, rc);
        return NULL;
    }
    return cert;
}

/* The server's own certificate: valid now, not a CA, issued by the CA we trust (so that our
 * clients, which trust the same CA, will accept it). */
static gboolean check_server_cert(const RpcTlsSettings *s, GError **error)
{
    gnutls_x509_crt_t cert = load_first_cert(s->cert_file, error);
    gnutls_x509_trust_list_t trust = NULL;
    unsigned int critical = 0, ca = 0, status = 0;
    int pathlen = 0, rc;
    time_t now = time(NULL);
    gboolean ok = FALSE;

    if (!cert)
        return FALSE;
    if (gnutls_x509_crt_get_activation_time(cert) > now) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_CONF_SYNTAX,
                    _("TLS: server certificate '%s' is not valid yet"), s->cert_file);
    } else if (gnutls_x509_crt_get_expiration_time(cert) < now) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_CONF_SYNTAX,
                    _("TLS: server certificate '%s' has expired"), s->cert_file);
    } else if (gnutls_x509_crt_get_basic_constraints(cert, &critical, &ca, &pathlen) >= 0 && ca) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_CONF_SYNTAX,
                    _("TLS: server certificate '%s' is a CA certificate"), s->cert_file);
    } else if ((rc = gnutls_x509_trust_list_init(&trust, 0)) < 0 ||
               (rc = gnutls_x509_trust_list_add_trust_file(trust, s->ca_file, NULL,
                                                           GNUTLS_X509_FMT_PEM, 0, 0)) < 0 ||
               (rc = gnutls_x509_trust_list_verify_crt(trust, &cert, 1, 0, &status, NULL)) < 0) {
        tls_fail(error, _("cannot check the server certificate against"), s->ca_file, rc);
    } else if (status) {
        gnutls_datum_t out = {NULL, 0};

        gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &out, 0);
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_CONF_SYNTAX,
                    _("TLS: server certificate '%s' does not verify against the CA in '%s': %s"),
                    s->cert_file, s->ca_file, out.data ? (const char *)out.data : "");
        gnutls_free(out.data);
    } else {
        ok = TRUE;
    }
    if (trust)
        gnutls_x509_trust_list_deinit(trust, 1);
    gnutls_x509_crt_deinit(cert);
    return ok;
}

static RpcTlsContext *tls_context_new(const RpcTlsSettings *s, GError **error)
{
    RpcTlsContext *ctx = g_new0(RpcTlsContext, 1);
    const char *err_pos = NULL;
    int rc;

    ctx->no_verify = s->no_verify;
    ctx->allowed_dn = g_strdupv((char **)s->allowed_dn);
    if ((rc = gnutls_certificate_allocate_credentials(&ctx->creds)) < 0) {
        tls_fail(error, _("cannot allocate credentials for"), s->cert_file, rc);
        goto fail;
    }
    rc = gnutls_certificate_set_x509_trust_file(ctx->creds, s->ca_file, GNUTLS_X509_FMT_PEM);
    if (rc <= 0) {
        if (rc == 0)
            g_set_error(error, HEARTH_ERROR, HEARTH_ERR_CONF_SYNTAX,
                        _("TLS: no CA certificate in '%s'"), s->ca_file);
        else
            tls_fail(error, _("cannot load CA certificate"), s->ca_file, rc);
        goto fail;
    }
    if (s->crl_file && g_file_test(s->crl_file, G_FILE_TEST_EXISTS) &&
        (rc = gnutls_certificate_set_x509_crl_file(ctx->creds, s->crl_file, GNUTLS_X509_FMT_PEM)) <
            0) {
        tls_fail(error, _("cannot load certificate revocation list"), s->crl_file, rc);
        goto fail;
    }
    rc = gnutls_certificate_set_x509_key_file(ctx->creds, s->cert_file, s->key_file,
                                              GNUTLS_X509_FMT_PEM);
    if (rc < 0) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_CONF_SYNTAX,
                    _("TLS: cannot load certificate '%s' with key '%s': %s"), s->cert_file,
                    s->key_file, gnutls_strerror(rc));
        goto fail;
    }
    if (!check_server_cert(s, error))
        goto fail;
    rc = gnutls_priority_init(&ctx->priority, s->priority ? s->priority : "NORMAL", &err_pos);
    if (rc < 0) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_CONF_SYNTAX,
                    _("TLS: invalid tls_priority '%s' at '%s': %s"), s->priority,
                    err_pos ? err_pos : "", gnutls_strerror(rc));
        goto fail;
    }
    return ctx;

fail:
    tls_context_free(ctx);
    return NULL;
}

static void tls_context_free(RpcTlsContext *ctx)
{
    if (!ctx)
        return;
    if (ctx->creds)
        gnutls_certificate_free_credentials(ctx->creds);
    if (ctx->priority)
        gnutls_priority_deinit(ctx->priority);
    g_strfreev(ctx->allowed_dn);
    g_free(ctx);
}

static RpcTlsSession *tls_session_new(RpcTlsContext *ctx, int fd, GError **error)
{
    RpcTlsSession *s = g_new0(RpcTlsSession, 1);
    int rc;

    s->ctx = ctx;
    /* No session tickets: libvirt 9.0's client reads the confirmation byte once and takes a
     * TLS 1.3 ticket for it (then fails with EAGAIN). */
    rc = gnutls_init(&s->session, GNUTLS_SERVER | GNUTLS_NONBLOCK | GNUTLS_NO_TICKETS);
    if (rc >= 0)
        rc = gnutls_priority_set(s->session, ctx->priority);
    if (rc >= 0)
        rc = gnutls_credentials_set(s->session, GNUTLS_CRD_CERTIFICATE, ctx->creds);
    if (rc < 0) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_INTERNAL, _("TLS session: %s"),
                    gnutls_strerror(rc));
        tls_session_free(s);
        return NULL;
    }
    gnutls_certificate_server_set_request(s->session, GNUTLS_CERT_REQUEST);
    gnutls_transport_set_int(s->session, fd);
    return s;
}

static void tls_session_free(RpcTlsSession *s)
{
    if (!s)
        return;
    if (s->session)
        gnutls_deinit(s->session);
    g_free(s->peer_dn);
    g_free(s);
}

static gboolean refuse(GError **error, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static gboolean refuse(GError **error, const char *fmt, ...)
{
    va_list ap;
    GError *e;

    va_start(ap, fmt);
    e = g_error_new_valist(HEARTH_ERROR, HEARTH_ERR_AUTH_FAILED, fmt, ap);
    va_end(ap);
    g_propagate_error(error, e);
    return FALSE;
}

static char *crt_dn(gnutls_x509_crt_t cert)
{
    size_t size = 0;
    char *dn;

    if (gnutls_x509_crt_get_dn(cert, NULL, &size) != GNUTLS_E_SHORT_MEMORY_BUFFER)
        return g_strdup("");
    dn = g_malloc0(size + 1);
    if (gnutls_x509_crt_get_dn(cert, dn, &size) < 0)
        dn[0] = '\0';
    return dn;
}

static gboolean check_peer(RpcTlsSession *s, GError **error)
{
    const gnutls_datum_t *certs;
    gnutls_x509_crt_t cert = NULL;
    unsigned int n = 0, status = 0, critical = 0, ca = 0;
    gboolean eku_critical = FALSE, eku_client = FALSE;
    int pathlen = 0, rc;
    gboolean ok = FALSE;

    if (gnutls_certificate_type_get(s->session) != GNUTLS_CRT_X509)
        return refuse(error, _("the client certificate is not X.509"));
    certs = gnutls_certificate_get_peers(s->session, &n);
    if (!certs || n == 0)
        return refuse(error, _("the client presented no certificate"));
    rc = gnutls_certificate_verify_peers2(s->session, &status);
    if (rc < 0)
        return refuse(error, _("cannot verify the client certificate: %s"), gnutls_strerror(rc));
    if (gnutls_x509_crt_init(&cert) < 0 ||
        gnutls_x509_crt_import(cert, &certs[0], GNUTLS_X509_FMT_DER) < 0) {
        refuse(error, _("cannot parse the client certificate"));
        goto out;
    }
    g_free(s->peer_dn);
    s->peer_dn = crt_dn(cert);
    if (status) {
        gnutls_datum_t out = {NULL, 0};

        gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &out, 0);
        refuse(error, _("the certificate of '%s' does not verify: %s"), s->peer_dn,
               out.data ? (const char *)out.data : "");
        gnutls_free(out.data);
        goto out;
    }
    if (gnutls_x509_crt_get_basic_constraints(cert, &critical, &ca, &pathlen) >= 0 && ca) {
        refuse(error, _("the certificate of '%s' is a CA certificate"), s->peer_dn);
        goto out;
    }
    for (unsigned int i = 0;; i++) {
        char oid[128];
        size_t size = sizeof(oid);
        unsigned int crit = 0;

        if (gnutls_x509_crt_get_key_purpose_oid(cert, i, oid, &size, &crit) < 0)
            break;
        eku_critical |= crit != 0;
        eku_client |= strcmp(oid, GNUTLS_KP_TLS_WWW_CLIENT) == 0;
    }
    if (eku_critical && !eku_client) {
        refuse(error, _("the certificate of '%s' is not for TLS clients (extended key usage)"),
               s->peer_dn);
        goto out;
    }
    if (s->ctx->allowed_dn && s->ctx->allowed_dn[0]) {
        gboolean match = FALSE;

        for (guint i = 0; s->ctx->allowed_dn[i] && !match; i++)
            match = g_pattern_match_simple(s->ctx->allowed_dn[i], s->peer_dn);
        if (!match) {
            refuse(error, _("the distinguished name '%s' is not in tls_allowed_dn_list"),
                   s->peer_dn);
            goto out;
        }
    }
    ok = TRUE;
out:
    gnutls_x509_crt_deinit(cert);
    return ok;
}

static RpcTlsStatus tls_handshake(RpcTlsSession *s, GError **error)
{
    g_autoptr(GError) local = NULL;
    int rc;

    do
        rc = gnutls_handshake(s->session);
    while (rc == GNUTLS_E_INTERRUPTED);
    if (rc == GNUTLS_E_AGAIN)
        return gnutls_record_get_direction(s->session) ? RPC_TLS_WANT_WRITE : RPC_TLS_WANT_READ;
    if (rc < 0 && !gnutls_error_is_fatal(rc))
        return RPC_TLS_WANT_READ;
    if (rc < 0) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_AUTH_FAILED, _("TLS handshake failed: %s"),
                    gnutls_strerror(rc));
        return RPC_TLS_FAILED;
    }
    if (!check_peer(s, &local)) {
        if (!s->ctx->no_verify) {
            g_propagate_error(error, g_steal_pointer(&local));
            return RPC_TLS_FAILED;
        }
        g_warning("TLS client accepted although %s (tls_no_verify_certificate)", local->message);
    }
    return RPC_TLS_DONE;
}

static ssize_t tls_recv(RpcTlsSession *s, void *buf, size_t len)
{
    ssize_t rc;

    do
        rc = gnutls_record_recv(s->session, buf, len);
    while (rc == GNUTLS_E_INTERRUPTED);
    if (rc >= 0)
        return rc;
    if (rc == GNUTLS_E_PREMATURE_TERMINATION)
        return 0; /* closed without close_notify: an end all the same */
    if (rc == GNUTLS_E_AGAIN || !gnutls_error_is_fatal((int)rc)) {
        errno = EAGAIN;
        return -1;
    }
    errno = EPROTO;
    return -1;
}

static ssize_t tls_send(RpcTlsSession *s, const void *buf, size_t len)
{
    ssize_t rc;

    /* After EAGAIN GnuTLS keeps the encrypted record; NULL/0 sends it and returns the length
     * of what it carried. */
    rc = s->send_blocked ? gnutls_record_send(s->session, NULL, 0)
                         : gnutls_record_send(s->session, buf, len);
    while (rc == GNUTLS_E_INTERRUPTED)
        rc = gnutls_record_send(s->session, NULL, 0);
    s->send_blocked = rc == GNUTLS_E_AGAIN;
    if (rc >= 0)
        return rc;
    errno = rc == GNUTLS_E_AGAIN ? EAGAIN : EPIPE;
    return -1;
}

static gboolean tls_pending(RpcTlsSession *s)
{
    return gnutls_record_check_pending(s->session) > 0;
}

static const char *tls_peer_dn(RpcTlsSession *s)
{
    return s->peer_dn;
}

static const RpcTlsOps ops = {
    .abi = HEARTH_TLS_MODULE_ABI,
    .context_new = tls_context_new,
    .context_free = tls_context_free,
    .session_new = tls_session_new,
    .session_free = tls_session_free,
    .handshake = tls_handshake,
    .recv = tls_recv,
    .send = tls_send,
    .pending = tls_pending,
    .peer_dn = tls_peer_dn,
};

const RpcTlsOps *hearth_tls_module_ops(void)
{
    return &ops;
}
