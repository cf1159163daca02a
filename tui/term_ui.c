/* Terminal mode in the view: input mode (every key to a child, the prefix key), the `:` line,
 * which process's emulated screen the UI wants, and drawing that screen in the pane. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/util.h"
#include "tui/view_impl.h"

int view_parse_prefix(const char* text, int* key, char** cause) {
   const char* p = NULL;
   if (strncasecmp(text, "ctrl-", 5) == 0)
      p = text + 5;
   else if (strncasecmp(text, "c-", 2) == 0)
      p = text + 2;
   else if (text[0] == '^')
      p = text + 1;
   int ch = p && p[0] && !p[1] ? tolower((unsigned char)p[0]) : -1;
   /* Ctrl-H, I, J, M and [ are what Backspace, Tab, Enter and Esc send: brum could not tell them
    * apart from those keys. */
   bool ok = (ch >= 'a' && ch <= 'z' && !strchr("hijm", ch)) || (ch > 0 && strchr("\\]^_", ch));
   if (!ok) {
      *cause = xasprintf("prefix key '%s': write it C-a (a letter but h, i, j, m, which are "
                         "Backspace, Tab and Enter; or one of \\ ] ^ _), e.g. C-b or C-x",
                         text);
      return -EINVAL;
   }
   *key = ch & 0x1f;
   return 0;
}

void term_prefix_label(const View* v, char* buf, size_t size) {
   snprintf(buf, size, "Ctrl-%c", (char)(v->prefix + '@'));
}

/* ---------------------------------------------------------------- input mode */

bool input_enter(View* v) {
   const ProcSlot* slot = slot_of(v, v->sel);
   const ProcSnap* ps = sup_snap(slot);
   if (ps->state != PROC_RUNNING && ps->state != PROC_STARTING) {
      set_msg(v, true, "%s is not running: start it (Enter), then press i to type into it",
              slot->name);
      return true;
   }
   v->input = true;
   v->input_id = v->sel;
   v->prefix_pending = false;
   cur_scroll(v)->follow = true; /* what the child draws now */
   return true;
}

void input_leave(View* v) {
   v->input = false;
   v->prefix_pending = false;
}

static void send_key(View* v, const TermKey* k) {
   sup_key(v->sup, v->input_id, k);
   cur_scroll(v)->follow = true;
}

/* A press, release or the wheel inside the emulated screen of a child that asked for mouse
 * reports (motion with a button held is not forwarded: libvterm 0.1.4 reports it only in the
 * 1002/1003 modes, and curses' drag events are for copy mode). */
static bool input_mouse(View* v, int key) {
   const ProcSnap* ps = sup_snap(slot_of(v, v->input_id));
   int x = v->mouse_x - v->scr_x, y = v->mouse_y - v->scr_y;
   if (!(ps->term_modes & TERM_MODE_MOUSE) || !v->scr_w || x < 0 || y < 0 || x >= v->scr_w ||
       y >= v->scr_h)
      return false;
   if (key == VK_DRAG) return true;
   TermKey k = {.code = TK_MOUSE, .x = (int16_t)x, .y = (int16_t)y, .press = key != VK_RELEASE};
   k.button = key == VK_WHEEL_UP ? 4 : key == VK_WHEEL_DOWN ? 5 : 1;
   sup_key(v->sup, v->input_id, &k);
   return true;
}

InputResult input_key(View* v, int key) {
   bool mouse = key == VK_CLICK || key == VK_WHEEL_UP || key == VK_WHEEL_DOWN || key == VK_DRAG ||
                key == VK_RELEASE;
   if (v->prefix_pending) {
      v->prefix_pending = false;
      if (key == VK_ESC) {
         input_leave(v);
         return INPUT_DONE;
      }
      if (key == v->prefix) {
         TermKey k = {
             .code = TK_CHAR, .ch = (uint32_t)tolower(v->prefix + '@'), .mods = TERM_MOD_CTRL};
         send_key(v, &k);
         return INPUT_DONE;
      }
      input_leave(v);
      return INPUT_NORMAL; /* prefix + a brum key: leave and run it */
   }
   if (mouse) return input_mouse(v, key) ? INPUT_DONE : INPUT_NORMAL;
   if (key == v->prefix) {
      v->prefix_pending = true;
      return INPUT_DONE;
   }
   if (v->tkey.code == TK_NONE) return INPUT_QUIET;
   bool following = cur_scroll(v)->follow;
   send_key(v, &v->tkey);
   return following ? INPUT_QUIET : INPUT_DONE; /* scrolled up: back to the screen now */
}

