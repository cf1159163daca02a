/* key_flood: keypress-to-screen latency of brum's pane switch while the shown pane floods, measured
 * at brum's own terminal (this program is the terminal: a PTY it reads as fast as brum writes).
 *
 * A temporary project has two scripts: `flood` (flood_writer at -r RATE lines a second without end;
 * -r 0 prints a screenful and stops, the idle baseline) and `quiet` (40 marker lines, then sleep).
 * brum starts with both, `flood` shown. Each press of `2` shows `quiet`; its latency is the time
 * from writing the key to reading the first marker brum draws. Then `1` goes back to the flood (its
 * text seen again), and a random 20-60 ms pause spreads the next press over the frame period.
 *
 * With -T FILE brum runs with BRUM_TRACE=FILE, and the press latencies are split into: key written
 * to key read by brum (the loop was busy or not scheduled), read to frame start (frame pacing),
 * building the canvas, copying it to curses, writing the terminal, and written to seen here.
 *
 * usage: key_flood -b BRUM -w FLOOD_WRITER [-r LINES_PER_S] [-n PRESSES] [-T TRACEFILE] [-l LABEL]
 * Prints "LABEL p50 X ms p95 Y ms max Z ms (N presses)" and, with -T, the breakdown. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define QUIET_MARK "KEYLATMARK"
#define FLOOD_MARK "rid=" /* in every flood_writer line, nowhere else on brum's screen */
#define WAIT_NS 10000000000ull

static int master = -1;
static pid_t child = -1;

static uint64_t now_ns(void) {
   struct timespec ts;
   clock_gettime(CLOCK_MONOTONIC, &ts);
   return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void die(const char* what) {
   fprintf(stderr, "key_flood: %s: %s\n", what, errno ? strerror(errno) : "failed");
   if (child > 0) kill(child, SIGKILL);
   exit(1);
}

/* Reads brum's output until `mark` shows (NULL: only drains) or `deadline` passes; returns the time
 * the mark was read, or 0 at the deadline. A mark split across two reads is still found. */
static uint64_t read_until(const char* mark, uint64_t deadline) {
   static char buf[1 << 16];
   static size_t keep; /* bytes carried over from the previous read */
   size_t mlen = mark ? strlen(mark) : 0;
   if (!mark) keep = 0;
   for (;;) {
      uint64_t now = now_ns();
      if (now >= deadline) return 0;
      struct pollfd pfd = {.fd = master, .events = POLLIN};
      int ms = (int)((deadline - now + 999999) / 1000000);
      if (poll(&pfd, 1, ms) < 0 && errno != EINTR) die("poll");
      ssize_t n = read(master, buf + keep, sizeof buf - keep);
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (n <= 0) die("brum's terminal closed");
      size_t len = keep + (size_t)n;
      if (mark && memmem(buf, len, mark, mlen)) {
         keep = 0;
         return now_ns();
      }
      keep = mark && len >= mlen ? mlen - 1 : 0;
      memmove(buf, buf + len - keep, keep);
   }
}

static void drain_for(uint64_t ns) {
   read_until(NULL, now_ns() + ns);
}

static void press(char key) {
   if (write(master, &key, 1) != 1) die("write to brum's terminal");
}

/* The project directory with the two scripts; returns its path (heap). */
static char* make_project(const char* writer, unsigned long rate) {
   char tmpl[] = "/tmp/key_flood.XXXXXX";
   if (!mkdtemp(tmpl)) die("mkdtemp");
   char path[4200];
   snprintf(path, sizeof path, "%s/package.json", tmpl);
   FILE* f = fopen(path, "w");
   if (!f) die("create package.json");
   fprintf(f,
           "{\"name\":\"key-flood\",\"scripts\":{\"flood\":\"exec %s -n 0 -r %lu -t flood.time\","
           "\"quiet\":\"i=0; while [ $i -lt 40 ]; do echo " QUIET_MARK " $i; i=$((i+1)); done; "
           "exec sleep 100000\"}}\n",
           writer, rate);
   fclose(f);
   return strdup(tmpl);
}

/* -L CMD: a load that runs beside brum during the presses (e.g. control clients polling its
 * socket), as `sh -c CMD` in its own process group, with KF_DIR and XDG_RUNTIME_DIR naming the
 * project and brum's socket directory. */
static pid_t start_load(const char* cmd, const char* dir) {
   pid_t pid = fork();
   if (pid < 0) die("fork");
   if (pid == 0) {
      setpgid(0, 0);
      setenv("KF_DIR", dir, 1);
      setenv("XDG_RUNTIME_DIR", dir, 1);
      execl("/bin/sh", "sh", "-c", cmd, (char*)NULL);
      _exit(127);
   }
   setpgid(pid, pid);
   return pid;
}

static void stop_load(pid_t pid) {
   if (pid <= 0) return;
   kill(-pid, SIGTERM);
   int st;
   while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
   }
}

