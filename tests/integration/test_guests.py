"""Running guests (issue 4): virsh start/destroy/shutdown/reboot/reset/suspend/resume/console,
lifecycle events, live XML, re-adoption after kill -9 of hearthd, a killed QEMU or worker,
autostart, and bad input. Real TCG guests: the test guest from tests/guest/ (a Debian kernel
and a busybox initramfs that prints HEARTH-GUEST-READY on ttyS0 about 5-7 s after start).

Every QEMU and worker a test leaves behind is killed by PID at teardown (found by the
hearth.test=UUID token each domain carries on its kernel command line, and by the worker's
--dir ROOT/run/hearth/qemu/NAME argument).

Most tests also run against the reference libvirtd (HEARTH_EXTERNAL_SOCKET, see README.md);
the ones that read worker status files or kill/restart the daemon need hearthd.
"""

import os
import re
import select
import signal
import subprocess
import threading
import time
import uuid as uuidlib
import xml.etree.ElementTree as ET

import libvirt
import pytest

import hearthlib
from hearthlib import (GUEST_MARKER, HearthError, find_processes, kill_pids, parse_colon_table,
                       parse_list, proc_alive, proc_cmdline, read_kv_file, tail_text, wait_until)

BOOT_TIMEOUT = float(os.environ.get("HEARTH_GUEST_BOOT_TIMEOUT", "90"))
STATE_TIMEOUT = 30.0

# lifecycle event ids and details (libvirt-domain.h)
DEFINED, UNDEFINED = libvirt.VIR_DOMAIN_EVENT_DEFINED, libvirt.VIR_DOMAIN_EVENT_UNDEFINED
STARTED, SUSPENDED = libvirt.VIR_DOMAIN_EVENT_STARTED, libvirt.VIR_DOMAIN_EVENT_SUSPENDED
RESUMED, STOPPED = libvirt.VIR_DOMAIN_EVENT_RESUMED, libvirt.VIR_DOMAIN_EVENT_STOPPED
BOOTED = libvirt.VIR_DOMAIN_EVENT_STARTED_BOOTED
PAUSED = libvirt.VIR_DOMAIN_EVENT_SUSPENDED_PAUSED
UNPAUSED = libvirt.VIR_DOMAIN_EVENT_RESUMED_UNPAUSED
ST_SHUTDOWN = libvirt.VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN
ST_DESTROYED = libvirt.VIR_DOMAIN_EVENT_STOPPED_DESTROYED
ST_CRASHED = libvirt.VIR_DOMAIN_EVENT_STOPPED_CRASHED
ST_FAILED = libvirt.VIR_DOMAIN_EVENT_STOPPED_FAILED
UNDEF_REMOVED = libvirt.VIR_DOMAIN_EVENT_UNDEFINED_REMOVED


# --------------------------------------------------------------------------- helpers
class EventLog:
    """Lifecycle events of one python3-libvirt connection: (name, event, detail)."""

    def __init__(self):
        self.events = []
        self.cond = threading.Condition()

    def cb(self, conn, dom, event, detail, opaque):
        with self.cond:
            self.events.append((dom.name(), event, detail))
            self.cond.notify_all()

    def wait_for(self, name, event, details=None, timeout=STATE_TIMEOUT):
        """Wait for an event of `name` with `event` and (if given) a detail in `details`;
        returns the matching tuple or None."""
        if isinstance(details, int):
            details = (details,)
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for e in self.events:
                    if e[0] == name and e[1] == event and (details is None or e[2] in details):
                        return e
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.cond.wait(left)

    def of(self, name):
        with self.cond:
            return [e[1:] for e in self.events if e[0] == name]


class Guest:
    def __init__(self, env, name, uuid, xml, serial, serial_log):
        self.env = env
        self.name = name
        self.uuid = uuid
        self.xml = xml
        self.serial = serial
        self.serial_log = serial_log
        self.xml_path = env.tmp / ("%s.xml" % name)
        self.xml_path.write_text(xml)

    @property
    def hearth(self):
        return self.env.hearth

    # -- runtime files (hearthd only) ----------------------------------------
    @property
    def rundir(self):
        return self.hearth.rundir / "qemu" / self.name

    @property
    def qemu_log(self):
        return self.hearth.root / "var" / "log" / "hearth" / "qemu" / ("%s.log" % self.name)

    def status(self):
        if self.env.external:
            raise HearthError("worker status files exist only with hearthd")
        return read_kv_file(self.rundir / "status")

    # -- processes -----------------------------------------------------------
    def qemu_processes(self):
        return {pid: argv for pid, argv in find_processes([self.uuid]).items()
                if "qemu-system" in os.path.basename(argv[0])}

    def worker_processes(self):
        if self.env.external:
            return {}
        d = str(self.rundir)
        return {pid: argv for pid, argv in find_processes([d]).items()
                if d in argv or "--dir=" + d in argv}

    def processes(self):
        p = dict(self.qemu_processes())
        p.update(self.worker_processes())
        return p

    def qemu_pid(self):
        procs = self.qemu_processes()
        assert len(procs) == 1, "expected exactly one QEMU for %s, found %r\n%s" % (
            self.name, procs, self.diagnostics())
        return next(iter(procs))

    def wait_no_processes(self, timeout=15):
        if wait_until(lambda: not self.processes(), timeout, 0.1):
            return
        left = self.processes()
        assert not left, "processes of %s still alive %ds after it stopped: %r\n%s" % (
            self.name, timeout, left, self.diagnostics())

    # -- state ---------------------------------------------------------------
    def domstate(self):
        return self.hearth.virsh("domstate", "--reason", self.name).stdout.strip()

    def wait_state(self, prefix, timeout=STATE_TIMEOUT):
        last = [None]

        def check():
            last[0] = self.domstate()
            return last[0].startswith(prefix)
        ok = wait_until(check, timeout, 0.1)
        assert ok, "%s: state %r, wanted %r within %ds\n%s" % (self.name, last[0], prefix, timeout,
                                                                self.diagnostics())
        return last[0]

    def dominfo(self):
        return parse_colon_table(self.hearth.virsh("dominfo", self.name).stdout)

    def live_xml(self):
        return ET.fromstring(self.hearth.virsh("dumpxml", self.name).stdout)

    # -- serial log ----------------------------------------------------------
    def log_text(self):
        try:
            return self.serial_log.read_text(errors="replace")
        except (FileNotFoundError, AttributeError):
            return ""

    def markers(self):
        return self.log_text().count(GUEST_MARKER)

    def wait_markers(self, n=1, timeout=BOOT_TIMEOUT):
        ok = wait_until(lambda: self.markers() >= n, timeout, 0.1)
        assert ok, "%s: %d x %s on the serial log within %ds (wanted %d)\n%s" % (
            self.name, self.markers(), GUEST_MARKER, timeout, n, self.diagnostics())

    def diagnostics(self):
        out = ["--- %s serial log %s ---\n%s" % (self.name, self.serial_log, tail_text(self.serial_log, 25))]
        if not self.env.external:
            out.append("--- status %s ---\n%s" % (self.rundir / "status", tail_text(self.rundir / "status")))
            out.append("--- QEMU log %s ---\n%s" % (self.qemu_log, tail_text(self.qemu_log, 25)))
        return "\n".join(out)


