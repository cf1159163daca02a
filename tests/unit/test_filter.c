#include <criterion/criterion.h>
#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/filter.h"
#include "core/logstore.h"
#include "core/rcu.h"
#include "core/sup.h"
#include "core/util.h"
#include "tests/unit/fdlimit.h"

static void setup(void) {
   rcu_register_thread();
}

static void teardown(void) {
   rcu_barrier(); /* run pending call_rcu frees so ASan sees no leaks */
   rcu_unregister_thread();
}

TestSuite(filter, .init = setup, .fini = teardown);

static Regex* compile(const char* pat) {
   Regex* re = NULL;
   char* cause = NULL;
   int err = regex_compile(pat, &re, &cause);
   cr_assert_eq(err, 0, "%s: %s", pat, cause ? cause : "?");
   return re;
}

static void sleep_ms(long ms) {
   struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
   nanosleep(&ts, NULL);
}

static const char* const levels[] = {"INFO", "DEBUG", "WARN", "ERROR", "info", "Warn", "error"};

/* Line i of the synthetic log: mixed levels, a marker every 1000 lines, some invalid UTF-8. */
static int make_line(uint64_t i, char* buf, size_t size, uint16_t* flags) {
   *flags = 0;
   if (i % 1000 == 999) {
      *flags = LINE_MARKER;
      return snprintf(buf, size, "[brum] ERROR WARN marker %" PRIu64, i);
   }
   const char* lvl = levels[(i * 2654435761u >> 7) % ARRAY_LEN(levels)];
   if (i % 97 == 5) /* invalid UTF-8 around the level */
      return snprintf(buf, size, "\xff\xfe%s \xc3 broken \xe2\x82 line %" PRIu64, lvl, i);
   return snprintf(buf, size, "12:00:%02u %s worker-%u: request %" PRIu64 " done in %ums",
                   (unsigned)(i % 60), lvl, (unsigned)(i % 8), i, (unsigned)(i % 977));
}

static void fill(LogStore* ls, uint64_t n) {
   char buf[256];
   for (uint64_t i = logstore_end(ls); i < n; i++) {
      uint16_t flags;
      int k = make_line(i, buf, sizeof buf, &flags);
      logstore_append(ls, buf, (uint32_t)k, NULL, 0, flags, 1000 + i);
   }
}

/* Naive reference: every retained non-marker line the pattern matches, in order. */
static uint64_t* naive(const LogStore* ls, const char* pat, uint64_t* n) {
   Regex* re = compile(pat);
   RegexScratch* sc = regex_scratch_new();
   rcu_read_lock();
   uint64_t b = logstore_begin(ls), e = logstore_end(ls), k = 0;
   uint64_t* out = malloc((e - b + 1) * sizeof *out);
   for (uint64_t i = b; i < e; i++) {
      LogLine l;
      cr_assert(logstore_get(ls, i, &l));
      if (!(l.flags & LINE_MARKER) && regex_match(re, sc, l.text, l.len)) out[k++] = i;
   }
   rcu_read_unlock();
   regex_scratch_free(sc);
   regex_free(re);
   *n = k;
   return out;
}

static void assert_matches(const LineIdx* ix, const uint64_t* want, uint64_t n) {
   rcu_read_lock();
   uint64_t b = lineidx_begin(ix), e = lineidx_end(ix);
   cr_assert_eq(e - b, n, "matches: got %" PRIu64 ", want %" PRIu64, e - b, n);
   for (uint64_t i = 0; i < n; i++) {
      uint64_t v = 0;
      cr_assert(lineidx_get(ix, b + i, &v));
      cr_assert_eq(v, want[i], "match %" PRIu64 ": line %" PRIu64 ", want %" PRIu64, i, v, want[i]);
   }
   rcu_read_unlock();
}

/* ---------------------------------------------------------------- the scanning core */

Test(filter, scan_store_200k_matches_naive) {
   LogStore* ls = logstore_new(&(LogStoreConfig){.max_lines = 1000000});
   fill(ls, 200000);
   const char* pats[] = {"ERROR|WARN", "error", "worker-[37]: request \\d+5 ", "broken"};
   for (size_t p = 0; p < ARRAY_LEN(pats); p++) {
      Regex* re = compile(pats[p]);
      RegexScratch* sc = regex_scratch_new();
      LineIdx* ix = lineidx_new(1000000);
      rcu_read_lock();
      cr_assert_eq(filter_scan_store(re, sc, ls, 0, logstore_end(ls), ix), 200000);
      rcu_read_unlock();
      uint64_t n;
      uint64_t* want = naive(ls, pats[p], &n);
      cr_assert_gt(n, 0, "%s", pats[p]);
      assert_matches(ix, want, n);
      free(want);
      lineidx_free(ix);
      regex_scratch_free(sc);
      regex_free(re);
   }
   /* an independent check of the first pattern without PCRE2: strstr on case-sensitive words */
   {
      uint64_t n, k = 0;
      uint64_t* want = naive(ls, "ERROR|WARN", &n);
      rcu_read_lock();
      for (uint64_t i = 0; i < 200000; i++) {
         LogLine l;
         logstore_get(ls, i, &l);
         char buf[256];
         memcpy(buf, l.text, l.len);
         buf[l.len] = 0;
         if (!(l.flags & LINE_MARKER) && (strstr(buf, "ERROR") || strstr(buf, "WARN"))) {
            cr_assert_lt(k, n);
            cr_assert_eq(want[k], i);
            k++;
         }
      }
      rcu_read_unlock();
      cr_assert_eq(k, n);
      free(want);
   }
   logstore_free(ls);
}

Test(filter, scan_store_range_and_markers) {
   LogStore* ls = logstore_new(NULL);
   logstore_append(ls, "ERROR a", 7, NULL, 0, 0, 1);
   logstore_append(ls, "ERROR marker", 12, NULL, 0, LINE_MARKER, 2);
   logstore_append(ls, "ok", 2, NULL, 0, 0, 3);
   logstore_append(ls, "ERROR b", 7, NULL, 0, 0, 4);
   Regex* re = compile("ERROR");
   RegexScratch* sc = regex_scratch_new();
   LineIdx* ix = lineidx_new(100);
   rcu_read_lock();
   cr_assert_eq(filter_scan_store(re, sc, ls, 1, 3, ix), 3);
   cr_assert_eq(lineidx_end(ix), 0); /* the marker is never matched */
   cr_assert_eq(filter_scan_store(re, sc, ls, 3, 100, ix), 4);
   uint64_t v;
   cr_assert_eq(lineidx_end(ix), 1);
   cr_assert(lineidx_get(ix, 0, &v));
   cr_assert_eq(v, 3);
   rcu_read_unlock();
   lineidx_free(ix);
   regex_scratch_free(sc);
   regex_free(re);
   logstore_free(ls);
}

/* ---------------------------------------------------------------- the worker */

static atomic_uint wakes;

static void count_wake(void* ud) {
   (void)ud;
   atomic_fetch_add(&wakes, 1);
}

/* Polls the published state (as a frame would) until caught up with at least `end` lines
 * scanned; returns false on timeout. */
