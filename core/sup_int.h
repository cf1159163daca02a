/* Private to the supervisor: the structures shared by its loop, command queue and registry
 * (core/sup.c) and the per-process state machine (core/proc.c). Supervisor thread only, unless
 * a field says otherwise. */
#ifndef BRUM_CORE_SUP_INT_H
#define BRUM_CORE_SUP_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/types.h>
#include <uv.h>

#include "core/ansi.h"
#include "core/detect.h"
#include "core/rcu.h"
#include "core/regex.h"
#include "core/strpool.h"
#include "core/sup.h"

#define READ_BUF (64 * 1024)

typedef struct SampleMember {
   int pid;
   uint64_t ticks; /* utime + stime */
} SampleMember;

/* A process's previous sample (allocated at its first: idle processes stay small). */
typedef struct ProcSample {
   uint64_t ms;
   SampleMember* members; /* owned: its group's members then, by pid, with their CPU time */
   size_t nmembers;
   uint64_t sig; /* its members and the system's listeners when its ports were found */
} ProcSample;

typedef struct Proc {
   ProcSlot slot; /* first: the registry points here */
   Sup* sup;      /* borrowed */
   /* launch description, immutable after sup_add; the arrays are owned, the strings borrowed
    * from the Sup's pool */
   char** argv;
   char** env; /* NULL: environ */
   const char* cwd;
   const char* note;    /* may be NULL */
   const char* command; /* may be NULL */
   /* supervisor thread only from here on */
   char* message; /* owned */
   pid_t pid;
   int pidfd, out_fd;
   unsigned stop_level;     /* orchestration (below), here to pack: quitting: stopped after the
                               processes of lower levels ended */
   uv_poll_t* out_poll;     /* owned, freed in its close callback */
   uv_poll_t* exit_poll;    /* owned, freed in its close callback */
   uv_timer_t* reap_timer;  /* owned: polls waitpid where pidfd_open is missing (old kernels,
                               valgrind); NULL normally */
   uv_timer_t* timer;       /* owned: kill escalation, then linger after exit */
   uv_timer_t* intel_timer; /* owned: publishes findings held back by the rate limit */
   uv_timer_t* ready_timer; /* owned: a run that has printed no URL is ready READY_QUIET_MS in */
   uint64_t intel_ms;       /* when findings were last published */
   AnsiParser* parser;      /* owned; NULL until the first start */
   struct TermState* term;  /* owned: raw-output tail, emulator, input queue (core/term.c);
                               NULL until its first run, want or size */
   LogSink* logsink;        /* the Sup's LogFiles' (NULL: no log file, or not started yet) */
   struct DetState* det;    /* owned, core/detwork.c: its detector; NULL until the first start,
                               and with --no-detect */
   bool stop_requested, kill_sent, restart_pending, paused, exit_marker_pending;
   bool interactive; /* SupLaunch.interactive: keeps an emulator while it runs */
   /* (the orchestration's flags, here to pack with the others) */
   bool on_path;       /* inside the dependency walk of a start request (cycle check) */
   bool probe_gave_up; /* retries reached: this run is "not ready" */
   bool pooled;        /* SupLaunch.pooled */
   bool in_pool;       /* pooled and active: holds one of the pool's places */
   bool seen_gave_up;
   uint64_t published_lines;
   /* orchestration (core/orch.c, core/probe.c); the launch part is immutable after sup_add */
   SupDep* deps; /* owned */
   size_t ndeps;
   SupProbe ready;         /* target borrowed from the pool; interval and timeout defaulted */
   Regex* ready_re;        /* owned: SUP_PROBE_LOG's pattern (NULL: it did not compile) */
   char* ready_re_err;     /* owned: why it did not compile */
   RegexScratch* ready_sc; /* owned */
   SupRestart restart;
   int max_restarts;
   double backoff_s;
   int stop_signal;           /* resolved: SIGTERM by default */
   ProcState seen_state;      /* as orch_published last saw it */
   uint64_t kill_ms;          /* resolved: the supervisor's grace by default */
   bool* dep_met;             /* owned, ndeps: conditions met since this wait began */
   unsigned auto_restarts;    /* restarts by the policy since the user's last start */
   unsigned backoff_streak;   /* for orch_backoff */
   unsigned probe_fails;      /* failed attempts in a row in this run */
   uv_timer_t* backoff_timer; /* owned: PROC_BACKOFF's delay */
   uv_timer_t* probe_timer;   /* owned: the next probe attempt, or the current one's timeout */
   struct ProbeRun* probe;    /* the attempt in flight (NULL: none) */
   char* probe_err;           /* owned: "probe TARGET: WHY (N tries)"; NULL: none this run */
   uint64_t seen_ready;
   struct ProcSample* sample;  /* owned, core/sample.c: its last sample (NULL: never sampled) */
   struct PortNote* port_note; /* RCU: the holder found (NULL: none) */
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
   bool batching;     /* sup_add_begin: publish at sup_add_end */
   LineIdx* all;      /* owned: every line of every process in arrival order (the All view) */
   uint64_t all_kept; /* lines the log stores keep, summed: the All index keeps as many */
   StrPool* pool;     /* owned, main thread (sup_add): the strings of every launch description */
   struct Proc* last_added; /* borrowed, main thread: its launch arrays seed the next one's */
   atomic_bool finished;
   bool quitting;
   unsigned quit_level;   /* quitting: the dependency level being stopped (dependents first) */
   uv_timer_t orch_timer; /* re-examines waiting processes after a state change */
   uv_timer_t trim_timer; /* hands freed log chunks back to the kernel once evictions pause */
   size_t nwaiting;       /* processes in PROC_WAITING */
   unsigned npooled;      /* pooled processes that are active (Proc.in_pool) */
   uint64_t exit_seq;
   uint64_t batch_ms;           /* time stamp for the lines of one read batch */
   SupNotice* notice;           /* RCU: the newest status-line notice (NULL: none yet) */
   pthread_mutex_t observer_mu; /* any thread: guards observer and its calls */
   void (*observer)(void* ud);
   void* observer_ud;
   char* buf;                   /* owned: READ_BUF */
   LogFiles* logfiles;          /* owned: --log-dir's files (NULL: none) */
   struct DetWorker* detw;      /* owned, core/detwork.c: the detection thread (NULL: none) */
   SupAlerts* alerts;           /* RCU: the newest alerts (NULL: none yet) */
   uv_timer_t sample_timer;     /* core/sample.c: runs only while sampling is on and a child runs */
   unsigned sample_on;          /* sup_sample's count */
   uint64_t sample_until_ms;    /* sup_sample_awhile: on until then */
   atomic_size_t input_pending; /* any thread: sup_input's bytes not yet run, and the input
                                   queues' bytes (sup_input_pending) */
   unsigned sample_tick;        /* every SAMPLE_FULL_EVERY-th tick reads all of /proc */
   uv_timer_t port_timer;       /* core/portuse.c: waits for a freed port, then starts the script */
   uint64_t port_wait_id, port_wait_until;
   int port_wait_port;
};

