/* The control server's operations on processes and their logs (docs/PROTOCOL.md): ps, start,
 * stop, restart, kill, logs, quit, and the helpers every operation shares (replies, text,
 * process and line objects, cursors). They run on the control thread: each reads the registry,
 * snapshots and log stores inside one RCU read section, copies what it needs into JSON, and
 * leaves the section before anything is sent. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ctl_args.h"
#include "core/ctl_int.h"
#include "core/rcu.h"
#include "core/util.h"

/* ---------------------------------------------------------------- replies and text */

json_t* ctl_ok(json_t* id) {
   json_t* r = json_object();
   json_object_set(r, "id", id ? id : json_null());
   json_object_set_new(r, "ok", json_true());
   return r;
}

json_t* ctl_err(json_t* id, const char* code, const char* fmt, ...) {
   char buf[2048];
   va_list ap;
   va_start(ap, fmt);
   int n = vsnprintf(buf, sizeof buf, fmt, ap);
   va_end(ap);
   if (n < 0) n = 0;
   if ((size_t)n >= sizeof buf) n = sizeof buf - 1;
   json_t* r = json_object();
   json_object_set(r, "id", id ? id : json_null());
   json_object_set_new(r, "ok", json_false());
   /* A message may quote what the client or a process wrote: ctl_text keeps it valid UTF-8. */
   json_t* e = json_pack("{s:s, s:o}", "code", code, "message", ctl_text(buf, (size_t)n));
   json_object_set_new(r, "error", e);
   return r;
}

json_t* ctl_text(const char* s, size_t len) {
   /* Every byte becomes at most 3 (an invalid byte turns into U+FFFD). */
   char stack[1024];
   char* out = len * 3 <= sizeof stack ? stack : xmalloc(len * 3);
   size_t o = 0;
   for (size_t i = 0; i < len;) {
      uint32_t cp;
      size_t k = util_utf8_decode(s + i, len - i, &cp);
      if (cp == 0xfffd && k == 1) {
         memcpy(out + o, "\xef\xbf\xbd", 3);
         o += 3;
      } else if (!util_is_control(cp)) {
         memcpy(out + o, s + i, k);
         o += k;
      }
      i += k;
   }
   /* Valid UTF-8 by construction, so jansson need not check it again. */
   json_t* j = o ? json_stringn_nocheck(out, o) : json_string("");
   if (out != stack) free(out);
   return j;
}

/* ---------------------------------------------------------------- processes and lines */

const ProcSlot* ctl_find_proc(CtlServer* srv, json_t* id, const char* name, json_t** err) {
   const Registry* reg = sup_registry(ctl_sup(srv));
   for (size_t i = 0; i < reg->n; i++)
      if (strcmp(reg->slots[i]->name, name) == 0) return reg->slots[i];
   /* The message lists what the client may use instead (the first 20 names). */
   char list[1024];
   size_t o = 0;
   list[0] = '\0';
   for (size_t i = 0; i < reg->n && i < 20; i++) {
      int n = snprintf(list + o, sizeof list - o, "%s%s", i ? ", " : "", reg->slots[i]->name);
      if (n < 0 || (size_t)n >= sizeof list - o) break;
      o += (size_t)n;
   }
   if (reg->n == 0)
      *err = ctl_err(id, "not_found", "no process named \"%s\": this instance has none", name);
   else if (reg->n > 20)
      *err = ctl_err(id, "not_found",
                     "no process named \"%s\"; available: %s (and %zu more; `ps` lists all)", name,
                     list, reg->n - 20);
   else
      *err = ctl_err(id, "not_found", "no process named \"%s\"; available: %s", name, list);
   return NULL;
}

static json_t* num_or_null(uint64_t v) {
   return v ? json_integer((json_int_t)v) : json_null();
}

/* The last committed line's text (what a person would glance at), or null before any. */
static json_t* last_line_json(const LogStore* ls) {
   uint64_t end = logstore_end(ls);
   LogLine l;
   if (end > logstore_begin(ls) && logstore_get(ls, end - 1, &l)) return ctl_text(l.text, l.len);
   return json_null();
}

