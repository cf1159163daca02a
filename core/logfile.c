/* Log files: the supervisor appends records to the front half of a bounded buffer under a mutex
 * held for a memcpy; the writer thread swaps the halves and writes the back one, so the
 * supervisor never waits for the disk. A record that does not fit is dropped and counted; the
 * sink's next record that fits is preceded by a "lines dropped" record. */
#include "core/logfile.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/logstore.h"
#include "core/util.h"

#define DEFAULT_MAX_SIZE (10u << 20)
#define DEFAULT_KEEP 3
#define DEFAULT_BUFFER (4u << 20)
#define STAGE_BUF (64 * 1024) /* one for every file: a sink's bytes in a row, one write() */
#define GATHER_MS 10 /* the writer lets a flood fill the buffer this long: a wakeup per batch */

enum { REC_LINE, REC_CONT, REC_RAW, REC_RUN, REC_DROPPED };

typedef struct Rec {
   LogSink* sink;
   uint64_t a;   /* REC_RUN: the time (ms), REC_DROPPED: the count */
   uint32_t len; /* bytes of text after the header */
   uint32_t kind;
   uint32_t run; /* REC_RUN */
} Rec;

#define REC_SIZE(len) ((sizeof(Rec) + (len) + 7) & ~(size_t)7)

struct LogSink {
   LogFiles* lf;
   char* name; /* owned */
   char* path; /* owned: DIR/SAFE.log */
   LogSink* next;
   atomic_bool failed; /* set by the writer: the supervisor stops appending */
   uint64_t dropped;   /* under lf->mu: lines not buffered since the last that was */
   /* writer thread only */
   int fd; /* -1: not open */
   uint64_t size;
   bool open; /* the last byte written was not a newline */
   bool wfailed;
};

struct LogFiles {
   LogFileConfig cfg;
   char* dir; /* owned */
   pthread_t thread;
   pthread_mutex_t mu;
   pthread_cond_t cv, idle_cv;
   char *front, *back; /* owned: cfg.buffer / 2 bytes each */
   size_t front_len, half;
   bool quit, hold, writing; /* under mu */
   bool idle;                /* under mu: the writer waits for a signal (the front was empty) */
   atomic_uint_least64_t dropped_total;
   LogSink* sinks; /* supervisor thread */
   /* writer thread: bytes of one sink waiting for its write() (no per-file buffer: a monorepo
    * may log hundreds of processes) */
   char* stage; /* owned: STAGE_BUF */
   size_t staged;
   LogSink* stage_sink;
};

/* ---------------------------------------------------------------- names */

char* logfile_safe_name(const char* name) {
   size_t n = strlen(name), i = 0;
   char* out = xmalloc(n * 3 + 16);
   size_t o = 0;
   for (; i < n && o < 200; i++) {
      unsigned char c = (unsigned char)name[i];
      if (c == '/' || c == '%' || c < 0x20 || c == 0x7f)
         o += (size_t)sprintf(out + o, "%%%02X", c);
      else
         out[o++] = (char)c;
   }
   /* cut: names sharing their first 200 bytes must not share a file */
   if (i < n) o += (size_t)sprintf(out + o, "~%08x", (unsigned)util_hash(name, n, UTIL_HASH_START));
   out[o] = '\0';
   return out;
}

/* mkdir -p */
static int make_dirs(const char* dir) {
   if (!*dir) return -ENOENT;
   char* p = xstrdup(dir);
   int err = 0;
   for (char* s = p + 1;; s++) {
      if (*s != '/' && *s) continue;
      char c = *s;
      *s = '\0';
      if (mkdir(p, 0777) < 0 && errno != EEXIST) err = -errno;
      *s = c;
      if (err < 0 || !c) break;
   }
   struct stat st;
   if (!err) err = stat(p, &st) < 0 ? -errno : !S_ISDIR(st.st_mode) ? -ENOTDIR : 0;
   if (!err && access(p, W_OK) < 0) err = -errno;
   free(p);
   return err;
}

/* ---------------------------------------------------------------- the writer */

static void sink_fail(LogFiles* lf, LogSink* s, const char* what, int err) {
   s->wfailed = true;
   atomic_store(&s->failed, true);
   if (lf->stage_sink == s) lf->staged = 0, lf->stage_sink = NULL;
   if (s->fd >= 0) close(s->fd);
   s->fd = -1;
   char* msg = xasprintf("log file %s: %s: %s; %s is not logged any more", s->path, what,
                         strerror(err), s->name);
   util_log("%s", msg);
   if (lf->cfg.on_error) lf->cfg.on_error(lf->cfg.ud, msg);
   free(msg);
}

