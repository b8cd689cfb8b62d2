"""Malformed wire input and misbehaving clients: the offender gets an
error or is disconnected, the daemon never crashes and others carry on."""
import random
import socket
import struct
import time

from test_xenstore_helpers import (HDR, TYPES, Client,  # noqa: F401
                                   expect_error, xenond, xenond_factory)


def raw(xenond):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(str(xenond.sock))
    return s


def closed_by_peer(s, timeout=5.0):
    """True once the daemon has closed s (replies before that ignored)."""
    s.settimeout(timeout)
    try:
        while s.recv(65536):
            pass
        return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False


def healthy(xenond):
    with xenond.client() as c:
        c.write("/health", "ok")
        assert c.read("/health") == b"ok"
    assert xenond.alive()


def test_oversized_payload_closes_connection(xenond):
    with xenond.client() as bystander:
        s = raw(xenond)
        s.sendall(HDR.pack(TYPES["WRITE"], 1, 0, 4097) + b"x" * 100)
        assert closed_by_peer(s)
        s.close()
        s = raw(xenond)
        s.sendall(HDR.pack(TYPES["READ"], 1, 0, 0xffffffff))
        assert closed_by_peer(s)
        s.close()
        bystander.write("/bystander", "fine")
    assert "payload" in xenond.log()
    healthy(xenond)


def test_unknown_type_gets_enosys(xenond):
    with xenond.client() as c:
        for t in (999, TYPES["WATCH_EVENT"], TYPES["ERROR"], 0xffff, 23):
            rid = c.send(t, b"")
            expect_error("ENOSYS", c.reply, rid)
        # still usable afterwards
        assert c.read("/local/domain/0/domid") == b"0"


def test_bad_payloads_get_einval(xenond):
    with xenond.client() as c:
        expect_error("EINVAL", c.call, "READ", b"/no-nul")
        expect_error("EINVAL", c.call, "READ", b"/a\0/b\0")
        expect_error("EINVAL", c.call, "READ", b"")
        expect_error("EINVAL", c.call, "WRITE", b"/x")
        expect_error("EINVAL", c.call, "WATCH", b"/x\0")
        expect_error("EINVAL", c.call, "SET_PERMS", b"/x\0")
        expect_error("EINVAL", c.call, "TRANSACTION_END", b"maybe\0")
        expect_error("EINVAL", c.call, "READ", b"/bad//path\0")
        expect_error("EINVAL", c.call, "READ", b"/bad path\0")
        expect_error("EINVAL", c.call, "WRITE", b"/" + b"a" * 3100 + b"\0v")
        expect_error("ENOENT", c.call, "READ", b"/local\0", tx=12345)


def test_truncated_message_then_hangup(xenond):
    s = raw(xenond)
    s.sendall(HDR.pack(TYPES["WRITE"], 1, 0, 50) + b"/half")
    s.close()
    s = raw(xenond)
    s.sendall(b"\x02\x00")
    s.close()
    healthy(xenond)


def test_random_bytes(xenond):
    rng = random.Random(42)
    with xenond.client() as bystander:
        for i in range(60):
            s = raw(xenond)
            junk = bytes(rng.getrandbits(8) for _ in range(rng.randint(1,
                                                                        600)))
            if i % 3 == 0:      # plausible header, junk payload
                junk = HDR.pack(rng.randint(0, 30), 1, rng.choice([0, 1]),
                                len(junk)) + junk
            try:
                s.sendall(junk)
                s.settimeout(0.05)
                try:
                    s.recv(65536)
                except (socket.timeout, ConnectionResetError):
                    pass
            finally:
                s.close()
            if i % 10 == 0:
                bystander.write("/rand", str(i))
    healthy(xenond)
    with xenond.client() as c:
        assert c.control("check").startswith(b"OK")


def test_slow_watcher_does_not_block_others(xenond_factory):
    d = xenond_factory("--xenstore-quota", "queue-bytes=65536")
    slow = Client(d.sock)
    slow.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    slow.watch("/flood", "slow")
    with d.client() as fast, d.client() as writer:
        fast.watch("/flood", "fast")
        fast.drain_events(0.1)
        start = time.monotonic()
        for i in range(3000):
            writer.write("/flood/k", "x" * 200 + str(i))
            if i % 100 == 0:
                fast.drain_events(0)
        elapsed = time.monotonic() - start
        fast.drain_events(0.2)
        # the writer was never held up by the watcher that does not read
        assert elapsed < 30
        assert writer.read("/flood/k").endswith(b"2999")
    # the non-reading watcher was cut off rather than buffered forever
    assert closed_by_peer(slow.sock)
    slow.close()
    assert "output queue full" in d.log()
    healthy(d)


def test_client_that_never_reads_replies(xenond_factory):
    """A client pipelining requests without reading replies is simply not
    served further (backpressure); others are unaffected."""
    d = xenond_factory()
    s = raw(d)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.settimeout(0.5)
    msg = HDR.pack(TYPES["READ"], 1, 0, 22) + b"/local/domain/0/domid\0"
    sent = 0
    try:
        while sent < 200000:
            s.send(msg * 64)
            sent += 64
    except (socket.timeout, BlockingIOError):
        pass
    healthy(d)
    s.close()
    healthy(d)