/* urls, tests and build from the process's findings. */
static void add_intel(json_t* p, const DetectSnap* d) {
   json_t* urls = json_array();
   json_t* tests = json_null();
   const char* build = NULL;
   if (d) {
      for (uint32_t i = 0; i < d->nurls; i++)
         json_array_append_new(urls, ctl_text(d->urls[i].url, strlen(d->urls[i].url)));
      if (d->tests.seen)
         tests = json_pack(
             "{s:s, s:I, s:I, s:I, s:I}", "framework", d->tests.framework ? d->tests.framework : "",
             "passed", (json_int_t)d->tests.passed, "failed", (json_int_t)d->tests.failed,
             "skipped", (json_int_t)d->tests.skipped, "total", (json_int_t)d->tests.total);
      if (d->build == BUILD_OK) build = "ok";
      if (d->build == BUILD_FAILED) build = "failed";
   }
   json_object_set_new(p, "urls", urls);
   json_object_set_new(p, "tests", tests);
   json_object_set_new(p, "build", build ? json_string(build) : json_null());
}

/* The last sample of a running process (null while sampling is off or before the first one). */
static void add_resources(json_t* p, const ProcSnap* s) {
   bool has = s->sampled_ms && snap_is_active(s->state);
   json_t* ports = has ? json_array() : json_null();
   for (uint8_t i = 0; has && i < s->nports; i++)
      json_array_append_new(ports, json_integer(s->ports[i]));
   json_object_set_new(p, "cpu", has ? json_real((double)s->cpu_permille / 10.0) : json_null());
   json_object_set_new(p, "rss", has ? json_integer((json_int_t)s->rss_bytes) : json_null());
   json_object_set_new(p, "ports", ports);
}

json_t* ctl_proc_json(const ProcSlot* slot) {
   const ProcSnap* s = sup_snap(slot);
   bool ended = s->state == PROC_EXITED || s->state == PROC_FAILED || s->state == PROC_KILLED ||
                s->state == PROC_STOPPED;
   json_t* p = json_object();
   json_object_set_new(p, "name", ctl_text(slot->name, strlen(slot->name)));
   json_object_set_new(p, "id", json_integer((json_int_t)slot->id));
   json_object_set_new(p, "state", json_string(snap_state_name(s->state)));
   json_object_set_new(p, "ready", json_boolean(s->state == PROC_RUNNING && s->ready_ms != 0));
   json_object_set_new(p, "pid", s->pid > 0 ? json_integer(s->pid) : json_null());
   bool has_code = s->state == PROC_EXITED || s->state == PROC_FAILED;
   json_object_set_new(p, "exit_code", has_code ? json_integer(s->exit_code) : json_null());
   bool has_sig = (s->state == PROC_KILLED || s->state == PROC_STOPPED) && s->term_signal > 0;
   json_object_set_new(p, "signal", has_sig ? json_integer(s->term_signal) : json_null());
   json_object_set_new(p, "restarts", json_integer(s->restarts));
   json_object_set_new(p, "started_ms", num_or_null(s->started_ms));
   json_object_set_new(p, "ended_ms", ended ? num_or_null(s->ended_ms) : json_null());
   json_t* up = json_null();
   if (s->started_ms) {
      uint64_t until = ended && s->ended_ms ? s->ended_ms : util_now_ms();
      up = json_real(until > s->started_ms ? (double)(until - s->started_ms) / 1000.0 : 0.0);
   }
   json_object_set_new(p, "uptime_s", up);
   json_object_set_new(p, "lines", json_integer((json_int_t)s->lines));
   json_object_set_new(p, "errors", json_integer((json_int_t)s->errors));
   json_object_set_new(p, "warnings", json_integer((json_int_t)s->warnings));
   add_resources(p, s);
   add_intel(p, sup_intel(slot));
   if (s->message && *s->message)
      json_object_set_new(p, "message", ctl_text(s->message, strlen(s->message)));
   json_object_set_new(p, "last_line", last_line_json(slot->log));
   return p;
}

