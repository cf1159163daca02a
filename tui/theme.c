#include "tui/theme.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <ini.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "core/util.h"

#ifndef NCURSES_WIDECHAR
#define NCURSES_WIDECHAR 1
#endif
#include <curses.h>

struct Theme {
   char* name; /* owned */
   Style roles[THEME_ROLE_COUNT];
   ThemeCurses curses[THEME_ROLE_COUNT];  /* pairs of the current curses generation */
   unsigned curses_gen[THEME_ROLE_COUNT]; /* 0: not cached */
};

static const char* const role_names[] = {
    "header",        "header_accent",  "tab",
    "tab_active",    "sidebar",        "sidebar_selected",
    "selection",     "state_idle",     "state_starting",
    "state_running", "state_stopping", "state_exited",
    "state_failed",  "state_killed",   "state_stopped",
    "pane",          "pane_border",    "gutter",
    "timestamp",     "marker",         "match",
    "match_current", "error",          "warning",
    "url",           "status",         "status_key",
    "message_error", "message_info",   "prompt",
    "prompt_cursor", "dialog",         "follow_indicator",
    "name0",         "name1",          "name2",
    "name3",         "name4",          "name5",
    "name6",         "name7",
};
_Static_assert(ARRAY_LEN(role_names) == THEME_ROLE_COUNT, "a name for every ThemeRole");

/* The text of themes/default.theme and themes/mono.theme without their comments, so brum works
 * without the files (test_theme checks that they stay the same). */
static const char builtin_default[] = "[theme]\n"
                                      "name = default\n"
                                      "description = brum's default, for dark terminals\n"
                                      "base = none\n"
                                      "\n"
                                      "[roles]\n"
                                      "header           = bright-white on blue\n"
                                      "header_accent    = bright-yellow on blue bold\n"
                                      "tab              = bright-black\n"
                                      "tab_active       = bright-white bold underline\n"
                                      "sidebar          = default\n"
                                      "sidebar_selected = black on cyan\n"
                                      "selection        = reverse\n"
                                      "state_idle       = bright-black\n"
                                      "state_starting   = yellow\n"
                                      "state_running    = green bold\n"
                                      "state_stopping   = yellow\n"
                                      "state_exited     = cyan\n"
                                      "state_failed     = bright-red bold\n"
                                      "state_killed     = magenta\n"
                                      "state_stopped    = bright-black\n"
                                      "pane             = default\n"
                                      "pane_border      = bright-black\n"
                                      "gutter           = bright-black\n"
                                      "timestamp        = bright-black\n"
                                      "marker           = bright-blue italic\n"
                                      "match            = black on yellow\n"
                                      "match_current    = black on color214 bold\n"
                                      "error            = bright-red\n"
                                      "warning          = yellow\n"
                                      "url              = bright-blue underline\n"
                                      "status           = white on color236\n"
                                      "status_key       = bright-white on color236 bold\n"
                                      "message_error    = bright-white on red bold\n"
                                      "message_info     = black on green\n"
                                      "prompt           = default\n"
                                      "prompt_cursor    = reverse\n"
                                      "dialog           = bright-white on blue\n"
                                      "follow_indicator = black on green bold\n"
                                      "name0            = cyan\n"
                                      "name1            = magenta\n"
                                      "name2            = green\n"
                                      "name3            = yellow\n"
                                      "name4            = bright-blue\n"
                                      "name5            = red\n"
                                      "name6            = bright-cyan\n"
                                      "name7            = bright-magenta\n";