class GuestEnv:
    def __init__(self, hearth, images, tmp_path, factory_instances):
        self.hearth = hearth
        self.kernel, self.initrd = images
        self.tmp = tmp_path
        self.instances = factory_instances
        self.guests = []
        self.listeners = []
        self.external = isinstance(hearth, hearthlib.ExternalDaemon)

    def new(self, name, serial="file", **kw):
        u = kw.pop("uuid", None) or str(uuidlib.uuid4())
        log = self.tmp / ("%s.serial.log" % name) if serial == "file" else None
        kw.setdefault("kernel", self.kernel)
        kw.setdefault("initrd", self.initrd)
        xml = hearthlib.guest_domain_xml(name, u, serial=serial, serial_path=log, **kw)
        g = Guest(self, name, u, xml, serial, log)
        self.guests.append(g)
        return g

    def define(self, name, **kw):
        g = self.new(name, **kw)
        cp = self.hearth.virsh("define", g.xml_path)
        assert "Domain '%s' defined from" % name in cp.stdout, cp.stdout
        return g

    def start(self, g, *flags):
        cp = self.hearth.virsh("start", *flags, g.name, timeout=60)
        assert cp.stdout.strip() == "Domain '%s' started" % g.name, cp.stdout
        return cp

    def listen(self):
        """A fresh connection with a lifecycle callback for every domain (event_loop must run)."""
        c = self.hearth.connect()
        log = EventLog()
        cid = c.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, log.cb, None)
        self.listeners.append((c, cid))
        return log

    def running_ids(self):
        """{name: id} from `virsh list` (active domains)."""
        return {name: ident for ident, name, state in parse_list(self.hearth.virsh("list").stdout)}

    def teardown(self):
        for c, cid in self.listeners:
            try:
                c.domainEventDeregisterAny(cid)
            except libvirt.libvirtError:
                pass
            try:
                c.close()
            except libvirt.libvirtError:
                pass
        needles = [g.uuid for g in self.guests]
        exclude = set()
        if not self.external:
            for h in self.instances:
                needles.append(str(h.rundir / "qemu") + "/")
                if h.pid:
                    exclude.add(h.pid)
        killed = {}
        for _ in range(5):
            found = find_processes(needles, exclude)
            if not found:
                break
            killed.update(found)
            kill_pids(found)
            time.sleep(0.3)
        if killed:
            print("teardown: killed leftover processes %s"
                  % ", ".join("%d (%s)" % (p, " ".join(a)[:100]) for p, a in killed.items()))


@pytest.fixture(scope="session")
def guest_images():
    try:
        return hearthlib.build_guest()
    except HearthError as e:
        pytest.fail("cannot build the test guest with tests/guest/build-guest.sh:\n%s" % e, pytrace=False)


@pytest.fixture
def guests(hearth, hearth_factory, guest_images, tmp_path, request):
    env = GuestEnv(hearth, guest_images, tmp_path, request.node._hearths)
    yield env
    env.teardown()


def cpu_seconds(info):
    m = re.fullmatch(r"([0-9.]+)s", info.get("CPU time", ""))
    assert m, "no 'CPU time: N.Ns' line in dominfo: %r" % info
    return float(m.group(1))


def destroy(g, log=None):
    cp = g.hearth.virsh("destroy", g.name)
    assert cp.stdout.strip() == "Domain '%s' destroyed" % g.name, cp.stdout
    assert g.domstate() == "shut off (destroyed)"
    if log is not None:
        assert log.wait_for(g.name, STOPPED, ST_DESTROYED), log.of(g.name)
    g.wait_no_processes()


# --------------------------------------------------------------------------- start / running facts
def test_start_running_facts(guests, event_loop):
    h = guests.hearth
    ev = guests.listen()
    g = guests.define("run1", memory_mib=192)
    guests.start(g)
    assert ev.wait_for(g.name, STARTED, BOOTED), ev.of(g.name)
    rows = parse_list(h.virsh("list").stdout)
    assert len(rows) == 1 and rows[0][1:] == ("run1", "running"), rows
    dom_id = rows[0][0]
    assert dom_id.isdigit() and int(dom_id) >= 1, rows
    assert parse_list(h.virsh("list", "--all").stdout) == rows
    g.wait_markers(1)

    info = g.dominfo()
    assert info["State"] == "running", info
    assert info["Id"] == dom_id, info
    assert info["Persistent"] == "yes", info
    assert info["CPU(s)"] == "1", info
    assert info["Max memory"] == "%d KiB" % (192 * 1024), info
    assert cpu_seconds(info) > 0, info
    assert g.domstate() == "running (booted)"
    assert h.virsh("domid", g.name).stdout.strip() == dom_id

    root = g.live_xml()
    assert root.get("id") == dom_id, ET.tostring(root)[:300]
    assert root.find("devices/serial/source").get("path") == str(g.serial_log)
    # the inactive XML has no id
    inactive = ET.fromstring(h.virsh("dumpxml", "--inactive", g.name).stdout)
    assert inactive.get("id") is None

    c = h.connect()
    try:
        d = c.lookupByName(g.name)
        assert d.ID() == int(dom_id)
        assert d.isActive() == 1
        assert d.state() == [libvirt.VIR_DOMAIN_RUNNING, libvirt.VIR_DOMAIN_RUNNING_BOOTED]
        st, maxmem, mem, nvcpu, cputime = d.info()
        assert st == libvirt.VIR_DOMAIN_RUNNING and nvcpu == 1 and maxmem == 192 * 1024
        assert cputime > 0
        assert c.lookupByID(int(dom_id)).name() == g.name
    finally:
        c.close()
    assert len(g.qemu_processes()) == 1
    destroy(g, ev)
    assert parse_list(h.virsh("list", "--all").stdout) == [("-", "run1", "shut off")]


