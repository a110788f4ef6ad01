#!/usr/bin/env python3
"""Self-tests of the traceability tool (tools/docs/trace.py), the safety-case checks
(tools/docs/safety_case.py: the failure-mode table, the assumptions of use, the tool-confidence
table, the IDs the safety-case pages cite, the declared verification methods) and the coverage
gate's exclusion markers (tools/lint/covgate.py):
each is run over a small seeded tree and must report the seeded defect, and pass the tree
without it. Run by `make gate-selftest` (tests/gate/selftest.sh)."""
import pathlib
import subprocess
import sys
import tempfile
import unittest

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools" / "docs"))
import trace as trace_tool  # noqa: E402

REQS = """# Requirements (seed)

- **REQ-ABC-001**: The thing SHALL work.
- **REQ-ABC-002**: The other thing SHALL work and SHALL stop.
  - **REQ-ABC-002.a**: The other thing SHALL work.
  - **REQ-ABC-002.b**: The other thing SHALL stop.
"""
SAF = """# Derived (seed)

- **REQ-SAF-001**: A fault SHALL stop the device. (derived from: FM-ABC-001; allocated to: core; verification: test)
"""
FMEA = """# FMEA (seed)

| SS | safe state | entered by | left by |
|---|---|---|---|
| SS-NR | stopped | the core | reset |

| ID | element | failure mode | effect | detection | reaction | safe state | derived requirement | test |
|---|---|---|---|---|---|---|---|---|
| FM-ABC-001 | core | it breaks | bad | a check | latch | SS-NR | REQ-SAF-001 | tests/unit/test_x.c:test_fault_latches |
"""
TESTS = """/* R@Q: REQ-ABC-001 */
static void test_one(void **state)
{
}

/* R@Q: REQ-ABC-002.a */
static void test_two_a(void **state)
{
}

/* R@Q: REQ-ABC-002.b */
static void test_two_b(void **state)
{
}

/* F@: FM-ABC-001 */
static void test_fault_latches(void **state)
{
    expect_latched(state);
}

static void expect_latched(void **state)
{
    assert_non_null(state);
}
"""
SEOOC = """# SEooC (seed)

| ID | assumption | how the integrator verifies it |
|---|---|---|
| AOU-001 | the clock is monotonic | the platform's clock specification |
"""
TOOLS = """# Tools (seed)

| tool | use | error it could introduce or miss | detection | TI | TD | TCL |
|---|---|---|---|---|---|---|
| cc | compiles | miscompiles | the tests | TI2 | TD2 | TCL2 |
| docs | renders | a page wrong | review | TI1 | - | TCL1 |
"""


TREES = []


def tags(text):
    """The seeds spell their tags R@Q:/F@: so that the real tree's trace does not read them."""
    return text.replace("R@Q", "REQ").replace("F@:", "FM:")


def tearDownModule():
    for tmp in TREES:
        tmp.cleanup()


class Tree:
    def __init__(self):
        self.tmp = tempfile.TemporaryDirectory()
        TREES.append(self.tmp)
        self.root = pathlib.Path(self.tmp.name)
        self.write("docs/req/abc.md", REQS)
        self.write("docs/req/saf.md", SAF)
        self.write("docs/safety/fmea.md", FMEA)
        self.write("tests/unit/test_x.c", TESTS)
        self.write("docs/safety/seooc.md", SEOOC)
        self.write("docs/safety/tool-confidence.md", TOOLS)
        (self.root / "mk").mkdir()
        (self.root / "tools").mkdir()

    def write(self, rel, text):
        text = tags(text)
        p = self.root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")

    def edit(self, rel, old, new):
        old, new = tags(old), tags(new)
        p = self.root / rel
        text = p.read_text(encoding="utf-8")
        assert old in text, (rel, old)
        p.write_text(text.replace(old, new, 1), encoding="utf-8")

    def run(self):
        _, _, evidence, unverified, errors, _, _ = trace_tool.trace(self.root)
        return evidence, unverified, errors


