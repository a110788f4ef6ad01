#!/usr/bin/env python3
"""Requirements traceability, per clause: docs/req/*.md -> the tests that verify them.

Requirements are lines `- **REQ-AREA-NNN**: text` in docs/req/*.md. A requirement that says
several things is split into clauses, each on an indented line under it:
`  - **REQ-AREA-NNN.a**: clause`. A clause is verified on its own; a split requirement is
covered only when every clause is, and a test that names the bare ID of a split requirement
is an error (it would hide which clause it checks).

Only tests count as verification: a comment `REQ: REQ-A-1 REQ-B-2.a` (C: /* REQ: ... */,
shell/python: # REQ: ...) on the line(s) just above a test in tests/. The test's name is
taken from the next function definition (C `static void test_x(` / `int main`, shell `name()`,
python `def name(`, a `case`-style label `name)`); failing that, file:line. Two other kinds
of evidence are listed as such and never stand in for a test:
  - proof:    tests/prove/ (Frama-C Eva and WP, `make prove`);
  - analysis: `REQ-ANALYSIS: IDs` above a make target in mk/ that runs an analysis over the
              product (stack depth, object purity); not accepted for GATE requirements, whose
              verification is the gate's self-test (tests/gate/).
A GATE requirement is verified only by a test in tests/gate/ or a NAME-selftest target: a tag
on the gate's own code elsewhere in tests/ (a fuzz target, the fault runner) is an error.
A make target in mk/ whose name ends in `-selftest` (a seeded defect the gate must catch) is a
test. A `REQ:` tag anywhere else in mk/ or tools/ is an error: the implementation of a gate is
not its verification.

Derived safety requirements (REQ-SAF-*, docs/req/saf.md) are also verified by the tests of the
failure-mode and dependent-failure rows that derive them (tools/docs/safety_case.py,
docs/safety/fmea.md): each such test carries the row's ID in an `FM:` or `DFA:` tag.

Writes the matrix and the requirements page (Doxygen Markdown) and prints a summary. Exit
status 1 if a requirement or clause is not verified, if a tag names an unknown ID, if an ID
is defined twice, if the failure-mode analysis, the assumptions of use, the tool-confidence
table or the IDs the safety-case pages cite do not check (safety_case.check), or if a derived
requirement declares a verification method no evidence of that kind supports
(safety_case.check_methods).
"""
import pathlib
import re
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import safety_case  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[2]
ID = r"REQ-[A-Z]+-\d{3}(?:\.[a-z])?"
REQ_DEF = re.compile(r"^-\s+\*\*(REQ-[A-Z]+-\d{3})\*\*:\s*(.+)$")
CLAUSE_DEF = re.compile(r"^\s+-\s+\*\*(REQ-[A-Z]+-\d{3})\.([a-z])\*\*:\s*(.+)$")
TAG = re.compile(r"\b(REQ|REQ-ANALYSIS|FM|DFA):\s*((?:(?:REQ-[A-Z]+-\d{3}(?:\.[a-z])?|FM-[A-Z]+-\d{3}|DFA-\d{3})[\s,]*)+)")
TAG_ID = re.compile(r"REQ-[A-Z]+-\d{3}(?:\.[a-z])?|FM-[A-Z]+-\d{3}|DFA-\d{3}")
NAME_PATTERNS = [
    re.compile(r"^\s*(?:static\s+)?(?:void|int|bool)\s+([A-Za-z_]\w*)\s*\("),
    re.compile(r"^\s*def\s+([A-Za-z_]\w*)\s*\("),
    re.compile(r"^\s*([A-Za-z_][\w-]*)\s*\(\)\s*\{?"),
    re.compile(r"^\s*([A-Za-z_][\w-]*)\)\s"),
    re.compile(r"^\s*run_case\s+([\w-]+)"),
    re.compile(r"^\s*case\s+([\w-]+)"),
    re.compile(r"^([A-Za-z_][\w.-]*)\s*:(?!=)"),
]
SCAN_DIRS = ["tests", "mk", "tools"]
SUFFIXES = {".c", ".h", ".sh", ".py", ".bash", ".mk"}


