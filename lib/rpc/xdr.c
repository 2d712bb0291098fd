#include "xdr.h"

#include "hearth-error.h"

#include <string.h>

/* libvirt's REMOTE_STRING_MAX: the limit of a string that is an array element. */
#define XDR_STRING_MAX 4194304u

const XdrType xdr_int32_type = {"int", XDR_KIND_INT32, sizeof(gint32), 4, 0, NULL, 0};
const XdrType xdr_uint32_type = {"unsigned int", XDR_KIND_UINT32, sizeof(guint32), 4, 0, NULL, 0};
const XdrType xdr_bool_type = {"bool", XDR_KIND_BOOL, sizeof(gint32), 4, 0, NULL, 0};
const XdrType xdr_int64_type = {"hyper", XDR_KIND_INT64, sizeof(gint64), 8, 0, NULL, 0};
const XdrType xdr_uint64_type = {"unsigned hyper", XDR_KIND_UINT64, sizeof(guint64), 8, 0, NULL, 0};
const XdrType xdr_double_type = {"double", XDR_KIND_DOUBLE, sizeof(gdouble), 8, 0, NULL, 0};
const XdrType xdr_char_type = {"char", XDR_KIND_CHAR, sizeof(char), 4, 0, NULL, 0};
const XdrType xdr_string_type = {"string", XDR_KIND_STRING, sizeof(char *), 4, 0,
                                 NULL,     XDR_STRING_MAX};
const XdrType xdr_ostring_type = {"optional string", XDR_KIND_OSTRING, sizeof(char *), 4, 0, NULL,
                                  XDR_STRING_MAX};

gsize xdr_type_size(const XdrType *type)
{
    return type ? type->size : 0;
}

static inline guint64 pad4(guint64 n)
{
    return (n + 3) & ~(guint64)3;
}

static inline guint32 load_u32(const guint8 *p)
{
    guint32 v;

    memcpy(&v, p, sizeof(v));
    return GUINT32_FROM_BE(v);
}

static inline guint64 load_u64(const guint8 *p)
{
    guint64 v;

    memcpy(&v, p, sizeof(v));
    return GUINT64_FROM_BE(v);
}

static inline void store_u32(guint8 **w, guint32 v)
{
    v = GUINT32_TO_BE(v);
    memcpy(*w, &v, sizeof(v));
    *w += sizeof(v);
}

static inline void store_u64(guint8 **w, guint64 v)
{
    v = GUINT64_TO_BE(v);
    memcpy(*w, &v, sizeof(v));
    *w += sizeof(v);
}

static const XdrField *union_arm(const XdrType *type, gint32 discriminant)
{
    for (guint32 i = 0; i < type->n_fields; i++) {
        if (type->fields[i].arm == discriminant)
            return &type->fields[i];
    }
    return NULL;
}

/* ------------------------------------------------------------------ decoding */

typedef struct {
    const guint8 *p;
    const guint8 *end;
} XdrReader;

/* Where a decoding error happened, for a message naming the type and field. */
typedef struct {
    const XdrType *owner;
    const XdrField *field; /* NULL: the discriminant of a union */
    gint64 index;          /* array element, or -1 */
} XdrWhere;

static gboolean xdr_fail(GError **error, const XdrWhere *where, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);

static gboolean xdr_fail(GError **error, const XdrWhere *where, const char *fmt, ...)
{
    g_autofree char *msg = NULL;
    g_autofree char *index = NULL;
    va_list ap;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    if (where->index >= 0)
        index = g_strdup_printf("[%" G_GINT64_FORMAT "]", where->index);
    g_set_error(error, HEARTH_ERROR, HEARTH_ERR_RPC, "%s.%s%s: %s", where->owner->name,
                where->field ? where->field->name : "(discriminant)", index ? index : "", msg);
    return FALSE;
}

static inline gsize reader_left(const XdrReader *r)
{
    return (gsize)(r->end - r->p);
}

