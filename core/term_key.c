/* Keys for a child that has no emulator: the bytes xterm sends, honouring the modes tracked from
 * the child's output (application cursor keys, mouse reporting). A child with an emulator gets
 * libvterm's encoding instead (core/term.c), which follows the same conventions. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/term.h"

/* xterm's modifier parameter: 1 + shift(1) + alt(2) + ctrl(4), the same bits as TERM_MOD_*. */
static unsigned mod_param(uint8_t mods) {
   return 1u + (mods & (TERM_MOD_SHIFT | TERM_MOD_ALT | TERM_MOD_CTRL));
}

static size_t put(char* out, size_t size, const char* s, size_t n) {
   if (n > size) return 0; /* never a truncated sequence */
   memcpy(out, s, n);
   return n;
}

static size_t putf(char* out, size_t size, const char* fmt, ...)
    __attribute__((format(printf, 3, 4)));
static size_t putf(char* out, size_t size, const char* fmt, ...) {
   char tmp[48];
   va_list ap;
   va_start(ap, fmt);
   int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
   va_end(ap);
   return n > 0 && (size_t)n < sizeof tmp ? put(out, size, tmp, (size_t)n) : 0;
}

/* One byte, after ESC with Alt. */
static size_t put_alt(char* out, size_t size, bool alt, char c) {
   char s[2] = {'\x1b', c};
   return alt ? put(out, size, s, 2) : put(out, size, s + 1, 1);
}

static size_t utf8(uint32_t c, char* b) {
   if (c < 0x80) {
      b[0] = (char)c;
      return 1;
   }
   if (c < 0x800) {
      b[0] = (char)(0xc0 | (c >> 6));
      b[1] = (char)(0x80 | (c & 0x3f));
      return 2;
   }
   if (c >= 0xd800 && c < 0xe000) return 0; /* a surrogate is no character */
   if (c < 0x10000) {
      b[0] = (char)(0xe0 | (c >> 12));
      b[1] = (char)(0x80 | ((c >> 6) & 0x3f));
      b[2] = (char)(0x80 | (c & 0x3f));
      return 3;
   }
   if (c > 0x10ffff) return 0;
   b[0] = (char)(0xf0 | (c >> 18));
   b[1] = (char)(0x80 | ((c >> 12) & 0x3f));
   b[2] = (char)(0x80 | ((c >> 6) & 0x3f));
   b[3] = (char)(0x80 | (c & 0x3f));
   return 4;
}

/* A text character: Ctrl makes the C0 control of letters and @[\]^_? (as a terminal's keyboard
 * does), Alt puts ESC in front. */
static size_t enc_char(const TermKey* k, char* out, size_t size) {
   char b[8];
   size_t n = 0;
   uint32_t c = k->ch;
   if (k->mods & TERM_MOD_ALT) b[n++] = '\x1b';
   if (k->mods & TERM_MOD_CTRL) {
      if (c >= 'a' && c <= 'z') c -= 'a' - 'A';
      if (c == ' ' || c == '2') c = '@';
      if (c >= '@' && c <= '_')
         c &= 0x1f;
      else if (c == '?' || c == '8')
         c = 0x7f;
   }
   size_t u = utf8(c, b + n);
   return u ? put(out, size, b, n + u) : 0;
}

/* Arrows, Home and End: CSI X, or SS3 X in application cursor mode; with modifiers
 * CSI 1;m X whatever the mode (xterm). */
static size_t enc_cursor(char x, const TermKey* k, unsigned modes, char* out, size_t size) {
   if (k->mods) return putf(out, size, "\x1b[1;%u%c", mod_param(k->mods), x);
   char s[3] = {'\x1b', (modes & TERM_MODE_APPCURSOR) ? 'O' : '[', x};
   return put(out, size, s, 3);
}

/* Ins, Del, PgUp, PgDn, F5-F12: CSI n ~, with modifiers CSI n;m ~. */
static size_t enc_tilde(unsigned n, const TermKey* k, char* out, size_t size) {
   if (k->mods) return putf(out, size, "\x1b[%u;%u~", n, mod_param(k->mods));
   return putf(out, size, "\x1b[%u~", n);
}

