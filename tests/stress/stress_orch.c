/* Orchestration under concurrency: a dependency graph (started, ready, exited_ok) with log, exec
 * and tcp probes and restart policies with short backoffs, started, stopped, killed and restarted
 * from two command threads at once while two readers walk the snapshots inside rcu_read_lock.
 * Checks what a reader may rely on (a pending process has no pid, every state is known, every
 * message is there), then that quitting ends everything, waiting and backoff included. */
#include <arpa/inet.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/snap.h"
#include "core/sup.h"
#include "tests/stress/stress.h"

#define NPROCS 8

typedef struct Shared {
   Sup* sup;
   atomic_bool stop;
   atomic_ulong bad, snaps_seen;
   atomic_uint states_seen; /* bit per ProcState */
} Shared;

static Shared sh;

static void bad(const char* what, size_t id) {
   fprintf(stderr, "reader: %s (process %zu)\n", what, id);
   atomic_fetch_add(&sh.bad, 1);
}

static void read_frame(void) {
   rcu_read_lock();
   const Registry* r = sup_registry(sh.sup);
   for (size_t i = 0; i < r->n; i++) {
      const ProcSnap* s = sup_snap(r->slots[i]);
      if (!s || s->id != i) {
         bad("snapshot", i);
         continue;
      }
      if ((unsigned)s->state > PROC_BACKOFF) bad("state", i);
      if (!s->message) bad("message", i);
      if (snap_is_pending(s->state) && s->pid != 0) bad("a pending process with a pid", i);
      if (snap_is_pending(s->state) && snap_is_active(s->state)) bad("pending and active", i);
      if (s->state == PROC_RUNNING && s->pid <= 0) bad("pid", i);
      char desc[64];
      snap_describe(s, desc, sizeof desc);
      atomic_fetch_or(&sh.states_seen, 1u << s->state);
      atomic_fetch_add(&sh.snaps_seen, 1);
   }
   rcu_read_unlock();
}

static void* reader(void* arg) {
   (void)arg;
   rcu_register_thread();
   while (!atomic_load(&sh.stop)) {
      read_frame();
      stress_sleep_ms(1);
   }
   rcu_unregister_thread();
   return NULL;
}

/* Random commands to random processes; each thread has its own seed. */
static void* commander(void* arg) {
   uint64_t seed = (uint64_t)(uintptr_t)arg;
   for (int round = 0; round < 300; round++) {
      uint64_t x = stress_rand(&seed), id = (x >> 8) % NPROCS;
      switch (x % 8) {
      case 0:
      case 1:
      case 2:
         sup_start(sh.sup, id);
         break;
      case 3:
      case 4:
         sup_restart(sh.sup, id);
         break;
      case 5:
      case 6:
         sup_stop(sh.sup, id);
         break;
      case 7:
         sup_kill(sh.sup, id);
         break;
      }
      stress_sleep_ms((long)(x % 20));
   }
   return NULL;
}

static uint64_t add(const char* name, const char* script, SupLaunch l) {
   char* argv[] = {(char*)"/bin/sh", (char*)"-c", (char*)script, NULL};
   l.argv = argv;
   l.cwd = "/tmp";
   return sup_add(sh.sup, name, &l);
}

/* The graph: db (log probe) ← migrate (exited_ok) ← api (tcp probe, restarts) ← web (exec probe,
 * always restarts), and a worker that fails and restarts, a waiter on a never-ready process. */
