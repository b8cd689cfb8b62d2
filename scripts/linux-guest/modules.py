#!/usr/bin/env python3
"""Print, in load order, the module files needed for the named modules.

usage: modules.py MODDIR NAME...

MODDIR is a kernel's /lib/modules/RELEASE.  A module listed in
modules.builtin is built into the kernel and needs nothing; otherwise its
dependencies from modules.dep come first.  Output: one path relative to
MODDIR per line; built-in modules are reported on stderr.
"""
import os
import sys


def norm(path_or_name):
    base = os.path.basename(path_or_name)
    for ext in (".xz", ".zst", ".gz"):
        if base.endswith(ext):
            base = base[:-len(ext)]
    if base.endswith(".ko"):
        base = base[:-3]
    return base.replace("-", "_")


def main(argv):
    if len(argv) < 3:
        raise SystemExit(__doc__.strip().splitlines()[2])
    moddir, wanted = argv[1], argv[2:]
    builtin = set()
    path = os.path.join(moddir, "modules.builtin")
    if os.path.exists(path):
        with open(path) as f:
            builtin = {norm(line.strip()) for line in f if line.strip()}
    deps, paths = {}, {}
    with open(os.path.join(moddir, "modules.dep")) as f:
        for line in f:
            mod, _, rest = line.partition(":")
            name = norm(mod)
            paths[name] = mod.strip()
            deps[name] = [norm(d) for d in rest.split()]
    order, done = [], set()

    def visit(name, chain):
        if name in done:
            return
        if name in chain:
            raise SystemExit(f"modules.py: dependency loop at {name}")
        for d in deps[name]:
            visit(d, chain + [name])
        done.add(name)
        order.append(paths[name])

    for w in wanted:
        name = norm(w)
        if name in builtin:
            print(f"modules.py: {name} is built in", file=sys.stderr)
        elif name in deps:
            visit(name, [])
        else:
            raise SystemExit(f"modules.py: no module {name} in {moddir}")
    print("\n".join(order))


if __name__ == "__main__":
    main(sys.argv)
