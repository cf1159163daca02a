#!/usr/bin/env bash
# The cost of --log-dir under a flood: `brum --headless` ingesting FLOOD_LINES lines (~100 bytes,
# every 10th coloured, bench/flood_writer) with and without --log-dir, alternating, best of REPS
# each, in one run; the ratio of the two. Also says how many lines reached the log file and how
# many the writer dropped (the buffer is bounded: 4 MiB).
#
# usage: bench/logdir_flood.sh [BUILD_DIR]   (default build-bench; needs brum and flood_writer)
# env:   FLOOD_LINES=1000000 REPS=3 LOG_ROOT=DIR (where the log files go: default a temporary
#        directory, which is tmpfs on some machines: point it at a real disk to include the disk)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build-bench}
if [ ! -x "$BUILD/bench/flood_writer" ] || [ ! -x "$BUILD/brum" ]; then
  cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$BUILD" -j2 --target brum flood_writer >/dev/null
fi
BRUM=$(cd "$BUILD" && pwd)/brum
FW=$(cd "$BUILD" && pwd)/bench/flood_writer
N=${FLOOD_LINES:-1000000}
REPS=${REPS:-3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
LOGS=${LOG_ROOT:-$tmp}/brum-logdir-bench-$$
export XDG_RUNTIME_DIR=$tmp/run
mkdir -m 700 "$XDG_RUNTIME_DIR"
mkdir -p "$tmp/proj"
printf '{"name":"bench","scripts":{"flood":"%s -n %s"}}\n' "$FW" "$N" >"$tmp/proj/package.json"

now() { date +%s.%N; }
best_off=; best_on=; wall_off=; wall_on=; cpus_off=; cpus_on=
for r in $(seq "$REPS"); do
  for mode in off on; do
    rm -rf "$LOGS"
    args=()
    [ $mode = on ] && args=(--log-dir "$LOGS" --log-max-size 1G) # every line kept: counted below
    t=$(now)
    FLOOD_TIME_FILE=$tmp/t /usr/bin/time -f '%U %S' -o "$tmp/cpu" \
      "$BRUM" --log "$tmp/brum.log" --headless -d "$tmp/proj" "${args[@]}" flood >/dev/null
    c=$(awk '{printf "%.2f", $1 + $2}' "$tmp/cpu") # brum's CPU (every thread, not the writer)
    w=$(awk -v a="$(now)" -v b="$t" 'BEGIN { printf "%.3f", a - b }')
    s=$(sed -n 's/.*seconds=\([0-9.]*\).*/\1/p' "$tmp/t")
    echo "run $r $mode: writer ${s} s, end to end ${w} s, brum's CPU ${c} s" >&2
    if [ $mode = on ]; then cpus_on+=" $c"; else cpus_off+=" $c"; fi
    if [ $mode = on ]; then
      kept=$(cat "$LOGS"/flood.log* | grep -cv "^===\|^──\|^>" || true)
      dropped=$(sed -n 's/^=== \([0-9]*\) lines dropped.*/\1/p' "$LOGS/flood.log" | awk '{s+=$1} END {print s+0}')
      files=$(ls "$LOGS" | wc -l)
    fi
    v=best_$mode; wv=wall_$mode
    if [ -z "${!v}" ] || awk -v a="$w" -v b="${!wv}" 'BEGIN{exit !(a < b)}'; then
      printf -v "$v" %s "$s"; printf -v "$wv" %s "$w"
    fi
  done
done
rm -rf "$LOGS"
echo "## --log-dir under a flood: $N lines, brum --headless > /dev/null, best of $REPS"
echo
echo "| | writer s (its own elapsed) | end to end s |"
echo "|---|---|---|"
echo "| without --log-dir | $best_off | $wall_off |"
echo "| with --log-dir | $best_on | $wall_on |"
echo "| brum's CPU s per run (user+sys, all its threads), without | ${cpus_off} | |"
echo "| brum's CPU s per run, with | ${cpus_on} | |"
echo "| ratio (with / without) | $(awk -v a="$best_on" -v b="$best_off" 'BEGIN{printf "%.2f", a/b}') | $(awk -v a="$wall_on" -v b="$wall_off" 'BEGIN{printf "%.2f", a/b}') |"
echo
echo "Last run with --log-dir (--log-max-size 1G, so nothing rotates out): $kept of $N lines in the file, $dropped dropped and counted there ($files file)."
