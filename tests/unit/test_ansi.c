#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ansi.h"
#include "core/logstore.h"
#include "core/term.h"

/* What the sink saw: lines (text, runs, continued) and reply bytes. */
typedef struct Line {
   char* text;
   uint32_t len;
   StyleRun* runs;
   uint16_t nruns;
   bool cont;
} Line;

typedef struct Cap {
   AnsiParser* p;
   Line* lines;
   size_t n, cap;
   char reply[4096];
   size_t nreply;
   bool keep;        /* false: only check and count (the 10 MB test) */
   uint32_t max_len; /* longest line seen */
   uint64_t bytes;   /* text bytes seen */
   uint64_t hash;    /* FNV-1a over every line (text, runs, continued) and reply, kept or not */
   char ev[4096];    /* the order of calls: L line, M modes, C clear (the first 4095) */
   size_t nev;
   unsigned modes; /* as the last modes call gave them */
   unsigned nmodes, nclear;
} Cap;

static void event(Cap* c, char e) {
   if (c->nev < sizeof c->ev - 1) c->ev[c->nev++] = e;
   c->ev[c->nev] = '\0';
}

static void mix(Cap* c, const void* data, size_t n) {
   const unsigned char* b = data;
   for (size_t i = 0; i < n; i++) c->hash = (c->hash ^ b[i]) * 1099511628211ull;
}

static void on_line(void* ud, const char* text, uint32_t len, const StyleRun* runs,
                    uint16_t nruns) {
   Cap* c = ud;
   /* invariants every line must keep */
   cr_assert_leq(len, LOGSTORE_MAX_LINE);
   cr_assert_leq(nruns, LOGSTORE_MAX_RUNS);
   for (uint16_t i = 0; i < nruns; i++) {
      cr_assert_lt(runs[i].start, len, "a run starts inside the text");
      if (i) cr_assert_gt(runs[i].start, runs[i - 1].start, "runs strictly increasing");
   }
   if (len > c->max_len) c->max_len = len;
   c->bytes += len;
   event(c, 'L');
   bool cont = ansi_line_continued(c->p);
   mix(c, &len, sizeof len);
   mix(c, text, len);
   for (uint16_t i = 0; i < nruns; i++) {
      mix(c, &runs[i].start, sizeof runs[i].start);
      mix(c, &runs[i].fg, sizeof runs[i].fg);
      mix(c, &runs[i].bg, sizeof runs[i].bg);
      mix(c, &runs[i].attr, sizeof runs[i].attr);
   }
   mix(c, &cont, sizeof cont);
   if (!c->keep) {
      c->n++;
      return;
   }
   if (c->n == c->cap) {
      c->cap = c->cap ? c->cap * 2 : 16;
      c->lines = realloc(c->lines, c->cap * sizeof(Line));
   }
   Line* l = &c->lines[c->n++];
   l->text = malloc(len + 1);
   memcpy(l->text, text, len);
   l->text[len] = '\0';
   l->len = len;
   l->runs = malloc((nruns ? nruns : 1) * sizeof(StyleRun));
   if (nruns) memcpy(l->runs, runs, nruns * sizeof(StyleRun));
   l->nruns = nruns;
   l->cont = ansi_line_continued(c->p);
}

static void on_reply(void* ud, const char* bytes, size_t n) {
   Cap* c = ud;
   mix(c, "R", 1);
   mix(c, bytes, n);
   if (!c->keep) return;
   cr_assert_leq(c->nreply + n, sizeof c->reply);
   memcpy(c->reply + c->nreply, bytes, n);
   c->nreply += n;
}

static void on_modes(void* ud, unsigned modes) {
   Cap* c = ud;
   cr_assert_eq(modes, ansi_modes(c->p), "the call gives what ansi_modes says");
   cr_assert_neq(modes, c->modes, "called only on a change");
   c->modes = modes;
   c->nmodes++;
   mix(c, "M", 1);
   mix(c, &modes, sizeof modes);
   event(c, 'M');
}

static void on_clear(void* ud) {
   Cap* c = ud;
   cr_assert_eq(ansi_modes(c->p) & TERM_MODE_ALTSCREEN, 0, "no clear on the alternate screen");
   c->nclear++;
   mix(c, "C", 1);
   event(c, 'C');
}

