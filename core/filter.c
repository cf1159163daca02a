/* The filter worker: one thread with its own libuv loop that scans a source in slices and
 * fills the current FilterState's match index.
 *
 * Publication. filter_set builds the new state on the caller's thread and publishes it at once
 * (so a frame never shows the old pattern's matches under the new one), then wakes the worker;
 * the old state goes to call_rcu. The worker keeps no pointer between read sections: each slice
 * loads the current state inside rcu_read_lock, and only its generation and the next source
 * position survive to the next slice, so a state freed by call_rcu is never touched again.
 * Pointers are published with C11 exchange/acquire (see core/logstore.c for why not
 * rcu_xchg_pointer under liburcu 0.13); reclamation is call_rcu.
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
   _Atomic(FilterState*) state; /* RCU: owned StateBox */
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

/* Before each line: false when the slice must end (cancelled, quitting or out of budget). */
static bool scan_go_on(Scan* s, uint64_t done) {
   if (!s->f) return true;
   if (atomic_load_explicit(&s->f->state, memory_order_relaxed) != s->st ||
       atomic_load_explicit(&s->f->quit, memory_order_relaxed)) {
      s->cancelled = true;
      return false;
   }
   if (done >= s->limit) return false;
   return done % CLOCK_EVERY != 0 || util_mono_ns() < s->deadline_ns;
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
   FilterState* st = atomic_load_explicit(&f->state, memory_order_acquire);
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

static void on_idle(uv_idle_t* h) {
   if (!slice(h->data)) uv_idle_stop(h);
}

static void on_async(uv_async_t* h) {
   Filter* f = h->data;
   if (atomic_load(&f->quit)) {
      uv_close((uv_handle_t*)&f->idle, NULL); /* embedded handles: nothing to free */
      uv_close((uv_handle_t*)&f->async, NULL);
      return;
   }
   if (!uv_is_active((uv_handle_t*)&f->idle)) uv_idle_start(&f->idle, on_idle);
}

static void* worker(void* arg) {
   Filter* f = arg;
   rcu_register_thread();
   uv_run(&f->loop, UV_RUN_DEFAULT);
   rcu_unregister_thread();
   return NULL;
}

static Filter* filter_start(Sup* sup, const LogStore* store, void (*wake)(void* ud), void* ud) {
   Filter* f = xcalloc(1, sizeof *f);
   f->sup = sup;
   f->store = store;
   f->wake = wake;
   f->ud = ud;
   atomic_init(&f->state, NULL);
   atomic_init(&f->gen, 0);
   atomic_init(&f->quit, false);
   f->sc = regex_scratch_new();
   if (uv_loop_init(&f->loop) < 0) goto fail;
   uv_async_init(&f->loop, &f->async, on_async);
   uv_idle_init(&f->loop, &f->idle);
   f->async.data = f;
   f->idle.data = f;
   if (pthread_create(&f->thread, NULL, worker, f) != 0) {
      uv_close((uv_handle_t*)&f->idle, NULL);
      uv_close((uv_handle_t*)&f->async, NULL);
      uv_run(&f->loop, UV_RUN_NOWAIT);
      uv_loop_close(&f->loop);
      goto fail;
   }
   return f;
fail:
   regex_scratch_free(f->sc);
   free(f);
   return NULL;
}

Filter* filter_new(Sup* sup, void (*wake)(void* ud), void* ud) {
   return filter_start(sup, NULL, wake, ud);
}

Filter* filter_new_store(const LogStore* ls, void (*wake)(void* ud), void* ud) {
   return filter_start(NULL, ls, wake, ud);
}

void filter_free(Filter* f) {
   if (!f) return;
   atomic_store(&f->quit, true);
   uv_async_send(&f->async);
   pthread_join(f->thread, NULL);
   uv_loop_close(&f->loop);
   state_retire(atomic_exchange(&f->state, NULL));
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
   /* acq_rel: readers acquire the filled state; we acquire the old one before retiring it */
   state_retire(atomic_exchange_explicit(&f->state, st, memory_order_acq_rel));
   uv_async_send(&f->async);
}

void filter_poke(Filter* f) {
   uv_async_send(&f->async);
}

const FilterState* filter_state(const Filter* f) {
   return atomic_load_explicit(&((Filter*)f)->state, memory_order_acquire);
}
