/* Entries and grouping: the ring of entries, and whether a line continues the open entry
 * (stack frames, code frames, tracebacks, ...) by the group mode of the rule that opened it. */
#include <stdlib.h>
#include <string.h>

#include "core/detect_impl.h"
#include "core/util.h"

Entry* detect_entry_push(Detector* d) {
   if (d->ent_n < d->ent_cap) {
      d->ent_n++;
   } else if (d->ent_cap < DETECT_MAX_ENTRIES) { /* grows before the ring ever wraps: head is 0 */
      uint32_t cap = d->ent_cap ? d->ent_cap * 2 : 16;
      if (cap > DETECT_MAX_ENTRIES) cap = DETECT_MAX_ENTRIES;
      d->ent = xrealloc(d->ent, cap * sizeof *d->ent);
      memset(d->ent + d->ent_cap, 0, (cap - d->ent_cap) * sizeof *d->ent); /* no text yet */
      d->ent_cap = cap;
      d->ent_n++;
   } else {
      d->ent_head = (d->ent_head + 1) % d->ent_cap; /* drop the oldest */
   }
   Entry* e = newest(d);
   /* the slot keeps its text block for the new entry's strings (a flood reuses it each time) */
   *e = (Entry){.cap = e->cap, .text = e->text};
   if (e->text) e->text[0] = e->text[1] = '\0';
   return e;
}

void detect_entries_free(Detector* d) {
   for (uint32_t i = 0; i < d->ent_cap; i++) free(d->ent[i].text);
   free(d->ent);
   d->ent = NULL;
   d->ent_cap = d->ent_n = d->ent_head = 0;
}

/* At most max bytes of s, not cutting a UTF-8 sequence. */
static size_t bounded_len(const char* s, size_t max) {
   size_t n = strnlen(s, max + 1);
   if (n > max) {
      n = max;
      while (n && ((uint8_t)s[n] & 0xC0) == 0x80) n--;
   }
   return n;
}

/* Makes e's block hold need bytes: a new block when the strings outgrow it or leave more than
 * BLOCK_SLACK bytes unused (so that a reused slot mostly rewrites in place and still holds about
 * what its entry needs). Returns the old block if it was replaced (the caller copies what it
 * keeps from it, then frees it), else NULL. */
enum { BLOCK_SLACK = 48 };
static char* entry_reserve(Entry* e, size_t need) {
   size_t want = (need + 15) & ~(size_t)15; /* malloc's granule: no new block for a byte more */
   if (need <= e->cap && e->cap - want <= BLOCK_SLACK) return NULL;
   char* old = e->text;
   e->text = xmalloc(want);
   e->cap = (uint16_t)want;
   return old;
}

void detect_entry_set_title(Entry* e, const char* title) {
   size_t tl = bounded_len(title, TITLE_MAX), ll = e->llen;
   const char* loc = entry_loc(e);
   char* old = entry_reserve(e, tl + ll + 2);
   if (!ll)
      e->text[tl + 1] = '\0';
   else if (old || tl != e->tlen)
      memmove(e->text + tl + 1, loc, ll + 1); /* the location follows the new title */
   memcpy(e->text, title, tl);
   e->text[tl] = '\0';
   e->tlen = (uint8_t)tl;
   if (old) free(old);
}

void detect_entry_set_loc(Entry* e, const char* loc) {
   size_t ll = bounded_len(loc, LOC_MAX), tl = e->tlen;
   char* old = entry_reserve(e, tl + ll + 2);
   if (old) {
      memcpy(e->text, old, tl);
      free(old);
   }
   e->text[tl] = '\0'; /* (a first block: the empty title) */
   memcpy(e->text + tl + 1, loc, ll);
   e->text[tl + 1 + ll] = '\0';
   e->llen = (uint8_t)ll;
}

/* A Python exception line ends a traceback: `ValueError: x`, `KeyboardInterrupt`. */
static bool is_python_exception(const char* s, uint32_t n) {
   if (!n || !(((s[0] | 0x20) >= 'a' && (s[0] | 0x20) <= 'z') || s[0] == '_')) return false;
   uint32_t i = 1;
   while (i < n && (is_alnum(s[i]) || s[i] == '_' || s[i] == '.')) i++;
   while (i < n && s[i] == '\r') i++;
   return i == n || s[i] == ':';
}

