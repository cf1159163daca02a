/* Detection on its own thread (core/detwork.c): what readers may rely on although the flags and
 * findings come after the lines. A run seen ended has all its errors counted; a find for the
 * next error never skips a line the detector has not reached; a flood past the store's limit
 * loses no detection (reading pauses instead of evicting undetected lines). */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/filter.h"
#include "core/logstore.h"
#include "core/rcu.h"
#include "core/sup.h"
#include "core/util.h"

static Sup* sup;

static void sleep_ms(long ms) {
   nanosleep(&(struct timespec){ms / 1000, (ms % 1000) * 1000000L}, NULL);
}

static void start(uint64_t max_lines) {
   rcu_register_thread();
   SupConfig cfg = {.use_pty = false, .kill_timeout_s = 0.5, .cols = 100, .rows = 30};
   cfg.log.max_lines = max_lines;
   cr_assert_eq(sup_new(&cfg, &sup, NULL), 0);
}

static void setup(void) {
   start(0);
}

static void setup_small(void) {
   start(2000);
}

static void teardown(void) {
   sup_quit(sup);
   for (int i = 0; i < 1000 && !sup_finished(sup); i++) sleep_ms(10);
   cr_assert(sup_finished(sup), "the supervisor finished quitting in time");
   sup_free(sup);
   rcu_unregister_thread();
}

TestSuite(detwork, .init = setup, .fini = teardown, .timeout = 120);

/* `lines` lines, every `every`-th one an error ("Error: boom N"), then `then` (shell). */
static uint64_t add_printer(unsigned lines, unsigned every, const char* then) {
   char script[512];
   snprintf(script, sizeof script,
            "seq 1 %u | awk '{ if ($1 %% %u == 0) print \"Error: boom \" $1; else print \"GET "
            "/api/items/\" $1 \" 200 in 3ms\" }'; %s",
            lines, every, then);
   char sh[] = "/bin/sh", dc[] = "-c";
   char* argv[] = {sh, dc, script, NULL};
   SupLaunch l = {.argv = argv, .cwd = "/tmp"};
   return sup_add(sup, "p", &l);
}

typedef struct Seen {
   ProcSnap snap;
   uint64_t intel_errors;
   bool has_intel;
} Seen;

/* The snapshot and the findings as one reader sees them, in the order a reader loads them. */
static Seen look(uint64_t id) {
   Seen s = {0};
   rcu_read_lock();
   const ProcSlot* slot = sup_registry(sup)->slots[id];
   s.snap = *sup_snap(slot);
   const DetectSnap* d = sup_intel(slot);
   s.has_intel = d != NULL;
   s.intel_errors = d ? d->errors : 0;
   rcu_read_unlock();
   return s;
}

/* Polls (1 ms) until the run is first seen ended; returns what was seen then. */
static Seen first_ended(uint64_t id) {
   for (int i = 0; i < 60000; i++) {
      Seen s = look(id);
      if (!snap_is_active(s.snap.state) && s.snap.started_ms) return s;
      sleep_ms(1);
   }
   cr_assert_fail("the process did not end");
   return (Seen){0};
}

Test(detwork, the_ended_snapshot_counts_every_error) {
   for (int run = 0; run < 3; run++) {
      uint64_t id = add_printer(60000, 20, "exit 0"); /* 3000 errors */
      sup_start(sup, id);
      Seen s = first_ended(id);
      cr_assert_eq(s.snap.state, PROC_EXITED);
      cr_assert_eq(s.snap.errors, 3000, "run %d: the ended snapshot says %" PRIu64 " errors", run,
                   s.snap.errors);
      cr_assert(s.has_intel);
      cr_assert_eq(s.intel_errors, 3000, "run %d: the findings say %" PRIu64, run, s.intel_errors);
   }
}

Test(detwork_small, a_flood_past_max_lines_loses_no_detection, .init = setup_small,
     .fini = teardown, .timeout = 120) {
   uint64_t id = add_printer(300000, 100, "exit 0"); /* 3000 errors, 150 stores' worth */
   sup_start(sup, id);
   Seen s = first_ended(id);
   cr_assert_eq(s.snap.errors, 3000, "%" PRIu64 " errors of 3000 counted", s.snap.errors);
   cr_assert_eq(s.intel_errors, 3000);
   rcu_read_lock();
   const LogStore* ls = sup_registry(sup)->slots[id]->log;
   uint64_t evicted = logstore_evicted(ls);
   rcu_read_unlock();
   cr_assert_gt(evicted, 250000, "the flood went past the store (%" PRIu64 " evicted)", evicted);
}

/* ---------------------------------------------------------------- find jobs */

/* Polls a find job (as a frame would) until it is done; false when it is not after `ms`. */
static bool find_done(Filter* f, uint64_t gen, long ms, bool* found, uint64_t* pos) {
   for (long i = 0; i <= ms; i++) {
      rcu_read_lock();
      const FindState* st = filter_find_state(f);
      cr_assert(st && st->gen == gen);
      bool done = atomic_load(&st->done);
      *found = atomic_load(&st->found);
      *pos = atomic_load(&st->pos);
      rcu_read_unlock();
      if (done) return true;
      sleep_ms(1);
   }
   return false;
}

