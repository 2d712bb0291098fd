"""NAT networks (issue 6): every test runs hearthd inside a network namespace of its own and
drives it with virsh / python3-libvirt over the unix socket, so the host's network is never
touched. The namespace stands in for the host: its devices, addresses, nftables ruleset and
sysctls are what the tests look at."""

import os
import re
import signal
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import libvirt
import pytest

import hearthlib
from net_ns import NetNs, process_alive, read_pid, wait_for, wrapper_for

NET_XML = """<network>
  <name>%(name)s</name>
  %(extra)s
  <ip address='%(addr)s' prefix='%(prefix)s'>
    <dhcp>
      <range start='%(start)s' end='%(end)s'/>
    </dhcp>
  </ip>
</network>
"""


def net_xml(name, addr="10.77.0.1", prefix=24, start="10.77.0.2", end="10.77.0.254", extra=""):
    return NET_XML % dict(name=name, addr=addr, prefix=prefix, start=start, end=end, extra=extra)


@pytest.fixture
def netns():
    ns = NetNs()
    yield ns
    ns.remove()


@pytest.fixture
def net_hearth(hearth_factory, netns, tmp_path):
    """net_hearth(env=None, root=None) -> a hearthd started inside `netns`."""
    made = []

    def make(env=None, root=None):
        h = hearth_factory(start=False, env=env, root=root)
        h.binary = wrapper_for(netns, hearthlib.hearthd_binary(), tmp_path)
        made.append(h)
        try:
            h.start()
        except hearthlib.HearthError as e:
            pytest.fail("hearthd did not come up in %s: %s" % (netns.name, e), pytrace=False)
        return h

    yield make
    # stop hearthd before the namespace (and the dnsmasq it leaves running) goes away
    for h in made:
        h.stop()


def dnsmasq_pid(h, name="default"):
    pid = read_pid(h.rundir / "network" / ("%s.pid" % name))
    return pid if pid and process_alive(pid) else None


def bridge_info(ns, bridge):
    """(flags, [addresses]) of a device, or None when it does not exist."""
    cp = ns.exec("ip", "-o", "addr", "show", "dev", bridge, check=False)
    if cp.returncode != 0:
        return None
    link = ns.exec("ip", "-o", "link", "show", "dev", bridge).stdout
    flags = re.search(r"<([^>]*)>", link).group(1).split(",")
    addrs = re.findall(r"inet (\S+)", cp.stdout)
    return flags, addrs


def assert_default_up(h, ns):
    info = bridge_info(ns, "virbr0")
    assert info is not None, "virbr0 missing: %s" % ns.links()
    flags, addrs = info
    assert "UP" in flags, flags
    assert addrs == ["192.168.122.1/24"], addrs
    ns_link = ns.exec("ip", "-d", "link", "show", "virbr0").stdout
    assert "bridge" in ns_link and "stp_state 1" in ns_link, ns_link
    assert "table ip hearth_default" in ns.nft_tables()
    assert ns.sysctl("net.ipv4.ip_forward") == "1"
    pid = dnsmasq_pid(h)
    assert pid, "dnsmasq is not running"
    cmdline = Path("/proc/%d/cmdline" % pid).read_bytes().split(b"\0")
    assert b"--leasefile-ro" in cmdline
    assert any(a.startswith(b"--dhcp-script=") and a.endswith(b"hearth-leases") for a in cmdline)
    assert os.stat("/proc/%d" % pid).st_uid == 65534, "dnsmasq should run as nobody"
    return pid


def links_settle(ns, expected, timeout=3):
    """Device list once the bridges a destroy retired are gone (deleted after the reply)."""
    return wait_for(lambda: ns.links() == expected, timeout=timeout,
                    what="devices %s (have %s)" % (expected, ns.links()))


def net_list(h):
    out = h.virsh("net-list", "--all").stdout
    rows = {}
    for line in out.splitlines()[2:]:
        parts = line.split()
        if len(parts) == 4:
            rows[parts[0]] = tuple(parts[1:])
    return rows


# ----------------------------------------------------------------------------- start / stop

