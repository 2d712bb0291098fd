#include "host-caps.h"
#include "hearth-error.h"
#include "host-node.h"
#include "host-priv.h"
#include "qemu-machines.h"
#include "uuid-util.h"

#include <errno.h>
#include <stdlib.h>
#include <fcntl.h>
#include <glib/gi18n-lib.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define DEFAULT_MAX_VCPUS 255

typedef struct {
    const char *arch;
    const char *binary;
    int wordsize;
} QemuTarget;

/* libvirt lists guests in arch order; i686 sorts first. */
static const QemuTarget targets[] = {
    {"i686", "qemu-system-i386", 32},
    {"x86_64", "qemu-system-x86_64", 64},
};

static GMutex lookup_lock;
static const char *found_binary[G_N_ELEMENTS(targets)]; /* interned, never freed */
static gboolean test_override;
static const char *test_binary[G_N_ELEMENTS(targets)];
static char *kvm_device;

static int target_index(const char *arch)
{
    if (!arch)
        return -1;
    for (gsize i = 0; i < G_N_ELEMENTS(targets); i++)
        if (g_str_equal(targets[i].arch, arch))
            return (int)i;
    return -1;
}

void host_caps_set_cache_dir(const char *dir)
{
    qemu_machines_set_cache_dir(dir);
}

static const char *find_binary(const char *name)
{
    g_autofree char *path = g_find_program_in_path(name);

    if (path && !g_path_is_absolute(path)) {
        g_autofree char *abs = g_canonicalize_filename(path, NULL);

        g_free(path);
        path = g_steal_pointer(&abs);
    }
    if (!path) {
        g_autofree char *usr = g_build_filename("/usr/bin", name, NULL);

        if (g_file_test(usr, G_FILE_TEST_IS_EXECUTABLE) && !g_file_test(usr, G_FILE_TEST_IS_DIR))
            path = g_steal_pointer(&usr);
    }
    return path ? g_intern_string(path) : NULL;
}

const char *host_qemu_binary(const char *arch)
{
    int i = target_index(arch);
    const char *path;

    if (i < 0)
        return NULL;
    g_mutex_lock(&lookup_lock);
    if (test_override) {
        path = test_binary[i];
    } else {
        /* Only hits are cached: QEMU installed later is still found. */
        if (!found_binary[i])
            found_binary[i] = find_binary(targets[i].binary);
        path = found_binary[i];
    }
    g_mutex_unlock(&lookup_lock);
    return path;
}

const char *host_qemu_binary_arch(const char *binary)
{
    g_autofree char *real = NULL;

    if (!binary)
        return NULL;
    real = realpath(binary, NULL);
    for (gsize i = 0; i < G_N_ELEMENTS(targets); i++) {
        const char *known = host_qemu_binary(targets[i].arch);
        g_autofree char *known_real = NULL;

        if (!known)
            continue;
        if (g_str_equal(known, binary))
            return targets[i].arch;
        /* The same file by another name, e.g. /bin/... on a merged-/usr system. */
        known_real = realpath(known, NULL);
        if (real && known_real && g_str_equal(real, known_real))
            return targets[i].arch;
    }
    return NULL;
}

void host_caps_test_set_qemu(const char *arch, const char *path)
{
    int i = target_index(arch);

    g_return_if_fail(i >= 0);
    g_mutex_lock(&lookup_lock);
    if (!test_override) {
        test_override = TRUE;
        memset(test_binary, 0, sizeof(test_binary));
    }
    test_binary[i] = path ? g_intern_string(path) : NULL;
    g_mutex_unlock(&lookup_lock);
}

void host_caps_test_set_kvm_device(const char *path)
{
    g_mutex_lock(&lookup_lock);
    g_free(kvm_device);
    kvm_device = g_strdup(path);
    g_mutex_unlock(&lookup_lock);
}

void host_caps_test_reset(void)
{
    g_mutex_lock(&lookup_lock);
    test_override = FALSE;
    g_clear_pointer(&kvm_device, g_free);
    g_mutex_unlock(&lookup_lock);
    qemu_machines_reset();
}

static int kvm_open(void)
{
    g_autofree char *path = NULL;

    g_mutex_lock(&lookup_lock);
    path = g_strdup(kvm_device ? kvm_device : "/dev/kvm");
    g_mutex_unlock(&lookup_lock);
    return open(path, O_RDWR | O_CLOEXEC);
}

gboolean host_kvm_usable(void)
{
    int fd = kvm_open();

    if (fd < 0)
        return FALSE;
    close(fd);
    return TRUE;
}

int host_max_vcpus(const char *type, GError **error)
{
    int fd, n;

    if (!type || g_ascii_strcasecmp(type, "qemu") == 0)
        return DEFAULT_MAX_VCPUS;
    if (g_ascii_strcasecmp(type, "kvm") != 0) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_INVALID_ARG,
                    _("unknown virtualization type '%s'"), type);
        return -1;
    }
    fd = kvm_open();
    if (fd < 0)
        return DEFAULT_MAX_VCPUS;
    n = ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
    close(fd);
    return n > 0 ? n : DEFAULT_MAX_VCPUS;
}

