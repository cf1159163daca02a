/* The sequence of lines a pane shows (one process's log, the All view's merged order, a filter's
 * matches, the error entries' line ranges) and finding lines in it: search and error jumps. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "tui/view_impl.h"

bool seq_get(const Seq* s, uint64_t pos, LogLine* l, uint64_t* proc) {
   uint64_t v;
   switch (s->kind) {
   case SEQ_STORE:
      *proc = s->proc;
      if (s->partial && pos == logstore_end(s->store)) return logstore_partial(s->store, l);
      return logstore_get(s->store, pos, l);
   case SEQ_RANGES:
      *proc = s->proc;
      return logstore_get(s->store, pos, l);
   case SEQ_IDX_LINES:
      *proc = s->proc;
      return lineidx_get(s->idx, pos, &v) && logstore_get(s->store, v, l);
   case SEQ_IDX_REFS:
      if (!lineidx_get(s->idx, pos, &v)) return false;
      *proc = LINEREF_PROC(v);
      if (*proc >= s->reg->n) return false;
      return logstore_get(s->reg->slots[*proc]->log, LINEREF_LINE(v), l);
   }
   return false;
}

/* The last valid position, false when empty. */
bool seq_last(const Seq* s, uint64_t* pos) {
   switch (s->kind) {
   case SEQ_STORE: {
      uint64_t b = logstore_begin(s->store), e = logstore_end(s->store);
      LogLine l;
      if (s->partial && logstore_partial(s->store, &l) && l.len) {
         *pos = e;
         return true;
      }
      if (e == b) return false;
      *pos = e - 1;
      return true;
   }
   case SEQ_IDX_LINES:
   case SEQ_IDX_REFS: {
      uint64_t b = lineidx_begin(s->idx), e = lineidx_end(s->idx);
      if (e == b) return false;
      *pos = e - 1;
      return true;
   }
   case SEQ_RANGES: {
      uint64_t b = logstore_begin(s->store);
      for (uint32_t i = s->intel ? s->intel->nentries : 0; i-- > 0;) {
         const DetectEntry* e = &s->intel->entries[i];
         if (e->last_line >= b) {
            *pos = e->last_line;
            return true;
         }
      }
      return false;
   }
   }
   return false;
}

bool seq_first(const Seq* s, uint64_t* pos) {
   switch (s->kind) {
   case SEQ_STORE:
      *pos = logstore_begin(s->store);
      return *pos < logstore_end(s->store) || seq_last(s, pos);
   case SEQ_IDX_LINES:
   case SEQ_IDX_REFS:
      *pos = lineidx_begin(s->idx);
      return *pos < lineidx_end(s->idx);
   case SEQ_RANGES: {
      uint64_t b = logstore_begin(s->store);
      for (uint32_t i = 0; s->intel && i < s->intel->nentries; i++) {
         const DetectEntry* e = &s->intel->entries[i];
         if (e->last_line >= b) {
            *pos = e->first_line > b ? e->first_line : b;
            return true;
         }
      }
      return false;
   }
   }
   return false;
}

bool seq_next(const Seq* s, uint64_t pos, uint64_t* next) {
   uint64_t last;
   if (!seq_last(s, &last) || pos >= last) return false;
   if (s->kind != SEQ_RANGES) {
      uint64_t first;
      seq_first(s, &first);
      *next = pos + 1 < first ? first : pos + 1;
      return true;
   }
   for (uint32_t i = 0; i < s->intel->nentries; i++) {
      const DetectEntry* e = &s->intel->entries[i];
      if (pos < e->first_line) {
         *next = e->first_line;
         return true;
      }
      if (pos < e->last_line) {
         *next = pos + 1;
         return true;
      }
   }
   return false;
}

bool seq_prev(const Seq* s, uint64_t pos, uint64_t* prev) {
   uint64_t first;
   if (!seq_first(s, &first) || pos <= first) return false;
   if (s->kind != SEQ_RANGES) {
      *prev = pos - 1;
      return true;
   }
   for (uint32_t i = s->intel->nentries; i-- > 0;) {
      const DetectEntry* e = &s->intel->entries[i];
      if (pos > e->last_line) {
         *prev = e->last_line;
         return true;
      }
      if (pos > e->first_line) {
         *prev = pos - 1;
         return true;
      }
   }
   return false;
}

