/* The MCP tools: each is a JSON Schema for its arguments, a control request built from them, and
 * a structured result built from the reply (docs/PROTOCOL.md), capped to what an agent's context
 * can take. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/mcp.h"
#include "core/util.h"

/* ---- schemas ---- */

/* JSON Schema text, assembled from pieces (clang-format would re-wrap the string literals). */
// clang-format off
#define MAX_CHARS_PROP                                                                             \
   "\"max_chars\":{\"type\":\"integer\",\"minimum\":1000,\"maximum\":40000,\"default\":12000,"     \
   "\"description\":\"Longest result in characters; past it the oldest lines are left out (and "  \
   "the result says how many).\"}"
#define NAME_PROP(what)                                                                            \
   "\"name\":{\"type\":\"string\",\"minLength\":1,\"description\":\"" what "\"}"
#define WAIT_PROP(what)                                                                            \
   "\"timeout_s\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":50,\"default\":30,"              \
   "\"description\":\"" what "\"}"
#define PROCESS_SCHEMA "{\"type\":\"object\"}"
#define LINE_SCHEMA                                                                                \
   "{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\"},"                          \
   "\"n\":{\"type\":\"integer\"},\"text\":{\"type\":\"string\"}}}"
#define CAPPED_PROP "\"capped\":{\"type\":\"object\"}"
#define OBJECT(props, required)                                                                    \
   "{\"type\":\"object\",\"properties\":{" props "}" required ",\"additionalProperties\":false}"
#define RESULT(props, required) "{\"type\":\"object\",\"properties\":{" props "}" required "}"

#define IN_LIST OBJECT(MAX_CHARS_PROP, "")
#define OUT_LIST                                                                                   \
   RESULT("\"processes\":{\"type\":\"array\",\"items\":" PROCESS_SCHEMA "}," CAPPED_PROP,          \
          ",\"required\":[\"processes\"]")

#define IN_START(verb)                                                                             \
   OBJECT(NAME_PROP("The process (script) to " verb "; list_processes shows the names.") ","       \
          WAIT_PROP("Seconds to wait for it to get ready (it returns earlier when the process "    \
                    "is ready or ends).") ","                                                      \
          MAX_CHARS_PROP,                                                                          \
          ",\"required\":[\"name\"]")
#define OUT_START                                                                                  \
   RESULT("\"name\":{\"type\":\"string\"},\"state\":{\"type\":\"string\"},"                        \
          "\"ready\":{\"type\":\"boolean\"},\"timed_out\":{\"type\":\"boolean\"},"                 \
          "\"summary\":{\"type\":\"string\"},\"process\":" PROCESS_SCHEMA ","                      \
          "\"lines\":{\"type\":\"array\",\"items\":" LINE_SCHEMA "}," CAPPED_PROP,                 \
          ",\"required\":[\"name\",\"state\",\"ready\",\"summary\",\"process\",\"lines\"]")

#define IN_STOP                                                                                    \
   OBJECT(NAME_PROP("The process to stop; list_processes shows the names.") ","                    \
          "\"force\":{\"type\":\"boolean\",\"default\":false,\"description\":\"true: SIGKILL at "  \
          "once instead of SIGTERM (and SIGKILL after the grace period).\"}," MAX_CHARS_PROP,      \
          ",\"required\":[\"name\"]")
#define OUT_STOP                                                                                   \
   RESULT("\"name\":{\"type\":\"string\"},\"state\":{\"type\":\"string\"},"                        \
          "\"summary\":{\"type\":\"string\"},\"process\":" PROCESS_SCHEMA,                         \
          ",\"required\":[\"name\",\"state\",\"summary\",\"process\"]")

#define IN_LOGS                                                                                    \
   OBJECT(NAME_PROP("Only this process's lines (default: every process, in arrival order).") ","   \
          "\"cursor\":{\"type\":\"string\",\"minLength\":1,\"description\":\"next_cursor of an "   \
          "earlier read_logs: the lines after it, oldest first.\"},"                               \
          "\"tail\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":10000,\"default\":100,"        \
          "\"description\":\"Without cursor: how many of the newest lines.\"},"                    \
          "\"limit\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":10000,\"default\":1000,"      \
          "\"description\":\"With cursor: at most this many lines (more: true when others "        \
          "wait).\"},"                                                                             \
          "\"filter\":{\"type\":\"string\",\"minLength\":1,\"description\":\"Only lines matching " \
          "this PCRE2 regular expression (an all-lowercase one ignores case).\"},"              \
          MAX_CHARS_PROP,                                                                          \
          "")
