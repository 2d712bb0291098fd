#include "hearth-error.h"
#include "host-caps.h"
#include "host-node.h"
#include "host-priv.h"
#include "host-stats.h"
#include "qemu-machines.h"

#include <glib/gi18n-lib.h>
#include <string.h>

typedef struct {
    const char *path;
    gboolean secure; /* Secure Boot builds need SMM, which only q35 offers */
} Firmware;

/* Debian's OVMF builds, preferred first; the 2 MiB image only when no 4 MiB one exists. */
static const Firmware ovmf_4m[] = {
    {"/usr/share/OVMF/OVMF_CODE_4M.ms.fd", TRUE},
    {"/usr/share/OVMF/OVMF_CODE_4M.secboot.fd", TRUE},
    {"/usr/share/OVMF/OVMF_CODE_4M.fd", FALSE},
};
static const Firmware ovmf_2m = {"/usr/share/OVMF/OVMF_CODE.fd", FALSE};

typedef struct {
    const char *name;
    const char *vendor;
} CpuModel;

/* QEMU 7.2's named x86 models (unversioned names), newest families first. */
static const CpuModel cpu_models[] = {
    {"qemu64", "unknown"},
    {"qemu32", "unknown"},
    {"phenom", "AMD"},
    {"pentium3", "unknown"},
    {"pentium2", "unknown"},
    {"pentium", "unknown"},
    {"n270", "Intel"},
    {"kvm64", "unknown"},
    {"kvm32", "unknown"},
    {"coreduo", "Intel"},
    {"core2duo", "Intel"},
    {"athlon", "AMD"},
    {"Westmere-IBRS", "Intel"},
    {"Westmere", "Intel"},
    {"Snowridge", "Intel"},
    {"Skylake-Server-noTSX-IBRS", "Intel"},
    {"Skylake-Server-IBRS", "Intel"},
    {"Skylake-Server", "Intel"},
    {"Skylake-Client-noTSX-IBRS", "Intel"},
    {"Skylake-Client-IBRS", "Intel"},
    {"Skylake-Client", "Intel"},
    {"SandyBridge-IBRS", "Intel"},
    {"SandyBridge", "Intel"},
    {"Penryn", "Intel"},
    {"Opteron_G5", "AMD"},
    {"Opteron_G4", "AMD"},
    {"Opteron_G3", "AMD"},
    {"Opteron_G2", "AMD"},
    {"Opteron_G1", "AMD"},
    {"Nehalem-IBRS", "Intel"},
    {"Nehalem", "Intel"},
    {"IvyBridge-IBRS", "Intel"},
    {"IvyBridge", "Intel"},
    {"Icelake-Server-noTSX", "Intel"},
    {"Icelake-Server", "Intel"},
    {"Haswell-noTSX-IBRS", "Intel"},
    {"Haswell-noTSX", "Intel"},
    {"Haswell-IBRS", "Intel"},
    {"Haswell", "Intel"},
    {"EPYC-Rome", "AMD"},
    {"EPYC-Milan", "AMD"},
    {"EPYC-IBPB", "AMD"},
    {"EPYC", "AMD"},
    {"Dhyana", "Hygon"},
    {"Cooperlake", "Intel"},
    {"Conroe", "Intel"},
    {"Cascadelake-Server-noTSX", "Intel"},
    {"Cascadelake-Server", "Intel"},
    {"Broadwell-noTSX-IBRS", "Intel"},
    {"Broadwell-noTSX", "Intel"},
    {"Broadwell-IBRS", "Intel"},
    {"Broadwell", "Intel"},
    {"486", "unknown"},
};

static void format_enum(GString *buf, int level, const char *name, const char *const *values)
{
    host_xml_indent(buf, level);
    if (!values || !values[0]) {
        g_string_append_printf(buf, "<enum name='%s'/>\n", name);
        return;
    }
    g_string_append_printf(buf, "<enum name='%s'>\n", name);
    for (gsize i = 0; values[i]; i++)
        host_xml_text_element(buf, level + 1, "value", values[i]);
    host_xml_indent(buf, level);
    g_string_append(buf, "</enum>\n");
}

