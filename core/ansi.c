/* Output parser: a byte-level state machine after the VT500 parser (ground, ESC, CSI, OSC,
 * DCS/SOS/PM/APC strings) with a line model instead of a screen: the cursor is always at the end
 * of the current line, except right after `\r` (or CSI G), where the next text replaces the line.
 *
 * Long lines: when the line buffer holds LOGSTORE_MAX_LINE bytes (or LOGSTORE_MAX_RUNS runs)
 * and more text comes, the parser emits what it has as a line (cut at a UTF-8 boundary) and goes
 * on; ansi_line_continued() tells the sink, during the call, that a line continues the previous
 * one (store it with LINE_CONTINUED). The parser's memory stays bounded by those caps. */
#include "core/ansi.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ansi_sgr.h"
#include "core/logstore.h"
#include "core/term.h"
#include "core/util.h"

#define CSI_CAP 64u   /* an unterminated CSI longer than this is dropped */
#define STR_CAP 4096u /* same for OSC and DCS/SOS/PM/APC strings */
#define OSC_HEAD 16u  /* OSC bytes kept for recognising queries */
#define BUF_MIN 256u
#define HELD_MAX 1000u /* blank lines held back before a possible clear, at most */

/* DEC private modes tracked (CSI ? Pn h / l). The three mouse modes are kept apart so that
 * turning one off leaves TERM_MODE_MOUSE on while another is still set. */
enum {
   DM_ALT = 1u << 0,
   DM_APPCURSOR = 1u << 1,
   DM_PASTE = 1u << 2,
   DM_MOUSE1000 = 1u << 3,
   DM_MOUSE1002 = 1u << 4,
   DM_MOUSE1003 = 1u << 5,
   DM_MOUSE_SGR = 1u << 6,
};

enum { ST_GROUND, ST_ESC, ST_ESC_INTER, ST_CSI, ST_OSC, ST_OSC_ESC, ST_STR, ST_STR_ESC };

struct AnsiParser {
   AnsiSink sink;
   void* ud;  /* borrowed */
   char* buf; /* owned: the current line */
   uint32_t len, cap;
   StyleRun* runs; /* owned: runs of the current line, starts strictly increasing, all < len */
   uint32_t nruns, runs_cap;
   Style cur;  /* style in force */
   Style last; /* style of the last run of the line (default when none) */
   bool cr;    /* a bare `\r` was seen: the next text replaces the line */
   bool cont;  /* the next line emitted continues a cut one */
   bool emitting_cont;
   uint8_t state;
   bool answer;       /* answer queries (false: an emulator does) */
   bool alt;          /* on the alternate screen: text is not stored, the line above is kept */
   bool home;         /* the last thing seen was a cursor-home: an erase-down after it is a clear */
   bool cleared;      /* a clear was reported and no text came since (one clear per burst) */
   uint8_t dec;       /* DM_* in force */
   uint32_t held;     /* blank lines held back: dropped if a clear follows, else emitted */
   Style saved;       /* style in force when the alternate screen was entered */
   uint16_t width;    /* clamps the cursor column reported to ESC[6n */
   uint32_t seqlen;   /* bytes of the sequence in progress, for the caps */
   uint32_t seqn;     /* bytes kept in seq */
   char seq[CSI_CAP]; /* CSI parameters, or the head of an OSC */
};

/* 1 for bytes that end a run of plain text: C0 controls except TAB, and DEL. */
/* clang-format off */
static const uint8_t k_ctl[256] = {
   1, 1, 1, 1, 1, 1, 1, 1,  1, 0, 1, 1, 1, 1, 1, 1, /* 0x00-0x0f: TAB is text */
   1, 1, 1, 1, 1, 1, 1, 1,  1, 1, 1, 1, 1, 1, 1, 1, /* 0x10-0x1f */
   [0x7f] = 1,
};
/* clang-format on */

static bool style_eq(Style a, Style b) {
   return a.fg == b.fg && a.bg == b.bg && a.attr == b.attr;
}

static const Style k_default = {COLOR_DEFAULT, COLOR_DEFAULT, 0};