def test_default_network_defined_and_autostarted(net_hearth, netns):
    h = net_hearth()
    assert net_list(h) == {"default": ("active", "yes", "yes")}
    assert (h.qemu_dir / "networks" / "default.xml").is_file()
    link = h.qemu_dir / "networks" / "autostart" / "default.xml"
    assert link.is_symlink()
    assert_default_up(h, netns)
    info = hearthlib.parse_colon_table(h.virsh("net-info", "default").stdout)
    assert info["Active"] == "yes" and info["Bridge"] == "virbr0" and info["Autostart"] == "yes"
    # live XML shows the NAT port range, the inactive one does not (as libvirt)
    live = ET.fromstring(h.virsh("net-dumpxml", "default").stdout)
    assert live.find("forward/nat/port").attrib == {"start": "1024", "end": "65535"}
    inactive = ET.fromstring(h.virsh("net-dumpxml", "--inactive", "default").stdout)
    assert inactive.find("forward").attrib == {"mode": "nat"}
    assert inactive.find("forward/nat") is None
    assert inactive.find("bridge").attrib == {"name": "virbr0", "stp": "on", "delay": "0"}
    assert re.fullmatch(r"52:54:00(:[0-9a-f]{2}){3}", inactive.find("mac").get("address"))
    mac = netns.exec("cat", "/sys/class/net/virbr0/address").stdout.strip()
    assert mac == inactive.find("mac").get("address")


def test_destroy_removes_exactly_what_start_added(net_hearth, netns):
    h = net_hearth()
    pid = assert_default_up(h, netns)
    h.virsh("net-destroy", "default")
    assert net_list(h)["default"] == ("inactive", "yes", "yes")
    assert bridge_info(netns, "virbr0") is None
    links_settle(netns, ["lo"])
    assert netns.exec("nft", "list", "ruleset").stdout.strip() == ""
    wait_for(lambda: not process_alive(pid), timeout=3, what="dnsmasq to exit")
    assert not (h.rundir / "network" / "default.xml").exists()
    # as libvirt: forwarding stays on, dnsmasq's files stay on disk
    assert netns.sysctl("net.ipv4.ip_forward") == "1"
    assert (h.statedir / "dnsmasq" / "default.conf").is_file()
    before = netns.state()
    h.virsh("net-start", "default")
    assert_default_up(h, netns)
    h.virsh("net-destroy", "default")
    links_settle(netns, ["lo"])
    assert netns.state() == before


def test_start_twice_and_destroy_inactive(net_hearth, netns):
    h = net_hearth()
    cp = h.virsh("net-start", "default", check=False)
    assert cp.returncode != 0 and "network is already active" in cp.stderr
    h.virsh("net-destroy", "default")
    cp = h.virsh("net-destroy", "default", check=False)
    assert cp.returncode != 0 and "network 'default' is not active" in cp.stderr


def test_kill9_restart_keeps_network_and_dnsmasq(net_hearth, netns):
    h = net_hearth()
    pid = assert_default_up(h, netns)
    h.kill9()
    assert process_alive(pid), "dnsmasq must outlive hearthd"
    assert bridge_info(netns, "virbr0") is not None
    h.start()
    assert net_list(h)["default"] == ("active", "yes", "yes")
    assert dnsmasq_pid(h) == pid, "the same dnsmasq should have been re-adopted"
    assert "re-adopted active network 'default' and its dnsmasq" in h.log_text()
    # and the re-adopted network stops cleanly
    h.virsh("net-destroy", "default")
    wait_for(lambda: not process_alive(pid), timeout=3, what="dnsmasq to exit")
    links_settle(netns, ["lo"])


def test_restart_replaces_dead_dnsmasq(net_hearth, netns):
    h = net_hearth()
    pid = assert_default_up(h, netns)
    h.stop()
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not process_alive(pid), timeout=3, what="dnsmasq to die")
    h.start()
    new = dnsmasq_pid(h)
    assert new and new != pid
    assert net_list(h)["default"][0] == "active"


def test_sigterm_leaves_networks_up(net_hearth, netns):
    h = net_hearth()
    assert_default_up(h, netns)
    assert h.stop() == 0
    assert bridge_info(netns, "virbr0") is not None
    assert "table ip hearth_default" in netns.nft_tables()


# ----------------------------------------------------------------------------- definitions

