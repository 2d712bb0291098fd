#include "host-node.h"
#include "hearth-error.h"

#include <errno.h>
#include <glib/gi18n-lib.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#define SYS_CPU "sys/devices/system/cpu"
#define SYS_NODE "sys/devices/system/node"

/* sysfs and procfs texts we read are small; anything bigger is not what we expect. */
#define MAX_TEXT_SIZE (4 * 1024 * 1024)

static char *read_text(const char *root, const char *rel, GError **error)
{
    g_autofree char *path = g_build_filename(root, rel, NULL);
    g_autoptr(GError) local = NULL;
    char *text = NULL;
    gsize len = 0;

    if (!g_file_get_contents(path, &text, &len, &local)) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_SYSTEM_ERROR, _("cannot read '%s': %s"), path,
                    local->message);
        return NULL;
    }
    if (len > MAX_TEXT_SIZE) {
        g_free(text);
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_INTERNAL, _("'%s' is unexpectedly large"),
                    path);
        return NULL;
    }
    return text;
}

/* An optional text; NULL when absent or unreadable. */
static char *read_text_opt(const char *root, const char *rel)
{
    return read_text(root, rel, NULL);
}

static gboolean parse_uint(const char *text, guint *out)
{
    g_autofree char *s = g_strstrip(g_strdup(text));
    guint64 v;

    if (!g_ascii_string_to_unsigned(s, 10, 0, G_MAXUINT, &v, NULL))
        return FALSE;
    *out = (guint)v;
    return TRUE;
}

/* A per-CPU topology value; a missing file or -1 (unknown) reads as @fallback. */
static guint read_cpu_uint(const char *root, guint cpu, const char *name, guint fallback)
{
    g_autofree char *rel = g_strdup_printf(SYS_CPU "/cpu%u/topology/%s", cpu, name);
    g_autofree char *text = read_text_opt(root, rel);
    guint v;

    if (!text || !parse_uint(text, &v))
        return fallback;
    return v;
}

static gint compare_uint(gconstpointer a, gconstpointer b)
{
    guint x = *(const guint *)a, y = *(const guint *)b;
    return x < y ? -1 : x > y;
}

gboolean host_cpuset_parse(const char *text, GArray *ids)
{
    g_autofree char *copy = g_strstrip(g_strdup(text));
    g_auto(GStrv) parts = NULL;
    guint start = ids->len;

    if (*copy == '\0')
        return TRUE;
    parts = g_strsplit(copy, ",", -1);
    for (guint i = 0; parts[i]; i++) {
        char *dash = strchr(parts[i], '-');
        guint64 lo, hi;

        if (dash)
            *dash = '\0';
        if (!g_ascii_string_to_unsigned(parts[i], 10, 0, 65535, &lo, NULL))
            return FALSE;
        hi = lo;
        if (dash && !g_ascii_string_to_unsigned(dash + 1, 10, lo, 65535, &hi, NULL))
            return FALSE;
        for (guint64 v = lo; v <= hi; v++) {
            guint u = (guint)v;
            g_array_append_val(ids, u);
        }
    }
    /* Sort and drop duplicates in what we appended. */
    if (ids->len > start) {
        guint out = start + 1;

        g_array_sort(ids, compare_uint);
        for (guint i = start + 1; i < ids->len; i++) {
            if (g_array_index(ids, guint, i) != g_array_index(ids, guint, out - 1))
                g_array_index(ids, guint, out++) = g_array_index(ids, guint, i);
        }
        g_array_set_size(ids, out);
    }
    return TRUE;
}

char *host_cpuset_format(const GArray *ids)
{
    GString *s = g_string_new(NULL);

    for (guint i = 0; i < ids->len;) {
        guint lo = g_array_index(ids, guint, i), hi = lo;
        guint j = i + 1;

        while (j < ids->len && g_array_index(ids, guint, j) == hi + 1)
            hi = g_array_index(ids, guint, j++);
        if (s->len)
            g_string_append_c(s, ',');
        if (hi == lo)
            g_string_append_printf(s, "%u", lo);
        else
            g_string_append_printf(s, "%u-%u", lo, hi);
        i = j;
    }
    return g_string_free(s, FALSE);
}

