/* A real supervisor under concurrency: about ten processes in PTYs that print (plain, coloured,
 * progress bars, errors and URLs, a flood, one that ignores SIGTERM, one that cannot start),
 * started, stopped, killed, restarted and resized from the main thread in a loop, with processes
 * added on the way, while two reader threads walk the registry, snapshots, intel (sup_intel),
 * log stores and the All index inside rcu_read_lock, as frames do. Then sup_quit, sup_finished
 * within a deadline, and sup_free. */
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#include "core/logstore.h"
#include "core/snap.h"
#include "core/sup.h"
#include "tests/stress/stress.h"

static const char* const scripts[] = {
    /* a burst, then exit 0 */
    "i=0; while [ $i -lt 300 ]; do echo \"burst line $i\"; i=$((i+1)); done",
    /* steady ticks */
    "i=0; while :; do echo \"tick $i\"; i=$((i+1)); sleep 0.01; done",
    /* errors with stack frames, warnings, a URL */
    "for i in 1 2 3; do echo \"Error: boom $i\"; echo \"    at f (src/a.js:$i:2)\"; "
    "echo \"warning: careful $i\"; done; echo \"  Local:   http://localhost:3000/\"; sleep 1",
    /* colours and \\r progress */
    "i=0; while [ $i -lt 50 ]; do printf '\\033[1;3%dmcolour %d\\033[0m plain\\n' $((i % 8)) $i; "
    "printf 'progress %d%%\\r' $i; i=$((i+1)); sleep 0.005; done; echo done",
    /* ignores SIGTERM: stop escalates to SIGKILL */
    "trap '' TERM; while :; do echo stubborn; sleep 0.05; done",
    /* fails */
    "echo about to fail; exit 3",
    /* a flood */
    "i=0; while [ $i -lt 5000 ]; do echo \"flood $i aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"; "
    "i=$((i+1)); done",
    /* asks the terminal where the cursor is, and runs a grandchild in its group */
    "printf '\\033[6n'; (sleep 3; echo grandchild) & echo parent; sleep 0.3",
    /* no newline at the end, and a long line */
    "printf 'x%.0s' $(seq 1 3000); echo; printf 'unterminated'; sleep 0.2",
};
#define NSCRIPTS (sizeof scripts / sizeof scripts[0])

typedef struct Shared {
   Sup* sup;
   atomic_bool stop;
   atomic_ulong bad, frames, lines_seen, snaps_seen, intel_seen, refs_seen, wakes;
   atomic_uint states_seen; /* bit per ProcState */
} Shared;

static Shared sh;

static void on_wake(void* ud) {
   atomic_fetch_add(&((Shared*)ud)->wakes, 1);
}

static void bad(const char* what, uint64_t id) {
   fprintf(stderr, "reader: %s (process %" PRIu64 ")\n", what, id);
   atomic_fetch_add(&sh.bad, 1);
}

static void check_line(const LogLine* l, uint64_t want_lineno, uint64_t id) {
   if (l->lineno != want_lineno) bad("line number", id);
   if (l->len > LOGSTORE_MAX_LINE) bad("line longer than the cap", id);
   if (l->nruns > LOGSTORE_MAX_RUNS) bad("too many runs", id);
   for (uint16_t k = 0; k < l->nruns; k++) {
      if (l->runs[k].start >= l->len) bad("run past the end", id);
      if (k && l->runs[k].start < l->runs[k - 1].start) bad("runs not sorted", id);
   }
   if (l->len && !l->text) bad("text missing", id);
}

