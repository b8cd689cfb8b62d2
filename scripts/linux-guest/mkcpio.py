#!/usr/bin/env python3
"""Write a cpio "newc" archive (a Linux initramfs), gzip-compressed when
OUT ends in .gz.

usage: mkcpio.py OUT.cpio[.gz] ROOTDIR [NODE...]

Every file, directory and symlink under ROOTDIR goes in, owned by root,
with mtime 0 (so the same input gives the same archive).  Each NODE is
"path:c:major:minor[:mode]" and adds a device node, which therefore needs
no root on the build machine (the kernel needs /dev/console in the
initramfs to give init a console).
"""
import gzip
import os
import stat
import sys


def header(ino, mode, nlink, size, name, rdev=(0, 0)):
    fields = [ino, mode, 0, 0, nlink, 0, size, 0, 0, rdev[0], rdev[1],
              len(name) + 1, 0]
    return b"070701" + b"".join(b"%08X" % f for f in fields)


def pad(n):
    return b"\0" * ((4 - n % 4) % 4)


def entry(out, ino, mode, name, data=b"", nlink=1, rdev=(0, 0)):
    name_b = name.encode()
    h = header(ino, mode, nlink, len(data), name_b, rdev) + name_b + b"\0"
    out.write(h + pad(len(h)) + data + pad(len(data)))


def main(argv):
    if len(argv) < 3:
        raise SystemExit(__doc__.strip().splitlines()[2])
    out_path, root, nodes = argv[1], argv[2], argv[3:]
    tmp = out_path + ".tmp"
    ino = 1
    if out_path.endswith(".gz"):
        out = gzip.GzipFile(tmp, "wb", compresslevel=9, mtime=0)
    else:
        out = open(tmp, "wb")
    with out:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            rel = os.path.relpath(dirpath, root)
            if rel != ".":
                entry(out, ino, stat.S_IFDIR | 0o755, rel, nlink=2)
                ino += 1
            for fn in sorted(filenames) + sorted(d for d in dirnames
                                                 if os.path.islink(os.path.join(dirpath, d))):
                path = os.path.join(dirpath, fn)
                name = os.path.normpath(os.path.join(rel, fn))
                st = os.lstat(path)
                if stat.S_ISLNK(st.st_mode):
                    entry(out, ino, stat.S_IFLNK | 0o777, name,
                          os.readlink(path).encode())
                elif stat.S_ISREG(st.st_mode):
                    with open(path, "rb") as f:
                        entry(out, ino, stat.S_IFREG | (st.st_mode & 0o777), name, f.read())
                ino += 1
        for node in nodes:
            parts = node.split(":")
            path, kind, major, minor = parts[:4]
            perm = int(parts[4], 8) if len(parts) > 4 else 0o600
            mode = (stat.S_IFCHR if kind == "c" else stat.S_IFBLK) | perm
            entry(out, ino, mode, path.lstrip("/"), rdev=(int(major), int(minor)))
            ino += 1
        entry(out, 0, 0, "TRAILER!!!")
    os.replace(tmp, out_path)


if __name__ == "__main__":
    main(sys.argv)
