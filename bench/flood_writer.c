/* flood_writer: prints N (default 1,000,000) ~100-byte log lines, every 10th with colour codes, as
 * fast as it can (64 KiB writes), and records its own elapsed time so it does not mix with its
 * output.
 *
 * usage: flood_writer [-n LINES] [-t TIMEFILE]   (TIMEFILE also from $FLOOD_TIME_FILE)
 * TIMEFILE gets one line: "lines=N bytes=B seconds=S lines_per_s=L". */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench.h"

static double now_s(void) {
   struct timespec ts;
   clock_gettime(CLOCK_MONOTONIC, &ts);
   return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int write_all(const char* p, size_t n) {
   while (n) {
      ssize_t w = write(STDOUT_FILENO, p, n);
      if (w < 0) {
         if (errno == EINTR) continue;
         return -1;
      }
      p += w;
      n -= (size_t)w;
   }
   return 0;
}

int main(int argc, char** argv) {
   uint64_t lines = 1000000;
   const char* timefile = getenv("FLOOD_TIME_FILE");
   int opt;
   while ((opt = getopt(argc, argv, "n:t:")) != -1) {
      if (opt == 'n')
         lines = strtoull(optarg, NULL, 10);
      else if (opt == 't')
         timefile = optarg;
      else {
         fprintf(stderr, "usage: flood_writer [-n LINES] [-t TIMEFILE]\n");
         return 2;
      }
   }
   static char buf[65536];
   size_t used = 0;
   uint64_t bytes = 0;
   double t0 = now_s();
   for (uint64_t i = 0; i < lines; i++) {
      if (used > sizeof buf - 600) {
         if (write_all(buf, used) != 0) return 1;
         used = 0;
      }
      size_t n = bench_log_line(i, 10, buf + used);
      buf[used + n] = '\n';
      used += n + 1;
      bytes += n + 1;
   }
   if (used && write_all(buf, used) != 0) return 1;
   double secs = now_s() - t0;
   if (timefile) {
      FILE* f = fopen(timefile, "w");
      if (!f) return 1;
      fprintf(f, "lines=%" PRIu64 " bytes=%" PRIu64 " seconds=%.6f lines_per_s=%.0f\n", lines,
              bytes, secs, secs > 0 ? (double)lines / secs : 0);
      fclose(f);
   }
   return 0;
}
