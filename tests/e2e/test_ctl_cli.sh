#!/usr/bin/env bash
# `brum ctl` against a real brum: the TUI runs in tmux on a fixture project, another shell drives
# it through the control socket, and the screen, the output and the exit codes are checked. Each
# wait polls with a deadline. lib.sh gives the test, and each TUI, a private XDG_RUNTIME_DIR:
# the socket (and the one-instance lock) stay away from any other brum of this user.
. "$(dirname "$0")/lib.sh"
command -v tmux >/dev/null || { echo "tmux is required"; exit 1; }
command -v python3 >/dev/null || { echo "python3 is required"; exit 1; }
# The fixture is copied: its subdirectory is where the nearest-ancestor lookup starts from.
PROJ="$TMP/proj"
mkdir -p "$PROJ/src/deep"
cp "$BRUM_SOURCE_DIR/tests/fixtures/ctl/package.json" "$PROJ/"

OUT="$TMP/out" ERR="$TMP/err"
# ctl ARGS...: brum ctl for the fixture; stdout in $OUT, stderr in $ERR, the status in $RC.
ctl() {
  "$BRUM" ctl -d "$PROJ" "$@" >"$OUT" 2>"$ERR"
  RC=$?
}
out_has() { grep -qE -- "$1" "$OUT"; }
err_has() { grep -qE -- "$1" "$ERR"; }
rc_is() { [ "$RC" -eq "$1" ]; }
json_ok() { # json_ok PYTHON-EXPR: every line of $OUT is JSON; EXPR (on r, the last one) is true
  python3 -c 'import json, sys
rs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
r = rs[-1]
sys.exit(0 if rs and eval(sys.argv[2]) else 1)' "$OUT" "$1"
}
ctl_ps_shows() { ctl ps && grep -qE -- "$1" "$OUT"; }
socket_ready() { compgen -G "$XDG_RUNTIME_DIR/brum/*.json" >/dev/null; }

# --- `brum -r ctl` still means a script named ctl: only a first argument "ctl" is the command
"$BRUM" -d "$PROJ" --headless -r ctl >"$OUT" 2>"$ERR"
RC=$?
check "brum -r ctl: a script named ctl (exit 2)" rc_is 2
check "brum -r ctl: no script named 'ctl'" err_has "no script named 'ctl'"

# --- no brum yet: exit 2, and the message says what to do
ctl ps
check "no brum: exit 2" rc_is 2
check "no brum: says to start brum there" err_has "no brum running for .*start brum in that directory"

start_tui 120 40 --shell -d "$PROJ"
export XDG_RUNTIME_DIR=$TUI_RUN # the TUI's own runtime directory, where brum ctl looks
check "launch shows the sidebar" wait_screen ' sleeper( |$)'
check "the instance is published" wait_for 10 socket_ready
check "the socket dir stays 0700" [ "$(stat -c %a "$XDG_RUNTIME_DIR/brum")" = 700 ]

# --- start: one line per process with its state; the TUI shows it running
ctl start ticker
check "start: exit 0" rc_is 0
check "start: ticker and its state" out_has '^ticker +(starting|running)'
check "start: the TUI shows ticker running" wait_screen 'ticker · running'
check "start: the status line says who did it" wait_screen 'ctl: .*ticker'
ctl start ticker
check "start again: nothing doubled" out_has '^ticker +running +already running'

# --- ps: aligned columns, ticker running with a pid
check "ps shows ticker running" wait_for 10 ctl_ps_shows '^ticker +running +[0-9]+ '
check "ps: header" out_has '^NAME +STATE +PID +UPTIME +CPU +RSS +PORTS +RESTARTS +LINES +ERR +WARN +URL$'
check "ps: sleeper idle" out_has '^sleeper +idle +- +- '

# --- wait: a line already printed (from the start of the run) and a future one
ctl wait ticker --for 'tick 5$' --timeout 5
check "wait: exit 0" rc_is 0
check "wait: prints the matching line" out_has '^tick 5$'
ctl wait ticker --for '^tick [0-9]+$' --from now --timeout 5
check "wait --from now: a new line" rc_is 0
check "wait --from now: it is printed" out_has '^tick [0-9]+$'
ctl start sleeper
check "start sleeper" rc_is 0
ctl wait sleeper --for 'never printed' --timeout 1
check "wait that cannot match: exit 1" rc_is 1
check "wait that cannot match: says so" err_has '^brum ctl: .+'

