/* `brum mcp`: the process around the MCP layer. It finds the brum instance of the directory (or,
 * when none runs, runs one of its own in-process, ended with the session), connects to its
 * control socket as a client, and multiplexes stdin and that socket in one poll() loop, so that
 * a long call (wait_for_log, start_process waiting for ready) never holds back another request.
 * stdout carries nothing but the protocol; everything else goes to stderr. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/app.h"
#include "cli/cli.h"
#include "cli/ctl_client.h"
#include "cli/mcp.h"
#include "core/ctl.h"
#include "core/rcu.h"
#include "core/util.h"
#include "scripts/pkg.h"

#define READ_CHUNK (64u << 10)

/* The supervisor `brum mcp` runs itself when no instance serves the directory. */
typedef struct Own {
   Project* prj;   /* owned */
   char* root;     /* owned: realpath of the project directory */
   Sup* sup;       /* owned */
   CtlLock* lock;  /* owned */
   CtlServer* srv; /* owned */
   int wake[2];    /* the supervisor's wakeups (it has finished), -1: none */
} Own;

typedef struct Run {
   const char* dir;   /* borrowed from argv */
   CtlClient* client; /* owned, NULL: not connected (the next call connects again) */
   Mcp* mcp;          /* owned */
   Own* own;          /* owned, NULL: another brum serves the directory */
   bool out_closed;   /* stdout is gone: the session is over */
   char* in;          /* owned: stdin bytes not yet a complete line */
   size_t inlen, incap;
   bool draining; /* dropping the rest of an over-long line */
   bool via_pm;   /* our own supervisor runs scripts through the package manager (--via-pm) */
} Run;

static int sig_pipe[2] = {-1, -1};

static void on_signal(int signum) {
   int saved = errno;
   char c = (char)signum;
   if (write(sig_pipe[1], &c, 1) < 0) { /* full: a signal is already pending */
   }
   errno = saved;
}

static void usage(FILE* f) {
   fputs("usage: brum mcp [-d DIR] [--read-only] [--via-pm]\n"
         "\n"
         "An MCP server (Model Context Protocol) on stdin/stdout for coding agents: it drives the\n"
         "brum instance running for DIR through its control socket, or, when none runs, a\n"
         "supervisor of its own whose processes end with the session. Register it with your\n"
         "agent (see README, \"Coding agents (MCP)\").\n"
         "\n"
         "options:\n"
         "  -d, --dir DIR   project directory (default: the current directory)\n"
         "      --read-only offer only the tools that read (no start, stop, restart)\n"
         "      --via-pm    with a supervisor of its own: run scripts through the package\n"
         "                  manager (npm run ...), not directly (--shell, the default, is\n"
         "                  still accepted)\n"
         "  -h, --help      print this help and exit\n",
         f);
}

/* 0 to run, 1 when done (help), -EINVAL after a message. */
static int parse(int argc, char** argv, Run* r, bool* read_only) {
   static const struct option longopts[] = {
       {"dir", required_argument, NULL, 'd'}, {"read-only", no_argument, NULL, 'R'},
       {"shell", no_argument, NULL, 'S'},     {"via-pm", no_argument, NULL, 'P'},
       {"help", no_argument, NULL, 'h'},      {NULL, 0, NULL, 0},
   };
   opterr = 0;
   optind = 1;
   int c;
   while ((c = getopt_long(argc, argv, ":d:h", longopts, NULL)) != -1) {
      switch (c) {
      case 'd':
         r->dir = optarg;
         break;
      case 'R':
         *read_only = true;
         break;
      case 'S': /* what the default does already */
         break;
      case 'P':
         r->via_pm = true;
         break;
      case 'h':
         usage(stdout);
         return 1;
      case ':':
         fprintf(stderr, "brum mcp: option '%s' needs a value\n", argv[optind - 1]);
         return -EINVAL;
      default:
         fprintf(stderr, "brum mcp: unknown option '%s' (see brum mcp --help)\n", argv[optind - 1]);
         return -EINVAL;
      }
   }
   if (optind < argc) {
      fprintf(stderr, "brum mcp: unexpected argument '%s' (see brum mcp --help)\n", argv[optind]);
      return -EINVAL;
   }
   return 0;
}

