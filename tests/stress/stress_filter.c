/* The filter engine under concurrency: a writer thread appends to a log store with eviction, the
 * main thread replaces and clears the filter (filter_set / filter_set(NULL)) and pokes it, the
 * worker scans, and two reader threads read filter_state the way frames do, re-checking every
 * match they see against the pattern with their own scratch. At the end a last pattern must
 * catch up and agree with a naive scan. Find jobs run beside it the same way (find_under_load). */
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#include "core/filter.h"
#include "core/logstore.h"
#include "core/regex.h"
#include "tests/stress/stress.h"

static const char* const levels[] = {"INFO", "DEBUG", "WARN", "ERROR", "info", "Warn", "error"};
static const char* const pats[] = {"ERROR",      "warn",   "worker-3",      "done in 1\\d\\dms",
                                   "info|debug", "broken", "request \\d+7 "};

/* Line i of the synthetic log: mixed levels, a marker every 1000 lines, some invalid UTF-8. */
static int make_line(uint64_t i, char* buf, size_t size, uint16_t* flags) {
   *flags = 0;
   if (i % 1000 == 999) {
      *flags = LINE_MARKER;
      return snprintf(buf, size, "[brum] ERROR WARN marker %" PRIu64, i);
   }
   const char* lvl = levels[(i * 2654435761u >> 7) % ARRAY_LEN(levels)];
   if (i % 97 == 5)
      return snprintf(buf, size, "\xff\xfe%s \xc3 broken \xe2\x82 line %" PRIu64, lvl, i);
   return snprintf(buf, size, "12:00:%02u %s worker-%u: request %" PRIu64 " done in %ums",
                   (unsigned)(i % 60), lvl, (unsigned)(i % 8), i, (unsigned)(i % 977));
}

static Regex* compile(const char* pat) {
   Regex* re = NULL;
   char* cause = NULL;
   if (regex_compile(pat, &re, &cause) < 0) {
      fprintf(stderr, "%s: %s\n", pat, cause ? cause : "?");
      abort();
   }
   return re;
}

typedef struct Shared {
   LogStore* ls;
   Filter* f;
   atomic_bool stop_writer, stop_readers;
   atomic_ulong bad, frames, checked, wakes;
} Shared;

static void report_bad(Shared* sh, const char* what, uint64_t a, uint64_t b) {
   if (atomic_fetch_add(&sh->bad, 1) < 10)
      fprintf(stderr, "reader: %s (%" PRIu64 ", %" PRIu64 ")\n", what, a, b);
}

static void on_wake(void* ud) {
   atomic_fetch_add(&((Shared*)ud)->wakes, 1);
}

static void* writer(void* arg) {
   Shared* sh = arg;
   rcu_register_thread();
   char buf[256];
   for (uint64_t i = 0; !atomic_load(&sh->stop_writer); i++) {
      uint16_t flags;
      int k = make_line(i, buf, sizeof buf, &flags);
      if (i % 13 == 3 && !flags) flags = LINE_ERROR; /* for find jobs on flags */
      logstore_append(sh->ls, buf, (uint32_t)k, NULL, 0, flags, 1000 + i);
      if (i % 13 == 4) logstore_add_flags(sh->ls, i, LINE_WARNING); /* flagged after the fact */
      if (i % 4000 == 3999) stress_sleep_ms(1); /* bursts, so scans can catch up now and then */
   }
   rcu_unregister_thread();
   return NULL;
}

