"""Start, watch and stop a hearthd instance on a private root (used by the
integration tests' conftest.py and by bench/).

Nothing here depends on pytest: failures raise HearthError with the daemon's
stderr and log attached, so the caller can turn them into a test failure.
"""

import ctypes
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import contextlib
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# sanitizer / crash signatures that make a run fail even if the daemon exited 0
CRASH_PATTERNS = [
    re.compile(r"ERROR: AddressSanitizer"),
    re.compile(r"ERROR: LeakSanitizer"),
    re.compile(r"WARNING: ThreadSanitizer"),
    re.compile(r"runtime error: "),          # UBSan
    re.compile(r"\bGLib-CRITICAL\b|\bGLib-GIO-CRITICAL\b|\bGLib-ERROR\b"),
    re.compile(r"\*\*\* (stack smashing|buffer overflow) detected \*\*\*"),
    re.compile(r"(double free|free\(\): invalid|malloc\(\): corrupted|corrupted size vs)"),
]

START_TIMEOUT = float(os.environ.get("HEARTH_START_TIMEOUT", "20"))
STOP_TIMEOUT = float(os.environ.get("HEARTH_STOP_TIMEOUT", "10"))


class HearthError(Exception):
    pass


def builddir():
    return Path(os.environ.get("HEARTH_BUILDDIR", REPO / "build"))


def hearthd_binary():
    return Path(os.environ.get("HEARTHD", builddir() / "daemon" / "hearthd"))


def check_prerequisites():
    """Return a list of human readable problems (empty when all is there)."""
    problems = []
    if shutil.which("virsh") is None:
        problems.append("virsh not found on PATH: apt-get install libvirt-clients")
    try:
        import libvirt  # noqa: F401
    except ImportError:
        problems.append("python3-libvirt is not importable by %s: apt-get install python3-libvirt "
                        "and run the tests with /usr/bin/python3 -m pytest" % os.sys.executable)
    if os.environ.get("HEARTH_EXTERNAL_SOCKET"):
        return problems
    b = hearthd_binary()
    if not b.is_file() or not os.access(b, os.X_OK):
        problems.append("hearthd binary not found at %s (build it: meson setup build && meson compile -C "
                        "build, or set HEARTH_BUILDDIR / HEARTHD)" % b)
    return problems


def _pdeathsig():
    # kill the daemon if the test runner dies (no orphaned daemons on hard exits)
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:
        pass


_sanitized = {}


def is_sanitized(binary=None):
    """True when hearthd is an ASan build (its freed memory sits in a quarantine, so RSS
    figures are meaningless there)."""
    b = str(binary or hearthd_binary())
    if b not in _sanitized:
        try:
            with open(b, "rb") as f:
                _sanitized[b] = b"__asan_init" in f.read()
        except OSError:
            _sanitized[b] = False
    return _sanitized[b]


def rss_slack_kib():
    """Extra RSS allowance for sanitizer builds (ASan's default quarantine is 256 MiB)."""
    return 320 * 1024 if is_sanitized() else 0


def rss_kib(pid):
    """VmRSS of pid in KiB (None if gone)."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None


def hwm_kib(pid):
    """VmHWM (peak RSS) of pid in KiB."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except FileNotFoundError:
        return None
    return None


