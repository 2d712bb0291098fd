/* Domain definition → QEMU 7.2 command line, generated in one place (libvirt 9.0's choices:
 * JSON -device/-blockdev/-object/-netdev, per-layer -blockdev nodes). Pure: no processes,
 * no file access. The caller adds the QMP monitor and opens every fd it passes in. */
#pragma once

#include <glib.h>

#include "domain-def.h"

G_BEGIN_DECLS

typedef struct {
    const char *emulator;    /* resolved emulator path (def->emulator if set, else the caller's) */
    const char *runtime_dir; /* per-domain runtime dir: auto-named unix sockets go here */
    const char *nvram_path;  /* per-domain NVRAM copy when the domain uses UEFI pflash, else NULL */
    int vnc_port;            /* port chosen by the caller for autoport VNC (>= 5900), -1 if none */
    GHashTable *net_fds;     /* <interface> ordinal (GINT_TO_POINTER, 0-based among interfaces)
                              * → inherited tap fd, for type network/bridge/ethernet; may be NULL */
    gboolean kvm_available;  /* for type='kvm' */
} QemuCommandOptions;

/* argv as a NULL-terminated array (argv[0] = emulator). Each disk's backing chain comes from
 * the definition's <backingStore> elements (the caller probes images and fills them in
 * first); a chain without them ends at the top image ("backing": null). Block node names are
 * libvirt-N-storage/-format with N counted from 1: a disk's top image, then its backing
 * images downwards, then the next disk; empty cdroms take no number. Errors: HEARTH_ERROR
 * with CONFIG_UNSUPPORTED for anything that cannot be honoured (naming the element and the
 * value), INTERNAL for missing caller inputs (tap fd, VNC port, NVRAM path). */
GStrv qemu_command_build(const HearthDomainDef *def, const QemuCommandOptions *opts,
                         GError **error);

/* Firmware a domain boots, resolved from <os firmware=''> and <loader>/<nvram>. */
typedef struct {
    const char *code;           /* image for pflash0 (or -bios) */
    const char *nvram_template; /* copy this to make a new per-domain NVRAM; NULL: none known */
    gboolean pflash;            /* TRUE: UEFI pflash pair; FALSE: -bios ROM */
    gboolean readonly;          /* pflash0 read-only (needs an NVRAM file as pflash1) */
    gboolean secure;            /* Secure Boot build: needs q35 and SMM */
} QemuFirmware;

/* TRUE and @fw filled when the domain uses a firmware image (firmware='efi' picks Debian's
 * /usr/share/OVMF/OVMF_CODE_4M.fd, or OVMF_CODE_4M.secboot.fd for secure boot, with the
 * matching OVMF_VARS_4M*.fd template); FALSE with @error unset for QEMU's built-in SeaBIOS;
 * FALSE with @error set for a configuration we cannot boot. Strings point into @def or are
 * static. Pure: the caller checks that the files exist and copies the template. */
gboolean qemu_firmware_select(const HearthDomainDef *def, QemuFirmware *fw, GError **error);

/* Shortcuts over qemu_firmware_select() for the start-up path: TRUE when the domain boots
 * UEFI from a read-only pflash and so needs QemuCommandOptions.nvram_path (FALSE also for
 * configurations qemu_command_build() will refuse), and the varstore template to copy into
 * a new NVRAM file (NULL when none is known: then the NVRAM file must already exist). */
gboolean qemu_domain_wants_nvram(const HearthDomainDef *def);
const char *qemu_nvram_template(const HearthDomainDef *def);

G_END_DECLS
