"""Daemon restarts: SIGTERM, kill -9, a second daemon on the same root."""

import os
import signal
import subprocess
import threading
import time
import xml.etree.ElementTree as ET

import libvirt

import hearthlib
from hearthlib import domain_xml


def uuid_for(i):
    return "12345678-0000-4000-8000-%012d" % i


def populate(hearth, n=20):
    c = hearth.connect()
    try:
        for i in range(n):
            d = c.defineXML(domain_xml("r%02d" % i, uuid_for(i), memory_kib=131072 + i * 1024))
            if i % 4 == 0:
                d.setAutostart(1)
            if i % 5 == 0:
                d.setMetadata(libvirt.VIR_DOMAIN_METADATA_DESCRIPTION, "description %d" % i, None, None, 0)
    finally:
        c.close()


def state(hearth):
    c = hearth.connect()
    try:
        out = {}
        for d in c.listAllDomains(0):
            # The persistent definition: autostart domains are running after a restart, and
            # their live XML carries runtime facts (id) that are not part of what must survive.
            out[d.name()] = (d.UUIDString(), d.autostart(), d.maxMemory(),
                             d.XMLDesc(libvirt.VIR_DOMAIN_XML_SECURE | libvirt.VIR_DOMAIN_XML_INACTIVE))
        return out
    finally:
        c.close()


def test_sigterm_restart_keeps_everything(hearth):
    populate(hearth)
    before = state(hearth)
    assert len(before) == 20
    rc = hearth.stop()
    assert rc == 0, "hearthd exited with %s on SIGTERM" % rc
    hearth.start()
    assert state(hearth) == before


def test_kill9_restart_keeps_everything(hearth):
    populate(hearth)
    before = state(hearth)
    hearth.kill9()
    # the sockets of the dead daemon are still on disk: the new one must take them over
    hearth.start()
    assert state(hearth) == before
    hearth.virsh("list", "--all")


def test_kill9_during_define_burst(hearth):
    """Definitions are written atomically: after kill -9 in the middle of a burst of
    defines every file on disk is complete and loads, and nothing is set aside as corrupt."""
    stop = threading.Event()
    defined = []

    def burst():
        try:
            c = libvirt.open(hearth.uri)
            i = 0
            while not stop.is_set():
                c.defineXML(domain_xml("burst%04d" % i, uuid_for(1000 + i),
                                       extra="<description>%s</description>\n" % ("z" * 20000)))
                defined.append(i)
                i += 1
        except libvirt.libvirtError:
            pass    # the daemon went away under us: expected

    t = threading.Thread(target=burst)
    t.start()
    deadline = time.monotonic() + 20
    while len(defined) < 30 and time.monotonic() < deadline:
        time.sleep(0.01)
    hearth.kill9()
    stop.set()
    t.join(30)
    assert len(defined) >= 30, "the burst did not get going (%d defines)" % len(defined)
    hearth.start()
    names = hearth.virsh("list", "--all", "--name").stdout.split()
    # every acknowledged define is there (at most the one in flight may or may not be)
    acked = ["burst%04d" % i for i in defined]
    missing = [n for n in acked if n not in names]
    assert not missing, "acknowledged definitions lost after kill -9: %r" % missing[:10]
    assert len(names) <= len(acked) + 1
    corrupt = [p.name for p in hearth.qemu_dir.iterdir() if ".corrupt-" in p.name]
    assert not corrupt, "non-atomic write: %r set aside as corrupt" % corrupt
    for n in names:
        ET.fromstring((hearth.qemu_dir / ("%s.xml" % n)).read_text())
    xml_files = sorted(p.name for p in hearth.qemu_dir.glob("*.xml"))
    assert xml_files == sorted("%s.xml" % n for n in names), "definition files not loaded: %r" % (
        sorted(set(xml_files) - set("%s.xml" % n for n in names)))
    # (a temp file of the write that kill -9 interrupted may be left: see test_stale_temp_files_*)


