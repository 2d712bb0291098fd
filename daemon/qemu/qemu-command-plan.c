/* The device plan: one QemuDev per device with its alias, address and boot index, and the
 * controllers the devices imply, decided before any argument is written. */
#include "qemu-command-priv.h"

#include <string.h>

void qemu_dev_free(gpointer p)
{
    QemuDev *d = p;

    if (!d)
        return;
    g_free(d->alias);
    g_free(d->addr.usb_port);
    if (d->json_extra)
        g_string_free(d->json_extra, TRUE);
    g_free(d->chr_path);
    g_free(d->model);
    g_free(d->action);
    g_free(d);
}

const QemuDev *qemu_plan_controller(QemuCmd *cmd, const char *type, int index)
{
    guint i;

    for (i = 0; i < cmd->devs->len; i++) {
        const QemuDev *d = g_ptr_array_index(cmd->devs, i);

        if (d->kind == QDEV_CONTROLLER && d->ctl_type && strcmp(d->ctl_type, type) == 0 &&
            d->ctl_index == index)
            return d;
    }
    return NULL;
}

/* vda → 0, sdb → 1, hdaa → 26: libvirt's virDiskNameToIndex. */
gboolean qemu_disk_index(const char *name, int *index)
{
    static const char *const prefixes[] = {"fd", "hd", "vd", "sd", "xvd", "ubd"};
    const char *p = NULL;
    int idx = 0;
    guint i;

    for (i = 0; i < G_N_ELEMENTS(prefixes); i++) {
        if (g_str_has_prefix(name, prefixes[i])) {
            p = name + strlen(prefixes[i]);
            break;
        }
    }
    if (!p || !*p)
        return FALSE;
    for (i = 0; p[i]; i++) {
        if (p[i] < 'a' || p[i] > 'z' || idx > 100000)
            return FALSE;
        idx = (idx + (i ? 1 : 0)) * 26 + (p[i] - 'a');
    }
    *index = idx;
    return TRUE;
}

static QemuDev *dev_add(QemuCmd *cmd, QemuDevKind kind, const void *src,
                        const HearthDeviceInfo *info, const char *what, guint *counter)
{
    QemuDev *d = g_new0(QemuDev, 1);

    d->kind = kind;
    d->src = src;
    d->info = info;
    d->what = what;
    d->ordinal = (*counter)++;
    g_ptr_array_add(cmd->devs, d);
    return d;
}

void qemu_dev_alias(QemuDev *d, const char *fmt, ...)
{
    va_list ap;

    if (d->info && d->info->alias && g_str_has_prefix(d->info->alias, "ua-")) {
        d->alias = g_strdup(d->info->alias);
        return;
    }
    va_start(ap, fmt);
    d->alias = g_strdup_vprintf(fmt, ap);
    va_end(ap);
}

static gboolean collect(QemuCmd *cmd, GError **error)
{
    guint counters[QDEV_PANIC + 1] = {0};
    guint i;

    for (i = 0; i < cmd->def->devices->len; i++) {
        const HearthDomainDevice *dev = g_ptr_array_index(cmd->def->devices, i);
        QemuDev *d = NULL;

        switch (dev->kind) {
        case HEARTH_DEVICE_DISK:
            d = dev_add(cmd, QDEV_DISK, dev->u.disk, &dev->u.disk->info, "disk",
                        &counters[QDEV_DISK]);
            break;
        case HEARTH_DEVICE_CONTROLLER:
            d = dev_add(cmd, QDEV_CONTROLLER, dev->u.controller, &dev->u.controller->info,
                        "controller", &counters[QDEV_CONTROLLER]);
            break;
        case HEARTH_DEVICE_INTERFACE:
            d = dev_add(cmd, QDEV_NET, dev->u.net, &dev->u.net->info, "interface",
                        &counters[QDEV_NET]);
            break;
        case HEARTH_DEVICE_CHR: {
            static const QemuDevKind kinds[] = {QDEV_SERIAL, QDEV_CONSOLE, QDEV_PARALLEL,
                                                QDEV_CHANNEL};
            static const char *const names[] = {"serial", "console", "parallel", "channel"};
            HearthChrKind k = dev->u.chr->kind;

            d = dev_add(cmd, kinds[k], dev->u.chr, &dev->u.chr->info, names[k],
                        &counters[kinds[k]]);
            break;
        }
        case HEARTH_DEVICE_INPUT:
            d = dev_add(cmd, QDEV_INPUT, dev->u.input, &dev->u.input->info, "input",
                        &counters[QDEV_INPUT]);
            break;
        case HEARTH_DEVICE_GRAPHICS:
            d = dev_add(cmd, QDEV_GRAPHICS, dev->u.graphics, &dev->u.graphics->info, "graphics",
                        &counters[QDEV_GRAPHICS]);
            break;
        case HEARTH_DEVICE_VIDEO:
            d = dev_add(cmd, QDEV_VIDEO, dev->u.video, &dev->u.video->info, "video",
                        &counters[QDEV_VIDEO]);
            break;
        case HEARTH_DEVICE_SOUND:
            d = dev_add(cmd, QDEV_SOUND, dev->u.sound, &dev->u.sound->info, "sound",
                        &counters[QDEV_SOUND]);
            break;
        case HEARTH_DEVICE_MEMBALLOON:
            d = dev_add(cmd, QDEV_BALLOON, dev->u.memballoon, &dev->u.memballoon->info,
                        "memballoon", &counters[QDEV_BALLOON]);
            break;
        case HEARTH_DEVICE_RNG:
            d = dev_add(cmd, QDEV_RNG, dev->u.rng, &dev->u.rng->info, "rng", &counters[QDEV_RNG]);
            break;
        case HEARTH_DEVICE_OTHER: {
            QemuDevKind kind;

            if (!qemu_other_device_kind(dev->u.other_xml, &kind, error))
                return FALSE;
            d = dev_add(cmd, kind, dev->u.other_xml, NULL,
                        kind == QDEV_AUDIO      ? "audio"
                        : kind == QDEV_WATCHDOG ? "watchdog"
                                                : "panic",
                        &counters[kind]);
            break;
        }
        }
        if (d && d->info && d->info->address) {
            g_autofree char *who = g_strdup_printf(_("a <%s> device"), d->what);

            if (!qemu_addr_parse(d, d->info->address, who, error))
                return FALSE;
        }
    }
    return TRUE;
}

