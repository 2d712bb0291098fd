"""hearthd.conf keys: max_clients, max_client_requests, --config, listen_libvirt_paths."""

import os
import socket
import stat
import subprocess
import time

import hearthlib
import wire
from hearthlib import domain_xml
from wire import WireClient


def _client_served(path, timeout=2.0):
    """True if a new client gets an AUTH_LIST answer within timeout."""
    try:
        c = WireClient(str(path), timeout=timeout)
    except OSError:
        return False
    try:
        c.send_call(wire.PROC_AUTH_LIST)
        p = c.recv_reply(timeout=timeout)
        return p.status == wire.OK
    except (wire.ConnectionClosed, OSError):
        return False
    finally:
        c.close()


def test_max_clients(hearth_factory):
    h = hearth_factory(conf="[hearthd]\nmax_clients = 3\n")
    held = [WireClient(str(h.sock)) for _ in range(3)]
    try:
        for c in held:
            c.handshake()
        assert not _client_served(h.sock), "a 4th client was served with max_clients = 3"
        held.pop().close()
        # a probe that was just served and closed may still count until the daemon has seen
        # its EOF, so retry instead of asserting on a single probe
        deadline = time.monotonic() + 5
        served = False
        while not served and time.monotonic() < deadline:
            served = _client_served(h.sock)
            time.sleep(0.1)
        assert served, "no client served again after one of 3 disconnected"
        assert all(c.hostname() for c in held), "existing clients must keep working"
    finally:
        for c in held:
            c.close()
    h.virsh("list", "--all")


def test_max_clients_via_config_option(hearth_factory, tmp_path):
    conf = tmp_path / "other.conf"
    conf.write_text("[hearthd]\nmax_clients = 2\n")
    h = hearth_factory(extra_args=["--config", str(conf)])
    held = [WireClient(str(h.sock)) for _ in range(2)]
    try:
        for c in held:
            c.handshake()
        assert not _client_served(h.sock), "--config file not honoured (max_clients = 2)"
    finally:
        for c in held:
            c.close()


def test_max_client_requests_still_answers_everything(hearth_factory):
    h = hearth_factory(conf="[hearthd]\nmax_client_requests = 1\nmax_workers = 1\n")
    c = WireClient(str(h.sock))
    try:
        c.handshake()
        data = b"".join(wire.call_packet(wire.PROC_CONNECT_GET_HOSTNAME, 500 + i) for i in range(20))
        c.send_raw(data)
        serials = sorted(c.recv_reply(timeout=20).serial for _ in range(20))
        assert serials == list(range(500, 520))
    finally:
        c.close()


def test_bad_config_value_is_clear(hearth_factory):
    h = hearth_factory(conf="[hearthd]\nmax_clients = lots\n", start=False)
    try:
        h.start(timeout=10)
    except hearthlib.HearthError as e:
        text = (str(e) + h.stderr_text() + h.log_text())
        assert "max_clients" in text or str(h.conf_path) in text, \
            "refusing a bad config must name the key or file:\n" + text[-2000:]
        h.expected_exit = True
        return
    # accepted with a fallback: then it must serve
    h.virsh("list", "--all")


def _listening(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.settimeout(2)
        s.connect(str(path))
        return True
    except OSError:
        return False
    finally:
        s.close()


def test_listen_libvirt_paths(hearth_factory, tmp_path):
    """listen_libvirt_paths = true: hearthd also serves libvirt's default socket paths
    (under --root: ROOT/run/libvirt/libvirt-sock and -ro)."""
    h = hearth_factory(conf="[hearthd]\nlisten_libvirt_paths = true\n")
    lv = h.root / "run" / "libvirt" / "libvirt-sock"
    lv_ro = h.root / "run" / "libvirt" / "libvirt-sock-ro"
    assert _listening(lv) and _listening(lv_ro), "not listening on %s / -ro" % lv
    assert stat.S_IMODE(os.stat(lv).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(lv_ro).st_mode) == 0o666
    env = dict(os.environ, LC_ALL="C")
    cp = subprocess.run(["virsh", "-c", "qemu+unix:///system?socket=%s" % lv, "hostname"],
                        capture_output=True, text=True, timeout=30, env=env)
    assert cp.returncode == 0 and cp.stdout.strip() == socket.gethostname(), cp.stderr
    p = tmp_path / "d.xml"
    p.write_text(domain_xml("vialibvirtpath"))
    cp = subprocess.run(["virsh", "-c", "qemu+unix:///system?socket=%s" % lv_ro, "define", str(p)],
                        capture_output=True, text=True, timeout=30, env=env)
    assert cp.returncode == 1 and "operation forbidden" in cp.stderr, "libvirt-path RO socket allows writes"
    # a plain `virsh -c qemu:///system` (no socket=) reaches it, seen from a private mount
    # namespace where ROOT/run/libvirt is bind-mounted over /run/libvirt (the host is untouched)
    script = ("mount --bind %s /run/libvirt && rm -f /run/libvirt/virtqemud-sock 2>/dev/null; "
              "virsh -c qemu:///system define %s && virsh -r -c qemu:///system list --all --name"
              % (lv.parent, p))
    cp = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
                        capture_output=True, text=True, timeout=60, env=env)
    assert cp.returncode == 0, "virsh -c qemu:///system: %s %s" % (cp.stdout, cp.stderr)
    assert "vialibvirtpath" in cp.stdout.split()
    assert h.virsh("list", "--all", "--name").stdout.split() == ["vialibvirtpath"]


def test_listen_libvirt_paths_refuses_when_served(hearth_factory):
    h = hearth_factory(conf="[hearthd]\nlisten_libvirt_paths = true\n", start=False)
    lvdir = h.root / "run" / "libvirt"
    lvdir.mkdir(parents=True)
    squatter = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    squatter.bind(str(lvdir / "libvirt-sock"))
    squatter.listen(5)
    ino = os.stat(lvdir / "libvirt-sock").st_ino
    try:
        try:
            h.start(timeout=15)
        except hearthlib.HearthError as e:
            text = str(e)
        else:
            raise AssertionError("hearthd started although another daemon serves %s" % (lvdir / "libvirt-sock"))
        h.expected_exit = True
        assert str(lvdir / "libvirt-sock") in text, "the refusal must name the path:\n" + text[-2000:]
        assert os.stat(lvdir / "libvirt-sock").st_ino == ino, "hearthd replaced the other daemon's socket"
        assert _listening(lvdir / "libvirt-sock")
        assert not os.path.exists(h.sock) or not _listening(h.sock), "half-started daemon left serving"
    finally:
        squatter.close()
    # a stale socket file (nobody listening) is taken over
    h.start()
    assert _listening(lvdir / "libvirt-sock")
    h.virsh("list", "--all")
