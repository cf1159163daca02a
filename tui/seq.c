/* The sequence of lines a pane shows (one process's log, the All view's merged order, a filter's
 * matches, the error entries' line ranges) and finding lines in it: search and error jumps. */
#include <string.h>

#include "tui/view_impl.h"

#define SEARCH_BUDGET 20000 /* lines looked at per search step, so a frame never stalls */

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

void search_start(View* v, int dir) {
   Seq s;
   if (!v->search || !make_seq(v, &s)) return;
   Scroll* sc = cur_scroll(v);
   uint64_t from;
   if (v->search_has_hit)
      from = v->search_hit;
   else if (sc->follow) {
      if (!seq_last(&s, &from)) return;
      if (dir > 0) return (void)set_msg(v, false, "at the end: N searches backwards");
      v->search_from = from;
      v->search_dir = dir;
      /* include the last line itself when going up from the end */
      LogLine l;
      uint64_t proc;
      if (seq_get(&s, from, &l, &proc) && regex_match(v->search, v->scratch, l.text, l.len)) {
         v->search_hit = from;
         v->search_has_hit = true;
         v->search_dir = 0;
         scroll_to(v, from, v->pane_rows / 3);
         return;
      }
      return;
   } else
      from = sc->top;
   if (!(dir > 0 ? seq_next(&s, from, &from) : seq_prev(&s, from, &from))) {
      set_msg(v, false, "no more matches %s", dir > 0 ? "below" : "above");
      return;
   }
   v->search_from = from;
   v->search_dir = dir;
}

static bool search_step(View* v) {
   if (!v->search_dir || !v->search) return false;
   Seq s;
   if (!make_seq(v, &s)) {
      v->search_dir = 0;
      return false;
   }
   uint64_t pos = v->search_from;
   for (int i = 0; i < SEARCH_BUDGET; i++) {
      LogLine l;
      uint64_t proc;
      if (seq_get(&s, pos, &l, &proc) && !(l.flags & LINE_MARKER) &&
          regex_match(v->search, v->scratch, l.text, l.len)) {
         v->search_hit = pos;
         v->search_has_hit = true;
         v->search_dir = 0;
         scroll_to(v, pos, v->pane_rows / 3);
         set_msg(v, false, "/%s", regex_pattern(v->search));
         return false;
      }
      uint64_t next;
      if (!(v->search_dir > 0 ? seq_next(&s, pos, &next) : seq_prev(&s, pos, &next))) {
         set_msg(v, false, "no more matches %s for /%s", v->search_dir > 0 ? "below" : "above",
                 regex_pattern(v->search));
         v->search_dir = 0;
         return false;
      }
      pos = next;
   }
   v->search_from = pos;
   set_msg(v, false, "searching...");
   return true;
}

bool view_tick(View* v) {
   frame_begin(v);
   bool more = search_step(v);
   frame_end(v);
   return more;
}

void jump_flag(View* v, uint16_t flag, int dir) {
   Seq s;
   if (v->tab != TAB_PROCS || !make_seq(v, &s) || s.kind != SEQ_STORE) {
      if (v->tab == TAB_PROCS)
         set_msg(v, false, "clear the filter (f, then Enter on empty) to jump");
      return;
   }
   Scroll* sc = cur_scroll(v);
   uint64_t pos;
   bool inclusive = false; /* is `pos` itself a candidate? */
   if (v->search_has_hit && !sc->follow) {
      pos = v->search_hit;
   } else if (sc->follow) {
      /* from what is on screen: its top going down, its bottom going up */
      inclusive = true;
      if (dir < 0) {
         if (!seq_last(&s, &pos)) return;
      } else {
         Scroll b;
         LineCtx lc;
         int cols, rows;
         ctx_for(v, &lc);
         view_pane_size(v, &cols, &rows);
         anchor_bottom(v, &s, &lc, cols, v->pane_rows > 0 ? v->pane_rows : rows, &b);
         pos = b.top;
      }
   } else {
      pos = sc->top;
      inclusive = dir > 0;
   }
   const char* what = flag == LINE_ERROR ? "error" : "warning";
   for (int i = 0; i < 2000000; i++) {
      uint64_t next;
      if (inclusive) {
         inclusive = false;
         next = pos;
      } else if (!(dir > 0 ? seq_next(&s, pos, &next) : seq_prev(&s, pos, &next))) {
         break;
      }
      pos = next;
      LogLine l;
      uint64_t proc;
      if (seq_get(&s, pos, &l, &proc) && (l.flags & flag)) {
         v->search_hit = pos;
         v->search_has_hit = true;
         scroll_to(v, pos, v->pane_rows / 3);
         set_msg(v, false, "%s at line %llu", what, (unsigned long long)pos + 1);
         return;
      }
   }
   set_msg(v, false, "no %s %s", what, dir > 0 ? "below" : "above");
}
