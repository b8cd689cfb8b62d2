#!/bin/bash
# make demo: start xenond (private state under demo-state/), create a domain
# from examples/test-guest.cfg with xm, and show the toolstack working:
# xm list, the domain's xenstore tree through Xen's own xenstore-ls, its
# console, pause/unpause, several domains, a xenond kill -9 + restart that
# finds them again, save/restore, live migration to a second "host" (a
# xenond in its own network namespace, joined by a veth pair), and graceful
# shutdown.
set -euo pipefail
cd "$(dirname "$0")/.."
B=$PWD/build
S=$PWD/demo-state
export XENOND_SOCKET=$S/xenond.sock XENSTORED_PATH=$S/xenstored.sock
XM=$B/xm

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }
NS=xenon-demo-b            # the second "host"
HOST_A=10.253.0.1 HOST_B=10.253.0.2
XENOND_B_PID=
start_xenond() {
	# its own session: a SIGTERM to the script's process group (timeout,
	# Ctrl-C) must leave it to cleanup() to destroy the domains first
	setsid $B/xenond --foreground --state-dir "$S/state" --socket "$XENOND_SOCKET" \
		--xenstore-socket "$XENSTORED_PATH" --log-dir "$S/log" \
		--relocation-key "$S/relocation.key" \
		>>"$S/xenond.log" 2>&1 &
	XENOND_PID=$!
	for _ in $(seq 200); do $XM list >/dev/null 2>&1 && return; sleep 0.05; done
	echo "xenond did not start; see $S/xenond.log" >&2; exit 1
}
# Host B: a xenond inside network namespace $NS, reached at $HOST_B.
start_host_b() {
	ip netns add "$NS" &&
	ip link add xdemo-a type veth peer name xdemo-b netns "$NS" &&
	ip addr add "$HOST_A/24" dev xdemo-a && ip link set xdemo-a up &&
	ip -n "$NS" addr add "$HOST_B/24" dev xdemo-b &&
	ip -n "$NS" link set xdemo-b up && ip -n "$NS" link set lo up || return 1
	mkdir -p "$S/b"
	setsid ip netns exec "$NS" $B/xenond --foreground --state-dir "$S/b/state" \
		--socket "$S/b/xenond.sock" --xenstore-socket "$S/b/xenstored.sock" \
		--log-dir "$S/b/log" --relocation-key "$S/relocation.key" \
		--relocation-port 8002 --relocation-address "$HOST_B" \
		>>"$S/b/xenond.log" 2>&1 &
	XENOND_B_PID=$!
	for _ in $(seq 200); do xm_b list >/dev/null 2>&1 && return; sleep 0.05; done
	return 1
}
xm_b() { XENOND_SOCKET=$S/b/xenond.sock XENSTORED_PATH=$S/b/xenstored.sock $XM "$@"; }
cleanup() {
	$XM list 2>/dev/null | awk 'NR>2 {print $1}' | while read -r d; do
		$XM destroy "$d" 2>/dev/null || true; done
	xm_b list 2>/dev/null | awk 'NR>2 {print $1}' | while read -r d; do
		xm_b destroy "$d" 2>/dev/null || true; done
	kill "$XENOND_PID" $XENOND_B_PID 2>/dev/null || true
	wait 2>/dev/null || true
	ip link del xdemo-a 2>/dev/null || true
	ip netns del "$NS" 2>/dev/null || true
}
trap cleanup EXIT

rm -rf "$S"; mkdir -p "$S"
ip link del xdemo-a 2>/dev/null || true; ip netns del "$NS" 2>/dev/null || true
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$S/relocation.key"
chmod 600 "$S/relocation.key"
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

say "Live migration of web to a second host ($NS, $HOST_B)"
if start_host_b; then
	run $XM migrate --live web "$HOST_B"
	run $XM list
	printf '$ xm list    # on host B\n'; xm_b list
	printf '$ xm shutdown -w web    # on host B: the moved guest answers\n'
	xm_b shutdown -w web
	run tail -n 1 "$S/b/log/console/guest-web.log"
else
	echo "(skipped: cannot create network namespace $NS here)"
	run $XM shutdown -w web
fi

say "Graceful shutdown through xenstore (control/shutdown)"
run $XM list
run $XM destroy db
run $XM shutdown -w demo
run $XM list
run $XM dmesg | tail -n 8
say "Demo done"
