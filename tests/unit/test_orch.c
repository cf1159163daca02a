/* Orchestration with real children: dependencies and their conditions, readiness probes (log,
 * tcp, http against real listeners on 127.0.0.1, exec), restart policies and their backoff,
 * per-process stop signal and grace, and the stop order when quitting. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/orch.h"
#include "core/rcu.h"
#include "core/sup.h"

static Sup* sup;
static char dir[64];

static void start_sup(double kill_timeout_s) {
   rcu_register_thread();
   SupConfig cfg = {.use_pty = true, .kill_timeout_s = kill_timeout_s, .cols = 100, .rows = 30};
   cr_assert_eq(sup_new(&cfg, &sup, NULL), 0);
   snprintf(dir, sizeof dir, "/tmp/brum-orch-XXXXXX");
   cr_assert_not_null(mkdtemp(dir));
}

static void setup(void) {
   start_sup(0.5);
}

static void setup_long_grace(void) {
   start_sup(10.0);
}

static void nap(void) {
   nanosleep(&(struct timespec){0, 10000000}, NULL);
}

static void teardown(void) {
   sup_quit(sup);
   for (int i = 0; i < 2000 && !sup_finished(sup); i++) nap();
   cr_assert(sup_finished(sup), "the supervisor finished quitting in time");
   sup_free(sup);
   rcu_unregister_thread();
   char cmd[128];
   snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
   cr_assert_eq(system(cmd), 0);
}

TestSuite(orch, .init = setup, .fini = teardown, .timeout = 120);

/* ---------------------------------------------------------------- helpers */

static uint64_t add_l(const char* name, const char* script, SupLaunch l) {
   char sh[] = "/bin/sh", dc[] = "-c";
   char* argv[] = {sh, dc, (char*)script, NULL};
   l.argv = argv;
   l.cwd = dir;
   return sup_add(sup, name, &l);
}

static ProcSnap snap(uint64_t id) {
   rcu_read_lock();
   ProcSnap s = *sup_snap(sup_registry(sup)->slots[id]);
   rcu_read_unlock();
   return s;
}

/* The snapshot's message (a copy). */
static const char* msg(uint64_t id) {
   static char buf[512];
   rcu_read_lock();
   snprintf(buf, sizeof buf, "%s", sup_snap(sup_registry(sup)->slots[id])->message);
   rcu_read_unlock();
   return buf;
}

static bool wait_state(uint64_t id, ProcState st) {
   for (int i = 0; i < 3000; i++) {
      if (snap(id).state == st) return true;
      nap();
   }
   return false;
}

static bool wait_ready(uint64_t id) {
   for (int i = 0; i < 3000; i++) {
      if (snap(id).ready_ms) return true;
      nap();
   }
   return false;
}

static bool wait_msg(uint64_t id, const char* needle) {
   for (int i = 0; i < 3000; i++) {
      if (strstr(msg(id), needle)) return true;
      nap();
   }
   return false;
}

static bool has_line(uint64_t id, const char* needle) {
   bool found = false;
   rcu_read_lock();
   const LogStore* ls = sup_registry(sup)->slots[id]->log;
   LogIter it;
   LogLine l;
   logiter_init(&it, ls, 0);
   while (!found && logiter_next(&it, &l))
      found = memmem(l.text, l.len, needle, strlen(needle)) != NULL;
   rcu_read_unlock();
   return found;
}

static bool wait_line(uint64_t id, const char* needle) {
   for (int i = 0; i < 3000; i++) {
      if (has_line(id, needle)) return true;
      nap();
   }
   return false;
}

/* A listening socket on 127.0.0.1 (port 0: any free one); *port says which. */
static int listen_on(int* port) {
   int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
   cr_assert_geq(fd, 0);
   int one = 1;
   setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
   struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)*port)};
   a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
   cr_assert_eq(bind(fd, (struct sockaddr*)&a, sizeof a), 0);
   cr_assert_eq(listen(fd, 16), 0);
   socklen_t len = sizeof a;
   getsockname(fd, (struct sockaddr*)&a, &len);
   *port = ntohs(a.sin_port);
   return fd;
}

