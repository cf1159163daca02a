#!/usr/bin/env bash
# Memory per retained line (issue 14): brum's TUI in tmux (120x40) runs a script that floods
# FLOOD_LINES (default 1,000,000) ~100-byte lines, every 10th coloured (bench/flood_writer), with
# the default retention of 100,000 lines. Once the pane says the script exited, the RSS of brum's
# process is read; the same brum running a script that prints one line is the baseline, measured
# in the same run. The result is
#
#     bytes per retained line = (RSS after the flood - RSS of the idle run) / KEPT
#
# and its ratio to the text the store keeps per line (the bytes without SGR codes and newline),
# which the same run computes from the lines flood_writer prints. The goal is at most 130 B per
# retained line. The headless mode is measured too: its script prints the flood and then sleeps,
# so brum stays up once every line is printed (counted in its output) and its RSS can be read.
#
# Also printed per run, for finding where the bytes go: RSS split into anonymous and file pages
# (/proc/PID/smaps_rollup), the peak (VmHWM), and the thread count (each thread that allocates
# may get its own malloc arena).
#
# usage: bench/mem_per_line.sh [BUILD_DIR]   (default build)
# env:   FLOOD_LINES=1000000 KEPT=100000 (--max-lines; 100000 is brum's default, then not passed)
#        REPS=3 (each mode's runs; the median is reported)  MODES="tui headless"
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=$(cd "${1:-build}" && pwd)
N=${FLOOD_LINES:-1000000}
KEPT=${KEPT:-100000}
REPS=${REPS:-3}
MODES=${MODES:-tui headless}
BRUM=$BUILD/brum
FW=$BUILD/bench/flood_writer
for f in "$BRUM" "$FW"; do
  [ -x "$f" ] || { echo "mem_per_line.sh: $f is missing: build first (cmake --build $BUILD -j2)" >&2; exit 2; }
