"""qemu+tls:// (hearthd.conf listen_tls): stock virsh and python3-libvirt over TLS on loopback,
with certificates made here by certtool (gnutls-bin): a CA, a server certificate for localhost
and 127.0.0.1, client certificates from that CA and from a rogue one.

What libvirtd does and Hearth must do (libvirt-rpc.md §7.4): request and verify the client's
certificate, send the confirmation byte 0x01, no TLS 1.3 session tickets, then plain RPC."""

import os
import shutil
import socket
import ssl
import subprocess
import time

import libvirt
import pytest

import hearthlib
from hearthlib import domain_xml

CERTTOOL = shutil.which("certtool")


def certtool(*args, template=None, cwd=None):
    argv = [CERTTOOL] + list(args)
    if template is not None:
        tpl = os.path.join(cwd, "tpl.info")
        with open(tpl, "w") as f:
            f.write(template)
        argv += ["--template", tpl]
    subprocess.run(argv, cwd=cwd, check=True, capture_output=True, timeout=60)


def make_key(d, name):
    # RSA: libvirt's client insists on key encipherment in the key usage, which ECDSA lacks
    certtool("--generate-privkey", "--key-type=rsa", "--bits=2048", "--outfile", name, cwd=d)


def make_ca(d, prefix, cn):
    make_key(d, prefix + "key.pem")
    certtool("--generate-self-signed", "--load-privkey", prefix + "key.pem",
             "--outfile", prefix + "cert.pem",
             template="cn = \"%s\"\nca\ncert_signing_key\nexpiration_days = 30\n" % cn, cwd=d)


def make_cert(d, ca_prefix, name, template):
    make_key(d, name + "key.pem")
    certtool("--generate-certificate", "--load-privkey", name + "key.pem",
             "--load-ca-certificate", ca_prefix + "cert.pem", "--load-ca-privkey", ca_prefix + "key.pem",
             "--outfile", name + "cert.pem", template=template + "expiration_days = 30\n", cwd=d)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """Every certificate the tests need, in one directory."""
    if not CERTTOOL:
        pytest.fail("certtool is missing (apt-get install gnutls-bin)")
    d = str(tmp_path_factory.mktemp("pki"))
    make_ca(d, "ca", "Hearth Test CA")
    make_ca(d, "rogue", "Rogue CA")
    make_cert(d, "ca", "server", "organization = \"Hearth Tests\"\ncn = \"localhost\"\n"
              "dns_name = \"localhost\"\nip_address = \"127.0.0.1\"\ntls_www_server\n"
              "signing_key\nencryption_key\n")
    make_cert(d, "ca", "otherhost", "organization = \"Hearth Tests\"\ncn = \"otherhost\"\n"
              "dns_name = \"otherhost\"\ntls_www_server\nsigning_key\nencryption_key\n")
    make_cert(d, "ca", "client", "country = GB\norganization = \"Hearth Tests\"\ncn = \"admin1\"\n"
              "tls_www_client\nsigning_key\nencryption_key\n")
    make_cert(d, "rogue", "rogueclient", "organization = \"Hearth Tests\"\ncn = \"intruder\"\n"
              "tls_www_client\nsigning_key\nencryption_key\n")
    return d


def client_dir(pki, tmp_path, name, cert="client", ca="ca"):
    """A pkipath= directory for libvirt's client: cacert.pem, clientcert.pem, clientkey.pem."""
    d = tmp_path / name
    d.mkdir()
    shutil.copy(os.path.join(pki, ca + "cert.pem"), d / "cacert.pem")
    if cert:
        shutil.copy(os.path.join(pki, cert + "cert.pem"), d / "clientcert.pem")
        shutil.copy(os.path.join(pki, cert + "key.pem"), d / "clientkey.pem")
    return d


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def install_server_pki(h, pki, server="server"):
    """The server's files where hearthd looks by default (libvirtd's paths, under --root)."""
    for rel, src in (("etc/pki/CA/cacert.pem", "cacert.pem"),
                     ("etc/pki/libvirt/servercert.pem", server + "cert.pem"),
                     ("etc/pki/libvirt/private/serverkey.pem", server + "key.pem")):
        dst = h.root / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(os.path.join(pki, src), dst)


def tls_daemon(hearth_factory, pki, extra="", server="server"):
    port = free_port()
    h = hearth_factory(conf="[hearthd]\nlisten_tls = true\nlisten_addr = 127.0.0.1\n"
                            "tls_port = %d\n%s" % (port, extra), start=False)
    install_server_pki(h, pki, server)
    h.start()
    return h, port


def tls_uri(port, pkidir, host="localhost"):
    return "qemu+tls://%s:%d/system?pkipath=%s" % (host, port, pkidir)


