#!/usr/bin/env bash
# Terminal mode costs nothing when unused: a line flood through brum --headless against a bare PTY
# drain (bench/pty_drain), for this brum and a baseline brum built from before terminal mode, in
# one run (interleaved, best of REPS). Then a full-screen child redrawing as fast as it can
# (bench/term_screen: frames produced, screens published and seen at 60 Hz, supervisor CPU).
#
# usage: bash bench/term_flood.sh BUILD [BASE_BRUM]     FLOOD_LINES=1000000 REPS=3 FRAMES=3000
set -euo pipefail
BUILD=$(realpath "${1:?usage: term_flood.sh BUILD [BASE_BRUM]}")
BASE=${2:-}
LINES_N=${FLOOD_LINES:-1000000}
REPS=${REPS:-3}
FW=$BUILD/bench/flood_writer
PD=$BUILD/bench/pty_drain
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/proj"
echo "{ \"name\": \"flood\", \"scripts\": { \"flood\": \"$FW -n $LINES_N\" } }" >"$tmp/proj/package.json"
now() { date +%s.%N; }
declare -A BEST
one() { # one KEY: wall seconds of one run
  local t; t=$(now)
  case $1 in
    drain) "$PD" "$FW" -n "$LINES_N" 2>/dev/null >/dev/null ;;
    new) "$BUILD/brum" --log "$tmp/log" --headless -d "$tmp/proj" flood >"$tmp/out" ;;
    base) "$BASE" --log "$tmp/log" --headless -d "$tmp/proj" flood >"$tmp/out" ;;
  esac
  [ "$1" = drain ] || grep -qE "^flood +exited ok" "$tmp/out" || { echo "brum ($1) failed:" >&2; tail -3 "$tmp/out" >&2; exit 1; }
  awk -v a="$(now)" -v b="$t" 'BEGIN{printf "%.3f", a-b}'
}
keys="drain new"
[ -n "$BASE" ] && keys="drain new base"
for r in $(seq "$REPS"); do
  for k in $keys; do
    s=$(one "$k")
    echo "run $r $k ${s}s" >&2
    if [ -z "${BEST[$k]:-}" ] || awk -v a="$s" -v b="${BEST[$k]}" 'BEGIN{exit !(a < b)}'; then BEST[$k]=$s; fi
  done
done
echo "## Line flood: $LINES_N lines, best of $REPS, load $(cut -d' ' -f1 /proc/loadavg)"
echo
echo "| variant | seconds | ratio to the PTY drain |"
echo "|---|---:|---:|"
for k in $keys; do
  echo "| $k | ${BEST[$k]} | $(awk -v a="${BEST[$k]}" -v b="${BEST[drain]}" 'BEGIN{printf "%.2f", a/b}') |"
done
echo
echo "## Full-screen child: ${FRAMES:-3000} frames of 200x50"
echo
"$BUILD/bench/term_screen" "$BUILD/bench/screen_writer" "${FRAMES:-3000}"
