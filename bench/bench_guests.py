#!/usr/bin/python3
"""Hearth guest-lifecycle benchmarks (issue 4), optionally side by side with a stock libvirtd.

    /usr/bin/python3 bench/bench_guests.py                 # hearthd, then reference libvirtd if available
    /usr/bin/python3 bench/bench_guests.py --no-reference
    /usr/bin/python3 bench/bench_guests.py --quick         # fewer runs, 10 guests to re-adopt

Figures (see bench/README.md for the targets):
  start_ms            `virsh start` wall time (median), TCG test guest, 128 MiB
  destroy_ms          `virsh destroy` wall time (median), the guest running for --settle seconds
  worker_rss_kib      VmRSS of a hearth-worker (median over the 50 re-adopted guests' workers;
                      the start/destroy guest's worker is reported as worker_rss_boot_kib)
  worker_pss_kib      the same workers' proportional set size, and worker_private_kib their
                      private pages (smaps_rollup): what one more worker really costs, since
                      most of VmRSS is libc's pages shared with every other process
  start_paused_n_s    starting N guests with `start --paused` one after another (python3-libvirt)
  readopt_first_ms    kill -9 of the daemon with N paused guests, relaunch -> first answered call
  readopt_list_ms     relaunch -> CONNECT_LIST_ALL_DOMAINS(ACTIVE) returns all N (median of runs)
  destroy_n_s         destroying the N guests afterwards

The guests are the integration tests' guest (tests/guest/build-guest.sh, built if needed). A
guest started with --paused never runs code (QEMU -S), but its kernel file must still exist.

--role libvirt is what runs *inside* /work/shared/tools/reference-libvirtd against the stock
libvirtd there (qemu:///system); for the re-adoption figure it kills that libvirtd with
SIGKILL and launches its own copies, and it destroys every guest it started before it exits.
"""

import argparse
import json
import os
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

LIST_ACTIVE = 1   # VIR_CONNECT_LIST_DOMAINS_ACTIVE

TARGETS = {
    # key: (description, target upper bound)
    "start_ms": ("virsh start <= 100 ms (libvirtd: 502 ms published)", 100),
    "destroy_ms": ("virsh destroy <= 150 ms (libvirtd: 1655 ms published)", 150),
    "worker_rss_kib": ("worker RSS <= 2 MiB", 2048),
    "readopt_list_ms": ("kill -9 with N paused guests -> all N listed <= 500 ms", 500),
}


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def uuid_for(i):
    return "%08x-0000-4000-8000-%012x" % (0xB6000000, i)


ERRORS = []   # operations that reported an error but did what they were asked (listed in the report)


def virsh_ms(uri, *args):
    env = dict(os.environ, LC_ALL="C")
    t0 = time.perf_counter()
    cp = subprocess.run(["virsh", "-c", uri] + list(args), capture_output=True, text=True, env=env,
                        stdin=subprocess.DEVNULL)
    dt = (time.perf_counter() - t0) * 1000
    if cp.returncode != 0:
        if args[0] == "destroy" and domain_inactive(uri, args[-1]):
            # the guest is gone although virsh reported an error: time it, and say so
            ERRORS.append("virsh destroy: %s" % cp.stderr.strip().splitlines()[-1])
            return dt
        raise RuntimeError("virsh %s failed: %s%s" % (" ".join(args), cp.stdout, cp.stderr))
    return dt


def domain_inactive(uri, name):
    import libvirt
    c = libvirt.open(uri)
    try:
        return c.lookupByName(name).isActive() == 0
    finally:
        c.close()


# --------------------------------------------------------------------------- measurements
def bench_start_destroy(uri, kernel, initrd, serial_dir, runs, settle, worker_rss=None):
    """Define one guest, then `runs` x (virsh start, run `settle` s, virsh destroy)."""
    import libvirt
    name = "bstart"
    xml = hearthlib.guest_domain_xml(name, uuid_for(0), kernel, initrd, memory_mib=128, serial="file",
                                     serial_path=Path(serial_dir) / "bstart.serial.log")
    c = libvirt.open(uri)
    try:
        c.defineXML(xml)
    finally:
        c.close()
    starts, destroys, rss = [], [], []
    for _ in range(runs):
        starts.append(virsh_ms(uri, "start", name))
        time.sleep(settle)
        if worker_rss:
            v = worker_rss(name)
            if v:
                rss.append(v)
        destroys.append(virsh_ms(uri, "destroy", name))
        time.sleep(0.3)
    c = libvirt.open(uri)
    try:
        c.lookupByName(name).undefine()
    finally:
        c.close()
    return statistics.median(starts), statistics.median(destroys), rss, starts, destroys


