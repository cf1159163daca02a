/* Group: the line index (core/lineidx.c), which keeps runs of consecutive values. Three shapes
 * of the All view's order: one process's burst (one run per chunk), runs of 8 lines from two
 * processes taking turns (512 runs per 4096-entry chunk), and two processes alternating line
 * by line (dense chunks). Cases: push (the supervisor's cost per line; `B/entry` is what the
 * index holds per entry kept, at the default retention of 100,000), get (a lookup per position,
 * as the filter worker and a frame do), walk (lineidx_get_run, a run at a time, as headless
 * printing does; ns per position). */
#include "bench/bench.h"
#include "core/lineidx.h"
#include "core/rcu.h"

#define KEEP 100000u

typedef enum Shape { BURST, RUNS8, ALTERNATE } Shape;

static uint64_t shape_value(Shape s, uint64_t i) {
   switch (s) {
   case BURST:
      return LINEREF(1, i);
   case RUNS8:
      return LINEREF((i >> 3) & 1, i);
   default:
      return LINEREF(i & 1, i >> 1);
   }
}

static void run_push(B* b, const void* param) {
   Shape s = *(const Shape*)param;
   LineIdx* ix = lineidx_new(KEEP);
   for (uint64_t i = 0; i < b->n; i++) lineidx_push(ix, shape_value(s, i));
   b_stop_timer(b);
   rcu_read_lock();
   uint64_t kept = lineidx_end(ix) - lineidx_begin(ix);
   rcu_read_unlock();
   b_metric(b, kept ? (double)lineidx_mem(ix) / (double)kept : 0, "B/entry");
   rcu_barrier();
   lineidx_free(ix);
}

/* An index of KEEP + a chunk entries of shape s, outside the timer. */
static LineIdx* filled(B* b, Shape s) {
   b_stop_timer(b);
   LineIdx* ix = lineidx_new(KEEP);
   for (uint64_t i = 0; i < KEEP + 4096; i++) lineidx_push(ix, shape_value(s, i));
   b_start_timer(b);
   return ix;
}

static void run_get(B* b, const void* param) {
   LineIdx* ix = filled(b, *(const Shape*)param);
   rcu_read_lock();
   uint64_t beg = lineidx_begin(ix), len = lineidx_end(ix) - beg, sum = 0, v;
   for (uint64_t i = 0, p = 0; i < b->n; i++, p = p + 1 < len ? p + 1 : 0)
      if (lineidx_get(ix, beg + p, &v)) sum += v;
   rcu_read_unlock();
   b_stop_timer(b);
   bench_sink(sum);
   lineidx_free(ix);
}

static void run_walk(B* b, const void* param) {
   LineIdx* ix = filled(b, *(const Shape*)param);
   rcu_read_lock();
   uint64_t beg = lineidx_begin(ix), end = lineidx_end(ix), sum = 0, v, more;
   for (uint64_t done = 0, p = beg; done < b->n;) {
      if (p >= end || !lineidx_get_run(ix, p, &v, &more)) {
         p = beg;
         continue;
      }
      if (more >= b->n - done) more = b->n - done - 1;
      sum += v + more;
      p += more + 1;
      done += more + 1;
   }
   rcu_read_unlock();
   b_stop_timer(b);
   bench_sink(sum);
   lineidx_free(ix);
}

void bench_lineidx_register(void) {
   static const Shape shapes[] = {BURST, RUNS8, ALTERNATE};
   static const char* const names[][3] = {
       {"LineIdx/push/burst", "LineIdx/get/burst", "LineIdx/walk/burst"},
       {"LineIdx/push/runs8", "LineIdx/get/runs8", "LineIdx/walk/runs8"},
       {"LineIdx/push/alternate", "LineIdx/get/alternate", "LineIdx/walk/alternate"},
   };
   for (int i = 0; i < 3; i++) {
      bench_add(names[i][0], 1, run_push, &shapes[i]);
      bench_add(names[i][1], 1, run_get, &shapes[i]);
      bench_add(names[i][2], 1, run_walk, &shapes[i]);
   }
}
