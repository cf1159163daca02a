/* Line index under concurrency: one writer pushing 1,500,000 values with a small retention (and
 * changing the retention bound on the way, as a filter's match list does), while three readers
 * look positions up, binary-search values and check that begin/end only move forward. The second
 * case pushes runs of many lengths, so chunks grow, turn dense and are evicted under the readers,
 * who walk every position they can see. */
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>

#include "core/lineidx.h"
#include "tests/stress/stress.h"

#define CONC_N 1500000u
#define CONC_MAX 20000u

typedef struct Shared {
   LineIdx* ix;
   atomic_bool done;
   atomic_ulong errors, checks;
} Shared;

static void* reader(void* arg) {
   Shared* sh = arg;
   rcu_register_thread();
   uint64_t last_end = 0, last_begin = 0, seed = (uint64_t)(uintptr_t)&seed;
   for (;;) {
      bool last = atomic_load(&sh->done);
      rcu_read_lock();
      uint64_t b = lineidx_begin(sh->ix), e = lineidx_end(sh->ix);
      if (e < last_end || b < last_begin || e < b) atomic_fetch_add(&sh->errors, 1);
      last_end = e;
      last_begin = b;
      for (int k = 0; k < 64 && e > b; k++) {
         uint64_t p = b + stress_rand(&seed) % (e - b), v;
         /* a position below the end we saw is readable unless evicted meanwhile */
         if (lineidx_get(sh->ix, p, &v)) {
            if (v != p * 3) atomic_fetch_add(&sh->errors, 1);
         } else if (p >= lineidx_begin(sh->ix)) {
            atomic_fetch_add(&sh->errors, 1);
         }
         uint64_t pos;
         if (lineidx_find_le(sh->ix, p * 3 + 1, &pos) && pos != p && pos >= lineidx_begin(sh->ix))
            atomic_fetch_add(&sh->errors, 1);
         atomic_fetch_add(&sh->checks, 1);
      }
      /* a short sequential walk near the end, as a frame does */
      uint64_t prev = 0;
      for (uint64_t p = e > b + 100 ? e - 100 : b; p < e; p++) {
         uint64_t v;
         if (lineidx_get(sh->ix, p, &v)) {
            if (v < prev || v != p * 3) atomic_fetch_add(&sh->errors, 1);
            prev = v;
         }
      }
      rcu_read_unlock();
      if (last) break;
   }
   rcu_unregister_thread();
   return NULL;
}

/* Three readers run `read_fn` while one writer pushes value(0..CONC_N) into a fresh index (its
 * retention shrunk a third of the way, which evicts at once, and restored at two thirds); then
 * the readers' verdict and the end are checked. The caller checks more, then calls finish. */
static int drive(Shared* sh, void* (*read_fn)(void*), uint64_t (*value)(uint64_t)) {
   int fails = 0;
   sh->ix = lineidx_new(CONC_MAX);
   atomic_init(&sh->done, false);
   atomic_init(&sh->errors, 0);
   atomic_init(&sh->checks, 0);
   pthread_t r[3];
   for (int i = 0; i < 3; i++) EXPECT(pthread_create(&r[i], NULL, read_fn, sh) == 0, "create");
   for (uint64_t i = 0; i < CONC_N; i++) {
      lineidx_push(sh->ix, value(i));
      if (i == CONC_N / 3) lineidx_set_max(sh->ix, CONC_MAX / 4);
      if (i == 2 * CONC_N / 3) lineidx_set_max(sh->ix, CONC_MAX);
   }
   atomic_store(&sh->done, true);
   for (int i = 0; i < 3; i++) pthread_join(r[i], NULL);
   EXPECT(atomic_load(&sh->errors) == 0, "%lu errors", atomic_load(&sh->errors));
   EXPECT(atomic_load(&sh->checks) > 0, "no checks ran");
   rcu_read_lock();
   EXPECT(lineidx_end(sh->ix) == CONC_N, "end %" PRIu64, lineidx_end(sh->ix));
   rcu_read_unlock();
   return fails;
}

