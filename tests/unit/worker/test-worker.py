#!/usr/bin/python3
"""hearth-worker against a real QEMU (docs/worker-protocol.md).

Usage: test-worker.py HEARTH_WORKER [SCENARIO...]   (all scenarios when none is named)

No guest kernel is needed: most scenarios drive a stopped (-S) machine over QMP. The
lifecycle ones boot a 512-byte boot sector (below) that powers off, resets, panics, or waits
for the ACPI power button and then powers off.
"""
import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

QEMU = shutil.which("qemu-system-x86_64") or "/usr/bin/qemu-system-x86_64"
TINY = [QEMU, "-S", "-machine", "pc,accel=tcg", "-m", "64", "-nodefaults", "-display", "none",
        "-no-shutdown"]

# Boot sector (GNU as, .code16, linked at 0x7c00). The byte at offset 0x1f0 selects:
#   'p' poweroff: outw 0x2000 -> 0x604 (PIIX4 PM1a_CNT, SLP_EN, SLP_TYP 0)
#   'r' reset:    outb 0xfe -> 0x64 (i8042 reset line)
#   'c' panic:    outb 1 -> 0x505 (pvpanic)
#   'w' wait:     set PWRBTN_EN (0x602), poll PWRBTN_STS (0x600), then poweroff
BOOT_CODE = bytes.fromhex(
    "fa31c08ed88ed0bc007cba0206b80001efa0f07d3c7074113c7274163c637418ba0006eda9000174fa"
    "ba0406b80020efeb0cb0fee664eb06ba0505b001eef4ebfd")

VIR_SHUTOFF_SHUTDOWN, VIR_SHUTOFF_DESTROYED, VIR_SHUTOFF_CRASHED = 1, 2, 3
VIR_SHUTOFF_FAILED = 6

results = {"latency_ms": [], "rss_kb": []}


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)


def proc_start(pid):
    with open(f"/proc/{pid}/stat") as f:
        data = f.read()
    return int(data[data.rindex(")") + 2:].split()[19])


def vm_rss(pid):
    with open(f"/proc/{pid}/status") as f:
        return [int(l.split()[1]) for l in f if l.startswith("VmRSS")][0]


def proc_cpu(pid):
    """utime + stime in clock ticks."""
    with open(f"/proc/{pid}/stat") as f:
        data = f.read()
    fields = data[data.rindex(")") + 2:].split()
    return int(fields[11]) + int(fields[12])


