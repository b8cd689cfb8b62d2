"""virtio-blk's fast paths for large requests: 1 MiB reads into guest RAM
registered as io_uring fixed buffers (devices/block_fixed.c), completions
reaped while a queue is still being popped and passes cut at their budget
and resumed (devices/virtio_blk.c), the guest waiting halted on interrupts
(blk-perf irq=1), and all of that after a restore, where guest RAM is the
save file mapped copy-on-write."""
import re
import time

from blk_helpers import SECTOR, expect_pass, pattern
from conftest import EXIT_POWEROFF, result_line, wait_for_line
from snapshot_helpers import EXIT_SAVED, request, wait_socket

MIB = 1 << 20


def make_image(path, size):
    with open(path, "wb") as f:
        f.truncate(size)
    return path


def test_pattern_1mib_requests(vmm, tmp_path):
    # 1 MiB requests at an odd sector, the last one short: the reads land
    # in fixed buffers or, across a buffer's end, in readv; the guest then
    # checks every word it read back, and we check the file.
    img = make_image(tmp_path / "disk.raw", 32 * MIB)
    expect_pass(vmm, "blk-pattern", [f"file:{img},xvda,w"],
                "seed=5 start=7 sectors=20000 reqkb=1024 depth=8", memory=96)
    data = open(img, "rb").read()
    assert data[7 * SECTOR:20007 * SECTOR] == pattern(5, 7, 20000)


def test_pass_budget_resumes(vmm, tmp_path):
    # 16 requests of 4 MiB posted with one kick: a pass stops at 32 MiB
    # and the other half is only ever started through again_fd (the
    # guest does not kick again), for the writes and for the reads.
    img = make_image(tmp_path / "disk.raw", 64 * MIB)
    res = expect_pass(vmm, "blk-pattern", [f"file:{img},xvda,w"],
                      "seed=9 start=0 sectors=131072 reqkb=4096 depth=16",
                      memory=192, timeout=120)
    assert res["requests"] == "32"
    with open(img, "rb") as f:
        f.seek(120000 * SECTOR)
        assert f.read(11072 * SECTOR) == pattern(9, 120000, 11072)


def test_perf_guest_waits_halted(vmm, tmp_path):
    img = make_image(tmp_path / "disk.raw", 32 * MIB)
    proc = vmm.run("--disk", f"file:{img},xvda,w", memory=64, timeout=120,
                   cmdline="test=blk-perf mb=32 rmb=1 depth=16 irq=1")
    assert proc.returncode == EXIT_POWEROFF, proc.stderr
    assert result_line(proc.stdout, "blk-perf")["status"] == "pass"
    for run in ("seqwrite", "seqread"):
        m = re.search(rf"blk-perf {run} .* waits=(\d+) errors=0", proc.stdout)
        assert m and int(m.group(1)) > 0, proc.stdout   # it did halt
    m = re.search(r"blk-perf randread .* waits=(\d+)", proc.stdout)
    assert m and m.group(1) == "0"                       # random runs poll


def test_large_reads_after_restore(vmm, tmp_path):
    # Saved in the middle of 1 MiB I/O; the restored guest (RAM mapped
    # copy-on-write from the file) goes on reading into fixed buffers.
    img = make_image(tmp_path / "disk.raw", 32 * MIB)
    sock, sav = tmp_path / "ctl.sock", tmp_path / "dom.sav"
    src = vmm.start("--control", str(sock), "--disk", f"file:{img},xvda,w",
                    memory=64, cmdline="test=blk-perf mb=3072 rmb=1 depth=16")
    dst = None
    try:
        wait_socket(sock, src)
        wait_for_line(src.stdout, "virtio-blk disk=0", timeout=20)
        time.sleep(0.2)
        reply = request(sock, {"cmd": "save", "path": str(sav)})
        assert reply["ok"], reply
        assert src.wait(timeout=30) == EXIT_SAVED
        out = src.stdout.read()
        assert "XENON-RESULT" not in out, "finished before the save"
        dst = vmm.start("--restore", str(sav), kernel=False, memory=None,
                        vcpus=None)
        line, _ = wait_for_line(dst.stdout, "XENON-RESULT test=blk-perf", 120)
        assert result_line(line, "blk-perf")["status"] == "pass", line
        assert dst.wait(timeout=20) == EXIT_POWEROFF
        err = dst.stderr.read()
        vmm.check_sanitizer(err)
        assert "io_uring buffer" not in err, err   # registration worked
    finally:
        for p in (src, dst):
            if p and p.poll() is None:
                p.kill()
                p.wait()
    vmm.check_sanitizer(src.stderr.read())
