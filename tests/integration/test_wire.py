"""Raw protocol clients written by hand (struct.pack, big-endian), valid and hostile.

libvirtd 9.0 behaviour these expectations come from (reference-libvirtd, raw socket):
  AUTH_LIST -> [0]; SUPPORTS_FEATURE(10) -> 1; PING -> PONG (even without SF(10))
  call before CONNECT_OPEN      error, code 1 "hypervisor connection not open"
  unknown procedure             error, code 39 "unknown procedure: 9999", link stays up
  unknown program / version     error, code 39 "Cannot find program N version 1", link stays up
  garbage args / bad string len error, code 39 "Unable to decode message payload", link stays up
  length word > 32 MiB + 4      connection closed
  length word < 28              connection closed
  a REPLY sent by the client    ignored
  10 calls back to back         10 replies, serials echoed
  RO socket, open flags 0       define -> 29 "operation forbidden: read only access prevents ..."
  CONNECT_OPEN twice            error, code 1 "connection already open"
"""

import os
import random
import socket
import struct
import subprocess
import time

import libvirt
import pytest

import hearthlib
import wire
from hearthlib import domain_xml
from wire import (CALL, ERROR, MESSAGE, OK, REMOTE_PROGRAM, REPLY, WireClient, call_packet, pack_packet,
                  xdr_i32, xdr_string, xdr_u32)

U1 = "bbbbbbbb-0000-4000-8000-000000000001"


def assert_serving(hearth):
    hearth.check_alive("after hostile input")
    cp = hearth.virsh("list", "--all", timeout=30)
    assert "Id" in cp.stdout


def open_client(hearth, handshake=True, path=None, timeout=10):
    c = WireClient(str(path or hearth.sock), timeout=timeout)
    if handshake:
        c.handshake()
    return c


def fd_count(pid):
    try:
        return len(os.listdir("/proc/%d/fd" % pid))
    except FileNotFoundError:
        return None


# --------------------------------------------------------------------------- valid traffic
def test_valid_handshake_and_ping(hearth):
    c = open_client(hearth, handshake=False)
    try:
        assert c.auth_list() == [0], "AUTH_LIST must offer NONE"
        ka = c.supports_feature(10)
        assert ka in (0, 1)
        p = c.connect_open()
        assert p.length == 28 and p.status == OK and p.type == REPLY, p
        assert c.supports_feature(14) == 1, "REMOTE_EVENT_CALLBACK should be supported (reference 4.7)"
        assert c.supports_feature(9999) == 0, "unknown features must answer 0"
        assert c.hostname() == socket.gethostname()
        pong = c.ping()
        assert (pong.prog, pong.vers, pong.proc, pong.type, pong.serial, pong.status, pong.length) == \
            (wire.KEEPALIVE_PROGRAM, 1, wire.KEEPALIVE_PONG, MESSAGE, 0, OK, 28), pong
        doms, ret = c.list_all_domains()
        assert doms == [] and ret == 0
        p = c.call(wire.PROC_CONNECT_CLOSE)
        assert p.status == OK and p.length == 28
    finally:
        c.close()
    assert_serving(hearth)


def test_reply_header_echo_and_domain_encoding(hearth):
    hearth.virsh("define", "/dev/stdin", input=domain_xml("wire1", U1))
    c = open_client(hearth)
    try:
        p = c.call(wire.PROC_DOMAIN_LOOKUP_BY_NAME, xdr_string("wire1"))
        assert (p.prog, p.vers, p.proc, p.type, p.status) == (REMOTE_PROGRAM, 1, 23, REPLY, OK)
        r = wire.Reader(p.payload)
        name, uuid_bytes, dom_id = r.nonnull_domain()
        assert r.remaining() == 0
        import uuid
        assert (name, str(uuid.UUID(bytes=uuid_bytes)), dom_id) == ("wire1", U1, -1)
        doms, ret = c.list_all_domains()
        assert ret == 1 and doms[0][0] == "wire1"
        # NODE_GET_INFO payload is exactly 160 bytes (char model[32] is 128 bytes on the wire)
        p = c.call(6)
        assert len(p.payload) == 160, len(p.payload)
        # DOMAIN_GET_INFO: 32 bytes
        p = c.call(16, wire.xdr_nonnull_domain("wire1", uuid_bytes))
        assert len(p.payload) == 32, len(p.payload)
        assert struct.unpack(">I", p.payload[:4])[0] == libvirt.VIR_DOMAIN_SHUTOFF
    finally:
        c.close()


