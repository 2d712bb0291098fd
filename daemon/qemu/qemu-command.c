/* qemu_command_build: the order of the command line (libvirt 9.0's), machine, accelerator,
 * CPU, memory, vCPUs, clock, power management, boot, and the fixed tail. */
#include "qemu-command-priv.h"

#include <string.h>

#include "uuid-util.h"

#define QEMU_NS_URI "http://libvirt.org/schemas/domain/qemu/1.0"

/* Top-level elements that only concern the host (cgroups, security labels, perf events):
 * the daemon handles them, they never reach the QEMU command line. */
static const char *const host_only_elements[] = {"cputune",   "numatune",       "memtune",
                                                 "blkiotune", "resource",       "seclabel",
                                                 "perf",      "on_lockfailure", NULL};

static gboolean machine_classify(QemuCmd *cmd, GError **error)
{
    const char *m = cmd->def->os.machine ? cmd->def->os.machine : "pc";
    const char *arch = cmd->def->os.arch;

    if (arch && strcmp(arch, "x86_64") != 0 && strcmp(arch, "i686") != 0) {
        qemu_unsupported(error, _("architecture '%s' (only x86_64 and i686)"), arch);
        return FALSE;
    }
    cmd->machine = m;
    if (strcmp(m, "q35") == 0 || g_str_has_prefix(m, "pc-q35-")) {
        cmd->q35 = TRUE;
    } else if (!(strcmp(m, "pc") == 0 || g_str_has_prefix(m, "pc-i440fx-") ||
                 (g_str_has_prefix(m, "pc-") && g_ascii_isdigit(m[3])))) {
        qemu_unsupported(error, _("machine type '%s' (only pc, pc-i440fx-*, q35, pc-q35-*)"), m);
        return FALSE;
    }
    if (!qemu_name_is_safe(m)) {
        qemu_unsupported(error, _("machine type '%s'"), m);
        return FALSE;
    }
    cmd->root_bus = cmd->q35 ? "pcie.0" : "pci.0";
    return qemu_extra_check(&cmd->def->os.type_extra, "type", NULL, NULL, NULL, error);
}

static gboolean features_check(QemuCmd *cmd, GError **error)
{
    const HearthDomainFeatures *f = &cmd->def->features;
    static const HearthFeature refused[] = {HEARTH_FEATURE_VIRIDIAN, HEARTH_FEATURE_PRIVNET,
                                            HEARTH_FEATURE_HTM};
    static const char *const names[HEARTH_FEATURE_LAST] = {
        "acpi",       "apic", "pae",    "hap", "viridian",   "privnet",
        "pvspinlock", "pmu",  "vmport", "smm", "vmcoreinfo", "htm"};
    guint i;

    for (i = 0; i < G_N_ELEMENTS(refused); i++) {
        if (f->state[refused[i]] == HEARTH_TRISTATE_YES) {
            qemu_unsupported(error, _("feature <%s/>"), names[refused[i]]);
            return FALSE;
        }
    }
    for (i = 0; i < HEARTH_FEATURE_LAST; i++) {
        g_autofree char *elem = g_strdup_printf("features><%s", names[i]);

        if (!qemu_extra_check(&f->item_extra[i], elem, NULL, NULL, NULL, error))
            return FALSE;
    }
    return qemu_extra_check(&f->extra, "features", NULL, NULL, NULL, error);
}

static const char *tristate_onoff(HearthTristate t)
{
    return t == HEARTH_TRISTATE_YES ? "on" : "off";
}

static const HearthClockTimer *clock_timer(QemuCmd *cmd, const char *name)
{
    guint i;

    for (i = 0; cmd->def->clock.timers && i < cmd->def->clock.timers->len; i++) {
        const HearthClockTimer *t = g_ptr_array_index(cmd->def->clock.timers, i);

        if (strcmp(t->name, name) == 0)
            return t;
    }
    return NULL;
}

static gboolean os_useserial(QemuCmd *cmd)
{
    const HearthDomainOs *os = &cmd->def->os;
    guint i;

    for (i = 0; os->extra.children && i < os->extra.children->len; i++) {
        const char *xml = g_ptr_array_index(os->extra.children, i);

        if (g_str_has_prefix(xml, "<bios") && strstr(xml, "useserial='yes'"))
            return TRUE;
    }
    return FALSE;
}