static void* frame_reader(void* arg) {
   Shared* sh = arg;
   rcu_register_thread();
   RegexScratch* sc = regex_scratch_new();
   uint64_t last_gen = 0;
   while (!atomic_load(&sh->stop_readers)) {
      rcu_read_lock();
      const FilterState* st = filter_state(sh->f);
      if (st) {
         if (st->gen < last_gen) report_bad(sh, "generation went back", st->gen, last_gen);
         last_gen = st->gen;
         uint64_t b = lineidx_begin(st->matches), e = lineidx_end(st->matches), prev = 0;
         for (uint64_t p = e > b + 200 ? e - 200 : b; p < e; p++) {
            uint64_t v;
            if (!lineidx_get(st->matches, p, &v)) continue; /* evicted meanwhile */
            if (v < prev) report_bad(sh, "matches out of order", v, prev);
            prev = v;
            LogLine l;
            if (logstore_get(sh->ls, v, &l)) { /* still retained: it must match */
               if ((l.flags & LINE_MARKER) || !regex_match(st->re, sc, l.text, l.len))
                  report_bad(sh, "a match that does not match", v, st->gen);
               atomic_fetch_add(&sh->checked, 1);
            }
         }
         /* caught_up first: its release store comes after the scan's start and progress */
         bool caught_up = atomic_load(&st->caught_up);
         uint64_t scanned = atomic_load(&st->scanned), start = atomic_load(&st->start);
         if (caught_up && scanned < start)
            report_bad(sh, "caught up before its start", scanned, start);
         if (st->source != 0 || !regex_pattern(st->re)) report_bad(sh, "source", st->source, 0);
      }
      rcu_read_unlock();
      atomic_fetch_add(&sh->frames, 1);
   }
   regex_scratch_free(sc);
   rcu_unregister_thread();
   return NULL;
}

static bool wait_caught_up(Filter* f, uint64_t gen, uint64_t end, long timeout_ms) {
   uint64_t deadline = util_mono_ns() + (uint64_t)timeout_ms * 1000000u;
   while (util_mono_ns() < deadline) {
      filter_poke(f);
      rcu_read_lock();
      const FilterState* st = filter_state(f);
      bool ok =
          st && st->gen == gen && atomic_load(&st->caught_up) && atomic_load(&st->scanned) >= end;
      rcu_read_unlock();
      if (ok) return true;
      stress_sleep_ms(2);
   }
   return false;
}

static int set_cancel_under_load(void) {
   int fails = 0;
   Shared sh = {.ls = logstore_new(&(LogStoreConfig){.max_lines = 10000})};
   EXPECT(filter_new_store(sh.ls, on_wake, &sh, &sh.f, NULL) == 0, "filter_new_store");
   if (!sh.f) return fails;
   pthread_t w, r[2];
   pthread_create(&w, NULL, writer, &sh);
   for (int i = 0; i < 2; i++) pthread_create(&r[i], NULL, frame_reader, &sh);
   uint64_t seed = 42;
   for (int round = 0; round < 300; round++) {
      uint64_t x = stress_rand(&seed);
      if (x % 6 == 0)
         filter_set(sh.f, NULL, 0); /* clear: the scan in progress is cancelled */
      else
         filter_set(sh.f, compile(pats[x % ARRAY_LEN(pats)]), 0);
      if (x % 3 == 0) filter_poke(sh.f);
      stress_sleep_ms((long)(x % 7));
   }
   /* the last pattern, on a store that stops growing */
   filter_set(sh.f, compile(pats[0]), 0);
   atomic_store(&sh.stop_writer, true);
   pthread_join(w, NULL);
   rcu_read_lock();
   uint64_t gen = filter_state(sh.f)->gen, end = logstore_end(sh.ls);
   rcu_read_unlock();
   EXPECT(wait_caught_up(sh.f, gen, end, 60000), "the last filter never caught up");
   atomic_store(&sh.stop_readers, true);
   for (int i = 0; i < 2; i++) pthread_join(r[i], NULL);

   /* agree with a naive scan of what is retained */
   RegexScratch* sc = regex_scratch_new();
   Regex* re = compile(pats[0]);
   rcu_read_lock();
   const FilterState* st = filter_state(sh.f);
   uint64_t me = lineidx_end(st->matches), mb = lineidx_begin(st->matches), want = 0;
   uint64_t* lines = xmalloc((end + 1) * sizeof *lines);
   for (uint64_t i = logstore_begin(sh.ls); i < end; i++) {
      LogLine l;
      if (logstore_get(sh.ls, i, &l) && !(l.flags & LINE_MARKER) &&
          regex_match(re, sc, l.text, l.len))
         lines[want++] = i;
   }
   /* every retained matching line, in order, at the tail (older matches may remain) */
   EXPECT(me - mb >= want, "%" PRIu64 " matches retained, want at least %" PRIu64, me - mb, want);
   for (uint64_t k = 0; k < want && me - mb >= want; k++) {
      uint64_t v = UINT64_MAX;
      bool ok = lineidx_get(st->matches, me - want + k, &v) && v == lines[k];
      EXPECT(ok, "match %" PRIu64 " of the tail: line %" PRIu64 ", want %" PRIu64, k, v, lines[k]);
      if (!ok) break;
   }
   free(lines);
   rcu_read_unlock();
   regex_free(re);
   regex_scratch_free(sc);

   EXPECT(atomic_load(&sh.bad) == 0, "%lu bad observations", atomic_load(&sh.bad));
   EXPECT(atomic_load(&sh.frames) > 0, "the readers never ran");
   EXPECT(logstore_begin(sh.ls) > 0, "retention never evicted");
   printf("  lines written %" PRIu64 ", frames %lu, matches re-checked %lu, wakes %lu\n", end,
          atomic_load(&sh.frames), atomic_load(&sh.checked), atomic_load(&sh.wakes));
   filter_free(sh.f);
   rcu_barrier();
   EXPECT(filter_live_states() == 0, "%zu filter states never reclaimed", filter_live_states());
   logstore_free(sh.ls);
   return fails;
}

