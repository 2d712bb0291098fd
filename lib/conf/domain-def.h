/* libvirt's domain XML as a public, hypervisor-neutral structure: parse, validate,
 * format. Everything not modeled is kept verbatim in HearthXmlExtra fields. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Content Hearth does not model, kept in document order so that formatting loses
 * nothing: attributes as (name, value) pairs, child elements serialized ("\n" between
 * lines, relative 2-space indentation, namespaces declared where needed). */
typedef struct {
    char *name; /* qualified, e.g. "foo:bar" or "xmlns:foo" */
    char *value;
} HearthXmlAttr;

typedef struct {
    GPtrArray *attrs;    /* HearthXmlAttr *, NULL when none */
    GPtrArray *children; /* char *, NULL when none */
} HearthXmlExtra;

typedef enum {
    HEARTH_TRISTATE_ABSENT = 0,
    HEARTH_TRISTATE_YES, /* also "on" */
    HEARTH_TRISTATE_NO,  /* also "off" */
} HearthTristate;

typedef enum {
    HEARTH_VIRT_QEMU = 0,
    HEARTH_VIRT_KVM,
} HearthVirtType;

/* Parts most devices share. */
typedef struct {
    char *alias;      /* <alias name=''/> */
    guint boot_order; /* <boot order=''/>, 0 = none */
    char *address;    /* <address .../> kept verbatim (serialized element) */
} HearthDeviceInfo;

/* ---- disks ---- */
typedef enum {
    HEARTH_DISK_TYPE_FILE = 0,
    HEARTH_DISK_TYPE_BLOCK,
    HEARTH_DISK_TYPE_DIR,
    HEARTH_DISK_TYPE_NETWORK,
    HEARTH_DISK_TYPE_VOLUME,
    HEARTH_DISK_TYPE_NVME,
    HEARTH_DISK_TYPE_VHOSTUSER,
    HEARTH_DISK_TYPE_VHOSTVDPA,
} HearthDiskType;

typedef enum {
    HEARTH_DISK_DEVICE_DISK = 0,
    HEARTH_DISK_DEVICE_CDROM,
    HEARTH_DISK_DEVICE_FLOPPY,
    HEARTH_DISK_DEVICE_LUN,
} HearthDiskDevice;

typedef struct HearthDiskSource HearthDiskSource;
struct HearthDiskSource {
    HearthDiskType type;
    char *format;         /* driver type of the top image, <format type=''/> of backing ones */
    char *path;           /* file='' / dev='' / dir='' */
    char *startup_policy; /* startupPolicy='' */
    gboolean has_source;  /* a <source> element exists */
    char *source_xml;     /* whole <source> kept verbatim for network/volume/nvme/... */
    HearthXmlExtra source_extra; /* unknown attributes/children of <source> */
    int index;                   /* backingStore index='', -1 = absent */
    HearthDiskSource *backing;   /* next image down the chain, NULL if unknown */
    gboolean backing_end;        /* an empty <backingStore/> terminates the chain */
    HearthXmlExtra extra;        /* unknown parts of <backingStore>; top image: repeated <source> */
};

typedef struct {
    HearthDiskDevice device;
    HearthDiskSource src; /* src.type is the disk type */
    char *driver_name, *driver_cache, *driver_discard, *driver_io;
    HearthXmlExtra driver_extra;
    gboolean has_driver;
    char *target_dev, *target_bus;
    HearthXmlExtra target_extra;
    gboolean readonly, shareable;
    char *serial;
    HearthDeviceInfo info;
    HearthXmlExtra extra;
} HearthDomainDisk;

/* ---- controllers ---- */
typedef struct {
    char *type; /* pci, usb, scsi, sata, ide, virtio-serial, fdc, ccid, xenbus, isa */
    int index;  /* assigned like libvirt when absent */
    char *model;
    HearthDeviceInfo info;
    HearthXmlExtra extra;
} HearthDomainController;

/* ---- network interfaces ---- */
typedef enum {
    HEARTH_NET_TYPE_NETWORK = 0,
    HEARTH_NET_TYPE_BRIDGE,
    HEARTH_NET_TYPE_USER,
    HEARTH_NET_TYPE_ETHERNET,
    HEARTH_NET_TYPE_OTHER, /* direct, vhostuser, hostdev, ...: source kept verbatim */
} HearthNetType;