json_t* ctl_line_json(const char* name, const LogLine* l) {
   const char* kind = NULL;
   if (l->flags & LINE_ERROR)
      kind = "error";
   else if (l->flags & LINE_WARNING)
      kind = "warning";
   else if (l->flags & LINE_URL)
      kind = "url";
   else if (l->flags & LINE_MARKER)
      kind = "marker";
   json_t* o = json_object();
   json_object_set_new(o, "name", ctl_text(name, strlen(name)));
   json_object_set_new(o, "n", json_integer((json_int_t)l->lineno));
   json_object_set_new(o, "time_ms", json_integer((json_int_t)l->time_ms));
   json_object_set_new(o, "text", ctl_text(l->text, l->len));
   json_object_set_new(o, "kind", kind ? json_string(kind) : json_null());
   return o;
}

/* ---------------------------------------------------------------- cursors */

/* "b1.<pid>.<started_ms>.<process id or a>.<position>": the pid and start time name the
 * instance (a pid alone may be reused by a later one). */
json_t* ctl_cursor_make(const CtlServer* srv, uint64_t proc, uint64_t pos) {
   char buf[128];
   if (proc == CTL_ALL)
      snprintf(buf, sizeof buf, "b1.%d.%" PRIu64 ".a.%" PRIu64, ctl_pid(srv), ctl_started_ms(srv),
               pos);
   else
      snprintf(buf, sizeof buf, "b1.%d.%" PRIu64 ".%" PRIu64 ".%" PRIu64, ctl_pid(srv),
               ctl_started_ms(srv), proc, pos);
   return json_string(buf);
}

/* One decimal field ending at `stop`; false unless it is digits only and fits. */
static bool parse_u64(const char** s, char stop, uint64_t* out) {
   const char* p = *s;
   if (*p < '0' || *p > '9') return false;
   uint64_t v = 0;
   for (; *p >= '0' && *p <= '9'; p++) {
      if (v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10) return false;
      v = v * 10 + (uint64_t)(*p - '0');
   }
   if (*p != stop) return false;
   *out = v;
   *s = stop ? p + 1 : p;
   return true;
}

bool ctl_cursor_parse(const CtlServer* srv, const char* s, uint64_t* proc, uint64_t* pos) {
   uint64_t pid, started, p;
   if (strncmp(s, "b1.", 3) != 0) return false;
   s += 3;
   if (!parse_u64(&s, '.', &pid) || !parse_u64(&s, '.', &started)) return false;
   if (pid != (uint64_t)ctl_pid(srv) || started != ctl_started_ms(srv)) return false;
   if (strncmp(s, "a.", 2) == 0) {
      p = CTL_ALL;
      s += 2;
   } else if (!parse_u64(&s, '.', &p) || p == CTL_ALL) {
      return false;
   }
   if (!parse_u64(&s, '\0', pos)) return false;
   *proc = p;
   return true;
}

/* ---------------------------------------------------------------- ps */

static json_t* op_ps(CtlServer* srv, CtlConn* c, json_t* id, json_t* req) {
   (void)c, (void)req;
   sup_sample_awhile(ctl_sup(srv));
   json_t* list = json_array();
   rcu_read_lock();
   const Registry* reg = sup_registry(ctl_sup(srv));
   for (size_t i = 0; i < reg->n; i++) json_array_append_new(list, ctl_proc_json(reg->slots[i]));
   rcu_read_unlock();
   json_t* r = ctl_ok(id);
   json_object_set_new(r, "processes", list);
   return r;
}

/* ---------------------------------------------------------------- start, stop, restart, kill */

#define MAX_NAMES 1000
#define WAIT_LINES 50

/* One process an action names. */
typedef struct Target {
   uint64_t id;
   uint64_t from_line;  /* its log's end before the command: the new run's lines come after */
   uint64_t started_ms; /* the run before the command (a new run changes it, or restarts) */
   uint32_t restarts;
   ProcState state;  /* before the command */
   SupAck* ack;      /* the command sent */
   SupAnswer answer; /* what the supervisor did with it (SUP_PENDING until it says) */
   bool run_seen;    /* the run to wait for has begun (from_line is then its first line) */
   bool done;        /* it is ready, or it ended */
} Target;

