/* The control client (cli/ctl_client.c): finding the instance for a directory among fake
 * discovery files in a private XDG_RUNTIME_DIR, and the framing and hello against a scripted
 * server on a thread of the test. */
#include "cli/ctl_client.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/util.h"

static char tmp[] = "/tmp/brum-ctlc-XXXXXX";
static char* sockdir; /* $XDG_RUNTIME_DIR/brum */
/* Children that stand for live instances (a pid that exists), killed at the end. */
static pid_t kids[8];
static size_t nkids;

static void setup(void) {
   strcpy(tmp, "/tmp/brum-ctlc-XXXXXX");
   cr_assert_not_null(mkdtemp(tmp));
   cr_assert_eq(chmod(tmp, 0700), 0);
   setenv("XDG_RUNTIME_DIR", tmp, 1);
   sockdir = xasprintf("%s/brum", tmp);
   cr_assert_eq(mkdir(sockdir, 0700), 0);
   nkids = 0;
}

static void teardown(void) {
   for (size_t i = 0; i < nkids; i++) {
      kill(kids[i], SIGKILL);
      waitpid(kids[i], NULL, 0);
   }
   char* cmd = xasprintf("rm -rf '%s'", tmp);
   cr_expect_eq(system(cmd), 0);
   free(cmd);
   free(sockdir);
}

TestSuite(ctl_client, .init = setup, .fini = teardown, .timeout = 60);

static pid_t live_pid(void) {
   pid_t p = fork();
   cr_assert_geq(p, 0);
   if (p == 0) {
      for (;;) pause();
   }
   kids[nkids++] = p;
   return p;
}

/* A pid that existed and is gone (reaped). */
static pid_t dead_pid(void) {
   pid_t p = fork();
   cr_assert_geq(p, 0);
   if (p == 0) _exit(0);
   cr_assert_eq(waitpid(p, NULL, 0), p);
   return p;
}

static int listen_at(const char* path) {
   struct sockaddr_un sa = {.sun_family = AF_UNIX};
   cr_assert_lt(strlen(path), sizeof sa.sun_path);
   strcpy(sa.sun_path, path);
   int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
   cr_assert_geq(fd, 0);
   cr_assert_eq(bind(fd, (struct sockaddr*)&sa, sizeof sa), 0, "bind %s: %s", path,
                strerror(errno));
   cr_assert_eq(listen(fd, 16), 0);
   return fd;
}

static char* path_of(int pid, const char* ext) {
   return xasprintf("%s/%d.%s", sockdir, pid, ext);
}

/* Writes <pid>.json for root; with listening, a socket that accepts (else one that refuses).
 * Returns the listening descriptor (or -1). */
static int fake_instance(int pid, const char* root, bool listening) {
   char* sock = path_of(pid, "sock");
   int fd = listen_at(sock);
   if (!listening) {
      close(fd); /* the socket file stays, and refuses connections */
      fd = -1;
   }
   char* json = path_of(pid, "json");
   FILE* f = fopen(json, "w");
   cr_assert_not_null(f);
   fprintf(f,
           "{\"pid\":%d,\"root\":\"%s\",\"kind\":\"tui\",\"started_ms\":1764700000000,"
           "\"version\":\"0.1.0\",\"socket\":\"%s\"}\n",
           pid, root, sock);
   fclose(f);
   free(json);
   free(sock);
   return fd;
}

static bool exists(int pid, const char* ext) {
   char* p = path_of(pid, ext);
   bool r = access(p, F_OK) == 0;
   free(p);
   return r;
}

static char* mkdirs(const char* rel) {
   char* p = xasprintf("%s/%s", tmp, rel);
   char* cmd = xasprintf("mkdir -p '%s'", p);
   cr_assert_eq(system(cmd), 0);
   free(cmd);
   return p;
}