#define OUT_LOGS                                                                                   \
   RESULT("\"lines\":{\"type\":\"array\",\"items\":" LINE_SCHEMA "},"                              \
          "\"next_cursor\":{\"type\":\"string\"},\"more\":{\"type\":\"boolean\"},"                 \
          "\"evicted\":{\"type\":\"integer\"}," CAPPED_PROP,                                       \
          ",\"required\":[\"lines\",\"next_cursor\"]")

#define IN_SEARCH                                                                                  \
   OBJECT("\"pattern\":{\"type\":\"string\",\"minLength\":1,\"description\":\"Text to find (a "    \
          "PCRE2 regular expression with regex: true).\"},"                                        \
          "\"regex\":{\"type\":\"boolean\",\"default\":false,\"description\":\"Treat pattern as "  \
          "a PCRE2 regular expression.\"},"                                                        \
          "\"ignore_case\":{\"type\":\"boolean\",\"description\":\"true: ignore case; false: "     \
          "exact case; absent: smart case (an all-lowercase pattern ignores case).\"},"           \
          NAME_PROP("Only this process (default: every process).") ","                             \
          "\"context\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":10,\"default\":0,"          \
          "\"description\":\"Lines of context before and after each match.\"},"                    \
          "\"limit\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":1000,\"default\":50,"         \
          "\"description\":\"At most this many matches, newest first.\"}," MAX_CHARS_PROP,         \
          ",\"required\":[\"pattern\"]")
#define OUT_SEARCH                                                                                 \
   RESULT("\"matches\":{\"type\":\"array\",\"items\":{\"type\":\"object\"}},"                      \
          "\"scanned\":{\"type\":\"integer\"},\"truncated\":{\"type\":\"boolean\"}," CAPPED_PROP,  \
          ",\"required\":[\"matches\"]")

#define IN_ERRORS                                                                                  \
   OBJECT(NAME_PROP("Only this process (default: every process).") "," MAX_CHARS_PROP, "")
#define OUT_ERRORS                                                                                 \
   RESULT("\"errors\":{\"type\":\"array\",\"items\":{\"type\":\"object\"}},"                       \
          "\"total_errors\":{\"type\":\"integer\"},\"total_warnings\":{\"type\":\"integer\"},"     \
          CAPPED_PROP,                                                                             \
          ",\"required\":[\"errors\"]")

#define IN_WAIT                                                                                    \
   OBJECT("\"pattern\":{\"type\":\"string\",\"minLength\":1,\"description\":\"PCRE2 regular "      \
          "expression a line must match (an all-lowercase one ignores case).\"},"               \
          NAME_PROP("The process whose lines to watch.") ","                                       \
          WAIT_PROP("Seconds to wait for a matching line.") ","                                    \
          "\"from\":{\"type\":\"string\",\"minLength\":1,\"default\":\"now\",\"description\":"     \
          "\"now: only lines that arrive from now on; start: also every line of the current run; " \
          "or a read_logs next_cursor of this process: the lines after it.\"}," MAX_CHARS_PROP,    \
          ",\"required\":[\"pattern\",\"name\"]")
#define OUT_WAIT                                                                                   \
   RESULT("\"matched\":{\"type\":\"boolean\"},\"line\":" LINE_SCHEMA ","                           \
          "\"cursor\":{\"type\":\"string\"},\"timed_out\":{\"type\":\"boolean\"},"                 \
          "\"exited\":{\"type\":\"boolean\"},\"summary\":{\"type\":\"string\"}",                   \
          ",\"required\":[\"matched\"]")
// clang-format on

/* ---- helpers ---- */

static json_t* copy_without_envelope(json_t* reply) {
   json_t* r = json_deep_copy(reply);
   json_object_del(r, "id");
   json_object_del(r, "ok");
   return r;
}

static json_t* names_request(const char* op, json_t* args) {
   return json_pack("{s:s, s:[O]}", "op", op, "names", json_object_get(args, "name"));
}

/* Copies the optional arguments that go to the server under the same name. */
static void pass(json_t* req, json_t* args, const char* const* keys) {
   for (; *keys; keys++) {
      json_t* v = json_object_get(args, *keys);
      if (v) json_object_set(req, *keys, v);
   }
}

