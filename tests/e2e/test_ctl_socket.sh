#!/usr/bin/env bash
# The control socket end to end (docs/PROTOCOL.md), driven by a raw Python client (ctl_probe.py):
# the directory and its files, one instance per root, stale files, framing and hello, another
# user refused, many clients at once, and a client that never reads while brum floods output.
. "$(dirname "$0")/lib.sh"
: "${BRUM_LINES:?BRUM_LINES must point at the brum_lines helper}"
export NO_COLOR=1
PROBE="$BRUM_SOURCE_DIR/tests/e2e/ctl_probe.py"
# A private runtime directory: no interference with other tests or a brum the user runs.
export XDG_RUNTIME_DIR=$TMP/xdg
mkdir -m 700 "$XDG_RUNTIME_DIR"
D=$XDG_RUNTIME_DIR/brum
P=$TMP/p
mkdir -p "$P"
cat >"$P/package.json" <<EOF
{"scripts": {
  "hold": "echo held; while [ ! -e $TMP/release ]; do sleep 0.05; done",
  "flood": "$BRUM_LINES gen seq:1000000; while [ ! -e $TMP/flood-done ]; do sleep 0.05; done",
  "ok": "echo fine"
}}
EOF
ROOT=$(realpath "$P")

# probe COMMAND ARGS...: runs ctl_probe.py and counts its "ok - " and "FAIL - " lines.
probe() {
  local line any=0
  while IFS= read -r line; do
    case $line in
      "ok - "*) ok "${line#ok - }"; any=1 ;;
      "FAIL - "*) bad "${line#FAIL - }"; any=1 ;;
      *) echo "$line" ;;
    esac
  done < <(timeout 180 python3 "$PROBE" "$@" 2>&1)
  [ $any = 1 ] || bad "ctl_probe.py $1 printed no result"
}

# start_hold [DIR]: brum --headless running "hold" in the background (BP: its pid), until its
# socket and .json are in DIR (default $D).
start_hold() {
  local dir=${1:-$D}
  rm -f "$TMP/release"
  "$BRUM" --headless --shell --log "$TMP/brum.log" -d "$P" hold >"$TMP/hold.out" 2>"$TMP/hold.err" &
  BP=$!
  wait_for 30 test -S "$dir/$BP.sock" -a -f "$dir/$BP.json"
}
stop_hold() {
  touch "$TMP/release"
  wait "$BP"
}
mode() { stat -c %a "$1"; }
info_ok() { # info_ok FILE PID: the .json names this instance
  python3 - "$1" "$2" "$ROOT" <<'EOF'
import json, sys
i = json.load(open(sys.argv[1]))
want = {"pid": int(sys.argv[2]), "root": sys.argv[3], "kind": "headless"}
sys.exit(0 if all(i.get(k) == v for k, v in want.items()) and i["socket"].endswith(f"/{sys.argv[2]}.sock")
         and i.get("version") and i.get("started_ms", 0) > 0 else 1)
EOF
}
no_files() { # no_files DIR PID: neither its socket nor its .json, and no lock file
  [ ! -e "$1/$2.sock" ] && [ ! -e "$1/$2.json" ] && ! compgen -G "$1/*.lock" >/dev/null
}

# ---- the directory and the files of one instance
check "brum starts with its socket" start_hold
S=$D/$BP.sock
check "directory 0700" [ "$(mode "$D")" = 700 ]
check "socket 0600" [ "$(mode "$S")" = 600 ]
check ".json 0600" [ "$(mode "$D/$BP.json")" = 600 ]
check ".json: pid, root, kind, socket, version, started_ms" info_ok "$D/$BP.json" "$BP"

# ---- framing, hello, errors (see ctl_probe.py protocol)
probe protocol "$S"

# ---- another user: refused by SO_PEERCRED even when it reaches the socket (here through
# CAP_DAC_OVERRIDE, as the directory keeps it out otherwise)
as_nobody() {
  setpriv --reuid=nobody --regid="$(id -gn nobody)" --clear-groups --inh-caps=+dac_override \
    --ambient-caps=+dac_override "$@"
}
if [ "$(id -u)" -ne 0 ] || ! command -v setpriv >/dev/null || ! id nobody >/dev/null 2>&1; then
  echo "# skipped: another uid's connection (needs root, setpriv and a 'nobody' user)"
