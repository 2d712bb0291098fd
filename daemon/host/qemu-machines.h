/* The machine types a QEMU binary offers, from `QEMU -machine help`: probed on first use,
 * then kept in memory and in a cache file keyed by the binary's path, mtime and size. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
    char *name;
    char *canonical; /* the versioned machine an alias stands for; NULL when not an alias */
    gboolean is_default;
    gboolean deprecated;
    guint max_cpus;
} QemuMachine;

/* Parse the text of `-machine help` into QemuMachine * (help order, "none" left out). */
GPtrArray *qemu_machines_parse(const char *text);

/* The machines of @binary: memory cache, else the cache file, else a probe. The array is
 * shared and must not be modified; release it with g_ptr_array_unref(). */
GPtrArray *qemu_machines_get(const char *binary, GError **error);

/* Where cache files go; NULL keeps the cache in memory only. Never probes anything. */
void qemu_machines_set_cache_dir(const char *dir);

/* Forget the in-memory cache (tests). */
void qemu_machines_reset(void);

/* The default machine's canonical name, or the first machine, or NULL for an empty list. */
const char *qemu_machines_default(GPtrArray *machines);

/* @name resolved through aliases to a canonical machine of @machines, or NULL if unknown. */
const QemuMachine *qemu_machines_lookup(GPtrArray *machines, const char *name);

G_END_DECLS
