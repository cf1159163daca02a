/* brum mcp's JSON-RPC layer against a fake transport: what goes to stdout is compared line by
 * line with golden JSON, what goes to the control socket is recorded, and the socket's replies
 * are fed in by hand. */
#include "cli/mcp.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

typedef struct Fake {
   json_t* out;  /* strings: every line written to stdout */
   json_t* sent; /* objects: every request sent to the control socket */
   int fail;     /* ctl_send's result when negative */
   bool lose;    /* a failing send also loses the connection, as cli/mcp.c's does */
} Fake;

static Fake fake;
static Mcp* m;

static void fake_write(void* ud, const char* line, size_t len) {
   Fake* f = ud;
   cr_assert_null(memchr(line, '\n', len), "a newline inside one message: %.*s", (int)len, line);
   json_array_append_new(f->out, json_stringn(line, len));
}

static int fake_send(void* ud, json_t* msg, char** cause) {
   Fake* f = ud;
   if (f->fail) {
      if (f->lose) mcp_ctl_lost(m, "lost the connection");
      *cause = xstrdup("no brum instance runs for /p: start brum there");
      return f->fail;
   }
   json_array_append_new(f->sent, json_deep_copy(msg));
   return 0;
}

static void open_mcp(bool read_only) {
   fake.out = json_array();
   fake.sent = json_array();
   fake.fail = 0;
   fake.lose = false;
   McpIo io = {fake_write, fake_send, &fake};
   m = mcp_new(&io, read_only);
}

static void setup(void) {
   open_mcp(false);
}

static void teardown(void) {
   mcp_free(m);
   json_decref(fake.out);
   json_decref(fake.sent);
}

TestSuite(mcp, .init = setup, .fini = teardown);

static void in(const char* line) {
   mcp_input(m, line, strlen(line));
}

/* The lines written so far (then forgotten), as one string joined by newlines. */
static char* out_take(void) {
   size_t n = json_array_size(fake.out), len = 0;
   for (size_t i = 0; i < n; i++) len += json_string_length(json_array_get(fake.out, i)) + 1;
   char* s = xcalloc(1, len + 1);
   for (size_t i = 0; i < n; i++) {
      strcat(s, json_string_value(json_array_get(fake.out, i)));
      if (i + 1 < n) strcat(s, "\n");
   }
   json_array_clear(fake.out);
   return s;
}

static void expect_out(const char* golden) {
   char* s = out_take();
   cr_expect_str_eq(s, golden);
   free(s);
}

/* The one reply written so far, parsed. */
static json_t* reply(void) {
   cr_assert_eq(json_array_size(fake.out), 1, "replies: %zu", json_array_size(fake.out));
   json_t* j = json_loads(json_string_value(json_array_get(fake.out, 0)), 0, NULL);
   cr_assert_not_null(j);
   json_array_clear(fake.out);
   return j;
}

static void init(const char* version) {
   char* line = xasprintf("{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"initialize\",\"params\":{"
                          "\"protocolVersion\":\"%s\",\"capabilities\":{},\"clientInfo\":{"
                          "\"name\":\"t\",\"version\":\"1\"}}}",
                          version);
   in(line);
   free(line);
   json_array_clear(fake.out);
   in("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}");
}

static char* init_golden(const char* version) {
   return xasprintf(
       "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"protocolVersion\":\"%s\",\"capabilities\":{"
       "\"tools\":{\"listChanged\":false}},\"serverInfo\":{\"name\":\"brum\",\"version\":\"%s\"},"
       "\"instructions\":\"brum supervises this project's dev processes (package.json scripts). "
       "list_processes shows them; start_process and restart_process return once the process is "
       "ready, with its first lines; read_logs, search_logs and get_errors read their output; "
       "wait_for_log waits for a line.\"}}",
       version, BRUM_VERSION);
}

