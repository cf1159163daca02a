/* The pause for the detector (core/detwork.c) and its answer, in the one interleaving that lost
 * it: the worker starts a slice, the supervisor reads on until the store is backlogged and pauses,
 * and only then does the slice end. That slice reached the end it loaded when it began, not the
 * lines read since, so its answer to the stall must not be the last one: the supervisor, told
 * while those lines are still undetected, stays paused, and nothing else would wake it.
 *
 * The interleaving is forced with the linker's --wrap (tests/CMakeLists.txt): the worker's
 * logstore_set_detected waits for the stall (det_stall), and for the supervisor to have handled
 * the worker's answer (det_found) if it sent one (sup_detected). */
#include <criterion/criterion.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/logstore.h"
#include "core/rcu.h"
#include "core/sup.h"

typedef struct Proc Proc;

/* ---------------------------------------------------------------- the wrapped calls */

void __real_logstore_set_detected(LogStore* ls, uint64_t upto);
bool __real_det_stall(Proc* p);
void __real_det_found(Proc* p);
void __real_sup_detected(Sup* s, uint64_t id);
void __wrap_logstore_set_detected(LogStore* ls, uint64_t upto);
bool __wrap_det_stall(Proc* p);
void __wrap_det_found(Proc* p);
void __wrap_sup_detected(Sup* s, uint64_t id);

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int slices;          /* the worker's marks so far */
static uint64_t first_upto; /* the mark of its first slice */
static bool worker_waits;   /* the first slice is held before it moves the mark */
static bool stalled;        /* the supervisor paused for the detector */
static bool answered;       /* the worker sent CMD_DETECTED after the stall */
static bool found;          /* the supervisor handled it */

/* Waits (under mu) until *flag, at most `ms`. */
static void wait_for(bool* flag, long ms) {
   struct timespec t;
   clock_gettime(CLOCK_REALTIME, &t);
   t.tv_sec += ms / 1000;
   t.tv_nsec += (ms % 1000) * 1000000L;
   if (t.tv_nsec >= 1000000000L) {
      t.tv_sec++;
      t.tv_nsec -= 1000000000L;
   }
   while (!*flag && pthread_cond_timedwait(&cv, &mu, &t) != ETIMEDOUT) {
   }
}

static void set(bool* flag) {
   pthread_mutex_lock(&mu);
   *flag = true;
   pthread_cond_broadcast(&cv);
   pthread_mutex_unlock(&mu);
}

static bool on_worker(void) {
   char name[32] = "";
   pthread_getname_np(pthread_self(), name, sizeof name);
   return strcmp(name, "brum-detect") == 0;
}

void __wrap_logstore_set_detected(LogStore* ls, uint64_t upto) {
   if (on_worker()) {
      pthread_mutex_lock(&mu);
      int n = ++slices;
      if (n == 1) {
         /* the end this slice loaded is old once the supervisor has read on and paused */
         first_upto = upto;
         worker_waits = true;
         pthread_cond_broadcast(&cv);
         wait_for(&stalled, 10000);
      } else if (n == 2 && answered) {
         /* the supervisor has its answer before this slice detects what it read since */
         wait_for(&found, 10000);
      }
      pthread_mutex_unlock(&mu);
   }
   __real_logstore_set_detected(ls, upto);
}

bool __wrap_det_stall(Proc* p) {
   bool paused = __real_det_stall(p);
   if (paused) set(&stalled);
   return paused;
}

void __wrap_sup_detected(Sup* s, uint64_t id) {
   pthread_mutex_lock(&mu);
   if (stalled) answered = true;
   pthread_mutex_unlock(&mu);
   __real_sup_detected(s, id);
}

void __wrap_det_found(Proc* p) {
   __real_det_found(p);
   pthread_mutex_lock(&mu);
   if (answered) found = true;
   pthread_cond_broadcast(&cv);
   pthread_mutex_unlock(&mu);
}

/* ---------------------------------------------------------------- the test */

static void sleep_ms(long ms) {
   nanosleep(&(struct timespec){ms / 1000, (ms % 1000) * 1000000L}, NULL);
}

static uint64_t lines_of(Sup* sup, uint64_t id) {
   rcu_read_lock();
   uint64_t end = logstore_end(sup_registry(sup)->slots[id]->log);
   rcu_read_unlock();
   return end;
}

#define FIRST 20    /* lines before the worker's first slice */
#define FLOOD 3000u /* 100-byte lines after it: ~300 KB, a backlog of a 64 KiB store many times */

Test(detwork_stall, a_slice_that_began_before_the_stall_does_not_answer_it, .timeout = 60) {
   rcu_register_thread();
   char dir[] = "/tmp/brum-stall-XXXXXX";
   cr_assert(mkdtemp(dir));
   char go[64], script[512];
   snprintf(go, sizeof go, "%s/go", dir);
   /* FIRST lines, then (once the worker holds its first slice) the flood; then it stays alive,
    * so that no end of the run catches detection up on the supervisor's thread */
   snprintf(script, sizeof script,
            "seq 1 %d; while [ ! -e %s ]; do sleep 0.01; done; "
            "awk 'BEGIN { for (i = 0; i < %u; i++) printf \"line %%06d %%090d\\n\", i, 0 }'; "
            "exec sleep 60",
            FIRST, go, FLOOD);
   SupConfig cfg = {.use_pty = false, .kill_timeout_s = 0.5, .cols = 100, .rows = 30};
   cfg.log.max_bytes = 64 * 1024;
   Sup* sup = NULL;
   cr_assert_eq(sup_new(&cfg, &sup, NULL), 0);
   char sh[] = "/bin/sh", dc[] = "-c";
   char* argv[] = {sh, dc, script, NULL};
   SupLaunch l = {.argv = argv, .cwd = "/tmp"};
   uint64_t id = sup_add(sup, "p", &l);
   sup_start(sup, id);

   pthread_mutex_lock(&mu);
   wait_for(&worker_waits, 20000);
   bool waits = worker_waits;
   pthread_mutex_unlock(&mu);
   cr_assert(waits, "the worker began a slice");
   FILE* f = fopen(go, "w");
   cr_assert(f);
   fclose(f);
   pthread_mutex_lock(&mu);
   wait_for(&stalled, 20000);
   bool paused = stalled;
   pthread_mutex_unlock(&mu);
   cr_assert(paused, "the supervisor paused for the detector");
   cr_assert_lt(first_upto, lines_of(sup, id), "the held slice ends below what was read since");

   /* every line arrives: the pause is answered once the lines read since are detected */
   uint64_t want = FIRST + FLOOD, got = 0;
   for (int i = 0; i < 1000 && (got = lines_of(sup, id)) < want; i++) sleep_ms(10);
   cr_assert_geq(got, want,
                 "reading stayed paused at %" PRIu64 " of %" PRIu64 " lines (answered: %d)", got,
                 want, (int)answered);

   sup_quit(sup);
   for (int i = 0; i < 1000 && !sup_finished(sup); i++) sleep_ms(10);
   cr_assert(sup_finished(sup), "the supervisor finished quitting in time");
   sup_free(sup);
   unlink(go);
   rmdir(dir);
   rcu_unregister_thread();
}
