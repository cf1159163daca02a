/* Group 2: the process registry (brum's ProcSlot entries, each with a published ProcSnap).
 * Operations: lookup by name, and a full iteration reading every process's snapshot (what the
 * sidebar does each frame). Structures:
 *  mutexmap         pthread mutex + an open-addressing hash map (linear probing, FNV-1a,
 *                   backward-shift deletion)
 *  lfht             liburcu's lock-free resizable hash table (cds_lfht), reads under rcu_read_lock
 *  rcuarray-scan    an RCU-published immutable array (brum's Registry), linear scan by name
 *  rcuarray-bsearch the same array plus a name-sorted index in the same allocation, binary search
 * Sizes 8, 64, 1024; 0, 1 or 2 writer threads each adding then removing a process, pausing about
 * 10 us between changes (brum changes its registry a few times per session; this is thousands of
 * times more often). Two reader threads (one per core, like Go's RunParallel). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>

#include "bench/bench.h"
#include "core/sup.h"
/* after core/rcu.h (through core/sup.h), as DESIGN.md requires */
#include <urcu/rculfhash.h>

typedef enum Kind { K_MUTEXMAP, K_LFHT, K_SCAN, K_BSEARCH, K_COUNT } Kind;
static const char* const kind_names[K_COUNT] = {"mutexmap", "lfht", "rcuarray-scan",
                                                "rcuarray-bsearch"};
enum { OP_LOOKUP, OP_ITERATE };

typedef struct RegParam {
   Kind kind;
   int op;
   unsigned n;
   int writers;
} RegParam;

static uint64_t fnv1a(const char* s) {
   uint64_t h = 0xcbf29ce484222325ull;
   for (; *s; s++) h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
   return h;
}

static inline uint64_t slot_read(const ProcSlot* s) {
   const ProcSnap* snap = BENCH_DEREF(((ProcSlot*)s)->snap);
   return (uint64_t)snap->state + snap->lines + s->id;
}

/* ---------------------------------------------------------------- mutex + hash map */

typedef struct MEnt {
   uint64_t hash;
   ProcSlot* slot; /* borrowed; NULL: empty */
} MEnt;

typedef struct MMap {
   pthread_mutex_t mu;
   size_t mask, n;
   MEnt* ents;
} MMap;

static void mmap_init(MMap* m, size_t max) {
   size_t cap = 16;
   while (cap < 2 * max) cap *= 2;
   pthread_mutex_init(&m->mu, NULL);
   m->mask = cap - 1;
   m->n = 0;
   m->ents = calloc(cap, sizeof *m->ents);
   if (!m->ents) abort();
}

static void mmap_put(MMap* m, ProcSlot* s) {
   uint64_t h = fnv1a(s->name);
   size_t i = h & m->mask;
   while (m->ents[i].slot) i = (i + 1) & m->mask;
   m->ents[i] = (MEnt){h, s};
   m->n++;
}

static ProcSlot* mmap_get(const MMap* m, const char* name) {
   uint64_t h = fnv1a(name);
   for (size_t i = h & m->mask; m->ents[i].slot; i = (i + 1) & m->mask) {
      if (m->ents[i].hash == h && strcmp(m->ents[i].slot->name, name) == 0) return m->ents[i].slot;
   }
   return NULL;
}

static void mmap_del(MMap* m, const char* name) {
   uint64_t h = fnv1a(name);
   size_t i = h & m->mask;
   for (; m->ents[i].slot; i = (i + 1) & m->mask) {
      if (m->ents[i].hash == h && strcmp(m->ents[i].slot->name, name) == 0) break;
   }
   if (!m->ents[i].slot) return;
   /* backward-shift deletion keeps probe sequences intact without tombstones */
   size_t j = i;
   for (;;) {
      m->ents[i].slot = NULL;
      for (;;) {
         j = (j + 1) & m->mask;
         if (!m->ents[j].slot) {
            m->n--;
            return;
         }
         size_t k = m->ents[j].hash & m->mask;
         if (i <= j ? (i < k && k <= j) : (i < k || k <= j)) continue;
         break;
      }
      m->ents[i] = m->ents[j];
      i = j;
   }
}

/* ---------------------------------------------------------------- cds_lfht */

typedef struct LNode {
   struct cds_lfht_node node;
   ProcSlot* slot; /* borrowed */
   struct rcu_head rcu;
} LNode;

static int lnode_match(struct cds_lfht_node* node, const void* key) {
   const LNode* ln = caa_container_of(node, LNode, node);
   return strcmp(ln->slot->name, key) == 0;
}

static void lnode_free_rcu(struct rcu_head* h) {
   free(caa_container_of(h, LNode, rcu));
}

