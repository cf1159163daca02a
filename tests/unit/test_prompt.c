#include <criterion/criterion.h>
#include <locale.h>
#include <string.h>

#include "tui/prompt.h"

static Prompt* p;

static void setup(void) {
   cr_assert_not_null(setlocale(LC_CTYPE, "C.UTF-8"), "the tests need a UTF-8 locale");
   p = prompt_new(PROMPT_HISTORY_DEFAULT);
}

static void teardown(void) {
   prompt_free(p);
}

TestSuite(prompt, .init = setup, .fini = teardown);

static void type(const char* s) {
   prompt_insert(p, s, strlen(s));
}

static void keys(int key, int times) {
   for (int i = 0; i < times; i++) prompt_key(p, key);
}

#define assert_text(...) cr_assert_str_eq(prompt_text(p), __VA_ARGS__)

Test(prompt, insert_and_move) {
   cr_assert_eq(prompt_key(p, 'a'), PROMPT_EDITED);
   prompt_key(p, 'c');
   cr_assert_eq(prompt_key(p, PROMPT_KEY_LEFT), PROMPT_MOVED);
   prompt_key(p, 'b');
   assert_text("abc");
   cr_assert_eq(prompt_cursor(p), 2);
   cr_assert_eq(prompt_key(p, PROMPT_KEY_END), PROMPT_MOVED);
   cr_assert_eq(prompt_key(p, PROMPT_KEY_END), PROMPT_UNCHANGED, "End at the end does nothing");
   cr_assert_eq(prompt_key(p, PROMPT_KEY_RIGHT), PROMPT_UNCHANGED);
   cr_assert_eq(prompt_key(p, PROMPT_KEY_HOME), PROMPT_MOVED);
   cr_assert_eq(prompt_cursor(p), 0);
   cr_assert_eq(prompt_key(p, PROMPT_KEY_LEFT), PROMPT_UNCHANGED);
   cr_assert_eq(prompt_key(p, PROMPT_KEY_CTRL_E), PROMPT_MOVED);
   cr_assert_eq(prompt_cursor(p), 3);
   cr_assert_eq(prompt_key(p, PROMPT_KEY_CTRL_A), PROMPT_MOVED);
   cr_assert_eq(prompt_cursor(p), 0);
   cr_assert_eq(prompt_key(p, 0x05), PROMPT_MOVED, "raw ^E");
   cr_assert_eq(prompt_key(p, 0x01), PROMPT_MOVED, "raw ^A");
   cr_assert_eq(prompt_key(p, PROMPT_KEY_RIGHT), PROMPT_MOVED);
   cr_assert_eq(prompt_cursor(p), 1);
}

Test(prompt, delete_keys) {
   type("hello");
   cr_assert_eq(prompt_key(p, PROMPT_KEY_BACKSPACE), PROMPT_EDITED);
   assert_text("hell");
   cr_assert_eq(prompt_key(p, PROMPT_KEY_DELETE), PROMPT_UNCHANGED, "Delete at the end");
   prompt_key(p, PROMPT_KEY_HOME);
   cr_assert_eq(prompt_key(p, PROMPT_KEY_BACKSPACE), PROMPT_UNCHANGED, "Backspace at the start");
   cr_assert_eq(prompt_key(p, PROMPT_KEY_DELETE), PROMPT_EDITED);
   assert_text("ell");
   prompt_key(p, PROMPT_KEY_RIGHT);
   cr_assert_eq(prompt_key(p, PROMPT_KEY_CTRL_K), PROMPT_EDITED);
   assert_text("e");
   type("xyz");
   prompt_key(p, PROMPT_KEY_LEFT);
   cr_assert_eq(prompt_key(p, PROMPT_KEY_CTRL_U), PROMPT_EDITED);
   assert_text("z");
   cr_assert_eq(prompt_cursor(p), 0);
   cr_assert_eq(prompt_key(p, PROMPT_KEY_CTRL_U), PROMPT_UNCHANGED);
   prompt_key(p, PROMPT_KEY_END);
   cr_assert_eq(prompt_key(p, 0x7f), PROMPT_EDITED, "raw DEL is Backspace");
   cr_assert_eq(prompt_key(p, 0x08), PROMPT_UNCHANGED, "raw BS on empty text");
   assert_text("");
}

