/* Headless mode: no UI, every output line printed as "[name] text", exit when the named targets
 * have ended (then the dependencies they started are stopped, in reverse dependency order). */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "core/rcu.h"
#include "core/regex.h"
#include "core/util.h"
#include "cli/app.h"

typedef struct Headless {
   uv_loop_t* loop;
   uv_async_t wake;
   uv_timer_t trim; /* gives the output buffer back after a flood (TRIM_MS of calm) */
   uv_signal_t sigs[3];
   size_t nsigs;          /* sigs initialised (to be closed) */
   bool wake_ok;          /* wake and trim initialised (to be closed) */
   Sup* sup;              /* owned */
   CtlServer* ctl;        /* owned, NULL: no control socket */
   uint64_t notice_seq;   /* the newest notice printed */
   Regex* filter;         /* owned, NULL: print everything */
   RegexScratch* scratch; /* owned */
   bool color;
   int width;              /* widest name in columns, for the padded prefix */
   size_t n;               /* processes registered: the targets and what they depend on */
   uint64_t* next;         /* owned: per process, next line to print */
   bool* touched;          /* owned: per process, printed lines in this batch */
   uint64_t all_pos;       /* the next entry of the supervisor's All index to print */
   char** prefix;          /* owned: per process, its "[name] " */
   char** names;           /* owned: per process, its name fit to print (util_sanitize) */
   const Script** scripts; /* owned array: per process, its script (borrowed) */
   bool* target;           /* owned: per process, named on the command line (or by default_run) */
   int signal;             /* the signal that asked us to quit, 0: none */
   uint64_t stop_seq;      /* exit_seq of the last process to end before we began to stop them all
                              (a signal, or the targets' end): what ends later was stopped by us */
   bool quitting;
   bool said_expensive; /* the --filter "too expensive" notice was printed (once is enough) */
   bool run_all;        /* some process is a `-r GLOB` one (bails at the first failure) */
   char* out;           /* owned: output buffer */
   size_t outlen, outcap;
   uint64_t stdin_id; /* --stdin: the process brum's stdin goes to */
   pthread_t stdin_thread;
   bool stdin_running;
} Headless;

#define BATCH_BYTES (256u << 10) /* output taken per read section (and held before writing) */
#define BATCH_LINES 4096u        /* lines per read section, when a filter prints few of them */
#define OUT_MIN (64u << 10)      /* the output buffer's size between floods */
#define DRAIN_ROUNDS 8           /* batches before the loop gets a turn */
#define TRIM_MS 200              /* calm after which a flood's output buffer is given back */

/* Prefix colours, cycled by process index (bright ANSI colours read well on dark and light). */
static const int prefix_colors[] = {36, 33, 32, 35, 34, 91, 96, 93, 92, 95};

static void out_reserve(Headless* h, size_t n) {
   if (h->outlen + n <= h->outcap) return;
   while (h->outlen + n > h->outcap) h->outcap = h->outcap ? h->outcap * 2 : OUT_MIN;
   h->out = xrealloc(h->out, h->outcap);
}

static void out_put(Headless* h, const char* s, size_t n) {
   out_reserve(h, n);
   memcpy(h->out + h->outlen, s, n);
   h->outlen += n;
}

/* printf straight into the output buffer: no intermediate buffer to overrun or truncate. */
__attribute__((format(printf, 2, 3))) static void out_printf(Headless* h, const char* fmt, ...) {
   va_list ap;
   va_start(ap, fmt);
   int n = vsnprintf(NULL, 0, fmt, ap);
   va_end(ap);
   if (n <= 0) return;
   out_reserve(h, (size_t)n + 1);
   va_start(ap, fmt);
   vsnprintf(h->out + h->outlen, (size_t)n + 1, fmt, ap);
   va_end(ap);
   h->outlen += (size_t)n;
}

/* A name and the spaces that pad it to h->width columns. */
static void put_padded(Headless* h, const char* name) {
   size_t cols = util_cols(name);
   out_put(h, name, strlen(name));
   for (size_t c = cols; c < (size_t)h->width; c++) out_put(h, " ", 1);
}

