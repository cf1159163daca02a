/* Line index: chunks of CHUNK_LEN positions, each stored as runs of consecutive values (or, when
 * a chunk has too many runs, as plain values), an RCU-published chunk directory, a
 * release/acquire end counter.
 *
 * Runs. Nearly every push is the previous value + 1 (one process's burst in the All view, a
 * filter matching consecutive lines), so a chunk keeps a run per break: its start offset in the
 * chunk and its first value; its length is up to the next run's start (or the end). Extending a
 * run writes nothing but the end. A chunk starts with room for RUNS_MIN runs and, when full, is
 * replaced by a copy with RUNS_GROW times the room (or a power of RUNS_GROW more, when the runs
 * so far would fill that before the chunk's end), published by swapping the directory's last
 * pointer (the old chunk and directory go to call_rcu; the writer never writes the old chunk
 * again). A chunk that would need more than RUNS_MAX runs (the run form would then outgrow the
 * plain one) is replaced by a dense copy: CHUNK_LEN values, as before runs. So a one-process
 * flood costs a few hundred bytes per 4096 lines, and lines alternating between processes cost
 * 8 bytes each, as a plain array does.
 *
 * Ordering. A new chunk (or a replacing copy, its runs and run count filled in) is listed in a
 * fresh directory (release) before the end covering its new positions is released. In a chunk,
 * a run's entry is written before the run count that includes it is released, and a dense
 * value is written before the end that covers it is released. A reader acquire-loads the end,
 * then the directory, then (for a run chunk) the run count: every position below that end is in
 * the directory it sees, and the run holding it is below that run count. Runs published after
 * the end it loaded may be visible too; they start past every position below that end, so a
 * search for the last run starting at or before a position finds the right one. A run entry
 * below the published count is never written again, and a replaced chunk is never written
 * again, so readers and the writer never touch the same bytes. The directory is an RCU pointer
 * (core/rcu.h); reclamation goes through call_rcu, so readers hold rcu_read_lock.
 *
 * Retention. Whole oldest chunks go once the chunks after them hold at least max_entries values,
 * so up to max_entries + one chunk are kept. Positions never change meaning. */
#include "core/lineidx.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/rcu.h"
#include "core/util.h"

#define CHUNK_SHIFT 12u
#define CHUNK_LEN (1u << CHUNK_SHIFT) /* 4096 positions: a chunk per eviction step */
#define RUNS_MIN 16u                  /* a run costs 10 bytes: 16 runs fit in 160 */
#define RUNS_GROW 4u
#define RUNS_MAX 1024u /* 4096 runs (40 KiB) would outgrow the dense 32 KiB */

typedef struct Chunk {
   struct rcu_head rcu;
   uint32_t cap;           /* runs it has room for; 0: dense, vals[] holds CHUNK_LEN values */
   _Atomic uint32_t nruns; /* published runs (release by the writer, acquire by readers) */
   const uint16_t* offs;   /* run starts (offsets in the chunk), after vals[cap]; NULL: dense */
   uint64_t vals[];        /* a run's first value, or (dense) every position's value */
} Chunk;

/* Immutable once published: adding, replacing or evicting a chunk publishes a fresh copy. */
typedef struct Dir {
   struct rcu_head rcu;
   uint64_t base; /* chunk number (position >> CHUNK_SHIFT) of chunks[0] */
   uint32_t n;
   Chunk* chunks[]; /* borrowed from the index */
} Dir;

struct LineIdx {
   Dir* dir; /* RCU */
   _Atomic uint64_t begin, end;
   /* writer-only state below */
   Dir* wdir; /* borrowed: same as dir */
   uint64_t wbegin, wend;
   uint64_t wlast; /* the last value pushed: the next one extends its run if it is wlast + 1 */
   Chunk* wlastc;  /* borrowed: the directory's last chunk */
   bool wruns;     /* wlastc keeps runs (is not dense) */
   uint64_t max_entries;
};

static void free_rcu(struct rcu_head* head) {
   free(head); /* rcu is the first member of Chunk and Dir */
}

