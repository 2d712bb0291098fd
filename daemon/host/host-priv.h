/* Internals shared by the host-*.c files and their unit tests. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Read host facts below @root instead of "/" (fixtures). */
char *host_capabilities_xml_at(const char *root, GError **error);
char *host_sysinfo_xml_at(const char *root, GError **error);

/* Tests: use @path as the QEMU binary of @arch (NULL: none); host_caps_test_reset() undoes it. */
void host_caps_test_set_qemu(const char *arch, const char *path);
/* Tests: the device node checked for KVM (default /dev/kvm). */
void host_caps_test_set_kvm_device(const char *path);
void host_caps_test_reset(void);

/* The libvirt arch a QEMU binary emulates, from its name; NULL when not one of ours. */
const char *host_qemu_binary_arch(const char *binary);

/* Small XML writing helpers, libvirt style (two-space indent, single-quoted attributes). */
void host_xml_indent(GString *buf, int level);
void host_xml_escape(GString *buf, const char *text);
void host_xml_text_element(GString *buf, int level, const char *name, const char *text);

G_END_DECLS
