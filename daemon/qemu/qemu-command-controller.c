/* <controller>: PCI bridges and root ports, USB, SCSI, SATA, IDE, virtio-serial. */
#include "qemu-command-priv.h"

#include <string.h>

static const struct {
    const char *model;
    QemuCtlKind kind;
    const char *driver;
} pci_models[] = {
    {"pci-root", QCTL_PCI_ROOT, NULL},
    {"pcie-root", QCTL_PCI_ROOT, NULL},
    {"pcie-root-port", QCTL_PCIE_ROOT_PORT, "pcie-root-port"},
    {"pci-bridge", QCTL_PCI_BRIDGE, "pci-bridge"},
    {"pcie-to-pci-bridge", QCTL_PCIE_PCI_BRIDGE, "pcie-pci-bridge"},
    {"dmi-to-pci-bridge", QCTL_DMI_PCI_BRIDGE, "i82801b11-bridge"},
};

static const struct {
    const char *model;
    const char *driver;
    int ports;
} usb_models[] = {
    {"piix3-uhci", "piix3-usb-uhci", 2},
    {"piix4-uhci", "piix4-usb-uhci", 2},
    {"ehci", "usb-ehci", 6},
    {"qemu-xhci", "qemu-xhci", 4},
    {"nec-xhci", "nec-usb-xhci", 4},
    {"pci-ohci", "pci-ohci", 3},
};

static const char *ctl_alias_prefix(const char *type)
{
    if (strcmp(type, "virtio-serial") == 0)
        return "virtio-serial";
    return type;
}

static void controller_alias(QemuCmd *cmd, QemuDev *d, const HearthDeviceInfo *info)
{
    if (info && info->alias && g_str_has_prefix(info->alias, "ua-"))
        d->alias = g_strdup(info->alias);
    else if (d->ctl == QCTL_PCI_ROOT)
        d->alias = g_strdup(cmd->root_bus);
    else if (strcmp(d->ctl_type, "pci") == 0)
        d->alias = g_strdup_printf("pci.%d", d->ctl_index);
    else if ((strcmp(d->ctl_type, "usb") == 0 || strcmp(d->ctl_type, "ide") == 0) &&
             d->ctl_index == 0)
        d->alias = g_strdup(d->ctl_type);
    else
        d->alias = g_strdup_printf("%s%d", ctl_alias_prefix(d->ctl_type), d->ctl_index);
}

/* <target chassis='' port='' .../> and <model name=''/> of PCI controllers. */
static gboolean pci_controller_options(QemuDev *d, const HearthDomainController *ctl,
                                       const char *who, GError **error)
{
    guint i;

    d->pci_chassis = d->ctl_index;
    d->pci_port = -1;
    for (i = 0; ctl->extra.children && i < ctl->extra.children->len; i++) {
        const char *xml = g_ptr_array_index(ctl->extra.children, i);
        g_autofree char *name = NULL;
        g_autoptr(GHashTable) attrs = qemu_xml_attrs(xml, &name, error);
        GHashTableIter it;
        gpointer k, v;

        if (!attrs)
            return FALSE;
        if (strcmp(name, "model") == 0) {
            const char *mn = g_hash_table_lookup(attrs, "name");

            if (mn && strcmp(mn, d->driver) != 0 &&
                !(d->ctl == QCTL_PCIE_ROOT_PORT && strcmp(mn, "ioh3420") == 0)) {
                qemu_unsupported(error, _("<model name='%s'> of %s"), mn, who);
                return FALSE;
            }
            if (mn)
                d->driver = strcmp(mn, "ioh3420") == 0 ? "ioh3420" : d->driver;
            continue;
        }
        if (strcmp(name, "target") != 0)
            continue; /* left for qemu_extra_check to report */
        g_hash_table_iter_init(&it, attrs);
        while (g_hash_table_iter_next(&it, &k, &v)) {
            guint64 n;
            gboolean ok = qemu_parse_uint(v, G_MAXINT, &n);

            if (ok && d->ctl == QCTL_PCIE_ROOT_PORT && strcmp(k, "chassis") == 0)
                d->pci_chassis = (int)n;
            else if (ok && d->ctl == QCTL_PCIE_ROOT_PORT && strcmp(k, "port") == 0)
                d->pci_port = (int)n;
            else if (ok && d->ctl == QCTL_PCI_BRIDGE && strcmp(k, "chassisNr") == 0)
                d->pci_chassis = (int)n;
            else if (d->ctl == QCTL_PCIE_ROOT_PORT && strcmp(k, "hotplug") == 0 &&
                     (strcmp(v, "on") == 0 || strcmp(v, "off") == 0))
                qemu_json_bool(d->json_extra, "hotplug", strcmp(v, "on") == 0);
            else {
                qemu_unsupported(error, _("<target %s='%s'> of %s"), (const char *)k,
                                 (const char *)v, who);
                return FALSE;
            }
        }
    }
    return qemu_extra_check(&ctl->extra, "controller", who, NULL, QEMU_LIST("model", "target"),
                            error);
}

