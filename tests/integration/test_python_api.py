"""python3-libvirt against hearthd: the domain API, error codes and lifecycle events.

Expected values were checked against a stock libvirtd 9.0 (reference-libvirtd)."""

import os
import threading
import time
import xml.etree.ElementTree as ET

import libvirt
import pytest

from hearthlib import domain_xml

U1 = "11111111-2222-3333-4444-555555555555"
U2 = "11111111-2222-3333-4444-666666666666"
U3 = "11111111-2222-3333-4444-777777777777"
GUEST1_UUID = "6a3b2c1d-4e5f-4a7b-8c9d-0e1f2a3b4c5d"
NS = "http://hearth.example.org/ns/1"


@pytest.fixture
def conn(hearth):
    c = hearth.connect()
    yield c
    try:
        c.close()
    except libvirt.libvirtError:
        pass


def err_code(fn, *args):
    with pytest.raises(libvirt.libvirtError) as ei:
        fn(*args)
    return ei.value.get_error_code(), str(ei.value)


def test_define_and_lookup(conn, guest1_xml):
    d = conn.defineXML(guest1_xml)
    assert d.name() == "guest1"
    assert d.UUIDString() == GUEST1_UUID
    assert d.ID() == -1
    d2 = conn.lookupByName("guest1")
    assert d2.UUIDString() == GUEST1_UUID
    d3 = conn.lookupByUUIDString(GUEST1_UUID)
    assert d3.name() == "guest1"
    import uuid
    d4 = conn.lookupByUUID(uuid.UUID(GUEST1_UUID).bytes)
    assert d4.name() == "guest1"
    assert conn.numOfDefinedDomains() == 1
    assert conn.listDefinedDomains() == ["guest1"]
    assert conn.numOfDomains() == 0
    assert conn.listDomainsID() == []


def test_domain_properties(conn, guest1_xml):
    d = conn.defineXML(guest1_xml)
    assert d.isActive() == 0
    assert d.isPersistent() == 1
    assert d.isUpdated() == 0
    assert d.OSType() == "hvm"
    assert d.maxMemory() == 524288
    state, maxmem, mem, ncpu, cputime = d.info()
    assert (state, maxmem, mem, ncpu, cputime) == (libvirt.VIR_DOMAIN_SHUTOFF, 524288, 262144, 2, 0)
    assert d.state() == [libvirt.VIR_DOMAIN_SHUTOFF, libvirt.VIR_DOMAIN_SHUTOFF_UNKNOWN]
    assert d.vcpusFlags(0) == 2
    assert d.vcpusFlags(libvirt.VIR_DOMAIN_AFFECT_CONFIG) == 2
    assert d.vcpusFlags(libvirt.VIR_DOMAIN_VCPU_MAXIMUM | libvirt.VIR_DOMAIN_AFFECT_CONFIG) == 2
    assert d.autostart() == 0
    assert d.hasManagedSaveImage(0) == 0


def test_xmldesc_flags(conn, guest1_xml):
    d = conn.defineXML(guest1_xml)
    plain = d.XMLDesc(0)
    assert "passwd" not in plain
    inactive = d.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    assert "passwd" not in inactive
    assert inactive == plain
    secure = d.XMLDesc(libvirt.VIR_DOMAIN_XML_SECURE)
    assert ET.fromstring(secure).find("devices/graphics").get("passwd") == "s3cr3tVn"
    secure_inactive = d.XMLDesc(libvirt.VIR_DOMAIN_XML_SECURE | libvirt.VIR_DOMAIN_XML_INACTIVE)
    assert secure_inactive == secure
    # re-defining what we got back is a fixed point
    conn.defineXML(secure)
    assert conn.lookupByName("guest1").XMLDesc(libvirt.VIR_DOMAIN_XML_SECURE) == secure


