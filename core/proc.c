/* One supervised process: its state machine (idle, starting, running, stopping, ended), the
 * reading and parsing of its output into its log store, and the publication of its snapshots.
 * Supervisor thread only, except proc_new and proc_free (main thread, see sup.c). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/snap.h"
#include "core/spawn.h"
#include "core/strpool.h"
#include "core/sup_int.h"
#include "core/term_int.h"
#include "core/util.h"

#define READS_PER_WAKEUP 16      /* then let the loop serve the other children */
#define DRAIN_AT_EXIT (8u << 20) /* read at most this much at once when a child has exited */
#define LINGER_MS 500            /* keep reading a hung-up child's terminal this long after exit */
#define REAP_POLL_MS 50          /* waitpid polling where there is no pidfd */
#define INTEL_EVERY_MS 100       /* findings are republished at most this often under a flood */

static void proc_read(Proc* p, size_t budget);
static void on_out_ready(uv_poll_t* h, int status, int events);

/* ---------------------------------------------------------------- helpers */

static void free_handle(uv_handle_t* h) {
   free(h);
}

/* The array, with the pool's copies of its strings (shared with the other processes). `like`
 * (NULL: none) is the previous process's: strings equal at the same index are taken from it
 * without a hash lookup (environments of one project differ in a few variables). */
static char** strv_intern(StrPool* sp, char* const* v, char* const* like) {
   size_t n = 0;
   while (v[n]) n++;
   char** out = xmalloc((n + 1) * sizeof *out);
   for (size_t i = 0; i < n; i++) {
      if (like && !like[i]) like = NULL;
      out[i] = like && strcmp(like[i], v[i]) == 0 ? like[i] : (char*)strpool_intern(sp, v[i]);
   }
   out[n] = NULL;
   return out;
}

/* libuv's timers fail only when misused (a handle being closed): a bug, said in the log. */
void proc_timer_start(Proc* p, uv_timer_t* t, uv_timer_cb cb, uint64_t ms, uint64_t rep) {
   int err = uv_timer_start(t, cb, ms, rep);
   if (err < 0) util_log("%s: cannot start a timer: %s", p->slot.name, uv_strerror(err));
}

uv_timer_t* proc_new_timer(Proc* p) {
   uv_timer_t* t = xmalloc(sizeof *t);
   int err = uv_timer_init(&p->sup->loop, t);
   if (err < 0) { /* cannot happen (libuv 1.x: always 0); a handle never initialised is worse */
      util_log("%s: cannot create a timer: %s", p->slot.name, uv_strerror(err));
      abort();
   }
   t->data = p;
   return t;
}

/* ---------------------------------------------------------------- state */

static void on_intel_timer(uv_timer_t* t) {
   Proc* p = t->data;
   p->intel_ms = 0; /* due now */
   proc_publish(p);
}

/* Findings (a copy of up to 500 entries) are republished at most every INTEL_EVERY_MS while
 * output floods in; a timer publishes what the limit held back. A run that is not running
 * (ended, stopping, waiting to restart) has all its lines detected first and its findings
 * published at once: whoever sees it ended sees all its errors and test results. */
bool proc_publish_intel(Proc* p) {
   if (!p->det) return false;
   bool settled = p->cur.state != PROC_RUNNING;
   if (settled) det_catch_up(p);
   portuse_flush(p); /* a failed bind found: its marker and Errors note go out with these */
   if (!det_changed(p)) return false;
   uint64_t now = util_now_ms();
   if (!settled && p->intel_ms && now - p->intel_ms < INTEL_EVERY_MS && p->out_fd >= 0) {
      if (p->intel_timer && !uv_is_active((uv_handle_t*)p->intel_timer))
         proc_timer_start(p, p->intel_timer, on_intel_timer, INTEL_EVERY_MS - (now - p->intel_ms),
                          0);
      return false;
   }
   p->intel_ms = now;
   DetectSnap* d = det_snapshot(p);
   p->cur.errors = d->errors;
   p->cur.warnings = d->warnings;
   proc_alert_tests(p, p->slot.intel, d);
   DetectSnap* old_d = rcu_swap(&p->slot.intel, d);
   if (old_d) call_rcu(&old_d->rcu, detect_snap_free_rcu);
   return true;
}

