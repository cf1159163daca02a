/* Detection off the ingest path. The supervisor appends each line unflagged and goes on reading;
 * one worker thread per supervisor runs the detector over the lines of each process in order,
 * ORs the flags it finds into the store (logstore_add_flags) and advances the store's mark
 * (logstore_set_detected), a slice of lines at a time. What it finds goes to the supervisor
 * through its command queue (CMD_DETECTED), which publishes the findings (DetectSnap) and
 * applies the default readiness rule (ready at the run's first URL) on its own thread.
 *
 * Each process's Detector is shared by the worker and the supervisor under the mutex of its
 * DetState: the supervisor detects what is left itself (det_catch_up) where order matters: before
 * a run's end is published (whoever sees "exited" sees all its errors), before a new run resets
 * the open groups, before a note about a line, and at quit.
 *
 * Eviction: the store keeps undetected lines (LogStoreConfig.detect_later) and reports a backlog
 * once they reach half its limits; the supervisor then stops reading the process (the pause of
 * headless backpressure) and sets `stalled`; the worker, once caught up, tells it to read again.
 * The handshake is Dekker's: each side stores its flag, then loads the other's (seq_cst). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "core/sample.h"
#include "core/sup_int.h"
#include "core/util.h"

/* Lines per hold of a process's mutex (the supervisor never waits long), as many as a kick. */
#define SLICE_LINES DETECT_KICK_LINES
/* ... and at most this much text: a slice is one read section, and chunks the supervisor evicts
 * meanwhile are freed only after it (4,096 lines of 200 KiB would hold back the whole store) */
#define SLICE_BYTES (256u << 10)

typedef struct DetState {
   pthread_mutex_t mu; /* guards det; the worker holds it for one slice */
   Detector* det;
   Proc* p;                  /* borrowed: its owner */
   struct DetState* next;    /* the worker's queue (DetWorker.mu) */
   bool queued;              /* in the worker's queue (DetWorker.mu) */
   uint64_t kicked;          /* supervisor only: the store's end when it last queued it */
   _Atomic uint64_t url_end; /* one past the newest URL line found (0: none yet) */
   _Atomic bool notify;      /* a CMD_DETECTED is on its way: no second one */
   _Atomic bool stalled;     /* the supervisor paused reading until the worker catches up */
   _Atomic bool dirty;       /* detect_changed may be true: the supervisor tests it without
                                waiting for the worker's slice to end */
   /* a failed bind (portuse_parse_line): one diagnosis a run (port_done, under mu), which the
    * supervisor takes (det_take_port) to look up the holder. port is atomic so that taking
    * nothing, at every publication, never waits for the mutex a slice holds. */
   bool port_done;
   _Atomic int port;   /* its result (-1: no port in the line), 0: none waiting */
   uint64_t port_line; /* written before port (release) */
} DetState;

struct DetWorker {
   pthread_t thread;
   pthread_mutex_t mu; /* guards the queue and stop */
   pthread_cond_t cv;
   DetState *head, *tail;
   bool stop;
   Sup* sup;
};

/* Detects from the store's mark up to at most `max` lines and about `max_bytes` of text further,
 * then moves the mark. Holds d->mu, inside rcu_read_lock. Returns whether lines are left. */
static bool detect_range(DetState* d, LogStore* ls, uint64_t max, uint64_t max_bytes) {
   uint64_t from = logstore_detected(ls), end = logstore_end(ls);
   uint64_t to = end - from > max ? from + max : end, bytes = 0;
   LogIter it;
   LogLine l;
   logiter_init(&it, ls, from);
   while (it.next < to && logiter_next(&it, &l) && l.lineno < to) {
      if ((bytes += l.len) > max_bytes) to = l.lineno + 1; /* this line is the slice's last */
      if (l.flags & LINE_MARKER) continue;                 /* brum's own lines are no findings */
      uint16_t f = detect_line(d->det, l.text, l.len, l.lineno, l.time_ms);
      if (f) logiter_add_flags(&it, f);
      if (f & LINE_URL) atomic_store_explicit(&d->url_end, l.lineno + 1, memory_order_relaxed);
      int port;
      if (!d->port_done && detect_last_in_use(d->det) &&
          (port = portuse_parse_line(l.text, l.len)) != 0) {
         d->port_done = true;
         d->port_line = l.lineno;
         atomic_store_explicit(&d->port, port, memory_order_release);
      }
   }
   if (to != from) logstore_set_detected(ls, to);
   return to < end;
}