/* Every action replies once the supervisor has taken its commands and published what they did
 * (the reply's processes show it, and a request that follows sees it); with wait (start and
 * restart), once every target is ready or has ended. */
typedef struct ActCall {
   CtlCall base;
   CtlServer* srv;
   SupVerb verb;
   bool wait;
   bool noticed; /* the status line has said what was done */
   size_t n;
   Target t[];
} ActCall;

#define ACK_TIMEOUT_MS 5000 /* against a supervisor that takes no command: reply anyway */

/* The names argument as distinct strings; NULL after setting *err. */
static json_t* act_names(json_t* req, json_t* id, json_t** err) {
   json_t* names = json_object_get(req, "names");
   if (!json_is_array(names) || json_array_size(names) == 0 || json_array_size(names) > MAX_NAMES) {
      *err = ctl_err(id, "bad_request",
                     "argument \"names\" must be an array of 1 to %d process names", MAX_NAMES);
      return NULL;
   }
   json_t* out = json_array();
   for (size_t i = 0; i < json_array_size(names); i++) {
      json_t* v = json_array_get(names, i);
      if (!json_is_string(v) || json_string_length(v) == 0) {
         *err = ctl_err(id, "bad_request", "\"names\" must hold non-empty strings (item %zu)", i);
         json_decref(out);
         return NULL;
      }
      bool dup = false;
      for (size_t j = 0; j < json_array_size(out) && !dup; j++)
         dup = json_equal(v, json_array_get(out, j));
      if (!dup) json_array_append(out, v);
   }
   return out;
}

/* What one process is before the action (inside rcu_read_lock). */
static void act_plan(CtlServer* srv, Target* t, const ProcSlot* slot, SupVerb verb) {
   const ProcSnap* s = sup_snap(slot);
   t->id = slot->id;
   t->from_line = logstore_end(slot->log);
   t->started_ms = s->started_ms;
   t->restarts = s->restarts;
   t->state = s->state;
   bool going = snap_is_active(s->state) || snap_is_pending(s->state);
   if (verb == SUP_RESTART || (verb == SUP_START && !going)) ctl_note_start(srv, s);
}

/* Why the supervisor changed nothing; NULL when it acted. */
static const char* answer_note(SupAnswer a) {
   switch (a) {
   case SUP_NOT_RUNNING:
      return "not running";
   case SUP_ALREADY_RUNNING:
      return "already running";
   case SUP_STILL_STOPPING:
      return "stopping: not started again (use restart)";
   case SUP_QUITTING:
      return "brum is quitting";
   default:
      return NULL;
   }
}

/* "mcp: restarted dev, api" on the instance's status line, for what was done. */
static void act_notice(CtlServer* srv, CtlConn* c, const Target* t, size_t n, SupVerb verb) {
   static const char* const done[] = {"started", "stopped", "restarted", "killed"};
   char buf[512];
   size_t o = (size_t)snprintf(buf, sizeof buf, "%s: %s", ctl_conn_kind(c), done[verb]);
   size_t acted = 0;
   rcu_read_lock();
   const Registry* reg = sup_registry(ctl_sup(srv));
   for (size_t i = 0; i < n && o < sizeof buf; i++) {
      if (t[i].answer != SUP_DONE) continue;
      int k = snprintf(buf + o, sizeof buf - o, "%s%s", acted++ ? ", " : " ",
                       reg->slots[t[i].id]->name);
      o = k < 0 ? sizeof buf : o + (size_t)k;
   }
   rcu_read_unlock();
   if (acted) sup_notice(ctl_sup(srv), buf);
}

/* Up to WAIT_LINES lines of the run, from `from` on, within the reply's budget (inside
 * rcu_read_lock). */
