/* <os>: guest type, firmware, direct kernel boot, boot order. */
#include "domain-internal.h"

static const char *const boot_devs[] = {"fd", "cdrom", "hd", "network", NULL};

static void os_children_to_extra(HearthXmlExtra *extra, XNode *node)
{
    XNode *c;

    XML_FOREACH_CHILD(node, c)
    xml_extra_add_child(extra, c);
}

static gboolean os_text(XNode *c, char **out, HearthXmlExtra *extra)
{
    if (*out || c->properties || xml_first_element(c)) {
        xml_extra_add_child(extra, c);
        return TRUE;
    }
    *out = xml_text_dup(c);
    return TRUE;
}

static gboolean os_type_parse(XNode *c, HearthDomainOs *os, GError **error)
{
    g_autofree char *text = xml_text_dup(c);

    xml_extra_collect_attrs(&os->type_extra, c, CONF_ATTRS("arch", "machine"));
    os->arch = xml_prop_dup(c, "arch");
    os->machine = xml_prop_dup(c, "machine");
    g_strstrip(text);
    if (strcmp(text, "hvm") != 0) {
        conf_error(error, HEARTH_ERR_CONFIG_UNSUPPORTED,
                   _("unsupported OS type '%s' in <os><type>: only 'hvm' is supported"), text);
        return FALSE;
    }
    os->type = g_steal_pointer(&text);
    return TRUE;
}

static gboolean os_boot_parse(XNode *c, HearthDomainOs *os, GError **error)
{
    const char *dev = xml_prop(c, "dev");
    int i = conf_enum_index(boot_devs, dev);
    HearthBootDev bd;

    if (!dev || i < 0) {
        conf_error(error, HEARTH_ERR_XML_ERROR,
                   _("invalid boot device '%s' in <os><boot> (expected fd, cdrom, hd or "
                     "network)"),
                   dev ? dev : "");
        return FALSE;
    }
    bd = (HearthBootDev)i;
    g_array_append_val(os->boot_devs, bd);
    return TRUE;
}

gboolean domain_os_parse(XNode *node, HearthDomainOs *os, GError **error)
{
    XNode *c;

    if (!os->boot_devs)
        os->boot_devs = g_array_new(FALSE, FALSE, sizeof(HearthBootDev));
    os->bootmenu_timeout = -1;
    if (!conf_prop_enum(node, "firmware", CONF_ATTRS("efi", "bios"), FALSE, &os->firmware, error))
        return FALSE;
    xml_extra_collect_attrs(&os->extra, node, CONF_ATTRS("firmware"));

    XML_FOREACH_CHILD(node, c)
    {
        if (xml_is(c, "type") && !os->type) {
            if (!os_type_parse(c, os, error))
                return FALSE;
        } else if (xml_is(c, "loader") && !os->has_loader) {
            g_autofree char *text = xml_text_dup(c);

            os->has_loader = TRUE;
            xml_extra_collect_attrs(&os->loader_extra, c, CONF_ATTRS("readonly", "secure", "type"));
            if (!conf_prop_tristate(c, "readonly", FALSE, &os->loader_readonly, error) ||
                !conf_prop_tristate(c, "secure", FALSE, &os->loader_secure, error) ||
                !conf_prop_enum(c, "type", CONF_ATTRS("rom", "pflash"), FALSE, &os->loader_type,
                                error))
                return FALSE;
            if (*g_strstrip(text))
                os->loader = g_steal_pointer(&text);
            os_children_to_extra(&os->loader_extra, c);
        } else if (xml_is(c, "nvram") && !os->has_nvram && !xml_first_element(c)) {
            g_autofree char *text = xml_text_dup(c);

            os->has_nvram = TRUE;
            xml_extra_collect_attrs(&os->nvram_extra, c, CONF_ATTRS("template"));
            os->nvram_template = xml_prop_dup(c, "template");
            if (*g_strstrip(text))
                os->nvram = g_steal_pointer(&text);
        } else if (xml_is(c, "kernel")) {
            os_text(c, &os->kernel, &os->extra);
        } else if (xml_is(c, "initrd")) {
            os_text(c, &os->initrd, &os->extra);
        } else if (xml_is(c, "cmdline")) {
            os_text(c, &os->cmdline, &os->extra);
        } else if (xml_is(c, "dtb")) {
            os_text(c, &os->dtb, &os->extra);
        } else if (xml_is(c, "boot") && xml_is_simple(c, CONF_ATTRS("dev"))) {
            if (!os_boot_parse(c, os, error))
                return FALSE;
        } else if (xml_is(c, "bootmenu") && os->bootmenu == HEARTH_TRISTATE_ABSENT &&
                   xml_is_simple(c, CONF_ATTRS("enable", "timeout"))) {
            guint64 timeout;

            if (!conf_prop_tristate(c, "enable", FALSE, &os->bootmenu, error))
                return FALSE;
            if (xml_prop(c, "timeout")) {
                if (!conf_prop_uint(c, "timeout", 65535, &timeout, error))
                    return FALSE;
                os->bootmenu_timeout = (int)timeout;
            }
            if (os->bootmenu == HEARTH_TRISTATE_ABSENT) {
                conf_error(error, HEARTH_ERR_XML_ERROR,
                           _("missing attribute 'enable' in <bootmenu>"));
                return FALSE;
            }
        } else if (xml_is(c, "smbios") && !os->smbios_mode &&
                   xml_is_simple(c, CONF_ATTRS("mode"))) {
            if (!conf_prop_enum(c, "mode", CONF_ATTRS("emulate", "host", "sysinfo"), TRUE,
                                &os->smbios_mode, error))
                return FALSE;
        } else {
            xml_extra_add_child(&os->extra, c);
        }
    }
    if (!os->type) {
        conf_error(error, HEARTH_ERR_XML_ERROR, _("missing <type> in <os>"));
        return FALSE;
    }
    return TRUE;
}

