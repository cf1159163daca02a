#!/usr/bin/env bash
# The whole test suite. Configurations, run in this order by default:
#   normal    -Werror build (build-test), every ctest test (unit, e2e, concurrency)
#   asan      ASan+UBSan build (build-asan), every ctest test but those labelled no-sanitize
#   tsan      TSan build (build-tsan): the concurrency programs and the e2e tests but those
#             labelled no-sanitize (Criterion cannot run under TSan); any TSan report, also from
#             brum inside tmux, fails
#   (no-sanitize: e2e tests that run none of brum's code, see tests/CMakeLists.txt)
#   fuzz      libFuzzer targets (tests/fuzz/run.sh), $BRUM_FUZZ_SECONDS (default 30) each
#   lint      clang-format check (.ci/format.sh), no function over 80 lines in core/ and tui/
#             (.ci/funclen.py), cppcheck (.ci/cppcheck.sh)
#   valgrind  memcheck on headless runs of the normal build (tests/valgrind.sh)
#   package   `cmake --install` (tree, man page, completions: tests/pkg/test_install.sh) and the
#             Debian package installed with apt in a clean Debian 12 root (tests/pkg/test_deb.sh;
#             root or sudo, and the network)
# Usage: tests/run.sh [normal|asan|tsan|fuzz|lint|valgrind|package]...
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)
configs=("$@")
[ ${#configs[@]} -eq 0 ] && configs=(normal asan tsan fuzz lint valgrind package)
failed=()
times=()
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp:print_suppressions=0"
# test_mcp installs the MCP SDK (npm, 5-15 s) where this says: once, not once per build directory
export BRUM_MCP_SDK_DIR=${BRUM_MCP_SDK_DIR:-$PWD/build-npm/mcp-sdk}

# ctest_config NAME DIR LABEL E2E_EXCLUDE CMAKE_FLAGS...: configure, build and run ctest: the tests
# labelled LABEL other than e2e ('': all of them), then the e2e tests except those labelled
# E2E_EXCLUDE ('': none).
# The e2e tests run with twice as many jobs as there are cores ($BRUM_E2E_JOBS overrides): they
# spend their time waiting (tmux polling every 50 ms, slow readers, children's sleeps), not on the
# CPU. On a loaded 2-core VM the e2e label took 138 s with -j1 and 43-51 s with -j4 (4 runs, all
# passed); under ASan 64-79 s with -j4 (3 runs, all passed; 243 s of tests). Unit tests (Criterion
# --jobs 2 each) and the stress programs are CPU-bound and keep one job per core. Under TSan the
# e2e label took 215 s with -j2 and 97-107 s with -j4 (3 runs, all passed, no reports).
ctest_config() {
  local c=$1 dir=$2 label=$3 e2e_ex=$4; shift 4
  echo "=== $c build ($dir)"
  cmake -S . -B "$dir" "$@" >/dev/null || return 1
  cmake --build "$dir" -j"$jobs" || return 1
  local sel=(-LE e2e) rc=0
  [ -n "$label" ] && sel=(-L "$label" -LE e2e)
  # BRUM_TEST_CONFIG tells a test which configuration runs it (e.g. to skip RSS bounds under TSan)
  echo "=== $c tests"
  BRUM_TEST_CONFIG=$c ctest --test-dir "$dir" --output-on-failure -j"$jobs" "${sel[@]}" || rc=1
  sel=(-L e2e)
  [ -n "$e2e_ex" ] && sel+=(-LE "$e2e_ex")
  echo "=== $c e2e tests"
  BRUM_TEST_CONFIG=$c ctest --test-dir "$dir" --output-on-failure -j"${BRUM_E2E_JOBS:-$((jobs * 2))}" \
    "${sel[@]}" || rc=1
  return $rc
}

run_config() {
  case "$1" in
    normal) ctest_config normal build-test '' '' -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBRUM_WERROR=ON ;;
    # no-sanitize (tests/CMakeLists.txt): e2e tests that run none of brum's code
    asan) ctest_config asan build-asan '' no-sanitize -DCMAKE_BUILD_TYPE=Debug -DBRUM_WERROR=ON \
            -DBRUM_SANITIZE=address ;;
    tsan)
      # Reports go to files as well as halting: brum's stderr is invisible inside tmux.
      rm -rf build-tsan/tsan-reports && mkdir -p build-tsan/tsan-reports
      local rc=0
      TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$PWD/tests/tsan.supp log_path=$PWD/build-tsan/tsan-reports/report" \
        ctest_config tsan build-tsan concurrency no-sanitize -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DBRUM_WERROR=ON -DBRUM_SANITIZE=thread || rc=1
      if compgen -G 'build-tsan/tsan-reports/report*' >/dev/null; then
        echo "ThreadSanitizer reports:"
        cat build-tsan/tsan-reports/report*
        rc=1
      fi
      return $rc ;;
    fuzz) bash tests/fuzz/run.sh "${BRUM_FUZZ_SECONDS:-30}" ;;
    lint) bash .ci/format.sh && python3 .ci/funclen.py core/*.c tui/*.c && bash .ci/cppcheck.sh ;;
    valgrind)
      echo "=== valgrind (build-test)"
      cmake -S . -B build-test -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBRUM_WERROR=ON >/dev/null &&
        cmake --build build-test -j"$jobs" --target brum && bash tests/valgrind.sh build-test ;;
    package)
      echo "=== package (build-pkg)"
      cmake -S . -B build-pkg -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=/usr \
        >/dev/null && cmake --build build-pkg -j"$jobs" --target brum &&
        bash tests/pkg/test_install.sh build-pkg && bash tests/pkg/test_deb.sh build-pkg ;;
    *) echo "unknown config '$1' (normal, asan, tsan, fuzz, lint, valgrind, package)" >&2; exit 2 ;;
  esac
}

for c in "${configs[@]}"; do
  t0=$(date +%s)
  if ! run_config "$c"; then failed+=("$c"); fi
  times+=("$c $(( $(date +%s) - t0 ))s")
done
echo "=== time per configuration: ${times[*]}"
if [ ${#failed[@]} -ne 0 ]; then
  echo "FAILED: ${failed[*]}"
  exit 1
fi
echo "all test configurations passed: ${configs[*]}"