static json_t* run_lines(const ProcSlot* slot, uint64_t from, size_t* bytes) {
   json_t* lines = json_array();
   LogIter it;
   LogLine l;
   logiter_init(&it, slot->log, from);
   while (json_array_size(lines) < WAIT_LINES && logiter_next(&it, &l) &&
          *bytes + l.len <= CTL_REPLY_TEXT_MAX) {
      *bytes += l.len;
      json_array_append_new(lines, ctl_line_json(slot->name, &l));
   }
   return lines;
}

/* The reply's R objects (inside rcu_read_lock); with_lines: the wait's first lines too. */
static json_t* act_results(CtlServer* srv, const Target* t, size_t n, bool with_lines) {
   const Registry* reg = sup_registry(ctl_sup(srv));
   json_t* results = json_array();
   size_t bytes = 0;
   for (size_t i = 0; i < n; i++) {
      const ProcSlot* slot = reg->slots[t[i].id];
      json_t* r = json_object();
      json_object_set_new(r, "name", ctl_text(slot->name, strlen(slot->name)));
      json_object_set_new(r, "process", ctl_proc_json(slot));
      const char* note = answer_note(t[i].answer);
      if (note) json_object_set_new(r, "note", json_string(note));
      if (with_lines) {
         uint64_t from = t[i].run_seen ? t[i].from_line : logstore_end(slot->log);
         json_object_set_new(r, "lines", run_lines(slot, from, &bytes));
         if (!t[i].done) json_object_set_new(r, "timed_out", json_true());
      }
      json_array_append_new(results, r);
   }
   return results;
}

static bool act_poll(CtlCall* call, bool timed_out) {
   ActCall* a = (ActCall*)call;
   bool all = true, answered = true;
   rcu_read_lock();
   const Registry* reg = sup_registry(ctl_sup(a->srv));
   for (size_t i = 0; i < a->n; i++) {
      Target* t = &a->t[i];
      if (t->answer == SUP_PENDING) t->answer = sup_ack_answer(t->ack);
      const ProcSnap* s = sup_snap(reg->slots[t->id]); /* read after the answer: as new */
      if (t->answer == SUP_ALREADY_RUNNING && !t->run_seen) {
         /* Nothing new starts: the run to wait for is the current one. */
         t->run_seen = true;
         t->from_line = s->run_line;
      }
      if (!t->run_seen && (s->restarts != t->restarts || s->started_ms != t->started_ms)) {
         /* The old run's last lines (and its end marker) come before this. */
         t->run_seen = true;
         if (s->run_line > t->from_line) t->from_line = s->run_line;
      }
      if (t->answer == SUP_PENDING)
         t->done = false;
      else if (t->answer != SUP_DONE && !t->run_seen)
         t->done = true; /* nothing was done, and nothing to wait for */
      else if (a->wait)
         t->done = t->run_seen && ((s->state == PROC_RUNNING && s->ready_ms) || ctl_proc_over(s));
      else
         t->done = t->run_seen || s->state != t->state;
      answered = answered && t->answer != SUP_PENDING;
      all = all && t->done;
   }
   if (answered && !a->noticed) {
      a->noticed = true;
      act_notice(a->srv, call->conn, a->t, a->n, a->verb);
   }
   json_t* results = NULL;
   if (all || timed_out) results = act_results(a->srv, a->t, a->n, a->wait);
   rcu_read_unlock();
   if (!results) return false;
   json_t* r = ctl_ok(call->id);
   json_object_set_new(r, "results", results);
   ctl_send_msg(call->conn, r);
   return true;
}

static void act_free(CtlCall* call) {
   ActCall* a = (ActCall*)call;
   for (size_t i = 0; i < a->n; i++) sup_ack_drop(a->t[i].ack);
   json_decref(call->id);
   free(call);
}

/* Reads the arguments and resolves every name before anything is done (a wrong name changes
 * nothing). NULL after setting *err. */
