#!/usr/bin/env python3
"""Worst-case work per call of the core's entry points (tests/bench/wcet_core.c).

Runs wcet_core under callgrind so that every measured call is one profile dump
(--toggle-collect=wcet_call --dump-after=wcet_call), pairs the dumps with the
case names the program printed, and writes a Markdown table of the maximum
instructions per call of each case (the stack side is tools/build/stack_depth.py).

Usage: wcet.py WCET_BIN OUT.md
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


def main():
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    binary, out = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as work:
        order, per = callgrind(binary, work)
    seen = []
    for n in order:
        if n not in seen:
            seen.append(n)
    lines = ["# Worst-case work per call {#wcet}", "",
             "Written by `make bench-wcet` (tests/bench/wcet_core.c under callgrind, one profile dump per measured "
             "call; instructions, not seconds, so the figures repeat exactly). Each case drives one public entry "
             "point with the worst input its documented limits allow; the work budget's bounds are in the "
             "@ref budgets table of the safety manual.", "",
             "| case | calls measured | max instructions per call |", "|---|---|---|"]
    for n in seen:
        calls, worst = per[n]
        lines.append(f"| `{n}` | {calls} | {worst:,} |")
        print(f"WCET {n}: {calls} calls, max {worst} instructions")
    with open(out, "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