/* <NAME supported='yes'> with enums given as "name", values..., NULL, ..., NULL. */
static void format_device(GString *buf, const char *name, const char *const *spec)
{
    g_string_append_printf(buf, "    <%s supported='yes'>\n", name);
    for (gsize i = 0; spec[i];) {
        const char *enum_name = spec[i++];

        format_enum(buf, 3, enum_name, &spec[i]);
        while (spec[i])
            i++;
        i++;
    }
    g_string_append_printf(buf, "    </%s>\n", name);
}

static void format_os(GString *buf, const char *arch, const char *machine)
{
    static const char *const efi[] = {"efi", NULL};
    static const char *const loader_types[] = {"rom", "pflash", NULL};
    static const char *const yes_no[] = {"yes", "no", NULL};
    static const char *const no[] = {"no", NULL};
    gboolean q35 = g_str_has_prefix(machine, "pc-q35-");
    g_autoptr(GPtrArray) loaders = g_ptr_array_new();
    gboolean any_secure = FALSE;

    /* OVMF is 64-bit firmware. */
    if (g_str_equal(arch, "x86_64")) {
        for (gsize i = 0; i < G_N_ELEMENTS(ovmf_4m); i++) {
            if ((ovmf_4m[i].secure && !q35) || !g_file_test(ovmf_4m[i].path, G_FILE_TEST_EXISTS))
                continue;
            g_ptr_array_add(loaders, (gpointer)ovmf_4m[i].path);
            any_secure |= ovmf_4m[i].secure;
        }
        if (loaders->len == 0 && g_file_test(ovmf_2m.path, G_FILE_TEST_EXISTS))
            g_ptr_array_add(loaders, (gpointer)ovmf_2m.path);
    }

    g_string_append(buf, "  <os supported='yes'>\n");
    format_enum(buf, 2, "firmware", loaders->len ? efi : NULL);
    g_string_append(buf, "    <loader supported='yes'>\n");
    for (guint i = 0; i < loaders->len; i++)
        host_xml_text_element(buf, 3, "value", loaders->pdata[i]);
    format_enum(buf, 3, "type", loader_types);
    format_enum(buf, 3, "readonly", yes_no);
    format_enum(buf, 3, "secure", any_secure ? yes_no : no);
    g_string_append(buf, "    </loader>\n  </os>\n");
}

static void format_cpu(GString *buf, const char *arch, gboolean kvm)
{
    static const char *const on_off[] = {"on", "off", NULL};
    g_autoptr(HostCpuInfo) host = kvm ? host_cpu_info_read_at("/", NULL) : NULL;
    gboolean is64 = g_str_equal(arch, "x86_64");

    g_string_append(buf, "  <cpu>\n");
    if (kvm) {
        g_string_append(buf, "    <mode name='host-passthrough' supported='yes'>\n");
        format_enum(buf, 3, "hostPassthroughMigratable", on_off);
        g_string_append(buf, "    </mode>\n");
    } else {
        g_string_append(buf, "    <mode name='host-passthrough' supported='no'/>\n");
    }
    g_string_append(buf, "    <mode name='maximum' supported='yes'>\n");
    format_enum(buf, 3, "maximumMigratable", on_off);
    g_string_append(buf, "    </mode>\n");

    g_string_append(buf, "    <mode name='host-model' supported='yes'>\n");
    host_xml_indent(buf, 3);
    g_string_append(buf, "<model fallback='forbid'>");
    if (host && is64)
        host_xml_escape(buf, host_cpu_model_guess(host));
    else
        g_string_append(buf, is64 ? "qemu64" : "qemu32");
    g_string_append(buf, "</model>\n");
    if (host && host->vendor)
        host_xml_text_element(buf, 3, "vendor", host->vendor);
    g_string_append(buf, "    </mode>\n");

    /* Usability needs QEMU's CPUID checks, which we do not run. */
    g_string_append(buf, "    <mode name='custom' supported='yes'>\n");
    for (gsize i = 0; i < G_N_ELEMENTS(cpu_models); i++) {
        g_string_append_printf(buf, "      <model usable='unknown' vendor='%s'>%s</model>\n",
                               cpu_models[i].vendor, cpu_models[i].name);
    }
    g_string_append(buf, "    </mode>\n  </cpu>\n");
}