static gboolean check_controllers(QemuCmd *cmd, GError **error)
{
    guint i, j, n = cmd->devs->len;

    for (i = 0; i < n; i++) {
        QemuDev *d = g_ptr_array_index(cmd->devs, i);

        if (d->kind == QDEV_CONTROLLER && !qemu_controller_check(cmd, d, error))
            return FALSE;
    }
    for (i = 0; i < n; i++) {
        QemuDev *a = g_ptr_array_index(cmd->devs, i);

        for (j = i + 1; a->kind == QDEV_CONTROLLER && j < n; j++) {
            QemuDev *b = g_ptr_array_index(cmd->devs, j);

            if (b->kind == QDEV_CONTROLLER && strcmp(a->ctl_type, b->ctl_type) == 0 &&
                a->ctl_index == b->ctl_index) {
                qemu_unsupported(error, _("two <controller type='%s' index='%d'> elements"),
                                 a->ctl_type, a->ctl_index);
                return FALSE;
            }
        }
    }
    /* The machine's own controllers, so lookups always find them. */
    if (!qemu_plan_controller(cmd, "pci", 0) && !qemu_controller_implicit(cmd, "pci", 0, error))
        return FALSE;
    if (cmd->q35 && !qemu_plan_controller(cmd, "sata", 0) &&
        !qemu_controller_implicit(cmd, "sata", 0, error))
        return FALSE;
    if (!cmd->q35 && !qemu_plan_controller(cmd, "ide", 0) &&
        !qemu_controller_implicit(cmd, "ide", 0, error))
        return FALSE;
    for (i = 0; i < cmd->devs->len; i++) {
        const QemuDev *d = g_ptr_array_index(cmd->devs, i);

        if (d->kind == QDEV_CONTROLLER && strcmp(d->ctl_type, "pci") == 0)
            cmd->pci_bus_exists[d->ctl_index] = TRUE;
    }
    return TRUE;
}

/* A controller the devices need: the one in the definition, else an implicit one. */
gboolean qemu_plan_need_controller(QemuCmd *cmd, const char *type, int index, GError **error)
{
    const QemuDev *ctl = qemu_plan_controller(cmd, type, index);

    if (ctl) {
        if (ctl->skip) {
            qemu_unsupported(error, _("devices on <controller type='%s' index='%d' model='none'>"),
                             type, index);
            return FALSE;
        }
        return TRUE;
    }
    return qemu_controller_implicit(cmd, type, index, error) != NULL;
}

static gboolean check_devices(QemuCmd *cmd, GError **error)
{
    guint i;

    /* Devices may append implicit controllers: iterate over the original ones only. */
    for (i = 0; i < cmd->devs->len; i++) {
        QemuDev *d = g_ptr_array_index(cmd->devs, i);
        gboolean ok = TRUE;

        switch (d->kind) {
        case QDEV_CONTROLLER:
            break;
        case QDEV_DISK:
            ok = qemu_disk_check(cmd, d, error);
            break;
        case QDEV_NET:
            ok = qemu_net_check(cmd, d, error);
            break;
        case QDEV_SERIAL:
        case QDEV_PARALLEL:
        case QDEV_CONSOLE:
        case QDEV_CHANNEL:
            ok = qemu_chr_check(cmd, d, error);
            break;
        case QDEV_INPUT:
        case QDEV_GRAPHICS:
        case QDEV_VIDEO:
        case QDEV_SOUND:
        case QDEV_AUDIO:
            ok = qemu_graphics_check(cmd, d, error);
            break;
        case QDEV_BALLOON:
        case QDEV_RNG:
        case QDEV_WATCHDOG:
        case QDEV_PANIC:
            ok = qemu_misc_check(cmd, d, error);
            break;
        }
        if (!ok)
            return FALSE;
    }
    return TRUE;
}

