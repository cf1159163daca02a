#include <criterion/criterion.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/logstore.h"
#include "core/rcu.h"

static void setup(void) {
   rcu_register_thread();
}

static void teardown(void) {
   rcu_barrier(); /* run pending call_rcu frees so ASan sees no leaks */
   rcu_unregister_thread();
}

TestSuite(logstore, .init = setup, .fini = teardown);

static StyleRun run_at(uint32_t start, uint32_t fg, uint16_t attr) {
   return (StyleRun){.start = start, .fg = fg, .bg = COLOR_DEFAULT, .attr = attr};
}

static uint64_t add_text(LogStore* ls, const char* s, uint64_t t) {
   return logstore_append(ls, s, (uint32_t)strlen(s), NULL, 0, 0, t);
}

/* Appends "line N" lines until end reaches n. */
static void add_numbered(LogStore* ls, uint64_t n) {
   char buf[64];
   for (uint64_t i = logstore_end(ls); i < n; i++) {
      int k = snprintf(buf, sizeof buf, "line %" PRIu64, i);
      logstore_append(ls, buf, (uint32_t)k, NULL, 0, 0, 1000 + i);
   }
}

static bool line_is(const LogLine* l, uint64_t n) {
   char buf[64];
   int k = snprintf(buf, sizeof buf, "line %" PRIu64, n);
   return l->lineno == n && l->len == (uint32_t)k && memcmp(l->text, buf, (size_t)k) == 0;
}

Test(logstore, roundtrip) {
   LogStore* ls = logstore_new(NULL);
   StyleRun runs[] = {run_at(0, COLOR_INDEX(1), ATTR_BOLD), run_at(4, COLOR_RGB(1, 2, 3), 0),
                      run_at(50, COLOR_INDEX(2), 0)}; /* past the end: dropped */
   cr_assert_eq(logstore_append(ls, "red green", 9, runs, 3, LINE_ERROR, 12345), 0);
   cr_assert_eq(add_text(ls, "", 12346), 1);
   cr_assert_eq(logstore_append(ls, "warn", 4, NULL, 0, LINE_WARNING | LINE_CONTINUED, 99), 2);
   cr_assert_eq(logstore_begin(ls), 0);
   cr_assert_eq(logstore_end(ls), 3);

   rcu_read_lock();
   LogLine l;
   cr_assert(logstore_get(ls, 0, &l));
   cr_assert_eq(l.lineno, 0);
   cr_assert_eq(l.len, 9);
   cr_assert(memcmp(l.text, "red green", 9) == 0);
   cr_assert_eq(l.flags, LINE_ERROR);
   cr_assert_eq(l.time_ms, 12345);
   cr_assert_eq(l.nruns, 2);
   cr_assert_eq(l.runs[0].start, 0);
   cr_assert_eq(l.runs[0].fg, COLOR_INDEX(1));
   cr_assert_eq(l.runs[0].attr, ATTR_BOLD);
   cr_assert_eq(l.runs[1].start, 4);
   cr_assert_eq(l.runs[1].fg, COLOR_RGB(1, 2, 3));
   cr_assert(logstore_get(ls, 1, &l));
   cr_assert_eq(l.len, 0);
   cr_assert_eq(l.nruns, 0);
   cr_assert_eq(l.time_ms, 12346);
   cr_assert(logstore_get(ls, 2, &l));
   cr_assert_eq(l.flags, LINE_WARNING | LINE_CONTINUED, "the parser's cut pieces pass it in");
   cr_assert_eq(l.time_ms, 12345, "a clock that went backwards reads as the chunk's base time");
   cr_assert_not(logstore_get(ls, 3, &l));
   rcu_read_unlock();

   logstore_add_flags(ls, 1, LINE_GROUPED);
   logstore_add_flags(ls, 1, LINE_URL);
   logstore_add_flags(ls, 7, LINE_URL); /* not there: ignored */
   rcu_read_lock();
   cr_assert(logstore_get(ls, 1, &l));
   cr_assert_eq(l.flags, LINE_GROUPED | LINE_URL);
   rcu_read_unlock();
   logstore_free(ls);
}

