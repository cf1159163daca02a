/* core/detect: every rule case by case, the grouping and locations on real-looking output from
 * each ecosystem (tests/fixtures/detect/NAME.log with NAME.expect), URLs, test and build results,
 * snapshots.
 *
 * NAME.expect lists, in order, what the snapshot must hold after feeding NAME.log line by line
 * (line numbers from 0); `#` lines are comments:
 *   error|FIRST|LAST|RULE|TITLE|LOCATION        (or warning|...; LOCATION "-" for none)
 *   url|LINE|LABEL|URL
 *   tests|FRAMEWORK|PASSED|FAILED|SKIPPED|TOTAL
 *   build|ok  or  build|failed                  (absent: no build result)
 * Besides, every line's flags must agree: an entry's first line is LINE_ERROR/LINE_WARNING, the
 * other non-blank lines of its range LINE_GROUPED, no line outside an entry is either, and a URL's
 * line is LINE_URL. */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/detect.h"
#include "core/detect_impl.h"
#include "core/logstore.h"
#include "core/rcu.h"

static void setup(void) {
   rcu_register_thread();
}

static void teardown(void) {
   rcu_barrier(); /* run pending call_rcu frees so ASan sees no leaks */
   rcu_unregister_thread();
}

TestSuite(detect, .init = setup, .fini = teardown);

static uint16_t feed(Detector* d, const char* line, uint64_t lineno) {
   return detect_line(d, line, (uint32_t)strlen(line), lineno, 1000 + lineno);
}

/* Feeds lines[0..n) and returns a snapshot. */
static DetectSnap* run_lines(const char* const* lines, size_t n, uint16_t* flags) {
   Detector* d = detect_new();
   for (size_t i = 0; i < n; i++) {
      uint16_t f = feed(d, lines[i], i);
      if (flags) flags[i] = f;
   }
   DetectSnap* s = detect_snapshot(d);
   detect_free(d);
   return s;
}

/* ------------------------------------------------------------------ fixtures */

typedef struct Lines {
   char** v;
   size_t n;
} Lines;

static Lines read_lines(const char* path) {
   FILE* f = fopen(path, "r");
   cr_assert_not_null(f, "cannot open %s", path);
   Lines l = {0};
   char* buf = NULL;
   size_t cap = 0;
   ssize_t k;
   while ((k = getline(&buf, &cap, f)) >= 0) {
      if (k && buf[k - 1] == '\n') buf[--k] = '\0';
      l.v = realloc(l.v, (l.n + 1) * sizeof *l.v);
      l.v[l.n++] = strdup(buf);
   }
   free(buf);
   fclose(f);
   return l;
}

static void free_lines(Lines* l) {
   for (size_t i = 0; i < l->n; i++) free(l->v[i]);
   free(l->v);
}

static bool is_blank(const char* s) {
   for (; *s; s++)
      if (*s != ' ' && *s != '\t') return false;
   return true;
}

static void check_fixture(const char* name) {
   char path[512];
   snprintf(path, sizeof path, "%s/tests/fixtures/detect/%s.log", BRUM_SOURCE_DIR, name);
   Lines in = read_lines(path);
   snprintf(path, sizeof path, "%s/tests/fixtures/detect/%s.expect", BRUM_SOURCE_DIR, name);
   Lines ex = read_lines(path);

   uint16_t* flags = calloc(in.n + 1, sizeof *flags);
   DetectSnap* s = run_lines((const char* const*)in.v, in.n, flags);

   uint32_t ei = 0, ui = 0;
   uint64_t nerr = 0, nwarn = 0;
   bool tests_seen = false;
   BuildResult build = BUILD_NONE;
   char* owner = calloc(in.n + 1, 1); /* per line: 1 head, 2 grouped range */
   for (size_t i = 0; i < ex.n; i++) {
      char* line = ex.v[i];
      if (!line[0] || line[0] == '#') continue;
      char* f[8] = {0};
      int nf = 0;
      for (char* p = line; nf < 8;) { /* split on '|', the last field takes the rest */
         f[nf++] = p;
         char* bar = strchr(p, '|');
         if (!bar || (nf == 5 && (!strcmp(f[0], "error") || !strcmp(f[0], "warning")))) {
            if (nf == 5 && bar) { /* TITLE may hold '|': LOCATION is after the last one */
               char* last = strrchr(p, '|');
               *last = '\0';
               f[nf++] = last + 1;
            }
            break;
         }
         *bar = '\0';
         p = bar + 1;
      }
      if (!strcmp(f[0], "error") || !strcmp(f[0], "warning")) {
         cr_assert_eq(nf, 6, "%s.expect:%zu: bad line", name, i + 1);
         cr_assert_lt(ei, s->nentries, "%s: expected more entries than %u", name, s->nentries);
         const DetectEntry* e = &s->entries[ei++];
         DetectKind kind = !strcmp(f[0], "error") ? DETECT_ERROR : DETECT_WARNING;
         uint64_t first = strtoull(f[1], NULL, 10), last = strtoull(f[2], NULL, 10);
         cr_expect_eq(e->kind, kind, "%s entry %u: kind", name, ei);
         cr_expect_eq(e->first_line, first, "%s entry %u: first %" PRIu64 ", want %" PRIu64, name,
                      ei, e->first_line, first);
         cr_expect_eq(e->last_line, last, "%s entry %u: last %" PRIu64 ", want %" PRIu64, name, ei,
                      e->last_line, last);
         cr_expect_eq(e->time_ms, 1000 + first, "%s entry %u: time", name, ei);
         cr_expect_str_eq(e->rule, f[3], "%s entry %u: rule", name, ei);
         cr_expect_str_eq(e->title, f[4], "%s entry %u: title", name, ei);
         cr_expect_str_eq(e->location ? e->location : "-", f[5], "%s entry %u: location", name, ei);
         kind == DETECT_ERROR ? nerr++ : nwarn++;
         owner[first] = 1;
         for (uint64_t l = first + 1; l <= last && l < in.n; l++) owner[l] = 2;
         uint16_t want = kind == DETECT_ERROR ? LINE_ERROR : LINE_WARNING;
         cr_expect_eq(flags[first] & (LINE_ERROR | LINE_WARNING | LINE_GROUPED), want,
                      "%s:%" PRIu64 ": head flags %#x", name, first, flags[first]);
      } else if (!strcmp(f[0], "url")) {
         cr_assert_eq(nf, 4, "%s.expect:%zu: bad line", name, i + 1);
         cr_assert_lt(ui, s->nurls, "%s: expected more URLs than %u", name, s->nurls);
         const DetectUrl* u = &s->urls[ui++];
         uint64_t ln = strtoull(f[1], NULL, 10);
         cr_expect_eq(u->lineno, ln, "%s url %u: line", name, ui);
         cr_expect_str_eq(u->label, f[2], "%s url %u: label", name, ui);
         cr_expect_str_eq(u->url, f[3], "%s url %u", name, ui);
         cr_expect(flags[ln] & LINE_URL, "%s:%" PRIu64 ": not flagged as URL", name, ln);
      } else if (!strcmp(f[0], "tests")) {
         cr_assert_eq(nf, 6, "%s.expect:%zu: bad line", name, i + 1);
         tests_seen = true;
         cr_expect(s->tests.seen, "%s: no test summary", name);
         cr_expect_str_eq(s->tests.framework ? s->tests.framework : "", f[1], "%s: framework",
                          name);
         cr_expect_eq(s->tests.passed, (uint32_t)atoi(f[2]), "%s: passed %u", name,
                      s->tests.passed);
         cr_expect_eq(s->tests.failed, (uint32_t)atoi(f[3]), "%s: failed %u", name,
                      s->tests.failed);
         cr_expect_eq(s->tests.skipped, (uint32_t)atoi(f[4]), "%s: skipped %u", name,
                      s->tests.skipped);
         cr_expect_eq(s->tests.total, (uint32_t)atoi(f[5]), "%s: total %u", name, s->tests.total);
      } else if (!strcmp(f[0], "build")) {
         build = !strcmp(f[1], "ok") ? BUILD_OK : BUILD_FAILED;
      } else {
         cr_assert_fail("%s.expect:%zu: unknown record %s", name, i + 1, f[0]);
      }
   }
   cr_expect_eq(s->nentries, ei, "%s: %u entries, want %u", name, s->nentries, ei);
   cr_expect_eq(s->nurls, ui, "%s: %u URLs, want %u", name, s->nurls, ui);
   cr_expect_eq(s->errors, nerr, "%s: errors", name);
   cr_expect_eq(s->warnings, nwarn, "%s: warnings", name);
   cr_expect_eq(s->tests.seen, tests_seen, "%s: tests seen", name);
   cr_expect_eq(s->build, build, "%s: build %d, want %d", name, s->build, build);
   for (size_t l = 0; l < in.n; l++) {
      uint16_t f = flags[l] & (LINE_ERROR | LINE_WARNING | LINE_GROUPED);
      if (owner[l] == 2)
         cr_expect(f == LINE_GROUPED || (f == 0 && is_blank(in.v[l])),
                   "%s:%zu: inside an entry, flags %#x: %s", name, l, flags[l], in.v[l]);
      else if (owner[l] == 0)
         cr_expect_eq(f, 0, "%s:%zu: outside every entry, flags %#x: %s", name, l, flags[l],
                      in.v[l]);
   }
   free(owner);
   free(s);
   free(flags);
   free_lines(&in);
   free_lines(&ex);
}