def test_calls_in_flight_matched_by_serial(hearth):
    c = open_client(hearth)
    try:
        procs = {}
        data = b""
        for i in range(10):
            serial = 100 + i
            proc = wire.PROC_CONNECT_GET_HOSTNAME if i % 2 else wire.PROC_CONNECT_GET_TYPE
            procs[serial] = proc
            data += call_packet(proc, serial)
        c.send_raw(data)
        replies = [c.recv_reply() for _ in range(10)]
        assert sorted(p.serial for p in replies) == sorted(procs), [p.serial for p in replies]
        for p in replies:
            assert p.type == REPLY and p.status == OK, p
            assert p.proc == procs[p.serial], "serial %d answered with proc %d" % (p.serial, p.proc)
            s = wire.Reader(p.payload).string()
            assert s == (socket.gethostname() if p.proc == wire.PROC_CONNECT_GET_HOSTNAME else "QEMU")
    finally:
        c.close()


# --------------------------------------------------------------------------- hostile input
def test_truncated_packet_then_close(hearth):
    for cut in (1, 3, 4, 10, 27, 40):
        c = open_client(hearth)
        pkt = call_packet(wire.PROC_DOMAIN_LOOKUP_BY_NAME, 50, xdr_string("x" * 40))
        c.send_raw(pkt[:cut])
        c.close()
    assert_serving(hearth)


@pytest.mark.parametrize("length", [33554437, 0x7FFFFFFF, 0xFFFFFFFF])
def test_length_word_too_large(hearth, length):
    rss0 = hearth.rss_kib()
    c = open_client(hearth)
    try:
        c.send_raw(struct.pack(">I", length) + struct.pack(">IIiIII", REMOTE_PROGRAM, 1, 59, CALL, 7, OK))
        assert c.wait_closed(5), "length %d: connection not closed" % length
    finally:
        c.close()
    rss1 = hearth.rss_kib()
    if rss0 is not None and rss1 is not None:
        assert rss1 - rss0 < 16 * 1024 + hearthlib.rss_slack_kib(), "RSS %d -> %d KiB after a %d-byte length word" % (rss0, rss1, length)
    assert_serving(hearth)


@pytest.mark.parametrize("length", [0, 4, 12, 27])
def test_length_word_too_small(hearth, length):
    c = open_client(hearth)
    try:
        c.send_raw(struct.pack(">I", length) + b"\0" * 24)
        assert c.wait_closed(5), "length %d: connection not closed" % length
    finally:
        c.close()
    assert_serving(hearth)


def test_unknown_program(hearth):
    c = open_client(hearth)
    try:
        c.send_raw(call_packet(1, 0x1234, b"", prog=0x12345678))
        try:
            p = c.recv_packet(timeout=5)
        except wire.ConnectionClosed:
            p = None    # closing is acceptable
        if p is not None:
            assert p.type == REPLY and p.status == ERROR, p
            assert p.serial == 0x1234 and p.prog == 0x12345678, p
            assert p.error()["code"] in (libvirt.VIR_ERR_RPC, libvirt.VIR_ERR_NO_SUPPORT), p.error()
    finally:
        c.close()
    assert_serving(hearth)


def test_wrong_program_version(hearth):
    c = open_client(hearth)
    try:
        c.send_raw(pack_packet(REMOTE_PROGRAM, wire.PROC_CONNECT_GET_HOSTNAME, CALL, 5, OK, b"", vers=7))
        try:
            p = c.recv_packet(timeout=5)
        except wire.ConnectionClosed:
            p = None
        if p is not None:
            assert p.status == ERROR and p.serial == 5, p
            assert p.error()["code"] == libvirt.VIR_ERR_RPC, p.error()
    finally:
        c.close()
    assert_serving(hearth)


def test_unknown_procedure(hearth):
    c = open_client(hearth)
    try:
        for proc in (9999, 444, 100000, -1):
            p = c.call(proc, check=False)
            assert p.status == ERROR, p
            err = p.error()
            assert err["code"] == libvirt.VIR_ERR_RPC, "proc %d: %r (libvirt: 39 'unknown procedure')" % (proc, err)
            assert err["message"], err
        assert c.hostname() == socket.gethostname(), "connection must stay usable"
    finally:
        c.close()
    assert_serving(hearth)


PROC_STORAGE_POOL_CREATE = 78


def test_known_but_unimplemented_procedure(hearth):
    """STORAGE_POOL_CREATE is a real procedure that hearthd does not serve (no storage pools):
    VIR_ERR_NO_SUPPORT (3), and the connection keeps working."""
    c = open_client(hearth)
    try:
        import uuid
        pool = wire.xdr_string("default") + wire.xdr_opaque_fixed(uuid.UUID(U1).bytes)
        p = c.call(PROC_STORAGE_POOL_CREATE, pool + wire.xdr_u32(0), check=False)
        assert p.status == ERROR, p
        assert p.error()["code"] == libvirt.VIR_ERR_NO_SUPPORT, p.error()
        assert c.hostname()
    finally:
        c.close()
    assert_serving(hearth)