Test(logstore, split_long_line) {
   LogStore* ls = logstore_new(NULL);
   uint32_t len = 200u * 1024u;
   char* text = malloc(len);
   for (uint32_t i = 0; i < len; i++) text[i] = (char)('a' + i % 26);
   StyleRun runs[] = {run_at(0, COLOR_INDEX(1), 0), run_at(70000, COLOR_INDEX(2), ATTR_BOLD),
                      run_at(140000, COLOR_DEFAULT, 0)};
   add_text(ls, "before", 1);
   cr_assert_eq(logstore_append(ls, text, len, runs, 3, LINE_ERROR, 7), 1);
   cr_assert_eq(logstore_end(ls), 5, "200 KiB in 64 KiB pieces is 4 lines");

   rcu_read_lock();
   LogLine l;
   uint32_t off = 0;
   for (uint64_t n = 1; n < 5; n++) {
      cr_assert(logstore_get(ls, n, &l));
      cr_assert_eq(l.flags, n == 1 ? LINE_ERROR : (LINE_ERROR | LINE_CONTINUED));
      cr_assert_leq(l.len, LOGSTORE_MAX_LINE);
      cr_assert(memcmp(l.text, text + off, l.len) == 0);
      cr_assert_eq(l.time_ms, 7);
      switch (n) {
      case 1: /* [0, 65536): red from 0 */
         cr_assert_eq(l.nruns, 1);
         cr_assert_eq(l.runs[0].fg, COLOR_INDEX(1));
         break;
      case 2: /* [65536, 131072): starts red, green bold at 70000 */
         cr_assert_eq(l.nruns, 2);
         cr_assert_eq(l.runs[0].start, 0);
         cr_assert_eq(l.runs[0].fg, COLOR_INDEX(1));
         cr_assert_eq(l.runs[1].start, 70000 - off);
         cr_assert_eq(l.runs[1].fg, COLOR_INDEX(2));
         cr_assert_eq(l.runs[1].attr, ATTR_BOLD);
         break;
      case 3: /* [131072, 196608): starts green bold, default at 140000 */
         cr_assert_eq(l.nruns, 2);
         cr_assert_eq(l.runs[0].start, 0);
         cr_assert_eq(l.runs[0].fg, COLOR_INDEX(2));
         cr_assert_eq(l.runs[1].start, 140000 - off);
         cr_assert_eq(l.runs[1].fg, COLOR_DEFAULT);
         break;
      case 4: /* the default style is in force: no runs */
         cr_assert_eq(l.nruns, 0);
         break;
      }
      off += l.len;
   }
   cr_assert_eq(off, len);
   rcu_read_unlock();
   free(text);
   logstore_free(ls);
}

Test(logstore, split_keeps_utf8_and_caps_runs) {
   LogStore* ls = logstore_new(NULL);
   uint32_t len = 3u * 30000u; /* 90,000 bytes of a 3-byte character: 65536 is mid-character */
   char* text = malloc(len);
   for (uint32_t i = 0; i < len; i += 3) memcpy(text + i, "\xe2\x82\xac", 3);
   logstore_append(ls, text, len, NULL, 0, 0, 0);
   rcu_read_lock();
   LogLine l;
   cr_assert_eq(logstore_end(ls), 2);
   cr_assert(logstore_get(ls, 0, &l));
   cr_assert_eq(l.len % 3, 0, "cut at a character boundary, got %u", l.len);
   cr_assert(logstore_get(ls, 1, &l));
   cr_assert_eq(l.len % 3, 0);
   rcu_read_unlock();

   /* 3000 runs in 9000 bytes: pieces of at most 1024 runs, each starting in the right style */
   uint32_t nr = 3000;
   StyleRun* runs = malloc(nr * sizeof *runs);
   for (uint32_t i = 0; i < nr; i++) runs[i] = run_at(i * 3, COLOR_INDEX(1 + i % 7), 0);
   uint64_t first = logstore_append(ls, text, 9000, runs, (uint16_t)nr, 0, 0);
   rcu_read_lock();
   uint32_t off = 0, seen = 0;
   for (uint64_t n = first; n < logstore_end(ls); n++) {
      cr_assert(logstore_get(ls, n, &l));
      cr_assert_leq(l.nruns, LOGSTORE_MAX_RUNS);
      cr_assert_eq(l.flags, n == first ? 0 : LINE_CONTINUED);
      for (uint16_t k = 0; k < l.nruns; k++) {
         cr_assert_eq(l.runs[k].start + off, runs[seen + k].start);
         cr_assert_eq(l.runs[k].fg, runs[seen + k].fg);
      }
      seen += l.nruns;
      off += l.len;
   }
   cr_assert_eq(off, 9000);
   cr_assert_eq(seen, nr, "every run lands in exactly one piece (none carried: cuts at runs)");
   rcu_read_unlock();
   free(runs);
   free(text);
   logstore_free(ls);
}