def test_destroy(guests, event_loop):
    ev = guests.listen()
    g = guests.define("des1")
    guests.start(g)
    qpid = g.qemu_pid()
    t0 = time.monotonic()
    destroy(g, ev)
    assert not proc_alive(qpid)
    assert g.dominfo()["Id"] == "-"
    assert g.live_xml().get("id") is None
    # destroy of a shut off domain: libvirt's "domain is not running"
    cp = guests.hearth.virsh("destroy", g.name, check=False)
    assert cp.returncode == 1 and "domain is not running" in cp.stderr, cp.stderr
    # and it starts again after a destroy
    guests.start(g)
    assert g.domstate() == "running (booted)"
    destroy(g, ev)
    print("destroy took %.0f ms" % ((time.monotonic() - t0) * 1000))


# --------------------------------------------------------------------------- suspend / resume
def test_suspend_resume(guests, event_loop):
    h = guests.hearth
    ev = guests.listen()
    g = guests.define("sr1")
    guests.start(g)
    cp = h.virsh("suspend", g.name)
    assert cp.stdout.strip() == "Domain '%s' suspended" % g.name
    assert g.domstate() == "paused (user)"
    assert parse_list(h.virsh("list").stdout)[0][1:] == ("sr1", "paused")
    assert g.dominfo()["State"] == "paused"
    assert ev.wait_for(g.name, SUSPENDED, PAUSED), ev.of(g.name)
    # a paused guest really does not run: its vCPUs burn nothing.  cpuTime is the whole QEMU
    # process (as libvirt reports it), whose main loop may still take a clock tick or two for
    # the monitor; a booting TCG guest burns most of a core, so a tenth of a second is the bar.
    c = h.connect()
    try:
        d = c.lookupByName(g.name)
        t1 = d.info()[4]
        time.sleep(1.0)
        spent = d.info()[4] - t1
        assert 0 <= spent <= 100_000_000, "CPU time advanced %d ns while paused" % spent
        assert d.state() == [libvirt.VIR_DOMAIN_PAUSED, libvirt.VIR_DOMAIN_PAUSED_USER]
    finally:
        c.close()
    cp = h.virsh("resume", g.name)
    assert cp.stdout.strip() == "Domain '%s' resumed" % g.name
    assert g.domstate() == "running (unpaused)"
    assert ev.wait_for(g.name, RESUMED, UNPAUSED), ev.of(g.name)
    g.wait_markers(1)
    destroy(g, ev)
    cp = h.virsh("suspend", g.name, check=False)
    assert cp.returncode == 1 and "domain is not running" in cp.stderr, cp.stderr


# --------------------------------------------------------------------------- graceful shutdown
def test_graceful_shutdown(guests, event_loop):
    h = guests.hearth
    ev = guests.listen()
    g = guests.define("sd1")
    guests.start(g)
    qpid = g.qemu_pid()
    g.wait_markers(1)
    cp = h.virsh("shutdown", g.name)
    assert cp.stdout.strip() == "Domain '%s' is being shutdown" % g.name
    g.wait_state("shut off", 60)
    assert g.domstate() == "shut off (shutdown)"
    assert ev.wait_for(g.name, STOPPED, ST_SHUTDOWN), ev.of(g.name)
    assert "hearth-guest: power button" in g.log_text(), g.diagnostics()
    assert not proc_alive(qpid)
    g.wait_no_processes()
    assert parse_list(h.virsh("list", "--all").stdout) == [("-", "sd1", "shut off")]
    stopped = [e for e in ev.of(g.name) if e[0] == STOPPED]
    assert stopped == [(STOPPED, ST_SHUTDOWN)], "exactly one STOPPED event expected: %r" % ev.of(g.name)


# --------------------------------------------------------------------------- reboot / reset
def test_reboot_and_reset(guests, event_loop):
    """Two guests in parallel: `virsh reboot` (ACPI, libvirt's fake reboot) on one,
    `virsh reset` on the other. Both boot again in the same QEMU and stay running."""
    h = guests.hearth
    ev = guests.listen()
    rb = guests.define("rb1")
    rs = guests.define("rs1")
    guests.start(rb)
    guests.start(rs)
    ids = guests.running_ids()
    pids = {g.name: g.qemu_pid() for g in (rb, rs)}
    rb.wait_markers(1)
    rs.wait_markers(1)
    cp = h.virsh("reboot", rb.name)
    assert cp.stdout.strip() == "Domain '%s' is being rebooted" % rb.name
    cp = h.virsh("reset", rs.name)
    assert cp.stdout.strip() == "Domain '%s' was reset" % rs.name
    rs.wait_markers(2)
    rb.wait_markers(2)
    assert "hearth-guest: power button" in rb.log_text(), rb.diagnostics()
    time.sleep(2.0)
    for g in (rb, rs):
        assert g.markers() == 2, "%s booted %d times (wanted 2)\n%s" % (g.name, g.markers(), g.diagnostics())
        assert g.domstate().startswith("running"), g.domstate()
        assert g.qemu_pid() == pids[g.name], "reboot/reset must keep the QEMU process"
        stopped = [e for e in ev.of(g.name) if e[0] == STOPPED]
        assert stopped == [], "%s: STOPPED event on reboot/reset: %r" % (g.name, ev.of(g.name))
    assert guests.running_ids() == ids, "ids change on reboot/reset"
    destroy(rb, ev)
    destroy(rs, ev)


# --------------------------------------------------------------------------- start --paused
def test_start_paused_then_resume(guests, event_loop):
    h = guests.hearth
    ev = guests.listen()
    g = guests.define("sp1")
    guests.start(g, "--paused")
    assert g.domstate() == "paused (user)"
    assert parse_list(h.virsh("list").stdout)[0][1:] == ("sp1", "paused")
    assert ev.wait_for(g.name, STARTED, BOOTED), ev.of(g.name)
    assert ev.wait_for(g.name, SUSPENDED, PAUSED), ev.of(g.name)
    time.sleep(1.5)
    assert g.markers() == 0 and "Linux" not in g.log_text(), "a guest started paused ran:\n" + g.diagnostics()
    h.virsh("resume", g.name)
    assert g.domstate() == "running (unpaused)"
    assert ev.wait_for(g.name, RESUMED, UNPAUSED), ev.of(g.name)
    g.wait_markers(1)
    destroy(g, ev)


