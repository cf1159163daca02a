/* The rule table: which lines are errors, warnings, test summaries or build results, as PCRE2
 * patterns with cheap preconditions (trigger families, lead byte, a literal), compiled once;
 * and what a matching rule does to a Detector (starts an entry, counts tests, sets the build). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/detect_impl.h"
#include "core/logstore.h"
#include "core/util.h"

typedef struct Rule {
   const char* id;      /* unique, for tests and diagnostics */
   const char* name;    /* DetectEntry.rule: the ecosystem */
   uint32_t need;       /* F_* families, any of */
   const char* lead;    /* the first non-blank byte must be one of these; NULL: any */
   const char* must;    /* a literal the line must contain (memmem before PCRE2); NULL: none */
   uint8_t sev;         /* DETECT_ERROR, DETECT_WARNING, or 0 */
   uint8_t group;       /* Group */
   uint8_t tests;       /* TestsParse */
   uint8_t build;       /* BuildResult */
   uint8_t flags;       /* R_* */
   const char* pattern; /* PCRE2, bytes (no UTF mode); named groups t, sub, loc, file, line, col */
} Rule;

#define EXT "(?:[cm]?[jt]sx?|vue|svelte|astro)"
#define DIGITS "0123456789"
#define UPPER "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

/* The rules, in priority order: the first entry rule that matches wins; tests and build rules
 * are independent categories (one line may be an error and a build failure). */