static void out_flush(Headless* h) {
   size_t off = 0;
   while (off < h->outlen) {
      ssize_t w = write(STDOUT_FILENO, h->out + off, h->outlen - off);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) break; /* stdout gone (EPIPE): nothing more to do with the text */
      off += (size_t)w;
   }
   h->outlen = 0;
}

static void put_color(Headless* h, char* buf, uint32_t c, bool bg) {
   int n = 0;
   switch (COLOR_KIND(c)) {
   case COLOR_KIND_INDEX:
      n = sprintf(buf, ";%d;5;%u", bg ? 48 : 38, c & 0xffu);
      break;
   case COLOR_KIND_RGB:
      n = sprintf(buf, ";%d;2;%u;%u;%u", bg ? 48 : 38, (c >> 16) & 0xffu, (c >> 8) & 0xffu,
                  c & 0xffu);
      break;
   default:
      break;
   }
   out_put(h, buf, (size_t)n);
}

/* Re-encodes a style run as one SGR sequence (from a reset, so runs never leak into each other). */
static void put_sgr(Headless* h, const StyleRun* r) {
   char buf[64];
   out_put(h, "\x1b[0", 3);
   static const struct {
      uint16_t attr;
      const char* code;
   } attrs[] = {
       {ATTR_BOLD, ";1"},  {ATTR_DIM, ";2"},     {ATTR_ITALIC, ";3"}, {ATTR_UNDERLINE, ";4"},
       {ATTR_BLINK, ";5"}, {ATTR_REVERSE, ";7"}, {ATTR_STRIKE, ";9"},
   };
   for (size_t i = 0; i < ARRAY_LEN(attrs); i++)
      if (r->attr & attrs[i].attr) out_put(h, attrs[i].code, 2);
   put_color(h, buf, r->fg, false);
   put_color(h, buf, r->bg, true);
   out_put(h, "m", 1);
}

/* "[name ] " padded and coloured, built once per process (name: sanitised). */
static char* make_prefix(const Headless* h, size_t idx, const char* name) {
   size_t cols = util_cols(name);
   int pad = cols < (size_t)h->width ? h->width - (int)cols : 0;
   if (h->color)
      return xasprintf("\x1b[%dm[%s%*s]\x1b[0m ", prefix_colors[idx % ARRAY_LEN(prefix_colors)],
                       name, pad, "");
   return xasprintf("[%s%*s] ", name, pad, "");
}

static void print_line(Headless* h, size_t idx, const LogLine* l) {
   out_put(h, h->prefix[idx], strlen(h->prefix[idx]));
   if (!h->color || l->nruns == 0) {
      out_put(h, l->text, l->len);
   } else {
      uint32_t pos = 0;
      for (uint16_t i = 0; i < l->nruns; i++) {
         uint32_t start = l->runs[i].start < l->len ? l->runs[i].start : l->len;
         out_put(h, l->text + pos, start - pos);
         put_sgr(h, &l->runs[i]);
         pos = start;
      }
      out_put(h, l->text + pos, l->len - pos);
      out_put(h, "\x1b[0m", 4);
   }
   out_put(h, "\n", 1);
}

/* Copies the lines of process i from its next one up to (not including) `until` into the
 * output buffer. Inside the caller's read section. Returns how many it took. */
static unsigned copy_lines(Headless* h, const Registry* r, size_t i, uint64_t until, size_t start) {
   ProcSlot* slot = i < r->n ? r->slots[i] : NULL;
   if (!slot) return 0;
   unsigned lines = 0;
   LogIter it;
   LogLine l;
   logiter_init(&it, slot->log, h->next[i]);
   while (h->next[i] < until && h->outlen - start < BATCH_BYTES && logiter_next(&it, &l) &&
          l.lineno < until) {
      if (l.lineno != h->next[i]) /* the store keeps unprinted lines: say so if it ever did not */
         out_printf(h, "%s… %llu lines lost before they were printed\n", h->prefix[i],
                    (unsigned long long)(l.lineno - h->next[i]));
      bool show = !h->filter || (l.flags & LINE_MARKER) ||
                  regex_match(h->filter, h->scratch, l.text, l.len);
      if (show) print_line(h, i, &l);
      h->next[i] = l.lineno + 1;
      lines++;
   }
   if (lines) h->touched[i] = true;
   return lines;
}

