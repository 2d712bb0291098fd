/* The XDR codec on layouts covering every field kind (test-kinds.proto). */
#include "test-protocol.h"
#include "xdr.h"

#include "hearth-error.h"

#include <string.h>

static GByteArray *encode(const XdrType *type, gconstpointer obj)
{
    GByteArray *out = g_byte_array_new();

    xdr_encode(type, obj, out);
    g_assert_cmpuint(out->len, ==, xdr_encoded_size(type, obj));
    return out;
}

static void assert_bytes(GByteArray *got, const guint8 *want, gsize len)
{
    g_assert_cmpmem(got->data, got->len, want, len);
}

static gboolean all_zero(gconstpointer p, gsize len)
{
    const guint8 *b = p;

    for (gsize i = 0; i < len; i++) {
        if (b[i])
            return FALSE;
    }
    return TRUE;
}

/* Decoding must fail with an RPC error and leave the object cleared. */
static void assert_rejects(const XdrType *type, const guint8 *data, gsize len, const char *needle)
{
    g_autofree guint8 *obj = g_malloc0(xdr_type_size(type));
    g_autoptr(GError) error = NULL;

    g_assert_false(xdr_decode(type, data, len, obj, &error));
    g_assert_error(error, HEARTH_ERROR, HEARTH_ERR_RPC);
    if (needle && !strstr(error->message, needle))
        g_error("error \"%s\" lacks \"%s\"", error->message, needle);
    g_assert_true(all_zero(obj, xdr_type_size(type)));
}

static void everything_fill(TestEverything *e)
{
    static const guint8 uuid[16] = {0x77, 0xa7, 0xcf, 0xd9, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};

    e->i32 = -5;
    e->u32 = 0xdeadbeef;
    e->i64 = -1234567890123LL;
    e->u64 = G_GUINT64_CONSTANT(0xfedcba9876543210);
    e->flag = 1;
    e->dbl = 3.25;
    e->c = -7;
    e->uc = 200;
    e->sh = -300;
    e->us = 65535;
    e->col = TEST_GREEN;
    e->name = g_strdup("abcdefgh");
    e->text = g_strdup("hello");
    e->maybe_text = g_strdup("");
    memcpy(e->id, uuid, sizeof(uuid));
    memcpy(e->fixed_bytes, "\x01\x02\x03\x04\x05", 5);
    e->bytes_len = 3;
    e->bytes_val = g_memdup2("xyz", 3);
    memcpy(e->model, "x86_6", 6);
    e->label_len = 4;
    e->label_val = g_strdup("lab");
    e->ints_len = 2;
    e->ints_val = g_new0(gint32, 2);
    e->ints_val[0] = 1;
    e->ints_val[1] = -2;
    e->hypers_len = 1;
    e->hypers_val = g_new0(guint64, 1);
    e->hypers_val[0] = 99;
    e->names_len = 2;
    e->names_val = g_new0(char *, 2);
    e->names_val[0] = g_strdup("one");
    e->names_val[1] = g_strdup("three");
    e->points_len = 1;
    e->points_val = g_new0(TestPoint, 1);
    e->points_val[0] = (TestPoint){10, 20};
    e->pair[0] = (TestPoint){1, 2};
    e->pair[1] = (TestPoint){3, 4};
    e->triple[2] = 9;
    e->opt_point = g_new0(TestPoint, 1);
    e->opt_point->x = 5;
    e->val.kind = 2;
    e->val.u.s = g_strdup("union string");
    e->vals_len = 3;
    e->vals_val = g_new0(TestValue, 3);
    e->vals_val[0].kind = 4;
    e->vals_val[0].u.maybe = g_new0(TestPoint, 1);
    e->vals_val[0].u.maybe->y = 8;
    e->vals_val[1].kind = -1;
    e->vals_val[1].u.d = -0.5;
    e->vals_val[2].kind = 4;
}

