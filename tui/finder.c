/* The process finder (Ctrl-P): a fuzzy search over every process's name, package and command,
 * ranked as fzf ranks (its v2 scoring: the best alignment of the query, with bonuses for word
 * starts and consecutive characters), drawn as an overlay over the current view.
 * At 100,000 processes a keystroke must not stall a frame: the haystacks (in both cases) are built
 * once per registry, a query that extends the previous one rescans only the previous matches, a
 * cheap subsequence test runs before the scoring, and the results are radix-sorted. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "tui/view_impl.h"

#define HAY_MAX 255 /* bytes of a haystack that are searched */

/* fzf's constants (src/algo/algo.go) */
enum {
   SCORE_MATCH = 16,
   GAP_START = -3,
   GAP_EXT = -1,
   BONUS_BOUNDARY = SCORE_MATCH / 2,
   BONUS_NONWORD = SCORE_MATCH / 2,
   BONUS_CAMEL = BONUS_BOUNDARY + GAP_EXT,
   BONUS_CONSECUTIVE = -(GAP_START + GAP_EXT),
   FIRST_MULT = 2,
   BONUS_WHITE = BONUS_BOUNDARY + 2,
   BONUS_DELIM = BONUS_BOUNDARY + 1,
   NAME_BONUS = 8192, /* a match in the name ranks before any in the package or command */
   NEG = -30000,
};

typedef enum CharClass {
   C_WHITE,
   C_NONWORD,
   C_DELIM,
   C_LOWER,
   C_UPPER,
   C_LETTER,
   C_NUMBER
} CharClass;

static CharClass char_class(unsigned char c) {
   if (c >= 'a' && c <= 'z') return C_LOWER;
   if (c >= 'A' && c <= 'Z') return C_UPPER;
   if (c >= '0' && c <= '9') return C_NUMBER;
   if (c == ' ' || c == '\t') return C_WHITE;
   if (c == '/' || c == ':' || c == ';' || c == ',' || c == '|') return C_DELIM;
   return c >= 0x80 ? C_LETTER : C_NONWORD;
}

/* The bonus of a match at a character of class `cur` after one of class `prev`. */
static int bonus_for(CharClass prev, CharClass cur) {
   if (cur > C_DELIM) {
      if (prev == C_WHITE) return BONUS_WHITE;
      if (prev == C_DELIM) return BONUS_DELIM;
      if (prev == C_NONWORD) return BONUS_BOUNDARY;
      if ((prev == C_LOWER && cur == C_UPPER) || (prev != C_NUMBER && cur == C_NUMBER))
         return BONUS_CAMEL;
      return 0;
   }
   return cur == C_WHITE ? BONUS_WHITE : BONUS_NONWORD;
}

static bool has_upper(const char* q, size_t n) {
   for (size_t i = 0; i < n; i++)
      if (q[i] >= 'A' && q[i] <= 'Z') return true;
   return false;
}

/* Is q a subsequence of t? *from: where its first character first occurs. */
static bool subsequence(const char* q, size_t qlen, const char* t, size_t len, size_t* from) {
   const char *p = t, *end = t + len;
   for (size_t i = 0; i < qlen; i++) {
      p = memchr(p, q[i], (size_t)(end - p));
      if (!p) return false;
      if (i == 0) *from = (size_t)(p - t);
      p++;
   }
   return true;
}

static int max3(int a, int b, int c) {
   int m = a > b ? a : b;
   return m > c ? m : c;
}

/* One row of the alignment (query character i over the text): m/r are the previous row's scores
 * and the bonuses of the chunks they end; the new row replaces them. par (NULL: not wanted) gets
 * each match's predecessor in the previous row. */
