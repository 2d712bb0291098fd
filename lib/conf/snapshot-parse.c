/* snapshot_def_parse: <domainsnapshot> and its children. The embedded <domain> and
 * <inactiveDomain> are parsed by the domain parser from their own serialized subtree. */
#include "snapshot-def.h"
#include "domain-internal.h"

gboolean snapshot_schema_validate(const char *xml, gsize len, GError **error);

static const char *const locations[] = {"no", "internal", "external", "manual", NULL};
static const char *const disk_types[] = {"file", "block",     "dir",       "network", "volume",
                                         "nvme", "vhostuser", "vhostvdpa", NULL};

static gboolean parse_location(XNode *node, HearthSnapshotLocation *out, GError **error)
{
    const char *s = xml_prop(node, "snapshot");
    int i;

    if (!s)
        return TRUE;
    i = conf_enum_index(locations, s);
    if (i < 0) {
        conf_error(error, HEARTH_ERR_XML_ERROR,
                   _("unknown snapshot location '%s' in <%s> (line %d)"), s, node->name,
                   xml_line(node));
        return FALSE;
    }
    *out = (HearthSnapshotLocation)(i + 1);
    return TRUE;
}

static gboolean text_once(XNode *c, char **out, GError **error)
{
    if (*out) {
        conf_error(error, HEARTH_ERR_XML_ERROR, _("more than one <%s> (line %d)"), c->name,
                   xml_line(c));
        return FALSE;
    }
    *out = xml_text_dup(c);
    return TRUE;
}

static gboolean parse_disk(XNode *node, HearthSnapshotDef *def, GError **error)
{
    HearthSnapshotDisk *disk = g_new0(HearthSnapshotDisk, 1);
    const char *type = xml_prop(node, "type");
    XNode *c;

    g_ptr_array_add(def->disks, disk);
    disk->name = xml_prop_dup(node, "name");
    if (!disk->name || !*disk->name) {
        conf_error(error, HEARTH_ERR_XML_ERROR,
                   _("missing name from disk snapshot element (line %d)"), xml_line(node));
        return FALSE;
    }
    if (!parse_location(node, &disk->snapshot, error))
        return FALSE;
    if (type) {
        int i = conf_enum_index(disk_types, type);

        if (i < 0) {
            conf_error(error, HEARTH_ERR_XML_ERROR, _("unknown disk type '%s' (line %d)"), type,
                       xml_line(node));
            return FALSE;
        }
        disk->type = (HearthDiskType)i;
        disk->has_type = TRUE;
    }
    xml_extra_collect_attrs(&disk->extra, node, CONF_ATTRS("name", "snapshot", "type"));
    XML_FOREACH_CHILD(node, c)
    {
        if (xml_is(c, "driver") && !disk->driver_type && xml_prop(c, "type")) {
            disk->driver_type = xml_prop_dup(c, "type");
        } else if (xml_is(c, "source") && !disk->file &&
                   (xml_prop(c, "file") || xml_prop(c, "dev"))) {
            disk->file = xml_prop_dup(c, xml_prop(c, "file") ? "file" : "dev");
            if (!disk->has_type && xml_prop(c, "dev"))
                disk->type = HEARTH_DISK_TYPE_BLOCK;
        } else {
            xml_extra_add_child(&disk->extra, c);
        }
    }
    /* A file implies an external snapshot (virsh --diskspec vda,file=/p). */
    if (disk->file && disk->snapshot == HEARTH_SNAPSHOT_LOC_DEFAULT)
        disk->snapshot = HEARTH_SNAPSHOT_LOC_EXTERNAL;
    if (disk->file && disk->snapshot != HEARTH_SNAPSHOT_LOC_EXTERNAL &&
        disk->snapshot != HEARTH_SNAPSHOT_LOC_MANUAL) {
        conf_error(error, HEARTH_ERR_XML_ERROR,
                   _("file '%s' for disk '%s' requires use of external snapshot mode"), disk->file,
                   disk->name);
        return FALSE;
    }
    return TRUE;
}

static HearthDomainDef *parse_embedded_domain(XNode *node, GError **error)
{
    g_autofree char *xml = xml_node_serialize(node, TRUE);
    gsize len = strlen(xml);

    /* <inactiveDomain> holds a <domain>'s content under another name. */
    if (xml_is(node, "inactiveDomain")) {
        g_autoptr(GString) s = g_string_new(xml);

        g_string_replace(s, "<inactiveDomain", "<domain", 1);
        if (g_str_has_suffix(s->str, "</inactiveDomain>")) {
            g_string_truncate(s, s->len - strlen("</inactiveDomain>"));
            g_string_append(s, "</domain>");
        }
        g_free(xml);
        len = s->len;
        xml = g_string_free(g_steal_pointer(&s), FALSE);
    }
    return domain_def_parse(xml, len, 0, error);
}

