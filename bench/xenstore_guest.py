#!/usr/bin/env python3
"""Guest xenstore round trips: the test guest's xenstore-flood scenario
writes nodes one request at a time over its xenstore channel (virtio
console -> xenon-vmm relay -> xenond's domain socket) until its quota;
it prints "N writes in T us".  Runs it several times, prints the median.

There is no QEMU counterpart: QEMU has no xenstore channel.

Usage: bench/xenstore_guest.py [--runs N] [--build DIR]
"""
import argparse
import os
import pathlib
import re
import statistics
import subprocess
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parents[1]


def one_run(build, tmp):
    sock, chan = tmp / "xs.sock", tmp / "d5.sock"
    env = dict(os.environ, XENSTORED_PATH=str(sock))
    xd = subprocess.Popen([str(build / "xenond"), "--foreground",
                           "--state-dir", str(tmp / "state"),
                           "--xenstore-socket", str(sock),
                           "--domain-socket", f"5={chan}"],
                          stderr=subprocess.DEVNULL, env=env)
    try:
        for _ in range(200):
            if chan.exists():
                break
            time.sleep(0.01)
        subprocess.run(["xenstore-write", "/local/domain/5/domid", "5",
                        "/local/domain/5/data", ""], env=env, check=True)
        subprocess.run(["xenstore-chmod", "-r", "/local/domain/5", "b5"],
                       env=env, check=True)
        out = subprocess.run([str(build / "xenon-vmm"), "--kernel",
                              str(build / "guest" / "xenon-guest.elf"),
                              "--memory", "64", "--xenstore", f"unix:{chan}",
                              "--cmdline", "test=xenstore-flood quiet"],
                             capture_output=True, text=True, timeout=120,
                             env=env).stdout
    finally:
        xd.terminate()
        xd.wait()
    m = re.search(r"(\d+) writes in (\d+) us", out)
    if not m:
        raise SystemExit(f"no timing line in:\n{out}")
    return int(m.group(1)), int(m.group(2))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--build", default=str(REPO / "build"))
    args = ap.parse_args()
    per_op = []
    for i in range(args.runs):
        with tempfile.TemporaryDirectory(prefix="xsg-bench-") as d:
            n, us = one_run(pathlib.Path(args.build), pathlib.Path(d))
        per_op.append(us / n)
        print(f"run {i + 1}: {n} writes in {us / 1000:.0f} ms "
              f"({us / n:.0f} us each)")
    med = statistics.median(per_op)
    print(f"median: {med:.0f} us per request, {1e6 / med:.0f} requests/s")


if __name__ == "__main__":
    main()
