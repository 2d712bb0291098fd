#include "hearth-error.h"
#include "host-caps.h"
#include "host-priv.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#define DMI_DIR "sys/class/dmi/id"
#define MAX_DMI_VALUE 256

typedef struct {
    const char *entry; /* libvirt's entry name */
    const char *file;  /* under /sys/class/dmi/id */
} DmiField;

typedef struct {
    const char *element;
    const DmiField *fields;
    gsize n_fields;
} DmiSection;

static const DmiField bios_fields[] = {
    {"vendor", "bios_vendor"},
    {"version", "bios_version"},
    {"date", "bios_date"},
    {"release", "bios_release"},
};
static const DmiField system_fields[] = {
    {"manufacturer", "sys_vendor"}, {"product", "product_name"}, {"version", "product_version"},
    {"serial", "product_serial"},   {"uuid", "product_uuid"},    {"sku", "product_sku"},
    {"family", "product_family"},
};
static const DmiField board_fields[] = {
    {"manufacturer", "board_vendor"}, {"product", "board_name"},    {"version", "board_version"},
    {"serial", "board_serial"},       {"asset", "board_asset_tag"},
};
static const DmiField chassis_fields[] = {
    {"manufacturer", "chassis_vendor"},
    {"version", "chassis_version"},
    {"serial", "chassis_serial"},
    {"asset", "chassis_asset_tag"},
};

static const DmiSection sections[] = {
    {"bios", bios_fields, G_N_ELEMENTS(bios_fields)},
    {"system", system_fields, G_N_ELEMENTS(system_fields)},
    {"baseBoard", board_fields, G_N_ELEMENTS(board_fields)},
    {"chassis", chassis_fields, G_N_ELEMENTS(chassis_fields)},
};

/* A DMI string worth showing: readable, printable UTF-8, not blank. Some files are readable
 * by root only; those are simply left out for other users. */
static char *read_dmi(const char *root, const char *file)
{
    g_autofree char *path = g_build_filename(root, DMI_DIR, file, NULL);
    g_autofree char *text = NULL;
    gsize len;

    if (!g_file_get_contents(path, &text, &len, NULL) || len > MAX_DMI_VALUE)
        return NULL;
    g_strstrip(text);
    if (*text == '\0' || !g_utf8_validate(text, -1, NULL))
        return NULL;
    for (const char *p = text; *p; p++)
        if ((guchar)*p < 0x20)
            return NULL;
    return g_steal_pointer(&text);
}

char *host_sysinfo_xml_at(const char *root, GError **error)
{
    g_autoptr(GString) buf = g_string_new("<sysinfo type='smbios'>\n");
    gboolean any = FALSE;

    for (gsize s = 0; s < G_N_ELEMENTS(sections); s++) {
        gboolean opened = FALSE;

        for (gsize f = 0; f < sections[s].n_fields; f++) {
            g_autofree char *value = read_dmi(root, sections[s].fields[f].file);

            if (!value)
                continue;
            if (!opened) {
                g_string_append_printf(buf, "  <%s>\n", sections[s].element);
                opened = TRUE;
            }
            g_string_append_printf(buf, "    <entry name='%s'>", sections[s].fields[f].entry);
            host_xml_escape(buf, value);
            g_string_append(buf, "</entry>\n");
        }
        if (opened)
            g_string_append_printf(buf, "  </%s>\n", sections[s].element);
        any |= opened;
    }
    if (!any) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_NO_SUPPORT,
                    _("no SMBIOS data is available on this host"));
        return NULL;
    }
    g_string_append(buf, "</sysinfo>\n");
    return g_string_free(g_steal_pointer(&buf), FALSE);
}

char *host_sysinfo_xml(GError **error)
{
    return host_sysinfo_xml_at("/", error);
}
