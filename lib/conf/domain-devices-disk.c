/* <disk>: driver, source, backing chain, target. */
#include "domain-internal.h"

static const char *const disk_types[] = {"file", "block",     "dir",       "network", "volume",
                                         "nvme", "vhostuser", "vhostvdpa", NULL};
static const char *const disk_devices[] = {"disk", "cdrom", "floppy", "lun", NULL};
static const char *const source_path_attr[] = {"file", "dev", "dir"};

static gboolean disk_type_parse(XNode *node, gboolean required, HearthDiskType *out, GError **error)
{
    const char *s = xml_prop(node, "type");
    int i;

    if (!s) {
        if (required) {
            conf_error(error, HEARTH_ERR_XML_ERROR, _("missing attribute 'type' in <%s>"),
                       (const char *)node->name);
            return FALSE;
        }
        *out = HEARTH_DISK_TYPE_FILE;
        return TRUE;
    }
    i = conf_enum_index(disk_types, s);
    if (i < 0) {
        conf_error(error, HEARTH_ERR_XML_ERROR, _("unknown disk type '%s' in <%s>"), s,
                   (const char *)node->name);
        return FALSE;
    }
    *out = (HearthDiskType)i;
    return TRUE;
}

static gboolean disk_source_has_path(HearthDiskType type)
{
    return type == HEARTH_DISK_TYPE_FILE || type == HEARTH_DISK_TYPE_BLOCK ||
           type == HEARTH_DISK_TYPE_DIR;
}

static gboolean disk_source_parse(XNode *node, HearthDiskSource *src, GError **error)
{
    XNode *c;
    const char *attr;

    if (src->has_source) {
        xml_extra_add_child(&src->extra, node);
        return TRUE;
    }
    src->has_source = TRUE;
    if (!disk_source_has_path(src->type)) {
        src->source_xml = xml_node_serialize(node, FALSE);
        return TRUE;
    }
    attr = source_path_attr[src->type];
    xml_extra_collect_attrs(&src->source_extra, node, CONF_ATTRS(attr, "startupPolicy"));
    src->path = xml_prop_dup(node, attr);
    if (!conf_prop_enum(node, "startupPolicy", CONF_ATTRS("mandatory", "requisite", "optional"),
                        FALSE, &src->startup_policy, error))
        return FALSE;
    XML_FOREACH_CHILD(node, c)
    xml_extra_add_child(&src->source_extra, c);
    return TRUE;
}

static gboolean disk_backing_parse(XNode *node, HearthDiskSource *parent, int depth, GError **error)
{
    HearthDiskSource *src;
    XNode *c;
    guint64 index;

    if (parent->backing || parent->backing_end) {
        conf_error(error, HEARTH_ERR_XML_ERROR,
                   _("more than one <backingStore> in a disk image "
                     "(line %d)"),
                   xml_line(node));
        return FALSE;
    }
    if (!node->properties && !xml_first_element(node)) {
        parent->backing_end = TRUE;
        return TRUE;
    }
    src = g_new0(HearthDiskSource, 1);
    src->index = -1;
    parent->backing = src;
    if (!disk_type_parse(node, TRUE, &src->type, error))
        return FALSE;
    xml_extra_collect_attrs(&src->extra, node, CONF_ATTRS("type", "index"));
    if (xml_prop(node, "index")) {
        if (!conf_prop_uint(node, "index", G_MAXINT, &index, error))
            return FALSE;
        src->index = (int)index;
    }
    XML_FOREACH_CHILD(node, c)
    {
        if (xml_is(c, "format") && !src->format && c->properties && !c->properties->next &&
            xml_prop(c, "type") && !xml_first_element(c)) {
            src->format = xml_prop_dup(c, "type");
        } else if (xml_is(c, "source")) {
            if (!disk_source_parse(c, src, error))
                return FALSE;
        } else if (xml_is(c, "backingStore")) {
            if (!disk_backing_parse(c, src, depth + 1, error))
                return FALSE;
        } else {
            xml_extra_add_child(&src->extra, c);
        }
    }
    return TRUE;
}

