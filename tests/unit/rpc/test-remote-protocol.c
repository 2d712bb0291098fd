/* The generated REMOTE program against the wire examples of the libvirt-rpc reference. */
#include "remote-dispatch.h"
#include "remote-protocol.h"
#include "rpc-packet.h"
#include "xdr.h"

#include "hearth-error.h"

#include <string.h>

static const guint8 vm1_uuid[16] = {0x77, 0xa7, 0xcf, 0xd9, 0x12, 0x34, 0x45, 0x67,
                                    0x89, 0xab, 0xcd, 0xef, 0x01, 0x23, 0x45, 0x67};

/* Parse "0000001c 20008086 ..." (hex words and quoted ASCII) into bytes. */
static GByteArray *hex(const char *text)
{
    GByteArray *b = g_byte_array_new();

    for (const char *p = text; *p;) {
        if (*p == ' ' || *p == '|') {
            p++;
        } else if (*p == '"') {
            const char *end = strchr(p + 1, '"');

            g_assert_nonnull(end);
            g_byte_array_append(b, (const guint8 *)p + 1, (guint)(end - p - 1));
            p = end + 1;
        } else {
            guint8 byte;

            g_assert_true(g_ascii_isxdigit(p[0]) && g_ascii_isxdigit(p[1]));
            byte = (guint8)(g_ascii_xdigit_value(p[0]) << 4 | g_ascii_xdigit_value(p[1]));
            g_byte_array_append(b, &byte, 1);
            p += 2;
        }
    }
    return b;
}

static void assert_same(GByteArray *got, GByteArray *want)
{
    g_assert_cmpmem(got->data, got->len, want->data, want->len);
}

static RemoteNonnullDomain vm1(gint32 id)
{
    RemoteNonnullDomain dom = {.name = (char *)"vm1", .id = id};

    memcpy(dom.uuid, vm1_uuid, sizeof(vm1_uuid));
    return dom;
}

static void test_nonnull_domain(void)
{
    RemoteNonnullDomain dom = vm1(-1), back = {0};
    g_autoptr(GByteArray) out = g_byte_array_new();
    g_autoptr(GByteArray) want =
        hex("00000003 766d3100 77a7cfd9 12344567 89abcdef 01234567 ffffffff");

    xdr_encode(&remote_nonnull_domain_xdr, &dom, out);
    assert_same(out, want);
    g_assert_true(xdr_decode(&remote_nonnull_domain_xdr, out->data, out->len, &back, NULL));
    g_assert_cmpstr(back.name, ==, "vm1");
    g_assert_cmpint(back.id, ==, -1);
    g_assert_cmpmem(back.uuid, 16, vm1_uuid, 16);
    xdr_clear(&remote_nonnull_domain_xdr, &back);
}

static void test_auth_list(void)
{
    RpcHeader call;
    RpcHeader reply;
    gint32 types[1] = {REMOTE_AUTH_NONE};
    RemoteAuthListRet ret = {.types_len = 1, .types_val = types};
    g_autoptr(GByteArray) in =
        hex("0000001c 20008086 00000001 00000042 00000000 00000000 00000000");
    g_autoptr(GByteArray) out = g_byte_array_new();
    g_autoptr(GByteArray) want =
        hex("00000024 20008086 00000001 00000042 00000001 00000000 00000000 00000001 00000000");
    const RemoteProcInfo *info;

    g_assert_true(rpc_length_check(in->len, NULL));
    g_assert_true(rpc_header_decode(in->data + 4, in->len - 4, &call, NULL));
    g_assert_cmpuint(call.prog, ==, RPC_PROGRAM_REMOTE);
    g_assert_cmpint(call.proc, ==, REMOTE_PROC_AUTH_LIST);
    info = remote_proc_info(call.proc);
    g_assert_null(info->args);
    g_assert_true(xdr_decode(info->args, in->data + 28, in->len - 28, NULL, NULL));

    reply = call;
    reply.type = RPC_TYPE_REPLY;
    rpc_packet_begin(out, &reply);
    xdr_encode(info->ret, &ret, out);
    rpc_packet_finish(out, 0);
    assert_same(out, want);
}