#define FIXTURE(name)                                                                              \
   Test(detect, fixture_##name) {                                                                  \
      check_fixture(#name);                                                                        \
   }
FIXTURE(js_node)
FIXTURE(typescript)
FIXTURE(npm)
FIXTURE(vite)
FIXTURE(webpack)
FIXTURE(esbuild)
FIXTURE(nextjs)
FIXTURE(eslint)
FIXTURE(jest)
FIXTURE(vitest)
FIXTURE(mocha)
FIXTURE(node_test)
FIXTURE(go)
FIXTURE(python)
FIXTURE(rust)
FIXTURE(java)
FIXTURE(generic)
FIXTURE(negatives)
FIXTURE(urls)

/* ------------------------------------------------------------------ rules, case by case */

typedef struct Case {
   const char* rule;   /* the rule id that must match the last line */
   const char* line;   /* the line under test */
   const char* before; /* an optional line fed first (ESLint's file line) */
   uint16_t flags;     /* what detect_line must return for it */
   const char* title;  /* for entries: the title; NULL: not checked */
   const char* loc;    /* for entries: the location; NULL: none */
} Case;

#define E LINE_ERROR
#define W LINE_WARNING
static const Case cases[] = {
    {"eslint-summary", "✖ 3 problems (2 errors, 1 warning)", NULL, 0, NULL, NULL},
    {"jest-console", "  ● Console", NULL, 0, NULL, NULL},
    {"rust-aborting", "error: aborting due to 2 previous errors", NULL, 0, NULL, NULL},
    {"cargo-failed", "error: could not compile `shop` (bin \"shop\") due to 1 previous error", NULL,
     0, NULL, NULL},
    {"rust-warn-summary", "warning: `shop` (lib) generated 3 warnings", NULL, 0, NULL, NULL},
    {"tsc-found-ok", "Found 0 errors. Watching for file changes.", NULL, 0, NULL, NULL},
    {"tsc-found-errors", "Found 3 errors in 2 files.", NULL, 0, NULL, NULL},
    {"ts-paren", "src/a.ts(10,5): error TS2322: Type 'string' is not assignable to type 'number'.",
     NULL, E, "error TS2322: Type 'string' is not assignable to type 'number'.", "src/a.ts:10:5"},
    {"ts-paren-warn", "src/b.tsx(3,1): warning TS6385: 'substr' is deprecated.", NULL, W,
     "warning TS6385: 'substr' is deprecated.", "src/b.tsx:3:1"},
    {"ts-pretty", "src/index.ts:14:7 - error TS2304: Cannot find name 'proces'.", NULL, E,
     "error TS2304: Cannot find name 'proces'.", "src/index.ts:14:7"},
    {"ts-pretty-warn", "src/x.mts:2:1 - warning TS6133: 'y' is declared but never read.", NULL, W,
     "warning TS6133: 'y' is declared but never read.", "src/x.mts:2:1"},
    {"eslint", "  10:5  error  'x' is not defined  no-undef", "/home/u/p/src/a.js", E,
     "'x' is not defined (no-undef)", "/home/u/p/src/a.js:10:5"},
    {"eslint-warn", "  2:1   warning  Unexpected console statement  no-console", "src/b.ts", W,
     "Unexpected console statement (no-console)", "src/b.ts:2:1"},
    {"cc", "src/main.c:10:5: error: expected ';' before 'return'", NULL, E,
     "error: expected ';' before 'return'", "src/main.c:10:5"},
    {"cc-warn", "lib/io.c:3:9: warning: unused variable 'n' [-Wunused-variable]", NULL, W,
     "warning: unused variable 'n' [-Wunused-variable]", "lib/io.c:3:9"},
    {"go-build", "./main.go:12:5: undefined: cfg", NULL, E, "undefined: cfg", "./main.go:12:5"},
    {"rust", "error[E0308]: mismatched types", NULL, E, "error[E0308]: mismatched types", NULL},
    {"go-panic", "panic: runtime error: index out of range [5] with length 3", NULL, E, NULL, NULL},
    {"go-fatal", "fatal error: concurrent map writes", NULL, E, NULL, NULL},
    {"goroutine", "goroutine 1 [running]:", NULL, E, NULL, NULL},
    {"rust-panic", "thread 'main' panicked at src/main.rs:4:5:", NULL, E, NULL, "src/main.rs:4:5"},
    {"python", "Traceback (most recent call last):", NULL, E, NULL, NULL},
    {"java-thread", "Exception in thread \"main\" java.lang.RuntimeException: boom", NULL, E, NULL,
     NULL},
    {"java-caused", "Caused by: java.net.ConnectException: Connection refused", NULL, E, NULL,
     NULL},
    {"java-exception", "java.lang.NullPointerException: name is null", NULL, E, NULL, NULL},
    {"go-test-fail", "--- FAIL: TestAdd (0.00s)", NULL, E, "--- FAIL: TestAdd (0.00s)", NULL},
    {"vitest-fail", " FAIL  src/sum.test.ts > sum > adds", NULL, E, NULL, "src/sum.test.ts"},
    {"jest-fail", " FAIL  src/math/sum.test.js (5.1 s)", NULL, E, NULL, "src/math/sum.test.js"},
    {"jest-block", "  ● sum › adds 2 + 2", NULL, E, "sum › adds 2 + 2", NULL},
    {"test-cross", "    ✕ adds 2 + 2 (4 ms)", NULL, E, "adds 2 + 2 (4 ms)", NULL},
    {"tap-not-ok", "not ok 2 - parses config", NULL, E, "parses config", NULL},
    {"pytest-failed", "FAILED tests/test_a.py::test_total - assert 4 == 5", NULL, E, NULL,
     "tests/test_a.py"},
    {"esbuild", "✘ [ERROR] Could not resolve \"./utils\"", NULL, E, "Could not resolve \"./utils\"",
     NULL},
    {"esbuild-warn", "▲ [WARNING] Duplicate key \"a\" in object literal", NULL, W, NULL, NULL},
    {"next-error", " ⨯ ./src/app/page.tsx:3:1", NULL, E, "./src/app/page.tsx:3:1",
     "./src/app/page.tsx:3:1"},
    {"next-warn", " ⚠ Fast Refresh had to perform a full reload", NULL, W,
     "Fast Refresh had to perform a full reload", NULL},
    {"next-failed", "Failed to compile.", NULL, E, "Failed to compile.", NULL},
    {"next12-error", "error - ./pages/index.js:4:0", NULL, E, NULL, "./pages/index.js:4:0"},
    {"next12-warn", "warn  - You have enabled experimental features", NULL, W, NULL, NULL},
    {"vite", "10:02:15 AM [vite] Internal server error: Failed to resolve import \"./Foo\"", NULL,
     E, "[vite] Internal server error: Failed to resolve import \"./Foo\"", NULL},
    {"vite-plugin", "[plugin:vite:css] [postcss] /home/u/p/src/a.css:12:3: Unknown word", NULL, E,
     NULL, "/home/u/p/src/a.css:12:3"},
    {"vite-build", "error during build:", NULL, E, NULL, NULL},
    {"webpack", "ERROR in ./src/index.js 3:0-31", NULL, E, NULL, "./src/index.js:3:0"},
    {"webpack-warn", "WARNING in ./src/util.js 10:2-8", NULL, W, NULL, "./src/util.js:10:2"},
    {"module-not-found", "Module not found: Can't resolve './x' in '/home/u/p/src'", NULL, E, NULL,
     NULL},
    {"npm", "npm ERR! code ELIFECYCLE", NULL, E, NULL, NULL},
    {"npm10", "npm error Missing script: \"start\"", NULL, E, NULL, NULL},
    {"npm-warn", "npm WARN deprecated glob@7.2.3: no longer supported", NULL, W, NULL, NULL},
    {"pnpm", " ERR_PNPM_RECURSIVE_RUN_FIRST_FAIL  web@1.0.0 dev: `vite`", NULL, E, NULL, NULL},
    {"pnpm-lifecycle", " ELIFECYCLE  Command failed with exit code 1.", NULL, E, NULL, NULL},
    {"yarn", "error Command failed with exit code 1.", NULL, E, NULL, NULL},
    {"js-unhandled", "(node:42) UnhandledPromiseRejectionWarning: Error: boom", NULL, E, NULL,
     NULL},
    {"js-uncaught", "Uncaught (in promise) TypeError: x is undefined", NULL, E, NULL, NULL},
    {"js-error", "TypeError: cb is not a function", NULL, E, "TypeError: cb is not a function",
     NULL},
    {"node-warning", "(node:42) [DEP0040] DeprecationWarning: punycode is deprecated", NULL, W,
     NULL, NULL},
    {"js-warning", "Warning: Each child in a list should have a unique \"key\" prop.", NULL, W,
     NULL, NULL},
    {"level-error", "2024-01-01T10:00:00Z ERROR failed to connect", NULL, E,
     "ERROR failed to connect", NULL},
    {"logfmt-error", "time=\"2024-01-01T10:00:07Z\" level=error msg=\"boom\"", NULL, E, NULL, NULL},
    {"json-error", "{\"level\":50,\"msg\":\"request failed\"}", NULL, E, NULL, NULL},
    {"level-warn", "[10:00:03] [WARN] cache directory is not writable", NULL, W,
     "[WARN] cache directory is not writable", NULL},
    {"logfmt-warn", "level=warn msg=\"slow query\"", NULL, W, NULL, NULL},
    {"json-warn", "{\"level\":\"warn\",\"msg\":\"deprecated\"}", NULL, W, NULL, NULL},
    {"jest-tests", "Tests:       1 failed, 11 passed, 12 total", NULL, 0, NULL, NULL},
    {"vitest-tests", "      Tests  1 failed | 11 passed (12)", NULL, 0, NULL, NULL},
    {"mocha-tests", "  11 passing (20ms)", NULL, 0, NULL, NULL},
    {"node-tests", "# pass 11", NULL, 0, NULL, NULL},
    {"go-test-pass", "--- PASS: TestSub (0.00s)", NULL, 0, NULL, NULL},
    {"go-test-skip", "    --- SKIP: TestDiv/gpu (0.00s)", NULL, 0, NULL, NULL},
    {"go-pkg-ok", "ok  \texample.com/m/store\t0.012s", NULL, 0, NULL, NULL},
    {"go-pkg-fail", "FAIL\texample.com/m/math\t0.004s", NULL, 0, NULL, NULL},
    {"pytest-tests", "==== 1 failed, 11 passed in 0.12s ====", NULL, 0, NULL, NULL},
    {"cargo-tests", "test result: FAILED. 11 passed; 1 failed; 0 ignored; 0 measured", NULL, 0,
     NULL, NULL},
    {"vite-built", "✓ built in 1.02s", NULL, 0, NULL, NULL},
    {"compiled-errors", "webpack 5.91.0 compiled with 2 errors in 876 ms", NULL, 0, NULL, NULL},
    {"compiled-ok", "webpack 5.91.0 compiled successfully in 1432 ms", NULL, 0, NULL, NULL},
    {"build-failed", "Build failed with 1 error:", NULL, 0, NULL, NULL},
    {"build-ok", "Build succeeded.", NULL, 0, NULL, NULL},
    {"cargo-finished", "    Finished `dev` profile [unoptimized + debuginfo] target(s) in 0.52s",
     NULL, 0, NULL, NULL},
    /* more spellings of the same rules */
    {"level-error", "[ERROR] Unable to open /etc/app.conf", NULL, E, NULL, NULL},
    {"level-error", "FATAL: database \"shop\" does not exist", NULL, E, NULL, NULL},
    {"level-error", "error: unknown option '--prod'", NULL, E, NULL, NULL},
    {"level-error", "ERROR:root:payment gateway timeout", NULL, E, NULL, NULL},
    {"level-error", "2024/01/01 10:00:06 [error] 311#311: connect() failed", NULL, E, NULL, NULL},
    {"level-error", "2024-01-01 10:00:04.123 | ERROR    | app.jobs:run:42 - job failed", NULL, E,
     NULL, NULL},
    {"level-error", "2024-01-01 10:00:05,456 CRITICAL [scheduler] lost lease", NULL, E, NULL, NULL},
    {"level-warn", "WARNING: The script flask is not on PATH.", NULL, W, NULL, NULL},
    {"level-warn", "warning: skipping ./tmp", NULL, W, NULL, NULL},
    {"level-warn", " WARN  Browserslist: caniuse-lite is outdated.", NULL, W, NULL, NULL},
    {"js-error", "Error [ERR_MODULE_NOT_FOUND]: Cannot find module '/x/db.js'", NULL, E, NULL,
     NULL},
    {"js-error", "      AssertionError [ERR_ASSERTION]: -1 == 0", NULL, E, NULL, NULL},
    {"js-error", "SyntaxError: Unexpected token '}'", NULL, E, NULL, NULL},
    {"js-error", "ReferenceError: fetchUser is not defined", NULL, E, NULL, NULL},
    {"js-unhandled", "[UnhandledPromiseRejection: This error originated ...] {", NULL, E, NULL,
     NULL},
    {"test-cross", "   × sum > adds 2 + 2 4ms", NULL, E, NULL, NULL},
    {"npm-warn", "npm warn deprecated rimraf@3.0.2", NULL, W, NULL, NULL},
    {"node-tests", "ℹ tests 12", NULL, 0, NULL, NULL},
    {"mocha-tests", "  1 failing", NULL, 0, NULL, NULL},
    {"pytest-tests", "1 failed, 11 passed, 2 skipped in 0.31s", NULL, 0, NULL, NULL},
    {"compiled-ok", "Compiled successfully!", NULL, 0, NULL, NULL},
    {"compiled-ok", " ✓ Compiled /dashboard in 812ms (512 modules)", NULL, 0, NULL, NULL},
    {"build-failed", "[INFO] BUILD FAILURE", NULL, 0, NULL, NULL},
    {"build-failed", "x Build failed in 48ms", NULL, 0, NULL, NULL},
};
#undef E
#undef W

Test(detect, every_rule_has_a_case) {
   for (size_t i = 0; i < detect_rule_count(); i++) {
      const char* id = detect_rule_id(i);
      bool found = false;
      for (size_t k = 0; k < sizeof cases / sizeof cases[0] && !found; k++)
         found = !strcmp(cases[k].rule, id);
      cr_expect(found, "rule %s has no case", id);
   }
   cr_assert_null(detect_rule_id(detect_rule_count()));
}

Test(detect, rules_case_by_case) {
   for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
      const Case* c = &cases[k];
      Detector* d = detect_new();
      uint64_t ln = 0;
      if (c->before) feed(d, c->before, ln++);
      uint16_t f = feed(d, c->line, ln);
      const char* got = detect_last_rule(d);
      cr_expect(got && !strcmp(got, c->rule), "`%s`: rule %s, want %s", c->line,
                got ? got : "(none)", c->rule);
      cr_expect_eq(f & (LINE_ERROR | LINE_WARNING | LINE_GROUPED), c->flags,
                   "`%s`: flags %#x, want %#x", c->line, f, c->flags);
      DetectSnap* s = detect_snapshot(d);
      cr_expect_eq(s->nentries, c->flags ? 1u : 0u, "`%s`: %u entries", c->line, s->nentries);
      if (c->flags && s->nentries == 1) {
         const DetectEntry* e = &s->entries[0];
         cr_expect_eq(e->first_line, ln);
         cr_expect_eq(e->last_line, ln);
         if (c->title) cr_expect_str_eq(e->title, c->title, "`%s`: title", c->line);
         if (c->loc)
            cr_expect_str_eq(e->location ? e->location : "(null)", c->loc, "`%s`", c->line);
         else
            cr_expect_null(e->location, "`%s`: location %s", c->line, e->location);
      }
      free(s);
      detect_free(d);
   }
}