/* Ids of the entries of @dir named @prefix followed by digits, sorted. */
static GArray *list_numbered(const char *root, const char *rel, const char *prefix)
{
    g_autofree char *path = g_build_filename(root, rel, NULL);
    GArray *ids = g_array_new(FALSE, FALSE, sizeof(guint));
    GDir *dir = g_dir_open(path, 0, NULL);
    gsize plen = strlen(prefix);
    const char *name;

    if (!dir)
        return ids;
    while ((name = g_dir_read_name(dir))) {
        guint64 v;

        if (strncmp(name, prefix, plen) != 0 || !g_ascii_isdigit(name[plen]))
            continue;
        if (g_ascii_string_to_unsigned(name + plen, 10, 0, 65535, &v, NULL)) {
            guint u = (guint)v;
            g_array_append_val(ids, u);
        }
    }
    g_dir_close(dir);
    g_array_sort(ids, compare_uint);
    return ids;
}

/* "MemTotal:  123 kB" (or "Node 0 MemTotal: 123 kB") anywhere in @text. */
static gboolean parse_memtotal(const char *text, guint64 *kib)
{
    const char *p = strstr(text, "MemTotal:");

    if (!p)
        return FALSE;
    p += strlen("MemTotal:");
    while (*p == ' ' || *p == '\t')
        p++;
    if (!g_ascii_isdigit(*p))
        return FALSE;
    *kib = g_ascii_strtoull(p, NULL, 10);
    return TRUE;
}

static void host_cpu_free(gpointer p)
{
    HostCpu *cpu = p;

    g_free(cpu->siblings);
    g_free(cpu);
}

static void host_cell_free(gpointer p)
{
    HostCell *cell = p;

    g_array_unref(cell->distances);
    g_ptr_array_unref(cell->cpus);
    g_free(cell);
}

void host_topology_free(HostTopology *topo)
{
    if (!topo)
        return;
    g_ptr_array_unref(topo->cells);
    g_free(topo);
}

static HostCell *cell_new(guint id)
{
    HostCell *cell = g_new0(HostCell, 1);

    cell->id = id;
    cell->distances = g_array_new(FALSE, FALSE, sizeof(HostDistance));
    cell->cpus = g_ptr_array_new_with_free_func(host_cpu_free);
    return cell;
}

static HostCpu *cpu_read(const char *root, guint id, GArray *online_set)
{
    HostCpu *cpu = g_new0(HostCpu, 1);

    cpu->id = id;
    if (online_set) {
        cpu->online = FALSE;
        for (guint i = 0; i < online_set->len; i++)
            if (g_array_index(online_set, guint, i) == id)
                cpu->online = TRUE;
    } else {
        g_autofree char *rel = g_strdup_printf(SYS_CPU "/cpu%u/online", id);
        g_autofree char *text = read_text_opt(root, rel);
        guint v;

        /* cpu0 usually has no "online" file: it cannot be unplugged. */
        cpu->online = !text || !parse_uint(text, &v) || v != 0;
    }
    if (cpu->online) {
        g_autofree char *rel = g_strdup_printf(SYS_CPU "/cpu%u/topology/thread_siblings_list", id);
        g_autofree char *text = read_text_opt(root, rel);
        g_autoptr(GArray) sib = g_array_new(FALSE, FALSE, sizeof(guint));

        cpu->socket_id = read_cpu_uint(root, id, "physical_package_id", 0);
        cpu->die_id = read_cpu_uint(root, id, "die_id", 0);
        cpu->core_id = read_cpu_uint(root, id, "core_id", id);
        if (!text || !host_cpuset_parse(text, sib) || sib->len == 0) {
            g_array_set_size(sib, 0);
            g_array_append_val(sib, id);
        }
        cpu->siblings = host_cpuset_format(sib);
    }
    return cpu;
}

/* Number of processors /proc/cpuinfo lists, for hosts without a CPU sysfs. */
static guint count_cpuinfo_processors(const char *root)
{
    g_autofree char *text = read_text_opt(root, "proc/cpuinfo");
    g_auto(GStrv) lines = NULL;
    guint n = 0;

    if (!text)
        return 0;
    lines = g_strsplit(text, "\n", -1);
    for (guint i = 0; lines[i]; i++)
        if (g_str_has_prefix(lines[i], "processor") && strchr(lines[i], ':'))
            n++;
    return n;
}

static void read_cell_distances(const char *root, HostCell *cell, GArray *node_ids)
{
    g_autofree char *rel = g_strdup_printf(SYS_NODE "/node%u/distance", cell->id);
    g_autofree char *text = read_text_opt(root, rel);
    g_auto(GStrv) fields = NULL;
    guint n = 0;

    if (!text)
        return;
    fields = g_strsplit_set(g_strstrip(text), " \t", -1);
    for (guint i = 0; fields[i]; i++)
        if (*fields[i])
            n++;
    /* The kernel lists one distance per online node, in node order. */
    if (n != node_ids->len)
        return;
    n = 0;
    for (guint i = 0; fields[i]; i++) {
        HostDistance d;

        if (!*fields[i])
            continue;
        d.id = g_array_index(node_ids, guint, n++);
        if (!parse_uint(fields[i], &d.value)) {
            g_array_set_size(cell->distances, 0);
            return;
        }
        g_array_append_val(cell->distances, d);
    }
}

