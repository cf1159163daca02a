/* Tests of failure paths that need descriptors: leave exactly k descriptors free (RLIMIT_NOFILE
 * set just so), so that whatever opens the (k+1)-th fails with EMFILE. */
#ifndef BRUM_TESTS_FDLIMIT_H
#define BRUM_TESTS_FDLIMIT_H

#include <fcntl.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>
#include <uv.h>

typedef struct FdLimit {
   struct rlimit saved;
} FdLimit;

/* Creates libuv's process-wide signal pipe first (libuv aborts when it cannot), so that only
 * what a loop needs is counted. */
static inline void fdlimit_init(FdLimit* fl) {
   uv_loop_t warm;
   if (uv_loop_init(&warm) == 0) uv_loop_close(&warm);
   getrlimit(RLIMIT_NOFILE, &fl->saved);
}

/* Leaves k descriptors free: the limit is the (k+1)-th free descriptor number. Looks afresh
 * each time (libuv 1.44 leaks its epoll descriptor when uv_loop_init fails). */
static inline int fdlimit_free_only(FdLimit* fl, int k) {
   int lim = 0;
   for (int free_below = 0; lim < 65536; lim++)
      if (fcntl(lim, F_GETFD) < 0 && free_below++ == k) break;
   struct rlimit r = {.rlim_cur = (rlim_t)lim, .rlim_max = fl->saved.rlim_max};
   return setrlimit(RLIMIT_NOFILE, &r);
}

static inline void fdlimit_restore(FdLimit* fl) {
   setrlimit(RLIMIT_NOFILE, &fl->saved);
}

static inline void fdlimit_done(FdLimit* fl) {
   fdlimit_restore(fl);
}

/* Under ASan: the number of leaks found now (a failure path that forgot something); else 0. */
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
static inline int leak_check(void) {
   return __lsan_do_recoverable_leak_check();
}
#else
static inline int leak_check(void) {
   return 0;
}
#endif

#endif