static void read_frame(void) {
   rcu_read_lock();
   const Registry* r = sup_registry(sh.sup);
   for (size_t i = 0; i < r->n; i++) {
      const ProcSlot* slot = r->slots[i];
      if (slot->id != i || !slot->name || !slot->log) bad("slot", i);
      const ProcSnap* s = sup_snap(slot);
      if (!s || s->id != i) {
         bad("snapshot", i);
         continue;
      }
      if ((unsigned)s->state > PROC_BACKOFF) bad("state", i);
      atomic_fetch_or(&sh.states_seen, 1u << s->state);
      if (!s->message) bad("message", i);
      if (snap_is_active(s->state) && s->state == PROC_RUNNING && s->pid <= 0) bad("pid", i);
      char desc[64];
      snap_describe(s, desc, sizeof desc);
      atomic_fetch_add(&sh.snaps_seen, 1);

      const DetectSnap* d = sup_intel(slot);
      if (d) {
         if (d->nentries > DETECT_MAX_ENTRIES || d->nurls > DETECT_MAX_URLS) bad("intel size", i);
         for (uint32_t k = 0; k < d->nentries; k++) {
            const DetectEntry* e = &d->entries[k];
            if (!e->title || e->first_line > e->last_line) bad("intel entry", i);
         }
         for (uint32_t k = 0; k < d->nurls; k++)
            if (!d->urls[k].url || !d->urls[k].label || strlen(d->urls[k].url) == 0)
               bad("intel url", i);
         atomic_fetch_add(&sh.intel_seen, 1);
      }

      const LogStore* ls = slot->log;
      uint64_t b = logstore_begin(ls), e = logstore_end(ls);
      LogIter it;
      LogLine l;
      uint64_t from = e > b + 300 ? e - 300 : b, prev = 0;
      bool first = true;
      logiter_init(&it, ls, from);
      while (logiter_next(&it, &l)) {
         check_line(&l, l.lineno, i);
         if (!first && l.lineno <= prev) bad("iterator order", i);
         prev = l.lineno;
         first = false;
         atomic_fetch_add(&sh.lines_seen, 1);
      }
      if (e > b && logstore_get(ls, e - 1, &l)) check_line(&l, e - 1, i);
      if (logstore_partial(ls, &l)) check_line(&l, l.lineno, i);
   }
   /* the All view: refs resolve to a registered process, in increasing line order per process */
   const LineIdx* all = sup_all_index(sh.sup);
   uint64_t ab = lineidx_begin(all), ae = lineidx_end(all);
   uint64_t last[64] = {0};
   for (uint64_t p = ae > ab + 500 ? ae - 500 : ab; p < ae; p++) {
      uint64_t ref;
      if (!lineidx_get(all, p, &ref)) continue;
      uint64_t proc = LINEREF_PROC(ref), line = LINEREF_LINE(ref);
      if (proc >= r->n) continue; /* added after our registry load */
      if (proc < 64) {
         if (line < last[proc]) bad("All index order", proc);
         last[proc] = line;
      }
      LogLine l;
      if (logstore_get(r->slots[proc]->log, line, &l)) check_line(&l, line, proc);
      atomic_fetch_add(&sh.refs_seen, 1);
   }
   rcu_read_unlock();
   atomic_fetch_add(&sh.frames, 1);
}

static void* reader(void* arg) {
   (void)arg;
   rcu_register_thread();
   while (!atomic_load(&sh.stop)) {
      read_frame();
      stress_sleep_ms(1);
   }
   read_frame();
   rcu_unregister_thread();
   return NULL;
}

static uint64_t add_script(const char* name, const char* text) {
   char* argv[] = {(char*)"/bin/sh", (char*)"-c", (char*)text, NULL};
   SupLaunch l = {.argv = argv, .note = "stress"};
   return sup_add(sh.sup, name, &l);
}