static void cap_init(Cap* c) {
   memset(c, 0, sizeof *c);
   c->keep = true;
   c->hash = 1469598103934665603ull;
   AnsiSink sink = {.line = on_line, .reply = on_reply, .modes = on_modes, .clear = on_clear};
   c->p = ansi_new(&sink, c);
}

static void cap_reset(Cap* c) {
   for (size_t i = 0; i < c->n && c->keep; i++) {
      free(c->lines[i].text);
      free(c->lines[i].runs);
   }
   c->n = 0;
   c->nev = 0;
   c->ev[0] = '\0';
   c->nreply = 0;
   c->nmodes = c->nclear = 0;
}

static void cap_done(Cap* c) {
   cap_reset(c);
   free(c->lines);
   ansi_free(c->p);
}

static void feed(Cap* c, const char* s) {
   ansi_feed(c->p, s, strlen(s));
}

/* Feeds s, flushes, and checks the lines are exactly `want` (NULL-terminated). */
#define EXPECT_LINES(input, ...)                                                                   \
   do {                                                                                            \
      const char* want_[] = {__VA_ARGS__, NULL};                                                   \
      Cap c_;                                                                                      \
      cap_init(&c_);                                                                               \
      ansi_feed(c_.p, input, sizeof(input) - 1);                                                   \
      ansi_flush(c_.p);                                                                            \
      size_t k_ = 0;                                                                               \
      for (; want_[k_]; k_++) {                                                                    \
         cr_assert_lt(k_, c_.n, "missing line %zu \"%s\"", k_, want_[k_]);                         \
         cr_assert_eq(c_.lines[k_].len, strlen(want_[k_]), "line %zu: \"%s\" vs \"%s\"", k_,       \
                      c_.lines[k_].text, want_[k_]);                                               \
         cr_assert(memcmp(c_.lines[k_].text, want_[k_], c_.lines[k_].len) == 0,                    \
                   "line %zu: \"%s\" vs \"%s\"", k_, c_.lines[k_].text, want_[k_]);                \
      }                                                                                            \
      cr_assert_eq(c_.n, k_, "extra lines: %zu, want %zu", c_.n, k_);                              \
      cap_done(&c_);                                                                               \
   } while (0)

static Style st(uint32_t fg, uint32_t bg, uint16_t attr) {
   return (Style){fg, bg, attr};
}

static void assert_run(const Line* l, uint16_t i, uint32_t start, Style s) {
   cr_assert_lt(i, l->nruns, "run %u missing in \"%s\"", i, l->text);
   cr_assert_eq(l->runs[i].start, start, "run %u start", i);
   cr_assert_eq(l->runs[i].fg, s.fg, "run %u fg %#x want %#x", i, l->runs[i].fg, s.fg);
   cr_assert_eq(l->runs[i].bg, s.bg, "run %u bg %#x want %#x", i, l->runs[i].bg, s.bg);
   cr_assert_eq(l->runs[i].attr, s.attr, "run %u attr %#x want %#x", i, l->runs[i].attr, s.attr);
}

Test(ansi, plain_lines) {
   EXPECT_LINES("hello\nworld\n\nlast", "hello", "world", "", "last");
   EXPECT_LINES("tab\there\n", "tab\there");
}

Test(ansi, crlf) {
   EXPECT_LINES("a\r\nb\r\n", "a", "b");
}

Test(ansi, carriage_return_progress) {
   EXPECT_LINES("10%\r20%\r30%\n", "30%");
   EXPECT_LINES("long text\rshort\n", "short");
   EXPECT_LINES("kept\r\n", "kept");
   EXPECT_LINES("kept\r\r\n", "kept");
   EXPECT_LINES("a\x1b[1Gb\n", "b"); /* CSI G to column 1 acts like \r */
}

Test(ansi, erase_line) {
   EXPECT_LINES("abc\r\x1b[K\n", "");
   EXPECT_LINES("abc\r\x1b[0Kxyz\n", "xyz");
   EXPECT_LINES("abc\x1b[K\n", "abc"); /* cursor at the end: nothing to erase */
   EXPECT_LINES("abc\x1b[2Kdef\n", "def");
   EXPECT_LINES("abc\x1b[1Kdef\n", "def");
   EXPECT_LINES("\x1b[2K\rdownloading 5%\x1b[2K\rdownloading 9%\ndone\n", "downloading 9%", "done");
}

