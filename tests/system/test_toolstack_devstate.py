"""Device state across save/restore and migration: the xenstore channel
continues exactly where it was, and the nodes the guest wrote into its
own store tree come with it (docs/save-format.md, "device state")."""
import os
import socket
import subprocess
import time

import pytest

from test_toolstack_migrate import hosts, netns  # noqa: F401 (fixtures)
from toolstack_helpers import toolstack  # noqa: F401 (fixture)


def wait_store(ts, path, pred, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        out = ts.tool("read", path, check=False)
        if out.returncode == 0 and pred(out.stdout.strip()):
            return out.stdout.strip()
        time.sleep(0.05)
    pytest.fail(f"{path} never satisfied {pred}:\n{ts.log()[-2000:]}")


def heartbeat(ts, domid, above=0):
    v = wait_store(ts, f"/local/domain/{domid}/data/heartbeat",
                   lambda v: v.isdigit() and int(v) > above)
    return int(v)


def shut_down(ts, name):
    out = ts.xm("shutdown", "-w", name, timeout=30, check=False)
    log = ts.console_log(name)
    assert out.returncode == 0, (out.stderr, log, ts.log()[-2000:])
    assert name not in ts.domains()
    # through the guest's store client (its watch), not the ACPI button
    assert "status=pass" in log and "action=poweroff" in log, \
        (log[-2000:], ts.vmm_logs()[-3000:], ts.log()[-3000:])


def test_domu_save_restore_then_shutdown(toolstack):
    domid = toolstack.create("sr", test="domu")
    beat = heartbeat(toolstack, domid)
    path = toolstack.tmp / "sr.sav"
    toolstack.xm("save", "sr", path)
    toolstack.xm("restore", path)
    new = toolstack.domains()["sr"]["domid"]
    assert toolstack.tool("read", f"/local/domain/{new}/control/"
                          "feature-poweroff").stdout == "1\n"
    heartbeat(toolstack, new, beat)        # its store writes carry on
    shut_down(toolstack, "sr")


def test_domu_saved_during_store_traffic(toolstack):
    # save several times while the guest writes its heartbeat: some
    # saves fall between a request and its reply
    domid = toolstack.create("busy", test="domu")
    beat = heartbeat(toolstack, domid)
    path = toolstack.tmp / "busy.sav"
    for i in range(3):
        toolstack.xm("save", "-c", "busy", path)
        beat = heartbeat(toolstack, domid, beat)
    toolstack.xm("destroy", "busy")
    toolstack.xm("restore", path)
    heartbeat(toolstack, toolstack.domains()["busy"]["domid"], 0)
    shut_down(toolstack, "busy")


def test_domu_live_migrate_then_shutdown(hosts):
    a, b = hosts("a"), hosts("b")
    domid = a.create("mig", test="domu")
    beat = heartbeat(a, domid)
    a.xm("migrate", "--live", "--port", b.port, "mig", b.addr)
    assert "mig" not in a.domains()
    new = b.domains()["mig"]["domid"]
    heartbeat(b, new, 0)
    assert b.tool("read", f"/local/domain/{new}/control/"
                  "feature-poweroff").stdout == "1\n"
    assert beat >= 1
    shut_down(b, "mig")


def test_guest_node_perms_follow_a_new_domid(hosts):
    # the destination's ID 1 is taken, so the guest arrives as another
    # ID: the permissions of the nodes it wrote name the new one
    a, b = hosts("a"), hosts("b")
    domid = a.create("perm", test="domu")
    heartbeat(a, domid)
    b.create("filler", test="domu")
    node = "control/feature-poweroff"
    a.tool("chmod", f"/local/domain/{domid}/{node}", f"n{domid}", "r7",
           f"w{domid}")
    a.xm("migrate", "--live", "--port", b.port, "perm", b.addr)
    new = b.domains()["perm"]["domid"]
    assert new != domid
    heartbeat(b, new, 0)
    assert b.client().get_perms(f"/local/domain/{new}/{node}") == \
        [f"n{new}", "r7", f"w{new}"]
    shut_down(b, "perm")

# ---- virtio-blk: requests in flight complete before the state is taken ----

def test_blk_saved_in_the_middle_of_io(toolstack):
    # qcow2 runs every request on the engine's worker thread, so some are
    # in flight whenever the vCPUs stop
    img = toolstack.tmp / "disk.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(img),
                    "64M"], check=True)
    toolstack.create("io", test="blk-pattern",
                     extra="seed=7 sectors=65536 reqkb=4 depth=2",
                     on_poweroff="preserve", memory=96, disk=[f"tap:qcow2:{img},xvda,w"])
    time.sleep(0.1)
    path = toolstack.tmp / "io.sav"
    out = toolstack.xm("save", "io", path, check=False)
    assert out.returncode == 0, (out.stderr, toolstack.console_log("io"))
    assert "XENON-RESULT" not in toolstack.console_log("io"), \
        "the guest finished before the save: make it do more I/O"
    toolstack.xm("restore", path)
    toolstack.wait_state("io", "s", timeout=60)
    log = toolstack.console_log("io")
    assert "test=blk-pattern status=pass" in log, log[-2000:]
    assert "blk flushed sectors=65536" in log


# ---- virtio-net: the restored guest is announced on its TAP ---------------

ETH_P_ALL = 0x0003
MAC = "00:16:3e:0a:0b:0d"


def frames(sock, seconds):
    got, deadline = [], time.monotonic() + seconds
    while time.monotonic() < deadline:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            got.append(sock.recv(2048))
        except socket.timeout:
            break
    return got


def is_announce(f):
    mac = bytes.fromhex(MAC.replace(":", ""))
    return (f[:6] == b"\xff" * 6 and f[6:12] == mac and
            f[12:14] in (b"\x80\x35", b"\x08\x06") and f[22:28] == mac)


def test_net_restore_announces_the_mac(toolstack):
    tap = f"xann{os.getpid() % 10000}"
    subprocess.run(["ip", "tuntap", "add", "dev", tap, "mode", "tap"],
                   check=True)
    try:
        toolstack.create("ann", test="net-echo", extra="timeout=60",
                         vif=[f"mac={MAC},vifname={tap}"])
        toolstack.wait_console("ann", "net ready")
        with socket.socket(socket.AF_PACKET, socket.SOCK_RAW,
                           socket.htons(ETH_P_ALL)) as s:
            s.bind((tap, 0))
            path = toolstack.tmp / "ann.sav"
            toolstack.xm("save", "ann", path)
            assert not [f for f in frames(s, 0.2) if is_announce(f)]
            toolstack.xm("restore", path)
            got = [f for f in frames(s, 3) if is_announce(f)]
        assert got, "no RARP/ARP for the guest's MAC after the restore"
        assert toolstack.domains()["ann"]
    finally:
        toolstack.xm("destroy", "ann", check=False)
        subprocess.run(["ip", "link", "del", tap])
