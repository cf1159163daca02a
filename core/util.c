#include "core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

static void (*fatal_hook)(void);
static FILE* log_file; /* owned */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

void util_set_fatal_hook(void (*hook)(void)) {
   fatal_hook = hook;
}

_Noreturn void util_die_oom(void) {
   if (fatal_hook) fatal_hook();
   fputs("brum: out of memory\n", stderr);
   abort();
}

void* xmalloc(size_t n) {
   void* p = malloc(n ? n : 1);
   if (!p) util_die_oom();
   return p;
}

void* xcalloc(size_t n, size_t size) {
   void* p = calloc(n ? n : 1, size ? size : 1);
   if (!p) util_die_oom();
   return p;
}

void* xrealloc(void* p, size_t n) {
   void* q = realloc(p, n ? n : 1);
   if (!q) util_die_oom();
   return q;
}

char* xstrdup(const char* s) {
   return xstrndup(s, strlen(s));
}

char* xstrndup(const char* s, size_t n) {
   char* p = xmalloc(n + 1);
   memcpy(p, s, n);
   p[n] = '\0';
   return p;
}

char* xasprintf(const char* fmt, ...) {
   va_list ap;
   va_start(ap, fmt);
   int n = vsnprintf(NULL, 0, fmt, ap);
   va_end(ap);
   if (n < 0) util_die_oom();
   char* s = xmalloc((size_t)n + 1);
   va_start(ap, fmt);
   vsnprintf(s, (size_t)n + 1, fmt, ap);
   va_end(ap);
   return s;
}

size_t util_utf8_decode(const char* s, size_t n, uint32_t* cp) {
   const unsigned char* u = (const unsigned char*)s;
   unsigned char b = u[0];
   if (b < 0x80) {
      *cp = b;
      return 1;
   }
   size_t len;
   uint32_t v, min;
   if ((b & 0xe0) == 0xc0)
      len = 2, v = b & 0x1f, min = 0x80;
   else if ((b & 0xf0) == 0xe0)
      len = 3, v = b & 0x0f, min = 0x800;
   else if ((b & 0xf8) == 0xf0)
      len = 4, v = b & 0x07, min = 0x10000;
   else
      goto invalid;
   if (len > n) goto invalid;
   for (size_t i = 1; i < len; i++) {
      if ((u[i] & 0xc0) != 0x80) goto invalid;
      v = (v << 6) | (u[i] & 0x3f);
   }
   if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) goto invalid;
   *cp = v;
   return len;
invalid:
   *cp = 0xfffd;
   return 1;
}

char* util_sanitize(const char* s) {
   size_t n = strlen(s);
   char* out = xmalloc(n * 3 + 1); /* a byte becomes at most 3 (U+FFFD) */
   size_t o = 0;
   for (size_t i = 0; i < n;) {
      uint32_t cp;
      size_t k = util_utf8_decode(s + i, n - i, &cp);
      if (util_is_control(cp)) {
         memcpy(out + o, "\xc2\xb7", 2);
         o += 2;
      } else if (cp == 0xfffd && k == 1) {
         memcpy(out + o, "\xef\xbf\xbd", 3);
         o += 3;
      } else {
         memcpy(out + o, s + i, k);
         o += k;
      }
      i += k;
   }
   out[o] = '\0';
   return out;
}

size_t util_cols(const char* s) {
   size_t n = strlen(s), cols = 0;
   for (size_t i = 0; i < n;) {
      uint32_t cp;
      i += util_utf8_decode(s + i, n - i, &cp);
      int w = wcwidth((wchar_t)cp);
      cols += w < 0 ? 1 : (size_t)w;
   }
   return cols;
}

char* util_strerror(int err) {
   if (err == -EMFILE) {
      struct rlimit rl;
      if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
         return xasprintf("too many open files (limit %llu): raise it with ulimit -n",
                          (unsigned long long)rl.rlim_cur);
      return xstrdup("too many open files: raise the limit with ulimit -n");
   }
   if (err == -ENFILE)
      return xstrdup("too many open files in the system (ENFILE): close some programs");
   return xstrdup(strerror(-err));
}

void util_report(const char* what, int err) {
   char* msg = util_strerror(err);
   fprintf(stderr, "brum: %s: %s\n", what, msg);
   free(msg);
}