AnsiParser* ansi_new(const AnsiSink* sink, void* ud) {
   AnsiParser* p = xcalloc(1, sizeof *p);
   p->sink = *sink;
   p->ud = ud;
   p->cap = BUF_MIN;
   p->buf = xcalloc(p->cap, 1); /* zeroed, here and on growth: PCRE2's JIT reads ahead of a
                                   line's end within its page, which memcheck would report */
   p->width = 80;
   p->answer = true;
   return p;
}

void ansi_free(AnsiParser* p) {
   if (!p) return;
   free(p->buf);
   free(p->runs);
   free(p);
}

void ansi_set_width(AnsiParser* p, uint16_t cols) {
   p->width = cols ? cols : 80;
}

bool ansi_line_continued(const AnsiParser* p) {
   return p->emitting_cont;
}

Style ansi_style(const AnsiParser* p) {
   return p->cur;
}

void ansi_partial(const AnsiParser* p, const char** text, uint32_t* len, const StyleRun** runs,
                  uint16_t* nruns) {
   *text = p->len ? p->buf : NULL;
   *len = p->len;
   *runs = p->len && p->nruns ? p->runs : NULL;
   *nruns = p->len ? (uint16_t)p->nruns : 0;
}

/* ---------------------------------------------------------------- the line */

static void line_clear(AnsiParser* p) {
   p->len = 0;
   p->nruns = 0;
   p->last = k_default;
}

/* One blank line, straight to the sink (it does not touch a cut line's continuation). */
static void emit_blank(AnsiParser* p) {
   p->emitting_cont = false;
   p->sink.line(p->ud, p->buf, 0, NULL, 0);
}

/* Something other than a clear follows the held blank lines: they were real output. */
static void emit_held(AnsiParser* p) {
   for (; p->held; p->held--) emit_blank(p);
}

static void emit(AnsiParser* p, uint32_t len, bool continues) {
   p->emitting_cont = p->cont;
   p->sink.line(p->ud, p->buf, len, p->nruns ? p->runs : NULL, (uint16_t)p->nruns);
   p->emitting_cont = false;
   p->cont = continues;
}

/* A blank line is held back: watch-mode tools print a screenful of them before a clear (Vite:
 * rows-2), which must not become lines. Past HELD_MAX the oldest is emitted, to stay bounded. */
static void line_end(AnsiParser* p) {
   if (p->len || p->cont)
      emit(p, p->len, false);
   else if (p->held == HELD_MAX)
      emit_blank(p);
   else
      p->held++;
   line_clear(p);
   p->cr = false;
}

/* The line is full: emit it up to a UTF-8 boundary, keep the tail (at most 3 bytes) and the
 * style in force there for the continuation. */
static void line_cut(AnsiParser* p) {
   uint32_t cut = p->len, i = p->len;
   while (i > 0 && p->len - i < 3 && ((unsigned char)p->buf[i - 1] & 0xC0u) == 0x80u) i--;
   if (i > 0) {
      unsigned char lead = (unsigned char)p->buf[i - 1];
      uint32_t need = lead >= 0xF0u ? 4u : lead >= 0xE0u ? 3u : lead >= 0xC0u ? 2u : 1u;
      if (need > 1 && p->len - (i - 1) < need && i - 1 > 0) cut = i - 1; /* incomplete char */
   }
   uint32_t keep = 0;
   while (keep < p->nruns && p->runs[keep].start < cut) keep++;
   uint32_t saved = p->nruns;
   p->nruns = keep;
   emit(p, cut, true);
   p->nruns = saved;
   /* re-base: the tail starts with the style in force at the cut */
   uint32_t tail = p->len - cut, n = 0;
   if (tail) {
      memmove(p->buf, p->buf + cut, tail);
      bool at_cut = keep < p->nruns && p->runs[keep].start == cut; /* no need to carry */
      StyleRun lead = keep && !at_cut ? p->runs[keep - 1] : (StyleRun){0};
      StyleRun carry[4]; /* the tail has at most 3 bytes, so at most 3 runs start in it */
      uint32_t m = 0;
      if (lead.fg || lead.bg || lead.attr)
         carry[m++] = (StyleRun){.fg = lead.fg, .bg = lead.bg, .attr = lead.attr};
      for (uint32_t k = keep; k < p->nruns && m < 4; k++) {
         carry[m] = p->runs[k];
         carry[m++].start -= cut;
      }
      if (m) memcpy(p->runs, carry, m * sizeof(StyleRun)); /* runs may still be NULL */
      n = m;
   }
   p->len = tail;
   p->nruns = n;
   p->last = n ? (Style){p->runs[n - 1].fg, p->runs[n - 1].bg, p->runs[n - 1].attr} : k_default;
}