void host_xml_indent(GString *buf, int level)
{
    for (int i = 0; i < level; i++)
        g_string_append(buf, "  ");
}

void host_xml_escape(GString *buf, const char *text)
{
    for (const char *p = text; *p; p++) {
        switch (*p) {
        case '<':
            g_string_append(buf, "&lt;");
            break;
        case '>':
            g_string_append(buf, "&gt;");
            break;
        case '&':
            g_string_append(buf, "&amp;");
            break;
        case '\'':
            g_string_append(buf, "&apos;");
            break;
        case '"':
            g_string_append(buf, "&quot;");
            break;
        default:
            g_string_append_c(buf, *p);
        }
    }
}

void host_xml_text_element(GString *buf, int level, const char *name, const char *text)
{
    host_xml_indent(buf, level);
    g_string_append_printf(buf, "<%s>", name);
    host_xml_escape(buf, text);
    g_string_append_printf(buf, "</%s>\n", name);
}

/* The host UUID: SMBIOS when it is a real one, else the systemd machine id. */
static gboolean read_host_uuid(const char *root, char out[HEARTH_UUID_STRING_LEN])
{
    static const char *const sources[] = {"sys/class/dmi/id/product_uuid", "etc/machine-id"};
    static const guint8 all_ff[HEARTH_UUID_LEN] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                                   0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

    for (gsize i = 0; i < G_N_ELEMENTS(sources); i++) {
        g_autofree char *path = g_build_filename(root, sources[i], NULL);
        g_autofree char *text = NULL;
        guint8 uuid[HEARTH_UUID_LEN];

        if (!g_file_get_contents(path, &text, NULL, NULL))
            continue;
        if (!hearth_uuid_parse(g_strstrip(text), uuid) || hearth_uuid_is_null(uuid) ||
            memcmp(uuid, all_ff, sizeof(uuid)) == 0)
            continue;
        hearth_uuid_format(uuid, out);
        return TRUE;
    }
    return FALSE;
}

static void format_host_cpu(GString *buf, const HostTopology *topo, const HostCpuInfo *cpu)
{
    static const char *const shown_flags[] = {"vmx", "svm", "hypervisor"};

    g_string_append(buf, "    <cpu>\n");
    host_xml_text_element(buf, 3, "arch", host_arch());
    if (cpu) {
        host_xml_text_element(buf, 3, "model", host_cpu_model_guess(cpu));
        if (cpu->vendor)
            host_xml_text_element(buf, 3, "vendor", cpu->vendor);
    }
    g_string_append_printf(buf,
                           "      <topology sockets='%u' dies='%u' cores='%u' threads='%u'/>\n",
                           topo->sockets, topo->dies, topo->cores, topo->threads);
    for (gsize i = 0; cpu && i < G_N_ELEMENTS(shown_flags); i++)
        if (g_hash_table_contains(cpu->flags, shown_flags[i]))
            g_string_append_printf(buf, "      <feature name='%s'/>\n", shown_flags[i]);
    g_string_append(buf, "    </cpu>\n");
}

static void format_topology(GString *buf, const HostTopology *topo)
{
    g_string_append_printf(buf, "    <topology>\n      <cells num='%u'>\n", topo->cells->len);
    for (guint c = 0; c < topo->cells->len; c++) {
        const HostCell *cell = topo->cells->pdata[c];

        g_string_append_printf(buf, "        <cell id='%u'>\n", cell->id);
        g_string_append_printf(buf, "          <memory unit='KiB'>%" G_GUINT64_FORMAT "</memory>\n",
                               cell->memory_kib);
        if (cell->distances->len) {
            g_string_append(buf, "          <distances>\n");
            for (guint i = 0; i < cell->distances->len; i++) {
                const HostDistance *d = &g_array_index(cell->distances, HostDistance, i);

                g_string_append_printf(buf, "            <sibling id='%u' value='%u'/>\n", d->id,
                                       d->value);
            }
            g_string_append(buf, "          </distances>\n");
        }
        g_string_append_printf(buf, "          <cpus num='%u'>\n", cell->cpus->len);
        for (guint i = 0; i < cell->cpus->len; i++) {
            const HostCpu *cpu = cell->cpus->pdata[i];

            if (!cpu->online) {
                g_string_append_printf(buf, "            <cpu id='%u'/>\n", cpu->id);
                continue;
            }
            g_string_append_printf(buf,
                                   "            <cpu id='%u' socket_id='%u' die_id='%u' "
                                   "core_id='%u' siblings='%s'/>\n",
                                   cpu->id, cpu->socket_id, cpu->die_id, cpu->core_id,
                                   cpu->siblings);
        }
        g_string_append(buf, "          </cpus>\n        </cell>\n");
    }
    g_string_append(buf, "      </cells>\n    </topology>\n");
}

