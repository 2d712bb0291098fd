"""External disk-only snapshots (issue 5) with the stock virsh: snapshot-create-as live and
offline, snapshot-list/-info/-dumpxml/-current/-parent, domblklist, the image chains as
`qemu-img info --backing-chain` shows them, atomicity with two disks, metadata persistence,
undefine with snapshots, bad input, and revert/delete of external snapshots (beyond libvirt 9.0).

The guests are the test guest from tests/guest/ (TCG, direct kernel boot) with qcow2 disks in a
per-test directory; a test drives the guest's shell over its serial pty (DiskGuest.shell) to
write byte patterns and read md5 sums of its disks, and checks the images with qemu-img once
the guest is stopped (an image QEMU holds open read-write can show stale qcow2 metadata).

The helpers here are shared with test_blockjobs.py.
"""

import hashlib
import json
import os
import re
import select
import subprocess
import termios
import time
import tty
import uuid as uuidlib
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import hearthlib
from hearthlib import HearthError, find_processes, kill_pids, wait_until

BOOT_TIMEOUT = float(os.environ.get("HEARTH_GUEST_BOOT_TIMEOUT", "90"))
MiB = 1024 * 1024
DISK_MIB = 32


# --------------------------------------------------------------------------- images
def qemu_img(*args, check=True):
    cp = subprocess.run(["qemu-img"] + [str(a) for a in args], capture_output=True, text=True)
    if check and cp.returncode != 0:
        raise AssertionError("qemu-img %s failed: %s%s" % (" ".join(map(str, args)), cp.stdout,
                                                             cp.stderr))
    return cp


def qemu_io(image, *cmds, fmt="qcow2"):
    argv = ["qemu-io", "-f", fmt]
    for c in cmds:
        argv += ["-c", c]
    cp = subprocess.run(argv + [str(image)], capture_output=True, text=True)
    assert cp.returncode == 0 and "failed" not in cp.stdout.lower(), cp.stdout + cp.stderr
    return cp.stdout


def backing_chain(image):
    """[(path, format)] of an image and its backing files, top first."""
    out = qemu_img("info", "-U", "--output=json", "--backing-chain", image).stdout
    return [(i["filename"], i["format"]) for i in json.loads(out)]


def image_md5(image):
    """md5 of the guest-visible content of an image (whole chain), as raw bytes."""
    raw = Path(str(image) + ".raw-check")
    qemu_img("convert", "-U", "-O", "raw", image, raw)
    try:
        return hashlib.md5(raw.read_bytes()).hexdigest()
    finally:
        raw.unlink()


def make_chain(d, name="mid", base_fill=0xAA, mid_fill=0xBB, mid_mib=4, size_mib=DISK_MIB):
    """base.qcow2 (first 4 MiB = base_fill) <- NAME.qcow2 (mid_mib MiB of mid_fill at 8 MiB)."""
    base, top = d / ("%s-base.qcow2" % name), d / ("%s.qcow2" % name)
    qemu_img("create", "-q", "-f", "qcow2", base, "%dM" % size_mib)
    qemu_io(base, "write -P 0x%02x 0 4M" % base_fill)
    qemu_img("create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", base, top)
    if mid_mib:
        qemu_io(top, "write -P 0x%02x 8M %dM" % (mid_fill, mid_mib))
    return top, base


def disk_xml(path, target, fmt="qcow2"):
    return ("    <disk type='file' device='disk'>\n      <driver name='qemu' type='%s'/>\n"
            "      <source file='%s'/>\n      <target dev='%s' bus='virtio'/>\n    </disk>\n"
            % (fmt, path, target))


