#!/usr/bin/env python3
"""Block benchmark: virtio-blk under xenon-vmm and under QEMU, on the same
test guest and the same image file, against fio on the host.

The guest's `test=blk-perf` runs four workloads back to back over the
image: sequential 1 MiB writes and reads (--mb MiB each), random 4 KiB
writes and reads (--rmb MiB each), --depth requests in flight on one
queue, polled from ring 3 (see guest/scenarios_block_perf.c).  Xenon and
QEMU alternate (which one goes first flips every round); fio runs the same
four workloads on the host with the same block sizes, byte counts and
depth, through the page cache like both monitors (QEMU cache=writeback),
once with psync and once with io_uring, keeping the better of the two.
Every guest request of a run reuses one 1 MiB buffer, as fio's psync job
does (the driver's choice; the bytes moved are the same).

--irq makes the guest wait for its sequential requests halted, woken by
the device's interrupt (irq=1, guest/scenarios_block_perf.c), instead of
spinning on the used ring: on a host with two CPUs the spinning vCPU takes
one of them away from the copying.  Both monitors run the same guest.

Prints medians over --rounds and the ratios Xenon/host and Xenon/QEMU.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("XENON_BUILD", os.path.join(REPO, "build"))
GUEST = os.path.join(BUILD, "guest", "xenon-guest.elf")
WORKLOADS = [  # (name, result key, unit, fio rw, block size)
    ("seq write 1M", "seqwrite_mbps", "MB/s", "write", "1M"),
    ("seq read 1M", "seqread_mbps", "MB/s", "read", "1M"),
    ("rand write 4K", "randwrite_iops", "IOPS", "randwrite", "4k"),
    ("rand read 4K", "randread_iops", "IOPS", "randread", "4k"),
]


def guest_cmdline(a):
    irq = " irq=1" if a.irq else ""
    return f"test=blk-perf mb={a.mb} rmb={a.rmb} depth={a.depth}{irq} quiet"


def xenon_cmd(a):
    return [os.path.join(BUILD, "xenon-vmm"), "--kernel", GUEST, "--memory",
            str(a.memory), "--cmdline", guest_cmdline(a),
            "--disk", f"format=raw, vdev=xvda, access=rw, target={a.image}"]


def qemu_cmd(a):
    return ["qemu-system-x86_64", "-M", "q35", "-accel", "kvm",
            "-cpu", "host,-arch-capabilities", "-m", str(a.memory), "-smp", "1",
            "-nographic", "-no-reboot", "-net", "none",
            "-device", "isa-debug-exit,iobase=0xf4,iosize=4",
            "-kernel", GUEST, "-append", guest_cmdline(a),
            "-drive", f"file={a.image},format=raw,if=none,id=d0,cache=writeback,"
                      f"aio={a.qemu_aio}",
            "-device", "virtio-blk-pci,disable-legacy=on,drive=d0,serial=xvda"]


def guest_run(cmd):
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=600).stdout
    for line in out.splitlines():
        if "XENON-RESULT test=blk-perf" in line:
            res = dict(kv.split("=", 1) for kv in line.split()[1:] if "=" in kv)
            if res.get("status") == "pass":
                return {k: int(v) for k, v in res.items() if k.endswith(("mbps", "iops"))}
            raise RuntimeError(f"{cmd[0]}: {line}")
    raise RuntimeError(f"{cmd[0]}: no result:\n{out[-2000:]}")


def fio_run(a, rw, bs, engine):
    size = f"{a.mb}M" if bs == "1M" else f"{a.rmb}M"
    with tempfile.NamedTemporaryFile(suffix=".json") as f:
        subprocess.run(["fio", "--name=host", f"--filename={a.image}", f"--rw={rw}",
                        f"--bs={bs}", f"--io_size={size}", f"--iodepth={a.depth}",
                        f"--ioengine={engine}", "--direct=0", "--invalidate=0",
                        "--randrepeat=0", "--output-format=json", f"--output={f.name}"],
                       check=True, capture_output=True)
        job = json.load(open(f.name))["jobs"][0]
    side = job["read" if "read" in rw else "write"]
    return side["bw_bytes"] / 1e6 if bs == "1M" else side["iops"]


def fio_round(a):
    res = {}
    for _, key, _, rw, bs in WORKLOADS:
        res[key] = max(fio_run(a, rw, bs, e) for e in ("psync", "io_uring"))
    return res


def prepare_image(a):
    """A non-sparse image in the page cache, the state every run starts from."""
    if not os.path.exists(a.image) or os.path.getsize(a.image) != a.size_mb << 20:
        with open(a.image, "wb") as f:
            for _ in range(a.size_mb):
                f.write(os.urandom(1 << 20))
    with open(a.image, "rb") as f:
        while f.read(1 << 24):
            pass


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--mb", type=int, default=256, help="MiB per sequential run")
    p.add_argument("--rmb", type=int, default=32, help="MiB per random run")
    p.add_argument("--depth", type=int, default=16)
    p.add_argument("--memory", type=int, default=128)
    p.add_argument("--size-mb", type=int, default=512, help="image size")
    p.add_argument("--image", default=os.path.join(tempfile.gettempdir(),
                                                   "xenon-blk-bench.img"))
    p.add_argument("--qemu-aio", default="threads", help="QEMU -drive aio=")
    p.add_argument("--irq", action="store_true",
                   help="sequential runs wait halted for interrupts")
    p.add_argument("--json", help="write all samples here")
    a = p.parse_args()
    prepare_image(a)
    samples = {"xenon": [], "qemu": [], "host": []}
    for r in range(a.rounds):
        order = [("xenon", xenon_cmd), ("qemu", qemu_cmd)]
        for name, mk in order if r % 2 == 0 else order[::-1]:
            samples[name].append(guest_run(mk(a)))
        samples["host"].append(fio_round(a))
        print(f"round {r + 1}/{a.rounds}: " + "  ".join(
            f"{n} " + "/".join(str(int(s[-1][k])) for _, k, *_ in WORKLOADS)
            for n, s in samples.items()), file=sys.stderr)
    print(f"\nvirtio-blk, {a.rounds} rounds, medians; depth {a.depth}, "
          f"{a.mb} MiB sequential / {a.rmb} MiB random per run, "
          f"sequential {'halted on interrupts' if a.irq else 'polled'}, "
          f"{a.size_mb} MiB image in the page cache")
    print(f"{'workload':<15}{'unit':>6}{'host fio':>11}{'Xenon':>10}{'QEMU':>10}"
          f"{'X/host':>9}{'X/QEMU':>9}")
    for label, key, unit, *_ in WORKLOADS:
        med = {n: statistics.median(s[key] for s in v) for n, v in samples.items()}
        print(f"{label:<15}{unit:>6}{med['host']:>11.0f}{med['xenon']:>10.0f}"
              f"{med['qemu']:>10.0f}{med['xenon'] / med['host']:>9.2f}"
              f"{med['xenon'] / med['qemu']:>9.2f}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(samples, f, indent=1)


if __name__ == "__main__":
    main()