bool view_paste(View* v, const char* text, size_t n) {
   if (!v->input) return false;
   sup_input(v->sup, v->input_id, text, n, true);
   cur_scroll(v)->follow = true;
   return false; /* the child's echo redraws */
}

void send_line(View* v, const char* text) {
   const ProcSlot* slot = slot_of(v, v->sel);
   const ProcSnap* ps = sup_snap(slot);
   if (!snap_is_active(ps->state)) {
      set_msg(v, true, "%s is not running: nothing to send to", slot->name);
      return;
   }
   sup_input_line(v->sup, v->sel, text, strlen(text));
   cur_scroll(v)->follow = true;
   set_msg(v, false, "sent to %s", slot->name);
}

/* ---------------------------------------------------------------- the emulated screen */

/* Input mode ends when its process ends or is no longer the one shown; the emulator is wanted
 * for input mode, or for the shown process while it is on the alternate screen. */
void term_frame(View* v) {
   if (v->input) {
      const ProcSlot* slot = slot_of(v, v->input_id);
      const ProcSnap* ps = slot ? sup_snap(slot) : NULL;
      if (!ps || !snap_is_active(ps->state)) {
         input_leave(v);
         if (slot) set_msg(v, false, "%s ended: input mode off", slot->name);
      } else if (v->tab != TAB_PROCS || v->sel != v->input_id) {
         input_leave(v);
      }
   }
   bool want = false;
   uint64_t id = 0;
   if (v->input) {
      want = true, id = v->input_id;
   } else if (v->tab == TAB_PROCS && v->sel < nprocs(v)) {
      const ProcSnap* ps = sup_snap(slot_of(v, v->sel));
      if ((ps->term_modes & TERM_MODE_ALTSCREEN) && snap_is_active(ps->state))
         want = true, id = v->sel;
   }
   if (want == v->want && (!want || id == v->want_id)) return;
   if (v->want) sup_term_want(v->sup, v->want_id, false);
   if (want) sup_term_want(v->sup, id, true);
   v->want = want;
   v->want_id = id;
}

/* The screen the pane shows instead of the log: input mode, or a full-screen child, while the
 * pane follows (scrolling up shows the log). */
const TermScreen* pane_screen(View* v) {
   if (v->tab != TAB_PROCS || !v->want || v->want_id != v->sel || !cur_scroll(v)->follow)
      return NULL;
   const TermScreen* s = sup_screen(slot_of(v, v->sel));
   if (!s || !s->cols || !s->rows) return NULL;
   if (!v->input && !s->altscreen) return NULL; /* it left the alternate screen */
   return s;
}

static void put(Cell* cell, uint32_t ch, uint16_t wide, uint32_t fg, uint32_t bg, uint16_t attr) {
   *cell = (Cell){.ch = ch, .fg = fg, .bg = bg, .attr = attr, .wide = wide};
}

void view_draw_screen(Canvas* c, int x, int y, int w, int h, const TermScreen* s, Style base,
                      bool cursor) {
   int cols = s->cols < w ? s->cols : w, rows = s->rows < h ? s->rows : h;
   if (x + cols > c->w) cols = c->w - x;
   if (y + rows > c->h) rows = c->h - y;
   for (int r = 0; r < rows; r++) {
      for (int col = 0; col < cols; col++) {
         const TermCell* tc = &s->cells[(size_t)r * s->cols + (size_t)col];
         uint32_t fg = tc->fg == COLOR_DEFAULT ? base.fg : tc->fg;
         uint32_t bg = tc->bg == COLOR_DEFAULT ? base.bg : tc->bg;
         uint32_t ch = tc->ch < 0x20 || (tc->ch >= 0x7f && tc->ch < 0xa0) ? ' ' : tc->ch;
         Cell* cell = canvas_at(c, x + col, y + r);
         if (tc->width == 0) { /* right half: the left half drew it, unless clipped away */
            bool left = col > 0 && canvas_at(c, x + col - 1, y + r)->wide == 2;
            put(cell, left ? 0 : ' ', left ? 0 : 1, fg, bg, tc->attr);
         } else if (tc->width == 2 && col + 1 < cols) {
            put(cell, ch, 2, fg, bg, tc->attr);
         } else {
            put(cell, tc->width == 2 ? ' ' : ch, 1, fg, bg, tc->attr);
         }
      }
   }
   if (cursor && s->cursor_visible && s->cur_row < rows && s->cur_col < cols) {
      Cell* cell = canvas_at(c, x + s->cur_col, y + s->cur_row);
      if (cell->wide == 0 && s->cur_col > 0) cell--;
      cell->attr ^= ATTR_REVERSE;
   }
}

