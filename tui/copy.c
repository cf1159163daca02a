/* Copy mode: a cursor in the pane's lines (the line store's, filtered or merged as the pane shows
 * them), vi motions, a character or line selection, and yanking it as plain text to the clipboard
 * (OSC 52, sent by tui.c). A mouse drag in a pane enters it with the dragged range selected.
 * Positions are sequence positions and columns byte offsets into a line's text: both stay valid
 * while the process prints, so the cursor does not move under the user. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "tui/view_impl.h"

const char copy_hint[] = "COPY  h/j/k/l move  w/b word  v select  V lines  y copy  / search  "
                         "Esc leave";

/* ---------------------------------------------------------------- a line's characters */

static bool line_at(const View* v, uint64_t pos, LogLine* l) {
   Seq s;
   uint64_t proc;
   return make_seq(v, &s) && seq_get(&s, pos, l, &proc);
}

/* The byte after the character at `i` (zero-width marks stay with their base character). */
static uint32_t char_next(const LogLine* l, uint32_t i) {
   uint32_t cp;
   if (i >= l->len) return l->len;
   i += (uint32_t)canvas_utf8_decode(l->text + i, l->len - i, &cp);
   while (i < l->len) {
      int n = canvas_utf8_decode(l->text + i, l->len - i, &cp);
      if (canvas_cp_width(cp) != 0 || cp < 0x20 || cp == 0x7f) break;
      i += (uint32_t)n;
   }
   return i;
}

/* The start of the character before byte `i`: back over UTF-8 continuation bytes and marks, so
 * that `b` over a long line costs its length, not its square. */
static uint32_t char_prev(const LogLine* l, uint32_t i) {
   if (i > l->len) i = l->len;
   while (i > 0) {
      i--;
      while (i > 0 && ((unsigned char)l->text[i] & 0xc0) == 0x80) i--;
      uint32_t cp;
      canvas_utf8_decode(l->text + i, l->len - i, &cp);
      if (canvas_cp_width(cp) != 0 || cp < 0x20 || cp == 0x7f) break;
   }
   return i;
}

/* The start of the last character: where `$` goes (0 for an empty line). */
static uint32_t char_last(const LogLine* l) {
   return char_prev(l, l->len);
}

static uint32_t clamp_col(const LogLine* l, uint32_t col) {
   if (col >= l->len) return char_last(l);
   uint32_t q = 0;
   while (char_next(l, q) <= col && char_next(l, q) < l->len) q = char_next(l, q);
   return q;
}

static int char_index(const LogLine* l, uint32_t col) {
   int n = 0;
   for (uint32_t q = 0; q < col && q < l->len; q = char_next(l, q)) n++;
   return n;
}

static uint32_t col_of_index(const LogLine* l, int idx) {
   uint32_t q = 0;
   for (int k = 0; k < idx && char_next(l, q) < l->len; k++) q = char_next(l, q);
   return q;
}

/* Word classes as vi's `w` sees them: blanks, word characters, punctuation. */
static int char_class(const LogLine* l, uint32_t i) {
   unsigned char ch = (unsigned char)l->text[i];
   if (ch == ' ' || ch == '\t') return 0;
   if (ch >= 0x80 || ch == '_' || (ch >= '0' && ch <= '9') ||
       ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'z'))
      return 1;
   return 2;
}

/* ---------------------------------------------------------------- layout, as draw_line does it */

typedef struct Walk {
   const LogLine* l;
   int cols;
   bool wrap;
   uint32_t i, at; /* the next byte; the current character's */
   int row, col;   /* where the current character is drawn */
   int ncol;       /* the column after the previous character */
} Walk;

/* The next drawn character of the line; false at its end (or its edge without wrapping). */
static bool walk_next(Walk* w) {
   while (w->i < w->l->len) {
      uint32_t cp;
      w->at = w->i;
      w->i += (uint32_t)canvas_utf8_decode(w->l->text + w->i, w->l->len - w->i, &cp);
      int cw = cp == '\t' ? (w->ncol / 8 + 1) * 8 - w->ncol : canvas_cp_width(cp);
      if (cw == 0 && !(cp < 0x20 || cp == 0x7f)) continue;
      if (cw == 0) cw = 1;
      if (w->ncol + (cp == '\t' ? 1 : cw) > w->cols) {
         if (!w->wrap) return false;
         w->row++;
         w->ncol = 0;
         if (cp == '\t') cw = 8;
      }
      w->col = w->ncol;
      w->ncol += cw;
      return true;
   }
   return false;
}