def test_define_autostart_dumpxml_undefine(net_hearth, netns, tmp_path):
    h = net_hearth()
    f = tmp_path / "lab.xml"
    f.write_text(net_xml("lab", extra="<forward mode='route'/>"))
    out = h.virsh("net-define", f).stdout
    assert "Network lab defined" in out
    conf = h.qemu_dir / "networks" / "lab.xml"
    assert conf.is_file() and oct(conf.stat().st_mode & 0o777) == "0o600"
    x = ET.fromstring(h.virsh("net-dumpxml", "lab").stdout)
    assert x.find("bridge").get("name") == "virbr1"     # the first free virbrN
    assert x.find("forward").get("mode") == "route"
    # the dumped XML defines the same network again, unchanged
    first = h.virsh("net-dumpxml", "lab").stdout
    again = tmp_path / "again.xml"
    again.write_text(first)
    h.virsh("net-define", again)
    assert h.virsh("net-dumpxml", "lab").stdout == first
    assert net_list(h)["lab"] == ("inactive", "no", "yes")
    h.virsh("net-autostart", "lab")
    assert (h.qemu_dir / "networks" / "autostart" / "lab.xml").is_symlink()
    assert net_list(h)["lab"] == ("inactive", "yes", "yes")
    h.virsh("net-autostart", "--disable", "lab")
    assert not (h.qemu_dir / "networks" / "autostart" / "lab.xml").exists()
    h.virsh("net-start", "lab")
    assert bridge_info(netns, "virbr1")[1] == ["10.77.0.1/24"]
    # undefining an active network leaves it running, transient
    h.virsh("net-undefine", "lab")
    assert not conf.exists()
    assert net_list(h)["lab"] == ("active", "no", "no")
    h.virsh("net-destroy", "lab")
    assert "lab" not in net_list(h)
    assert bridge_info(netns, "virbr1") is None


def test_definitions_survive_restart(net_hearth, netns, tmp_path):
    h = net_hearth()
    f = tmp_path / "keep.xml"
    f.write_text(net_xml("keep", addr="10.78.0.1", start="10.78.0.2", end="10.78.0.9"))
    h.virsh("net-define", f)
    h.virsh("net-autostart", "keep")
    before = h.virsh("net-dumpxml", "--inactive", "keep").stdout
    h.stop()
    h.start()
    assert h.virsh("net-dumpxml", "--inactive", "keep").stdout == before
    # autostart on hearthd start
    assert net_list(h)["keep"] == ("active", "yes", "yes")


def test_transient_create(net_hearth, netns, tmp_path):
    h = net_hearth()
    f = tmp_path / "t.xml"
    f.write_text(net_xml("tmp1", addr="10.79.0.1", start="10.79.0.2", end="10.79.0.3",
                         extra="<bridge name='tmpbr0'/>"))
    h.virsh("net-create", f)
    assert net_list(h)["tmp1"] == ("active", "no", "no")
    assert bridge_info(netns, "tmpbr0")[1] == ["10.79.0.1/24"]
    cp = h.virsh("net-autostart", "tmp1", check=False)
    assert cp.returncode != 0 and "cannot set autostart for transient network" in cp.stderr
    h.virsh("net-destroy", "tmp1")
    assert "tmp1" not in net_list(h)
    assert "tmpbr0" not in netns.links()


def test_python_api_and_events(net_hearth, netns, event_loop):
    h = net_hearth()
    conn = h.connect()
    events = []
    got = threading.Event()

    def cb(c, net, event, detail, opaque):
        events.append((net.name(), event))
        got.set()

    cid = conn.networkEventRegisterAny(None, libvirt.VIR_NETWORK_EVENT_ID_LIFECYCLE, cb, None)
    try:
        net = conn.networkDefineXML(net_xml("ev", addr="10.80.0.1", start="10.80.0.2",
                                            end="10.80.0.9"))
        net.create()
        assert net.isActive() == 1 and net.isPersistent() == 1
        assert net.bridgeName() == "virbr1"
        assert net.DHCPLeases() == []
        net.destroy()
        net.undefine()
        expected = [("ev", libvirt.VIR_NETWORK_EVENT_DEFINED),
                    ("ev", libvirt.VIR_NETWORK_EVENT_STARTED),
                    ("ev", libvirt.VIR_NETWORK_EVENT_STOPPED),
                    ("ev", libvirt.VIR_NETWORK_EVENT_UNDEFINED)]
        wait_for(lambda: len(events) >= 4, timeout=5, what="4 network events")
        assert events == expected
        names = sorted(n.name() for n in conn.listAllNetworks(0))
        assert names == ["default"]
        active = conn.listAllNetworks(libvirt.VIR_CONNECT_LIST_NETWORKS_ACTIVE)
        assert [n.name() for n in active] == ["default"]
        assert conn.numOfNetworks() == 1 and conn.numOfDefinedNetworks() == 0
        assert conn.listNetworks() == ["default"]
        with pytest.raises(libvirt.libvirtError) as e:
            conn.networkLookupByName("nope")
        assert e.value.get_error_code() == libvirt.VIR_ERR_NO_NETWORK
    finally:
        conn.networkEventDeregisterAny(cid)
        conn.close()


