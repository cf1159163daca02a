#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NCURSES_WIDECHAR 1
#include <curses.h>

#include "core/util.h"
#include "tui/theme.h"

static const char* const shipped[] = {"default", "light", "high-contrast", "mono"};

static Theme* load_ok(const char* name, const char* exe_dir) {
   Theme* t = NULL;
   char* cause = NULL;
   int rc = theme_load(name, exe_dir, &t, &cause);
   cr_assert_eq(rc, 0, "%s: %d %s", name, rc, cause ? cause : "");
   cr_assert_null(cause);
   return t;
}

/* The cause of a failed parse, for comparing messages. */
static char* parse_err(const char* text) {
   Theme* t = (Theme*)1;
   char* cause = NULL;
   cr_assert_eq(theme_parse(text, "t.theme", &t, &cause), -EINVAL, "should fail: %s", text);
   cr_assert_null(t);
   cr_assert_not_null(cause);
   return cause;
}

#define assert_parse_err(text, want)                                                               \
   do {                                                                                            \
      char* c_ = parse_err(text);                                                                  \
      cr_assert_str_eq(c_, want);                                                                  \
      free(c_);                                                                                    \
   } while (0)

static bool same_style(Style a, Style b) {
   return a.fg == b.fg && a.bg == b.bg && a.attr == b.attr;
}

Test(theme, shipped_themes_parse) {
   for (size_t i = 0; i < sizeof shipped / sizeof *shipped; i++) {
      char* path = xasprintf("%s/themes/%s.theme", BRUM_SOURCE_DIR, shipped[i]);
      Theme* t = load_ok(path, NULL);
      cr_assert_str_eq(theme_name(t), shipped[i]);
      bool mono = strcmp(shipped[i], "mono") == 0;
      cr_assert_eq(theme_has_color(t), !mono, "%s", shipped[i]);
      theme_free(t);
      free(path);
   }
}

Test(theme, builtins_match_the_files) {
   const char* names[] = {"default", "mono"};
   for (int i = 0; i < 2; i++) {
      char* path = xasprintf("%s/themes/%s.theme", BRUM_SOURCE_DIR, names[i]);
      Theme* f = load_ok(path, NULL);
      Theme* b = theme_builtin(names[i]);
      cr_assert_not_null(b);
      for (int r = 0; r < THEME_ROLE_COUNT; r++)
         cr_assert(same_style(theme_role(f, r), theme_role(b, r)), "%s: role %s differs", names[i],
                   theme_role_name(r));
      theme_free(f);
      theme_free(b);
      free(path);
   }
   cr_assert_null(theme_builtin("light"));
}

Test(theme, role_values) {
   Theme* t;
   char* cause = NULL;
   cr_assert_eq(theme_parse("[roles]\n"
                            "header = white on blue bold\n"
                            "match = black on #FFd700\n"
                            "error = color196 underline italic\n"
                            "url = on bright-black\n"
                            "Warning = BOLD DIM reverse blink\n"
                            "prompt = plain ; trailing comment\n",
                            "x.theme", &t, &cause),
                0, "%s", cause);
   Style s = theme_role(t, THEME_HEADER);
   cr_assert_eq(s.fg, COLOR_INDEX(7));
   cr_assert_eq(s.bg, COLOR_INDEX(4));
   cr_assert_eq(s.attr, ATTR_BOLD);
   s = theme_role(t, THEME_MATCH);
   cr_assert_eq(s.fg, COLOR_INDEX(0));
   cr_assert_eq(s.bg, COLOR_RGB(0xff, 0xd7, 0x00));
   s = theme_role(t, THEME_ERROR);
   cr_assert_eq(s.fg, COLOR_INDEX(196));
   cr_assert_eq(s.attr, ATTR_UNDERLINE | ATTR_ITALIC);
   s = theme_role(t, THEME_URL);
   cr_assert_eq(s.fg, COLOR_DEFAULT);
   cr_assert_eq(s.bg, COLOR_INDEX(8));
   s = theme_role(t, THEME_WARNING);
   cr_assert_eq(s.attr, ATTR_BOLD | ATTR_DIM | ATTR_REVERSE | ATTR_BLINK);
   s = theme_role(t, THEME_PROMPT);
   cr_assert(same_style(s, (Style){0, 0, 0}));
   cr_assert_str_eq(theme_name(t), "x", "the name defaults to the file name");

   Theme* d = theme_builtin("default");
   cr_assert(same_style(theme_role(t, THEME_STATE_FAILED), theme_role(d, THEME_STATE_FAILED)),
             "roles left out come from the default theme");
   theme_free(d);
   theme_free(t);
}

