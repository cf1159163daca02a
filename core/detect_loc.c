/* Source locations: finding `path:line:col` (and Python's `File "x", line N`) in a line, and
 * telling the project's files from dependencies and runtimes (a better location replaces those). */
#include <stdio.h>
#include <string.h>

#include "core/detect_impl.h"
#include "core/util.h"

/* The first k-byte literal in s (k >= 1): memchr for its first byte, then a compare (cheaper
 * than memmem's set-up for the short lines and literals here). */
static const char* find_lit(const char* s, size_t n, const char* lit, size_t k) {
   if (n < k) return NULL;
   const char* end = s + n - k + 1; /* the last possible start, plus one */
   for (const char* p = s; (p = memchr(p, lit[0], (size_t)(end - p))); p++)
      if (memcmp(p + 1, lit + 1, k - 1) == 0) return p;
   return NULL;
}

/* A location in a dependency or a runtime: it contains node_modules, node:, <anonymous>,
 * site-packages, dist-packages, /lib/python, <frozen, /usr/lib/, /usr/local/go/, /pkg/mod/,
 * /rustc/, /.cargo/registry/, /.rustup/, webpack/runtime or <string>. One pass: each is looked
 * for only where its rarest-first byte is. */
bool detect_path_is_foreign(const char* p, size_t n) {
#define AT(i, lit) (n - (i) >= sizeof(lit) - 1 && memcmp(p + (i), lit, sizeof(lit) - 1) == 0)
   for (size_t i = 0; i < n; i++) {
      switch (p[i]) {
      case '/':
         if (AT(i, "/lib/python") || AT(i, "/usr/lib/") || AT(i, "/usr/local/go/") ||
             AT(i, "/pkg/mod/") || AT(i, "/rustc/") || AT(i, "/.cargo/registry/") ||
             AT(i, "/.rustup/") || (i >= 7 && AT(i - 7, "webpack/runtime")))
            return true;
         break;
      case '<':
         if (AT(i, "<anonymous>") || AT(i, "<frozen") || AT(i, "<string>")) return true;
         break;
      case 'n':
         if (AT(i, "node_modules") || AT(i, "node:")) return true;
         break;
      case '-':
         if (i >= 4 && (AT(i - 4, "site-packages") || AT(i - 4, "dist-packages"))) return true;
         break;
      default:
         break;
      }
   }
   return false;
#undef AT
}

/* A stack frame of the JDK or of a library's runtime, whatever file it names. */
static bool frame_is_foreign(const char* s, uint32_t n) {
   uint32_t b;
   indent_of(s, n, &b);
   s += b, n -= b;
   if (!starts_with(s, n, "at ")) return false;
   s += 3, n -= 3;
   return starts_with(s, n, "java.") || starts_with(s, n, "javax.") || starts_with(s, n, "jdk.") ||
          starts_with(s, n, "sun.") || starts_with(s, n, "kotlin.");
}

void detect_set_loc_parts(char* out, const char* path, size_t plen, const char* line, size_t llen,
                          const char* col, size_t clen) {
   static const char* const schemes[] = {"file://", "webpack-internal:///", "webpack:///"};
   for (size_t i = 0; i < ARRAY_LEN(schemes); i++) {
      size_t k = strlen(schemes[i]);
      if (plen > k && memcmp(path, schemes[i], k) == 0) {
         path += k, plen -= k;
         break;
      }
   }
   if (plen > LOC_MAX - 24) plen = LOC_MAX - 24;
   /* path[:line][:col] (as "%.*s" would copy them: up to a NUL); at most 176 + 12 + 10 bytes */
   size_t k = strnlen(path, plen);
   memcpy(out, path, k);
   if (llen && llen < 12) {
      size_t m = strnlen(line, llen);
      out[k++] = ':';
      memcpy(out + k, line, m);
      k += m;
   }
   if (llen && clen && clen < 10) {
      size_t m = strnlen(col, clen);
      out[k++] = ':';
      memcpy(out + k, col, m);
      k += m;
   }
   out[k] = '\0';
}

static bool tok_stop(char c) {
   return is_space(c) || c == '(' || c == ')' || c == '"' || c == '\'' || c == '<' || c == '>' ||
          c == '[' || c == ']' || c == '{' || c == '}' || c == '`' || c == ',' || c == '=' ||
          c == '@';
}

/* The first source location in a line: `File "x.py", line N`, or a token `path.ext:line[:col]`
 * (Node/Java/Go frames, rustc's `-->`, Vite's `File:`); `file://` stripped. */
