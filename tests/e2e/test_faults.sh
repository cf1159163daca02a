#!/usr/bin/env bash
# Faults to survive (issue 6), part 1: processes and signals. Children that ignore SIGTERM, fork
# grandchildren or daemons; brum itself receiving SIGTERM, SIGINT, SIGHUP (also a closed terminal)
# and SIGKILL. The headless equivalents of some cases live in test_headless.sh.
. "$(dirname "$0")/lib.sh"
. "$BRUM_SOURCE_DIR/tests/fixtures/faults/helpers.sh"
command -v tmux >/dev/null || { echo "tmux is required"; exit 1; }
FIX="$BRUM_SOURCE_DIR/tests/fixtures/faults"
# The long-lived processes of "ignoreterm family sleeper": the 3 shells and the 2 `sleep 1000`
# (ignoreterm's `sleep 0.2` come and go: never counted).
# Scripts run as npm runs them, "sh -c TEXT" (argv[0] "sh").
LONG_LIVED='^(sh -c |sleep 1000$)'
# With --kill-timeout 1, brum's exit or "killed (9)" comes after the 1 s grace period: the lower
# bound is the claim. The upper bound only tells that grace from the 5 s default (or a hang) and
# leaves 3.5 s for a loaded machine; it is no performance claim (those are in bench/).
GRACE_BOUND_MS=4500

# --- a child that ignores SIGTERM: x stops it, SIGKILL after the grace period, "killed (9)"
start_tui 120 30 --shell --kill-timeout 1 -d "$FIX" ignoreterm
check "ignoreterm: running" wait_screen 'ignoreterm · running'
wait_screen 'ready [0-9]+' >/dev/null
leader=$(screen_num 'ready')
t0=$(now_ms) # before the key: the measured time can only be longer than brum's grace
keys x
check "ignoreterm: x says stopping, not stopped (SIGTERM ignored)" wait_screen 'ignoreterm · stopping'
check "ignoreterm: killed (9) after the grace period" wait_screen 'ignoreterm · killed \(9\)' 10
ms=$(( $(now_ms) - t0 ))
echo "# ignoreterm: x to 'killed (9)' on screen: ${ms} ms (--kill-timeout 1)"
check "ignoreterm: not before the 1 s grace period (${ms} ms)" [ "$ms" -ge 900 ]
check "ignoreterm: well before the 5 s default grace (${ms} ms)" [ "$ms" -lt "$GRACE_BOUND_MS" ]
check "ignoreterm: SIGKILL marker in the pane" wait_screen 'no exit after 1\.0 s: sent SIGKILL'
check "ignoreterm: its pid is gone" wait_for 5 pid_gone "$leader"
check "ignoreterm: no child left" wait_for 5 no_token_procs
keys q
check "ignoreterm: q quits at once (nothing running)" wait_screen 'BRUM-EXITED 0' 10

# --- a grandchild in the same process group: gone after x
start_tui 120 30 --shell -d "$FIX" family
check "family: grandchild started" wait_screen 'grandchild [0-9]+'
gpid=$(screen_num 'grandchild')
check "family: grandchild $gpid alive before stop" pid_alive "$gpid"
check "family: grandchild is in the leader's process group" \
  [ "$(ps -o pgid= -p "$gpid" | tr -d ' ')" = "$(ps -o sid= -p "$gpid" | tr -d ' ')" ]
keys x
check "family: stopped" wait_screen 'family · stopped'
check "family: grandchild gone after x (checked in /proc)" wait_for 5 pid_gone "$gpid"
check "family: no child left" wait_for 5 no_token_procs
keys q
check "family: brum exits" wait_screen 'BRUM-EXITED 0' 10

# --- a double-forked daemon in its own session: out of brum's reach (README, Guarantees)
start_tui 120 30 --shell -d "$FIX" daemon
check "daemon: started" wait_screen 'daemon [0-9]+'
wait_screen 'leader [0-9]+' >/dev/null
dpid=$(screen_num 'daemon')
lpid=$(screen_num 'leader')
check "daemon: in a session of its own" [ "$(ps -o sid= -p "$dpid" | tr -d ' ')" = "$dpid" ]
keys x
check "daemon: leader stopped" wait_screen 'daemon · stopped'
check "daemon: leader gone" wait_for 5 pid_gone "$lpid"
keys q
check "daemon: brum exits" wait_screen 'BRUM-EXITED 0' 10
# documented behaviour: the daemon outlives stop and quit (brum cannot find it)
check "daemon: survives stop and quit, as documented" pid_alive "$dpid"
kill -KILL "$dpid" 2>/dev/null
check "daemon: cleaned up by the test" wait_for 5 pid_gone "$dpid"

