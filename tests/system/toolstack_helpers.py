"""A private xenond with its domain manager, driven through the real xm
binary: config files for the test guest, `xm list` parsed, waiting for
domains to appear, change state or go away.  No tests here."""
import json
import pathlib
import re
import subprocess
import time

import pytest

from conftest import GUEST, SAN_MARKERS
from test_xenstore_helpers import Xenond, _builds

LIST_ROW = re.compile(r"^(\S+)\s+(\d+)\s+(\d+)\s+(\d+)\s+([-rbpscd]{6})\s+"
                      r"([\d.]+)$")


class Toolstack(Xenond):
    def xm(self, *args, check=True, timeout=30, input=None, prog="xm"):
        proc = subprocess.run([str(pathlib.Path(self.path).parent / prog),
                               *map(str, args)], env=self.env,
                              capture_output=True, text=True,
                              timeout=timeout, input=input)
        if check:
            assert proc.returncode == 0, (args, proc.stdout, proc.stderr)
        return proc

    def config(self, name, test="heartbeat", extra="", **keys):
        """Write NAME.cfg for the test guest; keys become KEY = VALUE."""
        lines = [f'name = "{name}"', f'kernel = "{GUEST}"', "memory = 32",
                 f'extra = "test={test} {extra}"']
        for k, v in keys.items():
            lines.append(f"{k} = {json.dumps(v) if isinstance(v, str) else v}")
        path = self.tmp / f"{name}.cfg"
        path.write_text("\n".join(lines) + "\n")
        return path

    def create(self, name, *vars, **kw):
        out = self.xm("create", self.config(name, **kw), *vars)
        m = re.search(r"Started domain (\S+) \(id=(\d+)\)", out.stdout)
        assert m, out.stdout
        return int(m.group(2))

    def domains(self):
        rows = {}
        for line in self.xm("list").stdout.splitlines()[1:]:
            m = LIST_ROW.match(line)
            assert m, f"bad xm list row: {line!r}"
            rows[m.group(1)] = dict(domid=int(m.group(2)),
                                    mem=int(m.group(3)),
                                    vcpus=int(m.group(4)),
                                    state=m.group(5), time=float(m.group(6)))
        return rows

    def wait_for(self, pred, what, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            doms = self.domains()
            if pred(doms):
                return doms
            time.sleep(0.05)
        pytest.fail(f"timed out waiting for {what}: {self.domains()}\n"
                    f"{self.log()[-3000:]}")

    def wait_gone(self, name, timeout=20):
        return self.wait_for(lambda d: name not in d, f"{name} to go",
                             timeout)

    def wait_state(self, name, flag, timeout=20):
        return self.wait_for(lambda d: name in d and flag in d[name]["state"],
                             f"{name} state {flag}", timeout)

    def console_log(self, name):
        p = self.console_dir / f"guest-{name}.log"
        return p.read_text(errors="replace") if p.exists() else ""

    def wait_console(self, name, text, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.console_log(name):
                return
            time.sleep(0.05)
        pytest.fail(f"{text!r} not in {name}'s console:\n"
                    f"{self.console_log(name)[-2000:]}")

    def vmm_pids(self):
        out = subprocess.run(["pgrep", "-f", f"{self.state}/domains/"],
                             capture_output=True, text=True)
        return [int(p) for p in out.stdout.split()]

    def vmm_logs(self):
        return "".join(p.read_text(errors="replace")
                       for p in sorted(self.log_dir.glob("vmm-*.log")))


def make_toolstack(request, tmp_path, extra_args=()):
    build, sanitized = request.param
    ts = Toolstack(build, sanitized, tmp_path, extra_args).start()

    def cleanup():
        if ts.alive():
            for name in list(ts.domains()):
                if name != "Domain-0":
                    ts.xm("destroy", name, check=False)
            ts.stop()
        for pid in ts.vmm_pids():
            subprocess.run(["kill", "-9", str(pid)])
        logs = ts.vmm_logs()
        for marker in SAN_MARKERS:
            assert marker not in logs, f"sanitizer report:\n{logs}"
    request.addfinalizer(cleanup)
    return ts


@pytest.fixture(params=_builds())
def toolstack(request, tmp_path):
    return make_toolstack(request, tmp_path)