gboolean qemu_build_machine(QemuCmd *cmd, GError **error)
{
    const HearthDomainDef *def = cmd->def;
    GString *m = g_string_new(cmd->machine);
    const char *dump = qemu_extra_attr(&def->memory_extra, "dumpCore");
    const HearthClockTimer *hpet = clock_timer(cmd, "hpet");
    QemuFirmware fw;
    const char *nvram;
    int have_fw;
    HearthTristate smm = def->features.state[HEARTH_FEATURE_SMM];

    if (!qemu_extra_check(&def->memory_extra, "memory", NULL, QEMU_LIST("dumpCore"), NULL, error) ||
        (have_fw = qemu_firmware_info(cmd, &fw, &nvram, error)) < 0) {
        g_string_free(m, TRUE);
        return FALSE;
    }
    if (have_fw && fw.pflash && fw.secure && smm == HEARTH_TRISTATE_ABSENT)
        smm = HEARTH_TRISTATE_YES; /* Secure Boot OVMF cannot run without SMM */
    /* QEMU must not add its own USB controller: ours come from the definition. */
    g_string_append(m, ",usb=off");
    if (def->features.state[HEARTH_FEATURE_VMPORT] != HEARTH_TRISTATE_ABSENT)
        g_string_append_printf(m, ",vmport=%s",
                               tristate_onoff(def->features.state[HEARTH_FEATURE_VMPORT]));
    if (smm != HEARTH_TRISTATE_ABSENT)
        g_string_append_printf(m, ",smm=%s", tristate_onoff(smm));
    g_string_append_printf(m, ",dump-guest-core=%s", g_strcmp0(dump, "on") == 0 ? "on" : "off");
    if (def->mem_backing.nosharepages)
        g_string_append(m, ",mem-merge=off");
    g_string_append(m, ",memory-backend=pc.ram");
    if (have_fw && fw.pflash) {
        g_string_append(m, ",pflash0=libvirt-pflash0-format");
        if (nvram)
            g_string_append(m, ",pflash1=libvirt-pflash1-format");
    }
    if (os_useserial(cmd))
        g_string_append(m, ",graphics=off"); /* SeaBIOS/OVMF output on the serial port */
    if (hpet && hpet->present != HEARTH_TRISTATE_ABSENT)
        g_string_append_printf(m, ",hpet=%s", tristate_onoff(hpet->present));
    /* libvirt: no <acpi/> means no ACPI; QEMU 7.2 takes it as a machine property */
    g_string_append_printf(m, ",acpi=%s", tristate_onoff(def->features.state[HEARTH_FEATURE_ACPI]));
    qemu_cmd_take_pair(cmd, "-machine", g_string_free(m, FALSE));
    qemu_cmd_add_pair(cmd, "-accel", cmd->kvm ? "kvm" : "tcg");
    return TRUE;
}

/* libvirt feature names that QEMU spells differently. */
static void cpu_feature_name(GString *buf, const char *name)
{
    if (strcmp(name, "pclmuldq") == 0)
        name = "pclmulqdq";
    for (; *name; name++)
        g_string_append_c(buf, *name == '_' ? '-' : *name);
}

