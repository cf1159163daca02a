/* Group 1: reading a process's state (a brum ProcSnap) from other threads, five ways:
 *  mutex   pthread mutex around a pointer to the current snapshot
 *  rwlock  pthread rwlock, readers take the read lock
 *  msg     message passing: a server thread owns the snapshot; a reader sends a request through a
 *          mutex+condvar queue and waits on a semaphore for the reply (a copy of the snapshot),
 *          as a request/reply pair of Go channels would
 *  atomic  C11 acquire load of an immutable snapshot pointer (replaced snapshots are retired to a
 *          list freed after the run: the stand-in for Go's garbage collector)
 *  rcu     rcu_read_lock + rcu_dereference + rcu_read_unlock (brum's choice), call_rcu reclaims
 * Cases: idle (no writer) with 1, 2, 4, 10 readers; writer: a thread publishes a new snapshot
 * every 1 us while 1 or 4 readers read (the writer's cost per publish is reported); and the
 * publish cost alone (SnapPublish). */
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench.h"
#include "core/snap.h"

#define SNAP_DEREF BENCH_DEREF
#define SNAP_XCHG BENCH_XCHG

typedef enum Method { M_MUTEX, M_RWLOCK, M_MSG, M_ATOMIC, M_RCU, M_COUNT } Method;
static const char* const method_names[M_COUNT] = {"mutex", "rwlock", "msg", "atomic", "rcu"};

typedef struct SnapParam {
   Method m;
   int readers;
   bool writer;
} SnapParam;

enum { REQ_READ, REQ_SET, REQ_STOP };
typedef struct Req {
   struct Req* next;
   int kind;
   ProcSnap* set;  /* REQ_SET: the new snapshot (owned by the server from then on) */
   ProcSnap reply; /* REQ_READ: a copy of the current snapshot */
   sem_t done;
} Req;

typedef struct Shared {
   Method m;
   pthread_mutex_t mu;
   pthread_rwlock_t rw;
   ProcSnap* cur;           /* mutex, rwlock: under the lock; rcu: RCU */
   _Atomic(ProcSnap*) atom; /* atomic */
   /* msg */
   pthread_mutex_t qmu;
   pthread_cond_t qcv;
   Req *head, *tail;
   pthread_t server;
   ProcSnap* owned; /* the server's snapshot */
   /* writer */
   _Atomic bool stop;
   pthread_t writer;
   uint64_t pubs, pub_ns;
   ProcSnap** retired; /* atomic: snapshots replaced during the run */
   size_t nretired, capretired;
} Shared;

static inline uint64_t snap_read(const ProcSnap* s) {
   return s->lines + s->errors + (uint64_t)s->state + (uint64_t)s->pid;
}

/* ---------------------------------------------------------------- message passing */

static void q_push(Shared* sh, Req* r) {
   r->next = NULL;
   pthread_mutex_lock(&sh->qmu);
   if (sh->tail)
      sh->tail->next = r;
   else
      sh->head = r;
   sh->tail = r;
   pthread_cond_signal(&sh->qcv);
   pthread_mutex_unlock(&sh->qmu);
}

static void* server_main(void* p) {
   Shared* sh = p;
   for (;;) {
      pthread_mutex_lock(&sh->qmu);
      while (!sh->head) pthread_cond_wait(&sh->qcv, &sh->qmu);
      Req* batch = sh->head;
      sh->head = sh->tail = NULL;
      pthread_mutex_unlock(&sh->qmu);
      while (batch) {
         Req* r = batch;
         batch = r->next;
         switch (r->kind) {
         case REQ_READ:
            r->reply = *sh->owned;
            sem_post(&r->done);
            break;
         case REQ_SET:
            free(sh->owned);
            sh->owned = r->set;
            free(r);
            break;
         default:
            sem_post(&r->done);
            return NULL;
         }
      }
   }
}

static uint64_t msg_read(Shared* sh) {
   Req r;
   r.kind = REQ_READ;
   sem_init(&r.done, 0, 0);
   q_push(sh, &r);
   while (sem_wait(&r.done) != 0) {
   }
   sem_destroy(&r.done);
   return snap_read(&r.reply);
}

