"""Network namespaces, TAP set-up and the UDP stream format for the
virtio-net system tests and bench/net.sh.

Each test gets a namespace of its own; the monitor runs inside it (so the
TAP it opens or creates lives there), the host side of the link gets
10.0.0.1/24, the guest 10.0.0.2/24.  Sockets are opened in the namespace
from this process by switching the calling thread's network namespace
(setns), which leaves them working after switching back.
"""
import contextlib
import ctypes
import itertools
import os
import struct
import subprocess
import time
import zlib

from conftest import wait_for_line

HOST_IP, GUEST_IP = "10.0.0.1", "10.0.0.2"
CLONE_NEWNET = 0x40000000
STREAM_DATA, STREAM_END, STREAM_READY = 0x584E5331, 0x584E5345, 0x584E5352
PATTERN = bytes((i * 13 + 7) & 255 for i in range(2048 + 256))

_libc = ctypes.CDLL(None, use_errno=True)
_counter = itertools.count()


def _setns(fd):
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


class NetNS:
    """A throw-away network namespace and the processes started in it."""

    def __init__(self, name=None):
        self.name = name or f"xenon-t{os.getpid()}-{next(_counter)}"
        self.procs = []
        subprocess.run(["ip", "netns", "add", self.name], check=True)
        self.ip("link", "set", "lo", "up")

    def ip(self, *args, check=True):
        return subprocess.run(["ip", "-n", self.name, *args], check=check,
                              capture_output=True, text=True)

    def run(self, *cmd, check=False, timeout=30):
        return subprocess.run(["ip", "netns", "exec", self.name, *cmd],
                              capture_output=True, text=True, check=check,
                              timeout=timeout)

    def popen(self, argv, env=None):
        proc = subprocess.Popen(["ip", "netns", "exec", self.name, *argv],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=env)
        self.procs.append(proc)
        return proc

    @contextlib.contextmanager
    def entered(self):
        """Run the with-block in this namespace (this thread only)."""
        here = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        there = os.open(f"/run/netns/{self.name}", os.O_RDONLY)
        try:
            _setns(there)
            try:
                yield
            finally:
                _setns(here)
        finally:
            os.close(here)
            os.close(there)

    def udp_socket(self, port=0, rcvbuf=None):
        import socket
        with self.entered():
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        if rcvbuf:
            s.setsockopt(socket.SOL_SOCKET, 33, rcvbuf)  # SO_RCVBUFFORCE
        s.bind(("", port))
        return s

    def link_exists(self, ifname):
        return self.ip("link", "show", ifname, check=False).returncode == 0

    def wait_link(self, ifname, proc=None, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.link_exists(ifname):
                return
            if proc is not None and proc.poll() is not None:
                raise AssertionError(f"monitor exited {proc.returncode}:\n"
                                     + proc.stderr.read())
            time.sleep(0.02)
        raise AssertionError(f"{ifname} never appeared in {self.name}")

    def host_side(self, ifname, addr=HOST_IP + "/24"):
        """Address and link up; a long queue so a stalled guest costs no
        frames in host -> guest streams."""
        self.ip("addr", "add", addr, "dev", ifname)
        self.ip("link", "set", ifname, "txqueuelen", "10000", "up")

    def close(self):
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            for f in (proc.stdin, proc.stdout, proc.stderr):
                if f:
                    f.close()
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True)


def start_domain(ns, vmm, cmdline, vif, *args, tap="xv0", host=True,
                 memory=64):
    """Boot the test guest with one vif inside ns; set up the host side."""
    proc = ns.popen(vmm.cmd("--vif", vif, *args, cmdline=cmdline,
                            memory=memory), env=vmm.env)
    ns.wait_link(tap, proc)
    if host:
        ns.host_side(tap)
    return proc


def wait_ready(proc, timeout=20):
    """Lines up to the guest's "net ready" (the stream is then consumed:
    the result line comes later)."""
    return wait_for_line(proc.stdout, "xenon-guest: net ready", timeout)[1]


def finish(proc, vmm, timeout=30):
    """Wait for the monitor; (returncode, stdout, stderr)."""
    out, err = proc.communicate(timeout=timeout)
    vmm.check_sanitizer(err)
    return proc.returncode, out, err


def stream_payload(seq, size):
    body = PATTERN[seq & 255:(seq & 255) + size - 12]
    return struct.pack(">III", STREAM_DATA, seq, zlib.crc32(body)) + body


def check_stream_datagram(data):
    """(kind, seq) with kind 'data', 'end' or 'bad'."""
    if len(data) < 12:
        return "bad", -1
    magic, seq, crc = struct.unpack(">III", data[:12])
    if magic == STREAM_END:
        return "end", seq
    body = data[12:]
    if (magic != STREAM_DATA or zlib.crc32(body) != crc or
            body != PATTERN[seq & 255:(seq & 255) + len(body)]):
        return "bad", seq
    return "data", seq


@contextlib.contextmanager
def two_namespaces(tag, subnet):
    """Two "hosts": network namespaces TAG+a and TAG+b joined by a veth
    pair, SUBNET.1 and SUBNET.2 (/24).  Yields a dict with the names, the
    addresses and the link in a (to cut it); skips without root/iproute2."""
    import pytest
    import shutil
    if os.geteuid() != 0 or not shutil.which("ip"):
        pytest.skip("needs root and iproute2")
    a, b = f"{tag}a", f"{tag}b"

    def ip(*args):
        subprocess.run(["ip", *args], check=True, capture_output=True)

    def remove():
        for ns in (a, b):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
    try:
        ip("netns", "add", a)
        ip("netns", "add", b)
        ip("link", "add", f"{tag}va", "netns", a, "type", "veth", "peer",
           "name", f"{tag}vb", "netns", b)
        ip("-n", a, "addr", "add", f"{subnet}.1/24", "dev", f"{tag}va")
        ip("-n", b, "addr", "add", f"{subnet}.2/24", "dev", f"{tag}vb")
        for ns, dev in ((a, f"{tag}va"), (b, f"{tag}vb")):
            ip("-n", ns, "link", "set", dev, "up")
            ip("-n", ns, "link", "set", "lo", "up")
    except subprocess.CalledProcessError as e:
        remove()
        pytest.skip(f"cannot make network namespaces: {e.stderr}")
    try:
        yield {"a": a, "b": b, "addr_a": f"{subnet}.1",
               "addr_b": f"{subnet}.2", "link_a": f"{tag}va", "ip": ip}
    finally:
        remove()

