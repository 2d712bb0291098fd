/* RelaxNG validation against our xml-schemas/domainsnapshot.rng (snapshot-create with the
 * validate flag). The schema includes domain.rng for the embedded <domain>. */
#include "snapshot-def.h"
#include "domain-internal.h"
#include "xml-schema.h"

gboolean snapshot_schema_validate(const char *xml, gsize len, GError **error);

static const char *const known_top[] = {"name",   "description",    "state",  "creationTime",
                                        "memory", "disks",          "active", "parent",
                                        "domain", "inactiveDomain", "cookie", NULL};

static char *explain(xmlDocPtr doc)
{
    xmlNodePtr root = xmlDocGetRootElement(doc);

    return root ? xml_schema_unknown_child(root, known_top) : NULL;
}

static XmlSchema schema = XML_SCHEMA_INIT("domainsnapshot.rng", explain);

gboolean snapshot_schema_validate(const char *xml, gsize len, GError **error)
{
    return xml_schema_validate(&schema, xml, len, error);
}
