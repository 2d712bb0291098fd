"""Domain definitions through virsh: define/list/dominfo/dumpxml/autostart/desc/
metadata/rename/undefine, persistence across restarts, corrupt files on disk."""

import os
import re
import subprocess
import threading
import time
import xml.etree.ElementTree as ET

import libvirt
import pytest

from hearthlib import domain_xml, parse_colon_table, parse_list

GUEST1_UUID = "6a3b2c1d-4e5f-4a7b-8c9d-0e1f2a3b4c5d"


def define_guest1(hearth, data_dir):
    cp = hearth.virsh("define", os.path.join(data_dir, "guest1.xml"))
    assert "Domain 'guest1' defined from" in cp.stdout, cp.stdout
    return cp


def define_small(hearth, tmp_path, name, uuid=None, **kw):
    p = tmp_path / ("%s.xml" % name)
    p.write_text(domain_xml(name, uuid, **kw))
    cp = hearth.virsh("define", p)
    assert "Domain '%s' defined from" % name in cp.stdout, cp.stdout
    return p


def list_rows(hearth, *flags, ro=False):
    return parse_list(hearth.virsh("list", *flags, ro=ro).stdout)


def names(hearth, *flags):
    return [line for line in hearth.virsh("list", "--name", *flags).stdout.splitlines() if line.strip()]


# --------------------------------------------------------------------------- define / list
def test_define_from_file_writes_definition(hearth, data_dir):
    define_guest1(hearth, data_dir)
    f = hearth.qemu_dir / "guest1.xml"
    assert f.is_file(), "definition not written to %s" % f
    on_disk = ET.fromstring(f.read_text())
    assert on_disk.findtext("name") == "guest1"
    assert on_disk.findtext("uuid") == GUEST1_UUID
    # nothing else (temp files of an atomic write) left in the directory
    leftovers = [p.name for p in hearth.qemu_dir.iterdir() if p.is_file() and p.name != "guest1.xml"]
    assert leftovers == [], leftovers


def test_list_variants(hearth, data_dir, tmp_path):
    define_guest1(hearth, data_dir)
    define_small(hearth, tmp_path, "beta")
    define_small(hearth, tmp_path, "alpha")
    rows = list_rows(hearth, "--all")
    # inactive domains sorted by name, id '-'
    assert rows == [("-", "alpha", "shut off"), ("-", "beta", "shut off"), ("-", "guest1", "shut off")], rows
    assert list_rows(hearth, "--inactive") == rows
    assert list_rows(hearth) == [], "plain list shows only running domains"
    assert names(hearth, "--all") == ["alpha", "beta", "guest1"]
    uuids = [u for u in hearth.virsh("list", "--uuid", "--all").stdout.split() if u]
    assert GUEST1_UUID in uuids and len(uuids) == 3
    for u in uuids:
        assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", u), u
    assert list_rows(hearth, "--autostart", "--all") == []
    hearth.virsh("autostart", "beta")
    assert list_rows(hearth, "--autostart", "--all") == [("-", "beta", "shut off")]
    assert names(hearth, "--all", "--no-autostart") == ["alpha", "guest1"]
    assert names(hearth, "--persistent", "--all") == ["alpha", "beta", "guest1"]
    assert names(hearth, "--transient", "--all") == []


def test_dominfo_fields(hearth, data_dir):
    define_guest1(hearth, data_dir)
    info = parse_colon_table(hearth.virsh("dominfo", "guest1").stdout)
    assert info["Id"] == "-"
    assert info["Name"] == "guest1"
    assert info["UUID"] == GUEST1_UUID
    assert info["OS Type"] == "hvm"
    assert info["State"] == "shut off"
    assert info["CPU(s)"] == "2"
    assert info["Max memory"] == "524288 KiB"
    assert info["Used memory"] == "262144 KiB"
    assert info["Persistent"] == "yes"
    assert info["Autostart"] == "disable"
    assert info["Managed save"] == "no"
    hearth.virsh("autostart", "guest1")
    info = parse_colon_table(hearth.virsh("dominfo", "guest1").stdout)
    assert info["Autostart"] == "enable"


def test_domstate(hearth, data_dir):
    define_guest1(hearth, data_dir)
    assert hearth.virsh("domstate", "guest1").stdout.strip() == "shut off"
    assert hearth.virsh("domstate", "--reason", "guest1").stdout.strip() == "shut off (unknown)"