/* Copies the next lines of every process into the output buffer in the order they arrived (the
 * supervisor's All index: `[c] exited` before `[b] started` when b started after c ended), at
 * most a batch, inside one read section (nothing in it may block: a blocked reader holds back
 * every reclamation). A run of one process's consecutive lines (a run of the index) is copied at
 * once. A line whose index entry is gone is printed before that process's next indexed line, or
 * once the index is caught up. Returns whether it took any line. */
static bool take_batch(Headless* h) {
   size_t start = h->outlen;
   unsigned lines = 0;
   rcu_read_lock();
   const Registry* r = sup_registry(h->sup);
   const LineIdx* all = sup_all_index(h->sup);
   uint64_t end = lineidx_end(all), v, n;
   if (h->all_pos < lineidx_begin(all)) h->all_pos = lineidx_begin(all);
   while (h->all_pos < end && h->outlen - start < BATCH_BYTES && lines < BATCH_LINES) {
      if (!lineidx_get_run(all, h->all_pos, &v, &n)) { /* evicted meanwhile */
         h->all_pos = lineidx_begin(all);
         continue;
      }
      /* entries all_pos.. name lines line, line + 1, ... of process i (a run cannot go on into
       * the next process: that would take 2^48 lines) */
      size_t i = (size_t)LINEREF_PROC(v);
      uint64_t line = LINEREF_LINE(v);
      n = n + 1 < end - h->all_pos ? n + 1 : end - h->all_pos;
      if (i >= h->n || line + n <= h->next[i]) { /* printed already */
         h->all_pos += n;
         continue;
      }
      if (line < h->next[i]) { /* the run's start was printed */
         h->all_pos += h->next[i] - line;
         n -= h->next[i] - line;
         line = h->next[i];
      }
      /* at most what the batch has room for, but at least this entry's line */
      uint64_t until = line + n, room = h->next[i] + (BATCH_LINES - lines);
      if (until > room) until = room > line ? room : line + 1;
      h->all_pos += until - line;
      lines += copy_lines(h, r, i, until, start);
      /* the batch filled up inside the run: its entries from the first line not taken, again */
      uint64_t redo = h->next[i] > line ? h->next[i] : line;
      if (h->outlen - start >= BATCH_BYTES && redo < until) h->all_pos -= until - redo;
   }
   /* caught up with the index: what no entry names (yet, or any more) is printed too, so no
    * line can wait for an entry that never comes */
   if (h->all_pos >= end)
      for (size_t i = 0; i < h->n && h->outlen - start < BATCH_BYTES; i++)
         lines += copy_lines(h, r, i, UINT64_MAX, start);
   rcu_read_unlock();
   return lines > 0;
}

/* One batch: tells the stores and the supervisor, then writes it out (outside the read section,
 * where blocking on a slow reader is harmless). True if any line was taken. */
static bool drain_round(Headless* h) {
   if (!take_batch(h)) return false;
   rcu_read_lock();
   const Registry* r = sup_registry(h->sup);
   for (size_t i = 0; i < h->n; i++) {
      if (!h->touched[i]) continue;
      h->touched[i] = false;
      ProcSlot* slot = r->slots[i]; /* (a slot lives as long as the supervisor) */
      logstore_consume(slot->log, h->next[i]);
      /* the supervisor reads on only if no longer backlogged */
      if (!sup_finished(h->sup)) sup_resume(h->sup, slot->id);
   }
   rcu_read_unlock();
   out_flush(h);
   return true;
}

static void on_trim(uv_timer_t* t) {
   Headless* h = t->data;
   if (h->outlen || h->outcap <= OUT_MIN) return;
   h->out = xrealloc(h->out, OUT_MIN);
   h->outcap = OUT_MIN;
}

/* Prints what every process has added. Unless `all`, a few rounds at a time, then the loop gets
 * a turn (signals) and the wakeup is re-armed. */
static void drain(Headless* h, bool all) {
   for (int round = 0; drain_round(h); round++) {
      if (!all && round + 1 >= DRAIN_ROUNDS) {
         uv_async_send(&h->wake);
         return;
      }
   }
   /* caught up: a flood grew the buffer to a batch and more (512 KiB, half of it resident for
    * good), and what comes next may be a line a minute. Not at once: in a flood the printer
    * catches up at nearly every wakeup, and shrinking then growing the buffer each time cost it
    * a third of its time (fresh pages to fault in, mremap) */
   if (h->outcap > OUT_MIN) uv_timer_start(&h->trim, on_trim, TRIM_MS, 0);
}

