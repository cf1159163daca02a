/* The output pane: line layout (gutter, time, name column, wrapping, highlights), scroll anchors,
 * drawing the lines that fit, and the pane's title line. */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "tui/view_impl.h"

#define MAX_HL 64 /* highlighted matches per line */

Scroll* cur_scroll(View* v) {
   if (v->tab == TAB_ALL) return &v->all_scroll;
   if (v->sel >= v->nscroll) view_sync(v);
   return &v->scroll[v->sel];
}

int prefix_cols(const View* v, const LineCtx* lc) {
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

int line_rows(const LogLine* l, int cols, bool wrap) {
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
   if (v->no_color) return (Style){.fg = base.fg, .bg = base.bg, .attr = r->attr};
   Style s = {.fg = r->fg ? r->fg : base.fg, .bg = r->bg ? r->bg : base.bg, .attr = r->attr};
   return s;
}

/* A line's first row before its text: gutter mark, time, process name (All view). */
static void draw_prefix(View* v, Canvas* c, const LineCtx* lc, int x, int y, const LogLine* l,
                        uint64_t proc, bool current) {
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
      canvas_fill(c, px + used, y, lc->name_w + 3 - used, 1, role(v, THEME_PANE));
      canvas_text(c, px + lc->name_w + 1, y, 1, v->ascii ? "|" : "│", v->ascii ? 1 : 3,
                  role(v, THEME_PANE_BORDER));
   }
}

/* One character of a line's text at (x, y), `cw` columns: a tab's blanks, a placeholder, or the
 * character's bytes. */
static void draw_char(Canvas* c, int x, int y, int cw, uint32_t cp, const char* at, size_t blen,
                      Style st) {
   if (cp == '\t')
      canvas_fill(c, x, y, cw, 1, st);
   else if (cp == 0xb7 || cp == 0xfffd)
      canvas_text(c, x, y, cw, cp == 0xb7 ? "·" : "\xef\xbf\xbd", cp == 0xb7 ? 2 : 3, st);
   else
      canvas_text(c, x, y, cw, at, blen, st);
}

/* Draws one log line starting at its wrapped row `skip`, at most `max_rows` rows from y.
 * Returns the rows drawn. */
int draw_line(View* v, Canvas* c, const LineCtx* lc, int x, int y, int w, int max_rows, int skip,
              const LogLine* l, uint64_t proc, bool current) {
   int pre = prefix_cols(v, lc);
   int cols = w - pre;
   if (cols < 1) return 0;
   if (skip == 0) draw_prefix(v, c, lc, x, y, l, proc, current);
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
         if (lc->copy) st = copy_style(v, lc, at, st);
         int n = cp == '\t' && cw > cols - col ? cols - col : cw;
         draw_char(c, x + pre + col, y + row - skip, n, cp, l->text + at, i - at, st);
      }
      col += cw;
   }
   if (lc->copy && l->len == 0 && skip == 0) copy_mark_empty(v, c, lc, x + pre, y);
   drawn = row - skip + 1;
   if (drawn > max_rows) drawn = max_rows;
   return drawn < 1 ? 1 : drawn;
}

