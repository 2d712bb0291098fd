"""Fixtures for the Hearth integration tests.

Run with the system python (the only one with python3-libvirt):

    /usr/bin/python3 -m pytest tests/integration            # uses build/daemon/hearthd
    HEARTH_BUILDDIR=build-asan /usr/bin/python3 -m pytest tests/integration

Missing prerequisites (virsh, python3-libvirt, the hearthd binary) make every
test FAIL with a message; nothing is ever skipped for that reason.
"""

import faulthandler
import os
import signal
import sys
import threading

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import hearthlib  # noqa: E402
from hearthlib import Hearth, HearthError  # noqa: E402

TEST_TIMEOUT = int(os.environ.get("HEARTH_TEST_TIMEOUT", "150"))
DATA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: takes more than a few seconds")
    try:
        import libvirt
        # python3-libvirt prints every error to stderr by default; the tests check them
        libvirt.registerErrorHandler(lambda ctx, err: None, None)
    except ImportError:
        pass


@pytest.fixture(scope="session", autouse=True)
def prerequisites():
    problems = hearthlib.check_prerequisites()
    if problems:
        pytest.fail("integration test prerequisites missing:\n  - " + "\n  - ".join(problems), pytrace=False)


class _Timeout(Exception):
    pass


@pytest.fixture(autouse=True)
def per_test_timeout(request):
    """Fail a hung test instead of hanging the suite (SIGALRM, then a hard exit 60 s later)."""
    def on_alarm(signum, frame):
        raise _Timeout("test exceeded %d s (HEARTH_TEST_TIMEOUT)" % TEST_TIMEOUT)
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(TEST_TIMEOUT)
    faulthandler.dump_traceback_later(TEST_TIMEOUT + 60, exit=True)
    try:
        yield
    finally:
        signal.alarm(0)
        faulthandler.cancel_dump_traceback_later()
        signal.signal(signal.SIGALRM, old)


@pytest.fixture
def hearth_factory(request):
    """hearth_factory(conf=None, start=True, extra_args=(), root=None) -> Hearth.

    Every instance is stopped at teardown; the test FAILS if a daemon died on its
    own, did not exit on SIGTERM, or left a sanitizer report on stderr.
    """
    instances = []
    request.node._hearths = instances

    def make(conf=None, start=True, extra_args=(), root=None, env=None, use_notify=True):
        ext = os.environ.get("HEARTH_EXTERNAL_SOCKET")
        if ext:
            h = hearthlib.ExternalDaemon(ext)
        else:
            h = Hearth(root=root, conf=conf, extra_args=extra_args, env=env, use_notify=use_notify)
        instances.append(h)
        if start:
            try:
                h.start()
            except HearthError as e:
                pytest.fail("hearthd did not come up: %s" % e, pytrace=False)
        return h

    yield make

    problems = []
    for h in instances:
        if h.proc is not None and h.proc.poll() is not None and not h.expected_exit:
            problems.append("hearthd (root %s) died unexpectedly during the test, exit status %s"
                            % (h.root, h.proc.returncode))
        h.stop()
        problems.extend(h.problems)
        kill_leftover_guests(h.root)
    failed = problems or getattr(request.node, "_hearth_failed", False)
    for h in instances:
        if failed:
            # keep the root of a failed test for post-mortem
            print("hearthd root kept for inspection: %s" % h.root)
        else:
            h.cleanup()
    if problems:
        pytest.fail("\n\n".join(problems), pytrace=False)


def kill_leftover_guests(root):
    """Guests outlive hearthd by design: a test's guests (workers and their QEMUs) are killed
    when the test ends, so none pile up. Found through the runtime status files, and by command
    line with their QEMU children: a worker that hearthd spawned just before it stopped may not
    have written its status yet."""
    import glob
    import signal
    import time
    from hearthlib import find_processes, kill_pids
    workers_dir = os.path.join(str(root), "run/hearth/qemu/")
    for attempt in range(2):  # again: a worker killed while starting QEMU may have forked it
        victims = set()
        for status in glob.glob(os.path.join(workers_dir, "*/status")):
            try:
                kv = dict(l.split("=", 1) for l in open(status).read().splitlines() if "=" in l)
            except OSError:
                continue
            for key, exe in (("worker_pid", "hearth-worker"), ("qemu_pid", "qemu-system")):
                pid = int(kv.get(key, "0") or 0)
                try:
                    with open("/proc/%d/cmdline" % pid, "rb") as f:
                        if exe.encode() in f.read():
                            victims.add(pid)
                except (OSError, ValueError):
                    pass
        workers = {p for p, argv in find_processes([workers_dir]).items()
                   if any("hearth-worker" in a for a in argv)}
        victims |= workers
        if workers:
            for entry in os.listdir("/proc"):
                if entry.isdigit():
                    try:
                        with open("/proc/%s/stat" % entry) as f:
                            ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                    except (OSError, ValueError, IndexError):
                        continue
                    if ppid in workers:
                        victims.add(int(entry))
        kill_pids(sorted(victims), signal.SIGKILL)
        if not victims:
            break
        time.sleep(0.2)


@pytest.fixture
def hearth(hearth_factory):
    """A running hearthd on a fresh root."""
    return hearth_factory()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.failed:
        item._hearth_failed = True
    if rep.failed and call.when == "call":
        for h in getattr(item, "_hearths", []):
            try:
                rep.sections.append(("hearthd %s" % h.root, h.diagnostics(tail=40)))
            except Exception:
                pass


_event_loop_started = False


@pytest.fixture(scope="session")
def event_loop():
    """Register libvirt's default event loop and run it in a daemon thread.

    Must be requested before opening the connections that should get events.
    """
    global _event_loop_started
    import libvirt
    if not _event_loop_started:
        libvirt.virEventRegisterDefaultImpl()

        def run():
            while True:
                libvirt.virEventRunDefaultImpl()
        threading.Thread(target=run, name="libvirt-event-loop", daemon=True).start()
        _event_loop_started = True
    return True


@pytest.fixture
def data_dir():
    return DATA_DIR


@pytest.fixture
def guest1_xml():
    with open(os.path.join(DATA_DIR, "guest1.xml")) as f:
        return f.read()