static void lfht_put(struct cds_lfht* ht, ProcSlot* s) {
   LNode* ln = malloc(sizeof *ln);
   if (!ln) abort();
   cds_lfht_node_init(&ln->node);
   ln->slot = s;
   rcu_read_lock();
   cds_lfht_add(ht, fnv1a(s->name), &ln->node);
   rcu_read_unlock();
}

static void lfht_del(struct cds_lfht* ht, const char* name) {
   struct cds_lfht_iter it;
   rcu_read_lock();
   cds_lfht_lookup(ht, fnv1a(name), lnode_match, name, &it);
   struct cds_lfht_node* node = cds_lfht_iter_get_node(&it);
   if (node && cds_lfht_del(ht, node) == 0) {
      call_rcu(&caa_container_of(node, LNode, node)->rcu, lnode_free_rcu);
   }
   rcu_read_unlock();
}

/* ---------------------------------------------------------------- RCU-published array */

/* One allocation: rcu head, the name-sorted index, then brum's Registry (flexible array last). */
typedef struct RArr {
   struct rcu_head rcu;
   ProcSlot** sorted; /* points into this block, after reg.slots */
   Registry reg;
} RArr;

static RArr* rarr_alloc(size_t n) {
   RArr* a = malloc(sizeof(RArr) + 2 * (n ? n : 1) * sizeof(ProcSlot*));
   if (!a) abort();
   a->reg.n = n;
   a->sorted = a->reg.slots + n;
   return a;
}

static void rarr_free_rcu(struct rcu_head* h) {
   free(caa_container_of(h, RArr, rcu));
}

static int cmp_name(const char* a, const ProcSlot* s) {
   return strcmp(a, s->name);
}

/* Copy of `old` plus `add` (or minus the slot named `del`). */
static RArr* rarr_with(const RArr* old, ProcSlot* add, const char* del) {
   size_t n = old->reg.n;
   RArr* a = rarr_alloc(add ? n + 1 : n - 1);
   size_t k = 0, ks = 0;
   for (size_t i = 0; i < n; i++) {
      if (del && strcmp(old->reg.slots[i]->name, del) == 0) continue;
      a->reg.slots[k++] = old->reg.slots[i];
   }
   if (add) a->reg.slots[k++] = add;
   bool placed = !add;
   for (size_t i = 0; i < n; i++) {
      ProcSlot* s = old->sorted[i];
      if (del && strcmp(s->name, del) == 0) continue;
      if (!placed && cmp_name(add->name, s) < 0) {
         a->sorted[ks++] = add;
         placed = true;
      }
      a->sorted[ks++] = s;
   }
   if (!placed) a->sorted[ks++] = add;
   a->reg.n = k;
   return a;
}

static ProcSlot* rarr_scan(const RArr* a, const char* name) {
   for (size_t i = 0; i < a->reg.n; i++) {
      if (strcmp(a->reg.slots[i]->name, name) == 0) return a->reg.slots[i];
   }
   return NULL;
}

static ProcSlot* rarr_bsearch(const RArr* a, const char* name) {
   size_t lo = 0, hi = a->reg.n;
   while (lo < hi) {
      size_t mid = lo + (hi - lo) / 2;
      int c = cmp_name(name, a->sorted[mid]);
      if (c == 0) return a->sorted[mid];
      if (c < 0)
         hi = mid;
      else
         lo = mid + 1;
   }
   return NULL;
}

/* ---------------------------------------------------------------- the shared registry */

typedef struct Reg {
   const RegParam* p;
   ProcSlot* slots; /* owned: the n base processes, then 2 per writer */
   char (*names)[32];
   size_t nslots;
   const char** queries; /* owned copies of the names, shuffled */
   size_t nqueries;
   MMap mm;
   struct cds_lfht* ht;
   RArr* arr;           /* RCU */
   pthread_mutex_t wmu; /* serialises rcuarray writers (brum has one writer thread) */
   _Atomic bool stop;
   _Atomic uint64_t writes;
} Reg;

static void reg_add(Reg* r, ProcSlot* s) {
   switch (r->p->kind) {
   case K_MUTEXMAP:
      pthread_mutex_lock(&r->mm.mu);
      mmap_put(&r->mm, s);
      pthread_mutex_unlock(&r->mm.mu);
      break;
   case K_LFHT:
      lfht_put(r->ht, s);
      break;
   default: {
      pthread_mutex_lock(&r->wmu);
      RArr* next = rarr_with(r->arr, s, NULL);
      RArr* old = BENCH_XCHG(r->arr, next);
      pthread_mutex_unlock(&r->wmu);
      call_rcu(&old->rcu, rarr_free_rcu);
      break;
   }
   }
}