Test(theme, base) {
   Theme* t;
   char* cause = NULL;
   cr_assert_eq(
       theme_parse("[roles]\nerror = red\n[theme]\nname = mine\nbase = mono\n", "x", &t, &cause), 0,
       "%s", cause);
   cr_assert_str_eq(theme_name(t), "mine");
   cr_assert_eq(theme_role(t, THEME_ERROR).fg, COLOR_INDEX(1));
   Theme* m = theme_builtin("mono");
   cr_assert(same_style(theme_role(t, THEME_HEADER), theme_role(m, THEME_HEADER)));
   theme_free(m);
   theme_free(t);

   cr_assert_eq(theme_parse("[theme]\nbase = none\n", "x", &t, &cause), 0);
   for (int r = 0; r < THEME_ROLE_COUNT; r++)
      cr_assert(same_style(theme_role(t, r), (Style){0, 0, 0}));
   cr_assert_not(theme_has_color(t));
   theme_free(t);
}

Test(theme, errors_name_file_and_line) {
   assert_parse_err("[theme]\nname = x\n\n[roles]\nheadr = red\n",
                    "t.theme:5: unknown role 'headr'");
   assert_parse_err("[roles]\nerror = purple\n",
                    "t.theme:2: error: unknown colour or attribute 'purple'");
   assert_parse_err("[roles]\nerror = red on\n", "t.theme:2: error: 'on' needs a colour after it");
   assert_parse_err("[roles]\nerror = on mauve\n",
                    "t.theme:2: error: unknown colour 'mauve' after 'on'");
   assert_parse_err("[roles]\nerror = red green\n",
                    "t.theme:2: error: two foreground colours in 'red green' (use 'on' before a "
                    "background colour)");
   assert_parse_err("[roles]\nerror = on red on blue\n",
                    "t.theme:2: error: two background colours in 'on red on blue'");
   assert_parse_err("[roles]\nerror = on red blue\n",
                    "t.theme:2: error: a foreground colour must come before 'on' in 'on red blue'");
   assert_parse_err("[roles]\nerror = plain bold\n",
                    "t.theme:2: error: 'plain' must be alone, not in 'plain bold'");
   assert_parse_err("[roles]\nerror =\n",
                    "t.theme:2: error: empty value (write 'plain' for no colour and no attribute)");
   assert_parse_err("[colours]\nerror = red\n", "t.theme:2: unknown section [colours]");
   assert_parse_err("error = red\n", "t.theme:1: 'error' before any [section]");
   assert_parse_err("[theme]\nbase = light\n",
                    "t.theme:2: unknown base 'light' (default, mono or none)");
   assert_parse_err("[theme]\nauthor = me\n", "t.theme:2: unknown key 'author' in [theme]");
   assert_parse_err("; c\n[roles]\nerror red\n",
                    "t.theme:3: expected '[section]' or 'key = value'");
   assert_parse_err("[roles\nerror = red\n", "t.theme:1: expected '[section]' or 'key = value'");
}

Test(theme, first_error_wins) {
   assert_parse_err("[roles]\nbogus\nerror = purple\n",
                    "t.theme:2: expected '[section]' or 'key = value'");
   assert_parse_err("[roles]\nerror = purple\nbogus\nfoo = red\n",
                    "t.theme:2: error: unknown colour or attribute 'purple'");
   /* an indented line is not the continuation of the line before */
   assert_parse_err("[roles]\nerror = red\n   huh = red\n", "t.theme:3: unknown role 'huh'");
   char long_line[400];
   snprintf(long_line, sizeof long_line, "[roles]\nerror = red %0300d\nfoo = red\n", 0);
   char* c = parse_err(long_line);
   cr_assert(strstr(c, "t.theme:2: line longer than") == c, "%s", c);
   free(c);
}

