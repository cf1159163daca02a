#!/usr/bin/env bash
# Log files (--log-dir, brum.yaml log_dir) and S (save the pane's view): plain text without escape
# sequences (raw with --log-raw), a header line per run, rotation, names safe for file names, a
# directory that cannot be made said and survived; S writes what the filtered pane shows.
. "$(dirname "$0")/lib.sh"
P=$TMP/proj
mkdir -p "$P"
cat >"$P/package.json" <<'JSON'
{"name": "logs", "scripts": {
  "color": "printf '\\033[31mred text\\033[0m and \\033[1mbold\\033[0m\\n'; echo plain; exit 3",
  "@a/b:c": "echo scoped",
  "flood": "i=0; while [ $i -lt 400 ]; do echo \"flood line $i of the test\"; i=$((i+1)); done",
  "lines": "i=0; while [ $i -lt 300 ]; do echo \"line $i\"; [ $((i % 7)) -eq 0 ] && echo \"match $i\"; i=$((i+1)); done; sleep 600",
  "big": "i=0; while [ $i -lt 100000 ]; do echo \"big line $i: the quick brown fox jumps over the lazy dog, again and again and again\"; i=$((i+1)); done; sleep 600"
}}
JSON
D=$TMP/logs
esc=$'\033'

"$BRUM" -d "$P" --headless --log-dir "$D" color >/dev/null 2>"$TMP/err"
check "headless exit status is the script's" test $? -eq 3
check "color.log written" test -f "$D/color.log"
check "header line with the run and the command" grep -qE "^=== [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8} run 1: printf .* ===$" "$D/color.log"
check "the colored line as plain text" grep -qx "red text and bold" "$D/color.log"
check "the other line" grep -qx "plain" "$D/color.log"
check "the exit marker" grep -qx "── exited with code 3 ──" "$D/color.log"
check "no escape sequences" bash -c "! grep -q '$esc' '$D/color.log'"
"$BRUM" -d "$P" --headless --log-dir "$D" color >/dev/null 2>&1
check "a second run appends with its own header" test "$(grep -c '^=== .* run 1: ' "$D/color.log")" -eq 2

R=$TMP/raw
"$BRUM" -d "$P" --headless --log-dir "$R" --log-raw color >/dev/null 2>&1
check "--log-raw keeps the escape sequences" grep -q "${esc}\[31mred text${esc}\[0m" "$R/color.log"
check "--log-raw has the header too" grep -q "^=== .* run 1: " "$R/color.log"

"$BRUM" -d "$P" --headless --log-dir "$D" '@a/b:c' >/dev/null 2>&1
check "a scoped name is made safe" grep -qx "scoped" "$D/@a%2Fb:c.log"

"$BRUM" -d "$P" --headless --log-dir "$D" --log-max-size 2K --log-keep 2 flood >/dev/null 2>&1
check "rotated: NAME.log, .1, .2" test -f "$D/flood.log" -a -f "$D/flood.log.1" -a -f "$D/flood.log.2"
check "only 2 rotated files kept" test ! -e "$D/flood.log.3"
check "each file within the size" bash -c "[ \$(stat -c %s '$D/flood.log.1') -le 2048 ] && [ \$(stat -c %s '$D/flood.log.2') -le 2048 ]"
check "the newest lines in NAME.log" grep -qx "flood line 399 of the test" "$D/flood.log"

"$BRUM" -d "$P" --headless --log-dir /proc/brum-cannot color >/dev/null 2>"$TMP/err"
rc=$?
check "a directory that cannot be made: brum goes on" test $rc -eq 3
check "and says why on stderr" grep -q "cannot create the log directory /proc/brum-cannot: .*not logged to files" "$TMP/err"

printf 'log_dir: kept\nlog_max_size: 1M\n' >"$P/brum.yaml"
"$BRUM" -d "$P" --headless color >/dev/null 2>&1
check "brum.yaml log_dir, relative to the project" grep -qx "plain" "$P/kept/color.log"
printf 'log_dir: kept\nlog_max_size: lots\n' >"$P/brum.yaml"
"$BRUM" -d "$P" --check >/dev/null 2>"$TMP/err"
check "a bad log_max_size is an error with its place" grep -q "brum.yaml:2:.*log_max_size must be a size" "$TMP/err"
rm "$P/brum.yaml"

# ---- S: the filtered pane to ./brum-NAME-DATE-TIME.log
W=$TMP/cwd
mkdir -p "$W"
cd "$W" || exit 1
start_tui 120 40 -d "$P" lines
check "lines ran" wait_screen 'match 294'
keys f
keys 'match'
keys Enter
check "filtered" wait_screen 'filter: 43/'
keys S
check "S says where it saved" wait_screen 'saved 43 matching lines to \./brum-lines-[0-9]{8}-[0-9]{6}\.log'
f=$(ls "$W"/brum-lines-*.log 2>/dev/null | head -1)
check "the file holds exactly the pane's matching lines" bash -c "[ -n '$f' ] && diff <(seq 0 7 299 | sed 's/^/match /') '$f'"
keys f
keys C-u Enter
check "unfiltered" wait_no_screen 'filter: '
keys S
check "unfiltered S saves every line" wait_screen 'saved [0-9]+ lines to \./brum-lines-'
keys Tab
check "the All view" wait_screen 'All'
keys S
check "S in the All view" wait_screen 'saved [0-9]+ lines to \./brum-all-'
check "the All view's file names each line's process" wait_for 5 bash -c "grep -qx '\[lines\] match 294' '$W'/brum-all-*.log"
keys q y
# a log directory that cannot be made: the status line says so, the UI runs on
start_tui 120 40 -d "$P" --log-dir /proc/brum-cannot lines
check "the status line says the log directory cannot be made" wait_screen 'cannot create the log directory /proc/brum-cannot'
check "and the process runs" wait_screen 'match 294'
keys q y
# the cost of S at a store's default size (100,000 lines, ~10 MB): in the diagnostics log
start_tui 120 40 -d "$P" big
check "big ran" wait_screen 'big line 99999' 60
keys S
check "S saved 100,000+ lines" wait_screen 'saved 1000[0-9][0-9] lines to' 30
grep -a "S: 1000" "$TMP/brum.log" | tail -1 | sed 's/^/# /'
keys q y
finish
