/* <disk>: one storage + format -blockdev pair per image of the backing chain, bottom-up,
 * then the guest device (virtio-blk, ide-hd/ide-cd on IDE or AHCI, scsi-hd/scsi-cd). */
#include "qemu-command-priv.h"

#include <string.h>

typedef struct {
    gboolean set, writeback, direct, no_flush;
} DiskCache;

static const char *const formats[] = {"raw", "qcow2", "qcow", "qed", "vmdk",
                                      "vdi", "vpc",   "vhdx", NULL};
static const char *const backing_formats[] = {"qcow2", "qcow", "qed", "vmdk", NULL};

static gboolean in_list(const char *s, const char *const *list)
{
    for (; *list; list++) {
        if (strcmp(s, *list) == 0)
            return TRUE;
    }
    return FALSE;
}

/* The cache modes as QEMU's cache.direct / cache.no-flush and the device's write-cache. */
static DiskCache disk_cache(const HearthDomainDisk *disk)
{
    const char *m = disk->driver_cache;
    DiskCache c = {FALSE, FALSE, FALSE, FALSE};

    if (!m || strcmp(m, "default") == 0)
        return c;
    c.set = TRUE;
    c.writeback = strcmp(m, "none") == 0 || strcmp(m, "writeback") == 0 || strcmp(m, "unsafe") == 0;
    c.direct = strcmp(m, "none") == 0 || strcmp(m, "directsync") == 0;
    c.no_flush = strcmp(m, "unsafe") == 0;
    return c;
}

static const char *disk_default_bus(const char *dev)
{
    if (g_str_has_prefix(dev, "vd"))
        return "virtio";
    if (g_str_has_prefix(dev, "sd"))
        return "scsi";
    if (g_str_has_prefix(dev, "hd"))
        return "ide";
    if (g_str_has_prefix(dev, "fd"))
        return "fdc";
    if (g_str_has_prefix(dev, "xvd"))
        return "xen";
    return "unknown";
}

static gboolean image_check(const HearthDiskSource *src, gboolean top, const char *who,
                            GError **error)
{
    const char *fmt = src->format ? src->format : "raw";

    if (src->type != HEARTH_DISK_TYPE_FILE && src->type != HEARTH_DISK_TYPE_BLOCK) {
        static const char *const names[] = {"file",   "block", "dir",       "network",
                                            "volume", "nvme",  "vhostuser", "vhostvdpa"};

        qemu_unsupported(error, _("%s type '%s' of %s"), top ? "disk" : "backingStore",
                         names[src->type], who);
        return FALSE;
    }
    if (!top && !src->format) {
        qemu_unsupported(error, _("a <backingStore> without <format> in %s"), who);
        return FALSE;
    }
    if (!top && !src->path) {
        qemu_unsupported(error, _("a <backingStore> without <source> in %s"), who);
        return FALSE;
    }
    if (!in_list(fmt, formats)) {
        qemu_unsupported(error, _("storage format '%s' of %s"), fmt, who);
        return FALSE;
    }
    if (src->backing && src->backing->path && !in_list(fmt, backing_formats)) {
        qemu_unsupported(error, _("storage format '%s' does not support a backing store (%s)"), fmt,
                         who);
        return FALSE;
    }
    if (src->path && !g_path_is_absolute(src->path)) {
        qemu_unsupported(error, _("relative image path '%s' in %s"), src->path, who);
        return FALSE;
    }
    if (!qemu_extra_check(&src->source_extra, "source", who, QEMU_LIST("index"),
                          QEMU_LIST("seclabel"), error))
        return FALSE;
    return top || qemu_extra_check(&src->extra, "backingStore", who, NULL, NULL, error);
}

