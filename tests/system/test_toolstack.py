"""The toolstack end to end: xenond's domain manager driven by the real xm
(and xl) binary, booting test-guest domains under KVM."""
import json
import os
import pathlib
import pty
import re
import select
import signal
import socket
import subprocess
import time

import pytest

from toolstack_helpers import toolstack  # noqa: F401 (fixture)


def test_create_list_and_xen_columns(toolstack):
    domid = toolstack.create("alpha")
    out = toolstack.xm("list").stdout.splitlines()
    assert out[0].split() == ["Name", "ID", "Mem", "VCPUs", "State", "Time(s)"]
    doms = toolstack.domains()
    assert doms["Domain-0"]["domid"] == 0
    assert doms["alpha"] == dict(doms["alpha"], domid=domid, mem=32, vcpus=1)
    assert toolstack.xm("domid", "alpha").stdout.strip() == str(domid)
    assert toolstack.xm("domname", domid).stdout.strip() == "alpha"
    # the guest runs: its console log fills
    toolstack.wait_console("alpha", "tick 2")
    assert "alpha" in toolstack.xm("uptime").stdout


def test_list_long_is_json_with_config(toolstack):
    toolstack.create("beta", vcpus=2)
    doms = json.loads(toolstack.xm("list", "-l", "beta").stdout)
    assert [d["name"] for d in doms] == ["beta"]
    assert doms[0]["vcpus"] == 2 and doms[0]["config"]["name"] == "beta"
    assert len(doms[0]["uuid"]) == 36


def test_xl_is_the_same_tool(toolstack):
    toolstack.create("gamma")
    out = toolstack.xm("list", "gamma", prog="xl")
    assert "gamma" in out.stdout


def test_several_domains_full_lifecycle(toolstack):
    names = ["d1", "d2", "d3"]
    ids = [toolstack.create(n) for n in names]
    assert len(set(ids)) == 3
    toolstack.xm("pause", "d2")
    doms = toolstack.wait_state("d2", "p")
    assert "p" not in doms["d1"]["state"]
    toolstack.xm("unpause", "d2")
    toolstack.wait_for(lambda d: "p" not in d["d2"]["state"], "d2 unpaused")
    toolstack.xm("rename", "d3", "d3-renamed")
    doms = toolstack.domains()
    assert "d3" not in doms and doms["d3-renamed"]["domid"] == ids[2]
    toolstack.xm("destroy", "d1")
    toolstack.xm("destroy", str(ids[1]))     # by ID
    doms = toolstack.wait_gone("d1")
    assert "d2" not in doms and "d3-renamed" in doms
    toolstack.xm("destroy", "d3-renamed")
    toolstack.wait_gone("d3-renamed")
    assert toolstack.vmm_pids() == []


def test_paused_create_then_unpause(toolstack):
    toolstack.xm("create", "-p", toolstack.config("sleepy"))
    assert "p" in toolstack.domains()["sleepy"]["state"]
    time.sleep(0.3)
    assert "tick 1" not in toolstack.console_log("sleepy")
    toolstack.xm("unpause", "sleepy")
    toolstack.wait_console("sleepy", "tick 1")


def test_on_poweroff_destroy_and_on_crash_preserve(toolstack):
    toolstack.create("quick", test="boot")          # powers off at once
    toolstack.create("broken", test="crash", on_crash="preserve")
    doms = toolstack.wait_for(lambda d: "quick" not in d and
                              "s" in d.get("broken", {}).get("state", ""),
                              "poweroff and crash")
    assert doms["broken"]["state"] == "---sc-"
    toolstack.xm("destroy", "broken")
    toolstack.wait_gone("broken")


def test_on_reboot_restart_gets_new_domid(toolstack):
    first = toolstack.create("rebooter", test="heartbeat", on_reboot="restart")
    toolstack.xm("destroy", "rebooter")
    toolstack.create("bouncer", test="reboot", on_reboot="restart")
    # a guest that reboots at once: restarted, then stopped as a crash loop
    toolstack.wait_gone("bouncer", timeout=30)
    log = toolstack.xm("dmesg").stdout
    assert "bouncer restarted as ID" in log
    assert "restarted 5 times" in log
    assert first > 0


