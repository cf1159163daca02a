/* libFuzzer target: the output parser (core/ansi). The input is fed in chunks whose sizes come
 * from the input itself, optionally repeated so that small inputs reach the 64 KiB line cap.
 * Invariants: every emitted line is at most LOGSTORE_MAX_LINE bytes with at most
 * LOGSTORE_MAX_RUNS runs, strictly increasing and inside the text; the partial line keeps them
 * too; replies are short; a modes call reports a change and what ansi_modes says; no clear
 * on the alternate screen; and the result (lines, replies, modes and clears, in order) does not
 * depend on how the input was chunked (a PTY read may split anything anywhere). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ansi.h"
#include "core/logstore.h"
#include "core/term.h"

typedef struct Digest {
   AnsiParser* p;
   uint64_t h; /* FNV-1a over every line (text, runs, continued) and every reply */
   uint64_t lines;
   unsigned modes; /* as the last modes call gave them */
} Digest;

static void mix(Digest* d, const void* data, size_t n) {
   const unsigned char* b = data;
   for (size_t i = 0; i < n; i++) d->h = (d->h ^ b[i]) * 1099511628211ull;
}

static void check_runs(const StyleRun* runs, uint16_t nruns, uint32_t len) {
   if (len > LOGSTORE_MAX_LINE) abort();
   if (nruns > LOGSTORE_MAX_RUNS) abort();
   for (uint16_t i = 0; i < nruns; i++) {
      if (runs[i].start >= len) abort();
      if (i && runs[i].start <= runs[i - 1].start) abort();
   }
}

static void on_line(void* ud, const char* text, uint32_t len, const StyleRun* runs,
                    uint16_t nruns) {
   Digest* d = ud;
   check_runs(runs, nruns, len);
   unsigned char cont = ansi_line_continued(d->p);
   mix(d, &len, sizeof len);
   mix(d, text, len); /* also makes ASan check that len bytes are readable */
   mix(d, &nruns, sizeof nruns);
   for (uint16_t i = 0; i < nruns; i++) {
      mix(d, &runs[i].start, sizeof runs[i].start);
      mix(d, &runs[i].fg, sizeof runs[i].fg);
      mix(d, &runs[i].bg, sizeof runs[i].bg);
      mix(d, &runs[i].attr, sizeof runs[i].attr);
   }
   mix(d, &cont, 1);
   d->lines++;
}

static void on_reply(void* ud, const char* bytes, size_t n) {
   Digest* d = ud;
   if (n == 0 || n > 256) abort(); /* answers to queries are a few bytes */
   mix(d, "R", 1);
   mix(d, bytes, n);
}

static void on_modes(void* ud, unsigned modes) {
   Digest* d = ud;
   if (modes == d->modes || modes != ansi_modes(d->p)) abort();
   d->modes = modes;
   mix(d, "M", 1);
   mix(d, &modes, sizeof modes);
}

static void on_clear(void* ud) {
   Digest* d = ud;
   if (ansi_modes(d->p) & TERM_MODE_ALTSCREEN) abort();
   mix(d, "C", 1);
}

static const AnsiSink sink = {
    .line = on_line, .reply = on_reply, .modes = on_modes, .clear = on_clear};

static void check_partial(const AnsiParser* p) {
   const char* text;
   uint32_t len;
   const StyleRun* runs;
   uint16_t nruns;
   ansi_partial(p, &text, &len, &runs, &nruns);
   check_runs(runs, nruns, len);
   /* the ends only (ASan checks them): reading it all would be quadratic in a growing line */
   volatile unsigned char ends = len ? (unsigned char)(text[0] ^ text[len - 1]) : 0;
   (void)ends;
}

/* Feeds body `reps` times through a fresh parser, in chunks (sizes from `split`, NULL: whole). */
static uint64_t run(const uint8_t* body, size_t n, unsigned reps, uint16_t width,
                    const uint8_t* split, size_t nsplit, uint64_t* lines) {
   Digest d = {.h = 1469598103934665603ull};
   d.p = ansi_new(&sink, &d);
   ansi_set_width(d.p, width);
   size_t k = 0;
   for (unsigned r = 0; r < reps; r++) {
      size_t off = 0;
      while (off < n) {
         size_t c = n - off;
         if (split) {
            c = (size_t)split[k++ % nsplit] % 97 + 1;
            if (c > n - off) c = n - off;
         }
         ansi_feed(d.p, (const char*)body + off, c);
         off += c;
         if (split && (k & 7) == 0) check_partial(d.p);
      }
   }
   check_partial(d.p);
   ansi_flush(d.p);
   ansi_reset(d.p);
   if (ansi_modes(d.p) != 0) abort();
   Style st = ansi_style(d.p);
   mix(&d, &st.fg, sizeof st.fg);
   mix(&d, &st.bg, sizeof st.bg);
   mix(&d, &st.attr, sizeof st.attr);
   ansi_free(d.p);
   *lines = d.lines;
   return d.h;
}

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
   if (size < 2) return 0;
   /* byte 0: repetitions (1, 8, 64 or 1024) and width; the rest is the output */
   static const unsigned reps_of[4] = {1, 8, 64, 1024};
   unsigned reps = reps_of[data[0] & 3];
   uint16_t width = (uint16_t)(data[0] >> 2);
   const uint8_t* body = data + 1;
   size_t n = size - 1;
   if ((uint64_t)n * reps > 256u << 10) reps = 1; /* bound the time per input */
   uint64_t l1, l2;
   uint64_t whole = run(body, n, reps, width, NULL, 0, &l1);
   /* the same bytes in small chunks, sizes taken from the input backwards */
   uint8_t* rev = malloc(n);
   for (size_t i = 0; i < n; i++) rev[i] = body[n - 1 - i];
   uint64_t chunked = run(body, n, reps, width, rev, n, &l2);
   free(rev);
   if (whole != chunked || l1 != l2) {
      fprintf(stderr, "chunking changed the result: %llu vs %llu lines\n", (unsigned long long)l1,
              (unsigned long long)l2);
      abort();
   }
   return 0;
}
