#!/usr/bin/env bash
# The process finder (Ctrl-P), the sidebar's groups and the lifecycle toggle in a workspace, as a
# person sees them: tmux runs brum, send-keys types, capture-pane reads the screen.
. "$(dirname "$0")/lib.sh"
command -v tmux >/dev/null || { echo "tmux is required"; exit 1; }
FIX="$BRUM_SOURCE_DIR/tests/fixtures/finder"

# --- --list says which scripts are lifecycle scripts (and only those)
out=$("$BRUM" --list -d "$FIX" 2>&1)
check "--list marks preinstall" bash -c 'grep -A1 "^  preinstall " <<<"$1" | grep -q "lifecycle script"' _ "$out"
check "--list marks web:prebuild" bash -c 'grep -A1 "^  web:prebuild " <<<"$1" | grep -q "lifecycle script"' _ "$out"
check "--list marks three" [ "$(grep -c 'lifecycle script' <<<"$out")" -eq 3 ]

start_tui 120 40 --shell -d "$FIX"
# --- groups: the root package first, then each workspace package, lifecycle scripts hidden
check "root package's group first" wait_screen '^ ▾ mono +│'
check "a workspace package's group" wait_screen '^ ▾ @vitejs/plugin-legacy +│'
check "the deep workspace script is listed" wait_screen '^ ○ @vitejs/plugin-legacy:serve:docs'
check "preinstall hidden" wait_no_screen 'preinstall' 2
check "web:prebuild (pre of build) hidden" wait_no_screen 'web:prebuild' 2
check "dev selected at launch" wait_screen '│ dev · idle'

# --- Ctrl-P, a few letters, Enter: the deep script's pane, nothing started
keys C-p
check "the finder opens" wait_screen '> +[0-9]+/11'
keys -l 'lgsrv'
check "it ranks the deep script" wait_screen '> lgsrv +1/11'
keys Enter
check "Enter shows its pane" wait_screen '│ @vitejs/plugin-legacy:serve:docs · idle'
check "the finder closed" wait_no_screen '> lgsrv' 5

# --- Ctrl-O: select and start
keys C-p
keys -l 'webdev'
check "finder narrows to web:dev" wait_screen '> webdev +[0-9]+/11'
keys C-o
check "Ctrl-O starts it" wait_screen 'web:dev · running'
check "its output" wait_screen 'web-dev-up'
check "its group counts it" wait_screen '^ ▾ web ● 1 '

# --- Alt-Enter (Esc then Enter) starts too
keys C-p
keys -l 'apidev'
check "finder narrows to api:dev" wait_screen '> apidev'
keys M-Enter
check "Alt-Enter starts it" wait_screen 'api:dev · running'

# --- a failing script: its group counts the failure; fold and unfold keep the counts
keys C-p
keys -l 'web:build'
check "finder: web:build" wait_screen '> web:build'
keys C-o
check "web:build fails" wait_screen 'web:build · failed \(1\)'
check "web's header: one running, one failed" wait_screen '^ ▾ web ● 1 ✗ 1 '
keys Left
check "Left folds web, with its counts" wait_screen '^ ▸ web ● 1 ✗ 1 '
check "web's scripts are gone from the sidebar" wait_no_screen '^ . web:dev ' 5
keys Right
check "Right unfolds it" wait_screen '^ ▾ web ● 1 ✗ 1 '
check "web's scripts are back" wait_screen '^ . web:dev '
keys -
check "- folds it again" wait_screen '^ ▸ web '
keys +
check "+ unfolds it" wait_screen '^ ▾ web '

# --- H shows the lifecycle scripts, and says so
keys H
check "H: status message" wait_screen 'lifecycle scripts shown \(3\)'
check "preinstall shown" wait_screen '^ ○ preinstall '
check "postinstall shown" wait_screen '^ ○ postinstall '
check "web:prebuild shown" wait_screen '^ ○ web:prebuild '
keys H
check "H again hides them" wait_no_screen '^ ○ preinstall ' 5

# --- the finder still finds a hidden lifecycle script; Enter shows it (and the lifecycle scripts)
keys C-p
keys -l 'postinst'
check "finder: postinstall (marked lifecycle)" wait_screen 'postinstall .*lifecycle'
keys Enter
check "its pane" wait_screen '│ postinstall · idle'
check "it is listed again" wait_screen '^ ○ postinstall '
keys Escape
keys q y
check "brum exits" wait_screen 'BRUM-EXITED 0' 20
finish
