#!/usr/bin/env python3
"""Per-area coverage figures from an lcov .info file, and the coverage gate.

usage: covgate.py --report|--gate|--gate-quiet INFO ROOT CORE_LINES CORE_BRANCHES SHIM_LINES
                   [SHIM_BRANCHES [SHIM_BRANCH_AREAS]]

Areas: src/core (every file together; thresholds on lines AND branches) and each
shim directory src/shim/<name> (threshold on lines, and on branches when
SHIM_BRANCHES is given and not 0). SHIM_BRANCH_AREAS, a comma-separated list of
shim names (vhost_user,qemu_remote), limits the branch threshold to those
shims; the others are reported against it but do not fail ("all", the
default, applies it to every shim). A branch no test can reach in a shim is
excluded with lcov's LCOV_EXCL_BR_LINE (or LCOV_EXCL_BR_START/STOP) marker,
which must carry a deviation ID SVD-COV-NNN listed in docs/coverage.md; the
deviations are counted per area and an undocumented marker fails the gate. --report prints the figures
and, per file below 100%, the missed lines and branches; --gate does the same and
exits 1 if an area is below its threshold. A file of src/ that no test executed
at all is absent from lcov's data: it is counted as 0% (its lines from the
source), so an untested module cannot hide."""
import os
import re
import sys


def parse(info, root):
    files = {}
    cur = None
    for line in open(info, encoding="utf-8"):
        line = line.strip()
        if line.startswith("SF:"):
            path = os.path.relpath(line[3:], root)
            cur = files.setdefault(path, {"lines": {}, "br": {}})
        elif line.startswith("DA:") and cur is not None:
            ln, hits = line[3:].split(",")[:2]
            cur["lines"][int(ln)] = cur["lines"].get(int(ln), 0) + int(hits)
        elif line.startswith("BRDA:") and cur is not None:
            ln, blk, br, taken = line[5:].split(",")
            key = (int(ln), blk, br)
            t = 0 if taken == "-" else int(taken)
            cur["br"][key] = cur["br"].get(key, 0) + t
        elif line == "end_of_record":
            cur = None
    return files


def area_of(path):
    parts = path.split("/")
    if parts[:2] == ["src", "core"]:
        return "src/core"
    if parts[:2] == ["src", "shim"] and len(parts) > 3:
        return "src/shim/" + parts[2]
    return None


def unexecuted_sources(root, seen):
    """src/*.c files with no coverage data at all (never linked into a test)."""
    out = []
    for d, _, names in os.walk(os.path.join(root, "src")):
        for n in names:
            if n.endswith(".c"):
                rel = os.path.relpath(os.path.join(d, n), root)
                if rel not in seen and "/compat/" not in rel:
                    out.append(rel)
    return sorted(out)


def ranges(nums):
    """[1,2,3,7] -> '1-3, 7'"""
    out, start, prev = [], None, None
    for n in nums:
        if start is None:
            start = prev = n
        elif n == prev + 1:
            prev = n
        else:
            out.append(f"{start}-{prev}" if prev != start else f"{start}")
            start = prev = n
    if start is not None:
        out.append(f"{start}-{prev}" if prev != start else f"{start}")
    return ", ".join(out)


MARKER = re.compile(r"LCOV_EXCL_BR_(?:LINE|START)")
COV_ID = re.compile(r"SVD-COV-\d{3}")


def deviations(root):
    """(area -> number of markers, list of problems) for src/shim."""
    per_area, problems = {}, []
    documented = set()
    doc = os.path.join(root, "docs", "coverage.md")
    if os.path.exists(doc):
        documented = set(COV_ID.findall(open(doc, encoding="utf-8").read()))
    for d, _, names in os.walk(os.path.join(root, "src", "shim")):
        for n in sorted(names):
            if not n.endswith(".c"):
                continue
            rel = os.path.relpath(os.path.join(d, n), root)
            for ln, line in enumerate(open(os.path.join(root, rel), encoding="utf-8"), 1):
                if not MARKER.search(line):
                    continue
                a = area_of(rel)
                per_area[a] = per_area.get(a, 0) + 1
                ids = COV_ID.findall(line)
                if not ids:
                    problems.append(f"{rel}:{ln}: branch exclusion without an SVD-COV-NNN deviation ID")
                for i in ids:
                    if i not in documented:
                        problems.append(f"{rel}:{ln}: {i} is not listed in docs/coverage.md")
    return per_area, problems