static void everything_check(const TestEverything *e)
{
    g_assert_cmpint(e->i32, ==, -5);
    g_assert_cmpuint(e->u32, ==, 0xdeadbeef);
    g_assert_cmpint(e->i64, ==, -1234567890123LL);
    g_assert_cmpuint(e->u64, ==, G_GUINT64_CONSTANT(0xfedcba9876543210));
    g_assert_cmpint(e->flag, ==, 1);
    g_assert_cmpfloat(e->dbl, ==, 3.25);
    g_assert_cmpint(e->c, ==, -7);
    g_assert_cmpuint(e->uc, ==, 200);
    g_assert_cmpint(e->sh, ==, -300);
    g_assert_cmpuint(e->us, ==, 65535);
    g_assert_cmpint(e->col, ==, TEST_GREEN);
    g_assert_cmpstr(e->name, ==, "abcdefgh");
    g_assert_cmpstr(e->text, ==, "hello");
    g_assert_cmpstr(e->maybe_text, ==, "");
    g_assert_cmpuint(e->id[0], ==, 0x77);
    g_assert_cmpuint(e->id[15], ==, 12);
    g_assert_cmpmem(e->fixed_bytes, 5, "\x01\x02\x03\x04\x05", 5);
    g_assert_cmpmem(e->bytes_val, e->bytes_len, "xyz", 3);
    g_assert_cmpmem(e->model, 6, "x86_6", 6);
    g_assert_cmpuint(e->label_len, ==, 4);
    g_assert_cmpstr(e->label_val, ==, "lab"); /* the sender's NUL, and ours after it */
    g_assert_cmpuint(e->ints_len, ==, 2);
    g_assert_cmpint(e->ints_val[1], ==, -2);
    g_assert_cmpuint(e->hypers_len, ==, 1);
    g_assert_cmpuint(e->hypers_val[0], ==, 99);
    g_assert_cmpuint(e->names_len, ==, 2);
    g_assert_cmpstr(e->names_val[1], ==, "three");
    g_assert_cmpuint(e->points_len, ==, 1);
    g_assert_cmpint(e->points_val[0].y, ==, 20);
    g_assert_cmpint(e->pair[1].x, ==, 3);
    g_assert_cmpint(e->triple[2], ==, 9);
    g_assert_nonnull(e->opt_point);
    g_assert_cmpint(e->opt_point->x, ==, 5);
    g_assert_cmpint(e->val.kind, ==, 2);
    g_assert_cmpstr(e->val.u.s, ==, "union string");
    g_assert_cmpuint(e->vals_len, ==, 3);
    g_assert_cmpint(e->vals_val[0].u.maybe->y, ==, 8);
    g_assert_cmpfloat(e->vals_val[1].u.d, ==, -0.5);
    g_assert_null(e->vals_val[2].u.maybe);
}

static void test_roundtrip_every_kind(void)
{
    TestEverything in = {0}, out = {0};
    g_autoptr(GByteArray) wire = NULL;
    g_autoptr(GByteArray) again = NULL;
    g_autoptr(GError) error = NULL;

    everything_fill(&in);
    wire = encode(&test_everything_xdr, &in);
    g_assert_true(xdr_decode(&test_everything_xdr, wire->data, wire->len, &out, &error));
    g_assert_no_error(error);
    everything_check(&out);
    again = encode(&test_everything_xdr, &out);
    g_assert_cmpmem(again->data, again->len, wire->data, wire->len);

    /* Every proper prefix is truncated input. */
    for (guint len = 0; len < wire->len; len++)
        assert_rejects(&test_everything_xdr, wire->data, len, NULL);

    xdr_clear(&test_everything_xdr, &in);
    xdr_clear(&test_everything_xdr, &out);
    g_assert_true(all_zero(&out, sizeof(out)));
}

static void test_wire_scalars(void)
{
    TestEverything e = {0};
    g_autoptr(GByteArray) wire = NULL;
    const guint8 *p;

    e.val.kind = 1;
    e.i32 = -2;
    e.flag = 1;
    e.dbl = 1.0;
    e.c = -1;
    e.uc = 0xab;
    e.us = 0x1234;
    memcpy(e.model, "ab\xe9", 3);
    wire = encode(&test_everything_xdr, &e);
    p = wire->data;
    g_assert_cmpmem(p, 4, "\xff\xff\xff\xfe", 4); /* int */
    g_assert_cmpmem(p + 24, 4, "\0\0\0\x01", 4);  /* bool */
    g_assert_cmpmem(p + 28, 8, "\x3f\xf0\0\0\0\0\0\0", 8);
    g_assert_cmpmem(p + 36, 4, "\xff\xff\xff\xff", 4); /* char widened to 4 bytes */
    g_assert_cmpmem(p + 40, 4, "\0\0\0\xab", 4);       /* uchar widened */
    g_assert_cmpmem(p + 48, 4, "\0\0\x12\x34", 4);     /* ushort widened */
    /* name "" (4), text "" (4), maybe_text NULL (4), uuid (16), fixed_bytes 5 + 3 pad,
     * bytes<> empty (4), then model: char[6] is 6 words, sign-extended like rpcgen. */
    p += 56 + 4 + 4 + 4 + 16 + 8 + 4;
    g_assert_cmpmem(p, 16, "\0\0\0a\0\0\0b\xff\xff\xff\xe9\0\0\0\0", 16);
    xdr_clear(&test_everything_xdr, &e);
}

