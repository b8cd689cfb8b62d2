"""Linux's own virtio drivers against xenon-vmm's devices (issue 4's Linux
guest, make check-slow).

No Linux user space runs on this machine (docs/linux-guests.md), so the
kernel comes from scripts/build-linux-virtio-kernel.sh with the drivers
built in, and the kernel itself does the work: virtio_console carries its
log to hvc0, virtio_blk finds the disk and ext2 mounts the root file
system from it, virtio_net configures eth0 (ip=), answers the host's pings
while the kernel waits before mounting root (rootdelay=), and netconsole
sends the whole log to the host as UDP.  With no init on the root file
system the kernel then panics and reboots (panic=-1): the monitor exits 3.
One boot (about a minute and a half), several tests on its record.
"""
import os
import re
import shutil
import subprocess
import sys
import time

import pytest

import linuxboot as lb

KERNEL_DIR = lb.BUILD / "linux-virtio"
KERNEL = KERNEL_DIR / "vmlinux"
NETNS = f"xenon-lxv-{os.getpid()}"
TAP = "lxv0"
HOST_IP, GUEST_IP = "10.231.0.1", "10.231.0.2"
MAC = "00:16:3e:5a:17:01"
NETCONSOLE_PORT = 6666
DISK_MIB = 8
MOTD = "written by the host before the boot"
CMDLINE = (
    "earlyprintk=ttyS0 console=ttyS0 console=hvc0 noxsave "
    f"clearcpuid={lb.CLEARCPUID} nokaslr panic=-1 tsc=reliable "
    "no_timer_check lpj=4000000 mitigations=off "
    f"ip={GUEST_IP}::{HOST_IP}:255.255.255.0::eth0:off rootdelay=15 "
    "root=/dev/vda rw "
    f"netconsole=6665@{GUEST_IP}/eth0,{NETCONSOLE_PORT}@{HOST_IP}/")
BOOT_TIMEOUT = int(os.environ.get("XENON_LINUX_TIMEOUT", "600"))

# The UDP receiver for netconsole, run inside the namespace.
RECEIVER = f"""
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", {NETCONSOLE_PORT}))
out = open(sys.argv[1], "ab", buffering=0)
while True:
    out.write(s.recvfrom(65536)[0])
"""


def sh(*args, check=True):
    return subprocess.run(args, check=check, capture_output=True, text=True)


def in_ns(*args):
    return ["ip", "netns", "exec", NETNS, *args]


