/* Resource figures from /proc: the parsers (pure, for tests), the supervisor's sampler (CPU, RSS
 * and listening ports of each running process group, every SAMPLE_EVERY_MS while sup_sample is
 * on), and the port-in-use diagnosis (which process holds a port a child failed to bind). */
#ifndef BRUM_CORE_SAMPLE_H
#define BRUM_CORE_SAMPLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SAMPLE_EVERY_MS 2000
#define SAMPLE_FULL_EVERY 5 /* ticks: the others read only the members found last time */

/* A listening TCP socket of /proc/net/tcp or tcp6. */
typedef struct NetListen {
   uint64_t inode;
   uint16_t port;
} NetListen;

/* The LISTEN (state 0A) sockets of a /proc/net/tcp(6) text (its header line is skipped; bad lines
 * are ignored), appended to *out (grown, *n and *cap updated). Returns how many it added. */
size_t sample_parse_tcp(const char* text, NetListen** out, size_t* n, size_t* cap);
/* This system's listening TCP sockets, v4 and v6: through sock_diag netlink, else from both
 * /proc files (a missing tcp6 is no error). Returns the count; *out owned. */
size_t sample_read_listens(NetListen** out);
/* CPU time used over an interval, per mille of one core: dticks clock ticks (hz a second) in
 * dms milliseconds of wall time. 0 when dms is 0. */
uint32_t sample_cpu_permille(uint64_t dticks, uint64_t dms, long hz);
/* From one line of /proc/PID/stat: the session, utime + stime (ticks), rss (pages).
 * False when the line is malformed. */
bool sample_parse_stat(const char* s, size_t n, int* sid, uint64_t* ticks, uint64_t* rss);

/* ---- port in use (core/portuse.c) ---- */
/* A failed bind in a line of output (Node's and Next's EADDRINUSE, Vite's "Port N is already in
 * use", Go's "bind: address already in use", Python's "[Errno 98] Address already in use"):
 * the port (1-65535), -1 when the line says so without a port, 0 when it is no such line. */
int portuse_parse_line(const char* s, size_t n);
/* A port named by a command line (`--port 8000`, `-p 8000`, `:8000`, a bare number as in
 * `python3 -m http.server 8000`): the last one, 0 when none. */
int portuse_port_from_argv(char* const* argv);
typedef struct PortHolder {
   int pid;
   int sid;
   char cmd[160]; /* its command line, spaces between the arguments */
} PortHolder;
/* The process that listens on TCP `port` (any address, v4 or v6), found through /proc/net/tcp
 * and the /proc/PID/fd links of every process this user may read. False: none found. */
bool portuse_find_holder(int port, PortHolder* out);

#endif
