/* Curses keys as a child's terminal sees them (input mode): KEY_* codes, control characters,
 * text and the modified keys that terminfo names (kUP5: Ctrl-Up) become TermKeys. */
#ifndef BRUM_TUI_TERMKEY_H
#define BRUM_TUI_TERMKEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <wchar.h>

#include "core/term.h"

/* One get_wch result (`is_code`: it returned KEY_CODE_YES) as a TermKey; false when it has none
 * (KEY_MOUSE, KEY_RESIZE, an unknown code). */
bool termkey_from_curses(wint_t ch, bool is_code, TermKey* out);
/* Learns the codes curses gives the modified arrows and editing keys of this terminal (kUP5,
 * kLFT3, ...: Ctrl-Up, Alt-Left, ...) from terminfo. After initscr; without it they are unknown
 * codes. */
void termkey_init(void);
/* `cp` as UTF-8 into out (4 bytes room); returns the bytes (U+FFFD for a non-character). */
size_t termkey_utf8(uint32_t cp, char* out);
/* Adds one such code (termkey_init's work; tests call it directly). */
void termkey_define(int code, TermKeyCode key, uint8_t mods);

#endif