/* ---------------------------------------------------------------- set-up */

static ProcSnap* make_snap(uint64_t lines) {
   ProcSnap* s = snap_new(NULL, "");
   s->id = 1;
   s->state = PROC_RUNNING;
   s->pid = 4242;
   s->lines = lines;
   return s;
}

static void shared_init(Shared* sh, Method m) {
   memset(sh, 0, sizeof *sh);
   sh->m = m;
   pthread_mutex_init(&sh->mu, NULL);
   pthread_rwlock_init(&sh->rw, NULL);
   pthread_mutex_init(&sh->qmu, NULL);
   pthread_cond_init(&sh->qcv, NULL);
   atomic_init(&sh->stop, false);
   ProcSnap* s = make_snap(0);
   atomic_init(&sh->atom, NULL);
   switch (m) {
   case M_ATOMIC:
      atomic_store_explicit(&sh->atom, s, memory_order_release);
      break;
   case M_MSG:
      sh->owned = s;
      if (pthread_create(&sh->server, NULL, server_main, sh) != 0) abort();
      break;
   default:
      sh->cur = s;
      break;
   }
}

static void shared_done(Shared* sh) {
   switch (sh->m) {
   case M_ATOMIC:
      free(atomic_load(&sh->atom));
      for (size_t i = 0; i < sh->nretired; i++) free(sh->retired[i]);
      free(sh->retired);
      break;
   case M_MSG: {
      Req r = {.kind = REQ_STOP};
      sem_init(&r.done, 0, 0);
      q_push(sh, &r);
      while (sem_wait(&r.done) != 0) {
      }
      sem_destroy(&r.done);
      pthread_join(sh->server, NULL);
      free(sh->owned);
      break;
   }
   case M_RCU: {
      ProcSnap* s = SNAP_XCHG(sh->cur, NULL);
      call_rcu(&s->rcu, snap_free_rcu);
      break;
   }
   default:
      free(sh->cur);
      break;
   }
   pthread_mutex_destroy(&sh->mu);
   pthread_rwlock_destroy(&sh->rw);
   pthread_mutex_destroy(&sh->qmu);
   pthread_cond_destroy(&sh->qcv);
}

/* ---------------------------------------------------------------- readers and writer */

static void reader(void* arg, int tid, uint64_t n) {
   (void)tid;
   Shared* sh = arg;
   uint64_t acc = 0;
   switch (sh->m) {
   case M_MUTEX:
      for (uint64_t i = 0; i < n; i++) {
         pthread_mutex_lock(&sh->mu);
         acc += snap_read(sh->cur);
         pthread_mutex_unlock(&sh->mu);
      }
      break;
   case M_RWLOCK:
      for (uint64_t i = 0; i < n; i++) {
         pthread_rwlock_rdlock(&sh->rw);
         acc += snap_read(sh->cur);
         pthread_rwlock_unlock(&sh->rw);
      }
      break;
   case M_MSG:
      for (uint64_t i = 0; i < n; i++) acc += msg_read(sh);
      break;
   case M_ATOMIC:
      for (uint64_t i = 0; i < n; i++) {
         acc += snap_read(atomic_load_explicit(&sh->atom, memory_order_acquire));
      }
      break;
   case M_RCU:
      for (uint64_t i = 0; i < n; i++) {
         rcu_read_lock();
         acc += snap_read(SNAP_DEREF(sh->cur));
         rcu_read_unlock();
      }
      break;
   default:
      break;
   }
   bench_sink(acc);
}

