#!/bin/sh
# Live migration (downtime, total time) and save/restore: xenon-vmm vs
# QEMU on the test guest's test=dirty scenario; see bench/migrate_bench.py.
# Usage: bench/migrate.sh [--runs N] [--sizes 256:192,1024:768] [--rates 1,32,128]
set -e
cd "$(dirname "$0")/.."
make -s all
exec python3 bench/migrate_bench.py "$@"
