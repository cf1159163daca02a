#!/usr/bin/env bash
# Scripts run directly by brum see what `npm run` gives them: the same hooks in the same order,
# the same environment (names and values), the same exit code. The fixture has pre/post hooks,
# a "config" field, "engines", "bin", workspaces and an .npmrc with script-shell; each script logs
# its stage and $0 (the shell) to $FID_OUT/order and dumps `env | sort` to $FID_OUT/STAGE.env.
# Without npm the comparison is skipped (said so), and brum's own results are checked against the
# values npm is known to set.
. "$(dirname "$0")/lib.sh"
FID="$TMP/fid"
cp -r "$BRUM_SOURCE_DIR/tests/fixtures/run_fidelity" "$FID"
FID=$(cd "$FID" && pwd -P)
OUT="$TMP/out"
mkdir -p "$OUT" "$TMP/npm" "$TMP/brum"
export FID_OUT="$OUT"
export NPM_CONFIG_UPDATE_NOTIFIER=false # the same in both runs: no network check from npm
unset NO_COLOR FORCE_COLOR

# run_in WHO DIR NAME [ENV...]: runs script NAME from DIR under npm or brum, keeps its files in
# $TMP/WHO/NAME; echoes the exit code.
run_in() {
  local who=$1 dir=$2 name=$3; shift 3
  rm -f "$OUT"/*
  local rc
  if [ "$who" = npm ]; then
    (cd "$dir" && env "$@" npm run "${name#*:}" >"$TMP/$who.log" 2>&1); rc=$?
  else
    (cd "$dir" && env "$@" "$BRUM" --headless -d "$FID" "$name" >"$TMP/$who.log" 2>&1); rc=$?
  fi
  rm -rf "${TMP:?}/$who/$name"
  mkdir -p "$TMP/$who/$name"
  cp "$OUT"/* "$TMP/$who/$name/" 2>/dev/null
  echo "$rc"
}

# compare NAME: brum's files against npm's, names and values, except the differences allowed.
compare() {
  python3 - "$TMP/npm/$1" "$TMP/brum/$1" <<'EOF'
import os, re, sys
npm_dir, brum_dir = sys.argv[1], sys.argv[2]

# The differences allowed, and why each is one:
ALLOWED = {
    # npm's stdout is a pipe in this test, so npm says COLOR=0; a script under brum has a
    # terminal (a PTY), where npm says COLOR=1 as well.
    "COLOR",
    # brum adds FORCE_COLOR=1 (unless NO_COLOR or FORCE_COLOR is set): some tools colour only
    # when told to, even on a terminal. npm does not set it.
    "FORCE_COLOR",
    # brum's terminals are emulated as xterm (libvterm: input mode, full-screen children), so a
    # script under brum gets TERM=xterm-256color unless the project sets TERM; under npm it
    # inherits whatever terminal npm runs in.
    "TERM",
}

def user_agent_ok(a, b):
    # npm appends "ci/NAME" when ci-info detects a CI; brum knows only GitHub Actions'. Elsewhere
    # the agents may differ by that last part, and by nothing else.
    strip = lambda s: re.sub(r" ci/\S+$", "", s)
    return a == b or strip(a) == strip(b)

def read_env(path):
    env, key = {}, None
    for line in open(path, encoding="utf-8", errors="surrogateescape").read().split("\n"):
        m = re.match(r"^([^=\s]+)=(.*)$", line)
        if m:
            key = m.group(1)
            env[key] = m.group(2)
        elif key is not None and line:  # a value with a newline in it
            env[key] += "\n" + line
    return env

bad = 0
a_order = open(os.path.join(npm_dir, "order")).read()
b_order = open(os.path.join(brum_dir, "order")).read()
if a_order != b_order:
    print("  hook order differs: npm %r, brum %r" % (a_order, b_order))
    bad += 1
for f in sorted(os.listdir(npm_dir)):
    if not f.endswith(".env"):
        continue
    a, b = read_env(os.path.join(npm_dir, f)), read_env(os.path.join(brum_dir, f))
    for k in sorted(set(a) | set(b)):
        if k in ALLOWED or a.get(k) == b.get(k):
            continue
        if k == "npm_config_user_agent" and k in a and k in b and user_agent_ok(a[k], b[k]):
            continue
        print("  %s %s: npm %r, brum %r" % (f, k, a.get(k), b.get(k)))
        bad += 1
sys.exit(1 if bad else 0)
EOF
}

# expect NAME STAGE KEY VALUE...: brum's environment for STAGE of NAME has these values.
expect_env() {
  local name=$1 stage=$2; shift 2
  python3 - "$TMP/brum/$name/$stage.env" "$@" <<'EOF'
import sys
env = dict(l.split("=", 1) for l in open(sys.argv[1]).read().splitlines() if "=" in l)
bad = 0
for k, v in zip(sys.argv[2::2], sys.argv[3::2]):
    if env.get(k) != v:
        print("  %s: %r, want %r" % (k, env.get(k), v))
        bad += 1
sys.exit(1 if bad else 0)
EOF
}

text_of() { # text_of PACKAGE_JSON SCRIPT: the script's text
  python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["scripts"][sys.argv[2]])' "$@"
}

# ---- brum on its own: hooks, their order and environment, the shell of .npmrc ----
rc=$(run_in brum "$FID" dev)
check "brum dev: exit 0" [ "$rc" -eq 0 ]
check "brum dev: pre, main, post in order, in script-shell (bash)" \
  [ "$(cat "$TMP/brum/dev/order")" = $'predev /bin/bash\ndev /bin/bash\npostdev /bin/bash' ]
for stage in predev dev postdev; do
  check "brum $stage: lifecycle variables of its own stage" expect_env dev "$stage" \
    npm_lifecycle_event "$stage" npm_lifecycle_script "$(text_of "$FID/package.json" "$stage")"
done
check "brum dev: package fields as npm flattens them" expect_env dev dev \
  npm_package_name fidelity-root npm_package_version 1.2.3 npm_package_json "$FID/package.json" \
  npm_package_config_port 8080 npm_package_config_host localhost \
  npm_package_config_nested_deep x npm_package_config_list_0 a npm_package_config_list_1 b \
  npm_package_config_off "" npm_package_engines_node ">=18" npm_package_engines_npm ">=7" \
  npm_package_bin_fid bin/fid.js npm_config_script_shell /bin/bash \
  npm_config_fidelity_setting yes npm_config_local_prefix "$FID" npm_command run \
  INIT_CWD "$FID"
check "brum dev: the banner, as npm prints it" grep -q '^\[dev\] > fidelity-root@1.2.3 predev$' "$TMP/brum.log"
check "brum: PATH starts with every node_modules/.bin up to /" \
  grep -q "^PATH=$FID/node_modules/.bin:$(dirname "$FID")/node_modules/.bin:" "$TMP/brum/dev/dev.env"
ua=$(sed -n 's/^npm_config_user_agent=//p' "$TMP/brum/dev/dev.env")
check "brum: the user agent is npm's, not brum's ($ua)" \
  bash -c '[[ $1 == npm/*" node/"*" workspaces/false"* ]]' _ "$ua"

rc=$(run_in brum "$FID/packages/lib" @fid/lib:build)
check "brum workspace build: exit 0" [ "$rc" -eq 0 ]
check "brum workspace build: hooks in order" \
  [ "$(cut -d' ' -f1 "$TMP/brum/@fid/lib:build/order" | tr '\n' ' ')" = "prebuild build postbuild " ]
check "brum workspace build: its package's fields, the root's .npmrc" \
  expect_env @fid/lib:build build npm_package_name @fid/lib npm_package_bin_lib cli.js \
  npm_package_config_mode test npm_package_engines_node ">=20" INIT_CWD "$FID/packages/lib" \
  npm_config_local_prefix "$FID" npm_config_script_shell /bin/bash \
  npm_package_json "$FID/packages/lib/package.json"
check "brum workspace build: the package's .bin, its parent's, the root's" \
  grep -q "^PATH=$FID/packages/lib/node_modules/.bin:$FID/packages/node_modules/.bin:$FID/node_modules/.bin:" \
  "$TMP/brum/@fid/lib:build/build.env"

rc=$(run_in brum "$FID" fail)
check "brum: a failing pre ends the run with its code (7)" [ "$rc" -eq 7 ]
check "brum: the script after a failing pre does not run" \
  [ "$(cat "$TMP/brum/fail/order")" = "prefail /bin/bash" ]

# ---- the same under npm: compared ----
if ! command -v npm >/dev/null; then
  echo "# npm is not installed: the comparison with npm run is skipped (brum's own results were checked)"
  finish
fi
echo "# comparing with $(npm --version 2>/dev/null) (npm run)"
for case in "$FID dev" "$FID/packages/lib @fid/lib:build" "$FID plain"; do
  set -- $case
  a=$(run_in npm "$1" "$2")
  b=$(run_in brum "$1" "$2")
  check "$2: exit codes agree ($a, $b)" [ "$a" = "$b" ]
  check "$2: hook order and environment agree with npm's" compare "$2"
done
# NO_COLOR: then npm and brum agree on colour too (no FORCE_COLOR, COLOR=0), allowed or not.
a=$(run_in npm "$FID" plain NO_COLOR=1)
b=$(run_in brum "$FID" plain NO_COLOR=1)
check "NO_COLOR: colour variables agree" \
  diff <(grep -E '^(COLOR|FORCE_COLOR)=' "$TMP/npm/plain/plain.env") \
  <(grep -E '^(COLOR|FORCE_COLOR)=' "$TMP/brum/plain/plain.env")
a=$(run_in npm "$FID" fail)
b=$(run_in brum "$FID" fail)
check "failing pre: the same exit code as npm ($a, $b)" [ "$a" = "$b" ]
check "failing pre: the same stages ran" diff "$TMP/npm/fail/order" "$TMP/brum/fail/order"
finish
