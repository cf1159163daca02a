/* The terminal side of themes: colours mapped to what the terminal has, and curses colour pairs
 * (allocated on first use, cached). */
#include <stdbool.h>
#include <stdlib.h>

#include "core/util.h"
#include "tui/theme.h"

#ifndef NCURSES_WIDECHAR
#define NCURSES_WIDECHAR 1
#endif
#include <curses.h>

/* ---- colours ---- */

/* xterm's default colours 0-15; terminals differ, so RGB never maps onto these. */
static const uint32_t ansi_rgb[16] = {
    0x000000, 0xcd0000, 0x00cd00, 0xcdcd00, 0x0000ee, 0xcd00cd, 0x00cdcd, 0xe5e5e5,
    0x7f7f7f, 0xff0000, 0x00ff00, 0xffff00, 0x5c5cff, 0xff00ff, 0x00ffff, 0xffffff,
};
static const uint8_t cube6[6] = {0, 95, 135, 175, 215, 255};
static const uint8_t cube4[4] = {0, 139, 205, 255};                      /* xterm-88 */
static const uint8_t gray88[8] = {46, 92, 115, 139, 162, 185, 208, 231}; /* xterm-88 */

uint32_t theme_xterm_rgb(int i) {
   if (i < 0 || i > 255) return 0;
   if (i < 16) return ansi_rgb[i];
   if (i < 232) {
      i -= 16;
      return (uint32_t)cube6[i / 36] << 16 | (uint32_t)cube6[i / 6 % 6] << 8 | cube6[i % 6];
   }
   uint32_t v = 8 + 10 * (uint32_t)(i - 232);
   return v << 16 | v << 8 | v;
}

static uint32_t xterm88_rgb(int i) {
   if (i < 16) return ansi_rgb[i];
   if (i < 80) {
      i -= 16;
      return (uint32_t)cube4[i / 16] << 16 | (uint32_t)cube4[i / 4 % 4] << 8 | cube4[i % 4];
   }
   uint32_t v = gray88[(i - 80) & 7];
   return v << 16 | v << 8 | v;
}

static int rgb_dist(uint32_t a, uint32_t b) {
   int dr = (int)(a >> 16 & 0xff) - (int)(b >> 16 & 0xff);
   int dg = (int)(a >> 8 & 0xff) - (int)(b >> 8 & 0xff);
   int db = (int)(a & 0xff) - (int)(b & 0xff);
   return dr * dr + dg * dg + db * db;
}

static int nearest(uint32_t rgb, int from, int to, uint32_t (*palette)(int)) {
   int best = from, best_d = rgb_dist(rgb, palette(from));
   for (int i = from + 1; i <= to && best_d > 0; i++) {
      int d = rgb_dist(rgb, palette(i));
      if (d < best_d) best = i, best_d = d;
   }
   return best;
}

/* 256 to 16 keeps the hue: the nearest colour by distance would turn dark blues black. A channel
 * counts when it is over half the strongest one; the strongest decides bright or not. */
static int to16(int i) {
   if (i < 16) return i;
   if (i >= 232) {
      int v = 8 + 10 * (i - 232);
      return v < 40 ? 0 : v < 120 ? 8 : v < 210 ? 7 : 15;
   }
   i -= 16;
   int r = i / 36, g = i / 6 % 6, b = i % 6;
   int m = r > g ? (r > b ? r : b) : (g > b ? g : b);
   if (m == 0) return 0;
   if (r == g && g == b) return m <= 2 ? 8 : m <= 4 ? 7 : 15;
   int hue = (2 * r > m ? 1 : 0) | (2 * g > m ? 2 : 0) | (2 * b > m ? 4 : 0);
   return hue + (m >= 4 ? 8 : 0);
}

int theme_color_to_term(uint32_t color, int ncolors) {
   if (ncolors < 8 || color == COLOR_DEFAULT) return -1;
   bool rgb = COLOR_KIND(color) == COLOR_KIND_RGB;
   if (!rgb && COLOR_KIND(color) != COLOR_KIND_INDEX) return -1;
   if (ncolors >= (1 << 24)) { /* direct colour: below 8 the terminal's own ANSI colours */
      uint32_t v = rgb ? color & 0xffffffu : theme_xterm_rgb((int)(color & 0xff));
      if (!rgb && (color & 0xff) < 8) return (int)(color & 0xff);
      return v < 8 ? 8 : (int)v;
   }
   int idx = rgb ? nearest(color & 0xffffffu, 16, 255, theme_xterm_rgb) : (int)(color & 0xff);
   if (ncolors >= 256) return idx;
   if (ncolors >= 88) {
      if (idx < 16) return idx;
      return nearest(rgb ? color & 0xffffffu : theme_xterm_rgb(idx), 16, 87, xterm88_rgb);
   }
   return ncolors >= 16 ? to16(idx) : to16(idx) & 7;
}

/* ---- curses ---- */

#define PAIR_CAP 4096   /* pairs we allocate at most, whatever COLOR_PAIRS says */
#define PAIR_SLOTS 8192 /* open addressing, twice PAIR_CAP */
#define MEMO_SLOTS 1024 /* direct-mapped: a Style's colours to a pair, overwritten on collision */

typedef struct PairSlot {
   int fg, bg, pair; /* pair 0: empty */
} PairSlot;

typedef struct MemoSlot {
   uint32_t fg, bg;
   unsigned gen;
   int pair;
   bool bold; /* bright foreground on an 8-colour terminal */
} MemoSlot;

