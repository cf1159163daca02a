/* screen_writer: a full-screen program that redraws its whole screen as fast as it can, as a TUI
 * test runner or `top` under load would: the alternate screen, cursor home, every row rewritten
 * (coloured), N frames, then it leaves the alternate screen.
 *
 * usage: screen_writer [-n FRAMES] [-c COLS] [-r ROWS] [-k]   Prints "frames=F seconds=S" to
 * stderr. -k: stays on the alternate screen (the last frame is what a terminal shows). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_s(void) {
   struct timespec ts;
   clock_gettime(CLOCK_MONOTONIC, &ts);
   return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char** argv) {
   long frames = 2000;
   int cols = 200, rows = 50, o;
   bool keep = false;
   while ((o = getopt(argc, argv, "n:c:r:k")) != -1) {
      if (o == 'n')
         frames = atol(optarg);
      else if (o == 'c')
         cols = atoi(optarg);
      else if (o == 'r')
         rows = atoi(optarg);
      else if (o == 'k')
         keep = true;
      else
         return 2;
   }
   static char buf[1 << 20];
   double t0 = now_s();
   fputs("\033[?1049h", stdout);
   for (long f = 0; f < frames; f++) {
      size_t n = (size_t)snprintf(buf, sizeof buf, "\033[H");
      for (int r = 0; r < rows && n + (size_t)cols + 64 < sizeof buf; r++) {
         n += (size_t)snprintf(buf + n, sizeof buf - n, "\033[%d;1H\033[3%dm%6ld %3d ", r + 1,
                               (int)((f + r) % 8), f, r);
         for (int c = 11; c < cols; c++) buf[n++] = (char)('a' + (f + r + c) % 26);
         n += (size_t)snprintf(buf + n, sizeof buf - n, "\033[0m");
      }
      fwrite(buf, 1, n, stdout);
   }
   if (!keep) fputs("\033[?1049l", stdout);
   fflush(stdout);
   fprintf(stderr, "frames=%ld seconds=%.3f\n", frames, now_s() - t0);
   return 0;
}
