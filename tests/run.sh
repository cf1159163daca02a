#!/usr/bin/env bash
# The whole test suite: a -Werror build, an ASan+UBSan build and a TSan build, each running its
# tests with ctest. Usage: tests/run.sh [normal|asan|tsan]... (default: all three)
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)
configs=("$@")
[ ${#configs[@]} -eq 0 ] && configs=(normal asan tsan)
failed=()
for c in "${configs[@]}"; do
  case "$c" in
    normal) dir=build-test; flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DBRUM_WERROR=ON); label=(); ;;
    asan)   dir=build-asan; flags=(-DCMAKE_BUILD_TYPE=Debug -DBRUM_WERROR=ON -DBRUM_SANITIZE=address); label=(); ;;
    tsan)   dir=build-tsan; flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DBRUM_WERROR=ON -DBRUM_SANITIZE=thread); label=(); ;;
    *) echo "unknown config '$c' (normal, asan, tsan)" >&2; exit 2 ;;
  esac
  echo "=== $c build ($dir)"
  cmake -S . -B "$dir" "${flags[@]}" >/dev/null
  cmake --build "$dir" -j"$jobs"
  echo "=== $c tests"
  export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=0"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
  export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$PWD/tests/tsan.supp"
  if ! ctest --test-dir "$dir" --output-on-failure -j"$jobs" "${label[@]}"; then
    failed+=("$c")
  fi
done
if [ ${#failed[@]} -ne 0 ]; then
  echo "FAILED: ${failed[*]}"
  exit 1
fi
echo "all test configurations passed: ${configs[*]}"