def test_list_all_domains_flags(conn):
    a = conn.defineXML(domain_xml("a", U1))
    conn.defineXML(domain_xml("b", U2))
    conn.defineXML(domain_xml("c", U3))
    a.setAutostart(1)

    def ls(flags):
        return sorted(d.name() for d in conn.listAllDomains(flags))

    assert ls(0) == ["a", "b", "c"]
    assert ls(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE) == []
    assert ls(libvirt.VIR_CONNECT_LIST_DOMAINS_INACTIVE) == ["a", "b", "c"]
    assert ls(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE | libvirt.VIR_CONNECT_LIST_DOMAINS_INACTIVE) == ["a", "b", "c"]
    assert ls(libvirt.VIR_CONNECT_LIST_DOMAINS_PERSISTENT) == ["a", "b", "c"]
    assert ls(libvirt.VIR_CONNECT_LIST_DOMAINS_TRANSIENT) == []
    assert ls(libvirt.VIR_CONNECT_LIST_DOMAINS_AUTOSTART) == ["a"]
    assert ls(libvirt.VIR_CONNECT_LIST_DOMAINS_NO_AUTOSTART) == ["b", "c"]
    assert ls(libvirt.VIR_CONNECT_LIST_DOMAINS_INACTIVE | libvirt.VIR_CONNECT_LIST_DOMAINS_AUTOSTART) == ["a"]
    assert ls(libvirt.VIR_CONNECT_LIST_DOMAINS_SHUTOFF) == ["a", "b", "c"]
    assert ls(libvirt.VIR_CONNECT_LIST_DOMAINS_RUNNING) == []
    assert ls(libvirt.VIR_CONNECT_LIST_DOMAINS_NO_MANAGEDSAVE) == ["a", "b", "c"]
    assert ls(libvirt.VIR_CONNECT_LIST_DOMAINS_MANAGEDSAVE) == []
    # ids from the wire: -1 for inactive
    assert all(d.ID() == -1 for d in conn.listAllDomains(0))


def test_autostart(hearth, conn):
    d = conn.defineXML(domain_xml("as1", U1))
    d.setAutostart(1)
    assert d.autostart() == 1
    assert (hearth.autostart_dir / "as1.xml").is_symlink()
    d.setAutostart(0)
    assert d.autostart() == 0
    assert not os.path.lexists(hearth.autostart_dir / "as1.xml")
    d.setAutostart(1)
    d.setAutostart(1)  # idempotent
    assert d.autostart() == 1