static bool wait_caught_up(Filter* f, uint64_t gen, uint64_t end, long timeout_ms) {
   uint64_t deadline = util_mono_ns() + (uint64_t)timeout_ms * 1000000u;
   while (util_mono_ns() < deadline) {
      rcu_read_lock();
      const FilterState* st = filter_state(f);
      bool ok =
          st && st->gen == gen && atomic_load(&st->caught_up) && atomic_load(&st->scanned) >= end;
      rcu_read_unlock();
      if (ok) return true;
      sleep_ms(2);
   }
   return false;
}

static uint64_t current_gen(Filter* f) {
   rcu_read_lock();
   const FilterState* st = filter_state(f);
   uint64_t g = st ? st->gen : 0;
   rcu_read_unlock();
   return g;
}

static void assert_state_matches(Filter* f, const uint64_t* want, uint64_t n) {
   rcu_read_lock();
   const FilterState* st = filter_state(f);
   cr_assert_not_null(st);
   assert_matches(st->matches, want, n);
   rcu_read_unlock();
}

Test(filter, worker_scans_to_caught_up) {
   LogStore* ls = logstore_new(&(LogStoreConfig){.max_lines = 1000000});
   fill(ls, 200000);
   atomic_store(&wakes, 0);
   Filter* f = NULL;
   cr_assert_eq(filter_new_store(ls, count_wake, NULL, &f, NULL), 0);
   cr_assert_not_null(f);
   rcu_read_lock();
   cr_assert_null(filter_state(f));
   rcu_read_unlock();
   filter_set(f, compile("error"), 0);
   uint64_t gen = current_gen(f);
   cr_assert_eq(gen, 1);
   cr_assert(wait_caught_up(f, gen, 200000, 20000));
   rcu_read_lock();
   const FilterState* st = filter_state(f);
   cr_assert_eq(atomic_load(&st->total), 200000);
   cr_assert_eq(atomic_load(&st->scanned), 200000);
   cr_assert_eq(atomic_load(&st->start), 0);
   cr_assert_eq(st->source, 0);
   rcu_read_unlock();
   cr_assert_gt(atomic_load(&wakes), 0);
   uint64_t n;
   uint64_t* want = naive(ls, "error", &n); /* smart-case: ERROR, error, Error... */
   assert_state_matches(f, want, n);
   free(want);
   filter_free(f);
   rcu_barrier();
   cr_assert_eq(filter_live_states(), 0);
   logstore_free(ls);
}

Test(filter, unknown_source_is_caught_up_and_empty) {
   LogStore* ls = logstore_new(NULL);
   fill(ls, 100);
   Filter* f = NULL;
   cr_assert_eq(filter_new_store(ls, NULL, NULL, &f, NULL), 0);
   filter_set(f, compile("x"), 7);
   cr_assert(wait_caught_up(f, current_gen(f), 0, 5000));
   rcu_read_lock();
   cr_assert_eq(lineidx_end(filter_state(f)->matches), 0);
   rcu_read_unlock();
   filter_set(f, NULL, 0); /* clearing publishes no state */
   rcu_read_lock();
   cr_assert_null(filter_state(f));
   rcu_read_unlock();
   filter_free(f);
   logstore_free(ls);
}

Test(filter, poke_matches_new_lines) {
   LogStore* ls = logstore_new(&(LogStoreConfig){.max_lines = 1000000});
   fill(ls, 5000);
   Filter* f = NULL;
   cr_assert_eq(filter_new_store(ls, count_wake, NULL, &f, NULL), 0);
   filter_set(f, compile("WARN"), 0);
   uint64_t gen = current_gen(f);
   cr_assert(wait_caught_up(f, gen, 5000, 10000));
   fill(ls, 9000); /* the test thread is the store's only writer */
   sleep_ms(100);
   rcu_read_lock();
   /* idle after catching up: nothing is scanned until a poke */
   cr_assert_eq(atomic_load(&filter_state(f)->scanned), 5000);
   rcu_read_unlock();
   filter_poke(f);
   cr_assert(wait_caught_up(f, gen, 9000, 10000));
   uint64_t n;
   uint64_t* want = naive(ls, "WARN", &n);
   assert_state_matches(f, want, n);
   free(want);
   /* and again, many pokes coalesce without harm */
   fill(ls, 9500);
   for (int i = 0; i < 100; i++) filter_poke(f);
   cr_assert(wait_caught_up(f, gen, 9500, 10000));
   want = naive(ls, "WARN", &n);
   assert_state_matches(f, want, n);
   free(want);
   filter_free(f);
   logstore_free(ls);
}

Test(filter, matches_follow_source_retention) {
   LogStore* ls = logstore_new(&(LogStoreConfig){.max_lines = 20000});
   fill(ls, 20000);
   Filter* f = NULL;
   cr_assert_eq(filter_new_store(ls, NULL, NULL, &f, NULL), 0);
   filter_set(f, compile("."), 0); /* every non-marker line */
   uint64_t gen = current_gen(f);
   cr_assert(wait_caught_up(f, gen, 20000, 10000));
   for (uint64_t n = 40000; n <= 400000; n += 40000) {
      fill(ls, n);
      filter_poke(f);
      cr_assert(wait_caught_up(f, gen, n, 10000));
   }
   rcu_read_lock();
   const FilterState* st = filter_state(f);
   uint64_t mb = lineidx_begin(st->matches), me = lineidx_end(st->matches);
   uint64_t retained = logstore_end(ls) - logstore_begin(ls);
   /* bounded like the source (plus one chunk of slack), and every retained match is kept */
   cr_assert_leq(me - mb, retained + 8192, "matches %" PRIu64 " retained %" PRIu64, me - mb,
                 retained);
   uint64_t first;
   cr_assert(lineidx_get(st->matches, mb, &first));
   cr_assert_leq(first, logstore_begin(ls));
   uint64_t last;
   cr_assert(lineidx_get(st->matches, me - 1, &last));
   cr_assert_eq(last, 399998); /* 399999 is a marker */
   rcu_read_unlock();
   filter_free(f);
   logstore_free(ls);
}

Test(filter, smart_case) {
   LogStore* ls = logstore_new(NULL);
   const char* lines[] = {"WARN upper", "warn lower", "Warn title", "nothing"};
   for (size_t i = 0; i < ARRAY_LEN(lines); i++)
      logstore_append(ls, lines[i], (uint32_t)strlen(lines[i]), NULL, 0, 0, 1);
   Filter* f = NULL;
   cr_assert_eq(filter_new_store(ls, NULL, NULL, &f, NULL), 0);
   filter_set(f, compile("warn"), 0);
   cr_assert(wait_caught_up(f, current_gen(f), 4, 5000));
   assert_state_matches(f, (uint64_t[]){0, 1, 2}, 3);
   filter_set(f, compile("Warn"), 0);
   cr_assert(wait_caught_up(f, current_gen(f), 4, 5000));
   assert_state_matches(f, (uint64_t[]){2}, 1);
   filter_set(f, compile("\\bWARN\\b"), 0);
   cr_assert(wait_caught_up(f, current_gen(f), 4, 5000));
   assert_state_matches(f, (uint64_t[]){0}, 1);
   filter_set(f, compile("\\Sarn\\b"), 0); /* an escape's capital letter does not count */
   cr_assert(wait_caught_up(f, current_gen(f), 4, 5000));
   assert_state_matches(f, (uint64_t[]){0, 1, 2}, 3);
   filter_free(f);
   logstore_free(ls);
}

