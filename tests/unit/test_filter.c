#include <criterion/criterion.h>
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
   Filter* f = filter_new_store(ls, count_wake, NULL);
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
   Filter* f = filter_new_store(ls, NULL, NULL);
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
   Filter* f = filter_new_store(ls, count_wake, NULL);
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
   Filter* f = filter_new_store(ls, NULL, NULL);
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
   Filter* f = filter_new_store(ls, NULL, NULL);
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
   Filter* f = filter_new_store(ls, NULL, NULL);
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
   Filter* f = filter_new_store(ls, count_wake, NULL);
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
   Filter* f = filter_new_store(ls, NULL, NULL);
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
   cr_assert_eq(sup_new(&cfg, &s), 0);
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
   Filter* f = filter_new(s, NULL, NULL);
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
   Filter* f = filter_new(s, NULL, NULL);
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
   Filter* f = filter_new_store(ls, NULL, NULL);
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