/* ---- the control connection ---- */

static int connect_instance(Run* r, char** cause) {
   CtlInstance in;
   int err = ctl_find(r->dir, &in, cause);
   if (err < 0) return err;
   err = ctl_connect(&in, "mcp", &r->client, NULL, cause);
   if (err == 0) util_log("mcp: connected to brum %d (%s) for %s", in.pid, in.kind, in.root);
   ctl_instance_done(&in);
   return err;
}

static void disconnect(Run* r, const char* why) {
   ctl_close(r->client);
   r->client = NULL;
   char* msg = xasprintf("lost the connection to the brum instance (%s): it quit or was "
                         "restarted; call the tool again to reconnect, or start brum in the "
                         "project directory if none runs",
                         why);
   mcp_ctl_lost(r->mcp, msg);
   free(msg);
}

static int io_ctl_send(void* ud, json_t* msg, char** cause) {
   Run* r = ud;
   if (!r->client) {
      char* why = NULL;
      if (connect_instance(r, &why) < 0) {
         *cause = xasprintf("no brum instance to talk to: %s (or restart this MCP server: with "
                            "none running, it runs the project's processes itself)",
                            why ? why : "cannot connect");
         free(why);
         return -ENOTCONN;
      }
   }
   int err = ctl_send(r->client, msg);
   if (err < 0) {
      char* s = util_strerror(err);
      *cause = xasprintf("the brum instance went away (%s); call the tool again to reconnect", s);
      free(s);
      disconnect(r, "send failed");
   }
   return err;
}

static void io_write(void* ud, const char* line, size_t len) {
   Run* r = ud;
   if (r->out_closed) return;
   /* One write per message where possible: a reader sees whole lines. */
   char* buf = xmalloc(len + 1);
   memcpy(buf, line, len);
   buf[len] = '\n';
   size_t off = 0;
   while (off < len + 1) {
      ssize_t w = write(STDOUT_FILENO, buf + off, len + 1 - off);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) {
         r->out_closed = true; /* the client is gone: nothing more to say */
         break;
      }
      off += (size_t)w;
   }
   free(buf);
}

/* Every complete message the socket has for us. */
static void read_ctl(Run* r) {
   while (r->client) {
      json_t* msg = NULL;
      int rc = ctl_recv(r->client, 0, &msg);
      if (rc == 0) return;
      if (rc == -EPROTO) {
         util_log("mcp: the control server sent a malformed line");
         continue;
      }
      if (rc < 0) {
         char* s = util_strerror(rc);
         disconnect(r, rc == -EPIPE ? "it closed the connection" : s);
         free(s);
         return;
      }
      mcp_ctl_message(r->mcp, msg);
      json_decref(msg);
   }
}

/* ---- stdin ---- */

/* Splits what was read into lines; an over-long one is answered once and dropped. */
static void take_lines(Run* r) {
   size_t start = 0;
   for (;;) {
      char* nl = memchr(r->in + start, '\n', r->inlen - start);
      if (!nl) break;
      size_t len = (size_t)(nl - (r->in + start));
      if (!r->draining) mcp_input(r->mcp, r->in + start, len);
      r->draining = false;
      start += len + 1;
   }
   memmove(r->in, r->in + start, r->inlen - start);
   r->inlen -= start;
   if (r->inlen > MCP_MAX_LINE) {
      if (!r->draining) {
         static const char msg[] =
             "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32600,\"message\":\"Invalid "
             "Request: a message longer than 4 MiB\"}}";
         io_write(r, msg, sizeof msg - 1);
      }
      r->draining = true;
      r->inlen = 0;
   }
}