Test(filter, invalid_utf8) {
   LogStore* ls = logstore_new(NULL);
   const char* lines[] = {
       "\xff\xfe ERROR after garbage", "ok \xc3 truncated", "caf\xc3\xa9 ERROR valid",
       "\xe2\x82 ERROR \xf0\x9f tail", "\x80\x80\x80",      "ERROR at start \xff",
   };
   for (size_t i = 0; i < ARRAY_LEN(lines); i++)
      logstore_append(ls, lines[i], (uint32_t)strlen(lines[i]), NULL, 0, 0, 1);
   Filter* f = NULL;
   cr_assert_eq(filter_new_store(ls, NULL, NULL, &f, NULL), 0);
   filter_set(f, compile("ERROR"), 0);
   cr_assert(wait_caught_up(f, current_gen(f), 6, 5000));
   assert_state_matches(f, (uint64_t[]){0, 2, 3, 5}, 4);
   filter_set(f, compile("caf\xc3\xa9|tail$"), 0);
   cr_assert(wait_caught_up(f, current_gen(f), 6, 5000));
   assert_state_matches(f, (uint64_t[]){2, 3}, 2);
   filter_free(f);
   logstore_free(ls);
}

/* A slow pattern on a big store, then a new one: the old scan stops at once, the new state's
 * generation wins, and the old state is reclaimed. */
Test(filter, new_set_cancels_slow_scan, .timeout = 120) {
   LogStore* ls = logstore_new(&(LogStoreConfig){.max_lines = 1000000});
   char buf[128];
   for (int i = 0; i < 200000; i++) {
      /* catastrophic for ^(a|aa)+$ : 2^n ways to fail on the trailing '!' */
      int k = snprintf(buf, sizeof buf, "%s aaaaaaaaaaaaaaaaaaaaaaaaaaaaa! %d",
                       i % 10 ? "INFO" : "ERROR", i);
      logstore_append(ls, buf, (uint32_t)k, NULL, 0, 0, 1);
   }
   Filter* f = NULL;
   cr_assert_eq(filter_new_store(ls, count_wake, NULL, &f, NULL), 0);
   filter_set(f, compile("(\\w+\\s?)*!$|(a|aa)+$"), 0);
   uint64_t slow = current_gen(f);
   sleep_ms(300); /* the slow scan is under way */
   rcu_read_lock();
   const FilterState* st = filter_state(f);
   uint64_t scanned = atomic_load(&st->scanned);
   bool slow_done = atomic_load(&st->caught_up);
   rcu_read_unlock();
   cr_assert_not(slow_done, "the slow pattern must still be scanning (scanned %" PRIu64 ")",
                 scanned);
   cr_assert_eq(filter_live_states(), 1);

   uint64_t t0 = util_mono_ns();
   filter_set(f, compile("ERROR"), 0);
   uint64_t fast = current_gen(f);
   cr_assert_gt(fast, slow);
   cr_assert(wait_caught_up(f, fast, 200000, 20000));
   double ms = (double)(util_mono_ns() - t0) / 1e6;
   cr_log_info("new filter caught up %.1f ms after filter_set (slow one had scanned %" PRIu64
               " lines)",
               ms, scanned);
   cr_assert_lt(ms, 5000.0, "cancel took %.0f ms", ms);
   uint64_t n;
   uint64_t* want = naive(ls, "ERROR", &n);
   cr_assert_eq(n, 20000);
   assert_state_matches(f, want, n);
   free(want);
   rcu_barrier(); /* the replaced state's grace period has passed: freed */
   cr_assert_eq(filter_live_states(), 1);
   filter_free(f);
   rcu_barrier();
   cr_assert_eq(filter_live_states(), 0);
   logstore_free(ls);
}

/* Readers poll the state the way frames do while the pattern changes under them (TSan). */
typedef struct Frames {
   Filter* f;
   atomic_bool stop;
   atomic_ulong bad;
} Frames;

static void* frame_reader(void* arg) {
   Frames* fr = arg;
   rcu_register_thread();
   while (!atomic_load(&fr->stop)) {
      rcu_read_lock();
      const FilterState* st = filter_state(fr->f);
      if (st) {
         uint64_t b = lineidx_begin(st->matches), e = lineidx_end(st->matches), prev = 0;
         for (uint64_t p = e > 200 ? e - 200 : b; p < e; p++) {
            uint64_t v;
            if (lineidx_get(st->matches, p, &v)) {
               if (v < prev) atomic_fetch_add(&fr->bad, 1);
               prev = v;
            }
         }
         /* caught_up first: the worker sets it after scanned, so this order sees both */
         bool cu = atomic_load(&st->caught_up);
         if (cu && atomic_load(&st->scanned) < atomic_load(&st->start))
            atomic_fetch_add(&fr->bad, 1);
         (void)regex_pattern(st->re);
      }
      rcu_read_unlock();
   }
   rcu_unregister_thread();
   return NULL;
}

Test(filter, readers_during_changes, .timeout = 120) {
   LogStore* ls = logstore_new(&(LogStoreConfig){.max_lines = 50000});
   fill(ls, 50000);
   Filter* f = NULL;
   cr_assert_eq(filter_new_store(ls, NULL, NULL, &f, NULL), 0);
   Frames fr = {.f = f};
   atomic_init(&fr.stop, false);
   atomic_init(&fr.bad, 0);
   pthread_t t[2];
   for (int i = 0; i < 2; i++) cr_assert_eq(pthread_create(&t[i], NULL, frame_reader, &fr), 0);
   const char* pats[] = {"ERROR", "warn", "worker-3", "done in 1\\d\\dms", "info|debug"};
   for (int round = 0; round < 40; round++) {
      filter_set(f, compile(pats[round % ARRAY_LEN(pats)]), 0);
      fill(ls, 50000 + (uint64_t)(round + 1) * 2000); /* evicts old lines meanwhile */
      filter_poke(f);
      sleep_ms(round % 3 == 0 ? 20 : 1);
   }
   uint64_t gen = current_gen(f);
   cr_assert(wait_caught_up(f, gen, logstore_end(ls), 20000));
   uint64_t n;
   uint64_t* want = naive(ls, pats[39 % ARRAY_LEN(pats)], &n);
   rcu_read_lock();
   const FilterState* st = filter_state(f);
   /* every retained line's match is there (older matches may remain until evicted) */
   uint64_t e = lineidx_end(st->matches);
   cr_assert_geq(e - lineidx_begin(st->matches), n);
   for (uint64_t i = 0; i < n; i++) {
      uint64_t v;
      cr_assert(lineidx_get(st->matches, e - n + i, &v));
      cr_assert_eq(v, want[i]);
   }
   rcu_read_unlock();
   free(want);
   atomic_store(&fr.stop, true);
   for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
   cr_assert_eq(atomic_load(&fr.bad), 0);
   filter_free(f);
   logstore_free(ls);
}