/* A port nothing listens on (bound, then closed: refused until someone takes it). */
static int free_port(void) {
   int port = 0;
   close(listen_on(&port));
   return port;
}

/* A tiny HTTP server on its own thread: answers every request with `status`, after checking it
 * is the probe's (GET, a Host header, Connection: close). */
typedef struct Http {
   int fd, port, status;
   atomic_int requests, good; /* written by its thread, read by the test */
   pthread_t th;
} Http;

static void* http_main(void* arg) {
   Http* h = arg;
   for (;;) {
      int c = accept(h->fd, NULL, NULL);
      if (c < 0) return NULL;
      char req[2048];
      size_t n = 0;
      ssize_t k;
      while (n < sizeof req - 1 && (k = read(c, req + n, sizeof req - 1 - n)) > 0) {
         n += (size_t)k;
         req[n] = '\0';
         if (strstr(req, "\r\n\r\n")) break;
      }
      req[n] = '\0';
      h->requests++;
      if (strncmp(req, "GET /health HTTP/1.1\r\n", 22) == 0 &&
          strstr(req, "\r\nHost: 127.0.0.1:") && strstr(req, "\r\nConnection: close\r\n"))
         h->good++;
      char resp[128];
      int len =
          snprintf(resp, sizeof resp, "HTTP/1.1 %d X\r\nContent-Length: 0\r\n\r\n", h->status);
      ssize_t w = write(c, resp, (size_t)len);
      (void)w;
      close(c);
   }
}

static void http_start(Http* h, int status) {
   h->port = 0;
   h->status = status;
   h->fd = listen_on(&h->port);
   cr_assert_eq(pthread_create(&h->th, NULL, http_main, h), 0);
}

static void http_stop(Http* h) {
   shutdown(h->fd, SHUT_RDWR); /* accept returns */
   pthread_join(h->th, NULL);
   close(h->fd);
}

/* ---------------------------------------------------------------- backoff */

Test(orch_backoff, doubles_caps_and_resets) {
   unsigned streak = 0;
   uint64_t want[] = {1000, 2000, 4000, 8000, 16000, 30000, 30000};
   for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
      OrchBackoff b = orch_backoff(1.0, streak, 500);
      cr_assert_eq(b.delay_ms, want[i], "restart %zu waits %llu ms", i + 1,
                   (unsigned long long)b.delay_ms);
      streak = b.streak;
   }
   OrchBackoff b = orch_backoff(1.0, streak, 10000); /* up 10 s: a new streak */
   cr_assert_eq(b.delay_ms, 1000);
   cr_assert_eq(b.streak, 1);
   cr_assert_eq(orch_backoff(1.0, 3, 9999).delay_ms, 8000, "9.999 s up is not long enough");
   cr_assert_eq(orch_backoff(0, 0, 0).delay_ms, 1000, "the default first delay is 1 s");
   cr_assert_eq(orch_backoff(0.05, 2, 0).delay_ms, 200);
   cr_assert_eq(orch_backoff(45, 3, 0).delay_ms, 45000, "a first delay over the cap is kept");
   cr_assert_eq(orch_backoff(1.0, 1000000, 0).delay_ms, 30000, "no overflow");
}

/* ---------------------------------------------------------------- dependencies */

