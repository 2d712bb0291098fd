"""Minimal hand-written client for the libvirt remote RPC wire protocol.

Used by test_wire.py (and usable from a REPL) to talk to hearthd -- or to a real
libvirtd -- byte by byte, without libvirt.so.  Everything is big-endian XDR, see
/work/shared/reference/libvirt-rpc.md section 1.
"""

import select
import socket
import struct
import time

REMOTE_PROGRAM = 0x20008086
KEEPALIVE_PROGRAM = 0x6B656570
PROTOCOL_VERSION = 1

CALL, REPLY, MESSAGE, STREAM = 0, 1, 2, 3
OK, ERROR, CONTINUE = 0, 1, 2

HEADER_LEN = 28  # length word + 24 byte header
MAX_PACKET = 33554432 + 4

# remote procedures used by the tests
PROC_CONNECT_OPEN = 1
PROC_CONNECT_CLOSE = 2
PROC_CONNECT_GET_TYPE = 3
PROC_CONNECT_GET_VERSION = 4
PROC_DOMAIN_CREATE = 9
PROC_DOMAIN_DEFINE_XML = 11
PROC_DOMAIN_GET_XML_DESC = 14
PROC_DOMAIN_LOOKUP_BY_NAME = 23
PROC_CONNECT_GET_HOSTNAME = 59
PROC_CONNECT_SUPPORTS_FEATURE = 60
PROC_AUTH_LIST = 66
PROC_CONNECT_LIST_ALL_DOMAINS = 273

KEEPALIVE_PING = 1
KEEPALIVE_PONG = 2


# --------------------------------------------------------------------------- XDR
def xdr_u32(v):
    return struct.pack(">I", v & 0xFFFFFFFF)


def xdr_i32(v):
    return struct.pack(">i", v)


def xdr_u64(v):
    return struct.pack(">Q", v)


def xdr_opaque_fixed(b):
    pad = (4 - len(b) % 4) % 4
    return b + b"\0" * pad


def xdr_string(s):
    if isinstance(s, str):
        s = s.encode()
    return xdr_u32(len(s)) + xdr_opaque_fixed(s)


def xdr_ostring(s):
    """remote_string: optional string."""
    if s is None:
        return xdr_u32(0)
    return xdr_u32(1) + xdr_string(s)


def xdr_nonnull_domain(name, uuid_bytes, dom_id=-1):
    assert len(uuid_bytes) == 16
    return xdr_string(name) + uuid_bytes + xdr_i32(dom_id)


class Reader:
    """Sequential XDR decoder over a bytes payload."""

    def __init__(self, data):
        self.data = data
        self.off = 0

    def _take(self, n):
        if self.off + n > len(self.data):
            raise ValueError("XDR underflow: need %d bytes at %d of %d" % (n, self.off, len(self.data)))
        b = self.data[self.off:self.off + n]
        self.off += n
        return b

    def u32(self):
        return struct.unpack(">I", self._take(4))[0]

    def i32(self):
        return struct.unpack(">i", self._take(4))[0]

    def u64(self):
        return struct.unpack(">Q", self._take(8))[0]

    def opaque_fixed(self, n):
        b = self._take(n)
        self._take((4 - n % 4) % 4)
        return b

    def string(self):
        n = self.u32()
        return self.opaque_fixed(n).decode("utf-8", "replace")

    def ostring(self):
        present = self.u32()
        if present == 0:
            return None
        if present != 1:
            raise ValueError("bad optional discriminant %d" % present)
        return self.string()

    def nonnull_domain(self):
        name = self.string()
        uuid_bytes = self._take(16)
        dom_id = self.i32()
        return name, uuid_bytes, dom_id

    def remaining(self):
        return len(self.data) - self.off


# --------------------------------------------------------------------------- packets
def pack_packet(prog, proc, mtype=CALL, serial=0, status=OK, payload=b"", vers=PROTOCOL_VERSION):
    body = struct.pack(">IIiIII", prog, vers, proc, mtype, serial, status) + payload
    return struct.pack(">I", len(body) + 4) + body


def call_packet(proc, serial, payload=b"", prog=REMOTE_PROGRAM):
    return pack_packet(prog, proc, CALL, serial, OK, payload)


class Packet:
    def __init__(self, raw):
        self.raw = raw
        (self.length, self.prog, self.vers, self.proc, self.type, self.serial,
         self.status) = struct.unpack(">IIIiIII", raw[:HEADER_LEN])
        self.payload = raw[HEADER_LEN:]

    def is_keepalive(self):
        return self.prog == KEEPALIVE_PROGRAM

    def error(self):
        """Decode a remote_error payload (status ERROR) into a dict."""
        r = Reader(self.payload)
        code = r.i32()
        domain = r.i32()
        message = r.ostring()
        level = r.i32()
        return {"code": code, "domain": domain, "message": message, "level": level}

    def __repr__(self):
        return ("<Packet len=%d prog=%#x vers=%d proc=%d type=%d serial=%d status=%d payload=%d>"
                % (self.length, self.prog, self.vers, self.proc, self.type, self.serial,
                   self.status, len(self.payload)))


class ConnectionClosed(Exception):
    pass


