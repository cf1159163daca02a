/* Private to the control server: its connection and server structures, shared by the transport
 * (core/ctl_server.c) and the request framing and dispatch (core/ctl_request.c). The server's
 * thread only. */
#ifndef BRUM_CORE_CTL_CONN_H
#define BRUM_CORE_CTL_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "core/ctl_int.h"

#define CTL_PROTOCOL 1
#define MAX_LINE (1u << 20)  /* a request line, without its newline */
#define OUT_MAX (4u << 20)   /* a client's unwritten replies */
#define READ_BUF (64u << 10) /* one read; shared by the connections (reads run one at a time) */
#define KEEP_LINE_BUF (64u << 10) /* a line buffer larger than this is freed after its line */
#define MAX_CONNS 512             /* each may hold a line and its output: bounded memory */
#define KIND_MAX 32               /* a client kind, as shown on the status line */
/* Requests of one client per loop iteration: one that floods requests cannot starve the others. */
#define TURN_REQUESTS 64

struct CtlConn {
   CtlServer* srv; /* borrowed */
   CtlConn* next;  /* the server's list */
   uv_pipe_t pipe; /* unused without a socket (ctl_feed) */
   uv_shutdown_t shut;
   unsigned num; /* for the log */
   char* line;   /* owned: the partial request line */
   size_t len, cap;
   size_t ncalls; /* its pending calls */
   size_t budget; /* requests it may still make in this loop iteration */
   uint64_t turn; /* the iteration its budget is for */
   char* pend;    /* owned: input read but not yet handled (out of budget); reading waits */
   size_t pendoff, pendlen;
   bool draining;  /* skipping the rest of a line that was too long */
   bool hello;     /* said hello */
   bool finishing; /* reads no more (EOF, or a version mismatch): closes once its calls end */
   bool shutting;  /* a shutdown is pending: closes after the last write */
   bool closing;   /* dropped: what is sent is discarded, its calls are cancelled */
   bool closed;    /* uv_close called */
   char kind[KIND_MAX + 1];
   char* out; /* owned: without a socket, what would have been written */
   size_t outlen, outcap;
};

struct CtlServer {
   Sup* sup;   /* borrowed */
   char* root; /* owned */
   char* kind; /* owned */
   char* dir;  /* owned */
   char* sock; /* owned: <dir>/<pid>.sock */
   char* info; /* owned: <dir>/<pid>.json */
   int pid;
   uint64_t started_ms;
   bool live;     /* a loop and a socket (false: ctl_feed) */
   bool stopping; /* its handles are closing */
   uv_loop_t loop;
   uv_pipe_t listener;
   uv_async_t wake;  /* the supervisor published a change: poll the pending calls */
   uv_async_t stop;  /* ctl_server_stop */
   uv_timer_t timer; /* the earliest deadline of a pending call */
   uv_check_t check; /* counts loop iterations (turns) */
   uv_idle_t idle;   /* while a client is out of budget: its rest next turn */
   uint64_t turn;
   uv_thread_t thread;
   CtlConn* conns; /* owned */
   size_t nconns;
   unsigned conn_seq;
   CtlCall* calls; /* owned: pending */
   bool sweep;     /* a connection was dropped: cancel its calls, close it */
   char* rbuf;     /* owned: READ_BUF bytes */
};

/* core/ctl_server.c */
void ctl_conn_finish(CtlConn* c);   /* reads no more; closes once its calls end */
void ctl_arm_timer(CtlServer* srv); /* the timer for the earliest deadline of a pending call */

/* core/ctl_request.c */
/* Splits what arrived into lines and handles them, until the client's budget for this turn is
 * spent; returns the bytes taken. */
size_t ctl_conn_feed(CtlConn* c, const char* p, size_t n);
void ctl_conn_line(CtlConn* c, const char* s, size_t n); /* one request line */

#endif
