/* One process's log lines: the parser's sink (detection, the log store, the All index), the
 * marker lines brum writes between the child's own, and the unfinished last line. Supervisor
 * thread only. */
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "core/sup_int.h"
#include "core/util.h"

/* Adds the pieces of the line just appended (a long line is split) to the All view's index.
 * `begin0` is the store's first line before the append, to count what it evicted. The index
 * keeps as many entries as all the stores keep lines: an entry whose line its store evicted
 * only costs memory (8 bytes per line, a third of a 100-byte line's overhead when the index
 * kept 4x max_lines), and the newest entries are those of the lines still kept. */
static void proc_index_lines(Proc* p, uint64_t first, uint64_t begin0) {
   Sup* s = p->sup;
   uint64_t end = logstore_end(p->slot.log);
   uint64_t evicted = logstore_begin(p->slot.log) - begin0;
   s->all_kept += (end - first) - evicted;
   if (evicted) sup_evicted(s);
   lineidx_set_max(s->all, s->all_kept);
   for (uint64_t l = first; l < end; l++) lineidx_push(s->all, LINEREF(p->slot.id, l));
}

static void on_line(void* ud, const char* text, uint32_t len, const StyleRun* runs,
                    uint16_t nruns) {
   Proc* p = ud;
   Sup* s = p->sup;
   uint64_t lineno = logstore_end(p->slot.log), begin0 = logstore_begin(p->slot.log);
   uint16_t flags = s->cfg.no_detect ? 0 : detect_line(p->det, text, len, lineno, s->batch_ms);
   if (ansi_line_continued(p->parser)) flags |= LINE_CONTINUED;
   uint64_t first = logstore_append(p->slot.log, text, len, runs, nruns, flags, s->batch_ms);
   proc_index_lines(p, first, begin0);
   probe_line(p, text, len, flags);
   if (!s->cfg.no_detect) portuse_line(p, text, len, lineno);
}

static void on_reply(void* ud, const char* bytes, size_t n) {
   Proc* p = ud;
   if (p->out_fd >= 0 && p->sup->cfg.use_pty) {
      ssize_t w = write(p->out_fd, bytes, n); /* a few bytes into an empty input queue */
      (void)w;
   }
}

void proc_marker(Proc* p, const char* fmt, ...) {
   char buf[512];
   va_list ap;
   va_start(ap, fmt);
   int n = vsnprintf(buf, sizeof buf, fmt, ap);
   va_end(ap);
   if (n < 0) return;
   if ((size_t)n >= sizeof buf) n = sizeof buf - 1;
   /* a marker ends an unfinished line first, so it never glues onto the child's text */
   ansi_flush(p->parser);
   logstore_set_partial(p->slot.log, NULL, 0, NULL, 0, 0);
   StyleRun run = {.start = 0, .fg = COLOR_DEFAULT, .bg = COLOR_DEFAULT, .attr = ATTR_DIM};
   uint64_t begin0 = logstore_begin(p->slot.log);
   uint64_t first =
       logstore_append(p->slot.log, buf, (uint32_t)n, &run, 1, LINE_MARKER, util_now_ms());
   proc_index_lines(p, first, begin0);
}

void proc_publish_partial(Proc* p) {
   const char* text;
   uint32_t len;
   const StyleRun* runs;
   uint16_t nruns;
   ansi_partial(p->parser, &text, &len, &runs, &nruns);
   logstore_set_partial(p->slot.log, text, len, runs, nruns, p->sup->batch_ms);
}

AnsiParser* proc_parser_new(Proc* p) {
   static const AnsiSink sink = {.line = on_line, .reply = on_reply};
   return ansi_new(&sink, p);
}