void ctx_for(View* v, LineCtx* lc) {
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

/* Resolves a following scroll into an anchor: the top line and row that show the end (or, in a
 * process's pane, its last screen clear at the top when what follows it fits). */
void anchor_bottom(View* v, const Seq* s, const LineCtx* lc, int w, int rows, Scroll* sc) {
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
      bool got = seq_get(s, pos, &l, &proc);
      int n = got ? line_rows(&l, cols, lc->wrap) : 1;
      /* A process's pane shows what follows its last screen clear from the top, as a terminal
       * would (the separator on the first row, blank rows below what came since); what came
       * before stays above it for scrolling, filters and search. */
      if (got && (l.flags & LINE_CLEAR) && s->kind == SEQ_STORE) {
         sc->top = pos;
         return;
      }
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
void scroll_by(View* v, int delta) {
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

void scroll_to(View* v, uint64_t pos, int context_rows) {
   Scroll* sc = cur_scroll(v);
   sc->follow = false;
   sc->top = pos;
   sc->top_row = 0;
   if (context_rows) scroll_by(v, -context_rows);
   if (sc->follow) return;
   sc->follow = false;
}

/* g: the first line at the top; following when everything fits. */
void scroll_top(View* v) {
   Seq s;
   uint64_t first;
   if (!make_seq(v, &s) || !seq_first(&s, &first)) return;
   Scroll* sc = cur_scroll(v);
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

void draw_pane(View* v, Canvas* c, int x, int y, int w, int rows) {
   Seq s;
   Style pane = role(v, THEME_PANE);
   canvas_fill(c, x, y, w, rows, pane);
   v->pane_rows = rows;
   copy_note_row(v, x, y, w, rows, -1, 0, 0); /* forget the last frame's rows */
   if (rows <= 0) return;
   if (nprocs(v) == 0) {
      const char* msg = "no scripts in package.json: add some under \"scripts\" and restart brum";
      canvas_text(c, x + 2, y, w - 2, msg, strlen(msg), role(v, THEME_MARKER));
      return;
   }
   const TermScreen* scr = pane_screen(v);
   if (scr) {
      draw_pane_screen(v, c, x, y, w, rows, scr);
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
         lc.copy = v->cm.on;
         lc.pos = pos;
         int n = draw_line(v, c, &lc, x, y + row, w, rows - row, skip, &l, proc, current);
         for (int k = 0; k < n; k++) copy_note_row(v, x, y, w, rows, row + k, pos, skip + k);
         row += n;
      }
      skip = 0;
      if (row >= rows) break;
      uint64_t next;
      if (!seq_next(&s, pos, &next)) break;
      pos = next;
   }
}

/* Where a process comes from, for its title: "brum.yaml:12", or the kind of file. */
static const char* proc_origin(const View* v, uint64_t id) {
   if (!v->prj || id >= v->prj->nscripts) return NULL;
   const Script* s = &v->prj->scripts[id];
   if (s->origin) return s->origin;
   static const char* const names[] = {[SRC_PACKAGE] = "package.json",
                                       [SRC_BRUM_YAML] = "brum.yaml",
                                       [SRC_PROCFILE] = "Procfile",
                                       [SRC_COMPOSE] = "process-compose"};
   return (size_t)s->source < sizeof names / sizeof *names ? names[s->source] : NULL;
}

/* " api · failed (1) · pid 12 · 40 lines · 2 restarts · brum.yaml:12 · message"; while waiting
 * for its dependencies or a restart, the message ("waiting for db (ready)") is its state. */
static void proc_title(const View* v, const ProcSlot* slot, char* buf, size_t size) {
   const ProcSnap* ps = sup_snap(slot);
   char st[64];
   snap_describe(ps, st, sizeof st);
   const char* dot = v->ascii ? "-" : "·";
   bool msg_is_state = (ps->state == PROC_WAITING || ps->state == PROC_BACKOFF) && ps->message[0];
   int used = snprintf(buf, size, " %s %s %s", slot->name, dot, msg_is_state ? ps->message : st);
   if (ps->pid > 0 && used < (int)size)
      used += snprintf(buf + used, size - (size_t)used, " %s pid %d", dot, ps->pid);
   if (used < (int)size)
      used += snprintf(buf + used, size - (size_t)used, " %s %llu line%s", dot,
                       (unsigned long long)ps->lines, ps->lines == 1 ? "" : "s");
   if (used < (int)size) used += (int)res_title(v, ps, buf + used, size - (size_t)used);
   if (ps->restarts && used < (int)size)
      used += snprintf(buf + used, size - (size_t)used, " %s %u restart%s", dot, ps->restarts,
                       ps->restarts == 1 ? "" : "s");
   const char* origin = proc_origin(v, slot->id);
   if (origin && used < (int)size)
      used += snprintf(buf + used, size - (size_t)used, " %s %s", dot, origin);
   if (ps->message[0] && !msg_is_state && used < (int)size)
      snprintf(buf + used, size - (size_t)used, " %s %s", dot, ps->message);
}

void draw_pane_title(View* v, Canvas* c, int x, int y, int w) {
   Style ts = role(v, THEME_PANE_BORDER);
   canvas_fill(c, x, y, w, 1, ts);
   char buf[256];
   if (v->tab == TAB_ALL) {
      snprintf(buf, sizeof buf, " all processes, in time order");
   } else {
      const ProcSlot* slot = slot_of(v, v->sel);
      if (!slot) return;
      proc_title(v, slot, buf, sizeof buf);
   }
   canvas_text(c, x, y, w, buf, strlen(buf), ts);
   if (v->tab == TAB_PROCS && term_badge(v, c, x, y, w, canvas_str_width(buf, strlen(buf)))) return;
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

void view_pane_size(const View* v, int* cols, int* rows) {
   int sw = v->tab == TAB_PROCS ? sidebar_width(v) : 0;
   *cols = v->w - (sw ? sw + 1 : 0);
   *rows = v->h - 4;
   if (*cols < 1) *cols = 1;
   if (*rows < 1) *rows = 1;
}
