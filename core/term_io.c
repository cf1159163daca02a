/* Input for a child: keys, text, lines and end of input, written through a bounded queue per
 * process (a child that never reads must not grow brum; what does not fit is dropped and said
 * once). A PTY child's input is its terminal's master, watched for writability by the output's
 * own poll (libuv allows one poll per descriptor); a --no-pty child's is a pipe with a poll of
 * its own. Supervisor thread only. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "core/term_int.h"
#include "core/util.h"

/* The descriptor input goes to: the PTY master, or the stdin pipe; -1 when there is none. */
static int input_fd(const Proc* p) {
   if (!p->term) return -1;
   if (p->sup->cfg.use_pty) return proc_active(p) ? p->out_fd : -1;
   return p->term->in_fd;
}

bool term_wants_write(const Proc* p) {
   return p->term && p->sup->cfg.use_pty && p->term->wq_len > 0 && p->out_fd >= 0;
}

static void drop_queue(Proc* p);

static void close_pipe_cb(uv_handle_t* h) {
   free(h);
}

static void close_pipe(Proc* p) {
   TermState* t = p->term;
   if (t->in_poll) {
      uv_close((uv_handle_t*)t->in_poll, close_pipe_cb);
      t->in_poll = NULL;
   }
   if (t->in_fd >= 0) close(t->in_fd);
   t->in_fd = -1;
   t->eof_after = false;
}

static void on_pipe_writable(uv_poll_t* h, int status, int events) {
   (void)status, (void)events;
   term_flush(h->data);
}

/* Waits for the descriptor to take more (or stops waiting when the queue is empty). */
static void watch(Proc* p) {
   TermState* t = p->term;
   if (p->sup->cfg.use_pty) {
      proc_repoll(p);
      return;
   }
   if (t->in_fd < 0) return;
   if (t->wq_len == 0) {
      if (t->in_poll) uv_poll_stop(t->in_poll);
      return;
   }
   if (!t->in_poll) {
      t->in_poll = xmalloc(sizeof *t->in_poll);
      if (uv_poll_init(&p->sup->loop, t->in_poll, t->in_fd) < 0) {
         free(t->in_poll);
         t->in_poll = NULL;
         drop_queue(p); /* nothing will write it: later input must not queue behind it */
         return;
      }
      t->in_poll->data = p;
   }
   uv_poll_start(t->in_poll, UV_WRITABLE, on_pipe_writable);
}

/* The queue's length changes: Sup.input_pending counts it (sup_input_pending). */
static void wq_count(Proc* p, size_t added, size_t removed) {
   atomic_fetch_add(&p->sup->input_pending, added);
   atomic_fetch_sub(&p->sup->input_pending, removed);
}

static void drop_queue(Proc* p) {
   TermState* t = p->term;
   wq_count(p, 0, t->wq_len);
   t->wq_head = t->wq_len = 0;
}

/* Writes what the queue holds, as much as the descriptor takes now. */
void term_flush(Proc* p) {
   TermState* t = p->term;
   if (!t) return;
   int fd = input_fd(p);
   while (t->wq_len && fd >= 0) {
      size_t n = TERM_WQ - t->wq_head < t->wq_len ? TERM_WQ - t->wq_head : t->wq_len;
      ssize_t w = write(fd, t->wq + t->wq_head, n);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0 && errno == EAGAIN) break;
      if (w <= 0) { /* the reader is gone (EPIPE, EIO): nothing will read this */
         drop_queue(p);
         break;
      }
      t->wq_head = (t->wq_head + (size_t)w) % TERM_WQ;
      t->wq_len -= (size_t)w;
      wq_count(p, 0, (size_t)w);
   }
   if (fd < 0) drop_queue(p);
   if (!t->wq_len) t->wq_head = 0;
   if (!t->wq_len && t->eof_after) close_pipe(p);
   watch(p);
}

static void warn_drop(Proc* p, size_t n) {
   TermState* t = p->term;
   if (t->wq_warned) return;
   t->wq_warned = true;
   char* msg = xasprintf("%s: input dropped (%zu bytes): it is not reading what it was sent",
                         p->slot.name, n);
   util_log("%s", msg);
   sup_notice(p->sup, msg);
   free(msg);
}

void term_write(Proc* p, const char* b, size_t n) {
   TermState* t = p->term;
   int fd = input_fd(p);
   if (fd < 0 || !n) return; /* no child: nothing to type into */
   t->last_sent = b[n - 1];
   if (!t->wq_len) { /* the usual case: the child reads, the bytes go now */
      ssize_t w;
      do w = write(fd, b, n);
      while (w < 0 && errno == EINTR);
      if (w < 0 && errno != EAGAIN) return; /* the reader is gone */
      if (w > 0) b += w, n -= (size_t)w;
      if (!n) return;
   }
   if (n > TERM_WQ - t->wq_len) {
      warn_drop(p, n);
      return; /* whole or not at all: half a key sequence would be worse */
   }
   if (!t->wq) t->wq = xmalloc(TERM_WQ);
   size_t tail = (t->wq_head + t->wq_len) % TERM_WQ;
   size_t first = TERM_WQ - tail < n ? TERM_WQ - tail : n;
   memcpy(t->wq + tail, b, first);
   memcpy(t->wq, b + first, n - first);
   t->wq_len += n;
   wq_count(p, n, 0);
   watch(p);
}

