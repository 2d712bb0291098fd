/* Host statistics as virsh nodecpustats, nodememstats and freecell show them, read from /proc
 * and /sys below a root directory (tests use fixtures). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define HOST_ALL_CPUS (-1)
#define HOST_ALL_CELLS (-1)

/* libvirt's four CPU figures, in nanoseconds: kernel (system+irq+softirq), user (user+nice),
 * idle and iowait, for one CPU or all of them (HOST_ALL_CPUS). */
typedef struct {
    guint64 kernel, user, idle, iowait;
} HostCpuStats;

gboolean host_cpu_stats_read_at(const char *root, int cpu, HostCpuStats *out, GError **error);

/* libvirt's four memory figures, in KiB: total, free, buffers, cached, for the host or one NUMA
 * cell (whose meminfo has no buffers: 0, as libvirt reports). */
typedef struct {
    guint64 total, free, buffers, cached;
} HostMemoryStats;

gboolean host_memory_stats_read_at(const char *root, int cell, HostMemoryStats *out,
                                   GError **error);

/* Free memory of cells start..start+max-1, in bytes; a host without NUMA information is one
 * cell 0. Fewer cells than asked come back when the host has fewer. */
GArray *host_cells_free_read_at(const char *root, int start, int max, GError **error);

/* A process's or thread's CPU time (utime+stime, ns) and the CPU it last ran on (-1 when not
 * known), from its stat file (/proc/PID/stat or /proc/PID/task/TID/stat). */
gboolean host_proc_cpu_time(const char *stat_path, guint64 *ns, int *last_cpu);

/* The number after "KEY:" on a line of a /proc key-value file (meminfo, status), 0 if absent. */
guint64 host_proc_kv_value(const char *text, const char *key);

/* The CPU model names a guest of @arch may ask for (QEMU 7.2's named models). */
const char *const *host_cpu_model_names(const char *arch, guint *n);

G_END_DECLS
