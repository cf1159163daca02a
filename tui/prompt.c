#include "tui/prompt.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>
#include <wctype.h>

#include "core/util.h"

struct Prompt {
   char* buf;     /* owned; NUL-terminated, always valid UTF-8 */
   size_t len;    /* bytes, without the NUL */
   size_t cap;    /* bytes allocated */
   size_t cur;    /* cursor, a byte offset on a character boundary */
   size_t scroll; /* first byte prompt_view showed, kept so the window does not jump */
   char** hist;   /* owned, each owned; oldest first */
   size_t hist_n, hist_max;
   size_t hist_pos; /* == hist_n while editing the draft */
   char* draft;     /* owned; the unsubmitted text saved by the first Up, NULL otherwise */
};

/* ---- UTF-8 ---- */

/* Decodes one character at s[0..n); invalid or truncated input gives U+FFFD for one byte. */
static size_t utf8_decode(const char* s, size_t n, uint32_t* cp) {
   const unsigned char* u = (const unsigned char*)s;
   if (u[0] < 0x80) {
      *cp = u[0];
      return 1;
   }
   size_t need;
   uint32_t c, min;
   if ((u[0] & 0xe0) == 0xc0)
      need = 2, c = u[0] & 0x1fu, min = 0x80;
   else if ((u[0] & 0xf0) == 0xe0)
      need = 3, c = u[0] & 0x0fu, min = 0x800;
   else if ((u[0] & 0xf8) == 0xf0)
      need = 4, c = u[0] & 0x07u, min = 0x10000;
   else
      goto bad;
   if (n < need) goto bad;
   for (size_t i = 1; i < need; i++) {
      if ((u[i] & 0xc0) != 0x80) goto bad;
      c = (c << 6) | (u[i] & 0x3fu);
   }
   if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) goto bad; /* overlong, surrogate */
   *cp = c;
   return need;
bad:
   *cp = 0xfffd;
   return 1;
}

static size_t utf8_encode(uint32_t c, char* out) {
   if (c < 0x80) {
      out[0] = (char)c;
      return 1;
   }
   if (c < 0x800) {
      out[0] = (char)(0xc0 | (c >> 6));
      out[1] = (char)(0x80 | (c & 0x3f));
      return 2;
   }
   if (c < 0x10000) {
      out[0] = (char)(0xe0 | (c >> 12));
      out[1] = (char)(0x80 | ((c >> 6) & 0x3f));
      out[2] = (char)(0x80 | (c & 0x3f));
      return 3;
   }
   out[0] = (char)(0xf0 | (c >> 18));
   out[1] = (char)(0x80 | ((c >> 12) & 0x3f));
   out[2] = (char)(0x80 | ((c >> 6) & 0x3f));
   out[3] = (char)(0x80 | (c & 0x3f));
   return 4;
}

static bool is_control(uint32_t c) {
   return c < 0x20 || (c >= 0x7f && c < 0xa0);
}

/* Columns of one character; unknown ones take one column so the cursor stays right. */
static int cp_width(uint32_t c) {
   int w = wcwidth((wchar_t)c);
   return w < 0 ? 1 : w;
}

static uint32_t cp_at(const Prompt* p, size_t i) {
   uint32_t c;
   utf8_decode(p->buf + i, p->len - i, &c);
   return c;
}

/* The cursor never stops between a character and the combining marks that follow it. */
static size_t next_pos(const Prompt* p, size_t i) {
   uint32_t c;
   if (i >= p->len) return p->len;
   i += utf8_decode(p->buf + i, p->len - i, &c);
   while (i < p->len) {
      size_t k = utf8_decode(p->buf + i, p->len - i, &c);
      if (cp_width(c) != 0) break;
      i += k;
   }
   return i;
}

static size_t prev_cp(const Prompt* p, size_t i) {
   if (i == 0) return 0;
   i--;
   while (i > 0 && ((unsigned char)p->buf[i] & 0xc0) == 0x80) i--;
   return i;
}

static size_t prev_pos(const Prompt* p, size_t i) {
   i = prev_cp(p, i);
   while (i > 0 && cp_width(cp_at(p, i)) == 0) i = prev_cp(p, i);
   return i;
}

static int cols_between(const Prompt* p, size_t a, size_t b) {
   int cols = 0;
   while (a < b) {
      uint32_t c;
      a += utf8_decode(p->buf + a, b - a, &c);
      cols += cp_width(c);
   }
   return cols;
}

/* ---- buffer edits ---- */

static void reserve(Prompt* p, size_t extra) {
   if (p->len + extra + 1 <= p->cap) return;
   size_t cap = p->cap ? p->cap : 64;
   while (cap < p->len + extra + 1) cap *= 2;
   p->buf = xrealloc(p->buf, cap);
   p->cap = cap;
}

