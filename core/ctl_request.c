/* The control server's requests: framing a connection's bytes into lines (1 MiB at most), JSON
 * parsing, the hello and cancel, and dispatch to the operations (core/ctl_ops.c). The server's
 * thread only. */
#include <stdlib.h>
#include <string.h>

#include "core/ctl.h"
#include "core/ctl_conn.h"
#include "core/util.h"

/* Text from the request, safe and short for an error message. */
static char* quote(const char* s) {
   char* q = util_sanitize(s);
   size_t n = strlen(q);
   if (n > 64) {
      n = 64;
      while (n && ((unsigned char)q[n] & 0xc0) == 0x80) n--; /* not inside a character */
      strcpy(q + n, "…");
   }
   return q;
}

static json_t* op_hello(CtlConn* c, json_t* id, json_t* req) {
   CtlServer* srv = c->srv;
   if (c->hello) return ctl_err(id, "bad_request", "hello was already said on this connection");
   json_t* proto = json_object_get(req, "protocol");
   json_t* client = json_object_get(req, "client");
   if (!json_is_integer(proto))
      return ctl_err(id, "bad_request",
                     "hello needs \"protocol\": %d (the protocol version the client speaks)",
                     CTL_PROTOCOL);
   if (json_integer_value(proto) != CTL_PROTOCOL) {
      ctl_send_msg(c, ctl_err(id, "version",
                              "this brum (%s) speaks protocol %d, the client protocol %lld: use "
                              "a brum ctl or brum mcp of the same version as the running brum",
                              BRUM_VERSION, CTL_PROTOCOL, (long long)json_integer_value(proto)));
      ctl_conn_finish(c);
      return NULL;
   }
   if (client && !json_is_string(client))
      return ctl_err(id, "bad_request", "hello's \"client\" must be a string (\"ctl\", \"mcp\")");
   /* the kind prefixes the status line's notices: keep it short and plain */
   const char* k = client ? json_string_value(client) : "";
   size_t n = 0;
   for (; *k && n < KIND_MAX; k++)
      if ((*k >= 'a' && *k <= 'z') || (*k >= 'A' && *k <= 'Z') || (*k >= '0' && *k <= '9') ||
          *k == '-' || *k == '_' || *k == '.')
         c->kind[n++] = *k;
   c->kind[n] = '\0';
   if (!n) strcpy(c->kind, "client");
   c->hello = true;
   json_t* r = ctl_ok(id);
   json_object_set_new(r, "protocol", json_integer(CTL_PROTOCOL));
   json_object_set_new(r, "version", json_string(BRUM_VERSION));
   json_object_set_new(r, "pid", json_integer(srv->pid));
   json_object_set_new(r, "root", json_string(srv->root));
   json_object_set_new(r, "kind", json_string(srv->kind));
   json_object_set_new(r, "started_ms", json_integer((json_int_t)srv->started_ms));
   return r;
}

static json_t* op_cancel(CtlConn* c, json_t* id, json_t* req) {
   CtlServer* srv = c->srv;
   json_t* target = json_object_get(req, "target");
   if (!json_is_integer(target) && !json_is_string(target) && !json_is_real(target))
      return ctl_err(id, "bad_request",
                     "cancel needs \"target\": the id (number or string) of a pending request");
   for (CtlCall** pp = &srv->calls; *pp; pp = &(*pp)->next) {
      CtlCall* call = *pp;
      if (call->conn != c || !call->id || !json_equal(call->id, target)) continue;
      *pp = call->next;
      c->ncalls--;
      if (call->cancel) call->cancel(call, false);
      call->free(call);
      ctl_arm_timer(srv);
      return ctl_ok(id);
   }
   char* t = json_dumps(target, JSON_ENCODE_ANY | JSON_COMPACT);
   char* q = quote(t ? t : "?");
   json_t* r = ctl_err(id, "not_found", "no pending request with id %s on this connection", q);
   free(q);
   free(t);
   return r;
}

static json_t* unknown_op(json_t* id, const char* op) {
   size_t len = strlen("hello, cancel") + 1;
   for (const CtlOp* o = ctl_ops; o->name; o++) len += strlen(o->name) + 2;
   char* names = xmalloc(len);
   strcpy(names, "hello, cancel");
   for (const CtlOp* o = ctl_ops; o->name; o++) {
      strcat(names, ", ");
      strcat(names, o->name);
   }
   char* q = quote(op);
   json_t* r = ctl_err(id, "unknown_op", "unknown op '%s': the operations are %s", q, names);
   free(q);
   free(names);
   return r;
}

