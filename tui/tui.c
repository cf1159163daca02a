/* The curses layer: the main thread's uv loop (stdin, wakeups, signals, a one-shot frame timer),
 * key and mouse decoding, and copying the view's canvas to the terminal, changed cells only. */
#define _XOPEN_SOURCE_EXTENDED 1
#include "tui/tui.h"

#include <curses.h>
#include <errno.h>
#include <fcntl.h>
#include <langinfo.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>
#include <uv.h>

#include "core/filter.h"
#include "core/rcu.h"
#include "core/util.h"
#include "tui/termkey.h"
#include "tui/input.h"
#include "tui/notify.h"
#include "tui/save.h"
#include "tui/trace.h"
#include "tui/view.h"
/* last: setupterm; its capability macros (tab, lines, ...) would clash with the headers above */
#include <term.h>
#undef tab

#define FRAME_NS 16000000ull    /* at most ~60 frames a second from output */
#define KEY_FRAME_NS 2000000ull /* at most one key frame per 2 ms (a paste, a mouse drag) */
#define FRAME_BURST 3           /* frames that may come KEY_FRAME_NS apart after a quiet spell */
#define NOTICE_MS 5000          /* a control socket notice stays this long (or until a key) */
#define RESIZE_MS 150 /* children's terminals get a new size once the layout is still this long */

typedef struct Tui {
   uv_loop_t* loop;
   uv_poll_t input;
   uv_async_t wake;
   uv_timer_t frame;
   uv_timer_t notice_timer; /* clears the notice shown */
   uv_timer_t size_timer;   /* applies the children's new terminal size (RESIZE_MS) */
   uv_signal_t sigs[4];
   Sup* sup;            /* owned */
   CtlServer* ctl;      /* owned, NULL: no control socket */
   uint64_t notice_seq; /* the newest notice shown */
   char notice[256];    /* its text as shown (cleared only while the message is still it) */
   Filter* filter;      /* owned */
   Theme* theme;        /* owned */
   View view;
   Notifier notify; /* bell and desktop notifications, written between frames */
   Canvas cur, prev;
   bool frame_pending, full_redraw, quit_sent, stopped;
   bool cursor_shown; /* the terminal's cursor is on (input mode: the child's) */
   uint64_t last_frame_ns, last_key_frame_ns;
   uint64_t frame_tat;       /* the pace's clock (tui_frame_tat) */
   int pane_cols, pane_rows; /* the size the children's terminals get (after RESIZE_MS) */
   size_t nsigs;             /* signal handles initialised */
   bool wake_ok, input_ok;   /* handles initialised (closed on a failed start) */
   bool mouse_off;           /* mouse capture as applied to the terminal (View.mouse_off: asked) */
} Tui;

static struct termios saved_tio;
static bool tio_saved;
static int saved_fl = -1; /* stdin's file status flags: uv_poll_init makes the tty non-blocking */

/* Async-signal-safe terminal restore for the crash path: leave the alternate screen, show the
 * cursor, stop mouse reporting, restore the line discipline. */
static void restore_terminal_raw(void) {
   static const char seq[] = "\033[?1000l\033[?1002l\033[?1006l\033[0m\033[?25h\033[?1049l\r\n";
   ssize_t w = write(STDOUT_FILENO, seq, sizeof seq - 1);
   (void)w;
   if (tio_saved) tcsetattr(STDIN_FILENO, TCSANOW, &saved_tio);
   if (saved_fl >= 0) fcntl(STDIN_FILENO, F_SETFL, saved_fl);
}

static void on_crash(int sig) {
   restore_terminal_raw();
   signal(sig, SIG_DFL);
   raise(sig);
}

static void schedule_frame(Tui* t);

/* ---------------------------------------------------------------- the mouse */

/* Presses, releases, motion with a button held (a drag) and the wheel. */
#define MOUSE_MASK                                                                                 \
   (BUTTON1_PRESSED | BUTTON1_RELEASED | BUTTON4_PRESSED | BUTTON5_PRESSED | REPORT_MOUSE_POSITION)