def pct(h, t):
    return 100.0 if t == 0 else 100.0 * h / t


def main(argv):
    mode, info, root = argv[1], argv[2], argv[3]
    quiet = mode == "--gate-quiet"  # the figures were just printed by --report
    if quiet:
        mode = "--gate"
    out = (lambda *a, **k: None) if quiet else print
    core_l, core_b, shim_l = float(argv[4]), float(argv[5]), float(argv[6])
    shim_b = float(argv[7]) if len(argv) > 7 else 0.0
    branch_areas = argv[8] if len(argv) > 8 else "all"
    gated = None if branch_areas == "all" else {"src/shim/" + a for a in branch_areas.split(",") if a}
    devs, dev_problems = deviations(root)
    files = parse(info, root)
    areas = {}
    for path, d in sorted(files.items()):
        a = area_of(path)
        if a is None:
            continue
        s = areas.setdefault(a, {"lh": 0, "lf": 0, "bh": 0, "bf": 0, "files": []})
        lh = sum(1 for v in d["lines"].values() if v > 0)
        bh = sum(1 for v in d["br"].values() if v > 0)
        s["lh"] += lh
        s["lf"] += len(d["lines"])
        s["bh"] += bh
        s["bf"] += len(d["br"])
        s["files"].append((path, lh, len(d["lines"]), bh, len(d["br"]),
                           sorted(k for k, v in d["lines"].items() if v == 0),
                           sorted({k[0] for k, v in d["br"].items() if v == 0})))
    for path in unexecuted_sources(root, files):
        a = area_of(path)
        if a is None:
            continue
        s = areas.setdefault(a, {"lh": 0, "lf": 0, "bh": 0, "bf": 0, "files": []})
        # Count non-blank, non-comment-only lines as a stand-in for executable lines.
        n = sum(1 for l in open(os.path.join(root, path), encoding="utf-8")
                if l.strip() and not re.match(r"\s*(/\*|\*|//|#)", l))
        s["lf"] += n
        s["files"].append((path, 0, n, 0, 0, ["(no test ran this file)"], []))
    fail = []
    out("coverage by area:")
    for a in sorted(areas):
        s = areas[a]
        lp, bp = pct(s["lh"], s["lf"]), pct(s["bh"], s["bf"])
        if a == "src/core":
            need = f"lines>={core_l:g}% branches>={core_b:g}%"
            ok = lp >= core_l and bp >= core_b
        elif shim_b > 0 and (gated is None or a in gated):
            need = f"lines>={shim_l:g}% branches>={shim_b:g}%"
            ok = lp >= shim_l and bp >= shim_b
        elif shim_b > 0:
            # Reported against the branch target, gated on lines only.
            need = f"lines>={shim_l:g}%, branch target {shim_b:g}% {'met' if bp >= shim_b else 'not met'} (not gated)"
            ok = lp >= shim_l
        else:
            need = f"lines>={shim_l:g}%"
            ok = lp >= shim_l
        dv = f", {devs[a]} branch deviations" if devs.get(a) else ""
        out(f"  {a:22s} lines {s['lh']}/{s['lf']} = {lp:6.2f}%  branches {s['bh']}/{s['bf']} = {bp:6.2f}%"
              f"  [{need}: {'ok' if ok else 'BELOW'}]{dv}")
        if not ok:
            fail.append(a)
        for path, lh, lf, bh, bf, ml, mb in s["files"]:
            if lh < lf or bh < bf:
                out(f"    {path}: lines {lh}/{lf}, branches {bh}/{bf}")
                if ml:
                    out(f"      missed lines: {ranges(ml) if ml and isinstance(ml[0], int) else ml[0]}")
                if mb:
                    out(f"      lines with missed branches: {ranges(mb)}")
    for p in dev_problems:
        print(f"  {p}")
    if dev_problems:
        fail.append("deviation register")
    if "src/core" not in areas:
        print("  src/core: no data (no core source compiled with coverage)")
        fail.append("src/core")
    if mode == "--gate":
        if fail:
            print(f"coverage-gate: FAILED for {', '.join(fail)}")
            return 1
        print("coverage-gate: all areas at or above their thresholds")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
