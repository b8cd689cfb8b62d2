"""Shared pieces of the xenstore system tests: a real xenond on a private
socket and state directory, Xen's own xenstore-* tools pointed at it, and
a small xs_wire client in Python for what the tools cannot do (acting as
an unprivileged domain, transactions held open, malformed input).

Acting as a domain: xenond's socket connections are dom0, as in Xen; a
client sends XS_RESTRICT <domid> (the request Xen 4.7-4.8 gave deprivileged
device models) and from then on that connection has exactly the rights of
domain <domid>, irreversibly.  docs/xenstore.md describes it.

No tests here; the test_xenstore*.py modules import these fixtures.
"""
import os
import pathlib
import select
import signal
import socket
import struct
import subprocess
import time

import pytest

from conftest import BUILD, BUILD_SAN, SAN_ENV, SAN_MARKERS

TYPES = dict(CONTROL=0, DIRECTORY=1, READ=2, GET_PERMS=3, WATCH=4,
             UNWATCH=5, TRANSACTION_START=6, TRANSACTION_END=7,
             INTRODUCE=8, RELEASE=9, GET_DOMAIN_PATH=10, WRITE=11, MKDIR=12,
             RM=13, SET_PERMS=14, WATCH_EVENT=15, ERROR=16,
             IS_DOMAIN_INTRODUCED=17, RESUME=18, SET_TARGET=19, RESTRICT=20,
             RESET_WATCHES=21, DIRECTORY_PART=22)
HDR = struct.Struct("=IIII")
PAYLOAD_MAX = 4096


class XsError(Exception):
    def __init__(self, name):
        super().__init__(name)
        self.name = name


class Client:
    """One xs_wire connection.  Watch events are kept aside in .events."""

    def __init__(self, path, domid=None, timeout=10.0):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(str(path))
        self.buf = b""
        self.req_id = 0
        self.events = []
        if domid is not None:
            self.call("RESTRICT", f"{domid}\0")

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # --- framing ---------------------------------------------------------
    def send(self, type_, payload, tx=0, req_id=None):
        if isinstance(payload, str):
            payload = payload.encode()
        if req_id is None:
            self.req_id += 1
            req_id = self.req_id
        t = TYPES[type_] if isinstance(type_, str) else type_
        self.sock.sendall(HDR.pack(t, req_id, tx, len(payload)) + payload)
        return req_id

    def recv_msg(self):
        """Next message (type, req_id, tx_id, payload); raises on EOF."""
        while True:
            if len(self.buf) >= HDR.size:
                t, r, x, n = HDR.unpack_from(self.buf)
                if len(self.buf) >= HDR.size + n:
                    payload = self.buf[HDR.size:HDR.size + n]
                    self.buf = self.buf[HDR.size + n:]
                    return t, r, x, payload
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("xenond closed the connection")
            self.buf += chunk

    def reply(self, req_id):
        while True:
            t, r, x, payload = self.recv_msg()
            if t == TYPES["WATCH_EVENT"]:
                self.events.append(self._event(payload))
                continue
            assert r == req_id, (r, req_id)
            if t == TYPES["ERROR"]:
                raise XsError(payload.rstrip(b"\0").decode())
            return t, x, payload

    def call(self, type_, payload, tx=0):
        rid = self.send(type_, payload, tx)
        t, x, payload = self.reply(rid)
        assert t == TYPES[type_] and x == tx, (t, x)
        return payload

    @staticmethod
    def _event(payload):
        path, token = payload.split(b"\0")[:2]
        return path.decode(), token.decode()

    # --- requests --------------------------------------------------------
    def read(self, path, tx=0):
        return self.call("READ", path + "\0", tx)

    def write(self, path, value, tx=0):
        if isinstance(value, str):
            value = value.encode()
        self.call("WRITE", path.encode() + b"\0" + value, tx)

    def mkdir(self, path, tx=0):
        self.call("MKDIR", path + "\0", tx)

    def rm(self, path, tx=0):
        self.call("RM", path + "\0", tx)

    def ls(self, path, tx=0):
        out = self.call("DIRECTORY", path + "\0", tx)
        return [s.decode() for s in out.split(b"\0")[:-1]]

    def get_perms(self, path, tx=0):
        out = self.call("GET_PERMS", path + "\0", tx)
        return [s.decode() for s in out.split(b"\0")[:-1]]

    def set_perms(self, path, *perms, tx=0):
        self.call("SET_PERMS", path + "\0" + "".join(p + "\0" for p in perms),
                  tx)

    def watch(self, path, token):
        self.call("WATCH", f"{path}\0{token}\0")

    def unwatch(self, path, token):
        self.call("UNWATCH", f"{path}\0{token}\0")

    def tx_start(self):
        return int(self.call("TRANSACTION_START", "\0").rstrip(b"\0"))

    def tx_end(self, tx, commit=True):
        self.call("TRANSACTION_END", "T\0" if commit else "F\0", tx)

    def control(self, *args):
        return self.call("CONTROL", "".join(a + "\0" for a in args))

    def introduce(self, domid):
        self.call("INTRODUCE", f"{domid}\0" "0\0" "1\0")

    def release(self, domid):
        self.call("RELEASE", f"{domid}\0")

    def wait_event(self, timeout=5.0):
        """Next watch event (path, token), or None after timeout."""
        if self.events:
            return self.events.pop(0)
        deadline = time.monotonic() + timeout
        while not self._complete():
            left = max(0.0, deadline - time.monotonic())
            ready, _, _ = select.select([self.sock], [], [], left)
            if not ready:
                return None
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("xenond closed the connection")
            self.buf += chunk
        t, _, _, payload = self.recv_msg()
        assert t == TYPES["WATCH_EVENT"], t
        return self._event(payload)

    def _complete(self):
        if len(self.buf) < HDR.size:
            return False
        return len(self.buf) >= HDR.size + HDR.unpack_from(self.buf)[3]

    def drain_events(self, quiet=0.2):
        while self.wait_event(quiet) is not None:
            pass


