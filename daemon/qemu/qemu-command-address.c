/* Device addresses: <address> parsing, PCI slots assigned in libvirt's order, USB ports,
 * virtio-serial ports, and the bus/addr members of -device. */
#include "qemu-command-priv.h"

#include <string.h>

static gboolean attr_uint(GHashTable *attrs, const char *name, guint max, guint *out,
                          const char *what, GError **error)
{
    const char *s = g_hash_table_lookup(attrs, name);
    guint64 v;

    if (!s)
        return TRUE;
    if (!qemu_parse_uint(s, max, &v)) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_XML_ERROR,
                    _("invalid %s='%s' in the <address> of %s"), name, s, what);
        return FALSE;
    }
    *out = (guint)v;
    return TRUE;
}

gboolean qemu_addr_parse(QemuDev *d, const char *xml, const char *who, GError **error)
{
    g_autoptr(GHashTable) attrs = qemu_xml_attrs(xml, NULL, error);
    const char *type, *s;
    guint domain = 0;

    if (!attrs)
        return FALSE;
    type = g_hash_table_lookup(attrs, "type");
    if (!type) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_XML_ERROR,
                    _("missing attribute 'type' in the <address> of %s"), who);
        return FALSE;
    }
    if (strcmp(type, "pci") == 0) {
        d->addr.type = QEMU_ADDR_PCI;
        if (!attr_uint(attrs, "domain", 0xffff, &domain, who, error) ||
            !attr_uint(attrs, "bus", QEMU_PCI_MAX_BUS - 1, &d->addr.bus, who, error) ||
            !attr_uint(attrs, "slot", QEMU_PCI_SLOTS - 1, &d->addr.slot, who, error) ||
            !attr_uint(attrs, "function", 7, &d->addr.function, who, error))
            return FALSE;
        if (domain != 0) {
            qemu_unsupported(error, _("PCI domain %u in the <address> of %s (only 0)"), domain,
                             who);
            return FALSE;
        }
        s = g_hash_table_lookup(attrs, "multifunction");
        if (s && strcmp(s, "on") == 0)
            d->addr.multifunction = HEARTH_TRISTATE_YES;
        else if (s && strcmp(s, "off") == 0)
            d->addr.multifunction = HEARTH_TRISTATE_NO;
        else if (s) {
            g_set_error(error, HEARTH_ERROR, HEARTH_ERR_XML_ERROR,
                        _("invalid multifunction='%s' in the <address> of %s"), s, who);
            return FALSE;
        }
    } else if (strcmp(type, "drive") == 0) {
        d->addr.type = QEMU_ADDR_DRIVE;
        if (!attr_uint(attrs, "controller", 255, &d->addr.controller, who, error) ||
            !attr_uint(attrs, "bus", 255, &d->addr.bus, who, error) ||
            !attr_uint(attrs, "target", 255, &d->addr.target, who, error) ||
            !attr_uint(attrs, "unit", 16383, &d->addr.unit, who, error))
            return FALSE;
    } else if (strcmp(type, "usb") == 0) {
        d->addr.type = QEMU_ADDR_USB;
        if (!attr_uint(attrs, "bus", 255, &d->addr.bus, who, error))
            return FALSE;
        s = g_hash_table_lookup(attrs, "port");
        if (s && *s) {
            if (strspn(s, "0123456789.") != strlen(s) || s[0] == '.' || strstr(s, "..")) {
                g_set_error(error, HEARTH_ERROR, HEARTH_ERR_XML_ERROR,
                            _("invalid port='%s' in the <address> of %s"), s, who);
                return FALSE;
            }
            d->addr.usb_port = g_strdup(s);
        }
    } else if (strcmp(type, "virtio-serial") == 0) {
        d->addr.type = QEMU_ADDR_VSERIAL;
        if (!attr_uint(attrs, "controller", 255, &d->addr.controller, who, error) ||
            !attr_uint(attrs, "bus", 0, &d->addr.bus, who, error) ||
            !attr_uint(attrs, "port", QEMU_VSERIAL_PORTS - 1, &d->addr.port, who, error))
            return FALSE;
    } else if (strcmp(type, "isa") == 0) {
        d->addr.type = QEMU_ADDR_ISA;
        if (!attr_uint(attrs, "iobase", 0xffff, &d->addr.iobase, who, error))
            return FALSE;
        if (g_hash_table_lookup(attrs, "irq")) {
            if (!attr_uint(attrs, "irq", 255, &d->addr.irq, who, error))
                return FALSE;
            d->addr.has_irq = TRUE;
        }
    } else {
        qemu_unsupported(error, _("address type '%s' of %s"), type, who);
        return FALSE;
    }
    return TRUE;
}

