/* Terminal mode without a child: the key encoder (application cursor mode off and on) and the
 * conversion of a libvterm screen into TermCells (characters, colours, attributes, wide
 * characters). */
#include <criterion/criterion.h>
#include <string.h>

#include "core/style.h"
#include "core/term.h"
#include "core/term_int.h"

static char out[64];

static const char* enc(TermKeyCode code, uint32_t ch, uint8_t mods, unsigned modes) {
   TermKey k = {.code = code, .ch = ch, .mods = mods};
   size_t n = term_encode_key(&k, modes, out, sizeof out - 1);
   out[n] = 0;
   return out;
}

Test(term_key, text_and_controls) {
   cr_assert_str_eq(enc(TK_CHAR, 'a', 0, 0), "a");
   cr_assert_str_eq(enc(TK_CHAR, 0xe9, 0, 0), "\xc3\xa9");            /* é */
   cr_assert_str_eq(enc(TK_CHAR, 0x1f600, 0, 0), "\xf0\x9f\x98\x80"); /* an emoji */
   cr_assert_str_eq(enc(TK_CHAR, 'c', TERM_MOD_CTRL, 0), "\x03");
   cr_assert_str_eq(enc(TK_CHAR, 'A', TERM_MOD_CTRL, 0), "\x01");
   cr_assert_str_eq(enc(TK_CHAR, ' ', TERM_MOD_CTRL, 0), ""); /* NUL: one byte */
   TermKey k = {.code = TK_CHAR, .ch = ' ', .mods = TERM_MOD_CTRL};
   cr_assert_eq(term_encode_key(&k, 0, out, sizeof out), 1);
   cr_assert_eq(out[0], 0);
   cr_assert_str_eq(enc(TK_CHAR, '[', TERM_MOD_CTRL, 0), "\x1b");
   cr_assert_str_eq(enc(TK_CHAR, 'x', TERM_MOD_ALT, 0), "\x1bx");
   cr_assert_str_eq(enc(TK_CHAR, 'x', TERM_MOD_ALT | TERM_MOD_CTRL, 0), "\x1b\x18");
   cr_assert_str_eq(enc(TK_ENTER, 0, 0, 0), "\r");
   cr_assert_str_eq(enc(TK_ENTER, 0, TERM_MOD_ALT, 0), "\x1b\r");
   cr_assert_str_eq(enc(TK_TAB, 0, 0, 0), "\t");
   cr_assert_str_eq(enc(TK_TAB, 0, TERM_MOD_SHIFT, 0), "\x1b[Z");
   cr_assert_str_eq(enc(TK_BACKSPACE, 0, 0, 0), "\x7f");
   cr_assert_str_eq(enc(TK_BACKSPACE, 0, TERM_MOD_CTRL, 0), "\x08");
   cr_assert_str_eq(enc(TK_ESCAPE, 0, 0, 0), "\x1b");
}

Test(term_key, cursor_keys_normal_mode) {
   cr_assert_str_eq(enc(TK_UP, 0, 0, 0), "\x1b[A");
   cr_assert_str_eq(enc(TK_DOWN, 0, 0, 0), "\x1b[B");
   cr_assert_str_eq(enc(TK_RIGHT, 0, 0, 0), "\x1b[C");
   cr_assert_str_eq(enc(TK_LEFT, 0, 0, 0), "\x1b[D");
   cr_assert_str_eq(enc(TK_HOME, 0, 0, 0), "\x1b[H");
   cr_assert_str_eq(enc(TK_END, 0, 0, 0), "\x1b[F");
   cr_assert_str_eq(enc(TK_UP, 0, TERM_MOD_CTRL, 0), "\x1b[1;5A");
   cr_assert_str_eq(enc(TK_LEFT, 0, TERM_MOD_SHIFT | TERM_MOD_ALT, 0), "\x1b[1;4D");
}

