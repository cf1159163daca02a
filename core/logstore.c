/* Log store: slotted chunks, an RCU-published chunk directory, release/acquire line counts.
 *
 * Ordering. The writer fills a line record and its text/runs, then release-stores the chunk's
 * count and the store's end; a reader acquire-loads a count (or end) before it reads anything
 * below it. A new chunk is fully initialised before the directory that lists it is published
 * (release), and that happens before any line in it is committed, so a reader that saw a line
 * number below `end` finds its chunk in the directory it loads next.
 *
 * The directory and the partial line are RCU pointers (core/rcu.h); reclamation goes through
 * call_rcu, so readers must hold rcu_read_lock as the header says.
 *
 * Retention. After each append the writer evicts whole oldest chunks while the chunks after
 * them still hold at least max_lines lines, or while the chunk memory exceeds max_bytes. The
 * chunk being written is never evicted, so retention overshoots by at most one chunk: up to
 * max_lines + (lines of one chunk) lines, and up to max_bytes + (one chunk) bytes. With
 * keep_unconsumed, eviction also stops at the first chunk that holds a line not yet consumed;
 * the writer keeps the unconsumed part under half the limits (logstore_backlogged), so retention
 * stays within the limits plus one chunk plus what was added after the backlog filled. */
#include "core/logstore.h"

#include <assert.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/rcu.h"
#include "core/util.h"

#define CHUNK_MIN (16u * 1024u)  /* first chunk of a store: quiet processes stay small */
#define CHUNK_MAX (128u * 1024u) /* chunks double up to this */
#define MALLOC_HEADER (2u * (uint32_t)sizeof(size_t))
#define DEFAULT_MAX_LINES 100000u
#define DEFAULT_MAX_BYTES (256ull * 1024u * 1024u)

/* 8 bytes per line, the only per-line overhead besides the style runs (16 bytes each, on the
 * few lines that have any) and up to 3 bytes that align those runs. The text is packed without
 * padding (only a line with runs needs an aligned start for them), so a line's length is where
 * the previous line's region starts (or the chunk's end) minus its own text offset. The time is
 * kept in 24 bits of milliseconds from the chunk's base (4.6 hours: a later line opens a new
 * chunk), which leaves the top byte to the flags. */
typedef struct LineRec {
   _Atomic uint32_t tf; /* dt_ms | flags << TF_FLAGS_SHIFT; flags ORed by logstore_add_flags */
   uint32_t pos;        /* text offset from the chunk start | nruns << POS_OFF_BITS */
} LineRec;

#define TF_FLAGS_SHIFT 24u
#define TF_DT_MAX ((1u << TF_FLAGS_SHIFT) - 1u)
#define POS_OFF_BITS 18u  /* chunks are at most 256 KiB (CHUNK_MAX) */
#define POS_RUNS_BITS 11u /* up to LOGSTORE_MAX_RUNS runs */
#define POS_OFF_MASK ((1u << POS_OFF_BITS) - 1u)
#define POS_RUNS_MASK ((1u << POS_RUNS_BITS) - 1u)

typedef struct Chunk {
   struct rcu_head rcu;
   uint64_t first;         /* global number of recs[0]; immutable once published */
   uint64_t base_ms;       /* time of the first line */
   uint32_t size;          /* bytes of the whole block (what logstore_bytes counts) */
   uint64_t at;            /* writer only: bytes of every chunk opened before this one */
   _Atomic uint32_t count; /* committed records: release by the writer, acquire by readers */
   LineRec recs[];         /* grow up; text and runs grow down from the end of the block */
} Chunk;

typedef struct DirEnt {
   uint64_t first;
   Chunk* chunk; /* borrowed from the store */
} DirEnt;

/* Immutable once published: a chunk added or evicted publishes a fresh copy. */
typedef struct Dir {
   struct rcu_head rcu;
   uint32_t n;
   DirEnt ents[];
} Dir;

/* The unfinished line, one allocation: header, runs, text. */
typedef struct Partial {
   struct rcu_head rcu;
   uint64_t lineno; /* the end at the time it was set: stale once end moves past it */
   uint64_t time_ms;
   uint32_t len;
   uint16_t nruns;
   StyleRun runs[]; /* then `len` bytes of text */
} Partial;

