/* An append-only index of 64-bit values (line numbers or line references) with one writer and
 * lock-free readers, chunked like the log store so positions stay valid as old chunks are
 * evicted. Used for the All view's merged order and for filter match lists. Values that go on
 * as value + 1 (a process's burst of lines, consecutive matches) are stored as runs, a few bytes
 * per run rather than 8 per value. Reader calls must be inside an RCU read-side section; evicted
 * and replaced chunks are reclaimed with call_rcu. */
#ifndef BRUM_CORE_LINEIDX_H
#define BRUM_CORE_LINEIDX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A reference to one line of one process: process id in the top 16 bits, line number below. */
#define LINEREF(proc, lineno) (((uint64_t)(proc) << 48) | ((uint64_t)(lineno)&0xffffffffffffull))
#define LINEREF_PROC(ref) ((uint64_t)(ref) >> 48)
#define LINEREF_LINE(ref) ((uint64_t)(ref)&0xffffffffffffull)

typedef struct LineIdx LineIdx;

LineIdx* lineidx_new(uint64_t max_entries); /* retention bound; oldest chunks go first */
void lineidx_free(LineIdx* ix);             /* no readers left (or from call_rcu) */

/* writer (one thread) */
void lineidx_push(LineIdx* ix, uint64_t value);
/* Changes the retention bound (a filter's matches follow their source's retention). */
void lineidx_set_max(LineIdx* ix, uint64_t max_entries);
/* Bytes the index holds now (its chunks and directory), for tests and benchmarks; on the
 * writer's thread. */
size_t lineidx_mem(const LineIdx* ix);

/* readers (inside rcu_read_lock) */
uint64_t lineidx_begin(const LineIdx* ix); /* first retained position */
uint64_t lineidx_end(const LineIdx* ix);   /* one past the last published position */
bool lineidx_get(const LineIdx* ix, uint64_t pos, uint64_t* value);
/* The value at pos, and how many positions after it (below the end, in pos's chunk) hold
 * value + 1, value + 2, ...: a walk can take a run at once. False where lineidx_get is. */
bool lineidx_get_run(const LineIdx* ix, uint64_t pos, uint64_t* value, uint64_t* n_following);
/* The last position whose value is <= v (values are pushed in increasing order for match lists);
 * false when none. Binary search, for "which match is at or above this line". */
bool lineidx_find_le(const LineIdx* ix, uint64_t v, uint64_t* pos);

#endif
