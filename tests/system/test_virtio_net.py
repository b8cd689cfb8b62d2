"""virtio-net on real TAP devices, end to end through network namespaces:
the test guest answers ARP and ping, echoes UDP, streams datagrams both
ways with sequence numbers and CRCs, honours rate=, and survives hostile
descriptor chains.  Bad --vif specs fail before the guest starts."""
import fcntl
import os
import re
import struct
import subprocess
import time

import pytest

from conftest import EXIT_ERROR, EXIT_POWEROFF, result_line, wait_for_line
from net_helpers import (GUEST_IP, HOST_IP, STREAM_END, NetNS,
                         check_stream_datagram, finish, start_domain,
                         stream_payload, wait_ready)

MAC = "00:16:3e:5a:00:01"
VIF = f"mac={MAC},vifname=xv0"


@pytest.fixture
def netns():
    ns = NetNS()
    try:
        yield ns
    finally:
        ns.close()


def guest_mac(stdout):
    m = re.search(r"xenon-guest: net mac=([0-9a-f:]{17}) ", stdout)
    assert m, stdout
    return m.group(1)


def test_ping_arp_and_udp_echo(vmm, netns):
    proc = start_domain(netns, vmm, "test=net-echo timeout=30", VIF)
    early = "\n".join(wait_ready(proc))
    ping = netns.run("ping", "-c", "3", "-i", "0.2", "-W", "2", GUEST_IP)
    assert ping.returncode == 0, ping.stdout + ping.stderr
    assert "3 received" in ping.stdout
    neigh = netns.ip("neigh", "show", GUEST_IP).stdout
    assert MAC in neigh, neigh

    s = netns.udp_socket()
    s.settimeout(5)
    payloads = [b"x", bytes(range(256)) * 2, os.urandom(1400), os.urandom(1472)]
    for p in payloads:
        s.sendto(p, (GUEST_IP, 7))
        data, addr = s.recvfrom(4096)
        assert data == p and addr == (GUEST_IP, 7)
    s.sendto(b"quit", (GUEST_IP, 7))
    assert s.recvfrom(64)[0] == b"quit"
    s.close()

    rc, out, err = finish(proc, vmm)
    assert rc == EXIT_POWEROFF, err
    res = result_line(out, "net-echo")
    assert res["status"] == "pass", out
    assert int(res["icmp"]) >= 3 and int(res["udp"]) == len(payloads) + 1
    assert int(res["arp"]) >= 1 and res["bad"] == "0"
    assert guest_mac(early) == MAC
    assert f"virtio-net {MAC} on TAP xv0" in err


