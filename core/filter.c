/* The filter worker: one thread with its own libuv loop that scans a source in slices and
 * fills the current FilterState's match index.
 *
 * Publication. filter_set builds the new state on the caller's thread and publishes it at once
 * (so a frame never shows the old pattern's matches under the new one), then wakes the worker;
 * the old state goes to call_rcu. The worker keeps no pointer between read sections: each slice
 * loads the current state inside rcu_read_lock, and only its generation and the next source
 * position survive to the next slice, so a state freed by call_rcu is never touched again.
 * The state is an RCU pointer (core/rcu.h); reclamation is call_rcu.
 *
 * Cancellation. Inside a slice the worker compares the published state with the one it scans
 * before every line, so a new filter_set stops a slow scan after at most one line. A slice ends
 * after SLICE_LINES lines or SLICE_NS, publishes progress and returns to the loop (uv_idle keeps
 * the slices coming); once caught up the idle handle stops and the loop blocks until a poke. */
#include "core/filter.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <uv.h>

#include "core/rcu.h"
#include "core/util.h"

#define SLICE_LINES 16384u
#define SLICE_NS (10u * 1000u * 1000u) /* also end a slow slice so progress shows at frame rate */
#define CLOCK_EVERY 64u                /* lines between looks at the clock */

/* The public state plus what call_rcu needs; one allocation. */
typedef struct StateBox {
   FilterState st; /* first: a FilterState* is a StateBox* */
   struct rcu_head rcu;
} StateBox;

struct Filter {
   Sup* sup;              /* borrowed; NULL for a store filter */
   const LogStore* store; /* borrowed: source 0 of a store filter (tests, benchmarks) */
   void (*wake)(void* ud);
   void* ud;
   FilterState* state; /* RCU: owned StateBox */
   _Atomic uint64_t gen;
   atomic_bool quit;
   pthread_t thread;
   uv_loop_t loop;
   uv_async_t async; /* set, poke, quit */
   uv_idle_t idle;   /* active while a scan has work left */
   /* worker only */
   RegexScratch* sc; /* owned */
   uint64_t wgen;    /* generation of the state being scanned (0: none yet) */
   uint64_t next;    /* next source position to scan */
   uint64_t wmax;    /* retention given to the matches so far */
   bool started;
   /* find jobs (zeroed by xcalloc: no job yet) */
   FindState* find; /* RCU: owned FindBox */
   _Atomic uint64_t find_gen;
   /* worker only */
   uint64_t fgen;  /* generation of the job being run (0: none yet) */
   uint64_t fnext; /* down: next position to look at; up: one past it */
   uint64_t fstop; /* down: the end it stops at (filtered: the source end the filter must reach) */
   uint64_t fscanned; /* positions looked at so far */
   bool fstarted, fdone;
};

static atomic_size_t live_states;

size_t filter_live_states(void) {
   return atomic_load(&live_states);
}

static void state_free_rcu(struct rcu_head* head) {
   StateBox* b = caa_container_of(head, StateBox, rcu);
   regex_free((Regex*)b->st.re);
   lineidx_free(b->st.matches); /* its own evicted chunks went to call_rcu when evicted */
   free(b);
   atomic_fetch_sub(&live_states, 1);
}

static void state_retire(FilterState* st) {
   if (st) call_rcu(&((StateBox*)st)->rcu, state_free_rcu);
}

/* ---------------------------------------------------------------- scanning */

typedef struct Scan {
   const Regex* re;
   RegexScratch* sc;
   LineIdx* out;
   Filter* f;             /* NULL: never cancelled, no deadline */
   const FilterState* st; /* the state being filled: cancelled once another is published */
   uint64_t limit;        /* lines to look at, at most */
   uint64_t deadline_ns;
   bool cancelled;
} Scan;

/* Whether to look at the clock before line `done` of a slice: every CLOCK_EVERY lines, and at
 * powers of two first, so a slice of slow lines (a costly pattern) still ends near SLICE_NS. */
static bool clock_due(uint64_t done) {
   return done % CLOCK_EVERY == 0 || (done & (done - 1)) == 0;
}

