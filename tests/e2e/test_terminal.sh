#!/usr/bin/env bash
# Terminal mode end to end (issue 11): input mode (`i`), keys reaching a child, full-screen
# children (real less and vi) drawn from the emulator, a resize while full-screen, the `:` line
# and the prefix key. tmux runs brum; every wait polls with a deadline.
. "$(dirname "$0")/lib.sh"
command -v tmux >/dev/null || { echo "tmux is required"; exit 1; }
VI=$(command -v vim.tiny || command -v vi)
command -v less >/dev/null && [ -n "$VI" ] || { echo "less and vi (vim-tiny) are required"; exit 1; }

P=$TMP/proj
mkdir -p "$P"
seq -f 'line %g' 1 500 >"$P/long.txt"
cat >"$P/brum.yaml" <<YAML
processes:
  ask:
    cmd: 'printf "name? "; while read n; do echo "hello <\$n>"; done'
  keys:
    cmd: exec cat -v
  pager:
    cmd: exec less long.txt
  editor:
    cmd: exec $VI -u NONE -N note.txt
  sizer:
    cmd: |
      printf '\033[?1049h'
      n=0
      draw() { n=\$((n + 1)); printf '\033[2J\033[Hsize %s n=%d' "\$(stty size)" \$n; }
      trap draw WINCH
      draw
      while :; do sleep 0.1; done
  last:
    cmd: exec sleep 600
YAML

# a prefix key brum could not tell from Enter: said before anything starts
out=$("$BRUM" --prefix-key C-m -d "$P" </dev/null 2>&1); rc=$?
check "bad --prefix-key: exit 2" [ "$rc" -eq 2 ]
check "bad --prefix-key: says what to write" grep -q -- "--prefix-key: prefix key 'C-m': write it C-a" <<<"$out"

start_tui 120 40 -d "$P" ask keys
check "launch lists the processes" wait_screen ' last( |$)'

# --- i on a running process: typing and Enter reach it, its answer shows
check "ask is running" wait_screen 'ask · running'
check "ask asks" wait_screen 'name\? *$'
keys i
check "status line says where keys go and how to leave" wait_screen 'INPUT → ask · Ctrl-A Esc to leave'
check "pane title says input mode" wait_screen 'INPUT → Ctrl-A Esc to leave'
keys -l alice
keys Enter
check "the answer shows" wait_screen 'hello <alice>'
# a paste (one burst of text) goes to the child as one piece
tm set-buffer -b p 'pasted-text-longer-than-sixteen'
tm paste-buffer -b p -t t
keys Enter
check "a paste reaches the child" wait_screen 'hello <pasted-text-longer-than-sixteen>'
keys C-a Escape
check "Ctrl-A Esc leaves input mode" wait_no_screen 'INPUT →'
check "the cursor is hidden again" wait_for 5 bash -c '[ "$(tmux -L "$1" display -p -t t "#{cursor_flag}")" = 0 ]' _ "$SOCK"

# --- `:` sends a line without input mode
keys :
check ": opens the prompt" wait_screen '^send to ask:'
keys -l bob
keys Enter
check ": sends the line" wait_screen 'hello <bob>'
check ": says so" wait_screen 'sent to ask'

# --- Ctrl-A j leaves input mode and selects the next process
keys i
check "input mode again" wait_screen 'INPUT → ask'
keys C-a j
check "Ctrl-A j selects the next process" wait_screen 'keys · running'
check "Ctrl-A j left input mode" wait_no_screen 'INPUT →'

# --- arrows and Ctrl-C reach the child (cat -v shows the escape sequence)
keys i
check "input mode on keys" wait_screen 'INPUT → keys'
keys Up
keys -l zz
keys Enter
check "Up reaches the child as ESC [ A" wait_screen '\^\[\[Azz'
keys C-c
check "Ctrl-C ends the child" wait_screen 'keys · (killed|failed|stopped)'
check "input mode ends with its process" wait_no_screen 'INPUT →'

