"""Exit paths and the control socket of xenon-vmm."""
import json
import socket
import time

from conftest import (EXIT_CRASH, EXIT_REBOOT, EXIT_STOPPED, read_available,
                      result_line, wait_for_line)


def control(path, cmd):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(str(path))
        s.sendall(json.dumps({"cmd": cmd}).encode() + b"\n")
        data = b""
        while not data.endswith(b"\n"):
            chunk = s.recv(4096)
            assert chunk, "control socket closed without a reply"
            data += chunk
    return json.loads(data)


def wait_for_socket(path, proc, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists():
            return
        assert proc.poll() is None, proc.stderr.read()
        time.sleep(0.01)
    raise AssertionError(f"{path} never appeared")


def test_reboot_exit_status(vmm):
    proc = vmm.run(cmdline="test=reboot")
    assert proc.returncode == EXIT_REBOOT, proc.stderr
    assert result_line(proc.stdout, "reboot")["status"] == "pass"
    assert "rebooted" in proc.stderr


def test_triple_fault_dumps_registers(vmm):
    proc = vmm.run(cmdline="test=crash")
    assert proc.returncode == EXIT_CRASH, proc.stderr
    assert "xenon-guest: crashing" in proc.stdout
    assert "triple fault" in proc.stderr
    assert "rip=" in proc.stderr and "cr3=" in proc.stderr


def test_pause_resume_stop(vmm, tmp_path):
    sock = tmp_path / "ctl.sock"
    proc = vmm.start("--control", str(sock), "--name", "hb",
                     cmdline="test=heartbeat")
    try:
        wait_for_socket(sock, proc)
        wait_for_line(proc.stdout, "xenon-guest: tick 2")
        assert control(sock, "status")["state"] == "running"

        reply = control(sock, "pause")
        assert reply["ok"] and reply["state"] == "paused"
        time.sleep(0.2)  # let any tick already in flight drain
        before = read_available(proc.stdout)
        time.sleep(0.6)  # ~12 ticks would be printed if the guest ran
        assert read_available(proc.stdout) == "", "guest ran while paused"
        last = [l for l in before.splitlines() if "tick" in l]

        assert control(sock, "resume")["state"] == "running"
        line, _ = wait_for_line(proc.stdout, "xenon-guest: tick")
        if last:
            assert int(line.split()[-1]) > int(last[-1].split()[-1])

        status = control(sock, "status")
        assert status["name"] == "hb" and status["vcpus"] == 1
        assert status["memory_mib"] == 64 and "boot_time_us" in status
        assert control(sock, "stop")["ok"]
        assert proc.wait(timeout=10) == EXIT_STOPPED
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    stderr = proc.stderr.read()
    vmm.check_sanitizer(stderr)
    assert not sock.exists(), "control socket left behind"


def test_control_rejects_bad_requests(vmm, tmp_path):
    sock = tmp_path / "ctl.sock"
    proc = vmm.start("--control", str(sock), cmdline="test=heartbeat")
    try:
        wait_for_socket(sock, proc)
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.connect(str(sock))
            s.sendall(b"this is not json\n{\"cmd\": 7}\n{\"cmd\": \"fly\"}\n")
            replies = b""
            while replies.count(b"\n") < 3:
                replies += s.recv(4096)
        errors = [json.loads(l) for l in replies.splitlines()]
        assert [r["ok"] for r in errors] == [False, False, False]
        assert "not JSON" in errors[0]["error"]
        assert "cmd" in errors[1]["error"]
        assert "unknown command 'fly'" in errors[2]["error"]
        # Oversized request: an error, then the monitor carries on.
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.connect(str(sock))
            s.sendall(b"x" * 70000)
            assert b"longer than" in s.recv(4096)
        assert control(sock, "status")["state"] == "running"
        proc.terminate()
        assert proc.wait(timeout=10) == EXIT_STOPPED
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    vmm.check_sanitizer(proc.stderr.read())


def test_sigterm_stops_cleanly(vmm):
    proc = vmm.start(cmdline="test=heartbeat")
    try:
        wait_for_line(proc.stdout, "xenon-guest: tick 1")
        proc.terminate()
        assert proc.wait(timeout=10) == EXIT_STOPPED
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    vmm.check_sanitizer(proc.stderr.read())


def test_start_paused(vmm, tmp_path):
    sock = tmp_path / "ctl.sock"
    proc = vmm.start("--control", str(sock), "--paused", cmdline="test=boot")
    try:
        wait_for_socket(sock, proc)
        time.sleep(0.3)
        assert proc.poll() is None, "paused guest ran to power-off"
        assert control(sock, "status")["state"] == "paused"
        control(sock, "resume")
        assert proc.wait(timeout=10) == 0
        assert result_line(proc.stdout.read(), "boot")["status"] == "pass"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