LineIdx* lineidx_new(uint64_t max_entries) {
   LineIdx* ix = xcalloc(1, sizeof *ix);
   atomic_init(&ix->begin, 0);
   atomic_init(&ix->end, 0);
   ix->max_entries = max_entries ? max_entries : 1;
   return ix;
}

void lineidx_free(LineIdx* ix) {
   if (!ix) return;
   if (ix->wdir) {
      for (uint32_t i = 0; i < ix->wdir->n; i++) free(ix->wdir->chunks[i]);
      free(ix->wdir);
   }
   free(ix);
}

/* ---------------------------------------------------------------- writer */

static size_t chunk_size(uint32_t cap) {
   return cap ? sizeof(Chunk) + (size_t)cap * (sizeof(uint64_t) + sizeof(uint16_t))
              : sizeof(Chunk) + (size_t)CHUNK_LEN * sizeof(uint64_t);
}

/* A chunk with room for cap runs (cap 0: dense), none published. */
static Chunk* chunk_new(uint32_t cap) {
   Chunk* c = xmalloc(chunk_size(cap));
   c->cap = cap;
   atomic_init(&c->nruns, 0);
   c->offs = cap ? (const uint16_t*)(c->vals + cap) : NULL;
   return c;
}

/* Publishes old[skip..] plus `add` (if any) and returns the old directory, which the caller
 * hands to call_rcu once it no longer reads it. */
static Dir* dir_replace(LineIdx* ix, uint32_t skip, Chunk* add) {
   Dir* old = ix->wdir;
   uint32_t keep = old ? old->n - skip : 0;
   uint32_t n = keep + (add ? 1u : 0u);
   Dir* d = xmalloc(sizeof *d + (size_t)n * sizeof(Chunk*));
   d->n = n;
   d->base = old ? old->base + skip : ix->wend >> CHUNK_SHIFT;
   if (keep) memcpy(d->chunks, old->chunks + skip, (size_t)keep * sizeof(Chunk*));
   if (add) d->chunks[keep] = add;
   rcu_publish(&ix->dir, d);
   ix->wdir = d;
   return old;
}

/* Publishes a directory whose last chunk is c instead of the current one; the old chunk and
 * directory are retired (readers that found them still read them, unchanged). */
static void swap_last(LineIdx* ix, Chunk* c) {
   Dir* old = ix->wdir;
   Chunk* was = old->chunks[old->n - 1];
   Dir* d = xmalloc(sizeof *d + (size_t)old->n * sizeof(Chunk*));
   d->n = old->n;
   d->base = old->base;
   memcpy(d->chunks, old->chunks, (size_t)old->n * sizeof(Chunk*));
   d->chunks[d->n - 1] = c;
   rcu_publish(&ix->dir, d);
   ix->wdir = d;
   ix->wlastc = c;
   ix->wruns = c->offs != NULL;
   call_rcu(&was->rcu, free_rcu);
   call_rcu(&old->rcu, free_rcu);
}

/* Replaces the full run chunk c (its runs cover offsets [0, off)) with one that has room for
 * more runs: a larger run chunk, or a dense one past RUNS_MAX. */
static Chunk* chunk_grow(LineIdx* ix, const Chunk* c, uint32_t off) {
   uint32_t n = atomic_load_explicit(&c->nruns, memory_order_relaxed); /* our own store */
   /* room for the runs the chunk would hold if they went on coming as fast (n >= 16 runs cover
    * [0, off)), so that a chunk is copied about once: lines alternating between processes
    * turn it dense at once */
   uint64_t want = (uint64_t)n * CHUNK_LEN / off;
   uint32_t cap = c->cap * RUNS_GROW;
   while (cap < want && cap <= RUNS_MAX) cap *= RUNS_GROW;
   Chunk* g;
   if (cap <= RUNS_MAX) {
      g = chunk_new(cap);
      memcpy(g->vals, c->vals, (size_t)n * sizeof(uint64_t));
      memcpy((uint16_t*)g->offs, c->offs, (size_t)n * sizeof(uint16_t));
      atomic_init(&g->nruns, n);
   } else {
      g = chunk_new(0);
      for (uint32_t r = 0; r < n; r++) {
         uint32_t to = r + 1 < n ? c->offs[r + 1] : off;
         for (uint32_t k = c->offs[r]; k < to; k++) g->vals[k] = c->vals[r] + (k - c->offs[r]);
      }
   }
   swap_last(ix, g);
   return g;
}

