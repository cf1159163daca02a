/* libFuzzer target: the theme parser (tui/theme). The input is theme text (INI); every role of a
 * parsed theme is read and mapped to terminals of 8, 16, 88, 256 and 2^24 colours. The input is
 * also given, line by line, to theme_parse_color and theme_parse_style. Invariants: success gives
 * a theme with a name, failure gives a cause, colour numbers are in the terminal's range. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tui/theme.h"

static const int ncolors[] = {8, 16, 88, 256, 1 << 24};

static void check_style(Style s) {
   for (size_t i = 0; i < sizeof ncolors / sizeof ncolors[0]; i++) {
      int fg = theme_color_to_term(s.fg, ncolors[i]);
      int bg = theme_color_to_term(s.bg, ncolors[i]);
      if (fg < -1 || fg >= ncolors[i] || bg < -1 || bg >= ncolors[i]) abort();
   }
}

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
   char* text = malloc(size + 1);
   memcpy(text, data, size);
   text[size] = '\0'; /* theme_parse takes C text: an embedded NUL ends it */

   Theme* t = NULL;
   char* cause = NULL;
   int err = theme_parse(text, "fuzz.theme", &t, &cause);
   if (err < 0) {
      if (t || !cause) abort();
   } else {
      if (!t || !theme_name(t)) abort();
      (void)theme_has_color(t);
      for (int r = 0; r < THEME_ROLE_COUNT; r++) {
         if (!theme_role_name((ThemeRole)r)) abort();
         check_style(theme_role(t, (ThemeRole)r));
      }
   }
   free(cause);
   theme_free(t);

   /* each line as a colour and as a style value */
   for (char *line = text, *next; line; line = next) {
      next = strchr(line, '\n');
      if (next) *next++ = '\0';
      uint32_t c;
      if (theme_parse_color(line, &c) == 0) check_style((Style){.fg = c, .bg = c});
      Style s;
      char* why = NULL;
      if (theme_parse_style(line, &s, &why) == 0) check_style(s);
      free(why);
   }
   free(text);
   return 0;
}