# --------------------------------------------------------------------------- the guest's shell
class SerialShell:
    """The test guest's shell on its serial pty (opened directly, raw)."""

    def __init__(self, pty_path):
        self.fd = os.open(pty_path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        tty.setraw(self.fd)
        attrs = termios.tcgetattr(self.fd)
        attrs[3] &= ~termios.ECHO
        termios.tcsetattr(self.fd, termios.TCSANOW, attrs)
        self.buf = b""
        self.pos = 0
        self.n = 0

    def _read(self, timeout):
        r, _, _ = select.select([self.fd], [], [], timeout)
        if r:
            try:
                self.buf += os.read(self.fd, 65536)
            except BlockingIOError:
                pass
            except OSError:
                time.sleep(min(timeout, 0.05))

    def expect(self, pattern, timeout):
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            m = rx.search(self.buf, self.pos)
            if m:
                self.pos = m.end()
                return m
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("guest shell: no %r within %ds; last output:\n%r"
                                     % (pattern, timeout, self.buf[-2000:]))
            self._read(min(left, 0.2))

    def send(self, text):
        data = text.encode()
        while data:
            try:
                n = os.write(self.fd, data)
                data = data[n:]
            except BlockingIOError:
                time.sleep(0.01)

    def run(self, cmd, timeout=120):
        """Run cmd in the guest; returns its output (text before the marker)."""
        self.n += 1
        tag = "HEARTH-RC-%d=" % self.n
        start = len(self.buf)
        self.send("%s; echo %s$?.\n" % (cmd, tag.replace("=", "\\=")))
        m = self.expect(re.escape(tag.encode()) + rb"(\d+)\.", timeout)
        out = self.buf[start:m.start()].decode(errors="replace")
        rc = int(m.group(1))
        assert rc == 0, "guest command %r failed (status %d):\n%s" % (cmd, rc, out)
        return out

    def write_pattern(self, dev, byte, off_mib, count_mib, timeout=120):
        out = self.run("hearth-write-pattern %s 0x%02x %d %d" % (dev, byte, off_mib, count_mib),
                       timeout)
        assert "HEARTH-WRITE-OK" in out, out

    def md5(self, dev, timeout=180):
        out = self.run("hearth-md5 %s" % dev, timeout)
        m = re.search(r"HEARTH-MD5 ([0-9a-f]{32}) ", out)
        assert m, out
        return m.group(1)

    def close(self):
        try:
            os.close(self.fd)
        except OSError:
            pass


class DiskGuest:
    """A test-guest domain with qcow2 disks and a pty serial console."""

    def __init__(self, env, name, disks):
        self.env = env
        self.hearth = env.hearth
        self.name = name
        self.uuid = str(uuidlib.uuid4())
        self.disks = disks  # [(path, target)]
        devices = "".join(disk_xml(p, t) for p, t in disks)
        self.xml = hearthlib.guest_domain_xml(name, self.uuid, env.kernel, env.initrd, serial="pty",
                                              devices=devices)
        self.xml_path = env.tmp / ("%s.xml" % name)
        self.xml_path.write_text(self.xml)
        self.shell = None

    def virsh(self, *args, **kw):
        return self.hearth.virsh(*args, **kw)

    def define(self):
        self.virsh("define", self.xml_path)
        return self

    def start(self, wait_shell=True):
        self.virsh("start", self.name, timeout=60)
        if wait_shell:
            self.open_shell(wait_marker=True)
        return self

    def open_shell(self, wait_marker=False):
        if self.shell:
            self.shell.close()
        src = self.live_xml().find("devices/serial/source")
        assert src is not None and src.get("path"), ET.tostring(self.live_xml()).decode()
        self.shell = SerialShell(src.get("path"))
        if wait_marker:
            try:
                self.shell.expect(re.escape(hearthlib.GUEST_MARKER.encode()), BOOT_TIMEOUT)
            except AssertionError:
                # opened after the marker went by: the shell answers anyway
                self.shell.run("true", 10)
        return self.shell

    def destroy(self):
        self.virsh("destroy", self.name)
        if self.shell:
            self.shell.close()
            self.shell = None
        assert wait_until(lambda: not self.qemu_pids(), 15, 0.1), "QEMU of %s still runs" % self.name

    def qemu_pids(self):
        return [p for p, argv in find_processes([self.uuid]).items()
                if "qemu-system" in os.path.basename(argv[0])]

    def live_xml(self):
        return ET.fromstring(self.virsh("dumpxml", self.name).stdout)

    def inactive_xml(self):
        return ET.fromstring(self.virsh("dumpxml", "--inactive", self.name).stdout)

    def blklist(self):
        out = self.virsh("domblklist", self.name).stdout
        rows = {}
        for line in out.splitlines()[2:]:
            parts = line.split()
            if len(parts) == 2:
                rows[parts[0]] = parts[1]
        return rows

    def disk_chain(self, target, inactive=False):
        """[(path, index)] of a disk's chain in the domain XML, top first."""
        root = self.inactive_xml() if inactive else self.live_xml()
        for d in root.findall("devices/disk"):
            if d.find("target").get("dev") != target:
                continue
            out = []
            src = d.find("source")
            out.append((src.get("file"), src.get("index")))
            b = d.find("backingStore")
            while b is not None and b.find("source") is not None:
                out.append((b.find("source").get("file"), b.get("index")))
                b = b.find("backingStore")
            return out
        raise AssertionError("no disk %s" % target)


class SnapEnv:
    def __init__(self, hearth, images, tmp):
        self.hearth = hearth
        self.kernel, self.initrd = images
        self.tmp = tmp
        self.img = tmp / "img"
        self.img.mkdir()
        self.guests = []

    def guest(self, name, disks):
        g = DiskGuest(self, name, disks)
        self.guests.append(g)
        return g

    def teardown(self):
        for g in self.guests:
            if g.shell:
                g.shell.close()
        needles = [g.uuid for g in self.guests] + [str(self.hearth.rundir / "qemu") + "/"]
        exclude = {self.hearth.pid} if self.hearth.pid else set()
        for _ in range(5):
            found = find_processes(needles, exclude)
            if not found:
                break
            kill_pids(found)
            time.sleep(0.3)


@pytest.fixture(scope="session")
def guest_images():
    try:
        return hearthlib.build_guest()
    except HearthError as e:
        pytest.fail("cannot build the test guest with tests/guest/build-guest.sh:\n%s" % e,
                    pytrace=False)


@pytest.fixture
def snapenv(hearth, guest_images, tmp_path):
    env = SnapEnv(hearth, guest_images, tmp_path)
    yield env
    env.teardown()


def snapshot_names(h, dom):
    return h.virsh("snapshot-list", dom, "--name").stdout.split()


def snapshot_xml(h, dom, name):
    return ET.fromstring(h.virsh("snapshot-dumpxml", dom, name).stdout)


def files_in(d):
    return sorted(p.name for p in Path(d).iterdir() if not p.name.endswith(".xml"))


# --------------------------------------------------------------------------- tests
def test_offline_snapshot(snapenv):
    h = snapenv.hearth
    top, base = make_chain(snapenv.img)
    data = snapenv.img / "data.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", data, "16M")
    g = snapenv.guest("off1", [(top, "vda"), (data, "vdb")]).define()

    cp = h.virsh("snapshot-create-as", g.name, "s1", "--disk-only", "--atomic")
    assert cp.stdout.strip() == "Domain snapshot s1 created", cp.stdout
    # libvirt's default names: the image path without its suffix, '.', the snapshot name
    o1, o2 = snapenv.img / "mid.s1", snapenv.img / "data.s1"
    assert backing_chain(o1) == [(str(o1), "qcow2"), (str(top), "qcow2"), (str(base), "qcow2")]
    assert backing_chain(o2) == [(str(o2), "qcow2"), (str(data), "qcow2")]
    assert g.blklist() == {"vda": str(o1), "vdb": str(o2)}
    # the persistent definition names only the new top image
    assert g.disk_chain("vda", inactive=True) == [(str(o1), None)]

    x = snapshot_xml(h, g.name, "s1")
    assert x.findtext("name") == "s1" and x.findtext("state") == "shutoff"
    assert x.find("parent") is None
    assert int(x.findtext("creationTime")) >= int(time.time()) - 60
    assert x.find("memory").get("snapshot") == "no"
    disks = {d.get("name"): d for d in x.findall("disks/disk")}
    assert disks["vda"].get("snapshot") == "external" and disks["vda"].get("type") == "file"
    assert disks["vda"].find("source").get("file") == str(o1)
    assert disks["vda"].find("driver").get("type") == "qcow2"
    # <domain> is the definition at snapshot time: still on the old images
    assert x.find("domain/devices/disk/source").get("file") == str(top)
    assert x.find("inactiveDomain") is None and x.find("active") is None

    out = h.virsh("snapshot-list", g.name).stdout
    assert re.search(r"^ s1\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4}\s+shutoff\s*$", out, re.M), out
    info = hearthlib.parse_colon_table(h.virsh("snapshot-info", g.name, "s1").stdout)
    assert info["Name"] == "s1" and info["Current"] == "yes" and info["State"] == "shutoff"
    assert info["Location"] == "external" and info["Parent"] == "-" and info["Metadata"] == "yes"

    # a second one: a child, named after the new top
    h.virsh("snapshot-create-as", g.name, "s2", "--disk-only")
    assert (snapenv.img / "mid.s2").exists()
    assert h.virsh("snapshot-parent", g.name, "s2").stdout.strip() == "s1"
    assert h.virsh("snapshot-current", g.name, "--name").stdout.strip() == "s2"
    tree = h.virsh("snapshot-list", g.name, "--tree").stdout
    assert re.search(r"s1\n\s+\|\n\s+\+- s2", tree), tree
    cp = h.virsh("snapshot-parent", g.name, "s1", check=False)
    assert cp.returncode == 1 and "has no parent" in cp.stderr, cp.stderr

    # the guest boots from the overlays and sees the data below them
    want = image_md5(top)
    g.start()
    assert g.shell.md5("/dev/vda") == want
    g.destroy()


