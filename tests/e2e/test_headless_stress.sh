#!/usr/bin/env bash
# Headless stress (issue 15, "Done when"): fixed seeds pick random line lengths (0-200 KiB, some
# with `\r` rewrites), reader speeds (from stalls to unlimited), --max-lines (down to 1),
# --max-bytes, PTY or pipes, one or two scripts. Every run: each line arrives exactly once and in
# order (as brum stores it: after `\r` rewrites, a line over 64 KiB as its pieces), brum exits 0,
# and peak RSS stays under twice --max-bytes (16M; sanitizer builds: above an idle run's; smaller
# budgets: plus brum's fixed costs, which are above them).
. "$(dirname "$0")/lib.sh"
: "${BRUM_LINES:?BRUM_LINES must point at the brum_lines helper}"
export NO_COLOR=1
export ASAN_OPTIONS="${ASAN_OPTIONS:-}:quarantine_size_mb=4" # freed chunks are not brum's memory
L=$BRUM_LINES
P=$TMP/p
mkdir -p "$P"
config=${BRUM_TEST_CONFIG:-normal}
runs=12
[ "$config" = tsan ] && runs=4 # TSan: ~10x slower; the lines are checked, RSS is not

measure_rss=false
if [ "$config" != tsan ] && [ -x /usr/bin/time ]; then
  measure_rss=true
  echo '{"scripts": {"t": "true"}}' >"$P/package.json"
  /usr/bin/time -f '%M' -o "$TMP/rss0" "$BRUM" --headless --shell -d "$P" t >/dev/null 2>&1
  base=$(tail -1 "$TMP/rss0")
  echo "idle run: peak RSS $base KB"
fi

pick() { # pick VAR WORD...: VAR=one of the words, from $RANDOM (no subshell: it would reseed)
  local var=$1
  shift
  local a=("$@")
  printf -v "$var" '%s' "${a[RANDOM % ${#a[@]}]}"
}

for seed in $(seq 1 $runs); do
  RANDOM=$seed
  pick max_lines 1 2 3 10 100 2100 100000
  pick max_bytes 64K 1M 16M 16M
  pick pty "" --no-pty
  if [ "$max_bytes" = 16M ]; then
    # past twice the budget, so that holding on to printed chunks would show in the RSS
    pick rate 20000000 40000000 0
    bytes=40000000
  else
    # about 1.5 s at the reader's speed, 1.5-24 MB
    pick rate 1000000 4000000 10000000 40000000 0
    bytes=$(( rate ? rate * 3 / 2 : 24000000 ))
    [ "$bytes" -gt 24000000 ] && bytes=24000000
  fi
  [ "$config" = tsan ] && bytes=$((bytes / 4))
  count=$(( bytes / 12600 )) # lines of 0-200 KiB, one in eight long: ~12.6 KB on average
  pick cr 0 10 50
  pick procs 1 1 2
  specs=() scripts=""
  for i in $(seq 1 "$procs"); do
    spec="lines:$((seed * 10 + i)):$((count / procs)):0:204800:$cr"
    specs+=("$spec" "gen$i")
    scripts+="${scripts:+, }\"gen$i\": \"$L gen $spec\""
  done
  echo "{\"scripts\": {$scripts}}" >"$P/package.json"
  what="seed $seed: $procs x $((count / procs)) lines, --max-lines $max_lines --max-bytes $max_bytes ${pty:-(pty)}, reader var:$rate, cr $cr%"
  /usr/bin/time -f '%M' -o "$TMP/rss" timeout 60 "$BRUM" --headless --shell -d "$P" $pty \
    --max-lines "$max_lines" --max-bytes "$max_bytes" gen1 ${specs[3]:+gen2} 2>"$TMP/err" |
    "$L" check "${specs[@]}" "var:$seed:$rate" 2>"$TMP/check"
  st=("${PIPESTATUS[@]}")
  sed 's/^/  /' "$TMP/check"
  check "$what: every line once, in order" [ "${st[1]}" -eq 0 ]
  check "$what: brum exits 0 (was ${st[0]})" [ "${st[0]}" -eq 0 ]
  if $measure_rss; then
    rss=$(tail -1 "$TMP/rss")
    case $max_bytes in 64K) kb=64 ;; 1M) kb=1024 ;; 16M) kb=16384 ;; esac
    lim=$((2 * kb * procs))
    if [ "$max_bytes" = 16M ] && [ "$config" = normal ]; then
      check "$what: peak RSS $rss KB < $lim KB (2 x --max-bytes)" [ "$rss" -lt "$lim" ]
    elif [ "$max_bytes" = 16M ]; then
      check "$what: peak RSS $rss KB - idle $base KB < $lim KB (2 x --max-bytes)" \
        [ $((rss - base)) -lt "$lim" ]
    else
      # a small budget is below brum's fixed costs: the output batch, the parser's and reading
      # buffers, and ~10 ms of churn waiting for RCU reclamation (ASan also quarantines 4 MB)
      fixed=$([ "$config" = normal ] && echo 6144 || echo 16384)
      check "$what: peak RSS $rss KB - idle $base KB < $lim KB + $fixed KB" \
        [ $((rss - base)) -lt $((lim + fixed)) ]
    fi
  fi
done

finish
