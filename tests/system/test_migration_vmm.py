"""Live and warm migration between two xenon-vmm processes (migrate-send /
--incoming): the guest keeps dirtying memory while it moves and proves
afterwards that no write was lost; every way a migration can fail leaves
the source running, unchanged, and the destination gone."""
import os
import signal
import socket
import subprocess
import threading
import time

import pytest

from conftest import EXIT_ERROR, EXIT_POWEROFF, wait_for_line
from net_helpers import two_namespaces
from snapshot_helpers import (EXIT_SAVED, dirty_cmdline, finish, progress,
                              request, until_full_pass, wait_socket)

KEY = "correct horse battery staple"
DOMAIN = {"name": "mover", "uuid": "0e5a1b2c-3d4e-4f50-8a9b-0c1d2e3f4a5b"}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def key_file(tmp_path):
    path = tmp_path / "key"
    path.write_text(KEY + "\n")
    return path


def start_source(vmm, tmp_path, wss_mib=8, rate_mib=20, prefix=()):
    sock = tmp_path / "src.sock"
    argv = list(prefix) + vmm.cmd("--control", str(sock), memory=64,
                                  cmdline=dirty_cmdline(wss_mib, rate_mib))
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=vmm.env, text=True)
    wait_socket(sock, proc)
    return proc, sock


def start_destination(vmm, tmp_path, key_file, incoming, *extra, prefix=(),
                      pass_fds=()):
    sock = tmp_path / "dst.sock"
    argv = list(prefix) + vmm.cmd("--incoming", incoming, "--incoming-key-file",
                                  str(key_file), "--control", str(sock), *extra,
                                  kernel=False, memory=None, vcpus=None)
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=vmm.env, text=True,
                            pass_fds=pass_fds)
    if incoming.startswith("tcp:"):
        wait_for_line(proc.stderr, "waiting for an incoming migration", 20)
    return proc, sock


def stop(*procs):
    for p in procs:
        if p and p.poll() is None:
            p.kill()
            p.wait()


def check_moved(vmm, src, dst, dsock, before, reply, verified=8 * 256):
    """The source left (status 7), the guest runs on at the destination,
    picks up where it was, and finds every page it wrote."""
    assert reply["ok"] and reply["state"] == "migrated", reply
    assert src.wait(timeout=10) == EXIT_SAVED
    wait_socket(dsock, dst)
    after = progress(dst)
    assert after["written"] >= before["written"]
    assert request(dsock, {"cmd": "status"})["state"] == "running"
    res = finish(dst)
    assert res["status"] == "pass" and res["errors"] == "0", res
    assert int(res["verified"]) == verified
    assert dst.wait(timeout=10) == EXIT_POWEROFF
    vmm.check_sanitizer(src.stderr.read())
    vmm.check_sanitizer(dst.stderr.read())


def test_live_migration(vmm, tmp_path, key_file):
    port = free_port()
    dst, dsock = start_destination(vmm, tmp_path, key_file, f"tcp:127.0.0.1:{port}")
    src, ssock = start_source(vmm, tmp_path)
    try:
        before = until_full_pass(src)
        reply = request(ssock, {"cmd": "migrate-send", "address": f"127.0.0.1:{port}",
                                "key": KEY, "live": True, "downtime_ms": 30,
                                "config": DOMAIN})
        assert reply["live"] is True and reply["rounds"] >= 1, reply
        assert reply["pages"] >= 8 * 256 and reply["downtime_us"] > 0
        assert reply["final"]["pause_us"] <= reply["downtime_us"]
        check_moved(vmm, src, dst, dsock, before, reply)
    finally:
        stop(src, dst)


def test_postcopy_migration(vmm, tmp_path, key_file):
    """A guest dirtying 16 MiB at 200 MiB/s over a link capped at 16 MiB/s
    never converges: the source switches to post-copy, the guest runs at
    the destination while its last pages are still at the source, and it
    still finds every page it wrote."""
    port = free_port()
    dst, dsock = start_destination(vmm, tmp_path, key_file, f"tcp:127.0.0.1:{port}")
    src, ssock = start_source(vmm, tmp_path, wss_mib=16, rate_mib=200)
    try:
        before = until_full_pass(src)
        reply = request(ssock, {"cmd": "migrate-send", "address": f"127.0.0.1:{port}",
                                "key": KEY, "live": True, "postcopy": True,
                                "downtime_ms": 30, "max_bandwidth_mib_s": 16,
                                "config": DOMAIN})
        assert "postcopy" in reply, reply
        pc = reply["postcopy"]
        assert pc["requested_pages"] + pc["pushed_pages"] > 0, reply
        assert reply["downtime_us"] < pc["complete_us"], reply
        check_moved(vmm, src, dst, dsock, before, reply, verified=16 * 256)
    finally:
        stop(src, dst)