def load_requirements(root=ROOT):
    """{id: (text, area)} for requirements and clauses, {parent: [clause ids]}, errors."""
    reqs, clauses, errors = {}, {}, []
    for md in sorted((root / "docs" / "req").glob("*.md")):
        parent = None
        for n, line in enumerate(md.read_text(encoding="utf-8").splitlines(), 1):
            m = REQ_DEF.match(line)
            c = CLAUSE_DEF.match(line)
            if m:
                rid, text = m.groups()
                parent = rid
            elif c:
                base, letter, text = c.groups()
                if base != parent:
                    errors.append(f"{md.relative_to(root)}:{n}: clause {base}.{letter} is not under {base}")
                    continue
                rid = f"{base}.{letter}"
                clauses.setdefault(base, []).append(rid)
            else:
                if line.strip() and not line.startswith((" ", "\t")):
                    parent = None
                continue
            if rid in reqs:
                errors.append(f"{md.relative_to(root)}:{n}: {rid} defined twice")
            reqs[rid] = (text.strip(), md.stem)
    return reqs, clauses, errors


def md_escape(text):
    """Keep requirement text literal in Doxygen Markdown (no HTML tags, no commands)."""
    return text.replace("\\", "\\\\").replace("<", "&lt;").replace(">", "&gt;").replace("@", "\\@")


def test_name(lines, start):
    for line in lines[start:start + 8]:
        for pat in NAME_PATTERNS:
            m = pat.match(line)
            if m:
                return m.group(1)
    return None


def scan_tags(root=ROOT):
    """Every tag: (kind, ids, path, name, line)."""
    uses = []
    for d in SCAN_DIRS:
        for f in sorted((root / d).rglob("*")):
            if f.suffix not in SUFFIXES or not f.is_file():
                continue
            rel = str(f.relative_to(root))
            if rel == "tools/docs/trace.py" or rel.startswith("tests/gate/fixtures/"):
                continue
            lines = f.read_text(encoding="utf-8", errors="replace").splitlines()
            for i, line in enumerate(lines):
                for m in TAG.finditer(line):
                    ids = TAG_ID.findall(m.group(2))
                    name = test_name(lines, i + 1) or f.name  # a script that is one test
                    uses.append((m.group(1), ids, rel, name, i + 1))
    return uses


def kind_of(tag, path, name):
    """'test', 'proof', 'analysis', or None (not verification) for a tag at path/name."""
    if path.startswith("tests/prove/") or (path == "mk/prove.mk" and name.endswith("-selftest")):
        return "proof"
    if path.startswith("tests/"):
        return "test" if tag in ("REQ", "FM", "DFA") else None
    if path.startswith("mk/"):
        if tag == "REQ-ANALYSIS":
            return "analysis"
        if tag == "REQ" and name.endswith("-selftest"):
            return "test"
    return None


def trace(root=ROOT):
    """The matrix: reqs, clauses, {rid: [(kind, path, name)]}, errors, notes."""
    reqs, clauses, errors = load_requirements(root)
    case = safety_case.load(root)
    errors += safety_case.check(case, root, set(reqs))
    uses = scan_tags(root)
    evidence = {rid: [] for rid in reqs}
    for tag, ids, path, name, line in uses:
        kind = kind_of(tag, path, name)
        where = f"{path}:{line}: {name}"
        if kind is None:
            errors.append(f"{where}: a {tag}: tag outside a test does not count as verification "
                          "(tests/, a NAME-selftest target, or REQ-ANALYSIS: in mk/)")
            continue
        for rid in ids:
            if tag in ("FM", "DFA"):
                row = case["rows"].get(rid)
                if row is None:
                    errors.append(f"{where} names unknown {tag} row {rid}")
                    continue
                if f"{path}:{name}" not in row["tests"]:
                    # The row no longer names this test: its tag proves nothing (safety_case
                    # reports the row's own tests that lack the tag).
                    continue
                targets = [row["req"]] if row["req"] in reqs else []
            elif not rid.startswith("REQ-"):
                errors.append(f"{where}: {rid} in a {tag}: tag")
                continue
            elif rid not in reqs:
                errors.append(f"{where} names unknown requirement {rid}")
                continue
            elif rid in clauses:
                errors.append(f"{where} names {rid}, which is split into clauses "
                              f"({', '.join(clauses[rid])}): name the clause it verifies")
                continue
            else:
                targets = [rid]
            if kind == "analysis" and rid.startswith("REQ-GATE-"):
                errors.append(f"{where}: {rid} is a gate requirement: its verification is a self-test")
                continue
            if (kind == "test" and rid.startswith("REQ-GATE-") and not path.startswith("tests/gate/")
                    and not path.startswith("mk/")):
                # A fuzz target or fault runner is the gate itself: what verifies the
                # gate is a self-test that seeds a defect and shows it bite.
                errors.append(f"{where}: {rid} is a gate requirement: its verification is a self-test "
                              "(tests/gate/ or a NAME-selftest target), not the gate's own code")
                continue
            for t in targets:
                evidence[t].append((kind, path, name))
    # A split requirement is verified through its clauses.
    for parent, cl in clauses.items():
        evidence[parent] = [e for c in cl for e in evidence[c]]
    errors += safety_case.check_methods(case, evidence)
    unverified = [rid for rid in reqs
                  if rid not in clauses and not evidence[rid]]
    unverified += [p for p, cl in clauses.items() if any(c in unverified for c in cl)]
    notes = [f"{len(clauses)} requirements split into {sum(len(c) for c in clauses.values())} clauses"]
    compound = [rid for rid, (text, _) in reqs.items()
                if "." not in rid and rid not in clauses and len(re.findall(r"\bSHALL\b", text)) > 2]
    notes.append(f"{len(compound)} requirements with more than two SHALLs not split into clauses")
    return reqs, clauses, evidence, sorted(set(unverified)), errors, notes, case