def wait_for(path, text, proc, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and text in path.read_text(errors="replace"):
            return True
        if proc.poll() is not None:
            return False
        time.sleep(0.5)
    return False


@pytest.fixture(scope="module")
def boot(tmp_path_factory):
    """Boot once; returns the record of what was seen."""
    if not KERNEL.exists():
        subprocess.run([str(lb.REPO / "scripts" / "build-linux-virtio-kernel.sh"),
                        str(KERNEL_DIR)], check=True)
    if not shutil.which("mke2fs"):
        pytest.skip("mke2fs (e2fsprogs) is not installed")
    tmp = tmp_path_factory.mktemp("linux-virtio")
    root = tmp / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "motd").write_text(MOTD + "\n")
    disk = tmp / "root.ext2"
    sh("mke2fs", "-q", "-t", "ext2", "-d", str(root), str(disk), f"{DISK_MIB}M")
    rec = {"serial": tmp / "serial.log", "hvc0": tmp / "hvc0.log",
           "netconsole": tmp / "netconsole.log", "ping": None}
    sh("ip", "netns", "add", NETNS)
    receiver = vmm = None
    try:
        vmm = subprocess.Popen(in_ns(
            str(lb.VMM), "--kernel", str(KERNEL), "--memory", "256",
            "--serial", f"file:{rec['serial']}",
            "--vconsole", f"file:{rec['hvc0']}",
            "--disk", f"format=raw, vdev=xvda, access=rw, target={disk}",
            "--vif", f"mac={MAC}, vifname={TAP}", "--cmdline", CMDLINE),
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 10
        while sh(*in_ns("ip", "link", "show", TAP), check=False).returncode:
            assert vmm.poll() is None and time.monotonic() < deadline, \
                vmm.stderr.read() if vmm.poll() is not None else "no TAP"
            time.sleep(0.05)
        sh(*in_ns("ip", "addr", "add", f"{HOST_IP}/24", "dev", TAP))
        sh(*in_ns("ip", "link", "set", TAP, "up"))
        receiver = subprocess.Popen(in_ns(sys.executable, "-c", RECEIVER,
                                          str(rec["netconsole"])))
        # the kernel waits rootdelay seconds with eth0 configured: ping it
        if wait_for(rec["serial"], "Waiting 15 sec before mounting root",
                    vmm, BOOT_TIMEOUT):
            rec["ping"] = sh(*in_ns("ping", "-c", "3", "-W", "5", GUEST_IP),
                             check=False)
        try:
            rec["status"] = vmm.wait(timeout=BOOT_TIMEOUT)
        except subprocess.TimeoutExpired:
            vmm.kill()
            rec["status"] = vmm.wait()
        rec["stderr"] = vmm.stderr.read()
        time.sleep(0.5)                    # the last datagrams
    finally:
        for p in (receiver, vmm):
            if p and p.poll() is None:
                p.kill()
                p.wait()
        sh("ip", "netns", "del", NETNS, check=False)
    rec["disk"] = disk
    for key in ("serial", "hvc0", "netconsole"):
        path = rec[key]
        rec[key] = path.read_text(errors="replace") if path.exists() else ""
    return rec


def test_kernel_boots_and_ends_as_expected(boot):
    # no init on the root fs: panic, then reboot (panic=-1) -> status 3
    assert "No working init found" in boot["serial"], boot["serial"][-3000:]
    assert boot["status"] == 3, boot["stderr"][-3000:]


def test_virtio_console_carries_the_log(boot):
    assert "printk: console [hvc0] enabled" in boot["serial"]
    # what the kernel printed after hvc0 came up is in the file as well
    assert "No working init found" in boot["hvc0"], boot["hvc0"][-2000:]


def test_virtio_blk_disk_and_root_fs(boot):
    sectors = DISK_MIB * 2048
    assert re.search(rf"virtio_blk virtio\d+: \[vda\] {sectors} 512-byte "
                     r"logical blocks", boot["serial"]), boot["serial"][-4000:]
    assert "VFS: Mounted root (ext2 filesystem) on device" in boot["serial"]
    # it looked for init on it: directory lookups read the disk
    assert "Run /sbin/init as init process" in boot["serial"]
    out = sh("debugfs", "-R", "cat /etc/motd", str(boot["disk"]), check=False)
    assert MOTD in out.stdout                 # the image is still sound


def test_virtio_net_configured_and_answers_ping(boot):
    assert "IP-Config: Complete:" in boot["serial"]
    assert f"device=eth0, hwaddr={MAC}, ipaddr={GUEST_IP}" in boot["serial"]
    assert boot["ping"] is not None, "the kernel never waited for root"
    assert boot["ping"].returncode == 0, boot["ping"].stdout + boot["ping"].stderr
    assert " 0% packet loss" in boot["ping"].stdout


def test_netconsole_sends_the_log_over_virtio_net(boot):
    got = boot["netconsole"]
    assert "netconsole: network logging started" in got or "Linux version" in got
    assert "VFS: Mounted root (ext2 filesystem)" in got, got[-2000:]


# ---- the same kernel and devices across a live migration (issue 6) ----------
#
# Two "hosts", namespaces A and B, each with a bridge, joined by a veth
# pair; the host address the guest talks to is on A's bridge.  The kernel
# boots in A, configures eth0 and waits (rootdelay); it is pinged, then
# live-migrated to a xenon-vmm --incoming in B (over the same veth), whose
# TAP is put on B's bridge; then it must answer pings from B's side of the
# wire, and after the delay mount its root file system from the disk and
# keep sending its log by netconsole -- Linux's virtio-net and virtio-blk
# drivers carrying on across the move.

NS_A, NS_B = f"xenon-lxa-{os.getpid()}", f"xenon-lxb-{os.getpid()}"
DST_IP = "10.231.0.3"
KEY = "linux virtio migration key"
MIG_PORT = 8011
MIG_CMDLINE = CMDLINE.replace("rootdelay=15", "rootdelay=40")


def ns(name, *args):
    return ["ip", "netns", "exec", name, *args]


def two_hosts():
    sh("ip", "netns", "add", NS_A)
    sh("ip", "netns", "add", NS_B)
    sh("ip", "link", "add", "mva", "netns", NS_A, "type", "veth", "peer",
       "name", "mvb", "netns", NS_B)
    for name, veth, br, ip in ((NS_A, "mva", "bra", HOST_IP),
                               (NS_B, "mvb", "brb", DST_IP)):
        sh(*ns(name, "ip", "link", "add", br, "type", "bridge"))
        sh(*ns(name, "ip", "link", "set", veth, "master", br, "up"))
        sh(*ns(name, "ip", "addr", "add", f"{ip}/24", "dev", br))
        sh(*ns(name, "ip", "link", "set", br, "up"))
        sh(*ns(name, "ip", "link", "set", "lo", "up"))


def enslave_tap(name, bridge, proc, timeout=60):
    deadline = time.monotonic() + timeout
    while sh(*ns(name, "ip", "link", "show", TAP), check=False).returncode:
        assert proc.poll() is None and time.monotonic() < deadline, \
            f"no TAP {TAP} in {name}: " + (proc.stderr.read()
                                           if proc.poll() is not None else "")
        time.sleep(0.02)
    sh(*ns(name, "ip", "link", "set", TAP, "master", bridge, "up"))


@pytest.fixture(scope="module")
def migrated(tmp_path_factory, boot):     # after the plain boot: one at a time
    sys.path.insert(0, str(lb.REPO / "tests" / "system"))
    from control_socket import request as control
    tmp = tmp_path_factory.mktemp("linux-virtio-migrate")
    disk = tmp / "root.ext2"
    shutil.copy(boot["disk"], disk)
    key = tmp / "key"
    key.write_text(KEY)
    logs = {k: tmp / f"{k}.log" for k in ("src", "dst", "src_hvc0",
                                           "dst_hvc0", "netconsole")}
    rec = {}
    two_hosts()
    procs = []
    try:
        dst = subprocess.Popen(ns(NS_B, str(lb.VMM), "--incoming",
                                  f"tcp:{DST_IP}:{MIG_PORT}",
                                  "--incoming-key-file", str(key),
                                  "--serial", f"file:{logs['dst']}",
                                  "--vconsole", f"file:{logs['dst_hvc0']}"),
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               text=True)
        procs.append(dst)
        src = subprocess.Popen(ns(
            NS_A, str(lb.VMM), "--kernel", str(KERNEL), "--memory", "256",
            "--serial", f"file:{logs['src']}",
            "--vconsole", f"file:{logs['src_hvc0']}",
            "--control", str(tmp / "src.sock"),
            "--disk", f"format=raw, vdev=xvda, access=rw, target={disk}",
            "--vif", f"mac={MAC}, vifname={TAP}", "--cmdline", MIG_CMDLINE),
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        procs.append(src)
        enslave_tap(NS_A, "bra", src)
        procs.append(subprocess.Popen(ns(NS_A, sys.executable, "-c", RECEIVER,
                                         str(logs["netconsole"]))))
        assert wait_for(logs["src"], "Waiting 40 sec before mounting root",
                        src, BOOT_TIMEOUT), src.stderr.read()
        rec["ping_before"] = sh(*ns(NS_A, "ping", "-c", "2", "-W", "5",
                                    GUEST_IP), check=False)
        rec["reply"] = control(tmp / "src.sock", {
            "cmd": "migrate-send", "address": f"{DST_IP}:{MIG_PORT}",
            "key": KEY, "live": True})
        rec["src_status"] = src.wait(timeout=60)
        enslave_tap(NS_B, "brb", dst)
        rec["ping_after"] = sh(*ns(NS_A, "ping", "-c", "3", "-W", "5",
                                   GUEST_IP), check=False)
        try:
            rec["dst_status"] = dst.wait(timeout=BOOT_TIMEOUT)
        except subprocess.TimeoutExpired:
            rec["dst_status"] = None
        rec["dst_stderr"] = dst.stderr.read() if dst.poll() is not None else ""
        time.sleep(0.5)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        for name in (NS_A, NS_B):
            sh("ip", "netns", "del", name, check=False)
    for k, path in logs.items():
        rec[k] = path.read_text(errors="replace") if path.exists() else ""
    return rec


def test_live_migration_moves_the_running_linux(migrated):
    assert migrated["ping_before"].returncode == 0, migrated["ping_before"].stdout
    assert migrated["reply"].get("ok"), migrated["reply"]
    assert migrated["src_status"] == 7              # migrated away
    # the root file system was mounted at the destination, after the move
    assert "VFS: Mounted root (ext2 filesystem)" not in migrated["src"]
    assert "VFS: Mounted root (ext2 filesystem)" in migrated["dst"], \
        migrated["dst"][-3000:] + migrated["dst_stderr"][-2000:]
    assert migrated["dst_status"] == 3, migrated["dst_stderr"][-2000:]


def test_virtio_net_answers_at_the_destination(migrated):
    out = migrated["ping_after"]
    assert out.returncode == 0 and " 0% packet loss" in out.stdout, \
        out.stdout + out.stderr


def test_virtio_console_and_netconsole_carry_on(migrated):
    # hvc0 output continues into the destination's --vconsole file, and
    # netconsole datagrams keep coming from the destination
    assert "No working init found" in migrated["dst_hvc0"]
    assert "VFS: Mounted root (ext2 filesystem)" in migrated["netconsole"]