/* ---- PCI ---- */

static gboolean pci_fn_used(QemuCmd *cmd, guint bus, guint slot, guint fn)
{
    return (cmd->pci_used[bus][slot] & (1u << fn)) != 0;
}

static gboolean pci_reserve(QemuCmd *cmd, const QemuDev *d, GError **error)
{
    const QemuAddr *a = &d->addr;

    if (!cmd->pci_bus_exists[a->bus]) {
        qemu_unsupported(error,
                         _("PCI bus 0x%02x used by <%s> '%s' has no <controller type='pci' "
                           "index='%u'>"),
                         a->bus, d->what, d->alias, a->bus);
        return FALSE;
    }
    if (pci_fn_used(cmd, a->bus, a->slot, a->function)) {
        qemu_unsupported(error, _("PCI address 0000:%02x:%02x.%x of <%s> '%s' is already in use"),
                         a->bus, a->slot, a->function, d->what, d->alias);
        return FALSE;
    }
    cmd->pci_used[a->bus][a->slot] |= (guint8)(1u << a->function);
    return TRUE;
}

/* A whole free slot on the root bus, from 0x2 upwards as libvirt counts. */
static gboolean pci_assign_slot(QemuCmd *cmd, QemuDev *d, GError **error)
{
    guint slot;

    for (slot = 2; slot < QEMU_PCI_SLOTS; slot++) {
        if (cmd->pci_used[0][slot] == 0) {
            d->addr.type = QEMU_ADDR_PCI;
            d->addr.bus = 0;
            d->addr.slot = slot;
            d->addr.function = 0;
            cmd->pci_used[0][slot] = 0x01;
            return TRUE;
        }
    }
    qemu_unsupported(error, _("no free PCI slot on %s for <%s> '%s'"), cmd->root_bus, d->what,
                     d->alias);
    return FALSE;
}

static gboolean pci_wanted(const QemuDev *d)
{
    return d->addr.type == QEMU_ADDR_NONE && !d->skip && !d->builtin;
}

/* pcie-root-ports share slots function by function, as libvirt packs them. */
static gboolean pci_assign_root_port(QemuCmd *cmd, QemuDev *d, guint *agg_slot, GError **error)
{
    guint fn;

    if (*agg_slot) {
        for (fn = 0; fn < 8; fn++) {
            if (!pci_fn_used(cmd, 0, *agg_slot, fn)) {
                d->addr.type = QEMU_ADDR_PCI;
                d->addr.slot = *agg_slot;
                d->addr.function = fn;
                cmd->pci_used[0][*agg_slot] |= (guint8)(1u << fn);
                return TRUE;
            }
        }
    }
    if (!pci_assign_slot(cmd, d, error))
        return FALSE;
    *agg_slot = d->addr.slot;
    return TRUE;
}

static gboolean dev_wants_pci(const QemuDev *d)
{
    switch (d->kind) {
    case QDEV_CONTROLLER:
        return d->ctl != QCTL_PCI_ROOT && !d->builtin;
    case QDEV_DISK:
        return strcmp(d->bus, "virtio") == 0;
    case QDEV_NET:
    case QDEV_VIDEO:
    case QDEV_SOUND:
    case QDEV_BALLOON:
    case QDEV_RNG:
        return !d->skip;
    case QDEV_WATCHDOG:
        return g_strcmp0(d->model, "i6300esb") == 0;
    case QDEV_INPUT:
        return !d->skip && g_strcmp0(d->model, "virtio") == 0;
    default:
        return FALSE;
    }
}

static gboolean is_pci_controller(const QemuDev *d)
{
    return d->kind == QDEV_CONTROLLER &&
           (d->ctl == QCTL_PCIE_ROOT_PORT || d->ctl == QCTL_PCI_BRIDGE ||
            d->ctl == QCTL_PCIE_PCI_BRIDGE || d->ctl == QCTL_DMI_PCI_BRIDGE);
}