static gboolean reader_need(const XdrReader *r, guint64 n, const XdrWhere *where, GError **error)
{
    if (G_LIKELY(reader_left(r) >= n))
        return TRUE;
    return xdr_fail(error, where, "truncated: %" G_GUINT64_FORMAT " bytes needed, %zu left", n,
                    reader_left(r));
}

static gboolean read_u32(XdrReader *r, guint32 *v, const XdrWhere *where, GError **error)
{
    if (!reader_need(r, 4, where, error))
        return FALSE;
    *v = load_u32(r->p);
    r->p += 4;
    return TRUE;
}

static gboolean decode_struct(XdrReader *r, const XdrType *type, guint8 *base, GError **error);
static gboolean decode_union(XdrReader *r, const XdrType *type, guint8 *base, GError **error);

static gboolean decode_string(XdrReader *r, guint32 max, char **out, const XdrWhere *where,
                              GError **error)
{
    guint32 len;
    char *s;

    if (!read_u32(r, &len, where, error))
        return FALSE;
    if (len > max)
        return xdr_fail(error, where, "string length %u exceeds the maximum %u", len, max);
    if (!reader_need(r, pad4(len), where, error))
        return FALSE;
    if (memchr(r->p, '\0', len))
        return xdr_fail(error, where, "string contains a NUL byte");
    s = g_malloc(len + 1);
    memcpy(s, r->p, len);
    s[len] = '\0';
    *out = s;
    r->p += pad4(len);
    return TRUE;
}

static gboolean decode_value(XdrReader *r, const XdrType *type, guint32 max, guint8 *dst,
                             const XdrWhere *where, GError **error)
{
    guint32 v;

    switch ((XdrKind)type->kind) {
    case XDR_KIND_INT32:
    case XDR_KIND_UINT32:
        if (!read_u32(r, &v, where, error))
            return FALSE;
        memcpy(dst, &v, sizeof(v));
        return TRUE;
    case XDR_KIND_BOOL:
        if (!read_u32(r, &v, where, error))
            return FALSE;
        if (v > 1)
            return xdr_fail(error, where, "bad bool value %u", v);
        memcpy(dst, &v, sizeof(v));
        return TRUE;
    case XDR_KIND_INT64:
    case XDR_KIND_UINT64:
    case XDR_KIND_DOUBLE: {
        guint64 v64;

        if (!reader_need(r, 8, where, error))
            return FALSE;
        v64 = load_u64(r->p);
        memcpy(dst, &v64, sizeof(v64));
        r->p += 8;
        return TRUE;
    }
    case XDR_KIND_CHAR:
        if (!read_u32(r, &v, where, error))
            return FALSE;
        /* Signed and unsigned senders both fit; anything else is not a char. */
        if ((gint32)v < -128 || (gint32)v > 255)
            return xdr_fail(error, where, "char value %d out of range", (gint32)v);
        *(char *)dst = (char)v;
        return TRUE;
    case XDR_KIND_STRING:
        return decode_string(r, max, (char **)dst, where, error);
    case XDR_KIND_OSTRING:
        if (!read_u32(r, &v, where, error))
            return FALSE;
        if (v == 0)
            return TRUE;
        if (v != 1)
            return xdr_fail(error, where, "bad optional discriminant %u", v);
        return decode_string(r, max, (char **)dst, where, error);
    case XDR_KIND_STRUCT:
        return decode_struct(r, type, dst, error);
    case XDR_KIND_UNION:
        return decode_union(r, type, dst, error);
    }
    return xdr_fail(error, where, "corrupt type table");
}