def test_live_snapshot_two_disks(snapenv):
    h = snapenv.hearth
    top, base = make_chain(snapenv.img)
    data = snapenv.img / "data.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", data, "16M")
    g = snapenv.guest("live1", [(top, "vda"), (data, "vdb")]).define().start()
    sh = g.shell
    sh.write_pattern("/dev/vda", 0xC1, 12, 2)
    sh.write_pattern("/dev/vdb", 0xD1, 0, 2)
    ref_a, ref_b = sh.md5("/dev/vda"), sh.md5("/dev/vdb")
    # node numbers as the QEMU command line has them: vda's images, then vdb's
    assert [i for _, i in g.disk_chain("vda")] == ["1", "2"], g.disk_chain("vda")
    assert [i for _, i in g.disk_chain("vdb")] == ["3"], g.disk_chain("vdb")

    cp = h.virsh("snapshot-create-as", g.name, "s1", "--disk-only", "--atomic")
    assert cp.stdout.strip() == "Domain snapshot s1 created"
    o1, o2 = snapenv.img / "mid.s1", snapenv.img / "data.s1"
    assert g.blklist() == {"vda": str(o1), "vdb": str(o2)}
    # the live XML: the overlay on top with a new node number, the old chain below it
    chain = g.disk_chain("vda")
    assert [p for p, _ in chain] == [str(o1), str(top), str(base)], chain
    assert chain[0][1] == "4" and [i for _, i in chain[1:]] == ["1", "2"], chain
    assert [i for _, i in g.disk_chain("vdb")] == ["5", "3"], g.disk_chain("vdb")
    assert g.disk_chain("vda", inactive=True) == [(str(o1), None)]
    assert oct(o1.stat().st_mode & 0o777) == "0o600"
    assert backing_chain(o1) == [(str(o1), "qcow2"), (str(top), "qcow2"), (str(base), "qcow2")]

    x = snapshot_xml(h, g.name, "s1")
    assert x.findtext("state") == "disk-snapshot"
    assert x.find("inactiveDomain") is not None
    assert x.find("domain/devices/disk/source").get("file") == str(top)
    assert x.find("domain/devices/disk/source").get("index") is None

    # the guest sees the same data, and its new writes go to the overlays only
    assert sh.md5("/dev/vda") == ref_a and sh.md5("/dev/vdb") == ref_b
    sh.write_pattern("/dev/vda", 0xC2, 20, 1)
    after = sh.md5("/dev/vda")
    g.destroy()
    assert image_md5(top) == ref_a, "the snapshot's image changed after the snapshot"
    assert image_md5(o1) == after
    assert image_md5(o2) == ref_b


