#!/usr/bin/env bash
# `brum mcp` driven by real MCP clients over stdio: a python3 client speaking raw JSON-RPC
# (always), and the official TypeScript SDK's Client with StdioClientTransport (when node and npm
# are there; the SDK is installed once into the build directory). With no brum running for the
# fixture project, brum mcp runs the processes itself and they must be gone once the session
# closes; with one running, it drives that one and leaves its processes alone. lib.sh's private
# XDG_RUNTIME_DIR keeps the socket and the one-instance lock away from any other brum.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || { echo "python3 is required"; exit 1; }
PROJ="$TMP/proj"
mkdir -p "$PROJ"
cp "$BRUM_SOURCE_DIR/tests/fixtures/mcp/package.json" "$PROJ/"
HEADLESS=""
trap '[ -n "$HEADLESS" ] && kill "$HEADLESS" 2>/dev/null; rm -rf "$TMP"' EXIT
SDK_VERSION=1.32.2 # engines: node >=18 (Debian 12's node)

# run_client NAME COMMAND...: runs a client with the token (brum mcp and the scripts inherit it;
# the greps that count processes must not have it) that prints "ok - ..." / "FAIL - ..." lines and
# counts them here; a client that fails without saying so is a failure too.
run_client() {
  local name=$1; shift
  BRUM_E2E_TOKEN=$TOKEN "$@" >"$TMP/$name.out" 2>"$TMP/$name.err"
  local rc=$?
  cat "$TMP/$name.out"
  local ok bad
  ok=$(grep -c '^ok - ' "$TMP/$name.out")
  bad=$(grep -c '^FAIL - ' "$TMP/$name.out")
  PASSED=$((PASSED + ok))
  FAILED=$((FAILED + bad))
  if [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then
    bad "$name: client exited $rc"
    sed 's/^/  stderr: /' "$TMP/$name.err" | tail -20
  fi
  [ "$bad" -gt 0 ] && sed 's/^/  stderr: /' "$TMP/$name.err" | tail -20
  # brum mcp's stderr is the client's (the SDK's transport inherits it): a sanitizer's report there
  # fails the session even when the client could not see it.
  if grep -qE 'Sanitizer|runtime error:' "$TMP/$name.err"; then
    bad "$name: a sanitizer report"
    grep -E -A20 'Sanitizer|runtime error:' "$TMP/$name.err" | head -40
  fi
}
instance_up() { compgen -G "$XDG_RUNTIME_DIR/brum/*.json" >/dev/null; }
no_instance() { ! instance_up; }

# --- usage errors say what to do; stdout stays clean
"$BRUM" mcp --bogus >"$TMP/o" 2>"$TMP/e"
check "unknown option: exit 2" [ $? -eq 2 ]
check "unknown option: named on stderr" grep -q "unknown option '--bogus'" "$TMP/e"
check "unknown option: nothing on stdout" [ ! -s "$TMP/o" ]
echo '{"jsonrpc":"2.0","id":1,"method":"ping"}' | "$BRUM" mcp -d "$TMP/nowhere" >"$TMP/o" 2>"$TMP/e"
check "no directory: exit 2" [ $? -eq 2 ]
check "no directory: says so" grep -q "nowhere" "$TMP/e"
check "no directory: nothing on stdout" [ ! -s "$TMP/o" ]
mkdir "$TMP/empty"
echo '{"jsonrpc":"2.0","id":1,"method":"ping"}' | "$BRUM" mcp -d "$TMP/empty" >"$TMP/o" 2>"$TMP/e"
check "no package.json: exit 2" [ $? -eq 2 ]
check "no package.json: says so" grep -q "package.json" "$TMP/e"

# --- no brum runs: brum mcp runs the project itself; the processes end with the session
run_client python-full python3 "$BRUM_SOURCE_DIR/tests/e2e/mcp_client.py" full "$BRUM" "$PROJ"
check "python session: its processes are gone" wait_for 15 no_token_procs
check "python session: its instance files are gone" wait_for 5 no_instance
run_client python-legacy python3 "$BRUM_SOURCE_DIR/tests/e2e/mcp_client.py" legacy "$BRUM" "$PROJ"
check "legacy session: nothing left running" wait_for 15 no_token_procs

# --- brum already runs for the project: brum mcp drives it and leaves its processes alone
BRUM_E2E_TOKEN=$TOKEN "$BRUM" --headless --shell -d "$PROJ" ticker >"$TMP/headless.out" 2>"$TMP/headless.err" &
HEADLESS=$!
check "headless brum: its instance is published" wait_for 10 instance_up
run_client python-attach python3 "$BRUM_SOURCE_DIR/tests/e2e/mcp_client.py" attach "$BRUM" "$PROJ"
if token_count_is 1 'while :; do echo'; then
  ok "attached session: the running brum's ticker keeps running"
else
  bad "attached session: the running brum's ticker keeps running"
  token_procs | sed 's/^/  /'
fi
check "attached session: the running brum keeps running" pid_alive "$HEADLESS"
# The client stops that brum, starts another and stops it again.
run_client python-reconnect python3 "$BRUM_SOURCE_DIR/tests/e2e/mcp_client.py" reconnect "$BRUM" \
  "$PROJ" "$HEADLESS"
wait "$HEADLESS" 2>/dev/null
HEADLESS=""
check "both brums stopped: nothing left running" wait_for 15 no_token_procs

# --- the official TypeScript SDK client
# BRUM_MCP_SDK_DIR: one install shared by the build directories (tests/run.sh sets it)
sdk_dir="${BRUM_MCP_SDK_DIR:-${BRUM_BUILD_DIR:-$TMP}/mcp-sdk}"
sdk_ready() {
  [ "$(node -p "require('$sdk_dir/node_modules/@modelcontextprotocol/sdk/package.json').version" 2>/dev/null)" = "$SDK_VERSION" ]
}
if ! command -v node >/dev/null; then
  echo "skip - TypeScript SDK client: node is not installed (the python3 client ran the session)"
elif ! sdk_ready && ! command -v npm >/dev/null; then
  echo "skip - TypeScript SDK client: npm is not installed (the python3 client ran the session)"
elif ! sdk_ready && ! npm install --prefix "$sdk_dir" --no-audit --no-fund --loglevel=error \
  "@modelcontextprotocol/sdk@$SDK_VERSION" >"$TMP/npm.log" 2>&1; then
  echo "skip - TypeScript SDK client: npm install @modelcontextprotocol/sdk@$SDK_VERSION failed:"
  tail -5 "$TMP/npm.log" | sed 's/^/  /'
else
  run_client sdk env NODE_PATH="$sdk_dir/node_modules" \
    node "$BRUM_SOURCE_DIR/tests/e2e/mcp_sdk_client.mjs" "$sdk_dir" "$BRUM" "$PROJ"
  check "SDK session closed: its processes are gone" wait_for 15 no_token_procs
fi
finish