done
command -v tmux >/dev/null || { echo "mem_per_line.sh: tmux is needed for the TUI runs" >&2; exit 2; }
tmp=$(mktemp -d)
SOCK="brum-mem-$$"
HPID=
cleanup() {
  tmux -L "$SOCK" kill-server 2>/dev/null || true
  [ -n "$HPID" ] && kill -- "$HPID" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

MAXARG=()
[ "$KEPT" = 100000 ] || MAXARG=(--max-lines "$KEPT")

proj=$tmp/proj
mkdir -p "$proj"
cat >"$proj/package.json" <<EOF
{ "name": "mem-bench", "scripts": {
  "flood": "$FW -n $N",
  "idle": "$FW -n 1",
  "hflood": "$FW -n $N; exec sleep 1000",
  "hidle": "$FW -n 1; exec sleep 1000" } }
EOF
# The text the store keeps: the lines without SGR codes and newline.
"$FW" -n "$N" | sed 's/\x1b\[[0-9;]*m//g' | wc -c >"$tmp/text"
TEXT=$(awk -v b="$(cat "$tmp/text")" -v n="$N" 'BEGIN { printf "%.1f", (b - n) / n }')
"$FW" -n "$N" | wc -c >"$tmp/raw"
RAWPL=$(awk -v b="$(cat "$tmp/raw")" -v n="$N" 'BEGIN { printf "%.1f", b / n }')

tm() { tmux -L "$SOCK" "$@"; }
# wait_pane PATTERN SECONDS: polls the pane (50 ms) until grep -E finds PATTERN
wait_pane() {
  local deadline=$(($(date +%s) + $2)) screen
  while :; do
    screen=$(tm capture-pane -p -t b 2>/dev/null || true)
    grep -qE -- "$1" <<<"$screen" && return 0
    [ "$(date +%s)" -ge "$deadline" ] && { echo "timed out waiting for '$1'" >&2; return 1; }
    sleep 0.05
  done
}
# kb PID FIELD FILE: a kB value from /proc/PID/FILE
kb() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/$3"; }
# settle PID: waits until the RSS stops changing, at most 5 s, after a second in which evicted
# chunks are freed (by the call_rcu thread, after a grace period) and the supervisor hands them
# back to the kernel (malloc_trim, 0.5 s after the last eviction: core/sup.c)
settle() {
  local prev=-1 cur i
  sleep 1
  for i in $(seq 50); do
    cur=$(kb "$1" VmRSS status)
    [ "$cur" = "$prev" ] && return 0
    prev=$cur
    sleep 0.1
  done
}
# sample PID: prints "rss anon file hwm threads" (kB)
sample() {
  settle "$1"
  echo "$(kb "$1" VmRSS status) $(kb "$1" Rss smaps_rollup) $(kb "$1" Anonymous smaps_rollup)" \
    "$(kb "$1" VmHWM status) $(ls "/proc/$1/task" | wc -l)"
}

# tui SCRIPT: one TUI run; prints its sample
tui() {
  tm kill-server 2>/dev/null || true
  echo 'set -g remain-on-exit on' >"$tmp/tmux.conf"
  tm -f "$tmp/tmux.conf" new-session -d -s b -x 120 -y 40 \
    "exec env -u LINES -u COLUMNS TERM=xterm-256color LANG=C.UTF-8 LC_ALL=C.UTF-8 $BRUM --log $tmp/brum.log ${MAXARG[*]} -d $proj $1"
  local pid
  pid=$(tm display-message -p -t b '#{pane_pid}')
  wait_pane "$1 · exited ok" 300
  local out
  out=$(sample "$pid")
  tm kill-server 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
  echo "$out"
}
# headless SCRIPT LINES: one headless run; prints its sample once LINES lines are printed
# (after brum has ended: the caller reads the sample through a process substitution, and the next
# run must not find this brum still holding the project)
headless() {
  "$BRUM" --log "$tmp/brum.log" --headless "${MAXARG[@]}" -d "$proj" "$2" >"$tmp/out" 2>"$tmp/err" &
  HPID=$!
  local deadline=$(($(date +%s) + 300))
  until [ "$(grep -c "^\[$2\] 2024" "$tmp/out" || true)" -ge "$1" ]; do
    [ "$(date +%s)" -ge "$deadline" ] && { echo "timed out waiting for $1 lines" >&2; return 1; }
    sleep 0.2
  done
  local out
  out=$(sample "$HPID")
  kill -- "$HPID"
  wait "$HPID" 2>/dev/null || true
  HPID=
  echo "$out"
}

median() { sort -n | awk '{ v[NR] = $0 } END { print v[int((NR + 1) / 2)] }'; }

echo "flood: $N lines, $RAWPL B/line as printed (SGR and newline included), $TEXT B/line of text;" \
  "kept: $KEPT lines; $REPS runs per mode, median"
echo
echo "| mode | idle RSS KiB | flood RSS KiB | flood anon KiB | flood peak KiB | threads | B per retained line | vs text ($TEXT B) |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
for mode in $MODES; do
  : >"$tmp/runs"
  for r in $(seq "$REPS"); do
    if [ "$mode" = tui ]; then
      read -r irss _ _ _ _ < <(tui idle)
      read -r frss _ fanon fhwm fth < <(tui flood)
    else
      read -r irss _ _ _ _ < <(headless 1 hidle)
      read -r frss _ fanon fhwm fth < <(headless "$N" hflood)
    fi
    per=$(awk -v f="$frss" -v i="$irss" -v k="$KEPT" 'BEGIN { printf "%.1f", (f - i) * 1024 / k }')
    echo "$per $irss $frss $fanon $fhwm $fth" >>"$tmp/runs"
    echo "  $mode run $r: idle $irss KiB, flood $frss KiB -> $per B/line" >&2
  done
  read -r per irss frss fanon fhwm fth < <(median <"$tmp/runs")
  awk -v m="$mode" -v i="$irss" -v f="$frss" -v a="$fanon" -v h="$fhwm" -v t="$fth" -v p="$per" \
    -v x="$TEXT" 'BEGIN { printf "| %s | %d | %d | %d | %d | %d | %.1f | %.2fx |\n", m, i, f, a, h, t, p, p / x }'
done
echo
echo "Goal: at most 130 B per retained line."