static void test_connect_open(void)
{
    g_autoptr(GByteArray) in = hex("00000038 20008086 00000001 00000001 00000000 00000002 "
                                   "00000000 | 00000001 0000000e \"qemu:///system\" 0000 | "
                                   "00000000");
    g_autoptr(GByteArray) again = g_byte_array_new();
    RemoteConnectOpenArgs args = {0};
    RpcHeader hdr;

    g_assert_cmpuint(in->len, ==, 0x38);
    g_assert_true(rpc_header_decode(in->data + 4, in->len - 4, &hdr, NULL));
    g_assert_cmpint(hdr.proc, ==, REMOTE_PROC_CONNECT_OPEN);
    g_assert_cmpuint(hdr.type, ==, RPC_TYPE_CALL);
    g_assert_cmpuint(hdr.serial, ==, 2);
    g_assert_true(
        xdr_decode(remote_proc_info(hdr.proc)->args, in->data + 28, in->len - 28, &args, NULL));
    g_assert_cmpstr(args.name, ==, "qemu:///system");
    g_assert_cmpuint(args.flags, ==, 0);

    rpc_packet_begin(again, &hdr);
    xdr_encode(&remote_connect_open_args_xdr, &args, again);
    rpc_packet_finish(again, 0);
    assert_same(again, in);
    xdr_clear(&remote_connect_open_args_xdr, &args);
}

static void test_lifecycle_event(void)
{
    RemoteDomainEventCallbackLifecycleMsg msg = {
        .callbackID = 1,
        .msg = {.dom = vm1(9), .event = 2, .detail = 0},
    };
    RpcHeader hdr = {.prog = RPC_PROGRAM_REMOTE,
                     .vers = REMOTE_PROTOCOL_VERSION,
                     .proc = REMOTE_PROC_DOMAIN_EVENT_CALLBACK_LIFECYCLE,
                     .type = RPC_TYPE_MESSAGE};
    g_autoptr(GByteArray) out = g_byte_array_new();
    g_autoptr(GByteArray) want = hex("00000044 20008086 00000001 0000013e 00000002 00000000 "
                                     "00000000 | 00000001 | 00000003 766d3100 77a7cfd9 12344567 "
                                     "89abcdef 01234567 00000009 | 00000002 00000000");

    g_assert_cmpint(REMOTE_PROC_DOMAIN_EVENT_CALLBACK_LIFECYCLE, ==, 318);
    /* Something before the packet: finish() patches relative to the start. */
    g_byte_array_append(out, (const guint8 *)"junk", 4);
    rpc_packet_begin(out, &hdr);
    xdr_encode(remote_proc_info(318)->args, &msg, out);
    rpc_packet_finish(out, 4);
    g_assert_cmpmem(out->data + 4, out->len - 4, want->data, want->len);
}

static void test_fixed_sizes(void)
{
    RemoteNodeGetInfoRet node = {.memory = 8 << 20, .cpus = 4};
    RemoteDomainGetInfoRet info = {.state = 1, .maxMem = 1048576, .nrVirtCpu = 2};
    g_autoptr(GByteArray) out = g_byte_array_new();
    g_autoptr(GByteArray) want = hex("00000001 00000000 00100000 00000000 00000000 00000002 "
                                     "00000000 00000000");
    RemoteNodeGetInfoRet node_back = {0};

    memcpy(node.model, "x86_64", 6);
    xdr_encode(&remote_node_get_info_ret_xdr, &node, out);
    g_assert_cmpuint(out->len, ==, 160); /* char model[32] is 128 bytes */
    g_assert_cmpmem(out->data, 8, "\0\0\0x\0\0\0\x38", 8);
    g_assert_true(xdr_decode(&remote_node_get_info_ret_xdr, out->data, out->len, &node_back, NULL));
    g_assert_cmpstr(node_back.model, ==, "x86_64");
    g_assert_cmpint(node_back.cpus, ==, 4);

    g_byte_array_set_size(out, 0);
    xdr_encode(&remote_domain_get_info_ret_xdr, &info, out);
    g_assert_cmpuint(out->len, ==, 32); /* uchar and ushort take 4 bytes each */
    assert_same(out, want);
}

