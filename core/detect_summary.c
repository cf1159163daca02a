/* Test and build results: the counts of a test summary line (jest, vitest, mocha, node:test,
 * go, pytest, cargo), accumulated per run where a runner prints one line per package. */
#include <string.h>

#include "core/detect_impl.h"

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

/* Mocha: `N passing`, `N failing`, `N pending` on lines of their own. */
static void tests_mocha(Detector* d, const char* s, uint32_t n) {
   DetectTests* t = &d->tests;
   const char* end = s + n;
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
}

/* node:test: `# tests N`, `# pass N`, ... (`ℹ` instead of `#` in the spec reporter). */
static void tests_node(Detector* d, const char* s, uint32_t n) {
   DetectTests* t = &d->tests;
   const char* end = s + n;
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
}

/* go test: one line per test (`--- PASS:`) or per package (`ok  pkg`), counted over the run. */
static void tests_go(Detector* d, TestsParse tp) {
   DetectTests* t = &d->tests;
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
}

void detect_tests_apply(Detector* d, TestsParse tp, const char* s, uint32_t n) {
   DetectTests before = d->tests;
   DetectTests* t = &d->tests;
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
   case TP_MOCHA:
      tests_mocha(d, s, n);
      break;
   case TP_NODE:
      tests_node(d, s, n);
      break;
   case TP_GO_PASS:
   case TP_GO_FAIL:
   case TP_GO_SKIP:
   case TP_GO_PKG_OK:
   case TP_GO_PKG_FAIL:
      tests_go(d, tp);
      break;
   }
   if (memcmp(&before, t, sizeof before) != 0) d->changed = true;
}

void detect_build_apply(Detector* d, BuildResult r) {
   d->tests_fresh = true; /* a build starts a new test run (cargo test, go test) */
   if (d->build != r) {
      d->build = r;
      d->changed = true;
   }
}
