#!/usr/bin/env bash
# What processes cost and hold (issue 13): a server that cannot bind because another process
# holds its port is told who holds it (pid and command, or which of brum's), `K` `y` kills the
# holder and the script runs; `%` shows CPU / RSS / the listening port in the sidebar, and
# `brum ctl ps` reports them. Servers listen on 127.0.0.1 only, on ports free at the start.
. "$(dirname "$0")/lib.sh"
command -v tmux >/dev/null || { echo "tmux is required"; exit 1; }
command -v python3 >/dev/null || { echo "python3 is required"; exit 1; }

free_port() { python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])"; }
P1=$(free_port)
P2=$(free_port)
PROJ=$TMP/proj
mkdir -p "$PROJ"
cat >"$PROJ/package.json" <<JSON
{"name":"res","scripts":{
  "clash":"python3 -m http.server --bind 127.0.0.1 $P1",
  "srv":"python3 -m http.server --bind 127.0.0.1 $P2",
  "clash2":"python3 -m http.server --bind 127.0.0.1 $P2"
}}
JSON
listening() { python3 -c "import socket,sys; s=socket.socket(); sys.exit(s.connect_ex(('127.0.0.1',$1)))"; }

# --- a holder outside brum: python's "[Errno 98] Address already in use" (port from the command)
BRUM_E2E_TOKEN=$TOKEN python3 -m http.server --bind 127.0.0.1 "$P1" >/dev/null 2>&1 &
HOLDER=$!
check "holder listens on $P1" wait_for 10 listening "$P1"
start_tui 180 30 -d "$PROJ" clash # wide: the marker line fits on one row
check "clash fails to bind" wait_screen 'clash · failed' 15
check "pane names the holder's pid and command" \
  wait_screen "port $P1 is held by pid $HOLDER \\(python3 -m http.server"
check "not one of brum's" wait_screen "not one of brum's"
keys Tab Tab
check "Errors entry names the holder" wait_screen "held by pid $HOLDER"
keys BTab BTab
keys K
check "K asks first, naming pid and port" wait_screen "Kill pid $HOLDER .*port $P1"
keys n
check "n cancels: the holder lives" wait_no_screen "Kill pid" 5
check "holder still alive after n" pid_alive "$HOLDER"
keys K
wait_screen "Kill pid $HOLDER" >/dev/null
keys y
check "y: the holder is gone" wait_for 10 pid_gone "$HOLDER"
check "y: clash restarts and runs" wait_screen 'clash · running' 15
check "clash now listens on $P1" wait_for 10 listening "$P1"

# --- % shows the figures and the port; brum ctl ps reports them
keys %
check "% shows the port column" wait_screen "clash +[0-9.]+% +[0-9.]+[KMG] +:$P1" 10
check "pane title shows cpu, rss and port" wait_screen "cpu [0-9.]+% · [0-9.]+[KMG] · :$P1"
ps_has_port() { XDG_RUNTIME_DIR=$TUI_RUN "$BRUM" ctl -d "$PROJ" ps | grep -qE "^clash +running .* [0-9.]+% +[0-9]+M +:$P1 "; }
check "brum ctl ps shows CPU, RSS and the port" wait_for 10 ps_has_port
json_ports() { XDG_RUNTIME_DIR=$TUI_RUN "$BRUM" ctl -d "$PROJ" --json ps | grep -q "\"ports\":\\[$P1\\]"; }
check "ps --json has ports [$P1]" json_ports
keys %
check "% again hides the columns" wait_no_screen "clash +[0-9.]+% +[0-9.]+[KMG]" 5

# --- the holder is one of brum's: K stops it through the supervisor
keys j Enter
check "srv runs" wait_screen 'srv · running' 15
check "srv listens on $P2" wait_for 10 listening "$P2"
keys j Enter
check "clash2 fails: held by brum's srv" wait_screen "port $P2 is held by brum's .srv." 15
keys K
check "K asks to stop brum's srv" wait_screen "Stop brum's .srv."
keys y
srv_stopped() { XDG_RUNTIME_DIR=$TUI_RUN "$BRUM" ctl -d "$PROJ" ps | grep -qE '^srv +stopped'; }
check "srv is stopped (brum ctl ps)" wait_for 10 srv_stopped
check "clash2 restarts and runs" wait_screen 'clash2 · running' 15
check "clash2 listens on $P2" wait_for 10 listening "$P2"
keys q y
check "brum exits" wait_screen 'BRUM-EXITED 0' 15
kill "$HOLDER" 2>/dev/null

# --- headless (no UI to show the columns): brum ctl ps turns sampling on for a while
start_tui 120 30 --headless -d "$PROJ" srv
check "headless srv listens on $P2" wait_for 10 listening "$P2"
ps_headless() { XDG_RUNTIME_DIR=$TUI_RUN "$BRUM" ctl -d "$PROJ" ps | grep -qE "^srv +running .* [0-9.]+% +[0-9]+M +:$P2 "; }
check "headless: brum ctl ps has the figures within seconds of the first ps" wait_for 10 ps_headless
keys C-c
check "headless brum ended" wait_screen 'BRUM-EXITED'
cleanup_tmux

finish
