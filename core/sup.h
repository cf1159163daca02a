/* The supervisor: one thread with its own libuv loop that owns every child process. It spawns
 * scripts in PTYs, drains and parses their output into log stores, reaps them, escalates stops,
 * and publishes process snapshots with RCU. Other threads talk to it only through commands
 * (a wait-free queue + uv_async_send) and read it only through RCU-published data. */
#ifndef BRUM_CORE_SUP_H
#define BRUM_CORE_SUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/detect.h"
#include "core/lineidx.h"
#include "core/logfile.h"
#include "core/logstore.h"
#include "core/snap.h"
#include "core/term.h"

/* Orchestration (docs/ARCHITECTURE.md): what a process waits for, when it is ready, whether it
 * comes back. The zero value of each is today's behaviour (no dependencies, the default ready
 * rule, no restarts). */
typedef enum SupDepCond {
   SUP_DEP_STARTED,  /* the dependency is running */
   SUP_DEP_READY,    /* the dependency is ready (ProcSnap.ready_ms) */
   SUP_DEP_EXITED_OK /* the dependency ran and exited with code 0 */
} SupDepCond;
typedef struct SupDep {
   uint64_t id; /* the dependency's process id (ids are given in sup_add order, so a caller may
                   name a process it registers later) */
   SupDepCond cond;
} SupDep;
typedef enum SupProbeKind {
   SUP_PROBE_DEFAULT, /* the first URL detected, or READY_QUIET_MS after the start */
   SUP_PROBE_LOG,     /* target: a PCRE2 pattern matched against each new line */
   SUP_PROBE_TCP,     /* target: "host:port" accepts a connection */
   SUP_PROBE_HTTP,    /* target: "http://host[:port]/path" answers 2xx or 3xx */
   SUP_PROBE_EXEC     /* target: a shell command (sh -c, the process's cwd and env) exits 0 */
} SupProbeKind;
typedef struct SupProbe {
   SupProbeKind kind;
   const char* target;
   double interval_s; /* between attempts (default 1) */
   double timeout_s;  /* per attempt (default 1; LOG: unused) */
   unsigned retries;  /* this many failures in a row make the process "not ready" (a failed
                         dependency); 0: keep trying while it runs */
} SupProbe;
typedef enum SupRestart { SUP_RESTART_NO, SUP_RESTART_ON_FAILURE, SUP_RESTART_ALWAYS } SupRestart;

/* How one process is launched; the supervisor copies it. */
typedef struct SupLaunch {
   char* const* argv; /* argv[0] absolute, or looked up in the PATH of env */
   char* const* env;  /* full environment; NULL: the supervisor's own */
   const char* cwd;
   const char* note;    /* shown when it starts, a marker line per line of it (NULL: none) */
   const char* command; /* as the user wrote it, for log file headers (NULL: argv joined) */
   /* orchestration; all optional */
   const SupDep* deps; /* starting this process starts these first, and it waits for them */
   size_t ndeps;
   SupProbe ready;
   SupRestart restart;
   double backoff_s; /* first restart delay (default 1), doubled up to 30 s, reset after 10 s up */
   int max_restarts; /* restarts after the first run; -1: no limit (the default when 0 is not
                        meant: callers set it explicitly) */
   int stop_signal;  /* 0: SIGTERM */
   double kill_timeout_s; /* 0: the supervisor's */
   bool interactive;      /* keeps an emulator while it runs (brum.yaml `interactive: true`) */
   bool pooled; /* one of `brum -r GLOB`'s: starts only while fewer than SupConfig.max_pooled
                   pooled processes run (else it waits: "waiting for a slot (4 running)") */
} SupLaunch;

/* One registered process. The slot lives as long as the supervisor; its fields other than snap
 * never change after registration. */
typedef struct ProcSlot {
   uint64_t id;        /* index in the registry, stable */
   const char* name;   /* owned by the supervisor */
   LogStore* log;      /* owned by the supervisor, read lock-free */
   ProcSnap* snap;     /* RCU: sup_snap() inside a read section */
   DetectSnap* intel;  /* RCU: errors, URLs, test results found so far (NULL: none yet) */
   TermScreen* screen; /* RCU: the emulated screen while it has an emulator, and after its run
                          ended until the next run starts (NULL: none) */
} ProcSlot;

/* The live set of processes: an immutable array, replaced whole (RCU) when it changes. */
typedef struct Registry {
   size_t n;
   ProcSlot* slots[]; /* borrowed from the supervisor */
} Registry;