static json_int_t int_arg(json_t* args, const char* key, json_int_t dflt) {
   json_t* v = json_object_get(args, key);
   return v ? json_integer_value(v) : dflt;
}

static const char* str_or(json_t* o, const char* key, const char* dflt) {
   const char* s = json_string_value(json_object_get(o, key));
   return s ? s : dflt;
}

/* The one entry of a start/stop/restart reply's results. */
static json_t* first_result(json_t* reply, char** err) {
   json_t* r = json_array_get(json_object_get(reply, "results"), 0);
   if (!json_is_object(r) || !json_is_object(json_object_get(r, "process"))) {
      *err = xasprintf("the brum instance sent a reply without results: is it an older brum? "
                       "Restart it");
      return NULL;
   }
   return r;
}

static char* describe_state(const char* name, json_t* p);

/* "dev is running and ready (pid 42)", "dev is failed (exit code 1): MESSAGE". */
static char* describe(const char* name, json_t* p) {
   char* what = describe_state(name, p);
   const char* msg = json_string_value(json_object_get(p, "message"));
   if (!msg || !*msg) return what;
   char* s = xasprintf("%s: %s", what, msg);
   free(what);
   return s;
}

static char* describe_state(const char* name, json_t* p) {
   const char* st = str_or(p, "state", "unknown");
   json_t* code = json_object_get(p, "exit_code");
   json_t* sig = json_object_get(p, "signal");
   if (json_is_integer(json_object_get(p, "pid")) && json_integer_value(json_object_get(p, "pid")))
      return xasprintf("%s is %s%s (pid %lld)", name, st,
                       json_is_true(json_object_get(p, "ready")) ? " and ready" : "",
                       (long long)json_integer_value(json_object_get(p, "pid")));
   if (json_is_integer(sig))
      return xasprintf("%s is %s (signal %lld)", name, st, (long long)json_integer_value(sig));
   if (json_is_integer(code))
      return xasprintf("%s is %s (exit code %lld)", name, st, (long long)json_integer_value(code));
   return xasprintf("%s is %s", name, st);
}

/* ---- requests and results ---- */

static json_t* req_ps(json_t* args, char** err) {
   (void)args, (void)err;
   return json_pack("{s:s}", "op", "ps");
}

static json_t* res_copy(json_t* args, json_t* reply, char** err) {
   (void)args, (void)err;
   return copy_without_envelope(reply);
}

static json_t* start_request(const char* op, json_t* args) {
   json_t* r = names_request(op, args);
   json_object_set_new(r, "wait", json_true());
   json_object_set_new(r, "timeout_s", json_integer(int_arg(args, "timeout_s", 30)));
   return r;
}

static json_t* req_start(json_t* args, char** err) {
   (void)err;
   return start_request("start", args);
}

static json_t* req_restart(json_t* args, char** err) {
   (void)err;
   return start_request("restart", args);
}

static json_t* res_start(json_t* args, json_t* reply, char** err) {
   json_t* r = first_result(reply, err);
   if (!r) return NULL;
   json_t* p = json_object_get(r, "process");
   const char* name = str_or(r, "name", str_or(args, "name", "?"));
   bool timed_out = json_is_true(json_object_get(r, "timed_out"));
   json_t* lines = json_object_get(r, "lines");
   const char* note = json_string_value(json_object_get(r, "note"));
   char* what = describe(name, p);
   char* summary =
       xasprintf("%s%s%s%s; %zu first line%s below", what, note ? " (" : "", note ? note : "",
                 note ? ")" : "", json_array_size(lines), json_array_size(lines) == 1 ? "" : "s");
   if (timed_out) {
      char* s = xasprintf("%s. It did not get ready within %lld s: wait_for_log waits for a "
                          "line that says it is",
                          summary, (long long)int_arg(args, "timeout_s", 30));
      free(summary);
      summary = s;
   }
   json_t* out = json_pack(
       "{s:s, s:s, s:b, s:b, s:s, s:O, s:o}", "name", name, "state", str_or(p, "state", "unknown"),
       "ready", json_is_true(json_object_get(p, "ready")), "timed_out", timed_out, "summary",
       summary, "process", p, "lines", json_is_array(lines) ? json_incref(lines) : json_array());
   free(what);
   free(summary);
   return out;
}

static json_t* req_stop(json_t* args, char** err) {
   (void)err;
   return names_request(json_is_true(json_object_get(args, "force")) ? "kill" : "stop", args);
}