def test_read_only_connection(net_hearth, netns):
    h = net_hearth()
    out = h.virsh("net-list", "--all", ro=True).stdout
    assert "default" in out
    cp = h.virsh("net-destroy", "default", ro=True, check=False)
    assert cp.returncode != 0 and "read only" in cp.stderr
    assert bridge_info(netns, "virbr0") is not None


def test_concurrent_starts(net_hearth, netns):
    """Starts run in worker threads: two overlapping networks started at the same moment
    cannot both win, and queries are answered meanwhile."""
    h = net_hearth()
    conn = h.connect()
    try:
        conn.networkDefineXML(net_xml("ca", addr="10.95.0.1", start="10.95.0.2", end="10.95.0.9"))
        conn.networkDefineXML(net_xml("cb", addr="10.95.0.129", start="10.95.0.130",
                                      end="10.95.0.139"))
        conn.networkDefineXML(net_xml("cc", addr="10.96.0.1", start="10.96.0.2", end="10.96.0.9"))
    finally:
        conn.close()
    results = {}

    def start(name):
        c = h.connect()
        try:
            c.networkLookupByName(name).create()
            results[name] = "ok"
        except libvirt.libvirtError as e:
            results[name] = e.get_error_message()
        finally:
            c.close()

    threads = [threading.Thread(target=start, args=(n,)) for n in ("ca", "cb", "cc")]
    for t in threads:
        t.start()
    for _ in range(20):
        assert "default" in h.virsh("net-list", "--all", ro=True).stdout
    for t in threads:
        t.join(30)
    assert results["cc"] == "ok", results
    winners = [n for n in ("ca", "cb") if results[n] == "ok"]
    assert len(winners) == 1, results
    loser = "cb" if winners == ["ca"] else "ca"
    assert "overlaps network '%s'" % winners[0] in results[loser], results
    rows = net_list(h)
    assert rows[winners[0]][0] == "active" and rows[loser][0] == "inactive"


# ----------------------------------------------------------------------------- bad input

@pytest.mark.parametrize("xml,message", [
    (net_xml("n1", prefix=33), "invalid IPv4 prefix '33' in network 'n1'"),
    (net_xml("n2", addr="10.9.0.1", start="10.9.1.2", end="10.9.1.10"),
     "DHCP range 10.9.1.2 - 10.9.1.10 is not entirely within network 10.9.0.0/24"),
    (net_xml("n3", start="10.77.0.9", end="10.77.0.2"), "is reversed"),
    ("<network><name>n4</name><ip address='10.5.0.300' prefix='24'/></network>",
     "invalid IPv4 address '10.5.0.300'"),
    ("<network><name>n5</name><bridge name='virbr0'/></network>",
     "bridge name 'virbr0' is already in use by network 'default'"),
])
def test_bad_definitions_are_refused(net_hearth, netns, tmp_path, xml, message):
    h = net_hearth()
    before = (netns.state(), sorted(os.listdir(h.qemu_dir / "networks")))
    f = tmp_path / "bad.xml"
    f.write_text(xml)
    cp = h.virsh("net-define", f, check=False)
    assert cp.returncode != 0
    assert message in cp.stderr, cp.stderr
    assert (netns.state(), sorted(os.listdir(h.qemu_dir / "networks"))) == before
    assert list(net_list(h)) == ["default"]


def test_two_networks_on_one_subnet(net_hearth, netns, tmp_path):
    h = net_hearth()
    f = tmp_path / "twin.xml"
    f.write_text(net_xml("twin", addr="192.168.122.10", start="192.168.122.20",
                         end="192.168.122.30"))
    h.virsh("net-define", f)      # defining is fine; only one of them can run
    before = netns.state()
    cp = h.virsh("net-start", "twin", check=False)
    assert cp.returncode != 0
    assert "overlaps network 'default' (192.168.122.0/24), which is active on bridge 'virbr0'" \
        in cp.stderr, cp.stderr
    assert netns.state() == before
    assert net_list(h)["twin"][0] == "inactive"
    # with default stopped, twin starts
    h.virsh("net-destroy", "default")
    h.virsh("net-start", "twin")
    cp = h.virsh("net-start", "default", check=False)
    assert cp.returncode != 0 and "overlaps network 'twin'" in cp.stderr