def test_kill9_xenond_and_restart_finds_domains(toolstack):
    toolstack.create("survivor")
    toolstack.xm("create", "-p", toolstack.config("frozen"))
    toolstack.wait_console("survivor", "tick 1")
    before = toolstack.domains()
    pids = toolstack.vmm_pids()
    toolstack.kill9()
    time.sleep(0.5)
    for pid in pids:
        os.kill(pid, 0)                  # the domains outlive the daemon
    toolstack.restart()
    after = toolstack.domains()
    for name in ("survivor", "frozen"):
        assert after[name]["domid"] == before[name]["domid"]
    assert "p" in after["frozen"]["state"]
    assert sorted(toolstack.vmm_pids()) == sorted(pids)
    # the console capture resumes after the restart
    n = len(toolstack.console_log("survivor"))
    deadline = time.monotonic() + 10
    while len(toolstack.console_log("survivor")) <= n:
        assert time.monotonic() < deadline, "console capture did not resume"
        time.sleep(0.05)
    # and the adopted domains are fully managed again
    toolstack.xm("unpause", "frozen")
    toolstack.xm("destroy", "survivor")
    toolstack.xm("destroy", "frozen")
    toolstack.wait_gone("frozen")
    assert toolstack.vmm_pids() == []


def test_restart_finds_a_vmm_it_never_recorded(toolstack):
    """xenond killed between starting a VMM and recording its pid (the
    record is written before the VMM exists): on restart it asks the
    domain's control socket which process serves it, and adopts it."""
    domid = toolstack.create("orphan")
    toolstack.wait_console("orphan", "tick 1")
    pids = toolstack.vmm_pids()
    toolstack.kill9()
    record = toolstack.state / "domains" / str(domid) / "domain.json"
    rec = json.loads(record.read_text())
    assert rec["pid"] in pids
    rec["pid"], rec["pid_start"] = 0, 0       # as written before the spawn
    record.write_text(json.dumps(rec))
    toolstack.restart()
    assert toolstack.domains()["orphan"]["domid"] == domid
    assert "found its VMM" in toolstack.log()
    assert json.loads(record.read_text())["pid"] in pids
    n = max(int(t) for t in re.findall(r"tick (\d+)",
                                        toolstack.console_log("orphan")))
    toolstack.wait_console("orphan", f"tick {n + 1}")
    toolstack.xm("destroy", "orphan")
    toolstack.wait_gone("orphan")
    assert toolstack.vmm_pids() == []


def running(pid):
    """Not yet a zombie: a killed process leaves pgrep's sight (its
    command line) before it has finished exiting."""
    try:
        stat = pathlib.Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] not in "ZX"


def test_domain_that_ends_while_xenond_is_down(toolstack):
    toolstack.create("mortal", test="heartbeat", on_poweroff="destroy")
    pids = toolstack.vmm_pids()
    toolstack.kill9()
    for pid in pids:
        os.kill(pid, signal.SIGKILL)      # it dies while nobody watches
    deadline = time.monotonic() + 10
    while any(running(pid) for pid in pids):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    toolstack.restart()
    assert "mortal" not in toolstack.domains()
    assert "ended while xenond was not running" in toolstack.log()


def test_xenstore_layout_for_a_domain(toolstack):
    domid = toolstack.create("store", vcpus=2)
    base = f"/local/domain/{domid}"
    assert toolstack.tool("read", f"{base}/name").stdout == "store\n"
    assert toolstack.tool("read", f"{base}/domid").stdout == f"{domid}\n"
    vm = toolstack.tool("read", f"{base}/vm").stdout.strip()
    assert toolstack.tool("read", f"{vm}/name").stdout == "store\n"
    assert toolstack.tool("read", f"{base}/memory/target").stdout == \
        f"{32 * 1024}\n"
    assert toolstack.tool("read", f"{base}/cpu/1/availability").stdout == \
        "online\n"
    assert toolstack.tool("read", f"{base}/console/tty").stdout.startswith(
        "/dev/pts/")
    # the domain may read its tree, and owns data/
    assert f"r{domid}" in toolstack.client().get_perms(base)
    got = toolstack.client().get_perms(f"{base}/data")
    assert got[0] == f"n{domid}"
    toolstack.xm("destroy", "store")
    toolstack.wait_gone("store")
    assert toolstack.tool("exists", base, check=False).returncode != 0
    assert toolstack.tool("exists", vm, check=False).returncode != 0