static void check_window(LogStore* ls) {
   rcu_read_lock();
   uint64_t b = logstore_begin(ls), e = logstore_end(ls);
   LogLine l;
   cr_assert_eq(logstore_evicted(ls), b);
   if (b) cr_assert_not(logstore_get(ls, b - 1, &l), "evicted lines are gone");
   cr_assert(logstore_get(ls, b, &l));
   cr_assert(line_is(&l, b));
   cr_assert(logstore_get(ls, e - 1, &l));
   cr_assert(line_is(&l, e - 1));
   cr_assert_not(logstore_get(ls, e, &l));
   rcu_read_unlock();
}

Test(logstore, evict_by_lines) {
   LogStore* ls = logstore_new(&(LogStoreConfig){.max_lines = 100});
   add_numbered(ls, 100000);
   uint64_t b = logstore_begin(ls), e = logstore_end(ls);
   cr_assert_eq(e, 100000);
   cr_assert_geq(e - b, 100, "at least max_lines are kept");
   cr_assert_lt(e - b, 100 + 256 * 1024 / 16, "overshoot is less than one chunk");
   check_window(ls);
   logstore_free(ls);
}

Test(logstore, evict_by_bytes) {
   uint64_t max = 64 * 1024;
   LogStore* ls = logstore_new(&(LogStoreConfig){.max_lines = 1000000, .max_bytes = max});
   for (uint64_t n = 10000; n <= 100000; n += 10000) {
      add_numbered(ls, n);
      cr_assert_leq(logstore_bytes(ls), max + 16 * 1024, "at most one chunk over the budget");
      cr_assert_gt(logstore_begin(ls), 0);
      check_window(ls);
   }
   logstore_free(ls);
}

Test(logstore, keep_unconsumed_never_evicts_an_untaken_line) {
   LogStore* ls = logstore_new(
       &(LogStoreConfig){.max_lines = 10, .max_bytes = 64 * 1024, .keep_unconsumed = true});
   add_numbered(ls, 50000); /* far past both limits: nothing consumed, so nothing evicted */
   cr_assert_eq(logstore_begin(ls), 0);
   cr_assert_eq(logstore_evicted(ls), 0);
   cr_assert(logstore_backlogged(ls));
   logstore_consume(ls, 30000);
   add_numbered(ls, 50001); /* an append evicts what was taken, never past it */
   cr_assert_gt(logstore_begin(ls), 0);
   cr_assert_leq(logstore_begin(ls), 30000);
   check_window(ls);
   logstore_consume(ls, 50001);
   cr_assert_not(logstore_backlogged(ls), "every line taken: never backlogged");
   add_numbered(ls, 60000);
   cr_assert_leq(logstore_begin(ls), 50001, "untaken lines stay");
   logstore_consume(ls, 60000);
   add_numbered(ls, 60001);
   cr_assert_geq(logstore_begin(ls), 60001 - 10 - 1000, "taken lines go by the limits again");
   logstore_free(ls);
}

Test(logstore, backlogged_by_lines_or_bytes) {
   /* lines: half of max_lines, at least 1 */
   for (uint64_t max = 1; max <= 5; max++) {
      LogStore* ls = logstore_new(&(LogStoreConfig){.max_lines = max, .keep_unconsumed = true});
      uint64_t half = max - max / 2;
      cr_assert_not(logstore_backlogged(ls));
      add_numbered(ls, half - 1);
      cr_assert_not(logstore_backlogged(ls), "max %" PRIu64 ": below half", max);
      add_numbered(ls, half);
      cr_assert(logstore_backlogged(ls), "max %" PRIu64 ": at half", max);
      logstore_consume(ls, 1);
      cr_assert_not(logstore_backlogged(ls), "max %" PRIu64 ": below half again", max);
      logstore_consume(ls, half);
      cr_assert_not(logstore_backlogged(ls));
      logstore_free(ls);
   }
   /* bytes: 16 KB lines against a 256 KiB budget, far below the line limit */
   LogStore* ls = logstore_new(&(LogStoreConfig){.max_bytes = 256 * 1024, .keep_unconsumed = true});
   static char text[16000];
   memset(text, 'x', sizeof text);
   uint64_t n = 0;
   while (!logstore_backlogged(ls)) {
      logstore_append(ls, text, sizeof text, NULL, 0, 0, 1);
      n++;
      cr_assert_lt(n, 100, "pauses on bytes");
   }
   cr_assert_geq(n * sizeof text, 64 * 1024, "not before a good part of half the budget");
   logstore_consume(ls, n - 1);
   cr_assert_not(logstore_backlogged(ls), "one line (one chunk) left is below half");
   /* a 64 KiB piece counts as a line of its own */
   logstore_consume(ls, n);
   static char big[LOGSTORE_MAX_LINE * 5];
   memset(big, 'y', sizeof big);
   logstore_append(ls, big, sizeof big, NULL, 0, 0, 1);
   cr_assert_eq(logstore_end(ls), n + 5);
   cr_assert(logstore_backlogged(ls), "320 KiB of pieces: over half of 256 KiB");
   logstore_consume(ls, n + 4);
   cr_assert_not(logstore_backlogged(ls), "one piece left: its chunk is below half");
   logstore_free(ls);
   /* without keep_unconsumed there is no backlog */
   ls = logstore_new(&(LogStoreConfig){.max_lines = 1});
   add_numbered(ls, 100);
   cr_assert_not(logstore_backlogged(ls));
   logstore_free(ls);
}

