/* Line classifier benchmark: reads a text file into memory (default /tmp/realistic.log) and
 * calls detect_line on every line (newline removed), as the supervisor does, timing full passes.
 *
 * usage: bench_detect [-r RUNS] [-C] [-s LEVEL] [-d] [FILE]
 *   -r RUNS  passes over the file (default 5); prints the best and the median
 *   -C       cold: do not read each block of lines before timing it (by default it is, as the
 *            supervisor classifies a line it has just parsed, whose bytes are in cache)
 *   -s LEVEL the trigger scan: 0 portable, 1 SSSE3 (default: the best the CPU has)
 *   -d       instead of timing, dumps what detection found (per flagged line: number, flags,
 *            first rule; then the entries, URLs, tests and build result) to compare two builds
 * Prints "file=F lines=N best_ns_per_line=X median_ns_per_line=Y lines_per_s=Z".
 *
 * Built by hand (not part of the CMake build):
 *   cc -O2 -g -std=c11 -D_GNU_SOURCE -I. bench/bench_detect.c build-detperf/libbrum_core.a \
 *      $(pkg-config --cflags --libs libpcre2-8 liburcu-memb liburcu-cds) -lpthread \
 *      -o build-detperf/bench_detect */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/detect.h"
#include "core/logstore.h"

enum { BLOCK = 2048 }; /* lines timed at a time (~170 KB: in L2) */

typedef struct Line {
   const char* s;
   uint32_t n;
} Line;

static double now_s(void) {
   struct timespec ts;
   clock_gettime(CLOCK_MONOTONIC, &ts);
   return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static char* read_all(const char* path, size_t* len) {
   FILE* f = fopen(path, "rb");
   if (!f) {
      perror(path);
      exit(1);
   }
   size_t cap = 1 << 20, n = 0;
   char* buf = malloc(cap);
   size_t k;
   while (buf && (k = fread(buf + n, 1, cap - n, f)) > 0) {
      n += k;
      if (n == cap) buf = realloc(buf, cap *= 2);
   }
   fclose(f);
   if (!buf) exit(1);
   *len = n;
   return buf;
}

static int cmp_double(const void* a, const void* b) {
   double x = *(const double*)a, y = *(const double*)b;
   return x < y ? -1 : x > y;
}

static void dump(const Line* lines, size_t nl) {
   Detector* d = detect_new();
   for (size_t i = 0; i < nl; i++) {
      uint16_t f = detect_line(d, lines[i].s, lines[i].n, i, i / 100);
      const char* r = detect_last_rule(d);
      if (f || r) printf("%zu f=%u r=%s\n", i, (unsigned)f, r ? r : "-");
   }
   DetectSnap* s = detect_snapshot(d);
   printf("errors=%" PRIu64 " warnings=%" PRIu64 " entries=%u urls=%u\n", s->errors, s->warnings,
          s->nentries, s->nurls);
   for (uint32_t i = 0; i < s->nentries; i++) {
      const DetectEntry* e = &s->entries[i];
      printf("E %d %" PRIu64 "-%" PRIu64 " [%s] %s @ %s\n", (int)e->kind, e->first_line,
             e->last_line, e->rule, e->title, e->location ? e->location : "-");
   }
   for (uint32_t i = 0; i < s->nurls; i++)
      printf("U %s [%s] %" PRIu64 "\n", s->urls[i].url, s->urls[i].label, s->urls[i].lineno);
   printf("T seen=%d %u/%u/%u/%u %s build=%d\n", (int)s->tests.seen, s->tests.passed,
          s->tests.failed, s->tests.skipped, s->tests.total,
          s->tests.framework ? s->tests.framework : "-", (int)s->build);
   free(s);
   detect_free(d);
}

int main(int argc, char** argv) {
   const char* path = "/tmp/realistic.log";
   int runs = 5;
   int dumping = 0, cold = 0, scan = detect_set_scan(-1);
   for (int i = 1; i < argc; i++) {
      if (strcmp(argv[i], "-r") == 0 && i + 1 < argc)
         runs = atoi(argv[++i]);
      else if (strcmp(argv[i], "-d") == 0)
         dumping = 1;
      else if (strcmp(argv[i], "-C") == 0)
         cold = 1;
      else if (strcmp(argv[i], "-s") == 0 && i + 1 < argc)
         scan = detect_set_scan(atoi(argv[++i]));
      else
         path = argv[i];
   }
   if (runs < 1) runs = 1;
   size_t len;
   char* buf = read_all(path, &len);
   size_t cap = 1024, nl = 0;
   Line* lines = malloc(cap * sizeof *lines);
   for (size_t p = 0; p < len;) {
      const char* nlp = memchr(buf + p, '\n', len - p);
      size_t e = nlp ? (size_t)(nlp - buf) : len;
      if (nl == cap) lines = realloc(lines, (cap *= 2) * sizeof *lines);
      lines[nl++] = (Line){buf + p, (uint32_t)(e - p)};
      p = e + 1;
   }
   if (dumping) {
      dump(lines, nl);
      free(lines);
      free(buf);
      return 0;
   }
   double* t = malloc((size_t)runs * sizeof *t);
   uint64_t sink = 0;
   for (int r = 0; r < runs; r++) {
      Detector* d = detect_new();
      t[r] = 0;
      /* brum classifies a line right after parsing it, so its bytes are in cache: unless -C,
       * each block of lines is read once (untimed) before it is classified (timed) */
      for (size_t b = 0; b < nl; b += BLOCK) {
         size_t e = b + BLOCK < nl ? b + BLOCK : nl;
         if (!cold)
            for (size_t i = b; i < e; i++)
               for (uint32_t k = 0; k < lines[i].n; k += 32) sink += (uint8_t)lines[i].s[k];
         double t0 = now_s();
         for (size_t i = b; i < e; i++) sink += detect_line(d, lines[i].s, lines[i].n, i, i / 100);
         t[r] += now_s() - t0;
      }
      detect_free(d);
   }
   qsort(t, (size_t)runs, sizeof *t, cmp_double);
   double best = t[0] * 1e9 / (double)nl, med = t[runs / 2] * 1e9 / (double)nl;
   printf(
       "scan=%d file=%s lines=%zu best_ns_per_line=%.1f median_ns_per_line=%.1f lines_per_s=%.0f "
       "(flags sum %" PRIu64 ")\n",
       scan, path, nl, best, med, (double)nl / t[0], sink);
   free(t);
   free(lines);
   free(buf);
   return 0;
}
