/* Orchestration in the per-process state machine: a start request starts a process's dependencies
 * first and holds it in PROC_WAITING until they meet their conditions (and, for a pooled process,
 * until fewer than max_pooled pooled ones run); the restart policy puts an
 * ended process in PROC_BACKOFF and starts it again after a delay; quitting stops dependents
 * before their dependencies, one level at a time. Supervisor thread only, except orch_init and
 * orch_free (main thread, with proc_new and proc_free). */
#include "core/orch.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/snap.h"
#include "core/sup_int.h"
#include "core/util.h"

OrchBackoff orch_backoff(double first_s, unsigned streak, uint64_t up_ms) {
   if (!(first_s > 0)) first_s = 1.0;
   if (up_ms >= ORCH_BACKOFF_RESET_MS) streak = 0;
   double cap = first_s > ORCH_BACKOFF_MAX_S ? first_s : ORCH_BACKOFF_MAX_S;
   double d = first_s;
   for (unsigned i = 0; i < streak && d < cap; i++) d *= 2;
   if (d > cap) d = cap;
   return (OrchBackoff){.delay_ms = (uint64_t)(d * 1000.0 + 0.5), .streak = streak + 1};
}

void orch_init(Proc* p, const SupLaunch* l) {
   if (l->ndeps) {
      p->deps = xmalloc(l->ndeps * sizeof *p->deps);
      memcpy(p->deps, l->deps, l->ndeps * sizeof *p->deps);
      p->dep_met = xcalloc(l->ndeps, sizeof *p->dep_met);
      p->ndeps = l->ndeps;
   }
   p->restart = l->restart;
   p->pooled = l->pooled;
   p->backoff_s = l->backoff_s > 0 ? l->backoff_s : 1.0;
   p->max_restarts = l->max_restarts;
   p->stop_signal = l->stop_signal;
   if (p->stop_signal <= 0 || p->stop_signal >= NSIG) {
      /* the loaders name signals; a number that is none would make stops wait for SIGKILL */
      if (p->stop_signal)
         util_log("%s: stop signal %d is no signal: SIGTERM", p->slot.name, p->stop_signal);
      p->stop_signal = SIGTERM;
   }
   double kt = l->kill_timeout_s > 0 ? l->kill_timeout_s : p->sup->cfg.kill_timeout_s;
   p->kill_ms = (uint64_t)(kt * 1000.0);
   p->seen_state = p->cur.state;
}

void orch_free(Proc* p) {
   free(p->deps);
   free(p->dep_met);
}

static void close_freed(uv_handle_t* h) {
   free(h);
}

void orch_close(Proc* p) {
   if (p->backoff_timer) uv_close((uv_handle_t*)p->backoff_timer, close_freed);
   p->backoff_timer = NULL;
}

/* ---------------------------------------------------------------- dependencies */

static const char* cond_name(SupDepCond c) {
   return c == SUP_DEP_STARTED ? "started" : c == SUP_DEP_READY ? "ready" : "exited_ok";
}

typedef enum { DEP_PENDING, DEP_MET, DEP_FAILED } DepStatus;

/* Why a dependency that ended can no longer meet its condition (heap). */
static char* dep_why(const Proc* q, SupDepCond cond) {
   const ProcSnap* c = &q->cur;
   char desc[64];
   snap_describe(c, desc, sizeof desc);
   const char* msg = q->message && *q->message ? q->message : NULL;
   const char* probe = q->probe_err;
   if (c->exit_code == -1 && c->state == PROC_FAILED && msg) return xstrdup(msg);
   if (cond == SUP_DEP_READY)
      return probe ? xasprintf("ended before it was ready (%s); %s", desc, probe)
                   : xasprintf("ended before it was ready (%s)", desc);
   return xasprintf("%s", desc);
}