static const Rule rules[] = {
    /* ---- explicitly not entries (summaries that mention errors) ---- */
    {"eslint-summary", "eslint", TW_SYM, "\xe2", NULL, 0, G_NONE, 0, 0, R_NOT,
     "^\\s*✖ \\d+ problems? \\("},
    {"jest-console", "jest", TW_SYM, "\xe2", NULL, 0, G_NONE, 0, 0, R_NOT, "^\\s*● Console\\s*$"},
    {"rust-aborting", "rust", TW_ERR, "e", NULL, 0, G_NONE, 0, BUILD_FAILED, R_NOT,
     "^error: aborting due to"},
    {"cargo-failed", "rust", TW_ERR, "e", NULL, 0, G_NONE, 0, BUILD_FAILED, R_NOT,
     "^error: could not compile"},
    {"rust-warn-summary", "rust", TW_WARN, "w", NULL, 0, G_NONE, 0, 0, R_NOT,
     "^warning: (?:.* generated \\d+ warnings?|\\d+ warnings? emitted)"},
    {"tsc-found-ok", "ts", TW_ERR, "F", NULL, 0, G_NONE, 0, BUILD_OK, R_NOT, "^Found 0 errors\\b"},
    {"tsc-found-errors", "ts", TW_ERR, "F", NULL, 0, G_NONE, 0, BUILD_FAILED, R_NOT,
     "^Found [1-9]\\d* errors?\\b"},

    /* ---- compilers and type checkers ---- */
    {"ts-paren", "ts", TW_ERR, NULL, "): error TS", DETECT_ERROR, G_INDENT, 0, 0, 0,
     "^(?<file>[^\\s(]+?\\." EXT ")\\((?<line>\\d+),(?<col>\\d+)\\): (?<t>error TS\\d+: .*)"},
    {"ts-paren-warn", "ts", TW_WARN, NULL, "): warning TS", DETECT_WARNING, G_INDENT, 0, 0, 0,
     "^(?<file>[^\\s(]+?\\." EXT ")\\((?<line>\\d+),(?<col>\\d+)\\): (?<t>warning TS\\d+: .*)"},
    {"ts-pretty", "ts", TW_ERR, NULL, " - error TS", DETECT_ERROR, G_INDENT, 0, 0, 0,
     "^(?<loc>\\S+?\\." EXT ":\\d+:\\d+) - (?<t>error TS\\d+: .*)"},
    {"ts-pretty-warn", "ts", TW_WARN, NULL, " - warning TS", DETECT_WARNING, G_INDENT, 0, 0, 0,
     "^(?<loc>\\S+?\\." EXT ":\\d+:\\d+) - (?<t>warning TS\\d+: .*)"},
    {"eslint", "eslint", TW_ERR, DIGITS, "error", DETECT_ERROR, G_NONE, 0, 0, R_ESLINT,
     "^\\s+(?<line>\\d+):(?<col>\\d+)\\s+error\\s+(?<t>\\S.*?)(?:\\s{2,}(?<sub>[\\w@/-]+))?\\s*$"},
    {"eslint-warn", "eslint", TW_WARN, DIGITS, "warning", DETECT_WARNING, G_NONE, 0, 0, R_ESLINT,
     "^\\s+(?<line>\\d+):(?<col>\\d+)\\s+warning\\s+(?<t>\\S.*?)(?:\\s{2,}(?<sub>[\\w@/"
     "-]+))?\\s*$"},
    {"cc", "cc", TW_ERR, NULL, "error: ", DETECT_ERROR, G_INDENT, 0, 0, 0,
     "^(?<loc>[^\\s:]+\\.\\w+:\\d+:\\d+): (?<t>(?:fatal )?error: .*)"},
    {"cc-warn", "cc", TW_WARN, NULL, "warning: ", DETECT_WARNING, G_INDENT, 0, 0, 0,
     "^(?<loc>[^\\s:]+\\.\\w+:\\d+:\\d+): (?<t>warning: .*)"},
    {"go-build", "go", TW_GO, NULL, ".go:", DETECT_ERROR, G_INDENT, 0, 0, 0,
     "^(?<loc>[^\\s:]+\\.go:\\d+:\\d+): (?<t>.+)"},
    {"rust", "rust", TW_ERR, "e", NULL, DETECT_ERROR, G_INDENT, 0, 0, 0, "^error\\[E\\d+\\]: "},

    /* ---- runtime crashes ---- */
    {"go-panic", "go", TW_PANIC, "p", NULL, DETECT_ERROR, G_GO, 0, 0, 0, "^panic: "},
    {"go-fatal", "go", TW_FATAL, "f", NULL, DETECT_ERROR, G_GO, 0, 0, 0, "^fatal error: "},
    {"goroutine", "go", TW_GO, "g", NULL, DETECT_ERROR, G_GO, 0, 0, 0,
     "^goroutine \\d+ \\[[^\\]]*\\]:\\s*$"},
    {"rust-panic", "rust", TW_PANIC, "t", NULL, DETECT_ERROR, G_PANIC, 0, 0, R_TITLE_APPEND,
     "^thread '[^']*' panicked at "},
    {"python", "python", TW_TRACE, "T", NULL, DETECT_ERROR, G_PYTHON, 0, 0, 0,
     "^\\s*Traceback \\(most recent call last\\):"},
    {"java-thread", "java", TW_EXC, "E", NULL, DETECT_ERROR, G_JAVA, 0, 0, 0,
     "^Exception in thread \"[^\"]*\" "},
    {"java-caused", "java", TW_EXC, "C", NULL, DETECT_ERROR, G_JAVA, 0, 0, 0, "^Caused by: "},
    {"java-exception", "java", TW_EXC | TW_ERR, NULL, ".", DETECT_ERROR, G_JAVA, 0, 0, 0,
     "^(?:[a-z_$][\\w$]*\\.)+[A-Z][\\w$]*(?:Exception|Error)(?::\\s|\\s*$)"},

    /* ---- test runners ---- */
    {"go-test-fail", "go", TW_FAIL, "-", NULL, DETECT_ERROR, G_INDENT, TP_GO_FAIL, 0, 0,
     "^\\s*--- FAIL: "},
    {"vitest-fail", "vitest", TW_FAIL, "F", NULL, DETECT_ERROR, G_VITEST, 0, 0, 0,
     "^\\s*FAIL\\s+(?<loc>\\S+) > "},
    {"jest-fail", "jest", TW_FAIL, "F", NULL, DETECT_ERROR, G_NONE, 0, 0, 0,
     "^\\s*FAIL {1,2}(?<loc>[^\\s>]+\\.\\w+)(?:\\s+\\(.*\\))?\\s*$"},
    {"jest-block", "jest", TW_SYM, "\xe2", NULL, DETECT_ERROR, G_INDENT, 0, 0, 0,
     "^\\s*● (?<t>.+)"},
    {"test-cross", "test", TW_SYM, "\xe2\xc3", NULL, DETECT_ERROR, G_NONE, 0, 0, 0,
     "^\\s*(?:✕|×|✗|✖) (?<t>.+)"},
    {"tap-not-ok", "tap", TW_OK, "n", NULL, DETECT_ERROR, G_INDENT, 0, 0, 0,
     "^not ok \\d+ - (?<t>.+)"},
    {"pytest-failed", "python", TW_FAIL | TW_ERR, "FE", NULL, DETECT_ERROR, G_NONE, 0, 0, 0,
     "^(?:FAILED|ERROR) (?<loc>[^\\s:]+\\.py)::\\S"},

    /* ---- bundlers and frameworks ---- */
    {"esbuild", "esbuild", TW_SYM, "\xe2", NULL, DETECT_ERROR, G_INDENT, 0, 0, 0,
     "^\\s*✘ \\[ERROR\\] (?<t>.+)"},
    {"esbuild-warn", "esbuild", TW_SYM, "\xe2", NULL, DETECT_WARNING, G_INDENT, 0, 0, 0,
     "^\\s*▲ \\[WARNING\\] (?<t>.+)"},
    {"next-error", "next", TW_SYM, "\xe2", NULL, DETECT_ERROR, G_BLOCK, 0, 0, R_PATHHEAD,
     "^\\s*⨯ (?<t>.+)"},
    {"next-warn", "next", TW_SYM, "\xe2", NULL, DETECT_WARNING, G_NONE, 0, 0, 0, "^\\s*⚠ (?<t>.+)"},
    {"next-failed", "next", TW_FAIL, "F", NULL, DETECT_ERROR, G_BLOCK, 0, BUILD_FAILED,
     R_TITLE_NEXT, "^\\s*Failed to compile\\b"},
    {"next12-error", "next", TW_ERR, "e", "- ", DETECT_ERROR, G_BLOCK, 0, 0, R_PATHHEAD,
     "^error\\s+- (?<t>.+)"},
    {"next12-warn", "next", TW_WARN, "w", "- ", DETECT_WARNING, G_NONE, 0, 0, 0,
     "^warn\\s+- (?<t>.+)"},
    {"vite", "vite", TW_ERR, "[", "[vite] ", DETECT_ERROR, G_INDENT, 0, 0, 0,
     "^\\[vite\\] (?:Internal server error|Pre-transform error|error)\\b"},
    {"vite-plugin", "vite", TW_MISC, "[", "[plugin:", DETECT_ERROR, G_INDENT, 0, 0, 0,
     "^\\[plugin:[^\\]]+\\] "},
    {"vite-build", "vite", TW_ERR, "e", NULL, DETECT_ERROR, G_BLOCK, 0, BUILD_FAILED, R_TITLE_NEXT,
     "^error during build:"},
    {"webpack", "webpack", TW_ERR, "E", "ERROR in ", DETECT_ERROR, G_BLOCK, 0, 0, R_TITLE_NEXT,
     "^\\s*ERROR in "
     "(?<file>(?:\\.{0,2}/|[\\w@-]+/)\\S+|[\\w@.-]+\\.\\w+(?::\\d+:\\d+)?)(?=\\s|$)(?: "
     "(?<line>\\d+):(?<col>\\d+))?"},
    {"webpack-warn", "webpack", TW_WARN, "W", "WARNING in ", DETECT_WARNING, G_BLOCK, 0, 0,
     R_TITLE_NEXT,
     "^\\s*WARNING in "
     "(?<file>(?:\\.{0,2}/|[\\w@-]+/)\\S+|[\\w@.-]+\\.\\w+(?::\\d+:\\d+)?)(?=\\s|$)(?: "
     "(?<line>\\d+):(?<col>\\d+))?"},
    {"module-not-found", "webpack", TW_MISC, "M", NULL, DETECT_ERROR, G_BLOCK, 0, 0, 0,
     "^Module not found: "},

    /* ---- package managers ---- */
    {"npm", "npm", TW_ERR, "n", NULL, DETECT_ERROR, G_PREFIX, 0, 0, 0, "^npm ERR! "},
    {"npm10", "npm", TW_ERR, "n", NULL, DETECT_ERROR, G_PREFIX, 0, 0, 0, "^npm error "},
    {"npm-warn", "npm", TW_WARN, "n", NULL, DETECT_WARNING, G_NONE, 0, 0, 0, "^npm (?:WARN|warn) "},
    {"pnpm", "pnpm", TW_ERR, NULL, "ERR_PNPM_", DETECT_ERROR, G_INDENT, 0, 0, 0,
     "\\bERR_PNPM_[A-Z_]+"},
    {"pnpm-lifecycle", "pnpm", TW_FAIL, "E", NULL, DETECT_ERROR, G_NONE, 0, 0, 0,
     "^\\s*ELIFECYCLE\\s+Command failed"},
    {"yarn", "yarn", TW_ERR, "e", NULL, DETECT_ERROR, G_NONE, 0, 0, 0,
     "^error (?:Command failed|An unexpected error)"},

    /* ---- JavaScript errors ---- */
    {"js-unhandled", "js", TW_UNC, NULL, "UnhandledPromiseRejection", DETECT_ERROR, G_STACK, 0, 0,
     0, "UnhandledPromiseRejection"},
    {"js-uncaught", "js", TW_UNC, "U", NULL, DETECT_ERROR, G_STACK, 0, 0, 0, "^\\s*Uncaught\\b"},
    {"js-error", "js", TW_ERR | TW_EXC, UPPER, NULL, DETECT_ERROR, G_STACK, 0, 0, 0,
     "^\\s*(?:[A-Z][A-Za-z0-9]*)?(?:Error|Exception)(?: \\[[\\w-]+\\])?: "},
    {"node-warning", "js", TW_WARN, "(", NULL, DETECT_WARNING, G_INDENT, 0, 0, 0,
     "^\\(node:\\d+\\) (?:\\[[\\w-]+\\] )?\\w*Warning: "},
    {"js-warning", "js", TW_WARN, "W", NULL, DETECT_WARNING, G_INDENT, 0, 0, 0, "^\\s*Warning: "},

    /* ---- generic log levels (where the level is: first word, logfmt, JSON) ---- */
    {"level-error", "log", TW_ERR | TW_FATAL | TW_CRIT | TW_PANIC, NULL, NULL, DETECT_ERROR, G_LOG,
     0, 0, 0,
     "^\\s*(?:\\|\\s*)?(?:\\[\\s*(?:ERROR|ERR|FATAL|CRITICAL|CRIT|PANIC|error|err|fatal|critical|"
     "Error|Fatal)\\s*\\]|(?:ERROR|ERR|FATAL|CRITICAL|CRIT|PANIC)\\b(?![=.])|"
     "(?:error|fatal|Error|Fatal|critical) ?:(?:\\s|$))"},
    {"logfmt-error", "log", TW_ERR | TW_FATAL | TW_CRIT | TW_PANIC, NULL, "level=", DETECT_ERROR,
     G_LOG, 0, 0, 0, "\\blevel=\"?(?:error|err|fatal|crit|critical|panic|ERROR|FATAL)\\b"},
    {"json-error", "log", TW_LEVEL, "{", "\"level\"", DETECT_ERROR, G_NONE, 0, 0, 0,
     "\"level\"\\s*:\\s*(?:\"(?:error|fatal|ERROR|FATAL)\"|(?:50|60)\\b)"},
    {"level-warn", "log", TW_WARN, NULL, NULL, DETECT_WARNING, G_LOG, 0, 0, 0,
     "^\\s*(?:\\|\\s*)?(?:\\[\\s*(?:WARN|WARNING|warn|warning|Warn|Warning)\\s*\\]|"
     "(?:WARN|WARNING)\\b(?![=.])|(?:warning|warn|Warning|Warn) ?:(?:\\s|$))"},
    {"logfmt-warn", "log", TW_WARN, NULL, "level=", DETECT_WARNING, G_LOG, 0, 0, 0,
     "\\blevel=\"?(?:warn|warning|WARN|WARNING)\\b"},
    {"json-warn", "log", TW_LEVEL, "{", "\"level\"", DETECT_WARNING, G_NONE, 0, 0, 0,
     "\"level\"\\s*:\\s*(?:\"(?:warn|warning|WARN)\"|40\\b)"},

    /* ---- test summaries ---- */
    {"jest-tests", "jest", TW_TEST, "T", " total", 0, G_NONE, TP_JEST, 0, 0,
     "^Tests:\\s+.*\\d+ total"},
    {"vitest-tests", "vitest", TW_TEST, "T", ")", 0, G_NONE, TP_VITEST, 0, 0,
     "^\\s*Tests\\s+\\d+ .*\\(\\d+\\)"},
    {"mocha-tests", "mocha", TW_PASS | TW_FAIL | TW_PEND, DIGITS, NULL, 0, G_NONE, TP_MOCHA, 0, 0,
     "^\\s*\\d+ (?:passing|failing|pending)\\b"},
    {"node-tests", "node:test", TW_TEST | TW_PASS | TW_FAIL | TW_PEND, "#\xe2", NULL, 0, G_NONE,
     TP_NODE, 0, 0, "^(?:#|ℹ) (?:tests|pass|fail|skipped|todo) \\d+\\s*$"},
    {"go-test-pass", "go", TW_PASS, "-", NULL, 0, G_NONE, TP_GO_PASS, 0, 0, "^\\s*--- PASS: "},
    {"go-test-skip", "go", TW_PEND, "-", NULL, 0, G_NONE, TP_GO_SKIP, 0, 0, "^\\s*--- SKIP: "},
    {"go-pkg-ok", "go", TW_OK, "o", "ok", 0, G_NONE, TP_GO_PKG_OK, 0, 0,
     "^ok\\s+\\S+\\s+(?:[\\d.]+s|\\(cached\\))"},
    {"go-pkg-fail", "go", TW_FAIL, "F", NULL, 0, G_NONE, TP_GO_PKG_FAIL, 0, 0,
     "^FAIL\\s+\\S+\\s+(?:[\\d.]+s|\\[(?:build|setup) failed\\])"},
    {"pytest-tests", "pytest", TW_PASS | TW_FAIL | TW_PEND | TW_ERR, "=" DIGITS, " in ", 0, G_NONE,
     TP_PYTEST, 0, 0,
     "^(?:=+ )?(?:\\d+ \\w+, )*\\d+ (?:passed|failed|skipped|errors?|xfailed|xpassed|deselected)"
     "(?:, \\d+ \\w+)* in [\\d.]+s\\b(?: \\([^)]*\\))?(?: =+)?\\s*$"},
    {"cargo-tests", "cargo", TW_TEST, "t", NULL, 0, G_NONE, TP_CARGO, 0, 0,
     "^test result: (?:ok|FAILED)\\. \\d+ passed; \\d+ failed;"},

    /* ---- build results ---- */
    {"vite-built", "vite", TW_SYM, "\xe2", "built in ", 0, G_NONE, 0, BUILD_OK, 0,
     "^\\s*✓ built in [\\d.]+m?s"},
    {"compiled-errors", "webpack", TW_COMPILE, NULL, "ompiled with ", 0, G_NONE, 0, BUILD_FAILED, 0,
     "\\b[Cc]ompiled with [1-9]\\d* errors?\\b"},
    {"compiled-ok", "webpack", TW_COMPILE, NULL, "ompiled", 0, G_NONE, 0, BUILD_OK, 0,
     "\\b[Cc]ompiled (?:successfully|with \\d+ warnings?)\\b|^\\s*✓ Compiled\\b"},
    {"build-failed", "build", TW_BUILD, NULL, NULL, 0, G_NONE, 0, BUILD_FAILED, 0,
     "\\b(?:Build failed|BUILD FAIL(?:ED|URE)|build failed)\\b"},
    {"build-ok", "build", TW_BUILD, NULL, NULL, 0, G_NONE, 0, BUILD_OK, 0,
     "\\b(?:Build succeeded|Build successful|BUILD SUCCESS(?:FUL)?|build succeeded)\\b"},
    {"cargo-finished", "rust", TW_FINISH, "F", "target(s) in ", 0, G_NONE, 0, BUILD_OK, 0,
     "^\\s*Finished\\b.*\\btarget\\(s\\) in "},
};

