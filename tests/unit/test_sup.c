/* The supervisor with real children: spawning in a PTY, exit codes, signals, stop escalation,
 * restarts, resizing, snapshots. */
#include <criterion/criterion.h>
#include <malloc.h>
#include <stdatomic.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/rcu.h"
#include "core/sup.h"
#include "tests/unit/fdlimit.h"

static Sup* sup;

static void start_sup(bool pty) {
   rcu_register_thread();
   SupConfig cfg = {.use_pty = pty, .kill_timeout_s = 0.5, .cols = 100, .rows = 30};
   cr_assert_eq(sup_new(&cfg, &sup, NULL), 0);
}

static void setup(void) {
   start_sup(true);
}

static void teardown(void) {
   sup_quit(sup);
   for (int i = 0; i < 1000 && !sup_finished(sup); i++)
      nanosleep(&(struct timespec){0, 10000000}, NULL);
   cr_assert(sup_finished(sup), "the supervisor finished quitting in time");
   sup_free(sup);
   rcu_unregister_thread();
}

TestSuite(sup, .init = setup, .fini = teardown, .timeout = 60);

static uint64_t add_in(const char* script, const char* cwd) {
   char sh[] = "/bin/sh", dc[] = "-c";
   char* argv[] = {sh, dc, (char*)script, NULL};
   SupLaunch l = {.argv = argv, .cwd = cwd};
   return sup_add(sup, "p", &l);
}

static uint64_t add(const char* script) {
   return add_in(script, "/tmp");
}

static ProcSnap snap(uint64_t id) {
   rcu_read_lock();
   ProcSnap s = *sup_snap(sup_registry(sup)->slots[id]);
   rcu_read_unlock();
   return s;
}

static bool wait_state(uint64_t id, ProcState st) {
   for (int i = 0; i < 1000; i++) {
      ProcSnap s = snap(id);
      if (s.state == st && (snap_is_active(st) || !s.output_open)) return true;
      nanosleep(&(struct timespec){0, 10000000}, NULL);
   }
   return false;
}

/* Does the process's log hold a line containing `needle`? */
static bool has_line(uint64_t id, const char* needle) {
   bool found = false;
   rcu_read_lock();
   const LogStore* ls = sup_registry(sup)->slots[id]->log;
   LogIter it;
   LogLine l;
   logiter_init(&it, ls, 0);
   while (!found && logiter_next(&it, &l))
      found = memmem(l.text, l.len, needle, strlen(needle)) != NULL;
   rcu_read_unlock();
   return found;
}

static bool wait_line(uint64_t id, const char* needle) {
   for (int i = 0; i < 1000; i++) {
      if (has_line(id, needle)) return true;
      nanosleep(&(struct timespec){0, 10000000}, NULL);
   }
   return false;
}

Test(sup, exit_codes) {
   uint64_t ok = add("echo hello"), bad = add("exit 3");
   sup_start(sup, ok);
   sup_start(sup, bad);
   cr_assert(wait_state(ok, PROC_EXITED));
   cr_assert(wait_state(bad, PROC_FAILED));
   cr_assert_eq(snap(ok).exit_code, 0);
   cr_assert_eq(snap(bad).exit_code, 3);
   cr_assert(has_line(ok, "hello"));
   cr_assert(has_line(bad, "exited with code 3"));
   cr_assert_gt(snap(bad).exit_seq, 0);
   cr_assert_gt(snap(ok).ended_ms, 0);
}

Test(sup, killed_by_a_signal) {
   uint64_t id = add("kill -SEGV $$");
   sup_start(sup, id);
   cr_assert(wait_state(id, PROC_KILLED));
   cr_assert_eq(snap(id).term_signal, SIGSEGV);
}

Test(sup, command_not_found_is_127) {
   uint64_t id = add("no-such-command-brum-test");
   sup_start(sup, id);
   cr_assert(wait_state(id, PROC_FAILED));
   cr_assert_eq(snap(id).exit_code, 127);
   cr_assert(has_line(id, "command not found"));
}

