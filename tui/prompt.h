/* A one-line text editor with history for the search and filter prompts. Pure logic, no curses:
 * the TUI maps curses keys to prompt keys and draws what prompt_view says. */
#ifndef BRUM_TUI_PROMPT_H
#define BRUM_TUI_PROMPT_H

#include <stdbool.h>
#include <stddef.h>

typedef struct Prompt Prompt;

/* A key is a Unicode code point (inserted when printable) or one of these. The ASCII control
 * codes a terminal sends are understood too: ^A ^E ^K ^U ^W, BS/DEL, CR/LF, ESC. */
enum {
   PROMPT_KEY_BASE = 0x110000, /* above every code point */
   PROMPT_KEY_LEFT,
   PROMPT_KEY_RIGHT,
   PROMPT_KEY_WORD_LEFT,  /* Ctrl-Left */
   PROMPT_KEY_WORD_RIGHT, /* Ctrl-Right */
   PROMPT_KEY_HOME,
   PROMPT_KEY_END,
   PROMPT_KEY_BACKSPACE,
   PROMPT_KEY_DELETE,
   PROMPT_KEY_UP,
   PROMPT_KEY_DOWN,
   PROMPT_KEY_CTRL_A, /* = Home */
   PROMPT_KEY_CTRL_E, /* = End */
   PROMPT_KEY_CTRL_K, /* delete to the end */
   PROMPT_KEY_CTRL_U, /* delete to the start */
   PROMPT_KEY_CTRL_W, /* delete the word before the cursor */
   PROMPT_KEY_ENTER,
   PROMPT_KEY_ESC,
};

/* What a key did, so the caller redraws only when something changed. */
typedef enum PromptResult {
   PROMPT_UNCHANGED, /* nothing (e.g. Left at the start): draw nothing */
   PROMPT_MOVED,     /* the cursor moved, the text is the same */
   PROMPT_EDITED,    /* the text changed (typed, deleted or recalled from history) */
   PROMPT_SUBMIT,    /* Enter: the text is final and was added to the history */
   PROMPT_CANCEL,    /* Esc */
} PromptResult;

#define PROMPT_MAX_BYTES 4096 /* longer input is refused, not truncated mid-character */
#define PROMPT_HISTORY_DEFAULT 100

/* One Prompt per kind (search, filter) keeps that kind's history across edits. */
Prompt* prompt_new(size_t history_max);
void prompt_free(Prompt* p);

/* Starts an edit: text = initial (NULL: empty), cursor at the end, history browsing reset.
 * Invalid UTF-8 in `initial` becomes U+FFFD. */
void prompt_reset(Prompt* p, const char* initial);

PromptResult prompt_key(Prompt* p, int key);
/* Inserts UTF-8 text at the cursor (a paste); control characters are dropped. */
PromptResult prompt_insert(Prompt* p, const char* utf8, size_t n);

const char* prompt_text(const Prompt* p); /* NUL-terminated UTF-8, valid until the next edit */
size_t prompt_len(const Prompt* p);       /* bytes */
size_t prompt_cursor(const Prompt* p);    /* byte offset, always on a character boundary */

/* History, oldest first. Enter adds the text unless it is empty or equals the newest entry. */
void prompt_history_add(Prompt* p, const char* text);
size_t prompt_history_count(const Prompt* p);
const char* prompt_history_get(const Prompt* p, size_t i); /* 0 = oldest; NULL past the end */

/* Which part of the text fits in `width` columns. The window scrolls only when the cursor would
 * leave it; wide characters are never cut. Widths come from wcwidth: set LC_CTYPE first. */
typedef struct PromptView {
   size_t start, end; /* byte range of the text to draw */
   int cursor_col;    /* cursor column relative to the first drawn column, < width */
   int cols;          /* columns the drawn range takes */
   bool more_left;    /* text hidden before start */
   bool more_right;   /* text hidden after end */
} PromptView;
PromptView prompt_view(Prompt* p, int width);

#endif
