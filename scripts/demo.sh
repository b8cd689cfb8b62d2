#!/bin/bash
# make demo: start xenond (private state under demo-state/), create a domain
# from examples/test-guest.cfg with xm, and show the toolstack working:
# xm list, the domain's xenstore tree through Xen's own xenstore-ls, its
# console, pause/unpause, several domains, a xenond kill -9 + restart that
# finds them again, save/restore, and graceful shutdown.
set -euo pipefail
cd "$(dirname "$0")/.."
B=$PWD/build
S=$PWD/demo-state
export XENOND_SOCKET=$S/xenond.sock XENSTORED_PATH=$S/xenstored.sock
XM=$B/xm

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }
start_xenond() {
	# its own session: a SIGTERM to the script's process group (timeout,
	# Ctrl-C) must leave it to cleanup() to destroy the domains first
	setsid $B/xenond --foreground --state-dir "$S/state" --socket "$XENOND_SOCKET" \
		--xenstore-socket "$XENSTORED_PATH" --log-dir "$S/log" \
		>>"$S/xenond.log" 2>&1 &
	XENOND_PID=$!
	for _ in $(seq 200); do $XM list >/dev/null 2>&1 && return; sleep 0.05; done
	echo "xenond did not start; see $S/xenond.log" >&2; exit 1
}
cleanup() {
	$XM list 2>/dev/null | awk 'NR>2 {print $1}' | while read -r d; do
		$XM destroy "$d" 2>/dev/null || true; done
	kill "$XENOND_PID" 2>/dev/null || true
	wait 2>/dev/null || true
}
trap cleanup EXIT

rm -rf "$S"; mkdir -p "$S"
say "Start xenond (xend + xenstored + xenconsoled)"
start_xenond
echo "xenond pid $XENOND_PID, management socket $XENOND_SOCKET"

say "Create a domain from a Xen config file"
run cat examples/test-guest.cfg
run $XM create examples/test-guest.cfg
sleep 0.5
run $XM list

say "Its xenstore directory, read with Xen's own xenstore-ls"
run xenstore-ls -f /local/domain/1 | head -25

say "Its console (captured by xenond to $S/log/console/guest-demo.log)"
run tail -n 5 "$S/log/console/guest-demo.log"

say "Pause and unpause (State column: p)"
run $XM pause demo
run $XM list demo
run $XM unpause demo

say "Two more domains, one created paused"
run $XM create examples/test-guest.cfg name=web vcpus=1
run $XM create -p examples/test-guest.cfg name=db memory=32
run $XM list

say "kill -9 xenond while domains run, start it again: nothing is lost"
run kill -9 "$XENOND_PID"
wait "$XENOND_PID" 2>/dev/null || true
start_xenond
run $XM list
run $XM unpause db

say "Save the demo domain to a file and restore it: the guest carries on"
run $XM save demo "$S/demo.sav"
run $XM list
run $XM restore "$S/demo.sav"
run $XM list

say "Graceful shutdown through xenstore (control/shutdown)"
run $XM shutdown -w web
run $XM list
run $XM destroy db
run $XM shutdown -w demo
run $XM list
run $XM dmesg | tail -n 8
say "Demo done"