def wait_socket_accepts(path, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(str(path))
            return True
        except OSError:
            time.sleep(0.01)
        finally:
            s.close()
    return False


class Hearth:
    """One hearthd on a private root directory.

    root        the --root directory (short, under /tmp: unix socket paths are limited to 108 bytes)
    uri/ro_uri  qemu+unix URIs for the read-write and read-only sockets
    """

    def __init__(self, root=None, conf=None, extra_args=(), env=None, use_notify=True, parent=None):
        self.binary = hearthd_binary()
        self.own_root = root is None
        self.root = Path(root) if root else Path(tempfile.mkdtemp(prefix="hearth-", dir=parent or "/tmp"))
        self.extra_args = list(extra_args)
        self.extra_env = dict(env or {})
        self.use_notify = use_notify
        self.proc = None
        self.generation = 0
        self.notify_messages = []
        self.problems = []           # unexpected deaths / sanitizer reports, collected across restarts
        self.stderr_paths = []
        self.start_seconds = None
        self.confdir.mkdir(parents=True, exist_ok=True)
        if conf is not None:
            self.write_conf(conf)

    # -- paths ----------------------------------------------------------------
    @property
    def confdir(self):
        return self.root / "etc" / "hearth"

    @property
    def conf_path(self):
        return self.confdir / "hearthd.conf"

    @property
    def qemu_dir(self):
        return self.confdir / "qemu"

    @property
    def autostart_dir(self):
        return self.qemu_dir / "autostart"

    @property
    def rundir(self):
        return self.root / "run" / "hearth"

    @property
    def sock(self):
        return self.rundir / "hearth-sock"

    @property
    def sock_ro(self):
        return self.rundir / "hearth-sock-ro"

    @property
    def statedir(self):
        return self.root / "var" / "lib" / "hearth"

    @property
    def logfile(self):
        return self.root / "var" / "log" / "hearth" / "hearthd.log"

    @property
    def uri(self):
        return "qemu+unix:///system?socket=%s" % self.sock

    @property
    def ro_uri(self):
        return "qemu+unix:///system?socket=%s" % self.sock_ro

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def write_conf(self, text):
        self.confdir.mkdir(parents=True, exist_ok=True)
        self.conf_path.write_text(text)

    # -- diagnostics ----------------------------------------------------------
    def stderr_text(self, all_generations=False):
        paths = self.stderr_paths if all_generations else self.stderr_paths[-1:]
        out = []
        for p in paths:
            try:
                out.append(Path(p).read_text(errors="replace"))
            except FileNotFoundError:
                pass
        return "".join(out)

    def log_text(self):
        try:
            return self.logfile.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def diagnostics(self, tail=60):
        def t(s):
            lines = s.splitlines()
            return "\n".join(lines[-tail:]) if lines else "(empty)"
        rc = self.proc.poll() if self.proc else None
        return ("hearthd %s (pid %s, exit status %s)\n--- stderr (last %d lines) ---\n%s\n"
                "--- %s (last %d lines) ---\n%s"
                % (self.binary, self.pid, rc, tail, t(self.stderr_text()), self.logfile, tail,
                   t(self.log_text())))

    def _scan_for_crash(self, text):
        hits = []
        for pat in CRASH_PATTERNS:
            m = pat.search(text)
            if m:
                start = max(0, m.start() - 200)
                hits.append(text[start:m.start() + 1500])
        return hits

    # -- lifecycle ------------------------------------------------------------
    def start(self, timeout=START_TIMEOUT, wait=True):
        if self.proc is not None and self.proc.poll() is None:
            raise HearthError("hearthd already running (pid %d)" % self.proc.pid)
        self.generation += 1
        stderr_path = self.root / ("hearthd.stderr.%d" % self.generation)
        self.stderr_paths.append(stderr_path)
        env = dict(os.environ)
        for k in ("LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES", "NOTIFY_SOCKET"):
            env.pop(k, None)
        env.setdefault("ASAN_OPTIONS", "abort_on_error=0:detect_leaks=1:quarantine_size_mb=64")
        env.update(self.extra_env)
        nsock = None
        if self.use_notify:
            npath = self.root / "notify.sock"
            if npath.exists():
                npath.unlink()
            nsock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            nsock.bind(str(npath))
            env["NOTIFY_SOCKET"] = str(npath)
        argv = [str(self.binary), "--root", str(self.root)] + self.extra_args
        t0 = time.monotonic()
        with open(stderr_path, "wb") as errf:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=errf, stderr=errf,
                                         env=env, preexec_fn=_pdeathsig)
        self.expected_exit = False
        if not wait:
            if nsock:
                nsock.close()
            return self
        try:
            if nsock:
                self._wait_ready(nsock, t0 + timeout)
            elif not self._wait_socket(t0 + timeout):
                raise HearthError("hearthd did not accept connections on %s within %.0fs" % (self.sock, timeout))
        except HearthError as e:
            self.kill9(expected=True)
            raise HearthError("%s\n%s" % (e, self.diagnostics()))
        finally:
            if nsock:
                nsock.close()
        self.start_seconds = time.monotonic() - t0
        return self

    def _wait_ready(self, nsock, deadline):
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise HearthError("no READY=1 on NOTIFY_SOCKET within %.0fs (got: %r)"
                                  % (START_TIMEOUT, self.notify_messages))
            rc = self.proc.poll()
            if rc is not None:
                raise HearthError("hearthd exited with status %s before sending READY=1" % rc)
            nsock.settimeout(min(left, 0.1))
            try:
                data = nsock.recv(4096)
            except socket.timeout:
                continue
            msg = data.decode(errors="replace")
            self.notify_messages.append(msg)
            if "READY=1" in msg.split("\n"):
                return

    def _wait_socket(self, deadline):
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise HearthError("hearthd exited with status %s during start-up" % self.proc.returncode)
            if wait_socket_accepts(self.sock, 0.05):
                return True
        return False

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def check_alive(self, what="during the test"):
        if self.proc is None:
            return
        if self.proc.poll() is not None and not self.expected_exit:
            msg = "hearthd died unexpectedly %s (exit status %s)" % (what, self.proc.returncode)
            raise HearthError("%s\n%s" % (msg, self.diagnostics()))

    def _record_exit(self, rc, how):
        """Remember crashes / sanitizer output for the teardown check."""
        text = self.stderr_text()
        hits = self._scan_for_crash(text)
        for h in hits:
            self.problems.append("sanitizer/crash report in hearthd stderr (generation %d):\n%s"
                                 % (self.generation, h))
        if how == "term" and rc not in (0, -signal.SIGTERM, 128 + signal.SIGTERM):
            self.problems.append("hearthd exited with status %s after SIGTERM (expected 0)\n%s"
                                 % (rc, self.diagnostics()))

    def stop(self, timeout=STOP_TIMEOUT):
        """SIGTERM, wait, then SIGKILL. Returns the exit status."""
        if self.proc is None:
            return None
        rc = self.proc.poll()
        if rc is not None:
            if not self.expected_exit:
                self.problems.append("hearthd had already exited (status %s) before stop()\n%s"
                                     % (rc, self.diagnostics()))
            self.expected_exit = True
            self._record_exit(rc, "dead")
            self.proc = None
            return rc
        self.expected_exit = True
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.problems.append("hearthd did not exit within %.0fs of SIGTERM; sent SIGKILL\n%s"
                                 % (timeout, self.diagnostics()))
            self.proc.kill()
            rc = self.proc.wait()
            self._record_exit(rc, "kill")
            self.proc = None
            return rc
        self._record_exit(rc, "term")
        self.proc = None
        return rc

    def kill9(self, expected=True):
        if self.proc is None:
            return None
        self.expected_exit = expected
        if self.proc.poll() is None:
            self.proc.kill()
        rc = self.proc.wait()
        # a SIGKILL cannot produce sanitizer output, but something before it might have
        self._record_exit(rc, "kill")
        self.proc = None
        return rc

    def restart(self, timeout=START_TIMEOUT):
        self.stop()
        return self.start(timeout=timeout)

    def cleanup(self):
        if self.proc is not None:
            self.kill9()
        if self.own_root and not os.environ.get("HEARTH_KEEP_ROOT"):
            shutil.rmtree(self.root, ignore_errors=True)

    def rss_kib(self):
        return rss_kib(self.pid) if self.pid else None

    # -- clients --------------------------------------------------------------
    def virsh(self, *args, ro=False, check=True, timeout=60, input=None, env=None):
        uri = self.ro_uri if ro else self.uri
        argv = ["virsh"]
        if ro:
            argv.append("-r")
        argv += ["-c", uri] + [str(a) for a in args]
        e = dict(os.environ)
        e.update({"LC_ALL": "C", "LANG": "C"})
        e.pop("LIBVIRT_DEFAULT_URI", None)
        e.pop("VIRSH_DEFAULT_CONNECT_URI", None)
        if env:
            e.update(env)
        try:
            cp = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, input=input, env=e,
                                stdin=None if input is not None else subprocess.DEVNULL)
        except subprocess.TimeoutExpired as ex:
            raise HearthError("virsh timed out after %ss: %s\nstdout: %s\nstderr: %s\n%s"
                              % (timeout, " ".join(argv), ex.stdout, ex.stderr, self.diagnostics()))
        if check and cp.returncode != 0:
            self.check_alive("while running virsh %s" % " ".join(map(str, args)))
            raise HearthError("virsh %s failed (exit %d)\n--- stdout ---\n%s\n--- stderr ---\n%s"
                              % (" ".join(argv[1:]), cp.returncode, cp.stdout, cp.stderr))
        return cp

    def connect(self, ro=False):
        import libvirt
        if ro:
            return libvirt.openReadOnly(self.ro_uri)
        return libvirt.open(self.uri)

    def definition_files(self):
        if not self.qemu_dir.is_dir():
            return {}
        return {p.name: p.read_bytes() for p in sorted(self.qemu_dir.iterdir()) if p.is_file()}


