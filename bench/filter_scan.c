/* Group 5: regex filter throughput over a log store of --lines lines (default 1,000,000), with
 * JIT (brum's path: core/regex.h + filter_scan_store, which fills a match index) and without
 * (the same PCRE2 pattern and options, matched with PCRE2_NO_JIT over a LogIter). One op = one
 * full scan of the store. Patterns: a literal alternation (the everyday filter) and a pattern
 * with classes and repetition (no useful literal prefix). */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench.h"
#include "core/filter.h"
#include "core/lineidx.h"
#include "core/logstore.h"
#include "core/regex.h"

static LogStore* store; /* shared by the cases, built on first use */
static uint64_t store_lines;

static const LogStore* get_store(uint64_t lines) {
   if (store && store_lines == lines) return store;
   if (store) {
      rcu_barrier();
      logstore_free(store);
   }
   LogStoreConfig cfg = {.max_lines = lines};
   store = logstore_new(&cfg);
   store_lines = lines;
   char line[512];
   for (uint64_t i = 0; i < lines; i++) {
      size_t n = bench_log_line(i, 0, line);
      logstore_append(store, line, (uint32_t)n, NULL, 0, 0, 1700000000000ull + i / 1000);
   }
   return store;
}

void bench_regex_cleanup(void) {
   if (!store) return;
   rcu_barrier();
   logstore_free(store);
   store = NULL;
}

typedef struct RxParam {
   const char* pattern;
   bool jit;
} RxParam;

static void run_filter(B* b, const void* param) {
   const RxParam* p = param;
   const LogStore* ls = get_store(b->lines);
   Regex* re = NULL;
   char* cause = NULL;
   if (regex_compile(p->pattern, &re, &cause) != 0) {
      fprintf(stderr, "brum-bench: %s\n", cause);
      free(cause);
      abort();
   }
   pcre2_code* code = NULL;
   pcre2_match_data* md = NULL;
   if (!p->jit) {
      /* the options regex_compile uses (smart case: these patterns have capitals) */
      int err;
      PCRE2_SIZE off;
      code = pcre2_compile((PCRE2_SPTR)p->pattern, PCRE2_ZERO_TERMINATED,
                           PCRE2_UTF | PCRE2_MATCH_INVALID_UTF |
                               (regex_caseless(re) ? PCRE2_CASELESS : 0),
                           &err, &off, NULL);
      md = pcre2_match_data_create(1, NULL);
      if (!code || !md) abort();
   }
   RegexScratch* sc = regex_scratch_new();
   uint64_t matches = 0, scanned = 0;
   b_reset_timer(b);
   for (uint64_t i = 0; i < b->n; i++) {
      rcu_read_lock();
      uint64_t begin = logstore_begin(ls), end = logstore_end(ls);
      if (p->jit) {
         LineIdx* ix = lineidx_new(end - begin + 1);
         filter_scan_store(re, sc, ls, begin, end, ix);
         matches = lineidx_end(ix) - lineidx_begin(ix);
         lineidx_free(ix);
      } else {
         LogIter it;
         LogLine l;
         matches = 0;
         logiter_init(&it, ls, begin);
         while (logiter_next(&it, &l)) {
            if (pcre2_match(code, (PCRE2_SPTR)l.text, l.len, 0, PCRE2_NO_JIT, md, NULL) >= 0) {
               matches++;
            }
         }
      }
      rcu_read_unlock();
      scanned += end - begin;
   }
   b_stop_timer(b);
   double secs = (double)b->elapsed_ns / 1e9;
   b_metric(b, secs > 0 ? (double)scanned / secs : 0, "lines/s");
   b_metric(b, (double)matches, "matches");
   b_metric(b, regex_jit(re) && p->jit ? 1 : 0, "jit");
   regex_scratch_free(sc);
   regex_free(re);
   if (code) pcre2_code_free(code);
   if (md) pcre2_match_data_free(md);
}

static const RxParam params[] = {
    {"ERROR|WARN", true},
    {"ERROR|WARN", false},
    {"GET /api/v\\d/\\w+/\\d+ 5\\d\\d", true},
    {"GET /api/v\\d/\\w+/\\d+ 5\\d\\d", false},
};
static const char* const names[] = {"Filter/jit/alternation", "Filter/nojit/alternation",
                                    "Filter/jit/classes", "Filter/nojit/classes"};

void bench_regex_register(void) {
   for (size_t i = 0; i < sizeof params / sizeof params[0]; i++) {
      bench_add(names[i], 1, run_filter, &params[i]);
   }
}
