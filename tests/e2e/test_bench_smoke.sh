#!/usr/bin/env bash
# Smoke test of the benchmarks (bench/): every micro-benchmark runs for a moment, the pipeline
# helpers run on a few lines, so they do not rot. No timing is asserted.
. "$(dirname "$0")/lib.sh"
BENCH_DIR="${BRUM_BUILD_DIR:?}/bench"
BB="$BENCH_DIR/brum-bench"
if [ ! -x "$BB" ]; then
  cmake --build "$BRUM_BUILD_DIR" --target brum-bench flood_writer pty_drain key_flood >/dev/null 2>&1
fi
check "brum-bench is built" test -x "$BB"

# every case, one short run each, on a small data set
"$BB" --benchtime 1ms --count 1 --lines 2000 --json "$TMP/out.json" >"$TMP/out.txt" 2>"$TMP/err.txt"
rc=$?
check "brum-bench exits 0" test "$rc" -eq 0
[ "$rc" -eq 0 ] || { tail -20 "$TMP/err.txt"; tail -5 "$TMP/out.txt"; }
listed=$("$BB" --list | wc -l)
ran=$(grep -c '^Benchmark.* ns/op' "$TMP/out.txt")
check "every listed case printed a result ($ran of $listed)" test "$listed" -gt 50 -a "$ran" -eq "$listed"
check "Go benchmark format" grep -qE '^BenchmarkSnapRead/rcu/idle-1 +[0-9]+ +[0-9.]+ ns/op +[0-9]+ B/op +[0-9]+ allocs/op' "$TMP/out.txt"
check "allocations are counted" grep -qE '^BenchmarkSnapPublish/rcu-1 .* [1-9][0-9]* allocs/op' "$TMP/out.txt"
check "json written" grep -q '"ns_per_op"' "$TMP/out.json"
check "--filter picks cases" bash -c '[ "$("$1" --list --filter "^BenchmarkFilter/" | wc -l)" -eq 4 ]' _ "$BB"
"$BB" --store-memory 5000 >"$TMP/mem.txt"
check "store memory report" grep -q '^store_bytes_per_line ' "$TMP/mem.txt"

# pipeline helpers
if [ -x "$BENCH_DIR/flood_writer" ] && [ -x "$BENCH_DIR/pty_drain" ]; then
  "$BENCH_DIR/flood_writer" -n 1000 -t "$TMP/t1" >"$TMP/flood.txt"
  check "flood_writer writes its lines" test "$(wc -l <"$TMP/flood.txt")" -eq 1000
  check "flood_writer records its time" grep -q 'lines=1000 ' "$TMP/t1"
  "$BENCH_DIR/pty_drain" "$BENCH_DIR/flood_writer" -n 1000 -t "$TMP/t2" 2>"$TMP/drain.txt"
  check "pty_drain drains a PTY" grep -q 'bytes=[1-9]' "$TMP/drain.txt"
  "$BENCH_DIR/flood_writer" -r 100000 -n 500 -t "$TMP/t3" >"$TMP/paced.txt"
  check "flood_writer -r writes its lines" test "$(wc -l <"$TMP/paced.txt")" -eq 500
  check "flood_writer -r records its rate" grep -q 'lines=500 ' "$TMP/t3"
else
  bad "pipeline helpers are built"
fi

# the key latency harness, three presses under a small flood, with brum's trace
if [ -x "$BENCH_DIR/key_flood" ]; then
  "$BENCH_DIR/key_flood" -b "$BRUM" -w "$BENCH_DIR/flood_writer" -r 10000 -n 3 -T "$TMP/trace" \
    -l smoke >"$TMP/kf.txt" 2>&1
  rc=$?
  check "key_flood exits 0" test "$rc" -eq 0
  [ "$rc" -eq 0 ] || cat "$TMP/kf.txt"
  check "key_flood measures every press" grep -qE '^smoke +p50 .*\(3 presses\)' "$TMP/kf.txt"
  check "brum's trace splits the presses" grep -qE 'read -> frame start .*\(3 presses\)' "$TMP/kf.txt"
  check "brum's trace counts its frames" grep -qE 'brum: frames [1-9]' "$TMP/kf.txt"
else
  bad "key_flood is built"
fi

# the load benchmark, on 1,000 scripts
SCRIPTS=1000 REPS=1 bash "$BRUM_SOURCE_DIR/bench/load_scripts.sh" "$BRUM" >"$TMP/load.txt" 2>&1
check "load_scripts.sh runs and lists every script" grep -q '^1000 scripts (.*Target' "$TMP/load.txt"
finish