/* The socket's stop only asks: the process ends later (after SIGKILL at worst). So that an agent
 * can start it again at once, stop_process waits for the end (a wait for a pattern that never
 * matches, which ends with `exited`), then reads the process once more (ps). */
static json_t* next_stop(json_t* args, json_t* reply, int step) {
   if (step == 0) {
      json_t* r = json_array_get(json_object_get(reply, "results"), 0);
      if (!json_is_true(json_object_get(reply, "ok")) || json_object_get(r, "note")) return NULL;
      return json_pack("{s:s, s:O, s:s, s:i, s:s, s:b}", "op", "wait", "name",
                       json_object_get(args, "name"), "pattern", "(*FAIL)", "timeout_s",
                       MCP_MAX_WAIT_S, "from", "now", "fail_on_exit", 1);
   }
   if (step == 1) {
      const char* code = str_or(json_object_get(reply, "error"), "code", "");
      if (strcmp(code, "timeout") == 0)
         json_object_set_new(args, "_note",
                             json_string("asked to stop, still running after 50 s: force: true "
                                         "kills it"));
      return json_pack("{s:s}", "op", "ps");
   }
   return NULL;
}

/* The stop reply's R, or after next_stop, the process from ps. */
static json_t* stopped_process(json_t* args, json_t* reply, const char** note, char** err) {
   const char* name = str_or(args, "name", "");
   json_t* procs = json_object_get(reply, "processes");
   for (size_t i = 0; i < json_array_size(procs); i++) {
      json_t* p = json_array_get(procs, i);
      if (strcmp(str_or(p, "name", ""), name) != 0) continue;
      *note = str_or(args, "_note", NULL);
      return p;
   }
   if (json_object_get(reply, "processes")) {
      *err = xasprintf("stop_process: %s is gone from the process list", name);
      return NULL;
   }
   json_t* r = first_result(reply, err);
   if (!r) return NULL;
   *note = json_string_value(json_object_get(r, "note"));
   return json_object_get(r, "process");
}

static json_t* res_stop(json_t* args, json_t* reply, char** err) {
   const char* note = NULL;
   json_t* p = stopped_process(args, reply, &note, err);
   if (!p) return NULL;
   const char* name = str_or(args, "name", "?");
   char* what = describe(name, p);
   char* summary = note ? xasprintf("%s (%s)", what, note) : xstrdup(what);
   json_t* out = json_pack("{s:s, s:s, s:s, s:O}", "name", name, "state",
                           str_or(p, "state", "unknown"), "summary", summary, "process", p);
   free(what);
   free(summary);
   return out;
}

static json_t* req_logs(json_t* args, char** err) {
   bool cursor = json_object_get(args, "cursor") != NULL;
   if (cursor && json_object_get(args, "tail")) {
      *err = xasprintf("read_logs: pass either cursor (the lines after it) or tail (the newest "
                       "lines), not both");
      return NULL;
   }
   if (!cursor && json_object_get(args, "limit")) {
      *err = xasprintf("read_logs: limit goes with cursor; without one, tail says how many of "
                       "the newest lines to read");
      return NULL;
   }
   json_t* r = json_pack("{s:s, s:I}", "op", "logs", "limit",
                         cursor ? int_arg(args, "limit", 1000) : int_arg(args, "tail", 100));
   static const char* const keys[] = {"name", "cursor", "filter", NULL};
   pass(r, args, keys);
   return r;
}

static json_t* req_search(json_t* args, char** err) {
   (void)err;
   json_t* r =
       json_pack("{s:s, s:O, s:b}", "op", "search", "pattern", json_object_get(args, "pattern"),
                 "regex", json_is_true(json_object_get(args, "regex")));
   static const char* const keys[] = {"ignore_case", "name", "context", "limit", NULL};
   pass(r, args, keys);
   return r;
}

static json_t* req_errors(json_t* args, char** err) {
   (void)err;
   json_t* r = json_pack("{s:s}", "op", "errors");
   static const char* const keys[] = {"name", NULL};
   pass(r, args, keys);
   return r;
}

static json_t* req_wait(json_t* args, char** err) {
   (void)err;
   json_t* r =
       json_pack("{s:s, s:O, s:I, s:s, s:b}", "op", "wait", "pattern",
                 json_object_get(args, "pattern"), "timeout_s", int_arg(args, "timeout_s", 30),
                 "from", str_or(args, "from", "now"), "fail_on_exit", 1);
   static const char* const keys[] = {"name", NULL};
   pass(r, args, keys);
   return r;
}

