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

#include "core/logstore.h"
#include "core/util.h"

#define CSI_CAP 64u   /* an unterminated CSI longer than this is dropped */
#define STR_CAP 4096u /* same for OSC and DCS/SOS/PM/APC strings */
#define OSC_HEAD 16u  /* OSC bytes kept for recognising queries */
#define BUF_MIN 256u

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

static void emit(AnsiParser* p, uint32_t len, bool continues) {
   p->emitting_cont = p->cont;
   p->sink.line(p->ud, p->buf, len, p->nruns ? p->runs : NULL, (uint16_t)p->nruns);
   p->emitting_cont = false;
   p->cont = continues;
}

static void line_end(AnsiParser* p) {
   emit(p, p->len, false);
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
   if (p->sink.reply) p->sink.reply(p->ud, s, n);
}

/* 38/48/58 extended colour, colon form: sub = the values after 38. False if malformed. */
static bool color_colon(const int* sub, int ns, uint32_t* out) {
   if (ns >= 2 && sub[0] == 5) {
      if (sub[1] < 0 || sub[1] > 255) return false;
      *out = COLOR_INDEX(sub[1]);
      return true;
   }
   if (sub[0] == 2 && ns >= 4) {
      const int* rgb = ns >= 5 ? sub + 2 : sub + 1; /* 38:2:CS:R:G:B or 38:2:R:G:B */
      for (int i = 0; i < 3; i++)
         if (rgb[i] > 255) return false;
      *out = COLOR_RGB(rgb[0] < 0 ? 0 : rgb[0], rgb[1] < 0 ? 0 : rgb[1], rgb[2] < 0 ? 0 : rgb[2]);
      return true;
   }
   return false;
}

/* Semicolon form 38;5;N / 38;2;R;G;B: returns how many values after 38 it used. */
static int color_semi(const int* v, int nv, uint32_t* out, bool* ok) {
   *ok = false;
   if (nv < 1) return 0;
   if (v[0] == 5) {
      if (nv < 2) return nv;
      if (v[1] >= 0 && v[1] <= 255) {
         *out = COLOR_INDEX(v[1]);
         *ok = true;
      }
      return 2;
   }
   if (v[0] == 2) {
      if (nv < 4) return nv;
      if (v[1] <= 255 && v[2] <= 255 && v[3] <= 255) {
         *out = COLOR_RGB(v[1] < 0 ? 0 : v[1], v[2] < 0 ? 0 : v[2], v[3] < 0 ? 0 : v[3]);
         *ok = true;
      }
      return 4;
   }
   return 1;
}

/* The SGR parameters that set or clear one attribute (sub0: the code has the subparameter 0,
 * as in 4:0). */
static void sgr_attr(Style* st, int x, bool sub0) {
   switch (x) {
   case -1:
   case 0:
      *st = k_default;
      break;
   case 1:
      st->attr |= ATTR_BOLD;
      break;
   case 2:
      st->attr |= ATTR_DIM;
      break;
   case 3:
      st->attr |= ATTR_ITALIC;
      break;
   case 4:
      if (sub0)
         st->attr &= (uint16_t)~ATTR_UNDERLINE; /* 4:0 */
      else
         st->attr |= ATTR_UNDERLINE;
      break;
   case 5:
   case 6:
      st->attr |= ATTR_BLINK;
      break;
   case 7:
      st->attr |= ATTR_REVERSE;
      break;
   case 9:
      st->attr |= ATTR_STRIKE;
      break;
   case 21:
      st->attr &= (uint16_t)~ATTR_BOLD;
      break;
   case 22:
      st->attr &= (uint16_t) ~(ATTR_BOLD | ATTR_DIM);
      break;
   case 23:
      st->attr &= (uint16_t)~ATTR_ITALIC;
      break;
   case 24:
      st->attr &= (uint16_t)~ATTR_UNDERLINE;
      break;
   case 25:
      st->attr &= (uint16_t)~ATTR_BLINK;
      break;
   case 27:
      st->attr &= (uint16_t)~ATTR_REVERSE;
      break;
   case 29:
      st->attr &= (uint16_t)~ATTR_STRIKE;
      break;
   case 39:
      st->fg = COLOR_DEFAULT;
      break;
   case 49:
      st->bg = COLOR_DEFAULT;
      break;
   default:
      break; /* unknown: ignored, as a terminal does */
   }
}

