/* Group 4: the output parser (core/ansi.h): line splitting + SGR parsing, fed in 4 KiB reads as a
 * PTY delivers them. The input is a realistic coloured dev-server log of ~1 MiB: ~100-byte lines,
 * 10% coloured (16-colour, 256-colour and truecolor), and every 50th line a `\r` progress bar
 * (ten rewrites, some with erase-line). One op = the whole buffer. Cases: mixed (that log), plain
 * (no escape codes at all); ingest: what the supervisor thread does per line (parser, log store
 * append, unflagged: detection runs on its own thread), and ingest+logfile: the same plus
 * --log-dir's append to the log writer's buffer (core/logfile.h; its thread writes a file in /tmp
 * meanwhile); detect: what the detection thread does per line (core/detwork.c: the stored lines
 * read back, classified, their flags ORed in), over the store the ingest case fills. Beside it,
 * on the same lines: detect/readback (that loop without the classifier: what detection costs
 * outside core/detect*.c) and detect/classify (the classifier alone over the lines copied out
 * of the store into one buffer, as bench/bench_detect.c times it). detect prints the sum of the
 * flags it set (flagsum): two builds that classify alike print the same.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/bench.h"
#include "core/ansi.h"
#include "core/detect.h"
#include "core/logfile.h"
#include "core/logstore.h"

#define TARGET_BYTES (1u << 20)

typedef struct Input {
   char* buf;
   size_t len;
   uint64_t lines;
} Input;

static Input inputs[2]; /* 0: mixed, 1: plain */

static const Input* input(int plain) {
   Input* in = &inputs[plain];
   if (in->buf) return in;
   in->buf = malloc(TARGET_BYTES + 4096);
   if (!in->buf) abort();
   char line[512];
   for (uint64_t i = 0; in->len < TARGET_BYTES; i++) {
      size_t n;
      if (!plain && i % 50 == 25) {
         /* a progress bar: "building... 10%\r" ... "100%\n", sometimes erasing the line first */
         n = 0;
         for (int pct = 10; pct <= 100; pct += 10) {
            n += (size_t)snprintf(line + n, sizeof line - n, "%sbuilding... %d%%%s",
                                  pct % 30 == 0 ? "\x1b[2K" : "", pct, pct < 100 ? "\r" : "");
         }
      } else {
         n = bench_log_line(i, plain ? 0 : 10, line);
      }
      memcpy(in->buf + in->len, line, n);
      in->buf[in->len + n] = '\n';
      in->len += n + 1;
      in->lines++;
   }
   return in;
}

typedef struct Ctx {
   uint64_t lines, bytes;
   LogStore* ls;
   LogSink* sink; /* NULL: no log file */
} Ctx;

static void count_line(void* ud, const char* text, uint32_t len, const StyleRun* runs,
                       uint16_t nruns) {
   Ctx* c = ud;
   (void)text;
   (void)runs;
   c->lines++;
   c->bytes += len + nruns;
}

static void store_line(void* ud, const char* text, uint32_t len, const StyleRun* runs,
                       uint16_t nruns) {
   Ctx* c = ud;
   uint64_t t = 1700000000000ull + c->lines / 1000;
   logstore_append(c->ls, text, len, runs, nruns, 0, t);
   if (c->sink) logsink_line(c->sink, text, len, false, false);
   c->lines++;
}

enum {
   CASE_MIXED,
   CASE_PLAIN,
   CASE_INGEST,
   CASE_INGEST_LOG,
   CASE_DETECT,
   CASE_READBACK,
   CASE_CLASSIFY
};

/* The detection thread's loop (core/detwork.c detect_range) over every line of `ls`; without a
 * detector only the reading back (the text's first and last bytes touched, as a classifier
 * would). Returns the sum of the flags it set, or of what it read. */
static uint64_t detect_store(Detector* det, LogStore* ls) {
   uint64_t sum = 0;
   rcu_read_lock();
   LogIter it;
   LogLine l;
   logiter_init(&it, ls, 0);
   while (logiter_next(&it, &l)) {
      if (l.flags & LINE_MARKER) continue;
      if (!det) {
         sum +=
             l.len + l.lineno + l.time_ms + (l.len ? (uint8_t)(l.text[0] ^ l.text[l.len - 1]) : 0);
         continue;
      }
      uint16_t f = detect_line(det, l.text, l.len, l.lineno, l.time_ms);
      if (f) logiter_add_flags(&it, f);
      sum += f;
   }
   logstore_set_detected(ls, logstore_end(ls));
   rcu_read_unlock();
   return sum;
}

/* The store's lines copied out into one buffer (untimed), for the classifier alone. */
typedef struct Flat {
   char* text;
   uint32_t* off; /* line i is text[off[i]..off[i + 1]) */
   uint64_t* time_ms;
   uint64_t first, n;
} Flat;

