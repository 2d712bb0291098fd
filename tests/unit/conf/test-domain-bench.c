/* Parse speed: the daemon loads 10,000 definitions at start-up within 300 ms on 2 cores,
 * so one typical ~2 KB definition must parse in about 20 us. */
#include "domain-def.h"
#include "test-helpers.h"

#include <stdio.h>
#include <string.h>

#define BENCH_COUNT 10000

static const char typical[] =
    "<domain type='kvm'>\n"
    "  <name>bench-%05d</name>\n"
    "  <uuid>77a7cfd9-3c2b-4f4e-9d1b-0123456%05d</uuid>\n"
    "  <memory unit='KiB'>2097152</memory>\n"
    "  <currentMemory unit='KiB'>2097152</currentMemory>\n"
    "  <vcpu placement='static'>2</vcpu>\n"
    "  <os>\n"
    "    <type arch='x86_64' machine='pc-q35-7.2'>hvm</type>\n"
    "    <boot dev='hd'/>\n"
    "  </os>\n"
    "  <features>\n"
    "    <acpi/>\n"
    "    <apic/>\n"
    "    <vmport state='off'/>\n"
    "  </features>\n"
    "  <cpu mode='host-passthrough' check='none' migratable='on'/>\n"
    "  <clock offset='utc'>\n"
    "    <timer name='rtc' tickpolicy='catchup'/>\n"
    "    <timer name='pit' tickpolicy='delay'/>\n"
    "    <timer name='hpet' present='no'/>\n"
    "  </clock>\n"
    "  <on_poweroff>destroy</on_poweroff>\n"
    "  <on_reboot>restart</on_reboot>\n"
    "  <on_crash>destroy</on_crash>\n"
    "  <devices>\n"
    "    <emulator>/usr/bin/qemu-system-x86_64</emulator>\n"
    "    <disk type='file' device='disk'>\n"
    "      <driver name='qemu' type='qcow2' discard='unmap'/>\n"
    "      <source file='/var/lib/libvirt/images/bench.qcow2'/>\n"
    "      <target dev='vda' bus='virtio'/>\n"
    "      <address type='pci' domain='0x0000' bus='0x04' slot='0x00' function='0x0'/>\n"
    "    </disk>\n"
    "    <controller type='usb' index='0' model='qemu-xhci' ports='15'/>\n"
    "    <controller type='pci' index='0' model='pcie-root'/>\n"
    "    <interface type='network'>\n"
    "      <mac address='52:54:00:6b:3c:58'/>\n"
    "      <source network='default'/>\n"
    "      <model type='virtio'/>\n"
    "      <address type='pci' domain='0x0000' bus='0x01' slot='0x00' function='0x0'/>\n"
    "    </interface>\n"
    "    <serial type='pty'>\n"
    "      <target type='isa-serial' port='0'/>\n"
    "    </serial>\n"
    "    <console type='pty'>\n"
    "      <target type='serial' port='0'/>\n"
    "    </console>\n"
    "    <input type='tablet' bus='usb'/>\n"
    "    <graphics type='vnc' port='-1' autoport='yes'>\n"
    "      <listen type='address'/>\n"
    "    </graphics>\n"
    "    <video>\n"
    "      <model type='virtio' heads='1' primary='yes'/>\n"
    "    </video>\n"
    "    <memballoon model='virtio'/>\n"
    "    <rng model='virtio'>\n"
    "      <backend model='random'>/dev/urandom</backend>\n"
    "    </rng>\n"
    "  </devices>\n"
    "</domain>\n";

typedef struct {
    GPtrArray *docs;
    guint start, end;
} Slice;

static gpointer parse_slice(gpointer data)
{
    Slice *sl = data;
    guint i;

    for (i = sl->start; i < sl->end; i++) {
        const char *doc = g_ptr_array_index(sl->docs, i);
        g_autoptr(GError) error = NULL;
        HearthDomainDef *def = domain_def_parse(doc, strlen(doc), 0, &error);

        g_assert_no_error(error);
        domain_def_free(def);
    }
    return NULL;
}

static void test_parse_speed(void)
{
    GPtrArray *docs = g_ptr_array_new_with_free_func(g_free);
    gint64 start, elapsed;
    gsize total = 0;
    int i;

    for (i = 0; i < BENCH_COUNT; i++) {
        char *doc = g_strdup_printf(typical, i, i);

        total += strlen(doc);
        g_ptr_array_add(docs, doc);
    }
    start = g_get_monotonic_time();
    for (i = 0; i < BENCH_COUNT; i++) {
        const char *doc = g_ptr_array_index(docs, i);
        g_autoptr(GError) error = NULL;
        HearthDomainDef *def = domain_def_parse(doc, strlen(doc), 0, &error);

        g_assert_no_error(error);
        domain_def_free(def);
    }
    elapsed = g_get_monotonic_time() - start;
    printf("# parsed %d domains (%" G_GSIZE_FORMAT " bytes each) in %.1f ms on one core: "
           "%.1f us per domain\n",
           BENCH_COUNT, total / BENCH_COUNT, elapsed / 1000.0, (double)elapsed / BENCH_COUNT);

    /* The start-up case: two threads, as on the 2-core target machine. */
    {
        Slice a = {docs, 0, BENCH_COUNT / 2}, b = {docs, BENCH_COUNT / 2, BENCH_COUNT};
        GThread *ta, *tb;

        start = g_get_monotonic_time();
        ta = g_thread_new("parse-a", parse_slice, &a);
        tb = g_thread_new("parse-b", parse_slice, &b);
        g_thread_join(ta);
        g_thread_join(tb);
        elapsed = g_get_monotonic_time() - start;
        printf("# parsed %d domains with 2 threads in %.1f ms (budget: 300 ms)\n", BENCH_COUNT,
               elapsed / 1000.0);
    }
    g_ptr_array_unref(docs);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/conf/bench/parse-10000", test_parse_speed);
    return g_test_run();
}