static void test_error_payload(void)
{
    const char *message = "mock: DOMAIN_LOOKUP_BY_NAME not supported!";
    RemoteError err = {.code = 3, .domain = 13, .message = (char *)message, .level = 2};
    RpcHeader hdr = {.prog = RPC_PROGRAM_REMOTE,
                     .vers = 1,
                     .proc = REMOTE_PROC_DOMAIN_LOOKUP_BY_NAME,
                     .type = RPC_TYPE_REPLY,
                     .serial = 6,
                     .status = RPC_STATUS_ERROR};
    g_autoptr(GByteArray) out = g_byte_array_new();
    g_autoptr(GByteArray) head = hex("00000078 20008086 00000001 00000017 00000001 00000006 "
                                     "00000001 00000003 0000000d 00000001 0000002a");
    g_autoptr(GByteArray) tail = hex("0000 00000002 00000000 00000000 00000000 00000000 "
                                     "00000000 00000000 00000000");

    g_assert_cmpuint(strlen(message), ==, 42);
    rpc_packet_begin(out, &hdr);
    xdr_encode(&remote_error_xdr, &err, out);
    rpc_packet_finish(out, 0);
    g_assert_cmpuint(out->len, ==, 120);
    g_assert_cmpmem(out->data, head->len, head->data, head->len);
    g_assert_cmpmem(out->data + head->len, 42, message, 42);
    g_assert_cmpmem(out->data + head->len + 42, tail->len, tail->data, tail->len);
}

static void test_security_label(void)
{
    RemoteDomainGetSecurityLabelRet ret = {0}, back = {0};
    g_autoptr(GByteArray) out = g_byte_array_new();
    static const char label[] = "system_u:system_r:svirt_t:s0";

    ret.label_len = sizeof(label); /* libvirt counts the NUL */
    ret.label_val = (char *)label;
    ret.enforcing = 1;
    xdr_encode(&remote_domain_get_security_label_ret_xdr, &ret, out);
    g_assert_cmpuint(out->len, ==, 4 + 4 * sizeof(label) + 4);
    g_assert_true(
        xdr_decode(&remote_domain_get_security_label_ret_xdr, out->data, out->len, &back, NULL));
    g_assert_cmpstr(back.label_val, ==, label);
    xdr_clear(&remote_domain_get_security_label_ret_xdr, &back);
}

static void test_typed_params(void)
{
    RemoteTypedParam params[3] = {
        {.field = (char *)"state.state", .value = {.type = 1, .u.i = 1}},
        {.field = (char *)"cpu.time", .value = {.type = 4, .u.ul = 123456789}},
        {.field = (char *)"vcpu.name", .value = {.type = 7, .u.s = (char *)"x"}},
    };
    RemoteDomainStatsRecord rec = {.dom = vm1(3), .params_len = 3, .params_val = params};
    RemoteConnectGetAllDomainStatsRet ret = {.retStats_len = 1, .retStats_val = &rec}, back = {0};
    g_autoptr(GByteArray) out = g_byte_array_new();
    g_autoptr(GByteArray) again = g_byte_array_new();

    xdr_encode(&remote_connect_get_all_domain_stats_ret_xdr, &ret, out);
    g_assert_true(
        xdr_decode(&remote_connect_get_all_domain_stats_ret_xdr, out->data, out->len, &back, NULL));
    g_assert_cmpuint(back.retStats_len, ==, 1);
    g_assert_cmpuint(back.retStats_val[0].params_len, ==, 3);
    g_assert_cmpuint(back.retStats_val[0].params_val[1].value.u.ul, ==, 123456789);
    g_assert_cmpstr(back.retStats_val[0].params_val[2].value.u.s, ==, "x");
    xdr_encode(&remote_connect_get_all_domain_stats_ret_xdr, &back, again);
    assert_same(again, out);
    xdr_clear(&remote_connect_get_all_domain_stats_ret_xdr, &back);
}