/* ---- core/proc.c: one process ---- */
/* A new idle process (main thread, sup_add); its id is set by the caller. */
Proc* proc_new(Sup* s, const char* name, const SupLaunch* launch);
void proc_free(Proc* p);           /* after the loop has ended */
void proc_ensure_handles(Proc* p); /* its timers, created on its first command */
bool proc_active(const Proc* p);
void proc_start(Proc* p);
void proc_stop(Proc* p, bool now); /* now: SIGKILL; else SIGTERM, SIGKILL after the grace */
void proc_resume(Proc* p);         /* backpressure: the printer caught up, read again */
void proc_set_ready(Proc* p);      /* this run is ready (its first URL, or the quiet timer) */
void proc_finish(Proc* p);         /* quitting: sweep its group, close its handles */
void proc_publish(Proc* p);        /* a new snapshot of p->cur */
/* Publishes the findings now unless the rate limit holds them back (its timer publishes them
 * then); true when it did: the caller publishes a snapshot for their counts. */
bool proc_publish_intel(Proc* p);
void proc_set_message(Proc* p, char* msg); /* takes msg (NULL: none) */
void proc_ensure_parser(Proc* p);          /* its parser and detector, made at the first need */
uv_timer_t* proc_new_timer(Proc* p);
void proc_timer_start(Proc* p, uv_timer_t* t, uv_timer_cb cb, uint64_t ms, uint64_t rep);
void kill_and_reap(pid_t pid); /* SIGKILL to the group, then waitpid */

