/* URLs in output (dev servers' `Local: http://...`): trimmed, deduplicated, labelled. */
#include <stdlib.h>
#include <string.h>

#include "core/detect_impl.h"
#include "core/util.h"

static bool has_sub(const char* s, size_t n, const char* lit) {
   return memmem(s, n, lit, strlen(lit)) != NULL;
}

static const char* url_label(const char* s, size_t n) {
   if (has_sub(s, n, "Local:")) return "Local";
   if (has_sub(s, n, "Network")) return "Network";
   if (has_sub(s, n, "Loopback:")) return "Loopback";
   char low[512];
   if (n > sizeof low) n = sizeof low;
   for (size_t i = 0; i < n; i++) low[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] | 0x20 : s[i]);
   if (has_sub(low, n, "listening on") || has_sub(low, n, "listening at")) return "listening on";
   if (has_sub(low, n, "ready on")) return "ready on";
   if (has_sub(low, n, "started server on")) return "started server on";
   return "";
}

static bool url_char(char c) {
   return (uint8_t)c > 0x20 && (uint8_t)c < 0x7f && c != '"' && c != '\'' && c != '<' && c != '>' &&
          c != '`' && c != '\\' && c != '^' && c != '|';
}

static uint32_t count_char(const char* s, size_t n, char c) {
   uint32_t k = 0;
   for (size_t i = 0; i < n; i++) k += s[i] == c;
   return k;
}

static void url_add(Detector* d, const char* u, size_t n, const char* line, uint32_t linelen,
                    uint64_t lineno, uint64_t time_ms) {
   for (uint32_t i = 0; i < d->nurls; i++) {
      Url* x = &d->urls[i];
      if (strlen(x->url) == n && memcmp(x->url, u, n) == 0) {
         if (x->time_ms != time_ms) { /* seen again: keep the first, note it is still alive */
            x->time_ms = time_ms;
            d->changed = true;
         }
         return;
      }
   }
   if (d->nurls >= DETECT_MAX_URLS) return;
   Url* x = &d->urls[d->nurls++];
   x->url = xstrndup(u, n);
   x->label = url_label(line, linelen);
   x->lineno = lineno;
   x->time_ms = time_ms;
   d->changed = true;
}

bool detect_scan_urls(Detector* d, const char* s, uint32_t n, uint64_t lineno, uint64_t time_ms) {
   bool any = false;
   const char* end = s + n;
   const char* p = s;
   while ((p = memmem(p, (size_t)(end - p), "://", 3))) {
      const char* start = NULL;
      if (p - s >= 5 && memcmp(p - 5, "https", 5) == 0)
         start = p - 5;
      else if (p - s >= 4 && memcmp(p - 4, "http", 4) == 0)
         start = p - 4;
      p += 3;
      if (!start || (start > s && is_alnum(start[-1]))) continue;
      const char* q = p;
      while (q < end && url_char(*q)) q++;
      size_t len = (size_t)(q - start);
      for (;;) { /* trailing punctuation is the sentence's, unbalanced closers the text's */
         char c = start[len - 1];
         if (c == '.' || c == ',' || c == ';' || c == ':' || c == '!' || c == '?' || c == '*')
            len--;
         else if ((c == ')' && count_char(start, len, '(') < count_char(start, len, ')')) ||
                  (c == ']' && count_char(start, len, '[') < count_char(start, len, ']')) ||
                  (c == '}' && count_char(start, len, '{') < count_char(start, len, '}')))
            len--;
         else
            break;
      }
      p = q;
      if (len <= (size_t)(start[4] == 's' ? 8 : 7)) continue; /* nothing after the scheme */
      any = true;
      if (len <= URL_MAX) url_add(d, start, len, s, n, lineno, time_ms);
   }
   return any;
}
