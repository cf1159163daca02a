/* Port in use: a child that fails to bind says so in its output; the detection thread recognises
 * the line (portuse_parse_line, an "in use" screen first so other lines cost almost nothing,
 * core/detwork.c), and at the next publication the supervisor looks the holder up in /proc
 * (system-wide, bounded, only then), says it in a marker line and in the Errors entry, and keeps
 * it for the UI's `K` (sup_free_port). */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "core/sample.h"
#include "core/sup_int.h"
#include "core/util.h"

#define FREE_POLL_MS 100  /* after the holder got SIGTERM: is the port free yet? */
#define FREE_WAIT_MS 5000 /* then start the script anyway */

/* ---------------------------------------------------------------- parsing */

static int port_at(const char* p, const char* e) {
   long v = 0;
   const char* s = p;
   while (p < e && isdigit((unsigned char)*p) && v <= 65535) v = v * 10 + (*p++ - '0');
   return p > s && v > 0 && v <= 65535 ? (int)v : 0;
}

/* The number after the last ':' in [p, e) (":::3000", "127.0.0.1:3000", "[::]:3000"). */
static int port_after_colon(const char* p, const char* e) {
   for (const char* q = e; q-- > p;)
      if (*q == ':') return port_at(q + 1, e);
   return 0;
}

static const char* find(const char* s, const char* e, const char* lit) {
   return memmem(s, (size_t)(e - s), lit, strlen(lit));
}

/* "in use" in [s, e), or NULL: a memchr for the rarer 'u' costs a third of memmem's two-way
 * search (33 against 95 ns on a 111-byte log line), but one call per 'u' of the line. */
static const char* find_in_use_scalar(const char* s, const char* e) {
   for (const char* p = s + 3; p + 3 <= e && (p = memchr(p, 'u', (size_t)(e - p))); p++)
      if (p + 3 <= e && p[1] == 's' && p[2] == 'e' && memcmp(p - 3, "in ", 3) == 0) return p - 3;
   return NULL;
}

/* The first "in use" in [s, e), or NULL. Every line of output passes here, on the detection
 * thread: with SSE2 (every x86-64) 16 starts at a time keep only those with ' ', 'u' and 'e'
 * where "in use" has them (a log line of ~70 bytes: 4 blocks and no call, against a memchr per
 * 'u'); the last block overlaps the one before rather than leave a tail. */
static const char* find_in_use(const char* s, const char* e) {
#ifdef __SSE2__
   enum { SPAN = 16 + 5 }; /* the bytes a block of 16 starts reads: starts + 5 */
   if (e - s < SPAN) return find_in_use_scalar(s, e);
   const __m128i sp = _mm_set1_epi8(' '), u = _mm_set1_epi8('u'), ee = _mm_set1_epi8('e');
   for (const char* p = s;; p += 16) {
      if (e - p < SPAN) p = e - SPAN; /* the last block: starts up to e - 6 */
      __m128i a = _mm_cmpeq_epi8(_mm_loadu_si128((const void*)(p + 2)), sp);
      __m128i b = _mm_cmpeq_epi8(_mm_loadu_si128((const void*)(p + 3)), u);
      __m128i c = _mm_cmpeq_epi8(_mm_loadu_si128((const void*)(p + 5)), ee);
      unsigned m = (unsigned)_mm_movemask_epi8(_mm_and_si128(_mm_and_si128(a, b), c));
      for (; m; m &= m - 1) /* in order: the first match is the line's first */
         if (memcmp(p + __builtin_ctz(m), "in use", 6) == 0) return p + __builtin_ctz(m);
      if (p == e - SPAN) return NULL;
   }
#else
   return find_in_use_scalar(s, e);
#endif
}

int portuse_parse_line(const char* s, size_t n) {
   const char* e = s + n;
   const char* use = n >= 6 ? find_in_use(s, e) : NULL;
   if (!use) return 0; /* nearly every line ends here */
   const char* q;
   if ((q = find(s, use, "Port ")) || (q = find(s, use, "port "))) { /* Vite, Next */
      /* "Port 5173 is in use, trying another one...": the server moves on, nothing failed; and
       * "Transport 5 in use" is no port */
      if (find(use, e, "trying")) return 0;
      int port = q > s && isalnum((unsigned char)q[-1]) ? 0 : port_at(q + 5, use);
      if (port) return port;
   }
   if ((q = find(s, use, ": bind: address already"))) { /* Go: listen tcp HOST:PORT: bind: */
      const char* t = find(s, q, "listen tcp");
      if (t) return port_after_colon(t, q) ? port_after_colon(t, q) : -1;
   }
   if (find(s, e, "EADDRINUSE") || find(s, e, "ddress already in use")) {
      /* Node: "listen EADDRINUSE: address already in use :::3000"; Python: no port */
      const char* t = use + 6;
      while (t < e && *t == ' ') t++;
      const char* w = t;
      while (w < e && *w != ' ' && *w != ',' && *w != ')') w++;
      int port = w > t ? port_after_colon(t, w) : 0;
      return port ? port : -1;
   }
   return 0;
}