static gboolean disk_drive_address(QemuCmd *cmd, QemuDev *d, int idx, const char *who,
                                   GError **error)
{
    QemuAddr *a = &d->addr;

    if (a->type == QEMU_ADDR_NONE) {
        a->type = QEMU_ADDR_DRIVE;
        if (strcmp(d->bus, "ide") == 0) {
            a->controller = idx / 4;
            a->bus = (idx % 4) / 2;
            a->unit = idx % 2;
        } else if (strcmp(d->bus, "sata") == 0) {
            a->controller = idx / 6;
            a->unit = idx % 6;
        } else {
            /* libvirt's wide SCSI mapping: 15 units per controller, unit 7 skipped */
            a->controller = idx / 15;
            a->unit = idx % 15;
            if (a->unit >= 7)
                a->unit++;
        }
    } else if (a->type != QEMU_ADDR_DRIVE) {
        qemu_unsupported(error, _("a non-drive <address> on %s"), who);
        return FALSE;
    }
    if ((strcmp(d->bus, "ide") == 0 &&
         (a->controller != 0 || a->bus > 1 || a->unit > 1 || a->target != 0)) ||
        (strcmp(d->bus, "sata") == 0 && (a->bus != 0 || a->unit > 5 || a->target != 0))) {
        qemu_unsupported(error, _("drive address %u:%u:%u:%u of %s"), a->controller, a->bus,
                         a->target, a->unit, who);
        return FALSE;
    }
    if (cmd->q35 && strcmp(d->bus, "ide") == 0) {
        qemu_unsupported(error, _("IDE bus of %s on the q35 machine '%s' (use sata)"), who,
                         cmd->machine);
        return FALSE;
    }
    if (!qemu_plan_need_controller(cmd, d->bus, (int)a->controller, error))
        return FALSE;
    if (strcmp(d->bus, "ide") == 0)
        qemu_dev_alias(d, "ide%u-%u-%u", a->controller, a->bus, a->unit);
    else if (strcmp(d->bus, "sata") == 0)
        qemu_dev_alias(d, "sata%u-%u-%u", a->controller, a->bus, a->unit);
    else
        qemu_dev_alias(d, "scsi%u-%u-%u-%u", a->controller, a->bus, a->target, a->unit);
    return TRUE;
}

gboolean qemu_disk_check(QemuCmd *cmd, QemuDev *d, GError **error)
{
    const HearthDomainDisk *disk = d->src;
    g_autofree char *who = g_strdup_printf("<disk> '%s'", disk->target_dev);
    const HearthDiskSource *src;
    const char *model = qemu_extra_attr(&disk->extra, "model");
    int idx;

    if (disk->device == HEARTH_DISK_DEVICE_FLOPPY) {
        qemu_unsupported(error, _("floppy disk '%s'"), disk->target_dev);
        return FALSE;
    }
    if (disk->device == HEARTH_DISK_DEVICE_LUN) {
        qemu_unsupported(error, _("disk device 'lun' of %s"), who);
        return FALSE;
    }
    if (!qemu_disk_index(disk->target_dev, &idx)) {
        qemu_unsupported(error, _("target dev '%s' of <disk>"), disk->target_dev);
        return FALSE;
    }
    d->bus = disk->target_bus ? disk->target_bus : disk_default_bus(disk->target_dev);
    if (strcmp(d->bus, "virtio") != 0 && strcmp(d->bus, "sata") != 0 &&
        strcmp(d->bus, "ide") != 0 && strcmp(d->bus, "scsi") != 0) {
        qemu_unsupported(error, _("disk bus '%s' of %s"), d->bus, who);
        return FALSE;
    }
    if (disk->device == HEARTH_DISK_DEVICE_CDROM && strcmp(d->bus, "virtio") == 0) {
        qemu_unsupported(error, _("a cdrom on bus 'virtio' (%s)"), who);
        return FALSE;
    }
    if (disk->driver_name && strcmp(disk->driver_name, "qemu") != 0) {
        qemu_unsupported(error, _("driver name '%s' of %s"), disk->driver_name, who);
        return FALSE;
    }
    if (model && (strcmp(d->bus, "virtio") != 0 ||
                  (strcmp(model, "virtio") != 0 && strcmp(model, "virtio-transitional") != 0 &&
                   strcmp(model, "virtio-non-transitional") != 0))) {
        qemu_unsupported(error, _("disk model '%s' of %s"), model, who);
        return FALSE;
    }
    for (src = &disk->src; src; src = src->backing) {
        if (!image_check(src, src == &disk->src, who, error))
            return FALSE;
    }
    if (!disk->src.path && disk->device != HEARTH_DISK_DEVICE_CDROM) {
        qemu_unsupported(error, _("%s without a source image"), who);
        return FALSE;
    }
    if (disk->serial && (!*disk->serial ||
                         strspn(disk->serial, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                              "0123456789_.+- ") != strlen(disk->serial))) {
        qemu_unsupported(error, _("serial '%s' of %s (letters, digits, '-', '_', '.', '+')"),
                         disk->serial, who);
        return FALSE;
    }
    if (!qemu_extra_check(&disk->extra, "disk", who, QEMU_LIST("snapshot", "model"), NULL, error) ||
        !qemu_extra_check(&disk->driver_extra, "driver", who,
                          QEMU_LIST("error_policy", "rerror_policy", "detect_zeroes"), NULL,
                          error) ||
        !qemu_extra_check(&disk->target_extra, "target", who, QEMU_LIST("tray"), NULL, error))
        return FALSE;
    if (g_strcmp0(qemu_extra_attr(&disk->target_extra, "tray"), "open") == 0) {
        qemu_unsupported(error, _("tray='open' of %s"), who);
        return FALSE;
    }
    d->readonly = disk->readonly || disk->device == HEARTH_DISK_DEVICE_CDROM;
    if (disk->readonly && disk->device == HEARTH_DISK_DEVICE_DISK &&
        (strcmp(d->bus, "ide") == 0 || strcmp(d->bus, "sata") == 0)) {
        qemu_unsupported(error,
                         _("a read-only disk on bus '%s' (%s): ide-hd cannot be "
                           "read-only"),
                         d->bus, who);
        return FALSE;
    }
    if (strcmp(d->bus, "virtio") == 0) {
        if (d->addr.type != QEMU_ADDR_NONE && d->addr.type != QEMU_ADDR_PCI) {
            qemu_unsupported(error, _("a non-PCI <address> on %s"), who);
            return FALSE;
        }
        qemu_dev_alias(d, "virtio-disk%d", idx);
        return TRUE;
    }
    return disk_drive_address(cmd, d, idx, who, error);
}

