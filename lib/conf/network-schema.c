/* RelaxNG validation against our xml-schemas/network.rng (net-define --validate). */
#include "network-def.h"
#include "domain-internal.h"
#include "xml-schema.h"

/* libxml2 names a bad child of an <interleave> only vaguely; name it ourselves, as libvirt
 * prints "Element network has extra content: bogus". */
static const char *const known_top[] = {
    "name",        "uuid",      "title",  "description", "metadata", "forward", "bridge",
    "mtu",         "mac",       "domain", "dns",         "ip",       "route",   "portgroup",
    "virtualport", "bandwidth", "vlan",   "port",        NULL};

static char *schema_explain(xmlDocPtr doc)
{
    return xml_schema_unknown_child(xmlDocGetRootElement(doc), known_top);
}

static XmlSchema network_schema = XML_SCHEMA_INIT("network.rng", schema_explain);

gboolean network_schema_validate(const char *xml, gsize len, GError **error)
{
    return xml_schema_validate(&network_schema, xml, len, error);
}