Test(sup, missing_directory_fails_with_a_message) {
   uint64_t id = add_in("echo never", "/nonexistent/brum-test-dir");
   sup_start(sup, id);
   cr_assert(wait_state(id, PROC_FAILED));
   ProcSnap s = snap(id);
   cr_assert_eq(s.exit_code, -1);
   cr_assert(has_line(id, "does not exist"));
}

Test(sup, runs_in_a_pty_as_session_leader) {
   uint64_t id = add("[ -t 1 ] && echo is-a-tty; ps -o sid= -o pgid= -p $$ | awk '{print ($1==$2) "
                     "? \"leader\" : \"not-leader\"}'; stty size");
   sup_start(sup, id);
   cr_assert(wait_state(id, PROC_EXITED));
   cr_assert(has_line(id, "is-a-tty"));
   cr_assert(has_line(id, "leader"));
   cr_assert_not(has_line(id, "not-leader"));
   cr_assert(has_line(id, "30 100"));
}

Test(sup, resize_reaches_the_child) {
   uint64_t id = add("echo ready; while :; do [ \"$(stty size)\" = '21 77' ] && { echo resized; "
                     "exit 0; }; sleep 0.02; done");
   sup_start(sup, id);
   cr_assert(wait_line(id, "ready"));
   sup_resize(sup, 77, 21);
   cr_assert(wait_state(id, PROC_EXITED));
   cr_assert(has_line(id, "resized"));
}

Test(sup, stop_sends_sigterm) {
   uint64_t id = add("echo up; exec sleep 1000");
   sup_start(sup, id);
   cr_assert(wait_line(id, "up"));
   cr_assert(wait_state(id, PROC_RUNNING));
   sup_stop(sup, id);
   cr_assert(wait_state(id, PROC_STOPPED));
   cr_assert_eq(snap(id).term_signal, SIGTERM);
}

Test(sup, sigterm_ignored_gets_sigkill_after_grace) {
   uint64_t id = add("trap '' TERM; echo trapped; while :; do sleep 0.05; done");
   sup_start(sup, id);
   cr_assert(wait_line(id, "trapped"));
   sup_stop(sup, id);
   cr_assert(wait_state(id, PROC_KILLED));
   ProcSnap s = snap(id);
   cr_assert_eq(s.term_signal, SIGKILL);
   cr_assert(has_line(id, "sent SIGKILL"));
}

Test(sup, kill_is_immediate) {
   uint64_t id = add("trap '' TERM; echo trapped; while :; do sleep 0.05; done");
   sup_start(sup, id);
   cr_assert(wait_line(id, "trapped"));
   sup_kill(sup, id);
   cr_assert(wait_state(id, PROC_KILLED));
   cr_assert_eq(snap(id).term_signal, SIGKILL);
}

Test(sup, grandchild_is_gone_after_stop) {
   char pidfile[] = "/tmp/brum-gc-XXXXXX";
   int fd = mkstemp(pidfile);
   close(fd);
   char script[256];
   snprintf(script, sizeof script, "sleep 1000 & echo $! > %s; echo started; wait", pidfile);
   uint64_t id = add(script);
   sup_start(sup, id);
   cr_assert(wait_line(id, "started"));
   FILE* f = fopen(pidfile, "r");
   int gpid = 0;
   cr_assert(f && fscanf(f, "%d", &gpid) == 1);
   fclose(f);
   unlink(pidfile);
   char proc[64];
   snprintf(proc, sizeof proc, "/proc/%d", gpid);
   struct stat st;
   cr_assert_eq(stat(proc, &st), 0, "the grandchild runs");
   sup_stop(sup, id);
   cr_assert(wait_state(id, PROC_STOPPED));
   bool gone = false;
   for (int i = 0; i < 500 && !gone; i++) {
      gone = stat(proc, &st) != 0;
      if (!gone) nanosleep(&(struct timespec){0, 10000000}, NULL);
   }
   cr_assert(gone, "the grandchild was stopped with its group");
}

Test(sup, restart_counts_and_keeps_output) {
   uint64_t id = add("echo run");
   sup_start(sup, id);
   cr_assert(wait_state(id, PROC_EXITED));
   sup_restart(sup, id);
   for (int i = 0; i < 1000 && snap(id).restarts < 1; i++)
      nanosleep(&(struct timespec){0, 10000000}, NULL);
   cr_assert(wait_state(id, PROC_EXITED));
   ProcSnap s = snap(id);
   cr_assert_eq(s.restarts, 1);
   cr_assert(has_line(id, "restarting"));
}