def test_second_daemon_on_same_root_refuses(hearth):
    populate(hearth, 3)
    ino_rw = os.stat(hearth.sock).st_ino
    ino_ro = os.stat(hearth.sock_ro).st_ino
    env = dict(os.environ)
    env.pop("NOTIFY_SOCKET", None)
    try:
        cp = subprocess.run([str(hearth.binary), "--root", str(hearth.root)], capture_output=True, text=True,
                            timeout=20, env=env, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        raise AssertionError("a second hearthd on the same root kept running instead of refusing:\n%s"
                             % (e.stderr,))
    assert cp.returncode != 0, "second daemon exited 0"
    msg = (cp.stderr + cp.stdout).lower()
    assert str(hearth.sock).lower() in msg or "in use" in msg or "already running" in msg, \
        "unclear error from the second daemon:\n" + cp.stderr
    assert not hearthlib.CRASH_PATTERNS[0].search(cp.stderr), cp.stderr
    # the first daemon keeps its sockets and keeps serving
    assert os.stat(hearth.sock).st_ino == ino_rw, "the second daemon replaced the RW socket"
    assert os.stat(hearth.sock_ro).st_ino == ino_ro, "the second daemon replaced the RO socket"
    assert hearth.virsh("list", "--all", "--name").stdout.split() == ["r00", "r01", "r02"]
    assert hearth.virsh("list", "--all", "--name", ro=True).stdout.split() == ["r00", "r01", "r02"]
    hearth.check_alive()


def test_sigterm_with_busy_clients_exits_promptly(hearth):
    populate(hearth, 5)
    conns = [hearth.connect() for _ in range(30)]
    stop = threading.Event()

    def hammer(c):
        try:
            while not stop.is_set():
                c.listAllDomains(0)
        except libvirt.libvirtError:
            pass

    threads = [threading.Thread(target=hammer, args=(c,)) for c in conns[:10]]
    for t in threads:
        t.start()
    time.sleep(0.5)
    t0 = time.monotonic()
    rc = hearth.stop(timeout=10)
    took = time.monotonic() - t0
    stop.set()
    for t in threads:
        t.join(30)
    for c in conns:
        try:
            c.close()
        except libvirt.libvirtError:
            pass
    assert rc == 0, "exit status %s after SIGTERM under load" % rc
    assert took < 5, "SIGTERM took %.1fs with busy clients" % took
    hearth.start()
    assert len(hearth.virsh("list", "--all", "--name").stdout.split()) == 5


def test_restart_cycles_do_not_leak_or_duplicate(hearth):
    populate(hearth, 10)
    before = state(hearth)
    for _ in range(3):
        hearth.restart()
    assert state(hearth) == before
    files = sorted(p.name for p in hearth.qemu_dir.iterdir() if p.is_file())
    assert files == sorted("%s.xml" % n for n in before)


def _plant_temp_files(hearth):
    """What an interrupted atomic write leaves behind (lib/util/atomic-file.c names them
    NAME.xml.tmp-XXXXXX; the autostart link is made as NAME.xml.tmp then renamed)."""
    hearth.stop()
    hearth.qemu_dir.mkdir(parents=True, exist_ok=True)
    (hearth.qemu_dir / "ghost.xml.tmp-Ab12Cd").write_text(domain_xml("ghost", uuid_for(77)))
    (hearth.qemu_dir / "real.xml.tmp-Zz99Yy").write_text(domain_xml("real", uuid_for(1))[:60])
    hearth.autostart_dir.mkdir(parents=True, exist_ok=True)
    os.symlink(str(hearth.qemu_dir / "real.xml"), str(hearth.autostart_dir / "real.xml.tmp"))
    hearth.start()


def test_stale_temp_files_not_loaded(hearth):
    hearth.virsh("define", "/dev/stdin", input=domain_xml("real", uuid_for(1)))
    _plant_temp_files(hearth)
    assert hearth.virsh("list", "--all", "--name").stdout.split() == ["real"], "a temp file was loaded"
    assert hearth.virsh("list", "--all", "--autostart", "--name").stdout.split() == []
    corrupt = [p.name for p in hearth.qemu_dir.iterdir() if ".corrupt-" in p.name]
    assert not corrupt, "temp files treated as corrupt definitions: %r" % corrupt


def test_stale_temp_files_cleaned_at_start(hearth):
    """Temp files of writes interrupted by a crash should not pile up for ever."""
    hearth.virsh("define", "/dev/stdin", input=domain_xml("real", uuid_for(1)))
    _plant_temp_files(hearth)
    left = sorted(p.name for p in hearth.qemu_dir.iterdir() if ".tmp" in p.name)
    left += sorted(p.name for p in hearth.autostart_dir.iterdir() if ".tmp" in p.name)
    assert not left, "stale temp files of interrupted atomic writes not removed at start-up: %r" % left