/* Has this run ended for good? (Not while a restart policy will start it again.) */
static bool ended(ProcState st) {
   return st == PROC_EXITED || st == PROC_FAILED || st == PROC_KILLED || st == PROC_STOPPED;
}

/* Every target has ended and its output is read: time to stop the rest and quit. */
static bool targets_done(Headless* h) {
   bool done = true;
   rcu_read_lock();
   const Registry* r = sup_registry(h->sup);
   for (size_t i = 0; i < r->n && i < h->n; i++) {
      if (!h->target[i]) continue;
      const ProcSnap* s = sup_snap(r->slots[i]);
      if (!ended(s->state) || s->output_open || h->next[i] < logstore_end(r->slots[i]->log))
         done = false;
   }
   rcu_read_unlock();
   return done;
}

/* From now on, what ends was stopped by us: not a failure of its own. */
static void mark_stop(Headless* h) {
   rcu_read_lock();
   const Registry* r = sup_registry(h->sup);
   for (size_t i = 0; i < r->n; i++) {
      uint64_t seq = sup_snap(r->slots[i])->exit_seq;
      if (seq > h->stop_seq) h->stop_seq = seq;
   }
   rcu_read_unlock();
}

/* Once: PCRE2 gave up on --filter for some line, which was therefore not printed. */
static void notice_expensive(Headless* h) {
   if (h->said_expensive || !h->scratch || !regex_scratch_failures(h->scratch)) return;
   h->said_expensive = true;
   char* pat = util_sanitize(regex_pattern(h->filter));
   fprintf(stderr,
           "brum: --filter '%s': pattern too expensive for some lines (PCRE2's match limit): "
           "they were not printed; a simpler pattern avoids this\n",
           pat);
   free(pat);
}

/* What the control socket's clients did ("mcp: restarted dev"), on stderr: stdout is the
 * scripts'. Copied out of the read section before it is printed. */
static void print_notice(Headless* h) {
   char* text = NULL;
   rcu_read_lock();
   const SupNotice* n = sup_notice_read(h->sup);
   if (n && n->seq > h->notice_seq) {
      h->notice_seq = n->seq;
      text = util_sanitize(n->text);
   }
   rcu_read_unlock();
   if (!text) return;
   fprintf(stderr, "brum: %s\n", text);
   free(text);
}

static bool held_back(const ProcSnap* s);

/* `-r GLOB` bails as pnpm -r does: the first of its scripts to fail by itself stops the rest
 * (the exit status is that failure's). Returns its name (sanitised, heap), or NULL. */
static char* run_all_failed(Headless* h) {
   char* name = NULL;
   if (!h->run_all) return NULL;
   rcu_read_lock();
   const Registry* r = sup_registry(h->sup);
   for (size_t i = 0; i < r->n && i < h->n && !name; i++) {
      if (!h->scripts[i] || !h->scripts[i]->run_all) continue;
      const ProcSnap* s = sup_snap(r->slots[i]);
      if ((s->state == PROC_FAILED && !held_back(s)) || s->state == PROC_KILLED)
         name = xstrdup(h->names[i]);
   }
   rcu_read_unlock();
   return name;
}

static void on_wake(uv_async_t* a) {
   Headless* h = a->data;
   drain(h, false);
   print_notice(h);
   notice_expensive(h);
   if (sup_finished(h->sup)) {
      drain(h, true);
      uv_stop(h->loop);
      return;
   }
   char* failed = h->quitting ? NULL : run_all_failed(h);
   if (failed) {
      fprintf(stderr, "brum: %s failed: stopping the rest\n", failed);
      free(failed);
   }
   if (!h->quitting && (failed || targets_done(h))) {
      h->quitting = true;
      mark_stop(h);
      sup_quit(h->sup);
   }
}

