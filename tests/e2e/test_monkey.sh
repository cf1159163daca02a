#!/usr/bin/env bash
# 600 pseudo-random keys (fixed seed; input mode, its prefix, `:`, copy mode, the finder, groups and
# the resource columns among them) and resizes, down to a terminal of 30x6, into a brum running
# the demo's scripts: it must keep drawing, never crash (sanitizer builds abort on any error) and
# quit cleanly with nothing left running.
. "$(dirname "$0")/lib.sh"
start_tui 120 35 --shell -d "$BRUM_SOURCE_DIR/examples/demo" dev build test lint
check "brum is up" wait_screen 'dev · running'
keyset=(j k 1 2 3 4 5 6 Enter s x X r R C-r C-e C-y PPage NPage C-u C-d g G z w t e E ']' '['
        p Tab BTab '?' Escape n N / f '&' a b c Up Down Left Right Home End BSpace C-w i : C-a
        v V y M H % K C-p C-o - +)
RANDOM=42
early=""
for i in $(seq 1 600); do
  keys "${keyset[$((RANDOM % ${#keyset[@]}))]}"
  if [ $((i % 50)) -eq 0 ]; then
    tm resize-window -t t -x $((30 + RANDOM % 150)) -y $((6 + RANDOM % 50))
    if screen | grep -q 'BRUM-EXITED'; then
      early="$i: $(screen | grep -o 'BRUM-EXITED [0-9]*')"
      echo "# the screen when brum was gone:"; screen | sed 's/^/#   /'
      echo "# its log:"; tail -20 "$TMP/brum.log" 2>/dev/null | sed 's/^/#   /'
      break
    fi
  fi
done
check "brum survived 600 random keys and 12 resizes${early:+ (exited at key $early)}" [ -z "$early" ]
tm resize-window -t t -x 120 -y 35
# Back to the normal mode from wherever the keys left brum. Each round starts with the prefix, not
# Esc: in input mode an Esc read together with the next key is Alt with that key. Ctrl-A Esc leaves
# input mode (two rounds: a prefix may be pending); elsewhere Ctrl-A does nothing (or moves a
# prompt's cursor) and Esc closes the prompt, the finder, copy mode or a dialog.
keys C-a Escape
keys C-a Escape
check "it still draws its header" wait_screen 'brum · demo'
keys q
# q asks only while something runs (the keys may have stopped everything): wait for either
wait_screen 'still running|BRUM-EXITED' 20
screen | grep -q 'still running' && keys y
check "q (and y) quits cleanly" wait_screen 'BRUM-EXITED 0' 20
check "no child left" wait_for 5 no_token_procs
finish