/* ---------------------------------------------------------------- with a real supervisor */

static Sup* start_sup(const char* const* scripts, size_t n) {
   Sup* s = NULL;
   SupConfig cfg = {.use_pty = false, .cols = 80, .rows = 24};
   cr_assert_eq(sup_new(&cfg, &s, NULL), 0);
   for (size_t i = 0; i < n; i++) {
      char* argv[] = {(char*)"/bin/sh", (char*)"-c", (char*)scripts[i], NULL};
      SupLaunch l = {.argv = argv};
      char name[32];
      snprintf(name, sizeof name, "p%zu", i);
      cr_assert_eq(sup_add(s, name, &l), i);
   }
   for (size_t i = 0; i < n; i++) sup_start(s, i);
   return s;
}

/* Pokes the filter as the UI does on every supervisor wakeup until it is caught up with
 * `want` matches. Snapshots are not read: lines arrive through the log stores alone. */
static void wait_matches(Filter* f, uint64_t want) {
   uint64_t deadline = util_mono_ns() + 20000000000ull, got = 0;
   for (;;) {
      filter_poke(f);
      sleep_ms(10);
      rcu_read_lock();
      const FilterState* st = filter_state(f);
      got = lineidx_end(st->matches) - lineidx_begin(st->matches);
      bool ok = atomic_load(&st->caught_up) && got >= want;
      rcu_read_unlock();
      if (ok) break;
      cr_assert_lt(util_mono_ns(), deadline, "only %" PRIu64 " matches", got);
   }
   cr_assert_eq(got, want);
}

Test(filter, sup_single_process, .timeout = 60) {
   const char* scripts[] = {
       "i=0; while [ $i -lt 3000 ]; do "
       "if [ $((i % 3)) = 0 ]; then echo \"ERROR $i\"; else echo \"info $i\"; fi; "
       "i=$((i+1)); done"};
   Sup* s = start_sup(scripts, 1);
   Filter* f = NULL;
   cr_assert_eq(filter_new(s, NULL, NULL, &f, NULL), 0);
   filter_set(f, compile("^ERROR \\d+$"), 0); /* while the lines arrive */
   wait_matches(f, 1000);
   rcu_read_lock();
   const FilterState* st = filter_state(f);
   const LogStore* ls = sup_registry(s)->slots[0]->log;
   uint64_t e = lineidx_end(st->matches);
   cr_assert_eq(e, 1000);
   for (uint64_t i = 0; i < e; i++) {
      uint64_t v;
      LogLine l;
      cr_assert(lineidx_get(st->matches, i, &v));
      cr_assert(logstore_get(ls, v, &l));
      char want[32];
      int k = snprintf(want, sizeof want, "ERROR %" PRIu64, i * 3);
      cr_assert(l.len == (uint32_t)k && memcmp(l.text, want, (size_t)k) == 0);
   }
   rcu_read_unlock();
   filter_free(f);
   sup_free(s);
}

Test(filter, sup_all_view, .timeout = 60) {
   const char* scripts[] = {
       "for i in 1 2 3 4 5; do echo \"alpha ERROR $i\"; echo \"alpha ok $i\"; done",
       "for i in 1 2 3; do echo \"beta ERROR $i\"; echo \"beta ok $i\"; done"};
   Sup* s = start_sup(scripts, 2);
   Filter* f = NULL;
   cr_assert_eq(filter_new(s, NULL, NULL, &f, NULL), 0);
   filter_set(f, compile("ERROR"), FILTER_ALL);
   wait_matches(f, 8);
   rcu_read_lock();
   uint64_t all_end = lineidx_end(sup_all_index(s));
   cr_assert_geq(all_end, 16);
   const FilterState* st = filter_state(f);
   const Registry* r = sup_registry(s);
   const LineIdx* all = sup_all_index(s);
   uint64_t e = lineidx_end(st->matches), per[2] = {0, 0}, k = 0;
   cr_assert_eq(e, 8);
   /* the matches are the All index's ERROR lines, in its order */
   for (uint64_t pos = lineidx_begin(all); pos < all_end; pos++) {
      uint64_t ref, got;
      LogLine l;
      cr_assert(lineidx_get(all, pos, &ref));
      uint64_t proc = LINEREF_PROC(ref);
      cr_assert_lt(proc, 2);
      cr_assert(logstore_get(r->slots[proc]->log, LINEREF_LINE(ref), &l));
      if (l.flags & LINE_MARKER || !memmem(l.text, l.len, "ERROR", 5)) continue;
      char want[32];
      int w =
          snprintf(want, sizeof want, "%s ERROR %" PRIu64, proc ? "beta" : "alpha", ++per[proc]);
      cr_assert(l.len == (uint32_t)w && memcmp(l.text, want, (size_t)w) == 0);
      cr_assert(lineidx_get(st->matches, k++, &got));
      cr_assert_eq(got, ref);
   }
   cr_assert_eq(k, 8);
   cr_assert_eq(per[0], 5);
   cr_assert_eq(per[1], 3);
   rcu_read_unlock();
   filter_free(f);
   sup_free(s);
}

/* ---------------------------------------------------------------- find jobs */

typedef struct Found {
   bool done, found, evicted, cancelled;
   uint64_t pos, scanned, total;
} Found;

/* Polls the published find state (as a frame would) until job `gen` is done. */
static Found wait_find(Filter* f, uint64_t gen, long timeout_ms) {
   uint64_t deadline = util_mono_ns() + (uint64_t)timeout_ms * 1000000u;
   Found r = {0};
   for (;;) {
      rcu_read_lock();
      const FindState* st = filter_find_state(f);
      cr_assert_not_null(st);
      cr_assert_eq(st->gen, gen);
      r.done = atomic_load(&st->done); /* first: the others are final once it is set */
      r.found = atomic_load(&st->found);
      r.evicted = atomic_load(&st->evicted);
      r.cancelled = atomic_load(&st->cancelled);
      r.pos = atomic_load(&st->pos);
      r.scanned = atomic_load(&st->scanned);
      r.total = atomic_load(&st->total);
      rcu_read_unlock();
      if (r.done) return r;
      cr_assert_lt(util_mono_ns(), deadline, "find %" PRIu64 " not done (%" PRIu64 "/%" PRIu64 ")",
                   gen, r.scanned, r.total);
      sleep_ms(1);
   }
}

static Found find(Filter* f, FindJob job) {
   return wait_find(f, filter_find(f, &job), 20000);
}