typedef struct SupConfig {
   bool use_pty;              /* false: pipes (--no-pty) */
   bool no_detect;            /* skip error/URL detection (--no-detect; for measuring its cost) */
   bool backpressure;         /* headless: the log stores keep every line until the printer
                                 consumes it (logstore_consume), and reading a child pauses while
                                 its store is backlogged, until sup_resume finds it caught up */
   bool no_screens;           /* headless: nothing shows an emulated screen, so no process keeps
                                 a raw-output tail or gets an emulator (the parser answers
                                 terminal queries) */
   double kill_timeout_s;     /* grace period between SIGTERM and SIGKILL (default 5) */
   LogStoreConfig log;        /* retention per process */
   LogFileConfig logfile;     /* --log-dir (dir NULL: none); on_error is the supervisor's */
   unsigned short cols, rows; /* initial PTY size */
   unsigned max_pooled;       /* at most this many SupLaunch.pooled processes run at once (0: no
                                 limit; --concurrency, else the number of CPUs) */
   void (*wake)(void* ud);    /* called on the supervisor thread when something visible changed */
   void* wake_ud;
} SupConfig;

typedef struct Sup Sup;

/* Starts the supervisor thread. On failure nothing is left behind and *cause (owned by the
 * caller; NULL: not wanted) says why. */
int sup_new(const SupConfig* cfg, Sup** out, char** cause);
/* Registers a process (idle until started). Call before other threads read the registry or at
 * any time from the thread that owns the Sup (the main thread). Returns the id. */
uint64_t sup_add(Sup* s, const char* name, const SupLaunch* launch);
/* Between these, sup_add calls are published as one new registry (for thousands of scripts). */
void sup_add_begin(Sup* s);
void sup_add_end(Sup* s);
/* Quits if needed, joins the thread, waits for pending call_rcu callbacks, frees everything.
 * Other readers of the registry and log stores must be done. */
int sup_free(Sup* s); /* 0; UV_EBUSY when a handle was left open (a bug: it leaks) */

/* Commands: thread-safe, never block, processed in order. */
/* Start (its dependencies first, then it waits for them); restart when it has ended; start now
 * when it is in backoff; nothing when it runs or waits. */
void sup_start(Sup* s, uint64_t id);
/* Its stop signal (SIGTERM) to the group, SIGKILL after its grace period; a waiting start or a
 * pending restart is cancelled (PROC_STOPPED). A stopped process is never restarted by its
 * policy. */
void sup_stop(Sup* s, uint64_t id);
void sup_kill(Sup* s, uint64_t id);    /* SIGKILL now (or cancels, as sup_stop) */
void sup_restart(Sup* s, uint64_t id); /* stop if running, then start */
/* The same four with an answer, for a caller that reports what was done (the control socket).
 * The supervisor decides when it takes the command, after every command queued before it (a
 * start the UI queued a moment ago counts): a start of a process that runs, waits or is in
 * backoff, or is stopping, and a stop or kill of one that does not run or wait, change nothing.
 * The caller reads the answer (SUP_PENDING until it is taken; the supervisor then wakes its
 * observers) and drops its reference once. */
typedef enum SupVerb { SUP_START, SUP_STOP, SUP_RESTART, SUP_KILL } SupVerb;
typedef enum SupAnswer {
   SUP_PENDING,
   SUP_DONE,
   SUP_NOT_RUNNING,     /* stop, kill: nothing ran or waited */
   SUP_ALREADY_RUNNING, /* start: it runs, waits or is in backoff */
   SUP_STILL_STOPPING,  /* start: its stop is under way (a restart starts it again) */
   SUP_QUITTING         /* brum is quitting: nothing was done */
} SupAnswer;
typedef struct SupAck SupAck;
SupAck* sup_act(Sup* s, SupVerb verb, uint64_t id);
SupAnswer sup_ack_answer(const SupAck* a);
void sup_ack_drop(SupAck* a);
void sup_resize(Sup* s, unsigned short cols, unsigned short rows);
void sup_resume(Sup* s, uint64_t id); /* headless: the printer consumed lines: read again if the
                                         store is no longer backlogged */
/* Stop every child (its stop signal, SIGKILL after its grace period), dependents before their
 * dependencies, one level at a time; wait for them, end the thread. Waiting starts and pending
 * restarts are cancelled. sup_finished() turns true (and wake is called) once all are gone. */
void sup_quit(Sup* s);
bool sup_finished(const Sup* s);

/* ---- terminal mode (core/term.c; core/term.h). Commands like the others: thread-safe, never
 * block, processed in order. Writes to a child go through a bounded queue per process (a child
 * that never reads must not grow brum: what does not fit is dropped and counted in a notice). */
/* A key for the child, encoded by its emulator (vterm_keyboard_*) when it has one, else by
 * term_encode_key with the modes tracked from its output. Nothing when it has no child. */
void sup_key(Sup* s, uint64_t id, const TermKey* k);
/* Bytes as they are (copied). `paste`: text the user pasted, wrapped in ESC[200~ ... ESC[201~
 * when the child enabled bracketed paste. */
void sup_input(Sup* s, uint64_t id, const char* bytes, size_t n, bool paste);
/* Bytes of sup_input calls that no child has taken yet (queued in brum), all processes together:
 * a sender of a stream (--stdin) waits while it is high, so the bounded queues never drop. Any
 * thread. */