/* Before text is appended: a run at the current offset if the style changed since the last. */
static void style_sync(AnsiParser* p) {
   if (style_eq(p->cur, p->last)) return;
   if (p->nruns == LOGSTORE_MAX_RUNS) line_cut(p);
   if (style_eq(p->cur, p->last)) return;
   if (p->nruns == p->runs_cap) {
      p->runs_cap = p->runs_cap ? p->runs_cap * 2 : 8;
      p->runs = xrealloc(p->runs, p->runs_cap * sizeof(StyleRun));
   }
   p->runs[p->nruns++] =
       (StyleRun){.start = p->len, .fg = p->cur.fg, .bg = p->cur.bg, .attr = p->cur.attr};
   p->last = p->cur;
}

static void put_text(AnsiParser* p, const char* s, size_t n) {
   if (p->alt) return; /* drawn on the alternate screen: not stored */
   if (p->held) emit_held(p);
   p->home = p->cleared = false;
   if (p->cr) {
      line_clear(p);
      p->cr = false;
   }
   while (n) {
      if (p->len == LOGSTORE_MAX_LINE) line_cut(p);
      style_sync(p);
      size_t k = LOGSTORE_MAX_LINE - p->len;
      if (k > n) k = n;
      if (p->len + k > p->cap) {
         uint32_t cap = p->cap;
         while (cap < p->len + k) cap *= 2;
         if (cap > LOGSTORE_MAX_LINE) cap = LOGSTORE_MAX_LINE;
         p->buf = xrealloc(p->buf, cap);
         memset(p->buf + p->cap, 0, cap - p->cap);
         p->cap = cap;
      }
      memcpy(p->buf + p->len, s, k);
      p->len += (uint32_t)k;
      s += k;
      n -= k;
   }
}

static void backspace(AnsiParser* p) {
   if (p->cr || !p->len) return; /* the cursor is at column 0 (after \r) or the line is empty */
   uint32_t i = p->len - 1;
   while (i > 0 && p->len - i < 4 && ((unsigned char)p->buf[i] & 0xC0u) == 0x80u) i--;
   unsigned char lead = (unsigned char)p->buf[i];
   uint32_t need = lead >= 0xF0u ? 4u : lead >= 0xE0u ? 3u : lead >= 0xC0u ? 2u : 1u;
   p->len = (lead >= 0xC0u && p->len - i == need) ? i : p->len - 1; /* else one stray byte */
   while (p->nruns && p->runs[p->nruns - 1].start >= p->len) p->nruns--;
   const StyleRun* r = p->nruns ? &p->runs[p->nruns - 1] : NULL;
   p->last = r ? (Style){r->fg, r->bg, r->attr} : k_default;
}

static void control(AnsiParser* p, unsigned char c) {
   p->home = false;
   if (p->alt) return; /* the line model is the primary screen's; it waits there unchanged */
   switch (c) {
   case '\n':
      line_end(p);
      break;
   case '\r':
      p->cr = true;
      break;
   case '\b':
      backspace(p);
      break;
   default:
      break; /* NUL, BEL and the other C0 controls do nothing to the text */
   }
}

/* ---------------------------------------------------------------- sequences */

static void reply(AnsiParser* p, const char* s, size_t n) {
   if (p->answer && p->sink.reply) p->sink.reply(p->ud, s, n);
}

/* ---------------------------------------------------------------- screens and modes */

static unsigned term_modes(unsigned dec) {
   return (dec & DM_ALT ? TERM_MODE_ALTSCREEN : 0u) |
          (dec & DM_APPCURSOR ? TERM_MODE_APPCURSOR : 0u) |
          (dec & DM_PASTE ? TERM_MODE_PASTE : 0u) |
          (dec & (DM_MOUSE1000 | DM_MOUSE1002 | DM_MOUSE1003) ? TERM_MODE_MOUSE : 0u) |
          (dec & DM_MOUSE_SGR ? TERM_MODE_MOUSE_SGR : 0u);
}

