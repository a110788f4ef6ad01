#!/usr/bin/env bash
# Self-test of the quality-gate tools: each checker is shown a seeded defect and
# must report it (a gate that passes everything would pass here too, and fail this
# test). Run by `make gate-selftest`, which passes the build's own sanitizer and
# valgrind configuration: SAN_CC, SAN_FLAGS and VALGRIND (the Makefile's).
set -euo pipefail
: "${SAN_CC:?set by make gate-selftest}" "${SAN_FLAGS:?set by make gate-selftest}" "${VALGRIND:?set by make gate-selftest}"
cd "$(dirname "$0")/../.."
t=$(mktemp -d); trap 'rm -rf "$t"' EXIT
pass=0; fail=0
ok()  { echo "  ok   $1"; pass=$((pass+1)); }
bad() { echo "  FAIL $1"; fail=$((fail+1)); }
expect_fail() { local what=$1; shift; if "$@" >"$t/out" 2>&1; then bad "$what (not detected)"; cat "$t/out"; else ok "$what"; fi; }
# expect_fail_with PATTERN WHAT CMD...: CMD fails and says PATTERN (grep -E).
expect_fail_with() { local pat=$1; shift; expect_fail "$@"; grep -qE -- "$pat" "$t/out" || { bad "$1: failed without saying /$pat/"; cat "$t/out"; }; }
expect_pass() { local what=$1; shift; if "$@" >"$t/out" 2>&1; then ok "$what"; else bad "$what (false finding)"; cat "$t/out"; fi; }

# REQ: REQ-GATE-004
test_banned_calls() {
    mkdir -p "$t/src/core" "$t/src/shim/x"
    printf '#include <stdlib.h>\nvoid f(int x);\nvoid f(int x) { if (x) { abort(); } }\n' >"$t/src/core/a.c"
    expect_fail "banned: abort() in core" python3 tools/lint/banned.py banned "$t/src/core/a.c"
    printf '#include <assert.h>\n' >"$t/src/core/b.c"
    expect_fail "banned: <assert.h>" python3 tools/lint/banned.py banned "$t/src/core/b.c"
    printf '#include <setjmp.h>\nstatic jmp_buf j; void g(void) { longjmp(j, 1); }\n' >"$t/src/core/c.c"
    expect_fail "banned: longjmp" python3 tools/lint/banned.py banned "$t/src/core/c.c"
    printf '#include <stdlib.h>\nstatic void h(void) { exit(1); }\nint main(void) { h(); return 0; }\n' >"$t/src/shim/x/d.c"
    expect_fail "banned: exit() in a shim helper" env -C "$t" python3 "$PWD/tools/lint/banned.py" banned src/shim/x/d.c
    printf '#include <stdlib.h>\nstatic int run(void) { return 0; }\nint main(void) { int rc = run(); /* cleanup done */ exit(rc); }\n' >"$t/src/shim/x/e.c"
    expect_pass "banned: exit() at the end of a shim main() allowed" env -C "$t" python3 "$PWD/tools/lint/banned.py" banned src/shim/x/e.c
    printf 'int main(void) { exit(0); }\n' >"$t/src/core/m.c"
    expect_fail "banned: exit() in a core main()" env -C "$t" python3 "$PWD/tools/lint/banned.py" banned src/core/m.c
    printf '/* never abort() here */\nstatic const char *s = "exit(1)";\n' >"$t/src/core/f.c"
    expect_pass "banned: words in comments and strings ignored" python3 tools/lint/banned.py banned "$t/src/core/f.c"
}

# REQ: REQ-GATE-005
test_core_purity() {
    printf '#include <stdlib.h>\nvoid *f(void);\nvoid *f(void) { return malloc(4); }\n' >"$t/p1.c"
    expect_fail "purity: malloc + <stdlib.h>" python3 tools/lint/banned.py purity "$t/p1.c"
    printf 'int counter;\nstatic int hits;\n' >"$t/p2.c"
    expect_fail "purity: mutable static" python3 tools/lint/banned.py purity "$t/p2.c"
    printf '#include <string.h>\nstatic const int k = 1;\nstruct s { int (*read)(void); };\nint g(struct s *p);\nint g(struct s *p) { return p->read() + k; }\n' >"$t/p3.c"
    expect_pass "purity: const static, member named read, <string.h>" python3 tools/lint/banned.py purity "$t/p3.c"
}

