/* `brum mcp`: a Model Context Protocol server over stdio that drives a brum instance through its
 * control socket (docs/PROTOCOL.md). Three layers, so that each can be tested alone:
 * - cli/mcp.c: the process (options, finding or running the instance, one poll() loop over stdin
 *   and the socket);
 * - cli/mcp_rpc.c: JSON-RPC 2.0 and MCP (handshake and version negotiation, batches, requests
 *   running concurrently, cancellation), talking to the outside only through McpIo;
 * - cli/mcp_tools.c: the tools (schemas, arguments to control requests, replies to results, the
 *   size cap). */
#ifndef BRUM_CLI_MCP_H
#define BRUM_CLI_MCP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The `brum mcp ...` command (argv[0] is "mcp"): brum's exit status. */
int mcp_main(int argc, char** argv);

/* ---- the protocol layer (cli/mcp_rpc.c) ---- */

#define MCP_LATEST_VERSION "2025-11-25"
#define MCP_MAX_LINE (4u << 20) /* a longer request line is refused (and drained) */

typedef struct McpIo {
   /* One complete message for stdout, without its newline. */
   void (*write)(void* ud, const char* line, size_t len);
   /* One request for the control socket, "id" already set (borrowed). 0, or -errno with a heap
    * message in *cause saying what is wrong and what to do (no instance, it quit). */
   int (*ctl_send)(void* ud, json_t* msg, char** cause);
   void* ud;
} McpIo;

typedef struct Mcp Mcp;
/* read_only: only the tools that read (list, logs, search, errors, wait) are offered. */
Mcp* mcp_new(const McpIo* io, bool read_only);
void mcp_free(Mcp* m);
/* One line from stdin (without its newline; may be a batch). */
void mcp_input(Mcp* m, const char* line, size_t len);
/* One message from the control socket (borrowed): a reply to one of our requests, else ignored. */
void mcp_ctl_message(Mcp* m, json_t* msg);
/* The control connection is gone: every call waiting on it fails with `why` (and what to do). */
void mcp_ctl_lost(Mcp* m, const char* why);
/* Calls still waiting for the control socket's reply. */
bool mcp_busy(const Mcp* m);
/* The protocol version agreed by initialize (the latest before it). */
const char* mcp_version(const Mcp* m);

/* ---- the tools (cli/mcp_tools.c) ---- */

#define MCP_DEFAULT_CHARS 12000
#define MCP_MAX_CHARS 40000
#define MCP_MAX_WAIT_S 50 /* clients give up on a request after 60 s */

typedef struct McpTool {
   const char* name;
   const char* title;
   const char* description;
   bool read_only, destructive, idempotent;
   const char* input_schema;  /* JSON Schema text */
   const char* output_schema; /* JSON Schema text */
   /* The control request for valid arguments (checked against input_schema first): a new object
    * without "id", or NULL with a heap message in *err saying how to fix the call. */
   json_t* (*request)(json_t* args, char** err);
   /* The structured result for a successful reply ("ok": true), a new reference; or NULL with a
    * heap message in *err when the reply means the call failed. */
   json_t* (*result)(json_t* args, json_t* reply, char** err);
   /* NULL, or: the structured result for a failed reply that is an outcome rather than a failure
    * (wait_for_log's timeout), a new reference; NULL makes it an error. */
   json_t* (*on_error)(json_t* args, json_t* reply);
   /* NULL, or, for a tool of several requests: given the reply to request number `step` (0: the
    * first), the next request to send (a new object without "id"), or NULL when that reply is the
    * one to answer with. It may keep what later steps need in `args` (the call's own copy). */
   json_t* (*next)(json_t* args, json_t* reply, int step);
} McpTool;

extern const McpTool mcp_tools[];
extern const size_t mcp_ntools;
const McpTool* mcp_tool_find(const char* name);

/* Checks arguments against a tool's input schema (types, bounds, required and unknown
 * properties). 0, or -EINVAL with a heap message in *err naming the argument and what it takes. */
int mcp_check_args(const McpTool* t, json_t* args, char** err);
/* A failed control reply ("ok": false) as a message for the agent: the server's message and what
 * to do about it. Heap. */
char* mcp_reply_error(const McpTool* t, json_t* reply);
/* JSON text as every layer writes it (compact, reals without float noise). Heap. */
char* mcp_dumps(json_t* j);
/* The result's JSON text, at most max_chars characters (UTF-8 code points): when it is longer,
 * the oldest lines (or entries) drop first and the result says how many and how to see them.
 * Modifies `result` accordingly; returns the heap text. */
char* mcp_cap(const McpTool* t, json_t* result, size_t max_chars);
/* UTF-8 code points in s[0..len) (an invalid byte counts as one). */
size_t mcp_chars(const char* s, size_t len);

#endif