static gboolean parse_child(XNode *c, HearthSnapshotDef *def, guint flags, GError **error)
{
    if (xml_is(c, "name"))
        return text_once(c, &def->name, error);
    if (xml_is(c, "description"))
        return text_once(c, &def->description, error);
    if (xml_is(c, "state"))
        return text_once(c, &def->state, error);
    if (xml_is(c, "parent")) {
        XNode *n = xml_first_element(c);

        c->walked = TRUE;
        if (!n || !xml_is(n, "name"))
            return TRUE;
        return text_once(n, &def->parent, error);
    }
    if (xml_is(c, "creationTime")) {
        g_autofree char *text = xml_text_dup(c);
        guint64 v;

        if (!conf_parse_uint(g_strstrip(text), G_MAXINT64, &v)) {
            conf_error(error, HEARTH_ERR_XML_ERROR, _("invalid creationTime '%s' (line %d)"), text,
                       xml_line(c));
            return FALSE;
        }
        def->creation_time = (gint64)v;
        return TRUE;
    }
    if (xml_is(c, "memory")) {
        if (!parse_location(c, &def->memory, error))
            return FALSE;
        g_free(def->memory_file);
        def->memory_file = xml_prop_dup(c, "file");
        if (def->memory_file && def->memory == HEARTH_SNAPSHOT_LOC_DEFAULT)
            def->memory = HEARTH_SNAPSHOT_LOC_EXTERNAL;
        if (def->memory_file && def->memory != HEARTH_SNAPSHOT_LOC_EXTERNAL) {
            conf_error(error, HEARTH_ERR_XML_ERROR,
                       _("memory filename '%s' requires external snapshot"), def->memory_file);
            return FALSE;
        }
        return TRUE;
    }
    if (xml_is(c, "disks")) {
        XNode *d;

        if (!def->disks)
            def->disks = g_ptr_array_new_with_free_func((GDestroyNotify)snapshot_disk_free);
        XML_FOREACH_CHILD(c, d)
        {
            if (!xml_is(d, "disk")) {
                conf_error(error, HEARTH_ERR_XML_ERROR, _("unexpected <%s> in <disks> (line %d)"),
                           d->name, xml_line(d));
                return FALSE;
            }
            if (!parse_disk(d, def, error))
                return FALSE;
        }
        return TRUE;
    }
    if (xml_is(c, "domain") && !def->dom)
        return (def->dom = parse_embedded_domain(c, error)) != NULL;
    if (xml_is(c, "inactiveDomain") && !def->inactive_dom)
        return (def->inactive_dom = parse_embedded_domain(c, error)) != NULL;
    if (xml_is(c, "active")) {
        /* The daemon's own mark: read from its files, never taken from a client. */
        g_autofree char *text = xml_text_dup(c);

        if (flags & SNAPSHOT_PARSE_INTERNAL)
            def->current = g_str_equal(g_strstrip(text), "1");
        return TRUE;
    }
    xml_extra_add_child(&def->extra, c);
    return TRUE;
}

HearthSnapshotDef *snapshot_def_parse(const char *xml, gsize len, guint flags, GError **error)
{
    g_autoptr(XDoc) doc = NULL;
    g_autoptr(HearthSnapshotDef) def = NULL;
    XNode *c;

    if ((flags & SNAPSHOT_PARSE_VALIDATE) && !snapshot_schema_validate(xml, len, error))
        return NULL;
    doc = xml_safe_parse(xml, len, error);
    if (!doc)
        return NULL;
    if (!xml_is(doc->root, "domainsnapshot")) {
        conf_error(error, HEARTH_ERR_XML_ERROR,
                   _("expected root element <domainsnapshot>, got <%s>"), doc->root->name);
        return NULL;
    }
    def = snapshot_def_new();
    XML_FOREACH_CHILD(doc->root, c)
    {
        if (!parse_child(c, def, flags, error))
            return NULL;
    }
    if (!xml_check_stray_text(doc->root, error))
        return NULL;
    if (def->name) {
        g_strstrip(def->name);
        if (!snapshot_name_check(def->name, error))
            return NULL;
    }
    return g_steal_pointer(&def);
}
