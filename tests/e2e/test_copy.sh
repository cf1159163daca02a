#!/usr/bin/env bash
# Copy mode and the mouse as a person uses them in tmux: `v`, a line selection, `y` puts the
# three lines into tmux's buffer (OSC 52 with set-clipboard on); brum asks for drag reports
# (1002) and `M` hands the mouse back to the terminal; a drag (SGR mouse reports, as the terminal
# sends them) selects in copy mode.
. "$(dirname "$0")/lib.sh"
command -v tmux >/dev/null || { echo "tmux is required"; exit 1; }
command -v python3 >/dev/null || { echo "python3 is required"; exit 1; }

P=$TMP/proj
mkdir -p "$P"
cat >"$P/lines.sh" <<'SH'
echo "first copy line"
echo "second copy line"
echo "third copy line"
echo "tail of the log"
exec sleep 600
SH
printf 'lines: sh lines.sh\nother: exec sleep 600\n' >"$P/Procfile"

buffer_is() { [ "$(tm show-buffer 2>/dev/null)" = "$1" ]; }
flags_are() { [ "$(tm display -p -t t '#{mouse_any_flag}#{mouse_button_flag}#{mouse_sgr_flag}')" = "$1" ]; }
# cell TEXT: "COL ROW" (1-based, as mouse reports count) of TEXT's first character on screen
cell() {
  screen | python3 -c 'import sys
t = sys.argv[1]
for y, row in enumerate(sys.stdin.read().split("\n")):
    x = row.find(t)
    if x >= 0:
        print(x + 1, y + 1); break' "$1"
}
# mouse B X Y M|m: an SGR mouse report (button B; M press or motion, m release), typed as bytes
# mouse B X Y M|m ...: SGR reports, several in one write (as a terminal's reach a busy reader)
mouse() {
  local s=""
  while [ $# -ge 4 ]; do s+=$'\e[<'"$1;$2;$3$4"; shift 4; done
  keys -l "$s"
}

start_tui 120 40 -d "$P" lines other
tm set-option -g set-clipboard on >/dev/null
check "output shows" wait_screen 'tail of the log'
check "brum asks for drag reports (1002) and SGR" wait_for 5 flags_are 111

# --- copy mode: three lines to tmux's buffer
keys v
check "v enters copy mode" wait_screen 'copy mode: move with h/j/k/l'
keys g V j j y
check "y says copied 3 lines" wait_screen 'copied 3 lines'
check "tmux's buffer holds the three lines" wait_for 5 buffer_is $'first copy line\nsecond copy line\nthird copy line'
keys v k
check "copy mode hint" wait_screen 'COPY +h/j/k/l move'
keys Escape
check "Esc leaves copy mode" wait_no_screen 'COPY +h/j/k/l move' 5

# --- a drag selects (press on "second", motion, release on "third"), then y copies; the three
# reports arrive together, so curses reads them in one go
read -r x0 y0 <<<"$(cell 'second copy')"
read -r x1 y1 <<<"$(cell 'third copy')"
mouse 0 "$x0" "$y0" M 32 "$((x1 + 2))" "$y1" M 0 "$((x1 + 4))" "$y1" m
check "a drag selects in copy mode" wait_screen 'selected: y copies'
keys y
check "the drag's text is copied" wait_for 5 buffer_is $'second copy line\nthird'

# --- a click in the sidebar selects a process while brum has the mouse
read -r ox oy <<<"$(cell 'other')"
mouse 0 "$ox" "$oy" M 0 "$ox" "$oy" m
check "a click selects a process" wait_screen 'other · running'
keys 1
check "back to lines" wait_screen 'lines · running'

# --- M: mouse capture off, the terminal selects; M: on again
keys M
check "M says capture is off" wait_screen 'mouse capture off'
check "the terminal has the mouse again" wait_for 5 flags_are 000
mouse 0 "$ox" "$oy" M 0 "$ox" "$oy" m
keys M # keys are read in order: once M's message shows, the click has been read too
check "M says capture is on" wait_screen 'mouse capture on'
check "with capture off the click did not select a process" bash -c '! grep -q "other · running" <<<"$1" && grep -q "lines · running" <<<"$1"' _ "$(screen)"
check "brum has the mouse again (1002)" wait_for 5 flags_are 111

keys q y
check "exit" wait_screen 'BRUM-EXITED 0' 15
check "mouse reporting off after exit" wait_for 5 flags_are 000
finish
