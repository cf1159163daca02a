/* The UI's state and logic without curses: what each view shows (drawn into a Canvas) and what
 * each key does. The curses layer (tui.c) feeds keys and sizes in and copies the canvas out.
 * view_draw and the key handlers read RCU-published data: call them inside rcu_read_lock. The view
 * keeps ids (process id, line number, index position) between frames, never pointers. */
#ifndef BRUM_TUI_VIEW_H
#define BRUM_TUI_VIEW_H

#include <stdbool.h>
#include <stdint.h>

#include "core/filter.h"
#include "core/term.h"
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
   VK_CLICK,     /* mouse: position in View.mouse_x / mouse_y */
   VK_DRAG,      /* mouse: motion with the first button held (xterm's ESC[?1002h) */
   VK_RELEASE,   /* mouse: the first button released */
   VK_ALT,       /* input mode: a key with Alt (View.tkey) */
   VK_OTHER,     /* input mode: a key brum has no use for (View.tkey: F5, Insert, Ctrl-Up...) */
   VK_ALT_ENTER, /* Esc then Enter within the escape delay (how many terminals send Alt-Enter) */
};
#define VK_CTRL(c) ((c)&0x1f)

/* Where a pane is scrolled: following the end, or anchored at a line (and a row within it when
 * the line wraps). Positions are sequence positions: line numbers, or index positions. */
typedef struct Scroll {
   bool follow;
   uint64_t top;
   int top_row;
} Scroll;

/* Copy mode (tui/copy.c): a cursor in the pane's lines and a selection from an anchor to it.
 * Positions are the pane's sequence positions (stable), columns byte offsets into a line's text. */
typedef struct CopyMode {
   bool on;
   uint64_t line;
   uint32_t col;
   int want;           /* the character column j/k keep */
   bool sel, linewise; /* a selection from (aline, acol) to the cursor */
   uint64_t aline;
   uint32_t acol;
   bool press;     /* the first button is down in the pane: a drag selects */
   uint64_t pline; /* where it went down */
   uint32_t pcol;
   int px, py, pw, prows; /* the pane's place on the last frame */
   uint64_t* rowpos;      /* owned: per row of it, the line shown there */
   int* rowsub;           /* owned: and its wrapped row; -1: none */
   int rowcap;
} CopyMode;

typedef enum PromptKind { PK_NONE, PK_SEARCH, PK_FILTER, PK_SEND } PromptKind;

typedef struct View {
   Sup* sup;           /* borrowed */
   Filter* filter;     /* borrowed, may be NULL */
   const Project* prj; /* borrowed */
   Theme* theme;       /* borrowed */
   bool ascii;         /* no UTF-8 glyphs (the locale is not UTF-8) */
   bool no_color;      /* the theme has no colours (mono, NO_COLOR): the children's are dropped */
   int w, h;

   ViewTab tab;
   uint64_t sel;            /* selected process id */
   bool on_header;          /* the sidebar's selected row is the header of sel's group */
   bool show_lifecycle;     /* H: lifecycle scripts (preinstall, ...) in the sidebar */
   struct Sidebar* sidebar; /* owned: the sidebar's cached rows (sidebar.c) */
   struct Finder* finder;   /* owned, NULL until the first Ctrl-P (finder.c) */
   bool finder_open;
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
   Prompt* send_prompt;   /* owned: `:`, a line for the selected process; keeps its history */
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
   struct SaveJob* save;    /* owned: S's text for tui.c to write to a file (tui/save.h) */
   int mouse_x, mouse_y;
   CopyMode cm;    /* copy mode */
   bool mouse_off; /* M: the terminal keeps the mouse (tui.c applies it) */

   /* Terminal mode (tui/term_ui.c): input mode sends every key to process input_id */
   bool input;
   bool prefix_pending; /* the prefix key was pressed in input mode: the next key decides */
   int prefix;          /* the prefix key's code (VK_CTRL('a') unless configured) */
   uint64_t input_id;
   TermKey tkey; /* the key being dispatched as the child's terminal sees it (tui.c sets
                    it before view_key; TK_NONE: it has none) */
   bool want;    /* an emulated screen is wanted (sup_term_want) for want_id */
   uint64_t want_id;
   int scr_x, scr_y;       /* where the last frame drew an emulated screen (for mouse events), */
   int scr_w, scr_h;       /* scr_w 0: it drew none */
   int cursor_x, cursor_y; /* input mode: where the child's cursor is on screen (-1: hidden) */
   bool real_cursor;       /* the terminal's cursor shows it (tui.c), not a reverse cell */
   void (*open_url)(const char* url); /* how Enter opens a URL (replaceable in tests) */
} View;

void view_init(View* v, Sup* sup, Filter* filter, const Project* prj, Theme* theme);
void view_done(View* v);
void view_resize(View* v, int w, int h);
/* Makes room for processes registered since (per-process scroll state); call after sup_add. */
void view_sync(View* v);

/* The selection at launch: process id (a named script: its group unfolded, lifecycle scripts shown
 * if it is one), or with UINT64_MAX the first process the sidebar shows. Inside rcu_read_lock. */
void view_select_first(View* v, uint64_t id);
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
/* The size a child's terminal gets: the Processes view's pane less its gutter (all processes
 * share it, so switching panes never resizes a child). */
void view_term_size(const View* v, int* cols, int* rows);

/* In input mode: text the user pasted (a burst of text keys in one read of the terminal), to the
 * child as one piece (sup_input with paste: bracketed when it asked for it). Inside
 * rcu_read_lock; returns true when the screen may have changed. */
bool view_paste(View* v, const char* text, size_t n);
/* The prefix key of input mode from its text: "C-a", "Ctrl-a" or "^a" (a letter, or one of
 * @ [ \ ] ^ _ ); 0, or -EINVAL with the cause (heap). */
int view_parse_prefix(const char* text, int* key, char** cause);
/* Draws an emulated screen at x, y, clipped to w x h cells; `base` colours its default cells;
 * `cursor`: the child's cursor (when visible) as a reverse-video cell. */
void view_draw_screen(Canvas* c, int x, int y, int w, int h, const TermScreen* s, Style base,
                      bool cursor);

#endif