static void dp_row(const char* t, size_t len, char qc, const int8_t* bonus, int16_t* m, int8_t* r,
                   uint8_t* par) {
   int prev_m = NEG, prev_r = 0, gap = NEG; /* m[j-1], r[j-1], the best gapped predecessor */
   size_t gap_k = 0;                        /* where that predecessor is */
   for (size_t j = 0; j < len; j++) {
      int mj = m[j], rj = r[j], best = NEG, run = 0;
      size_t from = 0;
      if (t[j] == qc) {
         int b = bonus[j];
         if (prev_m > NEG) { /* consecutive: the chunk keeps its first bonus */
            int cb = max3(b, prev_r, BONUS_CONSECUTIVE);
            best = prev_m + SCORE_MATCH + cb;
            run = b >= BONUS_BOUNDARY && b > prev_r ? b : prev_r;
            from = j - 1;
         }
         if (gap > NEG && gap + SCORE_MATCH + b > best)
            best = gap + SCORE_MATCH + b, run = b, from = gap_k;
      }
      /* the gapped predecessor of j + 1: a match at k <= j - 1, then j - k characters skipped */
      gap = gap > NEG ? gap + GAP_EXT : NEG;
      if (prev_m > NEG && prev_m + GAP_START > gap) gap = prev_m + GAP_START, gap_k = j - 1;
      prev_m = mj, prev_r = rj;
      m[j] = (int16_t)best, r[j] = (int8_t)run;
      if (par) par[j] = (uint8_t)from;
   }
}

#define POS_MAX 32 /* the longest query whose matched characters are highlighted */

/* The score; with pos (qlen <= POS_MAX), the offset of each query character's match in text. */
static int score_dp(const char* query, size_t qlen, const char* text, const char* lower, size_t len,
                    uint8_t* pos) {
   if (len > HAY_MAX) len = HAY_MAX;
   const char* t = has_upper(query, qlen) ? text : lower;
   size_t from = 0;
   if (qlen == 0) return 0;
   if (qlen > len || !subsequence(query, qlen, t, len, &from)) return -1;
   /* as fzf: only from the first occurrence of the first character to the last of the last */
   while (t[len - 1] != query[qlen - 1]) len--;
   CharClass prev = from ? char_class((unsigned char)text[from - 1]) : C_WHITE;
   if (qlen == 1) { /* the best single occurrence: no alignment to find */
      int best = -1;
      for (size_t j = from; j < len; j++) {
         if (t[j] != query[0]) continue;
         CharClass pc = j ? char_class((unsigned char)text[j - 1]) : C_WHITE;
         int b = bonus_for(pc, char_class((unsigned char)text[j]));
         if (b > best) best = b, pos ? (void)(pos[0] = (uint8_t)j) : (void)0;
      }
      return SCORE_MATCH + best * FIRST_MULT;
   }
   text += from, t += from, len -= from;
   int8_t bonus[HAY_MAX], r[HAY_MAX];
   int16_t m[HAY_MAX];
   static _Thread_local uint8_t par[POS_MAX][HAY_MAX];
   for (size_t j = 0; j < len; j++) {
      CharClass cur = char_class((unsigned char)text[j]);
      bonus[j] = (int8_t)bonus_for(prev, cur);
      prev = cur;
   }
   for (size_t j = 0; j < len; j++) { /* the first character: no gap before it is counted */
      m[j] = (int16_t)(t[j] == query[0] ? SCORE_MATCH + bonus[j] * FIRST_MULT : NEG);
      r[j] = bonus[j];
   }
   for (size_t i = 1; i < qlen; i++) dp_row(t, len, query[i], bonus, m, r, pos ? par[i] : NULL);
   size_t end = 0;
   for (size_t j = 0; j < len; j++)
      if (m[j] > m[end]) end = j;
   int best = m[end];
   for (size_t i = qlen; pos && i-- > 0;) { /* back from the best end */
      pos[i] = (uint8_t)(end + from);
      if (i) end = par[i][end];
   }
   return best > 0 ? best : 0;
}

int fuzzy_score(const char* query, size_t qlen, const char* text, const char* lower, size_t len) {
   return score_dp(query, qlen, text, lower, len, NULL);
}

int fuzzy_positions(const char* query, size_t qlen, const char* text, const char* lower, size_t len,
                    uint8_t* pos) {
   return score_dp(query, qlen, text, lower, len, qlen <= POS_MAX ? pos : NULL);
}

/* ---------------------------------------------------------------- the finder's state */

