/* Unknown-content preservation: every modeled element keeps the attributes and child
 * elements we do not model, in document order, so formatting loses nothing. */
#pragma once

#include <glib.h>
#include "domain-def.h"
#include "xml-tree.h"

G_BEGIN_DECLS

void xml_extra_clear(HearthXmlExtra *extra);
void xml_extra_copy(HearthXmlExtra *dst, const HearthXmlExtra *src);
gboolean xml_extra_is_empty(const HearthXmlExtra *extra);
void xml_extra_add_attr(HearthXmlExtra *extra, const char *name, const char *value);
void xml_extra_add_child_xml(HearthXmlExtra *extra, char *xml); /* takes ownership */
void xml_extra_add_child(HearthXmlExtra *extra, XNode *node);
/* Keep every attribute of @node (and namespace declaration) whose name is not in the
 * NULL-terminated @known list. */
void xml_extra_collect_attrs(HearthXmlExtra *extra, XNode *node, const char *const *known);

/* Serialize an element subtree. Structural line breaks are "\n" with relative
 * indentation; newlines inside text or attribute values are written as character
 * references, so re-indenting is a plain replacement of "\n". When @self_contained,
 * every namespace the subtree uses is declared on its root; otherwise namespaces
 * declared on the document's root element are assumed to be in scope. */
char *xml_node_serialize(XNode *node, gboolean self_contained);

/* Output helpers: libvirt style, single-quoted attributes, 2-space indentation. */
void xml_buf_indent(GString *buf, int level);
void xml_buf_escape_attr(GString *buf, const char *value);
void xml_buf_escape_text(GString *buf, const char *text);
void xml_buf_attr(GString *buf, const char *name, const char *value); /* skips NULL */
void xml_buf_attr_uint(GString *buf, const char *name, guint64 value);
void xml_buf_text_element(GString *buf, int level, const char *name, const char *text);
void xml_buf_fragment(GString *buf, int level, const char *xml);
void xml_extra_format_attrs(GString *buf, const HearthXmlExtra *extra);
void xml_extra_format_children(GString *buf, int level, const HearthXmlExtra *extra);
/* Only the children named @name (when @named) or all others (when not). */
void xml_extra_format_children_named(GString *buf, int level, const HearthXmlExtra *extra,
                                     const char *name, gboolean named);
/* Whether serialized element @xml is a <@name> element. */
gboolean xml_fragment_is(const char *xml, const char *name);

G_END_DECLS