/* Whether q meets cond now; DEP_FAILED when it never will this time (*why, heap, says why). */
static DepStatus dep_status(const Proc* q, SupDepCond cond, char** why) {
   const ProcSnap* c = &q->cur;
   switch (cond) {
   case SUP_DEP_STARTED:
      if (c->state == PROC_RUNNING || c->state == PROC_STOPPING) return DEP_MET;
      /* it ran and already ended (exit_code -1: it never ran) */
      if (c->state >= PROC_EXITED && c->state <= PROC_STOPPED && c->exit_code != -1) return DEP_MET;
      break;
   case SUP_DEP_READY:
      if (c->ready_ms) return DEP_MET;
      if (q->probe_gave_up) {
         *why = xasprintf("not ready: %s", q->probe_err ? q->probe_err : "its probe gave up");
         return DEP_FAILED;
      }
      break;
   case SUP_DEP_EXITED_OK:
      if (c->state == PROC_EXITED) return DEP_MET;
      break;
   }
   if (c->state >= PROC_EXITED && c->state <= PROC_STOPPED) {
      *why = dep_why(q, cond);
      return DEP_FAILED;
   }
   return DEP_PENDING; /* idle, starting, running, stopping, waiting, or restarting */
}

static void orch_leave_waiting(Proc* p) {
   if (p->cur.state == PROC_WAITING && p->sup->nwaiting) p->sup->nwaiting--;
}

/* The process ends without having run: FAILED with exit code -1 and a message saying why. */
static void orch_fail(Proc* p, char* msg) {
   Sup* s = p->sup;
   orch_leave_waiting(p);
   proc_ensure_parser(p);
   util_log("%s: %s", p->slot.name, msg);
   proc_marker(p, "── %s ──", msg);
   proc_set_message(p, msg);
   ProcSnap* c = &p->cur;
   c->state = PROC_FAILED;
   c->pid = 0;
   c->exit_code = -1;
   c->term_signal = 0;
   c->ready_ms = 0;
   c->ended_ms = util_now_ms();
   c->exit_seq = ++s->exit_seq;
   proc_publish(p);
}

/* A pooled process may start only while the pool has a free place (SupConfig.max_pooled). */
static bool pool_full(const Proc* p) {
   const Sup* s = p->sup;
   return p->pooled && s->cfg.max_pooled && s->npooled >= s->cfg.max_pooled;
}

/* A waiting process looks at its dependencies again: it starts once all are met and the pool has
 * room, fails when one never will be, and otherwise says what it waits for. */
static void orch_eval(Proc* p) {
   const char* first = NULL;
   SupDepCond first_cond = SUP_DEP_STARTED;
   for (size_t i = 0; i < p->ndeps; i++) {
      if (p->dep_met[i]) continue;
      Proc* q = sup_proc(p->sup, p->deps[i].id);
      char* why = NULL;
      DepStatus st = dep_status(q, p->deps[i].cond, &why);
      if (st == DEP_FAILED) {
         char* msg = xasprintf("dependency %s failed: %s", q->slot.name, why);
         free(why);
         orch_fail(p, msg);
         return;
      }
      if (st == DEP_MET) p->dep_met[i] = true;
      if (st == DEP_PENDING && !first) first = q->slot.name, first_cond = p->deps[i].cond;
   }
   if (!first && !pool_full(p)) {
      orch_leave_waiting(p);
      proc_start(p);
      return;
   }
   char* msg = first ? xasprintf("waiting for %s (%s)", first, cond_name(first_cond))
                     : xasprintf("waiting for a slot (%u running)", p->sup->npooled);
   if (p->message && strcmp(p->message, msg) == 0) {
      free(msg);
      return;
   }
   proc_set_message(p, msg);
   proc_publish(p);
}

void on_orch_timer(uv_timer_t* t) {
   Sup* s = t->data;
   size_t n = sup_count(s);
   for (size_t i = 0; i < n && s->nwaiting; i++) {
      Proc* p = sup_proc(s, i);
      if (p->cur.state == PROC_WAITING) orch_eval(p);
   }
}

