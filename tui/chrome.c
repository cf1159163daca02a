/* The chrome around the panes: header, tabs, help, the bottom line, dialogs; and view_draw, which
 * lays out a frame. */
#include <stdio.h>
#include <string.h>

#include "core/util.h"
#include "tui/view_impl.h"

/* Indexed by ProcState; waiting (for dependencies) and backoff (before a restart) last. */
const char* state_glyph(const View* v, ProcState st) {
   static const char* const uni[] = {"○", "◌", "●", "◑", "✓", "✗", "☠", "■", "◔", "↻"};
   static const char* const asc[] = {"-", "~", "*", "~", "+", "x", "!", "#", ".", "@"};
   return ((unsigned)st < ARRAY_LEN(uni)) ? (v->ascii ? asc[st] : uni[st]) : "?";
}

ThemeRole state_role(ProcState st) {
   /* waiting is a start not yet made; backoff an end about to be undone */
   static const ThemeRole r[] = {THEME_STATE_IDLE,     THEME_STATE_STARTING, THEME_STATE_RUNNING,
                                 THEME_STATE_STOPPING, THEME_STATE_EXITED,   THEME_STATE_FAILED,
                                 THEME_STATE_KILLED,   THEME_STATE_STOPPED,  THEME_STATE_STARTING,
                                 THEME_STATE_STOPPING};
   return (unsigned)st < ARRAY_LEN(r) ? r[st] : THEME_STATE_IDLE;
}

/* What the header and the tab line count over every process, in one pass (at 100,000 processes
 * each pass is a cache miss per snapshot: the frame's main cost). */
typedef struct Totals {
   unsigned running, failed, pending;
   uint64_t errs, warns, entries, urls;
   const char* url; /* the newest URL of a running process, NULL: none */
} Totals;

static void totals(const View* v, Totals* t) {
   memset(t, 0, sizeof *t);
   uint64_t url_t = 0;
   const Registry* r = sup_registry(v->sup);
   for (size_t i = 0; i < r->n; i++) {
      const ProcSnap* ps = sup_snap(r->slots[i]);
      if (snap_is_active(ps->state)) t->running++;
      if (snap_is_pending(ps->state)) t->pending++; /* no child: not running */
      if (ps->state == PROC_FAILED || ps->state == PROC_KILLED) t->failed++;
      t->errs += ps->errors;
      t->warns += ps->warnings;
      const DetectSnap* d = intel_of(v, i);
      if (!d) continue;
      t->entries += d->nentries;
      t->urls += d->nurls;
      if (!snap_is_active(ps->state)) continue;
      for (uint32_t k = 0; k < d->nurls; k++)
         if (!t->url || d->urls[k].time_ms > url_t)
            t->url = d->urls[k].url, url_t = d->urls[k].time_ms;
   }
}

static void draw_header(View* v, Canvas* c, const Totals* t) {
   Style hs = role(v, THEME_HEADER), acc = role(v, THEME_HEADER_ACCENT);
   canvas_fill(c, 0, 0, c->w, 1, hs);
   int x = 1;
   x += canvas_text(c, x, 0, c->w - x, "brum", 4, acc);
   const char* dot = v->ascii ? "-" : "·";
   x += canvas_printf(c, x, 0, c->w - x, hs, " %s %s %s %s", dot, v->prj->name, dot,
                      pkg_manager_name(v->prj->pm));
   unsigned running = t->running, failed = t->failed, pending = t->pending;
   uint64_t errs = t->errs, warns = t->warns;
   x += 2;
   x += canvas_printf(c, x, 0, c->w - x, role(v, THEME_STATE_RUNNING), "%s %u running",
                      state_glyph(v, PROC_RUNNING), running);
   if (pending) {
      x += 2;
      x += canvas_printf(c, x, 0, c->w - x, role(v, THEME_STATE_STARTING), "%s %u waiting",
                         state_glyph(v, PROC_WAITING), pending);
   }
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
   const char* url = t->url;
   if (url) {
      int uw = canvas_str_width(url, strlen(url));
      if (x + 2 + uw < c->w)
         canvas_text(c, c->w - uw - 1, 0, uw, url, strlen(url), role(v, THEME_URL));
   }
}

static const char* const tab_names[TAB_COUNT] = {"Processes", "All", "Errors", "URLs", "Help"};

/* A tab's label, with the number of entries for Errors and URLs. */
static void tab_label(const Totals* tt, int t, char* buf, size_t size) {
   if (t == TAB_ERRORS || t == TAB_URLS) {
      uint64_t n = t == TAB_ERRORS ? tt->entries : tt->urls;
      snprintf(buf, size, " %s (%llu) ", tab_names[t], (unsigned long long)n);
   } else {
      snprintf(buf, size, " %s ", tab_names[t]);
   }
}