static void finish(Shared* sh, const char* what) {
   printf("  %s %lu\n", what, atomic_load(&sh->checks));
   rcu_barrier();
   lineidx_free(sh->ix);
}

static uint64_t triple(uint64_t pos) {
   return pos * 3;
}

static int writer_readers(void) {
   Shared sh = {0};
   int fails = drive(&sh, reader, triple);
   rcu_read_lock();
   EXPECT(CONC_N - lineidx_begin(sh.ix) >= CONC_MAX, "retained %" PRIu64,
          CONC_N - lineidx_begin(sh.ix));
   rcu_read_unlock();
   finish(&sh, "reader checks");
   return fails;
}

/* ---------------------------------------------------------------- runs */

/* The value pushed at pos: phases of 65536 positions (16 chunks), each with runs of one length
 * starting at the phase's start, so a chunk holds 1 run, 14 (fits the first 16), 111, 512, 1366
 * or 2048 (turns dense half-way) or 4096. Strictly increasing (find_le works), value + 1 inside a
 * run, a jump between runs. */
static uint64_t gen(uint64_t pos) {
   static const uint64_t lens[] = {1u << 20, 1, 3, 8, 37, 300, 2};
   uint64_t phase = pos >> 16, len = lens[phase % ARRAY_LEN(lens)];
   return 2 * pos - (pos - (phase << 16)) % len;
}

/* Walks every position in [begin, end) run by run, checking each value against gen and that a
 * run claims no position that does not go on as value + 1, nor stops short inside a chunk. */
static void walk_runs(Shared* sh, uint64_t b, uint64_t e) {
   for (uint64_t p = b; p < e;) {
      uint64_t v, more;
      if (!lineidx_get_run(sh->ix, p, &v, &more)) {
         uint64_t nb = lineidx_begin(sh->ix);
         if (p >= nb) atomic_fetch_add(&sh->errors, 1); /* below the end and not evicted */
         p = nb > p ? nb : p + 1;
         continue;
      }
      if (v != gen(p) || gen(p + more) != v + more) atomic_fetch_add(&sh->errors, 1);
      uint64_t next = p + more + 1; /* the first position not in the run */
      if (next < e && next % 4096 != 0 && gen(next) == v + more + 1)
         atomic_fetch_add(&sh->errors, 1);
      atomic_fetch_add_explicit(&sh->checks, 1, memory_order_relaxed);
      p = next;
   }
}

static void* run_reader(void* arg) {
   Shared* sh = arg;
   rcu_register_thread();
   uint64_t seed = (uint64_t)(uintptr_t)&seed;
   for (;;) {
      bool last = atomic_load(&sh->done);
      rcu_read_lock();
      uint64_t b = lineidx_begin(sh->ix), e = lineidx_end(sh->ix);
      walk_runs(sh, b, e);
      for (int k = 0; k < 64 && e > b; k++) {
         uint64_t p = b + stress_rand(&seed) % (e - b), v, pos;
         if (lineidx_get(sh->ix, p, &v) ? v != gen(p) : p >= lineidx_begin(sh->ix))
            atomic_fetch_add(&sh->errors, 1);
         if (lineidx_find_le(sh->ix, gen(p), &pos) && pos != p && pos >= lineidx_begin(sh->ix))
            atomic_fetch_add(&sh->errors, 1);
      }
      rcu_read_unlock();
      if (last) break;
   }
   rcu_unregister_thread();
   return NULL;
}

static int writer_run_readers(void) {
   Shared sh = {0};
   int fails = drive(&sh, run_reader, gen);
   rcu_read_lock();
   for (uint64_t p = lineidx_begin(sh.ix), v; p < CONC_N; p++)
      EXPECT(lineidx_get(sh.ix, p, &v) && v == gen(p), "pos %" PRIu64, p);
   rcu_read_unlock();
   finish(&sh, "runs checked");
   return fails;
}

int main(void) {
   static const StressCase cases[] = {
       {"lineidx: writer + 3 readers", writer_readers},
       {"lineidx: runs of every length, readers walk them", writer_run_readers},
   };
   return stress_main(cases, ARRAY_LEN(cases));
}
