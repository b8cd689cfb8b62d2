"""Boot a Linux guest under a monitor and record how far it gets.

Used by the slow tests (xenon-vmm) and for the QEMU reference boots
(`python3 tests/slow/linuxboot.py qemu-bzimage` etc., see
docs/linux-guests.md).  A boot is one process; its console output and its
stderr are read line by line with the time since the process started.  The
record says when the first kernel message came, whether and when the
initramfs' /init printed its marker, the last kernel line, how the process
ended, and why the boot stopped (KVM internal error, triple fault, panic,
timeout, ...).  Each record is written as JSON plus the full log under
RESULTS (default $XENON_BUILD/linux-guest/results).
"""
import json
import os
import pathlib
import re
import selectors
import signal
import subprocess
import sys
import time

REPO = pathlib.Path(__file__).resolve().parents[2]
BUILD = pathlib.Path(os.environ.get("XENON_BUILD", REPO / "build"))
IMAGES = pathlib.Path(os.environ.get("XENON_LINUX_GUEST", BUILD / "linux-guest"))
RESULTS = pathlib.Path(os.environ.get("XENON_LINUX_RESULTS", IMAGES / "results"))

VMM = BUILD / "xenon-vmm"
BZIMAGE = IMAGES / "bzImage"
VMLINUX = IMAGES / "vmlinux"
# Uncompressed: gunzipping even 1 MB takes the guest kernel ~40 s here.
INITRAMFS = pathlib.Path(os.environ.get("XENON_LINUX_INITRD", IMAGES / "initramfs.cpio"))

BOOT_TIMEOUT = float(os.environ.get("XENON_LINUX_TIMEOUT", 600))
MEMORY_MIB = 512

# Kernel command line for this machine (nested, software-assisted KVM, on
# which every instruction of the guest kernel is run by KVM's instruction
# emulator; see docs/linux-guests.md):
#   earlyprintk=ttyS0 console=ttyS0  messages on COM1 from the very start
#   noxsave           never touch XSAVE state (xrstor cannot be emulated)
#   clearcpuid=...    features whose instructions KVM's emulator lacks, so
#                     the kernel never patches them in: clac/stac (smap),
#                     rd/wrgsbase (fsgsbase), rdrand, rdseed, invpcid, pcid,
#                     popcnt, and the SIMD the kernel's own crypto would use
#                     (ssse3, sse4_1, sse4_2, aes, pclmulqdq, sha_ni)
#   nokaslr           fixed addresses: a RIP in a dump is the vmlinux address
#   panic=-1          reboot at once on panic, so the monitor exits
#   tsc=reliable no_timer_check lpj=4000000  skip clocksource-watchdog,
#                     timer-IRQ and delay-loop calibration
#   mitigations=off   no speculative-execution workarounds
#   nosoftlockup      the watchdog fires constantly when everything is
#                     emulated, and printing its reports costs more time
#   cryptomgr.notests skip the crypto self-tests (minutes when emulated)
#   rodata=off        no read-only remapping, hence no CONFIG_DEBUG_WX page
#                     table walk: 160 s when emulated
#   rdinit=/init      the initramfs' init
CLEARCPUID = ("smap,fsgsbase,rdrand,rdseed,invpcid,pcid,popcnt,"
              "ssse3,sse4_1,sse4_2,aes,pclmulqdq,sha_ni")
KERNEL_ARGS = os.environ.get("XENON_LINUX_CMDLINE", (
    "earlyprintk=ttyS0 console=ttyS0 noxsave clearcpuid=" + CLEARCPUID +
    " nokaslr panic=-1 tsc=reliable no_timer_check lpj=4000000 mitigations=off"
    " nosoftlockup cryptomgr.notests rodata=off rdinit=/init"))

INIT_MARKER = "XENON-LINUX: init reached"
DONE_MARKER = "XENON-LINUX: powering off"

# A kernel console line: printk time stamp, or the early boot banners.
KERNEL_LINE = re.compile(r"^\[\s*\d+\.\d+\]|^Linux version |^early console|"
                         r"^Decompressing Linux|^Parsing ELF|^Booting the kernel|"
                         r"^KASLR|^Physical KASLR")
PRINTK_TIME = re.compile(r"^\[\s*(\d+\.\d+)\]")

# Stderr lines after which the process will not make progress (QEMU stops
# the VM on a KVM internal error and waits; we stop it shortly after).
FATAL_STDERR = re.compile(r"KVM internal error|emulation failure|"
                          r"KVM: entry failed|triple fault", re.I)

# Why a boot stopped, from the console log (first match wins).
CONSOLE_REASONS = [
    (re.compile(r"Kernel panic - not syncing: (.*)"), "kernel panic: {0}"),
    (re.compile(r"BUG: (.*)"), "kernel BUG: {0}"),
    (re.compile(r"(general protection fault.*)"), "{0}"),
    (re.compile(r"(invalid opcode.*)"), "{0}"),
    (re.compile(r"RIP: 0010:(\S+)"), "oops at {0}"),
]