def test_start_paused_python(guests, event_loop):
    g = guests.define("sp2")
    c = guests.hearth.connect()
    try:
        d = c.lookupByName(g.name)
        assert d.createWithFlags(libvirt.VIR_DOMAIN_START_PAUSED) == 0
        assert d.state() == [libvirt.VIR_DOMAIN_PAUSED, libvirt.VIR_DOMAIN_PAUSED_USER]
        assert d.ID() >= 1
        d.resume()
        assert d.state()[0] == libvirt.VIR_DOMAIN_RUNNING
        d.destroy()
        assert d.state() == [libvirt.VIR_DOMAIN_SHUTOFF, libvirt.VIR_DOMAIN_SHUTOFF_DESTROYED]
    finally:
        c.close()
    g.wait_no_processes()


# --------------------------------------------------------------------------- transient
def test_transient_create(guests, event_loop):
    h = guests.hearth
    ev = guests.listen()
    g = guests.new("tr1")
    cp = h.virsh("create", g.xml_path)
    assert cp.stdout.strip() == "Domain '%s' created from %s" % (g.name, g.xml_path), cp.stdout
    assert ev.wait_for(g.name, STARTED, BOOTED), ev.of(g.name)
    rows = parse_list(h.virsh("list", "--all").stdout)
    assert len(rows) == 1 and rows[0][1:] == ("tr1", "running") and rows[0][0].isdigit(), rows
    assert h.virsh("list", "--transient", "--name").stdout.split() == ["tr1"]
    assert h.virsh("list", "--persistent", "--all", "--name").stdout.split() == []
    info = g.dominfo()
    assert info["Persistent"] == "no" and info["State"] == "running", info
    if not guests.external:
        assert not (h.qemu_dir / "tr1.xml").exists(), "a transient domain must not be written to disk"
    assert g.live_xml().get("id") == rows[0][0]
    cp = h.virsh("destroy", g.name)
    assert cp.stdout.strip() == "Domain '%s' destroyed" % g.name
    assert ev.wait_for(g.name, STOPPED, ST_DESTROYED), ev.of(g.name)
    g.wait_no_processes()
    # a stopped transient domain is gone
    assert parse_list(h.virsh("list", "--all").stdout) == []
    cp = h.virsh("dominfo", g.name, check=False)
    assert cp.returncode == 1 and "failed to get domain 'tr1'" in cp.stderr, cp.stderr
    # and its name and uuid are free again: python createXML, then destroy
    c = h.connect()
    try:
        d = c.createXML(g.xml, 0)
        assert d.name() == "tr1" and d.isPersistent() == 0 and d.isActive() == 1
        assert d.UUIDString() == g.uuid
        d.destroy()
        assert [x.name() for x in c.listAllDomains(0)] == []
    finally:
        c.close()
    g.wait_no_processes()


# --------------------------------------------------------------------------- per-domain figures
def test_domain_figures(guests):
    """domblkstat, domblkinfo, dommemstat, vcpuinfo, domjobinfo, domcontrol on a running guest
    (QMP through the worker, /proc, the image file); domblkinfo also on a shut-off one."""
    h = guests.hearth
    img = guests.tmp / "figures.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(img), "64M"], check=True)
    disk = ("    <disk type='file' device='disk'>\n      <driver name='qemu' type='qcow2'/>\n"
            "      <source file='%s'/>\n      <target dev='vda' bus='virtio'/>\n    </disk>\n" % img)
    g = guests.define("figs1", devices=disk)
    guests.start(g)
    g.wait_markers(1)

    def table(*args):
        out = h.virsh(*args).stdout
        return {p[-2]: p[-1] for p in (l.split() for l in out.splitlines()) if len(p) >= 2}

    st = table("domblkstat", g.name, "vda")
    # the kernel read the partition table of vda while booting
    assert int(st["rd_req"]) > 0 and int(st["rd_bytes"]) >= 512, st
    assert "errs" not in st  # unknown (-1): virsh leaves it out
    assert table("domblkstat", g.name)["rd_req"] == st["rd_req"]  # all disks: this one
    cp = h.virsh("domblkstat", g.name, "vdz", check=False)
    assert cp.returncode == 1 and "vdz" in cp.stderr, cp.stderr

    info = parse_colon_table(h.virsh("domblkinfo", g.name, "vda", "--human").stdout)
    assert info["Capacity"] == "64.000 MiB", info
    raw = parse_colon_table(h.virsh("domblkinfo", g.name, "vda").stdout)
    assert int(raw["Physical"]) == img.stat().st_size and 0 < int(raw["Allocation"]) <= 2 << 20, raw

    mem = table("dommemstat", g.name)
    assert int(mem["actual"]) == 128 * 1024, mem
    qrss = int([l for l in open("/proc/%d/status" % g.qemu_pid()) if l.startswith("VmRSS:")][0].split()[1])
    assert int(mem["rss"]) == pytest.approx(qrss, rel=0.2), (mem, qrss)

    vcpu = parse_colon_table(h.virsh("vcpuinfo", g.name).stdout)
    assert vcpu["VCPU"] == "0" and vcpu["State"] == "running", vcpu
    assert float(vcpu["CPU time"].rstrip("s")) > 0.5, vcpu  # booting under TCG takes seconds
    assert vcpu["CPU Affinity"] == "y" * os.cpu_count(), vcpu

    assert parse_colon_table(h.virsh("domjobinfo", g.name).stdout)["Job type"] == "None"
    assert h.virsh("domcontrol", g.name).stdout.strip() == "ok"

    destroy(g)
    raw_off = parse_colon_table(h.virsh("domblkinfo", g.name, "vda").stdout)
    assert raw_off["Capacity"] == str(64 << 20), raw_off
    for cmd in (["dommemstat", g.name], ["domblkstat", g.name, "vda"], ["vcpuinfo", g.name]):
        cp = h.virsh(*cmd, check=False)
        if cmd[0] == "vcpuinfo":
            continue  # libvirt's virsh falls back to the pinning of the definition
        assert cp.returncode == 1 and "not running" in cp.stderr, (cmd, cp.stderr)