def test_postcopy_refused_without_live(plain_vmm, tmp_path):
    src, ssock = start_source(plain_vmm, tmp_path)
    try:
        reply = request(ssock, {"cmd": "migrate-send", "address": "127.0.0.1:1",
                                "key": KEY, "live": False, "postcopy": True})
        assert not reply["ok"] and "needs a live migration" in reply["error"]
        assert request(ssock, {"cmd": "status"})["state"] == "running"
    finally:
        stop(src)


def test_warm_migration(vmm, tmp_path, key_file):
    port = free_port()
    dst, dsock = start_destination(vmm, tmp_path, key_file, f"tcp:127.0.0.1:{port}")
    src, ssock = start_source(vmm, tmp_path)
    try:
        before = until_full_pass(src)
        reply = request(ssock, {"cmd": "migrate-send", "address": f"127.0.0.1:{port}",
                                "key": KEY, "live": False})
        assert reply["live"] is False and reply["rounds"] == 0, reply
        check_moved(vmm, src, dst, dsock, before, reply)
    finally:
        stop(src, dst)


def test_migration_over_passed_sockets(plain_vmm, tmp_path, key_file):
    """The daemon's way: it connects, hands the socket to the source with
    the request (SCM_RIGHTS) and to the destination as an inherited fd."""
    a, b = socket.socketpair()
    dst, dsock = start_destination(plain_vmm, tmp_path, key_file,
                                   f"fd:{b.fileno()}", pass_fds=(b.fileno(),))
    b.close()
    src, ssock = start_source(plain_vmm, tmp_path)
    try:
        before = until_full_pass(src)
        reply = request(ssock, {"cmd": "migrate-send", "fd": True, "key": KEY},
                        fds=[a.fileno()])
        a.close()
        check_moved(plain_vmm, src, dst, dsock, before, reply)
    finally:
        stop(src, dst)


def test_wrong_key_refused(vmm, tmp_path):
    bad = tmp_path / "other-key"
    bad.write_text("not the key\n")
    port = free_port()
    dst, _ = start_destination(vmm, tmp_path, bad, f"tcp:127.0.0.1:{port}")
    src, ssock = start_source(vmm, tmp_path)
    try:
        until_full_pass(src)
        reply = request(ssock, {"cmd": "migrate-send", "address": f"127.0.0.1:{port}",
                                "key": KEY})
        assert not reply["ok"] and "authentication failed" in reply["error"], reply
        assert reply["state"] == "running"
        assert dst.wait(timeout=10) == EXIT_ERROR
        assert "the source does not have the right key" in dst.stderr.read()
        # Nothing listens now; bad requests are refused up front.
        reply = request(ssock, {"cmd": "migrate-send", "address": f"127.0.0.1:{port}",
                                "key": KEY})
        assert not reply["ok"] and "Connection refused" in reply["error"]
        for bad_req in ({"cmd": "migrate-send", "key": KEY},
                        {"cmd": "migrate-send", "address": "h:1"},
                        {"cmd": "migrate-send", "address": "h:1", "key": KEY,
                         "downtime_ms": "fast"},
                        {"cmd": "migrate-send", "fd": True, "key": KEY}):
            assert not request(ssock, bad_req)["ok"]
        assert not request(ssock, {"cmd": "migrate-cancel"})["ok"]
        progress(src)
        res = finish(src)
        assert res["status"] == "pass" and res["errors"] == "0", res
    finally:
        stop(src, dst)
    vmm.check_sanitizer(src.stderr.read())


def migrate_in_background(sock, req):
    box = {}

    def run():
        try:
            box["reply"] = request(sock, req, timeout=120)
        except (AssertionError, OSError) as e:   # the source was killed
            box["error"] = e
    t = threading.Thread(target=run)
    t.start()
    return t, box