static void sgr(AnsiParser* p, const int* v, const bool* colon, int nv) {
   Style* st = &p->cur;
   for (int i = 0; i < nv;) {
      int j = i + 1;
      while (j < nv && colon[j]) j++; /* v[i+1..j) are colon subparameters of v[i] */
      int ns = j - i - 1, x = v[i];
      if (x >= 30 && x <= 37)
         st->fg = COLOR_INDEX(x - 30);
      else if (x >= 40 && x <= 47)
         st->bg = COLOR_INDEX(x - 40);
      else if (x >= 90 && x <= 97)
         st->fg = COLOR_INDEX(x - 90 + 8);
      else if (x >= 100 && x <= 107)
         st->bg = COLOR_INDEX(x - 100 + 8);
      else if (x == 38 || x == 48 || x == 58) { /* 58 (underline): parsed, not to misread */
         uint32_t c = 0;
         bool ok;
         if (ns)
            ok = color_colon(v + i + 1, ns, &c);
         else
            j += color_semi(v + i + 1, nv - i - 1, &c, &ok);
         if (ok && x == 38) st->fg = c;
         if (ok && x == 48) st->bg = c;
      } else
         sgr_attr(st, x, ns && v[i + 1] == 0);
      i = j;
   }
}

static void cursor_report(AnsiParser* p) {
   uint32_t col = 1;
   if (!p->cr) /* columns are characters: count UTF-8 lead bytes (up to the width: clamped) */
      for (uint32_t i = 0; i < p->len && col <= p->width; i++)
         col += ((unsigned char)p->buf[i] & 0xC0u) != 0x80u;
   if (col > p->width) col = p->width;
   char out[32];
   int n = snprintf(out, sizeof out, "\x1b[1;%uR", col);
   reply(p, out, (size_t)n);
}

#define MAXP 32

static void csi_dispatch(AnsiParser* p, unsigned char final) {
   const char* s = p->seq;
   uint32_t n = p->seqn;
   char priv = 0;
   if (n && s[0] >= '<' && s[0] <= '?') {
      priv = s[0];
      s++;
      n--;
   }
   int v[MAXP];
   bool colon[MAXP];
   int nv = 0, cur = -1;
   bool sub = false, inter = false;
   for (uint32_t i = 0; i < n; i++) {
      char c = s[i];
      if (c >= '0' && c <= '9') {
         cur = (cur < 0 ? 0 : cur) * 10 + (c - '0');
         if (cur > 0xffff) cur = 0xffff;
      } else if (c == ';' || c == ':') {
         if (nv < MAXP) {
            v[nv] = cur;
            colon[nv++] = sub;
         }
         sub = c == ':';
         cur = -1;
      } else {
         inter = true; /* intermediates or stray private markers: not a sequence we handle */
      }
   }
   if (nv < MAXP) {
      v[nv] = cur;
      colon[nv++] = sub;
   }
   if (inter) return;
   int a = v[0] < 0 ? 0 : v[0];
   switch (final) {
   case 'm':
      if (!priv) sgr(p, v, colon, nv);
      break;
   case 'K':
      if (priv) break;
      if (a == 0 && p->cr)
         line_clear(p); /* after \r the cursor is at 0: erase everything */
      else if (a == 1 || a == 2)
         line_clear(p);
      break;
   case 'G':
      if (!priv && a <= 1) p->cr = true; /* to column 1: like \r */
      break;
   case 'n':
      if (priv) break;
      if (a == 6)
         cursor_report(p);
      else if (a == 5)
         reply(p, "\x1b[0n", 4);
      break;
   case 'c':
      if (a != 0) break;
      if (!priv)
         reply(p, "\x1b[?1;2c", 7);
      else if (priv == '>')
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
   reply(p, out, (size_t)n);
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
      if (c == 'c') p->cur = k_default; /* RIS: full reset */
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

void ansi_feed(AnsiParser* p, const char* buf, size_t n) {
   const unsigned char* s = (const unsigned char*)buf;
   const unsigned char* e = s + n;
   while (s < e) {
      if (p->state != ST_GROUND) {
         if (step(p, *s)) s++;
         continue;
      }
      const unsigned char* t = s;
      while (t < e && !k_ctl[*t]) t++; /* the hot loop: plain text up to the next control */
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
   if (p->len) line_end(p);
   line_clear(p);
   p->cr = false;
   p->cont = false;
   p->state = ST_GROUND; /* the output ended: a sequence cut off there is dropped */
}
