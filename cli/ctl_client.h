/* A client of the control protocol (docs/PROTOCOL.md), shared by `brum ctl` and `brum mcp`:
 * finding the instance for a directory, connecting, the hello, and newline-delimited JSON
 * messages over a blocking socket (with a descriptor to poll for callers that multiplex). */
#ifndef BRUM_CLI_CTL_CLIENT_H
#define BRUM_CLI_CTL_CLIENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct CtlInstance {
   int pid;
   char* root;   /* owned */
   char* kind;   /* owned: "tui", "headless", "mcp" */
   char* socket; /* owned */
   uint64_t started_ms;
} CtlInstance;

/* The running instance whose root is `dir` or its nearest ancestor (after realpath). Removes
 * stale entries on the way. 0; -ENOENT when none runs (*cause says so and what to do: start brum
 * in that directory); other -errno with *cause. */
int ctl_find(const char* dir, CtlInstance* out, char** cause);
void ctl_instance_done(CtlInstance* in);

typedef struct CtlClient CtlClient;
/* Connects and exchanges the hello (client kind "ctl" or "mcp"). *hello_reply (NULL: not wanted)
 * gets the server's hello reply (a new reference). */
int ctl_connect(const CtlInstance* in, const char* kind, CtlClient** out, json_t** hello_reply,
                char** cause);
void ctl_close(CtlClient* c);
int ctl_fd(const CtlClient* c);
/* Sends one message (adds nothing: the caller sets "id"). 0 or -errno. */
int ctl_send(CtlClient* c, json_t* msg);
/* The next message: 1 with a new reference in *out; 0 when none is complete within timeout_ms
 * (-1: wait forever); -errno (-EPIPE when the server closed the connection, -EPROTO for a
 * malformed line, which is consumed: the next call reads the line after it; -EINTR when a signal
 * interrupted the wait). */
int ctl_recv(CtlClient* c, int timeout_ms, json_t** out);
/* ctl_send, then ctl_recv until the reply with the same id (events, other replies and malformed
 * lines in between are dropped; signals do not end the wait). 0 with the reply, an error reply
 * included (the caller looks at "ok"); or -errno with *cause (-ETIMEDOUT after timeout_ms). */
int ctl_call(CtlClient* c, json_t* req, int timeout_ms, json_t** reply, char** cause);

#endif