enum { NRULES = ARRAY_LEN(rules) };

enum { CAT_ENTRY = 1, CAT_TESTS = 2, CAT_BUILD = 4 }; /* what a rule decides for a line */

/* Compiled once for every Detector (pcre2 code is read-only and shareable across threads). */
typedef struct Compiled {
   pcre2_code* code; /* owned, never freed (process lifetime) */
   bool jit;
   uint8_t must_len;
   uint8_t must_at; /* the byte of `must` that memchr looks for: its rarest in log text */
   uint8_t cats;    /* CAT_*: what a match of the rule decides */
   int8_t g_t, g_sub, g_loc, g_file, g_line, g_col; /* named group numbers, -1 when absent */
   uint8_t lead[256 / 8]; /* bitset of allowed first bytes (all set: any) */
} Compiled;

static Compiled compiled[NRULES];
static uint32_t ovector_pairs = 1;

/* Candidate rules as a bitset (NRULES <= 128): by trigger family, and by the line's lead byte. */
typedef struct RuleSet {
   uint64_t w[2];
} RuleSet;
static RuleSet fam_rules[32];
static RuleSet lead_rules[256];

static int8_t group_number(pcre2_code* code, const char* name) {
   int n = pcre2_substring_number_from_name(code, (PCRE2_SPTR)name);
   return n > 0 ? (int8_t)n : -1;
}

