/* MCP's JSON-RPC layer: one message (or, for 2025-03-26, one batch) per line in, replies out
 * through McpIo. Tool calls become control requests with ids of our own and are answered when
 * the matching reply arrives, so a long wait_for_log never holds back a ping or another call. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/mcp.h"
#include "core/util.h"

/* The versions this server speaks, oldest first; an unknown request gets the last. */
static const char* const versions[] = {"2025-03-26", "2025-06-18", MCP_LATEST_VERSION};

enum {
   RPC_PARSE_ERROR = -32700,
   RPC_INVALID_REQUEST = -32600,
   RPC_METHOD_NOT_FOUND = -32601,
   RPC_INVALID_PARAMS = -32602,
};

/* The replies of one batch, written as one array once every member has been answered. */
typedef struct Batch {
   json_t* replies;    /* owned */
   size_t outstanding; /* members not answered yet, plus one while the batch is being read */
} Batch;

/* A tools/call waiting for the control server's reply. */
typedef struct Call {
   json_t* rpc_id; /* owned: the client's request id */
   json_int_t ctl_id;
   const McpTool* tool;
   json_t* args; /* owned */
   int step;     /* requests sent for it so far, less one */
   size_t max_chars;
   Batch* batch;   /* borrowed; NULL: not in a batch */
   bool cancelled; /* the client gave up on it: its reply is dropped */
   struct Call* next;
} Call;

struct Mcp {
   McpIo io;
   bool read_only;
   const char* version; /* static */
   json_int_t next_ctl_id;
   Call* calls; /* owned list */
};

Mcp* mcp_new(const McpIo* io, bool read_only) {
   Mcp* m = xcalloc(1, sizeof *m);
   m->io = *io;
   m->read_only = read_only;
   m->version = MCP_LATEST_VERSION;
   m->next_ctl_id = 1; /* 0 was the hello */
   return m;
}

bool mcp_busy(const Mcp* m) {
   return m->calls != NULL;
}

static void call_free(Call* c) {
   json_decref(c->rpc_id);
   json_decref(c->args);
   free(c);
}

void mcp_free(Mcp* m) {
   if (!m) return;
   /* Batches still waiting are referenced only from their calls: free each once. */
   for (Call* c = m->calls; c; c = c->next)
      if (c->batch && --c->batch->outstanding == 0) {
         json_decref(c->batch->replies);
         free(c->batch);
      }
   while (m->calls) {
      Call* c = m->calls;
      m->calls = c->next;
      call_free(c);
   }
   free(m);
}

const char* mcp_version(const Mcp* m) {
   return m->version;
}

static bool version_at_least(const Mcp* m, const char* v) {
   return strcmp(m->version, v) >= 0; /* dates compare as strings */
}

static void write_json(Mcp* m, json_t* msg) {
   char* s = mcp_dumps(msg);
   m->io.write(m->io.ud, s, strlen(s));
   free(s);
}

/* Every message read ends in exactly one finish: with its reply, or NULL for none. Outside a
 * batch the reply is written at once; inside one it waits for the others. Takes the reply. */
static void finish(Mcp* m, Batch* b, json_t* reply) {
   if (!b) {
      if (reply) write_json(m, reply);
      json_decref(reply);
      return;
   }
   if (reply) json_array_append_new(b->replies, reply);
   if (--b->outstanding) return;
   if (json_array_size(b->replies)) write_json(m, b->replies);
   json_decref(b->replies);
   free(b);
}

/* Takes `result`. */
static json_t* rpc_result(json_t* id, json_t* result) {
   return json_pack("{s:s, s:O, s:o}", "jsonrpc", "2.0", "id", id ? id : json_null(), "result",
                    result);
}

__attribute__((format(printf, 3, 4))) static json_t* rpc_error(json_t* id, int code,
                                                               const char* fmt, ...) {
   va_list ap;
   va_start(ap, fmt);
   char* msg = NULL;
   if (vasprintf(&msg, fmt, ap) < 0) util_die_oom();
   va_end(ap);
   json_t* e = json_pack("{s:s, s:O, s:{s:i, s:s}}", "jsonrpc", "2.0", "id", id ? id : json_null(),
                         "error", "code", code, "message", msg);
   free(msg);
   if (!e) util_die_oom(); /* a message that is not UTF-8 cannot happen: we wrote it */
   return e;
}

/* A tool's answer: the text (the structured result's JSON, or the error message) and, from
 * 2025-06-18 on, the structured result itself. Takes `structured`. */