/* filter_free while a slow scan is under way and readers are gone: the worker stops promptly. */
static int free_during_slow_scan(void) {
   int fails = 0;
   LogStore* ls = logstore_new(&(LogStoreConfig){.max_lines = 200000});
   char buf[128];
   for (int i = 0; i < 100000; i++) {
      int k = snprintf(buf, sizeof buf, "INFO aaaaaaaaaaaaaaaaaaaaaaaaaaaaa! %d", i);
      logstore_append(ls, buf, (uint32_t)k, NULL, 0, 0, 1);
   }
   Filter* f = NULL;
   EXPECT(filter_new_store(ls, NULL, NULL, &f, NULL) == 0, "filter_new_store");
   filter_set(f, compile("(\\w+\\s?)*!$|(a|aa)+$"), 0);
   stress_sleep_ms(50);
   uint64_t t0 = util_mono_ns();
   filter_free(f);
   double ms = (double)(util_mono_ns() - t0) / 1e6;
   EXPECT(ms < 5000.0, "filter_free took %.0f ms", ms);
   rcu_barrier();
   EXPECT(filter_live_states() == 0, "%zu filter states never reclaimed", filter_live_states());
   logstore_free(ls);
   return fails;
}

/* ---------------------------------------------------------------- find jobs */

/* A reader that checks every finished find job it sees: a hit lies on the job's side of its
 * start, and (while still retained) is a non-marker line with the job's flags and pattern. */
static void check_find(Shared* sh, RegexScratch* sc, const FindState* fs) {
   bool done = atomic_load(&fs->done); /* first: found and pos are final once it is set */
   uint64_t scanned = atomic_load(&fs->scanned), total = atomic_load(&fs->total);
   if (scanned > total) report_bad(sh, "find: scanned past its total", scanned, total);
   if (!done || !atomic_load(&fs->found)) return;
   const FindJob* job = &fs->job;
   uint64_t pos = atomic_load(&fs->pos), line = pos;
   uint64_t first = job->inclusive ? job->from : job->from + (job->dir > 0 ? 1 : -1);
   if (job->dir > 0 ? pos < first : pos > first)
      report_bad(sh, "find: hit behind its start", pos, job->from);
   if (job->filter_gen) { /* a position in the filter's matches: resolve while it is published */
      const FilterState* st = filter_state(sh->f);
      if (!st || st->gen != job->filter_gen || !lineidx_get(st->matches, pos, &line)) return;
      LogLine l;
      if (logstore_get(sh->ls, line, &l) && !regex_match(st->re, sc, l.text, l.len))
         report_bad(sh, "find: a hit the filter does not show", line, st->gen);
   }
   LogLine l;
   if (!logstore_get(sh->ls, line, &l)) return; /* evicted meanwhile */
   if (l.flags & LINE_MARKER) report_bad(sh, "find: a marker line", line, fs->gen);
   if (job->flags && !(l.flags & job->flags)) report_bad(sh, "find: flags", line, l.flags);
   if (job->re && !regex_match(job->re, sc, l.text, l.len))
      report_bad(sh, "find: a hit that does not match", line, fs->gen);
   atomic_fetch_add(&sh->checked, 1);
}