struct LogStore {
   Dir* dir;         /* RCU */
   Partial* partial; /* RCU */
   _Atomic uint64_t begin, end;
   _Atomic uint64_t bytes, evicted;
   _Atomic uint64_t consumed; /* keep_unconsumed: lines below it are taken (the consumer's) */
   _Atomic uint64_t detected; /* detect_later: lines below it are detected (the detector's) */
   /* writer-only state below */
   Dir* wdir;      /* borrowed: same as dir, read without atomics */
   Chunk* cur;     /* borrowed: the chunk being filled (last in wdir) */
   uint32_t front; /* offset of the next record in cur */
   uint32_t back;  /* lowest offset used by text/runs in cur */
   uint32_t next_size;
   uint32_t chunk_max;
   uint64_t wend, wbegin, wbytes; /* (evicted is only written here: no copy, 8 bytes less) */
   uint64_t wopened;              /* bytes of every chunk ever opened */
   bool has_partial;
   bool keep_unconsumed, detect_later;
   uint64_t max_lines, max_bytes;
};

_Static_assert(sizeof(LineRec) == 8, "line records are 8 bytes");
_Static_assert(LINE_CLEAR < (1u << (32u - TF_FLAGS_SHIFT)), "the flags fit their byte");
_Static_assert(sizeof(StyleRun) == 16, "style runs are 16 bytes");
_Static_assert(CHUNK_MAX <= (1u << POS_OFF_BITS), "a text offset fits its bits");
_Static_assert(LOGSTORE_MAX_RUNS <= POS_RUNS_MASK, "a run count fits its bits");
/* an oversized piece gets a chunk of its own size */
_Static_assert(256 + LOGSTORE_MAX_RUNS * sizeof(StyleRun) + LOGSTORE_MAX_LINE <=
                   (1u << POS_OFF_BITS),
               "a chunk for the largest piece fits the offset bits");

/* Where a line's runs start: below its text, rounded down to 4 bytes (StyleRun's alignment). */
static uint32_t runs_at(uint32_t text_off, uint32_t nruns) {
   return (text_off - nruns * (uint32_t)sizeof(StyleRun)) & ~3u;
}

static bool style_default(const StyleRun* r) {
   return r->fg == COLOR_DEFAULT && r->bg == COLOR_DEFAULT && r->attr == 0;
}

LogStore* logstore_new(const LogStoreConfig* cfg) {
   LogStore* ls = xcalloc(1, sizeof *ls);
   ls->max_lines = cfg && cfg->max_lines ? cfg->max_lines : DEFAULT_MAX_LINES;
   ls->max_bytes = cfg && cfg->max_bytes ? cfg->max_bytes : DEFAULT_MAX_BYTES;
   ls->keep_unconsumed = cfg && cfg->keep_unconsumed;
   ls->detect_later = cfg && cfg->detect_later;
   /* small byte budgets get small chunks so the one-chunk overshoot stays proportionate */
   uint64_t cmax = ls->max_bytes / 8;
   if (cmax > CHUNK_MAX) cmax = CHUNK_MAX;
   if (cmax < CHUNK_MIN) cmax = CHUNK_MIN;
   ls->chunk_max = (uint32_t)cmax;
   ls->next_size = CHUNK_MIN;
   atomic_init(&ls->begin, 0);
   atomic_init(&ls->end, 0);
   atomic_init(&ls->bytes, 0);
   atomic_init(&ls->evicted, 0);
   atomic_init(&ls->consumed, 0);
   atomic_init(&ls->detected, 0);
   return ls;
}

void logstore_free(LogStore* ls) {
   if (!ls) return;
   Dir* d = ls->wdir;
   if (d) {
      for (uint32_t i = 0; i < d->n; i++) free(d->ents[i].chunk);
      free(d);
   }
   free(ls->partial); /* the readers are done */
   free(ls);
}

/* ---------------------------------------------------------------- writer */

static void free_rcu(struct rcu_head* head) {
   /* rcu is the first member of Dir, Chunk and Partial */
   free(head);
}

/* Publishes a directory made of old[skip..] plus `add` (if any) and returns the old one, which
 * the caller hands to call_rcu once it no longer needs it. */
