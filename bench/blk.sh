#!/bin/sh
# virtio-blk throughput: xenon-vmm vs QEMU on the same test guest and image,
# against fio on the host (docs/performance.md).
# Usage: bench/blk.sh [--rounds N] [--mb MIB] [--rmb MIB] [--depth N] ...
#        bench/blk.sh --engine     io_uring vs a thread pool (block_aio.h)
set -e
cd "$(dirname "$0")/.."
make -s all
if [ "$1" = "--engine" ]; then
	cc -O2 -Wall -o build/blk_engine bench/blk_engine.c -luring -lpthread
	img=${TMPDIR:-/tmp}/xenon-blk-engine.img
	[ -f "$img" ] || dd if=/dev/urandom of="$img" bs=1M count=256 status=none
	exec build/blk_engine "$img"
fi
exec python3 bench/blk_bench.py "$@"
