/* Private to the control server's transport: the socket directory's files (core/ctl_dir.c) as
 * core/ctl_server.c uses them, and the request parser's entry point for the fuzzer and tests. */
#ifndef BRUM_CORE_CTL_TRANSPORT_H
#define BRUM_CORE_CTL_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "core/sup.h"

/* The longest "<pid>.sock" (a pid has at most 10 digits): what must fit sun_path in the directory.
 */
#define CTL_SOCK_NAME_MAX 15

/* Removes the files of every instance in `dir` that is gone (its pid is dead, or its socket
 * refuses connections). */
void ctl_dir_sweep(const char* dir);

/* Writes <dir>/<pid>.json (temporary file + rename: a reader never sees half of it). 0, or -errno
 * with a heap message in *cause. */
int ctl_dir_write_info(const char* dir, int pid, const char* root, const char* kind,
                       uint64_t started_ms, const char* sock, char** cause);

/* Feeds `len` bytes to a connection that has no socket, as if a client had sent them in reads
 * of `chunk` bytes (0: one read) and then closed its end (a last line without its newline still
 * counts); polls the pending calls once, then drops the connection (cancelling what is still
 * pending). Returns every byte the server would have written to it (heap, *out_len bytes,
 * NUL-terminated). Runs on the calling thread, which must be registered with RCU. For the fuzzer
 * (tests/fuzz/fuzz_ctl.c) and unit tests: framing, JSON parsing and dispatch without a loop. The
 * hello reply's started_ms is 1: the same input gives the same output. */
char* ctl_feed(Sup* sup, const char* root, const char* data, size_t len, size_t chunk,
               size_t* out_len);

#endif
