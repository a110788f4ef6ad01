#!/bin/sh
# Run libFuzzer targets for a fixed wall time each, JOBS at a time.
#   fuzz_run.sh FUZZ_DIR SECONDS JOBS NAME...
# Each target works on a copy of its committed seeds in FUZZ_DIR/work/NAME and
# keeps its own log FUZZ_DIR/NAME.log; crashes land in FUZZ_DIR/crash/. A
# libFuzzer process is single-threaded, so with JOBS no larger than the cores
# each target gets the same CPU time it would get alone: running them side by
# side shortens the stage without shortening any target's search. The summary
# lines are printed in NAME order once all targets are done; the exit status is
# non-zero when any target failed (its log tail is printed).
set -eu
dir=$1; secs=$2; jobs=$3; shift 3
mkdir -p "$dir/crash"

run_one() {
  n=$1
  w=$dir/work/$n
  mkdir -p "$w"
  if [ -d "tests/fuzz/corpus/$n" ]; then cp -n "tests/fuzz/corpus/$n"/* "$w"/ 2>/dev/null || true; fi
  log=$dir/$n.log
  if "$dir/bin/$n" -max_total_time="$secs" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
       -artifact_prefix="$dir/crash/$n-" "$w" >"$log" 2>&1; then st=ok; else st=FAILED; fi
  execs=$(awk '/stat::number_of_executed_units/ {print $2}' "$log")
  t=$(grep -oE 'Done [0-9]+ runs in [0-9]+ second' "$log" | awk '{print $5}')
  rate=$(awk -v e="${execs:-0}" -v s="${t:-0}" 'BEGIN { if (s > 0) printf "%d", e / s; else print "n/a" }')
  cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | awk '{print $2}')
  printf 'fuzz %-16s %-6s execs=%s exec/s=%s time=%ss cov=%s corpus=%s\n' "$n" "$st" "${execs:-?}" "$rate" \
    "${t:-?}" "${cov:-?}" "$(ls "$w" | wc -l)" >"$dir/$n.sum"
}

names="$*"
for n in $names; do rm -f "$dir/$n.sum"; done

# Start targets until JOBS are running; wait for the oldest before starting the next.
pids=""
for n in $names; do
  run_one "$n" &
  pids="$pids $!"
  set -- $pids
  if [ $# -ge "$jobs" ]; then wait "$1" || true; shift; pids="$*"; fi
done
wait

fail=0
for n in $names; do
  if [ -f "$dir/$n.sum" ]; then cat "$dir/$n.sum"; else echo "fuzz $n: no summary (runner died)"; fail=1; continue; fi
  if grep -q ' FAILED ' "$dir/$n.sum"; then fail=1; tail -40 "$dir/$n.log"; fi
done
exit $fail
