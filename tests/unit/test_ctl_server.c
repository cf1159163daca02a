/* The control server's transport: framing, parsing and the hello through ctl_feed (no socket),
 * and the socket directory, the per-root lock and a live server's files. The socket end to end
 * (permissions, other users, many clients, slow readers) is tests/e2e/test_ctl_socket.sh. */
#include <criterion/criterion.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/ctl.h"
#include "core/ctl_transport.h"
#include "core/rcu.h"
#include "core/util.h"

static Sup* sup;
static char xdg[] = "/tmp/brum-test-ctl-XXXXXX";

static void setup(void) {
   rcu_register_thread();
   SupConfig cfg = {.kill_timeout_s = 0.5, .cols = 80, .rows = 24};
   cr_assert_eq(sup_new(&cfg, &sup, NULL), 0);
   cr_assert(mkdtemp(xdg));
   setenv("XDG_RUNTIME_DIR", xdg, 1);
}

static void teardown(void) {
   sup_free(sup);
   rcu_unregister_thread();
   char* cmd = NULL;
   cr_assert(asprintf(&cmd, "rm -rf '%s'", xdg) > 0);
   cr_assert_eq(system(cmd), 0);
   free(cmd);
}

TestSuite(ctl, .init = setup, .fini = teardown, .timeout = 60);

/* The replies to `in` fed in reads of `chunk` bytes, as one string. */
static char* feed(const char* in, size_t len, size_t chunk) {
   size_t n;
   char* out = ctl_feed(sup, "/proj", in, len, chunk, &n);
   cr_assert_eq(strlen(out), n, "the replies hold no NUL");
   return out;
}

/* The replies, parsed: a JSON array of them (every reply one line of JSON). */
static json_t* replies(const char* out) {
   json_t* a = json_array();
   for (const char* p = out; *p;) {
      const char* nl = strchr(p, '\n');
      cr_assert(nl, "every reply ends with a newline: %s", p);
      json_error_t je;
      json_t* r = json_loadb(p, (size_t)(nl - p), 0, &je);
      cr_assert(json_is_object(r), "a reply is a JSON object: %.*s (%s)", (int)(nl - p), p,
                je.text);
      json_array_append_new(a, r);
      p = nl + 1;
   }
   return a;
}

static const char* code_of(json_t* r) {
   return json_string_value(json_object_get(json_object_get(r, "error"), "code"));
}

#define HELLO "{\"id\":0,\"op\":\"hello\",\"protocol\":1,\"client\":\"test\"}\n"

static const char session[] = "{\"id\":1,\"op\":\"ps\"}\n" HELLO "{\"id\":2,\"op\":\"ps\"}\r\n"
                              "\n"
                              "{bad json\n"
                              "[1]\n"
                              "{\"id\":{\"x\":1},\"op\":\"ps\"}\n"
                              "{\"id\":\"s\",\"op\":7}\n"
                              "{\"id\":3.5,\"op\":\"frobnicate\"}\n"
                              "{\"id\":4,\"op\":\"cancel\",\"target\":1}\n"
                              "{\"id\":5,\"op\":\"cancel\"}\n"
                              "{\"id\":6,\"op\":\"ps\",\"x\":\"\xff\xfe\"}\n"
                              "{\"id\":7,\"op\":\"ps\",\"id\":8}\n"
                              "{\"id\":9,\"op\":\"ps\"}";

