#!/usr/bin/env bash
# Round trips over the control socket: `ps` and a 1,000-line `logs` read (p50/p99), against a
# headless brum whose one script printed 5,000 lines and stays up.
# Usage: bench/ctl_rtt.sh [BUILD] (default build; needs BUILD/brum and BUILD/bench/ctl_bench)
set -euo pipefail
BUILD=$(readlink -f "${1:-build}")
CALLS=${CALLS:-2000}
work=$(mktemp -d)
XDG_RUNTIME_DIR=$work/run
mkdir -m 700 "$XDG_RUNTIME_DIR"
export XDG_RUNTIME_DIR
brum_pid=
trap '[ -n "$brum_pid" ] && kill "$brum_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
mkdir "$work/proj"
cat >"$work/proj/package.json" <<'JSON'
{ "name": "rtt", "scripts": {
  "lines": "i=0; while [ $i -lt 5000 ]; do echo \"line $i: some typical log text of about a hundred bytes, padded out to length\"; i=$((i+1)); done; exec sleep 1000",
  "idle": "exec sleep 1000" } }
JSON
"$BUILD/brum" --headless -d "$work/proj" lines idle >/dev/null 2>&1 &
brum_pid=$!
# ready when the socket answers and the 5,000 lines are in
deadline=$((SECONDS + 60))
until "$BUILD/brum" ctl -d "$work/proj" logs lines -n 1 2>/dev/null | grep -q 'line 4999'; do
  [ $SECONDS -gt $deadline ] && { echo "ctl_rtt: brum did not come up" >&2; exit 1; }
  sleep 0.1
done
"$BUILD/bench/ctl_bench" -d "$work/proj" --calls "$CALLS"