/* A rough rank of how often a byte occurs in log text (higher: more often). */
static int byte_commonness(uint8_t c) {
   if (c == ' ') return 100;
   if (strchr("etaoinsr", c)) return 80;
   if (c >= 'a' && c <= 'z') return 60;
   if (c >= '0' && c <= '9') return 50;
   if (strchr("/.:-=\"", c)) return 45;
   if (c >= 'A' && c <= 'Z') return 30;
   return 20;
}

void detect_rules_init(void) {
   for (size_t i = 0; i < NRULES; i++) {
      int err;
      PCRE2_SIZE off;
      Compiled* c = &compiled[i];
      c->code =
          pcre2_compile((PCRE2_SPTR)rules[i].pattern, PCRE2_ZERO_TERMINATED, 0, &err, &off, NULL);
      if (!c->code) {
         PCRE2_UCHAR msg[256];
         pcre2_get_error_message(err, msg, sizeof msg);
         fprintf(stderr, "brum: detect rule %s: bad pattern at %zu: %s\n", rules[i].id, (size_t)off,
                 (const char*)msg);
         abort();
      }
      c->jit = pcre2_jit_compile(c->code, PCRE2_JIT_COMPLETE) == 0;
      c->g_t = group_number(c->code, "t");
      c->must_len = rules[i].must ? (uint8_t)strlen(rules[i].must) : 0;
      for (uint8_t k = 1; k < c->must_len; k++)
         if (byte_commonness((uint8_t)rules[i].must[k]) <
             byte_commonness((uint8_t)rules[i].must[c->must_at]))
            c->must_at = k;
      c->cats = (uint8_t)(((rules[i].sev || (rules[i].flags & R_NOT)) ? CAT_ENTRY : 0) |
                          (rules[i].tests ? CAT_TESTS : 0) | (rules[i].build ? CAT_BUILD : 0));
      c->g_sub = group_number(c->code, "sub");
      c->g_loc = group_number(c->code, "loc");
      c->g_file = group_number(c->code, "file");
      c->g_line = group_number(c->code, "line");
      c->g_col = group_number(c->code, "col");
      uint32_t caps = 0;
      pcre2_pattern_info(c->code, PCRE2_INFO_CAPTURECOUNT, &caps);
      if (caps + 1 > ovector_pairs) ovector_pairs = caps + 1;
      if (rules[i].lead) {
         for (const char* p = rules[i].lead; *p; p++)
            c->lead[(uint8_t)*p >> 3] |= (uint8_t)(1u << ((uint8_t)*p & 7));
      } else {
         memset(c->lead, 0xff, sizeof c->lead);
      }
      for (unsigned f = 0; f < 32; f++)
         if (rules[i].need & (1u << f)) fam_rules[f].w[i / 64] |= 1ull << (i % 64);
      for (unsigned b = 0; b < 256; b++)
         if (c->lead[b >> 3] & (1u << (b & 7))) lead_rules[b].w[i / 64] |= 1ull << (i % 64);
   }
}