static void on_signal(uv_signal_t* s, int signum) {
   Headless* h = s->data;
   if (h->signal && signum == SIGINT) {
      /* a second Ctrl-C: do not wait for the grace period */
      rcu_read_lock();
      const Registry* r = sup_registry(h->sup);
      for (size_t i = 0; i < r->n; i++) sup_kill(h->sup, r->slots[i]->id);
      rcu_read_unlock();
      return;
   }
   if (!h->signal) {
      h->signal = signum;
      if (!h->quitting) mark_stop(h);
      fprintf(stderr, "brum: %s, stopping every process...\n",
              signum == SIGINT ? "interrupted" : strsignal(signum));
   }
   h->quitting = true;
   sup_quit(h->sup);
}

static void wake_cb(void* ud) {
   uv_async_send(ud);
}

/* It never ran because a dependency failed or never became ready (the supervisor's message for
 * that case, "dependency db failed: not ready: ..."), rather than because it could not start. */
static bool held_back(const ProcSnap* s) {
   return s->state == PROC_FAILED && s->exit_code < 0 &&
          strncmp(s->message, "dependency ", 11) == 0;
}

/* On stderr, after the summary: why a target did not run (a CI log's last lines). */
static void report_held_back(Headless* h) {
   char** msgs = xcalloc(h->n + 1, sizeof *msgs);
   rcu_read_lock(); /* copied here, written after: a write may block, a read section must not */
   const Registry* r = sup_registry(h->sup);
   for (size_t i = 0; i < r->n && i < h->n; i++) {
      const ProcSnap* s = sup_snap(r->slots[i]);
      if (h->target[i] && held_back(s)) msgs[i] = util_sanitize(s->message);
   }
   rcu_read_unlock();
   for (size_t i = 0; i < h->n; i++) {
      if (msgs[i]) fprintf(stderr, "brum: %s did not start: %s\n", h->names[i], msgs[i]);
      free(msgs[i]);
   }
   free(msgs);
}

/* 0 if every process succeeded, else the code of the first to fail (128+N for signal N); after a
 * signal, 128+that signal unless a process had failed before it (those we stopped, after a signal
 * or once the targets had ended, do not count, even when they needed SIGKILL). A process that
 * never ran because of its dependencies fails with 1, one that could not start with 127. */
static int exit_status(Headless* h) {
   int code = 0;
   uint64_t first = UINT64_MAX;
   rcu_read_lock();
   const Registry* r = sup_registry(h->sup);
   for (size_t i = 0; i < r->n; i++) {
      const ProcSnap* s = sup_snap(r->slots[i]);
      int c = 0;
      if (s->state == PROC_FAILED)
         c = s->exit_code >= 0 ? s->exit_code : held_back(s) ? 1 : 127;
      else if (s->state == PROC_KILLED)
         c = 128 + s->term_signal;
      if (h->quitting && s->exit_seq > h->stop_seq) c = 0;
      if (c && s->exit_seq < first) {
         first = s->exit_seq;
         code = c;
      }
   }
   rcu_read_unlock();
   if (!code && h->signal) code = 128 + h->signal;
   return code;
}

static void put_str(Headless* h, const char* s) {
   out_put(h, s, strlen(s));
}

/* The rest of a summary line: restarts and what it waited for; then a line with its state's
 * message (why it failed, what it waits for, a probe's last error). */
static void summary_orchestration(Headless* h, size_t i, const ProcSnap* s) {
   if (s->restarts) out_printf(h, "  %u restart%s", s->restarts, s->restarts == 1 ? "" : "s");
   static const char* const conds[] = {
       [DEP_STARTED] = "started", [DEP_READY] = "ready", [DEP_EXITED_OK] = "exited ok"};
   const Script* sc = h->scripts[i];
   for (size_t k = 0; sc && k < sc->ndeps; k++) {
      char* dep = util_sanitize(sc->deps[k].name);
      out_printf(h, "%s%s (%s)", k ? ", " : "  after ", dep, conds[sc->deps[k].cond]);
      free(dep);
   }
   put_str(h, "\n");
   if (s->message[0]) {
      char* msg = util_sanitize(s->message);
      out_printf(h, "%*s  %s\n", h->width, "", msg);
      free(msg);
   }
}

