/* Terminal mode in the UI: curses keys as TermKeys, the prefix key, an emulated screen drawn into
 * the canvas, and input mode's keys (sup_key, sup_input_line, sup_term_want and sup_screen are
 * wrapped: tests/CMakeLists.txt). */
#define _XOPEN_SOURCE_EXTENDED 1
#include <criterion/criterion.h>
#include <errno.h>
#include <curses.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/rcu.h"
#include "tui/termkey.h"
#include "tui/view.h"

/* ---------------------------------------------------------------- the wrapped supervisor calls */

void __real_sup_key(Sup* s, uint64_t id, const TermKey* k);
void __wrap_sup_key(Sup* s, uint64_t id, const TermKey* k);
void __real_sup_input_line(Sup* s, uint64_t id, const char* text, size_t n);
void __wrap_sup_input_line(Sup* s, uint64_t id, const char* text, size_t n);
void __real_sup_term_want(Sup* s, uint64_t id, bool want);
void __wrap_sup_term_want(Sup* s, uint64_t id, bool want);
const TermScreen* __real_sup_screen(const ProcSlot* slot);
const TermScreen* __wrap_sup_screen(const ProcSlot* slot);

void __real_sup_input(Sup* s, uint64_t id, const char* bytes, size_t n, bool paste);
void __wrap_sup_input(Sup* s, uint64_t id, const char* bytes, size_t n, bool paste);

static char pasted[256];
static bool pasted_flag;
void __wrap_sup_input(Sup* s, uint64_t id, const char* bytes, size_t n, bool paste) {
   (void)s, (void)id;
   snprintf(pasted, sizeof pasted, "%.*s", (int)n, bytes);
   pasted_flag = paste;
}

static TermKey sent[64];
static uint64_t sent_to[64];
static size_t nsent;
static char line[256];
static uint64_t line_to = 99;
static int wanted = -1; /* the process wanted now, -1: none */
static TermScreen* fake;
static uint64_t fake_id = 1; /* the process whose screen `fake` is */

void __wrap_sup_key(Sup* s, uint64_t id, const TermKey* k) {
   (void)s;
   if (nsent < 64) sent_to[nsent] = id, sent[nsent++] = *k;
}
void __wrap_sup_input_line(Sup* s, uint64_t id, const char* text, size_t n) {
   (void)s;
   snprintf(line, sizeof line, "%.*s", (int)n, text);
   line_to = id;
}
void __wrap_sup_term_want(Sup* s, uint64_t id, bool want) {
   (void)s;
   if (want)
      wanted = (int)id;
   else if (wanted == (int)id)
      wanted = -1;
}
const TermScreen* __wrap_sup_screen(const ProcSlot* slot) {
   return slot->id == fake_id ? fake : NULL;
}

/* ---------------------------------------------------------------- a screen built by hand */

static TermScreen* screen_new(int cols, int rows) {
   TermScreen* s = calloc(1, sizeof *s + (size_t)cols * (size_t)rows * sizeof(TermCell));
   s->cols = (uint16_t)cols, s->rows = (uint16_t)rows;
   for (int i = 0; i < cols * rows; i++) s->cells[i] = (TermCell){.ch = ' ', .width = 1};
   return s;
}

static void screen_text(TermScreen* s, int row, int col, const char* text, uint32_t fg) {
   for (size_t i = 0; text[i]; i++)
      s->cells[row * s->cols + col + (int)i] =
          (TermCell){.ch = (uint8_t)text[i], .fg = fg, .width = 1};
}