def test_metadata(conn, guest1_xml):
    d = conn.defineXML(guest1_xml)
    code, msg = err_code(d.metadata, libvirt.VIR_DOMAIN_METADATA_ELEMENT, NS, 0)
    assert code == libvirt.VIR_ERR_NO_DOMAIN_METADATA, (code, msg)
    d.setMetadata(libvirt.VIR_DOMAIN_METADATA_ELEMENT, "<thing size='3'>x</thing>", "ht", NS,
                  libvirt.VIR_DOMAIN_AFFECT_CONFIG)
    got = d.metadata(libvirt.VIR_DOMAIN_METADATA_ELEMENT, NS, libvirt.VIR_DOMAIN_AFFECT_CONFIG)
    el = ET.fromstring(got)
    assert el.tag.split("}")[-1] == "thing" and el.get("size") == "3" and el.text == "x", got
    # checked last: libvirt returns the element without its namespace: <thing size="3">x</thing>
    first_get = got
    xml = ET.fromstring(d.XMLDesc(0))
    assert xml.find("metadata/{%s}thing" % NS) is not None
    # replace
    d.setMetadata(libvirt.VIR_DOMAIN_METADATA_ELEMENT, "<thing size='4'/>", "ht", NS, 0)
    assert ET.fromstring(d.metadata(libvirt.VIR_DOMAIN_METADATA_ELEMENT, NS, 0)).get("size") == "4"
    assert "<thing" in d.XMLDesc(0) or "thing" in d.XMLDesc(0)
    # remove (metadata=None)
    d.setMetadata(libvirt.VIR_DOMAIN_METADATA_ELEMENT, None, None, NS, 0)
    code, _ = err_code(d.metadata, libvirt.VIR_DOMAIN_METADATA_ELEMENT, NS, 0)
    assert code == libvirt.VIR_ERR_NO_DOMAIN_METADATA
    # the pre-existing app1 namespace is still there
    assert d.metadata(libvirt.VIR_DOMAIN_METADATA_ELEMENT, "http://example.org/app1/", 0)
    # description / title
    d.setMetadata(libvirt.VIR_DOMAIN_METADATA_DESCRIPTION, "desc <&> text", None, None, 0)
    assert d.metadata(libvirt.VIR_DOMAIN_METADATA_DESCRIPTION, None, 0) == "desc <&> text"
    d.setMetadata(libvirt.VIR_DOMAIN_METADATA_TITLE, "A title", None, None, 0)
    assert d.metadata(libvirt.VIR_DOMAIN_METADATA_TITLE, None, 0) == "A title"
    # libvirt: 8 INVALID_ARG "metadata title can't contain newlines"
    code, msg = err_code(d.setMetadata, libvirt.VIR_DOMAIN_METADATA_TITLE, "two\nlines", None, None, 0)
    assert code == libvirt.VIR_ERR_INVALID_ARG, (code, msg)
    assert d.metadata(libvirt.VIR_DOMAIN_METADATA_TITLE, None, 0) == "A title"
    d.setMetadata(libvirt.VIR_DOMAIN_METADATA_TITLE, None, None, None, 0)
    code, _ = err_code(d.metadata, libvirt.VIR_DOMAIN_METADATA_TITLE, None, 0)
    assert code == libvirt.VIR_ERR_NO_DOMAIN_METADATA
    assert ET.fromstring(first_get).tag == "thing", \
        "metadata(ELEMENT) must return the element without namespace/prefix like libvirt: %s" % first_get


def test_rename(hearth, conn):
    d = conn.defineXML(domain_xml("old", U1))
    conn.defineXML(domain_xml("taken", U2))
    code, msg = err_code(d.rename, "taken", 0)
    assert code == libvirt.VIR_ERR_OPERATION_INVALID, (code, msg)   # libvirt: 55 "...already exists"
    assert d.rename("new", 0) == 0
    assert conn.lookupByUUIDString(U1).name() == "new"
    code, _ = err_code(conn.lookupByName, "old")
    assert code == libvirt.VIR_ERR_NO_DOMAIN
    assert (hearth.qemu_dir / "new.xml").is_file() and not (hearth.qemu_dir / "old.xml").exists()
    code, msg = err_code(conn.lookupByName("new").rename, "bad/name", 0)
    # libvirt: 27 XML_ERROR "name bad/name cannot contain '/'"
    assert code == libvirt.VIR_ERR_XML_ERROR, (code, msg)
    assert "/" in msg


def test_undefine_flags(hearth, conn):
    d = conn.defineXML(domain_xml("gone", U1))
    d.setAutostart(1)
    d.undefineFlags(0)
    code, msg = err_code(conn.lookupByName, "gone")
    assert code == libvirt.VIR_ERR_NO_DOMAIN, (code, msg)
    assert not (hearth.qemu_dir / "gone.xml").exists()
    assert not os.path.lexists(hearth.autostart_dir / "gone.xml")
    d = conn.defineXML(domain_xml("gone2", U2))
    d.undefine()
    assert conn.listAllDomains(0) == []


