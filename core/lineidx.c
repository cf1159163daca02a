/* Line index: fixed-size chunks of values, an RCU-published chunk directory, a release/acquire
 * end counter.
 *
 * Ordering. A new chunk is listed in a fresh directory (release) before its first value is
 * written, and every value is written before the end that covers it is released; a reader
 * acquire-loads the end, then the directory, so any position below that end is in the
 * directory it sees. The directory is an RCU pointer (core/rcu.h); reclamation goes through
 * call_rcu, so readers hold rcu_read_lock.
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
#define CHUNK_LEN (1u << CHUNK_SHIFT) /* 4096 values, 32 KiB: a chunk per eviction step */

typedef struct Chunk {
   struct rcu_head rcu;
   uint64_t vals[CHUNK_LEN];
} Chunk;

/* Immutable once published: adding or evicting a chunk publishes a fresh copy. */
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

void lineidx_push(LineIdx* ix, uint64_t value) {
   uint64_t pos = ix->wend;
   uint32_t off = (uint32_t)(pos & (CHUNK_LEN - 1));
   if (off == 0) {
      Chunk* c = xmalloc(sizeof *c);
      Dir* old = dir_replace(ix, 0, c);
      if (old) call_rcu(&old->rcu, free_rcu);
   }
   const Dir* d = ix->wdir;
   d->chunks[d->n - 1]->vals[off] = value;
   ix->wend = pos + 1;
   atomic_store_explicit(&ix->end, ix->wend, memory_order_release);
   if (d->n > 1 && ix->wend - ((d->base + 1) << CHUNK_SHIFT) >= ix->max_entries) evict(ix);
}

void lineidx_set_max(LineIdx* ix, uint64_t max_entries) {
   ix->max_entries = max_entries ? max_entries : 1;
   if (ix->wdir && ix->wdir->n > 1) evict(ix);
}

/* ---------------------------------------------------------------- readers */

uint64_t lineidx_begin(const LineIdx* ix) {
   return atomic_load_explicit(&((LineIdx*)ix)->begin, memory_order_acquire);
}

uint64_t lineidx_end(const LineIdx* ix) {
   return atomic_load_explicit(&((LineIdx*)ix)->end, memory_order_acquire);
}

static const Dir* dir_load(const LineIdx* ix) {
   /* acquire: pairs with the release in dir_replace (the directory and its chunk pointers) */
   return rcu_read(&ix->dir);
}

/* The chunk holding pos in d, or NULL when it was evicted (or is not in d). */
static const Chunk* chunk_of(const Dir* d, uint64_t pos) {
   uint64_t cn = pos >> CHUNK_SHIFT;
   if (!d || cn < d->base || cn - d->base >= d->n) return NULL;
   return d->chunks[cn - d->base];
}

bool lineidx_get(const LineIdx* ix, uint64_t pos, uint64_t* value) {
   if (pos >= lineidx_end(ix)) return false; /* end first: the directory loaded next covers it */
   const Chunk* c = chunk_of(dir_load(ix), pos);
   if (!c) return false;
   *value = c->vals[pos & (CHUNK_LEN - 1)];
   return true;
}

bool lineidx_find_le(const LineIdx* ix, uint64_t v, uint64_t* pos) {
   uint64_t end = lineidx_end(ix);
   const Dir* d = dir_load(ix);
   if (!d || !d->n) return false;
   uint64_t lo = d->base << CHUNK_SHIFT;
   if (end <= lo) return false;
   /* binary search over positions [lo, end) of this directory: last value <= v */
   if (chunk_of(d, lo)->vals[0] > v) return false;
   uint64_t hi = end; /* invariant: value(lo) <= v, value(hi) > v or hi == end */
   while (hi - lo > 1) {
      uint64_t mid = lo + (hi - lo) / 2;
      if (chunk_of(d, mid)->vals[mid & (CHUNK_LEN - 1)] <= v)
         lo = mid;
      else
         hi = mid;
   }
   *pos = lo;
   return true;
}
