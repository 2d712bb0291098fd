"""Block jobs (issue 5) with the stock virsh and python3-libvirt: blockpull (with and without a
base), active commit with pivot and with abort, commit of a middle layer, blockjob --info /
--bandwidth / --abort / --pivot on throttled jobs, the BLOCK_JOB and BLOCK_JOB_2 events, bad
input, a hearthd kill -9 in the middle of a job, and jobs on a shut-off domain (qemu-img).

Every data check compares what the guest reads (md5 of the whole disk, inside the guest)
with the images once QEMU is gone (qemu-img convert of the final chain).
"""

import re
import subprocess
import threading
import time
import xml.etree.ElementTree as ET

import libvirt
import pytest

from hearthlib import parse_colon_table, read_kv_file, wait_until
from test_snapshots import (backing_chain, files_in, guest_images, image_md5, make_chain,  # noqa: F401
                            qemu_img, snapenv, snapshot_xml)

COMPLETED = libvirt.VIR_DOMAIN_BLOCK_JOB_COMPLETED
FAILED = libvirt.VIR_DOMAIN_BLOCK_JOB_FAILED
CANCELED = libvirt.VIR_DOMAIN_BLOCK_JOB_CANCELED
READY = libvirt.VIR_DOMAIN_BLOCK_JOB_READY
PULL = libvirt.VIR_DOMAIN_BLOCK_JOB_TYPE_PULL
COMMIT = libvirt.VIR_DOMAIN_BLOCK_JOB_TYPE_COMMIT
ACTIVE_COMMIT = libvirt.VIR_DOMAIN_BLOCK_JOB_TYPE_ACTIVE_COMMIT


class JobEvents:
    """BLOCK_JOB (path) and BLOCK_JOB_2 (target) events of one connection."""

    def __init__(self, hearth, dom_name):
        self.conn = hearth.connect()
        self.dom = self.conn.lookupByName(dom_name)
        self.events = []
        self.cond = threading.Condition()
        self.ids = [
            self.conn.domainEventRegisterAny(self.dom, libvirt.VIR_DOMAIN_EVENT_ID_BLOCK_JOB,
                                             self.cb1, None),
            self.conn.domainEventRegisterAny(self.dom, libvirt.VIR_DOMAIN_EVENT_ID_BLOCK_JOB_2,
                                             self.cb2, None),
        ]

    def cb1(self, conn, dom, path, typ, status, opaque):
        with self.cond:
            self.events.append(("path", path, typ, status, time.monotonic()))
            self.cond.notify_all()

    def cb2(self, conn, dom, dst, typ, status, opaque):
        with self.cond:
            self.events.append(("dst", dst, typ, status, time.monotonic()))
            self.cond.notify_all()

    def wait(self, kind, status, typ=None, timeout=60):
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for e in self.events:
                    if e[0] == kind and e[3] == status and typ in (None, e[2]):
                        return e
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("no %s event with status %d within %ds: %r"
                                         % (kind, status, timeout, self.events))
                self.cond.wait(left)

    def close(self):
        for i in self.ids:
            try:
                self.conn.domainEventDeregisterAny(i)
            except libvirt.libvirtError:
                pass
        self.conn.close()


def chain_with_snapshot(snapenv, name, mid_mib=4):
    """A running guest on mid-base <- mid <- mid.s1 (a live snapshot), guest data written."""
    top, base = make_chain(snapenv.img, mid_mib=mid_mib)
    g = snapenv.guest(name, [(top, "vda")]).define().start()
    g.virsh("snapshot-create-as", g.name, "s1", "--disk-only", "--atomic")
    g.shell.write_pattern("/dev/vda", 0xC1, 16, 2)
    return g, top, base, snapenv.img / "mid.s1"


def blockjob_info(g, disk="vda"):
    """What `virsh blockjob --info` shows (the progress bar goes to stderr)."""
    cp = g.virsh("blockjob", g.name, disk, "--info")
    return cp.stderr + cp.stdout


def no_job(g, disk="vda"):
    return "No current block job for %s" % disk in blockjob_info(g, disk)


