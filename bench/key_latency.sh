#!/usr/bin/env bash
# Keypress-to-screen latency of pane switching, via tmux: p50/p95 over 20 presses, at idle and
# while `flood` prints without limit; with CTL_BENCH (the ctl_bench binary) also while 10 clients
# of the control socket read the last 1,000 lines in a loop, against the same run without them.
# Usage: [CTL_BENCH=BUILD/bench/ctl_bench] bench/key_latency.sh [BRUM] (default build/brum)
set -u
BRUM=${1:-build/brum}
BRUM=$(readlink -f "$BRUM")
SRC=$(cd "$(dirname "$0")/.." && pwd)
SOCK="brum-keylat-$$"
CTL_BENCH=${CTL_BENCH:-}
POLLERS=0
poll_pid=
tm() { tmux -L "$SOCK" "$@"; }
# the instance's socket goes to a private directory (no other brum, no leftovers)
XDG_RUNTIME_DIR=$(mktemp -d)
export XDG_RUNTIME_DIR
trap 'tm kill-server 2>/dev/null; [ -n "$poll_pid" ] && kill "$poll_pid" 2>/dev/null; rm -rf "$XDG_RUNTIME_DIR"' EXIT

now_ns() { date +%s%N; }
# press KEY, then poll the screen until PATTERN shows; prints the elapsed ms
press() {
  local key=$1 pat=$2 t0 t1
  t0=$(now_ns)
  tm send-keys -t t "$key"
  while ! tm capture-pane -p -t t | grep -qE -- "$pat"; do
    [ $(( $(now_ns) - t0 )) -gt 10000000000 ] && { echo "timeout"; return; }
  done
  t1=$(now_ns)
  echo $(( (t1 - t0) / 1000 ))
}

run() { # run LABEL SCRIPTS...
  local label=$1; shift
  tm kill-server 2>/dev/null
  tm -f /dev/null new-session -d -s t -x 120 -y 40 \
    "env XDG_RUNTIME_DIR=$XDG_RUNTIME_DIR FLOOD_LINES=1000000000 LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=xterm-256color $BRUM --shell -d $SRC/examples/demo $*"
  until tm capture-pane -p -t t 2>/dev/null | grep -q 'Processes'; do sleep 0.05; done
  sleep 1
  if [ "$POLLERS" -gt 0 ]; then
    "$CTL_BENCH" -d "$SRC/examples/demo" --poll "$POLLERS" & poll_pid=$!
    sleep 1
  fi
  local samples=()
  for i in $(seq 1 10); do
    samples+=("$(press 6 'flood · ')")
    samples+=("$(press 5 'watch · ')")
  done
  printf '%s\n' "${samples[@]}" | grep -v timeout | sort -n | awk -v label="$label" '
    { v[NR] = $1 } END { if (NR == 0) { print label ": no samples"; exit }
      printf "%-28s p50 %6.1f ms  p95 %6.1f ms  max %6.1f ms  (%d presses; includes ~1 capture-pane of polling)\n",
             label, v[int(NR*0.5)+ (NR*0.5==int(NR*0.5)?0:1)]/1000, v[int(NR*0.95+0.999)]/1000, v[NR]/1000, NR }'
  if [ -n "$poll_pid" ]; then
    kill "$poll_pid"
    wait "$poll_pid"
    poll_pid=
  fi
  tm send-keys -t t q
  sleep 0.3
  tm send-keys -t t y
  sleep 0.5
}

run "idle (switch panes)"
run "under flood (switch panes)" flood watch
if [ -n "$CTL_BENCH" ]; then
  POLLERS=10
  run "idle, 10 ctl clients"
  run "under flood, 10 ctl clients" flood watch
fi
