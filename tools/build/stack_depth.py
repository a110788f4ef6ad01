#!/usr/bin/env python3
"""Stack gate of the core: the deepest stack of every public entry point.

Reads the -fcallgraph-info=su files gcc wrote for the core (CI_DIR/*.ci: one
node per function with its frame size, one edge per call), resolves the
indirect calls to what can be installed there (the entropy model's serve and
reset; the entropy source is the shim's and counted as a leaf), refuses
recursion, and computes for every public entry point (svd_* functions of the
public headers) the largest sum of frames along any call path. Fails when one
exceeds LIMIT bytes; writes a Markdown table to OUT when given.

Usage: stack_depth.py CI_DIR LIMIT [OUT.md]
"""
import glob
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Indirect calls of the core and what may be behind them.
INDIRECT = {
    "svd_dev_kick": ["ent_serve"],
    "dev_latch": ["ent_reset"],
    "svd_dev_reset": ["ent_reset"],
    "svd_dev_queue_stop": ["ent_reset"],
}


def public_functions():
    names = set()
    for h in glob.glob(os.path.join(ROOT, "include", "safevdev", "*.h")):
        with open(h) as f:
            for m in re.finditer(r"\b(svd_[a-z0-9_]+)\s*\(", f.read()):
                names.add(m.group(1))
    return names


def load(ci_dir):
    frame, edges = {}, {}
    files = glob.glob(os.path.join(ci_dir, "*.ci"))
    if not files:
        raise SystemExit(f"stack_depth: no .ci files in {ci_dir}")
    for path in files:
        with open(path) as f:
            text = f.read()
        for m in re.finditer(r'node: \{ title: "([^"]+)" label: "([^"]*)"', text):
            name = m.group(1).split(":")[-1]
            size = re.search(r"\\n(\d+) bytes", m.group(2))
            frame[name] = max(frame.get(name, 0), int(size.group(1)) if size else 0)
        for m in re.finditer(r'edge: \{ sourcename: "([^"]+)" targetname: "([^"]+)"', text):
            src, dst = m.group(1).split(":")[-1], m.group(2).split(":")[-1]
            edges.setdefault(src, set()).add(dst)
    for src, dsts in INDIRECT.items():
        for base in list(edges):
            if base == src or base.startswith(src + "."):
                edges[base].update(dsts)
    return frame, edges


def depths(frame, edges):
    memo = {}

    def depth(fn, path):
        if fn in memo:
            return memo[fn]
        if fn in path:
            raise SystemExit("stack_depth: recursion " + " -> ".join(path + (fn,)) + ": the core must not recurse")
        d = frame.get(fn, 0) + max((depth(c, path + (fn,)) for c in edges.get(fn, ()) if c != "__indirect_call"),
                                   default=0)
        memo[fn] = d
        return d

    return {fn: depth(fn, ()) for fn in frame}


def main():
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    ci_dir, limit = sys.argv[1], int(sys.argv[2])
    frame, edges = load(ci_dir)
    d = depths(frame, edges)
    entry = sorted(f for f in d if f in public_functions())
    worst_fn = max(entry, key=lambda f: d[f])
    lines = ["| public entry point | deepest stack (bytes) |", "|---|---|"]
    lines += [f"| `{f}` | {d[f]} |" for f in entry]
    lines += ["", f"Deepest: `{worst_fn}`, {d[worst_fn]} bytes (limit {limit}; the entropy source's own frame "
              "comes on top of `svd_vdev_kick`/`svd_vdev_tick`/`svd_vdev_access`)."]
    if len(sys.argv) > 3:
        with open(sys.argv[3], "w") as f:
            f.write("\n".join(lines) + "\n")
    print(f"stack: {len(entry)} public entry points, deepest {worst_fn} {d[worst_fn]} bytes, limit {limit}")
    if d[worst_fn] > limit:
        raise SystemExit(f"stack: {worst_fn} needs {d[worst_fn]} bytes, more than the documented {limit}")


if __name__ == "__main__":
    main()
