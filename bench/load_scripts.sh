#!/usr/bin/env bash
# Loading a 10 MB package.json of 100,000 scripts: `brum --list`, REPS runs, wall time and the CPU
# time of brum's own process (user + sys from /usr/bin/time, which load on the machine barely
# changes). Target: under 10 s wall (it was 45 s with a quadratic duplicate check).
# tests/e2e/test_faults_project.sh only checks that such a file loads and lists every script.
#
# usage: bench/load_scripts.sh [BRUM]   (default build/brum)   env: REPS=5 SCRIPTS=100000
set -euo pipefail
BRUM=${1:-build/brum}
REPS=${REPS:-5}
SCRIPTS=${SCRIPTS:-100000}
command -v /usr/bin/time >/dev/null || { echo "needs /usr/bin/time (package time)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

python3 - "$tmp" "$SCRIPTS" <<'EOF'
import json, sys
d, n = sys.argv[1], int(sys.argv[2])
s = {"s%06d" % i: "echo script %d padding padding padding padding padding padding padding padding padding" % i for i in range(n)}
open(d + "/package.json", "w").write(json.dumps({"name": "many", "scripts": s}))
EOF
bytes=$(stat -c %s "$tmp/package.json")

echo "| run | wall s | user+sys s | peak RSS KiB | scripts listed |"
echo "|---|---:|---:|---:|---:|"
: >"$tmp/walls"
for r in $(seq "$REPS"); do
  /usr/bin/time -f '%e %U %S %M' -o "$tmp/time" "$BRUM" --list -d "$tmp" >"$tmp/out" 2>&1
  read -r wall user sys rss <"$tmp/time"
  listed=$(grep -c '^  s[0-9]' "$tmp/out" || true)
  cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')
  echo "| $r | $wall | $cpu | $rss | $listed |"
  echo "$wall" >>"$tmp/walls"
  [ "$listed" -eq "$SCRIPTS" ] || { echo "run $r listed $listed of $SCRIPTS scripts" >&2; exit 1; }
done
sort -n "$tmp/walls" | awk -v n="$SCRIPTS" -v b="$bytes" '{ w[NR] = $1 } END {
  printf "\n%d scripts (%d bytes): best %.2f s, median %.2f s wall. Target: under 10 s.\n", n, b, w[1], w[int((NR + 1) / 2)] }'
