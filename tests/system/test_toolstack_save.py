"""xm save / xm restore through xenond: the guest carries on where it
stopped, failures leave the domain running, bad files are refused."""
import re
import time

import pytest

from snapshot_helpers import first_data_page
from toolstack_helpers import toolstack  # noqa: F401 (fixture)


def ticks(toolstack, name):
    return [int(t) for t in re.findall(r"tick (\d+)",
                                       toolstack.console_log(name))]


def test_save_then_restore_continues_the_guest(toolstack):
    toolstack.create("saver")
    toolstack.wait_console("saver", "tick 3")
    path = toolstack.tmp / "saver.sav"
    toolstack.xm("save", "saver", path)
    assert "saver" not in toolstack.domains()        # gone when xm returns
    before = max(ticks(toolstack, "saver"))
    out = toolstack.xm("restore", path)
    assert "Restored domain saver" in out.stdout
    toolstack.wait_console("saver", f"tick {before + 2}")
    seen = ticks(toolstack, "saver")
    # one guest, never rebooted: the counter only goes up
    assert seen == sorted(seen) and seen.count(1) == 1
    assert toolstack.console_log("saver").count("xenon-guest: acpi=") == 1
    assert "s" not in toolstack.domains()["saver"]["state"]


def test_save_keep_running_is_a_checkpoint(toolstack):
    toolstack.create("ckpt")
    toolstack.wait_console("ckpt", "tick 1")
    path = toolstack.tmp / "ckpt.sav"
    toolstack.xm("save", "-c", "ckpt", path)
    assert path.stat().st_size > 0
    n = max(ticks(toolstack, "ckpt"))
    toolstack.wait_console("ckpt", f"tick {n + 2}")   # still running
    # the checkpoint cannot be restored next to the original
    out = toolstack.xm("restore", path, check=False)
    assert out.returncode == 1 and "already exists" in out.stderr
    toolstack.xm("destroy", "ckpt")
    toolstack.xm("restore", path)
    toolstack.wait_console("ckpt", "tick")


def test_failed_save_leaves_the_domain_running(toolstack):
    toolstack.create("stays")
    toolstack.wait_console("stays", "tick 1")
    out = toolstack.xm("save", "stays", "/nonexistent-dir/x.sav", check=False)
    assert out.returncode == 1 and "keeps running" in out.stderr
    n = max(ticks(toolstack, "stays"))
    toolstack.wait_console("stays", f"tick {n + 2}")
    assert "p" not in toolstack.domains()["stays"]["state"]


def test_save_leave_paused(toolstack):
    # xl save -p: the domain stays, paused, and runs nothing after its
    # snapshot; unpaused it carries on; the file restores elsewhere
    toolstack.create("held")
    toolstack.wait_console("held", "tick 1")
    path = toolstack.tmp / "held.sav"
    toolstack.xm("save", "-p", "held", path)
    assert "p" in toolstack.domains()["held"]["state"]
    n = max(ticks(toolstack, "held"))
    time.sleep(1.5)                      # a tick a second while running
    assert max(ticks(toolstack, "held")) == n
    toolstack.xm("unpause", "held")
    toolstack.wait_console("held", f"tick {n + 1}")
    # with -p a failed save unpauses what it paused
    out = toolstack.xm("save", "-p", "held", "/nonexistent-dir/x.sav",
                       check=False)
    assert out.returncode == 1 and "keeps running" in out.stderr
    assert "p" not in toolstack.domains()["held"]["state"]
    toolstack.xm("destroy", "held")
    toolstack.xm("restore", path)
    assert "p" not in toolstack.domains()["held"]["state"]
    toolstack.wait_console("held", f"tick {n + 2}")


def test_bad_save_files_are_refused(toolstack):
    toolstack.create("victim")
    toolstack.wait_console("victim", "tick 1")
    good = toolstack.tmp / "victim.sav"
    toolstack.xm("save", "victim", good)
    data = good.read_bytes()
    cases = {
        "truncated": data[:100],
        "corrupt": data[:40] + bytes([data[40] ^ 0xff]) + data[41:],
        "not-a-save": b"hello world" * 10,
        "newer": data[:8] + (99).to_bytes(4, "little") + data[12:],
    }
    for name, blob in cases.items():
        bad = toolstack.tmp / f"{name}.sav"
        bad.write_bytes(blob)
        out = toolstack.xm("restore", bad, check=False)
        assert out.returncode == 1, name
        assert str(bad) in out.stderr, (name, out.stderr)
        assert "victim" not in toolstack.domains(), name
    # A corrupted RAM chunk: xm restore pages RAM in lazily, so the domain
    # may start, but the chunk never reaches the guest; the domain stops
    # and the log says which chunk.
    bad = toolstack.tmp / "ram.sav"
    at = first_data_page(data) + 100
    bad.write_bytes(data[:at] + bytes([data[at] ^ 0x20]) + data[at + 1:])
    out = toolstack.xm("restore", bad, check=False)
    deadline = time.monotonic() + 20
    while "victim" in toolstack.domains() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "victim" not in toolstack.domains(), out
    log = (toolstack.log_dir / "vmm-victim.log").read_text()
    assert "checksum mismatch in chunk" in log, log
    out = toolstack.xm("restore", toolstack.tmp / "missing.sav", check=False)
    assert out.returncode == 1 and "No such file" in out.stderr
    toolstack.xm("restore", good)          # the good one still works
    toolstack.wait_console("victim", "tick")