static void cell_add_cpus(const char *root, HostCell *cell, GArray *ids, GArray *online_set)
{
    for (guint i = 0; i < ids->len; i++)
        g_ptr_array_add(cell->cpus, cpu_read(root, g_array_index(ids, guint, i), online_set));
}

/* Counts distinct keys per group: @outer maps a group key to a set of inner keys. */
static void count_key(GHashTable *outer, char *group, char *inner)
{
    GHashTable *set = g_hash_table_lookup(outer, group);

    if (!set) {
        set = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        g_hash_table_insert(outer, g_strdup(group), set);
    }
    g_hash_table_add(set, g_strdup(inner));
    g_free(group);
    g_free(inner);
}

static guint max_group_size(GHashTable *outer)
{
    GHashTableIter it;
    gpointer value;
    guint max = 0;

    g_hash_table_iter_init(&it, outer);
    while (g_hash_table_iter_next(&it, NULL, &value))
        max = MAX(max, g_hash_table_size(value));
    return max;
}

static GHashTable *groups_new(void)
{
    return g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                 (GDestroyNotify)g_hash_table_unref);
}

/* sockets, dies per socket, cores per die and threads per core over the online CPUs of
 * @cells[first..last]. */
static void count_topology(GPtrArray *cells, guint first, guint last, guint *sockets, guint *dies,
                           guint *cores, guint *threads)
{
    g_autoptr(GHashTable) all = groups_new();
    g_autoptr(GHashTable) by_socket = groups_new();
    g_autoptr(GHashTable) by_die = groups_new();
    g_autoptr(GHashTable) by_core = groups_new();

    for (guint c = first; c <= last && c < cells->len; c++) {
        HostCell *cell = cells->pdata[c];

        for (guint i = 0; i < cell->cpus->len; i++) {
            HostCpu *cpu = cell->cpus->pdata[i];

            if (!cpu->online)
                continue;
            count_key(all, g_strdup(""), g_strdup_printf("%u", cpu->socket_id));
            count_key(by_socket, g_strdup_printf("%u", cpu->socket_id),
                      g_strdup_printf("%u", cpu->die_id));
            count_key(by_die, g_strdup_printf("%u:%u", cpu->socket_id, cpu->die_id),
                      g_strdup_printf("%u", cpu->core_id));
            count_key(by_core,
                      g_strdup_printf("%u:%u:%u", cpu->socket_id, cpu->die_id, cpu->core_id),
                      g_strdup_printf("%u", cpu->id));
        }
    }
    *sockets = max_group_size(all);
    *dies = max_group_size(by_socket);
    *cores = max_group_size(by_die);
    *threads = max_group_size(by_core);
}

