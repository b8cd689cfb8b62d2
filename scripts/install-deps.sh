#!/bin/sh
# Install the Debian packages Xenon needs to build, test and benchmark.
# Idempotent: does nothing when everything is present.
set -eu

PKGS="make gcc clang libc6-dev pkg-config
libcmocka-dev libjansson-dev libncurses-dev zlib1g-dev liburing-dev libseccomp-dev
libclang-rt-14-dev libssl-dev
python3 python3-pytest
xenstore-utils iproute2 iputils-ping util-linux
qemu-system-x86 qemu-utils hyperfine fio
busybox-static cpio acpica-tools"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "install-deps: installing:$missing"
if [ "$(id -u)" != 0 ]; then
	echo "install-deps: need root to install packages" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing
