"""Hostile and broken domain XML. Each case must get a clear error (code through
python3-libvirt, message through virsh); afterwards the daemon still serves and the
good definitions on disk are byte-for-byte unchanged.

libvirt 9.0 answers (checked with reference-libvirtd):
  malformed XML                 35 XML_DETAIL "(domain_definition):1: Premature end of data ..."
  unknown element + VALIDATE    92 XML_INVALID_SCHEMA "... Element domain has extra content: bogus"
  > 4 MiB document              refused by libvirt.so itself (39 "Unable to encode message payload");
                                on the wire libvirtd answers 39 "Unable to decode message payload"
  billion laughs                35 "Detected an entity reference loop" (0.5 ms)
  10,000-deep nesting           35 "Excessive depth in document: 256 use XML_PARSE_HUGE option"
  same name, other uuid         9 OPERATION_FAILED "domain 'a' already exists with uuid ..."
  same uuid, other name         9 OPERATION_FAILED "domain 'a' is already defined with uuid ..."
  name with '/'                 27 XML_ERROR "name a/b cannot contain '/'"
  missing or empty <name>       21 NO_NAME "missing name information"
  <memory>lots</memory>         27 XML_ERROR "Invalid value 'lots' for element or attribute './memory[1]'"
  <uuid>not-a-uuid</uuid>       1 INTERNAL_ERROR "malformed uuid element" (Hearth: 27, see CASES)
  name starting with '.'        libvirt ACCEPTS it; Hearth rejects it (its definitions are NAME.xml files)
"""

import time
import xml.etree.ElementTree as ET

import libvirt
import pytest

import hearthlib
import wire
from hearthlib import domain_xml

GOOD_U1 = "aaaaaaaa-0000-4000-8000-000000000001"
GOOD_U2 = "aaaaaaaa-0000-4000-8000-000000000002"

