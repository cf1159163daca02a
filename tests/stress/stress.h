/* A tiny harness for the standalone concurrency programs in tests/stress/ (no Criterion: its
 * BoxFort sandbox cannot run under ThreadSanitizer). Each program lists its cases; main runs
 * them in order on a registered RCU thread and ends with "N passed, N failed". */
#ifndef BRUM_TESTS_STRESS_H
#define BRUM_TESTS_STRESS_H

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "core/rcu.h"
#include "core/util.h"

typedef struct StressCase {
   const char* name;
   int (*run)(void); /* returns the number of failed checks */
} StressCase;

/* A check inside a case: counts into the case's local `fails` and says where. */
#define EXPECT(cond, ...)                                                                          \
   do {                                                                                            \
      if (!(cond)) {                                                                               \
         fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond);                  \
         fprintf(stderr, __VA_ARGS__);                                                             \
         fputc('\n', stderr);                                                                      \
         fails++;                                                                                  \
      }                                                                                            \
   } while (0)

static inline void stress_sleep_ms(long ms) {
   struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
   nanosleep(&ts, NULL);
}

/* Cheap per-thread pseudo-random numbers (LCG, upper bits). */
static inline uint64_t stress_rand(uint64_t* seed) {
   *seed = *seed * 6364136223846793005ull + 1442695040888963407ull;
   return *seed >> 17;
}

static inline int stress_main(const StressCase* cases, size_t n) {
   setvbuf(stdout, NULL, _IOLBF, 0);
   rcu_register_thread();
   int passed = 0, failed = 0;
   for (size_t i = 0; i < n; i++) {
      uint64_t t0 = util_mono_ns();
      int bad = cases[i].run();
      rcu_barrier(); /* reclaim what the case retired before the next one starts */
      double s = (double)(util_mono_ns() - t0) / 1e9;
      printf("%-40s %s (%.1f s)\n", cases[i].name, bad ? "FAILED" : "ok", s);
      if (bad)
         failed++;
      else
         passed++;
   }
   rcu_unregister_thread();
   printf("%d passed, %d failed\n", passed, failed);
   return failed ? 1 : 0;
}

#endif