void orch_published(Proc* p) {
   Sup* s = p->sup;
   /* the pool counts what runs: a place frees when a pooled run ends, however it ends */
   bool in = p->pooled && snap_is_active(p->cur.state);
   if (in != p->in_pool) {
      p->in_pool = in;
      if (in)
         s->npooled++;
      else
         s->npooled--;
   }
   if (p->cur.state == p->seen_state && p->cur.ready_ms == p->seen_ready &&
       p->probe_gave_up == p->seen_gave_up)
      return;
   p->seen_state = p->cur.state;
   p->seen_ready = p->cur.ready_ms;
   p->seen_gave_up = p->probe_gave_up;
   /* Looked at on the next turn of the loop, not inside the publication that may be in the middle
    * of another process's state change. */
   if (s->nwaiting && !s->quitting && !uv_is_active((uv_handle_t*)&s->orch_timer)) {
      int err = uv_timer_start(&s->orch_timer, on_orch_timer, 0, 0);
      if (err < 0) util_log("cannot start the orchestration timer: %s", uv_strerror(err));
   }
}

/* Starts p's dependencies that have no child (recursively), then p, or holds p in PROC_WAITING.
 * A dependency on a process already on the walk's path is a cycle: p fails at once. */
static void orch_request(Proc* p) {
   ProcState st = p->cur.state;
   if (snap_is_active(st) || st == PROC_WAITING || p->sup->quitting) return;
   proc_ensure_handles(p);
   if (!p->ndeps && !pool_full(p)) {
      proc_start(p);
      return;
   }
   p->on_path = true;
   for (size_t i = 0; i < p->ndeps; i++) {
      Proc* q = sup_proc(p->sup, p->deps[i].id);
      char* msg = NULL;
      if (!q)
         msg = xasprintf("dependency #%llu does not exist", (unsigned long long)p->deps[i].id);
      else if (q->on_path)
         msg = xasprintf("dependency cycle: %s depends on %s, which depends on it", p->slot.name,
                         q->slot.name);
      if (msg) {
         p->on_path = false;
         orch_fail(p, msg);
         return;
      }
      orch_request(q);
   }
   p->on_path = false;
   if (st == PROC_BACKOFF) uv_timer_stop(p->backoff_timer);
   if (p->ndeps) memset(p->dep_met, 0, p->ndeps * sizeof *p->dep_met);
   p->cur.state = PROC_WAITING;
   p->cur.pid = 0;
   p->cur.ready_ms = 0; /* the last run's: its dependents wait for the next run's */
   proc_set_message(p, NULL);
   p->sup->nwaiting++;
   orch_eval(p); /* publishes: the waiting state, or the start, or the failure */
}

void orch_start(Proc* p) {
   if (p->cur.state == PROC_WAITING || proc_active(p)) return;
   p->auto_restarts = 0; /* the user's start: the policy counts anew */
   p->backoff_streak = 0;
   orch_request(p);
}

bool orch_cancel(Proc* p) {
   ProcState st = p->cur.state;
   if (st != PROC_WAITING && st != PROC_BACKOFF) return false;
   orch_leave_waiting(p);
   if (p->backoff_timer) uv_timer_stop(p->backoff_timer);
   ProcSnap* c = &p->cur;
   c->state = PROC_STOPPED;
   c->pid = 0;
   c->ended_ms = util_now_ms();
   c->exit_seq = ++p->sup->exit_seq;
   if (st == PROC_WAITING) c->exit_code = -1; /* it never ran this time */
   proc_set_message(p, NULL);
   proc_ensure_parser(p);
   proc_marker(p, st == PROC_WAITING ? "── stopped while waiting ──" : "── restart cancelled ──");
   proc_publish(p);
   return true;
}

/* ---------------------------------------------------------------- restarts */

static void on_backoff(uv_timer_t* t) {
   Proc* p = t->data;
   if (p->cur.state != PROC_BACKOFF) return;
   if (pool_full(p))
      orch_request(p); /* its place went to another meanwhile: it waits for one, as at a start */
   else
      proc_start(p);
}

/* Whether the policy wants this end followed by a new run. */
static bool orch_wants_restart(const Proc* p, bool by_user) {
   if (by_user || p->sup->quitting || p->restart == SUP_RESTART_NO) return false;
   ProcState st = p->cur.state;
   if (st == PROC_FAILED || st == PROC_KILLED) return true;
   return st == PROC_EXITED && p->restart == SUP_RESTART_ALWAYS;
}