Test(ansi, partial_and_flush) {
   Cap c;
   cap_init(&c);
   feed(&c, "done\nprompt> ");
   const char* text;
   uint32_t len;
   const StyleRun* runs;
   uint16_t nruns;
   ansi_partial(c.p, &text, &len, &runs, &nruns);
   cr_assert_eq(len, 8);
   cr_assert(memcmp(text, "prompt> ", 8) == 0);
   cr_assert_eq(c.n, 1);
   ansi_flush(c.p);
   cr_assert_eq(c.n, 2);
   cr_assert_str_eq(c.lines[1].text, "prompt> ");
   ansi_partial(c.p, &text, &len, &runs, &nruns);
   cr_assert_eq(len, 0);
   ansi_flush(c.p); /* nothing left: no empty line */
   feed(&c, "\x1b[31m");
   ansi_flush(c.p); /* style alone is not text */
   cr_assert_eq(c.n, 2);
   cap_done(&c);
}

Test(ansi, sgr_16_256_truecolor) {
   Cap c;
   cap_init(&c);
   feed(&c, "\x1b[31mred\x1b[0m plain\n");
   feed(&c, "\x1b[1;4;92mA\x1b[22;24;39;104mB\x1b[49mC\n");
   feed(&c, "\x1b[38;5;200mX\x1b[48;5;17mY\x1b[38;2;1;2;3mZ\x1b[48;2;255;128;0mW\x1b[m\n");
   feed(&c, "\x1b[38:5:9mP\x1b[38:2::10:20:30mQ\x1b[38:2:40:50:60mR\x1b[48:2:1:7:8:9mS\x1b[0m\n");
   feed(&c, "\x1b[2;3;5;7;9mT\x1b[23;25;27;29mU\x1b[4:3mV\x1b[4:0mW\x1b[21mX\x1b[0m\n");
   feed(&c, "\x1b[38;5;300mbad\x1b[58;5;1mul\x1b[99;31mok\x1b[0m\n"); /* invalid / ignored */
   cr_assert_eq(c.n, 6);

   Line* l = &c.lines[0];
   cr_assert_str_eq(l->text, "red plain");
   cr_assert_eq(l->nruns, 2);
   assert_run(l, 0, 0, st(COLOR_INDEX(1), 0, 0));
   assert_run(l, 1, 3, st(0, 0, 0));

   l = &c.lines[1];
   cr_assert_str_eq(l->text, "ABC");
   cr_assert_eq(l->nruns, 3);
   assert_run(l, 0, 0, st(COLOR_INDEX(10), 0, ATTR_BOLD | ATTR_UNDERLINE));
   assert_run(l, 1, 1, st(0, COLOR_INDEX(12), 0));
   assert_run(l, 2, 2, st(0, 0, 0));

   l = &c.lines[2];
   cr_assert_eq(l->nruns, 4);
   assert_run(l, 0, 0, st(COLOR_INDEX(200), 0, 0));
   assert_run(l, 1, 1, st(COLOR_INDEX(200), COLOR_INDEX(17), 0));
   assert_run(l, 2, 2, st(COLOR_RGB(1, 2, 3), COLOR_INDEX(17), 0));
   assert_run(l, 3, 3, st(COLOR_RGB(1, 2, 3), COLOR_RGB(255, 128, 0), 0));

   l = &c.lines[3];
   cr_assert_eq(l->nruns, 4);
   assert_run(l, 0, 0, st(COLOR_INDEX(9), 0, 0));
   assert_run(l, 1, 1, st(COLOR_RGB(10, 20, 30), 0, 0));
   assert_run(l, 2, 2, st(COLOR_RGB(40, 50, 60), 0, 0));
   assert_run(l, 3, 3, st(COLOR_RGB(40, 50, 60), COLOR_RGB(7, 8, 9), 0));

   l = &c.lines[4];
   cr_assert_str_eq(l->text, "TUVWX");
   uint16_t all = ATTR_DIM | ATTR_ITALIC | ATTR_BLINK | ATTR_REVERSE | ATTR_STRIKE;
   assert_run(l, 0, 0, st(0, 0, all));
   assert_run(l, 1, 1, st(0, 0, ATTR_DIM));
   assert_run(l, 2, 2, st(0, 0, ATTR_DIM | ATTR_UNDERLINE));
   assert_run(l, 3, 3, st(0, 0, ATTR_DIM));
   cr_assert_eq(l->nruns, 4, "21 (bold off) on a non-bold style changes nothing");

   l = &c.lines[5];
   cr_assert_str_eq(l->text, "badulok");
   cr_assert_eq(l->nruns, 1, "index 300 and 58;5;1 change nothing; 99 is ignored");
   assert_run(l, 0, 5, st(COLOR_INDEX(1), 0, 0));
   cap_done(&c);
}