static void format_devices(GString *buf)
{
    static const char *const disk[] = {"diskDevice",
                                       "disk",
                                       "cdrom",
                                       "floppy",
                                       "lun",
                                       NULL,
                                       "bus",
                                       "ide",
                                       "fdc",
                                       "scsi",
                                       "virtio",
                                       "usb",
                                       "sata",
                                       NULL,
                                       "model",
                                       "virtio",
                                       "virtio-transitional",
                                       "virtio-non-transitional",
                                       NULL,
                                       NULL};
    static const char *const graphics[] = {"type",         "sdl",  "vnc", "spice",
                                           "egl-headless", "dbus", NULL,  NULL};
    static const char *const video[] = {"modelType", "vga",   "cirrus", "vmvga", "qxl", "virtio",
                                        "none",      "bochs", "ramfb",  NULL,    NULL};
    static const char *const hostdev_vfio[] = {
        "mode",     "subsystem", NULL,         "startupPolicy", "default", "mandatory", "requisite",
        "optional", NULL,        "subsysType", "usb",           "pci",     "scsi",      NULL,
        "capsType", NULL,        "pciBackend", "default",       "vfio",    NULL,        NULL};
    static const char *const hostdev[] = {"mode",       "subsystem",  NULL,        "startupPolicy",
                                          "default",    "mandatory",  "requisite", "optional",
                                          NULL,         "subsysType", "usb",       "pci",
                                          "scsi",       NULL,         "capsType",  NULL,
                                          "pciBackend", NULL,         NULL};

    g_string_append(buf, "  <devices>\n");
    format_device(buf, "disk", disk);
    format_device(buf, "graphics", graphics);
    format_device(buf, "video", video);
    format_device(buf, "hostdev",
                  g_file_test("/dev/vfio/vfio", G_FILE_TEST_EXISTS) ? hostdev_vfio : hostdev);
    g_string_append(buf, "  </devices>\n");
}

static void format_features(GString *buf)
{
    g_string_append(buf, "  <features>\n"
                         "    <gic supported='no'/>\n"
                         "    <vmcoreinfo supported='yes'/>\n"
                         "    <genid supported='yes'/>\n"
                         "    <backingStoreInput supported='yes'/>\n"
                         "    <backup supported='no'/>\n"
                         "    <sev supported='no'/>\n"
                         "    <sgx supported='no'/>\n"
                         "  </features>\n");
}

/* Fills in @arch and @emulator from whichever was given; FALSE with an error if they
 * disagree or name something we do not run. */