/* The pane as the child's terminal: its screen right of the gutter (the child's width is the
 * pane's less the gutter, view_term_size). */
void draw_pane_screen(View* v, Canvas* c, int x, int y, int w, int rows, const TermScreen* s) {
   Style base = role(v, THEME_PANE);
   canvas_fill(c, x, y, 1, rows, role(v, THEME_GUTTER));
   view_draw_screen(c, x + 1, y, w - 1, rows, s, base, v->input && !v->real_cursor);
   if (v->no_color) { /* mono themes drop the children's colours, here as in the log */
      for (int r = 0; r < rows && r < s->rows; r++)
         for (int col = 1; col < w && col - 1 < s->cols; col++) {
            Cell* cell = canvas_at(c, x + col, y + r);
            cell->fg = base.fg, cell->bg = base.bg;
         }
   }
   v->scr_x = x + 1, v->scr_y = y;
   v->scr_w = w - 1 < s->cols ? w - 1 : s->cols;
   v->scr_h = rows < s->rows ? rows : s->rows;
   if (v->input && s->cursor_visible && s->cur_col < v->scr_w && s->cur_row < v->scr_h)
      v->cursor_x = v->scr_x + s->cur_col, v->cursor_y = v->scr_y + s->cur_row;
}

void view_term_size(const View* v, int* cols, int* rows) {
   int sw = sidebar_width(v);
   *cols = v->w - (sw ? sw + 1 : 0) - 1;
   *rows = v->h - 4;
   if (*cols < 1) *cols = 1;
   if (*rows < 1) *rows = 1;
}

/* ---------------------------------------------------------------- chrome */

static Style badge_style(const View* v) {
   Style st = role(v, THEME_STATUS_KEY);
   st.attr |= ATTR_BOLD | ATTR_REVERSE;
   return st;
}

/* The pane title's right end in input mode, or for a full-screen child: true when drawn (it
 * replaces the follow and filter indicators, which do not apply to a screen). */
bool term_badge(View* v, Canvas* c, int x, int y, int w, int used) {
   char buf[128], pk[16];
   term_prefix_label(v, pk, sizeof pk);
   const char* arrow = v->ascii ? "->" : "→";
   Style st = badge_style(v);
   if (v->input)
      snprintf(buf, sizeof buf, " INPUT %s %s Esc to leave ", arrow, pk);
   else if (pane_screen(v))
      snprintf(buf, sizeof buf, " full screen %s i to type ", v->ascii ? "-" : "·"),
          st = role(v, THEME_FOLLOW_INDICATOR);
   else
      return false;
   int bw = canvas_str_width(buf, strlen(buf));
   if (used + bw + 1 < w) canvas_text(c, x + w - bw, y, bw, buf, strlen(buf), st);
   return true;
}

/* The status line in input mode: where keys go and how to leave, or what the prefix waits for. */
void draw_input_status(View* v, Canvas* c, int y) {
   char head[160], tail[200], pk[16];
   term_prefix_label(v, pk, sizeof pk);
   const ProcSlot* slot = slot_of(v, v->input_id);
   const char* dot = v->ascii ? "-" : "·";
   if (v->prefix_pending) {
      snprintf(head, sizeof head, " %s ... ", pk);
      snprintf(tail, sizeof tail,
               " Esc: leave input mode %s %s: send %s %s a brum key (j, k, ?): leave, run it", dot,
               pk, pk, dot);
   } else {
      snprintf(head, sizeof head, " INPUT %s %s %s %s Esc to leave ", v->ascii ? "->" : "→",
               slot ? slot->name : "?", dot, pk);
      snprintf(tail, sizeof tail, " keys go to the process %s %s %s sends %s %s %s + key: brum's",
               dot, pk, pk, pk, dot, pk);
   }
   int x = canvas_text(c, 0, y, c->w, head, strlen(head), badge_style(v));
   canvas_text(c, x, y, c->w - x, tail, strlen(tail), role(v, THEME_STATUS));
}