elif ! as_nobody true 2>"$TMP/setpriv.err"; then
  echo "# skipped: another uid's connection (setpriv cannot keep CAP_DAC_OVERRIDE here: $(cat "$TMP/setpriv.err"))"
else
  out=$(as_nobody python3 "$PROBE" peer "$S" 2>&1)
  echo "$out" | grep -v '^ok - '
  check "another uid: connection closed unanswered" grep -q '^ok - ' <<<"$out"
  check "another uid: logged" grep -q "uid $(id -u nobody) is not ours" "$TMP/brum.log"
fi

# ---- many clients at once
probe many "$S" 100

# ---- one instance per root
out=$("$BRUM" --headless --shell -d "$P" ok 2>&1); rc=$?
check "second instance for the root: exit 2" [ "$rc" -eq 2 ]
check "second instance: names the running one" \
  grep -qF "brum is already running for $ROOT (pid $BP, headless, since " <<<"$out"
check "second instance: says how to use or stop it" grep -qF "'brum ctl quit'" <<<"$out"
check "second instance: started nothing" bash -c '! grep -q fine <<<"$1"' _ "$out"

check "brum exits 0" stop_hold
check "socket, .json and lock removed at exit" no_files "$D" "$BP"

# ---- pending calls (waits, deadlines, cancel, long polls), notices, and quit
check "brum starts" start_hold
probe calls "$D/$BP.sock" hold
wait "$BP"
rc=$?
check "quit through the socket: brum exits 0" [ "$rc" -eq 0 ]
check "headless prints the notices on stderr" grep -qx 'brum: ctl: restarted hold' "$TMP/hold.err"
check "... and the quit" grep -qx 'brum: ctl: quit' "$TMP/hold.err"
check "files removed at exit" no_files "$D" "$BP"

# ---- the TUI: its socket, the notices on its status line, and a quit through the socket
rm -f "$TMP/release"
start_tui 120 30 --shell -d "$P" hold
TD=$TUI_RUN/brum # start_tui's own runtime directory
tui_json() { compgen -G "$TD/*.json" >/dev/null; }
check "TUI: its socket" wait_for 30 tui_json
TJ=$(compgen -G "$TD/*.json" | head -1)
TP=$(basename "$TJ" .json)
check "TUI: kind tui" grep -q '"kind":"tui"' "$TJ"
check "TUI: hold runs" wait_screen 'held' 20
out=$(XDG_RUNTIME_DIR=$TUI_RUN "$BRUM" --headless --shell -d "$P" ok 2>&1); rc=$?
check "TUI: a second instance refused (exit 2), naming it" \
  bash -c '[ "$1" -eq 2 ] && grep -qF "(pid $2, tui, since " <<<"$3"' _ "$rc" "$TP" "$out"
python3 "$PROBE" call "$TD/$TP.sock" '{"id":1,"op":"restart","names":["hold"]}' >"$TMP/tui.out" 2>&1
check "TUI: the status line shows the notice" wait_screen 'ctl: restarted hold' 20
check "TUI: the notice goes after about 5 s" wait_no_screen 'ctl: restarted hold' 30
python3 "$PROBE" call "$TD/$TP.sock" '{"id":2,"op":"quit"}' >>"$TMP/tui.out" 2>&1
check "TUI: quit through the socket ends it (exit 0)" wait_screen 'BRUM-EXITED 0' 30
check "TUI: files removed at exit" no_files "$TD" "$TP"
cleanup_tmux

