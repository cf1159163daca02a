#!/usr/bin/env bash
# Full-screen children and screen clears in the log (issue 11), through headless mode: the log
# keeps a marker line on entering and leaving the alternate screen instead of what was drawn
# there, and a separator for each clear instead of the blank padding watch-mode tools print.
. "$(dirname "$0")/lib.sh"
F="$BRUM_SOURCE_DIR/tests/fixtures/termlog"
export NO_COLOR=1
sep='── screen cleared [0-2][0-9]:[0-5][0-9]:[0-6][0-9] ──'

# less error.log in miniature ("error: SECRET boom" drawn on it; the command line spells it apart): text drawn on the alternate screen never becomes a line
out=$("$BRUM" --headless -d "$F" fullscreen primary 2>&1); rc=$?
check "full-screen script exits 0" [ "$rc" -eq 0 ]
check "line before the alternate screen kept" grep -qx '\[fullscreen\] start' <<<"$out"
check "marker on entering" grep -qx '\[fullscreen\] ── full-screen (alternate screen) ──' <<<"$out"
check "marker on leaving" grep -qx '\[fullscreen\] ── left full-screen ──' <<<"$out"
check "line after leaving kept" grep -qx '\[fullscreen\] after' <<<"$out"
check "markers in order" bash -c 'grep "^\[fullscreen\]" <<<"$1" | grep -v "^\[fullscreen\] >" | head -4 | tr "\n" "|" |
  grep -qx "\[fullscreen\] start|\[fullscreen\] ── full-screen (alternate screen) ──|\[fullscreen\] ── left full-screen ──|\[fullscreen\] after|"' _ "$out"
check "nothing drawn there stored" bash -c '! grep "^\[fullscreen\]" <<<"$1" | grep -q SECRET' _ "$out"
check "no error counted from the alternate screen" grep -qE '^fullscreen +exited ok +0 errors' <<<"$out"
check "the same line on the primary screen is an error" grep -qE '^primary +exited ok +1 error,' <<<"$out"

# the unfinished line of the primary screen waits through the alternate screen
out=$("$BRUM" --headless -d "$F" waits 2>&1)
check "unfinished line continues after leaving" grep -qx '\[waits\] prompt> answer' <<<"$out"
check "nothing drawn there stored (waits)" bash -c '! grep -v "^\[waits\] >" <<<"$1" | grep -q drawn' _ "$out"

# a child that ends on the alternate screen: the terminal is gone, so it leaves it
out=$("$BRUM" --headless -d "$F" dies 2>&1)
check "ended on the alternate screen: leave marker before the exit marker" bash -c 'grep "^\[dies\] ──" <<<"$1" | tr "\n" "|" |
  grep -qx "\[dies\] ── full-screen (alternate screen) ──|\[dies\] ── left full-screen ──|\[dies\] ── exited with code 0 ──|"' _ "$out"
check "ended on the alternate screen: nothing drawn stored, no error" grep -qE '^dies +exited ok +0 errors' <<<"$out"

# Vite: rows-2 blank lines, cursor-home, erase-down, then the banner
out=$("$BRUM" --headless -d "$F" padding 2>&1)
check "one separator for the clear" [ "$(grep -c "^\[padding\] $sep\$" <<<"$out")" -eq 1 ]
check "no blank line from the padding" bash -c '! grep -qE "^\[padding\] *$" <<<"$1"' _ "$out"
check "old line, separator, ready in order" bash -c 'grep "^\[padding\]" <<<"$1" | grep -v "^\[padding\] >" | head -3 | tr "\n" "|" |
  grep -qEx "\[padding\] old\|\[padding\] $2\|\[padding\] ready\|"' _ "$out" "$sep"

# the same with Node's readline, as Vite calls it
if command -v node >/dev/null; then
  out=$("$BRUM" --headless -d "$F" vite 2>&1)
  check "Vite (node): one separator" [ "$(grep -c "^\[vite\] $sep\$" <<<"$out")" -eq 1 ]
  check "Vite (node): no blank line" bash -c '! grep -qE "^\[vite\] *$" <<<"$1"' _ "$out"
  check "Vite (node): the banner after it" grep -q '^\[vite\]   VITE v5.4.21  ready' <<<"$out"
else
  echo "skip - Vite (node): node is not installed"
fi

# Jest / Vitest: ESC[2J ESC[3J ESC[H is one clear, not three
out=$("$BRUM" --headless -d "$F" jest 2>&1)
check "a burst of clears is one separator" [ "$(grep -c "^\[jest\] $sep\$" <<<"$out")" -eq 1 ]
check "text around the clear kept" bash -c 'grep -qx "\[jest\] run 1" <<<"$1" && grep -qx "\[jest\] run 2" <<<"$1"' _ "$out"

# the same in the TUI: the screen a person sees
start_tui 120 40 -d "$F" padding fullscreen
check "TUI: the padding script ran" wait_screen 'ready' 20
check "TUI: the pane shows what follows the clear from its top, as a terminal would" \
  bash -c 'tmux -L "$1" capture-pane -p -t t | sed -n 4,5p | tr "\n" "#" | grep -qE "│ $2#.*│ ready"' _ "$SOCK" "$sep"
check "TUI: what came before the clear is not on screen while following" bash -c '! tmux -L "$1" capture-pane -p -t t | grep -q "│ old"' _ "$SOCK"
keys C-y
check "TUI: scrolling up shows it, right above the separator, no blank line between" \
  wait_for 10 bash -c 'screen_() { tmux -L "$1" capture-pane -p -t t; }; screen_ "$1" | grep -A1 "│ old" | tail -1 | grep -qE "$2"' _ "$SOCK" "$sep"
keys G
keys k k
check "TUI: the full-screen script's pane shown" wait_screen '│ fullscreen · exited' 20
check "TUI: its markers shown" bash -c 'tmux -L "$1" capture-pane -p -t t | grep -A1 "│ start" | tr "\n" "|" | grep -q "── full-screen (alternate screen) ──"' _ "$SOCK"
check "TUI: leave marker, then the line after" wait_screen '│ after' 5
check "TUI: nothing drawn on the alternate screen shown" bash -c '! tmux -L "$1" capture-pane -p -t t | grep -q SECRET' _ "$SOCK"
cleanup_tmux

finish
