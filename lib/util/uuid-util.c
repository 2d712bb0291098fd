#include "uuid-util.h"

#include <string.h>

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

gboolean hearth_uuid_parse(const char *str, guint8 uuid[HEARTH_UUID_LEN])
{
    guint8 tmp[HEARTH_UUID_LEN];
    gsize n = 0;
    const char *p = str;

    if (!str)
        return FALSE;
    while (g_ascii_isspace(*p))
        p++;
    while (*p && n < HEARTH_UUID_LEN) {
        int hi, lo;

        if (*p == '-') {
            p++;
            continue;
        }
        hi = hex_value(p[0]);
        if (hi < 0)
            return FALSE;
        lo = hex_value(p[1]);
        if (lo < 0)
            return FALSE;
        tmp[n++] = (guint8)(hi << 4 | lo);
        p += 2;
    }
    while (g_ascii_isspace(*p))
        p++;
    if (n != HEARTH_UUID_LEN || *p != '\0')
        return FALSE;
    memcpy(uuid, tmp, sizeof(tmp));
    return TRUE;
}

void hearth_uuid_format(const guint8 uuid[HEARTH_UUID_LEN], char out[HEARTH_UUID_STRING_LEN])
{
    g_snprintf(out, HEARTH_UUID_STRING_LEN,
               "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", uuid[0],
               uuid[1], uuid[2], uuid[3], uuid[4], uuid[5], uuid[6], uuid[7], uuid[8], uuid[9],
               uuid[10], uuid[11], uuid[12], uuid[13], uuid[14], uuid[15]);
}

void hearth_uuid_generate(guint8 uuid[HEARTH_UUID_LEN])
{
    g_autofree char *s = g_uuid_string_random();

    if (!hearth_uuid_parse(s, uuid))
        g_assert_not_reached();
}

gboolean hearth_uuid_is_null(const guint8 uuid[HEARTH_UUID_LEN])
{
    static const guint8 zero[HEARTH_UUID_LEN];

    return memcmp(uuid, zero, HEARTH_UUID_LEN) == 0;
}

guint hearth_uuid_hash(gconstpointer uuid)
{
    guint32 w[HEARTH_UUID_LEN / 4];
    guint32 h;

    /* Every byte counts: hand-written UUIDs often differ only at the end (…-000000000001,
     * …-000000000002), and hashing a prefix made such tables degenerate into lists. */
    memcpy(w, uuid, sizeof(w));
    h = w[0] ^ (w[1] * 0x9e3779b1u) ^ (w[2] * 0x85ebca77u) ^ (w[3] * 0xc2b2ae3du);
    h ^= h >> 16;
    h *= 0x7feb352du;
    h ^= h >> 15;
    return h;
}

gboolean hearth_uuid_equal(gconstpointer a, gconstpointer b)
{
    return memcmp(a, b, HEARTH_UUID_LEN) == 0;
}