Test(ansi, runs_merge) {
   Cap c;
   cap_init(&c);
   feed(&c, "\x1b[31m\x1b[32mX\n");                  /* same offset: the later replaces */
   feed(&c, "\x1b[33mA\x1b[33mB\x1b[1m\x1b[22mC\n"); /* equal to the previous: no new run */
   feed(&c, "\x1b[0mplain\x1b[31m\x1b[0m\n");        /* a change with no text after it: no run */
   cr_assert_eq(c.n, 3);
   cr_assert_eq(c.lines[0].nruns, 1);
   assert_run(&c.lines[0], 0, 0, st(COLOR_INDEX(2), 0, 0));
   cr_assert_eq(c.lines[1].nruns, 1);
   cr_assert_eq(c.lines[2].nruns, 0, "an all-default line has no runs");
   cap_done(&c);
}

Test(ansi, style_persists_across_lines) {
   Cap c;
   cap_init(&c);
   feed(&c, "\x1b[32mgreen\nstill green\n\x1b[0mplain\n\x1b[1m");
   cr_assert_eq(c.n, 3);
   assert_run(&c.lines[0], 0, 0, st(COLOR_INDEX(2), 0, 0));
   cr_assert_eq(c.lines[1].nruns, 1);
   assert_run(&c.lines[1], 0, 0, st(COLOR_INDEX(2), 0, 0));
   cr_assert_eq(c.lines[2].nruns, 0);
   Style s = ansi_style(c.p);
   cr_assert_eq(s.attr, ATTR_BOLD);
   cr_assert_eq(s.fg, COLOR_DEFAULT);
   feed(&c, "\x1b"
            "c"); /* RIS resets */
   cr_assert_eq(ansi_style(c.p).attr, 0);
   cap_done(&c);
}

Test(ansi, invalid_utf8_nul_controls) {
   EXPECT_LINES("a\0b\xff\xfe\xc3\n", "ab\xff\xfe\xc3");
   EXPECT_LINES("bell\a\x01\x7f!\n", "bell!");
   EXPECT_LINES("\xc3\xa9t\xc3\xa9\n", "\xc3\xa9t\xc3\xa9");
   EXPECT_LINES("\x9b"
                "31m\n",
                "\x9b"
                "31m"); /* 8-bit C1 is not interpreted in UTF-8 */
}

Test(ansi, lone_esc_and_charsets) {
   EXPECT_LINES("a\x1b\nb\n", "a", "b");
   EXPECT_LINES("x\x1b\xc3\xa9y\n", "x\xc3\xa9y");
   EXPECT_LINES("\x1b(Bhello\x1b)0 \x1b#8world\x1b=\x1b>\n", "hello world");
   EXPECT_LINES("a\x1b\x1b[31mb\n", "ab");
   EXPECT_LINES("a\x1b[3\x18"
                "1mb\n",
                "a1mb"); /* CAN aborts a sequence */
}

Test(ansi, unterminated_caps) {
   /* CSI: 64 parameter bytes are dropped, the rest is text again */
   char csi[200];
   strcpy(csi, "\x1b[");
   memset(csi + 2, '1', 100);
   strcpy(csi + 102, "hi\n");
   Cap c;
   cap_init(&c);
   feed(&c, csi);
   cr_assert_eq(c.n, 1);
   cr_assert_eq(c.lines[0].len, 36 + 2);
   cr_assert(memcmp(c.lines[0].text + 36, "hi", 2) == 0);
   cap_done(&c);

   /* OSC: dropped after 4 KiB */
   char* osc = malloc(6000);
   strcpy(osc, "\x1b]0;");
   memset(osc + 4, 'a', 5000);
   strcpy(osc + 5004, "\n");
   cap_init(&c);
   feed(&c, osc);
   cr_assert_eq(c.n, 1);
   cr_assert_eq(c.lines[0].len, 5002 - 4096);
   cap_done(&c);

   /* DCS: same cap, and ST ends it */
   memcpy(osc, "\x1bP", 2);
   cap_init(&c);
   feed(&c, osc);
   feed(&c, "\x1bPq#0;2;0;0;0\x1b\\after\n");
   cr_assert_eq(c.n, 2);
   cr_assert_eq(c.lines[0].len, 5002 - 4096);
   cr_assert_str_eq(c.lines[1].text, "after");
   cap_done(&c);
   free(osc);

   EXPECT_LINES("\x1b[1;2;3 q text\n", " text");      /* intermediate: dropped as a whole */
   EXPECT_LINES("x\x1b[31\xc3\xa9y\n", "x\xc3\xa9y"); /* a UTF-8 byte ends a CSI */
}