typedef struct Finder {
   Prompt* prompt; /* owned */
   /* the haystacks: "name package command", once per registry and project */
   size_t nbuilt;
   const Script* built_for;
   char* text;     /* owned: every haystack, original case */
   char* lower;    /* owned: the same in lowercase */
   size_t* off;    /* owned: per process, where its haystack starts */
   uint16_t* len;  /* owned: its length (at most HAY_MAX) */
   uint16_t* nlen; /* owned: its name's length */
   /* the results of `query`, best first */
   char* query; /* owned */
   uint32_t* ids;
   uint64_t *keys, *tmp; /* owned: sort keys and the radix sort's buffer */
   size_t nids, cap, sel;
} Finder;

/* Appends s to the haystack at `at` (HAY_MAX bytes at most); returns the new end. */
static size_t put(char* hay, size_t at, const char* s) {
   size_t l = strlen(s);
   if (l > HAY_MAX - at) l = HAY_MAX - at;
   memcpy(hay + at, s, l);
   return at + l;
}

static void hay_build(View* v, Finder* f) {
   const Registry* r = sup_registry(v->sup);
   size_t n = r->n, size = 0, cap = n * 48 + HAY_MAX + 1;
   free(f->text), free(f->lower), free(f->off), free(f->len), free(f->nlen);
   f->text = xmalloc(cap);
   f->off = xcalloc(n + 1, sizeof *f->off);
   f->len = xcalloc(n + 1, sizeof *f->len);
   f->nlen = xcalloc(n + 1, sizeof *f->nlen);
   for (size_t i = 0; i < n; i++) {
      const char* name = r->slots[i]->name;
      const Script* s = v->prj && i < v->prj->nscripts ? &v->prj->scripts[i] : NULL;
      if (size + HAY_MAX + 1 > cap) f->text = xrealloc(f->text, cap *= 2);
      char* hay = f->text + size;
      /* "name package command"; the package unless the name says it already ("web:dev") */
      const char* pkg = s && s->package ? s->package : "";
      size_t pl = strlen(pkg);
      if (strncmp(name, pkg, pl) == 0 && name[pl] == ':') pkg = "";
      size_t nl = put(hay, 0, name), bl = nl;
      if (*pkg) bl = put(hay, put(hay, bl, " "), pkg);
      bl = put(hay, put(hay, bl, " "), s && s->command ? s->command : "");
      hay[bl] = '\0';
      f->off[i] = size;
      f->len[i] = (uint16_t)bl;
      f->nlen[i] = (uint16_t)nl;
      size += bl + 1;
   }
   f->lower = xmalloc(size + 1);
   for (size_t k = 0; k < size; k++) {
      char c = f->text[k];
      f->lower[k] = c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
   }
   f->nbuilt = n;
   f->built_for = v->prj ? v->prj->scripts : NULL;
   if (f->cap < n) {
      f->ids = xrealloc(f->ids, (n + 1) * sizeof *f->ids);
      f->keys = xrealloc(f->keys, (n + 1) * sizeof *f->keys);
      f->tmp = xrealloc(f->tmp, (n + 1) * sizeof *f->tmp);
      f->cap = n;
   }
   free(f->query);
   f->query = NULL; /* the old results may miss new processes: score them all again */
}

/* LSD radix sort of 64-bit keys, skipping the bytes where every key is the same. */
static void radix_sort(uint64_t* a, uint64_t* tmp, size_t n) {
   for (int shift = 0; shift < 64; shift += 8) {
      size_t count[257] = {0};
      for (size_t i = 0; i < n; i++) count[((a[i] >> shift) & 0xff) + 1]++;
      if (count[((a[0] >> shift) & 0xff) + 1] == n) continue;
      for (int b = 0; b < 256; b++) count[b + 1] += count[b];
      for (size_t i = 0; i < n; i++) tmp[count[(a[i] >> shift) & 0xff]++] = a[i];
      memcpy(a, tmp, n * sizeof *a);
   }
}

/* The score of process id: a match in its name first, else in the whole haystack. */
static int score_of(const Finder* f, uint32_t id, const char* q, size_t ql) {
   const char* t = f->text + f->off[id];
   const char* l = f->lower + f->off[id];
   int s = fuzzy_score(q, ql, t, l, f->nlen[id]);
   if (s >= 0) return s + NAME_BONUS;
   return fuzzy_score(q, ql, t, l, f->len[id]);
}

