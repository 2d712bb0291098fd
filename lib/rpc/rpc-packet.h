/* Framing of libvirt RPC packets: length word, 24-byte header, XDR payload. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define RPC_PROGRAM_REMOTE 0x20008086u
#define RPC_PROGRAM_KEEPALIVE 0x6b656570u /* "keep" */
#define RPC_PROGRAM_QEMU 0x20008087u

#define RPC_KEEPALIVE_PING 1 /* keepalive procedures, both sent as MESSAGE */
#define RPC_KEEPALIVE_PONG 2

#define RPC_MESSAGE_MAX 33554432u /* VIR_NET_MESSAGE_MAX; the length word may be this + 4 */
#define RPC_HEADER_LEN 24u        /* after the length word */
#define RPC_LENGTH_WORD 4u

typedef enum {
    RPC_TYPE_CALL,
    RPC_TYPE_REPLY,
    RPC_TYPE_MESSAGE,
    RPC_TYPE_STREAM,
    RPC_TYPE_CALL_WITH_FDS,
    RPC_TYPE_REPLY_WITH_FDS,
    RPC_TYPE_STREAM_HOLE,
} RpcType;

typedef enum {
    RPC_STATUS_OK,
    RPC_STATUS_ERROR,
    RPC_STATUS_CONTINUE,
} RpcStatus;

typedef struct {
    guint32 prog, vers;
    gint32 proc;
    guint32 type, serial, status;
} RpcHeader;

/* Whether a packet's length word (which counts itself) is acceptable: 28 <= len <= max + 4. */
gboolean rpc_length_check(guint32 len_word, GError **error);

/* Read the header from buf, which starts after the length word. */
gboolean rpc_header_decode(const guint8 *buf, gsize len, RpcHeader *hdr, GError **error);

/* Append a placeholder length word and the header. */
void rpc_packet_begin(GByteArray *out, const RpcHeader *hdr);

/* Patch the length word of the packet begun at offset start, now that its payload is in. */
void rpc_packet_finish(GByteArray *out, gsize start);

/* Append a remote_error payload for error: HEARTH_ERROR codes go out as they are, other
 * domains as 1 (INTERNAL_ERROR); the libvirt error domain comes from
 * hearth_error_code_origin(), the level is 2 (ERROR), the optional fields are NULL. */
void rpc_error_encode(GByteArray *out, const GError *error);

G_END_DECLS
