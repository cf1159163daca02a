#!/usr/bin/env bash
# Headless --stdin: brum's standard input goes to one process, its end becomes the end of that
# process's input (the terminal's EOF character on a PTY, the pipe closed with --no-pty).
. "$(dirname "$0")/lib.sh"
F="$BRUM_SOURCE_DIR/tests/fixtures/term"
export NO_COLOR=1

out=$(printf 'yes\n' | timeout 30 "$BRUM" --headless -d "$F" --stdin ask ask 2>&1); rc=$?
check "a prompt answered from stdin exits 0" [ "$rc" -eq 0 ]
check "the answer reached the process" grep -q '^\[ask\] .*answer:yes' <<<"$out"

out=$(printf 'one\ntwo\nthree\n' | timeout 30 "$BRUM" --headless --no-pty -d "$F" --stdin count count 2>&1); rc=$?
check "--no-pty: the child reads a pipe to its end" [ "$rc" -eq 0 ]
check "--no-pty: every line arrived" grep -q '^\[count\] lines=3$' <<<"$out"

out=$(printf 'x\ny\n' | timeout 30 "$BRUM" --headless -d "$F" --stdin drain drain 2>&1); rc=$?
check "PTY: the end of stdin is the terminal's EOF" grep -q '^\[drain\] eof-reached$' <<<"$out"

out=$(printf 'no newline at the end' | timeout 30 "$BRUM" --headless -d "$F" --stdin drain drain 2>&1); rc=$?
check "PTY: a last line without its newline, then the end (the echo shares its line)" \
  bash -c '[ "$1" -eq 0 ] && grep -q "^\[drain\] no newline at the endeof-reached$" <<<"$2"' _ "$rc" "$out"

# a child slower than stdin (it reads nothing for a second): brum waits for it, nothing is dropped
out=$(head -c 300000 /dev/zero | tr '\0' x | timeout 60 "$BRUM" --headless --no-pty -d "$F" \
  --stdin slowcount slowcount 2>&1); rc=$?
check "300,000 bytes to a slow reader: all of them arrive" grep -q '^\[slowcount\] bytes=300000$' <<<"$out"
check "and nothing was dropped" bash -c '! grep -q "input dropped" <<<"$1"' _ "$out"

out=$(timeout 30 "$BRUM" --headless -d "$F" --stdin drain drain 2>&1 </dev/null); rc=$?
check "an empty stdin ends the input at once" grep -q '^\[drain\] eof-reached$' <<<"$out"

out=$(printf 'yes\n' | timeout 30 "$BRUM" --headless -d "$F" --stdin nope ask 2>&1); rc=$?
check "--stdin of an unknown script is an error (2)" [ "$rc" -eq 2 ]
check "the error names it" grep -q -- "--stdin nope: no script of that name" <<<"$out"

out=$(printf 'yes\n' | timeout 30 "$BRUM" --headless -d "$F" --stdin other ask 2>&1); rc=$?
check "--stdin of a script this run does not start is an error (2)" [ "$rc" -eq 2 ]
check "that error says so" grep -q -- "this run does not start other" <<<"$out"

out=$("$BRUM" -d "$F" --stdin ask 2>&1 </dev/null); rc=$?
check "--stdin without --headless is a usage error" [ "$rc" -eq 2 ]
check "which says --headless" grep -q -- "needs --headless" <<<"$out"

out=$(TERM=screen timeout 30 "$BRUM" --headless -d "$F" showterm 2>&1 </dev/null)
check "children in a PTY get TERM=xterm-256color" grep -q '^\[showterm\] TERM=xterm-256color$' <<<"$out"

finish
