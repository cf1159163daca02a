/* The control server's transport: a thread with its own libuv loop, the listening Unix socket,
 * connections with bounded output and a per-turn request budget, pending calls and their
 * deadlines. Framing, the hello and dispatch are core/ctl_request.c's. */
#include "core/ctl.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <uv.h>

#include "core/ctl_conn.h"
#include "core/ctl_int.h"
#include "core/ctl_transport.h"
#include "core/rcu.h"
#include "core/util.h"

/* libuv closes descriptors with syscall(SYS_close), which ThreadSanitizer does not see: a client's
 * number, reused by the supervisor for a pidfd (raw syscall too), would look like the old socket
 * and every epoll_ctl on it like a race with this thread's accept. Tell TSan of the close here,
 * on the thread that accepted it. */
#ifdef BRUM_TSAN
void __sanitizer_syscall_pre_impl_close(long fd);
static void tsan_fd_closing(uv_handle_t* h) {
   uv_os_fd_t fd;
   if (uv_fileno(h, &fd) == 0) __sanitizer_syscall_pre_impl_close(fd);
}
#else
#define tsan_fd_closing(h) ((void)(h))
#endif

typedef struct WriteReq {
   uv_write_t req;
   char data[];
} WriteReq;

Sup* ctl_sup(const CtlServer* srv) {
   return srv->sup;
}

const char* ctl_root(const CtlServer* srv) {
   return srv->root;
}

const char* ctl_kind(const CtlServer* srv) {
   return srv->kind;
}

int ctl_pid(const CtlServer* srv) {
   return srv->pid;
}

uint64_t ctl_started_ms(const CtlServer* srv) {
   return srv->started_ms;
}

const char* ctl_conn_kind(const CtlConn* c) {
   return c->kind;
}

/* ---------------------------------------------------------------- connections */

/* Stops reading and marks the connection for sweep(): never closed right here, as a caller up
 * the stack (a poll, a dispatch) may still hold it. why: logged (NULL: a normal end). */
static void conn_drop(CtlConn* c, const char* why) {
   if (c->closing) return;
   c->closing = true;
   if (why) util_log("control: dropping client %u (%s): %s", c->num, c->kind, why);
   if (c->srv->live) uv_read_stop((uv_stream_t*)&c->pipe);
   c->srv->sweep = true;
}

static void sweep(CtlServer* srv);

static void on_shutdown(uv_shutdown_t* req, int status) {
   (void)status;
   CtlConn* c = req->data;
   conn_drop(c, NULL);
   sweep(c->srv);
}

/* A connection that reads no more closes when its last pending call has ended and its last
 * reply is written (a shutdown waits for the writes). */
static void conn_maybe_end(CtlConn* c) {
   if (!c->finishing || c->ncalls || c->shutting || c->closing) return;
   if (!c->srv->live) return;
   c->shutting = true;
   c->shut.data = c;
   if (uv_shutdown(&c->shut, (uv_stream_t*)&c->pipe, on_shutdown) < 0) conn_drop(c, NULL);
}

void ctl_conn_finish(CtlConn* c) {
   if (c->finishing) return;
   c->finishing = true;
   if (c->srv->live && !c->closing) uv_read_stop((uv_stream_t*)&c->pipe);
   conn_maybe_end(c);
}

static void on_write(uv_write_t* req, int status) {
   CtlConn* c = req->data;
   free(req);
   if (status < 0 && status != UV_ECANCELED) conn_drop(c, uv_strerror(status));
}

static void capture(CtlConn* c, const char* s, size_t n) {
   if (c->outlen + n + 1 > c->outcap) {
      while (c->outlen + n + 1 > c->outcap) c->outcap = c->outcap ? c->outcap * 2 : 4096;
      c->out = xrealloc(c->out, c->outcap);
   }
   memcpy(c->out + c->outlen, s, n);
   c->outlen += n;
   c->out[c->outlen] = '\0';
}

