#!/usr/bin/python3
"""Hearth definition-handling benchmarks, optionally side by side with a stock libvirtd.

    /usr/bin/python3 bench/bench_definitions.py            # hearthd, then reference libvirtd if available
    /usr/bin/python3 bench/bench_definitions.py --no-reference
    /usr/bin/python3 bench/bench_definitions.py --quick    # smaller counts, for a smoke run

Figures (see bench/README.md for the targets):
  pairs_per_s        python3-libvirt lookupByName + XMLDesc pairs per second, one process
  defines_per_s      python3-libvirt defineXML per second, one process
  list_1000_ms       `virsh list --all` with 1000 defined domains (median, ms)
  idle_rss_kib       daemon RSS right after start with nothing defined
  big_rss_kib        daemon RSS with N_BIG (10,000) definitions loaded
  big_first_ms       daemon launch -> first answered call, N_BIG definitions on disk
  big_list_ms        daemon launch -> LIST_ALL_DOMAINS returns all N_BIG domains

--role libvirt is what runs *inside* /work/shared/tools/reference-libvirtd against the
stock libvirtd there (qemu:///system); it restarts that libvirtd itself for the N_BIG
measurements and kills the copy it started.
"""

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "integration"))

import hearthlib  # noqa: E402
import wire  # noqa: E402

TARGETS = {
    # key: (description, kind, target) -- kind "min_ratio" means hearth >= target x libvirt
    "pairs_per_s": ("lookupByName+XMLDesc pairs/s >= 2x libvirtd (~2600/s there)", "min_ratio", 2.0),
    "idle_rss_kib": ("idle RSS <= 8 MiB", "max_abs", 8 * 1024),
    "big_first_ms": ("start -> first answer with N_BIG definitions <= 300 ms", "max_abs", 300),
}


def domain_xml(name, i):
    uuid = "%08x-0000-4000-8000-%012x" % (0xBE000000 + (i >> 16), i)
    return ("<domain type='qemu'>\n  <name>%s</name>\n  <uuid>%s</uuid>\n"
            "  <memory unit='KiB'>131072</memory>\n  <currentMemory unit='KiB'>131072</currentMemory>\n"
            "  <vcpu placement='static'>1</vcpu>\n  <os>\n    <type arch='x86_64' machine='pc'>hvm</type>\n"
            "  </os>\n  <devices>\n    <emulator>/usr/bin/qemu-system-x86_64</emulator>\n"
            "    <disk type='file' device='disk'>\n      <driver name='qemu' type='qcow2'/>\n"
            "      <source file='/var/lib/bench/%s.qcow2'/>\n      <target dev='vda' bus='virtio'/>\n"
            "    </disk>\n    <interface type='network'>\n      <source network='default'/>\n"
            "      <model type='virtio'/>\n    </interface>\n    <serial type='pty'/>\n"
            "    <graphics type='vnc' port='-1' autoport='yes'/>\n  </devices>\n</domain>\n"
            % (name, uuid, name))


