#!/usr/bin/env bash
# Project files end to end: brum.yaml dependencies, ready probes and restarts, .env, Procfile,
# process-compose.yaml, the walk-up, a pnpm workspace; headless and in the terminal UI. Every
# wait polls with a deadline; ports are picked free so parallel tests do not collide.
. "$(dirname "$0")/lib.sh"
command -v tmux >/dev/null || { echo "tmux is required"; exit 1; }
command -v python3 >/dev/null || { echo "python3 is required"; exit 1; }
FIX="$BRUM_SOURCE_DIR/tests/fixtures/project"
export NO_COLOR=1
# brum with the token its children carry, so that no_token_procs finds anything it
# left behind (start_tui gives the token to the TUI's brum only, not to the pane's shell).
HL=(env "BRUM_E2E_TOKEN=$TOKEN" "$BRUM")

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# fixture NAME: a copy of tests/fixtures/project/NAME in $TMP, ports filled in; prints its path.
fixture() {
  local dst="$TMP/$1"
  rm -rf "$dst"
  cp -r "$FIX/$1" "$dst"
  find "$dst" -type f -exec sed -i "s/@API_PORT@/$API_PORT/g; s/@DEAD_PORT@/$DEAD_PORT/g" {} +
  echo "$dst"
}
API_PORT=$(free_port)
DEAD_PORT=$(free_port)
WS=$(fixture pnpm-ws)
export ORDER="$TMP/order"

# --- headless: db, then api once db has printed its ready line, then web once api answers HTTP
CHAIN=$(fixture chain)
: >"$ORDER"
out=$(timeout 60 "${HL[@]}" --headless -d "$CHAIN" web 2>&1); rc=$?
check "chain: brum --headless web exits 0 (was $rc)" [ "$rc" -eq 0 ]
check "chain: db ready, then api started, then web saw api answer" \
  [ "$(paste -sd' ' "$ORDER")" = "db-ready api-start web-api-up" ]
check "chain: web's output printed" grep -q '^\[web\] web: done' <<<"$out"
check "chain: summary lists the dependencies" grep -qE '^api +stopped .*after db \(ready\)' <<<"$out"
check "chain: web's summary line" grep -qE '^web +exited ok .*after api \(ready\)' <<<"$out"
check "chain: the dependencies were stopped, nothing left running" wait_for 5 no_token_procs

# --- headless: a dependency that never becomes ready: non-zero, with the probe's last error
NEVER=$(fixture never)
out=$(timeout 60 "${HL[@]}" --headless -d "$NEVER" api 2>&1); rc=$?
check "never ready: exits 1 (was $rc)" [ "$rc" -eq 1 ]
check "never ready: says why, with the probe's error" \
  grep -qE "api did not start: dependency db failed: not ready: probe tcp.*127.0.0.1:$DEAD_PORT" <<<"$out"
check "never ready: api never ran" bash -c '! grep -q "api-ran" <<<"$1"' _ "$out"
check "never ready: db stopped, nothing left running" wait_for 5 no_token_procs

# --- headless: restart with backoff, given up after max_restarts; the exit code is the last run's
RESTART=$(fixture restart)
out=$(timeout 60 "${HL[@]}" --headless -d "$RESTART" crash 2>&1); rc=$?
check "restart: exits 3 once the policy gives up (was $rc)" [ "$rc" -eq 3 ]
check "restart: three runs (one and two restarts)" [ "$(grep -c '^\[crash\] crash-run' <<<"$out")" -eq 3 ]
check "restart: summary counts the restarts" grep -qE '^crash +failed \(3\) .*2 restarts' <<<"$out"

# --- .env and env: the child sees the file's values, brum.yaml's env over them, an unset
out=$(SECRET=leaked timeout 30 "${HL[@]}" --headless -d "$RESTART" greet 2>&1); rc=$?
check "env: greet exits 0 (was $rc)" [ "$rc" -eq 0 ]
check "env: .env value visible, env wins over it, null unsets" \
  grep -qx '\[greet\] greeting=hello-from-dotenv mode=brum-yaml secret=unset' <<<"$out"

# --- a Procfile project, and the walk-up from a subdirectory
PROCFILE=$(fixture procfile)
out=$(cd "$PROCFILE/sub/deeper" && timeout 30 "${HL[@]}" --headless hello 2>&1); rc=$?
check "Procfile from a subdirectory: exits 0 (was $rc)" [ "$rc" -eq 0 ]
check "Procfile: runs in the project's directory" grep -qx "\[hello\] hello-from-procfile $PROCFILE" <<<"$out"
out=$(cd "$PROCFILE/sub" && "$BRUM" --list 2>&1)
check "Procfile: --list from a subdirectory finds the project" grep -q "project: .*($PROCFILE)" <<<"$out"
check "Procfile: --list shows where worker comes from" grep -qA1 '^  worker ' <<<"$out"
check "Procfile: ... on the line after it" bash -c 'grep -A1 "^  worker " <<<"$1" | grep -q "from Procfile:2"' _ "$out"

