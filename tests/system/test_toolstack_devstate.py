"""Device state across save/restore and migration: the xenstore channel
continues exactly where it was (docs/save-format.md, "device state")."""
import time

import pytest

from toolstack_helpers import toolstack  # noqa: F401 (fixture)


def wait_store(toolstack, path, value, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        out = toolstack.tool("read", path, check=False)
        if out.returncode == 0 and out.stdout.strip() == value:
            return
        time.sleep(0.05)
    pytest.fail(f"{path} never became {value!r}")


def test_domu_save_restore_then_shutdown(toolstack):
    domid = toolstack.create("sr", test="domu")
    wait_store(toolstack, f"/local/domain/{domid}/data/status", "running")
    path = toolstack.tmp / "sr.sav"
    toolstack.xm("save", "sr", path)
    toolstack.xm("restore", path)
    out = toolstack.xm("shutdown", "-w", "sr", timeout=30, check=False)
    assert out.returncode == 0, (out.stderr, toolstack.console_log("sr"),
                                 toolstack.vmm_logs()[-3000:])
    assert "sr" not in toolstack.domains()
    log = toolstack.console_log("sr")
    assert "status=pass" in log and "action=poweroff" in log, log[-2000:]