# --------------------------------------------------------------------------- pull
def test_blockpull_wait(snapenv, event_loop):
    g, top, base, s1 = chain_with_snapshot(snapenv, "pull1")
    ref = g.shell.md5("/dev/vda")
    ev = JobEvents(g.hearth, g.name)
    try:
        cp = g.virsh("blockpull", g.name, "vda", "--wait", timeout=120)
        assert "Pull complete" in cp.stdout, cp.stdout
        e1, e2 = ev.wait("path", COMPLETED), ev.wait("dst", COMPLETED)
        assert e1[1] == str(s1) and e1[2] == PULL, e1
        assert e2[1] == "vda" and e2[2] == PULL, e2
    finally:
        ev.close()
    # live: the top image stands alone; persistent: just the top image
    assert g.disk_chain("vda") == [(str(s1), "3")], g.disk_chain("vda")
    dom = g.live_xml().find("devices/disk")
    assert dom.find("backingStore") is not None and dom.find("backingStore/source") is None
    assert g.disk_chain("vda", inactive=True) == [(str(s1), None)]
    assert no_job(g)
    assert g.shell.md5("/dev/vda") == ref
    # the pulled-out images stay, unchanged, for the snapshot that names them
    x = snapshot_xml(g.hearth, g.name, "s1")
    assert x.find("domain/devices/disk/source").get("file") == str(top)
    assert top.exists() and base.exists()
    g.destroy()
    assert backing_chain(s1) == [(str(s1), "qcow2")]
    assert image_md5(s1) == ref


def test_blockrebase_with_base(snapenv):
    g, top, base, s1 = chain_with_snapshot(snapenv, "pull2")
    ref = g.shell.md5("/dev/vda")
    cp = g.virsh("blockpull", g.name, "vda", "--base", base, "--wait", "--verbose", timeout=120)
    assert "Pull complete" in cp.stdout, cp.stdout
    assert [p for p, _ in g.disk_chain("vda")] == [str(s1), str(base)]
    assert [i for _, i in g.disk_chain("vda")] == ["3", "2"]
    assert g.shell.md5("/dev/vda") == ref
    g.destroy()
    assert backing_chain(s1) == [(str(s1), "qcow2"), (str(base), "qcow2")]
    assert image_md5(s1) == ref


# --------------------------------------------------------------------------- commit
def test_active_commit_pivot_wait(snapenv, event_loop):
    g, top, base, s1 = chain_with_snapshot(snapenv, "acom1")
    ref = g.shell.md5("/dev/vda")
    ev = JobEvents(g.hearth, g.name)
    try:
        cp = g.virsh("blockcommit", g.name, "vda", "--active", "--pivot", "--wait", timeout=120)
        assert "Successfully pivoted" in cp.stdout, cp.stdout
        assert ev.wait("dst", READY)[2] == ACTIVE_COMMIT
        e = ev.wait("path", COMPLETED)
        assert e[1] == str(base) and e[2] == ACTIVE_COMMIT, e
    finally:
        ev.close()
    # the disk now runs on the base, everywhere
    assert g.disk_chain("vda") == [(str(base), "2")], g.disk_chain("vda")
    assert g.disk_chain("vda", inactive=True) == [(str(base), None)]
    assert g.blklist() == {"vda": str(base)}
    assert g.shell.md5("/dev/vda") == ref
    # libvirt leaves the committed overlays on disk
    assert s1.exists() and top.exists()
    g.shell.write_pattern("/dev/vda", 0xC5, 24, 1)
    after = g.shell.md5("/dev/vda")
    g.destroy()
    assert backing_chain(base) == [(str(base), "qcow2")]
    assert image_md5(base) == after