void proc_publish(Proc* p) {
   det_kick(p, 1); /* the lines (and markers) since the last batch */
   proc_publish_intel(p);
   p->cur.lines = logstore_end(p->slot.log);
   ProcSnap* next = snap_new(&p->cur, p->message ? p->message : "");
   ProcSnap* old = rcu_swap(&p->slot.snap, next);
   if (old) call_rcu(&old->rcu, snap_free_rcu);
   p->published_lines = p->cur.lines;
   sup_wake(p->sup);
   orch_published(p);
}

void proc_set_message(Proc* p, char* msg) {
   free(p->message);
   p->message = msg;
}

bool proc_active(const Proc* p) {
   return snap_is_active(p->cur.state);
}

static void proc_write_exit_marker(Proc* p);

static void on_out_closed(uv_handle_t* h) {
   free(h);
}

/* The child's terminal is done (EOF, or we hang it up): stop reading, close it. */
static void proc_close_output(Proc* p) {
   if (p->out_fd < 0) return;
   ansi_reset(p->parser); /* the terminal is gone: modes off (a leave marker if full-screen) */
   logstore_set_partial(p->slot.log, NULL, 0, NULL, 0, 0);
   if (p->out_poll) {
      uv_close((uv_handle_t*)p->out_poll, on_out_closed);
      p->out_poll = NULL;
   }
   close(p->out_fd);
   p->out_fd = -1;
   p->paused = false;
   p->cur.output_open = 0;
   term_run_end(p);
   if (p->exit_marker_pending) {
      p->exit_marker_pending = false;
      proc_write_exit_marker(p); /* it waited for the output that was still buffered */
   }
}

/* Every slave fd is closed but the child runs on (it closed its stdio, or redirected it): stop
 * reading, yet keep the master open, since closing it would hang up the terminal and SIGHUP a
 * process that is still working. It is closed when the process has ended. */
static void proc_park_output(Proc* p) {
   if (!p->out_poll) return;
   ansi_reset(p->parser);
   logstore_set_partial(p->slot.log, NULL, 0, NULL, 0, 0);
   uv_close((uv_handle_t*)p->out_poll, on_out_closed); /* EIO would make it ready forever */
   p->out_poll = NULL;
   p->paused = false;
   p->cur.output_open = 0;
}

static void proc_write_exit_marker(Proc* p) {
   const ProcSnap* c = &p->cur;
   switch (c->state) {
   case PROC_EXITED:
      proc_marker(p, "── exited with code 0 ──");
      break;
   case PROC_FAILED:
      if (c->exit_code == 127)
         proc_marker(p, "── exited with code 127: command not found ──");
      else
         proc_marker(p, "── exited with code %d ──", c->exit_code);
      break;
   case PROC_KILLED:
      proc_marker(p, "── killed by signal %d (%s) ──", c->term_signal, strsignal(c->term_signal));
      break;
   case PROC_STOPPED:
      proc_marker(p, "── stopped ──");
      break;
   default:
      break;
   }
}

static void proc_unstall(Proc* p);

static void on_linger(uv_timer_t* t) {
   Proc* p = t->data;
   proc_unstall(p);
   if (p->paused) { /* the printer is behind: keep the output until it has caught up */
      proc_timer_start(p, p->timer, on_linger, LINGER_MS, 0);
      return;
   }
   proc_read(p, DRAIN_AT_EXIT);
   proc_close_output(p);
   proc_publish(p);
   sup_check_quit(p->sup);
}

static void on_exit_closed(uv_handle_t* h) {
   free(h);
}