Test(orch, chain_waits_for_log_then_http_readiness) {
   int port = free_port();
   char api_cmd[160], url[64];
   snprintf(api_cmd, sizeof api_cmd, "exec python3 -m http.server %d --bind 127.0.0.1", port);
   snprintf(url, sizeof url, "http://127.0.0.1:%d/", port);
   SupLaunch db = {.ready = {.kind = SUP_PROBE_LOG, .target = "ready to accept connections"}};
   uint64_t db_id = add_l("db",
                          "sleep 0.5; echo 'LOG: database system is ready to accept "
                          "connections'; sleep 60",
                          db);
   SupDep on_db = {.id = db_id, .cond = SUP_DEP_READY};
   SupLaunch api = {.deps = &on_db,
                    .ndeps = 1,
                    .ready = {.kind = SUP_PROBE_HTTP, .target = url, .interval_s = 0.1}};
   uint64_t api_id = add_l("api", api_cmd, api);
   SupDep on_api = {.id = api_id, .cond = SUP_DEP_READY};
   SupLaunch web = {.deps = &on_api, .ndeps = 1};
   uint64_t web_id = add_l("web", "echo web-up; sleep 60", web);

   sup_start(sup, web_id); /* starts api, which starts db */
   cr_assert(wait_state(web_id, PROC_WAITING));
   cr_assert(wait_msg(web_id, "waiting for api (ready)"), "message: %s", msg(web_id));
   cr_assert(wait_state(api_id, PROC_WAITING));
   cr_assert(wait_msg(api_id, "waiting for db (ready)"), "message: %s", msg(api_id));
   cr_assert(wait_state(db_id, PROC_RUNNING));

   cr_assert(wait_line(web_id, "web-up"));
   ProcSnap d = snap(db_id), a = snap(api_id), w = snap(web_id);
   cr_assert_neq(d.ready_ms, 0);
   cr_assert_geq(d.ready_ms - d.started_ms, 450, "db was ready at its line, not before");
   cr_assert_geq(a.started_ms, d.ready_ms, "api started after db was ready");
   cr_assert_neq(a.ready_ms, 0);
   cr_assert_geq(w.started_ms, a.ready_ms, "web started after api answered");
   cr_assert_eq(w.state, PROC_RUNNING);
}

Test(orch, exited_ok_waits_for_a_clean_exit) {
   uint64_t m = add_l("migrate", "sleep 0.3; echo migrated", (SupLaunch){0});
   SupDep dep = {.id = m, .cond = SUP_DEP_EXITED_OK};
   uint64_t app = add_l("app", "echo app-up; sleep 60", (SupLaunch){.deps = &dep, .ndeps = 1});
   sup_start(sup, app);
   cr_assert(wait_msg(app, "waiting for migrate (exited_ok)"), "message: %s", msg(app));
   cr_assert(wait_line(app, "app-up"));
   ProcSnap ms = snap(m), as = snap(app);
   cr_assert_eq(ms.state, PROC_EXITED);
   cr_assert_geq(as.started_ms, ms.ended_ms, "app started after migrate exited");
}

Test(orch, started_is_met_at_once) {
   uint64_t a = add_l("a", "sleep 60", (SupLaunch){0});
   SupDep dep = {.id = a, .cond = SUP_DEP_STARTED};
   uint64_t b = add_l("b", "echo b-up; sleep 60", (SupLaunch){.deps = &dep, .ndeps = 1});
   sup_start(sup, b);
   cr_assert(wait_line(b, "b-up"));
   cr_assert_eq(snap(a).state, PROC_RUNNING);
}

Test(orch, a_failed_dependency_fails_its_dependents) {
   uint64_t db = add_l("db", "echo dying; exit 2", (SupLaunch){0});
   SupDep on_db = {.id = db, .cond = SUP_DEP_READY};
   uint64_t api = add_l("api", "echo never", (SupLaunch){.deps = &on_db, .ndeps = 1});
   SupDep on_api = {.id = api, .cond = SUP_DEP_STARTED};
   uint64_t web = add_l("web", "echo never", (SupLaunch){.deps = &on_api, .ndeps = 1});
   uint64_t m = add_l("m", "exit 3", (SupLaunch){0});
   SupDep on_m = {.id = m, .cond = SUP_DEP_EXITED_OK};
   uint64_t app = add_l("app", "echo never", (SupLaunch){.deps = &on_m, .ndeps = 1});
   sup_start(sup, web);
   sup_start(sup, app);
   cr_assert(wait_state(api, PROC_FAILED));
   cr_assert_eq(snap(api).exit_code, -1);
   cr_assert_str_eq(msg(api), "dependency db failed: ended before it was ready (failed (2))");
   cr_assert(wait_state(web, PROC_FAILED));
   cr_assert_str_eq(msg(web), "dependency api failed: dependency db failed: ended before it was "
                              "ready (failed (2))");
   cr_assert(has_line(web, "── dependency api failed"));
   cr_assert(wait_state(app, PROC_FAILED));
   cr_assert_str_eq(msg(app), "dependency m failed: failed (3)");
   cr_assert_not(has_line(api, "never"));
}

