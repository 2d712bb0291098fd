"""Guests on NAT networks (issue 6, part 3): a real TCG guest on the default network gets a
DHCP lease from our dnsmasq, reaches the gateway, and its tap is created, enslaved and removed
by hearthd. Everything runs inside a private network namespace (see test_network.py)."""

import re
import time
import uuid

import pytest

import hearthlib
from net_ns import wait_for
from test_network import net_hearth, net_xml, netns  # noqa: F401 (fixtures)

GUEST_XML = """<domain type='qemu'>
  <name>%(name)s</name>
  <uuid>%(uuid)s</uuid>
  <memory unit='MiB'>160</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>%(kernel)s</kernel>
    <initrd>%(initrd)s</initrd>
    <cmdline>console=ttyS0 quiet hearth.dhcp=eth0 hearth.ping=%(ping)s</cmdline>
  </os>
  <features><acpi/></features>
  <devices>
    <interface type='network'>
      <mac address='%(mac)s'/>
      <source network='%(network)s'/>
      <model type='virtio'/>
    </interface>
    <serial type='file'><source path='%(log)s'/></serial>
  </devices>
</domain>
"""


@pytest.fixture(scope="module")
def guest_images():
    try:
        return hearthlib.build_guest()
    except hearthlib.HearthError as e:
        pytest.fail("cannot build the test guest: %s" % e, pytrace=False)


def guest_xml(name, images, log, network="default", mac="52:54:00:6e:01:02",
              ping="192.168.122.1"):
    kernel, initrd = images
    return GUEST_XML % dict(name=name, uuid=uuid.uuid4(), kernel=kernel, initrd=initrd, log=log,
                            network=network, mac=mac, ping=ping)


def network_active(h, name):
    out = h.virsh("net-list", "--all").stdout
    return any(re.match(r"\s*%s\s+active" % re.escape(name), l) for l in out.splitlines())


def test_guest_gets_lease_and_reaches_gateway(net_hearth, netns, guest_images, tmp_path):
    h = net_hearth()
    wait_for(lambda: network_active(h, "default"), timeout=10, what="default network active")
    log = tmp_path / "g.serial"
    mac = "52:54:00:6e:01:02"
    h.virsh("define", "/dev/stdin", input=guest_xml("netg", guest_images, log, mac=mac))
    h.virsh("start", "netg")
    try:
        xml = h.virsh("dumpxml", "netg").stdout
        tap = re.search(r"<target dev='(vnet\d+)'/>", xml)
        assert tap, "live XML lacks the tap name:\n" + xml
        assert "bridge='virbr0'" in xml, xml
        link = netns.exec("ip", "-d", "link", "show", tap.group(1)).stdout
        assert "master virbr0" in link and "fe:54:00:6e:01:02" in link, link
        assert "tun type tap" in link and "vnet_hdr on" in link, link

        deadline = time.time() + 90
        text = ""
        while time.time() < deadline:
            text = log.read_text(errors="replace") if log.exists() else ""
            if "HEARTH-PING-" in text:
                break
            time.sleep(0.5)
        assert re.search(r"HEARTH-DHCP-OK eth0 192\.168\.122\.\d+/24 192\.168\.122\.1", text), text
        assert "HEARTH-PING-OK 192.168.122.1" in text, text
        addr = re.search(r"HEARTH-DHCP-OK eth0 (192\.168\.122\.\d+)/24", text).group(1)

        wait_for(lambda: mac in h.virsh("net-dhcp-leases", "default").stdout, timeout=10,
                 what="the lease listed")
        leases = h.virsh("net-dhcp-leases", "default").stdout
        row = [l for l in leases.splitlines() if mac in l][0]
        assert "%s/24" % addr in row and "ipv4" in row, leases
        # virsh domifaddr answers from the same leases
        ifaddr = h.virsh("domifaddr", "netg").stdout
        assert re.search(r"%s\s+%s\s+ipv4\s+%s/24" % (tap.group(1), mac, re.escape(addr)), ifaddr), ifaddr
        # virsh domifstat: the guest's view (what it sent is "tx"), by tap name or MAC, and
        # the same figures as the tap's own counters seen from the host side (swapped)
        st = {}
        for line in h.virsh("domifstat", "netg", tap.group(1)).stdout.splitlines():
            parts = line.split()
            if len(parts) == 3:
                st[parts[1]] = int(parts[2])
        assert st["tx_packets"] >= 2 and st["rx_packets"] >= 2, st  # DHCP and ping both ways
        host_rx = int(netns.exec("cat", "/sys/class/net/%s/statistics/rx_packets" % tap.group(1)).stdout)
        assert host_rx >= st["tx_packets"], (host_rx, st)
        assert "tx_bytes" in h.virsh("domifstat", "netg", mac).stdout
    finally:
        h.virsh("destroy", "netg", check=False)
    # The tap belonged to QEMU: it is gone with it.
    wait_for(lambda: tap.group(1) not in netns.links(), timeout=5, what="tap removed")


def test_guest_on_inactive_network_is_refused(net_hearth, netns, guest_images, tmp_path):
    h = net_hearth()
    h.virsh("net-define", "/dev/stdin", input=net_xml("lab"))
    h.virsh("define", "/dev/stdin",
            input=guest_xml("labg", guest_images, tmp_path / "l.serial", network="lab"))
    before = netns.links()
    cp = h.virsh("start", "labg", check=False)
    assert cp.returncode == 1, cp
    assert "network 'lab' is not active" in cp.stderr, cp.stderr
    assert h.virsh("domstate", "labg").stdout.strip() == "shut off"
    assert netns.links() == before, "a failed start left devices behind"
    cp = h.virsh("start", "labg", check=False)
    assert cp.returncode == 1


def test_guest_on_missing_network_is_refused(net_hearth, netns, guest_images, tmp_path):
    h = net_hearth()
    h.virsh("define", "/dev/stdin",
            input=guest_xml("nog", guest_images, tmp_path / "n.serial", network="nosuch"))
    cp = h.virsh("start", "nog", check=False)
    assert cp.returncode == 1, cp
    assert "nosuch" in cp.stderr and "Network not found" in cp.stderr, cp.stderr
