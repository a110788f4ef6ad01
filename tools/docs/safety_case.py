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
row's tests to the row's derived requirement. It also checks:
  - every test a row names contains an assertion (a test that only runs the code cannot show
    the reaction; whether the assertion is the reaction is the reviewer's part);
  - the assumptions of use (docs/safety/seooc.md, | ID | assumption | how the integrator
    verifies it |): IDs AOU-NNN defined once, each with the integrator's check;
  - the tool-confidence table (docs/safety/tool-confidence.md): TI, TD and TCL of every row,
    and the TCL is the one ISO 26262-8 Table 3 gives for that TI and TD;
  - the IDs the safety-case pages cite (REFERENCE_DOCS): every REQ-, FM-, DFA-, AOU-, TM-,
    SS-, SVD-DEV- and SVD-COV- ID, and both ends of a range such as REQ-VHU-010..019, exist.
check_methods() checks, once trace.py has collected the evidence, that each verification
method a derived requirement declares has evidence of that kind.
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
AOU_HEAD = ["ID", "assumption", "how the integrator verifies it"]
AOU_ID = re.compile(r"^AOU-\d{3}$")
TCL_HEAD = ["tool", "use", "error it could introduce or miss", "detection", "TI", "TD", "TCL"]
# ISO 26262-8 Table 3: the tool confidence level from tool impact and tool error detection.
TCL_TABLE = {("TI1", None): "TCL1", ("TI2", "TD1"): "TCL1", ("TI2", "TD2"): "TCL2",
             ("TI2", "TD3"): "TCL3"}
# The pages of the safety and security case whose cited IDs must exist.
REFERENCE_DOCS = ["docs/safety/*.md", "docs/safety-manual.md", "docs/threat-model.md",
                  "docs/freedom-from-interference.md", "docs/req/saf.md", "SECURITY.md"]
CITED = re.compile(r"\b(REQ-[A-Z]+-\d{3}(?:\.[a-z])?|FM-[A-Z]+-\d{3}|DFA-\d{3}|AOU-\d{3}|"
                   r"TM-[A-Z]+-\d{3}|SS-[A-Z]+|SVD-DEV-\d{3}|SVD-COV-\d{3})(?:\.\.(\d{3}))?\b")
ASSERTION = re.compile(r"\b(assert_\w+|assert|fail_msg|fail|self\.assert\w+|expect_fail\w*|"
                       r"expect_pass|bad)\s*\(|\bassert\s|\bexit\s+1\b|\bbad\s+\"")
# The kind of evidence a test file or tag gives, for the declared verification methods.
METHOD_OF_PATH = [("tests/prove/", "proof"), ("tests/fuzz/", "fuzzing"), ("tests/faults/", "fault injection")]


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
    case["aou"] = load_aou(root, err)
    case["tools"] = load_tools(root, err)
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


def table_rows(root, rel, want, err):
    """(line, "rel:line", cells) of every row of the tables of page @rel whose head is @want;
    a missing page and a row of the wrong width are errors."""
    page = root / rel
    if not page.is_file():
        err.append(f"{rel} missing")
        return
    for head, rows in tables(page.read_text(encoding="utf-8")):
        if head != want:
            continue
        for n, r in rows:
            where = f"{rel}:{n}"
            if len(r) != len(head):
                err.append(f"{where}: {len(r)} cells, expected {len(head)}")
                continue
            yield n, where, r


def load_aou(root, err):
    """{AOU id: line} from the assumptions-of-use table of docs/safety/seooc.md."""
    aou = {}
    for n, where, r in table_rows(root, "docs/safety/seooc.md", AOU_HEAD, err):
        if not AOU_ID.match(r[0]):
            err.append(f"{where}: bad assumption ID {r[0]}")
        elif r[0] in aou:
            err.append(f"{where}: {r[0]} defined twice")
        if not r[2] or set(r[2]) <= set("-? "):
            err.append(f"{where}: {r[0]} says nothing of how the integrator verifies it")
        aou[r[0]] = n
    if not aou:
        err.append("docs/safety/seooc.md: no assumptions-of-use table (| " + " | ".join(AOU_HEAD) + " |)")
    return aou


def load_tools(root, err):
    """[(line, tool)] of the tool-confidence table, its TCL checked against ISO 26262-8 Table 3."""
    out = []
    for n, where, r in table_rows(root, "docs/safety/tool-confidence.md", TCL_HEAD, err):
        row = dict(zip(TCL_HEAD, r))
        first = {k: (row[k].split() or [""])[0].rstrip(":,;") for k in ("TI", "TD", "TCL")}
        td = None if first["TD"] in ("-", "") else first["TD"]
        want = TCL_TABLE.get((first["TI"], td))
        if want is None:
            err.append(f"{where}: {row['tool']}: TI {row['TI']!r} and TD {row['TD']!r} are not a pair "
                       "of ISO 26262-8 Table 3 (TI1 with '-', or TI2 with TD1, TD2 or TD3)")
        elif first["TCL"] != want:
            err.append(f"{where}: {row['tool']}: {first['TI']} with {td or '-'} gives {want} "
                       f"(ISO 26262-8 Table 3), the row says {first['TCL']}")
        if not row["detection"].strip():
            err.append(f"{where}: {row['tool']}: no detection measure")
        out.append((n, row["tool"]))
    if not out:
        err.append("docs/safety/tool-confidence.md: no tool-confidence table (| " + " | ".join(TCL_HEAD) + " |)")
    return out


def defined_ids(root, path, pattern):
    p = root / path
    return set(re.findall(pattern, p.read_text(encoding="utf-8"))) if p.is_file() else set()


def check_references(case, root, req_ids):
    """Every ID a safety-case page cites exists (both ends of a range)."""
    errors = []
    tm = set()
    page = root / "docs" / "threat-model.md"
    if page.is_file():
        tm = set(re.findall(r"^\|\s*(TM-[A-Z]+-\d{3})\s*\|", page.read_text(encoding="utf-8"), re.M))
    known = {"REQ": set(req_ids), "FM": set(case["rows"]), "DFA": set(case["rows"]),
             "AOU": set(case.get("aou", {})), "TM": tm, "SS": set(case["safe_states"]),
             "SVD-DEV": defined_ids(root, "docs/misra-deviations.md", r"SVD-DEV-\d{3}"),
             "SVD-COV": defined_ids(root, "docs/coverage.md", r"SVD-COV-\d{3}")}
    files = sorted({f for g in REFERENCE_DOCS for f in root.glob(g) if f.is_file()})
    for f in files:
        rel = f.relative_to(root)
        for n, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1):
            for m in CITED.finditer(line):
                rid, end = m.group(1), m.group(2)
                kind = "SVD-DEV" if rid.startswith("SVD-DEV") else "SVD-COV" if rid.startswith("SVD-COV") \
                    else rid.split("-")[0]
                ids = [rid]
                if end:
                    ids.append(rid[:-3] + end)
                for i in ids:
                    if i not in known[kind]:
                        errors.append(f"{rel}:{n}: cites {i}, which is not defined")
    return errors