/* Bytes for the terminal itself (not cells): between frames, after doupdate. */
static void term_write(const char* seq, size_t len) {
   size_t off = 0;
   while (off < len) {
      ssize_t w = write(STDOUT_FILENO, seq + off, len - off);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) break;
      off += (size_t)w;
   }
}
static void term_puts(const char* s) {
   term_write(s, strlen(s));
}

/* ncurses asks only for presses and releases (xterm's 1000 mode): motion while a button is held
 * comes with 1002, which brum requests itself once curses has sent its own (1000 would override
 * it). Off: the terminal's own selection works again. */
static void mouse_capture(bool on) {
   if (on) {
      mousemask(MOUSE_MASK, NULL);
      term_puts("\033[?1002h");
   } else {
      mousemask(0, NULL);
      term_puts("\033[?1002l\033[?1000l\033[?1006l");
   }
}

/* ---------------------------------------------------------------- drawing */

static bool ascii_terminal; /* the locale is not UTF-8: curses cannot show other characters */

void tui_blit(const Canvas* c, Canvas* prev, bool full) {
   bool all = full || prev->w != c->w || prev->h != c->h;
   for (int y = 0; y < c->h; y++) {
      for (int x = 0; x < c->w; x++) {
         const Cell* cell = &c->cells[(size_t)y * (size_t)c->w + (size_t)x];
         if (!all && memcmp(cell, canvas_at(prev, x, y), sizeof *cell) == 0) continue;
         if (cell->wide == 0) continue; /* the right half of a wide character */
         Style st = {.fg = cell->fg, .bg = cell->bg, .attr = cell->attr};
         ThemeCurses tc = theme_curses_style(&st);
         wchar_t wc[2] = {(wchar_t)(ascii_terminal && cell->ch >= 0x80 ? '?' : cell->ch), 0};
         cchar_t cc;
         setcchar(&cc, wc, (attr_t)tc.attr, (short)tc.pair, &tc.pair);
         mvadd_wch(y, x, &cc);
      }
   }
   /* the previous frame becomes the comparison base */
   if (prev->w != c->w || prev->h != c->h) canvas_resize(prev, c->w, c->h);
   memcpy(prev->cells, c->cells, (size_t)c->w * (size_t)c->h * sizeof(Cell));
}

static void base64(const char* in, size_t n, char* out) {
   static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
   size_t o = 0;
   for (size_t i = 0; i < n; i += 3) {
      uint32_t v = (uint32_t)(unsigned char)in[i] << 16;
      if (i + 1 < n) v |= (uint32_t)(unsigned char)in[i + 1] << 8;
      if (i + 2 < n) v |= (unsigned char)in[i + 2];
      out[o++] = tbl[(v >> 18) & 63];
      out[o++] = tbl[(v >> 12) & 63];
      out[o++] = i + 1 < n ? tbl[(v >> 6) & 63] : '=';
      out[o++] = i + 2 < n ? tbl[v & 63] : '=';
   }
   out[o] = '\0';
}

/* OSC 52: the terminal (or tmux with set-clipboard, or ssh's local terminal) sets its clipboard. */
static void send_clipboard(const char* text) {
   size_t n = strlen(text);
   if (n > 100000) n = 100000;
   char* b = xmalloc(n / 3 * 4 + 8);
   base64(text, n, b);
   char* seq = xasprintf("\033]52;c;%s\a", b);
   term_write(seq, strlen(seq));
   free(seq);
   free(b);
}

static void apply_size(uv_timer_t* timer) {
   Tui* t = timer->data;
   sup_resize(t->sup, (unsigned short)t->pane_cols, (unsigned short)t->pane_rows);
}

/* The children's terminal size follows the Processes view's pane, debounced: zoom, sidebar and
 * terminal resizes settle for RESIZE_MS first, then one command gives every child (emulator
 * first, then the PTY: SIGWINCH once) and its later runs the new size. Every child's pane has that
 * size (selecting another never resizes one), so none needs a size of its own (sup_resize_proc).
 * The first size applies at once, before any child starts. */