typedef struct {
    HearthNetType type;
    char *type_name; /* the type attribute as written */
    char *mac;       /* lower-case aa:bb:cc:dd:ee:ff, generated when absent */
    char *source_network, *source_bridge, *source_dev;
    gboolean has_source;
    HearthXmlExtra source_extra;
    char *model;
    char *target_dev;
    HearthXmlExtra target_extra;
    HearthDeviceInfo info;
    HearthXmlExtra extra;
} HearthDomainInterface;

/* ---- character devices ---- */
typedef enum {
    HEARTH_CHR_SERIAL = 0,
    HEARTH_CHR_CONSOLE,
    HEARTH_CHR_PARALLEL,
    HEARTH_CHR_CHANNEL,
} HearthChrKind;

typedef struct {
    HearthChrKind kind;
    char *type; /* pty, file, unix, tcp, udp, dev, pipe, null, vc, stdio, spicevmc, ... */
    char *source_path, *source_mode, *source_host, *source_service;
    gboolean has_source;
    HearthXmlExtra source_extra;
    char *target_type, *target_name;
    int target_port; /* -1 = absent */
    gboolean has_target;
    HearthXmlExtra target_extra;
    char *log_file;
    HearthTristate log_append;
    HearthDeviceInfo info;
    HearthXmlExtra extra;
} HearthDomainChr;

/* ---- input, graphics, video, sound, memballoon, rng ---- */
typedef struct {
    char *type; /* mouse, tablet, keyboard, passthrough, evdev */
    char *bus;  /* ps2, usb, virtio, xen */
    HearthDeviceInfo info;
    HearthXmlExtra extra;
} HearthDomainInput;

typedef struct {
    char *type; /* address, network, socket, none */
    char *address, *network, *socket;
    HearthXmlExtra extra;
} HearthGraphicsListen;

typedef struct {
    char *type;   /* vnc, spice, sdl, rdp, desktop, egl-headless, dbus */
    int port;     /* 0 = absent, -1 = automatic */
    int tls_port; /* spice; 0 = absent, -1 = automatic */
    HearthTristate autoport;
    char *passwd; /* formatted only with DOMAIN_DEF_FORMAT_SECURE */
    char *keymap;
    GPtrArray *listens; /* HearthGraphicsListen * in order */
    HearthDeviceInfo info;
    HearthXmlExtra extra;
} HearthDomainGraphics;

typedef struct {
    char *model_type;  /* vga, cirrus, qxl, virtio, bochs, ramfb, none */
    guint vram, heads; /* 0 = absent */
    HearthTristate primary;
    gboolean has_model;
    HearthXmlExtra model_extra;
    HearthDeviceInfo info;
    HearthXmlExtra extra;
} HearthDomainVideo;

typedef struct {
    char *model;
    HearthDeviceInfo info;
    HearthXmlExtra extra;
} HearthDomainSound;

typedef struct {
    char *model;      /* virtio, xen, none */
    int stats_period; /* -1 = absent */
    HearthDeviceInfo info;
    HearthXmlExtra extra;
} HearthDomainMemballoon;

typedef struct {
    char *model;         /* virtio */
    char *backend_model; /* random, egd, builtin */
    char *backend_path;  /* text of <backend model='random'> */
    HearthXmlExtra backend_extra;
    HearthDeviceInfo info;
    HearthXmlExtra extra;
} HearthDomainRng;

typedef enum {
    HEARTH_DEVICE_DISK = 0,
    HEARTH_DEVICE_CONTROLLER,
    HEARTH_DEVICE_INTERFACE,
    HEARTH_DEVICE_CHR,
    HEARTH_DEVICE_INPUT,
    HEARTH_DEVICE_GRAPHICS,
    HEARTH_DEVICE_VIDEO,
    HEARTH_DEVICE_SOUND,
    HEARTH_DEVICE_MEMBALLOON,
    HEARTH_DEVICE_RNG,
    HEARTH_DEVICE_OTHER, /* watchdog, tpm, filesystem, hostdev, redirdev, ...: verbatim */
} HearthDeviceKind;