void term_run_end(Proc* p) {
   TermState* t = p->term;
   if (!t) return;
   drop_queue(p);
   close_pipe(p);
   if (atomic_load(&p->sup->finished)) return;
   term_catch_up(p);   /* the last screen is published whole, now */
   term_poll_modes(p); /* the parser reset them */
}

void term_io_free(TermState* t) {
   free(t->wq);
   if (t->in_fd >= 0) close(t->in_fd);
   free(t->in_poll); /* closed by term_close, or never initialised */
}

/* ---------------------------------------------------------------- what the user sends */

static VTermModifier vt_mods(uint8_t m) {
   VTermModifier v = VTERM_MOD_NONE;
   if (m & TERM_MOD_SHIFT) v |= VTERM_MOD_SHIFT;
   if (m & TERM_MOD_ALT) v |= VTERM_MOD_ALT;
   if (m & TERM_MOD_CTRL) v |= VTERM_MOD_CTRL;
   return v;
}

static VTermKey vt_key(TermKeyCode c) {
   static const VTermKey map[] = {[TK_ENTER] = VTERM_KEY_ENTER,
                                  [TK_TAB] = VTERM_KEY_TAB,
                                  [TK_BACKSPACE] = VTERM_KEY_BACKSPACE,
                                  [TK_ESCAPE] = VTERM_KEY_ESCAPE,
                                  [TK_UP] = VTERM_KEY_UP,
                                  [TK_DOWN] = VTERM_KEY_DOWN,
                                  [TK_LEFT] = VTERM_KEY_LEFT,
                                  [TK_RIGHT] = VTERM_KEY_RIGHT,
                                  [TK_INS] = VTERM_KEY_INS,
                                  [TK_DEL] = VTERM_KEY_DEL,
                                  [TK_HOME] = VTERM_KEY_HOME,
                                  [TK_END] = VTERM_KEY_END,
                                  [TK_PAGEUP] = VTERM_KEY_PAGEUP,
                                  [TK_PAGEDOWN] = VTERM_KEY_PAGEDOWN};
   if (c >= TK_F1 && c <= TK_F12) return VTERM_KEY_FUNCTION(c - TK_F1 + 1);
   return (size_t)c < sizeof map / sizeof *map ? map[c] : VTERM_KEY_NONE;
}

/* With an emulator, libvterm encodes (it knows the modes the child set, application cursor keys
 * among them); without one, term_encode_key with the modes the parser tracked. */
void term_key(Proc* p, const TermKey* k) {
   TermState* t = p->term;
   if (input_fd(p) < 0) return;
   if (t->vt && k->code == TK_MOUSE) {
      VTermModifier m = vt_mods(k->mods);
      vterm_mouse_move(t->vt, k->y, k->x, m);
      vterm_mouse_button(t->vt, k->button, k->press, m);
      return;
   }
   /* (libvterm 0.1.4 writes an Alt-prefixed character as one byte: beyond ASCII ours is right) */
   if (t->vt && k->code == TK_CHAR && !(k->ch >= 0x80 && (k->mods & TERM_MOD_ALT))) {
      vterm_keyboard_unichar(t->vt, k->ch, vt_mods(k->mods));
      return;
   }
   if (t->vt && vt_key(k->code) != VTERM_KEY_NONE) {
      vterm_keyboard_key(t->vt, vt_key(k->code), vt_mods(k->mods));
      return;
   }
   char buf[64];
   size_t n = term_encode_key(k, p->cur.term_modes, buf, sizeof buf);
   term_write(p, buf, n);
}

void term_input(Proc* p, const char* b, size_t n, bool paste) {
   TermState* t = p->term;
   if (input_fd(p) < 0) return;
   if (!paste) {
      term_write(p, b, n);
   } else if (t->vt) { /* libvterm brackets it when the child asked */
      vterm_keyboard_start_paste(t->vt);
      term_write(p, b, n);
      vterm_keyboard_end_paste(t->vt);
   } else if (p->cur.term_modes & TERM_MODE_PASTE) {
      term_write(p, "\x1b[200~", 6);
      term_write(p, b, n);
      term_write(p, "\x1b[201~", 6);
   } else {
      term_write(p, b, n);
   }
}

void term_input_line(Proc* p, const char* b, size_t n) {
   term_write(p, b, n);
   term_write(p, p->sup->cfg.use_pty ? "\r" : "\n", 1);
}

/* A PTY: its EOF character (^D unless the child changed it). A pipe: closed once the queue is
 * written. */
void term_input_eof(Proc* p) {
   TermState* t = p->term;
   if (p->sup->cfg.use_pty) {
      int fd = input_fd(p);
      if (fd < 0) return;
      struct termios tio;
      char c = 4;
      if (tcgetattr(fd, &tio) == 0 && tio.c_cc[VEOF] != _POSIX_VDISABLE) c = (char)tio.c_cc[VEOF];
      /* after a line without its newline the first EOF only hands that line over: a second ends
       * the input */
      bool midline = t && t->last_sent && t->last_sent != '\n' && t->last_sent != '\r';
      term_write(p, &c, 1);
      if (midline) term_write(p, &c, 1);
      return;
   }
   if (!t || t->in_fd < 0) return;
   t->eof_after = true;
   if (!t->wq_len) close_pipe(p);
}