static gboolean plan_ports(QemuCmd *cmd, GError **error)
{
    guint i, pass;

    for (pass = 0; pass < 2; pass++) {
        for (i = 0; i < cmd->devs->len; i++) {
            QemuDev *d = g_ptr_array_index(cmd->devs, i);

            if (d->addr.type == QEMU_ADDR_USB && !qemu_plan_usb(cmd, d, pass == 0, error))
                return FALSE;
        }
    }
    /* Explicit virtio-serial ports first, then consoles from port 0 and channels from 1. */
    for (pass = 0; pass < 3; pass++) {
        for (i = 0; i < cmd->devs->len; i++) {
            QemuDev *d = g_ptr_array_index(cmd->devs, i);
            gboolean virtio = (d->kind == QDEV_CONSOLE || d->kind == QDEV_CHANNEL) && !d->skip &&
                              g_strcmp0(d->target_type, "virtio") == 0;

            if (!virtio)
                continue;
            if (pass == 0 && d->addr.type == QEMU_ADDR_VSERIAL && d->addr.port > 0) {
                if (!qemu_plan_vserial(cmd, d, 0, TRUE, error))
                    return FALSE;
            } else if (pass > 0 &&
                       (d->addr.type == QEMU_ADDR_NONE ||
                        (d->addr.type == QEMU_ADDR_VSERIAL && d->addr.port == 0)) &&
                       d->kind == (pass == 1 ? QDEV_CONSOLE : QDEV_CHANNEL)) {
                if (!qemu_plan_vserial(cmd, d, pass == 1 ? 0 : 1, FALSE, error))
                    return FALSE;
            }
        }
    }
    return TRUE;
}

/* bootindex from <boot order=''> on devices, or from <os><boot dev=''> as libvirt maps it:
 * the first disk, first cdrom and first interface get their position in the list. */
static gboolean plan_boot(QemuCmd *cmd, GError **error)
{
    const GArray *boot = cmd->def->os.boot_devs;
    guint per_device = 0, boot_disk = 0, boot_cd = 0, boot_net = 0, i;

    for (i = 0; i < cmd->devs->len; i++) {
        QemuDev *d = g_ptr_array_index(cmd->devs, i);

        if (d->info && d->info->boot_order) {
            if (d->kind != QDEV_DISK && d->kind != QDEV_NET) {
                qemu_unsupported(error, _("<boot order='%u'> on <%s> '%s'"), d->info->boot_order,
                                 d->what, d->alias);
                return FALSE;
            }
            d->bootindex = d->info->boot_order;
            per_device++;
        }
    }
    if (per_device) {
        if (boot && boot->len) {
            g_set_error(error, HEARTH_ERROR, HEARTH_ERR_XML_ERROR,
                        _("per-device boot elements cannot be used together with os/boot "
                          "elements"));
            return FALSE;
        }
        return TRUE;
    }
    if (!boot || boot->len == 0) {
        boot_disk = 1; /* libvirt's default <boot dev='hd'/> */
    } else {
        for (i = 0; i < boot->len; i++) {
            switch (g_array_index(boot, HearthBootDev, i)) {
            case HEARTH_BOOT_HD:
                boot_disk = boot_disk ? boot_disk : i + 1;
                break;
            case HEARTH_BOOT_CDROM:
                boot_cd = boot_cd ? boot_cd : i + 1;
                break;
            case HEARTH_BOOT_NETWORK:
                boot_net = boot_net ? boot_net : i + 1;
                break;
            case HEARTH_BOOT_FD:
                break; /* floppies are not supported: nothing to boot from */
            }
        }
    }
    for (i = 0; i < cmd->devs->len; i++) {
        QemuDev *d = g_ptr_array_index(cmd->devs, i);

        if (d->kind == QDEV_DISK) {
            const HearthDomainDisk *disk = d->src;
            guint *slot = disk->device == HEARTH_DISK_DEVICE_CDROM ? &boot_cd : &boot_disk;

            d->bootindex = *slot;
            *slot = 0;
        } else if (d->kind == QDEV_NET && boot_net) {
            d->bootindex = boot_net;
            boot_net = 0;
        }
    }
    return TRUE;
}

static void plan_nodes(QemuCmd *cmd)
{
    guint i;

    cmd->next_node = 1;
    for (i = 0; i < cmd->devs->len; i++) {
        QemuDev *d = g_ptr_array_index(cmd->devs, i);
        const HearthDomainDisk *disk = d->src;
        const HearthDiskSource *src;

        if (d->kind != QDEV_DISK || !disk->src.path)
            continue;
        d->node = cmd->next_node;
        for (src = &disk->src; src && src->path; src = src->backing)
            cmd->next_node++;
    }
}

gboolean qemu_plan_build(QemuCmd *cmd, GError **error)
{
    if (!collect(cmd, error) || !check_controllers(cmd, error) || !check_devices(cmd, error) ||
        !qemu_plan_pci(cmd, error) || !plan_ports(cmd, error) || !plan_boot(cmd, error))
        return FALSE;
    plan_nodes(cmd);
    return TRUE;
}
