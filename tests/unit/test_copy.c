/* Copy mode without a terminal: motions, selections and what `y` puts on the clipboard (View.copy,
 * which tui.c sends as OSC 52), search inside it, a mouse drag, and the mouse toggle. */
#include <criterion/criterion.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/rcu.h"
#include "tui/view.h"

static Sup* sup;
static Filter* filt;
static Theme* theme;
static Project prj;
static View v;
static Canvas cv;

static void nop_wake(void* ud) {
   (void)ud;
}

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
   add("words", "printf 'alpha beta gamma\\none two three\\nfoo.bar(baz) qux\\nlast line here\\n'");
   add("count", "i=0; while [ $i -lt 300 ]; do echo \"count $i\"; i=$((i+1)); done");
   add("long", "printf 'L%.0s' $(seq 250); printf '\\nafter\\n'");
   add("sleeper", "exec sleep 1000");
   add("utf8",
       "printf 'h\\303\\251llo w\\303\\266rld \\346\\227\\245\\346\\234\\254\\350\\252\\236\\n'");
   cr_assert_eq(filter_new(sup, nop_wake, NULL, &filt, NULL), 0);
   theme = theme_builtin("default");
   static char demo[] = "demo";
   prj.name = demo;
   view_init(&v, sup, filt, &prj, theme);
   view_resize(&v, 100, 30);
}

static void teardown(void) {
   filter_free(filt);
   view_done(&v);
   sup_quit(sup);
   for (int i = 0; i < 500 && !sup_finished(sup); i++)
      nanosleep(&(struct timespec){0, 10000000}, NULL);
   sup_free(sup);
   theme_free(theme);
   canvas_free(&cv);
   rcu_unregister_thread();
}

TestSuite(copy, .init = setup, .fini = teardown, .timeout = 60);

static bool key(int k) {
   rcu_read_lock();
   bool r = view_key(&v, k);
   rcu_read_unlock();
   return r;
}

static void type(const char* s) {
   for (; *s; s++) key((unsigned char)*s);
}

static void draw(void) {
   rcu_read_lock();
   view_tick(&v);
   view_draw(&v, &cv);
   rcu_read_unlock();
}

static bool screen_has(const char* needle) {
   draw();
   char row[1024];
   for (int y = 0; y < cv.h; y++) {
      canvas_row_text(&cv, y, row, sizeof row);
      if (strstr(row, needle)) return true;
   }
   return false;
}

static bool wait_screen(const char* needle) {
   for (int i = 0; i < 1000; i++) {
      if (screen_has(needle)) return true;
      nanosleep(&(struct timespec){0, 10000000}, NULL);
   }
   return false;
}

/* Runs process `nth` ('1'-based key) to its end and shows its pane. */
static void run(char nth, const char* name) {
   key(nth);
   key(VK_ENTER);
   char want[64];
   snprintf(want, sizeof want, "%s · exited ok", name);
   cr_assert(wait_screen(want), "%s ran", name);
}

/* `y`: what went to the clipboard (the view's copy, taken). */
static char* yank(void) {
   key('y');
   char* s = v.copy;
   v.copy = NULL;
   cr_assert_not_null(s);
   return s;
}

static void expect_yank(const char* want) {
   char* got = yank();
   cr_assert_str_eq(got, want);
   free(got);
   cr_assert_not(v.cm.on, "y leaves copy mode");
}

/* The screen cell where `needle` (ASCII) starts. */
static bool cell_of(const char* needle, int* x, int* y) {
   draw();
   size_t n = strlen(needle);
   for (int r = 0; r < cv.h; r++)
      for (int c = 0; c + (int)n <= cv.w; c++) {
         size_t k = 0;
         while (k < n && canvas_at(&cv, c + (int)k, r)->ch == (uint32_t)(unsigned char)needle[k])
            k++;
         if (k == n) return *x = c, *y = r, true;
      }
   return false;
}

Test(copy, v_starts_at_the_bottom_line_and_y_copies_it) {
   run('1', "words");
   key('v');
   cr_assert(v.cm.on);
   cr_assert(screen_has("copy mode: move with h/j/k/l"), "the bottom line says copy mode");
   key('l'); /* then its keys */
   cr_assert(screen_has("COPY  h/j/k/l move"));
   key('0');
   /* the cursor is on the pane's bottom line: the last line, or brum's exit marker below it */
   key('k');
   key('j');
   char* got = yank();
   cr_assert(strcmp(got, "last line here") == 0 || strstr(got, "exit"), "%s", got);
   free(got);
   cr_assert(screen_has("copied 1 line"));
}