def test_atomic_failure_changes_nothing(snapenv, tmp_path):
    """The second disk's overlay cannot be created (its filesystem is full): neither disk
    moves, the first overlay is removed again, and no metadata is written."""
    h = snapenv.hearth
    top, base = make_chain(snapenv.img)
    small = tmp_path / "small"
    small.mkdir()
    cp = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(small)],
                        capture_output=True, text=True)
    assert cp.returncode == 0, "cannot mount a small tmpfs: %s" % cp.stderr
    try:
        data = small / "data.qcow2"
        qemu_img("create", "-q", "-f", "qcow2", data, "16M")
        g = snapenv.guest("atom1", [(top, "vda"), (data, "vdb")]).define().start()
        # fill what is left of the small filesystem
        subprocess.run(["dd", "if=/dev/zero", "of=%s" % (small / "fill"), "bs=4k"],
                       capture_output=True)
        before_live = g.live_xml()
        before_files = (files_in(snapenv.img), files_in(small))
        cp = h.virsh("snapshot-create-as", g.name, "s1", "--disk-only", "--atomic", check=False)
        assert cp.returncode == 1, cp.stdout
        assert "data.s1" in cp.stderr, cp.stderr
        assert (files_in(snapenv.img), files_in(small)) == before_files
        assert g.blklist() == {"vda": str(top), "vdb": str(data)}
        assert ET.tostring(g.live_xml().find("devices")) == ET.tostring(before_live.find("devices"))
        assert snapshot_names(h, g.name) == []
        # QEMU has no stray nodes: the same snapshot with room works at once
        (small / "fill").unlink()
        h.virsh("snapshot-create-as", g.name, "s1", "--disk-only", "--atomic")
        assert g.blklist() == {"vda": str(snapenv.img / "mid.s1"), "vdb": str(small / "data.s1")}
        g.shell.run("true")
        g.destroy()
    finally:
        subprocess.run(["umount", "-l", str(small)], capture_output=True)