Test(prompt, controls_are_not_inserted) {
   cr_assert_eq(prompt_key(p, 0x02), PROMPT_UNCHANGED);
   cr_assert_eq(prompt_key(p, 0x9b), PROMPT_UNCHANGED, "C1 control");
   cr_assert_eq(prompt_key(p, 0xd800), PROMPT_UNCHANGED, "surrogate");
   cr_assert_eq(prompt_key(p, 0x110000), PROMPT_UNCHANGED);
   cr_assert_eq(prompt_key(p, -5), PROMPT_UNCHANGED);
   type("a\tb\x01"
        "c");
   assert_text("a bc");
   prompt_reset(p, "x\xff"
                   "y\xe6");
   assert_text("x\xef\xbf\xbdy\xef\xbf\xbd", "invalid bytes become U+FFFD");
}

Test(prompt, utf8_characters) {
   prompt_key(p, 0xe9);    /* é */
   prompt_key(p, 0x65e5);  /* 日 */
   prompt_key(p, 0x672c);  /* 本 */
   prompt_key(p, 0x1f600); /* 😀 */
   assert_text("é日本😀");
   cr_assert_eq(prompt_len(p), 2 + 3 + 3 + 4);
   prompt_key(p, PROMPT_KEY_LEFT);
   cr_assert_eq(prompt_cursor(p), 8);
   prompt_key(p, PROMPT_KEY_LEFT);
   cr_assert_eq(prompt_cursor(p), 5);
   prompt_key(p, PROMPT_KEY_BACKSPACE);
   assert_text("é本😀");
   prompt_key(p, PROMPT_KEY_DELETE);
   assert_text("é😀");
   prompt_key(p, PROMPT_KEY_HOME);
   prompt_key(p, PROMPT_KEY_RIGHT);
   cr_assert_eq(prompt_cursor(p), 2);
   prompt_key(p, PROMPT_KEY_END);
   prompt_key(p, PROMPT_KEY_BACKSPACE);
   assert_text("é");
}

Test(prompt, combining_marks_move_with_their_base) {
   type("e\xcc\x81x"); /* e + COMBINING ACUTE, x */
   prompt_key(p, PROMPT_KEY_LEFT);
   prompt_key(p, PROMPT_KEY_LEFT);
   cr_assert_eq(prompt_cursor(p), 0, "one Left crosses e + its accent");
   prompt_key(p, PROMPT_KEY_RIGHT);
   cr_assert_eq(prompt_cursor(p), 3);
   prompt_key(p, PROMPT_KEY_DELETE);
   assert_text("e\xcc\x81");
}

Test(prompt, ctrl_w_words_and_punctuation) {
   type("grep foo.bar(baz  ");
   cr_assert_eq(prompt_key(p, PROMPT_KEY_CTRL_W), PROMPT_EDITED);
   assert_text("grep foo.bar(");
   prompt_key(p, PROMPT_KEY_CTRL_W);
   assert_text("grep foo.bar");
   prompt_key(p, 0x17); /* raw ^W */
   assert_text("grep foo.");
   prompt_key(p, PROMPT_KEY_CTRL_W);
   assert_text("grep foo");
   prompt_key(p, PROMPT_KEY_CTRL_W);
   assert_text("grep ");
   prompt_key(p, PROMPT_KEY_CTRL_W);
   assert_text("");
   cr_assert_eq(prompt_key(p, PROMPT_KEY_CTRL_W), PROMPT_UNCHANGED);

   type("^\\[(ERR|WARN)");
   prompt_key(p, PROMPT_KEY_CTRL_W);
   assert_text("^\\[(ERR|WARN");
   prompt_key(p, PROMPT_KEY_CTRL_W);
   assert_text("^\\[(ERR|");
   prompt_key(p, PROMPT_KEY_CTRL_W);
   prompt_key(p, PROMPT_KEY_CTRL_W);
   assert_text("^\\[(");
   prompt_key(p, PROMPT_KEY_CTRL_W);
   assert_text("", "a run of punctuation is one word");

   type("café 日本語 end");
   for (int i = 0; i < 4; i++) prompt_key(p, PROMPT_KEY_LEFT);
   prompt_key(p, PROMPT_KEY_CTRL_W);
   assert_text("café  end", "Ctrl-W deletes before the cursor only");
   prompt_key(p, PROMPT_KEY_CTRL_W);
   assert_text(" end");
}