static gboolean disk_driver_parse(XNode *node, HearthDomainDisk *disk, GError **error)
{
    if (disk->has_driver) {
        xml_extra_add_child(&disk->extra, node);
        return TRUE;
    }
    disk->has_driver = TRUE;
    xml_extra_collect_attrs(&disk->driver_extra, node,
                            CONF_ATTRS("name", "type", "cache", "discard", "io"));
    disk->driver_name = xml_prop_dup(node, "name");
    disk->src.format = xml_prop_dup(node, "type");
    if (!conf_prop_enum(
            node, "cache",
            CONF_ATTRS("default", "none", "writethrough", "writeback", "directsync", "unsafe"),
            FALSE, &disk->driver_cache, error) ||
        !conf_prop_enum(node, "discard", CONF_ATTRS("unmap", "ignore"), FALSE,
                        &disk->driver_discard, error) ||
        !conf_prop_enum(node, "io", CONF_ATTRS("native", "threads", "io_uring"), FALSE,
                        &disk->driver_io, error))
        return FALSE;
    if (xml_first_element(node)) {
        XNode *c;

        XML_FOREACH_CHILD(node, c)
        xml_extra_add_child(&disk->driver_extra, c);
    }
    return TRUE;
}

gboolean disk_parse(XNode *node, HearthDomainDisk *disk, GError **error)
{
    const char *device = xml_prop(node, "device");
    XNode *c;
    int i;

    disk->src.index = -1;
    if (!disk_type_parse(node, FALSE, &disk->src.type, error))
        return FALSE;
    if (device) {
        i = conf_enum_index(disk_devices, device);
        if (i < 0) {
            conf_error(error, HEARTH_ERR_XML_ERROR, _("unknown disk device '%s' in <disk>"),
                       device);
            return FALSE;
        }
        disk->device = (HearthDiskDevice)i;
    }
    xml_extra_collect_attrs(&disk->extra, node, CONF_ATTRS("type", "device"));

    XML_FOREACH_CHILD(node, c)
    {
        int r;

        if (xml_is(c, "driver")) {
            if (!disk_driver_parse(c, disk, error))
                return FALSE;
        } else if (xml_is(c, "source")) {
            if (!disk_source_parse(c, &disk->src, error))
                return FALSE;
        } else if (xml_is(c, "backingStore")) {
            if (!disk_backing_parse(c, &disk->src, 1, error))
                return FALSE;
        } else if (xml_is(c, "target") && !disk->target_dev) {
            xml_extra_collect_attrs(&disk->target_extra, c, CONF_ATTRS("dev", "bus"));
            disk->target_dev = xml_prop_dup(c, "dev");
            disk->target_bus = xml_prop_dup(c, "bus");
            if (!disk->target_dev || !*disk->target_dev) {
                conf_error(error, HEARTH_ERR_XML_ERROR,
                           _("missing attribute 'dev' in <target> of <disk> (line %d)"),
                           xml_line(c));
                return FALSE;
            }
            if (xml_first_element(c)) {
                XNode *t;

                XML_FOREACH_CHILD(c, t)
                xml_extra_add_child(&disk->target_extra, t);
            }
        } else if (xml_is(c, "readonly") && !c->properties && !xml_first_element(c)) {
            disk->readonly = TRUE;
        } else if (xml_is(c, "shareable") && !c->properties && !xml_first_element(c)) {
            disk->shareable = TRUE;
        } else if (xml_is(c, "serial") && !disk->serial && !c->properties) {
            disk->serial = xml_text_dup(c);
        } else if ((r = device_info_parse_child(&disk->info, c, TRUE, error)) != 0) {
            if (r < 0)
                return FALSE;
        } else {
            xml_extra_add_child(&disk->extra, c);
        }
    }
    if (!disk->target_dev) {
        conf_error(error, HEARTH_ERR_XML_ERROR, _("missing <target> in <disk> (line %d)"),
                   xml_line(node));
        return FALSE;
    }
    return TRUE;
}

static void disk_source_format(GString *buf, int level, const HearthDiskSource *src)
{
    if (!src->has_source)
        return;
    if (src->source_xml) {
        xml_buf_fragment(buf, level, src->source_xml);
        return;
    }
    xml_buf_indent(buf, level);
    g_string_append(buf, "<source");
    xml_buf_attr(buf, source_path_attr[src->type], src->path);
    xml_buf_attr(buf, "startupPolicy", src->startup_policy);
    xml_extra_format_attrs(buf, &src->source_extra);
    if (!src->source_extra.children) {
        g_string_append(buf, "/>\n");
        return;
    }
    g_string_append(buf, ">\n");
    xml_extra_format_children(buf, level + 1, &src->source_extra);
    xml_buf_indent(buf, level);
    g_string_append(buf, "</source>\n");
}

