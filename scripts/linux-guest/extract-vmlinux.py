#!/usr/bin/env python3
"""Extract the uncompressed ELF vmlinux from a Linux x86 bzImage.

usage: extract-vmlinux.py BZIMAGE OUT [--require-pvh]

The bzImage's protected-mode part carries the kernel as a compressed
payload (arch/x86/boot/compressed: vmlinux.bin, i.e. the ELF vmlinux
stripped of symbols, followed by its relocation table).  The setup header
tells where it is (payload_offset/payload_length, boot protocol >= 2.08);
if that fails, the file is scanned for the magic of every compressor the
kernel supports, like the kernel's own scripts/extract-vmlinux.  The
decompressed ELF is cut at its real end (the relocation table after it is
dropped) and checked for the Xen PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY,
type 18, name "Xen"), which direct PVH boot needs.
"""
import bz2
import lzma
import os
import shutil
import struct
import subprocess
import sys
import zlib

ELF_MAGIC = b"\x7fELF"
XEN_ELFNOTE_PHYS32_ENTRY = 18

# (name, magic) as in the kernel's scripts/extract-vmlinux.
MAGICS = [
    ("gzip", b"\x1f\x8b\x08"),
    ("xz", b"\xfd7zXZ\x00"),
    ("bzip2", b"BZh"),
    ("lzma", b"\x5d\x00\x00\x00"),
    ("lzo", b"\x89LZO"),
    ("lz4", b"\x02\x21\x4c\x18"),   # lz4 legacy frame, as the kernel writes it
    ("zstd", b"\x28\xb5\x2f\xfd"),
]


class NotFound(Exception):
    pass


def _external(tool, args, data):
    """Decompress with a command-line tool; tolerate trailing garbage."""
    if shutil.which(tool) is None:
        raise NotFound(f"{tool} not installed")
    proc = subprocess.run([tool] + args, input=data, capture_output=True)
    # The kernel appends the uncompressed size after the stream; zstd and
    # lz4 complain about that but have written the whole stream by then.
    if not proc.stdout:
        raise NotFound(f"{tool}: {proc.stderr.decode(errors='replace').strip()}")
    return proc.stdout


def decompress(kind, data):
    if kind == "gzip":
        return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(data)
    if kind == "xz":
        return lzma.LZMADecompressor(format=lzma.FORMAT_XZ).decompress(data)
    if kind == "lzma":
        return lzma.LZMADecompressor(format=lzma.FORMAT_ALONE).decompress(data)
    if kind == "bzip2":
        return bz2.BZ2Decompressor().decompress(data)
    if kind == "zstd":
        return _external("zstd", ["-d", "-c", "-q"], data)
    if kind == "lz4":
        return _external("lz4", ["-d", "-c", "-q"], data)
    if kind == "lzo":
        return _external("lzop", ["-d", "-c", "-q"], data)
    raise NotFound(kind)


def elf_end(elf):
    """Length of the ELF image proper (headers, segments, section table)."""
    if elf[:4] != ELF_MAGIC or elf[4] != 2 or elf[5] != 1:
        raise ValueError("not a little-endian ELF64 file")
    (e_phoff, e_shoff) = struct.unpack_from("<QQ", elf, 0x20)
    (e_phentsize, e_phnum, e_shentsize, e_shnum) = struct.unpack_from("<HHHH", elf, 0x36)
    end = max(0x40, e_phoff + e_phentsize * e_phnum, e_shoff + e_shentsize * e_shnum)
    for i in range(e_phnum):
        off = e_phoff + i * e_phentsize
        p_offset, = struct.unpack_from("<Q", elf, off + 8)
        p_filesz, = struct.unpack_from("<Q", elf, off + 32)
        end = max(end, p_offset + p_filesz)
    for i in range(e_shnum):
        off = e_shoff + i * e_shentsize
        sh_type, = struct.unpack_from("<I", elf, off + 4)
        sh_offset, sh_size = struct.unpack_from("<QQ", elf, off + 24)
        if sh_type != 8:  # SHT_NOBITS takes no file space
            end = max(end, sh_offset + sh_size)
    if end > len(elf):
        raise ValueError("ELF truncated")
    return end


