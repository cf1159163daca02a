/* The filter engine: a worker thread that scans log stores with a compiled pattern and publishes
 * a match index with its progress, so a frame never waits for a scan, however long the log.
 *
 * The source is one process's log store (matches are its line numbers) or the All view's merged
 * index (sup_all_index; matches are LINEREFs in time order). Changing the pattern cancels the old
 * scan at once; new lines are matched as they arrive (filter_poke when the supervisor woke you). */
#ifndef BRUM_CORE_FILTER_H
#define BRUM_CORE_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/lineidx.h"
#include "core/regex.h"
#include "core/sup.h"

#define FILTER_ALL UINT64_MAX /* source: the All view */

/* What a frame reads: immutable apart from the atomics, RCU-published per filter_set. */
typedef struct FilterState {
   uint64_t gen;             /* increases with every filter_set */
   const Regex* re;          /* owned by the state */
   uint64_t source;          /* process id, or FILTER_ALL */
   LineIdx* matches;         /* owned: line numbers (one process) or LINEREFs (All) */
   _Atomic uint64_t scanned; /* source positions scanned so far (line number / All position) */
   _Atomic uint64_t total;   /* source end when last looked at (for "scanning 45%") */
   _Atomic uint64_t start;   /* source begin when the scan started */
   _Atomic bool caught_up;   /* the whole source so far has been scanned */
   _Atomic uint64_t too_expensive; /* lines PCRE2 gave up on (match limit): shown as no match */
} FilterState;

typedef struct Filter Filter;

/* Starts the worker. wake(ud) is called on the worker when the published results changed
 * (coalesce it, e.g. with uv_async_send). On failure nothing is left behind and *cause (owned by
 * the caller; NULL: not wanted) says why. */
int filter_new(Sup* sup, void (*wake)(void* ud), void* ud, Filter** out, char** cause);
void filter_free(Filter* f); /* stops and joins the worker; the last state goes to call_rcu */
/* Replaces the filter (re: owned from now on; NULL clears it) and publishes the new, empty
 * state at once. Never blocks. The caller is a registered RCU thread (the old state goes to
 * call_rcu), and only one thread calls it. */
void filter_set(Filter* f, Regex* re, uint64_t source);
/* New lines may have arrived: scan them. Never blocks; coalesces. */
void filter_poke(Filter* f);
/* Inside rcu_read_lock: the current state, NULL when no filter is set. */
const FilterState* filter_state(const Filter* f);

/* ---- find jobs: the next line that matches or is flagged, from a position, on the worker ---- */

/* Positions are those of the pane that asks: a process's line numbers, the All index's positions,
 * or (filter_gen set) positions in that filter's match list, so a hit scrolls the pane as is. */
typedef struct FindJob {
   uint64_t source;     /* process id, or FILTER_ALL */
   uint64_t filter_gen; /* 0: the whole source; else the FilterState of this gen (its source must
                           be `source`) and positions in its matches: finds among shown lines */
   uint64_t from;       /* where to start (clamped to the source's ends) */
   bool inclusive;      /* `from` itself is a candidate */
   int dir;             /* +1 down (newer lines), -1 up (older) */
   Regex* re;           /* owned by the job from filter_find on; NULL: any text */
   uint16_t flags;      /* LINE_ERROR | LINE_WARNING ...: a hit has one of them; 0: any line */
} FindJob;

/* A hit is a non-marker line that matches re (if any) and has one of flags (if any). Going down
 * the job stops at the source's end as it was when the job started (a filtered job: once the
 * filter has scanned that far); going up at the oldest retained line. */
typedef struct FindState {
   uint64_t gen;             /* filter_find's return value */
   FindJob job;              /* as given; job.re owned by the state */
   _Atomic uint64_t scanned; /* positions looked at so far (load it before total) */
   _Atomic uint64_t total;   /* scanned + positions still to look at ("searching 45%") */
   _Atomic uint64_t pos;     /* the hit, when found */
   _Atomic bool found;
   _Atomic bool evicted;   /* positions still to look at were dropped by retention first */
   _Atomic bool cancelled; /* replaced, cancelled, or job.filter_gen is no longer published */
   _Atomic bool done;      /* stored last (release): found, pos and evicted are final */
} FindState;

/* Publishes a new find job at once and returns its generation (> 0); the previous job, running
 * or not, is cancelled (a slow pattern stops after at most one line). Never blocks. The caller
 * is a registered RCU thread, the only one that calls filter_set/filter_find/filter_find_cancel.
 * wake(ud) is called when the job finishes or its progress moves. */
uint64_t filter_find(Filter* f, const FindJob* job);
void filter_find_cancel(Filter* f); /* publishes no job */
/* Inside rcu_read_lock: the current find job, NULL when none. */
const FindState* filter_find_state(const Filter* f);
/* Is `l` a hit for `job`: not a marker, one of job->flags (if any), matches job->re (if any)? */
bool filter_find_hit(const FindJob* job, RegexScratch* sc, const LogLine* l);

/* ---- tests and benchmarks ---- */
/* A filter whose source 0 is `ls` (borrowed, must outlive it) instead of a supervisor's process. */
int filter_new_store(const LogStore* ls, void (*wake)(void* ud), void* ud, Filter** out,
                     char** cause);
/* The scanning core on the calling thread, inside its rcu_read_lock: pushes the numbers of the
 * lines in [from, to) that match (marker lines never do) to `matches`; returns the next line. */
uint64_t filter_scan_store(const Regex* re, RegexScratch* sc, const LogStore* ls, uint64_t from,
                           uint64_t to, LineIdx* matches);
/* FilterStates not yet reclaimed, process-wide (a state is freed a grace period after it is
 * replaced). */
size_t filter_live_states(void);
size_t filter_live_finds(void); /* FindStates not yet reclaimed, process-wide */

#endif