gboolean qemu_build_cpu(QemuCmd *cmd, GError **error)
{
    const HearthDomainCpu *cpu = &cmd->def->cpu;
    const HearthDomainFeatures *f = &cmd->def->features;
    const char *mode = cpu->present ? cpu->mode : NULL;
    const char *model = NULL;
    const char *migratable = qemu_extra_attr(&cpu->extra, "migratable");
    const char *vendor_id = qemu_extra_attr(&cpu->model_extra, "vendor_id");
    const HearthClockTimer *t;
    GString *s;
    guint i;

    if (!mode && cpu->present && cpu->model)
        mode = "custom";
    if (!qemu_extra_check(&cpu->extra, "cpu", NULL, QEMU_LIST("migratable"), NULL, error) ||
        !qemu_extra_check(&cpu->model_extra, "model", NULL, QEMU_LIST("vendor_id"), NULL, error))
        return FALSE;
    if (g_strcmp0(mode, "host-passthrough") == 0) {
        if (!cmd->kvm) {
            qemu_unsupported(error, _("CPU mode 'host-passthrough' needs <domain type='kvm'>"));
            return FALSE;
        }
        model = "host";
    } else if (g_strcmp0(mode, "host-model") == 0) {
        /* TCG has no host CPU to copy: 'max' is the closest it offers */
        model = cmd->kvm ? "host" : "max";
    } else if (g_strcmp0(mode, "maximum") == 0) {
        model = "max";
    } else if (g_strcmp0(mode, "custom") == 0 && cpu->model) {
        model = cpu->model;
    } else if (cmd->kvm) {
        model = "host";
    } else {
        model = g_strcmp0(cmd->def->os.arch, "i686") == 0 ? "qemu32" : "qemu64";
    }
    if (!qemu_name_is_safe(model)) {
        qemu_unsupported(error, _("CPU model '%s'"), model);
        return FALSE;
    }
    if (migratable && (strcmp(model, "host") != 0 && strcmp(model, "max") != 0)) {
        qemu_unsupported(error, _("migratable='%s' with CPU model '%s'"), migratable, model);
        return FALSE;
    }
    s = g_string_new(model);
    if (migratable)
        g_string_append_printf(s, ",migratable=%s", strcmp(migratable, "on") == 0 ? "on" : "off");
    if (vendor_id) {
        if (strlen(vendor_id) != 12 || !qemu_name_is_safe(vendor_id)) {
            qemu_unsupported(error, _("CPU vendor_id '%s'"), vendor_id);
            g_string_free(s, TRUE);
            return FALSE;
        }
        g_string_append_printf(s, ",vendor=%s", vendor_id);
    }
    for (i = 0; cpu->features && i < cpu->features->len; i++) {
        const HearthCpuFeature *feat = g_ptr_array_index(cpu->features, i);
        const char *p = feat->policy;

        if (!qemu_name_is_safe(feat->name)) {
            qemu_unsupported(error, _("CPU feature '%s'"), feat->name);
            g_string_free(s, TRUE);
            return FALSE;
        }
        if (strcmp(p, "optional") == 0)
            continue;
        g_string_append_c(s, ',');
        cpu_feature_name(s, feat->name);
        g_string_append(s, strcmp(p, "force") == 0 || strcmp(p, "require") == 0 ? "=on" : "=off");
    }
    if ((t = clock_timer(cmd, "kvmclock")) && t->present != HEARTH_TRISTATE_ABSENT)
        g_string_append_printf(s, ",kvmclock=%s", tristate_onoff(t->present));
    if ((t = clock_timer(cmd, "hypervclock")) && t->present == HEARTH_TRISTATE_YES)
        g_string_append(s, ",hv-time=on");
    if ((t = clock_timer(cmd, "tsc")) && qemu_extra_attr(&t->extra, "frequency"))
        g_string_append_printf(s, ",tsc-frequency=%s", qemu_extra_attr(&t->extra, "frequency"));
    if (f->apic_eoi)
        g_string_append_printf(s, ",kvm-pv-eoi=%s", f->apic_eoi);
    if (f->state[HEARTH_FEATURE_PVSPINLOCK] != HEARTH_TRISTATE_ABSENT)
        g_string_append_printf(s, ",kvm-pv-unhalt=%s",
                               tristate_onoff(f->state[HEARTH_FEATURE_PVSPINLOCK]));
    if (f->state[HEARTH_FEATURE_PMU] != HEARTH_TRISTATE_ABSENT)
        g_string_append_printf(s, ",pmu=%s", tristate_onoff(f->state[HEARTH_FEATURE_PMU]));
    qemu_cmd_take_pair(cmd, "-cpu", g_string_free(s, FALSE));
    qemu_build_firmware_bios(cmd);
    return TRUE;
}

/* The hugetlbfs mount for a page size. Assumption (documented): Debian's systemd mounts the
 * default size (2 MiB on x86) at /dev/hugepages; 1 GiB pages need a mount at
 * /dev/hugepages1G. Other sizes have no known mount and are refused. */
static const char *hugepage_mount(guint64 kib)
{
    if (kib == 2048)
        return "/dev/hugepages";
    if (kib == 1048576)
        return "/dev/hugepages1G";
    return NULL;
}

static gboolean membacking_allocation(QemuCmd *cmd, gboolean *prealloc, guint64 *threads,
                                      GError **error)
{
    const HearthDomainMemoryBacking *mb = &cmd->def->mem_backing;
    guint i;

    for (i = 0; mb->extra.children && i < mb->extra.children->len; i++) {
        g_autofree char *name = NULL;
        g_autoptr(GHashTable) a =
            qemu_xml_attrs(g_ptr_array_index(mb->extra.children, i), &name, error);
        const char *mode, *th;

        if (!a)
            return FALSE;
        if (strcmp(name, "allocation") != 0)
            continue;
        mode = g_hash_table_lookup(a, "mode");
        th = g_hash_table_lookup(a, "threads");
        if (mode && strcmp(mode, "immediate") == 0)
            *prealloc = TRUE;
        else if (mode && strcmp(mode, "ondemand") != 0) {
            qemu_unsupported(error, _("<allocation mode='%s'> in <memoryBacking>"), mode);
            return FALSE;
        }
        if (th && !qemu_parse_uint(th, 1024, threads)) {
            qemu_unsupported(error, _("<allocation threads='%s'> in <memoryBacking>"), th);
            return FALSE;
        }
    }
    return qemu_extra_check(&mb->extra, "memoryBacking", NULL, NULL, QEMU_LIST("allocation"),
                            error);
}