static void os_text_element(GString *buf, int level, const char *name, const char *text,
                            const char *const *attrs, const HearthXmlExtra *extra)
{
    xml_buf_indent(buf, level);
    g_string_append_printf(buf, "<%s", name);
    for (; attrs[0]; attrs += 2)
        xml_buf_attr(buf, attrs[0], attrs[1]);
    xml_extra_format_attrs(buf, extra);
    if (extra->children) {
        g_string_append(buf, ">\n");
        xml_extra_format_children(buf, level + 1, extra);
        xml_buf_indent(buf, level);
        g_string_append_printf(buf, "</%s>\n", name);
    } else if (text) {
        g_string_append_c(buf, '>');
        xml_buf_escape_text(buf, text);
        g_string_append_printf(buf, "</%s>\n", name);
    } else {
        g_string_append(buf, "/>\n");
    }
}

void domain_os_format(GString *buf, int level, const HearthDomainOs *os)
{
    guint i;

    xml_buf_indent(buf, level);
    g_string_append(buf, "<os");
    xml_buf_attr(buf, "firmware", os->firmware);
    xml_extra_format_attrs(buf, &os->extra);
    g_string_append(buf, ">\n");
    level++;
    os_text_element(buf, level, "type", os->type,
                    (const char *[]){"arch", os->arch, "machine", os->machine, NULL},
                    &os->type_extra);
    /* libvirt puts <firmware> (the autoselection features) right after <type> */
    xml_extra_format_children_named(buf, level, &os->extra, "firmware", TRUE);
    if (os->has_loader)
        os_text_element(buf, level, "loader", os->loader,
                        (const char *[]){"readonly", conf_tristate_str(os->loader_readonly, FALSE),
                                         "secure", conf_tristate_str(os->loader_secure, FALSE),
                                         "type", os->loader_type, NULL},
                        &os->loader_extra);
    if (os->has_nvram)
        os_text_element(buf, level, "nvram", os->nvram,
                        (const char *[]){"template", os->nvram_template, NULL}, &os->nvram_extra);
    xml_buf_text_element(buf, level, "kernel", os->kernel);
    xml_buf_text_element(buf, level, "initrd", os->initrd);
    xml_buf_text_element(buf, level, "cmdline", os->cmdline);
    xml_buf_text_element(buf, level, "dtb", os->dtb);
    for (i = 0; os->boot_devs && i < os->boot_devs->len; i++) {
        xml_buf_indent(buf, level);
        g_string_append_printf(buf, "<boot dev='%s'/>\n",
                               boot_devs[g_array_index(os->boot_devs, HearthBootDev, i)]);
    }
    if (os->bootmenu != HEARTH_TRISTATE_ABSENT) {
        xml_buf_indent(buf, level);
        g_string_append(buf, "<bootmenu");
        xml_buf_attr(buf, "enable", conf_tristate_str(os->bootmenu, FALSE));
        if (os->bootmenu_timeout >= 0)
            g_string_append_printf(buf, " timeout='%d'", os->bootmenu_timeout);
        g_string_append(buf, "/>\n");
    }
    if (os->smbios_mode) {
        xml_buf_indent(buf, level);
        g_string_append(buf, "<smbios");
        xml_buf_attr(buf, "mode", os->smbios_mode);
        g_string_append(buf, "/>\n");
    }
    xml_extra_format_children_named(buf, level, &os->extra, "firmware", FALSE);
    level--;
    xml_buf_indent(buf, level);
    g_string_append(buf, "</os>\n");
}

void domain_os_clear(HearthDomainOs *os)
{
    g_free(os->firmware);
    g_free(os->type);
    g_free(os->arch);
    g_free(os->machine);
    xml_extra_clear(&os->type_extra);
    g_free(os->loader);
    g_free(os->loader_type);
    xml_extra_clear(&os->loader_extra);
    g_free(os->nvram);
    g_free(os->nvram_template);
    xml_extra_clear(&os->nvram_extra);
    g_free(os->kernel);
    g_free(os->initrd);
    g_free(os->cmdline);
    g_free(os->dtb);
    if (os->boot_devs)
        g_array_unref(os->boot_devs);
    g_free(os->smbios_mode);
    xml_extra_clear(&os->extra);
    memset(os, 0, sizeof(*os));
}
