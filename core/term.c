/* One process's emulated terminal: the raw-output tail every running child keeps, and the libvterm
 * emulator that exists only while needed (the UI wants the screen, the child is on the alternate
 * screen, or it is configured interactive). The emulator is built by replaying the tail, fed from
 * it with a budget per loop turn (the tail is its backlog), and its screen is published as an
 * immutable TermScreen (RCU) built from the previous one plus the rows libvterm damaged.
 *
 * After a run ends its last screen stays published (the user sees what an exited full-screen
 * program left) until the next run starts or the emulator is dropped for being unneeded.
 * Supervisor thread only, except term_init and term_free (see sup.c). */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

#include "core/style.h"
#include "core/term_int.h"
#include "core/util.h"

static void term_drop(Proc* p);

/* The state is made at a process's first run (or first want or size): an idle process costs one
 * pointer. */
static TermState* term_state(Proc* p) {
   if (!p->term) {
      p->term = xcalloc(1, sizeof *p->term);
      p->term->in_fd = -1;
   }
   return p->term;
}

static uint64_t now_ns(void) {
   struct timespec ts;
   clock_gettime(CLOCK_MONOTONIC, &ts);
   return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint16_t term_cols(const Proc* p) {
   const TermState* t = p->term;
   uint16_t c = t && t->own_cols ? t->own_cols : p->sup->cfg.cols;
   return c ? c : 80;
}

uint16_t term_rows(const Proc* p) {
   const TermState* t = p->term;
   uint16_t r = t && t->own_rows ? t->own_rows : p->sup->cfg.rows;
   return r ? r : 24;
}

static bool term_has_own_size(const Proc* p) {
   return p->term && p->term->own_cols != 0;
}

/* ---------------------------------------------------------------- screen snapshots */

static void screen_free_rcu(struct rcu_head* h) {
   free(caa_container_of(h, TermScreen, rcu));
}

static void screen_swap(Proc* p, TermScreen* next) {
   TermScreen* old = rcu_swap(&p->slot.screen, next);
   if (old) call_rcu(&old->rcu, screen_free_rcu);
   sup_wake(p->sup);
}

static uint32_t map_color(const VTermColor* c, bool fg) {
   if (fg ? VTERM_COLOR_IS_DEFAULT_FG(c) : VTERM_COLOR_IS_DEFAULT_BG(c)) return COLOR_DEFAULT;
   if (VTERM_COLOR_IS_INDEXED(c)) return COLOR_INDEX(c->indexed.idx);
   return COLOR_RGB(c->rgb.red, c->rgb.green, c->rgb.blue);
}

void term_read_row(VTermScreen* vs, TermCell* row, int r, int cols) {
   bool right_half = false;
   for (int c = 0; c < cols; c++) {
      VTermScreenCell vc;
      TermCell* tc = &row[c];
      memset(tc, 0, sizeof *tc);
      if (right_half || !vterm_screen_get_cell(vs, (VTermPos){.row = r, .col = c}, &vc)) {
         right_half = false; /* the second column of a wide character: no cell of its own */
         if (c > 0) tc->fg = row[c - 1].fg, tc->bg = row[c - 1].bg, tc->attr = row[c - 1].attr;
         continue;
      }
      tc->ch = vc.chars[0] == (uint32_t)-1 ? 0 : vc.chars[0];
      tc->width = vc.width == 2 ? 2 : 1;
      right_half = vc.width == 2;
      tc->fg = map_color(&vc.fg, true);
      tc->bg = map_color(&vc.bg, false);
      uint16_t a = 0;
      if (vc.attrs.bold) a |= ATTR_BOLD;
      if (vc.attrs.italic) a |= ATTR_ITALIC;
      if (vc.attrs.underline) a |= ATTR_UNDERLINE;
      if (vc.attrs.blink) a |= ATTR_BLINK;
      if (vc.attrs.reverse) a |= ATTR_REVERSE;
      if (vc.attrs.strike) a |= ATTR_STRIKE;
      tc->attr = a;
   }
}

/* The previous snapshot's cells, then the damaged rows read again. */
static TermScreen* screen_build(Proc* p) {
   TermState* t = p->term;
   size_t ncells = (size_t)t->rows * t->cols;
   TermScreen* ts = xmalloc(sizeof *ts + ncells * sizeof(TermCell));
   const TermScreen* prev = rcu_read(&p->slot.screen);
   bool reuse = prev && prev->rows == t->rows && prev->cols == t->cols;
   if (reuse) memcpy(ts->cells, prev->cells, ncells * sizeof(TermCell));
   for (int r = 0; r < t->rows; r++)
      if (!reuse || t->dirty[r]) term_read_row(t->vs, ts->cells + (size_t)r * t->cols, r, t->cols);
   memset(t->dirty, 0, t->rows);
   t->any_dirty = false;
   VTermPos cur;
   vterm_state_get_cursorpos(vterm_obtain_state(t->vt), &cur);
   ts->seq = prev ? prev->seq + 1 : 1;
   ts->cols = t->cols;
   ts->rows = t->rows;
   ts->cur_row = (uint16_t)(cur.row < 0 ? 0 : cur.row);
   ts->cur_col = (uint16_t)(cur.col < 0 ? 0 : cur.col);
   ts->cursor_visible = t->cursor_visible;
   ts->altscreen = t->vt_alt;
   return ts;
}

static void on_tick(uv_timer_t* h);

/* Publishes at most every TERM_FRAME_MS: damage in between waits for the tick. */
void term_publish(Proc* p, bool now) {
   TermState* t = p->term;
   if (!t->vt) return;
   vterm_screen_flush_damage(t->vs); /* libvterm holds the cursor row's damage until a flush */
   if (!t->any_dirty && rcu_read(&p->slot.screen)) return;
   uint64_t ms = util_now_ms();
   if (!now && ms - t->pub_ms < TERM_FRAME_MS) {
      if (t->tick && !uv_is_active((uv_handle_t*)t->tick))
         proc_timer_start(p, t->tick, on_tick, TERM_FRAME_MS - (ms - t->pub_ms), 0);
      return;
   }
   t->pub_ms = ms;
   screen_swap(p, screen_build(p));
}

/* ---------------------------------------------------------------- libvterm callbacks */

static int on_damage(VTermRect r, void* ud) {
   TermState* t = ((Proc*)ud)->term;
   for (int i = r.start_row; i < r.end_row && i < t->rows; i++)
      if (i >= 0) t->dirty[i] = 1;
   t->any_dirty = true;
   return 1;
}

static int on_movecursor(VTermPos pos, VTermPos old, int visible, void* ud) {
   (void)pos, (void)old, (void)visible;
   ((Proc*)ud)->term->any_dirty = true; /* a snapshot carries the cursor */
   return 1;
}

static int on_termprop(VTermProp prop, VTermValue* val, void* ud) {
   Proc* p = ud;
   TermState* t = p->term;
   switch (prop) {
   case VTERM_PROP_CURSORVISIBLE:
      t->cursor_visible = val->boolean;
      break;
   case VTERM_PROP_ALTSCREEN:
      t->vt_alt = val->boolean; /* evaluated after the feed (never inside libvterm's call) */
      break;
   default:
      return 1;
   }
   t->any_dirty = true;
   return 1;
}

/* libvterm's answers to queries and its key encodings go to the child; during a replay the
 * queries were already answered (by the parser, or by an earlier emulator). */
static void on_vt_output(const char* s, size_t len, void* ud) {
   Proc* p = ud;
   if (!p->term->replaying) term_write(p, s, len);
}

/* ---------------------------------------------------------------- modes */

/* The parser's tracking (which also fills ProcSnap.term_modes, core/proclog.c), and the
 * emulator's own alternate screen where it has one (it lags the parser by the backlog). */
static unsigned current_modes(const Proc* p) {
   const TermState* t = p->term;
   unsigned m = p->parser ? ansi_modes(p->parser) : 0;
   if (t->vt && t->vt_alt) m |= TERM_MODE_ALTSCREEN;
   return m;
}

/* ---------------------------------------------------------------- emulator */

static const VTermScreenCallbacks screen_cbs = {
    .damage = on_damage, .movecursor = on_movecursor, .settermprop = on_termprop};

static void vt_open(Proc* p) {
   TermState* t = p->term;
   t->rows = term_rows(p);
   t->cols = term_cols(p);
   t->vt = vterm_new(t->rows, t->cols);
   if (!t->vt) {
      util_log("%s: cannot create a terminal emulator", p->slot.name);
      abort(); /* libvterm returns NULL only when out of memory */
   }
   vterm_set_utf8(t->vt, 1);
   vterm_output_set_callback(t->vt, on_vt_output, p);
   t->vs = vterm_obtain_screen(t->vt);
   vterm_screen_set_callbacks(t->vs, &screen_cbs, p);
   vterm_screen_enable_altscreen(t->vs, 1);
   vterm_screen_set_damage_merge(t->vs, VTERM_DAMAGE_ROW);
   t->dirty = xcalloc(t->rows, 1);
   t->cursor_visible = true;
   t->vt_alt = false;
   t->replaying = true; /* the reset's callbacks are no news */
   vterm_screen_reset(t->vs, 1);
   t->replaying = false;
   if (p->parser) ansi_set_answer(p->parser, false); /* the emulator answers from now on */
}

static void vt_close(Proc* p) {
   TermState* t = p->term;
   if (!t->vt) return;
   vterm_free(t->vt);
   t->vt = NULL;
   t->vs = NULL;
   free(t->dirty);
   t->dirty = NULL;
   t->vt_alt = false;
   /* the modes moved on while the emulator had them: the next full-screen session must be seen */
   t->parser_modes = p->parser ? ansi_modes(p->parser) : 0;
   if (p->parser) ansi_set_answer(p->parser, true);
}

/* The oldest byte the tail still holds for this run. When older output is lost, start at a line
 * end or an escape there, so the replay does not begin inside an escape sequence. Returns whether
 * output was lost (the screen may be incomplete: force a redraw). */
static bool replay_start(TermState* t, uint64_t* from) {
   uint64_t oldest = t->total > TERM_RING ? t->total - TERM_RING : 0;
   if (t->run_from >= oldest) {
      *from = t->run_from;
      return false;
   }
   /* after a line end, or at an escape sequence's start (full-screen programs print no line
    * ends), whichever comes first */
   uint64_t o = oldest;
   while (o < t->total && t->ring[o % TERM_RING] != '\n' && t->ring[o % TERM_RING] != '\x1b') o++;
   *from = o < t->total && t->ring[o % TERM_RING] == '\n' ? o + 1 : o;
   return true;
}

/* Shrinks the PTY by a row now and gives the row back on the next tick: a full-screen program
 * redraws everything on SIGWINCH, which rebuilds a screen the tail could not. */
static void force_redraw(Proc* p) {
   TermState* t = p->term;
   if (p->out_fd < 0 || !p->sup->cfg.use_pty || !proc_active(p) || t->rows < 2) return;
   struct winsize ws = {.ws_row = (unsigned short)(t->rows - 1), .ws_col = t->cols};
   ioctl(p->out_fd, TIOCSWINSZ, &ws);
   t->restore_size = true;
   if (t->tick) proc_timer_start(p, t->tick, on_tick, 50, 0);
}

static void feed_range(Proc* p, uint64_t to) {
   TermState* t = p->term;
   while (t->fed < to) {
      size_t off = (size_t)(t->fed % TERM_RING);
      size_t n = TERM_RING - off;
      if (n > to - t->fed) n = (size_t)(to - t->fed);
      vterm_input_write(t->vt, t->ring + off, n);
      t->fed += n;
   }
}

/* A new emulator from the tail; what it writes back meanwhile is dropped. */
static void vt_create(Proc* p) {
   TermState* t = p->term;
   vt_open(p);
   uint64_t from = t->total;
   bool lost = t->ring && replay_start(t, &from);
   t->fed = from;
   t->replaying = true;
   if (t->ring) feed_range(p, t->total);
   t->replaying = false;
   memset(t->dirty, 1, t->rows);
   t->any_dirty = true;
   if (lost && t->vt_alt) force_redraw(p);
   term_publish(p, true);
}

/* The backlog outgrew the tail: what the emulator has not seen is gone. Start again from what
 * is left, and have the program redraw. */
static void vt_overflow(Proc* p) {
   TermState* t = p->term;
   bool alt = t->vt_alt;
   util_log("%s: the emulator fell %" PRIu64 " bytes behind: reset, redraw asked", p->slot.name,
            t->total - t->fed);
   vt_close(p);
   vt_create(p);
   if (alt || t->vt_alt) force_redraw(p);
}

/* Feeds the backlog within this turn's budget; the tick continues it on the next turn. */
static void vt_feed(Proc* p) {
   TermState* t = p->term;
   if (!t->vt || t->fed == t->total) return;
   if (t->total - t->fed > TERM_RING) {
      vt_overflow(p);
      return;
   }
   uint64_t start = now_ns(), budget = TERM_FEED_BYTES;
   while (t->fed < t->total && budget) {
      uint64_t to = t->fed + (t->total - t->fed < 16384 ? t->total - t->fed : 16384);
      budget -= budget < to - t->fed ? budget : to - t->fed;
      feed_range(p, to);
      if (now_ns() - start > TERM_FEED_NS) break;
   }
   /* (an armed tick, e.g. force_redraw's size restore, continues the feed when it fires) */
   if (t->fed < t->total && t->tick && !uv_is_active((uv_handle_t*)t->tick))
      proc_timer_start(p, t->tick, on_tick, 0, 0);
   term_publish(p, false);
   term_evaluate(p); /* the emulator left the alternate screen: maybe no longer needed */
}

static void on_tick(uv_timer_t* h) {
   Proc* p = h->data;
   TermState* t = p->term;
   if (t->restore_size) {
      t->restore_size = false;
      struct winsize ws = {.ws_row = t->rows, .ws_col = t->cols};
      if (p->out_fd >= 0 && p->sup->cfg.use_pty) ioctl(p->out_fd, TIOCSWINSZ, &ws);
   }
   vt_feed(p);
   term_publish(p, false);
}

static void on_idle(uv_timer_t* h) {
   term_drop(h->data); /* unless it is needed again */
}

static bool needed(const Proc* p) {
   const TermState* t = p->term;
   if (p->sup->cfg.no_screens) return false;
   return t->want || (current_modes(p) & TERM_MODE_ALTSCREEN) || (p->interactive && proc_active(p));
}

/* Drops an emulator that nobody needed for TERM_IDLE_MS; its screen goes with it. */
static void term_drop(Proc* p) {
   if (needed(p)) return;
   vt_close(p);
   screen_swap(p, NULL);
}

static void ensure_timers(Proc* p);

void term_evaluate(Proc* p) {
   TermState* t = p->term;
   if (!t) return;
   ensure_timers(p);
   if (needed(p)) {
      if (t->idle) uv_timer_stop(t->idle);
      if (!t->vt) vt_create(p);
      return;
   }
   if (t->vt && t->idle && !uv_is_active((uv_handle_t*)t->idle))
      proc_timer_start(p, t->idle, on_idle, TERM_IDLE_MS, 0);
}

/* ---------------------------------------------------------------- the process's side */

void term_catch_up(Proc* p) {
   TermState* t = p->term;
   if (!t || !t->vt) return;
   if (t->total - t->fed > TERM_RING) {
      vt_overflow(p);
      return;
   }
   feed_range(p, t->total);
   term_publish(p, true);
}

bool term_backlogged(const Proc* p) {
   const TermState* t = p->term;
   return t && t->vt && t->total - t->fed >= TERM_RING / 2;
}

void term_poll_modes(Proc* p) {
   TermState* t = p->term;
   if (!t) return;
   unsigned m = p->parser ? ansi_modes(p->parser) : 0;
   if (m != t->parser_modes) {
      t->parser_modes = m;
      term_evaluate(p);
   }
}

void term_output(Proc* p, const char* buf, size_t n) {
   TermState* t = term_state(p);
   if (!t->ring) t->ring = xmalloc(TERM_RING);
   if (n > TERM_RING) { /* only the last TERM_RING bytes can be kept */
      t->total += n - TERM_RING;
      buf += n - TERM_RING;
      n = TERM_RING;
   }
   size_t off = (size_t)(t->total % TERM_RING), first = TERM_RING - off;
   if (first > n) first = n;
   memcpy(t->ring + off, buf, first);
   memcpy(t->ring, buf + first, n - first);
   t->total += n;
   if (t->vt) { /* fed on the next loop turn, within that turn's budget */
      /* the next read could overwrite what the emulator has not seen (proc_read stops reading
       * at TERM_RING / 2 unfed, so this is the drain of an ended child): feed it now */
      if (t->total - t->fed > TERM_RING - READ_BUF) {
         feed_range(p, t->total);
         term_publish(p, false);
      } else if (t->tick && !uv_is_active((uv_handle_t*)t->tick))
         proc_timer_start(p, t->tick, on_tick, 0, 0);
      else if (!t->tick)
         vt_feed(p);
      return;
   }
   term_poll_modes(
       p); /* without an emulator the cost is this: is a full-screen program starting? */
}

void term_run_begin(Proc* p) {
   TermState* t = term_state(p);
   t->run_from = t->total;
   t->wq_warned = false;
   t->last_sent = 0;
   t->parser_modes = 0;
   if (t->vt) { /* a fresh terminal for the new run */
      vt_close(p);
      vt_create(p);
   } else if (rcu_read(&p->slot.screen)) {
      screen_swap(p, NULL);
   }
}

void term_launched(Proc* p) {
   term_evaluate(p); /* an interactive process gets its emulator */
}

void term_want(Proc* p, bool want) {
   TermState* t = term_state(p);
   if (want)
      t->want++;
   else if (t->want)
      t->want--;
   term_evaluate(p);
}

static void vt_resize(Proc* p) {
   TermState* t = p->term;
   uint16_t rows = term_rows(p), cols = term_cols(p);
   if (t->vt && (rows != t->rows || cols != t->cols)) {
      vt_feed(p); /* what was written for the old size first */
      free(t->dirty);
      t->dirty = xcalloc(rows, 1);
      t->rows = rows;
      t->cols = cols;
      vterm_set_size(t->vt, rows, cols);
      memset(t->dirty, 1, rows);
      t->any_dirty = true;
      term_publish(p, true);
   }
   struct winsize ws = {.ws_row = rows, .ws_col = cols};
   if (p->out_fd >= 0 && p->sup->cfg.use_pty) ioctl(p->out_fd, TIOCSWINSZ, &ws);
   if (p->parser) ansi_set_width(p->parser, cols);
}

void term_resize(Proc* p, uint16_t cols, uint16_t rows) {
   if (!cols || !rows) return;
   term_state(p);
   p->term->own_cols = cols;
   p->term->own_rows = rows;
   vt_resize(p);
}

void term_resize_default(Proc* p) {
   if (p->term && !term_has_own_size(p)) vt_resize(p);
}

/* ---------------------------------------------------------------- lifecycle */

void term_init(Proc* p, const SupLaunch* l) {
   p->interactive = l->interactive;
}

static void ensure_timers(Proc* p) {
   TermState* t = p->term;
   if (t->tick || atomic_load(&p->sup->finished)) return;
   t->tick = proc_new_timer(p);
   t->idle = proc_new_timer(p);
}

int* term_in_fd(Proc* p) {
   term_state(p);
   ensure_timers(p); /* first launch: the loop is running, the timers can be made */
   return &p->term->in_fd;
}

static void free_handle(uv_handle_t* h) {
   free(h);
}

void term_close(Proc* p) {
   TermState* t = p->term;
   if (!t) return;
   term_run_end(p);
   if (t->tick) {
      uv_close((uv_handle_t*)t->tick, free_handle);
      uv_close((uv_handle_t*)t->idle, free_handle);
      t->tick = t->idle = NULL;
   }
}

void term_free(Proc* p) {
   TermState* t = p->term;
   if (!t) return;
   vt_close(p);
   free(t->ring);
   term_io_free(t);
   free(p->slot.screen); /* no reader is left */
   free(t);
   p->term = NULL;
}
