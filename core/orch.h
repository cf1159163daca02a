/* The parts of orchestration that are pure functions of their arguments, so tests need no clock:
 * the restart backoff. The state machine that uses them is core/orch.c. */
#ifndef BRUM_CORE_ORCH_H
#define BRUM_CORE_ORCH_H

#include <stdint.h>

#define ORCH_BACKOFF_MAX_S 30.0     /* the doubling stops here */
#define ORCH_BACKOFF_RESET_MS 10000 /* a run up this long starts the doubling again */

typedef struct OrchBackoff {
   uint64_t delay_ms; /* wait this long before the restart */
   unsigned streak;   /* the next call's streak */
} OrchBackoff;

/* The delay before restarting a process whose run ended after up_ms, when `streak` restarts in a
 * row came before it (0: none): first_s (<= 0: 1 s), doubled per restart in the streak, capped at
 * ORCH_BACKOFF_MAX_S (or first_s when that is larger); a run up ORCH_BACKOFF_RESET_MS or longer
 * starts a new streak. */
OrchBackoff orch_backoff(double first_s, unsigned streak, uint64_t up_ms);

#endif