gboolean qemu_build_memory(QemuCmd *cmd, GError **error)
{
    const HearthDomainDef *def = cmd->def;
    const HearthDomainMemoryBacking *mb = &def->mem_backing;
    guint64 mib = (def->memory_kib + 1023) / 1024; /* libvirt aligns memory to 1 MiB */
    guint64 page_kib = 0, threads = 0;
    gboolean prealloc = FALSE, memfd = g_strcmp0(mb->source_type, "memfd") == 0;
    const char *mem_path = NULL;
    g_autofree char *file_dir = NULL;
    GString *j;

    if (def->max_memory_kib) {
        qemu_unsupported(error, _("<maxMemory> (memory hotplug)"));
        return FALSE;
    }
    if (mib == 0) {
        qemu_unsupported(error, _("a domain without <memory>"));
        return FALSE;
    }
    if (!membacking_allocation(cmd, &prealloc, &threads, error))
        return FALSE;
    if (mb->hugepages) {
        const HearthHugepage *page = NULL;

        if (mb->pages && mb->pages->len > 1) {
            qemu_unsupported(error, _("more than one hugepage size (needs guest NUMA)"));
            return FALSE;
        }
        if (mb->pages && mb->pages->len == 1) {
            page = &g_array_index(mb->pages, HearthHugepage, 0);
            if (page->nodeset) {
                qemu_unsupported(error, _("hugepages with nodeset='%s' (needs guest NUMA)"),
                                 page->nodeset);
                return FALSE;
            }
        }
        page_kib = page ? page->size_kib : 2048;
        if (page_kib == 4)
            page_kib = 0; /* the normal page size: no hugepages, as libvirt treats it */
        if (page_kib && !memfd && !(mem_path = hugepage_mount(page_kib))) {
            qemu_unsupported(error,
                             _("hugepage size %" G_GUINT64_FORMAT
                               " KiB (mounts known: 2048 KiB at /dev/hugepages, 1048576 KiB "
                               "at /dev/hugepages1G)"),
                             page_kib);
            return FALSE;
        }
        if (page_kib)
            prealloc = TRUE;
    }
    if (!mem_path && !memfd && (g_strcmp0(mb->source_type, "file") == 0 || mb->access_mode)) {
        if (!cmd->opts->runtime_dir) {
            qemu_internal(error, _("file-backed memory needs a runtime directory"));
            return FALSE;
        }
        mem_path = file_dir = g_strdup(cmd->opts->runtime_dir);
    }

    qemu_cmd_take_pair(cmd, "-m", g_strdup_printf("%" G_GUINT64_FORMAT, mib));
    j = qemu_json_new();
    qemu_json_str(j, "qom-type",
                  memfd      ? "memory-backend-memfd"
                  : mem_path ? "memory-backend-file"
                             : "memory-backend-ram");
    qemu_json_str(j, "id", "pc.ram");
    if (memfd && page_kib) {
        qemu_json_bool(j, "hugetlb", TRUE);
        qemu_json_int(j, "hugetlbsize", (gint64)page_kib * 1024);
    }
    if (mem_path) {
        qemu_json_str(j, "mem-path", mem_path);
        if (mb->discard)
            qemu_json_bool(j, "discard-data", TRUE);
    }
    if ((mem_path || memfd) && mb->access_mode)
        qemu_json_bool(j, "share", strcmp(mb->access_mode, "shared") == 0);
    if (mem_path || memfd) /* keeps the RAM block id of -m, for migration (as libvirt) */
        qemu_json_bool(j, "x-use-canonical-path-for-ramblock-id", FALSE);
    if (prealloc)
        qemu_json_bool(j, "prealloc", TRUE);
    if (threads)
        qemu_json_int(j, "prealloc-threads", (gint64)threads);
    qemu_json_int(j, "size", (gint64)(mib * 1024 * 1024));
    qemu_cmd_take_pair(cmd, "-object", qemu_json_finish(j));
    qemu_cmd_add_pair(cmd, "-overcommit", mb->locked ? "mem-lock=on" : "mem-lock=off");
    return TRUE;
}

static gboolean build_smp(QemuCmd *cmd, GError **error)
{
    const HearthDomainDef *def = cmd->def;
    const HearthDomainCpu *cpu = &def->cpu;
    guint max = def->vcpus ? def->vcpus : 1;
    guint cur = def->vcpus_current ? def->vcpus_current : max;
    GString *s = g_string_new(NULL);

    g_string_append_printf(s, "%u", cur);
    if (cur != max)
        g_string_append_printf(s, ",maxcpus=%u", max);
    if (cpu->has_topology) {
        guint dies = cpu->dies ? cpu->dies : 1;

        if ((guint64)cpu->sockets * dies * cpu->cores * cpu->threads != max) {
            g_set_error(error, HEARTH_ERROR, HEARTH_ERR_XML_ERROR,
                        _("CPU topology %u sockets × %u dies × %u cores × %u threads doesn't "
                          "match maximum vcpu count %u"),
                        cpu->sockets, dies, cpu->cores, cpu->threads, max);
            g_string_free(s, TRUE);
            return FALSE;
        }
        g_string_append_printf(s, ",sockets=%u,dies=%u,cores=%u,threads=%u", cpu->sockets, dies,
                               cpu->cores, cpu->threads);
    } else {
        g_string_append_printf(s, ",sockets=%u,cores=1,threads=1", max);
    }
    qemu_cmd_take_pair(cmd, "-smp", g_string_free(s, FALSE));
    return TRUE;
}