/* At exit, per process: how it ended, error and warning counts, test results, URLs. */
static void print_summary(Headless* h) {
   put_str(h, h->color ? "\x1b[1m── summary ──\x1b[0m\n" : "── summary ──\n");
   rcu_read_lock();
   const Registry* r = sup_registry(h->sup);
   for (size_t i = 0; i < r->n && i < h->n; i++) {
      const ProcSnap* s = sup_snap(r->slots[i]);
      const DetectSnap* d = sup_intel(r->slots[i]);
      char st[64];
      snap_describe(s, st, sizeof st);
      bool bad = s->state == PROC_FAILED || s->state == PROC_KILLED;
      if (h->color) put_str(h, "\x1b[1m");
      put_padded(h, h->names[i]);
      out_printf(h, "  %s%-16s%s  %llu error%s, %llu warning%s",
                 h->color ? (bad ? "\x1b[0;31m" : "\x1b[0;32m") : "", st, h->color ? "\x1b[0m" : "",
                 (unsigned long long)s->errors, s->errors == 1 ? "" : "s",
                 (unsigned long long)s->warnings, s->warnings == 1 ? "" : "s");
      if (d && d->tests.seen) {
         char* fw = util_sanitize(d->tests.framework);
         out_printf(h, "  tests (%s): %u passed, %u failed", fw, d->tests.passed, d->tests.failed);
         free(fw);
         if (d->tests.skipped) out_printf(h, ", %u skipped", d->tests.skipped);
      }
      if (d && d->build != BUILD_NONE)
         put_str(h, d->build == BUILD_OK ? "  build ok" : "  build failed");
      summary_orchestration(h, i, s);
      for (uint32_t k = 0; d && k < d->nurls; k++) {
         char* url = util_sanitize(d->urls[k].url);
         char* label = util_sanitize(d->urls[k].label);
         out_printf(h, "%*s  %s%s%s\n", h->width, "", url, label[0] ? "  " : "", label);
         free(url);
         free(label);
      }
   }
   rcu_read_unlock();
   out_flush(h);
}

static bool in_group(const Headless* h, size_t i, const char* group) {
   const Script* sc = i < h->n ? h->scripts[i] : NULL;
   return sc && sc->run_all && sc->group && (!group || strcmp(sc->group, group) == 0);
}

/* Per `-r GLOB` group, its combined result: "build 3/3 ok", "build 1/3 ok, 1 failed, 1 not run".
 * A group's processes are consecutive (runall_apply put its scripts together, in front). */
static void print_groups(Headless* h) {
   rcu_read_lock();
   const Registry* r = sup_registry(h->sup);
   size_t n = r->n < h->n ? r->n : h->n;
   for (size_t i = 0; i < n;) {
      if (!in_group(h, i, NULL)) {
         i++;
         continue;
      }
      const char* group = h->scripts[i]->group;
      SnapTally t = {0};
      for (; i < n && in_group(h, i, group); i++) snap_tally_add(&t, sup_snap(r->slots[i]));
      char* g = util_sanitize(group);
      char line[256];
      snap_tally_describe(&t, g, line, sizeof line);
      free(g);
      bool bad = t.failed || t.not_run;
      out_printf(h, "%s%s%s\n", h->color ? (bad ? "\x1b[1;31m" : "\x1b[1;32m") : "", line,
                 h->color ? "\x1b[0m" : "");
   }
   rcu_read_unlock();
   out_flush(h);
}

/* The control socket, once the processes are registered; without it brum runs on. */
static void ctl_start(Headless* h, const CtlConfig* ctl) {
   char* cause = NULL;
   if (!ctl || ctl_server_start(h->sup, ctl, &h->ctl, &cause) == 0) return;
   char* c = util_sanitize(cause);
   fprintf(stderr, "brum: warning: no control socket: %s; continuing\n", c);
   util_log("no control socket: %s", c);
   free(c);
   free(cause);
}

/* Registers the targets and every process they depend on (in project order: ids 0, 1, ...), and
 * starts the targets; the supervisor starts their dependencies first. */
