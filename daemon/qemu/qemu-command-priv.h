/* Shared by the qemu-command*.c files: the build context, the device plan, helpers. */
#pragma once

#include <glib.h>
#include <glib/gi18n-lib.h>
#include <libxml/tree.h>

#include "hearth-error.h"
#include "qemu-command.h"

G_BEGIN_DECLS

#define QEMU_PCI_SLOTS 32
#define QEMU_PCI_MAX_BUS 256
#define QEMU_VSERIAL_PORTS 31

/* NULL-terminated name lists for qemu_extra_check() */
#define QEMU_LIST(...) ((const char *const[]){__VA_ARGS__, NULL})

typedef enum {
    QEMU_ADDR_NONE = 0,
    QEMU_ADDR_PCI,
    QEMU_ADDR_DRIVE,
    QEMU_ADDR_USB,
    QEMU_ADDR_VSERIAL,
    QEMU_ADDR_ISA,
} QemuAddrType;

typedef struct {
    QemuAddrType type;
    guint bus, slot, function; /* pci (bus = index of the pci controller), vserial bus */
    HearthTristate multifunction;
    guint controller, target, unit; /* drive: controller/bus/target/unit; vserial controller */
    guint port;                     /* virtio-serial port */
    char *usb_port;                 /* "1", "1.2" */
    guint iobase, irq;              /* isa */
    gboolean has_irq;
} QemuAddr;

typedef enum {
    QDEV_DISK = 0,
    QDEV_CONTROLLER,
    QDEV_NET,
    QDEV_SERIAL,
    QDEV_PARALLEL,
    QDEV_CONSOLE,
    QDEV_CHANNEL,
    QDEV_INPUT,
    QDEV_GRAPHICS,
    QDEV_VIDEO,
    QDEV_SOUND,
    QDEV_AUDIO,
    QDEV_BALLOON,
    QDEV_RNG,
    QDEV_WATCHDOG,
    QDEV_PANIC,
} QemuDevKind;

/* Kinds of controller the plan knows. */
typedef enum {
    QCTL_PCI_ROOT = 0, /* pci-root / pcie-root: implicit */
    QCTL_PCIE_ROOT_PORT,
    QCTL_PCI_BRIDGE,
    QCTL_PCIE_PCI_BRIDGE,
    QCTL_DMI_PCI_BRIDGE,
    QCTL_USB,
    QCTL_SCSI,
    QCTL_SATA,
    QCTL_IDE,
    QCTL_VSERIAL,
} QemuCtlKind;

/* One device as it will appear on the command line. */
typedef struct {
    QemuDevKind kind;
    const void *src;              /* the HearthDomain* struct; NULL for implicit controllers */
    const HearthDeviceInfo *info; /* alias, boot order, address; NULL when not modeled */
    const char *what;             /* element name for messages: "disk", "controller", ... */
    guint ordinal;                /* nth of its kind (interfaces: the net_fds key) */
    char *alias;
    QemuAddr addr;
    guint bootindex;
    gboolean skip; /* modeled but produces no arguments (ps2 input, serial console copy) */
    /* disks */
    const char *bus;   /* virtio, sata, ide, scsi */
    guint node;        /* number of the top image's nodes, 0 when empty */
    gboolean readonly; /* effective (cdroms are always read-only) */
    /* controllers */
    QemuCtlKind ctl;
    const char *ctl_type; /* controller type as in the XML */
    int ctl_index;
    const char *driver; /* QEMU device name */
    gboolean builtin;   /* part of the machine: no -device */
    int usb_ports;      /* ports of a USB controller */
    int pci_port, pci_chassis;
    GString *json_extra; /* controller properties from the XML, JSON members */
    guint8 vserial_used[QEMU_VSERIAL_PORTS + 1];
    guint64 usb_used; /* USB ports taken, bit n-1 for port n */
    /* character devices */
    char *chr_path; /* source path, or an automatic one under runtime_dir */
    const char *target_type;
    /* graphics / audio / watchdog / panic: parsed bits */
    int audio_id;
    char *model; /* resolved model or parsed attribute */
    char *action;
} QemuDev;

typedef struct {
    const HearthDomainDef *def;
    const QemuCommandOptions *opts;
    GPtrArray *args; /* char * */
    const char *machine;
    gboolean q35;
    gboolean kvm;
    const char *root_bus; /* "pci.0" or "pcie.0" */
    GPtrArray *devs;      /* QemuDev *, document order, implicit controllers appended */
    guint8 pci_used[QEMU_PCI_MAX_BUS][QEMU_PCI_SLOTS]; /* bit per function */
    gboolean pci_bus_exists[QEMU_PCI_MAX_BUS];
    guint next_node;
    gboolean has_graphics;
    int first_audio_id;
} QemuCmd;

/* ---- qemu-command-util.c: arguments, JSON, errors, XML fragments ---- */
void qemu_cmd_add(QemuCmd *cmd, const char *arg);
void qemu_cmd_add_pair(QemuCmd *cmd, const char *opt, const char *value);
void qemu_cmd_take_pair(QemuCmd *cmd, const char *opt, char *value);
/* Compact JSON objects in insertion order, as libvirt prints them. */
GString *qemu_json_new(void);
void qemu_json_str(GString *j, const char *key, const char *value); /* skips NULL */
void qemu_json_int(GString *j, const char *key, gint64 value);
void qemu_json_bool(GString *j, const char *key, gboolean value);
void qemu_json_null(GString *j, const char *key);
void qemu_json_raw(GString *j, const char *key, const char *json);
char *qemu_json_finish(GString *j);
/* Append @value to a QemuOpts string with ',' doubled. */
void qemu_opt_escape(GString *buf, const char *value);

