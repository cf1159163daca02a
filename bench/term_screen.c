/* term_screen: a full-screen child (bench/screen_writer) redrawing as fast as it can under the
 * supervisor, while a reader thread plays the UI at 60 frames/s (one RCU read section per frame,
 * copying the published TermScreen). Reports frames produced by the child per second, screens
 * published and screens a 60 Hz frame saw, and the supervisor process's CPU time.
 *
 * usage: term_screen SCREEN_WRITER [FRAMES] */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "core/rcu.h"
#include "core/sup.h"
#include "core/util.h"

static Sup* sup;
static atomic_bool done;
static atomic_ulong seen, published;

static double now_s(void) {
   struct timespec ts;
   clock_gettime(CLOCK_MONOTONIC, &ts);
   return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void) {
   struct rusage ru;
   getrusage(RUSAGE_SELF, &ru);
   return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
          (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void* ui(void* arg) {
   (void)arg;
   rcu_register_thread();
   static TermCell copy[1 << 16];
   uint64_t last = 0;
   while (!atomic_load(&done)) {
      rcu_read_lock();
      const TermScreen* ts = sup_screen(sup_registry(sup)->slots[0]);
      if (ts && ts->seq != last) {
         size_t n = (size_t)ts->rows * ts->cols;
         memcpy(copy, ts->cells, (n < 65536 ? n : 65536) * sizeof *copy);
         last = ts->seq;
         atomic_fetch_add(&seen, 1);
         atomic_store(&published, ts->seq);
      }
      rcu_read_unlock();
      nanosleep(&(struct timespec){0, 16666666}, NULL);
   }
   rcu_unregister_thread();
   return NULL;
}

int main(int argc, char** argv) {
   if (argc < 2) return fprintf(stderr, "usage: term_screen SCREEN_WRITER [FRAMES]\n"), 2;
   const char* frames = argc > 2 ? argv[2] : "2000";
   rcu_register_thread();
   util_log_open("/dev/stderr"); /* an emulator that falls behind says so */
   SupConfig cfg = {.use_pty = true, .cols = 200, .rows = 50};
   if (sup_new(&cfg, &sup, NULL) < 0) return 1;
   char dash_n[] = "-n", dash_k[] = "-k";
   char* av[] = {argv[1], dash_n, (char*)frames, dash_k, NULL};
   SupLaunch l = {.argv = av, .cwd = "."};
   sup_add(sup, "screen", &l);
   sup_term_want(sup, 0, true); /* keeps its screen after it leaves the alternate screen */
   pthread_t th;
   pthread_create(&th, NULL, ui, NULL);
   double t0 = now_s(), c0 = cpu_s();
   sup_start(sup, 0);
   for (;;) {
      rcu_read_lock();
      const ProcSnap* s = sup_snap(sup_registry(sup)->slots[0]);
      bool over = s->exit_seq && !s->output_open;
      if (over && s->state != PROC_EXITED)
         fprintf(stderr, "the writer ended: %s\n", snap_state_name(s->state));
      rcu_read_unlock();
      if (over) break;
      nanosleep(&(struct timespec){0, 5000000}, NULL);
   }
   double wall = now_s() - t0, cpu = cpu_s() - c0;
   nanosleep(&(struct timespec){0, 100000000}, NULL); /* the last screen is at most a frame late */
   atomic_store(&done, true);
   pthread_join(th, NULL);
   rcu_read_lock();
   const TermScreen* ts = sup_screen(sup_registry(sup)->slots[0]);
   unsigned long pub = ts ? (unsigned long)ts->seq : 0;
   char row0[64] = "";
   for (int c = 0; ts && c < 20 && c < ts->cols; c++) {
      uint32_t ch = ts->cells[c].ch;
      row0[c] = ch > 32 && ch < 127 ? (char)ch : ' ';
   }
   rcu_read_unlock();
   long nf = atol(frames);
   printf("last screen, row 0: '%s'\n", row0);
   printf("frames produced %ld in %.2f s (%.0f/s); screens published %lu (%.0f/s); seen by a "
          "60 Hz UI %lu (%.0f/s); brum CPU %.2f s (%.0f%% of one core)\n",
          nf, wall, nf / wall, pub, pub / wall, atomic_load(&seen), atomic_load(&seen) / wall, cpu,
          100 * cpu / wall);
   sup_quit(sup);
   while (!sup_finished(sup)) nanosleep(&(struct timespec){0, 10000000}, NULL);
   sup_free(sup);
   rcu_unregister_thread();
   return 0;
}
