/* The control sockets' directory: where it is and whether it is safe, the per-root lock, the
 * per-instance .json files, and removing what instances that are gone left behind. */
#include "core/ctl.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "core/ctl_transport.h"
#include "core/util.h"

#define INFO_MAX (64u << 10) /* an instance's .json is a few hundred bytes */

struct CtlLock {
   int fd;
   char* path; /* owned */
};

/* A directory only this user can enter: anyone else able to create files in it could put a
 * socket of their own where brum's clients look, or read what they send. */
static int check_dir(const char* path, char** cause) {
   struct stat st;
   if (lstat(path, &st) < 0) {
      int err = -errno;
      *cause = xasprintf("cannot use the control socket directory %s: %s", path, strerror(-err));
      return err;
   }
   if (S_ISLNK(st.st_mode)) {
      *cause = xasprintf("the control socket directory %s is a symbolic link: brum refuses it "
                         "(it could lead anywhere); remove it and brum creates a directory",
                         path);
      return -ELOOP;
   }
   if (!S_ISDIR(st.st_mode)) {
      *cause = xasprintf("the control socket directory %s is not a directory: remove it and brum "
                         "creates one",
                         path);
      return -ENOTDIR;
   }
   if (st.st_uid != geteuid()) {
      *cause = xasprintf("the control socket directory %s belongs to uid %u, not to you (uid %u): "
                         "brum refuses it; remove it and brum creates its own",
                         path, (unsigned)st.st_uid, (unsigned)geteuid());
      return -EPERM;
   }
   if (st.st_mode & 077) {
      *cause = xasprintf("the control socket directory %s is open to other users (mode %04o): "
                         "brum refuses it; make it private with chmod 700 %s",
                         path, (unsigned)(st.st_mode & 07777), path);
      return -EPERM;
   }
   return 0;
}

/* Creates the directory 0700 when it is missing, then checks it (whoever created it). */
static int make_dir(const char* path, char** cause) {
   if (mkdir(path, 0700) == 0) {
      chmod(path, 0700); /* a umask could have taken the owner's bits */
   } else if (errno != EEXIST) {
      int err = -errno;
      *cause = xasprintf("cannot create the control socket directory %s: %s", path, strerror(-err));
      return err;
   }
   return check_dir(path, cause);
}

int ctl_dir(size_t need, char** out, char** cause) {
   *out = NULL;
   const size_t sun_max = sizeof(((struct sockaddr_un*)0)->sun_path) - 1; /* and a NUL */
   const char* xdg = getenv("XDG_RUNTIME_DIR");
   char* path;
   if (xdg && xdg[0] == '/' && strlen(xdg) + strlen("/brum/") + need <= sun_max)
      path = xasprintf("%s/brum", xdg);
   else
      path = xasprintf("/tmp/brum-%u", (unsigned)geteuid());
   if (strlen(path) + 1 + need > sun_max) { /* only a uid of absurd length */
      *cause = xasprintf("the control socket directory %s is too long for a socket path", path);
      free(path);
      return -ENAMETOOLONG;
   }
   int err = make_dir(path, cause);
   if (err < 0) {
      free(path);
      return err;
   }
   *out = path;
   return 0;
}

/* ---------------------------------------------------------------- instances */

static bool pid_alive(int pid) {
   return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
}

/* Whether something listens on the socket: a refused or missing socket is an instance that is
 * gone (its pid may have been reused). Non-blocking: a full backlog answers EAGAIN, and that
 * instance is alive. */
static bool sock_alive(const char* path) {
   struct sockaddr_un sa = {.sun_family = AF_UNIX};
   if (strlen(path) >= sizeof sa.sun_path) return false;
   strcpy(sa.sun_path, path);
   int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
   if (fd < 0) return true; /* cannot tell: keep it */
   int rc = connect(fd, (struct sockaddr*)&sa, sizeof sa);
   int err = rc < 0 ? errno : 0;
   close(fd);
   return rc == 0 || (err != ECONNREFUSED && err != ENOENT && err != ENOTSOCK);
}

/* "<digits>.<ext>": the pid, else 0. */
static int name_pid(const char* name, const char* ext) {
   char* end;
   long pid = strtol(name, &end, 10);
   if (end == name || name[0] < '0' || name[0] > '9' || *end != '.' || strcmp(end + 1, ext) != 0)
      return 0;
   return pid > 0 && pid < (1L << 30) ? (int)pid : 0;
}

static void remove_instance(const char* dir, int pid) {
   char* sock = xasprintf("%s/%d.sock", dir, pid);
   char* info = xasprintf("%s/%d.json", dir, pid);
   util_log("control: removing the files of instance %d, which is gone", pid);
   unlink(info);
   unlink(sock);
   free(sock);
   free(info);
}

/* Calls fn for every live instance's .json (parsed), after removing the stale ones. */
static void scan_instances(const char* dir, void (*fn)(json_t* info, void* ud), void* ud) {
   DIR* d = opendir(dir);
   if (!d) return;
   struct dirent* e;
   while ((e = readdir(d))) {
      int pid = name_pid(e->d_name, "json");
      bool sock_only = false;
      if (!pid) {
         /* a socket without .json: a crash between listen and writing it, or a start under way */
         pid = name_pid(e->d_name, "sock");
         sock_only = true;
      }
      if (!pid) continue;
      char* sock = xasprintf("%s/%d.sock", dir, pid);
      bool alive = pid_alive(pid) && (sock_only || sock_alive(sock));
      free(sock);
      if (!alive) {
         remove_instance(dir, pid);
         continue;
      }
      if (sock_only || !fn) continue;
      char* path = xasprintf("%s/%s", dir, e->d_name);
      char* text = NULL;
      size_t len;
      json_t* info = NULL;
      if (util_read_file(path, INFO_MAX, &text, &len, NULL) == 0)
         info = json_loadb(text, len, 0, NULL);
      if (json_is_object(info)) fn(info, ud);
      json_decref(info);
      free(text);
      free(path);
   }
   closedir(d);
}

