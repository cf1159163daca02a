/* SGR (Select Graphic Rendition) parameters applied to a style: 16, 256 and truecolor colours in
 * both the semicolon and the colon form, attributes on and off. Part of the output parser
 * (core/ansi.c), kept apart because it depends on nothing but the style. */
#include "core/ansi_sgr.h"

static const Style k_default = {COLOR_DEFAULT, COLOR_DEFAULT, 0};

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

void ansi_sgr(Style* st, const int* v, const bool* colon, int nv) {
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