Test(ctl_client, nearest_ancestor_is_chosen) {
   char* proj = mkdirs("proj");
   char* sub = mkdirs("proj/sub");
   char* deep = mkdirs("proj/sub/deep");
   char* other = mkdirs("proj-other"); /* a prefix of its name is not an ancestor */
   pid_t a = live_pid(), b = live_pid();
   int fa = fake_instance(a, proj, true);
   int fb = fake_instance(b, sub, true);
   CtlInstance in;
   char* cause = NULL;
   cr_assert_eq(ctl_find(deep, &in, &cause), 0, "%s", cause ? cause : "");
   cr_expect_eq(in.pid, b, "the nearest ancestor (sub), not proj");
   cr_expect_str_eq(in.root, sub);
   cr_expect_str_eq(in.kind, "tui");
   cr_expect_eq(in.started_ms, 1764700000000ull);
   ctl_instance_done(&in);
   /* Through "..": the real path is what counts. */
   char* dotted = xasprintf("%s/sub/deep/../..", proj);
   cr_assert_eq(ctl_find(dotted, &in, &cause), 0);
   cr_expect_eq(in.pid, a, "proj itself");
   ctl_instance_done(&in);
   cr_expect_eq(ctl_find(other, &in, &cause), -ENOENT);
   cr_expect(strstr(cause, "no brum running for") && strstr(cause, other), "%s", cause);
   cr_expect(strstr(cause, "start brum in that directory"), "what to do: %s", cause);
   free(cause);
   cause = NULL;
   cr_expect_eq(ctl_find("/nonexistent-project-dir", &in, &cause), -ENOENT);
   cr_expect(strstr(cause, "/nonexistent-project-dir"), "%s", cause);
   free(cause);
   close(fa);
   close(fb);
   free(dotted), free(proj), free(sub), free(deep), free(other);
}

Test(ctl_client, stale_entries_are_removed) {
   char* proj = mkdirs("proj");
   char* deep = mkdirs("proj/deep");
   pid_t live = live_pid(), dead = dead_pid(), refusing = live_pid();
   int fl = fake_instance(live, proj, true);
   fake_instance(dead, deep, true);      /* nearer, but its pid is gone */
   fake_instance(refusing, deep, false); /* nearer, pid alive, socket refuses */
   /* Another project's dead entry goes too: every entry read is checked. */
   pid_t dead2 = dead_pid();
   fake_instance(dead2, "/elsewhere", false);
   CtlInstance in;
   char* cause = NULL;
   cr_assert_eq(ctl_find(deep, &in, &cause), 0, "%s", cause ? cause : "");
   cr_expect_eq(in.pid, live);
   ctl_instance_done(&in);
   cr_expect_not(exists(dead, "json"), "a dead pid's .json is removed");
   cr_expect_not(exists(dead, "sock"), "and its socket");
   cr_expect_not(exists(refusing, "json"), "a refusing socket's .json is removed");
   cr_expect_not(exists(refusing, "sock"));
   cr_expect_not(exists(dead2, "json"));
   cr_expect(exists(live, "json"), "the live one stays");
   cr_expect(exists(live, "sock"));
   close(fl);
   free(proj), free(deep);
}

Test(ctl_client, unsafe_directory_is_refused) {
   char* proj = mkdirs("proj");
   pid_t live = live_pid();
   int fl = fake_instance(live, proj, true);
   CtlInstance in;
   char* cause = NULL;
   cr_assert_eq(chmod(sockdir, 0755), 0);
   cr_expect_eq(ctl_find(proj, &in, &cause), -EPERM);
   cr_expect(cause && strstr(cause, sockdir) && strstr(cause, "chmod 700"), "%s", cause);
   cr_expect(exists(live, "json"), "nothing is touched in a refused directory");
   free(cause);
   cause = NULL;
   /* A symbolic link to a good directory is refused too: it could be swapped under us. */
   cr_assert_eq(chmod(sockdir, 0700), 0);
   char* real = xasprintf("%s/real", tmp);
   cr_assert_eq(rename(sockdir, real), 0);
   cr_assert_eq(symlink(real, sockdir), 0);
   cr_expect_eq(ctl_find(proj, &in, &cause), -EPERM);
   cr_expect(cause && strstr(cause, "symbolic link"), "%s", cause);
   free(cause);
   cause = NULL;
   cr_assert_eq(unlink(sockdir), 0);
   cr_assert_eq(rename(real, sockdir), 0);
   cr_expect_eq(ctl_find(proj, &in, &cause), 0, "%s", cause ? cause : "");
   ctl_instance_done(&in);
   close(fl);
   free(real), free(proj);
}