static void disk_backing_format(GString *buf, int level, const HearthDiskSource *parent)
{
    const HearthDiskSource *src = parent->backing;

    if (parent->backing_end) {
        xml_buf_indent(buf, level);
        g_string_append(buf, "<backingStore/>\n");
        return;
    }
    if (!src)
        return;
    xml_buf_indent(buf, level);
    g_string_append(buf, "<backingStore");
    xml_buf_attr(buf, "type", disk_types[src->type]);
    if (src->index >= 0)
        g_string_append_printf(buf, " index='%d'", src->index);
    xml_extra_format_attrs(buf, &src->extra);
    g_string_append(buf, ">\n");
    if (src->format) {
        xml_buf_indent(buf, level + 1);
        g_string_append(buf, "<format");
        xml_buf_attr(buf, "type", src->format);
        g_string_append(buf, "/>\n");
    }
    disk_source_format(buf, level + 1, src);
    disk_backing_format(buf, level + 1, src);
    xml_extra_format_children(buf, level + 1, &src->extra);
    xml_buf_indent(buf, level);
    g_string_append(buf, "</backingStore>\n");
}

void disk_format(GString *buf, int level, const HearthDomainDisk *disk, guint flags)
{
    xml_buf_indent(buf, level);
    g_string_append(buf, "<disk");
    xml_buf_attr(buf, "type", disk_types[disk->src.type]);
    xml_buf_attr(buf, "device", disk_devices[disk->device]);
    xml_extra_format_attrs(buf, &disk->extra);
    g_string_append(buf, ">\n");
    level++;
    if (disk->has_driver) {
        xml_buf_indent(buf, level);
        g_string_append(buf, "<driver");
        xml_buf_attr(buf, "name", disk->driver_name);
        xml_buf_attr(buf, "type", disk->src.format);
        xml_buf_attr(buf, "cache", disk->driver_cache);
        xml_buf_attr(buf, "io", disk->driver_io);
        xml_buf_attr(buf, "discard", disk->driver_discard);
        xml_extra_format_attrs(buf, &disk->driver_extra);
        if (disk->driver_extra.children) {
            g_string_append(buf, ">\n");
            xml_extra_format_children(buf, level + 1, &disk->driver_extra);
            xml_buf_indent(buf, level);
            g_string_append(buf, "</driver>\n");
        } else {
            g_string_append(buf, "/>\n");
        }
    }
    disk_source_format(buf, level, &disk->src);
    xml_extra_format_children(buf, level, &disk->src.extra);
    disk_backing_format(buf, level, &disk->src);
    xml_buf_indent(buf, level);
    g_string_append(buf, "<target");
    xml_buf_attr(buf, "dev", disk->target_dev);
    xml_buf_attr(buf, "bus", disk->target_bus);
    xml_extra_format_attrs(buf, &disk->target_extra);
    if (disk->target_extra.children) {
        g_string_append(buf, ">\n");
        xml_extra_format_children(buf, level + 1, &disk->target_extra);
        xml_buf_indent(buf, level);
        g_string_append(buf, "</target>\n");
    } else {
        g_string_append(buf, "/>\n");
    }
    if (disk->readonly) {
        xml_buf_indent(buf, level);
        g_string_append(buf, "<readonly/>\n");
    }
    if (disk->shareable) {
        xml_buf_indent(buf, level);
        g_string_append(buf, "<shareable/>\n");
    }
    xml_buf_text_element(buf, level, "serial", disk->serial);
    device_tail_format(buf, level, &disk->info, &disk->extra, flags);
    level--;
    xml_buf_indent(buf, level);
    g_string_append(buf, "</disk>\n");
}

static void disk_source_clear(HearthDiskSource *src)
{
    g_clear_pointer(&src->format, g_free);
    g_clear_pointer(&src->path, g_free);
    g_clear_pointer(&src->startup_policy, g_free);
    g_clear_pointer(&src->source_xml, g_free);
    xml_extra_clear(&src->source_extra);
    xml_extra_clear(&src->extra);
    while (src->backing) {
        /* Unlink iteratively: a long chain must not recurse deeply. */
        HearthDiskSource *next = src->backing;

        src->backing = next->backing;
        next->backing = NULL;
        disk_source_clear(next);
        g_free(next);
    }
}

void disk_free(HearthDomainDisk *disk)
{
    if (!disk)
        return;
    disk_source_clear(&disk->src);
    g_free(disk->driver_name);
    g_free(disk->driver_cache);
    g_free(disk->driver_discard);
    g_free(disk->driver_io);
    xml_extra_clear(&disk->driver_extra);
    g_free(disk->target_dev);
    g_free(disk->target_bus);
    xml_extra_clear(&disk->target_extra);
    g_free(disk->serial);
    device_info_clear(&disk->info);
    xml_extra_clear(&disk->extra);
    g_free(disk);
}
