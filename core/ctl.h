/* The control server: serves one instance's processes over a Unix socket (docs/PROTOCOL.md) to
 * `brum ctl`, `brum mcp` and any other local client of the same user. It runs on a thread and
 * libuv loop of its own, reads the supervisor's RCU snapshots and log stores as the UI does, and
 * sends commands through the supervisor's queue: a third view, never a second source of truth. */
#ifndef BRUM_CORE_CTL_H
#define BRUM_CORE_CTL_H

#include <stdint.h>

#include "core/sup.h"

typedef struct CtlConfig {
   const char* root; /* the project root, absolute (realpath) */
   const char* kind; /* this instance: "tui", "headless" or "mcp" */
} CtlConfig;

/* The socket directory ($XDG_RUNTIME_DIR/brum, else /tmp/brum-$UID), created 0700 when missing and
 * checked with lstat (a directory, not a symlink, owned by us, no group/other bits). Returns 0 and
 * a heap path in *out, or -errno with a heap message in *cause. `need` is the longest file name
 * that must fit sun_path inside it ("<pid>.sock"); XDG's is skipped when it would not fit. */
int ctl_dir(size_t need, char** out, char** cause);

/* One instance per project root: takes the root's lock in the socket directory (flock, held until
 * ctl_lock_release). -EEXIST when another instance holds it: *cause names it (pid, kind, since
 * when) and says how to use or stop it (brum ctl ..., brum mcp, brum ctl quit). Other failures
 * (no usable directory) are -errno with *cause: the caller warns and runs without a socket. */
typedef struct CtlLock CtlLock;
int ctl_lock_take(const char* root, const char* kind, CtlLock** out, char** cause);
void ctl_lock_release(CtlLock* l); /* NULL: nothing */

/* Starts serving on <dir>/<pid>.sock and writes <dir>/<pid>.json. On failure nothing is left
 * behind and *cause says why (the caller warns and keeps running). */
typedef struct CtlServer CtlServer;
int ctl_server_start(Sup* sup, const CtlConfig* cfg, CtlServer** out, char** cause);
/* Closes every connection, joins the thread, removes the socket and its .json. Before sup_free. */
void ctl_server_stop(CtlServer* srv); /* NULL: nothing */

#endif