static Dir* dir_replace(LogStore* ls, uint32_t skip, Chunk* add) {
   Dir* old = ls->wdir;
   uint32_t keep = old ? old->n - skip : 0;
   uint32_t n = keep + (add ? 1u : 0u);
   Dir* d = xmalloc(sizeof *d + (size_t)n * sizeof(DirEnt));
   d->n = n;
   if (keep) memcpy(d->ents, old->ents + skip, (size_t)keep * sizeof(DirEnt));
   if (add) d->ents[keep] = (DirEnt){.first = add->first, .chunk = add};
   rcu_publish(&ls->dir, d);
   ls->wdir = d;
   return old;
}

static void chunk_open(LogStore* ls, uint32_t need, uint64_t time_ms) {
   /* a power of two less malloc's chunk header: a block served by mmap (128 KiB is glibc's
    * first threshold) then fills whole pages instead of spilling 16 bytes into one more */
   uint32_t size = ls->next_size - MALLOC_HEADER;
   uint32_t min = (uint32_t)sizeof(Chunk) + need;
   if (size < min) size = (min + 63u) & ~63u; /* an oversized line gets a chunk of its own size */
   if (ls->next_size < ls->chunk_max) {
      ls->next_size *= 2;
      if (ls->next_size > ls->chunk_max) ls->next_size = ls->chunk_max;
   }
   /* Not zeroed: what lies between the records and the text is never read, and regex JIT reads
    * a little past a line's end only into the line before it (written) or the chunk's end. The
    * few bytes that align a line's runs are zeroed where they are made. Zeroing the block would
    * also make all of it resident at once. */
   Chunk* c = xmalloc(size);
   c->first = ls->wend;
   c->base_ms = time_ms;
   c->size = size;
   c->at = ls->wopened;
   ls->wopened += size;
   atomic_init(&c->count, 0);
   ls->cur = c;
   ls->front = (uint32_t)sizeof(Chunk);
   ls->back = size;
   ls->wbytes += size;
   atomic_store_explicit(&ls->bytes, ls->wbytes, memory_order_relaxed);
   Dir* old = dir_replace(ls, 0, c);
   if (old) call_rcu(&old->rcu, free_rcu);
}

/* The first line a consumer (the printer, the detector) has not taken yet: retention keeps it. */
static uint64_t kept_from(const LogStore* ls) {
   uint64_t c = UINT64_MAX;
   if (ls->keep_unconsumed)
      c = atomic_load_explicit(&((LogStore*)ls)->consumed, memory_order_acquire);
   if (ls->detect_later) {
      /* seq_cst: core/detwork.c's pause handshake (the supervisor's side) */
      uint64_t d = atomic_load_explicit(&((LogStore*)ls)->detected, memory_order_seq_cst);
      if (d < c) c = d;
   }
   return c;
}

static void evict(LogStore* ls) {
   const Dir* d = ls->wdir;
   uint32_t k = 0;
   uint64_t retained = ls->wend - ls->wbegin, bytes = ls->wbytes, dropped = 0;
   uint64_t consumed = kept_from(ls);
   while (k + 1 < d->n) {
      uint64_t lines = d->ents[k + 1].first - d->ents[k].first;
      if (retained - lines < ls->max_lines && bytes <= ls->max_bytes) break;
      if (d->ents[k + 1].first > consumed) break; /* it holds a line not yet taken */
      retained -= lines;
      dropped += lines;
      bytes -= d->ents[k].chunk->size;
      k++;
   }
   if (!k) return;
   /* begin moves first, so no reader sees a line above begin that the directory has lost */
   ls->wbegin += dropped;
   ls->wbytes = bytes;
   atomic_store_explicit(&ls->begin, ls->wbegin, memory_order_release);
   Dir* old = dir_replace(ls, k, NULL);
   atomic_store_explicit(&ls->bytes, ls->wbytes, memory_order_relaxed);
   uint64_t ev = atomic_load_explicit(&ls->evicted, memory_order_relaxed) + dropped;
   atomic_store_explicit(&ls->evicted, ev, memory_order_relaxed);
   /* only now unreachable for new readers: the grace period covers the ones that saw them */
   for (uint32_t i = 0; i < k; i++) call_rcu(&old->ents[i].chunk->rcu, free_rcu);
   call_rcu(&old->rcu, free_rcu);
}

/* Bytes a piece takes in a chunk at most (its runs' alignment may take up to 3 less). */
static uint32_t piece_need(uint32_t len, uint32_t total_runs) {
   uint32_t runs = total_runs ? total_runs * (uint32_t)sizeof(StyleRun) + 3u : 0;
   return (uint32_t)sizeof(LineRec) + len + runs;
}

