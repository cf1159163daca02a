/* Reading the terminal: curses keys and mouse events as brum's keys (VK_*) and, for a child in
 * input mode, as the TermKey its terminal would see (View.tkey); Esc-prefixed Alt keys, Alt-Enter,
 * and bursts of text told apart from typing (a paste). Main thread. */
#define _XOPEN_SOURCE_EXTENDED 1
#include <curses.h>
#include <stdint.h>

#include "core/rcu.h"
#include "core/util.h"
#include "tui/input.h"
#include "tui/termkey.h"
#include "tui/trace.h"
#include "tui/view_impl.h"

static int map_key(wint_t ch, int kind) {
   if (kind == KEY_CODE_YES) {
      switch (ch) {
      case KEY_UP:
         return VK_UP;
      case KEY_DOWN:
         return VK_DOWN;
      case KEY_LEFT:
         return VK_LEFT;
      case KEY_RIGHT:
         return VK_RIGHT;
      case KEY_HOME:
         return VK_HOME;
      case KEY_END:
         return VK_END;
      case KEY_PPAGE:
         return VK_PGUP;
      case KEY_NPAGE:
         return VK_PGDN;
      case KEY_BACKSPACE:
         return VK_BACKSPACE;
      case KEY_DC:
         return VK_DELETE;
      case KEY_ENTER:
         return VK_ENTER;
      case KEY_BTAB:
         return VK_BTAB;
      case KEY_F(1):
         return VK_F1;
      default:
         return -1;
      }
   }
   switch (ch) {
   case 27:
      return VK_ESC;
   case '\t':
      return VK_TAB;
   case '\r':
   case '\n':
      return VK_ENTER;
   case 127:
   case 8:
      return VK_BACKSPACE;
   default:
      return (int)ch;
   }
}

/* A mouse event as a brum key (its position in the view), -1: none of brum's. */
static int mouse_key(View* v, const MEVENT* me) {
   v->mouse_x = me->x;
   v->mouse_y = me->y;
   if (me->bstate & BUTTON4_PRESSED) return VK_WHEEL_UP;
   if (me->bstate & BUTTON5_PRESSED) return VK_WHEEL_DOWN;
   if (me->bstate & BUTTON1_RELEASED) return VK_RELEASE;
   if (me->bstate & (BUTTON1_PRESSED | BUTTON1_CLICKED)) return VK_CLICK;
   if (me->bstate & REPORT_MOUSE_POSITION) return VK_DRAG;
   return -1;
}

/* In input mode an Esc that curses returned with another key right behind it (within ESCDELAY:
 * the same burst) is Alt with that key, as terminals send it. */
static void alt_key(View* v, int* key) {
   wint_t ch;
   int kind = get_wch(&ch);
   if (kind == ERR) return;
   TermKey k;
   if (ch == 27 || !termkey_from_curses(ch, kind == KEY_CODE_YES, &k)) {
      if (kind == KEY_CODE_YES)
         ungetch((int)ch);
      else
         unget_wch((wchar_t)ch);
      return;
   }
   k.mods |= TERM_MOD_ALT;
   v->tkey = k;
   *key = VK_ALT;
}

/* Outside input mode, an Esc with an Enter right behind it (curses read it while it waited for
 * the rest of a sequence) is Alt-Enter, as many terminals send it (the finder: select and start).
 */
static void alt_enter(int* key) {
   wint_t ch;
   int kind = get_wch(&ch);
   if (kind == ERR) return;
   if (map_key(ch, kind) == VK_ENTER) {
      *key = VK_ALT_ENTER;
   } else if (kind == KEY_CODE_YES) {
      ungetch((int)ch);
   } else {
      unget_wch((wchar_t)ch);
   }
}

/* Text keys of one read of the terminal in input mode, held back to tell a paste from typing: at
 * least PASTE_MIN of them in a row (no person types that fast between two reads) go to the child
 * as one pasted text (bracketed when the child asked for it). */