static void test_wire_strings(void)
{
    TestUnbounded u = {0};
    TestEverything e = {0};
    g_autoptr(GByteArray) wire = NULL;
    g_autoptr(GByteArray) wire2 = NULL;
    static const guint8 want[] = {
        0, 0, 0, 0,                                     /* ints<> */
        0, 0, 0, 0,                                     /* items<> */
        0, 0, 0, 5, 'h',  'e',  'l', 'l', 'o', 0, 0, 0, /* string, 3 pad */
        0, 0, 0, 2, 0xca, 0xfe, 0,   0,                 /* opaque<>, 2 pad */
    };

    e.val.kind = 1;
    u.s = "hello";
    u.raw_len = 2;
    u.raw_val = (guint8 *)"\xca\xfe";
    wire = encode(&test_unbounded_xdr, &u);
    assert_bytes(wire, want, sizeof(want));

    /* A NULL non-optional string goes out as "", a NULL optional one as absent. */
    wire2 = encode(&test_everything_xdr, &e);
    g_assert_cmpmem(wire2->data + 56, 12, "\0\0\0\0\0\0\0\0\0\0\0\0", 12);
    e.maybe_text = "x";
    g_byte_array_set_size(wire2, 0);
    xdr_encode(&test_everything_xdr, &e, wire2);
    g_assert_cmpmem(wire2->data + 64, 12, "\0\0\0\x01\0\0\0\x01x\0\0\0", 12);
}

/* A valid encoding of TestUnbounded with the given tail after ints<> and items<>. */
static GByteArray *unbounded_wire(const guint8 *tail, gsize len)
{
    GByteArray *b = g_byte_array_new();

    g_byte_array_append(b, (const guint8 *)"\0\0\0\0\0\0\0\0", 8);
    g_byte_array_append(b, tail, (guint)len);
    return b;
}

static void test_reject_limits(void)
{
    TestEverything e = {0};
    g_autoptr(GByteArray) wire = NULL;
    guint8 *p;

    e.val.kind = 1;
    wire = encode(&test_everything_xdr, &e);
    p = wire->data;

    /* name<8> holding 9 bytes (the count alone is enough to refuse). */
    p[59] = 9;
    assert_rejects(&test_everything_xdr, wire->data, wire->len, "test_everything.name");
    assert_rejects(&test_everything_xdr, wire->data, wire->len, "exceeds the maximum 8");
    p[59] = 0;

    /* ints<4> with 5 elements: count word after model (6 words) and label<> (1 word). */
    p[56 + 4 + 4 + 4 + 16 + 8 + 4 + 24 + 4 + 3] = 5;
    assert_rejects(&test_everything_xdr, wire->data, wire->len, "test_everything.ints");
}

static void test_reject_huge_counts(void)
{
    static const guint8 huge[] = {0xff, 0xff, 0xff, 0xf0};
    g_autoptr(GByteArray) items = g_byte_array_new();
    g_autoptr(GByteArray) ints = g_byte_array_new();
    g_autoptr(GByteArray) str = NULL;
    g_autoptr(GByteArray) raw = NULL;

    /* Unbounded arrays of 64-byte elements: allocating first would ask for 256 GiB. */
    g_byte_array_append(items, (const guint8 *)"\0\0\0\0", 4);
    g_byte_array_append(items, huge, 4);
    g_byte_array_append(items, (const guint8 *)"\0\0\0\0\0\0\0\0", 8);
    assert_rejects(&test_unbounded_xdr, items->data, items->len, "cannot fit");

    g_byte_array_append(ints, huge, 4);
    assert_rejects(&test_unbounded_xdr, ints->data, ints->len, "test_unbounded.ints");

    /* Exactly as many elements as bytes allow, minus one byte. */
    g_byte_array_set_size(ints, 0);
    g_byte_array_append(ints, (const guint8 *)"\0\0\0\x02\0\0\0\x01\0\0\0", 11);
    assert_rejects(&test_unbounded_xdr, ints->data, ints->len, "cannot fit");

    str = unbounded_wire(huge, 4);
    assert_rejects(&test_unbounded_xdr, str->data, str->len, "test_unbounded.s");
    raw = unbounded_wire((const guint8 *)"\0\0\0\0\xff\xff\xff\xff", 8);
    assert_rejects(&test_unbounded_xdr, raw->data, raw->len, "test_unbounded.raw");
}

