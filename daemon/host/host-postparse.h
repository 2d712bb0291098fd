/* What libvirt's QEMU driver fills in when a definition is made, from what the host's QEMU
 * offers (so it lives with the host facts, not in the hypervisor-neutral lib/conf). */
#pragma once

#include "domain-def.h"

#include <glib.h>

G_BEGIN_DECLS

/* The machine type becomes the versioned machine it stands for now (pc -> pc-i440fx-7.2), or
 * the emulator's default when none is given, so that a QEMU upgrade never changes a defined
 * guest's hardware. A machine the emulator does not offer is an error naming both, and so is
 * an <emulator> that does not exist (as in libvirt). An emulator that cannot be probed leaves
 * the definition as it is (the start names the problem). */
gboolean host_domain_post_parse(HearthDomainDef *def, GError **error);

G_END_DECLS
