#!/usr/bin/env bash
# REQ: REQ-GATE-001 REQ-GATE-002
# cppcheck gate, three passes; prints every finding and a count, exit 1 on any.
#  1. src/ with --enable=all --inconclusive (unusedFunction moved to pass 2).
#  2. unusedFunction over src/ *together with its callers* (tests, tools):
#     the core is a library, its API is called from shims and tests only, so
#     the check is only meaningful with the callers in view. Only findings in
#     src/ count.
#  3. src/core with the MISRA C:2012 addon (rule IDs only: the rule texts are
#     not shipped). Disapplied advisory rules and scoped deviations are in
#     tools/lint/misra.supp and docs/misra-deviations.md.
# usage: cppcheck.sh BUILD_DIR INCLUDE_FLAGS...   (file lists from the env:
#   LINT_SRC, LINT_CORE_SRC, LINT_CALLERS)
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
    # Inline MISRA suppressions are judged by the MISRA pass, not here.
    grep -vE 'unmatchedSuppression: Unmatched suppression: misra-' "$log" >"$log.f" || true
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
mkdir -p "$out/uf"
# shellcheck disable=SC2086
cppcheck "${base[@]}" --enable=unusedFunction --library=posix -D__GNUC__ "${incs[@]}" -Itests/common \
    $LINT_SRC $LINT_CALLERS >"$out/uf.log" 2>&1
uf=$(grep -E '^src/[^ ]+:[0-9]+:[0-9]+: [a-z]+: unusedFunction:' "$out/uf.log")
n=$(printf '%s' "$uf" | grep -c . || true)
[ -n "$uf" ] && echo "$uf"
echo "cppcheck(unusedFunction, with callers): $n findings"
total=$((total + n))
if [ -n "${LINT_CORE_SRC// }" ]; then
    mkdir -p "$out/misra"
    # shellcheck disable=SC2086
    run "cppcheck(misra src/core)" "$out/misra.log" "${base[@]}" --error-exitcode=1 --addon=misra --library=tools/lint/svd.cfg -USVD_COVERAGE \
        --suppressions-list=tools/lint/misra.supp -Iinclude $LINT_CORE_SRC
fi
echo "cppcheck: $total findings"
[ "$total" = 0 ]