/* Stores one piece: `lead` (optional) becomes a run at 0, runs[] are re-based by -base. */
static void put_piece(LogStore* ls, const char* text, uint32_t len, const StyleRun* lead,
                      const StyleRun* runs, uint32_t nruns, uint32_t base, uint16_t flags,
                      uint64_t time_ms) {
   uint32_t total_runs = nruns + (lead ? 1u : 0u);
   Chunk* c = ls->cur;
   if (!c || ls->front + piece_need(len, total_runs) > ls->back ||
       (time_ms > c->base_ms && time_ms - c->base_ms > TF_DT_MAX)) {
      chunk_open(ls, piece_need(len, total_runs), time_ms);
      c = ls->cur;
   }
   uint32_t text_off = ls->back - len;
   ls->back = total_runs ? runs_at(text_off, total_runs) : text_off;
   uint32_t pad = text_off - ls->back - total_runs * (uint32_t)sizeof(StyleRun);
   if (pad) memset((char*)c + text_off - pad, 0, pad);
   StyleRun* out = (StyleRun*)((char*)c + ls->back);
   if (lead) {
      *out = *lead;
      out->start = 0;
      out++;
   }
   for (uint32_t i = 0; i < nruns; i++) {
      out[i] = runs[i];
      out[i].start -= base;
   }
   if (len) memcpy((char*)c + text_off, text, len);
   uint32_t idx = (ls->front - (uint32_t)sizeof(Chunk)) / (uint32_t)sizeof(LineRec);
   LineRec* r = &c->recs[idx];
   r->pos = text_off | total_runs << POS_OFF_BITS;
   /* a clock that went backwards reads as the chunk's base time */
   uint32_t dt = time_ms >= c->base_ms ? (uint32_t)(time_ms - c->base_ms) : 0;
   atomic_store_explicit(&r->tf, dt | (uint32_t)flags << TF_FLAGS_SHIFT, memory_order_relaxed);
   ls->front += (uint32_t)sizeof(LineRec);
   atomic_store_explicit(&c->count, idx + 1, memory_order_release);
   ls->wend++;
   atomic_store_explicit(&ls->end, ls->wend, memory_order_release);
}

/* Where a piece starting at `a` may end: at most LOGSTORE_MAX_LINE bytes, not inside a UTF-8
 * sequence (unless the piece would be empty). */
static uint32_t piece_end(const char* text, uint32_t len, uint32_t a) {
   if (len - a <= LOGSTORE_MAX_LINE) return len;
   uint32_t b = a + LOGSTORE_MAX_LINE;
   for (uint32_t back = 0; back < 3 && b > a + 1 && ((unsigned char)text[b] & 0xC0u) == 0x80u;
        back++)
      b--;
   return b;
}

uint64_t logstore_append(LogStore* ls, const char* text, uint32_t len, const StyleRun* runs,
                         uint16_t nruns, uint16_t flags, uint64_t time_ms) {
   uint64_t first = ls->wend;
   uint32_t nr = nruns;
   while (nr && runs[nr - 1].start >= len) nr--;
   if (len <= LOGSTORE_MAX_LINE && nr <= LOGSTORE_MAX_RUNS) {
      put_piece(ls, text, len, NULL, runs, nr, 0, flags, time_ms);
   } else {
      uint32_t a = 0, ri = 0;
      uint16_t pflags = flags;
      do {
         while (ri < nr && runs[ri].start <= a) ri++;
         /* a piece starts with the style in force at its start */
         const StyleRun* lead = ri && !style_default(&runs[ri - 1]) ? &runs[ri - 1] : NULL;
         uint32_t b = piece_end(text, len, a);
         uint32_t j = ri, max = LOGSTORE_MAX_RUNS - (lead ? 1u : 0u);
         while (j < nr && runs[j].start < b && j - ri < max) j++;
         if (j < nr && runs[j].start < b) b = runs[j].start; /* too many runs: cut before it */
         while (j > ri && runs[j - 1].start >= b) j--;
         put_piece(ls, text + a, b - a, lead, runs + ri, j - ri, a, pflags, time_ms);
         pflags = flags | LINE_CONTINUED;
         a = b;
      } while (a < len);
   }
   if (ls->has_partial) logstore_set_partial(ls, NULL, 0, NULL, 0, 0);
   if (ls->wdir->n > 1) evict(ls);
   return first;
}