/* <iothreads>N</iothreads>: N iothread objects, as libvirt names them. */
static gboolean build_iothreads(QemuCmd *cmd, GError **error)
{
    const HearthXmlExtra *extra = &cmd->def->extra;
    guint i;

    for (i = 0; extra->children && i < extra->children->len; i++) {
        const char *xml = g_ptr_array_index(extra->children, i);
        const char *p;
        g_autofree char *text = NULL;
        guint64 n, k;

        if (!g_str_has_prefix(xml, "<iothreads>"))
            continue;
        p = xml + strlen("<iothreads>");
        text = g_strndup(p, strcspn(p, "<"));
        if (!qemu_parse_uint(g_strstrip(text), 1024, &n)) {
            qemu_unsupported(error, _("<iothreads>%s</iothreads>"), text);
            return FALSE;
        }
        for (k = 1; k <= n; k++)
            qemu_cmd_take_pair(
                cmd, "-object",
                g_strdup_printf(
                    "{\"qom-type\":\"iothread\",\"id\":\"iothread%" G_GUINT64_FORMAT "\"}", k));
    }
    return TRUE;
}

static char *rtc_base(QemuCmd *cmd, GError **error)
{
    const HearthDomainClock *clock = &cmd->def->clock;
    const char *offset = clock->offset ? clock->offset : "utc";
    const char *adj = qemu_extra_attr(&clock->extra, "adjustment");
    const char *basis = qemu_extra_attr(&clock->extra, "basis");
    const char *start = qemu_extra_attr(&clock->extra, "start");
    g_autoptr(GDateTime) when = NULL;
    gint64 secs;
    char *end = NULL;

    if (strcmp(offset, "utc") == 0 || strcmp(offset, "localtime") == 0) {
        if (!qemu_extra_check(&clock->extra, "clock", NULL, NULL, NULL, error))
            return NULL;
        return g_strdup_printf("base=%s", offset);
    }
    if (strcmp(offset, "variable") == 0) {
        secs = adj ? g_ascii_strtoll(adj, &end, 10) : 0;
        if ((adj && (!end || *end)) ||
            (basis && strcmp(basis, "utc") != 0 && strcmp(basis, "localtime") != 0)) {
            qemu_unsupported(error, _("<clock offset='variable'> adjustment '%s' basis '%s'"),
                             adj ? adj : "", basis ? basis : "");
            return NULL;
        }
        when = g_date_time_new_now_utc();
        if (g_strcmp0(basis, "localtime") == 0) {
            g_autoptr(GDateTime) local = g_date_time_new_now_local();

            secs += g_date_time_get_utc_offset(local) / G_TIME_SPAN_SECOND;
        }
        when = g_date_time_add_seconds(g_steal_pointer(&when), (gdouble)secs);
    } else if (strcmp(offset, "absolute") == 0 && start) {
        secs = g_ascii_strtoll(start, &end, 10);
        if (!end || *end || !(when = g_date_time_new_from_unix_utc(secs))) {
            qemu_unsupported(error, _("<clock offset='absolute' start='%s'>"), start);
            return NULL;
        }
    } else {
        qemu_unsupported(error, _("clock offset '%s'"), offset);
        return NULL;
    }
    if (!qemu_extra_check(&clock->extra, "clock", NULL, QEMU_LIST("adjustment", "basis", "start"),
                          NULL, error))
        return NULL;
    return g_date_time_format(when, "base=%Y-%m-%dT%H:%M:%S");
}