Test(theme, error_from_a_file) {
   char dir[] = "/tmp/brum-theme-XXXXXX";
   cr_assert_not_null(mkdtemp(dir));
   char* path = xasprintf("%s/bad.theme", dir);
   FILE* f = fopen(path, "w");
   fputs("; a comment\n[roles]\nheader = red\n\nbogus_role = blue\n", f);
   fclose(f);
   Theme* t = NULL;
   char* cause = NULL;
   cr_assert_eq(theme_load(path, NULL, &t, &cause), -EINVAL);
   char* want = xasprintf("%s:5: unknown role 'bogus_role'", path);
   cr_assert_str_eq(cause, want);
   free(want);
   free(cause);
   cause = NULL;
   unlink(path);
   cr_assert_eq(theme_load(path, NULL, &t, &cause), -ENOENT);
   want = xasprintf("%s: No such file or directory", path);
   cr_assert_str_eq(cause, want);
   free(want);
   free(cause);
   free(path);
   rmdir(dir);
}

/* A FIFO blocked in open() for ever; a directory said "read error". The timeout turns a hang into
 * a failure. */
Test(theme, fifo_and_directory_are_refused, .timeout = 10) {
   char dir[] = "/tmp/brum-theme-XXXXXX";
   cr_assert_not_null(mkdtemp(dir));
   char* fifo = xasprintf("%s/fifo.theme", dir);
   cr_assert_eq(mkfifo(fifo, 0644), 0);
   Theme* t = NULL;
   char* cause = NULL;
   cr_expect_eq(theme_load(fifo, NULL, &t, &cause), -EINVAL);
   cr_expect_null(t);
   cr_expect(cause && strstr(cause, fifo) && strstr(cause, "FIFO"), "cause: %s", cause);
   free(cause);
   cause = NULL;

   /* The same FIFO found by name in a theme directory. */
   char* themes = xasprintf("%s/themes", dir);
   char* named = xasprintf("%s/themes/pipe.theme", dir);
   cr_assert_eq(mkdir(themes, 0755), 0);
   cr_assert_eq(mkfifo(named, 0644), 0);
   cr_expect_eq(theme_load("pipe", dir, &t, &cause), -EINVAL);
   cr_expect(cause && strstr(cause, "FIFO"), "cause: %s", cause);
   free(cause);
   cause = NULL;

   char* sub = xasprintf("%s/", themes);
   cr_expect_eq(theme_load(sub, NULL, &t, &cause), -EISDIR);
   cr_expect(cause && strstr(cause, "is a directory"), "cause: %s", cause);
   cr_expect(cause && !strstr(cause, "read error"), "cause: %s", cause);
   free(cause);
   cause = NULL;

   /* Over the size limit: says the size and the limit. */
   char* big = xasprintf("%s/big.theme", dir);
   FILE* f = fopen(big, "w");
   cr_assert_not_null(f);
   fclose(f);
   cr_assert_eq(truncate(big, 300 * 1024), 0);
   cr_expect_eq(theme_load(big, NULL, &t, &cause), -EFBIG);
   cr_expect(cause && strstr(cause, "300 KiB") && strstr(cause, "256 KiB"), "cause: %s", cause);
   free(cause);

   unlink(big), unlink(named), unlink(fifo), rmdir(themes), rmdir(dir);
   free(big), free(sub), free(named), free(themes), free(fifo);
}

Test(theme, colour_names) {
   uint32_t c;
   cr_assert_eq(theme_parse_color("#12aBeF", &c), 0);
   cr_assert_eq(c, COLOR_RGB(0x12, 0xab, 0xef));
   cr_assert_eq(theme_parse_color("color200", &c), 0);
   cr_assert_eq(c, COLOR_INDEX(200));
   cr_assert_eq(theme_parse_color("color0", &c), 0);
   cr_assert_eq(c, COLOR_INDEX(0));
   cr_assert_eq(theme_parse_color("Red", &c), 0);
   cr_assert_eq(c, COLOR_INDEX(1));
   cr_assert_eq(theme_parse_color("bright-cyan", &c), 0);
   cr_assert_eq(c, COLOR_INDEX(14));
   cr_assert_eq(theme_parse_color("grey", &c), 0);
   cr_assert_eq(c, COLOR_INDEX(8));
   cr_assert_eq(theme_parse_color("default", &c), 0);
   cr_assert_eq(c, COLOR_DEFAULT);
   const char* bad[] = {"color256", "color",  "color1x", "color007",       "#12345", "#1234567",
                        "#gg0000",  "purple", "bright-", "bright-default", ""};
   for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
      cr_assert_eq(theme_parse_color(bad[i], &c), -EINVAL, "'%s'", bad[i]);
}