/* The wrapped row the character at byte `col` is drawn on. */
static int row_of(const LogLine* l, int cols, bool wrap, uint32_t col) {
   Walk w = {.l = l, .cols = cols, .wrap = wrap};
   while (walk_next(&w))
      if (w.at >= col) return w.row;
   return w.row;
}

/* The character drawn at (row, col) of a line, or the last one left of it. */
static uint32_t col_at(const LogLine* l, int cols, bool wrap, int row, int col) {
   Walk w = {.l = l, .cols = cols, .wrap = wrap};
   uint32_t best = 0;
   while (walk_next(&w)) {
      if (w.row > row || (w.row == row && w.col > col)) break;
      best = w.at;
   }
   return clamp_col(l, best);
}

/* ---------------------------------------------------------------- the cursor on screen */

typedef struct Geo {
   Seq s;
   LineCtx lc;
   int w, rows, cols;
} Geo;

static bool geo(View* v, Geo* g) {
   if (!make_seq(v, &g->s)) return false;
   ctx_for(v, &g->lc);
   int unused;
   view_pane_size(v, &g->w, &unused);
   g->rows = v->pane_rows > 0 ? v->pane_rows : unused;
   g->cols = g->w - prefix_cols(v, &g->lc);
   return g->cols > 0;
}

static int rows_of(const Geo* g, uint64_t pos) {
   LogLine l;
   uint64_t proc;
   return seq_get(&g->s, pos, &l, &proc) ? line_rows(&l, g->cols, g->lc.wrap) : 1;
}

/* Stops following: the view holds still under the cursor while the process prints. */
static void freeze(View* v, const Geo* g) {
   Scroll* sc = cur_scroll(v);
   if (!sc->follow) return;
   anchor_bottom(v, &g->s, &g->lc, g->w, g->rows, sc);
   sc->follow = false;
}

/* Scrolls so that the cursor's row is on screen (at the nearest edge when it is not). */
static void reveal(View* v) {
   Geo g;
   if (!geo(v, &g)) return;
   freeze(v, &g);
   Scroll* sc = cur_scroll(v);
   LogLine l;
   uint64_t proc;
   int crow = seq_get(&g.s, v->cm.line, &l, &proc) ? row_of(&l, g.cols, g.lc.wrap, v->cm.col) : 0;
   if (v->cm.line < sc->top || (v->cm.line == sc->top && crow < sc->top_row)) {
      sc->top = v->cm.line;
      sc->top_row = crow;
      return;
   }
   int d = -sc->top_row;
   uint64_t pos = sc->top, next;
   while (pos < v->cm.line && d < g.rows && seq_next(&g.s, pos, &next)) {
      d += rows_of(&g, pos);
      pos = next;
   }
   if (d + crow < g.rows) return;
   /* the cursor's row becomes the bottom one */
   int left = g.rows - (crow + 1);
   pos = v->cm.line;
   if (left <= 0) {
      sc->top = pos;
      sc->top_row = -left;
      return;
   }
   uint64_t prev;
   while (seq_prev(&g.s, pos, &prev)) {
      int n = rows_of(&g, prev);
      pos = prev;
      if (n >= left) {
         sc->top = pos;
         sc->top_row = n - left;
         return;
      }
      left -= n;
   }
   sc->top = pos;
   sc->top_row = 0;
}

/* The last line with a row on screen. */
static uint64_t bottom_line(View* v, const Geo* g) {
   Scroll* sc = cur_scroll(v);
   uint64_t pos = sc->top, next, first;
   if (seq_first(&g->s, &first) && pos < first) pos = first;
   int d = -sc->top_row + rows_of(g, pos);
   while (d < g->rows && seq_next(&g->s, pos, &next)) {
      pos = next;
      d += rows_of(g, pos);
   }
   return pos;
}