/* Validates every <timer>; with @rtc, appends the rtc timer's -rtc options. */
static gboolean timers_check(QemuCmd *cmd, GString *rtc, GError **error)
{
    guint i;

    for (i = 0; cmd->def->clock.timers && i < cmd->def->clock.timers->len; i++) {
        const HearthClockTimer *t = g_ptr_array_index(cmd->def->clock.timers, i);
        const char *tp = t->tickpolicy;
        const char *track = qemu_extra_attr(&t->extra, "track");
        g_autofree char *who = g_strdup_printf("<timer name='%s'>", t->name);

        if (strcmp(t->name, "platform") == 0 || strcmp(t->name, "armvtimer") == 0) {
            qemu_unsupported(error, _("timer '%s'"), t->name);
            return FALSE;
        }
        if (tp && (strcmp(tp, "merge") == 0 ||
                   (strcmp(t->name, "rtc") == 0 && strcmp(tp, "discard") == 0) ||
                   (strcmp(t->name, "rtc") != 0 && strcmp(t->name, "pit") != 0))) {
            qemu_unsupported(error, _("tickpolicy '%s' of %s"), tp, who);
            return FALSE;
        }
        if (strcmp(t->name, "tsc") == 0 && qemu_extra_attr(&t->extra, "frequency") &&
            strspn(qemu_extra_attr(&t->extra, "frequency"), "0123456789") !=
                strlen(qemu_extra_attr(&t->extra, "frequency"))) {
            qemu_unsupported(error, _("frequency='%s' of %s"),
                             qemu_extra_attr(&t->extra, "frequency"), who);
            return FALSE;
        }
        if (!qemu_extra_check(&t->extra, "timer", who,
                              strcmp(t->name, "rtc") == 0   ? QEMU_LIST("track")
                              : strcmp(t->name, "tsc") == 0 ? QEMU_LIST("frequency")
                                                            : NULL,
                              NULL, error))
            return FALSE;
        if (strcmp(t->name, "rtc") != 0 || !rtc)
            continue;
        if (track && strcmp(track, "guest") == 0)
            g_string_append(rtc, ",clock=vm");
        else if (track && strcmp(track, "wall") == 0)
            g_string_append(rtc, ",clock=host");
        else if (track && strcmp(track, "realtime") == 0)
            g_string_append(rtc, ",clock=rt");
        else if (track) {
            qemu_unsupported(error, _("track='%s' of %s"), track, who);
            return FALSE;
        }
        if (g_strcmp0(tp, "catchup") == 0)
            g_string_append(rtc, ",driftfix=slew");
    }
    return TRUE;
}

gboolean qemu_build_clock_pm_boot(QemuCmd *cmd, GError **error)
{
    const HearthDomainDef *def = cmd->def;
    const HearthDomainOs *os = &def->os;
    const HearthClockTimer *pit = clock_timer(cmd, "pit");
    const char *pm = cmd->q35 ? "ICH9-LPC" : "PIIX4_PM";
    char *base = rtc_base(cmd, error);
    GString *rtc, *boot;
    guint i;

    if (!base)
        return FALSE;
    rtc = g_string_new(base);
    g_free(base);
    if (!timers_check(cmd, rtc, error)) {
        g_string_free(rtc, TRUE);
        return FALSE;
    }
    qemu_cmd_take_pair(cmd, "-rtc", g_string_free(rtc, FALSE));
    /* kvm-pit exists only with KVM's in-kernel irqchip; TCG's PIT has no tick policy */
    if (pit && cmd->kvm && g_strcmp0(pit->tickpolicy, "catchup") != 0)
        qemu_cmd_add_pair(cmd, "-global",
                          g_strcmp0(pit->tickpolicy, "discard") == 0
                              ? "kvm-pit.lost_tick_policy=discard"
                              : "kvm-pit.lost_tick_policy=delay");
    /* The daemon decides what a guest shutdown means (on_poweroff): QEMU stays. */
    qemu_cmd_add(cmd, "-no-shutdown");
    if (!qemu_extra_check(&def->pm_extra, "pm", NULL, NULL, NULL, error))
        return FALSE;
    if (def->pm_suspend_to_mem != HEARTH_TRISTATE_ABSENT)
        qemu_cmd_take_pair(
            cmd, "-global",
            g_strdup_printf("%s.disable_s3=%d", pm, def->pm_suspend_to_mem == HEARTH_TRISTATE_NO));
    if (def->pm_suspend_to_disk != HEARTH_TRISTATE_ABSENT)
        qemu_cmd_take_pair(
            cmd, "-global",
            g_strdup_printf("%s.disable_s4=%d", pm, def->pm_suspend_to_disk == HEARTH_TRISTATE_NO));

    boot = g_string_new(NULL);
    if (os->bootmenu != HEARTH_TRISTATE_ABSENT)
        g_string_append_printf(boot, "menu=%s,", tristate_onoff(os->bootmenu));
    for (i = 0; os->extra.children && i < os->extra.children->len; i++) {
        g_autofree char *name = NULL;
        g_autoptr(GHashTable) a = NULL;
        const char *rt;
        guint64 v;

        if (!g_str_has_prefix(g_ptr_array_index(os->extra.children, i), "<bios"))
            continue;
        a = qemu_xml_attrs(g_ptr_array_index(os->extra.children, i), &name, error);
        if (!a) {
            g_string_free(boot, TRUE);
            return FALSE;
        }
        rt = g_hash_table_lookup(a, "rebootTimeout");
        if (rt && qemu_parse_uint(rt, 65535, &v))
            g_string_append_printf(boot, "reboot-timeout=%s,", rt);
    }
    if (os->bootmenu_timeout >= 0)
        g_string_append_printf(boot, "splash-time=%d,", os->bootmenu_timeout);
    g_string_append(boot, "strict=on");
    qemu_cmd_take_pair(cmd, "-boot", g_string_free(boot, FALSE));
    if (os->kernel)
        qemu_cmd_add_pair(cmd, "-kernel", os->kernel);
    if (os->initrd)
        qemu_cmd_add_pair(cmd, "-initrd", os->initrd);
    if (os->cmdline)
        qemu_cmd_add_pair(cmd, "-append", os->cmdline);
    if (os->dtb)
        qemu_cmd_add_pair(cmd, "-dtb", os->dtb);
    return TRUE;
}