# REQ: REQ-GATE-001 REQ-GATE-003
test_analyzers_catch_defects() {
    cat >"$t/d.c" <<'C'
#include <stdint.h>
int use(int c);
int use(int c)
{
    int v;
    if (c > 0) {
        v = 1;
    }
    return v;
}
C
    expect_fail "cppcheck: uninitialised variable" cppcheck --error-exitcode=1 --enable=all --inconclusive --quiet "$t/d.c"
    cp .clang-tidy "$t/.clang-tidy"
    expect_fail "clang-tidy: uninitialised variable" clang-tidy --quiet "$t/d.c" -- -std=c11
    cat >"$t/e.c" <<'C'
#include <stdlib.h>
void leak(int c);
void leak(int c)
{
    char *p = malloc(8);
    if (c > 0) {
        return;
    }
    free(p);
}
C
    expect_fail "gcc -fanalyzer: leak" gcc -std=c11 -Werror -fanalyzer -c "$t/e.c" -o /dev/null
}

# REQ: REQ-GATE-001
test_unused_function_gate() {
    # The gate script itself (tools/lint/cppcheck.sh, pass 2) over a seeded
    # src/: a product calls u_used, only a test calls u_tested, u_kept is kept
    # with an inline suppression. Tests are not callers: u_tested is reported.
    local d="$t/uf"
    mkdir -p "$d/src/core" "$d/src/shim/p" "$d/tests/unit"
    printf 'int u_used(void);\nint u_tested(void);\nint u_kept(void);\n' >"$d/src/core/u.h"
    cat >"$d/src/core/u.c" <<'C'
#include <stdint.h>
#include "u.h"
int u_used(void) { return 1; }
int u_tested(void) { return 2; }
/* cppcheck-suppress unusedFunction ; SVD-DEV-999: seeded */
int u_kept(void) { return 3; }
C
    printf '#include "u.h"\nint main(void) { return u_used(); }\n' >"$d/src/shim/p/p.c"
    printf '#include "u.h"\nint main(void) { return u_tested() + u_kept(); }\n' >"$d/tests/unit/t.c"
    local gate=("$PWD/tools/lint/cppcheck.sh" out -Isrc/core)
    env -C "$d" LINT_SRC="src/core/u.c src/shim/p/p.c" LINT_MISRA_SRC="" "${gate[@]}" >"$t/uf.out" 2>&1 || true
    if grep -q "u_tested' is never used" "$t/uf.out" && ! grep -qE "u_used|u_kept" "$t/uf.out" &&
       grep -q 'cppcheck(unusedFunction, src/ only): 1 findings' "$t/uf.out"; then
        ok "unusedFunction: a public function only a test calls is reported, a suppressed one is not"
    else
        bad "unusedFunction gate"; cat "$t/uf.out"
    fi
    # A suppression that outlived its reason (u_kept got a caller in src/) is reported.
    printf '#include "u.h"\nint main(void) { return u_used() + u_tested() + u_kept(); }\n' >"$d/src/shim/p/p.c"
    env -C "$d" LINT_SRC="src/core/u.c src/shim/p/p.c" LINT_MISRA_SRC="" "${gate[@]}" >"$t/uf.out" 2>&1 || true
    if grep -q 'Unmatched suppression: unusedFunction' "$t/uf.out" &&
       grep -q 'cppcheck(unusedFunction, src/ only): 1 findings' "$t/uf.out"; then
        ok "unusedFunction: a stale suppression is reported"
    else
        bad "unusedFunction: stale suppression not reported"; cat "$t/uf.out"
    fi
    # Every function called from src/ and the suppression needed: the gate passes.
    printf '#include "u.h"\nint main(void) { return u_used() + u_tested(); }\n' >"$d/src/shim/p/p.c"
    expect_pass "unusedFunction: callers in src/ only, nothing reported" \
        env -C "$d" LINT_SRC="src/core/u.c src/shim/p/p.c" LINT_MISRA_SRC="" "${gate[@]}"
}