# ---- stale files: an instance killed with SIGKILL, a dead pid, a live pid without a socket
check "brum starts (to be killed)" start_hold
kill -9 "$BP"
wait "$BP" 2>/dev/null
KILLED=$BP
check "SIGKILL leaves its files" [ -S "$D/$KILLED.sock" ]
sh -c 'exit 0' &
DEAD=$!
wait "$DEAD"
echo '{"pid":'"$DEAD"',"root":"/nowhere","kind":"tui"}' >"$D/$DEAD.json"
: >"$D/$DEAD.sock"
echo '{"pid":'"$$"',"root":"/nowhere","kind":"tui"}' >"$D/$$.json" # alive, but no socket
check "brum starts among stale files" start_hold
check "stale: the killed instance's files removed" [ ! -e "$D/$KILLED.sock" -a ! -e "$D/$KILLED.json" ]
check "stale: a dead pid's files removed" [ ! -e "$D/$DEAD.sock" -a ! -e "$D/$DEAD.json" ]
check "stale: a live pid without a socket removed" [ ! -e "$D/$$.json" ]
check "brum exits 0" stop_hold
check "files removed at exit" no_files "$D" "$BP"

# ---- an unsafe directory: refused with the reason; brum runs without a socket
X=$TMP/xdg-link
mkdir -m 700 "$X" "$TMP/elsewhere"
ln -s "$TMP/elsewhere" "$X/brum"
out=$(XDG_RUNTIME_DIR=$X "$BRUM" --headless --shell -d "$P" ok 2>&1); rc=$?
check "symlinked directory: runs anyway (exit 0)" [ "$rc" -eq 0 ]
check "symlinked directory: refused with the reason" \
  grep -q 'warning: no control socket: .*is a symbolic link.*; continuing' <<<"$out"
check "symlinked directory: nothing created behind it" [ -z "$(ls -A "$TMP/elsewhere")" ]
X=$TMP/xdg-open
mkdir -m 700 "$X"
mkdir -m 770 "$X/brum"
out=$(XDG_RUNTIME_DIR=$X "$BRUM" --headless --shell -d "$P" ok 2>&1); rc=$?
check "group-writable directory: runs anyway (exit 0)" [ "$rc" -eq 0 ]
check "group-writable directory: refused, says chmod 700" \
  grep -q 'warning: no control socket: .*open to other users (mode 0770).*chmod 700' <<<"$out"
check "group-writable directory: the script ran" grep -q 'fine' <<<"$out"

# ---- a runtime directory too long for sun_path: /tmp/brum-$UID instead
LONG=$TMP/$(printf 'l%.0s' {1..100})
mkdir -m 700 "$LONG"
FALLBACK=/tmp/brum-$(id -u)
if [ -e "$FALLBACK" ] && { [ -L "$FALLBACK" ] || [ "$(mode "$FALLBACK")" != 700 ]; }; then
  echo "# skipped: the fallback directory $FALLBACK exists and is not private"
else
  export XDG_RUNTIME_DIR=$LONG
  check "long XDG_RUNTIME_DIR: socket in $FALLBACK" start_hold "$FALLBACK"
  check "long XDG_RUNTIME_DIR: nothing in it" [ ! -e "$LONG/brum" ]
  check "brum exits 0" stop_hold
  check "fallback: files removed at exit" [ ! -e "$FALLBACK/$BP.sock" -a ! -e "$FALLBACK/$BP.json" ]
  export XDG_RUNTIME_DIR=$TMP/xdg
fi

# ---- a client that never reads while brum floods output: others still answered promptly, the
# client dropped, every line of the flood printed once and in order
rm -f "$TMP/flood-done"
{ "$BRUM" --headless --shell --log "$TMP/brum.log" -d "$P" flood 2>"$TMP/flood.err" &
  echo $! >"$TMP/flood.pid"; wait; } | "$BRUM_LINES" check seq:1000000 flood 0 2>"$TMP/check" &
FP=$!
wait_for 30 test -s "$TMP/flood.pid"
BP=$(cat "$TMP/flood.pid")
if check "flooding brum has its socket" wait_for 30 test -S "$D/$BP.sock"; then
  probe flood "$D/$BP.sock" "$TMP/flood-done"
fi
touch "$TMP/flood-done" # whatever happened above: let the script end
wait "$FP"
rc=$?
cat "$TMP/check"
check "flood: every line arrived, brum exited 0" [ "$rc" -eq 0 ]
check "flood: the non-reader was dropped (logged)" grep -q 'does not read its replies' "$TMP/brum.log"

finish
