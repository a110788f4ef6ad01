#!/usr/bin/env python3
"""The MISRA C:2012 gate over src/ and its compliance summary.

usage: misra_gate.py LOG SUPP RULES DEVDOC SUMMARY.md [SRC_FILE...]

LOG      the cppcheck MISRA addon's output over every C file of src/ (template
         FILE:LINE:COL: SEVERITY: misra-c2012-R.N: MESSAGE), run with --inline-suppr
         and without a suppression list: every finding the code has is in it, except
         those suppressed inline on their line.
SUPP     tools/lint/misra.supp: per-file deviations, `ID RULE KIND FILE...`; a FILE written
         `PATH=N` (a path, no glob) records that the N findings of the rule in PATH were
         reviewed site by site, `PATH=N/K` that they were counted and K of them read (a
         sample review): either way the gate then wants exactly N there.
RULES    tools/lint/misra-rules.txt: the category of every rule.
DEVDOC   docs/misra-deviations.md: every ID used must be listed there; the table row of a
         per-file deviation (`| ID | rule | kind | files | why | why safe | approval |`)
         gives the summary its reason, and its approval must not be "open".
SUMMARY  where the per-rule compliance summary (Doxygen Markdown) is written.
SRC_FILE the files of src/ whose inline suppressions are checked and counted.

Fails (exit 1), printing each reason, when a finding is covered by no deviation, when a
deviation covers no finding (stale), when a file whose sites were reviewed (`PATH=N`) has
more or fewer findings of the rule than the N reviewed (a new site is not reviewed; a site
gone needs the count corrected), when a mandatory rule is listed, when `disapplied` names a
rule that is not advisory, when an ID is missing from DEVDOC, when an inline
`cppcheck-suppress` or `NOLINT` in src/ carries no SVD-DEV/SVD-MISRA ID on its line, or when
the log holds no finding and no file was analysed (the tool did not run), when a sample
review reads more sites than it counts or none, or when the register's row of a per-file
deviation gives "open" as its approval (recorded at rule level, not yet scoped and reviewed).
"""
import collections
import fnmatch
import pathlib
import re
import sys

FINDING = re.compile(r"^(?P<file>[^:\s]+):(?P<line>\d+):(?P<col>\d+): \w+: misra-c2012-(?P<rule>\d+\.\d+):")
RULE = re.compile(r"^Rule (\d+\.\d+) (Mandatory|Required|Advisory)\s*$")
INLINE = re.compile(r"(cppcheck-suppress\s+(?P<cid>[\w.-]+)|NOLINT(?:NEXTLINE)?(?:\((?P<nid>[^)]*)\))?)")
DEV_ID = re.compile(r"SVD-(?:DEV|MISRA)-\d{3}")


def rule_key(r):
    return tuple(int(x) for x in r.split("."))


def checked_rules():
    """(rules the MISRA addon checks, rules cppcheck's own checks cover), from the addon's source."""
    import glob
    for f in sorted(glob.glob("/usr/lib/*/cppcheck/addons/misra.py") + glob.glob("/usr/share/cppcheck/addons/misra.py")):
        src = pathlib.Path(f).read_text(encoding="utf-8", errors="replace")
        addon = set(re.findall(r"def\s+misra_(\d+)_(\d+)\(", src))
        core = src[src.find("def getCppcheckRules"):]
        core = core[:core.find("\n\n\n")]
        return {f"{a}.{b}" for a, b in addon}, set(re.findall(r"'(\d+\.\d+)'", core))
    return set(), set()


def load_categories(path):
    cats = {}
    for line in pathlib.Path(path).read_text(encoding="utf-8").splitlines():
        m = RULE.match(line)
        if m:
            cats[m.group(1)] = m.group(2)
    return cats