/* ---------------------------------------------------------------- entering, leaving */

static bool copy_enter(View* v, uint64_t line, uint32_t col) {
   if (v->input) input_leave(v); /* a drag over the log of a child in input mode: copy mode now */
   Geo g;
   uint64_t first;
   if (!geo(v, &g) || !seq_first(&g.s, &first)) {
      set_msg(v, false, "nothing to copy: the pane is empty");
      return false;
   }
   freeze(v, &g);
   v->cm.on = true;
   v->cm.sel = false;
   v->cm.line = line;
   v->cm.col = col;
   LogLine l;
   v->cm.want = line_at(v, line, &l) ? char_index(&l, col) : 0;
   return true;
}

static void copy_leave(View* v) {
   v->cm.on = false;
   v->cm.sel = false;
   v->cm.press = false;
}

/* ---------------------------------------------------------------- motions */

/* Moves the cursor to another line, keeping the wanted column. */
static void goto_line(View* v, uint64_t pos) {
   LogLine l;
   v->cm.line = pos;
   v->cm.col = line_at(v, pos, &l) ? col_of_index(&l, v->cm.want) : 0;
}

static void move_lines(View* v, int n) {
   Seq s;
   if (!make_seq(v, &s)) return;
   uint64_t pos = v->cm.line, p;
   uint64_t first, last;
   if (seq_first(&s, &first) && pos < first) pos = first; /* its line was dropped */
   if (seq_last(&s, &last) && pos > last) pos = last;
   for (; n > 0 && seq_next(&s, pos, &p); n--) pos = p;
   for (; n < 0 && seq_prev(&s, pos, &p); n++) pos = p;
   goto_line(v, pos);
}

/* w: the next word's start, on a later line when this one has none. */
static void word_fwd(View* v) {
   Seq s;
   LogLine l;
   uint64_t proc, next;
   if (!make_seq(v, &s) || !seq_get(&s, v->cm.line, &l, &proc)) return;
   uint32_t i = v->cm.col;
   if (i < l.len) {
      int c = char_class(&l, i);
      while (i < l.len && c && char_class(&l, i) == c) i = char_next(&l, i);
      while (i < l.len && char_class(&l, i) == 0) i = char_next(&l, i);
      if (i < l.len) {
         v->cm.col = i;
         return;
      }
   }
   uint64_t pos = v->cm.line;
   while (seq_next(&s, pos, &next)) { /* the first non-blank of a later line */
      pos = next;
      if (!seq_get(&s, pos, &l, &proc)) continue;
      for (i = 0; i < l.len && char_class(&l, i) == 0;) i = char_next(&l, i);
      if (i < l.len || l.len == 0) {
         v->cm.line = pos;
         v->cm.col = i;
         return;
      }
   }
}

/* b: the start of this word, or of the previous one (on an earlier line at a line's start). */
static void word_back(View* v) {
   Seq s;
   LogLine l;
   uint64_t proc, prev;
   uint64_t pos = v->cm.line;
   if (!make_seq(v, &s) || !seq_get(&s, pos, &l, &proc)) return;
   uint32_t i = v->cm.col;
   for (;;) {
      while (i > 0 && char_class(&l, char_prev(&l, i)) == 0) i = char_prev(&l, i);
      if (i > 0) break;
      if (!seq_prev(&s, pos, &prev) || !seq_get(&s, prev, &l, &proc)) {
         v->cm.line = pos;
         v->cm.col = 0;
         return;
      }
      pos = prev;
      i = l.len;
      if (l.len == 0) {
         v->cm.line = pos;
         v->cm.col = 0;
         return;
      }
   }
   int c = char_class(&l, char_prev(&l, i));
   while (i > 0 && char_class(&l, char_prev(&l, i)) == c) i = char_prev(&l, i);
   v->cm.line = pos;
   v->cm.col = i;
}

static void move_col(View* v, int how) {
   LogLine l;
   if (!line_at(v, v->cm.line, &l)) return;
   uint32_t c = clamp_col(&l, v->cm.col);
   if (how < 0) c = char_prev(&l, c);
   if (how > 0 && char_next(&l, c) < l.len) c = char_next(&l, c);
   if (how == -2) c = 0;
   if (how == 2) c = char_last(&l);
   v->cm.col = c;
}