@pytest.mark.parametrize("gso", ["1", "0"], ids=["uso", "plain"])
def test_stream_guest_to_host(vmm, netns, gso):
    """With gso=1 the guest hands the device 63000-byte frames of 45
    datagrams (VIRTIO_NET_F_HOST_USO) and the host's stack cuts them up;
    the host must still see every datagram, in order."""
    count, size = 2000, 1400
    rx = netns.udp_socket(5001, rcvbuf=32 << 20)
    rx.settimeout(20)
    proc = start_domain(netns, vmm, f"test=net-stream peer={HOST_IP}:5001 "
                        f"count={count} size={size} gso={gso}", VIF)
    seqs, bad = [], 0
    while True:
        data, addr = rx.recvfrom(4096)
        kind, seq = check_stream_datagram(data)
        if kind == "end":
            break
        assert addr == (GUEST_IP, 5001)
        assert len(data) == size
        bad += kind == "bad"
        seqs.append(seq)
    rx.close()
    assert bad == 0
    assert seqs == list(range(count)), "datagrams lost or out of order"
    rc, out, err = finish(proc, vmm)
    assert rc == EXIT_POWEROFF, err
    res = result_line(out, "net-stream")
    assert res["status"] == "pass" and res["pkts"] == str(count), out
    if gso == "1":
        assert res["gso"] == str(63000 // size) and int(res["frames"]) < count / 40
    else:
        assert res["gso"] == "1" and res["frames"] == str(count)


UDP_SEGMENT = 103


@pytest.mark.parametrize("gso", [False, True], ids=["plain", "udp-segment"])
def test_stream_host_to_guest(vmm, netns, gso):
    """With UDP_SEGMENT the host sends 40-datagram super-packets; the
    guest took GUEST_USO4/6, so the TAP passes them whole (TUNSETOFFLOAD)
    in mergeable buffers and the guest cuts them up itself."""
    import socket
    count, size, per = 2000, 1200, 40
    s = netns.udp_socket(5002)
    s.settimeout(20)
    proc = start_domain(netns, vmm, f"test=net-stream dir=rx "
                        f"peer={HOST_IP}:5002", VIF)
    data, peer = s.recvfrom(64)      # the guest says it is ready
    assert data[:4] == b"XNSR" and peer == (GUEST_IP, 5002)
    if gso:
        s.setsockopt(socket.SOL_UDP, UDP_SEGMENT, size)
        for seq in range(0, count, per):
            s.sendto(b"".join(stream_payload(q, size)
                              for q in range(seq, seq + per)), peer)
        s.setsockopt(socket.SOL_UDP, UDP_SEGMENT, 0)
    else:
        for seq in range(count):
            s.sendto(stream_payload(seq, size), peer)
    end = struct.pack(">III", STREAM_END, count, 0)
    while proc.poll() is None:       # until the guest has it
        try:
            s.sendto(end, peer)
        except OSError:
            break                    # the TAP went with the monitor
        time.sleep(0.05)
    s.close()
    rc, out, err = finish(proc, vmm)
    assert rc == EXIT_POWEROFF, err
    res = result_line(out, "net-stream")
    assert res["status"] == "pass", out
    assert res["bad"] == "0" and res["reordered"] == "0"
    # txqueuelen 10000 and backpressure: nothing may be lost.
    assert res["got"] == str(count) and res["lost"] == "0", out
    if gso:
        assert int(res["gso-frames"]) == count // per, out
    else:
        assert res["gso-frames"] == "0", out


def test_generated_mac_in_xen_oui(vmm, netns):
    """No mac=: 00:16:3e plus a hash of the UUID and devid, so the same
    --uuid gives the same MAC; no vifname=: the kernel's xenon-tapN."""
    uuid = "4a8f1c2e-1111-2222-3333-444455556666"
    macs = []
    for devid in ("0", "0", "1"):
        proc = netns.popen(vmm.cmd("--vif", f"devid={devid}", "--uuid", uuid,
                                   cmdline="test=net-echo timeout=0"),
                           env=vmm.env)
        rc, out, err = finish(proc, vmm)
        assert "on TAP xenon-tap0" in err
        macs.append(guest_mac(out))
        assert f"virtio-net {macs[-1]} on TAP" in err
    assert all(m.startswith("00:16:3e:") for m in macs), macs
    assert macs[0] == macs[1] != macs[2]


def test_rate_limit_caps_guest_transmit(vmm, netns):
    """rate=2Mb/s is 250 kB/s: 500 kB of frames cannot leave in much
    less than 2 s (the bucket lets one 64 KiB burst through)."""
    count, size = 480, 1000
    rx = netns.udp_socket(5003, rcvbuf=8 << 20)
    rx.settimeout(30)
    proc = start_domain(netns, vmm, f"test=net-stream peer={HOST_IP}:5003 "
                        f"count={count} size={size} timeout=60",
                        VIF + ",rate=2Mb/s")
    got = 0
    t0 = t1 = None
    while True:
        data, _ = rx.recvfrom(4096)
        kind, _ = check_stream_datagram(data)
        if kind == "end":
            break
        assert kind == "data"
        t1 = time.monotonic()
        t0 = t0 or t1
        got += 1
    rx.close()
    rc, out, err = finish(proc, vmm, timeout=60)
    assert rc == EXIT_POWEROFF, err
    res = result_line(out, "net-stream")
    assert res["status"] == "pass" and got == count
    frame_bytes = count * (size + 42)
    ideal_s = frame_bytes / 250000
    guest_s = int(res["us"]) / 1e6
    assert guest_s >= 0.7 * ideal_s, (guest_s, ideal_s)
    assert t1 - t0 >= 0.6 * ideal_s, (t1 - t0, ideal_s)
    assert guest_s < 4 * ideal_s, "limited far below the configured rate"


def run_bad_vif(vmm, netns, *args):
    proc = netns.popen(vmm.cmd(*args, cmdline="test=boot"), env=vmm.env)
    rc, out, err = finish(proc, vmm)
    assert rc == EXIT_ERROR, (rc, err)
    assert "xenon-guest" not in out, "the guest started anyway"
    return err


@pytest.mark.parametrize("spec,message", [
    ("mac=00:16:3e:zz:00:01", "vif[0]: 'mac=00:16:3e:zz:00:01': bad MAC address"),
    ("mac=01:16:3e:00:00:01", "is a multicast address"),
    ("vifname=averyveryverylongname", "bad vifname 'averyveryverylongname'"),
    ("rate=fast", "bad rate 'fast'"),
    ("frobnicate=1", "unknown option 'frobnicate'"),
    ("vifname=lo", "interface lo exists but is not a single-queue TAP device"),
])
def test_bad_vif_spec(vmm, netns, spec, message):
    err = run_bad_vif(vmm, netns, "--vif", spec)
    assert message in err, err


def test_bad_uuid(vmm, netns):
    err = run_bad_vif(vmm, netns, "--uuid", "not-a-uuid", "--vif", "")
    assert "--uuid: 'not-a-uuid' is not a UUID" in err


TUNSETIFF = 0x400454CA
IFF_TAP, IFF_NO_PI = 0x0002, 0x1000


def test_busy_tap(vmm, netns):
    """A TAP another process has open is refused by name, not stolen."""
    with netns.entered():
        fd = os.open("/dev/net/tun", os.O_RDWR)
    try:
        ifr = struct.pack("16sH", b"xbusy0", IFF_TAP | IFF_NO_PI)
        fcntl.ioctl(fd, TUNSETIFF, ifr)
        err = run_bad_vif(vmm, netns, "--vif", "vifname=xbusy0")
        assert "vif[0]: 'vifname=xbusy0': TAP device xbusy0 is busy" in err
    finally:
        os.close(fd)


def test_existing_tap_opened_and_moved(vmm, netns):
    """A persistent TAP made beforehand (as the daemon would) is opened,
    not re-created; moving it to another namespace after the monitor has
    it open keeps the link working (the descriptor follows the device)."""
    netns.ip("tuntap", "add", "dev", "xv0", "mode", "tap", "vnet_hdr")
    other = NetNS()
    try:
        proc = start_domain(netns, vmm, "test=net-echo timeout=30", VIF,
                            host=False)
        wait_ready(proc)
        netns.ip("link", "set", "xv0", "netns", other.name)
        other.host_side("xv0")
        ping = other.run("ping", "-c", "2", "-i", "0.2", "-W", "2", GUEST_IP)
        assert ping.returncode == 0, ping.stdout + ping.stderr
        s = other.udp_socket()
        s.settimeout(5)
        s.sendto(b"quit", (GUEST_IP, 7))
        assert s.recvfrom(64)[0] == b"quit"
        s.close()
        rc, out, err = finish(proc, vmm)
        assert rc == EXIT_POWEROFF, err
        assert "TAP xv0" in err
        assert result_line(out, "net-echo")["status"] == "pass"
        # Persistent: it outlives the monitor.
        assert other.link_exists("xv0")
    finally:
        other.close()


def test_malformed_descriptors_leave_monitor_running(vmm, netns):
    proc = start_domain(netns, vmm, f"test=net-bad peer={HOST_IP}:9", VIF)
    rc, out, err = finish(proc, vmm)
    assert rc == EXIT_POWEROFF, err
    res = result_line(out, "net-bad")
    assert res["status"] == "pass", out
    assert res["broken"] == res["cases"] and int(res["cases"]) >= 6
    assert res["recovered"] == "yes"
    assert "virtio-net[0]:" in err and "device needs reset" in err


def test_bridge_and_mtu(vmm, netns):
    """bridge= names an existing Linux bridge: the TAP joins it; mtu= is
    set on the TAP.  A name that is not a bridge is refused."""
    netns.ip("link", "add", "xbr0", "type", "bridge")
    proc = start_domain(netns, vmm, "test=net-echo timeout=30",
                        VIF + ",bridge=xbr0,mtu=1400", host=False)
    wait_ready(proc)
    link = netns.ip("-o", "link", "show", "xv0").stdout
    assert "master xbr0" in link and "mtu 1400" in link, link
    proc.kill()
    _, _, err = finish(proc, vmm)
    assert "xv0 attached to bridge xbr0" in err

    err = run_bad_vif(vmm, netns, "--vif", "vifname=xv1,bridge=lo")
    assert "bridge=lo: lo is not a Linux bridge" in err