/* Reference: the first hit from `from` in direction dir among the retained lines. */
static bool naive_find(const LogStore* ls, const char* pat, uint16_t flags, uint64_t from,
                       bool inclusive, int dir, uint64_t* hit) {
   Regex* re = pat ? compile(pat) : NULL;
   RegexScratch* sc = regex_scratch_new();
   bool ok = false;
   rcu_read_lock();
   int64_t b = (int64_t)logstore_begin(ls), e = (int64_t)logstore_end(ls);
   int64_t i = (int64_t)from + (inclusive ? 0 : dir);
   if (dir > 0 && i < b) i = b; /* the job starts inside the source */
   if (dir < 0 && i >= e) i = e - 1;
   for (; i >= b && i < e; i += dir) {
      LogLine l;
      cr_assert(logstore_get(ls, (uint64_t)i, &l));
      if (l.flags & LINE_MARKER || (flags && !(l.flags & flags))) continue;
      if (re && !regex_match(re, sc, l.text, l.len)) continue;
      *hit = (uint64_t)i;
      ok = true;
      break;
   }
   rcu_read_unlock();
   regex_scratch_free(sc);
   regex_free(re);
   return ok;
}

static void check_find(Filter* f, const LogStore* ls, const char* pat, uint16_t flags,
                       uint64_t from, bool inclusive, int dir) {
   uint64_t want = 0;
   bool ok = naive_find(ls, pat, flags, from, inclusive, dir, &want);
   Found r = find(f, (FindJob){.source = 0,
                               .from = from,
                               .inclusive = inclusive,
                               .dir = dir,
                               .re = pat ? compile(pat) : NULL,
                               .flags = flags});
   cr_assert(r.done);
   cr_assert_not(r.cancelled);
   cr_assert_eq(r.found, ok, "/%s flags %u from %" PRIu64 "%s dir %d: found %d, want %d",
                pat ? pat : "", flags, from, inclusive ? " incl" : "", dir, r.found, ok);
   if (ok)
      cr_assert_eq(r.pos, want,
                   "/%s flags %u from %" PRIu64 "%s dir %d: at %" PRIu64 ", want %" PRIu64,
                   pat ? pat : "", flags, from, inclusive ? " incl" : "", dir, r.pos, want);
   else
      cr_assert_eq(r.scanned, r.total, "not found, yet %" PRIu64 " of %" PRIu64 " looked at",
                   r.scanned, r.total);
}

Test(filter, find_regex_next_and_previous) {
   LogStore* ls = logstore_new(&(LogStoreConfig){.max_lines = 1000000});
   fill(ls, 50000);
   atomic_store(&wakes, 0);
   Filter* f;
   cr_assert_eq(filter_new_store(ls, count_wake, NULL, &f, NULL), 0);
   /* rare, common, and one found only at the very start and end of the log */
   const char* pats[] = {"worker-3: request \\d+77 ", "ERROR", "request (0|49998) ", "marker"};
   uint64_t froms[] = {0, 1, 998, 999, 1000, 12345, 25000, 49998, 49999, 50000, 70000};
   for (size_t p = 0; p < ARRAY_LEN(pats); p++)
      for (size_t i = 0; i < ARRAY_LEN(froms); i++)
         for (int incl = 0; incl < 2; incl++) {
            check_find(f, ls, pats[p], 0, froms[i], incl, +1);
            check_find(f, ls, pats[p], 0, froms[i], incl, -1);
         }
   /* inclusive finds the line it starts on; exclusive the next one */
   Found r =
       find(f, (FindJob){.from = 0, .inclusive = true, .dir = +1, .re = compile("request 0 ")});
   cr_assert(r.found);
   cr_assert_eq(r.pos, 0);
   r = find(f, (FindJob){.from = 0, .dir = +1, .re = compile("request 0 ")});
   cr_assert_not(r.found);
   cr_assert_gt(atomic_load(&wakes), 0);
   filter_free(f);
   rcu_barrier();
   cr_assert_eq(filter_live_finds(), 0);
   logstore_free(ls);
}

Test(filter, find_flags) {
   LogStore* ls = logstore_new(NULL);
   char buf[64];
   for (int i = 0; i < 30000; i++) {
      uint16_t fl = i % 5000 == 1234 ? LINE_ERROR : i % 3000 == 7 ? LINE_WARNING : 0;
      if (i == 20000) fl = LINE_ERROR | LINE_MARKER; /* a marker is never a hit */
      int k = snprintf(buf, sizeof buf, "line %d %s", i, fl & LINE_ERROR ? "boom" : "fine");
      logstore_append(ls, buf, (uint32_t)k, NULL, 0, fl, 1);
   }
   logstore_add_flags(ls, 29990, LINE_ERROR); /* flagged after the fact (a grouped error) */
   Filter* f;
   cr_assert_eq(filter_new_store(ls, NULL, NULL, &f, NULL), 0);
   uint64_t froms[] = {0, 1234, 1235, 14000, 20000, 21234, 29990, 29999};
   for (size_t i = 0; i < ARRAY_LEN(froms); i++)
      for (int incl = 0; incl < 2; incl++) {
         for (int dir = -1; dir <= 1; dir += 2) {
            check_find(f, ls, NULL, LINE_ERROR, froms[i], incl, dir);
            check_find(f, ls, NULL, LINE_WARNING, froms[i], incl, dir);
            check_find(f, ls, NULL, LINE_ERROR | LINE_WARNING, froms[i], incl, dir);
            check_find(f, ls, "line \\d+4 ", LINE_ERROR, froms[i], incl, dir); /* both */
         }
      }
   Found r = find(f, (FindJob){.from = 25000, .dir = -1, .flags = LINE_ERROR});
   cr_assert(r.found);
   cr_assert_eq(r.pos, 21234); /* not the marker at 20000 */
   r = find(f, (FindJob){.from = 29000, .dir = +1, .flags = LINE_ERROR});
   cr_assert(r.found);
   cr_assert_eq(r.pos, 29990);
   filter_free(f);
   logstore_free(ls);
}

Test(filter, find_no_match_and_unknown_source) {
   LogStore* ls = logstore_new(&(LogStoreConfig){.max_lines = 1000000});
   fill(ls, 100000);
   Filter* f;
   cr_assert_eq(filter_new_store(ls, NULL, NULL, &f, NULL), 0);
   Found r = find(f, (FindJob){.from = 40000, .dir = +1, .re = compile("nowhere to be found")});
   cr_assert(r.done);
   cr_assert_not(r.found);
   cr_assert_not(r.evicted);
   cr_assert_eq(r.scanned, 59999); /* 40001 .. 99999 */
   cr_assert_eq(r.total, r.scanned);
   r = find(f, (FindJob){.from = 40000, .dir = -1, .re = compile("nowhere to be found")});
   cr_assert_not(r.found);
   cr_assert_eq(r.scanned, 40000);
   r = find(f, (FindJob){.source = 3, .from = 0, .dir = +1, .re = compile(".")});
   cr_assert(r.done);
   cr_assert_not(r.found);
   cr_assert_eq(r.scanned, 0);
   r = find(f, (FindJob){.source = FILTER_ALL, .dir = -1, .flags = LINE_ERROR}); /* no Sup */
   cr_assert(r.done);
   cr_assert_not(r.found);
   filter_free(f);
   logstore_free(ls);
}

