#!/usr/bin/python3
"""Hearth snapshot and block-job benchmarks (issue 5), optionally side by side with libvirtd.

    /usr/bin/python3 bench/bench_blockjobs.py                 # hearthd, then reference libvirtd
    /usr/bin/python3 bench/bench_blockjobs.py --no-reference
    /usr/bin/python3 bench/bench_blockjobs.py --quick

Figures:
  snapshot_live_ms    `virsh snapshot-create-as DOM sN --disk-only --atomic` wall time on a
                      running guest with one qcow2 disk (median; includes virsh's own start)
  pull_return_ms      time from the end of a throttled `virsh blockpull DOM vda --wait` job
                      (the BLOCK_JOB_2 COMPLETED event, seen by a second python3-libvirt
                      connection) to virsh returning (median over jobs of different lengths,
                      so that the ends fall anywhere in virsh's 500 ms poll)
  pull_qmp_return_ms  (hearthd only) the same from QEMU's own BLOCK_JOB_COMPLETED timestamp,
                      read by a second client of the guest's worker (control.sock)

--role libvirt is what runs inside /work/shared/tools/reference-libvirtd (qemu:///system).
"""

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid as uuidlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "integration"))

import hearthlib  # noqa: E402

TARGETS = {
    "snapshot_live_ms": ("snapshot-create-as live <= 25 ms (libvirtd: 48.5 ms published)", 25),
    "pull_return_ms": ("job end -> virsh blockpull --wait returns <= 50 ms", 50),
}


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def virsh(uri, *args, check=True):
    env = dict(os.environ, LC_ALL="C")
    t0 = time.perf_counter()
    cp = subprocess.run(["virsh", "-c", uri] + [str(a) for a in args], capture_output=True,
                        text=True, env=env, stdin=subprocess.DEVNULL)
    dt = (time.perf_counter() - t0) * 1000
    if check and cp.returncode != 0:
        raise RuntimeError("virsh %s failed: %s%s" % (" ".join(map(str, args)), cp.stdout, cp.stderr))
    return cp, dt


def qemu_img(*args):
    subprocess.run(["qemu-img"] + [str(a) for a in args], check=True, capture_output=True)


def make_domain(uri, workdir, kernel, initrd, name):
    base, top = workdir / ("%s-base.qcow2" % name), workdir / ("%s.qcow2" % name)
    qemu_img("create", "-q", "-f", "qcow2", base, "64M")
    qemu_img("create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", base, top)
    subprocess.run(["qemu-io", "-f", "qcow2", "-c", "write -P 0xbb 0 8M", str(top)], check=True,
                   capture_output=True)
    disk = ("    <disk type='file' device='disk'>\n      <driver name='qemu' type='qcow2'/>\n"
            "      <source file='%s'/>\n      <target dev='vda' bus='virtio'/>\n    </disk>\n" % top)
    xml = hearthlib.guest_domain_xml(name, str(uuidlib.uuid4()), kernel, initrd, serial=None,
                                     devices=disk)
    path = workdir / ("%s.xml" % name)
    path.write_text(xml)
    virsh(uri, "define", path)
    virsh(uri, "start", name)
    return top, base


class Completions:
    """Arrival times of BLOCK_JOB_2 COMPLETED events on a separate connection."""

    def __init__(self, uri, name):
        import libvirt
        self.times = []
        self.cond = threading.Condition()
        self.conn = libvirt.open(uri)
        dom = self.conn.lookupByName(name)
        self.cid = self.conn.domainEventRegisterAny(dom, libvirt.VIR_DOMAIN_EVENT_ID_BLOCK_JOB_2,
                                                    self.cb, None)

    def cb(self, conn, dom, dst, typ, status, opaque):
        if status == 0:
            with self.cond:
                self.times.append(time.time())
                self.cond.notify_all()

    def wait(self, n, timeout=60):
        with self.cond:
            self.cond.wait_for(lambda: len(self.times) >= n, timeout)
            return self.times[n - 1] if len(self.times) >= n else None

    def close(self):
        self.conn.domainEventDeregisterAny(self.cid)
        self.conn.close()