/* ---- core/orch.c: dependencies, restart policy, stop order ---- */
void orch_init(Proc* p, const SupLaunch* l); /* copies the launch's orchestration fields */
void orch_free(Proc* p);
void orch_start(Proc* p); /* a user's start: its dependencies first, then waits for them */
/* A stop or quit of a process that has no child: WAITING or BACKOFF ends as STOPPED. Returns
 * whether p was one of those. */
bool orch_cancel(Proc* p);
/* A run ended (or could not start): the restart policy. True when it published (backoff, or
 * giving up); false: nothing to do, the caller publishes the ended run. */
bool orch_ended(Proc* p, bool by_user);
void orch_published(Proc* p); /* a snapshot went out: waiting processes may move */
void orch_close(Proc* p);     /* quitting: close its handles */
/* Quitting: cancels what has no child, orders the rest by dependency level and stops the first
 * level. Returns the total grace of the levels (ms). */
uint64_t orch_quit_begin(Sup* s);
bool orch_quit_step(Sup* s); /* stops the next level when one ended; true once nothing runs */
void on_orch_timer(uv_timer_t* t);
/* After a line batch that evicted log chunks: (re)arms the trim timer (proclog.c). */
void sup_evicted(Sup* s);

/* ---- core/probe.c: readiness probes ---- */
void probe_init(Proc* p, const SupLaunch* l);
void probe_free(Proc* p);
void probe_begin(Proc* p); /* the run is RUNNING: arm its probe (or the default rule's timer) */
void probe_end(Proc* p);   /* the run ended: abandon the attempt in flight, stop the timers */
void probe_close(Proc* p); /* quitting: close its handles */
/* A new line of the current run: the log probe's pattern. (The default rule's URL is found by
 * the detection thread: core/detwork.c.) */
void probe_line(Proc* p, const char* text, uint32_t len);