/* A Go stack line that is not indented: `main.main()`, `main.(*T).f(0x1, {0x2})`. */
static bool is_go_func_line(const char* s, uint32_t n) {
   if (!n || s[n - 1] != ')') return false;
   const char* par = memchr(s, '(', n);
   if (!par || par == s) return false;
   if (par[1] == '*' && par > s && par[-1] == '.') { /* a method on a pointer receiver */
      const char* close = memchr(par, ')', (size_t)(s + n - par));
      if (!close) return false;
      par = memchr(close, '(', (size_t)(s + n - close));
      if (!par) return false;
   }
   return memchr(s, ' ', (size_t)(par - s)) == NULL;
}

/* `  4 |   x`, `    |   ^^^`, `> 5 | y`, rustc's `  = note:`, esbuild's `│`. */
static bool is_code_frame(const char* s, uint32_t n) {
   uint32_t i = 0, digits = 0;
   while (i < n && is_space(s[i])) i++;
   uint32_t lead = i;
   if (i < n && s[i] == '>') {
      i++;
      while (i < n && is_space(s[i])) i++;
   }
   while (i < n && is_digit(s[i])) i++, digits++;
   while (i < n && is_space(s[i])) i++;
   if (!digits && !lead && i < n && s[i] == '|') return false; /* `| ERROR |`: a table, a log */
   return i < n && (s[i] == '|' || (i + 2 < n && memcmp(s + i, "│", 3) == 0));
}

/* An indented line that is a log record of its own (`  ERROR  x`, consola style). */
static bool is_level_start(const char* r, uint32_t rn) {
   static const char* const levels[] = {"ERROR",   "WARN",  "FATAL",  "INFO",   "DEBUG",
                                        "[ERROR]", "[WARN", "[INFO]", "[DEBUG]"};
   static const uint8_t lens[] = {5, 4, 5, 4, 5, 7, 5, 6, 7};
   if (!rn || !(r[0] == '[' || (r[0] >= 'A' && r[0] <= 'Z'))) return false; /* most lines */
   for (size_t i = 0; i < ARRAY_LEN(levels); i++) {
      size_t k = lens[i];
      if (rn > k && r[0] == levels[i][0] && memcmp(r, levels[i], k) == 0 &&
          (is_space(r[k]) || r[k] == ':' || r[k] == ']'))
         return true;
   }
   return false;
}

/* A tsc --pretty code line: `10     const x = 1` (a line number, then at least two blanks). */
static bool is_numbered_code(const char* s, uint32_t n) {
   uint32_t i = 0;
   while (i < n && is_digit(s[i])) i++;
   return i > 0 && i + 2 < n && s[i] == ' ' && s[i + 1] == ' ';
}

/* Next.js 12 style status words: `wait  - compiling...`, `event - compiled ...`. */
static bool is_tool_prefix(const char* s, uint32_t n) {
   uint32_t i = 0;
   while (i < n && s[i] >= 'a' && s[i] <= 'z') i++;
   if (i == 0 || i > 8 || i >= n || s[i] != ' ') return false;
   while (i < n && s[i] == ' ') i++;
   return i + 1 < n && s[i] == '-' && s[i + 1] == ' ';
}

/* `java.lang.IllegalStateException: msg`, `com.x.AppError` (a qualified class name first). */
static bool is_java_exception(const char* s, uint32_t n) {
   if (!n || !(s[0] >= 'a' && s[0] <= 'z')) return false;
   uint32_t i = 0;
   bool dot = false;
   while (i < n && (is_alnum(s[i]) || s[i] == '.' || s[i] == '_' || s[i] == '$'))
      dot |= s[i++] == '.';
   if (!dot || (i < n && s[i] != ':')) return false;
   return (i >= 9 && memcmp(s + i - 9, "Exception", 9) == 0) ||
          (i >= 5 && memcmp(s + i - 5, "Error", 5) == 0);
}