def test_active_commit_throttled_info_pivot(snapenv):
    """The guest keeps writing during a throttled active commit; --info, --bandwidth, READY,
    then --pivot."""
    g, top, base, s1 = chain_with_snapshot(snapenv, "acom2")
    cp = g.virsh("blockcommit", g.name, "vda", "--active", "--bandwidth", "1")
    assert "Active Block Commit started" in cp.stdout, cp.stdout
    g.shell.write_pattern("/dev/vda", 0xC6, 20, 1)  # while the job runs
    info = blockjob_info(g)
    assert re.search(r"Active Block Commit: \[\s*\d+ %\]", info), info
    assert "Bandwidth limit: 1048576 bytes/s (1.000 MiB/s)" in info, info
    raw = g.virsh("blockjob", g.name, "vda", "--raw").stdout
    assert "type=Active Block Commit" in raw and "bandwidth=1" in raw, raw
    cp = g.virsh("blockjob", g.name, "vda", "--pivot", check=False)
    if cp.returncode == 0:
        pytest.fail("pivot before READY succeeded")
    assert "not ready for pivot yet" in cp.stderr, cp.stderr
    g.virsh("blockjob", g.name, "vda", "--bandwidth", "0")
    assert wait_until(lambda: "[100 %]" in blockjob_info(g), 60, 0.2), blockjob_info(g)
    g.shell.write_pattern("/dev/vda", 0xC7, 26, 1)  # after READY: mirrored to base too
    ref = g.shell.md5("/dev/vda")
    g.virsh("blockjob", g.name, "vda", "--pivot")
    assert no_job(g)
    assert g.blklist() == {"vda": str(base)}
    assert g.shell.md5("/dev/vda") == ref
    g.destroy()
    assert image_md5(base) == ref


def test_active_commit_abort_keeps_overlay(snapenv, event_loop):
    g, top, base, s1 = chain_with_snapshot(snapenv, "acom3")
    ev = JobEvents(g.hearth, g.name)
    try:
        cp = g.virsh("blockcommit", g.name, "vda", "--active", "--wait", timeout=120)
        assert "Now in synchronized phase" in cp.stdout, cp.stdout
        g.virsh("blockjob", g.name, "vda", "--abort")
        assert ev.wait("dst", CANCELED)[2] == ACTIVE_COMMIT
    finally:
        ev.close()
    assert no_job(g)
    assert [p for p, _ in g.disk_chain("vda")] == [str(s1), str(top), str(base)]
    ref = g.shell.md5("/dev/vda")
    g.destroy()
    assert image_md5(s1) == ref


def test_commit_middle_layer(snapenv):
    g, top, base, s1 = chain_with_snapshot(snapenv, "com1")
    g.virsh("snapshot-create-as", g.name, "s2", "--disk-only", "--atomic")
    s2 = snapenv.img / "mid.s2"
    g.shell.write_pattern("/dev/vda", 0xC2, 28, 1)
    ref = g.shell.md5("/dev/vda")
    cp = g.virsh("blockcommit", g.name, "vda", "--top", s1, "--base", top, "--wait", "--verbose",
                 timeout=120)
    assert "Commit complete" in cp.stdout, cp.stdout
    chain = g.disk_chain("vda")
    assert [p for p, _ in chain] == [str(s2), str(top), str(base)], chain
    assert [i for _, i in chain] == ["4", "1", "2"], chain
    assert g.shell.md5("/dev/vda") == ref
    # s2 was taken on top of s1's image, whose content now lives in mid.qcow2
    x = snapshot_xml(g.hearth, g.name, "s2")
    assert x.find("domain/devices/disk/source").get("file") == str(top)
    g.destroy()
    assert backing_chain(s2) == [(str(s2), "qcow2"), (str(top), "qcow2"), (str(base), "qcow2")]
    assert image_md5(s2) == ref


