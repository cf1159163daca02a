/* Filter scan benchmark: fills a LogStore with realistic log lines, writes the same text to a
 * file (for grep, see bench/filter_vs_grep.sh), and times full scans with the filter engine:
 * the scanning core on this thread (JIT, and the same loop with PCRE2_NO_JIT), and the worker
 * thread end to end (filter_set until caught_up).
 *
 * usage: bench_filter [-n LINES] [-o TEXTFILE] [-r RUNS] [-J: skip the no-JIT runs] PATTERN...
 * Prints "pattern=P caseless=C jit=J", then per mode "  mode=M matches=N best_ms=T". */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <inttypes.h>
#include <pcre2.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/filter.h"
#include "core/logstore.h"
#include "core/rcu.h"
#include "core/util.h"

static const char* const paths[] = {"/api/v1/users", "/api/v1/orders", "/static/app.js",
                                    "/healthz",      "/api/v2/search", "/login"};
static const char* const msgs[] = {
    "request completed",      "cache miss, fetching from upstream",
    "slow query detected",    "connection reset by peer",
    "retrying after backoff", "user session refreshed",
};

/* ~100 bytes: time, level, worker, method, path, status, latency, request id, message. */
static int make_line(uint64_t i, char* buf, size_t size) {
   uint64_t h = (i + 1) * 0x9E3779B97F4A7C15ull;
   unsigned r = (unsigned)(h >> 40) % 100;
   const char* lvl = r < 80 ? "INFO" : r < 92 ? "WARN" : r < 97 ? "ERROR" : "DEBUG";
   return snprintf(buf, size,
                   "2024-05-01T12:%02u:%02u.%03uZ %-5s [worker-%u] GET %s/%u %u in %ums "
                   "rid=%08" PRIx64 " %s",
                   (unsigned)(i / 60000 % 60), (unsigned)(i / 1000 % 60), (unsigned)(i % 1000), lvl,
                   (unsigned)(h >> 20) % 16, paths[(h >> 24) % ARRAY_LEN(paths)],
                   (unsigned)(h >> 30) % 100000, r < 92 ? 200u : 500u, (unsigned)(h >> 50) % 900,
                   (h >> 8) & 0xffffffffu, msgs[(h >> 12) % ARRAY_LEN(msgs)]);
}

static double now_ms(void) {
   return (double)util_mono_ns() / 1e6;
}

/* The worker path: wake() signals a condition variable; the caller polls the state on it. */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static unsigned wakes;

static void on_wake(void* ud) {
   (void)ud;
   pthread_mutex_lock(&mu);
   wakes++;
   pthread_cond_signal(&cv);
   pthread_mutex_unlock(&mu);
}

static bool caught_up(Filter* f, uint64_t end, uint64_t* matches) {
   rcu_read_lock();
   const FilterState* st = filter_state(f);
   bool ok = st && atomic_load(&st->caught_up) && atomic_load(&st->scanned) >= end;
   if (ok) *matches = lineidx_end(st->matches) - lineidx_begin(st->matches);
   rcu_read_unlock();
   return ok;
}

