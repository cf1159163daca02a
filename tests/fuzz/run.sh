#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan+UBSan, build-fuzz/) and runs each for SECONDS
# (default 45, or $BRUM_FUZZ_SECONDS) on its seed corpus tests/fuzz/corpus/<target>/. New inputs
# go to build-fuzz/corpus/<target>/ (the checked-in seeds are only read). A crash, leak, timeout
# or sanitizer report fails the run; the input is saved as build-fuzz/artifacts/<target>-*:
# fix the bug, then add that file to tests/fuzz/corpus/<target>/ as a regression seed, named
# regress-WHAT (.gitignore ignores crash-*).
# Usage: tests/fuzz/run.sh [SECONDS] [TARGET...]   (targets: ansi detect pkg theme yaml)
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-${BRUM_FUZZ_SECONDS:-45}}
[ $# -gt 0 ] && shift
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(ansi detect pkg theme yaml)
jobs=$(nproc 2>/dev/null || echo 2)
dir=build-fuzz
cc=${CC:-clang}
case "$($cc --version 2>/dev/null)" in *clang*) ;; *) cc=clang ;; esac

echo "=== fuzz build ($dir, $cc)"
CC=$cc cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBRUM_FUZZ=ON >/dev/null
cmake --build "$dir" -j"$jobs" --target "${targets[@]/#/fuzz_}"

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
mkdir -p "$dir/artifacts" "$dir/logs"
run_one() {
  local t=$1 work="$dir/corpus/$1"
  mkdir -p "$work"
  "$dir/tests/fuzz/fuzz_$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$dir/artifacts/$t-" \
    "$work" "tests/fuzz/corpus/$t" >"$dir/logs/$t.log" 2>&1
}
echo "=== fuzzing ${targets[*]}: ${secs} s each, $jobs at a time"
declare -A pids
failed=()
running=0
for t in "${targets[@]}"; do
  run_one "$t" & pids[$t]=$!
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then wait -n || true; running=$((running - 1)); fi
done
for t in "${targets[@]}"; do
  if wait "${pids[$t]}"; then
    echo "fuzz_$t: ok ($(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$dir/logs/$t.log" | grep -Eo '[0-9]+$' || echo '?') runs, corpus $(find "$dir/corpus/$t" -type f | wc -l) new inputs)"
  else
    failed+=("$t")
    echo "fuzz_$t: FAILED (log: $dir/logs/$t.log)"
    grep -E 'ERROR: |SUMMARY: |Test unit written to|runtime error' "$dir/logs/$t.log" | head -20 || true
  fi
done
if [ ${#failed[@]} -ne 0 ]; then
  echo "fuzzing found problems in: ${failed[*]}"
  exit 1
fi
echo "fuzzing: no findings"