static void queue_push(DetWorker* w, DetState* d) {
   d->queued = true;
   d->next = NULL;
   if (w->tail)
      w->tail->next = d;
   else
      w->head = d;
   w->tail = d;
}

/* One slice of one process on the worker. Returns whether it has lines left. */
static bool det_slice(DetWorker* w, DetState* d) {
   LogStore* ls = d->p->slot.log;
   pthread_mutex_lock(&d->mu);
   uint64_t url0 = atomic_load_explicit(&d->url_end, memory_order_relaxed);
   bool port0 = d->port_done;
   rcu_read_lock();
   bool left = detect_range(d, ls, SLICE_LINES, SLICE_BYTES);
   rcu_read_unlock();
   bool tell = detect_changed(d->det) || d->port_done != port0 ||
               atomic_load_explicit(&d->url_end, memory_order_relaxed) != url0;
   if (tell) atomic_store(&d->dirty, true);
   pthread_mutex_unlock(&d->mu);
   /* the mark was stored seq_cst: the supervisor sees it, or this sees its stall. The stall is
    * answered once the store's end is reached, not the end this slice loaded when it began: the
    * supervisor read on meanwhile, and an answer before those lines are detected would leave it
    * paused with no stall left to answer (seen as a headless run that never ended). While it is
    * paused no line comes in, so the end read here stays the end. */
   if (!left && atomic_load(&d->stalled)) {
      if (logstore_detected(ls) < logstore_end(ls))
         left = true;
      else if (atomic_exchange(&d->stalled, false))
         tell = true;
   }
   if (tell && !atomic_exchange(&d->notify, true) && !sup_finished(w->sup))
      sup_detected(w->sup, d->p->slot.id);
   return left;
}

static void* worker_main(void* arg) {
   DetWorker* w = arg;
   rcu_register_thread(); /* it reads the log stores */
   pthread_setname_np(pthread_self(), "brum-detect");
   /* the rules compile (PCRE2 JIT, about 1.3 ms) at the first detect_new: here, while the
    * supervisor starts up, rather than on its thread before its first child is spawned */
   detect_free(detect_new());
   pthread_mutex_lock(&w->mu);
   for (;;) {
      while (!w->head && !w->stop) pthread_cond_wait(&w->cv, &w->mu);
      if (w->stop) break;
      DetState* d = w->head;
      w->head = d->next;
      if (!w->head) w->tail = NULL;
      d->queued = false; /* a kick during the slice queues it again */
      pthread_mutex_unlock(&w->mu);
      bool left = det_slice(w, d);
      pthread_mutex_lock(&w->mu);
      if (left && !d->queued) queue_push(w, d); /* to the back: the others get their turn */
   }
   pthread_mutex_unlock(&w->mu);
   rcu_unregister_thread();
   return NULL;
}

int detwork_start(Sup* s, DetWorker** out) {
   DetWorker* w = xcalloc(1, sizeof *w);
   w->sup = s;
   pthread_mutex_init(&w->mu, NULL);
   pthread_cond_init(&w->cv, NULL);
   int err = pthread_create(&w->thread, NULL, worker_main, w);
   if (err) {
      pthread_cond_destroy(&w->cv);
      pthread_mutex_destroy(&w->mu);
      free(w);
      return -err;
   }
   *out = w;
   return 0;
}

void detwork_stop(DetWorker* w) {
   if (!w) return;
   pthread_mutex_lock(&w->mu);
   w->stop = true;
   pthread_cond_signal(&w->cv);
   pthread_mutex_unlock(&w->mu);
   pthread_join(w->thread, NULL);
   pthread_cond_destroy(&w->cv);
   pthread_mutex_destroy(&w->mu);
   free(w);
}

/* ---------------------------------------------------------------- supervisor side */

void det_new(Proc* p) {
   if (p->det || !p->sup->detw) return; /* --no-detect: no detector, lines stay unflagged */
   DetState* d = xcalloc(1, sizeof *d);
   pthread_mutex_init(&d->mu, NULL);
   d->det = detect_new();
   d->p = p;
   atomic_init(&d->url_end, 0);
   atomic_init(&d->notify, false);
   atomic_init(&d->stalled, false);
   atomic_init(&d->dirty, false);
   atomic_init(&d->port, 0);
   p->det = d;
}