static void test_proc_table(void)
{
    guint described = 0;

    for (gint32 n = 1; n <= REMOTE_PROC_LAST; n++) {
        const RemoteProcInfo *info = remote_proc_info(n);

        if (!info)
            continue;
        described++;
        g_assert_cmpint(info->number, ==, n);
        g_assert_nonnull(info->name);
        if (info->flags & REMOTE_PROC_FLAG_MESSAGE) {
            g_assert_nonnull(info->args);
            g_assert_null(info->ret);
            g_assert_false(info->flags & REMOTE_PROC_FLAG_READONLY);
        }
    }
    g_assert_cmpuint(described, ==, REMOTE_PROC_LAST);
    g_assert_null(remote_proc_info(0));
    g_assert_null(remote_proc_info(-1));
    g_assert_null(remote_proc_info(REMOTE_PROC_LAST + 1));
    g_assert_null(remote_proc_info(G_MAXINT32));

    g_assert_cmpint(REMOTE_PROC_LAST, ==, 443);
    g_assert_cmpint(REMOTE_PROC_DOMAIN_LOOKUP_BY_NAME, ==, 23);
    g_assert_cmpint(REMOTE_PROC_DOMAIN_OPEN_CONSOLE, ==, 201);
    g_assert_cmpint(REMOTE_PROC_DOMAIN_RENAME, ==, 358);
    g_assert_cmpint(REMOTE_PROC_DOMAIN_FD_ASSOCIATE, ==, 443);
    g_assert_cmpuint(REMOTE_PROGRAM, ==, RPC_PROGRAM_REMOTE);
    g_assert_cmpstr(remote_proc_info(23)->name, ==, "domain_lookup_by_name");
    g_assert_true(remote_proc_info(23)->args == &remote_domain_lookup_by_name_args_xdr);
    g_assert_true(remote_proc_info(23)->ret == &remote_domain_lookup_by_name_ret_xdr);

    /* Read-only marks: queries yes, changes no. */
    g_assert_true(remote_proc_info(REMOTE_PROC_CONNECT_OPEN)->flags & REMOTE_PROC_FLAG_READONLY);
    g_assert_true(remote_proc_info(REMOTE_PROC_AUTH_LIST)->flags & REMOTE_PROC_FLAG_READONLY);
    g_assert_true(remote_proc_info(REMOTE_PROC_CONNECT_LIST_ALL_DOMAINS)->flags &
                  REMOTE_PROC_FLAG_READONLY);
    g_assert_true(remote_proc_info(REMOTE_PROC_CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY)->flags &
                  REMOTE_PROC_FLAG_READONLY);
    g_assert_true(remote_proc_info(REMOTE_PROC_CONNECT_REGISTER_CLOSE_CALLBACK)->flags &
                  REMOTE_PROC_FLAG_READONLY);
    g_assert_false(remote_proc_info(REMOTE_PROC_DOMAIN_CREATE)->flags & REMOTE_PROC_FLAG_READONLY);
    g_assert_false(remote_proc_info(REMOTE_PROC_DOMAIN_SET_AUTOSTART)->flags &
                   REMOTE_PROC_FLAG_READONLY);
    g_assert_false(remote_proc_info(REMOTE_PROC_SECRET_GET_VALUE)->flags &
                   REMOTE_PROC_FLAG_READONLY);
    g_assert_true(remote_proc_info(REMOTE_PROC_DOMAIN_EVENT_BLOCK_JOB_2)->flags &
                  REMOTE_PROC_FLAG_MESSAGE);
}

/* A handler linked into this test: the weak reference resolves to it. */
DispatchResult dispatch_connect_get_hostname(HearthCall *call, const void *args,
                                             RemoteConnectGetHostnameRet *ret, GError **error)
{
    ret->hostname = g_strdup("hearth-test");
    return DISPATCH_DONE;
}

static void test_dispatch_lookup(void)
{
    DispatchFunc func = remote_dispatch_lookup(REMOTE_PROC_CONNECT_GET_HOSTNAME);
    RemoteConnectGetHostnameRet ret = {0};

    g_assert_nonnull(func);
    g_assert_cmpint(func(NULL, NULL, &ret, NULL), ==, DISPATCH_DONE);
    g_assert_cmpstr(ret.hostname, ==, "hearth-test");
    xdr_clear(&remote_connect_get_hostname_ret_xdr, &ret);

    g_assert_null(remote_dispatch_lookup(REMOTE_PROC_DOMAIN_CREATE));
    g_assert_null(remote_dispatch_lookup(REMOTE_PROC_DOMAIN_EVENT_CALLBACK_LIFECYCLE));
    g_assert_null(remote_dispatch_lookup(0));
    g_assert_null(remote_dispatch_lookup(REMOTE_PROC_LAST + 1));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/remote/nonnull-domain", test_nonnull_domain);
    g_test_add_func("/remote/auth-list", test_auth_list);
    g_test_add_func("/remote/connect-open", test_connect_open);
    g_test_add_func("/remote/lifecycle-event", test_lifecycle_event);
    g_test_add_func("/remote/fixed-sizes", test_fixed_sizes);
    g_test_add_func("/remote/error-payload", test_error_payload);
    g_test_add_func("/remote/security-label", test_security_label);
    g_test_add_func("/remote/typed-params", test_typed_params);
    g_test_add_func("/remote/proc-table", test_proc_table);
    g_test_add_func("/remote/dispatch-lookup", test_dispatch_lookup);
    return g_test_run();
}