#define PASTE_MIN 16
#define PASTE_MAX 1024
typedef struct Burst {
   int key[PASTE_MAX];
   TermKey tk[PASTE_MAX];
   size_t n;
} Burst;

static bool is_text(const View* v, const TermKey* k) {
   return v->input && !v->prefix_pending && v->prompting == PK_NONE && !v->confirm_quit &&
          ((k->code == TK_CHAR && !k->mods) || k->code == TK_ENTER || k->code == TK_TAB);
}

static bool dispatch(View* v, int key, const TermKey* k, uint64_t read_ns) {
   v->tkey = *k;
   rcu_read_lock();
   bool c = view_key(v, key);
   rcu_read_unlock();
   if (c) trace_key(read_ns);
   return c;
}

static bool flush_burst(View* v, Burst* b, uint64_t read_ns) {
   bool changed = false;
   if (b->n >= PASTE_MIN) {
      static char text[PASTE_MAX * 4];
      size_t len = 0;
      for (size_t i = 0; i < b->n; i++) {
         const TermKey* k = &b->tk[i];
         if (k->code == TK_CHAR)
            len += termkey_utf8(k->ch, text + len);
         else
            text[len++] = k->code == TK_ENTER ? '\r' : '\t';
      }
      rcu_read_lock();
      changed = view_paste(v, text, len);
      rcu_read_unlock();
   } else {
      for (size_t i = 0; i < b->n; i++) changed |= dispatch(v, b->key[i], &b->tk[i], read_ns);
   }
   b->n = 0;
   return changed;
}

/* One key (not the mouse) as a brum key and the child's TermKey (v->tkey); -1: none. */
static int read_key(View* v, wint_t ch, int kind) {
   v->tkey = (TermKey){.code = TK_NONE};
   if (kind == KEY_CODE_YES && ch == KEY_RESIZE) return -1; /* SIGWINCH is handled by the loop */
   int key = map_key(ch, kind);
   termkey_from_curses(ch, kind == KEY_CODE_YES, &v->tkey);
   if (key < 0 && v->input && v->tkey.code != TK_NONE) key = VK_OTHER;
   if (ch == 27 && kind != KEY_CODE_YES && v->input && !v->prefix_pending)
      alt_key(v, &key);
   else if (ch == 27 && kind != KEY_CODE_YES && !v->input)
      alt_enter(&key);
   return key;
}

bool input_read(View* v, uint64_t read_ns) {
   bool changed = false;
   static Burst burst;
   wint_t ch;
   int kind;
   while ((kind = get_wch(&ch)) != ERR) {
      if (kind == KEY_CODE_YES && ch == KEY_MOUSE) {
         /* Every event behind this KEY_MOUSE: when brum reads late (a busy frame), curses reads a
          * press with the reports behind it (motion, the release) and returns KEY_MOUSE once;
          * getmouse hands them out newest first, so they run in reverse. Taking only one lost
          * the press: a drag that did not select, a click that did not select. */
         MEVENT ev[8]; /* curses queues at most 8 */
         int n = 0;
         while (n < (int)ARRAY_LEN(ev) && getmouse(&ev[n]) == OK) n++;
         changed |= flush_burst(v, &burst, read_ns);
         while (n-- > 0) {
            int key = mouse_key(v, &ev[n]);
            if (key >= 0) changed |= dispatch(v, key, &(TermKey){.code = TK_NONE}, read_ns);
         }
         continue;
      }
      int key = read_key(v, ch, kind);
      if (key < 0) continue;
      if (is_text(v, &v->tkey)) {
         if (burst.n == PASTE_MAX) changed |= flush_burst(v, &burst, read_ns);
         burst.key[burst.n] = key;
         burst.tk[burst.n++] = v->tkey;
         continue;
      }
      TermKey k = v->tkey;
      changed |= flush_burst(v, &burst, read_ns);
      changed |= dispatch(v, key, &k, read_ns);
   }
   return changed | flush_burst(v, &burst, read_ns);
}