static char *cache_json(DiskCache c)
{
    return g_strdup_printf("{\"direct\":%s,\"no-flush\":%s}", c.direct ? "true" : "false",
                           c.no_flush ? "true" : "false");
}

static void image_blockdevs(QemuCmd *cmd, const HearthDomainDisk *disk, const HearthDiskSource *src,
                            guint node, gboolean top, gboolean readonly)
{
    DiskCache cache = disk_cache(disk);
    g_autofree char *storage = g_strdup_printf("libvirt-%u-storage", node);
    g_autofree char *format = g_strdup_printf("libvirt-%u-format", node);
    g_autofree char *cj = cache.set ? cache_json(cache) : NULL;
    const char *fmt = src->format ? src->format : "raw";
    const char *dz = qemu_extra_attr(&disk->driver_extra, "detect_zeroes");
    GString *j;

    j = qemu_json_new();
    qemu_json_str(j, "driver",
                  src->type == HEARTH_DISK_TYPE_FILE         ? "file"
                  : disk->device == HEARTH_DISK_DEVICE_CDROM ? "host_cdrom"
                                                             : "host_device");
    qemu_json_str(j, "filename", src->path);
    qemu_json_str(j, "aio", disk->driver_io);
    qemu_json_str(j, "node-name", storage);
    if (cj)
        qemu_json_raw(j, "cache", cj);
    qemu_json_bool(j, "auto-read-only", TRUE);
    qemu_json_str(j, "discard", "unmap");
    qemu_cmd_take_pair(cmd, "-blockdev", qemu_json_finish(j));

    j = qemu_json_new();
    qemu_json_str(j, "node-name", format);
    qemu_json_bool(j, "read-only", readonly);
    qemu_json_str(j, "discard", disk->driver_discard);
    if (top && dz && strcmp(dz, "unmap") == 0 && g_strcmp0(disk->driver_discard, "unmap") != 0)
        dz = "on"; /* unmap needs discard=unmap, as libvirt downgrades it */
    if (top)
        qemu_json_str(j, "detect-zeroes", dz);
    if (cj)
        qemu_json_raw(j, "cache", cj);
    qemu_json_str(j, "driver", fmt);
    qemu_json_str(j, "file", storage);
    if (in_list(fmt, backing_formats)) {
        if (src->backing && src->backing->path) {
            g_autofree char *below = g_strdup_printf("libvirt-%u-format", node + 1);

            qemu_json_str(j, "backing", below);
        } else {
            qemu_json_null(j, "backing");
        }
    }
    qemu_cmd_take_pair(cmd, "-blockdev", qemu_json_finish(j));
}