bool detect_find_loc(const char* s, uint32_t n, char* out) {
   const char* f = find_lit(s, n, "File \"", 6);
   if (f) {
      const char* p = f + 6;
      const char* q = memchr(p, '"', (size_t)(s + n - p));
      if (q && (size_t)(s + n - q) > 8 && memcmp(q, "\", line ", 8) == 0) {
         const char* ln = q + 8;
         size_t ll = 0;
         while (ln + ll < s + n && is_digit(ln[ll])) ll++;
         if (ll) {
            detect_set_loc_parts(out, p, (size_t)(q - p), ln, ll, NULL, 0);
            return true;
         }
      }
   }
   for (const char* c = memchr(s, ':', n); c; c = memchr(c + 1, ':', (size_t)(s + n - c - 1))) {
      if (c + 1 >= s + n || !is_digit(c[1])) continue;
      const char* a = c;
      while (a > s && !tok_stop(a[-1])) a--;
      size_t plen = (size_t)(c - a);
      if (plen < 3) continue;
      /* the path ends in `.ext` (letters first), after its last slash */
      const char* dot = NULL;
      for (const char* q = c - 1; q > a; q--) {
         if (*q == '.') {
            dot = q;
            break;
         }
         if (*q == '/' || *q == '\\' || !is_alnum(*q)) break;
      }
      if (!dot || dot + 1 == c || !((dot[1] | 0x20) >= 'a' && (dot[1] | 0x20) <= 'z')) continue;
      const char* sch = memmem(a, plen, "://", 3);
      if (sch && !((sch - a == 4 && memcmp(a, "file", 4) == 0) ||
                   (sch - a >= 7 && memcmp(sch - 7, "webpack", 7) == 0)))
         continue; /* a URL, not a file */
      const char* ln = c + 1;
      size_t ll = 0;
      while (ln + ll < s + n && is_digit(ln[ll])) ll++;
      const char* col = NULL;
      size_t cl = 0;
      if (ln + ll + 1 < s + n && ln[ll] == ':' && is_digit(ln[ll + 1])) {
         col = ln + ll + 1;
         while (col + cl < s + n && is_digit(col[cl])) cl++;
      }
      detect_set_loc_parts(out, a, plen, ln, ll, col, cl);
      return true;
   }
   return false;
}

/* A line that is only a path (`./src/App.js`, `/x/y.tsx:3:1`): a location, not a title. */
bool detect_is_bare_path(const char* s, uint32_t n) {
   uint32_t b;
   indent_of(s, n, &b);
   s += b, n -= b;
   while (n && is_space(s[n - 1])) n--;
   if (n < 3 || memchr(s, ' ', n)) return false;
   const char* dot = memrchr(s, '.', n);
   return dot && (memchr(s, '/', n) || memchr(s, '\\', n)) && dot + 1 < s + n && is_alnum(dot[1]);
}

/* ESLint's stylish format names the file on a line of its own, then the problems under it. */
void detect_note_file_line(Detector* d, const char* s, uint32_t n) {
   static const char* const exts[] = {".js",  ".jsx", ".ts",  ".tsx",    ".mjs",  ".cjs",
                                      ".mts", ".cts", ".vue", ".svelte", ".astro"};
   if (n < 4 || n > LOC_MAX || !(s[n - 1] >= 'a' && s[n - 1] <= 'z') || is_space(s[0])) return;
   /* every extension is a dot and lowercase letters: walk back over them (at most 7 bytes) */
   uint32_t k = n - 1;
   while (k > 0 && n - k < 7 && s[k - 1] >= 'a' && s[k - 1] <= 'z') k--;
   if (k == 0 || s[k - 1] != '.') return;
   const char* dot = s + k - 1;
   size_t el = (size_t)(s + n - dot);
   for (size_t i = 0; i < ARRAY_LEN(exts); i++) {
      if (strlen(exts[i]) == el && memcmp(dot, exts[i], el) == 0) {
         if (memchr(s, ' ', n)) return;
         memcpy(d->eslint_file, s, n);
         d->eslint_file[n] = '\0';
         return;
      }
   }
}

static bool loc_has_line(const char* loc) {
   const char* c = strrchr(loc, ':');
   return c && is_digit(c[1]);
}

/* Applies a location found in an entry's line: first in-project wins (Python: last). */
void detect_entry_offer_loc(Detector* d, Entry* e, const char* loc, bool foreign) {
   if (!loc[0]) return;
   const char* cur = entry_loc(e);
   bool take = !cur[0] || (d->loc_foreign && !foreign) ||
               (!foreign && !loc_has_line(cur) && loc_has_line(loc)) ||
               (d->mode == G_PYTHON && !foreign && strcmp(cur, loc) != 0);
   if (!take) return;
   if (strcmp(cur, loc) != 0) {
      detect_entry_set_loc(e, loc);
      d->changed = true;
   }
   d->loc_foreign = foreign;
}

void detect_line_offer_loc(Detector* d, Entry* e, const char* s, uint32_t n) {
   char loc[LOC_MAX + 1];
   if (!detect_find_loc(s, n, loc)) return;
   detect_entry_offer_loc(d, e, loc,
                          detect_path_is_foreign(loc, strlen(loc)) || frame_is_foreign(s, n));
}