static json_t* tool_result(const Mcp* m, const char* text, json_t* structured, bool is_error) {
   json_t* r = json_object();
   json_t* content = json_pack("[{s:s, s:s}]", "type", "text", "text", text);
   if (!content) content = json_pack("[{s:s, s:s}]", "type", "text", "text", "(not UTF-8)");
   json_object_set_new(r, "content", content);
   if (structured && version_at_least(m, "2025-06-18"))
      json_object_set(r, "structuredContent", structured);
   json_object_set_new(r, "isError", json_boolean(is_error));
   json_decref(structured);
   return r;
}

static json_t* tool_error(const Mcp* m, json_t* id, char* msg) {
   json_t* r = rpc_result(id, tool_result(m, msg, NULL, true));
   free(msg);
   return r;
}

/* ---- initialize, tools/list ---- */

static json_t* do_initialize(Mcp* m, json_t* id, json_t* params) {
   const char* want = json_string_value(json_object_get(params, "protocolVersion"));
   if (!want)
      return rpc_error(id, RPC_INVALID_PARAMS,
                       "initialize needs params.protocolVersion, a string such as \"%s\"",
                       MCP_LATEST_VERSION);
   m->version = versions[ARRAY_LEN(versions) - 1];
   for (size_t i = 0; i < ARRAY_LEN(versions); i++)
      if (strcmp(want, versions[i]) == 0) m->version = versions[i];
   json_t* res = json_pack(
       "{s:s, s:{s:{s:b}}, s:{s:s, s:s}, s:s}", "protocolVersion", m->version, "capabilities",
       "tools", "listChanged", 0, "serverInfo", "name", "brum", "version", BRUM_VERSION,
       "instructions",
       "brum supervises this project's dev processes (package.json scripts). list_processes "
       "shows them; start_process and restart_process return once the process is ready, with "
       "its first lines; read_logs, search_logs and get_errors read their output; wait_for_log "
       "waits for a line.");
   return rpc_result(id, res);
}

static json_t* schema(const char* text) {
   json_error_t e;
   json_t* j = json_loads(text, 0, &e);
   if (!j) { /* our own constant: a bug, found by the first tools/list of any test */
      fprintf(stderr, "brum mcp: bad built-in schema: %s\n", e.text);
      abort();
   }
   return j;
}

static json_t* tool_json(const Mcp* m, const McpTool* t) {
   bool new_fields = version_at_least(m, "2025-06-18");
   json_t* o = json_object();
   json_object_set_new(o, "name", json_string(t->name));
   if (new_fields) json_object_set_new(o, "title", json_string(t->title));
   json_object_set_new(o, "description", json_string(t->description));
   json_object_set_new(o, "inputSchema", schema(t->input_schema));
   if (new_fields) json_object_set_new(o, "outputSchema", schema(t->output_schema));
   json_object_set_new(o, "annotations",
                       json_pack("{s:s, s:b, s:b, s:b, s:b}", "title", t->title, "readOnlyHint",
                                 t->read_only, "destructiveHint", t->destructive, "idempotentHint",
                                 t->idempotent, "openWorldHint", 0));
   return o;
}

static json_t* do_tools_list(Mcp* m, json_t* id) {
   json_t* tools = json_array();
   for (size_t i = 0; i < mcp_ntools; i++)
      if (mcp_tools[i].read_only || !m->read_only)
         json_array_append_new(tools, tool_json(m, &mcp_tools[i]));
   return rpc_result(id, json_pack("{s:o}", "tools", tools));
}

/* ---- tools/call ---- */

/* max_chars is every tool's argument, checked by the schema; not sent to the server. */
static size_t take_max_chars(json_t* args) {
   json_t* v = json_object_get(args, "max_chars");
   size_t n = v ? (size_t)json_integer_value(v) : MCP_DEFAULT_CHARS;
   json_object_del(args, "max_chars");
   return n;
}

