#!/usr/bin/env bash
# The terminal UI end to end, as a person sees it: tmux runs brum, send-keys types, capture-pane
# reads the screen. Every wait polls with a deadline.
. "$(dirname "$0")/lib.sh"
command -v tmux >/dev/null || { echo "tmux is required"; exit 1; }
DEMO="$BRUM_SOURCE_DIR/examples/demo"
FIX="$BRUM_SOURCE_DIR/tests/fixtures/tui"

# --- launch in the demo project: every script is listed, nothing runs yet
start_tui 120 40 --shell -d "$DEMO"
check "launch shows the header" wait_screen 'brum .*demo'
for s in dev build test lint watch flood; do
  check "sidebar lists $s" wait_screen " $s( |$)"
done
check "idle pane says how to start" wait_screen 'press Enter to start'

# --- Enter starts the selected script (dev) and its output appears
keys Enter
check "dev output appears" wait_screen 'Local: +http://localhost:5173/'
check "dev is running" wait_screen 'dev · running'
# --- 2 selects build; Enter starts it; its output replaces dev's
keys 2
check "2 switches to the build pane" wait_screen 'build · idle'
keys Enter
check "build output appears" wait_screen 'built in'
check "build exits ok" wait_screen 'build · exited ok'
check "build progress kept only its last state" wait_no_screen 'building\.\.\. [1-9]0%' 2
# --- 3 selects test; run it: it fails with exit 1
keys 3 Enter
check "test runs and fails" wait_screen 'test · failed \(1\)'
check "test output shows the failing test" wait_screen 'Tests: .*1 failed'
# --- filter the test output with a regex: only matching lines stay
keys f
check "filter prompt opens" wait_screen '^filter:'
keys -l 'Tests:|FAIL'
keys Enter
check "filter status" wait_screen 'filter: [0-9]+/[0-9]+'
check "filter shows matching lines" wait_screen 'Tests: .*1 failed'
check "filter hides the rest" wait_no_screen 'PASS +src/' 5
# --- an invalid regex shows the PCRE2 message and keeps the previous filter
keys f C-u; keys -l '('; keys Enter
check "invalid regex: error with offset" wait_screen 'invalid regex at offset 1'
check "invalid regex: previous filter kept" wait_screen 'filter: [0-9]+/[0-9]+'
# clear the filter
keys f C-u Enter
check "empty pattern clears the filter" wait_screen 'PASS +src/'

# --- zoom, wrap, help, Tab
keys z
check "z hides the sidebar" wait_no_screen '^ *[○●✓✗] +watch' 5
keys z
check "z again shows it" wait_screen 'watch'
keys w
check "w toggles wrap" wait_screen 'wrap off'
keys w
keys '?'
check "? shows help" wait_screen 'restart all running'
keys Escape
keys Tab
check "Tab goes to the All view" wait_screen 'all processes, in time order'
check "All view prefixes lines with the process" wait_screen 'build +│ '
keys BTab
check "Shift-Tab comes back" wait_screen 'test · failed'

# --- resize: relayout at once
tm resize-window -t t -x 80 -y 24
check "resize relayouts" wait_screen 'test · failed'
tm resize-window -t t -x 30 -y 8
check "a tiny terminal says so" wait_screen 'terminal too small'
tm resize-window -t t -x 120 -y 40
check "back to normal" wait_screen 'test · failed'

# --- q asks (dev is running), n cancels, q then y quits and leaves nothing running
keys q
check "q asks for confirmation" wait_screen 'still running'
keys n
check "n cancels" wait_no_screen 'still running'
keys q y
check "brum exits after q y" wait_screen 'BRUM-EXITED 0' 15
check "no child process left" wait_for 5 no_token_procs

# --- the filter example from the issue on a fixture with levels
start_tui 120 40 --shell -d "$FIX" levels
check "levels output" wait_screen '\[DEBUG\] noise'
keys f; keys -l '^\[(ERR|WARN)'; keys Enter
check "filter keeps [ERR]" wait_screen '\[ERR\] disk full'
check "filter keeps [WARN]" wait_screen '\[WARN\] slow disk'
check "filter hides [INFO]" wait_no_screen '\[INFO\]' 5
check "filter count" wait_screen 'filter: 2/'
# search highlights and moves (the filter is cleared first)
keys Escape f C-u Enter
keys /; keys -l 'retry'; keys Enter
check "search finds the line" wait_screen 'retry'
# Ctrl-C asks like q; y confirms
keys C-c
check "Ctrl-C asks" wait_screen 'still running'
keys y
check "brum exits after Ctrl-C y" wait_screen 'BRUM-EXITED 0' 15
check "no child left after Ctrl-C" wait_for 5 no_token_procs