int detect_group_continues(Detector* d, const char* s, uint32_t n) {
   uint32_t b;
   uint32_t ind = indent_of(s, n, &b);
   bool blank = true;
   for (uint32_t i = b; i < n; i++)
      if (!is_space(s[i])) {
         blank = false;
         break;
      }
   const char* r = s + b;
   uint32_t rn = n - b;
   switch ((Group)d->mode) {
   case G_NONE:
      return C_CLOSE;
   case G_LOG:
      if (d->ngrouped == 0 && d->blanks == 0 && newest(d)->kind == DETECT_ERROR) {
         if (starts_with(s, n, "Traceback (most recent call last):")) {
            d->mode = G_PYTHON;
            return C_GROUP;
         }
         if (is_java_exception(s, n)) {
            d->mode = G_JAVA;
            return C_GROUP;
         }
      }
      if (blank) return d->blanks < 2 ? C_BLANK : C_CLOSE;
      if (is_level_start(r, rn)) return C_CLOSE;
      if (ind > d->head_indent || is_code_frame(s, n)) return C_GROUP;
      return C_CLOSE;
   case G_PANIC:
      if (blank) return C_CLOSE;
      if (starts_with(s, n, "note: ")) return C_GROUP_LAST;
      if (ind > 0 || d->ngrouped == 0 || starts_with(s, n, "stack backtrace:")) return C_GROUP;
      return C_CLOSE;
   case G_STACK:
      if (!blank && d->head_indent > 0 && ind >= d->head_indent) return C_GROUP;
      /* fall through */
   case G_INDENT:
      if (blank) return d->blanks < 2 ? C_BLANK : C_CLOSE;
      if (is_level_start(r, rn)) return C_CLOSE;
      if (d->brace && rn >= 1 && r[0] == '}' && ind == d->head_indent) return C_GROUP_LAST;
      if (ind > d->head_indent || is_code_frame(s, n) || is_numbered_code(s, n)) return C_GROUP;
      return C_CLOSE;
   case G_PYTHON:
      if (blank) return C_CLOSE;
      if (ind > 0) return C_GROUP;
      return is_python_exception(s, n) ? C_GROUP_LAST : C_CLOSE;
   case G_GO:
      if (blank) return d->blanks < 2 ? C_BLANK : C_CLOSE;
      if (ind > 0 || starts_with(r, rn, "goroutine ") || starts_with(r, rn, "created by ") ||
          starts_with(r, rn, "[signal ") || is_go_func_line(r, rn))
         return C_GROUP;
      return C_CLOSE;
   case G_JAVA:
      if (blank) return C_CLOSE;
      return ind > 0 || starts_with(r, rn, "Caused by: ") ? C_GROUP : C_CLOSE;
   case G_PREFIX:
      return d->prefix_len && starts_with(s, n, d->prefix) ? C_GROUP : C_CLOSE;
   case G_BLOCK:
      if (blank) return d->blanks < 1 ? C_BLANK : C_CLOSE; /* after a blank: indented lines only */
      if (ind > d->head_indent || is_code_frame(s, n)) {
         d->deep = true;
         return C_GROUP;
      }
      /* flush-left lines: only the few right after the head (`Module not found: ...`) */
      if (d->deep || d->nflush >= 3 || (d->blanks && d->ngrouped) || (uint8_t)r[0] >= 0x80 ||
          starts_with(r, rn, "webpack ") || starts_with(r, rn, "ERROR in ") ||
          starts_with(r, rn, "WARNING in ") || is_tool_prefix(r, rn))
         return C_CLOSE;
      d->nflush++;
      return C_GROUP;
   case G_VITEST:
      if (blank) return d->blanks < 3 ? C_BLANK : C_CLOSE;
      if (starts_with(r, rn, "⎯") || starts_with(r, rn, "FAIL ") ||
          starts_with(r, rn, "Test Files "))
         return C_CLOSE;
      return C_GROUP;
   }
   return C_CLOSE;
}

/* A line that belongs to the open entry. */
void detect_group_add(Detector* d, const char* s, uint32_t n, uint64_t lineno, bool last) {
   Entry* e = newest(d);
   e->last = lineno;
   d->brace = ends_with_brace(s, n);
   d->blanks = 0;
   d->ngrouped++;
   d->changed = true;
   char title[TITLE_MAX + 1];
   bool line_is_title = d->title_pending && !detect_is_bare_path(s, n);
   if (line_is_title) d->title_pending = false;
   if (line_is_title || (last && d->mode == G_PYTHON)) {
      copy_trimmed(title, TITLE_MAX, s, n);
      detect_entry_set_title(e, title);
   }
   if ((d->rflags & R_TITLE_APPEND) && d->ngrouped == 1) {
      size_t k = e->tlen;
      if (k + 2 < TITLE_MAX) {
         memcpy(title, entry_title(e), k);
         title[k] = ' ';
         copy_trimmed(title + k + 1, TITLE_MAX - k - 1, s, n);
         detect_entry_set_title(e, title);
      }
   }
   detect_line_offer_loc(d, e, s, n);
   if (!entry_loc(e)[0] && detect_is_bare_path(s, n)) {
      uint32_t b;
      indent_of(s, n, &b);
      char loc[LOC_MAX + 1];
      copy_trimmed(loc, LOC_MAX, s + b, n - b);
      detect_entry_offer_loc(d, e, loc, detect_path_is_foreign(loc, strlen(loc)));
   }
   if (last) d->open = false;
}
