#!/usr/bin/env python3
"""Network benchmark: xenon-vmm against QEMU's userspace virtio-net
(vhost=off) on the same test guest and the same kind of TAP.

For each case both monitors run alternately (RUNS each), every run in a
fresh network namespace with a persistent TAP (vnet_hdr, txqueuelen 10000)
made beforehand and 10.0.0.1/24 on the host side; the monitor opens it by
name.  The guest runs test=net-stream and reports its own throughput; the
host end is build/net_peer (C, recvmmsg/sendmmsg).

  g2h         guest -> host, COUNT datagrams of SIZE bytes; the guest uses
              UDP segmentation offload (VIRTIO_NET_F_HOST_USO) where the
              device offers it
  g2h-plain   the same with gso=0: one frame per datagram on both
  h2g         host -> guest, sendmmsg; guest-side goodput and loss
  h2g-gso     host -> guest, UDP_SEGMENT super-datagrams from the host: a
              device offering GUEST_USO gets them whole

Medians of the guest-reported MB/s (payload bytes over the transfer), the
ratio of the medians and the median of the per-run ratios (each xenon run
against the qemu run next to it, which shares the machine's load of the
moment), and the median loss.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("XENON_BUILD", os.path.join(REPO, "build"))
GUEST = os.path.join(BUILD, "guest", "xenon-guest.elf")
PEER = os.path.join(BUILD, "net_peer")
MAC = "00:16:3e:00:be:01"
TAP = "xb0"
CASES = {
    "g2h": ("tx", ""),
    "g2h-plain": ("tx", "gso=0"),
    "h2g": ("rx", ""),
    "h2g-gso": ("rx", "gso"),
}


def sh(*cmd):
    subprocess.run(cmd, check=True, capture_output=True)


def xenon_cmd(cmdline, mem):
    return [os.path.join(BUILD, "xenon-vmm"), "--kernel", GUEST, "--memory",
            str(mem), "--cmdline", cmdline, "--serial", "stdio",
            "--vif", f"mac={MAC},vifname={TAP}"]


def qemu_cmd(cmdline, mem):
    return ["qemu-system-x86_64", "-M", "q35", "-accel", "kvm",
            "-cpu", "host,-arch-capabilities", "-m", str(mem), "-smp", "1",
            "-nodefaults", "-no-user-config", "-nographic", "-no-reboot",
            "-serial", "stdio", "-device", "isa-debug-exit,iobase=0xf4,iosize=4",
            "-kernel", GUEST, "-append", cmdline,
            "-netdev", f"tap,id=n0,ifname={TAP},script=no,downscript=no,vhost=off",
            "-device", f"virtio-net-pci,netdev=n0,disable-legacy=on,mac={MAC}"]


class Netns:
    def __init__(self):
        self.name = f"xenon-bench-{os.getpid()}"
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True)
        sh("ip", "netns", "add", self.name)
        sh("ip", "-n", self.name, "link", "set", "lo", "up")
        sh("ip", "-n", self.name, "tuntap", "add", "dev", TAP, "mode", "tap",
           "vnet_hdr")
        sh("ip", "-n", self.name, "addr", "add", "10.0.0.1/24", "dev", TAP)
        sh("ip", "-n", self.name, "link", "set", TAP, "txqueuelen", "10000", "up")

    def popen(self, cmd, **kw):
        return subprocess.Popen(["ip", "netns", "exec", self.name, *cmd],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                stdin=subprocess.DEVNULL, text=True, **kw)

    def close(self):
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True)


def fields(line):
    return dict(kv.split("=", 1) for kv in line.split() if "=" in kv)


def run_case(monitor, case, count, size, mem):
    direction, extra = CASES[case]
    cmdline = (f"test=net-stream quiet ip=10.0.0.2/24 peer=10.0.0.1:5001 "
               f"count={count} size={size} timeout=120")
    if direction == "rx":
        cmdline += " dir=rx"
    elif extra:
        cmdline += " " + extra
    ns = Netns()
    try:
        if direction == "tx":
            peer = ns.popen([PEER, "sink", "5001", "120"])
            peer.stdout.readline()                 # "sink ready"
        else:
            peer = ns.popen([PEER, "source", "5001", str(count), str(size)]
                            + (["gso"] if extra == "gso" else []))
        cmd = xenon_cmd(cmdline, mem) if monitor == "xenon" else qemu_cmd(cmdline, mem)
        vm = ns.popen(cmd)
        out, err = vm.communicate(timeout=300)
        if direction == "rx":
            peer.kill()
        pout, _ = peer.communicate(timeout=60)
    finally:
        ns.close()
    m = re.search(r"XENON-RESULT test=net-stream status=(\w+)(.*)", out)
    if not m or m.group(1) != "pass":
        raise RuntimeError(f"{monitor} {case}: guest failed:\n{out}\n{err}\n{pout}")
    res = fields(m.group(2))
    peer_line = next((l for l in pout.splitlines() if l.startswith(("sink", "source"))), "")
    return float(res["mbs"]), res, fields(peer_line)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--count", type=int, default=50000)
    ap.add_argument("--size", type=int, default=1400)
    ap.add_argument("--memory", type=int, default=128)
    ap.add_argument("--cases", default=",".join(CASES))
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("net_bench: needs root (network namespaces, TAP devices)")
    cases = args.cases.split(",")
    results = {(mon, c): [] for mon in ("xenon", "qemu") for c in cases}
    extra = {(mon, c): [] for mon in ("xenon", "qemu") for c in cases}
    for r in range(args.runs):
        order = ("xenon", "qemu") if r % 2 == 0 else ("qemu", "xenon")
        for case in cases:
            for mon in order:
                mbs, res, peer = run_case(mon, case, args.count, args.size, args.memory)
                results[(mon, case)].append(mbs)
                extra[(mon, case)].append((res, peer))
                print(f"run {r + 1} {case:10} {mon:5} {mbs:8.2f} MB/s  "
                      + " ".join(f"{k}={v}" for k, v in res.items()
                                 if k in ("frames", "gso", "gso-frames", "lost"))
                      + ("  host: " + peer.get("mbs", "?") + " MB/s" if peer else ""),
                      flush=True)
    print(f"\n{args.runs} runs, {args.count} datagrams of {args.size} bytes, "
          f"{time.strftime('%Y-%m-%d')}")
    print(f"{'case':12} {'xenon MB/s':>11} {'qemu MB/s':>10} {'ratio':>6} "
          f"{'paired':>7}  {'xenon loss':>10} {'qemu loss':>9}")
    for case in cases:
        x = statistics.median(results[("xenon", case)])
        q = statistics.median(results[("qemu", case)])
        # Back-to-back runs share the machine's load of the moment.
        paired = statistics.median(a / b for a, b in zip(results[("xenon", case)],
                                                         results[("qemu", case)]))

        def loss(mon):
            lost = [int(res.get("lost", 0)) for res, _ in extra[(mon, case)]]
            return f"{statistics.median(lost) * 100 / args.count:.1f}%"
        print(f"{case:12} {x:11.2f} {q:10.2f} {x / q:6.2f} {paired:7.2f}  "
              f"{loss('xenon'):>10} {loss('qemu'):>9}")


if __name__ == "__main__":
    main()