static void register_targets(Headless* h, const Project* prj, const Options* o,
                             const CtlConfig* ctl) {
   const char** names;
   size_t nt = app_launch_names(prj, o, &names);
   bool* want = xcalloc(prj->nscripts + 1, sizeof *want);
   for (size_t t = 0; t < nt; t++)
      app_want_closure(prj, (size_t)(pkg_find(prj, names[t]) - prj->scripts), want);
   uint64_t* ids = xcalloc(prj->nscripts + 1, sizeof *ids);
   sup_add_begin(h->sup);
   app_register(h->sup, prj, o, want, ids);
   sup_add_end(h->sup);
   ctl_start(h, ctl);
   for (size_t i = 0; i < prj->nscripts; i++)
      if (ids[i] != APP_NONE) h->n++;
   h->next = xcalloc(h->n, sizeof *h->next);
   h->touched = xcalloc(h->n, sizeof *h->touched);
   h->prefix = xcalloc(h->n, sizeof *h->prefix);
   h->names = xcalloc(h->n, sizeof *h->names);
   h->scripts = xcalloc(h->n, sizeof *h->scripts);
   h->target = xcalloc(h->n, sizeof *h->target);
   for (size_t i = 0; i < prj->nscripts; i++) {
      if (ids[i] == APP_NONE) continue;
      h->scripts[ids[i]] = &prj->scripts[i];
      h->run_all |= prj->scripts[i].run_all;
      h->names[ids[i]] = util_sanitize(prj->scripts[i].name);
      size_t w = util_cols(h->names[ids[i]]);
      if (w > (size_t)h->width) h->width = w > INT_MAX / 2 ? INT_MAX / 2 : (int)w;
   }
   for (size_t i = 0; i < h->n; i++) h->prefix[i] = make_prefix(h, i, h->names[i]);
   for (size_t t = 0; t < nt; t++) {
      uint64_t id = ids[pkg_find(prj, names[t]) - prj->scripts];
      h->target[id] = true;
      sup_start(h->sup, id);
   }
   const Script* in = o->stdin_to ? pkg_find(prj, o->stdin_to) : NULL;
   h->stdin_id = in ? ids[in - prj->scripts] : APP_NONE;
   free(ids);
   free(want);
   free(names);
}

/* --stdin: a thread copies brum's stdin to the process once it runs (blocking reads: stdin may
 * be a file, which libuv cannot poll), then ends its input. Cancelled at the end of the run. */
static void unregister(void* arg) {
   (void)arg;
   rcu_unregister_thread();
}

#define STDIN_AHEAD (32 * 1024) /* --stdin bytes in brum at most (its input queue holds 64 KiB) */

static void* stdin_main(void* arg) {
   Headless* h = arg;
   rcu_register_thread();
   pthread_cleanup_push(unregister, NULL);
   for (;;) { /* input before the child exists would go nowhere: wait for it */
      rcu_read_lock();
      ProcState st = sup_snap(sup_registry(h->sup)->slots[h->stdin_id])->state;
      rcu_read_unlock();
      if (st == PROC_RUNNING) break;
      if (st != PROC_IDLE && !snap_is_active(st) && !snap_is_pending(st)) goto out;
      usleep(10000);
   }
   char buf[4096];
   for (;;) {
      /* a child slower than stdin: wait for it (brum's input queue is bounded and would drop) */
      while (sup_input_pending(h->sup) > STDIN_AHEAD) usleep(2000);
      ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      int old;
      pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
      if (n > 0)
         sup_input(h->sup, h->stdin_id, buf, (size_t)n, false);
      else
         sup_input_eof(h->sup, h->stdin_id);
      pthread_setcancelstate(old, NULL);
      if (n <= 0) break;
   }
out:
   pthread_cleanup_pop(1);
   return NULL;
}

/* The --stdin process must be one this run starts; say which can be named otherwise. */
static int stdin_start(Headless* h, const Options* o) {
   if (!o->stdin_to) return 0;
   if (h->stdin_id == APP_NONE) {
      char* n = util_sanitize(o->stdin_to);
      fprintf(stderr, "brum: --stdin %s: this run does not start %s; name it as a script to run\n",
              n, n);
      free(n);
      return -EINVAL;
   }
   int err = -pthread_create(&h->stdin_thread, NULL, stdin_main, h);
   if (err < 0) return (util_report("cannot start the thread that reads stdin", err), err);
   h->stdin_running = true;
   return 0;
}

static void stdin_stop(Headless* h) {
   if (!h->stdin_running) return;
   pthread_cancel(h->stdin_thread); /* blocked in read: stdin may never end */
   pthread_join(h->stdin_thread, NULL);
   h->stdin_running = false;
}