static void dispatch(CtlConn* c, json_t* id, const char* op, json_t* req) {
   json_t* reply = NULL;
   if (strcmp(op, "hello") == 0) {
      reply = op_hello(c, id, req);
   } else if (!c->hello) {
      reply = ctl_err(id, "bad_request",
                      "send hello first: {\"id\":0,\"op\":\"hello\",\"protocol\":%d,\"client\":"
                      "\"ctl\"}",
                      CTL_PROTOCOL);
   } else if (strcmp(op, "cancel") == 0) {
      reply = op_cancel(c, id, req);
   } else {
      const CtlOp* o = ctl_ops;
      while (o->name && strcmp(o->name, op) != 0) o++;
      reply = o->name ? o->fn(c->srv, c, id, req) : unknown_op(id, op);
   }
   if (reply) ctl_send_msg(c, reply);
}

static bool blank(const char* s, size_t n) {
   for (size_t i = 0; i < n; i++)
      if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r') return false;
   return true;
}

void ctl_conn_line(CtlConn* c, const char* s, size_t n) {
   if (blank(s, n)) return; /* an empty line is no request: nothing to answer */
   if (c->budget) c->budget--;
   json_error_t je;
   json_t* req = json_loadb(s, n, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &je);
   if (!req) {
      char* why = quote(je.text);
      ctl_send_msg(c, ctl_err(NULL, "bad_request",
                              "malformed JSON at column %d: %s (one request per line, as a JSON "
                              "object)",
                              je.column, why));
      free(why);
      return;
   }
   json_t* id = json_is_object(req) ? json_object_get(req, "id") : NULL;
   json_t* op = json_is_object(req) ? json_object_get(req, "op") : NULL;
   if (!json_is_object(req))
      ctl_send_msg(
          c, ctl_err(NULL, "bad_request", "a request is a JSON object: {\"id\":1,\"op\":\"ps\"}"));
   else if (id && !json_is_integer(id) && !json_is_real(id) && !json_is_string(id))
      ctl_send_msg(c, ctl_err(NULL, "bad_request", "\"id\" must be a number or a string"));
   else if (!json_is_string(op))
      ctl_send_msg(c,
                   ctl_err(id, "bad_request", "the request has no \"op\" (a string, e.g. \"ps\")"));
   else
      dispatch(c, id, json_string_value(op), req);
   json_decref(req);
}

static void too_long(CtlConn* c) {
   ctl_send_msg(c, ctl_err(NULL, "too_long",
                           "request line longer than 1 MiB: skipped up to its newline (send "
                           "smaller requests, one per line)"));
}

/* Splits what arrived into lines, until the client's budget for this turn is spent; returns the
 * bytes taken. A line that passes MAX_LINE is refused once and the rest of it is skipped up to
 * its newline; the connection stays usable. */
size_t ctl_conn_feed(CtlConn* c, const char* p, size_t n) {
   size_t done = 0;
   while (n && c->budget && !c->closing && !c->finishing) {
      const char* nl = memchr(p, '\n', n);
      size_t take = nl ? (size_t)(nl - p) : n;
      if (c->draining) {
         c->draining = !nl;
      } else if (c->len + take > MAX_LINE) {
         too_long(c);
         c->draining = !nl;
         c->len = 0;
      } else if (nl && c->len == 0) {
         ctl_conn_line(c, p, take); /* a whole line in the read buffer: no copy */
      } else {
         if (c->len + take > c->cap) {
            c->cap = c->len + take > 2 * c->cap ? c->len + take : 2 * c->cap;
            c->line = xrealloc(c->line, c->cap);
         }
         memcpy(c->line + c->len, p, take);
         c->len += take;
         if (nl) {
            ctl_conn_line(c, c->line, c->len);
            c->len = 0;
         }
      }
      if (!c->len && c->cap > KEEP_LINE_BUF) { /* one large request: not kept for the rest */
         free(c->line);
         c->line = NULL;
         c->cap = 0;
      }
      size_t used = nl ? take + 1 : n;
      p += used;
      n -= used;
      done += used;
   }
   return done;
}