def test_body(lines, func):
    """The lines of func's definition up to its closing brace (C, shell) or dedent (python)."""
    defn = re.compile(r"^\s*(?:static\s+)?(?:void|int|bool|def)?\s*" + re.escape(func) + r"\s*\([^;]*$")
    for i, line in enumerate(lines):
        if defn.match(line):
            body = []
            indent = len(line) - len(line.lstrip())
            for j, b in enumerate(lines[i + 1:], i + 1):
                if b.startswith("}") or (line.lstrip().startswith("def ") and b.strip()
                                         and len(b) - len(b.lstrip()) <= indent and j > i + 1):
                    break
                body.append(b)
            return body
    return []


C_FUNC = re.compile(r"^(?:static\s+)?(?:inline\s+)?[A-Za-z_][\w\s\*]*?\b([A-Za-z_]\w*)\s*\([^;]*$")
_ASSERTING = {}


def asserting_functions(files):
    """The functions of these C files whose body asserts, directly or through another of them."""
    bodies = {}
    for f in files:
        lines = f.read_text(encoding="utf-8", errors="replace").splitlines()
        for i, line in enumerate(lines):
            m = C_FUNC.match(line)
            if m and not line.startswith((" ", "\t", "#", "}")):
                body = []
                for b in lines[i + 1:]:
                    if b.startswith("}"):
                        break
                    body.append(b)
                bodies.setdefault(m.group(1), []).extend(body)
    hits = {n for n, b in bodies.items() if any(ASSERTION.search(x) for x in b)}
    grew = True
    while grew:
        grew = False
        for n, b in bodies.items():
            if n not in hits and any(re.search(r"\b" + re.escape(h) + r"\s*\(", x) for h in hits for x in b):
                hits.add(n)
                grew = True
    return hits