static gboolean decode_array(XdrReader *r, const XdrField *f, guint32 count, guint8 *val,
                             XdrWhere *where, GError **error)
{
    const XdrType *type = f->type;

    /* The count was checked against the bytes left, so fixed-width elements need no checks. */
    switch ((XdrKind)type->kind) {
    case XDR_KIND_INT32:
    case XDR_KIND_UINT32:
        if (!reader_need(r, (guint64)count * 4, where, error))
            return FALSE;
        for (guint32 i = 0; i < count; i++) {
            guint32 v = load_u32(r->p + (gsize)i * 4);
            memcpy(val + (gsize)i * 4, &v, 4);
        }
        r->p += (gsize)count * 4;
        return TRUE;
    case XDR_KIND_INT64:
    case XDR_KIND_UINT64:
    case XDR_KIND_DOUBLE:
        if (!reader_need(r, (guint64)count * 8, where, error))
            return FALSE;
        for (guint32 i = 0; i < count; i++) {
            guint64 v = load_u64(r->p + (gsize)i * 8);
            memcpy(val + (gsize)i * 8, &v, 8);
        }
        r->p += (gsize)count * 8;
        return TRUE;
    default:
        for (guint32 i = 0; i < count; i++) {
            where->index = i;
            if (!decode_value(r, type, type->max, val + (gsize)i * type->size, where, error))
                return FALSE;
        }
        where->index = -1;
        return TRUE;
    }
}

static gboolean decode_field(XdrReader *r, const XdrType *owner, const XdrField *f, guint8 *base,
                             GError **error)
{
    XdrWhere where = {owner, f, -1};
    guint8 *at = base + f->offset;
    guint32 n;

    switch ((XdrShape)f->shape) {
    case XDR_SHAPE_ONE:
        return decode_value(r, f->type, f->max, at, &where, error);
    case XDR_SHAPE_OPTIONAL: {
        gpointer obj;

        if (!read_u32(r, &n, &where, error))
            return FALSE;
        if (n == 0)
            return TRUE;
        if (n != 1)
            return xdr_fail(error, &where, "bad optional discriminant %u", n);
        obj = g_malloc0(f->type->size);
        memcpy(at, &obj, sizeof(obj));
        return decode_value(r, f->type, f->type->max, obj, &where, error);
    }
    case XDR_SHAPE_FIXED:
        if (!reader_need(r, (guint64)f->max * f->type->min_wire, &where, error))
            return FALSE;
        return decode_array(r, f, f->max, at, &where, error);
    case XDR_SHAPE_VAR: {
        guint8 *val;

        if (!read_u32(r, &n, &where, error))
            return FALSE;
        if (n > f->max)
            return xdr_fail(error, &where, "%u elements exceed the maximum %u", n, f->max);
        /* Bound the allocation by what the remaining bytes can possibly hold. */
        if ((guint64)n * f->type->min_wire > reader_left(r))
            return xdr_fail(error, &where, "%u elements cannot fit in the %zu bytes left", n,
                            reader_left(r));
        if (n == 0)
            return TRUE;
        /* One spare zeroed element NUL-terminates char arrays such as security labels. */
        val = g_malloc0_n((gsize)n + (f->type->kind == XDR_KIND_CHAR), f->type->size);
        memcpy(at, &n, sizeof(n));
        memcpy(base + f->val_offset, &val, sizeof(val));
        return decode_array(r, f, n, val, &where, error);
    }
    case XDR_SHAPE_OPAQUE_FIXED:
        if (!reader_need(r, pad4(f->max), &where, error))
            return FALSE;
        memcpy(at, r->p, f->max);
        r->p += pad4(f->max);
        return TRUE;
    case XDR_SHAPE_OPAQUE_VAR: {
        guint8 *val;

        if (!read_u32(r, &n, &where, error))
            return FALSE;
        if (n > f->max)
            return xdr_fail(error, &where, "opaque length %u exceeds the maximum %u", n, f->max);
        if (!reader_need(r, pad4(n), &where, error))
            return FALSE;
        if (n == 0)
            return TRUE;
        val = g_memdup2(r->p, n);
        memcpy(at, &n, sizeof(n));
        memcpy(base + f->val_offset, &val, sizeof(val));
        r->p += pad4(n);
        return TRUE;
    }
    }
    return xdr_fail(error, &where, "corrupt type table");
}

static gboolean decode_struct(XdrReader *r, const XdrType *type, guint8 *base, GError **error)
{
    for (guint32 i = 0; i < type->n_fields; i++) {
        if (!decode_field(r, type, &type->fields[i], base, error))
            return FALSE;
    }
    return TRUE;
}