Test(logstore, partial) {
   LogStore* ls = logstore_new(NULL);
   LogLine l;
   rcu_read_lock();
   cr_assert_not(logstore_partial(ls, &l));
   rcu_read_unlock();

   StyleRun r = run_at(0, COLOR_INDEX(3), 0);
   logstore_set_partial(ls, "10%", 3, &r, 1, 5);
   rcu_read_lock();
   cr_assert(logstore_partial(ls, &l));
   cr_assert_eq(l.lineno, 0);
   cr_assert_eq(l.len, 3);
   cr_assert(memcmp(l.text, "10%", 3) == 0);
   cr_assert_eq(l.nruns, 1);
   cr_assert_eq(l.runs[0].fg, COLOR_INDEX(3));
   cr_assert_eq(l.time_ms, 5);
   rcu_read_unlock();

   logstore_set_partial(ls, "20% done", 8, NULL, 0, 6); /* replace */
   rcu_read_lock();
   cr_assert(logstore_partial(ls, &l));
   cr_assert_eq(l.len, 8);
   cr_assert(memcmp(l.text, "20% done", 8) == 0);
   cr_assert_eq(l.nruns, 0);
   rcu_read_unlock();

   add_text(ls, "20% done", 7); /* a committed line clears it */
   rcu_read_lock();
   cr_assert_not(logstore_partial(ls, &l));
   rcu_read_unlock();

   logstore_set_partial(ls, "prompt> ", 8, NULL, 0, 8);
   rcu_read_lock();
   cr_assert(logstore_partial(ls, &l));
   cr_assert_eq(l.lineno, 1, "the partial line comes after the committed ones");
   rcu_read_unlock();
   logstore_set_partial(ls, NULL, 0, NULL, 0, 0); /* explicit clear */
   rcu_read_lock();
   cr_assert_not(logstore_partial(ls, &l));
   rcu_read_unlock();
   logstore_set_partial(ls, "left set", 8, NULL, 0, 9); /* freed by logstore_free */
   logstore_free(ls);
}

Test(logstore, iterator) {
   LogStore* ls = logstore_new(NULL);
   add_numbered(ls, 50000); /* several chunks (16, 32, 64, 128, 256 KiB) */
   cr_assert_gt(logstore_bytes(ls), 256 * 1024);
   rcu_read_lock();
   LogIter it;
   LogLine l;
   uint64_t n = 0;
   logiter_init(&it, ls, 0);
   while (logiter_next(&it, &l)) {
      cr_assert(line_is(&l, n), "line %" PRIu64, n);
      n++;
   }
   cr_assert_eq(n, 50000);
   logiter_init(&it, ls, 49990);
   n = 49990;
   while (logiter_next(&it, &l)) cr_assert(line_is(&l, n++));
   cr_assert_eq(n, 50000);
   rcu_read_unlock();

   /* the iterator sees lines appended after it reached the end */
   add_numbered(ls, 50010);
   rcu_read_lock();
   while (logiter_next(&it, &l)) cr_assert(line_is(&l, n++));
   cr_assert_eq(n, 50010);
   rcu_read_unlock();
   logstore_free(ls);
}

/* The detection thread's path: flags ORed through the iterator land on the line it returned, in
 * every chunk (the first line of each comes through the iterator's lookup, the others through
 * its cached chunk), next to the flags the line already had, and nowhere else. */
