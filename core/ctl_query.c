/* The control server's read-only questions (docs/PROTOCOL.md): search, errors, urls, and the two
 * that wait (wait for a line, subscribe to state changes). Control thread only; each read is one
 * RCU read section whose results are copied into JSON before anything is sent, and the work of
 * one call (lines scanned) is bounded. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ctl_args.h"
#include "core/ctl_int.h"
#include "core/rcu.h"
#include "core/util.h"

#define SEARCH_MAX_SCAN 200000u /* lines looked at per process */
#define ENTRY_MAX_LINES 50u
#define WAIT_MAX_SCAN 1000000u /* lines a wait looks at per poll */

/* The processes a request names: one, or all when `name` is absent (inside rcu_read_lock). */
typedef struct Procs {
   const Registry* reg;
   const ProcSlot* one; /* NULL: every process */
} Procs;

static size_t procs_n(const Procs* p) {
   return p->one ? 1 : p->reg->n;
}

static const ProcSlot* procs_get(const Procs* p, size_t i) {
   return p->one ? p->one : p->reg->slots[i];
}

static bool procs_find(CtlServer* srv, json_t* id, json_t* req, Procs* p, json_t** err) {
   const char* name;
   if (!ctl_arg_str(req, id, "name", false, &name, err)) return false;
   p->reg = sup_registry(ctl_sup(srv));
   p->one = name ? ctl_find_proc(srv, id, name, err) : NULL;
   return !name || p->one;
}

/* ---------------------------------------------------------------- search */

typedef struct Match {
   uint64_t time_ms, proc, n;
   json_t* obj; /* owned */
} Match;

typedef struct Search {
   Regex* re;        /* owned */
   RegexScratch* sc; /* owned */
   int64_t context, limit;
   Match* m; /* owned */
   size_t n;
   uint64_t scanned;
   size_t bytes; /* log text in the reply so far */
   bool truncated;
} Search;

/* Up to `count` lines' text from `from` on, in order, while the reply's budget lasts (inside
 * rcu_read_lock). */
static json_t* context_lines(const LogStore* ls, uint64_t from, uint64_t count, size_t* bytes) {
   json_t* a = json_array();
   LogLine l;
   for (uint64_t i = 0; i < count; i++) {
      if (!logstore_get(ls, from + i, &l)) continue;
      if (*bytes + l.len > CTL_REPLY_TEXT_MAX) break;
      *bytes += l.len;
      json_array_append_new(a, ctl_text(l.text, l.len));
   }
   return a;
}

static json_t* search_match(Search* s, const ProcSlot* slot, const LogLine* l) {
   json_t* o = ctl_line_json(slot->name, l);
   json_object_del(o, "kind");
   uint64_t c = (uint64_t)s->context, begin = logstore_begin(slot->log);
   uint64_t from = l->lineno >= begin + c ? l->lineno - c : begin;
   s->bytes += l->len;
   json_object_set_new(o, "before", context_lines(slot->log, from, l->lineno - from, &s->bytes));
   json_object_set_new(o, "after", context_lines(slot->log, l->lineno + 1, c, &s->bytes));
   return o;
}

/* One process, newest first, until `limit` matches or SEARCH_MAX_SCAN lines. */
static void search_proc(Search* s, const ProcSlot* slot) {
   uint64_t begin = logstore_begin(slot->log), end = logstore_end(slot->log), scanned = 0;
   int64_t found = 0;
   LogLine l;
   for (uint64_t p = end; p > begin && found < s->limit; p--) {
      if (scanned == SEARCH_MAX_SCAN || s->bytes >= CTL_REPLY_TEXT_MAX) {
         s->truncated = true;
         break;
      }
      scanned++;
      if (!logstore_get(slot->log, p - 1, &l) || !regex_match(s->re, s->sc, l.text, l.len))
         continue;
      s->m = xrealloc(s->m, (s->n + 1) * sizeof *s->m);
      s->m[s->n++] = (Match){l.time_ms, slot->id, l.lineno, search_match(s, slot, &l)};
      found++;
   }
   s->scanned += scanned;
}