static void sync_pane_size(Tui* t) {
   int cols, rows;
   view_term_size(&t->view, &cols, &rows);
   if (cols == t->pane_cols && rows == t->pane_rows) return;
   bool first = t->pane_cols == 0;
   t->pane_cols = cols;
   t->pane_rows = rows;
   if (first)
      sup_resize(t->sup, (unsigned short)cols, (unsigned short)rows);
   else
      uv_timer_start(&t->size_timer, apply_size, RESIZE_MS, 0);
}

/* In input mode the terminal's own cursor stands where the child's is (its shape and blinking as
 * the user set them); elsewhere it stays hidden. */
static void place_cursor(Tui* t) {
   bool show = t->view.cursor_x >= 0;
   if (show != t->cursor_shown) {
      leaveok(stdscr, show ? FALSE : TRUE);
      curs_set(show ? 1 : 0);
      t->cursor_shown = show;
   }
   if (show) wmove(stdscr, t->view.cursor_y, t->view.cursor_x);
}

static void save_done(void* ud) {
   schedule_frame(ud); /* the status line says where */
}

static void draw_frame(Tui* t) {
   TraceFrame tf = {.start = util_mono_ns()};
   t->last_frame_ns = tf.start;
   t->frame_tat = tui_frame_tat(t->frame_tat, tf.start);
   rcu_read_lock();
   view_sync(&t->view);
   bool more = view_tick(&t->view);
   view_draw(&t->view, &t->cur);
   rcu_read_unlock();
   if (trace_on) tf.drawn = util_mono_ns();
   tui_blit(&t->cur, &t->prev, t->full_redraw);
   t->full_redraw = false;
   place_cursor(t);
   if (trace_on) tf.blitted = util_mono_ns();
   wnoutrefresh(stdscr);
   doupdate();
   if (trace_on) {
      tf.refreshed = util_mono_ns();
      trace_frame(&tf);
   }
   if (t->view.copy) {
      send_clipboard(t->view.copy);
      free(t->view.copy);
      t->view.copy = NULL;
   }
   if (t->view.save) save_start(&t->view, t->loop, ".", save_done, t);
   if (t->notify.len) {
      term_write(t->notify.out, t->notify.len);
      notify_done(&t->notify);
   }
   sync_pane_size(t);
   if (more) schedule_frame(t);
}

static void on_frame(uv_timer_t* timer) {
   Tui* t = timer->data;
   t->frame_pending = false;
   draw_frame(t);
}

/* The pace is a token bucket (GCRA): each frame moves the clock FRAME_NS on from the later of
 * itself and the clock; a frame may come once the clock is less than FRAME_BURST - 1 periods
 * ahead, and at least KEY_FRAME_NS after the last one. A flood gets one frame per FRAME_NS (and
 * FRAME_BURST at its start); after a quiet spell the first frames come at once: a script's
 * first line right after the first frames (the process list, its state going to running), a
 * process's answer right after the key's frame that asked for it. Key frames are not held
 * back by the pace, so the clock stops FRAME_BURST periods ahead of a frame: after a mouse drag
 * the output's next frame is FRAME_NS after the drag's last, not a period per drag frame. */
uint64_t tui_frame_tat(uint64_t tat_ns, uint64_t frame_ns) {
   uint64_t tat = (tat_ns > frame_ns ? tat_ns : frame_ns) + FRAME_NS;
   uint64_t most = frame_ns + FRAME_BURST * FRAME_NS;
   return tat < most ? tat : most;
}

uint64_t tui_frame_due(uint64_t last_ns, uint64_t tat_ns) {
   const uint64_t burst = (FRAME_BURST - 1) * FRAME_NS;
   uint64_t paced = tat_ns > burst ? tat_ns - burst : 0, soonest = last_ns + KEY_FRAME_NS;
   return paced > soonest ? paced : soonest;
}

