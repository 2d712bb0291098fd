"""Many clients at once: every definition lands, nothing is lost, nothing leaks."""

import concurrent.futures
import os
import subprocess
import threading
import xml.etree.ElementTree as ET

import libvirt

from hearthlib import domain_xml

N_THREADS = 100


def uuid_for(i, prefix="cccccccc"):
    return "%s-0000-4000-8000-%012d" % (prefix, i)


def test_100_python_clients_define_and_list(hearth):
    barrier = threading.Barrier(N_THREADS, timeout=60)
    errors = []
    seen_counts = []

    def worker(i):
        try:
            c = libvirt.open(hearth.uri)
            try:
                barrier.wait()    # all connected, then all define at the same moment
                d = c.defineXML(domain_xml("conc%03d" % i, uuid_for(i)))
                assert d.name() == "conc%03d" % i
                names = [x.name() for x in c.listAllDomains(0)]
                assert "conc%03d" % i in names, "own domain missing from the list"
                seen_counts.append(len(names))
                assert c.lookupByName("conc%03d" % i).UUIDString() == uuid_for(i)
                assert "<name>conc%03d</name>" % i in d.XMLDesc(0)
            finally:
                c.close()
        except Exception as e:  # collected and reported below
            errors.append("worker %d: %r" % (i, e))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(N_THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads), "workers hung"
    assert not errors, "\n".join(errors[:20])
    assert max(seen_counts) == N_THREADS

    expected = ["conc%03d" % i for i in range(N_THREADS)]

    def check_everything():
        c = hearth.connect()
        try:
            doms = c.listAllDomains(0)
            assert sorted(d.name() for d in doms) == expected
            assert sorted(d.UUIDString() for d in doms) == sorted(uuid_for(i) for i in range(N_THREADS))
        finally:
            c.close()
        files = sorted(p.name for p in hearth.qemu_dir.iterdir() if p.is_file())
        assert files == ["%s.xml" % n for n in expected], "definition files: %r" % files[:10]
        for n in expected:
            root = ET.fromstring((hearth.qemu_dir / ("%s.xml" % n)).read_text())
            assert root.findtext("name") == n

    check_everything()
    assert hearth.virsh("list", "--all", "--name").stdout.split() == expected
    hearth.restart()
    check_everything()


def test_concurrent_virsh_processes(hearth, tmp_path):
    """60 virsh processes, 20 at a time: define, then list/dominfo in parallel."""
    for i in range(60):
        (tmp_path / ("v%02d.xml" % i)).write_text(domain_xml("virsh%02d" % i, uuid_for(i, "dddddddd")))
    env = dict(os.environ, LC_ALL="C")

    def run(args):
        return subprocess.run(["virsh", "-c", hearth.uri] + args, capture_output=True, text=True,
                              timeout=60, env=env, stdin=subprocess.DEVNULL)

    with concurrent.futures.ThreadPoolExecutor(max_workers=20) as ex:
        results = list(ex.map(run, [["define", str(tmp_path / ("v%02d.xml" % i))] for i in range(60)]))
        bad = [r for r in results if r.returncode != 0]
        assert not bad, "\n".join(r.stderr for r in bad[:5])
        jobs = [["list", "--all", "--name"]] * 20 + [["dominfo", "virsh%02d" % i] for i in range(40)]
        results = list(ex.map(run, jobs))
        bad = [r for r in results if r.returncode != 0]
        assert not bad, "\n".join(r.stderr for r in bad[:5])
    for r in results[:20]:
        assert r.stdout.split() == ["virsh%02d" % i for i in range(60)]
    assert len(list(hearth.qemu_dir.glob("*.xml"))) == 60


def test_concurrent_redefine_same_domain(hearth):
    """20 clients redefining the same domain (same uuid) concurrently: one domain, one sane file."""
    errors = []

    def worker(i):
        try:
            c = libvirt.open(hearth.uri)
            try:
                for j in range(10):
                    c.defineXML(domain_xml("shared", uuid_for(1, "eeeeeeee"), memory_kib=131072 + 1024 * (i * 10 + j)))
            finally:
                c.close()
        except Exception as e:
            errors.append("worker %d: %r" % (i, e))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, "\n".join(errors[:10])
    c = hearth.connect()
    try:
        doms = c.listAllDomains(0)
        assert [d.name() for d in doms] == ["shared"]
        live_mem = doms[0].maxMemory()
    finally:
        c.close()
    root = ET.fromstring((hearth.qemu_dir / "shared.xml").read_text())
    disk_mem = int(root.findtext("memory"))
    assert disk_mem == live_mem, "file says %d KiB, daemon says %d KiB" % (disk_mem, live_mem)
    hearth.restart()
    c = hearth.connect()
    try:
        assert c.lookupByName("shared").maxMemory() == live_mem
    finally:
        c.close()


def test_concurrent_define_undefine_mix(hearth):
    """Defines, undefines, autostart toggles and lists interleaved across 10 threads."""
    errors = []

    def worker(i):
        try:
            c = libvirt.open(hearth.uri)
            try:
                for j in range(15):
                    name = "mix%d_%d" % (i, j)
                    d = c.defineXML(domain_xml(name, "ffffffff-0000-4000-8000-%06d%06d" % (i, j)))
                    d.setAutostart(1)
                    c.listAllDomains(0)
                    if j % 3 == 0:
                        d.undefine()
            finally:
                c.close()
        except Exception as e:
            errors.append("worker %d: %r" % (i, e))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, "\n".join(errors[:10])
    expected = sorted("mix%d_%d" % (i, j) for i in range(10) for j in range(15) if j % 3)
    c = hearth.connect()
    try:
        assert sorted(d.name() for d in c.listAllDomains(0)) == expected
        assert sorted(d.name() for d in c.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_AUTOSTART)) == expected
    finally:
        c.close()
    links = sorted(p.name[:-4] for p in hearth.autostart_dir.iterdir())
    assert links == expected, "autostart links out of sync with the domains"
    hearth.restart()
    assert sorted(hearth.virsh("list", "--all", "--autostart", "--name").stdout.split()) == expected