/* The leader of the process group has ended: record how, decide what comes next. */
static void proc_reaped(Proc* p, int status) {
   Sup* s = p->sup;
   if (p->exit_poll) {
      uv_close((uv_handle_t*)p->exit_poll, on_exit_closed);
      p->exit_poll = NULL;
   }
   if (p->pidfd >= 0) close(p->pidfd);
   p->pidfd = -1;
   if (p->reap_timer) uv_timer_stop(p->reap_timer);
   uv_timer_stop(p->timer);
   probe_end(p);
   /* whatever it wrote before it died is in the terminal buffer: read it first */
   proc_unstall(p);
   if (!p->paused && p->out_fd >= 0) proc_read(p, DRAIN_AT_EXIT);

   ProcSnap* c = &p->cur;
   c->pid = 0;
   c->ended_ms = util_now_ms();
   c->exit_seq = ++s->exit_seq;
   if (WIFEXITED(status)) {
      c->exit_code = WEXITSTATUS(status);
      c->term_signal = 0;
      c->state = p->stop_requested ? PROC_STOPPED : c->exit_code == 0 ? PROC_EXITED : PROC_FAILED;
   } else {
      c->term_signal = WIFSIGNALED(status) ? WTERMSIG(status) : SIGKILL;
      c->exit_code = 128 + c->term_signal;
      c->state = (p->stop_requested && !p->kill_sent) ? PROC_STOPPED : PROC_KILLED;
   }
   if (p->paused)
      p->exit_marker_pending = true;
   else
      proc_write_exit_marker(p);
   bool by_user = p->stop_requested;
   p->stop_requested = p->kill_sent = false;

   if (p->out_fd >= 0) {
      /* grandchildren may still hold the terminal; give them a moment, then hang up */
      if (s->quitting && !p->paused)
         proc_close_output(p);
      else
         proc_timer_start(p, p->timer, on_linger, LINGER_MS, 0);
   }
   /* A restart (the user's, or the policy's backoff) is one change for readers: the ended run
    * never shows in between, where headless mode would take it for the end of everything and a
    * control socket's wait for its process's exit. */
   if (p->restart_pending && !s->quitting) {
      p->restart_pending = false;
      proc_start(p);
   } else if (!orch_ended(p, by_user)) {
      proc_publish(p);
   }
   proc_alert_ended(p, by_user);
   if (!s->quitting) term_evaluate(p); /* an interactive process's emulator is no longer kept */
   sup_check_quit(s);
}

static void try_reap(Proc* p) {
   int st = 0;
   pid_t r = waitpid(p->pid, &st, WNOHANG);
   if (r == p->pid)
      proc_reaped(p, st);
   else if (r < 0 && errno == ECHILD)
      proc_reaped(p, 0);
}

static void on_exit_ready(uv_poll_t* h, int status, int events) {
   (void)status;
   (void)events;
   try_reap(h->data);
}

static void on_reap_timer(uv_timer_t* t) {
   try_reap(t->data);
}

/* Its output can no longer be watched (no memory for the poll): hang up rather than leave it
 * blocked on a full terminal forever. */
static void proc_lost_output(Proc* p, int err) {
   util_log("%s: cannot watch its output: %s", p->slot.name, uv_strerror(err));
   proc_marker(p, "── cannot read its output any more: %s ──", uv_strerror(err));
   proc_close_output(p);
   proc_publish(p);
}

/* ---------------------------------------------------------------- backpressure */

/* The output's poll also waits for the terminal to take queued input (core/term_io.c): libuv
 * allows one poll per descriptor. */
void proc_repoll(Proc* p) {
   if (!p->out_poll) return;
   int ev = (p->paused ? 0 : UV_READABLE) | (term_wants_write(p) ? UV_WRITABLE : 0);
   if (!ev) {
      uv_poll_stop(p->out_poll);
      return;
   }
   int err = uv_poll_start(p->out_poll, ev, on_out_ready);
   if (err < 0) proc_lost_output(p, err);
}

/* The printer (headless) or the detector is half a store behind: stop reading until it catches
 * up (sup_resume, CMD_DETECTED), so that no line is evicted before it was printed and detected. */
static void proc_maybe_pause(Proc* p, bool draining) {
   if (!p->out_poll || p->paused || !logstore_backlogged(p->slot.log)) return;
   /* the child has ended: detect here rather than wait, its end is published after this read */
   if (draining) det_catch_up(p);
   if (det_stall(p)) {
      p->paused = true;
      proc_repoll(p);
   }
}

/* A child that has ended is not left waiting for the detector: what is left of its output is read
 * now, and detected on this thread (the printer, if it is behind, still pauses it). */
static void proc_unstall(Proc* p) {
   if (!p->paused) return;
   det_catch_up(p);
   proc_resume(p);
}

void proc_resume(Proc* p) {
   /* the same test as the pause: after the printer took every line and the detector reached
    * the end it is false */
   if (p && p->paused && p->out_poll && !logstore_backlogged(p->slot.log)) {
      p->paused = false;
      det_unstall(p);
      proc_repoll(p);
   }
}

/* ---------------------------------------------------------------- output */

