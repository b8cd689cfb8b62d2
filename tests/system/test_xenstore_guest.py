"""Guests reach the store: the test guest's xenstore client over the
xenstore channel (xenon-vmm --xenstore unix:PATH) into a private xenond
(--domain-socket 5=PATH), checked with Xen's own xenstore-* tools.

Xen's shutdown protocol end to end (control/shutdown -> clean power-off or
reboot), a kill -9 of xenond while the guest waits (and with a request in
flight), a guest flooding the store past its quotas or breaking the
framing, and the ACPI power button of an idle domU with and without a
store.
"""
import json
import os
import signal
import socket
import subprocess
import time

import pytest

from conftest import (EXIT_POWEROFF, EXIT_REBOOT, Monitor, result_line,
                      read_available, wait_for_line)
from test_xenstore_helpers import Xenond, _builds

DOMID = 5
HOME = f"/local/domain/{DOMID}"


class Domain:
    """A private xenond with domain 5 laid out as a toolstack does it
    (name and domid read-only for the guest, data/ and control/ its own),
    and the monitor of the same build to run the guest with."""

    def __init__(self, build, sanitized, tmp):
        self.tmp = tmp
        self.chan = tmp / "d5.sock"
        self.ctl = tmp / "ctl.sock"
        self.xd = Xenond(build, sanitized, tmp,
                         ["--domain-socket", f"{DOMID}={self.chan}"])
        self.vmm = Monitor(build, sanitized)
        self.proc = None

    def start_store(self):
        self.xd.start()
        t = self.xd.tool
        t("write", f"{HOME}/name", "guest5", f"{HOME}/domid", str(DOMID),
          f"{HOME}/data", "", f"{HOME}/control/shutdown", "")
        t("chmod", HOME, "n0", f"r{DOMID}")
        for node in ("name", "domid"):
            t("chmod", f"{HOME}/{node}", "n0", f"r{DOMID}")
        for node in ("data", "control"):
            t("chmod", "-r", f"{HOME}/{node}", f"n{DOMID}")

    def boot(self, test, *extra, store=True):
        args = ["--control", str(self.ctl), *extra]
        if store:
            args += ["--xenstore", f"unix:{self.chan}"]
        self.proc = self.vmm.start(*args, cmdline=f"test={test}")
        return self.proc

    def read(self, path):
        return self.xd.tool("read", path).stdout.rstrip("\n")

    def write(self, path, value):
        self.xd.tool("write", path, value)

    def wait_ready(self, needle, timeout=20):
        line, seen = wait_for_line(self.proc.stdout, needle, timeout)
        return "\n".join(seen)

    def finish(self, timeout=30):
        """Wait for the monitor; returns (exit status, all its stdout)."""
        out, err = self.proc.communicate(timeout=timeout)
        self.vmm.check_sanitizer(err)
        self.stderr = err
        return self.proc.returncode, out

    def close(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()
        self.xd.stop()


@pytest.fixture(params=_builds())
def dom(request, tmp_path):
    build, sanitized = request.param
    if not os.path.exists(os.path.join(build, "xenon-vmm")):
        pytest.fail(f"{build}/xenon-vmm not built")
    d = Domain(build, sanitized, tmp_path)
    d.start_store()
    yield d
    d.close()


def control(path, cmd):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(str(path))
        s.sendall(json.dumps({"cmd": cmd}).encode() + b"\n")
        return json.loads(s.makefile().readline())


def wait_for(fn, timeout=10.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = fn()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"{what} not met within {timeout}s")


def test_guest_uses_store_then_powers_off(dom, tmp_path):
    """Reads its name and domid, writes data/, mkdir/rm, is refused
    outside its home, retries a conflicting transaction, then honours
    "poweroff".  A virtio console beside the channel stays a console."""
    vcons = tmp_path / "vcons.log"
    dom.boot("xenstore", "--vconsole", f"file:{vcons}")
    early = dom.wait_ready("xenstore: ready")
    assert f"xenstore: name=guest5 domid={DOMID} home={HOME}" in early
    assert "xenstore: write outside home: EACCES" in early
    # what the guest did, as Xen's tools see it
    assert dom.read(f"{HOME}/data/greeting") == "hello from guest5"
    assert dom.read(f"{HOME}/data/counter") == "101"
    ls = dom.xd.tool("ls", f"{HOME}/data").stdout
    assert "dir" not in ls, ls          # made and removed again
    assert dom.xd.tool("exists", "/local/domain/0/data/intruder",
                       check=False).returncode != 0
    perms = dom.xd.tool("ls", "-p", f"{HOME}/data").stdout
    assert f"greeting = \"hello from guest5\"" in perms
    assert f"(n{DOMID})" in perms, perms  # the guest owns what it made

    dom.write(f"{HOME}/control/shutdown", "poweroff")
    rc, out = dom.finish()
    assert rc == EXIT_POWEROFF, dom.stderr
    res = result_line(out, "xenstore")
    assert res["status"] == "pass", res
    assert res["action"] == "poweroff" and res["tx_retries"] == "1"
    assert res["refused"] == "EACCES" and res["domid"] == str(DOMID)
    # the request was taken: cleared, as Linux clears it
    assert dom.read(f"{HOME}/control/shutdown") == ""
    # results went to the real console, never into the store's channel
    assert "XENON-RESULT test=xenstore status=pass" in vcons.read_text()


def test_reboot_request(dom):
    dom.boot("xenstore")
    dom.wait_ready("xenstore: ready")
    dom.write(f"{HOME}/control/shutdown", "suspend")
    wait_for(lambda: dom.read(f"{HOME}/control/shutdown") == "",
             what="suspend request taken")
    dom.write(f"{HOME}/control/shutdown", "reboot")
    rc, out = dom.finish()
    assert rc == EXIT_REBOOT, dom.stderr
    assert "suspend is not supported" in out
    assert result_line(out, "xenstore")["action"] == "reboot"


def test_kill9_xenond_while_guest_waits(dom):
    """The guest's watch on control/shutdown outlives a kill -9 of
    xenond: the monitor reconnects, xenond re-arms the watch from its
    journal, and the shutdown request still arrives."""
    dom.boot("xenstore")
    dom.wait_ready("xenstore: ready")
    dom.xd.kill9()
    time.sleep(0.3)
    dom.xd.restart()
    wait_for(lambda: "1 watches re-armed" in dom.xd.log(), what="re-arm")
    dom.write(f"{HOME}/control/shutdown", "poweroff")
    rc, out = dom.finish()
    assert rc == EXIT_POWEROFF, dom.stderr
    assert result_line(out, "xenstore")["action"] == "poweroff"
    assert "reconnecting" in dom.stderr and "connected to" in dom.stderr


def heartbeat(dom):
    r = dom.xd.tool("read", f"{HOME}/data/heartbeat", check=False)
    return int(r.stdout) if r.returncode == 0 else 0


def test_request_in_flight_survives_restart(dom):
    """A heartbeat write sent while xenond is frozen, then killed, is sent
    again by the monitor and answered by the next xenond: the guest never
    sees an error and keeps beating."""
    dom.boot("domu")
    dom.wait_ready("domu: ready")
    assert dom.read(f"{HOME}/data/status") == "running"
    assert dom.read(f"{HOME}/control/feature-poweroff") == "1"
    assert dom.read(f"{HOME}/control/feature-reboot") == "1"
    before = wait_for(lambda: heartbeat(dom), what="a heartbeat")
    dom.xd.proc.send_signal(signal.SIGSTOP)
    time.sleep(1.3)     # the next beat is written into the frozen socket
    dom.xd.kill9()
    dom.xd.restart()
    wait_for(lambda: heartbeat(dom) >= before + 2, what="beats after restart")
    assert "sent again" in read_available(dom.proc.stderr)
    control(dom.ctl, "power-button")
    rc, out = dom.finish()
    assert rc == EXIT_POWEROFF, dom.stderr
    res = result_line(out, "domu")
    assert res["status"] == "pass" and res["action"] == "power-button", res


def test_flood_refused_store_keeps_serving(dom):
    dom.boot("xenstore-flood")
    rc, out = dom.finish(timeout=60)
    assert rc == EXIT_POWEROFF, dom.stderr
    res = result_line(out, "xenstore-flood")
    assert res["status"] == "pass", res
    assert res["nodes_err"] == "ENOSPC" and 900 <= int(res["nodes"]) < 1000
    assert res["value_err"] == "ENOSPC" and res["value_max"] == "2048"
    assert res["watches_err"] == "E2BIG" and res["watches"] == "128"
    assert res["transactions_err"] == "ENOSPC"
    assert res["transactions"] == "10"
    # the store answered the guest afterwards, and serves everyone else
    assert dom.read(f"{HOME}/data/after-flood") == "ok"
    assert dom.read("/local/domain/0/name") == "Domain-0"
    dom.write("/tool/after-flood", "dom0 too")
    assert dom.read("/tool/after-flood") == "dom0 too"
    assert dom.xd.alive()


def test_oversize_request_breaks_only_the_channel(dom):
    """A request header announcing more than 4096 bytes is stopped in the
    monitor: the channel device needs a reset, nothing reaches xenond, the
    domain and the store carry on."""
    dom.boot("xenstore-bad")
    rc, out = dom.finish()
    assert rc == EXIT_POWEROFF, dom.stderr
    assert result_line(out, "xenstore-bad")["needs_reset"] == "yes"
    assert ("xenstore-channel: request payload over 4096 bytes; device "
            "needs reset") in dom.stderr
    assert "payload" not in dom.xd.log()    # xenond never saw it
    assert dom.read(f"{HOME}/name") == "guest5"
    assert dom.xd.alive()


def test_power_button_without_store(dom):
    """A domU with no xenstore channel still shuts down cleanly on the
    ACPI power button (the SCI wakes it from hlt)."""
    dom.boot("domu", store=False)
    dom.wait_ready("domu: no xenstore channel; ready (power button armed)")
    control(dom.ctl, "power-button")
    rc, out = dom.finish()
    assert rc == EXIT_POWEROFF, dom.stderr
    res = result_line(out, "domu")
    assert res == {"test": "domu", "status": "pass", "xenstore": "no",
                   "action": "power-button"}


def test_monitor_waits_for_late_xenond(dom):
    """Started before xenond listens, the guest is held back (not failed)
    until the store comes."""
    dom.xd.kill9()
    dom.boot("xenstore")
    time.sleep(0.5)
    assert dom.proc.poll() is None
    dom.xd.restart()
    dom.wait_ready("xenstore: ready")
    dom.write(f"{HOME}/control/shutdown", "poweroff")
    rc, out = dom.finish()
    assert rc == EXIT_POWEROFF, dom.stderr
    assert "cannot connect" in dom.stderr


def test_bad_options(dom):
    proc = dom.vmm.run("--xenstore", "tcp:1.2.3.4:5", cmdline="test=boot")
    assert proc.returncode == 1
    assert "--xenstore: 'tcp:1.2.3.4:5' is not unix:PATH" in proc.stderr
    xd = subprocess.run([dom.xd.path, "--foreground", "--domain-socket",
                         "0=/tmp/x.sock"], capture_output=True, text=True,
                        timeout=10, env=dom.xd.env)
    assert xd.returncode == 1
    assert "not a guest domain id" in xd.stderr
