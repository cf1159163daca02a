/* Shared by the control server's operations (core/ctl_ops.c, core/ctl_query.c): reading a
 * request's arguments, compiling its patterns, and finding where a run's lines begin. Control
 * thread only. */
#ifndef BRUM_CORE_CTL_ARGS_H
#define BRUM_CORE_CTL_ARGS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/ctl_int.h"
#include "core/regex.h"
#include "core/sup.h"

/* Log text in one reply: beyond this a reply stops adding lines (and says so: more, truncated),
 * since a single reply goes to the client whatever its size (lines may be 64 KiB each). */
#define CTL_REPLY_TEXT_MAX (4u << 20)

/* Each reader returns true with the argument (or its default when absent or null) in *out, or
 * false after setting *err to a bad_request reply that names the argument and what it must be. */
bool ctl_arg_str(json_t* req, json_t* id, const char* key, bool required, const char** out,
                 json_t** err);
bool ctl_arg_int(json_t* req, json_t* id, const char* key, int64_t def, int64_t min, int64_t max,
                 int64_t* out, json_t** err);
bool ctl_arg_secs(json_t* req, json_t* id, const char* key, double def, double max, double* out,
                  json_t** err);
bool ctl_arg_bool(json_t* req, json_t* id, const char* key, bool def, bool* out, json_t** err);

/* Compiles a request's pattern: `literal` matches the text as given; case -1 is smart case (an
 * all-lowercase pattern ignores case, as the UI's filter), 0 exact, 1 ignoring case. NULL after
 * setting *err to a bad_regex reply whose offset is in the pattern as the client sent it. */
Regex* ctl_regex(json_t* id, const char* pattern, bool literal, int icase, json_t** err);

/* A pending call's cancel: error "cancelled" to the client, unless it has gone. */
void ctl_call_cancelled(CtlCall* call, bool disconnected);

/* A process that has ended or never started: it will print nothing more without a command. */
bool ctl_proc_over(const ProcSnap* s);

/* Commands reach the supervisor through its queue, so right after a start the snapshot still
 * shows the previous run: a `wait` sent just after `start` must not call the process exited.
 * ctl_note_start records a start or restart this server sent (with the run the snapshot showed
 * then); ctl_start_pending says whether one is sent but not begun for this snapshot. */
void ctl_note_start(const CtlServer* srv, const ProcSnap* before);
bool ctl_start_pending(const CtlServer* srv, const ProcSnap* now);

#endif
