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
 * (coalesce it, e.g. with uv_async_send). */
Filter* filter_new(Sup* sup, void (*wake)(void* ud), void* ud);
void filter_free(Filter* f); /* stops and joins the worker; the last state goes to call_rcu */
/* Replaces the filter (re: owned from now on; NULL clears it) and publishes the new, empty
 * state at once. Never blocks. The caller is a registered RCU thread (the old state goes to
 * call_rcu), and only one thread calls it. */
void filter_set(Filter* f, Regex* re, uint64_t source);
/* New lines may have arrived: scan them. Never blocks; coalesces. */
void filter_poke(Filter* f);
/* Inside rcu_read_lock: the current state, NULL when no filter is set. */
const FilterState* filter_state(const Filter* f);

/* ---- tests and benchmarks ---- */
/* A filter whose source 0 is `ls` (borrowed, must outlive it) instead of a supervisor's process. */
Filter* filter_new_store(const LogStore* ls, void (*wake)(void* ud), void* ud);
/* The scanning core on the calling thread, inside its rcu_read_lock: pushes the numbers of the
 * lines in [from, to) that match (marker lines never do) to `matches`; returns the next line. */
uint64_t filter_scan_store(const Regex* re, RegexScratch* sc, const LogStore* ls, uint64_t from,
                           uint64_t to, LineIdx* matches);
/* FilterStates not yet reclaimed, process-wide (a state is freed a grace period after it is
 * replaced). */
size_t filter_live_states(void);

#endif
