#!/bin/bash
# Build the Linux test guest for the slow tests (tests/slow) from Debian's
# packaged kernel, without installing that kernel:
#
#   OUTDIR/bzImage             the kernel as Debian ships it (bzImage boot path)
#   OUTDIR/vmlinux             the same kernel as an ELF with the Xen PVH note
#                              (PVH boot path)
#   OUTDIR/initramfs.cpio.gz   busybox + virtio modules + scripts/linux-guest/init
#   OUTDIR/initramfs.cpio      the same, uncompressed (on nested KVM the
#                              guest kernel takes ~40 s to gunzip 1 MB)
#   OUTDIR/config              the kernel's configuration
#   OUTDIR/kernel-release      "PACKAGE VERSION RELEASE" of the kernel used
#
# usage: scripts/build-linux-guest.sh [OUTDIR]     (default build/linux-guest)
#
# Idempotent and cached: the kernel package is downloaded and unpacked once
# into OUTDIR/cache, and each output is only remade when it is missing,
# older than its inputs, or from another kernel package.  Installs the Debian
# packages it needs (only the missing ones) when run as root.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
HELPERS=$REPO/scripts/linux-guest
OUT=${1:-$REPO/build/linux-guest}
CACHE=$OUT/cache
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3

# The virtio drivers the guest needs (plus their dependencies).
MODULES="virtio virtio_ring virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci
virtio_console virtio_blk virtio_net virtio_balloon"

log() { echo "build-linux-guest: $*"; }
die() { echo "build-linux-guest: $*" >&2; exit 1; }

# stale OUTPUT INPUT...: true when OUTPUT is missing or older than an input.
stale() {
	local out=$1 in
	shift
	[ -e "$out" ] || return 0
	for in in "$@"; do
		[ "$in" -nt "$out" ] && return 0
	done
	return 1
}

# --- 1. Debian packages this script uses ------------------------------------
# shellcheck source=scripts/linux-guest/ensure-packages.sh
. "$HELPERS/ensure-packages.sh"
ensure_packages apt dpkg kmod busybox-static cpio xz-utils zstd lz4 python3

# --- 2. the kernel package: resolve, download, unpack ------------------------
mkdir -p "$CACHE/debs"

resolve_kernel() {
	apt-cache depends linux-image-amd64 2>/dev/null |
		awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }'
}
KPKG=$(resolve_kernel)
if [ -z "$KPKG" ]; then
	log "apt lists empty or stale: apt-get update"
	apt-get update -q >/dev/null || true
	KPKG=$(resolve_kernel)
