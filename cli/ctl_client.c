/* The client side of the control protocol (docs/PROTOCOL.md): discovery of the instance that
 * serves a directory, the connection and its hello, and newline-delimited JSON over a blocking
 * Unix socket, with poll() for timeouts and a read buffer for the framing. */
#include "cli/ctl_client.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/util.h"

/* A reply bigger than this is a broken or hostile server, not a log: logs replies are bounded by
 * their limit (10,000 lines) and each line by the log store's line bound. */
enum { MAX_MSG = 256u << 20, READ_CHUNK = 64 * 1024, MAX_INFO = 64 * 1024 };

struct CtlClient {
   int fd;
   char* buf; /* owned: bytes read and not yet returned */
   size_t len, cap;
};

/* The directories an instance may serve from: XDG's, and /tmp/brum-$UID, where a server falls
 * back when XDG_RUNTIME_DIR is unset or a socket path would not fit in it. Both are read: which
 * one a server chose depends on the length of its pid, and a server started with another
 * environment may have chosen the other. */
static size_t sock_dirs(char* out[2]) {
   size_t n = 0;
   const char* xdg = getenv("XDG_RUNTIME_DIR");
   if (xdg && xdg[0] == '/') out[n++] = xasprintf("%s/brum", xdg);
   out[n++] = xasprintf("/tmp/brum-%u", (unsigned)geteuid());
   return n;
}

/* The socket directory must be ours alone, or anyone could plant an instance for us to talk to.
 * 0 when it is safe; -ENOENT when it does not exist (no instance there); else -errno and why. */
static int check_dir(const char* dir, char** cause) {
   struct stat st;
   if (lstat(dir, &st) < 0) {
      if (errno == ENOENT) return -ENOENT;
      int err = -errno;
      *cause = xasprintf("cannot use %s: %s", dir, strerror(-err));
      return err;
   }
   if (S_ISLNK(st.st_mode)) {
      *cause =
          xasprintf("refusing %s: it is a symbolic link, not brum's directory (remove it)", dir);
      return -EPERM;
   }
   if (!S_ISDIR(st.st_mode)) {
      *cause = xasprintf("refusing %s: it is not a directory (remove it)", dir);
      return -ENOTDIR;
   }
   if (st.st_uid != geteuid()) {
      *cause = xasprintf("refusing %s: it belongs to uid %u, not to you (uid %u)", dir,
                         (unsigned)st.st_uid, (unsigned)geteuid());
      return -EPERM;
   }
   if (st.st_mode & 077) {
      *cause = xasprintf("refusing %s: other users have access (mode %03o; chmod 700 it)", dir,
                         (unsigned)(st.st_mode & 0777));
      return -EPERM;
   }
   return 0;
}

/* "123.json" → 123; 0 for any other name (temporary files, locks, sockets). */
static int json_name_pid(const char* name) {
   size_t digits = strspn(name, "0123456789");
   if (digits == 0 || digits > 9 || strcmp(name + digits, ".json") != 0) return 0;
   return atoi(name);
}

static void remove_entry(const char* dir, int pid) {
   char* p = xasprintf("%s/%d.json", dir, pid);
   unlink(p);
   free(p);
   p = xasprintf("%s/%d.sock", dir, pid);
   unlink(p);
   free(p);
}

static bool pid_dead(int pid) {
   return kill(pid, 0) < 0 && errno == ESRCH;
}

/* Reads one instance's .json: 0, or -EINVAL when it is not one (a field missing or mistyped). */
static int read_info(const char* path, int pid, CtlInstance* out) {
   char* text = NULL;
   size_t len = 0;
   if (util_read_file(path, MAX_INFO, &text, &len, NULL) < 0) return -EINVAL;
   json_t* j = json_loadb(text, len, 0, NULL);
   free(text);
   json_t* jpid = json_object_get(j, "pid");
   const char* root = json_string_value(json_object_get(j, "root"));
   const char* kind = json_string_value(json_object_get(j, "kind"));
   const char* sock = json_string_value(json_object_get(j, "socket"));
   json_t* started = json_object_get(j, "started_ms");
   int err = -EINVAL;
   if (json_is_integer(jpid) && json_integer_value(jpid) == pid && root && root[0] == '/' && kind &&
       sock && sock[0] == '/') {
      *out = (CtlInstance){
          .pid = pid,
          .root = xstrdup(root),
          .kind = xstrdup(kind),
          .socket = xstrdup(sock),
          .started_ms = json_is_integer(started) ? (uint64_t)json_integer_value(started) : 0,
      };
      err = 0;
   }
   json_decref(j);
   return err;
}

