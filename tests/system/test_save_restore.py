"""save / --restore: a domain saved to a file comes back where it was, with
its memory intact; bad save files are refused before anything is built;
a failed save leaves the domain running."""
import json
import os
import resource
import struct
import time

import pytest

from conftest import EXIT_ERROR, EXIT_POWEROFF, GUEST
from snapshot_helpers import (EXIT_SAVED, config_of, crc32c, dirty_cmdline,
                              finish, first_data_page, progress, request,
                              section_header, sections, until_full_pass,
                              wait_socket)

DOMAIN = {"name": "web", "uuid": "6c3b0e1a-3e4f-4d5c-9a8b-7f6e5d4c3b2a"}


def start_dirty(vmm, tmp_path, *args, **kw):
    sock = tmp_path / "ctl.sock"
    proc = vmm.start("--control", str(sock), *args,
                     cmdline=dirty_cmdline(**kw), memory=64)
    wait_socket(sock, proc)
    return proc, sock


def restore(vmm, path, *args):
    return vmm.start("--restore", str(path), *args, kernel=False, memory=None,
                     vcpus=None)


def stop(proc):
    if proc.poll() is None:
        proc.kill()
        proc.wait()


@pytest.mark.parametrize("verify", ["eager", "lazy"])
def test_save_restore_round_trip(vmm, tmp_path, verify):
    """Eager: RAM checked, then mapped from the file copy-on-write; lazy:
    paged in through userfaultfd, each chunk checked on first touch."""
    sav = tmp_path / "dom.sav"
    src, sock = start_dirty(vmm, tmp_path)
    dst = None
    try:
        before = until_full_pass(src)
        reply = request(sock, {"cmd": "save", "path": str(sav),
                               "config": DOMAIN})
        assert reply["ok"] and reply["state"] == "saved", reply
        assert src.wait(timeout=10) == EXIT_SAVED
        # Only the save file is left: no temporary, no socket.
        assert sorted(os.listdir(tmp_path)) == ["dom.sav"]
        data = sav.read_bytes()
        cfg = config_of(data)
        assert cfg["domain"] == DOMAIN
        assert cfg["vmm"]["memory_mib"] == 64 and "--memory" in cfg["vmm"]["argv"]
        assert [s[1] for s in sections(data)][:2] == [1, 2]   # config, vcpu
        time.sleep(0.5)
        dst = restore(vmm, sav, "--control", str(sock), "--verify-ram", verify)
        after = progress(dst)
        # The guest carries on from where it was saved.
        assert after["written"] >= before["written"]
        assert after["passes"] >= before["passes"]
        # Saving a restored domain (RAM mapped from the first file) and
        # restoring that keeps every page too.
        wait_socket(sock, dst)
        sav2 = tmp_path / "again.sav"
        assert request(sock, {"cmd": "save", "path": str(sav2)})["ok"]
        assert dst.wait(timeout=10) == EXIT_SAVED
        vmm.check_sanitizer(dst.stderr.read())
        sav.unlink()      # the first image may go: the new file is whole
        dst = restore(vmm, sav2, "--verify-ram", verify)
        progress(dst)
        res = finish(dst)
        assert res["status"] == "pass", res
        assert int(res["verified"]) == 8 * 256 and res["errors"] == "0"
        # Its clock moved on by the time it spent in the file: it saw a
        # pause at least as long as the half second it was away.
        assert int(res["max_pause_us"]) >= 450000
        assert dst.wait(timeout=10) == EXIT_POWEROFF
    finally:
        stop(src)
        if dst:
            stop(dst)
    vmm.check_sanitizer(src.stderr.read())
    err = dst.stderr.read()
    vmm.check_sanitizer(err)
    assert "domain restored in" in err
    if verify == "lazy":
        assert "guest RAM paged in" in err, err