/* A frame soon, but not sooner than tui_frame_due (coalesces floods). */
static void schedule_frame(Tui* t) {
   if (t->frame_pending || t->stopped) return;
   uint64_t now = util_mono_ns();
   uint64_t due = tui_frame_due(t->last_frame_ns, t->frame_tat);
   uint64_t delay_ms = due > now ? (due - now + 999999) / 1000000 : 0;
   t->frame_pending = true;
   uv_timer_start(&t->frame, on_frame, delay_ms, 0);
}

/* A key's frame: at once, not at the flood's next paced slot, which would add up to FRAME_NS to
 * every key while a shown pane prints (bench/key_flood measured p95 15 ms of 16 waiting there).
 * Only within KEY_FRAME_NS of the previous key's frame does it wait for that moment: that bounds
 * the frames a stream of input events (a paste, a mouse drag) can cause, whatever the output does.
 * The next output frame is paced from this one, so a flood still gets at most one frame per
 * FRAME_NS of its own. */
static void key_frame(Tui* t) {
   if (t->stopped) return;
   uint64_t now = util_mono_ns();
   uint64_t due = t->last_key_frame_ns + KEY_FRAME_NS;
   if (now >= due) {
      if (t->frame_pending) uv_timer_stop(&t->frame);
      t->frame_pending = false;
      t->last_key_frame_ns = now;
      draw_frame(t);
      return;
   }
   t->frame_pending = true; /* replaces a later paced frame, if one was pending */
   t->last_key_frame_ns = due;
   uv_timer_start(&t->frame, on_frame, (due - now + 999999) / 1000000, 0);
}

/* ---------------------------------------------------------------- quitting */

static void check_quit(Tui* t) {
   bool finished = sup_finished(t->sup);
   /* The control socket's quit ends the supervisor without a key: then the UI ends with it. */
   if ((t->view.quit || finished) && !t->quit_sent) {
      t->quit_sent = true;
      if (t->filter) filter_set(t->filter, NULL, 0);
      if (!finished) sup_quit(t->sup);
   }
   if (finished && !t->stopped) {
      t->stopped = true;
      uv_stop(t->loop);
   }
}

/* ---------------------------------------------------------------- input */

static void on_input(uv_poll_t* h, int status, int events) {
   (void)status;
   (void)events;
   Tui* t = h->data;
   uint64_t read_ns = trace_on ? util_mono_ns() : 0;
   bool changed = input_read(&t->view, read_ns);
   if (t->view.mouse_off != t->mouse_off) { /* M */
      t->mouse_off = t->view.mouse_off;
      mouse_capture(!t->mouse_off);
   }
   check_quit(t);
   if (changed || t->view.quit) key_frame(t);
}

static void on_notice_timer(uv_timer_t* timer) {
   Tui* t = timer->data;
   if (strcmp(t->view.msg, t->notice) != 0) return; /* another message replaced it */
   t->view.msg[0] = '\0';
   schedule_frame(t);
}

/* A newer notice from the control socket ("mcp: restarted dev") becomes the status line's
 * message, until the next key or NOTICE_MS. */
static void show_notice(Tui* t) {
   bool fresh = false;
   rcu_read_lock();
   const SupNotice* n = sup_notice_read(t->sup);
   if (n && n->seq > t->notice_seq) {
      t->notice_seq = n->seq;
      snprintf(t->notice, sizeof t->notice, "%s", n->text);
      fresh = true;
   }
   rcu_read_unlock();
   if (!fresh) return;
   snprintf(t->view.msg, sizeof t->view.msg, "%s", t->notice);
   t->view.msg_error = false;
   uv_timer_start(&t->notice_timer, on_notice_timer, NOTICE_MS, 0);
}

static void on_wake(uv_async_t* a) {
   Tui* t = a->data;
   if (t->filter) filter_poke(t->filter);
   show_notice(t);
   rcu_read_lock();
   notify_poll(&t->notify, &t->view);
   rcu_read_unlock();
   check_quit(t);
   schedule_frame(t);
}

static void wake_cb(void* ud) {
   uv_async_send(ud);
}

static void resize_now(Tui* t) {
   struct winsize ws;
   if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col && ws.ws_row) {
      resize_term(ws.ws_row, ws.ws_col);
   }
   view_resize(&t->view, COLS, LINES);
   t->full_redraw = true;
   clearok(curscr, TRUE);
}