/* The child cleared its primary screen. What was on it stays in the log (the unfinished line
 * is emitted); the blank lines held just before it were padding and are dropped. A burst of
 * clears with no text between them (ESC[2J ESC[3J ESC[H) is reported once. */
static void screen_clear(AnsiParser* p) {
   if (p->alt) return;
   if (p->len) line_end(p);
   line_clear(p);
   p->held = 0;
   p->cr = p->cont = false;
   if (p->cleared) return;
   p->cleared = true;
   if (p->sink.clear) p->sink.clear(p->ud);
}

/* New DEC private modes. On the way to the alternate screen the held blank lines are emitted
 * (they came before it) and the style saved; on the way back the style is restored, as xterm
 * restores the cursor with ?1049 (brum does it for ?47 and ?1047 too: colours set by a
 * full-screen program must not leak into the log). */
static void set_dec(AnsiParser* p, unsigned dec) {
   unsigned before = term_modes(p->dec), after = term_modes(dec);
   p->dec = (uint8_t)dec;
   if (before == after) return;
   bool alt = (dec & DM_ALT) != 0;
   if (alt != p->alt) {
      if (alt) {
         emit_held(p);
         p->saved = p->cur;
      } else {
         p->cur = p->saved;
      }
      p->alt = alt;
      p->home = p->cleared = false;
   }
   if (p->sink.modes) p->sink.modes(p->ud, after);
}

/* CSI ? Pn ; Pn ... h (set) or l (reset). */
static void dec_modes(AnsiParser* p, const int* v, int nv, bool set) {
   unsigned dec = p->dec;
   for (int i = 0; i < nv; i++) {
      unsigned m = 0;
      switch (v[i]) {
      case 47:
      case 1047:
      case 1049:
         m = DM_ALT;
         break;
      case 1:
         m = DM_APPCURSOR;
         break;
      case 2004:
         m = DM_PASTE;
         break;
      case 1000:
         m = DM_MOUSE1000;
         break;
      case 1002:
         m = DM_MOUSE1002;
         break;
      case 1003:
         m = DM_MOUSE1003;
         break;
      case 1006:
         m = DM_MOUSE_SGR;
         break;
      default:
         break; /* others (cursor visibility, wrap, focus events...) do not concern the log */
      }
      dec = set ? dec | m : dec & ~m;
   }
   set_dec(p, dec);
}

/* ESC c: the terminal's full reset (tsc --watch clears with it). */
static void full_reset(AnsiParser* p) {
   set_dec(p, 0);
   p->cur = k_default;
   screen_clear(p);
}

static void cursor_report(AnsiParser* p) {
   uint32_t col = 1;
   if (!p->cr &&
       !p->alt) /* on the alternate screen the column is unknown: 1 */ /* columns are characters:
                                                                          count UTF-8 lead bytes (up
                                                                          to the width: clamped) */
      for (uint32_t i = 0; i < p->len && col <= p->width; i++)
         col += ((unsigned char)p->buf[i] & 0xC0u) != 0x80u;
   if (col > p->width) col = p->width;
   char out[32];
   int n = snprintf(out, sizeof out, "\x1b[1;%uR", col);
   reply(p, out, (size_t)n);
}

#define MAXP 32

typedef struct Csi {
   int v[MAXP];      /* parameters, -1 where omitted */
   bool colon[MAXP]; /* v[i] followed a colon: a subparameter of v[i-1] */
   int nv;
   char priv;  /* private marker ('?', '>', ...) or 0 */
   bool inter; /* intermediates or stray markers: not a sequence we handle */
} Csi;

static void csi_parse(const AnsiParser* p, Csi* c) {
   const char* s = p->seq;
   uint32_t n = p->seqn;
   c->priv = 0;
   if (n && s[0] >= '<' && s[0] <= '?') {
      c->priv = s[0];
      s++;
      n--;
   }
   int cur = -1;
   bool sub = false;
   c->nv = 0;
   c->inter = false;
   for (uint32_t i = 0; i < n; i++) {
      char ch = s[i];
      if (ch >= '0' && ch <= '9') {
         cur = (cur < 0 ? 0 : cur) * 10 + (ch - '0');
         if (cur > 0xffff) cur = 0xffff;
      } else if (ch == ';' || ch == ':') {
         if (c->nv < MAXP) {
            c->v[c->nv] = cur;
            c->colon[c->nv++] = sub;
         }
         sub = ch == ':';
         cur = -1;
      } else {
         c->inter = true;
      }
   }
   if (c->nv < MAXP) {
      c->v[c->nv] = cur;
      c->colon[c->nv++] = sub;
   }
}