# REQ: REQ-GATE-002.a REQ-GATE-002.b REQ-GATE-002.c REQ-GATE-002.d
test_misra_gate() {
    # The gate itself (tools/lint/cppcheck.sh, pass 3, and tools/lint/misra_gate.py)
    # over a seeded tree with its own deviation register.
    local d="$t/mg"
    mkdir -p "$d/src/core" "$d/src/shim/s" "$d/tools/lint" "$d/docs"
    cp tools/lint/misra.json tools/lint/misra-rules.txt tools/lint/svd.cfg tools/lint/misra_gate.py "$d/tools/lint/"
    printf '| SVD-MISRA-901 | 15.5 |\n| SVD-MISRA-902 | 14.4 |\n| SVD-DEV-901 | 14.4 |\n' >"$d/docs/misra-deviations.md"
    printf 'SVD-MISRA-901 15.5 disapplied src/core/*.c\n' >"$d/tools/lint/misra.supp"
    # Early return (15.5, disapplied for src/core) and a non-boolean condition (14.4, required).
    printf '#include <stdint.h>\nint f(int a);\nint f(int a)\n{\n    if (a > 0) {\n        return 1;\n    }\n    return 0;\n}\n' >"$d/src/core/ok.c"
    printf '#include <stdint.h>\nint g(int a);\nint g(int a)\n{\n    int r = 0;\n    if (a) {\n        r = 1;\n    }\n    return r;\n}\n' >"$d/src/shim/s/bad.c"
    # A product calls both, so that pass 2 (unusedFunction) has nothing to say.
    printf 'int f(int a);\nint g(int a);\nint main(void)\n{\n    return f(1) + g(1);\n}\n' >"$d/src/shim/s/main.c"
    local gate=("$PWD/tools/lint/cppcheck.sh" out)
    mg() { env -C "$d" LINT_SRC="src/shim/s/main.c $1" MISRA_SUMMARY=sum.md "${gate[@]}"; }
    expect_pass "misra gate: a disapplied rule in a listed file passes" mg src/core/ok.c
    if grep -q '^| 15.5 | Advisory | disapplied | 1 | SVD-MISRA-901, disapplied: src/core/ok.c (1)' "$d/sum.md" &&
       grep -q '^| 14.4 | Required | compliant | 0 |' "$d/sum.md"; then
        ok "misra gate: the summary gives each rule its status, count and file"; else bad "misra gate: summary"; cat "$d/sum.md"; fi
    expect_fail "misra gate: a required-rule finding no deviation covers fails" mg "src/core/ok.c src/shim/s/bad.c"
    if grep -q 'src/shim/s/bad.c:6:.*misra-c2012-14.4 (Required): no deviation covers it' "$t/out"; then
        ok "misra gate: names the finding"; else bad "misra gate: finding not named"; cat "$t/out"; fi
    cp "$d/src/core/ok.c" "$d/src/shim/s/ok2.c"
    expect_fail_with "ok2.c:[0-9]+:[0-9]+: misra-c2012-15.5 \\(Advisory\\): no deviation" "misra gate: the disapplied rule outside its files fails" mg "src/core/ok.c src/shim/s/ok2.c"
    rm "$d/src/shim/s/ok2.c"
    # A deviation whose sites were reviewed one by one (PATH=N) holds its file to N findings.
    local one='SVD-MISRA-901 15.5 disapplied src/core/*.c\n'
    printf "$one"'SVD-MISRA-902 14.4 deviated src/shim/s/bad.c=1\n' >"$d/tools/lint/misra.supp"
    expect_pass "misra gate: a reviewed deviation whose file has its N sites passes" mg "src/core/ok.c src/shim/s/bad.c"
    if grep -q '^| 14.4 | Required | deviated, reviewed site by site | 1 | SVD-MISRA-902, deviated: src/shim/s/bad.c (1, reviewed) |' "$d/sum.md"; then
        ok "misra gate: the summary marks the file and the rule reviewed"; else bad "misra gate: reviewed file not marked"; cat "$d/sum.md"; fi
    printf "$one"'SVD-MISRA-902 14.4 deviated src/shim/s/bad.c=2\n' >"$d/tools/lint/misra.supp"
    expect_fail_with "bad.c has 1 findings, 2 reviewed: correct the count" "misra gate: a reviewed site gone (count too high) fails" \
        mg "src/core/ok.c src/shim/s/bad.c"
    printf "$one"'SVD-MISRA-902 14.4 deviated src/shim/s/bad.c=1\n' >"$d/tools/lint/misra.supp"
    cp "$d/src/shim/s/bad.c" "$t/bad.c.orig"
    sed -i 's/^    return r;/    if (r) {\n        r = 2;\n    }\n    return r;/' "$d/src/shim/s/bad.c"
    expect_fail_with "bad.c has 2 findings, 1 reviewed site by site: review the new one" \
        "misra gate: a new site in a reviewed file fails until it is reviewed" mg "src/core/ok.c src/shim/s/bad.c"
    cp "$t/bad.c.orig" "$d/src/shim/s/bad.c"
    printf "$one"'SVD-MISRA-902 14.4 deviated src/shim/s/*.c=1\n' >"$d/tools/lint/misra.supp"
    expect_fail_with "a reviewed count needs one path" "misra gate: a reviewed count on a glob fails" mg "src/core/ok.c src/shim/s/bad.c"
    printf "$one" >"$d/tools/lint/misra.supp"
    sed -i 's/    if (a) {/    if (a) { \/\* cppcheck-suppress misra-c2012-14.4 \*\//' "$d/src/shim/s/bad.c"
    expect_fail_with "bad.c:6: suppression .misra-c2012-14.4. without a deviation ID" "misra gate: an inline suppression without an ID fails" mg "src/core/ok.c src/shim/s/bad.c"
    sed -i 's/misra-c2012-14.4 \*\//misra-c2012-14.4 ; SVD-DEV-902 \*\//' "$d/src/shim/s/bad.c"
    expect_fail_with "SVD-DEV-902 is not in" "misra gate: an inline suppression whose ID is not in the register fails" mg "src/core/ok.c src/shim/s/bad.c"
    sed -i 's/SVD-DEV-902/SVD-DEV-901/' "$d/src/shim/s/bad.c"
    expect_pass "misra gate: an inline suppression with a registered ID passes" mg "src/core/ok.c src/shim/s/bad.c"
    expect_fail_with "SVD-MISRA-901 \\(rule 15.5\\) covers no finding" "misra gate: a deviation no finding needs (stale) fails" mg src/shim/s/bad.c
    printf 'SVD-MISRA-901 9.1 deviated src/core/*.c\n' >"$d/tools/lint/misra.supp"
    expect_fail_with "rule 9.1 is mandatory" "misra gate: a mandatory rule can not be deviated" mg src/core/ok.c
    printf 'SVD-MISRA-901 14.4 disapplied src/**\n' >"$d/tools/lint/misra.supp"
    expect_fail_with "rule 14.4 is required: only an advisory rule" "misra gate: a required rule can not be disapplied" mg src/shim/s/bad.c
    # Every deviation ID of the real tree is documented (what the gate checks on the tree).
    local missing=0
    for id in $(grep -ohE 'SVD-(MISRA|DEV)-[0-9]{3}' tools/lint/misra.supp $(find src -name '*.[ch]') | sort -u); do
        grep -q "$id" docs/misra-deviations.md || { echo "    $id not in docs/misra-deviations.md"; missing=1; }
    done
    if [ $missing = 0 ]; then ok "every deviation ID of the tree is documented"; else bad "undocumented deviation IDs"; fi
}

