#include "hearth-error.h"

#include <string.h>

/* Spelled out rather than G_DEFINE_QUARK, whose token argument clang-format would split. */
GQuark hearth_error_quark(void)
{
    return g_quark_from_static_string("hearth-error-quark");
}

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

const char *hearth_error_code_prefix(int code)
{
    switch (code) {
    case HEARTH_ERR_INTERNAL:
        return "internal error";
    case HEARTH_ERR_NO_SUPPORT:
        return "this function is not supported by the connection driver";
    case HEARTH_ERR_NO_CONNECT:
        return "no connection driver available";
    case HEARTH_ERR_INVALID_ARG:
        return "invalid argument";
    case HEARTH_ERR_OPERATION_FAILED:
        return "operation failed";
    case HEARTH_ERR_XML_ERROR:
        return "XML error";
    case HEARTH_ERR_OPERATION_DENIED:
        return "operation forbidden";
    case HEARTH_ERR_NO_DOMAIN:
        return "Domain not found";
    case HEARTH_ERR_NO_NETWORK:
        return "Network not found";
    case HEARTH_ERR_NETWORK_EXIST:
        return "operation failed";
    case HEARTH_ERR_NO_STORAGE_POOL:
        return "Storage pool not found";
    case HEARTH_ERR_NO_STORAGE_VOL:
        return "Storage volume not found";
    case HEARTH_ERR_OPERATION_INVALID:
        return "Requested operation is not valid";
    case HEARTH_ERR_CONFIG_UNSUPPORTED:
        return "unsupported configuration";
    case HEARTH_ERR_OPERATION_TIMEOUT:
        return "Timed out during operation";
    case HEARTH_ERR_NO_DOMAIN_SNAPSHOT:
        return "Domain snapshot not found";
    case HEARTH_ERR_INVALID_DOMAIN_SNAPSHOT:
        return "Invalid snapshot";
    case HEARTH_ERR_ARGUMENT_UNSUPPORTED:
        return "argument unsupported";
    case HEARTH_ERR_NO_DOMAIN_METADATA:
        return "metadata not found";
    case HEARTH_ERR_OPERATION_UNSUPPORTED:
        return "Operation not supported";
    case HEARTH_ERR_XML_INVALID_SCHEMA:
        return "XML document failed to validate against schema";
    case HEARTH_ERR_RESOURCE_BUSY:
        return "resource busy";
    case HEARTH_ERR_BUILD_FIREWALL:
        return "error while building firewall";
    default:
        return NULL;
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