def expect_error(name, fn, *args, **kw):
    with pytest.raises(XsError) as ei:
        fn(*args, **kw)
    assert ei.value.name == name, ei.value.name


class Xenond:
    """A private xenond: its own socket, state directory and log."""

    def __init__(self, build, sanitized, tmp, extra_args=()):
        self.path = str(pathlib.Path(build) / "xenond")
        self.sanitized = sanitized
        self.tmp = pathlib.Path(tmp)
        self.sock = self.tmp / "xenstored.sock"
        self.state = self.tmp / "state"
        self.errfile = self.tmp / "xenond.err"
        self.api_sock = self.tmp / "xenond.sock"
        self.log_dir = self.tmp / "log"
        self.console_dir = self.log_dir / "console"
        self.extra_args = list(extra_args)
        self.prefix = []     # e.g. ["ip", "netns", "exec", NS]: another "host"
        self.env = dict(os.environ, XENSTORED_PATH=str(self.sock),
                        XENOND_SOCKET=str(self.api_sock),
                        **(SAN_ENV if sanitized else {}))
        self.proc = None

    def argv(self):
        return [*self.prefix, self.path, "--foreground", "--state-dir", str(self.state),
                "--xenstore-socket", str(self.sock),
                "--socket", str(self.api_sock),
                "--log-dir", str(self.log_dir), *self.extra_args]

    def start(self, timeout=15.0):
        self.errfh = open(self.errfile, "a")
        self.proc = subprocess.Popen(self.argv(), stdin=subprocess.DEVNULL,
                                     stdout=self.errfh, stderr=self.errfh,
                                     env=self.env)
        wait_for_socket(self.sock, timeout, self.proc, self.errfile)
        wait_for_socket(self.api_sock, timeout, self.proc, self.errfile)
        return self

    def stop(self, sig=signal.SIGTERM):
        """Stop it; on SIGTERM expect a clean exit and no sanitizer report."""
        if not self.proc:
            return
        self.proc.send_signal(sig)
        rc = self.proc.wait(timeout=30)
        self.proc = None
        self.errfh.close()
        log = self.log()
        if sig == signal.SIGTERM:
            assert rc == 0, f"xenond exit {rc}:\n{log}"
        for marker in SAN_MARKERS:
            assert marker not in log, f"sanitizer report:\n{log}"

    def kill9(self):
        self.stop(signal.SIGKILL)

    def restart(self):
        self.start()

    def log(self):
        return self.errfile.read_text() if self.errfile.exists() else ""

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def client(self, domid=None):
        return Client(self.sock, domid)

    def tool(self, name, *args, check=True, input=None):
        proc = subprocess.run([f"xenstore-{name}", *args], env=self.env,
                              capture_output=True, text=True, timeout=20,
                              input=input)
        if check:
            assert proc.returncode == 0, (name, args, proc.stderr)
        return proc


def wait_for_socket(path, timeout, proc=None, errfile=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            log = errfile.read_text() if errfile else ""
            raise AssertionError(f"xenond exited {proc.returncode}:\n{log}")
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.connect(str(path))
                return
        except OSError:
            time.sleep(0.02)
    raise AssertionError(f"{path} not ready after {timeout}s")


def _builds():
    params = [pytest.param((BUILD, False), id="plain")]
    if BUILD_SAN:
        params.append(pytest.param((BUILD_SAN, True), id="san"))
    return params


def make_daemon(request, tmp_path, extra_args=()):
    build, sanitized = request.param
    d = Xenond(build, sanitized, tmp_path, extra_args)
    if not os.path.exists(d.path):
        pytest.fail(f"{d.path} not built")
    d.start()
    request.addfinalizer(d.stop)
    return d


@pytest.fixture(params=_builds())
def xenond(request, tmp_path):
    """A running xenond with default settings."""
    return make_daemon(request, tmp_path)


@pytest.fixture(params=_builds())
def xenond_factory(request, tmp_path):
    """Make a xenond with extra arguments (not started twice)."""
    made = []

    def make(*extra_args):
        build, sanitized = request.param
        d = Xenond(build, sanitized, tmp_path, extra_args)
        made.append(d)
        return d.start()

    yield make
    for d in made:
        d.stop()