/* Is `root` the directory `dir` or one of its ancestors? Both are real paths. */
static bool covers(const char* root, const char* dir) {
   size_t n = strlen(root);
   if (n == 1 && root[0] == '/') return true;
   while (n > 1 && root[n - 1] == '/') n--;
   return strncmp(root, dir, n) == 0 && (dir[n] == '\0' || dir[n] == '/');
}

/* A plain connect with our own length check: sockaddr_un silently truncates otherwise. */
static int sock_connect(const char* path) {
   struct sockaddr_un sa = {.sun_family = AF_UNIX};
   size_t n = strlen(path);
   if (n >= sizeof sa.sun_path) return -ENAMETOOLONG;
   memcpy(sa.sun_path, path, n + 1);
   int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
   if (fd < 0) return -errno;
   int rc;
   do rc = connect(fd, (struct sockaddr*)&sa, sizeof sa);
   while (rc < 0 && errno == EINTR);
   if (rc < 0) {
      int err = -errno;
      close(fd);
      return err;
   }
   return fd;
}

/* A candidate: the instance and the directory it was listed in. */
typedef struct Cand {
   CtlInstance in;
   const char* dir; /* borrowed */
} Cand;

/* Collects the live entries of one directory whose root covers `real`; removes dead ones. */
static void scan_dir(const char* dir, const char* real, Cand** cands, size_t* n, size_t* cap) {
   DIR* d = opendir(dir);
   if (!d) return;
   struct dirent* e;
   while ((e = readdir(d))) {
      int pid = json_name_pid(e->d_name);
      if (pid <= 0) continue;
      if (pid_dead(pid)) {
         remove_entry(dir, pid);
         continue;
      }
      char* path = xasprintf("%s/%s", dir, e->d_name);
      CtlInstance in;
      int err = read_info(path, pid, &in);
      free(path);
      if (err < 0) continue; /* alive but unreadable: maybe not ours to judge, leave it */
      if (!covers(in.root, real)) {
         ctl_instance_done(&in);
         continue;
      }
      if (*n == *cap) *cands = xrealloc(*cands, (*cap = *cap ? *cap * 2 : 4) * sizeof **cands);
      (*cands)[(*n)++] = (Cand){in, dir};
   }
   closedir(d);
}

/* Nearest root first (the longest covers the deepest); the newest first among equals. */
static int cand_cmp(const void* a, const void* b) {
   const Cand *x = a, *y = b;
   size_t lx = strlen(x->in.root), ly = strlen(y->in.root);
   if (lx != ly) return lx < ly ? 1 : -1;
   return x->in.started_ms < y->in.started_ms ? 1 : x->in.started_ms > y->in.started_ms ? -1 : 0;
}

/* The first candidate whose socket answers; the ones that refuse are stale and removed. */
static int pick(Cand* c, size_t n, CtlInstance* out) {
   int found = -ENOENT;
   for (size_t i = 0; i < n; i++) {
      if (found == 0) {
         ctl_instance_done(&c[i].in);
         continue;
      }
      int fd = sock_connect(c[i].in.socket);
      if (fd >= 0) {
         close(fd);
         *out = c[i].in;
         found = 0;
         continue;
      }
      if (fd == -ECONNREFUSED || fd == -ENOENT) remove_entry(c[i].dir, c[i].in.pid);
      ctl_instance_done(&c[i].in);
   }
   return found;
}

