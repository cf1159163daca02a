#!/usr/bin/env bash
# brum's whole benchmark set in under 5 minutes: the micro-benchmarks (brum-bench), the ingestion
# pipeline (a)-(e), memory per retained line, idle CPU, and the filter-vs-grep comparison when it is
# built. Writes markdown tables to stdout and to OUT (default BUILD/bench/results.md); raw outputs
# stay in BUILD/bench/results/.
#
# usage: bench/run.sh [BUILD_DIR]     (default: build-bench, configured Release and built if needed)
# env:   BENCHTIME=0.5s COUNT=5        micro-benchmarks (the registry group: REG_BENCHTIME=0.1s
#                                      REG_COUNT=3, its 63 cases would take 3 minutes otherwise)
#        FLOOD_LINES=1000000           flood lines; REPS=2 pipeline runs (best kept); IDLE_SECS=10
#        GREP_LINES=300000             lines for bench/filter_vs_grep.sh (its no-JIT backreference scan
#                                      alone takes ~10 s per million lines); OUT=FILE; SKIP_GREP=1;
#                                      SKIP_MICRO=1
#        KEY_PRESSES=200 KEY_BASE=BRUM     bench/key_flood.sh: presses per case, and a brum built
#                                      before a change to compare with in the same run
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=$PWD
BUILD=${1:-build-bench}
BENCHTIME=${BENCHTIME:-0.5s}
COUNT=${COUNT:-5}
REG_BENCHTIME=${REG_BENCHTIME:-0.1s}
REG_COUNT=${REG_COUNT:-3}
LINES=${FLOOD_LINES:-1000000} # not $LINES: curses reads that as the screen height
IDLE_SECS=${IDLE_SECS:-10}
OUT=${OUT:-$BUILD/bench/results.md}

if [ ! -x "$BUILD/bench/brum-bench" ] || [ ! -x "$BUILD/brum" ]; then
  cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
cmake --build "$BUILD" -j"$(nproc)" --target bench >/dev/null
BUILD=$(cd "$BUILD" && pwd)
SHOW=${BUILD#"$SRC"/} # as the report shows it: relative to the repository when inside it
BB=$BUILD/bench/brum-bench
FW=$BUILD/bench/flood_writer
PD=$BUILD/bench/pty_drain
BRUM=$BUILD/brum
RAW=$BUILD/bench/results
mkdir -p "$RAW"
tmp=$(mktemp -d)
SOCK="brum-bench-$$"
cleanup() { tmux -L "$SOCK" kill-server 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
T0=$(date +%s)

exec > >(tee "$OUT")

now() { date +%s.%N; }
fsub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a - b }'; }
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p" "$2"; } # field NAME FILE: NAME=value

echo "# brum benchmark results"
echo
echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'), commit: $(git rev-parse --short HEAD 2>/dev/null || echo none)"
echo "- machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo), kernel $(uname -r)"
echo "- compiler: $(cc --version | head -1); liburcu $(pkg-config --modversion liburcu 2>/dev/null || echo ?), PCRE2 $(pkg-config --modversion libpcre2-8 2>/dev/null || echo ?)"
echo "- load at start: $(cut -d' ' -f1-3 /proc/loadavg) (the machine is shared: numbers are noisy; ratios come from one run)"
echo

# ------------------------------------------------------------------ micro-benchmarks
# table FILE: the Go lines as a markdown table
table() {
  awk '/^Benchmark/ {
    extra = ""; mbs = "";
    for (i = 5; i < NF; i += 2) {
      if ($(i+1) == "MB/s") mbs = $i;
      else if ($(i+1) == "B/op") bop = $i;
      else if ($(i+1) == "allocs/op") aop = $i;
      else extra = extra (extra == "" ? "" : ", ") $i " " $(i+1);
    }
    if (!hdr) { print "| benchmark | iterations | ns/op | MB/s | B/op | allocs/op | other |"; print "|---|---:|---:|---:|---:|---:|---|"; hdr = 1 }
    printf "| %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, mbs, bop, aop, extra
  }' "$1"
}