/* The filter applies to what it was set on: the process it was typed in, or the All view. */
uint64_t view_source(const View* v) {
   return v->tab == TAB_ALL ? FILTER_ALL : v->sel;
}

const FilterState* active_filter(const View* v) {
   if (!v->filter || !v->filter_text) return NULL;
   const FilterState* f = filter_state(v->filter);
   if (!f || f->source != view_source(v)) return NULL;
   return f;
}

bool make_seq(const View* v, Seq* s) {
   memset(s, 0, sizeof *s);
   const Registry* r = sup_registry(v->sup);
   s->reg = r;
   const FilterState* f = active_filter(v);
   if (v->tab == TAB_ALL) {
      s->kind = SEQ_IDX_REFS;
      s->idx = f ? f->matches : sup_all_index(v->sup);
      return true;
   }
   if (v->sel >= r->n) return false;
   const ProcSlot* slot = r->slots[v->sel];
   s->store = slot->log;
   s->proc = v->sel;
   if (f) {
      s->kind = SEQ_IDX_LINES;
      s->idx = f->matches;
   } else if (v->errors_only) {
      s->kind = SEQ_RANGES;
      s->intel = intel_of(v, v->sel);
   } else {
      s->kind = SEQ_STORE;
      s->partial = true;
   }
   return true;
}

/* ---------------------------------------------------------------- finding (on the filter worker)
 */

/* Where n/N, e/E and ]/[ start: after the current hit; in follow mode from what is on screen (its
 * top going down, its last line going up, both candidates); else from the top line (a candidate
 * going down). */
static bool find_origin(View* v, const Seq* s, int dir, uint64_t* from, bool* inclusive) {
   Scroll* sc = cur_scroll(v);
   *inclusive = false;
   if (v->cm.on) { /* copy mode: from the cursor (its own line too, for a new search) */
      *from = v->cm.line;
      *inclusive = !v->search_has_hit;
      return true;
   }
   if (v->search_has_hit && !sc->follow) {
      *from = v->search_hit;
      return true;
   }
   if (!sc->follow) {
      *from = sc->top;
      *inclusive = dir > 0;
      return true;
   }
   *inclusive = true;
   if (dir < 0) return seq_last(s, from);
   Scroll b;
   LineCtx lc;
   int cols, rows;
   ctx_for(v, &lc);
   view_pane_size(v, &cols, &rows);
   anchor_bottom(v, s, &lc, cols, v->pane_rows > 0 ? v->pane_rows : rows, &b);
   *from = b.top;
   return true;
}

static bool seq_in_ranges(const Seq* s, uint64_t pos) {
   for (uint32_t i = 0; s->intel && i < s->intel->nentries; i++)
      if (pos >= s->intel->entries[i].first_line && pos <= s->intel->entries[i].last_line)
         return true;
   return false;
}

static const char* find_what(const View* v) {
   return v->find_flag == LINE_ERROR ? "error" : v->find_flag ? "warning" : "match";
}

void find_cancel(View* v) {
   if (v->find_gen && v->filter) filter_find_cancel(v->filter);
   v->find_gen = 0;
}

static void find_hit(View* v, const Seq* s, uint64_t pos, const Regex* re) {
   v->search_hit = pos;
   v->search_has_hit = true;
   scroll_to(v, pos, v->pane_rows / 3);
   copy_search_hit(v, s, pos, re);
   LogLine l;
   uint64_t proc;
   if (v->find_flag && seq_get(s, pos, &l, &proc)) /* All view: whose line it is */
      set_msg(v, false, "%s%s%s at line %llu",
              s->kind == SEQ_IDX_REFS ? s->reg->slots[proc]->name : "",
              s->kind == SEQ_IDX_REFS ? ": " : "", find_what(v), (unsigned long long)l.lineno + 1);
   else if (v->find_flag)
      set_msg(v, false, "%s", find_what(v));
   else
      set_msg(v, false, "/%s", regex_pattern(re));
}

