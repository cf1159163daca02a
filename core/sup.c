/* The supervisor's loop, its command queue and the registry of processes; each process's state
 * machine is core/proc.c, spawning core/spawn.c. */
#include "core/sup.h"

#include <malloc.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "core/sup_int.h"
#include "core/util.h"

#define QUIT_EXTRA_MS 2000 /* after grace + this, quitting gives up waiting */

enum {
   CMD_START,
   CMD_STOP,
   CMD_KILL,
   CMD_RESTART,
   CMD_RESIZE,
   CMD_RESUME,
   CMD_QUIT,
   CMD_NOTICE,
   /* terminal mode (core/term.c) */
   CMD_KEY,
   CMD_INPUT, /* flag: a paste */
   CMD_LINE,
   CMD_EOF,
   CMD_WANT, /* flag: want */
   CMD_RESIZE_PROC,
   CMD_SAMPLE,
   CMD_FREE_PORT,
   CMD_DETECTED /* core/detwork.c: findings to publish, or the detector caught up */
};

typedef struct Cmd {
   struct cds_wfcq_node node;
   int op;
   uint64_t id;
   unsigned short cols, rows;
   char* text; /* owned: CMD_NOTICE, CMD_INPUT, CMD_LINE */
   size_t len; /* of text, for CMD_INPUT and CMD_LINE */
   bool flag;
   TermKey key; /* CMD_KEY */
   SupAck* ack; /* sup_act's: the supervisor's reference */
} Cmd;

struct SupAck {
   atomic_int refs;
   _Atomic SupAnswer answer;
};

void sup_ack_drop(SupAck* a) {
   if (a && atomic_fetch_sub(&a->refs, 1) == 1) free(a);
}

SupAnswer sup_ack_answer(const SupAck* a) {
   return atomic_load(&a->answer);
}

static void cmd_free(Cmd* c) {
   if (c->ack) { /* a command never taken (brum quit first) is answered too */
      SupAnswer pending = SUP_PENDING;
      atomic_compare_exchange_strong(&c->ack->answer, &pending, SUP_QUITTING);
      sup_ack_drop(c->ack);
   }
   free(c->text);
   free(c);
}

static void notice_free_rcu(struct rcu_head* h) {
   free(caa_container_of(h, SupNotice, rcu));
}

static void sup_publish_notice(Sup* s, const char* text) {
   size_t n = strlen(text);
   SupNotice* nt = xmalloc(sizeof *nt + n + 1);
   const SupNotice* old = rcu_read(&s->notice);
   nt->seq = old ? old->seq + 1 : 1;
   nt->time_ms = util_now_ms();
   memcpy(nt->text, text, n + 1);
   SupNotice* prev = rcu_swap(&s->notice, nt);
   if (prev) call_rcu(&prev->rcu, notice_free_rcu);
   sup_wake(s);
}

void sup_wake(Sup* s) {
   if (s->cfg.wake) s->cfg.wake(s->cfg.wake_ud);
   pthread_mutex_lock(&s->observer_mu);
   if (s->observer) s->observer(s->observer_ud);
   pthread_mutex_unlock(&s->observer_mu);
}

void sup_set_observer(Sup* s, void (*fn)(void* ud), void* ud) {
   pthread_mutex_lock(&s->observer_mu);
   s->observer = fn;
   s->observer_ud = ud;
   pthread_mutex_unlock(&s->observer_mu);
}

Proc* sup_proc(Sup* s, uint64_t id) {
   Proc* p = NULL;
   rcu_read_lock();
   Registry* r = rcu_read(&s->registry);
   if (r && id < r->n) p = (Proc*)r->slots[id]; /* slot is the first member */
   rcu_read_unlock();
   return p; /* procs live as long as the Sup */
}

/* Processes registered so far (the supervisor thread's view). */
size_t sup_count(Sup* s) {
   rcu_read_lock();
   size_t n = rcu_read(&s->registry)->n;
   rcu_read_unlock();
   return n;
}

/* ---------------------------------------------------------------- memory */

/* Evicted log chunks go back to malloc, which keeps a freed block that is not at the top of its
 * heap: after a flood that was 2 MB of 17 for 100,000 retained lines (bench/mem_per_line.sh).
 * Once evictions pause for TRIM_DELAY_MS (the chunks are freed after a grace period, long
 * before), malloc_trim returns those pages. Not during a flood: the next chunks reuse the
 * blocks, and trimming them would only cost page faults. */
#define TRIM_DELAY_MS 500

static void on_trim_timer(uv_timer_t* t) {
   (void)t;
#ifdef __GLIBC__
   malloc_trim(0);
#endif
}

