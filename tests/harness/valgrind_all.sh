#!/usr/bin/env bash
# `make harness-valgrind`: every harness program (every qvm adapter's tests)
# under valgrind memcheck, with the Makefile's VALGRIND: any memory error and
# any definite, indirect or possible leak makes valgrind exit 1, which fails
# the run and names the program. The environment (the adapters' .so paths,
# HQ_VALGRIND=1) comes from make.
# usage: valgrind_all.sh PROGRAM...   (VALGRIND from the environment)
set -uo pipefail
: "${VALGRIND:?set by make harness-valgrind}"

# REQ: REQ-QVM-013.e
every_harness_program_clean_under_memcheck() {
    local n=0 t
    for t in "$@"; do
        echo "--- $t"
        # shellcheck disable=SC2086 # VALGRIND is a command line
        if ! $VALGRIND "$t"; then
            echo "harness-valgrind: $t: memcheck reported an error or a leak (or the program failed)"
            return 1
        fi
        n=$((n + 1))
    done
    [ "$n" -gt 0 ] || { echo "harness-valgrind: no program given"; return 1; }
    echo "harness-valgrind: $n test programs clean under memcheck (errors and leaks)"
}

every_harness_program_clean_under_memcheck "$@"
