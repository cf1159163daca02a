#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "core/lineidx.h"
#include "core/rcu.h"

static void setup(void) {
   rcu_register_thread();
}

static void teardown(void) {
   rcu_barrier(); /* run pending call_rcu frees so ASan sees no leaks */
   rcu_unregister_thread();
}

TestSuite(lineidx, .init = setup, .fini = teardown);

Test(lineidx, empty) {
   LineIdx* ix = lineidx_new(100);
   rcu_read_lock();
   uint64_t v, pos;
   cr_assert_eq(lineidx_begin(ix), 0);
   cr_assert_eq(lineidx_end(ix), 0);
   cr_assert_not(lineidx_get(ix, 0, &v));
   cr_assert_not(lineidx_find_le(ix, 5, &pos));
   rcu_read_unlock();
   lineidx_free(ix);
}

Test(lineidx, push_get) {
   LineIdx* ix = lineidx_new(1000000);
   for (uint64_t i = 0; i < 20000; i++) lineidx_push(ix, i * 7 + 1);
   rcu_read_lock();
   cr_assert_eq(lineidx_begin(ix), 0);
   cr_assert_eq(lineidx_end(ix), 20000);
   for (uint64_t i = 0; i < 20000; i++) {
      uint64_t v = 0;
      cr_assert(lineidx_get(ix, i, &v));
      cr_assert_eq(v, i * 7 + 1, "pos %lu", (unsigned long)i);
   }
   uint64_t v;
   cr_assert_not(lineidx_get(ix, 20000, &v));
   cr_assert_not(lineidx_get(ix, UINT64_MAX, &v));
   rcu_read_unlock();
   lineidx_free(ix);
}

Test(lineidx, lineref) {
   uint64_t r = LINEREF(513, 0x123456789abull);
   cr_assert_eq(LINEREF_PROC(r), 513);
   cr_assert_eq(LINEREF_LINE(r), 0x123456789abull);
}

Test(lineidx, eviction) {
   const uint64_t max = 10000, n = 200000;
   LineIdx* ix = lineidx_new(max);
   for (uint64_t i = 0; i < n; i++) {
      lineidx_push(ix, i);
      uint64_t b = lineidx_begin(ix);
      /* retains at least max (or everything), at most max + one chunk */
      cr_assert_geq(i + 1 - b, i + 1 < max ? i + 1 : max);
      cr_assert_leq(i + 1 - b, max + 8192);
   }
   rcu_read_lock();
   uint64_t b = lineidx_begin(ix), v;
   cr_assert_gt(b, 0);
   cr_assert_not(lineidx_get(ix, b - 1, &v));
   cr_assert_not(lineidx_get(ix, 0, &v));
   for (uint64_t p = b; p < n; p++) {
      cr_assert(lineidx_get(ix, p, &v));
      cr_assert_eq(v, p); /* positions keep their meaning across evictions */
   }
   rcu_read_unlock();
   lineidx_free(ix);
}

Test(lineidx, set_max) {
   LineIdx* ix = lineidx_new(1);
   lineidx_set_max(ix, 100000);
   for (uint64_t i = 0; i < 50000; i++) lineidx_push(ix, i);
   cr_assert_eq(lineidx_begin(ix), 0);
   lineidx_set_max(ix, 5000); /* shrinking evicts at once */
   rcu_read_lock();
   cr_assert_gt(lineidx_begin(ix), 0);
   cr_assert_geq(50000 - lineidx_begin(ix), 5000);
   rcu_read_unlock();
   lineidx_free(ix);
}

Test(lineidx, find_le) {
   LineIdx* ix = lineidx_new(1000000);
   /* values 10, 20, 30, ... at positions 0, 1, 2, ... */
   for (uint64_t i = 0; i < 30000; i++) lineidx_push(ix, (i + 1) * 10);
   rcu_read_lock();
   uint64_t pos;
   cr_assert_not(lineidx_find_le(ix, 0, &pos));
   cr_assert_not(lineidx_find_le(ix, 9, &pos));
   cr_assert(lineidx_find_le(ix, 10, &pos));
   cr_assert_eq(pos, 0);
   cr_assert(lineidx_find_le(ix, 19, &pos));
   cr_assert_eq(pos, 0);
   for (uint64_t v = 20; v < 300100; v += 37) {
      cr_assert(lineidx_find_le(ix, v, &pos));
      uint64_t want = v / 10 - 1;
      if (want > 29999) want = 29999;
      cr_assert_eq(pos, want, "v=%lu", (unsigned long)v);
   }
   cr_assert(lineidx_find_le(ix, UINT64_MAX, &pos));
   cr_assert_eq(pos, 29999);
   rcu_read_unlock();
   lineidx_free(ix);
}

Test(lineidx, find_le_after_eviction) {
   LineIdx* ix = lineidx_new(5000);
   for (uint64_t i = 0; i < 50000; i++) lineidx_push(ix, i * 2);
   rcu_read_lock();
   uint64_t b = lineidx_begin(ix), pos;
   cr_assert_not(lineidx_find_le(ix, b * 2 - 1, &pos)); /* below the first retained value */
   cr_assert(lineidx_find_le(ix, b * 2, &pos));
   cr_assert_eq(pos, b);
   cr_assert(lineidx_find_le(ix, 2 * 46000 + 1, &pos));
   cr_assert_eq(pos, 46000);
   rcu_read_unlock();
   lineidx_free(ix);
}

/* ---------------------------------------------------------------- one writer, three readers */

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
   while (!atomic_load(&sh->done)) {
      rcu_read_lock();
      uint64_t b = lineidx_begin(sh->ix), e = lineidx_end(sh->ix);
      if (e < last_end || b < last_begin) atomic_fetch_add(&sh->errors, 1);
      last_end = e;
      last_begin = b;
      for (int k = 0; k < 64 && e > b; k++) {
         seed = seed * 6364136223846793005ull + 1442695040888963407ull;
         uint64_t p = b + (seed >> 20) % (e - b), v;
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
      uint64_t v;
      if (e > b && lineidx_get(sh->ix, e - 1, &v) && v != (e - 1) * 3)
         atomic_fetch_add(&sh->errors, 1);
      rcu_read_unlock();
   }
   rcu_unregister_thread();
   return NULL;
}

Test(lineidx, concurrent_readers, .timeout = 120) {
   Shared sh = {.ix = lineidx_new(CONC_MAX)};
   atomic_init(&sh.done, false);
   atomic_init(&sh.errors, 0);
   atomic_init(&sh.checks, 0);
   pthread_t r[3];
   for (int i = 0; i < 3; i++) cr_assert_eq(pthread_create(&r[i], NULL, reader, &sh), 0);
   for (uint64_t i = 0; i < CONC_N; i++) lineidx_push(sh.ix, i * 3);
   atomic_store(&sh.done, true);
   for (int i = 0; i < 3; i++) pthread_join(r[i], NULL);
   cr_assert_eq(atomic_load(&sh.errors), 0);
   cr_assert_gt(atomic_load(&sh.checks), 0);
   rcu_read_lock();
   cr_assert_eq(lineidx_end(sh.ix), CONC_N);
   cr_assert_geq(CONC_N - lineidx_begin(sh.ix), CONC_MAX);
   rcu_read_unlock();
   rcu_barrier();
   lineidx_free(sh.ix);
}