static Flat flatten(LogStore* ls) {
   Flat f = {0};
   rcu_read_lock();
   f.first = logstore_begin(ls);
   f.n = logstore_end(ls) - f.first;
   f.off = malloc((f.n + 1) * sizeof *f.off);
   f.time_ms = malloc(f.n * sizeof *f.time_ms);
   f.text = malloc(logstore_bytes(ls));
   if (!f.off || !f.time_ms || !f.text) abort();
   LogIter it;
   LogLine l;
   uint64_t i = 0;
   logiter_init(&it, ls, f.first);
   for (f.off[0] = 0; i < f.n && logiter_next(&it, &l); i++) {
      memcpy(f.text + f.off[i], l.text, l.len);
      f.off[i + 1] = f.off[i] + l.len;
      f.time_ms[i] = l.time_ms;
   }
   rcu_read_unlock();
   f.n = i;
   return f;
}

static uint64_t classify_flat(Detector* det, const Flat* f) {
   uint64_t sum = 0;
   for (uint64_t i = 0; i < f->n; i++)
      sum += detect_line(det, f->text + f->off[i], f->off[i + 1] - f->off[i], f->first + i,
                         f->time_ms[i]);
   return sum;
}

static void feed_all(AnsiParser* p, const Input* in) {
   for (size_t off = 0; off < in->len; off += 4096) {
      size_t n = in->len - off < 4096 ? in->len - off : 4096;
      ansi_feed(p, in->buf + off, n);
   }
}

static void run_parse(B* b, const void* param) {
   int which = *(const int*)param;
   const Input* in = input(which == CASE_PLAIN);
   Ctx c = {0};
   bool detect = which == CASE_DETECT || which == CASE_READBACK || which == CASE_CLASSIFY;
   bool ingest = which == CASE_INGEST || which == CASE_INGEST_LOG || detect;
   AnsiSink sink = {.line = ingest ? store_line : count_line};
   if (ingest) c.ls = logstore_new(&(LogStoreConfig){.detect_later = true});
   LogFiles* lf = NULL;
   char dir[] = "/tmp/brum-bench-logs-XXXXXX";
   if (which == CASE_INGEST_LOG) {
      LogFileConfig cfg = {.dir = mkdtemp(dir), .max_size = 64u << 20, .keep = 1};
      if (!cfg.dir || logfiles_new(&cfg, &lf, NULL) < 0) abort();
      c.sink = logfiles_sink(lf, "bench");
   }
   AnsiParser* p = ansi_new(&sink, &c);
   Flat flat = {0};
   if (detect) feed_all(p, in); /* the store the detection thread reads; not timed */
   if (which == CASE_CLASSIFY) flat = flatten(c.ls);
   uint64_t sum = 0;
   struct timespec cpu0, cpu1; /* this thread's own CPU: the log writer's thread may take turns */
   clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu0);
   b_reset_timer(b);
   for (uint64_t i = 0; i < b->n; i++) {
      if (!detect) {
         feed_all(p, in);
         continue;
      }
      /* a fresh run each time: the same findings per op */
      Detector* det = which == CASE_READBACK ? NULL : detect_new();
      sum = which == CASE_CLASSIFY ? classify_flat(det, &flat) : detect_store(det, c.ls);
      detect_free(det);
   }
   b_stop_timer(b);
   if (detect) c.lines = b->n * (logstore_end(c.ls) - logstore_begin(c.ls));
   if (which == CASE_DETECT || which == CASE_CLASSIFY) b_metric(b, (double)sum, "flagsum");
   bench_sink(sum);
   clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu1);
   free(flat.text);
   free(flat.off);
   free(flat.time_ms);
   if (ingest && c.lines)
      b_metric(b,
               ((double)(cpu1.tv_sec - cpu0.tv_sec) * 1e9 + (double)(cpu1.tv_nsec - cpu0.tv_nsec)) /
                   (double)c.lines,
               "cpu-ns/line");
   if (lf) {
      b_metric(b, (double)logfiles_dropped(lf), "dropped");
      logfiles_free(lf);
      char* cmd = malloc(strlen(dir) + 16);
      sprintf(cmd, "rm -rf '%s'", dir);
      if (system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", dir);
      free(cmd);
   }
   b_set_bytes(b, in->len);
   double secs = (double)b->elapsed_ns / 1e9;
   b_metric(b, secs > 0 ? (double)c.lines / secs : 0, "lines/s");
   bench_sink(c.bytes);
   ansi_free(p);
   if (ingest) {
      rcu_barrier();
      logstore_free(c.ls);
   }
}

static const int case_mixed = CASE_MIXED, case_plain = CASE_PLAIN, case_ingest = CASE_INGEST,
                 case_ingest_log = CASE_INGEST_LOG, case_detect = CASE_DETECT,
                 case_readback = CASE_READBACK, case_classify = CASE_CLASSIFY;

void bench_parse_register(void) {
   bench_add("AnsiFeed/mixed", 1, run_parse, &case_mixed);
   bench_add("AnsiFeed/plain", 1, run_parse, &case_plain);
   bench_add("Ingest/ansi+store", 1, run_parse, &case_ingest);
   bench_add("Ingest/ansi+store+logfile", 1, run_parse, &case_ingest_log);
   bench_add("Ingest/detect", 1, run_parse, &case_detect);
   bench_add("Ingest/detect/readback", 1, run_parse, &case_readback);
   bench_add("Ingest/detect/classify", 1, run_parse, &case_classify);
}

void bench_parse_cleanup(void) {
   for (int i = 0; i < 2; i++) {
      free(inputs[i].buf);
      inputs[i] = (Input){0};
   }
}