pcre2_match_data* detect_match_data_new(void) {
   return pcre2_match_data_create(ovector_pairs, NULL);
}

/* Whether s holds the k-byte literal, found by its byte at (a rare one). */
static bool has_lit_at(const char* s, size_t n, const char* lit, size_t k, size_t at) {
   if (n < k) return false;
   const char* end = s + n - k + at + 1; /* the last place for lit[at], plus one */
   for (const char* p = s + at; (p = memchr(p, lit[at], (size_t)(end - p))); p++)
      if (memcmp(p - at, lit, k) == 0) return true;
   return false;
}

/* ------------------------------------------------------------------ the rules */

static bool group_span(int g, const PCRE2_SIZE* ov, const char** out, size_t* len, const char* s) {
   if (g < 0 || ov[2 * g] == PCRE2_UNSET) return false;
   *out = s + ov[2 * g];
   *len = ov[2 * g + 1] - ov[2 * g];
   return true;
}

static void entry_start(Detector* d, const Rule* r, const Compiled* c, const char* s, uint32_t n,
                        uint32_t ind, uint64_t lineno, uint64_t time_ms) {
   PCRE2_SIZE* ov = pcre2_get_ovector_pointer(d->md);
   Entry* e = detect_entry_push(d);
   e->kind = (DetectKind)r->sev;
   e->first = e->last = lineno;
   e->time_ms = time_ms;
   e->rule = r->name;
   if (r->sev == DETECT_ERROR)
      d->errors++;
   else
      d->warnings++;
   d->changed = true;

   d->open = r->group != G_NONE;
   d->mode = r->group;
   d->rflags = r->flags;
   d->loc_foreign = false;
   d->title_pending = (r->flags & R_TITLE_NEXT) != 0;
   d->head_indent = ind;
   d->blanks = 0;
   d->ngrouped = 0;
   d->deep = false;
   d->nflush = 0;
   d->brace = ends_with_brace(s, n);
   d->prefix_len = 0;
   if (r->group == G_PREFIX) { /* `npm ERR! ` */
      const char* sp = memchr(s, ' ', n);
      if (sp) sp = memchr(sp + 1, ' ', (size_t)(s + n - sp - 1));
      size_t k = sp ? (size_t)(sp - s) : 0;
      if (k && k <= PREFIX_MAX) {
         memcpy(d->prefix, s, k);
         d->prefix[k] = '\0';
         d->prefix_len = (uint8_t)k;
      }
   }

   const char *t = NULL, *a = NULL, *b = NULL, *cc = NULL;
   size_t tl, al, bl, cl;
   char title[TITLE_MAX + 1];
   if (group_span(c->g_t, ov, &t, &tl, s) && tl)
      copy_trimmed(title, TITLE_MAX, t, tl);
   else
      copy_trimmed(title, TITLE_MAX, s, n);
   if (group_span(c->g_sub, ov, &a, &al, s) && al) { /* `message (rule)` */
      size_t k = strlen(title);
      if (k + al + 3 <= TITLE_MAX) snprintf(title + k, TITLE_MAX + 1 - k, " (%.*s)", (int)al, a);
   }
   detect_entry_set_title(e, title);

   char loc[LOC_MAX + 1] = "";
   if (group_span(c->g_loc, ov, &a, &al, s)) {
      detect_set_loc_parts(loc, a, al, NULL, 0, NULL, 0);
   } else if (group_span(c->g_file, ov, &a, &al, s)) {
      if (!group_span(c->g_line, ov, &b, &bl, s)) bl = 0;
      if (!group_span(c->g_col, ov, &cc, &cl, s)) cl = 0;
      detect_set_loc_parts(loc, a, al, b, bl, cc, cl);
   } else if ((r->flags & R_ESLINT) && group_span(c->g_line, ov, &b, &bl, s)) {
      if (!group_span(c->g_col, ov, &cc, &cl, s)) cl = 0;
      if (d->eslint_file[0])
         detect_set_loc_parts(loc, d->eslint_file, strlen(d->eslint_file), b, bl, cc, cl);
   } else {
      detect_find_loc(s, n, loc);
   }
   if ((r->flags & R_PATHHEAD) && detect_is_bare_path(title, (uint32_t)strlen(title))) {
      if (!loc[0]) snprintf(loc, sizeof loc, "%s", title);
      d->title_pending = true;
   }
   if (loc[0]) detect_entry_offer_loc(d, e, loc, detect_path_is_foreign(loc, strlen(loc)));
}