def test_error_codes(conn):
    code, msg = err_code(conn.lookupByName, "nosuch")
    assert code == libvirt.VIR_ERR_NO_DOMAIN, (code, msg)
    assert "nosuch" in msg
    code, msg = err_code(conn.lookupByUUIDString, U2)
    assert code == libvirt.VIR_ERR_NO_DOMAIN, (code, msg)
    code, _ = err_code(conn.lookupByID, 7)
    assert code == libvirt.VIR_ERR_NO_DOMAIN
    conn.defineXML(domain_xml("a", U1))
    # same name, other uuid -- libvirt: 9 "operation failed: domain 'a' already exists with uuid ..."
    code, msg = err_code(conn.defineXML, domain_xml("a", U2))
    assert code == libvirt.VIR_ERR_OPERATION_FAILED, (code, msg)
    assert "already exists" in msg and U1 in msg, msg
    # same uuid, other name -- libvirt: 9 "operation failed: domain 'a' is already defined with uuid ..."
    code, msg = err_code(conn.defineXML, domain_xml("b", U1))
    assert code == libvirt.VIR_ERR_OPERATION_FAILED, (code, msg)
    assert "'a'" in msg, msg
    assert sorted(d.name() for d in conn.listAllDomains(0)) == ["a"]
    # operations on a domain that was undefined meanwhile
    d = conn.lookupByName("a")
    d.undefine()
    code, _ = err_code(d.XMLDesc, 0)
    assert code == libvirt.VIR_ERR_NO_DOMAIN
    code, _ = err_code(d.info)
    assert code == libvirt.VIR_ERR_NO_DOMAIN


def test_is_updated_and_persistent_after_redefine(conn):
    d = conn.defineXML(domain_xml("r", U1, memory_kib=131072))
    d = conn.defineXML(domain_xml("r", U1, memory_kib=262144))
    assert d.maxMemory() == 262144
    assert d.isPersistent() == 1 and d.isUpdated() == 0
    assert len(conn.listAllDomains(0)) == 1


# --------------------------------------------------------------------------- events
class EventLog:
    def __init__(self):
        self.events = []
        self.cond = threading.Condition()

    def cb(self, conn, dom, event, detail, opaque):
        with self.cond:
            self.events.append((opaque, dom.name(), event, detail))
            self.cond.notify_all()

    def legacy_cb(self, conn, dom, event, detail, opaque):
        self.cb(conn, dom, event, detail, "legacy")

    def wait_for(self, item, timeout=10):
        deadline = time.monotonic() + timeout
        with self.cond:
            while item not in self.events:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.cond.wait(left)
            return True

    def snapshot(self):
        with self.cond:
            return list(self.events)


DEFINED, UNDEFINED = libvirt.VIR_DOMAIN_EVENT_DEFINED, libvirt.VIR_DOMAIN_EVENT_UNDEFINED
ADDED, UPDATED = libvirt.VIR_DOMAIN_EVENT_DEFINED_ADDED, libvirt.VIR_DOMAIN_EVENT_DEFINED_UPDATED
REMOVED = libvirt.VIR_DOMAIN_EVENT_UNDEFINED_REMOVED


def test_lifecycle_events_from_other_connection(hearth, event_loop):
    listener = hearth.connect()
    actor = hearth.connect()
    log = EventLog()
    try:
        cid = listener.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, log.cb, "all")
        actor.defineXML(domain_xml("e1", U1))
        assert log.wait_for(("all", "e1", DEFINED, ADDED)), log.snapshot()
        actor.defineXML(domain_xml("e1", U1, memory_kib=262144))
        assert log.wait_for(("all", "e1", DEFINED, UPDATED)), log.snapshot()
        actor.lookupByName("e1").undefine()
        assert log.wait_for(("all", "e1", UNDEFINED, REMOVED)), log.snapshot()
        evs = [e for e in log.snapshot() if e[1] == "e1"]
        assert evs == [("all", "e1", DEFINED, ADDED), ("all", "e1", DEFINED, UPDATED),
                       ("all", "e1", UNDEFINED, REMOVED)], evs
        # deregistration stops delivery
        listener.domainEventDeregisterAny(cid)
        n = len(log.snapshot())
        actor.defineXML(domain_xml("e2", U2))
        # a sentinel on a fresh registration proves the daemon has processed the define
        log2 = EventLog()
        cid2 = listener.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, log2.cb, "s")
        actor.defineXML(domain_xml("sentinel", U3))
        assert log2.wait_for(("s", "sentinel", DEFINED, ADDED))
        assert len(log.snapshot()) == n, "events after deregistration: %r" % log.snapshot()[n:]
        listener.domainEventDeregisterAny(cid2)
    finally:
        listener.close()
        actor.close()


