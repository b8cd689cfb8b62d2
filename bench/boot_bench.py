#!/usr/bin/env python3
"""Boot benchmark: xenon-vmm against QEMU microvm on the same test guest.

Runs both monitors alternately (RUNS each) and prints medians and ratios:
  (a) process start -> guest's boot-timer line on the serial console
  (b) process start -> process exit after the guest powers off
  (c) monitor memory overhead: resident memory of the process minus the
      resident part of guest RAM, read from /proc/PID/smaps while the
      guest idles (same guest, same RAM size, for both monitors).
"""
import argparse
import os
import re
import select
import statistics
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("XENON_BUILD", os.path.join(REPO, "build"))
GUEST = os.path.join(BUILD, "guest", "xenon-guest.elf")
MARKER = b"xenon-guest: boot-timer"


def xenon_cmd(mem, cmdline):
    return [os.path.join(BUILD, "xenon-vmm"), "--kernel", GUEST, "--memory",
            str(mem), "--cmdline", cmdline, "--serial", "stdio"]


def qemu_cmd(mem, cmdline):
    return ["qemu-system-x86_64", "-M", "microvm,acpi=off", "-accel", "kvm",
            "-cpu", "host,-arch-capabilities", "-m", str(mem), "-smp", "1",
            "-nodefaults", "-no-user-config", "-nographic", "-no-reboot",
            "-serial", "stdio", "-device", "isa-debug-exit,iobase=0xf4,iosize=4",
            "-kernel", GUEST, "-append", cmdline]


def timed_boot(cmd):
    """(seconds to marker, seconds to exit, output) for one run."""
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            stdin=subprocess.DEVNULL)
    out, t_marker = b"", None
    while True:
        r, _, _ = select.select([proc.stdout], [], [], 10)
        if not r:
            proc.kill()
            raise RuntimeError(f"no output from {cmd[0]} for 10 s")
        chunk = os.read(proc.stdout.fileno(), 65536)
        if not chunk:
            break
        out += chunk
        if t_marker is None and MARKER in out:
            t_marker = time.monotonic() - t0
    proc.wait()
    t_exit = time.monotonic() - t0
    if t_marker is None:
        raise RuntimeError(f"{cmd[0]}: guest never wrote the boot timer:\n{out.decode(errors='replace')}")
    return t_marker, t_exit


def guest_ram_rss_kib(smaps, mem_mib, ram_name):
    """Split smaps into (total RSS, RSS of the guest-RAM mapping)."""
    total = guest = 0
    in_ram = False
    for line in smaps.splitlines():
        m = re.match(r"^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \S+\s*(.*)$", line)
        if m:
            size = int(m.group(2), 16) - int(m.group(1), 16)
            name = m.group(3)
            in_ram = (ram_name in name) if ram_name else (size == mem_mib << 20 and not name)
            continue
        if line.startswith("Rss:"):
            kib = int(line.split()[1])
            total += kib
            if in_ram:
                guest += kib
    return total, guest


def overhead_kib(cmd, mem, ram_name):
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            stdin=subprocess.DEVNULL)
    try:
        out = b""
        deadline = time.monotonic() + 10
        while b"tick 3" not in out and time.monotonic() < deadline:
            r, _, _ = select.select([proc.stdout], [], [], 1)
            if r:
                out += os.read(proc.stdout.fileno(), 65536)
        with open(f"/proc/{proc.pid}/smaps") as f:
            total, guest = guest_ram_rss_kib(f.read(), mem, ram_name)
    finally:
        proc.kill()
        proc.wait()
    return total - guest, total


def median(xs):
    return statistics.median(xs)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--memory", type=int, default=128)
    args = ap.parse_args()

    tools = {
        "xenon": (lambda c: xenon_cmd(args.memory, c), "xenon-guest-ram"),
        "qemu": (lambda c: qemu_cmd(args.memory, c), None),
    }
    res = {t: {"boot": [], "exit": [], "overhead": [], "rss": []} for t in tools}
    for i in range(args.runs):
        for name, (mk, ram_name) in tools.items():
            b, e = timed_boot(mk("test=boot quiet"))
            res[name]["boot"].append(b * 1000)
            res[name]["exit"].append(e * 1000)
        if i < 5:  # memory is stable; five samples suffice
            for name, (mk, ram_name) in tools.items():
                o, t = overhead_kib(mk("test=heartbeat quiet"), args.memory, ram_name)
                res[name]["overhead"].append(o / 1024)
                res[name]["rss"].append(t / 1024)

    print(f"boot benchmark: {args.runs} runs each, alternating, guest RAM {args.memory} MiB")
    print(f"{'metric':<34}{'xenon':>10}{'qemu':>10}{'ratio':>8}")
    rows = [("(a) start -> boot timer (ms)", "boot"),
            ("(b) start -> exit (ms)", "exit"),
            ("(c) overhead RSS - guest (MiB)", "overhead"),
            ("    total RSS (MiB)", "rss")]
    for label, key in rows:
        x, q = median(res["xenon"][key]), median(res["qemu"][key])
        print(f"{label:<34}{x:>10.2f}{q:>10.2f}{x / q:>8.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