Test(screen, cells_colours_wide_and_cursor) {
   setlocale(LC_ALL, "C.UTF-8");
   TermScreen* s = screen_new(10, 3);
   screen_text(s, 0, 0, "hello", COLOR_INDEX(1));
   s->cells[1 * 10 + 2] = (TermCell){.ch = 0x4e16, .width = 2, .bg = COLOR_RGB(1, 2, 3)}; /* 世 */
   s->cells[1 * 10 + 3] = (TermCell){.ch = 0, .width = 0, .bg = COLOR_RGB(1, 2, 3)};
   s->cells[2 * 10 + 9] = (TermCell){.ch = 0x4e16, .width = 2}; /* cut at the right edge */
   s->cells[2 * 10 + 0] = (TermCell){.ch = 'b', .attr = ATTR_BOLD, .width = 1};
   s->cursor_visible = true, s->cur_row = 2, s->cur_col = 0;
   Canvas c = {0};
   canvas_resize(&c, 20, 5);
   Style base = {.fg = COLOR_INDEX(7), .bg = COLOR_INDEX(0)};
   view_draw_screen(&c, 3, 1, 10, 3, s, base, true);
   char row[128];
   canvas_row_text(&c, 1, row, sizeof row);
   cr_assert_str_eq(row, "   hello");
   cr_assert_eq(canvas_at(&c, 3, 1)->fg, COLOR_INDEX(1));
   cr_assert_eq(canvas_at(&c, 8, 1)->fg, COLOR_INDEX(7), "default colours are the pane's");
   cr_assert_eq(canvas_at(&c, 8, 1)->bg, COLOR_INDEX(0));
   canvas_row_text(&c, 2, row, sizeof row);
   cr_assert_str_eq(row, "     世");
   cr_assert_eq(canvas_at(&c, 5, 2)->wide, 2);
   cr_assert_eq(canvas_at(&c, 6, 2)->wide, 0, "the right half is the wide character's");
   cr_assert_eq(canvas_at(&c, 5, 2)->bg, COLOR_RGB(1, 2, 3));
   cr_assert_eq(canvas_at(&c, 12, 3)->wide, 1, "a wide character cut by the edge is a space");
   cr_assert_eq(canvas_at(&c, 12, 3)->ch, ' ');
   cr_assert(canvas_at(&c, 3, 3)->attr & ATTR_REVERSE, "the cursor is a reverse cell");
   cr_assert(canvas_at(&c, 3, 3)->attr & ATTR_BOLD);
   /* clipped to a smaller area; no cursor when not asked */
   canvas_resize(&c, 20, 5);
   view_draw_screen(&c, 0, 0, 4, 2, s, base, false);
   canvas_row_text(&c, 0, row, sizeof row);
   cr_assert_str_eq(row, "hell");
   cr_assert_eq(canvas_at(&c, 0, 2)->ch, ' ');
   cr_assert_not(canvas_at(&c, 0, 2)->attr & ATTR_REVERSE);
   canvas_free(&c);
   free(s);
}

/* ---------------------------------------------------------------- keys */

static TermKey tk(wint_t ch, bool code) {
   TermKey k = {.code = TK_NONE};
   cr_assert(termkey_from_curses(ch, code, &k), "key %d (code %d) has a translation", (int)ch,
             code);
   return k;
}

Test(keys, curses_keys_become_terminal_keys) {
   cr_assert_eq(tk(KEY_UP, true).code, TK_UP);
   cr_assert_eq(tk(KEY_LEFT, true).code, TK_LEFT);
   cr_assert_eq(tk(KEY_HOME, true).code, TK_HOME);
   cr_assert_eq(tk(KEY_END, true).code, TK_END);
   cr_assert_eq(tk(KEY_PPAGE, true).code, TK_PAGEUP);
   cr_assert_eq(tk(KEY_NPAGE, true).code, TK_PAGEDOWN);
   cr_assert_eq(tk(KEY_IC, true).code, TK_INS);
   cr_assert_eq(tk(KEY_DC, true).code, TK_DEL);
   cr_assert_eq(tk(KEY_F(1), true).code, TK_F1);
   cr_assert_eq(tk(KEY_F(12), true).code, TK_F12);
   TermKey k = tk(KEY_F(13), true); /* xterm: Shift-F1 */
   cr_assert(k.code == TK_F1 && k.mods == TERM_MOD_SHIFT);
   k = tk(KEY_SLEFT, true);
   cr_assert(k.code == TK_LEFT && k.mods == TERM_MOD_SHIFT);
   k = tk(KEY_BTAB, true);
   cr_assert(k.code == TK_TAB && k.mods == TERM_MOD_SHIFT);
   cr_assert_eq(tk(KEY_BACKSPACE, true).code, TK_BACKSPACE);
   cr_assert_eq(tk(127, false).code, TK_BACKSPACE);
   cr_assert_eq(tk(8, false).code, TK_BACKSPACE);
   cr_assert_eq(tk('\r', false).code, TK_ENTER);
   cr_assert_eq(tk('\n', false).code, TK_ENTER);
   cr_assert_eq(tk(KEY_ENTER, true).code, TK_ENTER);
   cr_assert_eq(tk('\t', false).code, TK_TAB);
   cr_assert_eq(tk(27, false).code, TK_ESCAPE);
   k = tk(3, false);
   cr_assert(k.code == TK_CHAR && k.ch == 'c' && k.mods == TERM_MOD_CTRL, "Ctrl-C");
   k = tk(1, false);
   cr_assert(k.code == TK_CHAR && k.ch == 'a' && k.mods == TERM_MOD_CTRL, "Ctrl-A");
   k = tk(0x1c, false);
   cr_assert(k.code == TK_CHAR && k.ch == '\\' && k.mods == TERM_MOD_CTRL, "Ctrl-\\");
   k = tk('x', false);
   cr_assert(k.code == TK_CHAR && k.ch == 'x' && k.mods == 0);
   k = tk(0xe9, false);
   cr_assert(k.code == TK_CHAR && k.ch == 0xe9, "text: é");
   k = tk(0x1f600, false);
   cr_assert(k.code == TK_CHAR && k.ch == 0x1f600, "text beyond the BMP");
   TermKey none;
   cr_assert_not(termkey_from_curses(KEY_MOUSE, true, &none));
   cr_assert_not(termkey_from_curses(KEY_RESIZE, true, &none));
   /* terminfo's extended names (kUP5 = Ctrl-Up), as termkey_init learns them */
   termkey_define(KEY_MAX + 10, TK_UP, TERM_MOD_CTRL);
   k = tk(KEY_MAX + 10, true);
   cr_assert(k.code == TK_UP && k.mods == TERM_MOD_CTRL);
}