static void draw_tabs(View* v, Canvas* c, const Totals* tt) {
   Style ts = role(v, THEME_TAB);
   canvas_fill(c, 0, 1, c->w, 1, ts);
   int x = 0;
   for (int t = 0; t < TAB_COUNT; t++) {
      char buf[64];
      tab_label(tt, t, buf, sizeof buf);
      x += canvas_text(c, x, 1, c->w - x, buf, strlen(buf),
                       role(v, t == (int)v->tab ? THEME_TAB_ACTIVE : THEME_TAB));
      if (t + 1 < TAB_COUNT)
         x += canvas_text(c, x, 1, c->w - x, v->ascii ? "|" : "│", v->ascii ? 1 : 3, ts);
   }
}

int tab_at(const View* v, int col) {
   Totals tt;
   totals(v, &tt);
   int x = 0;
   for (int t = 0; t < TAB_COUNT; t++) {
      char buf[64];
      tab_label(&tt, t, buf, sizeof buf);
      int w = canvas_str_width(buf, strlen(buf));
      if (col >= x && col < x + w) return t;
      x += w + 1;
   }
   return -1;
}

/* Markdown to what Help shows: without the backticks. */
static void unquote(const char* s, char* out, size_t size) {
   size_t o = 0;
   for (; *s && o + 1 < size; s++)
      if (*s != '`') out[o++] = *s;
   out[o] = '\0';
}

/* Help's lines: a heading, the key table (keys, then what they do, wrapped at spaces), a note.
 * Line `i` of them is drawn at row y + i - v->help_top when that is on screen; returns the count.
 */
static int help_lines(View* v, Canvas* c, int y, int rows) {
   static KeyRow kr[64];
   size_t n = key_rows(kr, ARRAY_LEN(kr));
   int lw = 0;
   char label[128], text[sizeof kr[0].text];
   for (size_t i = 0; i < n; i++) {
      unquote(kr[i].label, label, sizeof label);
      int w = canvas_str_width(label, strlen(label));
      if (w > lw) lw = w;
   }
   if (lw > 22) lw = 22; /* a longer label gets a line of its own */
   int tx = 2 + lw + 2, tw = c->w - tx - 1, line = 0;
   if (tw < 10) tw = 10;
#define HELP_AT(l) ((l) >= v->help_top && (l)-v->help_top < rows ? y + (l)-v->help_top : -1)
   static const char head[] = "Keys, in every view unless it says (j/k, PgDn scroll; Esc leaves)";
   if (HELP_AT(line) >= 0)
      canvas_text(c, 2, HELP_AT(line), c->w - 3, head, strlen(head), role(v, THEME_HEADER_ACCENT));
   line += 2;
   for (size_t i = 0; i < n; i++, line++) {
      unquote(kr[i].label, label, sizeof label);
      unquote(kr[i].text, text, sizeof text);
      int w = canvas_str_width(label, strlen(label));
      if (HELP_AT(line) >= 0)
         canvas_text(c, 2, HELP_AT(line), c->w - 3, label, strlen(label),
                     role(v, THEME_STATUS_KEY));
      if (w > lw) line++;
      for (const char* p = text; *p; line++) {
         size_t len = strlen(p), cut = len;
         if (len > (size_t)tw)
            for (cut = (size_t)tw; cut > 0 && p[cut] != ' '; cut--) continue;
         if (cut == 0) cut = (size_t)tw < len ? (size_t)tw : len;
         if (HELP_AT(line) >= 0) canvas_text(c, tx, HELP_AT(line), tw, p, cut, role(v, THEME_PANE));
         p += cut;
         while (*p == ' ') p++;
         if (!*p) break;
      }
   }
   static const char note[] =
       "Patterns are PCRE2 regular expressions, smart-case: all lowercase matches any case.";
   line++;
   if (HELP_AT(line) >= 0)
      canvas_text(c, 2, HELP_AT(line), c->w - 3, note, strlen(note), role(v, THEME_PANE));
#undef HELP_AT
   return line + 1;
}

static void draw_help(View* v, Canvas* c, int y, int rows) {
   canvas_fill(c, 0, y, c->w, rows, role(v, THEME_PANE));
   int total = help_lines(v, c, y + 1, rows - 1);
   int max_top = total - (rows - 1) > 0 ? total - (rows - 1) : 0;
   if (v->help_top > max_top) { /* scrolled past the end: draw again from the last full page */
      v->help_top = max_top;
      canvas_fill(c, 0, y, c->w, rows, role(v, THEME_PANE));
      help_lines(v, c, y + 1, rows - 1);
   }
}

/* The status line's hints: "key words" segments two spaces apart. */
typedef struct HintSeg {
   const char* p;
   size_t len;
   int w;
   bool skip;
} HintSeg;

static size_t hint_split(const char* h, HintSeg* seg, size_t max) {
   size_t n = 0;
   for (const char* p = h; *p && n < max;) {
      const char* sp = strstr(p, "  ");
      size_t len = sp ? (size_t)(sp - p) : strlen(p);
      seg[n++] = (HintSeg){.p = p, .len = len, .w = canvas_str_width(p, len)};
      p += len;
      while (*p == ' ') p++;
   }
   return n;
}

