/* A grid of styled character cells: what a frame draws, without curses, so layout and colouring
 * are unit-testable and the curses layer can write only the cells that changed. */
#ifndef BRUM_TUI_CANVAS_H
#define BRUM_TUI_CANVAS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/style.h"

typedef struct Cell {
   uint32_t ch; /* Unicode scalar; 0 in the right half of a wide character */
   uint32_t fg, bg;
   uint16_t attr;
   uint16_t wide; /* 2 for the left half of a wide character, else 1 (0 for the right half) */
} Cell;

typedef struct Canvas {
   int w, h;
   Cell* cells; /* owned, w*h */
} Canvas;

void canvas_resize(Canvas* c, int w, int h); /* clears */
void canvas_free(Canvas* c);
void canvas_fill(Canvas* c, int x, int y, int w, int h, Style st); /* spaces */
Cell* canvas_at(Canvas* c, int x, int y);

/* Decodes one UTF-8 character at s (n bytes available): returns bytes used (>= 1); an invalid
 * byte gives U+FFFD and 1. */
size_t canvas_utf8_decode(const char* s, size_t n, uint32_t* cp);
int canvas_cp_width(uint32_t cp); /* 0, 1 or 2 columns; control characters 0 */
/* Display width of a UTF-8 string (tabs count as 1 here; see canvas_text). */
int canvas_str_width(const char* s, size_t n);

/* Writes UTF-8 text from column x on row y, clipped to max_cols columns. Tabs expand to the next
 * multiple of 8 counted from `tab_origin` columns; control characters show as U+FFFD-free
 * placeholders ('^X' style is too wide, so '·'). Returns the columns used. */
int canvas_text(Canvas* c, int x, int y, int max_cols, const char* s, size_t n, Style st);
/* printf-style, same clipping. */
int canvas_printf(Canvas* c, int x, int y, int max_cols, Style st, const char* fmt, ...)
    __attribute__((format(printf, 6, 7)));
/* The row as plain UTF-8 (for tests): into buf, trailing spaces trimmed. */
void canvas_row_text(const Canvas* c, int y, char* buf, size_t size);

#endif