/* ---------------------------------------------------------------- the selection and yanking */

typedef struct Range {
   uint64_t l1, l2;
   uint32_t c1, c2;
} Range;

static Range sel_range(const View* v) {
   const CopyMode* m = &v->cm;
   bool fwd = m->aline < m->line || (m->aline == m->line && m->acol <= m->col);
   Range r = fwd ? (Range){m->aline, m->line, m->acol, m->col}
                 : (Range){m->line, m->aline, m->col, m->acol};
   return r;
}

/* Appends a newline (when `nl`) and a line's text from byte a to b, without control characters
 * (tabs stay): the clipboard gets what the pane shows, not the child's escape sequences. */
static void put_text(char** buf, size_t* len, size_t* cap, bool nl, const LogLine* l, uint32_t a,
                     uint32_t b) {
   if (*len + (b - a) + 2 > *cap) {
      *cap = (*len + (b - a) + 2) * 2;
      *buf = xrealloc(*buf, *cap);
   }
   if (nl) (*buf)[(*len)++] = '\n';
   for (uint32_t i = a; i < b && i < l->len; i++) {
      unsigned char ch = (unsigned char)l->text[i];
      if (ch >= 0x20 || ch == '\t') (*buf)[(*len)++] = (char)ch;
   }
   (*buf)[*len] = '\0';
}

#define YANK_MAX 100000 /* bytes: what tui.c sends in one OSC 52 (terminals cap it too) */

/* The selection (or the cursor's line without one) as plain text, logical lines joined by
 * newlines: a wrapped line is one line. Lines past YANK_MAX bytes are left out (*cut). */
static char* yank_text(View* v, unsigned* nlines, bool* cut) {
   Seq s;
   Range r = v->cm.sel ? sel_range(v) : (Range){v->cm.line, v->cm.line, 0, 0};
   bool lines = !v->cm.sel || v->cm.linewise;
   size_t len = 0, cap = 256;
   char* buf = xmalloc(cap);
   buf[0] = '\0';
   *nlines = 0;
   *cut = false;
   if (!make_seq(v, &s)) return buf;
   uint64_t pos = r.l1, first;
   if (seq_first(&s, &first) && pos < first) pos = first;
   for (;;) {
      LogLine l;
      uint64_t proc, next;
      if (len > YANK_MAX) {
         *cut = true;
         break;
      }
      if (seq_get(&s, pos, &l, &proc)) {
         uint32_t a = lines || pos != r.l1 ? 0 : r.c1;
         uint32_t b = lines || pos != r.l2 ? l.len : char_next(&l, r.c2);
         put_text(&buf, &len, &cap, *nlines > 0, &l, a, b);
         ++*nlines;
      }
      if (pos >= r.l2 || !seq_next(&s, pos, &next) || next > r.l2) break;
      pos = next;
   }
   return buf;
}

static void yank(View* v) {
   unsigned n;
   bool cut;
   char* text = yank_text(v, &n, &cut);
   char what[64];
   snprintf(what, sizeof what, "%u line%s%s", n, n == 1 ? "" : "s",
            cut ? " (the first 100 KB of the selection)" : "");
   copy_text(v, text, what);
   copy_leave(v);
}

static void select_mode(View* v, bool linewise) {
   CopyMode* m = &v->cm;
   if (m->sel && m->linewise == linewise) {
      m->sel = false; /* the same key again ends it, as in vi */
      return;
   }
   if (!m->sel) m->aline = m->line, m->acol = m->col;
   m->sel = true;
   m->linewise = linewise;
}

/* ---------------------------------------------------------------- keys */

static void copy_start(View* v) {
   Geo g;
   if (!geo(v, &g)) return;
   freeze(v, &g);
   uint64_t line = bottom_line(v, &g);
   if (copy_enter(v, line, 0))
      set_msg(v, false, "copy mode: move with h/j/k/l, v or V selects, y copies, Esc leaves");
}

