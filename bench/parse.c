/* Group 4: the output parser (core/ansi.h): line splitting + SGR parsing, fed in 4 KiB reads as a
 * PTY delivers them. The input is a realistic coloured dev-server log of ~1 MiB: ~100-byte lines,
 * 10% coloured (16-colour, 256-colour and truecolor), and every 50th line a `\r` progress bar
 * (ten rewrites, some with erase-line). One op = the whole buffer. Cases: mixed (that log), plain
 * (no escape codes at all), and ingest: what the supervisor does per line (parser, line
 * classifier core/detect.h, log store append), and ingest+logfile: the same plus --log-dir's
 * append to the log writer's buffer (core/logfile.h; its thread writes a file in /tmp meanwhile).
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
   Detector* det;
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
   uint16_t flags = detect_line(c->det, text, len, c->lines, t);
   logstore_append(c->ls, text, len, runs, nruns, flags, t);
   if (c->sink) logsink_line(c->sink, text, len, false, false);
   c->lines++;
}

enum { CASE_MIXED, CASE_PLAIN, CASE_INGEST, CASE_INGEST_LOG };

static void run_parse(B* b, const void* param) {
   int which = *(const int*)param;
   const Input* in = input(which == CASE_PLAIN);
   Ctx c = {0};
   bool ingest = which == CASE_INGEST || which == CASE_INGEST_LOG;
   AnsiSink sink = {.line = ingest ? store_line : count_line};
   if (ingest) {
      c.det = detect_new();
      c.ls = logstore_new(NULL);
   }
   LogFiles* lf = NULL;
   char dir[] = "/tmp/brum-bench-logs-XXXXXX";
   if (which == CASE_INGEST_LOG) {
      LogFileConfig cfg = {.dir = mkdtemp(dir), .max_size = 64u << 20, .keep = 1};
      if (!cfg.dir || logfiles_new(&cfg, &lf, NULL) < 0) abort();
      c.sink = logfiles_sink(lf, "bench");
   }
   AnsiParser* p = ansi_new(&sink, &c);
   struct timespec cpu0, cpu1; /* this thread's own CPU: the log writer's thread may take turns */
   clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu0);
   b_reset_timer(b);
   for (uint64_t i = 0; i < b->n; i++) {
      for (size_t off = 0; off < in->len; off += 4096) {
         size_t n = in->len - off < 4096 ? in->len - off : 4096;
         ansi_feed(p, in->buf + off, n);
      }
   }
   b_stop_timer(b);
   clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu1);
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
      detect_free(c.det);
      rcu_barrier();
      logstore_free(c.ls);
   }
}

static const int case_mixed = CASE_MIXED, case_plain = CASE_PLAIN, case_ingest = CASE_INGEST,
                 case_ingest_log = CASE_INGEST_LOG;

void bench_parse_register(void) {
   bench_add("AnsiFeed/mixed", 1, run_parse, &case_mixed);
   bench_add("AnsiFeed/plain", 1, run_parse, &case_plain);
   bench_add("Ingest/ansi+detect+store", 1, run_parse, &case_ingest);
   bench_add("Ingest/ansi+detect+store+logfile", 1, run_parse, &case_ingest_log);
}

void bench_parse_cleanup(void) {
   for (int i = 0; i < 2; i++) {
      free(inputs[i].buf);
      inputs[i] = (Input){0};
   }
}