Test(keys, prefix_key_forms) {
   int key = 0;
   char* cause = NULL;
   cr_assert_eq(view_parse_prefix("C-a", &key, &cause), 0);
   cr_assert_eq(key, 1);
   cr_assert_eq(view_parse_prefix("Ctrl-B", &key, &cause), 0);
   cr_assert_eq(key, 2);
   cr_assert_eq(view_parse_prefix("^x", &key, &cause), 0);
   cr_assert_eq(key, 0x18);
   cr_assert_eq(view_parse_prefix("C-]", &key, &cause), 0);
   cr_assert_eq(key, 0x1d);
   const char* bad[] = {"a", "C-", "C-ab", "C-m", "C-i", "C-[", "M-a", ""};
   for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
      cr_assert_eq(view_parse_prefix(bad[i], &key, &cause), -EINVAL, "%s", bad[i]);
      cr_assert(strstr(cause, "prefix key") && strstr(cause, "C-b"), "%s", cause);
      free(cause);
      cause = NULL;
   }
}

/* ---------------------------------------------------------------- input mode in a view */

static Sup* sup;
static Theme* theme;
static Project prj;
static View v;
static Canvas cv;

static void add(const char* name, const char* script) {
   char sh[] = "/bin/sh", dash_c[] = "-c";
   char* argv[] = {sh, dash_c, (char*)script, NULL};
   SupLaunch l = {.argv = argv, .cwd = "/tmp"};
   sup_add(sup, name, &l);
}

static void setup(void) {
   setlocale(LC_ALL, "C.UTF-8");
   rcu_register_thread();
   SupConfig cfg = {.use_pty = true, .kill_timeout_s = 1, .cols = 80, .rows = 24};
   cr_assert_eq(sup_new(&cfg, &sup, NULL), 0);
   add("first", "echo first; exec sleep 1000");
   add("second", "echo second-log; exec sleep 1000");
   add("third", "echo third; exit 0");
   theme = theme_builtin("default");
   static char demo[] = "demo";
   prj.name = demo;
   view_init(&v, sup, NULL, &prj, theme);
   view_resize(&v, 100, 30);
   nsent = 0, wanted = -1, line[0] = '\0';
   fake = NULL;
}

static void teardown(void) {
   view_done(&v);
   sup_quit(sup);
   for (int i = 0; i < 500 && !sup_finished(sup); i++)
      nanosleep(&(struct timespec){0, 10000000}, NULL);
   sup_free(sup);
   theme_free(theme);
   canvas_free(&cv);
   free(fake);
   rcu_unregister_thread();
}

TestSuite(input, .init = setup, .fini = teardown, .timeout = 60);

static bool key_tk(int k, TermKey t) {
   v.tkey = t;
   rcu_read_lock();
   bool r = view_key(&v, k);
   rcu_read_unlock();
   return r;
}

static bool key(int k) {
   TermKey t = {.code = TK_NONE};
   termkey_from_curses((wint_t)(k == VK_ENTER ? '\r' : k == VK_ESC ? 27 : k), false, &t);
   return key_tk(k, t);
}

