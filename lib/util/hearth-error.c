#include "hearth-error.h"

#include <string.h>

G_DEFINE_QUARK(hearth - error - quark, hearth_error)

HearthErrorFrom hearth_error_code_origin(int code)
{
    switch (code) {
    case HEARTH_ERR_RPC:
    case HEARTH_ERR_AUTH_FAILED:
        return HEARTH_FROM_RPC;
    case HEARTH_ERR_XML_ERROR:
    case HEARTH_ERR_XML_DETAIL:
    case HEARTH_ERR_XML_INVALID_SCHEMA:
        return HEARTH_FROM_DOMAIN;
    case HEARTH_ERR_NO_NETWORK:
    case HEARTH_ERR_NETWORK_EXIST:
    case HEARTH_ERR_INVALID_NETWORK:
        return HEARTH_FROM_NETWORK;
    case HEARTH_ERR_NO_STORAGE_POOL:
    case HEARTH_ERR_NO_STORAGE_VOL:
        return HEARTH_FROM_STORAGE;
    case HEARTH_ERR_NO_DOMAIN_SNAPSHOT:
    case HEARTH_ERR_INVALID_DOMAIN_SNAPSHOT:
        return HEARTH_FROM_DOMAIN_SNAPSHOT;
    case HEARTH_ERR_OPERATION_DENIED:
        return HEARTH_FROM_REMOTE;
    default:
        return HEARTH_FROM_QEMU;
    }
}

void hearth_error_set_errno(GError **error, int errnum, const char *fmt, ...)
{
    va_list ap;
    g_autofree char *prefix = NULL;

    va_start(ap, fmt);
    prefix = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error(error, HEARTH_ERROR, HEARTH_ERR_SYSTEM_ERROR, "%s: %s", prefix, g_strerror(errnum));
}
