/* Readiness probes: when a run is ready (ProcSnap.ready_ms). The default rule (the first URL, or
 * READY_QUIET_MS after the start), a pattern on the run's lines, a TCP connect, an HTTP GET, or a
 * command that exits 0. Network probes use libuv's TCP handles on the supervisor's loop; libuv has
 * no HTTP, so the request is written and the status line parsed here. An attempt is a ProbeRun
 * that may outlive its process's interest in it (a stop while a connect is in flight): it is
 * freed when its last handle has closed. Supervisor thread only, except probe_init and probe_free
 * (main thread, with proc_new and proc_free). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/spawn.h"
#include "core/sup_int.h"
#include "core/util.h"

#define PROBE_MAX_ADDRS 8
#define PROBE_RESP_MAX 512 /* the status line must fit */
#define EXEC_REAP_MS 20    /* an exec probe's exit is polled this often */
#define EXEC_LAST_MAX 160  /* its last line of output, for the error */

typedef struct ProbeConn ProbeConn;

typedef struct ProbeRun {
   Proc* p;  /* NULL once abandoned: callbacks then only release their references */
   int refs; /* the owner's, each open handle's and each request in flight */
   char host[256];
   char authority[280]; /* HTTP's Host header: host[:port] as the URL has it */
   const char* path;    /* HTTP: borrowed from the target (the pool's) */
   int port;
   struct sockaddr_storage addrs[PROBE_MAX_ADDRS];
   int naddrs, next;
   uv_getaddrinfo_t gai;
   bool gai_pending;
   ProbeConn* conn; /* the connection being tried (NULL: none) */
   char* req;       /* owned: HTTP request */
   char resp[PROBE_RESP_MAX];
   size_t resp_len;
   char err[400]; /* the last failure of this attempt */
   /* exec */
   pid_t pid;
   int out_fd;
   uv_poll_t out_poll;
   uv_timer_t reap;
   bool poll_open, reap_open;
   char line[EXEC_LAST_MAX], last[EXEC_LAST_MAX];
   size_t line_len;
} ProbeRun;

struct ProbeConn {
   ProbeRun* r;
   uv_tcp_t tcp;
   uv_connect_t creq;
   uv_write_t wreq;
};

static void probe_done(Proc* p, bool ok, const char* err);

/* ---------------------------------------------------------------- attempt lifetime */

static void run_unref(ProbeRun* r) {
   if (--r->refs > 0) return;
   free(r->req);
   free(r);
}

static void on_run_handle_closed(uv_handle_t* h) {
   run_unref(h->data);
}

static void on_conn_closed(uv_handle_t* h) {
   ProbeConn* c = h->data;
   ProbeRun* r = c->r;
   free(c);
   run_unref(r);
}

static void conn_close(ProbeRun* r) {
   if (!r->conn) return;
   uv_close((uv_handle_t*)&r->conn->tcp, on_conn_closed);
   r->conn = NULL;
}

/* The process no longer waits for this attempt: its handles close, its command is killed. */
static void run_abandon(ProbeRun* r) {
   if (!r->p) return;
   r->p->probe = NULL;
   r->p = NULL;
   conn_close(r);
   if (r->poll_open) {
      uv_close((uv_handle_t*)&r->out_poll, on_run_handle_closed);
      close(r->out_fd);
      r->poll_open = false;
   }
   if (r->reap_open) uv_close((uv_handle_t*)&r->reap, on_run_handle_closed);
   r->reap_open = false;
   if (r->pid > 0) kill_and_reap(r->pid);
   r->pid = 0;
   if (r->gai_pending) uv_cancel((uv_req_t*)&r->gai); /* its callback still comes */
   run_unref(r);                                      /* the owner's */
}

/* The attempt's verdict goes to its process (r may be freed on return). */
static void run_result(ProbeRun* r, bool ok, const char* err) {
   Proc* p = r->p;
   if (!p) return;
   char copy[sizeof r->err];
   snprintf(copy, sizeof copy, "%s", err ? err : "");
   run_abandon(r);
   probe_done(p, ok, copy);
}

static void run_error(ProbeRun* r, int uverr) {
   snprintf(r->err, sizeof r->err, "%s", uv_strerror(uverr));
}

/* ---------------------------------------------------------------- tcp and http */

static void conn_open(ProbeRun* r);