static ActCall* act_prepare(CtlServer* srv, json_t* id, json_t* req, SupVerb verb, bool* wait,
                            json_t** err) {
   double timeout;
   if (!ctl_arg_bool(req, id, "wait", false, wait, err) ||
       !ctl_arg_secs(req, id, "timeout_s", 30, 600, &timeout, err))
      return NULL;
   if (*wait && verb != SUP_START && verb != SUP_RESTART) {
      *err = ctl_err(id, "bad_request", "\"wait\" applies to start and restart only");
      return NULL;
   }
   json_t* names = act_names(req, id, err);
   if (!names) return NULL;
   size_t n = json_array_size(names);
   ActCall* a = xcalloc(1, sizeof *a + n * sizeof(Target));
   a->srv = srv;
   a->verb = verb;
   a->wait = *wait;
   a->n = n;
   a->base.deadline_ms = util_now_ms() + (*wait ? (uint64_t)(timeout * 1000) : ACK_TIMEOUT_MS);
   rcu_read_lock();
   for (size_t i = 0; i < n && !*err; i++) {
      const ProcSlot* slot =
          ctl_find_proc(srv, id, json_string_value(json_array_get(names, i)), err);
      if (slot) act_plan(srv, &a->t[i], slot, verb);
   }
   rcu_read_unlock();
   json_decref(names);
   if (*err) {
      free(a);
      return NULL;
   }
   return a;
}

static json_t* act(CtlServer* srv, CtlConn* c, json_t* id, json_t* req, SupVerb verb) {
   json_t* err = NULL;
   bool wait = false;
   ActCall* a = act_prepare(srv, id, req, verb, &wait, &err);
   if (!a) return err;
   for (size_t i = 0; i < a->n; i++) a->t[i].ack = sup_act(ctl_sup(srv), verb, a->t[i].id);
   a->base.id = json_incref(id ? id : json_null());
   a->base.poll = act_poll;
   a->base.cancel = ctl_call_cancelled;
   a->base.free = act_free;
   ctl_call_add(srv, c, &a->base);
   return NULL;
}

static json_t* op_start(CtlServer* srv, CtlConn* c, json_t* id, json_t* req) {
   return act(srv, c, id, req, SUP_START);
}

static json_t* op_stop(CtlServer* srv, CtlConn* c, json_t* id, json_t* req) {
   return act(srv, c, id, req, SUP_STOP);
}

static json_t* op_restart(CtlServer* srv, CtlConn* c, json_t* id, json_t* req) {
   return act(srv, c, id, req, SUP_RESTART);
}

static json_t* op_kill(CtlServer* srv, CtlConn* c, json_t* id, json_t* req) {
   return act(srv, c, id, req, SUP_KILL);
}

/* ---------------------------------------------------------------- quit */

static json_t* op_quit(CtlServer* srv, CtlConn* c, json_t* id, json_t* req) {
   (void)req;
   char buf[128];
   snprintf(buf, sizeof buf, "%s: quit", ctl_conn_kind(c));
   sup_notice(ctl_sup(srv), buf);
   /* The reply is queued first, so the client hears it before the instance goes away. */
   ctl_send_msg(c, ctl_ok(id));
   sup_quit(ctl_sup(srv));
   return NULL;
}

/* ---------------------------------------------------------------- logs */

#define LOGS_MAX_EXAMINE 1000000u /* lines a filter looks at per read */

/* What a logs request reads: one process's store, or the All index (slot NULL). */
typedef struct LogsSrc {
   const Registry* reg;
   const ProcSlot* slot;
   const LineIdx* all;
} LogsSrc;

static uint64_t src_begin(const LogsSrc* s) {
   return s->slot ? logstore_begin(s->slot->log) : lineidx_begin(s->all);
}

static uint64_t src_end(const LogsSrc* s) {
   return s->slot ? logstore_end(s->slot->log) : lineidx_end(s->all);
}