class TraceTool(unittest.TestCase):
    # REQ: REQ-GATE-019
    def test_seed_tree_traces_clean(self):
        t = Tree()
        evidence, unverified, errors = t.run()
        self.assertEqual(errors, [])
        self.assertEqual(unverified, [])
        self.assertEqual([n for _, _, n in evidence["REQ-SAF-001"]], ["test_fault_latches"])
        self.assertEqual(sorted(n for _, _, n in evidence["REQ-ABC-002"]), ["test_two_a", "test_two_b"])

    # REQ: REQ-GATE-019
    def test_an_unverified_clause_is_reported(self):
        t = Tree()
        t.edit("tests/unit/test_x.c", "/* R@Q: REQ-ABC-002.b */\n", "")
        _, unverified, _ = t.run()
        self.assertIn("REQ-ABC-002.b", unverified)
        self.assertIn("REQ-ABC-002", unverified)

    # REQ: REQ-GATE-019
    def test_naming_a_split_requirement_whole_is_an_error(self):
        t = Tree()
        t.edit("tests/unit/test_x.c", "R@Q: REQ-ABC-002.a", "R@Q: REQ-ABC-002")
        _, unverified, errors = t.run()
        self.assertTrue(any("split into clauses" in e for e in errors), errors)
        self.assertIn("REQ-ABC-002.a", unverified)

    # REQ: REQ-GATE-019
    def test_tags_outside_tests_do_not_verify(self):
        t = Tree()
        t.edit("tests/unit/test_x.c", "/* R@Q: REQ-ABC-001 */\n", "")
        t.write("mk/x.mk", "# R@Q: REQ-ABC-001\nlint:\n\ttrue\n")
        t.write("tools/x.py", "# R@Q: REQ-ABC-001\ndef main():\n    pass\n")
        _, unverified, errors = t.run()
        self.assertIn("REQ-ABC-001", unverified)
        self.assertEqual(sum("does not count as verification" in e for e in errors), 2, errors)

    # REQ: REQ-GATE-019
    def test_analysis_counts_for_a_product_requirement_not_for_a_gate(self):
        t = Tree()
        t.edit("tests/unit/test_x.c", "/* R@Q: REQ-ABC-001 */\n", "")
        t.write("mk/x.mk", "# R@Q-ANALYSIS: REQ-ABC-001\nstack:\n\ttrue\n")
        evidence, unverified, errors = t.run()
        self.assertEqual(errors, [])
        self.assertEqual(evidence["REQ-ABC-001"], [("analysis", "mk/x.mk", "stack")])
        t.write("docs/req/gate.md", "- **REQ-GATE-001**: The gate SHALL fail.\n")
        t.write("mk/y.mk", "# R@Q-ANALYSIS: REQ-GATE-001\ngate:\n\ttrue\n")
        _, unverified, errors = t.run()
        self.assertTrue(any("its verification is a self-test" in e for e in errors), errors)
        self.assertIn("REQ-GATE-001", unverified)

    # REQ: REQ-GATE-019
    def test_a_gate_requirement_is_verified_by_its_self_test_only(self):
        t = Tree()
        t.write("docs/req/gate.md", "- **REQ-GATE-001**: The fuzz target SHALL check.\n")
        t.write("tests/fuzz/fuzz_x.c", "/* R@Q: REQ-GATE-001 */\nint LLVMFuzzerTestOneInput(void)\n{\n    return 0;\n}\n")
        _, unverified, errors = t.run()
        self.assertTrue(any("fuzz_x.c" in e and "not the gate's own code" in e for e in errors), errors)
        self.assertIn("REQ-GATE-001", unverified)
        t.write("tests/gate/selftest.sh", "# R@Q: REQ-GATE-001\ntest_fuzz_x_bites() {\n    true\n}\n")
        t.write("tests/fuzz/fuzz_x.c", "int LLVMFuzzerTestOneInput(void)\n{\n    return 0;\n}\n")
        evidence, unverified, errors = t.run()
        self.assertEqual(errors, [])
        self.assertEqual(evidence["REQ-GATE-001"], [("test", "tests/gate/selftest.sh", "test_fuzz_x_bites")])

    # REQ: REQ-GATE-019
    def test_unknown_and_duplicate_ids_are_errors(self):
        t = Tree()
        t.edit("tests/unit/test_x.c", "R@Q: REQ-ABC-001", "R@Q: REQ-ABC-001 REQ-ABC-099")
        t.edit("docs/req/abc.md", "- **REQ-ABC-002**", "- **REQ-ABC-001**: again.\n- **REQ-ABC-002**")
        _, _, errors = t.run()
        self.assertTrue(any("unknown requirement REQ-ABC-099" in e for e in errors), errors)
        self.assertTrue(any("REQ-ABC-001 defined twice" in e for e in errors), errors)


