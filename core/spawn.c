/* Spawning: posix_spawn with the child as a session leader on a PTY (or a pipe). */
#include "core/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include "core/util.h"

extern char** environ;

static const char* env_get(char* const* env, const char* key) {
   size_t n = strlen(key);
   for (; env && *env; env++)
      if (strncmp(*env, key, n) == 0 && (*env)[n] == '=') return *env + n + 1;
   return NULL;
}

char* spawn_resolve(const char* name, char* const* env) {
   if (!env) env = environ;
   if (strchr(name, '/')) return xstrdup(name);
   const char* path = env_get(env, "PATH");
   if (!path) path = "/usr/local/bin:/usr/bin:/bin";
   while (*path) {
      const char* end = strchr(path, ':');
      size_t n = end ? (size_t)(end - path) : strlen(path);
      char* cand = xasprintf("%.*s/%s", (int)n, n ? path : ".", name);
      if (access(cand, X_OK) == 0) return cand;
      free(cand);
      path += n + (end ? 1 : 0);
   }
   return NULL;
}

static int open_pty(const SpawnSpec* sp, int* master_out, char* slave_name, size_t size) {
   int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
   if (m < 0) return -errno;
   if (grantpt(m) < 0 || unlockpt(m) < 0 || ptsname_r(m, slave_name, size) != 0) {
      int err = -errno;
      close(m);
      return err;
   }
   struct winsize ws = {.ws_row = sp->rows ? sp->rows : 24, .ws_col = sp->cols ? sp->cols : 80};
   ioctl(m, TIOCSWINSZ, &ws);
   *master_out = m;
   return 0;
}

/* Spawns the child as a session leader. With a PTY, the child opens the slave after setsid(),
 * which makes it its controlling terminal; posix_spawn (vfork-based) reports exec errors. */
int spawn_child(const SpawnSpec* sp, int* out_fd, pid_t* pid_out) {
   char slave[128];
   int out = -1, pipe_w = -1, in_r = -1, in_w = -1, err;
   posix_spawn_file_actions_t fa;
   posix_spawnattr_t attr;
   posix_spawn_file_actions_init(&fa);
   posix_spawnattr_init(&attr);

   if (sp->use_pty) {
      if ((err = open_pty(sp, &out, slave, sizeof slave)) < 0) goto done;
      posix_spawn_file_actions_addopen(&fa, 0, slave, O_RDWR, 0);
      posix_spawn_file_actions_adddup2(&fa, 0, 1);
      posix_spawn_file_actions_adddup2(&fa, 0, 2);
   } else {
      int fds[2];
      if (pipe2(fds, O_CLOEXEC) < 0) {
         err = -errno;
         goto done;
      }
      out = fds[0];
      pipe_w = fds[1];
      if (sp->in_fd) {
         if (pipe2(fds, O_CLOEXEC) < 0) {
            err = -errno;
            goto done;
         }
         in_r = fds[0];
         in_w = fds[1];
         posix_spawn_file_actions_adddup2(&fa, in_r, 0);
      } else {
         posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
      }
      posix_spawn_file_actions_adddup2(&fa, pipe_w, 1);
      posix_spawn_file_actions_adddup2(&fa, pipe_w, 2);
   }
   posix_spawn_file_actions_addchdir_np(&fa, sp->cwd);
   posix_spawn_file_actions_addclosefrom_np(&fa, 3);

   sigset_t mask, def;
   sigemptyset(&mask);
   sigfillset(&def);
   sigdelset(&def, SIGKILL);
   sigdelset(&def, SIGSTOP);
   posix_spawnattr_setsigmask(&attr, &mask);
   posix_spawnattr_setsigdefault(&attr, &def);
   posix_spawnattr_setflags(&attr,
                            POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

   /* our end (close-on-exec, never the child's) is non-blocking before there is a child to reap */
   if (fcntl(out, F_SETFL, fcntl(out, F_GETFL) | O_NONBLOCK) < 0 ||
       (in_w >= 0 && fcntl(in_w, F_SETFL, fcntl(in_w, F_GETFL) | O_NONBLOCK) < 0)) {
      err = -errno;
      goto done;
   }
   int r = posix_spawn(pid_out, sp->exe, &fa, &attr, sp->argv, sp->env ? sp->env : environ);
   if (r != 0) {
      err = -r;
      goto done;
   }
   *out_fd = out;
   out = -1;
   if (sp->in_fd) {
      *sp->in_fd = in_w;
      in_w = -1;
   }
   err = 0;
done:
   if (out >= 0) close(out);
   if (pipe_w >= 0) close(pipe_w);
   if (in_r >= 0) close(in_r);
   if (in_w >= 0) close(in_w);
   posix_spawn_file_actions_destroy(&fa);
   posix_spawnattr_destroy(&attr);
   return err;
}

int spawn_pidfd(pid_t pid) {
   int fd = (int)syscall(SYS_pidfd_open, pid, 0);
   return fd >= 0 ? fd : -errno;
}
