#!/bin/bash
# Build a small Linux kernel with the virtio drivers built in, for the slow
# tests (tests/slow/test_linux_virtio.py): Debian's kernel source package
# (linux-source-6.1), `make tinyconfig`, then scripts/linux-guest/
# virtio-builtin.config.  On this project's machines a Linux guest cannot
# run user space (docs/linux-guests.md), so nothing can load a module:
# with the drivers built in, the kernel itself probes xenon-vmm's virtio
# console, block and network devices, mounts an ext2 root from the disk and
# sends its log over the network (netconsole).
#
#   OUTDIR/vmlinux          the kernel, an ELF with the Xen PVH note
#   OUTDIR/source-version   the linux-source package version it came from
#
# usage: scripts/build-linux-virtio-kernel.sh [OUTDIR]  (default build/linux-virtio)
#
# Cached: the source is downloaded and unpacked once into OUTDIR/cache; the
# kernel is rebuilt when the package version or the options change (about
# 5 minutes on two cores).  Installs the Debian packages it needs when root.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
FRAGMENT=$REPO/scripts/linux-guest/virtio-builtin.config
OUT=${1:-$REPO/build/linux-virtio}
CACHE=$OUT/cache
PKG=linux-source-6.1

log() { echo "build-linux-virtio-kernel: $*"; }
die() { echo "build-linux-virtio-kernel: $*" >&2; exit 1; }

# shellcheck source=scripts/linux-guest/ensure-packages.sh
. "$REPO/scripts/linux-guest/ensure-packages.sh"
ensure_packages apt dpkg make gcc bc flex bison xz-utils e2fsprogs

version=$(apt-cache policy "$PKG" | awk '/Candidate:/ { print $2 }')
[ -n "$version" ] && [ "$version" != "(none)" ] || die "$PKG: not available from apt"
stamp="$version $(sha256sum "$FRAGMENT" | cut -c1-16)"
if [ -f "$OUT/vmlinux" ] && [ "$(cat "$OUT/source-version" 2>/dev/null)" = "$stamp" ]; then
	log "up to date ($stamp)"
	exit 0
fi

mkdir -p "$CACHE"
src=$CACHE/linux-source-$version
if [ ! -d "$src" ]; then
	log "downloading $PKG $version"
	(cd "$CACHE" && apt-get download "$PKG=$version" >/dev/null 2>&1) ||
		die "apt-get download $PKG=$version failed"
	deb=$(ls "$CACHE"/"$PKG"_*.deb | head -1)
	rm -rf "$CACHE/deb"
	dpkg-deb -x "$deb" "$CACHE/deb"
	log "unpacking"
	mkdir -p "$src.tmp"
	tar -xf "$CACHE"/deb/usr/src/linux-source-*.tar.xz -C "$src.tmp" --strip-components=1
	mv "$src.tmp" "$src"
	rm -rf "$CACHE/deb" "$deb"
fi

log "configuring (tinyconfig + $(basename "$FRAGMENT"))"
make -s -C "$src" ARCH=x86_64 tinyconfig >/dev/null
"$src"/scripts/kconfig/merge_config.sh -m -O "$src" "$src/.config" "$FRAGMENT" >/dev/null
make -s -C "$src" ARCH=x86_64 olddefconfig >/dev/null
for opt in $(grep -o '^CONFIG_[A-Z0-9_]*=y' "$FRAGMENT"); do
	grep -qx "$opt" "$src/.config" || die "$opt did not survive the configuration"
done
log "building vmlinux (a few minutes)"
make -s -C "$src" ARCH=x86_64 -j"$(nproc)" vmlinux >/dev/null
cp "$src/vmlinux" "$OUT/vmlinux.tmp"
mv "$OUT/vmlinux.tmp" "$OUT/vmlinux"
echo "$stamp" > "$OUT/source-version"
log "done: $OUT/vmlinux ($stamp)"
