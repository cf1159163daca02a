#define PCRE2_CODE_UNIT_WIDTH 8
#include "core/regex.h"

#include <errno.h>
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

struct Regex {
   pcre2_code* code; /* owned */
   char* pattern;    /* owned */
   bool caseless, jit;
};

struct RegexScratch {
   pcre2_match_data* md; /* owned */
   uint64_t failures;    /* matches that ended in an error, not a result */
};

/* Smart case: any uppercase letter that is not part of an escape (\S, \W, \D...) makes the
 * pattern case-sensitive. */
static bool has_upper(const char* p) {
   for (; *p; p++) {
      if (*p == '\\') {
         if (!p[1]) break;
         p++;
         continue;
      }
      if (*p >= 'A' && *p <= 'Z') return true;
   }
   return false;
}

int regex_compile(const char* pattern, Regex** out, char** cause) {
   bool caseless = !has_upper(pattern);
   uint32_t opts = PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | (caseless ? PCRE2_CASELESS : 0);
   int errcode;
   PCRE2_SIZE erroff;
   pcre2_code* code =
       pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, opts, &errcode, &erroff, NULL);
   if (!code) {
      PCRE2_UCHAR msg[256];
      pcre2_get_error_message(errcode, msg, sizeof msg);
      if (cause) *cause = xasprintf("invalid regex at offset %zu: %s", (size_t)erroff, msg);
      return -EINVAL;
   }
   Regex* re = xcalloc(1, sizeof *re);
   re->code = code;
   re->pattern = xstrdup(pattern);
   re->caseless = caseless;
   re->jit = pcre2_jit_compile(code, PCRE2_JIT_COMPLETE) == 0;
   *out = re;
   return 0;
}

void regex_free(Regex* re) {
   if (!re) return;
   pcre2_code_free(re->code);
   free(re->pattern);
   free(re);
}

const char* regex_pattern(const Regex* re) {
   return re->pattern;
}

bool regex_caseless(const Regex* re) {
   return re->caseless;
}

bool regex_jit(const Regex* re) {
   return re->jit;
}

RegexScratch* regex_scratch_new(void) {
   RegexScratch* sc = xcalloc(1, sizeof *sc);
   sc->md = pcre2_match_data_create(1, NULL);
   if (!sc->md) util_die_oom();
   return sc;
}

void regex_scratch_free(RegexScratch* sc) {
   if (!sc) return;
   pcre2_match_data_free(sc->md);
   free(sc);
}

uint64_t regex_scratch_failures(const RegexScratch* sc) {
   return sc->failures;
}

bool regex_find(const Regex* re, RegexScratch* sc, const char* text, size_t len, size_t from,
                size_t* start, size_t* end) {
   if (from > len) return false;
   int rc = pcre2_match(re->code, (PCRE2_SPTR)(text ? text : ""), len, from, 0, sc->md, NULL);
   if (rc < 0) {
      if (rc != PCRE2_ERROR_NOMATCH) sc->failures++; /* a limit hit: the caller may say so */
      return false;
   }
   PCRE2_SIZE* ov = pcre2_get_ovector_pointer(sc->md);
   if (start) *start = ov[0];
   if (end) *end = ov[1];
   return true;
}