def test_subnet_overlapping_a_route(net_hearth, netns, tmp_path):
    h = net_hearth()
    netns.add_veth("lan0")
    netns.exec("ip", "addr", "add", "10.90.0.1/16", "dev", "lan0")
    f = tmp_path / "r.xml"
    f.write_text(net_xml("clash", addr="10.90.5.1", start="10.90.5.2", end="10.90.5.9"))
    h.virsh("net-define", f)
    before = netns.state()
    cp = h.virsh("net-start", "clash", check=False)
    assert cp.returncode != 0
    assert "overlaps the route 10.90.0.0/16 on interface 'lan0'" in cp.stderr, cp.stderr
    assert netns.state() == before


def test_bridge_name_in_use_by_a_device(net_hearth, netns, tmp_path):
    h = net_hearth()
    netns.add_veth("busy0")
    f = tmp_path / "b.xml"
    f.write_text(net_xml("busy", addr="10.91.0.1", start="10.91.0.2", end="10.91.0.9",
                         extra="<bridge name='busy0'/>"))
    h.virsh("net-define", f)
    before = netns.state()
    cp = h.virsh("net-start", "busy", check=False)
    assert cp.returncode != 0
    assert "bridge name 'busy0' of network 'busy' is already in use by a network device" \
        in cp.stderr, cp.stderr
    assert netns.state() == before
    # an automatic name skips devices that exist
    netns.add_veth("virbr1")
    f.write_text(net_xml("auto", addr="10.92.0.1", start="10.92.0.2", end="10.92.0.9"))
    h.virsh("net-define", f)
    assert ET.fromstring(h.virsh("net-dumpxml", "auto").stdout).find("bridge").get("name") \
        == "virbr2"


def test_missing_dnsmasq_and_nft(net_hearth, netns, tmp_path):
    h = net_hearth(env={"HEARTH_DNSMASQ": "/nonexistent/dnsmasq"})
    # the autostart at start-up failed with a clear message and left nothing behind
    assert "needs dnsmasq for DHCP and DNS, but it was not found" in h.log_text()
    assert net_list(h)["default"][0] == "inactive"
    assert netns.links() == ["lo"]
    cp = h.virsh("net-start", "default", check=False)
    assert cp.returncode != 0 and "dnsmasq-base" in cp.stderr, cp.stderr
    assert netns.links() == ["lo"]
    assert netns.exec("nft", "list", "ruleset").stdout.strip() == ""
    h.stop()
    h.extra_env = {"HEARTH_NFT": "/nonexistent/nft"}
    h.start()
    cp = h.virsh("net-start", "default", check=False)
    assert cp.returncode != 0 and "needs nft" in cp.stderr, cp.stderr
    assert netns.links() == ["lo"]


def test_failed_bringup_is_rolled_back(net_hearth, netns, tmp_path):
    """dnsmasq is started last; when it fails, the bridge and the firewall table go again."""
    h = net_hearth()
    h.virsh("net-destroy", "default")
    links_settle(netns, ["lo"])
    before = netns.state()
    # dnsmasq cannot bind port 53 on the bridge address while something else holds it
    fake = tmp_path / "dnsmasq"
    fake.write_text("#!/bin/sh\necho 'dnsmasq: failed to create listening socket' >&2\nexit 2\n")
    fake.chmod(0o755)
    h.stop()
    h.extra_env = {"HEARTH_DNSMASQ": str(fake)}
    h.start()
    assert netns.state() == before  # autostart failed and was rolled back
    cp = h.virsh("net-start", "default", check=False)
    assert cp.returncode != 0 and "failed to create listening socket" in cp.stderr, cp.stderr
    assert netns.state() == before
    assert not (h.rundir / "network" / "default.xml").exists()


def test_refuses_host_network_namespace(net_hearth, netns):
    """With --root in a namespace that has a default route (a host's), nothing starts."""
    netns.add_veth("up0")
    netns.exec("ip", "addr", "add", "198.51.100.2/24", "dev", "up0")
    netns.exec("ip", "route", "add", "default", "via", "198.51.100.1")
    h = net_hearth()
    assert "not autostarting network 'default'" in h.log_text()
    before = netns.state()
    cp = h.virsh("net-start", "default", check=False)
    assert cp.returncode != 0 and "HEARTH_ALLOW_HOST_NETWORK" in cp.stderr, cp.stderr
    assert netns.state() == before


# ----------------------------------------------------------------------------- DHCP

