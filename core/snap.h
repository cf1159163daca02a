/* Process snapshots: what a frame may read about a process. Built whole by the supervisor,
 * published once with RCU, never written again, reclaimed with call_rcu. */
#ifndef BRUM_CORE_SNAP_H
#define BRUM_CORE_SNAP_H

#include <stdint.h>

#include "core/rcu.h"

typedef enum ProcState {
   PROC_IDLE,     /* never started */
   PROC_STARTING, /* spawn requested */
   PROC_RUNNING,
   PROC_STOPPING, /* SIGTERM sent, waiting (SIGKILL after the grace period) */
   PROC_EXITED,   /* exited with code 0 */
   PROC_FAILED,   /* exited with a non-zero code, or could not be started */
   PROC_KILLED,   /* ended by a signal it did not ask for (or SIGKILL after the grace period) */
   PROC_STOPPED,  /* ended because the user stopped it */
   PROC_WAITING,  /* start requested, held until its dependencies meet their conditions
                     (message: "waiting for db (ready)"); no child yet */
   PROC_BACKOFF,  /* ended, and its restart policy starts it again after a delay (message:
                     "restarting in 2 s (restart 2 of 5)"); no child */
} ProcState;

#define READY_QUIET_MS 1000
#define PROC_MAX_PORTS 8

typedef struct ProcSnap {
   uint64_t id;
   ProcState state;
   int pid;                       /* 0 when not running */
   int exit_code;                 /* PROC_EXITED / PROC_FAILED; -1 when it never ran */
   int term_signal;               /* PROC_KILLED / PROC_STOPPED by a signal */
   uint64_t started_ms, ended_ms; /* wall clock; 0 when not yet */
   uint64_t exit_seq; /* order in which processes ended (1, 2, ...); 0 while not ended */
   uint32_t restarts; /* starts after the first */
   /* sampled (below): CPU time over the last interval, per mille of one core (1000: 100%) */
   uint32_t cpu_permille;
   uint64_t run_line; /* the first log line of this run (its log's end when it started): what
                         came before belongs to earlier runs */
   /* When this run became ready (0: not yet, or not running): at its first detected URL, or
    * READY_QUIET_MS after the start for a process that has printed none; with a readiness probe
    * (SupLaunch.ready), when the probe first succeeded. brum's one definition of ready, for the
    * UI, the control socket, MCP and dependencies. */
   uint64_t ready_ms;
   int output_open;     /* its terminal (or pipe) is still being read */
   unsigned term_modes; /* TERM_MODE_* (core/term.h) tracked from its output */
   /* Resources of its process group, sampled from /proc while sup_sample is on and it runs
    * (sampled_ms 0: never sampled this run) */
   uint64_t sampled_ms;
   uint64_t rss_bytes;
   uint8_t nports; /* TCP ports it listens on (the first PROC_MAX_PORTS) */
   uint16_t ports[PROC_MAX_PORTS];
   uint64_t lines, errors, warnings; /* counts at publication time */
   const char* message;              /* inline text, e.g. why a spawn failed; "" when none */
   struct rcu_head rcu;              /* reclaimed with call_rcu */
   char text[];                      /* storage for message */
} ProcSnap;

/* One allocation: a copy of `base` (NULL: zeroed) with `message` (NULL: keep base's). */
ProcSnap* snap_new(const ProcSnap* base, const char* message);
void snap_free_rcu(struct rcu_head* head);

const char* snap_state_name(ProcState s); /* "idle", "running", ... */
/* Starting, running or stopping: it has a child. WAITING and BACKOFF have none, so they are not
 * active (not counted as running, not stopped by a signal); they are pending: a child will come
 * without another command, so whoever waits for processes to end (headless) waits for them too. */
int snap_is_active(ProcState s);
int snap_is_pending(ProcState s); /* waiting or backoff */
/* Human description: "running", "exited ok", "failed (1)", "killed (9)", "stopped", "waiting",
 * "backoff" (the message says for what, or until when: shown next to it, never inside it). */
void snap_describe(const ProcSnap* s, char* buf, unsigned size);

/* The combined result of a group of processes (`brum -r GLOB`'s): counted one snapshot at a
 * time, described in one line. */
typedef struct SnapTally {
   unsigned total, ok, failed, running, waiting;
   unsigned stopped; /* stopped (or killed by brum) after it had started */
   unsigned not_run; /* idle, stopped while waiting, or held back by a failed dependency */
} SnapTally;
void snap_tally_add(SnapTally* t, const ProcSnap* s);
/* "build 3/3 ok"; "build 1/3 ok, 1 failed, 1 stopped, 1 not run"; "build 2 running, 1 waiting,
 * 1/4 done" (", 1 failed" after it when one has). Returns snprintf's count. */
int snap_tally_describe(const SnapTally* t, const char* name, char* buf, unsigned size);

#endif