Test(prompt, word_motion) {
   type("foo.bar baz");
   prompt_key(p, PROMPT_KEY_WORD_LEFT);
   cr_assert_eq(prompt_cursor(p), 8);
   prompt_key(p, PROMPT_KEY_WORD_LEFT);
   cr_assert_eq(prompt_cursor(p), 4);
   prompt_key(p, PROMPT_KEY_WORD_RIGHT);
   cr_assert_eq(prompt_cursor(p), 7);
   prompt_key(p, PROMPT_KEY_WORD_RIGHT);
   cr_assert_eq(prompt_cursor(p), 11);
}

Test(prompt, enter_and_esc) {
   type("error");
   cr_assert_eq(prompt_key(p, PROMPT_KEY_ENTER), PROMPT_SUBMIT);
   assert_text("error", "the text stays readable after Enter");
   cr_assert_eq(prompt_history_count(p), 1);
   prompt_reset(p, NULL);
   type("warn");
   cr_assert_eq(prompt_key(p, PROMPT_KEY_ESC), PROMPT_CANCEL);
   cr_assert_eq(prompt_history_count(p), 1, "Esc adds nothing");
   prompt_reset(p, NULL);
   cr_assert_eq(prompt_key(p, '\r'), PROMPT_SUBMIT);
   cr_assert_eq(prompt_history_count(p), 1, "empty text is not remembered");
   cr_assert_eq(prompt_key(p, 0x1b), PROMPT_CANCEL);
}

static void submit(const char* s) {
   prompt_reset(p, s);
   cr_assert_eq(prompt_key(p, PROMPT_KEY_ENTER), PROMPT_SUBMIT);
}

Test(prompt, history_keeps_the_draft) {
   submit("one");
   submit("two");
   submit("two");
   submit("three");
   cr_assert_eq(prompt_history_count(p), 3, "consecutive duplicates are dropped");
   prompt_reset(p, NULL);
   type("dra");
   cr_assert_eq(prompt_key(p, PROMPT_KEY_DOWN), PROMPT_UNCHANGED, "Down from the draft");
   cr_assert_eq(prompt_key(p, PROMPT_KEY_UP), PROMPT_EDITED);
   assert_text("three");
   cr_assert_eq(prompt_cursor(p), 5, "recalled text puts the cursor at the end");
   prompt_key(p, PROMPT_KEY_UP);
   assert_text("two");
   prompt_key(p, PROMPT_KEY_UP);
   assert_text("one");
   cr_assert_eq(prompt_key(p, PROMPT_KEY_UP), PROMPT_UNCHANGED, "Up at the oldest");
   assert_text("one");
   prompt_key(p, PROMPT_KEY_DOWN);
   prompt_key(p, PROMPT_KEY_DOWN);
   assert_text("three");
   cr_assert_eq(prompt_key(p, PROMPT_KEY_DOWN), PROMPT_EDITED);
   assert_text("dra", "Down past the newest returns to the unsubmitted text");
   cr_assert_eq(prompt_cursor(p), 3);
   prompt_key(p, PROMPT_KEY_UP);
   prompt_key(p, PROMPT_KEY_ENTER);
   cr_assert_eq(prompt_history_count(p), 3, "re-submitting the newest adds nothing");
   prompt_reset(p, NULL);
   prompt_key(p, PROMPT_KEY_UP);
   prompt_key(p, PROMPT_KEY_UP);
   prompt_key(p, PROMPT_KEY_ENTER);
   cr_assert_str_eq(prompt_history_get(p, 3), "two", "an older entry goes to the front again");
   cr_assert_null(prompt_history_get(p, 4));
}

Test(prompt, history_is_bounded) {
   Prompt* small = prompt_new(3);
   for (int i = 0; i < 5; i++) {
      char s[8] = {(char)('a' + i), 0};
      prompt_reset(small, s);
      prompt_key(small, PROMPT_KEY_ENTER);
   }
   cr_assert_eq(prompt_history_count(small), 3);
   cr_assert_str_eq(prompt_history_get(small, 0), "c");
   cr_assert_str_eq(prompt_history_get(small, 2), "e");
   prompt_free(small);

   Prompt* none = prompt_new(0);
   prompt_reset(none, "x");
   cr_assert_eq(prompt_key(none, PROMPT_KEY_ENTER), PROMPT_SUBMIT);
   cr_assert_eq(prompt_key(none, PROMPT_KEY_UP), PROMPT_UNCHANGED);
   prompt_free(none);
}

