/* Errors as values: one GError domain whose codes are libvirt's virErrorNumber, so a
 * failure anywhere maps onto the wire without translation tables. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define HEARTH_ERROR (hearth_error_quark())
GQuark hearth_error_quark(void);

/* Values are virErrorNumber from libvirt 9.0 (stable ABI). */
typedef enum {
    HEARTH_ERR_INTERNAL = 1,
    HEARTH_ERR_NO_MEMORY = 2,
    HEARTH_ERR_NO_SUPPORT = 3,
    HEARTH_ERR_NO_CONNECT = 5,
    HEARTH_ERR_INVALID_ARG = 8,
    HEARTH_ERR_OPERATION_FAILED = 9,
    HEARTH_ERR_OS_TYPE = 16,
    HEARTH_ERR_NO_SOURCE = 19,
    HEARTH_ERR_NO_NAME = 21,
    HEARTH_ERR_XML_ERROR = 27,
    HEARTH_ERR_DOM_EXIST = 28,
    HEARTH_ERR_OPERATION_DENIED = 29,
    HEARTH_ERR_OPEN_FAILED = 30,
    HEARTH_ERR_READ_FAILED = 31,
    HEARTH_ERR_CONF_SYNTAX = 33,
    HEARTH_ERR_WRITE_FAILED = 34,
    HEARTH_ERR_XML_DETAIL = 35,
    HEARTH_ERR_INVALID_NETWORK = 36,
    HEARTH_ERR_NETWORK_EXIST = 37,
    HEARTH_ERR_SYSTEM_ERROR = 38,
    HEARTH_ERR_RPC = 39,
    HEARTH_ERR_NO_DOMAIN = 42,
    HEARTH_ERR_NO_NETWORK = 43,
    HEARTH_ERR_INVALID_MAC = 44,
    HEARTH_ERR_AUTH_FAILED = 45,
    HEARTH_ERR_NO_STORAGE_POOL = 49,
    HEARTH_ERR_NO_STORAGE_VOL = 50,
    HEARTH_ERR_NO_NODE_DEVICE = 53,
    HEARTH_ERR_OPERATION_INVALID = 55,
    HEARTH_ERR_BUILD_FIREWALL = 63,
    HEARTH_ERR_CONFIG_UNSUPPORTED = 67,
    HEARTH_ERR_OPERATION_TIMEOUT = 68,
    HEARTH_ERR_INVALID_DOMAIN_SNAPSHOT = 71,
    HEARTH_ERR_NO_DOMAIN_SNAPSHOT = 72,
    HEARTH_ERR_ARGUMENT_UNSUPPORTED = 74,
    HEARTH_ERR_OPERATION_ABORTED = 78,
    HEARTH_ERR_NO_DOMAIN_METADATA = 80,
    HEARTH_ERR_OVERFLOW = 82,
    HEARTH_ERR_BLOCK_COPY_ACTIVE = 83,
    HEARTH_ERR_OPERATION_UNSUPPORTED = 84,
    HEARTH_ERR_RESOURCE_BUSY = 87,
    HEARTH_ERR_XML_INVALID_SCHEMA = 92,
    HEARTH_ERR_DEVICE_MISSING = 99,
} HearthErrorCode;

/* virErrorDomain values used on the wire. */
typedef enum {
    HEARTH_FROM_NONE = 0,
    HEARTH_FROM_RPC = 7,
    HEARTH_FROM_CONF = 9,
    HEARTH_FROM_QEMU = 10,
    HEARTH_FROM_REMOTE = 13,
    HEARTH_FROM_STORAGE = 18,
    HEARTH_FROM_NETWORK = 19,
    HEARTH_FROM_DOMAIN = 20,
    HEARTH_FROM_DOMAIN_SNAPSHOT = 35,
} HearthErrorFrom;

/* The libvirt error domain a code is reported under. */
HearthErrorFrom hearth_error_code_origin(int code);

/* The words libvirt puts before a message of this code ("Domain not found", "invalid
 * argument", ...), without the ": ", or NULL when it adds none. Clients show the message as
 * sent, so the daemon adds these once, when an error goes on the wire. */
const char *hearth_error_code_prefix(int code);

/* Set *error from errno with a message prefix, as HEARTH_ERR_SYSTEM_ERROR. */
void hearth_error_set_errno(GError **error, int errnum, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

G_END_DECLS
