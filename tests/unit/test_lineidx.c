#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

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

/* ---------------------------------------------------------------- runs */

#define CHUNK 4096u /* core/lineidx.c's CHUNK_LEN: runs never cross a chunk */

/* Every position of ix against the model m[0..n): values, runs, what was evicted. */
static void check_model(const LineIdx* ix, const uint64_t* m, uint64_t n, uint64_t max) {
   rcu_read_lock();
   uint64_t b = lineidx_begin(ix), e = lineidx_end(ix), v, more;
   cr_assert_eq(e, n);
   cr_assert_eq(b % CHUNK, 0);
   cr_assert_leq(e - b, max + CHUNK, "kept %lu for max %lu", (unsigned long)(e - b),
                 (unsigned long)max);
   if (b) cr_assert_not(lineidx_get(ix, b - 1, &v));
   if (b) cr_assert_not(lineidx_get_run(ix, 0, &v, &more));
   uint64_t follow = 0;
   for (uint64_t p = e; p-- > b;) {
      /* the model's run length, computed backwards */
      follow = p + 1 < e && (p + 1) % CHUNK != 0 && m[p + 1] == m[p] + 1 ? follow + 1 : 0;
      cr_assert(lineidx_get(ix, p, &v));
      cr_assert_eq(v, m[p], "pos %lu: %lx, want %lx", (unsigned long)p, (unsigned long)v,
                   (unsigned long)m[p]);
      cr_assert(lineidx_get_run(ix, p, &v, &more));
      cr_assert_eq(v, m[p]);
      cr_assert_eq(more, follow, "pos %lu: %lu following, want %lu", (unsigned long)p,
                   (unsigned long)more, (unsigned long)follow);
   }
   rcu_read_unlock();
}

Test(lineidx, run_breaks) {
   LineIdx* ix = lineidx_new(1000);
   /* extended, equal, decreasing, jump, another process's line, that process going on */
   const uint64_t m[] = {5,   6,   7,   7, 6, 100, LINEREF(1, 101), LINEREF(1, 102),
                         102, 103, 104, 0, 1, 2,   LINEREF(0, 3),   UINT64_MAX,
                         0,   1}; /* UINT64_MAX + 1 wraps: still one run, values exact */
   const uint64_t n = sizeof m / sizeof m[0];
   for (uint64_t i = 0; i < n; i++) lineidx_push(ix, m[i]);
   check_model(ix, m, n, 1000);
   rcu_read_lock();
   uint64_t v, more;
   cr_assert(lineidx_get_run(ix, 0, &v, &more));
   cr_assert_eq(more, 2); /* 5 6 7 */
   cr_assert(lineidx_get_run(ix, 8, &v, &more));
   cr_assert_eq(more, 2); /* 102 103 104: after LINEREF(1, 102), not its successor */
   cr_assert(lineidx_get_run(ix, 11, &v, &more));
   cr_assert_eq(more, 3); /* 0 1 2 3 */
   cr_assert(lineidx_get_run(ix, 15, &v, &more));
   cr_assert_eq(more, 2); /* UINT64_MAX 0 1 */
   cr_assert_not(lineidx_get_run(ix, n, &v, &more));
   rcu_read_unlock();
   lineidx_free(ix);
}

/* One chunk with `runs` runs: the run form grows by steps and turns dense past its limit. */
static size_t one_chunk_mem(uint32_t runs) {
   LineIdx* ix = lineidx_new(100000);
   uint64_t m[CHUNK], v = 1000;
   for (uint32_t i = 0; i < CHUNK; i++) {
      /* a break at i * CHUNK / runs: runs as even as they come */
      bool brk = i && (uint64_t)i * runs / CHUNK != (uint64_t)(i - 1) * runs / CHUNK;
      if (i) v = brk ? v + 2 + i % 3 : v + 1;
      m[i] = v;
      lineidx_push(ix, m[i]);
      if (i == CHUNK / 2 || i == CHUNK - 1) check_model(ix, m, i + 1, 100000);
   }
   size_t bytes = lineidx_mem(ix);
   lineidx_free(ix);
   return bytes;
}

Test(lineidx, growth_and_dense) {
   size_t one = one_chunk_mem(1);
   cr_assert_lt(one, 512, "a chunk of one run costs %zu bytes", one);
   cr_assert_eq(one_chunk_mem(16), one); /* room for 16 runs from the start */
   size_t r64 = one_chunk_mem(17);
   cr_assert_gt(r64, one);
   cr_assert_eq(one_chunk_mem(64), r64);
   size_t r256 = one_chunk_mem(65);
   cr_assert_gt(r256, r64);
   cr_assert_eq(one_chunk_mem(256), r256);
   size_t r1024 = one_chunk_mem(257);
   cr_assert_gt(r1024, r256);
   cr_assert_eq(one_chunk_mem(1024), r1024);
   cr_assert_lt(r1024, CHUNK * 8); /* still smaller than the dense form */
   size_t dense = one_chunk_mem(1025);
   cr_assert_geq(dense, CHUNK * 8);
   cr_assert_lt(dense, CHUNK * 8 + 512);
   cr_assert_eq(one_chunk_mem(CHUNK), dense); /* every value its own run costs no more */
   cr_assert_eq(one_chunk_mem(2000), dense);
}