class BootRecord(dict):
    """What one boot did; a dict so it goes to JSON as it is."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def _kill(proc):
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def run_boot(name, argv, timeout=BOOT_TIMEOUT, extra_consoles=(), env=None,
             stop_after_fatal=None):
    """Run argv (which puts the guest's console on stdout) to its end.

    extra_consoles: files another console is written to (e.g. hvc0); they
    are read after the boot and searched for the init marker too.
    stop_after_fatal: seconds after a KVM internal error on stderr after
    which the process is stopped (QEMU pauses the VM and waits; xenon-vmm
    exits by itself, so None for it).
    Returns a BootRecord and writes RESULTS/NAME.json and NAME.log.
    """
    RESULTS.mkdir(parents=True, exist_ok=True)
    for f in extra_consoles:
        pathlib.Path(f).unlink(missing_ok=True)
    start = time.monotonic()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env, start_new_session=True)
    sel = selectors.DefaultSelector()
    bufs = {}
    for stream, tag in ((proc.stdout, "out"), (proc.stderr, "err")):
        os.set_blocking(stream.fileno(), False)
        sel.register(stream, selectors.EVENT_READ, tag)
        bufs[tag] = b""
    lines = []          # (seconds, "out"/"err", text)
    timed_out = False
    fatal_at = None
    open_streams = 2

    def emit(tag, raw):
        nonlocal fatal_at
        text = raw.decode("utf-8", "replace").replace("\r", "").rstrip("\n")
        t = time.monotonic() - start
        lines.append((round(t, 3), tag, text))
        if tag == "err" and fatal_at is None and FATAL_STDERR.search(text):
            fatal_at = t

    while open_streams:
        now = time.monotonic() - start
        if now > timeout:
            timed_out = True
            break
        if (fatal_at is not None and stop_after_fatal is not None
                and now > fatal_at + stop_after_fatal):
            break
        for key, _ in sel.select(timeout=0.5):
            tag = key.data
            chunk = os.read(key.fileobj.fileno(), 65536)
            if not chunk:
                sel.unregister(key.fileobj)
                open_streams -= 1
                if bufs[tag]:
                    emit(tag, bufs[tag])
                    bufs[tag] = b""
                continue
            bufs[tag] += chunk
            while b"\n" in bufs[tag]:
                line, bufs[tag] = bufs[tag].split(b"\n", 1)
                emit(tag, line)
    if not open_streams:
        # Both streams are closed: the process is exiting; let it finish.
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            pass
    killed = proc.poll() is None
    _kill(proc)
    for tag, rest in bufs.items():
        if rest:
            emit(tag, rest)
    elapsed = time.monotonic() - start

    extra = []
    for f in extra_consoles:
        try:
            data = pathlib.Path(f).read_bytes().decode("utf-8", "replace")
        except OSError:
            continue
        extra += [(None, "con:" + os.path.basename(f), t.replace("\r", ""))
                  for t in data.splitlines()]

    rec = BootRecord(name=name, argv=[str(a) for a in argv], date=time.strftime("%Y-%m-%d"),
                     exit_status=None if killed else proc.returncode,
                     killed=killed, timed_out=timed_out, seconds=round(elapsed, 1))
    console = [(t, text) for t, tag, text in lines if tag == "out"]
    kernel = [(t, text) for t, text in console if KERNEL_LINE.search(text)]
    rec["first_kernel_line_s"] = kernel[0][0] if kernel else None
    rec["first_kernel_line"] = kernel[0][1] if kernel else None
    rec["last_kernel_line"] = kernel[-1][1] if kernel else None
    rec["last_kernel_line_s"] = kernel[-1][0] if kernel else None
    stamps = [float(m.group(1)) for _, text in kernel
              for m in [PRINTK_TIME.match(text)] if m]
    rec["last_printk_time"] = stamps[-1] if stamps else None
    rec["console_lines"] = len(console)
    banner = [t for t, text in console if "Linux version" in text]
    rec["kernel_banner_s"] = banner[0] if banner else None
    marker = [t for t, text in console if INIT_MARKER in text]
    rec["init_marker_s"] = marker[0] if marker else None
    rec["init_marker_on"] = ("ttyS0" if marker else None)
    if not marker and any(INIT_MARKER in text for _, _, text in extra):
        rec["init_marker_on"] = "extra console"
    everything = [text for _, _, text in lines] + [text for _, _, text in extra]
    rec["init_lines"] = [t for t in everything if t.startswith("XENON-LINUX:")]
    rec["done"] = any(DONE_MARKER in t for t in everything)
    rec["stderr_tail"] = [text for _, tag, text in lines if tag == "err"][-40:]
    rec["console_tail"] = [text for _, text in console][-25:]
    rec["stop_reason"] = _stop_reason(rec, console, lines)

    base = RESULTS / name
    with open(base.with_suffix(".log"), "w") as f:
        f.write("# " + " ".join(rec["argv"]) + "\n")
        for t, tag, text in lines:
            f.write(f"{t:9.3f} {tag} {text}\n")
        for _, tag, text in extra:
            f.write(f"{'':9} {tag} {text}\n")
    with open(base.with_suffix(".json"), "w") as f:
        json.dump(rec, f, indent=1)
    return rec


def _stop_reason(rec, console, lines):
    err = [text for _, tag, text in lines if tag == "err"]
    if rec["done"] and rec["exit_status"] == 0:
        return "init ran to the end and powered off"
    for text in err:
        if FATAL_STDERR.search(text):
            detail = _emulation_detail(err)
            return "KVM internal error" + (f" ({detail})" if detail else "")
    for pattern, fmt in CONSOLE_REASONS:
        for _, text in console:
            m = pattern.search(text)
            if m:
                return fmt.format(*m.groups())
    if rec["timed_out"]:
        where = ("still in the bzImage decompressor" if rec["first_kernel_line"]
                 and rec["kernel_banner_s"] is None else "no further output")
        return f"timeout after {rec['seconds']:.0f} s, {where}"
    return f"monitor exited with status {rec['exit_status']}"


def _emulation_detail(err):
    """RIP and the instruction there, from a QEMU or xenon-vmm register dump.

    With nokaslr a kernel RIP is the vmlinux address, so the instruction is
    read from the vmlinux image when the dump does not show the code bytes.
    """
    rip = None
    for text in err:
        m = re.search(r"\bRIP[=:\s]+(?:0x)?([0-9a-fA-F]{8,16})", text, re.I)
        if m:
            rip = m.group(1)
            break
    if rip is None:
        return ""
    insn = disassemble(int(rip, 16))
    return f"RIP {rip}" + (f": {insn}" if insn else "")


def disassemble(addr, image=None):
    """'bytes  mnemonic' of the instruction at a kernel virtual address."""
    image = pathlib.Path(image or VMLINUX)
    if not image.exists():
        return None
    try:
        out = subprocess.run(["objdump", "-d", f"--start-address={addr:#x}",
                              f"--stop-address={addr + 16:#x}", str(image)],
                             capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    for line in out.splitlines():
        m = re.match(r"\s*([0-9a-f]+):\t([0-9a-f ]+)\t(.*)", line)
        if m and int(m.group(1), 16) == addr:
            return f"{m.group(2).strip()}  {' '.join(m.group(3).split())}"
    return None


# --- command lines -------------------------------------------------------------

def xenon_argv(vmm, kernel, cmdline=KERNEL_ARGS, vconsole=None, memory=MEMORY_MIB,
               vcpus=1, extra=()):
    argv = [str(vmm), "--kernel", str(kernel), "--initrd", str(INITRAMFS),
            "--memory", str(memory), "--vcpus", str(vcpus), "--cmdline", cmdline,
            "--serial", "stdio"]
    if vconsole:
        argv += ["--vconsole", vconsole]
    return argv + list(extra)


QEMU_CPU = "host,-arch-capabilities,-cx16,-xsave"


def qemu_argv(kernel, cmdline=KERNEL_ARGS, memory=MEMORY_MIB, vcpus=1,
              cpu=QEMU_CPU, hvc=None, extra=()):
    argv = ["qemu-system-x86_64", "-M", "q35", "-accel", "kvm", "-cpu", cpu,
            "-m", str(memory), "-smp", str(vcpus), "-nographic", "-no-reboot",
            "-nodefaults", "-serial", "stdio", "-monitor", "none",
            "-kernel", str(kernel), "-initrd", str(INITRAMFS), "-append", cmdline]
    if hvc:
        argv += ["-device", "virtio-serial-pci", "-chardev", f"file,id=hvc,path={hvc}",
                 "-device", "virtconsole,chardev=hvc"]
    return argv + list(extra)


def summary(rec):
    def s(v):
        return "-" if v is None else f"{v:.1f}"
    return (f"{rec['name']}: first kernel line {s(rec['first_kernel_line_s'])} s, "
            f"init marker {s(rec['init_marker_s'])} s, exit {rec['exit_status']}"
            f"{' (killed)' if rec['killed'] else ''}, {rec['seconds']:.0f} s; "
            f"last kernel line: {rec['last_kernel_line']!r}; stopped: {rec['stop_reason']}")


QEMU_BOOTS = {
    "qemu-bzimage": lambda: qemu_argv(BZIMAGE),
    "qemu-pvh": lambda: qemu_argv(VMLINUX),
}


def main(argv):
    """Run reference boots by name: python3 tests/slow/linuxboot.py qemu-bzimage ..."""
    names = argv[1:] or list(QEMU_BOOTS)
    for name in names:
        if name not in QEMU_BOOTS:
            raise SystemExit(f"unknown boot {name}; known: {', '.join(QEMU_BOOTS)}")
        rec = run_boot(name, QEMU_BOOTS[name](), stop_after_fatal=3)
        print(summary(rec), flush=True)


if __name__ == "__main__":
    main(sys.argv)
