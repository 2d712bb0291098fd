/* <title>, <description> and namespaced <metadata>, with libvirt's get/set API. */
#include "domain-internal.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <string.h>

static void metadata_item_free(gpointer p)
{
    HearthMetadataItem *m = p;

    g_free(m->ns_uri);
    g_free(m->xml);
    g_free(m);
}

static void metadata_add(HearthDomainDef *def, XNode *node)
{
    HearthMetadataItem *m = g_new0(HearthMetadataItem, 1);

    if (!def->metadata)
        def->metadata = g_ptr_array_new_with_free_func(metadata_item_free);
    m->ns_uri = node->ns ? g_strdup((const char *)node->ns->href) : NULL;
    m->xml = xml_node_serialize(node, TRUE);
    g_ptr_array_add(def->metadata, m);
}

gboolean domain_metadata_parse(XNode *node, HearthDomainDef *def, GError **error)
{
    XNode *c;

    XML_FOREACH_CHILD(node, c)
    metadata_add(def, c);
    return TRUE;
}

void domain_metadata_format(GString *buf, int level, const HearthDomainDef *def)
{
    guint i;

    if (!def->metadata || def->metadata->len == 0)
        return;
    xml_buf_indent(buf, level);
    g_string_append(buf, "<metadata>\n");
    for (i = 0; i < def->metadata->len; i++) {
        const HearthMetadataItem *m = g_ptr_array_index(def->metadata, i);

        xml_buf_fragment(buf, level + 1, m->xml);
    }
    xml_buf_indent(buf, level);
    g_string_append(buf, "</metadata>\n");
}

static int metadata_find(const HearthDomainDef *def, const char *uri)
{
    guint i;

    for (i = 0; def->metadata && i < def->metadata->len; i++) {
        const HearthMetadataItem *m = g_ptr_array_index(def->metadata, i);

        if (g_strcmp0(m->ns_uri, uri) == 0)
            return (int)i;
    }
    return -1;
}

static void strip_namespace(xmlNodePtr node, const char *uri)
{
    for (; node; node = node->next) {
        if (node->type != XML_ELEMENT_NODE)
            continue;
        if (node->ns && node->ns->href && g_str_equal((const char *)node->ns->href, uri))
            node->ns = NULL;
        for (xmlAttrPtr a = node->properties; a; a = a->next) {
            if (a->ns && a->ns->href && g_str_equal((const char *)a->ns->href, uri))
                a->ns = NULL;
        }
        strip_namespace(node->children, uri);
    }
}

/* libvirt hands a metadata element back without its namespace: the caller asked for that
 * namespace by URI and chose the prefix only when storing. */
static char *metadata_without_namespace(const char *xml, const char *uri)
{
    xmlDocPtr doc =
        xmlReadMemory(xml, (int)strlen(xml), NULL, "UTF-8", XML_PARSE_NONET | XML_PARSE_NOBLANKS);
    xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;
    xmlNsPtr *link;
    xmlBufferPtr buf;
    char *out;

    if (!root) {
        xmlFreeDoc(doc);
        return g_strdup(xml);
    }
    strip_namespace(root, uri);
    for (link = &root->nsDef; *link;) {
        xmlNsPtr ns = *link;
        if (ns->href && g_str_equal((const char *)ns->href, uri)) {
            *link = ns->next;
            ns->next = NULL;
            xmlFreeNs(ns);
        } else {
            link = &ns->next;
        }
    }
    buf = xmlBufferCreate();
    xmlNodeDump(buf, doc, root, 0, 1);
    out = g_strdup((const char *)xmlBufferContent(buf));
    xmlBufferFree(buf);
    xmlFreeDoc(doc);
    return out;
}

