#!/usr/bin/env python3
"""The safety manual's table of work and stack bounds against the code.

Reads the table under "Work and stack bounds per call" in docs/safety-manual.md
and checks each row whose "where" column names a macro against that macro in
include/safevdev/*.h; prints the stack limits (frame, depth) for the stack
stage to use, so the figures the build enforces are the documented ones.

Usage: check_bounds.py   -> prints "FRAME DEPTH" or fails naming the row
"""
import glob
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def macros():
    vals = {}
    for h in glob.glob(os.path.join(ROOT, "include", "safevdev", "*.h")):
        text = open(h).read()
        for m in re.finditer(r"#define\s+(SVD_[A-Z0-9_]+)\s+(.+)", text):
            vals[m.group(1)] = m.group(2).split("/*")[0].strip()
    return vals


def evaluate(expr, vals, depth=0):
    if depth > 8:
        raise SystemExit(f"check_bounds: cannot evaluate {expr}")
    e = re.sub(r"UINT64_C\(([^)]*)\)", r"(\1)", expr)
    e = re.sub(r"\b(\d+)u\b", r"\1", e)
    for name in re.findall(r"\bSVD_[A-Z0-9_]+\b", e):
        e = e.replace(name, "(" + str(evaluate(vals[name], vals, depth + 1)) + ")")
    if not re.fullmatch(r"[\d\s()+*<>-]+", e):
        raise SystemExit(f"check_bounds: unexpected expression {expr}")
    return int(eval(e))  # digits and operators only (checked above)


def main():
    manual = open(os.path.join(ROOT, "docs", "safety-manual.md")).read()
    sect = manual.split("## Work and stack bounds per call", 1)
    if len(sect) != 2:
        raise SystemExit("check_bounds: the safety manual has no bounds table")
    rows = [r for r in sect[1].split("\n## ", 1)[0].splitlines() if r.startswith("| ") and "---" not in r][1:]
    vals = macros()
    frame = depth = None
    for r in rows:
        cells = [c.strip() for c in r.strip("|").split("|")]
        what, value, where = cells[0], int(cells[1]), cells[2]
        m = re.search(r"`(SVD_[A-Z0-9_]+)`", where)
        if m:
            actual = evaluate(vals[m.group(1)], vals)
            if actual != value:
                raise SystemExit(f"check_bounds: safety manual says {what} = {value}, {m.group(1)} is {actual}")
        if "-Wstack-usage=" in where:
            frame = value
            if f"-Wstack-usage={value}" not in where:
                raise SystemExit(f"check_bounds: row '{what}' and its flag disagree")
        if "deepest stack" in what:
            depth = value
    if frame is None or depth is None:
        raise SystemExit("check_bounds: the table lacks the stack rows")
    print(frame, depth)


if __name__ == "__main__":
    main()