# REQ: REQ-GATE-006 REQ-GATE-007
test_coverage_gate() {
    mkdir -p "$t/cov/src/core" "$t/cov/src/shim/s"
    printf 'int a;\n' >"$t/cov/src/core/x.c"; printf 'int b;\n' >"$t/cov/src/shim/s/y.c"
    cat >"$t/full.info" <<I
SF:$t/cov/src/core/x.c
DA:1,1
DA:2,3
BRDA:2,0,0,1
BRDA:2,0,1,2
end_of_record
SF:$t/cov/src/shim/s/y.c
DA:1,1
DA:2,0
DA:3,1
DA:4,1
DA:5,1
DA:6,1
DA:7,1
DA:8,1
DA:9,1
DA:10,1
end_of_record
I
    expect_pass "coverage-gate: core 100/100, shim 90% passes" python3 tools/lint/covgate.py --gate "$t/full.info" "$t/cov" 100 100 90
    sed 's/^BRDA:2,0,1,2$/BRDA:2,0,1,-/' "$t/full.info" >"$t/br.info"
    expect_fail "coverage-gate: one core branch missed fails" python3 tools/lint/covgate.py --gate "$t/br.info" "$t/cov" 100 100 90
    sed 's/^DA:3,1$/DA:3,0/' "$t/full.info" >"$t/sh.info"
    expect_fail "coverage-gate: shim at 80% lines fails" python3 tools/lint/covgate.py --gate "$t/sh.info" "$t/cov" 100 100 90
    printf 'int c;\n' >"$t/cov/src/core/untested.c"
    expect_fail "coverage-gate: a core file no test ran fails" python3 tools/lint/covgate.py --gate "$t/full.info" "$t/cov" 100 100 90
    # SVD_NEVER/SVD_ALWAYS: constants only under SVD_COVERAGE, evaluated otherwise.
    cat >"$t/n.c" <<'C'
#include "safevdev/result.h"
int main(void)
{
    int hits = 0;
    if (SVD_NEVER(1 == 1)) { hits += 1; }
    if (!SVD_ALWAYS(1 == 0)) { hits += 2; }
    return hits;
}
C
    gcc -std=c11 -Iinclude "$t/n.c" -o "$t/n_rel" && gcc -std=c11 -Iinclude -DSVD_COVERAGE "$t/n.c" -o "$t/n_cov"
    local r1=0 r2=0; "$t/n_rel" || r1=$?; "$t/n_cov" || r2=$?
    if [ $r1 = 3 ] && [ $r2 = 0 ]; then ok "SVD_NEVER/ALWAYS: evaluated in release, constant under coverage"; else bad "SVD_NEVER/ALWAYS release=$r1 coverage=$r2"; fi
}

