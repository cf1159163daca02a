#include "core/sup.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>
#include <uv.h>

#include "core/ansi.h"
#include "core/detect.h"
#include "core/rcu.h"
#include "core/util.h"

extern char** environ;

#define READ_BUF (64 * 1024)
#define READS_PER_WAKEUP 16      /* then let the loop serve the other children */
#define DRAIN_AT_EXIT (8u << 20) /* read at most this much at once when a child has exited */
#define LINGER_MS 500            /* keep reading a hung-up child's terminal this long after exit */
#define QUIT_EXTRA_MS 2000       /* after grace + this, quitting gives up waiting */
#define REAP_POLL_MS 50          /* waitpid polling where there is no pidfd */
#define INTEL_EVERY_MS 100       /* findings are republished at most this often under a flood */

enum { CMD_START, CMD_STOP, CMD_KILL, CMD_RESTART, CMD_RESIZE, CMD_RESUME, CMD_QUIT };

typedef struct Cmd {
   struct cds_wfcq_node node;
   int op;
   uint64_t id;
   unsigned short cols, rows;
} Cmd;

typedef struct Proc {
   ProcSlot slot; /* first: the registry points here */
   Sup* sup;      /* borrowed */
   /* launch description, immutable after sup_add */
   char** argv; /* owned */
   char** env;  /* owned, NULL: environ */
   char* cwd;   /* owned */
   char* note;  /* owned, may be NULL */
   /* supervisor thread only from here on */
   char* message; /* owned */
   pid_t pid;
   int pidfd, out_fd;
   uv_poll_t* out_poll;     /* owned, freed in its close callback */
   uv_poll_t* exit_poll;    /* owned, freed in its close callback */
   uv_timer_t* reap_timer;  /* owned: polls waitpid where pidfd_open is missing (old kernels,
                               valgrind); NULL normally */
   uv_timer_t* timer;       /* owned: kill escalation, then linger after exit */
   uv_timer_t* intel_timer; /* owned: publishes findings held back by the rate limit */
   uint64_t intel_ms;       /* when findings were last published */
   AnsiParser* parser;      /* owned */
   Detector* det;           /* owned */
   bool stop_requested, kill_sent, restart_pending, paused, exit_marker_pending;
   uint64_t published_lines;
   ProcSnap cur; /* the state being built; published copies go to slot.snap (last: it ends in a
                    flexible array member, unused here) */
} Proc;

struct Sup {
   SupConfig cfg;
   uv_loop_t loop;
   uv_async_t cmd_async;
   uv_timer_t quit_timer;
   pthread_t thread;
   struct cds_wfcq_head cmd_head;
   struct cds_wfcq_tail cmd_tail;
   Registry* registry; /* RCU */
   Registry* staged;   /* owned, main thread: the next registry while sup_add builds it */
   size_t staged_cap;
   bool batching; /* sup_add_begin: publish at sup_add_end */
   LineIdx* all;  /* owned: every line of every process in arrival order (the All view) */
   atomic_bool finished;
   bool quitting;
   uint64_t exit_seq;
   uint64_t batch_ms; /* time stamp for the lines of one read batch */
   char* buf;         /* owned: READ_BUF */
};

static void proc_publish(Proc* p);
static void proc_read(Proc* p, size_t budget);

/* ---------------------------------------------------------------- helpers */

static void sup_wake(Sup* s) {
   if (s->cfg.wake) s->cfg.wake(s->cfg.wake_ud);
}

static void free_handle(uv_handle_t* h) {
   free(h);
}

static char** strv_dup(char* const* v) {
   size_t n = 0;
   while (v[n]) n++;
   char** out = xmalloc((n + 1) * sizeof *out);
   for (size_t i = 0; i < n; i++) out[i] = xstrdup(v[i]);
   out[n] = NULL;
   return out;
}

static void strv_free(char** v) {
   if (!v) return;
   for (char** p = v; *p; p++) free(*p);
   free(v);
}

static const char* env_get(char* const* env, const char* key) {
   size_t n = strlen(key);
   for (; env && *env; env++)
      if (strncmp(*env, key, n) == 0 && (*env)[n] == '=') return *env + n + 1;
   return NULL;
}

