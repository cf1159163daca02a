#!/usr/bin/env bash
# The process helpers of lib.sh, under churn: while processes that live a few milliseconds come
# and go (as a fixture's `while :; do sleep 0.2; done` does), a count of the long-lived ones is
# exact every time, a wait for a count ends when it is reached, and nothing is printed on stderr
# (a helper that lists a process and then reads its /proc files races with its exit).
. "$(dirname "$0")/lib.sh"
. "$BRUM_SOURCE_DIR/tests/fixtures/faults/helpers.sh"
ERR="$TMP/helpers.err"
: >"$ERR"

# 3 long-lived processes and a churn of short-lived ones, all carrying this test's token
for i in 1 2 3; do BRUM_E2E_TOKEN=$TOKEN sleep 1000 & done
BRUM_E2E_TOKEN=$TOKEN bash -c 'while :; do sleep 0.001; /bin/true; done' &
churn=$!
check "wait for 3 long-lived processes" wait_token_count 3 '^sleep 1000$' 2>>"$ERR"

# 40 samples under churn: never one short, never a short-lived one counted, and the churn loop
# once (not also its forks that have not exec'd sleep or true yet)
wrong="" loops=""
for i in $(seq 1 40); do
  n=$(count_token_cmd '^sleep 1000$' 2>>"$ERR")
  [ "$n" -eq 3 ] || wrong="$wrong $n"
  n=$(count_token_cmd '^bash -c while' 2>>"$ERR")
  [ "$n" -eq 1 ] || loops="$loops $n"
done
check "40 counts under churn are all exactly 3${wrong:+ (got$wrong)}" [ -z "$wrong" ]
check "the churn loop counted once each time${loops:+ (got$loops)}" [ -z "$loops" ]
# the churn loop itself is listed, and so is every long-lived process, each once
procs=$(token_procs 2>>"$ERR")
check "the churn loop is one of the test's processes" grep -qw "$churn" <<<"$procs"

# a wait sees a process that starts later
(sleep 0.3; BRUM_E2E_TOKEN=$TOKEN exec sleep 1001) &
check "wait for a process that starts 0.3 s later" wait_token_count 1 '^sleep 1001$' 2>>"$ERR"

# pid_alive of nothing, of a zombie, of a live process
not() { ! "$@"; }
check "pid_alive: an empty pid is not alive" not pid_alive "" 2>>"$ERR"
# a zombie: its parent (exec'd into sleep 5) never reaps it
sh -c 'sleep 0.3 & echo $! >"$1"; exec sleep 5' _ "$TMP/zombie" &
zparent=$!
wait_for 5 test -s "$TMP/zombie"
zpid=$(cat "$TMP/zombie")
check "a zombie to test with (exited, not reaped)" wait_for 5 grep -q '^State:.*Z' "/proc/$zpid/status"
check "pid_gone: a zombie is gone" pid_gone "$zpid" 2>>"$ERR"
kill "$zparent"
check "pid_alive: a live process" pid_alive "$churn"

# everything ends: the wait for "none left" ends too
kill "$churn"
wait "$churn" 2>/dev/null
for p in $(jobs -p); do kill "$p" 2>/dev/null; done
wait 2>/dev/null
check "no process of the test left after cleanup" wait_for 5 no_token_procs 2>>"$ERR"

# brum_pid finds the brum inside tmux; its children are counted, brum itself is not
if command -v tmux >/dev/null; then
  start_tui 100 30 --shell -d "$BRUM_SOURCE_DIR/tests/fixtures/faults" sleeper
  check "TUI: the sleeper runs" wait_screen 'sleeper [0-9]+'
  bpid=$(brum_pid 2>>"$ERR")
  check "brum_pid: the process runs \$BRUM" test "/proc/$bpid/exe" -ef "$BRUM"
  check "TUI: its shell and its sleep 1000 are counted" \
    wait_token_count 2 '^(sh -c echo "sleeper|sleep 1000$)' 10 2>>"$ERR"
  check "TUI: brum itself is not" not grep -q "^$bpid " <<<"$(token_procs 2>>"$ERR")"
  tm kill-session -t t
  check "TUI: brum ends with its terminal" wait_for 10 pid_gone "$bpid"
  check "TUI: nothing left" wait_for 5 no_token_procs 2>>"$ERR"
fi

check "the helpers printed nothing on stderr" test ! -s "$ERR"
[ -s "$ERR" ] && head -5 "$ERR"
finish
