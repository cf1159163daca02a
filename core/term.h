/* Terminal mode (issue: keys into children, full-screen programs): what travels from the UI to a
 * child's terminal, and the emulated screen the UI draws while one is needed.
 *
 * The line store stays the truth for filtering, search, detection and headless mode. A libvterm
 * emulator per process (core/term.c) exists only while needed: the UI wants the screen (input
 * mode, or the pane shows a child on the alternate screen), the child is on the alternate screen,
 * or the process is configured interactive. The supervisor thread owns it, feeds it, encodes keys
 * with it, and publishes an immutable TermScreen (RCU) that the frame reads. */
#ifndef BRUM_CORE_TERM_H
#define BRUM_CORE_TERM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/rcu.h"

/* ---- input: one key, text character or mouse event for a child */
typedef enum TermKeyCode {
   TK_NONE = 0,
   TK_CHAR, /* `ch`: a Unicode code point (with TERM_MOD_CTRL: Ctrl-<ch>, e.g. 'c') */
   TK_ENTER,
   TK_TAB,
   TK_BACKSPACE,
   TK_ESCAPE,
   TK_UP,
   TK_DOWN,
   TK_LEFT,
   TK_RIGHT,
   TK_INS,
   TK_DEL,
   TK_HOME,
   TK_END,
   TK_PAGEUP,
   TK_PAGEDOWN,
   TK_F1, /* TK_F1 + n - 1 for Fn, n = 1..12 */
   TK_F12 = TK_F1 + 11,
   TK_MOUSE, /* x, y (0-based, in the child's screen), button (1 left, 2 middle, 3 right, 4/5
                wheel up/down), press (false: release); forwarded only while the child enabled
                mouse reporting */
} TermKeyCode;

enum { TERM_MOD_SHIFT = 1, TERM_MOD_ALT = 2, TERM_MOD_CTRL = 4 };

typedef struct TermKey {
   TermKeyCode code;
   uint32_t ch;    /* TK_CHAR */
   uint8_t mods;   /* TERM_MOD_* */
   uint8_t button; /* TK_MOUSE */
   bool press;     /* TK_MOUSE */
   int16_t x, y;   /* TK_MOUSE */
} TermKey;

/* ---- the child's terminal modes, as tracked from its output (ProcSnap.term_modes) */
enum {
   TERM_MODE_ALTSCREEN = 1, /* ESC[?1049h / ?1047h / ?47h: a full-screen program is drawing */
   TERM_MODE_APPCURSOR = 2, /* ESC[?1h: arrows send ESC O A */
   TERM_MODE_PASTE = 4,     /* ESC[?2004h: bracketed paste */
   TERM_MODE_MOUSE = 8,     /* ESC[?1000h / 1002h / 1003h: mouse reporting */
   TERM_MODE_MOUSE_SGR = 16 /* ESC[?1006h: SGR mouse encoding */
};

/* Encodes a key for a child without an emulator (the fallback of core/term.c, and unit-tested
 * on its own): xterm sequences honouring TERM_MODE_APPCURSOR, UTF-8 for text, ESC-prefix for Alt,
 * C0 for Ctrl-letter, SGR or X10 mouse reports per `modes`. Returns the bytes written to out
 * (at most `size`; 0 when the key has no encoding, e.g. a mouse event without mouse mode). */
size_t term_encode_key(const TermKey* k, unsigned modes, char* out, size_t size);

/* ---- output: the emulated screen, published by the supervisor (ProcSlot.screen) */
typedef struct TermCell {
   uint32_t ch;     /* Unicode scalar (first of its combining sequence); 0: empty (a space); for the
                       right half of a wide character, 0 with width 0 */
   uint32_t fg, bg; /* core/style.h colours (COLOR_DEFAULT, COLOR_INDEX, COLOR_RGB) */
   uint16_t attr;   /* ATTR_* */
   uint8_t width;   /* 1, 2 (left half of a wide character) or 0 (right half) */
   uint8_t pad;
} TermCell;

typedef struct TermScreen {
   uint64_t seq; /* 1, 2, ...: a newer screen of the same process has a higher one */
   uint16_t cols, rows;
   uint16_t cur_row, cur_col;
   bool cursor_visible;
   bool altscreen; /* the child is on the alternate screen */
   struct rcu_head rcu;
   TermCell cells[]; /* rows * cols, row-major */
} TermScreen;

#endif
