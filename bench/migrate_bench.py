#!/usr/bin/env python3
"""Live migration and save/restore: xenon-vmm against QEMU on the same
test guest (test=dirty), alternating, medians and ratios.

Migration, for each guest size and dirty rate: start a destination and a
source on this host, let the guest fill its working set, migrate (live,
30 ms downtime budget), then ask the guest on the destination to verify
its memory.  Reported:
  total     migration request -> completion (xenon: reply; QEMU: query-migrate)
  down      xenon: pause -> destination running (end to end);
            QEMU: its own "downtime" (pause -> last byte sent)
  down-src  xenon: pause -> last byte sent (comparable to QEMU's "downtime")
  guest     the longest pause the guest measured itself (QEMU restores the
            TSC as it was, so its guests cannot see the downtime)
Save/restore, per size: save (xenon `save` with fsync; QEMU: stop +
migrate to "exec:cat > FILE"), restore (process start -> vCPUs running;
QEMU: -incoming "exec:cat FILE" until query-status says running).
"""
import argparse
import re
import json
import os
import select
import socket
import statistics
import subprocess
import tempfile
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("XENON_BUILD", os.path.join(REPO, "build"))
VMM = os.path.join(BUILD, "xenon-vmm")
GUEST = os.path.join(BUILD, "guest", "xenon-guest.elf")
KEY = "bench-key"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cmdline(wss, rate):
    return f"test=dirty wss_mib={wss} rate_mib={rate} report_ms=500"


class Proc:
    """A monitor with its serial console on pipes."""

    def __init__(self, argv):
        self.p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE)
        self.out = b""
        self.err = b""

    def pump(self, timeout):
        r, _, _ = select.select([self.p.stdout, self.p.stderr], [], [], timeout)
        for f in r:
            chunk = os.read(f.fileno(), 65536)
            if f is self.p.stdout:
                self.out += chunk
            else:
                self.err += chunk

    def wait_for(self, needle, timeout=120, stream="out"):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            buf = self.out if stream == "out" else self.err
            if needle in buf:
                return buf
            if self.p.poll() is not None:
                self.pump(0)
                break
            self.pump(0.2)
        raise RuntimeError(f"{needle!r} not seen; stdout tail: {self.out[-400:]!r} "
                           f"stderr tail: {self.err[-400:]!r}")

    def send(self, data):
        self.p.stdin.write(data)
        self.p.stdin.flush()

    def result(self):
        self.send(b"q")
        self.wait_for(b"XENON-RESULT")
        while b"\n" not in self.out[self.out.rindex(b"XENON-RESULT"):]:
            self.pump(0.2)
        line = [l for l in self.out.decode().splitlines() if l.startswith("XENON-RESULT")][-1]
        return dict(kv.split("=", 1) for kv in line.split()[1:] if "=" in kv)

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
        self.p.wait()


def control(path, req, timeout=300):
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(timeout)
        for _ in range(1000):
            try:
                s.connect(path)
                break
            except OSError:
                time.sleep(0.01)
        s.sendall(json.dumps(req).encode() + b"\n")
        data = b""
        while not data.endswith(b"\n"):
            data += s.recv(65536)
    return json.loads(data)


class QMP:
    def __init__(self, path):
        for _ in range(1000):
            try:
                self.s = socket.socket(socket.AF_UNIX)
                self.s.connect(path)
                break
            except OSError:
                time.sleep(0.005)
        self.f = self.s.makefile("rw")
        self.f.readline()
        self.cmd("qmp_capabilities")

    def cmd(self, name, **args):
        self.f.write(json.dumps({"execute": name, "arguments": args}) + "\n")
        self.f.flush()
        while True:
            r = json.loads(self.f.readline())
            if "return" in r:
                return r["return"]
            if "error" in r:
                raise RuntimeError(f"QMP {name}: {r['error']}")

    def wait_migration(self):
        while True:
            r = self.cmd("query-migrate")
            if r.get("status") == "completed":
                return r
            if r.get("status") == "failed":
                raise RuntimeError(f"QEMU migration failed: {r}")
            time.sleep(0.005)