static void draw_status(View* v, Canvas* c) {
   int y = c->h - 1;
   Style ss = role(v, THEME_STATUS);
   canvas_fill(c, 0, y, c->w, 1, ss);
   if (v->prompting != PK_NONE) {
      char label[96];
      if (v->prompting == PK_SEND) {
         const ProcSlot* slot = slot_of(v, v->sel);
         snprintf(label, sizeof label, "send to %s: ", slot ? slot->name : "?");
      } else {
         snprintf(label, sizeof label, "%s", v->prompting == PK_SEARCH ? "/" : "filter: ");
      }
      int x = canvas_text(c, 0, y, c->w, label, strlen(label), role(v, THEME_PROMPT));
      int width = c->w - x - 1;
      Prompt* pr = v->prompting == PK_SEARCH ? v->search_prompt
                   : v->prompting == PK_SEND ? v->send_prompt
                                             : v->filter_prompt;
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
   if (v->input) {
      draw_input_status(v, c, y);
      return;
   }
   if (v->msg[0]) {
      canvas_text(c, 1, y, c->w - 1, v->msg, strlen(v->msg),
                  role(v, v->msg_error ? THEME_MESSAGE_ERROR : THEME_MESSAGE_INFO));
      return;
   }
   static const char* const hints[TAB_COUNT] = {
       "↵ start  x stop  r restart  i input  ^P find  / search  f filter  p errors  z zoom  Tab "
       "views  ? help  q quit",
       "/ search  f filter  g/G top/bottom  w wrap  t time  Tab views  ? help  q quit",
       "j/k select  ↵ jump to log  c copy  Tab views  ? help  q quit",
       "j/k select  ↵ open  c copy  Tab views  ? help  q quit",
       "j/k scroll  Tab views  Esc back  q quit",
   };
   const char* h = v->finder_open ? "↵ show  ^O start  ^P/^N move  Esc close"
                   : v->cm.on     ? copy_hint
                                  : hints[v->tab];
   /* whole hints only: when they do not fit, those before the last two (help, quit) go */
   HintSeg seg[24];
   size_t n = hint_split(h, seg, 24);
   int total = 0;
   for (size_t i = 0; i < n; i++) total += seg[i].w + 2;
   for (size_t i = n >= 2 ? n - 2 : 0; i-- > 0 && total > c->w - 1;) {
      total -= seg[i].w + 2;
      seg[i].skip = true;
   }
   /* keys in the accent colour, their words in the plain one */
   int x = 1;
   Style ks = role(v, THEME_STATUS_KEY);
   for (size_t i = 0; i < n && x < c->w; i++) {
      const char* p = seg[i].p;
      if (seg[i].skip) continue;
      const char* space = memchr(p, ' ', seg[i].len);
      size_t kl = space ? (size_t)(space - p) : seg[i].len;
      if (v->ascii && strncmp(p, "↵", 3) == 0) {
         x += canvas_text(c, x, y, c->w - x, "Enter", 5, ks);
      } else {
         x += canvas_text(c, x, y, c->w - x, p, kl, ks);
      }
      x += canvas_text(c, x, y, c->w - x, p + kl, seg[i].len - kl, ss);
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

unsigned running_count(const View* v) {
   const Registry* r = sup_registry(v->sup);
   unsigned n = 0;
   for (size_t i = 0; i < r->n; i++)
      if (snap_is_active(sup_snap(r->slots[i])->state)) n++;
   return n;
}

static void draw_frame(View* v, Canvas* c) {
   if (c->w != v->w || c->h != v->h) canvas_resize(c, v->w, v->h);
   term_frame(v);
   v->scr_w = 0; /* draw_pane sets them when it draws an emulated screen */
   v->cursor_x = v->cursor_y = -1;
   if (v->w < MIN_W || v->h < MIN_H) {
      canvas_fill(c, 0, 0, c->w, c->h, role(v, THEME_PANE));
      char buf[64];
      int n = snprintf(buf, sizeof buf, "terminal too small (%dx%d)", v->w, v->h);
      int n2 = snprintf(buf + n + 1, sizeof buf - (size_t)n - 1, "need %dx%d", MIN_W, MIN_H);
      canvas_text(c, 0, c->h / 2 - (c->h > 1), c->w, buf, (size_t)n, role(v, THEME_MESSAGE_ERROR));
      if (c->h > 1) canvas_text(c, 0, c->h / 2, c->w, buf + n + 1, (size_t)n2, role(v, THEME_PANE));
      return;
   }
   Totals tt;
   totals(v, &tt);
   draw_header(v, c, &tt);
   draw_tabs(v, c, &tt);
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
   case TAB_URLS:
      draw_items(v, c, body_y, body_h);
      break;
   case TAB_HELP:
      draw_help(v, c, body_y, body_h);
      break;
   case TAB_COUNT:
      break;
   }
   draw_status(v, c);
   if (v->finder_open) draw_finder(v, c);
   char d1[256], d2[96];
   if (res_dialog(v, d1, sizeof d1, d2, sizeof d2)) {
      draw_dialog(v, c, d1, d2);
   } else if (v->confirm_quit) {
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

void view_draw(View* v, Canvas* c) {
   frame_begin(v);
   draw_frame(v, c);
   frame_end(v);
}
