"""Debian's packaged Linux kernel (6.1) booted under xenon-vmm.

Two boot paths, each with the console on COM1 (ttyS0) and with a
virtio-console (hvc0) as well:
  bzImage  -- the kernel as Debian ships it, Linux boot protocol
  pvh      -- the same kernel as an ELF vmlinux, Xen PVH entry
with the busybox initramfs of scripts/build-linux-guest.sh, whose /init
prints "XENON-LINUX: ..." lines and powers off.

Each configuration boots once (conftest.boot_once); the tests below are the
stages of that boot.  A stage this machine's nested KVM cannot get through
is an xfail whose reason is what the boot record says stopped it (see
docs/linux-guests.md); nothing is marked xfail in advance, so a stage that
starts to work passes.
"""
import os
import re
from dataclasses import dataclass

import pytest

import linuxboot as lb


@dataclass
class Config:
    name: str
    tool: str          # "xenon" or "qemu"
    kernel: str        # "bzImage" or "pvh"
    hvc: bool

    def hvc_file(self):
        return lb.RESULTS / f"{self.name}.hvc0"

    def cmdline(self):
        return lb.KERNEL_ARGS + (" console=hvc0" if self.hvc else "")

    def argv(self):
        """(argv, extra console files)"""
        kernel = lb.BZIMAGE if self.kernel == "bzImage" else lb.VMLINUX
        hvc = self.hvc_file() if self.hvc else None
        if self.tool == "xenon":
            argv = lb.xenon_argv(lb.VMM, kernel, cmdline=self.cmdline(),
                                 vconsole=f"file:{hvc}" if hvc else None)
        else:
            argv = lb.qemu_argv(kernel, cmdline=self.cmdline(), hvc=hvc)
        return argv, [hvc] if hvc else []


def _configs():
    tools = ["xenon"] + (["qemu"] if os.environ.get("XENON_SLOW_QEMU") == "1" else [])
    only = os.environ.get("XENON_SLOW_ONLY", "")
    out = []
    for tool in tools:
        # PVH first: it gets furthest in the shortest time.
        for kernel in ("pvh", "bzImage"):
            for hvc in (False, True):
                name = f"{tool}-{kernel.lower()}-{'hvc0' if hvc else 'ttyS0'}"
                if only and only not in name:
                    continue
                out.append(pytest.param(Config(name, tool, kernel, hvc), id=name))
    return out


CONFIGS = _configs()


def _stopped(rec, stage):
    """xfail this stage with what the record says stopped the boot."""
    last = rec["last_kernel_line"]
    pytest.xfail(f"{stage} not reached: {rec['stop_reason']}; "
                 f"last kernel line {last!r} at {rec['last_kernel_line_s']} s")


def _fact(rec, prefix):
    for line in rec["init_lines"]:
        if line.startswith("XENON-LINUX: " + prefix):
            return line[len("XENON-LINUX: " + prefix):].strip()
    return None


@pytest.mark.parametrize("config", CONFIGS)
def test_monitor_runs_guest(boot_once, config):
    """The monitor starts the domain and the guest writes to the console."""
    rec = boot_once(config)
    assert rec["console_lines"] > 0, (
        f"no console output; exit {rec['exit_status']}; stderr:\n"
        + "\n".join(rec["stderr_tail"]))


@pytest.mark.parametrize("config", CONFIGS)
def test_first_kernel_message(boot_once, config):
    """The kernel (or, for a bzImage, its decompressor) prints on ttyS0."""
    rec = boot_once(config)
    assert rec["first_kernel_line_s"] is not None, (
        f"no kernel message in {rec['seconds']} s; console tail:\n"
        + "\n".join(rec["console_tail"]) + "\nstderr:\n" + "\n".join(rec["stderr_tail"]))


@pytest.mark.parametrize("config", CONFIGS)
def test_kernel_proper_starts(boot_once, config):
    """The kernel proper runs: the 'Linux version' banner."""
    rec = boot_once(config)
    if rec["kernel_banner_s"] is None:
        _stopped(rec, "kernel proper")


@pytest.mark.parametrize("config", CONFIGS)
def test_init_reached(boot_once, config):
    """The initramfs' /init runs and prints its marker on the console."""
    rec = boot_once(config)
    if rec["init_marker_s"] is None:
        _stopped(rec, "init")


@pytest.mark.parametrize("config", CONFIGS)
def test_guest_sees_its_machine(boot_once, config):
    """What init reports: 1 CPU, ~512 MiB, the virtio drivers bound."""
    rec = boot_once(config)
    if rec["init_marker_s"] is None:
        _stopped(rec, "init")
    assert _fact(rec, "nproc") == "1"
    mem = _fact(rec, "MemTotal:")
    assert mem and mem.endswith("kB")
    kb = int(mem.split()[0])
    assert 400 * 1024 < kb <= lb.MEMORY_MIB * 1024, mem
    assert _fact(rec, "uname -r") is not None
    failed = [line for line in rec["init_lines"] if "FAILED" in line]
    assert not failed, failed
    if config.hvc:
        assert _fact(rec, "hvc0") == "present"
        console = [line for line in rec["init_lines"] if "hello on hvc0" in line]
        assert console, "nothing written to hvc0 reached the --vconsole file"
        virtio = [line for line in rec["init_lines"]
                  if re.match(r"XENON-LINUX: virtio \S+ device 0x0003 driver virtio_console", line)]
        assert virtio, rec["init_lines"]


@pytest.mark.parametrize("config", CONFIGS)
def test_powers_off(boot_once, config):
    """init's poweroff -f ends the monitor with status 0."""
    rec = boot_once(config)
    if not rec["done"]:
        _stopped(rec, "poweroff")
    assert rec["exit_status"] == 0, rec["stop_reason"]