size_t sup_input_pending(const Sup* s);
/* A line (copied, without its end) followed by the end a terminal sends: "\r" on a PTY, "\n" on a
 * pipe (--no-pty children get a pipe as stdin for this). */
void sup_input_line(Sup* s, uint64_t id, const char* text, size_t n);
/* End of input: the terminal's EOF character (VEOF) on a PTY, closing the pipe otherwise. */
void sup_input_eof(Sup* s, uint64_t id);
/* The UI shows (want) or stopped showing this process's emulated screen: while wanted it has an
 * emulator (built by replaying its raw-output tail; a child on the alternate screen keeps its own
 * whether wanted or not). Counted: want twice needs unwant twice. Unwanted emulators of children
 * on the primary screen are dropped (with their screen) after 5 s. */
void sup_term_want(Sup* s, uint64_t id, bool want);
/* This process's terminal size (its pane's inner size): the emulator first, then the PTY (the
 * child gets SIGWINCH). Kept for its next runs. The caller debounces. */
void sup_resize_proc(Sup* s, uint64_t id, unsigned short cols, unsigned short rows);

/* Resource sampling (CPU, RSS, listening ports; ProcSnap.sampled_ms and after): every 2 s while
 * on and some process runs, no timer otherwise (no wakeups at idle). The UI turns it on while the
 * sidebar's columns or a list show the figures; the control server for `ps`. Counted: on twice
 * needs off twice. */
void sup_sample(Sup* s, bool on);
/* On for the next minute, each call extending it: the control server's `ps` (so a headless brum,
 * or a UI without the columns, reports figures too: the first `ps` starts it, figures follow
 * within a fraction of a second). */
void sup_sample_awhile(Sup* s);

/* Port in use (core/portuse.c): when a process's output says it could not bind a port
 * (EADDRINUSE), the supervisor finds the holder, says it in the pane and the Errors entry, and
 * keeps it until the process's next run. */
typedef struct SupPortHolder {
   int port, pid;
   bool ours;        /* the holder is in the session of one of brum's processes */
   uint64_t ours_id; /* which one */
   char cmd[160];
} SupPortHolder;
/* The holder found for this process's current run; false: none. Any registered RCU thread. */
bool sup_port_holder(const Sup* s, uint64_t id, SupPortHolder* out);
/* The holder gets SIGTERM (one of brum's is stopped instead), then the process starts again once
 * the port is free (after 5 s at most). Nothing when no holder is known. */
void sup_free_port(Sup* s, uint64_t id);

/* A short text for the UI's status line, e.g. "mcp: restarted dev" (actions that arrive through
 * the control socket). Thread-safe, copies the text; the newest replaces the previous one. */
void sup_notice(Sup* s, const char* text);
typedef struct SupNotice {
   uint64_t seq; /* 1, 2, ...: a new notice has a higher one */
   uint64_t time_ms;
   struct rcu_head rcu;
   char text[];
} SupNotice;
/* Something worth telling a user who is not looking (tui/notify.c rings and notifies when the
 * process's pane is not shown): a process ended on its own with a failure (not a user's stop or
 * kill, not brum's quit, not a restart its policy makes), or its tests turned red. The newest
 * SUP_ALERTS are kept; a reader remembers the last seq it took. */
typedef enum SupAlertKind { SUP_ALERT_FAILED = 1, SUP_ALERT_TESTS_RED } SupAlertKind;
typedef struct SupAlert {
   uint64_t seq, id, time_ms;
   SupAlertKind kind;
   char text[160]; /* "web failed (exit code 1)", "test: 3 of 120 tests failed (vitest)" */
} SupAlert;
#define SUP_ALERTS 16
typedef struct SupAlerts {
   uint64_t seq; /* the newest alert's; alert k is ring[k % SUP_ALERTS] */
   SupAlert ring[SUP_ALERTS];
   struct rcu_head rcu;
} SupAlerts;
const SupAlerts* sup_alerts_read(const Sup* s); /* inside a read section; NULL: none yet */

/* A second party told of every change the supervisor publishes, as cfg.wake is (the control
 * server): fn(ud) runs on the supervisor thread and must not block. NULL removes it; once this
 * returns, the previous fn is not running and will not be called again. Any thread. */
void sup_set_observer(Sup* s, void (*fn)(void* ud), void* ud);

/* Readers: inside rcu_read_lock on a registered thread. */
const Registry* sup_registry(const Sup* s);
const ProcSnap* sup_snap(const ProcSlot* slot);
const DetectSnap* sup_intel(const ProcSlot* slot);
const TermScreen* sup_screen(const ProcSlot* slot); /* NULL: none (see ProcSlot.screen) */
/* Every line of every process in arrival (= time) order, as LINEREFs: the All view's source. */
const LineIdx* sup_all_index(const Sup* s);
const SupNotice* sup_notice_read(const Sup* s); /* NULL: none yet */

#endif