/* One reply always goes, whatever its size (its size is the operation's business); after that,
 * a client that lets OUT_MAX bytes pile up is dropped: the server never waits for a reader. */
void ctl_send_msg(CtlConn* c, json_t* msg) {
   if (!msg) return;
   char* s = c->closing ? NULL : json_dumps(msg, JSON_COMPACT);
   if (!s && !c->closing) util_log("control: a reply could not be encoded; dropped");
   json_decref(msg);
   if (!s) return;
   size_t n = strlen(s);
   if (!c->srv->live) {
      capture(c, s, n);
      capture(c, "\n", 1);
      free(s);
      return;
   }
   size_t queued = uv_stream_get_write_queue_size((uv_stream_t*)&c->pipe);
   if (queued && queued + n + 1 > OUT_MAX) {
      free(s);
      conn_drop(c, "it does not read its replies (4 MiB unwritten)");
      return;
   }
   WriteReq* w = xmalloc(sizeof *w + n + 1);
   memcpy(w->data, s, n);
   w->data[n] = '\n';
   free(s);
   w->req.data = c;
   uv_buf_t b = uv_buf_init(w->data, (unsigned)(n + 1));
   int err = uv_write(&w->req, (uv_stream_t*)&c->pipe, &b, 1, on_write);
   if (err < 0) {
      free(w);
      conn_drop(c, uv_strerror(err));
   }
}

/* ---------------------------------------------------------------- pending calls */

static void on_timer(uv_timer_t* t);

/* One timer for the earliest deadline. uv's clock may lag the wall clock a little: a timer that
 * fires early finds no call due and is armed again for the rest. */
void ctl_arm_timer(CtlServer* srv) {
   if (!srv->live || srv->stopping) return;
   uint64_t first = 0;
   for (CtlCall* call = srv->calls; call; call = call->next)
      if (call->deadline_ms && (!first || call->deadline_ms < first)) first = call->deadline_ms;
   if (!first) {
      uv_timer_stop(&srv->timer);
      return;
   }
   uint64_t now = util_now_ms();
   uv_timer_start(&srv->timer, on_timer, first > now ? first - now : 0, 0);
}

static void call_end(CtlCall* call) {
   CtlConn* c = call->conn;
   c->ncalls--;
   call->free(call);
   conn_maybe_end(c);
}

/* Polls every pending call. The list is detached while it runs: a poll may add calls. */
static void poll_calls(CtlServer* srv) {
   uint64_t now = util_now_ms();
   CtlCall* list = srv->calls;
   CtlCall *keep = NULL, **tail = &keep;
   srv->calls = NULL;
   while (list) {
      CtlCall* call = list;
      list = call->next;
      bool timed_out = call->deadline_ms && now >= call->deadline_ms;
      if (!call->conn->closing && call->poll(call, timed_out)) {
         call_end(call);
         continue;
      }
      if (timed_out && !call->conn->closing) { /* against a busy loop on a broken poll */
         util_log("control: a pending call ignored its deadline; it has none now");
         call->deadline_ms = 0;
      }
      call->next = NULL;
      *tail = call;
      tail = &call->next;
   }
   *tail = srv->calls;
   srv->calls = keep;
   ctl_arm_timer(srv);
}

void ctl_call_add(CtlServer* srv, CtlConn* c, CtlCall* call) {
   call->conn = c;
   c->ncalls++;
   bool timed_out = call->deadline_ms && util_now_ms() >= call->deadline_ms;
   if (!c->closing && call->poll(call, timed_out)) {
      call_end(call);
      return;
   }
   call->next = srv->calls;
   srv->calls = call;
   ctl_arm_timer(srv);
}

static void on_conn_closed(uv_handle_t* h) {
   CtlConn* c = h->data;
   CtlServer* srv = c->srv;
   for (CtlConn** pp = &srv->conns; *pp; pp = &(*pp)->next) {
      if (*pp != c) continue;
      *pp = c->next;
      break;
   }
   srv->nconns--;
   free(c->pend);
   free(c->line);
   free(c);
}

