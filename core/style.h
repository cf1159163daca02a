/* Colours and attributes of output text, as parsed from SGR sequences. */
#ifndef BRUM_CORE_STYLE_H
#define BRUM_CORE_STYLE_H

#include <stdint.h>

/* A colour in one 32-bit word: the top byte says which kind. */
#define COLOR_DEFAULT 0u
#define COLOR_KIND(c) ((c) >> 24)
#define COLOR_KIND_INDEX 1u /* low byte: 0-15 ANSI, 16-255 xterm palette */
#define COLOR_KIND_RGB 2u   /* low 24 bits: 0xRRGGBB */
#define COLOR_INDEX(n) ((COLOR_KIND_INDEX << 24) | ((uint32_t)(n)&0xffu))
#define COLOR_RGB(r, g, b)                                                                         \
   ((COLOR_KIND_RGB << 24) | (((uint32_t)(r)&0xffu) << 16) | (((uint32_t)(g)&0xffu) << 8) |        \
    ((uint32_t)(b)&0xffu))

enum {
   ATTR_BOLD = 1u << 0,
   ATTR_DIM = 1u << 1,
   ATTR_ITALIC = 1u << 2,
   ATTR_UNDERLINE = 1u << 3,
   ATTR_BLINK = 1u << 4,
   ATTR_REVERSE = 1u << 5,
   ATTR_STRIKE = 1u << 6,
};

typedef struct Style {
   uint32_t fg, bg;
   uint16_t attr;
} Style;

/* From byte offset `start` of a line up to the next run's start (or the line end) the text has
 * this style. Runs are sorted by start; a line without runs is all default. 16 bytes. */
typedef struct StyleRun {
   uint32_t start;
   uint32_t fg, bg;
   uint16_t attr;
   uint16_t pad;
} StyleRun;

#endif