/* Lines that mention errors or warnings without being one. Decisions: a level word counts only
 * where a log puts its level (first word after an optional timestamp, `[LEVEL]`, logfmt
 * `level=`, JSON "level"); counts of zero and names (errorHandler.js, ERROR_COUNT) are not. */
Test(detect, negatives) {
   static const char* const lines[] = {
       "[INFO] 2024-01-01 request id=123 served in 12ms from cache, user=alice",
       "0 errors",
       "found 0 errors",
       "no errors found",
       "Errors: 0",
       "ERRORS: 0, WARNINGS: 0",
       "INFO error rate 0%",
       "warningCount=0",
       "errorCount=0 ERROR_COUNT=0 ERROR=0",
       "errorHandler.js",
       "loaded src/middleware/no-error-handler.js",
       "GET /api/errors 200 3ms",
       "DEBUG onError handler registered",
       "the word warning appears mid-sentence",
       "Error handling middleware installed",
       "ok 1 - works",
       "PASS  src/ok.test.js",
       "✓ 12 tests passed",
       "webpack compiled with 0 errors",
       "set LOG_LEVEL=error to silence this",
       "  1 error and 0 warnings potentially fixable with the `--fix` option.",
       "Errors  Files",
       "",
   };
   for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
      Detector* d = detect_new();
      uint16_t f = feed(d, lines[i], 0);
      cr_expect_eq(f, 0, "`%s`: flags %#x (rule %s)", lines[i], f,
                   detect_last_rule(d) ? detect_last_rule(d) : "-");
      DetectSnap* s = detect_snapshot(d);
      cr_expect_eq(s->nentries + s->nurls, 0u, "`%s`", lines[i]);
      cr_expect_not(s->tests.seen, "`%s`", lines[i]);
      cr_expect_eq(s->build, BUILD_NONE, "`%s`", lines[i]);
      free(s);
      detect_free(d);
   }
}