/* A store of lines a catastrophic pattern takes long on (see new_set_cancels_slow_scan). */
static LogStore* slow_store(int n, uint64_t max_lines) {
   LogStore* ls = logstore_new(&(LogStoreConfig){.max_lines = max_lines});
   char buf[128];
   for (int i = 0; i < n; i++) {
      int k = snprintf(buf, sizeof buf, "%s aaaaaaaaaaaaaaaaaaaaaaaaaaaaa! %d",
                       i % 10 ? "INFO" : "ERROR", i);
      logstore_append(ls, buf, (uint32_t)k, NULL, 0, 0, 1);
   }
   return ls;
}

#define SLOW_PATTERN "(\\w+\\s?)*!$|(a|aa)+$"

Test(filter, find_cancelled_by_newer_job, .timeout = 120) {
   LogStore* ls = slow_store(200000, 1000000);
   Filter* f;
   cr_assert_eq(filter_new_store(ls, NULL, NULL, &f, NULL), 0);
   uint64_t slow = filter_find(f, &(FindJob){.from = 0, .dir = +1, .re = compile(SLOW_PATTERN)});
   sleep_ms(300); /* under way */
   rcu_read_lock();
   const FindState* st = filter_find_state(f);
   cr_assert_eq(st->gen, slow);
   bool slow_done = atomic_load(&st->done);
   uint64_t scanned = atomic_load(&st->scanned);
   rcu_read_unlock();
   cr_assert_not(slow_done, "the slow find must still run (looked at %" PRIu64 ")", scanned);
   cr_assert_eq(filter_live_finds(), 1);

   uint64_t t0 = util_mono_ns();
   uint64_t fast = filter_find(
       f,
       &(FindJob){.from = 199999, .inclusive = true, .dir = -1, .re = compile("ERROR .* 100000$")});
   double call_us = (double)(util_mono_ns() - t0) / 1e3;
   cr_assert_gt(fast, slow);
   Found r = wait_find(f, fast, 20000);
   double ms = (double)(util_mono_ns() - t0) / 1e6;
   cr_log_info("newer find done %.1f ms after filter_find (call %.1f us; slow one had looked at "
               "%" PRIu64 " lines)",
               ms, call_us, scanned);
   cr_assert(r.found);
   cr_assert_eq(r.pos, 100000);
   cr_assert_lt(ms, 5000.0);
   rcu_barrier(); /* the replaced job is reclaimed */
   cr_assert_eq(filter_live_finds(), 1);

   /* cancel: no job published any more, and a running one stops */
   filter_find(f, &(FindJob){.from = 0, .dir = +1, .re = compile(SLOW_PATTERN)});
   filter_find_cancel(f);
   rcu_read_lock();
   cr_assert_null(filter_find_state(f));
   rcu_read_unlock();
   /* the worker is free again: a filter scan completes (it would wait out the slow find) */
   filter_set(f, compile("ERROR"), 0);
   cr_assert(wait_caught_up(f, current_gen(f), 200000, 20000));
   filter_free(f);
   rcu_barrier();
   cr_assert_eq(filter_live_finds(), 0);
   logstore_free(ls);
}

/* A find and a filter scan share the worker slice by slice: neither waits for the other. */
Test(filter, find_and_filter_take_turns, .timeout = 120) {
   LogStore* ls = slow_store(200000, 1000000);
   Filter* f;
   cr_assert_eq(filter_new_store(ls, NULL, NULL, &f, NULL), 0);
   filter_set(f, compile(SLOW_PATTERN), 0); /* a long filter scan */
   uint64_t slow = current_gen(f);
   Found r = find(f, (FindJob){.from = 0, .dir = +1, .re = compile("^ERROR .* 50$")});
   cr_assert(r.found);
   cr_assert_eq(r.pos, 50);
   rcu_read_lock();
   const FilterState* st = filter_state(f);
   cr_assert_eq(st->gen, slow);
   cr_assert_not(atomic_load(&st->caught_up), "the find waited for the filter scan");
   rcu_read_unlock();
   /* and the other way round: a long find, then a filter that catches up before it ends */
   uint64_t gen = filter_find(f, &(FindJob){.from = 0, .dir = +1, .re = compile(SLOW_PATTERN)});
   filter_set(f, compile("ERROR"), 0);
   cr_assert(wait_caught_up(f, current_gen(f), 200000, 20000));
   rcu_read_lock();
   const FindState* fs = filter_find_state(f);
   cr_assert_eq(fs->gen, gen);
   cr_assert_not(atomic_load(&fs->done), "the filter scan waited for the find");
   rcu_read_unlock();
   filter_free(f);
   logstore_free(ls);
}

/* Progress as the worker publishes it, seen from its wake callback (deterministic: every slice
 * wakes, and 2,000,000 lines take many slices). */
typedef struct Progress {
   Filter* f;
   atomic_uint partial; /* wakes that saw 0 < scanned < total and not done */
   atomic_uint after_done;
} Progress;

static void progress_wake(void* ud) {
   Progress* p = ud;
   Filter* f = p->f;
   if (!f) return;
   rcu_read_lock();
   const FindState* st = filter_find_state(f);
   if (st) {
      bool done = atomic_load(&st->done);
      uint64_t s = atomic_load(&st->scanned), t = atomic_load(&st->total);
      if (!done && s > 0 && s < t) atomic_fetch_add(&p->partial, 1);
      if (done) atomic_fetch_add(&p->after_done, 1);
   }
   rcu_read_unlock();
}

Test(filter, find_progress_across_2m_lines, .timeout = 300) {
   LogStore* ls = logstore_new(&(LogStoreConfig){.max_lines = 2100000});
   fill(ls, 2000000);
   Progress p = {0};
   Filter* f;
   cr_assert_eq(filter_new_store(ls, progress_wake, &p, &f, NULL), 0);
   p.f = f;
   for (int round = 0; round < 4; round++) {
      int dir = round % 2 ? +1 : -1;
      atomic_store(&p.partial, 0);
      Regex* re = compile(dir > 0 ? "request 1999998 " : "request 0 ");
      uint64_t t0 = util_mono_ns();
      uint64_t gen = filter_find(
          f, &(FindJob){.from = dir > 0 ? 0 : 1999999, .inclusive = true, .dir = dir, .re = re});
      double call_us = (double)(util_mono_ns() - t0) / 1e3;
      /* poll as frames do */
      bool seen_partial = false;
      Found r;
      for (;;) {
         rcu_read_lock();
         const FindState* st = filter_find_state(f);
         r.done = atomic_load(&st->done);
         r.scanned = atomic_load(&st->scanned);
         r.total = atomic_load(&st->total);
         rcu_read_unlock();
         if (r.done) break;
         if (r.scanned > 0 && r.scanned < r.total) seen_partial = true;
         cr_assert_lt(util_mono_ns() - t0, 60000000000ull);
         sleep_ms(1);
      }
      double ms = (double)(util_mono_ns() - t0) / 1e6;
      r = wait_find(f, gen, 1000);
      /* from one end to the other: found at the far end */
      cr_assert(r.found);
      cr_assert_eq(r.pos, dir > 0 ? 1999998 : 0); /* 1999999 is a marker */
      cr_assert_eq(r.scanned, dir > 0 ? 1999999 : 2000000);
      /* progress was published before the end, slice by slice */
      cr_assert_gt(atomic_load(&p.partial), 10, "progress published %u times",
                   atomic_load(&p.partial));
      fprintf(stderr,
              "find across 2,000,000 lines %s: %.1f ms on the worker, filter_find returned in "
              "%.1f us, %u progress wakes, a polling frame saw progress: %s\n",
              dir > 0 ? "down" : "up", ms, call_us, atomic_load(&p.partial),
              seen_partial ? "yes" : "no");
      cr_assert_lt(call_us, 50000.0); /* microseconds; generous for a loaded machine */
   }
   /* for comparison: a filter scan of the same lines with the same kind of pattern */
   uint64_t t0 = util_mono_ns();
   filter_set(f, compile("request 1999998 "), 0);
   cr_assert(wait_caught_up(f, current_gen(f), 2000000, 60000));
   fprintf(stderr, "filter scan of the same 2,000,000 lines: %.1f ms\n",
           (double)(util_mono_ns() - t0) / 1e6);
   filter_free(f);
   logstore_free(ls);
}

