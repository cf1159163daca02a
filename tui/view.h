/* The UI's state and logic without curses: what each view shows (drawn into a Canvas) and what
 * each key does. The curses layer (tui.c) feeds keys and sizes in and copies the canvas out.
 * view_draw and the key handlers read RCU-published data: call them inside rcu_read_lock. The view
 * keeps ids (process id, line number, index position) between frames, never pointers. */
#ifndef BRUM_TUI_VIEW_H
#define BRUM_TUI_VIEW_H

#include <stdbool.h>
#include <stdint.h>

#include "core/filter.h"
#include "core/sup.h"
#include "scripts/pkg.h"
#include "tui/canvas.h"
#include "tui/prompt.h"
#include "tui/theme.h"

typedef enum ViewTab { TAB_PROCS, TAB_ALL, TAB_ERRORS, TAB_URLS, TAB_HELP, TAB_COUNT } ViewTab;

/* Keys beyond Unicode code points (tui.c maps curses KEY_* to these). */
enum {
   VK_UP = 0x110000,
   VK_DOWN,
   VK_LEFT,
   VK_RIGHT,
   VK_HOME,
   VK_END,
   VK_PGUP,
   VK_PGDN,
   VK_BACKSPACE,
   VK_DELETE,
   VK_ENTER,
   VK_ESC,
   VK_TAB,
   VK_BTAB,
   VK_F1,
   VK_WHEEL_UP,
   VK_WHEEL_DOWN,
   VK_CLICK, /* mouse: position in View.mouse_x / mouse_y */
};
#define VK_CTRL(c) ((c)&0x1f)

/* Where a pane is scrolled: following the end, or anchored at a line (and a row within it when
 * the line wraps). Positions are sequence positions: line numbers, or index positions. */
typedef struct Scroll {
   bool follow;
   uint64_t top;
   int top_row;
} Scroll;

typedef enum PromptKind { PK_NONE, PK_SEARCH, PK_FILTER } PromptKind;

typedef struct View {
   Sup* sup;           /* borrowed */
   Filter* filter;     /* borrowed, may be NULL */
   const Project* prj; /* borrowed */
   Theme* theme;       /* borrowed */
   bool ascii;         /* no UTF-8 glyphs (the locale is not UTF-8) */
   bool no_color;      /* the theme has no colours (mono, NO_COLOR): the children's are dropped */
   int w, h;

   ViewTab tab;
   uint64_t sel;   /* selected process id */
   Scroll* scroll; /* owned: per process */
   size_t nscroll;
   Scroll all_scroll;
   bool wrap, timestamps, zoom, errors_only;
   int pane_rows; /* set by the last draw: rows of the output pane */

   Regex* search;         /* owned, NULL: none */
   RegexScratch* scratch; /* owned */
   uint64_t find_gen;     /* the filter worker's find job for n/N/e/E/]/[ (0: none) */
   uint16_t find_flag;    /* what it looks for: LINE_ERROR/LINE_WARNING, 0: the search */
   int find_dir;          /* +1 down, -1 up */
   uint64_t search_hit;   /* position of the current match (highlighted line) */
   bool search_has_hit;

   char* filter_text; /* owned, the active filter pattern or NULL */

   Prompt* search_prompt; /* owned: keeps the search history */
   Prompt* filter_prompt; /* owned: keeps the filter history */
   PromptKind prompting;

   char msg[256]; /* bottom-line message until the next key */
   bool msg_error;
   bool confirm_quit; /* the "quit?" dialog is open */
   bool show_res;     /* `%`: the sidebar's CPU / RSS / port columns (tui/res.c) */
   bool confirm_port; /* `K`: the "kill the port's holder?" dialog is open */
   uint64_t port_id;  /* ... for this process */
   SupPortHolder port;
   bool quit; /* the user confirmed: stop everything and exit */

   size_t err_sel, url_sel; /* selections in the Errors and URLs tabs (newest first) */
   int help_top;            /* the Help view's first line on screen */
   struct ViewFrame* frame; /* owned: what the current view_draw/key/tick call read (view.c) */
   char* copy;              /* owned: text to put on the clipboard (tui.c takes it) */
   int mouse_x, mouse_y;
   void (*open_url)(const char* url); /* how Enter opens a URL (replaceable in tests) */
} View;

void view_init(View* v, Sup* sup, Filter* filter, const Project* prj, Theme* theme);
void view_done(View* v);
void view_resize(View* v, int w, int h);
/* Makes room for processes registered since (per-process scroll state); call after sup_add. */
void view_sync(View* v);

/* Filters the current view with a pattern (the --filter option); inside rcu_read_lock. */
void view_set_filter(View* v, const char* pattern);
/* Both inside rcu_read_lock. view_key returns true when the screen may have changed. */
bool view_key(View* v, int key);
void view_draw(View* v, Canvas* c);
/* Follows the pending find job of n/N/e/E/]/[ (it runs on the filter worker, which wakes the UI
 * as it moves): progress, then the hit. Returns true when it needs another frame (never today). */
bool view_tick(View* v);
/* The key table as README.md's markdown table ("| keys | what they do |" and its rows), so a test
 * keeps the README in step with the keys. Owned by the caller. */
char* view_keys_markdown(void);
/* -EINVAL (cause names them) when two key bindings share a key in one mode and view. */
int view_keys_check(char** cause);
/* The output pane's size in cells (for the children's terminal size). */
void view_pane_size(const View* v, int* cols, int* rows);

#endif