Test(logstore, iterator_add_flags) {
   LogStore* ls = logstore_new(&(LogStoreConfig){.detect_later = true});
   add_numbered(ls, 20000); /* several chunks */
   logstore_add_flags(ls, 3, LINE_WARNING);
   rcu_read_lock();
   LogIter it;
   LogLine l;
   logiter_init(&it, ls, 0);
   while (logiter_next(&it, &l))
      if (l.lineno % 3 == 0) logiter_add_flags(&it, l.lineno % 2 ? LINE_URL : LINE_ERROR);
   logiter_add_flags(&it, LINE_GROUPED); /* the last line again */
   for (uint64_t i = 0; i < 20000; i++) {
      cr_assert(logstore_get(ls, i, &l));
      uint16_t want = i % 3 ? 0 : i % 2 ? LINE_URL : LINE_ERROR;
      if (i == 3) want |= LINE_WARNING;
      if (i == 19999) want |= LINE_GROUPED;
      cr_assert_eq(l.flags, want, "line %" PRIu64 ": flags %u, not %u", i, l.flags, want);
      cr_assert(line_is(&l, i), "line %" PRIu64 " kept its text", i);
   }
   rcu_read_unlock();
   logstore_free(ls);
}

Test(logstore, iterator_after_eviction) {
   LogStore* ls = logstore_new(&(LogStoreConfig){.max_lines = 1000});
   add_numbered(ls, 50000);
   rcu_read_lock();
   uint64_t b = logstore_begin(ls);
   cr_assert_gt(b, 0);
   LogIter it;
   LogLine l;
   logiter_init(&it, ls, 0); /* below begin: starts at begin */
   cr_assert(logiter_next(&it, &l));
   cr_assert(line_is(&l, b));
   uint64_t n = b + 1;
   while (logiter_next(&it, &l)) cr_assert(line_is(&l, n++));
   cr_assert_eq(n, 50000);
   rcu_read_unlock();

   /* a start that a later eviction left below begin skips to the new begin */
   add_numbered(ls, 200000);
   rcu_read_lock();
   logiter_init(&it, ls, b); /* a new read section needs a new iterator */
   cr_assert(logiter_next(&it, &l));
   cr_assert(line_is(&l, logstore_begin(ls)));
   rcu_read_unlock();
   logstore_free(ls);
}

/* The packed layout: a line's length comes from the previous line's region, so lines of every
 * shape in a row (runs that need alignment, odd lengths, empty ones) must each read back whole;
 * the time lives in 24 bits of milliseconds from the chunk's base and the flags in a byte. */
Test(logstore, packed_layout_lengths_times_flags) {
   LogStore* ls = logstore_new(NULL);
   StyleRun runs[] = {run_at(0, COLOR_INDEX(1), ATTR_BOLD), run_at(2, COLOR_DEFAULT, 0)};
   char text[64];
   memset(text, 'a', sizeof text);
   uint64_t t0 = 1700000000000ull, day = 24ull * 3600 * 1000;
   for (uint32_t i = 0; i < 40; i++) {
      uint32_t len = i % 7 == 3 ? 0 : i % 13 + 1; /* odd lengths, some empty */
      uint16_t nr = i % 3 == 0 && len > 2 ? 2 : i % 3 == 1 && len ? 1 : 0;
      text[0] = (char)('A' + i % 26);
      uint64_t t = t0 + (i == 20 ? day : i == 21 ? 2 * day : i); /* gaps past 24 bits of ms */
      logstore_append(ls, text, len, runs, nr, i % 2 ? LINE_MARKER : 0, t);
   }
   logstore_add_flags(ls, 5, LINE_ERROR | LINE_GROUPED);
   rcu_read_lock();
   for (uint32_t i = 0; i < 40; i++) {
      LogLine l;
      cr_assert(logstore_get(ls, i, &l));
      uint32_t len = i % 7 == 3 ? 0 : i % 13 + 1;
      uint16_t nr = i % 3 == 0 && len > 2 ? 2 : i % 3 == 1 && len ? 1 : 0;
      cr_assert_eq(l.len, len, "line %u: len %u, not %u", i, l.len, len);
      if (len) cr_assert_eq(l.text[0], (char)('A' + i % 26), "line %u", i);
      cr_assert_eq(l.nruns, nr, "line %u", i);
      for (uint16_t k = 0; k < nr; k++) cr_assert_eq(l.runs[k].fg, runs[k].fg, "line %u", i);
      uint64_t t = t0 + (i == 20 ? day : i == 21 ? 2 * day : i);
      if (i > 21) t = t0 + i; /* earlier than its chunk's base: reads as the base */
      cr_assert_eq(l.time_ms, i > 21 ? 2 * day + t0 : t, "line %u", i);
      uint16_t flags = (i % 2 ? LINE_MARKER : 0) | (i == 5 ? LINE_ERROR | LINE_GROUPED : 0);
      cr_assert_eq(l.flags, flags, "line %u", i);
   }
   rcu_read_unlock();
   logstore_free(ls);
}