def test_bad_input_changes_nothing(snapenv, tmp_path):
    h = snapenv.hearth
    top, base = make_chain(snapenv.img)
    g = snapenv.guest("bad1", [(top, "vda")]).define()
    h.virsh("snapshot-create-as", g.name, "s1", "--disk-only")
    outside = tmp_path / "elsewhere"
    outside.mkdir()

    def refused(args, code_text, message):
        before = (files_in(snapenv.img), files_in(outside), g.blklist(),
                  snapshot_names(h, g.name))
        cp = h.virsh(*args, check=False)
        assert cp.returncode == 1, (args, cp.stdout)
        assert code_text in cp.stderr and message in cp.stderr, (args, cp.stderr)
        assert (files_in(snapenv.img), files_in(outside), g.blklist(),
                snapshot_names(h, g.name)) == before

    refused(["snapshot-create-as", g.name, "s2", "--disk-only", "--diskspec",
             "vdz,snapshot=external"], "unsupported configuration", "no disk named 'vdz'")
    refused(["snapshot-create-as", g.name, "s1", "--disk-only"], "operation failed",
            "domain moment s1 already exists")
    refused(["snapshot-create-as", g.name, "s3", "--disk-only", "--diskspec",
             "vda,file=%s" % (outside / "x.qcow2")], "invalid argument",
            "is outside the directories")
    refused(["snapshot-create-as", g.name, "s3", "--disk-only", "--diskspec",
             "vda,file=%s" % (snapenv.img / "mid-base.qcow2")], "unsupported configuration",
            "already")
    refused(["snapshot-create-as", g.name, "s3", "--disk-only", "--quiesce"],
            "this function is not supported", "guest agent")
    refused(["snapshot-create-as", g.name, "s3", "--memspec", "file=%s" % (snapenv.img / "m")],
            "unsupported configuration", "memory snapshots are not supported")
    refused(["snapshot-create-as", g.name, "s3"], "this function is not supported",
            "internal snapshots are not supported")
    refused(["snapshot-dumpxml", g.name, "nosuch"], "Domain snapshot not found",
            "no domain snapshot with matching name 'nosuch'")
    g.start(wait_shell=False)
    refused(["snapshot-create-as", g.name, "s3"], "unsupported configuration", "memory")
    refused(["snapshot-create-as", g.name, "s3", "--disk-only", "--diskspec",
             "vda,file=/nonexistent/dir/x.qcow2"], "invalid argument", "does not exist")
    g.destroy()


def test_metadata_survives_restart_and_undefine(snapenv):
    h = snapenv.hearth
    top, base = make_chain(snapenv.img)
    g = snapenv.guest("meta1", [(top, "vda")]).define()
    for n in ("a", "b", "c"):
        h.virsh("snapshot-create-as", g.name, n, "--disk-only", "--description", "snap %s" % n)
    files = sorted(os.listdir(h.statedir / "qemu" / "snapshot" / g.name))
    assert files == ["a.xml", "b.xml", "c.xml"]
    assert oct((h.statedir / "qemu" / "snapshot" / g.name / "a.xml").stat().st_mode & 0o777) == "0o600"
    h.restart()
    assert snapshot_names(h, g.name) == ["a", "b", "c"]
    assert h.virsh("snapshot-current", g.name, "--name").stdout.strip() == "c"
    assert snapshot_xml(h, g.name, "b").findtext("description") == "snap b"
    assert h.virsh("snapshot-list", g.name, "--roots", "--name").stdout.split() == ["a"]
    assert h.virsh("snapshot-list", g.name, "--leaves", "--name").stdout.split() == ["c"]
    assert h.virsh("snapshot-list", g.name, "--from", "a", "--descendants",
                   "--name").stdout.split() == ["b", "c"]
    assert h.virsh("snapshot-list", g.name, "--disk-only", "--name").stdout.split() == []
    assert h.virsh("snapshot-list", g.name, "--inactive", "--name").stdout.split() == ["a", "b", "c"]

    c = h.connect()
    try:
        d = c.lookupByName(g.name)
        assert d.snapshotNum() == 3 and d.hasCurrentSnapshot() == 1
        s = d.snapshotLookupByName("b")
        assert s.isCurrent() == 0 and s.hasMetadata() == 1 and s.numChildren() == 1
        assert [x.getName() for x in s.listAllChildren()] == ["c"]
        assert s.getParent().getName() == "a"
    finally:
        c.close()

    # metadata-only delete re-parents the children
    h.virsh("snapshot-delete", g.name, "b", "--metadata")
    assert h.virsh("snapshot-parent", g.name, "c").stdout.strip() == "a"
    assert (snapenv.img / "mid.b").exists(), "--metadata must leave the images alone"

    cp = h.virsh("undefine", g.name, check=False)
    assert cp.returncode == 1 and "cannot delete inactive domain with 2 snapshots" in cp.stderr, \
        cp.stderr
    h.virsh("undefine", g.name, "--snapshots-metadata")
    assert not (h.statedir / "qemu" / "snapshot" / g.name).exists()


