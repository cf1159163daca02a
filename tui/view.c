#include "tui/view.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/util.h"

#define MIN_W 40
#define MIN_H 10
#define SEARCH_BUDGET 20000 /* lines looked at per search step, so a frame never stalls */
#define MAX_HL 64           /* highlighted matches per line */

static Style role(const View* v, ThemeRole r) {
   return theme_role(v->theme, r);
}

/* ================================================================ sequences of lines */

/* What a pane shows: a process's lines, a filter's matches, the All view's merged order, or the
 * error entries' line ranges. Positions are stable between frames. */
typedef enum SeqKind { SEQ_STORE, SEQ_IDX_LINES, SEQ_IDX_REFS, SEQ_RANGES } SeqKind;

typedef struct Seq {
   SeqKind kind;
   const LogStore* store;   /* SEQ_STORE, SEQ_IDX_LINES, SEQ_RANGES */
   uint64_t proc;           /* process of `store` */
   const LineIdx* idx;      /* SEQ_IDX_* */
   const Registry* reg;     /* SEQ_IDX_REFS */
   const DetectSnap* intel; /* SEQ_RANGES */
   bool partial;            /* SEQ_STORE: show the unfinished line at position end */
} Seq;

static bool seq_get(const Seq* s, uint64_t pos, LogLine* l, uint64_t* proc) {
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
static bool seq_last(const Seq* s, uint64_t* pos) {
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

static bool seq_first(const Seq* s, uint64_t* pos) {
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

static bool seq_next(const Seq* s, uint64_t pos, uint64_t* next) {
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

static bool seq_prev(const Seq* s, uint64_t pos, uint64_t* prev) {
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

/* ================================================================ helpers */

static const ProcSlot* slot_of(const View* v, uint64_t id) {
   const Registry* r = sup_registry(v->sup);
   return id < r->n ? r->slots[id] : NULL;
}

static size_t nprocs(const View* v) {
   return sup_registry(v->sup)->n;
}

static void set_msg(View* v, bool error, const char* fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_msg(View* v, bool error, const char* fmt, ...) {
   va_list ap;
   va_start(ap, fmt);
   vsnprintf(v->msg, sizeof v->msg, fmt, ap);
   va_end(ap);
   v->msg_error = error;
}

static Scroll* cur_scroll(View* v) {
   if (v->tab == TAB_ALL) return &v->all_scroll;
   if (v->sel >= v->nscroll) view_sync(v);
   return &v->scroll[v->sel];
}

/* The filter applies to what it was set on: the process it was typed in, or the All view. */
static uint64_t view_source(const View* v) {
   return v->tab == TAB_ALL ? FILTER_ALL : v->sel;
}

static const FilterState* active_filter(const View* v) {
   if (!v->filter || !v->filter_text) return NULL;
   const FilterState* f = filter_state(v->filter);
   if (!f || f->source != view_source(v)) return NULL;
   return f;
}

static bool make_seq(const View* v, Seq* s) {
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
      s->intel = sup_intel(slot);
   } else {
      s->kind = SEQ_STORE;
      s->partial = true;
   }
   return true;
}

/* ================================================================ line layout */

typedef struct LineCtx {
   int name_w; /* All view: width of the process-name column, else 0 */
   bool timestamps;
   bool wrap;
   const Regex* hl[2]; /* search and filter patterns to highlight */
} LineCtx;

static int prefix_cols(const View* v, const LineCtx* lc) {
   (void)v;
   return 1 + (lc->timestamps ? 9 : 0) + (lc->name_w ? lc->name_w + 3 : 0);
}

/* Display columns of a line's text, tabs expanded. */
static int text_cols(const LogLine* l) {
   int col = 0;
   for (uint32_t i = 0; i < l->len;) {
      uint32_t cp;
      i += (uint32_t)canvas_utf8_decode(l->text + i, l->len - i, &cp);
      if (cp == '\t')
         col = (col / 8 + 1) * 8;
      else {
         int w = canvas_cp_width(cp);
         col += w ? w : (cp < 0x20 || cp == 0x7f) ? 1 : 0;
      }
   }
   return col;
}

static int line_rows(const LogLine* l, int cols, bool wrap) {
   if (!wrap || cols <= 0) return 1;
   int c = text_cols(l);
   return c <= cols ? 1 : (c + cols - 1) / cols;
}

/* Byte ranges of the matches of the highlight patterns in a line. */
static int find_hl(View* v, const LineCtx* lc, const LogLine* l, uint32_t* hs, uint32_t* he) {
   int n = 0;
   for (int k = 0; k < 2; k++) {
      if (!lc->hl[k]) continue;
      size_t from = 0, s, e;
      while (n < MAX_HL && regex_find(lc->hl[k], v->scratch, l->text, l->len, from, &s, &e)) {
         if (e > s) {
            hs[n] = (uint32_t)s;
            he[n] = (uint32_t)e;
            n++;
         }
         from = e > s ? e : e + 1;
         if (from > l->len) break;
      }
   }
   return n;
}

static Style child_style(const View* v, const StyleRun* r) {
   Style base = role(v, THEME_PANE);
   if (!r) return base;
   Style s = {.fg = r->fg ? r->fg : base.fg, .bg = r->bg ? r->bg : base.bg, .attr = r->attr};
   return s;
}

/* Draws one log line starting at its wrapped row `skip`, at most `max_rows` rows from y.
 * Returns the rows drawn. */
static int draw_line(View* v, Canvas* c, const LineCtx* lc, int x, int y, int w, int max_rows,
                     int skip, const LogLine* l, uint64_t proc, bool current) {
   int pre = prefix_cols(v, lc);
   int cols = w - pre;
   if (cols < 1) return 0;
   Style pane = role(v, THEME_PANE);
   /* prefix: gutter, time, process name (first row only) */
   if (skip == 0) {
      Style gs = role(v, THEME_GUTTER);
      const char* g = " ";
      if (l->flags & LINE_ERROR)
         g = v->ascii ? "!" : "▌", gs = role(v, THEME_ERROR);
      else if (l->flags & LINE_WARNING)
         g = v->ascii ? "*" : "▌", gs = role(v, THEME_WARNING);
      else if (l->flags & LINE_GROUPED)
         g = v->ascii ? "|" : "│", gs = role(v, THEME_ERROR);
      if (current) g = v->ascii ? ">" : "▶", gs = role(v, THEME_MATCH_CURRENT);
      canvas_text(c, x, y, 1, g, strlen(g), gs);
      int px = x + 1;
      if (lc->timestamps) {
         char ts[16];
         time_t t = (time_t)(l->time_ms / 1000);
         struct tm tm;
         localtime_r(&t, &tm);
         strftime(ts, sizeof ts, "%H:%M:%S ", &tm);
         canvas_text(c, px, y, 9, ts, strlen(ts), role(v, THEME_TIMESTAMP));
         px += 9;
      }
      if (lc->name_w) {
         const ProcSlot* s = slot_of(v, proc);
         const char* name = s ? s->name : "?";
         Style ns = role(v, (ThemeRole)(THEME_NAME0 + (int)(proc % THEME_NAME_COUNT)));
         int used = canvas_text(c, px, y, lc->name_w, name, strlen(name), ns);
         canvas_fill(c, px + used, y, lc->name_w + 3 - used, 1, pane);
         canvas_text(c, px + lc->name_w + 1, y, 1, v->ascii ? "|" : "│", v->ascii ? 1 : 3,
                     role(v, THEME_PANE_BORDER));
      }
   }
   uint32_t hs[MAX_HL], he[MAX_HL];
   int nhl = (lc->hl[0] || lc->hl[1]) && !(l->flags & LINE_MARKER) ? find_hl(v, lc, l, hs, he) : 0;
   Style hls = role(v, THEME_MATCH);
   bool marker = l->flags & LINE_MARKER;
   Style ms = role(v, THEME_MARKER);

   int row = 0, col = 0, drawn = 0;
   uint16_t ri = 0;
   const StyleRun* run = NULL;
   for (uint32_t i = 0; i < l->len;) {
      while (ri < l->nruns && l->runs[ri].start <= i) run = &l->runs[ri++];
      uint32_t cp;
      uint32_t at = i;
      i += (uint32_t)canvas_utf8_decode(l->text + i, l->len - i, &cp);
      int cw;
      if (cp == '\t')
         cw = (col / 8 + 1) * 8 - col;
      else {
         cw = canvas_cp_width(cp);
         if (cw == 0) {
            if (cp < 0x20 || cp == 0x7f)
               cw = 1, cp = 0xb7;
            else
               continue;
         }
      }
      if (col + (cp == '\t' ? 1 : cw) > cols) {
         if (!lc->wrap) {
            if (row >= skip && row - skip < max_rows)
               canvas_text(c, x + w - 1, y + row - skip, 1, v->ascii ? ">" : "›", v->ascii ? 1 : 3,
                           role(v, THEME_MARKER));
            break;
         }
         row++;
         col = 0;
         if (row - skip >= max_rows) break;
         if (cp == '\t') cw = 8;
      }
      if (row >= skip) {
         Style st = marker ? ms : child_style(v, run);
         for (int k = 0; k < nhl; k++)
            if (at >= hs[k] && at < he[k]) st = hls;
         int yy = y + row - skip;
         if (cp == '\t') {
            int n = cw < cols - col ? cw : cols - col;
            canvas_fill(c, x + pre + col, yy, n, 1, st);
         } else {
            char buf[4];
            size_t blen = i - at;
            memcpy(buf, l->text + at, blen < 4 ? blen : 4);
            if (cp == 0xb7 || cp == 0xfffd)
               canvas_text(c, x + pre + col, yy, cw, cp == 0xb7 ? "·" : "\xef\xbf\xbd",
                           cp == 0xb7 ? 2 : 3, st);
            else
               canvas_text(c, x + pre + col, yy, cw, buf, blen, st);
         }
      }
      col += cw;
   }
   drawn = row - skip + 1;
   if (drawn > max_rows) drawn = max_rows;
   return drawn < 1 ? 1 : drawn;
}

/* ================================================================ the output pane */

static void ctx_for(View* v, LineCtx* lc) {
   memset(lc, 0, sizeof *lc);
   lc->wrap = v->wrap;
   lc->timestamps = v->timestamps;
   if (v->tab == TAB_ALL) {
      const Registry* r = sup_registry(v->sup);
      for (size_t i = 0; i < r->n; i++) {
         int n = canvas_str_width(r->slots[i]->name, strlen(r->slots[i]->name));
         if (n > lc->name_w) lc->name_w = n;
      }
      if (lc->name_w > 24) lc->name_w = 24;
   }
   lc->hl[0] = v->search;
   const FilterState* f = active_filter(v);
   lc->hl[1] = f ? f->re : NULL;
}

/* Resolves a following scroll into an anchor: the top line and row that show the end. */
static void anchor_bottom(View* v, const Seq* s, const LineCtx* lc, int w, int rows, Scroll* sc) {
   uint64_t pos;
   sc->top_row = 0;
   if (!seq_last(s, &pos)) {
      sc->top = 0;
      return;
   }
   int cols = w - prefix_cols(v, lc);
   int left = rows;
   for (;;) {
      LogLine l;
      uint64_t proc;
      int n = seq_get(s, pos, &l, &proc) ? line_rows(&l, cols, lc->wrap) : 1;
      if (n >= left) {
         sc->top = pos;
         sc->top_row = n - left;
         return;
      }
      left -= n;
      uint64_t prev;
      if (!seq_prev(s, pos, &prev)) {
         sc->top = pos;
         return;
      }
      pos = prev;
   }
}

/* Moves an anchored scroll by `delta` rows (negative: up). Reaching the end resumes follow. */
static void scroll_by(View* v, int delta) {
   Seq s;
   if (!make_seq(v, &s)) return;
   LineCtx lc;
   ctx_for(v, &lc);
   int w, unused;
   view_pane_size(v, &w, &unused);
   int rows = v->pane_rows > 0 ? v->pane_rows : 1;
   Scroll* sc = cur_scroll(v);
   if (sc->follow) {
      if (delta >= 0) return;
      anchor_bottom(v, &s, &lc, w, rows, sc);
      sc->follow = false;
   }
   int cols = w - prefix_cols(v, &lc);
   uint64_t first;
   if (!seq_first(&s, &first)) return;
   if (sc->top < first) sc->top = first, sc->top_row = 0;
   LogLine l;
   uint64_t proc;
   while (delta < 0) {
      if (sc->top_row > 0) {
         int k = -delta < sc->top_row ? -delta : sc->top_row;
         sc->top_row -= k;
         delta += k;
         continue;
      }
      uint64_t prev;
      if (!seq_prev(&s, sc->top, &prev)) break;
      sc->top = prev;
      sc->top_row = seq_get(&s, prev, &l, &proc) ? line_rows(&l, cols, lc.wrap) - 1 : 0;
      delta++;
   }
   while (delta > 0) {
      int n = seq_get(&s, sc->top, &l, &proc) ? line_rows(&l, cols, lc.wrap) : 1;
      if (sc->top_row + 1 < n) {
         sc->top_row++;
         delta--;
         continue;
      }
      uint64_t next;
      if (!seq_next(&s, sc->top, &next)) break;
      sc->top = next;
      sc->top_row = 0;
      delta--;
   }
   /* at the bottom: follow again */
   Scroll bottom;
   anchor_bottom(v, &s, &lc, w, rows, &bottom);
   if (sc->top > bottom.top || (sc->top == bottom.top && sc->top_row >= bottom.top_row)) {
      sc->follow = true;
   }
}

static void scroll_to(View* v, uint64_t pos, int context_rows) {
   Scroll* sc = cur_scroll(v);
   sc->follow = false;
   sc->top = pos;
   sc->top_row = 0;
   if (context_rows) scroll_by(v, -context_rows);
   if (sc->follow) return;
   sc->follow = false;
}

static void draw_pane(View* v, Canvas* c, int x, int y, int w, int rows) {
   Seq s;
   Style pane = role(v, THEME_PANE);
   canvas_fill(c, x, y, w, rows, pane);
   v->pane_rows = rows;
   if (rows <= 0) return;
   if (nprocs(v) == 0) {
      const char* msg = "no scripts in package.json: add some under \"scripts\" and restart brum";
      canvas_text(c, x + 2, y, w - 2, msg, strlen(msg), role(v, THEME_MARKER));
      return;
   }
   if (!make_seq(v, &s)) return;
   LineCtx lc;
   ctx_for(v, &lc);
   Scroll* sc = cur_scroll(v);
   Scroll at = *sc;
   if (at.follow) anchor_bottom(v, &s, &lc, w, rows, &at);
   uint64_t first;
   if (!seq_first(&s, &first)) {
      const char* msg = "no output yet";
      if (active_filter(v))
         msg = "no matching lines yet";
      else if (v->errors_only)
         msg = "no errors or warnings";
      else if (v->tab == TAB_PROCS) {
         const ProcSlot* slot = slot_of(v, v->sel);
         const ProcSnap* ps = slot ? sup_snap(slot) : NULL;
         if (ps && ps->state == PROC_IDLE) msg = "not started: press Enter to start it";
      }
      canvas_text(c, x + 2, y, w - 2, msg, strlen(msg), role(v, THEME_MARKER));
      return;
   }
   if (at.top < first) at.top = first, at.top_row = 0;
   int row = 0;
   uint64_t pos = at.top;
   int skip = at.top_row;
   for (;;) {
      LogLine l;
      uint64_t proc;
      if (seq_get(&s, pos, &l, &proc)) {
         bool current = v->search_has_hit && pos == v->search_hit;
         row += draw_line(v, c, &lc, x, y + row, w, rows - row, skip, &l, proc, current);
      }
      skip = 0;
      if (row >= rows) break;
      uint64_t next;
      if (!seq_next(&s, pos, &next)) break;
      pos = next;
   }
}

/* ================================================================ chrome */

static const char* state_glyph(const View* v, ProcState st) {
   static const char* const uni[] = {"○", "◌", "●", "◑", "✓", "✗", "☠", "■"};
   static const char* const asc[] = {"-", "~", "*", "~", "+", "x", "!", "#"};
   return ((unsigned)st < 8) ? (v->ascii ? asc[st] : uni[st]) : "?";
}

static ThemeRole state_role(ProcState st) {
   static const ThemeRole r[] = {THEME_STATE_IDLE,     THEME_STATE_STARTING, THEME_STATE_RUNNING,
                                 THEME_STATE_STOPPING, THEME_STATE_EXITED,   THEME_STATE_FAILED,
                                 THEME_STATE_KILLED,   THEME_STATE_STOPPED};
   return (unsigned)st < 8 ? r[st] : THEME_STATE_IDLE;
}

/* The newest URL of a running process, for the header. */
static const char* newest_url(const View* v) {
   const char* best = NULL;
   uint64_t best_t = 0;
   const Registry* r = sup_registry(v->sup);
   for (size_t i = 0; i < r->n; i++) {
      const ProcSnap* ps = sup_snap(r->slots[i]);
      const DetectSnap* d = sup_intel(r->slots[i]);
      if (!d || !snap_is_active(ps->state)) continue;
      for (uint32_t k = 0; k < d->nurls; k++)
         if (!best || d->urls[k].time_ms > best_t)
            best = d->urls[k].url, best_t = d->urls[k].time_ms;
   }
   return best;
}

static void draw_header(View* v, Canvas* c) {
   Style hs = role(v, THEME_HEADER), acc = role(v, THEME_HEADER_ACCENT);
   canvas_fill(c, 0, 0, c->w, 1, hs);
   int x = 1;
   x += canvas_text(c, x, 0, c->w - x, "brum", 4, acc);
   const char* dot = v->ascii ? "-" : "·";
   x += canvas_printf(c, x, 0, c->w - x, hs, " %s %s %s %s", dot, v->prj->name, dot,
                      pkg_manager_name(v->prj->pm));
   const Registry* r = sup_registry(v->sup);
   unsigned running = 0, failed = 0;
   uint64_t errs = 0, warns = 0;
   for (size_t i = 0; i < r->n; i++) {
      const ProcSnap* ps = sup_snap(r->slots[i]);
      if (snap_is_active(ps->state)) running++;
      if (ps->state == PROC_FAILED || ps->state == PROC_KILLED) failed++;
      errs += ps->errors;
      warns += ps->warnings;
   }
   x += 2;
   x += canvas_printf(c, x, 0, c->w - x, role(v, THEME_STATE_RUNNING), "%s %u running",
                      state_glyph(v, PROC_RUNNING), running);
   if (failed) {
      x += 2;
      x += canvas_printf(c, x, 0, c->w - x, role(v, THEME_STATE_FAILED), "%s %u failed",
                         state_glyph(v, PROC_FAILED), failed);
   }
   if (errs || warns) {
      x += 2;
      x += canvas_printf(c, x, 0, c->w - x, role(v, THEME_ERROR), "%s%llu", v->ascii ? "E" : "✖ ",
                         (unsigned long long)errs);
      x += 1;
      x += canvas_printf(c, x, 0, c->w - x, role(v, THEME_WARNING), "%s%llu", v->ascii ? "W" : "▲ ",
                         (unsigned long long)warns);
   }
   const char* url = newest_url(v);
   if (url) {
      int uw = canvas_str_width(url, strlen(url));
      if (x + 2 + uw < c->w)
         canvas_text(c, c->w - uw - 1, 0, uw, url, strlen(url), role(v, THEME_URL));
   }
}

static const char* const tab_names[TAB_COUNT] = {"Processes", "All", "Errors", "URLs", "Help"};

/* A tab's label, with the number of entries for Errors and URLs. */
static void tab_label(const View* v, int t, char* buf, size_t size) {
   uint64_t n = 0;
   const Registry* r = sup_registry(v->sup);
   if (t == TAB_ERRORS || t == TAB_URLS) {
      for (size_t i = 0; i < r->n; i++) {
         const DetectSnap* d = sup_intel(r->slots[i]);
         if (d) n += t == TAB_ERRORS ? d->nentries : d->nurls;
      }
      snprintf(buf, size, " %s (%llu) ", tab_names[t], (unsigned long long)n);
   } else {
      snprintf(buf, size, " %s ", tab_names[t]);
   }
}

static void draw_tabs(View* v, Canvas* c) {
   Style ts = role(v, THEME_TAB);
   canvas_fill(c, 0, 1, c->w, 1, ts);
   int x = 0;
   for (int t = 0; t < TAB_COUNT; t++) {
      char buf[64];
      tab_label(v, t, buf, sizeof buf);
      x += canvas_text(c, x, 1, c->w - x, buf, strlen(buf),
                       role(v, t == (int)v->tab ? THEME_TAB_ACTIVE : THEME_TAB));
      if (t + 1 < TAB_COUNT)
         x += canvas_text(c, x, 1, c->w - x, v->ascii ? "|" : "│", v->ascii ? 1 : 3, ts);
   }
}

static int tab_at(const View* v, int col) {
   int x = 0;
   for (int t = 0; t < TAB_COUNT; t++) {
      char buf[64];
      tab_label(v, t, buf, sizeof buf);
      int w = canvas_str_width(buf, strlen(buf));
      if (col >= x && col < x + w) return t;
      x += w + 1;
   }
   return -1;
}

static int sidebar_width(const View* v) {
   if (v->zoom) return 0;
   const Registry* r = sup_registry(v->sup);
   int w = 12;
   for (size_t i = 0; i < r->n; i++) {
      int n = canvas_str_width(r->slots[i]->name, strlen(r->slots[i]->name)) + 14;
      if (n > w) w = n;
   }
   if (w > v->w / 3) w = v->w / 3;
   return w;
}

static int list_top(size_t sel, int rows);

static int sidebar_top(const View* v, int rows) {
   return list_top(v->sel, rows);
}

static void draw_sidebar(View* v, Canvas* c, int y, int w, int rows) {
   Style sb = role(v, THEME_SIDEBAR);
   canvas_fill(c, 0, y, w, rows, sb);
   const Registry* r = sup_registry(v->sup);
   int top = sidebar_top(v, rows);
   for (int row = 0; row < rows && (size_t)(top + row) < r->n; row++) {
      size_t i = (size_t)(top + row);
      const ProcSlot* slot = r->slots[i];
      const ProcSnap* ps = sup_snap(slot);
      bool selected = i == v->sel;
      Style base = selected ? role(v, THEME_SIDEBAR_SELECTED) : sb;
      canvas_fill(c, 0, y + row, w, 1, base);
      Style gs = role(v, state_role(ps->state));
      if (selected) gs.bg = base.bg;
      int x = 1;
      const char* g = state_glyph(v, ps->state);
      x += canvas_text(c, x, y + row, w - x, g, strlen(g), gs);
      x += 1;
      /* right side: counts and test results */
      char right[80] = ""; /* the three counts below need at most 73 bytes */
      const DetectSnap* d = sup_intel(slot);
      size_t rl = 0;
      if (d && d->tests.seen)
         rl +=
             (size_t)snprintf(right + rl, sizeof right - rl, "%s%u/%u ",
                              d->tests.failed ? (v->ascii ? "x" : "✗") : (v->ascii ? "+" : "✓"),
                              d->tests.failed ? d->tests.failed : d->tests.passed, d->tests.total);
      if (ps->errors)
         rl += (size_t)snprintf(right + rl, sizeof right - rl, "%s%llu ", v->ascii ? "E" : "✖",
                                (unsigned long long)ps->errors);
      if (ps->warnings)
         rl += (size_t)snprintf(right + rl, sizeof right - rl, "%s%llu ", v->ascii ? "W" : "▲",
                                (unsigned long long)ps->warnings);
      int rw = canvas_str_width(right, strlen(right));
      int name_max = w - x - rw - 1;
      if (name_max < 4) name_max = w - x - 1, rw = 0;
      Style ns = base;
      if (selected) ns.attr |= ATTR_BOLD;
      canvas_text(c, x, y + row, name_max, slot->name, strlen(slot->name), ns);
      if (rw) {
         Style rs = role(v, ps->errors ? THEME_ERROR : THEME_WARNING);
         rs.bg = base.bg;
         if (d && d->tests.seen && !ps->errors && !ps->warnings)
            rs = role(v, d->tests.failed ? THEME_STATE_FAILED : THEME_STATE_EXITED),
            rs.bg = base.bg;
         canvas_text(c, w - rw, y + row, rw, right, strlen(right), rs);
      }
   }
}

static void draw_pane_title(View* v, Canvas* c, int x, int y, int w) {
   Style ts = role(v, THEME_PANE_BORDER);
   canvas_fill(c, x, y, w, 1, ts);
   char buf[256];
   int used = 0;
   if (v->tab == TAB_ALL) {
      used = snprintf(buf, sizeof buf, " all processes, in time order");
   } else {
      const ProcSlot* slot = slot_of(v, v->sel);
      if (!slot) return;
      const ProcSnap* ps = sup_snap(slot);
      char st[64];
      snap_describe(ps, st, sizeof st);
      const char* dot = v->ascii ? "-" : "·";
      used = snprintf(buf, sizeof buf, " %s %s %s", slot->name, dot, st);
      if (ps->pid > 0 && used < (int)sizeof buf)
         used += snprintf(buf + used, sizeof buf - (size_t)used, " %s pid %d", dot, ps->pid);
      if (used < (int)sizeof buf)
         used += snprintf(buf + used, sizeof buf - (size_t)used, " %s %llu line%s", dot,
                          (unsigned long long)ps->lines, ps->lines == 1 ? "" : "s");
      if (ps->message[0] && used < (int)sizeof buf)
         used += snprintf(buf + used, sizeof buf - (size_t)used, " %s %s", dot, ps->message);
   }
   canvas_text(c, x, y, w, buf, strlen(buf), ts);
   /* right: modes */
   char modes[160];
   int ml = 0;
   const FilterState* f = active_filter(v);
   if (f) {
      uint64_t total = atomic_load(&((FilterState*)f)->total);
      uint64_t start = atomic_load(&((FilterState*)f)->start);
      uint64_t scanned = atomic_load(&((FilterState*)f)->scanned);
      uint64_t n = lineidx_end(f->matches) - lineidx_begin(f->matches);
      ml +=
          snprintf(modes + ml, sizeof modes - (size_t)ml, "filter: %llu/%llu",
                   (unsigned long long)n, (unsigned long long)(total > start ? total - start : 0));
      if (!atomic_load(&((FilterState*)f)->caught_up) && total > start)
         ml += snprintf(modes + ml, sizeof modes - (size_t)ml, " scanning %d%%",
                        (int)((scanned - start) * 100 / (total - start)));
      uint64_t slow = atomic_load(&((FilterState*)f)->too_expensive); /* bounded: 160 holds it */
      if (slow)
         ml += snprintf(modes + ml, sizeof modes - (size_t)ml, " too expensive for %llu",
                        (unsigned long long)slow);
      ml += snprintf(modes + ml, sizeof modes - (size_t)ml, "  ");
   }
   if (v->errors_only && v->tab == TAB_PROCS)
      ml += snprintf(modes + ml, sizeof modes - (size_t)ml, "errors only  ");
   if (v->wrap) ml += snprintf(modes + ml, sizeof modes - (size_t)ml, "wrap  ");
   Scroll* sc = cur_scroll(v);
   ml += snprintf(modes + ml, sizeof modes - (size_t)ml, "%s ",
                  sc->follow ? (v->ascii ? "FOLLOW" : "⇣ follow") : "paused");
   int mw = canvas_str_width(modes, (size_t)ml);
   int bw = canvas_str_width(buf, strlen(buf));
   if (bw + mw + 1 < w) {
      Style fs = role(v, sc->follow ? THEME_FOLLOW_INDICATOR : THEME_PANE_BORDER);
      canvas_text(c, x + w - mw, y, mw, modes, (size_t)ml, fs);
   }
}

/* ================================================================ Errors, URLs, Help */

/* An item of a per-process list (an error entry, a URL): its process and index there. */
typedef struct ItemRef {
   uint64_t proc;
   uint32_t idx;
} ItemRef;

static const DetectEntry* err_entry(const Registry* r, const ItemRef* e) {
   return &sup_intel(r->slots[e->proc])->entries[e->idx];
}

static int cmp_err_newest(const void* a, const void* b, void* reg) {
   const DetectEntry* x = err_entry(reg, a);
   const DetectEntry* y = err_entry(reg, b);
   if (x->time_ms != y->time_ms) return x->time_ms > y->time_ms ? -1 : 1;
   const ItemRef *ra = a, *rb = b;
   if (ra->proc != rb->proc) return ra->proc < rb->proc ? -1 : 1;
   return ra->idx > rb->idx ? -1 : ra->idx < rb->idx;
}

/* The error entries of every process, newest first (by time). */
static size_t collect_errors(const View* v, ItemRef* out, size_t max) {
   const Registry* r = sup_registry(v->sup);
   size_t n = 0;
   for (size_t i = 0; i < r->n; i++) {
      const DetectSnap* d = sup_intel(r->slots[i]);
      for (uint32_t k = 0; d && k < d->nentries; k++) {
         if (n == max) break;
         out[n++] = (ItemRef){.proc = i, .idx = k};
      }
   }
   qsort_r(out, n, sizeof *out, cmp_err_newest, (void*)r);
   return n;
}

#define MAX_LIST 4096

static void fmt_time(uint64_t ms, char* buf, size_t size) {
   time_t t = (time_t)(ms / 1000);
   struct tm tm;
   localtime_r(&t, &tm);
   strftime(buf, size, "%H:%M:%S", &tm);
}

/* The whole text of an entry (its line range), newline-separated, for copying and the detail. */
static char* entry_text(const View* v, uint64_t proc, const DetectEntry* e) {
   const ProcSlot* slot = slot_of(v, proc);
   size_t cap = 256, len = 0;
   char* s = xmalloc(cap);
   for (uint64_t ln = e->first_line; slot && ln <= e->last_line; ln++) {
      LogLine l;
      if (!logstore_get(slot->log, ln, &l)) continue;
      if (len + l.len + 2 > cap) {
         while (len + l.len + 2 > cap) cap *= 2;
         s = xrealloc(s, cap);
      }
      memcpy(s + len, l.text, l.len);
      len += l.len;
      s[len++] = '\n';
   }
   if (len == 0) {
      size_t tl = strlen(e->title);
      s = xrealloc(s, tl + 2);
      memcpy(s, e->title, tl);
      len = tl;
      s[len++] = '\n';
   }
   s[len] = '\0';
   return s;
}

/* First visible row of a list of `rows` rows that keeps `sel` in view. */
static int list_top(size_t sel, int rows) {
   return (int)sel >= rows ? (int)sel - rows + 1 : 0;
}

/* Clears a list row in its (selected or not) style, with the selection marker; returns the style.
 */
static Style list_row(View* v, Canvas* c, int y, bool sel) {
   Style base = sel ? role(v, THEME_SELECTION) : role(v, THEME_PANE);
   canvas_fill(c, 0, y, c->w, 1, base);
   if (sel) canvas_text(c, 0, y, 1, v->ascii ? ">" : "▸", v->ascii ? 1 : 3, base);
   return base;
}

/* The "none yet" line of an empty list; true when the list is empty. */
static bool list_empty(View* v, Canvas* c, int y, size_t n, const char* what) {
   if (n) return false;
   canvas_text(c, 2, y + 1, c->w - 2, what, strlen(what), role(v, THEME_MARKER));
   return true;
}

static void draw_errors(View* v, Canvas* c, int y, int rows) {
   Style pane = role(v, THEME_PANE);
   canvas_fill(c, 0, y, c->w, rows, pane);
   static ItemRef refs[MAX_LIST];
   size_t n = collect_errors(v, refs, MAX_LIST);
   if (list_empty(v, c, y, n, "none yet: errors and warnings from every process appear here"))
      return;
   if (v->err_sel >= n) v->err_sel = n - 1;
   int list_rows = rows / 2 > 3 ? rows / 2 : rows;
   int top = list_top(v->err_sel, list_rows);
   const Registry* r = sup_registry(v->sup);
   for (int row = 0; row < list_rows && (size_t)(top + row) < n; row++) {
      size_t i = (size_t)(top + row);
      const ProcSlot* slot = r->slots[refs[i].proc];
      const DetectEntry* e = &sup_intel(slot)->entries[refs[i].idx];
      Style base = list_row(v, c, y + row, i == v->err_sel);
      char ts[16];
      fmt_time(e->time_ms, ts, sizeof ts);
      Style ks = role(v, e->kind == DETECT_ERROR ? THEME_ERROR : THEME_WARNING);
      ks.bg = base.bg;
      const char* glyph = e->kind == DETECT_ERROR ? (v->ascii ? "E" : "✖") : (v->ascii ? "W" : "▲");
      int x = 1;
      x += canvas_text(c, x, y + row, 2, glyph, strlen(glyph), ks);
      x += 1;
      x += canvas_printf(c, x, y + row, c->w - x, base, "%s ", ts);
      Style ns = role(v, (ThemeRole)(THEME_NAME0 + (int)(refs[i].proc % THEME_NAME_COUNT)));
      ns.bg = base.bg;
      x += canvas_printf(c, x, y + row, 16, ns, "%-12.12s ", slot->name);
      x += canvas_text(c, x, y + row, c->w - x - 1, e->title, strlen(e->title), base);
      if (e->location) {
         int lw = canvas_str_width(e->location, strlen(e->location));
         if (x + lw + 3 < c->w)
            canvas_text(c, c->w - lw - 1, y + row, lw, e->location, strlen(e->location),
                        role(v, THEME_URL));
      }
   }
   if (list_rows == rows) return;
   /* detail: the whole entry, stack included */
   int dy = y + list_rows;
   canvas_fill(c, 0, dy, c->w, 1, role(v, THEME_PANE_BORDER));
   const ProcSlot* slot = r->slots[refs[v->err_sel].proc];
   const DetectEntry* e = &sup_intel(slot)->entries[refs[v->err_sel].idx];
   const char* dot = v->ascii ? " - " : " · ";
   canvas_printf(c, 1, dy, c->w - 2, role(v, THEME_PANE_BORDER), "%s%slines %llu-%llu%s%s",
                 slot->name, dot, (unsigned long long)e->first_line + 1,
                 (unsigned long long)e->last_line + 1, e->location ? dot : "",
                 e->location ? e->location : "");
   LineCtx lc;
   memset(&lc, 0, sizeof lc);
   int row = dy + 1;
   for (uint64_t ln = e->first_line; ln <= e->last_line && row < y + rows; ln++) {
      LogLine l;
      if (!logstore_get(slot->log, ln, &l)) continue;
      row +=
          draw_line(v, c, &lc, 0, row, c->w, y + rows - row, 0, &l, refs[v->err_sel].proc, false);
   }
}

/* URLs of every process, in order of appearance per process. */
static size_t collect_urls(const View* v, ItemRef* out, size_t max) {
   const Registry* r = sup_registry(v->sup);
   size_t n = 0;
   for (size_t i = 0; i < r->n; i++) {
      const DetectSnap* d = sup_intel(r->slots[i]);
      for (uint32_t k = 0; d && k < d->nurls && n < max; k++) out[n++] = (ItemRef){i, k};
   }
   return n;
}

static void draw_urls(View* v, Canvas* c, int y, int rows) {
   Style pane = role(v, THEME_PANE);
   canvas_fill(c, 0, y, c->w, rows, pane);
   static ItemRef refs[MAX_LIST];
   size_t n = collect_urls(v, refs, MAX_LIST);
   if (list_empty(v, c, y, n, "none yet: URLs that processes print (dev servers) appear here"))
      return;
   if (v->url_sel >= n) v->url_sel = n - 1;
   const Registry* r = sup_registry(v->sup);
   int top = list_top(v->url_sel, rows);
   for (int row = 0; row < rows && (size_t)(top + row) < n; row++) {
      size_t i = (size_t)(top + row);
      const ProcSlot* slot = r->slots[refs[i].proc];
      const DetectUrl* u = &sup_intel(slot)->urls[refs[i].idx];
      const ProcSnap* ps = sup_snap(slot);
      bool live = snap_is_active(ps->state);
      Style base = list_row(v, c, y + row, i == v->url_sel);
      Style us = role(v, THEME_URL);
      us.bg = base.bg;
      if (!live) us.attr |= ATTR_DIM;
      Style ns = role(v, (ThemeRole)(THEME_NAME0 + (int)(refs[i].proc % THEME_NAME_COUNT)));
      ns.bg = base.bg;
      int x = 1;
      x += canvas_printf(c, x, y + row, 16, ns, "%-12.12s ", slot->name);
      x += canvas_printf(c, x, y + row, 12, base, "%-10.10s ", u->label[0] ? u->label : "-");
      x += canvas_text(c, x, y + row, c->w - x - 10, u->url, strlen(u->url), us);
      const char* state = live ? "live" : "stale";
      canvas_text(c, c->w - 7, y + row, 6, state, strlen(state), base);
   }
}

static const char* const help_lines[] = {
    "Processes view",
    "  j/k, Up/Down    select process          1-9        jump to the Nth process",
    "  Enter           start (restart if ended) s          start",
    "  x               stop (SIGTERM, then SIGKILL after the grace period)",
    "  X               kill now (SIGKILL)       r          restart",
    "  R, Ctrl-R       restart all running      z          zoom the pane",
    "Scrolling",
    "  Ctrl-E/Ctrl-Y   one line down/up         PgDn/PgUp  one page",
    "  Ctrl-D/Ctrl-U   half a page              g / G      top / bottom (G follows)",
    "  mouse wheel     scroll                   click      select process or tab",
    "Output",
    "  /               search (n/N next/previous, Esc clears)",
    "  f, &            filter: show only matching lines (Esc in the prompt cancels;",
    "                  an empty pattern clears the filter)",
    "  w               wrap long lines          t          timestamps",
    "  e / E           next / previous error    ] / [      next / previous warning",
    "  p               only errors and warnings (with their stack traces)",
    "Views",
    "  Tab, Shift-Tab  next / previous view     ?          this help",
    "  Errors: Enter jumps to the entry in its log, c copies it (OSC 52)",
    "  URLs:   Enter opens the URL ($BROWSER or xdg-open), c copies it",
    "Quit",
    "  q, Ctrl-C       quit (asks when processes are running; y or q confirms)",
    "",
    "Patterns are PCRE2 regular expressions, smart-case: all lowercase matches any case.",
    "Prompt keys: Left/Right/Home/End, Backspace, Ctrl-W word, Ctrl-U line, Up/Down history.",
};

static void draw_help(View* v, Canvas* c, int y, int rows) {
   Style pane = role(v, THEME_PANE);
   canvas_fill(c, 0, y, c->w, rows, pane);
   for (int i = 0; i < rows - 1 && (size_t)i < ARRAY_LEN(help_lines); i++) {
      const char* s = help_lines[i];
      bool head = s[0] != ' ' && s[0];
      canvas_text(c, 2, y + 1 + i, c->w - 3, s, strlen(s),
                  head ? role(v, THEME_HEADER_ACCENT) : pane);
   }
}

/* ================================================================ bottom line, dialogs */

static void draw_status(View* v, Canvas* c) {
   int y = c->h - 1;
   Style ss = role(v, THEME_STATUS);
   canvas_fill(c, 0, y, c->w, 1, ss);
   if (v->prompting != PK_NONE) {
      const char* label = v->prompting == PK_SEARCH ? "/" : "filter: ";
      int x = canvas_text(c, 0, y, c->w, label, strlen(label), role(v, THEME_PROMPT));
      int width = c->w - x - 1;
      Prompt* pr = v->prompting == PK_SEARCH ? v->search_prompt : v->filter_prompt;
      PromptView pv = prompt_view(pr, width);
      canvas_text(c, x, y, width, prompt_text(pr) + pv.start, pv.end - pv.start,
                  role(v, THEME_PROMPT));
      Cell* cur = canvas_at(c, x + pv.cursor_col < c->w ? x + pv.cursor_col : c->w - 1, y);
      Style cs = role(v, THEME_PROMPT_CURSOR);
      cur->fg = cs.fg;
      cur->bg = cs.bg;
      cur->attr = cs.attr;
      return;
   }
   if (v->msg[0]) {
      canvas_text(c, 1, y, c->w - 1, v->msg, strlen(v->msg),
                  role(v, v->msg_error ? THEME_MESSAGE_ERROR : THEME_MESSAGE_INFO));
      return;
   }
   static const char* const hints[TAB_COUNT] = {
       "↵ start  x stop  r restart  / search  f filter  p errors  z zoom  Tab views  ? help  q "
       "quit",
       "/ search  f filter  g/G top/bottom  w wrap  t time  Tab views  ? help  q quit",
       "j/k select  ↵ jump to log  c copy  Tab views  ? help  q quit",
       "j/k select  ↵ open  c copy  Tab views  ? help  q quit",
       "Tab views  Esc back  q quit",
   };
   const char* h = hints[v->tab];
   /* keys in the accent colour, their words in the plain one */
   int x = 1;
   Style ks = role(v, THEME_STATUS_KEY);
   for (const char* p = h; *p && x < c->w;) {
      const char* sp = strstr(p, "  ");
      size_t seg = sp ? (size_t)(sp - p) : strlen(p);
      const char* space = memchr(p, ' ', seg);
      size_t kl = space ? (size_t)(space - p) : seg;
      if (v->ascii && strncmp(p, "↵", 3) == 0) {
         x += canvas_text(c, x, y, c->w - x, "Enter", 5, ks);
      } else {
         x += canvas_text(c, x, y, c->w - x, p, kl, ks);
      }
      x += canvas_text(c, x, y, c->w - x, p + kl, seg - kl, ss);
      p += seg;
      while (*p == ' ') p++;
      x += 2;
   }
}

static void draw_dialog(View* v, Canvas* c, const char* l1, const char* l2) {
   int w1 = canvas_str_width(l1, strlen(l1)), w2 = canvas_str_width(l2, strlen(l2));
   int w = (w1 > w2 ? w1 : w2) + 6;
   if (w > c->w - 2) w = c->w - 2;
   int h = 5;
   int x = (c->w - w) / 2, y = (c->h - h) / 2;
   Style ds = role(v, THEME_DIALOG);
   canvas_fill(c, x, y, w, h, ds);
   canvas_text(c, x + 3, y + 1, w - 4, l1, strlen(l1), ds);
   Style bs = ds;
   bs.attr |= ATTR_BOLD;
   canvas_text(c, x + 3, y + 3, w - 4, l2, strlen(l2), bs);
}

static unsigned running_count(const View* v) {
   const Registry* r = sup_registry(v->sup);
   unsigned n = 0;
   for (size_t i = 0; i < r->n; i++)
      if (snap_is_active(sup_snap(r->slots[i])->state)) n++;
   return n;
}

void view_draw(View* v, Canvas* c) {
   if (c->w != v->w || c->h != v->h) canvas_resize(c, v->w, v->h);
   if (v->w < MIN_W || v->h < MIN_H) {
      canvas_fill(c, 0, 0, c->w, c->h, role(v, THEME_PANE));
      char buf[64];
      int n = snprintf(buf, sizeof buf, "terminal too small (%dx%d)", v->w, v->h);
      int n2 = snprintf(buf + n + 1, sizeof buf - (size_t)n - 1, "need %dx%d", MIN_W, MIN_H);
      canvas_text(c, 0, c->h / 2 - (c->h > 1), c->w, buf, (size_t)n, role(v, THEME_MESSAGE_ERROR));
      if (c->h > 1) canvas_text(c, 0, c->h / 2, c->w, buf + n + 1, (size_t)n2, role(v, THEME_PANE));
      return;
   }
   draw_header(v, c);
   draw_tabs(v, c);
   int body_y = 2, body_h = c->h - 3;
   switch (v->tab) {
   case TAB_PROCS: {
      int sw = sidebar_width(v);
      if (sw) {
         draw_sidebar(v, c, body_y, sw, body_h);
         for (int r = 0; r < body_h; r++)
            canvas_text(c, sw, body_y + r, 1, v->ascii ? "|" : "│", v->ascii ? 1 : 3,
                        role(v, THEME_PANE_BORDER));
         sw += 1;
      }
      draw_pane_title(v, c, sw, body_y, c->w - sw);
      draw_pane(v, c, sw, body_y + 1, c->w - sw, body_h - 1);
      break;
   }
   case TAB_ALL:
      draw_pane_title(v, c, 0, body_y, c->w);
      draw_pane(v, c, 0, body_y + 1, c->w, body_h - 1);
      break;
   case TAB_ERRORS:
      draw_errors(v, c, body_y, body_h);
      break;
   case TAB_URLS:
      draw_urls(v, c, body_y, body_h);
      break;
   case TAB_HELP:
      draw_help(v, c, body_y, body_h);
      break;
   case TAB_COUNT:
      break;
   }
   draw_status(v, c);
   if (v->confirm_quit) {
      char l1[96];
      unsigned n = running_count(v);
      snprintf(l1, sizeof l1, "%u process%s still running. Quit and stop %s?", n,
               n == 1 ? " is" : "es are", n == 1 ? "it" : "them");
      draw_dialog(v, c, l1, "y / q: quit     n / Esc: cancel");
   } else if (v->quit) {
      unsigned n = running_count(v);
      char l1[96];
      snprintf(l1, sizeof l1, "Stopping %u process%s...", n, n == 1 ? "" : "es");
      draw_dialog(v, c, l1, "waiting for them to exit");
   }
}

void view_pane_size(const View* v, int* cols, int* rows) {
   int sw = v->tab == TAB_PROCS ? sidebar_width(v) : 0;
   *cols = v->w - (sw ? sw + 1 : 0);
   *rows = v->h - 4;
   if (*cols < 1) *cols = 1;
   if (*rows < 1) *rows = 1;
}

/* ================================================================ search */

static void search_start(View* v, int dir) {
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

bool view_tick(View* v) {
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

/* ================================================================ keys */

static void select_proc(View* v, uint64_t id) {
   size_t n = nprocs(v);
   if (!n) return;
   if (id >= n) id = n - 1;
   if (id != v->sel) {
      v->sel = id;
      v->search_has_hit = false;
      v->search_dir = 0;
      /* a filter typed in another process's pane follows the selection */
      if (v->filter && v->filter_text && v->tab == TAB_PROCS) {
         char* cause = NULL;
         Regex* re;
         if (regex_compile(v->filter_text, &re, &cause) == 0) filter_set(v->filter, re, v->sel);
         free(cause);
      }
   }
}

static void apply_filter(View* v, const char* text) {
   if (!v->filter) return;
   if (!text || !*text) {
      free(v->filter_text);
      v->filter_text = NULL;
      filter_set(v->filter, NULL, 0);
      set_msg(v, false, "filter cleared");
      return;
   }
   Regex* re;
   char* cause = NULL;
   if (regex_compile(text, &re, &cause) < 0) {
      set_msg(v, true, "%s%s", cause, v->filter_text ? " (keeping the previous filter)" : "");
      free(cause);
      return;
   }
   free(v->filter_text);
   v->filter_text = xstrdup(text);
   filter_set(v->filter, re, view_source(v));
   cur_scroll(v)->follow = true;
   set_msg(v, false, "filter: %s", text);
}

void view_set_filter(View* v, const char* pattern) {
   apply_filter(v, pattern);
}

static void apply_search(View* v, const char* text) {
   if (!text || !*text) {
      regex_free(v->search);
      v->search = NULL;
      v->search_has_hit = false;
      return;
   }
   Regex* re;
   char* cause = NULL;
   if (regex_compile(text, &re, &cause) < 0) {
      set_msg(v, true, "%s", cause);
      free(cause);
      return;
   }
   regex_free(v->search);
   v->search = re;
   v->search_has_hit = false;
   search_start(v, -1);
}

static bool prompt_keys(View* v, int key) {
   int pk;
   switch (key) {
   case VK_LEFT:
      pk = PROMPT_KEY_LEFT;
      break;
   case VK_RIGHT:
      pk = PROMPT_KEY_RIGHT;
      break;
   case VK_HOME:
   case VK_CTRL('a'):
      pk = PROMPT_KEY_HOME;
      break;
   case VK_END:
   case VK_CTRL('e'):
      pk = PROMPT_KEY_END;
      break;
   case VK_BACKSPACE:
   case 0x7f:
   case VK_CTRL('h'):
      pk = PROMPT_KEY_BACKSPACE;
      break;
   case VK_DELETE:
      pk = PROMPT_KEY_DELETE;
      break;
   case VK_UP:
      pk = PROMPT_KEY_UP;
      break;
   case VK_DOWN:
      pk = PROMPT_KEY_DOWN;
      break;
   case VK_CTRL('w'):
      pk = PROMPT_KEY_CTRL_W;
      break;
   case VK_CTRL('u'):
      pk = PROMPT_KEY_CTRL_U;
      break;
   case VK_ENTER:
   case '\r':
   case '\n':
      pk = PROMPT_KEY_ENTER;
      break;
   case VK_ESC:
   case VK_CTRL('c'):
      pk = PROMPT_KEY_ESC;
      break;
   default:
      if (key < 0x20 || key >= 0x110000) return true; /* other controls do nothing here */
      pk = key;
   }
   Prompt* pr = v->prompting == PK_SEARCH ? v->search_prompt : v->filter_prompt;
   PromptResult res = prompt_key(pr, pk);
   if (res == PROMPT_SUBMIT) {
      char* text = xstrdup(prompt_text(pr));
      PromptKind kind = v->prompting;
      v->prompting = PK_NONE;
      v->msg[0] = '\0';
      if (kind == PK_FILTER)
         apply_filter(v, text);
      else
         apply_search(v, text);
      free(text);
   } else if (res == PROMPT_CANCEL) {
      v->prompting = PK_NONE;
   }
   return true;
}

static void open_prompt(View* v, PromptKind kind) {
   if (v->tab != TAB_PROCS && v->tab != TAB_ALL) return;
   prompt_reset(kind == PK_FILTER ? v->filter_prompt : v->search_prompt,
                kind == PK_FILTER ? v->filter_text : NULL);
   v->prompting = kind;
}

/* Jumps to the next/previous line flagged `flag` in the current process's log. */
static void jump_flag(View* v, uint16_t flag, int dir) {
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

static void copy_text(View* v, char* text, const char* what) {
   free(v->copy);
   v->copy = text;
   set_msg(v, false, "copied %s", what);
}

static void restart_all_running(View* v) {
   const Registry* r = sup_registry(v->sup);
   unsigned n = 0;
   for (size_t i = 0; i < r->n; i++)
      if (snap_is_active(sup_snap(r->slots[i])->state)) sup_restart(v->sup, i), n++;
   set_msg(v, false, "restarting %u process%s", n, n == 1 ? "" : "es");
}

static void switch_tab(View* v, int t) {
   v->tab = (ViewTab)((t + TAB_COUNT) % TAB_COUNT);
   v->search_dir = 0;
   v->search_has_hit = false;
   /* the filter follows the view it is typed in */
   if (v->filter && v->filter_text && (v->tab == TAB_PROCS || v->tab == TAB_ALL)) {
      const FilterState* f = filter_state(v->filter);
      if (!f || f->source != view_source(v)) {
         Regex* re;
         char* cause = NULL;
         if (regex_compile(v->filter_text, &re, &cause) == 0)
            filter_set(v->filter, re, view_source(v));
         free(cause);
      }
   }
}

static bool pane_keys(View* v, int key) {
   int page = v->pane_rows > 1 ? v->pane_rows - 1 : 1;
   Scroll* sc = cur_scroll(v);
   switch (key) {
   case VK_CTRL('e'):
      scroll_by(v, 1);
      return true;
   case VK_CTRL('y'):
      scroll_by(v, -1);
      return true;
   case VK_PGDN:
   case ' ':
      scroll_by(v, page);
      return true;
   case VK_PGUP:
      scroll_by(v, -page);
      return true;
   case VK_CTRL('d'):
      scroll_by(v, page / 2 ? page / 2 : 1);
      return true;
   case VK_CTRL('u'):
      scroll_by(v, -(page / 2 ? page / 2 : 1));
      return true;
   case VK_WHEEL_DOWN:
      scroll_by(v, 3);
      return true;
   case VK_WHEEL_UP:
      scroll_by(v, -3);
      return true;
   case 'g': {
      Seq s;
      uint64_t first;
      if (make_seq(v, &s) && seq_first(&s, &first)) {
         sc->follow = false;
         sc->top = first;
         sc->top_row = 0;
         Scroll bottom;
         LineCtx lc;
         ctx_for(v, &lc);
         int cols, rows;
         view_pane_size(v, &cols, &rows);
         anchor_bottom(v, &s, &lc, cols, v->pane_rows, &bottom);
         if (bottom.top == first && bottom.top_row == 0) sc->follow = true; /* all fits */
      }
      return true;
   }
   case 'G':
   case VK_END:
      sc->follow = true;
      v->search_has_hit = false;
      return true;
   case '/':
      open_prompt(v, PK_SEARCH);
      return true;
   case 'f':
   case '&':
      open_prompt(v, PK_FILTER);
      return true;
   case 'n':
      if (v->search) search_start(v, +1);
      return v->search != NULL;
   case 'N':
      if (v->search) search_start(v, -1);
      return v->search != NULL;
   case VK_ESC:
      if (v->search || v->msg[0]) {
         apply_search(v, NULL);
         v->msg[0] = '\0';
         return true;
      }
      return false;
   case 'w':
      v->wrap = !v->wrap;
      set_msg(v, false, "wrap %s", v->wrap ? "on" : "off");
      return true;
   case 't':
      v->timestamps = !v->timestamps;
      return true;
   }
   return false;
}

static bool procs_keys(View* v, int key) {
   size_t n = nprocs(v);
   if (n == 0) return false; /* no scripts: nothing to select, start or scroll */
   switch (key) {
   case 'j':
   case VK_DOWN:
      if (v->sel + 1 < n) select_proc(v, v->sel + 1);
      return true;
   case 'k':
   case VK_UP:
      if (v->sel > 0) select_proc(v, v->sel - 1);
      return true;
   case VK_ENTER:
   case '\r':
   case '\n':
   case 's': {
      const ProcSnap* ps = sup_snap(slot_of(v, v->sel));
      if (snap_is_active(ps->state)) {
         if (key == 's') set_msg(v, false, "%s is already running", slot_of(v, v->sel)->name);
         return key == 's';
      }
      sup_start(v->sup, v->sel);
      cur_scroll(v)->follow = true;
      return true;
   }
   case 'x':
      sup_stop(v->sup, v->sel);
      return true;
   case 'X':
      sup_kill(v->sup, v->sel);
      return true;
   case 'r':
      sup_restart(v->sup, v->sel);
      cur_scroll(v)->follow = true;
      return true;
   case 'R':
   case VK_CTRL('r'):
      restart_all_running(v);
      return true;
   case 'z':
      v->zoom = !v->zoom;
      return true;
   case 'p':
      v->errors_only = !v->errors_only;
      cur_scroll(v)->follow = true;
      return true;
   case 'e':
      jump_flag(v, LINE_ERROR, +1);
      return true;
   case 'E':
      jump_flag(v, LINE_ERROR, -1);
      return true;
   case ']':
      jump_flag(v, LINE_WARNING, +1);
      return true;
   case '[':
      jump_flag(v, LINE_WARNING, -1);
      return true;
   }
   if (key >= '1' && key <= '9') {
      if ((size_t)(key - '1') < n) select_proc(v, (uint64_t)(key - '1'));
      return true;
   }
   return pane_keys(v, key);
}

static bool errors_keys(View* v, int key) {
   static ItemRef refs[MAX_LIST];
   size_t n = collect_errors(v, refs, MAX_LIST);
   switch (key) {
   case 'j':
   case VK_DOWN:
   case VK_WHEEL_DOWN:
      if (v->err_sel + 1 < n) v->err_sel++;
      return true;
   case 'k':
   case VK_UP:
   case VK_WHEEL_UP:
      if (v->err_sel > 0) v->err_sel--;
      return true;
   case 'g':
   case VK_HOME:
      v->err_sel = 0;
      return true;
   case 'G':
   case VK_END:
      v->err_sel = n ? n - 1 : 0;
      return true;
   case VK_ENTER:
   case '\r':
   case '\n': {
      if (!n) return false;
      const ItemRef* r = &refs[v->err_sel < n ? v->err_sel : n - 1];
      const DetectEntry* e = &sup_intel(slot_of(v, r->proc))->entries[r->idx];
      uint64_t line = e->first_line;
      switch_tab(v, TAB_PROCS);
      v->errors_only = false;
      select_proc(v, r->proc);
      if (v->filter_text) apply_filter(v, NULL);
      v->search_hit = line;
      v->search_has_hit = true;
      scroll_to(v, line, 2);
      set_msg(v, false, "%s: %s", slot_of(v, r->proc)->name, e->title);
      return true;
   }
   case 'c': {
      if (!n) return false;
      const ItemRef* r = &refs[v->err_sel < n ? v->err_sel : n - 1];
      copy_text(v, entry_text(v, r->proc, &sup_intel(slot_of(v, r->proc))->entries[r->idx]),
                "the error");
      return true;
   }
   }
   return false;
}

static bool urls_keys(View* v, int key) {
   static ItemRef refs[MAX_LIST];
   size_t n = collect_urls(v, refs, MAX_LIST);
   if (!n) return false;
   const ItemRef* r = &refs[v->url_sel < n ? v->url_sel : n - 1];
   const DetectUrl* u = &sup_intel(slot_of(v, r->proc))->urls[r->idx];
   switch (key) {
   case 'j':
   case VK_DOWN:
   case VK_WHEEL_DOWN:
      if (v->url_sel + 1 < n) v->url_sel++;
      return true;
   case 'k':
   case VK_UP:
   case VK_WHEEL_UP:
      if (v->url_sel > 0) v->url_sel--;
      return true;
   case VK_ENTER:
   case '\r':
   case '\n':
      if (v->open_url) v->open_url(u->url);
      set_msg(v, false, "opening %s", u->url);
      return true;
   case 'c':
      copy_text(v, xstrdup(u->url), u->url);
      return true;
   }
   return false;
}

static bool mouse_click(View* v) {
   int x = v->mouse_x, y = v->mouse_y;
   if (y == 1) {
      int t = tab_at(v, x);
      if (t >= 0) switch_tab(v, t);
      return t >= 0;
   }
   if (v->tab == TAB_PROCS && y >= 2 && y < v->h - 1) {
      int sw = sidebar_width(v);
      if (x < sw) {
         int rows = v->h - 3;
         size_t id = (size_t)(sidebar_top(v, rows) + (y - 2));
         if (id < nprocs(v)) select_proc(v, id);
         return true;
      }
   }
   return false;
}

bool view_key(View* v, int key) {
   v->msg[0] = key == VK_CLICK || key == VK_WHEEL_UP || key == VK_WHEEL_DOWN ? v->msg[0] : '\0';
   if (v->quit) return false; /* stopping: keys wait */
   if (v->confirm_quit) {
      if (key == 'y' || key == 'Y' || key == 'q' || key == VK_CTRL('c')) {
         v->confirm_quit = false;
         v->quit = true;
         return true;
      }
      if (key == 'n' || key == 'N' || key == VK_ESC) {
         v->confirm_quit = false;
         return true;
      }
      return false;
   }
   if (v->prompting != PK_NONE) return prompt_keys(v, key);
   if (v->w < MIN_W || v->h < MIN_H) {
      if (key != 'q' && key != VK_CTRL('c')) return false;
   }
   switch (key) {
   case 'q':
   case VK_CTRL('c'):
      if (running_count(v))
         v->confirm_quit = true;
      else
         v->quit = true;
      return true;
   case VK_TAB:
      switch_tab(v, (int)v->tab + 1);
      return true;
   case VK_BTAB:
      switch_tab(v, (int)v->tab - 1);
      return true;
   case '?':
   case VK_F1:
      switch_tab(v, v->tab == TAB_HELP ? TAB_PROCS : TAB_HELP);
      return true;
   case VK_CLICK:
      return mouse_click(v);
   }
   switch (v->tab) {
   case TAB_PROCS:
      return procs_keys(v, key);
   case TAB_ALL:
      return pane_keys(v, key);
   case TAB_ERRORS:
      return errors_keys(v, key);
   case TAB_URLS:
      return urls_keys(v, key);
   case TAB_HELP:
      if (key == VK_ESC) {
         switch_tab(v, TAB_PROCS);
         return true;
      }
      return false;
   case TAB_COUNT:
      break;
   }
   return false;
}

/* ================================================================ lifecycle */

void view_init(View* v, Sup* sup, Filter* filter, const Project* prj, Theme* theme) {
   memset(v, 0, sizeof *v);
   v->sup = sup;
   v->filter = filter;
   v->prj = prj;
   v->theme = theme;
   v->wrap = true;
   v->all_scroll.follow = true;
   v->scratch = regex_scratch_new();
   v->search_prompt = prompt_new(PROMPT_HISTORY_DEFAULT);
   v->filter_prompt = prompt_new(PROMPT_HISTORY_DEFAULT);
   view_sync(v);
}

void view_sync(View* v) {
   size_t n = nprocs(v);
   if (n <= v->nscroll) return;
   v->scroll = xrealloc(v->scroll, n * sizeof *v->scroll);
   for (size_t i = v->nscroll; i < n; i++) v->scroll[i] = (Scroll){.follow = true};
   v->nscroll = n;
}

void view_done(View* v) {
   regex_free(v->search);
   regex_scratch_free(v->scratch);
   prompt_free(v->search_prompt);
   prompt_free(v->filter_prompt);
   free(v->scroll);
   free(v->filter_text);
   free(v->copy);
}

void view_resize(View* v, int w, int h) {
   v->w = w;
   v->h = h;
}