static const char builtin_mono[] = "[theme]\n"
                                   "name = mono\n"
                                   "description = attributes only, no colours\n"
                                   "base = none\n"
                                   "\n"
                                   "[roles]\n"
                                   "header           = reverse bold\n"
                                   "header_accent    = reverse bold underline\n"
                                   "tab              = plain\n"
                                   "tab_active       = bold underline\n"
                                   "sidebar          = plain\n"
                                   "sidebar_selected = reverse\n"
                                   "selection        = reverse\n"
                                   "state_idle       = dim\n"
                                   "state_starting   = plain\n"
                                   "state_running    = bold\n"
                                   "state_stopping   = plain\n"
                                   "state_exited     = plain\n"
                                   "state_failed     = bold underline\n"
                                   "state_killed     = bold\n"
                                   "state_stopped    = dim\n"
                                   "pane             = plain\n"
                                   "pane_border      = dim\n"
                                   "gutter           = dim\n"
                                   "timestamp        = dim\n"
                                   "marker           = italic\n"
                                   "match            = reverse\n"
                                   "match_current    = reverse bold\n"
                                   "error            = bold\n"
                                   "warning          = underline\n"
                                   "url              = underline\n"
                                   "status           = reverse\n"
                                   "status_key       = reverse bold\n"
                                   "message_error    = reverse bold\n"
                                   "message_info     = reverse\n"
                                   "prompt           = plain\n"
                                   "prompt_cursor    = reverse\n"
                                   "dialog           = reverse\n"
                                   "follow_indicator = reverse bold\n"
                                   "name0            = bold\n"
                                   "name1            = underline\n"
                                   "name2            = italic\n"
                                   "name3            = bold underline\n"
                                   "name4            = bold italic\n"
                                   "name5            = italic underline\n"
                                   "name6            = dim\n"
                                   "name7            = plain\n";

#define THEME_MAX_FILE (256 * 1024)

const char* theme_role_name(ThemeRole r) {
   return (unsigned)r < THEME_ROLE_COUNT ? role_names[r] : "?";
}

const char* theme_default_name(void) {
   const char* nc = getenv("NO_COLOR");
   return nc && *nc ? "mono" : "default";
}

/* ---- colours ---- */

static const char* const color_names[8] = {"black", "red",     "green", "yellow",
                                           "blue",  "magenta", "cyan",  "white"};

int theme_parse_color(const char* s, uint32_t* out) {
   if (strcasecmp(s, "default") == 0) {
      *out = COLOR_DEFAULT;
      return 0;
   }
   if (strcasecmp(s, "gray") == 0 || strcasecmp(s, "grey") == 0) {
      *out = COLOR_INDEX(8);
      return 0;
   }
   bool bright = strncasecmp(s, "bright-", 7) == 0;
   for (unsigned i = 0; i < 8; i++) {
      if (strcasecmp(s + (bright ? 7 : 0), color_names[i]) == 0) {
         *out = COLOR_INDEX(i + (bright ? 8 : 0));
         return 0;
      }
   }
   if (strncasecmp(s, "color", 5) == 0 && s[5] >= '0' && s[5] <= '9') {
      char* end;
      unsigned long n = strtoul(s + 5, &end, 10);
      if (*end || n > 255 || (s[5] == '0' && s[6])) return -EINVAL;
      *out = COLOR_INDEX(n);
      return 0;
   }
   if (s[0] == '#' && strlen(s) == 7 && strspn(s + 1, "0123456789abcdefABCDEF") == 6) {
      unsigned long v = strtoul(s + 1, NULL, 16);
      *out = COLOR_RGB(v >> 16, v >> 8, v);
      return 0;
   }
   return -EINVAL;
}

static const struct {
   const char* name;
   uint16_t bit;
} attr_names[] = {
    {"bold", ATTR_BOLD},           {"dim", ATTR_DIM},         {"italic", ATTR_ITALIC},
    {"underline", ATTR_UNDERLINE}, {"reverse", ATTR_REVERSE}, {"blink", ATTR_BLINK},
};