HostTopology *host_topology_read_at(const char *root, GError **error)
{
    g_autoptr(HostTopology) topo = g_new0(HostTopology, 1);
    g_autoptr(GArray) node_ids = list_numbered(root, SYS_NODE, "node");
    g_autoptr(GArray) online_set = NULL;
    g_autofree char *online_text = read_text_opt(root, SYS_CPU "/online");

    topo->cells = g_ptr_array_new_with_free_func(host_cell_free);
    if (online_text) {
        online_set = g_array_new(FALSE, FALSE, sizeof(guint));
        if (!host_cpuset_parse(online_text, online_set))
            g_clear_pointer(&online_set, g_array_unref);
    }

    for (guint n = 0; n < node_ids->len; n++) {
        guint id = g_array_index(node_ids, guint, n);
        HostCell *cell = cell_new(id);
        g_autofree char *rel = g_strdup_printf(SYS_NODE "/node%u", id);
        g_autofree char *meminfo_rel = g_strdup_printf("%s/meminfo", rel);
        g_autofree char *cpulist_rel = g_strdup_printf("%s/cpulist", rel);
        g_autofree char *meminfo = read_text_opt(root, meminfo_rel);
        g_autofree char *cpulist = read_text_opt(root, cpulist_rel);
        /* The cpuN links cover offline CPUs too; cpulist (fixtures, odd kernels) only online. */
        g_autoptr(GArray) cpu_ids = list_numbered(root, rel, "cpu");

        g_ptr_array_add(topo->cells, cell);
        if (meminfo)
            parse_memtotal(meminfo, &cell->memory_kib);
        if (cpu_ids->len == 0 && cpulist && !host_cpuset_parse(cpulist, cpu_ids))
            g_array_set_size(cpu_ids, 0);
        cell_add_cpus(root, cell, cpu_ids, online_set);
        read_cell_distances(root, cell, node_ids);
    }

    if (topo->cells->len == 0) {
        /* No NUMA sysfs: one pseudo-cell with every CPU and all the memory. */
        HostCell *cell = cell_new(0);
        g_autoptr(GArray) cpu_ids = list_numbered(root, SYS_CPU, "cpu");
        g_autofree char *meminfo = read_text(root, "proc/meminfo", error);

        g_ptr_array_add(topo->cells, cell);
        if (!meminfo)
            return NULL;
        if (!parse_memtotal(meminfo, &cell->memory_kib)) {
            g_set_error(error, HEARTH_ERROR, HEARTH_ERR_INTERNAL,
                        _("no MemTotal in '%s/proc/meminfo'"), root);
            return NULL;
        }
        if (cpu_ids->len == 0) {
            guint n = count_cpuinfo_processors(root);

            for (guint i = 0; i < n; i++) {
                HostCpu *cpu = g_new0(HostCpu, 1);

                cpu->id = i;
                cpu->online = TRUE;
                cpu->core_id = i;
                cpu->siblings = g_strdup_printf("%u", i);
                g_ptr_array_add(cell->cpus, cpu);
            }
        } else {
            cell_add_cpus(root, cell, cpu_ids, online_set);
        }
    }

    count_topology(topo->cells, 0, G_MAXUINT, &topo->sockets, &topo->dies, &topo->cores,
                   &topo->threads);
    if (topo->sockets == 0) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_INTERNAL,
                    _("cannot find any online CPU under '%s'"), root);
        return NULL;
    }
    return g_steal_pointer(&topo);
}

void host_cpu_info_free(HostCpuInfo *info)
{
    if (!info)
        return;
    g_free(info->vendor);
    if (info->flags)
        g_hash_table_unref(info->flags);
    g_free(info);
}

static char *vendor_from_id(const char *id)
{
    if (g_str_equal(id, "GenuineIntel"))
        return g_strdup("Intel");
    if (g_str_equal(id, "AuthenticAMD"))
        return g_strdup("AMD");
    if (g_str_equal(id, "HygonGenuine"))
        return g_strdup("Hygon");
    return g_strdup(id);
}

HostCpuInfo *host_cpu_info_read_at(const char *root, GError **error)
{
    g_autofree char *text = read_text(root, "proc/cpuinfo", error);
    g_autoptr(HostCpuInfo) info = NULL;
    g_auto(GStrv) lines = NULL;
    gboolean have_flags = FALSE, have_mhz = FALSE;

    if (!text)
        return NULL;
    info = g_new0(HostCpuInfo, 1);
    info->flags = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    lines = g_strsplit(text, "\n", -1);
    for (guint i = 0; lines[i]; i++) {
        char *colon = strchr(lines[i], ':');
        char *key, *value;

        if (!colon)
            continue;
        *colon = '\0';
        key = g_strstrip(lines[i]);
        value = g_strstrip(colon + 1);
        if (!info->vendor && g_str_equal(key, "vendor_id") && *value) {
            info->vendor = vendor_from_id(value);
        } else if (!have_flags && g_str_equal(key, "flags")) {
            g_auto(GStrv) names = g_strsplit_set(value, " \t", -1);

            for (guint j = 0; names[j]; j++)
                if (*names[j])
                    g_hash_table_add(info->flags, g_strdup(names[j]));
            have_flags = TRUE;
        } else if (!have_mhz && g_str_equal(key, "cpu MHz")) {
            /* libvirt keeps the integer part of the first processor's figure. */
            guint64 v = g_ascii_strtoull(value, NULL, 10);

            info->mhz = (gint32)MIN(v, (guint64)G_MAXINT32);
            have_mhz = TRUE;
        }
    }
    if (!have_mhz) {
        g_autofree char *khz = read_text_opt(root, SYS_CPU "/cpu0/cpufreq/cpuinfo_max_freq");
        guint v;

        if (khz && parse_uint(khz, &v))
            info->mhz = (gint32)(v / 1000);
    }
    return g_steal_pointer(&info);
}

typedef struct {
    const char *model;
    const char *vendor; /* NULL: any */
    const char *flags;  /* space separated, all required */
} ModelRung;