static gboolean pci_assign_kind(QemuCmd *cmd, QemuDevKind kind, GError **error)
{
    guint i;

    for (i = 0; i < cmd->devs->len; i++) {
        QemuDev *d = g_ptr_array_index(cmd->devs, i);

        if (d->kind != kind || is_pci_controller(d) || !dev_wants_pci(d) || !pci_wanted(d))
            continue;
        if (!pci_assign_slot(cmd, d, error))
            return FALSE;
    }
    return TRUE;
}

/* The first video of the domain, which QEMU expects in a fixed slot. */
static QemuDev *primary_video(QemuCmd *cmd)
{
    guint i;

    for (i = 0; i < cmd->devs->len; i++) {
        QemuDev *d = g_ptr_array_index(cmd->devs, i);

        if (d->kind == QDEV_VIDEO)
            return d->skip ? NULL : d;
    }
    return NULL;
}

static void pci_place_fixed(QemuCmd *cmd, QemuDev *d, guint slot, guint fn)
{
    d->addr.type = QEMU_ADDR_PCI;
    d->addr.bus = 0;
    d->addr.slot = slot;
    d->addr.function = fn;
    cmd->pci_used[0][slot] |= (guint8)(1u << fn);
}

gboolean qemu_plan_pci(QemuCmd *cmd, GError **error)
{
    static const QemuDevKind order[] = {QDEV_NET,     QDEV_SOUND, QDEV_CONTROLLER, QDEV_DISK,
                                        QDEV_BALLOON, QDEV_RNG,   QDEV_WATCHDOG};
    QemuDev *video = primary_video(cmd);
    guint i, agg_slot = 0, chipset;

    for (i = 0; i < cmd->devs->len; i++) {
        QemuDev *d = g_ptr_array_index(cmd->devs, i);

        if (d->addr.type != QEMU_ADDR_PCI)
            continue;
        if (d->builtin) {
            /* Written by libvirt for the chipset's own controllers: must be where they are. */
            guint slot = cmd->q35 ? 0x1f : 1, fn = cmd->q35 ? 2 : 1;

            if (d->addr.bus != 0 || d->addr.slot != slot || d->addr.function != fn) {
                qemu_unsupported(error,
                                 _("<%s> '%s' is part of the machine and lives at "
                                   "0000:00:%02x.%x"),
                                 d->what, d->alias, slot, fn);
                return FALSE;
            }
            d->addr.type = QEMU_ADDR_NONE;
            continue;
        }
        if (!dev_wants_pci(d)) {
            qemu_unsupported(error, _("a PCI address for <%s> '%s'"), d->what, d->alias);
            return FALSE;
        }
        if (!pci_reserve(cmd, d, error))
            return FALSE;
    }

    /* The chipset: host bridge at 0, PIIX3 at 1 (pc; its USB function 2 may be taken by
     * piix3-usb-uhci), ICH9 LPC/SATA/SMBus at 0x1f (q35). */
    chipset = cmd->q35 ? 0x1f : 1;
    if ((cmd->pci_used[0][0] | (cmd->pci_used[0][chipset] & (cmd->q35 ? 0xff : 0xfb))) != 0) {
        qemu_unsupported(error, _("PCI slots 0000:00:00 and 0000:00:%02x belong to the chipset"),
                         chipset);
        return FALSE;
    }
    cmd->pci_used[0][0] = 0xff;
    cmd->pci_used[0][chipset] = 0xff;

    /* Fixed places libvirt gives to integrated-looking devices. */
    if (video && video->addr.type == QEMU_ADDR_NONE) {
        guint slot = cmd->q35 ? 1 : 2;

        if (cmd->pci_used[0][slot] == 0)
            pci_place_fixed(cmd, video, slot, 0);
    }
    for (i = 0; i < cmd->devs->len; i++) {
        QemuDev *d = g_ptr_array_index(cmd->devs, i);

        if (cmd->q35 && d->kind == QDEV_SOUND && g_strcmp0(d->model, "ich9") == 0 &&
            d->addr.type == QEMU_ADDR_NONE && cmd->pci_used[0][0x1b] == 0)
            pci_place_fixed(cmd, d, 0x1b, 0);
        if (!cmd->q35 && d->kind == QDEV_CONTROLLER && d->ctl == QCTL_USB && d->ctl_index == 0 &&
            d->addr.type == QEMU_ADDR_NONE && g_strcmp0(d->driver, "piix3-usb-uhci") == 0)
            pci_place_fixed(cmd, d, 1, 2); /* PIIX3's own USB function */
    }

    for (i = 0; i < cmd->devs->len; i++) {
        QemuDev *d = g_ptr_array_index(cmd->devs, i);

        if (!is_pci_controller(d) || !pci_wanted(d))
            continue;
        if (d->ctl == QCTL_PCIE_ROOT_PORT) {
            if (!pci_assign_root_port(cmd, d, &agg_slot, error))
                return FALSE;
        } else if (!pci_assign_slot(cmd, d, error)) {
            return FALSE;
        }
    }
    for (i = 0; i < G_N_ELEMENTS(order); i++) {
        if (!pci_assign_kind(cmd, order[i], error))
            return FALSE;
    }
    if (video && video->addr.type == QEMU_ADDR_NONE && !pci_assign_slot(cmd, video, error))
        return FALSE;
    if (!pci_assign_kind(cmd, QDEV_VIDEO, error) || !pci_assign_kind(cmd, QDEV_INPUT, error))
        return FALSE;

    /* Function 0 of a slot whose other functions are taken announces multifunction. */
    for (i = 0; i < cmd->devs->len; i++) {
        QemuDev *d = g_ptr_array_index(cmd->devs, i);

        if (d->addr.type == QEMU_ADDR_PCI && d->addr.function == 0 &&
            d->addr.multifunction == HEARTH_TRISTATE_ABSENT && is_pci_controller(d) &&
            (cmd->pci_used[d->addr.bus][d->addr.slot] & 0xfe))
            d->addr.multifunction = HEARTH_TRISTATE_YES;
    }
    return TRUE;
}