/* Reads up to `budget` bytes (or until the terminal is empty) and feeds the parser. */
static void proc_read(Proc* p, size_t budget) {
   Sup* s = p->sup;
   s->batch_ms = util_now_ms();
   size_t total = 0;
   bool eof = false;
   while (total < budget && p->out_fd >= 0) {
      ssize_t n = read(p->out_fd, s->buf, READ_BUF);
      if (n > 0) {
         if (p->logsink) logsink_raw(p->logsink, s->buf, (size_t)n);
         ansi_feed(p->parser, s->buf, (size_t)n);
         det_kick(p, DETECT_KICK_LINES); /* detection runs beside the reading */
         if (!s->cfg.no_screens) term_output(p, s->buf, (size_t)n);
         total += (size_t)n;
         if (budget <= (size_t)READ_BUF * READS_PER_WAKEUP && term_backlogged(p)) break;
         proc_maybe_pause(p, budget > (size_t)READ_BUF * READS_PER_WAKEUP);
         if (p->paused) break;
         continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) break;
      eof = true; /* 0, or EIO: every slave fd is closed */
      break;
   }
   if (eof && proc_active(p))
      proc_park_output(p);
   else if (eof)
      proc_close_output(p);
   else if (total)
      proc_publish_partial(p);
}

static void on_out_ready(uv_poll_t* h, int status, int events) {
   Proc* p = h->data;
   if (status < 0) {
      proc_close_output(p);
   } else {
      if (events & UV_WRITABLE) term_flush(p);
      if ((events & UV_READABLE) && p->out_fd >= 0)
         proc_read(p, (size_t)READ_BUF * READS_PER_WAKEUP);
   }
   if (logstore_end(p->slot.log) != p->published_lines || p->out_fd < 0 || !p->out_poll)
      proc_publish(p);
   if (p->out_fd < 0 && !proc_active(p)) uv_timer_stop(p->timer);
   sup_check_quit(p->sup);
}

/* ---------------------------------------------------------------- starting */

/* A new run: what the snapshot says about the previous one is reset. */
static void proc_begin_run(Proc* p) {
   ProcSnap* c = &p->cur;
   if (c->started_ms) c->restarts++;
   c->state = PROC_STARTING;
   c->pid = 0;
   c->exit_code = -1;
   c->term_signal = 0;
   c->exit_seq = 0;
   c->ended_ms = 0;
   c->started_ms = util_now_ms();
   c->ready_ms = 0;
   c->run_line = logstore_end(p->slot.log);
   sample_begin_run(p);
   portuse_begin_run(p);
   proc_set_message(p, NULL);
   p->probe_fails = 0; /* the probe's verdict is per run */
   p->probe_gave_up = false;
   free(p->probe_err);
   p->probe_err = NULL;
   p->stop_requested = p->kill_sent = false;
   ansi_set_width(p->parser, term_cols(p));
   term_run_begin(p);
}

/* A poll on fd, or NULL (*err says why: no memory for epoll, or an fd epoll refuses). */
static uv_poll_t* proc_new_poll(Proc* p, int fd, uv_poll_cb cb, int* err) {
   uv_poll_t* h = xmalloc(sizeof *h);
   if ((*err = uv_poll_init(&p->sup->loop, h, fd)) < 0) {
      free(h); /* not initialised: libuv does not know it */
      return NULL;
   }
   h->data = p;
   if ((*err = uv_poll_start(h, UV_READABLE, cb)) < 0) {
      uv_close((uv_handle_t*)h, free_handle);
      return NULL;
   }
   return h;
}

/* Watches the new child's output and (with a pidfd) its exit. */
static int proc_watch(Proc* p) {
   int err;
   if (!(p->out_poll = proc_new_poll(p, p->out_fd, on_out_ready, &err))) return err;
   if (p->pidfd >= 0 && !(p->exit_poll = proc_new_poll(p, p->pidfd, on_exit_ready, &err)))
      return err;
   return 0;
}

/* A child nothing can watch: killed and reaped at once, so it never outlives its launch. */
void kill_and_reap(pid_t pid) {
   killpg(pid, SIGKILL);
   while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
   }
}

/* Undoes a launch that cannot be watched: the child is killed and reaped at once. */
static void proc_unwatch(Proc* p) {
   kill_and_reap(p->pid);
   if (p->reap_timer) uv_timer_stop(p->reap_timer);
   if (p->pidfd >= 0) close(p->pidfd);
   p->pidfd = -1;
   p->pid = 0;
   p->cur.pid = 0;
   proc_close_output(p);
}