static gboolean controller_model(QemuCmd *cmd, QemuDev *d, const char *model, const char *who,
                                 GError **error)
{
    const char *type = d->ctl_type;
    guint i;

    if (strcmp(type, "pci") == 0) {
        if (!model)
            model = d->ctl_index == 0 ? (cmd->q35 ? "pcie-root" : "pci-root")
                                      : (cmd->q35 ? "pcie-root-port" : "pci-bridge");
        for (i = 0; i < G_N_ELEMENTS(pci_models); i++) {
            if (strcmp(pci_models[i].model, model) == 0)
                break;
        }
        if (i == G_N_ELEMENTS(pci_models)) {
            qemu_unsupported(error, _("PCI controller model '%s' of %s"), model, who);
            return FALSE;
        }
        d->ctl = pci_models[i].kind;
        d->driver = pci_models[i].driver;
        if ((d->ctl == QCTL_PCI_ROOT) != (d->ctl_index == 0) ||
            (d->ctl == QCTL_PCI_ROOT && strcmp(model, cmd->q35 ? "pcie-root" : "pci-root"))) {
            qemu_unsupported(error, _("PCI controller model '%s' with index %d on machine '%s'"),
                             model, d->ctl_index, cmd->machine);
            return FALSE;
        }
        if (!cmd->q35 && (d->ctl == QCTL_PCIE_ROOT_PORT || d->ctl == QCTL_PCIE_PCI_BRIDGE ||
                          d->ctl == QCTL_DMI_PCI_BRIDGE)) {
            qemu_unsupported(error, _("PCI Express controller '%s' on the i440fx machine '%s'"),
                             model, cmd->machine);
            return FALSE;
        }
    } else if (strcmp(type, "usb") == 0) {
        d->ctl = QCTL_USB;
        if (!model)
            model = cmd->q35 ? "qemu-xhci" : "piix3-uhci";
        if (strcmp(model, "none") == 0) {
            d->skip = TRUE;
            return TRUE;
        }
        for (i = 0; i < G_N_ELEMENTS(usb_models); i++) {
            if (strcmp(usb_models[i].model, model) == 0)
                break;
        }
        if (i == G_N_ELEMENTS(usb_models)) {
            qemu_unsupported(error, _("USB controller model '%s' of %s"), model, who);
            return FALSE;
        }
        d->driver = usb_models[i].driver;
        d->usb_ports = usb_models[i].ports;
    } else if (strcmp(type, "scsi") == 0) {
        d->ctl = QCTL_SCSI;
        if (!model || strcmp(model, "virtio-scsi") == 0)
            d->driver = "virtio-scsi-pci";
        else if (strcmp(model, "virtio-transitional") == 0)
            d->driver = "virtio-scsi-pci-transitional";
        else if (strcmp(model, "virtio-non-transitional") == 0)
            d->driver = "virtio-scsi-pci-non-transitional";
        else {
            qemu_unsupported(error, _("SCSI controller model '%s' of %s (only virtio-scsi)"), model,
                             who);
            return FALSE;
        }
    } else if (strcmp(type, "sata") == 0) {
        d->ctl = QCTL_SATA;
        d->driver = "ahci";
        d->builtin = cmd->q35 && d->ctl_index == 0;
    } else if (strcmp(type, "ide") == 0) {
        d->ctl = QCTL_IDE;
        if (cmd->q35 || d->ctl_index != 0) {
            qemu_unsupported(error, _("IDE controller with index %d on machine '%s'"), d->ctl_index,
                             cmd->machine);
            return FALSE;
        }
        d->builtin = TRUE;
    } else if (strcmp(type, "virtio-serial") == 0) {
        d->ctl = QCTL_VSERIAL;
        if (!model || strcmp(model, "virtio") == 0)
            d->driver = "virtio-serial-pci";
        else if (strcmp(model, "virtio-transitional") == 0)
            d->driver = "virtio-serial-pci-transitional";
        else if (strcmp(model, "virtio-non-transitional") == 0)
            d->driver = "virtio-serial-pci-non-transitional";
        else {
            qemu_unsupported(error, _("virtio-serial controller model '%s' of %s"), model, who);
            return FALSE;
        }
    } else {
        qemu_unsupported(error, _("controller type '%s' (%s)"), type, who);
        return FALSE;
    }
    return TRUE;
}

