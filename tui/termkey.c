/* Curses keys to TermKeys. Only the main thread calls these (they read curses' key table). */
#define _XOPEN_SOURCE_EXTENDED 1
#include "tui/termkey.h"

#include <curses.h>
#include <stdio.h>
#include <string.h>
/* last: its capability macros would clash with the headers above */
#include <term.h>

/* Codes curses assigned to terminfo's extended key names (kUP5 ...): the table termkey_init
 * fills; a few dozen at most. */
typedef struct ExtKey {
   int code;
   TermKeyCode key;
   uint8_t mods;
} ExtKey;
static ExtKey ext[128];
static size_t next;

void termkey_define(int code, TermKeyCode key, uint8_t mods) {
   for (size_t i = 0; i < next; i++)
      if (ext[i].code == code) return;
   if (next < sizeof ext / sizeof *ext) ext[next++] = (ExtKey){code, key, mods};
}

void termkey_init(void) {
   static const struct {
      const char* name;
      TermKeyCode key;
   } names[] = {{"kUP", TK_UP},    {"kDN", TK_DOWN}, {"kLFT", TK_LEFT},   {"kRIT", TK_RIGHT},
                {"kHOM", TK_HOME}, {"kEND", TK_END}, {"kPRV", TK_PAGEUP}, {"kNXT", TK_PAGEDOWN},
                {"kDC", TK_DEL},   {"kIC", TK_INS}};
   /* xterm's modifier parameter m is 1 + shift + 2 alt + 4 ctrl: TERM_MOD_* is m - 1. kUP and
    * kDN alone are Shift-Up/Down (the others without a digit are standard capabilities). */
   for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
      for (int m = 2; m <= 8; m++) {
         char cap[16];
         if (m == 2)
            snprintf(cap, sizeof cap, "%s", names[i].name);
         else
            snprintf(cap, sizeof cap, "%s%d", names[i].name, m);
         const char* s = tigetstr(cap);
         if (!s || s == (char*)-1) continue;
         int code = key_defined(s);
         if (code > 0) termkey_define(code, names[i].key, (uint8_t)(m - 1));
      }
   }
}

/* The standard KEY_* codes; shifted ones carry TERM_MOD_SHIFT. */
static bool from_code(int ch, TermKey* k) {
   static const struct {
      int code;
      TermKeyCode key;
      uint8_t mods;
   } map[] = {
       {KEY_UP, TK_UP, 0},
       {KEY_DOWN, TK_DOWN, 0},
       {KEY_LEFT, TK_LEFT, 0},
       {KEY_RIGHT, TK_RIGHT, 0},
       {KEY_HOME, TK_HOME, 0},
       {KEY_END, TK_END, 0},
       {KEY_PPAGE, TK_PAGEUP, 0},
       {KEY_NPAGE, TK_PAGEDOWN, 0},
       {KEY_IC, TK_INS, 0},
       {KEY_DC, TK_DEL, 0},
       {KEY_BACKSPACE, TK_BACKSPACE, 0},
       {KEY_ENTER, TK_ENTER, 0},
       {KEY_BTAB, TK_TAB, TERM_MOD_SHIFT},
       {KEY_SR, TK_UP, TERM_MOD_SHIFT},
       {KEY_SF, TK_DOWN, TERM_MOD_SHIFT},
       {KEY_SLEFT, TK_LEFT, TERM_MOD_SHIFT},
       {KEY_SRIGHT, TK_RIGHT, TERM_MOD_SHIFT},
       {KEY_SHOME, TK_HOME, TERM_MOD_SHIFT},
       {KEY_SEND, TK_END, TERM_MOD_SHIFT},
       {KEY_SDC, TK_DEL, TERM_MOD_SHIFT},
       {KEY_SIC, TK_INS, TERM_MOD_SHIFT},
       {KEY_SPREVIOUS, TK_PAGEUP, TERM_MOD_SHIFT},
       {KEY_SNEXT, TK_PAGEDOWN, TERM_MOD_SHIFT},
   };
   for (size_t i = 0; i < sizeof map / sizeof *map; i++) {
      if (map[i].code != ch) continue;
      k->code = map[i].key;
      k->mods = map[i].mods;
      return true;
   }
   /* F1-F12; xterm's terminfo gives Shift-F1..F12 as F13..F24, Ctrl-F1.. as F25.. */
   if (ch >= KEY_F(1) && ch <= KEY_F(48)) {
      int n = ch - KEY_F(1);
      static const uint8_t mods[] = {0, TERM_MOD_SHIFT, TERM_MOD_CTRL,
                                     TERM_MOD_CTRL | TERM_MOD_SHIFT};
      k->code = (TermKeyCode)(TK_F1 + n % 12);
      k->mods = mods[n / 12];
      return true;
   }
   for (size_t i = 0; i < next; i++) {
      if (ext[i].code != ch) continue;
      k->code = ext[i].key;
      k->mods = ext[i].mods;
      return true;
   }
   return false;
}

bool termkey_from_curses(wint_t ch, bool is_code, TermKey* out) {
   TermKey k = {.code = TK_NONE};
   if (is_code) {
      if (!from_code((int)ch, &k)) return false;
   } else if (ch == '\r' || ch == '\n') {
      k.code = TK_ENTER;
   } else if (ch == '\t') {
      k.code = TK_TAB;
   } else if (ch == 127 || ch == 8) {
      k.code = TK_BACKSPACE;
   } else if (ch == 27) {
      k.code = TK_ESCAPE;
   } else if (ch == 0) { /* Ctrl-Space and Ctrl-@ */
      k = (TermKey){.code = TK_CHAR, .ch = ' ', .mods = TERM_MOD_CTRL};
   } else if (ch < 0x20) { /* Ctrl-A..Z, Ctrl-\ ] ^ _ */
      uint32_t c = (uint32_t)ch + '@';
      k = (TermKey){
          .code = TK_CHAR, .ch = c >= 'A' && c <= 'Z' ? c + 32 : c, .mods = TERM_MOD_CTRL};
   } else if (ch >= 0x80 && ch < 0xa0) {
      return false; /* C1 controls are no key */
   } else if (ch < 0x110000) {
      k = (TermKey){.code = TK_CHAR, .ch = (uint32_t)ch};
   } else {
      return false;
   }
   *out = k;
   return true;
}

size_t termkey_utf8(uint32_t cp, char* out) {
   if (cp > 0x10ffff || (cp >= 0xd800 && cp < 0xe000)) cp = 0xfffd;
   if (cp < 0x80) {
      out[0] = (char)cp;
      return 1;
   }
   if (cp < 0x800) {
      out[0] = (char)(0xc0 | cp >> 6);
      out[1] = (char)(0x80 | (cp & 0x3f));
      return 2;
   }
   if (cp < 0x10000) {
      out[0] = (char)(0xe0 | cp >> 12);
      out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
      out[2] = (char)(0x80 | (cp & 0x3f));
      return 3;
   }
   out[0] = (char)(0xf0 | cp >> 18);
   out[1] = (char)(0x80 | (cp >> 12 & 0x3f));
   out[2] = (char)(0x80 | (cp >> 6 & 0x3f));
   out[3] = (char)(0x80 | (cp & 0x3f));
   return 4;
}
