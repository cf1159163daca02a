/* flood_writer: prints N (default 1,000,000) ~100-byte log lines, every 10th with colour codes, as
 * fast as it can (64 KiB writes), and records its own elapsed time so it does not mix with its
 * output.
 *
 * usage: flood_writer [-a] [-n LINES] [-r LINES_PER_S] [-t TIMEFILE]   (TIMEFILE also from
 *        $FLOOD_TIME_FILE)
 * -a: a full-screen program instead: on the alternate screen, the cursor home every FRAME_ROWS
 * lines, so each screenful redraws the screen (with -r 0: one screen, then still).
 * -n 0 prints without end. -r paces the lines: every millisecond, the lines due by then (against
 * the start, so a late wakeup catches up instead of lowering the rate); -r 0 prints a screenful (50
 * lines) and then waits for a signal, a still pane to measure against.
 * TIMEFILE gets one line: "lines=N bytes=B seconds=S lines_per_s=L". */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
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

static volatile sig_atomic_t stop;
static bool alt; /* -a */
#define FRAME_ROWS 35

/* Line i into buf (with its newline), preceded by the cursor home at each frame's first line
 * under -a; returns the bytes. */
static size_t put_line(uint64_t i, char* buf) {
   size_t used = 0;
   if (alt && i % FRAME_ROWS == 0) memcpy(buf, "\033[H", 3), used = 3;
   used += bench_log_line(i, 10, buf + used);
   buf[used++] = '\n';
   return used;
}

static void on_stop(int sig) {
   (void)sig;
   stop = 1;
}

/* Writes "lines=N bytes=B seconds=S lines_per_s=L" to `timefile` (NULL: nowhere). */
static int report(const char* timefile, uint64_t lines, uint64_t bytes, double secs) {
   if (!timefile) return 0;
   FILE* f = fopen(timefile, "w");
   if (!f) return 1;
   fprintf(f, "lines=%" PRIu64 " bytes=%" PRIu64 " seconds=%.6f lines_per_s=%.0f\n", lines, bytes,
           secs, secs > 0 ? (double)lines / secs : 0);
   fclose(f);
   return 0;
}

/* The lines due at the start plus `i_ms` milliseconds, at `rate` a second. */
static uint64_t due(uint64_t rate, uint64_t i_ms) {
   return rate * i_ms / 1000;
}

/* Sleeps until `t0` (CLOCK_MONOTONIC) plus `ms` milliseconds. */
static void sleep_until(const struct timespec* t0, uint64_t ms) {
   struct timespec at = *t0;
   uint64_t ns = (uint64_t)at.tv_nsec + ms % 1000 * 1000000;
   at.tv_sec += (time_t)(ms / 1000 + ns / 1000000000);
   at.tv_nsec = (long)(ns % 1000000000);
   while (!stop && clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, NULL) == EINTR) {
   }
}

/* -r: `rate` lines a second, without end when lines is 0. SIGTERM or SIGHUP ends it with the
 * report, so that a reader can check the rate it really got (a slow reader blocks the writes). */
static int paced(uint64_t lines, uint64_t rate, const char* timefile) {
   static char buf[1 << 20];
   struct timespec t0;
   clock_gettime(CLOCK_MONOTONIC, &t0);
   struct sigaction sa = {.sa_handler = on_stop};
   sigaction(SIGTERM, &sa, NULL);
   sigaction(SIGHUP, &sa, NULL);
   double start = now_s();
   uint64_t i = 0, bytes = 0;
   if (alt && write_all("\033[?1049h", 8) != 0) return 1;
   if (rate == 0) {
      size_t used = 0;
      for (; i < (alt ? FRAME_ROWS : 50); i++) used += put_line(i, buf + used);
      if (write_all(buf, used) != 0) return 1;
      while (!stop) pause();
      return 0;
   }
   for (uint64_t ms = 1; !stop && (lines == 0 || i < lines); ms++) {
      uint64_t end = due(rate, ms);
      if (lines && end > lines) end = lines;
      size_t used = 0;
      for (; i < end && used < sizeof buf - 600; i++) used += put_line(i, buf + used);
      bytes += used;
      if (used && write_all(buf, used) != 0) break;
      sleep_until(&t0, ms);
   }
   return report(timefile, i, bytes, now_s() - start);
}

int main(int argc, char** argv) {
   uint64_t lines = 1000000, rate = 0;
   bool have_rate = false;
   const char* timefile = getenv("FLOOD_TIME_FILE");
   int opt;
   while ((opt = getopt(argc, argv, "an:r:t:")) != -1) {
      if (opt == 'a')
         alt = true;
      else if (opt == 'n')
         lines = strtoull(optarg, NULL, 10);
      else if (opt == 'r')
         rate = strtoull(optarg, NULL, 10), have_rate = true;
      else if (opt == 't')
         timefile = optarg;
      else {
         fprintf(stderr, "usage: flood_writer [-a] [-n LINES] [-r LINES_PER_S] [-t TIMEFILE]\n");
         return 2;
      }
   }
   if (have_rate) return paced(lines, rate, timefile);
   if (lines == 0) lines = UINT64_MAX;
   if (alt && write_all("\033[?1049h", 8) != 0) return 1;
   static char buf[65536];
   size_t used = 0;
   uint64_t bytes = 0;
   double t0 = now_s();
   for (uint64_t i = 0; i < lines; i++) {
      if (used > sizeof buf - 600) {
         if (write_all(buf, used) != 0) return 1;
         used = 0;
      }
      size_t n = put_line(i, buf + used);
      used += n;
      bytes += n;
   }
   if (used && write_all(buf, used) != 0) return 1;
   return report(timefile, lines, bytes, now_s() - t0);
}
