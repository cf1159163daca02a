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

/* Headless: a keep_unconsumed store whose writer waits while it is backlogged (the supervisor's
 * pause) and one consumer that takes bounded batches in short read sections: every line once,
 * in order, and the store within its limits plus what the writer added past the threshold. */
typedef struct Backlog {
   LogStore* ls;
   uint64_t lines;
   atomic_bool done;
   atomic_ullong bad, taken, waits, max_bytes_seen;
} Backlog;

static void* backlog_writer(void* arg) {
   Backlog* b = arg;
   rcu_register_thread();
   char buf[200];
   uint64_t seed = 7;
   for (uint64_t i = 0; i < b->lines; i++) {
      while (logstore_backlogged(b->ls)) { /* paused: the consumer wakes it by consuming */
         atomic_fetch_add(&b->waits, 1);
         stress_sleep_ms(0);
      }
      int k = line_text(i, buf, sizeof buf);
      uint32_t len = (uint32_t)k + (uint32_t)(stress_rand(&seed) % 120); /* lengths vary */
      memset(buf + k, 'x', len - (uint32_t)k);
      StyleRun r = {.start = 0, .fg = COLOR_INDEX(i % 16), .bg = COLOR_DEFAULT, .attr = 0};
      logstore_append(b->ls, buf, len, &r, 1, 0, i);
      uint64_t bytes = logstore_bytes(b->ls);
      if (bytes > atomic_load(&b->max_bytes_seen)) atomic_store(&b->max_bytes_seen, bytes);
   }
   atomic_store(&b->done, true);
   rcu_unregister_thread();
   return NULL;
}

static void* backlog_consumer(void* arg) {
   Backlog* b = arg;
   rcu_register_thread();
   uint64_t next = 0;
   for (;;) {
      bool last = atomic_load(&b->done);
      uint64_t took = 0;
      rcu_read_lock();
      LogIter it;
      LogLine l;
      logiter_init(&it, b->ls, next);
      while (took < 500 && logiter_next(&it, &l)) { /* a bounded batch per read section */
         char want[64];
         int k = line_text(next, want, sizeof want);
         if (l.lineno != next || l.len < (uint32_t)k || memcmp(l.text, want, (size_t)k) != 0)
            atomic_fetch_add(&b->bad, 1);
         next = l.lineno + 1;
         took++;
      }
      rcu_read_unlock();
      logstore_consume(b->ls, next); /* outside the section, like the headless printer */
      atomic_fetch_add(&b->taken, took);
      if (last && !took) break;
      if (!took) stress_sleep_ms(0);
   }
   rcu_unregister_thread();
   return NULL;
}

static int run_backlog(LogStoreConfig cfg, uint64_t lines) {
   int fails = 0;
   cfg.keep_unconsumed = true;
   Backlog b = {.ls = logstore_new(&cfg), .lines = lines};
   pthread_t w, c;
   pthread_create(&c, NULL, backlog_consumer, &b);
   pthread_create(&w, NULL, backlog_writer, &b);
   pthread_join(w, NULL);
   pthread_join(c, NULL);
   EXPECT(atomic_load(&b.bad) == 0, "%llu lines missing or out of order",
          (unsigned long long)atomic_load(&b.bad));
   EXPECT(atomic_load(&b.taken) == lines, "took %llu", (unsigned long long)atomic_load(&b.taken));
   /* half the budget unconsumed, the rest printed lines kept by retention, plus one chunk */
   uint64_t bound = cfg.max_bytes + 256 * 1024 + 1024;
   EXPECT(atomic_load(&b.max_bytes_seen) <= bound, "store grew to %llu bytes (bound %llu)",
          (unsigned long long)atomic_load(&b.max_bytes_seen), (unsigned long long)bound);
   printf("  writer waits %llu, peak store bytes %llu\n", (unsigned long long)atomic_load(&b.waits),
          (unsigned long long)atomic_load(&b.max_bytes_seen));
   rcu_barrier();
   logstore_free(b.ls);
   return fails;
}

static int backlog_one_line(void) {
   return run_backlog((LogStoreConfig){.max_lines = 1, .max_bytes = 1u << 20},
                      20000); /* lockstep */
}

static int backlog_bytes(void) {
   return run_backlog((LogStoreConfig){.max_lines = 1000000, .max_bytes = 256 * 1024}, 100000);
}

int main(void) {
   static const StressCase cases[] = {
       {"logstore: writer + 3 readers, max_lines", writer_readers_lines},
       {"logstore: writer + 3 readers, max_bytes", writer_readers_bytes},
       {"logstore: paused writer + consumer, 1 line", backlog_one_line},
       {"logstore: paused writer + consumer, bytes", backlog_bytes},
   };
   return stress_main(cases, ARRAY_LEN(cases));
}
