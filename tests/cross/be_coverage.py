#!/usr/bin/env python3
"""Coverage of src/core on the big-endian run, and its byte-order-only lines.

usage: be_coverage.py INFO ROOT CORE_LINES CORE_BRANCHES

INFO is the lcov data of the core built for a big-endian CPU (gcc --coverage,
run under qemu-user, read back with that target's gcov). A line inside a
preprocessor block taken only on a big-endian CPU (an #if/#elif on
__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__, or the #else of one on
__ORDER_LITTLE_ENDIAN__) exists only in such a build, so the host's coverage
gate never sees it. This script lists every such line of src/core with its
execution count and fails if one is missing from the data (the build was not
big-endian) or was never executed; then it applies the core's line and branch
thresholds to the whole of src/core as compiled for this CPU."""
import os
import re
import sys

BE_IF = re.compile(r"^\s*#\s*(if|elif)\b.*__BYTE_ORDER__\s*==\s*__ORDER_BIG_ENDIAN__")
LE_IF = re.compile(r"^\s*#\s*(if|elif)\b.*__BYTE_ORDER__\s*==\s*__ORDER_LITTLE_ENDIAN__")
IF = re.compile(r"^\s*#\s*if")
ELSE = re.compile(r"^\s*#\s*(else|elif)\b")
ENDIF = re.compile(r"^\s*#\s*endif\b")


def be_only_lines(path):
    """Line numbers (1-based) compiled only when the target is big-endian."""
    out = []
    stack = []  # per open #if: is the current branch big-endian only?
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if IF.match(line):
                kind = "be" if BE_IF.match(line) else "le" if LE_IF.match(line) else "other"
                stack.append([kind, kind == "be"])
            elif ELSE.match(line) and stack:
                if re.match(r"^\s*#\s*elif\b", line):
                    kind = "be" if BE_IF.match(line) else "le" if LE_IF.match(line) else "other"
                    stack[-1] = [kind, kind == "be"]
                else:
                    # The #else of a little-endian test is big-endian code.
                    stack[-1][1] = stack[-1][0] == "le"
            elif ENDIF.match(line) and stack:
                stack.pop()
            elif any(be for _, be in stack) and line.strip():
                out.append(n)
    return out


def parse(info, root):
    files = {}
    cur = None
    for line in open(info, encoding="utf-8"):
        line = line.strip()
        if line.startswith("SF:"):
            cur = files.setdefault(os.path.relpath(line[3:], root), {"lines": {}, "br": {}})
        elif line.startswith("DA:") and cur is not None:
            ln, hits = line[3:].split(",")[:2]
            cur["lines"][int(ln)] = cur["lines"].get(int(ln), 0) + int(hits)
        elif line.startswith("BRDA:") and cur is not None:
            ln, blk, br, taken = line[5:].split(",")
            key = (int(ln), blk, br)
            cur["br"][key] = cur["br"].get(key, 0) + (0 if taken == "-" else int(taken))
        elif line == "end_of_record":
            cur = None
    return files


# REQ: REQ-PORT-004
def main():
    if len(sys.argv) != 5:
        raise SystemExit(__doc__)
    info, root = sys.argv[1], sys.argv[2]
    want_lines, want_br = float(sys.argv[3]), float(sys.argv[4])
    files = parse(info, root)
    core_dir = os.path.join(root, "src", "core")
    bad = []
    n_be = 0
    for name in sorted(os.listdir(core_dir)):
        if not name.endswith(".c"):
            continue
        rel = os.path.join("src", "core", name)
        lines = be_only_lines(os.path.join(core_dir, name))
        data = files.get(rel, {"lines": {}})["lines"]
        for ln in lines:
            src = open(os.path.join(root, rel), encoding="utf-8").read().splitlines()[ln - 1].strip()
            if ln not in data:
                # Braces and the like carry no code; a statement must be there.
                if src not in ("{", "}", ""):
                    bad.append(f"{rel}:{ln}: not in the coverage data (was the build big-endian?): {src}")
                continue
            n_be += 1
            print(f"be-coverage: {rel}:{ln}: executed {data[ln]} times: {src}")
            if data[ln] == 0:
                bad.append(f"{rel}:{ln}: big-endian line never executed: {src}")
    if n_be == 0:
        bad.append("no big-endian-only line found in src/core's coverage data")
    core = [v for k, v in files.items() if k.startswith("src/core/")]
    lt = sum(len(f["lines"]) for f in core)
    lh = sum(1 for f in core for h in f["lines"].values() if h > 0)
    bt = sum(len(f["br"]) for f in core)
    bh = sum(1 for f in core for h in f["br"].values() if h > 0)
    pl = 100.0 * lh / lt if lt else 0.0
    pb = 100.0 * bh / bt if bt else 0.0
    print(f"be-coverage: src/core as compiled big-endian: lines {lh}/{lt} ({pl:.1f}%), "
          f"branches {bh}/{bt} ({pb:.1f}%); {n_be} big-endian-only lines, all executed"
          if not bad else
          f"be-coverage: src/core as compiled big-endian: lines {lh}/{lt} ({pl:.1f}%), "
          f"branches {bh}/{bt} ({pb:.1f}%)")
    if pl < want_lines or pb < want_br:
        for rel, f in sorted((k, v) for k, v in files.items() if k.startswith("src/core/")):
            miss = sorted(ln for ln, h in f["lines"].items() if h == 0)
            mb = sorted({ln for (ln, _, _), h in f["br"].items() if h == 0})
            if miss or mb:
                print(f"be-coverage: {rel}: missed lines {miss} branches on lines {mb}")
        bad.append(f"src/core below {want_lines:g}% lines / {want_br:g}% branches on the big-endian run")
    for b in bad:
        print(f"be-coverage: FAIL: {b}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