def xenon_argv(mem, line, *extra):
    return [VMM, "--kernel", GUEST, "--memory", str(mem), "--cmdline", line,
            "--serial", "stdio", *extra]


def qemu_argv(mem, line, qmp, *extra):
    return ["qemu-system-x86_64", "-M", "microvm,acpi=off", "-accel", "kvm",
            "-cpu", "host,-arch-capabilities", "-m", str(mem), "-smp", "1",
            "-nodefaults", "-no-user-config", "-nographic", "-no-reboot",
            "-serial", "stdio", "-device", "isa-debug-exit,iobase=0xf4,iosize=4",
            "-kernel", GUEST, "-append", line, "-qmp", f"unix:{qmp},server=on,wait=off",
            *extra]


def wait_full_pass(proc):
    proc.wait_for(b"passes=1", timeout=180)


# ---- migration --------------------------------------------------------------

def xenon_migrate(tmp, mem, wss, rate, postcopy=False, cap=0):
    key = os.path.join(tmp, "key")
    with open(key, "w") as f:
        f.write(KEY)
    port, sock = free_port(), os.path.join(tmp, "x.sock")
    dst = Proc([VMM, "--incoming", f"tcp:127.0.0.1:{port}", "--incoming-key-file", key,
                "--serial", "stdio"])
    src = Proc(xenon_argv(mem, cmdline(wss, rate), "--control", sock))
    try:
        dst.wait_for(b"waiting for an incoming", stream="err")
        wait_full_pass(src)
        r = control(sock, {"cmd": "migrate-send", "address": f"127.0.0.1:{port}",
                           "key": KEY, "downtime_ms": 30, "postcopy": postcopy,
                           "max_bandwidth_mib_s": cap})
        if not r.get("ok"):
            raise RuntimeError(f"xenon migration failed: {r}")
        dst.wait_for(b"dirty t=")
        res = dst.result()
        fin = r["final"]
        return {"total": r["total_us"] / 1000, "down": r["downtime_us"] / 1000,
                "down_src": (fin["pause_us"] + fin["send_us"]) / 1000,
                "guest": int(res["max_pause_us"]) / 1000,
                "ok": res["status"] == "pass", "rounds": r["rounds"],
                "switched": "postcopy" in r}
    finally:
        src.kill()
        dst.kill()


def qemu_start_postcopy(q, rounds=2):
    """Post-copy after `rounds` dirty syncs, Xenon's rule of thumb for a
    guest that does not converge (QEMU leaves the moment to the caller)."""
    while True:
        r = q.cmd("query-migrate")
        if r.get("status") not in ("setup", "active"):
            return False
        if r.get("ram", {}).get("dirty-sync-count", 0) >= rounds:
            q.cmd("migrate-start-postcopy")
            return True
        time.sleep(0.002)


def qemu_migrate(tmp, mem, wss, rate, postcopy=False, cap=0):
    port = free_port()
    sq, dq = os.path.join(tmp, "s.qmp"), os.path.join(tmp, "d.qmp")
    line = cmdline(wss, rate)
    dst = Proc(qemu_argv(mem, line, dq, "-incoming", f"tcp:127.0.0.1:{port}"))
    src = Proc(qemu_argv(mem, line, sq))
    try:
        wait_full_pass(src)
        q = QMP(sq)
        q.cmd("migrate-set-parameters", **{
            "downtime-limit": 30,
            "max-bandwidth": (cap << 20) if cap else 100 << 30,
            "max-postcopy-bandwidth": (cap << 20) if cap else 0})
        if postcopy:
            caps = [{"capability": "postcopy-ram", "state": True}]
            QMP(dq).cmd("migrate-set-capabilities", capabilities=caps)
            q.cmd("migrate-set-capabilities", capabilities=caps)
        t0 = time.monotonic()
        q.cmd("migrate", uri=f"tcp:127.0.0.1:{port}")
        switched = postcopy and qemu_start_postcopy(q)
        r = q.wait_migration()
        total = (time.monotonic() - t0) * 1000
        dst.wait_for(b"dirty t=")
        res = dst.result()
        return {"total": total, "down": r["downtime"], "down_src": r["downtime"],
                "guest": int(res["max_pause_us"]) / 1000,
                "ok": res["status"] == "pass",
                "rounds": r.get("ram", {}).get("dirty-sync-count", 0),
                "switched": switched}
    finally:
        src.kill()
        dst.kill()


