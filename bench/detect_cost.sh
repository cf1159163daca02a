#!/usr/bin/env bash
# The cost of error/URL detection on ingest (issue 14): `brum --headless --no-pty` running
# `cat FILE` over a realistic mixed log of DETECT_LINES lines (90% plain lines of common shapes:
# access logs, timestamps and levels, bundler output, JSON; 10% the lines of
# tests/fixtures/detect: errors, stack frames, warnings, URLs, test summaries), with --no-detect
# and with detection, interleaved, best of REPS each, in one run: wall and CPU (user+sys, all of
# brum's threads) and the ratio detect / --no-detect. Output goes to /dev/null; one untimed run
# of each first checks that every line was printed and shows the summary's counts. With a second
# build directory (a baseline, e.g. main's) both builds are measured in the same run, interleaved.
#
# usage: bench/detect_cost.sh [BUILD_DIR [BASE_BUILD_DIR]]   (default build-bench; needs brum)
# env:   DETECT_LINES=1000000 REPS=5
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build-bench}
BASE=${2:-}
if [ ! -x "$BUILD/brum" ]; then
  cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$BUILD" -j2 --target brum >/dev/null
fi
N=${DETECT_LINES:-1000000}
REPS=${REPS:-5}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export XDG_RUNTIME_DIR=$tmp/run
mkdir -m 700 "$XDG_RUNTIME_DIR"
mkdir -p "$tmp/proj"

# The log, generated once: every 10th line is the next line of the fixtures (cycling).
cat tests/fixtures/detect/*.log | awk 'length($0) > 0' >"$tmp/fixture"
awk -v n="$N" -v fx="$tmp/fixture" 'BEGIN {
  while ((getline l < fx) > 0) f[nf++] = l
  split("GET POST PUT DELETE", m, " ")
  for (i = 1; i <= n; i++) {
    if (i % 10 == 0) { print f[(i / 10) % nf]; continue }
    k = i % 6
    if (k == 0) printf "%s /api/v1/items/%d?page=%d 200 in %dms\n", m[i % 4 + 1], i, i % 7, i % 90
    else if (k == 1) printf "2024-05-01T12:%02d:%02d.%03dZ INFO  [worker-%d] processed job %d (queue depth %d)\n", i % 60, i % 59, i % 1000, i % 8, i, i % 31
    else if (k == 2) printf "  asset chunk-%x.js %d KiB [emitted] [immutable] (name: main)\n", i, i % 900
    else if (k == 3) printf "{\"level\":\"info\",\"time\":%d,\"msg\":\"request completed\",\"status\":200,\"id\":%d}\n", 1714564800 + i, i
    else if (k == 4) printf "[%02d:%02d:%02d] compiled successfully in %d ms (%d modules)\n", i % 24, i % 60, i % 60, i % 500, i % 3000
    else printf "    at processTicksAndRejections plain text line number %d of the output\n", i
  }
}' >"$tmp/mixed.log"
printf 'processes:\n  c:\n    cmd: cat %s\n' "$tmp/mixed.log" >"$tmp/proj/brum.yaml"
bytes=$(wc -c <"$tmp/mixed.log")

now() { date +%s.%N; }
# Each build and mode once, untimed: every line printed, the run ended well, the errors counted.
for b in "$BUILD" $BASE; do
  for mode in off on; do
    args=()
    [ $mode = off ] && args=(--no-detect)
    "$b/brum" --headless --no-pty -d "$tmp/proj" "${args[@]}" c >"$tmp/out"
    printed=$(grep -c "^\[c\] " "$tmp/out" || true)
    summary=$(grep "^c  exited" "$tmp/out" || true)
    if [ "$printed" -ne $((N + 1)) ] || [ "${summary#c  exited ok}" = "$summary" ]; then
      echo "$b ($mode): $printed lines printed of $((N + 1)), summary: $summary" >&2
      exit 1
    fi
    echo "$b ($mode): $summary" >&2
  done
done
rm -f "$tmp/out"
declare -A wall cpu
builds=("$BUILD")
[ -n "$BASE" ] && builds=("$BASE" "$BUILD")
for r in $(seq "$REPS"); do
  for b in "${builds[@]}"; do
    for mode in off on; do
      args=()
      [ $mode = off ] && args=(--no-detect)
      t=$(now)
      /usr/bin/time -f '%U %S' -o "$tmp/cpu" \
        "$b/brum" --headless --no-pty -d "$tmp/proj" "${args[@]}" c >/dev/null
      w=$(awk -v a="$(now)" -v b="$t" 'BEGIN { printf "%.3f", a - b }')
      c=$(awk '{printf "%.2f", $1 + $2}' "$tmp/cpu")
      echo "run $r $b $mode: wall ${w} s, CPU ${c} s" >&2
      k="$b $mode"
      if [ -z "${wall[$k]:-}" ] || awk -v a="$w" -v b="${wall[$k]}" 'BEGIN{exit !(a < b)}'; then
        wall[$k]=$w
      fi
      if [ -z "${cpu[$k]:-}" ] || awk -v a="$c" -v b="${cpu[$k]}" 'BEGIN{exit !(a < b)}'; then
        cpu[$k]=$c
      fi
    done
  done
done
echo "## Detection cost: $N lines ($bytes bytes, 10% from tests/fixtures/detect), brum --headless --no-pty, best of $REPS"
echo
echo "| build | wall --no-detect s | wall detect s | wall ratio | CPU --no-detect s | CPU detect s | CPU ratio |"
echo "|---|---|---|---|---|---|---|"
for b in "${builds[@]}"; do
  wo=${wall["$b off"]} wn=${wall["$b on"]} co=${cpu["$b off"]} cn=${cpu["$b on"]}
  echo "| $b | $wo | $wn | $(awk -v a="$wn" -v b="$wo" 'BEGIN{printf "%.2f", a/b}') | $co | $cn | $(awk -v a="$cn" -v b="$co" 'BEGIN{printf "%.2f", (b > 0 ? a/b : 0)}') |"
done