UDHCPC_SCRIPT = """#!/bin/sh
case "$1" in
bound|renew) ip addr add "$ip/$mask" dev "$interface" ;;
esac
"""


def test_dhcp_lease_listed(net_hearth, netns, tmp_path):
    h = net_hearth()
    assert_default_up(h, netns)
    guest = NetNs("hntg")
    try:
        netns.exec("ip", "link", "add", "vh0", "type", "veth", "peer", "name", "vg0")
        netns.exec("ip", "link", "set", "vg0", "netns", guest.name)
        netns.exec("ip", "link", "set", "vh0", "master", "virbr0", "up")
        guest.exec("ip", "link", "set", "vg0", "address", "52:54:00:12:34:56", "up")
        script = tmp_path / "udhcpc.sh"
        script.write_text(UDHCPC_SCRIPT)
        script.chmod(0o755)
        # STP holds a new port for 2 x 2 s before it forwards: udhcpc retries meanwhile
        cp = guest.exec("busybox", "udhcpc", "-i", "vg0", "-n", "-q", "-t", "20", "-T", "1",
                        "-s", script, "-x", "hostname:guest1", timeout=60)
        m = re.search(r"lease of (\S+) obtained from 192.168.122.1", cp.stdout + cp.stderr)
        assert m, cp.stdout + cp.stderr
        ip = m.group(1)
        out = h.virsh("net-dhcp-leases", "default").stdout
        row = [l for l in out.splitlines() if "52:54:00:12:34:56" in l]
        assert row, out
        assert "ipv4" in row[0] and ip + "/24" in row[0] and "guest1" in row[0], row[0]
        assert "01:52:54:00:12:34:56" in row[0]
        # filtered by MAC, and through the API
        assert "52:54:00:12:34:56" in h.virsh("net-dhcp-leases", "default",
                                              "--mac", "52:54:00:12:34:56").stdout
        assert "52:54:00" not in h.virsh("net-dhcp-leases", "default",
                                         "--mac", "52:54:00:99:99:99").stdout.split("---")[-1]
        conn = h.connect()
        try:
            leases = conn.networkLookupByName("default").DHCPLeases()
        finally:
            conn.close()
        assert len(leases) == 1
        lease = leases[0]
        assert lease["ipaddr"] == ip and lease["prefix"] == 24 and lease["iface"] == "virbr0"
        assert lease["mac"] == "52:54:00:12:34:56" and lease["hostname"] == "guest1"
        assert lease["expirytime"] > time.time()
        # the guest reaches the host side of the bridge
        guest.exec("busybox", "ping", "-c", "1", "-W", "2", "192.168.122.1")
    finally:
        guest.remove()


def test_dhcp_fixed_host(net_hearth, netns, tmp_path):
    h = net_hearth()
    h.virsh("net-destroy", "default")
    xml = net_xml("fixed", addr="10.93.0.1", start="10.93.0.100", end="10.93.0.110",
                  extra="<bridge name='fixbr0' stp='off'/>")
    xml = xml.replace("</dhcp>", "<host mac='52:54:00:00:00:42' name='pinned' ip='10.93.0.42'/>"
                                 "</dhcp>")
    f = tmp_path / "fixed.xml"
    f.write_text(xml)
    h.virsh("net-create", f)
    conf = (h.statedir / "dnsmasq" / "fixed.conf").read_text()
    assert "dhcp-host=52:54:00:00:00:42,10.93.0.42,pinned\n" in conf
    guest = NetNs("hntg")
    try:
        netns.exec("ip", "link", "add", "vh1", "type", "veth", "peer", "name", "vg1")
        netns.exec("ip", "link", "set", "vg1", "netns", guest.name)
        netns.exec("ip", "link", "set", "vh1", "master", "fixbr0", "up")
        guest.exec("ip", "link", "set", "vg1", "address", "52:54:00:00:00:42", "up")
        script = tmp_path / "udhcpc.sh"
        script.write_text(UDHCPC_SCRIPT)
        script.chmod(0o755)
        cp = guest.exec("busybox", "udhcpc", "-i", "vg1", "-n", "-q", "-t", "10", "-T", "1",
                        "-s", script, timeout=60)
        assert "lease of 10.93.0.42 obtained" in cp.stdout + cp.stderr, cp.stdout + cp.stderr
        assert "10.93.0.42/24" in h.virsh("net-dhcp-leases", "fixed").stdout
    finally:
        guest.remove()
