/* Hardened parsing of client-supplied XML: no network, no DTDs or entity declarations,
 * bounded size and depth, errors collected into a GError and never printed. */
#include "domain-internal.h"

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/SAX2.h>

typedef struct {
    char *forbidden; /* message of a limit or construct we refuse */
    char *first_error;
    int first_line;
    XTreeBuilder *tree; /* NULL: build a libxml2 tree instead */
} SafeState;

static void safe_stop(xmlParserCtxtPtr ctxt, char *msg)
{
    SafeState *st = ctxt->_private;

    if (!st->forbidden)
        st->forbidden = msg;
    else
        g_free(msg);
    xmlStopParser(ctxt);
}

static void safe_structured_error(void *data, xmlErrorPtr err)
{
    xmlParserCtxtPtr ctxt = data;
    SafeState *st = ctxt ? ctxt->_private : NULL;

    if (!st || !err || err->level < XML_ERR_ERROR || st->first_error)
        return;
    if (err->code == XML_ERR_USER_STOP)
        return;
    st->first_error = g_strstrip(g_strdup(err->message ? err->message : "unknown error"));
    st->first_line = err->line;
}

static void safe_internal_subset(void *data, const xmlChar *name, const xmlChar *ext_id,
                                 const xmlChar *sys_id)
{
    safe_stop(data, g_strdup_printf(_("DOCTYPE declaration '%s' is not allowed in domain XML "
                                      "(DTDs and entity declarations are refused)"),
                                    name ? (const char *)name : ""));
}

static void safe_entity_decl(void *data, const xmlChar *name, int type, const xmlChar *public_id,
                             const xmlChar *system_id, xmlChar *content)
{
    safe_stop(data, g_strdup_printf(_("entity declaration '%s' is not allowed in domain XML"),
                                    name ? (const char *)name : ""));
}

static void safe_reference(void *data, const xmlChar *name)
{
    safe_stop(data, g_strdup_printf(_("entity reference '&%s;' is not allowed in domain XML"),
                                    name ? (const char *)name : ""));
}

static gboolean safe_depth_ok(xmlParserCtxtPtr ctxt, int depth, const xmlChar *localname)
{
    if (depth < XML_SAFE_MAX_DEPTH)
        return TRUE;
    safe_stop(ctxt, g_strdup_printf(_("XML document nested too deeply: element <%s> at line %d "
                                      "exceeds the limit of %d levels"),
                                    (const char *)localname, xmlSAX2GetLineNumber(ctxt),
                                    XML_SAFE_MAX_DEPTH));
    return FALSE;
}

static void safe_start_element(void *data, const xmlChar *localname, const xmlChar *prefix,
                               const xmlChar *uri, int nb_namespaces, const xmlChar **namespaces,
                               int nb_attributes, int nb_defaulted, const xmlChar **attributes)
{
    xmlParserCtxtPtr ctxt = data;
    SafeState *st = ctxt->_private;

    if (st->tree) {
        if (safe_depth_ok(ctxt, st->tree->depth, localname))
            xtree_start_element(st->tree, (const char *)localname, (const char *)prefix,
                                nb_namespaces, (const char **)namespaces, nb_attributes,
                                (const char **)attributes, xmlSAX2GetLineNumber(ctxt));
        return;
    }
    if (safe_depth_ok(ctxt, ctxt->nodeNr, localname))
        xmlSAX2StartElementNs(ctxt, localname, prefix, uri, nb_namespaces, namespaces,
                              nb_attributes, nb_defaulted, attributes);
}

static void tree_end_element(void *data, const xmlChar *localname, const xmlChar *prefix,
                             const xmlChar *uri)
{
    xmlParserCtxtPtr ctxt = data;
    SafeState *st = ctxt->_private;

    xtree_end_element(st->tree);
}

static void tree_characters(void *data, const xmlChar *text, int len)
{
    xmlParserCtxtPtr ctxt = data;
    SafeState *st = ctxt->_private;

    xtree_characters(st->tree, (const char *)text, len);
}

static void tree_nothing(void *data)
{
}

static gpointer safe_init_once(gpointer unused)
{
    xmlInitParser();
    return NULL;
}

/* A parser context costs more to create than a small document costs to parse, so each
 * thread keeps one. Its dictionary keeps every element and attribute name it has seen:
 * start afresh once that grows, so hostile input cannot make it grow without bound. */
#define SAFE_DICT_MAX 4096

static void safe_ctxt_free(gpointer p)
{
    xmlFreeParserCtxt(p);
}

static GPrivate safe_ctxt_key = G_PRIVATE_INIT(safe_ctxt_free);

