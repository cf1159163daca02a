#!/usr/bin/env bash
# Faults to survive (issue 6), part 2: load, output torture, resource limits. (Invalid UTF-8, NUL,
# lone ESC, unterminated CSI and the 10 MB line are in test_headless.sh.)
. "$(dirname "$0")/lib.sh"
. "$BRUM_SOURCE_DIR/tests/fixtures/faults/helpers.sh"
command -v tmux >/dev/null || { echo "tmux is required"; exit 1; }
FIX="$BRUM_SOURCE_DIR/tests/fixtures/faults"
export NO_COLOR=1

# --- 100 scripts started at once (headless): all run, all exit 0, each printed its line
mkdir -p "$TMP/hundred"
{
  printf '{"name":"hundred","scripts":{'
  for i in $(seq -w 0 99); do
    printf '%s"s%s":"echo line from s%s; sleep 0.2"' "$([ "$i" = 00 ] || echo ,)" "$i" "$i"
  done
  printf '}}\n'
} >"$TMP/hundred/package.json"
t0=$(now_ms)
"$BRUM" --headless --shell -d "$TMP/hundred" $(seq -f 's%02g' 0 99) >"$TMP/hundred.out" 2>&1; rc=$?
echo "# 100 scripts at once: $(( $(now_ms) - t0 )) ms"
check "100 scripts: exit 0" [ "$rc" -eq 0 ]
check "100 scripts: each printed its line" [ "$(grep -cE '^\[s[0-9]{2}\] line from s[0-9]{2}$' "$TMP/hundred.out")" -eq 100 ]
check "100 scripts: each its own line" bash -c 'for i in $(seq -w 0 99); do grep -qx "\[s$i\] line from s$i" "$1" || exit 1; done' _ "$TMP/hundred.out"
check "100 scripts: 100 exit markers" [ "$(grep -c 'exited with code 0' "$TMP/hundred.out")" -eq 100 ]
check "100 scripts: no failure to start" bash -c '! grep -q "cannot start" "$1"' _ "$TMP/hundred.out"

# --- 20 processes flooding at once while the TUI answers keys: key latency, generous deadline
mkdir -p "$TMP/flood"
{
  printf '{"name":"flood","scripts":{'
  for i in $(seq -w 1 20); do
    printf '%s"f%s":"yes flood line from f%s with some text to fill the pane"' "$([ "$i" = 01 ] || echo ,)" "$i" "$i"
  done
  printf '}}\n'
} >"$TMP/flood/package.json"
start_tui 120 40 --shell --max-lines 20000 -d "$TMP/flood" $(seq -f 'f%02g' 1 20)
check "flood: f01 floods" wait_screen 'flood line from f01' 20
check "flood: all 20 running" wait_token_count 20 '^yes flood' 20
lat=()
answered=1
for i in $(seq -w 2 20); do
  t0=$(now_ms)
  keys j
  if ! wait_screen "f$i · running" 5; then answered=0; break; fi
  lat+=($(( $(now_ms) - t0 )))
done
sorted=$(printf '%s\n' "${lat[@]}" | sort -n)
p50=$(sed -n "$(( (${#lat[@]} + 1) / 2 ))p" <<<"$sorted")
max=$(tail -1 <<<"$sorted")
echo "# key latency under a 20-process flood (j → selection moved on screen, incl. ~50 ms polling): n=${#lat[@]} p50=${p50} ms max=${max} ms"
check "flood: every j answered within 5 s" [ "$answered" -eq 1 ]
check "flood: the selected pane shows its flood" wait_screen 'flood line from f20' 10
bpid=$(brum_pid)
check "flood: brum pid found" [ -n "$bpid" ]
keys q y
check "flood: q y quits under the flood" wait_screen 'BRUM-EXITED 0' 20
check "flood: brum is gone" wait_for 10 pid_gone "$bpid"
check "flood: every flooder gone" wait_for 10 no_token_procs

# --- 1,000,000 \r rewrites: memory and output bounded, the final state kept
/usr/bin/time -f '%M' -o "$TMP/cr.rss" "$BRUM" --headless --shell -d "$FIX" cr >"$TMP/cr.out" 2>&1; rc=$?
rss=$(tail -1 "$TMP/cr.rss")
check "1M \\r: exit 0" [ "$rc" -eq 0 ]
check "1M \\r: final state kept" grep -qx '\[cr\] progress 1000000' "$TMP/cr.out"
check "1M \\r: no intermediate state printed" bash -c '! grep -q "progress 999999" "$1"' _ "$TMP/cr.out"
check "1M \\r: output bounded ($(wc -c <"$TMP/cr.out") bytes)" [ "$(wc -c <"$TMP/cr.out")" -lt 4096 ]
check "1M \\r: peak RSS under $((RSS_LIMIT_KB / 1024)) MB (was ${rss} KB)" [ "$rss" -lt "$RSS_LIMIT_KB" ]
start_tui 100 30 --shell -d "$FIX" cr
check "1M \\r in the TUI: final state" wait_screen 'progress 1000000' 30
check "1M \\r in the TUI: exited ok" wait_screen 'cr · exited ok' 30
check "1M \\r in the TUI: 5 lines kept (the banner's 2, last state, done, marker)" wait_screen 'cr · exited ok · 5 lines' 5
keys q
check "1M \\r in the TUI: quits" wait_screen 'BRUM-EXITED 0' 10