Test(lineidx, runs_cost_little) {
   /* one process flooding: a few bytes per chunk */
   LineIdx* ix = lineidx_new(100000);
   for (uint64_t i = 0; i < 1000000; i++) lineidx_push(ix, LINEREF(3, i));
   size_t bytes = lineidx_mem(ix);
   cr_assert_lt(bytes, 10000, "%zu bytes for 100,000+ entries", bytes);
   lineidx_free(ix);
   /* two processes taking turns line by line: dense, 8 bytes an entry as a plain array (the
    * newest chunk is allocated whole) */
   ix = lineidx_new(100000);
   for (uint64_t i = 0; i < 1000000; i++) lineidx_push(ix, LINEREF(i % 2, i / 2));
   rcu_read_lock();
   uint64_t kept = lineidx_end(ix) - lineidx_begin(ix);
   rcu_read_unlock();
   bytes = lineidx_mem(ix);
   cr_assert_geq(bytes, kept * 8);
   cr_assert_lt(bytes, (kept + CHUNK) * 8 + 4096, "%zu bytes for %lu entries", bytes,
                (unsigned long)kept);
   lineidx_free(ix);
}

/* Pushes n values (long runs, short runs and singletons that jump, repeat, go back or name
 * another process) into m and ix, changing the retention bound now and then and checking every
 * retained position against m. */
static void random_model(uint64_t seed, uint64_t n, uint64_t max) {
   LineIdx* ix = lineidx_new(max);
   uint64_t* m = malloc(n * sizeof *m);
   cr_assert_not_null(m);
   uint64_t v = LINEREF(1, 0), left = 0;
   for (uint64_t i = 0; i < n; i++) {
      seed = seed * 6364136223846793005ull + 1442695040888963407ull;
      uint64_t r = seed >> 33;
      if (left) {
         v++, left--;
      } else {
         switch (r % 6) {
         case 0:
            v += 2 + r % 1000;
            break; /* jump */
         case 1:
            break; /* the same value again */
         case 2:
            v -= 1 + r % 7;
            break; /* back */
         case 3:
            v = LINEREF(r % 5, r >> 8);
            break;
         default:
            left = r % 8 ? r % 40 : r % 9000;
            v++; /* a run, now and then a long one */
         }
      }
      m[i] = v;
      lineidx_push(ix, v);
      if (i % 25000 == 24999) {
         if (r % 3 == 0) {
            max = 1 + r % 60000;
            lineidx_set_max(ix, max);
         }
         check_model(ix, m, i + 1, max);
      }
   }
   check_model(ix, m, n, max);
   cr_assert_lt(lineidx_begin(ix), n); /* the newest chunk is never evicted */
   lineidx_free(ix);
   free(m);
}

Test(lineidx, random_against_model, .timeout = 120) {
   random_model(1, 300000, 20000);
   random_model(2, 300000, 100000);
   random_model(3, 200000, 1);
   random_model(4, 100000, 1000000); /* nothing evicted */
}

Test(lineidx, find_le_runs) {
   /* a match list: runs of consecutive lines with gaps, increasing */
   LineIdx* ix = lineidx_new(30000);
   uint64_t n = 200000, *m = malloc(n * sizeof *m), line = 7, seed = 99;
   cr_assert_not_null(m);
   for (uint64_t i = 0; i < n; i++) {
      seed = seed * 6364136223846793005ull + 1442695040888963407ull;
      line += (seed >> 40) % 5 == 0 ? 1 + (seed >> 20) % 50 : 1;
      m[i] = line;
      lineidx_push(ix, line);
   }
   rcu_read_lock();
   uint64_t b = lineidx_begin(ix), pos;
   cr_assert_gt(b, 0);
   cr_assert_not(lineidx_find_le(ix, m[b] - 1, &pos));
   for (uint64_t p = b; p < n; p++) {
      cr_assert(lineidx_find_le(ix, m[p], &pos));
      cr_assert_eq(pos, p);
      if (p + 1 < n && m[p + 1] > m[p] + 1) { /* in a gap: the match before it */
         cr_assert(lineidx_find_le(ix, m[p + 1] - 1, &pos));
         cr_assert_eq(pos, p);
      }
   }
   cr_assert(lineidx_find_le(ix, UINT64_MAX, &pos));
   cr_assert_eq(pos, n - 1);
   rcu_read_unlock();
   lineidx_free(ix);
   free(m);
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
