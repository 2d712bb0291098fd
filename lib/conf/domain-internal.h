/* Helpers shared by the lib/conf implementation files; not part of the public API. */
#pragma once

#include <glib.h>
#include <glib/gi18n-lib.h>
#include "xml-tree.h"
#include <string.h>

#include "domain-def.h"
#include "hearth-error.h"
#include "xml-extra.h"

G_BEGIN_DECLS

/* ---- xml-safe.c: hardened parsing ---- */
#define XML_SAFE_MAX_SIZE (4u * 1024 * 1024)
#define XML_SAFE_MAX_DEPTH 64
/* Into the light tree of xml-tree.h (what the domain parser reads). */
XDoc *xml_safe_parse(const char *xml, gsize len, GError **error);
/* Into a libxml2 tree, for RelaxNG validation. */
struct _xmlDoc *xml_safe_parse_libxml(const char *xml, gsize len, GError **error);

/* ---- domain-schema.c ---- */
gboolean domain_schema_validate(const char *xml, gsize len, GError **error);

/* ---- xml-util.c: tree walking without XPath ---- */
static inline gboolean xml_is(XNode *node, const char *name)
{
    return node->ns == NULL && strcmp((const char *)node->name, name) == 0;
}

XNode *xml_first_element(XNode *parent);
XNode *xml_next_element(XNode *node);
XNode *xml_walk_children(XNode *parent); /* first child element; marks @parent walked */
#define XML_FOREACH_CHILD(parent, c) for (c = xml_walk_children(parent); c; c = xml_next_element(c))
/* Error if an element whose children were walked has text nobody read. */
gboolean xml_check_stray_text(XNode *node, GError **error);

const char *xml_prop(XNode *node, const char *name); /* borrowed, NULL if absent */
char *xml_prop_dup(XNode *node, const char *name);
char *xml_text_dup(XNode *node); /* concatenated text content, never NULL */
int xml_line(XNode *node);
/* TRUE if @node has no child elements and no attributes outside @known. */
gboolean xml_is_simple(XNode *node, const char *const *known);

