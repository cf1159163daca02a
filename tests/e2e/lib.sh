# Shared helpers for brum's shell end-to-end tests. Source it; call `finish` at the end.
set -u
: "${BRUM:?BRUM must point at the brum binary}"
: "${BRUM_SOURCE_DIR:?}"
PASSED=0
FAILED=0
# Sanitizer builds are bigger: memory bounds get their shadow. (No e2e check bounds time closely:
# deadlines are generous and performance claims live in bench/.)
case "${BRUM_TEST_CONFIG:-normal}" in
  tsan) RSS_LIMIT_KB=$((512 * 1024)) ;;
  asan) RSS_LIMIT_KB=$((256 * 1024)) ;;
  *) RSS_LIMIT_KB=65536 ;;
esac
# Scratch files in memory where /dev/shm is a tmpfs that allows exec (scripts run from $TMP):
# on a disk-backed /tmp the large fixtures cost seconds to write and more to remove (the 52,800
# directories of test_faults_project.sh: 14 s + 34 s on a loaded 2-core VM, 2 s on tmpfs).
# BRUM_E2E_TMPDIR chooses another base.
e2e_tmpdir() {
  [ -n "${BRUM_E2E_TMPDIR:-}" ] && { echo "$BRUM_E2E_TMPDIR"; return; }
  local fs opts
  fs=$(stat -f -c %T /dev/shm 2>/dev/null)
  opts=$(findmnt -no OPTIONS /dev/shm 2>/dev/null)
  # (and only with room: a container's /dev/shm is often 64 MiB)
  local avail_kb
  avail_kb=$(df -Pk /dev/shm 2>/dev/null | awk 'NR == 2 { print $4 }')
  if [ "$fs" = tmpfs ] && [ -w /dev/shm ] && [[ ,$opts, != *,noexec,* ]] &&
    [ "${avail_kb:-0}" -ge $((2 * 1024 * 1024)) ]; then
    echo /dev/shm
  else
    echo "${TMPDIR:-/tmp}"
  fi
}
TMP=$(mktemp -d -p "$(e2e_tmpdir)")
trap 'cleanup_tmux 2>/dev/null; rm -rf "$TMP"' EXIT
# Every brum serves a control socket and allows one instance per project root: a private runtime
# directory keeps test files that run at once (on the same fixtures) apart, and apart from a brum
# the user runs.
export XDG_RUNTIME_DIR=$TMP/run
mkdir -m 700 "$XDG_RUNTIME_DIR"

ok() { PASSED=$((PASSED + 1)); echo "ok - $*"; }
bad() {
  FAILED=$((FAILED + 1))
  echo "FAIL - $*"
  # what a person would have seen then, when a TUI runs (a flake in CI can be read afterwards)
  if [ -n "${SOCK:-}" ] && tmux -L "$SOCK" has-session -t t 2>/dev/null; then
    echo "  screen at the failure:"
    tmux -L "$SOCK" capture-pane -p -t t 2>/dev/null | sed 's/^/  | /'
  fi
}
check() { # check NAME COMMAND...
  local name=$1; shift
  if "$@"; then ok "$name"; else bad "$name"; fi
}

# wait_for SECONDS COMMAND...: polls COMMAND until it succeeds or the deadline passes.
wait_for() {
  local deadline=$(( $(date +%s%N) + $1 * 1000000000 )); shift
  while ! "$@"; do
    [ "$(date +%s%N)" -ge "$deadline" ] && return 1
    sleep 0.05
  done
  return 0
}

# pid_alive PID: the process exists and is not a zombie (one read of its status; an empty or
# vanished pid is not alive).
pid_alive() {
  case $1 in '' | *[!0-9]*) return 1 ;; esac
  local st
  st=$(sed -n 's/^State:[[:space:]]*\(.\).*/\1/p' "/proc/$1/status" 2>/dev/null)
  [ -n "$st" ] && [ "$st" != Z ]
}
pid_gone() { ! pid_alive "$1"; }

finish() {
  echo "$PASSED passed, $FAILED failed"
  [ "$FAILED" -eq 0 ]
  exit $?
}