int ctl_find(const char* dir, CtlInstance* out, char** cause) {
   memset(out, 0, sizeof *out);
   char* real = realpath(dir, NULL);
   if (!real) {
      *cause = xasprintf("no brum running for %s (%s): start brum in that directory, or pass -d "
                         "with a project directory",
                         dir, errno == ENOENT ? "it does not exist" : strerror(errno));
      return -ENOENT;
   }
   char* dirs[2];
   size_t ndirs = sock_dirs(dirs);
   Cand* cands = NULL;
   size_t n = 0, cap = 0;
   char* unsafe = NULL;
   int unsafe_err = 0;
   for (size_t i = 0; i < ndirs; i++) {
      char* why = NULL;
      int err = check_dir(dirs[i], &why);
      if (err == 0) {
         scan_dir(dirs[i], real, &cands, &n, &cap);
      } else if (err != -ENOENT && !unsafe) {
         unsafe = why, unsafe_err = err;
      } else {
         free(why);
      }
   }
   if (n) qsort(cands, n, sizeof *cands, cand_cmp); /* qsort wants a pointer even for none */
   int rc = pick(cands, n, out);
   if (rc < 0 && unsafe) {
      /* An unsafe directory may hide the instance wanted: that is the thing to fix. */
      *cause = unsafe, unsafe = NULL;
      rc = unsafe_err;
   } else if (rc < 0) {
      *cause = xasprintf("no brum running for %s: start brum in that directory, or pass -d with "
                         "the directory of a running one",
                         real);
   }
   free(unsafe);
   free(cands);
   for (size_t i = 0; i < ndirs; i++) free(dirs[i]);
   free(real);
   return rc;
}

void ctl_instance_done(CtlInstance* in) {
   if (!in) return;
   free(in->root);
   free(in->kind);
   free(in->socket);
   memset(in, 0, sizeof *in);
}

/* ---- the connection ---- */

int ctl_fd(const CtlClient* c) {
   return c->fd;
}

void ctl_close(CtlClient* c) {
   if (!c) return;
   if (c->fd >= 0) close(c->fd);
   free(c->buf);
   free(c);
}

int ctl_send(CtlClient* c, json_t* msg) {
   char* s = json_dumps(msg, JSON_COMPACT);
   if (!s) return -EINVAL;
   /* JSON_COMPACT escapes every newline inside strings: the only one is the frame's. */
   size_t len = strlen(s);
   s = xrealloc(s, len + 2);
   s[len++] = '\n';
   size_t off = 0;
   int err = 0;
   while (off < len) {
      /* MSG_NOSIGNAL: a server that went away is -EPIPE, not a SIGPIPE that kills us. */
      ssize_t w = send(c->fd, s + off, len - off, MSG_NOSIGNAL);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) {
         err = -errno;
         break;
      }
      off += (size_t)w;
   }
   free(s);
   return err;
}

/* One complete line from the buffer: 1 with *out, 0 when none is complete, -EPROTO. */
static int take_line(CtlClient* c, json_t** out) {
   char* nl = c->len ? memchr(c->buf, '\n', c->len) : NULL;
   if (!nl) return c->len > MAX_MSG ? -EMSGSIZE : 0;
   size_t n = (size_t)(nl - c->buf);
   json_t* j = json_loadb(c->buf, n, JSON_REJECT_DUPLICATES, NULL);
   memmove(c->buf, nl + 1, c->len - n - 1);
   c->len -= n + 1;
   /* The line is consumed either way: the connection stays usable after a malformed one. */
   if (!j) return -EPROTO;
   *out = j;
   return 1;
}

static int read_more(CtlClient* c) {
   if (c->cap - c->len < READ_CHUNK) {
      c->cap = c->cap ? c->cap * 2 : 2 * READ_CHUNK;
      c->buf = xrealloc(c->buf, c->cap);
   }
   ssize_t r = read(c->fd, c->buf + c->len, c->cap - c->len);
   if (r < 0) return errno == EINTR || errno == EAGAIN ? 0 : -errno;
   if (r == 0) return -EPIPE;
   c->len += (size_t)r;
   return 0;
}

