#!/usr/bin/env bash
# brum -r GLOB: a script across a workspace's packages, in dependency order (a depends on b, b on
# c), bailing at the first failure, at most --concurrency at once, and its group in the sidebar.
. "$(dirname "$0")/lib.sh"
CHAIN="$BRUM_SOURCE_DIR/tests/fixtures/runall/chain"
FLAT="$BRUM_SOURCE_DIR/tests/fixtures/runall/flat"
export NO_COLOR=1

# line number of the first line matching ERE $2 in $1 (0: none)
line_of() { grep -nE -- "$2" <<<"$1" | head -1 | cut -d: -f1 | grep . || echo 0; }
in_order() { # in_order TEXT RE1 RE2 RE3: each found, in that order
  local a b c
  a=$(line_of "$1" "$2"); b=$(line_of "$1" "$3"); c=$(line_of "$1" "$4")
  [ "$a" -gt 0 ] && [ "$a" -lt "$b" ] && [ "$b" -lt "$c" ]
}

out=$("$BRUM" --headless -d "$CHAIN" -r '*:build' 2>&1); rc=$?
check "-r '*:build' exits 0" [ "$rc" -eq 0 ]
check "c, then b, then a" in_order "$out" '^\[c:build\] built c$' '^\[b:build\] built b$' '^\[a:build\] built a$'
check "b started after c ended" in_order "$out" '^\[c:build\] ── exited with code 0' '^\[b:build\] > b@1.0.0 build' '^\[a:build\] > a@1.0.0 build'
check "combined result" grep -qx 'build 3/3 ok' <<<"$out"
check "only the build scripts ran" bash -c '! grep -qE "^\[(dev|test|a:test)" <<<"$1"' _ "$out"

out=$(BRUM_TEST_FAIL_B=3 "$BRUM" --headless -d "$CHAIN" -r '*:build' 2>&1); rc=$?
check "a failing package: its exit code" [ "$rc" -eq 3 ]
check "a failing package: named" grep -qE '^b:build +failed \(3\)' <<<"$out"
check "a failing package: its dependent did not run" grep -q 'a:build did not start: dependency b:build failed' <<<"$out"
check "a failing package: a did not print" bash -c '! grep -q "^\[a:build\] built a" <<<"$1"' _ "$out"
check "a failing package: combined result" grep -qx 'build 1/3 ok, 1 failed, 1 not run' <<<"$out"

out=$("$BRUM" --headless -d "$CHAIN" -r '*:bild' 2>&1); rc=$?
check "no match: usage error" [ "$rc" -eq 2 ]
check "no match: says so" grep -q "no script matches '\*:bild'" <<<"$out"
check "no match: lists the scripts" grep -q '^available: .*a:build' <<<"$out"

# From inside package a, `test` alone would mean a:test: the root's test still runs as itself.
out=$(cd "$CHAIN/packages/a" && "$BRUM" --headless -r '*:test' 2>&1); rc=$?
check "inside a package: exits 0" [ "$rc" -eq 0 ]
check "inside a package: the root's test ran" grep -qx '\[test *\] root test' <<<"$out"
check "inside a package: a's test ran" grep -qx '\[a:test\] test a' <<<"$out"
check "inside a package: combined result" grep -qx 'test 2/2 ok' <<<"$out"

out=$("$BRUM" -l -d "$CHAIN" -r '*:build' 2>&1)
check "--list shows what -r would start" grep -q '^would start: c:build, b:build, a:build$' <<<"$out"

out=$("$BRUM" --concurrency 0 -d "$CHAIN" -r '*:build' 2>&1); rc=$?
check "--concurrency 0 refused" [ "$rc" -eq 2 ]
check "--concurrency 0 says why" grep -q -- '--concurrency needs a whole number' <<<"$out"

# Three independent builds that each hold a lock directory for a second: one at a time never
# overlaps; three at once do (which shows the check can see an overlap), and the first failure
# stops the rest.
export BRUM_TEST_LOCK=$TMP/lock1
out=$("$BRUM" --headless --concurrency 1 -d "$FLAT" -r '*:build' 2>&1); rc=$?
check "--concurrency 1: no overlap" [ "$rc" -eq 0 ]
check "--concurrency 1: all three built" grep -qx 'build 3/3 ok' <<<"$out"
check "--concurrency 1: the others waited for a slot" bash -c '! grep -qE "^\[.:build\] . overlaps" <<<"$1"' _ "$out"
export BRUM_TEST_LOCK=$TMP/lock3
out=$("$BRUM" --headless --concurrency 3 -d "$FLAT" -r '*:build' 2>&1); rc=$?
check "--concurrency 3: builds overlap" grep -qE '^\[.:build\] . overlaps another build$' <<<"$out"
check "--concurrency 3: the failure's code" [ "$rc" -eq 9 ]
check "--concurrency 3: the rest stopped" grep -q 'failed: stopping the rest' <<<"$out"

# The TUI: the group row leads the sidebar and says how the run goes. c waits for a gate file.
export BRUM_TEST_GATE=$TMP/gate
start_tui 120 30 -d "$CHAIN" -r "'*:build'"
check "tui: the group row while c runs" wait_screen '^ ▾ build 1 running, 2 waiting, 0/3 done'
check "tui: the group's rows follow it" bash -c 'tmux -L "$1" capture-pane -p -t t | grep -A3 "^ ▾ build " | grep -qE "^ . a:build"' _ "$SOCK"
touch "$BRUM_TEST_GATE"
check "tui: the combined result" wait_screen '^ ▾ build 3/3 ok'
check "tui: the root package's other scripts listed apart, under its name" wait_screen '^ ▾ chain  '
keys q
check "tui: quits" wait_screen 'BRUM-EXITED 0'

# One at a time in the TUI: the second build says what it waits for.
export BRUM_TEST_LOCK=$TMP/lock-tui
start_tui 120 30 -d "$FLAT" --concurrency 1 -r "'*:build'"
check "tui: one running, two waiting" wait_screen '^ ▾ build 1 running, 2 waiting, 0/3 done'
keys j
check "tui: waiting for a slot" wait_screen 'y:build · waiting for a slot \(1 running\)'
check "tui: all three built, one at a time" wait_screen '^ ▾ build 3/3 ok' 20
keys q
check "tui: quits after the pool" wait_screen 'BRUM-EXITED 0'
finish