# ---- save / restore --------------------------------------------------------------

def xenon_save_restore(tmp, mem, wss):
    sock, sav = os.path.join(tmp, "x.sock"), os.path.join(tmp, "x.sav")
    src = Proc(xenon_argv(mem, cmdline(wss, 1), "--control", sock))
    out = {}
    try:
        wait_full_pass(src)
        t0 = time.monotonic()
        r = control(sock, {"cmd": "save", "path": sav})
        out["save"] = (time.monotonic() - t0) * 1000
        if not r.get("ok"):
            raise RuntimeError(f"xenon save failed: {r}")
    finally:
        src.kill()
    for label, extra in (("restore", ["--verify-ram", "eager"]),
                         ("restore_lazy", ["--verify-ram", "lazy"]),
                         ("restore_noverify", ["--verify-ram", "none"])):
        # The file was just written: its pages are in the page cache, as
        # they would be for an immediate restore.
        dst = Proc([VMM, "--restore", sav, "--serial", "stdio", *extra])
        try:
            err = dst.wait_for(b"restored in", stream="err").decode()
            us = int(err.split("restored in ")[1].split()[0])
            out[label] = us / 1000
            dst.wait_for(b"dirty t=")
            if label == "restore_lazy":
                # Restore to running above; this is until every data
                # chunk is checked and in place (the guest runs meanwhile).
                err = dst.wait_for(b"paged in", stream="err").decode()
                out["lazy_fill"] = float(re.search(r"placed in (\d+) ms", err)[1])
            if dst.result()["status"] != "pass":
                raise RuntimeError("restored guest failed its check")
        finally:
            dst.kill()
    os.unlink(sav)
    return out


def qemu_save_restore(tmp, mem, wss):
    sq, sav = os.path.join(tmp, "s.qmp"), os.path.join(tmp, "q.sav")
    line = cmdline(wss, 1)
    src = Proc(qemu_argv(mem, line, sq))
    out = {}
    try:
        wait_full_pass(src)
        q = QMP(sq)
        q.cmd("migrate-set-parameters", **{"max-bandwidth": 100 << 30})
        t0 = time.monotonic()
        q.cmd("stop")
        q.cmd("migrate", uri=f"exec:cat > {sav}")
        q.wait_migration()
        subprocess.run(["sync", sav])
        out["save"] = (time.monotonic() - t0) * 1000
    finally:
        src.kill()
    dq = os.path.join(tmp, "d.qmp")
    t0 = time.monotonic()
    dst = Proc(qemu_argv(mem, line, dq, "-incoming", f"exec:cat {sav}"))
    try:
        q = QMP(dq)
        # A stream saved from a stopped VM loads paused: resume it, as a
        # restore does.
        while (st := q.cmd("query-status")["status"]) != "running":
            if st in ("paused", "postmigrate", "prelaunch"):
                q.cmd("cont")
            time.sleep(0.001)
        out["restore"] = (time.monotonic() - t0) * 1000
        out["restore_noverify"] = out["restore_lazy"] = out["restore"]
        out["lazy_fill"] = 0
        dst.wait_for(b"dirty t=")
        if dst.result()["status"] != "pass":
            raise RuntimeError("QEMU restored guest failed its check")
    finally:
        dst.kill()
    os.unlink(sav)
    return out