static void copy_jump(View* v, bool last) {
   Seq s;
   uint64_t pos;
   if (make_seq(v, &s) && (last ? seq_last(&s, &pos) : seq_first(&s, &pos))) {
      v->cm.line = pos;
      v->cm.col = 0;
      v->cm.want = 0;
   }
}

bool copy_act(View* v, int key, int arg) {
   (void)key;
   int page = v->pane_rows > 1 ? v->pane_rows - 1 : 1;
   int half = page / 2 ? page / 2 : 1;
   switch (arg) {
   case COPY_ENTER:
      copy_start(v);
      return true;
   case COPY_LEAVE:
      copy_leave(v);
      return true;
   case COPY_YANK:
      yank(v);
      return true;
   case COPY_SELECT:
      select_mode(v, false);
      return true;
   case COPY_SELECT_LINES:
      select_mode(v, true);
      return true;
   case COPY_LEFT:
      move_col(v, -1);
      break;
   case COPY_RIGHT:
      move_col(v, 1);
      break;
   case COPY_HOME:
      move_col(v, -2);
      break;
   case COPY_END:
      move_col(v, 2);
      break;
   case COPY_UP:
      move_lines(v, -1);
      break;
   case COPY_DOWN:
      move_lines(v, 1);
      break;
   case COPY_HALF_UP:
      move_lines(v, -half);
      break;
   case COPY_HALF_DOWN:
      move_lines(v, half);
      break;
   case COPY_PAGE_UP:
      move_lines(v, -page);
      break;
   case COPY_PAGE_DOWN:
      move_lines(v, page);
      break;
   case COPY_WORD:
      word_fwd(v);
      break;
   case COPY_BACK:
      word_back(v);
      break;
   case COPY_FIRST:
      copy_jump(v, false);
      break;
   case COPY_LAST:
      copy_jump(v, true);
      break;
   default:
      return false;
   }
   /* j/k and pages keep the column they started from; other motions set it */
   bool vertical =
       arg == COPY_UP || arg == COPY_DOWN || (arg >= COPY_HALF_UP && arg <= COPY_PAGE_DOWN);
   LogLine l;
   if (!vertical && line_at(v, v->cm.line, &l)) v->cm.want = char_index(&l, v->cm.col);
   reveal(v);
   return true;
}

/* ---------------------------------------------------------------- the mouse */

/* The line and column under the mouse (clamped into the pane); false outside any line. */
static bool mouse_point(View* v, bool clamp, uint64_t* line, uint32_t* col) {
   CopyMode* m = &v->cm;
   int x = v->mouse_x - m->px, y = v->mouse_y - m->py;
   if (!m->rowsub || m->prows <= 0) return false;
   if (!clamp && (x < 0 || x >= m->pw || y < 0 || y >= m->prows)) return false;
   if (y < 0) y = 0;
   if (y >= m->prows) y = m->prows - 1;
   while (y > 0 && m->rowsub[y] < 0) y--; /* below the last line: the last line */
   if (m->rowsub[y] < 0) return false;
   Geo g;
   LogLine l;
   if (!geo(v, &g) || !line_at(v, m->rowpos[y], &l)) return false;
   int tc = x - prefix_cols(v, &g.lc);
   *line = m->rowpos[y];
   *col = col_at(&l, g.cols, g.lc.wrap, m->rowsub[y], tc < 0 ? 0 : tc);
   return true;
}

/* A press remembers its point (a plain click does nothing more); a drag enters copy mode with a
 * selection from the press to the pointer; the release ends it there (y then copies it). */
