#!/usr/bin/env python3
"""Domain creation rate: `xm create` through xenond against starting QEMU
(microvm, daemonized) on the same test guest, in alternating batches.

For each batch of N domains, started one after another, we time from the
first command until every guest has written its boot-timer line (it is
running), and report domains per second; per domain, the time from its
command to its boot-timer line.  Medians over the batches, and ratios.
"""
import argparse
import os
import shutil
import signal
import statistics
import subprocess
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("XENON_BUILD", os.path.join(REPO, "build"))
GUEST = os.path.join(BUILD, "guest", "xenon-guest.elf")
# The first line the guest prints once its consoles are up (the PV console
# starts after the boot timer), so it reaches the console log under both.
MARKER = "xenon-guest: acpi="
CMDLINE = "test=heartbeat"


def wait_marker(path, deadline):
    while time.monotonic() < deadline:
        try:
            with open(path, errors="replace") as f:
                if MARKER in f.read():
                    return time.monotonic()
        except FileNotFoundError:
            pass
        time.sleep(0.001)
    raise RuntimeError(f"{path}: no platform line")


class Xenon:
    name = "xenon"

    def __init__(self, tmp, mem):
        self.tmp, self.mem = tmp, mem
        self.env = dict(os.environ, XENOND_SOCKET=f"{tmp}/api.sock",
                        XENSTORED_PATH=f"{tmp}/xs.sock")
        self.daemon = subprocess.Popen(
            [f"{BUILD}/xenond", "--foreground", "--state-dir", f"{tmp}/state",
             "--socket", f"{tmp}/api.sock", "--xenstore-socket",
             f"{tmp}/xs.sock", "--log-dir", f"{tmp}/log"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while not os.path.exists(f"{tmp}/api.sock"):
            if time.monotonic() > deadline:
                raise RuntimeError("xenond did not start")
            time.sleep(0.01)
        self.cfg = f"{tmp}/bench.cfg"
        with open(self.cfg, "w") as f:
            f.write(f'kernel = "{GUEST}"\nmemory = {mem}\n'
                    f'extra = "{CMDLINE}"\n')
        self.seq = 0

    def start(self, i):
        self.seq += 1
        name = f"b{self.seq}"
        t0 = time.monotonic()
        subprocess.run([f"{BUILD}/xm", "create", "-q", self.cfg,
                        f"name={name}"], env=self.env, check=True)
        return t0, f"{self.tmp}/log/console/guest-{name}.log", name

    def stop(self, handle):
        subprocess.run([f"{BUILD}/xm", "destroy", handle], env=self.env,
                       check=True)

    def close(self):
        self.daemon.send_signal(signal.SIGTERM)
        self.daemon.wait()


class Qemu:
    name = "qemu"

    def __init__(self, tmp, mem):
        self.tmp, self.mem, self.seq = tmp, mem, 0

    def start(self, i):
        self.seq += 1
        log, pidf = f"{self.tmp}/q{self.seq}.log", f"{self.tmp}/q{self.seq}.pid"
        t0 = time.monotonic()
        subprocess.run(["qemu-system-x86_64", "-M", "microvm,acpi=off",
                        "-accel", "kvm", "-cpu", "host,-arch-capabilities",
                        "-m", str(self.mem), "-smp", "1", "-nodefaults",
                        "-no-user-config", "-display", "none",
                        "-serial", f"file:{log}", "-daemonize",
                        "-pidfile", pidf, "-kernel", GUEST,
                        "-append", CMDLINE], check=True)
        return t0, log, pidf

    def stop(self, pidf):
        with open(pidf) as f:
            pid = int(f.read())
        os.kill(pid, signal.SIGKILL)

    def close(self):
        pass


def batch(mon, n):
    started = [mon.start(i) for i in range(n)]
    t_first = started[0][0]
    deadline = time.monotonic() + 30
    ready = [wait_marker(log, deadline) for _, log, _ in started]
    lat = [r - t0 for (t0, _, _), r in zip(started, ready)]
    elapsed = max(ready) - t_first
    for _, _, h in started:
        mon.stop(h)
    return n / elapsed, statistics.median(lat)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--batches", type=int, default=5)
    ap.add_argument("--domains", type=int, default=10)
    ap.add_argument("--memory", type=int, default=64)
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="xenon-create-bench.")
    mons = [Xenon(tmp, a.memory), Qemu(tmp, a.memory)]
    res = {m.name: ([], []) for m in mons}
    try:
        for _ in range(a.batches):
            for m in mons:
                rate, lat = batch(m, a.domains)
                res[m.name][0].append(rate)
                res[m.name][1].append(lat)
                time.sleep(0.2)
    finally:
        for m in mons:
            m.close()
        shutil.rmtree(tmp, ignore_errors=True)
    med = {k: (statistics.median(v[0]), statistics.median(v[1]))
           for k, v in res.items()}
    print(f"{a.batches} batches x {a.domains} domains, {a.memory} MiB each")
    for k, (rate, lat) in med.items():
        print(f"{k:6s} {rate:7.1f} domains/s   {lat * 1000:7.1f} ms "
              f"command -> guest running (median)")
    print(f"ratio xenon/qemu: rate {med['xenon'][0] / med['qemu'][0]:.2f}, "
          f"latency {med['xenon'][1] / med['qemu'][1]:.2f}")


if __name__ == "__main__":
    main()
