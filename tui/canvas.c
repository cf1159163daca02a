#include "tui/canvas.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "core/util.h"

void canvas_resize(Canvas* c, int w, int h) {
   if (w < 0) w = 0;
   if (h < 0) h = 0;
   if (w != c->w || h != c->h) {
      free(c->cells);
      c->cells = xcalloc((size_t)w * (size_t)h + 1, sizeof(Cell));
      c->w = w;
      c->h = h;
   }
   canvas_fill(c, 0, 0, w, h, (Style){0});
}

void canvas_free(Canvas* c) {
   free(c->cells);
   c->cells = NULL;
   c->w = c->h = 0;
}

Cell* canvas_at(Canvas* c, int x, int y) {
   return &c->cells[(size_t)y * (size_t)c->w + (size_t)x];
}

void canvas_fill(Canvas* c, int x, int y, int w, int h, Style st) {
   Cell blank = {.ch = ' ', .fg = st.fg, .bg = st.bg, .attr = st.attr, .wide = 1};
   for (int r = y; r < y + h && r < c->h; r++) {
      if (r < 0) continue;
      for (int col = x; col < x + w && col < c->w; col++)
         if (col >= 0) *canvas_at(c, col, r) = blank;
   }
}

size_t canvas_utf8_decode(const char* s, size_t n, uint32_t* cp) {
   return util_utf8_decode(s, n, cp);
}

int canvas_cp_width(uint32_t cp) {
   if (cp < 0x20 || cp == 0x7f) return 0;
   if (cp < 0x7f) return 1;
   int w = wcwidth((wchar_t)cp);
   return w < 0 ? 1 : w; /* unknown to the locale: assume one column, as terminals do */
}

int canvas_str_width(const char* s, size_t n) {
   int w = 0;
   for (size_t i = 0; i < n;) {
      uint32_t cp;
      i += canvas_utf8_decode(s + i, n - i, &cp);
      w += cp == '\t' ? 1 : canvas_cp_width(cp);
   }
   return w;
}

int canvas_text(Canvas* c, int x, int y, int max_cols, const char* s, size_t n, Style st) {
   if (y < 0 || y >= c->h) return 0;
   if (x + max_cols > c->w) max_cols = c->w - x;
   int col = 0;
   for (size_t i = 0; i < n && col < max_cols;) {
      uint32_t cp;
      i += canvas_utf8_decode(s + i, n - i, &cp);
      if (cp == '\t') {
         int to = (col / 8 + 1) * 8;
         while (col < to && col < max_cols) {
            *canvas_at(c, x + col, y) =
                (Cell){.ch = ' ', .fg = st.fg, .bg = st.bg, .attr = st.attr, .wide = 1};
            col++;
         }
         continue;
      }
      int w = canvas_cp_width(cp);
      if (util_is_control(cp))
         cp = 0xb7, w = 1; /* a control character: a middle dot (as util_sanitize) */
      else if (w == 0)
         continue; /* combining marks are dropped (one cell per scalar keeps diffing simple) */
      if (col + w > max_cols) break;
      *canvas_at(c, x + col, y) =
          (Cell){.ch = cp, .fg = st.fg, .bg = st.bg, .attr = st.attr, .wide = (uint16_t)w};
      if (w == 2)
         *canvas_at(c, x + col + 1, y) =
             (Cell){.ch = 0, .fg = st.fg, .bg = st.bg, .attr = st.attr, .wide = 0};
      col += w;
   }
   return col;
}

int canvas_printf(Canvas* c, int x, int y, int max_cols, Style st, const char* fmt, ...) {
   char buf[1024];
   va_list ap;
   va_start(ap, fmt);
   int n = vsnprintf(buf, sizeof buf, fmt, ap);
   va_end(ap);
   if (n < 0) return 0;
   if ((size_t)n >= sizeof buf) n = sizeof buf - 1;
   return canvas_text(c, x, y, max_cols, buf, (size_t)n, st);
}

static size_t utf8_encode(uint32_t cp, char* out) {
   if (cp < 0x80) return out[0] = (char)cp, 1;
   if (cp < 0x800) {
      out[0] = (char)(0xc0 | (cp >> 6));
      out[1] = (char)(0x80 | (cp & 0x3f));
      return 2;
   }
   if (cp < 0x10000) {
      out[0] = (char)(0xe0 | (cp >> 12));
      out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
      out[2] = (char)(0x80 | (cp & 0x3f));
      return 3;
   }
   out[0] = (char)(0xf0 | (cp >> 18));
   out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
   out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
   out[3] = (char)(0x80 | (cp & 0x3f));
   return 4;
}

void canvas_row_text(const Canvas* c, int y, char* buf, size_t size) {
   size_t o = 0;
   for (int x = 0; x < c->w && y >= 0 && y < c->h; x++) {
      const Cell* cell = &c->cells[(size_t)y * (size_t)c->w + (size_t)x];
      if (cell->wide == 0) continue;
      char tmp[4];
      size_t k = utf8_encode(cell->ch, tmp);
      if (o + k + 1 >= size) break;
      memcpy(buf + o, tmp, k);
      o += k;
   }
   while (o > 0 && buf[o - 1] == ' ') o--;
   if (size) buf[o] = '\0';
}
