/* Compiled PCRE2 patterns, as the filter, search and headless --filter use them: smart-case (an
 * all-lowercase pattern is caseless), UTF-8 with invalid bytes tolerated, JIT when available.
 * A Regex is immutable once compiled and may be shared; each thread matches with its own
 * RegexScratch (PCRE2 match data). */
#ifndef BRUM_CORE_REGEX_H
#define BRUM_CORE_REGEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct Regex Regex;
typedef struct RegexScratch RegexScratch;

/* Errors: -EINVAL with cause "invalid regex at offset N: MESSAGE" (PCRE2's message). */
int regex_compile(const char* pattern, Regex** out, char** cause);
void regex_free(Regex* re);
const char* regex_pattern(const Regex* re);
bool regex_caseless(const Regex* re);
bool regex_jit(const Regex* re);

RegexScratch* regex_scratch_new(void);
void regex_scratch_free(RegexScratch* sc);

/* Matches PCRE2 gave up on with this scratch since it was created (its match, depth or heap
 * limit: the pattern is too expensive for that line). regex_find counts them as no match. */
uint64_t regex_scratch_failures(const RegexScratch* sc);

/* First match at or after byte `from`; its bounds go to start and end (either may be NULL). */
bool regex_find(const Regex* re, RegexScratch* sc, const char* text, size_t len, size_t from,
                size_t* start, size_t* end);
static inline bool regex_match(const Regex* re, RegexScratch* sc, const char* text, size_t len) {
   return regex_find(re, sc, text, len, 0, NULL, NULL);
}

#endif