class RpcError(Exception):
    def __init__(self, packet):
        self.packet = packet
        self.err = packet.error()
        super().__init__("RPC error reply to proc %d: code %d: %s"
                         % (packet.proc, self.err["code"], self.err["message"]))


class WireClient:
    """A raw protocol client on a unix socket."""

    def __init__(self, path, timeout=10.0):
        self.path = path
        self.timeout = timeout
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.buf = b""
        self.serial = 0
        self.pending_messages = []  # async MESSAGE packets seen while waiting for replies

    # -- raw I/O --------------------------------------------------------------
    def send_raw(self, data):
        try:
            self.sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError) as e:
            raise ConnectionClosed("connection closed by peer while sending: %s" % e)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def _fill(self, n, deadline):
        while len(self.buf) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise socket.timeout("timed out waiting for %d bytes (have %d)" % (n, len(self.buf)))
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except ConnectionResetError:
                raise ConnectionClosed("connection reset by peer")
            if not chunk:
                raise ConnectionClosed("connection closed by peer (EOF) with %d bytes buffered" % len(self.buf))
            self.buf += chunk

    def recv_packet(self, timeout=None):
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        self._fill(4, deadline)
        (length,) = struct.unpack(">I", self.buf[:4])
        if length < HEADER_LEN or length > MAX_PACKET:
            raise ValueError("server sent a bad length word %d" % length)
        self._fill(length, deadline)
        raw, self.buf = self.buf[:length], self.buf[length:]
        return Packet(raw)

    def wait_closed(self, timeout=10.0):
        """True if the peer closes the connection within timeout (data is drained)."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            r, _, _ = select.select([self.sock], [], [], left)
            if not r:
                return False
            try:
                chunk = self.sock.recv(65536)
            except ConnectionResetError:
                return True
            except OSError:
                return True
            if not chunk:
                return True
            self.buf += chunk

    # -- calls ----------------------------------------------------------------
    def next_serial(self):
        s = self.serial
        self.serial += 1
        return s

    def send_call(self, proc, payload=b"", serial=None, prog=REMOTE_PROGRAM):
        if serial is None:
            serial = self.next_serial()
        self.send_raw(call_packet(proc, serial, payload, prog))
        return serial

    def recv_reply(self, serial=None, timeout=None):
        """Next REPLY packet (answering PINGs and stashing other MESSAGEs)."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            p = self.recv_packet(timeout=max(0.01, deadline - time.monotonic()))
            if p.is_keepalive():
                if p.proc == KEEPALIVE_PING:
                    self.send_raw(pack_packet(KEEPALIVE_PROGRAM, KEEPALIVE_PONG, MESSAGE))
                self.pending_messages.append(p)
                continue
            if p.type == MESSAGE:
                self.pending_messages.append(p)
                continue
            if serial is not None and p.serial != serial:
                raise AssertionError("reply serial %d, expected %d: %r" % (p.serial, serial, p))
            return p

    def call(self, proc, payload=b"", check=True, prog=REMOTE_PROGRAM, timeout=None):
        serial = self.send_call(proc, payload, prog=prog)
        p = self.recv_reply(serial, timeout=timeout)
        assert p.type == REPLY, "expected REPLY, got %r" % p
        assert p.proc == proc and p.prog == prog, "reply does not echo prog/proc: %r" % p
        if check and p.status != OK:
            raise RpcError(p)
        return p

    # -- the virsh-like handshake --------------------------------------------
    def auth_list(self):
        p = self.call(PROC_AUTH_LIST)
        r = Reader(p.payload)
        n = r.u32()
        return [r.i32() for _ in range(n)]

    def supports_feature(self, feature):
        p = self.call(PROC_CONNECT_SUPPORTS_FEATURE, xdr_i32(feature), check=False)
        if p.status != OK:
            return 0
        return Reader(p.payload).i32()

    def connect_open(self, name="qemu:///system", flags=0):
        return self.call(PROC_CONNECT_OPEN, xdr_ostring(name) + xdr_u32(flags))

    def handshake(self, keepalive=True, readonly=False):
        types = self.auth_list()
        ka = self.supports_feature(10) if keepalive else 0
        self.connect_open(flags=1 if readonly else 0)
        return types, ka

    def hostname(self):
        return Reader(self.call(PROC_CONNECT_GET_HOSTNAME).payload).string()

    def list_all_domains(self, flags=3):
        p = self.call(PROC_CONNECT_LIST_ALL_DOMAINS, xdr_i32(1) + xdr_u32(flags))
        r = Reader(p.payload)
        n = r.u32()
        doms = [r.nonnull_domain() for _ in range(n)]
        ret = r.u32()
        return doms, ret

    def ping(self, timeout=10.0):
        """Send a keepalive PING, return the PONG packet."""
        self.send_raw(pack_packet(KEEPALIVE_PROGRAM, KEEPALIVE_PING, MESSAGE))
        deadline = time.monotonic() + timeout
        while True:
            p = self.recv_packet(timeout=max(0.01, deadline - time.monotonic()))
            if p.is_keepalive() and p.proc == KEEPALIVE_PONG:
                return p
            if p.is_keepalive() and p.proc == KEEPALIVE_PING:
                self.send_raw(pack_packet(KEEPALIVE_PROGRAM, KEEPALIVE_PONG, MESSAGE))
            self.pending_messages.append(p)