/* Cancels the calls of dropped connections and closes them. A cancel may reply, and a reply may
 * drop another connection: until nothing is left to do. */
static void sweep(CtlServer* srv) {
   while (srv->sweep) {
      srv->sweep = false;
      for (CtlCall** pp = &srv->calls; *pp;) {
         CtlCall* call = *pp;
         if (!call->conn->closing) {
            pp = &call->next;
            continue;
         }
         *pp = call->next;
         call->conn->ncalls--;
         if (call->cancel) call->cancel(call, true);
         call->free(call);
      }
      for (CtlConn* c = srv->conns; c && srv->live; c = c->next) {
         if (!c->closing || c->closed) continue;
         c->closed = true;
         tsan_fd_closing((uv_handle_t*)&c->pipe);
         uv_close((uv_handle_t*)&c->pipe, on_conn_closed);
      }
   }
   ctl_arm_timer(srv);
}

static void on_timer(uv_timer_t* t) {
   CtlServer* srv = t->data;
   poll_calls(srv);
   sweep(srv);
}

static void on_wake(uv_async_t* a) {
   CtlServer* srv = a->data;
   poll_calls(srv);
   sweep(srv);
}

/* The supervisor's thread: nothing here but the (coalescing) wakeup. */
static void observer(void* ud) {
   CtlServer* srv = ud;
   uv_async_send(&srv->wake);
}

/* Whether the peer closed its socket, not only its sending half: then nothing it asked for can
 * reach it (a Unix socket whose peer is released is shut down both ways: POLLHUP). */
static bool peer_gone(CtlConn* c) {
   uv_os_fd_t fd;
   if (!c->srv->live || uv_fileno((uv_handle_t*)&c->pipe, &fd) < 0) return false;
   struct pollfd p = {.fd = fd};
   return poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR));
}

/* The client sends no more. Gone: its pending calls are cancelled now. Half-closed: a last line
 * without its newline still counts, and the replies still go. */
static void conn_eof(CtlConn* c) {
   if (peer_gone(c)) {
      conn_drop(c, NULL);
      return;
   }
   if (c->len && !c->draining && !c->closing && !c->finishing) {
      ctl_conn_line(c, c->line, c->len);
      c->len = 0;
   }
   ctl_conn_finish(c);
}

/* ---------------------------------------------------------------- the socket */

static void on_alloc(uv_handle_t* h, size_t hint, uv_buf_t* buf) {
   (void)hint;
   CtlConn* c = h->data;
   *buf = uv_buf_init(c->srv->rbuf, READ_BUF);
}

static void on_idle(uv_idle_t* h);
static void on_read(uv_stream_t* s, ssize_t n, const uv_buf_t* buf);

/* Out of budget: the rest of the read waits for the next turn, and so does reading. */
static void conn_pause(CtlConn* c, const char* rest, size_t n) {
   c->pend = xmalloc(n);
   memcpy(c->pend, rest, n);
   c->pendoff = 0;
   c->pendlen = n;
   uv_read_stop((uv_stream_t*)&c->pipe);
   uv_idle_start(&c->srv->idle, on_idle); /* the next poll does not block */
}

static void conn_turn(CtlConn* c) {
   if (c->turn == c->srv->turn) return;
   c->turn = c->srv->turn;
   c->budget = TURN_REQUESTS;
}

/* The clients that ran out of budget get their next turn. */
static void on_idle(uv_idle_t* h) {
   CtlServer* srv = h->data;
   bool more = false;
   for (CtlConn* c = srv->conns; c; c = c->next) {
      if (!c->pend) continue;
      conn_turn(c);
      c->pendoff += ctl_conn_feed(c, c->pend + c->pendoff, c->pendlen - c->pendoff);
      if (c->pendoff < c->pendlen && !c->closing && !c->finishing) {
         more = true;
         continue;
      }
      free(c->pend);
      c->pend = NULL;
      if (c->closing || c->finishing) continue;
      int err = uv_read_start((uv_stream_t*)&c->pipe, on_alloc, on_read);
      if (err < 0) conn_drop(c, uv_strerror(err));
   }
   if (!more) uv_idle_stop(h);
   sweep(srv);
}