Test(copy, motions) {
   run('1', "words");
   key('v');
   key('g');
   cr_assert_eq(v.cm.col, 0);
   key('w');
   cr_assert_eq(v.cm.col, 6, "w: beta");
   key('w');
   cr_assert_eq(v.cm.col, 11, "w: gamma");
   key('l');
   cr_assert_eq(v.cm.col, 12);
   key('h');
   key('h');
   cr_assert_eq(v.cm.col, 10);
   key('$');
   cr_assert_eq(v.cm.col, 15, "$: the last character");
   key('l');
   cr_assert_eq(v.cm.col, 15, "l stops at the end");
   key('0');
   cr_assert_eq(v.cm.col, 0);
   uint64_t first = v.cm.line;
   key('k');
   cr_assert_eq(v.cm.line, first, "k stops at the first line");
   key('$');
   key('w'); /* past the line's last word: the next line's first */
   cr_assert_eq(v.cm.line, first + 1);
   cr_assert_eq(v.cm.col, 0);
   key('b'); /* back over the line break: gamma */
   cr_assert_eq(v.cm.line, first);
   cr_assert_eq(v.cm.col, 11);
   key(VK_DOWN);
   key(VK_DOWN);
   cr_assert_eq(v.cm.line, first + 2);
   cr_assert_eq(v.cm.col, 11, "j keeps the column: foo.bar(baz) qux");
   key('0');
   int stops[] = {3, 4, 7, 8, 11, 13}; /* punctuation and words are separate words */
   for (size_t i = 0; i < sizeof stops / sizeof *stops; i++) {
      key('w');
      cr_assert_eq(v.cm.col, (uint32_t)stops[i], "w stop %zu", i);
   }
   key('b');
   cr_assert_eq(v.cm.col, 11);
   key('G');
   cr_assert_gt(v.cm.line, first + 2, "G: the last line");
   key(VK_ESC);
   cr_assert_not(v.cm.on, "Esc leaves");
   cr_assert_null(v.copy, "and copies nothing");
}

/* Columns are bytes of UTF-8 text; motions step over whole characters. */
Test(copy, motions_over_utf8) {
   run('5', "utf8");
   cr_assert(wait_screen("héllo wörld 日本語"));
   key('v');
   key('g');
   key('l');
   key('l');
   cr_assert_eq(v.cm.col, 3, "h é l: é is two bytes");
   key('$');
   cr_assert_eq(v.cm.col, 20, "$: 語");
   key('h');
   cr_assert_eq(v.cm.col, 17);
   key('b');
   cr_assert_eq(v.cm.col, 14, "b: the word 日本語");
   key('b');
   cr_assert_eq(v.cm.col, 7, "b: wörld");
   key('w');
   key('l');
   key('v');
   key('$');
   expect_yank("本語");
}

Test(copy, character_selection) {
   run('1', "words");
   key('v');
   key('g');
   key('w');
   key('v'); /* from "beta" */
   key('j');
   cr_assert(v.cm.sel);
   expect_yank("beta gamma\none two");
}

Test(copy, backwards_character_selection) {
   run('1', "words");
   key('v');
   key('g');
   key('j');
   key('$');
   key('v');
   key('b'); /* "three", selected from its start to the end */
   expect_yank("three");
}

Test(copy, line_selection_copies_three_lines) {
   run('1', "words");
   key('v');
   key('g');
   key('l');
   key('V');
   key('j');
   key('j');
   expect_yank("alpha beta gamma\none two three\nfoo.bar(baz) qux");
   cr_assert(screen_has("copied 3 lines"));
}

Test(copy, selection_is_drawn) {
   run('1', "words");
   key('v');
   key('g');
   key('V');
   int x, y;
   cr_assert(cell_of("alpha", &x, &y));
   Style sel = theme_role(theme, THEME_SELECTION);
   Cell* c = canvas_at(&cv, x + 3, y);
   cr_assert_eq(c->attr, sel.attr, "a selected cell has the selection's style");
   cr_assert(canvas_at(&cv, x, y)->attr & ATTR_UNDERLINE, "the cursor's cell stands out");
   cr_assert(cell_of("one two", &x, &y));
   cr_assert_neq(canvas_at(&cv, x + 2, y)->attr, sel.attr, "an unselected one has not");
}

Test(copy, a_wrapped_line_is_one_line) {
   run('3', "long");
   cr_assert(wait_screen("after"));
   key('v');
   key('g');
   key('V');
   char* got = yank();
   cr_assert_eq(strlen(got), 250, "the whole logical line: %zu", strlen(got));
   cr_assert_eq(strspn(got, "L"), 250);
   free(got);
}