@pytest.mark.parametrize("payload", [b"\x01\x02\x03", b"\xff" * 9, b""], ids=["3-bytes", "9xff", "empty"])
def test_garbage_args(hearth, payload):
    c = open_client(hearth)
    try:
        p = c.call(wire.PROC_DOMAIN_LOOKUP_BY_NAME, payload, check=False)
        assert p.status == ERROR, "garbage args answered OK: %r" % p
        assert p.error()["message"], p.error()
        # libvirt keeps the connection; if hearthd does too it must still work
        try:
            assert c.hostname()
        except wire.ConnectionClosed:
            pass
    finally:
        c.close()
    assert_serving(hearth)


def test_string_length_beyond_packet(hearth):
    for strlen in (0x7FFFFFFF, 0xFFFFFFFF, 4 << 20, 5 << 20, 100):
        c = open_client(hearth)
        try:
            c.send_call(wire.PROC_DOMAIN_LOOKUP_BY_NAME, xdr_u32(strlen) + b"abcd")
            try:
                p = c.recv_reply(timeout=5)
                assert p.status == ERROR, "strlen %d: %r" % (strlen, p)
            except wire.ConnectionClosed:
                pass
        finally:
            c.close()
    assert_serving(hearth)


def test_call_before_connect_open(hearth):
    hearth.virsh("define", "/dev/stdin", input=domain_xml("secret", U1))
    c = open_client(hearth, handshake=False)
    try:
        c.auth_list()
        for proc, payload in ((wire.PROC_CONNECT_LIST_ALL_DOMAINS, xdr_i32(1) + xdr_u32(3)),
                              (wire.PROC_DOMAIN_LOOKUP_BY_NAME, xdr_string("secret")),
                              (wire.PROC_DOMAIN_DEFINE_XML, xdr_string(domain_xml("sneaky")))):
            try:
                p = c.call(proc, payload, check=False)
            except wire.ConnectionClosed:
                break
            assert p.status == ERROR, "proc %d answered before CONNECT_OPEN: %r" % (proc, p)
            assert b"secret" not in p.payload
    finally:
        c.close()
    assert hearth.virsh("list", "--all", "--name").stdout.split() == ["secret"]


def test_connect_open_twice(hearth):
    c = open_client(hearth)
    try:
        p = c.call(wire.PROC_CONNECT_OPEN, wire.xdr_ostring("qemu:///system") + xdr_u32(0), check=False)
        assert p.status == ERROR, "second CONNECT_OPEN accepted"
        # libvirtd 9.0 even drops the hypervisor connection here ("hypervisor connection not
        # open" afterwards); any well-formed answer is fine, a crash or hang is not
        p = c.call(wire.PROC_CONNECT_GET_HOSTNAME, check=False)
        assert p.type == REPLY and p.serial == c.serial - 1, p
    finally:
        c.close()


def test_readonly_flag_enforced_by_daemon(hearth):
    """CONNECT_OPEN with VIR_CONNECT_RO on the RW socket: the daemon, not libvirt.so, must refuse writes."""
    c = open_client(hearth, handshake=False)
    try:
        c.auth_list()
        c.connect_open(flags=1)
        p = c.call(wire.PROC_DOMAIN_DEFINE_XML, xdr_string(domain_xml("rodef")), check=False)
        assert p.status == ERROR and p.error()["code"] == libvirt.VIR_ERR_OPERATION_DENIED, p.error() \
            if p.status == ERROR else p
    finally:
        c.close()
    c = open_client(hearth, handshake=False, path=hearth.sock_ro)
    try:
        c.auth_list()
        c.connect_open(flags=0)   # the RO socket is read-only whatever the client asks
        p = c.call(wire.PROC_DOMAIN_DEFINE_XML, xdr_string(domain_xml("rodef")), check=False)
        assert p.status == ERROR and p.error()["code"] == libvirt.VIR_ERR_OPERATION_DENIED, p
    finally:
        c.close()
    assert hearth.virsh("list", "--all", "--name").stdout.split() == []


def test_client_sends_reply_and_stream_types(hearth):
    c = open_client(hearth)
    try:
        # libvirtd ignores them; closing is acceptable too -- but nothing may crash
        try:
            for mtype in (REPLY, MESSAGE, wire.STREAM, 99):
                c.send_raw(pack_packet(REMOTE_PROGRAM, wire.PROC_CONNECT_GET_HOSTNAME, mtype, 77, OK, b""))
            c.hostname()
        except (wire.ConnectionClosed, BrokenPipeError, ConnectionResetError):
            pass
    finally:
        c.close()
    assert_serving(hearth)