static bool screen_has(const char* needle) {
   rcu_read_lock();
   view_draw(&v, &cv);
   rcu_read_unlock();
   char row[1024];
   for (int y = 0; y < cv.h; y++) {
      canvas_row_text(&cv, y, row, sizeof row);
      if (strstr(row, needle)) return true;
   }
   return false;
}

static bool wait_screen(const char* needle) {
   for (int i = 0; i < 1000; i++) { /* 10 s */
      if (screen_has(needle)) return true;
      nanosleep(&(struct timespec){0, 10000000}, NULL);
   }
   return false;
}

Test(input, i_sends_keys_and_prefix_leaves) {
   key('i');
   cr_assert(screen_has("first is not running"), "i on an idle process says why not");
   cr_assert_not(v.input);
   key(VK_ENTER);
   cr_assert(wait_screen("first · running"));
   key('i');
   cr_assert(v.input);
   cr_assert(screen_has("INPUT → first · Ctrl-A Esc to leave"), "the status line says so");
   cr_assert(screen_has("INPUT → Ctrl-A Esc to leave"), "the pane title says so");
   cr_assert_eq(wanted, 0, "input mode wants the emulated screen");
   key('j'), key(VK_ENTER), key(VK_CTRL('c'));
   cr_assert_eq(nsent, 3);
   cr_assert(sent[0].code == TK_CHAR && sent[0].ch == 'j' && sent_to[0] == 0);
   cr_assert_eq(sent[1].code, TK_ENTER);
   cr_assert(sent[2].code == TK_CHAR && sent[2].ch == 'c' && sent[2].mods == TERM_MOD_CTRL);
   cr_assert_eq(v.sel, 0, "j went to the child, not to the sidebar");
   key(VK_CTRL('a'));
   cr_assert(screen_has("Esc: leave input mode"));
   key(VK_CTRL('a')); /* a literal prefix */
   cr_assert_eq(nsent, 4);
   cr_assert(sent[3].code == TK_CHAR && sent[3].ch == 'a' && sent[3].mods == TERM_MOD_CTRL);
   cr_assert(v.input);
   key(VK_CTRL('a'));
   key(VK_ESC);
   cr_assert_not(v.input);
   cr_assert_eq(nsent, 4);
   cr_assert_not(screen_has("INPUT"));
   cr_assert_eq(wanted, -1, "no screen wanted after input mode");
}

Test(input, prefix_then_brum_key_runs_it) {
   key(VK_ENTER);
   cr_assert(wait_screen("first · running"));
   key('i');
   key(VK_CTRL('a'));
   key('j');
   cr_assert_not(v.input);
   cr_assert_eq(v.sel, 1, "Ctrl-A j: the next process");
   cr_assert_eq(nsent, 0);
}

Test(input, leaves_when_the_process_ends) {
   key('3');
   key(VK_ENTER);
   key('i'); /* it may still run, or have ended already */
   cr_assert(wait_screen("third · exited ok"));
   cr_assert_not(v.input);
}

Test(input, colon_sends_a_line) {
   key('2');
   key(':');
   key('x');
   key(VK_ENTER);
   cr_assert(screen_has("second is not running: nothing to send to"));
   cr_assert_eq(line_to, 99);
   key(VK_ENTER);
   cr_assert(wait_screen("second · running"));
   key(':');
   cr_assert(screen_has("send to second:"));
   for (const char* p = "rs"; *p; p++) key(*p);
   key(VK_ENTER);
   cr_assert_str_eq(line, "rs");
   cr_assert_eq(line_to, 1);
   cr_assert(screen_has("sent to second"));
}

Test(input, full_screen_child_shows_its_screen) {
   key('2');
   key(VK_ENTER);
   cr_assert(wait_screen("second-log"));
   fake = screen_new(40, 5);
   screen_text(fake, 0, 0, "EMULATED TOP", COLOR_DEFAULT);
   fake->altscreen = true;
   /* without the mode tracked from its output the log shows; in input mode the screen does */
   cr_assert_not(screen_has("EMULATED TOP"));
   fake->cursor_visible = true, fake->cur_row = 1, fake->cur_col = 4;
   key('i');
   cr_assert(screen_has("EMULATED TOP"));
   cr_assert(v.cursor_x == v.scr_x + 4 && v.cursor_y == v.scr_y + 1, "the child's cursor");
   cr_assert_not(screen_has("second-log"));
   key(VK_CTRL('a')), key(VK_ESC);
   cr_assert(screen_has("second-log"), "out of input mode, on the primary screen: the log");
}