/* Scores the candidates (the previous matches when the query extends the previous one) and sorts
 * them: best score, then the shorter name, then the lower id. */
static void refilter(View* v, Finder* f) {
   const char* q = prompt_text(f->prompt);
   size_t ql = strlen(q);
   bool narrow = f->query && f->query[0] && strncmp(q, f->query, strlen(f->query)) == 0 &&
                 has_upper(q, ql) == has_upper(f->query, strlen(f->query));
   size_t n = narrow ? f->nids : f->nbuilt, out = 0;
   if (!ql) { /* no query: every process, in id order */
      for (size_t k = 0; k < f->nbuilt; k++) f->ids[k] = (uint32_t)k;
      n = 0, out = f->nbuilt;
   }
   for (size_t k = 0; k < n; k++) {
      uint32_t id = narrow ? f->ids[k] : (uint32_t)k;
      int s = ql ? score_of(f, id, q, ql) : 0;
      if (s < 0) continue;
      if (s > 0xffff) s = 0xffff;
      uint64_t len = ql ? f->nlen[id] : 0; /* no query: the processes in id order */
      f->keys[out++] = (uint64_t)(0xffff - s) << 48 | len << 32 | id;
   }
   if (ql && out > 1) radix_sort(f->keys, f->tmp, out);
   for (size_t k = 0; ql && k < out; k++) f->ids[k] = (uint32_t)f->keys[k];
   f->nids = out;
   f->sel = 0;
   free(f->query);
   f->query = xstrdup(q);
   (void)v;
}

void finder_open(View* v) {
   Finder* f = v->finder;
   if (!f) f = v->finder = xcalloc(1, sizeof *f), f->prompt = prompt_new(PROMPT_HISTORY_DEFAULT);
   if (f->nbuilt != nprocs(v) || f->built_for != (v->prj ? v->prj->scripts : NULL)) hay_build(v, f);
   prompt_reset(f->prompt, NULL);
   free(f->query);
   f->query = NULL;
   refilter(v, f);
   v->finder_open = true;
}

void finder_close(View* v) {
   v->finder_open = false;
}

void finder_free(View* v) {
   Finder* f = v->finder;
   if (!f) return;
   prompt_free(f->prompt);
   free(f->text), free(f->lower), free(f->off), free(f->len), free(f->nlen);
   free(f->query), free(f->ids), free(f->keys), free(f->tmp);
   free(f);
   v->finder = NULL;
}

void finder_set_query(View* v, const char* query) {
   if (!v->finder_open) finder_open(v);
   prompt_reset(v->finder->prompt, query);
   refilter(v, v->finder);
}

size_t finder_results(const View* v, const uint32_t** ids) {
   *ids = v->finder ? v->finder->ids : NULL;
   return v->finder ? v->finder->nids : 0;
}

/* Enter: the process's pane in the Processes view, its row shown; Ctrl-O also starts it. */
static void finder_pick(View* v, uint64_t id, bool start) {
   if (v->tab != TAB_PROCS) switch_tab(v, TAB_PROCS);
   sidebar_reveal(v, id);
   select_proc(v, id);
   if (!start) return;
   const ProcSnap* ps = sup_snap(slot_of(v, id));
   if (snap_is_active(ps->state) || ps->state == PROC_WAITING) {
      set_msg(v, false, "%s is already %s", slot_of(v, id)->name,
              ps->state == PROC_WAITING ? "waiting" : "running");
      return;
   }
   sup_start(v->sup, id);
   cur_scroll(v)->follow = true;
   set_msg(v, false, "starting %s", slot_of(v, id)->name);
}

bool finder_key(View* v, int key, int fk) {
   Finder* f = v->finder;
   if (f->nbuilt != nprocs(v)) hay_build(v, f), refilter(v, f); /* processes were added */
   switch (fk) {
   case FK_UP:
      if (f->sel > 0) f->sel--;
      return true;
   case FK_DOWN:
      if (f->sel + 1 < f->nids) f->sel++;
      return true;
   case FK_CLOSE:
      finder_close(v);
      return true;
   case FK_SELECT:
   case FK_START:
      if (!f->nids) return false;
      finder_close(v);
      finder_pick(v, f->ids[f->sel], fk == FK_START);
      return true;
   default: /* typing and editing: a PROMPT_KEY_*, or the character typed */
      if (prompt_key(f->prompt, fk == FK_TEXT ? key : fk) == PROMPT_EDITED) refilter(v, f);
      return true;
   }
}