static int lifecycle_under_readers(void) {
   int fails = 0;
   SupConfig cfg = {.use_pty = true,
                    .kill_timeout_s = 0.3,
                    .log = {.max_lines = 2000},
                    .cols = 100,
                    .rows = 30,
                    .wake = on_wake,
                    .wake_ud = &sh};
   EXPECT(sup_new(&cfg, &sh.sup, NULL) == 0, "sup_new");
   if (!sh.sup) return fails;
   char name[32];
   for (size_t i = 0; i < NSCRIPTS; i++) {
      snprintf(name, sizeof name, "s%zu", i);
      add_script(name, scripts[i]);
   }
   char* missing[] = {(char*)"/nonexistent/brum-stress-cmd", NULL};
   sup_add(sh.sup, "missing", &(SupLaunch){.argv = missing});
   uint64_t n = NSCRIPTS + 1;
   for (uint64_t i = 0; i < n; i++) sup_start(sh.sup, i);

   pthread_t r[2];
   for (int i = 0; i < 2; i++) pthread_create(&r[i], NULL, reader, NULL);
   uint64_t seed = 7;
   for (int round = 0; round < 400; round++) {
      uint64_t x = stress_rand(&seed), id = (x >> 8) % n;
      switch (x % 10) {
      case 0:
      case 1:
      case 2:
         sup_start(sh.sup, id);
         break;
      case 3:
      case 4:
         sup_restart(sh.sup, id);
         break;
      case 5:
      case 6:
         sup_stop(sh.sup, id);
         break;
      case 7:
         sup_kill(sh.sup, id);
         break;
      case 8:
         sup_resize(sh.sup, (unsigned short)(60 + x % 100), (unsigned short)(20 + x % 30));
         break;
      case 9:
         sup_resume(sh.sup, id);
         break;
      }
      if (round == 100 || round == 250) { /* the registry is replaced under the readers */
         snprintf(name, sizeof name, "late%d", round);
         uint64_t id2 = add_script(name, scripts[round == 100 ? 1 : 6]);
         EXPECT(id2 == n, "sup_add returned %" PRIu64 ", want %" PRIu64, id2, n);
         n++;
         sup_start(sh.sup, id2);
      }
      stress_sleep_ms((long)(x % 25));
   }
   for (uint64_t i = 0; i < n; i++) sup_start(sh.sup, i); /* quit while things run */
   stress_sleep_ms(100);

   uint64_t t0 = util_mono_ns();
   sup_quit(sh.sup);
   /* grace period + the supervisor's quit margin + slack for a slow sanitizer build */
   uint64_t deadline = t0 + 15000000000ull;
   while (!sup_finished(sh.sup) && util_mono_ns() < deadline) stress_sleep_ms(5);
   double quit_ms = (double)(util_mono_ns() - t0) / 1e6;
   EXPECT(sup_finished(sh.sup), "not finished %.0f ms after sup_quit", quit_ms);
   atomic_store(&sh.stop, true);
   for (int i = 0; i < 2; i++) pthread_join(r[i], NULL);

   rcu_read_lock();
   const Registry* reg = sup_registry(sh.sup);
   EXPECT(reg->n == n, "registry has %zu processes, want %" PRIu64, reg->n, n);
   for (size_t i = 0; i < reg->n; i++) {
      const ProcSnap* s = sup_snap(reg->slots[i]);
      EXPECT(!snap_is_active(s->state), "process %zu still %s after quit", i,
             snap_state_name(s->state));
   }
   rcu_read_unlock();
   EXPECT(atomic_load(&sh.bad) == 0, "%lu bad observations", atomic_load(&sh.bad));
   unsigned states = atomic_load(&sh.states_seen);
   EXPECT(states & (1u << PROC_RUNNING), "never saw a running process");
   EXPECT(atomic_load(&sh.lines_seen) > 0, "never saw a line");
   printf("  quit took %.0f ms; frames %lu, snapshots %lu, intel %lu, lines %lu, All refs %lu, "
          "wakes %lu, states seen 0x%x\n",
          quit_ms, atomic_load(&sh.frames), atomic_load(&sh.snaps_seen),
          atomic_load(&sh.intel_seen), atomic_load(&sh.lines_seen), atomic_load(&sh.refs_seen),
          atomic_load(&sh.wakes), states);
   sup_free(sh.sup);
   sh.sup = NULL;
   return fails;
}

int main(void) {
   static const StressCase cases[] = {
       {"sup: lifecycle commands under 2 readers", lifecycle_under_readers},
   };
   return stress_main(cases, ARRAY_LEN(cases));
}
