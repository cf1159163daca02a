#!/usr/bin/env bash
# brum --check (issue 12): validates the project files and exits, 0 or 2 with every error as
# "brum: FILE:LINE:COL: message" on its own line; nothing starts.
. "$(dirname "$0")/lib.sh"
export NO_COLOR=1
P="$TMP/p"
mkdir -p "$P/ok/sub" "$P/bad" "$P/none"

cat >"$P/ok/brum.yaml" <<'YAML'
processes:
  db: { cmd: "echo CHECK-MUST-NOT-RUN", ready: { log: "ready" } }
  api: { cmd: "echo CHECK-MUST-NOT-RUN", depends_on: { db: ready } }
YAML
printf 'web: echo CHECK-MUST-NOT-RUN\n' >"$P/ok/Procfile"
out=$(cd "$P/ok/sub" && "$BRUM" --check 2>&1); rc=$?
check "valid files, from a subdirectory: exit 0 (was $rc)" [ "$rc" -eq 0 ]
check "valid files: says how many processes" grep -q "^brum: $P/ok: 3 processes, the project files are valid$" <<<"$out"
check "valid files: nothing ran" bash -c '! grep -q CHECK-MUST-NOT-RUN <<<"$1"' _ "$out"

cat >"$P/bad/brum.yaml" <<'YAML'
processes:
  a: { cmd: x, autostart: yes }
  b: { cmd: y, ready: { http: "https://localhost/" } }
YAML
printf 'web ok\n' >"$P/bad/Procfile"
out=$("$BRUM" --check -d "$P/bad" 2>&1); rc=$?
check "invalid files: exit 2 (was $rc)" [ "$rc" -eq 2 ]
check "invalid files: the boolean, with FILE:LINE:COL" grep -qx "brum: brum.yaml:2:27: autostart must be true or false, not 'yes'" <<<"$out"
check "invalid files: the https probe" grep -q "^brum: brum.yaml:3:31: 'https://localhost/': https probes are not supported" <<<"$out"
check "invalid files: the Procfile line" grep -q "^brum: Procfile:1:4: expected 'name: command'" <<<"$out"
check "invalid files: every line is a brum: message" bash -c '! grep -v "^brum: " <<<"$1"' _ "$out"

out=$("$BRUM" --check -d "$P/none" 2>&1); rc=$?
check "no project file above: exit 2 (was $rc)" [ "$rc" -eq 2 ]
check "no project file above: says what was looked for" grep -q "no project file (package.json, brum.yaml" <<<"$out"

finish