static void on_signal(uv_signal_t* s, int signum) {
   Tui* t = s->data;
   if (signum == SIGWINCH) {
      resize_now(t);
      schedule_frame(t);
      return;
   }
   util_log("received signal %d: stopping every process", signum);
   t->view.confirm_quit = false;
   t->view.quit = true;
   check_quit(t);
   schedule_frame(t);
}

static void on_url_exit(uv_process_t* p, int64_t status, int sig) {
   (void)status;
   (void)sig;
   uv_close((uv_handle_t*)p, (uv_close_cb)free);
}

static void open_url(const char* url) {
   const char* browser = getenv("BROWSER");
   char* argv[3] = {(char*)(browser && *browser ? browser : "xdg-open"), (char*)url, NULL};
   uv_process_t* p = xcalloc(1, sizeof *p);
   uv_stdio_container_t io[3] = {{.flags = UV_IGNORE}, {.flags = UV_IGNORE}, {.flags = UV_IGNORE}};
   uv_process_options_t o = {
       .file = argv[0], .args = argv, .stdio_count = 3, .stdio = io, .flags = UV_PROCESS_DETACHED};
   o.exit_cb = on_url_exit;
   int err = uv_spawn(uv_default_loop(), p, &o);
   if (err < 0) {
      util_log("cannot open %s with %s: %s", url, argv[0], uv_strerror(err));
      uv_close((uv_handle_t*)p, (uv_close_cb)free);
   }
}

/* ---------------------------------------------------------------- setup */

/* Raw mode, the crash handlers that put the terminal back, curses. */
static void terminal_start(void) {
   if (tcgetattr(STDIN_FILENO, &saved_tio) == 0) tio_saved = true;
   util_set_fatal_hook(restore_terminal_raw);
   signal(SIGSEGV, on_crash);
   signal(SIGBUS, on_crash);
   signal(SIGFPE, on_crash);
   signal(SIGILL, on_crash);
   signal(SIGABRT, on_crash);
   signal(SIGPIPE, SIG_IGN);

   set_escdelay(25);
   initscr();
   raw();
   noecho();
   nonl();
   keypad(stdscr, TRUE);
   nodelay(stdscr, TRUE);
   leaveok(stdscr, TRUE);
   curs_set(0);
   mouseinterval(0);
   mouse_capture(true);
   theme_curses_init();
   termkey_init();
}

static void view_start(Tui* t, const Project* prj, char* warning /* owned */) {
   const char* cs = nl_langinfo(CODESET);
   view_init(&t->view, t->sup, t->filter, prj, t->theme);
   t->view.ascii = !(cs && (strcmp(cs, "UTF-8") == 0 || strcmp(cs, "utf8") == 0));
   ascii_terminal = t->view.ascii;
   t->view.open_url = open_url;
   if (warning) {
      snprintf(t->view.msg, sizeof t->view.msg, "%s", warning);
      t->view.msg_error = true;
      free(warning);
   }
}

/* What starts at launch starts; the first of them the sidebar lists is selected, else the first
 * process it lists. */
static void start_named(Tui* t, const Project* prj, const TuiConfig* o) {
   bool chosen = false;
   rcu_read_lock();
   for (size_t i = 0; i < o->nruns; i++) {
      const Script* s = pkg_find(prj, o->runs[i]); /* as the command line means it */
      if (!s) continue;
      size_t k = (size_t)(s - prj->scripts);
      sup_start(t->sup, k);
      if (!chosen && !s->hidden) view_select_first(&t->view, k), chosen = true;
   }
   if (!chosen) view_select_first(&t->view, UINT64_MAX);
   rcu_read_unlock();
}

static char* exe_dir(void) {
   char buf[4096];
   ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
   if (n <= 0) return NULL;
   buf[n] = '\0';
   char* slash = strrchr(buf, '/');
   if (slash) *slash = '\0';
   return xstrdup(buf);
}