Test(mcp, initialize_each_version) {
   static const char* const vs[] = {"2025-03-26", "2025-06-18", "2025-11-25"};
   for (size_t i = 0; i < ARRAY_LEN(vs); i++) {
      char* line = xasprintf("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":"
                             "{\"protocolVersion\":\"%s\",\"capabilities\":{}}}",
                             vs[i]);
      in(line);
      char* golden = init_golden(vs[i]);
      expect_out(golden);
      cr_expect_str_eq(mcp_version(m), vs[i]);
      free(golden);
      free(line);
   }
}

Test(mcp, initialize_unknown_version_gets_latest) {
   in("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":"
      "\"2099-01-01\"}}");
   char* golden = init_golden("2025-11-25");
   expect_out(golden);
   free(golden);
   in("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"initialize\",\"params\":{}}");
   expect_out("{\"jsonrpc\":\"2.0\",\"id\":2,\"error\":{\"code\":-32602,\"message\":\"initialize "
              "needs params.protocolVersion, a string such as \\\"2025-11-25\\\"\"}}");
}

Test(mcp, ping) {
   in("{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"ping\"}");
   expect_out("{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{}}");
   in("{\"jsonrpc\":\"2.0\",\"id\":\"abc\",\"method\":\"ping\",\"params\":{}}");
   expect_out("{\"jsonrpc\":\"2.0\",\"id\":\"abc\",\"result\":{}}");
}