# --------------------------------------------------------------------------- throttled jobs
def test_throttled_pull_info_speed_abort(snapenv, event_loop):
    # 20 MiB to pull at 1-2 MiB/s: still running when aborted. (This connection registers both
    # block job events, as virsh --wait does, so its flags-0 queries are held up to 3 s.)
    g, top, base, s1 = chain_with_snapshot(snapenv, "thr1", mid_mib=20)
    ev = JobEvents(g.hearth, g.name)
    try:
        cp = g.virsh("blockpull", g.name, "vda", "--base", base, "--bandwidth", "1")
        assert cp.stdout.strip() == "Block Pull started", cp.stdout
        info = blockjob_info(g)
        assert re.search(r"Block Pull: \[\s*\d+ %\]", info), info
        assert "Bandwidth limit: 1048576 bytes/s (1.000 MiB/s)" in info, info
        j = ev.dom.blockJobInfo("vda", 0)
        assert j["type"] == PULL and j["bandwidth"] == 1 and 0 <= j["cur"] < j["end"], j
        assert ev.dom.blockJobInfo("vda", libvirt.VIR_DOMAIN_BLOCK_JOB_INFO_BANDWIDTH_BYTES)[
            "bandwidth"] == 1048576
        g.virsh("blockjob", g.name, "vda", "--bandwidth", "2")
        assert ev.dom.blockJobInfo("vda", 0)["bandwidth"] == 2
        # a second job on the busy disk is refused
        cp = g.virsh("blockcommit", g.name, "vda", "--active", check=False)
        assert cp.returncode == 1 and "already in active block job" in cp.stderr, cp.stderr
        cp = g.virsh("snapshot-create-as", g.name, "s2", "--disk-only", check=False)
        assert cp.returncode == 1 and "active block job" in cp.stderr, cp.stderr
        g.virsh("blockjob", g.name, "vda", "--abort")
        assert ev.wait("dst", CANCELED)[2] == PULL
        assert ev.wait("path", CANCELED)[1] == str(s1)
    finally:
        ev.close()
    assert no_job(g)
    # cancelled: the chain is as it was
    assert [p for p, _ in g.disk_chain("vda")] == [str(s1), str(top), str(base)]
    g.destroy()


def test_bad_job_input(snapenv):
    g, top, base, s1 = chain_with_snapshot(snapenv, "badj")
    before = (g.disk_chain("vda"), files_in(snapenv.img))

    def refused(args, text):
        cp = g.virsh(*args, check=False)
        assert cp.returncode == 1, (args, cp.stdout)
        assert text in cp.stderr, (args, cp.stderr)
        assert (g.disk_chain("vda"), files_in(snapenv.img)) == before
        assert no_job(g)

    refused(["blockpull", g.name, "vdz"], "disk 'vdz' not found in domain")
    refused(["blockpull", g.name, "vda", "--base", "/nowhere.qcow2"],
            "could not find image '/nowhere.qcow2' beneath")
    refused(["blockcommit", g.name, "vda", "--top", top, "--base", s1],
            "could not find image '%s' beneath" % s1)
    refused(["blockcommit", g.name, "vda"], "requires active flag")
    refused(["blockcommit", g.name, "vda", "--top", base, "--active"], "is not active")
    refused(["blockcommit", g.name, "vda", "--top", base], "could not find base image")
    refused(["blockjob", g.name, "vda", "--abort"], "does not have an active block job")
    refused(["blockjob", g.name, "vda", "--pivot"], "does not have an active block job")
    refused(["blockjob", g.name, "vda", "--bandwidth", "3"], "does not have an active block job")
    refused(["blockcopy", g.name, "vda", str(snapenv.img / "copy.qcow2")], "not supported")
    g.destroy()


# --------------------------------------------------------------------------- the worker owns the job
def test_kill9_hearthd_during_pull(snapenv, event_loop):
    h = snapenv.hearth
    g, top, base, s1 = chain_with_snapshot(snapenv, "k9pull", mid_mib=6)
    ref = g.shell.md5("/dev/vda")
    g.virsh("blockpull", g.name, "vda", "--base", base, "--bandwidth", "1")
    time.sleep(1)
    h.kill9()
    time.sleep(0.5)
    h.start()
    # the job went on without hearthd, and the new one knows it
    info = blockjob_info(g)
    assert re.search(r"Block Pull: \[\s*\d+ %\]", info), info
    ev = JobEvents(h, g.name)
    try:
        e = ev.wait("dst", COMPLETED, timeout=60)
        assert e[2] == PULL
    finally:
        ev.close()
    assert no_job(g)
    assert [p for p, _ in g.disk_chain("vda")] == [str(s1), str(base)]
    assert g.disk_chain("vda", inactive=True) == [(str(s1), None)]
    g.open_shell()
    assert g.shell.md5("/dev/vda") == ref

    # a job that ends while hearthd is down is reported by the next one
    g.virsh("snapshot-create-as", g.name, "s2", "--disk-only", "--atomic")
    g.shell.write_pattern("/dev/vda", 0xC8, 4, 2)
    ref = g.shell.md5("/dev/vda")
    s2 = snapenv.img / "mid.s2"
    g.virsh("blockcommit", g.name, "vda", "--top", s2, "--base", base, "--active", "--bandwidth",
            "1")
    h.kill9()
    jobs = g.hearth.rundir / "qemu" / g.name / "jobs"
    assert wait_until(lambda: '"state":"ready"' in jobs.read_text(), 60, 0.2), jobs.read_text()
    h.start()
    info = blockjob_info(g)
    assert "Active Block Commit: [100 %]" in info, info
    g.virsh("blockjob", g.name, "vda", "--pivot")
    assert g.blklist() == {"vda": str(base)}
    assert g.shell.md5("/dev/vda") == ref

    g.virsh("snapshot-create-as", g.name, "s3", "--disk-only", "--atomic")
    s3 = snapenv.img / "mid-base.s3"  # named after the image the disk is on now
    g.virsh("blockpull", g.name, "vda")
    h.kill9()
    assert wait_until(lambda: '"state":"completed"' in jobs.read_text(), 60, 0.2), jobs.read_text()
    h.start()
    assert wait_until(lambda: no_job(g), 10, 0.1)
    assert g.disk_chain("vda") == [(str(s3), g.disk_chain("vda")[0][1])]
    assert '"jobs":[]' in jobs.read_text(), jobs.read_text()
    assert g.shell.md5("/dev/vda") == ref
    g.destroy()
    assert image_md5(s3) == ref