static void* find_reader(void* arg) {
   Shared* sh = arg;
   rcu_register_thread();
   RegexScratch* sc = regex_scratch_new();
   uint64_t last_gen = 0;
   while (!atomic_load(&sh->stop_readers)) {
      rcu_read_lock();
      const FindState* fs = filter_find_state(sh->f);
      if (fs) {
         if (fs->gen < last_gen) report_bad(sh, "find: generation went back", fs->gen, last_gen);
         last_gen = fs->gen;
         check_find(sh, sc, fs);
      }
      rcu_read_unlock();
      atomic_fetch_add(&sh->frames, 1);
   }
   regex_scratch_free(sc);
   rcu_unregister_thread();
   return NULL;
}

/* Waits for find job `gen` to finish; false on timeout. */
static bool wait_find(Filter* f, uint64_t gen, long timeout_ms, bool* found, uint64_t* pos) {
   uint64_t deadline = util_mono_ns() + (uint64_t)timeout_ms * 1000000u;
   while (util_mono_ns() < deadline) {
      rcu_read_lock();
      const FindState* fs = filter_find_state(f);
      bool done = fs && fs->gen == gen && atomic_load(&fs->done);
      if (done) {
         *found = atomic_load(&fs->found);
         *pos = atomic_load(&fs->pos);
      }
      rcu_read_unlock();
      if (done) return true;
      stress_sleep_ms(1);
   }
   return false;
}

/* Find jobs replaced, cancelled and finished while a writer evicts, the filter changes (some jobs
 * search its matches) and readers check every result they see; at the end, on a store that
 * stopped growing, finds in both directions agree with a naive walk. */