/* Newest first across processes; the same time in process order, then newest line first. */
static int match_cmp(const void* a, const void* b) {
   const Match *x = a, *y = b;
   if (x->time_ms != y->time_ms) return x->time_ms > y->time_ms ? -1 : 1;
   if (x->proc != y->proc) return x->proc < y->proc ? -1 : 1;
   return x->n > y->n ? -1 : x->n < y->n;
}

static bool search_args(json_t* id, json_t* req, Search* s, json_t** err) {
   const char* pattern;
   bool regex, icase = false;
   json_t* ic = json_object_get(req, "ignore_case");
   if (!ctl_arg_str(req, id, "pattern", true, &pattern, err) ||
       !ctl_arg_bool(req, id, "regex", true, &regex, err) ||
       !ctl_arg_bool(req, id, "ignore_case", false, &icase, err) ||
       !ctl_arg_int(req, id, "context", 0, 0, 10, &s->context, err) ||
       !ctl_arg_int(req, id, "limit", 50, 1, 1000, &s->limit, err))
      return false;
   /* Absent ignore_case: smart case, as the UI's search. */
   int mode = !ic || json_is_null(ic) ? -1 : icase;
   if (!(s->re = ctl_regex(id, pattern, !regex, mode, err))) return false;
   s->sc = regex_scratch_new();
   return true;
}

static json_t* search_reply(json_t* id, Search* s) {
   if (s->n) qsort(s->m, s->n, sizeof *s->m, match_cmp); /* m may be NULL */
   json_t* matches = json_array();
   for (size_t i = 0; i < s->n; i++) {
      if ((int64_t)i < s->limit)
         json_array_append_new(matches, s->m[i].obj);
      else
         json_decref(s->m[i].obj);
   }
   json_t* r = ctl_ok(id);
   json_object_set_new(r, "matches", matches);
   json_object_set_new(r, "scanned", json_integer((json_int_t)s->scanned));
   json_object_set_new(r, "truncated", json_boolean(s->truncated));
   json_object_set_new(r, "too_expensive", json_integer((json_int_t)regex_scratch_failures(s->sc)));
   return r;
}

json_t* ctl_op_search(CtlServer* srv, CtlConn* c, json_t* id, json_t* req) {
   (void)c;
   json_t* err = NULL;
   Search s = {0};
   Procs p;
   json_t* r = NULL;
   if (!search_args(id, req, &s, &err)) goto done;
   rcu_read_lock();
   if (procs_find(srv, id, req, &p, &err))
      for (size_t i = 0; i < procs_n(&p); i++) search_proc(&s, procs_get(&p, i));
   rcu_read_unlock();
   if (!err) r = search_reply(id, &s);
done:
   if (err)
      for (size_t i = 0; i < s.n; i++) json_decref(s.m[i].obj);
   free(s.m);
   regex_free(s.re);
   regex_scratch_free(s.sc);
   return err ? err : r;
}

/* ---------------------------------------------------------------- errors */

static json_t* str_or_null(const char* s) {
   return s && *s ? ctl_text(s, strlen(s)) : json_null();
}

static json_t* entry_json(const ProcSlot* slot, const DetectEntry* e, size_t* bytes) {
   json_t* o = json_object();
   json_object_set_new(o, "name", ctl_text(slot->name, strlen(slot->name)));
   json_object_set_new(o, "kind", json_string(e->kind == DETECT_ERROR ? "error" : "warning"));
   json_object_set_new(o, "title", str_or_null(e->title));
   json_object_set_new(o, "location", str_or_null(e->location));
   json_object_set_new(o, "rule", str_or_null(e->rule));
   json_object_set_new(o, "time_ms", json_integer((json_int_t)e->time_ms));
   json_object_set_new(o, "n", json_integer((json_int_t)e->first_line));
   uint64_t count = e->last_line >= e->first_line ? e->last_line - e->first_line + 1 : 1;
   if (count > ENTRY_MAX_LINES) count = ENTRY_MAX_LINES;
   json_object_set_new(o, "lines", context_lines(slot->log, e->first_line, count, bytes));
   return o;
}