static Theme* load_theme(const TuiConfig* o, char** warning) {
   const char* name = o->theme ? o->theme : theme_default_name();
   const char* nc = getenv("NO_COLOR");
   if (nc && *nc) name = "mono";
   char* dir = exe_dir();
   Theme* th = NULL;
   char* cause = NULL;
   if (theme_load(name, dir, &th, &cause) < 0) {
      *warning = xasprintf("theme: %s (using the default theme)", cause);
      free(cause);
      th = theme_builtin("default");
   }
   free(dir);
   return th;
}

static void on_close_noop(uv_handle_t* h) {
   (void)h;
}

/* initscr exits with ncurses' bare "Error opening terminal" (status 1) for a TERM it cannot use,
 * and draws garbage on one that cannot move the cursor (dumb): check first and say what to do. */
static int check_terminal(void) {
   const char* term = getenv("TERM");
   if (!term || !*term) {
      fprintf(stderr, "brum: TERM is not set: set it to your terminal's type (e.g. "
                      "TERM=xterm-256color), or use --headless SCRIPT...\n");
      return -EINVAL;
   }
   int err = 0;
   if (setupterm(NULL, STDOUT_FILENO, &err) != OK) {
      if (err == -1)
         fprintf(stderr,
                 "brum: no terminfo database found for TERM=%s: install ncurses' "
                 "terminal descriptions, or use --headless SCRIPT...\n",
                 term);
      else
         fprintf(stderr,
                 "brum: the terminal type TERM=%s is unknown here: set TERM to one this "
                 "system knows (e.g. xterm-256color; toe -a lists them), or use "
                 "--headless SCRIPT...\n",
                 term);
      return -EINVAL;
   }
   const char* cup = tigetstr("cup");
   bool usable = cup && cup != (char*)-1 && tigetflag("hc") <= 0 && tigetflag("gn") <= 0;
   del_curterm(cur_term);
   if (!usable) {
      fprintf(stderr,
              "brum: the terminal UI needs a terminal that can move the cursor, and "
              "TERM=%s cannot; set TERM to your terminal's type, or use --headless "
              "SCRIPT... for pipes and CI\n",
              term);
      return -EINVAL;
   }
   return 0;
}

/* The UI's libuv handles, before curses starts. Returns 0, or -1 after saying what failed. */
static int handles_init(Tui* t) {
   int err;
   /* uv_poll_init makes stdin non-blocking: remember its flags first */
   saved_fl = fcntl(STDIN_FILENO, F_GETFL);
   if ((err = uv_async_init(t->loop, &t->wake, on_wake)) < 0)
      return util_report("cannot create a wakeup handle", err), -1;
   t->wake_ok = true;
   t->wake.data = t;
   if ((err = uv_poll_init(t->loop, &t->input, STDIN_FILENO)) < 0)
      return util_report("cannot watch the terminal", err), -1;
   t->input_ok = true;
   t->input.data = t;
   uv_timer_init(t->loop, &t->frame); /* cannot fail: no descriptor */
   t->frame.data = t;
   uv_timer_init(t->loop, &t->notice_timer);
   t->notice_timer.data = t;
   uv_timer_init(t->loop, &t->size_timer);
   t->size_timer.data = t;
   for (; t->nsigs < ARRAY_LEN(t->sigs); t->nsigs++) {
      if ((err = uv_signal_init(t->loop, &t->sigs[t->nsigs])) < 0)
         return util_report("cannot watch signals", err), -1;
      t->sigs[t->nsigs].data = t;
   }
   return 0;
}

/* Closes every handle handles_init made (after the loop ended, or after a failed start). */
static void handles_close(Tui* t) {
   if (t->input_ok) uv_close((uv_handle_t*)&t->input, on_close_noop);
   if (t->wake_ok) uv_close((uv_handle_t*)&t->wake, on_close_noop);
   if (t->input_ok) uv_close((uv_handle_t*)&t->frame, on_close_noop);
   if (t->input_ok) uv_close((uv_handle_t*)&t->notice_timer, on_close_noop);
   if (t->input_ok) uv_close((uv_handle_t*)&t->size_timer, on_close_noop);
   for (size_t i = 0; i < t->nsigs; i++) uv_close((uv_handle_t*)&t->sigs[i], on_close_noop);
   uv_run(t->loop, UV_RUN_DEFAULT);
   /* the shell after us shares the tty's open file: O_NONBLOCK left on breaks its reads */
   if (saved_fl >= 0) fcntl(STDIN_FILENO, F_SETFL, saved_fl);
}