class ExternalDaemon(Hearth):
    """Point the tests at an already running libvirt-compatible daemon instead of
    spawning hearthd (HEARTH_EXTERNAL_SOCKET=/run/libvirt/libvirt-sock, e.g. inside
    /work/shared/tools/reference-libvirtd). Used to check that the tests' expectations
    match real libvirt. Restart/kill tests cannot work in this mode and fail."""

    def __init__(self, socket_path, conf=None, **kw):
        self._sock = Path(socket_path)
        self.binary = Path("(external daemon at %s)" % socket_path)
        self.own_root = False
        self.root = Path("/")
        self.extra_args = []
        self.extra_env = {}
        self.use_notify = False
        self.proc = None
        self.generation = 0
        self.notify_messages = []
        self.problems = []
        self.stderr_paths = []
        self.start_seconds = None
        self.expected_exit = False

    confdir = property(lambda self: Path("/etc/libvirt"))
    sock = property(lambda self: self._sock)
    sock_ro = property(lambda self: Path(str(self._sock) + "-ro"))
    logfile = property(lambda self: Path("/var/log/libvirt/libvirtd.log"))

    @property
    def pid(self):
        try:
            return int(Path("/run/libvirt/ref-libvirtd.pid").read_text().strip())
        except (OSError, ValueError):
            return None

    def start(self, timeout=START_TIMEOUT, wait=True):
        import libvirt
        c = libvirt.open(self.uri)
        for d in c.listAllDomains(0):
            if d.isActive():
                d.destroy()
            d.undefine()
        c.close()
        return self

    def alive(self):
        return True

    def check_alive(self, what=""):
        pass

    def _unsupported(self, *a, **kw):
        raise HearthError("not possible against an external daemon")

    restart = kill9 = _unsupported

    def stop(self, timeout=None):
        return None

    def cleanup(self):
        pass


