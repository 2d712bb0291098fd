#include "xml-tree.h"

#include <string.h>

#define ARENA_BLOCK_SIZE 16384

struct XArenaBlock {
    XArenaBlock *next;
    gsize used, size;
    /* data follows, 16-byte aligned */
};

#define ARENA_HEADER ((sizeof(XArenaBlock) + 15) & ~(gsize)15)

XDoc *xdoc_new(xmlDictPtr dict)
{
    XDoc *doc = g_new0(XDoc, 1);

    doc->dict = dict;
    if (dict)
        xmlDictReference(dict);
    return doc;
}

void xdoc_free(XDoc *doc)
{
    XArenaBlock *b, *next;

    if (!doc)
        return;
    for (b = doc->blocks; b; b = next) {
        next = b->next;
        g_free(b);
    }
    if (doc->dict)
        xmlDictFree(doc->dict);
    g_free(doc);
}

gpointer xdoc_alloc(XDoc *doc, gsize size)
{
    XArenaBlock *b = doc->blocks;
    gpointer p;

    size = (size + 15) & ~(gsize)15;
    if (!b || b->size - b->used < size) {
        gsize bsize = MAX(ARENA_BLOCK_SIZE, size);

        b = g_malloc(ARENA_HEADER + bsize);
        b->used = 0;
        b->size = bsize;
        b->next = doc->blocks;
        doc->blocks = b;
    }
    p = (char *)b + ARENA_HEADER + b->used;
    b->used += size;
    memset(p, 0, size);
    return p;
}

const char *xdoc_strndup(XDoc *doc, const char *s, gsize len)
{
    char *p = xdoc_alloc(doc, len + 1);

    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

static XNs xml_namespace = {"xml", "http://www.w3.org/XML/1998/namespace", NULL};

/* The declaration in scope for @prefix (NULL: the default namespace). */
static XNs *xtree_search_ns(XNode *node, const char *prefix)
{
    if (prefix && strcmp(prefix, "xml") == 0)
        return &xml_namespace;
    for (; node; node = node->parent) {
        XNs *ns;

        for (ns = node->nsDef; ns; ns = ns->next) {
            if (g_strcmp0(ns->prefix, prefix) == 0)
                return ns->href && *ns->href ? ns : NULL; /* xmlns="" undeclares */
        }
    }
    return NULL;
}

/* Attribute values from libxml2 keep '&' as "&#38;" when entities are not replaced. */
static const char *xtree_attr_value(XDoc *doc, const char *start, const char *end)
{
    gsize len = (gsize)(end - start);
    char *out, *o;
    const char *p;

    if (!memchr(start, '&', len))
        return xdoc_strndup(doc, start, len);
    out = o = xdoc_alloc(doc, len + 1);
    for (p = start; p < end;) {
        if (end - p >= 5 && memcmp(p, "&#38;", 5) == 0) {
            *o++ = '&';
            p += 5;
        } else {
            *o++ = *p++;
        }
    }
    *o = '\0';
    return out;
}

void xtree_start_element(XTreeBuilder *b, const char *localname, const char *prefix,
                         int nb_namespaces, const char **namespaces, int nb_attributes,
                         const char **attributes, int line)
{
    XDoc *doc = b->doc;
    XNode *node = xdoc_alloc(doc, sizeof(XNode));
    XAttr **attr_tail = &node->properties;
    XNs **ns_tail = &node->nsDef;
    int i;

    node->type = XNODE_ELEMENT;
    node->name = localname;
    node->line = line;
    node->parent = b->current;
    for (i = 0; i < nb_namespaces; i++) {
        XNs *ns = xdoc_alloc(doc, sizeof(XNs));
        const char *href;

        ns->prefix = namespaces[2 * i];
        href = namespaces[2 * i + 1] ? namespaces[2 * i + 1] : "";
        /* like attribute values, URIs keep '&' as "&#38;" */
        ns->href = strchr(href, '&') ? xtree_attr_value(doc, href, href + strlen(href)) : href;
        *ns_tail = ns;
        ns_tail = &ns->next;
    }
    node->ns = xtree_search_ns(node, prefix);
    for (i = 0; i < nb_attributes; i++) {
        const char **a = attributes + 5 * i;
        XAttr *attr = xdoc_alloc(doc, sizeof(XAttr));

        attr->name = a[0];
        attr->ns = a[1] ? xtree_search_ns(node, a[1]) : NULL;
        attr->value = xtree_attr_value(doc, a[3], a[4]);
        *attr_tail = attr;
        attr_tail = &attr->next;
    }
    if (b->current) {
        if (b->current->last)
            b->current->last->next = node;
        else
            b->current->children = node;
        b->current->last = node;
    } else {
        doc->root = node;
    }
    b->current = node;
    b->depth++;
}

void xtree_end_element(XTreeBuilder *b)
{
    if (b->current)
        b->current = b->current->parent;
    b->depth--;
}

void xtree_characters(XTreeBuilder *b, const char *text, int len)
{
    XNode *parent = b->current;
    XNode *t;
    gsize need;

    if (!parent || len <= 0)
        return;
    t = parent->last;
    if (!t || t->type != XNODE_TEXT) {
        t = xdoc_alloc(b->doc, sizeof(XNode));
        t->type = XNODE_TEXT;
        t->parent = parent;
        t->content = xdoc_strndup(b->doc, text, (gsize)len);
        t->content_len = t->content_cap = (gsize)len;
        if (parent->last)
            parent->last->next = t;
        else
            parent->children = t;
        parent->last = t;
        return;
    }
    /* Text arrives in chunks: grow geometrically so long texts stay linear. */
    need = t->content_len + (gsize)len;
    if (need > t->content_cap) {
        gsize cap = MAX(need, t->content_cap * 2);
        char *grown = xdoc_alloc(b->doc, cap + 1);

        memcpy(grown, t->content, t->content_len);
        t->content = grown;
        t->content_cap = cap;
    }
    memcpy((char *)t->content + t->content_len, text, (gsize)len);
    t->content_len = need;
    ((char *)t->content)[need] = '\0';
}