/* Newest first; each rung names flags that QEMU's model of that name needs. */
static const ModelRung model_ladder[] = {
    {"Haswell-noTSX", "Intel", "avx2 bmi1 bmi2 fma movbe fsgsbase invpcid erms avx aes"},
    {"SandyBridge", "Intel", "avx aes pclmulqdq xsave sse4_2 popcnt"},
    {"Nehalem", "Intel", "sse4_2 sse4_1 ssse3 popcnt"},
    {"EPYC", "AMD", "avx2 sha_ni adx rdseed bmi2 movbe fma"},
    {"Opteron_G3", "AMD", "sse4a abm popcnt"},
};

static gboolean has_all_flags(const HostCpuInfo *info, const char *flags)
{
    g_auto(GStrv) names = g_strsplit(flags, " ", -1);

    for (guint i = 0; names[i]; i++)
        if (!g_hash_table_contains(info->flags, names[i]))
            return FALSE;
    return TRUE;
}

const char *host_cpu_model_guess(const HostCpuInfo *info)
{
    if (!g_hash_table_contains(info->flags, "lm"))
        return "qemu32";
    for (gsize i = 0; i < G_N_ELEMENTS(model_ladder); i++) {
        const ModelRung *r = &model_ladder[i];

        if (r->vendor && (!info->vendor || !g_str_equal(r->vendor, info->vendor)))
            continue;
        if (has_all_flags(info, r->flags))
            return r->model;
    }
    return "qemu64";
}

const char *host_arch(void)
{
    static const char *arch;
    static gsize once;

    if (g_once_init_enter(&once)) {
        struct utsname u;
        const char *name = "x86_64";

        if (uname(&u) == 0) {
            if (g_str_equal(u.machine, "i386") || g_str_equal(u.machine, "i486") ||
                g_str_equal(u.machine, "i586") || g_str_equal(u.machine, "i686"))
                name = "i686";
            else
                name = g_intern_string(u.machine);
        }
        arch = name;
        g_once_init_leave(&once, 1);
    }
    return arch;
}

gboolean host_node_info_read_at(const char *root, HostNodeInfo *info, GError **error)
{
    g_autoptr(HostTopology) topo = host_topology_read_at(root, error);
    g_autoptr(HostCpuInfo) cpuinfo = NULL;
    HostNodeInfo out = {0};
    guint64 memory = 0;
    gint32 present = 0;

    if (!topo)
        return FALSE;
    cpuinfo = host_cpu_info_read_at(root, NULL);

    g_strlcpy(out.model, host_arch(), sizeof(out.model));
    out.mhz = cpuinfo ? cpuinfo->mhz : 0;
    for (guint c = 0; c < topo->cells->len; c++) {
        HostCell *cell = topo->cells->pdata[c];
        guint sockets, dies, cores, threads;
        gint32 online = 0;

        memory += cell->memory_kib;
        present += (gint32)cell->cpus->len;
        for (guint i = 0; i < cell->cpus->len; i++)
            online += ((HostCpu *)cell->cpus->pdata[i])->online ? 1 : 0;
        /* Cells without CPUs do not count as nodes, as in libvirt. */
        if (online == 0)
            continue;
        count_topology(topo->cells, c, c, &sockets, &dies, &cores, &threads);
        out.nodes++;
        out.cpus += online;
        out.sockets = MAX(out.sockets, (gint32)sockets);
        out.cores = MAX(out.cores, (gint32)(cores * dies));
        out.threads = MAX(out.threads, (gint32)threads);
    }
    /* The online CPUs' shape must account for every present CPU; when it does not (offline
     * cores, firmware exposing clusters as nodes) libvirt reports one flat socket. */
    if ((gint64)out.nodes * out.sockets * out.cores * out.threads != present) {
        out.nodes = 1;
        out.sockets = 1;
        out.cores = present;
        out.threads = 1;
    }
    if (memory == 0) {
        g_autofree char *meminfo = read_text(root, "proc/meminfo", error);

        if (!meminfo)
            return FALSE;
        if (!parse_memtotal(meminfo, &memory)) {
            g_set_error(error, HEARTH_ERROR, HEARTH_ERR_INTERNAL,
                        _("no MemTotal in '%s/proc/meminfo'"), root);
            return FALSE;
        }
    }
    out.memory_kib = memory;
    *info = out;
    return TRUE;
}

gboolean host_node_info_read(HostNodeInfo *info, GError **error)
{
    return host_node_info_read_at("/", info, error);
}
