#!/usr/bin/env bash
# Notifications: a process that fails, or whose tests turn red, while its pane is not shown rings
# the bell and sends OSC 9 / OSC 777, wrapped in tmux's passthrough (what brum writes to the
# terminal is read with pipe-pane -O: capture-pane does not show OSC sequences). A user's stop
# and the shown pane's failure do not notify.
. "$(dirname "$0")/lib.sh"
P=$TMP/proj
mkdir -p "$P"
cat >"$P/package.json" <<'JSON'
{"name": "notes", "scripts": {
  "shown": "sleep 600",
  "boom": "sleep 1; echo boom; exit 4",
  "tests": "sleep 1; echo 'Tests:       1 failed, 11 passed, 12 total'; sleep 600",
  "calm": "sleep 600",
  "quiet": "sleep 1; exit 5",
  "late": "exit 6",
  "twice": "exit 7",
  "later": "exit 8"
}}
JSON
OUT=$TMP/pane.out
: >"$OUT"
start_tui 120 40 -d "$P" shown calm
tm set-option -g allow-passthrough on >/dev/null
tm pipe-pane -O -t t "cat >>$OUT"
check "the TUI runs" wait_screen 'shown'
has() { grep -qaF -- "$1" "$OUT"; }
# the project's name is in the title; the process's in the text; every ESC inside doubled
esc=$'\033'
want9="${esc}Ptmux;${esc}${esc}]9;brum: notes: boom failed (exit code 4)"$'\a'"${esc}\\"
want777="${esc}Ptmux;${esc}${esc}]777;notify;brum: notes;boom failed (exit code 4)"$'\a'"${esc}\\"

# a user's stop of a process that is not shown (through the control socket): no notification
env XDG_RUNTIME_DIR="$TUI_RUN" "$BRUM" ctl -d "$P" stop calm >/dev/null 2>&1
keys 4
check "calm stopped" wait_screen 'calm · stopped'
keys 1
check "shown selected again" wait_screen 'shown · running'

# boom fails while shown is selected: bell, OSC 9 and OSC 777 in tmux's passthrough
env XDG_RUNTIME_DIR="$TUI_RUN" "$BRUM" ctl -d "$P" start boom >/dev/null 2>&1
check "boom failed" wait_screen '✗ +boom'
check "OSC 9 reached tmux, wrapped" wait_for 10 has "$want9"
check "OSC 777 reached tmux, wrapped" wait_for 10 has "$want777"
check "the bell rang" wait_for 10 grep -qa $'\a' "$OUT"
check "the user's stop did not notify" bash -c "! grep -qa ']9;brum: notes: calm' '$OUT'"

# tests turn red while not shown
env XDG_RUNTIME_DIR="$TUI_RUN" "$BRUM" ctl -d "$P" start tests >/dev/null 2>&1
check "red tests notified" wait_for 10 has "tests: 1 of 12 tests failed (jest)"

# the shown pane's own failure: no notification (it is on screen); a later one proves the order
keys 5
check "quiet selected" wait_screen 'quiet · idle'
keys Enter
check "quiet failed while shown" wait_screen 'quiet · failed \(5\)'
env XDG_RUNTIME_DIR="$TUI_RUN" "$BRUM" ctl -d "$P" start late >/dev/null 2>&1
check "late notified" wait_for 10 has "late failed (exit code 6)"
check "the shown pane's failure did not notify" bash -c "! grep -qa 'notes: quiet' '$OUT'"
# the rate limit: a second failure of one process within 5 s is not notified again
ctl() { env XDG_RUNTIME_DIR="$TUI_RUN" "$BRUM" ctl -d "$P" "$@"; }
ctl start twice >/dev/null 2>&1
check "twice notified" wait_for 10 has "twice failed (exit code 7)"
ctl start twice >/dev/null 2>&1
check "twice failed again" wait_for 10 bash -c "[ \$(env XDG_RUNTIME_DIR='$TUI_RUN' '$BRUM' ctl -d '$P' logs twice | grep -c 'exited with code 7') -ge 2 ]"
ctl start later >/dev/null 2>&1
check "a later notification (after twice's second failure)" wait_for 10 has "later failed (exit code 8)"
check "twice notified once within 5 s" test "$(grep -ao ']9;brum: notes: twice failed' "$OUT" | wc -l)" -eq 1
keys q
keys y

# --no-notify: nothing is sent. Once late's failure is on screen, the UI has taken boom's alert
# (published before late even started), so an absent sequence is not one still to come.
OUT2=$TMP/pane2.out
: >"$OUT2"
start_tui 120 40 -d "$P" --no-notify shown
tm set-option -g allow-passthrough on >/dev/null
tm pipe-pane -O -t t "cat >>$OUT2"
check "the TUI runs (--no-notify)" wait_screen 'shown · running'
ctl start boom >/dev/null 2>&1
check "boom failed (--no-notify)" wait_screen '✗ +boom'
ctl start late >/dev/null 2>&1
check "late failed (--no-notify)" wait_screen '✗ +late'
check "--no-notify: no OSC 9 or 777" bash -c "! grep -qaE ']9;|]777;' '$OUT2'"
check "--no-notify: no bell" bash -c "! grep -qa \$'\\a' '$OUT2'"
keys q
keys y
finish
