"""Shared fixtures for Xenon's system tests.

Every test here drives the real binaries: xenon-vmm booting the test guest
under KVM, xenond with real clients.  XENON_BUILD names the build to test;
when XENON_BUILD_SAN is set too, monitor tests run once more against the
AddressSanitizer/UBSan build and fail on any sanitizer report.
"""
import os
import pathlib
import subprocess
import time

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
BUILD = pathlib.Path(os.environ.get("XENON_BUILD", REPO / "build"))
BUILD_SAN = os.environ.get("XENON_BUILD_SAN")
GUEST = BUILD / "guest" / "xenon-guest.elf"

SAN_ENV = {
    "ASAN_OPTIONS": "detect_leaks=1:abort_on_error=0:exitcode=99",
    "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1:exitcode=99",
}
SAN_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")

EXIT_POWEROFF, EXIT_ERROR, EXIT_REBOOT, EXIT_CRASH, EXIT_INTERNAL, EXIT_STOPPED = 0, 1, 3, 4, 5, 6


class Monitor:
    """One build of xenon-vmm (plain or sanitizer)."""

    def __init__(self, build, sanitized):
        self.path = str(pathlib.Path(build) / "xenon-vmm")
        self.sanitized = sanitized
        self.env = dict(os.environ, **(SAN_ENV if sanitized else {}))

    def cmd(self, *args, memory=64, vcpus=1, kernel=None, cmdline=None,
            serial="stdio"):
        argv = [self.path]
        if kernel is not False:
            argv += ["--kernel", str(kernel or GUEST)]
        if memory is not None:
            argv += ["--memory", str(memory)]
        if vcpus is not None:
            argv += ["--vcpus", str(vcpus)]
        if cmdline is not None:
            argv += ["--cmdline", cmdline]
        if serial is not None:
            argv += ["--serial", serial]
        return argv + list(args)

    def run(self, *args, timeout=30, input=None, **kw):
        """Run to completion; returns CompletedProcess with text output."""
        proc = subprocess.run(self.cmd(*args, **kw), capture_output=True,
                              text=True, timeout=timeout, env=self.env,
                              input=input)
        self.check_sanitizer(proc.stderr)
        return proc

    def start(self, *args, **kw):
        return subprocess.Popen(self.cmd(*args, **kw), stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env=self.env, text=True)

    def check_sanitizer(self, stderr):
        for marker in SAN_MARKERS:
            assert marker not in stderr, f"sanitizer report:\n{stderr}"


def _monitor_params():
    params = [pytest.param((BUILD, False), id="plain")]
    if BUILD_SAN:
        params.append(pytest.param((BUILD_SAN, True), id="san"))
    return params


@pytest.fixture(params=_monitor_params())
def vmm(request):
    build, sanitized = request.param
    mon = Monitor(build, sanitized)
    if not os.path.exists(mon.path):
        pytest.fail(f"{mon.path} not built")
    return mon


@pytest.fixture
def plain_vmm():
    return Monitor(BUILD, False)


def result_line(text, test):
    """The guest's XENON-RESULT line for `test`, parsed into a dict."""
    for line in text.splitlines():
        if line.startswith("XENON-RESULT ") and f"test={test} " in line + " ":
            fields = dict(kv.split("=", 1) for kv in line.split()[1:] if "=" in kv)
            return fields
    raise AssertionError(f"no XENON-RESULT line for test={test} in:\n{text}")


def read_available(stream):
    """Whatever the pipe holds now, without blocking ("" if nothing)."""
    import select
    out = b""
    while select.select([stream.fileno()], [], [], 0)[0]:
        chunk = os.read(stream.fileno(), 65536)
        if not chunk:
            break
        out += chunk
    return out.decode(errors="replace")


def wait_for_line(stream, needle, timeout=10.0):
    """Read lines from a text stream until one contains needle."""
    deadline = time.monotonic() + timeout
    seen = []
    buf = ""
    while time.monotonic() < deadline:
        chunk = read_available(stream)
        if chunk:
            buf += chunk
            while "\n" in buf:
                line, buf = buf.split("\n", 1)
                seen.append(line)
                if needle in line:
                    return line, seen
        else:
            time.sleep(0.01)
    raise AssertionError(f"'{needle}' not seen within {timeout}s; got:\n" + "\n".join(seen + [buf]))
