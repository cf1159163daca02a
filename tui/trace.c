/* The key-to-frame trace (BRUM_TRACE): records in memory, written once at exit, so that tracing
 * adds no system call to the frames it measures. */
#include "tui/trace.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TRACE_MAX 100000 /* key frames kept; later ones are counted, not recorded */

typedef struct KeyRec {
   uint64_t read;
   TraceFrame f;
} KeyRec;

bool trace_on;
static FILE* out;
static KeyRec* recs;
static size_t nrecs, dropped;
static uint64_t pending_key; /* read time of the oldest key not yet answered by a frame; 0: none */
static uint64_t frames, first_frame, last_frame;

void trace_open(void) {
   const char* path = getenv("BRUM_TRACE");
   if (!path || !*path) return;
   out = fopen(path, "w");
   if (!out) {
      fprintf(stderr, "brum: BRUM_TRACE: cannot create %s: %s (tracing is off)\n", path,
              strerror(errno));
      return;
   }
   recs = calloc(TRACE_MAX, sizeof *recs);
   if (!recs) {
      fclose(out);
      out = NULL;
      return;
   }
   trace_on = true;
}

void trace_key(uint64_t ns) {
   if (trace_on && !pending_key) pending_key = ns;
}

void trace_frame(const TraceFrame* f) {
   if (!trace_on) return;
   if (!frames++) first_frame = f->start;
   last_frame = f->start;
   if (!pending_key) return;
   if (nrecs < TRACE_MAX)
      recs[nrecs++] = (KeyRec){.read = pending_key, .f = *f};
   else
      dropped++;
   pending_key = 0;
}

void trace_close(void) {
   if (!trace_on) return;
   double secs = (double)(last_frame - first_frame) / 1e9;
   fprintf(out, "frames %" PRIu64 " seconds %.3f per_s %.1f keys %zu dropped %zu\n", frames, secs,
           secs > 0 ? (double)(frames - 1) / secs : 0.0, nrecs, dropped);
   for (size_t i = 0; i < nrecs; i++) {
      const KeyRec* r = &recs[i];
      fprintf(out,
              "key read %" PRIu64 " start %" PRIu64 " drawn %" PRIu64 " blitted %" PRIu64
              " refreshed %" PRIu64 "\n",
              r->read, r->f.start, r->f.drawn, r->f.blitted, r->f.refreshed);
   }
   fclose(out);
   free(recs);
   out = NULL;
   recs = NULL;
   trace_on = false;
}