def load_supp(path):
    entries, errors = [], []
    for n, line in enumerate(pathlib.Path(path).read_text(encoding="utf-8").splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split()
        if len(parts) < 4 or not re.fullmatch(r"SVD-MISRA-\d{3}", parts[0]) or \
                not re.fullmatch(r"\d+\.\d+", parts[1]) or parts[2] not in ("disapplied", "deviated"):
            errors.append(f"{path}:{n}: expected 'SVD-MISRA-NNN RULE disapplied|deviated FILE...'")
            continue
        files, reviewed = [], {}
        for spec in parts[3:]:
            m = re.fullmatch(r"(?P<path>[^=]+)=(?P<n>\d+)(?:/(?P<k>\d+))?", spec)
            if m is None:
                files.append(spec)
            elif any(ch in m.group("path") for ch in "*?[") or int(m.group("n")) == 0:
                errors.append(f"{path}:{n}: {spec}: a reviewed count needs one path (no glob) and N > 0")
            elif m.group("k") is not None and not 0 < int(m.group("k")) <= int(m.group("n")):
                errors.append(f"{path}:{n}: {spec}: a sample review reads K of the N sites, 0 < K <= N")
            else:
                files.append(m.group("path"))
                k = int(m.group("k")) if m.group("k") is not None else int(m.group("n"))
                reviewed[m.group("path")] = (int(m.group("n")), k)
        entries.append({"id": parts[0], "rule": parts[1], "kind": parts[2], "files": files,
                        "reviewed": reviewed, "line": n, "hits": 0, "sites": collections.defaultdict(list)})
    return entries, errors


def covers(entry, rule, path):
    return entry["rule"] == rule and any(fnmatch.fnmatchcase(path, g) for g in entry["files"])


def inline_suppressions(files):
    """[(path, line, what, id or None)] for every analyzer suppression in the files."""
    out = []
    for f in files:
        for n, line in enumerate(pathlib.Path(f).read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            for m in INLINE.finditer(line):
                ids = DEV_ID.findall(line)
                what = m.group("cid") or ("NOLINT(" + (m.group("nid") or "") + ")")
                out.append((f, n, what, ids[0] if ids else None))
    return out


def main(argv):
    if len(argv) < 6:
        print(__doc__)
        return 2
    log, supp, rules, devdoc, summary = argv[1:6]
    files = argv[6:]
    cats = load_categories(rules)
    entries, errors = load_supp(supp)
    doc = pathlib.Path(devdoc).read_text(encoding="utf-8")
    doc_rows = register_rows(doc)
    findings = []
    seen = set()
    for line in pathlib.Path(log).read_text(encoding="utf-8", errors="replace").splitlines():
        m = FINDING.match(line)
        if m:
            key = (m.group("file"), int(m.group("line")), int(m.group("col")), m.group("rule"))
            if key not in seen:  # a header's finding is reported once per file that includes it
                seen.add(key)
                findings.append(key)
    per_rule = collections.defaultdict(lambda: {"findings": 0, "deviated": collections.Counter(), "open": []})
    for path, ln, col, rule in findings:
        hit = [e for e in entries if covers(e, rule, path)]
        r = per_rule[rule]
        r["findings"] += 1
        if hit:
            for e in hit[:1]:
                e["hits"] += 1
                e["sites"][path].append(f"{ln}:{col}")
                r["deviated"][(e["id"], e["kind"], path)] += 1
        else:
            r["open"].append(f"{path}:{ln}:{col}")
            errors.append(f"{path}:{ln}:{col}: misra-c2012-{rule} ({cats.get(rule, 'category unknown')}): "
                          "no deviation covers it (fix the code, or add one with an ID: docs/misra-deviations.md)")
    for e in entries:
        cat = cats.get(e["rule"])
        if cat is None:
            errors.append(f"{supp}:{e['line']}: {e['id']}: rule {e['rule']} has no category in {rules}")
        elif cat == "Mandatory":
            errors.append(f"{supp}:{e['line']}: {e['id']}: rule {e['rule']} is mandatory: it can not be deviated")
        elif e["kind"] == "disapplied" and cat != "Advisory":
            errors.append(f"{supp}:{e['line']}: {e['id']}: rule {e['rule']} is {cat.lower()}: "
                          "only an advisory rule can be disapplied (use 'deviated')")
        if e["hits"] == 0:
            errors.append(f"{supp}:{e['line']}: {e['id']} (rule {e['rule']}) covers no finding any more: remove it")
        if e["id"] not in doc:
            errors.append(f"{supp}:{e['line']}: {e['id']} is not in {devdoc}")
        row = doc_rows.get(e["id"])
        if row is not None and re.search(r"\bopen\b", row[-1]):
            errors.append(f"{supp}:{e['line']}: {e['id']}: its approval in {devdoc} is open: scope it per file "
                          "(PATH=N) and review it, or fix the code")
        for f, (want, _) in sorted(e["reviewed"].items()):
            got = e["sites"].get(f, [])
            if len(got) > want:
                errors.append(f"{supp}:{e['line']}: {e['id']} (rule {e['rule']}): {f} has {len(got)} findings, "
                              f"{want} reviewed site by site: review the new one(s) among lines "
                              f"{', '.join(got)} and update the count to {f}={len(got)}")
            elif len(got) < want:
                errors.append(f"{supp}:{e['line']}: {e['id']} (rule {e['rule']}): {f} has {len(got)} findings, "
                              f"{want} reviewed: correct the count to {f}={len(got)}")
    inline = inline_suppressions(files)
    for f, n, what, did in inline:
        if did is None:
            errors.append(f"{f}:{n}: suppression '{what}' without a deviation ID (SVD-DEV-NNN, {devdoc})")
        elif did not in doc:
            errors.append(f"{f}:{n}: {did} is not in {devdoc}")
        if what.startswith("misra-c2012-"):
            rule = what[len("misra-c2012-"):]
            per_rule[rule]["deviated"][(did or "(no ID)", "line", f)] += 1
    if not findings and not files:
        errors.append(f"{log}: no finding and no file: the MISRA addon did not run")
    reviewed = {(e["id"], f): nk for e in entries for f, nk in e["reviewed"].items()}
    # The "Why" cell: the fifth of a per-file row (ID, rule, kind, files, why, ...), the
    # fourth of a per-line one (ID, rule, where, why, ...).
    reasons = {did: first_sentence(cells[4 if did.startswith("SVD-MISRA") else 3]).replace("|", "\\|")
               for did, cells in doc_rows.items() if len(cells) > (4 if did.startswith("SVD-MISRA") else 3)}
    write_summary(summary, per_rule, cats, reviewed, len(files), reasons)
    # Sites suppressed in line never reach the addon's findings: count them apart, so the
    # per-file figure and the findings figure measure the same thing.
    nline = sum(n for r in per_rule.values() for k, n in r["deviated"].items() if k[1] == "line")
    ndev = sum(sum(r["deviated"].values()) for r in per_rule.values()) - nline
    nopen = sum(len(r["open"]) for r in per_rule.values())
    print(f"misra-gate: {len(files)} files, {len(findings)} findings of {len(per_rule)} rules, "
          f"{ndev} under {len(entries)} per-file deviations, {nline} more sites suppressed in line by "
          f"{sum(1 for i in inline if i[2].startswith('misra'))} per-line ones, {nopen} not covered, "
          f"{len(errors)} errors; summary {summary}")
    for e in errors:
        print("misra-gate:", e)
    return 1 if errors else 0


def register_rows(doc):
    """{ID: [cells]} of the register's table rows that start with a deviation ID."""
    rows = {}
    for line in doc.splitlines():
        cells = [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
        if cells and DEV_ID.fullmatch(cells[0]) and cells[0] not in rows:
            rows[cells[0]] = cells
    return rows


def first_sentence(text):
    """The first sentence of a register cell, at most 200 characters."""
    m = re.match(r"(.+?\.)(\s|$)", text)
    text = (m.group(1) if m else text).rstrip(".")
    return text if len(text) <= 200 else text[:200].rsplit(" ", 1)[0] + " ..."


def write_summary(path, per_rule, cats, reviewed, nfiles, reasons):
    by_kind = collections.Counter()
    lines = ["# MISRA C:2012 compliance summary {#misra_summary}", "",
             "Generated by `make lint` (tools/lint/misra_gate.py) from the cppcheck MISRA addon's run over "
             f"every C file of src/ and the headers they include ({nfiles} files). A rule is **compliant** "
             "when the code has no finding of it, **disapplied** (advisory rules) or **deviated** (required "
             "rules) where a deviation of tools/lint/misra.supp (per file) or an inline suppression (per "
             "line) with its ID covers each finding; rationale and approval of every ID in "
             "@ref misra_deviations. A file marked *reviewed* had each of its findings of the rule "
             "reviewed site by site, one marked *counted, K read* had K of them read (a sample review); "
             "the gate holds either to its number of findings. A per-line deviation is one site. "
             "A rule **disapplied** or **deviated** without a count is so for the whole of the files "
             "listed, for the reason given (the register's first sentence). "
             "Rules neither the addon nor cppcheck checks are not claimed compliant "
             "(see the "
             "tool-confidence table (@ref toolconfidence): they are listed as *not checked by the tool*. Categories as recorded in "
             "tools/lint/misra-rules.txt.", "",
             "| rule | category | status | findings | deviations (ID, kind: file (count)) | reason (register) |",
             "|---|---|---|---|---|---|"]
    rows = []
    addon, core = checked_rules()
    for rule in sorted(set(cats) | set(per_rule), key=rule_key):
        r = per_rule.get(rule)
        if r is None or (r["findings"] == 0 and not r["deviated"]):
            if rule in addon:
                status = "compliant"
            elif rule in core:
                status = "compliant (cppcheck's own checks, pass 1)"
            else:
                status = "not checked by the tool (review)"
            rows.append((rule, cats.get(rule, "?"), status, 0, "", ""))
            by_kind[status] += 1
            continue
        counted = {(did, k, f) for (did, k, f) in r["deviated"] if k == "line" or (did, f) in reviewed}
        whole = {k for (did, k, f) in r["deviated"] if (did, k, f) not in counted}
        sampled = any(k != "line" and reviewed[(did, f)][1] < reviewed[(did, f)][0] for (did, k, f) in counted)
        parts = [k for k in ("disapplied", "deviated") if k in whole]
        if counted and not whole:
            parts = ["deviated per file, counted (sample review)" if sampled else "deviated, reviewed site by site"]
        elif counted:
            parts.append("deviated per file, counted" + (" (sample review)" if sampled else ", reviewed site by site"))
        status = "open" if r["open"] else "; ".join(parts)
        by_kind[status] += 1
        dev = collections.defaultdict(list)
        for (did, kind, f), n in sorted(r["deviated"].items()):
            nk = reviewed.get((did, f))
            if nk is None or kind == "line":
                dev[(did, kind)].append(f"{f} ({n})")
            elif nk[1] < nk[0]:
                dev[(did, kind)].append(f"{f} ({n}, counted, {nk[1]} read)")
            else:
                dev[(did, kind)].append(f"{f} ({n}, reviewed)")
        cell = "<br>".join(f"{did}, {kind}: " + ", ".join(fs) for (did, kind), fs in dev.items())
        if r["open"]:
            cell += ("<br>" if cell else "") + "**not covered**: " + ", ".join(r["open"][:5])
        why = "<br>".join(f"{did}: {reasons[did]}" for did in sorted({d for (d, _) in dev}) if reasons.get(did))
        rows.append((rule, cats.get(rule, "?"), status, r["findings"], cell, why))
    lines += [f"| {a} | {b} | {c} | {d} | {e} | {g} |" for a, b, c, d, e, g in rows]
    lines += ["", "**Totals:** " + ", ".join(f"{k} {v} rules" for k, v in sorted(by_kind.items())) + ".", ""]
    p = pathlib.Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