static gboolean decode_union(XdrReader *r, const XdrType *type, guint8 *base, GError **error)
{
    XdrWhere where = {type, NULL, -1};
    const XdrField *arm;
    guint32 d;

    if (!read_u32(r, &d, &where, error))
        return FALSE;
    arm = union_arm(type, (gint32)d);
    if (!arm)
        return xdr_fail(error, &where, "unknown union arm %d", (gint32)d);
    memcpy(base, &d, sizeof(d));
    return decode_field(r, type, arm, base, error);
}

gboolean xdr_decode(const XdrType *type, const guint8 *data, gsize len, gpointer out,
                    GError **error)
{
    static const guint8 empty[1];
    XdrReader r;
    gboolean ok;

    if (!type) {
        if (len == 0)
            return TRUE;
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_RPC, "%zu bytes where none were expected", len);
        return FALSE;
    }
    g_return_val_if_fail(out != NULL, FALSE);
    r.p = data ? data : empty;
    r.end = r.p + len;
    if (type->kind == XDR_KIND_UNION)
        ok = decode_union(&r, type, out, error);
    else if (type->kind == XDR_KIND_STRUCT)
        ok = decode_struct(&r, type, out, error);
    else
        ok = decode_value(&r, type, type->max, out, &(XdrWhere){type, NULL, -1}, error);
    if (ok && r.p != r.end) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_RPC, "%s: %zu trailing bytes", type->name,
                    reader_left(&r));
        ok = FALSE;
    }
    if (!ok)
        xdr_clear(type, out);
    return ok;
}

/* ------------------------------------------------------------------ encoding */

static gsize size_struct(const XdrType *type, const guint8 *base);
static gsize size_field(const XdrField *f, const guint8 *base);

static inline const char *get_str(const guint8 *p)
{
    const char *s;

    memcpy(&s, p, sizeof(s));
    return s;
}

static inline gconstpointer get_ptr(const guint8 *p)
{
    gconstpointer v;

    memcpy(&v, p, sizeof(v));
    return v;
}

static gsize size_value(const XdrType *type, const guint8 *src)
{
    const char *s;

    switch ((XdrKind)type->kind) {
    case XDR_KIND_INT32:
    case XDR_KIND_UINT32:
    case XDR_KIND_BOOL:
    case XDR_KIND_CHAR:
        return 4;
    case XDR_KIND_INT64:
    case XDR_KIND_UINT64:
    case XDR_KIND_DOUBLE:
        return 8;
    case XDR_KIND_STRING:
        s = get_str(src);
        return 4 + pad4(s ? strlen(s) : 0);
    case XDR_KIND_OSTRING:
        s = get_str(src);
        return s ? 8 + pad4(strlen(s)) : 4;
    case XDR_KIND_STRUCT:
        return size_struct(type, src);
    case XDR_KIND_UNION: {
        gint32 d;
        const XdrField *arm;

        memcpy(&d, src, sizeof(d));
        arm = union_arm(type, d);
        return 4 + (arm ? size_field(arm, src) : 0);
    }
    }
    return 0;
}

/* Bytes per element when every element encodes alike, else 0. */
static inline gsize fixed_width(const XdrType *type)
{
    switch ((XdrKind)type->kind) {
    case XDR_KIND_INT32:
    case XDR_KIND_UINT32:
    case XDR_KIND_BOOL:
    case XDR_KIND_CHAR:
        return 4;
    case XDR_KIND_INT64:
    case XDR_KIND_UINT64:
    case XDR_KIND_DOUBLE:
        return 8;
    default:
        return 0;
    }
}

static gsize size_elements(const XdrType *type, const guint8 *val, guint32 count)
{
    gsize width = fixed_width(type);
    gsize total = 0;

    if (width)
        return width * count;
    for (guint32 i = 0; i < count; i++)
        total += size_value(type, val + (gsize)i * type->size);
    return total;
}

static inline guint32 get_u32(const guint8 *p)
{
    guint32 v;

    memcpy(&v, p, sizeof(v));
    return v;
}

