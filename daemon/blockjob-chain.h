/* Disk backing chains in domain definitions, as snapshots and block jobs see and change them.
 * Every image of a running domain's chain carries the number N of its QEMU nodes
 * (libvirt-N-storage/-format): index='N' on <source> for the top image and on
 * <backingStore> below it, as in libvirt's live XML. The persistent definition carries no
 * numbers. */
#pragma once

#include "domain-def.h"
#include "domain-store.h"
#include "hearth-daemon.h"

G_BEGIN_DECLS

/* Number a live definition's chains as the QEMU command line names its nodes: each disk with
 * an image in device order, its top image first, then its backing images downwards. */
void blockjob_chain_number(HearthDomainDef *live);

/* A layer's node number (-1 when it has none). */
int chain_layer_index(const HearthDomainDisk *disk, const HearthDiskSource *layer);
void chain_layer_set_index(HearthDomainDisk *disk, HearthDiskSource *layer, int index);
/* Remove every node number (for definitions that are shown or stored as inactive). */
void chain_strip_indices(HearthDomainDef *def);

/* A disk named by its target ("vda") or by the path of its top image; NULL if none. */
HearthDomainDisk *chain_find_disk(const HearthDomainDef *def, const char *name);
/* The layer of @disk named by @name: an image path, or "vda[N]"/"[N]" by node number, or the
 * target itself (the top). *above is set to the layer above it (NULL for the top). */
HearthDiskSource *chain_find_layer(HearthDomainDisk *disk, const char *name,
                                   HearthDiskSource **above);
HearthDiskSource *chain_layer_by_index(HearthDomainDisk *disk, int index, HearthDiskSource **above);
gboolean chain_layer_is_below(const HearthDiskSource *upper, const HearthDiskSource *lower);

/* A new node number for @dom's live definition: above every number it uses, and never one
 * handed out before while hearthd runs. */
int chain_next_index(const HearthDomain *dom);

/* Put a new top image over @disk's current one (which moves down, keeping its number). */
void chain_push_overlay(HearthDomainDisk *disk, const char *path, const char *format, int index);
/* Drop the layers strictly between @upper and @lower (NULL: every layer below @upper, which
 * then ends the chain). */
void chain_drop_between(HearthDiskSource *upper, HearthDiskSource *lower);
/* The disk continues on @base (a layer of its chain): everything above it goes. */
void chain_pivot(HearthDomainDisk *disk, HearthDiskSource *base);
/* Cut the chain below the top image: the persistent definition only names the top image, and
 * the chain is read from the image headers again at the next start. */
void chain_forget_backing(HearthDomainDisk *disk);

/* The image paths of a chain, top first (borrowed strings). */
GPtrArray *chain_paths(const HearthDomainDisk *disk);

G_END_DECLS