/* Returns the reply, or NULL when the call now waits for the control server. */
static json_t* do_tools_call(Mcp* m, json_t* id, json_t* params, Batch* b) {
   const char* name = json_string_value(json_object_get(params, "name"));
   if (!name) return rpc_error(id, RPC_INVALID_PARAMS, "tools/call needs params.name (a string)");
   const McpTool* t = mcp_tool_find(name);
   if (!t)
      return rpc_error(id, RPC_INVALID_PARAMS, "Unknown tool: %s (tools/list lists them)", name);
   if (m->read_only && !t->read_only)
      return tool_error(m, id,
                        xasprintf("%s is not available: this server runs with --read-only (only "
                                  "list_processes, read_logs, search_logs, get_errors and "
                                  "wait_for_log); ask the user to start it or drop --read-only",
                                  name));
   json_t* args = json_object_get(params, "arguments");
   if (args && !json_is_object(args))
      return tool_error(m, id, xasprintf("%s: arguments must be an object", name));
   args = args ? json_deep_copy(args) : json_object();
   char* err = NULL;
   json_t* req = NULL;
   if (mcp_check_args(t, args, &err) < 0 || !(req = t->request(args, &err))) {
      json_decref(args);
      return tool_error(m, id, err);
   }
   Call* c = xcalloc(1, sizeof *c);
   c->rpc_id = json_incref(id);
   c->ctl_id = m->next_ctl_id++;
   c->tool = t;
   c->max_chars = take_max_chars(args);
   c->args = args;
   c->batch = b;
   json_object_set_new(req, "id", json_integer(c->ctl_id));
   int rc = m->io.ctl_send(m->io.ud, req, &err);
   json_decref(req);
   if (rc < 0) {
      call_free(c);
      return tool_error(m, id, err ? err : xasprintf("cannot reach the brum instance"));
   }
   c->next = m->calls;
   m->calls = c;
   return NULL;
}

static Call* call_take(Mcp* m, Call* c) {
   for (Call** p = &m->calls; *p; p = &(*p)->next)
      if (*p == c) {
         *p = c->next;
         return c;
      }
   return NULL;
}

/* notifications/cancelled: the socket's cancel makes the server reply `cancelled` at once; that
 * reply is dropped, as MCP wants no response to a cancelled request. */
static void do_cancel(Mcp* m, json_t* params) {
   json_t* rid = json_object_get(params, "requestId");
   for (Call* c = m->calls; c && rid; c = c->next) {
      if (c->cancelled || !json_equal(c->rpc_id, rid)) continue;
      c->cancelled = true;
      json_t* req =
          json_pack("{s:I, s:s, s:I}", "id", m->next_ctl_id++, "op", "cancel", "target", c->ctl_id);
      char* err = NULL;
      if (m->io.ctl_send(m->io.ud, req, &err) < 0) free(err); /* ctl_lost will end the call */
      json_decref(req);
      return;
   }
}

/* ---- one message ---- */

static bool valid_id(json_t* id) {
   return json_is_string(id) || json_is_number(id);
}

static json_t* dispatch(Mcp* m, const char* method, json_t* id, json_t* params, Batch* b) {
   if (strcmp(method, "initialize") == 0) {
      if (b) return rpc_error(id, RPC_INVALID_REQUEST, "initialize must not be part of a batch");
      return do_initialize(m, id, params);
   }
   if (strcmp(method, "ping") == 0) return rpc_result(id, json_object());
   if (strcmp(method, "tools/list") == 0) return do_tools_list(m, id);
   if (strcmp(method, "tools/call") == 0) return do_tools_call(m, id, params, b);
   return rpc_error(id, RPC_METHOD_NOT_FOUND, "Method not found: %s", method);
}

static void handle(Mcp* m, json_t* msg, Batch* b) {
   if (!json_is_object(msg)) {
      finish(m, b, rpc_error(NULL, RPC_INVALID_REQUEST, "Invalid Request: not a JSON object"));
      return;
   }
   json_t* id = json_object_get(msg, "id");
   json_t* method = json_object_get(msg, "method");
   json_t* params = json_object_get(msg, "params");
   json_t* rid = valid_id(id) ? id : NULL;
   if (!json_is_string(method)) {
      /* A response from the client: we send no requests, so there is nothing to match. */
      bool response = id && (json_object_get(msg, "result") || json_object_get(msg, "error"));
      finish(m, b,
             response ? NULL
                      : rpc_error(rid, RPC_INVALID_REQUEST,
                                  "Invalid Request: \"method\" must be a string"));
      return;
   }
   const char* name = json_string_value(method);
   const char* jv = json_string_value(json_object_get(msg, "jsonrpc"));
   if (!id) { /* a notification never gets a reply, not even an error */
      if (jv && strcmp(jv, "2.0") == 0 && strcmp(name, "notifications/cancelled") == 0)
         do_cancel(m, params);
      finish(m, b, NULL);
      return;
   }
   if (!jv || strcmp(jv, "2.0") != 0 || !rid) {
      finish(m, b,
             rpc_error(rid, RPC_INVALID_REQUEST,
                       !rid ? "Invalid Request: \"id\" must be a string or a number"
                            : "Invalid Request: \"jsonrpc\" must be \"2.0\""));
      return;
   }
   if (params && !json_is_object(params)) {
      finish(m, b,
             rpc_error(rid, RPC_INVALID_PARAMS, "Invalid params: \"params\" must be an object"));
      return;
   }
   json_t* reply = dispatch(m, name, rid, params, b);
   if (reply || !b) finish(m, b, reply);
   /* else: a call in a batch waits; its reply finishes the batch member. */
}

