/* brum-bench: a small Go-style benchmark harness. Each benchmark is a function run with a growing
 * iteration count b->n until one run lasts --benchtime; then it is repeated --count times and the
 * median run is printed as `BenchmarkName/Case-THREADS  N  X ns/op  [Y MB/s]  B B/op  A allocs/op
 * [metrics]`. Allocations are counted per thread by wrapping malloc/calloc/realloc/free at link
 * time (-Wl,--wrap=...): only calls from brum's static libraries and the benchmark itself are seen,
 * not those made inside shared libraries (libc, liburcu, PCRE2). */
#ifndef BRUM_BENCH_H
#define BRUM_BENCH_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BENCH_MAX_METRICS 6

typedef struct BenchMetric {
   double value;
   const char* unit; /* static string, e.g. "lines/s" */
} BenchMetric;

typedef struct B {
   uint64_t n;     /* iterations to run */
   uint64_t lines; /* --lines: size of the big data sets (default 1,000,000) */
   /* timing: the harness starts it before run(); run() may reset/stop it around its own set-up */
   bool timing;
   uint64_t start_ns, elapsed_ns;
   uint64_t start_allocs, start_bytes; /* the calling thread's counters at the timer start */
   _Atomic uint64_t allocs, bytes;     /* accumulated by the timed threads */
   uint64_t bytes_per_op;              /* b_set_bytes: prints MB/s */
   BenchMetric metrics[BENCH_MAX_METRICS];
   int nmetrics;
} B;

typedef void (*BenchRun)(B* b, const void* param);

/* Registers a benchmark: full name without "Benchmark" prefix (e.g. "SnapRead/rcu/idle"), the
 * thread count printed as the suffix, the function and its (static) parameter. */
void bench_add(const char* name, int threads, BenchRun run, const void* param);

void b_reset_timer(B* b); /* restarts the clock and the allocation counters */
void b_stop_timer(B* b);
void b_start_timer(B* b);
void b_set_bytes(B* b, uint64_t bytes_per_op);
/* A custom metric (the last value for a unit wins). */
void b_metric(B* b, double value, const char* unit);

/* Runs fn(arg, tid, iters) on `threads` RCU-registered threads that share b->n iterations; the
 * timer covers exactly the span from their common start to the moment the last one finished, and
 * only their allocations are counted (what the caller did before is dropped). */
typedef void (*BenchParFn)(void* arg, int tid, uint64_t iters);
void b_run_parallel(B* b, int threads, BenchParFn fn, void* arg);

/* The calling thread's allocation counters (for threads a benchmark starts itself). */
uint64_t bench_thread_allocs(void);
uint64_t bench_thread_bytes(void);

/* RCU publication of a pointer: rcu_dereference / rcu_xchg_pointer, except under ThreadSanitizer,
 * which cannot see liburcu 0.13's inline asm (see core/logstore.c): there C11 acquire/acq_rel
 * atomics, the same plain load and xchg on x86. */
#ifdef BRUM_TSAN
#define BENCH_DEREF(p) atomic_load_explicit((__typeof__(p) _Atomic*)&(p), memory_order_acquire)
#define BENCH_XCHG(p, v)                                                                           \
   atomic_exchange_explicit((__typeof__(p) _Atomic*)&(p), (v), memory_order_acq_rel)
#else
#define BENCH_DEREF(p) rcu_dereference(p)
#define BENCH_XCHG(p, v) rcu_xchg_pointer(&(p), (v))
#endif

/* Small shared helpers. */
uint64_t bench_now_ns(void);
void bench_sink(uint64_t v); /* keeps a result alive */
/* ~100-byte log lines, every `colour_every`th coloured (0: none), deterministic: writes the line
 * without a newline to buf (size >= 512) and returns its length. Coloured lines mix 16-colour,
 * 256-colour and truecolor SGR. */
size_t bench_log_line(uint64_t i, unsigned colour_every, char* buf);

/* Groups (one file each). */
void bench_snapread_register(void);
void bench_registry_register(void);
void bench_store_register(void);
void bench_parse_register(void);
void bench_regex_register(void);
void bench_lineidx_register(void);
/* Free data shared between cases of a group (called before exit, RCU thread registered). */
void bench_store_cleanup(void);
void bench_parse_cleanup(void);
void bench_regex_cleanup(void);
/* --store-memory N: log store accounting for N retained flood lines (prints a report). */
int bench_store_memory(uint64_t lines);

/* Link-time malloc wrappers (see the top of this file). */
void* __real_malloc(size_t n);
void* __real_calloc(size_t n, size_t size);
void* __real_realloc(void* p, size_t n);
void __real_free(void* p);
void* __wrap_malloc(size_t n);
void* __wrap_calloc(size_t n, size_t size);
void* __wrap_realloc(void* p, size_t n);
void __wrap_free(void* p);

#endif
