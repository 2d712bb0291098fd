/* Host facts as libvirt's nodeinfo and capabilities describe them: memory, CPU counts and the
 * NUMA topology, read from /proc and /sys below a root directory so tests can use fixtures. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
    char model[32];     /* host architecture, e.g. "x86_64" */
    guint64 memory_kib; /* sum of the NUMA nodes' memory, else MemTotal */
    gint32 cpus;        /* online CPUs */
    gint32 mhz;
    gint32 nodes;
    gint32 sockets; /* per NUMA node, as libvirt reports them */
    gint32 cores;   /* per socket */
    gint32 threads; /* per core */
} HostNodeInfo;

gboolean host_node_info_read(HostNodeInfo *info, GError **error);
/* Same, reading /proc and /sys below @root ("/" for the real host). */
gboolean host_node_info_read_at(const char *root, HostNodeInfo *info, GError **error);

typedef struct {
    guint id;
    gboolean online;
    guint socket_id;
    guint die_id;
    guint core_id;
    char *siblings; /* thread siblings as a cpuset string, e.g. "0,4" */
} HostCpu;

typedef struct {
    guint id;
    guint value;
} HostDistance;

typedef struct {
    guint id;
    guint64 memory_kib;
    GArray *distances; /* HostDistance; empty when sysfs has none */
    GPtrArray *cpus;   /* HostCpu *, ordered by id */
} HostCell;

typedef struct {
    GPtrArray *cells; /* HostCell *, ordered by id; one pseudo-cell without NUMA sysfs */
    guint sockets;    /* whole host, for <host><cpu><topology> */
    guint dies;       /* per socket */
    guint cores;      /* per die */
    guint threads;    /* per core */
} HostTopology;

HostTopology *host_topology_read_at(const char *root, GError **error);
void host_topology_free(HostTopology *topo);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HostTopology, host_topology_free)

/* What /proc/cpuinfo tells about the first processor. */
typedef struct {
    char *vendor;      /* libvirt spelling: "Intel", "AMD", or the raw vendor_id */
    GHashTable *flags; /* set of flag names */
    gint32 mhz;
} HostCpuInfo;

HostCpuInfo *host_cpu_info_read_at(const char *root, GError **error);
void host_cpu_info_free(HostCpuInfo *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HostCpuInfo, host_cpu_info_free)

/* A QEMU CPU model name close to the host, without CPUID: a short ladder on the flags. */
const char *host_cpu_model_guess(const HostCpuInfo *info);

/* The host architecture in libvirt's naming ("x86_64", "i686", "aarch64"...). */
const char *host_arch(void);

/* Parse a cpuset list ("0-3,8,10-11") into sorted unique ids; FALSE on bad syntax. */
gboolean host_cpuset_parse(const char *text, GArray *ids);
/* Format sorted ids back to the compact form. */
char *host_cpuset_format(const GArray *ids);

G_END_DECLS