Test(ansi, osc) {
   EXPECT_LINES("\x1b]0;title\ahi\n", "hi");
   EXPECT_LINES("\x1b]8;;http://example.com\x1b\\link\x1b]8;;\x1b\\ text\n", "link text");
   EXPECT_LINES("\x1b]8;;http://example.com\alink\x1b]8;;\a text\n", "link text");
   EXPECT_LINES("\x1b]2;t\x1b[31mred\n", "red"); /* ESC not followed by \: ends the OSC */
   EXPECT_LINES("\x1b_apc\x1b\\\x1b^pm\x1b\\\x1bXsos\x1b\\ok\n", "ok");
}

static void expect_reply(const char* input, const char* want) {
   Cap c;
   cap_init(&c);
   feed(&c, input);
   cr_assert_eq(c.nreply, strlen(want), "reply to %s: got %zu bytes", input + 1, c.nreply);
   cr_assert(memcmp(c.reply, want, c.nreply) == 0, "reply to %s", input + 1);
   cap_done(&c);
}

Test(ansi, queries) {
   expect_reply("\x1b[6n", "\x1b[1;1R");
   expect_reply("ab\x1b[6n", "\x1b[1;3R");
   expect_reply("\xc3\xa9\xe2\x82\xac\x1b[6n", "\x1b[1;3R"); /* characters, not bytes */
   expect_reply("abc\r\x1b[6n", "\x1b[1;1R");
   expect_reply("\x1b[5n", "\x1b[0n");
   expect_reply("\x1b[c", "\x1b[?1;2c");
   expect_reply("\x1b[0c", "\x1b[?1;2c");
   expect_reply("\x1b[>c", "\x1b[>0;0;0c");
   expect_reply("\x1b]11;?\a", "\x1b]11;rgb:0000/0000/0000\a");
   expect_reply("\x1b]11;?\x1b\\", "\x1b]11;rgb:0000/0000/0000\x1b\\");
   expect_reply("\x1b]10;?\a", "\x1b]10;rgb:ffff/ffff/ffff\a");
   expect_reply("\x1b]11;rgb:1/2/3\a\x1b[?6n\x1b[>5c", ""); /* a set, not a query; others: none */

   /* the column is clamped to the width */
   Cap c;
   cap_init(&c);
   char line[200];
   memset(line, 'x', sizeof line - 1);
   line[sizeof line - 1] = '\0';
   feed(&c, line);
   feed(&c, "\x1b[6n");
   cr_assert_str_eq(c.reply, "\x1b[1;80R");
   ansi_set_width(c.p, 300);
   c.nreply = 0;
   feed(&c, "\x1b[6n");
   c.reply[c.nreply] = '\0';
   cr_assert_str_eq(c.reply, "\x1b[1;200R");
   cap_done(&c);

   /* no reply callback: queries are dropped quietly */
   AnsiSink sink = {.line = on_line};
   cap_init(&c);
   ansi_free(c.p);
   c.p = ansi_new(&sink, &c);
   feed(&c, "\x1b[6nok\n");
   cr_assert_eq(c.n, 1);
   cap_done(&c);
}

Test(ansi, backspace) {
   EXPECT_LINES("abc\b\bX\n", "aX");
   EXPECT_LINES("\xc3\xa9\bx\n", "x");
   EXPECT_LINES("a\xe2\x82\xac\bb\n", "ab");
   EXPECT_LINES("\b\bz\n", "z");
   EXPECT_LINES("ab\r\bc\n", "c");

   Cap c;
   cap_init(&c);
   feed(&c, "a\x1b[31mb\bc\n"); /* the deleted run goes, the new text gets the style again */
   cr_assert_str_eq(c.lines[0].text, "ac");
   cr_assert_eq(c.lines[0].nruns, 1);
   assert_run(&c.lines[0], 0, 1, st(COLOR_INDEX(1), 0, 0));
   cap_done(&c);
}