class FailureModeTable(unittest.TestCase):
    # REQ: REQ-GATE-020
    def test_row_whose_test_does_not_exist(self):
        t = Tree()
        t.edit("docs/safety/fmea.md", ":test_fault_latches", ":test_gone")
        _, unverified, errors = t.run()
        self.assertTrue(any("defines no test test_gone" in e for e in errors), errors)
        self.assertIn("REQ-SAF-001", unverified)

    # REQ: REQ-GATE-020
    def test_row_whose_test_lacks_the_tag(self):
        t = Tree()
        t.edit("tests/unit/test_x.c", "/* F@: FM-ABC-001 */\n", "")
        _, unverified, errors = t.run()
        self.assertTrue(any(("does not carry the tag '" + tags("F@: FM-ABC-001'")) in e for e in errors), errors)
        self.assertIn("REQ-SAF-001", unverified)

    # REQ: REQ-GATE-020
    def test_tag_naming_no_row(self):
        t = Tree()
        t.edit("tests/unit/test_x.c", "/* F@: FM-ABC-001 */", "/* F@: FM-ABC-001 FM-ABC-002 */")
        _, _, errors = t.run()
        self.assertTrue(any("unknown FM row FM-ABC-002" in e for e in errors), errors)

    # REQ: REQ-GATE-020
    def test_bad_safe_state_requirement_and_fields(self):
        t = Tree()
        t.edit("docs/safety/fmea.md", "| latch | SS-NR |", "| latch | SS-XX |")
        t.edit("docs/req/saf.md", "allocated to: core; verification: test", "allocated to: kernel; verification: hope")
        _, _, errors = t.run()
        self.assertTrue(any("unknown safe state SS-XX" in e for e in errors), errors)
        self.assertTrue(any("allocation kernel" in e for e in errors), errors)
        self.assertTrue(any("verification method hope" in e for e in errors), errors)
        t = Tree()
        t.edit("docs/req/saf.md", "(derived from: FM-ABC-001; allocated to: core; verification: test)", "")
        _, _, errors = t.run()
        self.assertTrue(any("lacks '(derived from" in e for e in errors), errors)
        self.assertTrue(any("is not a REQ-SAF requirement" in e or "does not name FM-ABC-001" in e
                            for e in errors), errors)