static json_t* res_wait(json_t* args, json_t* reply, char** err) {
   (void)args, (void)err;
   json_t* r = copy_without_envelope(reply);
   if (!json_object_get(r, "matched")) json_object_set_new(r, "matched", json_true());
   return r;
}

/* A timeout or an ended process is what the agent asked about, not a failed call. */
static json_t* err_wait(json_t* args, json_t* reply) {
   json_t* e = json_object_get(reply, "error");
   const char* code = str_or(e, "code", "");
   const char* msg = str_or(e, "message", "");
   if (strcmp(code, "timeout") == 0) {
      char* s = xasprintf("no line matched within %lld s (%s); call wait_for_log again to keep "
                          "waiting, or read_logs to see what the process printed",
                          (long long)int_arg(args, "timeout_s", 30), msg);
      json_t* r = json_pack("{s:b, s:b, s:s}", "matched", 0, "timed_out", 1, "summary", s);
      free(s);
      return r;
   }
   if (strcmp(code, "exited") == 0) {
      char* s =
          xasprintf("%s; read_logs or get_errors show why, start_process starts it again", msg);
      json_t* r = json_pack("{s:b, s:b, s:s}", "matched", 0, "exited", 1, "summary", s);
      free(s);
      return r;
   }
   return NULL;
}

const McpTool mcp_tools[] = {
    {"list_processes", "List processes",
     "Every process (package.json script) of the project: state, ready, pid, exit code, restarts, "
     "line/error/warning counts, detected URLs and test results, last line.",
     true, false, true, IN_LIST, OUT_LIST, req_ps, res_copy, NULL, NULL},
    {"start_process", "Start a process",
     "Starts a process and returns once it is ready (its first URL, or 1 s without output) or "
     "has ended, with its state and first lines: no need to poll. Does nothing if it is already "
     "running.",
     false, false, true, IN_START("start"), OUT_START, req_start, res_start, NULL, NULL},
    {"stop_process", "Stop a process",
     "Stops a process (SIGTERM to its process group, SIGKILL after the grace period; force: "
     "SIGKILL now). Does nothing if it is not running.",
     false, true, true, IN_STOP, OUT_STOP, req_stop, res_stop, NULL, next_stop},
    {"restart_process", "Restart a process",
     "Stops a process if it runs, starts it again and returns once it is ready or has ended, "
     "with its state and first lines.",
     false, true, false, IN_START("restart"), OUT_START, req_restart, res_start, NULL, NULL},
    {"read_logs", "Read log lines",
     "Reads output lines: the newest `tail` lines, or with `cursor` the lines after an earlier "
     "read (pass next_cursor back to follow a log without repeats).",
     true, false, true, IN_LOGS, OUT_LOGS, req_logs, res_copy, NULL, NULL},
    {"search_logs", "Search log lines",
     "Finds lines containing a text (or matching a PCRE2 regex), newest first, with context.", true,
     false, true, IN_SEARCH, OUT_SEARCH, req_search, res_copy, NULL, NULL},
    {"get_errors", "Get detected errors",
     "Errors and warnings brum detected in the output (compiler, type checker, test runner, "
     "stack traces), with their location and lines, newest last.",
     true, false, true, IN_ERRORS, OUT_ERRORS, req_errors, res_copy, NULL, NULL},
    {"wait_for_log", "Wait for a log line",
     "Waits until a line matching a PCRE2 regex appears (at most 50 s), e.g. 'compiled "
     "successfully' after an edit. Returns matched: false when the time passes or the process "
     "ends first.",
     true, false, true, IN_WAIT, OUT_WAIT, req_wait, res_wait, err_wait, NULL},
};
const size_t mcp_ntools = ARRAY_LEN(mcp_tools);

const McpTool* mcp_tool_find(const char* name) {
   for (size_t i = 0; i < mcp_ntools; i++)
      if (strcmp(mcp_tools[i].name, name) == 0) return &mcp_tools[i];
   return NULL;
}

/* ---- checking arguments against the schema ---- */

static const char* type_name(json_t* v) {
   switch (json_typeof(v)) {
   case JSON_OBJECT:
      return "an object";
   case JSON_ARRAY:
      return "an array";
   case JSON_STRING:
      return "a string";
   case JSON_INTEGER:
      return "an integer";
   case JSON_REAL:
      return "a number";
   case JSON_TRUE:
   case JSON_FALSE:
      return "a boolean";
   default:
      return "null";
   }
}

