/* The output parser's screen side (core/ansi.h): DEC private modes, the alternate screen, screen
 * clears and the blank lines held back before them, and ansi_set_answer. What the sink sees is
 * written into one string, in order: a line as `text|`, a clear as `<C>`, a modes call as
 * `<M%x>`, so each test compares the whole story at once. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ansi.h"
#include "core/term.h"

typedef struct Rec {
   AnsiParser* p;
   char* out; /* owned */
   size_t n, cap;
   char reply[256];
   size_t nreply;
   unsigned lines, blank, clears, modes_calls;
} Rec;

static void put(Rec* r, const char* s, size_t n) {
   if (r->n + n + 1 > r->cap) {
      r->cap = (r->n + n + 1) * 2;
      r->out = realloc(r->out, r->cap);
   }
   memcpy(r->out + r->n, s, n);
   r->n += n;
   r->out[r->n] = '\0';
}

static void on_line(void* ud, const char* text, uint32_t len, const StyleRun* runs,
                    uint16_t nruns) {
   (void)runs, (void)nruns;
   Rec* r = ud;
   r->lines++;
   r->blank += len == 0;
   put(r, text, len);
   put(r, "|", 1);
}

static void on_reply(void* ud, const char* bytes, size_t n) {
   Rec* r = ud;
   cr_assert_leq(r->nreply + n, sizeof r->reply - 1);
   memcpy(r->reply + r->nreply, bytes, n);
   r->nreply += n;
   r->reply[r->nreply] = '\0';
}

static void on_modes(void* ud, unsigned modes) {
   Rec* r = ud;
   cr_assert_eq(modes, ansi_modes(r->p), "the call gives what ansi_modes says");
   r->modes_calls++;
   char s[16];
   int k = snprintf(s, sizeof s, "<M%x>", modes);
   put(r, s, (size_t)k);
}

static void on_clear(void* ud) {
   Rec* r = ud;
   cr_assert_eq(ansi_modes(r->p) & TERM_MODE_ALTSCREEN, 0, "no clear on the alternate screen");
   r->clears++;
   put(r, "<C>", 3);
}

static void rec_init(Rec* r) {
   memset(r, 0, sizeof *r);
   static const AnsiSink sink = {
       .line = on_line, .reply = on_reply, .modes = on_modes, .clear = on_clear};
   r->p = ansi_new(&sink, r);
   put(r, "", 0);
}

static void rec_done(Rec* r) {
   ansi_free(r->p);
   free(r->out);
}

static void rec_clear(Rec* r) {
   r->n = 0;
   r->out[0] = '\0';
}

static void feed(Rec* r, const char* s) {
   ansi_feed(r->p, s, strlen(s));
}

/* Feeds `in` whole, then again byte by byte through a fresh parser (a PTY read may split
 * anything anywhere); both must tell `want`, flushed or not as `flush` says. */
static void expect_story(const char* in, bool flush, const char* want) {
   for (int split = 0; split < 2; split++) {
      Rec r;
      rec_init(&r);
      if (split)
         for (size_t i = 0; in[i]; i++) ansi_feed(r.p, in + i, 1);
      else
         feed(&r, in);
      if (flush) ansi_flush(r.p);
      cr_assert_str_eq(r.out, want, "%s: input %s", split ? "byte by byte" : "whole", in);
      rec_done(&r);
   }
}

/* ---------------------------------------------------------------- modes */