def link_bandwidth(n=1 << 30):
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)

    def rx():
        c, _ = srv.accept()
        buf, got = bytearray(4 << 20), 0
        while got < n:
            k = c.recv_into(buf)
            if not k:
                break
            got += k
    t = threading.Thread(target=rx)
    t.start()
    s = socket.create_connection(srv.getsockname())
    data = b"x" * (4 << 20)
    t0 = time.monotonic()
    for _ in range(n // len(data)):
        s.sendall(data)
    t.join()
    return n / (time.monotonic() - t0) / 2**20


def med(rows, key):
    return statistics.median(r[key] for r in rows)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--sizes", default="256:192,1024:768",
                    help="MEM:WSS pairs in MiB (default %(default)s)")
    ap.add_argument("--rates", default="1,32,128", help="dirty MiB/s (default %(default)s)")
    ap.add_argument("--postcopy", action="store_true",
                    help="allow post-copy (both): Xenon switches when a round "
                         "leaves >= 90%% dirty, QEMU after 2 dirty syncs")
    ap.add_argument("--bandwidth", type=int, default=0,
                    help="cap both migrations at this many MiB/s (0: none)")
    ap.add_argument("--save-only", action="store_true",
                    help="only the save/restore table")
    args = ap.parse_args()
    sizes = [tuple(int(x) for x in s.split(":")) for s in args.sizes.split(",")]
    rates = [int(r) for r in args.rates.split(",")]
    bw = args.bandwidth or statistics.median(link_bandwidth() for _ in range(3))
    print(f"localhost TCP (python, 1 GiB x3): {bw:.0f} MiB/s", flush=True)
    print("\n| guest | dirty | total xenon | total qemu | ratio | down xenon (src) | down qemu | "
          "guest-seen xenon | target total 1.3*RAM/bw |" +
          (" post-copy runs xenon / qemu |" if args.postcopy else ""))
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |" +
          (" --- |" if args.postcopy else ""))
    with tempfile.TemporaryDirectory() as tmp:
        for mem, wss in sizes:
            for rate in ([] if args.save_only else rates):
                xs, qs = [], []
                for _ in range(args.runs):
                    xs.append(xenon_migrate(tmp, mem, wss, rate, args.postcopy,
                                            args.bandwidth))
                    qs.append(qemu_migrate(tmp, mem, wss, rate, args.postcopy,
                                           args.bandwidth))
                assert all(r["ok"] for r in xs + qs), (xs, qs)
                print(f"| {mem} MiB (wss {wss}) | {rate} MiB/s | {med(xs, 'total'):.0f} ms | "
                      f"{med(qs, 'total'):.0f} ms | {med(xs, 'total') / med(qs, 'total'):.2f} | "
                      f"{med(xs, 'down'):.1f} ms ({med(xs, 'down_src'):.1f}) | "
                      f"{med(qs, 'down'):.0f} ms | {med(xs, 'guest'):.1f} ms | "
                      f"{1.3 * mem / bw * 1000:.0f} ms |" +
                      (f" {sum(r['switched'] for r in xs)}/{len(xs)} / "
                       f"{sum(r['switched'] for r in qs)}/{len(qs)} |"
                       if args.postcopy else ""), flush=True)
        if args.postcopy:
            return
        print("\n| guest | save xenon | save qemu | restore xenon eager | restore xenon lazy "
              "(all paged in) | restore xenon none | restore qemu |")
        print("| --- | --- | --- | --- | --- | --- | --- |")
        for mem, wss in sizes:
            xs, qs = [], []
            for _ in range(args.runs):
                xs.append(xenon_save_restore(tmp, mem, wss))
                qs.append(qemu_save_restore(tmp, mem, wss))
            print(f"| {mem} MiB (wss {wss}) | {med(xs, 'save'):.0f} ms | {med(qs, 'save'):.0f} ms | "
                  f"{med(xs, 'restore'):.1f} ms | {med(xs, 'restore_lazy'):.1f} ms "
                  f"({med(xs, 'lazy_fill'):.0f} ms) | {med(xs, 'restore_noverify'):.1f} ms | "
                  f"{med(qs, 'restore'):.0f} ms |", flush=True)


if __name__ == "__main__":
    main()