/* ------------------------------------------------------------------ grouping */

Test(detect, python_title_is_the_exception_and_location_the_last_own_frame) {
   static const char* const lines[] = {
       "Traceback (most recent call last):",
       "  File \"/app/views.py\", line 27, in orders",
       "    total = compute_total(items)",
       "  File \"/app/billing.py\", line 8, in compute_total",
       "    return a / b",
       "  File \"/venv/lib/python3.12/site-packages/x/y.py\", line 3, in f",
       "    g()",
       "ValueError: invalid literal for int() with base 10: 'x'",
       "next line",
   };
   uint16_t flags[9];
   DetectSnap* s = run_lines(lines, 9, flags);
   cr_assert_eq(s->nentries, 1);
   cr_expect_eq(s->entries[0].first_line, 0);
   cr_expect_eq(s->entries[0].last_line, 7);
   cr_expect_str_eq(s->entries[0].title, "ValueError: invalid literal for int() with base 10: 'x'");
   cr_expect_str_eq(s->entries[0].location, "/app/billing.py:8");
   cr_expect_str_eq(s->entries[0].rule, "python");
   cr_expect_eq(flags[0], LINE_ERROR);
   for (int i = 1; i <= 7; i++) cr_expect_eq(flags[i], LINE_GROUPED, "line %d", i);
   cr_expect_eq(flags[8], 0);
   free(s);
}