test_doc_tools() {
    # trace.py, the failure-mode table check and the coverage gate's markers,
    # each over seeded trees (their REQ tags are on the python tests).
    expect_pass "trace, FMEA check, coverage markers: tests/gate/test_doc_tools.py" python3 tests/gate/test_doc_tools.py
    grep -E '^Ran [0-9]+ tests' "$t/out" | sed 's/^/    /'
}

# REQ: REQ-GATE-021
test_object_purity() {
    # The Makefile's own purity rule over a copy of the tree whose core gets one
    # seeded object with a writable global and a malloc call; the copy without
    # it passes.
    local c="$t/pure"
    mkdir -p "$c/src"
    cp -r Makefile mk include tools "$c/" && cp -r src/core "$c/src/"
    expect_pass "purity: the core as it is passes" make -s -C "$c" purity B="$c/b"
    printf '#include <stdlib.h>\nint svd_seed_hits;\nvoid *svd_seed(void);\nvoid *svd_seed(void)\n{\n    svd_seed_hits++;\n    return malloc(4u);\n}\n' >"$c/src/core/zz_seed.c"
    expect_fail_with "zz_seed.o has [0-9]+ bytes in .bss" "purity: a writable global in a core object fails" \
        make -s -C "$c" purity B="$c/b"
    grep -q "zz_seed.o imports malloc" "$t/out" && ok "purity: the import of malloc is named" || { bad "purity: malloc not named"; cat "$t/out"; }
}

