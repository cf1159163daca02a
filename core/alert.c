/* Alerts: what the UI may tell a user who is not looking at a process (tui/notify.c). A small
 * ring, copied and republished whole (RCU) per alert: alerts are rare, readers never wait. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/sup_int.h"
#include "core/util.h"

static void alerts_free_rcu(struct rcu_head* h) {
   free(caa_container_of(h, SupAlerts, rcu));
}

static void sup_alert(Sup* s, uint64_t id, SupAlertKind kind, const char* fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void sup_alert(Sup* s, uint64_t id, SupAlertKind kind, const char* fmt, ...) {
   SupAlerts* next = xcalloc(1, sizeof *next);
   if (s->alerts) memcpy(next, s->alerts, sizeof *next);
   next->seq++;
   SupAlert* a = &next->ring[next->seq % SUP_ALERTS];
   *a = (SupAlert){.seq = next->seq, .id = id, .time_ms = util_now_ms(), .kind = kind};
   va_list ap;
   va_start(ap, fmt);
   vsnprintf(a->text, sizeof a->text, fmt, ap);
   va_end(ap);
   SupAlerts* old = rcu_swap(&s->alerts, next);
   if (old) call_rcu(&old->rcu, alerts_free_rcu);
   sup_wake(s);
}

const SupAlerts* sup_alerts_read(const Sup* s) {
   return rcu_read(&s->alerts);
}

void proc_alert_ended(Proc* p, bool by_user) {
   const ProcSnap* c = &p->cur;
   if (by_user || p->sup->quitting) return;
   if (c->state == PROC_FAILED && c->exit_code < 0)
      sup_alert(p->sup, p->slot.id, SUP_ALERT_FAILED, "%s could not start: %s", p->slot.name,
                p->message ? p->message : "");
   else if (c->state == PROC_FAILED)
      sup_alert(p->sup, p->slot.id, SUP_ALERT_FAILED, "%s failed (exit code %d)", p->slot.name,
                c->exit_code);
   else if (c->state == PROC_KILLED)
      sup_alert(p->sup, p->slot.id, SUP_ALERT_FAILED, "%s was killed by signal %d (%s)",
                p->slot.name, c->term_signal, strsignal(c->term_signal));
}

void proc_alert_tests(Proc* p, const DetectSnap* old, const DetectSnap* next) {
   bool was_red = old && old->tests.seen && old->tests.failed;
   const DetectTests* t = &next->tests;
   if (was_red || !t->seen || !t->failed) return;
   sup_alert(p->sup, p->slot.id, SUP_ALERT_TESTS_RED, "%s: %u of %u tests failed%s%s%s",
             p->slot.name, t->failed, t->total, t->framework ? " (" : "",
             t->framework ? t->framework : "", t->framework ? ")" : "");
}