/* argv[0] as execve needs it: absolute, or found in the PATH the child will have. */
static char* resolve_exe(const char* name, char* const* env) {
   if (strchr(name, '/')) return xstrdup(name);
   const char* path = env_get(env, "PATH");
   if (!path) path = "/usr/local/bin:/usr/bin:/bin";
   while (*path) {
      const char* end = strchr(path, ':');
      size_t n = end ? (size_t)(end - path) : strlen(path);
      char* cand = xasprintf("%.*s/%s", (int)n, n ? path : ".", name);
      if (access(cand, X_OK) == 0) return cand;
      free(cand);
      path += n + (end ? 1 : 0);
   }
   return NULL;
}

static int pidfd_open_(pid_t pid) {
   return (int)syscall(SYS_pidfd_open, pid, 0);
}

/* ---------------------------------------------------------------- log lines */

/* Adds the pieces of the line just appended (a long line is split) to the All view's index. */
static void proc_index_lines(Proc* p, uint64_t first) {
   uint64_t end = logstore_end(p->slot.log);
   for (uint64_t l = first; l < end; l++) lineidx_push(p->sup->all, LINEREF(p->slot.id, l));
}

static void on_line(void* ud, const char* text, uint32_t len, const StyleRun* runs,
                    uint16_t nruns) {
   Proc* p = ud;
   Sup* s = p->sup;
   uint64_t lineno = logstore_end(p->slot.log);
   uint16_t flags = s->cfg.no_detect ? 0 : detect_line(p->det, text, len, lineno, s->batch_ms);
   if (ansi_line_continued(p->parser)) flags |= LINE_CONTINUED;
   uint64_t first = logstore_append(p->slot.log, text, len, runs, nruns, flags, s->batch_ms);
   proc_index_lines(p, first);
}

static void on_reply(void* ud, const char* bytes, size_t n) {
   Proc* p = ud;
   if (p->out_fd >= 0 && p->sup->cfg.use_pty) {
      ssize_t w = write(p->out_fd, bytes, n); /* a few bytes into an empty input queue */
      (void)w;
   }
}

