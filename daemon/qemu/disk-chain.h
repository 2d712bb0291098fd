/* Completes each disk's backing chain in a definition from the image headers, as libvirt does
 * at start: the XML may name only the top image, QEMU must be told every layer. */
#pragma once

#include "domain-def.h"

G_BEGIN_DECLS

/* For every file/block disk whose chain is not given in the XML. A backing image whose format
 * the header does not record is refused (probing it would let a guest pick its host's format). */
gboolean disk_chain_fill(HearthDomainDef *def, GError **error);

G_END_DECLS