# --------------------------------------------------------------------------- setmem / setvcpus live
def test_setmem_live_and_what_cannot_change_live(guests):
    """setmem --live moves the balloon (QMP balloon; the memballoon is the default virtio one),
    dominfo and dommemstat follow, --config as well changes the definition too; growing the
    maximum or the vCPUs of a running guest is refused with a message."""
    h = guests.hearth
    g = guests.new("bal1")
    g.xml = g.xml.replace("    <memballoon model='none'/>\n", "")
    g.xml_path.write_text(g.xml)
    h.virsh("define", g.xml_path)
    assert "model='virtio'" in h.virsh("dumpxml", "--inactive", g.name).stdout.split("<memballoon")[1]
    guests.start(g)
    h.virsh("setmem", g.name, "96M", "--live")
    assert parse_colon_table(h.virsh("dominfo", g.name).stdout)["Used memory"] == "98304 KiB"
    assert "actual 98304" in h.virsh("dommemstat", g.name).stdout
    assert "<currentMemory unit='KiB'>131072</currentMemory>" in h.virsh("dumpxml", "--inactive", g.name).stdout
    h.virsh("setmem", g.name, "112M", "--live", "--config")
    assert "<currentMemory unit='KiB'>114688</currentMemory>" in h.virsh("dumpxml", "--inactive", g.name).stdout
    cp = h.virsh("setmem", g.name, "1G", "--live", check=False)
    assert cp.returncode == 1 and "higher than max memory" in cp.stderr, cp.stderr
    cp = h.virsh("setmaxmem", g.name, "1G", "--live", check=False)
    assert cp.returncode == 1 and "active domain" in cp.stderr, cp.stderr
    cp = h.virsh("setvcpus", g.name, "2", "--live", check=False)
    assert cp.returncode == 1 and "hotplug" in cp.stderr, cp.stderr
    destroy(g)
    # a guest without a balloon cannot be resized live
    g2 = guests.define("bal2")
    guests.start(g2)
    cp = h.virsh("setmem", g2.name, "96M", "--live", check=False)
    assert cp.returncode == 1 and "balloon" in cp.stderr, cp.stderr
    destroy(g2)


# --------------------------------------------------------------------------- VNC password
def rfb_auth(port, password):
    """The RFB 3.8 handshake with VNC authentication (DES of the server's challenge); the
    security types offered and the SecurityResult (0 = accepted)."""
    from Cryptodome.Cipher import DES  # python3-pycryptodome
    import socket
    import struct

    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        f = s.makefile("rb")
        assert f.read(12) == b"RFB 003.008\n"
        s.sendall(b"RFB 003.008\n")
        types = list(f.read(f.read(1)[0]))
        if 2 not in types:
            return types, None
        s.sendall(b"\x02")
        challenge = f.read(16)
        # VNC's DES key: the password padded to 8 bytes, each byte's bits reversed
        key = bytes(int("{:08b}".format(b)[::-1], 2) for b in password.encode()[:8].ljust(8, b"\0"))
        s.sendall(DES.new(key, DES.MODE_ECB).encrypt(challenge))
        return types, struct.unpack(">I", f.read(4))[0]


def test_vnc_password(guests):
    """<graphics passwd=...> reaches QEMU (set_password) before `virsh start` returns: the
    password opens the console, another does not; without passwd no authentication is asked."""
    h = guests.hearth
    vnc = "    <graphics type='vnc' port='-1' autoport='yes' listen='127.0.0.1'%s/>\n"
    g = guests.define("vncpw", devices=vnc % " passwd='s3cr3t!x'")
    guests.start(g)
    port = int(g.live_xml().find("devices/graphics").get("port"))
    assert port >= 5900
    assert rfb_auth(port, "wrong") == ([2], 1)
    assert rfb_auth(port, "s3cr3t!x") == ([2], 0)
    destroy_plain = h.virsh("destroy", g.name)
    assert "destroyed" in destroy_plain.stdout
    g2 = guests.define("vncopen", devices=vnc % "")
    guests.start(g2)
    port = int(g2.live_xml().find("devices/graphics").get("port"))
    assert rfb_auth(port, "")[0] == [1]  # None: no password asked
    h.virsh("destroy", g2.name)


# --------------------------------------------------------------------------- virsh console
class Console:
    """`virsh console NAME` on a pseudo-terminal, driven like a person at a terminal."""

    def __init__(self, hearth, name):
        self.master, slave = os.openpty()
        env = dict(os.environ, LC_ALL="C", LANG="C")
        env.pop("LIBVIRT_DEFAULT_URI", None)
        self.proc = subprocess.Popen(["virsh", "-c", hearth.uri, "console", name],
                                     stdin=slave, stdout=slave, stderr=slave, env=env,
                                     start_new_session=True, close_fds=True)
        os.close(slave)
        self.buf = b""
        self.pos = 0
        self.eof = False

    def _read(self, timeout):
        if self.eof:
            time.sleep(min(timeout, 0.05))
            return
        r, _, _ = select.select([self.master], [], [], timeout)
        if not r:
            return
        try:
            data = os.read(self.master, 65536)
        except OSError:          # EIO: the slave side is closed (virsh exited)
            data = b""
        if not data:
            self.eof = True
        self.buf += data

    def expect(self, pattern, timeout):
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            m = rx.search(self.buf, self.pos)
            if m:
                self.pos = m.end()
                return m
            left = deadline - time.monotonic()
            if left <= 0 or (self.eof and self.proc.poll() is not None):
                raise AssertionError("virsh console: no %r within %ds (virsh exit status %s); output:\n%r"
                                     % (pattern, timeout, self.proc.poll(), self.buf[-3000:]))
            self._read(min(left, 0.2))

    def send(self, data):
        os.write(self.master, data)

    def escape(self, timeout=15):
        """Ctrl-] and wait for virsh to exit; returns its exit status."""
        self.send(b"\x1d")
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < deadline:
            self._read(0.1)
        return self.proc.poll()

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        try:
            os.close(self.master)
        except OSError:
            pass


