#!/usr/bin/env bash
# Runs every tests/e2e/test_*.sh N times in a row against one build (with the environment ctest
# gives them), optionally while `yes` keeps a core busy, and counts the failing runs: the proof
# that the e2e tests are deterministic on a loaded machine. The output of every failing run is
# kept and its FAIL lines printed.
#
# usage: tests/e2e/repeat.sh [-l] [-o DIR] N [BUILD_DIR] [TEST_NAME_REGEX]
#   -l          load: one `yes >/dev/null` runs for the whole loop (killed at the end)
#   -o DIR      keep every run's output in DIR (default: a temporary directory, removed if all pass)
#   BUILD_DIR   default build; TEST_NAME_REGEX selects tests by file name (default: all)
# example: tests/e2e/repeat.sh -l 10 build
set -u
cd "$(dirname "$0")/../.."
SRC=$PWD
load=0 out=""
while getopts lo: opt; do
  case $opt in
    l) load=1 ;;
    o) out=$OPTARG ;;
    *) sed -n '7,11p' "$0" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
n=${1:?usage: tests/e2e/repeat.sh [-l] [-o DIR] N [BUILD_DIR] [TEST_NAME_REGEX]}
build=$(cd "${2:-build}" && pwd) || exit 2
sel=${3:-.}
[ -x "$build/brum" ] || { echo "no $build/brum: build first" >&2; exit 2; }
keep=1
[ -n "$out" ] || { out=$(mktemp -d); keep=0; }
mkdir -p "$out"

yes_pid=""
if [ "$load" = 1 ]; then
  yes >/dev/null &
  yes_pid=$!
fi
trap '[ -n "$yes_pid" ] && kill "$yes_pid" 2>/dev/null' EXIT

tests=()
for t in tests/e2e/test_*.sh; do
  [[ $(basename "$t" .sh) =~ $sel ]] && tests+=("$t")
done
runs=0 fails=0 t0=$(date +%s)
for i in $(seq 1 "$n"); do
  for t in "${tests[@]}"; do
    name=$(basename "$t" .sh)
    log="$out/$name.$i.log"
    s=$(date +%s)
    BRUM="$build/brum" BRUM_LINES="$build/tests/brum_lines" BRUM_SOURCE_DIR="$SRC" BRUM_BUILD_DIR="$build" \
      timeout --foreground -s KILL 600 bash "$t" >"$log" 2>&1 # foreground: stopping this script stops the test
    rc=$?
    runs=$((runs + 1))
    if [ "$rc" -ne 0 ]; then
      fails=$((fails + 1))
      keep=1
      echo "round $i: $name FAILED (rc $rc, $(( $(date +%s) - s )) s, $log)"
      grep -E '^FAIL|No such file|rror' "$log" | head -10 | sed 's/^/    /'
    else
      echo "round $i: $name ok ($(( $(date +%s) - s )) s, $(tail -n 1 "$log"))"
    fi
  done
done
echo "$runs runs of ${#tests[@]} tests x $n rounds$([ "$load" = 1 ] && echo ', one core kept busy by yes'):" \
  "$fails failed, $(( $(date +%s) - t0 )) s"
[ "$keep" = 1 ] && echo "outputs: $out" || rm -rf "$out"
[ "$fails" -eq 0 ]
