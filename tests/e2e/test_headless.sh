#!/usr/bin/env bash
# Headless mode end to end: prefixes, exit codes, stopping, and what children print.
. "$(dirname "$0")/lib.sh"
DEMO="$BRUM_SOURCE_DIR/examples/demo"
T="$BRUM_SOURCE_DIR/tests/fixtures/torture"
export NO_COLOR=1

# build + test + lint: three prefixed streams, exit code of the first failure (test and lint fail with 1)
out=$("$BRUM" --headless --shell -d "$DEMO" build test lint 2>&1); rc=$?
check "demo build/test/lint exits 1" [ "$rc" -eq 1 ]
check "build stream prefixed" grep -q '^\[build\] ' <<<"$out"
check "test stream prefixed" grep -q '^\[test \] ' <<<"$out"
check "lint stream prefixed" grep -q '^\[lint \] ' <<<"$out"
check "summary at exit" grep -q '^── summary ──$' <<<"$out"
check "summary: test results" grep -qE '^test +failed \(1\) +2 errors, 0 warnings +tests \(jest\): 11 passed, 1 failed' <<<"$out"
check "summary: build ok with its warning" grep -qE '^build +exited ok +0 errors, 1 warning +build ok' <<<"$out"
check "build progress kept only its last state" bash -c '! grep -q "building\.\.\. 10%" <<<"$1"' _ "$out"

out=$("$BRUM" --headless --shell -d "$T" ok fail3 2>&1); rc=$?
check "exit code of the failing script" [ "$rc" -eq 3 ]
check "ok printed" grep -q '^\[ok   \] hello from ok$' <<<"$out"

out=$("$BRUM" --headless --shell -d "$T" selfkill 2>&1); rc=$?
check "signal N gives 128+N" [ "$rc" -eq 137 ]

out=$("$BRUM" --headless --shell -d "$T" nocmd 2>&1); rc=$?
check "missing command exits 127" [ "$rc" -eq 127 ]
check "missing command says so" grep -q 'command not found' <<<"$out"

out=$("$BRUM" --headless --shell -d "$T" progress 2>&1)
check "\\r progress keeps the last state" grep -qx '\[progress\] 30%' <<<"$out"
check "\\r + erase line" grep -qx '\[progress\] b' <<<"$out"

out=$("$BRUM" --headless --shell -d "$T" binary 2>&1); rc=$?
check "binary output survives" [ "$rc" -eq 0 ]
check "invalid UTF-8 passed through, NUL dropped" grep -qa $'bad \xff\xfe utf8nul' <<<"$out"
check "lone ESC dropped" grep -qa '^\[binary\] lone $' <<<"$out"
check "line after a lone ESC intact" grep -qa '^\[binary\] next$' <<<"$out"

out=$("$BRUM" --headless --shell -d "$T" color 2>&1)
check "NO_COLOR: plain text" grep -qx '\[color\] red plain green' <<<"$out"
out=$(NO_COLOR= script -qec "$BRUM --headless --shell -d $T color" /dev/null 2>&1)
check "colour on a terminal: prefix and line colours" grep -qa $'\e\\[0;38;5;1mred' <<<"$out"

out=$("$BRUM" --headless --shell -d "$T" query 2>&1)
check "terminal query answered" grep -q 'answered' <<<"$out"

out=$("$BRUM" --headless --shell -d "$T" late 2>&1)
check "grandchild output after the parent exited" grep -q 'late line' <<<"$out"

# a 10 MB line: split into 64 KiB pieces, memory bounded
if command -v /usr/bin/time >/dev/null; then
  /usr/bin/time -f '%M' -o "$TMP/rss" "$BRUM" --headless --shell -d "$T" longline >"$TMP/long" 2>&1
  rss=$(tail -1 "$TMP/rss")
  check "10 MB line: peak RSS under $((RSS_LIMIT_KB / 1024)) MB (was ${rss} KB)" [ "$rss" -lt "$RSS_LIMIT_KB" ]
  check "10 MB line: every byte kept" [ "$(sed -n "/^\[longline\] aaa/p" "$TMP/long" | sed 's/^\[longline\] //' | tr -d '\n' | wc -c)" -eq 10000000 ]
  check "10 MB line: next line intact" grep -qx '\[longline\] after' "$TMP/long"
fi

# unknown script: exit 2, lists what exists
out=$("$BRUM" --headless -d "$T" nope 2>&1); rc=$?
check "unknown script exits 2" [ "$rc" -eq 2 ]
check "unknown script lists available" grep -q 'available:.*fail3' <<<"$out"

# invalid regex: exit 2 with the offset
out=$("$BRUM" --headless -d "$T" --filter '(' ok 2>&1); rc=$?
check "invalid regex exits 2" [ "$rc" -eq 2 ]
check "invalid regex gives the offset" grep -q 'offset 1' <<<"$out"

