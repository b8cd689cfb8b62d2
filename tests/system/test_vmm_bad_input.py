"""Bad input to xenon-vmm: a clear message naming the problem, exit 1,
no crash and no process left behind."""
import os
import struct
import subprocess
import uuid

import pytest

from conftest import EXIT_ERROR, GUEST


def no_process_named(name):
    out = subprocess.run(["pgrep", "-f", name], capture_output=True, text=True)
    return out.stdout.strip() == ""


def run_bad(vmm, *args, **kw):
    name = f"bad-{uuid.uuid4().hex[:8]}"
    proc = vmm.run("--name", name, *args, timeout=20, **kw)
    assert proc.returncode == EXIT_ERROR, (proc.returncode, proc.stderr)
    assert "xenon-vmm:" in proc.stderr
    assert "Segmentation" not in proc.stderr
    assert no_process_named(name)
    return proc.stderr


def minimal_elf(path, with_note=False):
    """An ELF64 x86-64 executable with one PT_LOAD and, optionally, a PVH
    note; enough for the loader to judge it."""
    code = b"\xf4" * 16  # hlt
    phnum = 2 if with_note else 1
    ehdr_size, phdr_size = 64, 56
    data_off = ehdr_size + phnum * phdr_size
    note = b""
    if with_note:
        note = struct.pack("<III", 4, 4, 18) + b"Xen\0" + struct.pack("<I", 0x100000)
    ehdr = (b"\x7fELF" + bytes([2, 1, 1]) + bytes(9) +
            struct.pack("<HHIQQQIHHHHHH", 2, 62, 1, 0x100000, ehdr_size, 0, 0,
                        ehdr_size, phdr_size, phnum, 64, 0, 0))
    load = struct.pack("<IIQQQQQQ", 1, 5, data_off, 0x100000, 0x100000,
                       len(code), len(code), 0x1000)
    phdrs = load
    if with_note:
        phdrs += struct.pack("<IIQQQQQQ", 4, 4, data_off + len(code), 0, 0,
                             len(note), len(note), 4)
    path.write_bytes(ehdr + phdrs + code + note)
    return path


def test_missing_kernel_file(vmm, tmp_path):
    err = run_bad(vmm, kernel=tmp_path / "nope")
    assert f"kernel: '{tmp_path / 'nope'}': No such file or directory" in err


def test_kernel_is_directory(vmm, tmp_path):
    err = run_bad(vmm, kernel=tmp_path)
    assert "not a regular file" in err


def test_kernel_not_a_kernel(vmm, tmp_path):
    junk = tmp_path / "junk.bin"
    junk.write_bytes(os.urandom(8192))
    err = run_bad(vmm, kernel=junk)
    assert f"kernel: '{junk}': not a kernel" in err


def test_empty_kernel(vmm, tmp_path):
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    assert "not a kernel" in run_bad(vmm, kernel=empty)


def test_elf_without_pvh_note(vmm, tmp_path):
    elf = minimal_elf(tmp_path / "nonote.elf")
    assert "no PVH entry note" in run_bad(vmm, kernel=elf)


def test_elf_with_truncated_headers(vmm, tmp_path):
    elf = minimal_elf(tmp_path / "trunc.elf", with_note=True)
    elf.write_bytes(elf.read_bytes()[:80])
    assert "outside the file" in run_bad(vmm, kernel=elf)


def test_truncated_bzimage(vmm, tmp_path):
    img = bytearray(0x1000)
    img[0x1f1] = 60  # setup sectors past the end of the file
    img[0x1fe:0x200] = b"\x55\xaa"
    img[0x202:0x206] = b"HdrS"
    img[0x206:0x208] = struct.pack("<H", 0x020f)
    img[0x236:0x238] = struct.pack("<H", 1)
    k = tmp_path / "bzImage"
    k.write_bytes(bytes(img))
    assert "truncated bzImage" in run_bad(vmm, kernel=k)


def test_missing_initrd(vmm, tmp_path):
    err = run_bad(vmm, "--initrd", str(tmp_path / "no-initrd"))
    assert "ramdisk: " in err and "No such file" in err


def test_initrd_too_big_for_memory(vmm, tmp_path):
    big = tmp_path / "big.img"
    with open(big, "wb") as f:
        f.truncate(40 << 20)
    assert "does not fit" in run_bad(vmm, "--initrd", str(big), memory=16)


@pytest.mark.parametrize("mem,message", [
    ("0", "memory: 0 MiB is too small"),
    ("abc", "--memory: 'abc' is not a size"),
    ("-5", "--memory: '-5' is not a size"),
    ("99999999", "more than the host has"),
])
def test_bad_memory(vmm, mem, message):
    assert message in run_bad(vmm, memory=mem)


@pytest.mark.parametrize("vcpus,message", [
    ("0", "vcpus: 0 is out of range"),
    ("1000", "vcpus: 1000 is out of range"),
    ("two", "--vcpus: 'two' is not a number"),
])
def test_bad_vcpus(vmm, vcpus, message):
    assert message in run_bad(vmm, vcpus=vcpus)


def test_unknown_option(vmm):
    assert "unknown option '--frobnicate'" in run_bad(vmm, "--frobnicate")


def test_option_without_value(vmm):
    assert "needs a value" in run_bad(vmm, "--serial")


def test_bad_console_spec(vmm):
    assert "--serial: 'tcp:1' is not one of" in run_bad(vmm, serial="tcp:1")


def test_no_kernel(vmm):
    assert "no kernel given" in run_bad(vmm, kernel=False)


def test_small_memory_still_boots(vmm):
    # The lower bound is about what fits, not a round number: 8 MiB holds
    # the test guest, so it must boot.
    proc = vmm.run(memory=8)
    assert proc.returncode == 0, proc.stderr


def test_control_socket_path_too_long(vmm, tmp_path):
    long = tmp_path / ("s" * 200)
    assert "path too long" in run_bad(vmm, "--control", str(long))


def test_guest_exists():
    assert GUEST.exists(), "test guest not built"
