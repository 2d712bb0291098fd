"""Read-only access: virsh -r, the -ro socket, python openReadOnly.

libvirt answers every modifying call on a read-only connection with
VIR_ERR_OPERATION_DENIED (29) "operation forbidden: read only access prevents virDomainXxx",
and refuses XMLDesc(SECURE) with "operation forbidden: virDomainGetXMLDesc with secure flag".
"""

import os
import stat

import libvirt
import pytest

from hearthlib import domain_xml, parse_colon_table, parse_list

GUEST1_UUID = "6a3b2c1d-4e5f-4a7b-8c9d-0e1f2a3b4c5d"


@pytest.fixture
def hearth_g1(hearth, data_dir):
    hearth.virsh("define", os.path.join(data_dir, "guest1.xml"))
    return hearth


def test_socket_permissions(hearth):
    rw = os.stat(hearth.sock)
    ro = os.stat(hearth.sock_ro)
    assert stat.S_ISSOCK(rw.st_mode) and stat.S_ISSOCK(ro.st_mode)
    assert stat.S_IMODE(rw.st_mode) == 0o600, oct(rw.st_mode)
    assert stat.S_IMODE(ro.st_mode) == 0o666, oct(ro.st_mode)


@pytest.mark.parametrize("how", ["ro-socket", "rw-socket-with-r"])
def test_virsh_readonly_can_read(hearth_g1, how):
    h = hearth_g1
    uri = h.ro_uri if how == "ro-socket" else h.uri

    def v(*args, check=True):
        import subprocess
        cp = subprocess.run(["virsh", "-r", "-c", uri] + list(args), capture_output=True, text=True,
                            timeout=60, env=dict(os.environ, LC_ALL="C"), stdin=subprocess.DEVNULL)
        if check:
            assert cp.returncode == 0, "virsh -r %s failed: %s %s" % (args, cp.stdout, cp.stderr)
        return cp

    assert parse_list(v("list", "--all").stdout) == [("-", "guest1", "shut off")]
    info = parse_colon_table(v("dominfo", "guest1").stdout)
    assert info["State"] == "shut off" and info["UUID"] == GUEST1_UUID
    xml = v("dumpxml", "guest1").stdout
    assert "<name>guest1</name>" in xml and "passwd" not in xml
    assert v("domstate", "guest1").stdout.strip() == "shut off"
    assert v("domuuid", "guest1").stdout.strip() == GUEST1_UUID
    assert v("hostname").stdout.strip()
    v("capabilities")
    assert v("desc", "--title", "guest1").stdout.strip() == "Test guest one"


def _denied(cp):
    return cp.returncode == 1 and "operation forbidden" in cp.stderr


def test_virsh_readonly_cannot_modify(hearth_g1, tmp_path):
    h = hearth_g1
    before = h.definition_files()
    p = tmp_path / "new.xml"
    p.write_text(domain_xml("newdom"))
    cases = [
        ("define", str(p)),
        ("undefine", "guest1"),
        ("autostart", "guest1"),
        ("desc", "guest1", "hacked"),
        ("desc", "--title", "guest1", "hacked"),
        ("metadata", "guest1", "--uri", "http://x.example/", "--key", "x", "--set", "<a/>"),
        ("domrename", "guest1", "hacked"),
        ("dumpxml", "--security-info", "guest1"),
    ]
    import subprocess
    # virsh -r makes libvirt.so refuse most calls client-side; the RO socket without -r
    # (the second round) is what proves the daemon enforces read-only itself.
    for ro_flag in (["-r"], []):
        for args in cases:
            cp = subprocess.run(["virsh"] + ro_flag + ["-c", h.ro_uri] + list(args), capture_output=True,
                                text=True, timeout=60, env=dict(os.environ, LC_ALL="C"),
                                stdin=subprocess.DEVNULL)
            assert _denied(cp), "virsh %s -c RO %s: expected 'operation forbidden', got rc=%d\n%s%s" % (
                " ".join(ro_flag), " ".join(args), cp.returncode, cp.stdout, cp.stderr)
    assert h.definition_files() == before, "a read-only client changed the definitions on disk"
    assert [r[1] for r in parse_list(h.virsh("list", "--all").stdout)] == ["guest1"]
    assert h.virsh("desc", "guest1").stdout.strip().startswith("A realistic guest")


def _py_denied(fn, *args):
    with pytest.raises(libvirt.libvirtError) as ei:
        fn(*args)
    assert ei.value.get_error_code() == libvirt.VIR_ERR_OPERATION_DENIED, \
        "%s: got code %d (%s), expected 29 OPERATION_DENIED" % (
            getattr(fn, "__name__", fn), ei.value.get_error_code(), ei.value)
    assert "forbidden" in str(ei.value) or "read only" in str(ei.value) or "read-only" in str(ei.value), \
        str(ei.value)


@pytest.mark.parametrize("which", ["openReadOnly-ro-socket", "openReadOnly-rw-socket", "open-ro-socket"])
def test_python_readonly(hearth_g1, which):
    h = hearth_g1
    before = h.definition_files()
    if which == "openReadOnly-ro-socket":
        c = libvirt.openReadOnly(h.ro_uri)
    elif which == "openReadOnly-rw-socket":
        c = libvirt.openReadOnly(h.uri)
    else:
        c = libvirt.open(h.ro_uri)
    try:
        doms = c.listAllDomains(0)
        assert [d.name() for d in doms] == ["guest1"]
        d = c.lookupByName("guest1")
        assert d.UUIDString() == GUEST1_UUID
        assert d.info()[0] == libvirt.VIR_DOMAIN_SHUTOFF
        assert "<name>guest1</name>" in d.XMLDesc(0)
        assert d.autostart() == 0
        _py_denied(c.defineXML, domain_xml("ronew"))
        _py_denied(c.defineXMLFlags, domain_xml("ronew"), 0)
        _py_denied(d.undefine)
        _py_denied(d.undefineFlags, 0)
        _py_denied(d.setAutostart, 1)
        _py_denied(d.setMetadata, libvirt.VIR_DOMAIN_METADATA_DESCRIPTION, "x", None, None, 0)
        _py_denied(d.rename, "renamed", 0)
        _py_denied(d.XMLDesc, libvirt.VIR_DOMAIN_XML_SECURE)
        _py_denied(d.create)
    finally:
        c.close()
    assert h.definition_files() == before
