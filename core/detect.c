#define PCRE2_CODE_UNIT_WIDTH 8
#include "core/detect.h"

#include <pcre2.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define DETECT_TEDDY 1
#endif

#include "core/logstore.h"
#include "core/util.h"

/* How a line is classified, cheapest first:
 *  1. an open group (error above) tests whether the line continues it (a few byte checks);
 *  2. one pass over the line finds the 4-byte trigger words ("rror", "warn", "fail", "p://",
 *     "✘ ", ...; ASCII case folded), collecting word families. With SSSE3 (checked at run time)
 *     16 positions at a time are screened by their first 3 bytes with nibble tables (the
 *     "Teddy" technique: 8 buckets of words, a position survives if its 3 bytes fit one bucket's
 *     nibbles); without it, the 3-byte fragment at every even offset is looked up in a small hash
 *     table. Either way only a surviving position looks up the exact word in the trigger hash;
 *  3. only the rules whose families occur and whose lead byte fits (a bitset of candidate rules
 *     per family and per lead byte) and whose required literal is in the line run their PCRE2
 *     (JIT) pattern; JSON level rules first check the value after "level" by hand.
 * A plain log line has no trigger word, so it costs step 2 only. */

enum { TITLE_MAX = 200, LOC_MAX = 200, URL_MAX = 1024, PREFIX_MAX = 15, GROUP_MAX_LINES = 400 };

/* Trigger word families: a rule runs only if one of its families occurs in the line. */
enum {
   TW_ERR = 1u << 0,      /* rror err! err_ err] err: err  */
   TW_WARN = 1u << 1,     /* warn */
   TW_FAIL = 1u << 2,     /* fail */
   TW_FATAL = 1u << 3,    /* fata */
   TW_CRIT = 1u << 4,     /* crit */
   TW_PANIC = 1u << 5,    /* pani */
   TW_TRACE = 1u << 6,    /* trac */
   TW_EXC = 1u << 7,      /* xcep caus */
   TW_UNC = 1u << 8,      /* ncau nhan */
   TW_URL = 1u << 9,      /* p:// s:// */
   TW_TEST = 1u << 10,    /* test */
   TW_PASS = 1u << 11,    /* pass */
   TW_PEND = 1u << 12,    /* pend skip todo */
   TW_OK = 1u << 13,      /* "ok  " "t ok" */
   TW_BUILD = 1u << 14,   /* buil */
   TW_GO = 1u << 15,      /* goro .go: */
   TW_MISC = 1u << 16,    /* dule plug */
   TW_LEVEL = 1u << 17,   /* evel */
   TW_SYM = 1u << 18,     /* status symbols and a blank: "✘ " "● " "✓ " " × " ... */
   TW_COMPILE = 1u << 19, /* mpil */
   TW_FINISH = 1u << 20,  /* inis */
};

static const struct {
   const char* word; /* 4 bytes; compared ASCII-case-folded (| 0x20 on every byte) */
   uint32_t fam;
} trigger_words[] = {
    {"rror", TW_ERR},   {"err!", TW_ERR},   {"err_", TW_ERR},     {"err]", TW_ERR},
    {"err:", TW_ERR},   {"err ", TW_ERR},   {"warn", TW_WARN},    {"fail", TW_FAIL},
    {"fata", TW_FATAL}, {"crit", TW_CRIT},  {"pani", TW_PANIC},   {"trac", TW_TRACE},
    {"xcep", TW_EXC},   {"caus", TW_EXC},   {"ncau", TW_UNC},     {"nhan", TW_UNC},
    {"p://", TW_URL},   {"s://", TW_URL},   {"test", TW_TEST},    {"pass", TW_PASS},
    {"pend", TW_PEND},  {"skip", TW_PEND},  {"todo", TW_PEND},    {"ok  ", TW_OK},
    {"t ok", TW_OK},    {"buil", TW_BUILD}, {"mpil", TW_COMPILE}, {"inis", TW_FINISH},
    {"✘ ", TW_SYM},     {"✕ ", TW_SYM},     {"✗ ", TW_SYM},       {"✖ ", TW_SYM},
    {"● ", TW_SYM},     {"▲ ", TW_SYM},     {"⨯ ", TW_SYM},       {"⚠ ", TW_SYM},
    {"✓ ", TW_SYM},     {" × ", TW_SYM},    {"goro", TW_GO},      {".go:", TW_GO},
    {"dule", TW_MISC},  {"plug", TW_MISC},  {"evel", TW_LEVEL},
};

/* What follows the head line of an entry (see group_continues). */
typedef enum Group {
   G_NONE,   /* a single line */
   G_INDENT, /* deeper-indented lines, code frames (`4 | x`, `  | ^`), up to 2 blank lines */
   G_STACK,  /* G_INDENT, and when the head is itself indented (Mocha) lines at its indent too */
   G_LOG,    /* G_INDENT, or a Python/Java traceback right under the log line (then that mode) */
   G_PANIC,  /* Rust panic: the message line, `note:`, an indented backtrace */
   G_PYTHON, /* indented traceback body, then the exception line (becomes the title) */
   G_GO,     /* goroutine traces: `goroutine N [..]:`, `pkg.f(...)`, tab-indented file lines */
   G_JAVA,   /* indented `at` frames, `Caused by:`, `... N more` */
   G_PREFIX, /* following lines that start with the same prefix (`npm ERR!`) */
   G_BLOCK,  /* every non-blank line up to a blank one (webpack, Next.js) */
   G_VITEST, /* up to vitest's `⎯⎯⎯` separator, blank lines included */
} Group;