static void test_reject_malformed(void)
{
    TestEverything e = {0};
    g_autoptr(GByteArray) wire = NULL;
    guint8 *p;
    gsize val_off;

    e.text = "abc";
    e.val.kind = 1;
    wire = encode(&test_everything_xdr, &e);
    p = wire->data;

    /* Trailing garbage. */
    g_byte_array_append(wire, (const guint8 *)"\0\0\0\0", 4);
    p = wire->data;
    assert_rejects(&test_everything_xdr, p, wire->len, "4 trailing bytes");
    g_byte_array_set_size(wire, wire->len - 4);
    p = wire->data;

    /* Embedded NUL in text "abc". */
    p[65] = 0;
    assert_rejects(&test_everything_xdr, p, wire->len, "NUL");
    p[65] = 'b';

    /* Bool 2. */
    p[27] = 2;
    assert_rejects(&test_everything_xdr, p, wire->len, "test_everything.flag: bad bool");
    p[27] = 0;

    /* Optional string discriminant 2. */
    p[71] = 2;
    assert_rejects(&test_everything_xdr, p, wire->len, "test_everything.maybe_text");
    p[71] = 0;

    /* char out of range. */
    p[56 + 8 + 4 + 4 + 16 + 8 + 4 + 1] = 1;
    assert_rejects(&test_everything_xdr, p, wire->len, "test_everything.model");
    p[56 + 8 + 4 + 4 + 16 + 8 + 4 + 1] = 0;

    /* The encoding ends with opt_point, val (kind 1, int) and the vals<> count. */
    val_off = wire->len - 4 - 8;
    p[val_off - 1] = 7;
    assert_rejects(&test_everything_xdr, p, wire->len, "test_everything.opt_point");
    p[val_off - 1] = 0;

    /* Unknown union arms. */
    p[val_off + 3] = 0;
    assert_rejects(&test_everything_xdr, p, wire->len, "test_value.(discriminant)");
    p[val_off + 3] = 9;
    assert_rejects(&test_everything_xdr, p, wire->len, "unknown union arm 9");
    p[val_off + 3] = 1;
    {
        TestEverything ok = {0};

        g_assert_true(xdr_decode(&test_everything_xdr, p, wire->len, &ok, NULL));
        g_assert_cmpstr(ok.text, ==, "abc");
        xdr_clear(&test_everything_xdr, &ok);
    }

    /* Void accepts only nothing. */
    g_assert_true(xdr_decode(NULL, NULL, 0, NULL, NULL));
    {
        g_autoptr(GError) error = NULL;

        g_assert_false(xdr_decode(NULL, p, 4, NULL, &error));
        g_assert_error(error, HEARTH_ERROR, HEARTH_ERR_RPC);
    }
}

static void test_clear(void)
{
    TestEverything e = {0};

    everything_fill(&e);
    xdr_clear(&test_everything_xdr, &e);
    g_assert_true(all_zero(&e, sizeof(e)));
    xdr_clear(&test_everything_xdr, &e); /* cleared twice is harmless */
    xdr_clear(NULL, &e);
    xdr_clear(&test_everything_xdr, NULL);
    g_assert_cmpuint(xdr_type_size(NULL), ==, 0);
    g_assert_cmpuint(xdr_type_size(&test_point_xdr), ==, sizeof(TestPoint));
}

static void check_proc_info(void)
{
    const TestProcInfo *info;

    info = test_proc_info(1);
    g_assert_nonnull(info);
    g_assert_cmpstr(info->name, ==, "ping");
    g_assert_true(info->args == &test_ping_args_xdr);
    g_assert_null(info->ret);
    g_assert_cmpuint(info->flags, ==, TEST_PROC_FLAG_READONLY);
    g_assert_null(test_proc_info(2));
    info = test_proc_info(TEST_PROC_PONG);
    g_assert_null(info->args);
    g_assert_true(info->ret == &test_pong_ret_xdr);
    info = test_proc_info(TEST_PROC_NOTE);
    g_assert_cmpuint(info->flags, ==, TEST_PROC_FLAG_MESSAGE);
    g_assert_null(test_proc_info(0));
    g_assert_null(test_proc_info(5));
    g_assert_null(test_proc_info(-3));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/xdr/roundtrip-every-kind", test_roundtrip_every_kind);
    g_test_add_func("/xdr/wire-scalars", test_wire_scalars);
    g_test_add_func("/xdr/wire-strings", test_wire_strings);
    g_test_add_func("/xdr/reject-limits", test_reject_limits);
    g_test_add_func("/xdr/reject-huge-counts", test_reject_huge_counts);
    g_test_add_func("/xdr/reject-malformed", test_reject_malformed);
    g_test_add_func("/xdr/clear", test_clear);
    g_test_add_func("/xdr/proc-info", check_proc_info);
    return g_test_run();
}