Test(detect, js_location_prefers_project_and_strips_file_url) {
   static const char* const lines[] = {
       "TypeError: x is not a function",
       "    at f (node:internal/process/task_queues:95:5)",
       "    at g (/p/node_modules/lib/index.js:1:2)",
       "    at h (<anonymous>)",
       "    at main (file:///p/src/main.mjs:10:3)",
       "    at k (/p/src/other.js:1:1)",
   };
   DetectSnap* s = run_lines(lines, 6, NULL);
   cr_assert_eq(s->nentries, 1);
   cr_expect_eq(s->entries[0].last_line, 5);
   cr_expect_str_eq(s->entries[0].location, "/p/src/main.mjs:10:3");
   free(s);

   static const char* const only_deps[] = {
       "Error: boom",
       "    at g (/p/node_modules/lib/index.js:1:2)",
   };
   s = run_lines(only_deps, 2, NULL);
   cr_expect_str_eq(s->entries[0].location, "/p/node_modules/lib/index.js:1:2",
                    "a node_modules location beats none");
   free(s);
}

Test(detect, java_caused_by_groups_and_skips_jdk_frames) {
   static const char* const lines[] = {
       "Exception in thread \"main\" java.lang.IllegalStateException: boom",
       "\tat java.base/java.util.Objects.requireNonNull(Objects.java:259)",
       "\tat com.x.Config.load(Config.java:18)",
       "Caused by: java.io.IOException: nope",
       "\tat com.x.Config.read(Config.java:31)",
       "\t... 2 more",
       "[INFO] done",
   };
   uint16_t flags[7];
   DetectSnap* s = run_lines(lines, 7, flags);
   cr_assert_eq(s->nentries, 1);
   cr_expect_eq(s->entries[0].last_line, 5);
   cr_expect_str_eq(s->entries[0].location, "Config.java:18");
   cr_expect_eq(flags[3], LINE_GROUPED);
   cr_expect_eq(flags[6], 0);
   free(s);
}

Test(detect, restart_closes_the_open_group) {
   Detector* d = detect_new();
   feed(d, "TypeError: boom", 0);
   cr_expect_eq(feed(d, "    at a (/p/a.js:1:1)", 1), LINE_GROUPED);
   detect_restart(d);
   cr_expect_eq(feed(d, "    at b (/p/b.js:1:1)", 2), 0);
   DetectSnap* s = detect_snapshot(d);
   cr_expect_eq(s->nentries, 1, "entries survive a restart");
   cr_expect_eq(s->entries[0].last_line, 1);
   free(s);
   detect_free(d);
}

/* A runaway group (an endless stack trace) takes exactly DETECT_GROUP_MAX_LINES lines, head
 * included; the frames after it belong to no entry. */
Test(detect, group_is_bounded) {
   Detector* d = detect_new();
   cr_assert_eq(feed(d, "Error: deep recursion", 0), LINE_ERROR);
   for (uint64_t ln = 1; ln < 3 * DETECT_GROUP_MAX_LINES; ln++)
      cr_assert_eq(feed(d, "    at f (/p/a.js:1:1)", ln),
                   ln < DETECT_GROUP_MAX_LINES ? LINE_GROUPED : 0, "line %" PRIu64 " (cap %d)", ln,
                   DETECT_GROUP_MAX_LINES);
   DetectSnap* s = detect_snapshot(d);
   cr_assert_eq(s->nentries, 1);
   cr_expect_eq(s->entries[0].first_line, 0);
   cr_expect_eq(s->entries[0].last_line, DETECT_GROUP_MAX_LINES - 1,
                "the group ends at the cap: %" PRIu64, s->entries[0].last_line);
   free(s);
   detect_free(d);
}

/* ------------------------------------------------------------------ URLs */

Test(detect, urls_trim_dedupe_label) {
   Detector* d = detect_new();
   cr_expect_eq(feed(d, "  ➜  Local:   http://localhost:5173/", 0), LINE_URL);
   cr_expect_eq(feed(d, "  ➜  Network: http://192.168.1.5:5173/", 1), LINE_URL);
   cr_expect_eq(feed(d, "(see https://example.com/a_(b)).", 2), LINE_URL);
   cr_expect_eq(feed(d, "again: http://localhost:5173/", 3), LINE_URL);
   cr_expect_eq(feed(d, "Listening on http://0.0.0.0:8080, pid 4", 4), LINE_URL);
   cr_expect_eq(feed(d, "ready - started server on 0.0.0.0:3000, url: http://localhost:3000", 5),
                LINE_URL);
   cr_expect_eq(feed(d, "not http:// a url", 6), 0);
   DetectSnap* s = detect_snapshot(d);
   cr_assert_eq(s->nurls, 5);
   cr_expect_str_eq(s->urls[0].url, "http://localhost:5173/");
   cr_expect_str_eq(s->urls[0].label, "Local");
   cr_expect_eq(s->urls[0].lineno, 0, "the first sighting is kept");
   cr_expect_eq(s->urls[0].time_ms, 1003, "time updated on a repeat");
   cr_expect_str_eq(s->urls[1].label, "Network");
   cr_expect_str_eq(s->urls[2].url, "https://example.com/a_(b)");
   cr_expect_str_eq(s->urls[2].label, "");
   cr_expect_str_eq(s->urls[3].url, "http://0.0.0.0:8080");
   cr_expect_str_eq(s->urls[3].label, "listening on");
   cr_expect_str_eq(s->urls[4].label, "started server on");
   free(s);
   detect_free(d);
}

Test(detect, urls_are_capped) {
   Detector* d = detect_new();
   char buf[64];
   for (int i = 0; i < DETECT_MAX_URLS + 10; i++) {
      snprintf(buf, sizeof buf, "GET http://localhost:3000/p%d", i);
      cr_expect_eq(feed(d, buf, (uint64_t)i), LINE_URL);
   }
   DetectSnap* s = detect_snapshot(d);
   cr_expect_eq(s->nurls, DETECT_MAX_URLS);
   cr_expect_str_eq(s->urls[0].url, "http://localhost:3000/p0", "first seen first");
   free(s);
   detect_free(d);
}

/* ------------------------------------------------------------------ tests and builds */

static DetectTests tests_after(const char* const* lines, size_t n) {
   DetectSnap* s = run_lines(lines, n, NULL);
   DetectTests t = s->tests;
   free(s);
   return t;
}

#define TESTS(fw, p, f, sk, tot, ...)                                                              \
   do {                                                                                            \
      static const char* const l_[] = {__VA_ARGS__};                                               \
      DetectTests t_ = tests_after(l_, sizeof l_ / sizeof l_[0]);                                  \
      cr_expect(t_.seen, "%s: seen", fw);                                                          \
      cr_expect_str_eq(t_.framework ? t_.framework : "", fw);                                      \
      cr_expect_eq(t_.passed, p, "%s: passed %u", fw, t_.passed);                                  \
      cr_expect_eq(t_.failed, f, "%s: failed %u", fw, t_.failed);                                  \
      cr_expect_eq(t_.skipped, sk, "%s: skipped %u", fw, t_.skipped);                              \
      cr_expect_eq(t_.total, tot, "%s: total %u", fw, t_.total);                                   \
   } while (0)

