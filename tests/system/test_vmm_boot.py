"""xenon-vmm boots the test guest: vCPUs, command line, initrd, consoles."""
import os
import zlib

import pytest

from conftest import EXIT_POWEROFF, result_line


@pytest.mark.parametrize("vcpus", [1, 2, 4])
def test_smp_boot(vmm, vcpus):
    proc = vmm.run(vcpus=vcpus, cmdline="test=smp")
    assert proc.returncode == EXIT_POWEROFF, proc.stderr
    res = result_line(proc.stdout, "smp")
    assert res["status"] == "pass"
    assert int(res["cpus"]) == vcpus
    assert int(res["expected"]) == vcpus


def test_default_boot_reports_memory(vmm):
    proc = vmm.run(memory=96)
    assert proc.returncode == EXIT_POWEROFF, proc.stderr
    assert result_line(proc.stdout, "boot")["status"] == "pass"
    started = [l for l in proc.stdout.splitlines() if "xenon-guest: started" in l]
    assert started, proc.stdout
    mem = int(started[0].split("mem=")[1].split()[0])
    # The e820 map hides 640K-1M, so the guest sees a little under 96 MiB.
    assert 94 <= mem <= 96


def test_cmdline_delivered_intact(vmm):
    cmdline = "test=cmdline root=/dev/xvda1 extra='4 5' x=\"y\" ~!@#$%^&*()_+ " + "z" * 1500
    proc = vmm.run(cmdline=cmdline)
    assert proc.returncode == EXIT_POWEROFF, proc.stderr
    assert f"xenon-guest: cmdline={cmdline}" in proc.stdout.splitlines()
    assert int(result_line(proc.stdout, "cmdline")["len"]) == len(cmdline)


@pytest.mark.parametrize("size", [1, 4096 * 3 + 17, 3 * 1024 * 1024 + 5])
def test_initrd_delivered_intact(vmm, tmp_path, size):
    data = os.urandom(size)
    initrd = tmp_path / "initrd.img"
    initrd.write_bytes(data)
    proc = vmm.run("--initrd", str(initrd), cmdline="test=initrd")
    assert proc.returncode == EXIT_POWEROFF, proc.stderr
    res = result_line(proc.stdout, "initrd")
    assert res["modules"] == "1"
    assert int(res["size"]) == size
    assert res["crc32"] == f"{zlib.crc32(data):08x}"


def test_serial_to_file(vmm, tmp_path):
    log = tmp_path / "serial.log"
    proc = vmm.run(serial=f"file:{log}")
    assert proc.returncode == EXIT_POWEROFF, proc.stderr
    assert proc.stdout == ""
    assert result_line(log.read_text(), "boot")["status"] == "pass"


def test_serial_input(vmm):
    proc = vmm.run(cmdline="test=serial-echo", input="hello serial\n")
    assert proc.returncode == EXIT_POWEROFF, proc.stderr
    assert "ECHO: HELLO SERIAL" in proc.stdout
    assert result_line(proc.stdout, "serial-echo")["status"] == "pass"


def test_virtio_console_both_directions(vmm, tmp_path):
    serial = tmp_path / "serial.log"
    proc = vmm.run("--vconsole", "stdio", serial=f"file:{serial}",
                   cmdline="test=console", input="ping over virtio\n")
    assert proc.returncode == EXIT_POWEROFF, proc.stderr
    assert "xenon-guest: hello from virtio-console" in proc.stdout
    assert "ECHO: PING OVER VIRTIO" in proc.stdout
    res = result_line(proc.stdout, "console")
    assert res["status"] == "pass"
    assert int(res["irqs"]) >= 1  # the rx path raised an MSI-X interrupt
    # The serial console carries the same result line.
    assert result_line(serial.read_text(), "console")["status"] == "pass"


def test_boot_timer_reported(vmm):
    proc = vmm.run()
    assert proc.returncode == EXIT_POWEROFF, proc.stderr
    lines = [l for l in proc.stderr.splitlines() if "guest boot time:" in l]
    assert len(lines) == 1, proc.stderr
    us = int(lines[0].split("guest boot time:")[1].split()[0])
    assert 0 < us < 20_000_000