json_t* ctl_op_errors(CtlServer* srv, CtlConn* c, json_t* id, json_t* req) {
   (void)c;
   json_t* err = NULL;
   Match* m = NULL;
   size_t n = 0;
   uint64_t errors = 0, warnings = 0;
   size_t bytes = 0;
   Procs p;
   rcu_read_lock();
   if (procs_find(srv, id, req, &p, &err)) {
      for (size_t i = 0; i < procs_n(&p); i++) {
         const ProcSlot* slot = procs_get(&p, i);
         const DetectSnap* d = sup_intel(slot);
         if (!d) continue;
         errors += d->errors;
         warnings += d->warnings;
         m = xrealloc(m, (n + d->nentries) * sizeof *m);
         /* Newest first, so the reply's budget for lines goes to the latest entries. */
         for (uint32_t k = d->nentries; k > 0; k--) {
            const DetectEntry* e = &d->entries[k - 1];
            m[n++] = (Match){e->time_ms, slot->id, e->first_line, entry_json(slot, e, &bytes)};
         }
      }
   }
   rcu_read_unlock();
   if (err) return err;
   /* Newest last: the reverse of the search's order. */
   if (n) qsort(m, n, sizeof *m, match_cmp); /* m may be NULL */
   json_t* list = json_array();
   for (size_t i = n; i > 0; i--) json_array_append_new(list, m[i - 1].obj);
   free(m);
   json_t* r = ctl_ok(id);
   json_object_set_new(r, "errors", list);
   json_object_set_new(r, "total_errors", json_integer((json_int_t)errors));
   json_object_set_new(r, "total_warnings", json_integer((json_int_t)warnings));
   return r;
}

/* ---------------------------------------------------------------- urls */

static json_t* text_or_empty(const char* s) {
   return s ? ctl_text(s, strlen(s)) : json_string("");
}

json_t* ctl_op_urls(CtlServer* srv, CtlConn* c, json_t* id, json_t* req) {
   (void)c;
   json_t* err = NULL;
   json_t* list = json_array();
   Procs p;
   rcu_read_lock();
   if (procs_find(srv, id, req, &p, &err)) {
      for (size_t i = 0; i < procs_n(&p); i++) {
         const ProcSlot* slot = procs_get(&p, i);
         const DetectSnap* d = sup_intel(slot);
         ProcState st = sup_snap(slot)->state;
         bool stale = st != PROC_RUNNING && st != PROC_STARTING;
         for (uint32_t k = 0; d && k < d->nurls; k++)
            json_array_append_new(list, json_pack("{s:o, s:o, s:o, s:b}", "name",
                                                  ctl_text(slot->name, strlen(slot->name)), "url",
                                                  str_or_null(d->urls[k].url), "label",
                                                  text_or_empty(d->urls[k].label), "stale", stale));
      }
   }
   rcu_read_unlock();
   if (err) {
      json_decref(list);
      return err;
   }
   json_t* r = ctl_ok(id);
   json_object_set_new(r, "urls", list);
   return r;
}

/* ---------------------------------------------------------------- wait */

typedef struct WaitCall {
   CtlCall base;
   CtlServer* srv;
   uint64_t proc;
   uint64_t pos; /* the next line to look at: each poll scans only what it has not seen */
   /* from "start" while a start this server sent has not begun: the run to read is the next
    * one, which the snapshot shows by a new start time or restart count */
   bool await_run;
   uint64_t old_started_ms;
   uint32_t old_restarts;
   bool fail_on_exit;
   double timeout_s;
   char* pattern;    /* owned, for messages */
   Regex* re;        /* owned */
   RegexScratch* sc; /* owned */
} WaitCall;