def test_console_pty(guests):
    h = guests.hearth
    g = guests.define("con1", serial="pty")
    guests.start(g)
    con = Console(h, g.name)
    try:
        con.expect(rb"Escape character is \^\]", 20)
        # the live XML names the pty (checked while the console is attached)
        root = g.live_xml()
        serial = root.find("devices/serial")
        assert serial.get("type") == "pty"
        src = serial.find("source")
        assert src is not None and re.fullmatch(r"/dev/pts/\d+", src.get("path") or ""), \
            ET.tostring(serial).decode()
        pty_path = src.get("path")
        assert os.path.exists(pty_path), pty_path
        console = root.find("devices/console")
        assert console is not None and console.get("tty") == pty_path, ET.tostring(root).decode()[-1500:]
        if not guests.external:
            st = g.status()
            assert pty_path in [v for k, v in st.items() if k.startswith("pty.")], st

        con.expect(GUEST_MARKER.encode(), BOOT_TIMEOUT)
        con.send(b"echo HEARTH-CONSOLE-$((40+2)); uname -s\n")
        con.expect(rb"HEARTH-CONSOLE-42", 20)
        con.expect(rb"Linux", 10)
        rc = con.escape()
        assert rc == 0, "virsh console exit status %s after Ctrl-]; output %r" % (rc, con.buf[-500:])
    finally:
        con.close()
    # the console can be opened again after an escape
    con = Console(h, g.name)
    try:
        con.expect(rb"Escape character is \^\]", 20)
        # QEMU notices a pty reconnecting on its next poll (about once a second); input sent
        # before that is lost, with libvirt as well. Press Enter until the shell answers.
        deadline = time.monotonic() + 20
        while True:
            con.send(b"\n")
            try:
                con.expect(rb"hearth-guest# ", 2)
                break
            except AssertionError:
                if time.monotonic() > deadline:
                    raise
        con.send(b"echo HEARTH-AGAIN-$((1+1))\n")
        con.expect(rb"HEARTH-AGAIN-2", 20)
        assert con.escape() == 0
    finally:
        con.close()
    assert g.domstate() == "running (booted)"
    destroy(g)


def test_console_of_shut_off_domain_fails(guests):
    g = guests.define("con2", serial="pty")
    cp = guests.hearth.virsh("console", g.name, check=False, timeout=20)
    assert cp.returncode == 1
    assert "domain is not running" in cp.stderr, cp.stderr


# --------------------------------------------------------------------------- daemon / worker / QEMU deaths
def live_status(g):
    """The status of g once its worker has recorded a live QEMU (hearthd only)."""
    holder = {}

    def ok():
        st = g.status()
        holder["st"] = st
        return st.get("qemu_pid") and proc_alive(int(st["qemu_pid"]), st.get("qemu_start")) and \
            st.get("worker_pid") and proc_alive(int(st["worker_pid"]), st.get("worker_start"))
    assert wait_until(ok, 15, 0.05), "%s: no live worker/QEMU in status: %r\n%s" % (
        g.name, holder.get("st"), g.diagnostics())
    return holder["st"]


def test_kill9_hearthd_keeps_three_guests(guests, event_loop):
    h = guests.hearth
    gs = [guests.define("k%d" % i) for i in range(3)]
    for g in gs:
        guests.start(g)
    ids = guests.running_ids()
    assert sorted(ids) == ["k0", "k1", "k2"], ids
    before = {}
    for g in gs:
        st = live_status(g)
        assert int(st["qemu_pid"]) == g.qemu_pid(), "status qemu_pid is not the domain's QEMU"
        assert st.get("state") == "running", st
        before[g.name] = (int(st["qemu_pid"]), st["qemu_start"], int(st["worker_pid"]))
    h.kill9()
    # the guests carry on without the daemon: all three finish booting
    for g in gs:
        g.wait_markers(1)
        qpid, qstart, wpid = before[g.name]
        assert proc_alive(qpid, qstart), "%s: QEMU %d died with hearthd" % (g.name, qpid)
        assert proc_alive(wpid), "%s: worker %d died with hearthd" % (g.name, wpid)
    t0 = time.monotonic()
    h.start()
    rows = parse_list(h.virsh("list").stdout)
    answered = time.monotonic() - t0
    assert sorted(rows) == sorted((ids[n], n, "running") for n in ids), \
        "after restart: %r, before: %r" % (rows, ids)
    print("hearthd restart -> virsh list with 3 re-adopted guests: %.0f ms" % (answered * 1000))
    for g in gs:
        qpid, qstart, wpid = before[g.name]
        assert g.qemu_pid() == qpid, "%s: QEMU pid changed" % g.name
        assert int(g.status()["qemu_pid"]) == qpid
        assert g.domstate() == "running (booted)"
        assert g.live_xml().get("id") == ids[g.name]
        info = g.dominfo()
        assert info["Id"] == ids[g.name] and cpu_seconds(info) > 0, info
    # events work for re-adopted guests; so do the operations
    ev = guests.listen()
    h.virsh("suspend", "k0")
    assert ev.wait_for("k0", SUSPENDED, PAUSED), ev.of("k0")
    h.virsh("resume", "k0")
    assert ev.wait_for("k0", RESUMED, UNPAUSED), ev.of("k0")
    for g in gs:
        destroy(g, ev)
    assert parse_list(h.virsh("list").stdout) == []


def test_qemu_killed_means_crashed(guests, event_loop):
    """As libvirt 9.0 (checked with reference-libvirtd): a QEMU killed from outside leaves the
    domain 'shut off (crashed)', and the STOPPED event says FAILED (CRASHED is for a guest
    panic)."""
    h = guests.hearth
    ev = guests.listen()
    g = guests.define("crash1")
    guests.start(g)
    qpid = g.qemu_pid()
    os.kill(qpid, signal.SIGKILL)
    g.wait_state("shut off", 20)
    assert g.domstate() == "shut off (crashed)"
    e = ev.wait_for(g.name, STOPPED)
    assert e is not None, ev.of(g.name)
    assert e[2] == ST_FAILED, "STOPPED detail %d, libvirt says FAILED (5)" % e[2]
    g.wait_no_processes()
    assert parse_list(h.virsh("list", "--all").stdout) == [("-", "crash1", "shut off")]
    # it starts again
    guests.start(g)
    assert g.domstate() == "running (booted)"
    destroy(g, ev)


def test_qemu_killed_while_hearthd_down(guests):
    """The worker records the exit while hearthd is down; the restarted hearthd reports it."""
    h = guests.hearth
    g = guests.define("crash2")
    guests.start(g)
    st = live_status(g)
    h.kill9()
    os.kill(int(st["qemu_pid"]), signal.SIGKILL)
    g.wait_no_processes()
    h.start()
    assert g.domstate() == "shut off (crashed)"
    assert parse_list(h.virsh("list", "--all").stdout) == [("-", "crash2", "shut off")]
    guests.start(g)
    destroy(g)