LOL = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<domain type='qemu'><name>lol</name><description>&lol9;</description><memory>131072</memory><os><type>hvm</type></os></domain>
"""

# external entity: must never be resolved (XXE)
XXE = """<?xml version="1.0"?>
<!DOCTYPE domain [ <!ENTITY xxe SYSTEM "file:///etc/hostname"> ]>
<domain type='qemu'><name>xxe</name><description>&xxe;</description><memory>131072</memory><os><type>hvm</type></os></domain>
"""

DEEP = domain_xml("deep", extra="<metadata><x:a xmlns:x='http://deep.example/'>" + "<b>" * 10000 +
                  "</b>" * 10000 + "</x:a></metadata>\n")

# libvirt reports what libxml2 rejects (syntax, entities, depth) as 35 XML_DETAIL and what its
# own parser rejects (values, names, structure) as 27 XML_ERROR; Hearth does the same.
CASES = {
    # id: (xml, flags, error code (libvirt 9.0's unless noted), substring expected in the message or None)
    "malformed": ("<domain type='qemu'><name>x</name>", 0, 35, "Premature end of data"),
    "empty-document": ("", 0, 35, "empty"),
    "not-a-domain": ("<network><name>n</name></network>", 0, 27, "network"),
    "unknown-toplevel-validate": (domain_xml("v", extra="  <bogusthing/>\n"), libvirt.VIR_DOMAIN_DEFINE_VALIDATE,
                                  92, "bogusthing"),
    "billion-laughs": (LOL, 0, 35, None),
    "deep-nesting": (DEEP, 0, 35, None),
    "name-with-slash": (domain_xml("a/b"), 0, 27, "/"),
    # libvirt accepts a leading '.' (and then trips over '..' as a path); Hearth refuses both
    # as bad names, because its definitions are NAME.xml files
    "name-leading-dot": (domain_xml(".hidden"), 0, 27, "'.'"),
    "name-dotdot": (domain_xml(".."), 0, 27, "'.'"),
    "missing-name": ("<domain type='qemu'><memory>131072</memory><os><type>hvm</type></os></domain>", 0,
                     21, "missing name information"),
    "empty-name": (domain_xml(""), 0, 21, "missing name information"),
    # libvirt says 1 INTERNAL_ERROR "malformed uuid element"; a user's typo is not an internal
    # error, so Hearth says 27 XML_ERROR and quotes the value
    "bad-uuid": (domain_xml("baduuid", uuid="not-a-uuid"), 0, 27, "not-a-uuid"),
    "bad-memory": (domain_xml("badmem").replace("<memory unit='KiB'>131072</memory>",
                                                "<memory unit='KiB'>lots</memory>"), 0, 27, "lots"),
}


@pytest.fixture
def good(hearth):
    """Two good definitions whose files must survive every bad input untouched."""
    c = hearth.connect()
    c.defineXML(domain_xml("good1", GOOD_U1))
    d2 = c.defineXML(domain_xml("good2", GOOD_U2))
    d2.setAutostart(1)
    c.close()
    files = hearth.definition_files()
    assert sorted(files) == ["good1.xml", "good2.xml"], files
    return files


def assert_intact(hearth, files):
    hearth.check_alive("after bad input")
    assert hearth.definition_files() == files, "definition files changed"
    out = hearth.virsh("list", "--all", "--name").stdout.split()
    assert out == ["good1", "good2"], out
    assert hearth.virsh("list", "--all", "--autostart", "--name").stdout.split() == ["good2"]


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_definition(hearth, good, case, tmp_path):
    xml, flags, codes, needle = CASES[case]
    c = hearth.connect()
    try:
        t0 = time.monotonic()
        with pytest.raises(libvirt.libvirtError) as ei:
            c.defineXMLFlags(xml, flags)
        took = time.monotonic() - t0
        code = ei.value.get_error_code()
        msg = ei.value.get_error_message() or ""
        assert code == codes, "%s: error code %d (%s), libvirt's is %d" % (case, code, msg, codes)
        assert msg.strip(), "empty error message"
        if needle:
            assert needle in msg, "message %r does not mention %r" % (msg, needle)
        assert took < 5, "%s took %.1fs to reject" % (case, took)
        assert c.getHostname()  # the same connection still works
    finally:
        c.close()
    # the same through virsh: a clear one-line reason after the generic line
    p = tmp_path / "bad.xml"
    p.write_text(xml)
    args = ["define", "--validate", p] if flags else ["define", p]
    cp = hearth.virsh(*args, check=False)
    assert cp.returncode == 1, cp.stdout
    assert "error: Failed to define domain from" in cp.stderr, cp.stderr
    reason = cp.stderr.split("error: Failed to define domain from", 1)[1]
    assert "error:" in reason and len(reason.split("error:", 1)[1].strip()) > 3, cp.stderr
    assert_intact(hearth, good)


def test_duplicate_name_other_uuid(hearth, good):
    c = hearth.connect()
    try:
        with pytest.raises(libvirt.libvirtError) as ei:
            c.defineXML(domain_xml("good1", GOOD_U2.replace("2", "9")))
        e = ei.value
        assert e.get_error_code() == libvirt.VIR_ERR_OPERATION_FAILED, e
        assert "good1" in str(e) and "already exists" in str(e) and GOOD_U1 in str(e), str(e)
    finally:
        c.close()
    assert_intact(hearth, good)


def test_duplicate_uuid_other_name(hearth, good, tmp_path):
    c = hearth.connect()
    try:
        with pytest.raises(libvirt.libvirtError) as ei:
            c.defineXML(domain_xml("impostor", GOOD_U1))
        e = ei.value
        assert e.get_error_code() == libvirt.VIR_ERR_OPERATION_FAILED, e
        assert "good1" in str(e), str(e)
    finally:
        c.close()
    p = tmp_path / "imp.xml"
    p.write_text(domain_xml("impostor", GOOD_U1))
    cp = hearth.virsh("define", p, check=False)
    assert cp.returncode == 1 and "already defined with uuid" in cp.stderr, cp.stderr
    assert_intact(hearth, good)


def test_billion_laughs_memory(hearth, good):
    """Entity expansion must be refused quickly without the daemon ballooning."""
    rss0 = hearth.rss_kib()
    c = hearth.connect()
    try:
        for _ in range(5):
            t0 = time.monotonic()
            with pytest.raises(libvirt.libvirtError):
                c.defineXML(LOL)
            assert time.monotonic() - t0 < 2
    finally:
        c.close()
    rss1 = hearth.rss_kib()
    if rss0 is not None:
        assert rss1 - rss0 < 32 * 1024 + hearthlib.rss_slack_kib(), "RSS grew from %d to %d KiB" % (rss0, rss1)
    assert_intact(hearth, good)


def test_external_entity_not_resolved(hearth, good):
    c = hearth.connect()
    try:
        try:
            d = c.defineXML(XXE)
        except libvirt.libvirtError:
            pass  # rejecting DTDs/entities altogether is fine
        else:
            text = ET.fromstring(d.XMLDesc(0)).findtext("description") or ""
            with open("/etc/hostname") as f:
                secret = f.read().strip()
            assert not secret or secret not in text, "external entity was expanded: %r" % text
            d.undefine()
    finally:
        c.close()
    assert_intact(hearth, good)


def test_huge_document_python(hearth, good):
    """> 4 MiB: libvirt.so refuses to send it (REMOTE_STRING_MAX); the daemon must be unaffected."""
    big = domain_xml("big", extra="<description>" + "x" * (5 << 20) + "</description>\n")
    c = hearth.connect()
    try:
        with pytest.raises(libvirt.libvirtError) as ei:
            c.defineXML(big)
        assert ei.value.get_error_code() in (libvirt.VIR_ERR_RPC, 27, 35, 8), ei.value
        assert c.getHostname()
    finally:
        c.close()
    assert_intact(hearth, good)


def test_huge_document_on_the_wire(hearth, good):
    """Send a 5 MiB DEFINE_XML string by hand (a client that ignores the 4 MiB limit)."""
    big = domain_xml("big", extra="<description>" + "x" * (5 << 20) + "</description>\n")
    w = wire.WireClient(str(hearth.sock), timeout=30)
    try:
        w.handshake(keepalive=False)
        serial = w.send_call(wire.PROC_DOMAIN_DEFINE_XML, wire.xdr_string(big))
        try:
            p = w.recv_reply(serial, timeout=30)
        except wire.ConnectionClosed:
            p = None  # closing the connection is an acceptable answer too
        if p is not None:
            assert p.status == wire.ERROR, "a 5 MiB definition was accepted: %r" % p
            assert p.error()["message"], p.error()
    finally:
        w.close()
    assert hearth.rss_kib() is None or hearth.rss_kib() < 128 * 1024 + hearthlib.rss_slack_kib()
    assert_intact(hearth, good)


def test_just_under_4mib_document(hearth, good):
    """A big but legal (3.5 MiB) document is either stored and returned intact or refused cleanly."""
    big = domain_xml("bigok", GOOD_U1.replace("1", "5"),
                     extra="<description>" + "y" * (3500 * 1024) + "</description>\n")
    c = hearth.connect()
    try:
        try:
            d = c.defineXML(big)
        except libvirt.libvirtError as e:
            assert e.get_error_code() not in (libvirt.VIR_ERR_INTERNAL_ERROR,), e
            assert c.getHostname()
        else:
            assert len(d.XMLDesc(0)) > 3500 * 1024
            d.undefine()
    finally:
        c.close()
    assert_intact(hearth, good)


def test_very_long_name(hearth, good):
    """A 300-byte name cannot be a file name: clear error, or stored under a safe name."""
    name = "n" * 300
    c = hearth.connect()
    try:
        try:
            d = c.defineXML(domain_xml(name))
        except libvirt.libvirtError as e:
            assert (e.get_error_message() or "").strip()
        else:
            assert c.lookupByName(name).name() == name
            d.undefine()
        assert c.getHostname()
    finally:
        c.close()
    assert_intact(hearth, good)


def test_define_storm_of_garbage_keeps_serving(hearth, good):
    """200 bad definitions in a row on one connection: no leak of connections or memory."""
    c = hearth.connect()
    rss0 = hearth.rss_kib()
    try:
        for i in range(200):
            with pytest.raises(libvirt.libvirtError):
                c.defineXML("<domain type='qemu'><name>g%d</name><memory>" % i)
    finally:
        c.close()
    rss1 = hearth.rss_kib()
    if rss0 is not None:
        assert rss1 - rss0 < 16 * 1024 + hearthlib.rss_slack_kib(), (rss0, rss1)
    assert_intact(hearth, good)
