/* Group 3: the log store (core/logstore.h). Append throughput of the single writer (one op = one
 * ~100-byte line; default retention, so steady-state eviction with call_rcu is included) while 0,
 * 1 or 4 reader threads walk the tail; and the reader's cost per line, sequentially (LogIter) and
 * by number (logstore_get). Also --store-memory: the store's own accounting for N retained lines.
 */
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench.h"
#include "core/ansi.h"
#include "core/logstore.h"
#include "core/rcu.h"

#define NPRE 4096 /* distinct pre-generated lines */

typedef struct PreLine {
   char text[512];
   uint32_t len;
   uint16_t nruns;
   StyleRun runs[3];
} PreLine;

static PreLine* pre;
static uint64_t pre_bytes; /* total text bytes of the NPRE lines */

/* Plain text of flood lines; every 10th with the style runs its colour codes would give. */
static void pre_init(void) {
   if (pre) return;
   pre = calloc(NPRE, sizeof *pre);
   if (!pre) abort();
   for (uint64_t i = 0; i < NPRE; i++) {
      PreLine* l = &pre[i];
      l->len = (uint32_t)bench_log_line(i, 0, l->text);
      pre_bytes += l->len;
      if (i % 10 == 0) {
         l->nruns = 2;
         l->runs[0] = (StyleRun){.start = 25, .fg = COLOR_INDEX(2)};
         l->runs[1] = (StyleRun){.start = 30};
      }
   }
}

/* ---------------------------------------------------------------- append with tail readers */

typedef struct Tail {
   LogStore* ls;
   _Atomic bool stop;
   _Atomic uint64_t read;
   pthread_t th[4];
} Tail;

static void* tail_main(void* p) {
   Tail* t = p;
   rcu_register_thread();
   uint64_t pos = 0, acc = 0, n = 0;
   while (!atomic_load_explicit(&t->stop, memory_order_relaxed)) {
      uint64_t before = n;
      rcu_read_lock();
      LogIter it;
      logiter_init(&it, t->ls, pos);
      LogLine l;
      for (int k = 0; k < 4096 && logiter_next(&it, &l); k++) {
         acc += l.len + (l.len ? (unsigned char)l.text[0] : 0u) + l.nruns;
         pos = l.lineno + 1;
         n++;
      }
      rcu_read_unlock();
      if (n == before) sched_yield(); /* caught up */
   }
   atomic_fetch_add(&t->read, n);
   bench_sink(acc);
   rcu_unregister_thread();
   return NULL;
}

static void run_append(B* b, const void* param) {
   int readers = *(const int*)param;
   pre_init();
   Tail t = {.ls = logstore_new(NULL)};
   atomic_init(&t.stop, false);
   atomic_init(&t.read, 0);
   for (int i = 0; i < readers; i++) {
      if (pthread_create(&t.th[i], NULL, tail_main, &t) != 0) abort();
   }
   b_reset_timer(b);
   for (uint64_t i = 0; i < b->n; i++) {
      const PreLine* l = &pre[i % NPRE];
      logstore_append(t.ls, l->text, l->len, l->runs, l->nruns, 0, 1700000000000ull + i / 1000);
   }
   b_stop_timer(b);
   atomic_store(&t.stop, true);
   for (int i = 0; i < readers; i++) pthread_join(t.th[i], NULL);
   b_set_bytes(b, pre_bytes / NPRE);
   double secs = (double)b->elapsed_ns / 1e9;
   b_metric(b, secs > 0 ? (double)b->n / secs : 0, "lines/s");
   if (readers) b_metric(b, secs > 0 ? (double)atomic_load(&t.read) / secs : 0, "read-lines/s");
   rcu_barrier(); /* evicted chunks are freed before the store goes */
   logstore_free(t.ls);
}

/* ---------------------------------------------------------------- read cost per line */

static LogStore* filled(uint64_t lines) {
   pre_init();
   LogStoreConfig cfg = {.max_lines = lines};
   LogStore* ls = logstore_new(&cfg);
   for (uint64_t i = 0; i < lines; i++) {
      const PreLine* l = &pre[i % NPRE];
      logstore_append(ls, l->text, l->len, l->runs, l->nruns, 0, 1700000000000ull + i / 1000);
   }
   return ls;
}