static uint64_t next_error(Filter* f, uint64_t source, uint64_t from) {
   FindJob job = {
       .source = source, .from = from, .inclusive = true, .dir = +1, .flags = LINE_ERROR};
   return filter_find(f, &job);
}

/* The detector flags `line` an error and has detected every line below `upto`. */
static void error_detected(LogStore* ls, uint64_t line, uint64_t upto) {
   rcu_read_lock();
   logstore_add_flags(ls, line, LINE_ERROR);
   rcu_read_unlock();
   logstore_set_detected(ls, upto);
}

/* The find job `gen` ends, with a hit at `want`. */
static void find_finds(Filter* f, uint64_t gen, uint64_t want) {
   bool found;
   uint64_t pos;
   cr_assert(find_done(f, gen, 5000, &found, &pos));
   cr_assert(found);
   cr_assert_eq(pos, want);
}

Test(detwork_store, a_flag_find_waits_at_the_detected_mark) {
   rcu_register_thread();
   LogStoreConfig cfg = {.detect_later = true};
   LogStore* ls = logstore_new(&cfg);
   for (int i = 0; i < 100; i++) logstore_append(ls, "line", 4, NULL, 0, 0, 1);
   Filter* f = NULL;
   cr_assert_eq(filter_new_store(ls, NULL, NULL, &f, NULL), 0);
   bool found;
   uint64_t pos;
   /* nothing detected: the job waits at line 0 rather than end without a hit */
   uint64_t gen = next_error(f, 0, 0);
   cr_assert_not(find_done(f, gen, 100, &found, &pos), "a find ran past undetected lines");
   /* an error at 30, detected up to 50: found although the rest is undetected */
   error_detected(ls, 30, 50);
   find_finds(f, gen, 30);
   /* from 31: waits at 50, then finds 70 once it is flagged and detected */
   gen = next_error(f, 0, 31);
   cr_assert_not(find_done(f, gen, 100, &found, &pos));
   error_detected(ls, 70, 100);
   find_finds(f, gen, 70);
   filter_free(f);
   logstore_free(ls);
   rcu_unregister_thread();
}

/* Straight after the lines are stored (the process still runs: no catch-up at its end), finding
 * the next error from each hit finds every error line. */
Test(detwork, next_error_over_fresh_lines_finds_every_error) {
   uint64_t id = add_printer(40000, 8, "sleep 30"); /* 5000 errors */
   sup_start(sup, id);
   const LogStore* ls = NULL;
   for (int i = 0; i < 30000; i++) {
      rcu_read_lock();
      ls = sup_registry(sup)->slots[id]->log;
      uint64_t end = logstore_end(ls);
      rcu_read_unlock();
      if (end >= 40000) break;
      sleep_ms(1);
   }
   Filter* f = NULL;
   cr_assert_eq(filter_new(sup, NULL, NULL, &f, NULL), 0);
   unsigned hits = 0;
   uint64_t from = 0, pos = 0;
   bool found = true;
   while (found) {
      cr_assert(find_done(f, next_error(f, id, from), 20000, &found, &pos));
      if (!found) break;
      hits++;
      from = pos + 1;
   }
   cr_assert_eq(hits, 5000, "%u error lines found of 5000", hits);
   filter_free(f);
}

/* A failed bind is recognised on the detection thread with the other findings: a server that
 * goes on running after it (Next moves to another port, a watcher keeps waiting) still gets its
 * holder named, in a marker line and for `K`, without ending first. */
Test(detwork, a_failed_bind_of_a_running_process_names_its_holder) {
   int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
   struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
   socklen_t alen = sizeof a;
   cr_assert(fd >= 0 && bind(fd, (struct sockaddr*)&a, sizeof a) == 0 && listen(fd, 1) == 0);
   cr_assert_eq(getsockname(fd, (struct sockaddr*)&a, &alen), 0);
   int port = ntohs(a.sin_port);
   char then[160];
   snprintf(then, sizeof then,
            "echo 'Error: listen EADDRINUSE: address already in use 127.0.0.1:%d'; sleep 30", port);
   uint64_t id = add_printer(20000, 1000, then); /* the worker's slices, not a run's end */
   sup_start(sup, id);
   SupPortHolder h = {0};
   bool held = false;
   for (int i = 0; i < 30000 && !(held = sup_port_holder(sup, id, &h)); i++) sleep_ms(1);
   cr_assert(held, "no holder named for port %d", port);
   cr_expect_eq(h.port, port);
   cr_expect_eq(h.pid, getpid(), "the holder is this test (pid %d), not pid %d", getpid(), h.pid);
   cr_expect_not(h.ours);
   Seen s = look(id);
   cr_expect_eq(s.snap.state, PROC_RUNNING, "named while it still runs");
   char want[64];
   snprintf(want, sizeof want, "port %d is held by pid %d", port, getpid());
   bool said = false;
   rcu_read_lock();
   const LogStore* ls = sup_registry(sup)->slots[id]->log;
   LogLine l;
   for (uint64_t n = logstore_begin(ls); !said && logstore_get(ls, n, &l); n++)
      said = memmem(l.text, l.len, want, strlen(want)) != NULL;
   rcu_read_unlock();
   cr_expect(said, "a marker line says \"%s\"", want);
   close(fd);
}