/* A word of a command: "8000", "--port=8000", ":8000", "localhost:8000" give 8000. */
static int port_of_word(const char* w, size_t len) {
   for (size_t i = len; i-- > 0;)
      if (w[i] == ':' || w[i] == '=') {
         w += i + 1, len -= i + 1;
         break;
      }
   size_t k = 0;
   while (k < len && isdigit((unsigned char)w[k])) k++;
   int v = k == len ? port_at(w, w + len) : 0;
   return v >= 80 ? v : 0; /* not a count or a small flag value */
}

int portuse_port_from_argv(char* const* argv) {
   int port = 0;
   for (size_t i = 1; argv && argv[i]; i++) /* `sh -c "python3 -m http.server 8000"`: words */
      for (const char* a = argv[i]; *a;) {
         size_t sp = strspn(a, " \t"), len = strcspn(a + sp, " \t");
         int v = port_of_word(a + sp, len);
         if (v) port = v;
         a += sp + len;
      }
   return port;
}

/* ---------------------------------------------------------------- the holder */

static bool read_cmdline(int pid, char* out, size_t size) {
   char path[64];
   snprintf(path, sizeof path, "/proc/%d/cmdline", pid);
   int fd = open(path, O_RDONLY | O_CLOEXEC);
   if (fd < 0) return false;
   ssize_t n = read(fd, out, size - 1);
   close(fd);
   if (n <= 0) return false;
   while (n > 0 && out[n - 1] == '\0') n--;
   out[n] = '\0';
   /* the program's name without its directory: "python3 -m http.server", as people say it */
   size_t w = strlen(out);
   char* base = memrchr(out, '/', w);
   if (base) memmove(out, base + 1, (size_t)n - (size_t)(base + 1 - out) + 1), n -= base + 1 - out;
   for (ssize_t i = 0; i < n; i++)
      if (out[i] == '\0' || out[i] == '\n') out[i] = ' ';
   return true;
}

static int read_sid(int pid) {
   char path[64], buf[1024];
   snprintf(path, sizeof path, "/proc/%d/stat", pid);
   int fd = open(path, O_RDONLY | O_CLOEXEC);
   if (fd < 0) return 0;
   ssize_t n = read(fd, buf, sizeof buf - 1);
   close(fd);
   int sid;
   uint64_t t, r;
   return n > 0 && sample_parse_stat(buf, (size_t)n, &sid, &t, &r) ? sid : 0;
}