Test(orch, a_cycle_fails_instead_of_waiting_forever) {
   SupDep on_b = {.id = 1, .cond = SUP_DEP_STARTED}; /* b is registered next */
   uint64_t a = add_l("a", "sleep 60", (SupLaunch){.deps = &on_b, .ndeps = 1});
   SupDep on_a = {.id = a, .cond = SUP_DEP_STARTED};
   uint64_t b = add_l("b", "sleep 60", (SupLaunch){.deps = &on_a, .ndeps = 1});
   sup_start(sup, a);
   cr_assert(wait_state(a, PROC_FAILED));
   cr_assert(wait_state(b, PROC_FAILED));
   cr_assert(strstr(msg(b), "dependency cycle: b depends on a"), "message: %s", msg(b));
   cr_assert(strstr(msg(a), "dependency b failed: dependency cycle"), "message: %s", msg(a));
}

Test(orch, a_user_stop_cancels_a_waiting_start) {
   SupLaunch db = {.ready = {.kind = SUP_PROBE_LOG, .target = "never printed"}};
   uint64_t d = add_l("db", "sleep 60", db);
   SupDep on_db = {.id = d, .cond = SUP_DEP_READY};
   uint64_t api = add_l("api", "echo never", (SupLaunch){.deps = &on_db, .ndeps = 1});
   sup_start(sup, api);
   cr_assert(wait_msg(api, "waiting for db (ready)"));
   sup_stop(sup, api);
   cr_assert(wait_state(api, PROC_STOPPED));
   cr_assert(has_line(api, "stopped while waiting"));
   cr_assert_eq(snap(d).state, PROC_RUNNING, "its dependency keeps running");
}

/* ---------------------------------------------------------------- probes */

Test(orch, tcp_probe_against_a_listener) {
   int port = 0;
   int fd = listen_on(&port);
   char target[64], local[64];
   snprintf(target, sizeof target, "127.0.0.1:%d", port);
   snprintf(local, sizeof local, "localhost:%d", port); /* ::1 is refused, then 127.0.0.1 */
   SupLaunch l = {.ready = {.kind = SUP_PROBE_TCP, .target = target, .interval_s = 0.05}};
   uint64_t a = add_l("a", "sleep 60", l);
   l.ready.target = local;
   uint64_t b = add_l("b", "sleep 60", l);
   sup_start(sup, a);
   sup_start(sup, b);
   cr_assert(wait_ready(a));
   cr_assert(wait_ready(b), "message: %s", msg(b));
   cr_assert_geq(snap(a).ready_ms, snap(a).started_ms + 30, "not ready before the first probe");
   close(fd);
}

