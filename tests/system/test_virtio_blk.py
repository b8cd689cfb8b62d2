"""virtio-blk with Xen's disk specs: data integrity over raw files and phy:
block devices, read-only disks, ordering and IDs, flush durability across
kill -9, a hostile guest, and bad backend specs refused before the guest
starts.  (qcow2 images: test_virtio_blk_qcow2.py.)"""
import hashlib
import os
import signal
import subprocess
import zlib

import pytest

from blk_helpers import SECTOR, expect_pass, pattern, run_blk
from conftest import EXIT_ERROR, EXIT_POWEROFF, result_line, wait_for_line

MIB = 1 << 20


def make_image(path, size=16 * MIB, data=None):
    with open(path, "wb") as f:
        if data:
            f.write(data)
        f.truncate(size)
    return path


def sha256(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


@pytest.fixture
def loopdev(tmp_path):
    """A real loop device over a 16 MiB file: (device, backing file)."""
    if not os.path.exists("/dev/loop-control"):
        pytest.skip("no loop device support")
    img = make_image(tmp_path / "loop.img")
    dev = subprocess.run(["losetup", "--find", "--show", str(img)],
                         capture_output=True, text=True)
    if dev.returncode != 0:
        pytest.skip(f"losetup failed: {dev.stderr}")
    dev = dev.stdout.strip()
    # A read-only flag set by an earlier user of this loop device stays.
    subprocess.run(["blockdev", "--setrw", dev], check=False)
    yield dev, img
    subprocess.run(["blockdev", "--setrw", dev], check=False)
    subprocess.run(["losetup", "-d", dev], check=False)


# ---- integrity ---------------------------------------------------------------

@pytest.mark.parametrize("spec", [
    "format=raw, vdev=xvda, access=rw, target={img}",
    "file:{img},xvda,w",
    "tap:aio:{img},xvda,w",
])
def test_pattern_raw_file(vmm, tmp_path, spec):
    img = make_image(tmp_path / "disk.raw")
    res = expect_pass(vmm, "blk-pattern", [spec.format(img=img)],
                      "seed=7 start=100 sectors=768 reqkb=16", vcpus=2)
    assert res["id"] == "xvda"
    assert int(res["capacity"]) == 16 * MIB // SECTOR
    assert res["queues"] == "2"          # one queue per vCPU
    data = open(img, "rb").read()
    assert data[100 * SECTOR:868 * SECTOR] == pattern(7, 100, 768)
    assert data[:100 * SECTOR] == bytes(100 * SECTOR)
    assert data[868 * SECTOR:] == bytes(len(data) - 868 * SECTOR)


def test_pattern_phy_loop_device(vmm, loopdev):
    dev, img = loopdev
    expect_pass(vmm, "blk-pattern", [f"phy:{dev},xvdb,w"],
                "seed=11 start=2048 sectors=512 reqkb=32")
    expect_pass(vmm, "blk-verify", [f"phy:{dev},xvdb,r"],
                "seed=11 start=2048 sectors=512")
    # The guest's flush went through the loop device to its file.
    with open(img, "rb") as f:
        f.seek(2048 * SECTOR)
        assert f.read(512 * SECTOR) == pattern(11, 2048, 512)


def test_verify_detects_wrong_data(plain_vmm, tmp_path):
    img = make_image(tmp_path / "d.raw", data=pattern(3, 0, 64))
    expect_pass(plain_vmm, "blk-verify", [f"{img},raw,xvda,r"], "seed=3 sectors=64")
    proc, res = run_blk(plain_vmm, "blk-verify", [f"{img},raw,xvda,r"],
                        "seed=4 sectors=64")
    assert res["status"] == "fail" and res["reason"] == "mismatch"


def test_write_zeroes_and_discard(vmm, tmp_path):
    img = make_image(tmp_path / "z.raw", 4 * MIB, os.urandom(4 * MIB))
    before = os.stat(img).st_blocks
    expect_pass(vmm, "blk-zero", [f"{img},raw,xvda,w"],
                "start=2048 sectors=2048 unmap")
    data = open(img, "rb").read()
    assert data[MIB:2 * MIB] == bytes(MIB)
    assert os.stat(img).st_blocks < before      # the range was punched out
    assert len(data) == 4 * MIB


# ---- read-only, cdrom, order -------------------------------------------------

@pytest.mark.parametrize("spec", [
    "{img},raw,xvda,r",
    "format=raw, vdev=xvda, access=ro, target={img}",
    "{img},raw,hdc:cdrom",
    "file:{img},cdrom:hdc,r",
])
def test_read_only_disk(vmm, tmp_path, spec):
    content = os.urandom(64 * SECTOR)
    img = make_image(tmp_path / "ro.raw", 2 * MIB, content)
    digest = sha256(img)
    res = expect_pass(vmm, "blk-ro", [spec.format(img=img)], "sectors=64")
    assert res["ro"] == "1"
    assert res["write_status"] == "1"            # VIRTIO_BLK_S_IOERR
    assert res["crc32"] == f"{zlib.crc32(content):08x}"
    assert sha256(img) == digest


def test_disk_order_ids_and_empty_cdrom(vmm, tmp_path):
    a = make_image(tmp_path / "a.raw", MIB)
    b = make_image(tmp_path / "b.raw", 2 * MIB)
    res = expect_pass(vmm, "blk-list", [f"{b},raw,xvdb,w", ",hdc:cdrom,r",
                                        f"{a},raw,xvda,w"])
    assert res["ids"] == "hdc,xvda,xvdb"        # Xen device-number order
    proc, _ = run_blk(vmm, "blk-list", [f"{b},raw,xvdb,w", ",hdc:cdrom,r",
                                        f"{a},raw,xvda,w"])
    lines = [l for l in proc.stdout.splitlines() if "xenon-guest: blk disk=" in l]
    assert "id=hdc capacity=0 ro=1" in lines[0]
    assert f"id=xvda capacity={MIB // SECTOR} ro=0 discard=1" in lines[1]
    assert f"id=xvdb capacity={2 * MIB // SECTOR}" in lines[2]


# ---- durability ----------------------------------------------------------------

def test_flushed_data_survives_kill9(vmm, tmp_path):
    img = make_image(tmp_path / "k.raw")
    spec = f"{img},raw,xvda,w"
    proc = vmm.start("--disk", spec, cmdline="test=blk-pattern seed=21 "
                     "start=64 sectors=1024 hold")
    try:
        wait_for_line(proc.stdout, "xenon-guest: blk flushed", timeout=30)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    expect_pass(vmm, "blk-verify", [spec], "seed=21 start=64 sectors=1024")


# ---- a hostile guest -------------------------------------------------------------

def test_malformed_descriptors(vmm, tmp_path):
    img = make_image(tmp_path / "bad.raw", MIB)
    proc, res = run_blk(vmm, "blk-bad", [f"{img},raw,xvda,w"])
    assert proc.returncode == EXIT_POWEROFF, proc.stderr
    assert res["status"] == "pass", (res, proc.stdout)
    assert res["broken"] == res["cases"] == "6"
    # One clear error for the first breakage; the monitor carried on.
    assert "virtio-blk xvda: queue 0: " in proc.stderr
    assert "device needs reset" in proc.stderr
    for case in ("out-of-ram", "loop", "huge-length", "no-status",
                 "short-header", "bad-head"):
        assert f"case={case} needs_reset=1" in proc.stdout


# ---- bad specs: refused before the guest starts ----------------------------------

def refused(vmm, *specs):
    proc, _ = run_blk(vmm, "blk-list", list(specs))
    assert proc.returncode == EXIT_ERROR, (proc.returncode, proc.stderr)
    assert "xenon-guest: boot-timer" not in proc.stdout
    assert "Sanitizer" not in proc.stderr and "Segmentation" not in proc.stderr
    return proc.stderr


def test_bad_spec_missing_file(vmm, tmp_path):
    good = make_image(tmp_path / "good.raw", MIB)
    missing = tmp_path / "x" / "y.img"
    err = refused(vmm, f"{good},raw,xvda,w", f"{missing},raw,xvdb,w")
    assert f"disk[1]: '{missing}': No such file or directory" in err


def test_bad_spec_directory(vmm, tmp_path):
    err = refused(vmm, f"format=raw, vdev=xvda, target={tmp_path}")
    assert f"disk[0]: '{tmp_path}': Is a directory" in err


def test_bad_spec_read_only_file_opened_writable(vmm, tmp_path):
    img = make_image(tmp_path / "ro.raw", MIB)
    os.chmod(img, 0o444)
    err = refused(vmm, f"{img},raw,xvda,w")
    assert f"disk[0]: '{img}': the file is read-only (mode 0444) but the disk " \
           "is writable" in err
    # The same file read-only is fine.
    expect_pass(vmm, "blk-list", [f"{img},raw,xvda,r"])


def test_bad_spec_not_a_disk(vmm):
    err = refused(vmm, "phy:/dev/null,xvda,r")
    assert "disk[0]: '/dev/null': not a regular file or block device" in err


def test_bad_spec_read_only_device_opened_writable(vmm, loopdev):
    dev, _ = loopdev
    subprocess.run(["blockdev", "--setro", dev], check=True)
    err = refused(vmm, f"phy:{dev},xvda,w")
    assert f"disk[0]: '{dev}': the block device is read-only" in err


def test_bad_spec_same_image_twice(vmm, tmp_path):
    img = make_image(tmp_path / "twice.raw", MIB)
    err = refused(vmm, f"{img},raw,xvda,w", f"{img},raw,xvdb,w")
    assert f"disk[1]: '{img}': in use by another disk or domain" in err


def test_bad_spec_same_vdev_twice(vmm, tmp_path):
    a = make_image(tmp_path / "a.raw", MIB)
    b = make_image(tmp_path / "b.raw", MIB)
    err = refused(vmm, f"{a},raw,xvda,w", f"{b},raw,51712,w")
    assert "vdev 51712 is the same device as disk[0]'s xvda" in err


@pytest.mark.parametrize("spec,why", [
    ("xvda", "disk[0]: 'xvda': "),
    ("/x.img,raw,xvda,rwx", "bad access mode 'rwx'"),
    ("format=vhd, vdev=xvda, target=/x.vhd", "only raw and qcow2 images"),
    ("/x.img,raw", "no vdev"),
    ("iscsi:iqn.2001-04.com.example:disk1,xvda,w",
     "block scripts (block-iscsi) are not supported"),
])
def test_bad_spec_syntax(vmm, spec, why):
    assert why in refused(vmm, spec)