Test(ansi_screen, modes_on_and_off) {
   Rec r;
   rec_init(&r);
   feed(&r, "\x1b[?1h");
   cr_assert_eq(ansi_modes(r.p), TERM_MODE_APPCURSOR);
   feed(&r, "\x1b[?2004h");
   cr_assert_eq(ansi_modes(r.p), TERM_MODE_APPCURSOR | TERM_MODE_PASTE);
   feed(&r, "\x1b[?1l\x1b[?2004l");
   cr_assert_eq(ansi_modes(r.p), 0);
   cr_assert_str_eq(r.out, "<M2><M6><M4><M0>");

   /* mouse: any of 1000/1002/1003; turning one off leaves it on while another is set */
   rec_clear(&r);
   feed(&r, "\x1b[?1000h\x1b[?1002h");
   cr_assert_eq(ansi_modes(r.p), TERM_MODE_MOUSE);
   feed(&r, "\x1b[?1000l");
   cr_assert_eq(ansi_modes(r.p), TERM_MODE_MOUSE);
   feed(&r, "\x1b[?1002l\x1b[?1003h\x1b[?1006h");
   cr_assert_eq(ansi_modes(r.p), TERM_MODE_MOUSE | TERM_MODE_MOUSE_SGR);
   feed(&r, "\x1b[?1003;1006l");
   cr_assert_eq(ansi_modes(r.p), 0);
   cr_assert_str_eq(r.out, "<M8><M0><M8><M18><M0>", "one call per change, none without one");

   /* several in one sequence: one call; alternate screen by each of its three numbers */
   rec_clear(&r);
   feed(&r, "\x1b[?1049;1006h");
   cr_assert_eq(ansi_modes(r.p), TERM_MODE_ALTSCREEN | TERM_MODE_MOUSE_SGR);
   feed(&r, "\x1b[?1049l\x1b[?1006l\x1b[?47h\x1b[?47l\x1b[?1047h\x1b[?1047l");
   cr_assert_str_eq(r.out, "<M11><M10><M0><M1><M0><M1><M0>");

   /* not DEC private (ANSI modes such as insert), or modes the log does not need: nothing */
   rec_clear(&r);
   feed(&r, "\x1b[1h\x1b[4h\x1b[2004h\x1b[?25l\x1b[?7h\x1b[?1004h\x1b[?1$h");
   cr_assert_eq(ansi_modes(r.p), 0);
   cr_assert_str_eq(r.out, "");

   /* ESC c resets them all (and is a clear) */
   feed(&r, "\x1b[?1;2004;1000;1006h");
   feed(&r, "\x1b"
            "c");
   cr_assert_eq(ansi_modes(r.p), 0);
   cr_assert_str_eq(r.out, "<M1e><M0><C>");
   rec_done(&r);
}

Test(ansi_screen, reset_turns_modes_off) {
   Rec r;
   rec_init(&r);
   feed(&r, "x\n\x1b[?1049h\x1b[?1hdrawn");
   ansi_reset(r.p);
   cr_assert_eq(ansi_modes(r.p), 0);
   feed(&r, "next run\n");
   cr_assert_str_eq(r.out, "x|<M1><M3><M0>next run|");
   ansi_reset(r.p); /* nothing on: no call */
   cr_assert_eq(r.modes_calls, 3);
   /* ansi_flush keeps the modes (brum writes markers while a full-screen child runs) */
   feed(&r, "\x1b[?1049h");
   ansi_flush(r.p);
   cr_assert_eq(ansi_modes(r.p), TERM_MODE_ALTSCREEN);
   rec_done(&r);
}

/* ---------------------------------------------------------------- the alternate screen */

Test(ansi_screen, alternate_screen_text_is_not_stored) {
   /* less error.log: nothing it draws becomes a line, not even what it prints as lines */
   expect_story("before\n\x1b[?1049h\x1b[H\x1b[2JSECRET error: boom\r\nmore\n~\n\x1b[7m(END)"
                "\x1b[27m\x1b[?1049lafter\n",
                true, "before|<M1><M0>after|");
   /* the unfinished line of the primary screen waits, and goes on after */
   expect_story("prompt> \x1b[?1049hdrawn\rover\b\x1b[K\x1b[2K\x1b[G\x1b[?1049lanswer\n", true,
                "<M1><M0>prompt> answer|");
   /* a \r pending on the primary screen still rewrites the line after leaving */
   expect_story("50%\r\x1b[?1049hx\n\x1b[?1049l100%\n", true, "<M1><M0>100%|");
   /* clears on the alternate screen are not reported */
   expect_story("\x1b[?1049h\x1b[2J\x1b[3J\x1b"
                "c",
                true, "<M1><M0><C>");
   expect_story("\x1b[?47h\x1b[2J\x1b[H\x1b[J\x1b[?47l", true, "<M1><M0>");
}