def test_missing_domain_lookup_error(hearth):
    cp = hearth.virsh("dominfo", "nosuch", check=False)
    assert cp.returncode == 1
    assert "error: failed to get domain 'nosuch'" in cp.stderr, cp.stderr


# --------------------------------------------------------------------------- dumpxml
def test_dumpxml_content(hearth, data_dir):
    define_guest1(hearth, data_dir)
    out = hearth.virsh("dumpxml", "guest1").stdout
    root = ET.fromstring(out)
    assert root.tag == "domain" and root.get("type") == "qemu"
    assert root.findtext("name") == "guest1"
    assert root.findtext("uuid") == GUEST1_UUID
    assert root.findtext("title") == "Test guest one"
    assert root.findtext("description").startswith("A realistic guest")
    assert root.findtext("memory") == "524288"
    assert root.findtext("currentMemory") == "262144"
    assert root.findtext("vcpu") == "2"
    os_el = root.find("os")
    assert os_el.findtext("type") == "hvm" and os_el.find("type").get("arch") == "x86_64"
    assert os_el.findtext("kernel") == "/var/lib/hearth-test/vmlinuz"
    assert os_el.findtext("initrd") == "/var/lib/hearth-test/initrd.img"
    assert os_el.findtext("cmdline") == "console=ttyS0 root=/dev/vda rw"
    disk = root.find("devices/disk")
    assert disk.find("driver").get("type") == "qcow2"
    assert disk.find("source").get("file") == "/var/lib/hearth-test/guest1-overlay.qcow2"
    bs = disk.find("backingStore")
    assert bs is not None, "backingStore dropped"
    assert bs.find("source").get("file") == "/var/lib/hearth-test/base.qcow2"
    assert bs.find("format").get("type") == "qcow2"
    assert disk.find("target").get("dev") == "vda"
    iface = root.find("devices/interface")
    assert iface.get("type") == "network"
    assert iface.find("mac").get("address") == "52:54:00:12:34:56"
    assert iface.find("source").get("network") == "default"
    assert root.find("devices/serial").get("type") == "pty"
    assert root.find("devices/console").get("type") == "pty"
    g = root.find("devices/graphics")
    assert g.get("type") == "vnc"
    assert root.find("devices/video/model").get("type") == "cirrus"
    assert root.find("devices/memballoon").get("model") == "virtio"
    assert root.find("devices/rng/backend").text == "/dev/urandom"
    info = root.find("metadata/{http://example.org/app1/}info")
    assert info is not None, "custom-namespace metadata dropped:\n" + out
    assert info.findtext("{http://example.org/app1/}owner") == "alice"
    assert info.find("{http://example.org/app1/}tier").get("level") == "3"


def test_dumpxml_keeps_unknown_element_and_attribute(hearth, data_dir):
    """Hearth requirement (libvirt 9.0 silently drops both): unknown XML round-trips."""
    define_guest1(hearth, data_dir)
    root = ET.fromstring(hearth.virsh("dumpxml", "guest1").stdout)
    frob = root.find("frobnicator")
    assert frob is not None, "unknown top-level element <frobnicator> was dropped"
    assert frob.get("level") == "7" and frob.text == "keep me"
    assert root.find("devices/memballoon").get("hearthtestattr") == "kept", \
        "unknown attribute on <memballoon> was dropped"


def test_dumpxml_hides_vnc_password(hearth, data_dir):
    define_guest1(hearth, data_dir)
    for flags in ((), ("--inactive",)):
        out = hearth.virsh("dumpxml", *flags, "guest1").stdout
        assert "passwd" not in out and "s3cr3tVn" not in out, "password leaked with %r" % (flags,)
    out = hearth.virsh("dumpxml", "--security-info", "guest1").stdout
    g = ET.fromstring(out).find("devices/graphics")
    assert g.get("passwd") == "s3cr3tVn", "--security-info must show the VNC password"
    out = hearth.virsh("dumpxml", "--security-info", "--inactive", "guest1").stdout
    assert ET.fromstring(out).find("devices/graphics").get("passwd") == "s3cr3tVn"


def test_dumpxml_inactive_equals_config(hearth, data_dir):
    define_guest1(hearth, data_dir)
    a = hearth.virsh("dumpxml", "guest1").stdout
    b = hearth.virsh("dumpxml", "--inactive", "guest1").stdout
    assert a == b, "inactive domain: live and --inactive XML should be identical"