class SafetyCaseChecks(unittest.TestCase):
    # REQ: REQ-GATE-020
    def test_row_whose_test_asserts_nothing(self):
        t = Tree()
        t.edit("tests/unit/test_x.c", "    assert_non_null(state);\n", "    (void)state;\n")
        _, _, errors = t.run()
        self.assertTrue(any("test_fault_latches asserts nothing" in e for e in errors), errors)
        t = Tree()  # an assertion in the test itself, no helper
        t.edit("tests/unit/test_x.c", "    expect_latched(state);\n", "    assert_true(state != 0);\n")
        t.edit("tests/unit/test_x.c", "    assert_non_null(state);\n", "    (void)state;\n")
        _, _, errors = t.run()
        self.assertEqual(errors, [])

    # REQ: REQ-GATE-020
    def test_assumption_without_integrator_check_or_twice(self):
        t = Tree()
        t.edit("docs/safety/seooc.md", "| the platform's clock specification |", "|  |")
        _, _, errors = t.run()
        self.assertTrue(any("AOU-001 says nothing of how the integrator verifies it" in e for e in errors), errors)
        t = Tree()
        t.edit("docs/safety/seooc.md", "| AOU-001 | the clock", "| AOU-001 | again | a check |\n| AOU-001 | the clock")
        _, _, errors = t.run()
        self.assertTrue(any("AOU-001 defined twice" in e for e in errors), errors)

    # REQ: REQ-GATE-020
    def test_tool_confidence_level_not_the_one_of_table_3(self):
        t = Tree()
        t.edit("docs/safety/tool-confidence.md", "| TI2 | TD2 | TCL2 |", "| TI2 | TD2 | TCL1 |")
        _, _, errors = t.run()
        self.assertTrue(any("TI2 with TD2 gives TCL2" in e and "says TCL1" in e for e in errors), errors)
        t = Tree()
        t.edit("docs/safety/tool-confidence.md", "| TI1 | - | TCL1 |", "| TI1 | TD1 | TCL1 |")
        t.edit("docs/safety/tool-confidence.md", "| the tests |", "|  |")
        _, _, errors = t.run()
        self.assertTrue(any("not a pair of ISO 26262-8 Table 3" in e for e in errors), errors)
        self.assertTrue(any("cc: no detection measure" in e for e in errors), errors)

    # REQ: REQ-GATE-020
    def test_a_cited_id_that_is_not_defined(self):
        t = Tree()
        t.write("docs/safety/manual.md", "Rests on AOU-001, FM-ABC-001, SS-NR and REQ-ABC-001..002.\n")
        _, _, errors = t.run()
        self.assertEqual(errors, [])
        t.write("docs/safety/manual.md", "Rests on AOU-002, FM-ABC-009, SS-XX, TM-LOC-001, SVD-DEV-001 "
                "and REQ-ABC-001..003.\n")
        _, _, errors = t.run()
        for i in ("AOU-002", "FM-ABC-009", "SS-XX", "TM-LOC-001", "SVD-DEV-001", "REQ-ABC-003"):
            self.assertTrue(any(f"cites {i}, which is not defined" in e for e in errors), (i, errors))
        self.assertFalse(any("cites REQ-ABC-001," in e for e in errors), errors)

    # REQ: REQ-GATE-020
    def test_a_declared_method_needs_evidence_of_its_kind(self):
        t = Tree()
        t.edit("docs/req/saf.md", "verification: test)", "verification: test, fuzzing, analysis)")
        _, _, errors = t.run()
        self.assertTrue(any("declares verification 'fuzzing' but no fuzzing evidence" in e for e in errors), errors)
        self.assertTrue(any("declares verification 'analysis' but no analysis evidence" in e for e in errors), errors)
        t.write("tests/fuzz/fuzz_x.c", "/* R@Q: REQ-SAF-001 */\nint LLVMFuzzerTestOneInput(const char *d, int n)\n{\n}\n")
        t.write("mk/x.mk", "# R@Q-ANALYSIS: REQ-SAF-001\npurity:\n\ttrue\n")
        _, _, errors = t.run()
        self.assertEqual(errors, [])
        t.edit("docs/req/saf.md", "verification: test, fuzzing, analysis)", "verification: test, review)")
        _, _, errors = t.run()
        self.assertTrue(any("verification 'review' has no record" in e for e in errors), errors)


class CoverageGateMarkers(unittest.TestCase):
    def gate(self, root, line):
        core = root / "src" / "core"
        shim = root / "src" / "shim" / "s"
        core.mkdir(parents=True, exist_ok=True)
        shim.mkdir(parents=True, exist_ok=True)
        (root / "docs").mkdir(exist_ok=True)
        (root / "docs" / "coverage.md").write_text("| SVD-COV-001 | seeded |\n", encoding="utf-8")
        (core / "x.c").write_text("int a;\n", encoding="utf-8")
        (shim / "y.c").write_text("int b;\n" + line + "\n", encoding="utf-8")
        info = root / "c.info"
        info.write_text(f"SF:{core}/x.c\nDA:1,1\nend_of_record\nSF:{shim}/y.c\nDA:1,1\nDA:2,1\n"
                        "BRDA:2,0,0,1\nBRDA:2,0,1,0\nend_of_record\n", encoding="utf-8")
        return subprocess.run([sys.executable, str(ROOT / "tools" / "lint" / "covgate.py"), "--gate", str(info),
                               str(root), "100", "100", "90"], capture_output=True, text=True)

    # REQ: REQ-GATE-007.b
    def test_branch_exclusion_needs_a_listed_id(self):
        with tempfile.TemporaryDirectory() as d:
            r = self.gate(pathlib.Path(d), "if (b) { b = 0; } /* LCOV_EXCL_BR_LINE */")
            self.assertNotEqual(r.returncode, 0, r.stdout)
            self.assertIn("without an SVD-COV-NNN deviation ID", r.stdout + r.stderr)
        with tempfile.TemporaryDirectory() as d:
            r = self.gate(pathlib.Path(d), "if (b) { b = 0; } /* LCOV_EXCL_BR_LINE SVD-COV-002 */")
            self.assertNotEqual(r.returncode, 0, r.stdout)
            self.assertIn("SVD-COV-002 is not listed in docs/coverage.md", r.stdout + r.stderr)
        with tempfile.TemporaryDirectory() as d:
            r = self.gate(pathlib.Path(d), "if (b) { b = 0; } /* LCOV_EXCL_BR_LINE SVD-COV-001 */")
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