if [ -z "${SKIP_MICRO:-}" ]; then
  echo "## Micro-benchmarks (brum-bench)"
  echo
  echo '```'
  echo "$SHOW/bench/brum-bench --benchtime $BENCHTIME --count $COUNT --filter '^Benchmark(Snap|LogStore|AnsiFeed|Ingest|Filter)' --lines $LINES"
  echo "$SHOW/bench/brum-bench --benchtime $REG_BENCHTIME --count $REG_COUNT --filter '^BenchmarkRegistry'"
  echo '```'
  echo
  "$BB" --benchtime "$BENCHTIME" --count "$COUNT" --lines "$LINES" \
    --filter '^Benchmark(Snap|LogStore|AnsiFeed|Ingest|Filter)' --json "$RAW/micro.json" >"$RAW/micro.txt"
  "$BB" --benchtime "$REG_BENCHTIME" --count "$REG_COUNT" --filter '^BenchmarkRegistry' \
    --json "$RAW/registry.json" >"$RAW/registry.txt"

  echo "### 1. Reading a process's state (ns per read, median of $COUNT)"
  echo
  awk '/^BenchmarkSnapRead\// {
      split($1, p, "/"); m = p[2]; split(p[3], q, "-"); c = q[1] "-" q[2];
      ns[c, m] = $3; cases[c] = 1;
      for (i = 5; i < NF; i += 2) if ($(i+1) == "writer-ns/publish") w[c, m] = $i;
      if (!(c in order)) { order[c] = ++n; list[n] = c }
    }
    END {
      print "| case (readers) | mutex | rwlock | msg | atomic | rcu | msg / mutex | mutex / atomic | mutex / rcu |";
      print "|---|---:|---:|---:|---:|---:|---:|---:|---:|";
      for (k = 1; k <= n; k++) {
        c = list[k];
        printf "| %s | %s | %s | %s | %s | %s | %.1fx | %.0fx | %.0fx |\n", c, ns[c,"mutex"], ns[c,"rwlock"],
          ns[c,"msg"], ns[c,"atomic"], ns[c,"rcu"], ns[c,"msg"]/ns[c,"mutex"], ns[c,"mutex"]/ns[c,"atomic"],
          ns[c,"mutex"]/ns[c,"rcu"];
      }
      print "";
      print "Writer cost while readers read (ns per publish, writer paced at 1 us):";
      print "";
      print "| case (readers) | mutex | rwlock | msg (enqueue) | atomic (no reclamation) | rcu (call_rcu) |";
      print "|---|---:|---:|---:|---:|---:|";
      for (k = 1; k <= n; k++) {
        c = list[k];
        if ((c, "rcu") in w)
          printf "| %s | %s | %s | %s | %s | %s |\n", c, w[c,"mutex"], w[c,"rwlock"], w[c,"msg"], w[c,"atomic"], w[c,"rcu"];
      }
    }' "$RAW/micro.txt"
  echo
  grep -E '^BenchmarkSnap' "$RAW/micro.txt" >"$tmp/g1" || true
  table "$tmp/g1"
  echo
  echo "### 2. Registry (ns per op, 2 reader threads, median of $REG_COUNT)"
  echo
  awk '/^BenchmarkRegistry/ {
      split($1, p, "/"); op = p[1]; sub("BenchmarkRegistry", "", op); k = p[2]; sz = p[3];
      w = p[4]; sub("-[0-9]+$", "", w);
      c = op " " sz " " w; ns[c, k] = $3;
      if (!(c in order)) { order[c] = ++n; list[n] = c }
    }
    END {
      print "| op, size, writers | mutexmap | lfht | rcuarray(-scan) | rcuarray-bsearch | mutexmap / lfht | mutexmap / best rcuarray |";
      print "|---|---:|---:|---:|---:|---:|---:|";
      for (i = 1; i <= n; i++) {
        c = list[i]; a = ns[c, "rcuarray-scan"]; if (a == "") a = ns[c, "rcuarray"];
        bs = ns[c, "rcuarray-bsearch"]; best = a; if (bs != "" && bs + 0 < best + 0) best = bs;
        lf = ns[c, "lfht"]; r1 = lf == "" ? "-" : sprintf("%.1fx", ns[c, "mutexmap"] / lf);
        printf "| %s | %s | %s | %s | %s | %s | %.1fx |\n", c, ns[c, "mutexmap"], lf == "" ? "-" : lf, a,
          bs == "" ? "-" : bs, r1, ns[c, "mutexmap"] / best;
      }
    }' "$RAW/registry.txt"
  echo
  table "$RAW/registry.txt"
  echo
  echo "### 3-5. Log store, output parser, regex filter"
  echo
  grep -E '^Benchmark(LogStore|AnsiFeed|Ingest|Filter)' "$RAW/micro.txt" >"$tmp/g3" || true
  table "$tmp/g3"
  echo
  echo '```'
  echo "$SHOW/bench/brum-bench --store-memory $LINES   # the log store's own accounting"
  "$BB" --store-memory "$LINES" | tee "$RAW/store_memory.txt"
  echo '```'
  echo