Test(theme, palette) {
   cr_assert_eq(theme_xterm_rgb(1), 0xcd0000);
   cr_assert_eq(theme_xterm_rgb(16), 0x000000);
   cr_assert_eq(theme_xterm_rgb(196), 0xff0000);
   cr_assert_eq(theme_xterm_rgb(214), 0xffaf00);
   cr_assert_eq(theme_xterm_rgb(231), 0xffffff);
   cr_assert_eq(theme_xterm_rgb(232), 0x080808);
   cr_assert_eq(theme_xterm_rgb(255), 0xeeeeee);
}

Test(theme, downgrade) {
   /* RGB to the nearest of 16-255 (0-15 differ between terminals) */
   cr_assert_eq(theme_color_to_term(COLOR_RGB(255, 0, 0), 256), 196);
   cr_assert_eq(theme_color_to_term(COLOR_RGB(0x80, 0x80, 0x80), 256), 244);
   cr_assert_eq(theme_color_to_term(COLOR_RGB(0, 0, 0), 256), 16);
   cr_assert_eq(theme_color_to_term(COLOR_RGB(0xff, 0xd0, 0x05), 256), 220); /* ffd700 */
   cr_assert_eq(theme_color_to_term(COLOR_RGB(0x5f, 0x87, 0xaf), 256), 67);
   cr_assert_eq(theme_color_to_term(COLOR_INDEX(100), 256), 100);
   cr_assert_eq(theme_color_to_term(COLOR_INDEX(5), 256), 5);
   cr_assert_eq(theme_color_to_term(COLOR_DEFAULT, 256), -1);
   cr_assert_eq(theme_color_to_term(COLOR_INDEX(1), 2), -1, "no colours");
   /* 256 to 16 keeps the hue */
   cr_assert_eq(theme_color_to_term(COLOR_INDEX(196), 16), 9);
   cr_assert_eq(theme_color_to_term(COLOR_INDEX(17), 16), 4, "dark blue stays blue");
   cr_assert_eq(theme_color_to_term(COLOR_INDEX(21), 16), 12);
   cr_assert_eq(theme_color_to_term(COLOR_INDEX(214), 16), 11, "orange is bright yellow");
   cr_assert_eq(theme_color_to_term(COLOR_INDEX(28), 16), 2);
   cr_assert_eq(theme_color_to_term(COLOR_INDEX(232), 16), 0);
   cr_assert_eq(theme_color_to_term(COLOR_INDEX(244), 16), 7);
   cr_assert_eq(theme_color_to_term(COLOR_INDEX(236), 16), 8);
   cr_assert_eq(theme_color_to_term(COLOR_INDEX(255), 16), 15);
   cr_assert_eq(theme_color_to_term(COLOR_INDEX(16), 16), 0);
   cr_assert_eq(theme_color_to_term(COLOR_INDEX(231), 16), 15);
   cr_assert_eq(theme_color_to_term(COLOR_INDEX(13), 16), 13);
   cr_assert_eq(theme_color_to_term(COLOR_RGB(255, 0, 0), 16), 9);
   /* 16 to 8 drops brightness */
   cr_assert_eq(theme_color_to_term(COLOR_INDEX(9), 8), 1);
   cr_assert_eq(theme_color_to_term(COLOR_INDEX(15), 8), 7);
   cr_assert_eq(theme_color_to_term(COLOR_INDEX(196), 8), 1);
   cr_assert_eq(theme_color_to_term(COLOR_RGB(0, 0, 0x80), 8), 4);
   /* 88 colours: xterm-88's 4x4x4 cube and 8 greys */
   cr_assert_eq(theme_color_to_term(COLOR_INDEX(196), 88), 64);
   cr_assert_eq(theme_color_to_term(COLOR_RGB(255, 255, 255), 88), 79);
   cr_assert_eq(theme_color_to_term(COLOR_INDEX(3), 88), 3);
   /* direct colour */
   cr_assert_eq(theme_color_to_term(COLOR_RGB(1, 2, 3), 1 << 24), 0x010203);
   cr_assert_eq(theme_color_to_term(COLOR_INDEX(196), 1 << 24), 0xff0000);
   cr_assert_eq(theme_color_to_term(COLOR_INDEX(3), 1 << 24), 3);
}