def qemu_machine_aliases():
    """{alias: versioned machine} and the default, from this host's QEMU."""
    out = subprocess.run(["/usr/bin/qemu-system-x86_64", "-machine", "help"], capture_output=True,
                         text=True, check=True).stdout
    aliases, default = {}, None
    for line in out.splitlines():
        m = re.match(r"(\S+)\s.*\(alias of (\S+)\)", line)
        if m:
            aliases[m.group(1)] = m.group(2)
        elif line.rstrip().endswith("(default)"):
            default = line.split()[0]
    return aliases, default


def test_machine_type_resolved_at_define(hearth):
    """As libvirt: 'pc' and 'q35' are stored as the versioned machines they stand for today (a
    QEMU upgrade must not change a defined guest's hardware), no machine means QEMU's default,
    a versioned machine stays as given, an unknown one is refused with both names."""
    aliases, default = qemu_machine_aliases()
    assert aliases.get("pc", "").startswith("pc-i440fx-") and aliases.get("q35", "").startswith("pc-q35-")
    c = hearth.connect()
    try:
        def machine_of(name, machine):
            xml = domain_xml(name)
            if machine is not None:
                xml = xml.replace("<type arch='x86_64'>", "<type arch='x86_64' machine='%s'>" % machine)
                assert "machine='%s'" % machine in xml
            d = c.defineXML(xml)
            return ET.fromstring(d.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)).find("os/type").get("machine")

        assert machine_of("m-pc", "pc") == aliases["pc"]
        assert machine_of("m-q35", "q35") == aliases["q35"]
        assert machine_of("m-none", None) == default
        assert machine_of("m-old", "pc-i440fx-2.12") == "pc-i440fx-2.12"
        with pytest.raises(libvirt.libvirtError) as ei:
            machine_of("m-bogus", "bogus-machine")
        assert ei.value.get_error_code() == libvirt.VIR_ERR_CONFIG_UNSUPPORTED
        assert "bogus-machine" in str(ei.value) and "qemu-system-x86_64" in str(ei.value)
    finally:
        c.close()
    # stored that way: the file on disk says the versioned machine
    assert ("machine='%s'" % aliases["pc"]) in (hearth.qemu_dir / "m-pc.xml").read_text()