bool orch_ended(Proc* p, bool by_user) {
   if (!orch_wants_restart(p, by_user)) return false;
   if (p->max_restarts >= 0 && p->auto_restarts >= (unsigned)p->max_restarts) {
      char* msg = xasprintf("gave up after %u restart%s", p->auto_restarts,
                            p->auto_restarts == 1 ? "" : "s");
      proc_marker(p, "── %s ──", msg);
      proc_set_message(p, msg); /* beside "failed (1)" in the UI */
      proc_publish(p);
      return true;
   }
   ProcSnap* c = &p->cur;
   uint64_t up = c->ended_ms > c->started_ms ? c->ended_ms - c->started_ms : 0;
   OrchBackoff b = orch_backoff(p->backoff_s, p->backoff_streak, up);
   p->backoff_streak = b.streak;
   p->auto_restarts++;
   char of[32] = "";
   if (p->max_restarts >= 0) snprintf(of, sizeof of, " of %d", p->max_restarts);
   proc_set_message(p, xasprintf("restarting in %g s (restart %u%s)", (double)b.delay_ms / 1000.0,
                                 p->auto_restarts, of));
   c->state = PROC_BACKOFF;
   proc_timer_start(p, p->backoff_timer, on_backoff, b.delay_ms, 0);
   proc_publish(p);
   return true;
}

/* ---------------------------------------------------------------- stop order */

/* Each process's level: 0 when nothing depends on it, else one more than its highest dependent.
 * Relaxed at most n times, so a cycle (which the loaders refuse) still ends. */
static void orch_levels(Sup* s, size_t n) {
   for (size_t i = 0; i < n; i++) sup_proc(s, i)->stop_level = 0;
   bool changed = true;
   for (size_t round = 0; changed && round < n; round++) {
      changed = false;
      for (size_t i = 0; i < n; i++) {
         Proc* p = sup_proc(s, i);
         for (size_t k = 0; k < p->ndeps; k++) {
            Proc* q = sup_proc(s, p->deps[k].id);
            if (q && q != p && q->stop_level < p->stop_level + 1) {
               q->stop_level = p->stop_level + 1;
               changed = true;
            }
         }
      }
   }
}

uint64_t orch_quit_begin(Sup* s) {
   size_t n = sup_count(s);
   unsigned top = 0;
   for (size_t i = 0; i < n; i++) {
      Proc* p = sup_proc(s, i);
      p->restart_pending = false;
      orch_cancel(p);
   }
   s->nwaiting = 0;
   orch_levels(s, n);
   for (size_t i = 0; i < n; i++) {
      Proc* p = sup_proc(s, i);
      if (proc_active(p) && p->stop_level > top) top = p->stop_level;
   }
   /* the longest grace of each level, summed over the levels that have something to stop */
   uint64_t* grace = xcalloc(top + 1, sizeof *grace);
   for (size_t i = 0; i < n; i++) {
      Proc* p = sup_proc(s, i);
      if (proc_active(p) && p->kill_ms > grace[p->stop_level]) grace[p->stop_level] = p->kill_ms;
   }
   uint64_t total = 0;
   for (unsigned l = 0; l <= top; l++) total += grace[l];
   free(grace);
   if (!total) total = (uint64_t)(s->cfg.kill_timeout_s * 1000.0);
   s->quit_level = 0;
   return total;
}

bool orch_quit_step(Sup* s) {
   size_t n = sup_count(s);
   for (;;) {
      unsigned next = UINT32_MAX;
      bool busy = false;
      for (size_t i = 0; i < n; i++) {
         Proc* p = sup_proc(s, i);
         if (!proc_active(p)) continue;
         if (p->stop_level <= s->quit_level) {
            proc_stop(p, false); /* once: a process already stopping keeps its escalation */
            busy = true;
         } else if (p->stop_level < next) {
            next = p->stop_level;
         }
      }
      if (busy) return false;
      if (next == UINT32_MAX) return true;
      s->quit_level = next;
   }
}
