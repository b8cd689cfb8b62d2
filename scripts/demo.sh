#!/bin/bash
# make demo: boot the test guest under xenon-vmm and show it working:
# SMP boot with the console, the control socket (status, pause, resume),
# a virtio-console round trip, and a clean stop.
set -euo pipefail
cd "$(dirname "$0")/.."
B=build
VMM=$B/xenon-vmm
GUEST=$B/guest/xenon-guest.elf
RUN=$(mktemp -d /tmp/xenon-demo.XXXXXX)
trap 'kill $VMM_PID 2>/dev/null || true; rm -rf "$RUN"' EXIT

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
ctl() { python3 -c 'import json,socket,sys
s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(json.dumps({"cmd": sys.argv[2]}).encode()+b"\n")
print(s.makefile().readline().strip())' "$RUN/ctl.sock" "$1"; }

say "Boot the test guest with 4 vCPUs (console on stdio)"
$VMM --kernel $GUEST --memory 64 --vcpus 4 --cmdline "test=smp"

say "Command line and a 1 MiB initrd, checked by the guest"
head -c 1048576 /dev/urandom > "$RUN/initrd"
$VMM --kernel $GUEST --memory 64 --initrd "$RUN/initrd" --cmdline "test=initrd"
python3 -c 'import zlib,sys; print("host: crc32=%08x" % zlib.crc32(open(sys.argv[1],"rb").read()))' "$RUN/initrd"

say "virtio-console: the guest echoes a line typed on its virtio console"
echo "hello from dom0" | $VMM --kernel $GUEST --memory 64 --vconsole stdio \
	--serial "file:$RUN/serial.log" --cmdline "test=console"

say "A long-running domain driven through its control socket"
$VMM --kernel $GUEST --memory 64 --name demo --control "$RUN/ctl.sock" \
	--serial "file:$RUN/hb.log" --cmdline "test=heartbeat" &
VMM_PID=$!
for _ in $(seq 100); do [ -S "$RUN/ctl.sock" ] && break; sleep 0.05; done
sleep 0.3
ctl status
ctl pause;  n1=$(grep -c tick "$RUN/hb.log"); sleep 0.5; n2=$(grep -c tick "$RUN/hb.log")
echo "paused: ticks before/after 0.5 s: $n1/$n2"
ctl resume; sleep 0.3; echo "resumed: ticks now $(grep -c tick "$RUN/hb.log")"
tail -n 2 "$RUN/hb.log"
ctl stop
wait $VMM_PID || echo "xenon-vmm exit status $? (6 = stopped)"
say "Demo done"