Test(filter, find_evicted_start) {
   LogStore* ls = logstore_new(&(LogStoreConfig){.max_lines = 10000});
   fill(ls, 40000);
   rcu_read_lock();
   uint64_t b = logstore_begin(ls);
   rcu_read_unlock();
   cr_assert_gt(b, 20000);
   Filter* f;
   cr_assert_eq(filter_new_store(ls, NULL, NULL, &f, NULL), 0);
   /* up from a dropped line: nothing retained above it */
   Found r = find(f, (FindJob){.from = 5000, .dir = -1, .re = compile("ERROR")});
   cr_assert(r.done);
   cr_assert_not(r.found);
   cr_assert(r.evicted);
   /* down from a dropped line: the first hit at or after the start of retention */
   uint64_t want;
   cr_assert(naive_find(ls, "ERROR", 0, b, true, +1, &want));
   r = find(f, (FindJob){.from = 5000, .dir = +1, .re = compile("ERROR")});
   cr_assert(r.found);
   cr_assert(r.evicted);
   cr_assert_eq(r.pos, want);
   /* up to the start of retention without a hit: not evicted */
   r = find(f, (FindJob){.from = b + 500, .dir = -1, .re = compile("nowhere")});
   cr_assert_not(r.found);
   cr_assert_not(r.evicted);
   cr_assert_eq(r.scanned, 500);
   filter_free(f);
   logstore_free(ls);
}

/* Retention overtakes a slow job going up: it ends, evicted, instead of waiting or reading
 * dropped lines. */
Test(filter, find_overtaken_by_eviction, .timeout = 120) {
   LogStore* ls = slow_store(20000, 20000);
   Filter* f;
   cr_assert_eq(filter_new_store(ls, NULL, NULL, &f, NULL), 0);
   uint64_t gen = filter_find(
       f, &(FindJob){.from = 19999, .inclusive = true, .dir = -1, .re = compile(SLOW_PATTERN)});
   sleep_ms(50);
   char buf[64];
   for (int i = 0; i < 60000; i++) { /* the test thread is the only writer */
      int k = snprintf(buf, sizeof buf, "new line %d", i);
      logstore_append(ls, buf, (uint32_t)k, NULL, 0, 0, 1);
   }
   rcu_read_lock();
   cr_assert_gt(logstore_begin(ls), 20000);
   rcu_read_unlock();
   Found r = wait_find(f, gen, 20000);
   cr_assert_not(r.found);
   cr_assert(r.evicted);
   cr_assert_lt(r.scanned, 20000);
   filter_free(f);
   logstore_free(ls);
}

Test(filter, find_among_filter_matches) {
   LogStore* ls = logstore_new(&(LogStoreConfig){.max_lines = 1000000});
   fill(ls, 50000);
   Filter* f;
   cr_assert_eq(filter_new_store(ls, NULL, NULL, &f, NULL), 0);
   filter_set(f, compile("worker-3"), 0);
   uint64_t fgen = current_gen(f);
   cr_assert(wait_caught_up(f, fgen, 50000, 20000));
   uint64_t n;
   uint64_t* shown = naive(ls, "worker-3", &n);
   /* positions are the filtered pane's: indexes into the match list */
   for (uint64_t from = 0; from < n; from += n / 7) {
      for (int dir = -1; dir <= 1; dir += 2) {
         Found r = find(
             f, (FindJob){.filter_gen = fgen, .from = from, .dir = dir, .re = compile("ERROR")});
         cr_assert_not(r.cancelled);
         /* reference: the next shown line that also matches ERROR */
         Regex* re = compile("ERROR");
         RegexScratch* sc = regex_scratch_new();
         int64_t want = -1;
         rcu_read_lock();
         for (int64_t i = (int64_t)from + dir; i >= 0 && i < (int64_t)n; i += dir) {
            LogLine l;
            cr_assert(logstore_get(ls, shown[i], &l));
            if (regex_match(re, sc, l.text, l.len)) {
               want = i;
               break;
            }
         }
         rcu_read_unlock();
         regex_scratch_free(sc);
         regex_free(re);
         cr_assert_eq(r.found, want >= 0, "from %" PRIu64 " dir %d", from, dir);
         if (want >= 0) cr_assert_eq(r.pos, (uint64_t)want);
      }
   }
   free(shown);
   /* a job for a filter that is no longer published is cancelled, not run on the wrong list */
   filter_set(f, compile("worker-5"), 0);
   Found r = find(f, (FindJob){.filter_gen = fgen, .from = 0, .dir = +1, .re = compile(".")});
   cr_assert(r.done);
   cr_assert(r.cancelled);
   cr_assert_not(r.found);
   /* a filter still scanning: going down waits for its matches instead of stopping early */
   LogStore* big = logstore_new(&(LogStoreConfig){.max_lines = 2000000});
   fill(big, 1000000);
   Filter* g;
   cr_assert_eq(filter_new_store(big, NULL, NULL, &g, NULL), 0);
   filter_set(g, compile("request \\d+ "), 0); /* matches almost every line */
   uint64_t ggen = current_gen(g);
   r = find(g,
            (FindJob){.filter_gen = ggen, .from = 0, .dir = +1, .re = compile("request 999998 ")});
   cr_assert(r.found);
   rcu_read_lock();
   uint64_t v = 0;
   cr_assert(lineidx_get(filter_state(g)->matches, r.pos, &v));
   rcu_read_unlock();
   cr_assert_eq(v, 999998);
   filter_free(g);
   logstore_free(big);
   filter_free(f);
   logstore_free(ls);
}