Test(prompt, length_is_bounded) {
   char big[PROMPT_MAX_BYTES + 10];
   memset(big, 'a', sizeof big - 1);
   big[sizeof big - 1] = '\0';
   prompt_reset(p, big);
   cr_assert_eq(prompt_len(p), PROMPT_MAX_BYTES);
   cr_assert_eq(prompt_key(p, 'b'), PROMPT_UNCHANGED);
   prompt_key(p, PROMPT_KEY_BACKSPACE);
   cr_assert_eq(prompt_key(p, 0x65e5), PROMPT_UNCHANGED, "a 3-byte character does not fit in 1");
   cr_assert_eq(prompt_key(p, 'b'), PROMPT_EDITED);
}

Test(prompt, view_short_text) {
   type("abc");
   PromptView v = prompt_view(p, 10);
   cr_assert_eq(v.start, 0);
   cr_assert_eq(v.end, 3);
   cr_assert_eq(v.cursor_col, 3);
   cr_assert_eq(v.cols, 3);
   cr_assert_not(v.more_left);
   cr_assert_not(v.more_right);
   v = prompt_view(p, 0);
   cr_assert_eq(v.cols, 0);
}

Test(prompt, view_scrolls_with_cursor_at_end) {
   type("0123456789abcdefghij"); /* 20 columns */
   PromptView v = prompt_view(p, 10);
   cr_assert_eq(v.cursor_col, 9, "the cursor takes the last column");
   cr_assert_eq(v.start, 11);
   cr_assert_eq(v.end, 20);
   cr_assert_eq(v.cols, 9);
   cr_assert(v.more_left);
   cr_assert_not(v.more_right);

   prompt_key(p, PROMPT_KEY_LEFT);
   v = prompt_view(p, 10);
   cr_assert_eq(v.start, 11, "moving inside the window does not scroll");
   cr_assert_eq(v.cursor_col, 8);

   prompt_key(p, PROMPT_KEY_HOME);
   v = prompt_view(p, 10);
   cr_assert_eq(v.start, 0);
   cr_assert_eq(v.cursor_col, 0);
   cr_assert_eq(v.end, 10, "with the cursor inside, every column shows text");
   cr_assert(v.more_right);

   prompt_key(p, PROMPT_KEY_END);
   prompt_view(p, 10);
   for (int i = 0; i < 12; i++) prompt_key(p, PROMPT_KEY_LEFT);
   v = prompt_view(p, 10); /* cursor at 8, window started at 11: back off a quarter width */
   cr_assert_eq(v.start, 6);
   cr_assert_eq(v.cursor_col, 2);

   prompt_key(p, PROMPT_KEY_END);
   prompt_view(p, 10);
   keys(PROMPT_KEY_BACKSPACE, 15);
   v = prompt_view(p, 10);
   cr_assert_eq(v.start, 0, "after deleting, hidden text comes back into view");
   cr_assert_eq(v.cursor_col, 5);
}

Test(prompt, view_wide_characters) {
   for (int i = 0; i < 8; i++) prompt_key(p, 0x65e5); /* 16 columns */
   PromptView v = prompt_view(p, 9);
   cr_assert_eq(v.cols, 8, "four wide characters fit before the cursor column");
   cr_assert_eq(v.cursor_col, 8);
   cr_assert_eq(v.start, 12);
   cr_assert_eq(v.end, 24);

   prompt_key(p, PROMPT_KEY_HOME);
   v = prompt_view(p, 9);
   cr_assert_eq(v.start, 0);
   cr_assert_eq(v.end, 12, "a wide character is never cut at the right edge");
   cr_assert_eq(v.cols, 8);
   cr_assert(v.more_right);

   prompt_reset(p, "a😀b😀c");
   v = prompt_view(p, 4);
   cr_assert_eq(v.cursor_col, 3);
   cr_assert_eq(strncmp(prompt_text(p) + v.start, "😀c", v.end - v.start), 0);
   cr_assert_eq(v.cols, 3);
}