static void on_check(uv_check_t* h) {
   CtlServer* srv = h->data;
   srv->turn++;
}

static void on_read(uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
   CtlConn* c = s->data;
   if (n > 0) {
      conn_turn(c);
      size_t used = ctl_conn_feed(c, buf->base, (size_t)n);
      if (used < (size_t)n && !c->closing && !c->finishing)
         conn_pause(c, buf->base + used, (size_t)n - used);
   } else if (n == UV_EOF) {
      conn_eof(c);
   } else if (n < 0) {
      conn_drop(c, uv_strerror((int)n));
   }
   sweep(c->srv);
}

/* Only the user brum runs as: the directory is private already, this holds even if it was not. */
static bool peer_ok(CtlConn* c) {
   uv_os_fd_t fd;
   struct ucred cr;
   socklen_t len = sizeof cr;
   if (uv_fileno((uv_handle_t*)&c->pipe, &fd) < 0 ||
       getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0) {
      conn_drop(c, "cannot read its credentials (SO_PEERCRED)");
      return false;
   }
   if (cr.uid != geteuid()) {
      char* why = xasprintf("its uid %u is not ours (%u)", (unsigned)cr.uid, (unsigned)geteuid());
      conn_drop(c, why);
      free(why);
      return false;
   }
   return true;
}

static void on_connection(uv_stream_t* server, int status) {
   CtlServer* srv = server->data;
   if (status < 0) {
      util_log("control: cannot accept a connection: %s", uv_strerror(status));
      return;
   }
   CtlConn* c = xcalloc(1, sizeof *c);
   c->srv = srv;
   c->num = ++srv->conn_seq;
   strcpy(c->kind, "client");
   uv_pipe_init(&srv->loop, &c->pipe, 0); /* cannot fail: no descriptor yet */
   c->pipe.data = c;
   c->next = srv->conns;
   srv->conns = c;
   srv->nconns++;
   int err = uv_accept(server, (uv_stream_t*)&c->pipe);
   if (err < 0) {
      conn_drop(c, uv_strerror(err));
   } else if (peer_ok(c) && srv->nconns > MAX_CONNS) {
      static const char busy[] = "{\"id\":null,\"ok\":false,\"error\":{\"code\":\"unavailable\","
                                 "\"message\":\"too many clients (512): try again later\"}}\n";
      uv_buf_t b = uv_buf_init((char*)busy, sizeof busy - 1);
      uv_try_write((uv_stream_t*)&c->pipe, &b, 1);
      conn_drop(c, "too many clients");
   } else if (!c->closing) {
      err = uv_read_start((uv_stream_t*)&c->pipe, on_alloc, on_read);
      if (err < 0) conn_drop(c, uv_strerror(err));
   }
   sweep(srv);
}

/* The listening socket, 0600 from the start: Linux creates the file with the socket inode's
 * mode (less the umask), so an fchmod before bind leaves no moment where it is wider (and the
 * directory is private anyway). */
static int listen_socket(const char* path, int* out, char** cause) {
   struct sockaddr_un sa = {.sun_family = AF_UNIX};
   if (strlen(path) >= sizeof sa.sun_path) { /* libuv would cut it silently */
      *cause = xasprintf("the socket path %s is longer than a socket address allows (%zu bytes)",
                         path, sizeof sa.sun_path - 1);
      return -ENAMETOOLONG;
   }
   strcpy(sa.sun_path, path);
   int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
   if (fd < 0) {
      int err = -errno;
      *cause = xasprintf("cannot create a socket: %s", strerror(-err));
      return err;
   }
   unlink(path); /* a file of a process with our pid: that process is gone */
   if (fchmod(fd, 0600) < 0 || bind(fd, (struct sockaddr*)&sa, sizeof sa) < 0 ||
       chmod(path, 0600) < 0 || listen(fd, SOMAXCONN) < 0) {
      int err = -errno;
      *cause = xasprintf("cannot listen on %s: %s", path, strerror(-err));
      close(fd);
      unlink(path);
      return err;
   }
   *out = fd;
   return 0;
}

