#!/usr/bin/env bash
# cppcheck gate, three passes; prints every finding and a count, exit 1 on any.
#  1. src/ with --enable=all --inconclusive (unusedFunction moved to pass 2).
#  2. unusedFunction over src/ alone: the products (the core, the qvm
#     adapters, the vhost-user daemon) are the only callers that count, so a
#     public function only tests or tools call is reported. A public function
#     kept for hosts outside src/ carries an inline suppression with its
#     SVD-DEV ID (docs/misra-deviations.md); a suppression no longer needed
#     (the function got a caller in src/) is reported too.
#  3. every C file of src/ with the MISRA C:2012 addon (rule numbers and
#     categories only: the rule texts are licensed, tools/lint/misra-rules.txt),
#     judged by tools/lint/misra_gate.py against the per-file deviations of
#     tools/lint/misra.supp and the per-line ones in the code (docs/misra-deviations.md),
#     which also writes the compliance summary per rule (MISRA_SUMMARY).
# usage: cppcheck.sh BUILD_DIR INCLUDE_FLAGS...   (file lists from the env:
#   LINT_SRC, LINT_HDRS; MISRA_SUMMARY: where the summary goes)
set -uo pipefail
out=$1; shift
incs=("$@")
mkdir -p "$out"
tmpl='{file}:{line}:{column}: {severity}: {id}: {message}'
# Every pass: C11, inline suppressions, findings only, in the template above.
base=(--std=c11 --inline-suppr --quiet --template="$tmpl")
common=("${base[@]}" --error-exitcode=1 --library=posix -D__GNUC__ -D__x86_64__ --suppress=missingIncludeSystem)
total=0
run() { # label, logfile, args...
    local label=$1 log=$2; shift 2
    cppcheck "$@" >"$log" 2>&1
    local n
    # Inline MISRA and unusedFunction suppressions are judged by their own
    # passes (3 and 2), not here.
    grep -vE 'unmatchedSuppression: Unmatched suppression: (misra-|unusedFunction$)' "$log" >"$log.f" || true
    n=$(grep -cE '^[^ ]+:[0-9]+:[0-9]+: ' "$log.f")
    grep -E '^[^ ]+:[0-9]+:[0-9]+: ' "$log.f"
    # cppcheck itself failing (bad option, crash) is a failure too.
    if [ "$n" = 0 ] && grep -qiE '^(cppcheck: error|error:|Bailing)' "$log"; then cat "$log"; n=1; fi
    echo "$label: $n findings"
    total=$((total + n))
}
# shellcheck disable=SC2086
run "cppcheck(all)" "$out/all.log" "${common[@]}" --enable=all --inconclusive \
    --suppress=unusedFunction "${incs[@]}" $LINT_SRC
# shellcheck disable=SC2086
cppcheck "${base[@]}" --enable=unusedFunction,information --library=posix -D__GNUC__ "${incs[@]}" \
    $LINT_SRC >"$out/uf.log" 2>&1
uf=$(grep -E '^[^ ]+:[0-9]+:[0-9]+: [a-z]+: (unusedFunction:|unmatchedSuppression: Unmatched suppression: unusedFunction$)' \
    "$out/uf.log")
n=$(printf '%s' "$uf" | grep -c . || true)
[ -n "$uf" ] && echo "$uf"
# cppcheck itself failing (bad option, crash) is a failure too.
if [ "$n" = 0 ] && grep -qiE '^(cppcheck: error|error:|Bailing)' "$out/uf.log"; then cat "$out/uf.log"; n=1; fi
echo "cppcheck(unusedFunction, src/ only): $n findings"
total=$((total + n))
# Pass 3: the MISRA addon over every C file of src/ (core and shims together,
# so a header is judged once), without a suppression list: every finding is
# in the log, and tools/lint/misra_gate.py judges it against the per-file
# deviations and writes the per-rule compliance summary.
# LINT_MISRA_SRC (default LINT_SRC) names the files; empty skips the pass.
misra_src=${LINT_MISRA_SRC-$LINT_SRC}
if [ -n "${misra_src// }" ]; then
s=$(date +%s)
# shellcheck disable=SC2086
cppcheck "${base[@]}" --addon=tools/lint/misra.json --library=tools/lint/svd.cfg -USVD_COVERAGE -D_GNU_SOURCE \
    -Iinclude "${incs[@]}" $misra_src >"$out/misra.log" 2>&1
if grep -qiE '^(cppcheck: error|error:|Bailing)|Traceback' "$out/misra.log"; then cat "$out/misra.log"; total=$((total + 1)); fi
# shellcheck disable=SC2086
python3 tools/lint/misra_gate.py "$out/misra.log" tools/lint/misra.supp tools/lint/misra-rules.txt \
    docs/misra-deviations.md "${MISRA_SUMMARY:-$out/misra-summary.md}" $misra_src ${LINT_HDRS:-} >"$out/misra-gate.log"
rc=$?
cat "$out/misra-gate.log"
# One line per error after the summary line.
n=$(( $(grep -c '^misra-gate: ' "$out/misra-gate.log") - 1 ))
[ $rc != 0 ] && [ "$n" -le 0 ] && n=1
echo "cppcheck(misra src/): $n findings ($(( $(date +%s) - s )) s)"
total=$((total + n))
fi
echo "cppcheck: $total findings"
[ "$total" = 0 ]