def define_and_start_paused(uri, n, kernel, initrd, memory_mib):
    import libvirt
    c = libvirt.open(uri)
    try:
        doms = []
        for i in range(n):
            xml = hearthlib.guest_domain_xml("ra%03d" % i, uuid_for(1000 + i), kernel, initrd,
                                             memory_mib=memory_mib, serial=None)
            doms.append(c.defineXML(xml))
        t0 = time.perf_counter()
        for d in doms:
            d.createWithFlags(libvirt.VIR_DOMAIN_START_PAUSED)
        dt = time.perf_counter() - t0
        active = len(c.listAllDomains(LIST_ACTIVE))
        if active != n:
            raise RuntimeError("only %d of %d guests active after start --paused" % (active, n))
        return dt
    finally:
        c.close()


def wait_all_active(sock_path, t0, n_expected, alive, timeout=120):
    """Raw protocol client: (ms to the first answered call, ms until LIST_ALL_DOMAINS(ACTIVE)
    returns n_expected domains, all with an id)."""
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
            if first is None:
                first = (time.perf_counter() - t0) * 1000
            while True:
                doms, ret = c.list_all_domains(LIST_ACTIVE)
                if ret >= n_expected and all(d[2] > 0 for d in doms if len(d) > 2):
                    return first, (time.perf_counter() - t0) * 1000
                if time.perf_counter() > deadline:
                    raise RuntimeError("only %d of %d domains listed active" % (ret, n_expected))
                time.sleep(0.005)
        except (wire.ConnectionClosed, ConnectionResetError, BrokenPipeError, OSError, wire.RpcError):
            time.sleep(0.002)
        finally:
            c.close()
    raise RuntimeError("no answer within %ds" % timeout)


def check_all_paused(uri, n):
    import libvirt
    c = libvirt.open(uri)
    try:
        doms = c.listAllDomains(LIST_ACTIVE)
        states = [d.state()[0] for d in doms]
        if len(doms) != n or any(s != libvirt.VIR_DOMAIN_PAUSED for s in states):
            raise RuntimeError("after re-adoption: %d active, states %r" % (len(doms), sorted(set(states))))
    finally:
        c.close()


def destroy_all(uri):
    import libvirt
    c = libvirt.open(uri)
    try:
        t0 = time.perf_counter()
        for d in c.listAllDomains(LIST_ACTIVE):
            try:
                d.destroy()
            except libvirt.libvirtError as e:
                if d.isActive():
                    raise
                ERRORS.append("virDomainDestroy: %s" % e)
        dt = time.perf_counter() - t0
        for d in c.listAllDomains(0):
            d.undefine()
        return dt
    finally:
        c.close()


