#!/usr/bin/env bash
# Log intelligence as a person uses it: the Errors and URLs tabs, jumping, copying (OSC 52 into
# tmux's buffer), error navigation and the errors-only view in a pane.
. "$(dirname "$0")/lib.sh"
DEMO="$BRUM_SOURCE_DIR/examples/demo"

start_tui 120 40 --shell -d "$DEMO" dev test lint
tm set-option -g set-clipboard on >/dev/null
check "test failed" wait_screen '✗ +test'
check "lint failed" wait_screen '✗ +lint'
check "header shows error and warning totals" wait_screen '✖ [0-9]+ ▲ [0-9]+'
check "header shows the dev server URL" wait_screen 'http://localhost:5173/ *$'
check "sidebar shows test results" wait_screen 'test +✗1/12'

# --- Errors tab: entries newest first, with process and title
keys Tab Tab
check "Errors tab lists the failing test" wait_screen 'test +sum › adds numbers'
check "Errors tab lists the lint error" wait_screen "lint +'x' is assigned a value but never used"
check "entry shows its location" wait_screen 'src/b.test.js:5:17'
# select the jest entry: the selected row carries ▸; its whole entry shows below the list
keys g
wait_screen '^▸' 5
above=$(screen | grep -E '^[▸ ][✖▲] ' | grep -n 'sum › adds numbers' | head -1 | cut -d: -f1)
for i in $(seq 2 "${above:-1}"); do keys j; done
check "j moves the selection to the jest entry" wait_screen '^▸.* test +sum › adds numbers'
check "the whole entry shows below the list, stack included" wait_screen 'at Object.<anonymous> \(src/b.test.js:5:17\)'
keys c
check "c says copied" wait_screen 'copied the error'
check "the clipboard (tmux buffer) holds the entry" wait_for 5 bash -c 'tmux -L "$1" show-buffer 2>/dev/null | grep -q "at Object.<anonymous>"' _ "$SOCK"
keys Enter
check "Enter jumps to the entry in the process's log" wait_screen 'test · failed \(1\)'
check "the jump lands on the entry's line" wait_screen '▶'

# --- in a pane: e/E jump between errors, p shows only errors and warnings
keys 4
check "lint pane" wait_screen 'lint · failed'
keys g e
check "e jumps to the next error" wait_screen 'error at line'
keys p
check "p: errors only" wait_screen 'errors only'
check "p: hides plain lines" wait_no_screen '✖ 3 problems' 5
keys p G

# --- URLs tab: each URL with process, label, state; c copies
keys Tab Tab Tab
check "URLs tab lists Local" wait_screen 'dev +Local +http://localhost:5173/ +live'
check "URLs tab lists Network" wait_screen 'dev +Network +http://192.168.1.20:5173/ +live'
keys c
check "c copies the URL" wait_for 5 bash -c 'tmux -L "$1" show-buffer 2>/dev/null | grep -qx "http://localhost:5173/"' _ "$SOCK"
# Enter opens it with $BROWSER: here a stand-in that records what it was given
# (brum was started without BROWSER, so check the message only)
keys Enter
check "Enter opens the URL" wait_screen 'opening http://localhost:5173/'
# stop dev: its URLs become stale
keys BTab BTab BTab 1 x
check "dev stopped" wait_screen 'dev · stopped'
keys Tab Tab Tab
check "URLs of a stopped process are stale" wait_screen 'http://localhost:5173/ +stale'
keys q
check "brum exits" wait_screen 'BRUM-EXITED 0' 15
check "no child left" wait_for 5 no_token_procs
finish
