/* brum-bench: the micro-benchmarks (see bench.h and bench/README.md).
 *
 * usage: brum-bench [--benchtime 0.5s|100ms|200x] [--count 5] [--filter REGEX] [--json FILE]
 *                   [--lines N] [--list] [--store-memory N] */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/bench.h"
#include "core/rcu.h"

/* ------------------------------------------------------------------ allocation counting */

static _Thread_local uint64_t tls_allocs, tls_bytes;

void* __wrap_malloc(size_t n) {
   tls_allocs++;
   tls_bytes += n;
   return __real_malloc(n);
}
void* __wrap_calloc(size_t n, size_t size) {
   tls_allocs++;
   tls_bytes += n * size;
   return __real_calloc(n, size);
}
void* __wrap_realloc(void* p, size_t n) {
   tls_allocs++;
   tls_bytes += n;
   return __real_realloc(p, n);
}
void __wrap_free(void* p) {
   __real_free(p);
}
uint64_t bench_thread_allocs(void) {
   return tls_allocs;
}
uint64_t bench_thread_bytes(void) {
   return tls_bytes;
}

/* ------------------------------------------------------------------ helpers */

uint64_t bench_now_ns(void) {
   struct timespec ts;
   clock_gettime(CLOCK_MONOTONIC, &ts);
   return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static _Atomic uint64_t sink;
void bench_sink(uint64_t v) {
   atomic_fetch_add_explicit(&sink, v, memory_order_relaxed);
}

/* ------------------------------------------------------------------ timer */

void b_reset_timer(B* b) {
   b->elapsed_ns = 0;
   atomic_store(&b->allocs, 0);
   atomic_store(&b->bytes, 0);
   b->start_allocs = tls_allocs;
   b->start_bytes = tls_bytes;
   if (b->timing) b->start_ns = bench_now_ns();
}

void b_stop_timer(B* b) {
   if (!b->timing) return;
   b->elapsed_ns += bench_now_ns() - b->start_ns;
   atomic_fetch_add(&b->allocs, tls_allocs - b->start_allocs);
   atomic_fetch_add(&b->bytes, tls_bytes - b->start_bytes);
   b->timing = false;
}

void b_start_timer(B* b) {
   if (b->timing) return;
   b->start_allocs = tls_allocs;
   b->start_bytes = tls_bytes;
   b->start_ns = bench_now_ns();
   b->timing = true;
}

void b_set_bytes(B* b, uint64_t bytes_per_op) {
   b->bytes_per_op = bytes_per_op;
}

void b_metric(B* b, double value, const char* unit) {
   for (int i = 0; i < b->nmetrics; i++) {
      if (strcmp(b->metrics[i].unit, unit) == 0) {
         b->metrics[i].value = value;
         return;
      }
   }
   if (b->nmetrics < BENCH_MAX_METRICS) b->metrics[b->nmetrics++] = (BenchMetric){value, unit};
}

/* ------------------------------------------------------------------ parallel runs */

typedef struct ParCtx {
   B* b;
   BenchParFn fn;
   void* arg;
   int threads;
   pthread_barrier_t start, done;
} ParCtx;

typedef struct ParThread {
   ParCtx* ctx;
   int tid;
   pthread_t th;
} ParThread;

static void* par_main(void* p) {
   ParThread* t = p;
   ParCtx* c = t->ctx;
   rcu_register_thread();
   uint64_t n =
       c->b->n / (uint64_t)c->threads + ((uint64_t)t->tid < c->b->n % (uint64_t)c->threads);
   pthread_barrier_wait(&c->start);
   uint64_t a0 = tls_allocs, y0 = tls_bytes;
   c->fn(c->arg, t->tid, n);
   atomic_fetch_add(&c->b->allocs, tls_allocs - a0);
   atomic_fetch_add(&c->b->bytes, tls_bytes - y0);
   pthread_barrier_wait(&c->done);
   rcu_unregister_thread();
   return NULL;
}

void b_run_parallel(B* b, int threads, BenchParFn fn, void* arg) {
   ParCtx c = {.b = b, .fn = fn, .arg = arg, .threads = threads};
   ParThread* ts = calloc((size_t)threads, sizeof *ts);
   pthread_barrier_init(&c.start, NULL, (unsigned)threads + 1);
   pthread_barrier_init(&c.done, NULL, (unsigned)threads + 1);
   for (int i = 0; i < threads; i++) {
      ts[i] = (ParThread){.ctx = &c, .tid = i};
      if (pthread_create(&ts[i].th, NULL, par_main, &ts[i]) != 0) abort();
   }
   /* only the parallel section counts: drop what the caller's set-up did */
   b->timing = false;
   b->elapsed_ns = 0;
   atomic_store(&b->allocs, 0);
   atomic_store(&b->bytes, 0);
   pthread_barrier_wait(&c.start);
   uint64_t t0 = bench_now_ns();
   pthread_barrier_wait(&c.done);
   b->elapsed_ns += bench_now_ns() - t0;
   for (int i = 0; i < threads; i++) pthread_join(ts[i].th, NULL);
   pthread_barrier_destroy(&c.start);
   pthread_barrier_destroy(&c.done);
   free(ts);
}

/* ------------------------------------------------------------------ registry of benchmarks */

typedef struct Bench {
   char* name;
   int threads;
   BenchRun run;
   const void* param;
} Bench;

static Bench* benches;
static size_t nbenches, capbenches;

void bench_add(const char* name, int threads, BenchRun run, const void* param) {
   if (nbenches == capbenches) {
      capbenches = capbenches ? capbenches * 2 : 64;
      benches = realloc(benches, capbenches * sizeof *benches);
      if (!benches) abort();
   }
   size_t len = strlen(name) + 32;
   char* full = malloc(len);
   if (!full) abort();
   snprintf(full, len, "Benchmark%s-%d", name, threads);
   benches[nbenches++] = (Bench){full, threads, run, param};
}

/* ------------------------------------------------------------------ running */

typedef struct Result {
   uint64_t n, elapsed_ns, allocs, bytes, bytes_per_op;
   BenchMetric metrics[BENCH_MAX_METRICS];
   int nmetrics;
   double ns_per_op;
} Result;

static Result run_once(const Bench* bm, uint64_t n, uint64_t lines) {
   B b = {.n = n, .lines = lines};
   atomic_init(&b.allocs, 0);
   atomic_init(&b.bytes, 0);
   b.timing = true;
   b_reset_timer(&b);
   bm->run(&b, bm->param);
   b_stop_timer(&b);
   Result r = {.n = n,
               .elapsed_ns = b.elapsed_ns,
               .allocs = atomic_load(&b.allocs),
               .bytes = atomic_load(&b.bytes),
               .bytes_per_op = b.bytes_per_op,
               .nmetrics = b.nmetrics};
   memcpy(r.metrics, b.metrics, sizeof r.metrics);
   r.ns_per_op = n ? (double)b.elapsed_ns / (double)n : 0;
   return r;
}

/* Go's number formatting: about four significant digits. */
static void fmt_num(char* buf, size_t size, double y) {
   if (y == 0 || y >= 999.5)
      snprintf(buf, size, "%.0f", y);
   else if (y >= 99.95)
      snprintf(buf, size, "%.1f", y);
   else if (y >= 9.995)
      snprintf(buf, size, "%.2f", y);
   else if (y >= 0.9995)
      snprintf(buf, size, "%.3f", y);
   else if (y >= 0.09995)
      snprintf(buf, size, "%.4f", y);
   else
      snprintf(buf, size, "%.5f", y);
}

static int cmp_double(const void* a, const void* b) {
   double x = *(const double*)a, y = *(const double*)b;
   return x < y ? -1 : x > y;
}

static void json_str(FILE* f, const char* s) {
   fputc('"', f);
   for (; *s; s++) {
      if (*s == '"' || *s == '\\') fputc('\\', f);
      fputc(*s, f);
   }
   fputc('"', f);
}

int main(int argc, char** argv) {
   double benchtime_s = 0.5;
   uint64_t benchtime_x = 0; /* "Nx": fixed iteration count */
   int count = 5;
   const char* filter = NULL;
   const char* json = NULL;
   uint64_t lines = 1000000;
   bool list = false;
   long long store_memory = -1;
   for (int i = 1; i < argc; i++) {
      const char* a = argv[i];
      const char* v = i + 1 < argc ? argv[i + 1] : NULL;
      if ((strcmp(a, "--benchtime") == 0 || strcmp(a, "-benchtime") == 0) && v) {
         char* end;
         double x = strtod(v, &end);
         if (strcmp(end, "x") == 0)
            benchtime_x = (uint64_t)x;
         else if (strcmp(end, "s") == 0 || !*end)
            benchtime_s = x;
         else if (strcmp(end, "ms") == 0)
            benchtime_s = x / 1e3;
         else if (strcmp(end, "us") == 0)
            benchtime_s = x / 1e6;
         else {
            fprintf(stderr, "brum-bench: bad --benchtime '%s' (e.g. 0.5s, 100ms, 1000x)\n", v);
            return 2;
         }
         i++;
      } else if (strcmp(a, "--count") == 0 && v) {
         count = atoi(v);
         if (count < 1) count = 1;
         i++;
      } else if ((strcmp(a, "--filter") == 0 || strcmp(a, "--bench") == 0) && v) {
         filter = v;
         i++;
      } else if (strcmp(a, "--json") == 0 && v) {
         json = v;
         i++;
      } else if (strcmp(a, "--lines") == 0 && v) {
         lines = strtoull(v, NULL, 10);
         if (lines < 1000) lines = 1000;
         i++;
      } else if (strcmp(a, "--store-memory") == 0 && v) {
         store_memory = atoll(v);
         i++;
      } else if (strcmp(a, "--list") == 0) {
         list = true;
      } else {
         fprintf(stderr,
                 "usage: brum-bench [--benchtime 0.5s|100ms|200x] [--count 5] [--filter REGEX]\n"
                 "                  [--json FILE] [--lines N] [--list] [--store-memory N]\n");
         return 2;
      }
   }

   rcu_register_thread();
   if (store_memory >= 0) {
      int rc = bench_store_memory((uint64_t)store_memory);
      rcu_barrier();
      rcu_unregister_thread();
      return rc;
   }

   bench_snapread_register();
   bench_registry_register();
   bench_store_register();
   bench_parse_register();
   bench_regex_register();
   bench_lineidx_register();

   regex_t re;
   if (filter && regcomp(&re, filter, REG_EXTENDED | REG_NOSUB) != 0) {
      fprintf(stderr, "brum-bench: bad --filter regex '%s'\n", filter);
      return 2;
   }
   FILE* jf = NULL;
   if (json) {
      jf = fopen(json, "w");
      if (!jf) {
         fprintf(stderr, "brum-bench: %s: %s\n", json, strerror(errno));
         return 1;
      }
      fputs("[\n", jf);
   }
   if (!list) printf("goos: linux\ngoarch: x86_64\npkg: brum/bench\n");
   Result* samples = calloc((size_t)count, sizeof *samples);
   double* ns = calloc((size_t)count, sizeof *ns);
   bool first_json = true;
   for (size_t k = 0; k < nbenches; k++) {
      const Bench* bm = &benches[k];
      if (filter && regexec(&re, bm->name, 0, NULL, 0) != 0) continue;
      if (list) {
         printf("%s\n", bm->name);
         continue;
      }
      uint64_t n;
      Result r;
      if (benchtime_x) {
         n = benchtime_x;
         run_once(bm, 1, lines); /* warm-up */
         r = run_once(bm, n, lines);
      } else {
         /* warm-up and calibration, as Go's testing.B: grow n until a run lasts benchtime */
         uint64_t goal = (uint64_t)(benchtime_s * 1e9);
         n = 1;
         for (;;) {
            r = run_once(bm, n, lines);
            if (r.elapsed_ns >= goal || n >= 1000000000ull) break;
            uint64_t prev = n;
            double per = r.elapsed_ns ? (double)r.elapsed_ns / (double)n : 1;
            double want = (double)goal * 1.05 / per; /* Go uses 1.2; 1.05 keeps run.sh short */
            n = want > (double)prev * 100 ? prev * 100 : (uint64_t)want;
            if (n <= prev) n = prev + 1;
            if (n > 1000000000ull) n = 1000000000ull;
         }
      }
      samples[0] = r;
      for (int c = 1; c < count; c++) samples[c] = run_once(bm, n, lines);
      for (int c = 0; c < count; c++) ns[c] = samples[c].ns_per_op;
      qsort(ns, (size_t)count, sizeof *ns, cmp_double);
      double med = ns[(count - 1) / 2];
      const Result* m = &samples[0];
      for (int c = 0; c < count; c++) {
         if (samples[c].ns_per_op == med) m = &samples[c];
      }
      char num[64];
      fmt_num(num, sizeof num, m->ns_per_op);
      printf("%-60s %10" PRIu64 " %12s ns/op", bm->name, m->n, num);
      double mbs = 0;
      if (m->bytes_per_op && m->elapsed_ns) {
         mbs = (double)m->bytes_per_op * (double)m->n / 1e6 / ((double)m->elapsed_ns / 1e9);
         fmt_num(num, sizeof num, mbs);
         printf(" %10s MB/s", num);
      }
      uint64_t bpo = m->n ? m->bytes / m->n : 0, apo = m->n ? m->allocs / m->n : 0;
      printf(" %8" PRIu64 " B/op %6" PRIu64 " allocs/op", bpo, apo);
      for (int i = 0; i < m->nmetrics; i++) {
         fmt_num(num, sizeof num, m->metrics[i].value);
         printf(" %10s %s", num, m->metrics[i].unit);
      }
      putchar('\n');
      fflush(stdout);
      if (jf) {
         fprintf(jf, "%s  {\"name\": ", first_json ? "" : ",\n");
         first_json = false;
         json_str(jf, bm->name);
         fprintf(jf,
                 ", \"threads\": %d, \"iterations\": %" PRIu64 ", \"ns_per_op\": %.4f, "
                 "\"bytes_per_op\": %" PRIu64 ", \"allocs_per_op\": %" PRIu64,
                 bm->threads, m->n, m->ns_per_op, bpo, apo);
         if (mbs > 0) fprintf(jf, ", \"mb_per_s\": %.3f", mbs);
         fputs(", \"metrics\": {", jf);
         for (int i = 0; i < m->nmetrics; i++) {
            fprintf(jf, "%s", i ? ", " : "");
            json_str(jf, m->metrics[i].unit);
            fprintf(jf, ": %.4f", m->metrics[i].value);
         }
         fputs("}, \"samples_ns_per_op\": [", jf);
         for (int c = 0; c < count; c++) fprintf(jf, "%s%.4f", c ? ", " : "", samples[c].ns_per_op);
         fputs("]}", jf);
      }
   }
   if (!list) printf("PASS\n");
   if (jf) {
      fputs("\n]\n", jf);
      fclose(jf);
   }
   free(samples);
   free(ns);
   if (filter) regfree(&re);
   bench_store_cleanup();
   bench_parse_cleanup();
   bench_regex_cleanup();
   rcu_barrier();
   rcu_unregister_thread();
   for (size_t k = 0; k < nbenches; k++) free(benches[k].name);
   free(benches);
   return 0;
}