/* One argument against its property schema: NULL, or a heap message. */
static char* check_one(const char* tool, const char* key, json_t* v, json_t* prop) {
   const char* type = str_or(prop, "type", "");
   bool ok = (strcmp(type, "string") == 0 && json_is_string(v)) ||
             (strcmp(type, "integer") == 0 && json_is_integer(v)) ||
             (strcmp(type, "boolean") == 0 && json_is_boolean(v));
   if (!ok) {
      const char* article = strcmp(type, "integer") == 0 ? "an" : "a";
      return xasprintf("%s: argument '%s' must be %s %s, not %s", tool, key, article, type,
                       type_name(v));
   }
   json_t* min = json_object_get(prop, "minimum");
   json_t* max = json_object_get(prop, "maximum");
   if (json_is_integer(v) && ((min && json_integer_value(v) < json_integer_value(min)) ||
                              (max && json_integer_value(v) > json_integer_value(max))))
      return xasprintf("%s: argument '%s' must be between %lld and %lld, not %lld", tool, key,
                       (long long)json_integer_value(min), (long long)json_integer_value(max),
                       (long long)json_integer_value(v));
   json_t* minlen = json_object_get(prop, "minLength");
   if (json_is_string(v) && minlen && json_string_length(v) < (size_t)json_integer_value(minlen))
      return xasprintf("%s: argument '%s' must not be empty", tool, key);
   return NULL;
}

int mcp_check_args(const McpTool* t, json_t* args, char** err) {
   json_t* s = json_loads(t->input_schema, 0, NULL);
   json_t* props = json_object_get(s, "properties");
   *err = NULL;
   /* Plain loops, not jansson's foreach macros: cppcheck cannot expand those. */
   for (void* it = json_object_iter(args); it; it = json_object_iter_next(args, it)) {
      const char* key = json_object_iter_key(it);
      json_t* v = json_object_iter_value(it);
      json_t* prop = json_object_get(props, key);
      if (!prop) {
         char list[512] = "";
         for (void* p = json_object_iter(props); p; p = json_object_iter_next(props, p)) {
            size_t o = strlen(list);
            snprintf(list + o, sizeof list - o, "%s%s", o ? ", " : "", json_object_iter_key(p));
         }
         *err = xasprintf("%s: unknown argument '%s'; it takes: %s", t->name, key, list);
         break;
      }
      if ((*err = check_one(t->name, key, v, prop))) break;
   }
   json_t* req = json_object_get(s, "required");
   for (size_t i = 0; i < json_array_size(req); i++) {
      json_t* v = json_array_get(req, i);
      if (*err || json_object_get(args, json_string_value(v))) continue;
      json_t* d = json_object_get(json_object_get(props, json_string_value(v)), "description");
      *err = xasprintf("%s: missing required argument '%s'%s%s", t->name, json_string_value(v),
                       d ? ": " : "", d ? json_string_value(d) : "");
   }
   json_decref(s);
   return *err ? -EINVAL : 0;
}

/* ---- failed replies ---- */

char* mcp_reply_error(const McpTool* t, json_t* reply) {
   json_t* e = json_object_get(reply, "error");
   const char* code = str_or(e, "code", "");
   const char* msg = str_or(e, "message", "the brum instance refused the request");
   static const struct {
      const char* code;
      const char* hint;
   } hints[] = {
       {"not_found", "list_processes shows every process's name"},
       {"bad_regex", "fix the pattern (a PCRE2 regular expression), or for search_logs pass "
                     "regex: false to search for the literal text"},
       {"bad_cursor", "pass the next_cursor of this session's last read_logs, or leave cursor "
                      "out to read the newest lines"},
       {"timeout", "call again to keep waiting"},
       {"exited", "read_logs or get_errors show why it ended"},
       {"unavailable", "the brum instance is quitting; start brum again and retry"},
       {"version", "brum mcp and the running brum are different versions: restart that brum"},
   };
   for (size_t i = 0; i < ARRAY_LEN(hints); i++)
      if (strcmp(code, hints[i].code) == 0)
         return xasprintf("%s: %s (%s)", t->name, msg, hints[i].hint);
   return xasprintf("%s: %s", t->name, msg);
}