Test(ansi_screen, alternate_screen_partial_and_style) {
   Rec r;
   rec_init(&r);
   feed(&r, "\x1b[31mred \x1b[?1049h\x1b[32;1mgreen on alt");
   const char* text;
   uint32_t len;
   const StyleRun* runs;
   uint16_t nruns;
   ansi_partial(r.p, &text, &len, &runs, &nruns);
   cr_assert_eq(len, 4, "the partial line is the primary screen's");
   cr_assert(memcmp(text, "red ", 4) == 0);
   feed(&r, "\x1b[?1049l");
   Style s = ansi_style(r.p);
   cr_assert_eq(s.fg, COLOR_INDEX(1), "the style of the primary screen is restored");
   cr_assert_eq(s.attr, 0);
   feed(&r, "still red\n");
   cr_assert_str_eq(r.out, "<M1><M0>red still red|");
   rec_done(&r);
}

Test(ansi_screen, blank_lines_before_the_alternate_screen_are_emitted_first) {
   expect_story("a\n\n\n\x1b[?1049h\n\n\x1b[?1049l", false, "a|||<M1><M0>");
}

Test(ansi_screen, queries_answered_on_the_alternate_screen) {
   Rec r;
   rec_init(&r);
   feed(&r, "text\x1b[?1049hmore\x1b[6n\x1b[c");
   cr_assert_str_eq(r.reply, "\x1b[1;1R\x1b[?1;2c");
   rec_done(&r);
}

/* ---------------------------------------------------------------- clears */

Test(ansi_screen, each_clear_variant_is_one_clear) {
   static const char* const clears[] = {
       "\x1b[2J",
       "\x1b[3J",
       "\x1b"
       "c",                      /* tsc --watch */
       "\x1b[H\x1b[J",           /* home, erase down */
       "\x1b[H\x1b[0J",          /* */
       "\x1b[1;1H\x1b[J",        /* */
       "\x1b[1;1H\x1b[0J",       /* Vite: readline cursorTo(0, 0) + clearScreenDown */
       "\x1b[;H\x1b[J",          /* */
       "\x1b[0;0f\x1b[J",        /* */
       "\x1b[2J\x1b[3J\x1b[H",   /* Jest, Vitest */
       "\x1b[1;1H\x1b[J\x1b[3J", /* Vitest's clear */
       "\x1b[2J\x1b[0f",         /* Jest on Windows */
       "\x1b[H\x1b[2J\x1b[3J",   /* clear(1) */
       "\x1b"
       "c\x1b[2J\x1b[3J\x1b[H",         /* */
       "\x1b[H\x1b[31m\x1b[?25l\x1b[J", /* SGR and mode changes between home and erase */
   };
   for (size_t i = 0; i < sizeof clears / sizeof clears[0]; i++) {
      char in[128];
      snprintf(in, sizeof in, "old\n%snew\n", clears[i]);
      expect_story(in, true, "old|<C>new|");
   }
}

Test(ansi_screen, not_clears) {
   static const char* const others[] = {
       "\x1b[J",              /* erase down from wherever the cursor is (progress redraws) */
       "\x1b[0J",             /* */
       "\x1b[1J",             /* erase up */
       "\x1b[5;1H\x1b[J",     /* not home */
       "\x1b[1;3H\x1b[J",     /* */
       "\x1b[H",              /* home alone */
       "\x1b[H\n\x1b[J",      /* something between */
       "\x1b[H\x1b[1A\x1b[J", /* */
       "\x1b[?2J",            /* selective erase */
       "\x1b[2K",             /* */
   };
   for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
      char in[128];
      snprintf(in, sizeof in, "old\n%snew\n", others[i]);
      Rec r;
      rec_init(&r);
      feed(&r, in);
      ansi_flush(r.p);
      cr_assert_eq(r.clears, 0, "%s is not a clear", others[i] + 1);
      rec_done(&r);
   }
   /* text after home: the burst is over */
   expect_story("old\n\x1b[Hx\x1b[J\n", true, "old|x|");
}

Test(ansi_screen, a_burst_is_one_clear_text_starts_a_new_one) {
   expect_story("a\n\x1b[2J\x1b[3J\x1b[H\x1b[2J\x1b"
                "c\x1b[H\x1b[J",
                true, "a|<C>");
   /* blank lines between clears draw nothing: still one */
   expect_story("a\n\x1b[2J\n\n\x1b[2J\n\x1b[H\x1b[Jb\n", true, "a|<C>b|");
   expect_story("a\n\x1b[2Jb\n\x1b[2Jc\x1b[2J", true, "a|<C>b|<C>c|<C>");
   /* after ansi_flush (a marker line came) a clear is a new one */
   Rec r;
   rec_init(&r);
   feed(&r, "\x1b[2J");
   ansi_flush(r.p);
   feed(&r, "\x1b[2J");
   cr_assert_eq(r.clears, 2);
   rec_done(&r);
}