/* Scans the lines that arrived since the last poll; the reply when the wait is over. */
static json_t* wait_scan(WaitCall* w, bool timed_out) {
   json_t* r = NULL;
   rcu_read_lock();
   const ProcSlot* slot = sup_registry(ctl_sup(w->srv))->slots[w->proc];
   const ProcSnap* s = sup_snap(slot);
   /* Read before the lines: none can follow what it saw. A start this server sent that the
    * supervisor has not begun yet means more is coming. */
   bool over = ctl_proc_over(s) && !ctl_start_pending(w->srv, s);
   char state[64];
   snap_describe(s, state, sizeof state);
   uint64_t begin = logstore_begin(slot->log), end = logstore_end(slot->log), scanned = 0;
   if (w->await_run && (s->started_ms != w->old_started_ms || s->restarts != w->old_restarts)) {
      w->await_run = false;
      if (s->run_line > w->pos) w->pos = s->run_line;
   }
   if (w->await_run) end = w->pos; /* the earlier run's lines do not count */
   if (w->pos < begin) w->pos = begin;
   LogLine l;
   for (; !r && w->pos < end && scanned < WAIT_MAX_SCAN; w->pos++, scanned++) {
      if (!logstore_get(slot->log, w->pos, &l) || !regex_match(w->re, w->sc, l.text, l.len))
         continue;
      r = ctl_ok(w->base.id);
      json_object_set_new(r, "matched", json_true());
      json_object_set_new(r, "line", ctl_line_json(slot->name, &l));
      json_object_set_new(r, "cursor", ctl_cursor_make(w->srv, w->proc, l.lineno + 1));
   }
   bool caught_up = w->pos >= end;
   const char* name = slot->name;
   if (!r && caught_up && over && w->fail_on_exit)
      r = ctl_err(w->base.id, "exited",
                  "%s is not running (%s) and no line matched \"%s\": start it first, or "
                  "pass fail_on_exit: false to wait for a later run",
                  name, state, w->pattern);
   else if (!r && timed_out)
      r = ctl_err(w->base.id, "timeout", "no line of %s matched \"%s\" within %g s", name,
                  w->pattern, w->timeout_s);
   rcu_read_unlock();
   return r;
}

static bool wait_poll(CtlCall* call, bool timed_out) {
   json_t* r = wait_scan((WaitCall*)call, timed_out);
   if (!r) return false;
   ctl_send_msg(call->conn, r);
   return true;
}

static void wait_free(CtlCall* call) {
   WaitCall* w = (WaitCall*)call;
   json_decref(w->base.id);
   free(w->pattern);
   regex_free(w->re);
   regex_scratch_free(w->sc);
   free(w);
}

static void wait_from_start(WaitCall* w, CtlServer* srv, const ProcSnap* s) {
   w->pos = s->run_line;
   w->await_run = ctl_start_pending(srv, s);
   w->old_started_ms = s->started_ms;
   w->old_restarts = s->restarts;
}

/* The process and the first line to look at; false after setting *err. */
static bool wait_where(CtlServer* srv, json_t* id, json_t* req, WaitCall* w, json_t** err) {
   const char *name, *from;
   if (!ctl_arg_str(req, id, "name", true, &name, err) ||
       !ctl_arg_str(req, id, "from", false, &from, err))
      return false;
   rcu_read_lock();
   const ProcSlot* slot = ctl_find_proc(srv, id, name, err);
   if (slot) {
      w->proc = slot->id;
      if (!from || strcmp(from, "now") == 0)
         w->pos = logstore_end(slot->log);
      else if (strcmp(from, "start") == 0)
         wait_from_start(w, srv, sup_snap(slot));
   }
   rcu_read_unlock();
   if (!slot || !from || strcmp(from, "now") == 0 || strcmp(from, "start") == 0) return slot;
   uint64_t proc;
   if (!ctl_cursor_parse(srv, from, &proc, &w->pos)) {
      *err = ctl_err(id, "bad_cursor",
                     "\"from\" must be \"now\", \"start\" or a cursor of this instance (from "
                     "logs or an earlier wait)");
      return false;
   }
   if (proc != w->proc) {
      *err = ctl_err(id, "bad_cursor", "this cursor belongs to another process than %s", name);
      return false;
   }
   return true;
}

