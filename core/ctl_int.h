/* Private to the control server: what the transport (core/ctl_server.c: sockets, framing, hello,
 * per-client buffers, pending calls) offers the operations (core/ctl_ops.c: ps, start, stop,
 * restart, kill, logs, quit; core/ctl_query.c: search, errors, urls, wait, subscribe).
 * Control thread only: every function here runs on the server's own loop, which is registered
 * with RCU (operations may rcu_read_lock around their reads, and must leave the read section
 * before they reply). */
#ifndef BRUM_CORE_CTL_INT_H
#define BRUM_CORE_CTL_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/ctl.h"
#include "core/sup.h"

typedef struct CtlConn CtlConn;

/* What every operation may read. */
Sup* ctl_sup(const CtlServer* srv);
const char* ctl_root(const CtlServer* srv);
const char* ctl_kind(const CtlServer* srv);
int ctl_pid(const CtlServer* srv);
uint64_t ctl_started_ms(const CtlServer* srv);
const char* ctl_conn_kind(const CtlConn* c); /* the client's kind from its hello ("ctl", "mcp") */

/* Queues a message for the client (takes the reference). Never blocks: a client whose unwritten
 * output passes its bound is disconnected (the message is dropped). */
void ctl_send_msg(CtlConn* c, json_t* msg);
/* {"id":id,"ok":true} (a new object to add results to; id may be NULL: null). */
json_t* ctl_ok(json_t* id);
/* {"id":id,"ok":false,"error":{"code":code,"message":...}}. */
json_t* ctl_err(json_t* id, const char* code, const char* fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A JSON string of log text: invalid UTF-8 as U+FFFD, control characters dropped. */
json_t* ctl_text(const char* s, size_t len);

/* A request that replies later (start with wait, logs with wait_s, wait, subscribe). The
 * transport polls every pending call after each change the supervisor publishes (its observer)
 * and at the call's deadline; `poll` returns true when the call is over (it has sent its reply or
 * its last event), and the transport then frees it with `free`. When the client disconnects, or
 * a cancel names it, the transport calls `cancel` (which may reply, e.g. error "cancelled"),
 * then `free`. */
typedef struct CtlCall CtlCall;
struct CtlCall {
   CtlConn* conn;        /* set by ctl_call_add */
   json_t* id;           /* the request's id (owned reference) */
   uint64_t deadline_ms; /* util_now_ms() time; 0: none */
   bool (*poll)(CtlCall* call, bool timed_out);
   void (*cancel)(CtlCall* call, bool disconnected); /* may be NULL */
   void (*free)(CtlCall* call);                      /* frees everything, the id included */
   CtlCall* next;                                    /* the transport's list */
};
/* Registers a pending call (polled once right away). */
void ctl_call_add(CtlServer* srv, CtlConn* c, CtlCall* call);

/* One operation: returns the reply (a new reference), or NULL when it registered a pending call
 * that replies later. `req` is the whole request object, `id` its id (borrowed). */
typedef json_t* (*CtlOpFn)(CtlServer* srv, CtlConn* c, json_t* id, json_t* req);
typedef struct CtlOp {
   const char* name;
   CtlOpFn fn;
} CtlOp;
extern const CtlOp ctl_ops[]; /* core/ctl_ops.c, NULL-terminated (includes ctl_query's) */
json_t* ctl_op_search(CtlServer* srv, CtlConn* c, json_t* id, json_t* req);    /* ctl_query.c */
json_t* ctl_op_errors(CtlServer* srv, CtlConn* c, json_t* id, json_t* req);    /* ctl_query.c */
json_t* ctl_op_urls(CtlServer* srv, CtlConn* c, json_t* id, json_t* req);      /* ctl_query.c */
json_t* ctl_op_wait(CtlServer* srv, CtlConn* c, json_t* id, json_t* req);      /* ctl_query.c */
json_t* ctl_op_subscribe(CtlServer* srv, CtlConn* c, json_t* id, json_t* req); /* ctl_query.c */

/* Shared by the operations (core/ctl_ops.c). */
/* The process named `name` ("name" must be a string): its slot, or NULL after setting *err to a
 * not_found error listing the available names. Inside rcu_read_lock. */
const ProcSlot* ctl_find_proc(CtlServer* srv, json_t* id, const char* name, json_t** err);
/* The protocol's process object P (inside rcu_read_lock). */
json_t* ctl_proc_json(const ProcSlot* slot);
/* The protocol's line object L (inside rcu_read_lock). */
json_t* ctl_line_json(const char* name, const LogLine* l);
/* Cursors: opaque strings naming the instance (pid), a process id or All (UINT64_MAX), and a
 * position (a line number, or a position in the All index). */
json_t* ctl_cursor_make(const CtlServer* srv, uint64_t proc, uint64_t pos);
bool ctl_cursor_parse(const CtlServer* srv, const char* s, uint64_t* proc, uint64_t* pos);
#define CTL_ALL UINT64_MAX

#endif