/* Does a descriptor of pid link to one of the inodes? Unreadable directories are skipped. */
static bool holds_inode(int dfd, const char* pid, const uint64_t* inodes, size_t n) {
   char path[300], link[64];
   snprintf(path, sizeof path, "%s/fd", pid);
   int fd = openat(dfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
   if (fd < 0) return false;
   DIR* d = fdopendir(fd);
   if (!d) return close(fd), false;
   bool hit = false;
   struct dirent* de;
   while (!hit && (de = readdir(d))) {
      ssize_t k = readlinkat(fd, de->d_name, link, sizeof link - 1);
      if (k < 9 || memcmp(link, "socket:[", 8) != 0) continue;
      link[k] = '\0';
      uint64_t ino = strtoull(link + 8, NULL, 10);
      for (size_t i = 0; i < n && !hit; i++) hit = inodes[i] == ino;
   }
   closedir(d);
   return hit;
}

bool portuse_find_holder(int port, PortHolder* out) {
   NetListen* l;
   size_t nl = sample_read_listens(&l), n = 0;
   uint64_t inodes[16];
   for (size_t i = 0; i < nl && n < ARRAY_LEN(inodes); i++)
      if (l[i].port == port) inodes[n++] = l[i].inode;
   free(l);
   if (!n) return false;
   DIR* d = opendir("/proc");
   if (!d) return false;
   bool found = false;
   struct dirent* de;
   while (!found && (de = readdir(d))) {
      if (de->d_name[0] < '1' || de->d_name[0] > '9') continue;
      if (!holds_inode(dirfd(d), de->d_name, inodes, n)) continue;
      out->pid = atoi(de->d_name);
      out->sid = read_sid(out->pid);
      if (!read_cmdline(out->pid, out->cmd, sizeof out->cmd)) snprintf(out->cmd, 2, "?");
      found = true;
   }
   closedir(d);
   return found;
}

/* ---------------------------------------------------------------- the supervisor's side */

static void note_free_rcu(struct rcu_head* h) {
   free(caa_container_of(h, PortNote, rcu));
}

static void note_set(Proc* p, PortNote* n) {
   PortNote* old = rcu_swap(&p->port_note, n);
   if (old) call_rcu(&old->rcu, note_free_rcu);
}

/* The brum process whose group the holder is in (NULL: not one of brum's). */
static Proc* brum_owner(Sup* s, const PortHolder* h) {
   size_t n = sup_count(s);
   for (size_t i = 0; i < n; i++) {
      Proc* q = sup_proc(s, i);
      if (q->pid > 0 && (q->pid == h->sid || q->pid == h->pid)) return q;
   }
   return NULL;
}

/* After the slice (or catch-up) that found the failed bind: who holds the port, said in the pane
 * and in the Errors entry, and kept for `K`. */
void portuse_flush(Proc* p) {
   uint64_t lineno;
   int port = det_take_port(p, &lineno);
   if (port < 0) port = portuse_port_from_argv(p->argv);
   if (port <= 0) return; /* none, or Python's message and no port on its command line */
   PortNote* n = xcalloc(1, sizeof *n);
   n->h.port = port;
   PortHolder h;
   char text[300];
   if (!portuse_find_holder(port, &h)) {
      snprintf(text, sizeof text,
               "port %d is in use, but no process brum may look at holds it (another user's?)",
               port);
      free(n);
      n = NULL;
   } else {
      Proc* q = brum_owner(p->sup, &h);
      n->h.pid = h.pid;
      n->h.ours = q != NULL;
      n->h.ours_id = q ? q->slot.id : 0;
      snprintf(n->h.cmd, sizeof n->h.cmd, "%s", h.cmd);
      if (q)
         snprintf(text, sizeof text,
                  "port %d is held by brum's `%s` (pid %d): K stops it and restarts", port,
                  q->slot.name, h.pid);
      else
         snprintf(text, sizeof text,
                  "port %d is held by pid %d (%.80s), not one of brum's: K kills it and restarts",
                  port, h.pid, h.cmd);
   }
   proc_marker(p, "── %s ──", text);
   det_note(p, lineno, util_now_ms(), text);
   note_set(p, n);
}

void portuse_begin_run(Proc* p) {
   if (p->port_note) note_set(p, NULL);
}

bool sup_port_holder(const Sup* s, uint64_t id, SupPortHolder* out) {
   bool ok = false;
   rcu_read_lock();
   const Registry* r = rcu_read(&s->registry);
   if (r && id < r->n) {
      const PortNote* n = rcu_read(&((const Proc*)r->slots[id])->port_note);
      if (n) *out = n->h, ok = true;
   }
   rcu_read_unlock();
   return ok;
}

static void port_restart(Proc* p) {
   if (proc_active(p)) { /* it runs on (Next moved to another port): a restart */
      p->restart_pending = true;
      proc_stop(p, false);
   } else {
      orch_start(p);
   }
}

/* Is anything listening on the port? Only the sockets (netlink, else /proc/net/tcp), not the walk
 * over every process's descriptors that finding the holder takes (that runs every 100 ms here). */
static bool port_listened(int port) {
   NetListen* l = NULL;
   size_t n = sample_read_listens(&l);
   bool held = false;
   for (size_t i = 0; i < n && !held; i++) held = l[i].port == port;
   free(l);
   return held;
}

static void on_port_timer(uv_timer_t* t) {
   Sup* s = t->data;
   Proc* p = sup_proc(s, s->port_wait_id);
   bool held = port_listened(s->port_wait_port);
   if (held && util_now_ms() < s->port_wait_until) return;
   uv_timer_stop(t);
   if (held) proc_marker(p, "── port %d is still held: starting anyway ──", s->port_wait_port);
   port_restart(p);
}

/* `K`: the holder gets SIGTERM (one of brum's is stopped through its own state machine), and the
 * script starts once the port is free (or after FREE_WAIT_MS). */
void portuse_free(Proc* p) {
   Sup* s = p->sup;
   const PortNote* n = p->port_note;
   if (!n || atomic_load(&s->finished)) return;
   int port = n->h.port;
   PortHolder h;
   if (portuse_find_holder(port, &h)) { /* the holder now, not a pid that may have been reused */
      Proc* q = brum_owner(s, &h);
      if (q && q != p) {
         proc_marker(p, "── stopping brum's `%s`, which holds port %d ──", q->slot.name, port);
         proc_stop(q, false);
      } else if (kill(h.pid, SIGTERM) == 0) {
         proc_marker(p, "── sent SIGTERM to pid %d (%.80s), which held port %d ──", h.pid, h.cmd,
                     port);
      } else {
         proc_marker(p, "── cannot signal pid %d: %s ──", h.pid, strerror(errno));
      }
   }
   if (uv_is_active((uv_handle_t*)&s->port_timer) && s->port_wait_id != p->slot.id)
      port_restart(sup_proc(s, s->port_wait_id)); /* a second K: the first one's script now */
   s->port_wait_id = p->slot.id;
   s->port_wait_port = port;
   s->port_wait_until = util_now_ms() + FREE_WAIT_MS;
   proc_publish(p);
   uv_timer_start(&s->port_timer, on_port_timer, 0, FREE_POLL_MS);
}
