"""Transactions over the socket: isolation, abort, and concurrent writers
retrying on EAGAIN without losing an update."""
import threading

from test_xenstore_helpers import XsError, expect_error, xenond  # noqa: F401


def test_isolation_commit_abort(xenond):
    with xenond.client() as a, xenond.client() as b:
        tx = a.tx_start()
        a.write("/tx/x", "inside", tx)
        assert a.read("/tx/x", tx) == b"inside"
        expect_error("ENOENT", b.read, "/tx/x")
        # xenstore-read in its own transaction does not see it either
        assert xenond.tool("read", "/tx/x", check=False).returncode != 0
        a.tx_end(tx)
        assert b.read("/tx/x") == b"inside"
        tx = a.tx_start()
        a.rm("/tx/x", tx)
        a.tx_end(tx, commit=False)
        assert b.read("/tx/x") == b"inside"
        expect_error("ENOENT", a.tx_end, tx)


def test_conflict_gives_eagain(xenond):
    with xenond.client() as a, xenond.client() as b:
        a.write("/c", "0")
        ta, tb = a.tx_start(), b.tx_start()
        a.read("/c", ta)
        b.read("/c", tb)
        a.write("/c", "a", ta)
        b.write("/c", "b", tb)
        a.tx_end(ta)
        expect_error("EAGAIN", b.tx_end, tb)
        assert a.read("/c") == b"a"


def test_watch_fires_on_commit_only(xenond):
    with xenond.client() as a, xenond.client() as w:
        w.watch("/txw", "t")
        w.drain_events()
        tx = a.tx_start()
        a.write("/txw/k", "1", tx)
        assert w.wait_event(0.3) is None
        a.tx_end(tx)
        assert w.wait_event() == ("/txw/k", "t")


def increment(sock_path, n, results, idx):
    from test_xenstore_helpers import Client
    retries = 0
    with Client(sock_path) as c:
        for _ in range(n):
            while True:
                tx = c.tx_start()
                value = int(c.read("/counter", tx))
                c.write("/counter", str(value + 1), tx)
                try:
                    c.tx_end(tx)
                    break
                except XsError as e:
                    assert e.name == "EAGAIN", e.name
                    retries += 1
    results[idx] = retries


def test_concurrent_counter_no_lost_update(xenond):
    """N clients x M increments of one counter, each read-modify-write in
    a transaction retried on EAGAIN: exactly N*M at the end."""
    clients, per_client = 6, 60
    with xenond.client() as c:
        c.write("/counter", "0")
    results = [None] * clients
    threads = [threading.Thread(target=increment,
                                args=(xenond.sock, per_client, results, i))
               for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert all(r is not None for r in results), "a client failed"
    with xenond.client() as c:
        assert int(c.read("/counter")) == clients * per_client
    # with this much contention some commits must have been refused
    assert sum(results) > 0


def test_concurrent_counter_with_tools(xenond):
    """The same through the tools' own transactions is at least never
    corrupted: every xenstore-write lands."""
    for i in range(20):
        xenond.tool("write", f"/toolsw/k{i}", str(i))
    assert len(xenond.tool("list", "/toolsw").stdout.split()) == 20