void sup_evicted(Sup* s) {
   if (atomic_load(&s->finished)) return;                           /* the timer is closed */
   uv_timer_start(&s->trim_timer, on_trim_timer, TRIM_DELAY_MS, 0); /* fails only when closing */
}

/* ---------------------------------------------------------------- quitting */

static void on_quit_closed(uv_handle_t* h) {
   (void)h;
}

static void sup_finish(Sup* s) {
   if (atomic_load(&s->finished)) return;
   size_t n = sup_count(s);
   for (size_t i = 0; i < n; i++) {
      proc_finish(sup_proc(s, i));
   }
   uv_close((uv_handle_t*)&s->cmd_async, on_quit_closed);
   uv_close((uv_handle_t*)&s->quit_timer, on_quit_closed);
   uv_close((uv_handle_t*)&s->orch_timer, on_quit_closed);
   uv_close((uv_handle_t*)&s->trim_timer, on_quit_closed);
   uv_close((uv_handle_t*)&s->sample_timer, on_quit_closed);
   uv_close((uv_handle_t*)&s->port_timer, on_quit_closed);
   atomic_store(&s->finished, true);
}

void sup_check_quit(Sup* s) {
   if (!s->quitting || atomic_load(&s->finished)) return;
   if (!orch_quit_step(s)) return; /* a level is still stopping (or the next one just began) */
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

/* Dependents stop first: each dependency level gets its own grace period (core/orch.c), so the
 * deadline is the sum of theirs. */
static void sup_begin_quit(Sup* s) {
   if (s->quitting) return;
   s->quitting = true;
   uint64_t grace_ms = orch_quit_begin(s);
   int err = uv_timer_start(&s->quit_timer, on_quit_timeout, grace_ms + QUIT_EXTRA_MS, 0);
   if (err < 0) { /* only when misused; without the deadline, give up waiting now */
      util_log("quit: cannot start the quit timer: %s", uv_strerror(err));
      on_quit_timeout(&s->quit_timer);
      return;
   }
   sup_check_quit(s);
}

/* ---------------------------------------------------------------- commands */

static void on_resize(Sup* s, const Cmd* c) {
   s->cfg.cols = c->cols;
   s->cfg.rows = c->rows;
   rcu_read_lock();
   Registry* r = rcu_read(&s->registry);
   for (size_t i = 0; r && i < r->n; i++) {
      term_resize_default((Proc*)r->slots[i]); /* processes given their own size keep it */
   }
   rcu_read_unlock();
}

static void on_term_cmd(Proc* p, const Cmd* c) {
   switch (c->op) {
   case CMD_KEY:
      term_key(p, &c->key);
      break;
   case CMD_INPUT:
      term_input(p, c->text, c->len, c->flag);
      break;
   case CMD_LINE:
      term_input_line(p, c->text, c->len);
      break;
   case CMD_EOF:
      term_input_eof(p);
      break;
   case CMD_WANT:
      term_want(p, c->flag);
      break;
   case CMD_RESIZE_PROC:
      term_resize(p, c->cols, c->rows);
      break;
   }
}

/* What a start, stop, restart or kill sent with sup_act does to p now (NULL: brum quits). */
static SupAnswer act_answer(int op, const Proc* p) {
   if (!p) return SUP_QUITTING;
   ProcState st = p->cur.state;
   bool going = snap_is_active(st) || snap_is_pending(st);
   if (op == CMD_START && st == PROC_STOPPING) return SUP_STILL_STOPPING;
   if (op == CMD_START && going) return SUP_ALREADY_RUNNING;
   if ((op == CMD_STOP || op == CMD_KILL) && !going) return SUP_NOT_RUNNING;
   return SUP_DONE;
}

/* One command; p is its process (NULL: none, or brum quits). */
static void cmd_run(Sup* s, Proc* p, Cmd* c) {
   if (p) proc_ensure_handles(p);
   switch (c->op) {
   case CMD_START:
      if (p) orch_start(p);
      break;
   case CMD_STOP:
   case CMD_KILL:
      if (p) {
         p->restart_pending = false;
         proc_stop(p, c->op == CMD_KILL);
      }
      break;
   case CMD_RESTART:
      if (!p) break;
      if (proc_active(p)) {
         p->restart_pending = true;
         proc_stop(p, false);
      } else {
         orch_start(p);
      }
      break;
   case CMD_RESIZE:
      if (!atomic_load(&s->finished)) on_resize(s, c);
      break;
   case CMD_RESUME:
      proc_resume(p);
      break;
   case CMD_QUIT:
      if (!atomic_load(&s->finished)) sup_begin_quit(s);
      break;
   case CMD_NOTICE:
      sup_publish_notice(s, c->text);
      break;
   case CMD_SAMPLE: /* id: 0 off, 1 on, 2 a while */
      if (c->id == 2)
         sample_awhile(s);
      else
         sample_set(s, c->id != 0);
      break;
   case CMD_FREE_PORT:
      if (p) portuse_free(p);
      break;
   case CMD_DETECTED:
      if (p) det_found(p);
      break;
   default:
      if (p) on_term_cmd(p, c);
      break;
   }
   if (c->op == CMD_INPUT) atomic_fetch_sub(&s->input_pending, c->len);
}

static void on_cmd(uv_async_t* a) {
   Sup* s = a->data;
   struct cds_wfcq_node* node;
   while ((node = __cds_wfcq_dequeue_blocking(&s->cmd_head, &s->cmd_tail))) {
      Cmd* c = caa_container_of(node, Cmd, node);
      BRUM_TSAN_ACQUIRE(c);
      Proc* p =
          (c->op == CMD_RESIZE || c->op == CMD_QUIT || c->op == CMD_NOTICE || c->op == CMD_SAMPLE)
              ? NULL
              : sup_proc(s, c->id);
      /* (a command queued behind the quit finds every handle closed: it must not make new
       * ones, which would keep the loop from closing) */
      if (atomic_load(&s->finished)) p = NULL;
      if (!c->ack) {
         cmd_run(s, p, c);
      } else {
         SupAnswer answer = act_answer(c->op, p);
         if (answer == SUP_DONE) cmd_run(s, p, c);
         atomic_store(&c->ack->answer, answer);
         sup_wake(s); /* after the snapshot the command published, if any */
      }
      cmd_free(c);
   }
}

static void sup_enqueue(Sup* s, Cmd* c) {
   BRUM_TSAN_RELEASE(c);
   cds_wfcq_enqueue(&s->cmd_head, &s->cmd_tail, &c->node);
   uv_async_send(&s->cmd_async);
}

static void sup_send(Sup* s, int op, uint64_t id, unsigned short cols, unsigned short rows) {
   Cmd* c = xcalloc(1, sizeof *c);
   cds_wfcq_node_init(&c->node);
   c->op = op;
   c->id = id;
   c->cols = cols;
   c->rows = rows;
   sup_enqueue(s, c);
}

void sup_notice(Sup* s, const char* text) {
   Cmd* c = xcalloc(1, sizeof *c);
   cds_wfcq_node_init(&c->node);
   c->op = CMD_NOTICE;
   c->text = xstrdup(text);
   sup_enqueue(s, c);
}

static Cmd* cmd_new(int op, uint64_t id) {
   Cmd* c = xcalloc(1, sizeof *c);
   cds_wfcq_node_init(&c->node);
   c->op = op;
   c->id = id;
   return c;
}

void sup_key(Sup* s, uint64_t id, const TermKey* k) {
   Cmd* c = cmd_new(CMD_KEY, id);
   c->key = *k;
   sup_enqueue(s, c);
}

static void send_text(Sup* s, int op, uint64_t id, const char* b, size_t n, bool flag) {
   Cmd* c = cmd_new(op, id);
   c->text = xmalloc(n ? n : 1);
   if (n) memcpy(c->text, b, n);
   c->len = n;
   c->flag = flag;
   sup_enqueue(s, c);
}

void sup_input(Sup* s, uint64_t id, const char* bytes, size_t n, bool paste) {
   atomic_fetch_add(&s->input_pending, n); /* taken off once the command has run */
   send_text(s, CMD_INPUT, id, bytes, n, paste);
}

size_t sup_input_pending(const Sup* s) {
   return atomic_load(&s->input_pending);
}

void sup_input_line(Sup* s, uint64_t id, const char* text, size_t n) {
   send_text(s, CMD_LINE, id, text, n, false);
}

void sup_input_eof(Sup* s, uint64_t id) {
   sup_enqueue(s, cmd_new(CMD_EOF, id));
}

void sup_term_want(Sup* s, uint64_t id, bool want) {
   Cmd* c = cmd_new(CMD_WANT, id);
   c->flag = want;
   sup_enqueue(s, c);
}

void sup_resize_proc(Sup* s, uint64_t id, unsigned short cols, unsigned short rows) {
   sup_send(s, CMD_RESIZE_PROC, id, cols, rows);
}

const TermScreen* sup_screen(const ProcSlot* slot) {
   return rcu_read(&slot->screen);
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

SupAck* sup_act(Sup* s, SupVerb verb, uint64_t id) {
   static const int ops[] = {[SUP_START] = CMD_START,
                             [SUP_STOP] = CMD_STOP,
                             [SUP_RESTART] = CMD_RESTART,
                             [SUP_KILL] = CMD_KILL};
   SupAck* a = xmalloc(sizeof *a);
   atomic_init(&a->refs, 2);
   atomic_init(&a->answer, SUP_PENDING);
   Cmd* c = cmd_new(ops[verb], id);
   c->ack = a;
   sup_enqueue(s, c);
   return a;
}

void sup_resize(Sup* s, unsigned short cols, unsigned short rows) {
   sup_send(s, CMD_RESIZE, 0, cols, rows);
}

void sup_resume(Sup* s, uint64_t id) {
   sup_send(s, CMD_RESUME, id, 0, 0);
}

void sup_sample(Sup* s, bool on) {
   sup_send(s, CMD_SAMPLE, on, 0, 0);
}

void sup_sample_awhile(Sup* s) {
   sup_send(s, CMD_SAMPLE, 2, 0, 0);
}

void sup_free_port(Sup* s, uint64_t id) {
   sup_send(s, CMD_FREE_PORT, id, 0, 0);
}

void sup_detected(Sup* s, uint64_t id) {
   sup_send(s, CMD_DETECTED, id, 0, 0);
}

void sup_quit(Sup* s) {
   sup_send(s, CMD_QUIT, 0, 0, 0);
}

bool sup_finished(const Sup* s) {
   return atomic_load(&((Sup*)s)->finished);
}

const Registry* sup_registry(const Sup* s) {
   return rcu_read(&s->registry);
}

const ProcSnap* sup_snap(const ProcSlot* slot) {
   return rcu_read(&slot->snap);
}

const DetectSnap* sup_intel(const ProcSlot* slot) {
   return rcu_read(&slot->intel);
}

const LineIdx* sup_all_index(const Sup* s) {
   return s->all;
}

const SupNotice* sup_notice_read(const Sup* s) {
   return rcu_read(&s->notice);
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

/* A log file failed (the writer thread): the status line (or headless stderr) says so. */
static void on_logfile_error(void* ud, const char* text) {
   Sup* s = ud;
   if (!atomic_load(&s->finished)) sup_notice(s, text);
}

/* --log-dir: without its directory brum runs on, unlogged, and says why. */
static void sup_open_logfiles(Sup* s) {
   if (!s->cfg.logfile.dir) return;
   s->cfg.logfile.on_error = on_logfile_error;
   s->cfg.logfile.ud = s;
   char* cause = NULL;
   if (logfiles_new(&s->cfg.logfile, &s->logfiles, &cause) < 0) {
      util_log("%s", cause);
      char* msg = xasprintf("%s; output is not logged to files", cause);
      sup_notice(s, msg);
      free(msg);
      free(cause);
   }
   s->cfg.logfile.dir = NULL; /* borrowed from the caller: the LogFiles has its copy */
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

/* The loop, its command handle and its timers; on failure nothing is left open and *what says
 * which part. */
static int sup_open_loop(Sup* s, const char** what) {
   uv_timer_t* timers[] = {&s->quit_timer, &s->orch_timer, &s->trim_timer, &s->sample_timer,
                           &s->port_timer};
   const char* names[] = {"cannot create its quit timer", "cannot create its orchestration timer",
                          "cannot create its trim timer", "cannot create its sampling timer",
                          "cannot create its port timer"};
   *what = "cannot create its event loop";
   int err = uv_loop_init(&s->loop);
   if (err < 0) return err;
   *what = "cannot create its command handle";
   err = uv_async_init(&s->loop, &s->cmd_async, on_cmd);
   if (err < 0) {
      uv_loop_close(&s->loop);
      return err;
   }
   s->cmd_async.data = s;
   size_t n = 0;
   for (; n < ARRAY_LEN(timers); n++) {
      *what = names[n];
      if ((err = uv_timer_init(&s->loop, timers[n])) < 0) break;
      timers[n]->data = s;
   }
   if (err == 0) return 0;
   uv_close((uv_handle_t*)&s->cmd_async, NULL);
   while (n-- > 0) uv_close((uv_handle_t*)timers[n], NULL);
   uv_run(&s->loop, UV_RUN_NOWAIT); /* the close callbacks */
   uv_loop_close(&s->loop);
   return err;
}

static void sup_close_loop(Sup* s) {
   uv_close((uv_handle_t*)&s->cmd_async, NULL);
   uv_close((uv_handle_t*)&s->quit_timer, NULL);
   uv_close((uv_handle_t*)&s->orch_timer, NULL);
   uv_close((uv_handle_t*)&s->trim_timer, NULL);
   uv_close((uv_handle_t*)&s->sample_timer, NULL);
   uv_close((uv_handle_t*)&s->port_timer, NULL);
   uv_run(&s->loop, UV_RUN_NOWAIT);
   uv_loop_close(&s->loop);
}

int sup_new(const SupConfig* cfg, Sup** out, char** cause) {
   int err;
   Sup* s = xcalloc(1, sizeof *s);
   s->cfg = *cfg;
   if (s->cfg.kill_timeout_s <= 0) s->cfg.kill_timeout_s = 5.0;
   if (!s->cfg.log.max_lines) s->cfg.log.max_lines = 100000;
   if (!s->cfg.log.max_bytes) s->cfg.log.max_bytes = 256u << 20;
   s->cfg.log.keep_unconsumed = s->cfg.backpressure; /* the printer's lines wait for it */
   /* detection runs on its own thread; without it (it cannot start) lines stay unflagged */
   if (!s->cfg.no_detect && (err = detwork_start(s, &s->detw)) < 0) {
      char* msg = util_strerror(err);
      util_log("cannot start the detection thread: %s; errors and URLs are not detected", msg);
      free(msg);
      s->cfg.no_detect = true;
   }
   s->cfg.log.detect_later = s->detw != NULL;
   s->buf = xmalloc(READ_BUF);
   s->all = lineidx_new(1); /* it grows with the lines the stores keep (proclog.c) */
   s->pool = strpool_new();
   cds_wfcq_init(&s->cmd_head, &s->cmd_tail);
   pthread_mutex_init(&s->observer_mu, NULL);
   const char* what;
   err = sup_open_loop(s, &what);
   if (err < 0) goto fail;
   rcu_publish(&s->registry, registry_alloc(0));
   sup_open_logfiles(s);
   what = "cannot start its thread";
   err = -pthread_create(&s->thread, NULL, sup_thread, s);
   if (err < 0) {
      logfiles_free(s->logfiles);
      sup_close_loop(s);
      free(caa_container_of(s->registry, RegistryBox, reg)); /* never read: no thread */
      goto fail;
   }
   *out = s;
   return 0;
fail:
   detwork_stop(s->detw); /* it has nothing queued: no process was added */
   pthread_mutex_destroy(&s->observer_mu);
   if (cause) {
      char* msg = util_strerror(err);
      *cause = xasprintf("the supervisor %s: %s", what, msg);
      free(msg);
   }
   lineidx_free(s->all);
   strpool_free(s->pool);
   free(s->buf);
   free(s);
   return err;
}

uint64_t sup_add(Sup* s, const char* name, const SupLaunch* launch) {
   Proc* p = proc_new(s, name, launch);

   /* the next registry is built unpublished (growing by doubling inside a batch), then
    * published whole: adding n processes costs O(n), not O(n^2) */
   const Registry* cur = s->staged ? s->staged : rcu_read(&s->registry);
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
   Registry* old = rcu_read(&s->registry);
   rcu_publish(&s->registry, s->staged);
   s->staged = NULL;
   call_rcu(&caa_container_of(old, RegistryBox, reg)->rcu, registry_free_rcu);
}

int sup_free(Sup* s) {
   if (!s) return 0;
   sup_add_end(s);
   if (!atomic_load(&s->finished)) sup_quit(s);
   pthread_join(s->thread, NULL);
   detwork_stop(s->detw); /* before the commands are drained: its last one goes too */
   s->detw = NULL;
   logfiles_free(s->logfiles); /* writes what is buffered; its notices come before the sweep */
   /* commands sent after the loop ended (a printer's last sup_resume) */
   struct cds_wfcq_node* node;
   while ((node = __cds_wfcq_dequeue_blocking(&s->cmd_head, &s->cmd_tail)))
      cmd_free(caa_container_of(node, Cmd, node));
   rcu_barrier(); /* pending call_rcu frees of snapshots, registries and log chunks */
   Registry* r = s->registry;
   for (size_t i = 0; i < r->n; i++) {
      proc_free((Proc*)r->slots[i]);
   }
   int rc = uv_loop_close(&s->loop);
   if (rc) util_log("supervisor: a handle was left open at exit (%s)", uv_strerror(rc));
   free(caa_container_of(r, RegistryBox, reg));
   free(s->notice);
   free(s->alerts);
   pthread_mutex_destroy(&s->observer_mu);
   lineidx_free(s->all);
   strpool_free(s->pool);
   free(s->buf);
   free(s);
   return rc;
}
