#!/usr/bin/env bash
# Valgrind memcheck on headless end-to-end runs of the demo project with a normal (not
# sanitizer) build: no invalid access, no use of uninitialised memory, no leak
# ("definitely lost: 0", "indirectly lost: 0"). "Possibly lost" is not an error: liburcu's
# call_rcu worker thread is created on the first call_rcu and never joined, so its thread
# block stays allocated at exit; it is liburcu's, and valgrind lists it as possibly lost.
# Children are not traced (they are the project's scripts, not brum).
# Valgrind 3.19 (Debian 12) does not know pidfd_open(2) (syscall 434): brum then falls back to
# polling waitpid for its children (as on kernels before 5.3), so the whole output path runs.
# Usage: tests/valgrind.sh [BUILD_DIR]   (default build-test, the normal build of tests/run.sh)
set -uo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-test}
brum="$build/brum"
command -v valgrind >/dev/null || { echo "valgrind is not installed (.ci/install-deps)" >&2; exit 2; }
[ -x "$brum" ] || { echo "no $brum: build it first (cmake -B $build && cmake --build $build)" >&2; exit 2; }
if ldd "$brum" | grep -qE 'libasan|libtsan'; then
  echo "$brum is a sanitizer build; valgrind needs a normal one" >&2; exit 2
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# brum's control socket and its one-instance-per-root lock in a private directory: no clash with
# a brum (or another test) running on the demo project
export XDG_RUNTIME_DIR=$tmp/run
mkdir -m 700 "$XDG_RUNTIME_DIR"
passed=0 failed=0

# vg NAME EXPECTED_EXIT ARGS...: runs brum under memcheck and checks its report.
vg() {
  local name=$1 want=$2; shift 2
  local log="$tmp/$name.vg"
  valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite,indirect \
    --errors-for-leak-kinds=definite,indirect --track-origins=yes --error-exitcode=99 \
    --log-file="$log" "$brum" --log "$tmp/brum.log" "$@" >"$tmp/$name.out" 2>&1
  local rc=$?
  local ok=1 note=""
  grep -q 'unhandled amd64-linux syscall: 434' "$log" && note=", waitpid polling: no pidfd_open under this valgrind"
  if [ "$rc" -eq 99 ]; then echo "  memcheck reported errors"; ok=0; fi
  if [ "$rc" -ne 99 ] && [ "$rc" -ne "$want" ]; then echo "  brum exited $rc, want $want"; ok=0; fi
  # "All heap blocks were freed" means nothing was lost at all
  if ! grep -q 'All heap blocks were freed' "$log"; then
    grep -q 'definitely lost: 0 bytes in 0 blocks' "$log" || { echo "  definitely lost is not 0"; ok=0; }
    grep -q 'indirectly lost: 0 bytes in 0 blocks' "$log" || { echo "  indirectly lost is not 0"; ok=0; }
  fi
  grep -q 'ERROR SUMMARY: 0 errors' "$log" || { echo "  errors in the report"; ok=0; }
  if [ "$ok" -eq 1 ]; then
    passed=$((passed + 1))
    echo "ok - $name ($(grep -Eo 'definitely lost: [0-9,]+ bytes' "$log" || echo 'definitely lost: 0 bytes')$note)"
  else
    failed=$((failed + 1))
    echo "FAIL - $name (valgrind log follows)"
    sed 's/^/    /' "$log"
  fi
}

demo=examples/demo
# build, test and lint of the demo (one of them fails on purpose: exit 1)
vg demo_pty 1 --headless --shell -d "$demo" build test lint
vg demo_no_pty 1 --headless --shell --no-pty -d "$demo" build test lint
# the children really ran and their output went through the parser, detection and the printer
for run in demo_pty demo_no_pty; do
  if grep -q 'built in' "$tmp/$run.out" && grep -q 'tests (jest): 11 passed, 1 failed' "$tmp/$run.out"; then
    passed=$((passed + 1)); echo "ok - $run printed the scripts' output and the summary"
  else
    failed=$((failed + 1)); echo "FAIL - $run did not print the scripts' output"; sed 's/^/    /' "$tmp/$run.out"
  fi
done
# a filter, a small retention (evictions) and no detection
vg demo_filter 1 --headless --shell -d "$demo" --filter 'error|warn' --max-lines 50 --no-detect build test lint
# project errors: unknown script, missing directory, listing
vg unknown_script 2 --headless --shell -d "$demo" no-such-script
vg missing_dir 2 --headless -d "$tmp/nope" build
vg list 0 --list -d "$demo"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
