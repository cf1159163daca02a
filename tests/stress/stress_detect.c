/* Detection on its own thread (core/detwork.c) under concurrency: processes flood errors into
 * small log stores (reading pauses for the detector), are restarted while they print (the
 * supervisor detects what is left and resets the detector under its lock), while a reader
 * thread reads flags, findings and snapshots and a filter thread runs next-error finds over the
 * fresh lines. Every run seen ended must count all its errors. Run under TSan by tests/run.sh. */
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#include "core/filter.h"
#include "core/logstore.h"
#include "core/snap.h"
#include "core/sup.h"
#include "tests/stress/stress.h"

#define NPROC 3
#define LINES 20000
#define EVERY 10 /* an error line every EVERY lines: LINES / EVERY errors a run */

typedef struct Shared {
   Sup* sup;
   atomic_bool stop;
   atomic_ulong flagged, reads;
} Shared;

static Shared sh;

static void* reader(void* arg) {
   (void)arg;
   rcu_register_thread();
   while (!atomic_load(&sh.stop)) {
      rcu_read_lock();
      const Registry* r = sup_registry(sh.sup);
      for (size_t i = 0; r && i < r->n; i++) {
         const LogStore* ls = r->slots[i]->log;
         uint64_t end = logstore_detected(ls), b = logstore_begin(ls);
         LogIter it;
         LogLine l;
         logiter_init(&it, ls, end > 200 && end - 200 > b ? end - 200 : b);
         while (logiter_next(&it, &l))
            if (l.flags & LINE_ERROR) atomic_fetch_add(&sh.flagged, 1);
         const DetectSnap* d = sup_intel(r->slots[i]);
         if (d && d->nentries) (void)strlen(d->entries[d->nentries - 1].title);
         (void)sup_snap(r->slots[i])->errors;
      }
      rcu_read_unlock();
      atomic_fetch_add(&sh.reads, 1);
      stress_sleep_ms(1);
   }
   rcu_unregister_thread();
   return NULL;
}

static uint64_t add(Sup* s, int i) {
   char script[256];
   snprintf(script, sizeof script,
            "seq 1 %d | awk '{ if ($1 %% %d == 0) print \"Error: boom \" $1; else print \"line \" "
            "$1 }'",
            LINES, EVERY);
   char sh_[] = "/bin/sh", dc[] = "-c", name[16];
   snprintf(name, sizeof name, "p%d", i);
   char* argv[] = {sh_, dc, script, NULL};
   SupLaunch l = {.argv = argv, .cwd = "/tmp"};
   return sup_add(s, name, &l);
}

/* Waits until process id's run `restarts` is seen ended; its error count then (or ~0 on time). */
static uint64_t errors_when_ended(Sup* s, uint64_t id, unsigned restarts) {
   for (int i = 0; i < 60000; i++) {
      rcu_read_lock();
      const ProcSnap* p = sup_snap(sup_registry(s)->slots[id]);
      bool ended = p->restarts == restarts && p->started_ms && !snap_is_active(p->state);
      uint64_t e = p->errors;
      rcu_read_unlock();
      if (ended) return e;
      stress_sleep_ms(1);
   }
   return UINT64_MAX;
}

/* Next-error finds over one process while it floods: the hits must be error lines. */
static int finds(Filter* f, uint64_t id, int n) {
   int fails = 0;
   uint64_t from = 0;
   for (int k = 0; k < n; k++) {
      FindJob job = {.source = id, .from = from, .inclusive = true, .dir = 1, .flags = LINE_ERROR};
      uint64_t gen = filter_find(f, &job);
      bool done = false, found = false;
      uint64_t pos = 0;
      for (int w = 0; w < 20000 && !done; w++) {
         rcu_read_lock();
         const FindState* st = filter_find_state(f);
         done = st && st->gen == gen && atomic_load(&st->done);
         found = done && atomic_load(&st->found);
         pos = found ? atomic_load(&st->pos) : 0;
         if (found) {
            LogLine l;
            if (logstore_get(sup_registry(sh.sup)->slots[id]->log, pos, &l))
               EXPECT(memmem(l.text, l.len, "Error", 5) != NULL, "hit %" PRIu64 " is no error",
                      pos);
         }
         rcu_read_unlock();
         if (!done) stress_sleep_ms(1);
      }
      EXPECT(done, "find %d did not end", k);
      if (!found) break;
      from = pos + 1;
   }
   return fails;
}

static int case_flood_restart(void) {
   int fails = 0;
   SupConfig cfg = {.use_pty = false, .kill_timeout_s = 0.5, .cols = 100, .rows = 30};
   cfg.log.max_lines = 1000;
   EXPECT(sup_new(&cfg, &sh.sup, NULL) == 0, "sup_new");
   if (fails) return fails;
   Filter* f = NULL;
   EXPECT(filter_new(sh.sup, NULL, NULL, &f, NULL) == 0, "filter_new");
   atomic_store(&sh.stop, false);
   pthread_t rt;
   pthread_create(&rt, NULL, reader, NULL);
   uint64_t ids[NPROC];
   for (int i = 0; i < NPROC; i++) ids[i] = add(sh.sup, i);
   for (unsigned run = 0; run < 3; run++) {
      for (int i = 0; i < NPROC; i++) {
         if (run == 0)
            sup_start(sh.sup, ids[i]);
         else
            sup_restart(sh.sup, ids[i]);
      }
      fails += finds(f, ids[0], 50);
      for (int i = 0; i < NPROC; i++) {
         uint64_t e = errors_when_ended(sh.sup, ids[i], run);
         /* the findings count every run's errors (detect_restart keeps them) */
         EXPECT(e == (uint64_t)(run + 1) * (LINES / EVERY), "process %d run %u: %" PRIu64 " errors",
                i, run, e);
      }
   }
   atomic_store(&sh.stop, true);
   pthread_join(rt, NULL);
   filter_free(f);
   sup_quit(sh.sup);
   for (int i = 0; i < 1000 && !sup_finished(sh.sup); i++) stress_sleep_ms(10);
   EXPECT(sup_finished(sh.sup), "quit in time");
   sup_free(sh.sup);
   EXPECT(atomic_load(&sh.reads) > 0, "the reader ran");
   return fails;
}

int main(void) {
   static const StressCase cases[] = {{"detect: flood, restart, find, read", case_flood_restart}};
   return stress_main(cases, sizeof cases / sizeof cases[0]);
}