static void proc_marker(Proc* p, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
static void proc_marker(Proc* p, const char* fmt, ...) {
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
   uint64_t first =
       logstore_append(p->slot.log, buf, (uint32_t)n, &run, 1, LINE_MARKER, util_now_ms());
   proc_index_lines(p, first);
}

static void publish_partial(Proc* p) {
   const char* text;
   uint32_t len;
   const StyleRun* runs;
   uint16_t nruns;
   ansi_partial(p->parser, &text, &len, &runs, &nruns);
   logstore_set_partial(p->slot.log, text, len, runs, nruns, p->sup->batch_ms);
}

/* ---------------------------------------------------------------- state */

static void on_intel_timer(uv_timer_t* t) {
   Proc* p = t->data;
   p->intel_ms = 0; /* due now */
   proc_publish(p);
}

/* Findings (a copy of up to 500 entries) are republished at most every INTEL_EVERY_MS while
 * output floods in; a timer publishes what the limit held back. */
static void proc_publish_intel(Proc* p) {
   if (!detect_changed(p->det)) return;
   uint64_t now = util_now_ms();
   if (p->intel_ms && now - p->intel_ms < INTEL_EVERY_MS && p->out_fd >= 0) {
      if (p->intel_timer && !uv_is_active((uv_handle_t*)p->intel_timer))
         uv_timer_start(p->intel_timer, on_intel_timer, INTEL_EVERY_MS - (now - p->intel_ms), 0);
      return;
   }
   p->intel_ms = now;
   DetectSnap* d = detect_snapshot(p->det);
   p->cur.errors = d->errors;
   p->cur.warnings = d->warnings;
   DetectSnap* old_d = rcu_xchg_pointer(&p->slot.intel, d);
   if (old_d) call_rcu(&old_d->rcu, detect_snap_free_rcu);
}

static void proc_publish(Proc* p) {
   proc_publish_intel(p);
   p->cur.lines = logstore_end(p->slot.log);
   ProcSnap* next = snap_new(&p->cur, p->message ? p->message : "");
   ProcSnap* old = rcu_xchg_pointer(&p->slot.snap, next);
   if (old) call_rcu(&old->rcu, snap_free_rcu);
   p->published_lines = p->cur.lines;
   sup_wake(p->sup);
}

static void proc_set_message(Proc* p, char* msg) {
   free(p->message);
   p->message = msg;
}

static bool proc_active(const Proc* p) {
   return snap_is_active(p->cur.state);
}

static Proc* sup_proc(Sup* s, uint64_t id) {
   Proc* p = NULL;
   rcu_read_lock();
   Registry* r = rcu_dereference(s->registry);
   if (r && id < r->n) p = (Proc*)r->slots[id]; /* slot is the first member */
   rcu_read_unlock();
   return p; /* procs live as long as the Sup */
}

static void sup_check_quit(Sup* s);
static void proc_write_exit_marker(Proc* p);

static void on_out_closed(uv_handle_t* h) {
   free(h);
}

/* The child's terminal is done (EOF, or we hang it up): stop reading, close it. */
static void proc_close_output(Proc* p) {
   if (p->out_fd < 0) return;
   ansi_flush(p->parser);
   logstore_set_partial(p->slot.log, NULL, 0, NULL, 0, 0);
   if (p->out_poll) {
      uv_close((uv_handle_t*)p->out_poll, on_out_closed);
      p->out_poll = NULL;
   }
   close(p->out_fd);
   p->out_fd = -1;
   p->paused = false;
   p->cur.output_open = 0;
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
   ansi_flush(p->parser);
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

static void proc_start(Proc* p);

static void on_linger(uv_timer_t* t) {
   Proc* p = t->data;
   if (p->paused) { /* the reader is behind: keep the output until it has caught up */
      uv_timer_start(p->timer, on_linger, LINGER_MS, 0);
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
   /* whatever it wrote before it died is in the terminal buffer: read it first */
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
   p->stop_requested = p->kill_sent = false;

   if (p->out_fd >= 0) {
      /* grandchildren may still hold the terminal; give them a moment, then hang up */
      if (s->quitting && !p->paused)
         proc_close_output(p);
      else
         uv_timer_start(p->timer, on_linger, LINGER_MS, 0);
   }
   proc_publish(p);
   if (p->restart_pending && !s->quitting) {
      p->restart_pending = false;
      proc_start(p);
   }
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

/* ---------------------------------------------------------------- output */

static void proc_maybe_pause(Proc* p) {
   if (!p->sup->cfg.backpressure || !p->out_poll || p->paused) return;
   if (logstore_backlogged(p->slot.log)) {
      uv_poll_stop(p->out_poll);
      p->paused = true;
   }
}

/* Reads up to `budget` bytes (or until the terminal is empty) and feeds the parser. */
static void proc_read(Proc* p, size_t budget) {
   Sup* s = p->sup;
   s->batch_ms = util_now_ms();
   size_t total = 0;
   bool eof = false;
   while (total < budget && p->out_fd >= 0) {
      ssize_t n = read(p->out_fd, s->buf, READ_BUF);
      if (n > 0) {
         ansi_feed(p->parser, s->buf, (size_t)n);
         total += (size_t)n;
         if (s->cfg.backpressure) {
            proc_maybe_pause(p);
            if (p->paused) break;
         }
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
      publish_partial(p);
}

static void on_out_ready(uv_poll_t* h, int status, int events) {
   (void)events;
   Proc* p = h->data;
   if (status < 0) {
      proc_close_output(p);
   } else {
      proc_read(p, (size_t)READ_BUF * READS_PER_WAKEUP);
   }
   if (logstore_end(p->slot.log) != p->published_lines || p->out_fd < 0 || !p->out_poll)
      proc_publish(p);
   if (p->out_fd < 0 && !proc_active(p)) uv_timer_stop(p->timer);
   sup_check_quit(p->sup);
}

/* ---------------------------------------------------------------- spawning */

static int open_pty(Sup* s, int* master_out, char* slave_name, size_t size) {
   int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
   if (m < 0) return -errno;
   if (grantpt(m) < 0 || unlockpt(m) < 0 || ptsname_r(m, slave_name, size) != 0) {
      int err = -errno;
      close(m);
      return err;
   }
   struct winsize ws = {.ws_row = s->cfg.rows ? s->cfg.rows : 24,
                        .ws_col = s->cfg.cols ? s->cfg.cols : 80};
   ioctl(m, TIOCSWINSZ, &ws);
   *master_out = m;
   return 0;
}

/* Spawns the child as a session leader. With a PTY, the child opens the slave after setsid(),
 * which makes it its controlling terminal; posix_spawn (vfork-based) reports exec errors. */
static int proc_spawn(Proc* p, const char* exe, int* out_fd, pid_t* pid_out) {
   Sup* s = p->sup;
   char slave[128];
   int out = -1, pipe_w = -1, err;
   posix_spawn_file_actions_t fa;
   posix_spawnattr_t attr;
   posix_spawn_file_actions_init(&fa);
   posix_spawnattr_init(&attr);

   if (s->cfg.use_pty) {
      if ((err = open_pty(s, &out, slave, sizeof slave)) < 0) goto done;
      posix_spawn_file_actions_addopen(&fa, 0, slave, O_RDWR, 0);
      posix_spawn_file_actions_adddup2(&fa, 0, 1);
      posix_spawn_file_actions_adddup2(&fa, 0, 2);
   } else {
      int fds[2];
      if (pipe2(fds, O_CLOEXEC) < 0) {
         err = -errno;
         goto done;
      }
      out = fds[0];
      pipe_w = fds[1];
      posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
      posix_spawn_file_actions_adddup2(&fa, pipe_w, 1);
      posix_spawn_file_actions_adddup2(&fa, pipe_w, 2);
   }
   posix_spawn_file_actions_addchdir_np(&fa, p->cwd);
   posix_spawn_file_actions_addclosefrom_np(&fa, 3);

   sigset_t mask, def;
   sigemptyset(&mask);
   sigfillset(&def);
   sigdelset(&def, SIGKILL);
   sigdelset(&def, SIGSTOP);
   posix_spawnattr_setsigmask(&attr, &mask);
   posix_spawnattr_setsigdefault(&attr, &def);
   posix_spawnattr_setflags(&attr,
                            POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

   int r = posix_spawn(pid_out, exe, &fa, &attr, p->argv, p->env ? p->env : environ);
   if (r != 0) {
      err = -r;
      goto done;
   }
   if (fcntl(out, F_SETFL, fcntl(out, F_GETFL) | O_NONBLOCK) < 0) {
      err = -errno;
      goto done;
   }
   *out_fd = out;
   out = -1;
   err = 0;
done:
   if (out >= 0) close(out);
   if (pipe_w >= 0) close(pipe_w);
   posix_spawn_file_actions_destroy(&fa);
   posix_spawnattr_destroy(&attr);
   return err;
}

static void proc_start(Proc* p) {
   Sup* s = p->sup;
   if (proc_active(p) || s->quitting) return;
   if (p->out_fd >= 0) proc_close_output(p); /* a previous run's lingering terminal */
   uv_timer_stop(p->timer);

   ProcSnap* c = &p->cur;
   if (c->started_ms) c->restarts++;
   c->state = PROC_STARTING;
   c->pid = 0;
   c->exit_code = -1;
   c->term_signal = 0;
   c->exit_seq = 0;
   c->ended_ms = 0;
   c->started_ms = util_now_ms();
   proc_set_message(p, NULL);
   p->stop_requested = p->kill_sent = false;
   ansi_set_width(p->parser, s->cfg.cols ? s->cfg.cols : 80);

   int err;
   struct stat st;
   char* exe = NULL;
   if (stat(p->cwd, &st) < 0 || !S_ISDIR(st.st_mode)) {
      err = -ENOENT;
      proc_set_message(p, xasprintf("cannot start: directory %s does not exist", p->cwd));
      goto fail;
   }
   exe = resolve_exe(p->argv[0], p->env ? p->env : environ);
   if (!exe) {
      err = -ENOENT;
      proc_set_message(p, xasprintf("cannot start: %s: command not found in PATH", p->argv[0]));
      goto fail;
   }
   if (c->restarts) {
      detect_restart(p->det);
      proc_marker(p, "── restarting (run %u) ──", c->restarts + 1);
   }
   if (p->note) proc_marker(p, "%s", p->note);

   pid_t pid = 0;
   int out_fd = -1;
   err = proc_spawn(p, exe, &out_fd, &pid);
   if (err < 0) {
      proc_set_message(p, xasprintf("cannot start %s: %s", exe, uv_strerror(err)));
      goto fail;
   }
   /* Without a pidfd nothing would ever reap it (and quitting would wait for it forever): with
    * no descriptor left (EMFILE), this spawn fails like the others. */
   int pidfd = pidfd_open_(pid);
   if (pidfd < 0 && errno == ENOSYS) {
      /* no pidfd on this kernel (or under valgrind): poll waitpid for this child instead */
      if (!p->reap_timer) {
         p->reap_timer = xmalloc(sizeof *p->reap_timer);
         uv_timer_init(&s->loop, p->reap_timer);
         p->reap_timer->data = p;
      }
      uv_timer_start(p->reap_timer, on_reap_timer, REAP_POLL_MS, REAP_POLL_MS);
   } else if (pidfd < 0) {
      int e = errno;
      killpg(pid, SIGKILL);
      while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
      }
      close(out_fd);
      util_log("pidfd_open(%d) failed: %s", (int)pid, strerror(e));
      proc_set_message(
          p, xasprintf("cannot start %s: cannot watch its exit: %s", exe, uv_strerror(-e)));
      err = -e;
      goto fail;
   }
   free(exe);
   exe = NULL;
   p->pid = pid;
   c->pid = pid;
   p->out_fd = out_fd;
   c->output_open = 1;

   p->out_poll = xmalloc(sizeof *p->out_poll);
   uv_poll_init(&s->loop, p->out_poll, out_fd);
   p->out_poll->data = p;
   uv_poll_start(p->out_poll, UV_READABLE, on_out_ready);

   p->pidfd = pidfd;
   if (pidfd >= 0) {
      p->exit_poll = xmalloc(sizeof *p->exit_poll);
      uv_poll_init(&s->loop, p->exit_poll, p->pidfd);
      p->exit_poll->data = p;
      uv_poll_start(p->exit_poll, UV_READABLE, on_exit_ready);
   }
   c->state = PROC_RUNNING;
   proc_publish(p);
   return;
fail:
   free(exe);
   util_log("%s: %s", p->slot.name, p->message);
   proc_marker(p, "%s", p->message);
   c->state = PROC_FAILED;
   c->exit_code = -1;
   c->ended_ms = util_now_ms();
   c->exit_seq = ++s->exit_seq;
   proc_publish(p);
   (void)err;
}

static void on_kill_timer(uv_timer_t* t) {
   Proc* p = t->data;
   if (p->pid > 0 && p->cur.state == PROC_STOPPING) {
      killpg(p->pid, SIGKILL);
      p->kill_sent = true;
      proc_marker(p, "── no exit after %.1f s: sent SIGKILL ──", p->sup->cfg.kill_timeout_s);
      proc_publish(p);
   }
}

static void proc_stop(Proc* p, bool now) {
   if (!proc_active(p) || p->pid <= 0) return;
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
   killpg(p->pid, SIGTERM);
   killpg(p->pid, SIGCONT); /* a stopped (^Z) group must wake up to handle SIGTERM */
   uv_timer_start(p->timer, on_kill_timer, (uint64_t)(p->sup->cfg.kill_timeout_s * 1000.0), 0);
   proc_publish(p);
}

/* ---------------------------------------------------------------- quitting */

/* Processes registered so far (the supervisor thread's view). */
static size_t sup_count(Sup* s) {
   rcu_read_lock();
   size_t n = rcu_dereference(s->registry)->n;
   rcu_read_unlock();
   return n;
}

static void on_quit_closed(uv_handle_t* h) {
   (void)h;
}

static void sup_finish(Sup* s) {
   if (atomic_load(&s->finished)) return;
   size_t n = sup_count(s);
   for (size_t i = 0; i < n; i++) {
      Proc* p = sup_proc(s, i);
      /* sweep what is left of each group (grandchildren that outlived their leader) */
      if (p->cur.started_ms && p->slot.snap) {
         pid_t g = p->pid > 0 ? p->pid : 0;
         if (g > 0) killpg(g, SIGKILL);
      }
      proc_close_output(p);
      if (detect_changed(p->det)) proc_publish(p); /* findings the rate limit held back */
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
      if (p->timer) {
         uv_close((uv_handle_t*)p->timer, free_handle);
         uv_close((uv_handle_t*)p->intel_timer, free_handle);
         p->timer = p->intel_timer = NULL;
      }
   }
   uv_close((uv_handle_t*)&s->cmd_async, on_quit_closed);
   uv_close((uv_handle_t*)&s->quit_timer, on_quit_closed);
   atomic_store(&s->finished, true);
}

static void sup_check_quit(Sup* s) {
   if (!s->quitting || atomic_load(&s->finished)) return;
   size_t n = sup_count(s);
   for (size_t i = 0; i < n; i++) {
      Proc* p = sup_proc(s, i);
      if (proc_active(p)) return;
   }
   sup_finish(s);
   sup_wake(s);
}

static void on_quit_timeout(uv_timer_t* t) {
   Sup* s = t->data;
   util_log("quit: children still running after the grace period; giving up on them");
   size_t n = sup_count(s);
   for (size_t i = 0; i < n; i++) {
      Proc* p = sup_proc(s, i);
      if (p->pid > 0) killpg(p->pid, SIGKILL);
   }
   sup_finish(s);
   sup_wake(s);
}

static void sup_begin_quit(Sup* s) {
   if (s->quitting) return;
   s->quitting = true;
   size_t n = sup_count(s);
   for (size_t i = 0; i < n; i++) {
      Proc* p = sup_proc(s, i);
      p->restart_pending = false;
      proc_stop(p, false);
   }
   uv_timer_start(&s->quit_timer, on_quit_timeout,
                  (uint64_t)(s->cfg.kill_timeout_s * 1000.0) + QUIT_EXTRA_MS, 0);
   sup_check_quit(s);
}

/* ---------------------------------------------------------------- commands */

static void proc_ensure_handles(Proc* p) {
   if (p->timer) return;
   p->timer = xmalloc(sizeof *p->timer);
   uv_timer_init(&p->sup->loop, p->timer);
   p->timer->data = p;
   p->intel_timer = xmalloc(sizeof *p->intel_timer);
   uv_timer_init(&p->sup->loop, p->intel_timer);
   p->intel_timer->data = p;
}

static void on_cmd(uv_async_t* a) {
   Sup* s = a->data;
   struct cds_wfcq_node* node;
   while ((node = __cds_wfcq_dequeue_blocking(&s->cmd_head, &s->cmd_tail))) {
      Cmd* c = caa_container_of(node, Cmd, node);
      BRUM_TSAN_ACQUIRE(c);
      Proc* p = (c->op == CMD_RESIZE || c->op == CMD_QUIT) ? NULL : sup_proc(s, c->id);
      if (p) proc_ensure_handles(p);
      if (atomic_load(&s->finished)) p = NULL;
      switch (c->op) {
      case CMD_START:
         if (p && !proc_active(p)) proc_start(p);
         break;
      case CMD_STOP:
         if (p) {
            p->restart_pending = false;
            proc_stop(p, false);
         }
         break;
      case CMD_KILL:
         if (p) {
            p->restart_pending = false;
            proc_stop(p, true);
         }
         break;
      case CMD_RESTART:
         if (!p) break;
         if (proc_active(p)) {
            p->restart_pending = true;
            proc_stop(p, false);
         } else {
            proc_start(p);
         }
         break;
      case CMD_RESIZE: {
         s->cfg.cols = c->cols;
         s->cfg.rows = c->rows;
         struct winsize ws = {.ws_row = c->rows, .ws_col = c->cols};
         rcu_read_lock();
         Registry* r = rcu_dereference(s->registry);
         for (size_t i = 0; r && i < r->n; i++) {
            Proc* q = (Proc*)r->slots[i];
            if (q->out_fd >= 0 && s->cfg.use_pty) ioctl(q->out_fd, TIOCSWINSZ, &ws);
            ansi_set_width(q->parser, c->cols);
         }
         rcu_read_unlock();
         break;
      }
      case CMD_RESUME:
         /* the same test as the pause: after the printer took every line it is false */
         if (p && p->paused && p->out_poll && !logstore_backlogged(p->slot.log)) {
            p->paused = false;
            uv_poll_start(p->out_poll, UV_READABLE, on_out_ready);
         }
         break;
      case CMD_QUIT:
         if (!atomic_load(&s->finished)) sup_begin_quit(s);
         break;
      }
      free(c);
   }
}

static void sup_send(Sup* s, int op, uint64_t id, unsigned short cols, unsigned short rows) {
   Cmd* c = xcalloc(1, sizeof *c);
   cds_wfcq_node_init(&c->node);
   c->op = op;
   c->id = id;
   c->cols = cols;
   c->rows = rows;
   BRUM_TSAN_RELEASE(c);
   cds_wfcq_enqueue(&s->cmd_head, &s->cmd_tail, &c->node);
   uv_async_send(&s->cmd_async);
}

void sup_start(Sup* s, uint64_t id) {
   sup_send(s, CMD_START, id, 0, 0);
}
void sup_stop(Sup* s, uint64_t id) {
   sup_send(s, CMD_STOP, id, 0, 0);
}
void sup_kill(Sup* s, uint64_t id) {
   sup_send(s, CMD_KILL, id, 0, 0);
}
void sup_restart(Sup* s, uint64_t id) {
   sup_send(s, CMD_RESTART, id, 0, 0);
}
void sup_resize(Sup* s, unsigned short cols, unsigned short rows) {
   sup_send(s, CMD_RESIZE, 0, cols, rows);
}
void sup_resume(Sup* s, uint64_t id) {
   sup_send(s, CMD_RESUME, id, 0, 0);
}
void sup_quit(Sup* s) {
   sup_send(s, CMD_QUIT, 0, 0, 0);
}

bool sup_finished(const Sup* s) {
   return atomic_load(&((Sup*)s)->finished);
}

const Registry* sup_registry(const Sup* s) {
   return rcu_dereference(((Sup*)s)->registry);
}

const ProcSnap* sup_snap(const ProcSlot* slot) {
   return rcu_dereference(((ProcSlot*)slot)->snap);
}

const DetectSnap* sup_intel(const ProcSlot* slot) {
   return rcu_dereference(((ProcSlot*)slot)->intel);
}

const LineIdx* sup_all_index(const Sup* s) {
   return s->all;
}

/* ---------------------------------------------------------------- lifecycle */

/* The registry array with an rcu_head in front, so call_rcu can free it whole. */
typedef struct RegistryBox {
   struct rcu_head rcu;
   Registry reg;
} RegistryBox;

static Registry* registry_alloc(size_t n) {
   RegistryBox* box = xcalloc(1, sizeof *box + n * sizeof(ProcSlot*));
   box->reg.n = n;
   return &box->reg;
}

static void registry_free_rcu(struct rcu_head* h) {
   free(h);
}

static void* sup_thread(void* arg) {
   Sup* s = arg;
   rcu_register_thread();
   uv_run(&s->loop, UV_RUN_DEFAULT);
   /* drain the close callbacks of whatever finish closed */
   uv_run(&s->loop, UV_RUN_NOWAIT);
   rcu_unregister_thread();
   return NULL;
}

int sup_new(const SupConfig* cfg, Sup** out) {
   Sup* s = xcalloc(1, sizeof *s);
   s->cfg = *cfg;
   if (s->cfg.kill_timeout_s <= 0) s->cfg.kill_timeout_s = 5.0;
   if (!s->cfg.log.max_lines) s->cfg.log.max_lines = 100000;
   if (!s->cfg.log.max_bytes) s->cfg.log.max_bytes = 256u << 20;
   s->cfg.log.keep_unconsumed = s->cfg.backpressure; /* the printer's lines wait for it */
   s->buf = xmalloc(READ_BUF);
   s->all = lineidx_new(s->cfg.log.max_lines * 4);
   cds_wfcq_init(&s->cmd_head, &s->cmd_tail);
   int err = uv_loop_init(&s->loop);
   if (err < 0) goto fail;
   uv_async_init(&s->loop, &s->cmd_async, on_cmd);
   s->cmd_async.data = s;
   uv_timer_init(&s->loop, &s->quit_timer);
   s->quit_timer.data = s;
   rcu_assign_pointer(s->registry, registry_alloc(0));
   err = -pthread_create(&s->thread, NULL, sup_thread, s);
   if (err < 0) goto fail;
   *out = s;
   return 0;
fail:
   free(s->buf);
   free(s);
   return err;
}

uint64_t sup_add(Sup* s, const char* name, const SupLaunch* launch) {
   Proc* p = xcalloc(1, sizeof *p);
   p->sup = s;
   p->slot.name = xstrdup(name);
   p->slot.log = logstore_new(&s->cfg.log);
   p->argv = strv_dup(launch->argv);
   p->env = launch->env ? strv_dup(launch->env) : NULL;
   p->cwd = xstrdup(launch->cwd ? launch->cwd : ".");
   p->note = launch->note ? xstrdup(launch->note) : NULL;
   p->pidfd = p->out_fd = -1;
   static const AnsiSink sink = {.line = on_line, .reply = on_reply};
   p->parser = ansi_new(&sink, p); /* width: set by proc_start (cfg.cols is the supervisor's) */
   p->det = detect_new();
   p->cur.exit_code = -1;

   /* the next registry is built unpublished (growing by doubling inside a batch), then
    * published whole: adding n processes costs O(n), not O(n^2) */
   const Registry* cur = s->staged ? s->staged : rcu_dereference(s->registry);
   uint64_t id = cur->n;
   p->slot.id = id;
   p->cur.id = id;
   p->slot.snap = snap_new(&p->cur, "");
   if (!s->staged || id + 1 > s->staged_cap) {
      size_t cap = s->batching ? (id + 1) * 2 : id + 1;
      Registry* next = registry_alloc(cap);
      memcpy(next->slots, cur->slots, id * sizeof(ProcSlot*));
      if (s->staged) free(caa_container_of(s->staged, RegistryBox, reg)); /* never published */
      s->staged = next;
      s->staged_cap = cap;
   }
   s->staged->slots[id] = &p->slot;
   s->staged->n = id + 1;
   if (!s->batching) sup_add_end(s);
   return id;
}

void sup_add_begin(Sup* s) {
   s->batching = true;
}

void sup_add_end(Sup* s) {
   s->batching = false;
   if (!s->staged) return;
   Registry* old = rcu_dereference(s->registry);
   rcu_assign_pointer(s->registry, s->staged);
   s->staged = NULL;
   call_rcu(&caa_container_of(old, RegistryBox, reg)->rcu, registry_free_rcu);
}

void sup_free(Sup* s) {
   if (!s) return;
   sup_add_end(s);
   if (!atomic_load(&s->finished)) sup_quit(s);
   pthread_join(s->thread, NULL);
   /* commands sent after the loop ended (a printer's last sup_resume) */
   struct cds_wfcq_node* node;
   while ((node = __cds_wfcq_dequeue_blocking(&s->cmd_head, &s->cmd_tail)))
      free(caa_container_of(node, Cmd, node));
   rcu_barrier(); /* pending call_rcu frees of snapshots, registries and log chunks */
   Registry* r = s->registry;
   for (size_t i = 0; i < r->n; i++) {
      Proc* p = (Proc*)r->slots[i];
      free((char*)p->slot.name);
      logstore_free(p->slot.log);
      free(p->slot.snap);
      free(p->slot.intel);
      strv_free(p->argv);
      strv_free(p->env);
      free(p->cwd);
      free(p->note);
      free(p->message);
      ansi_free(p->parser);
      detect_free(p->det);
      free(p);
   }
   uv_loop_close(&s->loop);
   free(caa_container_of(r, RegistryBox, reg));
   lineidx_free(s->all);
   free(s->buf);
   free(s);
}