void qemu_unsupported(GError **error, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
void qemu_internal(GError **error, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

/* A serialized element (kept verbatim by lib/conf) as a document. */
xmlDocPtr qemu_xml_parse(const char *xml, GError **error);
/* Attributes of a serialized element (<address .../>, <target .../>): name → value, and the
 * element's name. NULL with @error set if it does not parse. */
GHashTable *qemu_xml_attrs(const char *xml, char **name, GError **error);
const char *qemu_extra_attr(const HearthXmlExtra *extra, const char *name);
/* Fail naming the first attribute/child of @extra not listed in @attrs/@children. */
gboolean qemu_extra_check(const HearthXmlExtra *extra, const char *elem, const char *who,
                          const char *const *attrs, const char *const *children, GError **error);
gboolean qemu_parse_uint(const char *s, guint64 max, guint64 *out);
/* Only characters QEMU and the guest can take in ids, CPU model names and the like. */
gboolean qemu_name_is_safe(const char *s);

/* ---- qemu-command-plan.c, -address.c, -controller.c: aliases, addresses, boot order ---- */
gboolean qemu_plan_build(QemuCmd *cmd, GError **error);
void qemu_dev_free(gpointer p);
/* The device's alias: its user alias (ua-*) if it has one, else the formatted name. */
void qemu_dev_alias(QemuDev *d, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
const QemuDev *qemu_plan_controller(QemuCmd *cmd, const char *type, int index);
gboolean qemu_plan_need_controller(QemuCmd *cmd, const char *type, int index, GError **error);
gboolean qemu_disk_index(const char *name, int *index);
gboolean qemu_addr_parse(QemuDev *d, const char *xml, const char *who, GError **error);
gboolean qemu_plan_pci(QemuCmd *cmd, GError **error);
gboolean qemu_plan_usb(QemuCmd *cmd, QemuDev *d, gboolean explicit_pass, GError **error);
gboolean qemu_plan_vserial(QemuCmd *cmd, QemuDev *d, guint first, gboolean explicit_pass,
                           GError **error);
/* "bus":..., "addr":... (or drive/usb/virtio-serial/isa members) for @d. */
gboolean qemu_addr_json(QemuCmd *cmd, GString *j, const QemuDev *d, GError **error);
gboolean qemu_controller_check(QemuCmd *cmd, QemuDev *d, GError **error);
QemuDev *qemu_controller_implicit(QemuCmd *cmd, const char *type, int index, GError **error);

/* ---- per family: checks for the plan, then arguments in libvirt's order ---- */
gboolean qemu_disk_check(QemuCmd *cmd, QemuDev *d, GError **error);
gboolean qemu_net_check(QemuCmd *cmd, QemuDev *d, GError **error);
gboolean qemu_chr_check(QemuCmd *cmd, QemuDev *d, GError **error);
gboolean qemu_graphics_check(QemuCmd *cmd, QemuDev *d, GError **error);
gboolean qemu_misc_check(QemuCmd *cmd, QemuDev *d, GError **error);
gboolean qemu_other_device_kind(const char *xml, QemuDevKind *kind, GError **error);

/* -1 error, 0 QEMU's SeaBIOS, 1 a firmware image (@nvram: pflash1 path or NULL) */
int qemu_firmware_info(QemuCmd *cmd, QemuFirmware *fw, const char **nvram, GError **error);
gboolean qemu_build_firmware_blockdevs(QemuCmd *cmd, GError **error);
void qemu_build_firmware_bios(QemuCmd *cmd);
gboolean qemu_build_machine(QemuCmd *cmd, GError **error);
gboolean qemu_build_cpu(QemuCmd *cmd, GError **error);
gboolean qemu_build_memory(QemuCmd *cmd, GError **error);
gboolean qemu_build_clock_pm_boot(QemuCmd *cmd, GError **error);
gboolean qemu_build_controllers(QemuCmd *cmd, GError **error);
gboolean qemu_build_disks(QemuCmd *cmd, GError **error);
gboolean qemu_build_nets(QemuCmd *cmd, GError **error);
gboolean qemu_build_chrs(QemuCmd *cmd, GError **error);
gboolean qemu_build_inputs(QemuCmd *cmd, GError **error);
gboolean qemu_build_audio(QemuCmd *cmd, GError **error);
gboolean qemu_build_graphics(QemuCmd *cmd, GError **error);
gboolean qemu_build_videos(QemuCmd *cmd, GError **error);
gboolean qemu_build_sounds(QemuCmd *cmd, GError **error);
gboolean qemu_build_watchdogs(QemuCmd *cmd, GError **error);
gboolean qemu_build_balloon_rng(QemuCmd *cmd, GError **error);
gboolean qemu_build_panics(QemuCmd *cmd, GError **error);
gboolean qemu_build_tail(QemuCmd *cmd, GError **error);

G_END_DECLS