/* <os> children we honour: <firmware> (features), <bios useserial rebootTimeout>. */
static gboolean os_check(QemuCmd *cmd, GError **error)
{
    const HearthDomainOs *os = &cmd->def->os;
    guint i;

    if (os->smbios_mode && strcmp(os->smbios_mode, "emulate") != 0) {
        qemu_unsupported(error, _("<smbios mode='%s'>"), os->smbios_mode);
        return FALSE;
    }
    for (i = 0; os->extra.children && i < os->extra.children->len; i++) {
        const char *xml = g_ptr_array_index(os->extra.children, i);
        g_autofree char *name = NULL;
        g_autoptr(GHashTable) a = NULL;
        GHashTableIter it;
        gpointer k, v;

        if (!g_str_has_prefix(xml, "<bios"))
            continue;
        if (!(a = qemu_xml_attrs(xml, &name, error)))
            return FALSE;
        g_hash_table_iter_init(&it, a);
        while (g_hash_table_iter_next(&it, &k, &v)) {
            guint64 n;

            if ((strcmp(k, "useserial") == 0 && (strcmp(v, "yes") == 0 || strcmp(v, "no") == 0)) ||
                (strcmp(k, "rebootTimeout") == 0 && qemu_parse_uint(v, 65535, &n)))
                continue;
            qemu_unsupported(error, _("<bios %s='%s'>"), (const char *)k, (const char *)v);
            return FALSE;
        }
    }
    return qemu_extra_check(&os->extra, "os", NULL, NULL, QEMU_LIST("firmware", "bios"), error);
}

/* The local part of an element name: libxml keeps "qemu:arg" whole when the prefix was
 * declared on <domain>, outside the serialized fragment. */
static const char *local_name(xmlNodePtr node)
{
    const char *colon = strchr((const char *)node->name, ':');

    return colon ? colon + 1 : (const char *)node->name;
}

/* Is this a libvirt <qemu:...> element? The prefix may be declared on <domain>. */
static gboolean is_qemu_ns(QemuCmd *cmd, xmlNodePtr node)
{
    const char *name = (const char *)node->name;
    const char *colon = strchr(name, ':');
    g_autofree char *decl = NULL;
    guint i;

    if (node->ns)
        return g_strcmp0((const char *)node->ns->href, QEMU_NS_URI) == 0;
    if (!colon)
        return FALSE;
    decl = g_strdup_printf("xmlns:%.*s", (int)(colon - name), name);
    for (i = 0; cmd->def->root_ns && i < cmd->def->root_ns->len; i++) {
        const HearthXmlAttr *a = g_ptr_array_index(cmd->def->root_ns, i);

        if (strcmp(a->name, decl) == 0 && strcmp(a->value, QEMU_NS_URI) == 0)
            return TRUE;
    }
    return FALSE;
}

/* Top-level elements: host-only ones pass, <iothreads> and <qemu:commandline> are ours,
 * anything else would change the guest and is refused. With @args, collect qemu:arg. */
static gboolean toplevel_check(QemuCmd *cmd, GPtrArray *args, GError **error)
{
    const HearthXmlExtra *extra = &cmd->def->extra;
    HearthXmlExtra attrs_only = {NULL, NULL};
    guint i;

    for (i = 0; extra->children && i < extra->children->len; i++) {
        const char *xml = g_ptr_array_index(extra->children, i);
        xmlDocPtr doc;
        xmlNodePtr root, c;
        gboolean ok = TRUE;

        if (!(doc = qemu_xml_parse(xml, error)))
            return FALSE;
        root = xmlDocGetRootElement(doc);
        if (root->ns == NULL && strchr(xml + 1, ':') == NULL &&
            (g_strv_contains(host_only_elements, (const char *)root->name) ||
             strcmp((const char *)root->name, "iothreads") == 0)) {
            xmlFreeDoc(doc);
            continue;
        }
        if (strcmp(local_name(root), "commandline") == 0 && is_qemu_ns(cmd, root)) {
            for (c = root->children; ok && c; c = c->next) {
                xmlChar *v;

                if (c->type != XML_ELEMENT_NODE)
                    continue;
                v = xmlGetProp(c, (const xmlChar *)"value");
                if (strcmp(local_name(c), "arg") == 0 && v) {
                    if (args)
                        g_ptr_array_add(args, g_strdup((const char *)v));
                } else {
                    qemu_unsupported(error, _("<qemu:%s> in <qemu:commandline>"), local_name(c));
                    ok = FALSE;
                }
                xmlFree(v);
            }
            xmlFreeDoc(doc);
            if (!ok)
                return FALSE;
            continue;
        }
        qemu_unsupported(error, _("element <%s> in <domain> is not supported"),
                         (const char *)root->name);
        xmlFreeDoc(doc);
        return FALSE;
    }
    attrs_only.attrs = extra->attrs; /* children were judged above */
    return qemu_extra_check(&attrs_only, "domain", NULL, QEMU_LIST("id"), NULL, error);
}

