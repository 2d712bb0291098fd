/* Firmware: Debian's OVMF for firmware='efi', explicit <loader>/<nvram>, the pflash
 * -blockdev pair (libvirt-pflash0/1 nodes) and -bios for ROM loaders. */
#include "qemu-command-priv.h"

#include <libxml/tree.h>
#include <string.h>

#define OVMF_DIR "/usr/share/OVMF/"

/* Debian 12's OVMF code images and the variable store each was built to use. */
static const struct {
    const char *code;
    const char *vars;
    gboolean secure;
} ovmf[] = {
    {OVMF_DIR "OVMF_CODE_4M.fd", OVMF_DIR "OVMF_VARS_4M.fd", FALSE},
    {OVMF_DIR "OVMF_CODE_4M.secboot.fd", OVMF_DIR "OVMF_VARS_4M.ms.fd", TRUE},
    {OVMF_DIR "OVMF_CODE_4M.ms.fd", OVMF_DIR "OVMF_VARS_4M.ms.fd", TRUE},
    {OVMF_DIR "OVMF_CODE_4M.snakeoil.fd", OVMF_DIR "OVMF_VARS_4M.snakeoil.fd", TRUE},
    {OVMF_DIR "OVMF_CODE.fd", OVMF_DIR "OVMF_VARS.fd", FALSE},
    {OVMF_DIR "OVMF_CODE.secboot.fd", OVMF_DIR "OVMF_VARS.ms.fd", TRUE},
    {OVMF_DIR "OVMF_CODE.ms.fd", OVMF_DIR "OVMF_VARS.ms.fd", TRUE},
};

/* <os><firmware><feature enabled='yes' name='secure-boot'/></firmware>: -1 absent, 0/1. */
static gboolean firmware_features(const HearthDomainOs *os, int *secure_boot, int *enrolled_keys,
                                  GError **error)
{
    guint i;

    *secure_boot = *enrolled_keys = -1;
    for (i = 0; os->extra.children && i < os->extra.children->len; i++) {
        const char *xml = g_ptr_array_index(os->extra.children, i);
        xmlDocPtr doc;
        xmlNodePtr c;
        gboolean ok = TRUE;

        if (!g_str_has_prefix(xml, "<firmware"))
            continue;
        if (!(doc = qemu_xml_parse(xml, error)))
            return FALSE;
        for (c = xmlDocGetRootElement(doc)->children; ok && c; c = c->next) {
            xmlChar *name, *enabled;
            int *slot = NULL;

            if (c->type != XML_ELEMENT_NODE)
                continue;
            name = xmlGetProp(c, (const xmlChar *)"name");
            enabled = xmlGetProp(c, (const xmlChar *)"enabled");
            if (strcmp((const char *)c->name, "feature") == 0 && name) {
                if (strcmp((const char *)name, "secure-boot") == 0)
                    slot = secure_boot;
                else if (strcmp((const char *)name, "enrolled-keys") == 0)
                    slot = enrolled_keys;
            }
            if (slot && enabled &&
                (xmlStrcmp(enabled, (const xmlChar *)"yes") == 0 ||
                 xmlStrcmp(enabled, (const xmlChar *)"no") == 0)) {
                *slot = xmlStrcmp(enabled, (const xmlChar *)"yes") == 0;
            } else {
                qemu_unsupported(error, _("firmware feature <%s name='%s'> in <os><firmware>"),
                                 (const char *)c->name, name ? (const char *)name : "");
                ok = FALSE;
            }
            xmlFree(name);
            xmlFree(enabled);
        }
        xmlFreeDoc(doc);
        if (!ok)
            return FALSE;
    }
    return TRUE;
}

gboolean qemu_firmware_select(const HearthDomainDef *def, QemuFirmware *fw, GError **error)
{
    const HearthDomainOs *os = &def->os;
    gboolean efi = g_strcmp0(os->firmware, "efi") == 0;
    int secure_boot, enrolled_keys;
    guint i;

    memset(fw, 0, sizeof(*fw));
    if (!firmware_features(os, &secure_boot, &enrolled_keys, error))
        return FALSE;
    if (os->loader) {
        fw->code = os->loader;
        fw->pflash = g_strcmp0(os->loader_type, "pflash") == 0 || (!os->loader_type && efi);
        fw->readonly = os->loader_readonly == HEARTH_TRISTATE_YES;
        fw->secure = os->loader_secure == HEARTH_TRISTATE_YES;
        fw->nvram_template = os->nvram_template;
        for (i = 0; !fw->nvram_template && i < G_N_ELEMENTS(ovmf); i++) {
            if (strcmp(ovmf[i].code, os->loader) == 0)
                fw->nvram_template = ovmf[i].vars;
        }
        if (!fw->pflash && fw->secure) {
            qemu_unsupported(error, _("secure='yes' on a ROM <loader>"));
            return FALSE;
        }
        return TRUE;
    }
    if (!efi && g_strcmp0(os->loader_type, "pflash") != 0)
        return FALSE; /* SeaBIOS, built into QEMU */
    fw->pflash = TRUE;
    fw->readonly = os->loader_readonly != HEARTH_TRISTATE_NO;
    fw->secure = os->loader_secure == HEARTH_TRISTATE_YES || secure_boot == 1;
    if (!fw->readonly) {
        qemu_unsupported(error, _("readonly='no' for automatically selected UEFI firmware"));
        return FALSE;
    }
    fw->code = fw->secure ? ovmf[1].code : ovmf[0].code;
    fw->nvram_template = os->nvram_template;
    if (!fw->nvram_template)
        fw->nvram_template = fw->secure && enrolled_keys != 0 ? ovmf[1].vars : ovmf[0].vars;
    return TRUE;
}