/* ---------------------------------------------------------------- drawing */

/* Marks the matched characters of process id's haystack, drawn from column x. */
static void draw_matches(View* v, Canvas* c, uint32_t id, int x, int y, int end) {
   const Finder* f = v->finder;
   const char* q = f->query ? f->query : "";
   size_t ql = strlen(q);
   uint8_t pos[POS_MAX];
   if (!ql || ql > POS_MAX) return;
   const char *t = f->text + f->off[id], *l = f->lower + f->off[id];
   if (fuzzy_positions(q, ql, t, l, f->nlen[id], pos) < 0 &&
       fuzzy_positions(q, ql, t, l, f->len[id], pos) < 0)
      return;
   Style ms = role(v, THEME_MATCH);
   for (size_t i = 0; i < ql; i++) {
      int col = x + canvas_str_width(t, pos[i]);
      if (col >= end) continue;
      Cell* cell = canvas_at(c, col, y);
      cell->fg = ms.fg, cell->bg = ms.bg, cell->attr = ms.attr;
   }
}

static void draw_result(View* v, Canvas* c, uint32_t id, int x, int y, int w, Style base) {
   const Finder* f = v->finder;
   const ProcSlot* slot = slot_of(v, id);
   const ProcSnap* ps = sup_snap(slot);
   Style gs = role(v, state_role(ps->state));
   gs.bg = base.bg;
   const char* g = state_glyph(v, ps->state);
   int cx = x + canvas_text(c, x, y, 2, g, strlen(g), gs) + 1, name_x = cx;
   Style ns = base;
   ns.attr |= ATTR_BOLD;
   cx += canvas_text(c, cx, y, x + w - cx, slot->name, strlen(slot->name), ns);
   const char* rest = f->text + f->off[id] + f->nlen[id];
   Style rs = base;
   rs.attr |= ATTR_DIM;
   if (cx + 2 < x + w) canvas_text(c, cx, y, x + w - cx, rest, strlen(rest), rs); /* " pkg cmd" */
   draw_matches(v, c, id, name_x, y, x + w);
   if (proc_is_lifecycle(v, id) && !v->show_lifecycle && x + w - 11 > cx)
      canvas_text(c, x + w - 10, y, 10, "lifecycle", 9, rs);
}

void draw_finder(View* v, Canvas* c) {
   Finder* f = v->finder;
   int w = c->w - 8 > 100 ? 100 : c->w - 8, h = c->h - 4;
   int x = (c->w - w) / 2, y = 2;
   Style ds = role(v, THEME_DIALOG);
   canvas_fill(c, x, y, w, h, ds);
   int px = x + 1 + canvas_text(c, x + 1, y, 2, "> ", 2, ds);
   char count[48];
   int cl = snprintf(count, sizeof count, " %zu/%zu", f->nids, f->nbuilt);
   int width = x + w - cl - 1 - px;
   PromptView pv = prompt_view(f->prompt, width);
   const char* q = prompt_text(f->prompt);
   canvas_text(c, px, y, width, q + pv.start, pv.end - pv.start, role(v, THEME_PROMPT));
   Cell* cur = canvas_at(c, px + pv.cursor_col, y);
   Style cs = role(v, THEME_PROMPT_CURSOR);
   cur->fg = cs.fg, cur->bg = cs.bg, cur->attr = cs.attr;
   canvas_text(c, x + w - cl - 1, y, cl, count, (size_t)cl, ds);
   int rows = h - 2;
   int top = list_top(f->sel, rows);
   for (int r = 0; r < rows && (size_t)(top + r) < f->nids; r++) {
      size_t k = (size_t)(top + r);
      Style base = k == f->sel ? role(v, THEME_SELECTION) : ds;
      canvas_fill(c, x, y + 2 + r, w, 1, base);
      draw_result(v, c, f->ids[k], x + 1, y + 2 + r, w - 2, base);
   }
}