static void start_brum(const char* brum, const char* dir, const char* trace) {
   struct winsize ws = {.ws_row = 40, .ws_col = 120};
   child = forkpty(&master, NULL, NULL, &ws);
   if (child < 0) die("forkpty");
   if (child == 0) {
      setenv("TERM", "xterm-256color", 1);
      setenv("LANG", "C.UTF-8", 1);
      setenv("LC_ALL", "C.UTF-8", 1);
      setenv("XDG_RUNTIME_DIR", dir, 1); /* a private control socket */
      setenv("XDG_STATE_HOME", dir, 1);  /* and log */
      if (trace)
         setenv("BRUM_TRACE", trace, 1);
      else
         unsetenv("BRUM_TRACE");
      execl(brum, brum, "-d", dir, "flood", "quiet", (char*)NULL);
      perror("exec brum");
      _exit(127);
   }
   fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK);
}

/* SIGTERM stops brum as its quit does; reading on keeps its last writes from blocking. */
static void stop_brum(void) {
   kill(child, SIGTERM);
   uint64_t deadline = now_ns() + 20000000000ull;
   int st;
   while (waitpid(child, &st, WNOHANG) == 0) {
      if (now_ns() > deadline) {
         kill(child, SIGKILL);
         waitpid(child, &st, 0);
         break;
      }
      struct pollfd pfd = {.fd = master, .events = POLLIN};
      if (poll(&pfd, 1, 10) > 0) {
         char buf[65536];
         if (read(master, buf, sizeof buf) <= 0) usleep(10000);
      }
   }
   close(master);
}

/* The rate the flood really had: a reader that falls behind blocks the writer below -r. */
static void print_rate(const char* dir, unsigned long rate) {
   char path[4200], line[256] = "";
   snprintf(path, sizeof path, "%s/flood.time", dir);
   FILE* f = fopen(path, "r");
   if (f) {
      if (!fgets(line, sizeof line, f)) line[0] = '\0';
      fclose(f);
   }
   if (rate) printf("  flood (asked %lu lines/s): %s", rate, line[0] ? line : "no report\n");
}

