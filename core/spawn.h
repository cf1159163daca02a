/* Spawning one child as a session leader, its output on a new PTY or a pipe, and the descriptor
 * that reports its exit. Keeps no state; called on the supervisor thread. */
#ifndef BRUM_CORE_SPAWN_H
#define BRUM_CORE_SPAWN_H

#include <stdbool.h>
#include <sys/types.h>

typedef struct SpawnSpec {
   const char* exe;   /* a path (spawn_resolve): absolute, or relative to cwd */
   char* const* argv; /* borrowed */
   char* const* env;  /* borrowed; NULL: this process's environment */
   const char* cwd;   /* borrowed */
   bool use_pty;      /* false: a pipe for stdout and stderr, stdin as in_fd says */
   int* in_fd;        /* without a PTY: non-NULL gives the child a pipe as stdin (its nonblocking,
                         close-on-exec write end here), NULL gives it /dev/null */
   unsigned short cols, rows; /* PTY size; 0: 80x24 */
} SpawnSpec;

/* argv[0] as execve needs it: absolute, or found in the PATH of env (NULL: this process's).
 * Owned by the caller; NULL when not found. */
char* spawn_resolve(const char* name, char* const* env);
/* Starts the child in its own session. *out_fd: the nonblocking PTY master or pipe read end. */
int spawn_child(const SpawnSpec* sp, int* out_fd, pid_t* pid_out);
/* A pidfd for the child (readable once it has exited), or -errno (-ENOSYS: no pidfd here). */
int spawn_pidfd(pid_t pid);

#endif