static void reg_del(Reg* r, const char* name) {
   switch (r->p->kind) {
   case K_MUTEXMAP:
      pthread_mutex_lock(&r->mm.mu);
      mmap_del(&r->mm, name);
      pthread_mutex_unlock(&r->mm.mu);
      break;
   case K_LFHT:
      lfht_del(r->ht, name);
      break;
   default: {
      pthread_mutex_lock(&r->wmu);
      RArr* next = rarr_with(r->arr, NULL, name);
      RArr* old = BENCH_XCHG(r->arr, next);
      pthread_mutex_unlock(&r->wmu);
      call_rcu(&old->rcu, rarr_free_rcu);
      break;
   }
   }
}

static void reg_init(Reg* r, const RegParam* p) {
   memset(r, 0, sizeof *r);
   r->p = p;
   atomic_init(&r->stop, false);
   atomic_init(&r->writes, 0);
   pthread_mutex_init(&r->wmu, NULL);
   r->nslots = p->n + 2u * (unsigned)p->writers;
   r->slots = calloc(r->nslots, sizeof *r->slots);
   r->names = calloc(r->nslots, sizeof *r->names);
   if (!r->slots || !r->names) abort();
   for (size_t i = 0; i < r->nslots; i++) {
      /* workspace-style names: "app-017:dev" */
      static const char* const scripts[] = {"dev", "build", "test", "lint", "watch", "storybook"};
      if (i < p->n)
         snprintf(r->names[i], 32, "app-%03zu:%s", i / 6, scripts[i % 6]);
      else
         snprintf(r->names[i], 32, "extra-%zu:dev", i - p->n);
      r->slots[i].id = i;
      r->slots[i].name = r->names[i];
      r->slots[i].snap = snap_new(NULL, "");
      r->slots[i].snap->state = PROC_RUNNING;
   }
   r->nqueries = 1024;
   r->queries = calloc(r->nqueries, sizeof *r->queries);
   if (!r->queries) abort();
   uint64_t x = 88172645463325252ull;
   for (size_t i = 0; i < r->nqueries; i++) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      char* q = malloc(32);
      if (!q) abort();
      memcpy(q, r->names[x % p->n], 32);
      r->queries[i] = q;
   }
   switch (p->kind) {
   case K_MUTEXMAP:
      mmap_init(&r->mm, r->nslots);
      for (size_t i = 0; i < p->n; i++) mmap_put(&r->mm, &r->slots[i]);
      break;
   case K_LFHT: {
      unsigned long init = 1;
      while (init < p->n) init *= 2;
      r->ht = cds_lfht_new(init, 1, 0, CDS_LFHT_AUTO_RESIZE | CDS_LFHT_ACCOUNTING, NULL);
      if (!r->ht) abort();
      for (size_t i = 0; i < p->n; i++) lfht_put(r->ht, &r->slots[i]);
      break;
   }
   default: {
      RArr* a = rarr_alloc(0);
      a->reg.n = 0;
      for (size_t i = 0; i < p->n; i++) {
         RArr* next = rarr_with(a, &r->slots[i], NULL);
         free(a);
         a = next;
      }
      r->arr = a;
      break;
   }
   }
}

static void reg_done(Reg* r) {
   switch (r->p->kind) {
   case K_MUTEXMAP:
      free(r->mm.ents);
      pthread_mutex_destroy(&r->mm.mu);
      break;
   case K_LFHT: {
      struct cds_lfht_iter it;
      LNode* ln;
      rcu_read_lock();
      cds_lfht_for_each_entry(r->ht, &it, ln, node) {
         if (cds_lfht_del(r->ht, &ln->node) == 0) call_rcu(&ln->rcu, lnode_free_rcu);
      }
      rcu_read_unlock();
      cds_lfht_destroy(r->ht, NULL);
      break;
   }
   default:
      call_rcu(&r->arr->rcu, rarr_free_rcu);
      break;
   }
   /* the snapshots and names may still be read by nobody: every reader has joined */
   rcu_barrier();
   for (size_t i = 0; i < r->nslots; i++) free(r->slots[i].snap);
   for (size_t i = 0; i < r->nqueries; i++) free((void*)r->queries[i]);
   free(r->queries);
   free(r->slots);
   free(r->names);
   pthread_mutex_destroy(&r->wmu);
}

typedef struct Writer {
   Reg* r;
   int w;
   pthread_t th;
} Writer;

static void pause_10us(void) {
   struct timespec ts = {0, 10000};
   nanosleep(&ts, NULL);
}

static void* writer_main(void* p) {
   Writer* w = p;
   Reg* r = w->r;
   rcu_register_thread();
   prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL); /* a 10 us sleep, not the default 50 us slack */
   ProcSlot* mine[2] = {&r->slots[r->p->n + 2u * (unsigned)w->w],
                        &r->slots[r->p->n + 2u * (unsigned)w->w + 1]};
   unsigned k = 0;
   while (!atomic_load_explicit(&r->stop, memory_order_relaxed)) {
      ProcSlot* s = mine[k++ & 1];
      reg_add(r, s);
      pause_10us();
      reg_del(r, s->name);
      pause_10us();
      atomic_fetch_add_explicit(&r->writes, 2, memory_order_relaxed);
   }
   rcu_unregister_thread();
   return NULL;
}