Test(input, mouse_goes_to_a_child_that_asked_for_it) {
   add("mouse", "printf '\\033[?1000h\\033[?1006h'; echo mouse-on; exec sleep 1000");
   key('4');
   key(VK_ENTER);
   cr_assert(wait_screen("mouse-on"));
   bool on = false;
   for (int i = 0; i < 500 && !on; i++) {
      rcu_read_lock();
      on = sup_snap(sup_registry(sup)->slots[3])->term_modes & TERM_MODE_MOUSE;
      rcu_read_unlock();
      if (!on) nanosleep(&(struct timespec){0, 10000000}, NULL);
   }
   cr_assert(on, "the parser tracked mouse reporting");
   fake_id = 3;
   fake = screen_new(40, 5);
   screen_text(fake, 0, 0, "MOUSE APP", COLOR_DEFAULT);
   key('i');
   cr_assert(screen_has("MOUSE APP"));
   v.mouse_x = v.scr_x + 3, v.mouse_y = v.scr_y + 2;
   key(VK_CLICK); /* curses reports the press and the release apart (term-copy's mouse mask) */
   key(VK_DRAG);  /* motion is not forwarded */
   key(VK_RELEASE);
   cr_assert_eq(nsent, 2, "press and release");
   cr_assert(sent[0].code == TK_MOUSE && sent[0].x == 3 && sent[0].y == 2 && sent[0].button == 1 &&
             sent[0].press);
   cr_assert(sent[1].code == TK_MOUSE && !sent[1].press);
   key(VK_WHEEL_DOWN);
   cr_assert(nsent == 3 && sent[2].button == 5 && sent[2].press);
   cr_assert(v.input);
   /* outside the child's screen: brum's click (the sidebar selects, which ends input mode) */
   v.mouse_x = 2, v.mouse_y = 2;
   key(VK_CLICK);
   cr_assert_eq(nsent, 3);
   cr_assert_eq(v.sel, 0);
   cr_assert(screen_has("first · "));
   cr_assert_not(v.input);
}

Test(input, no_mouse_mode_wheel_scrolls_brum) {
   key(VK_ENTER);
   cr_assert(wait_screen("first · running"));
   key('i');
   fake_id = 0;
   fake = screen_new(40, 5);
   cr_assert(screen_has("INPUT"));
   v.mouse_x = v.scr_x + 1, v.mouse_y = v.scr_y + 1;
   key(VK_WHEEL_UP);
   cr_assert_eq(nsent, 0, "a child without mouse reporting gets no mouse events");
}

Test(input, paste_goes_as_one_piece) {
   rcu_read_lock();
   cr_assert_not(view_paste(&v, "x", 1));
   rcu_read_unlock();
   cr_assert_str_eq(pasted, "", "nothing outside input mode");
   key(VK_ENTER);
   cr_assert(wait_screen("first · running"));
   key('i');
   rcu_read_lock();
   view_paste(&v, "two\rlines", 9);
   rcu_read_unlock();
   cr_assert_str_eq(pasted, "two\rlines");
   cr_assert(pasted_flag);
}

Test(keys, utf8) {
   char b[4];
   cr_assert_eq(termkey_utf8('a', b), 1);
   cr_assert_eq(termkey_utf8(0xe9, b), 2);
   cr_assert(memcmp(b, "\xc3\xa9", 2) == 0);
   cr_assert_eq(termkey_utf8(0x4e16, b), 3);
   cr_assert(memcmp(b, "\xe4\xb8\x96", 3) == 0);
   cr_assert_eq(termkey_utf8(0x1f600, b), 4);
   cr_assert(memcmp(b, "\xf0\x9f\x98\x80", 4) == 0);
   cr_assert_eq(termkey_utf8(0xd800, b), 3, "a surrogate becomes U+FFFD");
}

Test(input, a_configured_prefix) {
   v.prefix = VK_CTRL('b');
   key(VK_ENTER);
   cr_assert(wait_screen("first · running"));
   key('i');
   cr_assert(screen_has("INPUT → first · Ctrl-B Esc to leave"));
   key(VK_CTRL('a')); /* no longer the prefix: the child's */
   cr_assert(nsent == 1 && sent[0].ch == 'a' && sent[0].mods == TERM_MOD_CTRL);
   key(VK_CTRL('b'));
   key(VK_CTRL('b'));
   cr_assert(nsent == 2 && sent[1].ch == 'b' && sent[1].mods == TERM_MOD_CTRL);
   key(VK_CTRL('b'));
   key(VK_ESC);
   cr_assert_not(v.input);
}