static void evict(LineIdx* ix) {
   const Dir* d = ix->wdir;
   uint32_t k = 0;
   /* drop chunk k while the chunks after it still hold max_entries values */
   while (k + 1 < d->n && ix->wend - ((d->base + k + 1) << CHUNK_SHIFT) >= ix->max_entries) k++;
   if (!k) return;
   /* begin first: a reader that finds a position gone from the directory then sees it below
    * begin (a reader of the old directory still finds everything at or past the new begin) */
   ix->wbegin = (d->base + k) << CHUNK_SHIFT;
   atomic_store_explicit(&ix->begin, ix->wbegin, memory_order_release);
   Dir* old = dir_replace(ix, k, NULL);
   /* unreachable for new readers only now; the grace period covers the ones that saw them */
   for (uint32_t i = 0; i < k; i++) call_rcu(&old->chunks[i]->rcu, free_rcu);
   call_rcu(&old->rcu, free_rcu);
}

/* Starts a chunk with value at its offset 0. */
static void chunk_start(LineIdx* ix, uint64_t value) {
   Chunk* c = chunk_new(RUNS_MIN);
   c->vals[0] = value;
   ((uint16_t*)c->offs)[0] = 0;
   atomic_init(&c->nruns, 1);
   Dir* old = dir_replace(ix, 0, c); /* releases the chunk's contents */
   if (old) call_rcu(&old->rcu, free_rcu);
   ix->wlastc = c;
   ix->wruns = true;
}

/* Stores value at offset off (> 0) of the last chunk, where it does not extend the last run:
 * adds a run (growing the chunk when full), or writes the dense slot. */
static void chunk_put(LineIdx* ix, uint32_t off, uint64_t value) {
   Chunk* c = ix->wlastc;
   uint32_t n = atomic_load_explicit(&c->nruns, memory_order_relaxed);
   if (c->offs && n == c->cap) {
      c = chunk_grow(ix, c, off);
      n = atomic_load_explicit(&c->nruns, memory_order_relaxed);
   }
   if (!c->offs) {
      c->vals[off] = value; /* released by the end */
      return;
   }
   c->vals[n] = value;
   ((uint16_t*)c->offs)[n] = (uint16_t)off;
   atomic_store_explicit(&c->nruns, n + 1, memory_order_release);
}

void lineidx_push(LineIdx* ix, uint64_t value) {
   uint64_t pos = ix->wend;
   uint32_t off = (uint32_t)(pos & (CHUNK_LEN - 1));
   if (off == 0)
      chunk_start(ix, value);
   else if (!ix->wruns)
      ix->wlastc->vals[off] = value; /* dense: released by the end */
   else if (value != ix->wlast + 1)  /* else the run goes on: only the end moves */
      chunk_put(ix, off, value);
   ix->wlast = value;
   ix->wend = pos + 1;
   atomic_store_explicit(&ix->end, ix->wend, memory_order_release);
   const Dir* d = ix->wdir;
   if (d->n > 1 && ix->wend - ((d->base + 1) << CHUNK_SHIFT) >= ix->max_entries) evict(ix);
}

void lineidx_set_max(LineIdx* ix, uint64_t max_entries) {
   ix->max_entries = max_entries ? max_entries : 1;
   if (ix->wdir && ix->wdir->n > 1) evict(ix);
}

size_t lineidx_mem(const LineIdx* ix) {
   size_t bytes = sizeof *ix;
   if (!ix->wdir) return bytes;
   bytes += sizeof(Dir) + (size_t)ix->wdir->n * sizeof(Chunk*);
   for (uint32_t i = 0; i < ix->wdir->n; i++) bytes += chunk_size(ix->wdir->chunks[i]->cap);
   return bytes;
}

/* ---------------------------------------------------------------- readers */

uint64_t lineidx_begin(const LineIdx* ix) {
   return atomic_load_explicit(&((LineIdx*)ix)->begin, memory_order_acquire);
}

