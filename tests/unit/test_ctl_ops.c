/* The control server's operations (core/ctl_ops.c, core/ctl_query.c) without sockets: this file
 * stands in for the transport (core/ctl_server.c), so the linker never pulls it in. Requests go
 * straight to the operation table; messages are captured in a list; pending calls are polled here
 * as the transport polls them. A real supervisor runs small shell scripts with known output. */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/ctl_int.h"
#include "core/rcu.h"
#include "core/util.h"

/* ---------------------------------------------------------------- the stand-in transport */

struct CtlServer {
   Sup* sup;
};
struct CtlConn {
   const char* kind;
};

static CtlServer srv;
static CtlConn conn = {"mcp"};
static json_t* sent;    /* every message the operations sent, oldest first */
static CtlCall* calls;  /* pending */
static int next_id = 1; /* request ids */

#define PID 4242
#define STARTED 1764700000000ull

Sup* ctl_sup(const CtlServer* s) {
   return s->sup;
}
const char* ctl_root(const CtlServer* s) {
   (void)s;
   return "/tmp";
}
const char* ctl_kind(const CtlServer* s) {
   (void)s;
   return "tui";
}
int ctl_pid(const CtlServer* s) {
   (void)s;
   return PID;
}
uint64_t ctl_started_ms(const CtlServer* s) {
   (void)s;
   return STARTED;
}
const char* ctl_conn_kind(const CtlConn* c) {
   return c->kind;
}
void ctl_send_msg(CtlConn* c, json_t* msg) {
   (void)c;
   json_array_append_new(sent, msg);
}
void ctl_call_add(CtlServer* s, CtlConn* c, CtlCall* call) {
   (void)s;
   call->conn = c;
   if (call->poll(call, false)) {
      call->free(call);
      return;
   }
   call->next = calls;
   calls = call;
}

/* One round of what the transport does after a change: every pending call is polled, those past
 * their deadline told so. */
static void poll_calls(void) {
   uint64_t now = util_now_ms();
   for (CtlCall** pp = &calls; *pp;) {
      CtlCall* c = *pp;
      if (c->poll(c, c->deadline_ms && now >= c->deadline_ms)) {
         *pp = c->next;
         c->free(c);
      } else {
         pp = &c->next;
      }
   }
}

/* The client goes away: every pending call is cancelled and freed. */
static void drop_calls(bool disconnected) {
   while (calls) {
      CtlCall* c = calls;
      calls = c->next;
      if (c->cancel) c->cancel(c, disconnected);
      c->free(c);
   }
}

static void nap(void) {
   nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
}

/* ---------------------------------------------------------------- the supervisor */

static void start_sup(uint64_t max_lines) {
   rcu_register_thread();
   SupConfig cfg = {.use_pty = false, .kill_timeout_s = 0.5, .cols = 100, .rows = 30};
   cfg.log.max_lines = max_lines;
   cr_assert_eq(sup_new(&cfg, &srv.sup, NULL), 0);
   sent = json_array();
}

static void setup(void) {
   start_sup(0);
}

static void teardown(void) {
   drop_calls(true);
   sup_quit(srv.sup);
   for (int i = 0; i < 1000 && !sup_finished(srv.sup); i++) nap();
   cr_assert(sup_finished(srv.sup), "the supervisor finished quitting in time");
   sup_free(srv.sup);
   json_decref(sent);
   rcu_unregister_thread();
}

TestSuite(ctl, .init = setup, .fini = teardown, .timeout = 120);

static uint64_t add(const char* name, const char* script) {
   char sh[] = "/bin/sh", dc[] = "-c";
   char* argv[] = {sh, dc, (char*)script, NULL};
   SupLaunch l = {.argv = argv, .cwd = "/tmp"};
   return sup_add(srv.sup, name, &l);
}

static ProcSnap snap(uint64_t id) {
   rcu_read_lock();
   ProcSnap s = *sup_snap(sup_registry(srv.sup)->slots[id]);
   rcu_read_unlock();
   return s;
}

static uint64_t log_end(uint64_t id) {
   rcu_read_lock();
   uint64_t end = logstore_end(sup_registry(srv.sup)->slots[id]->log);
   rcu_read_unlock();
   return end;
}

static uint64_t log_begin(uint64_t id) {
   rcu_read_lock();
   uint64_t begin = logstore_begin(sup_registry(srv.sup)->slots[id]->log);
   rcu_read_unlock();
   return begin;
}