/* The interpreter: the same loop as the filter's core, with PCRE2_NO_JIT. */
static uint64_t scan_nojit(const char* pat, const LogStore* ls) {
   int err;
   PCRE2_SIZE off;
   bool upper = false;
   for (const char* p = pat; *p; p++) {
      if (*p == '\\' && p[1]) {
         p++;
         continue;
      }
      if (*p >= 'A' && *p <= 'Z') upper = true;
   }
   pcre2_code* code = pcre2_compile(
       (PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED,
       PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | (upper ? 0 : PCRE2_CASELESS), &err, &off, NULL);
   if (!code) return UINT64_MAX;
   pcre2_match_data* md = pcre2_match_data_create(1, NULL);
   uint64_t n = 0;
   rcu_read_lock();
   LogIter it;
   LogLine l;
   logiter_init(&it, ls, 0);
   while (logiter_next(&it, &l))
      if (!(l.flags & LINE_MARKER) &&
          pcre2_match(code, (PCRE2_SPTR)l.text, l.len, 0, PCRE2_NO_JIT, md, NULL) >= 0)
         n++;
   rcu_read_unlock();
   pcre2_match_data_free(md);
   pcre2_code_free(code);
   return n;
}

int main(int argc, char** argv) {
   uint64_t nlines = 1000000;
   const char* out = NULL;
   int runs = 3, opt;
   bool nojit = true;
   while ((opt = getopt(argc, argv, "n:o:r:J")) != -1) {
      switch (opt) {
      case 'n':
         nlines = strtoull(optarg, NULL, 10);
         break;
      case 'o':
         out = optarg;
         break;
      case 'r':
         runs = atoi(optarg);
         break;
      case 'J':
         nojit = false;
         break;
      default:
         fprintf(stderr, "usage: %s [-n LINES] [-o TEXTFILE] [-r RUNS] [-J] PATTERN...\n", argv[0]);
         return 2;
      }
   }
   rcu_register_thread();
   LogStore* ls = logstore_new(&(LogStoreConfig){.max_lines = nlines, .max_bytes = 4ull << 30});
   FILE* fp = out ? fopen(out, "w") : NULL;
   if (out && !fp) {
      perror(out);
      return 1;
   }
   char buf[256];
   uint64_t bytes = 0;
   for (uint64_t i = 0; i < nlines; i++) {
      int k = make_line(i, buf, sizeof buf);
      logstore_append(ls, buf, (uint32_t)k, NULL, 0, 0, 1714564800000ull + i);
      bytes += (uint64_t)k + 1;
      if (fp) {
         buf[k] = '\n';
         fwrite(buf, 1, (size_t)k + 1, fp);
      }
   }
   if (fp) fclose(fp);
   rcu_read_lock();
   printf("lines=%" PRIu64 " retained=%" PRIu64 " bytes=%" PRIu64 "\n", nlines,
          logstore_end(ls) - logstore_begin(ls), bytes);
   rcu_read_unlock();

   for (int a = optind; a < argc; a++) {
      const char* pat = argv[a];
      Regex* re = NULL;
      char* cause = NULL;
      if (regex_compile(pat, &re, &cause) < 0) {
         fprintf(stderr, "%s\n", cause);
         return 1;
      }
      printf("pattern=%s caseless=%d jit=%d\n", pat, regex_caseless(re), regex_jit(re));

      /* 1. the scanning core on this thread (JIT when available) */
      RegexScratch* sc = regex_scratch_new();
      double best = 1e18;
      uint64_t n = 0;
      for (int r = 0; r < runs; r++) {
         LineIdx* ix = lineidx_new(nlines);
         double t0 = now_ms();
         rcu_read_lock();
         filter_scan_store(re, sc, ls, 0, UINT64_MAX, ix);
         n = lineidx_end(ix) - lineidx_begin(ix);
         rcu_read_unlock();
         double t = now_ms() - t0;
         if (t < best) best = t;
         lineidx_free(ix);
      }
      printf("  mode=core-jit matches=%" PRIu64 " best_ms=%.1f\n", n, best);
      regex_scratch_free(sc);

      /* 2. the worker end to end: filter_set until the state is caught up */
      Filter* f = NULL;
      if (filter_new_store(ls, on_wake, NULL, &f, NULL) < 0) return 1;
      best = 1e18;
      for (int r = 0; r < runs; r++) {
         Regex* re2 = NULL;
         regex_compile(pat, &re2, NULL);
         double t0 = now_ms();
         filter_set(f, re2, 0);
         pthread_mutex_lock(&mu);
         while (!caught_up(f, nlines, &n)) pthread_cond_wait(&cv, &mu);
         pthread_mutex_unlock(&mu);
         double t = now_ms() - t0;
         if (t < best) best = t;
      }
      printf("  mode=worker-jit matches=%" PRIu64 " best_ms=%.1f\n", n, best);
      filter_free(f);
      rcu_barrier();

      /* 3. the interpreter, same loop */
      if (nojit) {
         best = 1e18;
         for (int r = 0; r < runs; r++) {
            double t0 = now_ms();
            n = scan_nojit(pat, ls);
            double t = now_ms() - t0;
            if (t < best) best = t;
         }
         printf("  mode=core-nojit matches=%" PRIu64 " best_ms=%.1f\n", n, best);
      }
      regex_free(re);
      fflush(stdout);
   }
   logstore_free(ls);
   rcu_barrier();
   rcu_unregister_thread();
   return 0;
}