typedef struct {
    HearthDeviceKind kind;
    union {
        HearthDomainDisk *disk;
        HearthDomainController *controller;
        HearthDomainInterface *net;
        HearthDomainChr *chr;
        HearthDomainInput *input;
        HearthDomainGraphics *graphics;
        HearthDomainVideo *video;
        HearthDomainSound *sound;
        HearthDomainMemballoon *memballoon;
        HearthDomainRng *rng;
        char *other_xml; /* serialized element */
    } u;
} HearthDomainDevice;

/* ---- top-level sections ---- */
typedef enum {
    HEARTH_BOOT_FD = 0,
    HEARTH_BOOT_CDROM,
    HEARTH_BOOT_HD,
    HEARTH_BOOT_NETWORK,
} HearthBootDev;

typedef struct {
    char *firmware; /* firmware='efi'|'bios' */
    char *type;     /* hvm */
    char *arch, *machine;
    HearthXmlExtra type_extra;
    char *loader;
    HearthTristate loader_readonly, loader_secure;
    char *loader_type; /* rom, pflash */
    gboolean has_loader;
    HearthXmlExtra loader_extra;
    char *nvram;
    char *nvram_template;
    gboolean has_nvram;
    HearthXmlExtra nvram_extra;
    char *kernel, *initrd, *cmdline, *dtb;
    GArray *boot_devs; /* HearthBootDev in order */
    HearthTristate bootmenu;
    int bootmenu_timeout; /* -1 = absent */
    char *smbios_mode;
    HearthXmlExtra extra;
} HearthDomainOs;

typedef enum {
    HEARTH_FEATURE_ACPI = 0,
    HEARTH_FEATURE_APIC,
    HEARTH_FEATURE_PAE,
    HEARTH_FEATURE_HAP,
    HEARTH_FEATURE_VIRIDIAN,
    HEARTH_FEATURE_PRIVNET,
    HEARTH_FEATURE_PVSPINLOCK,
    HEARTH_FEATURE_PMU,
    HEARTH_FEATURE_VMPORT,
    HEARTH_FEATURE_SMM,
    HEARTH_FEATURE_VMCOREINFO,
    HEARTH_FEATURE_HTM,
    HEARTH_FEATURE_LAST
} HearthFeature;

typedef struct {
    gboolean present; /* a <features> element exists */
    HearthTristate state[HEARTH_FEATURE_LAST];
    char *apic_eoi;
    HearthXmlExtra item_extra[HEARTH_FEATURE_LAST]; /* e.g. <smm><tseg/></smm> */
    HearthXmlExtra extra;                           /* hyperv, kvm, gic, ioapic, ... verbatim */
} HearthDomainFeatures;

typedef struct {
    char *name;
    char *policy; /* force, require, optional, disable, forbid */
} HearthCpuFeature;

typedef struct {
    gboolean present;
    char *mode; /* custom, host-model, host-passthrough, maximum */
    char *match, *check;
    char *model, *model_fallback;
    HearthXmlExtra model_extra;
    char *vendor;
    guint sockets, dies, cores, threads; /* 0 = absent; all set when topology given */
    gboolean has_topology;
    GPtrArray *features; /* HearthCpuFeature * */
    HearthXmlExtra extra;
} HearthDomainCpu;

typedef struct {
    char *name; /* rtc, pit, hpet, kvmclock, tsc, hypervclock, armvtimer, platform */
    char *tickpolicy;
    HearthTristate present;
    HearthXmlExtra extra;
} HearthClockTimer;

typedef struct {
    gboolean present;
    char *offset;      /* utc, localtime, timezone, variable, absolute */
    GPtrArray *timers; /* HearthClockTimer * */
    HearthXmlExtra extra;
} HearthDomainClock;

typedef struct {
    guint64 size_kib;
    char *nodeset;
} HearthHugepage;

typedef struct {
    gboolean present;
    gboolean hugepages;
    GArray *pages; /* HearthHugepage, NULL when default size */
    gboolean nosharepages, locked, discard;
    char *source_type; /* file, anonymous, memfd */
    char *access_mode; /* shared, private */
    HearthXmlExtra extra;
} HearthDomainMemoryBacking;