# REQ: REQ-GATE-022 REQ-VDEV-011.a REQ-VDEV-011.b REQ-VDEV-011.c REQ-VDEV-011.d
test_stack_gate() {
    # The Makefile's own stack rule over a copy of the tree. Seed 1: a frame
    # within the per-frame bound added to svd_vdev_access, the deepest entry
    # point, so that only the sum of frames along its call path is too deep;
    # seed 2: one frame over the per-frame bound. The unseeded copy passes.
    local c="$t/stack"
    mkdir -p "$c/src"
    cp -r Makefile mk include tools docs "$c/" && cp -r src/core "$c/src/"
    expect_pass "stack: the core as it is passes" make -s -C "$c" stack B="$c/b"
    local deep
    deep=$(grep -oE 'deepest svd_vdev_access [0-9]+ bytes' "$t/out" || true)
    [ -n "$deep" ] || { bad "stack: svd_vdev_access is not the deepest entry point any more: reseed"; cat "$t/out"; return; }
    local anchor='    SVD_ENSURE(v != NULL \&\& val != NULL \&\& fx != NULL, SVD_ERR_INVALID_ARG);'
    grep -q 'SVD_ENSURE(v != NULL && val != NULL && fx != NULL, SVD_ERR_INVALID_ARG);' "$c/src/core/vdev.c" ||
        { bad "stack seed: svd_vdev_access's first check not found"; return; }
    sed -i "0,/^$anchor\$/s//$anchor\n    volatile uint8_t seed[144];\n    seed[0] = 0u;\n    seed[143] = seed[0];/" "$c/src/core/vdev.c"
    expect_fail_with "stack: svd_vdev_access needs [0-9]+ bytes, more than the documented" \
        "stack: a 144-byte frame on the deepest path (each frame within bounds) fails the sum" make -s -C "$c" stack B="$c/b"
    cp src/core/vdev.c "$c/src/core/vdev.c"
    sed -i "0,/^$anchor\$/s//$anchor\n    volatile uint8_t seed[512];\n    seed[0] = 0u;\n    seed[511] = seed[0];/" "$c/src/core/vdev.c"
    expect_fail_with "vdev.c:[0-9]+:[0-9]+: error: stack usage" \
        "stack: one frame over the per-frame bound fails" make -s -C "$c" stack B="$c/b"
    # Seed 3: two core functions that call each other (each frame small, no
    # depth figure exists for a cycle); seed 4: the safety manual's budget row
    # no longer equals its macro.
    cp src/core/vdev.c "$c/src/core/vdev.c"
    printf '%s\n' 'unsigned svd_seed_ping(unsigned n);' 'unsigned svd_seed_pong(unsigned n);' \
        '__attribute__((noinline)) unsigned svd_seed_ping(unsigned n) { return (n == 0u) ? 0u : (svd_seed_pong(n - 1u) ^ n); }' \
        '__attribute__((noinline)) unsigned svd_seed_pong(unsigned n) { return (n == 0u) ? 1u : (svd_seed_ping(n - 1u) ^ n); }' \
        >>"$c/src/core/vdev.c"
    expect_fail_with "stack_depth: recursion .*svd_seed_p[io]ng" \
        "stack: two core functions calling each other (recursion) fail" make -s -C "$c" stack B="$c/b"
    cp src/core/vdev.c "$c/src/core/vdev.c"
    grep -q '^| default work budget, bytes per call | 65536 |' "$c/docs/safety-manual.md" ||
        { bad "stack seed: the manual's budget row not found"; return; }
    sed -i 's/^| default work budget, bytes per call | 65536 |/| default work budget, bytes per call | 65535 |/' "$c/docs/safety-manual.md"
    expect_fail_with "check_bounds: safety manual says default work budget, bytes per call = 65535, SVD_BUDGET_DEFAULT_BYTES is 65536" \
        "stack: a safety-manual budget figure that differs from its macro fails" make -s -C "$c" stack B="$c/b"
}

# REQ: REQ-GATE-023
test_evidence_archive() {
    # `make evidence` on a clone of HEAD with one quick stage, twice: the
    # output of an earlier run planted in the tree (a lint log, a docs page)
    # must not reach the archive; git-state.txt says the commit is not the
    # release tag; the two archives list the same members with the same
    # metadata (fixed order, mtime and owner).
    local c="$t/evidence"
    git clone -q "$PWD" "$c" 2>/dev/null || { bad "evidence: cannot clone HEAD"; return; }
    mkdir -p "$t/evb/lint" "$c/docs/html" # the build tree outside the clone: the clone stays clean
    echo stale >"$t/evb/lint/stale.log"; echo stale >"$c/docs/html/stale.html"
    expect_pass "evidence: a reduced run (purity) writes the archive" make -s -C "$c" evidence B="$t/evb" EVIDENCE_STAGES=purity
    local a="$t/evb/evidence/safevdev-$(sed -n 's/^VERSION := //p' Makefile)-evidence.tar.gz"
    [ -f "$a" ] || { bad "evidence: no archive at $a"; cat "$t/out"; return; }
    tar tzf "$a" >"$t/members" # listed first: grep -q under pipefail would make tar's SIGPIPE a miss
    if grep -qE 'stale\.(log|html)' "$t/members"; then bad "evidence: an earlier run's output was packed"; else ok "evidence: only this run's output is packed"; fi
    tar xzf "$a" -O --wildcards '*/git-state.txt' >"$t/gs"
    grep -q "^HEAD is not the release tag" "$t/gs" && grep -q "^tree clean" "$t/gs" &&
        ok "evidence: git-state says not a release, tree clean" || { bad "evidence: git-state"; cat "$t/gs"; }
    local when
    when=$(TZ=UTC git -C "$c" log -1 --format=%cd --date=format-local:'%Y-%m-%d %H:%M:%S')
    TZ=UTC tar --numeric-owner --full-time -tvzf "$a" | awk '{print $2, $4, $5}' | sort -u >"$t/meta"
    [ "$(cat "$t/meta")" = "0/0 $when" ] && ok "evidence: every member has owner 0/0 and the commit's time" ||
        { bad "evidence: member metadata is not fixed"; head -3 "$t/meta"; }
    TZ=UTC tar --numeric-owner --full-time -tvzf "$a" | awk '{print $1, $2, $4, $5, $6}' >"$t/list1"
    sleep 1 # a recipe that kept the files' own times would now differ
    make -s -C "$c" evidence B="$t/evb" EVIDENCE_STAGES=purity >"$t/out" 2>&1 || { bad "evidence: second run"; cat "$t/out"; return; }
    TZ=UTC tar --numeric-owner --full-time -tvzf "$a" | awk '{print $1, $2, $4, $5, $6}' >"$t/list2"
    cmp -s "$t/list1" "$t/list2" && ok "evidence: two runs from one commit list the same members, owners and times" ||
        { bad "evidence: member lists differ"; diff "$t/list1" "$t/list2" | head; }
}