Test(ctl, a_session_of_requests_and_mistakes) {
   char* out = feed(session, sizeof session - 1, 0);
   json_t* a = replies(out);
   struct {
      const char* id;   /* JSON */
      const char* code; /* NULL: ok */
   } want[] = {
       {"1", "bad_request"},     /* before hello */
       {"0", NULL},              /* hello */
       {"2", NULL},              /* ps, CRLF */
       {"null", "bad_request"},  /* malformed */
       {"null", "bad_request"},  /* not an object */
       {"null", "bad_request"},  /* an object as id */
       {"\"s\"", "bad_request"}, /* op not a string */
       {"3.5", "unknown_op"},
       {"4", "not_found"},      /* cancel of nothing */
       {"5", "bad_request"},    /* cancel without a target */
       {"null", "bad_request"}, /* invalid UTF-8 */
       {"null", "bad_request"}, /* duplicate key */
       {"9", NULL},             /* the last line, without its newline, at disconnect */
   };
   cr_assert_eq(json_array_size(a), ARRAY_LEN(want), "%zu replies:\n%s", json_array_size(a), out);
   for (size_t i = 0; i < ARRAY_LEN(want); i++) {
      json_t* r = json_array_get(a, i);
      char* id = json_dumps(json_object_get(r, "id"), JSON_ENCODE_ANY);
      cr_expect_str_eq(id, want[i].id, "reply %zu: %s", i, out);
      free(id);
      if (want[i].code)
         cr_expect_str_eq(code_of(r), want[i].code, "reply %zu", i);
      else
         cr_expect(json_is_true(json_object_get(r, "ok")), "reply %zu ok", i);
   }
   json_t* hello = json_array_get(a, 1);
   cr_expect_eq(json_integer_value(json_object_get(hello, "protocol")), 1);
   cr_expect_str_eq(json_string_value(json_object_get(hello, "root")), "/proj");
   cr_expect_eq(json_integer_value(json_object_get(hello, "pid")), getpid());
   cr_expect(strstr(json_string_value(
                        json_object_get(json_object_get(json_array_get(a, 7), "error"), "message")),
                    "ps"),
             "unknown_op lists the operations");
   json_decref(a);
   free(out);
}

Test(ctl, any_split_of_the_input_gives_the_same_replies) {
   char* whole = feed(session, sizeof session - 1, 0);
   for (size_t chunk = 1; chunk < 40; chunk++) {
      char* out = feed(session, sizeof session - 1, chunk);
      cr_assert_str_eq(out, whole, "reads of %zu bytes", chunk);
      free(out);
   }
   free(whole);
}

/* A request padded to exactly `len` bytes. */
static char* padded(size_t len, int id) {
   char head[64];
   int h = snprintf(head, sizeof head, "{\"id\":%d,\"op\":\"ps\",\"pad\":\"", id);
   cr_assert(len > (size_t)h + 2);
   char* s = malloc(len + 2);
   memcpy(s, head, (size_t)h);
   memset(s + h, 'a', len - (size_t)h - 2);
   memcpy(s + len - 2, "\"}\n", 4);
   return s;
}

Test(ctl, lines_up_to_1_MiB_pass_longer_ones_are_refused_and_skipped) {
   char* ok = padded(1u << 20, 1);
   char* big = padded((1u << 20) + 1, 2);
   char* huge = padded(3u << 20, 3);
   char* in = NULL;
   size_t n = 0;
   FILE* f = open_memstream(&in, &n);
   fprintf(f, HELLO "%s%s%s{\"id\":4,\"op\":\"ps\"}\n", ok, big, huge);
   fclose(f);
   for (size_t chunk = 0; chunk <= 70000; chunk += 70000) {
      char* out = feed(in, n, chunk);
      json_t* a = replies(out);
      cr_assert_eq(json_array_size(a), 5, "%s", out);
      cr_expect(json_is_true(json_object_get(json_array_get(a, 1), "ok")), "1 MiB: accepted");
      cr_expect_str_eq(code_of(json_array_get(a, 2)), "too_long");
      cr_expect(json_is_null(json_object_get(json_array_get(a, 2), "id")));
      cr_expect_str_eq(code_of(json_array_get(a, 3)), "too_long");
      cr_expect_eq(json_integer_value(json_object_get(json_array_get(a, 4), "id")), 4,
                   "usable after");
      json_decref(a);
      free(out);
   }
   free(in);
   free(ok);
   free(big);
   free(huge);
}