def test_filtered_event_registration(hearth, event_loop):
    listener = hearth.connect()
    actor = hearth.connect()
    log = EventLog()
    try:
        x = actor.defineXML(domain_xml("x", U1))
        actor.defineXML(domain_xml("y", U2))
        lx = listener.lookupByName("x")
        cid_x = listener.domainEventRegisterAny(lx, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, log.cb, "x-only")
        cid_all = listener.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, log.cb, "all")
        actor.defineXML(domain_xml("y", U2, memory_kib=262144))
        actor.defineXML(domain_xml("x", U1, memory_kib=262144))
        assert log.wait_for(("all", "x", DEFINED, UPDATED))
        assert log.wait_for(("x-only", "x", DEFINED, UPDATED))
        assert log.wait_for(("all", "y", DEFINED, UPDATED))
        x.undefine()
        assert log.wait_for(("x-only", "x", UNDEFINED, REMOVED))
        got = [e for e in log.snapshot() if e[0] == "x-only"]
        assert all(e[1] == "x" for e in got), "filtered callback got other domains' events: %r" % got
        assert got == [("x-only", "x", DEFINED, UPDATED), ("x-only", "x", UNDEFINED, REMOVED)], got
        listener.domainEventDeregisterAny(cid_x)
        listener.domainEventDeregisterAny(cid_all)
    finally:
        listener.close()
        actor.close()


def test_legacy_event_register(hearth, event_loop):
    listener = hearth.connect()
    actor = hearth.connect()
    log = EventLog()
    try:
        listener.domainEventRegister(log.legacy_cb, None)
        actor.defineXML(domain_xml("leg", U1))
        assert log.wait_for(("legacy", "leg", DEFINED, ADDED)), log.snapshot()
        actor.lookupByName("leg").undefine()
        assert log.wait_for(("legacy", "leg", UNDEFINED, REMOVED)), log.snapshot()
        listener.domainEventDeregister(log.legacy_cb)
        log2 = EventLog()
        cid = listener.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, log2.cb, "s")
        n = len(log.snapshot())
        actor.defineXML(domain_xml("leg2", U2))
        assert log2.wait_for(("s", "leg2", DEFINED, ADDED))
        assert len(log.snapshot()) == n, "legacy callback still called after deregister"
        listener.domainEventDeregisterAny(cid)
    finally:
        listener.close()
        actor.close()


def test_rename_events(hearth, event_loop):
    """libvirt: UNDEFINED(RENAMED) for the old name, DEFINED(RENAMED) for the new one."""
    listener = hearth.connect()
    actor = hearth.connect()
    log = EventLog()
    try:
        listener.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, log.cb, "all")
        d = actor.defineXML(domain_xml("before", U1))
        assert log.wait_for(("all", "before", DEFINED, ADDED))
        d.rename("after", 0)
        assert log.wait_for(("all", "before", UNDEFINED, libvirt.VIR_DOMAIN_EVENT_UNDEFINED_RENAMED)), log.snapshot()
        assert log.wait_for(("all", "after", DEFINED, libvirt.VIR_DOMAIN_EVENT_DEFINED_RENAMED)), log.snapshot()
    finally:
        listener.close()
        actor.close()


def test_events_survive_listener_close_without_deregister(hearth, event_loop):
    """A client that vanishes with live registrations must not break later events."""
    gone = hearth.connect()
    gone.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, lambda *a: None, None)
    gone.close()
    listener = hearth.connect()
    log = EventLog()
    try:
        listener.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, log.cb, "all")
        hearth.virsh("define", "/dev/stdin", input=domain_xml("z", U1))
        assert log.wait_for(("all", "z", DEFINED, ADDED))
    finally:
        listener.close()