def log(*a):
    print(*a, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- measurements
def bench_pairs(uri, n):
    import libvirt
    c = libvirt.open(uri)
    try:
        c.defineXML(domain_xml("pairs0", 0))
        for _ in range(50):  # warm-up
            c.lookupByName("pairs0").XMLDesc(0)
        t0 = time.perf_counter()
        for _ in range(n):
            c.lookupByName("pairs0").XMLDesc(0)
        dt = time.perf_counter() - t0
        c.lookupByName("pairs0").undefine()
    finally:
        c.close()
    return n / dt


def bench_defines(uri, n, start_index=1):
    import libvirt
    c = libvirt.open(uri)
    try:
        xmls = [domain_xml("def%05d" % i, i) for i in range(start_index, start_index + n)]
        t0 = time.perf_counter()
        for x in xmls:
            c.defineXML(x)
        dt = time.perf_counter() - t0
    finally:
        c.close()
    return n / dt


def ensure_defined(uri, total):
    import libvirt
    c = libvirt.open(uri)
    try:
        have = len(c.listAllDomains(0))
        for i in range(have, total):
            c.defineXML(domain_xml("fill%05d" % i, 100000 + i))
        return len(c.listAllDomains(0))
    finally:
        c.close()


def bench_virsh_list(uri, runs):
    env = dict(os.environ, LC_ALL="C")
    times = []
    n = None
    for _ in range(runs):
        t0 = time.perf_counter()
        cp = subprocess.run(["virsh", "-c", uri, "list", "--all"], capture_output=True, text=True, env=env)
        times.append((time.perf_counter() - t0) * 1000)
        if cp.returncode != 0:
            raise RuntimeError("virsh list failed: %s" % cp.stderr)
        n = len(cp.stdout.strip().splitlines()) - 2
    return statistics.median(times), n


def undefine_all(uri):
    import libvirt
    c = libvirt.open(uri)
    try:
        for d in c.listAllDomains(0):
            d.undefine()
    finally:
        c.close()


def write_definitions(qemu_dir, n):
    qemu_dir.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        name = "big%05d" % i
        (qemu_dir / ("%s.xml" % name)).write_text(domain_xml(name, 200000 + i))


def wait_first_answer_and_list(sock_path, t0, n_expected, alive, timeout=600):
    first = None
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if not alive():
            raise RuntimeError("daemon exited during start-up")
        try:
            c = wire.WireClient(str(sock_path), timeout=timeout)
        except OSError:
            time.sleep(0.002)
            continue
        try:
            c.handshake(keepalive=False)
            c.hostname()
            first = (time.perf_counter() - t0) * 1000
            while True:
                doms, ret = c.list_all_domains()
                if ret >= n_expected:
                    return first, (time.perf_counter() - t0) * 1000
                if time.perf_counter() > deadline:
                    raise RuntimeError("only %d of %d domains listed" % (ret, n_expected))
                time.sleep(0.005)
        except (wire.ConnectionClosed, ConnectionResetError, BrokenPipeError, OSError, wire.RpcError):
            time.sleep(0.002)
        finally:
            c.close()
    raise RuntimeError("no answer within %ds" % timeout)


# --------------------------------------------------------------------------- roles
def fs_type(path):
    best, fstype = "", "?"
    with open("/proc/mounts") as f:
        for line in f:
            parts = line.split()
            mnt = parts[1]
            if str(path).startswith(mnt) and len(mnt) >= len(best):
                best, fstype = mnt, parts[2]
    return fstype


def run_hearth(args):
    res = {"who": "hearthd %s" % hearthlib.hearthd_binary()}
    if args.disk_define:
        # defineXML with the root on the ordinary disk (/tmp here), for comparison with tmpfs
        hd = hearthlib.Hearth(parent=args.disk_define)
        try:
            hd.start()
            res["defines_per_s_disk"] = bench_defines(hd.uri, args.n_define)
            res["disk_fs"] = fs_type(hd.root)
            log("hearthd: %.0f defines/s with the root on %s (%s)"
                % (res["defines_per_s_disk"], args.disk_define, res["disk_fs"]))
            hd.stop()
        finally:
            if hd.proc is not None:
                hd.kill9()
            hd.cleanup()
    h = hearthlib.Hearth(parent=args.root_parent)
    res["root_fs"] = fs_type(h.root)
    try:
        h.start()
        time.sleep(1.0)
        res["idle_rss_kib"] = h.rss_kib()
        log("hearthd: idle RSS %d KiB" % res["idle_rss_kib"])
        res["pairs_per_s"] = bench_pairs(h.uri, args.n_pairs)
        log("hearthd: %.0f pairs/s" % res["pairs_per_s"])
        res["defines_per_s"] = bench_defines(h.uri, args.n_define)
        log("hearthd: %.0f defines/s" % res["defines_per_s"])
        ensure_defined(h.uri, args.n_list)
        res["list_1000_ms"], listed = bench_virsh_list(h.uri, args.list_runs)
        res["list_n"] = listed
        log("hearthd: virsh list --all with %d domains: %.1f ms" % (listed, res["list_1000_ms"]))
        h.stop()
        if h.problems:
            raise RuntimeError("\n".join(h.problems))
        # N_BIG definitions written straight to disk, then launch -> first answer
        shutil.rmtree(h.qemu_dir)
        write_definitions(h.qemu_dir, args.n_big)
        runs_first, runs_list = [], []
        for _ in range(args.start_runs):
            h2 = hearthlib.Hearth(root=h.root, use_notify=False)
            h2.start(wait=False)
            t0 = time.perf_counter()   # Popen returned: the process exists
            first, full = wait_first_answer_and_list(h2.sock, t0, args.n_big, h2.alive)
            runs_first.append(first)
            runs_list.append(full)
            time.sleep(0.5)
            res["big_rss_kib"] = h2.rss_kib()
            h2.stop()
            if h2.problems:
                raise RuntimeError("\n".join(h2.problems))
        res["big_first_ms"] = statistics.median(runs_first)
        res["big_list_ms"] = statistics.median(runs_list)
        log("hearthd: %d definitions: first answer %.0f ms, full list %.0f ms, RSS %d KiB"
            % (args.n_big, res["big_first_ms"], res["big_list_ms"], res["big_rss_kib"]))
    finally:
        if h.proc is not None:
            h.kill9()
        h.cleanup()
    return res


def libvirtd_pid():
    try:
        return int(Path("/run/libvirt/ref-libvirtd.pid").read_text().strip())
    except (OSError, ValueError):
        return None


def run_libvirt(args):
    """Inside reference-libvirtd: qemu:///system is a stock libvirtd 9.0."""
    uri = "qemu:///system"
    res = {"who": "libvirtd 9.0 (reference)"}
    undefine_all(uri)
    time.sleep(1.0)
    pid = libvirtd_pid()
    res["idle_rss_kib"] = hearthlib.rss_kib(pid) if pid else None
    log("libvirtd: idle RSS %s KiB" % res["idle_rss_kib"])
    res["pairs_per_s"] = bench_pairs(uri, args.n_pairs)
    log("libvirtd: %.0f pairs/s" % res["pairs_per_s"])
    res["defines_per_s"] = bench_defines(uri, args.n_define)
    log("libvirtd: %.0f defines/s" % res["defines_per_s"])
    ensure_defined(uri, args.n_list)
    res["list_1000_ms"], res["list_n"] = bench_virsh_list(uri, args.list_runs)
    log("libvirtd: virsh list --all with %d domains: %.1f ms" % (res["list_n"], res["list_1000_ms"]))
    undefine_all(uri)
    # restart libvirtd with N_BIG definitions on disk (our own copy, killed at the end)
    if pid:
        os.kill(pid, signal.SIGTERM)
        for _ in range(200):
            if not os.path.exists("/proc/%d" % pid):
                break
            time.sleep(0.05)
    qdir = Path("/etc/libvirt/qemu")
    for p in qdir.glob("*.xml"):
        p.unlink()
    write_definitions(qdir, args.n_big)
    runs_first, runs_list = [], []
    for _ in range(args.start_runs):
        for s in ("/run/libvirt/libvirt-sock", "/run/libvirt/libvirt-sock-ro"):
            if os.path.exists(s):
                os.unlink(s)
        proc = subprocess.Popen(["/usr/sbin/libvirtd"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        t0 = time.perf_counter()
        try:
            first, full = wait_first_answer_and_list("/run/libvirt/libvirt-sock", t0, args.n_big,
                                                     lambda: proc.poll() is None)
            runs_first.append(first)
            runs_list.append(full)
            time.sleep(0.5)
            res["big_rss_kib"] = hearthlib.rss_kib(proc.pid)
        finally:
            proc.terminate()
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    res["big_first_ms"] = statistics.median(runs_first)
    res["big_list_ms"] = statistics.median(runs_list)
    log("libvirtd: %d definitions: first answer %.0f ms, full list %.0f ms, RSS %s KiB"
        % (args.n_big, res["big_first_ms"], res["big_list_ms"], res["big_rss_kib"]))
    return res


# --------------------------------------------------------------------------- report
ROWS = [
    # key, label, unit, higher_is_better
    ("pairs_per_s", "lookupByName+XMLDesc", "pairs/s", True),
    ("defines_per_s", "defineXML", "defines/s", True),
    ("defines_per_s_disk", "defineXML, root on {disk_fs}", "defines/s", True),
    ("list_1000_ms", "virsh list --all, {list_n} domains", "ms", False),
    ("idle_rss_kib", "idle RSS", "KiB", False),
    ("big_rss_kib", "RSS with {n_big} definitions", "KiB", False),
    ("big_first_ms", "launch -> first answer, {n_big} defs", "ms", False),
    ("big_list_ms", "launch -> all {n_big} listed", "ms", False),
]


def fmt(v):
    if v is None:
        return "-"
    if isinstance(v, float):
        return "%.1f" % v if v < 100 else "%.0f" % v
    return str(v)


def report(hearth, ref, args):
    print()
    print("Hearth benchmark (%s)" % hearth.get("who"))
    if ref:
        print("side by side with %s" % ref.get("who"))
    print("hearthd root on %s (%s); the reference libvirtd keeps /etc/libvirt on tmpfs"
          % (args.root_parent, hearth.get("root_fs")))
    print()
    hdr = "%-42s %12s %12s  %s" % ("measure", "hearthd", "libvirtd" if ref else "", "ratio" if ref else "")
    print(hdr)
    print("-" * len(hdr))
    ctx = {"n_big": args.n_big, "list_n": hearth.get("list_n", args.n_list), "disk_fs": hearth.get("disk_fs", "disk")}
    for key, label, unit, higher in ROWS:
        hv = hearth.get(key)
        rv = ref.get(key) if ref else None
        ratio = ""
        if key == "defines_per_s_disk":
            rv = None   # no libvirtd figure on disk
        if hv and rv:
            r = (hv / rv) if higher else (rv / hv)
            size = key in ("idle_rss_kib", "big_rss_kib")
            if r >= 1:
                ratio = "%.2fx %s" % (r, "smaller" if size else "faster")
            else:
                ratio = "%.2fx %s" % (1 / r, "larger" if size else "slower")
        print("%-42s %12s %12s  %s" % (label.format(**ctx) + " (%s)" % unit, fmt(hv), fmt(rv), ratio))
    print()
    print("targets:")
    for key, (desc, kind, target) in TARGETS.items():
        hv = hearth.get(key)
        if kind == "min_ratio":
            rv = ref.get(key) if ref else None
            base = rv if rv else 2600.0   # libvirtd's published figure when no reference run
            ok = hv is not None and hv >= target * base
            extra = "(vs %s %.0f)" % ("measured" if rv else "published", base)
        else:
            ok = hv is not None and hv <= target
            extra = ""
        print("  [%s] %s: %s %s" % ("PASS" if ok else "MISS", desc, fmt(hv), extra))


def reference_tool():
    t = os.environ.get("REFERENCE_LIBVIRTD", "/work/shared/tools/reference-libvirtd")
    if os.path.isfile(t) and os.access(t, os.X_OK) and os.path.exists("/usr/sbin/libvirtd"):
        return t
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--role", choices=["hearth", "libvirt"], default="hearth")
    ap.add_argument("--json", help="write the raw figures to this file")
    ap.add_argument("--no-reference", action="store_true", help="do not run the libvirtd side")
    ap.add_argument("--quick", action="store_true", help="small counts (smoke run)")
    ap.add_argument("--n-pairs", type=int, default=5000)
    ap.add_argument("--n-define", type=int, default=500)
    ap.add_argument("--n-list", type=int, default=1000)
    ap.add_argument("--list-runs", type=int, default=7)
    ap.add_argument("--n-big", type=int, default=10000)
    ap.add_argument("--start-runs", type=int, default=3)
    ap.add_argument("--root-parent", default="/dev/shm" if os.path.isdir("/dev/shm") else "/tmp",
                    help="where hearthd's throw-away root goes (default /dev/shm: tmpfs, like the "
                         "reference libvirtd's /etc/libvirt)")
    ap.add_argument("--disk-define", default="/tmp", metavar="DIR",
                    help="also measure defineXML with the root under DIR (default /tmp); '' to skip")
    # run-bench.sh passes the same options to every benchmark: ignore the other one's
    args, unknown = ap.parse_known_args()
    if unknown:
        log("%s: ignoring options for another benchmark: %s" % (Path(__file__).name, " ".join(unknown)))
    if args.quick:
        args.n_pairs, args.n_define, args.n_list, args.list_runs = 500, 100, 200, 3
        args.n_big, args.start_runs = 1000, 1

    if args.role == "libvirt":
        res = run_libvirt(args)
        if args.json:
            Path(args.json).write_text(json.dumps(res))
        else:
            print(json.dumps(res))
        return 0

    problems = hearthlib.check_prerequisites()
    if problems:
        print("cannot run: " + "; ".join(problems), file=sys.stderr)
        return 2
    hres = run_hearth(args)
    ref = None
    tool = None if args.no_reference else reference_tool()
    if tool:
        fd, out = tempfile.mkstemp(prefix="bench-ref-", suffix=".json")
        os.close(fd)
        cmd = [tool, sys.executable, str(Path(__file__).resolve()), "--role", "libvirt", "--json", out,
               "--n-pairs", str(args.n_pairs), "--n-define", str(args.n_define), "--n-list", str(args.n_list),
               "--list-runs", str(args.list_runs), "--n-big", str(args.n_big),
               "--start-runs", str(args.start_runs)]
        log("running the libvirtd side: %s" % " ".join(cmd))
        cp = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            ref = json.loads(Path(out).read_text())
        except (OSError, ValueError):
            log("reference run failed (rc %d):\n%s" % (cp.returncode, cp.stderr[-3000:]))
        finally:
            try:
                os.unlink(out)
            except OSError:
                pass
    elif not args.no_reference:
        log("reference libvirtd not available: printing Hearth's figures only")
    if args.json:
        Path(args.json).write_text(json.dumps({"hearth": hres, "libvirt": ref}, indent=1))
    report(hres, ref, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