/* One op = one line through a LogIter; a read section per 1024 lines (a filter scan slice). */
static void run_iter(B* b, const void* param) {
   (void)param;
   LogStore* ls = filled(100000);
   uint64_t acc = 0, pos = 0, end;
   b_reset_timer(b);
   for (uint64_t done = 0; done < b->n;) {
      rcu_read_lock();
      end = logstore_end(ls);
      if (pos >= end) pos = logstore_begin(ls);
      LogIter it;
      logiter_init(&it, ls, pos);
      LogLine l;
      for (int k = 0; k < 1024 && done < b->n && logiter_next(&it, &l); k++, done++) {
         acc += l.len + (unsigned char)l.text[0];
         pos = l.lineno + 1;
      }
      rcu_read_unlock();
   }
   b_stop_timer(b);
   bench_sink(acc);
   logstore_free(ls);
}

/* One op = logstore_get of one line; a read section per 50 lines (a frame of a 50-row pane). */
static void run_get(B* b, const void* param) {
   (void)param;
   LogStore* ls = filled(100000);
   uint64_t acc = 0, x = 1;
   b_reset_timer(b);
   for (uint64_t done = 0; done < b->n;) {
      rcu_read_lock();
      uint64_t begin = logstore_begin(ls), span = logstore_end(ls) - begin;
      x = x * 6364136223846793005ull + 1442695040888963407ull;
      uint64_t top = begin + (x >> 20) % (span - 50);
      LogLine l;
      for (int k = 0; k < 50 && done < b->n; k++, done++) {
         if (logstore_get(ls, top + (uint64_t)k, &l)) acc += l.len + (unsigned char)l.text[0];
      }
      rcu_read_unlock();
   }
   b_stop_timer(b);
   bench_sink(acc);
   logstore_free(ls);
}

static const int readers_0 = 0, readers_1 = 1, readers_4 = 4;

void bench_store_register(void) {
   bench_add("LogStoreAppend/readers=0", 1, run_append, &readers_0);
   bench_add("LogStoreAppend/readers=1", 1, run_append, &readers_1);
   bench_add("LogStoreAppend/readers=4", 1, run_append, &readers_4);
   bench_add("LogStoreRead/iter", 1, run_iter, NULL);
   bench_add("LogStoreRead/get", 1, run_get, NULL);
}

/* ---------------------------------------------------------------- --store-memory */

typedef struct MemSink {
   LogStore* ls;
   uint64_t lines, text_bytes;
} MemSink;

static void mem_line(void* ud, const char* text, uint32_t len, const StyleRun* runs,
                     uint16_t nruns) {
   MemSink* m = ud;
   logstore_append(m->ls, text, len, runs, nruns, 0, 1700000000000ull + m->lines / 1000);
   m->lines++;
   m->text_bytes += len;
}

static long rss_kb(const char* key) {
   FILE* f = fopen("/proc/self/status", "r");
   if (!f) return -1;
   char line[256];
   long v = -1;
   size_t kl = strlen(key);
   while (fgets(line, sizeof line, f)) {
      if (strncmp(line, key, kl) == 0) v = strtol(line + kl, NULL, 10);
   }
   fclose(f);
   return v;
}

/* The same lines as bench/flood_writer (every 10th coloured) through the output parser into one
 * store that keeps them all, as the supervisor would. */
int bench_store_memory(uint64_t lines) {
   if (!lines) lines = 1000000;
   LogStoreConfig cfg = {.max_lines = lines};
   MemSink m = {.ls = logstore_new(&cfg)};
   AnsiSink sink = {.line = mem_line};
   AnsiParser* p = ansi_new(&sink, &m);
   long rss0 = rss_kb("VmRSS:");
   char buf[65536];
   size_t used = 0;
   uint64_t raw = 0;
   for (uint64_t i = 0; i < lines; i++) {
      if (used > sizeof buf - 600) {
         ansi_feed(p, buf, used);
         used = 0;
      }
      size_t n = bench_log_line(i, 10, buf + used);
      buf[used + n] = '\n';
      used += n + 1;
      raw += n + 1;
   }
   ansi_feed(p, buf, used);
   ansi_flush(p);
   long rss1 = rss_kb("VmRSS:");
   uint64_t store = logstore_bytes(m.ls);
   printf("store_lines %" PRIu64 "\n", m.lines);
   printf("raw_bytes %" PRIu64 "\n", raw);
   printf("text_bytes %" PRIu64 "\n", m.text_bytes);
   printf("store_bytes %" PRIu64 "\n", store);
   printf("store_bytes_per_line %.1f\n", (double)store / (double)m.lines);
   printf("raw_bytes_per_line %.1f\n", (double)raw / (double)m.lines);
   printf("store_vs_raw %.3f\n", (double)store / (double)raw);
   printf("rss_growth_bytes_per_line %.1f\n", (double)(rss1 - rss0) * 1024.0 / (double)m.lines);
   ansi_free(p);
   logstore_free(m.ls);
   return 0;
}

void bench_store_cleanup(void) {
   free(pre);
   pre = NULL;
   pre_bytes = 0;
}