static xmlParserCtxtPtr safe_ctxt_get(gboolean light)
{
    xmlParserCtxtPtr ctxt = g_private_get(&safe_ctxt_key);
    xmlSAXHandlerPtr sax;

    if (ctxt && ctxt->dict && xmlDictSize(ctxt->dict) > SAFE_DICT_MAX) {
        g_private_replace(&safe_ctxt_key, NULL);
        ctxt = NULL;
    }
    if (!ctxt) {
        ctxt = xmlNewParserCtxt();
        if (!ctxt)
            return NULL;
        g_private_set(&safe_ctxt_key, ctxt);
    }
    sax = ctxt->sax;
    xmlSAXVersion(sax, 2);
    sax->serror = safe_structured_error;
    sax->error = NULL;
    sax->warning = NULL;
    ctxt->vctxt.error = NULL;
    ctxt->vctxt.warning = NULL;
    sax->internalSubset = safe_internal_subset;
    sax->externalSubset = NULL;
    sax->entityDecl = safe_entity_decl;
    sax->startElementNs = safe_start_element;
    if (light) {
        sax->startDocument = tree_nothing;
        sax->endDocument = tree_nothing;
        sax->endElementNs = tree_end_element;
        sax->characters = tree_characters;
        sax->ignorableWhitespace = tree_characters;
        sax->cdataBlock = tree_characters;
        sax->reference = safe_reference;
        sax->comment = NULL;
        sax->processingInstruction = NULL;
    }
    return ctxt;
}

/* Runs the parser; the libxml2 tree (if any) is returned, the light tree is in @st. */
static xmlDocPtr safe_run(const char *xml, gsize len, SafeState *st, GError **error)
{
    static GOnce once = G_ONCE_INIT;
    xmlParserCtxtPtr ctxt;
    xmlDocPtr doc;

    g_once(&once, safe_init_once, NULL);
    if (!xml) {
        conf_error(error, HEARTH_ERR_INVALID_ARG, _("no XML document given"));
        return NULL;
    }
    if (len == 0) {
        conf_error(error, HEARTH_ERR_XML_DETAIL, _("malformed XML: empty document"));
        return NULL;
    }
    if (len > XML_SAFE_MAX_SIZE) {
        conf_error(error, HEARTH_ERR_XML_DETAIL,
                   _("XML document too large: %" G_GSIZE_FORMAT " bytes exceeds the limit of %u "
                     "bytes"),
                   len, XML_SAFE_MAX_SIZE);
        return NULL;
    }
    ctxt = safe_ctxt_get(st->tree != NULL);
    if (!ctxt) {
        conf_error(error, HEARTH_ERR_NO_MEMORY, _("cannot create XML parser"));
        return NULL;
    }
    if (st->tree)
        st->tree->doc = xdoc_new(ctxt->dict);
    /* ID/IDREF bookkeeping is only useful with DTDs, which we refuse anyway. */
    ctxt->loadsubset |= XML_SKIP_IDS;
    ctxt->_private = st;
    doc = xmlCtxtReadMemory(ctxt, xml, (int)len, NULL, NULL,
                            XML_PARSE_NONET | XML_PARSE_NOCDATA | XML_PARSE_NOWARNING |
                                XML_PARSE_NOERROR | XML_PARSE_COMPACT);
    ctxt->_private = NULL;
    if (st->forbidden) {
        conf_error(error, HEARTH_ERR_XML_DETAIL, "%s", st->forbidden);
    } else if (!ctxt->wellFormed || !ctxt->nsWellFormed || (!doc && !st->tree)) {
        if (st->first_error)
            conf_error(error, HEARTH_ERR_XML_DETAIL, _("malformed XML at line %d: %s"),
                       st->first_line, st->first_error);
        else
            conf_error(error, HEARTH_ERR_XML_DETAIL, _("malformed XML document"));
    } else if (st->tree && !st->tree->doc->root) {
        conf_error(error, HEARTH_ERR_XML_DETAIL, _("malformed XML: no root element"));
    } else {
        g_free(st->first_error);
        return doc;
    }
    g_free(st->forbidden);
    g_free(st->first_error);
    if (doc)
        xmlFreeDoc(doc);
    if (st->tree)
        g_clear_pointer(&st->tree->doc, xdoc_free);
    return NULL;
}

XDoc *xml_safe_parse(const char *xml, gsize len, GError **error)
{
    XTreeBuilder tree = {NULL, NULL, 0};
    SafeState st = {NULL, NULL, 0, &tree};

    safe_run(xml, len, &st, error);
    return tree.doc;
}

xmlDocPtr xml_safe_parse_libxml(const char *xml, gsize len, GError **error)
{
    SafeState st = {NULL, NULL, 0, NULL};

    return safe_run(xml, len, &st, error);
}