/* false at end of input. */
static bool read_stdin(Run* r) {
   if (r->incap - r->inlen < READ_CHUNK) {
      r->incap = r->incap ? r->incap * 2 : 2 * READ_CHUNK;
      r->in = xrealloc(r->in, r->incap);
   }
   ssize_t n = read(STDIN_FILENO, r->in + r->inlen, r->incap - r->inlen);
   if (n < 0 && (errno == EINTR || errno == EAGAIN)) return true;
   if (n <= 0) {
      if (r->inlen && !r->draining) mcp_input(r->mcp, r->in, r->inlen); /* no final newline */
      r->inlen = 0;
      return false;
   }
   r->inlen += (size_t)n;
   take_lines(r);
   return true;
}

/* After the end of input, the calls already received still get their answers (a client that
 * writes its requests and closes stdin reads them), for at most this long. */
#define EOF_GRACE_MS 60000

static void loop(Run* r) {
   bool in_open = true;
   uint64_t eof_ms = 0;
   while (!r->out_closed && (in_open || (r->client && mcp_busy(r->mcp)))) {
      int timeout = -1;
      if (!in_open) {
         uint64_t now = util_now_ms();
         if (!eof_ms) eof_ms = now;
         if (now - eof_ms >= EOF_GRACE_MS) return;
         timeout = (int)(EOF_GRACE_MS - (now - eof_ms));
      }
      struct pollfd p[3] = {
          {.fd = in_open ? STDIN_FILENO : -1, .events = POLLIN},
          {.fd = sig_pipe[0], .events = POLLIN},
          {.fd = r->client ? ctl_fd(r->client) : -1, .events = POLLIN},
      };
      if (poll(p, 3, timeout) < 0) {
         if (errno == EINTR) continue;
         util_report("poll", -errno);
         return;
      }
      if (p[1].revents) {
         fprintf(stderr, "brum mcp: signal received, ending the session\n");
         return;
      }
      if (p[2].revents) read_ctl(r);
      if (p[0].revents) in_open = read_stdin(r);
   }
}

/* ---- the supervisor of our own ---- */

static void own_wake(void* ud) {
   Own* o = ud;
   char c = 1;
   if (write(o->wake[1], &c, 1) < 0) { /* full: a wakeup is already pending */
   }
}

static void own_free(Own* o) {
   if (!o) return;
   ctl_server_stop(o->srv); /* its reads of the supervisor's data end before sup_free */
   if (o->sup) {
      /* Stop every process and wait for them: they end with the session. */
      sup_quit(o->sup);
      while (!sup_finished(o->sup)) {
         struct pollfd p = {.fd = o->wake[0], .events = POLLIN};
         if (poll(&p, 1, -1) > 0) {
            char buf[4096];
            if (read(o->wake[0], buf, sizeof buf) < 0) { /* drained meanwhile */
            }
         }
      }
      sup_free(o->sup);
   }
   /* Only now may another brum start for the project: ours have all ended. */
   ctl_lock_release(o->lock);
   for (int i = 0; i < 2; i++)
      if (o->wake[i] >= 0) close(o->wake[i]);
   pkg_free(o->prj);
   free(o->root);
   free(o);
}

/* No instance serves the directory: run one. 0, -EEXIST when another instance took the
 * project's lock meanwhile (use that one), or another -errno after a message. */