class WorkerWatch:
    """QEMU's BLOCK_JOB_COMPLETED timestamps, from the worker's control socket (hearthd)."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(str(path))
        self.times = []
        self.stop = False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        buf = b""
        while not self.stop:
            try:
                data = self.sock.recv(65536)
            except OSError:
                return
            if not data:
                return
            buf += data
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                try:
                    msg = json.loads(line)
                except ValueError:
                    continue
                if msg.get("event") == "qmp" and msg.get("name") == "BLOCK_JOB_COMPLETED":
                    ts = msg.get("timestamp", {})
                    self.times.append(ts.get("seconds", 0) + ts.get("microseconds", 0) / 1e6)

    def close(self):
        self.stop = True
        self.sock.close()


def bench(uri, workdir, kernel, initrd, runs, pulls, settle, control_sock=None):
    import libvirt
    libvirt.virEventRegisterDefaultImpl()
    threading.Thread(target=lambda: [libvirt.virEventRunDefaultImpl() for _ in iter(int, 1)],
                     daemon=True).start()
    out = {}
    name = "bjbench"
    top, base = make_domain(uri, workdir, kernel, initrd, name)
    time.sleep(settle)  # the guest boots under TCG (a whole core) for about 6 s: let it finish

    snaps = []
    for i in range(runs):
        _, dt = virsh(uri, "snapshot-create-as", name, "s%d" % i, "--disk-only", "--atomic")
        snaps.append(dt)
    out["snapshot_live_ms"] = statistics.median(snaps)
    out["snapshot_live_all_ms"] = snaps
    log("snapshot-create-as live: median %.1f ms (%s)" % (out["snapshot_live_ms"],
                                                          ", ".join("%.0f" % x for x in snaps)))
    # a flat chain again: each pull below copies the 8 MiB of the image under a new overlay
    virsh(uri, "blockpull", name, "vda", "--wait")

    watch = WorkerWatch(control_sock) if control_sock else None
    done = Completions(uri, name)
    lat, qlat = [], []
    try:
        for i in range(pulls):
            virsh(uri, "snapshot-create-as", name, "p%d" % i, "--disk-only", "--atomic")
            # 8 MiB at 6..16 MiB/s: jobs of about 0.5..1.3 s, ending anywhere in virsh's poll
            bw = 6 + (i * 7) % 11
            t_before = len(done.times)
            cp, _ = virsh(uri, "blockpull", name, "vda", "--bandwidth", bw, "--wait")
            t_return = time.time()
            t_event = done.wait(t_before + 1)
            if t_event:
                lat.append((t_return - t_event) * 1000)
            if watch and watch.times:
                qlat.append((t_return - watch.times[-1]) * 1000)
            log("pull %d at %d MiB/s: returned %.1f ms after the event%s" % (
                i, bw, lat[-1] if lat else -1,
                (", %.1f ms after QEMU's event" % qlat[-1]) if qlat else ""))
    finally:
        done.close()
        if watch:
            watch.close()
    out["pull_return_ms"] = statistics.median(lat) if lat else None
    out["pull_return_all_ms"] = lat
    if qlat:
        out["pull_qmp_return_ms"] = statistics.median(qlat)
        out["pull_qmp_return_all_ms"] = qlat
    virsh(uri, "destroy", name, check=False)
    return out


def run_hearth(args, kernel, initrd):
    h = hearthlib.Hearth()
    h.start()
    try:
        work = Path(tempfile.mkdtemp(prefix="bjbench-"))
        out = bench(h.uri, work, kernel, initrd, args.runs, args.pulls, args.settle,
                    control_sock=h.rundir / "qemu" / "bjbench" / "control.sock")
        out["who"] = "hearthd %s" % h.binary
        return out
    finally:
        h.stop()
        h.cleanup()


def run_libvirt(args, kernel, initrd):
    work = Path(tempfile.mkdtemp(prefix="bjbench-ref-"))
    out = bench("qemu:///system", work, kernel, initrd, args.runs, args.pulls, args.settle)
    out["who"] = "libvirtd 9.0 (reference)"
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--role", choices=["both", "hearth", "libvirt"], default="both")
    ap.add_argument("--no-reference", action="store_true")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--pulls", type=int, default=7)
    ap.add_argument("--settle", type=float, default=10, help="seconds for the guest to boot")
    ap.add_argument("--json")
    args = ap.parse_args()
    if args.quick:
        args.runs, args.pulls = 5, 3
    kernel, initrd = hearthlib.build_guest()
    if args.role == "libvirt":
        out = run_libvirt(args, kernel, initrd)
        if args.json:
            Path(args.json).write_text(json.dumps(out))
        return 0
    res = run_hearth(args, kernel, initrd)
    ref = None
    tool = os.environ.get("REFERENCE_LIBVIRTD", "/work/shared/tools/reference-libvirtd")
    if not args.no_reference and os.path.exists(tool) and os.path.exists("/usr/sbin/libvirtd"):
        with tempfile.NamedTemporaryFile(suffix=".json") as f:
            cmd = [tool, "/usr/bin/python3", str(Path(__file__).resolve()), "--role", "libvirt",
                   "--json", f.name, "--runs", str(args.runs), "--pulls", str(args.pulls),
                   "--settle", str(args.settle)]
            cp = subprocess.run(cmd, capture_output=True, text=True)
            if cp.returncode == 0 and Path(f.name).stat().st_size:
                ref = json.loads(Path(f.name).read_text())
            else:
                log("reference run failed:\n%s" % cp.stderr[-2000:])
    print()
    print("Hearth snapshot/block-job benchmark")
    print("%-22s %12s %12s" % ("figure", "hearthd", "libvirtd" if ref else ""))
    for key in ("snapshot_live_ms", "pull_return_ms", "pull_qmp_return_ms"):
        v = res.get(key)
        r = ref.get(key) if ref else None
        print("%-22s %12s %12s" % (key, "%.1f" % v if v is not None else "-",
                                   "%.1f" % r if r is not None else ""))
    print("\ntargets:")
    for key, (desc, limit) in TARGETS.items():
        v = res.get(key)
        print("  %-4s %s (measured %s)" % ("PASS" if v is not None and v <= limit else "MISS", desc,
                                           "%.1f ms" % v if v is not None else "nothing"))
    if args.json:
        Path(args.json).write_text(json.dumps({"hearth": res, "reference": ref}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