void ctl_dir_sweep(const char* dir) {
   scan_instances(dir, NULL, NULL);
}

int ctl_dir_write_info(const char* dir, int pid, const char* root, const char* kind,
                       uint64_t started_ms, const char* sock, char** cause) {
   json_t* info =
       json_pack("{s:i, s:s, s:s, s:I, s:s, s:s}", "pid", pid, "root", root, "kind", kind,
                 "started_ms", (json_int_t)started_ms, "version", BRUM_VERSION, "socket", sock);
   if (!info) { /* json_pack refuses strings that are not UTF-8 */
      *cause = xasprintf("the project's path is not valid UTF-8: the control protocol (JSON) "
                         "cannot name it");
      return -EILSEQ;
   }
   char* tmp = xasprintf("%s/.%d.json.tmp", dir, pid);
   char* path = xasprintf("%s/%d.json", dir, pid);
   int err = 0;
   unlink(tmp);
   errno = 0; /* json_dump_file's failures do not all set it */
   if (json_dump_file(info, tmp, JSON_COMPACT) < 0 || chmod(tmp, 0600) < 0 ||
       rename(tmp, path) < 0) {
      err = errno ? -errno : -EIO;
      *cause = xasprintf("cannot write %s: %s", path, strerror(-err));
      unlink(tmp);
   }
   json_decref(info);
   free(tmp);
   free(path);
   return err;
}

/* ---------------------------------------------------------------- the lock */

/* FNV-1a, 64 bits: a fixed-length file name for any root path. */
static uint64_t fnv1a(const char* s) {
   return util_hash(s, strlen(s), UTIL_HASH_START);
}

typedef struct Holder {
   const char* root;
   char* desc; /* owned: "pid 123, tui, since 14:02:11" */
} Holder;

static void find_holder(json_t* info, void* ud) {
   Holder* h = ud;
   const char* root = json_string_value(json_object_get(info, "root"));
   if (h->desc || !root || strcmp(root, h->root) != 0) return;
   const char* kind = json_string_value(json_object_get(info, "kind"));
   char* k = util_sanitize(kind ? kind : "?");
   time_t since = (time_t)(json_integer_value(json_object_get(info, "started_ms")) / 1000);
   time_t now = time(NULL);
   struct tm tm;
   char when[64] = "?";
   if (localtime_r(&since, &tm))
      strftime(when, sizeof when, now - since < 20 * 3600 ? "%H:%M:%S" : "%Y-%m-%d %H:%M:%S", &tm);
   h->desc = xasprintf("pid %lld, %s, since %s",
                       (long long)json_integer_value(json_object_get(info, "pid")), k, when);
   free(k);
}

/* The message for a root whose lock another instance holds. */
static char* busy_message(const char* dir, const char* root) {
   Holder h = {root, NULL};
   scan_instances(dir, find_holder, &h);
   char* r = util_sanitize(root);
   char* msg;
   if (h.desc)
      msg = xasprintf("brum is already running for %s (%s): use it with 'brum ctl ps' or 'brum "
                      "mcp', or stop it with 'brum ctl quit'",
                      r, h.desc);
   else /* it holds the lock but has not written its .json yet (or runs without a socket) */
      msg = xasprintf("brum is already running for %s (its control socket is not ready yet): "
                      "use it with 'brum ctl ps' or 'brum mcp', or stop it with 'brum ctl quit'",
                      r);
   free(r);
   free(h.desc);
   return msg;
}

/* Locks the file at path. The holder unlinks it when it is done, so a lock taken on a file that
 * was unlinked (or replaced) meanwhile is worth nothing: then try again on the new file. */
static int lock_file(const char* path, int* out) {
   for (int tries = 0; tries < 100; tries++) {
      int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
      if (fd < 0) return -errno;
      if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
         int err = errno == EWOULDBLOCK ? -EEXIST : -errno;
         close(fd);
         return err;
      }
      struct stat a, b;
      if (fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev &&
          a.st_ino == b.st_ino) {
         *out = fd;
         return 0;
      }
      close(fd);
   }
   return -EAGAIN;
}

int ctl_lock_take(const char* root, const char* kind, CtlLock** out, char** cause) {
   (void)kind; /* the running instance's kind is in its .json; ours goes in ours */
   *out = NULL;
   char* dir;
   int err = ctl_dir(CTL_SOCK_NAME_MAX, &dir, cause);
   if (err < 0) return err;
   char* path = xasprintf("%s/%016llx.lock", dir, (unsigned long long)fnv1a(root));
   int fd = -1;
   err = lock_file(path, &fd);
   if (err == -EEXIST) {
      *cause = busy_message(dir, root);
   } else if (err < 0) {
      *cause = xasprintf("cannot lock %s: %s", path, strerror(-err));
   } else {
      CtlLock* l = xcalloc(1, sizeof *l);
      l->fd = fd;
      l->path = path;
      path = NULL;
      *out = l;
   }
   free(path);
   free(dir);
   return err;
}

void ctl_lock_release(CtlLock* l) {
   if (!l) return;
   unlink(l->path); /* before the unlock: a newcomer that opened it retries (lock_file) */
   close(l->fd);
   free(l->path);
   free(l);
}