/* One publish of a fresh snapshot (the writer's cost: allocation, publication, reclamation). */
static void publish(Shared* sh, uint64_t lines) {
   ProcSnap* next = make_snap(lines);
   switch (sh->m) {
   case M_MUTEX: {
      pthread_mutex_lock(&sh->mu);
      ProcSnap* old = sh->cur;
      sh->cur = next;
      pthread_mutex_unlock(&sh->mu);
      free(old);
      break;
   }
   case M_RWLOCK: {
      pthread_rwlock_wrlock(&sh->rw);
      ProcSnap* old = sh->cur;
      sh->cur = next;
      pthread_rwlock_unlock(&sh->rw);
      free(old);
      break;
   }
   case M_MSG: {
      Req* r = malloc(sizeof *r);
      if (!r) abort();
      r->kind = REQ_SET;
      r->set = next;
      q_push(sh, r);
      break;
   }
   case M_ATOMIC: {
      ProcSnap* old = atomic_exchange_explicit(&sh->atom, next, memory_order_acq_rel);
      if (sh->nretired == sh->capretired) {
         sh->capretired = sh->capretired ? sh->capretired * 2 : 4096;
         sh->retired = realloc(sh->retired, sh->capretired * sizeof *sh->retired);
         if (!sh->retired) abort();
      }
      sh->retired[sh->nretired++] = old;
      break;
   }
   case M_RCU: {
      ProcSnap* old = SNAP_XCHG(sh->cur, next);
      call_rcu(&old->rcu, snap_free_rcu);
      break;
   }
   default:
      break;
   }
}

static void* writer_main(void* p) {
   Shared* sh = p;
   rcu_register_thread();
   uint64_t lines = 0, next = bench_now_ns();
   while (!atomic_load_explicit(&sh->stop, memory_order_relaxed)) {
      next += 1000; /* every 1 us */
      uint64_t now;
      while ((now = bench_now_ns()) < next) sched_yield();
      if (now > next + 1000000) next = now; /* descheduled: do not burst to catch up */
      publish(sh, ++lines);
      sh->pub_ns += bench_now_ns() - now;
      sh->pubs++;
   }
   rcu_unregister_thread();
   return NULL;
}

static void run_read(B* b, const void* param) {
   const SnapParam* p = param;
   Shared sh;
   shared_init(&sh, p->m);
   uint64_t w0 = 0;
   if (p->writer) {
      w0 = bench_now_ns();
      if (pthread_create(&sh.writer, NULL, writer_main, &sh) != 0) abort();
   }
   b_run_parallel(b, p->readers, reader, &sh);
   if (p->writer) {
      atomic_store(&sh.stop, true);
      pthread_join(sh.writer, NULL);
      double secs = (double)(bench_now_ns() - w0) / 1e9;
      if (sh.pubs) b_metric(b, (double)sh.pub_ns / (double)sh.pubs, "writer-ns/publish");
      b_metric(b, (double)sh.pubs / secs, "publishes/s");
   }
   shared_done(&sh);
}

/* The publish cost alone, on this thread, no readers. */
static void run_publish(B* b, const void* param) {
   const SnapParam* p = param;
   Shared sh;
   shared_init(&sh, p->m);
   b_reset_timer(b);
   for (uint64_t i = 0; i < b->n; i++) publish(&sh, i);
   b_stop_timer(b);
   shared_done(&sh);
}

static SnapParam params[M_COUNT][7];
static SnapParam pub_params[M_COUNT];

void bench_snapread_register(void) {
   static const int idle_readers[] = {1, 2, 4, 10};
   static const int writer_readers[] = {1, 4};
   char name[128];
   for (int m = 0; m < M_COUNT; m++) {
      int k = 0;
      for (int i = 0; i < 4; i++) {
         params[m][k] = (SnapParam){(Method)m, idle_readers[i], false};
         snprintf(name, sizeof name, "SnapRead/%s/idle", method_names[m]);
         bench_add(name, idle_readers[i], run_read, &params[m][k++]);
      }
      for (int i = 0; i < 2; i++) {
         params[m][k] = (SnapParam){(Method)m, writer_readers[i], true};
         snprintf(name, sizeof name, "SnapRead/%s/writer1us", method_names[m]);
         bench_add(name, writer_readers[i], run_read, &params[m][k++]);
      }
   }
   /* publishing without readers; atomic and msg have no bounded reclamation to measure alone */
   static const Method pubs[] = {M_MUTEX, M_RWLOCK, M_RCU};
   for (size_t i = 0; i < sizeof pubs / sizeof pubs[0]; i++) {
      pub_params[pubs[i]] = (SnapParam){pubs[i], 0, false};
      snprintf(name, sizeof name, "SnapPublish/%s", method_names[pubs[i]]);
      bench_add(name, 1, run_publish, &pub_params[pubs[i]]);
   }
}