/* ---- USB and virtio-serial ports ---- */

/* Explicit ports first (@explicit_pass), then the lowest free one, as libvirt counts. */
gboolean qemu_plan_usb(QemuCmd *cmd, QemuDev *d, gboolean explicit_pass, GError **error)
{
    QemuDev *ctl = (QemuDev *)qemu_plan_controller(cmd, "usb", (int)d->addr.bus);
    guint64 port;

    if (!ctl || ctl->usb_ports == 0) {
        qemu_unsupported(error, _("<%s> '%s' needs a USB controller with index %u"), d->what,
                         d->alias, d->addr.bus);
        return FALSE;
    }
    if (explicit_pass) {
        if (!d->addr.usb_port)
            return TRUE;
        if (!qemu_parse_uint(d->addr.usb_port, 64, &port) || port == 0 ||
            port > (guint64)ctl->usb_ports) {
            qemu_unsupported(error, _("USB port '%s' of <%s> '%s' (controller '%s' has %d)"),
                             d->addr.usb_port, d->what, d->alias, ctl->alias, ctl->usb_ports);
            return FALSE;
        }
        if (ctl->usb_used & (G_GUINT64_CONSTANT(1) << (port - 1))) {
            qemu_unsupported(error, _("USB port '%s' of <%s> '%s' is already in use"),
                             d->addr.usb_port, d->what, d->alias);
            return FALSE;
        }
        ctl->usb_used |= G_GUINT64_CONSTANT(1) << (port - 1);
        return TRUE;
    }
    if (d->addr.usb_port)
        return TRUE;
    for (port = 1; port <= (guint64)ctl->usb_ports && port <= 64; port++) {
        if (!(ctl->usb_used & (G_GUINT64_CONSTANT(1) << (port - 1)))) {
            ctl->usb_used |= G_GUINT64_CONSTANT(1) << (port - 1);
            d->addr.usb_port = g_strdup_printf("%" G_GUINT64_FORMAT, port);
            return TRUE;
        }
    }
    qemu_unsupported(error, _("no free port on USB controller '%s' for <%s> '%s'"), ctl->alias,
                     d->what, d->alias);
    return FALSE;
}