static bool rule_matches(Detector* d, const Compiled* c, const char* s, uint32_t n) {
   int rc = c->jit ? pcre2_jit_match(c->code, (PCRE2_SPTR)s, n, 0, 0, d->md, NULL)
                   : pcre2_match(c->code, (PCRE2_SPTR)s, n, 0, 0, d->md, NULL);
   return rc >= 0;
}

_Static_assert(NRULES <= 128, "RuleSet holds 128 rules");

static inline bool is_pcre_space(char c) { /* \s without UCP */
   return c == ' ' || (c >= '\t' && c <= '\r');
}

/* TW_LEVEL only serves json-error and json-warn: both need `"level"\s*:\s*` then a string
 * (error, fatal, warn...) or 40/50/60. Checked here so that info records (pino's `"level":30`,
 * winston's `"level":"info"`) run no pattern. A superset of what the two patterns accept: the
 * string's first letter (e, f, w in either case), the number's first digit. */
bool detect_json_level_value(const char* s, uint32_t n) {
   const char* end = s + n;
   /* `"level"` by its rare 'v' */
   for (const char* p = s + 3; p < end && (p = memchr(p, 'v', (size_t)(end - p))); p++) {
      if (end - p < 4 || memcmp(p - 3, "\"le", 3) != 0 || memcmp(p + 1, "el\"", 3) != 0) continue;
      p += 4;
      while (p < end && is_pcre_space(*p)) p++;
      if (p >= end || *p != ':') continue;
      p++;
      while (p < end && is_pcre_space(*p)) p++;
      if (p < end && (*p == '4' || *p == '5' || *p == '6')) return true;
      if (p + 1 < end && *p == '"' && p[1] && strchr("efwEFW", p[1])) return true;
   }
   return false;
}