/* ---------------------------------------------------------------- the thread */

static void on_closed_noop(uv_handle_t* h) {
   (void)h;
}

static void close_handles(CtlServer* srv) {
   srv->stopping = true;
   for (CtlConn* c = srv->conns; c; c = c->next) conn_drop(c, NULL);
   sweep(srv); /* cancels every call, closes every connection */
   tsan_fd_closing((uv_handle_t*)&srv->listener);
   uv_close((uv_handle_t*)&srv->listener, on_closed_noop);
   uv_close((uv_handle_t*)&srv->wake, on_closed_noop);
   uv_close((uv_handle_t*)&srv->stop, on_closed_noop);
   uv_close((uv_handle_t*)&srv->timer, on_closed_noop);
   uv_close((uv_handle_t*)&srv->check, on_closed_noop);
   uv_close((uv_handle_t*)&srv->idle, on_closed_noop);
}

static void on_stop(uv_async_t* a) {
   close_handles(a->data);
}

/* Clients in a tight loop must not take the cores from the render loop and the supervisor: on
 * Linux a thread has a nice value of its own (setpriority on its tid); this one yields to them.
 * Best effort: without it the server runs at the process's priority. */
#define CTL_NICE 10

static void server_main(void* arg) {
   CtlServer* srv = arg;
   if (setpriority(PRIO_PROCESS, (id_t)gettid(), CTL_NICE) < 0)
      util_log("control server: cannot lower its priority: %s", strerror(errno));
   rcu_register_thread(); /* the operations read snapshots and log stores */
   uv_run(&srv->loop, UV_RUN_DEFAULT);
   rcu_unregister_thread();
}

static void server_free(CtlServer* srv) {
   free(srv->root);
   free(srv->kind);
   free(srv->dir);
   free(srv->sock);
   free(srv->info);
   free(srv->rbuf);
   free(srv);
}

/* The loop and its handles around a listening descriptor (taken: closed on failure too). */
static int loop_start(CtlServer* srv, int fd, char** cause) {
   int err = uv_loop_init(&srv->loop);
   if (err < 0) {
      close(fd);
      *cause = xasprintf("cannot create the control loop: %s", uv_strerror(err));
      return err;
   }
   uv_pipe_init(&srv->loop, &srv->listener, 0);
   uv_timer_init(&srv->loop, &srv->timer);
   uv_check_init(&srv->loop, &srv->check); /* these three cannot fail */
   uv_idle_init(&srv->loop, &srv->idle);
   uv_check_start(&srv->check, on_check);
   srv->listener.data = srv->timer.data = srv->check.data = srv->idle.data = srv;
   srv->wake.data = srv->stop.data = srv;
   const char* what = "cannot watch the socket";
   if ((err = uv_pipe_open(&srv->listener, fd)) < 0) close(fd);
   if (!err) err = uv_listen((uv_stream_t*)&srv->listener, SOMAXCONN, on_connection);
   if (!err && (err = uv_async_init(&srv->loop, &srv->wake, on_wake)) < 0)
      what = "cannot create a wakeup";
   if (!err && (err = uv_async_init(&srv->loop, &srv->stop, on_stop)) < 0) {
      uv_close((uv_handle_t*)&srv->wake, on_closed_noop);
      what = "cannot create a wakeup";
   }
   if (!err) return 0;
   *cause = xasprintf("%s: %s", what, uv_strerror(err));
   tsan_fd_closing((uv_handle_t*)&srv->listener);
   uv_close((uv_handle_t*)&srv->listener, on_closed_noop);
   uv_close((uv_handle_t*)&srv->timer, on_closed_noop);
   uv_close((uv_handle_t*)&srv->check, on_closed_noop);
   uv_close((uv_handle_t*)&srv->idle, on_closed_noop);
   uv_run(&srv->loop, UV_RUN_DEFAULT);
   uv_loop_close(&srv->loop);
   return err;
}