Test(ansi_screen, unfinished_line_before_a_clear_is_kept) {
   expect_story("build 50%\r\x1b[2Jdone\n", true, "build 50%|<C>done|");
   expect_story("prompt> \x1b[H\x1b[Jready\n", true, "prompt> |<C>ready|");
   /* erased before the clear: nothing to keep */
   expect_story("x\r\x1b[K\x1b[2Jy\n", true, "<C>y|");
}

Test(ansi_screen, vite_padding_then_clear_leaves_no_blank_line) {
   /* Vite 5 clearScreen: '\n'.repeat(rows - 2) through console.log (one more \n), then
    * readline.cursorTo(0, 0) and clearScreenDown */
   char in[512];
   size_t n = (size_t)snprintf(in, sizeof in, "  page reload src/App.tsx\n");
   for (int i = 0; i < 39; i++) in[n++] = '\n';
   n +=
       (size_t)snprintf(in + n, sizeof in - n,
                        "\x1b[1;1H\x1b[0J\n  \x1b[32m\x1b[1mVITE\x1b[22m v5.4.21\x1b[39m  ready\n");
   expect_story(in, true, "  page reload src/App.tsx|<C>|  VITE v5.4.21  ready|");
   Rec r;
   rec_init(&r);
   feed(&r, in);
   ansi_flush(r.p);
   cr_assert_eq(r.clears, 1);
   cr_assert_eq(r.blank, 1, "only the blank line after the clear, which Vite prints");
   rec_done(&r);
}

Test(ansi_screen, blank_lines_followed_by_text_are_kept) {
   expect_story("a\n\n\nb\n", true, "a|||b|");
   expect_story("\n\n", true, "||"); /* at the end of output: emitted by ansi_flush */
   Rec r;
   rec_init(&r);
   feed(&r, "a\n\n\n");
   cr_assert_str_eq(r.out, "a|", "held until what follows is known");
   feed(&r, "b");
   cr_assert_str_eq(r.out, "a|||", "text follows: emitted before it, at once");
   feed(&r, "\n\x1b[2J");
   cr_assert_str_eq(r.out, "a|||b|<C>", "a line once emitted is never taken back");
   /* held blank lines stay held across mode changes other than the alternate screen */
   rec_clear(&r);
   feed(&r, "\n\n\x1b[?2004h\x1b[?2004l\x1b[2J");
   cr_assert_str_eq(r.out, "<M4><M0>");
   rec_done(&r);
}

Test(ansi_screen, held_blank_lines_are_bounded) {
   Rec r;
   rec_init(&r);
   for (int i = 0; i < 1500; i++) feed(&r, "\n");
   cr_assert_eq(r.lines, 500, "at most 1000 held: the oldest beyond are emitted");
   feed(&r, "\x1b[2Jx\n");
   cr_assert_eq(r.lines, 501);
   cr_assert_eq(r.blank, 500);
   cr_assert_eq(r.clears, 1);
   rec_done(&r);
}

/* ---------------------------------------------------------------- answers */

Test(ansi_screen, answers_can_be_turned_off) {
   static const char queries[] = "\x1b[6n\x1b[5n\x1b[c\x1b[>c";
   Rec r;
   rec_init(&r);
   ansi_set_answer(r.p, false);
   feed(&r, queries);
   feed(&r, "\x1b[?1049h");
   feed(&r, queries);
   cr_assert_eq(r.nreply, 0, "an emulator answers them: not the parser");
   /* libvterm 0.1.4 does not answer the colour queries: the parser still does */
   feed(&r, "\x1b[?1049l\x1b]11;?\x1b\\");
   cr_assert_str_eq(r.reply, "\x1b]11;rgb:0000/0000/0000\x1b\\");
   memset(r.reply, 0, sizeof r.reply);
   r.nreply = 0;
   ansi_set_answer(r.p, true);
   feed(&r, "\x1b[6n");
   cr_assert_str_eq(r.reply, "\x1b[1;1R");
   rec_done(&r);
}