def virsh(uri, *args, check=True):
    env = dict(os.environ, LC_ALL="C", LANG="C")
    env.pop("LIBVIRT_DEFAULT_URI", None)
    cp = subprocess.run(["virsh", "-c", uri] + list(args), capture_output=True, text=True,
                        timeout=60, env=env)
    if check:
        assert cp.returncode == 0, "virsh %s: %s" % (" ".join(args), cp.stderr)
    return cp


def test_virsh_over_tls(hearth_factory, pki, tmp_path):
    h, port = tls_daemon(hearth_factory, pki)
    uri = tls_uri(port, client_dir(pki, tmp_path, "good"))
    assert virsh(uri, "hostname").stdout.strip() == socket.gethostname()
    xml = tmp_path / "d.xml"
    xml.write_text(domain_xml("overtls"))
    assert "Domain 'overtls' defined" in virsh(uri, "define", str(xml)).stdout
    assert virsh(uri, "list", "--all", "--name").stdout.split() == ["overtls"]
    # the same definition through the unix socket
    assert h.virsh("list", "--all", "--name").stdout.split() == ["overtls"]
    assert "TLS client" in h.log_text() and "admin1" in h.log_text()


def test_python_over_tls_large_messages_and_events(hearth_factory, pki, tmp_path, event_loop):
    """Replies spanning many TLS records (a 1 MiB description), several calls, and an event
    pushed by the server while the client waits."""
    h, port = tls_daemon(hearth_factory, pki)
    uri = tls_uri(port, client_dir(pki, tmp_path, "good"))
    c = libvirt.open(uri)
    try:
        seen = []
        cid = c.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                       lambda conn, dom, ev, det, opaque: seen.append((dom.name(), ev)),
                                       None)
        big = "x" * (1024 * 1024)
        d = c.defineXML(domain_xml("bigdesc", extra="  <description>%s</description>\n" % big))
        assert d.XMLDesc(0).count("x" * 1000) >= 1000
        for i in range(50):
            assert c.lookupByName("bigdesc").UUIDString() == d.UUIDString()
        h.virsh("undefine", "bigdesc")  # from another client: the event reaches us over TLS
        deadline = time.monotonic() + 10
        while ("bigdesc", libvirt.VIR_DOMAIN_EVENT_UNDEFINED) not in seen and time.monotonic() < deadline:
            time.sleep(0.05)
        assert ("bigdesc", libvirt.VIR_DOMAIN_EVENT_UNDEFINED) in seen, seen
        c.domainEventDeregisterAny(cid)
    finally:
        c.close()


def test_confirmation_byte_and_no_tickets(hearth_factory, pki):
    """At the wire: exactly 0x01 follows the handshake, in TLS 1.3 too, with no session
    ticket in front of it (libvirt 9.0's client would read the ticket and fail)."""
    h, port = tls_daemon(hearth_factory, pki)
    ctx = ssl.create_default_context(cafile=os.path.join(pki, "cacert.pem"))
    ctx.load_cert_chain(os.path.join(pki, "clientcert.pem"), os.path.join(pki, "clientkey.pem"))
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as s:
            assert s.version() == "TLSv1.3"
            assert s.recv(1) == b"\x01"
            assert s.session is None or not s.session.has_ticket
    h.virsh("list")