static void on_close(uv_handle_t* hd) {
   (void)hd;
}

/* The loop's handles: the wakeup, the buffer's trim timer, the signals. Reports what failed. */
static int handles_open(Headless* h) {
   int err;
   if ((err = uv_async_init(h->loop, &h->wake, on_wake)) < 0)
      return util_report("cannot create a wakeup handle", err), -1;
   h->wake_ok = true;
   h->wake.data = h;
   uv_timer_init(h->loop, &h->trim); /* (cannot fail) */
   h->trim.data = h;
   static const int signums[] = {SIGINT, SIGTERM, SIGHUP};
   for (; h->nsigs < ARRAY_LEN(signums); h->nsigs++) {
      if ((err = uv_signal_init(h->loop, &h->sigs[h->nsigs])) < 0)
         return util_report("cannot watch signals", err), -1;
      h->sigs[h->nsigs].data = h;
      if ((err = uv_signal_start(&h->sigs[h->nsigs], on_signal, signums[h->nsigs])) < 0) {
         h->nsigs++;
         return util_report("cannot watch signals", err), -1;
      }
   }
   return 0;
}

static void handles_close(Headless* h) {
   if (h->wake_ok) {
      uv_close((uv_handle_t*)&h->wake, on_close);
      uv_close((uv_handle_t*)&h->trim, on_close);
   }
   for (size_t i = 0; i < h->nsigs; i++) uv_close((uv_handle_t*)&h->sigs[i], on_close);
   uv_run(h->loop, UV_RUN_NOWAIT);
}

static void headless_free(Headless* h) {
   regex_free(h->filter);
   regex_scratch_free(h->scratch);
   free(h->next);
   free(h->touched);
   free(h->scripts);
   free(h->target);
   for (size_t i = 0; h->prefix && i < h->n; i++) free(h->prefix[i]);
   free(h->prefix);
   for (size_t i = 0; h->names && i < h->n; i++) free(h->names[i]);
   free(h->names);
   free(h->out);
}

int headless_run(const Project* prj, const Options* o, const CtlConfig* ctl) {
   Headless h = {0};
   h.loop = uv_default_loop();
   if (!h.loop) return (util_report("cannot create the event loop", -EMFILE), 2);
   const char* nc = getenv("NO_COLOR");
   h.color = isatty(STDOUT_FILENO) && !(nc && *nc);
   int rc = 2;
   if (o->filter) {
      char* cause = NULL;
      if (regex_compile(o->filter, &h.filter, &cause) < 0) {
         char* pat = util_sanitize(o->filter);
         fprintf(stderr, "brum: --filter '%s': %s\n", pat, cause);
         free(pat);
         free(cause);
         return 2;
      }
      h.scratch = regex_scratch_new();
   }
   signal(SIGPIPE, SIG_IGN);
   if (handles_open(&h) < 0) goto out;

   if (o->stdin_to && !pkg_find(prj, o->stdin_to)) {
      char* n = util_sanitize(o->stdin_to);
      fprintf(stderr, "brum: --stdin %s: no script of that name (brum --list shows them)\n", n);
      free(n);
      goto out;
   }
   SupConfig cfg = app_sup_config(o);
   cfg.backpressure = true;
   cfg.no_screens = true;
   cfg.wake = wake_cb;
   cfg.wake_ud = &h.wake;
   char* cause = NULL;
   if (sup_new(&cfg, &h.sup, &cause) < 0) {
      fprintf(stderr, "brum: %s\n", cause);
      free(cause);
      goto out;
   }
   register_targets(&h, prj, o, ctl);
   if (stdin_start(&h, o) < 0) {
      sup_quit(h.sup);
      goto out;
   }

   uv_run(h.loop, UV_RUN_DEFAULT);
   stdin_stop(&h);
   drain(&h, true);
   print_notice(&h);
   notice_expensive(&h);
   print_summary(&h);
   print_groups(&h);
   report_held_back(&h);
   rc = exit_status(&h);
out:
   stdin_stop(&h);
   handles_close(&h);
   ctl_server_stop(h.ctl); /* its reads of the supervisor's data end before sup_free */
   sup_free(h.sup);
   headless_free(&h);
   return rc;
}