int ctl_server_start(Sup* sup, const CtlConfig* cfg, CtlServer** out, char** cause) {
   *out = NULL;
   CtlServer* srv = xcalloc(1, sizeof *srv);
   srv->sup = sup;
   srv->root = xstrdup(cfg->root);
   srv->kind = xstrdup(cfg->kind);
   srv->pid = (int)getpid();
   srv->started_ms = util_now_ms();
   srv->live = true;
   srv->turn = 1; /* a new connection's 0 is not the current turn: it starts with a budget */
   srv->rbuf = xmalloc(READ_BUF);
   int fd = -1, err = ctl_dir(CTL_SOCK_NAME_MAX, &srv->dir, cause);
   if (err < 0) goto fail;
   ctl_dir_sweep(srv->dir); /* what instances that are gone left behind */
   srv->sock = xasprintf("%s/%d.sock", srv->dir, srv->pid);
   srv->info = xasprintf("%s/%d.json", srv->dir, srv->pid);
   if ((err = listen_socket(srv->sock, &fd, cause)) < 0) goto fail;
   if ((err = loop_start(srv, fd, cause)) < 0) goto fail_sock;
   err = ctl_dir_write_info(srv->dir, srv->pid, srv->root, srv->kind, srv->started_ms, srv->sock,
                            cause);
   if (!err && (err = uv_thread_create(&srv->thread, server_main, srv)) < 0)
      *cause = xasprintf("cannot start the control thread: %s", uv_strerror(err));
   if (!err) {
      sup_set_observer(sup, observer, srv);
      *out = srv;
      return 0;
   }
   close_handles(srv);
   uv_run(&srv->loop, UV_RUN_DEFAULT);
   uv_loop_close(&srv->loop);
   unlink(srv->info);
fail_sock:
   unlink(srv->sock);
fail:
   server_free(srv);
   return err;
}

void ctl_server_stop(CtlServer* srv) {
   if (!srv) return;
   sup_set_observer(srv->sup, NULL, NULL); /* then nothing sends to the wakeup any more */
   uv_async_send(&srv->stop);
   uv_thread_join(&srv->thread);
   int err = uv_loop_close(&srv->loop);
   if (err < 0) util_log("control: the loop did not close cleanly: %s", uv_strerror(err));
   unlink(srv->info); /* first: a client that finds the .json finds the socket too */
   unlink(srv->sock);
   server_free(srv);
}

/* ---------------------------------------------------------------- without a socket */

char* ctl_feed(Sup* sup, const char* root, const char* data, size_t len, size_t chunk,
               size_t* out_len) {
   /* a fixed start time: the same input gives the same output */
   CtlServer srv = {.sup = sup, .pid = (int)getpid(), .started_ms = 1};
   srv.root = xstrdup(root);
   srv.kind = xstrdup("headless");
   CtlConn* c = xcalloc(1, sizeof *c);
   c->srv = &srv;
   strcpy(c->kind, "client");
   srv.conns = c;
   srv.nconns = 1;
   if (!chunk) chunk = len ? len : 1;
   for (size_t off = 0; off < len; off += chunk) {
      c->budget = SIZE_MAX; /* no other client to be fair to */
      ctl_conn_feed(c, data + off, len - off < chunk ? len - off : chunk);
   }
   c->budget = SIZE_MAX;
   conn_eof(c);
   poll_calls(&srv); /* as after a change the supervisor published */
   conn_drop(c, NULL);
   sweep(&srv);
   char* out = c->out ? c->out : xstrdup("");
   *out_len = c->outlen;
   free(c->line);
   free(c);
   free(srv.root);
   free(srv.kind);
   return out;
}
