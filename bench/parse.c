/* Group 4: the output parser (core/ansi.h): line splitting + SGR parsing, fed in 4 KiB reads as a
 * PTY delivers them. The input is a realistic coloured dev-server log of ~1 MiB: ~100-byte lines,
 * 10% coloured (16-colour, 256-colour and truecolor), and every 50th line a `\r` progress bar
 * (ten rewrites, some with erase-line). One op = the whole buffer. Cases: mixed (that log), plain
 * (no escape codes at all), and ingest: what the supervisor does per line (parser, line
 * classifier core/detect.h, log store append). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench.h"
#include "core/ansi.h"
#include "core/detect.h"
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
   c->lines++;
}

enum { CASE_MIXED, CASE_PLAIN, CASE_INGEST };

static void run_parse(B* b, const void* param) {
   int which = *(const int*)param;
   const Input* in = input(which == CASE_PLAIN);
   Ctx c = {0};
   AnsiSink sink = {.line = which == CASE_INGEST ? store_line : count_line};
   if (which == CASE_INGEST) {
      c.det = detect_new();
      c.ls = logstore_new(NULL);
   }
   AnsiParser* p = ansi_new(&sink, &c);
   b_reset_timer(b);
   for (uint64_t i = 0; i < b->n; i++) {
      for (size_t off = 0; off < in->len; off += 4096) {
         size_t n = in->len - off < 4096 ? in->len - off : 4096;
         ansi_feed(p, in->buf + off, n);
      }
   }
   b_stop_timer(b);
   b_set_bytes(b, in->len);
   double secs = (double)b->elapsed_ns / 1e9;
   b_metric(b, secs > 0 ? (double)c.lines / secs : 0, "lines/s");
   bench_sink(c.bytes);
   ansi_free(p);
   if (which == CASE_INGEST) {
      detect_free(c.det);
      rcu_barrier();
      logstore_free(c.ls);
   }
}

static const int case_mixed = CASE_MIXED, case_plain = CASE_PLAIN, case_ingest = CASE_INGEST;

void bench_parse_register(void) {
   bench_add("AnsiFeed/mixed", 1, run_parse, &case_mixed);
   bench_add("AnsiFeed/plain", 1, run_parse, &case_plain);
   bench_add("Ingest/ansi+detect+store", 1, run_parse, &case_ingest);
}

void bench_parse_cleanup(void) {
   for (int i = 0; i < 2; i++) {
      free(inputs[i].buf);
      inputs[i] = (Input){0};
   }
}