/* ---- core/proclog.c: one process's log lines ---- */
AnsiParser* proc_parser_new(Proc* p); /* its output goes to p's log store and the All index */
/* A dim marker line (start, restart, exit...), after ending the child's unfinished line. */
void proc_marker(Proc* p, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
void proc_publish_partial(Proc* p); /* the unfinished last line, as the parser has it */
void proc_log_run(Proc* p);         /* a run begins: its log file's header (with --log-dir) */

/* ---- core/alert.c: alerts for the UI's notifications ---- */
/* The run just ended: an alert when it failed on its own (by_user: a stop, kill or quit). */
void proc_alert_ended(Proc* p, bool by_user);
/* Findings about to be published: an alert when the tests turned red (old NULL: none before). */
void proc_alert_tests(Proc* p, const DetectSnap* old, const DetectSnap* next);

/* ---- core/term.c, core/term_io.c: terminal mode ---- */
void term_init(Proc* p, const SupLaunch* l); /* main thread, proc_new */
void term_free(Proc* p);                     /* proc_free */
void term_close(Proc* p);                    /* quitting: close its handles */
/* What the child wrote, after the parser saw it: kept in the tail, fed to an emulator. */
void term_output(Proc* p, const char* buf, size_t n);
void term_run_begin(Proc* p); /* a new run: a fresh terminal */
/* Its emulator has half a tail to catch up on: stop reading this turn (the child waits, as it
 * would for a slow terminal; a burst never overflows the tail). */
bool term_backlogged(const Proc* p);
int* term_in_fd(Proc* p);    /* where spawn puts a --no-pty child's stdin pipe */
void term_launched(Proc* p); /* the child runs (its pipe, if any, is in place) */
void term_run_end(Proc* p);  /* its terminal is closed: input goes nowhere now */
void term_key(Proc* p, const TermKey* k);
void term_input(Proc* p, const char* b, size_t n, bool paste);
void term_input_line(Proc* p, const char* b, size_t n);
void term_input_eof(Proc* p);
void term_want(Proc* p, bool want);
void term_resize(Proc* p, uint16_t cols, uint16_t rows); /* its own size */
void term_resize_default(
    Proc* p);              /* the supervisor's size changed: follow it unless it has its own */
void proc_repoll(Proc* p); /* proc.c: the output poll's events (readable, writable) as needed */

/* ---- core/sample.c: resource sampling ---- */
void sample_set(Sup* s, bool on); /* sup_sample's command */
void sample_kick(Sup* s);         /* a process started: sample it, when sampling is on */
#define SAMPLE_AWHILE_MS 60000
void sample_awhile(Sup* s);     /* sup_sample_awhile's command: on for SAMPLE_AWHILE_MS from now */
void sample_begin_run(Proc* p); /* a new run's figures start empty */
void sample_free(Proc* p);

/* ---- core/portuse.c: port in use ---- */
typedef struct PortNote {
   SupPortHolder h;
   struct rcu_head rcu;
} PortNote;
/* Before a publication: the holder of the port whose failed bind detection found (detwork.c). */
void portuse_flush(Proc* p);
void portuse_begin_run(Proc* p); /* a new run forgets the last holder */
void portuse_free(Proc* p);      /* sup_free_port's command */

/* ---- core/detwork.c: detection on its own thread ---- */
typedef struct DetWorker DetWorker;
int detwork_start(Sup* s, DetWorker** out); /* sup_new; -errno */
void detwork_stop(DetWorker* w);            /* sup_free, after the loop ended; NULL: none */
void det_new(Proc* p);                      /* at the first start (not with --no-detect) */
void det_free(Proc* p);
/* At least min_lines new lines are in its store (1: any): queue it for the worker. Cheap, yet a
 * wakeup of the thread: while reading, the supervisor kicks every DETECT_KICK_LINES lines (a
 * slice's worth: one wakeup and at most one CMD_DETECTED per slice), and at each publication. */
#define DETECT_KICK_LINES 4096
void det_kick(Proc* p, uint64_t min_lines);
/* Detects the lines the worker has not reached, here and now (ordering: a run's end, ...). */
void det_catch_up(Proc* p);
/* Its store holds too many lines not yet printed or detected: tells the worker to say when it has
 * caught up (CMD_DETECTED). Returns whether it is still backlogged: then pause. */
bool det_stall(Proc* p);
void det_unstall(Proc* p); /* reading again (or not paused after all): no answer wanted */
void det_found(Proc* p);   /* CMD_DETECTED: publish the findings, readiness, resume reading */
void det_restart(Proc* p); /* a new run: detect_restart after the last run's lines */
void det_note(Proc* p, uint64_t lineno, uint64_t time_ms, const char* note); /* detect_note */
/* The failed bind detection found in this run (portuse_parse_line's result: a port, -1 for none
 * in the line), once; 0: none (yet). */
int det_take_port(Proc* p, uint64_t* lineno);
bool det_changed(Proc* p);         /* detect_changed may be true (no lock: a flag) */
DetectSnap* det_snapshot(Proc* p); /* detect_snapshot, under its lock (p->det set) */

/* ---- core/sup.c: the loop ---- */
void sup_detected(Sup* s, uint64_t id); /* any thread: CMD_DETECTED */
void sup_wake(Sup* s);
void sup_check_quit(Sup* s);         /* ends the loop once quitting and every process has ended */
Proc* sup_proc(Sup* s, uint64_t id); /* NULL: no such process */
size_t sup_count(Sup* s);            /* processes registered so far */

#endif