# --- --filter on the command line filters the first pane from the start
start_tui 120 40 --shell --filter 'ERR' -d "$FIX" levels
check "--filter: matching line shown" wait_screen '\[ERR\] disk full'
check "--filter: status" wait_screen 'filter: 1/'
check "--filter: others hidden" wait_no_screen '\[INFO\]' 5
keys q y
check "--filter: exit" wait_screen 'BRUM-EXITED 0' 15

# --- SIGTERM to brum: children stopped, terminal restored
start_tui 100 30 --shell -d "$FIX" sleeper
check "sleeper runs" wait_screen 'sleeping'
bpid=$(brum_pid)
check "SIGTERM: brum pid found" [ -n "$bpid" ]
kill -TERM "$bpid"
check "SIGTERM: brum exits" wait_screen 'BRUM-EXITED' 15
check "SIGTERM: brum is gone" wait_for 10 pid_gone "$bpid"
check "SIGTERM: no child left" wait_for 5 no_token_procs

# --- mouse and wide characters: select by number, wrap keeps wide text intact
start_tui 100 30 --shell -d "$FIX" wide
check "wide characters render" wait_screen '日本語のテキスト'
keys q y
check "exit" wait_screen 'BRUM-EXITED 0' 15
# --- themes: a bad file is reported as FILE:LINE and the default is used; every shipped theme loads
printf '[roles]\nheader = white on blue\nheadr = red\n' >"$TMP/bad.theme"
start_tui 100 30 --shell --theme "$TMP/bad.theme" -d "$FIX"
check "bad theme: FILE:LINE: message" wait_screen 'bad.theme:3: unknown role'
check "bad theme: brum still runs" wait_screen 'sleeper'
keys q
check "exit after bad theme" wait_screen 'BRUM-EXITED 0' 15
for th in light high-contrast mono; do
  start_tui 100 30 --shell --theme "$th" -d "$FIX"
  check "theme $th loads" wait_screen 'sleeper'
  check "theme $th: no error" wait_no_screen 'theme:' 2
  keys q
  wait_screen 'BRUM-EXITED' 10
done

# --- --theme mono and NO_COLOR: no colour reaches the screen, the children's own neither
mkdir -p "$TMP/colors"
cat >"$TMP/colors/package.json" <<'JSON'
{"name": "colors", "scripts": {"paint": "printf '\\033[31mred\\033[0m \\033[42mon-green\\033[0m \\033[38;5;208morange\\033[0m \\033[38;2;1;2;3mrgb\\033[0m \\033[1;4mbold\\033[0m painted\\n'; sleep 1000"}}
JSON
# SGR parameters on screen that set a colour (30-38, 40-48, 90-97, 100-107; 38/48 lead 256/RGB)
colour_params() {
  tm capture-pane -p -e -t t | grep -aoE $'\e\\[[0-9;:]*m' | tr -d '\033[m' | tr ';:' '\n\n' |
    grep -cE '^(3[0-8]|4[0-8]|9[0-7]|10[0-7])$'
}
has_colour() { [ "$(colour_params)" -gt 0 ]; }
no_colour() { [ "$(colour_params)" -eq 0 ]; }
for how in default mono NO_COLOR; do
  case $how in
    default) start_tui 100 30 --shell -d "$TMP/colors" paint ;;
    mono) start_tui 100 30 --shell --theme mono -d "$TMP/colors" paint ;;
    NO_COLOR) BRUM="env NO_COLOR=1 $BRUM" start_tui 100 30 --shell -d "$TMP/colors" paint ;;
  esac
  check "$how: the child's output shows" wait_screen 'red on-green orange rgb bold painted'
  if [ "$how" = default ]; then
    check "default theme: colours reach the screen (so the check can see them)" has_colour
  else
    check "$how: no colour on screen, the child's neither" no_colour
  fi
  keys q y
  wait_screen 'BRUM-EXITED' 10
done
finish