Test(sup, restart_of_a_running_process_stops_it_first) {
   uint64_t id = add("echo run; exec sleep 1000");
   sup_start(sup, id);
   cr_assert(wait_state(id, PROC_RUNNING));
   int pid1 = snap(id).pid;
   sup_restart(sup, id);
   for (int i = 0; i < 1000 && (snap(id).pid == pid1 || snap(id).pid == 0); i++)
      nanosleep(&(struct timespec){0, 10000000}, NULL);
   cr_assert(wait_state(id, PROC_RUNNING));
   cr_assert_neq(snap(id).pid, pid1);
   cr_assert_eq(snap(id).restarts, 1);
}

Test(sup, terminal_queries_are_answered) {
   /* a program that asks for the cursor position and waits for the answer */
   uint64_t id = add("stty raw -echo; printf '\\033[6n'; dd bs=1 count=6 2>/dev/null | od -c | "
                     "head -1; stty sane; echo done");
   sup_start(sup, id);
   cr_assert(wait_state(id, PROC_EXITED));
   cr_assert(has_line(id, "033   ["));
   cr_assert(has_line(id, "done"));
}

Test(sup, carriage_return_keeps_the_last_state) {
   uint64_t id = add("printf '10%%\\r50%%\\r100%%\\n'");
   sup_start(sup, id);
   cr_assert(wait_state(id, PROC_EXITED));
   cr_assert(has_line(id, "100%"));
   cr_assert_not(has_line(id, "50%"));
}

Test(sup, snapshot_counts_lines) {
   uint64_t id = add("i=0; while [ $i -lt 500 ]; do echo line $i; i=$((i+1)); done");
   sup_start(sup, id);
   cr_assert(wait_state(id, PROC_EXITED));
   cr_assert_geq(snap(id).lines, 500);
   cr_assert(has_line(id, "line 499"));
}

static void setup_small(void) {
   rcu_register_thread();
   SupConfig cfg = {.use_pty = true, .kill_timeout_s = 0.5, .log = {.max_lines = 1000}};
   cr_assert_eq(sup_new(&cfg, &sup, NULL), 0);
}

/* The All index keeps as many entries as the stores keep lines (plus less than one of its 4096-
 * entry chunks), not a multiple of --max-lines: a flood through a small retention leaves it
 * small, and its newest entry is the flood's last line. */
Test(sup_small, all_index_follows_the_stores, .init = setup_small, .fini = teardown,
     .timeout = 60) {
   uint64_t quiet = add("echo one; echo two");
   uint64_t loud = add("seq 1 30000");
   sup_start(sup, quiet);
   cr_assert(wait_state(quiet, PROC_EXITED));
   sup_start(sup, loud);
   cr_assert(wait_state(loud, PROC_EXITED));
   rcu_read_lock();
   const Registry* r = sup_registry(sup);
   uint64_t kept = 0;
   for (uint64_t i = 0; i < r->n; i++)
      kept += logstore_end(r->slots[i]->log) - logstore_begin(r->slots[i]->log);
   const LineIdx* all = sup_all_index(sup);
   uint64_t b = lineidx_begin(all), e = lineidx_end(all), ref;
   cr_assert_geq(e, 30000, "every line was indexed");
   cr_assert_leq(e - b, kept + 4096, "%" PRIu64 " entries for %" PRIu64 " kept lines", e - b, kept);
   cr_assert_geq(e - b, kept, "at least the kept lines");
   cr_assert(lineidx_get(all, e - 1, &ref));
   cr_assert_eq(LINEREF_PROC(ref), loud);
   cr_assert_eq(LINEREF_LINE(ref), logstore_end(r->slots[loud]->log) - 1);
   rcu_read_unlock();
}

static void setup_pipes(void) {
   start_sup(false);
}

