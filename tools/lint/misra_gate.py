#!/usr/bin/env python3
"""The MISRA C:2012 gate over src/ and its compliance summary.

usage: misra_gate.py LOG SUPP RULES DEVDOC SUMMARY.md [SRC_FILE...]

LOG      the cppcheck MISRA addon's output over every C file of src/ (template
         FILE:LINE:COL: SEVERITY: misra-c2012-R.N: MESSAGE), run with --inline-suppr
         and without a suppression list: every finding the code has is in it, except
         those suppressed inline on their line.
SUPP     tools/lint/misra.supp: per-file deviations, `ID RULE KIND FILE...`; a FILE written
         `PATH=N` (a path, no glob) records that the N findings of the rule in PATH were
         reviewed site by site: the gate then wants exactly N there.
RULES    tools/lint/misra-rules.txt: the category of every rule.
DEVDOC   docs/misra-deviations.md: every ID used must be listed there.
SUMMARY  where the per-rule compliance summary (Doxygen Markdown) is written.
SRC_FILE the files of src/ whose inline suppressions are checked and counted.

Fails (exit 1), printing each reason, when a finding is covered by no deviation, when a
deviation covers no finding (stale), when a file whose sites were reviewed (`PATH=N`) has
more or fewer findings of the rule than the N reviewed (a new site is not reviewed; a site
gone needs the count corrected), when a mandatory rule is listed, when `disapplied` names a
rule that is not advisory, when an ID is missing from DEVDOC, when an inline
`cppcheck-suppress` or `NOLINT` in src/ carries no SVD-DEV/SVD-MISRA ID on its line, or when
the log holds no finding and no file was analysed (the tool did not run).
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
            m = re.fullmatch(r"(?P<path>[^=]+)=(?P<n>\d+)", spec)
            if m is None:
                files.append(spec)
            elif any(ch in m.group("path") for ch in "*?[") or int(m.group("n")) == 0:
                errors.append(f"{path}:{n}: {spec}: a reviewed count needs one path (no glob) and N > 0")
            else:
                files.append(m.group("path"))
                reviewed[m.group("path")] = int(m.group("n"))
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
        for f, want in sorted(e["reviewed"].items()):
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
    reviewed = {(e["id"], f) for e in entries for f in e["reviewed"]}
    write_summary(summary, per_rule, cats, reviewed, len(files))
    ndev = sum(sum(r["deviated"].values()) for r in per_rule.values())
    nopen = sum(len(r["open"]) for r in per_rule.values())
    print(f"misra-gate: {len(files)} files, {len(findings)} findings of {len(per_rule)} rules, "
          f"{ndev} under {len(entries)} per-file deviations and {sum(1 for i in inline if i[2].startswith('misra'))} "
          f"per-line ones, {nopen} not covered, {len(errors)} errors; summary {summary}")
    for e in errors:
        print("misra-gate:", e)
    return 1 if errors else 0


def write_summary(path, per_rule, cats, reviewed, nfiles):
    by_kind = collections.Counter()
    lines = ["# MISRA C:2012 compliance summary {#misra_summary}", "",
             "Generated by `make lint` (tools/lint/misra_gate.py) from the cppcheck MISRA addon's run over "
             f"every C file of src/ and the headers they include ({nfiles} files). A rule is **compliant** "
             "when the code has no finding of it, **disapplied** (advisory rules) or **deviated** (required "
             "rules) where a deviation of tools/lint/misra.supp (per file) or an inline suppression (per "
             "line) with its ID covers each finding; rationale and approval of every ID in "
             "@ref misra_deviations. A file marked *reviewed* had each of its findings of the rule "
             "reviewed site by site (the gate holds it to that number); a per-line deviation is one site. "
             "Rules neither the addon nor cppcheck checks are not claimed compliant "
             "(see the "
             "tool-confidence table (@ref toolconfidence): they are listed as *not checked by the tool*. Categories as recorded in "
             "tools/lint/misra-rules.txt.", "",
             "| rule | category | status | findings | deviations (ID, kind: file (count)) |", "|---|---|---|---|---|"]
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
            rows.append((rule, cats.get(rule, "?"), status, 0, ""))
            by_kind[status] += 1
            continue
        kinds = {k for (_, k, _) in r["deviated"]}
        status = "open" if r["open"] else ("disapplied" if kinds == {"disapplied"} else "deviated")
        if status == "deviated" and all(k == "line" or (did, f) in reviewed for (did, k, f) in r["deviated"]):
            status = "deviated, reviewed site by site"
        by_kind[status] += 1
        dev = collections.defaultdict(list)
        for (did, kind, f), n in sorted(r["deviated"].items()):
            dev[(did, kind)].append(f"{f} ({n}, reviewed)" if (did, f) in reviewed else f"{f} ({n})")
        cell = "<br>".join(f"{did}, {kind}: " + ", ".join(fs) for (did, kind), fs in dev.items())
        if r["open"]:
            cell += ("<br>" if cell else "") + "**not covered**: " + ", ".join(r["open"][:5])
        rows.append((rule, cats.get(rule, "?"), status, r["findings"], cell))
    lines += [f"| {a} | {b} | {c} | {d} | {e} |" for a, b, c, d, e in rows]
    lines += ["", "**Totals:** " + ", ".join(f"{k} {v} rules" for k, v in sorted(by_kind.items())) + ".", ""]
    p = pathlib.Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
