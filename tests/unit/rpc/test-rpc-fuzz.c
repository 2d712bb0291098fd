/* Every layout of the REMOTE program: random valid values must round-trip byte for byte,
 * and random or mutated bytes must be refused or decoded, never crash or leak. Set
 * HEARTH_FUZZ_ROUNDS to run longer and HEARTH_FUZZ_SEED to vary the input. */
#include "remote-protocol.h"
#include "xdr.h"

#include "hearth-error.h"

#include <stdlib.h>
#include <string.h>

static GRand *rng;
static guint rounds = 8;

static void fill_value(const XdrType *type, guint32 max, guint8 *dst, int depth);

static guint32 small_count(guint32 max, guint32 cap)
{
    return g_rand_int_range(rng, 0, (gint32)MIN(max, cap) + 1);
}

static void fill_field(const XdrField *f, guint8 *base, int depth)
{
    guint8 *at = base + f->offset;
    guint32 n;
    gpointer p;

    switch ((XdrShape)f->shape) {
    case XDR_SHAPE_ONE:
        fill_value(f->type, f->max, at, depth);
        return;
    case XDR_SHAPE_OPTIONAL:
        if (depth > 3 || g_rand_boolean(rng))
            return;
        p = g_malloc0(f->type->size);
        fill_value(f->type, f->type->max, p, depth + 1);
        memcpy(at, &p, sizeof(p));
        return;
    case XDR_SHAPE_FIXED:
        for (guint32 i = 0; i < f->max; i++)
            fill_value(f->type, f->type->max, at + (gsize)i * f->type->size, depth + 1);
        return;
    case XDR_SHAPE_VAR:
        n = depth > 3 ? 0 : small_count(f->max, 3);
        if (!n)
            return;
        p = g_malloc0_n(n, f->type->size);
        for (guint32 i = 0; i < n; i++)
            fill_value(f->type, f->type->max, (guint8 *)p + (gsize)i * f->type->size, depth + 1);
        memcpy(at, &n, sizeof(n));
        memcpy(base + f->val_offset, &p, sizeof(p));
        return;
    case XDR_SHAPE_OPAQUE_FIXED:
        for (guint32 i = 0; i < f->max; i++)
            at[i] = (guint8)g_rand_int(rng);
        return;
    case XDR_SHAPE_OPAQUE_VAR:
        n = small_count(f->max, 9);
        if (!n)
            return;
        p = g_malloc(n);
        for (guint32 i = 0; i < n; i++)
            ((guint8 *)p)[i] = (guint8)g_rand_int(rng);
        memcpy(at, &n, sizeof(n));
        memcpy(base + f->val_offset, &p, sizeof(p));
        return;
    }
}

static char *random_string(guint32 max)
{
    guint32 len = small_count(max, 12);
    char *s = g_malloc(len + 1);

    for (guint32 i = 0; i < len; i++)
        s[i] = (char)g_rand_int_range(rng, 1, 256);
    s[len] = '\0';
    return s;
}

static void fill_value(const XdrType *type, guint32 max, guint8 *dst, int depth)
{
    guint32 v = g_rand_int(rng);
    guint64 v64 = (guint64)g_rand_int(rng) << 32 | g_rand_int(rng);
    char *s;

    switch ((XdrKind)type->kind) {
    case XDR_KIND_INT32:
    case XDR_KIND_UINT32:
        memcpy(dst, &v, 4);
        return;
    case XDR_KIND_BOOL:
        v &= 1;
        memcpy(dst, &v, 4);
        return;
    case XDR_KIND_INT64:
    case XDR_KIND_UINT64:
    case XDR_KIND_DOUBLE:
        memcpy(dst, &v64, 8);
        return;
    case XDR_KIND_CHAR:
        *(char *)dst = (char)(gint8)v;
        return;
    case XDR_KIND_STRING:
    case XDR_KIND_OSTRING:
        if (type->kind == XDR_KIND_OSTRING && g_rand_boolean(rng))
            return;
        s = random_string(max);
        memcpy(dst, &s, sizeof(s));
        return;
    case XDR_KIND_STRUCT:
        for (guint32 i = 0; i < type->n_fields; i++)
            fill_field(&type->fields[i], dst, depth);
        return;
    case XDR_KIND_UNION: {
        const XdrField *arm = &type->fields[g_rand_int_range(rng, 0, (gint32)type->n_fields)];

        memcpy(dst, &arm->arm, sizeof(arm->arm));
        fill_field(arm, dst, depth);
        return;
    }
    }
}

static GByteArray *encode(const XdrType *type, gconstpointer obj)
{
    GByteArray *out = g_byte_array_new();

    xdr_encode(type, obj, out);
    return out;
}