# --- without names, headless runs default_run, else the autostart processes, else refuses
: >"$ORDER"
out=$(DB_DELAY=0 timeout 60 "${HL[@]}" --headless -d "$CHAIN" 2>&1); rc=$?
check "default_run: web and what it needs ran (rc $rc)" \
  bash -c '[ "$1" -eq 0 ] && [ "$(paste -sd" " "$2")" = "db-ready api-start web-api-up" ]' _ "$rc" "$ORDER"
out=$(timeout 30 "${HL[@]}" --headless -d "$PROCFILE" 2>&1); rc=$?
check "autostart: every Procfile process ran (rc $rc)" \
  bash -c '[ "$1" -eq 0 ] && grep -q "^\[hello *\] hello-from" <<<"$2" && grep -q "^\[worker\] worker-ran" <<<"$2"' _ "$rc" "$out"
out=$("$BRUM" --headless -d "$WS" 2>&1); rc=$?
check "nothing to start: headless refuses with exit 2" \
  bash -c '[ "$1" -eq 2 ] && grep -q "needs at least one script" <<<"$2"' _ "$rc" "$out"

# --- process-compose: a dependency that must complete successfully; what brum does not do is said
COMPOSE=$(fixture compose)
: >"$ORDER"
out=$(timeout 30 "${HL[@]}" --headless -d "$COMPOSE" app 2>&1); rc=$?
check "process-compose: exits 0 (was $rc)" [ "$rc" -eq 0 ]
check "process-compose: setup completed before app" [ "$(paste -sd' ' "$ORDER")" = "setup-done app-ran" ]
check "process-compose: the unsupported key is named in app's output" \
  grep -qE "^\[app *\] .*shutdown.command.* not supported" <<<"$out"

# --- a pnpm workspace: brum --list in a workspace package says pnpm, not npm
out=$("$BRUM" --list -d "$WS/packages/web" 2>&1); rc=$?
check "pnpm workspace package: --list exits 0 (was $rc)" [ "$rc" -eq 0 ]
check "pnpm workspace package: package manager pnpm" grep -q '^package manager: pnpm' <<<"$out"
check "pnpm workspace package: its scripts listed" grep -q 'web:dev' <<<"$out"
out=$(cd "$WS/packages/web" && timeout 30 "${HL[@]}" --headless dev 2>&1); rc=$?
check "pnpm workspace package: 'dev' there is the package's own (rc $rc)" \
  bash -c '[ "$1" -eq 0 ] && grep -qx "\[web:dev\] web-dev" <<<"$2"' _ "$rc" "$out"

# --- the TUI: waiting for a dependency, where a process comes from; quitting leaves nothing
: >"$ORDER"
export DB_DELAY=8 WEB_STAY=1
start_tui 120 40 -d "$CHAIN"
check "tui: the sidebar lists db, api and web" wait_screen ' web( |$)'
check "tui: web waits for api" wait_screen 'web · waiting for api \(ready\)'
check "tui: the title says where web comes from" wait_screen 'web · .*brum\.yaml:[0-9]+'
keys k
check "tui: api waits for db" wait_screen 'api · waiting for db \(ready\)'
check "tui: web runs once api answers" wait_for 40 grep -q web-api-up "$ORDER"
keys j
check "tui: web is running" wait_screen 'web · running'
check "tui: the three are running" wait_screen '3 running'
keys q y
check "tui: brum exits after q y" wait_screen 'BRUM-EXITED 0' 20
check "tui: quitting leaves nothing running" wait_for 5 no_token_procs
unset DB_DELAY WEB_STAY

# --- the TUI: a hidden process is not listed; restarts in the sidebar and the title
start_tui 120 40 -d "$RESTART" crash
check "tui: crash gives up after its restarts" wait_screen 'crash · failed \(3\) .*2 restarts' 20
check "tui: the sidebar shows the restarts" wait_screen '↻2'
check "tui: greet listed" wait_screen ' greet( |$)'
check "tui: the hidden helper is not listed" wait_no_screen 'helper' 2
check "tui: the group's header above its processes" wait_screen '^ ▾ jobs( [^│]*)?│'
keys 2
check "tui: 2 selects the second process (not the header)" wait_screen 'greet · idle' 
keys q
check "tui: brum exits" wait_screen 'BRUM-EXITED 0' 20
check "tui: nothing left running" wait_for 5 no_token_procs

# --- a small terminal: still readable (the too-small notice), and back
start_tui 20 6 -d "$RESTART"
check "tui 20x6: says it is too small" wait_screen 'too small'
tm resize-window -t t -x 80 -y 24
check "tui 80x24: the sidebar is back" wait_screen ' greet( |$)'
keys q
check "tui 80x24: brum exits" wait_screen 'BRUM-EXITED 0' 20

finish
