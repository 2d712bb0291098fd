#include "rpc-packet.h"

#include "hearth-error.h"
#include "remote-protocol.h"

#include <string.h>

#define RPC_ERROR_LEVEL_ERROR 2 /* VIR_ERR_ERROR */

gboolean rpc_length_check(guint32 len_word, GError **error)
{
    if (len_word < RPC_LENGTH_WORD + RPC_HEADER_LEN) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_RPC,
                    "packet of %u bytes is shorter than its header", len_word);
        return FALSE;
    }
    if (len_word > RPC_MESSAGE_MAX + RPC_LENGTH_WORD) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_RPC,
                    "packet of %u bytes is larger than the %u allowed", len_word,
                    RPC_MESSAGE_MAX + RPC_LENGTH_WORD);
        return FALSE;
    }
    return TRUE;
}

static guint32 load_u32(const guint8 *p)
{
    guint32 v;

    memcpy(&v, p, sizeof(v));
    return GUINT32_FROM_BE(v);
}

gboolean rpc_header_decode(const guint8 *buf, gsize len, RpcHeader *hdr, GError **error)
{
    if (len < RPC_HEADER_LEN) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_RPC, "packet header truncated: %zu of %u bytes",
                    len, RPC_HEADER_LEN);
        return FALSE;
    }
    hdr->prog = load_u32(buf);
    hdr->vers = load_u32(buf + 4);
    hdr->proc = (gint32)load_u32(buf + 8);
    hdr->type = load_u32(buf + 12);
    hdr->serial = load_u32(buf + 16);
    hdr->status = load_u32(buf + 20);
    return TRUE;
}

void rpc_packet_begin(GByteArray *out, const RpcHeader *hdr)
{
    guint32 words[7] = {
        0, /* length, patched by rpc_packet_finish() */
        GUINT32_TO_BE(hdr->prog),
        GUINT32_TO_BE(hdr->vers),
        GUINT32_TO_BE((guint32)hdr->proc),
        GUINT32_TO_BE(hdr->type),
        GUINT32_TO_BE(hdr->serial),
        GUINT32_TO_BE(hdr->status),
    };

    g_byte_array_append(out, (const guint8 *)words, sizeof(words));
}

void rpc_packet_finish(GByteArray *out, gsize start)
{
    guint32 len;

    g_return_if_fail(start + RPC_LENGTH_WORD + RPC_HEADER_LEN <= out->len);
    len = GUINT32_TO_BE((guint32)(out->len - start));
    memcpy(out->data + start, &len, sizeof(len));
}

void rpc_error_encode(GByteArray *out, const GError *error)
{
    RemoteError err = {0};
    int code = HEARTH_ERR_INTERNAL;

    if (error && error->domain == HEARTH_ERROR)
        code = error->code;
    err.code = code;
    err.domain = hearth_error_code_origin(code);
    /* The cast is safe: encoding only reads the struct. */
    err.message = (char *)(error && error->message ? error->message : "unknown error");
    err.level = RPC_ERROR_LEVEL_ERROR;
    xdr_encode(&remote_error_xdr, &err, out);
}
