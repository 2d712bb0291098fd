"""Service-manager integration: sd_notify READY=1, start without NOTIFY_SOCKET,
--daemon, and (optional) systemd socket activation."""

import os
import signal
import socket
import subprocess
import time

import pytest

import hearthlib


def test_notify_ready(hearth):
    msgs = "\n".join(hearth.notify_messages)
    assert "READY=1" in msgs.split("\n"), hearth.notify_messages
    # READY=1 must only be sent once the sockets accept connections
    for path in (hearth.sock, hearth.sock_ro):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(str(path))
        finally:
            s.close()
    for m in hearth.notify_messages:
        for line in m.split("\n"):
            if line.startswith("MAINPID="):
                assert int(line.split("=", 1)[1]) == hearth.pid


def test_ready_means_serving_immediately(hearth_factory):
    """Right after READY=1 the very first call is answered (no warm-up window)."""
    for _ in range(3):
        h = hearth_factory()
        import libvirt
        c = libvirt.open(h.uri)
        try:
            assert c.getHostname()
        finally:
            c.close()
        h.stop()


def test_start_without_notify_socket(hearth_factory):
    h = hearth_factory(use_notify=False)
    assert h.virsh("list", "--all").returncode == 0
    assert h.logfile.exists(), "no log file at %s" % h.logfile


def test_stop_notifies_and_exits_zero(hearth):
    rc = hearth.stop()
    assert rc == 0


def test_daemon_mode(hearth_factory):
    h = hearth_factory(start=False, use_notify=False)
    env = dict(os.environ)
    env.pop("NOTIFY_SOCKET", None)
    t0 = time.monotonic()
    cp = subprocess.run([str(h.binary), "--root", str(h.root), "--daemon"], capture_output=True, text=True,
                        timeout=30, env=env, stdin=subprocess.DEVNULL)
    assert cp.returncode == 0, "--daemon parent exited %d: %s" % (cp.returncode, cp.stderr)
    pid = None
    try:
        assert hearthlib.wait_socket_accepts(h.sock, 10), "daemonized hearthd does not serve %s" % h.sock
        for p in os.listdir("/proc"):
            if not p.isdigit():
                continue
            try:
                with open("/proc/%s/cmdline" % p, "rb") as f:
                    argv = f.read().split(b"\0")
            except OSError:
                continue
            if argv and argv[0].endswith(b"hearthd") and str(h.root).encode() in argv:
                pid = int(p)
        assert pid is not None, "cannot find the daemonized hearthd process"
        assert pid != os.getpid()
        assert h.virsh("list", "--all").returncode == 0
    finally:
        if pid is not None:
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and os.path.exists("/proc/%d" % pid):
                time.sleep(0.05)
            if os.path.exists("/proc/%d" % pid):
                os.kill(pid, signal.SIGKILL)
                raise AssertionError("daemonized hearthd ignored SIGTERM")


def test_socket_activation_optional(hearth_factory):
    """systemd-socket-activate hands hearthd its listening sockets (LISTEN_FDS).
    Optional: reported as xfail when the daemon does not support it."""
    h = hearth_factory(start=False, use_notify=False)
    with hearthlib.socket_activated(h, [h.sock, h.sock_ro], ["hearth-sock", "hearth-sock-ro"]):
        ok = False
        try:
            cp = h.virsh("list", "--all", check=False, timeout=20)
            ok = cp.returncode == 0
        except hearthlib.HearthError:
            ok = False
        if not ok:
            pytest.xfail("socket activation not supported (optional): %s"
                         % (h.root / "activate.stderr").read_text(errors="replace")[-500:])
        cp = h.virsh("list", "--all", ro=True, check=False, timeout=20)
        assert cp.returncode == 0, "RO socket not served under socket activation: %s" % cp.stderr
