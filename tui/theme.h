/* Colour themes: INI files (themes/NAME.theme) mapping UI roles to colours and attributes, and the
 * mapping of colours to what the terminal has. Only the theme_curses_* functions touch curses. */
#ifndef BRUM_TUI_THEME_H
#define BRUM_TUI_THEME_H

#include <stdbool.h>
#include <stdint.h>

#include "core/style.h"

typedef struct Theme Theme;

/* Keep theme_role_name's table in theme.c in the same order. */
typedef enum ThemeRole {
   THEME_HEADER,
   THEME_HEADER_ACCENT,
   THEME_TAB,
   THEME_TAB_ACTIVE,
   THEME_SIDEBAR,
   THEME_SIDEBAR_SELECTED,
   THEME_SELECTION,
   THEME_STATE_IDLE,
   THEME_STATE_STARTING,
   THEME_STATE_RUNNING,
   THEME_STATE_STOPPING,
   THEME_STATE_EXITED, /* exited with status 0 */
   THEME_STATE_FAILED,
   THEME_STATE_KILLED,
   THEME_STATE_STOPPED, /* stopped by the user */
   THEME_PANE,
   THEME_PANE_BORDER,
   THEME_GUTTER,
   THEME_TIMESTAMP,
   THEME_MARKER,        /* brum's own lines in a pane ("exited with 1") */
   THEME_MATCH,         /* every search/filter match */
   THEME_MATCH_CURRENT, /* the match n/N went to */
   THEME_ERROR,
   THEME_WARNING,
   THEME_URL,
   THEME_STATUS,
   THEME_STATUS_KEY,
   THEME_MESSAGE_ERROR,
   THEME_MESSAGE_INFO,
   THEME_PROMPT,
   THEME_PROMPT_CURSOR,
   THEME_DIALOG,
   THEME_FOLLOW_INDICATOR,
   THEME_NAME0, /* process-name prefixes in the All view: process i uses THEME_NAME0 + i % 8 */
   THEME_NAME1,
   THEME_NAME2,
   THEME_NAME3,
   THEME_NAME4,
   THEME_NAME5,
   THEME_NAME6,
   THEME_NAME7,
   THEME_ROLE_COUNT
} ThemeRole;

#define THEME_NAME_COUNT 8

const char* theme_role_name(ThemeRole r); /* "state_failed" */

/* "mono" when NO_COLOR is set and not empty, else "default". */
const char* theme_default_name(void);

/* Loads a theme. A value with a '/' or ending in ".theme" is a path; a NAME is looked up as
 * NAME.theme in $XDG_CONFIG_HOME/brum/themes (~/.config/brum/themes), <exe_dir>/themes (build
 * tree), <exe_dir>/../share/brum/themes (installed), then among the built-ins ("default",
 * "mono"). exe_dir may be NULL. Errors: -ENOENT (unknown name: cause lists the names found),
 * -EINVAL (cause "FILE:LINE: message", the first error), or the errno of a failed read. */
int theme_load(const char* name_or_path, const char* exe_dir, Theme** out, char** cause);
/* Parses theme text; `filename` only names it in messages. */
int theme_parse(const char* text, const char* filename, Theme** out, char** cause);
/* The compiled-in themes ("default", "mono"); NULL for another name. Never fails otherwise. */
Theme* theme_builtin(const char* name);
void theme_free(Theme* t);

const char* theme_name(const Theme* t);
/* A role's colours (COLOR_* of core/style.h) and ATTR_* bits. */
Style theme_role(const Theme* t, ThemeRole r);
/* False for a theme without colours (mono): the caller then drops the children's colours too. */
bool theme_has_color(const Theme* t);

/* Parses one colour: default, black..white, bright-black..bright-white (also gray/grey),
 * colorN (0-255), #rrggbb. Returns 0 or -EINVAL. Case-insensitive. */
int theme_parse_color(const char* s, uint32_t* out);
/* Parses a role value: "[FG] [on BG] [ATTR...]", e.g. "white on blue bold". */
int theme_parse_style(const char* s, Style* out, char** cause);

/* The terminal colour number nearest to `color` for a terminal with `ncolors` colours (8, 16, 88,
 * 256, or 2^24 for direct colour): -1 for the terminal's default colour. RGB goes to the nearest
 * xterm-256 entry (16-255), 256 to 16 keeps the hue, 16 to 8 drops brightness. */
int theme_color_to_term(uint32_t color, int ncolors);
/* 0xRRGGBB of an xterm-256 palette entry (xterm's default colours for 0-15). */
uint32_t theme_xterm_rgb(int index);

/* ---- curses (main thread only, after initscr) ---- */

/* What to give wattr_set(win, (attr_t)c.attr, (short)c.pair, &c.pair) or setcchar. */
typedef struct ThemeCurses {
   unsigned long attr; /* an attr_t without colour bits */
   int pair;
} ThemeCurses;

/* Calls start_color and use_default_colors when the terminal has colours, and forgets every pair
 * (after a theme change or a new screen). Returns the number of colours in use (0: none). */
int theme_curses_init(void);
/* A role's attributes and colour pair; pairs are allocated on first use and cached. */
ThemeCurses theme_curses_role(Theme* t, ThemeRole r);
/* The same for any style (child output). When the pairs run out, the nearest existing pair. */
ThemeCurses theme_curses_style(const Style* s);

#endif