int theme_parse_style(const char* s, Style* out, char** cause) {
   Style st = {COLOR_DEFAULT, COLOR_DEFAULT, 0};
   bool have_fg = false, have_bg = false, after_on = false, plain = false;
   int ntok = 0, rc = 0;
   char* copy = xstrdup(s);
   char* save = NULL;
   for (char* tok = strtok_r(copy, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
      ntok++;
      uint32_t c;
      if (after_on) {
         if (theme_parse_color(tok, &c) < 0) {
            *cause = xasprintf("unknown colour '%s' after 'on'", tok);
            goto fail;
         }
         st.bg = c;
         have_bg = true;
         after_on = false;
         continue;
      }
      if (strcasecmp(tok, "on") == 0) {
         if (have_bg) {
            *cause = xasprintf("two background colours in '%s'", s);
            goto fail;
         }
         after_on = true;
         continue;
      }
      if (strcasecmp(tok, "plain") == 0) {
         plain = true;
         continue;
      }
      unsigned i;
      for (i = 0; i < ARRAY_LEN(attr_names); i++)
         if (strcasecmp(tok, attr_names[i].name) == 0) break;
      if (i < ARRAY_LEN(attr_names)) {
         st.attr |= attr_names[i].bit;
         continue;
      }
      if (theme_parse_color(tok, &c) < 0) {
         *cause = xasprintf("unknown colour or attribute '%s'", tok);
         goto fail;
      }
      if (have_fg || have_bg) {
         *cause = have_fg ? xasprintf("two foreground colours in '%s' (use 'on' before a "
                                      "background colour)",
                                      s)
                          : xasprintf("a foreground colour must come before 'on' in '%s'", s);
         goto fail;
      }
      st.fg = c;
      have_fg = true;
   }
   if (after_on) {
      *cause = xstrdup("'on' needs a colour after it");
      goto fail;
   }
   if (plain && ntok > 1) {
      *cause = xasprintf("'plain' must be alone, not in '%s'", s);
      goto fail;
   }
   if (ntok == 0) {
      *cause = xstrdup("empty value (write 'plain' for no colour and no attribute)");
      goto fail;
   }
   *out = st;
   goto done;
fail:
   rc = -EINVAL;
done:
   free(copy);
   return rc;
}

/* xterm's default colours 0-15; terminals differ, so RGB never maps onto these. */
static const uint32_t ansi_rgb[16] = {
    0x000000, 0xcd0000, 0x00cd00, 0xcdcd00, 0x0000ee, 0xcd00cd, 0x00cdcd, 0xe5e5e5,
    0x7f7f7f, 0xff0000, 0x00ff00, 0xffff00, 0x5c5cff, 0xff00ff, 0x00ffff, 0xffffff,
};
static const uint8_t cube6[6] = {0, 95, 135, 175, 215, 255};
static const uint8_t cube4[4] = {0, 139, 205, 255};                      /* xterm-88 */
static const uint8_t gray88[8] = {46, 92, 115, 139, 162, 185, 208, 231}; /* xterm-88 */

uint32_t theme_xterm_rgb(int i) {
   if (i < 0 || i > 255) return 0;
   if (i < 16) return ansi_rgb[i];
   if (i < 232) {
      i -= 16;
      return (uint32_t)cube6[i / 36] << 16 | (uint32_t)cube6[i / 6 % 6] << 8 | cube6[i % 6];
   }
   uint32_t v = 8 + 10 * (uint32_t)(i - 232);
   return v << 16 | v << 8 | v;
}

static uint32_t xterm88_rgb(int i) {
   if (i < 16) return ansi_rgb[i];
   if (i < 80) {
      i -= 16;
      return (uint32_t)cube4[i / 16] << 16 | (uint32_t)cube4[i / 4 % 4] << 8 | cube4[i % 4];
   }
   uint32_t v = gray88[(i - 80) & 7];
   return v << 16 | v << 8 | v;
}

static int rgb_dist(uint32_t a, uint32_t b) {
   int dr = (int)(a >> 16 & 0xff) - (int)(b >> 16 & 0xff);
   int dg = (int)(a >> 8 & 0xff) - (int)(b >> 8 & 0xff);
   int db = (int)(a & 0xff) - (int)(b & 0xff);
   return dr * dr + dg * dg + db * db;
}

static int nearest(uint32_t rgb, int from, int to, uint32_t (*palette)(int)) {
   int best = from, best_d = rgb_dist(rgb, palette(from));
   for (int i = from + 1; i <= to && best_d > 0; i++) {
      int d = rgb_dist(rgb, palette(i));
      if (d < best_d) best = i, best_d = d;
   }
   return best;
}

/* 256 to 16 keeps the hue: the nearest colour by distance would turn dark blues black. A channel
 * counts when it is over half the strongest one; the strongest decides bright or not. */
static int to16(int i) {
   if (i < 16) return i;
   if (i >= 232) {
      int v = 8 + 10 * (i - 232);
      return v < 40 ? 0 : v < 120 ? 8 : v < 210 ? 7 : 15;
   }
   i -= 16;
   int r = i / 36, g = i / 6 % 6, b = i % 6;
   int m = r > g ? (r > b ? r : b) : (g > b ? g : b);
   if (m == 0) return 0;
   if (r == g && g == b) return m <= 2 ? 8 : m <= 4 ? 7 : 15;
   int hue = (2 * r > m ? 1 : 0) | (2 * g > m ? 2 : 0) | (2 * b > m ? 4 : 0);
   return hue + (m >= 4 ? 8 : 0);
}

int theme_color_to_term(uint32_t color, int ncolors) {
   if (ncolors < 8 || color == COLOR_DEFAULT) return -1;
   bool rgb = COLOR_KIND(color) == COLOR_KIND_RGB;
   if (!rgb && COLOR_KIND(color) != COLOR_KIND_INDEX) return -1;
   if (ncolors >= (1 << 24)) { /* direct colour: below 8 the terminal's own ANSI colours */
      uint32_t v = rgb ? color & 0xffffffu : theme_xterm_rgb((int)(color & 0xff));
      if (!rgb && (color & 0xff) < 8) return (int)(color & 0xff);
      return v < 8 ? 8 : (int)v;
   }
   int idx = rgb ? nearest(color & 0xffffffu, 16, 255, theme_xterm_rgb) : (int)(color & 0xff);
   if (ncolors >= 256) return idx;
   if (ncolors >= 88) {
      if (idx < 16) return idx;
      return nearest(rgb ? color & 0xffffffu : theme_xterm_rgb(idx), 16, 87, xterm88_rgb);
   }
   return ncolors >= 16 ? to16(idx) : to16(idx) & 7;
}

/* ---- parsing ---- */

typedef struct Parse {
   const char* filename; /* borrowed */
   const char* text;     /* borrowed: what is left to read */
   int line;             /* of the line inih is handling */
   int error_line;
   char* cause; /* owned: the first error */
   Theme* t;    /* owned until theme_parse hands it out */
   bool set[THEME_ROLE_COUNT];
   char* base; /* owned */
} Parse;

static void parse_error(Parse* ps, int line, char* msg /* owned */) {
   if (!ps->cause || line < ps->error_line) {
      free(ps->cause);
      ps->cause = xasprintf("%s:%d: %s", ps->filename, line, msg);
      ps->error_line = line;
   }
   free(msg);
}

/* inih's fgets: one line per call, so ps->line is the line of the handler call. Leading blanks go:
 * inih would take an indented line as the continuation of the previous value. */
static char* read_line(char* str, int num, void* stream) {
   Parse* ps = stream;
   if (!*ps->text) return NULL;
   const char* s = ps->text;
   const char* nl = strchr(s, '\n');
   size_t n = nl ? (size_t)(nl - s) + 1 : strlen(s);
   ps->text += n;
   ps->line++;
   while (n > 0 && (*s == ' ' || *s == '\t')) s++, n--;
   if (n + 1 > (size_t)num) {
      parse_error(ps, ps->line, xasprintf("line longer than %d bytes", num - 3));
      n = 0;
   }
   memcpy(str, s, n);
   str[n] = '\0';
   return str;
}

static int on_value(void* user, const char* section, const char* key, const char* value) {
   Parse* ps = user;
   if (strcasecmp(section, "roles") == 0) {
      for (int r = 0; r < THEME_ROLE_COUNT; r++) {
         if (strcasecmp(key, role_names[r]) != 0) continue;
         char* why = NULL;
         if (theme_parse_style(value, &ps->t->roles[r], &why) < 0) {
            parse_error(ps, ps->line, xasprintf("%s: %s", key, why));
            free(why);
            return 0;
         }
         ps->set[r] = true;
         return 1;
      }
      parse_error(ps, ps->line, xasprintf("unknown role '%s'", key));
      return 0;
   }
   if (strcasecmp(section, "theme") == 0) {
      if (strcasecmp(key, "name") == 0) {
         free(ps->t->name);
         ps->t->name = xstrdup(value);
      } else if (strcasecmp(key, "base") == 0) {
         if (strcasecmp(value, "default") && strcasecmp(value, "mono") &&
             strcasecmp(value, "none")) {
            parse_error(ps, ps->line,
                        xasprintf("unknown base '%s' (default, mono or none)", value));
            return 0;
         }
         free(ps->base);
         ps->base = xstrdup(value);
      } else if (strcasecmp(key, "description") != 0) {
         parse_error(ps, ps->line, xasprintf("unknown key '%s' in [theme]", key));
         return 0;
      }
      return 1;
   }
   if (!*section)
      parse_error(ps, ps->line, xasprintf("'%s' before any [section]", key));
   else
      parse_error(ps, ps->line, xasprintf("unknown section [%s]", section));
   return 0;
}

static char* default_name_for(const char* filename) {
   const char* b = strrchr(filename, '/');
   b = b ? b + 1 : filename;
   size_t n = strlen(b);
   if (n > 6 && strcmp(b + n - 6, ".theme") == 0) n -= 6;
   return xstrndup(b, n);
}

int theme_parse(const char* text, const char* filename, Theme** out, char** cause) {
   *out = NULL;
   Parse ps = {.filename = filename, .text = text};
   ps.t = xcalloc(1, sizeof *ps.t);
   int rc = ini_parse_stream(read_line, &ps, on_value, &ps);
   if (rc > 0 && (!ps.cause || rc < ps.error_line))
      parse_error(&ps, rc, xstrdup("expected '[section]' or 'key = value'"));
   if (rc < 0 && !ps.cause) util_die_oom(); /* -2: inih's allocation failed */
   if (ps.cause) {
      *cause = ps.cause;
      free(ps.base);
      theme_free(ps.t);
      return -EINVAL;
   }
   if (!ps.t->name) ps.t->name = default_name_for(filename);
   const char* base = ps.base ? ps.base : "default";
   if (strcasecmp(base, "none") != 0) {
      Theme* b = theme_builtin(strcasecmp(base, "mono") == 0 ? "mono" : "default");
      for (int r = 0; r < THEME_ROLE_COUNT; r++)
         if (!ps.set[r]) ps.t->roles[r] = b->roles[r];
      theme_free(b);
   }
   free(ps.base);
   *out = ps.t;
   return 0;
}

Theme* theme_builtin(const char* name) {
   const char* text = strcmp(name, "default") == 0 ? builtin_default
                      : strcmp(name, "mono") == 0  ? builtin_mono
                                                   : NULL;
   if (!text) return NULL;
   Theme* t = NULL;
   char* cause = NULL;
   char* label = xasprintf("<built-in %s>", name);
   int rc = theme_parse(text, label, &t, &cause);
   assert(rc == 0 && "the built-in themes parse");
   (void)rc;
   free(cause);
   free(label);
   return t;
}

void theme_free(Theme* t) {
   if (!t) return;
   free(t->name);
   free(t);
}

const char* theme_name(const Theme* t) {
   return t->name;
}

Style theme_role(const Theme* t, ThemeRole r) {
   assert((unsigned)r < THEME_ROLE_COUNT);
   return t->roles[r];
}

bool theme_has_color(const Theme* t) {
   for (int r = 0; r < THEME_ROLE_COUNT; r++)
      if (t->roles[r].fg != COLOR_DEFAULT || t->roles[r].bg != COLOR_DEFAULT) return true;
   return false;
}

/* ---- files ---- */

/* A FIFO, a device or a directory is refused without blocking, with words for each. */
static int read_file(const char* path, char** text, char** cause) {
   size_t len;
   char* why = NULL;
   int rc = util_read_file(path, THEME_MAX_FILE, text, &len, &why);
   if (rc < 0) *cause = xasprintf("%s: %s", path, why);
   free(why);
   return rc;
}

static int load_path(const char* path, Theme** out, char** cause) {
   char* text = NULL;
   int rc = read_file(path, &text, cause);
   if (rc < 0) return rc;
   rc = theme_parse(text, path, out, cause);
   free(text);
   return rc;
}

/* The directories searched for NAME.theme, most important first; NULL entries are skipped. */
static void theme_dirs(const char* exe_dir, char* dirs[3]) {
   const char* xdg = getenv("XDG_CONFIG_HOME");
   const char* home = getenv("HOME");
   dirs[0] = xdg && xdg[0] == '/' ? xasprintf("%s/brum/themes", xdg)
             : home && *home      ? xasprintf("%s/.config/brum/themes", home)
                                  : NULL;
   dirs[1] = exe_dir ? xasprintf("%s/themes", exe_dir) : NULL;
   dirs[2] = exe_dir ? xasprintf("%s/../share/brum/themes", exe_dir) : NULL;
}

static int cmp_str(const void* a, const void* b) {
   return strcmp(*(char* const*)a, *(char* const*)b);
}

/* "default, light, mono": every NAME.theme found plus the built-ins, sorted, once each. */
static char* available_names(char* dirs[3]) {
   size_t n = 0, cap = 16;
   char** names = xmalloc(cap * sizeof *names);
   names[n++] = xstrdup("default");
   names[n++] = xstrdup("mono");
   for (int d = 0; d < 3; d++) {
      DIR* dir = dirs[d] ? opendir(dirs[d]) : NULL;
      if (!dir) continue;
      for (struct dirent* e; (e = readdir(dir));) {
         size_t len = strlen(e->d_name);
         if (len <= 6 || e->d_name[0] == '.' || strcmp(e->d_name + len - 6, ".theme") != 0)
            continue;
         if (n == cap) names = xrealloc(names, (cap *= 2) * sizeof *names);
         names[n++] = xstrndup(e->d_name, len - 6);
      }
      closedir(dir);
   }
   qsort(names, n, sizeof *names, cmp_str);
   size_t total = 1;
   for (size_t i = 0; i < n; i++) total += strlen(names[i]) + 2;
   char* s = xmalloc(total);
   s[0] = '\0';
   for (size_t i = 0; i < n; i++) {
      if (i == 0 || strcmp(names[i], names[i - 1]) != 0) {
         if (s[0]) strcat(s, ", ");
         strcat(s, names[i]);
      }
   }
   for (size_t i = 0; i < n; i++) free(names[i]);
   free(names);
   return s;
}

int theme_load(const char* name_or_path, const char* exe_dir, Theme** out, char** cause) {
   *out = NULL;
   size_t len = strlen(name_or_path);
   if (strchr(name_or_path, '/') || (len > 6 && strcmp(name_or_path + len - 6, ".theme") == 0))
      return load_path(name_or_path, out, cause);
   if (len == 0) {
      *cause = xstrdup("empty theme name");
      return -EINVAL;
   }
   char* dirs[3];
   theme_dirs(exe_dir, dirs);
   int rc = -ENOENT;
   for (int d = 0; d < 3 && rc == -ENOENT; d++) {
      if (!dirs[d]) continue;
      char* path = xasprintf("%s/%s.theme", dirs[d], name_or_path);
      if (access(path, F_OK) == 0) rc = load_path(path, out, cause);
      free(path);
   }
   if (rc == -ENOENT && (*out = theme_builtin(name_or_path))) rc = 0;
   if (rc == -ENOENT) {
      char* names = available_names(dirs);
      *cause = xasprintf("unknown theme '%s' (available: %s)", name_or_path, names);
      free(names);
   }
   for (int d = 0; d < 3; d++) free(dirs[d]);
   return rc;
}

/* ---- curses ---- */

#define PAIR_CAP 4096   /* pairs we allocate at most, whatever COLOR_PAIRS says */
#define PAIR_SLOTS 8192 /* open addressing, twice PAIR_CAP */
#define MEMO_SLOTS 1024 /* direct-mapped: a Style's colours to a pair, overwritten on collision */

typedef struct PairSlot {
   int fg, bg, pair; /* pair 0: empty */
} PairSlot;

typedef struct MemoSlot {
   uint32_t fg, bg;
   unsigned gen;
   int pair;
   bool bold; /* bright foreground on an 8-colour terminal */
} MemoSlot;

static struct {
   unsigned gen;        /* bumped by theme_curses_init: older caches are stale */
   int ncolors;         /* 0: no colours */
   int max_pairs;       /* allocatable pairs */
   bool default_colors; /* use_default_colors worked: -1 is the terminal's own colour */
   int npairs;
   PairSlot* slots; /* owned */
   int* pair_fg;    /* owned; by pair number, for the nearest-pair fallback */
   int* pair_bg;    /* owned */
   MemoSlot memo[MEMO_SLOTS];
} cs;

int theme_curses_init(void) {
   cs.gen++;
   if (cs.gen == 0) cs.gen = 1; /* 0 means "never cached" */
   cs.npairs = 0;
   free(cs.slots);
   free(cs.pair_fg);
   free(cs.pair_bg);
   cs.slots = NULL;
   cs.pair_fg = cs.pair_bg = NULL;
   cs.ncolors = 0;
   if (!has_colors() || start_color() == ERR) return 0;
   cs.default_colors = use_default_colors() == OK;
   cs.ncolors = COLORS;
#if !NCURSES_EXT_COLORS
   if (cs.ncolors > 256) cs.ncolors = 256; /* init_pair takes shorts */
#endif
   cs.max_pairs = COLOR_PAIRS - 1 < PAIR_CAP ? COLOR_PAIRS - 1 : PAIR_CAP;
   if (cs.max_pairs < 0) cs.max_pairs = 0;
   cs.slots = xcalloc(PAIR_SLOTS, sizeof *cs.slots);
   cs.pair_fg = xcalloc((size_t)cs.max_pairs + 1, sizeof *cs.pair_fg);
   cs.pair_bg = xcalloc((size_t)cs.max_pairs + 1, sizeof *cs.pair_bg);
   return cs.ncolors;
}

static uint32_t term_rgb(int c, bool fg) {
   if (c < 0) return fg ? 0xc0c0c0 : 0x000000; /* a guess at the terminal's default colours */
   if (c < 256) return theme_xterm_rgb(c);
   if (cs.ncolors == 88) return xterm88_rgb(c);
   return (uint32_t)c & 0xffffff;
}

static int pair_for(int fg, int bg) {
   if (!cs.default_colors) { /* pair 0 is white on black then */
      if (fg < 0) fg = COLOR_WHITE;
      if (bg < 0) bg = COLOR_BLACK;
      if (fg == COLOR_WHITE && bg == COLOR_BLACK) return 0;
   } else if (fg < 0 && bg < 0) {
      return 0;
   }
   uint32_t h = ((uint32_t)fg * 2654435761u) ^ ((uint32_t)bg * 40503u);
   size_t i = h & (PAIR_SLOTS - 1);
   for (; cs.slots[i].pair; i = (i + 1) & (PAIR_SLOTS - 1))
      if (cs.slots[i].fg == fg && cs.slots[i].bg == bg) return cs.slots[i].pair;
   if (cs.npairs < cs.max_pairs) {
      int pair = cs.npairs + 1;
#if NCURSES_EXT_COLORS
      int ok = init_extended_pair(pair, fg, bg);
#else
      int ok = init_pair((short)pair, (short)fg, (short)bg);
#endif
      if (ok == ERR) return 0;
      cs.npairs = pair;
      cs.slots[i] = (PairSlot){fg, bg, pair};
      cs.pair_fg[pair] = fg;
      cs.pair_bg[pair] = bg;
      return pair;
   }
   /* out of pairs: the allocated pair whose colours look closest */
   int best = 0;
   long best_d = -1;
   for (int p = 1; p <= cs.npairs; p++) {
      long d = rgb_dist(term_rgb(fg, true), term_rgb(cs.pair_fg[p], true)) +
               (long)rgb_dist(term_rgb(bg, false), term_rgb(cs.pair_bg[p], false));
      if (best_d < 0 || d < best_d) best = p, best_d = d;
   }
   return best;
}

static unsigned long curses_attrs(uint16_t a) {
   unsigned long r = A_NORMAL;
   if (a & ATTR_BOLD) r |= A_BOLD;
   if (a & ATTR_DIM) r |= A_DIM;
   if (a & ATTR_ITALIC) r |= A_ITALIC;
   if (a & ATTR_UNDERLINE) r |= A_UNDERLINE;
   if (a & ATTR_BLINK) r |= A_BLINK;
   if (a & ATTR_REVERSE) r |= A_REVERSE;
   return r;
}

ThemeCurses theme_curses_style(const Style* s) {
   ThemeCurses c = {curses_attrs(s->attr), 0};
   if (cs.ncolors == 0 || (s->fg == COLOR_DEFAULT && s->bg == COLOR_DEFAULT)) return c;
   MemoSlot* m = &cs.memo[((s->fg * 2654435761u) ^ (s->bg * 2246822519u)) % MEMO_SLOTS];
   if (m->gen != cs.gen || m->fg != s->fg || m->bg != s->bg) {
      int fg = theme_color_to_term(s->fg, cs.ncolors);
      int bg = theme_color_to_term(s->bg, cs.ncolors);
      bool bold = cs.ncolors < 16 && theme_color_to_term(s->fg, 16) >= 8;
      *m = (MemoSlot){s->fg, s->bg, cs.gen, pair_for(fg, bg), bold};
   }
   c.pair = m->pair;
   if (m->bold) c.attr |= A_BOLD;
   return c;
}

ThemeCurses theme_curses_role(Theme* t, ThemeRole r) {
   assert((unsigned)r < THEME_ROLE_COUNT);
   if (t->curses_gen[r] != cs.gen || cs.gen == 0) {
      t->curses[r] = theme_curses_style(&t->roles[r]);
      t->curses_gen[r] = cs.gen;
   }
   return t->curses[r];
}