def test_save_keep_running_and_failed_saves(vmm, tmp_path):
    src, sock = start_dirty(vmm, tmp_path)
    try:
        until_full_pass(src)
        reply = request(sock, {"cmd": "save", "path": str(tmp_path / "no" / "x.sav")})
        assert not reply["ok"] and "No such file or directory" in reply["error"]
        # A save that fails half-way (file size limit: "disk full")
        # removes its partial file and the domain runs on.
        limit = resource.prlimit(src.pid, resource.RLIMIT_FSIZE)
        resource.prlimit(src.pid, resource.RLIMIT_FSIZE, (1 << 20, limit[1]))
        reply = request(sock, {"cmd": "save", "path": str(tmp_path / "big.sav")})
        assert not reply["ok"] and "File too large" in reply["error"], reply
        resource.prlimit(src.pid, resource.RLIMIT_FSIZE, limit)
        assert not [f for f in os.listdir(tmp_path) if f.startswith("big.sav")]
        assert request(sock, {"cmd": "status"})["state"] == "running"
        reply = request(sock, {"cmd": "save", "path": str(tmp_path / "a.sav"),
                               "keep_running": True, "sync": False})
        assert reply["ok"] and reply["state"] == "running", reply
        assert reply["data_pages"] > 8 * 256
        first = progress(src)
        assert progress(src)["written"] > first["written"]
        for bad in ({"cmd": "save"}, {"cmd": "save", "path": 3},
                    {"cmd": "save", "path": "x", "config": [1]},
                    {"cmd": "save", "path": "x", "keep_running": "yes"}):
            assert not request(sock, bad)["ok"]
        res = finish(src)
        assert res["status"] == "pass" and res["errors"] == "0", res
        assert src.wait(timeout=10) == EXIT_POWEROFF
    finally:
        stop(src)
    vmm.check_sanitizer(src.stderr.read())


@pytest.fixture(scope="module")
def save_file(tmp_path_factory):
    """One good save file of a dirty guest (plain build)."""
    from conftest import Monitor, BUILD
    tmp = tmp_path_factory.mktemp("save")
    mon = Monitor(BUILD, False)
    src, sock = start_dirty(mon, tmp)
    try:
        progress(src)
        reply = request(sock, {"cmd": "save", "path": str(tmp / "good.sav")})
        assert reply["ok"], reply
        assert src.wait(timeout=10) == EXIT_SAVED
    finally:
        stop(src)
    return (tmp / "good.sav").read_bytes()


def flip(data, off):
    b = bytearray(data)
    b[off] ^= 0x20
    return bytes(b)


def section_offset(data, typ, nth=0):
    return [s for s in sections(data) if s[1] == typ][nth]


def new_header(data, version=1, flags=0):
    h = bytearray(data[:32])
    struct.pack_into("<II", h, 8, version, 32)
    struct.pack_into("<I", h, 20, flags)
    struct.pack_into("<I", h, 28, crc32c(bytes(h[:28])))
    return bytes(h) + data[32:]


def insert_after_config(data, typ, flags):
    cfg = section_offset(data, 1)
    at = cfg[6] + cfg[5]
    return data[:at] + section_header(typ, flags, 0, 1, b"future") + data[at:]