static void reader(void* arg, int tid, uint64_t n) {
   Reg* r = arg;
   uint64_t acc = 0;
   size_t qi = (size_t)tid * 397;
   const RegParam* p = r->p;
   if (p->op == OP_LOOKUP) {
      for (uint64_t i = 0; i < n; i++) {
         const char* name = r->queries[qi++ & (r->nqueries - 1)];
         const ProcSlot* s = NULL;
         switch (p->kind) {
         case K_MUTEXMAP:
            pthread_mutex_lock(&r->mm.mu);
            s = mmap_get(&r->mm, name);
            acc += s ? slot_read(s) : 0;
            pthread_mutex_unlock(&r->mm.mu);
            break;
         case K_LFHT: {
            struct cds_lfht_iter it;
            rcu_read_lock();
            cds_lfht_lookup(r->ht, fnv1a(name), lnode_match, name, &it);
            struct cds_lfht_node* node = cds_lfht_iter_get_node(&it);
            if (node) acc += slot_read(caa_container_of(node, LNode, node)->slot);
            rcu_read_unlock();
            break;
         }
         case K_SCAN:
            rcu_read_lock();
            s = rarr_scan(BENCH_DEREF(r->arr), name);
            acc += s ? slot_read(s) : 0;
            rcu_read_unlock();
            break;
         default:
            rcu_read_lock();
            s = rarr_bsearch(BENCH_DEREF(r->arr), name);
            acc += s ? slot_read(s) : 0;
            rcu_read_unlock();
            break;
         }
      }
   } else {
      for (uint64_t i = 0; i < n; i++) {
         switch (p->kind) {
         case K_MUTEXMAP:
            pthread_mutex_lock(&r->mm.mu);
            for (size_t k = 0; k <= r->mm.mask; k++) {
               if (r->mm.ents[k].slot) acc += slot_read(r->mm.ents[k].slot);
            }
            pthread_mutex_unlock(&r->mm.mu);
            break;
         case K_LFHT: {
            struct cds_lfht_iter it;
            LNode* ln;
            rcu_read_lock();
            cds_lfht_for_each_entry(r->ht, &it, ln, node) acc += slot_read(ln->slot);
            rcu_read_unlock();
            break;
         }
         default: {
            rcu_read_lock();
            const Registry* reg = &BENCH_DEREF(r->arr)->reg;
            for (size_t k = 0; k < reg->n; k++) acc += slot_read(reg->slots[k]);
            rcu_read_unlock();
            break;
         }
         }
      }
   }
   bench_sink(acc);
}

static void run_registry(B* b, const void* param) {
   const RegParam* p = param;
   Reg r;
   reg_init(&r, p);
   Writer ws[2];
   uint64_t t0 = bench_now_ns();
   for (int i = 0; i < p->writers; i++) {
      ws[i] = (Writer){.r = &r, .w = i};
      if (pthread_create(&ws[i].th, NULL, writer_main, &ws[i]) != 0) abort();
   }
   b_run_parallel(b, 2, reader, &r);
   atomic_store(&r.stop, true);
   for (int i = 0; i < p->writers; i++) pthread_join(ws[i].th, NULL);
   if (p->writers) {
      b_metric(b, (double)atomic_load(&r.writes) / ((double)(bench_now_ns() - t0) / 1e9),
               "writes/s");
   }
   reg_done(&r);
}

static RegParam params[2][K_COUNT][3][3];

void bench_registry_register(void) {
   static const unsigned sizes[] = {8, 64, 1024};
   static const char* const ops[] = {"RegistryLookup", "RegistryIterate"};
   char name[128];
   for (int op = 0; op < 2; op++) {
      for (int k = 0; k < K_COUNT; k++) {
         if (op == OP_ITERATE && k == K_BSEARCH) continue; /* same array as the scan */
         for (int si = 0; si < 3; si++) {
            for (int w = 0; w < 3; w++) {
#ifdef BRUM_TSAN
               /* cds_lfht publishes nodes with inline asm TSan cannot see: it would report the
                * writer's node initialisation as racing with readers */
               if (k == K_LFHT && w > 0) continue;
#endif
               RegParam* p = &params[op][k][si][w];
               *p = (RegParam){(Kind)k, op, sizes[si], w};
               snprintf(name, sizeof name, "%s/%s/n=%u/writers=%d", ops[op],
                        op == OP_ITERATE && k == K_SCAN ? "rcuarray" : kind_names[k], sizes[si], w);
               bench_add(name, 2, run_registry, p);
            }
         }
      }
   }
}
