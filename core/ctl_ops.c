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
   add_intel(p, sup_intel(slot));
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
   json_t* list = json_array();
   rcu_read_lock();
   const Registry* reg = sup_registry(ctl_sup(srv));
   for (size_t i = 0; i < reg->n; i++) json_array_append_new(list, ctl_proc_json(reg->slots[i]));
   rcu_read_unlock();
   json_t* r = ctl_ok(id);
   json_object_set_new(r, "processes", list);
   return r;
}

/* ---------------------------------------------------------------- the table */

const CtlOp ctl_ops[] = {
    {"ps", op_ps},
    {NULL, NULL},
};