out=$("$BRUM" --headless --shell -d "$DEMO" --filter '^\s*\d+:\d+\s+error' lint 2>&1)
check "--filter keeps matching lines" grep -q 'error' <<<"$out"
check "--filter drops the others" bash -c '! grep -q "warning  " <<<"$1"' _ "$out"

# malformed package.json: line:col
mkdir -p "$TMP/bad" && printf '{\n  "scripts": {\n    "a": "x",\n  }\n}\n' >"$TMP/bad/package.json"
out=$("$BRUM" --list -d "$TMP/bad" 2>&1); rc=$?
check "malformed package.json exits 2" [ "$rc" -eq 2 ]
check "malformed package.json gives line:col" grep -q 'package.json:4:' <<<"$out"
out=$("$BRUM" --list -d "$TMP/nowhere" 2>&1); rc=$?
check "missing directory exits 2" [ "$rc" -eq 2 ]

# Ctrl-C (SIGINT) stops a long-running script cleanly; the grandchild is gone too
"$BRUM" --headless --shell -d "$T" grandchild >"$TMP/gc" 2>&1 &
bpid=$!
wait_for 10 grep -q 'grandchild [0-9]' "$TMP/gc"
gpid=$(sed -n 's/.*grandchild \([0-9][0-9]*\).*/\1/p' "$TMP/gc" | head -1)
check "grandchild running" pid_alive "$gpid"
kill -INT "$bpid"
wait_for 10 pid_gone "$bpid"; wait "$bpid"; rc=$?
check "SIGINT: brum exits 130" [ "$rc" -eq 130 ]
check "SIGINT: grandchild gone" wait_for 5 pid_gone "$gpid"

# SIGTERM to brum: same
"$BRUM" --headless --shell -d "$T" grandchild >"$TMP/gc2" 2>&1 &
bpid=$!
wait_for 10 grep -q 'grandchild [0-9]' "$TMP/gc2"
gpid=$(sed -n 's/.*grandchild \([0-9][0-9]*\).*/\1/p' "$TMP/gc2" | head -1)
kill -TERM "$bpid"
wait_for 10 pid_gone "$bpid"; wait "$bpid"; rc=$?
check "SIGTERM: brum exits 143" [ "$rc" -eq 143 ]
check "SIGTERM: grandchild gone" wait_for 5 pid_gone "$gpid"

# a child that traps SIGTERM is SIGKILLed after the grace period
"$BRUM" --headless --shell --kill-timeout 1 -d "$T" trapterm >"$TMP/trap" 2>&1 &
bpid=$!
wait_for 10 grep -q 'ready' "$TMP/trap"
start=$(date +%s%N)
kill -INT "$bpid"
wait_for 10 pid_gone "$bpid"; wait "$bpid"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
check "trapped SIGTERM: killed after the 1 s grace period (took ${ms} ms)" [ "$ms" -ge 900 ] 
check "trapped SIGTERM: SIGKILL marker" grep -q 'sent SIGKILL' "$TMP/trap"
check "trapped SIGTERM: it got the TERM" grep -q 'got TERM' "$TMP/trap"

# Lines from several processes print in the order they arrived, even when the printer takes them
# in one batch: it is held up by a reader that waits (the pipe is full of f's lines) while x, y
# and x print in turn.
O=$TMP/order
mkdir -p "$O"
cat >"$O/Procfile" <<EOF
f: yes filler-line-of-forty-bytes-for-the-pipe-buffer | head -n 20000
x: sleep 0.3; echo x-first; touch $O/a; while [ ! -e $O/b ]; do sleep 0.02; done; sleep 0.5; echo x-third
y: while [ ! -e $O/a ]; do sleep 0.02; done; sleep 0.5; echo y-second; touch $O/b
EOF
# (the pauses let brum read each line before the next is written, under sanitizers too: the
# order brum reads them in is the order it prints)
"$BRUM" --headless -d "$O" f x y 2>&1 | { sleep 3; cat; } >"$O/out"
order_ok() {
  local a b c
  a=$(grep -n 'x-first' "$O/out" | cut -d: -f1); b=$(grep -n 'y-second' "$O/out" | cut -d: -f1)
  c=$(grep -n 'x-third' "$O/out" | cut -d: -f1)
  [ -n "$a" ] && [ -n "$b" ] && [ -n "$c" ] && [ "$a" -lt "$b" ] && [ "$b" -lt "$c" ]
}
check "lines of several processes in arrival order" order_ok
check "every filler line printed" [ "$(grep -c '^\[f\] filler' "$O/out")" -eq 20000 ]

finish