static void add_graph(int port) {
   char tcp[32];
   snprintf(tcp, sizeof tcp, "127.0.0.1:%d", port);
   uint64_t db = add("db", "sleep 0.05; echo ready now; sleep 5",
                     (SupLaunch){.ready = {.kind = SUP_PROBE_LOG, .target = "ready now"}});
   SupDep d1 = {.id = db, .cond = SUP_DEP_READY};
   uint64_t mig = add("migrate", "echo migrating", (SupLaunch){.deps = &d1, .ndeps = 1});
   SupDep d2[] = {{.id = mig, .cond = SUP_DEP_EXITED_OK}, {.id = db, .cond = SUP_DEP_STARTED}};
   SupLaunch api = {.deps = d2,
                    .ndeps = 2,
                    .ready = {.kind = SUP_PROBE_TCP, .target = tcp, .interval_s = 0.02},
                    .restart = SUP_RESTART_ON_FAILURE,
                    .backoff_s = 0.02,
                    .max_restarts = -1};
   uint64_t a = add("api", "sleep 0.3; exit 1", api);
   SupDep d3 = {.id = a, .cond = SUP_DEP_STARTED};
   SupLaunch web = {.deps = &d3,
                    .ndeps = 1,
                    .ready = {.kind = SUP_PROBE_EXEC, .target = "true", .interval_s = 0.02},
                    .restart = SUP_RESTART_ALWAYS,
                    .backoff_s = 0.03,
                    .max_restarts = 20,
                    .stop_signal = SIGINT};
   add("web", "sleep 0.2", web);
   add("worker", "exit 2",
       (SupLaunch){.restart = SUP_RESTART_ON_FAILURE, .backoff_s = 0.01, .max_restarts = 50});
   uint64_t never = add("never", "sleep 5",
                        (SupLaunch){.ready = {.kind = SUP_PROBE_LOG, .target = "not printed"},
                                    .kill_timeout_s = 0.2});
   SupDep d4 = {.id = never, .cond = SUP_DEP_READY};
   add("waiter", "sleep 5", (SupLaunch){.deps = &d4, .ndeps = 1});
   add("plain", "trap '' TERM; sleep 5", (SupLaunch){.kill_timeout_s = 0.1});
}

static int listen_any(int* port) {
   int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
   struct sockaddr_in a = {.sin_family = AF_INET};
   a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
   socklen_t len = sizeof a;
   if (fd < 0 || bind(fd, (struct sockaddr*)&a, sizeof a) < 0 || listen(fd, 64) < 0 ||
       getsockname(fd, (struct sockaddr*)&a, &len) < 0)
      return -1;
   *port = ntohs(a.sin_port);
   return fd;
}

static int orchestration_under_readers(void) {
   int fails = 0;
   SupConfig cfg = {.use_pty = true, .kill_timeout_s = 0.3, .cols = 80, .rows = 24};
   EXPECT(sup_new(&cfg, &sh.sup, NULL) == 0, "sup_new");
   if (!sh.sup) return fails;
   int port = 0, lfd = listen_any(&port);
   EXPECT(lfd >= 0, "a listener on 127.0.0.1");
   add_graph(port);
   pthread_t r[2], c[2];
   for (int i = 0; i < 2; i++) pthread_create(&r[i], NULL, reader, NULL);
   for (int i = 0; i < 2; i++) pthread_create(&c[i], NULL, commander, (void*)(uintptr_t)(11 + i));
   for (int i = 0; i < 2; i++) pthread_join(c[i], NULL);
   for (uint64_t i = 0; i < NPROCS; i++) sup_start(sh.sup, i); /* quit while things wait */
   stress_sleep_ms(50);

   uint64_t t0 = util_mono_ns();
   sup_quit(sh.sup);
   uint64_t deadline = t0 + 20000000000ull; /* the levels' graces, the margin, a slow build */
   while (!sup_finished(sh.sup) && util_mono_ns() < deadline) stress_sleep_ms(5);
   double quit_ms = (double)(util_mono_ns() - t0) / 1e6;
   EXPECT(sup_finished(sh.sup), "not finished %.0f ms after sup_quit", quit_ms);
   atomic_store(&sh.stop, true);
   for (int i = 0; i < 2; i++) pthread_join(r[i], NULL);

   rcu_read_lock();
   const Registry* reg = sup_registry(sh.sup);
   EXPECT(reg->n == NPROCS, "registry has %zu processes", reg->n);
   for (size_t i = 0; i < reg->n; i++) {
      const ProcSnap* s = sup_snap(reg->slots[i]);
      EXPECT(!snap_is_active(s->state) && !snap_is_pending(s->state),
             "process %zu still %s after quit", i, snap_state_name(s->state));
   }
   rcu_read_unlock();
   EXPECT(atomic_load(&sh.bad) == 0, "%lu bad observations", atomic_load(&sh.bad));
   unsigned states = atomic_load(&sh.states_seen);
   EXPECT(states & (1u << PROC_WAITING), "never saw a waiting process");
   EXPECT(states & (1u << PROC_BACKOFF), "never saw a process in backoff");
   printf("  quit took %.0f ms; snapshots %lu, states seen 0x%x\n", quit_ms,
          atomic_load(&sh.snaps_seen), states);
   sup_free(sh.sup);
   sh.sup = NULL;
   if (lfd >= 0) close(lfd);
   return fails;
}

int main(void) {
   static const StressCase cases[] = {
       {"orch: graph, probes, restarts under 2 readers", orchestration_under_readers},
   };
   return stress_main(cases, ARRAY_LEN(cases));
}