Test(detect, test_summaries) {
   TESTS("jest", 11, 1, 2, 14, "Tests:       1 failed, 2 skipped, 11 passed, 14 total");
   TESTS("jest", 12, 0, 0, 12, "Tests:       1 failed, 11 passed, 12 total",
         "Tests:       12 passed, 12 total"); /* watch mode: the later run replaces */
   TESTS("vitest", 11, 1, 0, 12, "      Tests  1 failed | 11 passed (12)");
   TESTS("vitest", 3, 0, 1, 4, " Tests  3 passed | 1 skipped (4)");
   TESTS("mocha", 11, 1, 2, 14, "  11 passing (20ms)", "  2 pending", "  1 failing");
   TESTS("mocha", 5, 0, 0, 5, "  11 passing (20ms)", "  1 failing", "  5 passing (9ms)");
   TESTS("node:test", 11, 1, 0, 12, "# tests 12", "# suites 0", "# pass 11", "# fail 1",
         "# cancelled 0", "# skipped 0", "# todo 0");
   TESTS("go", 2, 1, 1, 4, "--- PASS: TestA (0.00s)", "--- FAIL: TestB (0.00s)",
         "    --- PASS: TestB/sub (0.00s)", "--- SKIP: TestC (0.00s)", "FAIL\tm/x\t0.01s");
   TESTS("go", 2, 1, 0, 3, "ok  \tm/a\t0.01s", "ok  \tm/b\t(cached)", "FAIL\tm/c\t0.02s");
   TESTS("pytest", 11, 1, 0, 12, "==== 1 failed, 11 passed in 0.12s ====");
   TESTS("pytest", 11, 2, 3, 16,
         "===== 1 failed, 11 passed, 2 skipped, 1 xfailed, 1 error in 1.20s (0:00:01) =====");
   TESTS("cargo", 13, 1, 1, 15, "    Finished `test` profile [unoptimized] target(s) in 0.9s",
         "test result: FAILED. 11 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out",
         "test result: ok. 2 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out");
   TESTS("cargo", 2, 0, 0, 2, /* a new build starts a new cargo test run */
         "test result: FAILED. 11 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out",
         "    Finished `test` profile [unoptimized] target(s) in 0.2s",
         "test result: ok. 2 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out");
   TESTS("jest", 3, 0, 0, 3, "# pass 9", "Tests:       3 passed, 3 total"); /* another framework */
}

Test(detect, build_results_later_replaces_earlier) {
   static const char* const ok_then_failed[] = {"✓ built in 1.02s", "Failed to compile."};
   static const char* const failed_then_ok[] = {"webpack 5.9 compiled with 1 error in 8 ms",
                                                "webpack 5.9 compiled successfully in 9 ms"};
   static const char* const warnings_ok[] = {"webpack compiled with 2 warnings"};
   static const char* const go[] = {"FAIL\texample.com/m/api [build failed]"};
   static const char* const tsc[] = {"Found 2 errors. Watching for file changes.",
                                     "Found 0 errors. Watching for file changes."};
   DetectSnap* s = run_lines(ok_then_failed, 2, NULL);
   cr_expect_eq(s->build, BUILD_FAILED);
   cr_expect_eq(s->nentries, 1, "Failed to compile is an error too");
   free(s);
   s = run_lines(failed_then_ok, 2, NULL);
   cr_expect_eq(s->build, BUILD_OK);
   free(s);
   s = run_lines(warnings_ok, 1, NULL);
   cr_expect_eq(s->build, BUILD_OK);
   free(s);
   s = run_lines(go, 1, NULL);
   cr_expect_eq(s->build, BUILD_FAILED);
   cr_expect_eq(s->tests.failed, 1, "and a failed package");
   free(s);
   s = run_lines(tsc, 2, NULL);
   cr_expect_eq(s->build, BUILD_OK);
   cr_expect_eq(s->nentries, 0, "tsc's summary is no entry");
   free(s);
}

/* ------------------------------------------------------------------ snapshots and bounds */

static bool inside(const void* p, const void* base, size_t size) {
   return (const char*)p >= (const char*)base && (const char*)p < (const char*)base + size;
}

Test(detect, snapshot_is_one_allocation_freed_by_rcu) {
   Detector* d = detect_new();
   feed(d, "TypeError: x is not a function", 0);
   feed(d, "    at f (/p/src/a.js:3:4)", 1);
   feed(d, "Local: http://localhost:3000/", 2);
   feed(d, "Tests:       1 failed, 1 total", 3);
   feed(d, "WARN disk almost full", 4);
   cr_expect(detect_changed(d));
   DetectSnap* s = detect_snapshot(d);
   cr_expect_not(detect_changed(d), "a snapshot clears `changed`");
   size_t size = malloc_usable_size(s);
   cr_assert_eq(s->nentries, 2);
   cr_assert_eq(s->nurls, 1);
   cr_expect(inside(s->entries, s, size));
   cr_expect(inside(s->urls, s, size));
   for (uint32_t i = 0; i < s->nentries; i++) {
      cr_expect(inside(s->entries[i].title, s, size));
      if (s->entries[i].location) cr_expect(inside(s->entries[i].location, s, size));
   }
   cr_expect(inside(s->urls[0].url, s, size));
   cr_expect_str_eq(s->entries[0].location, "/p/src/a.js:3:4");
   cr_expect_eq(s->errors, 1);
   cr_expect_eq(s->warnings, 1);
   cr_expect_eq(s->tests.failed, 1);
   detect_free(d); /* the snapshot outlives its detector */
   rcu_read_lock();
   cr_expect_str_eq(s->entries[0].title, "TypeError: x is not a function");
   rcu_read_unlock();
   call_rcu(&s->rcu, detect_snap_free_rcu);
}

Test(detect, changed_only_when_something_changed) {
   Detector* d = detect_new();
   cr_expect_not(detect_changed(d));
   feed(d, "[INFO] plain line", 0);
   cr_expect_not(detect_changed(d));
   feed(d, "ERROR boom", 1);
   cr_expect(detect_changed(d));
   free(detect_snapshot(d));
   feed(d, "    detail", 2);
   cr_expect(detect_changed(d), "a grouped line extends the entry");
   free(detect_snapshot(d));
   feed(d, "✓ built in 1s", 3);
   cr_expect(detect_changed(d));
   free(detect_snapshot(d));
   feed(d, "✓ built in 2s", 4);
   cr_expect_not(detect_changed(d), "the same build result again");
   detect_free(d);
}

Test(detect, keeps_the_newest_entries_and_counts_all) {
   Detector* d = detect_new();
   char buf[64];
   uint64_t n = DETECT_MAX_ENTRIES + 123;
   for (uint64_t i = 0; i < n; i++) {
      snprintf(buf, sizeof buf, i % 2 ? "ERROR number %" PRIu64 : "WARN number %" PRIu64, i);
      feed(d, buf, i);
   }
   DetectSnap* s = detect_snapshot(d);
   cr_expect_eq(s->nentries, DETECT_MAX_ENTRIES);
   cr_expect_eq(s->errors + s->warnings, n);
   cr_expect_eq(s->entries[0].first_line, n - DETECT_MAX_ENTRIES, "oldest kept");
   cr_expect_eq(s->entries[DETECT_MAX_ENTRIES - 1].first_line, n - 1, "newest last");
   uint64_t oldest = n - DETECT_MAX_ENTRIES;
   snprintf(buf, sizeof buf, oldest % 2 ? "ERROR number %" PRIu64 : "WARN number %" PRIu64, oldest);
   cr_expect_str_eq(s->entries[0].title, buf);
   free(s);
   detect_free(d);
}