Test(term_key, cursor_keys_application_mode) {
   cr_assert_str_eq(enc(TK_UP, 0, 0, TERM_MODE_APPCURSOR), "\x1bOA");
   cr_assert_str_eq(enc(TK_LEFT, 0, 0, TERM_MODE_APPCURSOR), "\x1bOD");
   cr_assert_str_eq(enc(TK_HOME, 0, 0, TERM_MODE_APPCURSOR), "\x1bOH");
   cr_assert_str_eq(enc(TK_END, 0, 0, TERM_MODE_APPCURSOR), "\x1bOF");
   /* with a modifier xterm sends the CSI form in either mode */
   cr_assert_str_eq(enc(TK_UP, 0, TERM_MOD_CTRL, TERM_MODE_APPCURSOR), "\x1b[1;5A");
   /* the other keys do not depend on the mode */
   cr_assert_str_eq(enc(TK_PAGEUP, 0, 0, TERM_MODE_APPCURSOR), "\x1b[5~");
}

Test(term_key, editing_and_function_keys) {
   cr_assert_str_eq(enc(TK_INS, 0, 0, 0), "\x1b[2~");
   cr_assert_str_eq(enc(TK_DEL, 0, 0, 0), "\x1b[3~");
   cr_assert_str_eq(enc(TK_PAGEUP, 0, 0, 0), "\x1b[5~");
   cr_assert_str_eq(enc(TK_PAGEDOWN, 0, 0, 0), "\x1b[6~");
   cr_assert_str_eq(enc(TK_DEL, 0, TERM_MOD_CTRL, 0), "\x1b[3;5~");
   cr_assert_str_eq(enc(TK_F1, 0, 0, 0), "\x1bOP");
   cr_assert_str_eq(enc(TK_F1 + 3, 0, 0, 0), "\x1bOS");
   cr_assert_str_eq(enc(TK_F1 + 4, 0, 0, 0), "\x1b[15~");
   cr_assert_str_eq(enc(TK_F1 + 9, 0, 0, 0), "\x1b[21~");
   cr_assert_str_eq(enc(TK_F1 + 10, 0, 0, 0), "\x1b[23~");
   cr_assert_str_eq(enc(TK_F12, 0, 0, 0), "\x1b[24~");
   cr_assert_str_eq(enc(TK_F1, 0, TERM_MOD_SHIFT, 0), "\x1b[1;2P");
   cr_assert_str_eq(enc(TK_F1 + 4, 0, TERM_MOD_CTRL, 0), "\x1b[15;5~");
   cr_assert_str_eq(enc(TK_NONE, 0, 0, 0), "");
}

static const char* mouse(uint8_t button, bool press, int x, int y, uint8_t mods, unsigned modes) {
   TermKey k = {.code = TK_MOUSE,
                .button = button,
                .press = press,
                .x = (int16_t)x,
                .y = (int16_t)y,
                .mods = mods};
   size_t n = term_encode_key(&k, modes, out, sizeof out - 1);
   out[n] = 0;
   return out;
}

Test(term_key, mouse_reports) {
   cr_assert_str_eq(mouse(1, true, 0, 0, 0, 0), "", "no report without mouse mode");
   unsigned sgr = TERM_MODE_MOUSE | TERM_MODE_MOUSE_SGR;
   cr_assert_str_eq(mouse(1, true, 4, 2, 0, sgr), "\x1b[<0;5;3M");
   cr_assert_str_eq(mouse(1, false, 4, 2, 0, sgr), "\x1b[<0;5;3m");
   cr_assert_str_eq(mouse(3, true, 0, 0, TERM_MOD_CTRL, sgr), "\x1b[<18;1;1M");
   cr_assert_str_eq(mouse(4, true, 9, 9, 0, sgr), "\x1b[<64;10;10M");
   cr_assert_str_eq(mouse(5, true, 9, 9, 0, sgr), "\x1b[<65;10;10M");
   cr_assert_str_eq(mouse(1, true, 4, 2, 0, TERM_MODE_MOUSE), "\x1b[M\x20\x25\x23");
   cr_assert_str_eq(mouse(1, false, 4, 2, 0, TERM_MODE_MOUSE), "\x1b[M\x23\x25\x23");
   cr_assert_str_eq(mouse(1, true, 300, 2, 0, TERM_MODE_MOUSE), "", "X10 cannot say 301");
}