/* Before each line: false when the slice must end (cancelled, quitting or out of budget). */
static bool scan_go_on(Scan* s, uint64_t done) {
   if (!s->f) return true;
   if (rcu_read(&s->f->state) != s->st || atomic_load_explicit(&s->f->quit, memory_order_relaxed)) {
      s->cancelled = true;
      return false;
   }
   if (done >= s->limit) return false;
   return !clock_due(done) || util_mono_ns() < s->deadline_ns;
}

static bool line_matches(Scan* s, const LogLine* l) {
   return !(l->flags & LINE_MARKER) && regex_match(s->re, s->sc, l->text, l->len);
}

/* Lines [from, to) of one store; returns the next line number to scan. */
static uint64_t scan_store(Scan* s, const LogStore* ls, uint64_t from, uint64_t to) {
   LogIter it;
   logiter_init(&it, ls, from);
   LogLine l;
   for (uint64_t done = 0; it.next < to && scan_go_on(s, done); done++) {
      if (!logiter_next(&it, &l)) break;
      if (l.lineno >= to) { /* everything up to `to` was evicted meanwhile */
         it.next = l.lineno;
         break;
      }
      if (line_matches(s, &l)) lineidx_push(s->out, l.lineno);
   }
   return it.next;
}

/* Positions [from, to) of the All index; refs to evicted lines are skipped. */
static uint64_t scan_all(Scan* s, const Registry* reg, const LineIdx* all, uint64_t from,
                         uint64_t to) {
   uint64_t pos = from, done = 0;
   while (pos < to && scan_go_on(s, done)) {
      uint64_t ref;
      if (!lineidx_get(all, pos, &ref)) {
         uint64_t b = lineidx_begin(all);
         if (pos >= b) break; /* not published: cannot happen below an end we loaded */
         pos = b;             /* evicted meanwhile: skip ahead */
         continue;
      }
      uint64_t proc = LINEREF_PROC(ref);
      LogLine l;
      if (proc < reg->n && logstore_get(reg->slots[proc]->log, LINEREF_LINE(ref), &l) &&
          line_matches(s, &l))
         lineidx_push(s->out, ref);
      pos++;
      done++;
   }
   return pos;
}

uint64_t filter_scan_store(const Regex* re, RegexScratch* sc, const LogStore* ls, uint64_t from,
                           uint64_t to, LineIdx* matches) {
   Scan s = {.re = re, .sc = sc, .out = matches};
   return scan_store(&s, ls, from, to);
}

/* ---------------------------------------------------------------- worker */

typedef struct Source {
   const LogStore* ls;  /* one process */
   const Registry* reg; /* All: resolves refs */
   const LineIdx* all;  /* All */
} Source;

static bool source_get(Filter* f, uint64_t id, Source* out) {
   *out = (Source){0};
   if (f->store) {
      out->ls = id == 0 ? f->store : NULL;
      return out->ls != NULL;
   }
   out->reg = sup_registry(f->sup);
   if (id == FILTER_ALL) {
      out->all = sup_all_index(f->sup);
      return out->all != NULL;
   }
   if (!out->reg || id >= out->reg->n) return false;
   out->ls = out->reg->slots[id]->log;
   return true;
}