/* Hands the scan to the filter worker; view_tick shows its progress and its result. */
static void find_submit(View* v, const Seq* s, uint64_t from, bool inclusive) {
   FindJob job = {.source = view_source(v),
                  .from = from,
                  .inclusive = inclusive,
                  .dir = v->find_dir,
                  .flags = v->find_flag};
   const FilterState* f = active_filter(v);
   if (f) job.filter_gen = f->gen;
   if (!v->find_flag && !v->search) return;
   if (!v->find_flag) {
      char* cause = NULL;
      if (regex_compile(regex_pattern(v->search), &job.re, &cause) < 0) { /* compiled before */
         set_msg(v, true, "%s", cause);
         free(cause);
         return;
      }
   }
   /* the unfinished last line is the pane's, not the store's: look at it here */
   LogLine l;
   uint64_t proc;
   if (s->kind == SEQ_STORE && inclusive && from == logstore_end(s->store) &&
       seq_get(s, from, &l, &proc) && filter_find_hit(&job, v->scratch, &l)) {
      v->find_gen = 0;
      find_hit(v, s, from, job.re);
      regex_free(job.re);
      return;
   }
   v->find_gen = filter_find(v->filter, &job);
}

static void find_start(View* v, uint16_t flag, int dir) {
   Seq s;
   find_cancel(v);
   if (!v->filter || !make_seq(v, &s)) return;
   uint64_t from;
   bool inclusive;
   v->find_flag = flag;
   v->find_dir = dir;
   if (!find_origin(v, &s, dir, &from, &inclusive)) {
      set_msg(v, false, "no %s: the pane is empty", find_what(v));
      return;
   }
   find_submit(v, &s, from, inclusive);
}

void search_start(View* v, int dir) {
   if (v->search) find_start(v, 0, dir);
}

void jump_flag(View* v, uint16_t flag, int dir) {
   if (v->tab == TAB_PROCS || v->tab == TAB_ALL) find_start(v, flag, dir);
}

/* Follows the find job: progress while it runs, the hit or "no more" once it is done. */
static void find_poll(View* v) {
   if (!v->find_gen) return;
   const FindState* st = filter_find_state(v->filter);
   Seq s;
   const FilterState* af = active_filter(v);
   /* the pane changed under the job (another view, filter or process): its positions are not ours
    */
   if (!st || st->gen != v->find_gen || !make_seq(v, &s) || st->job.source != view_source(v) ||
       st->job.filter_gen != (af ? af->gen : 0)) {
      find_cancel(v);
      return;
   }
   if (!atomic_load_explicit(&st->done, memory_order_acquire)) {
      uint64_t scanned = atomic_load_explicit(&st->scanned, memory_order_acquire);
      uint64_t total = atomic_load_explicit(&st->total, memory_order_acquire);
      unsigned pct = total ? (unsigned)(scanned * 100 / total) : 0;
      set_msg(v, false, "searching %u%%", pct > 99 ? 99 : pct);
      return;
   }
   v->find_gen = 0;
   bool found = atomic_load_explicit(&st->found, memory_order_relaxed);
   uint64_t pos = atomic_load_explicit(&st->pos, memory_order_relaxed);
   if (found && s.kind == SEQ_RANGES && !seq_in_ranges(&s, pos)) {
      find_submit(v, &s, pos, false); /* p: only hits inside error entries count */
      return;
   }
   if (found) {
      find_hit(v, &s, pos, st->job.re);
      return;
   }
   if (atomic_load_explicit(&st->cancelled, memory_order_relaxed)) return;
   bool evicted = atomic_load_explicit(&st->evicted, memory_order_relaxed);
   const char* where = v->find_dir > 0 ? "below" : "above";
   if (v->find_flag)
      set_msg(v, false, "no %s %s%s", find_what(v), where,
              evicted ? " (older lines were dropped)" : "");
   else
      set_msg(v, false, "no more matches %s for /%s%s", where, regex_pattern(st->job.re),
              evicted ? " (older lines were dropped)" : "");
}

bool view_tick(View* v) {
   frame_begin(v);
   find_poll(v);
   frame_end(v);
   return false; /* the worker wakes the UI when the job moves */
}