# ----------------------------------------------------------------------------- helpers
def domain_xml(name, uuid=None, memory_kib=131072, vcpus=1, extra=""):
    """A small valid domain definition."""
    u = "<uuid>%s</uuid>" % uuid if uuid else ""
    return ("<domain type='qemu'>\n  <name>%s</name>\n  %s\n  <memory unit='KiB'>%d</memory>\n"
            "  <vcpu>%d</vcpu>\n  <os>\n    <type arch='x86_64'>hvm</type>\n  </os>\n%s</domain>\n"
            % (name, u, memory_kib, vcpus, extra))


def parse_colon_table(text):
    """'Key:   value' lines (virsh dominfo / nodeinfo) -> dict."""
    out = {}
    for line in text.splitlines():
        if ":" in line:
            k, v = line.split(":", 1)
            out[k.strip()] = v.strip()
    return out


def parse_list(text):
    """virsh list table -> list of (id, name, state)."""
    rows = []
    lines = text.splitlines()
    started = False
    for line in lines:
        if line.startswith("---"):
            started = True
            continue
        if not started or not line.strip():
            continue
        parts = line.split()
        rows.append((parts[0], parts[1], " ".join(parts[2:])))
    return rows


# ----------------------------------------------------------------------------- guests (issue 4)
GUEST_DIR = REPO / "tests" / "guest"
GUEST_MARKER = "HEARTH-GUEST-READY"
QEMU_BINARY = "/usr/bin/qemu-system-x86_64"