def render(reqs, clauses, evidence, unverified, notes):
    ntests = len({(p, n) for ev in evidence.values() for k, p, n in ev if k == "test"})
    top = [r for r in reqs if "." not in r]
    md = ["# Traceability matrix {#traceability}", "",
          "Generated by `tools/docs/trace.py` at build time from `docs/req/*.md` and the "
          "`REQ:`, `FM:` and `DFA:` tags of the tests in `tests/`. Do not edit. Only tests "
          "verify; entries marked **proof** are machine-checked proofs (Frama-C Eva or WP, see "
          "@ref proof) and **analysis** an analysis stage over the product, listed beside the "
          "tests, never instead of them. A requirement split into clauses (ID.a, ID.b, ...) is "
          "covered when each clause is. Derived safety requirements (SAF) are verified by the "
          "tests of their failure-mode rows (@ref fmea).", "",
          f"**{len(top)} requirements ({len(reqs) - len(top)} clauses), {ntests} tests, "
          f"{len([r for r in top if r not in unverified])} verified, "
          f"{len([r for r in top if r in unverified])} not verified.** " + "; ".join(notes) + ".", "",
          "| Requirement | Area | Text | Verified by |", "|---|---|---|---|"]
    for rid in sorted(reqs, key=lambda r: (r.split('-')[1], r)):
        text, area = reqs[rid]
        if rid in clauses:
            cells = f"clauses {', '.join(clauses[rid])}"
        else:
            label = {"proof": "**proof** ", "analysis": "**analysis** ", "test": ""}
            cells = "<br>".join(sorted({f"{label[k]}`{n}` ({p})" for k, p, n in evidence[rid]})) or "**none**"
        text = md_escape(text).replace("|", "\\|")
        md.append(f"| {rid} | {area} | {text} | {cells} |")
    md += ["", "## Requirements and clauses no test verifies", ""]
    md += [f"- {rid}" for rid in unverified] or ["None."]
    rq = ["# Requirements {#requirements}", "",
          "Generated from `docs/req/*.md`. Each ID is stable; tests name the IDs (or the clause "
          "IDs) they verify (see @ref traceability).", ""]
    for area in sorted({a for _, a in reqs.values()}):
        rq += [f"## Area {area.upper()}", ""]
        for rid in sorted(r for r in reqs if reqs[r][1] == area and "." not in r):
            rq.append(f"- **{rid}**: {md_escape(reqs[rid][0])}")
            rq += [f"  - **{c}**: {md_escape(reqs[c][0])}" for c in clauses.get(rid, [])]
        rq.append("")
    return "\n".join(md) + "\n", "\n".join(rq) + "\n"


def main(argv):
    out = pathlib.Path(argv[1]) if len(argv) > 1 else None
    root = pathlib.Path(argv[2]) if len(argv) > 2 else ROOT
    reqs, clauses, evidence, unverified, errors, notes, case = trace(root)
    if out:
        matrix, page = render(reqs, clauses, evidence, unverified, notes)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(matrix, encoding="utf-8")
        (out.parent / "requirements.md").write_text(page, encoding="utf-8")
    ntests = len({(p, n) for ev in evidence.values() for k, p, n in ev if k == "test"})
    print(f"trace: {len([r for r in reqs if '.' not in r])} requirements ({len(reqs) - len([r for r in reqs if '.' not in r])} clauses), "
          f"{ntests} tests, {len(case['rows'])} failure-mode/DFA rows, "
          f"{len(unverified)} not verified, {len(errors)} errors; " + "; ".join(notes))
    for e in errors:
        print("trace: error:", e)
    for rid in unverified:
        print("trace: not verified:", rid, "-", reqs[rid][0])
    return 1 if (unverified or errors or not reqs) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