# --- less on a long file: the alternate screen shows in the pane; G forwarded; q returns
keys 3 Enter
check "less shows its first page" wait_screen 'line 1 *$'
check "the pane says full screen" wait_screen 'full screen · i to type'
keys i G
check "G forwarded shows the end" wait_screen 'line 500'
check "less's prompt at the end" wait_screen '\(END\)'
keys q
check "q: less exits 0" wait_screen 'pager · exited ok'
check "q: the log view is back" wait_screen 'left full-screen'
check "q: the screen is gone" wait_no_screen '\(END\)'

# --- a resize while full-screen: the child gets the new size and redraws
keys 5 Enter
check "sizer draws its size" wait_screen 'size 36 [0-9]+ n=1'
tm resize-window -t t -x 100 -y 30
check "resized: it redraws at the new size" wait_screen 'size 26 [0-9]+ n=2'
tm resize-window -t t -x 120 -y 40
check "resized back" wait_screen 'size 36 [0-9]+ n=3'
# zoom toggled five times in a burst: one resize once it settles; switching panes: none
cols=$(screen | grep -oE 'size 36 [0-9]+' | cut -d' ' -f3)
keys z z z z z
check "zoom: one resize after the burst" wait_screen 'size 36 [0-9]+ n=4'
check "zoom: the pane's new width" bash -c '! tmux -L "$1" capture-pane -p -t t | grep -q "size 36 $2 "' _ "$SOCK" "$cols"
keys z
check "unzoom: one more" wait_screen "size 36 $cols n=5"
keys k j
check "back on the sizer" wait_screen 'sizer · running'
sleep 0.4 # past the debounce: a resize would have come by now
check "switching panes resized nothing" wait_screen "size 36 $cols n=5" 1
keys x

# --- vi: open, type, save with :wq; the file is on disk
keys 4 Enter
check "vi opens" wait_screen 'note.txt'
keys i
check "input mode on the editor" wait_screen 'INPUT → editor'
cursor_at() { [ "$(tm display -p -t t '#{cursor_flag} #{cursor_y}')" = "$1" ]; }
check "the terminal's cursor stands on vi's (top left of the pane)" wait_for 5 cursor_at '1 3'
keys i
keys -l 'typed in vi'
keys Escape
keys -l ':wq'
keys Enter
check "vi exits 0" wait_screen 'editor · exited ok'
check "the file is on disk" wait_for 5 grep -qx 'typed in vi' "$P/note.txt"

keys q
wait_screen 'Quit and stop' 5 && keys y
check "brum exits" wait_screen 'BRUM-EXITED 0' 15

# --- brum.yaml's prefix_key: C-b is the prefix, C-a reaches the child
Q=$TMP/proj2
mkdir -p "$Q"
printf 'prefix_key: C-m\nprocesses:\n  echo:\n    cmd: exec cat -v\n' >"$Q/brum.yaml"
out=$("$BRUM" -d "$Q" </dev/null 2>&1); rc=$?
check "bad prefix_key in brum.yaml: exit 2 and why" bash -c '[ "$1" -eq 2 ] && grep -q "brum.yaml: prefix key .C-m." <<<"$2"' _ "$rc" "$out"
printf 'prefix_key: C-b\nprocesses:\n  echo:\n    cmd: exec cat -v\n' >"$Q/brum.yaml"
start_tui 120 40 -d "$Q" echo
check "echo runs" wait_screen 'echo · running'
keys i
check "the configured prefix is shown" wait_screen 'INPUT → echo · Ctrl-B Esc to leave'
keys C-a
keys -l qq
keys Enter
check "Ctrl-A reaches the child" wait_screen '\^Aqq'
keys C-b Escape
check "Ctrl-B Esc leaves" wait_no_screen 'INPUT →'
keys q
wait_screen 'Quit and stop' 5 && keys y
check "brum exits (prefix_key)" wait_screen 'BRUM-EXITED 0' 15
finish