Test(mcp, notifications_get_no_reply) {
   in("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}");
   in("{\"jsonrpc\":\"2.0\",\"method\":\"no/such/notification\",\"params\":{}}");
   in("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":{\"requestId\":9}}");
   in("   ");
   in("{\"jsonrpc\":\"2.0\",\"id\":5,\"result\":{}}"); /* a response: we asked nothing */
   expect_out("");
   cr_expect_eq(json_array_size(fake.sent), 0);
}

Test(mcp, unknown_method_malformed_invalid) {
   in("{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"resources/list\"}");
   expect_out("{\"jsonrpc\":\"2.0\",\"id\":3,\"error\":{\"code\":-32601,\"message\":\"Method not "
              "found: resources/list\"}}");
   in("{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":");
   char* s = out_take();
   const char* pre =
       "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32700,\"message\":\"Parse error: ";
   cr_expect(strncmp(s, pre, strlen(pre)) == 0, "%s", s);
   free(s);
   in("42");
   expect_out("{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32600,\"message\":\"Invalid "
              "Request: not a JSON object\"}}");
   in("{\"jsonrpc\":\"2.0\",\"id\":5}");
   expect_out("{\"jsonrpc\":\"2.0\",\"id\":5,\"error\":{\"code\":-32600,\"message\":\"Invalid "
              "Request: \\\"method\\\" must be a string\"}}");
   in("{\"id\":6,\"method\":\"ping\"}");
   expect_out("{\"jsonrpc\":\"2.0\",\"id\":6,\"error\":{\"code\":-32600,\"message\":\"Invalid "
              "Request: \\\"jsonrpc\\\" must be \\\"2.0\\\"\"}}");
   in("{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"ping\"}");
   expect_out("{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32600,\"message\":\"Invalid "
              "Request: \\\"id\\\" must be a string or a number\"}}");
   in("{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"ping\",\"params\":[1]}");
   expect_out("{\"jsonrpc\":\"2.0\",\"id\":8,\"error\":{\"code\":-32602,\"message\":\"Invalid "
              "params: \\\"params\\\" must be an object\"}}");
}

static const char* const all_tools[] = {"list_processes",  "start_process", "stop_process",
                                        "restart_process", "read_logs",     "search_logs",
                                        "get_errors",      "wait_for_log"};

static void check_tools(json_t* tools, bool structured, bool read_only) {
   size_t want = 0;
   for (size_t i = 0; i < ARRAY_LEN(all_tools); i++) {
      const McpTool* t = mcp_tool_find(all_tools[i]);
      cr_assert_not_null(t);
      if (read_only && !t->read_only) continue;
      json_t* tool = json_array_get(tools, want++);
      cr_assert_not_null(tool, "missing %s", all_tools[i]);
      cr_expect_str_eq(json_string_value(json_object_get(tool, "name")), all_tools[i]);
      cr_expect(json_string_length(json_object_get(tool, "description")) > 20);
      json_t* in_schema = json_object_get(tool, "inputSchema");
      cr_expect_str_eq(json_string_value(json_object_get(in_schema, "type")), "object");
      cr_expect(
          json_is_object(json_object_get(json_object_get(in_schema, "properties"), "max_chars")));
      cr_expect_eq(json_object_get(tool, "outputSchema") != NULL, structured, "%s", t->name);
      cr_expect_eq(json_object_get(tool, "title") != NULL, structured);
      json_t* a = json_object_get(tool, "annotations");
      cr_expect(json_is_boolean(json_object_get(a, "readOnlyHint")));
      cr_expect(json_is_boolean(json_object_get(a, "destructiveHint")));
      cr_expect(json_is_boolean(json_object_get(a, "idempotentHint")));
      cr_expect(json_is_false(json_object_get(a, "openWorldHint")));
      cr_expect_eq(json_is_true(json_object_get(a, "readOnlyHint")), t->read_only);
   }
   cr_expect_eq(json_array_size(tools), want);
}

Test(mcp, tools_list_shape) {
   init("2025-06-18");
   in("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}");
   json_t* r = reply();
   check_tools(json_object_get(json_object_get(r, "result"), "tools"), true, false);
   json_decref(r);
   init("2025-03-26");
   in("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\",\"params\":{}}");
   r = reply();
   check_tools(json_object_get(json_object_get(r, "result"), "tools"), false, false);
   json_decref(r);
}

Test(mcp, read_only_offers_reading_tools) {
   teardown();
   open_mcp(true);
   init("2025-11-25");
   in("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}");
   json_t* r = reply();
   json_t* tools = json_object_get(json_object_get(r, "result"), "tools");
   check_tools(tools, true, true);
   cr_expect_eq(json_array_size(tools), 5);
   json_decref(r);
   in("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":"
      "\"start_process\",\"arguments\":{\"name\":\"dev\"}}}");
   r = reply();
   json_t* res = json_object_get(r, "result");
   cr_expect(json_is_true(json_object_get(res, "isError")));
   const char* text = json_string_value(
       json_object_get(json_array_get(json_object_get(res, "content"), 0), "text"));
   cr_expect(strstr(text, "--read-only"), "%s", text);
   cr_expect_eq(json_array_size(fake.sent), 0);
   json_decref(r);
}

Test(mcp, batch_only_for_2025_03_26) {
   init("2025-06-18");
   in("[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]");
   expect_out("{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32600,\"message\":\"Invalid "
              "Request: JSON-RPC batches are part of protocol version 2025-03-26 only (this "
              "session uses 2025-06-18): send one message per line\"}}");
   init("2025-03-26");
   in("[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"},{\"jsonrpc\":\"2.0\",\"method\":"
      "\"notifications/initialized\"},{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"nope\"}]");
   expect_out("[{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}},{\"jsonrpc\":\"2.0\",\"id\":2,"
              "\"error\":{\"code\":-32601,\"message\":\"Method not found: nope\"}}]");
   in("[{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}]");
   expect_out("");
   in("[{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"initialize\",\"params\":{\"protocolVersion\":"
      "\"2025-03-26\"}}]");
   expect_out("[{\"jsonrpc\":\"2.0\",\"id\":9,\"error\":{\"code\":-32600,\"message\":\"initialize "
              "must not be part of a batch\"}}]");
   in("[]");
   expect_out("{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32600,\"message\":\"Invalid "
              "Request: empty batch\"}}");
   /* A tool call in a batch: the batch's one reply waits for the control server's. */
   in("[{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":"
      "\"list_processes\"}},{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"ping\"}]");
   expect_out("");
   cr_assert_eq(json_array_size(fake.sent), 1);
   json_t* ctl =
       json_pack("{s:O, s:b, s:[]}", "id", json_object_get(json_array_get(fake.sent, 0), "id"),
                 "ok", 1, "processes");
   mcp_ctl_message(m, ctl);
   json_decref(ctl);
   expect_out("[{\"jsonrpc\":\"2.0\",\"id\":4,\"result\":{}},{\"jsonrpc\":\"2.0\",\"id\":3,"
              "\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"{\\\"processes\\\":[]}\"}],"
              "\"isError\":false}}]");
}

/* The request sent for the last tool call, and its id. */
static json_t* last_sent(json_int_t* id) {
   json_t* s = json_array_get(fake.sent, json_array_size(fake.sent) - 1);
   cr_assert_not_null(s);
   *id = json_integer_value(json_object_get(s, "id"));
   return s;
}

static void ctl_reply(const char* fmt_json, json_int_t id) {
   json_error_t e;
   json_t* r = json_loads(fmt_json, 0, &e);
   cr_assert_not_null(r, "%s", e.text);
   json_object_set_new(r, "id", json_integer(id));
   mcp_ctl_message(m, r);
   json_decref(r);
}

Test(mcp, start_process_waits_and_returns_first_lines) {
   init("2025-06-18");
   in("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":"
      "\"start_process\",\"arguments\":{\"name\":\"dev\",\"timeout_s\":20}}}");
   json_int_t id;
   json_t* s = last_sent(&id);
   char* req = json_dumps(s, JSON_COMPACT);
   char* golden = xasprintf("{\"op\":\"start\",\"names\":[\"dev\"],\"wait\":true,\"timeout_s\":"
                            "20,\"id\":%lld}",
                            (long long)id);
   cr_expect_str_eq(req, golden);
   free(req);
   free(golden);
   expect_out("");
   ctl_reply("{\"ok\":true,\"results\":[{\"name\":\"dev\",\"process\":{\"name\":\"dev\",\"state\":"
             "\"running\",\"ready\":true,\"pid\":42},\"lines\":[{\"name\":\"dev\",\"n\":0,"
             "\"text\":\"hi\"}]}]}",
             id);
   expect_out(
       "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"content\":[{\"type\":\"text\",\"text\":"
       "\"{\\\"name\\\":\\\"dev\\\",\\\"state\\\":\\\"running\\\",\\\"ready\\\":true,"
       "\\\"timed_out\\\":false,\\\"summary\\\":\\\"dev is running and ready (pid 42); 1 first "
       "line below\\\",\\\"process\\\":{\\\"name\\\":\\\"dev\\\",\\\"state\\\":\\\"running\\\","
       "\\\"ready\\\":true,\\\"pid\\\":42},\\\"lines\\\":[{\\\"name\\\":\\\"dev\\\",\\\"n\\\":0,"
       "\\\"text\\\":\\\"hi\\\"}]}\"}],\"structuredContent\":{\"name\":\"dev\",\"state\":"
       "\"running\",\"ready\":true,\"timed_out\":false,\"summary\":\"dev is running and ready "
       "(pid 42); 1 first line below\",\"process\":{\"name\":\"dev\",\"state\":\"running\","
       "\"ready\":true,\"pid\":42},\"lines\":[{\"name\":\"dev\",\"n\":0,\"text\":\"hi\"}]},"
       "\"isError\":false}}");
}

/* A text-only result for 2025-03-26: the same JSON, no structuredContent. */
Test(mcp, text_only_for_2025_03_26) {
   init("2025-03-26");
   in("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":"
      "\"get_errors\",\"arguments\":{}}}");
   json_int_t id;
   json_t* s = last_sent(&id);
   cr_expect_str_eq(json_string_value(json_object_get(s, "op")), "errors");
   ctl_reply("{\"ok\":true,\"errors\":[],\"total_errors\":0,\"total_warnings\":0}", id);
   expect_out("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"content\":[{\"type\":\"text\",\"text\":"
              "\"{\\\"errors\\\":[],\\\"total_errors\\\":0,\\\"total_warnings\\\":0}\"}],"
              "\"isError\":false}}");
}

static const char* result_text(json_t* r, bool* is_error) {
   json_t* res = json_object_get(r, "result");
   *is_error = json_is_true(json_object_get(res, "isError"));
   return json_string_value(
       json_object_get(json_array_get(json_object_get(res, "content"), 0), "text"));
}

Test(mcp, tool_failures_are_results_that_say_what_to_do) {
   init("2025-11-25");
   bool is_error;
   /* The server's not_found. */
   in("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":"
      "\"stop_process\",\"arguments\":{\"name\":\"nope\"}}}");
   json_int_t id;
   last_sent(&id);
   ctl_reply("{\"ok\":false,\"error\":{\"code\":\"not_found\",\"message\":\"no process named "
             "\\\"nope\\\"; available: dev, api\"}}",
             id);
   json_t* r = reply();
   const char* t = result_text(r, &is_error);
   cr_expect(is_error);
   cr_expect_str_eq(t, "stop_process: no process named \"nope\"; available: dev, api "
                       "(list_processes shows every process's name)");
   cr_expect_null(json_object_get(json_object_get(r, "result"), "structuredContent"));
   json_decref(r);
   /* A bad regex. */
   in("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":"
      "\"search_logs\",\"arguments\":{\"pattern\":\"(\",\"regex\":true}}}");
   json_t* s = last_sent(&id);
   cr_expect(json_is_true(json_object_get(s, "regex")));
   ctl_reply("{\"ok\":false,\"error\":{\"code\":\"bad_regex\",\"message\":\"missing closing "
             "parenthesis at offset 1\"}}",
             id);
   r = reply();
   t = result_text(r, &is_error);
   cr_expect(is_error);
   cr_expect(strstr(t, "offset 1") && strstr(t, "regex: false"), "%s", t);
   json_decref(r);
   /* Arguments the schema refuses: nothing is sent. */
   size_t sent = json_array_size(fake.sent);
   static const char* const bad[] = {
       "{\"name\":\"read_logs\",\"arguments\":{\"tail\":\"5\"}}",
       "{\"name\":\"read_logs\",\"arguments\":{\"bogus\":1}}",
       "{\"name\":\"start_process\",\"arguments\":{}}",
       "{\"name\":\"wait_for_log\",\"arguments\":{\"pattern\":\"x\",\"name\":\"a\",\"timeout_s\":"
       "120}}",
       "{\"name\":\"list_processes\",\"arguments\":{\"max_chars\":50000}}",
       "{\"name\":\"read_logs\",\"arguments\":{\"cursor\":\"c\",\"tail\":5}}",
   };
   static const char* const says[] = {
       "argument 'tail' must be an integer, not a string",
       "unknown argument 'bogus'; it takes: name, cursor, tail, limit, filter, max_chars",
       "missing required argument 'name'",
       "'timeout_s' must be between 1 and 50, not 120",
       "'max_chars' must be between 1000 and 40000, not 50000",
       "pass either cursor",
   };
   for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
      char* line = xasprintf(
          "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"tools/call\",\"params\":%s}", bad[i]);
      in(line);
      free(line);
      r = reply();
      t = result_text(r, &is_error);
      cr_expect(is_error);
      cr_expect(t && strstr(t, says[i]), "%zu: %s", i, t);
      json_decref(r);
   }
   cr_expect_eq(json_array_size(fake.sent), sent);
   /* An unknown tool is a protocol error. */
   in("{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":\"rm_rf\"}}");
   expect_out("{\"jsonrpc\":\"2.0\",\"id\":3,\"error\":{\"code\":-32602,\"message\":\"Unknown "
              "tool: rm_rf (tools/list lists them)\"}}");
   /* No instance to send to. */
   fake.fail = -ENOENT;
   in("{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/call\",\"params\":{\"name\":"
      "\"list_processes\"}}");
   r = reply();
   t = result_text(r, &is_error);
   cr_expect(is_error);
   cr_expect_str_eq(t, "no brum instance runs for /p: start brum there");
   json_decref(r);
}

/* A wait does not hold back ping or other calls; cancelling it sends the socket's cancel and
 * its late reply is dropped. */
Test(mcp, concurrent_calls_and_cancel) {
   init("2025-11-25");
   in("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":"
      "\"wait_for_log\",\"arguments\":{\"pattern\":\"ready\",\"name\":\"dev\",\"timeout_s\":50}}}");
   json_int_t wait_id;
   json_t* s = last_sent(&wait_id);
   char* req = json_dumps(s, JSON_COMPACT);
   char* golden = xasprintf("{\"op\":\"wait\",\"pattern\":\"ready\",\"timeout_s\":50,\"from\":"
                            "\"now\",\"fail_on_exit\":true,\"name\":\"dev\",\"id\":%lld}",
                            (long long)wait_id);
   cr_expect_str_eq(req, golden);
   free(req);
   free(golden);
   in("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\"}");
   expect_out("{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":{}}");
   in("{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":"
      "\"list_processes\"}}");
   json_int_t ps_id;
   last_sent(&ps_id);
   cr_expect_neq(ps_id, wait_id);
   ctl_reply("{\"ok\":true,\"processes\":[]}", ps_id);
   json_t* r = reply();
   cr_expect_eq(json_integer_value(json_object_get(r, "id")), 3);
   json_decref(r);
   in("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":{\"requestId\":1,"
      "\"reason\":\"user\"}}");
   json_int_t cancel_id;
   s = last_sent(&cancel_id);
   cr_expect_str_eq(json_string_value(json_object_get(s, "op")), "cancel");
   cr_expect_eq(json_integer_value(json_object_get(s, "target")), wait_id);
   ctl_reply("{\"ok\":true}", cancel_id);
   ctl_reply("{\"ok\":false,\"error\":{\"code\":\"cancelled\",\"message\":\"cancelled\"}}",
             wait_id);
   expect_out("");
}

Test(mcp, wait_timeout_is_an_outcome_and_lost_connection_fails_calls) {
   init("2025-11-25");
   in("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":"
      "\"wait_for_log\",\"arguments\":{\"pattern\":\"ready\",\"name\":\"dev\",\"timeout_s\":2}}}");
   json_int_t id;
   last_sent(&id);
   ctl_reply("{\"ok\":false,\"error\":{\"code\":\"timeout\",\"message\":\"no match in 2 s\"}}", id);
   json_t* r = reply();
   bool is_error;
   result_text(r, &is_error);
   cr_expect(!is_error);
   json_t* sc = json_object_get(json_object_get(r, "result"), "structuredContent");
   cr_expect(json_is_false(json_object_get(sc, "matched")));
   cr_expect(json_is_true(json_object_get(sc, "timed_out")));
   json_decref(r);
   in("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":"
      "\"wait_for_log\",\"arguments\":{\"pattern\":\"ready\",\"name\":\"dev\"}}}");
   mcp_ctl_lost(m, "the brum instance quit: restart brum mcp");
   r = reply();
   cr_expect_str_eq(result_text(r, &is_error), "the brum instance quit: restart brum mcp");
   cr_expect(is_error);
   json_decref(r);
}

/* stop_process returns once the process has ended: stop, then a wait that only its end ends,
 * then the process as it is now. */
Test(mcp, stop_process_waits_for_the_end) {
   init("2025-11-25");
   in("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":"
      "\"stop_process\",\"arguments\":{\"name\":\"dev\"}}}");
   json_int_t id;
   json_t* s = last_sent(&id);
   cr_expect_str_eq(json_string_value(json_object_get(s, "op")), "stop");
   ctl_reply("{\"ok\":true,\"results\":[{\"name\":\"dev\",\"process\":{\"name\":\"dev\","
             "\"state\":\"running\",\"pid\":42}}]}",
             id);
   expect_out("");
   s = last_sent(&id);
   cr_expect_str_eq(json_string_value(json_object_get(s, "op")), "wait");
   cr_expect_str_eq(json_string_value(json_object_get(s, "pattern")), "(*FAIL)");
   cr_expect(json_is_true(json_object_get(s, "fail_on_exit")));
   ctl_reply("{\"ok\":false,\"error\":{\"code\":\"exited\",\"message\":\"dev is not running\"}}",
             id);
   expect_out("");
   s = last_sent(&id);
   cr_expect_str_eq(json_string_value(json_object_get(s, "op")), "ps");
   ctl_reply("{\"ok\":true,\"processes\":[{\"name\":\"web\",\"state\":\"running\"},{\"name\":"
             "\"dev\",\"state\":\"stopped\",\"pid\":null,\"signal\":15}]}",
             id);
   json_t* r = reply();
   json_t* sc = json_object_get(json_object_get(r, "result"), "structuredContent");
   cr_expect_str_eq(json_string_value(json_object_get(sc, "state")), "stopped");
   cr_expect_str_eq(json_string_value(json_object_get(sc, "summary")),
                    "dev is stopped (signal 15)");
   json_decref(r);
   /* Not running: the first reply is the answer. */
   in("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":"
      "\"stop_process\",\"arguments\":{\"name\":\"dev\",\"force\":true}}}");
   s = last_sent(&id);
   cr_expect_str_eq(json_string_value(json_object_get(s, "op")), "kill");
   size_t sent = json_array_size(fake.sent);
   ctl_reply("{\"ok\":true,\"results\":[{\"name\":\"dev\",\"note\":\"not running\",\"process\":"
             "{\"name\":\"dev\",\"state\":\"stopped\"}}]}",
             id);
   cr_expect_eq(json_array_size(fake.sent), sent);
   r = reply();
   sc = json_object_get(json_object_get(r, "result"), "structuredContent");
   cr_expect_str_eq(json_string_value(json_object_get(sc, "summary")),
                    "dev is stopped (not running)");
   json_decref(r);
}

/* The connection breaks while a call sends its second request: that call and the others end
 * with an error each, once. */
Test(mcp, connection_lost_between_steps) {
   init("2025-11-25");
   in("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":"
      "\"wait_for_log\",\"arguments\":{\"pattern\":\"x\",\"name\":\"dev\"}}}");
   in("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":"
      "\"stop_process\",\"arguments\":{\"name\":\"dev\"}}}");
   json_int_t id;
   last_sent(&id);
   fake.fail = -EPIPE;
   fake.lose = true;
   ctl_reply("{\"ok\":true,\"results\":[{\"name\":\"dev\",\"process\":{\"state\":\"running\"}}]}",
             id);
   cr_assert_eq(json_array_size(fake.out), 2);
   for (size_t i = 0; i < 2; i++) {
      json_t* r = json_loads(json_string_value(json_array_get(fake.out, i)), 0, NULL);
      bool is_error;
      result_text(r, &is_error);
      cr_expect(is_error);
      json_decref(r);
   }
   json_array_clear(fake.out);
   ctl_reply("{\"ok\":true}", id + 1); /* late: answers nothing */
   expect_out("");
}

/* n log lines of `per` copies of a two-byte character. */
static json_t* logs_reply(size_t n, size_t per) {
   json_t* lines = json_array();
   char* text = xcalloc(per * 2 + 1, 1);
   for (size_t i = 0; i < per; i++) memcpy(text + 2 * i, "é", 2);
   for (size_t i = 0; i < n; i++)
      json_array_append_new(
          lines, json_pack("{s:s, s:I, s:s}", "name", "dev", "n", (json_int_t)i, "text", text));
   free(text);
   return json_pack("{s:b, s:o, s:s, s:b}", "ok", 1, "lines", lines, "next_cursor", "c", "more", 0);
}

Test(mcp, max_chars_counts_characters_and_drops_oldest) {
   init("2025-11-25");
   /* 10 lines of 900 characters (1800 bytes): 18,000 bytes, about 9,400 characters. */
   in("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":"
      "\"read_logs\",\"arguments\":{\"tail\":10,\"max_chars\":10000}}}");
   json_int_t id;
   json_t* s = last_sent(&id);
   cr_expect_null(json_object_get(s, "max_chars"));
   cr_expect_eq(json_integer_value(json_object_get(s, "limit")), 10);
   json_t* lr = logs_reply(10, 900);
   json_object_set_new(lr, "id", json_integer(id));
   mcp_ctl_message(m, lr);
   json_decref(lr);
   json_t* r = reply();
   bool is_error;
   const char* t = result_text(r, &is_error);
   cr_expect(strlen(t) > 10000);
   cr_expect_leq(mcp_chars(t, strlen(t)), 10000);
   json_t* sc = json_object_get(json_object_get(r, "result"), "structuredContent");
   cr_expect_eq(json_array_size(json_object_get(sc, "lines")), 10);
   cr_expect_null(json_object_get(sc, "capped"));
   json_decref(r);
   /* Twice that at the default cap: the oldest lines go, the newest stay, and it says so. */
   in("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":"
      "\"read_logs\",\"arguments\":{\"tail\":20}}}");
   last_sent(&id);
   lr = logs_reply(20, 900);
   json_object_set_new(lr, "id", json_integer(id));
   mcp_ctl_message(m, lr);
   json_decref(lr);
   r = reply();
   t = result_text(r, &is_error);
   size_t chars = mcp_chars(t, strlen(t));
   cr_expect_leq(chars, MCP_DEFAULT_CHARS);
   cr_expect_geq(chars, MCP_DEFAULT_CHARS - 1500, "kept too little: %zu", chars);
   sc = json_object_get(json_object_get(r, "result"), "structuredContent");
   json_t* lines = json_object_get(sc, "lines");
   json_t* capped = json_object_get(sc, "capped");
   size_t kept = json_array_size(lines);
   cr_expect(kept > 0 && kept < 20);
   cr_expect_eq(json_integer_value(json_object_get(capped, "dropped")), 20 - (json_int_t)kept);
   cr_expect_eq(json_integer_value(json_object_get(json_array_get(lines, kept - 1), "n")), 19);
   cr_expect(strstr(json_string_value(json_object_get(capped, "note")), "older lines left out"));
   json_decref(r);
}

Test(mcp, chars_count_code_points) {
   cr_expect_eq(mcp_chars("abc", 3), 3);
   cr_expect_eq(mcp_chars("é€😀", strlen("é€😀")), 3);
   cr_expect_eq(mcp_chars("\xff\xfe", 2), 2);
}

/* One line too long to fit even alone is cut, not dropped silently. */
Test(mcp, cap_cuts_a_huge_line) {
   const McpTool* t = mcp_tool_find("wait_for_log");
   char* big = xcalloc(60001, 1);
   memset(big, 'x', 60000);
   json_t* res = json_pack("{s:b, s:{s:s, s:s}}", "matched", 1, "line", "name", "dev", "text", big);
   char* text = mcp_cap(t, res, 12000);
   cr_expect_leq(mcp_chars(text, strlen(text)), 12000);
   cr_expect(strstr(text, "long texts cut"), "%.200s", text);
   free(text);
   free(big);
   json_decref(res);
}