/* Spawns exe and watches its output and its exit; on failure the message says why. */
static int proc_launch(Proc* p, const char* exe) {
   Sup* s = p->sup;
   ProcSnap* c = &p->cur;
   pid_t pid = 0;
   int out_fd = -1;
   SpawnSpec sp = {.exe = exe,
                   .argv = p->argv,
                   .env = p->env,
                   .cwd = p->cwd,
                   .use_pty = s->cfg.use_pty,
                   .in_fd = s->cfg.use_pty ? NULL : term_in_fd(p),
                   .cols = term_cols(p),
                   .rows = term_rows(p)};
   int err = spawn_child(&sp, &out_fd, &pid);
   if (err < 0) {
      proc_set_message(p, xasprintf("cannot start %s: %s", exe, uv_strerror(err)));
      return err;
   }
   /* Without a pidfd nothing would ever reap it (and quitting would wait for it forever): with
    * no descriptor left (EMFILE), this spawn fails like the others. */
   int pidfd = spawn_pidfd(pid);
   if (pidfd == -ENOSYS) {
      /* no pidfd on this kernel (or under valgrind): poll waitpid for this child instead */
      if (!p->reap_timer) p->reap_timer = proc_new_timer(p);
      proc_timer_start(p, p->reap_timer, on_reap_timer, REAP_POLL_MS, REAP_POLL_MS);
   } else if (pidfd < 0) {
      int e = -pidfd;
      kill_and_reap(pid);
      close(out_fd);
      util_log("pidfd_open(%d) failed: %s", (int)pid, strerror(e));
      proc_set_message(
          p, xasprintf("cannot start %s: cannot watch its exit: %s", exe, uv_strerror(-e)));
      return -e;
   }
   p->pid = pid;
   c->pid = pid;
   p->out_fd = out_fd;
   c->output_open = 1;
   p->pidfd = pidfd >= 0 ? pidfd : -1;
   err = proc_watch(p);
   if (err < 0) {
      proc_unwatch(p);
      proc_set_message(p, xasprintf("cannot start %s: cannot watch it: %s", exe, uv_strerror(err)));
   }
   return err;
}

/* Ready is one state for every door (UI, socket, MCP): the first URL of the run, or, for a run
 * that printed none, READY_QUIET_MS after the start. Published with the next snapshot. */
void proc_set_ready(Proc* p) {
   if (p->cur.ready_ms || p->cur.state != PROC_RUNNING) return;
   p->cur.ready_ms = util_now_ms();
   if (p->ready_timer) uv_timer_stop(p->ready_timer);
}

void proc_ensure_parser(Proc* p) {
   if (p->parser) return; /* made at the first need: idle processes stay small */
   p->parser = proc_parser_new(p);
   det_new(p);
}

void proc_start(Proc* p) {
   Sup* s = p->sup;
   if (proc_active(p) || s->quitting) return;
   if (p->out_fd >= 0) proc_close_output(p); /* a previous run's lingering terminal */
   uv_timer_stop(p->timer);
   uv_timer_stop(p->backoff_timer); /* a start during PROC_BACKOFF comes early */
   proc_ensure_parser(p);
   proc_begin_run(p);
   if (s->logfiles) proc_log_run(p);

   ProcSnap* c = &p->cur;
   struct stat st;
   char* exe = NULL;
   if (stat(p->cwd, &st) < 0 || !S_ISDIR(st.st_mode)) {
      proc_set_message(p, xasprintf("cannot start: directory %s does not exist", p->cwd));
      goto fail;
   }
   exe = spawn_resolve(p->argv[0], p->env);
   if (!exe) {
      proc_set_message(p, xasprintf("cannot start: %s: command not found in PATH", p->argv[0]));
      goto fail;
   }
   if (c->restarts) {
      det_restart(p);
      proc_marker(p, "── restarting (run %u) ──", c->restarts + 1);
   }
   /* A note of several lines (npm's banner: "> pkg@1.2.3 dev", "> vite") is a marker each. */
   for (const char* n = p->note; n && *n;) {
      int len = (int)strcspn(n, "\n");
      proc_marker(p, "%.*s", len, n);
      n += len + (n[len] == '\n');
   }
   if (proc_launch(p, exe) < 0) goto fail;
   free(exe);
   c->state = PROC_RUNNING;
   probe_begin(p);
   term_launched(p);
   proc_publish(p);
   sample_kick(s);
   return;
fail:
   free(exe);
   util_log("%s: %s", p->slot.name, p->message);
   proc_marker(p, "%s", p->message);
   c->state = PROC_FAILED;
   c->exit_code = -1;
   c->ended_ms = util_now_ms();
   c->exit_seq = ++s->exit_seq;
   if (!orch_ended(p, false)) proc_publish(p);
   proc_alert_ended(p, false);
}