Test(logstore, memory_per_line) {
   LogStore* ls = logstore_new(NULL);
   char line[100];
   memset(line, 'x', sizeof line);
   for (int i = 0; i < 100000; i++) logstore_append(ls, line, 100, NULL, 0, 0, (uint64_t)i);
   cr_assert_eq(logstore_end(ls) - logstore_begin(ls), 100000);
   double ratio = (double)logstore_bytes(ls) / (100000.0 * 100.0);
   cr_log_info("bytes per 100-byte line: %.3fx", ratio);
   cr_assert_leq(ratio, 1.3, "ratio %.3f", ratio);
   logstore_free(ls);
}

/* ---------------------------------------------------------------- concurrency */

#define WRITER_LINES 2000000u

typedef struct Shared {
   LogStore* ls;
   atomic_bool done;
   atomic_ullong bad;
   atomic_ullong passes;
   atomic_ullong skips;
} Shared;

static void* writer_main(void* arg) {
   Shared* sh = arg;
   rcu_register_thread();
   char buf[64];
   for (uint64_t i = 0; i < WRITER_LINES; i++) {
      int k = snprintf(buf, sizeof buf, "line %" PRIu64, i);
      StyleRun r = run_at(0, COLOR_INDEX(i % 16), 0);
      logstore_append(sh->ls, buf, (uint32_t)k, &r, 1, 0, i);
      if (i % 1000 == 0) logstore_set_partial(sh->ls, buf, (uint32_t)k, NULL, 0, i);
      if (i % 7 == 0) logstore_add_flags(sh->ls, i, LINE_URL);
   }
   atomic_store(&sh->done, true);
   rcu_unregister_thread();
   return NULL;
}

static void* reader_main(void* arg) {
   Shared* sh = arg;
   rcu_register_thread();
   for (;;) {
      bool last = atomic_load(&sh->done); /* one more full pass after the writer finished */
      rcu_read_lock();
      LogIter it;
      LogLine l;
      uint64_t prev = 0;
      bool first = true;
      logiter_init(&it, sh->ls, 0);
      while (logiter_next(&it, &l)) {
         if (!line_is(&l, l.lineno) || (!first && l.lineno <= prev) || l.nruns != 1 ||
             l.runs[0].fg != COLOR_INDEX(l.lineno % 16) || l.time_ms != l.lineno)
            atomic_fetch_add(&sh->bad, 1);
         /* a reader slower than eviction skips ahead to the new begin: allowed, counted */
         if (!first && l.lineno != prev + 1) atomic_fetch_add(&sh->skips, 1);
         prev = l.lineno;
         first = false;
      }
      uint64_t e = logstore_end(sh->ls);
      if (e && logstore_get(sh->ls, e - 1, &l) && !line_is(&l, e - 1))
         atomic_fetch_add(&sh->bad, 1);
      if (logstore_partial(sh->ls, &l) && l.len == 0) atomic_fetch_add(&sh->bad, 1);
      rcu_read_unlock();
      atomic_fetch_add(&sh->passes, 1);
      if (last) break;
   }
   rcu_unregister_thread();
   return NULL;
}

Test(logstore, concurrent_readers, .timeout = 280) {
   Shared sh = {.ls = logstore_new(&(LogStoreConfig){.max_lines = 10000})};
   pthread_t w, r[3];
   for (int i = 0; i < 3; i++) pthread_create(&r[i], NULL, reader_main, &sh);
   pthread_create(&w, NULL, writer_main, &sh);
   pthread_join(w, NULL);
   for (int i = 0; i < 3; i++) pthread_join(r[i], NULL);
   cr_assert_eq(atomic_load(&sh.bad), 0);
   cr_assert_eq(logstore_end(sh.ls), WRITER_LINES);
   cr_assert_eq(logstore_evicted(sh.ls), logstore_begin(sh.ls));
   cr_log_info("reader passes: %llu, skips: %llu", (unsigned long long)atomic_load(&sh.passes),
               (unsigned long long)atomic_load(&sh.skips));
   rcu_barrier();
   logstore_free(sh.ls);
}