Test(sup_pipes, no_pty_uses_pipes, .init = setup_pipes, .fini = teardown, .timeout = 60) {
   uint64_t id = add("[ -t 1 ] && echo tty || echo pipe");
   sup_start(sup, id);
   cr_assert(wait_state(id, PROC_EXITED));
   cr_assert(has_line(id, "pipe"));
}

/* With k descriptors left, for k = 0, 1, ...: sup_new fails cleanly (a negative errno, a cause,
 * nothing left behind: under ASan the leak check says so) until it has what it needs, then
 * works. */
Test(sup_new, fails_cleanly_without_descriptors, .timeout = 60) {
   rcu_register_thread();
   FdLimit fl;
   fdlimit_init(&fl);
   int failures = 0;
   bool ok = false;
   for (int k = 0; k <= 16 && !ok; k++) {
      SupConfig cfg = {.use_pty = true, .kill_timeout_s = 0.5};
      Sup* s = NULL;
      char* cause = NULL;
      cr_assert_eq(fdlimit_free_only(&fl, k), 0);
      int err = sup_new(&cfg, &s, &cause);
      fdlimit_restore(&fl);
      if (err < 0) {
         cr_assert_eq(err, -EMFILE, "k=%d: %s", k, strerror(-err));
         cr_assert(cause && strstr(cause, "event loop"), "k=%d: %s", k, cause);
         free(cause);
         failures++;
         continue;
      }
      ok = true;
      sup_quit(s);
      for (int i = 0; i < 1000 && !sup_finished(s); i++)
         nanosleep(&(struct timespec){0, 10000000}, NULL);
      cr_assert(sup_finished(s), "k=%d: quits", k);
      sup_free(s);
   }
   fdlimit_done(&fl);
   cr_assert(ok, "sup_new works with enough descriptors");
   cr_assert_geq(failures, 1);
   cr_assert_eq(leak_check(), 0, "nothing leaked");
   rcu_unregister_thread();
}

/* A registered process that never started costs little: the launch strings its scripts share
 * (the environment) are stored once, and the parser and detector come at the first start. With
 * a 40-variable environment this was about 5,500 bytes a process. */
Test(sup, idle_processes_are_cheap) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
   cr_skip_test("mallinfo2 does not see the sanitizer's allocator");
#endif
   enum { N = 20000, VARS = 40 };
   static char vars[VARS][64];
   char* env[VARS + 2];
   for (int i = 0; i < VARS; i++) {
      snprintf(vars[i], sizeof vars[i], "SOME_VARIABLE_%02d=/a/typical/value/of/a/variable/%02d", i,
               i);
      env[i] = vars[i];
   }
   char own[64];
   env[VARS] = own;
   env[VARS + 1] = NULL;
   char sh[] = "/bin/sh", dc[] = "-c", cmd[64], name[32];
   char* argv[] = {sh, dc, cmd, NULL};
   size_t before = mallinfo2().uordblks;
   sup_add_begin(sup);
   for (int i = 0; i < N; i++) {
      snprintf(own, sizeof own, "npm_lifecycle_event=script%d", i); /* one var differs */
      snprintf(cmd, sizeof cmd, "echo %d", i);
      snprintf(name, sizeof name, "script%d", i);
      SupLaunch l = {.argv = argv, .env = env, .cwd = "/tmp"};
      sup_add(sup, name, &l);
   }
   sup_add_end(sup);
   size_t each = (mallinfo2().uordblks - before) / N;
   cr_assert_lt(each, 1500, "%zu bytes per idle process", each);
   cr_log_info("%zu bytes per idle process", each);
   uint64_t id = N - 1;
   sup_start(sup, id);
   cr_assert(wait_state(id, PROC_EXITED), "a registered process still starts");
   cr_assert(has_line(id, "19999"));
}

/* Ready is set once per run: at the first URL, or READY_QUIET_MS after the start without one. */
static bool wait_ready(uint64_t id) {
   for (int i = 0; i < 1000; i++) {
      if (snap(id).ready_ms) return true;
      nanosleep(&(struct timespec){0, 10000000}, NULL);
   }
   return false;
}