static gboolean iommu_present(const char *root)
{
    g_autofree char *path = g_build_filename(root, "sys/kernel/iommu_groups", NULL);
    GDir *dir = g_dir_open(path, 0, NULL);
    gboolean any;

    if (!dir)
        return FALSE;
    any = g_dir_read_name(dir) != NULL;
    g_dir_close(dir);
    return any;
}

/* Default first, then its aliases, then the rest in QEMU's order. */
static void format_machines(GString *buf, GPtrArray *machines)
{
    const char *def = qemu_machines_default(machines);
    g_autoptr(GPtrArray) order = g_ptr_array_new();

    for (guint pass = 0; pass < 3; pass++) {
        for (guint i = 0; i < machines->len; i++) {
            const QemuMachine *m = machines->pdata[i];
            gboolean is_def = def && !m->canonical && g_str_equal(m->name, def);
            gboolean is_def_alias = def && m->canonical && g_str_equal(m->canonical, def);

            if ((pass == 0 && is_def) || (pass == 1 && is_def_alias) ||
                (pass == 2 && !is_def && !is_def_alias))
                g_ptr_array_add(order, (gpointer)m);
        }
    }
    for (guint i = 0; i < order->len; i++) {
        const QemuMachine *m = order->pdata[i];

        g_string_append(buf, "      <machine");
        if (m->canonical) {
            g_string_append(buf, " canonical='");
            host_xml_escape(buf, m->canonical);
            g_string_append_c(buf, '\'');
        }
        g_string_append_printf(buf, " maxCpus='%u'", m->max_cpus);
        if (m->deprecated)
            g_string_append(buf, " deprecated='yes'");
        g_string_append_c(buf, '>');
        host_xml_escape(buf, m->name);
        g_string_append(buf, "</machine>\n");
    }
}

static gboolean kvm_serves(const char *arch)
{
    const char *host = host_arch();

    if (!host_kvm_usable())
        return FALSE;
    return g_str_equal(host, arch) || (g_str_equal(host, "x86_64") && g_str_equal(arch, "i686"));
}

static gboolean format_guest(GString *buf, const QemuTarget *t, GError **error)
{
    const char *binary = host_qemu_binary(t->arch);
    g_autoptr(GPtrArray) machines = NULL;

    if (!binary)
        return TRUE;
    machines = qemu_machines_get(binary, error);
    if (!machines)
        return FALSE;
    g_string_append(buf, "  <guest>\n    <os_type>hvm</os_type>\n");
    g_string_append_printf(buf, "    <arch name='%s'>\n", t->arch);
    g_string_append_printf(buf, "      <wordsize>%d</wordsize>\n", t->wordsize);
    host_xml_text_element(buf, 3, "emulator", binary);
    format_machines(buf, machines);
    g_string_append(buf, "      <domain type='qemu'/>\n");
    if (kvm_serves(t->arch))
        g_string_append(buf, "      <domain type='kvm'/>\n");
    g_string_append(buf, "    </arch>\n    <features>\n");
    if (t->wordsize == 32)
        g_string_append(buf, "      <pae/>\n      <nonpae/>\n");
    g_string_append(buf, "      <acpi default='on' toggle='yes'/>\n"
                         "      <apic default='on' toggle='no'/>\n"
                         "      <cpuselection/>\n"
                         "      <deviceboot/>\n"
                         "      <disksnapshot default='on' toggle='no'/>\n"
                         "    </features>\n  </guest>\n\n");
    return TRUE;
}

char *host_capabilities_xml_at(const char *root, GError **error)
{
    g_autoptr(HostTopology) topo = host_topology_read_at(root, error);
    g_autoptr(HostCpuInfo) cpu = NULL;
    g_autoptr(GString) buf = NULL;
    char uuid[HEARTH_UUID_STRING_LEN];

    if (!topo)
        return NULL;
    cpu = host_cpu_info_read_at(root, NULL);
    buf = g_string_new("<capabilities>\n\n  <host>\n");
    if (read_host_uuid(root, uuid))
        host_xml_text_element(buf, 2, "uuid", uuid);
    format_host_cpu(buf, topo, cpu);
    g_string_append(buf, "    <power_management/>\n");
    g_string_append_printf(buf, "    <iommu support='%s'/>\n", iommu_present(root) ? "yes" : "no");
    /* Hearth does not migrate guests: the element is present but announces nothing. */
    g_string_append(buf, "    <migration_features/>\n");
    format_topology(buf, topo);
    g_string_append(buf, "    <secmodel>\n      <model>none</model>\n      <doi>0</doi>\n"
                         "    </secmodel>\n  </host>\n\n");
    for (gsize i = 0; i < G_N_ELEMENTS(targets); i++)
        if (!format_guest(buf, &targets[i], error))
            return NULL;
    g_string_append(buf, "</capabilities>\n");
    return g_string_free(g_steal_pointer(&buf), FALSE);
}

char *host_capabilities_xml(GError **error)
{
    return host_capabilities_xml_at("/", error);
}