Test(ctl_client, malformed_discovery_files_are_skipped) {
   char* proj = mkdirs("proj");
   pid_t live = live_pid(), other = live_pid();
   int fl = fake_instance(live, proj, true);
   /* Alive pid, file not an instance: skipped (not ours to remove), the search goes on. */
   char* bad = path_of(other, "json");
   FILE* f = fopen(bad, "w");
   fputs("{\"pid\": \"nope\"", f);
   fclose(f);
   char* junk = xasprintf("%s/notes.json", sockdir);
   f = fopen(junk, "w");
   fputs("{}", f);
   fclose(f);
   CtlInstance in;
   char* cause = NULL;
   cr_assert_eq(ctl_find(proj, &in, &cause), 0, "%s", cause ? cause : "");
   cr_expect_eq(in.pid, live);
   ctl_instance_done(&in);
   cr_expect_eq(access(bad, F_OK), 0);
   cr_expect_eq(access(junk, F_OK), 0);
   close(fl);
   free(bad), free(junk), free(proj);
}

/* ---- framing, against a scripted server ---- */

typedef struct Script {
   int lfd;
   int hello_mode; /* 0: ok; 1: a version error; 2: ok, then silence until the client leaves */
   char* hello;    /* the hello line it read (owned) */
} Script;

static char* read_line(FILE* f) {
   char* line = NULL;
   size_t cap = 0;
   if (getline(&line, &cap, f) < 0) {
      free(line);
      return NULL;
   }
   return line;
}

static void put(int fd, const char* s) {
   size_t n = strlen(s), off = 0;
   while (off < n) {
      ssize_t w = write(fd, s + off, n - off);
      if (w <= 0) return;
      off += (size_t)w;
   }
}

/* Each step after the hello waits for the client's {"go":N} line, so that the test knows what
 * has been written when it reads. */
static void* serve(void* ud) {
   Script* s = ud;
   int fd = accept(s->lfd, NULL, NULL);
   FILE* in = fdopen(dup(fd), "r");
   char* line;
   s->hello = read_line(in);
   /* The reply in two writes: the client must wait for the newline. */
   put(fd, "{\"id\":0,\"ok\":");
   if (s->hello_mode == 1) {
      put(fd, "false,\"error\":{\"code\":\"version\",\"message\":\"protocol 1 is not 2\"}}\n");
      goto out;
   }
   put(fd, "true,\"protocol\":1,\"pid\":42,\"root\":\"/p\",\"kind\":\"tui\"}\n");
   if (s->hello_mode == 2) {
      while ((line = read_line(in))) free(line);
      goto out;
   }
   free(read_line(in)); /* the call, id 1 */
   /* An event, another call's reply and a malformed line come before the reply. */
   put(fd, "{\"event\":\"state\",\"sub\":7}\n{\"id\":99,\"ok\":true}\n{oops\n"
           "{\"id\":1,\"ok\":true,\"processes\":[]}\n");
   free(read_line(in)); /* go 1 */
   put(fd, "{\"a\":1}\n{\"b\":2}\n");
   free(read_line(in)); /* go 2 */
   put(fd, "not json\n{\"c\":3}\n");
   free(read_line(in)); /* go 3 */
   size_t big = 3u << 20;
   char* msg = xmalloc(big + 16);
   memcpy(msg, "{\"d\":\"", 6);
   memset(msg + 6, 'x', big);
   strcpy(msg + 6 + big, "\"}\n");
   put(fd, msg);
   free(msg);
   free(read_line(in)); /* go 4: then the server goes away */
out:
   fclose(in);
   close(fd);
   return NULL;
}

static void go(CtlClient* c, int n) {
   json_t* g = json_pack("{s:i}", "go", n);
   cr_assert_eq(ctl_send(c, g), 0);
   json_decref(g);
}