# REQ: REQ-GATE-012
test_sanitizer_configs_catch_defects() {
    # The exact configurations the sanitizer and valgrind stages use (from make).
    printf '#include <stdlib.h>\nint main(void) { char *p = malloc(8); p[8] = 1; free(p); return 0; }\n' >"$t/ovf.c"
    # shellcheck disable=SC2086
    "$SAN_CC" -std=c11 -g $SAN_FLAGS "$t/ovf.c" -o "$t/ovf"
    expect_fail "ASan: heap overflow by one byte" "$t/ovf"
    printf '#include <stdlib.h>\nint main(void) { char *p = malloc(32); p[0] = 1; return p[0] - 1; }\n' >"$t/leak.c"
    gcc -std=c11 -O0 -g "$t/leak.c" -o "$t/leak"
    # shellcheck disable=SC2086
    expect_fail "valgrind: definite leak" $VALGRIND "$t/leak"
    printf '#include <stdint.h>\nint main(int c, char **v) { (void)v; int32_t x = INT32_MAX; return (int)(x + c) == 0; }\n' >"$t/ub.c"
    # shellcheck disable=SC2086
    "$SAN_CC" -std=c11 -g $SAN_FLAGS "$t/ub.c" -o "$t/ub"
    expect_fail "UBSan: signed overflow" "$t/ub"
}