static void delete_range(Prompt* p, size_t a, size_t b) {
   memmove(p->buf + a, p->buf + b, p->len - b + 1);
   p->len -= b - a;
   p->cur = a;
}

/* Appends sanitized `s` at the cursor: invalid bytes become U+FFFD, tabs spaces, controls go. */
static bool insert_utf8(Prompt* p, const char* s, size_t n) {
   bool changed = false;
   size_t i = 0;
   while (i < n) {
      uint32_t c;
      i += utf8_decode(s + i, n - i, &c);
      if (c == '\t') c = ' ';
      if (is_control(c)) continue;
      char enc[4];
      size_t k = utf8_encode(c, enc);
      if (p->len + k > PROMPT_MAX_BYTES) break;
      reserve(p, k);
      memmove(p->buf + p->cur + k, p->buf + p->cur, p->len - p->cur + 1);
      memcpy(p->buf + p->cur, enc, k);
      p->len += k;
      p->cur += k;
      changed = true;
   }
   return changed;
}

static void set_text(Prompt* p, const char* s) {
   p->len = p->cur = 0;
   reserve(p, 0);
   p->buf[0] = '\0';
   if (s) insert_utf8(p, s, strlen(s));
}

/* Word classes for Ctrl-W: a run of word characters or a run of punctuation is one word. */
enum { CLASS_SPACE, CLASS_WORD, CLASS_PUNCT };

