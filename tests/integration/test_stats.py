"""CONNECT_GET_ALL_DOMAIN_STATS (virt-manager's once-a-second poll, `virsh domstats`), answered
from memory for defined domains; running guests add cpu.time (covered in test_guests.py runs)."""

import libvirt

from hearthlib import domain_xml


def uuid_for(i):
    return "51a75000-0000-4000-8000-%012d" % i


def test_stats_of_defined_domains(hearth):
    c = hearth.connect()
    try:
        for i in range(3):
            c.defineXML(domain_xml("st%d" % i, uuid_for(300 + i), memory_kib=131072 * (i + 1)))
        recs = c.getAllDomainStats(libvirt.VIR_DOMAIN_STATS_STATE | libvirt.VIR_DOMAIN_STATS_VCPU |
                                   libvirt.VIR_DOMAIN_STATS_BALLOON, 0)
        by_name = {d.name(): s for d, s in recs}
        assert sorted(by_name) == ["st0", "st1", "st2"], by_name
        s = by_name["st1"]
        assert s["state.state"] == libvirt.VIR_DOMAIN_SHUTOFF, s
        assert s["balloon.maximum"] == 262144 and s["vcpu.current"] >= 1, s
        assert "cpu.time" not in s  # not running
        # list filters: nothing is active
        assert c.getAllDomainStats(libvirt.VIR_DOMAIN_STATS_STATE,
                                   libvirt.VIR_CONNECT_GET_ALL_DOMAINS_STATS_ACTIVE) == []
        # explicit domains
        one = c.domainListGetStats([c.lookupByName("st2")], libvirt.VIR_DOMAIN_STATS_STATE, 0)
        assert [d.name() for d, _ in one] == ["st2"]
    finally:
        c.close()
    out = hearth.virsh("domstats", "--state", "st0").stdout
    assert "state.state=5" in out, out
