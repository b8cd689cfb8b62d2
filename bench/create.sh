#!/bin/sh
# Domains created per second: xm create (xenond) vs daemonized QEMU.
# Usage: bench/create.sh [--batches N] [--domains N] [--memory MIB]
set -e
cd "$(dirname "$0")/.."
make -s all
exec python3 bench/create_bench.py "$@"