static int cp_class(uint32_t c) {
   if (c == ' ' || (c >= 0x80 && iswspace((wint_t)c))) return CLASS_SPACE;
   if (c == '_' || (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || c >= 0x80)
      return CLASS_WORD;
   return CLASS_PUNCT;
}

static size_t word_start_before(const Prompt* p, size_t i) {
   while (i > 0 && cp_class(cp_at(p, prev_pos(p, i))) == CLASS_SPACE) i = prev_pos(p, i);
   if (i == 0) return 0;
   int cls = cp_class(cp_at(p, prev_pos(p, i)));
   while (i > 0 && cp_class(cp_at(p, prev_pos(p, i))) == cls) i = prev_pos(p, i);
   return i;
}

static size_t word_end_after(const Prompt* p, size_t i) {
   while (i < p->len && cp_class(cp_at(p, i)) == CLASS_SPACE) i = next_pos(p, i);
   if (i >= p->len) return p->len;
   int cls = cp_class(cp_at(p, i));
   while (i < p->len && cp_class(cp_at(p, i)) == cls) i = next_pos(p, i);
   return i;
}

static PromptResult move_to(Prompt* p, size_t i) {
   if (i == p->cur) return PROMPT_UNCHANGED;
   p->cur = i;
   return PROMPT_MOVED;
}

static PromptResult delete_to(Prompt* p, size_t a, size_t b) {
   if (a == b) return PROMPT_UNCHANGED;
   delete_range(p, a, b);
   return PROMPT_EDITED;
}

/* ---- history ---- */

static void stop_browsing(Prompt* p) {
   free(p->draft);
   p->draft = NULL;
   p->hist_pos = p->hist_n;
}

static PromptResult history_up(Prompt* p) {
   if (p->hist_pos == 0) return PROMPT_UNCHANGED;
   if (p->hist_pos == p->hist_n) {
      free(p->draft);
      p->draft = xstrndup(p->buf, p->len);
   }
   p->hist_pos--;
   set_text(p, p->hist[p->hist_pos]);
   return PROMPT_EDITED;
}

static PromptResult history_down(Prompt* p) {
   if (p->hist_pos >= p->hist_n) return PROMPT_UNCHANGED;
   p->hist_pos++;
   if (p->hist_pos == p->hist_n) {
      set_text(p, p->draft);
      free(p->draft);
      p->draft = NULL;
   } else {
      set_text(p, p->hist[p->hist_pos]);
   }
   return PROMPT_EDITED;
}

void prompt_history_add(Prompt* p, const char* text) {
   stop_browsing(p);
   if (!text || !*text || p->hist_max == 0) return;
   if (p->hist_n > 0 && strcmp(p->hist[p->hist_n - 1], text) == 0) return;
   if (p->hist_n == p->hist_max) {
      free(p->hist[0]);
      memmove(p->hist, p->hist + 1, (p->hist_n - 1) * sizeof *p->hist);
      p->hist_n--;
   }
   p->hist[p->hist_n++] = xstrdup(text);
   p->hist_pos = p->hist_n;
}

size_t prompt_history_count(const Prompt* p) {
   return p->hist_n;
}

const char* prompt_history_get(const Prompt* p, size_t i) {
   return i < p->hist_n ? p->hist[i] : NULL;
}

/* ---- public ---- */

Prompt* prompt_new(size_t history_max) {
   Prompt* p = xcalloc(1, sizeof *p);
   p->hist_max = history_max;
   p->hist = xcalloc(history_max ? history_max : 1, sizeof *p->hist);
   set_text(p, NULL);
   return p;
}

void prompt_free(Prompt* p) {
   if (!p) return;
   for (size_t i = 0; i < p->hist_n; i++) free(p->hist[i]);
   free(p->hist);
   free(p->draft);
   free(p->buf);
   free(p);
}

void prompt_reset(Prompt* p, const char* initial) {
   stop_browsing(p);
   set_text(p, initial);
   p->scroll = 0;
}

PromptResult prompt_insert(Prompt* p, const char* utf8, size_t n) {
   return insert_utf8(p, utf8, n) ? PROMPT_EDITED : PROMPT_UNCHANGED;
}

PromptResult prompt_key(Prompt* p, int key) {
   switch (key) {
   case PROMPT_KEY_LEFT:
      return move_to(p, prev_pos(p, p->cur));
   case PROMPT_KEY_RIGHT:
      return move_to(p, next_pos(p, p->cur));
   case PROMPT_KEY_WORD_LEFT:
      return move_to(p, word_start_before(p, p->cur));
   case PROMPT_KEY_WORD_RIGHT:
      return move_to(p, word_end_after(p, p->cur));
   case PROMPT_KEY_HOME:
   case PROMPT_KEY_CTRL_A:
   case 0x01:
      return move_to(p, 0);
   case PROMPT_KEY_END:
   case PROMPT_KEY_CTRL_E:
   case 0x05:
      return move_to(p, p->len);
   case PROMPT_KEY_BACKSPACE:
   case 0x08:
   case 0x7f:
      return delete_to(p, prev_pos(p, p->cur), p->cur);
   case PROMPT_KEY_DELETE:
      return delete_to(p, p->cur, next_pos(p, p->cur));
   case PROMPT_KEY_CTRL_K:
   case 0x0b:
      return delete_to(p, p->cur, p->len);
   case PROMPT_KEY_CTRL_U:
   case 0x15:
      return delete_to(p, 0, p->cur);
   case PROMPT_KEY_CTRL_W:
   case 0x17:
      return delete_to(p, word_start_before(p, p->cur), p->cur);
   case PROMPT_KEY_UP:
      return history_up(p);
   case PROMPT_KEY_DOWN:
      return history_down(p);
   case PROMPT_KEY_ENTER:
   case '\r':
   case '\n':
      prompt_history_add(p, p->buf);
      return PROMPT_SUBMIT;
   case PROMPT_KEY_ESC:
   case 0x1b:
      stop_browsing(p);
      return PROMPT_CANCEL;
   default:
      break;
   }
   if (key < 0 || key > 0x10ffff || (key >= 0xd800 && key <= 0xdfff) || is_control((uint32_t)key))
      return PROMPT_UNCHANGED;
   char enc[4];
   size_t k = utf8_encode((uint32_t)key, enc);
   return prompt_insert(p, enc, k);
}

const char* prompt_text(const Prompt* p) {
   return p->buf;
}

size_t prompt_len(const Prompt* p) {
   return p->len;
}

size_t prompt_cursor(const Prompt* p) {
   return p->cur;
}

PromptView prompt_view(Prompt* p, int width) {
   PromptView v = {.start = p->cur, .end = p->cur};
   if (width <= 0) return v;
   size_t s = p->scroll <= p->len ? p->scroll : p->len;
   if (s > p->cur) {
      /* cursor went off the left edge: bring it back a quarter of the width in, for context */
      s = p->cur;
      while (s > 0 && cols_between(p, prev_pos(p, s), p->cur) <= width / 4) s = prev_pos(p, s);
   }
   if (cols_between(p, s, p->cur) > width - 1) {
      /* cursor went off the right edge: put it in the last column */
      s = p->cur;
      while (s > 0 && cols_between(p, prev_pos(p, s), p->cur) <= width - 1) s = prev_pos(p, s);
   }
   /* never leave empty columns at the right while text is hidden at the left */
   while (s > 0 && cols_between(p, prev_pos(p, s), p->len) <= width - 1) s = prev_pos(p, s);
   p->scroll = s;

   size_t e = s;
   int cols = 0;
   while (e < p->len) {
      size_t n = next_pos(p, e);
      int w = cols_between(p, e, n);
      if (cols + w > width) break;
      cols += w;
      e = n;
   }
   v.start = s;
   v.end = e;
   v.cols = cols;
   v.cursor_col = cols_between(p, s, p->cur);
   v.more_left = s > 0;
   v.more_right = e < p->len;
   return v;
}
