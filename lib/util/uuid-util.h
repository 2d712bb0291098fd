/* 16-byte UUIDs as libvirt carries them on the wire (remote_uuid = opaque[16]). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define HEARTH_UUID_LEN 16
#define HEARTH_UUID_STRING_LEN 37 /* 36 characters and the NUL */

/* Accepts the canonical 8-4-4-4-12 form (and, like libvirt, 32 bare hex digits). */
gboolean hearth_uuid_parse(const char *str, guint8 uuid[HEARTH_UUID_LEN]);
void hearth_uuid_format(const guint8 uuid[HEARTH_UUID_LEN], char out[HEARTH_UUID_STRING_LEN]);
void hearth_uuid_generate(guint8 uuid[HEARTH_UUID_LEN]);
gboolean hearth_uuid_is_null(const guint8 uuid[HEARTH_UUID_LEN]);

/* For GHashTables keyed by the 16 raw bytes. */
guint hearth_uuid_hash(gconstpointer uuid);
gboolean hearth_uuid_equal(gconstpointer a, gconstpointer b);

G_END_DECLS