# --- logs: the last N, only the newer ones after a cursor
ctl logs ticker -n 3
check "logs -n 3: exit 0" rc_is 0
check "logs -n 3: three lines" [ "$(wc -l <"$OUT")" -eq 3 ]
check "logs -n 3: ticker's text, no prefix" bash -c '! grep -qvE "^(tick [0-9]+|ticker up)$" "$1"' _ "$OUT"
ctl logs -n 5
check "logs (All): name | text" out_has '^(ticker|sleeper) +\| '
ctl --json logs ticker -n 3
check "logs --json: three lines and a cursor" json_ok 'len(r["lines"]) == 3 and r["next_cursor"]'
read -r CURSOR LAST < <(python3 -c 'import json, sys
r = json.load(open(sys.argv[1])); print(r["next_cursor"], r["lines"][-1]["n"])' "$OUT")
newer_lines() { ctl --json logs ticker --cursor "$CURSOR" && json_ok 'len(r["lines"]) > 0'; }
check "logs --cursor: newer lines arrive" wait_for 10 newer_lines
check "logs --cursor: only newer ones" json_ok "all(l['n'] > $LAST for l in r['lines'])"
ctl logs ticker --cursor 'not-a-cursor'
check "logs with a bad cursor: exit 2" rc_is 2

# --- unknown process: exit 1 with the available names
ctl start nosuch
check "unknown name: exit 1" rc_is 1
check "unknown name: the available names" err_has 'ticker.*sleeper|sleeper.*ticker'
check "unknown name: brum ctl: prefix" err_has '^brum ctl: '

# --- another directory: exit 2 with the message
"$BRUM" ctl -d /nonexistent-project ps >"$OUT" 2>"$ERR"
RC=$?
check "-d /nonexistent-project: exit 2" rc_is 2
check "-d /nonexistent-project: the message" err_has 'no brum running for /nonexistent-project'
# a subdirectory of the project finds the project's brum (nearest ancestor); a sibling does not
(cd "$PROJ/src/deep" && "$BRUM" ctl ps >"$OUT" 2>"$ERR")
RC=$?
check "from a subdirectory: the project's brum" bash -c '[ "$1" -eq 0 ] && grep -q "^ticker " "$2"' _ "$RC" "$OUT"
mkdir -p "$TMP/proj-sibling"
"$BRUM" ctl -d "$TMP/proj-sibling" ps >"$OUT" 2>"$ERR"
RC=$?
check "a sibling directory: no brum, exit 2" rc_is 2

# --- --json: one object per reply, parsed by python3
ctl --json ps
check "ps --json parses" json_ok 'r["ok"] and {p["name"] for p in r["processes"]} >= {"ticker", "sleeper", "web"}'
ctl start web
check "start web" rc_is 0
urls_listed() { ctl urls && grep -qE 'web +http://localhost:5199/' "$OUT"; }
check "urls: web's URL" wait_for 10 urls_listed
# --- restart --wait: the reply comes when web is ready again (its URL), with one more restart
ctl restart -w web --timeout 10
check "restart -w: exit 0" rc_is 0
check "restart -w: web running" out_has '^web +running'
# (CPU, RSS and PORTS: "-" until the sampler has seen this run, values after; each ps keeps it on)
check "ps: web restarted once" wait_for 10 ctl_ps_shows '^web +running +[0-9]+ +[0-9a-z]+ +[^ ]+ +[^ ]+ +[^ ]+ +1 '
ctl kill sleeper
check "kill: exit 0" rc_is 0
check "ps: sleeper killed" wait_for 10 ctl_ps_shows '^sleeper +killed'
ctl restart -w sleeper --timeout 10 --json
check "restart -w --json: the first lines of the run" json_ok 'any(l["text"] == "sleeping" for l in r["results"][0]["lines"])'
ctl errors
check "errors: exit 0 with the totals" bash -c '[ "$1" -eq 0 ] && grep -qE "^[0-9]+ errors?, [0-9]+ warnings?$" "$2"' _ "$RC" "$OUT"

# --- logs -f follows until the instance ends (exit 0, a note on stderr)
"$BRUM" ctl -d "$PROJ" logs ticker -f -n 1 >"$TMP/follow.out" 2>"$TMP/follow.err" &
FOLLOW=$!
follow_grows() { [ "$(grep -c '^tick' "$TMP/follow.out")" -ge 3 ]; }
check "logs -f: new lines keep coming" wait_for 10 follow_grows
# A stop and continue (Ctrl-Z, fg) interrupts its poll: it keeps following.
kill -STOP "$FOLLOW"
kill -CONT "$FOLLOW"
SEEN=$(grep -c '^tick' "$TMP/follow.out")
follow_grows_more() { [ "$(grep -c '^tick' "$TMP/follow.out")" -gt "$SEEN" ]; }
check "logs -f: goes on after a stop and continue" wait_for 10 follow_grows_more

# --- stop: ticker stops, the TUI shows it
ctl stop ticker
check "stop: exit 0" rc_is 0
check "stop: ticker's line" out_has '^ticker '
check "stop: the TUI shows ticker stopped" wait_screen 'ticker · (stopped|killed|exited)'
check "ps: ticker no longer running" wait_for 10 ctl_ps_shows '^ticker +(stopped|killed|exited)'

# --- quit ends the TUI, the follower with it, and nothing is left running
ctl quit
check "quit: exit 0" rc_is 0
check "quit: the TUI exits" wait_screen 'BRUM-EXITED 0' 15
check "quit: the follower ends" wait_for 10 pid_gone "$FOLLOW"
wait "$FOLLOW"
check "logs -f: exit 0 when the instance ends" [ $? -eq 0 ]
check "logs -f: a note on stderr" grep -q 'has ended' "$TMP/follow.err"
check "quit: no child left" wait_for 10 no_token_procs
check "quit: the discovery files are gone" bash -c '! compgen -G "$1/brum/*.json" >/dev/null' _ "$XDG_RUNTIME_DIR"
ctl ps
check "after quit: no brum running, exit 2" rc_is 2

finish
