/* Table-driven XDR (RFC 4506, as rpcgen encodes it) for the structs that
 * gen-protocol.py generates: one interpreter instead of per-message code. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct XdrType XdrType;
typedef struct XdrField XdrField;

typedef enum {
    XDR_KIND_INT32,   /* gint32 */
    XDR_KIND_UINT32,  /* guint32 */
    XDR_KIND_BOOL,    /* gint32, 0 or 1 on the wire */
    XDR_KIND_INT64,   /* gint64 */
    XDR_KIND_UINT64,  /* guint64 */
    XDR_KIND_DOUBLE,  /* gdouble */
    XDR_KIND_CHAR,    /* char; an element of char x[N] and char x<N>, 4 bytes on the wire */
    XDR_KIND_STRING,  /* char *, never NULL after decoding */
    XDR_KIND_OSTRING, /* char *, NULL when absent */
    XDR_KIND_STRUCT,
    XDR_KIND_UNION, /* gint32 discriminant first, then the arms */
} XdrKind;

typedef enum {
    XDR_SHAPE_ONE,          /* T at offset */
    XDR_SHAPE_OPTIONAL,     /* T * at offset, NULL when absent */
    XDR_SHAPE_FIXED,        /* T[max] at offset */
    XDR_SHAPE_VAR,          /* guint32 count at offset, T * at val_offset */
    XDR_SHAPE_OPAQUE_FIXED, /* guint8[max] at offset */
    XDR_SHAPE_OPAQUE_VAR,   /* guint32 length at offset, guint8 * at val_offset */
} XdrShape;

struct XdrField {
    const char *name;
    const XdrType *type; /* element type; NULL for opaque shapes */
    guint32 offset;
    guint32 val_offset;
    guint32 max;   /* string bytes (ONE), element count (FIXED, VAR), bytes (OPAQUE) */
    guint16 shape; /* XdrShape */
    gint32 arm;    /* union arms: the discriminant value selecting this field */
};

struct XdrType {
    const char *name;
    guint32 kind;     /* XdrKind */
    guint32 size;     /* sizeof the C representation */
    guint32 min_wire; /* fewest bytes an encoding can take: bounds counts before allocating */
    guint32 n_fields; /* struct fields or union arms */
    const XdrField *fields;
    guint32 max; /* strings: length limit when they are array elements */
};

extern const XdrType xdr_int32_type;
extern const XdrType xdr_uint32_type;
extern const XdrType xdr_bool_type;
extern const XdrType xdr_int64_type;
extern const XdrType xdr_uint64_type;
extern const XdrType xdr_double_type;
extern const XdrType xdr_char_type;
extern const XdrType xdr_string_type;
extern const XdrType xdr_ostring_type;

/* sizeof the C struct; 0 for NULL (void). */
gsize xdr_type_size(const XdrType *type);

/* Decode exactly len bytes into *out, which must be zeroed memory of xdr_type_size(type).
 * Every length and count is checked against its maximum and against the bytes left before
 * anything is allocated. Trailing bytes, a string with an embedded NUL, a bad optional or
 * bool discriminant and an unknown union arm fail with HEARTH_ERROR/HEARTH_ERR_RPC and a
 * message naming the type and field; *out is then left cleared. type NULL means void:
 * only len 0 is accepted. */
gboolean xdr_decode(const XdrType *type, const guint8 *data, gsize len, gpointer out,
                    GError **error);

/* Append the encoding of *in to out. A NULL char * in a non-optional string encodes as "". */
void xdr_encode(const XdrType *type, gconstpointer in, GByteArray *out);

/* How many bytes xdr_encode() would append. */
gsize xdr_encoded_size(const XdrType *type, gconstpointer in);

/* Free everything *obj owns (g_free, recursively) and zero it. NULL type or obj: no-op. */
void xdr_clear(const XdrType *type, gpointer obj);

G_END_DECLS
