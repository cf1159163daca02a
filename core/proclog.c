/* One process's log lines: the parser's sink (the log store, the All index), the
 * marker lines brum writes between the child's own, and the unfinished last line. Supervisor
 * thread only. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/sup_int.h"
#include "core/util.h"

/* Adds the pieces of the line just appended (a long line is split) to the All view's index.
 * `begin0` is the store's first line before the append, to count what it evicted. The index
 * keeps as many entries as all the stores keep lines: an entry whose line its store evicted
 * only costs memory, and the newest entries are those of the lines still kept. A process's
 * consecutive lines are one run of the index (core/lineidx.c): a burst costs a few bytes per
 * 4096 lines; lines that alternate between processes line by line cost 8 bytes each. */
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
   uint64_t begin0 = logstore_begin(p->slot.log);
   /* detection flags come later, from the detection thread (core/detwork.c) */
   uint16_t flags = ansi_line_continued(p->parser) ? LINE_CONTINUED : 0;
   if (p->logsink) logsink_line(p->logsink, text, len, flags & LINE_CONTINUED, false);
   uint64_t first = logstore_append(p->slot.log, text, len, runs, nruns, flags, s->batch_ms);
   proc_index_lines(p, first, begin0);
   probe_line(p, text, len);
}

static void on_reply(void* ud, const char* bytes, size_t n) {
   Proc* p = ud;
   if (p->out_fd >= 0 && p->sup->cfg.use_pty) {
      ssize_t w = write(p->out_fd, bytes, n); /* a few bytes into an empty input queue */
      (void)w;
   }
}

/* Appends a marker line as it is: the callers see to the unfinished line. */
static void marker_append(Proc* p, const char* text, size_t n, uint16_t flags) {
   if (p->logsink) logsink_line(p->logsink, text, n, false, true);
   StyleRun run = {.start = 0, .fg = COLOR_DEFAULT, .bg = COLOR_DEFAULT, .attr = ATTR_DIM};
   uint64_t begin0 = logstore_begin(p->slot.log);
   uint64_t first =
       logstore_append(p->slot.log, text, (uint32_t)n, &run, 1, LINE_MARKER | flags, util_now_ms());
   proc_index_lines(p, first, begin0);
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
   marker_append(p, buf, (size_t)n, 0);
}

/* The parser's calls below come from inside ansi_feed (or ansi_reset): they must not call
 * ansi_flush (proc_marker), and the unfinished line waiting on the primary screen must survive
 * the alternate screen. logstore_append hides the store's copy of it; proc_read publishes it
 * again after the feed. */
static void on_modes(void* ud, unsigned modes) {
   Proc* p = ud;
   unsigned before = p->cur.term_modes;
   p->cur.term_modes = modes;
   if ((before ^ modes) & TERM_MODE_ALTSCREEN) {
      static const char enter[] = "── full-screen (alternate screen) ──",
                        leave[] = "── left full-screen ──";
      if (modes & TERM_MODE_ALTSCREEN)
         marker_append(p, enter, sizeof enter - 1, 0);
      else
         marker_append(p, leave, sizeof leave - 1, 0);
   }
   proc_publish(p); /* mode changes are rare (a prompt, a full-screen program starting) */
}

/* One separator per clear (a burst of clears is one): a watch-mode tool clearing 10 times a
 * second adds 10 short lines a second, no more. */
static void on_clear(void* ud) {
   Proc* p = ud;
   time_t now = time(NULL);
   struct tm tm;
   char buf[64];
   size_t n = 0;
   if (localtime_r(&now, &tm)) n = strftime(buf, sizeof buf, "── screen cleared %H:%M:%S ──", &tm);
   if (!n) n = (size_t)snprintf(buf, sizeof buf, "── screen cleared ──");
   marker_append(p, buf, n, LINE_CLEAR);
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
   static const AnsiSink sink = {
       .line = on_line, .reply = on_reply, .modes = on_modes, .clear = on_clear};
   return ansi_new(&sink, p);
}

/* The header of a run in its log file: the command as the user wrote it, else its argv. */
void proc_log_run(Proc* p) {
   if (!p->logsink) p->logsink = logfiles_sink(p->sup->logfiles, p->slot.name);
   char* joined = NULL;
   if (!p->command) {
      size_t n = 0;
      for (char** a = p->argv; *a; a++) n += strlen(*a) + 1;
      joined = xmalloc(n + 1);
      joined[0] = '\0';
      for (char** a = p->argv; *a; a++) {
         if (a != p->argv) strcat(joined, " ");
         strcat(joined, *a);
      }
   }
   logsink_run(p->logsink, p->cur.restarts + 1, p->command ? p->command : joined);
   free(joined);
}
