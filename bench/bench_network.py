#!/usr/bin/python3
"""Network start/stop benchmark: `virsh net-start default` and `virsh net-destroy default`,
optionally side by side with a stock libvirtd.

    /usr/bin/python3 bench/bench_network.py              # hearthd, then reference libvirtd if available
    /usr/bin/python3 bench/bench_network.py --no-reference
    /usr/bin/python3 bench/bench_network.py --runs 5     # fewer cycles

hearthd runs in a network namespace of its own (as in tests/integration/test_network.py), with
a fresh root, so the bridge, nftables table and dnsmasq it creates never reach the host. Each
cycle destroys then starts `default` (virbr0, 192.168.122.1/24, DHCP, NAT).

Figures (medians over --runs cycles):
  virsh_start_ms     wall time of `virsh net-start default` (includes virsh's own ~20 ms)
  virsh_destroy_ms   wall time of `virsh net-destroy default`
  api_start_ms       python3-libvirt network.create() on an open connection
  api_destroy_ms     python3-libvirt network.destroy()
Targets: start <= 100 ms, destroy <= 50 ms (libvirtd 9.0 here: 141 ms and 433 ms).

--role libvirt is what runs *inside* /work/shared/tools/reference-libvirtd against its libvirtd.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "integration"))

import hearthlib  # noqa: E402
from net_ns import NetNs, wrapper_for  # noqa: E402

TARGETS = {"virsh_start_ms": 100.0, "virsh_destroy_ms": 50.0}
PUBLISHED_LIBVIRTD = {"virsh_start_ms": 141.0, "virsh_destroy_ms": 433.0}


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def virsh_ms(uri, *args):
    env = dict(os.environ, LC_ALL="C")
    t0 = time.perf_counter()
    cp = subprocess.run(["virsh", "-c", uri] + list(args), capture_output=True, text=True, env=env)
    dt = (time.perf_counter() - t0) * 1000
    if cp.returncode != 0:
        raise RuntimeError("virsh %s failed: %s" % (" ".join(args), cp.stderr.strip()))
    return dt


def measure(uri, runs):
    import libvirt
    res = {k: [] for k in ("virsh_start_ms", "virsh_destroy_ms", "api_start_ms", "api_destroy_ms")}
    conn = libvirt.open(uri)
    try:
        net = conn.networkLookupByName("default")
        if not net.isActive():
            net.create()
        time.sleep(0.2)
        for _ in range(runs):
            res["virsh_destroy_ms"].append(virsh_ms(uri, "net-destroy", "default"))
            res["virsh_start_ms"].append(virsh_ms(uri, "net-start", "default"))
            time.sleep(0.1)
        for _ in range(runs):
            t0 = time.perf_counter()
            net.destroy()
            res["api_destroy_ms"].append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            net.create()
            res["api_start_ms"].append((time.perf_counter() - t0) * 1000)
            time.sleep(0.1)
    finally:
        conn.close()
    out = {k: statistics.median(v) for k, v in res.items()}
    out["samples"] = res
    return out


def run_hearth(runs):
    ns = NetNs("hnb")
    tmp = Path(tempfile.mkdtemp(prefix="hearth-bench-net-"))
    h = hearthlib.Hearth()
    try:
        h.binary = wrapper_for(ns, hearthlib.hearthd_binary(), tmp)
        h.start()
        out = measure(h.uri, runs)
        out["who"] = "hearthd %s (in netns %s)" % (hearthlib.hearthd_binary(), ns.name)
        return out
    finally:
        h.stop()
        h.cleanup()
        ns.remove()
        shutil.rmtree(tmp, ignore_errors=True)


def run_reference(runs):
    tool = os.environ.get("REFERENCE_LIBVIRTD", "/work/shared/tools/reference-libvirtd")
    if not (os.access(tool, os.X_OK) and os.path.exists("/usr/sbin/libvirtd")):
        return None
    out = tempfile.NamedTemporaryFile(prefix="bench-net-ref-", suffix=".json", delete=False)
    out.close()
    cp = subprocess.run([tool, "/usr/bin/python3", str(Path(__file__).resolve()), "--role",
                         "libvirt", "--runs", str(runs), "--json", out.name],
                        capture_output=True, text=True, timeout=600)
    try:
        if cp.returncode != 0:
            log("reference run failed:\n" + cp.stderr[-2000:])
            return None
        with open(out.name) as f:
            return json.load(f)
    finally:
        os.unlink(out.name)


def report(hearth, ref):
    print()
    print("network start/stop (%s)" % hearth["who"])
    if ref:
        print("side by side with %s" % ref["who"])
    hdr = "%-36s %10s %10s  %s" % ("figure (median ms)", "hearthd", "libvirtd", "")
    print(hdr)
    print("-" * len(hdr))
    for key, label in (("virsh_start_ms", "virsh net-start default"),
                       ("virsh_destroy_ms", "virsh net-destroy default"),
                       ("api_start_ms", "network.create() (python3-libvirt)"),
                       ("api_destroy_ms", "network.destroy() (python3-libvirt)")):
        hv = hearth[key]
        rv = ref[key] if ref else None
        ratio = "%.1fx faster" % (rv / hv) if rv and hv else ""
        print("%-36s %10.1f %10s  %s" % (label, hv, "%.1f" % rv if rv else "-", ratio))
    print()
    print("targets:")
    for key, limit in TARGETS.items():
        ok = hearth[key] <= limit
        print("  [%s] %s <= %.0f ms: %.1f ms (libvirtd published: %.0f ms)"
              % ("PASS" if ok else "MISS", key, limit, hearth[key], PUBLISHED_LIBVIRTD[key]))


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--role", choices=["hearth", "libvirt"], default="hearth")
    ap.add_argument("--runs", type=int, default=9)
    ap.add_argument("--no-reference", action="store_true")
    ap.add_argument("--json", help="write the figures here")
    args = ap.parse_args()

    if args.role == "libvirt":
        out = measure("qemu:///system", args.runs)
        out["who"] = "stock libvirtd 9.0 (reference-libvirtd)"
        with open(args.json, "w") as f:
            json.dump(out, f)
        return 0
    hearth = run_hearth(args.runs)
    ref = None if args.no_reference else run_reference(args.runs)
    report(hearth, ref)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"hearth": hearth, "libvirt": ref}, f, indent=2)
    return 0 if all(hearth[k] <= v for k, v in TARGETS.items()) else 1


if __name__ == "__main__":
    sys.exit(main())