def test_garbage_and_plain_rpc_on_the_tls_port(hearth_factory, pki, tmp_path):
    """Bytes that are not TLS (an RPC packet, noise, a half handshake) cost only their own
    connection."""
    h, port = tls_daemon(hearth_factory, pki)
    # (not random bytes: some random prefixes read as the header of a long TLS record, and the
    # server rightly waits for the rest)
    for junk in (b"\x00\x00\x00\x1c\x20\x00\x80\x86" + b"\x00" * 20, b"\xff" * 4096,
                 b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n", b"\x16\x03\x01\x02\x00\x01"):
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(junk)
            if junk.startswith(b"\x16"):
                continue  # a handshake cut short: the client just goes away
            s.settimeout(10)
            try:
                while s.recv(4096):
                    pass
            except ConnectionResetError:
                pass
    assert virsh(tls_uri(port, client_dir(pki, tmp_path, "good")), "list").returncode == 0
    h.virsh("list")
    assert "TLS handshake failed" in h.log_text()


def test_certificate_from_another_ca_refused(hearth_factory, pki):
    """A client that does send a certificate from another CA (OpenSSL does) gets no
    confirmation byte, and the log says why."""
    h, port = tls_daemon(hearth_factory, pki)
    ctx = ssl.create_default_context(cafile=os.path.join(pki, "cacert.pem"))
    ctx.load_cert_chain(os.path.join(pki, "rogueclientcert.pem"), os.path.join(pki, "rogueclientkey.pem"))
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        try:
            with ctx.wrap_socket(raw, server_hostname="localhost") as s:
                got = s.recv(1)
        except (ssl.SSLError, ConnectionError):
            got = b""
    assert got == b"", got
    deadline = time.monotonic() + 5
    while "does not verify" not in h.log_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "does not verify" in h.log_text() and "intruder" in h.log_text(), h.log_text()[-2000:]
    h.virsh("list")


@pytest.mark.parametrize("case", ["rogue-ca", "no-client-cert"])
def test_bad_client_certificates_refused(hearth_factory, pki, tmp_path, case):
    h, port = tls_daemon(hearth_factory, pki)
    d = (client_dir(pki, tmp_path, case, cert="rogueclient") if case == "rogue-ca"
         else client_dir(pki, tmp_path, case, cert=None))
    # no_sanity=1: libvirt's client would otherwise refuse to send a certificate its own CA
    # file does not vouch for; the point is what the server does with it
    cp = virsh(tls_uri(port, d) + "&no_sanity=1", "list", check=False)
    assert cp.returncode != 0
    assert "TLS confirmation" in cp.stderr or "authentication failed" in cp.stderr, cp.stderr
    log = h.log_text()
    assert "refused" in log, log[-2000:]
    # GnuTLS's client does not even send a certificate the server's CA did not issue
    assert "no certificate" in log or "does not verify" in log, log[-2000:]
    # the daemon keeps serving, over TLS too
    assert virsh(tls_uri(port, client_dir(pki, tmp_path, case + "-good")), "list").returncode == 0
    h.virsh("list")


def test_server_certificate_checked_by_client(hearth_factory, pki, tmp_path):
    """libvirt's client checks the host name against our certificate, as with libvirtd: the
    address in the certificate works, a certificate for another host is refused."""
    h, port = tls_daemon(hearth_factory, pki)
    d = client_dir(pki, tmp_path, "good")
    assert virsh(tls_uri(port, d, host="127.0.0.1"), "list").returncode == 0
    h2, port2 = tls_daemon(hearth_factory, pki, server="otherhost")
    cp = virsh(tls_uri(port2, d), "list", check=False)
    assert cp.returncode != 0 and "hostname" in cp.stderr, cp.stderr


def test_allowed_dn_list(hearth_factory, pki, tmp_path):
    h, port = tls_daemon(hearth_factory, pki, extra="tls_allowed_dn_list = CN=admin2*;O=Other*\n")
    cp = virsh(tls_uri(port, client_dir(pki, tmp_path, "good")), "list", check=False)
    assert cp.returncode != 0
    assert "tls_allowed_dn_list" in h.log_text()
    h2, port2 = tls_daemon(hearth_factory, pki, extra="tls_allowed_dn_list = *CN=admin1*\n")
    assert virsh(tls_uri(port2, client_dir(pki, tmp_path, "good2")), "list").returncode == 0


def test_missing_server_certificate_is_a_clear_error(hearth_factory, pki):
    port = free_port()
    h = hearth_factory(conf="[hearthd]\nlisten_tls = true\nlisten_addr = 127.0.0.1\n"
                            "tls_port = %d\n" % port, start=False)
    with pytest.raises(hearthlib.HearthError):
        h.start(timeout=10)
    h.expected_exit = True
    text = h.stderr_text() + h.log_text()
    assert "cacert.pem" in text, text[-2000:]


def test_port_in_use_is_a_clear_error(hearth_factory, pki):
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen(1)
        port = squatter.getsockname()[1]
        h = hearth_factory(conf="[hearthd]\nlisten_tls = true\nlisten_addr = 127.0.0.1\n"
                                "tls_port = %d\n" % port, start=False)
        install_server_pki(h, pki)
        with pytest.raises(hearthlib.HearthError):
            h.start(timeout=10)
        h.expected_exit = True
        text = h.stderr_text() + h.log_text()
        assert "port %d" % port in text and "in use" in text, text[-2000:]


def test_without_listen_tls_nothing_listens_and_gnutls_stays_out(hearth):
    maps = open("/proc/%d/maps" % hearth.proc.pid).read()
    assert "libgnutls" not in maps and "hearth-tls" not in maps


def test_socket_activation_with_tls(hearth_factory, pki, tmp_path):
    """hearthd-tls.socket: systemd passes a TCP socket named hearth-tls; hearthd speaks TLS on
    it with the certificates at their default paths, without listen_tls in hearthd.conf."""
    h = hearth_factory(start=False, use_notify=False)
    install_server_pki(h, pki)
    port = free_port()
    with hearthlib.socket_activated(h, [h.sock, h.sock_ro, "127.0.0.1:%d" % port],
                                    ["hearth-sock", "hearth-sock-ro", "hearth-tls"]):
        assert virsh(tls_uri(port, client_dir(pki, tmp_path, "good")), "hostname").returncode == 0
        assert h.virsh("list", "--all", ro=True).returncode == 0
    text = (h.root / "activate.stderr").read_text(errors="replace")
    assert "TLS client" in text, text[-2000:]