/* One slice of the current scan. Returns true when there is more to do right away. */
static bool slice(Filter* f) {
   bool more = false, changed = false;
   rcu_read_lock();
   FilterState* st = rcu_read(&f->state);
   if (!st) goto out;
   if (st->gen != f->wgen) {
      f->wgen = st->gen;
      f->next = 0;
      f->wmax = 0;
      f->started = false;
   }
   Source src;
   bool have = source_get(f, st->source, &src);
   uint64_t begin = 0, end = 0;
   if (have) {
      begin = src.ls ? logstore_begin(src.ls) : lineidx_begin(src.all);
      end = src.ls ? logstore_end(src.ls) : lineidx_end(src.all);
   }
   if (begin > end) begin = end; /* begin and end are loaded apart */
   if (!f->started) {
      f->started = true;
      atomic_store_explicit(&st->start, begin, memory_order_relaxed);
      changed = true;
   }
   if (f->next < begin) f->next = begin;
   /* the matches keep as many entries as the source retains lines (never more are needed) */
   if (end - begin > f->wmax) {
      f->wmax = end - begin;
      lineidx_set_max(st->matches, f->wmax);
   }
   uint64_t from = f->next;
   if (have && from < end) {
      Scan s = {.re = st->re,
                .sc = f->sc,
                .out = st->matches,
                .f = f,
                .st = st,
                .limit = SLICE_LINES,
                .deadline_ns = util_mono_ns() + SLICE_NS};
      uint64_t failed = regex_scratch_failures(f->sc);
      f->next =
          src.ls ? scan_store(&s, src.ls, from, end) : scan_all(&s, src.reg, src.all, from, end);
      failed = regex_scratch_failures(f->sc) - failed;
      if (failed) {
         atomic_fetch_add_explicit(&st->too_expensive, failed, memory_order_relaxed);
         changed = true;
      }
      if (s.cancelled) {
         more = true; /* the next slice starts the new state (or ends on quit/clear) */
         goto out;
      }
   }
   bool caught_up = f->next >= end;
   atomic_store_explicit(&st->total, end, memory_order_relaxed);
   atomic_store_explicit(&st->scanned, f->next, memory_order_relaxed);
   if (caught_up != atomic_load_explicit(&st->caught_up, memory_order_relaxed)) changed = true;
   atomic_store_explicit(&st->caught_up, caught_up, memory_order_release);
   changed |= f->next != from;
   more = !caught_up;
out:
   rcu_read_unlock();
   if (changed && f->wake) f->wake(f->ud);
   return more;
}

/* ---------------------------------------------------------------- find jobs */

/* A find job is published like a FilterState (built by filter_find, exchanged, the old one to
 * call_rcu) and run on this worker in slices between the filter's own slices. Between slices
 * the worker keeps only the job's generation and position, never a pointer. */

typedef struct FindBox {
   FindState st; /* first: a FindState* is a FindBox* */
   struct rcu_head rcu;
} FindBox;

static atomic_size_t live_finds;

size_t filter_live_finds(void) {
   return atomic_load(&live_finds);
}

static void find_free_rcu(struct rcu_head* head) {
   FindBox* b = caa_container_of(head, FindBox, rcu);
   regex_free(b->st.job.re);
   free(b);
   atomic_fetch_sub(&live_finds, 1);
}

static void find_retire(FindState* st) {
   if (!st) return;
   atomic_store_explicit(&st->cancelled, true, memory_order_relaxed); /* for readers holding it */
   call_rcu(&((FindBox*)st)->rcu, find_free_rcu);
}

/* What a job walks: a store's line numbers, or an index (All, a filter's matches). */
typedef struct FindSrc {
   const LogStore* ls;  /* the process's lines (NULL for All) */
   const LineIdx* idx;  /* NULL: positions are ls's line numbers */
   const Registry* reg; /* non-NULL: idx holds LINEREFs */
   uint64_t src_end;    /* end of the source itself (for a filtered job: how far to scan) */
   bool filtered;       /* idx is the job's filter's match list */
} FindSrc;

enum { FIND_OK, FIND_GONE, FIND_STALE, FIND_WAIT };

static int find_src(Filter* f, const FindState* st, FindSrc* out) {
   Source src;
   if (!source_get(f, st->job.source, &src)) return FIND_GONE;
   *out = (FindSrc){.ls = src.ls, .idx = src.all, .reg = src.all ? src.reg : NULL};
   out->src_end = src.ls ? logstore_end(src.ls) : lineidx_end(src.all);
   if (!st->job.filter_gen) return FIND_OK;
   const FilterState* fs = rcu_read(&f->state);
   if (!fs || fs->gen != st->job.filter_gen || fs->source != st->job.source) return FIND_STALE;
   if (f->wgen != fs->gen) return FIND_WAIT; /* published, but its scan has not begun */
   out->idx = fs->matches;
   out->filtered = true;
   return FIND_OK;
}

static uint64_t find_begin(const FindSrc* s) {
   return s->idx ? lineidx_begin(s->idx) : logstore_begin(s->ls);
}

static uint64_t find_end(const FindSrc* s) {
   return s->idx ? lineidx_end(s->idx) : logstore_end(s->ls);
}