static struct {
   unsigned gen;        /* bumped by theme_curses_init: older caches are stale */
   int ncolors;         /* 0: no colours */
   int max_pairs;       /* allocatable pairs */
   bool default_colors; /* use_default_colors worked: -1 is the terminal's own colour */
   int npairs;
   PairSlot* slots; /* owned */
   int* pair_fg;    /* owned; by pair number, for the nearest-pair fallback */
   int* pair_bg;    /* owned */
   MemoSlot memo[MEMO_SLOTS];
} cs;

int theme_curses_init(void) {
   cs.gen++;
   if (cs.gen == 0) cs.gen = 1; /* 0 means "never cached" */
   cs.npairs = 0;
   free(cs.slots);
   free(cs.pair_fg);
   free(cs.pair_bg);
   cs.slots = NULL;
   cs.pair_fg = cs.pair_bg = NULL;
   cs.ncolors = 0;
   if (!has_colors() || start_color() == ERR) return 0;
   cs.default_colors = use_default_colors() == OK;
   cs.ncolors = COLORS;
#if !NCURSES_EXT_COLORS
   if (cs.ncolors > 256) cs.ncolors = 256; /* init_pair takes shorts */
#endif
   cs.max_pairs = COLOR_PAIRS - 1 < PAIR_CAP ? COLOR_PAIRS - 1 : PAIR_CAP;
   if (cs.max_pairs < 0) cs.max_pairs = 0;
   cs.slots = xcalloc(PAIR_SLOTS, sizeof *cs.slots);
   cs.pair_fg = xcalloc((size_t)cs.max_pairs + 1, sizeof *cs.pair_fg);
   cs.pair_bg = xcalloc((size_t)cs.max_pairs + 1, sizeof *cs.pair_bg);
   return cs.ncolors;
}

static uint32_t term_rgb(int c, bool fg) {
   if (c < 0) return fg ? 0xc0c0c0 : 0x000000; /* a guess at the terminal's default colours */
   if (c < 256) return theme_xterm_rgb(c);
   if (cs.ncolors == 88) return xterm88_rgb(c);
   return (uint32_t)c & 0xffffff;
}

static int pair_for(int fg, int bg) {
   if (!cs.default_colors) { /* pair 0 is white on black then */
      if (fg < 0) fg = COLOR_WHITE;
      if (bg < 0) bg = COLOR_BLACK;
      if (fg == COLOR_WHITE && bg == COLOR_BLACK) return 0;
   } else if (fg < 0 && bg < 0) {
      return 0;
   }
   uint32_t h = ((uint32_t)fg * 2654435761u) ^ ((uint32_t)bg * 40503u);
   size_t i = h & (PAIR_SLOTS - 1);
   for (; cs.slots[i].pair; i = (i + 1) & (PAIR_SLOTS - 1))
      if (cs.slots[i].fg == fg && cs.slots[i].bg == bg) return cs.slots[i].pair;
   if (cs.npairs < cs.max_pairs) {
      int pair = cs.npairs + 1;
#if NCURSES_EXT_COLORS
      int ok = init_extended_pair(pair, fg, bg);
#else
      int ok = init_pair((short)pair, (short)fg, (short)bg);
#endif
      if (ok == ERR) return 0;
      cs.npairs = pair;
      cs.slots[i] = (PairSlot){fg, bg, pair};
      cs.pair_fg[pair] = fg;
      cs.pair_bg[pair] = bg;
      return pair;
   }
   /* out of pairs: the allocated pair whose colours look closest */
   int best = 0;
   long best_d = -1;
   for (int p = 1; p <= cs.npairs; p++) {
      long d = rgb_dist(term_rgb(fg, true), term_rgb(cs.pair_fg[p], true)) +
               (long)rgb_dist(term_rgb(bg, false), term_rgb(cs.pair_bg[p], false));
      if (best_d < 0 || d < best_d) best = p, best_d = d;
   }
   return best;
}

static unsigned long curses_attrs(uint16_t a) {
   unsigned long r = A_NORMAL;
   if (a & ATTR_BOLD) r |= A_BOLD;
   if (a & ATTR_DIM) r |= A_DIM;
   if (a & ATTR_ITALIC) r |= A_ITALIC;
   if (a & ATTR_UNDERLINE) r |= A_UNDERLINE;
   if (a & ATTR_BLINK) r |= A_BLINK;
   if (a & ATTR_REVERSE) r |= A_REVERSE;
   return r;
}

ThemeCurses theme_curses_style(const Style* s) {
   ThemeCurses c = {curses_attrs(s->attr), 0};
   if (cs.ncolors == 0 || (s->fg == COLOR_DEFAULT && s->bg == COLOR_DEFAULT)) return c;
   MemoSlot* m = &cs.memo[((s->fg * 2654435761u) ^ (s->bg * 2246822519u)) % MEMO_SLOTS];
   if (m->gen != cs.gen || m->fg != s->fg || m->bg != s->bg) {
      int fg = theme_color_to_term(s->fg, cs.ncolors);
      int bg = theme_color_to_term(s->bg, cs.ncolors);
      bool bold = cs.ncolors < 16 && theme_color_to_term(s->fg, 16) >= 8;
      *m = (MemoSlot){s->fg, s->bg, cs.gen, pair_for(fg, bg), bold};
   }
   c.pair = m->pair;
   if (m->bold) c.attr |= A_BOLD;
   return c;
}

ThemeCurses theme_curses_role(Theme* t, ThemeRole r) {
   Style s = theme_role(t, r);
   return theme_curses_style(&s); /* memoized there */
}
