#!/usr/bin/env python3
"""The failure-mode analysis and the dependent-failure analysis as data, and their checks.

docs/safety/fmea.md holds three Markdown tables that the build reads (and Doxygen renders):
  - the safe states:   | SS | safe state | entered by | left by |
  - the failure modes: | ID | element | failure mode | effect | detection | reaction |
                         safe state | derived requirement | test |
  - the dependent failures (DFA): | ID | shared part | coupling factor | dependent failure |
                         measure | derived requirement | test |
A row's test is `path:function` (several separated by `;`): the function must exist in that
file under tests/, and carry the row's ID in an `FM:` (or `DFA:`) tag on the lines just above
it, the way tests carry `REQ:` tags; a test that asserts the row's reaction is what the tag
claims. Derived safety requirements are the REQ-SAF-* lines of docs/req/saf.md, each ending in
`(derived from: IDs; allocated to: core|qvm|vhost-user|qemu-remote|integrator; verification:
METHOD)`.

check() returns the list of errors; tools/docs/trace.py runs it (make trace) and credits each
row's tests to the row's derived requirement.
"""
import pathlib
import re

FM_ID = re.compile(r"^FM-[A-Z]+-\d{3}$")
DFA_ID = re.compile(r"^DFA-\d{3}$")
SS_ID = re.compile(r"^SS-[A-Z]+$")
SAF_DEF = re.compile(r"^-\s+\*\*(REQ-SAF-\d{3})\*\*:\s*(.+)$")
SAF_FIELDS = re.compile(r"\(derived from: ([^;]+); allocated to: ([a-z-]+(?:, [a-z-]+)*); "
                        r"verification: ([a-z, +-]+)\)\s*$")
ALLOCATIONS = {"core", "qvm", "vhost-user", "qemu-remote", "integrator"}
METHODS = {"test", "fault injection", "fuzzing", "proof", "analysis", "review"}
FM_HEAD = ["ID", "element", "failure mode", "effect", "detection", "reaction", "safe state",
           "derived requirement", "test"]
DFA_HEAD = ["ID", "shared part", "coupling factor", "dependent failure", "measure",
            "derived requirement", "test"]
SS_HEAD = ["SS", "safe state", "entered by", "left by"]


def cells(line):
    return [c.strip() for c in line.strip().strip("|").split("|")]


def tables(text):
    """[(header, [(line number, cells)])] of every Markdown table in text."""
    out, cur = [], None
    for n, line in enumerate(text.splitlines(), 1):
        if line.startswith("|"):
            row = cells(line)
            if cur is None:
                cur = (row, [])
                out.append(cur)
            elif not all(set(c) <= set("-: ") for c in row):
                cur[1].append((n, row))
        else:
            cur = None
    return out


def load(root):
    """{'rows': {id: row}, 'safe_states': {...}, 'saf': {...}, 'errors': [...]}"""
    case = {"rows": {}, "safe_states": {}, "saf": {}, "errors": []}
    err = case["errors"]
    fmea = root / "docs" / "safety" / "fmea.md"
    if not fmea.is_file():
        err.append("docs/safety/fmea.md missing")
        return case
    for head, rows in tables(fmea.read_text(encoding="utf-8")):
        if head == SS_HEAD:
            for n, r in rows:
                ss = r[0].strip("`")
                if not SS_ID.match(ss):
                    err.append(f"docs/safety/fmea.md:{n}: bad safe-state ID {r[0]}")
                case["safe_states"][ss] = r[1]
        elif head in (FM_HEAD, DFA_HEAD):
            for n, r in rows:
                if len(r) != len(head):
                    err.append(f"docs/safety/fmea.md:{n}: {len(r)} cells, expected {len(head)}")
                    continue
                row = dict(zip(head, r))
                rid = row["ID"]
                pat = FM_ID if head == FM_HEAD else DFA_ID
                if not pat.match(rid):
                    err.append(f"docs/safety/fmea.md:{n}: bad row ID {rid}")
                if rid in case["rows"]:
                    err.append(f"docs/safety/fmea.md:{n}: {rid} defined twice")
                tests = [t.strip().strip("`") for t in row["test"].split(";") if t.strip()]
                case["rows"][rid] = {"line": n, "kind": "FM" if head == FM_HEAD else "DFA",
                                     "req": row["derived requirement"].strip("`"),
                                     "ss": [s.strip("` ") for s in row.get("safe state", "").split(",")]
                                     if head == FM_HEAD else [], "tests": tests}
    saf = root / "docs" / "req" / "saf.md"
    if saf.is_file():
        for n, line in enumerate(saf.read_text(encoding="utf-8").splitlines(), 1):
            m = SAF_DEF.match(line)
            if not m:
                continue
            f = SAF_FIELDS.search(m.group(2))
            if not f:
                err.append(f"docs/req/saf.md:{n}: {m.group(1)} lacks '(derived from: ...; "
                           "allocated to: ...; verification: ...)'")
                continue
            src = re.findall(r"FM-[A-Z]+-\d{3}|DFA-\d{3}|AOU-\d{3}|TM-[A-Z]+-\d{3}", f.group(1))
            case["saf"][m.group(1)] = {"line": n, "from": src,
                                       "alloc": [a.strip() for a in f.group(2).split(",")],
                                       "method": [x.strip() for x in re.split(r"[,+]", f.group(3))]}
    return case