json_t* ctl_op_wait(CtlServer* srv, CtlConn* c, json_t* id, json_t* req) {
   json_t* err = NULL;
   WaitCall* w = xcalloc(1, sizeof *w);
   w->srv = srv;
   w->base.id = json_incref(id ? id : json_null());
   w->base.poll = wait_poll;
   w->base.cancel = ctl_call_cancelled;
   w->base.free = wait_free;
   const char* pattern;
   if (!wait_where(srv, id, req, w, &err) ||
       !ctl_arg_str(req, id, "pattern", true, &pattern, &err) ||
       !ctl_arg_secs(req, id, "timeout_s", 30, 600, &w->timeout_s, &err) ||
       !ctl_arg_bool(req, id, "fail_on_exit", true, &w->fail_on_exit, &err) ||
       !(w->re = ctl_regex(id, pattern, false, -1, &err))) {
      wait_free(&w->base);
      return err;
   }
   w->pattern = xstrdup(pattern);
   w->sc = regex_scratch_new();
   w->base.deadline_ms = util_now_ms() + (uint64_t)(w->timeout_s * 1000);
   ctl_call_add(srv, c, &w->base);
   return NULL;
}

/* ---------------------------------------------------------------- subscribe */

/* What a subscriber last heard about one process. */
typedef struct Seen {
   bool known;
   ProcState state;
   bool ready;
   int pid;
   uint32_t restarts;
} Seen;

typedef struct SubCall {
   CtlCall base;
   CtlServer* srv;
   size_t n;
   Seen* seen; /* owned, by process id */
} SubCall;

/* Records what the process looks like now; true when that differs from what was seen. */
static bool sub_update(Seen* seen, const ProcSnap* s) {
   Seen now = {true, s->state, s->state == PROC_RUNNING && s->ready_ms, s->pid, s->restarts};
   bool changed = !seen->known || seen->state != now.state || seen->ready != now.ready ||
                  seen->pid != now.pid || seen->restarts != now.restarts;
   *seen = now;
   return changed;
}

/* The events since the last look (inside rcu_read_lock); new processes count as changed. */
static json_t* sub_changes(SubCall* sub, bool emit) {
   const Registry* reg = sup_registry(ctl_sup(sub->srv));
   if (reg->n > sub->n) {
      sub->seen = xrealloc(sub->seen, reg->n * sizeof *sub->seen);
      memset(sub->seen + sub->n, 0, (reg->n - sub->n) * sizeof *sub->seen);
      sub->n = reg->n;
   }
   json_t* events = json_array();
   for (size_t i = 0; i < reg->n; i++) {
      if (!sub_update(&sub->seen[i], sup_snap(reg->slots[i])) || !emit) continue;
      json_t* ev = json_object();
      json_object_set_new(ev, "event", json_string("state"));
      json_object_set(ev, "sub", sub->base.id);
      json_object_set_new(ev, "process", ctl_proc_json(reg->slots[i]));
      json_array_append_new(events, ev);
   }
   return events;
}

static bool sub_poll(CtlCall* call, bool timed_out) {
   (void)timed_out; /* no deadline: it lasts until cancelled or disconnected */
   rcu_read_lock();
   json_t* events = sub_changes((SubCall*)call, true);
   rcu_read_unlock();
   for (size_t i = 0; i < json_array_size(events); i++)
      ctl_send_msg(call->conn, json_incref(json_array_get(events, i)));
   json_decref(events);
   return false;
}

static void sub_free(CtlCall* call) {
   SubCall* sub = (SubCall*)call;
   json_decref(sub->base.id);
   free(sub->seen);
   free(sub);
}

json_t* ctl_op_subscribe(CtlServer* srv, CtlConn* c, json_t* id, json_t* req) {
   (void)req;
   SubCall* sub = xcalloc(1, sizeof *sub);
   sub->srv = srv;
   sub->base.id = json_incref(id ? id : json_null());
   sub->base.poll = sub_poll;
   sub->base.cancel = ctl_call_cancelled;
   sub->base.free = sub_free;
   /* What every process looks like now is the baseline: events report changes from it. */
   rcu_read_lock();
   json_decref(sub_changes(sub, false));
   rcu_read_unlock();
   ctl_send_msg(c, ctl_ok(id));
   ctl_call_add(srv, c, &sub->base);
   return NULL;
}