def test_worker_killed_guest_readopted(guests, event_loop):
    h = guests.hearth
    ev = guests.listen()
    g = guests.define("wk1")
    guests.start(g)
    st = live_status(g)
    wpid, qpid, qstart = int(st["worker_pid"]), int(st["qemu_pid"]), st["qemu_start"]
    dom_id = guests.running_ids()["wk1"]
    os.kill(wpid, signal.SIGKILL)
    holder = {}

    def new_worker():
        s = g.status()
        holder["st"] = s
        p = s.get("worker_pid")
        return p and int(p) != wpid and proc_alive(int(p), s.get("worker_start")) and int(p)
    npid = wait_until(new_worker, 20, 0.05)
    assert npid, "no new worker within 20 s of kill -9 %d: status %r\n%s" % (wpid, holder.get("st"),
                                                                             g.diagnostics())
    assert "--adopt" in proc_cmdline(npid), proc_cmdline(npid)
    assert proc_alive(qpid, qstart), "QEMU died with its worker"
    assert g.qemu_pid() == qpid
    assert list(g.worker_processes()) == [npid], g.worker_processes()
    assert g.domstate().startswith("running"), g.domstate()
    assert guests.running_ids() == {"wk1": dom_id}
    stopped = [e for e in ev.of(g.name) if e[0] == STOPPED]
    assert stopped == [], "STOPPED event for a guest that kept running: %r" % ev.of(g.name)
    # the new worker drives the guest
    h.virsh("suspend", g.name)
    assert g.domstate() == "paused (user)"
    h.virsh("resume", g.name)
    assert g.domstate() == "running (unpaused)"
    g.wait_markers(1)
    destroy(g, ev)
    assert not proc_alive(npid)


# --------------------------------------------------------------------------- autostart
def test_autostart_on_daemon_start(guests):
    h = guests.hearth
    auto = guests.define("auto1")
    guests.define("noauto1")
    h.virsh("autostart", auto.name)
    h.restart()
    ok = wait_until(lambda: "auto1" in guests.running_ids(), 20, 0.1)
    assert ok, "autostart domain not running after a hearthd start: %r\n%s" % (
        h.virsh("list", "--all").stdout, auto.diagnostics())
    info = auto.dominfo()
    assert info["State"] == "running" and info["Autostart"] == "enable", info
    assert auto.domstate() == "running (booted)"
    assert h.virsh("domstate", "noauto1").stdout.strip() == "shut off"
    qpid = auto.qemu_pid()
    # a running autostart domain is not started a second time by the next hearthd start
    h.kill9()
    h.start()
    time.sleep(1.0)
    assert auto.qemu_pid() == qpid
    assert list(guests.running_ids()) == ["auto1"]
    auto.wait_markers(1)
    destroy(auto)


# --------------------------------------------------------------------------- bad input
def assert_start_fails(guests, g, needles):
    """virsh start fails with an error naming one of needles, the domain stays shut off and no
    QEMU or worker is left. Returns virsh's stderr."""
    h = guests.hearth
    cp = h.virsh("start", g.name, check=False, timeout=60)
    assert cp.returncode == 1, "start should fail:\n%s%s" % (cp.stdout, cp.stderr)
    assert "error: Failed to start domain '%s'" % g.name in cp.stderr, cp.stderr
    assert any(n in cp.stderr for n in needles), \
        "the error does not name the problem (%s):\n%s" % (" or ".join(needles), cp.stderr)
    # the error is the call's reply: the connection stays usable (no "Disconnected ... I/O error")
    assert "Disconnected from" not in cp.stderr, cp.stderr
    st = g.domstate()
    assert st.startswith("shut off"), st
    print("%s: %s / domstate %s" % (g.name, cp.stderr.strip().replace("\n", " | "), st))
    g.wait_no_processes(10)
    assert parse_list(h.virsh("list").stdout) == []
    # the same through python3-libvirt: one error reply, and the connection carries on
    c = h.connect()
    try:
        d = c.lookupByName(g.name)
        with pytest.raises(libvirt.libvirtError) as ei:
            d.create()
        code = ei.value.get_error_code()
        assert code not in (libvirt.VIR_ERR_RPC, libvirt.VIR_ERR_NO_SUPPORT), (code, str(ei.value))
        assert any(n in str(ei.value) for n in needles), str(ei.value)
        assert c.lookupByName(g.name).isActive() == 0
        # libvirt 9.0 (reference-libvirtd): state shut off, reason failed
        assert c.lookupByName(g.name).state() == [libvirt.VIR_DOMAIN_SHUTOFF,
                                                  libvirt.VIR_DOMAIN_SHUTOFF_FAILED]
        assert c.getHostname()
    finally:
        c.close()
    g.wait_no_processes(10)
    return cp.stderr


def test_missing_kernel(guests):
    h = guests.hearth
    missing = "/nonexistent-hearth-test/vmlinuz-%s" % uuidlib.uuid4().hex[:8]
    g = guests.define("badk1", kernel=missing)
    assert_start_fails(guests, g, [missing])
    # transient create with the same problem leaves nothing behind
    t = guests.new("badk2", kernel=missing)
    cp = h.virsh("create", t.xml_path, check=False)
    assert cp.returncode == 1 and missing in cp.stderr, cp.stderr
    assert "Disconnected from" not in cp.stderr, cp.stderr
    t.wait_no_processes(10)
    assert h.virsh("list", "--all", "--name").stdout.split() == ["badk1"]
    # fixed, the same domain starts
    ok = guests.new("badk1", uuid=g.uuid)
    h.virsh("define", ok.xml_path)
    guests.start(ok)
    assert ok.domstate() == "running (booted)"
    destroy(ok)


def test_missing_disk(guests):
    missing = str(guests.tmp / "no-such-disk.qcow2")
    disk = ("    <disk type='file' device='disk'>\n      <driver name='qemu' type='qcow2'/>\n"
            "      <source file='%s'/>\n      <target dev='vda' bus='virtio'/>\n    </disk>\n" % missing)
    g = guests.define("badd1", devices=disk)
    assert_start_fails(guests, g, [missing])


