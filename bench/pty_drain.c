/* pty_drain: runs a command in a fresh PTY (forkpty) and reads everything it writes, as fast as it
 * can, discarding it: the physical limit of a PTY-attached child, without any parsing.
 *
 * usage: pty_drain COMMAND [ARG...]   Prints "bytes=B seconds=S" to stderr; exits with the
 * child's status. */
#include <errno.h>
#include <pty.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char** argv) {
   if (argc < 2) {
      fprintf(stderr, "usage: pty_drain COMMAND [ARG...]\n");
      return 2;
   }
   struct winsize ws = {.ws_row = 50, .ws_col = 200};
   struct timespec t0, t1;
   clock_gettime(CLOCK_MONOTONIC, &t0);
   int fd;
   pid_t pid = forkpty(&fd, NULL, NULL, &ws);
   if (pid < 0) {
      perror("forkpty");
      return 1;
   }
   if (pid == 0) {
      execvp(argv[1], argv + 1);
      perror(argv[1]);
      _exit(127);
   }
   static char buf[65536];
   unsigned long long total = 0;
   for (;;) {
      ssize_t n = read(fd, buf, sizeof buf);
      if (n > 0) {
         total += (unsigned long long)n;
         continue;
      }
      if (n < 0 && errno == EINTR) continue;
      break; /* EIO: the child side closed */
   }
   int st = 0;
   while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
   }
   clock_gettime(CLOCK_MONOTONIC, &t1);
   close(fd);
   fprintf(stderr, "bytes=%llu seconds=%.6f\n", total,
           (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
   return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