uint64_t util_now_ms(void) {
   struct timespec ts;
   clock_gettime(CLOCK_REALTIME, &ts);
   return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t util_mono_ns(void) {
   struct timespec ts;
   clock_gettime(CLOCK_MONOTONIC, &ts);
   return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

char* util_size_str(uint64_t bytes) {
   static const struct {
      uint64_t unit;
      const char* name;
   } units[] = {{1ull << 30, "GiB"}, {1ull << 20, "MiB"}, {1ull << 10, "KiB"}};
   for (size_t i = 0; i < ARRAY_LEN(units); i++) {
      if (bytes < units[i].unit) continue;
      if (bytes % units[i].unit == 0)
         return xasprintf("%" PRIu64 " %s", bytes / units[i].unit, units[i].name);
      return xasprintf("%.1f %s", (double)bytes / (double)units[i].unit, units[i].name);
   }
   return xasprintf("%" PRIu64 " byte%s", bytes, bytes == 1 ? "" : "s");
}

/* Why a file of this type is refused, in words. */
static char* not_regular(mode_t m) {
   if (S_ISDIR(m)) return xstrdup("it is a directory, not a file");
   const char* what = S_ISFIFO(m)   ? "a FIFO (named pipe)"
                      : S_ISCHR(m)  ? "a character device"
                      : S_ISBLK(m)  ? "a block device"
                      : S_ISSOCK(m) ? "a socket"
                                    : "a special file";
   return xasprintf("it is %s, not a regular file (brum reads and writes only regular files: "
                    "give it a plain file)",
                    what);
}

static int refuse(mode_t m, char** why) {
   if (why) *why = not_regular(m);
   return S_ISDIR(m) ? -EISDIR : -EINVAL;
}

int util_open_regular(const char* path, int flags, int mode, char** why) {
   if (why) *why = NULL;
   int fd = open(path, flags | O_NONBLOCK | O_CLOEXEC | O_NOCTTY, mode);
   if (fd < 0) {
      int err = errno;
      struct stat st;
      /* A FIFO without a reader fails O_WRONLY|O_NONBLOCK with ENXIO: name what it is. */
      if ((err == ENXIO || err == EISDIR) && stat(path, &st) == 0 && !S_ISREG(st.st_mode))
         return refuse(st.st_mode, why);
      if (why) *why = xstrdup(strerror(err));
      return -err;
   }
   struct stat st;
   if (fstat(fd, &st) < 0) {
      int err = errno;
      close(fd);
      if (why) *why = xstrdup(strerror(err));
      return -err;
   }
   if (!S_ISREG(st.st_mode)) {
      close(fd);
      return refuse(st.st_mode, why);
   }
   int fl = fcntl(fd, F_GETFL);
   if (fl >= 0) fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
   return fd;
}

static int too_big(uint64_t size, size_t max, bool more, char** why) {
   if (why) {
      char* s = util_size_str(size);
      char* m = util_size_str(max);
      *why = xasprintf("it is %s%s (%" PRIu64 " bytes), over the limit of %s", more ? "over " : "",
                       s, size, m);
      free(s);
      free(m);
   }
   return -EFBIG;
}

int util_read_file(const char* path, size_t max, char** out, size_t* len, char** why) {
   *out = NULL;
   *len = 0;
   int fd = util_open_regular(path, O_RDONLY, 0, why);
   if (fd < 0) return fd;
   int err = 0;
   char* buf = NULL;
   size_t n = 0, cap;
   struct stat st;
   if (fstat(fd, &st) < 0) {
      err = -errno;
      if (why) *why = xstrdup(strerror(-err));
      goto out;
   }
   if ((uint64_t)st.st_size > max) {
      err = too_big((uint64_t)st.st_size, max, false, why);
      goto out;
   }
   /* One byte more than the size: EOF is seen without a second allocation. */
   cap = (size_t)st.st_size + 1;
   buf = xmalloc(cap + 1);
   for (;;) {
      if (n == cap) {
         if (n > max) { /* it grew while being read */
            err = too_big(n, max, true, why);
            goto out;
         }
         cap = cap * 2 > max + 1 ? max + 1 : cap * 2;
         buf = xrealloc(buf, cap + 1);
      }
      ssize_t r = read(fd, buf + n, cap - n);
      if (r < 0) {
         if (errno == EINTR) continue;
         err = -errno;
         if (why) *why = xstrdup(strerror(-err));
         goto out;
      }
      if (r == 0) break;
      n += (size_t)r;
   }
   if (n > max) {
      err = too_big(n, max, false, why);
      goto out;
   }
   buf[n] = '\0';
   *out = buf;
   *len = n;
   buf = NULL;
out:
   free(buf);
   close(fd);
   return err;
}

/* mkdir -p for the directory part of path. */
static void make_parent_dirs(char* path) {
   for (char* p = path + 1; *p; p++) {
      if (*p != '/') continue;
      *p = '\0';
      mkdir(path, 0700);
      *p = '/';
   }
}

int util_log_open(const char* path) {
   return util_log_open_cause(path, NULL);
}

int util_log_open_cause(const char* path, char** cause) {
   if (cause) *cause = NULL;
   char* owned = NULL;
   if (!path) {
      const char* state = getenv("XDG_STATE_HOME");
      const char* home = getenv("HOME");
      if (state && *state)
         owned = xasprintf("%s/brum/brum.log", state);
      else if (home && *home)
         owned = xasprintf("%s/.local/state/brum/brum.log", home);
      if (!owned) {
         if (cause) *cause = xstrdup("no log file: neither XDG_STATE_HOME nor HOME is set");
         return -ENOENT;
      }
      make_parent_dirs(owned);
      path = owned;
   }
   struct stat st, null;
   if (stat(path, &st) == 0 && S_ISCHR(st.st_mode) && stat("/dev/null", &null) == 0 &&
       st.st_rdev == null.st_rdev) {
      free(owned); /* --log /dev/null: no log, as asked */
      return 0;
   }
   char* why = NULL;
   int fd = util_open_regular(path, O_WRONLY | O_APPEND | O_CREAT, 0666, &why);
   FILE* f = fd >= 0 ? fdopen(fd, "a") : NULL;
   if (fd >= 0 && !f) {
      int err = errno;
      close(fd);
      fd = -err;
      why = xstrdup(strerror(err));
   }
   if (!f) {
      if (cause) *cause = xasprintf("cannot write the log %s: %s", path, why);
      free(why);
      free(owned);
      return fd;
   }
   free(owned);
   setvbuf(f, NULL, _IOLBF, 0);
   pthread_mutex_lock(&log_lock);
   if (log_file) fclose(log_file);
   log_file = f;
   pthread_mutex_unlock(&log_lock);
   return 0;
}

void util_log(const char* fmt, ...) {
   pthread_mutex_lock(&log_lock);
   if (log_file) {
      time_t t = time(NULL);
      struct tm tm;
      char stamp[32];
      localtime_r(&t, &tm);
      strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm);
      fprintf(log_file, "%s ", stamp);
      va_list ap;
      va_start(ap, fmt);
      vfprintf(log_file, fmt, ap);
      va_end(ap);
      fputc('\n', log_file);
   }
   pthread_mutex_unlock(&log_lock);
}

void util_log_close(void) {
   pthread_mutex_lock(&log_lock);
   if (log_file) fclose(log_file);
   log_file = NULL;
   pthread_mutex_unlock(&log_lock);
}

int util_parse_seconds(const char* s, double max, double* out) {
   double v = 0, scale = 1;
   bool digits = false, dot = false;
   for (const char* p = s; *p; p++) {
      if (*p == '.' && !dot) {
         dot = true;
      } else if (*p >= '0' && *p <= '9') {
         digits = true;
         if (dot)
            v += (scale /= 10) * (*p - '0');
         else
            v = v * 10 + (*p - '0');
         if (v > max) return -ERANGE;
      } else {
         return -EINVAL;
      }
   }
   if (!digits) return -EINVAL;
   *out = v;
   return 0;
}

uint64_t util_hash(const void* data, size_t n, uint64_t h) {
   const unsigned char* b = data;
   for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * UINT64_C(1099511628211);
   return h;
}

size_t util_table_size(size_t n) {
   size_t cap = 16;
   while (cap < 2 * n) cap *= 2;
   return cap;
}