# --------------------------------------------------------------------------- beyond libvirt 9.0
def test_revert_live_and_offline(snapenv):
    h = snapenv.hearth
    top, base = make_chain(snapenv.img)
    g = snapenv.guest("rev1", [(top, "vda")]).define()
    h.virsh("snapshot-create-as", g.name, "s1", "--disk-only")
    s1_state = image_md5(top)  # what s1 froze
    g.start()
    g.shell.write_pattern("/dev/vda", 0xA1, 12, 2)
    state_a = g.shell.md5("/dev/vda")
    h.virsh("snapshot-create-as", g.name, "s2", "--disk-only", "--atomic")
    g.shell.write_pattern("/dev/vda", 0xA2, 16, 2)

    # running: stop, switch, start again from what s1 froze
    cp = h.virsh("snapshot-revert", g.name, "s1")
    assert cp.returncode == 0, cp.stderr
    assert g.virsh("domstate", g.name).stdout.strip() == "running"
    r1 = snapenv.img / "mid.s1-revert1"
    assert g.blklist() == {"vda": str(r1)}
    assert backing_chain(r1)[:2] == [(str(r1), "qcow2"), (str(top), "qcow2")]
    assert h.virsh("snapshot-current", g.name, "--name").stdout.strip() == "s1"
    g.open_shell(wait_marker=True)
    assert g.shell.md5("/dev/vda") == s1_state
    # nothing of the other branch was touched
    assert (snapenv.img / "mid.s1").exists() and (snapenv.img / "mid.s2").exists()
    g.shell.write_pattern("/dev/vda", 0xA3, 20, 1)
    g.destroy()

    # shut off: the definition moves, the domain stays off
    h.virsh("snapshot-revert", g.name, "s2")
    assert g.virsh("domstate", g.name).stdout.strip() == "shut off"
    r2 = snapenv.img / "mid.s2-revert1"
    assert g.disk_chain("vda", inactive=True) == [(str(r2), None)]
    assert backing_chain(r2)[1] == (str(snapenv.img / "mid.s1"), "qcow2")
    assert image_md5(r2) == state_a
    # --running starts it
    h.virsh("snapshot-revert", g.name, "s1", "--running")
    assert g.virsh("domstate", g.name).stdout.strip() == "running"
    assert g.blklist() == {"vda": str(snapenv.img / "mid.s1-revert2")}
    g.open_shell(wait_marker=True)
    assert g.shell.md5("/dev/vda") == s1_state
    g.destroy()