Test(ctl_client, framing) {
   char* path = xasprintf("%s/s.sock", tmp);
   Script s = {.lfd = listen_at(path)};
   pthread_t th;
   pthread_create(&th, NULL, serve, &s);
   CtlInstance in = {.pid = 42, .socket = path};
   CtlClient* c = NULL;
   json_t* hello = NULL;
   char* cause = NULL;
   cr_assert_eq(ctl_connect(&in, "mcp", &c, &hello, &cause), 0, "%s", cause ? cause : "");
   cr_expect_eq(json_integer_value(json_object_get(hello, "pid")), 42);
   json_decref(hello);
   cr_expect_geq(ctl_fd(c), 0);

   json_t* req = json_pack("{s:i, s:s}", "id", 1, "op", "ps");
   json_t* r = NULL;
   cr_assert_eq(ctl_call(c, req, 10000, &r, &cause), 0, "%s", cause ? cause : "");
   cr_expect(json_is_array(json_object_get(r, "processes")), "the reply with id 1");
   json_decref(r);
   json_decref(req);

   json_t* m = NULL;
   go(c, 1);
   cr_assert_eq(ctl_recv(c, 10000, &m), 1);
   cr_expect_eq(json_integer_value(json_object_get(m, "a")), 1);
   json_decref(m);
   cr_assert_eq(ctl_recv(c, 10000, &m), 1, "two messages from one read");
   cr_expect_eq(json_integer_value(json_object_get(m, "b")), 2);
   json_decref(m);
   cr_expect_eq(ctl_recv(c, 0, &m), 0, "nothing more is complete");

   go(c, 2);
   cr_expect_eq(ctl_recv(c, 10000, &m), -EPROTO);
   cr_assert_eq(ctl_recv(c, 10000, &m), 1, "the line after a malformed one");
   cr_expect_eq(json_integer_value(json_object_get(m, "c")), 3);
   json_decref(m);

   go(c, 3);
   cr_assert_eq(ctl_recv(c, 10000, &m), 1, "a 3 MiB message");
   cr_expect_eq(strlen(json_string_value(json_object_get(m, "d"))), 3u << 20);
   json_decref(m);

   go(c, 4);
   cr_expect_eq(ctl_recv(c, 10000, &m), -EPIPE, "the server closed the connection");
   ctl_close(c);
   pthread_join(th, NULL);
   json_t* h = json_loads(s.hello, 0, NULL);
   cr_assert_not_null(h, "the hello is one JSON line: %s", s.hello);
   cr_expect_str_eq(json_string_value(json_object_get(h, "op")), "hello");
   cr_expect_eq(json_integer_value(json_object_get(h, "protocol")), 1);
   cr_expect_str_eq(json_string_value(json_object_get(h, "client")), "mcp");
   cr_expect_str_eq(json_string_value(json_object_get(h, "version")), BRUM_VERSION);
   cr_expect(json_is_integer(json_object_get(h, "id")));
   json_decref(h);
   free(s.hello);
   close(s.lfd);
   free(path);
}

Test(ctl_client, hello_refused) {
   char* path = xasprintf("%s/s.sock", tmp);
   Script s = {.lfd = listen_at(path), .hello_mode = 1};
   pthread_t th;
   pthread_create(&th, NULL, serve, &s);
   CtlInstance in = {.pid = 42, .socket = path};
   CtlClient* c = NULL;
   char* cause = NULL;
   cr_expect_lt(ctl_connect(&in, "ctl", &c, NULL, &cause), 0);
   cr_expect_null(c);
   cr_expect(cause && strstr(cause, "protocol 1 is not 2"), "the server's message: %s", cause);
   free(cause);
   pthread_join(th, NULL);
   free(s.hello);
   close(s.lfd);
   free(path);
}

/* A server that never answers the call: it times out with a message, no hang. */
Test(ctl_client, call_times_out) {
   char* path = xasprintf("%s/s.sock", tmp);
   Script s = {.lfd = listen_at(path), .hello_mode = 2};
   pthread_t th;
   pthread_create(&th, NULL, serve, &s);
   CtlInstance in = {.pid = 42, .socket = path};
   CtlClient* c = NULL;
   char* cause = NULL;
   cr_assert_eq(ctl_connect(&in, "ctl", &c, NULL, &cause), 0, "%s", cause ? cause : "");
   json_t* req = json_pack("{s:s, s:s}", "id", "x", "op", "ps");
   json_t* r = NULL;
   uint64_t t0 = util_mono_ns();
   cr_expect_eq(ctl_call(c, req, 300, &r, &cause), -ETIMEDOUT);
   cr_expect_geq(util_mono_ns() - t0, 300000000ull, "it waited its 300 ms");
   cr_expect_null(r);
   cr_expect(cause && strstr(cause, "did not answer"), "%s", cause);
   free(cause);
   json_decref(req);
   ctl_close(c);
   pthread_join(th, NULL);
   free(s.hello);
   close(s.lfd);
   free(path);
}

Test(ctl_client, connect_path_too_long) {
   char longp[200];
   memset(longp, 'a', sizeof longp - 1);
   longp[0] = '/';
   longp[sizeof longp - 1] = '\0';
   CtlInstance in = {.pid = 42, .socket = longp};
   CtlClient* c = NULL;
   char* cause = NULL;
   cr_expect_eq(ctl_connect(&in, "ctl", &c, NULL, &cause), -ENAMETOOLONG);
   cr_expect_not_null(cause);
   free(cause);
}