uint16_t detect_run_rules(Detector* d, uint32_t mask, const char* s, uint32_t n, uint32_t ind,
                          uint8_t lead, bool entries, uint64_t lineno, uint64_t time_ms) {
   uint16_t flags = 0;
   unsigned done = entries ? 0 : CAT_ENTRY;
   RuleSet cand = {{0, 0}};
   for (uint32_t m = mask; m; m &= m - 1) {
      const RuleSet* f = &fam_rules[__builtin_ctz(m)];
      cand.w[0] |= f->w[0], cand.w[1] |= f->w[1];
   }
   cand.w[0] &= lead_rules[lead].w[0], cand.w[1] &= lead_rules[lead].w[1];
   for (unsigned wi = 0; wi < 2; wi++) {
      for (uint64_t bits = cand.w[wi]; bits && done != (CAT_ENTRY | CAT_TESTS | CAT_BUILD);
           bits &= bits - 1) {
         size_t i = wi * 64 + (size_t)__builtin_ctzll(bits);
         const Rule* r = &rules[i];
         const Compiled* c = &compiled[i];
         unsigned cats = c->cats;
         if (!(cats & ~done)) continue;
         if (r->must && !has_lit_at(s, n, r->must, c->must_len, c->must_at)) continue;
         if (!rule_matches(d, c, s, n)) continue;
         if (d->last_rule < 0) d->last_rule = (int)i;
         if ((cats & CAT_ENTRY) && !(done & CAT_ENTRY) && r->sev) {
            entry_start(d, r, c, s, n, ind, lineno, time_ms);
            flags |= r->sev == DETECT_ERROR ? LINE_ERROR : LINE_WARNING;
         }
         if ((cats & CAT_TESTS) && !(done & CAT_TESTS))
            detect_tests_apply(d, (TestsParse)r->tests, s, n);
         if ((cats & CAT_BUILD) && !(done & CAT_BUILD))
            detect_build_apply(d, (BuildResult)r->build);
         done |= cats;
      }
   }
   return flags;
}

/* ------------------------------------------------------------------ introspection */

size_t detect_rule_count(void) {
   return NRULES;
}

const char* detect_rule_id(size_t i) {
   return i < NRULES ? rules[i].id : NULL;
}

const char* detect_last_rule(const Detector* d) {
   return d->last_rule >= 0 ? rules[d->last_rule].id : NULL;
}

bool detect_last_in_use(const Detector* d) {
   return d->in_use;
}