def build_guest(outdir=None, timeout=900):
    """Build (or find up to date) the test guest with tests/guest/build-guest.sh.

    Returns (vmlinuz, initrd) paths; raises HearthError with the script's output on failure."""
    script = GUEST_DIR / "build-guest.sh"
    if not script.is_file():
        raise HearthError("%s is missing" % script)
    argv = ["bash", str(script)] + ([str(outdir)] if outdir else [])
    try:
        cp = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        raise HearthError("%s did not finish within %ds\nstdout: %s\nstderr: %s"
                          % (script, timeout, e.stdout, e.stderr))
    if cp.returncode != 0:
        raise HearthError("%s failed (exit %d)\n--- stdout ---\n%s\n--- stderr ---\n%s"
                          % (script, cp.returncode, cp.stdout, cp.stderr))
    out = Path(outdir) if outdir else GUEST_DIR / "cache"
    kernel, initrd = out / "vmlinuz", out / "initrd.gz"
    for p in (kernel, initrd):
        if not p.is_file() or p.stat().st_size == 0:
            raise HearthError("%s reported success but %s is missing or empty\n%s"
                              % (script, p, cp.stderr))
    return kernel, initrd


def guest_domain_xml(name, uuid, kernel, initrd, memory_mib=128, vcpus=1, serial="file",
                     serial_path=None, cmdline="", devices="", emulator=QEMU_BINARY, machine="pc",
                     on_poweroff="destroy", on_reboot="restart", on_crash="destroy", os_extra=""):
    """A bootable TCG domain for the test guest.

    serial: 'file' (the console goes to serial_path), 'pty' (serial + console of type pty, for
    virsh console) or None. The kernel command line carries hearth.test=UUID so the domain's
    QEMU can be found by its argv whichever daemon started it."""
    if serial == "file":
        chr_xml = ("    <serial type='file'>\n      <source path='%s'/>\n      <target port='0'/>\n"
                   "    </serial>\n" % serial_path)
    elif serial == "pty":
        chr_xml = ("    <serial type='pty'>\n      <target port='0'/>\n    </serial>\n"
                   "    <console type='pty'>\n      <target type='serial' port='0'/>\n    </console>\n")
    else:
        chr_xml = ""
    kernel_xml = "    <kernel>%s</kernel>\n" % kernel if kernel else ""
    initrd_xml = "    <initrd>%s</initrd>\n" % initrd if initrd else ""
    emu_xml = "    <emulator>%s</emulator>\n" % emulator if emulator else ""
    return ("<domain type='qemu'>\n"
            "  <name>%(name)s</name>\n  <uuid>%(uuid)s</uuid>\n"
            "  <memory unit='MiB'>%(mem)d</memory>\n  <currentMemory unit='MiB'>%(mem)d</currentMemory>\n"
            "  <vcpu placement='static'>%(vcpus)d</vcpu>\n"
            "  <os>\n    <type arch='x86_64' machine='%(machine)s'>hvm</type>\n%(kernel)s%(initrd)s"
            "    <cmdline>console=ttyS0 quiet hearth.test=%(uuid)s%(cmdline)s</cmdline>\n%(os_extra)s  </os>\n"
            "  <features>\n    <acpi/>\n    <apic/>\n  </features>\n"
            "  <clock offset='utc'/>\n"
            "  <on_poweroff>%(on_poweroff)s</on_poweroff>\n  <on_reboot>%(on_reboot)s</on_reboot>\n"
            "  <on_crash>%(on_crash)s</on_crash>\n"
            "  <devices>\n%(emu)s%(chr)s%(devices)s"
            "    <memballoon model='none'/>\n"
            "  </devices>\n</domain>\n"
            % {"name": name, "uuid": uuid, "mem": memory_mib, "vcpus": vcpus, "machine": machine,
               "kernel": kernel_xml, "initrd": initrd_xml, "cmdline": (" " + cmdline) if cmdline else "",
               "os_extra": os_extra, "on_poweroff": on_poweroff, "on_reboot": on_reboot,
               "on_crash": on_crash, "emu": emu_xml, "chr": chr_xml, "devices": devices})