/* The line at a position and its process; false when retention dropped it. */
static bool src_get(const LogsSrc* s, uint64_t pos, const ProcSlot** slot, LogLine* l) {
   if (s->slot) {
      *slot = s->slot;
      return logstore_get(s->slot->log, pos, l);
   }
   uint64_t ref;
   if (!lineidx_get(s->all, pos, &ref) || LINEREF_PROC(ref) >= s->reg->n) return false;
   *slot = s->reg->slots[LINEREF_PROC(ref)];
   return logstore_get((*slot)->log, LINEREF_LINE(ref), l);
}

/* One logs request's reading state; also the pending call of a long poll. */
typedef struct LogsCall {
   CtlCall base;
   CtlServer* srv;
   uint64_t proc; /* process id or CTL_ALL */
   uint64_t pos;  /* the next position to read */
   bool tail;     /* no cursor: the last `limit` lines */
   int64_t limit;
   Regex* re;        /* owned; NULL: every line */
   RegexScratch* sc; /* owned */
} LogsCall;

/* Whether one more line fits the reply: always the first, then up to CTL_REPLY_TEXT_MAX. */
static bool fits(size_t* bytes, size_t nlines, uint32_t len) {
   if (nlines && *bytes + len > CTL_REPLY_TEXT_MAX) return false;
   *bytes += len;
   return true;
}

/* The newest `limit` lines (matching the filter), oldest first. */
static void logs_tail(LogsCall* q, const LogsSrc* src, json_t* lines) {
   uint64_t begin = src_begin(src), end = src_end(src), examined = 0;
   size_t bytes = 0;
   const ProcSlot* slot;
   LogLine l;
   json_t* newest_first = json_array();
   for (uint64_t p = end; p > begin && (int64_t)json_array_size(newest_first) < q->limit &&
                          examined < LOGS_MAX_EXAMINE;
        p--, examined++) {
      if (!src_get(src, p - 1, &slot, &l)) continue;
      if (q->re && !regex_match(q->re, q->sc, l.text, l.len)) continue;
      if (!fits(&bytes, json_array_size(newest_first), l.len)) break;
      json_array_append_new(newest_first, ctl_line_json(slot->name, &l));
   }
   for (size_t i = json_array_size(newest_first); i > 0; i--)
      json_array_append(lines, json_array_get(newest_first, i - 1));
   json_decref(newest_first);
   q->pos = end;
}

/* The lines after the cursor, oldest first; returns how many retention dropped on the way. */
static uint64_t logs_after(LogsCall* q, const LogsSrc* src, json_t* lines, bool* more) {
   uint64_t begin = src_begin(src), end = src_end(src), examined = 0, evicted = 0;
   size_t bytes = 0;
   const ProcSlot* slot;
   LogLine l;
   if (q->pos < begin) {
      evicted = begin - q->pos;
      q->pos = begin;
   }
   if (q->pos > end) q->pos = end; /* cannot happen for a cursor this instance made */
   for (; q->pos < end && (int64_t)json_array_size(lines) < q->limit && examined < LOGS_MAX_EXAMINE;
        q->pos++, examined++) {
      if (!src_get(src, q->pos, &slot, &l)) {
         evicted++;
         continue;
      }
      if (q->re && !regex_match(q->re, q->sc, l.text, l.len)) continue;
      if (!fits(&bytes, json_array_size(lines), l.len)) break; /* this line comes next time */
      json_array_append_new(lines, ctl_line_json(slot->name, &l));
   }
   *more = q->pos < end;
   return evicted;
}

/* Reads once; NULL when a long poll should keep waiting (nothing new yet). */
static json_t* logs_read(LogsCall* q, bool may_wait) {
   json_t* lines = json_array();
   uint64_t evicted = 0;
   bool more = false;
   rcu_read_lock();
   LogsSrc src = {.reg = sup_registry(ctl_sup(q->srv)), .all = sup_all_index(ctl_sup(q->srv))};
   if (q->proc != CTL_ALL) src.slot = src.reg->slots[q->proc];
   if (q->tail)
      logs_tail(q, &src, lines);
   else
      evicted = logs_after(q, &src, lines, &more);
   rcu_read_unlock();
   q->tail = false;
   if (may_wait && json_array_size(lines) == 0 && !evicted && !more) {
      json_decref(lines);
      return NULL;
   }
   json_t* r = ctl_ok(q->base.id);
   json_object_set_new(r, "lines", lines);
   json_object_set_new(r, "next_cursor", ctl_cursor_make(q->srv, q->proc, q->pos));
   json_object_set_new(r, "evicted", json_integer((json_int_t)evicted));
   json_object_set_new(r, "more", json_boolean(more));
   return r;
}

