/* The one place that includes liburcu: the memb flavour (membarrier; no quiescent-state calls
 * needed), then the data structures. */
#ifndef BRUM_CORE_RCU_H
#define BRUM_CORE_RCU_H

/* Inline read-side fast paths, except under TSan: there they stay inside liburcu's shared
 * library, where the suppressions file can name them without naming brum's code. */
#if !defined(_LGPL_SOURCE) && !defined(BRUM_TSAN)
#define _LGPL_SOURCE
#endif
#define RCU_MEMBARRIER
#include <urcu.h> /* with the rcu_* names mapped to the flavour */
#include <urcu/wfcqueue.h>

/* Publication and reads of RCU pointers as C11-model atomics (release / acquire): the same
 * machine code on x86-64 and arm64 as liburcu 0.13's macros, but visible to ThreadSanitizer,
 * which cannot see liburcu's inline assembly. Grace periods and call_rcu stay liburcu's. */
#undef rcu_dereference
#define rcu_dereference(p) __atomic_load_n(&(p), __ATOMIC_ACQUIRE)
#undef rcu_assign_pointer
#define rcu_assign_pointer(p, v) __atomic_store_n(&(p), (v), __ATOMIC_RELEASE)
#undef rcu_xchg_pointer
#define rcu_xchg_pointer(pp, v) __atomic_exchange_n((pp), (v), __ATOMIC_ACQ_REL)

/* Happens-before edges TSan cannot infer (liburcu's wait-free queue uses inline assembly). */
#ifdef BRUM_TSAN
#include <sanitizer/tsan_interface.h>
#define BRUM_TSAN_RELEASE(addr) __tsan_release(addr)
#define BRUM_TSAN_ACQUIRE(addr) __tsan_acquire(addr)
#else
#define BRUM_TSAN_RELEASE(addr) ((void)(addr))
#define BRUM_TSAN_ACQUIRE(addr) ((void)(addr))
#endif

#endif