/* The line at a position and its store; false when it was evicted (or a ref names no process). */
static bool find_line(const FindSrc* s, uint64_t pos, LogLine* l, const LogStore** ls) {
   *ls = s->ls;
   if (!s->idx) return logstore_get(s->ls, pos, l);
   uint64_t v;
   if (!lineidx_get(s->idx, pos, &v)) return false;
   if (!s->reg) return logstore_get(s->ls, v, l);
   uint64_t proc = LINEREF_PROC(v);
   if (proc >= s->reg->n) return false;
   *ls = s->reg->slots[proc]->log;
   return logstore_get(*ls, LINEREF_LINE(v), l);
}

/* A job for flagged lines waits at a line its detector has not reached (core/detwork.c): its
 * flags are not final, and skipping it would miss the error the pane already shows. */
static bool find_undetected(const FindJob* job, const LogStore* ls, const LogLine* l) {
   return job->flags && l->lineno >= logstore_detected(ls);
}

/* The line at pos (it: down a store, no lookup per line): 1, 0 when it was evicted, -1 when its
 * flags are not final yet. */
static int find_get(const FindSrc* s, const FindJob* job, LogIter* it, uint64_t pos, LogLine* l) {
   const LogStore* ls = s->ls;
   bool got;
   if (it && it->next == pos)
      got = logiter_next(it, l) && l->lineno == pos;
   else
      got = find_line(s, pos, l, &ls);
   if (got && find_undetected(job, ls, l)) return -1;
   return got;
}

bool filter_find_hit(const FindJob* job, RegexScratch* sc, const LogLine* l) {
   if (l->flags & LINE_MARKER) return false;
   if (job->flags && !(l->flags & job->flags)) return false;
   return !job->re || regex_match(job->re, sc, l->text, l->len);
}

static void find_start(Filter* f, const FindState* st, const FindSrc* s, uint64_t end) {
   uint64_t from = st->job.from;
   bool down = st->job.dir >= 0;
   f->fstarted = true;
   f->fscanned = 0;
   if (down) {
      f->fnext = st->job.inclusive || from == UINT64_MAX ? from : from + 1;
      f->fstop = s->filtered ? s->src_end : end;
   } else {
      f->fnext = !st->job.inclusive || from == UINT64_MAX ? from : from + 1;
      if (f->fnext > end) f->fnext = end; /* e.g. from the unfinished last line */
   }
}

static void find_finish(Filter* f, FindState* st, bool found, uint64_t pos) {
   if (found) {
      atomic_store_explicit(&st->pos, pos, memory_order_relaxed);
      atomic_store_explicit(&st->found, true, memory_order_relaxed);
   }
   atomic_store_explicit(&st->done, true, memory_order_release);
   f->fdone = true;
}

/* Where a job going down stops now: a filtered job follows its filter's matches as they grow. */
static uint64_t find_stop(const Filter* f, const FindSrc* s, uint64_t end) {
   return s->filtered || f->fstop > end ? end : f->fstop;
}

/* The next position to look at, or false: the job is over (*exhausted) or waits for its filter. */
static bool find_step(Filter* f, FindState* st, const FindSrc* s, uint64_t begin, uint64_t end,
                      uint64_t* pos, bool* exhausted) {
   if (st->job.dir >= 0) {
      if (f->fnext < begin) { /* dropped before the job reached them */
         f->fnext = begin;
         atomic_store_explicit(&st->evicted, true, memory_order_relaxed);
      }
      uint64_t stop = find_stop(f, s, end);
      if (f->fnext >= stop) {
         /* a filtered job ends once the filter has scanned the source as far as it started */
         *exhausted = !s->filtered || f->next >= f->fstop;
         return false;
      }
      *pos = f->fnext++;
      return true;
   }
   if (f->fnext <= begin) {
      if (f->fnext < begin) atomic_store_explicit(&st->evicted, true, memory_order_relaxed);
      *exhausted = true;
      return false;
   }
   *pos = --f->fnext;
   return true;
}