#define WAIT_FOR(cond)                                                                             \
   do {                                                                                            \
      for (int wait_i_ = 0; wait_i_ < 3000 && !(cond); wait_i_++) nap();                           \
      cr_assert(cond, "in time: %s", #cond);                                                       \
   } while (0)

/* ---------------------------------------------------------------- requests */

/* The sent message that answers request `id` (removed from the list), or NULL. */
static json_t* take_reply(json_int_t id) {
   size_t i;
   json_t* m;
   json_array_foreach(sent, i, m) {
      json_t* mid = json_object_get(m, "id");
      if (json_object_get(m, "ok") && json_is_integer(mid) && json_integer_value(mid) == id) {
         json_incref(m);
         json_array_remove(sent, i);
         return m;
      }
   }
   return NULL;
}

/* Sends a request (printf-style JSON without "id") and returns the op's immediate reply, or NULL
 * when it registered a pending call; *id gets the request's id. */
static json_t* send_req(json_int_t* id, const char* fmt, va_list ap) {
   char buf[4096];
   vsnprintf(buf, sizeof buf, fmt, ap);
   json_error_t jerr;
   json_t* req = json_loads(buf, 0, &jerr);
   cr_assert(req, "test request parses: %s: %s", buf, jerr.text);
   *id = next_id++;
   json_object_set_new(req, "id", json_integer(*id));
   const char* op = json_string_value(json_object_get(req, "op"));
   const CtlOp* o = ctl_ops;
   while (o->name && strcmp(o->name, op) != 0) o++;
   cr_assert(o->name, "op %s is in the table", op);
   json_t* r = o->fn(&srv, &conn, json_object_get(req, "id"), req);
   json_decref(req);
   return r;
}

static json_t* wait_reply(json_int_t id) {
   json_t* r = take_reply(id);
   for (int i = 0; i < 3000 && !r; i++) {
      poll_calls();
      if (!(r = take_reply(id))) nap();
   }
   cr_assert(r, "request %lld replied in time", (long long)id);
   return r;
}

/* A request whose reply is wanted, now or after polling its pending call. */
static json_t* req(const char* fmt, ...) {
   json_int_t id;
   va_list ap;
   va_start(ap, fmt);
   json_t* r = send_req(&id, fmt, ap);
   va_end(ap);
   if (!r) r = wait_reply(id);
   cr_assert_eq(json_integer_value(json_object_get(r, "id")), id, "the reply has the request's id");
   return r;
}

/* A request expected to stay pending (its id in *id). */
static void req_pending(json_int_t* id, const char* fmt, ...) {
   va_list ap;
   va_start(ap, fmt);
   json_t* r = send_req(id, fmt, ap);
   va_end(ap);
   cr_assert_null(r, "the request waits");
   cr_assert_null(take_reply(*id), "no reply yet");
}

static void expect_ok(json_t* r) {
   char* s = json_dumps(r, 0);
   cr_assert(json_is_true(json_object_get(r, "ok")), "ok reply: %s", s);
   free(s);
}

static void expect_err(json_t* r, const char* code, const char* in_message) {
   char* s = json_dumps(r, 0);
   json_t* e = json_object_get(r, "error");
   cr_assert(json_is_false(json_object_get(r, "ok")), "error reply: %s", s);
   cr_assert_str_eq(json_string_value(json_object_get(e, "code")), code, "code in %s", s);
   cr_assert(strstr(json_string_value(json_object_get(e, "message")), in_message),
             "\"%s\" in the message: %s", in_message, s);
   free(s);
}

static const char* str(json_t* o, const char* key) {
   const char* s = json_string_value(json_object_get(o, key));
   cr_assert(s, "string field %s", key);
   return s;
}

static json_int_t num(json_t* o, const char* key) {
   json_t* v = json_object_get(o, key);
   cr_assert(json_is_integer(v), "integer field %s", key);
   return json_integer_value(v);
}

/* The texts of a logs reply's lines, joined with '|'. */
static char* texts(json_t* lines) {
   char* out = xstrdup("");
   size_t i;
   json_t* l;
   json_array_foreach(lines, i, l) {
      char* next = xasprintf("%s%s%s", out, i ? "|" : "", str(l, "text"));
      free(out);
      out = next;
   }
   return out;
}

static void expect_texts(json_t* lines, const char* want) {
   char* got = texts(lines);
   cr_assert_str_eq(got, want);
   free(got);
}

static json_t* proc_of(json_t* ps, const char* name) {
   size_t i;
   json_t* p;
   json_array_foreach(json_object_get(ps, "processes"), i,
                      p) if (strcmp(str(p, "name"), name) == 0) return p;
   cr_assert_fail("process %s in ps", name);
   return NULL;
}

static bool notice_is(const char* text) {
   rcu_read_lock();
   const SupNotice* n = sup_notice_read(srv.sup);
   bool eq = n && strcmp(n->text, text) == 0;
   rcu_read_unlock();
   return eq;
}

#define URL_LINE "  ➜  Local:   http://localhost:5173/"

/* ---------------------------------------------------------------- text */

Test(ctl, text_is_valid_utf8_without_controls) {
   const char in[] = "a\xff"
                     "b\x01\tc\x7f\x1b[0m\xc2\x85"
                     "é\xe2\x82";
   json_t* j = ctl_text(in, sizeof in - 1);
   cr_assert_str_eq(json_string_value(j), "a\xef\xbf\xbd"
                                          "bc[0mé\xef\xbf\xbd\xef\xbf\xbd");
   json_decref(j);
   j = ctl_text("", 0);
   cr_assert_str_eq(json_string_value(j), "");
   json_decref(j);
   /* Longer than the stack buffer. */
   char big[5000];
   memset(big, 'x', sizeof big);
   big[100] = '\xfe';
   j = ctl_text(big, sizeof big);
   cr_assert_eq(json_string_length(j), sizeof big + 2);
   json_decref(j);
}

/* ---------------------------------------------------------------- ps */

Test(ctl, ps_fields) {
   add("dev", "echo booting; echo '" URL_LINE "'; exec sleep 60");
   add("idle", "echo never");
   sup_start(srv.sup, 0);
   WAIT_FOR(snap(0).ready_ms != 0);
   json_t* r = req("{\"op\":\"ps\"}");
   expect_ok(r);
   cr_assert_eq(json_array_size(json_object_get(r, "processes")), 2);
   json_t* p = proc_of(r, "dev");
   cr_assert_eq(num(p, "id"), 0);
   cr_assert_str_eq(str(p, "state"), "running");
   cr_assert(json_is_true(json_object_get(p, "ready")));
   cr_assert_eq(num(p, "pid"), snap(0).pid);
   cr_assert(json_is_null(json_object_get(p, "exit_code")));
   cr_assert(json_is_null(json_object_get(p, "signal")));
   cr_assert_eq(num(p, "restarts"), 0);
   cr_assert_eq((uint64_t)num(p, "started_ms"), snap(0).started_ms);
   cr_assert(json_is_null(json_object_get(p, "ended_ms")));
   cr_assert(json_is_real(json_object_get(p, "uptime_s")));
   cr_assert_eq(num(p, "lines"), 2);
   cr_assert_eq(num(p, "errors"), 0);
   cr_assert_eq(num(p, "warnings"), 0);
   json_t* urls = json_object_get(p, "urls");
   cr_assert_eq(json_array_size(urls), 1);
   cr_assert_str_eq(json_string_value(json_array_get(urls, 0)), "http://localhost:5173/");
   cr_assert(json_is_null(json_object_get(p, "tests")));
   cr_assert(json_is_null(json_object_get(p, "build")));
   cr_assert_str_eq(str(p, "last_line"), URL_LINE);

   p = proc_of(r, "idle");
   cr_assert_str_eq(str(p, "state"), "idle");
   cr_assert(json_is_false(json_object_get(p, "ready")));
   cr_assert(json_is_null(json_object_get(p, "pid")));
   cr_assert(json_is_null(json_object_get(p, "started_ms")));
   cr_assert(json_is_null(json_object_get(p, "uptime_s")));
   cr_assert(json_is_null(json_object_get(p, "last_line")));
   cr_assert_eq(json_array_size(json_object_get(p, "urls")), 0);
   json_decref(r);
}

Test(ctl, ps_exit_code_and_signal) {
   add("bad", "exit 3");
   add("segv", "kill -SEGV $$");
   sup_start(srv.sup, 0);
   sup_start(srv.sup, 1);
   WAIT_FOR(snap(0).state == PROC_FAILED && snap(1).state == PROC_KILLED);
   json_t* r = req("{\"op\":\"ps\"}");
   json_t* p = proc_of(r, "bad");
   cr_assert_str_eq(str(p, "state"), "failed");
   cr_assert_eq(num(p, "exit_code"), 3);
   cr_assert(json_is_null(json_object_get(p, "signal")));
   cr_assert_gt(num(p, "ended_ms"), 0);
   p = proc_of(r, "segv");
   cr_assert_str_eq(str(p, "state"), "killed");
   cr_assert_eq(num(p, "signal"), 11);
   cr_assert(json_is_null(json_object_get(p, "exit_code")));
   json_decref(r);
}

/* ---------------------------------------------------------------- actions */

Test(ctl, start_stop_restart_kill) {
   add("a", "echo a-up; exec sleep 60");
   add("b", "echo b-up; exec sleep 60");
   json_t* r = req("{\"op\":\"start\",\"names\":[\"a\",\"b\",\"a\"]}");
   expect_ok(r);
   json_t* res = json_object_get(r, "results");
   cr_assert_eq(json_array_size(res), 2, "a name given twice acts once");
   cr_assert_str_eq(str(json_array_get(res, 0), "name"), "a");
   cr_assert_null(json_object_get(json_array_get(res, 0), "note"));
   /* The reply comes once the supervisor has taken the commands: it shows their effect. */
   cr_assert_str_eq(str(json_object_get(json_array_get(res, 0), "process"), "state"), "running");
   cr_assert_str_eq(str(json_object_get(json_array_get(res, 1), "process"), "state"), "running");
   json_decref(r);
   WAIT_FOR(notice_is("mcp: started a, b"));
   WAIT_FOR(snap(0).state == PROC_RUNNING && snap(1).state == PROC_RUNNING);
   int pid = snap(0).pid;

   r = req("{\"op\":\"start\",\"names\":[\"a\"]}");
   cr_assert_str_eq(str(json_array_get(json_object_get(r, "results"), 0), "note"),
                    "already running");
   json_decref(r);

   r = req("{\"op\":\"stop\",\"names\":[\"a\"]}");
   res = json_array_get(json_object_get(r, "results"), 0);
   cr_assert_null(json_object_get(res, "note"));
   cr_assert_str_neq(str(json_object_get(res, "process"), "state"), "running");
   json_decref(r);
   WAIT_FOR(snap(0).state == PROC_STOPPED);
   cr_assert_eq(snap(0).restarts, 0, "the second start did nothing");
   WAIT_FOR(notice_is("mcp: stopped a"));
   r = req("{\"op\":\"stop\",\"names\":[\"a\"]}");
   cr_assert_str_eq(str(json_array_get(json_object_get(r, "results"), 0), "note"), "not running");
   json_decref(r);
   cr_assert_neq(pid, 0);

   r = req("{\"op\":\"restart\",\"names\":[\"b\"]}");
   expect_ok(r);
   json_decref(r);
   WAIT_FOR(snap(1).restarts == 1 && snap(1).state == PROC_RUNNING);
   WAIT_FOR(notice_is("mcp: restarted b"));

   r = req("{\"op\":\"kill\",\"names\":[\"b\"]}");
   expect_ok(r);
   res = json_array_get(json_object_get(r, "results"), 0);
   cr_assert_str_neq(str(json_object_get(res, "process"), "state"), "running");
   json_decref(r);
   WAIT_FOR(snap(1).state == PROC_STOPPED || snap(1).state == PROC_KILLED);
   cr_assert_eq(snap(1).term_signal, 9);
   WAIT_FOR(notice_is("mcp: killed b"));
   r = req("{\"op\":\"ps\"}");
   cr_assert_eq(num(proc_of(r, "b"), "signal"), 9);
   json_decref(r);
}

Test(ctl, unknown_name_does_nothing) {
   add("a", "exec sleep 60");
   add("b", "exec sleep 60");
   json_t* r = req("{\"op\":\"start\",\"names\":[\"a\",\"nope\"]}");
   expect_err(r, "not_found", "no process named \"nope\"; available: a, b");
   json_decref(r);
   /* Commands run in order: once b runs, a start of a sent before it would have run too. */
   sup_start(srv.sup, 1);
   WAIT_FOR(snap(1).state == PROC_RUNNING);
   cr_assert_eq(snap(0).state, PROC_IDLE);
   cr_assert_eq(snap(0).started_ms, 0);
   rcu_read_lock();
   cr_assert_null(sup_notice_read(srv.sup), "no notice for a request that did nothing");
   rcu_read_unlock();
}

Test(ctl, not_found_lists_twenty_names) {
   for (int i = 0; i < 25; i++) {
      char name[16];
      snprintf(name, sizeof name, "p%02d", i);
      add(name, "exit 0");
   }
   json_t* r = req("{\"op\":\"stop\",\"names\":[\"p00\",\"zz\"]}");
   expect_err(r, "not_found", "available: p00, p01, ");
   expect_err(r, "not_found", ", p19 (and 5 more; `ps` lists all)");
   cr_assert_null(strstr(str(json_object_get(r, "error"), "message"), "p20"));
   json_decref(r);
}

Test(ctl, bad_arguments) {
   add("a", "exec sleep 60");
   json_t* r = req("{\"op\":\"start\"}");
   expect_err(r, "bad_request", "\"names\" must be an array");
   json_decref(r);
   r = req("{\"op\":\"stop\",\"names\":[1]}");
   expect_err(r, "bad_request", "non-empty strings");
   json_decref(r);
   r = req("{\"op\":\"stop\",\"names\":[\"a\"],\"wait\":true}");
   expect_err(r, "bad_request", "start and restart only");
   json_decref(r);
   r = req("{\"op\":\"start\",\"names\":[\"a\"],\"timeout_s\":601}");
   expect_err(r, "bad_request", "\"timeout_s\" must be a number of seconds from 0 to 600");
   json_decref(r);
   r = req("{\"op\":\"logs\",\"limit\":0}");
   expect_err(r, "bad_request", "\"limit\" must be an integer from 1 to 10000");
   json_decref(r);
   r = req("{\"op\":\"search\"}");
   expect_err(r, "bad_request", "missing argument \"pattern\"");
   json_decref(r);
   r = req("{\"op\":\"logs\",\"name\":\"zz\"}");
   expect_err(r, "not_found", "available: a");
   json_decref(r);
   cr_assert_eq(snap(0).state, PROC_IDLE);
}

Test(ctl, start_with_wait_returns_at_the_url) {
   add("dev", "echo booting; echo '" URL_LINE "'; echo after; exec sleep 60");
   json_t* r = req("{\"op\":\"start\",\"names\":[\"dev\"],\"wait\":true,\"timeout_s\":30}");
   expect_ok(r);
   json_t* res = json_array_get(json_object_get(r, "results"), 0);
   cr_assert_null(json_object_get(res, "timed_out"));
   json_t* p = json_object_get(res, "process");
   cr_assert(json_is_true(json_object_get(p, "ready")));
   json_t* lines = json_object_get(res, "lines");
   cr_assert_geq(json_array_size(lines), 2);
   cr_assert_str_eq(str(json_array_get(lines, 0), "text"), "booting");
   cr_assert_str_eq(str(json_array_get(lines, 1), "text"), URL_LINE);
   cr_assert_str_eq(str(json_array_get(lines, 1), "kind"), "url");
   json_decref(r);

   /* Already running: no second start, and the lines of the current run. */
   WAIT_FOR(log_end(0) == 3);
   r = req("{\"op\":\"start\",\"names\":[\"dev\"],\"wait\":true}");
   res = json_array_get(json_object_get(r, "results"), 0);
   cr_assert_str_eq(str(res, "note"), "already running");
   expect_texts(json_object_get(res, "lines"), "booting|" URL_LINE "|after");
   json_decref(r);
   cr_assert_eq(snap(0).restarts, 0);
}

Test(ctl, restart_with_wait_gives_the_new_run) {
   add("dev", "echo \"run $$\"; echo '" URL_LINE "'; exec sleep 60");
   sup_start(srv.sup, 0);
   WAIT_FOR(snap(0).ready_ms != 0 && log_end(0) == 2);
   json_t* r = req("{\"op\":\"restart\",\"names\":[\"dev\"],\"wait\":true}");
   json_t* res = json_array_get(json_object_get(r, "results"), 0);
   cr_assert_null(json_object_get(res, "timed_out"));
   cr_assert_eq(num(json_object_get(res, "process"), "restarts"), 1);
   json_t* lines = json_object_get(res, "lines");
   cr_assert_str_eq(str(json_array_get(lines, 0), "text"), "── restarting (run 2) ──");
   char want[64];
   snprintf(want, sizeof want, "run %d", snap(0).pid);
   cr_assert_str_eq(str(json_array_get(lines, 1), "text"), want);
   json_decref(r);
}

Test(ctl, start_with_wait_times_out_or_sees_the_end) {
   add("slow", "echo hi; exec sleep 60");
   add("quick", "echo bye; exit 2");
   json_t* r = req("{\"op\":\"start\",\"names\":[\"slow\"],\"wait\":true,\"timeout_s\":0}");
   json_t* res = json_array_get(json_object_get(r, "results"), 0);
   cr_assert(json_is_true(json_object_get(res, "timed_out")));
   cr_assert(json_is_array(json_object_get(res, "lines")));
   json_decref(r);
   r = req("{\"op\":\"start\",\"names\":[\"quick\"],\"wait\":true}");
   res = json_array_get(json_object_get(r, "results"), 0);
   cr_assert_null(json_object_get(res, "timed_out"));
   cr_assert_str_eq(str(json_object_get(res, "process"), "state"), "failed");
   expect_texts(json_object_get(res, "lines"), "bye|── exited with code 2 ──");
   json_decref(r);
}

Test(ctl, quit_replies_then_quits) {
   add("a", "exec sleep 60");
   sup_start(srv.sup, 0);
   WAIT_FOR(snap(0).state == PROC_RUNNING);
   json_t* r = req("{\"op\":\"quit\"}");
   expect_ok(r);
   json_decref(r);
   WAIT_FOR(sup_finished(srv.sup));
   cr_assert(notice_is("mcp: quit"));
}

/* ---------------------------------------------------------------- logs */

static char* cursor_of(json_t* r) {
   return xstrdup(str(r, "next_cursor"));
}

Test(ctl, logs_tail_cursor_more_and_all) {
   add("five", "for i in 1 2 3 4 5; do echo \"line $i\"; done; exec sleep 60");
   add("other", "echo other-line; exec sleep 60");
   /* Before anything ran: no lines, and a cursor at the very start. */
   json_t* r = req("{\"op\":\"logs\",\"name\":\"five\"}");
   expect_ok(r);
   cr_assert_eq(json_array_size(json_object_get(r, "lines")), 0);
   char* c0 = cursor_of(r);
   json_decref(r);
   r = req("{\"op\":\"logs\"}");
   char* all0 = cursor_of(r);
   json_decref(r);

   sup_start(srv.sup, 0);
   WAIT_FOR(log_end(0) == 5);
   sup_start(srv.sup, 1);
   WAIT_FOR(log_end(1) == 1);

   r = req("{\"op\":\"logs\",\"name\":\"five\",\"limit\":2}");
   expect_texts(json_object_get(r, "lines"), "line 4|line 5");
   json_t* l = json_array_get(json_object_get(r, "lines"), 1);
   cr_assert_str_eq(str(l, "name"), "five");
   cr_assert_eq(num(l, "n"), 4);
   cr_assert_gt(num(l, "time_ms"), 0);
   cr_assert(json_is_null(json_object_get(l, "kind")));
   cr_assert(json_is_false(json_object_get(r, "more")));
   cr_assert_eq(num(r, "evicted"), 0);
   json_decref(r);

   r = req("{\"op\":\"logs\",\"name\":\"five\",\"cursor\":\"%s\",\"limit\":2}", c0);
   expect_texts(json_object_get(r, "lines"), "line 1|line 2");
   cr_assert(json_is_true(json_object_get(r, "more")));
   char* c1 = cursor_of(r);
   json_decref(r);
   r = req("{\"op\":\"logs\",\"name\":\"five\",\"cursor\":\"%s\",\"limit\":2}", c1);
   expect_texts(json_object_get(r, "lines"), "line 3|line 4");
   char* c2 = cursor_of(r);
   json_decref(r);
   r = req("{\"op\":\"logs\",\"name\":\"five\",\"cursor\":\"%s\",\"limit\":2}", c2);
   expect_texts(json_object_get(r, "lines"), "line 5");
   cr_assert(json_is_false(json_object_get(r, "more")));
   json_decref(r);

   r = req("{\"op\":\"logs\",\"cursor\":\"%s\"}", all0);
   expect_texts(json_object_get(r, "lines"), "line 1|line 2|line 3|line 4|line 5|other-line");
   cr_assert_str_eq(str(json_array_get(json_object_get(r, "lines"), 5), "name"), "other");
   json_decref(r);

   r = req("{\"op\":\"logs\",\"name\":\"five\",\"filter\":\"line [24]\"}");
   expect_texts(json_object_get(r, "lines"), "line 2|line 4");
   json_decref(r);
   r = req("{\"op\":\"logs\",\"filter\":\"LINE|other\",\"cursor\":\"%s\"}", all0);
   expect_texts(json_object_get(r, "lines"), "other-line");
   json_decref(r);
   free(c0), free(c1), free(c2), free(all0);
}

Test(ctl, logs_errors) {
   add("a", "echo x; exec sleep 60");
   add("b", "echo y; exec sleep 60");
   json_t* r = req("{\"op\":\"logs\",\"name\":\"a\",\"filter\":\"ab(c\"}");
   expect_err(r, "bad_regex", "offset 4");
   json_decref(r);
   r = req("{\"op\":\"logs\",\"name\":\"a\",\"cursor\":\"garbage\"}");
   expect_err(r, "bad_cursor", "not a cursor of this instance");
   json_decref(r);
   r = req("{\"op\":\"logs\",\"name\":\"a\",\"cursor\":\"b1.1.%llu.0.0\"}", STARTED);
   expect_err(r, "bad_cursor", "not a cursor of this instance");
   json_decref(r);
   r = req("{\"op\":\"logs\",\"name\":\"a\"}");
   char* ca = cursor_of(r);
   json_decref(r);
   r = req("{\"op\":\"logs\",\"name\":\"b\",\"cursor\":\"%s\"}", ca);
   expect_err(r, "bad_cursor", "belongs to another process");
   json_decref(r);
   r = req("{\"op\":\"logs\",\"cursor\":\"%s\"}", ca);
   expect_err(r, "bad_cursor", "belongs to another process");
   json_decref(r);
   free(ca);
}

Test(ctl, logs_long_poll) {
   add("late", "echo late-line; exec sleep 60");
   add("quiet", "exec sleep 60");
   json_t* r = req("{\"op\":\"logs\",\"name\":\"late\"}");
   char* c = cursor_of(r);
   json_decref(r);
   json_int_t id;
   req_pending(&id, "{\"op\":\"logs\",\"name\":\"late\",\"cursor\":\"%s\",\"wait_s\":30}", c);
   poll_calls();
   cr_assert_null(take_reply(id), "nothing new: still waiting");
   sup_start(srv.sup, 0);
   r = wait_reply(id);
   expect_texts(json_object_get(r, "lines"), "late-line");
   json_decref(r);
   free(c);

   /* Nothing arrives: an empty reply once the time has passed. */
   sup_start(srv.sup, 1);
   r = req("{\"op\":\"logs\",\"name\":\"quiet\",\"wait_s\":0.2}");
   expect_ok(r);
   cr_assert_eq(json_array_size(json_object_get(r, "lines")), 0);
   json_decref(r);
}

Test(ctl, cancel_replies_cancelled) {
   add("quiet", "exec sleep 60");
   json_int_t id;
   req_pending(&id, "{\"op\":\"logs\",\"name\":\"quiet\",\"wait_s\":30}");
   drop_calls(false);
   json_t* r = take_reply(id);
   cr_assert(r);
   expect_err(r, "cancelled", "cancelled");
   json_decref(r);
}

Test(ctl, logs_evicted) {
   /* A small retention: a supervisor of its own. */
   teardown();
   start_sup(50);
   /* 30,000 short lines: several chunks of the store (a chunk is evicted whole) */
   add("many", "i=0; while [ $i -lt 30000 ]; do echo \"n $i\"; i=$((i+1)); done; exec sleep 60");
   json_t* r = req("{\"op\":\"logs\",\"name\":\"many\"}");
   char* c = cursor_of(r);
   json_decref(r);
   sup_start(srv.sup, 0);
   WAIT_FOR(log_end(0) == 30000);
   WAIT_FOR(log_begin(0) > 0);
   r = req("{\"op\":\"logs\",\"name\":\"many\",\"cursor\":\"%s\",\"limit\":5}", c);
   json_int_t evicted = num(r, "evicted");
   cr_assert_gt(evicted, 0);
   json_t* first = json_array_get(json_object_get(r, "lines"), 0);
   cr_assert_eq(num(first, "n"), evicted, "the first line retained follows the dropped ones");
   char want[32];
   snprintf(want, sizeof want, "n %lld", (long long)evicted);
   cr_assert_str_eq(str(first, "text"), want);
   cr_assert(json_is_true(json_object_get(r, "more")));
   json_decref(r);
   free(c);
}

/* ---------------------------------------------------------------- search */

Test(ctl, search_context_literal_and_case) {
   add("s", "printf 'alpha\\nTypeError: x\\nbeta\\ngamma\\nTypeError: y\\ndelta\\na.b\\naxb\\n'; "
            "exec sleep 60");
   sup_start(srv.sup, 0);
   WAIT_FOR(log_end(0) == 8);
   json_t* r = req("{\"op\":\"search\",\"pattern\":\"TypeError\",\"context\":1}");
   expect_ok(r);
   json_t* m = json_object_get(r, "matches");
   cr_assert_eq(json_array_size(m), 2);
   json_t* y = json_array_get(m, 0);
   cr_assert_str_eq(str(y, "text"), "TypeError: y", "newest first");
   cr_assert_eq(num(y, "n"), 4);
   cr_assert_str_eq(str(y, "name"), "s");
   cr_assert_str_eq(json_string_value(json_array_get(json_object_get(y, "before"), 0)), "gamma");
   cr_assert_str_eq(json_string_value(json_array_get(json_object_get(y, "after"), 0)), "delta");
   json_t* x = json_array_get(m, 1);
   cr_assert_str_eq(json_string_value(json_array_get(json_object_get(x, "before"), 0)), "alpha");
   cr_assert_str_eq(json_string_value(json_array_get(json_object_get(x, "after"), 0)), "beta");
   cr_assert_eq(num(r, "scanned"), 8);
   cr_assert(json_is_false(json_object_get(r, "truncated")));
   cr_assert_eq(num(r, "too_expensive"), 0);
   json_decref(r);

   r = req("{\"op\":\"search\",\"pattern\":\"a.b\",\"regex\":false}");
   cr_assert_eq(json_array_size(json_object_get(r, "matches")), 1);
   cr_assert_str_eq(str(json_array_get(json_object_get(r, "matches"), 0), "text"), "a.b");
   json_decref(r);
   r = req("{\"op\":\"search\",\"pattern\":\"a.b\"}");
   cr_assert_eq(json_array_size(json_object_get(r, "matches")), 2);
   json_decref(r);
   r = req("{\"op\":\"search\",\"pattern\":\"typeerror\",\"ignore_case\":false}");
   cr_assert_eq(json_array_size(json_object_get(r, "matches")), 0);
   json_decref(r);
   r = req("{\"op\":\"search\",\"pattern\":\"TYPEERROR\",\"ignore_case\":true,\"limit\":1}");
   cr_assert_eq(json_array_size(json_object_get(r, "matches")), 1);
   json_decref(r);
   r = req("{\"op\":\"search\",\"pattern\":\"a(\",\"ignore_case\":true}");
   expect_err(r, "bad_regex", "offset 2");
   json_decref(r);
   r = req("{\"op\":\"search\",\"pattern\":\"x\",\"name\":\"nope\"}");
   expect_err(r, "not_found", "available: s");
   json_decref(r);
}

/* ---------------------------------------------------------------- errors and urls */

Test(ctl, errors_with_their_stack) {
   add("js", "echo starting; echo 'TypeError: x is not a function'; "
             "echo '    at foo (/tmp/a.js:3:5)'; echo '    at bar (/tmp/b.js:10:2)'; "
             "echo done; exec sleep 60");
   sup_start(srv.sup, 0);
   json_t* r = NULL;
   for (int i = 0; i < 3000; i++) {
      r = req("{\"op\":\"errors\",\"name\":\"js\"}");
      json_t* e = json_array_get(json_object_get(r, "errors"), 0);
      if (e && json_array_size(json_object_get(e, "lines")) == 3) break;
      json_decref(r);
      r = NULL;
      nap();
   }
   cr_assert(r, "the error and its stack were detected in time");
   json_t* e = json_array_get(json_object_get(r, "errors"), 0);
   cr_assert_str_eq(str(e, "name"), "js");
   cr_assert_str_eq(str(e, "kind"), "error");
   cr_assert_str_eq(str(e, "title"), "TypeError: x is not a function");
   cr_assert_eq(num(e, "n"), 1);
   cr_assert_gt(num(e, "time_ms"), 0);
   cr_assert(json_is_string(json_object_get(e, "rule")));
   json_t* lines = json_object_get(e, "lines");
   cr_assert_eq(json_array_size(lines), 3, "the stack frames belong to it");
   cr_assert_str_eq(json_string_value(json_array_get(lines, 0)), "TypeError: x is not a function");
   cr_assert_str_eq(json_string_value(json_array_get(lines, 1)), "    at foo (/tmp/a.js:3:5)");
   cr_assert_str_eq(json_string_value(json_array_get(lines, 2)), "    at bar (/tmp/b.js:10:2)");
   cr_assert_eq(num(r, "total_errors"), 1);
   cr_assert_eq(num(r, "total_warnings"), 0);
   json_decref(r);
}

Test(ctl, urls_turn_stale) {
   add("web", "echo '" URL_LINE "'; exec sleep 60");
   sup_start(srv.sup, 0);
   WAIT_FOR(snap(0).ready_ms != 0);
   json_t* r = req("{\"op\":\"urls\"}");
   json_t* u = json_array_get(json_object_get(r, "urls"), 0);
   cr_assert_str_eq(str(u, "name"), "web");
   cr_assert_str_eq(str(u, "url"), "http://localhost:5173/");
   cr_assert_str_eq(str(u, "label"), "Local");
   cr_assert(json_is_false(json_object_get(u, "stale")));
   json_decref(r);
   sup_stop(srv.sup, 0);
   WAIT_FOR(snap(0).state == PROC_STOPPED);
   r = req("{\"op\":\"urls\"}");
   cr_assert(json_is_true(json_object_get(json_array_get(json_object_get(r, "urls"), 0), "stale")));
   json_decref(r);
}

/* ---------------------------------------------------------------- wait */

Test(ctl, wait_matches_times_out_or_sees_the_exit) {
   add("srv", "echo booting; echo 'ready in 5 ms'; exec sleep 60");
   add("late", "sleep 0.1; echo 'ready in 7 ms'; exec sleep 60");
   add("gone", "echo done");
   sup_start(srv.sup, 0);
   WAIT_FOR(log_end(0) == 2);
   json_t* r =
       req("{\"op\":\"wait\",\"name\":\"srv\",\"pattern\":\"ready in\",\"from\":\"start\"}");
   expect_ok(r);
   cr_assert(json_is_true(json_object_get(r, "matched")));
   cr_assert_str_eq(str(json_object_get(r, "line"), "text"), "ready in 5 ms");
   char* after = xstrdup(str(r, "cursor"));
   json_decref(r);

   /* From now (or after the match), the old line does not count. */
   r = req("{\"op\":\"wait\",\"name\":\"srv\",\"pattern\":\"ready in\",\"timeout_s\":0.2}");
   expect_err(r, "timeout", "no line of srv matched \"ready in\"");
   json_decref(r);
   r = req(
       "{\"op\":\"wait\",\"name\":\"srv\",\"pattern\":\"ready\",\"from\":\"%s\",\"timeout_s\":0}",
       after);
   expect_err(r, "timeout", "within 0 s");
   json_decref(r);
   free(after);

   /* The line arrives while the call waits. */
   json_int_t id;
   req_pending(&id, "{\"op\":\"wait\",\"name\":\"late\",\"pattern\":\"ready in \\\\d+\","
                    "\"fail_on_exit\":false}");
   sup_start(srv.sup, 1);
   r = wait_reply(id);
   expect_ok(r);
   cr_assert_str_eq(str(json_object_get(r, "line"), "text"), "ready in 7 ms");
   json_decref(r);

   r = req("{\"op\":\"wait\",\"name\":\"gone\",\"pattern\":\"never\"}");
   expect_err(r, "exited", "gone is not running");
   json_decref(r);
   r = req("{\"op\":\"wait\",\"name\":\"srv\",\"pattern\":\"x\",\"from\":\"nonsense\"}");
   expect_err(r, "bad_cursor", "\"from\" must be");
   json_decref(r);
}

/* A client that starts a process and at once waits for a line must not hear "exited" from the
 * previous run while the start is still in the supervisor's queue. */
/* A stop sent right behind a start that the UI queued (brum launched with the process, or `Enter`
 * a moment ago) stops that start: the supervisor decides in order, not the caller from a snapshot
 * that does not show the start yet. Each round's request is planned before the supervisor thread
 * has taken the start in almost every run; the supervisor's answer makes it right in all. */
Test(ctl, stop_right_behind_a_queued_start) {
   add("calm", "exec sleep 60");
   for (int i = 0; i < 10; i++) {
      sup_start(srv.sup, 0);
      json_t* r = req("{\"op\":\"stop\",\"names\":[\"calm\"]}");
      json_t* res = json_array_get(json_object_get(r, "results"), 0);
      cr_assert_null(json_object_get(res, "note"), "round %d: the queued start was stopped", i);
      cr_assert_str_neq(str(json_object_get(res, "process"), "state"), "running");
      json_decref(r);
      WAIT_FOR(snap(0).state == PROC_STOPPED);
   }
   /* and the other way: a start right behind a queued stop starts nothing (it is stopping: the
    * process ignores SIGTERM, so it stops only at the SIGKILL after the grace period) */
   add("stubborn", "trap '' TERM; echo up; exec sleep 60");
   sup_start(srv.sup, 1);
   WAIT_FOR(snap(1).state == PROC_RUNNING && log_end(1) > 0); /* the trap is set */
   sup_stop(srv.sup, 1);
   json_t* r = req("{\"op\":\"start\",\"names\":[\"stubborn\"]}");
   cr_assert_str_eq(str(json_array_get(json_object_get(r, "results"), 0), "note"),
                    "stopping: not started again (use restart)");
   json_decref(r);
   WAIT_FOR(snap(1).state == PROC_STOPPED || snap(1).state == PROC_KILLED);
}

Test(ctl, wait_right_after_start) {
   add("once", "echo run");
   sup_start(srv.sup, 0);
   WAIT_FOR(snap(0).state == PROC_EXITED && !snap(0).output_open);
   for (int i = 0; i < 5; i++) {
      json_t* r = req("{\"op\":\"start\",\"names\":[\"once\"]}");
      json_decref(r);
      r = req("{\"op\":\"wait\",\"name\":\"once\",\"pattern\":\"^run$\",\"from\":\"start\"}");
      expect_ok(r);
      cr_assert_eq(num(json_object_get(r, "line"), "n"), snap(0).run_line + 1,
                   "the new run's line (after its restart marker)");
      json_decref(r);
      WAIT_FOR(snap(0).state == PROC_EXITED && !snap(0).output_open);
   }
}

/* ---------------------------------------------------------------- subscribe */

/* The state events for `name` sent so far (removed from the list). */
static json_t* take_events(json_int_t sub, const char* name) {
   json_t* out = json_array();
   for (size_t i = 0; i < json_array_size(sent);) {
      json_t* m = json_array_get(sent, i);
      json_t* p = json_object_get(m, "process");
      if (json_object_get(m, "event") && json_integer_value(json_object_get(m, "sub")) == sub &&
          strcmp(str(p, "name"), name) == 0) {
         cr_assert_str_eq(str(m, "event"), "state");
         json_array_append(out, p);
         json_array_remove(sent, i);
      } else {
         i++;
      }
   }
   return out;
}

static bool saw_state(json_t* events, const char* state, bool ready) {
   size_t i;
   json_t* p;
   json_array_foreach(events, i,
                      p) if (strcmp(str(p, "state"), state) == 0 &&
                             json_is_true(json_object_get(p, "ready")) == ready) return true;
   return false;
}

/* The op's immediate result of a request (NULL: pending); *id gets the request's id. */
static json_t* send_only(json_int_t* id, const char* fmt, ...) {
   va_list ap;
   va_start(ap, fmt);
   json_t* r = send_req(id, fmt, ap);
   va_end(ap);
   return r;
}

static bool same_state(json_t* p, json_t* q) {
   const char* keys[] = {"state", "ready", "pid", "restarts"};
   for (size_t i = 0; i < 4; i++)
      if (!json_equal(json_object_get(p, keys[i]), json_object_get(q, keys[i]))) return false;
   return true;
}

Test(ctl, subscribe_events) {
   add("a", "echo hi; exec sleep 60");
   add("b", "exec sleep 60");
   json_int_t id;
   cr_assert_null(send_only(&id, "{\"op\":\"subscribe\"}"));
   json_t* r = take_reply(id);
   cr_assert(r, "subscribe replies ok at once");
   expect_ok(r);
   json_decref(r);
   poll_calls();
   json_t* none = take_events(id, "a");
   cr_assert_eq(json_array_size(none), 0, "no event before a change");
   json_decref(none);

   sup_start(srv.sup, 0);
   json_t* events = json_array();
   for (int i = 0; i < 3000 && !saw_state(events, "running", true); i++) {
      poll_calls();
      json_t* more = take_events(id, "a");
      json_array_extend(events, more);
      json_decref(more);
      nap();
   }
   cr_assert(saw_state(events, "running", true), "a running, ready event came");
   for (size_t i = 1; i < json_array_size(events); i++)
      cr_assert_not(same_state(json_array_get(events, i - 1), json_array_get(events, i)),
                    "an event only for a change");
   json_decref(events);
   json_t* b = take_events(id, "b");
   cr_assert_eq(json_array_size(b), 0, "nothing changed in b");
   json_decref(b);

   cr_assert(calls, "the subscription lasts");
   drop_calls(false);
   r = take_reply(id);
   expect_err(r, "cancelled", "cancelled");
   json_decref(r);
}

/* ---------------------------------------------------------------- bounds */

Test(ctl, search_bounds) {
   /* 250,000 lines retained: more than one search scans in a process. */
   teardown();
   start_sup(300000);
   add("big", "seq 1 250000; echo aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab; exec sleep 60");
   sup_start(srv.sup, 0);
   WAIT_FOR(log_end(0) == 250001);
   json_t* r = req("{\"op\":\"search\",\"pattern\":\"nomatch\"}");
   cr_assert_eq(num(r, "scanned"), 200000);
   cr_assert(json_is_true(json_object_get(r, "truncated")));
   cr_assert_eq(json_array_size(json_object_get(r, "matches")), 0);
   json_decref(r);
   /* A pattern PCRE2 gives up on for that line is counted, not matched. */
   r = req("{\"op\":\"search\",\"pattern\":\"(a+)+$\",\"limit\":1}");
   cr_assert_eq(num(r, "too_expensive"), 1);
   cr_assert_eq(json_array_size(json_object_get(r, "matches")), 0);
   json_decref(r);
}

Test(ctl, replies_stay_bounded) {
   add("wide", "l=$(head -c 60000 /dev/zero | tr '\\0' x); i=0; "
               "while [ $i -lt 100 ]; do echo \"$l\"; i=$((i+1)); done; exec sleep 60");
   json_t* r = req("{\"op\":\"logs\",\"name\":\"wide\"}");
   char* c = cursor_of(r);
   json_decref(r);
   sup_start(srv.sup, 0);
   WAIT_FOR(log_end(0) == 100);
   size_t total = 0;
   for (int calls_made = 0; total < 100; calls_made++) {
      cr_assert_lt(calls_made, 10);
      r = req("{\"op\":\"logs\",\"name\":\"wide\",\"cursor\":\"%s\",\"limit\":10000}", c);
      json_t* lines = json_object_get(r, "lines");
      cr_assert_gt(json_array_size(lines), 0);
      cr_assert_leq(json_array_size(lines) * 60000, 4u << 20, "within the reply's budget");
      cr_assert_eq(num(json_array_get(lines, 0), "n"), (json_int_t)total, "nothing skipped");
      total += json_array_size(lines);
      cr_assert(json_is_boolean(json_object_get(r, "more")));
      cr_assert_eq(json_is_true(json_object_get(r, "more")), total < 100);
      free(c);
      c = cursor_of(r);
      json_decref(r);
   }
   free(c);
   r = req("{\"op\":\"logs\",\"name\":\"wide\",\"limit\":10000}");
   cr_assert_lt(json_array_size(json_object_get(r, "lines")), 100);
   cr_assert_str_eq(str(json_array_get(json_object_get(r, "lines"), 0), "text") + 59990,
                    "xxxxxxxxxx");
   json_decref(r);
}
