#!/usr/bin/env bash
# The package-manager tax (issue 14): what running a script costs on top of the script itself.
#  1. Launch -> the script's first line on brum's output (--headless), against the floor of the
#     same script under a bare `sh -c` started the same way, in the same run: median and p90 of
#     REPS launches each (interleaved, so machine load hits both alike), and the difference.
#     brum --via-pm (through npm) is measured too when npm is installed.
#  2. The tree of 8 idle scripts (`sleep 1000`): its process count and total RSS under brum
#     (direct, and --via-pm when npm is installed) and as 8 bare `sh -c` (the floor).
# Goal: the first line within 10 ms of the floor; one process per script (the shell itself); the
# idle tree a few MiB over the floor (brum's own process).
#
# usage: bench/first_line.sh [BRUM]   (default build/brum)   env: REPS=30
set -euo pipefail
BRUM=$(readlink -f "${1:-build/brum}")
REPS=${REPS:-30}
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -- "-$p" 2>/dev/null || kill "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
HAVE_NPM=0
command -v npm >/dev/null && HAVE_NPM=1

mkdir -p "$tmp/p"
cat >"$tmp/p/package.json" <<'EOF'
{ "name": "bench", "version": "1.0.0", "scripts": {
  "first": "echo first-line; sleep 0.2",
  "s1": "sleep 1000", "s2": "sleep 1000", "s3": "sleep 1000", "s4": "sleep 1000",
  "s5": "sleep 1000", "s6": "sleep 1000", "s7": "sleep 1000", "s8": "sleep 1000" } }
EOF

# ---- 1. launch -> first line ----
python3 - "$BRUM" "$tmp/p" "$REPS" "$HAVE_NPM" <<'EOF'
import os, subprocess, sys, time
brum, proj, reps, have_npm = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "1"
env = dict(os.environ, NO_COLOR="1")

def first_line_ms(argv, cwd):
    # The clock starts just before the fork, stops when the script's line arrives (brum prints
    # it as "[first] first-line"); the rest of the run is waited for outside the measurement.
    t0 = time.monotonic()
    p = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL)
    for line in p.stdout:
        if b"first-line" in line:
            break
    t = (time.monotonic() - t0) * 1000
    p.stdout.close()
    p.wait()
    return t

cases = [("sh -c (floor)", ["sh", "-c", "echo first-line; sleep 0.2"]),
         ("brum --headless", [brum, "--headless", "first"])]
if have_npm:
    cases.append(("brum --headless --via-pm (npm)", [brum, "--headless", "--via-pm", "first"]))
    cases.append(("npm run (for reference)", ["npm", "run", "first"]))
for _, argv in cases:  # warm-up: caches, brum's node-version cache
    first_line_ms(argv, proj)
times = {name: [] for name, _ in cases}
for _ in range(reps):
    for name, argv in cases:
        times[name].append(first_line_ms(argv, proj))

def q(v, f):
    v = sorted(v)
    return v[min(len(v) - 1, int(f * len(v)))]

floor = q(times[cases[0][0]], 0.5)
print("## Launch -> first line (%d launches each, interleaved)\n" % reps)
print("| how | median ms | p90 ms | over the floor (median) ms |")
print("|---|---:|---:|---:|")
for name, _ in cases:
    m = q(times[name], 0.5)
    print("| %s | %.1f | %.1f | %+.1f |" % (name, m, q(times[name], 0.9), m - floor))
print()
EOF