fi

# ------------------------------------------------------------------ pipeline
proj=$tmp/proj
mkdir -p "$proj"
{
  echo '{ "name": "flood-bench", "scripts": {'
  echo "  \"flood\": \"$FW -n $LINES\","
  echo "  \"one\": \"$FW -n 1\","
  for i in 1 2 3 4 5 6 7 8; do echo "  \"idle$i\": \"sleep 1000\","; done
  echo '  "noop": "true" } }'
} >"$proj/package.json"

tm() { tmux -L "$SOCK" "$@"; }
# tui NAME ARGS...: brum's TUI in a detached 200x50 tmux session; sets TUI_PID
tui() {
  local name=$1; shift
  tm kill-server 2>/dev/null || true
  # keep a dead pane (and its exit status) to report it instead of losing the session
  echo 'set -g remain-on-exit on' >"$tmp/tmux.conf"
  tm -f "$tmp/tmux.conf" new-session -d -s b -x 200 -y 50 \
    "exec env -u LINES -u COLUMNS FLOOD_TIME_FILE=$tmp/$name.time TERM=xterm-256color LANG=C.UTF-8 LC_ALL=C.UTF-8 $BRUM --log $tmp/brum.log $*"
  TUI_PID=$(tm display-message -p -t b '#{pane_pid}')
}
# wait_pane PATTERN SECONDS: polls the pane (50 ms) until grep -E finds PATTERN
wait_pane() {
  local deadline=$(( $(date +%s) + $2 ))
  local screen
  while :; do
    screen=$(tm capture-pane -p -t b 2>/dev/null || true) # no grep -q in a pipe: pipefail+SIGPIPE
    grep -qE -- "$1" <<<"$screen" && break
    if [ "$(tm display-message -p -t b '#{pane_dead}' 2>/dev/null || echo 1)" = 1 ]; then
      echo "brum TUI ended early: $(tm display-message -p -t b 'status #{pane_dead_status} signal #{pane_dead_signal}' 2>/dev/null || echo 'session gone')" >&2
      tm capture-pane -p -t b 2>/dev/null | grep -v '^$' | tail -5 >&2 || true
      return 1
    fi
    [ "$(date +%s)" -ge "$deadline" ] && return 1
    sleep 0.05
  done
}
hwm_kb() { awk '/^VmHWM/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
stop_tui() {
  tm kill-server 2>/dev/null || true
  local i
  for i in $(seq 100); do [ -d "/proc/$TUI_PID" ] || break; sleep 0.05; done
}

echo "(micro-benchmarks took $(( $(date +%s) - T0 )) s)"
echo
echo "## Pipeline: $LINES lines of ~100 bytes, every 10th coloured"
echo
declare -A SECS WALL
# best of REPS runs each (the machine is shared); every run's time stays in $RAW/pipeline_*.time
REPS=${REPS:-2}
run_k() { # run_k KEY: one run of that variant; sets WALL[KEY] for it
  local k=$1 t; t=$(now)
  case $k in
    a) FLOOD_TIME_FILE=$tmp/$k.time "$FW" -n "$LINES" >/dev/null ;;
    b) FLOOD_TIME_FILE=$tmp/$k.time "$FW" -n "$LINES" | cat >/dev/null ;;
    c) FLOOD_TIME_FILE=$tmp/$k.time "$PD" "$FW" -n "$LINES" 2>"$tmp/c.drain" ;;
    d) FLOOD_TIME_FILE=$tmp/$k.time "$BRUM" --log "$tmp/brum.log" --headless --shell -d "$proj" flood >/dev/null ;;
    e) tui e --shell -d "$proj" flood
       wait_pane 'flood · exited ok' 120 || { stop_tui; return 1; }
       stop_tui ;;
  esac
  W=$(fsub "$(now)" "$t")
}
: >"$RAW/pipeline_runs.txt"
for k in a b c d e; do
  for r in $(seq "$REPS"); do
    rm -f "$tmp/$k.time"
    W=failed; run_k $k || true
    s=$(field seconds "$tmp/$k.time" 2>/dev/null || true)
    echo "$k run=$r writer_s=${s:-failed} end_to_end_s=$W" >>"$RAW/pipeline_runs.txt"
    [ -n "$s" ] || continue
    if [ -z "${SECS[$k]:-}" ] || awk -v a="$s" -v b="${SECS[$k]}" 'BEGIN{exit !(a < b)}'; then
      SECS[$k]=$s; WALL[$k]=$W; cp "$tmp/$k.time" "$tmp/$k.best"
    fi
  done