void conf_error(GError **error, int code, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

/* Parse helpers: on failure set an error naming @elem/@attr and the value. */
gboolean conf_parse_uint(const char *s, guint64 max, guint64 *out);
gboolean conf_prop_uint(XNode *node, const char *attr, guint64 max, guint64 *out, GError **error);
gboolean conf_prop_tristate(XNode *node, const char *attr, gboolean onoff, HearthTristate *out,
                            GError **error);
gboolean conf_prop_enum(XNode *node, const char *attr, const char *const *values, gboolean required,
                        char **out, GError **error);
int conf_enum_index(const char *const *values, const char *s);
const char *conf_tristate_str(HearthTristate t, gboolean onoff);
gboolean conf_memory_to_kib(const char *value, const char *unit, const char *default_unit,
                            const char *elem, guint64 *kib, GError **error);
gboolean conf_parse_memory(XNode *node, const char *unit_attr, const char *default_unit,
                           guint64 *kib, GError **error);
gboolean conf_cpuset_check(const char *s);

/* Known attribute lists end with NULL. */
#define CONF_ATTRS(...) ((const char *const[]){__VA_ARGS__, NULL})

/* ---- domain-devices.c ---- */
/* Returns 1 when @c was <alias>, <boot> (if @boot_ok) or <address>, 0 if not, -1 on error. */
int device_info_parse_child(HearthDeviceInfo *info, XNode *c, gboolean boot_ok, GError **error);
void device_info_format(GString *buf, int level, const HearthDeviceInfo *info, guint flags);
/* boot, alias, the verbatim children, then address: libvirt's order, and a repeated
 * element always stays behind the modeled one so re-parsing is stable. */
void device_tail_format(GString *buf, int level, const HearthDeviceInfo *info,
                        const HearthXmlExtra *extra, guint flags);
void device_info_clear(HearthDeviceInfo *info);
HearthDomainDevice *domain_device_parse(XNode *node, GError **error);
void domain_device_format(GString *buf, int level, const HearthDomainDevice *dev, guint flags);
guint domain_device_boot_order(const HearthDomainDevice *dev);

gboolean disk_parse(XNode *node, HearthDomainDisk *disk, GError **error);
void disk_format(GString *buf, int level, const HearthDomainDisk *disk, guint flags);
void disk_free(HearthDomainDisk *disk);

gboolean net_parse(XNode *node, HearthDomainInterface *net, GError **error);
void net_format(GString *buf, int level, const HearthDomainInterface *net, guint flags);
void net_free(HearthDomainInterface *net);

gboolean chr_parse(XNode *node, HearthDomainChr *chr, GError **error);
void chr_format(GString *buf, int level, const HearthDomainChr *chr, guint flags);
void chr_free(HearthDomainChr *chr);

gboolean graphics_parse(XNode *node, HearthDomainGraphics *gr, GError **error);
void graphics_format(GString *buf, int level, const HearthDomainGraphics *gr, guint flags);
void graphics_free(HearthDomainGraphics *gr);

gboolean controller_parse(XNode *node, HearthDomainController *ctl, GError **error);
void controller_format(GString *buf, int level, const HearthDomainController *ctl, guint flags);
void controller_free(HearthDomainController *ctl);
gboolean input_parse(XNode *node, HearthDomainInput *in, GError **error);
void input_format(GString *buf, int level, const HearthDomainInput *in, guint flags);
void input_free(HearthDomainInput *in);
gboolean video_parse(XNode *node, HearthDomainVideo *video, GError **error);
void video_format(GString *buf, int level, const HearthDomainVideo *video, guint flags);
void video_free(HearthDomainVideo *video);
gboolean sound_parse(XNode *node, HearthDomainSound *sound, GError **error);
void sound_format(GString *buf, int level, const HearthDomainSound *sound, guint flags);
void sound_free(HearthDomainSound *sound);
gboolean memballoon_parse(XNode *node, HearthDomainMemballoon *mb, GError **error);
void memballoon_format(GString *buf, int level, const HearthDomainMemballoon *mb, guint flags);
void memballoon_free(HearthDomainMemballoon *mb);
gboolean rng_parse(XNode *node, HearthDomainRng *rng, GError **error);
void rng_format(GString *buf, int level, const HearthDomainRng *rng, guint flags);
void rng_free(HearthDomainRng *rng);

/* ---- domain-parse-*.c: top-level sections ---- */
gboolean domain_os_parse(XNode *node, HearthDomainOs *os, GError **error);
void domain_os_format(GString *buf, int level, const HearthDomainOs *os);
void domain_os_clear(HearthDomainOs *os);
gboolean domain_features_parse(XNode *node, HearthDomainFeatures *f, GError **error);
void domain_features_format(GString *buf, int level, const HearthDomainFeatures *f);
void domain_features_clear(HearthDomainFeatures *f);
gboolean domain_cpu_parse(XNode *node, HearthDomainCpu *cpu, GError **error);
void domain_cpu_format(GString *buf, int level, const HearthDomainCpu *cpu);
void domain_cpu_clear(HearthDomainCpu *cpu);
gboolean domain_clock_parse(XNode *node, HearthDomainClock *clock, GError **error);
void domain_clock_format(GString *buf, int level, const HearthDomainClock *clock);
void domain_clock_clear(HearthDomainClock *clock);
gboolean domain_membacking_parse(XNode *node, HearthDomainMemoryBacking *mb, GError **error);
void domain_membacking_format(GString *buf, int level, const HearthDomainMemoryBacking *mb);
void domain_membacking_clear(HearthDomainMemoryBacking *mb);

/* ---- domain-metadata.c ---- */
gboolean domain_metadata_parse(XNode *node, HearthDomainDef *def, GError **error);
void domain_metadata_format(GString *buf, int level, const HearthDomainDef *def);

G_END_DECLS
