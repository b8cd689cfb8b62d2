"""qcow2 disks, interoperable with qemu-img: images it creates are written
by the guest and then pass `qemu-img check`, `qemu-img convert` shows the
guest's data where it wrote it; backing files, compressed clusters, small
clusters (refcount table growth) and version 2 images; flushed data
survives kill -9; unsupported features are refused with the reason."""
import hashlib
import os
import signal
import struct
import subprocess
import zlib

import pytest

from blk_helpers import SECTOR, expect_pass, pattern, run_blk
from conftest import EXIT_ERROR, wait_for_line

MIB = 1 << 20


def qemu_img(*args, check=True):
    return subprocess.run(["qemu-img", *map(str, args)], capture_output=True,
                          text=True, check=check)


def create(path, size="64M", *opts):
    qemu_img("create", "-f", "qcow2", *opts, path, size)
    return path


def assert_clean(path):
    res = qemu_img("check", path, check=False)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "No errors were found" in res.stdout


def as_raw(path, tmp_path):
    out = tmp_path / (path.name + ".raw")
    qemu_img("convert", "-O", "raw", path, out)
    return out.read_bytes()


def sha256(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


@pytest.fixture(autouse=True)
def need_qemu_img():
    if subprocess.run(["which", "qemu-img"], capture_output=True).returncode:
        pytest.skip("qemu-img not installed")


@pytest.mark.parametrize("spec", [
    "tap:qcow2:{img},xvda,w",
    "format=qcow2, vdev=xvda, access=rw, target={img}",
])
def test_qemu_img_image_written_and_checked(vmm, tmp_path, spec):
    img = create(tmp_path / "a.qcow2")
    # 48 KiB requests from sector 100: pieces of 64 KiB clusters.
    expect_pass(vmm, "blk-pattern", [spec.format(img=img)],
                "seed=5 start=100 sectors=1500 reqkb=48", vcpus=2)
    assert_clean(img)
    data = as_raw(img, tmp_path)
    assert len(data) == 64 * MIB
    assert data[100 * SECTOR:1600 * SECTOR] == pattern(5, 100, 1500)
    assert data[:100 * SECTOR] == bytes(100 * SECTOR)
    assert data[1600 * SECTOR:] == bytes(len(data) - 1600 * SECTOR)
    expect_pass(vmm, "blk-verify", [f"{img},qcow2,xvda,r"],
                "seed=5 start=100 sectors=1500")


@pytest.mark.parametrize("opts", [
    ("-o", "cluster_size=512"),          # refcount table has to grow
    ("-o", "compat=0.10"),               # version 2: no zero clusters
    ("-o", "cluster_size=2M,refcount_bits=64"),
])
def test_image_variants(plain_vmm, tmp_path, opts):
    img = create(tmp_path / "v.qcow2", "32M", *opts)
    expect_pass(plain_vmm, "blk-pattern", [f"{img},qcow2,xvda,w"],
                "seed=6 start=7 sectors=2000 reqkb=64")
    expect_pass(plain_vmm, "blk-zero", [f"{img},qcow2,xvda,w"],
                "start=1000 sectors=1024 unmap")
    assert_clean(img)
    data = as_raw(img, tmp_path)
    want = pattern(6, 7, 2000)
    assert data[7 * SECTOR:1000 * SECTOR] == want[:993 * SECTOR]
    assert data[1000 * SECTOR:2024 * SECTOR] == bytes(1024 * SECTOR)


def test_backing_files(vmm, tmp_path):
    base = tmp_path / "base.raw"
    base.write_bytes(pattern(9, 0, 4096) + bytes(14 * MIB))
    base_digest = sha256(base)
    mid = create(tmp_path / "mid.qcow2", "16M", "-F", "raw", "-b", base)
    top = create(tmp_path / "top.qcow2", "16M", "-F", "qcow2", "-b", mid.name)
    # Through a two-level chain: the base's data, then the guest's own.
    expect_pass(vmm, "blk-verify", [f"{top},qcow2,xvda,r"], "seed=9 sectors=4096")
    expect_pass(vmm, "blk-pattern", [f"{top},qcow2,xvda,w"],
                "seed=10 start=1000 sectors=333 reqkb=4")
    assert_clean(top)
    assert sha256(base) == base_digest
    assert as_raw(mid, tmp_path) == base.read_bytes()   # untouched too
    data = as_raw(top, tmp_path)
    old = pattern(9, 0, 4096)
    assert data[:1000 * SECTOR] == old[:1000 * SECTOR]
    assert data[1000 * SECTOR:1333 * SECTOR] == pattern(10, 1000, 333)
    assert data[1333 * SECTOR:4096 * SECTOR] == old[1333 * SECTOR:]


def test_compressed_clusters(plain_vmm, tmp_path):
    text = b"".join(b"xenon block %08d\n" % i for i in range(250000))[:4 * MIB]
    raw = tmp_path / "c.raw"
    raw.write_bytes(text)
    img = tmp_path / "c.qcow2"
    qemu_img("convert", "-c", "-O", "qcow2", raw, img)
    assert "100.00% compressed" in qemu_img("check", img).stdout
    res = expect_pass(plain_vmm, "blk-ro", [f"{img},qcow2,xvda,r"], "sectors=8192")
    assert res["crc32"] == f"{zlib.crc32(text):08x}"
    # Writing next to compressed data: copy-on-write into plain clusters.
    expect_pass(plain_vmm, "blk-zero", [f"{img},qcow2,xvda,w"],
                "start=100 sectors=1000")
    assert_clean(img)
    data = as_raw(img, tmp_path)
    assert data[:100 * SECTOR] == text[:100 * SECTOR]
    assert data[100 * SECTOR:1100 * SECTOR] == bytes(1000 * SECTOR)
    assert data[1100 * SECTOR:] == text[1100 * SECTOR:]


def test_read_only_qcow2_unchanged(vmm, tmp_path):
    img = create(tmp_path / "ro.qcow2", "8M")
    digest = sha256(img)
    res = expect_pass(vmm, "blk-ro", [f"{img},qcow2,hdc:cdrom"], "sectors=64")
    assert res["write_status"] == "1" and res["crc32"] == f"{zlib.crc32(bytes(64 * SECTOR)):08x}"
    assert sha256(img) == digest


def test_flushed_data_survives_kill9(vmm, tmp_path):
    img = create(tmp_path / "k.qcow2")
    spec = f"tap:qcow2:{img},xvda,w"
    proc = vmm.start("--disk", spec, cmdline="test=blk-pattern seed=21 "
                     "start=64 sectors=1024 reqkb=16 hold")
    try:
        wait_for_line(proc.stdout, "xenon-guest: blk flushed", timeout=30)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    # All metadata the flush covered is on disk: no corruption, no loss.
    assert_clean(img)
    expect_pass(vmm, "blk-verify", [spec], "seed=21 start=64 sectors=1024")


# ---- refusals ----------------------------------------------------------------------

def patched(path, offset, fmt, value):
    with open(path, "r+b") as f:
        f.seek(offset)
        f.write(struct.pack(fmt, value))
    return path


def refused(vmm, spec):
    proc, _ = run_blk(vmm, "blk-list", [spec])
    assert proc.returncode == EXIT_ERROR, (proc.returncode, proc.stderr)
    assert "xenon-guest: boot-timer" not in proc.stdout
    return proc.stderr


@pytest.mark.parametrize("make,why", [
    (lambda p: create(p, "1M", "--object", "secret,id=s0,data=pw", "-o",
                      "encrypt.format=luks,encrypt.key-secret=s0"),
     "encrypted images (LUKS) are not supported"),
    (lambda p: create(p, "1M", "-o", f"data_file={p}.data"),
     "images with an external data file are not supported"),
    (lambda p: create(p, "1M", "-o", "extended_l2=on"),
     "extended L2 entries (subclusters) are not supported"),
    (lambda p: create(p, "1M", "-o", "compression_type=zstd"),
     "compression type zstd is not supported (zlib is)"),
    (lambda p: patched(create(p, "1M"), 72, ">Q", 1),
     "the image is marked dirty"),
    (lambda p: patched(create(p, "1M"), 72, ">Q", 2),
     "the image is marked corrupt"),
    (lambda p: patched(create(p, "1M"), 72, ">Q", 1 << 40),
     "unknown incompatible features 0x10000000000"),
    (lambda p: patched(create(p, "1M"), 4, ">I", 4),
     "qcow2 version 4 is not supported"),
    (lambda p: patched(create(p, "1M"), 20, ">I", 30), "bad cluster size"),
    (lambda p: (qemu_img("snapshot", "-c", "s1", create(p, "1M")), p)[1],
     "writing to images with internal snapshots (1) is not supported"),
    (lambda p: create(p, "1M", "-u", "-F", "raw", "-b", "/nonexistent/base.raw"),
     "backing file '/nonexistent/base.raw': No such file or directory"),
    (lambda p: (p.write_bytes(bytes(4096)), p)[1], "not a qcow2 image"),
], ids=["luks", "data-file", "extended-l2", "zstd", "dirty", "corrupt",
        "unknown-feature", "version-4", "cluster-size", "snapshots",
        "missing-backing", "not-qcow2"])
def test_unsupported_images_refused(vmm, tmp_path, make, why):
    img = make(tmp_path / "bad.qcow2")
    err = refused(vmm, f"{img},qcow2,xvda,w")
    assert f"disk[0]: '{img}': " in err and why in err, err


def test_snapshots_readable(plain_vmm, tmp_path):
    img = create(tmp_path / "s.qcow2", "1M")
    qemu_img("snapshot", "-c", "s1", img)
    res = expect_pass(plain_vmm, "blk-ro", [f"{img},qcow2,xvda,r"], "sectors=16")
    assert res["ro"] == "1"
