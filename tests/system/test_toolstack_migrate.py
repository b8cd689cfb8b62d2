"""xm migrate between two xenonds, each in its own network namespace (two
"hosts" joined by a veth pair), with Xen's relocation port and a shared
key.  xm reaches each daemon through its UNIX socket; the daemons and their
VMMs talk TCP over the veth link."""
import os
import re

import pytest

from net_helpers import two_namespaces
from test_xenstore_helpers import _builds
from toolstack_helpers import Toolstack

PORT = 8002      # Xen's relocation port: each host has its own


def ticks(host, name):
    return [int(t) for t in re.findall(r"tick (\d+)", host.console_log(name))]


@pytest.fixture
def netns():
    with two_namespaces(f"xt{os.getpid() % 100000}", "10.252.0") as n:
        yield n


@pytest.fixture(params=_builds())
def hosts(request, tmp_path, netns):
    """hosts("a") / hosts("b"): a xenond in namespace a or b; h.addr is the
    address other hosts reach it at."""
    build, sanitized = request.param
    key = tmp_path / "key"
    key.write_text("a shared relocation secret, long enough\n")
    key.chmod(0o600)
    made = []

    def host(name, keyfile=key):
        addr = netns[f"addr_{name}"]
        (tmp_path / name).mkdir()
        h = Toolstack(build, sanitized, tmp_path / name,
                      ["--relocation-port", str(PORT),
                       "--relocation-address", addr,
                       "--relocation-key", str(keyfile)])
        h.prefix = ["ip", "netns", "exec", netns[name]]
        h.start()
        h.port, h.addr = PORT, addr
        made.append(h)
        return h

    yield host
    for h in made:
        if h.alive():
            for n in list(h.domains()):
                if n != "Domain-0":
                    h.xm("destroy", n, check=False)
            h.stop()


@pytest.mark.parametrize("mode", ["--live", "warm", "--postcopy"])
def test_migrate_moves_the_running_guest(hosts, mode):
    a, b = hosts("a"), hosts("b")
    domid = a.create("mover")
    a.wait_console("mover", "tick 2")
    uuid = a.tool("read", f"/local/domain/{domid}/vm").stdout
    args = ["migrate", "--port", b.port, "mover", b.addr]
    if mode != "warm":
        args.insert(1, mode)
    out = a.xm(*args)
    assert "downtime_us" in out.stdout
    assert "mover" not in a.domains()
    assert "mover" in b.domains()
    b.wait_console("mover", "tick")
    first = min(ticks(b, "mover"))
    b.wait_console("mover", f"tick {first + 2}")
    assert first > 2                       # it carried on, no reboot
    new = b.domains()["mover"]["domid"]
    assert b.tool("read", f"/local/domain/{new}/vm").stdout == uuid


def test_wrong_key_is_refused_and_the_source_keeps_running(hosts, tmp_path):
    other = tmp_path / "other-key"
    other.write_text("a different secret of enough length\n")
    a, b = hosts("a"), hosts("b", keyfile=other)
    a.create("stay")
    a.wait_console("stay", "tick 1")
    out = a.xm("migrate", "--port", b.port, "stay", b.addr, check=False)
    assert out.returncode == 1
    assert "keys differ" in out.stderr or "refused" in out.stderr
    n = max(ticks(a, "stay"))
    a.wait_console("stay", f"tick {n + 2}")
    assert "stay" not in b.domains()


def test_destination_down_or_name_taken(hosts):
    a, b = hosts("a"), hosts("b")
    a.create("web")
    b.create("web")                        # the name is taken there
    out = a.xm("migrate", "--port", b.port, "web", b.addr, check=False)
    assert out.returncode == 1 and "keeps running" in out.stderr
    out = a.xm("migrate", "--port", PORT + 1, "web", b.addr, check=False)
    assert out.returncode == 1 and "refused" in out.stderr.lower()
    assert "web" in a.domains() and "p" not in a.domains()["web"]["state"]
    a.wait_console("web", "tick 2")


def migrate_stats(out):
    return {k: v for k, v in (line.split(": ", 1)
                              for line in out.stdout.splitlines()
                              if ": " in line)}


def test_resource_caps_the_bandwidth(hosts):
    # Xen's --resource is in Mbit/s: 80 Mbit/s = 10 MiB/s (rounded up);
    # the guest's 8 MiB working set alone takes most of a second at that
    a, b = hosts("a"), hosts("b")
    a.create("slow", test="dirty", extra="wss_mib=8 rate_mib=1")
    a.wait_console("slow", "dirty t=")
    out = a.xm("migrate", "--live", "-r", "80", "--port", b.port, "slow",
               b.addr, timeout=60)
    stats = migrate_stats(out)
    assert int(stats["bandwidth_mib_s"]) <= 11, stats
    assert int(stats["total_us"]) >= 700_000, stats
    assert int(stats["bytes"]) >= 8 << 20, stats
    assert "slow" in b.domains() and "slow" not in a.domains()
    bad = a.xm("migrate", "-r", "0", "--port", b.port, "x", b.addr,
               check=False)
    assert bad.returncode == 2 and "--resource 0" in bad.stderr


def test_migrate_a_domain_with_a_disk(hosts, tmp_path):
    # shared storage: the same image path on both "hosts"; its lock moves
    # with the guest, and the guest's disk works at the destination
    a, b = hosts("a"), hosts("b")
    img = tmp_path / "shared.img"
    img.write_bytes(b"\0" * (4 << 20))
    a.create("withdisk", test="blk-pattern", extra="sectors=64 hold",
             disk=[f"file:{img},xvda,w"])
    a.wait_console("withdisk", "blk flushed")
    a.xm("migrate", "--live", "--port", b.port, "withdisk", b.addr)
    assert "withdisk" not in a.domains() and "withdisk" in b.domains()
    # a second domain on the same image is refused: the destination has it
    out = b.xm("create", b.config("second", disk=[f"file:{img},xvda,w"]),
               check=False)
    assert out.returncode != 0 and "locked" in out.stderr, out.stderr
