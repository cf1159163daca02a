#include "core/snap.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

ProcSnap* snap_new(const ProcSnap* base, const char* message) {
   if (!message) message = base ? base->message : "";
   size_t n = strlen(message);
   ProcSnap* s = xmalloc(sizeof *s + n + 1);
   if (base)
      *s = *base;
   else
      memset(s, 0, sizeof *s);
   memcpy(s->text, message, n + 1);
   s->message = s->text;
   return s;
}

void snap_free_rcu(struct rcu_head* head) {
   free(caa_container_of(head, ProcSnap, rcu));
}

const char* snap_state_name(ProcState s) {
   static const char* const names[] = {"idle",   "starting", "running", "stopping", "exited",
                                       "failed", "killed",   "stopped", "waiting",  "backoff"};
   return (unsigned)s < ARRAY_LEN(names) ? names[s] : "?";
}

int snap_is_active(ProcState s) {
   return s == PROC_STARTING || s == PROC_RUNNING || s == PROC_STOPPING;
}

int snap_is_pending(ProcState s) {
   return s == PROC_WAITING || s == PROC_BACKOFF;
}

void snap_describe(const ProcSnap* s, char* buf, unsigned size) {
   switch (s->state) {
   case PROC_EXITED:
      snprintf(buf, size, "exited ok");
      break;
   case PROC_FAILED:
      if (s->exit_code == 127)
         snprintf(buf, size, "failed (127: command not found)");
      else if (s->exit_code < 0)
         snprintf(buf, size, "failed to start");
      else
         snprintf(buf, size, "failed (%d)", s->exit_code);
      break;
   case PROC_KILLED:
      snprintf(buf, size, "killed (%d)", s->term_signal);
      break;
   case PROC_WAITING: /* what for is the message: "waiting for db (ready)" */
      snprintf(buf, size, "waiting");
      break;
   case PROC_BACKOFF: /* when is the message: "restarting in 2 s (restart 2 of 5)" */
      snprintf(buf, size, "backoff");
      break;
   default:
      snprintf(buf, size, "%s", snap_state_name(s->state));
      break;
   }
}

void snap_tally_add(SnapTally* t, const ProcSnap* s) {
   t->total++;
   switch (s->state) {
   case PROC_EXITED:
      t->ok++;
      break;
   case PROC_FAILED: /* one that a failed dependency kept from starting never ran */
      if (s->exit_code < 0 && s->message && strncmp(s->message, "dependency ", 11) == 0)
         t->not_run++;
      else
         t->failed++;
      break;
   case PROC_KILLED:
      t->failed++;
      break;
   case PROC_STARTING:
   case PROC_RUNNING:
   case PROC_STOPPING:
      t->running++;
      break;
   case PROC_WAITING:
   case PROC_BACKOFF:
      t->waiting++;
      break;
   case PROC_STOPPED:
      if (s->exit_code < 0) /* stopped while it waited */
         t->not_run++;
      else
         t->stopped++;
      break;
   default: /* idle */
      t->not_run++;
      break;
   }
}

int snap_tally_describe(const SnapTally* t, const char* name, char* buf, unsigned size) {
   char failed[32] = "", stopped[32] = "", not_run[32] = "";
   if (t->failed) snprintf(failed, sizeof failed, ", %u failed", t->failed);
   if (t->stopped) snprintf(stopped, sizeof stopped, ", %u stopped", t->stopped);
   if (t->not_run) snprintf(not_run, sizeof not_run, ", %u not run", t->not_run);
   if (!t->running && !t->waiting)
      return snprintf(buf, size, "%s %u/%u ok%s%s%s", name, t->ok, t->total, failed, stopped,
                      not_run);
   char waiting[32] = "";
   if (t->waiting) snprintf(waiting, sizeof waiting, ", %u waiting", t->waiting);
   return snprintf(buf, size, "%s %u running%s, %u/%u done%s", name, t->running, waiting,
                   t->ok + t->failed, t->total, failed);
}