static uint32_t dir_find(const Dir* d, uint64_t lineno);

bool logstore_backlogged(const LogStore* ls) {
   if (!ls->keep_unconsumed && !ls->detect_later) return false;
   uint64_t c = kept_from(ls);
   if (c >= ls->wend) return false;
   if (c < ls->wbegin) c = ls->wbegin; /* not reached: such lines are kept */
   /* thresholds of at least 1, so that nothing unconsumed is never a backlog */
   if (ls->wend - c >= ls->max_lines - ls->max_lines / 2) return true;
   const Chunk* first = ls->wdir->ents[dir_find(ls->wdir, c)].chunk;
   uint64_t half = ls->max_bytes / 2 ? ls->max_bytes / 2 : 1;
   return ls->wopened - first->at >= half;
}

void logstore_consume(LogStore* ls, uint64_t upto) {
   atomic_store_explicit(&ls->consumed, upto, memory_order_release);
}

void logstore_add_flags(LogStore* ls, uint64_t lineno, uint16_t flags) {
   /* the reader's view (the detector is not the writer): the end first, then a directory that
    * lists every chunk below it */
   if (lineno >= logstore_end(ls)) return;
   const Dir* d = rcu_read(&ls->dir);
   if (!d || !d->n || lineno < d->ents[0].first) return;
   Chunk* c = d->ents[dir_find(d, lineno)].chunk;
   if (lineno - c->first >= atomic_load_explicit(&c->count, memory_order_acquire)) return;
   atomic_fetch_or_explicit(&c->recs[lineno - c->first].tf, (uint32_t)flags << TF_FLAGS_SHIFT,
                            memory_order_relaxed);
}

void logstore_set_detected(LogStore* ls, uint64_t upto) {
   /* seq_cst, not only release: core/detwork.c's pause handshake orders it before the
    * detector's load of the stall flag */
   atomic_store_explicit(&ls->detected, upto, memory_order_seq_cst);
}

uint64_t logstore_detected(const LogStore* ls) {
   if (!ls->detect_later) return logstore_end(ls);
   uint64_t d = atomic_load_explicit(&((LogStore*)ls)->detected, memory_order_acquire);
   uint64_t e = logstore_end(ls);
   return d < e ? d : e;
}

void logstore_set_partial(LogStore* ls, const char* text, uint32_t len, const StyleRun* runs,
                          uint16_t nruns, uint64_t time_ms) {
   Partial* p = NULL;
   if (len) {
      if (len > LOGSTORE_MAX_LINE) len = LOGSTORE_MAX_LINE; /* a preview: the head is enough */
      uint32_t nr = nruns > LOGSTORE_MAX_RUNS ? LOGSTORE_MAX_RUNS : nruns;
      while (nr && runs[nr - 1].start >= len) nr--;
      p = xmalloc(sizeof *p + (size_t)nr * sizeof(StyleRun) + len);
      p->lineno = ls->wend;
      p->time_ms = time_ms;
      p->len = len;
      p->nruns = (uint16_t)nr;
      if (nr) memcpy(p->runs, runs, (size_t)nr * sizeof(StyleRun));
      memcpy((char*)(p->runs + nr), text, len);
   } else if (!ls->has_partial) {
      return; /* nothing to clear: the common case on every committed line */
   }
   Partial* old = rcu_swap(&ls->partial, p);
   ls->has_partial = p != NULL;
   if (old) call_rcu(&old->rcu, free_rcu);
}

/* ---------------------------------------------------------------- readers */

static const Dir* dir_load(const LogStore* ls) {
   /* acquire: pairs with the release in dir_replace (the directory and its chunks' headers) */
   return rcu_read(&ls->dir);
}

/* Index of the chunk that holds lineno (lineno >= ents[0].first). */
static uint32_t dir_find(const Dir* d, uint64_t lineno) {
   uint32_t lo = 0, hi = d->n;
   while (hi - lo > 1) {
      uint32_t mid = lo + (hi - lo) / 2;
      if (d->ents[mid].first <= lineno)
         lo = mid;
      else
         hi = mid;
   }
   return lo;
}

static uint32_t chunk_count(const Chunk* c) {
   return atomic_load_explicit(&((Chunk*)c)->count, memory_order_acquire);
}