/* One slice of the current find job. Returns true when there is more to do right away. */
static bool find_slice(Filter* f) {
   bool more = false, changed = false;
   rcu_read_lock();
   FindState* st = rcu_read(&f->find);
   if (!st || (st->gen == f->fgen && f->fdone)) goto out;
   if (st->gen != f->fgen) {
      f->fgen = st->gen;
      f->fstarted = false;
      f->fdone = false;
   }
   FindSrc s;
   int r = find_src(f, st, &s);
   if (r == FIND_WAIT) {
      more = true;
      goto out;
   }
   if (r != FIND_OK) {
      if (r == FIND_STALE) atomic_store_explicit(&st->cancelled, true, memory_order_relaxed);
      find_finish(f, st, false, 0);
      changed = true;
      goto out;
   }
   uint64_t begin = find_begin(&s), end = find_end(&s);
   if (begin > end) begin = end; /* loaded apart */
   if (!f->fstarted) {
      find_start(f, st, &s, end);
      changed = true;
   }
   uint64_t deadline = util_mono_ns() + SLICE_NS, looked = 0, pos = 0;
   bool exhausted = false, found = false, iter = !s.idx && st->job.dir >= 0;
   LogIter it;
   if (iter) logiter_init(&it, s.ls, f->fnext);
   while (looked < SLICE_LINES && !found) {
      if (rcu_read(&f->find) != st || atomic_load_explicit(&f->quit, memory_order_relaxed)) {
         more = true; /* the next slice starts the new job (or ends on quit/cancel) */
         goto out;
      }
      if (looked && clock_due(looked) && util_mono_ns() >= deadline) break;
      if (!find_step(f, st, &s, begin, end, &pos, &exhausted)) break;
      looked++;
      LogLine l;
      int got = find_get(&s, &st->job, iter ? &it : NULL, pos, &l);
      if (got < 0) { /* not detected yet: look at it again next slice */
         f->fnext = st->job.dir >= 0 ? pos : pos + 1;
         looked--;
         break;
      }
      if (got)
         found = filter_find_hit(&st->job, f->sc, &l);
      else if (pos < (begin = find_begin(&s))) /* evicted under the job: the next step skips */
         atomic_store_explicit(&st->evicted, true, memory_order_relaxed);
   }
   f->fscanned += looked;
   uint64_t left = 0;
   if (st->job.dir < 0)
      left = f->fnext > begin ? f->fnext - begin : 0;
   else {
      uint64_t stop = find_stop(f, &s, end);
      left = stop > f->fnext ? stop - f->fnext : 0;
   }
   /* total first: a reader that loads scanned (acquire) and then total sees total >= scanned */
   atomic_store_explicit(&st->total, f->fscanned + left, memory_order_relaxed);
   atomic_store_explicit(&st->scanned, f->fscanned, memory_order_release);
   if (found || exhausted) {
      find_finish(f, st, found, pos);
      changed = true;
   } else {
      more = true;
      changed |= looked > 0;
   }
out:
   rcu_read_unlock();
   if (changed && f->wake) f->wake(f->ud);
   return more;
}

uint64_t filter_find(Filter* f, const FindJob* job) {
   FindBox* b = xcalloc(1, sizeof *b);
   FindState* st = &b->st;
   st->gen = atomic_fetch_add(&f->find_gen, 1) + 1;
   st->job = *job;
   atomic_init(&st->scanned, 0);
   atomic_init(&st->total, 0);
   atomic_init(&st->pos, 0);
   atomic_init(&st->found, false);
   atomic_init(&st->evicted, false);
   atomic_init(&st->cancelled, false);
   atomic_init(&st->done, false);
   atomic_fetch_add(&live_finds, 1);
   /* acq_rel: the worker acquires the filled job; we acquire the old one before retiring it */
   find_retire(rcu_swap(&f->find, st));
   uv_async_send(&f->async);
   return st->gen;
}

void filter_find_cancel(Filter* f) {
   find_retire(rcu_swap(&f->find, NULL));
}

const FindState* filter_find_state(const Filter* f) {
   return rcu_read(&((Filter*)f)->find);
}

/* ---------------------------------------------------------------- worker loop */

static void on_idle(uv_idle_t* h) {
   bool more = slice(h->data);
   more |= find_slice(h->data); /* one slice each: neither waits for nor starves the other */
   if (!more) uv_idle_stop(h);
}