char *domain_def_get_metadata(const HearthDomainDef *def, int type, const char *uri, GError **error)
{
    const char *found = NULL;
    int i;

    switch (type) {
    case DOMAIN_METADATA_DESCRIPTION:
        found = def->description;
        break;
    case DOMAIN_METADATA_TITLE:
        found = def->title;
        break;
    case DOMAIN_METADATA_ELEMENT:
        if (!uri) {
            conf_error(error, HEARTH_ERR_INVALID_ARG,
                       _("a namespace URI is required to get a metadata element"));
            return NULL;
        }
        i = metadata_find(def, uri);
        if (i >= 0)
            found = ((HearthMetadataItem *)g_ptr_array_index(def->metadata, i))->xml;
        break;
    default:
        conf_error(error, HEARTH_ERR_INVALID_ARG, _("unknown metadata type %d"), type);
        return NULL;
    }
    if (!found) {
        conf_error(error, HEARTH_ERR_NO_DOMAIN_METADATA,
                   _("Requested metadata element is not present"));
        return NULL;
    }
    if (type == DOMAIN_METADATA_ELEMENT)
        return metadata_without_namespace(found, uri);
    return g_strdup(found);
}

static gboolean metadata_set_element(HearthDomainDef *def, const char *metadata, const char *key,
                                     const char *uri, GError **error)
{
    g_autoptr(XDoc) doc = NULL;
    XNode *root;
    XNs *ns;
    int i;

    if (!uri) {
        conf_error(error, HEARTH_ERR_INVALID_ARG,
                   _("a namespace URI is required to set a metadata element"));
        return FALSE;
    }
    if (metadata && *metadata) {
        if (!key || xmlValidateNCName((const xmlChar *)key, 0) != 0) {
            conf_error(error, HEARTH_ERR_INVALID_ARG,
                       _("invalid metadata key '%s': expected an XML namespace prefix"),
                       key ? key : "");
            return FALSE;
        }
    }
    while ((i = metadata_find(def, uri)) >= 0)
        g_ptr_array_remove_index(def->metadata, (guint)i);
    if (!metadata || !*metadata)
        return TRUE;

    doc = xml_safe_parse(metadata, strlen(metadata), error);
    if (!doc)
        return FALSE;
    root = doc->root;
    /* The element goes into @uri under prefix @key, whatever it declared itself. */
    for (ns = root->nsDef; ns; ns = ns->next) {
        if (ns->prefix && strcmp(ns->prefix, key) == 0)
            break;
    }
    if (!ns) {
        ns = xdoc_alloc(doc, sizeof(XNs));
        ns->prefix = xdoc_strndup(doc, key, strlen(key));
        ns->next = root->nsDef;
        root->nsDef = ns;
    }
    ns->href = xdoc_strndup(doc, uri, strlen(uri));
    root->ns = ns;
    metadata_add(def, root);
    return TRUE;
}

/* Text must survive formatting as XML: UTF-8 without control characters. */
static gboolean metadata_text_ok(const char *text, GError **error)
{
    const char *p;

    if (!text)
        return TRUE;
    if (!g_utf8_validate(text, -1, NULL)) {
        conf_error(error, HEARTH_ERR_INVALID_ARG, _("metadata is not valid UTF-8"));
        return FALSE;
    }
    for (p = text; *p; p++) {
        if ((guchar)*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r') {
            conf_error(error, HEARTH_ERR_INVALID_ARG,
                       _("metadata must not contain control characters"));
            return FALSE;
        }
    }
    return TRUE;
}

gboolean domain_def_set_metadata(HearthDomainDef *def, int type, const char *metadata,
                                 const char *key, const char *uri, GError **error)
{
    if (type != DOMAIN_METADATA_ELEMENT && !metadata_text_ok(metadata, error))
        return FALSE;
    switch (type) {
    case DOMAIN_METADATA_DESCRIPTION:
        g_free(def->description);
        def->description = (metadata && *metadata) ? g_strdup(metadata) : NULL;
        return TRUE;
    case DOMAIN_METADATA_TITLE:
        if (metadata && strchr(metadata, '\n')) {
            conf_error(error, HEARTH_ERR_INVALID_ARG, _("title can't contain newlines"));
            return FALSE;
        }
        g_free(def->title);
        def->title = (metadata && *metadata) ? g_strdup(metadata) : NULL;
        return TRUE;
    case DOMAIN_METADATA_ELEMENT:
        return metadata_set_element(def, metadata, key, uri, error);
    default:
        conf_error(error, HEARTH_ERR_INVALID_ARG, _("unknown metadata type %d"), type);
        return FALSE;
    }
}