def test_console_two_clients_and_log(toolstack):
    toolstack.create("chatty")
    toolstack.wait_console("chatty", "tick 1")
    env = toolstack.env
    xm = str(os.path.join(os.path.dirname(toolstack.path), "xm"))
    clients = [subprocess.Popen([xm, "console", "chatty"], env=env,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
               for _ in range(2)]
    try:
        for c in clients:
            got = b""
            deadline = time.monotonic() + 10
            while b"tick" not in got and time.monotonic() < deadline:
                r, _, _ = select.select([c.stdout], [], [], 0.5)
                if r:
                    got += os.read(c.stdout.fileno(), 4096)
            assert b"tick" in got
    finally:
        for c in clients:
            c.kill()
            c.wait()
    # the capture never depended on the clients
    toolstack.wait_console("chatty", "tick 5")


def test_console_detach_with_ctrl_bracket(toolstack):
    toolstack.create("tty-one")
    toolstack.wait_console("tty-one", "tick 1")
    xm = os.path.join(os.path.dirname(toolstack.path), "xm")
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(xm, [xm, "console", "tty-one"], toolstack.env)
    got = b""
    deadline = time.monotonic() + 10
    while b"tick" not in got and time.monotonic() < deadline:
        r, _, _ = select.select([fd], [], [], 0.5)
        if r:
            got += os.read(fd, 4096)
    assert b"tick" in got
    os.write(fd, b"\x1d")
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    assert "tty-one" in toolstack.domains()       # detaching kills nothing


def test_dmesg_and_info(toolstack):
    toolstack.create("noted")
    assert "domain noted" in toolstack.xm("dmesg").stdout
    toolstack.xm("dmesg", "-c")
    assert "domain noted" not in toolstack.xm("dmesg").stdout
    info = toolstack.xm("info").stdout
    fields = dict(l.split(":", 1) for l in info.splitlines())
    assert int(fields["nr_cpus".ljust(22)].strip()) == os.cpu_count()
    assert int(fields["total_memory".ljust(22)]) > 0


def test_create_dry_run_prints_json(toolstack):
    cfg = toolstack.config("dry", vcpus=2)
    out = toolstack.xm("create", "-n", cfg, "memory=48")
    parsed = json.loads(out.stdout)
    assert parsed["name"] == "dry" and parsed["memory_mib"] == 48
    assert "dry" not in toolstack.domains()


# ---- bad input ---------------------------------------------------------------

def test_unknown_domain(toolstack):
    for cmd in (["destroy", "nosuch"], ["pause", "nosuch"], ["domid", "nosuch"],
                ["console", "nosuch"], ["rename", "nosuch", "x"]):
        out = toolstack.xm(*cmd, check=False)
        assert out.returncode == 1, cmd
        assert "nosuch" in out.stderr and "not exist" in out.stderr, out.stderr


def test_duplicate_name_refused(toolstack):
    toolstack.create("twin")
    out = toolstack.xm("create", toolstack.config("twin"), check=False)
    assert out.returncode == 1
    assert "already exists" in out.stderr
    assert len([n for n in toolstack.domains() if n == "twin"]) == 1


def test_bad_config_names_file_and_line(toolstack):
    cfg = toolstack.tmp / "bad.cfg"
    cfg.write_text('name = "bad"\nmemory = [1,\nkernel = "x"\n')
    out = toolstack.xm("create", cfg, check=False)
    assert out.returncode == 1
    assert "bad.cfg:" in out.stderr
    cfg.write_text('name = "bad"\nmemory = 32\nkernel = "/nonexistent/k"\n')
    out = toolstack.xm("create", cfg, check=False)
    assert out.returncode == 1 and "/nonexistent/k" in out.stderr
    assert "bad" not in toolstack.domains()


def test_vmm_start_failure_is_reported_and_cleaned(toolstack):
    junk = toolstack.tmp / "junk.bin"
    junk.write_bytes(b"\x7fELF" + b"\0" * 60)
    cfg = toolstack.tmp / "junk.cfg"
    cfg.write_text(f'name = "junk"\nmemory = 32\nkernel = "{junk}"\n')
    out = toolstack.xm("create", cfg, check=False)
    assert out.returncode == 1
    assert "junk" in out.stderr and "VMM failed to start" in out.stderr
    assert "junk" not in toolstack.domains()
    assert not list((toolstack.state / "domains").glob("*/domain.json"))


def test_bad_cli_arguments(toolstack):
    out = toolstack.xm("create", check=False)
    assert out.returncode != 0 and "xm help create" in out.stderr
    out = toolstack.xm("frobnicate", check=False)
    assert out.returncode != 0
    out = toolstack.xm("create", toolstack.config("ov"), "notkeyvalue",
                       check=False)
    assert out.returncode != 0 and "KEY=VALUE" in out.stderr
    out = toolstack.xm("rename", "Domain-0", "123", check=False)
    assert out.returncode == 1


def test_help_for_every_command(toolstack):
    listing = toolstack.xm("help").stdout
    for cmd in ("create", "list", "shutdown", "reboot", "destroy", "pause",
                "unpause", "console", "domid", "domname", "rename", "uptime",
                "info", "dmesg"):
        assert cmd in listing
        out = toolstack.xm(cmd, "--help", check=False)
        assert out.returncode == 0 and f"Usage: xm {cmd}" in out.stdout, cmd


def test_top_batch_mode(toolstack):
    toolstack.create("watched", vcpus=2)
    out = toolstack.xm("top", "-b", "-i", "2", "-d", "0.3").stdout
    blocks = [b for b in out.split("\n\n") if b.strip()]
    assert len(blocks) == 2
    last = blocks[-1].splitlines()
    assert last[0].startswith("xentop - ")
    assert "2 domains:" in last[1]
    assert last[2].split()[:4] == ["NAME", "STATE", "CPU(sec)", "CPU(%)"]
    row = next(l.split() for l in last if l.split()[0] == "watched")
    assert row[8] == "2"                     # VCPUS
    assert int(row[4]) == 32 * 1024          # MEM(k)
    assert 0.0 <= float(row[3]) <= 200.0     # CPU(%) over the interval
    bad = toolstack.xm("top", "-d", "0", check=False)
    assert bad.returncode == 2 and "-d 0" in bad.stderr


# ---- graceful shutdown through the guest's xenstore client -------------------

def wait_store(toolstack, path, value, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        out = toolstack.tool("read", path, check=False)
        if out.returncode == 0 and out.stdout.strip() == value:
            return
        time.sleep(0.05)
    pytest.fail(f"{path} never became {value!r}")


def test_guest_uses_its_store_and_shutdown_w(toolstack):
    domid = toolstack.create("pv", test="domu")
    base = f"/local/domain/{domid}"
    wait_store(toolstack, f"{base}/data/status", "running")
    assert toolstack.tool("read", f"{base}/control/feature-poweroff").stdout \
        == "1\n"
    t0 = time.monotonic()
    toolstack.xm("shutdown", "-w", "pv")
    assert "pv" not in toolstack.domains()
    assert time.monotonic() - t0 < 10
    log = toolstack.console_log("pv")
    assert "status=pass" in log and "action=poweroff" in log
    assert toolstack.tool("exists", base, check=False).returncode != 0


def test_reboot_restarts_with_new_id(toolstack):
    domid = toolstack.create("rb", test="domu", on_reboot="restart")
    wait_store(toolstack, f"/local/domain/{domid}/data/status", "running")
    toolstack.xm("reboot", "rb")
    doms = toolstack.wait_for(lambda d: d.get("rb", {}).get("domid",
                                                            domid) != domid,
                              "rb to come back")
    new = doms["rb"]["domid"]
    wait_store(toolstack, f"/local/domain/{new}/data/status", "running")
    assert toolstack.tool("exists", f"/local/domain/{domid}",
                          check=False).returncode != 0
    toolstack.xm("shutdown", "-w", "rb")


def test_shutdown_all(toolstack):
    ids = [toolstack.create(n, test="domu") for n in ("s1", "s2")]
    for i in ids:
        wait_store(toolstack, f"/local/domain/{i}/data/status", "running")
    toolstack.xm("shutdown", "-a", "-w")
    assert set(toolstack.domains()) == {"Domain-0"}


def test_guest_without_store_client_gets_power_button(toolstack):
    # test=domu without a channel honours the ACPI power button only
    domid = toolstack.create("acpi", test="domu")
    toolstack.wait_console("acpi", "ready")
    # hide the PV interface: the guest's feature flag is what xenond checks
    toolstack.tool("rm", f"/local/domain/{domid}/control/feature-poweroff")
    toolstack.xm("shutdown", "-w", "acpi")
    assert "action=power-button" in toolstack.console_log("acpi")
    assert "ACPI power button" in toolstack.xm("dmesg").stdout


def test_xenond_restart_keeps_guest_store_channel(toolstack):
    domid = toolstack.create("durable", test="domu")
    wait_store(toolstack, f"/local/domain/{domid}/data/status", "running")
    toolstack.kill9()
    toolstack.restart()
    # the guest's watch on control/shutdown survived the restart
    toolstack.xm("shutdown", "-w", "durable", timeout=30)
    assert "action=poweroff" in toolstack.console_log("durable")


def test_guest_flooding_its_store_is_contained(toolstack):
    toolstack.create("flood", test="xenstore-flood")
    toolstack.create("bystander", test="domu")
    toolstack.wait_console("flood", "XENON-RESULT", timeout=60)
    assert "status=pass" in toolstack.console_log("flood")
    # the daemon and the other domain are unaffected
    by = toolstack.domains()["bystander"]["domid"]
    wait_store(toolstack, f"/local/domain/{by}/data/status", "running")
    toolstack.xm("shutdown", "-w", "bystander")


def test_vif_gets_a_tap_named_as_xen_does(toolstack):
    domid = toolstack.create("netted", test="domu",
                             vif=["mac=00:16:3e:0a:0b:0c"])
    tap = f"vif{domid}.0"
    out = subprocess.run(["ip", "-o", "link", "show", tap],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    be = f"/local/domain/0/backend/vif/{domid}/0"
    assert toolstack.tool("read", f"{be}/mac").stdout == "00:16:3e:0a:0b:0c\n"
    assert toolstack.tool("read", f"{be}/vifname").stdout == f"{tap}\n"
    fe = f"/local/domain/{domid}/device/vif/0"
    assert toolstack.tool("read", f"{fe}/backend").stdout == f"{be}\n"
    toolstack.xm("destroy", "netted")
    toolstack.wait_gone("netted")
    gone = subprocess.run(["ip", "link", "show", tap], capture_output=True)
    assert gone.returncode != 0          # the VMM's TAP went with it


def test_disks_from_the_config_file(toolstack):
    img = toolstack.tmp / "root.img"
    img.write_bytes(b"\0" * (4 << 20))
    ro = toolstack.tmp / "ro.img"
    ro.write_bytes(b"\x5a" * (1 << 20))
    domid = toolstack.create(
        "disked", test="blk-pattern", on_poweroff="preserve",
        disk=[f"file:{img},xvda,w", f"file:{ro},xvdb,r"])
    toolstack.wait_state("disked", "s")
    log = toolstack.console_log("disked")
    assert "test=blk-pattern status=pass" in log, log
    assert img.read_bytes() != b"\0" * (4 << 20)      # the guest wrote
    be = f"/local/domain/0/backend/vbd/{domid}"
    devs = toolstack.tool("list", be).stdout.split()
    assert devs == ["51712", "51728"]                 # xvda, xvdb
    assert toolstack.tool("read", f"{be}/51712/params").stdout == f"{img}\n"
    assert toolstack.tool("read", f"{be}/51728/mode").stdout == "r\n"
    fe = f"/local/domain/{domid}/device/vbd/51712/virtual-device-name"
    assert toolstack.tool("read", fe).stdout == "xvda\n"


def test_bad_disk_is_refused_before_start(toolstack):
    cfg = toolstack.config("nodisk", disk=["file:/nonexistent/x.img,xvda,w"])
    out = toolstack.xm("create", cfg, check=False)
    assert out.returncode == 1
    assert "/nonexistent/x.img" in out.stderr
    assert "nodisk" not in toolstack.domains()
def test_kill9_xenond_while_guest_starts_up(toolstack):
    # xenond dies while the guest's first requests (RESET_WATCHES, reads,
    # data/status, control/feature-*, the control/shutdown watch, the
    # transaction that looks at control/shutdown) are in flight.  Each
    # must get one real answer after the restart, so the guest finishes
    # starting, advertises poweroff and does it when asked.  On even
    # rounds `xm shutdown` comes at once, maybe before the guest has
    # advertised anything: then xenond presses the power button, which a
    # guest still starting up must not ignore.
    for i, delay in enumerate((0, 0.005, 0.02, 0.05, 0, 0.01, 0.03, 0.1)):
        name = f"early{i}"
        domid = toolstack.create(name, test="domu")
        time.sleep(delay)
        toolstack.kill9()
        toolstack.restart()
        base = f"/local/domain/{domid}"
        if i % 2:
            wait_store(toolstack, f"{base}/data/status", "running",
                       timeout=5)
            assert toolstack.tool("read", f"{base}/control/"
                                  "feature-poweroff").stdout == "1\n"
        t0 = time.monotonic()
        toolstack.xm("shutdown", "-w", name, timeout=10)
        took = time.monotonic() - t0
        log = toolstack.console_log(name)
        assert "status=pass" in log, f"delay {delay}:\n{log}"
        assert took < 5, f"delay {delay}: shutdown took {took:.1f} s"
        if i % 2:
            assert "action=poweroff" in log, f"delay {delay}:\n{log}"
    assert "dropping the previous connection" not in toolstack.log()


def test_adopted_domain_is_released_on_destroy(toolstack):
    # A restarted xenond introduces the domains it adopts; releasing one
    # (xm destroy) then fires @releaseDomain and forgets its durable
    # watches, as for a domain this xenond created.
    domid = toolstack.create("adopted", test="domu")
    wait_store(toolstack, f"/local/domain/{domid}/data/status", "running")
    toolstack.kill9()
    toolstack.restart()
    with toolstack.client() as c:
        c.watch("@releaseDomain", "rel")
        assert c.wait_event() == ("@releaseDomain", "rel")
        toolstack.xm("destroy", "adopted")
        assert c.wait_event() == ("@releaseDomain", "rel")
    assert "domain %d released" % domid in toolstack.log()


def test_channel_refuses_other_processes(toolstack):
    # Only the domain's own monitor may use its channel: another process
    # dialling the socket (a monitor left over from an earlier domain with
    # this id) is refused and the guest's channel is not disturbed.
    domid = toolstack.create("guarded", test="domu")
    base = f"/local/domain/{domid}"
    wait_store(toolstack, f"{base}/data/status", "running")
    path = toolstack.state / "domains" / str(domid) / "xenstore.sock"
    for _ in range(3):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(5)
            s.connect(str(path))
            assert s.recv(64) == b""          # closed at once
    log = toolstack.log()
    assert f"refusing a connection from pid {os.getpid()}" in log
    assert "dropping the previous connection" not in log
    toolstack.xm("shutdown", "-w", "guarded", timeout=10)
    assert "action=poweroff" in toolstack.console_log("guarded")