# --------------------------------------------------------------------------- shut-off domains
def test_offline_pull_and_commit(snapenv, event_loop):
    """Beyond libvirt 9.0: block jobs on a shut-off domain run qemu-img on the images, with
    the same events and the same definition updates."""
    h = snapenv.hearth
    top, base = make_chain(snapenv.img, size_mib=256)
    subprocess.run(["qemu-io", "-f", "qcow2", "-c", "write -P 0x3c 64M 160M", str(top)],
                   check=True, capture_output=True)
    g = snapenv.guest("off1", [(top, "vda")]).define()
    h.virsh("snapshot-create-as", g.name, "s1", "--disk-only")
    s1 = snapenv.img / "mid.s1"
    subprocess.run(["qemu-io", "-f", "qcow2", "-c", "write -P 0x3d 20M 2M", str(s1)], check=True,
                   capture_output=True)
    h.virsh("snapshot-create-as", g.name, "s2", "--disk-only")
    s2 = snapenv.img / "mid.s2"
    ref = image_md5(s2)
    ev = JobEvents(h, g.name)
    try:
        # commit the middle layer s1 into mid.qcow2
        cp = g.virsh("blockcommit", g.name, "vda", "--top", s1, "--base", top, "--wait",
                     timeout=120)
        assert "Commit complete" in cp.stdout, cp.stdout
        assert ev.wait("dst", COMPLETED)[2] == COMMIT
        assert backing_chain(s2) == [(str(s2), "qcow2"), (str(top), "qcow2"), (str(base), "qcow2")]
        assert image_md5(s2) == ref
        # s2 recorded s1's image, whose content mid.qcow2 now has
        assert snapshot_xml(h, g.name, "s2").find("domain/devices/disk/source").get("file") == \
            str(top)

        # pull mid.qcow2's 160 MiB up into s2: progress while qemu-img works
        cp = g.virsh("blockpull", g.name, "vda", "--base", base)
        assert cp.stdout.strip() == "Block Pull started", cp.stdout
        info = blockjob_info(g)
        assert re.search(r"Block Pull: \[\s*\d+ %\]", info) or "No current block job" in info, info
        cp = g.virsh("start", g.name, check=False)
        assert cp.returncode == 1 and "block job" in cp.stderr or no_job(g), cp.stderr
        e = ev.wait("path", COMPLETED, PULL)
        assert e[1] == str(s2), e
        assert wait_until(lambda: no_job(g), 10, 0.1)
        assert backing_chain(s2) == [(str(s2), "qcow2"), (str(base), "qcow2")]
        assert image_md5(s2) == ref
        assert g.disk_chain("vda", inactive=True) == [(str(s2), None)]

        # active commit into the base, then the pivot that virsh asks for
        cp = g.virsh("blockcommit", g.name, "vda", "--active", "--pivot", "--wait", timeout=120)
        assert "Successfully pivoted" in cp.stdout, cp.stdout
        assert ev.wait("dst", READY)[2] == ACTIVE_COMMIT
        assert g.disk_chain("vda", inactive=True) == [(str(base), None)]
        assert backing_chain(base) == [(str(base), "qcow2")]
        assert image_md5(base) == ref
    finally:
        ev.close()
    # the guest boots on the result and reads the same data
    g.start()
    assert g.shell.md5("/dev/vda") == ref
    g.destroy()


