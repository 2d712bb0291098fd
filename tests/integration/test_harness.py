"""Self-tests of the fixture machinery: a daemon that crashes must be noticed."""

import os
import signal
import time

import hearthlib


def test_crash_is_detected():
    h = hearthlib.Hearth()
    try:
        h.start()
        os.kill(h.pid, signal.SIGSEGV)
        deadline = time.monotonic() + 10
        while h.alive() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not h.alive()
        try:
            h.check_alive()
        except hearthlib.HearthError as e:
            assert "died unexpectedly" in str(e)
        else:
            raise AssertionError("check_alive() missed a crashed daemon")
        h.stop()
        assert h.problems, "stop() of a crashed daemon recorded no problem"
    finally:
        h.cleanup()


def test_sanitizer_report_is_detected(tmp_path):
    h = hearthlib.Hearth()
    try:
        h.start()
        h.stop()
        assert h.problems == [], h.problems
        # pretend the daemon had printed an ASan report
        with open(h.stderr_paths[-1], "a") as f:
            f.write("==1==ERROR: AddressSanitizer: heap-use-after-free on address 0x1\n")
        h._record_exit(0, "term")
        assert any("AddressSanitizer" in p for p in h.problems), h.problems
    finally:
        h.cleanup()


def test_virsh_helper_reports_output(hearth):
    try:
        hearth.virsh("dominfo", "does-not-exist")
    except hearthlib.HearthError as e:
        assert "failed to get domain 'does-not-exist'" in str(e)
    else:
        raise AssertionError("virsh(check=True) did not raise")
