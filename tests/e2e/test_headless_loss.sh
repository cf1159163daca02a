#!/usr/bin/env bash
# Headless mode under a slow reader (issue 15, items 1-3): no line lost, none twice, in order,
# for any --max-lines and --max-bytes; brum exits; memory stays within the store's limits.
. "$(dirname "$0")/lib.sh"
: "${BRUM_LINES:?BRUM_LINES must point at the brum_lines helper}"
export NO_COLOR=1
L=$BRUM_LINES
P=$TMP/p
mkdir -p "$P"
cat >"$P/package.json" <<EOF
{"scripts": {
  "long": "$L gen lines:1:600:16000:16000:0",
  "oneline": "$L gen lines:2:1:20000000:20000000:0",
  "seq": "seq 1 200000",
  "seq1k": "seq 1 1000",
  "seq20k": "seq 1 20000",
  "mixed": "$L gen lines:3:400:0:200000:30",
  "empty": "$L gen lines:4:1000000:0:0:0",
  "huge": "$L gen lines:5:1:100000000:100000000:0",
  "t": "true"
}}
EOF

# run NAME SPEC RATE BRUM-OPTIONS...: brum --headless NAME read by the checker at RATE
run() {
  local name=$1 spec=$2 rate=$3; shift 3
  timeout 60 "$BRUM" --headless --shell -d "$P" "$@" "$name" 2>"$TMP/err" |
    "$L" check "$spec" "$name" "$rate" 2>"$TMP/check"
  local st=("${PIPESTATUS[@]}")
  cat "$TMP/check"
  [ "${st[0]}" -eq 0 ] && [ "${st[1]}" -eq 0 ]
}

# 1. 16 KB lines past the byte limit: reading pauses on bytes as well as lines
check "16 KB lines, --max-bytes 1M, reader at 8 MB/s: every line" \
  run long lines:1:600:16000:16000:0 8000000 --max-bytes 1M
# a 20 MB line: 306 pieces of 64 KiB, each counts against the limits
check "20 MB line, --max-bytes 1M, slow reader: every piece" \
  run oneline lines:2:1:20000000:20000000:0 var:2:20000000 --max-bytes 1M
check "--max-lines 2100, seq 1 200000, slow reader: every line" \
  run seq seq:200000 var:3:2000000 --max-lines 2100
check "--max-lines 2100 --no-pty (a read holds more lines than that), slow reader: every line" \
  run seq seq:200000 var:3:2000000 --max-lines 2100 --no-pty
check "--no-pty, 1M empty lines, slow reader: every line" \
  run empty lines:4:1000000:0:0:0 var:4:5000000 --no-pty
check "--no-pty --max-lines 60000, 1M empty lines, slow reader: every line" \
  run empty lines:4:1000000:0:0:0 var:4:5000000 --no-pty --max-lines 60000
check "random lengths up to 200 KiB with \\r rewrites, --max-lines 3 --max-bytes 64K" \
  run mixed lines:3:400:0:200000:30 var:5:20000000 --max-lines 3 --max-bytes 64K

# 2. small --max-lines: no hang (reading paused at half of it, resumed only after 1,024 lines)
check "--max-lines 1000, seq 1 1000: exits with every line" run seq1k seq:1000 0 --max-lines 1000
check "--max-lines 1, seq 1 20000: exits with every line" run seq20k seq:20000 0 --max-lines 1
check "--max-lines 1 --no-pty, slow reader: exits with every line" \
  run seq20k seq:20000 var:6:200000 --max-lines 1 --no-pty

# 3. memory under a slow reader: the printer never blocks inside an RCU read section, so evicted
# chunks are reclaimed; a 100 MB line stays within twice the byte limit (--max-bytes 16M), also
# when the reader does not read for the first second
if [ "${BRUM_TEST_CONFIG:-normal}" != tsan ] && [ -x /usr/bin/time ]; then
  export ASAN_OPTIONS="${ASAN_OPTIONS:-}:quarantine_size_mb=4"
  /usr/bin/time -f '%M' -o "$TMP/rss0" "$BRUM" --headless --shell -d "$P" t >/dev/null 2>&1
  base=$(tail -1 "$TMP/rss0")
  limit=$((2 * 16 * 1024)) # KB
  # a sanitizer's own memory (shadow, allocator) is not brum's: count it from a trivial run
  [ "${BRUM_TEST_CONFIG:-normal}" != normal ] && limit=$((limit + base))
  /usr/bin/time -f '%M' -o "$TMP/rss" "$BRUM" --headless --shell -d "$P" --max-bytes 16M huge |
    "$L" check lines:5:1:100000000:100000000:0 huge stall:1000:50000000 2>"$TMP/check"
  st=("${PIPESTATUS[@]}")
  cat "$TMP/check"
  rss=$(tail -1 "$TMP/rss")
  check "100 MB line, stalled reader: every byte" [ "${st[1]}" -eq 0 ]
  check "100 MB line, stalled reader: peak RSS ${rss} KB under $limit KB (2 x --max-bytes; idle: $base KB)" \
    [ "$rss" -lt "$limit" ]
fi

finish