gboolean qemu_plan_vserial(QemuCmd *cmd, QemuDev *d, guint first, gboolean explicit_pass,
                           GError **error)
{
    QemuDev *ctl = (QemuDev *)qemu_plan_controller(cmd, "virtio-serial", (int)d->addr.controller);
    guint port;

    if (!ctl) {
        qemu_unsupported(error, _("<%s> '%s' needs a virtio-serial controller with index %u"),
                         d->what, d->alias, d->addr.controller);
        return FALSE;
    }
    if (explicit_pass) {
        if (ctl->vserial_used[d->addr.port]) {
            qemu_unsupported(error, _("virtio-serial port %u of <%s> '%s' is already in use"),
                             d->addr.port, d->what, d->alias);
            return FALSE;
        }
        ctl->vserial_used[d->addr.port] = 1;
        return TRUE;
    }
    for (port = first; port < QEMU_VSERIAL_PORTS; port++) {
        if (!ctl->vserial_used[port]) {
            ctl->vserial_used[port] = 1;
            d->addr.type = QEMU_ADDR_VSERIAL;
            d->addr.port = port;
            return TRUE;
        }
    }
    qemu_unsupported(error, _("no free virtio-serial port for <%s> '%s'"), d->what, d->alias);
    return FALSE;
}

/* ---- -device members ---- */

static const char *pci_bus_name(QemuCmd *cmd, guint bus)
{
    const QemuDev *ctl;

    if (bus == 0)
        return cmd->root_bus;
    ctl = qemu_plan_controller(cmd, "pci", (int)bus);
    return ctl ? ctl->alias : NULL;
}

gboolean qemu_addr_json(QemuCmd *cmd, GString *j, const QemuDev *d, GError **error)
{
    const QemuAddr *a = &d->addr;
    const QemuDev *ctl;
    g_autofree char *bus = NULL;

    switch (a->type) {
    case QEMU_ADDR_NONE:
        return TRUE;
    case QEMU_ADDR_PCI:
        qemu_json_str(j, "bus", pci_bus_name(cmd, a->bus));
        if (a->multifunction != HEARTH_TRISTATE_ABSENT)
            qemu_json_bool(j, "multifunction", a->multifunction == HEARTH_TRISTATE_YES);
        bus = a->function ? g_strdup_printf("0x%x.0x%x", a->slot, a->function)
                          : g_strdup_printf("0x%x", a->slot);
        qemu_json_str(j, "addr", bus);
        return TRUE;
    case QEMU_ADDR_DRIVE:
        if (strcmp(d->bus, "ide") == 0) {
            bus = g_strdup_printf("ide.%u", a->bus);
            qemu_json_str(j, "bus", bus);
            qemu_json_int(j, "unit", a->unit);
        } else if (strcmp(d->bus, "sata") == 0) {
            ctl = qemu_plan_controller(cmd, "sata", (int)a->controller);
            bus = g_strdup_printf("%s.%u", ctl->builtin ? "ide" : ctl->alias, a->unit);
            qemu_json_str(j, "bus", bus);
        } else {
            ctl = qemu_plan_controller(cmd, "scsi", (int)a->controller);
            bus = g_strdup_printf("%s.0", ctl->alias);
            qemu_json_str(j, "bus", bus);
            qemu_json_int(j, "channel", a->bus);
            qemu_json_int(j, "scsi-id", a->target);
            qemu_json_int(j, "lun", a->unit);
        }
        return TRUE;
    case QEMU_ADDR_USB:
        ctl = qemu_plan_controller(cmd, "usb", (int)a->bus);
        bus = g_strdup_printf("%s.0", ctl->alias);
        qemu_json_str(j, "bus", bus);
        qemu_json_str(j, "port", a->usb_port);
        return TRUE;
    case QEMU_ADDR_VSERIAL:
        ctl = qemu_plan_controller(cmd, "virtio-serial", (int)a->controller);
        bus = g_strdup_printf("%s.%u", ctl->alias, a->bus);
        qemu_json_str(j, "bus", bus);
        qemu_json_int(j, "nr", a->port);
        return TRUE;
    case QEMU_ADDR_ISA:
        qemu_json_int(j, "iobase", a->iobase);
        if (a->has_irq)
            qemu_json_int(j, "irq", a->irq);
        return TRUE;
    }
    qemu_internal(error, _("unknown address type %d"), a->type);
    return FALSE;
}
