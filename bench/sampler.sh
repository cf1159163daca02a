#!/usr/bin/env bash
# The resource sampler's cost (issue 13): brum's TUI in tmux with 50 processes running
# `sleep 1000`, its on-CPU time and context switches over SECS seconds with the figures hidden
# (no sampling), then over SECS more with `%` pressed (sampling every 2 s), in the same run; then
# wakeups of a brum whose columns are shown while nothing runs (the goal: none from sampling).
# usage: bench/sampler.sh BUILD_DIR [SECS]   (default 60)
set -eu
BUILD=${1:?usage: bench/sampler.sh BUILD_DIR [SECS]}
SECS=${2:-60}
BRUM=$(realpath "$BUILD/brum")
TMP=$(mktemp -d)
SOCK="brum-sampler-$$"
trap 'tmux -L "$SOCK" kill-server 2>/dev/null; rm -rf "$TMP"' EXIT
export XDG_RUNTIME_DIR=$TMP/run
mkdir -m 700 "$XDG_RUNTIME_DIR"
N=50
{
  printf '{"name":"sampler","scripts":{'
  for i in $(seq 1 $N); do printf '"s%d":"sleep 1000"%s' "$i" "$([ "$i" -lt $N ] && echo ,)"; done
  printf '}}\n'
} >"$TMP/package.json"

tm() { tmux -L "$SOCK" "$@"; }
tui() { # tui ARGS...: brum in a fresh tmux session; TUI_PID is brum's pid
  tm kill-server 2>/dev/null || true
  tm -f /dev/null new-session -d -s b -x 160 -y 60 \
    "LANG=C.UTF-8 TERM=xterm-256color $BRUM --log $TMP/brum.log -d $TMP $*; sleep 600"
  for _ in $(seq 100); do
    TUI_PID=$(pgrep -P "$(tm display -p -t b '#{pane_pid}')" -f "$BRUM" | head -1 || true)
    [ -n "$TUI_PID" ] && break
    sleep 0.1
  done
}
wait_pane() { # wait_pane REGEX SECS
  for _ in $(seq $(($2 * 10))); do
    tm capture-pane -p -t b | grep -qE -- "$1" && return 0
    sleep 0.1
  done
  return 1
}
schedns() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{s += $1} END {print s + 0}'; }
ctxsw() { cat /proc/"$1"/task/*/status 2>/dev/null | awk '/ctxt_switches/ {s += $2} END {print s + 0}'; }
now() { date +%s.%N; }
# window SECS: "on-CPU-ns context-switches wall-s" of brum over SECS seconds
window() {
  local n1 c1 w1 n2 c2 w2
  n1=$(schedns "$TUI_PID"); c1=$(ctxsw "$TUI_PID"); w1=$(now)
  sleep "$1"
  n2=$(schedns "$TUI_PID"); c2=$(ctxsw "$TUI_PID"); w2=$(now)
  echo "$((n2 - n1)) $((c2 - c1)) $(echo "$w2 - $w1" | bc)"
}

names=$(seq -f 's%g' 1 $N | tr '\n' ' ')
tui $names
wait_pane "$N running" 30 || { echo "the $N processes did not start"; exit 1; }
sleep 2
read -r off_ns off_cs off_w < <(window "$SECS")
tm send-keys -t b %
wait_pane ':?[0-9.]+% +[0-9.]+[KMG]' 10 || echo "(the columns did not appear)"
sleep 1
read -r on_ns on_cs on_w < <(window "$SECS")
tm send-keys -t b q y
sleep 2

# nothing runs, the columns shown: the sampler must not wake brum
tui
wait_pane 'Processes' 10 || true
tm send-keys -t b %
sleep 1
read -r idle_ns idle_cs idle_w < <(window 20)
tm send-keys -t b q
sleep 1

echo "# raw: off $off_ns ns $off_cs cs $off_w s; on $on_ns ns $on_cs cs $on_w s; idle $idle_ns ns $idle_cs cs $idle_w s"
awk -v a="$off_ns" -v b="$on_ns" -v ca="$off_cs" -v cb="$on_cs" -v wa="$off_w" -v wb="$on_w" \
    -v ins="$idle_ns" -v ics="$idle_cs" -v iw="$idle_w" -v n="$N" -v s="$SECS" 'BEGIN {
  printf "## The resource sampler: %d processes running `sleep 1000`, brum TUI in tmux, %d s each\n\n", n, s;
  print "| measure | sampling off | sampling on (`%`) | on - off |"; print "|---|---:|---:|---:|";
  pa = a / 1e9 / wa * 100; pb = b / 1e9 / wb * 100;
  printf "| brum on-CPU time, all threads | %.1f ms = %.4f%% of a core | %.1f ms = %.4f%% of a core | %.4f%% of a core |\n", a / 1e6, pa, b / 1e6, pb, pb - pa;
  printf "| context switches (wakeups) | %d (%.2f/s) | %d (%.2f/s) | %.2f/s |\n", ca, ca / wa, cb, cb / wb, cb / wb - ca / wa;
  if (a > 0) printf "| ratio on / off (CPU) | | %.1fx | |\n\n", b / a;
  else print "| ratio on / off (CPU) | | off is 0: no ratio | |\n";
  printf "Nothing running, `%%` on, 20 s: %.2f ms on-CPU, %d context switches.\n\n", ins / 1e6, ics;
  print "Target: the sampler under 0.5% of a core with 50 processes; no wakeups when nothing runs.";
}'