static gboolean resolve_target(const char *emulator, const char **arch, const char **binary,
                               GError **error)
{
    if (*arch && !g_str_equal(*arch, "x86_64") && !g_str_equal(*arch, "i686")) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_INVALID_ARG, _("unsupported architecture '%s'"),
                    *arch);
        return FALSE;
    }
    if (emulator) {
        const char *emu_arch = host_qemu_binary_arch(emulator);

        if (!emu_arch) {
            g_set_error(error, HEARTH_ERROR, HEARTH_ERR_INVALID_ARG,
                        _("emulator '%s' is not a QEMU binary this host offers"), emulator);
            return FALSE;
        }
        /* qemu-system-x86_64 also runs 32-bit guests; qemu-system-i386 not 64-bit ones. */
        if (*arch && !g_str_equal(*arch, emu_arch) && !g_str_equal(*arch, "i686")) {
            g_set_error(error, HEARTH_ERROR, HEARTH_ERR_INVALID_ARG,
                        _("emulator '%s' does not support architecture '%s'"), emulator, *arch);
            return FALSE;
        }
        if (!*arch)
            *arch = emu_arch;
        *binary = host_qemu_binary(emu_arch);
        return TRUE;
    }
    if (!*arch)
        *arch = g_str_equal(host_arch(), "i686") ? "i686" : "x86_64";
    *binary = host_qemu_binary(*arch);
    if (!*binary && g_str_equal(*arch, "i686"))
        *binary = host_qemu_binary("x86_64");
    if (!*binary) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_CONFIG_UNSUPPORTED,
                    _("no QEMU emulator is installed for architecture '%s'"), *arch);
        return FALSE;
    }
    return TRUE;
}

char *host_domain_capabilities_xml(const char *emulator, const char *arch, const char *machine,
                                   const char *virttype, GError **error)
{
    g_autoptr(GPtrArray) machines = NULL;
    g_autoptr(GString) buf = NULL;
    const char *binary = NULL;
    const QemuMachine *m;
    gboolean kvm;
    guint max_vcpus;

    if (virttype && !g_str_equal(virttype, "qemu") && !g_str_equal(virttype, "kvm")) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_INVALID_ARG,
                    _("unknown virtualization type '%s'"), virttype);
        return NULL;
    }
    if (!resolve_target(emulator, &arch, &binary, error))
        return NULL;
    kvm = virttype ? g_str_equal(virttype, "kvm") : host_kvm_usable();
    if (kvm && !host_kvm_usable()) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_CONFIG_UNSUPPORTED,
                    _("virtualization type 'kvm' is not available: cannot open /dev/kvm "
                      "read-write"));
        return NULL;
    }
    machines = qemu_machines_get(binary, error);
    if (!machines)
        return NULL;
    if (!machine)
        machine = qemu_machines_default(machines);
    m = machine ? qemu_machines_lookup(machines, machine) : NULL;
    if (!m) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_INVALID_ARG,
                    _("machine type '%s' is not supported by emulator '%s'"),
                    machine ? machine : "", binary);
        return NULL;
    }
    max_vcpus = m->max_cpus;
    if (kvm)
        max_vcpus = MIN(max_vcpus, (guint)host_max_vcpus("kvm", NULL));

    buf = g_string_new("<domainCapabilities>\n");
    host_xml_text_element(buf, 1, "path", binary);
    host_xml_text_element(buf, 1, "domain", kvm ? "kvm" : "qemu");
    host_xml_text_element(buf, 1, "machine", m->name);
    host_xml_text_element(buf, 1, "arch", arch);
    g_string_append_printf(buf, "  <vcpu max='%u'/>\n", max_vcpus);
    g_string_append(buf, "  <iothreads supported='yes'/>\n");
    format_os(buf, arch, m->name);
    format_cpu(buf, arch, kvm);
    format_devices(buf);
    format_features(buf);
    g_string_append(buf, "</domainCapabilities>\n");
    return g_string_free(g_steal_pointer(&buf), FALSE);
}

const char *const *host_cpu_model_names(const char *arch, guint *n)
{
    static const char *names[G_N_ELEMENTS(cpu_models) + 1];
    static gsize ready;

    *n = 0;
    if (!arch || !(g_str_equal(arch, "x86_64") || g_str_equal(arch, "i686")))
        return NULL;
    if (g_once_init_enter(&ready)) {
        for (gsize i = 0; i < G_N_ELEMENTS(cpu_models); i++)
            names[i] = cpu_models[i].name;
        g_once_init_leave(&ready, 1);
    }
    *n = G_N_ELEMENTS(cpu_models);
    return names;
}