Test(orch, http_probe_checks_the_status) {
   Http ok = {0}, bad = {0};
   http_start(&ok, 204);
   http_start(&bad, 503);
   char u1[64], u2[64];
   snprintf(u1, sizeof u1, "http://127.0.0.1:%d/health", ok.port);
   snprintf(u2, sizeof u2, "http://127.0.0.1:%d/health", bad.port);
   SupLaunch l = {.ready = {.kind = SUP_PROBE_HTTP, .target = u1, .interval_s = 0.05}};
   uint64_t a = add_l("a", "sleep 60", l);
   l.ready.target = u2;
   l.ready.retries = 2;
   uint64_t b = add_l("b", "sleep 60", l);
   sup_start(sup, a);
   sup_start(sup, b);
   cr_assert(wait_ready(a));
   cr_assert_geq(ok.good, 1, "a GET with Host and Connection: close (%d requests)",
                 atomic_load(&ok.requests));
   char want[128];
   snprintf(want, sizeof want, "probe %s: HTTP 503 (2 tries)", u2);
   cr_assert(wait_msg(b, want), "message: %s", msg(b));
   cr_assert(wait_line(b, "── not ready: probe"));
   cr_assert_eq(snap(b).ready_ms, 0);
   sup_stop(sup, a);
   sup_stop(sup, b);
   cr_assert(wait_state(a, PROC_STOPPED));
   cr_assert(wait_state(b, PROC_STOPPED));
   http_stop(&ok);
   http_stop(&bad);
}

Test(orch, exec_probe_runs_a_command) {
   SupLaunch l = {.ready = {.kind = SUP_PROBE_EXEC,
                            .target = "echo checking; test -f flag",
                            .interval_s = 0.05}};
   uint64_t a = add_l("a", "sleep 0.5; touch flag; sleep 60", l);
   sup_start(sup, a);
   cr_assert(wait_msg(a, "probe exec 'echo checking; test -f flag': exited with code 1: checking"),
             "message: %s", msg(a));
   cr_assert(wait_ready(a));
   ProcSnap s = snap(a);
   cr_assert_geq(s.ready_ms - s.started_ms, 450, "ready once the file exists");
   cr_assert_str_eq(msg(a), "", "the probe's error is gone once ready");
}

Test(orch, probe_giving_up_fails_the_dependents) {
   int port = free_port();
   char url[64];
   snprintf(url, sizeof url, "http://127.0.0.1:%d/", port);
   SupLaunch api = {
       .ready = {.kind = SUP_PROBE_HTTP, .target = url, .interval_s = 0.05, .retries = 4}};
   uint64_t a = add_l("api", "sleep 60", api);
   SupDep on_api = {.id = a, .cond = SUP_DEP_READY};
   uint64_t w = add_l("web", "echo never", (SupLaunch){.deps = &on_api, .ndeps = 1});
   sup_start(sup, w);
   cr_assert(wait_state(w, PROC_FAILED));
   char want[160];
   snprintf(want, sizeof want,
            "dependency api failed: not ready: probe %s: connection refused (4 tries)", url);
   cr_assert_str_eq(msg(w), want);
   cr_assert_eq(snap(a).state, PROC_RUNNING, "a process that is not ready keeps running");
}

/* ---------------------------------------------------------------- restarts */

Test(orch, on_failure_restarts_then_gives_up) {
   SupLaunch l = {.restart = SUP_RESTART_ON_FAILURE, .backoff_s = 0.05, .max_restarts = 2};
   uint64_t a = add_l("a", "echo run; exit 1", l);
   sup_start(sup, a);
   cr_assert(wait_line(a, "── gave up after 2 restarts ──"));
   ProcSnap s = snap(a);
   cr_assert_eq(s.state, PROC_FAILED);
   cr_assert_eq(s.restarts, 2);
   cr_assert(wait_msg(a, "gave up after 2 restarts"), "message: %s", msg(a));
   cr_assert(has_line(a, "restarting (run 3)"));
   uint64_t ok = add_l("ok", "echo fine", l); /* a clean exit is no failure */
   sup_start(sup, ok);
   cr_assert(wait_state(ok, PROC_EXITED));
   cr_assert(wait_line(ok, "exited with code 0"));
   cr_assert_eq(snap(ok).restarts, 0);
}