/* Where a record's region (its runs, or its text when it has none) starts. */
static uint32_t region_at(const LineRec* r) {
   uint32_t off = r->pos & POS_OFF_MASK, nruns = r->pos >> POS_OFF_BITS;
   return nruns ? runs_at(off, nruns) : off;
}

static void fill(const Chunk* c, uint32_t idx, LogLine* out) {
   const LineRec* r = &c->recs[idx];
   uint32_t off = r->pos & POS_OFF_MASK, nruns = r->pos >> POS_OFF_BITS;
   /* the text runs up to the previous line's region: records and regions are in the same order */
   uint32_t text_end = idx ? region_at(r - 1) : c->size;
   uint32_t tf = atomic_load_explicit(&((LineRec*)r)->tf, memory_order_relaxed);
   out->lineno = c->first + idx;
   out->time_ms = c->base_ms + (tf & TF_DT_MAX);
   out->runs = (const StyleRun*)((const char*)c + runs_at(off, nruns));
   out->nruns = (uint16_t)nruns;
   out->text = (const char*)c + off;
   out->len = text_end - off;
   out->flags = (uint16_t)(tf >> TF_FLAGS_SHIFT);
}

uint64_t logstore_begin(const LogStore* ls) {
   return atomic_load_explicit(&((LogStore*)ls)->begin, memory_order_acquire);
}

uint64_t logstore_end(const LogStore* ls) {
   return atomic_load_explicit(&((LogStore*)ls)->end, memory_order_acquire);
}

uint64_t logstore_bytes(const LogStore* ls) {
   return atomic_load_explicit(&((LogStore*)ls)->bytes, memory_order_relaxed);
}

uint64_t logstore_evicted(const LogStore* ls) {
   return atomic_load_explicit(&((LogStore*)ls)->evicted, memory_order_relaxed);
}

bool logstore_get(const LogStore* ls, uint64_t lineno, LogLine* out) {
   const Dir* d = dir_load(ls);
   if (!d || !d->n || lineno < d->ents[0].first) return false;
   const Chunk* c = d->ents[dir_find(d, lineno)].chunk;
   uint64_t idx = lineno - c->first;
   if (idx >= chunk_count(c)) return false;
   fill(c, (uint32_t)idx, out);
   return true;
}

bool logstore_partial(const LogStore* ls, LogLine* out) {
   const Partial* p = rcu_read(&ls->partial);
   /* a line committed after it was set makes it stale (it is cleared right after) */
   if (!p || p->lineno != logstore_end(ls)) return false;
   out->lineno = p->lineno;
   out->time_ms = p->time_ms;
   out->runs = p->runs;
   out->nruns = p->nruns;
   out->text = (const char*)(p->runs + p->nruns);
   out->len = p->len;
   out->flags = 0;
   return true;
}

void logiter_init(LogIter* it, const LogStore* ls, uint64_t from) {
   uint64_t b = logstore_begin(ls);
   it->ls = ls;
   it->chunk = NULL;
   it->next = from < b ? b : from;
}

bool logiter_next(LogIter* it, LogLine* out) {
   const Chunk* c = it->chunk;
   /* fast path: still inside the cached chunk (its memory stays valid for the read section) */
   if (c && it->next >= c->first && it->next - c->first < chunk_count(c)) {
      fill(c, (uint32_t)(it->next - c->first), out);
      it->next++;
      return true;
   }
   const Dir* d = dir_load(it->ls);
   if (!d || !d->n) return false;
   if (it->next < d->ents[0].first) it->next = d->ents[0].first; /* evicted meanwhile: skip */
   c = d->ents[dir_find(d, it->next)].chunk;
   it->chunk = c;
   uint64_t idx = it->next - c->first;
   if (idx >= chunk_count(c)) return false;
   fill(c, (uint32_t)idx, out);
   it->next++;
   return true;
}

void logiter_add_flags(LogIter* it, uint16_t flags) {
   /* the chunk that line came from stays valid for the read section; its records' flags are the
    * one thing in a published chunk that is written after the fact */
   Chunk* c = (Chunk*)it->chunk;
   atomic_fetch_or_explicit(&c->recs[it->next - 1 - c->first].tf, (uint32_t)flags << TF_FLAGS_SHIFT,
                            memory_order_relaxed);
}
