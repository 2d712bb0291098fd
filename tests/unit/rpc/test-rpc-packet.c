/* Packet framing and the error payload. */
#include "remote-protocol.h"
#include "rpc-packet.h"
#include "xdr.h"

#include "hearth-error.h"

static void test_length_check(void)
{
    g_autoptr(GError) error = NULL;

    g_assert_false(rpc_length_check(0, NULL));
    g_assert_false(rpc_length_check(27, &error));
    g_assert_error(error, HEARTH_ERROR, HEARTH_ERR_RPC);
    g_clear_error(&error);
    g_assert_true(rpc_length_check(28, NULL));
    g_assert_true(rpc_length_check(33554436, NULL));
    g_assert_false(rpc_length_check(33554437, &error));
    g_assert_error(error, HEARTH_ERROR, HEARTH_ERR_RPC);
    g_assert_false(rpc_length_check(G_MAXUINT32, NULL));
}

static void test_header_roundtrip(void)
{
    RpcHeader hdr = {.prog = RPC_PROGRAM_QEMU,
                     .vers = 1,
                     .proc = -7,
                     .type = RPC_TYPE_STREAM,
                     .serial = 0x01020304,
                     .status = RPC_STATUS_CONTINUE};
    RpcHeader back;
    g_autoptr(GByteArray) out = g_byte_array_new();
    g_autoptr(GError) error = NULL;

    rpc_packet_begin(out, &hdr);
    g_assert_cmpuint(out->len, ==, 4 + RPC_HEADER_LEN);
    rpc_packet_finish(out, 0);
    g_assert_cmpmem(out->data, 4, "\0\0\0\x1c", 4);
    g_assert_true(rpc_header_decode(out->data + 4, out->len - 4, &back, NULL));
    g_assert_cmpuint(back.prog, ==, hdr.prog);
    g_assert_cmpint(back.proc, ==, -7);
    g_assert_cmpuint(back.type, ==, RPC_TYPE_STREAM);
    g_assert_cmpuint(back.serial, ==, 0x01020304);
    g_assert_cmpuint(back.status, ==, RPC_STATUS_CONTINUE);
    g_assert_false(rpc_header_decode(out->data + 4, 23, &back, &error));
    g_assert_error(error, HEARTH_ERROR, HEARTH_ERR_RPC);
}

static void test_keepalive_pong(void)
{
    RpcHeader pong = {.prog = RPC_PROGRAM_KEEPALIVE,
                      .vers = 1,
                      .proc = RPC_KEEPALIVE_PONG,
                      .type = RPC_TYPE_MESSAGE};
    static const guint8 want[] = {0, 0, 0, 0x1c, 0x6b, 0x65, 0x65, 0x70, 0, 0, 0, 1, 0, 0,
                                  0, 2, 0, 0,    0,    2,    0,    0,    0, 0, 0, 0, 0, 0};
    g_autoptr(GByteArray) out = g_byte_array_new();

    rpc_packet_begin(out, &pong);
    rpc_packet_finish(out, 0);
    g_assert_cmpmem(out->data, out->len, want, sizeof(want));
}

static RemoteError *error_roundtrip(const GError *error)
{
    g_autoptr(GByteArray) out = g_byte_array_new();
    RemoteError *err = g_new0(RemoteError, 1);

    rpc_error_encode(out, error);
    g_assert_true(xdr_decode(&remote_error_xdr, out->data, out->len, err, NULL));
    return err;
}

static void remote_error_free(RemoteError *err)
{
    xdr_clear(&remote_error_xdr, err);
    g_free(err);
}

static void test_error_encode(void)
{
    g_autoptr(GError) nodom = g_error_new(HEARTH_ERROR, HEARTH_ERR_NO_DOMAIN, "no vm1");
    g_autoptr(GError) denied = g_error_new(HEARTH_ERROR, HEARTH_ERR_OPERATION_DENIED, "ro");
    g_autoptr(GError) foreign = g_error_new(g_quark_from_static_string("test-foreign"), 42, "gone");
    RemoteError *err;

    err = error_roundtrip(nodom);
    g_assert_cmpint(err->code, ==, 42);
    g_assert_cmpint(err->domain, ==, hearth_error_code_origin(42));
    g_assert_cmpstr(err->message, ==, "no vm1");
    g_assert_cmpint(err->level, ==, 2);
    g_assert_null(err->dom);
    g_assert_null(err->str1);
    g_assert_null(err->net);
    remote_error_free(err);

    err = error_roundtrip(denied);
    g_assert_cmpint(err->code, ==, 29);
    g_assert_cmpint(err->domain, ==, HEARTH_FROM_REMOTE);
    remote_error_free(err);

    err = error_roundtrip(foreign);
    g_assert_cmpint(err->code, ==, HEARTH_ERR_INTERNAL);
    g_assert_cmpstr(err->message, ==, "gone");
    remote_error_free(err);

    err = error_roundtrip(NULL);
    g_assert_cmpint(err->code, ==, HEARTH_ERR_INTERNAL);
    g_assert_nonnull(err->message);
    remote_error_free(err);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/rpc-packet/length-check", test_length_check);
    g_test_add_func("/rpc-packet/header-roundtrip", test_header_roundtrip);
    g_test_add_func("/rpc-packet/keepalive-pong", test_keepalive_pong);
    g_test_add_func("/rpc-packet/error-encode", test_error_encode);
    return g_test_run();
}