enum {
   R_NOT = 1,           /* the line is explicitly no entry (ends the search for an entry rule) */
   R_ESLINT = 2,        /* location = the file line above + line:col */
   R_TITLE_NEXT = 4,    /* the first following non-path line is the better title */
   R_PATHHEAD = 8,      /* if the title is a bare path, it is the location and the title follows */
   R_TITLE_APPEND = 16, /* the first following line completes the title (Rust's panic message) */
};

typedef enum TestsParse {
   TP_NONE,
   TP_JEST,
   TP_VITEST,
   TP_MOCHA,
   TP_NODE,
   TP_GO_PASS,
   TP_GO_FAIL,
   TP_GO_SKIP,
   TP_GO_PKG_OK,
   TP_GO_PKG_FAIL,
   TP_PYTEST,
   TP_CARGO,
} TestsParse;

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

/* The trigger hash: slot = the folded 4-byte word itself (0: empty; a folded word never is 0),
 * so a window costs one load and one compare; trig_fam holds the word's families. */
enum { HASH_BITS = 12 };
static uint32_t trig_tab[1u << HASH_BITS];
static uint32_t trig_fam[1u << HASH_BITS];
/* Prefilter for the prefilter: the 3-byte fragments at offsets 0 and 1 of every word. A word
 * at an even offset i shows its fragment 0 at i, at an odd one its fragment 1 at i + 1: so
 * even offsets suffice, and only a fragment hit looks up the words at i and i - 1. */
static uint32_t frag_tab[1u << HASH_BITS];
static uint32_t trig_mult;
static pthread_once_t init_once = PTHREAD_ONCE_INIT;

/* The SIMD screen: for byte j (0..2) of a window, a table by low nibble and one by high nibble
 * of the folded byte give the buckets whose words may have that byte there (bit k: bucket k). */
static struct { uint8_t lo[3][16], hi[3][16]; } teddy __attribute__((aligned(16)));
static int scan_level; /* DETECT_SCAN_*: the trigger scan in use */
static int scan_best;  /* the best one this CPU has */

/* Candidate rules as a bitset (NRULES <= 128): by trigger family, and by the line's lead byte. */
typedef struct RuleSet {
   uint64_t w[2];
} RuleSet;
static RuleSet fam_rules[32];
static RuleSet lead_rules[256];

static inline uint32_t trig_hash(uint32_t w) {
   return (w * trig_mult) >> (32 - HASH_BITS);
}

/* The first 3 bytes of a 4-byte window, folded (the 4th byte zeroed). */
static inline uint32_t frag_of(uint32_t w) {
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
   return (w & 0xFFFFFF00u) | 0x20202000u;
#else
   return (w & 0x00FFFFFFu) | 0x00202020u;
#endif
}

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

/* Puts each trigger word in one of 8 buckets, each time the one whose accepted byte sets
 * (low nibbles x high nibbles, per position) grow least, and fills the nibble tables. */
static void teddy_init(void) {
   uint16_t lo[8][3] = {{0}}, hi[8][3] = {{0}}; /* nibble sets per bucket and position */
   for (size_t i = 0; i < ARRAY_LEN(trigger_words); i++) {
      uint8_t b[3];
      for (int j = 0; j < 3; j++) b[j] = (uint8_t)((uint8_t)trigger_words[i].word[j] | 0x20);
      int best = 0;
      uint64_t best_cost = UINT64_MAX;
      for (int k = 0; k < 8; k++) {
         uint64_t before = 1, after = 1;
         for (int j = 0; j < 3; j++) {
            uint16_t l = lo[k][j], h = hi[k][j];
            before *= (uint64_t)__builtin_popcount(l) * (uint64_t)__builtin_popcount(h);
            l |= (uint16_t)(1u << (b[j] & 15));
            h |= (uint16_t)(1u << (b[j] >> 4));
            after *= (uint64_t)__builtin_popcount(l) * (uint64_t)__builtin_popcount(h);
         }
         if (after - before < best_cost) best_cost = after - before, best = k;
      }
      for (int j = 0; j < 3; j++) {
         lo[best][j] |= (uint16_t)(1u << (b[j] & 15));
         hi[best][j] |= (uint16_t)(1u << (b[j] >> 4));
      }
   }
   memset(&teddy, 0, sizeof teddy);
   for (int k = 0; k < 8; k++)
      for (int j = 0; j < 3; j++)
         for (int x = 0; x < 16; x++) {
            if (lo[k][j] & (1u << x)) teddy.lo[j][x] |= (uint8_t)(1u << k);
            if (hi[k][j] & (1u << x)) teddy.hi[j][x] |= (uint8_t)(1u << k);
         }
#ifdef DETECT_TEDDY
   __builtin_cpu_init();
   /* (AVX2 and VEX-encoded versions of the same scan took more time in brum: not used) */
   if (__builtin_cpu_supports("ssse3")) scan_best = DETECT_SCAN_SSSE3;
#endif
   scan_level = scan_best;
}