uint64_t lineidx_end(const LineIdx* ix) {
   return atomic_load_explicit(&((LineIdx*)ix)->end, memory_order_acquire);
}

static const Dir* dir_load(const LineIdx* ix) {
   /* acquire: pairs with the release in dir_replace and swap_last (the directory, its chunk
    * pointers and what a new chunk holds) */
   return rcu_read(&ix->dir);
}

/* The chunk holding pos in d, or NULL when it was evicted (or is not in d). */
static const Chunk* chunk_of(const Dir* d, uint64_t pos) {
   uint64_t cn = pos >> CHUNK_SHIFT;
   if (!d || cn < d->base || cn - d->base >= d->n) return NULL;
   return d->chunks[cn - d->base];
}

/* The run of run chunk c holding offset off (below the end the caller loaded): the last run
 * starting at or before off. *next is where the run stops at the latest (the next run's start,
 * or CHUNK_LEN). */
static uint32_t run_of(const Chunk* c, uint32_t off, uint32_t* next) {
   /* acquire: pairs with the release in chunk_put (the run entries below the count) */
   uint32_t n = atomic_load_explicit(&((Chunk*)c)->nruns, memory_order_acquire);
   /* the answer is in [lo, lo + len) (offs[0] == 0 <= off); halving without a branch to
    * mispredict (a conditional move) */
   uint32_t lo = 0, len = n;
   while (len > 1) {
      uint32_t half = len / 2;
      lo = c->offs[lo + half] <= off ? lo + half : lo;
      len -= half;
   }
   *next = lo + 1 < n ? c->offs[lo + 1] : CHUNK_LEN;
   return lo;
}

static uint64_t chunk_value(const Chunk* c, uint32_t off) {
   if (!c->offs) return c->vals[off];
   uint32_t next, r = run_of(c, off, &next);
   return c->vals[r] + (off - c->offs[r]);
}

bool lineidx_get(const LineIdx* ix, uint64_t pos, uint64_t* value) {
   if (pos >= lineidx_end(ix)) return false; /* end first: the directory loaded next covers it */
   const Chunk* c = chunk_of(dir_load(ix), pos);
   if (!c) return false;
   *value = chunk_value(c, (uint32_t)(pos & (CHUNK_LEN - 1)));
   return true;
}

bool lineidx_get_run(const LineIdx* ix, uint64_t pos, uint64_t* value, uint64_t* n_following) {
   uint64_t end = lineidx_end(ix);
   if (pos >= end) return false;
   const Chunk* c = chunk_of(dir_load(ix), pos);
   if (!c) return false;
   uint32_t off = (uint32_t)(pos & (CHUNK_LEN - 1)), stop;
   /* the run may go on past the end loaded: what is beyond it is not published to us */
   uint32_t lim = end - (pos - off) < CHUNK_LEN ? (uint32_t)(end - (pos - off)) : CHUNK_LEN;
   if (c->offs) {
      uint32_t r = run_of(c, off, &stop);
      *value = c->vals[r] + (off - c->offs[r]);
      if (stop > lim) stop = lim;
   } else {
      *value = c->vals[off];
      for (stop = off + 1; stop < lim && c->vals[stop] == c->vals[stop - 1] + 1;) stop++;
   }
   *n_following = stop - off - 1;
   return true;
}

bool lineidx_find_le(const LineIdx* ix, uint64_t v, uint64_t* pos) {
   uint64_t end = lineidx_end(ix);
   const Dir* d = dir_load(ix);
   if (!d || !d->n) return false;
   uint64_t lo = d->base << CHUNK_SHIFT;
   if (end <= lo) return false;
   /* binary search over positions [lo, end) of this directory: last value <= v */
   if (chunk_value(chunk_of(d, lo), 0) > v) return false;
   uint64_t hi = end; /* invariant: value(lo) <= v, value(hi) > v or hi == end */
   while (hi - lo > 1) {
      uint64_t mid = lo + (hi - lo) / 2;
      if (chunk_value(chunk_of(d, mid), (uint32_t)(mid & (CHUNK_LEN - 1))) <= v)
         lo = mid;
      else
         hi = mid;
   }
   *pos = lo;
   return true;
}
