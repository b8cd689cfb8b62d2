"""Fixtures for the slow tests: Debian's Linux kernel booted under xenon-vmm.

XENON_BUILD names the build directory (default: the repo's build/); the
monitor is XENON_BUILD/xenon-vmm and the images are built into
XENON_BUILD/linux-guest by scripts/build-linux-guest.sh (run here when they
are missing).  Each boot configuration runs once per session, however many
tests look at it; the records and full logs go to
XENON_BUILD/linux-guest/results/.  Boots are run one at a time: each takes
a whole core for up to XENON_LINUX_TIMEOUT seconds (default 600).

XENON_SLOW_QEMU=1 adds the same boots under QEMU, for comparison.
XENON_SLOW_ONLY=substring runs only the configurations whose name has it.
"""
import json
import os
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
import linuxboot as lb  # noqa: E402

VMM = lb.VMM
_records = {}


@pytest.fixture(scope="session")
def linux_images():
    if not all(p.exists() for p in (lb.BZIMAGE, lb.VMLINUX, lb.INITRAMFS)):
        subprocess.run([str(lb.REPO / "scripts" / "build-linux-guest.sh"), str(lb.IMAGES)],
                       check=True)
    return lb.IMAGES


@pytest.fixture(scope="session")
def boot_once(linux_images):
    """boot_once(config) -> BootRecord, booting at most once per session."""
    def run(config):
        if config.name not in _records:
            if config.tool == "xenon" and not VMM.exists():
                pytest.fail(f"{VMM} does not exist: build it first (make)")
            argv, consoles = config.argv()
            # QEMU pauses the VM on a KVM internal error and waits.
            _records[config.name] = lb.run_boot(
                config.name, argv, extra_consoles=consoles,
                stop_after_fatal=3 if config.tool == "qemu" else None)
        return _records[config.name]
    return run


def pytest_terminal_summary(terminalreporter):
    if not _records:
        return
    terminalreporter.section("Linux boots (logs in %s)" % lb.RESULTS)
    for rec in _records.values():
        terminalreporter.write_line(lb.summary(rec))
    with open(lb.RESULTS / "summary.json", "w") as f:
        json.dump(list(_records.values()), f, indent=1)
