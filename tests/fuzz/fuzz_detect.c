/* libFuzzer target: the line classifier (core/detect), the largest parser of untrusted output.
 * The input is split into lines at '\n'; each line is copied into a buffer of exactly its length
 * (so ASan sees any read past the line) and
 *  - its trigger families are computed by the portable scan and, where the CPU has SSSE3, by the
 *    SIMD scan: they must be equal;
 *  - it is fed to two Detectors, one running each scan: flags and the first matching rule must
 *    be equal, and the flags only the LINE_* ones detection sets.
 * A line that starts with byte 0x01 restarts both detectors first (a process restart).
 * Invariants of the snapshots at the end (and every 64 lines): both are equal; counts and
 * lengths within their caps; every entry's lines inside the input and at most
 * DETECT_GROUP_MAX_LINES long. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/detect_impl.h"
#include "core/logstore.h"

static int scan_best;

static void fail(const char* what, const char* s, uint32_t n) {
   fprintf(stderr, "fuzz_detect: %s on a line of %u bytes: `", what, n);
   for (uint32_t i = 0; i < n && i < 300; i++) /* control bytes escaped */
      fprintf(stderr, (uint8_t)s[i] < 0x20 || s[i] == 0x7f ? "\\x%02x" : "%c", (uint8_t)s[i]);
   fputs("`\n", stderr);
   abort();
}

static void compare_screens(const char* s, uint32_t n) {
   uint32_t portable = detect_trigger_mask_portable(s, n);
#ifdef DETECT_TEDDY
   if (scan_best == DETECT_SCAN_SSSE3 && detect_trigger_mask_ssse3(s, n) != portable)
      fail("SSSE3 and portable trigger scans differ", s, n);
#endif
   (void)portable;
}

static bool str_eq(const char* a, const char* b) {
   return a == b || (a && b && strcmp(a, b) == 0);
}

static void check_snap(const DetectSnap* s, uint64_t nlines) {
   if (s->nentries > DETECT_MAX_ENTRIES || s->nurls > DETECT_MAX_URLS) abort();
   if (s->nentries > s->errors + s->warnings) abort();
   for (uint32_t i = 0; i < s->nentries; i++) {
      const DetectEntry* e = &s->entries[i];
      if (e->kind != DETECT_ERROR && e->kind != DETECT_WARNING) abort();
      if (e->first_line > e->last_line || e->last_line >= nlines) abort();
      if (e->last_line - e->first_line >= DETECT_GROUP_MAX_LINES) abort();
      if (i && e->first_line <= s->entries[i - 1].last_line) abort(); /* in order, disjoint */
      if (!e->title || strlen(e->title) > TITLE_MAX || !e->rule) abort();
      if (e->location && (!e->location[0] || strlen(e->location) > LOC_MAX)) abort();
   }
   for (uint32_t i = 0; i < s->nurls; i++) {
      const DetectUrl* u = &s->urls[i];
      size_t k = strlen(u->url);
      if (k < 8 || k > URL_MAX || strncmp(u->url, "http", 4) != 0 || !u->label) abort();
      if (u->lineno >= nlines) abort();
      for (uint32_t j = 0; j < i; j++)
         if (strcmp(s->urls[j].url, u->url) == 0) abort(); /* deduplicated */
   }
}

static void same_snaps(const DetectSnap* a, const DetectSnap* b) {
   if (a->errors != b->errors || a->warnings != b->warnings || a->nentries != b->nentries ||
       a->nurls != b->nurls || a->build != b->build)
      abort();
   const DetectTests *p = &a->tests, *q = &b->tests;
   if (p->seen != q->seen || p->passed != q->passed || p->failed != q->failed ||
       p->skipped != q->skipped || p->total != q->total || !str_eq(p->framework, q->framework))
      abort();
   for (uint32_t i = 0; i < a->nentries; i++) {
      const DetectEntry *x = &a->entries[i], *y = &b->entries[i];
      if (x->kind != y->kind || x->first_line != y->first_line || x->last_line != y->last_line ||
          !str_eq(x->title, y->title) || !str_eq(x->location, y->location) || x->rule != y->rule)
         abort();
   }
   for (uint32_t i = 0; i < a->nurls; i++)
      if (strcmp(a->urls[i].url, b->urls[i].url) != 0) abort();
}

static void snapshots(Detector* const d[2], uint64_t nlines) {
   DetectSnap* s[2] = {detect_snapshot(d[0]), detect_snapshot(d[1])};
   check_snap(s[0], nlines);
   same_snaps(s[0], s[1]);
   free(s[0]); /* one allocation (detect_snap_free_rcu would need a registered RCU thread) */
   free(s[1]);
}

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
   if (!scan_best) {
      detect_init_once();
      scan_best = detect_set_scan(-1);
   }
   Detector* d[2] = {detect_new(), detect_new()};
   const int level[2] = {DETECT_SCAN_PORTABLE, scan_best};
   const uint16_t known = LINE_ERROR | LINE_WARNING | LINE_URL | LINE_GROUPED;
   uint64_t lineno = 0;
   for (size_t off = 0; off < size || (size == 0 && lineno == 0);) {
      const uint8_t* nl = memchr(data + off, '\n', size - off);
      uint32_t n = (uint32_t)(nl ? (size_t)(nl - data) - off : size - off);
      char* line = malloc(n ? n : 1); /* exactly the line: reads past it are ASan errors */
      memcpy(line, data + off, n);
      off += n + 1;
      compare_screens(line, n);
      if (n && line[0] == '\x01') {
         detect_restart(d[0]);
         detect_restart(d[1]);
      }
      uint16_t flags[2];
      const char* rule[2];
      for (int k = 0; k < 2; k++) {
         detect_set_scan(level[k]);
         flags[k] = detect_line(d[k], line, n, lineno, lineno);
         rule[k] = detect_last_rule(d[k]);
      }
      if (flags[0] != flags[1] || !str_eq(rule[0], rule[1]))
         fail("the scans classify a line differently", line, n);
      if (flags[0] & ~known) fail("unknown flags", line, n);
      free(line);
      lineno++;
      if (lineno % 64 == 0) snapshots(d, lineno);
   }
   snapshots(d, lineno);
   detect_free(d[0]);
   detect_free(d[1]);
   return 0;
}
