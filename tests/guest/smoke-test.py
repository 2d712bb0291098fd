#!/usr/bin/env python3
"""Boot the test guest under plain QEMU (TCG) and check what tests rely on.

usage: smoke-test.py [OUTDIR]   (OUTDIR as for build-guest.sh; built if needed)

Checks: the ready marker, the shell on ttyS0, hearth-write-pattern and hearth-md5 against the
disk image seen from the host, hearth-dhcp on QEMU's user network, a clean power-off on QMP
system_powerdown, and hearth.poweroff_after. Exits non-zero on the first failure.
"""
import hashlib
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
MiB = 1024 * 1024
STARTED = []  # every QEMU we start, killed at exit if a check failed midway


class Guest:
    def __init__(self, outdir, workdir, append, disk):
        self.qmp_path = os.path.join(workdir, "qmp.sock")
        argv = [
            "qemu-system-x86_64", "-accel", "tcg", "-m", "256", "-display", "none",
            "-no-user-config", "-nodefaults", "-serial", "stdio",
            "-qmp", f"unix:{self.qmp_path},server=on,wait=off",
            "-kernel", os.path.join(outdir, "vmlinuz"),
            "-initrd", os.path.join(outdir, "initrd.gz"),
            "-append", "console=ttyS0 " + append,
            "-drive", f"file={disk},format=raw,if=virtio",
            "-netdev", "user,id=n0", "-device", "virtio-net-pci,netdev=n0",
        ]
        self.start = time.monotonic()
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)
        STARTED.append(self.proc)
        self.out = b""
        self.eof = False
        self.lock = threading.Condition()
        threading.Thread(target=self._reader, daemon=True).start()

    def _reader(self):
        while True:
            chunk = self.proc.stdout.read1(4096)
            with self.lock:
                if not chunk:
                    self.eof = True
                    self.lock.notify_all()
                    return
                self.out += chunk
                self.lock.notify_all()

    def wait_for(self, pattern, timeout, since=0):
        """Wait until the regex `pattern` matches the output after byte `since`."""
        deadline = time.monotonic() + timeout
        regex = re.compile(pattern.encode())
        with self.lock:
            while True:
                m = regex.search(self.out, since)
                if m:
                    return m, self.out[since:m.end()].decode(errors="replace")
                left = deadline - time.monotonic()
                if left <= 0 or self.eof:
                    raise AssertionError(f"no {pattern!r} within {timeout} s; output:\n"
                                         + self.out.decode(errors="replace"))
                self.lock.wait(min(left, 0.5))

    def run(self, command, timeout=60):
        """Type a command on the serial shell; return (exit status, output)."""
        with self.lock:
            since = len(self.out)
        self.proc.stdin.write(command.encode() + b'; echo "HEARTH-RC=$?."\n')
        self.proc.stdin.flush()
        m, text = self.wait_for(r"HEARTH-RC=(\d+)\.", timeout, since)
        return int(m.group(1)), text

    def qmp(self, command):
        s = socket.socket(socket.AF_UNIX)
        s.connect(self.qmp_path)
        f = s.makefile("rw")
        json.loads(f.readline())  # greeting
        for cmd in ("qmp_capabilities", command):
            f.write(json.dumps({"execute": cmd}) + "\n")
            f.flush()
            while True:
                reply = json.loads(f.readline())
                if "return" in reply or "error" in reply:
                    break
            if "error" in reply:
                raise AssertionError(f"QMP {cmd}: {reply}")
        s.close()

    def wait_exit(self, timeout):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise AssertionError(f"QEMU still running after {timeout} s; output:\n"
                                 + self.out.decode(errors="replace"))


def md5_of(data):
    return hashlib.md5(data).hexdigest()


def main():
    sys.stdout.reconfigure(line_buffering=True)
    outdir = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "cache"))
    subprocess.run([os.path.join(HERE, "build-guest.sh"), outdir], check=True)

    with tempfile.TemporaryDirectory() as work:
        disk = os.path.join(work, "disk.raw")
        with open(disk, "wb") as f:
            f.truncate(64 * MiB)

        g = Guest(outdir, work, "", disk)
        g.wait_for("HEARTH-GUEST-READY", 120)
        print(f"ready marker after {time.monotonic() - g.start:.1f} s")

        rc, out = g.run("echo shell-$((6*7))")
        assert rc == 0 and "shell-42" in out, out
        rc, out = g.run("hearth-write-pattern /dev/vda 0xab 1 4")
        assert rc == 0 and "HEARTH-WRITE-OK /dev/vda 0xab 1 4" in out, out
        rc, out = g.run("hearth-write-pattern /dev/vda 7 8 2")
        assert rc == 0 and "HEARTH-WRITE-OK /dev/vda 0x07 8 2" in out, out
        rc, out = g.run("hearth-write-pattern /dev/vda 300 0 1")
        assert rc == 2, out

        expect = md5_of(b"\xab" * 4 * MiB)
        rc, out = g.run("hearth-md5 /dev/vda 1 4")
        assert rc == 0 and f"HEARTH-MD5 {expect} /dev/vda" in out, out
        with open(disk, "rb") as f:
            image = f.read()
        assert md5_of(image[1 * MiB:5 * MiB]) == expect, "host does not see the pattern"
        assert image[8 * MiB:10 * MiB] == b"\x07" * 2 * MiB
        assert image[:MiB] == bytes(MiB) and image[5 * MiB:8 * MiB] == bytes(3 * MiB)
        rc, out = g.run("hearth-md5 /dev/vda")
        assert rc == 0 and f"HEARTH-MD5 {md5_of(image)} /dev/vda" in out, out
        print("pattern write and md5 agree with the image on the host")

        rc, out = g.run("hearth-dhcp eth0 && ip route", timeout=60)
        assert rc == 0 and "HEARTH-DHCP-OK eth0 10.0.2.15/24 10.0.2.2" in out, out
        assert "default via 10.0.2.2 dev eth0" in out, out
        print("hearth-dhcp configured eth0 on QEMU's user network")

        t0 = time.monotonic()
        g.qmp("system_powerdown")
        rc = g.wait_exit(60)
        text = g.out.decode(errors="replace")
        assert rc == 0, f"QEMU exit status {rc}"
        assert "hearth-guest: power button" in text and "reboot: Power down" in text, text
        print(f"system_powerdown: clean power-off in {time.monotonic() - t0:.1f} s")

        g = Guest(outdir, work, "hearth.poweroff_after=3 quiet", disk)
        g.wait_for("HEARTH-GUEST-READY", 120)
        rc = g.wait_exit(60)
        assert rc == 0 and "poweroff_after 3 s" in g.out.decode(errors="replace")
        print(f"hearth.poweroff_after=3: off after {time.monotonic() - g.start:.1f} s")
    print("guest smoke test: OK")


def kill_leftovers():
    for proc in STARTED:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


if __name__ == "__main__":
    try:
        main()
    finally:
        kill_leftovers()