def defined_functions(path):
    text = path.read_text(encoding="utf-8", errors="replace")
    names = set(re.findall(r"^\s*(?:static\s+)?(?:void|int|bool)\s+([A-Za-z_]\w*)\s*\(", text, re.M))
    names |= set(re.findall(r"^\s*def\s+([A-Za-z_]\w*)\s*\(", text, re.M))
    names |= set(re.findall(r"^\s*([A-Za-z_][\w-]*)\s*\(\)\s*\{?", text, re.M))
    return names, text.splitlines()


def tag_above(lines, func, rid):
    """Does a tag naming rid sit on the (at most 8) lines just above func's definition?"""
    defn = re.compile(r"^\s*(?:static\s+)?(?:void|int|bool|def)?\s*" + re.escape(func) + r"\s*\(")
    for i, line in enumerate(lines):
        if defn.match(line):
            above = lines[max(0, i - 8):i]
            return any(re.search(r"\b(FM|DFA):[^\n]*\b" + re.escape(rid) + r"\b", a) for a in above)
    return False


def check(case, root, req_ids):
    errors = list(case["errors"])
    for rid, row in case["rows"].items():
        where = f"docs/safety/fmea.md:{row['line']}: {rid}"
        if row["req"] not in req_ids or not row["req"].startswith("REQ-SAF-"):
            errors.append(f"{where}: derived requirement {row['req']} is not a REQ-SAF requirement of docs/req/saf.md")
        elif rid not in case["saf"].get(row["req"], {}).get("from", []):
            errors.append(f"{where}: {row['req']} does not name {rid} in its 'derived from'")
        for ss in row["ss"]:
            if ss not in case["safe_states"]:
                errors.append(f"{where}: unknown safe state {ss}")
        if not row["tests"]:
            errors.append(f"{where}: names no test")
        for t in row["tests"]:
            path, _, func = t.partition(":")
            p = root / path
            if not path.startswith("tests/") or not p.is_file() or not func:
                errors.append(f"{where}: test {t} is not path:function of a file under tests/")
                continue
            names, lines = defined_functions(p)
            if func not in names:
                errors.append(f"{where}: {path} defines no test {func}")
            elif not tag_above(lines, func, rid):
                errors.append(f"{where}: {t} does not carry the tag '{row['kind']}: {rid}'")
    for sid, s in case["saf"].items():
        where = f"docs/req/saf.md:{s['line']}: {sid}"
        for a in s["alloc"]:
            if a not in ALLOCATIONS:
                errors.append(f"{where}: allocation {a} not one of {sorted(ALLOCATIONS)}")
        for m in s["method"]:
            if m not in METHODS:
                errors.append(f"{where}: verification method {m} not one of {sorted(METHODS)}")
        rows = [r for r in s["from"] if r in case["rows"]]
        if not s["from"]:
            errors.append(f"{where}: derived from nothing")
        for r in s["from"]:
            if (r.startswith("FM-") or r.startswith("DFA-")) and r not in case["rows"]:
                errors.append(f"{where}: derived from unknown row {r}")
        if not rows and not any(r.startswith(("AOU-", "TM-")) for r in s["from"]):
            errors.append(f"{where}: no failure-mode or DFA row derives it")
    return errors
