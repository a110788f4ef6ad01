#!/usr/bin/env python3
"""Worst-case work per call of the core's entry points (tests/bench/wcet_core.c).

Runs wcet_core under callgrind so that every measured call is one profile dump
(--toggle-collect=wcet_call --dump-after=wcet_call), pairs the dumps with the
case names the program printed, and writes a Markdown table of the maximum
instructions per call of each case. With --stack DIR it also reads the
-fcallgraph-info=su files of the core (DIR/*.ci) and reports the deepest
stack from each public entry point.

Usage: wcet.py WCET_BIN OUT.md [--stack CI_DIR]
"""
import glob
import os
import re
import subprocess
import sys
import tempfile


def callgrind(binary, work):
    out = os.path.join(work, "cg.out")
    cases = subprocess.run(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", "--collect-atstart=no",
         "--toggle-collect=wcet_call", "--dump-after=wcet_call", binary],
        check=True, capture_output=True, text=True).stdout.splitlines()
    names = [m.group(1) for m in (re.match(r"WCET case=(\S+)", line) for line in cases) if m]
    if "WCET done" not in cases:
        raise SystemExit("wcet: wcet_core did not finish its checks")
    dumps = sorted((p for p in glob.glob(out + ".*") if re.search(r"\.\d+$", p)),
                   key=lambda p: int(p.rsplit(".", 1)[1]))
    if len(dumps) != len(names):
        raise SystemExit(f"wcet: {len(dumps)} dumps for {len(names)} measured calls")
    per = {}
    for name, path in zip(names, dumps):
        total = None
        with open(path) as f:
            for line in f:
                if line.startswith("totals:"):
                    total = int(line.split()[1])
        if total is None:
            raise SystemExit(f"wcet: no totals in {path}")
        calls, worst = per.get(name, (0, 0))
        per[name] = (calls + 1, max(worst, total))
    return names, per


def stack_depths(ci_dir):
    """Deepest stack (bytes) from every function, over the static call graph
    that gcc's -fcallgraph-info=su writes; indirect calls (the model's serve
    and reset, the entropy source) are resolved to the functions a shim or
    the core can install there."""
    frame, edges = {}, {}
    for path in glob.glob(os.path.join(ci_dir, "*.ci")):
        with open(path) as f:
            text = f.read()
        for m in re.finditer(r'node: \{ title: "([^"]+)" label: "([^"]*)"', text):
            title, label = m.group(1), m.group(2)
            size = re.search(r"\\n(\d+) bytes", label)
            name = title.split(":")[-1]
            if size:
                frame[name] = max(frame.get(name, 0), int(size.group(1)))
            else:
                frame.setdefault(name, 0)
        for m in re.finditer(r'edge: \{ sourcename: "([^"]+)" targetname: "([^"]+)"', text):
            src, dst = m.group(1).split(":")[-1], m.group(2).split(":")[-1]
            edges.setdefault(src, set()).add(dst)
    # Indirect calls: every model the core provides and the source callback
    # (the source is the shim's: counted as a leaf of 0 bytes here).
    for f in ("svd_dev_kick", "svd_dev_tick"):
        edges.setdefault(f, set()).add("ent_serve")
    for f in ("dev_latch", "svd_dev_reset", "svd_dev_queue_stop"):
        edges.setdefault(f, set()).add("ent_reset")
    memo = {}

    def depth(fn, seen=()):
        if fn in memo:
            return memo[fn]
        if fn in seen:
            raise SystemExit(f"wcet: recursion through {fn}: the core must not recurse")
        d = frame.get(fn, 0) + max((depth(c, seen + (fn,)) for c in edges.get(fn, ())), default=0)
        memo[fn] = d
        return d

    return {fn: depth(fn) for fn in frame}


def main():
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    binary, out = sys.argv[1], sys.argv[2]
    ci_dir = sys.argv[4] if len(sys.argv) > 4 and sys.argv[3] == "--stack" else None
    with tempfile.TemporaryDirectory() as work:
        order, per = callgrind(binary, work)
    seen = []
    for n in order:
        if n not in seen:
            seen.append(n)
    lines = ["| case | calls measured | max instructions per call |", "|---|---|---|"]
    for n in seen:
        calls, worst = per[n]
        lines.append(f"| `{n}` | {calls} | {worst:,} |")
        print(f"WCET {n}: {calls} calls, max {worst} instructions")
    if ci_dir:
        depths = stack_depths(ci_dir)
        entry = sorted(f for f in depths if f.startswith("svd_") and not f.startswith("svd_dev_")
                       and not f.startswith("svd_mmio_") and not f.startswith("svd_pci_"))
        lines += ["", "| public entry point | deepest stack (bytes, static call graph) |", "|---|---|"]
        for f in entry:
            lines.append(f"| `{f}` | {depths[f]} |")
        worst = max(depths[f] for f in entry)
        lines.append("")
        lines.append(f"Deepest stack of any public entry point: {worst} bytes (plus the entropy source's own frame).")
        print(f"WCET stack: deepest public entry point {worst} bytes")
    with open(out, "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
