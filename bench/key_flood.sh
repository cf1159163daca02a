#!/usr/bin/env bash
# Key-to-screen latency of a pane switch while the shown pane floods RATE lines/s (issue 14: p95 at
# most 16 ms), measured at brum's own terminal by bench/key_flood (PRESSES presses per case, with
# BRUM_TRACE's breakdown). Cases, in one run: idle (the flood pane holds still), the flood, and with
# BASE (a brum built before a change) the flood again under BASE. Prints the flood's p50/p95 against
# the idle ones of the same run, and against BASE's. With CTL_CLIENTS=N (and BUILD/bench/ctl_bench),
# also the idle and flood cases while N clients of the control socket read the last 1,000 lines in
# a loop, against the same cases without them.
# With FULLSCREEN=1, also the same two cases with a full-screen child (flood_writer -a: the
# alternate screen, redrawn every 35 lines at RATE lines/s, shown through the emulator), against
# the line flood of the same run.
# Usage: [RATE=200000] [PRESSES=200] [BASE=OLD_BRUM] [CTL_CLIENTS=N] [FULLSCREEN=1]
#        bench/key_flood.sh [BUILD]
set -eu
BUILD=${1:-build}
RATE=${RATE:-200000}
PRESSES=${PRESSES:-200}
BASE=${BASE:-}
CTL_CLIENTS=${CTL_CLIENTS:-0}
FULLSCREEN=${FULLSCREEN:-0}
KF="$BUILD/bench/key_flood"
FW=$(readlink -f "$BUILD/bench/flood_writer")
for f in "$KF" "$FW" "$BUILD/brum"; do
  [ -x "$f" ] || { echo "key_flood.sh: $f is missing: cmake --build $BUILD --target bench" >&2; exit 2; }
done
if [ -n "$BASE" ] && [ ! -x "$BASE" ]; then
  echo "key_flood.sh: BASE=$BASE is not an executable brum" >&2
  exit 2
fi
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

# case LABEL BRUM RATE [LOAD_CMD]: the full report, and "p50 p95" of the presses in $OUT/LABEL.p
WRITER=$FW
case_run() {
  local label=$1 brum=$2 rate=$3 load=()
  [ $# -gt 3 ] && load=(-L "$4")
  "$KF" -b "$brum" -w "$WRITER" -r "$rate" -n "$PRESSES" -T "$OUT/$label.trace" -l "$label" \
    "${load[@]}" | tee "$OUT/$label.txt"
  awk -v l="$label" '$1 == l && $2 == "p50" { print $3, $6 }' "$OUT/$label.txt" > "$OUT/$label.p"
}

case_run idle "$BUILD/brum" 0
[ -n "$BASE" ] && case_run flood-base "$BASE" "$RATE"
case_run flood "$BUILD/brum" "$RATE"

ratio() { # ratio A B: "p50 x.xx, p95 y.yy" of A over B
  paste "$OUT/$1.p" "$OUT/$2.p" | awk '{ printf "p50 %.2fx, p95 %.2fx", $1 / $3, $2 / $4 }'
}
echo
echo "flood ($RATE lines/s) against idle, this run: $(ratio flood idle)"
[ -n "$BASE" ] && echo "flood against BASE's flood, this run:        $(ratio flood flood-base)"
if [ "$CTL_CLIENTS" -gt 0 ]; then
  CB=$(readlink -f "$BUILD/bench/ctl_bench")
  poll="exec $CB -d \"\$KF_DIR\" --poll $CTL_CLIENTS"
  case_run idle-ctl "$BUILD/brum" 0 "$poll"
  case_run flood-ctl "$BUILD/brum" "$RATE" "$poll"
  echo "idle with $CTL_CLIENTS control clients against idle, this run:   $(ratio idle-ctl idle)"
  echo "flood with $CTL_CLIENTS control clients against flood, this run: $(ratio flood-ctl flood)"
fi
if [ "$FULLSCREEN" = 1 ]; then
  printf '#!/bin/sh\nexec %s -a "$@"\n' "$FW" > "$OUT/fullscreen_writer"
  chmod +x "$OUT/fullscreen_writer"
  WRITER=$OUT/fullscreen_writer
  case_run fs-idle "$BUILD/brum" 0
  case_run fs-flood "$BUILD/brum" "$RATE"
  echo "full-screen flood against full-screen idle, this run: $(ratio fs-flood fs-idle)"
  echo "full-screen flood against the line flood, this run:   $(ratio fs-flood flood)"
fi
awk -v goal=16 '{ printf "goal p95 <= %d ms under the flood: %s (p95 %s ms)\n", goal,
                  $2 <= goal ? "met" : "NOT met", $2 }' "$OUT/flood.p"
