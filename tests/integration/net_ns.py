"""Network namespaces for the network tests: hearthd runs inside one (``ip netns exec``),
virsh talks to it from outside over its unix socket, and nothing ever touches the host's
own network. Everything started in a namespace is killed by PID when it is removed.
"""

import os
import re
import signal
import stat
import subprocess
import time
import uuid
from pathlib import Path


def run(*argv, check=True, timeout=30, input=None):
    cp = subprocess.run([str(a) for a in argv], capture_output=True, text=True, timeout=timeout,
                        input=input)
    if check and cp.returncode != 0:
        raise AssertionError("%s failed (%d): %s%s" % (" ".join(map(str, argv)), cp.returncode,
                                                     cp.stdout, cp.stderr))
    return cp


class NetNs:
    """A named network namespace (hnt-XXXXXXXX) with lo up."""

    def __init__(self, prefix="hnt"):
        self.name = "%s-%s" % (prefix, uuid.uuid4().hex[:8])
        run("ip", "netns", "add", self.name)
        self.exec("ip", "link", "set", "lo", "up")

    def exec(self, *argv, check=True, timeout=30, input=None):
        return run("ip", "netns", "exec", self.name, *argv, check=check, timeout=timeout,
                   input=input)

    def add_veth(self, name):
        """A device that stays inside the namespace (a veth pair, both ends up; the kernel
        here has no dummy driver)."""
        peer = name[:11] + "-p"
        self.exec("ip", "link", "add", name, "type", "veth", "peer", "name", peer)
        self.exec("ip", "link", "set", peer, "up")
        self.exec("ip", "link", "set", name, "up")

    def pids(self):
        cp = run("ip", "netns", "pids", self.name, check=False)
        return [int(p) for p in cp.stdout.split()]

    def links(self):
        """Device names in the namespace."""
        out = self.exec("ip", "-o", "link", "show").stdout
        return sorted(re.findall(r"^\d+: ([^:@]+)", out, re.M))

    def state(self):
        """What a failed request must leave untouched: devices (name, MAC, admin state),
        addresses, the nft ruleset. Carrier and operstate are left out: they settle on their
        own for a while after a device comes up."""
        links = []
        for line in self.exec("ip", "-o", "link", "show").stdout.splitlines():
            m = re.match(r"\d+: ([^:@]+)\S*: <([^>]*)>.*link/\S+ (\S+)", line)
            if m:
                links.append((m.group(1), "UP" in m.group(2).split(","), m.group(3)))
        addrs = sorted(re.findall(r"^\d+: (\S+)\s+(inet6?) (\S+)",
                                  self.exec("ip", "-o", "addr", "show").stdout, re.M))
        return sorted(links), addrs, self.exec("nft", "list", "ruleset").stdout

    def sysctl(self, key):
        path = "/proc/sys/" + key.replace(".", "/")
        return self.exec("cat", path).stdout.strip()

    def nft_tables(self):
        return self.exec("nft", "list", "tables").stdout.split("\n")

    def remove(self):
        # only processes started in this namespace (hearthd, its dnsmasq, udhcpc): by PID
        for sig in (signal.SIGTERM, signal.SIGKILL):
            pids = self.pids()
            if not pids:
                break
            for pid in pids:
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
            deadline = time.monotonic() + 2
            while self.pids() and time.monotonic() < deadline:
                time.sleep(0.05)
        run("ip", "netns", "del", self.name, check=False)


def wrapper_for(ns, hearthd, directory, env=None):
    """An executable that runs hearthd inside @ns (exec all the way, so its PID is hearthd's)."""
    path = Path(directory) / ("hearthd-in-%s" % ns.name)
    exports = "".join("export %s='%s'\n" % (k, v) for k, v in (env or {}).items())
    path.write_text("#!/bin/sh\n%sexec ip netns exec %s %s \"$@\"\n" % (exports, ns.name, hearthd))
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def process_alive(pid):
    """Alive and not a zombie (dnsmasq is re-parented; nobody may reap it here)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            st = f.read().rsplit(")", 1)[1].split()[0]
        return st not in ("Z", "X")
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False


def read_pid(path):
    try:
        return int(Path(path).read_text().strip())
    except (FileNotFoundError, ValueError):
        return None


def wait_for(predicate, timeout=10, interval=0.05, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("timed out after %ss waiting for %s" % (timeout, what))