/* The supervisor with every process registered, and the filter worker. */
static int workers_start(Tui* t, const TuiConfig* o) {
   SupConfig cfg = o->sup;
   cfg.wake = wake_cb;
   cfg.wake_ud = &t->wake;
   char* cause = NULL;
   if (sup_new(&cfg, &t->sup, &cause) < 0) goto fail;
   sup_add_begin(t->sup);
   o->add_processes(t->sup, o->ud);
   sup_add_end(t->sup);
   if (filter_new(t->sup, wake_cb, &t->wake, &t->filter, &cause) < 0) {
      sup_free(t->sup);
      t->sup = NULL;
      goto fail;
   }
   return 0;
fail:
   fprintf(stderr, "brum: %s\n", cause);
   free(cause);
   return -1;
}

/* The control socket, once the processes are registered. Without it brum runs on: the reason
 * goes to the log and, returned (heap), to the status line. */
static char* ctl_start(Tui* t, const TuiConfig* o) {
   char* cause = NULL;
   if (!o->ctl || ctl_server_start(t->sup, o->ctl, &t->ctl, &cause) == 0) return NULL;
   util_log("no control socket: %s", cause);
   char* msg = xasprintf("no control socket: %s", cause);
   free(cause);
   return msg;
}

static const int signums[] = {SIGWINCH, SIGTERM, SIGHUP, SIGINT};

int tui_run(const Project* prj, const TuiConfig* o) {
   if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
      fprintf(stderr, "brum: the terminal UI needs a terminal; use --headless SCRIPT... for "
                      "pipes and CI\n");
      return 2;
   }
   if (check_terminal() < 0) return 2;
   Tui t = {0};
   t.loop = uv_default_loop();
   if (!t.loop) return util_report("cannot create the event loop", -EMFILE), 2;
   if (handles_init(&t) < 0 || workers_start(&t, o) < 0) {
      handles_close(&t);
      return 2;
   }
   char* theme_warning = NULL;
   t.theme = load_theme(o, &theme_warning);
   char* ctl_warning = ctl_start(&t, o);

   trace_open();
   terminal_start();
   view_start(&t, prj, theme_warning ? theme_warning : ctl_warning);
   if (o->prefix_key) t.view.prefix = o->prefix_key;
   t.view.real_cursor = true;
   notify_init(&t.notify, o->notify, prj->name);
   if (theme_warning) free(ctl_warning);
   view_resize(&t.view, COLS, LINES);
   sync_pane_size(&t);
   start_named(&t, prj, o);

   uv_poll_start(&t.input, UV_READABLE, on_input);
   for (size_t i = 0; i < ARRAY_LEN(signums); i++)
      uv_signal_start(&t.sigs[i], on_signal, signums[i]);
   if (o->filter) { /* --filter: the selected process's pane starts filtered */
      rcu_read_lock();
      view_set_filter(&t.view, o->filter);
      rcu_read_unlock();
   }
   t.full_redraw = true;
   draw_frame(&t);

   uv_run(t.loop, UV_RUN_DEFAULT);

   /* the supervisor has stopped every child; put the terminal back */
   endwin();
   term_puts("\033[?1002l"); /* endwin turned off only what curses turned on */
   trace_close();
   util_set_fatal_hook(NULL);
   uv_poll_stop(&t.input);
   handles_close(&t);
   ctl_server_stop(t.ctl); /* its reads of the supervisor's data end before sup_free */
   filter_free(t.filter);
   view_done(&t.view);
   notify_done(&t.notify);
   sup_free(t.sup);
   canvas_free(&t.cur);
   canvas_free(&t.prev);
   theme_free(t.theme);
   return 0;
}
