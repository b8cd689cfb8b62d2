#!/bin/sh
# Network throughput: xenon-vmm virtio-net vs QEMU userspace virtio-net
# (vhost=off) on the test guest, guest->host and host->guest UDP.
# Needs root.  Usage: bench/net.sh [--runs N] [--count N] [--size BYTES]
#                                  [--cases g2h,g2h-plain,h2g,h2g-gso]
set -e
cd "$(dirname "$0")/.."
make -s all build/net_peer
exec python3 bench/net_bench.py "$@"
