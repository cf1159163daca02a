/* S: the pane's view to a file. */
#include "tui/save.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/logfile.h"
#include "core/util.h"
#include "tui/view_impl.h"

typedef struct Buf {
   char* p;
   size_t len, cap;
} Buf;

static void buf_add(Buf* b, const char* s, size_t n) {
   if (b->len + n + 1 > b->cap) {
      b->cap = (b->len + n + 1) * 2;
      b->p = xrealloc(b->p, b->cap);
   }
   memcpy(b->p + b->len, s, n);
   b->len += n;
}

/* One line as it reads: a piece of a split long line continues the previous one. */
static void add_line(Buf* b, const Seq* s, const LogLine* l, uint64_t proc, bool first) {
   if (!first && !(l->flags & LINE_CONTINUED)) buf_add(b, "\n", 1);
   if (s->kind == SEQ_IDX_REFS && !(l->flags & LINE_CONTINUED)) {
      const char* name = proc < s->reg->n ? s->reg->slots[proc]->name : "?";
      buf_add(b, "[", 1);
      buf_add(b, name, strlen(name));
      buf_add(b, "] ", 2);
   }
   buf_add(b, l->text, l->len);
}

bool save_collect(View* v) {
   Seq s;
   uint64_t pos, last;
   if (!make_seq(v, &s) || !seq_first(&s, &pos) || !seq_last(&s, &last)) {
      set_msg(v, false, "nothing to save: the pane is empty");
      return false;
   }
   uint64_t t0 = util_mono_ns();
   Buf b = {0};
   uint64_t n = 0;
   for (;;) {
      LogLine l;
      uint64_t proc;
      if (seq_get(&s, pos, &l, &proc)) add_line(&b, &s, &l, proc, n++ == 0);
      if (pos >= last) break;
      if (s.kind != SEQ_RANGES)
         pos++;
      else if (!seq_next(&s, pos, &pos))
         break;
   }
   buf_add(&b, "\n", 1);
   save_free(v->save);
   v->save = xcalloc(1, sizeof *v->save);
   v->save->text = b.p;
   v->save->len = b.len;
   v->save->lines = n;
   v->save->filtered = s.kind == SEQ_IDX_LINES || (s.kind == SEQ_IDX_REFS && active_filter(v));
   v->save->name = v->tab == TAB_ALL ? xstrdup("all") : logfile_safe_name(slot_of(v, v->sel)->name);
   v->save->collect_ns = util_mono_ns() - t0;
   return true;
}

/* brum-NAME-YYYYMMDD-HHMMSS.log, or -2 ... -9 after it when that exists (two saves a second). */
static int open_new(const char* dir, const char* name, char** path) {
   char when[32];
   time_t now = time(NULL);
   struct tm tm;
   localtime_r(&now, &tm);
   strftime(when, sizeof when, "%Y%m%d-%H%M%S", &tm);
   for (int i = 1; i < 10; i++) {
      *path = i == 1 ? xasprintf("%s/brum-%s-%s.log", dir, name, when)
                     : xasprintf("%s/brum-%s-%s-%d.log", dir, name, when, i);
      int fd = open(*path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
      if (fd >= 0 || errno != EEXIST) return fd < 0 ? -errno : fd;
      free(*path);
   }
   *path = NULL;
   return -EEXIST;
}

static void on_work(uv_work_t* w) {
   SaveJob* j = w->data;
   uint64_t t0 = util_mono_ns();
   int fd = open_new(j->dir, j->name, &j->path);
   int err = fd < 0 ? fd : 0;
   for (size_t off = 0; !err && off < j->len;) {
      ssize_t n = write(fd, j->text + off, j->len - off);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) err = -errno;
      off += n > 0 ? (size_t)n : 0;
   }
   if (fd >= 0 && close(fd) < 0 && !err) err = -errno;
   if (err && j->path && fd >= 0) unlink(j->path);
   j->err = err;
   j->write_ns = util_mono_ns() - t0;
}

static void on_written(uv_work_t* w, int status) {
   SaveJob* j = w->data;
   View* v = j->view;
   if (status < 0) j->err = status;
   if (j->err) {
      char* why = util_strerror(j->err);
      set_msg(v, true, "cannot save to %s: %s", j->path ? j->path : j->dir, why);
      free(why);
   } else {
      set_msg(v, false, "saved %llu%s line%s to %s", (unsigned long long)j->lines,
              j->filtered ? " matching" : "", j->lines == 1 ? "" : "s", j->path);
      util_log("S: %llu lines, %zu bytes: copied in %.1f ms (UI thread), written in %.1f ms "
               "(threadpool)",
               (unsigned long long)j->lines, j->len, (double)j->collect_ns / 1e6,
               (double)j->write_ns / 1e6);
   }
   if (j->done) j->done(j->ud);
   save_free(j);
}

void save_start(View* v, uv_loop_t* loop, const char* dir, void (*done)(void* ud), void* ud) {
   SaveJob* j = v->save;
   v->save = NULL;
   if (!j) return;
   j->view = v;
   j->dir = dir;
   j->done = done;
   j->ud = ud;
   j->work.data = j;
   int err = uv_queue_work(loop, &j->work, on_work, on_written);
   if (err < 0) {
      j->err = err;
      on_written(&j->work, err);
   }
}

void save_free(SaveJob* j) {
   if (!j) return;
   free(j->text);
   free(j->name);
   free(j->path);
   free(j);
}