static void on_async(uv_async_t* h) {
   Filter* f = h->data;
   if (atomic_load(&f->quit)) {
      uv_close((uv_handle_t*)&f->idle, NULL); /* embedded handles: nothing to free */
      uv_close((uv_handle_t*)&f->async, NULL);
      return;
   }
   if (uv_is_active((uv_handle_t*)&f->idle)) return;
   int err = uv_idle_start(&f->idle, on_idle); /* fails only when misused (NULL callback) */
   if (err < 0) util_log("filter: cannot start scanning: %s", uv_strerror(err));
}

static void* worker(void* arg) {
   Filter* f = arg;
   rcu_register_thread();
   uv_run(&f->loop, UV_RUN_DEFAULT);
   rcu_unregister_thread();
   return NULL;
}

static int filter_start(Sup* sup, const LogStore* store, void (*wake)(void* ud), void* ud,
                        Filter** out, char** cause) {
   Filter* f = xcalloc(1, sizeof *f);
   f->sup = sup;
   f->store = store;
   f->wake = wake;
   f->ud = ud;
   atomic_init(&f->gen, 0);
   atomic_init(&f->quit, false);
   f->sc = regex_scratch_new();
   const char* what = "cannot create its event loop";
   int err = uv_loop_init(&f->loop);
   if (err < 0) goto fail;
   what = "cannot create its wake-up handle";
   if ((err = uv_async_init(&f->loop, &f->async, on_async)) < 0) goto fail_loop;
   what = "cannot create its idle handle";
   if ((err = uv_idle_init(&f->loop, &f->idle)) < 0) goto fail_async;
   f->async.data = f;
   f->idle.data = f;
   what = "cannot start its thread";
   if ((err = -pthread_create(&f->thread, NULL, worker, f)) < 0) goto fail_idle;
   *out = f;
   return 0;
fail_idle:
   uv_close((uv_handle_t*)&f->idle, NULL);
fail_async:
   uv_close((uv_handle_t*)&f->async, NULL);
fail_loop:
   uv_run(&f->loop, UV_RUN_NOWAIT); /* the close callbacks */
   uv_loop_close(&f->loop);
fail:
   if (cause) {
      char* msg = util_strerror(err);
      *cause = xasprintf("the filter worker %s: %s", what, msg);
      free(msg);
   }
   regex_scratch_free(f->sc);
   free(f);
   return err;
}

int filter_new(Sup* sup, void (*wake)(void* ud), void* ud, Filter** out, char** cause) {
   return filter_start(sup, NULL, wake, ud, out, cause);
}

int filter_new_store(const LogStore* ls, void (*wake)(void* ud), void* ud, Filter** out,
                     char** cause) {
   return filter_start(NULL, ls, wake, ud, out, cause);
}

void filter_free(Filter* f) {
   if (!f) return;
   atomic_store(&f->quit, true);
   uv_async_send(&f->async);
   pthread_join(f->thread, NULL);
   uv_loop_close(&f->loop);
   state_retire(rcu_swap(&f->state, NULL));
   find_retire(rcu_swap(&f->find, NULL));
   regex_scratch_free(f->sc);
   free(f);
}

void filter_set(Filter* f, Regex* re, uint64_t source) {
   FilterState* st = NULL;
   if (re) {
      StateBox* b = xcalloc(1, sizeof *b);
      st = &b->st;
      st->gen = atomic_fetch_add(&f->gen, 1) + 1;
      st->re = re;
      st->source = source;
      st->matches = lineidx_new(1); /* the worker raises it to the source's retention */
      atomic_init(&st->scanned, 0);
      atomic_init(&st->total, 0);
      atomic_init(&st->start, 0);
      atomic_init(&st->caught_up, false);
      atomic_init(&st->too_expensive, 0);
      atomic_fetch_add(&live_states, 1);
   }
   state_retire(rcu_swap(&f->state, st));
   uv_async_send(&f->async);
}

void filter_poke(Filter* f) {
   uv_async_send(&f->async);
}

const FilterState* filter_state(const Filter* f) {
   return rcu_read(&f->state);
}