static gsize size_field(const XdrField *f, const guint8 *base)
{
    const guint8 *at = base + f->offset;
    gconstpointer p;

    switch ((XdrShape)f->shape) {
    case XDR_SHAPE_ONE:
        return size_value(f->type, at);
    case XDR_SHAPE_OPTIONAL:
        p = get_ptr(at);
        return 4 + (p ? size_value(f->type, p) : 0);
    case XDR_SHAPE_FIXED:
        return size_elements(f->type, at, f->max);
    case XDR_SHAPE_VAR:
        p = get_ptr(base + f->val_offset);
        return 4 + (p ? size_elements(f->type, p, get_u32(at)) : 0);
    case XDR_SHAPE_OPAQUE_FIXED:
        return pad4(f->max);
    case XDR_SHAPE_OPAQUE_VAR:
        p = get_ptr(base + f->val_offset);
        return 4 + (p ? pad4(get_u32(at)) : 0);
    }
    return 0;
}

static gsize size_struct(const XdrType *type, const guint8 *base)
{
    gsize total = 0;

    for (guint32 i = 0; i < type->n_fields; i++)
        total += size_field(&type->fields[i], base);
    return total;
}

gsize xdr_encoded_size(const XdrType *type, gconstpointer in)
{
    if (!type)
        return 0;
    return size_value(type, in);
}

static void encode_field(const XdrField *f, const guint8 *base, guint8 **w);

static void put_bytes(guint8 **w, const void *data, gsize len)
{
    gsize padded = pad4(len);

    if (len)
        memcpy(*w, data, len);
    memset(*w + len, 0, padded - len);
    *w += padded;
}

static void encode_string(const char *s, guint8 **w)
{
    gsize len = s ? strlen(s) : 0;

    store_u32(w, (guint32)len);
    put_bytes(w, s, len);
}

static void encode_value(const XdrType *type, const guint8 *src, guint8 **w)
{
    guint32 v;
    guint64 v64;

    switch ((XdrKind)type->kind) {
    case XDR_KIND_INT32:
    case XDR_KIND_UINT32:
    case XDR_KIND_BOOL:
        memcpy(&v, src, sizeof(v));
        store_u32(w, v);
        return;
    case XDR_KIND_CHAR:
        /* rpcgen widens a (signed) char */
        store_u32(w, (guint32)(gint32)(gint8) * (const char *)src);
        return;
    case XDR_KIND_INT64:
    case XDR_KIND_UINT64:
    case XDR_KIND_DOUBLE:
        memcpy(&v64, src, sizeof(v64));
        store_u64(w, v64);
        return;
    case XDR_KIND_STRING:
        encode_string(get_str(src), w);
        return;
    case XDR_KIND_OSTRING: {
        const char *s = get_str(src);

        store_u32(w, s != NULL);
        if (s)
            encode_string(s, w);
        return;
    }
    case XDR_KIND_STRUCT:
        for (guint32 i = 0; i < type->n_fields; i++)
            encode_field(&type->fields[i], src, w);
        return;
    case XDR_KIND_UNION: {
        gint32 d;
        const XdrField *arm;

        memcpy(&d, src, sizeof(d));
        store_u32(w, (guint32)d);
        arm = union_arm(type, d);
        if (arm)
            encode_field(arm, src, w);
        else
            g_critical("%s: no arm for discriminant %d", type->name, d);
        return;
    }
    }
}

static void encode_elements(const XdrType *type, const guint8 *val, guint32 count, guint8 **w)
{
    switch ((XdrKind)type->kind) {
    case XDR_KIND_INT32:
    case XDR_KIND_UINT32:
        for (guint32 i = 0; i < count; i++) {
            guint32 v;

            memcpy(&v, val + (gsize)i * 4, 4);
            store_u32(w, v);
        }
        return;
    default:
        for (guint32 i = 0; i < count; i++)
            encode_value(type, val + (gsize)i * type->size, w);
        return;
    }
}

