"""xenond's xenstore driven by Xen's own tools (Debian's xenstore-utils),
unchanged, through XENSTORED_PATH: every operation they have."""
import subprocess
import time

from test_xenstore_helpers import xenond  # noqa: F401  (fixture)


def lines(proc):
    return proc.stdout.splitlines()


def test_layout_is_seeded(xenond):
    out = xenond.tool("ls", "/").stdout
    assert 'name = "Domain-0"' in out
    assert 'domid = "0"' in out
    for top in ("local", "vm", "tool"):
        assert f"{top} = " in out
    assert xenond.tool("read", "/local/domain/0/name").stdout == "Domain-0\n"
    assert "backend" in lines(xenond.tool("list", "/local/domain/0"))


def test_write_read_list_exists_rm(xenond):
    xenond.tool("write", "/t/a", "1", "/t/b/c", "two words")
    assert lines(xenond.tool("read", "/t/a", "/t/b/c")) == ["1", "two words"]
    # parents are created with empty values
    assert xenond.tool("read", "/t/b").stdout == "\n"
    assert lines(xenond.tool("list", "/t")) == ["a", "b"]
    assert xenond.tool("exists", "/t/b/c").returncode == 0
    assert xenond.tool("exists", "/t/nope", check=False).returncode != 0
    xenond.tool("rm", "/t/b")
    assert xenond.tool("exists", "/t/b/c", check=False).returncode != 0
    assert lines(xenond.tool("list", "/t")) == ["a"]
    # removing what is not there is fine while the parent exists ...
    assert xenond.tool("rm", "/t/gone", check=False).returncode == 0
    # ... but not when the parent is missing too
    assert xenond.tool("rm", "/t/gone/deeper", check=False).returncode != 0


def test_read_missing_fails(xenond):
    proc = xenond.tool("read", "/does/not/exist", check=False)
    assert proc.returncode != 0
    assert "/does/not/exist" in proc.stderr


def test_relative_paths_are_dom0s(xenond):
    xenond.tool("write", "relative/key", "v")
    assert xenond.tool("read", "/local/domain/0/relative/key").stdout == "v\n"


def test_ls_recursive_with_values_and_perms(xenond):
    xenond.tool("write", "/ls/x/y", "deep", "/ls/z", "top")
    out = xenond.tool("ls", "/ls").stdout
    assert 'x = ""' in out and 'y = "deep"' in out and 'z = "top"' in out
    out = xenond.tool("ls", "-p", "/ls").stdout
    assert "(n0)" in out


def test_chmod(xenond):
    xenond.tool("write", "/perm/node", "v")
    xenond.tool("chmod", "/perm/node", "b0", "r5", "w6")
    out = xenond.tool("ls", "-p", "/perm").stdout
    assert "(b0,r5,w6)" in out
    # recursive
    xenond.tool("write", "/perm/tree/a/b", "v")
    xenond.tool("chmod", "-r", "/perm/tree", "n0", "r9")
    with xenond.client() as c:
        for p in ("/perm/tree", "/perm/tree/a", "/perm/tree/a/b"):
            assert c.get_perms(p) == ["n0", "r9"], p
    assert xenond.tool("chmod", "/perm/node", "q1", check=False).returncode


def test_large_directory(xenond):
    """More children than one 4096-byte reply holds: the tools fall back
    to DIRECTORY_PART and still see every one."""
    with xenond.client() as c:
        for i in range(600):
            c.mkdir(f"/big/a-rather-long-child-name-{i:04d}")
    names = lines(xenond.tool("list", "/big"))
    assert len(names) == 600
    assert names[0] == "a-rather-long-child-name-0000"
    assert len(lines(xenond.tool("ls", "/big"))) == 600


def test_long_and_odd_values(xenond):
    value = "x" * 3000
    xenond.tool("write", "/long", value)
    assert xenond.tool("read", "/long").stdout == value + "\n"
    xenond.tool("write", "/spaces", "a b\tc")
    # xenstore-read escapes control characters; the stored bytes are raw
    assert xenond.tool("read", "/spaces").stdout == "a b\\tc\n"
    with xenond.client() as c:
        assert c.read("/spaces") == b"a b\tc"
    assert xenond.tool("write", "/bad path", "x", check=False).returncode


def test_watch_tool(xenond):
    """xenstore-watch prints the initial event, then every change at or
    below the watched path."""
    proc = subprocess.Popen(["xenstore-watch", "-n", "4", "/w"],
                            env=xenond.env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(0.5)
        xenond.tool("write", "/w", "1")
        xenond.tool("write", "/elsewhere", "1")
        xenond.tool("write", "/w/child", "2")
        xenond.tool("rm", "/w")
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert out.split() == ["/w", "/w", "/w/child", "/w"]


def test_many_tool_runs(xenond):
    for i in range(50):
        xenond.tool("write", f"/many/k{i}", str(i))
    out = xenond.tool("ls", "/many").stdout
    assert out.count(" = ") == 50
