/* snapshot_def_format: libvirt's element order (virDomainSnapshotDefFormatInternal). */
#include "snapshot-def.h"
#include "domain-internal.h"

static const char *const disk_types[] = {"file",   "block", "dir",       "network",
                                         "volume", "nvme",  "vhostuser", "vhostvdpa"};

static void format_disk(GString *buf, const HearthSnapshotDisk *disk)
{
    gboolean body = disk->driver_type || disk->file || disk->extra.children;

    xml_buf_indent(buf, 2);
    g_string_append(buf, "<disk");
    xml_buf_attr(buf, "name", disk->name);
    if (disk->snapshot != HEARTH_SNAPSHOT_LOC_DEFAULT)
        xml_buf_attr(buf, "snapshot", snapshot_location_name(disk->snapshot));
    if (disk->has_type || disk->file)
        xml_buf_attr(buf, "type", disk_types[disk->type]);
    xml_extra_format_attrs(buf, &disk->extra);
    if (!body) {
        g_string_append(buf, "/>\n");
        return;
    }
    g_string_append(buf, ">\n");
    if (disk->driver_type) {
        xml_buf_indent(buf, 3);
        g_string_append(buf, "<driver");
        xml_buf_attr(buf, "type", disk->driver_type);
        g_string_append(buf, "/>\n");
    }
    if (disk->file) {
        xml_buf_indent(buf, 3);
        g_string_append(buf, "<source");
        xml_buf_attr(buf, disk->type == HEARTH_DISK_TYPE_BLOCK ? "dev" : "file", disk->file);
        g_string_append(buf, "/>\n");
    }
    xml_extra_format_children(buf, 3, &disk->extra);
    xml_buf_indent(buf, 2);
    g_string_append(buf, "</disk>\n");
}

/* An embedded definition, one level in, under its element name. */
static void format_domain(GString *buf, const char *element, const HearthDomainDef *dom,
                          guint domain_flags)
{
    g_autofree char *xml = domain_def_format(dom, domain_flags);
    g_autoptr(GString) s = g_string_new(xml);

    if (!g_str_equal(element, "domain")) {
        g_autofree char *open = g_strconcat("<", element, NULL);
        g_autofree char *close = g_strconcat("</", element, ">", NULL);

        g_string_replace(s, "<domain", open, 1);
        if (g_str_has_suffix(s->str, "</domain>\n")) {
            g_string_truncate(s, s->len - strlen("</domain>\n"));
            g_string_append(s, close);
            g_string_append_c(s, '\n');
        }
    }
    /* Indent every line by one level. */
    for (const char *p = s->str; *p;) {
        const char *nl = strchr(p, '\n');
        gsize n = nl ? (gsize)(nl - p + 1) : strlen(p);

        g_string_append(buf, "  ");
        g_string_append_len(buf, p, (gssize)n);
        p += n;
    }
}

char *snapshot_def_format(const HearthSnapshotDef *def, guint flags)
{
    GString *buf = g_string_sized_new(8192);
    guint domain_flags = DOMAIN_DEF_FORMAT_INACTIVE;

    if (flags & SNAPSHOT_FORMAT_SECURE)
        domain_flags |= DOMAIN_DEF_FORMAT_SECURE;
    g_string_append(buf, "<domainsnapshot>\n");
    xml_buf_text_element(buf, 1, "name", def->name);
    xml_buf_text_element(buf, 1, "description", def->description);
    xml_buf_text_element(buf, 1, "state", def->state);
    if (def->parent) {
        g_string_append(buf, "  <parent>\n");
        xml_buf_text_element(buf, 2, "name", def->parent);
        g_string_append(buf, "  </parent>\n");
    }
    if (def->creation_time >= 0)
        g_string_append_printf(buf, "  <creationTime>%" G_GINT64_FORMAT "</creationTime>\n",
                               def->creation_time);
    if (def->memory != HEARTH_SNAPSHOT_LOC_DEFAULT) {
        g_string_append(buf, "  <memory");
        xml_buf_attr(buf, "snapshot", snapshot_location_name(def->memory));
        xml_buf_attr(buf, "file", def->memory_file);
        g_string_append(buf, "/>\n");
    }
    if (def->disks && def->disks->len) {
        g_string_append(buf, "  <disks>\n");
        for (guint i = 0; i < def->disks->len; i++)
            format_disk(buf, def->disks->pdata[i]);
        g_string_append(buf, "  </disks>\n");
    }
    if (def->dom)
        format_domain(buf, "domain", def->dom, domain_flags);
    if (def->inactive_dom)
        format_domain(buf, "inactiveDomain", def->inactive_dom, domain_flags);
    xml_extra_format_children(buf, 1, &def->extra);
    if ((flags & SNAPSHOT_FORMAT_INTERNAL) && def->current)
        g_string_append(buf, "  <active>1</active>\n");
    g_string_append(buf, "</domainsnapshot>\n");
    return g_string_free(buf, FALSE);
}