bool copy_mouse(View* v, int key, int arg) {
   (void)arg;
   CopyMode* m = &v->cm;
   uint64_t line;
   uint32_t col;
   if (key == VK_CLICK) {
      m->press = mouse_point(v, false, &m->pline, &m->pcol);
      if (m->press && m->on) {
         m->sel = false;
         m->line = m->pline, m->col = m->pcol;
         return true;
      }
      return false;
   }
   if (!m->press) return false;
   if (key == VK_RELEASE) m->press = false;
   if (!mouse_point(v, true, &line, &col)) return false;
   bool outside = v->mouse_y < m->py || v->mouse_y >= m->py + m->prows;
   if (!m->on && line == m->pline && col == m->pcol && !outside) return false; /* not moved */
   bool was_on = m->on;
   if (!m->on && !copy_enter(v, m->pline, m->pcol)) return false;
   if (!m->sel) {
      m->sel = true;
      m->linewise = false;
      m->aline = m->pline;
      m->acol = m->pcol;
   }
   /* past the pane's top or bottom: each motion report moves a line further (the view scrolls),
    * from the cursor when it is already past the row on screen (no frame drawn in between) */
   int edge = v->mouse_y < m->py ? -1 : outside ? 1 : 0;
   if (edge && was_on && (edge < 0 ? m->line < line : m->line > line)) line = m->line, col = m->col;
   int dy = key == VK_DRAG ? edge : 0;
   m->line = line;
   m->col = col;
   LogLine l;
   if (dy && line_at(v, line, &l)) {
      m->want = char_index(&l, col);
      move_lines(v, dy);
   }
   reveal(v);
   if (key == VK_RELEASE) set_msg(v, false, "selected: y copies, Esc leaves copy mode");
   return true;
}

bool copy_mouse_toggle(View* v, int key, int arg) {
   (void)key, (void)arg;
   v->mouse_off = !v->mouse_off;
   v->cm.press = false;
   if (v->mouse_off)
      set_msg(v, false, "mouse capture off: the terminal selects text; M turns it back on");
   else
      set_msg(v, false, "mouse capture on: drag selects in copy mode; M turns it off");
   return true;
}

/* ---------------------------------------------------------------- drawing and search hooks */

static bool in_sel(const View* v, uint64_t pos, uint32_t at) {
   if (!v->cm.sel) return false;
   Range r = sel_range(v);
   if (pos < r.l1 || pos > r.l2) return false;
   if (v->cm.linewise) return true;
   return (pos > r.l1 || at >= r.c1) && (pos < r.l2 || at <= r.c2);
}

Style copy_style(const View* v, const LineCtx* lc, uint32_t at, Style st) {
   if (lc->pos == v->cm.line && at == v->cm.col) { /* underlined: apart from the selection */
      Style cs = role(v, THEME_PROMPT_CURSOR);
      cs.attr |= ATTR_UNDERLINE;
      return cs;
   }
   if (in_sel(v, lc->pos, at)) return role(v, THEME_SELECTION);
   return st;
}

void copy_mark_empty(const View* v, Canvas* c, const LineCtx* lc, int x, int y) {
   bool cur = lc->pos == v->cm.line;
   if (!cur && !in_sel(v, lc->pos, 0)) return;
   canvas_fill(c, x, y, 1, 1, role(v, cur ? THEME_PROMPT_CURSOR : THEME_SELECTION));
}

void copy_note_row(View* v, int x, int y, int w, int rows, int row, uint64_t pos, int sub) {
   CopyMode* m = &v->cm;
   if (row < 0) {
      if (rows > m->rowcap) {
         m->rowcap = rows;
         m->rowpos = xrealloc(m->rowpos, (size_t)rows * sizeof *m->rowpos);
         m->rowsub = xrealloc(m->rowsub, (size_t)rows * sizeof *m->rowsub);
      }
      m->px = x, m->py = y, m->pw = w, m->prows = rows > 0 ? rows : 0;
      for (int k = 0; k < m->prows; k++) m->rowsub[k] = -1;
      return;
   }
   if (row >= m->prows) return;
   m->rowpos[row] = pos;
   m->rowsub[row] = sub;
}

void copy_search_hit(View* v, const Seq* s, uint64_t pos, const Regex* re) {
   if (!v->cm.on) return;
   LogLine l;
   uint64_t proc;
   size_t a = 0, b;
   v->cm.line = pos;
   v->cm.col = 0;
   if (re && seq_get(s, pos, &l, &proc) && regex_find(re, v->scratch, l.text, l.len, 0, &a, &b))
      v->cm.col = clamp_col(&l, (uint32_t)a);
   v->cm.want = seq_get(s, pos, &l, &proc) ? char_index(&l, v->cm.col) : 0;
   reveal(v);
}

void copy_done(View* v) {
   free(v->cm.rowpos);
   free(v->cm.rowsub);
}