done
cp "$tmp/a.best" "$tmp/a.time" 2>/dev/null || true
BYTES=$(field bytes "$tmp/a.time")
echo "Best of $REPS runs each (all runs: results/pipeline_runs.txt). Writer: \`bench/flood_writer -n $LINES\` ($BYTES bytes, $(awk -v b="$BYTES" -v n="$LINES" 'BEGIN{printf "%.1f", b/n}') bytes/line incl. SGR and newline); \"writer s\" is its own elapsed time, \"end to end\" is launch until the run is over (for (e): until the pane title shows \`exited ok\`, polled every 50 ms)."
echo
echo "| run | writer s | lines/s | vs (c) | end to end s |"
echo "|---|---:|---:|---:|---:|"
declare -A label=([a]="(a) > /dev/null" [b]="(b) pipe to cat > /dev/null" [c]="(c) PTY + minimal reader (pty_drain)" \
       [d]="(d) brum --headless > /dev/null" [e]="(e) brum TUI, tmux 200x50")
for k in a b c d e; do
  s=${SECS[$k]:-}
  if [ -z "$s" ]; then echo "| ${label[$k]} | failed | | | ${WALL[$k]} |"; continue; fi
  awk -v s="$s" -v c="${SECS[c]}" -v n="$LINES" -v l="${label[$k]}" -v w="${WALL[$k]}" \
    'BEGIN { printf "| %s | %.3f | %.0f | %.2fx | %s |\n", l, s, n / s, s / c, w }'
done
echo
echo "Target: (e) within 1.25x of (c)."
echo

# ------------------------------------------------------------------ memory
echo "## Memory: $LINES retained lines (--max-lines $LINES)"
echo
/usr/bin/time -f '%M' -o "$tmp/hb.rss" "$BRUM" --log "$tmp/brum.log" --headless --shell -d "$proj" one >/dev/null
/usr/bin/time -f '%M' -o "$tmp/hf.rss" "$BRUM" --log "$tmp/brum.log" --headless --max-lines "$LINES" --shell -d "$proj" flood >/dev/null
tui tb --max-lines "$LINES" --shell -d "$proj" one
wait_pane 'one · exited ok' 30 || true
sleep 0.3; TB=$(hwm_kb "$TUI_PID"); stop_tui
tui tf --max-lines "$LINES" --shell -d "$proj" flood
wait_pane 'flood · exited ok' 120 || true
sleep 0.3; TF=$(hwm_kb "$TUI_PID"); stop_tui
HB=$(tail -1 "$tmp/hb.rss"); HF=$(tail -1 "$tmp/hf.rss")
RAWPL=$(awk -v b="$BYTES" -v n="$LINES" 'BEGIN{printf "%.1f", b/n}')
echo "Peak RSS (VmHWM / \`/usr/bin/time -f %M\`), a 1-line run as the baseline (binary, libraries, curses):"
echo
echo "| mode | baseline KiB | $LINES lines KiB | bytes per retained line | vs raw ($RAWPL B/line) |"
echo "|---|---:|---:|---:|---:|"
for m in headless tui; do
  if [ $m = headless ]; then b=$HB; f=$HF; else b=$TB; f=$TF; fi
  awk -v m="$m" -v b="$b" -v f="$f" -v n="$LINES" -v r="$RAWPL" \
    'BEGIN { pl = (f - b) * 1024 / n; printf "| %s | %d | %d | %.1f | %.2fx |\n", m, b, f, pl, pl / r }'
done
if [ -f "$RAW/store_memory.txt" ]; then
  awk '{ v[$1] = $2 } END { printf "\nThe log store alone (brum-bench --store-memory: the same lines through the parser into one store): %.1f bytes per line for %.1f raw bytes (%.1f without SGR) = %.2fx raw.\n", v["store_bytes_per_line"], v["raw_bytes_per_line"], v["text_bytes"] / v["store_lines"], v["store_vs_raw"] }' "$RAW/store_memory.txt"
fi
echo
echo "Target: at most 1.3x the raw text."
echo