def test_unknown_emulator(guests):
    """As libvirt: the definition is refused ('Cannot check QEMU binary ...', VIR_ERR_SYSTEM_ERROR),
    and so is a transient create."""
    h = guests.hearth
    emu = "/nonexistent-hearth-test/bin/qemu-system-x86_64"
    g = guests.new("bade1", emulator=emu)
    cp = h.virsh("define", g.xml_path, check=False)
    assert cp.returncode == 1 and "Cannot check QEMU binary %s" % emu in cp.stderr, cp.stderr
    cp = h.virsh("create", g.xml_path, check=False)
    assert cp.returncode == 1 and emu in cp.stderr, cp.stderr
    assert h.virsh("list", "--all", "--name").stdout.split() == []
    c = h.connect()
    try:
        with pytest.raises(libvirt.libvirtError) as ei:
            c.defineXML(g.xml)
        assert ei.value.get_error_code() == libvirt.VIR_ERR_SYSTEM_ERROR, ei.value
    finally:
        c.close()


def test_unsupported_device_hostdev(guests):
    h = guests.hearth
    hostdev = ("    <hostdev mode='subsystem' type='pci' managed='yes'>\n      <source>\n"
               "        <address domain='0x0000' bus='0x42' slot='0x1f' function='0x7'/>\n"
               "      </source>\n    </hostdev>\n")
    g = guests.new("badh1", devices=hostdev)
    # libvirt 9.0 here: "unsupported configuration: host doesn't support passthrough of host PCI devices"
    needles = ["hostdev", "0000:42:1f.7", "42:1f.7", "host PCI device"]
    cp = h.virsh("define", g.xml_path, check=False)
    if cp.returncode != 0:
        assert any(n in cp.stderr for n in needles), cp.stderr
        print("define refused: %s" % cp.stderr.strip())
        return
    assert_start_fails(guests, g, needles)


def test_failed_start_gets_exactly_one_reply(guests):
    """Raw protocol: a DOMAIN_CREATE that fails before anything runs is answered once; the
    next call on the same connection gets its own answer."""
    import wire
    h = guests.hearth
    hostdev = ("    <hostdev mode='subsystem' type='pci' managed='yes'>\n      <source>\n"
               "        <address domain='0x0000' bus='0x42' slot='0x1f' function='0x7'/>\n"
               "      </source>\n    </hostdev>\n")
    g = guests.new("oneh1", devices=hostdev)
    if h.virsh("define", g.xml_path, check=False).returncode != 0:
        g = guests.define("oneh2", kernel="/nonexistent-hearth-test/vmlinuz")   # define refused it: libvirt
    c = wire.WireClient(str(h.sock), timeout=10)
    try:
        c.handshake(keepalive=False)
        serial = c.send_call(wire.PROC_DOMAIN_CREATE, wire.xdr_nonnull_domain(g.name, uuidlib.UUID(g.uuid).bytes))
        first = c.recv_reply(serial, timeout=60)
        assert first.status == 1, "start should have failed: %r" % first
        # anything else arriving for this serial within a second is a duplicate reply
        extra = 0
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            try:
                p = c.recv_packet(timeout=max(0.01, deadline - time.monotonic()))
            except (TimeoutError, OSError, wire.ConnectionClosed) as e:
                if isinstance(e, wire.ConnectionClosed):
                    raise AssertionError("hearthd closed the connection after a failed start")
                break
            if p.serial == serial:
                extra += 1
                if extra >= 100:
                    break
        assert extra == 0, "%s%d extra replies to one DOMAIN_CREATE (error %r)" % (
            "at least " if extra >= 100 else "", extra, first.error())
        assert c.hostname()
    finally:
        c.close()
    h.check_alive("after a failed start")


def test_second_start_of_running_domain(guests):
    h = guests.hearth
    g = guests.define("twice1")
    guests.start(g)
    qpid = g.qemu_pid()
    cp = h.virsh("start", g.name, check=False)
    assert cp.returncode == 1 and "error: Domain is already active" in cp.stderr, cp.stderr
    c = h.connect()
    try:
        d = c.lookupByName(g.name)
        with pytest.raises(libvirt.libvirtError) as ei:
            d.create()
        assert ei.value.get_error_code() == libvirt.VIR_ERR_OPERATION_INVALID, ei.value
        assert "domain is already running" in str(ei.value), ei.value
        assert c.lookupByName(g.name).isActive() == 1, "connection unusable after the refused start"
        # a transient create of a running domain's name/uuid is refused as well
        with pytest.raises(libvirt.libvirtError) as ei:
            c.createXML(g.xml, 0)
        assert ei.value.get_error_code() == libvirt.VIR_ERR_OPERATION_INVALID, \
            (ei.value.get_error_code(), str(ei.value))
        assert "already active" in str(ei.value) or "already exists" in str(ei.value), ei.value
    finally:
        c.close()
    assert g.qemu_pid() == qpid, "a refused start must not touch the running QEMU"
    assert len(g.qemu_processes()) == 1
    if not guests.external:
        assert len(g.worker_processes()) == 1, g.worker_processes()
    assert g.domstate() == "running (booted)"
    destroy(g)


def test_undefine_running_persistent_domain(guests, event_loop):
    """libvirt: undefining a running persistent domain makes it transient; it disappears when
    it stops."""
    h = guests.hearth
    ev = guests.listen()
    g = guests.define("und1")
    guests.start(g)
    qpid = g.qemu_pid()
    cp = h.virsh("undefine", g.name)
    assert "Domain 'und1' has been undefined" in cp.stdout, cp.stdout
    assert ev.wait_for(g.name, UNDEFINED, UNDEF_REMOVED), ev.of(g.name)
    info = g.dominfo()
    assert info["Persistent"] == "no" and info["State"] == "running", info
    assert parse_list(h.virsh("list", "--all").stdout)[0][1:] == ("und1", "running")
    if not guests.external:
        assert not (h.qemu_dir / "und1.xml").exists(), "definition file still on disk"
    assert g.qemu_pid() == qpid
    cp = h.virsh("destroy", g.name)
    assert "Domain 'und1' destroyed" in cp.stdout
    assert ev.wait_for(g.name, STOPPED, ST_DESTROYED), ev.of(g.name)
    assert parse_list(h.virsh("list", "--all").stdout) == []
    cp = h.virsh("dominfo", g.name, check=False)
    assert cp.returncode == 1 and "failed to get domain 'und1'" in cp.stderr, cp.stderr
    g.wait_no_processes()
    if not guests.external:
        h.restart()
        assert parse_list(h.virsh("list", "--all").stdout) == [], "undefined domain came back"