fi
if [ -n "$KPKG" ]; then
	KVERSION=$(apt-cache show --no-all-versions "$KPKG" | awk '/^Version:/ { print $2; exit }')
	DEB=$CACHE/debs/${KPKG}_${KVERSION//:/%3a}_amd64.deb
	if [ ! -s "$DEB" ]; then
		log "downloading $KPKG $KVERSION"
		(cd "$CACHE/debs" && apt-get download -q "$KPKG=$KVERSION") ||
			die "apt-get download $KPKG=$KVERSION failed"
		[ -s "$DEB" ] || die "apt-get download did not produce $DEB"
	fi
else
	# Offline and no apt lists: fall back to the newest package downloaded before.
	# shellcheck disable=SC2012  # names are package file names
	DEB=$(ls -t "$CACHE"/debs/linux-image-*-amd64_*.deb 2>/dev/null | head -n1 || true)
	[ -n "$DEB" ] || die "cannot resolve linux-image-amd64 (apt-get update?) and nothing cached"
	KPKG=$(dpkg-deb -f "$DEB" Package)
	KVERSION=$(dpkg-deb -f "$DEB" Version)
	log "apt cannot resolve linux-image-amd64; using cached $KPKG $KVERSION"
fi

ROOT=$CACHE/root-$KPKG-${KVERSION//:/_}
if [ ! -e "$ROOT/.unpacked" ]; then
	log "unpacking $(basename "$DEB")"
	rm -rf "$ROOT" "$ROOT.tmp"
	dpkg-deb -x "$DEB" "$ROOT.tmp"
	touch "$ROOT.tmp/.unpacked"
	mv "$ROOT.tmp" "$ROOT"
	# Keep only the current package unpacked (each is ~400 MB).
	for old in "$CACHE"/root-*; do
		[ "$old" = "$ROOT" ] || rm -rf "$old"
	done
fi

shopt -s nullglob
vmlinuz=("$ROOT"/boot/vmlinuz-*)
shopt -u nullglob
[ ${#vmlinuz[@]} = 1 ] || die "expected one /boot/vmlinuz-* in $KPKG, found ${#vmlinuz[@]}"
VMLINUZ=${vmlinuz[0]}
KREL=${VMLINUZ##*/vmlinuz-}
MODDIR=$ROOT/lib/modules/$KREL
# The package ships no modules.dep (its postinst runs depmod): make one.
if [ ! -s "$MODDIR/modules.dep" ]; then
	PATH=$PATH:/usr/sbin:/sbin depmod -b "$ROOT" "$KREL" ||
		die "depmod failed"
fi

# Outputs from another kernel package are thrown away.
STAMP="$KPKG $KVERSION $KREL"
if [ "$(cat "$OUT/kernel-release" 2>/dev/null || true)" != "$STAMP" ]; then
	rm -f "$OUT/bzImage" "$OUT/vmlinux" "$OUT/initramfs.cpio" "$OUT/initramfs.cpio.gz" "$OUT/config"
	echo "$STAMP" > "$OUT/kernel-release"
fi

# --- 3. bzImage, config ----------------------------------------------------------
if stale "$OUT/bzImage" "$VMLINUZ"; then
	log "bzImage <- /boot/vmlinuz-$KREL"
	cp "$VMLINUZ" "$OUT/bzImage.tmp" && mv "$OUT/bzImage.tmp" "$OUT/bzImage"
fi
if stale "$OUT/config" "$ROOT/boot/config-$KREL"; then
	cp "$ROOT/boot/config-$KREL" "$OUT/config"
fi

# --- 4. vmlinux (ELF with the PVH note) --------------------------------------
if stale "$OUT/vmlinux" "$OUT/bzImage" "$HELPERS/extract-vmlinux.py"; then
	log "vmlinux <- bzImage"
	"$PY" "$HELPERS/extract-vmlinux.py" --require-pvh "$OUT/bzImage" "$OUT/vmlinux"
fi

# --- 5. initramfs --------------------------------------------------------------
# shellcheck disable=SC2086
MODLIST=$("$PY" "$HELPERS/modules.py" "$MODDIR" $MODULES 2>"$CACHE/modules.log") ||
	{ cat "$CACHE/modules.log" >&2; die "cannot resolve modules"; }
BUSYBOX=$(dpkg -L busybox-static | grep -m1 '/bin/busybox$')
[ -x "$BUSYBOX" ] || die "busybox-static installed but no busybox binary"
case $(LANG=C ldd "$BUSYBOX" 2>&1 || true) in
*"not a dynamic executable"*) ;;
*) die "$BUSYBOX is not statically linked" ;;
esac

inputs=("$HELPERS/init" "$HELPERS/mkcpio.py" "$HELPERS/modules.py" "$BUSYBOX" "$0")
for m in $MODLIST; do inputs+=("$MODDIR/$m"); done
if stale "$OUT/initramfs.cpio.gz" "${inputs[@]}" || stale "$OUT/initramfs.cpio" "${inputs[@]}"; then
	log "initramfs.cpio.gz <- busybox, init, $(echo "$MODLIST" | wc -w) modules"
	STAGE=$CACHE/initramfs-root
	rm -rf "$STAGE"
	mkdir -p "$STAGE"/{bin,dev,proc,sys,tmp,etc,root,lib/modules}
	cp "$BUSYBOX" "$STAGE/bin/busybox"
	ln -s busybox "$STAGE/bin/sh"
	cp "$HELPERS/init" "$STAGE/init"
	chmod 755 "$STAGE/init" "$STAGE/bin/busybox"
	: > "$STAGE/etc/xenon-modules"
	for m in $MODLIST; do
		name=$(basename "$m")
		case $name in
		*.ko.xz)  xz -dc "$MODDIR/$m" > "$STAGE/lib/modules/${name%.xz}" ;;
		*.ko.zst) zstd -q -dc "$MODDIR/$m" > "$STAGE/lib/modules/${name%.zst}" ;;
		*.ko.gz)  gzip -dc "$MODDIR/$m" > "$STAGE/lib/modules/${name%.gz}" ;;
		*.ko)     cp "$MODDIR/$m" "$STAGE/lib/modules/$name" ;;
		*)        die "unexpected module file $m" ;;
		esac
		name=${name%.xz}; name=${name%.zst}; name=${name%.gz}
		echo "$name" >> "$STAGE/etc/xenon-modules"
	done
	echo "$KREL" > "$STAGE/etc/kernel-release"
	for f in initramfs.cpio initramfs.cpio.gz; do
		"$PY" "$HELPERS/mkcpio.py" "$OUT/$f" "$STAGE" \
			dev/console:c:5:1:600 dev/null:c:1:3:666 dev/ttyS0:c:4:64:600
	done
	sed 's/^modules.py: //' "$CACHE/modules.log"
fi

log "kernel $KREL ($KPKG $KVERSION)"
for f in bzImage vmlinux initramfs.cpio.gz initramfs.cpio; do
	printf 'build-linux-guest:   %-18s %10d bytes\n' "$f" "$(stat -c %s "$OUT/$f")"
done