static void on_alloc(uv_handle_t* h, size_t hint, uv_buf_t* buf) {
   (void)hint;
   ProbeRun* r = ((ProbeConn*)h->data)->r;
   *buf = uv_buf_init(r->resp + r->resp_len, (unsigned)(sizeof r->resp - 1 - r->resp_len));
}

/* "HTTP/1.1 204 No Content": 2xx and 3xx are ready. */
static void http_verdict(ProbeRun* r) {
   r->resp[r->resp_len] = '\0';
   int code = 0;
   if (sscanf(r->resp, "HTTP/%*[0-9.] %3d", &code) != 1 || code < 100) {
      run_result(r, false, r->resp_len ? "not an HTTP response" : "closed without a response");
   } else if (code >= 200 && code < 400) {
      run_result(r, true, NULL);
   } else {
      snprintf(r->err, sizeof r->err, "HTTP %d", code);
      run_result(r, false, r->err);
   }
}

static void on_read(uv_stream_t* st, ssize_t n, const uv_buf_t* buf) {
   (void)buf;
   ProbeConn* c = st->data;
   ProbeRun* r = c->r;
   if (!r->p || c != r->conn) return;
   if (n > 0) r->resp_len += (size_t)n;
   if (n > 0 && !memchr(r->resp, '\n', r->resp_len) && r->resp_len < sizeof r->resp - 1) return;
   if (n < 0 && n != UV_EOF) {
      run_error(r, (int)n);
      run_result(r, false, r->err);
      return;
   }
   if (n != 0) http_verdict(r); /* a whole line, a full buffer, or the end */
}

static void on_written(uv_write_t* w, int status) {
   ProbeConn* c = w->handle->data;
   ProbeRun* r = c->r;
   if (!r->p || c != r->conn || status >= 0) return;
   run_error(r, status);
   run_result(r, false, r->err);
}

static void http_send(ProbeRun* r) {
   ProbeConn* c = r->conn;
   r->req = xasprintf("GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\nUser-Agent: brum\r\n"
                      "Accept: */*\r\n\r\n",
                      r->path, r->authority);
   uv_buf_t b = uv_buf_init(r->req, (unsigned)strlen(r->req));
   int err = uv_write(&c->wreq, (uv_stream_t*)&c->tcp, &b, 1, on_written);
   if (err == 0) err = uv_read_start((uv_stream_t*)&c->tcp, on_alloc, on_read);
   if (err < 0) {
      run_error(r, err);
      run_result(r, false, r->err);
   }
}

static void on_connect(uv_connect_t* req, int status) {
   ProbeConn* c = req->handle->data;
   ProbeRun* r = c->r;
   if (!r->p || c != r->conn) return;
   if (status < 0) { /* the next address, if any */
      run_error(r, status);
      conn_close(r);
      conn_open(r);
   } else if (r->p->ready.kind == SUP_PROBE_TCP) {
      run_result(r, true, NULL);
   } else {
      http_send(r);
   }
}

/* Connects to the next address; after the last one fails, the attempt fails with its error. */
static void conn_open(ProbeRun* r) {
   while (r->next < r->naddrs) {
      ProbeConn* c = xcalloc(1, sizeof *c);
      c->r = r;
      int err = uv_tcp_init(&r->p->sup->loop, &c->tcp);
      if (err < 0) { /* cannot happen on Linux (no socket until connect) */
         free(c);
         run_error(r, err);
         break;
      }
      c->tcp.data = c;
      r->refs++;
      r->conn = c;
      err = uv_tcp_connect(&c->creq, &c->tcp, (struct sockaddr*)&r->addrs[r->next++], on_connect);
      if (err == 0) return;
      run_error(r, err);
      conn_close(r);
   }
   run_result(r, false, r->err);
}

static void on_gai(uv_getaddrinfo_t* req, int status, struct addrinfo* res) {
   ProbeRun* r = req->data;
   r->gai_pending = false;
   for (struct addrinfo* a = res; a && r->naddrs < PROBE_MAX_ADDRS; a = a->ai_next)
      if (a->ai_addrlen <= sizeof r->addrs[0])
         memcpy(&r->addrs[r->naddrs++], a->ai_addr, a->ai_addrlen);
   uv_freeaddrinfo(res);
   if (r->p && status < 0) {
      snprintf(r->err, sizeof r->err, "cannot resolve %s: %s", r->host, uv_strerror(status));
      run_result(r, false, r->err);
   } else if (r->p) {
      snprintf(r->err, sizeof r->err, "%s has no address", r->host);
      conn_open(r);
   }
   run_unref(r); /* the request's */
}