int ctl_recv(CtlClient* c, int timeout_ms, json_t** out) {
   uint64_t deadline = timeout_ms < 0 ? 0 : util_mono_ns() + (uint64_t)timeout_ms * 1000000u;
   for (;;) {
      int rc = take_line(c, out);
      if (rc != 0) return rc;
      int wait = -1;
      if (timeout_ms >= 0) {
         uint64_t now = util_mono_ns();
         wait = now >= deadline ? 0 : (int)((deadline - now + 999999u) / 1000000u);
      }
      struct pollfd p = {.fd = c->fd, .events = POLLIN};
      int n = poll(&p, 1, wait);
      if (n < 0) return -errno; /* -EINTR: a signal the caller handles (Ctrl-C) */
      if (n == 0) return 0;
      int err = read_more(c);
      if (err < 0) return err;
   }
}

static char* describe(int err) {
   if (err == -EPIPE || err == -ECONNRESET) return xstrdup("brum closed the connection");
   if (err == -EPROTO) return xstrdup("brum sent a malformed message");
   char* s = util_strerror(err);
   char* m = xasprintf("connection to brum failed: %s", s);
   free(s);
   return m;
}

int ctl_call(CtlClient* c, json_t* req, int timeout_ms, json_t** reply, char** cause) {
   *reply = NULL;
   json_t* id = json_object_get(req, "id");
   int err = ctl_send(c, req);
   if (err < 0) {
      *cause = describe(err);
      return err;
   }
   uint64_t deadline = timeout_ms < 0 ? 0 : util_mono_ns() + (uint64_t)timeout_ms * 1000000u;
   for (;;) {
      int left = -1;
      if (timeout_ms >= 0) {
         uint64_t now = util_mono_ns();
         left = now >= deadline ? 0 : (int)((deadline - now + 999999u) / 1000000u);
      }
      json_t* m = NULL;
      int rc = ctl_recv(c, left, &m);
      if (rc == 0) {
         *cause = xasprintf("brum did not answer within %d s", (timeout_ms + 999) / 1000);
         return -ETIMEDOUT;
      }
      /* One bad line does not lose the reply after it; a signal (or a stop and continue, after
       * which Linux fails poll with EINTR even without a handler) does not end the wait. */
      if (rc == -EPROTO || rc == -EINTR) continue;
      if (rc < 0) {
         *cause = describe(rc);
         return rc;
      }
      if (json_object_get(m, "ok") && json_equal(json_object_get(m, "id"), id)) {
         *reply = m;
         return 0;
      }
      json_decref(m); /* an event, or the reply to another call */
   }
}

/* The server's error message, or the whole reply when it has none. */
static char* reply_error(json_t* r) {
   const char* msg = json_string_value(json_object_get(json_object_get(r, "error"), "message"));
   if (msg) return xstrdup(msg);
   char* s = json_dumps(r, JSON_COMPACT);
   char* m = xasprintf("unexpected reply: %s", s ? s : "?");
   free(s);
   return m;
}

int ctl_connect(const CtlInstance* in, const char* kind, CtlClient** out, json_t** hello_reply,
                char** cause) {
   *out = NULL;
   if (hello_reply) *hello_reply = NULL;
   int fd = sock_connect(in->socket);
   if (fd < 0) {
      char* s = util_strerror(fd);
      *cause = xasprintf("cannot connect to brum (pid %d) at %s: %s", in->pid, in->socket, s);
      free(s);
      return fd;
   }
   CtlClient* c = xcalloc(1, sizeof *c);
   c->fd = fd;
   json_t* hello = json_pack("{s:i, s:s, s:i, s:s, s:s}", "id", 0, "op", "hello", "protocol", 1,
                             "client", kind, "version", BRUM_VERSION);
   json_t* r = NULL;
   int err = ctl_call(c, hello, 10000, &r, cause);
   json_decref(hello);
   if (err == 0 && !json_is_true(json_object_get(r, "ok"))) {
      *cause = reply_error(r);
      err = -EPROTO;
   }
   if (err < 0) {
      json_decref(r);
      ctl_close(c);
      return err;
   }
   if (hello_reply)
      *hello_reply = r;
   else
      json_decref(r);
   *out = c;
   return 0;
}