static int cmp_u64(const void* a, const void* b) {
   uint64_t x = *(const uint64_t*)a, y = *(const uint64_t*)b;
   return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of n sorted values. */
static double pct_ms(const uint64_t* v, size_t n, double p) {
   size_t r = (size_t)(p * (double)n + 0.999999);
   if (r < 1) r = 1;
   if (r > n) r = n;
   return (double)v[r - 1] / 1e6;
}

static void print_stat(const char* label, uint64_t* v, size_t n) {
   qsort(v, n, sizeof *v, cmp_u64);
   printf("%-34s p50 %7.2f ms  p95 %7.2f ms  max %7.2f ms  (%zu presses)\n", label,
          pct_ms(v, n, 0.5), pct_ms(v, n, 0.95), pct_ms(v, n, 1.0), n);
}

enum { PH_INPUT, PH_PACING, PH_VIEW, PH_BLIT, PH_REFRESH, PH_TERMINAL, PH_N };
static const char* const ph_names[PH_N] = {
    "  key written -> read by brum", "  read -> frame start (pacing)",
    "  view (sync, tick, draw)",     "  blit to curses",
    "  doupdate (terminal write)",   "  written -> seen here"};

/* Splits each press into phases from the trace: brum's records alternate `2` and `1`. */
static void print_trace(const char* path, const uint64_t* sent, const uint64_t* seen, size_t n) {
   FILE* f = fopen(path, "r");
   if (!f) {
      printf("  trace: none (this brum does not know BRUM_TRACE)\n");
      return;
   }
   char line[512];
   uint64_t* ph[PH_N];
   for (int i = 0; i < PH_N; i++) ph[i] = calloc(n, sizeof(uint64_t));
   size_t k = 0, rec = 0;
   while (fgets(line, sizeof line, f)) {
      uint64_t r, s, d, b, w;
      if (strncmp(line, "frames ", 7) == 0) printf("  brum: %s", line);
      if (sscanf(line,
                 "key read %" SCNu64 " start %" SCNu64 " drawn %" SCNu64 " blitted %" SCNu64
                 " refreshed %" SCNu64,
                 &r, &s, &d, &b, &w) != 5)
         continue;
      if (rec++ % 2 || k >= n) continue;
      ph[PH_INPUT][k] = r > sent[k] ? r - sent[k] : 0;
      ph[PH_PACING][k] = s - r;
      ph[PH_VIEW][k] = d - s;
      ph[PH_BLIT][k] = b - d;
      ph[PH_REFRESH][k] = w - b;
      ph[PH_TERMINAL][k] = seen[k] > w ? seen[k] - w : 0;
      k++;
   }
   fclose(f);
   if (k != n) printf("  trace: %zu of %zu presses recorded\n", k, n);
   for (int i = 0; i < PH_N; i++) {
      if (k) print_stat(ph_names[i], ph[i], k);
      free(ph[i]);
   }
}

int main(int argc, char** argv) {
   const char *brum = NULL, *writer = NULL, *trace = NULL, *label = "key_flood", *load = NULL;
   unsigned long rate = 200000, n = 200;
   int opt;
   while ((opt = getopt(argc, argv, "b:w:r:n:T:l:L:")) != -1) {
      if (opt == 'b')
         brum = optarg;
      else if (opt == 'w')
         writer = optarg;
      else if (opt == 'r')
         rate = strtoul(optarg, NULL, 10);
      else if (opt == 'n')
         n = strtoul(optarg, NULL, 10);
      else if (opt == 'T')
         trace = optarg;
      else if (opt == 'l')
         label = optarg;
      else if (opt == 'L')
         load = optarg;
      else
         break;
   }
   if (!brum || !writer || n == 0 || optind < argc) {
      fprintf(stderr, "usage: key_flood -b BRUM -w FLOOD_WRITER [-r LINES_PER_S] [-n PRESSES] "
                      "[-T TRACEFILE] [-l LABEL] [-L LOAD_CMD]\n");
      return 2;
   }
   char* dir = make_project(writer, rate);
   start_brum(brum, dir, trace);
   if (!read_until(FLOOD_MARK, now_ns() + WAIT_NS)) die("the flood never showed");
   drain_for(1000000000ull);
   pid_t load_pid = load ? start_load(load, dir) : 0;
   if (load) drain_for(1000000000ull); /* the load is under way */
   uint64_t *sent = calloc(n, sizeof *sent), *seen = calloc(n, sizeof *seen),
            *lat = calloc(n, sizeof *lat);
   unsigned seed = 12345;
   for (size_t i = 0; i < n; i++) {
      sent[i] = now_ns();
      press('2');
      seen[i] = read_until(QUIET_MARK, sent[i] + WAIT_NS);
      if (!seen[i]) die("the quiet pane never showed after a key");
      lat[i] = seen[i] - sent[i];
      drain_for(20000000ull + (uint64_t)(rand_r(&seed) % 40000) * 1000u);
      uint64_t back = now_ns();
      press('1');
      if (!read_until(FLOOD_MARK, back + WAIT_NS)) die("the flood never showed again");
      drain_for(20000000ull + (uint64_t)(rand_r(&seed) % 40000) * 1000u);
   }
   stop_load(load_pid);
   stop_brum();
   print_stat(label, lat, n);
   print_rate(dir, rate);
   if (trace) print_trace(trace, sent, seen, n);
   free(sent);
   free(seen);
   free(lat);
   char cmd[4300];
   snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
   if (system(cmd) != 0) fprintf(stderr, "key_flood: could not remove %s\n", dir);
   free(dir);
   return 0;
}