Test(detect, titles_and_locations_are_capped_on_utf8_boundaries) {
   char line[1200];
   strcpy(line, "ERROR ");
   for (int i = 0; i < 300; i++) strcat(line, "é"); /* 2 bytes each */
   char frame[1200];
   strcpy(frame, "    at f (/");
   for (int i = 0; i < 400; i++) strcat(frame, "d/");
   strcat(frame, "x.js:1:2)");
   Detector* d = detect_new();
   feed(d, line, 0);
   feed(d, frame, 1);
   DetectSnap* s = detect_snapshot(d);
   const char* t = s->entries[0].title;
   cr_expect_leq(strlen(t), 200);
   cr_expect_eq((strlen(t) - strlen("ERROR ")) % 2, 0, "no split UTF-8 sequence");
   cr_assert_not_null(s->entries[0].location);
   cr_expect_leq(strlen(s->entries[0].location), 200);
   free(s);
   detect_free(d);
}

/* Entries keep their strings in blocks their ring slots reuse: after the ring wraps, titles and
 * locations of every length (short after long, long after short) read back exactly, and editing
 * a title (a note) keeps the location. Entry i: a title of 1 + i*37%120 two-byte characters (from
 * 95 on over TITLE_MAX bytes: cut to 199, before a character), and for i%3 != 0 a frame with a
 * location of 15 to 173 bytes. */
static void wrap_entry(uint64_t i, char* head, char* frame, char* title, char* loc) {
   strcpy(head, "TypeError: ");
   for (uint64_t k = 0; k <= i * 37 % 120; k++) strcat(head, "é");
   size_t tl = strlen(head) > TITLE_MAX ? TITLE_MAX - 1 : strlen(head); /* 11 + 2k <= 199 */
   memcpy(title, head, tl);
   title[tl] = '\0';
   strcpy(loc, "/p/src/");
   for (uint64_t k = 0; k < i * 13 % 80; k++) strcat(loc, "d/");
   strcat(loc, "x.js:1:2");
   snprintf(frame, 400, "    at f (%s)", loc);
   if (i % 3 == 0) loc[0] = '\0';
}

static void check_wrap_entry(const DetectEntry* e, uint64_t i, bool title_too) {
   char head[400], frame[400], title[400], loc[400];
   wrap_entry(i, head, frame, title, loc);
   if (title_too) cr_expect_str_eq(e->title, title, "entry %" PRIu64, i);
   if (!loc[0]) {
      cr_expect_null(e->location, "entry %" PRIu64, i);
      return;
   }
   cr_assert_not_null(e->location, "entry %" PRIu64, i);
   cr_expect_str_eq(e->location, loc, "entry %" PRIu64, i);
}

Test(detect, entry_strings_survive_ring_reuse) {
   enum { N = 3 * DETECT_MAX_ENTRIES + 7, KEPT0 = N - DETECT_MAX_ENTRIES };
   char head[400], frame[400], title[400], loc[400];
   uint64_t first[N], line = 0;
   Detector* d = detect_new();
   for (uint64_t i = 0; i < N; i++) {
      wrap_entry(i, head, frame, title, loc);
      first[i] = line;
      cr_assert_eq(feed(d, head, line++), LINE_ERROR);
      if (i % 3) feed(d, frame, line++);
   }
   DetectSnap* s = detect_snapshot(d);
   cr_assert_eq(s->nentries, DETECT_MAX_ENTRIES);
   for (uint32_t k = 0; k < s->nentries; k++) check_wrap_entry(&s->entries[k], KEPT0 + k, true);
   free(s);

   /* notes appended to titles: bounded by TITLE_MAX (a 250-byte note), the location stays */
   uint64_t old = KEPT0 + 1, young = N - 2; /* entries with a location */
   char note[300];
   memset(note, 'n', 250);
   note[250] = '\0';
   detect_note(d, first[old], 0, note);
   detect_note(d, first[young], 0, "port 3000");
   s = detect_snapshot(d);
   const DetectEntry* eo = &s->entries[old - KEPT0];
   const DetectEntry* ey = &s->entries[young - KEPT0];
   wrap_entry(old, head, frame, title, loc);
   cr_expect_eq(strlen(eo->title), TITLE_MAX);
   cr_expect_eq(strncmp(eo->title, title, strlen(title)), 0, "%s", eo->title);
   wrap_entry(young, head, frame, title, loc);
   char want[sizeof title + sizeof " (port 3000)"];
   snprintf(want, sizeof want, "%s (port 3000)", title);
   want[TITLE_MAX] = '\0'; /* the note's cut */
   cr_expect_str_eq(ey->title, want);
   for (uint32_t k = 0; k < s->nentries; k++) {
      const DetectEntry* e = &s->entries[k];
      check_wrap_entry(e, KEPT0 + k, e != eo && e != ey);
   }
   free(s);
   detect_free(d);
}

/* Rust's panic message completes the title (R_TITLE_APPEND): a long one stays within TITLE_MAX,
 * and the location found on the head line stays. */
Test(detect, appended_title_is_bounded) {
   char msg[400];
   memset(msg, 'y', 300);
   msg[300] = '\0';
   const char* lines[] = {"thread 'main' panicked at src/main.rs:4:5:", msg};
   DetectSnap* s = run_lines(lines, 2, NULL);
   cr_assert_eq(s->nentries, 1);
   const char* t = s->entries[0].title;
   cr_expect_eq(strlen(t), TITLE_MAX);
   cr_expect_eq(strncmp(t, lines[0], strlen(lines[0])), 0, "%s", t);
   cr_expect_str_eq(s->entries[0].location, "src/main.rs:4:5");
   free(s);

   lines[1] = "  boom  ";
   s = run_lines(lines, 2, NULL);
   cr_expect_str_eq(s->entries[0].title, "thread 'main' panicked at src/main.rs:4:5: boom");
   free(s);
}

Test(detect, lines_need_no_terminator) {
   /* the supervisor passes a slice of its read buffer: nothing past len may be read */
   const char text[] = "TypeError: boomXXXX";
   char* exact = malloc(15);
   memcpy(exact, text, 15); /* "TypeError: boom" without a NUL */
   Detector* d = detect_new();
   cr_expect_eq(detect_line(d, exact, 15, 0, 0), LINE_ERROR);
   cr_expect_eq(detect_line(d, exact, 0, 1, 0), 0);
   cr_expect_eq(detect_line(d, NULL, 0, 2, 0), 0);
   DetectSnap* s = detect_snapshot(d);
   cr_expect_str_eq(s->entries[0].title, "TypeError: boom");
   free(s);
   detect_free(d);
   free(exact);
}

/* The prefilter samples even offsets and confirms at i and i - 1: a trigger word must be found
 * at any offset, including one ending the line and one running past it (padded). */