def asserts(root, path, lines, func):
    """Does func assert: an assertion in its body, or a call of a helper (its own file,
    tests/common/) that asserts?"""
    body = test_body(lines, func)
    if any(ASSERTION.search(b) for b in body):
        return True
    if path.suffix not in (".c", ".h"):
        return False
    key = (root, path)
    if key not in _ASSERTING:
        common = sorted((root / "tests" / "common").glob("*.[ch]"))
        _ASSERTING[key] = asserting_functions([path] + common)
    return any(re.search(r"\b" + re.escape(h) + r"\s*\(", b) for h in _ASSERTING[key] for b in body)


def check_methods(case, evidence):
    """Each verification method a derived requirement declares has evidence of that kind.
    evidence: {requirement: [(kind, path, name)]} as trace.py collects it ('test', 'proof',
    'analysis'); a test under tests/fuzz/ is fuzzing, under tests/faults/ or named for fault
    injection it is fault injection. 'review' needs a review record and is not accepted here."""
    errors = []
    for sid, s in case["saf"].items():
        have = set()
        for kind, path, name in evidence.get(sid, []):
            if kind != "test":
                have.add(kind)
                continue
            have.add(next((m for prefix, m in METHOD_OF_PATH if path.startswith(prefix)),
                          "fault injection" if re.search(r"fault_injection|countdown", name) else "test"))
            if path.startswith("tests/fuzz/"):
                have.add("test")
        for m in s["method"]:
            if m not in METHODS:
                continue
            if m == "review":
                errors.append(f"docs/req/saf.md:{s['line']}: {sid}: verification 'review' has no "
                              "record the build can check; name the test or analysis instead")
            elif m not in have:
                errors.append(f"docs/req/saf.md:{s['line']}: {sid} declares verification '{m}' "
                              f"but no {m} evidence names it (it has: {', '.join(sorted(have)) or 'none'})")
    return errors


def defined_functions(path):
    text = path.read_text(encoding="utf-8", errors="replace")
    names = set(re.findall(r"^\s*(?:static\s+)?(?:void|int|bool)\s+([A-Za-z_]\w*)\s*\(", text, re.M))
    names |= set(re.findall(r"^\s*def\s+([A-Za-z_]\w*)\s*\(", text, re.M))
    names |= set(re.findall(r"^\s*([A-Za-z_][\w-]*)\s*\(\)\s*\{?", text, re.M))
    return names, text.splitlines()


def tag_above(lines, func, rid):
    """Does a tag naming rid sit on the (at most 8) lines just above func's definition?"""
    # A definition, not a prototype or a call (those end in ';').
    defn = re.compile(r"^\s*(?:static\s+)?(?:void|int|bool|def)?\s*" + re.escape(func) + r"\s*\([^;]*$")
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
            elif not asserts(root, p, lines, func):
                errors.append(f"{where}: {t} asserts nothing (no assertion in its body, "
                              "nor in a helper of its file or tests/common it calls)")
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
    errors += check_references(case, root, req_ids)
    return errors
