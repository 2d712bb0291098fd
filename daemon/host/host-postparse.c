#include "host-postparse.h"
#include "hearth-error.h"
#include "host-caps.h"
#include "qemu-machines.h"

#include <errno.h>
#include <glib/gi18n-lib.h>
#include <unistd.h>

static gboolean has_controller(const HearthDomainDef *def, const char *type)
{
    for (guint i = 0; i < def->devices->len; i++) {
        const HearthDomainDevice *d = def->devices->pdata[i];

        if (d->kind == HEARTH_DEVICE_CONTROLLER && g_strcmp0(d->u.controller->type, type) == 0)
            return TRUE;
    }
    return FALSE;
}

static gboolean has_input(const HearthDomainDef *def, const char *type, const char *bus)
{
    for (guint i = 0; i < def->devices->len; i++) {
        const HearthDomainDevice *d = def->devices->pdata[i];

        if (d->kind == HEARTH_DEVICE_INPUT && g_strcmp0(d->u.input->type, type) == 0 &&
            g_strcmp0(d->u.input->bus, bus) == 0)
            return TRUE;
    }
    return FALSE;
}

static guint count_kind(const HearthDomainDef *def, HearthDeviceKind kind, const char *other)
{
    guint n = 0;

    for (guint i = 0; i < def->devices->len; i++) {
        const HearthDomainDevice *d = def->devices->pdata[i];

        if (d->kind == kind &&
            (!other || (d->u.other_xml && g_str_has_prefix(d->u.other_xml, other))))
            n++;
    }
    return n;
}

static void add_device(HearthDomainDef *def, const char *xml)
{
    g_autoptr(GError) error = NULL;
    HearthDomainDevice *dev = domain_device_parse_xml(xml, &error);

    /* fixed, known-good snippets: a failure is a bug here */
    g_assert_no_error(error);
    domain_def_insert_device(def, dev);
}

/* The devices libvirt 9.0's QEMU driver adds to an x86 pc or q35 definition that does not name
 * them (checked against reference-libvirtd): <clock offset='utc'/>, the chipset's PCI root (and
 * SATA on q35), a USB controller, PS/2 mouse and keyboard, an audio backend, a video card when
 * there are graphics, a virtio memballoon; VNC graphics get autoport and an address listen.
 * Addresses are left to the start, as the QEMU command line assigns them. */
static void add_default_devices(HearthDomainDef *def)
{
    gboolean q35 =
        g_str_has_prefix(def->os.machine, "pc-q35-") || g_str_equal(def->os.machine, "q35");
    gboolean graphics = count_kind(def, HEARTH_DEVICE_GRAPHICS, NULL) > 0;

    if (!(q35 || g_str_has_prefix(def->os.machine, "pc-i440fx-") ||
          g_str_equal(def->os.machine, "pc")))
        return;
    if (!def->clock.present) {
        def->clock.present = TRUE;
        def->clock.offset = g_strdup("utc");
    }
    if (!def->devices)
        def->devices = g_ptr_array_new_with_free_func((GDestroyNotify)domain_device_free);
    if (!has_controller(def, "usb"))
        add_device(def, q35 ? "<controller type='usb' index='0' model='qemu-xhci'/>"
                            : "<controller type='usb' index='0' model='piix3-uhci'/>");
    if (q35 && !has_controller(def, "sata"))
        add_device(def, "<controller type='sata' index='0'/>");
    if (!has_controller(def, "pci"))
        add_device(def, q35 ? "<controller type='pci' index='0' model='pcie-root'/>"
                            : "<controller type='pci' index='0' model='pci-root'/>");
    if (!has_input(def, "mouse", "ps2"))
        add_device(def, "<input type='mouse' bus='ps2'/>");
    if (!has_input(def, "keyboard", "ps2"))
        add_device(def, "<input type='keyboard' bus='ps2'/>");
    if (count_kind(def, HEARTH_DEVICE_OTHER, "<audio") == 0)
        add_device(def, "<audio id='1' type='none'/>");
    if (graphics && count_kind(def, HEARTH_DEVICE_VIDEO, NULL) == 0)
        add_device(def, "<video><model type='cirrus' vram='16384' heads='1' "
                        "primary='yes'/></video>");
    if (count_kind(def, HEARTH_DEVICE_MEMBALLOON, NULL) == 0)
        add_device(def, "<memballoon model='virtio'/>");
    for (guint i = 0; i < def->devices->len; i++) {
        HearthDomainDevice *d = def->devices->pdata[i];
        HearthDomainGraphics *gr = d->u.graphics;

        if (d->kind == HEARTH_DEVICE_INTERFACE && !d->u.net->model &&
            d->u.net->type != HEARTH_NET_TYPE_OTHER)
            d->u.net->model = g_strdup("rtl8139"); /* what QEMU emulates without a model */
        if (d->kind != HEARTH_DEVICE_GRAPHICS || g_strcmp0(gr->type, "vnc") != 0)
            continue;
        if (gr->port == 0 && gr->autoport != HEARTH_TRISTATE_NO) {
            gr->port = -1;
            gr->autoport = HEARTH_TRISTATE_YES;
        } else if (gr->autoport == HEARTH_TRISTATE_ABSENT) {
            gr->autoport = gr->port == -1 ? HEARTH_TRISTATE_YES : HEARTH_TRISTATE_NO;
        }
        if (gr->listens && gr->listens->len == 0) {
            HearthGraphicsListen *l = g_new0(HearthGraphicsListen, 1);

            l->type = g_strdup("address");
            g_ptr_array_add(gr->listens, l);
        }
    }
}

gboolean host_domain_post_parse(HearthDomainDef *def, GError **error)
{
    const char *arch = def->os.arch ? def->os.arch : "x86_64";
    const char *emulator = def->emulator ? def->emulator : host_qemu_binary(arch);
    g_autoptr(GPtrArray) machines = NULL;
    const QemuMachine *m;

    /* as libvirt: a definition naming an emulator that is not there is refused */
    if (def->emulator && access(def->emulator, X_OK) < 0) {
        hearth_error_set_errno(error, errno, "Cannot check QEMU binary %s", def->emulator);
        return FALSE;
    }
    if (!emulator)
        return TRUE;
    machines = qemu_machines_get(emulator, NULL);
    if (!machines || machines->len == 0)
        return TRUE;
    if (!def->os.machine) {
        def->os.machine = g_strdup(qemu_machines_default(machines));
        if (def->os.machine)
            add_default_devices(def);
        return TRUE;
    }
    m = qemu_machines_lookup(machines, def->os.machine);
    if (!m) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_CONFIG_UNSUPPORTED,
                    _("emulator '%s' does not support machine type '%s'"), emulator,
                    def->os.machine);
        return FALSE;
    }
    if (!g_str_equal(m->name, def->os.machine)) {
        g_free(def->os.machine);
        def->os.machine = g_strdup(m->name);
    }
    add_default_devices(def);
    return TRUE;
}