def test_offline_bad_input(snapenv):
    top, base = make_chain(snapenv.img)
    g = snapenv.guest("off2", [(top, "vda")]).define()
    for args, text in [
        (["blockpull", g.name, "vdz"], "disk 'vdz' not found in domain"),
        (["blockpull", g.name, "vda", "--base", "/nowhere"], "could not find image '/nowhere'"),
        (["blockcommit", g.name, "vda", "--top", base], "could not find base image"),
        (["blockjob", g.name, "vda", "--abort"], "does not have an active block job"),
    ]:
        cp = g.virsh(*args, check=False)
        assert cp.returncode == 1 and text in cp.stderr, (args, cp.stderr)
    assert no_job(g)  # no job is no error on a shut-off domain, where jobs can run too
    assert backing_chain(top) == [(str(top), "qcow2"), (str(base), "qcow2")]


def test_worker_killed_during_pull(snapenv, event_loop):
    """The worker holding a job is killed: hearthd adopts the guest with a new worker, which
    reads the jobs file, asks QEMU how the job fares, and follows it to the end."""
    g, top, base, s1 = chain_with_snapshot(snapenv, "wk1", mid_mib=6)
    ref = g.shell.md5("/dev/vda")
    status = g.hearth.rundir / "qemu" / g.name / "status"
    old_worker = int(read_kv_file(status)["worker_pid"])
    ev = JobEvents(g.hearth, g.name)
    try:
        g.virsh("blockpull", g.name, "vda", "--base", base, "--bandwidth", "1")
        time.sleep(1)
        import os
        import signal
        os.kill(old_worker, signal.SIGKILL)
        assert wait_until(lambda: read_kv_file(status).get("worker_pid") not in (None, str(old_worker)),
                          30, 0.1), read_kv_file(status)
        assert re.search(r"Block Pull: \[\s*\d+ %\]", blockjob_info(g)), blockjob_info(g)
        e = ev.wait("dst", COMPLETED, PULL, timeout=60)
        assert e[1] == "vda"
    finally:
        ev.close()
    assert wait_until(lambda: no_job(g), 10, 0.1)
    assert [p for p, _ in g.disk_chain("vda")] == [str(s1), str(base)]
    assert g.shell.md5("/dev/vda") == ref
    g.destroy()
    assert image_md5(s1) == ref


def test_commit_shallow_delete_and_bytes(snapenv):
    g, top, base, s1 = chain_with_snapshot(snapenv, "com2")
    g.virsh("snapshot-create-as", g.name, "s2", "--disk-only", "--atomic")
    s2 = snapenv.img / "mid.s2"
    ref = g.shell.md5("/dev/vda")
    # --shallow: into the image right below top; --delete: the committed image goes
    cp = g.virsh("blockcommit", g.name, "vda", "--top", s1, "--shallow", "--delete", "--wait",
                 "--bandwidth", "8388608", "--bytes", timeout=120)
    assert "Commit complete" in cp.stdout, cp.stdout
    assert [p for p, _ in g.disk_chain("vda")] == [str(s2), str(top), str(base)]
    assert not s1.exists()
    refused = g.virsh("blockcommit", g.name, "vda", "--top", s2, "--base", base, "--shallow",
                      "--active", check=False)
    assert refused.returncode == 1 and "not immediately below" in refused.stderr, refused.stderr
    # an active commit with --delete removes the overlay once pivoted
    cp = g.virsh("blockcommit", g.name, "vda", "--active", "--pivot", "--delete", "--shallow",
                 timeout=120)
    assert "Successfully pivoted" in cp.stdout, cp.stdout
    assert g.blklist() == {"vda": str(top)} and not s2.exists()
    assert g.shell.md5("/dev/vda") == ref
    g.destroy()
    assert image_md5(top) == ref