# --- a child that closes its stdout/stderr (its terminal) but keeps running
export FAULTS_DIR="$TMP/closeout"
mkdir -p "$FAULTS_DIR"
t0=$(now_ms)
"$BRUM" --headless --shell -d "$FIX" closeout >"$TMP/closeout.out" 2>&1; rc=$?
ms=$(( $(now_ms) - t0 ))
check "closed stdout, headless: exit 0" [ "$rc" -eq 0 ]
check "closed stdout, headless: waited for the process, not the output (${ms} ms)" [ "$ms" -ge 2500 ]
check "closed stdout, headless: the line before close" grep -q '^\[closeout\] before close' "$TMP/closeout.out"
check "closed stdout, headless: exit marker" grep -q 'closeout\] ── exited with code 0' "$TMP/closeout.out"
# the hold file keeps it running until the test has seen it running 3 s after it closed its output
rm -f "$FAULTS_DIR/closed" "$FAULTS_DIR/waiting"
touch "$FAULTS_DIR/hold"
start_tui 100 30 --shell -d "$FIX" closeout
check "closed stdout, TUI: it closed its terminal" wait_for 10 test -e "$FAULTS_DIR/closed"
check "closed stdout, TUI: 3 s later it still runs, held" wait_for 20 test -e "$FAULTS_DIR/waiting"
check "closed stdout, TUI: still running after its output closed" wait_screen 'closeout · running' 5
rm -f "$FAULTS_DIR/hold"
check "closed stdout, TUI: exited ok when the process ends" wait_screen 'closeout · exited ok' 10
keys q
check "closed stdout, TUI: quits" wait_screen 'BRUM-EXITED 0' 10

# --- a grandchild writes after its parent exited (HUP ignored): the line reaches the pane
start_tui 100 30 --shell -d "$FIX" late
check "late writer: parent exited" wait_screen 'late · exited ok'
check "late writer: its line appears after the exit" wait_screen 'late line'
check "late writer: after the exit marker" bash -c 'tmux -L "$1" capture-pane -p -t t | grep -A3 "exited with code 0" | grep -q "late line"' _ "$SOCK"
keys q
check "late writer: quits" wait_screen 'BRUM-EXITED 0' 10

# --- an unterminated OSC: dropped after its cap, the lines after it appear
out=$("$BRUM" --headless --shell -d "$FIX" osc 2>&1); rc=$?
check "unterminated OSC: exit 0" [ "$rc" -eq 0 ]
check "unterminated OSC: the title is not printed" bash -c '! grep -q "unterminated title" <<<"$1"' _ "$out"
check "unterminated OSC: lines after the 4 KiB cap appear" grep -qx '\[osc\] normal line 399' <<<"$out"
check "unterminated OSC: the last line" grep -qx '\[osc\] osc done' <<<"$out"
start_tui 100 30 --shell -d "$FIX" osc
check "unterminated OSC, TUI: the last lines shown" wait_screen 'normal line 399'
check "unterminated OSC, TUI: exited ok" wait_screen 'osc · exited ok'
keys q
check "unterminated OSC, TUI: quits" wait_screen 'BRUM-EXITED 0' 10

# --- invalid UTF-8 and NUL in the TUI (headless passes bytes through: test_headless.sh)
start_tui 100 30 --shell -d "$BRUM_SOURCE_DIR/tests/fixtures/torture" binary
check "invalid UTF-8 in the TUI: drawn as U+FFFD, NUL dropped" wait_screen 'bad �� utf8nul'
check "lone ESC in the TUI: dropped, next line intact" wait_screen ' next *$'
keys q
check "binary output in the TUI: quits" wait_screen 'BRUM-EXITED 0' 10

# --- ulimit -n 32 with 20 scripts: a clear error per failing spawn, no crash, brum exits
mkdir -p "$TMP/fds"
{
  printf '{"name":"fds","scripts":{'
  for i in $(seq -w 0 19); do
    printf '%s"s%s":"echo hello from s%s; sleep 0.3"' "$([ "$i" = 00 ] || echo ,)" "$i" "$i"
  done
  printf '}}\n'
} >"$TMP/fds/package.json"
timeout -s KILL 60 bash -c 'ulimit -n 32; exec "$0" --headless --shell -d "$1" $(seq -f "s%02g" 0 19)' \
  "$BRUM" "$TMP/fds" >"$TMP/fds.out" 2>&1; rc=$?
started=$(grep -c 'exited with code 0' "$TMP/fds.out")
failed=$(grep -cE '^\[s[0-9]{2}\] cannot start .*: [Tt]oo many open files$' "$TMP/fds.out")
echo "# ulimit -n 32: $started started and exited ok, $failed failed to start (rc $rc)"
check "ulimit -n 32: brum exits by itself, no crash (rc $rc: 127 = a script could not start)" [ "$rc" -eq 127 ]
check "ulimit -n 32: some scripts ran" [ "$started" -ge 1 ]
check "ulimit -n 32: some spawns failed" [ "$failed" -ge 1 ]
check "ulimit -n 32: every script either ran or says why not" [ $((started + failed)) -eq 20 ]
check "ulimit -n 32: no sanitizer report" bash -c '! grep -qE "ERROR: (Address|Leak)Sanitizer|runtime error" "$1"' _ "$TMP/fds.out"

# --- a command that does not exist: exit 127: command not found, in the pane and the title
start_tui 120 30 --shell -d "$FIX" nocmd
check "no such command: pane marker" wait_screen '── exited with code 127: command not found ──'
check "no such command: title" wait_screen 'nocmd · failed \(127: command not found\)'
check "no such command: the shell's own message" wait_screen 'definitely-not-a-command-brum-faults: .*not found'
keys q
check "no such command: quits" wait_screen 'BRUM-EXITED 0' 10

finish