static int own_start(Run* r, Own** out) {
   *out = NULL;
   Own* o = xcalloc(1, sizeof *o);
   o->wake[0] = o->wake[1] = -1;
   char* cause = NULL;
   int err = pkg_load(r->dir, &o->prj, &cause);
   if (err == 0 && !(o->root = realpath(o->prj->dir, NULL))) {
      err = -errno;
      cause = xasprintf("cannot resolve %s: %s", o->prj->dir, strerror(errno));
   }
   if (err == 0) err = ctl_lock_take(o->root, "mcp", &o->lock, &cause);
   if (err == -EEXIST) goto fail;
   if (err == 0 && pipe2(o->wake, O_CLOEXEC | O_NONBLOCK) < 0) {
      err = -errno;
      cause = xasprintf("cannot create a pipe: %s", strerror(errno));
   }
   Options opts;
   char prog[] = "brum";
   char* argv[] = {prog, NULL};
   cli_parse(1, argv, &opts, NULL); /* the defaults, as `brum` without options */
   opts.via_pm = r->via_pm;
   SupConfig cfg = app_sup_config(&opts);
   cfg.no_screens = true; /* an agent reads lines, never an emulated screen */
   cfg.wake = own_wake;
   cfg.wake_ud = o;
   if (err == 0) err = sup_new(&cfg, &o->sup, &cause);
   if (err == 0) {
      /* every process, ids = script indexes; nothing starts until the agent asks */
      uint64_t* ids = xcalloc(o->prj->nscripts + 1, sizeof *ids);
      sup_add_begin(o->sup);
      app_register(o->sup, o->prj, &opts, NULL, ids);
      sup_add_end(o->sup);
      free(ids);
      CtlConfig cc = {.root = o->root, .kind = "mcp"};
      err = ctl_server_start(o->sup, &cc, &o->srv, &cause);
   }
   cli_done(&opts);
   if (err < 0) goto fail;
   for (size_t i = 0; i < o->prj->nwarnings; i++) {
      char* w = util_sanitize(o->prj->warnings[i]);
      fprintf(stderr, "brum mcp: warning: %s\n", w);
      free(w);
   }
   fprintf(stderr,
           "brum mcp: no brum runs for %s: running its %zu script%s here (they end with "
           "this session)\n",
           o->root, o->prj->nscripts, o->prj->nscripts == 1 ? "" : "s");
   *out = o;
   return 0;
fail:
   if (err != -EEXIST) {
      char* c = util_sanitize(cause ? cause : "unknown error");
      fprintf(stderr, "brum mcp: %s\n", c);
      free(c);
   }
   free(cause);
   own_free(o);
   return err;
}

/* The instance for the directory: another brum's, or one of our own. */
static int attach(Run* r) {
   for (int tries = 0; tries < 3; tries++) {
      char* cause = NULL;
      int err = connect_instance(r, &cause);
      if (err == 0) return 0;
      if (err != -ENOENT || r->own) {
         char* c = util_sanitize(cause ? cause : "cannot connect");
         fprintf(stderr, "brum mcp: %s\n", c);
         free(c);
         free(cause);
         return err;
      }
      free(cause);
      err = own_start(r, &r->own);
      if (err < 0 && err != -EEXIST) return err;
      /* -EEXIST: another brum started for the project meanwhile: look again, find it. */
   }
   fprintf(stderr, "brum mcp: brum instances for %s keep starting and ending; try again\n", r->dir);
   return -EAGAIN;
}

static int install_signals(void) {
   if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) < 0) return -errno;
   struct sigaction sa = {.sa_handler = on_signal};
   sigemptyset(&sa.sa_mask);
   static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
   for (size_t i = 0; i < ARRAY_LEN(sigs); i++) sigaction(sigs[i], &sa, NULL);
   signal(SIGPIPE, SIG_IGN); /* a closed stdout is an error from write, not our death */
   return 0;
}

int mcp_main(int argc, char** argv) {
   Run r = {.dir = "."};
   bool read_only = false;
   int rc = parse(argc, argv, &r, &read_only);
   if (rc) return rc > 0 ? 0 : 2;
   util_log_open(NULL); /* best effort: the supervisor and the control server log there */
   if (install_signals() < 0) {
      util_report("cannot create a pipe", -errno);
      return 2;
   }
   if (isatty(STDIN_FILENO))
      fprintf(stderr, "brum mcp: speaking MCP (JSON-RPC) on stdin and stdout; a coding agent "
                      "starts this command (see README, \"Coding agents (MCP)\")\n");
   rcu_register_thread();
   McpIo io = {io_write, io_ctl_send, &r};
   r.mcp = mcp_new(&io, read_only);
   rc = 2;
   if (attach(&r) == 0) {
      loop(&r);
      rc = 0;
   }
   ctl_close(r.client);
   mcp_free(r.mcp);
   own_free(r.own);
   rcu_unregister_thread();
   free(r.in);
   for (int i = 0; i < 2; i++) close(sig_pipe[i]);
   util_log_close();
   return rc;
}