/* CSI H / f to row 1, column 1 (omitted or 0 mean 1). */
static bool csi_is_home(const Csi* c) {
   return !c->priv && c->nv <= 2 && c->v[0] <= 1 && (c->nv < 2 || c->v[1] <= 1);
}

static void csi_dispatch(AnsiParser* p, unsigned char final) {
   Csi c;
   csi_parse(p, &c);
   /* cursor-home then erase-down is a clear; anything but SGR and mode changes between them
    * (text, controls, other sequences) makes it something else */
   bool home = p->home;
   if (final != 'm' && final != 'h' && final != 'l') p->home = false;
   if (c.inter) return;
   int a = c.v[0] < 0 ? 0 : c.v[0];
   bool line = !c.priv && !p->alt; /* acts on the line of the primary screen */
   switch (final) {
   case 'm':
      if (!c.priv) ansi_sgr(&p->cur, c.v, c.colon, c.nv);
      break;
   case 'K':
      if (line && ((a == 0 && p->cr) || a == 1 || a == 2))
         line_clear(p); /* 0 after \r: the cursor is at 0, everything goes */
      break;
   case 'G':
      if (line && a <= 1) p->cr = true; /* to column 1: like \r */
      break;
   case 'H':
   case 'f':
      p->home = csi_is_home(&c);
      break;
   case 'J':
      if (!c.priv && (a == 2 || a == 3 || (a == 0 && home))) screen_clear(p);
      break;
   case 'h':
   case 'l':
      if (c.priv == '?') dec_modes(p, c.v, c.nv, final == 'h');
      break;
   case 'n':
      if (c.priv) break;
      if (a == 6)
         cursor_report(p);
      else if (a == 5)
         reply(p, "\x1b[0n", 4);
      break;
   case 'c':
      if (a != 0) break;
      if (!c.priv)
         reply(p, "\x1b[?1;2c", 7);
      else if (c.priv == '>')
         reply(p, "\x1b[>0;0;0c", 9);
      break;
   default:
      break;
   }
}

static void osc_dispatch(AnsiParser* p, bool st) {
   const char* which = NULL;
   if (p->seqlen == 4 && memcmp(p->seq, "10;?", 4) == 0)
      which = "10;rgb:ffff/ffff/ffff";
   else if (p->seqlen == 4 && memcmp(p->seq, "11;?", 4) == 0)
      which = "11;rgb:0000/0000/0000";
   if (!which) return; /* titles, hyperlinks, clipboard...: dropped */
   char out[40];
   int n = snprintf(out, sizeof out, "\x1b]%s%s", which, st ? "\x1b\\" : "\a");
   /* always ours: libvterm 0.1.4 does not answer colour queries, so an emulator does not either */
   if (p->sink.reply) p->sink.reply(p->ud, out, (size_t)n);
}

static void seq_start(AnsiParser* p, uint8_t state) {
   p->state = state;
   p->seqlen = 0;
   p->seqn = 0;
}

/* A byte after ESC. */
static bool step_esc(AnsiParser* p, unsigned char c) {
   if (c == '[')
      seq_start(p, ST_CSI);
   else if (c == ']')
      seq_start(p, ST_OSC);
   else if (c == 'P' || c == 'X' || c == '^' || c == '_')
      seq_start(p, ST_STR);
   else if (c >= 0x20 && c <= 0x2f)
      seq_start(p, ST_ESC_INTER); /* ESC ( B and friends */
   else if (c == 0x1b)
      return true; /* a new ESC */
   else if (c >= 0x30 && c <= 0x7e) {
      if (c == 'c') full_reset(p);
      p->state = ST_GROUND;
   } else {
      p->state = ST_GROUND; /* a lone ESC: dropped, the byte is ordinary input */
      return false;
   }
   return true;
}