/* Decode arbitrary bytes; what decodes must encode to the same length. */
static void decode_any(const XdrType *type, const guint8 *data, gsize len)
{
    g_autofree guint8 *obj = g_malloc0(type->size);
    g_autoptr(GError) error = NULL;

    if (xdr_decode(type, data, len, obj, &error)) {
        g_autoptr(GByteArray) again = encode(type, obj);

        g_assert_cmpuint(again->len, ==, len);
        xdr_clear(type, obj);
    } else {
        g_assert_error(error, HEARTH_ERROR, HEARTH_ERR_RPC);
    }
}

static void mutate_and_decode(const XdrType *type, const GByteArray *valid)
{
    static const guint32 words[] = {0,          1,          2,          3,       0x7fffffff,
                                    0x80000000, 0xfffffff0, 0xffffffff, 4194304, 4194305,
                                    65536,      16384,      16385};
    g_autoptr(GByteArray) b = g_byte_array_new();

    for (guint k = 0; k < 16; k++) {
        g_byte_array_set_size(b, 0);
        g_byte_array_append(b, valid->data, valid->len);
        switch (g_rand_int_range(rng, 0, 5)) {
        case 0: /* flip a byte */
            if (b->len)
                b->data[g_rand_int_range(rng, 0, (gint32)b->len)] ^=
                    (guint8)g_rand_int_range(rng, 1, 256);
            break;
        case 1: /* plant an interesting word on a word boundary */
            if (b->len >= 4) {
                guint32 w = GUINT32_TO_BE(words[g_rand_int_range(rng, 0, G_N_ELEMENTS(words))]);

                memcpy(b->data + 4 * g_rand_int_range(rng, 0, (gint32)(b->len / 4)), &w, 4);
            }
            break;
        case 2: /* truncate */
            g_byte_array_set_size(b, b->len ? g_rand_int_range(rng, 0, (gint32)b->len) : 0);
            break;
        case 3: /* append garbage */
            for (int i = g_rand_int_range(rng, 1, 9); i > 0; i--) {
                guint8 x = (guint8)g_rand_int(rng);

                g_byte_array_append(b, &x, 1);
            }
            break;
        default: /* drop a word from the middle */
            if (b->len >= 8)
                g_byte_array_remove_range(b, 4 * g_rand_int_range(rng, 0, (gint32)(b->len / 4)), 4);
            break;
        }
        decode_any(type, b->data, b->len);
    }
}

static void fuzz_type(const XdrType *type)
{
    for (guint r = 0; r < rounds; r++) {
        g_autofree guint8 *obj = g_malloc0(type->size);
        g_autofree guint8 *back = g_malloc0(type->size);
        g_autoptr(GByteArray) wire = NULL;
        g_autoptr(GByteArray) again = NULL;
        g_autoptr(GError) error = NULL;
        guint8 noise[64];
        gsize len;

        fill_value(type, type->max, obj, 0);
        wire = encode(type, obj);
        g_assert_cmpuint(wire->len, ==, xdr_encoded_size(type, obj));
        if (!xdr_decode(type, wire->data, wire->len, back, &error))
            g_error("%s: own encoding refused: %s", type->name, error->message);
        again = encode(type, back);
        g_assert_cmpmem(again->data, again->len, wire->data, wire->len);
        xdr_clear(type, obj);
        xdr_clear(type, back);

        mutate_and_decode(type, wire);

        len = g_rand_int_range(rng, 0, sizeof(noise) + 1);
        for (gsize i = 0; i < len; i++)
            noise[i] = (guint8)g_rand_int(rng);
        decode_any(type, noise, len);
    }
}

static void test_every_layout(void)
{
    guint types = 0;

    for (gint32 n = 1; n <= REMOTE_PROC_LAST; n++) {
        const RemoteProcInfo *info = remote_proc_info(n);

        g_assert_nonnull(info);
        if (info->args) {
            fuzz_type(info->args);
            types++;
        }
        if (info->ret) {
            fuzz_type(info->ret);
            types++;
        }
    }
    fuzz_type(&remote_error_xdr);
    g_test_message("%u layouts, %u rounds each", types, rounds);
}

int main(int argc, char **argv)
{
    const char *env = g_getenv("HEARTH_FUZZ_ROUNDS");
    guint32 seed = 20230115;
    int ret;

    g_test_init(&argc, &argv, NULL);
    if (env)
        rounds = (guint)strtoul(env, NULL, 10);
    if ((env = g_getenv("HEARTH_FUZZ_SEED")))
        seed = (guint32)strtoul(env, NULL, 10);
    rng = g_rand_new_with_seed(seed);
    g_test_add_func("/rpc-fuzz/every-layout", test_every_layout);
    ret = g_test_run();
    g_rand_free(rng);
    return ret;
}
