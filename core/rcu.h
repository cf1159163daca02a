/* The one place that includes liburcu (the memb flavour: membarrier, no quiescent-state calls
 * needed, then the data structures), and brum's one way to publish and read RCU pointers.
 *
 * An RCU pointer is a plain pointer field commented "RCU". Only these three touch it:
 *   rcu_publish(&p, v)  makes v visible: a reader that loads v sees everything written to *v
 *                       before (store-release). For a pointer with nothing to retire.
 *   rcu_swap(&p, v)     the same, and returns the old pointer, to retire with call_rcu
 *                       (exchange, acquire-release).
 *   rcu_read(&p)        the current pointer (load-acquire); dereference it only inside
 *                       rcu_read_lock, or on the thread that publishes it.
 * Grace periods (rcu_read_lock, call_rcu, rcu_barrier) are liburcu's.
 *
 * Why not liburcu's rcu_assign_pointer / rcu_xchg_pointer / rcu_dereference: liburcu 0.13
 * implements them with inline assembly and volatile accesses that ThreadSanitizer cannot see, so
 * every publication would be reported as a race. C11-model release/acquire atomics give the same
 * ordering with the same machine code on x86-64 and arm64 (liburcu 0.14 does the same with
 * atomic builtins), and TSan understands them. Acquire rather than consume costs nothing on
 * x86-64 and one ldar on arm64. */
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

#define rcu_publish(pp, v) __atomic_store_n((pp), (v), __ATOMIC_RELEASE)
#define rcu_swap(pp, v) __atomic_exchange_n((pp), (v), __ATOMIC_ACQ_REL)
#define rcu_read(pp) __atomic_load_n((pp), __ATOMIC_ACQUIRE)

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