Test(detect, prefilter_finds_words_at_every_offset) {
   char buf[64];
   for (int pad = 0; pad < 12; pad++) {
      Detector* d = detect_new();
      snprintf(buf, sizeof buf, "%*slevel=error", pad, "");
      cr_expect_eq(feed(d, buf, 0), LINE_ERROR, "`%s`", buf);
      snprintf(buf, sizeof buf, "%*sx level=warn", pad, "");
      cr_expect_eq(feed(d, buf, 1), LINE_WARNING, "`%s`", buf);
      snprintf(buf, sizeof buf, "%.*s(http://a.io)", pad, "abcdefghijkl");
      cr_expect_eq(feed(d, buf, 2), LINE_URL, "`%s`", buf);
      snprintf(buf, sizeof buf, "%.*s ERR_PNPM_X", pad, "abcdefghijkl");
      cr_expect_eq(feed(d, buf, 3) & LINE_ERROR, LINE_ERROR, "`%s`", buf);
      detect_free(d);
   }
   Detector* d = detect_new();
   cr_expect_eq(feed(d, "ok", 0), 0); /* "ok  " padded: candidate only, no rule */
   cr_expect_eq(feed(d, "●", 1), 0);
   cr_expect_eq(feed(d, "  ● a", 2), LINE_ERROR, "a 3-byte symbol near the end");
   detect_free(d);
}

/* The trigger scan has a portable and a SIMD implementation (16 window starts at a time, the
 * line's last bytes handled apart): each must find a word at any offset in lines of any length,
 * across chunk boundaries and at the very end. */
static uint16_t feed_fresh(const char* line) { /* no group of an earlier line takes it */
   Detector* d = detect_new();
   uint16_t flags = feed(d, line, 0);
   detect_free(d);
   return flags;
}

Test(detect, every_scan_finds_words_at_every_offset_and_length) {
   static const char alnum[] =
       "abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0123456789";
   int best = detect_set_scan(-1);
   char buf[160];
   for (int level = 0; level <= best; level++) {
      cr_assert_eq(detect_set_scan(level), level);
      for (int pad = 0; pad < 70; pad++) {
         for (int tail = 0; tail < 40; tail += 3) {
            snprintf(buf, sizeof buf, "%*slevel=error%*s", pad, "", tail, "");
            cr_expect_eq(feed_fresh(buf), LINE_ERROR, "scan %d `%s`", level, buf);
            snprintf(buf, sizeof buf, "%.*s ERR_PNPM_X%*s", pad, alnum, tail, "");
            cr_expect_eq(feed_fresh(buf) & LINE_ERROR, LINE_ERROR, "scan %d `%s`", level, buf);
            snprintf(buf, sizeof buf, "%*sx(http://a.io)%.*s", pad, "", tail, alnum);
            cr_expect_eq(feed_fresh(buf), LINE_URL, "scan %d `%s`", level, buf);
            snprintf(buf, sizeof buf, "%*s● Suite › fails%*s", pad, "", tail, "");
            cr_expect_eq(feed_fresh(buf) & LINE_ERROR, LINE_ERROR, "scan %d `%s`", level, buf);
            snprintf(buf, sizeof buf, "%.*s ok", pad, alnum); /* padded "ok  " at the end */
            cr_expect_eq(feed_fresh(buf), 0, "scan %d `%s`", level, buf);
         }
      }
   }
   detect_set_scan(-1);
}

/* Both scans classify every fixture line alike (flags and the first matching rule). */
Test(detect, scans_agree_on_every_fixture_line) {
   static const char* const names[] = {"js_node",   "typescript", "eslint",    "go",     "python",
                                       "rust",      "java",       "jest",      "vitest", "mocha",
                                       "node_test", "npm",        "webpack",   "vite",   "esbuild",
                                       "nextjs",    "generic",    "negatives", "urls"};
   int best = detect_set_scan(-1);
   for (size_t f = 0; f < sizeof names / sizeof names[0]; f++) {
      char path[512], line[4096];
      snprintf(path, sizeof path, "%s/tests/fixtures/detect/%s.log", BRUM_SOURCE_DIR, names[f]);
      FILE* fp = fopen(path, "r");
      cr_assert(fp, "%s", path);
      Detector* d[2] = {detect_new(), detect_new()};
      uint64_t ln = 0;
      while (fgets(line, sizeof line, fp)) {
         size_t n = strcspn(line, "\n");
         uint16_t flags[2];
         const char* rule[2];
         for (int k = 0; k < 2; k++) {
            detect_set_scan(k ? best : DETECT_SCAN_PORTABLE);
            flags[k] = detect_line(d[k], line, (uint32_t)n, ln, 0);
            rule[k] = detect_last_rule(d[k]);
         }
         cr_expect_eq(flags[0], flags[1], "%s:%" PRIu64 " `%.*s`", names[f], ln, (int)n, line);
         cr_expect(rule[0] == rule[1], "%s:%" PRIu64 " rules %s / %s", names[f], ln,
                   rule[0] ? rule[0] : "-", rule[1] ? rule[1] : "-");
         ln++;
      }
      fclose(fp);
      detect_free(d[0]);
      detect_free(d[1]);
   }
   detect_set_scan(-1);
}

/* JSON records: the level value is checked before the patterns run (pino's numbers, strings,
 * blanks around the colon); other fields that say "error" do not make an error. */
Test(detect, json_levels) {
   Detector* d = detect_new();
   cr_expect_eq(feed(d, "{\"level\":30,\"time\":1,\"msg\":\"request completed\"}", 0), 0);
   cr_expect_eq(feed(d, "{\"level\":30,\"msg\":\"error rate 0%\"}", 1), 0);
   cr_expect_eq(feed(d, "{\"level\":50,\"time\":1,\"msg\":\"boom\"}", 2), LINE_ERROR);
   cr_expect_eq(feed(d, "{\"level\" :\t\"error\",\"msg\":\"boom\"}", 3), LINE_ERROR);
   cr_expect_eq(feed(d, "{\"time\":1,\"level\":  60}", 4), LINE_ERROR);
   cr_expect_eq(feed(d, "{\"level\":40,\"msg\":\"slow\"}", 5), LINE_WARNING);
   cr_expect_eq(feed(d, "{\"level\":\"warn\",\"msg\":\"slow\"}", 6), LINE_WARNING);
   cr_expect_eq(feed(d, "{\"level\":\"info\",\"msg\":\"fine\"}", 7), 0);
   cr_expect_eq(feed(d, "{\"levels\":50,\"level\":\"fatal\"}", 8), LINE_ERROR);
   cr_expect_eq(feed(d, "x {\"level\":50}", 9), 0, "json rules need a leading {");
   detect_free(d);
}

/* The level check that spares info records the two patterns: every value they accept passes it,
 * the levels they do not (info, debug, trace, 30) stop there. */
Test(detect, json_level_check_before_the_patterns) {
   static const char* const pass[] = {"\"error\"", "\"fatal\"",   "\"ERROR\"", "\"FATAL\"",
                                      "\"warn\"",  "\"warning\"", "\"WARN\"",  "40",
                                      "50",        "60"};
   static const char* const stop[] = {"\"info\"", "\"debug\"", "\"trace\"", "30", "20", "\"\""};
   char line[64];
   for (size_t i = 0; i < sizeof pass / sizeof *pass; i++) {
      int n = snprintf(line, sizeof line, "{\"level\": %s,\"msg\":\"x\"}", pass[i]);
      cr_expect(detect_json_level_value(line, (uint32_t)n), "%s", line);
   }
   for (size_t i = 0; i < sizeof stop / sizeof *stop; i++) {
      int n = snprintf(line, sizeof line, "{\"level\":%s,\"msg\":\"error\"}", stop[i]);
      cr_expect(!detect_json_level_value(line, (uint32_t)n), "%s", line);
   }
}
