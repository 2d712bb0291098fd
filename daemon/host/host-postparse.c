#include "host-postparse.h"
#include "hearth-error.h"
#include "host-caps.h"
#include "qemu-machines.h"

#include <errno.h>
#include <glib/gi18n-lib.h>
#include <unistd.h>

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
    return TRUE;
}