static gboolean int_attr(const HearthXmlExtra *extra, const char *name, int *out, const char *who,
                         GError **error)
{
    const char *s = qemu_extra_attr(extra, name);
    guint64 v;

    if (!s)
        return TRUE;
    if (!qemu_parse_uint(s, G_MAXINT, &v)) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_XML_ERROR, _("invalid %s='%s' in %s"), name, s,
                    who);
        return FALSE;
    }
    *out = (int)v;
    return TRUE;
}

gboolean qemu_controller_check(QemuCmd *cmd, QemuDev *d, GError **error)
{
    const HearthDomainController *ctl = d->src;
    g_autofree char *who = NULL;
    int ports = -1, vectors = -1, queues = -1;
    guint i;

    d->ctl_type = ctl->type;
    d->ctl_index = ctl->index < 0 ? 0 : ctl->index;
    d->json_extra = qemu_json_new();
    who = g_strdup_printf("<controller type='%s' index='%d'>", d->ctl_type, d->ctl_index);
    if (!controller_model(cmd, d, ctl->model, who, error))
        return FALSE;
    controller_alias(cmd, d, &ctl->info);

    switch (d->ctl) {
    case QCTL_PCI_ROOT:
        return qemu_extra_check(&ctl->extra, "controller", who, NULL, NULL, error);
    case QCTL_PCIE_ROOT_PORT:
    case QCTL_PCI_BRIDGE:
    case QCTL_PCIE_PCI_BRIDGE:
    case QCTL_DMI_PCI_BRIDGE:
        return pci_controller_options(d, ctl, who, error);
    case QCTL_USB:
        if (!int_attr(&ctl->extra, "ports", &ports, who, error))
            return FALSE;
        if (ports >= 0) {
            if (strstr(d->driver, "xhci") == NULL) {
                qemu_unsupported(error, _("attribute ports='%d' of %s (only for xHCI)"), ports,
                                 who);
                return FALSE;
            }
            d->usb_ports = ports;
            qemu_json_int(d->json_extra, "p2", ports);
            qemu_json_int(d->json_extra, "p3", ports);
        }
        return qemu_extra_check(&ctl->extra, "controller", who, QEMU_LIST("ports"), NULL, error);
    case QCTL_VSERIAL:
        if (!int_attr(&ctl->extra, "ports", &ports, who, error) ||
            !int_attr(&ctl->extra, "vectors", &vectors, who, error))
            return FALSE;
        if (ports >= 0)
            qemu_json_int(d->json_extra, "max_ports", ports);
        if (vectors >= 0)
            qemu_json_int(d->json_extra, "vectors", vectors);
        return qemu_extra_check(&ctl->extra, "controller", who, QEMU_LIST("ports", "vectors"), NULL,
                                error);
    case QCTL_SCSI:
        for (i = 0; ctl->extra.children && i < ctl->extra.children->len; i++) {
            g_autofree char *name = NULL;
            g_autoptr(GHashTable) attrs =
                qemu_xml_attrs(g_ptr_array_index(ctl->extra.children, i), &name, error);
            const char *q;
            guint64 v;

            if (!attrs)
                return FALSE;
            if (strcmp(name, "driver") != 0)
                continue;
            q = g_hash_table_lookup(attrs, "queues");
            if (g_hash_table_size(attrs) != (q ? 1u : 0u) || (q && !qemu_parse_uint(q, 1024, &v))) {
                qemu_unsupported(error, _("<driver> options of %s (only queues='N')"), who);
                return FALSE;
            }
            if (q)
                queues = (int)v;
        }
        if (queues > 0)
            qemu_json_int(d->json_extra, "num_queues", queues);
        return qemu_extra_check(&ctl->extra, "controller", who, NULL, QEMU_LIST("driver"), error);
    case QCTL_SATA:
    case QCTL_IDE:
        return qemu_extra_check(&ctl->extra, "controller", who, NULL, NULL, error);
    }
    return TRUE;
}

