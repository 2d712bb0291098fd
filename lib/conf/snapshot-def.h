/* libvirt's domainsnapshot XML as a public, hypervisor-neutral structure: parse, format,
 * and the rules that fill in a snapshot request (which disks, which overlay files). Elements
 * not modeled are kept verbatim. */
#pragma once

#include <glib.h>

#include "domain-def.h"

G_BEGIN_DECLS

/* snapshot='' of <memory> and <disk> (virDomainSnapshotLocation). */
typedef enum {
    HEARTH_SNAPSHOT_LOC_DEFAULT = 0, /* absent */
    HEARTH_SNAPSHOT_LOC_NO,
    HEARTH_SNAPSHOT_LOC_INTERNAL,
    HEARTH_SNAPSHOT_LOC_EXTERNAL,
    HEARTH_SNAPSHOT_LOC_MANUAL,
} HearthSnapshotLocation;

typedef struct {
    char *name; /* the disk's target (or its source path, as a user may write it) */
    HearthSnapshotLocation snapshot;
    HearthDiskType type; /* of the overlay's <source> */
    gboolean has_type;
    char *driver_type; /* <driver type=''/>: the overlay's format */
    char *file;        /* <source file=''/> (dev='' for a block overlay) */
    HearthXmlExtra extra;
} HearthSnapshotDisk;

typedef struct {
    char *name;
    char *description;
    char *state;          /* shutoff, running, paused, disk-snapshot, ... (virsh parses it) */
    char *parent;         /* name of the parent snapshot, NULL for a root */
    gint64 creation_time; /* seconds since the epoch, -1 when absent */
    HearthSnapshotLocation memory;
    char *memory_file;
    GPtrArray *disks;              /* HearthSnapshotDisk *, in document order */
    HearthDomainDef *dom;          /* <domain>: the definition at snapshot time */
    HearthDomainDef *inactive_dom; /* <inactiveDomain>: the persistent one, if it differed */
    gboolean current;              /* <active>1</active>, only in the daemon's own files */
    HearthXmlExtra extra;          /* unknown top-level elements, kept */
} HearthSnapshotDef;

enum {
    SNAPSHOT_PARSE_VALIDATE = 1u << 0, /* check against xml-schemas/domainsnapshot.rng */
    SNAPSHOT_PARSE_INTERNAL = 1u << 1, /* the daemon's own file: <active> is read */
};
HearthSnapshotDef *snapshot_def_parse(const char *xml, gsize len, guint flags, GError **error);

enum {
    SNAPSHOT_FORMAT_SECURE = 1u << 0,   /* passwords in the embedded domains */
    SNAPSHOT_FORMAT_INTERNAL = 1u << 1, /* the daemon's own file: <active> is written */
};
/* libvirt's order: name, description, state, parent, creationTime, memory, disks, domain,
 * inactiveDomain, (unknown elements), active. 2-space indentation, trailing newline. */
char *snapshot_def_format(const HearthSnapshotDef *def, guint flags);

HearthSnapshotDef *snapshot_def_new(void);
void snapshot_def_free(HearthSnapshotDef *def);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HearthSnapshotDef, snapshot_def_free)
void snapshot_disk_free(HearthSnapshotDisk *disk);

const char *snapshot_location_name(HearthSnapshotLocation loc);

/* Snapshot names: non-empty, no '/', no leading '.', no control characters, at most 200 bytes
 * (they become file names). */
gboolean snapshot_name_check(const char *name, GError **error);

/* The snapshot's disk entry for disk @target, or NULL. */
HearthSnapshotDisk *snapshot_def_find_disk(const HearthSnapshotDef *def, const char *target);

/* virDomainSnapshotAlignDisks for a disk-only snapshot of @dom: name every disk entry by its
 * target (a source path names its disk too), refuse unknown and repeated disks, add an entry
 * for each disk the request left out (external for a writable disk with an image, no for a
 * cdrom or read-only disk or one without a source), and give each external disk without a file
 * libvirt's default overlay name: the current image path without its last suffix, plus '.' and
 * the snapshot name. Errors are CONFIG_UNSUPPORTED, as libvirt reports them. */
gboolean snapshot_def_align_disks(HearthSnapshotDef *def, const HearthDomainDef *dom,
                                  GError **error);

/* libvirt's default overlay name for @path and snapshot @name. */
char *snapshot_default_overlay_name(const char *path, const char *name);

G_END_DECLS