/* A byte inside a CSI sequence. */
static bool step_csi(AnsiParser* p, unsigned char c) {
   if (c >= 0x40 && c <= 0x7e) {
      p->state = ST_GROUND;
      csi_dispatch(p, c);
      return true;
   }
   if (c >= 0x20 && c <= 0x3f) {
      if (++p->seqlen > CSI_CAP) { /* too long: drop it, what follows is text */
         p->state = ST_GROUND;
         return false;
      }
      p->seq[p->seqn++] = (char)c;
      return true;
   }
   if (c == 0x1b) {
      p->state = ST_ESC;
      return true;
   }
   if (c < 0x20) {
      control(p, c); /* as a VT does: C0 controls act inside a CSI */
      return true;
   }
   if (c == 0x7f) return true;
   p->state = ST_GROUND; /* a byte >= 0x80 cannot be part of a CSI: drop, keep the byte */
   return false;
}

/* One byte in a non-ground state. False: the byte must be processed again in the new state. */
static bool step(AnsiParser* p, unsigned char c) {
   if (c == 0x18 || c == 0x1a) { /* CAN, SUB: abort any sequence */
      p->state = ST_GROUND;
      return true;
   }
   switch (p->state) {
   case ST_ESC:
      return step_esc(p, c);
   case ST_ESC_INTER:
      if (c >= 0x20 && c <= 0x2f && ++p->seqlen <= CSI_CAP) return true;
      if (c >= 0x30 && c <= 0x7e) {
         p->state = ST_GROUND;
         return true;
      }
      p->state = c == 0x1b ? ST_ESC : ST_GROUND;
      return c == 0x1b;
   case ST_CSI:
      return step_csi(p, c);
   case ST_OSC:
   case ST_STR:
      if (c == 0x07 && p->state == ST_OSC) {
         p->state = ST_GROUND;
         osc_dispatch(p, false);
         return true;
      }
      if (c == 0x1b) {
         p->state = p->state == ST_OSC ? ST_OSC_ESC : ST_STR_ESC;
         return true;
      }
      if (++p->seqlen > STR_CAP) {
         p->state = ST_GROUND;
         return false;
      }
      if (p->seqn < OSC_HEAD) p->seq[p->seqn++] = (char)c;
      return true;
   case ST_OSC_ESC:
   case ST_STR_ESC:
      if (c == '\\') {
         if (p->state == ST_OSC_ESC) osc_dispatch(p, true);
         p->state = ST_GROUND;
         return true;
      }
      p->state = ST_ESC; /* the string is dropped; this ESC starts a new sequence */
      return false;
   default:
      p->state = ST_GROUND;
      return false;
   }
}

/* The hot loop: plain text up to the next control byte. A function of its own, aligned, so that
 * its speed does not depend on the code around it: inlined in ansi_feed, the same five
 * instructions ran 40% slower on the benchmark machine once a change elsewhere in ansi_feed
 * moved their branch across a 32-byte boundary (most likely Intel's JCC-erratum microcode,
 * which keeps such a loop out of the uop cache). */
__attribute__((noinline, aligned(64))) static const unsigned char*
text_end(const unsigned char* s, const unsigned char* e) {
   while (s < e && !k_ctl[*s]) s++;
   return s;
}

void ansi_feed(AnsiParser* p, const char* buf, size_t n) {
   const unsigned char* s = (const unsigned char*)buf;
   const unsigned char* e = s + n;
   while (s < e) {
      if (p->state != ST_GROUND) {
         if (step(p, *s)) s++;
         continue;
      }
      const unsigned char* t = text_end(s, e);
      if (t != s) put_text(p, (const char*)s, (size_t)(t - s));
      if (t == e) break;
      if (*t == 0x1b)
         p->state = ST_ESC;
      else
         control(p, *t);
      s = t + 1;
   }
}

void ansi_flush(AnsiParser* p) {
   emit_held(p); /* what the child printed is not lost: nothing can clear it any more */
   if (p->len) line_end(p);
   line_clear(p);
   p->cr = false;
   p->cont = false;
   p->home = p->cleared = false;
   p->state = ST_GROUND; /* the output ended: a sequence cut off there is dropped */
}

void ansi_reset(AnsiParser* p) {
   ansi_flush(p);
   set_dec(p, 0);
}

void ansi_set_answer(AnsiParser* p, bool on) {
   p->answer = on;
}

unsigned ansi_modes(const AnsiParser* p) {
   return term_modes(p->dec);
}
