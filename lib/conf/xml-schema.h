/* Validation against our RelaxNG schemas in xml-schemas/ (define --validate and friends): each
 * schema compiled once per process, libxml2's complaints gathered into one message. */
#pragma once

#include <glib.h>
#include <libxml/tree.h>

G_BEGIN_DECLS

/* A better explanation of why @doc is invalid than libxml2 gives, or NULL. */
typedef char *(*XmlSchemaExplainFunc)(xmlDocPtr doc);

typedef struct {
    const char *file; /* e.g. "domain.rng", looked up in the schema directory */
    XmlSchemaExplainFunc explain;
    GOnce once; /* the compiled schema */
} XmlSchema;

#define XML_SCHEMA_INIT(file, explain)                                                             \
    {                                                                                              \
        (file), (explain), G_ONCE_INIT                                                             \
    }

/* HEARTH_ERR_XML_INVALID_SCHEMA naming what is wrong (with line numbers), XML_ERROR for
 * malformed input, INTERNAL when the schema itself cannot be loaded. */
gboolean xml_schema_validate(XmlSchema *schema, const char *xml, gsize len, GError **error);

/* "Element P has extra content: C (line N)" for the first child of @parent whose name is not in
 * @known (a NULL-terminated list), as libvirt words it; NULL when all are known. libxml2 only
 * says "extra element in interleave" for these. */
char *xml_schema_unknown_child(xmlNodePtr parent, const char *const *known);

G_END_DECLS