static bool logs_poll(CtlCall* call, bool timed_out) {
   json_t* r = logs_read((LogsCall*)call, !timed_out);
   if (!r) return false;
   ctl_send_msg(call->conn, r);
   return true;
}

static void logs_free(CtlCall* call) {
   LogsCall* q = (LogsCall*)call;
   json_decref(q->base.id);
   regex_free(q->re);
   regex_scratch_free(q->sc);
   free(q);
}

/* The process (or All) and the starting point; false after setting *err. */
static bool logs_where(CtlServer* srv, json_t* id, json_t* req, LogsCall* q, json_t** err) {
   const char *name, *cursor;
   if (!ctl_arg_str(req, id, "name", false, &name, err) ||
       !ctl_arg_str(req, id, "cursor", false, &cursor, err))
      return false;
   q->proc = CTL_ALL;
   if (name) {
      rcu_read_lock();
      const ProcSlot* slot = ctl_find_proc(srv, id, name, err);
      if (slot) q->proc = slot->id;
      rcu_read_unlock();
      if (!slot) return false;
   }
   q->tail = !cursor;
   if (!cursor) return true;
   uint64_t proc;
   if (!ctl_cursor_parse(srv, cursor, &proc, &q->pos)) {
      *err = ctl_err(id, "bad_cursor",
                     "not a cursor of this instance (it may have restarted): ask without "
                     "\"cursor\" for the latest lines and a new one");
      return false;
   }
   if (proc != q->proc) {
      *err = ctl_err(id, "bad_cursor",
                     "this cursor belongs to %s, not to %s: use the cursor its own logs "
                     "reply gave, or ask without one",
                     proc == CTL_ALL ? "every process (no name)" : "another process",
                     name ? name : "every process (no name)");
      return false;
   }
   return true;
}

static json_t* op_logs(CtlServer* srv, CtlConn* c, json_t* id, json_t* req) {
   json_t* err = NULL;
   LogsCall* q = xcalloc(1, sizeof *q);
   q->srv = srv;
   q->base.id = json_incref(id ? id : json_null());
   q->base.poll = logs_poll;
   q->base.cancel = ctl_call_cancelled;
   q->base.free = logs_free;
   const char* filter;
   double wait_s;
   if (!logs_where(srv, id, req, q, &err) ||
       !ctl_arg_int(req, id, "limit", 100, 1, 10000, &q->limit, &err) ||
       !ctl_arg_secs(req, id, "wait_s", 0, 60, &wait_s, &err) ||
       !ctl_arg_str(req, id, "filter", false, &filter, &err))
      goto fail;
   if (filter) {
      if (!(q->re = ctl_regex(id, filter, false, -1, &err))) goto fail;
      q->sc = regex_scratch_new();
   }
   json_t* r = logs_read(q, wait_s > 0);
   if (r) {
      logs_free(&q->base);
      return r;
   }
   q->base.deadline_ms = util_now_ms() + (uint64_t)(wait_s * 1000);
   ctl_call_add(srv, c, &q->base);
   return NULL;
fail:
   logs_free(&q->base);
   return err;
}

/* ---------------------------------------------------------------- the table */

const CtlOp ctl_ops[] = {
    {"ps", op_ps},
    {"start", op_start},
    {"stop", op_stop},
    {"restart", op_restart},
    {"kill", op_kill},
    {"logs", op_logs},
    {"quit", op_quit},
    {"search", ctl_op_search},
    {"errors", ctl_op_errors},
    {"urls", ctl_op_urls},
    {"wait", ctl_op_wait},
    {"subscribe", ctl_op_subscribe},
    {NULL, NULL},
};
