"""Helpers for the save/restore and migration tests: the control socket,
the test guest's `test=dirty` scenario, and a reader for the save-file
format of docs/save-format.md (to corrupt files in precise places)."""
import json
import os
import struct
import time

from conftest import result_line, wait_for_line
from control_socket import request  # noqa: F401 (re-exported)

EXIT_SAVED = 7


def wait_socket(path, proc, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.path.exists(path):
            return
        assert proc.poll() is None, f"monitor exited: {proc.stderr.read()}"
        time.sleep(0.01)
    raise AssertionError(f"{path} never appeared")


def dirty_cmdline(wss_mib=8, rate_mib=20, report_ms=200):
    return f"test=dirty wss_mib={wss_mib} rate_mib={rate_mib} report_ms={report_ms}"


def progress(proc, timeout=30):
    """The next `xenon-guest: dirty t=...` line, as a dict of ints."""
    line, _ = wait_for_line(proc.stdout, "xenon-guest: dirty t=", timeout)
    fields = dict(kv.split("=", 1) for kv in line.split()[2:])
    return {k: int(v.rstrip("ms")) for k, v in fields.items()}


def until_full_pass(proc, timeout=30):
    """Progress lines until every page of the working set was written."""
    deadline = time.monotonic() + timeout
    while True:
        p = progress(proc, timeout)
        if p["passes"] >= 1:
            return p
        assert time.monotonic() < deadline, "the guest never finished a pass"


def finish(proc, timeout=30):
    """Ask the dirty guest for its result ('q' on COM1); returns it."""
    proc.stdin.write("q")
    proc.stdin.flush()
    line, seen = wait_for_line(proc.stdout, "XENON-RESULT test=dirty", timeout)
    return result_line(line, "dirty")


# ---- the save file format --------------------------------------------------

_CRC_TABLE = []
for _i in range(256):
    _c = _i
    for _ in range(8):
        _c = (_c >> 1) ^ 0x82F63B78 if _c & 1 else _c >> 1
    _CRC_TABLE.append(_c)


def crc32c(data, crc=0):
    crc ^= 0xFFFFFFFF
    for b in data:
        crc = (crc >> 8) ^ _CRC_TABLE[(crc ^ b) & 0xFF]
    return crc ^ 0xFFFFFFFF


SEC_NAMES = {1: "config", 2: "vcpu", 3: "platform", 4: "device", 5: "ram-pages",
             6: "ram-image", 0x7FFF: "end"}


def sections(data):
    """[(offset, type, flags, id, version, length, payload_offset)] of a save
    file, walking over the RAM image the way a reader does."""
    assert data[:8] == b"XENONSAV"
    out, off = [], 32
    while off < len(data):
        marker, typ, flags, sid, ver, length, pcrc, hcrc = struct.unpack_from(
            "<IHHIIQII", data, off)
        assert marker == 0x43455358 and hcrc == crc32c(data[off:off + 28])
        out.append((off, typ, flags, sid, ver, length, off + 32))
        off += 32 + length
        if typ == 6:    # the RAM image follows at image_offset
            ram_size, image_offset = struct.unpack_from("<QQ", data, off - length)
            off = image_offset + ram_size
        if typ == 0x7FFF:
            break
    return out


def section_header(typ, flags, sid, ver, payload):
    h = struct.pack("<IHHIIQI", 0x43455358, typ, flags, sid, ver, len(payload),
                    crc32c(payload))
    return h + struct.pack("<I", crc32c(h))


def first_data_page(data):
    """File offset of the first RAM page the image holds data for."""
    for off, typ, _, _, _, length, p in sections(data):
        if typ == 6:
            ram_size, image_offset = struct.unpack_from("<QQ", data, p)
            bitmap = data[p + 32:p + 32 + ram_size // 4096 // 8]
            for i, byte in enumerate(bitmap):
                if byte:
                    bit = (byte & -byte).bit_length() - 1
                    return image_offset + (i * 8 + bit) * 4096
    raise AssertionError("no data page in the image")


def config_of(data):
    for off, typ, _, _, _, length, p in sections(data):
        if typ == 1:
            return json.loads(data[p:p + length])
    raise AssertionError("no config section")