Test(copy, moving_scrolls_the_cursor_into_view) {
   run('2', "count");
   key('v');
   key('g');
   cr_assert(screen_has("count 0"), "g shows the first line");
   cr_assert_not(screen_has("count 299"));
   for (int i = 0; i < 40; i++) key('j');
   cr_assert(screen_has("count 40"), "the cursor's line is on screen");
   cr_assert_not(screen_has("count 0 "));
   key(VK_CTRL('d'));
   key(VK_PGDN);
   expect_yank("count 77"); /* 40 + 12 (half a page) + 25 (a page: 26 rows less one) */
}

Test(copy, search_moves_the_cursor_to_the_match) {
   run('2', "count");
   key('v');
   key('/');
   type("nt 12$");
   key(VK_ENTER);
   for (int i = 0; i < 500 && !screen_has("/nt 12$"); i++)
      nanosleep(&(struct timespec){0, 10000000}, NULL);
   cr_assert(v.cm.on, "still in copy mode");
   cr_assert_eq(v.cm.col, 3, "the cursor is on the match");
   key('$');
   key('v');
   key('0');
   expect_yank("count 12");
}

Test(copy, with_a_filter_copies_what_the_pane_shows) {
   run('2', "count");
   key('f');
   type("^count 1.$");
   key(VK_ENTER);
   cr_assert(wait_screen("filter: 10/"));
   key('v');
   key('g');
   key('V');
   key('G');
   expect_yank("count 10\ncount 11\ncount 12\ncount 13\ncount 14\ncount 15\ncount 16\ncount "
               "17\ncount 18\ncount 19");
}

Test(copy, in_the_all_view) {
   run('1', "words");
   key(VK_TAB);
   cr_assert(wait_screen("all processes"));
   key('v');
   cr_assert(v.cm.on);
   key('g');
   key('V');
   expect_yank("alpha beta gamma");
}

Test(copy, empty_pane_says_so) {
   key('4');
   key('v');
   cr_assert_not(v.cm.on);
   cr_assert(screen_has("nothing to copy"));
}

Test(copy, q_leaves_without_quitting) {
   run('1', "words");
   key('v');
   key('q');
   cr_assert_not(v.cm.on);
   cr_assert_not(v.quit);
   cr_assert_not(v.confirm_quit);
}

Test(copy, mouse_drag_selects) {
   run('1', "words");
   int x0, y0, x1, y1;
   cr_assert(cell_of("beta", &x0, &y0));
   cr_assert(cell_of("two", &x1, &y1));
   v.mouse_x = x0, v.mouse_y = y0;
   key(VK_CLICK);
   cr_assert_not(v.cm.on, "a press alone does not enter copy mode");
   v.mouse_x = x1 + 1, v.mouse_y = y1;
   key(VK_DRAG);
   cr_assert(v.cm.on, "a drag does");
   v.mouse_x = x1 + 2;
   key(VK_RELEASE);
   cr_assert(v.cm.sel);
   cr_assert(screen_has("y copies"));
   expect_yank("beta gamma\none two");
   /* a plain click in the pane still does nothing */
   v.mouse_x = x0, v.mouse_y = y0;
   key(VK_CLICK);
   key(VK_RELEASE);
   cr_assert_not(v.cm.on);
}

Test(copy, M_toggles_mouse_capture) {
   cr_assert_not(v.mouse_off);
   key('M');
   cr_assert(v.mouse_off);
   cr_assert(screen_has("mouse capture off"));
   key('M');
   cr_assert_not(v.mouse_off);
   cr_assert(screen_has("mouse capture on"));
}

/* Dragged past the pane's top, each motion report moves the cursor a line further up and the
 * view scrolls with it. */
Test(copy, dragging_past_the_top_scrolls) {
   run('2', "count");
   cr_assert(wait_screen("count 299"));
   draw();
   v.mouse_x = v.cm.px + 5, v.mouse_y = v.cm.py; /* the pane's top row */
   key(VK_CLICK);
   v.mouse_y = v.cm.py - 1;
   for (int i = 0; i < 5; i++) key(VK_DRAG);
   key(VK_RELEASE);
   cr_assert(v.cm.on && v.cm.sel);
   char* got = yank();
   int lines = 1;
   for (char* p = got; *p; p++) lines += *p == '\n';
   cr_assert_eq(lines, 6, "five lines above the top row, and it: %s", got);
   cr_assert(strstr(got, "\ncount 274\n"), "the lines above the top row: %s", got);
   free(got);
}
