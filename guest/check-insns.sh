#!/bin/sh
# Fail if the guest image contains an instruction the nested KVM layer
# ("kvm_pvm") cannot emulate: software interrupts (int3, int $n, into,
# int1), xsave/xrstor, cmpxchg16b, or anything using SSE/AVX registers.
# The trampoline and 32-bit boot code are disassembled as 64-bit code
# here, which is harmless: they contain none of these either.
set -eu
elf=$1
# Functions named insn_probe_* (insn_probe.S) hold them on purpose, for
# the monitor's fallback (test=insn).
bad=$(objdump -d --no-show-raw-insn "$elf" |
	awk '/^[0-9a-f]+ <.*>:$/ { probe = ($2 ~ /^<insn_probe_/) } !probe' |
	grep -E '[[:space:]](int3|int1|icebp|into|xsave[a-z0-9]*|xrstor[a-z0-9]*|fxsave[a-z0-9]*|fxrstor[a-z0-9]*|cmpxchg16b)([[:space:]]|$)|[[:space:]]int[[:space:]]+\$|%[xyz]mm[0-9]' || true)
if [ -n "$bad" ]; then
	echo "$elf: instructions the nested KVM layer cannot run:" >&2
	echo "$bad" >&2
	exit 1
fi