# REQ: REQ-GATE-018
test_proof_gates_bite() {
    # An off-by-one seeded into a copy of the core must make Eva raise an alarm
    # and WP fail a goal; the unseeded copy must pass the same analyses.
    if ! command -v frama-c >/dev/null; then bad "proof gates: frama-c not installed (make deps)"; return; fi
    local c="$t/prove-core"
    mkdir -p "$c/src" && cp -r include "$c/" && cp -r src/core "$c/src/"
    grep -q 'for (size_t i = 0u; i < sizeof(prefixes); i++)' "$c/src/core/device.c" || { bad "proof seed: loop not found"; return; }
    sed -i 's/for (size_t i = 0u; i < sizeof(prefixes); i++)/for (size_t i = 0u; i <= sizeof(prefixes); i++)/' "$c/src/core/device.c"
    expect_fail "Eva: off-by-one read past a table (device.c ordered_prefix) raises an alarm" \
        python3 tests/prove/prove.py "$t/prove-eva" --root "$c" --only eva_vdev_mmio
    if grep -qE 'eva_vdev_mmio +Eva [1-9][0-9]* alarms' "$t/out" && grep -q 'device.c.*ordered_prefix' "$t/out"; then
        ok "Eva: the alarm is in ordered_prefix (not a tool failure)"; else bad "Eva: no alarm in ordered_prefix"; cat "$t/out"; fi
    cp src/core/device.c "$c/src/core/device.c"
    grep -q 'c->buf.len - c->pos >= 8u, SVD_ERR_BOUNDS);' "$c/src/core/span.c" || { bad "proof seed: cursor check not found"; return; }
    sed -i '0,/c->buf.len - c->pos >= 8u, SVD_ERR_BOUNDS);/s//c->buf.len - c->pos >= 7u, SVD_ERR_BOUNDS);/' "$c/src/core/span.c"
    expect_fail "WP and Eva: off-by-one bound in svd_cursor_read_le64 fails a goal and raises an alarm" \
        python3 tests/prove/prove.py "$t/prove-wp" --root "$c" --only wp_span --only eva_span
    if grep -q 'not proved: .*svd_cursor_read_le64' "$t/out"; then
        ok "WP: the failed goal is in svd_cursor_read_le64"; else bad "WP: no failed goal in svd_cursor_read_le64"; cat "$t/out"; fi
    if grep -A1 -E 'eva_span +Eva [1-9][0-9]* alarms' "$t/out" | grep -q 'span.c.*svd_load_le32'; then
        ok "Eva: eva_span raises the alarm in svd_load_le32 (the read past the span)"; else bad "Eva: eva_span no alarm"; cat "$t/out"; fi
    cp src/core/span.c "$c/src/core/span.c"
    # One copy, one seed per driver below: the queue drivers, a chain walk
    # that records one segment past the caller's storage (split and packed);
    # eva_fdt, a header patch allowed one byte past the buffer; eva_vdev_pci_msix,
    # a qword's second dword allowed one past the MSI-X table.
    grep -qF 'at <= w->cap - 4u' "$c/src/core/fdt.c" && grep -qF 't + 4u < MSIX_TABLE_LEN' "$c/src/core/pci.c" ||
        { bad "proof seed: fdt or MSI-X bound not found"; return; }
    sed -i 's/at <= w->cap - 4u/at <= w->cap - 3u/' "$c/src/core/fdt.c"
    sed -i 's/t + 4u < MSIX_TABLE_LEN/t + 4u <= MSIX_TABLE_LEN/' "$c/src/core/pci.c"
    local segs='    if (w->nsegs < c->cap) {'
    grep -qF "$segs" "$c/src/core/virtqueue.c" && grep -qF "$segs" "$c/src/core/vq_packed.c" ||
        { bad "proof seed: segment bound not found"; return; }
    sed -i 's/^    if (w->nsegs < c->cap) {$/    if (w->nsegs <= c->cap) {/' "$c/src/core/virtqueue.c" "$c/src/core/vq_packed.c"
    expect_fail "Eva: a segment stored past the chain's storage (split and packed walks) raises an alarm" \
        python3 tests/prove/prove.py "$t/prove-vq" --root "$c" --only eva_vq_split_plain --only eva_vq_split_event \
        --only eva_vq_packed_plain --only eva_vq_packed_event --only eva_fdt --only eva_vdev_pci_msix
    local d
    for d in eva_vq_split_plain:virtqueue.c.*vq_walk_buffer eva_vq_split_event:virtqueue.c.*vq_walk_buffer \
             eva_vq_packed_plain:vq_packed.c.*vqp_buffer eva_vq_packed_event:vq_packed.c.*vqp_buffer \
             eva_fdt:fdt.c.*patch_be32 eva_vdev_pci_msix:pci.c.*table_; do
        if grep -A1 -E "${d%%:*} +Eva [1-9][0-9]* alarms" "$t/out" | grep -qE "${d#*:}"; then
            ok "Eva: ${d%%:*} raises the alarm in ${d#*:}"; else bad "Eva: ${d%%:*} no alarm in ${d#*:}"; cat "$t/out"; fi
    done
    cp src/core/virtqueue.c src/core/vq_packed.c src/core/fdt.c src/core/pci.c "$c/src/core/"
    expect_pass "Eva + WP: the unseeded copy passes" \
        python3 tests/prove/prove.py "$t/prove-ok" --root "$c" --only eva_vdev_mmio --only wp_span
}

test_banned_calls
test_core_purity
test_object_purity
test_stack_gate
test_evidence_archive
test_sanitizer_configs_catch_defects
test_analyzers_catch_defects
test_unused_function_gate
test_misra_gate
test_coverage_gate
test_doc_tools
test_proof_gates_bite
echo "gate-selftest: $pass passed, $fail failed"
[ $fail = 0 ]