def test_default_devices_as_libvirt_adds_them(hearth):
    """A minimal pc definition gets what libvirt 9.0's QEMU driver adds (compared with
    reference-libvirtd; only PCI addresses and the TCG cpu element are left out): clock utc,
    USB and PCI root controllers, PS/2 mouse and keyboard, audio none, cirrus video for the
    graphics, VNC autoport with an address listen, a virtio memballoon, the NIC model in use;
    in libvirt's device order. What the definition names is kept (no second USB controller,
    memballoon none stays none, a fixed VNC port stays fixed)."""
    c = hearth.connect()
    try:
        xml = domain_xml("defs1").replace("<type arch='x86_64'>", "<type arch='x86_64' machine='pc'>")
        xml = xml.replace("</domain>", "<devices><interface type='user'/><graphics type='vnc'/></devices></domain>")
        root = ET.fromstring(c.defineXML(xml).XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
        assert root.find("clock").get("offset") == "utc"
        devs = [(d.tag, d.get("type"), d.get("model") or d.get("bus")) for d in root.find("devices")]
        assert devs == [("controller", "usb", "piix3-uhci"), ("controller", "pci", "pci-root"),
                        ("interface", "user", None), ("input", "mouse", "ps2"),
                        ("input", "keyboard", "ps2"), ("graphics", "vnc", None), ("audio", "none", None),
                        ("video", None, None), ("memballoon", None, "virtio")], devs
        assert root.find("devices/interface/model").get("type") == "rtl8139"
        g = root.find("devices/graphics")
        assert (g.get("port"), g.get("autoport"), g.find("listen").get("type")) == ("-1", "yes", "address")
        v = root.find("devices/video/model")
        assert (v.get("type"), v.get("vram"), v.get("primary")) == ("cirrus", "16384", "yes")

        xml2 = domain_xml("defs2").replace("<type arch='x86_64'>", "<type arch='x86_64' machine='q35'>")
        xml2 = xml2.replace("</domain>", "<devices><controller type='usb' model='none'/>"
                            "<memballoon model='none'/><graphics type='vnc' port='5901'/>"
                            "<video><model type='vga'/></video></devices></domain>")
        root = ET.fromstring(c.defineXML(xml2).XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
        ctl = [(d.get("type"), d.get("model")) for d in root.findall("devices/controller")]
        assert ("usb", "none") in ctl and ("sata", None) in ctl and ("pci", "pcie-root") in ctl, ctl
        assert len([t for t, m in ctl if t == "usb"]) == 1
        assert [m.get("model") for m in root.findall("devices/memballoon")] == ["none"]
        g = root.find("devices/graphics")
        assert (g.get("port"), g.get("autoport")) == ("5901", "no")
        assert [v.get("type") for v in root.findall("devices/video/model")] == ["vga"]
    finally:
        c.close()
    # defined again from its own dumpxml: nothing more is added
    first = hearth.virsh("dumpxml", "--inactive", "defs1").stdout
    hearth.virsh("define", "/dev/stdin", input=first)
    assert hearth.virsh("dumpxml", "--inactive", "defs1").stdout == first


def test_dumpxml_round_trip(hearth, data_dir, tmp_path):
    define_guest1(hearth, data_dir)
    first = hearth.virsh("dumpxml", "--security-info", "guest1").stdout
    p = tmp_path / "dumped.xml"
    p.write_text(first)
    hearth.virsh("define", p)
    second = hearth.virsh("dumpxml", "--security-info", "guest1").stdout
    assert first == second, "define(dumpxml) is not a fixed point"
    assert names(hearth, "--all") == ["guest1"]


# --------------------------------------------------------------------------- autostart / desc / metadata
def test_autostart_enable_disable(hearth, data_dir):
    define_guest1(hearth, data_dir)
    link = hearth.autostart_dir / "guest1.xml"
    cp = hearth.virsh("autostart", "guest1")
    assert "Domain 'guest1' marked as autostarted" in cp.stdout
    assert link.is_symlink(), "no autostart symlink %s" % link
    assert os.path.samefile(link, hearth.qemu_dir / "guest1.xml")
    cp = hearth.virsh("autostart", "--disable", "guest1")
    assert "Domain 'guest1' unmarked as autostarted" in cp.stdout
    assert not os.path.lexists(link)
    assert parse_colon_table(hearth.virsh("dominfo", "guest1").stdout)["Autostart"] == "disable"


def test_desc_and_title(hearth, data_dir):
    define_guest1(hearth, data_dir)
    assert hearth.virsh("desc", "guest1").stdout.strip() == \
        "A realistic guest used by the Hearth integration tests"
    assert hearth.virsh("desc", "--title", "guest1").stdout.strip() == "Test guest one"
    cp = hearth.virsh("desc", "guest1", "new description")
    assert "Domain description updated successfully" in cp.stdout
    cp = hearth.virsh("desc", "--title", "guest1", "new title")
    assert "Domain title updated successfully" in cp.stdout
    assert hearth.virsh("desc", "guest1").stdout.strip() == "new description"
    assert hearth.virsh("desc", "--title", "guest1").stdout.strip() == "new title"
    root = ET.fromstring(hearth.virsh("dumpxml", "guest1").stdout)
    assert root.findtext("title") == "new title"
    assert root.findtext("description") == "new description"
    # persisted in the definition file
    on_disk = ET.fromstring((hearth.qemu_dir / "guest1.xml").read_text())
    assert on_disk.findtext("title") == "new title"
    rows = parse_list(hearth.virsh("list", "--all", "--title").stdout)
    assert rows and rows[0][1] == "guest1" and rows[0][2].endswith("new title"), rows


def test_metadata_set_and_get(hearth, data_dir):
    define_guest1(hearth, data_dir)
    out = hearth.virsh("metadata", "guest1", "--uri", "http://example.org/app1/").stdout
    el = ET.fromstring(out)
    local = lambda e: e.tag.split("}")[-1]   # noqa: E731
    assert local(el) == "info" and [local(x) for x in el] == ["owner", "tier"], out
    first_out = out
    cp = hearth.virsh("metadata", "guest1", "--uri", "http://example.org/test2/", "--key", "t2",
                      "--set", '<foo bar="baz">hi</foo>')
    assert "Metadata modified" in cp.stdout
    out = hearth.virsh("metadata", "guest1", "--uri", "http://example.org/test2/").stdout
    el = ET.fromstring(out)
    assert local(el) == "foo" and el.get("bar") == "baz" and el.text == "hi", out
    # the element is stored under the new namespace with the given prefix
    root = ET.fromstring(hearth.virsh("dumpxml", "guest1").stdout)
    assert root.find("metadata/{http://example.org/test2/}foo") is not None
    assert root.find("metadata/{http://example.org/app1/}info") is not None, "old metadata lost"
    # missing namespace: libvirt "metadata not found: Requested metadata element is not present"
    cp = hearth.virsh("metadata", "guest1", "--uri", "http://example.org/none/", check=False)
    assert cp.returncode == 1 and "metadata not found" in cp.stderr, cp.stderr
    # survives a restart
    hearth.restart()
    out = hearth.virsh("metadata", "guest1", "--uri", "http://example.org/test2/").stdout
    assert ET.fromstring(out).text == "hi"
    # libvirt prints the element without namespace or prefix: <info><owner>alice</owner>...
    el = ET.fromstring(first_out)
    assert el.tag == "info" and el.findtext("owner") == "alice", \
        "virsh metadata must print the element without namespace/prefix like libvirt:\n" + first_out


# --------------------------------------------------------------------------- rename / undefine / lookup
def test_domrename(hearth, data_dir):
    define_guest1(hearth, data_dir)
    hearth.virsh("autostart", "guest1")
    cp = hearth.virsh("domrename", "guest1", "guest1b")
    assert "Domain successfully renamed" in cp.stdout
    assert names(hearth, "--all") == ["guest1b"]
    assert hearth.virsh("domuuid", "guest1b").stdout.strip() == GUEST1_UUID
    assert not (hearth.qemu_dir / "guest1.xml").exists(), "old definition file left behind"
    assert (hearth.qemu_dir / "guest1b.xml").is_file()
    assert ET.fromstring((hearth.qemu_dir / "guest1b.xml").read_text()).findtext("name") == "guest1b"
    # autostart follows the rename (libvirt moves the symlink)
    assert names(hearth, "--all", "--autostart") == ["guest1b"]
    assert not os.path.lexists(hearth.autostart_dir / "guest1.xml")
    cp = hearth.virsh("dominfo", "guest1", check=False)
    assert cp.returncode == 1
    hearth.restart()
    assert names(hearth, "--all") == ["guest1b"]
    assert names(hearth, "--all", "--autostart") == ["guest1b"]


def test_undefine(hearth, data_dir):
    define_guest1(hearth, data_dir)
    hearth.virsh("autostart", "guest1")
    cp = hearth.virsh("undefine", "guest1")
    assert "Domain 'guest1' has been undefined" in cp.stdout
    assert names(hearth, "--all") == []
    assert not (hearth.qemu_dir / "guest1.xml").exists()
    assert not os.path.lexists(hearth.autostart_dir / "guest1.xml"), "autostart link left behind"
    cp = hearth.virsh("undefine", "guest1", check=False)
    assert cp.returncode == 1 and "failed to get domain 'guest1'" in cp.stderr
    hearth.restart()
    assert names(hearth, "--all") == []


def test_lookups_by_name_uuid(hearth, data_dir):
    define_guest1(hearth, data_dir)
    assert hearth.virsh("domid", "guest1").stdout.strip() == "-"
    assert hearth.virsh("domuuid", "guest1").stdout.strip() == GUEST1_UUID
    assert hearth.virsh("domname", GUEST1_UUID).stdout.strip() == "guest1"
    info = parse_colon_table(hearth.virsh("dominfo", GUEST1_UUID).stdout)
    assert info["Name"] == "guest1"
    cp = hearth.virsh("domname", "00000000-0000-0000-0000-000000000001", check=False)
    assert cp.returncode == 1 and "failed to get domain" in cp.stderr
    cp = hearth.virsh("dominfo", "1", check=False)  # numeric: lookup by id, nothing running
    assert cp.returncode == 1 and "failed to get domain '1'" in cp.stderr


def test_define_again_updates_with_event(hearth, data_dir, tmp_path):
    define_guest1(hearth, data_dir)
    ev = subprocess.Popen(["stdbuf", "-oL", "virsh", "-c", hearth.uri, "event", "--event", "lifecycle",
                           "--loop", "--timeout", "30"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, env=dict(os.environ, LC_ALL="C"))
    lines = []
    reader = threading.Thread(target=lambda: lines.extend(iter(ev.stdout.readline, "")), daemon=True)
    reader.start()
    want = "event 'lifecycle' for domain 'guest1': Defined Updated"
    try:
        xml = (open(os.path.join(data_dir, "guest1.xml")).read()
               .replace("<vcpu placement='static'>2</vcpu>", "<vcpu placement='static'>3</vcpu>"))
        p = tmp_path / "guest1-v2.xml"
        p.write_text(xml)
        # virsh registers asynchronously: redefine until it has seen an event
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not any(want in x for x in lines):
            hearth.virsh("define", p)
            time.sleep(0.3)
    finally:
        ev.terminate()
        try:
            _, err = ev.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            ev.kill()
            _, err = ev.communicate()
        reader.join(5)
    out = "".join(lines)
    assert want in out, "virsh event saw no DEFINED/UPDATED:\nstdout: %s\nstderr: %s" % (out, err)
    assert "Defined Added" not in out, "redefining an existing domain must be UPDATED, not ADDED"
    assert parse_colon_table(hearth.virsh("dominfo", "guest1").stdout)["CPU(s)"] == "3"
    assert names(hearth, "--all") == ["guest1"]


# --------------------------------------------------------------------------- persistence
def _snapshot_state(hearth):
    return (hearth.virsh("list", "--all", "--name").stdout,
            hearth.virsh("list", "--all", "--autostart", "--name").stdout,
            hearth.virsh("dumpxml", "--security-info", "guest1").stdout)


def test_definitions_survive_restart(hearth, data_dir, tmp_path):
    define_guest1(hearth, data_dir)
    define_small(hearth, tmp_path, "other")
    hearth.virsh("autostart", "guest1")
    before = _snapshot_state(hearth)
    hearth.restart()
    assert _snapshot_state(hearth) == before


def test_definitions_survive_kill9(hearth, data_dir, tmp_path):
    define_guest1(hearth, data_dir)
    define_small(hearth, tmp_path, "other")
    hearth.virsh("autostart", "guest1")
    hearth.virsh("desc", "guest1", "changed before the crash")
    before = _snapshot_state(hearth)
    hearth.kill9()
    hearth.start()
    assert _snapshot_state(hearth) == before
    assert hearth.virsh("desc", "guest1").stdout.strip() == "changed before the crash"


def test_corrupt_definition_file_is_set_aside(hearth, data_dir, tmp_path):
    define_guest1(hearth, data_dir)
    define_small(hearth, tmp_path, "good2")
    hearth.stop()
    bad = hearth.qemu_dir / "broken.xml"
    bad.write_text("<domain type='qemu'><name>broken</name><memory>12")   # truncated
    garbage = hearth.qemu_dir / "garbage.xml"
    garbage.write_bytes(b"\x00\xff\xfe not xml at all \x01")
    t0 = int(time.time())
    hearth.start()
    assert names(hearth, "--all") == ["good2", "guest1"]
    for base in ("broken.xml", "garbage.xml"):
        assert not (hearth.qemu_dir / base).exists(), "%s not renamed" % base
        renamed = [p.name for p in hearth.qemu_dir.iterdir() if p.name.startswith(base + ".corrupt-")]
        assert len(renamed) == 1, "expected %s.corrupt-<unix time>, found %r" % (base, renamed)
        stamp = int(renamed[0].rsplit("-", 1)[1])
        assert t0 - 5 <= stamp <= time.time() + 5, renamed
    log = hearth.log_text() + hearth.stderr_text()
    assert "broken.xml" in log, "corrupt file not mentioned in the log"
    # a second restart must not trip over the .corrupt files
    hearth.restart()
    assert names(hearth, "--all") == ["good2", "guest1"]


# --------------------------------------------------------------------------- lifecycle on a shut off domain
def test_lifecycle_calls_on_inactive_domain(hearth, data_dir):
    """Guests run now (test_guests.py): start is no longer VIR_ERR_NO_SUPPORT. guest1's kernel and
    disk (/var/lib/hearth-test/...) do not exist, so its start fails with an error about its own
    configuration; operations on a shut off domain answer libvirt's 'domain is not running'."""
    define_guest1(hearth, data_dir)
    cp = hearth.virsh("start", "guest1", check=False)
    assert cp.returncode == 1
    assert "error: Failed to start domain 'guest1'" in cp.stderr, cp.stderr
    assert "not supported by the connection driver" not in cp.stderr, cp.stderr
    assert any(n in cp.stderr for n in ("/var/lib/hearth-test/", "network", "default", "frobnicator")), \
        "the error should name what guest1 lacks:\n" + cp.stderr
    cp = hearth.virsh("destroy", "guest1", check=False)
    assert cp.returncode == 1 and "domain is not running" in cp.stderr, cp.stderr
    c = hearth.connect()
    try:
        d = c.lookupByName("guest1")
        for fn in (d.destroy, d.shutdown, d.suspend, d.resume, lambda: d.reboot(0), lambda: d.reset(0)):
            with pytest.raises(libvirt.libvirtError) as ei:
                fn()
            assert ei.value.get_error_code() == libvirt.VIR_ERR_OPERATION_INVALID, \
                "code %d %s" % (ei.value.get_error_code(), ei.value)
            assert "domain is not running" in str(ei.value), str(ei.value)
        with pytest.raises(libvirt.libvirtError) as ei:
            d.create()
        assert ei.value.get_error_code() != libvirt.VIR_ERR_NO_SUPPORT, str(ei.value)
        assert d.isActive() == 0
    finally:
        c.close()
    assert hearth.virsh("domstate", "guest1").stdout.strip() == "shut off"


# --------------------------------------------------------------------------- validation
def test_define_validate_rejects_schema_invalid(hearth, tmp_path):
    p = tmp_path / "invalid.xml"
    p.write_text(domain_xml("invalid", extra="  <bogusthing/>\n"))
    cp = hearth.virsh("define", "--validate", p, check=False)
    assert cp.returncode == 1
    assert "error: Failed to define domain from" in cp.stderr, cp.stderr
    assert "bogusthing" in cp.stderr, "the message must name the offending element:\n" + cp.stderr
    assert names(hearth, "--all") == []
    assert not (hearth.qemu_dir / "invalid.xml").exists()
    # the same without the unknown element validates and defines
    p.write_text(domain_xml("valid"))
    hearth.virsh("define", "--validate", p)
    assert names(hearth, "--all") == ["valid"]


# --------------------------------------------------------------------------- unusual but legal names
def test_unusual_legal_names_round_trip(hearth):
    """libvirt 9.0 accepts spaces, non-ASCII, '&' and quotes in names (files 'NAME.xml')."""
    wanted = ["my vm \u00fc", "d\u00f6m\u00e4in-\u00fcn\u00efcode", "with&amp", "quote'name", "a" * 200]
    c = hearth.connect()
    try:
        for i, n in enumerate(wanted):
            esc = n.replace("&", "&amp;").replace("'", "&apos;")
            d = c.defineXML(domain_xml(esc, "abcdef00-0000-4000-8000-%012d" % i))
            assert d.name() == n
            assert c.lookupByName(n).UUIDString() == d.UUIDString()
    finally:
        c.close()
    assert sorted(names(hearth, "--all")) == sorted(wanted)
    assert parse_colon_table(hearth.virsh("dominfo", "my vm \u00fc").stdout)["Name"] == "my vm \u00fc"
    hearth.restart()
    assert sorted(names(hearth, "--all")) == sorted(wanted)
    for n in wanted:
        cp = hearth.virsh("undefine", n)
        assert "has been undefined" in cp.stdout
    assert names(hearth, "--all") == []
    assert [p for p in hearth.qemu_dir.iterdir() if p.is_file()] == []


# --------------------------------------------------------------------------- devices (--config)
def test_attach_detach_update_config(hearth, tmp_path):
    """attach-disk/-interface, detach-disk/-interface, change-media with --config (the
    persistent definition), as libvirt; the file on disk follows. Hotplug into a running guest
    is refused with a message that says so."""
    hearth.virsh("define", "/dev/stdin", input=domain_xml("dev1"))
    cp = hearth.virsh("attach-disk", "dev1", "/var/tmp/hearth-d2.img", "vdb", "--config")
    assert "Disk attached successfully" in cp.stdout
    cp = hearth.virsh("attach-disk", "dev1", "/var/tmp/hearth-d3.img", "vdb", "--config", check=False)
    assert cp.returncode == 1 and "target vdb already exists" in cp.stderr, cp.stderr
    hearth.virsh("attach-interface", "dev1", "network", "default", "--config",
                 "--mac", "52:54:00:aa:bb:cc", "--model", "virtio")
    hearth.virsh("attach-disk", "dev1", "/var/tmp/hearth-cd1.iso", "hdc", "--type", "cdrom", "--config")
    stored = (hearth.qemu_dir / "dev1.xml").read_text()
    assert "/var/tmp/hearth-d2.img" in stored and "52:54:00:aa:bb:cc" in stored, stored
    root = ET.fromstring(hearth.virsh("dumpxml", "--inactive", "dev1").stdout)
    assert [t.get("dev") for t in root.findall("devices/disk/target")] == ["vdb", "hdc"]
    # virsh change-media is UPDATE_DEVICE_FLAGS with the disk's new XML
    assert "Successfully updated media" in hearth.virsh(
        "change-media", "dev1", "hdc", "/var/tmp/hearth-cd2.iso", "--config").stdout
    assert "/var/tmp/hearth-cd2.iso" in hearth.virsh("domblklist", "dev1", "--inactive").stdout
    hearth.virsh("detach-interface", "dev1", "network", "--mac", "52:54:00:aa:bb:cc", "--config")
    hearth.virsh("detach-disk", "dev1", "vdb", "--config")
    out = hearth.virsh("domblklist", "dev1", "--inactive").stdout
    assert "vdb" not in out and "hdc" in out, out
    assert "52:54:00:aa:bb:cc" not in (hearth.qemu_dir / "dev1.xml").read_text()
    c = hearth.connect()
    try:
        d = c.lookupByName("dev1")
        disk = "<disk type='file' device='disk'><source file='/x.img'/><target dev='vdq' bus='virtio'/></disk>"
        with pytest.raises(libvirt.libvirtError) as ei:
            d.detachDeviceFlags(disk, libvirt.VIR_DOMAIN_AFFECT_CONFIG)
        assert ei.value.get_error_code() == libvirt.VIR_ERR_DEVICE_MISSING and "vdq" in str(ei.value)
        with pytest.raises(libvirt.libvirtError) as ei:
            d.attachDevice(disk)  # legacy call = live: the domain is not running
        assert ei.value.get_error_code() == libvirt.VIR_ERR_OPERATION_INVALID
        d.attachDeviceFlags(disk, 0)  # CURRENT on a shut-off domain = config
        assert "vdq" in hearth.virsh("domblklist", "dev1", "--inactive").stdout
        with pytest.raises(libvirt.libvirtError) as ei:
            d.attachDeviceFlags("<disk type='file'><target dev='vdr'", libvirt.VIR_DOMAIN_AFFECT_CONFIG)
        assert ei.value.get_error_code() == libvirt.VIR_ERR_XML_DETAIL
    finally:
        c.close()
    # a transient domain has no persistent definition to change
    hearth.virsh("create", "/dev/stdin", "--paused", input=domain_xml("tdev"))
    try:
        cp = hearth.virsh("attach-disk", "tdev", "/var/tmp/x.img", "vdb", "--config", check=False)
        assert cp.returncode == 1 and "transient" in cp.stderr, cp.stderr
        cp = hearth.virsh("attach-disk", "tdev", "/var/tmp/x.img", "vdb", "--live", check=False)
        assert cp.returncode == 1 and "hotplug" in cp.stderr, cp.stderr
    finally:
        hearth.virsh("destroy", "tdev", check=False)


def test_setmem_setmaxmem_setvcpus_config(hearth):
    """The persistent definition: setmem/setmaxmem/setvcpus with --config (or on a shut-off
    domain), with libvirt's limits and messages."""
    hearth.virsh("define", "/dev/stdin", input=domain_xml("rs1", vcpus=2))
    hearth.virsh("setmem", "rs1", "100M", "--current")  # a shut-off domain: the definition
    info = parse_colon_table(hearth.virsh("dominfo", "rs1").stdout)
    assert (info["Max memory"], info["Used memory"]) == ("131072 KiB", "102400 KiB"), info
    hearth.virsh("setmaxmem", "rs1", "256M", "--config")
    cp = hearth.virsh("setmem", "rs1", "300M", "--config", check=False)
    assert cp.returncode == 1 and "higher than max memory" in cp.stderr, cp.stderr
    hearth.virsh("setmaxmem", "rs1", "64M", "--config")  # current follows down
    info = parse_colon_table(hearth.virsh("dominfo", "rs1").stdout)
    assert (info["Max memory"], info["Used memory"]) == ("65536 KiB", "65536 KiB"), info
    hearth.virsh("setvcpus", "rs1", "1", "--config")
    hearth.virsh("setvcpus", "rs1", "4", "--config", "--maximum")
    counts = hearth.virsh("vcpucount", "rs1").stdout
    assert re.search(r"maximum\s+config\s+4", counts) and re.search(r"current\s+config\s+1", counts), counts
    cp = hearth.virsh("setvcpus", "rs1", "8", "--config", check=False)
    assert cp.returncode == 1 and "greater than max allowable vcpus" in cp.stderr, cp.stderr
    stored = (hearth.qemu_dir / "rs1.xml").read_text()
    assert "<vcpu placement='static' current='1'>4</vcpu>" in stored, stored
    cp = hearth.virsh("setmem", "rs1", "32M", "--live", check=False)
    assert cp.returncode == 1 and "not running" in cp.stderr, cp.stderr
