/* Log store under concurrency: one writer appending 2,000,000 lines with a small retention (so
 * chunks are evicted and reclaimed with call_rcu all the time), flags added after the fact and a
 * partial line, while three readers iterate and look lines up, checking content and order. */
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#include "core/logstore.h"
#include "tests/stress/stress.h"

#define WRITER_LINES 2000000u

typedef struct Shared {
   LogStore* ls;
   atomic_bool done;
   atomic_ullong bad, passes, skips, lookups;
} Shared;

static int line_text(uint64_t n, char* buf, size_t size) {
   return snprintf(buf, size, "line %" PRIu64, n);
}

static bool line_is(const LogLine* l, uint64_t n) {
   char buf[64];
   int k = line_text(n, buf, sizeof buf);
   return l->lineno == n && l->len == (uint32_t)k && memcmp(l->text, buf, (size_t)k) == 0;
}

static bool line_ok(const LogLine* l) {
   return line_is(l, l->lineno) && l->nruns == 1 && l->runs[0].start == 0 &&
          l->runs[0].fg == COLOR_INDEX(l->lineno % 16) && l->time_ms == l->lineno &&
          (l->flags & ~(uint16_t)LINE_URL) == 0;
}

static void* writer_main(void* arg) {
   Shared* sh = arg;
   rcu_register_thread();
   char buf[64];
   for (uint64_t i = 0; i < WRITER_LINES; i++) {
      int k = line_text(i, buf, sizeof buf);
      StyleRun r = {.start = 0, .fg = COLOR_INDEX(i % 16), .bg = COLOR_DEFAULT, .attr = 0};
      logstore_append(sh->ls, buf, (uint32_t)k, &r, 1, 0, i);
      if (i % 1000 == 0) logstore_set_partial(sh->ls, buf, (uint32_t)k, NULL, 0, i);
      if (i % 7 == 0) logstore_add_flags(sh->ls, i, LINE_URL);
   }
   atomic_store(&sh->done, true);
   rcu_unregister_thread();
   return NULL;
}

/* Sequential passes with the iterator, plus random lookups, one read section per pass. */
static void* reader_main(void* arg) {
   Shared* sh = arg;
   rcu_register_thread();
   uint64_t seed = (uint64_t)(uintptr_t)&seed;
   for (;;) {
      bool last = atomic_load(&sh->done); /* one more full pass after the writer finished */
      rcu_read_lock();
      LogIter it;
      LogLine l;
      uint64_t prev = 0;
      bool first = true;
      logiter_init(&it, sh->ls, 0);
      while (logiter_next(&it, &l)) {
         if (!line_ok(&l) || (!first && l.lineno <= prev)) atomic_fetch_add(&sh->bad, 1);
         /* a reader slower than eviction skips ahead to the new begin: allowed, counted */
         if (!first && l.lineno != prev + 1) atomic_fetch_add(&sh->skips, 1);
         prev = l.lineno;
         first = false;
      }
      uint64_t b = logstore_begin(sh->ls), e = logstore_end(sh->ls);
      if (e < b) atomic_fetch_add(&sh->bad, 1);
      for (int k = 0; k < 256 && e > b; k++) {
         uint64_t n = b + stress_rand(&seed) % (e - b);
         if (logstore_get(sh->ls, n, &l)) {
            if (!line_ok(&l) || l.lineno != n) atomic_fetch_add(&sh->bad, 1);
         } else if (n >= logstore_begin(sh->ls)) { /* below the end we saw and not evicted */
            atomic_fetch_add(&sh->bad, 1);
         }
         atomic_fetch_add(&sh->lookups, 1);
      }
      if (e && logstore_get(sh->ls, e - 1, &l) && !line_is(&l, e - 1))
         atomic_fetch_add(&sh->bad, 1);
      if (logstore_partial(sh->ls, &l) && (l.len == 0 || memcmp(l.text, "line ", 5) != 0))
         atomic_fetch_add(&sh->bad, 1);
      rcu_read_unlock();
      atomic_fetch_add(&sh->passes, 1);
      if (last) break;
   }
   rcu_unregister_thread();
   return NULL;
}

static int run_writer_readers(LogStoreConfig cfg) {
   int fails = 0;
   Shared sh = {.ls = logstore_new(&cfg)};
   pthread_t w, r[3];
   for (int i = 0; i < 3; i++) pthread_create(&r[i], NULL, reader_main, &sh);
   pthread_create(&w, NULL, writer_main, &sh);
   pthread_join(w, NULL);
   for (int i = 0; i < 3; i++) pthread_join(r[i], NULL);
   EXPECT(atomic_load(&sh.bad) == 0, "%llu bad lines", (unsigned long long)atomic_load(&sh.bad));
   rcu_read_lock();
   EXPECT(logstore_end(sh.ls) == WRITER_LINES, "end %" PRIu64, logstore_end(sh.ls));
   EXPECT(logstore_evicted(sh.ls) == logstore_begin(sh.ls), "evicted %" PRIu64 " begin %" PRIu64,
          logstore_evicted(sh.ls), logstore_begin(sh.ls));
   EXPECT(logstore_begin(sh.ls) > 0, "retention never evicted");
   rcu_read_unlock();
   printf("  reader passes %llu, skips %llu, lookups %llu\n",
          (unsigned long long)atomic_load(&sh.passes), (unsigned long long)atomic_load(&sh.skips),
          (unsigned long long)atomic_load(&sh.lookups));
   rcu_barrier(); /* the evicted chunks' call_rcu frees */
   logstore_free(sh.ls);
   return fails;
}

static int writer_readers_lines(void) {
   return run_writer_readers((LogStoreConfig){.max_lines = 10000});
}

static int writer_readers_bytes(void) {
   return run_writer_readers((LogStoreConfig){.max_lines = 1000000, .max_bytes = 512 * 1024});
}

int main(void) {
   static const StressCase cases[] = {
       {"logstore: writer + 3 readers, max_lines", writer_readers_lines},
       {"logstore: writer + 3 readers, max_bytes", writer_readers_bytes},
   };
   return stress_main(cases, ARRAY_LEN(cases));
}
