#!/bin/sh
# Boot time and memory: xenon-vmm vs QEMU microvm on the test guest.
# Usage: bench/boot.sh [--runs N] [--memory MIB]
set -e
cd "$(dirname "$0")/.."
make -s all
exec python3 bench/boot_bench.py "$@"