Test(theme, no_color_means_mono) {
   unsetenv("NO_COLOR");
   cr_assert_str_eq(theme_default_name(), "default");
   setenv("NO_COLOR", "", 1);
   cr_assert_str_eq(theme_default_name(), "default", "an empty NO_COLOR does not count");
   setenv("NO_COLOR", "1", 1);
   cr_assert_str_eq(theme_default_name(), "mono");
   Theme* t = load_ok(theme_default_name(), "/nonexistent");
   cr_assert_not(theme_has_color(t), "the built-in mono has no colours");
   theme_free(t);
}

static void write_theme(const char* dir, const char* name, const char* label) {
   char* cmd = xasprintf("mkdir -p '%s'", dir);
   cr_assert_eq(system(cmd), 0);
   free(cmd);
   char* path = xasprintf("%s/%s.theme", dir, name);
   FILE* f = fopen(path, "w");
   cr_assert_not_null(f);
   fprintf(f, "[theme]\nname = %s\n", label);
   fclose(f);
   free(path);
}

static void expect_from(const char* name, const char* exe_dir, const char* label) {
   Theme* t = load_ok(name, exe_dir);
   cr_assert_str_eq(theme_name(t), label);
   theme_free(t);
}

Test(theme, lookup_order) {
   char root[] = "/tmp/brum-theme-XXXXXX";
   cr_assert_not_null(mkdtemp(root));
   char* cfg = xasprintf("%s/cfg/brum/themes", root);
   char* home = xasprintf("%s/home/.config/brum/themes", root);
   char* bin = xasprintf("%s/bin", root);
   char* bin_themes = xasprintf("%s/bin/themes", root);
   char* share = xasprintf("%s/share/brum/themes", root);
   char* xdg = xasprintf("%s/cfg", root);
   char* home_dir = xasprintf("%s/home", root);
   setenv("XDG_CONFIG_HOME", xdg, 1);
   setenv("HOME", home_dir, 1);
   write_theme(cfg, "x", "from-config");
   write_theme(home, "x", "from-home");
   write_theme(bin_themes, "x", "from-exe-dir");
   write_theme(share, "x", "from-share");
   write_theme(bin_themes, "only-here", "only-here");
   write_theme(cfg, "default", "my-default");

   expect_from("x", bin, "from-config");
   expect_from("default", bin, "my-default");
   setenv("XDG_CONFIG_HOME", "", 1);
   expect_from("x", bin, "from-home");
   unsetenv("HOME");
   expect_from("x", bin, "from-exe-dir");
   expect_from("only-here", bin, "only-here");
   char* p = xasprintf("%s/x.theme", bin_themes);
   unlink(p);
   free(p);
   expect_from("x", bin, "from-share");
   expect_from("default", bin, "default"); /* the built-in */
   expect_from("default", NULL, "default");

   Theme* t = NULL;
   char* cause = NULL;
   cr_assert_eq(theme_load("nope", bin, &t, &cause), -ENOENT);
   cr_assert_null(t);
   cr_assert_str_eq(cause, "unknown theme 'nope' (available: default, mono, only-here, x)");
   free(cause);
   cause = NULL;
   cr_assert_eq(theme_load("", bin, &t, &cause), -EINVAL);
   free(cause);

   char* cmd = xasprintf("rm -rf '%s'", root);
   cr_assert_eq(system(cmd), 0);
   free(cmd);
   free(cfg), free(home), free(bin), free(bin_themes), free(share), free(xdg), free(home_dir);
}