Test(orch, always_restarts_a_clean_exit) {
   SupLaunch l = {.restart = SUP_RESTART_ALWAYS, .backoff_s = 0.05, .max_restarts = 2};
   uint64_t a = add_l("a", "echo run", l);
   sup_start(sup, a);
   cr_assert(wait_line(a, "── gave up after 2 restarts ──"));
   cr_assert_eq(snap(a).state, PROC_EXITED);
   cr_assert_eq(snap(a).restarts, 2);
}

Test(orch, backoff_is_a_state_and_a_user_stop_cancels_it) {
   SupLaunch l = {.restart = SUP_RESTART_ON_FAILURE, .backoff_s = 30, .max_restarts = 5};
   uint64_t a = add_l("a", "exit 1", l);
   sup_start(sup, a);
   cr_assert(wait_state(a, PROC_BACKOFF));
   cr_assert_str_eq(msg(a), "restarting in 30 s (restart 1 of 5)");
   ProcSnap s = snap(a);
   cr_assert_eq(s.pid, 0);
   cr_assert_not(snap_is_active(s.state));
   cr_assert(snap_is_pending(s.state));
   char d[64];
   snap_describe(&s, d, sizeof d);
   cr_assert_str_eq(d, "backoff");
   cr_assert_str_eq(snap_state_name(s.state), "backoff");
   cr_assert_str_eq(snap_state_name(PROC_WAITING), "waiting");
   sup_stop(sup, a);
   cr_assert(wait_state(a, PROC_STOPPED));
   cr_assert(has_line(a, "restart cancelled"));
   cr_assert_eq(snap(a).restarts, 0);
}

Test(orch, a_user_stop_never_restarts) {
   SupLaunch l = {.restart = SUP_RESTART_ALWAYS, .backoff_s = 0.05, .max_restarts = -1};
   uint64_t a = add_l("a", "echo up; sleep 60", l);
   sup_start(sup, a);
   cr_assert(wait_line(a, "up"));
   sup_stop(sup, a);
   cr_assert(wait_state(a, PROC_STOPPED));
   cr_assert(wait_line(a, "── stopped ──"));
   cr_assert_eq(snap(a).restarts, 0);
   uint64_t k = add_l("k", "echo up; sleep 60", l); /* killed by a signal it did not ask for */
   sup_start(sup, k);
   cr_assert(wait_line(k, "up"));
   kill(-snap(k).pid, SIGKILL); /* the whole group: nothing of the first run lingers */
   cr_assert(wait_line(k, "restarting (run 2)"));
   cr_assert(wait_state(k, PROC_RUNNING));
}

/* ---------------------------------------------------------------- stopping */

TestSuite(orch_grace, .init = setup_long_grace, .fini = teardown, .timeout = 120);

Test(orch_grace, stop_signal_and_kill_timeout_per_process) {
   SupLaunch l = {.stop_signal = SIGINT};
   uint64_t a = add_l("a",
                      "trap 'echo got-int; exit 0' INT; echo armed; "
                      "while true; do sleep 0.05; done",
                      l);
   SupLaunch m = {.kill_timeout_s = 0.2};
   uint64_t b = add_l("b", "trap '' TERM; echo armed; while true; do sleep 0.05; done", m);
   sup_start(sup, a);
   sup_start(sup, b);
   cr_assert(wait_line(a, "armed"));
   cr_assert(wait_line(b, "armed"));
   sup_stop(sup, a);
   cr_assert(wait_line(a, "got-int"));
   cr_assert(wait_state(a, PROC_STOPPED));
   struct timespec t0, t1;
   clock_gettime(CLOCK_MONOTONIC, &t0);
   sup_stop(sup, b);
   cr_assert(wait_state(b, PROC_KILLED));
   clock_gettime(CLOCK_MONOTONIC, &t1);
   cr_assert(has_line(b, "no exit after 0.2 s: sent SIGKILL"));
   cr_assert_lt(t1.tv_sec - t0.tv_sec, 5, "its own grace, not the supervisor's 10 s");
}