# ---- 2. the idle tree of 8 scripts ----
# tree PID: the process and all its descendants, one pid a line
tree() {
  local p=$1
  echo "$p"
  for c in $(cat /proc/"$p"/task/*/children 2>/dev/null); do tree "$c"; done
}
# measure LABEL PID: waits for the 8 sleeps, prints count and total RSS of the tree
measure() {
  local label=$1 root=$2 deadline=$(( $(date +%s) + 60 )) n=0 kb=0 sleeps
  while :; do
    sleeps=$(for p in $(tree "$root"); do cat /proc/"$p"/comm 2>/dev/null; done | grep -c '^sleep$' || true)
    [ "$sleeps" -ge 8 ] && break
    [ "$(date +%s)" -ge "$deadline" ] && { echo "| $label | (the 8 scripts did not start) | |"; return; }
    sleep 0.1
  done
  sleep 1 # let the tree settle (a manager's node process finishes starting)
  for p in $(tree "$root"); do
    r=$(sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\).*/\1/p' /proc/"$p"/status 2>/dev/null || true)
    [ -n "$r" ] || continue
    n=$((n + 1)); kb=$((kb + r))
  done
  printf '| %s | %d | %.1f |\n' "$label" "$n" "$(awk -v k="$kb" 'BEGIN { print k / 1024 }')"
}
stop_tree() { kill -- "-$1" 2>/dev/null || kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

echo "## 8 idle scripts (sleep 1000): the whole tree"
echo
echo "| how | processes | total RSS MiB |"
echo "|---|---:|---:|"
cd "$tmp/p"
setsid bash -c 'for i in 1 2 3 4 5 6 7 8; do sh -c "sleep 1000" & done; wait' >/dev/null 2>&1 &
floor=$!; pids+=("$floor")
measure "8 x sh -c (floor, plus the bash that waits)" "$floor"
stop_tree "$floor"
setsid "$BRUM" --headless s1 s2 s3 s4 s5 s6 s7 s8 >/dev/null 2>&1 &
b=$!; pids+=("$b")
measure "brum --headless (direct)" "$b"
stop_tree "$b"
if [ "$HAVE_NPM" = 1 ]; then
  setsid "$BRUM" --headless --via-pm s1 s2 s3 s4 s5 s6 s7 s8 >/dev/null 2>&1 &
  b=$!; pids+=("$b")
  measure "brum --headless --via-pm (npm run)" "$b"
  stop_tree "$b"
fi

# ---- 3. the same under the TUI, in tmux ----
# Launch -> the line on the screen of a tmux window: brum's UI against a bare `sh -c` in a window
# of the same server. Polling capture-pane (a process each time) limits the resolution to a few
# ms, alike for both.
command -v tmux >/dev/null || { echo; echo "(tmux is not installed: no TUI figures)"; exit 0; }
SOCK="brum-firstline-$$"
tm() { tmux -L "$SOCK" "$@"; }
trap 'tm kill-server 2>/dev/null; cleanup' EXIT
tm -f /dev/null new-session -d -s base -x 120 -y 40
window_ms() { # window_ms COMMAND: launch -> "first-line" on the window's screen, in ms
  local t0 t1
  t0=$(date +%s%N)
  tm new-window -d -t base -n w "$1"
  until tm capture-pane -p -t base:w 2>/dev/null | grep -q 'first-line'; do
    [ $(( $(date +%s%N) - t0 )) -gt 20000000000 ] && break
  done
  t1=$(date +%s%N)
  tm kill-window -t base:w 2>/dev/null || true
  echo $(( (t1 - t0) / 1000 ))
}
floor_cmd="sh -c 'echo first-line; sleep 5'"
brum_cmd="env TERM=xterm-256color $BRUM -d $tmp/p first"
window_ms "$floor_cmd" >/dev/null; window_ms "$brum_cmd" >/dev/null # warm-up
: >"$tmp/tui_floor"; : >"$tmp/tui_brum"
for _ in $(seq "$REPS"); do
  window_ms "$floor_cmd" >>"$tmp/tui_floor"
  window_ms "$brum_cmd" >>"$tmp/tui_brum"
done
med() { sort -n "$1" | awk '{ v[NR] = $1 } END { printf "%.1f", v[int((NR + 1) / 2)] / 1000 }'; }
echo
echo "## Launch -> first line on a tmux screen ($REPS launches each, interleaved)"
echo
echo "| how | median ms |"
echo "|---|---:|"
echo "| sh -c in a tmux window (floor) | $(med "$tmp/tui_floor") |"
echo "| brum (TUI) in a tmux window | $(med "$tmp/tui_brum") |"