Test(sup, ready_at_the_first_url) {
   uint64_t id = add("sleep 0.1; echo '  Local:   http://localhost:5173/'; sleep 30");
   sup_start(sup, id);
   cr_assert(wait_ready(id));
   ProcSnap s = snap(id);
   cr_assert_lt(s.ready_ms - s.started_ms, READY_QUIET_MS,
                "ready came from the URL, not the timer");
   cr_assert(has_line(id, "Local:"));
}

Test(sup, ready_after_a_quiet_second_without_url) {
   uint64_t id = add("echo working; sleep 30");
   sup_start(sup, id);
   cr_assert(wait_state(id, PROC_RUNNING));
   cr_assert(wait_ready(id));
   ProcSnap s = snap(id);
   cr_assert_geq(s.ready_ms - s.started_ms, READY_QUIET_MS - 50);
   sup_restart(sup, id); /* a new run is not ready until its own URL or second */
   for (int i = 0; i < 500 && snap(id).restarts == 0; i++)
      nanosleep(&(struct timespec){0, 10000000}, NULL);
   cr_assert_eq(snap(id).restarts, 1);
}

Test(sup, never_ready_when_it_fails_at_once) {
   uint64_t id = add("exit 4");
   sup_start(sup, id);
   cr_assert(wait_state(id, PROC_FAILED));
   nanosleep(&(struct timespec){1, 200000000}, NULL); /* past the quiet second: nothing fires */
   cr_assert_eq(snap(id).ready_ms, 0);
}

static atomic_int observed;
static void observe(void* ud) {
   (void)ud;
   atomic_fetch_add(&observed, 1);
}

Test(sup, notices_and_the_observer) {
   sup_set_observer(sup, observe, NULL);
   rcu_read_lock();
   cr_assert_null(sup_notice_read(sup));
   rcu_read_unlock();
   sup_notice(sup, "ctl: started dev");
   sup_notice(sup, "mcp: restarted dev, api");
   uint64_t seq = 0;
   char text[64] = "";
   for (int i = 0; i < 1000 && seq < 2; i++) {
      rcu_read_lock();
      const SupNotice* n = sup_notice_read(sup);
      if (n) {
         seq = n->seq;
         snprintf(text, sizeof text, "%s", n->text);
      }
      rcu_read_unlock();
      if (seq < 2) nanosleep(&(struct timespec){0, 10000000}, NULL);
   }
   cr_assert_eq(seq, 2);
   cr_assert_str_eq(text, "mcp: restarted dev, api");
   cr_assert_geq(atomic_load(&observed), 2, "the observer heard of both");
   sup_set_observer(sup, NULL, NULL);
   int before = atomic_load(&observed);
   sup_notice(sup, "ctl: quit");
   for (int i = 0; i < 1000; i++) {
      rcu_read_lock();
      const SupNotice* n = sup_notice_read(sup);
      seq = n->seq;
      rcu_read_unlock();
      if (seq == 3) break;
      nanosleep(&(struct timespec){0, 10000000}, NULL);
   }
   cr_assert_eq(seq, 3);
   cr_assert_eq(atomic_load(&observed), before, "a removed observer is not called");
}

/* A command queued behind the quit (the headless printer's last sup_resume, a start) reached a
 * process after its handles were closed and made new ones: the loop could not close and its
 * memory leaked (LeakSanitizer in the ASan configuration; seen as a flaky exit code of
 * `brum --headless -r`). */
Test(sup_new, commands_after_quit_make_no_handles, .timeout = 60) {
   rcu_register_thread();
   for (int round = 0; round < 20; round++) {
      SupConfig cfg = {.use_pty = true, .kill_timeout_s = 0.5, .cols = 100, .rows = 30};
      cr_assert_eq(sup_new(&cfg, &sup, NULL), 0);
      uint64_t id = add("true");
      sup_quit(sup);
      for (int i = 0; i < 8; i++) sup_resume(sup, id);
      sup_start(sup, id);
      for (int i = 0; i < 1000 && !sup_finished(sup); i++)
         nanosleep(&(struct timespec){0, 1000000}, NULL);
      cr_assert(sup_finished(sup), "the supervisor finished quitting in time");
      cr_assert_eq(sup_free(sup), 0, "every handle was closed (round %d)", round);
   }
   rcu_unregister_thread();
}