/* Everything the parser sees at once vs byte by byte vs in random pieces: same lines. */
static const char k_corpus[] =
    "plain line\n\x1b[31mred\x1b[0m and \x1b[1;38;5;208mbold orange\x1b[m\r\n"
    "10%\r20%\r\x1b[32m30%\x1b[0m\n\x1b]8;;http://x.y/z\x1b\\link\x1b]8;;\x1b\\\n"
    "\x1b[38:2::1:2:3mrgb\x1b[48;2;4;5;6mbg\x1b[0m\x1b[6n\x1b[c\n"
    "\xc3\xa9\xe2\x82\xac\bx\x1b(B\x1b]11;?\a\x1b[2K\rgone\x1b[K\rkept\n"
    "\x1bPq\x1b\\\x1b[>c\x1b\x1b[4:3mund\x1b[24m\x1b[?25l\x1b[?25h\0nul\ttab\n"
    "\x1b]0;title\x1b\\unterminated \x1b[12;";

static void run_split(Cap* c, size_t seed) {
   size_t n = sizeof k_corpus - 1;
   srand((unsigned)seed);
   for (size_t i = 0; i < n;) {
      size_t k = seed == 0 ? n : seed == 1 ? 1 : 1 + (size_t)rand() % 7;
      if (k > n - i) k = n - i;
      ansi_feed(c->p, k_corpus + i, k);
      i += k;
   }
   ansi_flush(c->p);
}

Test(ansi, split_feeds_identical) {
   Cap whole;
   cap_init(&whole);
   run_split(&whole, 0);
   cr_assert_geq(whole.n, 7);
   for (size_t seed = 1; seed < 40; seed++) {
      Cap c;
      cap_init(&c);
      run_split(&c, seed);
      cr_assert_eq(c.n, whole.n, "seed %zu", seed);
      for (size_t i = 0; i < c.n; i++) {
         cr_assert_eq(c.lines[i].len, whole.lines[i].len, "seed %zu line %zu", seed, i);
         cr_assert(memcmp(c.lines[i].text, whole.lines[i].text, c.lines[i].len) == 0);
         cr_assert_eq(c.lines[i].nruns, whole.lines[i].nruns, "seed %zu line %zu", seed, i);
         cr_assert(memcmp(c.lines[i].runs, whole.lines[i].runs,
                          c.lines[i].nruns * sizeof(StyleRun)) == 0);
      }
      cr_assert_eq(c.nreply, whole.nreply);
      cr_assert(memcmp(c.reply, whole.reply, c.nreply) == 0);
      cap_done(&c);
   }
   cr_assert_str_eq(whole.lines[0].text, "plain line");
   cr_assert_str_eq(whole.lines[2].text, "30%");
   cr_assert_str_eq(whole.lines[3].text, "link");
   cr_assert_str_eq(whole.lines[5].text, "kept");
   cap_done(&whole);
}

Test(ansi, huge_line_stays_bounded) {
   Cap c;
   cap_init(&c);
   c.keep = false;
   size_t total = 10u * 1024u * 1024u;
   char* chunk = malloc(65536);
   memset(chunk, 'a', 65536);
   for (size_t done = 0; done < total; done += 65536) ansi_feed(c.p, chunk, 65536);
   const char* text;
   uint32_t len;
   const StyleRun* runs;
   uint16_t nruns;
   ansi_partial(c.p, &text, &len, &runs, &nruns);
   cr_assert_leq(len, LOGSTORE_MAX_LINE);
   cr_assert_leq(c.max_len, LOGSTORE_MAX_LINE);
   cr_assert_eq(c.bytes + len, total, "no byte lost");
   cr_assert_geq(c.n, total / LOGSTORE_MAX_LINE - 1);
   ansi_flush(c.p);
   cr_assert_eq(c.bytes, total);
   free(chunk);
   cap_done(&c);
}

