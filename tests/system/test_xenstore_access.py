"""Permissions, watches, domains and quotas over the real socket, with
unprivileged connections made by XS_RESTRICT (see test_xenstore_helpers)."""
import subprocess
import time

from test_xenstore_helpers import (TYPES, XsError, expect_error,  # noqa: F401
                                   xenond, xenond_factory)


def setup_domain(c0, domid):
    """/local/domain/<domid> as a toolstack makes it: owned by the guest."""
    c0.mkdir(f"/local/domain/{domid}")
    c0.set_perms(f"/local/domain/{domid}", f"n{domid}", "r0")


def test_domu_permissions(xenond):
    with xenond.client() as c0, xenond.client(domid=5) as d5:
        c0.write("/secret/key", "s")
        expect_error("EACCES", d5.read, "/secret/key")
        # no hint whether something exists where one may not look
        expect_error("EACCES", d5.read, "/secret/missing")
        expect_error("EACCES", d5.write, "/secret/key", "x")
        expect_error("EACCES", d5.ls, "/local/domain/0")
        c0.set_perms("/secret", "n0", "r5")
        c0.set_perms("/secret/key", "n0", "r5")
        assert d5.read("/secret/key") == b"s"
        expect_error("ENOENT", d5.read, "/secret/missing")
        expect_error("EACCES", d5.write, "/secret/key", "x")
        # relative paths are the domain's own
        setup_domain(c0, 5)
        d5.write("device/vif/0/state", "1")
        assert c0.read("/local/domain/5/device/vif/0/state") == b"1"
        assert c0.get_perms("/local/domain/5/device") == ["n5", "r0"]
        # owners change perms but cannot give nodes away; non-owners cannot
        d5.set_perms("device", "n5", "r7")
        expect_error("EPERM", d5.set_perms, "device", "n7")
        expect_error("EACCES", d5.set_perms, "/secret/key", "n5")
        # dom0-only requests
        expect_error("EACCES", d5.introduce, 9)
        expect_error("EACCES", d5.control, "help")
        assert d5.call("GET_DOMAIN_PATH", "5\0") == b"/local/domain/5\0"


def test_watch_events_follow_permissions(xenond):
    with xenond.client() as c0, xenond.client(domid=5) as d5:
        setup_domain(c0, 5)
        d5.watch("/", "root")
        assert d5.wait_event() == ("/", "root")
        c0.write("/private", "x")
        c0.write("/local/domain/5/data", "y")
        # only what dom5 may read (its own subtree) reaches it
        assert d5.wait_event() == ("/local/domain/5/data", "root")
        assert d5.wait_event(0.3) is None


def test_relative_watch_events(xenond):
    with xenond.client() as c0, xenond.client(domid=3) as d3:
        setup_domain(c0, 3)
        d3.watch("backend-state", "tok")
        assert d3.wait_event() == ("backend-state", "tok")
        c0.write("/local/domain/3/backend-state/x", "4")
        assert d3.wait_event() == ("backend-state/x", "tok")


def test_special_watches_and_release(xenond):
    with xenond.client() as c0, xenond.client() as w, \
            xenond.client(domid=7) as d7:
        w.watch("@introduceDomain", "in")
        w.watch("@releaseDomain", "out")
        w.drain_events()
        c0.introduce(7)
        assert w.wait_event() == ("@introduceDomain", "in")
        assert c0.call("IS_DOMAIN_INTRODUCED", "7\0") == b"T\0"
        setup_domain(c0, 7)
        d7.watch("x", "mine")
        assert d7.wait_event() == ("x", "mine")
        c0.release(7)
        assert w.wait_event() == ("@releaseDomain", "out")
        assert c0.call("IS_DOMAIN_INTRODUCED", "7\0") == b"F\0"
        # the released domain's watches are gone
        c0.write("/local/domain/7/x", "1")
        assert d7.wait_event(0.3) is None
        expect_error("ENOENT", c0.release, 7)
        expect_error("EINVAL", c0.release, 0)


def test_watch_with_tools_and_clients_together(xenond):
    """A python watcher and xenstore-write: events carry the token."""
    with xenond.client() as w:
        w.watch("/mix", "token-1")
        assert w.wait_event() == ("/mix", "token-1")
        xenond.tool("write", "/mix/a", "1")
        assert w.wait_event() == ("/mix/a", "token-1")
        w.unwatch("/mix", "token-1")
        expect_error("ENOENT", w.unwatch, "/mix", "token-1")
        xenond.tool("write", "/mix/b", "1")
        assert w.wait_event(0.3) is None


def test_control(xenond):
    with xenond.client() as c0:
        assert b"print" in c0.control("help")
        assert c0.control("print", "hello from the tests") == b"OK\0"
        assert c0.control("check").startswith(b"OK")
        assert b"nodes=1000" in c0.control("quota")
        expect_error("EINVAL", c0.control, "no-such-command")
    assert "hello from the tests" in xenond.log()


def test_quotas(xenond_factory):
    d = xenond_factory("--xenstore-quota", "nodes=20",
                       "--xenstore-quota", "watches=3",
                       "--xenstore-quota", "transactions=2",
                       "--xenstore-quota", "value-size=100")
    with d.client() as c0, d.client(domid=4) as d4:
        setup_domain(c0, 4)
        assert b"nodes=20" in c0.control("quota")
        # nodes: the domain owns its directory plus what it creates
        made = 0
        try:
            for i in range(100):
                d4.write(f"n{i}", "v")
                made += 1
        except XsError as e:
            assert e.name == "ENOSPC"
        assert made == 19
        # value size
        expect_error("ENOSPC", d4.write, "n0", "x" * 101)
        d4.write("n0", "x" * 100)
        # watches
        for i in range(3):
            d4.watch("n0", f"t{i}")
        expect_error("E2BIG", d4.watch, "n0", "t3")
        # transactions
        d4.tx_start()
        d4.tx_start()
        expect_error("ENOSPC", d4.tx_start)
        # everyone else is unaffected, and dom0 has no quota
        for i in range(50):
            c0.write(f"/dom0/k{i}", "v" * 500)
        xenond_ok = d.tool("read", "/dom0/k49").stdout
        assert xenond_ok == "v" * 500 + "\n"
        # freeing nodes frees quota
        d4.rm("n1")
        d4.write("again", "v")


def test_bad_quota_option(xenond_factory, tmp_path):
    d = xenond_factory()
    proc = subprocess.run([d.path, "--foreground", "--xenstore-quota",
                           "frogs=3", "--state-dir", str(tmp_path / "x")],
                          capture_output=True, text=True, timeout=10)
    assert proc.returncode == 1
    assert "unknown quota 'frogs'" in proc.stderr


def test_many_clients(xenond):
    clients = [xenond.client() for _ in range(200)]
    try:
        for i, c in enumerate(clients):
            c.write(f"/clients/c{i}", str(i))
        for i, c in enumerate(clients):
            assert c.read(f"/clients/c{(i + 1) % 200}") == \
                str((i + 1) % 200).encode()
    finally:
        for c in clients:
            c.close()
    time.sleep(0.1)
    assert xenond.alive()