gboolean qemu_build_tail(QemuCmd *cmd, GError **error)
{
    g_autoptr(GPtrArray) args = g_ptr_array_new_with_free_func(g_free);
    guint i;

    if (cmd->def->features.state[HEARTH_FEATURE_VMCOREINFO] == HEARTH_TRISTATE_YES)
        qemu_cmd_add_pair(cmd, "-device", "{\"driver\":\"vmcoreinfo\"}");
    if (!toplevel_check(cmd, args, error))
        return FALSE;
    for (i = 0; i < args->len; i++)
        qemu_cmd_add(cmd, g_ptr_array_index(args, i));
    qemu_cmd_add_pair(cmd, "-sandbox",
                      "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny");
    if (!qemu_build_panics(cmd, error))
        return FALSE;
    qemu_cmd_add_pair(cmd, "-msg", "timestamp=on");
    return TRUE;
}

static gboolean build_all(QemuCmd *cmd, GError **error)
{
    const HearthDomainDef *def = cmd->def;
    g_autofree char *name = NULL;
    char uuid[HEARTH_UUID_STRING_LEN];
    GString *s;

    if (!machine_classify(cmd, error) || !os_check(cmd, error) || !features_check(cmd, error) ||
        !timers_check(cmd, NULL, error) || !toplevel_check(cmd, NULL, error) ||
        !qemu_plan_build(cmd, error))
        return FALSE;

    s = g_string_new("guest=");
    qemu_opt_escape(s, def->name);
    g_string_append(s, ",debug-threads=on");
    qemu_cmd_take_pair(cmd, "-name", g_string_free(s, FALSE));
    qemu_cmd_add(cmd, "-S");
    if (!qemu_build_firmware_blockdevs(cmd, error) || !qemu_build_machine(cmd, error) ||
        !qemu_build_cpu(cmd, error) || !qemu_build_memory(cmd, error) || !build_smp(cmd, error) ||
        !build_iothreads(cmd, error))
        return FALSE;
    hearth_uuid_format(def->uuid, uuid);
    qemu_cmd_add_pair(cmd, "-uuid", uuid);
    if (!cmd->has_graphics)
        qemu_cmd_add_pair(cmd, "-display", "none");
    qemu_cmd_add(cmd, "-no-user-config");
    qemu_cmd_add(cmd, "-nodefaults");
    if (!qemu_build_clock_pm_boot(cmd, error) || !qemu_build_controllers(cmd, error) ||
        !qemu_build_disks(cmd, error) || !qemu_build_nets(cmd, error) ||
        !qemu_build_chrs(cmd, error) || !qemu_build_inputs(cmd, error) ||
        !qemu_build_audio(cmd, error) || !qemu_build_graphics(cmd, error) ||
        !qemu_build_videos(cmd, error) || !qemu_build_sounds(cmd, error) ||
        !qemu_build_watchdogs(cmd, error) || !qemu_build_balloon_rng(cmd, error))
        return FALSE;
    return qemu_build_tail(cmd, error);
}

GStrv qemu_command_build(const HearthDomainDef *def, const QemuCommandOptions *opts, GError **error)
{
    g_autofree QemuCmd *cmd = NULL;
    g_autoptr(GPtrArray) devs = NULL;
    g_autoptr(GPtrArray) args = NULL;
    const char *emulator;

    g_return_val_if_fail(def != NULL && opts != NULL, NULL);
    emulator = opts->emulator ? opts->emulator : def->emulator;
    if (!emulator) {
        qemu_internal(error, _("no emulator binary for domain '%s'"), def->name);
        return NULL;
    }
    if (def->virt_type == HEARTH_VIRT_KVM && !opts->kvm_available) {
        qemu_unsupported(error,
                         _("domain type 'kvm' for '%s': KVM is not available on this "
                           "host (/dev/kvm); use type 'qemu'"),
                         def->name);
        return NULL;
    }
    cmd = g_new0(QemuCmd, 1);
    devs = g_ptr_array_new_with_free_func(qemu_dev_free);
    args = g_ptr_array_new_with_free_func(g_free);
    cmd->def = def;
    cmd->opts = opts;
    cmd->devs = devs;
    cmd->args = args;
    cmd->kvm = def->virt_type == HEARTH_VIRT_KVM;
    qemu_cmd_add(cmd, emulator);
    if (!build_all(cmd, error))
        return NULL;
    g_ptr_array_add(args, NULL);
    return (GStrv)g_ptr_array_free(g_steal_pointer(&args), FALSE);
}