Test(orch_grace, quitting_stops_dependents_first) {
   char order[128];
   snprintf(order, sizeof order, "%s/order", dir);
   /* Each records its SIGTERM; web takes a while to exit, so api's turn comes visibly after. */
#define RECORD(delay, name)                                                                        \
   "trap 'sleep " delay "; echo " name " >> order; exit 0' TERM; echo up; "                        \
   "while true; do sleep 0.05; done"
   const char* db_s = RECORD("0", "db");
   const char* api_s = RECORD("0.1", "api");
   const char* web_s = RECORD("0.3", "web");
   uint64_t db = add_l("db", db_s, (SupLaunch){0});
   SupDep on_db = {.id = db, .cond = SUP_DEP_STARTED};
   uint64_t api = add_l("api", api_s, (SupLaunch){.deps = &on_db, .ndeps = 1});
   SupDep on_api = {.id = api, .cond = SUP_DEP_STARTED};
   uint64_t web = add_l("web", web_s, (SupLaunch){.deps = &on_api, .ndeps = 1});
   uint64_t lone = add_l("lone", "trap 'exit 0' TERM; echo up; while true; do sleep 0.05; done",
                         (SupLaunch){0});
   sup_start(sup, web);
   sup_start(sup, lone);
   cr_assert(wait_line(db, "up"));
   cr_assert(wait_line(api, "up"));
   cr_assert(wait_line(web, "up"));
   cr_assert(wait_line(lone, "up"));
   sup_quit(sup);
   for (int i = 0; i < 3000 && !sup_finished(sup); i++) nap();
   cr_assert(sup_finished(sup));
   FILE* f = fopen(order, "r");
   cr_assert_not_null(f);
   char got[64] = "";
   size_t n = fread(got, 1, sizeof got - 1, f);
   got[n] = '\0';
   fclose(f);
   cr_assert_str_eq(got, "web\napi\ndb\n");
   cr_assert_eq(snap(db).state, PROC_STOPPED);
   cr_assert_eq(snap(lone).state, PROC_STOPPED);
}

/* Each level gets its own grace: three levels that ignore SIGTERM for 1.2 s each outlast the
 * supervisor's single grace plus margin (0.5 + 2 s), yet each is SIGKILLed by its own timer, not by
 * the quit deadline. */
Test(orch, quit_deadline_grows_with_the_levels) {
   SupLaunch l = {.kill_timeout_s = 1.2};
   const char* stubborn = "trap '' TERM; echo up; while true; do sleep 0.05; done";
   uint64_t db = add_l("db", stubborn, l);
   SupDep on_db = {.id = db, .cond = SUP_DEP_STARTED};
   l.deps = &on_db;
   l.ndeps = 1;
   uint64_t api = add_l("api", stubborn, l);
   SupDep on_api = {.id = api, .cond = SUP_DEP_STARTED};
   l.deps = &on_api;
   uint64_t web = add_l("web", stubborn, l);
   sup_start(sup, web);
   cr_assert(wait_line(db, "up"));
   cr_assert(wait_line(api, "up"));
   cr_assert(wait_line(web, "up"));
   sup_quit(sup);
   for (int i = 0; i < 3000 && !sup_finished(sup); i++) nap();
   cr_assert(sup_finished(sup));
   uint64_t ids[] = {web, api, db};
   for (int i = 0; i < 3; i++) {
      cr_assert(has_line(ids[i], "no exit after 1.2 s: sent SIGKILL"), "process %d", i);
      cr_assert_eq(snap(ids[i]).state, PROC_KILLED);
   }
   cr_assert_geq(snap(api).ended_ms, snap(web).ended_ms + 1100, "api's grace began after web");
   cr_assert_geq(snap(db).ended_ms, snap(api).ended_ms + 1100, "db's grace began after api");
}

/* ---------------------------------------------------------------- the pool (brum -r GLOB) */