def pvh_entry(elf):
    """The PVH 32-bit entry address from the PT_NOTE segments, or None."""
    e_phoff, = struct.unpack_from("<Q", elf, 0x20)
    e_phentsize, e_phnum = struct.unpack_from("<HH", elf, 0x36)
    for i in range(e_phnum):
        off = e_phoff + i * e_phentsize
        p_type, = struct.unpack_from("<I", elf, off)
        if p_type != 4:  # PT_NOTE
            continue
        p_offset, = struct.unpack_from("<Q", elf, off + 8)
        p_filesz, = struct.unpack_from("<Q", elf, off + 32)
        pos, end = p_offset, p_offset + p_filesz
        while pos + 12 <= end:
            namesz, descsz, ntype = struct.unpack_from("<III", elf, pos)
            name = elf[pos + 12:pos + 12 + namesz].rstrip(b"\0")
            desc_off = pos + 12 + ((namesz + 3) & ~3)
            if name == b"Xen" and ntype == XEN_ELFNOTE_PHYS32_ENTRY:
                size = 8 if descsz >= 8 else 4
                return struct.unpack_from("<Q" if size == 8 else "<I", elf, desc_off)[0]
            pos = desc_off + ((descsz + 3) & ~3)
    return None


def candidates(img):
    """(offset, kind) pairs to try: the header's payload first, then scan."""
    seen = set()
    if len(img) > 0x250 and img[0x202:0x206] == b"HdrS":
        version, = struct.unpack_from("<H", img, 0x206)
        setup_sects = img[0x1f1] or 4
        if version >= 0x208:
            poff, plen = struct.unpack_from("<II", img, 0x248)
            start = (setup_sects + 1) * 512 + poff
            for kind, magic in MAGICS:
                if img.startswith(magic, start):
                    seen.add(start)
                    yield start, plen, kind
    for kind, magic in MAGICS:
        pos = img.find(magic)
        while pos >= 0:
            if pos not in seen:
                yield pos, None, kind
            pos = img.find(magic, pos + 1)


def extract(img):
    errors = []
    for start, length, kind in candidates(img):
        data = img[start:start + length] if length else img[start:]
        try:
            out = decompress(kind, data)
        except (OSError, EOFError, lzma.LZMAError, zlib.error, ValueError, NotFound) as e:
            errors.append(f"{kind}@{start:#x}: {e}")
            continue
        if out[:4] != ELF_MAGIC:
            continue
        try:
            return kind, start, out[:elf_end(out)]
        except (ValueError, struct.error) as e:
            errors.append(f"{kind}@{start:#x}: {e}")
    raise SystemExit("extract-vmlinux: no compressed ELF payload found"
                     + ("".join("\n  " + e for e in errors[:10])))


def main(argv):
    args = [a for a in argv[1:] if not a.startswith("--")]
    if len(args) != 2:
        raise SystemExit(__doc__.strip().splitlines()[2])
    with open(args[0], "rb") as f:
        img = f.read()
    kind, start, elf = extract(img)
    entry = pvh_entry(elf)
    if entry is None and "--require-pvh" in argv:
        raise SystemExit("extract-vmlinux: no Xen PVH note (XEN_ELFNOTE_PHYS32_ENTRY) "
                         "in the kernel: it was built without CONFIG_PVH")
    tmp = args[1] + ".tmp"
    with open(tmp, "wb") as f:
        f.write(elf)
    os.replace(tmp, args[1])
    print(f"extract-vmlinux: {kind} payload at {start:#x} -> {len(elf)} bytes ELF, "
          + (f"PVH entry {entry:#x}" if entry is not None else "no PVH note"))


if __name__ == "__main__":
    main(sys.argv)