def test_delete_merges_live(snapenv):
    h = snapenv.hearth
    top, base = make_chain(snapenv.img)
    g = snapenv.guest("del1", [(top, "vda")]).define().start()
    h.virsh("snapshot-create-as", g.name, "s1", "--disk-only", "--atomic")
    g.shell.write_pattern("/dev/vda", 0xB1, 12, 2)
    h.virsh("snapshot-create-as", g.name, "s2", "--disk-only", "--atomic")
    g.shell.write_pattern("/dev/vda", 0xB2, 16, 2)
    ref = g.shell.md5("/dev/vda")
    s1, s2 = snapenv.img / "mid.s1", snapenv.img / "mid.s2"

    # s1's overlay is a middle layer now: committed into the image s1 froze
    h.virsh("snapshot-delete", g.name, "s1")
    assert snapshot_names(h, g.name) == ["s2"]
    assert [p for p, _ in g.disk_chain("vda")] == [str(s2), str(top), str(base)]
    x = snapshot_xml(h, g.name, "s2")
    assert x.find("parent") is None
    assert x.find("domain/devices/disk/source").get("file") == str(top)
    assert g.shell.md5("/dev/vda") == ref

    # s2's overlay is the active layer: committed and pivoted, the overlay removed
    h.virsh("snapshot-delete", g.name, "s2")
    assert snapshot_names(h, g.name) == []
    assert g.blklist() == {"vda": str(top)}
    assert g.disk_chain("vda", inactive=True) == [(str(top), None)]
    assert not s2.exists()
    assert g.shell.md5("/dev/vda") == ref
    g.destroy()
    assert backing_chain(top) == [(str(top), "qcow2"), (str(base), "qcow2")]
    assert image_md5(top) == ref


def test_delete_merges_offline_with_children(snapenv):
    h = snapenv.hearth
    top, base = make_chain(snapenv.img)
    g = snapenv.guest("del2", [(top, "vda")]).define()
    names = ["o1", "o2", "o3"]
    for i, n in enumerate(names):
        h.virsh("snapshot-create-as", g.name, n, "--disk-only")
        over = snapenv.img / ("mid.%s" % n)
        subprocess.run(["qemu-io", "-f", "qcow2", "-c", "write -P 0x%02x %dM 1M" % (0xD0 + i, 20 + i),
                        str(over)], check=True, capture_output=True)
    ref = image_md5(snapenv.img / "mid.o3")
    # o2 and its child o3: o3's overlay (active) merges first, then o2's
    h.virsh("snapshot-delete", g.name, "o2", "--children")
    assert snapshot_names(h, g.name) == ["o1"]
    o1 = snapenv.img / "mid.o1"
    assert g.disk_chain("vda", inactive=True) == [(str(o1), None)]
    assert backing_chain(o1) == [(str(o1), "qcow2"), (str(top), "qcow2"), (str(base), "qcow2")]
    assert image_md5(o1) == ref
    assert not (snapenv.img / "mid.o2").exists() and not (snapenv.img / "mid.o3").exists()
    # --metadata leaves the images
    h.virsh("snapshot-delete", g.name, "o1", "--metadata")
    assert o1.exists() and g.disk_chain("vda", inactive=True) == [(str(o1), None)]
    g.start()
    assert g.shell.md5("/dev/vda") == ref
    g.destroy()


def test_worker_snapshot_rollback(snapenv):
    """The worker's side of atomicity, driven on its control socket: the second disk's node does
    not exist, so the transaction cannot happen; the first overlay's nodes and file go again."""
    import socket
    h = snapenv.hearth
    top, base = make_chain(snapenv.img)
    data = snapenv.img / "data.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", data, "16M")
    g = snapenv.guest("wroll", [(top, "vda"), (data, "vdb")]).define().start(wait_shell=False)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(str(h.rundir / "qemu" / g.name / "control.sock"))
    f = sock.makefile("rw")
    json.loads(f.readline())  # greeting

    def call(n, cmd, **args):
        f.write(json.dumps(dict(args, id=n, cmd=cmd)) + "\n")
        f.flush()
        while True:
            msg = json.loads(f.readline())
            if msg.get("id") == n:
                return msg

    o1, o2 = snapenv.img / "w.o1", snapenv.img / "w.o2"
    qemu_img("create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", data, o2)
    # both overlays are opened, then the transaction fails on the second disk's node
    r = call(1, "snapshot", disks=[
        {"target": "vda", "node": 1, "overlay": 90, "file": str(o1), "backing_file": str(top),
         "backing_fmt": "qcow2", "create": True},
        {"target": "vdb", "node": 77, "overlay": 91, "file": str(o2), "backing_file": str(data),
         "backing_fmt": "qcow2", "create": False}])
    assert "error" in r and "libvirt-77-format" in r["error"]["message"], r
    assert not o1.exists(), "the overlay the worker made must go"
    nodes = call(2, "qmp", execute="query-named-block-nodes", arguments={"flat": True})["return"]
    names = {n["node-name"] for n in nodes}
    assert not {"libvirt-90-storage", "libvirt-90-format", "libvirt-91-storage",
                "libvirt-91-format"} & names, names
    blocks = call(3, "qmp", execute="query-block")["return"]
    assert sorted(b["inserted"]["node-name"] for b in blocks if b.get("inserted")) == \
        ["libvirt-1-format", "libvirt-3-format"], blocks
    # the same through a transaction that QEMU refuses: both overlays exist, the second node is
    # not a qcow2 image QEMU can open
    o2.write_bytes(b"not an image")
    r = call(4, "snapshot", disks=[
        {"target": "vda", "node": 1, "overlay": 92, "file": str(o1), "backing_file": str(top),
         "backing_fmt": "qcow2", "create": True},
        {"target": "vdb", "node": 3, "overlay": 93, "file": str(o2), "backing_file": str(data),
         "backing_fmt": "qcow2", "create": False}])
    assert "error" in r, r
    assert not o1.exists(), "the overlay the worker made must go"
    assert o2.read_bytes() == b"not an image", "a file the worker did not make is left alone"
    names = {n["node-name"] for n in call(5, "qmp", execute="query-named-block-nodes",
                                         arguments={"flat": True})["return"]}
    assert not {"libvirt-92-storage", "libvirt-92-format", "libvirt-93-storage"} & names, names
    sock.close()
    assert g.blklist() == {"vda": str(top), "vdb": str(data)}
    g.destroy()