Test(ansi, cut_lines_are_continued_and_utf8_whole) {
   Cap c;
   cap_init(&c);
   /* 3-byte characters: 65536 is not a multiple of 3, the cut must move back */
   feed(&c, "\x1b[35m");
   for (int i = 0; i < 50000; i++) feed(&c, "\xe2\x82\xac");
   feed(&c, "\nnext\n");
   cr_assert_eq(c.n, 4);
   uint64_t sum = 0;
   for (int i = 0; i < 3; i++) {
      cr_assert_eq(c.lines[i].len % 3, 0, "line %d cut inside a character", i);
      cr_assert_eq(c.lines[i].cont, i > 0);
      cr_assert_eq(c.lines[i].nruns, 1, "each piece starts in the style in force");
      assert_run(&c.lines[i], 0, 0, st(COLOR_INDEX(5), 0, 0));
      sum += c.lines[i].len;
   }
   cr_assert_eq(sum, 150000);
   cr_assert_not(c.lines[3].cont);

   /* more than LOGSTORE_MAX_RUNS style changes: cut too */
   cap_reset(&c);
   for (int i = 0; i < 3000; i++) {
      char s[32];
      snprintf(s, sizeof s, "\x1b[3%dmx", i % 2 + 1);
      feed(&c, s);
   }
   feed(&c, "\n");
   cr_assert_eq(c.n, 3);
   cr_assert_eq(c.lines[0].nruns, LOGSTORE_MAX_RUNS);
   cr_assert(c.lines[1].cont && c.lines[2].cont);
   cr_assert_eq(c.lines[0].len + c.lines[1].len + c.lines[2].len, 3000);
   cap_done(&c);
}

/* Random bytes, mostly from an escape-heavy alphabet, flushed now and then: whatever the parser
 * makes of them it must make the same however the reads split them (a PTY read may end
 * anywhere), and every line keeps the invariants on_line checks. tests/fuzz/fuzz_ansi.c
 * explores further, guided by coverage. */
static uint32_t xorshift(uint64_t* s) {
   *s ^= *s << 13;
   *s ^= *s >> 7;
   *s ^= *s << 17;
   return (uint32_t)(*s >> 32);
}

enum { RANDOM_ROUNDS = 2000 };

/* Feeds stream[0..n) in pieces of 1..97 bytes (split_seed 0: one piece per round), flushing
 * after every 100th round (round_end[r]: where round r ends). */
static void feed_random(Cap* c, const char* stream, size_t n, const size_t* round_end,
                        uint64_t split_seed) {
   size_t r = 0;
   for (size_t i = 0; i < n;) {
      size_t end = round_end[r];
      size_t k = split_seed ? 1 + xorshift(&split_seed) % 97 : end - i;
      if (k > end - i) k = end - i;
      ansi_feed(c->p, stream + i, k);
      i += k;
      if (i == end) {
         if (r % 100 == 0) ansi_flush(c->p);
         r++;
      }
   }
   ansi_flush(c->p);
}

Test(ansi, random_bytes_same_result_however_split) {
   static const char alphabet[] =
       "\x1b[]();:?>0123456789mKGncPX^_\\\a\r\n\b\t\x18\x1a\x7f\xc3\xa9 ahlJHf";
   size_t* round_end = malloc(RANDOM_ROUNDS * sizeof *round_end);
   char* stream = malloc(RANDOM_ROUNDS * 4096);
   size_t n = 0;
   uint64_t seed = 1234;
   for (int round = 0; round < RANDOM_ROUNDS; round++) {
      size_t len = 1 + xorshift(&seed) % 4096;
      for (size_t i = 0; i < len; i++) {
         uint32_t x = xorshift(&seed);
         stream[n++] = round % 3 == 0 ? (char)x : alphabet[x % (sizeof alphabet - 1)];
      }
      round_end[round] = n;
   }
   Cap whole;
   cap_init(&whole);
   whole.keep = false;
   feed_random(&whole, stream, n, round_end, 0);
   cr_assert_gt(whole.n, 1000, "random text has line breaks: %zu lines", whole.n);
   for (uint64_t split = 1; split <= 4; split++) {
      Cap c;
      cap_init(&c);
      c.keep = false;
      feed_random(&c, stream, n, round_end, split * 0x9E3779B97F4A7C15ull);
      cr_expect_eq(c.n, whole.n, "split %" PRIu64 ": %zu lines, whole: %zu", split, c.n, whole.n);
      cr_expect_eq(c.bytes, whole.bytes, "split %" PRIu64 ": text bytes", split);
      cr_expect_eq(c.hash, whole.hash, "split %" PRIu64 ": lines, styles or replies differ", split);
      cap_done(&c);
   }
   cap_done(&whole);
   free(stream);
   free(round_end);
}