# ------------------------------------------------------------------ idle
echo "## Idle: 8 processes running \`sleep 1000\`, brum TUI in tmux, ${IDLE_SECS} s"
echo
tui idle --shell -d "$proj" idle1 idle2 idle3 idle4 idle5 idle6 idle7 idle8
wait_pane '8 running' 20 || true
sleep 2
ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
schedns() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{s += $1} END {print s + 0}' || true; }
ctxsw() { cat /proc/"$1"/task/*/status 2>/dev/null | awk '/ctxt_switches/ {s += $2} END {print s + 0}' || true; }
n0=$(schedns "$TUI_PID")
t1=$(ticks "$TUI_PID"); n1=$(schedns "$TUI_PID"); c1=$(ctxsw "$TUI_PID"); w1=$(now)
sleep "$IDLE_SECS"
t2=$(ticks "$TUI_PID"); n2=$(schedns "$TUI_PID"); c2=$(ctxsw "$TUI_PID"); w2=$(now)
THREADS=$(ls /proc/"$TUI_PID"/task 2>/dev/null | wc -l || true)
RUNNING=$(tm capture-pane -p -t b 2>/dev/null | sed -n 's/.*● \([0-9]*\) running.*/\1/p' | head -1 || true)
stop_tui
HZ=$(getconf CLK_TCK)
awk -v t="$((t2 - t1))" -v hz="$HZ" -v ns="$((n2 - n1))" -v c="$((c2 - c1))" -v w="$(fsub "$w2" "$w1")" \
    -v th="$THREADS" -v r="$RUNNING" -v n0="$n0" 'BEGIN {
  print "| measure | value |"; print "|---|---:|";
  printf "| utime+stime (/proc/PID/stat) | %d ticks = %.3f%% of one core |\n", t, t / hz / w * 100;
  printf "| on-CPU time, all threads (/proc/PID/task/*/schedstat) | %.2f ms = %.4f%% of one core |\n", ns / 1e6, ns / 1e9 / w * 100;
  printf "| context switches (wakeups), all threads | %d (%.1f/s) |\n", c, c / w;
  printf "| threads | %d |\n", th;
  printf "| on-CPU time from launch to the start of the window (sanity: the counter works) | %.1f ms |\n", n0 / 1e6;
  printf "| processes running (header, sanity) | %s |\n", r;
}'
echo
echo "Target: under 0.1%."
echo

# ------------------------------------------------------------------ filter vs grep
if [ -z "${SKIP_GREP:-}" ] && [ -x "$BUILD/bench/bench_filter" ] && [ -f "$SRC/bench/filter_vs_grep.sh" ]; then
  echo "## Filter vs grep (bench/filter_vs_grep.sh)"
  echo
  echo '```'
  echo "bash bench/filter_vs_grep.sh $SHOW/bench/bench_filter ${GREP_LINES:-300000}"
  bash "$SRC/bench/filter_vs_grep.sh" "$BUILD/bench/bench_filter" "${GREP_LINES:-300000}" 2>&1 | tee "$RAW/filter_vs_grep.txt"
  echo '```'
  echo
fi

# ------------------------------------------------------------------ frame time, key latency
echo "## Frame time (bench/bench_frame.c)"
echo
echo '```'
echo "$BUILD/bench/bench_frame 16 100000 300"
"$BUILD/bench/bench_frame" 16 100000 300 2>&1 | tee "$RAW/frame.txt"
echo '```'
echo
echo "## Sidebar and finder at 100,000 processes (bench/bench_sidebar.c)"
echo
echo '```'
echo "$BUILD/bench/bench_sidebar 100000 100"
"$BUILD/bench/bench_sidebar" 100000 100 2>&1 | tee "$RAW/sidebar.txt"
echo '```'
echo
echo "## Keypress-to-screen latency (bench/key_latency.sh, via tmux)"
echo
echo '```'
echo "bash bench/key_latency.sh $SHOW/brum"
bash "$SRC/bench/key_latency.sh" "$BUILD/brum" 2>&1 | grep -v '^no server' | tee "$RAW/key_latency.txt"
echo '```'
echo
echo "## Key latency under a 200,000 lines/s flood (bench/key_flood.sh, at brum's terminal)"
echo
echo '```'
echo "PRESSES=${KEY_PRESSES:-200}${KEY_BASE:+ BASE=$KEY_BASE} bash bench/key_flood.sh $SHOW"
PRESSES=${KEY_PRESSES:-200} BASE=${KEY_BASE:-} bash "$SRC/bench/key_flood.sh" "$BUILD" 2>&1 \
  | tee "$RAW/key_flood.txt" || echo "(key_flood.sh failed)"
echo '```'
echo

# ------------------------------------------------------------------ loading a big project
echo "## Loading 100,000 scripts (bench/load_scripts.sh)"
echo
echo "bash bench/load_scripts.sh BUILD/brum"
echo
bash "$SRC/bench/load_scripts.sh" "$BRUM" 2>&1 | tee "$RAW/load_scripts.txt" || echo "(load_scripts.sh failed)"
echo

echo "Total time: $(( $(date +%s) - T0 )) s."