# --------------------------------------------------------------------------- roles
def run_hearth(args, kernel, initrd):
    res = {"who": "hearthd %s" % hearthlib.hearthd_binary()}
    h = hearthlib.Hearth(parent=args.root_parent)
    hearths = [h]
    uuids = [uuid_for(0)] + [uuid_for(1000 + i) for i in range(args.n_readopt)]

    def worker_pid(name):
        st = hearthlib.read_kv_file(h.rundir / "qemu" / name / "status")
        return int(st["worker_pid"]) if st.get("worker_pid") else None

    def worker_rss(name):
        pid = worker_pid(name)
        return hearthlib.rss_kib(pid) if pid else None

    try:
        h.start()
        s, d, rss, starts, destroys = bench_start_destroy(h.uri, kernel, initrd, h.root, args.runs,
                                                          args.settle, worker_rss)
        res.update(start_ms=s, destroy_ms=d, start_runs=starts, destroy_runs=destroys)
        res["worker_rss_boot_kib"] = max(rss) if rss else None
        log("hearthd: virsh start %.0f ms, virsh destroy %.0f ms (medians of %d); worker RSS %s KiB"
            % (s, d, args.runs, res["worker_rss_boot_kib"]))

        n = args.n_readopt
        res["start_paused_n_s"] = define_and_start_paused(h.uri, n, kernel, initrd, args.memory)
        log("hearthd: %d x start --paused in %.1f s" % (n, res["start_paused_n_s"]))
        time.sleep(1.0)
        rsss = [worker_rss("ra%03d" % i) for i in range(n)]
        rsss = [r for r in rsss if r]
        res["worker_rss_kib"] = statistics.median(rsss) if rsss else None
        res["worker_rss_max_kib"] = max(rsss) if rsss else None
        rollups = [smaps_rollup(worker_pid("ra%03d" % i)) for i in range(n)]
        rollups = [r for r in rollups if r]
        if rollups:
            res["worker_pss_kib"] = statistics.median(r["Pss"] for r in rollups)
            res["worker_private_kib"] = statistics.median(r.get("Private_Dirty", 0) + r.get("Private_Clean", 0)
                                                          for r in rollups)
        res["hearthd_rss_n_kib"] = h.rss_kib()
        log("hearthd: worker RSS median %s KiB, max %s KiB (%d workers); hearthd RSS %s KiB"
            % (res["worker_rss_kib"], res["worker_rss_max_kib"], len(rsss), res["hearthd_rss_n_kib"]))
        firsts, fulls = [], []
        for _ in range(args.readopt_runs):
            h.kill9()
            h2 = hearthlib.Hearth(root=h.root, use_notify=False)
            hearths.append(h2)
            h2.start(wait=False)
            t0 = time.perf_counter()   # Popen returned: the process exists
            first, full = wait_all_active(h2.sock, t0, n, h2.alive)
            firsts.append(first)
            fulls.append(full)
            h = h2
            check_all_paused(h.uri, n)
        res["readopt_first_ms"] = statistics.median(firsts)
        res["readopt_list_ms"] = statistics.median(fulls)
        log("hearthd: kill -9 with %d paused guests: first answer %.0f ms, all listed %.0f ms (runs %s)"
            % (n, res["readopt_first_ms"], res["readopt_list_ms"], ", ".join("%.0f" % f for f in fulls)))
        res["destroy_n_s"] = destroy_all(h.uri)
        log("hearthd: destroyed %d guests in %.1f s" % (n, res["destroy_n_s"]))
        res["errors"] = list(ERRORS)
        h.stop()
        problems = [p for x in hearths for p in x.problems]
        if problems:
            raise RuntimeError("\n".join(problems))
    finally:
        for x in hearths:
            if x.proc is not None:
                x.kill9()
        # every worker and QEMU of this root, by PID
        for _ in range(5):
            found = hearthlib.find_processes([str(h.rundir / "qemu") + "/"] + uuids)
            if not found:
                break
            log("killing leftover processes %s" % sorted(found))
            hearthlib.kill_pids(found)
            time.sleep(0.3)
        hearths[0].cleanup()
    return res


def smaps_rollup(pid):
    """{field: KiB} from /proc/PID/smaps_rollup (Rss, Pss, Private_Dirty, ...), or None."""
    if not pid:
        return None
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            out = {}
            for line in f:
                parts = line.split()
                if len(parts) == 3 and parts[2] == "kB":
                    out[parts[0].rstrip(":")] = int(parts[1])
            return out
    except OSError:
        return None


def libvirtd_pid():
    try:
        return int(Path("/run/libvirt/ref-libvirtd.pid").read_text().strip())
    except (OSError, ValueError):
        return None