/* The All view with a real supervisor: positions are the All index's. */
Test(filter, find_all_source, .timeout = 60) {
   const char* scripts[] = {
       "for i in 1 2 3 4 5; do echo \"alpha ok $i\"; done; echo 'TypeError: boom'; "
       "echo 'alpha ok 6'",
       "for i in 1 2 3; do echo \"beta ok $i\"; echo 'x level=warn'; done"};
   Sup* s = start_sup(scripts, 2);
   Filter* f;
   cr_assert_eq(filter_new(s, NULL, NULL, &f, NULL), 0);
   /* wait for all 13 lines of both processes */
   uint64_t deadline = util_mono_ns() + 20000000000ull;
   for (;;) {
      rcu_read_lock();
      const LineIdx* all = sup_all_index(s);
      const Registry* r = sup_registry(s);
      uint64_t lines = 0;
      for (uint64_t p = lineidx_begin(all); p < lineidx_end(all); p++) {
         uint64_t ref;
         LogLine l;
         if (lineidx_get(all, p, &ref) &&
             logstore_get(r->slots[LINEREF_PROC(ref)]->log, LINEREF_LINE(ref), &l) &&
             !(l.flags & LINE_MARKER))
            lines++;
      }
      rcu_read_unlock();
      if (lines >= 13) break;
      cr_assert_lt(util_mono_ns(), deadline, "only %" PRIu64 " lines", lines);
      sleep_ms(10);
   }
   /* the text of the line at an All position */
#define ALL_TEXT(pos, buf)                                                                         \
   do {                                                                                            \
      rcu_read_lock();                                                                             \
      uint64_t ref_;                                                                               \
      LogLine l_;                                                                                  \
      cr_assert(lineidx_get(sup_all_index(s), (pos), &ref_));                                      \
      cr_assert(                                                                                   \
          logstore_get(sup_registry(s)->slots[LINEREF_PROC(ref_)]->log, LINEREF_LINE(ref_), &l_)); \
      snprintf((buf), sizeof(buf), "%.*s", (int)l_.len, l_.text);                                  \
      rcu_read_unlock();                                                                           \
   } while (0)
   char text[64];
   Found r = find(f, (FindJob){.source = FILTER_ALL,
                               .from = 0,
                               .inclusive = true,
                               .dir = +1,
                               .re = compile("beta ok 2")});
   cr_assert(r.found);
   ALL_TEXT(r.pos, text);
   cr_assert_str_eq(text, "beta ok 2");
   uint64_t beta2 = r.pos;
   rcu_read_lock();
   uint64_t end = lineidx_end(sup_all_index(s));
   rcu_read_unlock();
   r = find(
       f,
       (FindJob){
           .source = FILTER_ALL, .from = end, .inclusive = true, .dir = -1, .flags = LINE_ERROR});
   cr_assert(r.found);
   ALL_TEXT(r.pos, text);
   cr_assert_str_eq(text, "TypeError: boom");
   r = find(f, (FindJob){.source = FILTER_ALL, .from = beta2, .dir = +1, .flags = LINE_WARNING});
   cr_assert(r.found);
   cr_assert_gt(r.pos, beta2);
   ALL_TEXT(r.pos, text);
   cr_assert_str_eq(text, "x level=warn");
   r = find(f, (FindJob){.source = FILTER_ALL, .from = 0, .dir = +1, .re = compile("gamma")});
   cr_assert(r.done);
   cr_assert_not(r.found);
   /* filtered All pane: positions in the filter's matches (LINEREFs) */
   filter_set(f, compile("beta|warn"), FILTER_ALL);
   wait_matches(f, 6);
   uint64_t fgen = current_gen(f);
   r = find(f, (FindJob){.source = FILTER_ALL,
                         .filter_gen = fgen,
                         .from = 0,
                         .inclusive = true,
                         .dir = +1,
                         .flags = LINE_WARNING});
   cr_assert(r.found);
   cr_assert_eq(r.pos, 1); /* beta ok 1, then its warning */
   rcu_read_lock();
   uint64_t ref;
   LogLine l;
   cr_assert(lineidx_get(filter_state(f)->matches, r.pos, &ref));
   cr_assert_eq(LINEREF_PROC(ref), 1);
   cr_assert(logstore_get(sup_registry(s)->slots[1]->log, LINEREF_LINE(ref), &l));
   cr_assert(l.len == 12 && memcmp(l.text, "x level=warn", 12) == 0);
   rcu_read_unlock();
#undef ALL_TEXT
   filter_free(f);
   sup_free(s);
}

/* Without descriptors for its loop, filter_new fails with -EMFILE and a cause, leaving nothing
 * behind (the leak check counts under ASan); with enough it works. */
Test(filter, new_fails_cleanly_without_descriptors) {
   LogStore* ls = logstore_new(&(LogStoreConfig){.max_lines = 100});
   FdLimit fl;
   fdlimit_init(&fl);
   int failures = 0;
   Filter* f = NULL;
   for (int k = 0; k <= 16 && !f; k++) {
      char* cause = NULL;
      cr_assert_eq(fdlimit_free_only(&fl, k), 0);
      int err = filter_new_store(ls, NULL, NULL, &f, &cause);
      fdlimit_restore(&fl);
      if (err < 0) {
         cr_assert_eq(err, -EMFILE, "k=%d: %s", k, strerror(-err));
         cr_assert(f == NULL);
         cr_assert(cause && strstr(cause, "filter worker"), "k=%d: %s", k, cause);
         free(cause);
         failures++;
      }
   }
   fdlimit_done(&fl);
   cr_assert(f != NULL, "filter_new_store works with enough descriptors");
   cr_assert_geq(failures, 1);
   filter_free(f);
   logstore_free(ls);
   cr_assert_eq(leak_check(), 0, "nothing leaked");
}

/* Issue 15: a line PCRE2 gives up on (match limit) is no match, but counted, per scratch and in
 * the published state, so that headless mode and the TUI can say the pattern is too expensive. */
Test(filter, too_expensive_is_counted, .timeout = 120) {
   Regex* re = compile("^(a|aa)+$");
   RegexScratch* sc = regex_scratch_new();
   const char* cheap = "aaaa";
   const char* costly = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab";
   cr_expect(regex_match(re, sc, cheap, strlen(cheap)));
   cr_expect_eq(regex_scratch_failures(sc), 0);
   cr_expect_not(regex_match(re, sc, "b", 1));
   cr_expect_eq(regex_scratch_failures(sc), 0, "an ordinary no-match is not a failure");
   cr_expect_not(regex_match(re, sc, costly, strlen(costly)));
   cr_expect_eq(regex_scratch_failures(sc), 1, "the match limit was hit");
   regex_scratch_free(sc);
   regex_free(re);

   LogStore* ls = logstore_new(NULL);
   for (int i = 0; i < 6; i++) {
      const char* t = i % 2 ? cheap : costly;
      logstore_append(ls, t, (uint32_t)strlen(t), NULL, 0, 0, 1);
   }
   Filter* f;
   cr_assert_eq(filter_new_store(ls, NULL, NULL, &f, NULL), 0);
   filter_set(f, compile("^(a|aa)+$"), 0);
   cr_assert(wait_caught_up(f, current_gen(f), 6, 60000));
   rcu_read_lock();
   const FilterState* st = filter_state(f);
   cr_expect_eq(atomic_load(&((FilterState*)st)->too_expensive), 3);
   cr_expect_eq(lineidx_end(st->matches) - lineidx_begin(st->matches), 3);
   rcu_read_unlock();
   filter_free(f);
   rcu_barrier();
   logstore_free(ls);
}
