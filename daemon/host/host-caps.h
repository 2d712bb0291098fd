/* What the host offers to guests, in libvirt's XML formats: <capabilities>,
 * <domainCapabilities> and <sysinfo>, plus the vCPU limit and the QEMU binaries.
 * Errors are HEARTH_ERROR codes; nothing here prints. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Directory for the cached `QEMU -machine help` results; NULL (default) keeps them in memory
 * only. Cheap: nothing is probed until capabilities are first asked for. */
void host_caps_set_cache_dir(const char *dir);

/* Absolute path of the QEMU system emulator for a libvirt arch ("x86_64", "i686"), from PATH
 * or /usr/bin; NULL when not installed or the arch is not supported. */
const char *host_qemu_binary(const char *arch);

/* TRUE when /dev/kvm can be opened read-write. */
gboolean host_kvm_usable(void);

char *host_capabilities_xml(GError **error);

/* Any argument may be NULL for its default: the host arch, the arch's emulator, that
 * emulator's default machine, kvm when usable else qemu. */
char *host_domain_capabilities_xml(const char *emulator, const char *arch, const char *machine,
                                   const char *virttype, GError **error);

/* HEARTH_ERR_NO_SUPPORT when the host exposes no SMBIOS data. */
char *host_sysinfo_xml(GError **error);

/* @type: NULL, "qemu" or "kvm" (any case). -1 and INVALID_ARG for anything else. */
int host_max_vcpus(const char *type, GError **error);

G_END_DECLS