def test_reuse_external_and_no_metadata(snapenv):
    h = snapenv.hearth
    top, base = make_chain(snapenv.img)
    g = snapenv.guest("reuse1", [(top, "vda")]).define().start()
    mine = snapenv.img / "mine.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", top, mine)
    before = mine.read_bytes()
    # REUSE_EXT: the file given is used as it is
    h.virsh("snapshot-create-as", g.name, "r1", "--disk-only", "--reuse-external", "--diskspec",
            "vda,file=%s" % mine)
    assert g.blklist() == {"vda": str(mine)}
    assert mine.read_bytes()[:4] == before[:4]
    cp = h.virsh("snapshot-create-as", g.name, "r2", "--disk-only", "--reuse-external",
                 "--diskspec", "vda,file=%s" % (snapenv.img / "missing.qcow2"), check=False)
    assert cp.returncode == 1 and "missing existing file" in cp.stderr, cp.stderr
    # NO_METADATA: the disks move, nothing is recorded
    h.virsh("snapshot-create-as", g.name, "n1", "--disk-only", "--no-metadata")
    assert g.blklist() == {"vda": str(snapenv.img / "mine.n1")}
    assert snapshot_names(h, g.name) == ["r1"]
    g.shell.run("true")
    # HALT: the guest is stopped once its disks have moved
    h.virsh("snapshot-create-as", g.name, "h1", "--disk-only", "--halt")
    assert wait_until(lambda: h.virsh("domstate", g.name).stdout.strip() == "shut off", 15, 0.1)
    assert g.disk_chain("vda", inactive=True) == [(str(snapenv.img / "mine.h1"), None)]
    assert backing_chain(snapenv.img / "mine.n1")[:3] == [
        (str(snapenv.img / "mine.n1"), "qcow2"), (str(mine), "qcow2"), (str(top), "qcow2")]


def test_snapshot_list_filters_and_rename(hearth, tmp_path):
    """list --with-snapshot/--without-snapshot see snapshot metadata, and a domain with
    snapshots cannot be renamed (its snapshots name it), as in libvirt."""
    import subprocess
    img = tmp_path / "f1.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(img), "16M"], check=True)
    xml = ("<domain type='qemu'><name>f1</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>"
           "<os><type arch='x86_64' machine='pc'>hvm</type></os><devices>"
           "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
           "<source file='%s'/><target dev='vda' bus='virtio'/></disk></devices></domain>" % img)
    hearth.virsh("define", "/dev/stdin", input=xml)
    hearth.virsh("define", "/dev/stdin", input=xml.replace("<name>f1<", "<name>f2<")
                 .replace(str(img), str(tmp_path / "other.qcow2")))
    hearth.virsh("snapshot-create-as", "f1", "s1", "--disk-only", "--atomic")
    assert hearth.virsh("list", "--all", "--with-snapshot", "--name").stdout.split() == ["f1"]
    assert hearth.virsh("list", "--all", "--without-snapshot", "--name").stdout.split() == ["f2"]
    cp = hearth.virsh("domrename", "f1", "f9", check=False)
    assert cp.returncode == 1 and "cannot rename domain with snapshots" in cp.stderr, cp.stderr
    assert hearth.virsh("snapshot-list", "f1", "--name").stdout.split() == ["s1"]