/* Writes what is staged to its sink's file. */
static void stage_flush(LogFiles* lf) {
   LogSink* s = lf->stage_sink;
   size_t len = lf->staged;
   lf->staged = 0;
   lf->stage_sink = NULL;
   for (size_t off = 0; s && off < len;) {
      ssize_t w = write(s->fd, lf->stage + off, len - off);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) {
         sink_fail(lf, s, "cannot write it", w < 0 ? errno : EIO);
         return;
      }
      off += (size_t)w;
   }
}

static bool sink_open(LogFiles* lf, LogSink* s) {
   int fd = open(s->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
   struct stat st;
   if (fd < 0 || fstat(fd, &st) < 0) {
      int err = errno;
      if (fd >= 0) close(fd);
      sink_fail(lf, s, "cannot open it", err);
      return false;
   }
   s->fd = fd;
   s->size = (uint64_t)st.st_size;
   s->open = false;
   return true;
}

/* NAME.log becomes NAME.log.1, .1 becomes .2, ...; the oldest beyond `keep` is replaced. */
static bool sink_rotate(LogFiles* lf, LogSink* s) {
   if (lf->stage_sink == s) stage_flush(lf); /* its bytes belong to the old file */
   if (s->wfailed) return false;
   if (close(s->fd) < 0) {
      s->fd = -1;
      sink_fail(lf, s, "cannot write it", errno);
      return false;
   }
   s->fd = -1;
   for (unsigned i = lf->cfg.keep; i >= 1; i--) {
      char* from = i == 1 ? xstrdup(s->path) : xasprintf("%s.%u", s->path, i - 1);
      char* to = xasprintf("%s.%u", s->path, i);
      int r = rename(from, to);
      int err = errno;
      free(from);
      free(to);
      if (r < 0 && err != ENOENT) {
         sink_fail(lf, s, "cannot rotate it", err);
         return false;
      }
   }
   return sink_open(lf, s);
}

/* Rotates first when a record of `need` bytes would take the file past its size (once per
 * record: a line and its newline stay in one file). */
static bool sink_room(LogFiles* lf, LogSink* s, size_t need) {
   return !(s->size > 0 && s->size + need > lf->cfg.max_size) || sink_rotate(lf, s);
}

static void sink_put(LogFiles* lf, LogSink* s, const char* bytes, size_t n) {
   if (lf->stage_sink != s) stage_flush(lf);
   s->size += n;
   while (n && !s->wfailed) {
      lf->stage_sink = s;
      size_t k = n < STAGE_BUF - lf->staged ? n : STAGE_BUF - lf->staged;
      memcpy(lf->stage + lf->staged, bytes, k);
      lf->staged += k;
      bytes += k;
      n -= k;
      if (lf->staged == STAGE_BUF) stage_flush(lf);
   }
}

/* A record as text: a header, a notice, a line (its newline held back when it was cut at the
 * store's line limit: the next piece continues it) or raw bytes. */
static void write_rec(LogFiles* lf, const Rec* r, const char* text) {
   LogSink* s = r->sink;
   if (s->wfailed || (s->fd < 0 && !sink_open(lf, s))) return;
   if (s->open && r->kind != REC_CONT && r->kind != REC_RAW) sink_put(lf, s, "\n", 1);
   s->open = false;
   if (s->wfailed) return;
   char head[96];
   switch (r->kind) {
   case REC_RUN: {
      time_t t = (time_t)(r->a / 1000);
      struct tm tm;
      localtime_r(&t, &tm);
      char when[32];
      strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
      char* line = xasprintf("=== %s run %u: %.*s ===\n", when, r->run, (int)r->len, text);
      if (sink_room(lf, s, strlen(line))) sink_put(lf, s, line, strlen(line));
      free(line);
      return;
   }
   case REC_DROPPED: {
      int n = snprintf(head, sizeof head, "=== %llu line%s dropped: the disk was too slow ===\n",
                       (unsigned long long)r->a, r->a == 1 ? "" : "s");
      if (sink_room(lf, s, (size_t)n)) sink_put(lf, s, head, (size_t)n);
      return;
   }
   case REC_RAW:
      if (!sink_room(lf, s, r->len)) return;
      sink_put(lf, s, text, r->len);
      s->open = r->len && text[r->len - 1] != '\n';
      return;
   default:
      if (!sink_room(lf, s, r->len + (r->len != LOGSTORE_MAX_LINE))) return;
      sink_put(lf, s, text, r->len);
      if (r->len == LOGSTORE_MAX_LINE)
         s->open = true;
      else if (!s->wfailed)
         sink_put(lf, s, "\n", 1);
   }
}

static void write_batch(LogFiles* lf, const char* buf, size_t len) {
   for (size_t off = 0; off < len;) {
      const Rec* r = (const Rec*)(buf + off);
      write_rec(lf, r, buf + off + sizeof *r);
      off += REC_SIZE(r->len);
   }
   stage_flush(lf);
}

static void* writer_main(void* arg) {
   LogFiles* lf = arg;
   pthread_mutex_lock(&lf->mu);
   for (;;) {
      while (!lf->quit && (lf->front_len == 0 || lf->hold)) {
         lf->writing = false;
         lf->idle = true;
         pthread_cond_broadcast(&lf->idle_cv);
         pthread_cond_wait(&lf->cv, &lf->mu);
      }
      lf->idle = false;
      if (lf->front_len == 0) break; /* quitting, everything written */
      lf->writing = true;
      if (!lf->quit && lf->front_len < lf->half / 2) {
         /* Gather: under a flood the supervisor would otherwise wake this thread (a futex call)
          * for nearly every line, as each batch empties the front. It signals once half full. */
         struct timespec ts;
         clock_gettime(CLOCK_MONOTONIC, &ts);
         ts.tv_nsec += GATHER_MS * 1000000L;
         if (ts.tv_nsec >= 1000000000L) ts.tv_sec++, ts.tv_nsec -= 1000000000L;
         pthread_cond_timedwait(&lf->cv, &lf->mu, &ts);
         if (lf->hold && !lf->quit) continue;
      }
      char* b = lf->front;
      size_t len = lf->front_len;
      lf->front = lf->back;
      lf->back = b;
      lf->front_len = 0;
      lf->writing = true;
      pthread_mutex_unlock(&lf->mu);
      write_batch(lf, b, len);
      pthread_mutex_lock(&lf->mu);
   }
   lf->writing = false;
   pthread_cond_broadcast(&lf->idle_cv);
   pthread_mutex_unlock(&lf->mu);
   return NULL;
}

/* ---------------------------------------------------------------- the supervisor's side */

/* Under mu: appends one record, or false when the front half has no room for it. */
static bool push(LogFiles* lf, LogSink* s, uint32_t kind, uint64_t a, uint32_t run,
                 const char* text, size_t len) {
   size_t need = REC_SIZE(len);
   if (lf->front_len + need > lf->half) return false;
   /* the writer waits for the first record, or gathers until the front is half full */
   if ((lf->idle && lf->front_len == 0) ||
       (lf->front_len < lf->half / 2 && lf->front_len + need >= lf->half / 2))
      pthread_cond_signal(&lf->cv);
   Rec* r = (Rec*)(lf->front + lf->front_len);
   *r = (Rec){.sink = s, .a = a, .len = (uint32_t)len, .kind = kind, .run = run};
   memcpy(r + 1, text, len);
   lf->front_len += need;
   return true;
}

static uint64_t count_lines(uint32_t kind, const char* text, size_t len) {
   if (kind != REC_RAW) return 1;
   uint64_t n = 0;
   for (const char* p = text; (p = memchr(p, '\n', len - (size_t)(p - text))); p++) n++;
   return n ? n : 1;
}

static void put(LogSink* s, uint32_t kind, uint64_t a, uint32_t run, const char* text, size_t len) {
   LogFiles* lf = s->lf;
   if (atomic_load_explicit(&s->failed, memory_order_relaxed)) return;
   pthread_mutex_lock(&lf->mu);
   if (s->dropped && push(lf, s, REC_DROPPED, s->dropped, 0, "", 0)) s->dropped = 0;
   if (s->dropped || !push(lf, s, kind, a, run, text, len)) {
      uint64_t n = count_lines(kind, text, len);
      s->dropped += n;
      atomic_fetch_add_explicit(&lf->dropped_total, n, memory_order_relaxed);
   }
   pthread_mutex_unlock(&lf->mu);
}

LogSink* logfiles_sink(LogFiles* lf, const char* name) {
   for (LogSink* s = lf->sinks; s; s = s->next)
      if (strcmp(s->name, name) == 0) return s;
   LogSink* s = xcalloc(1, sizeof *s);
   s->lf = lf;
   s->name = xstrdup(name);
   char* safe = logfile_safe_name(name);
   s->path = xasprintf("%s/%s.log", lf->dir, safe);
   free(safe);
   atomic_init(&s->failed, false);
   s->fd = -1;
   s->next = lf->sinks;
   lf->sinks = s;
   return s;
}

void logsink_run(LogSink* s, unsigned run, const char* command) {
   const char* c = command ? command : "";
   put(s, REC_RUN, util_now_ms(), run, c, strlen(c));
}

void logsink_line(LogSink* s, const char* text, size_t len, bool continued, bool marker) {
   if (s->lf->cfg.raw && !marker) return;
   put(s, continued ? REC_CONT : REC_LINE, 0, 0, text, len);
}

void logsink_raw(LogSink* s, const char* bytes, size_t n) {
   if (s->lf->cfg.raw && n) put(s, REC_RAW, 0, 0, bytes, n);
}

bool logfiles_raw(const LogFiles* lf) {
   return lf->cfg.raw;
}

/* ---------------------------------------------------------------- lifecycle */

int logfiles_new(const LogFileConfig* cfg, LogFiles** out, char** cause) {
   int err = make_dirs(cfg->dir);
   if (err < 0) {
      if (cause)
         *cause = xasprintf("cannot create the log directory %s: %s", cfg->dir, strerror(-err));
      return err;
   }
   LogFiles* lf = xcalloc(1, sizeof *lf);
   lf->cfg = *cfg;
   if (!lf->cfg.max_size) lf->cfg.max_size = DEFAULT_MAX_SIZE;
   if (!lf->cfg.keep) lf->cfg.keep = DEFAULT_KEEP;
   if (!lf->cfg.buffer) lf->cfg.buffer = DEFAULT_BUFFER;
   lf->dir = xstrdup(cfg->dir);
   lf->cfg.dir = lf->dir;
   lf->half = lf->cfg.buffer / 2;
   lf->front = xmalloc(lf->half);
   lf->back = xmalloc(lf->half);
   lf->stage = xmalloc(STAGE_BUF);
   atomic_init(&lf->dropped_total, 0);
   pthread_mutex_init(&lf->mu, NULL);
   pthread_condattr_t ca; /* the gather's timeout on the monotonic clock: immune to clock jumps */
   pthread_condattr_init(&ca);
   pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
   pthread_cond_init(&lf->cv, &ca);
   pthread_condattr_destroy(&ca);
   pthread_cond_init(&lf->idle_cv, NULL);
   err = -pthread_create(&lf->thread, NULL, writer_main, lf);
   if (err < 0) {
      if (cause) *cause = xasprintf("cannot start the log writer: %s", strerror(-err));
      lf->thread = 0;
      logfiles_free(lf);
      return err;
   }
   *out = lf;
   return 0;
}

void logfiles_free(LogFiles* lf) {
   if (!lf) return;
   pthread_mutex_lock(&lf->mu);
   lf->hold = false;
   /* what was dropped since a sink's last line is said before its file closes */
   for (LogSink* s = lf->sinks; s; s = s->next) {
      if (!s->dropped) continue;
      if (!push(lf, s, REC_DROPPED, s->dropped, 0, "", 0)) {
         pthread_mutex_unlock(&lf->mu);
         logfiles_sync(lf); /* room for it once the writer took the front half */
         pthread_mutex_lock(&lf->mu);
         push(lf, s, REC_DROPPED, s->dropped, 0, "", 0);
      }
      s->dropped = 0;
   }
   lf->quit = true;
   lf->hold = false;
   pthread_cond_signal(&lf->cv);
   pthread_mutex_unlock(&lf->mu);
   if (lf->thread) pthread_join(lf->thread, NULL);
   for (LogSink *s = lf->sinks, *next; s; s = next) {
      next = s->next;
      if (s->fd >= 0 && s->open && write(s->fd, "\n", 1) < 0)
         util_log("log file %s: cannot write it: %s", s->path, strerror(errno));
      if (s->fd >= 0) close(s->fd);
      free(s->name);
      free(s->path);
      free(s);
   }
   pthread_cond_destroy(&lf->idle_cv);
   pthread_cond_destroy(&lf->cv);
   pthread_mutex_destroy(&lf->mu);
   free(lf->front);
   free(lf->back);
   free(lf->stage);
   free(lf->dir);
   free(lf);
}

void logfiles_hold(LogFiles* lf, bool hold) {
   pthread_mutex_lock(&lf->mu);
   lf->hold = hold;
   pthread_cond_signal(&lf->cv);
   pthread_mutex_unlock(&lf->mu);
}

void logfiles_sync(LogFiles* lf) {
   pthread_mutex_lock(&lf->mu);
   while (lf->front_len || lf->writing) {
      pthread_cond_signal(&lf->cv);
      pthread_cond_wait(&lf->idle_cv, &lf->mu);
   }
   pthread_mutex_unlock(&lf->mu);
}

uint64_t logfiles_dropped(LogFiles* lf) {
   return atomic_load(&lf->dropped_total);
}