static void setup_pool(void) {
   rcu_register_thread();
   SupConfig cfg = {
       .use_pty = true, .kill_timeout_s = 0.5, .cols = 100, .rows = 30, .max_pooled = 2};
   cr_assert_eq(sup_new(&cfg, &sup, NULL), 0);
   snprintf(dir, sizeof dir, "/tmp/brum-orch-XXXXXX");
   cr_assert_not_null(mkdtemp(dir));
}

TestSuite(orch_pool, .init = setup_pool, .fini = teardown, .timeout = 120);

static void touch(const char* name) {
   char path[128];
   snprintf(path, sizeof path, "%s/%s", dir, name);
   FILE* f = fopen(path, "w");
   cr_assert_not_null(f);
   fclose(f);
}

/* Two places: the third and fourth pooled processes wait for a slot and start as places free;
 * a process outside the pool starts at once. */
Test(orch_pool, limits_what_runs) {
   uint64_t id[4];
   char name[16], script[96];
   for (int i = 0; i < 4; i++) {
      snprintf(name, sizeof name, "p%d", i);
      snprintf(script, sizeof script, "while [ ! -e go%d ]; do sleep 0.02; done; echo done %d", i,
               i);
      id[i] = add_l(name, script, (SupLaunch){.max_restarts = -1, .pooled = true});
   }
   uint64_t free_id = add_l("free", "sleep 30", (SupLaunch){.max_restarts = -1});
   for (int i = 0; i < 4; i++) sup_start(sup, id[i]);
   sup_start(sup, free_id);
   cr_assert(wait_state(id[0], PROC_RUNNING) && wait_state(id[1], PROC_RUNNING));
   cr_assert(wait_state(free_id, PROC_RUNNING), "outside the pool: not held");
   cr_assert(wait_msg(id[2], "waiting for a slot (2 running)"), "%s", msg(id[2]));
   cr_expect_eq(snap(id[3]).state, PROC_WAITING);
   touch("go1");
   cr_assert(wait_state(id[1], PROC_EXITED));
   cr_assert(wait_state(id[2], PROC_RUNNING), "a freed place goes to the next waiting one");
   cr_expect_eq(snap(id[3]).state, PROC_WAITING, "still two running");
   touch("go0");
   cr_assert(wait_state(id[3], PROC_RUNNING));
   touch("go2");
   touch("go3");
   cr_expect(wait_state(id[2], PROC_EXITED) && wait_state(id[3], PROC_EXITED));
}

/* A pooled process whose restart waits out a backoff gives its place up meanwhile; when the
 * delay ends with the pool full it waits for a place, as at a start. */
Test(orch_pool, backoff_waits_for_a_place) {
   uint64_t a = add_l("a",
                      "if [ ! -e failed ]; then touch failed; exit 1; fi; "
                      "while [ ! -e goa ]; do sleep 0.02; done",
                      (SupLaunch){.max_restarts = -1,
                                  .pooled = true,
                                  .restart = SUP_RESTART_ON_FAILURE,
                                  .backoff_s = 0.3});
   uint64_t b = add_l("b", "while [ ! -e gob ]; do sleep 0.02; done",
                      (SupLaunch){.max_restarts = -1, .pooled = true});
   uint64_t c = add_l("c", "while [ ! -e goc ]; do sleep 0.02; done",
                      (SupLaunch){.max_restarts = -1, .pooled = true});
   sup_start(sup, a);
   sup_start(sup, b);
   sup_start(sup, c);
   cr_assert(wait_state(c, PROC_RUNNING), "a's backoff freed its place: c runs");
   cr_assert(wait_msg(a, "waiting for a slot (2 running)"), "%s", msg(a));
   cr_expect_eq(snap(a).state, PROC_WAITING);
   touch("gob");
   cr_assert(wait_state(a, PROC_RUNNING), "a place freed: a's second run");
   touch("goa");
   touch("goc");
   cr_expect(wait_state(a, PROC_EXITED) && wait_state(c, PROC_EXITED));
}