# ---- tmux: a private server per test file, one session "t" ----
SOCK_N=0
SOCK="brum-e2e-$$-0"
tm() { tmux -L "$SOCK" "$@"; }
screen() { tm capture-pane -p -t t 2>/dev/null; }
# start_tui COLS ROWS ARGS...: brum in a fresh tmux session; children carry $TOKEN in their env.
# Each gets a runtime directory of its own ($TUI_RUN): the previous one may still be quitting
# (its lock held) when the next starts on the same project.
TOKEN="brum-e2e-token-$$-$RANDOM"
start_tui() {
  local cols=$1 rows=$2; shift 2
  tm kill-server 2>/dev/null
  SOCK_N=$((SOCK_N + 1)); SOCK="brum-e2e-$$-$SOCK_N" # a fresh server: no race with the old one
  TUI_RUN=$TMP/run-tui-$SOCK_N
  mkdir -m 700 "$TUI_RUN"
  tm -f /dev/null new-session -d -s t -x "$cols" -y "$rows" \
    "env BRUM_E2E_TOKEN=$TOKEN XDG_RUNTIME_DIR=$TUI_RUN LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=xterm-256color $BRUM --log $TMP/brum.log $*; echo BRUM-EXITED \$?; sleep 600"
  tm set-option -t t remain-on-exit on >/dev/null 2>&1
}
# wait_screen PATTERN [SECONDS]: polls the screen until grep -E finds PATTERN.
wait_screen() {
  local pat=$1 secs=${2:-10}
  wait_for "$secs" bash -c 'tmux -L "$1" capture-pane -p -t t 2>/dev/null | grep -qE -- "$2"' _ "$SOCK" "$pat"
}
wait_no_screen() {
  local pat=$1 secs=${2:-10}
  wait_for "$secs" bash -c '! tmux -L "$1" capture-pane -p -t t 2>/dev/null | grep -qE -- "$2"' _ "$SOCK" "$pat"
}
keys() { tm send-keys -t t "$@"; }
# ---- processes of this test: those whose environment carries BRUM_E2E_TOKEN=$TOKEN ----
# One grep over every /proc/PID/environ finds them; one ps reads their command lines. A process
# that exits in between is simply not listed (grep -s, ps -p skip it) and a zombie has no
# environment, so nothing reads a file of a process that is gone. A process that lives shorter
# than the scan may or may not be listed: counts must only match long-lived commands (REGEX).
token_pids() {
  grep -lszFx "BRUM_E2E_TOKEN=$TOKEN" /proc/[0-9]*/environ | sed -n 's|^/proc/\([0-9]*\)/environ$|\1|p'
}
# token_procs: "PID ARGS" per live process of this test except brum itself and forks that have
# not exec'd yet (the same command line as their parent: a shell about to run `sleep 0.2`).
token_procs() {
  local pids
  pids=$(token_pids | paste -sd, -)
  [ -n "$pids" ] || return 0
  ps -ww -o pid=,ppid=,stat=,args= -p "$pids" 2>/dev/null | awk -v brum="$BRUM" '
    { pid = $1; pp[pid] = $2; st = $3; sub(/^ *[0-9]+ +[0-9]+ +[^ ]+ +/, "") }
    st ~ /^Z/ || $0 == brum || index($0, brum " ") == 1 { next }
    { args[pid] = $0; order[++n] = pid }
    END { for (i = 1; i <= n; i++) { p = order[i]; if (!(pp[p] in args) || args[pp[p]] != args[p]) print p, args[p] } }'
}
# count_token_cmd REGEX: how many of them have a command line matching the ERE REGEX.
count_token_cmd() { token_procs | cut -d' ' -f2- | grep -cE -- "$1"; }
token_count_is() { [ "$(count_token_cmd "$2")" -eq "$1" ]; }
# wait_token_count N REGEX [SECONDS]: polls until exactly N of them match (default 10 s).
wait_token_count() { wait_for "${3:-10}" token_count_is "$1" "$2"; }
no_token_procs() { [ -z "$(token_procs)" ]; }
# brum_pid: the brum that start_tui started: the pane's shell's child running $BRUM.
brum_pid() {
  local pane
  pane=$(tm display -p -t t '#{pane_pid}' 2>/dev/null) || return 0
  [ -n "$pane" ] || return 0
  ps -ww -o pid=,args= --ppid "$pane" 2>/dev/null | awk -v brum="$BRUM" '
    { pid = $1; sub(/^ *[0-9]+ +/, "") } $0 == brum || index($0, brum " ") == 1 { print pid; exit }'
}
cleanup_tmux() { tm kill-server 2>/dev/null; }
