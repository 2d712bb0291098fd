/* A small read-only XML tree built straight from libxml2's SAX events into one arena.
 * libxml2's own tree costs two to three mallocs per node and dominated parse time; this
 * one keeps only what the domain parser reads. Field names follow libxml2's xmlNode. */
#pragma once

#include <glib.h>
#include <libxml/xmlstring.h>
#include <libxml/dict.h>

G_BEGIN_DECLS

typedef struct XNs XNs;
struct XNs {
    const char *prefix; /* NULL for a default namespace */
    const char *href;
    XNs *next;
};

typedef struct XAttr XAttr;
struct XAttr {
    const char *name; /* local name */
    XNs *ns;
    const char *value; /* decoded */
    XAttr *next;
};

typedef enum {
    XNODE_ELEMENT,
    XNODE_TEXT,
} XNodeType;

typedef struct XNode XNode;
struct XNode {
    XNodeType type;
    const char *name; /* element local name; NULL for text */
    XNs *ns;          /* namespace of the element */
    XNs *nsDef;       /* namespace declarations on the element */
    XAttr *properties;
    XNode *parent, *children, *last, *next;
    const char *content; /* text, NUL-terminated */
    gsize content_len, content_cap;
    int line;
    /* Set by the domain parser, to find text it walked past without reading. */
    gboolean walked, text_read;
};

typedef struct XArenaBlock XArenaBlock;

typedef struct {
    XNode *root;
    XArenaBlock *blocks;
    xmlDictPtr dict; /* owns element and attribute names */
} XDoc;

XDoc *xdoc_new(xmlDictPtr dict);
void xdoc_free(XDoc *doc);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(XDoc, xdoc_free)

gpointer xdoc_alloc(XDoc *doc, gsize size); /* zeroed, lives as long as @doc */
const char *xdoc_strndup(XDoc *doc, const char *s, gsize len);

/* Tree building, called from the SAX handlers in xml-safe.c. */
typedef struct {
    XDoc *doc;
    XNode *current;
    int depth;
} XTreeBuilder;

void xtree_start_element(XTreeBuilder *b, const char *localname, const char *prefix,
                         int nb_namespaces, const char **namespaces, int nb_attributes,
                         const char **attributes, int line);
void xtree_end_element(XTreeBuilder *b);
void xtree_characters(XTreeBuilder *b, const char *text, int len);

G_END_DECLS
