#include "core/util.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
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
   char* owned = NULL;
   if (!path) {
      const char* state = getenv("XDG_STATE_HOME");
      const char* home = getenv("HOME");
      if (state && *state)
         owned = xasprintf("%s/brum/brum.log", state);
      else if (home && *home)
         owned = xasprintf("%s/.local/state/brum/brum.log", home);
      else
         return -ENOENT;
      make_parent_dirs(owned);
      path = owned;
   }
   FILE* f = fopen(path, "a");
   int err = f ? 0 : -errno;
   free(owned);
   if (!f) return err;
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