Test(ctl, a_protocol_mismatch_ends_the_conversation) {
   const char in[] = "{\"id\":0,\"op\":\"hello\",\"protocol\":2}\n{\"id\":1,\"op\":\"ps\"}\n";
   char* out = feed(in, sizeof in - 1, 0);
   json_t* a = replies(out);
   cr_assert_eq(json_array_size(a), 1, "nothing after the version error: %s", out);
   cr_expect_str_eq(code_of(json_array_get(a, 0)), "version");
   const char* msg = json_string_value(
       json_object_get(json_object_get(json_array_get(a, 0), "error"), "message"));
   cr_expect(strstr(msg, "protocol 1") && strstr(msg, "protocol 2"), "names both: %s", msg);
   json_decref(a);
   free(out);
   const char no_proto[] = "{\"id\":0,\"op\":\"hello\"}\n" HELLO;
   out = feed(no_proto, sizeof no_proto - 1, 0);
   a = replies(out);
   cr_assert_eq(json_array_size(a), 2, "%s", out);
   cr_expect_str_eq(code_of(json_array_get(a, 0)), "bad_request", "hello needs a protocol");
   cr_expect(json_is_true(json_object_get(json_array_get(a, 1), "ok")), "then a good hello");
   json_decref(a);
   free(out);
}

/* ---------------------------------------------------------------- the directory and the lock */

static unsigned mode_of(const char* path) {
   struct stat st;
   cr_assert_eq(lstat(path, &st), 0, "%s", path);
   return st.st_mode & 07777;
}

Test(ctl, the_directory_is_created_private_and_checked) {
   char *dir = NULL, *cause = NULL;
   cr_assert_eq(ctl_dir(CTL_SOCK_NAME_MAX, &dir, &cause), 0, "%s", cause);
   char* want = NULL;
   cr_assert(asprintf(&want, "%s/brum", xdg) > 0);
   cr_expect_str_eq(dir, want);
   cr_expect_eq(mode_of(dir), 0700);
   chmod(dir, 0750);
   char* d2 = NULL;
   cr_expect_eq(ctl_dir(CTL_SOCK_NAME_MAX, &d2, &cause), -EPERM);
   cr_expect(cause && strstr(cause, "open to other users (mode 0750)") &&
                 strstr(cause, "chmod 700"),
             "%s", cause);
   free(cause);
   cause = NULL;
   rmdir(dir);
   cr_assert_eq(symlink(xdg, dir), 0);
   cr_expect_eq(ctl_dir(CTL_SOCK_NAME_MAX, &d2, &cause), -ELOOP);
   cr_expect(cause && strstr(cause, "symbolic link"), "%s", cause);
   cr_expect_null(d2);
   free(cause);
   unlink(dir);
   free(want);
   free(dir);
}

Test(ctl, one_instance_per_root) {
   CtlLock *a = NULL, *b = NULL;
   char* cause = NULL;
   cr_assert_eq(ctl_lock_take("/some/root", "tui", &a, &cause), 0, "%s", cause);
   cr_assert_eq(ctl_lock_take("/some/root", "tui", &b, &cause), -EEXIST);
   cr_expect(strstr(cause, "brum is already running for /some/root"), "%s", cause);
   free(cause);
   cause = NULL;
   CtlLock* other = NULL;
   cr_assert_eq(ctl_lock_take("/another/root", "tui", &other, &cause), 0, "%s", cause);
   ctl_lock_release(other);

   /* with the instance's server running, the message names it */
   CtlConfig cfg = {.root = "/some/root", .kind = "headless"};
   CtlServer* srv = NULL;
   cr_assert_eq(ctl_server_start(sup, &cfg, &srv, &cause), 0, "%s", cause);
   char *sock = NULL, *info = NULL;
   cr_assert(asprintf(&sock, "%s/brum/%d.sock", xdg, getpid()) > 0);
   cr_assert(asprintf(&info, "%s/brum/%d.json", xdg, getpid()) > 0);
   cr_expect_eq(mode_of(sock), 0600);
   cr_expect_eq(mode_of(info), 0600);
   cr_assert_eq(ctl_lock_take("/some/root", "tui", &b, &cause), -EEXIST);
   char want[128];
   snprintf(want, sizeof want, "(pid %d, headless, since ", getpid());
   cr_expect(strstr(cause, want) && strstr(cause, "'brum ctl quit'"), "%s", cause);
   free(cause);
   ctl_server_stop(srv);
   cr_expect_neq(access(sock, F_OK), 0, "socket removed");
   cr_expect_neq(access(info, F_OK), 0, ".json removed");
   ctl_lock_release(a);
   cr_assert_eq(ctl_lock_take("/some/root", "tui", &a, &cause), 0, "free again: %s", cause);
   ctl_lock_release(a);
   free(sock);
   free(info);
}