/* Curses without a terminal: a screen that writes to /dev/null. */
static SCREEN* fake_screen(const char* term) {
   FILE* out = fopen("/dev/null", "w");
   FILE* in = fopen("/dev/null", "r");
   SCREEN* s = newterm(term, out, in);
   cr_assert_not_null(s, "no terminfo for %s", term);
   return s;
}

Test(theme, curses_pairs_256) {
   fake_screen("xterm-256color");
   cr_assert_eq(theme_curses_init(), 256);
   Theme* t = theme_builtin("default");
   ThemeCurses h = theme_curses_role(t, THEME_HEADER); /* bright-white on blue */
   cr_assert_gt(h.pair, 0);
   int fg, bg;
   extended_pair_content(h.pair, &fg, &bg);
   cr_assert_eq(fg, 15);
   cr_assert_eq(bg, 4);
   cr_assert_eq(h.attr, A_NORMAL);
   ThemeCurses again = theme_curses_role(t, THEME_HEADER);
   cr_assert_eq(again.pair, h.pair);
   ThemeCurses f = theme_curses_role(t, THEME_STATE_FAILED); /* bright-red bold */
   cr_assert_eq(f.attr, A_BOLD);
   cr_assert_neq(f.pair, h.pair);
   ThemeCurses p = theme_curses_role(t, THEME_PANE); /* default */
   cr_assert_eq(p.pair, 0);

   /* two RGB colours with the same nearest 256 entry share a pair */
   Style a = {COLOR_RGB(255, 0, 0), COLOR_DEFAULT, ATTR_UNDERLINE};
   Style b = {COLOR_RGB(250, 5, 3), COLOR_DEFAULT, 0};
   ThemeCurses ca = theme_curses_style(&a), cb = theme_curses_style(&b);
   cr_assert_eq(ca.pair, cb.pair);
   cr_assert_eq(ca.attr, A_UNDERLINE);
   extended_pair_content(ca.pair, &fg, &bg);
   cr_assert_eq(fg, 196);
   cr_assert_eq(bg, -1);

   /* after a re-init, caches are rebuilt */
   theme_curses_init();
   cr_assert_eq(theme_curses_role(t, THEME_HEADER).pair, 1);
   theme_free(t);
   endwin();
}

Test(theme, curses_pairs_run_out) {
   fake_screen("xterm-256color");
   theme_curses_init();
   int first = 0, last = 0;
   for (int i = 0; i < 256 * 20; i++) {
      Style s = {COLOR_INDEX(i % 256), COLOR_INDEX(i / 256), 0};
      ThemeCurses c = theme_curses_style(&s);
      if (i == 0) first = c.pair;
      last = c.pair;
      cr_assert_geq(c.pair, 0);
      cr_assert_leq(c.pair, 4096);
   }
   cr_assert_eq(first, 1);
   /* every pair is in use (backgrounds 0-15 got one): the nearest pair already made */
   Style s = {COLOR_INDEX(196), COLOR_INDEX(18), 0}; /* 18 is 0x000087: closest to blue, 4 */
   ThemeCurses c = theme_curses_style(&s);
   int fg, bg;
   extended_pair_content(c.pair, &fg, &bg);
   cr_assert_eq(theme_xterm_rgb(fg), 0xff0000, "got pair %d: %d on %d (last %d)", c.pair, fg, bg,
                last); /* 9 or 196: both are ff0000 */
   cr_assert_eq(bg, 4);
   Style made = {COLOR_INDEX(7), COLOR_INDEX(3), 0};
   cr_assert_eq(theme_curses_style(&made).pair, 3 * 256 + 7 + 1);
   endwin();
}

Test(theme, curses_eight_colours) {
   fake_screen("xterm");
   cr_assert_eq(theme_curses_init(), 8);
   Style s = {COLOR_INDEX(9), COLOR_DEFAULT, 0};
   ThemeCurses c = theme_curses_style(&s);
   cr_assert_eq(c.attr, A_BOLD, "bright colours become bold on 8-colour terminals");
   int fg, bg;
   extended_pair_content(c.pair, &fg, &bg);
   cr_assert_eq(fg, 1);
   endwin();
}