/* ---- the size cap ---- */

size_t mcp_chars(const char* s, size_t len) {
   size_t n = 0;
   for (size_t i = 0; i < len; n++) {
      uint32_t cp;
      i += util_utf8_decode(s + i, len - i, &cp);
   }
   return n;
}

char* mcp_dumps(json_t* j) {
   /* 15 digits: 0.021 stays 0.021 (17, jansson's default, prints 0.021000000000000001). */
   char* s = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(15));
   if (!s) util_die_oom();
   return s;
}

static char* dump(json_t* j, size_t* chars) {
   char* s = mcp_dumps(j);
   *chars = mcp_chars(s, strlen(s));
   return s;
}

/* The list whose entries may drop, and from which end the oldest are. */
static json_t* cap_list(json_t* res, bool* oldest_first, const char** what) {
   static const struct {
      const char* key;
      bool oldest_first;
      const char* what;
   } lists[] = {
       {"lines", true, "older lines"},      /* read_logs, start_process: oldest first */
       {"errors", true, "older entries"},   /* get_errors: newest last */
       {"matches", false, "older matches"}, /* search_logs: newest first */
       {"processes", false, "processes at the end of the list"},
   };
   for (size_t i = 0; i < ARRAY_LEN(lists); i++) {
      json_t* a = json_object_get(res, lists[i].key);
      if (!json_is_array(a)) continue;
      *oldest_first = lists[i].oldest_first;
      *what = lists[i].what;
      return a;
   }
   return NULL;
}

/* Last resort (one enormous line, a 64 KiB log line among them): long strings are cut. */
static void shorten_strings(json_t* j, size_t keep) {
   if (json_is_string(j)) {
      const char* s = json_string_value(j);
      size_t len = json_string_length(j), i = 0, n = 0;
      uint32_t cp;
      while (i < len && n < keep) i += util_utf8_decode(s + i, len - i, &cp), n++;
      if (i < len) {
         char* cut = xasprintf("%.*s…", (int)i, s);
         json_string_set(j, cut);
         free(cut);
      }
      return;
   }
   for (void* it = json_object_iter(j); it; it = json_object_iter_next(j, it))
      shorten_strings(json_object_iter_value(it), keep);
   for (size_t i = 0; i < json_array_size(j); i++) shorten_strings(json_array_get(j, i), keep);
}

static void set_capped(json_t* res, size_t dropped, size_t kept, const char* what, size_t max_chars,
                       bool shortened) {
   char* hint = xasprintf(
       "%zu %s left out to stay within max_chars=%zu%s; ask for fewer (tail, limit), narrow "
       "with name, filter or pattern, or raise max_chars (at most %d)",
       dropped, what, max_chars, shortened ? " and long texts cut (…)" : "", MCP_MAX_CHARS);
   json_object_set_new(res, "capped",
                       json_pack("{s:I, s:I, s:I, s:s}", "dropped", (json_int_t)dropped, "kept",
                                 (json_int_t)kept, "max_chars", (json_int_t)max_chars, "note",
                                 hint));
   free(hint);
}

char* mcp_cap(const McpTool* t, json_t* res, size_t max_chars) {
   (void)t;
   size_t chars;
   char* text = dump(res, &chars);
   if (chars <= max_chars) return text;
   bool oldest_first = true, shortened = false;
   const char* what = "entries";
   json_t* list = cap_list(res, &oldest_first, &what);
   size_t dropped = 0;
   /* Estimate first (one dump per entry), then drop one at a time until the dump fits. */
   const size_t reserve = 400; /* the "capped" note */
   size_t total = chars;
   while (list && json_array_size(list) && total + reserve > max_chars) {
      size_t at = oldest_first ? 0 : json_array_size(list) - 1, n;
      free(dump(json_array_get(list, at), &n));
      total -= n + 1;
      json_array_remove(list, at);
      dropped++;
   }
   for (;;) {
      if (dropped || shortened)
         set_capped(res, dropped, list ? json_array_size(list) : 0, what, max_chars, shortened);
      free(text);
      text = dump(res, &chars);
      if (chars <= max_chars) return text;
      if (list && json_array_size(list)) {
         json_array_remove(list, oldest_first ? 0 : json_array_size(list) - 1);
         dropped++;
         continue;
      }
      if (shortened) return text; /* nothing more to leave out */
      shortened = true;
      shorten_strings(res, max_chars / 8);
   }
}