def wait_for_precopy(sock, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        mig = request(sock, {"cmd": "status"}).get("migration", {})
        if mig.get("phase") == "precopy":
            return
        time.sleep(0.02)
    raise AssertionError("the migration never reached pre-copy")


def test_destination_killed_mid_stream(vmm, tmp_path, key_file):
    port = free_port()
    dst, _ = start_destination(vmm, tmp_path, key_file, f"tcp:127.0.0.1:{port}")
    src, ssock = start_source(vmm, tmp_path)
    try:
        until_full_pass(src)
        # Held to 4 MiB/s, pre-copy of 8 MiB takes a couple of seconds.
        t, box = migrate_in_background(ssock, {
            "cmd": "migrate-send", "address": f"127.0.0.1:{port}", "key": KEY,
            "max_bandwidth_mib_s": 4})
        wait_for_precopy(ssock)
        time.sleep(0.3)
        dst.send_signal(signal.SIGKILL)
        t.join(60)
        reply = box["reply"]
        assert not reply["ok"] and reply["state"] == "running", reply
        assert request(ssock, {"cmd": "status"})["state"] == "running"
        first = progress(src)
        assert progress(src)["written"] > first["written"]
        res = finish(src)
        assert res["status"] == "pass" and res["errors"] == "0", res
    finally:
        stop(src, dst)
    vmm.check_sanitizer(src.stderr.read())


def wait_running(sock, proc, timeout=30):
    """Poll a destination's control socket until its vCPUs run."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if request(sock, {"cmd": "status"}, timeout=5)["state"] == "running":
                return
        except OSError:
            pass
        time.sleep(0.005)
    raise AssertionError("the destination never ran the guest")


@pytest.mark.parametrize("victim", ["source", "destination"])
def test_postcopy_loses_a_host(plain_vmm, tmp_path, key_file, victim):
    """After the post-copy switch-over the guest's memory is split between
    the hosts: losing either ends it safely.  The destination stops (status
    1) rather than run on pages it never got; the source keeps its copy
    paused and says the destination may be running it."""
    port = free_port()
    dst, dsock = start_destination(plain_vmm, tmp_path, key_file,
                                   f"tcp:127.0.0.1:{port}")
    src, ssock = start_source(plain_vmm, tmp_path, wss_mib=4, rate_mib=20)
    try:
        until_full_pass(src)
        # 20 MiB/s of writes over an 8 MiB/s link: switch-over after two
        # rounds, then the 4 MiB still at the source trickle at 8 MiB/s.
        t, box = migrate_in_background(ssock, {
            "cmd": "migrate-send", "address": f"127.0.0.1:{port}", "key": KEY,
            "postcopy": True, "max_bandwidth_mib_s": 8})
        wait_socket(dsock, dst)
        wait_running(dsock, dst)
        (src if victim == "source" else dst).send_signal(signal.SIGKILL)
        if victim == "source":
            assert dst.wait(timeout=20) == EXIT_ERROR
            err = dst.stderr.read()
            assert "cannot run without the pages the source still had" in err
            assert "status=pass" not in dst.stdout.read()
        else:
            t.join(60)
            reply = box["reply"]
            assert not reply["ok"] and reply["state"] == "paused", reply
            assert request(ssock, {"cmd": "status"})["state"] == "paused"
    finally:
        stop(src, dst)


def test_cancel(plain_vmm, tmp_path, key_file):
    port = free_port()
    dst, _ = start_destination(plain_vmm, tmp_path, key_file, f"tcp:127.0.0.1:{port}")
    src, ssock = start_source(plain_vmm, tmp_path)
    try:
        until_full_pass(src)
        t, box = migrate_in_background(ssock, {
            "cmd": "migrate-send", "address": f"127.0.0.1:{port}", "key": KEY,
            "max_bandwidth_mib_s": 4})
        wait_for_precopy(ssock)
        assert request(ssock, {"cmd": "migrate-cancel"})["ok"]
        t.join(60)
        assert box["reply"]["error"] == "cancelled", box["reply"]
        assert dst.wait(timeout=20) == EXIT_ERROR
        assert finish(src)["status"] == "pass"
    finally:
        stop(src, dst)


# ---- two "hosts": network namespaces joined by a veth pair ------------------

@pytest.fixture
def two_hosts():
    with two_namespaces(f"xm{os.getpid() % 100000}", "10.251.0") as hosts:
        yield hosts


def test_live_migration_between_namespaces(plain_vmm, tmp_path, key_file, two_hosts):
    dst, dsock = start_destination(plain_vmm, tmp_path, key_file,
                                   "tcp:10.251.0.2:7000",
                                   prefix=("ip", "netns", "exec", two_hosts["b"]))
    src, ssock = start_source(plain_vmm, tmp_path,
                              prefix=("ip", "netns", "exec", two_hosts["a"]))
    try:
        before = until_full_pass(src)
        reply = request(ssock, {"cmd": "migrate-send", "address": "10.251.0.2:7000",
                                "key": KEY, "config": DOMAIN})
        check_moved(plain_vmm, src, dst, dsock, before, reply)
    finally:
        stop(src, dst)


def test_link_cut_between_namespaces(plain_vmm, tmp_path, key_file, two_hosts):
    dst, _ = start_destination(plain_vmm, tmp_path, key_file,
                               "tcp:10.251.0.2:7001", "--incoming-timeout", "1500",
                               prefix=("ip", "netns", "exec", two_hosts["b"]))
    src, ssock = start_source(plain_vmm, tmp_path,
                              prefix=("ip", "netns", "exec", two_hosts["a"]))
    try:
        until_full_pass(src)
        t, box = migrate_in_background(ssock, {
            "cmd": "migrate-send", "address": "10.251.0.2:7001", "key": KEY,
            "max_bandwidth_mib_s": 4, "timeout_ms": 1500})
        wait_for_precopy(ssock)
        two_hosts["ip"]("-n", two_hosts["a"], "link", "set", two_hosts["link_a"],
                        "down")
        t.join(60)
        reply = box["reply"]
        assert not reply["ok"] and reply["state"] == "running", reply
        assert "timed out" in reply["error"], reply
        # The destination gives up by itself and leaves.
        assert dst.wait(timeout=20) == EXIT_ERROR
        assert "incoming migration" in dst.stderr.read()
        res = finish(src)
        assert res["status"] == "pass" and res["errors"] == "0", res
    finally:
        stop(src, dst)


def disk_is_locked(vmm, img):
    """Whether a third monitor is refused the image (someone holds it)."""
    proc = subprocess.run(vmm.cmd("--disk", f"format=raw, vdev=xvda, "
                                  f"access=rw, target={img}"),
                          capture_output=True, text=True, timeout=30,
                          env=vmm.env)
    return proc.returncode == EXIT_ERROR and "locked" in proc.stderr


def test_disks_move_their_locks(plain_vmm, tmp_path, key_file):
    # shared storage: both monitors open the image; the source holds the
    # lock until it hands the guest over, then the destination takes it
    vmm = plain_vmm
    img = tmp_path / "shared.img"
    img.write_bytes(b"\0" * (1 << 20))
    port = free_port()
    dst, dsock = start_destination(vmm, tmp_path, key_file,
                                   f"tcp:127.0.0.1:{port}")
    ssock = tmp_path / "src.sock"
    src = subprocess.Popen(vmm.cmd("--control", str(ssock), "--disk",
                                   f"format=raw, vdev=xvda, access=rw, "
                                   f"target={img}", memory=64,
                                   cmdline=dirty_cmdline(8, 20)),
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, env=vmm.env, text=True)
    try:
        wait_socket(ssock, src)
        before = until_full_pass(src)
        assert disk_is_locked(vmm, img)               # by the source
        reply = request(ssock, {"cmd": "migrate-send",
                                "address": f"127.0.0.1:{port}", "key": KEY,
                                "live": True, "config": DOMAIN})
        assert reply["ok"], reply
        assert src.wait(timeout=10) == EXIT_SAVED
        wait_socket(dsock, dst)
        assert disk_is_locked(vmm, img)               # by the destination
        res = progress(dst)
        assert res["written"] >= before["written"]
        res = finish(dst)
        assert res["status"] == "pass" and res["errors"] == "0", res
        assert dst.wait(timeout=10) == EXIT_POWEROFF
        assert "still locked" not in dst.stderr.read()
    finally:
        stop(src, dst)
