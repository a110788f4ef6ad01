#!/usr/bin/env bash
# Run test programs JOBS at a time, each with PREFIX in front of it (a wrapper
# such as valgrind, environment assignments), each into a log of its own.
#   run_par.sh STAGE RESULT JOBS PREFIX PROGRAM...
# Prints "--- PROGRAM" and its output for every program in the order given
# (as run_each prints them, each block once the program and every one before
# it are done), then "STAGE: <n> test programs RESULT" when all passed, or
# names the failed ones and exits 1. For programs that share nothing (no
# fixed paths, ports or files): the unit tests under valgrind.
set -u
stage=$1 result=$2 jobs=$3 prefix=$4; shift 4
d=$(mktemp -d); trap 'rm -rf "$d"' EXIT
progs=("$@") n=$# next=0 shown=0 running=0 failed=()
declare -A slot=()
declare -a st=()
while [ $shown -lt $n ]; do
    while [ $running -lt "$jobs" ] && [ $next -lt $n ]; do
        # shellcheck disable=SC2086
        eval "$prefix \"\${progs[next]}\"" >"$d/$next.log" 2>&1 &
        slot[$!]=$next; next=$((next + 1)); running=$((running + 1))
    done
    if [ $running -gt 0 ]; then
        rc=0; wait -n -p pid || rc=$?
        st[${slot[$pid]}]=$rc; unset "slot[$pid]"; running=$((running - 1))
    fi
    while [ $shown -lt $n ] && [ -n "${st[shown]:-}" ]; do
        echo "--- ${progs[shown]}"
        cat "$d/$shown.log"
        [ "${st[shown]}" = 0 ] || failed+=("${progs[shown]} (exit ${st[shown]})")
        shown=$((shown + 1))
    done
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "$stage: ${#failed[@]} of $n test programs failed: ${failed[*]}"
    exit 1
fi
echo "$stage: $n test programs $result"