static void disk_blockdevs(QemuCmd *cmd, const QemuDev *d)
{
    const HearthDomainDisk *disk = d->src;
    const HearthDiskSource *chain[256];
    const HearthDiskSource *src;
    guint n = 0;

    for (src = &disk->src; src && src->path && n < G_N_ELEMENTS(chain); src = src->backing)
        chain[n++] = src;
    /* Bottom-up, so every backing node exists before the layer that references it. */
    while (n-- > 0)
        image_blockdevs(cmd, disk, chain[n], d->node + n, n == 0, n == 0 ? d->readonly : TRUE);
}

static const char *disk_driver(const QemuDev *d, const HearthDomainDisk *disk)
{
    gboolean cd = disk->device == HEARTH_DISK_DEVICE_CDROM;
    const char *model = qemu_extra_attr(&disk->extra, "model");

    if (strcmp(d->bus, "virtio") == 0) {
        if (g_strcmp0(model, "virtio-transitional") == 0)
            return "virtio-blk-pci-transitional";
        if (g_strcmp0(model, "virtio-non-transitional") == 0)
            return "virtio-blk-pci-non-transitional";
        return "virtio-blk-pci";
    }
    if (strcmp(d->bus, "scsi") == 0)
        return cd ? "scsi-cd" : "scsi-hd";
    return cd ? "ide-cd" : "ide-hd";
}

static const char *error_policy(const char *p)
{
    return g_strcmp0(p, "enospace") == 0 ? "enospc" : p;
}

static gboolean disk_device(QemuCmd *cmd, const QemuDev *d, GError **error)
{
    const HearthDomainDisk *disk = d->src;
    g_autoptr(GString) j = qemu_json_new();
    g_autofree char *drive = d->node ? g_strdup_printf("libvirt-%u-format", d->node) : NULL;
    g_autofree char *device_id = NULL;
    DiskCache cache = disk_cache(disk);
    const char *werror = error_policy(qemu_extra_attr(&disk->driver_extra, "error_policy"));
    const char *rerror = error_policy(qemu_extra_attr(&disk->driver_extra, "rerror_policy"));

    if (!rerror && werror && strcmp(werror, "enospc") != 0)
        rerror = werror;
    qemu_json_str(j, "driver", disk_driver(d, disk));
    if (!qemu_addr_json(cmd, j, d, error))
        return FALSE;
    if (strcmp(d->bus, "scsi") == 0) {
        device_id = disk->serial ? g_strdup(disk->serial) : g_strdup_printf("drive-%s", d->alias);
        qemu_json_str(j, "device_id", device_id);
    }
    if (disk->shareable)
        qemu_json_bool(j, "share-rw", TRUE);
    qemu_json_str(j, "drive", drive);
    qemu_json_str(j, "id", d->alias);
    if (d->bootindex)
        qemu_json_int(j, "bootindex", d->bootindex);
    if (cache.set && drive)
        qemu_json_str(j, "write-cache", cache.writeback ? "on" : "off");
    qemu_json_str(j, "serial", disk->serial);
    if (drive) {
        qemu_json_str(j, "werror", werror);
        qemu_json_str(j, "rerror", rerror);
    }
    qemu_cmd_take_pair(cmd, "-device", qemu_json_finish(g_steal_pointer(&j)));
    return TRUE;
}

gboolean qemu_build_disks(QemuCmd *cmd, GError **error)
{
    guint i;

    for (i = 0; i < cmd->devs->len; i++) {
        const QemuDev *d = g_ptr_array_index(cmd->devs, i);

        if (d->kind != QDEV_DISK)
            continue;
        disk_blockdevs(cmd, d);
        if (!disk_device(cmd, d, error))
            return FALSE;
    }
    return TRUE;
}