BAD_FILES = {
    "empty": (lambda d: b"", "truncated"),
    "magic": (lambda d: b"QEVM\0\0\0\3" + d[8:], "not a Xenon save stream (bad magic)"),
    "newer-version": (lambda d: new_header(d, version=2),
                      "format version 2 is newer than this xenon-vmm supports (1)"),
    "header-checksum": (lambda d: flip(d, 20), "header checksum mismatch"),
    "migration-stream": (lambda d: new_header(d, flags=1),
                         "a migration stream, not a save file"),
    "cut-in-config": (lambda d: d[:100], "truncated"),
    "vcpu-corrupted": (lambda d: flip(d, section_offset(d, 2)[6] + 40),
                       "section 'vcpu' (id 0): payload checksum mismatch"),
    "device-corrupted": (lambda d: flip(d, section_offset(d, 4, 2)[6] + 2),
                         "section 'device' (id 2): payload checksum mismatch"),
    "section-header-corrupted": (lambda d: flip(d, section_offset(d, 3)[0] + 17),
                                 "section header checksum mismatch"),
    "ram-page-corrupted": (lambda d: flip(d, first_data_page(d) + 100),
                           "RAM image: checksum mismatch in chunk"),
    "cut-in-image": (lambda d: d[:first_data_page(d) + 4096], "truncated"),
    "no-end-marker": (lambda d: d[:-40], "truncated"),
    "trailing-garbage": (lambda d: d + b"junk", "unexpected bytes after the end marker"),
    "unknown-mandatory-section": (lambda d: insert_after_config(d, 0x1234, 1),
                                  "section type 0x1234: unknown mandatory section"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_save_files_refused(vmm, tmp_path, save_file, case):
    mutate, message = BAD_FILES[case]
    bad = tmp_path / "bad.sav"
    bad.write_bytes(mutate(save_file))
    proc = vmm.run("--restore", str(bad), kernel=False, memory=None, vcpus=None,
                   timeout=20)
    assert proc.returncode == EXIT_ERROR, proc.stderr
    assert message in proc.stderr, proc.stderr
    assert f"save file '{bad}'" in proc.stderr
    # Refused before anything ran: no guest output, no domain.
    assert proc.stdout == "" and "restored" not in proc.stderr


def test_lazy_restore_stops_on_corrupted_chunk(vmm, tmp_path, save_file):
    """--verify-ram=lazy starts the guest before the RAM is checked; the
    chunk that fails its CRC is never given to the guest: the monitor stops
    with the same message, naming the chunk, and the guest never finishes
    on bad memory."""
    bad = tmp_path / "bad.sav"
    bad.write_bytes(flip(save_file, first_data_page(save_file) + 100))
    exit_file = tmp_path / "exit"
    proc = vmm.run("--restore", str(bad), "--verify-ram", "lazy",
                   "--exit-file", str(exit_file), kernel=False, memory=None,
                   vcpus=None, timeout=20)
    assert proc.returncode == EXIT_ERROR, proc.stderr
    assert "RAM image: checksum mismatch in chunk" in proc.stderr
    assert "stopping the domain" in proc.stderr
    assert "status=pass" not in proc.stdout
    assert exit_file.read_text().strip() == "error"
    # The eager default refuses the same file before building anything.
    proc = vmm.run("--restore", str(bad), kernel=False, memory=None,
                   vcpus=None, timeout=20)
    assert proc.returncode == EXIT_ERROR and "restored" not in proc.stderr
    proc = vmm.run("--restore", str(bad), "--verify-ram", "sometimes",
                   kernel=False, memory=None, vcpus=None)
    assert proc.returncode == EXIT_ERROR
    assert "--verify-ram: 'sometimes': expected eager, lazy or none" in proc.stderr


def test_restore_refuses_other_machines(vmm, tmp_path, save_file):
    good = tmp_path / "good.sav"
    good.write_bytes(save_file)
    for args, message in (
            (["--memory", "128"], "come from the saved domain"),
            (["--kernel", str(GUEST)], "come from the saved domain"),
            (["--incoming", "tcp::1"], "cannot be used together")):
        proc = vmm.run("--restore", str(good), *args, kernel=False, memory=None,
                       vcpus=None)
        assert proc.returncode == EXIT_ERROR and message in proc.stderr, proc.stderr
    proc = vmm.run("--no-verify-ram", cmdline="test=boot")
    assert proc.returncode == EXIT_ERROR and "need --restore" in proc.stderr
    proc = vmm.run("--restore", str(tmp_path / "none.sav"), kernel=False,
                   memory=None, vcpus=None)
    assert proc.returncode == EXIT_ERROR
    assert "No such file or directory" in proc.stderr
    # --save-info: the same checks, then the config for the daemon.
    proc = vmm.run("--save-info", str(good), kernel=False, memory=None,
                   vcpus=None, serial=None)
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout)
    assert info["ok"] and info["config"]["vmm"]["memory_mib"] == 64
    assert info["ram_bytes"] == 64 << 20 and info["data_pages"] > 0
    bad = tmp_path / "bad.sav"
    bad.write_bytes(save_file[:-1])
    proc = vmm.run("--save-info", str(bad), kernel=False, memory=None,
                   vcpus=None, serial=None)
    assert proc.returncode == EXIT_ERROR and "truncated" in proc.stderr
    # The good file still restores (console given again, RAM unchecked).
    proc = restore(vmm, good, "--serial", "stdio", "--no-verify-ram")
    try:
        progress(proc)
        assert finish(proc)["status"] == "pass"
        assert proc.wait(timeout=10) == EXIT_POWEROFF
    finally:
        stop(proc)
    vmm.check_sanitizer(proc.stderr.read())