QemuDev *qemu_controller_implicit(QemuCmd *cmd, const char *type, int index, GError **error)
{
    QemuDev *d = g_new0(QemuDev, 1);
    g_autofree char *who = g_strdup_printf("<controller type='%s' index='%d'>", type, index);

    d->kind = QDEV_CONTROLLER;
    d->what = "controller";
    d->ctl_type = type;
    d->ctl_index = index;
    d->json_extra = qemu_json_new();
    g_ptr_array_add(cmd->devs, d);
    if (!controller_model(cmd, d, NULL, who, error))
        return NULL;
    controller_alias(cmd, d, NULL);
    if (d->ctl == QCTL_PCIE_ROOT_PORT || d->ctl == QCTL_PCI_BRIDGE) {
        d->pci_chassis = index;
        d->pci_port = -1;
    }
    return d;
}

static gboolean controller_emit(QemuCmd *cmd, QemuDev *d, GError **error)
{
    g_autoptr(GString) j = qemu_json_new();

    qemu_json_str(j, "driver", d->driver);
    switch (d->ctl) {
    case QCTL_PCIE_ROOT_PORT:
        qemu_json_int(j, "port",
                      d->pci_port >= 0 ? d->pci_port
                                       : (gint64)((d->addr.slot << 3) + d->addr.function));
        qemu_json_int(j, "chassis", d->pci_chassis);
        qemu_json_str(j, "id", d->alias);
        break;
    case QCTL_PCI_BRIDGE:
        qemu_json_int(j, "chassis_nr", d->pci_chassis);
        qemu_json_str(j, "id", d->alias);
        break;
    case QCTL_SCSI:
    case QCTL_VSERIAL:
    case QCTL_USB:
        if (d->ctl == QCTL_USB && d->json_extra->len > 1)
            g_string_append_printf(j, ",%s", d->json_extra->str + 1);
        qemu_json_str(j, "id", d->alias);
        break;
    default:
        qemu_json_str(j, "id", d->alias);
        break;
    }
    if (d->ctl != QCTL_USB && d->json_extra->len > 1)
        g_string_append_printf(j, ",%s", d->json_extra->str + 1);
    if (!qemu_addr_json(cmd, j, d, error))
        return FALSE;
    qemu_cmd_take_pair(cmd, "-device", qemu_json_finish(g_steal_pointer(&j)));
    return TRUE;
}

gboolean qemu_build_controllers(QemuCmd *cmd, GError **error)
{
    static const char *const order[] = {"pci", "usb", "scsi", "ide", "sata", "virtio-serial"};
    guint t, i;

    for (t = 0; t < G_N_ELEMENTS(order); t++) {
        for (i = 0; i < cmd->devs->len; i++) {
            QemuDev *d = g_ptr_array_index(cmd->devs, i);

            if (d->kind != QDEV_CONTROLLER || strcmp(d->ctl_type, order[t]) != 0 || d->skip ||
                d->builtin || d->ctl == QCTL_PCI_ROOT)
                continue;
            if (!controller_emit(cmd, d, error))
                return FALSE;
        }
    }
    return TRUE;
}
