"""The store survives restarts: SIGTERM (snapshot), kill -9 at any moment
(journal), compaction; daemon mode and the state-directory lock."""
import os
import signal
import subprocess
import time

from test_xenstore_helpers import (Xenond, wait_for_socket,  # noqa: F401
                                   xenond, xenond_factory)


def test_clean_restart(xenond):
    xenond.tool("write", "/keep/a", "1", "/keep/b", "2")
    xenond.tool("chmod", "/keep/a", "n3", "r0")
    xenond.stop()
    assert (xenond.state / "xenstore.snap").exists()
    xenond.restart()
    assert xenond.tool("read", "/keep/a", "/keep/b").stdout == "1\n2\n"
    with xenond.client() as c:
        assert c.get_perms("/keep/a") == ["n3", "r0"]
        # the seeded layout is not duplicated or reset
        assert c.read("/local/domain/0/name") == b"Domain-0"


def test_kill9_loses_no_acknowledged_write(xenond):
    """Every write that got its reply survives a kill -9 right after."""
    with xenond.client() as c:
        for i in range(300):
            c.write(f"/k9/key{i}", f"value-{i}")
        tx = c.tx_start()
        c.write("/k9/tx", "committed", tx)
        c.tx_end(tx)
        c.rm("/k9/key0")
        xenond.kill9()
    xenond.restart()
    with xenond.client() as c:
        assert len(c.ls("/k9")) == 300        # 299 keys + tx
        assert c.read("/k9/key299") == b"value-299"
        assert c.read("/k9/tx") == b"committed"
        assert "key0" not in c.ls("/k9")
        assert c.control("check").startswith(b"OK")


def test_kill9_during_load(xenond):
    """kill -9 while a client writes as fast as it can: whatever was
    acknowledged before the kill is there after the restart."""
    acked = []
    c = xenond.client()
    try:
        for i in range(5000):
            c.write(f"/load/k{i % 100}", str(i))
            acked.append(i)
            if i == 3000:
                xenond.proc.send_signal(signal.SIGKILL)
    except (ConnectionError, OSError):
        pass
    c.close()
    xenond.stop(signal.SIGKILL)
    xenond.restart()
    last = acked[-1]
    with xenond.client() as c2:
        assert int(c2.read(f"/load/k{last % 100}")) >= last


def test_compaction_then_kill9(xenond):
    with xenond.client() as c:
        for i in range(200):
            c.write("/comp/x", str(i))
        c.control("compact")
        assert os.path.getsize(xenond.state / "xenstore.journal") == 16
        c.write("/comp/after", "yes")
        xenond.kill9()
    xenond.restart()
    with xenond.client() as c:
        assert c.read("/comp/x") == b"199"
        assert c.read("/comp/after") == b"yes"


def test_second_daemon_on_same_state_dir_refused(xenond, tmp_path):
    other = tmp_path / "other.sock"
    proc = subprocess.run([xenond.path, "--foreground", "--state-dir",
                           str(xenond.state), "--xenstore-socket", str(other)],
                          capture_output=True, text=True, timeout=10,
                          env=xenond.env)
    assert proc.returncode == 1
    assert "another xenond" in proc.stderr
    # and a second one on the same socket is refused too
    proc = subprocess.run([xenond.path, "--foreground", "--state-dir",
                           str(tmp_path / "s2"), "--xenstore-socket",
                           str(xenond.sock)],
                          capture_output=True, text=True, timeout=10,
                          env=xenond.env)
    assert proc.returncode == 1
    assert "in use" in proc.stderr
    assert xenond.tool("read", "/local/domain/0/name").stdout


def test_daemon_mode(xenond_factory, tmp_path):
    d = xenond_factory()      # only for the binary path and environment
    state, sock = tmp_path / "dstate", tmp_path / "d.sock"
    proc = subprocess.run([d.path, "--state-dir", str(state),
                           "--xenstore-socket", str(sock),
                           "--socket", str(tmp_path / "api.sock"),
                           "--log-dir", str(tmp_path / "log")],
                          capture_output=True, text=True, timeout=20,
                          env=d.env)
    assert proc.returncode == 0, proc.stderr
    # it returns only once the socket serves
    pid = int((state / "xenond.pid").read_text())
    try:
        wait_for_socket(sock, 5)
        env = dict(d.env, XENSTORED_PATH=str(sock))
        out = subprocess.run(["xenstore-read", "/local/domain/0/name"],
                             env=env, capture_output=True, text=True,
                             timeout=10)
        assert out.stdout == "Domain-0\n"
        assert "serving xenstore" in (state / "xenond.log").read_text()
    finally:
        os.kill(pid, signal.SIGTERM)
        for _ in range(200):
            if not (state / "xenond.pid").exists():
                break
            time.sleep(0.05)
    assert not (state / "xenond.pid").exists()
    assert not sock.exists()


def test_help_and_bad_options(xenond_factory):
    d = xenond_factory()
    out = subprocess.run([d.path, "--help"], capture_output=True, text=True,
                         timeout=10)
    assert out.returncode == 0
    for opt in ("--foreground", "--state-dir", "--xenstore-socket",
                "--log-file"):
        assert opt in out.stdout
    bad = subprocess.run([d.path, "--frobnicate"], capture_output=True,
                         text=True, timeout=10)
    assert bad.returncode == 1