void det_free(Proc* p) {
   DetState* d = p->det;
   if (!d) return;
   detect_free(d->det);
   pthread_mutex_destroy(&d->mu);
   free(d);
   p->det = NULL;
}

void det_kick(Proc* p, uint64_t min_lines) {
   LogStore* ls = p->slot.log;
   if (!p->sup->detw) return;
   uint64_t end = logstore_end(ls);
   DetState* d = p->det;
   if (!d) { /* no run yet: only brum's own lines, nothing to detect */
      if (logstore_detected(ls) < end) logstore_set_detected(ls, end);
      return;
   }
   if (end - d->kicked < min_lines || end == d->kicked) return;
   d->kicked = end;
   DetWorker* w = p->sup->detw;
   pthread_mutex_lock(&w->mu);
   if (!d->queued) {
      queue_push(w, d);
      pthread_cond_signal(&w->cv);
   }
   pthread_mutex_unlock(&w->mu);
}

/* The default readiness rule: a URL line of the current run. */
static void det_check_ready(Proc* p) {
   uint64_t url_end = atomic_load_explicit(&p->det->url_end, memory_order_relaxed);
   if (p->ready.kind == SUP_PROBE_DEFAULT && url_end > p->cur.run_line) proc_set_ready(p);
}

void det_catch_up(Proc* p) {
   DetState* d = p->det;
   if (!d) return;
   pthread_mutex_lock(&d->mu);
   rcu_read_lock();
   detect_range(d, p->slot.log, UINT64_MAX, UINT64_MAX);
   rcu_read_unlock();
   if (detect_changed(d->det)) atomic_store(&d->dirty, true);
   pthread_mutex_unlock(&d->mu);
   det_check_ready(p);
}

bool det_stall(Proc* p) {
   DetState* d = p->det;
   if (!d) return logstore_backlogged(p->slot.log);
   atomic_store(&d->stalled, true);
   atomic_thread_fence(memory_order_seq_cst);
   det_kick(p, 1);
   /* after the stall is visible: a worker that caught up before it saw none still shows here */
   if (logstore_backlogged(p->slot.log)) return true;
   det_unstall(p);
   return false;
}

void det_unstall(Proc* p) {
   /* reading again: a stall left set would keep the worker slicing every few new lines */
   if (p->det) atomic_store(&p->det->stalled, false);
}

void det_found(Proc* p) {
   DetState* d = p->det;
   if (!d) return;
   atomic_store(&d->notify, false); /* first: what the worker finds from now on is told again */
   bool was_ready = p->cur.ready_ms != 0;
   det_check_ready(p);
   proc_resume(p);
   /* the findings (at most every INTEL_EVERY_MS under a flood: the intel timer publishes what
    * waits) with a snapshot for their counts, and a redraw for the flags */
   if ((p->cur.ready_ms && !was_ready) || proc_publish_intel(p)) proc_publish(p);
}

void det_restart(Proc* p) {
   DetState* d = p->det;
   if (!d) return;
   det_catch_up(p); /* the last run's lines belong to its groups */
   pthread_mutex_lock(&d->mu);
   detect_restart(d->det);
   d->port_done = false;
   atomic_store(&d->port, 0); /* the last run's, which its own end took (proc_publish_intel) */
   pthread_mutex_unlock(&d->mu);
}

int det_take_port(Proc* p, uint64_t* lineno) {
   DetState* d = p->det;
   if (!d || !atomic_load_explicit(&d->port, memory_order_relaxed)) return 0;
   int port = atomic_exchange_explicit(&d->port, 0, memory_order_acquire);
   *lineno = d->port_line; /* written once a run, before port */
   return port;
}

void det_note(Proc* p, uint64_t lineno, uint64_t time_ms, const char* note) {
   DetState* d = p->det;
   if (!d) return;
   det_catch_up(p); /* the entry that holds the line is found */
   pthread_mutex_lock(&d->mu);
   detect_note(d->det, lineno, time_ms, note);
   atomic_store(&d->dirty, true);
   pthread_mutex_unlock(&d->mu);
}

bool det_changed(Proc* p) {
   return p->det && atomic_load(&p->det->dirty); /* no lock: every publish asks */
}

DetectSnap* det_snapshot(Proc* p) {
   DetState* d = p->det;
   pthread_mutex_lock(&d->mu);
   atomic_store(&d->dirty, false); /* under the lock: a slice that finds more sets it again */
   DetectSnap* snap = detect_snapshot(d->det);
   pthread_mutex_unlock(&d->mu);
   return snap;
}
