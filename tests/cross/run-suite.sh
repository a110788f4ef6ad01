#!/bin/bash
# Run cmocka test programs one at a time, each under EMULATOR (e.g.
# qemu-aarch64; empty: natively), stop at the first failure, and print the
# totals: "LABEL: P programs, N passed, 0 failed" (N = cmocka's PASSED counts).
# A list that is empty, or a program that reports no passed test, fails: a
# suite that ran nothing must not look green.
# usage: run-suite.sh LABEL EMULATOR PROGRAM...
# (cross-aarch64 and cross-s390x run every unit and harness program with it under qemu-user.)
# REQ: REQ-PORT-002
set -uo pipefail
label=${1:?usage: run-suite.sh LABEL EMULATOR PROGRAM...}
emu=${2?usage: run-suite.sh LABEL EMULATOR PROGRAM...}
shift 2
[ $# -gt 0 ] || { echo "$label: no test programs (the build's list is empty)"; exit 1; }
log=$(mktemp)
trap 'rm -f "$log"' EXIT
progs=0
passed=0
for t in "$@"; do
	echo "--- ${emu:+$emu }$t"
	rc=0
	$emu "$t" >"$log" 2>&1 || rc=$?
	cat "$log"
	n=$(sed -n 's/^\[  PASSED  \] \([0-9][0-9]*\) test(s)\.$/\1/p' "$log" | awk '{s += $1} END {print s + 0}')
	if [ "$rc" != 0 ]; then
		echo "$label: $t FAILED (exit status $rc)"
		exit 1
	fi
	if [ "$n" = 0 ]; then
		echo "$label: $t reported no passed test"
		exit 1
	fi
	progs=$((progs + 1))
	passed=$((passed + n))
done
echo "$label: $progs programs, $passed passed, 0 failed"
