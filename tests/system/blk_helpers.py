"""Helpers for the virtio-blk system tests: the guest's data pattern, and
running the test guest with disks."""
import struct

from conftest import EXIT_POWEROFF, result_line

MASK = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15
SECTOR = 512


def _mix(z):
    z = (z + GOLDEN) & MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def pattern(seed, first, sectors):
    """The bytes guest/scenarios_block.c writes at sector `first` for
    `sectors` sectors under `seed`."""
    key = (seed * GOLDEN) & MASK
    words = [_mix(key ^ (s << 6 | i))
             for s in range(first, first + sectors) for i in range(64)]
    return struct.pack(f"<{len(words)}Q", *words)


def run_blk(vmm, test, disks, args="", vcpus=1, memory=64, timeout=60):
    """Boot the guest with `test=TEST ARGS` and one --disk per spec;
    returns (proc, result dict or None)."""
    argv = []
    for spec in disks:
        argv += ["--disk", spec]
    proc = vmm.run(*argv, cmdline=f"test={test} {args}".strip(),
                   vcpus=vcpus, memory=memory, timeout=timeout)
    res = None
    if proc.returncode == EXIT_POWEROFF:
        res = result_line(proc.stdout, test)
    return proc, res


def expect_pass(vmm, test, disks, args="", **kw):
    proc, res = run_blk(vmm, test, disks, args, **kw)
    assert proc.returncode == EXIT_POWEROFF, (proc.returncode, proc.stderr)
    assert res["status"] == "pass", (res, proc.stdout, proc.stderr)
    return res
