# Shared helpers for brum's shell end-to-end tests. Source it; call `finish` at the end.
set -u
: "${BRUM:?BRUM must point at the brum binary}"
: "${BRUM_SOURCE_DIR:?}"
PASSED=0
FAILED=0
# Sanitizer builds are slower and bigger: time bounds get slack, memory bounds their shadow.
case "${BRUM_TEST_CONFIG:-normal}" in
  tsan) SLOW_MS=1500; RSS_LIMIT_KB=$((512 * 1024)) ;;
  asan) SLOW_MS=500; RSS_LIMIT_KB=$((256 * 1024)) ;;
  *) SLOW_MS=0; RSS_LIMIT_KB=65536 ;;
esac
TMP=$(mktemp -d)
trap 'cleanup_tmux 2>/dev/null; rm -rf "$TMP"' EXIT

ok() { PASSED=$((PASSED + 1)); echo "ok - $*"; }
bad() { FAILED=$((FAILED + 1)); echo "FAIL - $*"; }
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

pid_alive() { [ -d "/proc/$1" ] && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }
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
TOKEN="brum-e2e-token-$$-$RANDOM"
start_tui() {
  local cols=$1 rows=$2; shift 2
  tm kill-server 2>/dev/null
  SOCK_N=$((SOCK_N + 1)); SOCK="brum-e2e-$$-$SOCK_N" # a fresh server: no race with the old one
  tm -f /dev/null new-session -d -s t -x "$cols" -y "$rows" \
    "env BRUM_E2E_TOKEN=$TOKEN LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=xterm-256color $BRUM --log $TMP/brum.log $*; echo BRUM-EXITED \$?; sleep 600"
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
# Processes (any) still carrying this test's token in their environment.
token_procs() {
  grep -l -s -a "BRUM_E2E_TOKEN=$TOKEN" /proc/[0-9]*/environ 2>/dev/null | sed 's|/proc/\([0-9]*\)/environ|\1|' | while read -r p; do
    [ "$p" = "$$" ] && continue
    grep -q '^State:.*Z' "/proc/$p/status" 2>/dev/null && continue
    # the tmux shell wrapper itself carries the token; count only brum's children
    cmd=$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)
    case "$cmd" in *"BRUM-EXITED"*|sleep\ 600*|*"$BRUM"*) continue ;; esac
    echo "$p"
  done
}
no_token_procs() { [ -z "$(token_procs)" ]; }
cleanup_tmux() { tm kill-server 2>/dev/null; }