def proc_stat(pid):
    """(state letter, start time in clock ticks) of pid, or None if it does not exist."""
    try:
        with open("/proc/%d/stat" % int(pid)) as f:
            data = f.read()
    except (FileNotFoundError, ProcessLookupError, ValueError, OSError):
        return None
    rest = data[data.rfind(")") + 2:].split()
    # rest[0] is field 3 (state); field 22 (starttime) is rest[19]
    return rest[0], int(rest[19])


def proc_alive(pid, start=None):
    """True if pid exists, is not a zombie and (when given) started at `start` ticks."""
    if not pid:
        return False
    st = proc_stat(pid)
    if st is None or st[0] in ("Z", "X"):
        return False
    return start is None or int(start) == st[1]


def proc_cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % int(pid), "rb") as f:
            return [a.decode(errors="replace") for a in f.read().split(b"\0") if a]
    except (FileNotFoundError, ProcessLookupError, OSError):
        return []


def find_processes(needles, exclude=()):
    """{pid: argv} of live (non-zombie) processes whose command line contains any of needles."""
    needles = [n for n in needles if n]
    found = {}
    me = os.getpid()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        pid = int(entry)
        if pid == me or pid in exclude:
            continue
        argv = proc_cmdline(pid)
        if not argv:
            continue
        line = "\0".join(argv)
        if any(n in line for n in needles) and proc_alive(pid):
            found[pid] = argv
    return found


def kill_pids(pids, sig=signal.SIGKILL):
    for pid in pids:
        try:
            os.kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            pass


def read_kv_file(path):
    """key=value lines (a worker's status or worker.conf) -> dict ({} if missing)."""
    out = {}
    try:
        text = Path(path).read_text(errors="replace")
    except (FileNotFoundError, NotADirectoryError):
        return out
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        if "=" in line:
            k, v = line.split("=", 1)
            out[k.strip()] = v.strip()
    return out


def wait_until(pred, timeout, interval=0.05):
    """Poll pred() until it returns a true value (returned) or timeout passes (returns the last value)."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(interval)


def tail_text(path, n=40):
    try:
        lines = Path(path).read_text(errors="replace").splitlines()
    except (FileNotFoundError, TypeError):
        return "(no file %s)" % path
    return "\n".join(lines[-n:]) if lines else "(empty)"


@contextlib.contextmanager
def socket_activated(h, listens, fdnames):
    """hearthd on root h.root started by systemd-socket-activate with sockets `listens` (paths or
    ADDR:PORT) named `fdnames`; yields the process, stops it with SIGTERM afterwards and fails on
    a crash or sanitizer report in its output (h.root/activate.stderr)."""
    tool = shutil.which("systemd-socket-activate")
    assert tool, "systemd-socket-activate not installed (apt-get install systemd)"
    h.rundir.mkdir(parents=True, exist_ok=True)
    err_path = h.root / "activate.stderr"
    argv = [tool]
    for l in listens:
        argv += ["-l", str(l)]
    argv += ["--fdname=" + ":".join(fdnames), str(h.binary), "--root", str(h.root)]
    with open(err_path, "wb") as errf:
        proc = subprocess.Popen(argv, stdout=errf, stderr=errf, stdin=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 10
            while not h.sock.exists() and time.monotonic() < deadline:
                time.sleep(0.05)
            yield proc
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
    text = err_path.read_text(errors="replace")
    for pat in CRASH_PATTERNS:
        assert not pat.search(text), text[-3000:]