def run_libvirt(args, kernel, initrd):
    """Inside reference-libvirtd: qemu:///system is a stock libvirtd 9.0."""
    uri = "qemu:///system"
    res = {"who": "libvirtd 9.0 (reference)"}
    serial_dir = tempfile.mkdtemp(prefix="bench-guests-")
    proc = None
    try:
        s, d, _, starts, destroys = bench_start_destroy(uri, kernel, initrd, serial_dir, args.runs, args.settle)
        res.update(start_ms=s, destroy_ms=d, start_runs=starts, destroy_runs=destroys)
        log("libvirtd: virsh start %.0f ms, virsh destroy %.0f ms (medians of %d)" % (s, d, args.runs))
        n = args.n_readopt
        res["start_paused_n_s"] = define_and_start_paused(uri, n, kernel, initrd, args.memory)
        log("libvirtd: %d x start --paused in %.1f s" % (n, res["start_paused_n_s"]))
        time.sleep(1.0)
        pid = libvirtd_pid()
        res["hearthd_rss_n_kib"] = hearthlib.rss_kib(pid) if pid else None
        firsts, fulls = [], []
        for _ in range(args.readopt_runs):
            victim = proc.pid if proc else pid
            os.kill(victim, signal.SIGKILL)
            if proc:
                proc.wait()
            else:
                hearthlib.wait_until(lambda: not hearthlib.proc_alive(victim), 10)
            for sck in ("/run/libvirt/libvirt-sock", "/run/libvirt/libvirt-sock-ro"):
                if os.path.exists(sck):
                    os.unlink(sck)
            proc = subprocess.Popen(["/usr/sbin/libvirtd"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            t0 = time.perf_counter()
            first, full = wait_all_active("/run/libvirt/libvirt-sock", t0, n, lambda: proc.poll() is None)
            firsts.append(first)
            fulls.append(full)
            check_all_paused(uri, n)
        res["readopt_first_ms"] = statistics.median(firsts)
        res["readopt_list_ms"] = statistics.median(fulls)
        log("libvirtd: kill -9 with %d paused guests: first answer %.0f ms, all listed %.0f ms"
            % (n, res["readopt_first_ms"], res["readopt_list_ms"]))
        res["destroy_n_s"] = destroy_all(uri)
        log("libvirtd: destroyed %d guests in %.1f s" % (n, res["destroy_n_s"]))
        res["errors"] = list(ERRORS)
    finally:
        try:
            destroy_all(uri)
        except Exception as e:  # noqa: BLE001 - best effort clean-up
            log("clean-up: %s" % e)
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        uuids = [uuid_for(0)] + [uuid_for(1000 + i) for i in range(args.n_readopt)]
        found = hearthlib.find_processes(uuids)
        hearthlib.kill_pids(found)
    return res


# --------------------------------------------------------------------------- report
ROWS = [
    # key, label, unit, higher_is_better
    ("start_ms", "virsh start", "ms", False),
    ("destroy_ms", "virsh destroy (guest up {settle}s)", "ms", False),
    ("worker_rss_kib", "worker RSS (median of {n} paused)", "KiB", False),
    ("worker_rss_boot_kib", "worker RSS (booting guest)", "KiB", False),
    ("worker_pss_kib", "worker PSS (median of {n})", "KiB", False),
    ("worker_private_kib", "worker private memory (median of {n})", "KiB", False),
    ("start_paused_n_s", "{n} x start --paused", "s", False),
    ("hearthd_rss_n_kib", "daemon RSS with {n} guests", "KiB", False),
    ("readopt_first_ms", "kill -9, {n} guests: first answer", "ms", False),
    ("readopt_list_ms", "kill -9, {n} guests: all listed", "ms", False),
    ("destroy_n_s", "destroy {n} guests", "s", False),
]


def fmt(v):
    if v is None:
        return "-"
    if isinstance(v, float):
        return "%.2f" % v if v < 10 else ("%.1f" % v if v < 100 else "%.0f" % v)
    return str(v)


def report(hearth, ref, args):
    print()
    print("Hearth guest benchmark (%s)" % hearth.get("who"))
    if ref:
        print("side by side with %s" % ref.get("who"))
    print()
    hdr = "%-44s %12s %12s  %s" % ("measure", "hearthd", "libvirtd" if ref else "", "ratio" if ref else "")
    print(hdr)
    print("-" * len(hdr))
    ctx = {"n": args.n_readopt, "settle": args.settle}
    for key, label, unit, higher in ROWS:
        hv = hearth.get(key)
        rv = ref.get(key) if ref else None
        ratio = ""
        if hv and rv:
            r = (hv / rv) if higher else (rv / hv)
            size = key.endswith("rss_kib") or key.endswith("_n_kib")
            if r >= 1:
                ratio = "%.2fx %s" % (r, "smaller" if size else "faster")
            else:
                ratio = "%.2fx %s" % (1 / r, "larger" if size else "slower")
        print("%-44s %12s %12s  %s" % (label.format(**ctx) + " (%s)" % unit, fmt(hv), fmt(rv), ratio))
    for who, r in (("hearthd", hearth), ("libvirtd", ref)):
        errs = (r or {}).get("errors") or []
        if errs:
            uniq = sorted(set(errs))
            print("%s: %d operations reported an error although they took effect: %s"
                  % (who, len(errs), "; ".join(uniq[:3])))
    print()
    print("targets:")
    for key, (desc, target) in TARGETS.items():
        hv = hearth.get(key)
        ok = hv is not None and hv <= target
        desc = desc.replace("N paused", "%d paused" % args.n_readopt).replace("all N", "all %d" % args.n_readopt)
        print("  [%s] %s: %s" % ("PASS" if ok else "MISS", desc, fmt(hv)))


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
    ap.add_argument("--quick", action="store_true", help="3 start/destroy runs, 10 guests to re-adopt")
    ap.add_argument("--runs", type=int, default=7, help="start/destroy cycles (median)")
    ap.add_argument("--settle", type=float, default=1.0, help="seconds a guest runs before destroy")
    ap.add_argument("--n-readopt", type=int, default=50, help="paused guests to re-adopt")
    ap.add_argument("--readopt-runs", type=int, default=3, help="kill -9 / relaunch cycles (median)")
    ap.add_argument("--memory", type=int, default=32, help="MiB per re-adopted guest")
    ap.add_argument("--root-parent", default="/dev/shm" if os.path.isdir("/dev/shm") else "/tmp",
                    help="where hearthd's throw-away root goes")
    # run-bench.sh passes the same options to every benchmark: ignore the other one's
    args, unknown = ap.parse_known_args()
    if unknown:
        log("%s: ignoring options for another benchmark: %s" % (Path(__file__).name, " ".join(unknown)))
    if args.quick:
        args.runs, args.n_readopt, args.readopt_runs = 3, 10, 2

    try:
        import libvirt
        libvirt.registerErrorHandler(lambda ctx, err: None, None)   # errors are handled here
    except ImportError:
        pass
    try:
        kernel, initrd = hearthlib.build_guest()
    except hearthlib.HearthError as e:
        print("cannot build the test guest: %s" % e, file=sys.stderr)
        return 2

    if args.role == "libvirt":
        res = run_libvirt(args, kernel, initrd)
        if args.json:
            Path(args.json).write_text(json.dumps(res))
        else:
            print(json.dumps(res))
        return 0

    problems = hearthlib.check_prerequisites()
    worker = hearthlib.builddir() / "daemon" / "worker" / "hearth-worker"
    if not worker.is_file():
        problems.append("hearth-worker not found at %s" % worker)
    if problems:
        print("cannot run: " + "; ".join(problems), file=sys.stderr)
        return 2
    hres = run_hearth(args, kernel, initrd)
    ref = None
    tool = None if args.no_reference else reference_tool()
    if tool:
        fd, out = tempfile.mkstemp(prefix="bench-ref-", suffix=".json")
        os.close(fd)
        cmd = [tool, sys.executable, str(Path(__file__).resolve()), "--role", "libvirt", "--json", out,
               "--runs", str(args.runs), "--settle", str(args.settle), "--n-readopt", str(args.n_readopt),
               "--readopt-runs", str(args.readopt_runs), "--memory", str(args.memory)]
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
        if cp.stderr:
            log("\n".join(l for l in cp.stderr.splitlines() if l.startswith("libvirtd:")))
    elif not args.no_reference:
        log("reference libvirtd not available: printing Hearth's figures only")
    if args.json:
        Path(args.json).write_text(json.dumps({"hearth": hres, "libvirt": ref}, indent=1))
    report(hres, ref, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