Test(term_key, never_a_truncated_sequence) {
   TermKey k = {.code = TK_F1 + 4, .mods = TERM_MOD_CTRL};
   cr_assert_eq(term_encode_key(&k, 0, out, 3), 0);
}

/* ---------------------------------------------------------------- screen rows */

static VTerm* vt;
static VTermScreen* vs;

static void vt_setup(void) {
   vt = vterm_new(5, 20);
   vterm_set_utf8(vt, 1);
   vs = vterm_obtain_screen(vt);
   vterm_screen_enable_altscreen(vs, 1);
   vterm_screen_reset(vs, 1);
}

static void vt_teardown(void) {
   vterm_free(vt);
}

static void feed(const char* s) {
   vterm_input_write(vt, s, strlen(s));
}

TestSuite(term_screen, .init = vt_setup, .fini = vt_teardown);

Test(term_screen, characters_colours_attributes) {
   feed("\x1b[1;31mA\x1b[0m\x1b[38;5;200;48;2;1;2;3mB\x1b[0;4;7mC\x1b[0m D");
   TermCell row[20];
   term_read_row(vs, row, 0, 20);
   cr_assert_eq(row[0].ch, 'A');
   cr_assert_eq(row[0].fg, COLOR_INDEX(1));
   cr_assert_eq(row[0].bg, COLOR_DEFAULT);
   cr_assert(row[0].attr & ATTR_BOLD);
   cr_assert_eq(row[1].ch, 'B');
   cr_assert_eq(row[1].fg, COLOR_INDEX(200));
   cr_assert_eq(row[1].bg, COLOR_RGB(1, 2, 3));
   cr_assert_eq(row[1].attr, 0);
   cr_assert_eq(row[2].attr, ATTR_UNDERLINE | ATTR_REVERSE);
   cr_assert_eq(row[3].ch, ' ');
   cr_assert_eq(row[10].ch, 0, "a cell never written");
   cr_assert_eq(row[4].ch, 'D');
   cr_assert_eq(row[4].fg, COLOR_DEFAULT);
   cr_assert_eq(row[4].width, 1);
}

Test(term_screen, wide_characters) {
   feed("a\xe4\xb8\xad"
        "b"); /* a 中 b */
   TermCell row[20];
   term_read_row(vs, row, 0, 20);
   cr_assert_eq(row[0].ch, 'a');
   cr_assert_eq(row[1].ch, 0x4e2d);
   cr_assert_eq(row[1].width, 2);
   cr_assert_eq(row[2].ch, 0);
   cr_assert_eq(row[2].width, 0, "the right half");
   cr_assert_eq(row[3].ch, 'b');
}

Test(term_screen, alternate_screen_and_cursor) {
   feed("primary\r\n\x1b[?1049h\x1b[2J\x1b[3;5Hhello");
   TermCell row[20];
   term_read_row(vs, row, 0, 20);
   cr_assert_eq(row[0].ch, 0, "the alternate screen starts empty");
   term_read_row(vs, row, 2, 20);
   cr_assert_eq(row[4].ch, 'h');
   VTermPos pos;
   vterm_state_get_cursorpos(vterm_obtain_state(vt), &pos);
   cr_assert_eq(pos.row, 2);
   cr_assert_eq(pos.col, 9);
   feed("\x1b[?1049l");
   term_read_row(vs, row, 0, 20);
   cr_assert_eq(row[0].ch, 'p', "leaving restores the primary screen");
}