# --- brum receives SIGTERM / SIGINT / SIGHUP: every child stopped (one ignores SIGTERM and
# needs the SIGKILL), exit after the grace period, terminal restored
for sig in TERM INT HUP; do
  start_tui_probe 120 30 --shell --kill-timeout 1 -d "$FIX" ignoreterm family sleeper
  wait_screen 'ignoreterm · running' >/dev/null
  check "SIG$sig: children running (3 shells, 2 sleep 1000)" wait_token_count 5 "$LONG_LIVED"
  bpid=$(brum_pid)
  check "SIG$sig: brum pid found" [ -n "$bpid" ]
  t0=$(now_ms)
  kill -"$sig" "$bpid"
  wait_for 10 pid_gone "$bpid"
  ms=$(( $(now_ms) - t0 ))
  echo "# SIG$sig: brum exited ${ms} ms after the signal (--kill-timeout 1, a child ignores SIGTERM)"
  check "SIG$sig: brum exits well before the 5 s default grace (${ms} ms)" [ "$ms" -lt "$GRACE_BOUND_MS" ]
  check "SIG$sig: shell prints the exit marker" wait_screen 'BRUM-EXITED 0' 5
  check "SIG$sig: every child gone" wait_for 5 no_token_procs
  check "SIG$sig: alternate screen left" [ "$(tm display -p -t t '#{alternate_on}')" = 0 ]
  check "SIG$sig: cursor visible" [ "$(tm display -p -t t '#{cursor_flag}')" = 1 ]
  check "SIG$sig: mouse reporting off" [ "$(tm display -p -t t '#{mouse_any_flag}#{mouse_button_flag}#{mouse_sgr_flag}')" = 000 ]
  check "SIG$sig: line discipline restored (icanon echo isig icrnl opost)" \
    wait_screen '^TTY: icanon echo isig icrnl opost *$' 5
  # the screen is usable: typed text echoes and a line is read
  keys -l "typed after $sig"; keys Enter
  check "SIG$sig: typing works after exit" wait_screen "^GOT: typed after $sig\$" 5
done

# --- the terminal closes (tmux kill-session): brum gets SIGHUP, stops every child, exits
start_tui 120 30 --shell --kill-timeout 1 -d "$FIX" ignoreterm family sleeper
wait_screen 'ignoreterm · running' >/dev/null
check "closed terminal: children running (3 shells, 2 sleep 1000)" wait_token_count 5 "$LONG_LIVED"
bpid=$(brum_pid)
check "closed terminal: brum pid found" [ -n "$bpid" ]
t0=$(now_ms)
tm kill-session -t t
check "closed terminal: brum exits" wait_for 10 pid_gone "$bpid"
ms=$(( $(now_ms) - t0 ))
echo "# closed terminal: brum exited ${ms} ms after kill-session (--kill-timeout 1)"
check "closed terminal: well before the 5 s default grace (${ms} ms)" [ "$ms" -lt "$GRACE_BOUND_MS" ]
check "closed terminal: every child gone" wait_for 5 no_token_procs

# --- brum crashes (a fatal signal it catches): the terminal is restored, the PTY hangup ends
# the children
for sig in SEGV ABRT; do
  start_tui_probe 120 30 --shell -d "$FIX" sleeper
  check "SIG$sig crash: child running" wait_screen 'sleeper [0-9]+'
  spid=$(screen_num 'sleeper')
  kill -"$sig" "$(brum_pid)"
  check "SIG$sig crash: brum dies of it" wait_screen "BRUM-EXITED $((128 + $(kill -l "$sig")))" 10
  check "SIG$sig crash: alternate screen left" [ "$(tm display -p -t t '#{alternate_on}')" = 0 ]
  check "SIG$sig crash: cursor visible, mouse off" [ "$(tm display -p -t t '#{cursor_flag}#{mouse_any_flag}#{mouse_button_flag}#{mouse_sgr_flag}')" = 1000 ]
  check "SIG$sig crash: line discipline restored" wait_screen '^TTY: icanon echo isig icrnl opost *$' 5
  keys -l "typed after $sig"; keys Enter
  check "SIG$sig crash: typing works after exit" wait_screen "^GOT: typed after $sig\$" 5
  check "SIG$sig crash: the child got the hangup and exited" wait_for 5 pid_gone "$spid"
done

# --- brum is SIGKILLed: the PTY hangs up, normal children get SIGHUP and exit
BRUM_E2E_TOKEN=$TOKEN "$BRUM" --headless --shell -d "$FIX" sleeper looper family hupper >"$TMP/kill9" 2>&1 &
bpid=$!
started() { grep -q 'looper [0-9]' "$1" && grep -q 'sleeper [0-9]' "$1" && grep -q 'grandchild [0-9]' "$1" && grep -q 'hupper [0-9]' "$1"; }
check "SIGKILL: every child printed its pid" wait_for 10 started "$TMP/kill9"
spid=$(sed -n 's/.*sleeper \([0-9][0-9]*\).*/\1/p' "$TMP/kill9" | head -1)
lpid=$(sed -n 's/.*looper \([0-9][0-9]*\).*/\1/p' "$TMP/kill9" | head -1)
gpid=$(sed -n 's/.*grandchild \([0-9][0-9]*\).*/\1/p' "$TMP/kill9" | head -1)
all_alive() { local p; for p; do pid_alive "$p" || return 1; done; }
check "SIGKILL: children running" all_alive "$spid" "$lpid" "$gpid"
{ kill -KILL "$bpid"; wait "$bpid"; } 2>/dev/null # bash's "Killed" notice included
check "SIGKILL: 'sh; sleep 1000' gets the hangup and exits" wait_for 5 pid_gone "$spid"
check "SIGKILL: a 'while :; do sleep 1; done' loop exits" wait_for 5 pid_gone "$lpid"
check "SIGKILL: the foreground grandchild exits too" wait_for 5 pid_gone "$gpid"
# documented limit: a process that ignores SIGHUP outlives a SIGKILLed brum
hpid=$(sed -n 's/.*hupper \([0-9][0-9]*\).*/\1/p' "$TMP/kill9" | head -1)
check "SIGKILL: a child ignoring SIGHUP survives, as documented" pid_alive "$hpid"
kill -KILL "$hpid" 2>/dev/null; pkill -KILL -s "$hpid" 2>/dev/null
check "SIGKILL: nothing of ours left (after the test's cleanup)" wait_for 5 no_token_procs

finish