/* The addresses of host: localhost is ::1 then 127.0.0.1 (servers bind either), a literal is
 * itself, any other name is resolved on libuv's thread pool. */
static void run_resolve(ProbeRun* r) {
   struct sockaddr_in a4;
   struct sockaddr_in6 a6;
   if (strcmp(r->host, "localhost") == 0) {
      uv_ip6_addr("::1", r->port, &a6);
      uv_ip4_addr("127.0.0.1", r->port, &a4);
      memcpy(&r->addrs[r->naddrs++], &a6, sizeof a6);
      memcpy(&r->addrs[r->naddrs++], &a4, sizeof a4);
   } else if (uv_ip4_addr(r->host, r->port, &a4) == 0) {
      memcpy(&r->addrs[r->naddrs++], &a4, sizeof a4);
   } else if (uv_ip6_addr(r->host, r->port, &a6) == 0) {
      memcpy(&r->addrs[r->naddrs++], &a6, sizeof a6);
   } else {
      char port[16];
      snprintf(port, sizeof port, "%d", r->port);
      struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
      r->gai.data = r;
      r->refs++;
      int err = uv_getaddrinfo(&r->p->sup->loop, &r->gai, on_gai, r->host, port, &hints);
      if (err == 0) {
         r->gai_pending = true;
         return;
      }
      r->refs--;
      snprintf(r->err, sizeof r->err, "cannot resolve %s: %s", r->host, uv_strerror(err));
      run_result(r, false, r->err);
      return;
   }
   conn_open(r);
}

/* "host:port", "[v6]:port"; for HTTP the port may be left out (80). 0, or -1 with r->err set. */
static int parse_authority(ProbeRun* r, const char* s, size_t len, int defport) {
   snprintf(r->authority, sizeof r->authority, "%.*s", (int)len, s);
   const char* colon = NULL;
   const char* h = s;
   size_t hl = len;
   if (len && s[0] == '[') {
      const char* close = memchr(s, ']', len);
      if (!close) goto bad;
      h = s + 1;
      hl = (size_t)(close - h);
      if (close + 1 < s + len) {
         if (close[1] != ':') goto bad;
         colon = close + 1;
      }
   } else if ((colon = memchr(s, ':', len))) {
      hl = (size_t)(colon - s);
   }
   if (!hl || hl >= sizeof r->host) goto bad;
   memcpy(r->host, h, hl);
   r->host[hl] = '\0';
   r->port = defport;
   if (colon) {
      char* end;
      long port = strtol(colon + 1, &end, 10);
      if (end != s + len || end == colon + 1 || port < 1 || port > 65535) goto bad;
      r->port = (int)port;
   }
   if (r->port > 0) return 0;
bad:
   snprintf(r->err, sizeof r->err, "bad address \"%.*s\": expected host:port", (int)len, s);
   return -1;
}

static void net_start(ProbeRun* r) {
   const char* t = r->p->ready.target;
   int rc;
   if (r->p->ready.kind == SUP_PROBE_TCP) {
      rc = parse_authority(r, t, strlen(t), 0);
   } else if (strncmp(t, "http://", 7) != 0) {
      snprintf(r->err, sizeof r->err, "only http:// URLs can be probed");
      rc = -1;
   } else {
      const char* a = t + 7;
      const char* slash = strchr(a, '/');
      r->path = slash ? slash : "/";
      rc = parse_authority(r, a, slash ? (size_t)(slash - a) : strlen(a), 80);
   }
   if (rc < 0)
      run_result(r, false, r->err);
   else
      run_resolve(r);
}

/* ---------------------------------------------------------------- exec */