def alive(pid, start=None):
    """Running (not a zombie) and, if given, with the recorded start time."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            data = f.read()
    except OSError:
        return False
    fields = data[data.rindex(")") + 2:].split()
    return fields[0] not in ("Z", "X") and (start is None or int(fields[19]) == start)


def wait_until(cond, timeout, what):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.01)
    raise Failure(f"timed out waiting for {what}")


def reap_orphans():
    # We are a subreaper: QEMUs whose worker was killed end up as our children.
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


class Client:
    def __init__(self, path, timeout=10):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.buf = b""
        self.events = []  # not yet waited for
        self.seen = []  # every notification, for checks of what did not happen
        self.next_id = 1
        self.greeting = self.read()

    def read(self):
        while b"\n" not in self.buf:
            data = self.sock.recv(65536)
            if not data:
                raise EOFError("worker closed the control connection")
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        msg = json.loads(line)
        if "event" in msg:
            self.seen.append(msg)
        return msg

    def send(self, obj):
        self.sock.sendall(json.dumps(obj).encode() + b"\n")

    def call(self, cmd, **args):
        req = dict(args, id=self.next_id, cmd=cmd)
        self.next_id += 1
        self.send(req)
        return self.reply(req["id"])

    def reply(self, rid):
        while True:
            msg = self.read()
            if "event" in msg:
                self.events.append(msg)
            elif msg.get("id") == rid:
                return msg

    def ok(self, cmd, **args):
        msg = self.call(cmd, **args)
        check("return" in msg, f"{cmd} failed: {msg}")
        return msg["return"]

    def wait_event(self, pred, what, timeout=20):
        end = time.monotonic() + timeout
        while True:
            for i, ev in enumerate(self.events):
                if pred(ev):
                    del self.events[: i + 1]
                    return ev
            left = end - time.monotonic()
            check(left > 0, f"no event: {what}; saw {self.events}")
            self.sock.settimeout(left)
            try:
                self.events.append(self.read())
            except socket.timeout:
                raise Failure(f"no event: {what}; saw {self.events}")

    def wait_state(self, state, reason):
        return self.wait_event(lambda e: e.get("event") == "state" and e["state"] == state
                               and e["reason"] == reason, f"state {state}/{reason}")

    def wait_eof(self, timeout=10):
        self.sock.settimeout(timeout)
        try:
            while True:
                self.events.append(self.read())
        except EOFError:
            pass

    def close(self):
        self.sock.close()


class Domain:
    """A runtime directory plus the worker (our child) and its QEMU."""

    def __init__(self, argv=None, **conf):
        self.dir = tempfile.mkdtemp(prefix="hw-", dir="/tmp")  # short: socket paths
        self.argv = argv or TINY
        self.conf = {"name": "t", "uuid": "00000000-0000-4000-8000-000000000001"}
        self.conf.update({k: str(v) for k, v in conf.items()})
        self.workers = []
        self.qemu_pids = set()

    def path(self, name):
        return os.path.join(self.dir, name)

    def write_files(self):
        with open(self.path("worker.conf"), "w") as f:
            f.write("".join(f"{k}={v}\n" for k, v in self.conf.items()))
        with open(self.path("qemu.argv"), "wb") as f:
            f.write(b"".join(a.encode() + b"\0" for a in self.argv))

    def spawn(self, adopt=False, pass_fds=()):
        if not adopt:
            self.write_files()
        args = [WORKER, "--dir", self.dir] + (["--adopt"] if adopt else [])
        p = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, pass_fds=pass_fds)
        self.workers.append(p)
        return p

    def start(self, adopt=False, pass_fds=()):
        """Spawns a worker and connects as hearthd does; returns (process, client)."""
        t0 = time.monotonic()
        p = self.spawn(adopt, pass_fds)
        while True:
            try:
                c = Client(self.path("control.sock"))
                break
            except (FileNotFoundError, ConnectionRefusedError):
                if p.poll() is not None:
                    raise Failure(f"worker exited {p.returncode}: {p.stderr.read().decode()}")
                time.sleep(0.0005)
        ms = (time.monotonic() - t0) * 1000
        if not adopt:
            results["latency_ms"].append(ms)
        st = self.status()
        if "qemu_pid" in st:
            self.qemu_pids.add(int(st["qemu_pid"]))
        return p, c

    def status(self):
        with open(self.path("status")) as f:
            return dict(line.rstrip("\n").split("=", 1) for line in f if "=" in line)

    def cleanup(self):
        for pid in self.qemu_pids:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
        for p in self.workers:
            if p.poll() is None:
                p.kill()
            p.wait()
            p.stdout.close()
            p.stderr.close()
        for pid in self.qemu_pids:
            wait_until(lambda: not alive(pid), 10, f"QEMU {pid} to go")
        reap_orphans()
        shutil.rmtree(self.dir, ignore_errors=True)


def boot_domain(mode, **conf):
    d = Domain(**conf)
    img = bytearray(65536)
    img[: len(BOOT_CODE)] = BOOT_CODE
    img[0x1F0] = ord(mode)
    img[510:512] = b"\x55\xaa"
    with open(d.path("boot.img"), "wb") as f:
        f.write(img)
    d.argv = [QEMU, "-machine", "pc,accel=tcg", "-m", "16", "-nodefaults", "-display", "none",
              "-device", "pvpanic", "-drive", f"file={d.path('boot.img')},format=raw,if=ide"]
    return d


def check_final(d, p, client, reason, exit_status=None):
    """QEMU gone, final status written, `exited` sent, sockets removed, worker exits."""
    ev = client.wait_event(lambda e: e.get("event") == "exited", "exited")
    check(ev["state"] == "shutoff" and ev["reason"] == reason, f"exited event {ev}")
    # only a QEMU killed from outside (reason crashed with an exit signal) ends unasked
    unasked = reason == VIR_SHUTOFF_CRASHED and (exit_status or "").startswith("signal:")
    check(ev.get("unexpected") is unasked, f"unexpected {ev.get('unexpected')} in {ev}")
    st = d.status()
    check(st["state"] == "shutoff" and int(st["reason"]) == reason, f"final status {st}")
    if exit_status:
        check(st.get("exit_status") == exit_status == ev.get("exit_status"),
              f"exit_status {st.get('exit_status')} / {ev.get('exit_status')}")
    check(not alive(int(st["qemu_pid"]), int(st["qemu_start"])), "QEMU still alive")
    check(not os.path.exists(d.path("control.sock")), "control.sock left behind")
    check(not os.path.exists(d.path("qmp.sock")), "qmp.sock left behind")
    check(p.poll() is None, "worker exited while a client was connected")
    cpu = proc_cpu(p.pid)
    time.sleep(0.2)
    check(proc_cpu(p.pid) - cpu < 5, "the worker spins while it waits for its clients")
    client.close()
    check(p.wait(timeout=5) == 0, f"worker exit status {p.returncode}")
    return st


# --- scenarios ------------------------------------------------------------------------------

def test_start_control_destroy():
    d = Domain(argv=TINY + ["-chardev", "pty,id=serial0"])
    try:
        p, c = d.start()
        g = c.greeting
        check(g["hearth-worker"] == 1 and g["pid"] == p.pid, f"greeting {g}")
        check(g["state"] == "running" and g["reason"] == 1, f"greeting state {g}")
        st = d.status()
        check(st["version"] == "1", "status version")
        check(int(st["worker_pid"]) == p.pid, "worker_pid")
        check(int(st["worker_start"]) == proc_start(p.pid), "worker_start")
        qpid, qstart = int(st["qemu_pid"]), int(st["qemu_start"])
        check(alive(qpid, qstart) and proc_start(qpid) == qstart, "qemu_pid/qemu_start")
        check(st["state"] == "running" and st["reason"] == "1", f"status state {st}")
        check(st.get("pty.serial0", "").startswith("/dev/pts/"), f"pty path {st}")
        check(abs(int(st["updated"]) - time.time()) < 60, "updated")
        rss = vm_rss(p.pid)
        results["rss_kb"].append(rss)
        # A big reply must not leave the heap grown (the worker trims it afterwards).
        for _ in range(3):
            check(len(c.ok("qmp", execute="query-qmp-schema")) > 100, "query-qmp-schema")
        with open(f"/proc/{p.pid}/maps") as f:
            sanitized = "libasan" in f.read()
        if not sanitized:
            # The worker trims its heap after the reply has gone out: give it a moment.
            deadline = time.time() + 3
            while vm_rss(p.pid) >= rss + 512 and time.time() < deadline:
                time.sleep(0.05)
            check(vm_rss(p.pid) < rss + 512, f"RSS grew from {rss} to {vm_rss(p.pid)} kB")
        check(c.ok("status") == dict(st, updated=c.ok("status")["updated"]), "status command")

        # A second client sees the notifications too.
        c2 = Client(d.path("control.sock"))
        check(c2.greeting["state"] == "running", "second greeting")

        c.ok("stop")
        c.wait_event(lambda e: e.get("event") == "qmp" and e["name"] == "STOP", "qmp STOP")
        c.wait_state("paused", 1)
        c2.wait_state("paused", 1)
        check(d.status()["state"] == "paused", "status paused")
        check(c.ok("qmp", execute="query-status")["status"] == "paused", "query-status paused")
        c.ok("cont")
        c.wait_state("running", 5)
        check(d.status()["reason"] == "5", "status running/unpaused")
        r = c.ok("qmp", execute="query-status")
        check(r["status"] == "running" and r["running"] is True, f"query-status {r}")
        r = c.ok("qmp", execute="query-chardev")
        check(any(x["label"] == "charmonitor" for x in r), "qmp returns arrays too")

        err = c.call("qmp", execute="no-such-command")["error"]
        check(err["code"] == 9 and "no-such-command" in err["message"], f"qmp error {err}")
        err = c.call("qmp", execute="query-status", arguments=[1])["error"]
        check(err["code"] == 8, f"bad arguments {err}")
        check(c.call("frobnicate")["error"]["code"] == 3, "unknown command")
        check(c.call("shutdown-worker")["error"]["code"] == 55, "shutdown-worker while running")
        c.sock.sendall(b"this is not json\n")
        m = c.read()
        check(m["id"] is None and m["error"]["code"] == 8, f"malformed request {m}")
        c.sock.sendall(b'{"cmd":"status"}\n')
        check(c.read()["error"]["code"] == 8, "request without id")
        # Requests queue and are answered in order.
        c.send({"id": 100, "cmd": "stop"})
        c.send({"id": 101, "cmd": "cont"})
        c.send({"id": 102, "cmd": "qmp", "execute": "query-status"})
        check(c.reply(100).get("return") == {}, "queued stop")
        check(c.reply(101).get("return") == {}, "queued cont")
        check(c.reply(102)["return"]["status"] == "running", "queued query")
        c2.close()

        c.events.clear()
        t0 = time.monotonic()
        check(c.ok("destroy") == {}, "destroy")
        check(time.monotonic() - t0 < 2, "destroy took too long")
        st = check_final(d, p, c, VIR_SHUTOFF_DESTROYED, "exit:0")
        check(st.get("pty.serial0"), "ptys kept in the final status")
    finally:
        d.cleanup()


def test_start_paused_graceful():
    d = Domain(start_paused=1)
    try:
        p, c = d.start()
        check(c.greeting["state"] == "paused" and c.greeting["reason"] == 1, c.greeting)
        check(c.ok("qmp", execute="query-status")["status"] == "prelaunch", "prelaunch")
        c.ok("cont")
        c.wait_state("running", 5)
        c.ok("destroy", graceful=True)
        check_final(d, p, c, VIR_SHUTOFF_DESTROYED, "exit:0")
    finally:
        d.cleanup()


def test_qemu_killed():
    d = Domain()
    try:
        p, c = d.start()
        qpid = int(d.status()["qemu_pid"])
        os.kill(qpid, signal.SIGKILL)
        st = check_final(d, p, c, VIR_SHUTOFF_CRASHED, "signal:9")
        check("error" not in st, "no error for a crash")
        # Without any client, the worker exits at once.
        d2 = Domain()
        try:
            p2, c2 = d2.start()
            c2.close()
            os.kill(int(d2.status()["qemu_pid"]), signal.SIGKILL)
            check(p2.wait(timeout=5) == 0, "worker exit without clients")
            check(d2.status()["reason"] == str(VIR_SHUTOFF_CRASHED), "crashed without clients")
        finally:
            d2.cleanup()
    finally:
        d.cleanup()


def test_signals_ignored():
    d = Domain()
    try:
        p, c = d.start()
        qpid = int(d.status()["qemu_pid"])
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            os.kill(p.pid, sig)
        time.sleep(0.3)
        check(p.poll() is None and alive(qpid), "worker or QEMU died on a signal")
        check(c.ok("qmp", execute="query-status")["status"] == "running", "still serving")
        c.ok("destroy")
        check_final(d, p, c, VIR_SHUTOFF_DESTROYED)
    finally:
        d.cleanup()


def test_second_start_refused():
    d = Domain()
    try:
        p, c = d.start()
        before = d.status()
        q = d.spawn()
        check(q.wait(timeout=5) == 1, "a second worker on the same directory")
        check(b"still running" in q.stderr.read(), "refusal message")
        check(d.status() == before, "the live worker's status was touched")
        check(c.ok("qmp", execute="query-status")["status"] == "running", "first one unharmed")
        c.ok("destroy")
        check_final(d, p, c, VIR_SHUTOFF_DESTROYED)
    finally:
        d.cleanup()


def test_inherited_fds():
    """Descriptors hearthd passes (taps) reach QEMU at the same number; the worker drops its
    copies."""
    r, w = os.pipe()
    d = Domain()
    try:
        p, c = d.start(pass_fds=(w,))
        os.close(w)
        qpid = int(d.status()["qemu_pid"])
        check(os.path.exists(f"/proc/{qpid}/fd/{w}"), "QEMU did not get the fd")
        check(os.readlink(f"/proc/{qpid}/fd/{w}") == os.readlink(f"/proc/self/fd/{r}"),
              "QEMU's fd is another file")
        worker_fds = {os.readlink(f"/proc/{p.pid}/fd/{fd}") for fd in os.listdir(f"/proc/{p.pid}/fd")}
        check(os.readlink(f"/proc/self/fd/{r}") not in worker_fds, "the worker kept its copy")
        qemu_fds = {os.readlink(f"/proc/{qpid}/fd/{fd}") for fd in os.listdir(f"/proc/{qpid}/fd")}
        check(not any("control.sock" in x or "status" in x for x in qemu_fds), f"{qemu_fds}")
        check(len(worker_fds) < 16, f"worker fds {worker_fds}")
        c.ok("destroy")
        check_final(d, p, c, VIR_SHUTOFF_DESTROYED)
    finally:
        os.close(r)
        d.cleanup()


def test_qemu_user():
    d = Domain(qemu_ids="65534:65534:65534")  # nobody:nogroup, as hearthd resolves them
    try:
        p, c = d.start()
        qpid = int(d.status()["qemu_pid"])
        with open(f"/proc/{qpid}/status") as f:
            ids = {l.split(":")[0]: l.split()[1:] for l in f if l[:4] in ("Uid:", "Gid:", "Grou")}
        check(ids["Uid"] == ["65534"] * 4 and ids["Gid"] == ["65534"] * 4, f"ids {ids}")
        check(ids.get("Groups") == ["65534"], f"groups {ids.get('Groups')}")
        check(os.stat(d.path("qmp.sock")).st_mode & 0o777 == 0o600, "qmp.sock mode")
        check(os.stat(d.path("control.sock")).st_mode & 0o777 == 0o600, "control.sock mode")
        c.ok("destroy")
        check_final(d, p, c, VIR_SHUTOFF_DESTROYED)
    finally:
        d.cleanup()


def fake_qemu(d, script):
    path = d.path("fake-qemu")
    with open(path, "w") as f:
        f.write("#!/bin/sh\n" + script + "\n")
    os.chmod(path, 0o755)
    return [path]


def test_start_timeout():
    d = Domain(start_timeout_ms=400)
    d.argv = fake_qemu(d, "exec sleep 60")  # never answers on the monitor
    try:
        t0 = time.monotonic()
        p = d.spawn()
        check(p.wait(timeout=10) == 1, "exit status")
        check(0.35 < time.monotonic() - t0 < 3, "deadline")
        st = d.status()
        check(st["state"] == "shutoff" and int(st["reason"]) == VIR_SHUTOFF_FAILED, f"{st}")
        check("did not answer on its monitor within 400 ms" in st["error"], st["error"])
        check(st["exit_status"] == "signal:9" and not alive(int(st["qemu_pid"])), "killed")
    finally:
        d.cleanup()
    d = Domain()
    d.argv = fake_qemu(d, "echo 'warning: something odd' >&2; echo 'fatal: the real reason' >&2")
    try:
        p = d.spawn()
        check(p.wait(timeout=10) == 1, "exit status")
        check(d.status()["error"] == "fatal: the real reason", d.status()["error"])
    finally:
        d.cleanup()


def test_adopt():
    d = Domain()
    try:
        p, c = d.start()
        c.ok("stop")
        c.wait_state("paused", 1)
        st = d.status()
        qpid, qstart = int(st["qemu_pid"]), int(st["qemu_start"])
        # A live worker is never replaced.
        busy = d.spawn(adopt=True)
        check(busy.wait(timeout=5) == 1, "adopt while the worker lives")
        check(b"still running" in busy.stderr.read(), "adopt refusal message")

        p.kill()
        p.wait()
        c.wait_eof()
        c.close()
        check(alive(qpid, qstart), "QEMU must outlive its worker")

        p2, c2 = d.start(adopt=True)
        g = c2.greeting
        check(g["state"] == "paused" and g["reason"] == 1 and g["pid"] == p2.pid, f"greeting {g}")
        st = d.status()
        check(int(st["worker_pid"]) == p2.pid and int(st["worker_start"]) == proc_start(p2.pid),
              f"adopted worker pid/start {st}")
        check(int(st["qemu_pid"]) == qpid and int(st["qemu_start"]) == qstart, "same QEMU")
        check(c2.ok("qmp", execute="query-status")["status"] == "paused", "query-status")
        c2.ok("cont")
        c2.wait_state("running", 5)
        c2.ok("destroy")
        st = check_final(d, p2, c2, VIR_SHUTOFF_DESTROYED)
        check("exit_status" not in st, "no exit status for a QEMU that is not our child")
        reap_orphans()
    finally:
        d.cleanup()


def test_adopt_dead_qemu():
    d = Domain()
    try:
        p, c = d.start()
        qpid = int(d.status()["qemu_pid"])
        p.kill()
        p.wait()
        c.close()
        os.kill(qpid, signal.SIGKILL)
        wait_until(lambda: not alive(qpid), 5, "QEMU to die")
        reap_orphans()
        a = d.spawn(adopt=True)
        check(a.wait(timeout=5) == 1, "adopt of a dead QEMU fails")
        st = d.status()
        check(st["state"] == "shutoff" and int(st["reason"]) == VIR_SHUTOFF_CRASHED, f"{st}")
        check(int(st["worker_pid"]) == a.pid, "status names the adopting worker")
    finally:
        d.cleanup()


def test_bad_argv():
    for extra, want in ((["-kernel", "/nonexistent"], "could not open kernel file '/nonexistent'"),
                        (["-device", "nosuchdev", "-msg", "timestamp=on"],
                         "qemu-system-x86_64: -device nosuchdev: 'nosuchdev' is not a valid device model name")):
        d = Domain(argv=TINY + extra)
        try:
            t0 = time.monotonic()
            p = d.spawn()
            rc = p.wait(timeout=10)
            err = p.stderr.read().decode()
            check(rc == 1, f"exit status {rc}")
            st = d.status()
            check(st["state"] == "shutoff" and int(st["reason"]) == VIR_SHUTOFF_FAILED, f"{st}")
            check(want in st.get("error", "") and want in err, f"error {st.get('error')!r}")
            check(not st["error"][:4].isdigit(), "timestamp not stripped")
            check(not alive(int(st["qemu_pid"])), "stray QEMU")
            check(not os.path.exists(d.path("control.sock")), "control.sock")
            check(not os.path.exists(d.path("qmp.sock")), "qmp.sock")
            check(time.monotonic() - t0 < 5, "slow failure")
        finally:
            d.cleanup()
    d = Domain(argv=["/nonexistent/qemu"])
    try:
        p = d.spawn()
        check(p.wait(timeout=5) == 1, "exec failure exit")
        st = d.status()
        check("cannot execute '/nonexistent/qemu'" in st.get("error", ""), f"{st}")
        check("qemu_pid" not in st and "exit_status" not in st, f"no QEMU ran: {st}")
        check(int(st["reason"]) == VIR_SHUTOFF_FAILED, f"{st}")
    finally:
        d.cleanup()


def test_timeout():
    d = Domain()
    try:
        p, c = d.start()
        qpid = int(d.status()["qemu_pid"])
        os.kill(qpid, signal.SIGSTOP)  # a hung QEMU
        try:
            t0 = time.monotonic()
            err = c.call("qmp", execute="query-status", timeout_ms=300)["error"]
            took = time.monotonic() - t0
            check(err["code"] == 68 and 0.25 < took < 2, f"timeout {err} after {took:.2f}s")
            # status never waits behind a stuck command
            c.send({"id": 50, "cmd": "stop", "timeout_ms": 5000})
            check(c.call("status")["return"]["state"] == "running", "status while stuck")
        finally:
            os.kill(qpid, signal.SIGCONT)
        check(c.reply(50).get("return") == {}, "queued stop after the hang")
        check(c.ok("qmp", execute="query-status")["status"] == "paused", "late reply discarded")
        c.ok("destroy")
        check_final(d, p, c, VIR_SHUTOFF_DESTROYED)
    finally:
        d.cleanup()


def test_destroy_escalation():
    """A QEMU that does not react to SIGTERM (stopped here) gets SIGKILL after 1 s, unless the
    destroy is graceful; then the request times out and the SIGTERM still counts later."""
    d = Domain()
    try:
        p, c = d.start()
        qpid = int(d.status()["qemu_pid"])
        os.kill(qpid, signal.SIGSTOP)
        err = c.call("destroy", graceful=True, timeout_ms=400)["error"]
        check(err["code"] == 68, f"graceful destroy of a stuck QEMU: {err}")
        check(alive(qpid), "graceful destroy must not SIGKILL")
        os.kill(qpid, signal.SIGCONT)  # the pending SIGTERM ends it now
        check_final(d, p, c, VIR_SHUTOFF_DESTROYED, "exit:0")
    finally:
        d.cleanup()
    d = Domain()
    try:
        p, c = d.start()
        os.kill(int(d.status()["qemu_pid"]), signal.SIGSTOP)
        t0 = time.monotonic()
        c.ok("destroy")
        took = time.monotonic() - t0
        check(0.9 < took < 3, f"SIGKILL after {took:.2f}s")
        check_final(d, p, c, VIR_SHUTOFF_DESTROYED, "signal:9")
    finally:
        d.cleanup()


def test_guest_poweroff():
    d = boot_domain("p", on_poweroff="destroy")
    try:
        p, c = d.start()
        ev = c.wait_event(lambda e: e.get("name") == "SHUTDOWN", "guest SHUTDOWN")
        check(ev["data"]["guest"] is True, f"{ev}")
        check_final(d, p, c, VIR_SHUTOFF_SHUTDOWN, "exit:0")
    finally:
        d.cleanup()


def test_guest_poweroff_restart():
    d = boot_domain("p", on_poweroff="restart")
    try:
        p, c = d.start()
        c.wait_event(lambda e: e.get("name") == "SHUTDOWN", "guest SHUTDOWN")
        c.wait_state("shutdown", 0)
        c.wait_event(lambda e: e.get("name") == "RESET", "RESET from the worker")
        c.wait_state("running", 1)
        c.ok("destroy")
        check_final(d, p, c, VIR_SHUTOFF_DESTROYED)
    finally:
        d.cleanup()


def press_until_shutdown(c, cmd):
    """The button only counts once the boot sector has enabled it: press until it does."""
    for _ in range(20):
        c.ok(cmd)
        try:
            return c.wait_event(lambda e: e.get("name") == "SHUTDOWN" and e["data"]["guest"],
                                "guest SHUTDOWN", timeout=0.5)
        except Failure:
            pass
    raise Failure(f"the guest never reacted to {cmd}")


def test_fake_reboot_and_powerdown():
    d = boot_domain("w", on_poweroff="destroy")
    try:
        p, c = d.start()
        c.seen.clear()
        press_until_shutdown(c, "reboot")
        c.wait_event(lambda e: e.get("name") == "RESET", "RESET from the worker")
        c.wait_event(lambda e: e.get("name") == "RESUME", "RESUME after the reset")
        time.sleep(0.2)
        c.call("status")
        check(not [e for e in c.seen if e.get("event") == "state"], f"state moved: {c.seen}")
        st = d.status()
        check(st["state"] == "running" and p.poll() is None, f"still running {st}")
        check(c.ok("qmp", execute="query-status")["status"] == "running", "running again")
        press_until_shutdown(c, "powerdown")
        check_final(d, p, c, VIR_SHUTOFF_SHUTDOWN)
    finally:
        d.cleanup()


def test_guest_reset_destroy():
    d = boot_domain("r", on_reboot="destroy")
    try:
        p, c = d.start()
        c.wait_event(lambda e: e.get("name") == "RESET" and e["data"]["guest"], "guest RESET")
        check_final(d, p, c, VIR_SHUTOFF_SHUTDOWN)
    finally:
        d.cleanup()


def test_guest_panic():
    d = boot_domain("c", on_crash="destroy")
    try:
        p, c = d.start()
        c.wait_event(lambda e: e.get("name") == "GUEST_PANICKED", "GUEST_PANICKED")
        check_final(d, p, c, VIR_SHUTOFF_CRASHED)
        states = [e for e in c.seen if e.get("event") == "state" and e["state"] != "shutdown"]
        check(not states, f"transient states on the way out: {states}")
    finally:
        d.cleanup()


def test_guest_panic_preserve():
    d = boot_domain("c", on_crash="preserve")
    try:
        p, c = d.start()
        c.wait_state("crashed", 1)
        time.sleep(0.3)
        check(d.status()["state"] == "crashed" and p.poll() is None, "preserved")
        c.ok("destroy")
        check_final(d, p, c, VIR_SHUTOFF_DESTROYED)
    finally:
        d.cleanup()


SCENARIOS = {name[5:]: fn for name, fn in globals().items() if name.startswith("test_")}


def main():
    global WORKER
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    WORKER = os.path.abspath(sys.argv[1])
    if not os.access(QEMU, os.X_OK):
        print(f"skipped: {QEMU} is not installed")
        return 77
    names = sys.argv[2:] or list(SCENARIOS)
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER: orphaned QEMUs come to us
    failed = 0
    for name in names:
        t0 = time.monotonic()
        try:
            SCENARIOS[name]()
            print(f"ok   {name} ({time.monotonic() - t0:.2f}s)")
        except Exception as e:  # report every scenario, then fail
            failed += 1
            print(f"FAIL {name}: {type(e).__name__}: {e}")
    if results["latency_ms"]:
        lat = sorted(results["latency_ms"])
        print(f"spawn to greeting: min {lat[0]:.1f} ms, median {lat[len(lat) // 2]:.1f} ms, "
              f"max {lat[-1]:.1f} ms over {len(lat)} starts")
    if results["rss_kb"]:
        print(f"worker VmRSS with QEMU running: {results['rss_kb'][0]} kB")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