static void encode_field(const XdrField *f, const guint8 *base, guint8 **w)
{
    const guint8 *at = base + f->offset;
    gconstpointer p;
    guint32 n;

    switch ((XdrShape)f->shape) {
    case XDR_SHAPE_ONE:
        encode_value(f->type, at, w);
        return;
    case XDR_SHAPE_OPTIONAL:
        p = get_ptr(at);
        store_u32(w, p != NULL);
        if (p)
            encode_value(f->type, p, w);
        return;
    case XDR_SHAPE_FIXED:
        encode_elements(f->type, at, f->max, w);
        return;
    case XDR_SHAPE_VAR:
        p = get_ptr(base + f->val_offset);
        n = p ? get_u32(at) : 0;
        store_u32(w, n);
        encode_elements(f->type, p, n, w);
        return;
    case XDR_SHAPE_OPAQUE_FIXED:
        put_bytes(w, at, f->max);
        return;
    case XDR_SHAPE_OPAQUE_VAR:
        p = get_ptr(base + f->val_offset);
        n = p ? get_u32(at) : 0;
        store_u32(w, n);
        put_bytes(w, p, n);
        return;
    }
}

void xdr_encode(const XdrType *type, gconstpointer in, GByteArray *out)
{
    gsize size, start;
    guint8 *w;

    if (!type)
        return;
    g_return_if_fail(in != NULL && out != NULL);
    /* Measure first so the buffer grows once and the writer needs no bounds checks. */
    size = xdr_encoded_size(type, in);
    start = out->len;
    g_return_if_fail(size <= G_MAXUINT - start);
    g_byte_array_set_size(out, (guint)(start + size));
    w = out->data + start;
    encode_value(type, in, &w);
    g_assert(w == out->data + start + size);
}

/* ------------------------------------------------------------------ freeing */

static void clear_field(const XdrField *f, guint8 *base);

static inline gboolean type_owns_memory(const XdrType *type)
{
    return type->kind == XDR_KIND_STRING || type->kind == XDR_KIND_OSTRING ||
           type->kind == XDR_KIND_STRUCT || type->kind == XDR_KIND_UNION;
}

static void clear_value(const XdrType *type, guint8 *p)
{
    switch ((XdrKind)type->kind) {
    case XDR_KIND_STRING:
    case XDR_KIND_OSTRING: {
        char *s;

        memcpy(&s, p, sizeof(s));
        g_free(s);
        return;
    }
    case XDR_KIND_STRUCT:
        for (guint32 i = 0; i < type->n_fields; i++)
            clear_field(&type->fields[i], p);
        return;
    case XDR_KIND_UNION: {
        gint32 d;
        const XdrField *arm;

        memcpy(&d, p, sizeof(d));
        arm = union_arm(type, d);
        if (arm)
            clear_field(arm, p);
        return;
    }
    default:
        return;
    }
}

static void clear_field(const XdrField *f, guint8 *base)
{
    guint8 *at = base + f->offset;
    guint8 *p;

    switch ((XdrShape)f->shape) {
    case XDR_SHAPE_ONE:
        clear_value(f->type, at);
        return;
    case XDR_SHAPE_OPTIONAL:
        memcpy(&p, at, sizeof(p));
        if (p) {
            clear_value(f->type, p);
            g_free(p);
        }
        return;
    case XDR_SHAPE_FIXED:
        if (type_owns_memory(f->type)) {
            for (guint32 i = 0; i < f->max; i++)
                clear_value(f->type, at + (gsize)i * f->type->size);
        }
        return;
    case XDR_SHAPE_VAR:
        memcpy(&p, base + f->val_offset, sizeof(p));
        if (p && type_owns_memory(f->type)) {
            guint32 n = get_u32(at);

            for (guint32 i = 0; i < n; i++)
                clear_value(f->type, p + (gsize)i * f->type->size);
        }
        g_free(p);
        return;
    case XDR_SHAPE_OPAQUE_FIXED:
        return;
    case XDR_SHAPE_OPAQUE_VAR:
        memcpy(&p, base + f->val_offset, sizeof(p));
        g_free(p);
        return;
    }
}

void xdr_clear(const XdrType *type, gpointer obj)
{
    if (!type || !obj)
        return;
    clear_value(type, obj);
    memset(obj, 0, type->size);
}