typedef struct {
    char *ns_uri; /* namespace of the element, NULL if none */
    char *xml;    /* the element serialized with its namespace declarations */
} HearthMetadataItem;

typedef struct HearthDomainDef HearthDomainDef;
struct HearthDomainDef {
    HearthVirtType virt_type;
    char *name;
    guint8 uuid[16];
    char *title;
    char *description;
    GPtrArray *metadata; /* HearthMetadataItem *: children of <metadata> in order */

    guint64 max_memory_kib; /* 0 = no <maxMemory> */
    guint max_memory_slots;
    guint64 memory_kib;
    guint64 current_memory_kib;
    HearthXmlExtra memory_extra; /* e.g. dumpCore */
    HearthDomainMemoryBacking mem_backing;

    guint vcpus;          /* maximum */
    guint vcpus_current;  /* 0 = same as vcpus */
    char *vcpu_placement; /* static (default), auto */
    char *vcpu_cpuset;

    HearthDomainOs os;
    HearthDomainFeatures features;
    HearthDomainCpu cpu;
    HearthDomainClock clock;
    char *on_poweroff, *on_reboot, *on_crash;
    HearthTristate pm_suspend_to_mem, pm_suspend_to_disk;
    gboolean has_pm;
    HearthXmlExtra pm_extra;

    char *emulator;
    GPtrArray *devices;           /* HearthDomainDevice * in document order */
    HearthXmlExtra devices_extra; /* attributes of <devices> */

    GPtrArray *root_ns;   /* HearthXmlAttr *: xmlns declarations of <domain> */
    HearthXmlExtra extra; /* unknown <domain> attributes and top-level elements */
};

enum { DOMAIN_DEF_PARSE_VALIDATE = 1u << 0 }; /* check against xml-schemas/domain.rng */
HearthDomainDef *domain_def_parse(const char *xml, gsize len, guint flags, GError **error);

enum { DOMAIN_DEF_FORMAT_SECURE = 1u << 0, DOMAIN_DEF_FORMAT_INACTIVE = 1u << 1 };
/* libvirt-style 2-space indented XML with a trailing newline. */
char *domain_def_format(const HearthDomainDef *def, guint flags);

HearthDomainDef *domain_def_new(void);
/* Deep copy through the (lossless) XML round trip, like libvirt's virDomainDefCopy;
 * NULL only for a definition edited into something that does not parse. */
HearthDomainDef *domain_def_copy(const HearthDomainDef *def);
void domain_def_free(HearthDomainDef *def);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HearthDomainDef, domain_def_free)

/* Non-empty, no '/', no leading '.', no control characters, at most 200 bytes, UTF-8. */
gboolean domain_name_check(const char *name, GError **error);

/* As virDomainGetMetadata/virDomainSetMetadata. */
enum {
    DOMAIN_METADATA_DESCRIPTION = 0,
    DOMAIN_METADATA_TITLE = 1,
    DOMAIN_METADATA_ELEMENT = 2,
};
char *domain_def_get_metadata(const HearthDomainDef *def, int type, const char *uri,
                              GError **error);
/* NULL or empty @metadata removes; @key is the namespace prefix for ELEMENT. */
gboolean domain_def_set_metadata(HearthDomainDef *def, int type, const char *metadata,
                                 const char *key, const char *uri, GError **error);

/* For code that edits def->devices (its free function is this). */
void domain_device_free(HearthDomainDevice *dev);
/* One device element as <devices> holds it (<disk>, <controller>, ...). */
HearthDomainDevice *domain_device_parse_xml(const char *xml, GError **error);
/* Adds @dev (taken) where libvirt's formatter puts its kind: after every device of the same or
 * an earlier kind (disks, controllers, interfaces, ... inputs, graphics, audio, video, ...,
 * memballoon). */
void domain_def_insert_device(HearthDomainDef *def, HearthDomainDevice *dev);
/* The index in def->devices of the device @dev names, as libvirt matches them for detach and
 * update: a disk by target, an interface by MAC, a controller by type and index, anything else
 * by its whole XML; -1 if none. */
int domain_def_find_device(const HearthDomainDef *def, const HearthDomainDevice *dev);

G_END_DECLS