def test_half_packet_stall_does_not_block_others(hearth):
    stalled = open_client(hearth)
    stalled2 = open_client(hearth, handshake=False)
    try:
        pkt = call_packet(wire.PROC_DOMAIN_LOOKUP_BY_NAME, 9, xdr_string("y" * 64))
        stalled.send_raw(pkt[:50])
        stalled2.send_raw(pkt[:2])   # not even a complete length word
        t0 = time.monotonic()
        for _ in range(3):
            hearth.virsh("list", "--all", timeout=15)
        c = hearth.connect()
        try:
            for _ in range(20):
                c.getHostname()
        finally:
            c.close()
        other = open_client(hearth)
        assert other.hostname()
        other.close()
        assert time.monotonic() - t0 < 15, "other clients were slowed down by a stalled one"
        # finishing the packet later still gets an answer
        stalled.send_raw(pkt[50:])
        p = stalled.recv_reply(9, timeout=10)
        assert p.status == ERROR and p.error()["code"] == libvirt.VIR_ERR_NO_DOMAIN, p
    finally:
        stalled.close()
        stalled2.close()
    assert_serving(hearth)


def test_200_connections_at_once(hearth):
    base_fds = fd_count(hearth.pid)
    clients = []
    try:
        for _ in range(200):
            clients.append(WireClient(str(hearth.sock), timeout=20))
        for i, c in enumerate(clients):
            c.send_call(wire.PROC_AUTH_LIST, serial=i)
        for i, c in enumerate(clients):
            p = c.recv_reply(i)
            assert p.status == OK, p
        for c in clients[:50]:
            c.connect_open()
        hearth.virsh("list", "--all", timeout=30)
        assert all(c.hostname() for c in clients[:50])
    finally:
        for c in clients:
            c.close()
    assert_serving(hearth)
    if base_fds is not None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and fd_count(hearth.pid) > base_fds + 5:
            time.sleep(0.1)
        assert fd_count(hearth.pid) <= base_fds + 5, "fd leak: %d fds before, %d after closing 200 clients" % (
            base_fds, fd_count(hearth.pid))


def test_random_payload_fuzz(hearth):
    """Valid headers, random procedures 1..450 and random payloads: answers or closes, never dies."""
    rnd = random.Random(0x4EA27)
    hearth.virsh("define", "/dev/stdin", input=domain_xml("fuzzkeep", U1))
    files = hearth.definition_files()
    c = open_client(hearth)
    answered = closed = 0
    # never send the few procedures that could legitimately change state with random bytes
    skip = {wire.PROC_CONNECT_CLOSE}
    try:
        for i in range(400):
            proc = rnd.randint(1, 450)
            if proc in skip:
                continue
            payload = bytes(rnd.getrandbits(8) for _ in range(rnd.choice((0, 4, 8, 13, 24, 40, 64))))
            try:
                c.send_call(proc, payload)
                p = c.recv_reply(timeout=10)
                answered += 1
            except (wire.ConnectionClosed, BrokenPipeError, ConnectionResetError):
                closed += 1
                c.close()
                hearth.check_alive("during fuzzing (proc %d, payload %s)" % (proc, payload.hex()))
                c = open_client(hearth)
    finally:
        c.close()
    assert answered > 0
    assert_serving(hearth)
    assert hearth.definition_files() == files, "random payloads changed definitions on disk"


def test_200_pipelined_calls_all_answered(hearth):
    """More calls in flight than max_client_requests (16): the daemon throttles, never drops."""
    c = open_client(hearth)
    try:
        data = b"".join(call_packet(wire.PROC_CONNECT_GET_HOSTNAME, 1000 + i) for i in range(200))
        c.send_raw(data)
        serials = sorted(c.recv_reply(timeout=30).serial for _ in range(200))
        assert serials == list(range(1000, 1200))
    finally:
        c.close()


def test_event_listener_that_never_reads(hearth):
    """A client registered for all lifecycle events that never reads its socket must neither
    block the daemon nor make it buffer without bound."""
    lazy = open_client(hearth)
    try:
        # CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY(eventID 0 = LIFECYCLE, dom NULL)
        p = lazy.call(316, xdr_i32(0) + xdr_u32(0))
        assert p.status == OK
        lazy.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        rss0 = hearth.rss_kib()
        c = hearth.connect()
        t0 = time.monotonic()
        try:
            xml = domain_xml("noisy", U1, extra="<description>%s</description>\n" % ("n" * 2000))
            for _ in range(6000):
                c.defineXML(xml).undefine()
        finally:
            c.close()
        took = time.monotonic() - t0
        assert took < 60, "12000 definition changes took %.0fs with a non-reading listener" % took
        assert_serving(hearth)
        rss1 = hearth.rss_kib()
        if rss0 is not None and rss1 is not None:
            assert rss1 - rss0 < 64 * 1024 + hearthlib.rss_slack_kib(), "RSS grew %d -> %d KiB buffering events" % (rss0, rss1)
    finally:
        lazy.close()
    assert_serving(hearth)