static void handle_batch(Mcp* m, json_t* arr) {
   if (json_array_size(arr) == 0) {
      finish(m, NULL, rpc_error(NULL, RPC_INVALID_REQUEST, "Invalid Request: empty batch"));
      return;
   }
   if (strcmp(m->version, "2025-03-26") != 0) {
      finish(m, NULL,
             rpc_error(NULL, RPC_INVALID_REQUEST,
                       "Invalid Request: JSON-RPC batches are part of protocol version 2025-03-26 "
                       "only (this session uses %s): send one message per line",
                       m->version));
      return;
   }
   Batch* b = xcalloc(1, sizeof *b);
   b->replies = json_array();
   b->outstanding = json_array_size(arr) + 1;
   for (size_t i = 0; i < json_array_size(arr); i++) handle(m, json_array_get(arr, i), b);
   finish(m, b, NULL); /* the batch is read: it may be complete */
}

void mcp_input(Mcp* m, const char* line, size_t len) {
   size_t skip = 0;
   while (skip < len && strchr(" \t\r", line[skip])) skip++;
   if (skip == len) return; /* a blank line is no message */
   json_error_t e;
   json_t* msg = json_loadb(line, len, JSON_DECODE_ANY, &e);
   if (!msg) {
      finish(m, NULL,
             rpc_error(NULL, RPC_PARSE_ERROR, "Parse error: %s (at character %d)", e.text,
                       e.position));
      return;
   }
   if (json_is_array(msg))
      handle_batch(m, msg);
   else
      handle(m, msg, NULL);
   json_decref(msg);
}

/* ---- replies from the control server ---- */

static json_t* call_reply(Mcp* m, Call* c, json_t* reply) {
   const McpTool* t = c->tool;
   char* err = NULL;
   json_t* res = NULL;
   if (json_is_true(json_object_get(reply, "ok")))
      res = t->result(c->args, reply, &err);
   else if (!t->on_error || !(res = t->on_error(c->args, reply)))
      err = mcp_reply_error(t, reply);
   if (!res) return tool_error(m, c->rpc_id, err ? err : xasprintf("%s failed", t->name));
   char* text = mcp_cap(t, res, c->max_chars);
   json_t* r = rpc_result(c->rpc_id, tool_result(m, text, res, false));
   free(text);
   return r;
}

/* A tool of several requests sends its next one; false when this reply ends the call. */
static bool call_next(Mcp* m, Call* c, json_t* reply) {
   json_t* req = c->tool->next && !c->cancelled ? c->tool->next(c->args, reply, c->step) : NULL;
   if (!req) return false;
   /* Out of the list while sending: a send that fails ends the other calls (mcp_ctl_lost). */
   call_take(m, c);
   c->step++;
   c->ctl_id = m->next_ctl_id++;
   json_object_set_new(req, "id", json_integer(c->ctl_id));
   char* err = NULL;
   int rc = m->io.ctl_send(m->io.ud, req, &err);
   json_decref(req);
   if (rc == 0) {
      c->next = m->calls;
      m->calls = c;
      return true;
   }
   finish(m, c->batch, tool_error(m, c->rpc_id, err ? err : xstrdup("cannot reach brum")));
   call_free(c);
   return true;
}

void mcp_ctl_message(Mcp* m, json_t* msg) {
   json_t* id = json_object_get(msg, "id");
   if (!json_is_integer(id)) return; /* an event, or a reply to nothing of ours */
   for (Call* c = m->calls; c; c = c->next) {
      if (c->ctl_id != json_integer_value(id)) continue;
      if (call_next(m, c, msg)) return;
      call_take(m, c);
      finish(m, c->batch, c->cancelled ? NULL : call_reply(m, c, msg));
      call_free(c);
      return;
   }
}

void mcp_ctl_lost(Mcp* m, const char* why) {
   while (m->calls) {
      Call* c = m->calls;
      m->calls = c->next;
      finish(m, c->batch, c->cancelled ? NULL : tool_error(m, c->rpc_id, xstrdup(why)));
      call_free(c);
   }
}