static void detect_init(void) {
   /* Pick a multiplier that hashes the trigger words without collision. */
   static const uint32_t mults[] = {0x9E3779B1u, 0x85EBCA6Bu, 0xC2B2AE35u, 0x27D4EB2Fu,
                                    0x165667B1u, 0xD3A2646Cu, 0xFD7046C5u, 0xB55A4F09u};
   for (size_t m = 0; m < ARRAY_LEN(mults) && !trig_mult; m++) {
      memset(trig_tab, 0, sizeof trig_tab);
      memset(frag_tab, 0, sizeof frag_tab);
      trig_mult = mults[m];
      for (size_t i = 0; i < ARRAY_LEN(trigger_words) && trig_mult; i++) {
         uint32_t w;
         memcpy(&w, trigger_words[i].word, 4);
         w |= 0x20202020u;
         uint32_t h = trig_hash(w);
         if (trig_tab[h]) trig_mult = 0;
         trig_tab[h] = w;
         trig_fam[h] = trigger_words[i].fam;
         for (int off = 0; off < 2 && trig_mult; off++) {
            uint32_t f = 0;
            memcpy(&f, trigger_words[i].word + off, 3);
            f = frag_of(f);
            uint32_t fh = trig_hash(f);
            if (frag_tab[fh] && frag_tab[fh] != f) trig_mult = 0;
            frag_tab[fh] = f;
         }
      }
   }
   if (!trig_mult) {
      fputs("brum: detect: no collision-free trigger hash\n", stderr);
      abort();
   }
   teddy_init();
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

/* ------------------------------------------------------------------ state */

typedef struct Entry {
   DetectKind kind;
   uint64_t first, last, time_ms;
   const char* rule; /* borrowed: a string literal of the rule table */
   char title[TITLE_MAX + 1];
   char loc[LOC_MAX + 1];
} Entry;

typedef struct Url {
   char* url;         /* owned */
   const char* label; /* borrowed: a string literal */
   uint64_t lineno, time_ms;
} Url;

struct Detector {
   pcre2_match_data* md; /* owned */
   Entry* ent;           /* owned; a ring of ent_cap slots once full */
   uint32_t ent_cap, ent_n, ent_head;
   uint64_t errors, warnings;

   /* the open group: the newest entry, while lines may still belong to it */
   bool open;
   uint8_t mode;     /* Group */
   uint8_t rflags;   /* R_* of the rule that opened it */
   bool loc_foreign; /* the entry's location is in node_modules etc.: a better one may replace it */
   bool title_pending;   /* R_TITLE_NEXT: the next non-path line becomes the title */
   uint32_t head_indent; /* continuation lines are indented deeper than this */
   uint32_t blanks;      /* blank lines seen since the last grouped line */
   uint32_t ngrouped;
   bool deep;       /* G_BLOCK: an indented or code-frame line was grouped */
   uint32_t nflush; /* G_BLOCK: flush-left lines grouped */
   bool brace;      /* the last line of the entry ended with `{` (Node prints error props) */
   char prefix[PREFIX_MAX + 1];
   uint8_t prefix_len;

   char eslint_file[LOC_MAX + 1]; /* the last bare source-file line (ESLint's stylish format) */

   Url urls[DETECT_MAX_URLS];
   uint32_t nurls;

   DetectTests tests;
   uint32_t go_pass, go_fail, go_skip, go_pkg_ok, go_pkg_fail; /* go test tallies of this run */
   bool tests_fresh; /* a new run or build started: the next accumulating summary starts over */
   BuildResult build;

   int last_rule; /* for tests: the first rule the last line matched, or -1 */
   bool changed;
};

Detector* detect_new(void) {
   pthread_once(&init_once, detect_init);
   Detector* d = xcalloc(1, sizeof *d);
   d->md = pcre2_match_data_create(ovector_pairs, NULL);
   if (!d->md) util_die_oom();
   d->last_rule = -1;
   d->tests_fresh = true;
   return d;
}

void detect_free(Detector* d) {
   if (!d) return;
   pcre2_match_data_free(d->md);
   for (uint32_t i = 0; i < d->nurls; i++) free(d->urls[i].url);
   free(d->ent);
   free(d);
}

void detect_restart(Detector* d) {
   d->open = false;
   d->eslint_file[0] = '\0';
   d->tests_fresh = true;
}

bool detect_changed(const Detector* d) {
   return d->changed;
}

/* ------------------------------------------------------------------ small helpers */

static inline bool is_space(char c) {
   return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static inline bool is_digit(char c) {
   return c >= '0' && c <= '9';
}

static inline bool is_alnum(char c) {
   return is_digit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}

static bool starts_with(const char* s, uint32_t n, const char* lit) {
   size_t k = strlen(lit);
   return n >= k && memcmp(s, lit, k) == 0;
}

/* The first k-byte literal in s (k >= 1): memchr for its first byte, then a compare (cheaper
 * than memmem's set-up for the short lines and literals here). */
static const char* find_lit(const char* s, size_t n, const char* lit, size_t k) {
   if (n < k) return NULL;
   const char* end = s + n - k + 1; /* the last possible start, plus one */
   for (const char* p = s; (p = memchr(p, lit[0], (size_t)(end - p))); p++)
      if (memcmp(p + 1, lit + 1, k - 1) == 0) return p;
   return NULL;
}

/* Whether s holds the k-byte literal, found by its byte at (a rare one). */
static bool has_lit_at(const char* s, size_t n, const char* lit, size_t k, size_t at) {
   if (n < k) return false;
   const char* end = s + n - k + at + 1; /* the last place for lit[at], plus one */
   for (const char* p = s + at; (p = memchr(p, lit[at], (size_t)(end - p))); p++)
      if (memcmp(p - at, lit, k) == 0) return true;
   return false;
}

static bool has_sub(const char* s, size_t n, const char* lit) {
   return memmem(s, n, lit, strlen(lit)) != NULL;
}

/* Copies at most cap bytes without cutting a UTF-8 sequence, trimmed of surrounding blanks. */
static void copy_trimmed(char* dst, size_t cap, const char* s, size_t n) {
   while (n && is_space(*s)) s++, n--;
   while (n && is_space(s[n - 1])) n--;
   if (n > cap) {
      n = cap;
      while (n && ((uint8_t)s[n] & 0xC0) == 0x80) n--; /* s[n] continues a sequence: back off */
   }
   memcpy(dst, s, n);
   dst[n] = '\0';
}

/* Length of a leading timestamp and the blanks after it: `2024-01-01T10:00:00.123Z `,
 * `2024/01/01 10:00:00,123 `, `[10:00:00] `, `[2024-01-01 10:00:00] `, `10:00:00 AM `. */
static uint32_t skip_stamp(const char* s, uint32_t n) {
   if (!n) return 0;
   uint32_t i = 0;
   if (s[0] == '[') {
      if (n < 3 || !is_digit(s[1])) return 0;
      const char* close = memchr(s, ']', n < 40 ? n : 40);
      if (!close) return 0;
      uint32_t k = (uint32_t)(close - s);
      if (!memchr(s, ':', k) && !memchr(s, '-', k)) return 0;
      i = k + 1;
   } else if (is_digit(s[0])) {
      uint32_t d = 0;
      while (d < n && is_digit(s[d])) d++;
      if (d == 4 && n > 10 && (s[4] == '-' || s[4] == '/') && is_digit(s[5]) && is_digit(s[6]) &&
          s[7] == s[4] && is_digit(s[8]) && is_digit(s[9])) {
         i = 10; /* a date; a time may follow */
         if (i < n && (s[i] == 'T' || s[i] == ' ') && i + 1 < n && is_digit(s[i + 1]))
            i++;
         else if (i < n && !is_space(s[i]))
            return 0;
      }
      if (i + 8 <= n && is_digit(s[i]) && is_digit(s[i + 1]) && s[i + 2] == ':' &&
          is_digit(s[i + 3]) && is_digit(s[i + 4]) && s[i + 5] == ':' && is_digit(s[i + 6]) &&
          is_digit(s[i + 7])) {
         i += 8;
         if (i < n && (s[i] == '.' || s[i] == ',')) {
            i++;
            while (i < n && is_digit(s[i])) i++;
         }
         if (i < n && s[i] == 'Z')
            i++;
         else if (i + 3 <= n && (s[i] == '+' || s[i] == '-') && is_digit(s[i + 1])) {
            i++;
            while (i < n && (is_digit(s[i]) || s[i] == ':')) i++;
         }
         if (i + 3 <= n && s[i] == ' ' && (s[i + 1] == 'A' || s[i + 1] == 'P') && s[i + 2] == 'M')
            i += 3;
      }
      if (i == 0) return 0;
   } else {
      return 0;
   }
   if (i >= n || !is_space(s[i])) return 0; /* a stamp is followed by a blank */
   while (i < n && s[i] == ' ') i++;
   return i;
}

static uint32_t indent_of(const char* s, uint32_t n, uint32_t* bytes) {
   uint32_t w = 0, i = 0;
   for (; i < n; i++) {
      if (s[i] == ' ')
         w++;
      else if (s[i] == '\t')
         w += 4;
      else
         break;
   }
   *bytes = i;
   return w;
}

static inline uint32_t trigger_lookup(uint32_t w) {
   w |= 0x20202020u;
   uint32_t h = trig_hash(w);
   return __builtin_expect(trig_tab[h] == w, 0) ? trig_fam[h] : 0;
}

static inline uint32_t load32(const char* p) {
   uint32_t w;
   memcpy(&w, p, 4);
   return w;
}

/* The windows that run past the end, padded with blanks (so "ok  " matches a bare "ok"). */
static uint32_t trigger_tail(const char* s, uint32_t n) {
   uint32_t mask = 0;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
   if (n >= 4) { /* the last 4 bytes shifted down, blanks shifted in */
      uint32_t w = load32(s + n - 4);
      return trigger_lookup((w >> 8) | 0x20000000u) | trigger_lookup((w >> 16) | 0x20200000u) |
             trigger_lookup((w >> 24) | 0x20202000u);
   }
#endif
   uint8_t b[7] = {' ', ' ', ' ', ' ', ' ', ' ', ' '};
   uint32_t from = n >= 3 ? n - 3 : 0;
   for (uint32_t k = from; k < n; k++) b[k - from] = (uint8_t)s[k];
   for (uint32_t k = 0; from + k < n; k++) {
      uint32_t w = (uint32_t)b[k] | (uint32_t)b[k + 1] << 8 | (uint32_t)b[k + 2] << 16 |
                   (uint32_t)b[k + 3] << 24;
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
      w = __builtin_bswap32(w); /* as memcpy would have loaded it */
#endif
      mask |= trigger_lookup(w);
   }
   return mask;
}

/* One pass over the line: the families of trigger words it contains (the windows inside the
 * line at every offset, then the padded ones at the end). */
static uint32_t trigger_mask_scalar(const char* s, uint32_t n) {
   uint32_t mask = 0, i = 0;
   for (; i + 4 <= n; i += 2) {
      uint32_t w = load32(s + i), f = frag_of(w);
      if (__builtin_expect(frag_tab[trig_hash(f)] == f, 0)) {
         mask |= trigger_lookup(w);
         if (i > 0) mask |= trigger_lookup(load32(s + i - 1));
      }
   }
   /* the word the even offsets cannot show: one ending at the last byte */
   if (n >= 4) mask |= trigger_lookup(load32(s + n - 4));
   return mask | trigger_tail(s, n);
}

#ifdef DETECT_TEDDY
/* The buckets whose words may start with the 3 bytes that end at each byte of v: its nibbles
 * looked up in the tables of positions 0, 1 and 2, the first two results shifted by 2 and 1
 * bytes with the previous chunk's (carried in *p0, *p1) in front. */
__attribute__((target("ssse3"))) static inline __m128i teddy_chunk(__m128i v, __m128i* p0,
                                                                   __m128i* p1) {
   const __m128i nib = _mm_set1_epi8(0x0f);
   v = _mm_or_si128(v, _mm_set1_epi8(0x20));
   __m128i lo = _mm_and_si128(v, nib), hi = _mm_and_si128(_mm_srli_epi16(v, 4), nib);
   __m128i r0 = _mm_and_si128(_mm_shuffle_epi8(_mm_load_si128((const void*)teddy.lo[0]), lo),
                              _mm_shuffle_epi8(_mm_load_si128((const void*)teddy.hi[0]), hi));
   __m128i r1 = _mm_and_si128(_mm_shuffle_epi8(_mm_load_si128((const void*)teddy.lo[1]), lo),
                              _mm_shuffle_epi8(_mm_load_si128((const void*)teddy.hi[1]), hi));
   __m128i r2 = _mm_and_si128(_mm_shuffle_epi8(_mm_load_si128((const void*)teddy.lo[2]), lo),
                              _mm_shuffle_epi8(_mm_load_si128((const void*)teddy.hi[2]), hi));
   __m128i r =
       _mm_and_si128(r2, _mm_and_si128(_mm_alignr_epi8(r0, *p0, 14), _mm_alignr_epi8(r1, *p1, 15)));
   *p0 = r0, *p1 = r1;
   return r;
}

/* The same as trigger_mask_scalar with SSSE3, 16 bytes at a time: a window start survives if
 * its first 3 bytes fit one bucket's nibble tables, and only a survivor looks up its word. */
__attribute__((target("ssse3"))) static uint32_t trigger_mask_ssse3(const char* s, uint32_t n) {
   /* shift_ctl + 16 - k: a shuffle that moves the last k bytes of a vector to its front */
   static const int8_t shift_ctl[32] = {0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10,
                                        11, 12, 13, 14, 15, -1, -1, -1, -1, -1, -1,
                                        -1, -1, -1, -1, -1, -1, -1, -1, -1, -1};
   uint32_t mask = 0;
   if (n >= 4) {
      __m128i p0 = _mm_setzero_si128(), p1 = _mm_setzero_si128();
      for (uint32_t base = 0; base < n; base += 16) {
         __m128i v;
         uint32_t left = n - base;
         if (left >= 16) {
            v = _mm_loadu_si128((const void*)(s + base));
         } else if (n >= 16) { /* the last 16 bytes of the line, the wanted ones moved down */
            v = _mm_shuffle_epi8(_mm_loadu_si128((const void*)(s + n - 16)),
                                 _mm_loadu_si128((const void*)(shift_ctl + 16 - left)));
         } else {
            uint8_t pad[16] = {0};
            memcpy(pad, s + base, left);
            v = _mm_loadu_si128((const void*)pad);
         }
         __m128i r = teddy_chunk(v, &p0, &p1);
         /* bit i: a window starting at base + i - 2; the last inside the line starts at n - 4 */
         uint32_t m = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(r, _mm_setzero_si128())) ^ 0xFFFFu;
         if (left < 17) m &= (1u << (left - 1)) - 1; /* i <= left - 2 */
         while (__builtin_expect(m != 0, 0)) {
            mask |= trigger_lookup(load32(s + base + (uint32_t)__builtin_ctz(m) - 2));
            m &= m - 1;
         }
      }
   }
   return mask | trigger_tail(s, n);
}

#endif

static inline uint32_t trigger_mask(const char* s, uint32_t n) {
#ifdef DETECT_TEDDY
   if (scan_level == DETECT_SCAN_SSSE3) return trigger_mask_ssse3(s, n);
#endif
   return trigger_mask_scalar(s, n);
}

int detect_set_scan(int level) {
   pthread_once(&init_once, detect_init);
   scan_level = level < 0 || level > scan_best ? scan_best : level;
   return scan_level;
}

/* ------------------------------------------------------------------ locations */

/* A location in a dependency or a runtime: it contains node_modules, node:, <anonymous>,
 * site-packages, dist-packages, /lib/python, <frozen, /usr/lib/, /usr/local/go/, /pkg/mod/,
 * /rustc/, /.cargo/registry/, /.rustup/, webpack/runtime or <string>. One pass: each is looked
 * for only where its rarest-first byte is. */
static bool path_is_foreign(const char* p, size_t n) {
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

static void set_loc_parts(char* out, const char* path, size_t plen, const char* line, size_t llen,
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
static bool find_loc(const char* s, uint32_t n, char* out) {
   const char* f = find_lit(s, n, "File \"", 6);
   if (f) {
      const char* p = f + 6;
      const char* q = memchr(p, '"', (size_t)(s + n - p));
      if (q && (size_t)(s + n - q) > 8 && memcmp(q, "\", line ", 8) == 0) {
         const char* ln = q + 8;
         size_t ll = 0;
         while (ln + ll < s + n && is_digit(ln[ll])) ll++;
         if (ll) {
            set_loc_parts(out, p, (size_t)(q - p), ln, ll, NULL, 0);
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
      set_loc_parts(out, a, plen, ln, ll, col, cl);
      return true;
   }
   return false;
}

/* A line that is only a path (`./src/App.js`, `/x/y.tsx:3:1`): a location, not a title. */
static bool is_bare_path(const char* s, uint32_t n) {
   uint32_t b;
   indent_of(s, n, &b);
   s += b, n -= b;
   while (n && is_space(s[n - 1])) n--;
   if (n < 3 || memchr(s, ' ', n)) return false;
   const char* dot = memrchr(s, '.', n);
   return dot && (memchr(s, '/', n) || memchr(s, '\\', n)) && dot + 1 < s + n && is_alnum(dot[1]);
}

/* ESLint's stylish format names the file on a line of its own, then the problems under it. */
static void note_file_line(Detector* d, const char* s, uint32_t n) {
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

/* ------------------------------------------------------------------ entries */

static Entry* newest(Detector* d) {
   return &d->ent[(d->ent_head + d->ent_n - 1) % d->ent_cap];
}

static Entry* entry_push(Detector* d) {
   if (d->ent_n < d->ent_cap) {
      d->ent_n++;
   } else if (d->ent_cap < DETECT_MAX_ENTRIES) { /* grows before the ring ever wraps: head is 0 */
      uint32_t cap = d->ent_cap ? d->ent_cap * 2 : 16;
      if (cap > DETECT_MAX_ENTRIES) cap = DETECT_MAX_ENTRIES;
      d->ent = xrealloc(d->ent, cap * sizeof *d->ent);
      d->ent_cap = cap;
      d->ent_n++;
   } else {
      d->ent_head = (d->ent_head + 1) % d->ent_cap; /* drop the oldest */
   }
   Entry* e = newest(d);
   memset(e, 0, sizeof *e);
   return e;
}

static bool loc_has_line(const char* loc) {
   const char* c = strrchr(loc, ':');
   return c && is_digit(c[1]);
}

/* Applies a location found in an entry's line: first in-project wins (Python: last). */
static void entry_offer_loc(Detector* d, Entry* e, const char* loc, bool foreign) {
   if (!loc[0]) return;
   bool take = !e->loc[0] || (d->loc_foreign && !foreign) ||
               (!foreign && !loc_has_line(e->loc) && loc_has_line(loc)) ||
               (d->mode == G_PYTHON && !foreign && strcmp(e->loc, loc) != 0);
   if (!take) return;
   if (strcmp(e->loc, loc) != 0) {
      size_t k = strnlen(loc, LOC_MAX);
      memcpy(e->loc, loc, k);
      e->loc[k] = '\0';
      d->changed = true;
   }
   d->loc_foreign = foreign;
}

static void line_offer_loc(Detector* d, Entry* e, const char* s, uint32_t n) {
   char loc[LOC_MAX + 1];
   if (!find_loc(s, n, loc)) return;
   entry_offer_loc(d, e, loc, path_is_foreign(loc, strlen(loc)) || frame_is_foreign(s, n));
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

enum { C_CLOSE, C_GROUP, C_GROUP_LAST, C_BLANK };

static int group_continues(Detector* d, const char* s, uint32_t n) {
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

static bool ends_with_brace(const char* s, uint32_t n) {
   while (n && is_space(s[n - 1])) n--;
   return n && s[n - 1] == '{';
}

/* A line that belongs to the open entry. */
static void group_add(Detector* d, const char* s, uint32_t n, uint64_t lineno, bool last) {
   Entry* e = newest(d);
   e->last = lineno;
   d->brace = ends_with_brace(s, n);
   d->blanks = 0;
   d->ngrouped++;
   d->changed = true;
   if (d->title_pending && !is_bare_path(s, n)) {
      copy_trimmed(e->title, TITLE_MAX, s, n);
      d->title_pending = false;
   }
   if (last && d->mode == G_PYTHON) copy_trimmed(e->title, TITLE_MAX, s, n);
   if ((d->rflags & R_TITLE_APPEND) && d->ngrouped == 1) {
      size_t k = strlen(e->title);
      if (k + 2 < TITLE_MAX) {
         e->title[k] = ' ';
         copy_trimmed(e->title + k + 1, TITLE_MAX - k - 1, s, n);
      }
   }
   line_offer_loc(d, e, s, n);
   if (!e->loc[0] && is_bare_path(s, n)) {
      uint32_t b;
      indent_of(s, n, &b);
      char loc[LOC_MAX + 1];
      copy_trimmed(loc, LOC_MAX, s + b, n - b);
      entry_offer_loc(d, e, loc, path_is_foreign(loc, strlen(loc)));
   }
   if (last) d->open = false;
}

/* ------------------------------------------------------------------ tests and builds */

static void tests_reset(Detector* d, const char* framework) {
   d->tests = (DetectTests){.seen = true, .framework = framework};
}

static uint32_t parse_u32(const char* s, const char* end, const char** next) {
   uint64_t v = 0;
   while (s < end && is_digit(*s)) {
      if (v < 100000000u) v = v * 10 + (uint64_t)(*s - '0');
      s++;
   }
   *next = s;
   return (uint32_t)v;
}

/* "11 passed, 1 failed (12)" style summaries: every `N word` pair, `(N)` is the total. */
static void tests_count_words(DetectTests* t, const char* s, uint32_t n) {
   const char* end = s + n;
   bool total_given = false;
   for (const char* p = s; p < end; p++) {
      if (!is_digit(*p) || (p > s && (is_alnum(p[-1]) || p[-1] == '.'))) continue;
      const char* q;
      uint32_t v = parse_u32(p, end, &q);
      if (p > s && p[-1] == '(' && q < end && *q == ')') {
         t->total = v;
         total_given = true;
      } else if (q < end && *q == ' ') {
         const char* w = q + 1;
         size_t wl = 0;
         while (w + wl < end && ((w[wl] | 0x20) >= 'a' && (w[wl] | 0x20) <= 'z')) wl++;
#define W(lit) (wl == sizeof(lit) - 1 && memcmp(w, lit, wl) == 0)
         if (W("passed") || W("passing"))
            t->passed += v;
         else if (W("failed") || W("failing") || W("error") || W("errors"))
            t->failed += v;
         else if (W("skipped") || W("pending") || W("ignored") || W("todo") || W("xfailed") ||
                  W("xpassed"))
            t->skipped += v;
         else if (W("total")) {
            t->total = v;
            total_given = true;
         }
#undef W
         q = w + wl;
      }
      p = q > p ? q - 1 : p;
   }
   if (!total_given) t->total = t->passed + t->failed + t->skipped;
}

static void tests_apply(Detector* d, TestsParse tp, const char* s, uint32_t n) {
   DetectTests before = d->tests;
   DetectTests* t = &d->tests;
   const char* end = s + n;
   switch (tp) {
   case TP_NONE:
      return;
   case TP_JEST:
   case TP_VITEST:
   case TP_PYTEST: {
      tests_reset(d, tp == TP_JEST ? "jest" : tp == TP_VITEST ? "vitest" : "pytest");
      tests_count_words(t, s, n);
      break;
   }
   case TP_CARGO: {
      DetectTests add = {0};
      tests_count_words(&add, s, n);
      if (d->tests_fresh || !t->seen || strcmp(t->framework, "cargo") != 0) tests_reset(d, "cargo");
      t->passed += add.passed, t->failed += add.failed, t->skipped += add.skipped;
      t->total = t->passed + t->failed + t->skipped;
      d->tests_fresh = false;
      break;
   }
   case TP_MOCHA: {
      const char* p = s;
      while (p < end && !is_digit(*p)) p++;
      uint32_t v = parse_u32(p, end, &p);
      p++;
      bool passing = starts_with(p, (uint32_t)(end - p), "passing");
      if (passing || !t->seen || strcmp(t->framework, "mocha") != 0) tests_reset(d, "mocha");
      if (passing)
         t->passed = v;
      else if (starts_with(p, (uint32_t)(end - p), "failing"))
         t->failed = v;
      else
         t->skipped = v;
      t->total = t->passed + t->failed + t->skipped;
      break;
   }
   case TP_NODE: {
      const char* p = memchr(s, ' ', n);
      if (!p) return;
      p++;
      const char* w = p;
      while (p < end && *p != ' ') p++;
      size_t wl = (size_t)(p - w);
      uint32_t v = parse_u32(p + 1, end, &p);
      bool tests = wl == 5 && memcmp(w, "tests", 5) == 0;
      if (tests || !t->seen || strcmp(t->framework, "node:test") != 0) tests_reset(d, "node:test");
      if (tests)
         t->total = v;
      else if (wl == 4 && memcmp(w, "pass", 4) == 0)
         t->passed = v;
      else if (wl == 4 && memcmp(w, "fail", 4) == 0)
         t->failed = v;
      else
         t->skipped += v;
      if (!tests && t->total < t->passed + t->failed + t->skipped)
         t->total = t->passed + t->failed + t->skipped;
      break;
   }
   case TP_GO_PASS:
   case TP_GO_FAIL:
   case TP_GO_SKIP:
   case TP_GO_PKG_OK:
   case TP_GO_PKG_FAIL: {
      if (d->tests_fresh || !t->seen || strcmp(t->framework, "go") != 0) {
         tests_reset(d, "go");
         d->go_pass = d->go_fail = d->go_skip = d->go_pkg_ok = d->go_pkg_fail = 0;
         d->tests_fresh = false;
      }
      if (tp == TP_GO_PASS)
         d->go_pass++;
      else if (tp == TP_GO_FAIL)
         d->go_fail++;
      else if (tp == TP_GO_SKIP)
         d->go_skip++;
      else if (tp == TP_GO_PKG_OK)
         d->go_pkg_ok++;
      else
         d->go_pkg_fail++;
      /* per test when `--- X:` lines show (go test -v, or failures); else per package */
      bool per_test = d->go_pass || d->go_fail || d->go_skip;
      t->passed = per_test ? d->go_pass : d->go_pkg_ok;
      t->failed = per_test ? d->go_fail : d->go_pkg_fail;
      t->skipped = per_test ? d->go_skip : 0;
      t->total = t->passed + t->failed + t->skipped;
      break;
   }
   }
   if (memcmp(&before, t, sizeof before) != 0) d->changed = true;
}

static void build_apply(Detector* d, BuildResult r) {
   d->tests_fresh = true; /* a build starts a new test run (cargo test, go test) */
   if (d->build != r) {
      d->build = r;
      d->changed = true;
   }
}

/* ------------------------------------------------------------------ URLs */

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

static bool scan_urls(Detector* d, const char* s, uint32_t n, uint64_t lineno, uint64_t time_ms) {
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
   Entry* e = entry_push(d);
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
   if (group_span(c->g_t, ov, &t, &tl, s) && tl)
      copy_trimmed(e->title, TITLE_MAX, t, tl);
   else
      copy_trimmed(e->title, TITLE_MAX, s, n);
   if (group_span(c->g_sub, ov, &a, &al, s) && al) { /* `message (rule)` */
      size_t k = strlen(e->title);
      if (k + al + 3 <= TITLE_MAX) snprintf(e->title + k, TITLE_MAX + 1 - k, " (%.*s)", (int)al, a);
   }

   char loc[LOC_MAX + 1] = "";
   if (group_span(c->g_loc, ov, &a, &al, s)) {
      set_loc_parts(loc, a, al, NULL, 0, NULL, 0);
   } else if (group_span(c->g_file, ov, &a, &al, s)) {
      if (!group_span(c->g_line, ov, &b, &bl, s)) bl = 0;
      if (!group_span(c->g_col, ov, &cc, &cl, s)) cl = 0;
      set_loc_parts(loc, a, al, b, bl, cc, cl);
   } else if ((r->flags & R_ESLINT) && group_span(c->g_line, ov, &b, &bl, s)) {
      if (!group_span(c->g_col, ov, &cc, &cl, s)) cl = 0;
      if (d->eslint_file[0])
         set_loc_parts(loc, d->eslint_file, strlen(d->eslint_file), b, bl, cc, cl);
   } else {
      find_loc(s, n, loc);
   }
   if ((r->flags & R_PATHHEAD) && is_bare_path(e->title, (uint32_t)strlen(e->title))) {
      if (!loc[0]) snprintf(loc, sizeof loc, "%s", e->title);
      d->title_pending = true;
   }
   if (loc[0]) entry_offer_loc(d, e, loc, path_is_foreign(loc, strlen(loc)));
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
 * (error, fatal, warn...) or 40/50/60. Checked here so that info records (pino's `"level":30`)
 * run no pattern. A superset of what the two patterns accept. */
static bool json_level_value(const char* s, uint32_t n) {
   const char* end = s + n;
   /* `"level"` by its rare 'v' */
   for (const char* p = s + 3; p < end && (p = memchr(p, 'v', (size_t)(end - p))); p++) {
      if (end - p < 4 || memcmp(p - 3, "\"le", 3) != 0 || memcmp(p + 1, "el\"", 3) != 0) continue;
      p += 4;
      while (p < end && is_pcre_space(*p)) p++;
      if (p >= end || *p != ':') continue;
      p++;
      while (p < end && is_pcre_space(*p)) p++;
      if (p < end && (*p == '"' || *p == '4' || *p == '5' || *p == '6')) return true;
   }
   return false;
}

static uint16_t run_rules(Detector* d, uint32_t mask, const char* s, uint32_t n, uint32_t ind,
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
         if ((cats & CAT_TESTS) && !(done & CAT_TESTS)) tests_apply(d, (TestsParse)r->tests, s, n);
         if ((cats & CAT_BUILD) && !(done & CAT_BUILD)) build_apply(d, (BuildResult)r->build);
         done |= cats;
      }
   }
   return flags;
}

uint16_t detect_line(Detector* d, const char* text, uint32_t len, uint64_t lineno,
                     uint64_t time_ms) {
   d->last_rule = -1;
   if (!text) text = "", len = 0;
   uint32_t st = skip_stamp(text, len);
   const char* s = text + st;
   uint32_t n = len - st;
   uint16_t flags = 0;
   bool grouped = false;

   if (d->open) {
      if (lineno - newest(d)->first >= GROUP_MAX_LINES)
         d->open = false;
      else {
         int k = group_continues(d, s, n);
         if (k == C_GROUP || k == C_GROUP_LAST) {
            group_add(d, s, n, lineno, k == C_GROUP_LAST);
            flags |= LINE_GROUPED;
            grouped = true;
         } else if (k == C_BLANK) {
            d->blanks++;
            return 0;
         } else {
            d->open = false;
         }
      }
   }

   uint32_t mask = trigger_mask(s, n);
   if (!grouped) note_file_line(d, s, n);
   if (mask & ~(uint32_t)TW_URL) {
      uint32_t b;
      uint32_t ind = indent_of(s, n, &b);
      uint8_t lead = b < n ? (uint8_t)s[b] : 0;
      if ((mask & TW_LEVEL) && (lead != '{' || !json_level_value(s, n)))
         mask &= ~(uint32_t)TW_LEVEL;
      flags |= run_rules(d, mask, s, n, ind, lead, !grouped, lineno, time_ms);
   }
   if ((mask & TW_URL) && scan_urls(d, s, n, lineno, time_ms)) flags |= LINE_URL;
   return flags;
}

/* ------------------------------------------------------------------ snapshots */

static size_t align8(size_t n) {
   return (n + 7) & ~(size_t)7;
}

DetectSnap* detect_snapshot(Detector* d) {
   size_t off_e = align8(sizeof(DetectSnap));
   size_t off_u = align8(off_e + d->ent_n * sizeof(DetectEntry));
   size_t off_s = off_u + d->nurls * sizeof(DetectUrl);
   size_t strings = 0;
   for (uint32_t i = 0; i < d->ent_n; i++) {
      const Entry* e = &d->ent[(d->ent_head + i) % d->ent_cap];
      strings += strlen(e->title) + 1 + (e->loc[0] ? strlen(e->loc) + 1 : 0);
   }
   for (uint32_t i = 0; i < d->nurls; i++) strings += strlen(d->urls[i].url) + 1;

   char* mem = xmalloc(off_s + strings);
   DetectSnap* snap = (DetectSnap*)(void*)mem;
   DetectEntry* ents = (DetectEntry*)(void*)(mem + off_e);
   DetectUrl* urls = (DetectUrl*)(void*)(mem + off_u);
   char* sp = mem + off_s;
   memset(snap, 0, sizeof *snap);
   for (uint32_t i = 0; i < d->ent_n; i++) {
      const Entry* e = &d->ent[(d->ent_head + i) % d->ent_cap];
      DetectEntry* o = &ents[i];
      o->kind = e->kind;
      o->first_line = e->first;
      o->last_line = e->last;
      o->time_ms = e->time_ms;
      o->rule = e->rule;
      size_t k = strlen(e->title) + 1;
      memcpy(sp, e->title, k);
      o->title = sp;
      sp += k;
      o->location = NULL;
      if (e->loc[0]) {
         k = strlen(e->loc) + 1;
         memcpy(sp, e->loc, k);
         o->location = sp;
         sp += k;
      }
   }
   for (uint32_t i = 0; i < d->nurls; i++) {
      size_t k = strlen(d->urls[i].url) + 1;
      memcpy(sp, d->urls[i].url, k);
      urls[i] = (DetectUrl){.url = sp,
                            .label = d->urls[i].label,
                            .lineno = d->urls[i].lineno,
                            .time_ms = d->urls[i].time_ms};
      sp += k;
   }
   snap->errors = d->errors;
   snap->warnings = d->warnings;
   snap->nentries = d->ent_n;
   snap->nurls = d->nurls;
   snap->entries = ents;
   snap->urls = urls;
   snap->tests = d->tests;
   snap->build = d->build;
   d->changed = false;
   return snap;
}

void detect_snap_free_rcu(struct rcu_head* head) {
   free(caa_container_of(head, DetectSnap, rcu));
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
