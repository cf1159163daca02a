#!/usr/bin/env bash
# Filter scan of 1,000,000 retained lines against `grep -cP` on the same text in a file.
#
# usage: bench/filter_vs_grep.sh [BENCH_FILTER_BINARY] [LINES]
# BENCH_FILTER_BINARY defaults to build/bench/bench_filter. Prints, per pattern, the best of
# 3 runs for each mode and the ratio grep / brum (> 1: brum is faster).
#
# Patterns:
#  - ERROR|WARN : the everyday filter (literal alternation; PCRE2 scans for the first code units).
#  - ^(\w+\s?)*$ : the classic nested quantifier. On a realistic line it fails at the first
#    character that is neither a word character nor a space, after trying every way to split the
#    word run before it into (\w+\s?) pieces, exponential in that run's length. Log lines here
#    start with a timestamp ("2024-05-01T..."), so the run is "2024" and the cost stays practical
#    (a few dozen steps per line) while still exercising backtracking on every line. Smart case
#    makes it caseless in brum, so grep runs it with -i too.
#  - (\w+)\s+\1 : a backreference (repeated word) that can't use literal prefilters and
#    backtracks over every word start of every line: the expensive-but-realistic case.
set -euo pipefail
bin=${1:-build/bench/bench_filter}
lines=${2:-1000000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
text=$tmp/log.txt

patterns=('ERROR|WARN' '^(\w+\s?)*$' '(\w+)\s+\1')
grep_flags=('-cP' '-ciP' '-ciP') # smart case: all-lowercase patterns are caseless in brum

echo "# brum filter engine"
"$bin" -n "$lines" -o "$text" -r 3 "${patterns[@]}" | tee "$tmp/brum.txt"

export LC_ALL=C.UTF-8 # grep -P in UTF-8 mode, as brum (PCRE2_UTF | PCRE2_MATCH_INVALID_UTF)
echo "# grep $(grep --version | head -1 | sed 's/.* //') on $(wc -c <"$text") bytes, best of 3"
for i in "${!patterns[@]}"; do
  p=${patterns[$i]}
  best=
  for _ in 1 2 3; do
    /usr/bin/time -f '%e' -o "$tmp/t" grep "${grep_flags[$i]}" -- "$p" "$text" >"$tmp/count" || true
    t=$(tail -n 1 "$tmp/t" | awk '{printf "%.0f", $1 * 1000}') # after "exited with status 1"
    if [ -z "$best" ] || [ "$t" -lt "$best" ]; then best=$t; fi
  done
  count=$(cat "$tmp/count")
  # the pattern goes through ENVIRON: awk -v would interpret its backslashes
  field() { P=$p awk -v mode="$1" -v key="$2" 'index($0, "pattern=" ENVIRON["P"] " ") == 1 {f = 1; next}
    /^pattern=/ {f = 0} f && index($0, "mode=" mode " ") {sub(".*" key "=", ""); sub(/ .*/, ""); print}' "$tmp/brum.txt"; }
  brum_core=$(field core-jit best_ms)
  brum_worker=$(field worker-jit best_ms)
  brum_matches=$(field core-jit matches)
  echo "pattern=$p grep ${grep_flags[$i]}: matches=$count best_ms=$best"
  awk -v g="$best" -v c="$brum_core" -v w="$brum_worker" -v gm="$count" -v bm="$brum_matches" 'BEGIN {
        printf "  ratio grep/brum: core %.2fx, worker %.2fx%s\n", g / c, g / w,
               gm == bm ? "" : "  (MATCH COUNTS DIFFER: grep " gm ", brum " bm ")" }'
done
