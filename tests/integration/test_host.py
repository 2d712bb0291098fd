"""Host-level commands: version, hostname, nodeinfo, capabilities, domcapabilities,
maxvcpus, sysinfo, uri -- as virsh 9.0 and python3-libvirt see them."""

import glob
import os
import re
import socket
import xml.etree.ElementTree as ET

import libvirt

from hearthlib import parse_colon_table

VERSION_RE = r"\d+\.\d+\.\d+"


def meminfo_total_kib():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                return int(line.split()[1])
    raise AssertionError("no MemTotal in /proc/meminfo")


def numa_total_kib():
    """Sum of the NUMA nodes' MemTotal: what libvirt 9.0 itself reports (it can be
    less than /proc/meminfo on VMs with hot-plugged memory)."""
    total = 0
    for m in glob.glob("/sys/devices/system/node/node*/meminfo"):
        with open(m) as f:
            for line in f:
                if "MemTotal:" in line:
                    total += int(line.split()[-2])
    return total or None


def memory_matches(kib):
    for ref in (meminfo_total_kib(), numa_total_kib()):
        if ref and abs(kib - ref) <= max(1024, ref // 100):
            return True
    return False


def test_version(hearth):
    out = hearth.virsh("version").stdout
    # libvirt 9.0 prints e.g. "Running hypervisor: QEMU 7.2.0"
    assert re.search(r"^Compiled against library: libvirt %s$" % VERSION_RE, out, re.M), out
    assert re.search(r"^Using library: libvirt %s$" % VERSION_RE, out, re.M), out
    assert re.search(r"^Using API: QEMU %s$" % VERSION_RE, out, re.M), out
    m = re.search(r"^Running hypervisor: QEMU (\d+)\.(\d+)\.(\d+)$", out, re.M)
    assert m, "no 'Running hypervisor: QEMU x.y.z' line in:\n" + out
    assert int(m.group(1)) >= 1, out


def test_version_daemon(hearth):
    out = hearth.virsh("version", "--daemon").stdout
    assert re.search(r"^Running hypervisor: QEMU %s$" % VERSION_RE, out, re.M), out
    m = re.search(r"^Running against daemon: (\d+)\.(\d+)\.(\d+)$", out, re.M)
    assert m, "no 'Running against daemon: x.y.z' line in:\n" + out


def test_python_versions(hearth):
    c = hearth.connect()
    try:
        assert c.getType() == "QEMU"
        hv = c.getVersion()
        assert hv >= 1000000, "hypervisor version %r is not major*1e6+minor*1e3+micro" % hv
        lib = c.getLibVersion()
        assert lib >= 1000000, lib
        assert c.isAlive() == 1
        assert c.isSecure() == 1  # unix socket: libvirt reports secure
    finally:
        c.close()


def test_hostname(hearth):
    out = hearth.virsh("hostname").stdout.strip()
    assert out == socket.gethostname()


def test_nodeinfo(hearth):
    info = parse_colon_table(hearth.virsh("nodeinfo").stdout)
    for key in ("CPU model", "CPU(s)", "CPU frequency", "CPU socket(s)", "Core(s) per socket",
                "Thread(s) per core", "NUMA cell(s)", "Memory size"):
        assert key in info, "nodeinfo lacks %r: %r" % (key, info)
    assert info["CPU model"] == "x86_64", info
    assert int(info["CPU(s)"]) == os.cpu_count(), info
    mem = info["Memory size"]
    assert mem.endswith(" KiB"), mem
    assert memory_matches(int(mem.split()[0])), \
        "nodeinfo memory %s matches neither /proc/meminfo MemTotal %d KiB nor the NUMA nodes' %s KiB" \
        % (mem, meminfo_total_kib(), numa_total_kib())
    assert int(info["NUMA cell(s)"]) >= 1
    sockets = int(info["CPU socket(s)"])
    cores = int(info["Core(s) per socket"])
    threads = int(info["Thread(s) per core"])
    assert sockets * cores * threads * int(info["NUMA cell(s)"]) >= 1


def test_python_nodeinfo(hearth):
    c = hearth.connect()
    try:
        model, mem_mib, cpus, mhz, nodes, sockets, cores, threads = c.getInfo()
        assert model == "x86_64"
        assert cpus == os.cpu_count()
        assert memory_matches(mem_mib * 1024), (mem_mib, meminfo_total_kib(), numa_total_kib())
    finally:
        c.close()


def test_capabilities(hearth):
    out = hearth.virsh("capabilities").stdout
    root = ET.fromstring(out)
    assert root.tag == "capabilities"
    host = root.find("host")
    assert host is not None, "no <host> in capabilities"
    assert host.findtext("cpu/arch") == "x86_64", out[:2000]
    guests = root.findall("guest")
    assert guests, "no <guest> in capabilities"
    x86 = [g for g in guests if g.find("arch") is not None and g.find("arch").get("name") == "x86_64"]
    assert x86, "no guest arch x86_64"
    g = x86[0]
    assert g.findtext("os_type") == "hvm"
    types = [d.get("type") for d in g.findall("arch/domain")]
    assert "qemu" in types, "guest x86_64 has no <domain type='qemu'/>: %r" % types
    # virt-install needs an emulator and machine types (reference section 6)
    assert g.findtext("arch/emulator"), "x86_64 guest without <emulator>"
    assert g.findall("arch/machine"), "x86_64 guest without <machine>"


def test_domcapabilities(hearth):
    out = hearth.virsh("domcapabilities").stdout
    root = ET.fromstring(out)
    assert root.tag == "domainCapabilities", root.tag
    assert root.findtext("arch") == "x86_64"
    assert root.findtext("path"), "no emulator <path>"
    vcpu = root.find("vcpu")
    assert vcpu is not None and int(vcpu.get("max")) >= 1


def test_maxvcpus(hearth):
    out = hearth.virsh("maxvcpus").stdout.strip()
    assert re.fullmatch(r"\d+", out), out
    n = int(out)
    assert n >= os.cpu_count() or n >= 1
    caps = ET.fromstring(hearth.virsh("domcapabilities").stdout)
    assert n == int(caps.find("vcpu").get("max")), "maxvcpus disagrees with domcapabilities"


def test_sysinfo_xml_or_clear_error(hearth):
    cp = hearth.virsh("sysinfo", check=False)
    if cp.returncode == 0:
        root = ET.fromstring(cp.stdout)
        assert root.tag == "sysinfo", cp.stdout
    else:
        # libvirt: "error: failed to get sysinfo" + a reason line
        assert "error:" in cp.stderr and len(cp.stderr.strip()) > len("error:"), cp.stderr
    hearth.virsh("list", "--all")  # still serving


def test_uri(hearth):
    assert hearth.virsh("uri").stdout.strip() == hearth.uri
    assert hearth.virsh("uri", ro=True).stdout.strip() == hearth.ro_uri


def test_python_get_hostname_and_caps(hearth):
    c = hearth.connect()
    try:
        assert c.getHostname() == socket.gethostname()
        ET.fromstring(c.getCapabilities())
        dc = c.getDomainCapabilities(None, None, None, None, 0)
        assert ET.fromstring(dc).tag == "domainCapabilities"
    finally:
        c.close()


def test_unknown_host_call_is_clean_error(hearth):
    """An API the daemon does not implement must answer an error, not kill the link."""
    c = hearth.connect()
    try:
        try:
            c.listAllInterfaces(0)
        except libvirt.libvirtError as e:
            assert e.get_error_code() in (libvirt.VIR_ERR_NO_SUPPORT, libvirt.VIR_ERR_RPC), e
        assert c.getHostname() == socket.gethostname()
    finally:
        c.close()
