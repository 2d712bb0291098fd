"""Host statistics through stock virsh and python3-libvirt: nodecpustats, nodememstats, freecell,
cpu-models (NODE_GET_CPU_STATS, NODE_GET_MEMORY_STATS, NODE_GET_FREE_MEMORY,
NODE_GET_CELLS_FREE_MEMORY, CONNECT_GET_CPU_MODEL_NAMES), checked against /proc read here."""

import os
import re

import libvirt
import pytest

from hearthlib import parse_colon_table

NS_PER_TICK = 10**9 // os.sysconf("SC_CLK_TCK")


def proc_cpu(line_name="cpu"):
    with open("/proc/stat") as f:
        for line in f:
            parts = line.split()
            if parts[0] == line_name:
                v = [int(x) for x in parts[1:8]]
                return {"user": (v[0] + v[1]) * NS_PER_TICK, "system": (v[2] + v[5] + v[6]) * NS_PER_TICK,
                        "idle": v[3] * NS_PER_TICK, "iowait": v[4] * NS_PER_TICK}
    raise AssertionError("no %s line in /proc/stat" % line_name)


def meminfo(key):
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise AssertionError(key)


def virsh_figures(text):
    """'name: 123' or 'name :  123 KiB' lines -> {name: int}."""
    return {k: int(v.split()[0]) for k, v in parse_colon_table(text).items()}


@pytest.mark.parametrize("cpu", [None, "0"])
def test_nodecpustats(hearth, cpu):
    name = "cpu" if cpu is None else "cpu" + cpu
    before = proc_cpu(name)
    args = ["nodecpustats"] + (["--cpu", cpu] if cpu else [])
    got = virsh_figures(hearth.virsh(*args, ro=True).stdout)
    after = proc_cpu(name)
    assert sorted(got) == ["idle", "iowait", "system", "user"], got
    for k in got:
        assert before[k] <= got[k] <= after[k], (k, before[k], got[k], after[k])
    assert got["user"] > 0 and got["idle"] > 0


def test_nodecpustats_bad_cpu(hearth):
    cp = hearth.virsh("nodecpustats", "--cpu", "9999", check=False)
    assert cp.returncode == 1 and "invalid cpuNum 9999" in cp.stderr, cp.stderr


def test_nodememstats_and_free_memory(hearth):
    got = virsh_figures(hearth.virsh("nodememstats", ro=True).stdout)
    assert sorted(got) == ["buffers", "cached", "free", "total"], got
    assert got["total"] == meminfo("MemTotal")
    assert got["buffers"] == pytest.approx(meminfo("Buffers"), rel=0.5, abs=65536)
    assert 0 < got["free"] <= got["total"]
    c = libvirt.openReadOnly(hearth.ro_uri)
    try:
        st = c.getMemoryStats(libvirt.VIR_NODE_MEMORY_STATS_ALL_CELLS)
        assert st["total"] == meminfo("MemTotal")
        free = c.getFreeMemory()
        assert free == pytest.approx(meminfo("MemFree") * 1024, rel=0.25)
        cells = c.getCellsFreeMemory(0, 1)
        assert len(cells) == 1 and 0 < cells[0] <= free + (1 << 30)
        assert sorted(c.getCPUStats(libvirt.VIR_NODE_CPU_STATS_ALL_CPUS)) == ["idle", "iowait", "kernel", "user"]
    finally:
        c.close()
    cp = hearth.virsh("nodememstats", "--cell", "4096", check=False)
    assert cp.returncode == 1 and "invalid cellNum 4096" in cp.stderr, cp.stderr


def test_freecell(hearth):
    out = hearth.virsh("freecell", ro=True).stdout
    m = re.search(r"Total:\s+(\d+) KiB", out)
    assert m, out
    assert int(m.group(1)) == pytest.approx(meminfo("MemFree"), rel=0.25)
    out = hearth.virsh("freecell", "--all", ro=True).stdout
    assert re.search(r"^\s*0:\s+\d+ KiB", out, re.M), out


def test_cpu_models(hearth):
    models = hearth.virsh("cpu-models", "x86_64", ro=True).stdout.split()
    assert "qemu64" in models and "Skylake-Client" in models and len(models) == len(set(models))
    c = libvirt.openReadOnly(hearth.ro_uri)
    try:
        assert c.getCPUModelNames("x86_64") == models
    finally:
        c.close()
    cp = hearth.virsh("cpu-models", "sparc64", check=False)
    assert cp.returncode == 1 and "sparc64" in cp.stderr, cp.stderr