int qemu_firmware_info(QemuCmd *cmd, QemuFirmware *fw, const char **nvram, GError **error)
{
    const HearthDomainOs *os = &cmd->def->os;
    g_autoptr(GError) local = NULL;

    *nvram = NULL;
    if (!qemu_firmware_select(cmd->def, fw, &local)) {
        if (!local)
            return 0;
        g_propagate_error(error, g_steal_pointer(&local));
        return -1;
    }
    if (!qemu_extra_check(&os->loader_extra, "loader", NULL, QEMU_LIST("format"), NULL, error) ||
        !qemu_extra_check(&os->nvram_extra, "nvram", NULL, QEMU_LIST("format"), NULL, error))
        return -1;
    if ((qemu_extra_attr(&os->loader_extra, "format") &&
         strcmp(qemu_extra_attr(&os->loader_extra, "format"), "raw") != 0) ||
        (qemu_extra_attr(&os->nvram_extra, "format") &&
         strcmp(qemu_extra_attr(&os->nvram_extra, "format"), "raw") != 0)) {
        qemu_unsupported(error, _("firmware images in a format other than raw"));
        return -1;
    }
    if (!g_path_is_absolute(fw->code)) {
        qemu_unsupported(error, _("relative <loader> path '%s'"), fw->code);
        return -1;
    }
    if (!fw->pflash || !fw->readonly) {
        if (os->has_nvram || (fw->pflash && cmd->opts->nvram_path)) {
            qemu_unsupported(error, _("<nvram> with a loader that is not a read-only pflash"));
            return -1;
        }
        return 1;
    }
    *nvram = cmd->opts->nvram_path ? cmd->opts->nvram_path : os->nvram;
    if (!*nvram) {
        qemu_internal(error,
                      _("UEFI firmware '%s' needs a per-domain NVRAM file, none was "
                        "given"),
                      fw->code);
        return -1;
    }
    if (fw->secure && !cmd->q35) {
        qemu_unsupported(error, _("Secure Boot firmware on the i440fx machine '%s' (needs q35)"),
                         cmd->machine);
        return -1;
    }
    if (fw->secure && cmd->def->features.state[HEARTH_FEATURE_SMM] == HEARTH_TRISTATE_NO) {
        qemu_unsupported(error, _("Secure Boot firmware with <smm state='off'/>"));
        return -1;
    }
    return 1;
}

static void pflash_pair(QemuCmd *cmd, int unit, const char *path, gboolean readonly)
{
    g_autofree char *storage = g_strdup_printf("libvirt-pflash%d-storage", unit);
    g_autofree char *format = g_strdup_printf("libvirt-pflash%d-format", unit);
    GString *j = qemu_json_new();

    qemu_json_str(j, "driver", "file");
    qemu_json_str(j, "filename", path);
    qemu_json_str(j, "node-name", storage);
    qemu_json_bool(j, "auto-read-only", TRUE);
    qemu_json_str(j, "discard", "unmap");
    qemu_cmd_take_pair(cmd, "-blockdev", qemu_json_finish(j));
    j = qemu_json_new();
    qemu_json_str(j, "node-name", format);
    qemu_json_bool(j, "read-only", readonly);
    qemu_json_str(j, "driver", "raw");
    qemu_json_str(j, "file", storage);
    qemu_cmd_take_pair(cmd, "-blockdev", qemu_json_finish(j));
}

gboolean qemu_build_firmware_blockdevs(QemuCmd *cmd, GError **error)
{
    QemuFirmware fw;
    const char *nvram;
    int r = qemu_firmware_info(cmd, &fw, &nvram, error);

    if (r <= 0)
        return r == 0;
    if (!fw.pflash)
        return TRUE;
    pflash_pair(cmd, 0, fw.code, fw.readonly);
    if (nvram)
        pflash_pair(cmd, 1, nvram, FALSE);
    return TRUE;
}

/* After -cpu: -bios for ROMs, the secure pflash switch for Secure Boot builds. */
void qemu_build_firmware_bios(QemuCmd *cmd)
{
    QemuFirmware fw;
    const char *nvram;

    if (qemu_firmware_info(cmd, &fw, &nvram, NULL) <= 0)
        return;
    if (!fw.pflash)
        qemu_cmd_add_pair(cmd, "-bios", fw.code);
    else if (fw.secure)
        qemu_cmd_add_pair(cmd, "-global", "driver=cfi.pflash01,property=secure,value=on");
}

gboolean qemu_domain_wants_nvram(const HearthDomainDef *def)
{
    QemuFirmware fw;
    g_autoptr(GError) ignored = NULL;

    return qemu_firmware_select(def, &fw, &ignored) && fw.pflash && fw.readonly;
}

const char *qemu_nvram_template(const HearthDomainDef *def)
{
    QemuFirmware fw;
    g_autoptr(GError) ignored = NULL;

    if (!qemu_firmware_select(def, &fw, &ignored) || !fw.pflash || !fw.readonly)
        return NULL;
    return fw.nvram_template;
}