static int find_under_load(void) {
   int fails = 0;
   Shared sh = {.ls = logstore_new(&(LogStoreConfig){.max_lines = 10000})};
   EXPECT(filter_new_store(sh.ls, on_wake, &sh, &sh.f, NULL) == 0, "filter_new_store");
   if (!sh.f) return fails;
   pthread_t w, r[3];
   pthread_create(&w, NULL, writer, &sh);
   for (int i = 0; i < 2; i++) pthread_create(&r[i], NULL, find_reader, &sh);
   pthread_create(&r[2], NULL, frame_reader, &sh);
   uint64_t seed = 7, filter_gen = 0, finished = 0;
   for (int round = 0; round < 400; round++) {
      uint64_t x = stress_rand(&seed);
      if (x % 10 == 0) {
         filter_set(sh.f, compile(pats[x % ARRAY_LEN(pats)]), 0);
         rcu_read_lock();
         filter_gen = filter_state(sh.f)->gen;
         rcu_read_unlock();
      }
      rcu_read_lock();
      uint64_t b = logstore_begin(sh.ls), e = logstore_end(sh.ls);
      rcu_read_unlock();
      FindJob job = {.source = 0,
                     .from = b + (e > b ? (x >> 8) % (e - b + 2000) : 0), /* some past the end */
                     .inclusive = x & 1,
                     .dir = x & 2 ? +1 : -1,
                     .flags = x % 5 == 0   ? LINE_ERROR
                              : x % 5 == 1 ? LINE_WARNING
                                           : 0};
      if (x % 5 != 0) job.re = compile(pats[(x >> 4) % ARRAY_LEN(pats)]);
      if (x % 4 == 0 && filter_gen) { /* a filtered pane: positions in the matches */
         job.filter_gen = filter_gen;
         job.from = (x >> 8) % 3000;
      }
      if (x % 17 == 0) job.source = 5; /* no such process */
      uint64_t gen = filter_find(sh.f, &job);
      if (x % 11 == 0) filter_find_cancel(sh.f);
      if (x % 3 == 0) { /* let some finish */
         bool found;
         uint64_t pos;
         if (x % 11 != 0 && wait_find(sh.f, gen, 60000, &found, &pos)) finished++;
      }
      if (x % 7 == 0) filter_poke(sh.f);
      stress_sleep_ms((long)(x % 3));
   }
   atomic_store(&sh.stop_writer, true);
   pthread_join(w, NULL);

   /* a stopped store: finds from several places agree with a naive walk */
   RegexScratch* sc = regex_scratch_new();
   Regex* re = compile(pats[2]);
   rcu_read_lock();
   uint64_t b = logstore_begin(sh.ls), e = logstore_end(sh.ls);
   rcu_read_unlock();
   for (int k = 0; k < 20 && e > b; k++) {
      int dir = k % 2 ? +1 : -1;
      uint64_t from = b + (e - b) * (uint64_t)k / 20;
      uint64_t gen = filter_find(
          sh.f, &(FindJob){.from = from, .inclusive = true, .dir = dir, .re = compile(pats[2])});
      bool found = false;
      uint64_t pos = 0, want = UINT64_MAX;
      EXPECT(wait_find(sh.f, gen, 60000, &found, &pos), "find %" PRIu64 " never finished", gen);
      rcu_read_lock();
      for (int64_t i = (int64_t)from; i >= (int64_t)b && i < (int64_t)e; i += dir) {
         LogLine l;
         if (logstore_get(sh.ls, (uint64_t)i, &l) && !(l.flags & LINE_MARKER) &&
             regex_match(re, sc, l.text, l.len)) {
            want = (uint64_t)i;
            break;
         }
      }
      rcu_read_unlock();
      EXPECT(found == (want != UINT64_MAX) && (!found || pos == want),
             "from %" PRIu64 " dir %d: found %d at %" PRIu64 ", want %" PRIu64, from, dir, found,
             pos, want);
   }
   regex_free(re);
   regex_scratch_free(sc);
   atomic_store(&sh.stop_readers, true);
   for (int i = 0; i < 3; i++) pthread_join(r[i], NULL);

   EXPECT(atomic_load(&sh.bad) == 0, "%lu bad observations", atomic_load(&sh.bad));
   EXPECT(finished > 0, "no find job finished while the writer ran");
   EXPECT(atomic_load(&sh.checked) > 0, "no hit was ever checked");
   EXPECT(logstore_begin(sh.ls) > 0, "retention never evicted");
   printf("  lines written %" PRIu64 ", finds finished under load %" PRIu64
          ", frames %lu, hits checked %lu, wakes %lu\n",
          e, finished, atomic_load(&sh.frames), atomic_load(&sh.checked), atomic_load(&sh.wakes));
   filter_free(sh.f);
   rcu_barrier();
   EXPECT(filter_live_finds() == 0, "%zu find states never reclaimed", filter_live_finds());
   EXPECT(filter_live_states() == 0, "%zu filter states never reclaimed", filter_live_states());
   logstore_free(sh.ls);
   return fails;
}

/* filter_free while a slow find runs: the worker stops promptly and the job is reclaimed. */
static int free_during_slow_find(void) {
   int fails = 0;
   LogStore* ls = logstore_new(&(LogStoreConfig){.max_lines = 200000});
   char buf[128];
   for (int i = 0; i < 100000; i++) {
      int k = snprintf(buf, sizeof buf, "INFO aaaaaaaaaaaaaaaaaaaaaaaaaaaaa! %d", i);
      logstore_append(ls, buf, (uint32_t)k, NULL, 0, 0, 1);
   }
   Filter* f;
   EXPECT(filter_new_store(ls, NULL, NULL, &f, NULL) == 0, "filter_new_store");
   filter_find(f, &(FindJob){.from = 99999, .dir = -1, .re = compile("(\\w+\\s?)*!$|(a|aa)+$")});
   stress_sleep_ms(50);
   uint64_t t0 = util_mono_ns();
   filter_free(f);
   double ms = (double)(util_mono_ns() - t0) / 1e6;
   EXPECT(ms < 5000.0, "filter_free took %.0f ms", ms);
   rcu_barrier();
   EXPECT(filter_live_finds() == 0, "%zu find states never reclaimed", filter_live_finds());
   logstore_free(ls);
   return fails;
}

int main(void) {
   static const StressCase cases[] = {
       {"filter: set/clear under a writer + 2 readers", set_cancel_under_load},
       {"filter: free during a slow scan", free_during_slow_scan},
       {"filter: find jobs under a writer + 3 readers", find_under_load},
       {"filter: free during a slow find", free_during_slow_find},
   };
   return stress_main(cases, ARRAY_LEN(cases));
}