/* ---------------------------------------------------------------- stopping */

static void on_kill_timer(uv_timer_t* t) {
   Proc* p = t->data;
   if (p->pid > 0 && p->cur.state == PROC_STOPPING) {
      killpg(p->pid, SIGKILL);
      p->kill_sent = true;
      proc_marker(p, "── no exit after %.1f s: sent SIGKILL ──", (double)p->kill_ms / 1000.0);
      proc_publish(p);
   }
}

void proc_stop(Proc* p, bool now) {
   if (orch_cancel(p) || !proc_active(p) || p->pid <= 0) return;
   if (now) {
      killpg(p->pid, SIGKILL);
      p->kill_sent = true;
      p->stop_requested = true;
      p->cur.state = PROC_STOPPING;
      proc_publish(p);
      return;
   }
   if (p->cur.state == PROC_STOPPING) return; /* the escalation timer is already running */
   p->stop_requested = true;
   p->cur.state = PROC_STOPPING;
   killpg(p->pid, p->stop_signal);
   killpg(p->pid, SIGCONT); /* a stopped (^Z) group must wake up to handle its stop signal */
   proc_timer_start(p, p->timer, on_kill_timer, p->kill_ms, 0);
   proc_publish(p);
}

void proc_finish(Proc* p) {
   /* sweep what is left of each group (grandchildren that outlived their leader) */
   if (p->cur.started_ms && p->slot.snap) {
      pid_t g = p->pid > 0 ? p->pid : 0;
      if (g > 0) killpg(g, SIGKILL);
   }
   proc_close_output(p);
   det_catch_up(p);
   if (det_changed(p)) proc_publish(p); /* findings held back */
   if (p->exit_poll) {
      uv_close((uv_handle_t*)p->exit_poll, on_exit_closed);
      p->exit_poll = NULL;
   }
   if (p->pidfd >= 0) close(p->pidfd);
   p->pidfd = -1;
   if (p->reap_timer) {
      uv_close((uv_handle_t*)p->reap_timer, free_handle);
      p->reap_timer = NULL;
   }
   probe_close(p);
   orch_close(p);
   term_close(p);
   if (p->timer) {
      uv_close((uv_handle_t*)p->timer, free_handle);
      uv_close((uv_handle_t*)p->intel_timer, free_handle);
      uv_close((uv_handle_t*)p->ready_timer, free_handle);
      p->timer = p->intel_timer = p->ready_timer = NULL;
   }
}

/* ---------------------------------------------------------------- lifecycle */

void proc_ensure_handles(Proc* p) {
   if (p->timer) return;
   p->timer = proc_new_timer(p);
   p->intel_timer = proc_new_timer(p);
   p->ready_timer = proc_new_timer(p);
   p->backoff_timer = proc_new_timer(p);
   p->probe_timer = proc_new_timer(p);
}

Proc* proc_new(Sup* s, const char* name, const SupLaunch* launch) {
   Proc* p = xcalloc(1, sizeof *p);
   p->sup = s;
   p->slot.name = xstrdup(name);
   p->slot.log = logstore_new(&s->cfg.log);
   p->argv = strv_intern(s->pool, launch->argv, s->last_added ? s->last_added->argv : NULL);
   p->env = launch->env
                ? strv_intern(s->pool, launch->env, s->last_added ? s->last_added->env : NULL)
                : NULL;
   s->last_added = p;
   p->cwd = strpool_intern(s->pool, launch->cwd ? launch->cwd : ".");
   p->note = launch->note ? strpool_intern(s->pool, launch->note) : NULL;
   p->command = launch->command ? strpool_intern(s->pool, launch->command) : NULL;
   p->pidfd = p->out_fd = -1;
   p->cur.exit_code = -1;
   orch_init(p, launch);
   probe_init(p, launch);
   term_init(p, launch);
   return p;
}

void proc_free(Proc* p) {
   free((char*)p->slot.name);
   logstore_free(p->slot.log);
   free(p->slot.snap);
   free(p->slot.intel);
   free(p->argv); /* the strings are the pool's */
   free(p->env);
   free(p->message);
   term_free(p);
   free(p->port_note);
   sample_free(p);
   ansi_free(p->parser);
   det_free(p);
   orch_free(p);
   probe_free(p);
   free(p);
}
