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

struct Theme {
   char* name; /* owned */
   Style roles[THEME_ROLE_COUNT];
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