/* Its output is read (so it never blocks on a full pipe) and the last line kept for the error. */
static void exec_drain(ProbeRun* r) {
   char buf[4096];
   ssize_t n;
   while ((n = read(r->out_fd, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR)) {
      for (ssize_t i = 0; i < n; i++) {
         char ch = buf[i];
         if (ch == '\n' || ch == '\r') {
            if (r->line_len) memcpy(r->last, r->line, r->line_len + 1);
            r->line_len = 0;
         } else if (r->line_len + 1 < sizeof r->line && (unsigned char)ch >= 0x20) {
            r->line[r->line_len++] = ch;
            r->line[r->line_len] = '\0';
         }
      }
   }
   if (n == 0 && r->poll_open) uv_poll_stop(&r->out_poll);
}

static void on_exec_out(uv_poll_t* h, int status, int events) {
   (void)status;
   (void)events;
   exec_drain(h->data);
}

static void on_exec_reap(uv_timer_t* t) {
   ProbeRun* r = t->data;
   int st = 0;
   pid_t w = waitpid(r->pid, &st, WNOHANG);
   if (w == 0 || (w < 0 && errno == EINTR)) return;
   r->pid = 0;
   exec_drain(r);
   if (r->line_len) memcpy(r->last, r->line, r->line_len + 1);
   if (w > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0) {
      run_result(r, true, NULL);
      return;
   }
   if (w < 0)
      snprintf(r->err, sizeof r->err, "lost it: %s", strerror(errno));
   else if (WIFEXITED(st))
      snprintf(r->err, sizeof r->err, "exited with code %d", WEXITSTATUS(st));
   else
      snprintf(r->err, sizeof r->err, "killed by signal %d", WTERMSIG(st));
   size_t k = strlen(r->err);
   if (r->last[0]) snprintf(r->err + k, sizeof r->err - k, ": %s", r->last);
   run_result(r, false, r->err);
}

/* sh -c TARGET in the process's directory and environment, through the same spawn path. */
static void exec_start(ProbeRun* r) {
   Proc* p = r->p;
   char sh[] = "sh", dc[] = "-c";
   char* argv[] = {sh, dc, (char*)p->ready.target, NULL};
   SpawnSpec sp = {.exe = "/bin/sh", .argv = argv, .env = p->env, .cwd = p->cwd};
   int err = spawn_child(&sp, &r->out_fd, &r->pid);
   if (err == 0) {
      err = uv_poll_init(&p->sup->loop, &r->out_poll, r->out_fd);
      if (err < 0) close(r->out_fd);
   }
   if (err < 0) {
      if (r->pid > 0) kill_and_reap(r->pid);
      r->pid = 0;
      snprintf(r->err, sizeof r->err, "cannot run it: %s", uv_strerror(err));
      run_result(r, false, r->err);
      return;
   }
   r->out_poll.data = r;
   r->poll_open = true;
   r->refs++;
   uv_timer_init(&p->sup->loop, &r->reap); /* always 0 (libuv 1.x) */
   r->reap.data = r;
   r->reap_open = true;
   r->refs++;
   uv_poll_start(&r->out_poll, UV_READABLE, on_exec_out);
   uv_timer_start(&r->reap, on_exec_reap, EXEC_REAP_MS, EXEC_REAP_MS);
}

/* ---------------------------------------------------------------- the probe of a run */

static uint64_t secs_ms(double s) {
   return (uint64_t)(s * 1000.0 + 0.5);
}

static const char* probe_label(const Proc* p, char* buf, size_t size) {
   const char* t = p->ready.target ? p->ready.target : "";
   switch (p->ready.kind) {
   case SUP_PROBE_TCP:
      snprintf(buf, size, "tcp %s", t);
      break;
   case SUP_PROBE_EXEC:
      snprintf(buf, size, "exec '%s'", t);
      break;
   case SUP_PROBE_LOG:
      snprintf(buf, size, "log /%s/", t);
      break;
   default:
      snprintf(buf, size, "%s", t);
      break;
   }
   return buf;
}

static void on_probe_timer(uv_timer_t* t);

/* One attempt's verdict: ready, or one more failure (the last one, at `retries`). */
static void probe_done(Proc* p, bool ok, const char* err) {
   uv_timer_stop(p->probe_timer);
   if (p->cur.state != PROC_RUNNING || p->cur.ready_ms) return;
   if (ok) {
      proc_set_ready(p);
      if (p->probe_err) proc_set_message(p, NULL);
      free(p->probe_err);
      p->probe_err = NULL;
      proc_publish(p);
      return;
   }
   char label[300];
   unsigned n = ++p->probe_fails;
   free(p->probe_err);
   p->probe_err = xasprintf("probe %s: %s (%u tr%s)", probe_label(p, label, sizeof label), err, n,
                            n == 1 ? "y" : "ies");
   proc_set_message(p, xstrdup(p->probe_err));
   if (p->ready.retries && n >= p->ready.retries) {
      p->probe_gave_up = true;
      proc_marker(p, "── not ready: %s ──", p->probe_err);
   } else {
      proc_timer_start(p, p->probe_timer, on_probe_timer, secs_ms(p->ready.interval_s), 0);
   }
   proc_publish(p);
}

static void probe_attempt(Proc* p) {
   ProbeRun* r = xcalloc(1, sizeof *r);
   r->p = p;
   r->refs = 1;
   r->out_fd = -1;
   p->probe = r;
   proc_timer_start(p, p->probe_timer, on_probe_timer, secs_ms(p->ready.timeout_s), 0);
   if (p->ready.kind == SUP_PROBE_EXEC)
      exec_start(r);
   else
      net_start(r);
}

/* Between attempts: the next one is due. During one: it took too long. */
static void on_probe_timer(uv_timer_t* t) {
   Proc* p = t->data;
   if (p->cur.state != PROC_RUNNING || p->cur.ready_ms) return;
   if (!p->probe) {
      probe_attempt(p);
      return;
   }
   char err[64];
   snprintf(err, sizeof err, "no answer within %g s", p->ready.timeout_s);
   run_abandon(p->probe);
   probe_done(p, false, err);
}

static void on_ready_timer(uv_timer_t* t) {
   Proc* p = t->data;
   if (p->cur.ready_ms || p->cur.state != PROC_RUNNING) return;
   proc_set_ready(p);
   proc_publish(p);
}

void probe_begin(Proc* p) {
   /* The loop's clock was read before the spawn, which can be slow on a loaded machine: a timer
    * based on it would fire early, relative to started_ms. */
   uv_update_time(&p->sup->loop);
   switch (p->ready.kind) {
   case SUP_PROBE_DEFAULT:
      proc_timer_start(p, p->ready_timer, on_ready_timer, READY_QUIET_MS, 0);
      break;
   case SUP_PROBE_LOG:
      if (!p->ready_re) { /* the loaders check patterns; this says it anyway */
         p->probe_gave_up = true;
         p->probe_err = xasprintf("probe log: %s", p->ready_re_err);
         proc_set_message(p, xstrdup(p->probe_err));
         proc_marker(p, "── not ready: %s ──", p->probe_err);
      }
      break;
   default:
      proc_timer_start(p, p->probe_timer, on_probe_timer, secs_ms(p->ready.interval_s), 0);
      break;
   }
}

void probe_line(Proc* p, const char* text, uint32_t len) {
   if (p->cur.ready_ms || p->cur.state != PROC_RUNNING) return;
   if (p->ready.kind == SUP_PROBE_LOG && p->ready_re &&
       regex_match(p->ready_re, p->ready_sc, text, len))
      proc_set_ready(p); /* published with the lines */
}

void probe_end(Proc* p) {
   if (p->probe) run_abandon(p->probe);
   if (p->probe_timer) uv_timer_stop(p->probe_timer);
   if (p->ready_timer) uv_timer_stop(p->ready_timer);
}

static void close_freed(uv_handle_t* h) {
   free(h);
}

void probe_close(Proc* p) {
   probe_end(p);
   if (p->probe_timer) uv_close((uv_handle_t*)p->probe_timer, close_freed);
   p->probe_timer = NULL;
}

void probe_init(Proc* p, const SupLaunch* l) {
   p->ready = l->ready;
   if (!(p->ready.interval_s > 0)) p->ready.interval_s = 1.0;
   if (!(p->ready.timeout_s > 0)) p->ready.timeout_s = 1.0;
   if (p->ready.kind == SUP_PROBE_DEFAULT) {
      p->ready.target = NULL;
      return;
   }
   p->ready.target = strpool_intern(p->sup->pool, l->ready.target ? l->ready.target : "");
   if (p->ready.kind != SUP_PROBE_LOG) return;
   if (regex_compile(p->ready.target, &p->ready_re, &p->ready_re_err) < 0) return;
   p->ready_sc = regex_scratch_new();
}

void probe_free(Proc* p) {
   regex_free(p->ready_re);
   regex_scratch_free(p->ready_sc);
   free(p->ready_re_err);
   free(p->probe_err);
}