static size_t enc_fkey(unsigned f, const TermKey* k, char* out, size_t size) {
   static const unsigned tilde[] = {15, 17, 18, 19, 20, 21, 23, 24}; /* F5..F12 */
   if (f <= 4) {
      char x = (char)('P' + f - 1);
      if (k->mods) return putf(out, size, "\x1b[1;%u%c", mod_param(k->mods), x);
      char s[3] = {'\x1b', 'O', x};
      return put(out, size, s, 3);
   }
   return enc_tilde(tilde[f - 5], k, out, size);
}

/* A mouse report, only while the child asked for them: SGR (1006) or X10 (coordinates up to 223).
 * Buttons: 1-3 as 0-2, the wheel as 64/65; shift +4, alt +8, ctrl +16. */
static size_t enc_mouse(const TermKey* k, unsigned modes, char* out, size_t size) {
   if (!(modes & TERM_MODE_MOUSE) || k->button < 1 || k->button > 5 || k->x < 0 || k->y < 0)
      return 0;
   bool wheel = k->button >= 4;
   unsigned b = wheel ? 64u + (k->button - 4u) : k->button - 1u;
   if (k->mods & TERM_MOD_SHIFT) b += 4;
   if (k->mods & TERM_MOD_ALT) b += 8;
   if (k->mods & TERM_MOD_CTRL) b += 16;
   unsigned x = (unsigned)k->x + 1, y = (unsigned)k->y + 1;
   if (modes & TERM_MODE_MOUSE_SGR) {
      return putf(out, size, "\x1b[<%u;%u;%u%c", b, x, y, k->press ? 'M' : 'm');
   }
   if (!k->press && wheel) return 0;  /* X10 has no wheel release */
   if (!k->press) b = (b & ~3u) | 3u; /* X10: release is button 3 */
   if (x > 223 || y > 223) return 0;  /* beyond what one byte can carry */
   char s[6] = {'\x1b', '[', 'M', (char)(32 + b), (char)(32 + x), (char)(32 + y)};
   return put(out, size, s, 6);
}

size_t term_encode_key(const TermKey* k, unsigned modes, char* out, size_t size) {
   bool alt = k->mods & TERM_MOD_ALT;
   switch (k->code) {
   case TK_CHAR:
      return enc_char(k, out, size);
   case TK_ENTER:
      return put_alt(out, size, alt, '\r');
   case TK_TAB:
      if (k->mods & TERM_MOD_SHIFT) return put(out, size, "\x1b[Z", 3);
      return put_alt(out, size, alt, '\t');
   case TK_BACKSPACE:
      return put_alt(out, size, alt, (k->mods & TERM_MOD_CTRL) ? '\x08' : '\x7f');
   case TK_ESCAPE:
      return put_alt(out, size, alt, '\x1b');
   case TK_UP:
      return enc_cursor('A', k, modes, out, size);
   case TK_DOWN:
      return enc_cursor('B', k, modes, out, size);
   case TK_RIGHT:
      return enc_cursor('C', k, modes, out, size);
   case TK_LEFT:
      return enc_cursor('D', k, modes, out, size);
   case TK_HOME:
      return enc_cursor('H', k, modes, out, size);
   case TK_END:
      return enc_cursor('F', k, modes, out, size);
   case TK_INS:
      return enc_tilde(2, k, out, size);
   case TK_DEL:
      return enc_tilde(3, k, out, size);
   case TK_PAGEUP:
      return enc_tilde(5, k, out, size);
   case TK_PAGEDOWN:
      return enc_tilde(6, k, out, size);
   case TK_MOUSE:
      return enc_mouse(k, modes, out, size);
   case TK_NONE:
      return 0;
   default:
      if (k->code >= TK_F1 && k->code <= TK_F12)
         return enc_fkey((unsigned)(k->code - TK_F1) + 1, k, out, size);
      return 0;
   }
}
