/* What the view's files share; not an API (tui.c and the tests use view.h). Each group below
 * names the file that defines it. Everything here runs inside the caller's rcu_read_lock. */
#ifndef BRUM_TUI_VIEW_IMPL_H
#define BRUM_TUI_VIEW_IMPL_H

#include "tui/view.h"

#define MIN_W 40 /* smaller terminals get the "terminal too small" screen */
#define MIN_H 10
#define MAX_LIST 4096 /* rows of the Errors and URLs lists */

/* ---- view.c: the view's state */

Style role(const View* v, ThemeRole r);
const ProcSlot* slot_of(const View* v, uint64_t id);
size_t nprocs(const View* v);
/* tui/res.c: resource figures and the port-in-use dialog */
int res_width(const View* v); /* the sidebar's extra width for the columns */
size_t res_columns(const View* v, const ProcSnap* ps, char* out, size_t size);
size_t res_title(const View* v, const ProcSnap* ps, char* out, size_t size);
bool res_toggle(View* v);
bool res_kill_holder(View* v);
bool res_confirm(View* v, int key);
bool res_dialog(const View* v, char* l1, size_t n1, char* l2, size_t n2);
void set_msg(View* v, bool error, const char* fmt, ...) __attribute__((format(printf, 3, 4)));
void select_proc(View* v, uint64_t id);
void switch_tab(View* v, int t);
/* An empty or NULL pattern clears the filter / the search. */
void apply_filter(View* v, const char* text);
void apply_search(View* v, const char* text);
void copy_text(View* v, char* text, const char* what); /* takes `text`; tui.c sends it (OSC 52) */
/* What one view_draw, view_key or view_tick call reads of the supervisor's snapshots: each
 * process's DetectSnap once, so every part of the call (a list, its sort, its keys) sees the same
 * one, never a newer one whose ring has dropped entries. Between frame_begin and frame_end. */
void frame_begin(View* v);
void frame_end(View* v);
const DetectSnap* intel_of(const View* v, uint64_t proc); /* NULL: none yet */

/* ---- seq.c: the sequence of lines a pane shows */

/* What a pane shows: a process's lines, a filter's matches, the All view's merged order, or the
 * error entries' line ranges. Positions are stable between frames. */
typedef enum SeqKind { SEQ_STORE, SEQ_IDX_LINES, SEQ_IDX_REFS, SEQ_RANGES } SeqKind;

typedef struct Seq {
   SeqKind kind;
   const LogStore* store;   /* SEQ_STORE, SEQ_IDX_LINES, SEQ_RANGES */
   uint64_t proc;           /* process of `store` */
   const LineIdx* idx;      /* SEQ_IDX_* */
   const Registry* reg;     /* SEQ_IDX_REFS */
   const DetectSnap* intel; /* SEQ_RANGES */
   bool partial;            /* SEQ_STORE: show the unfinished line at position end */
} Seq;

bool seq_get(const Seq* s, uint64_t pos, LogLine* l, uint64_t* proc);
bool seq_last(const Seq* s, uint64_t* pos); /* the last valid position, false when empty */
bool seq_first(const Seq* s, uint64_t* pos);
bool seq_next(const Seq* s, uint64_t pos, uint64_t* next);
bool seq_prev(const Seq* s, uint64_t pos, uint64_t* prev);
/* The current view's sequence; false when there is none (no process). */
bool make_seq(const View* v, Seq* s);
uint64_t view_source(const View* v);
const FilterState* active_filter(const View* v); /* NULL: none on the current view */
/* n/N: starts a find job from the current match or what is on screen (view_tick follows it). */
void search_start(View* v, int dir);
/* e/E, ]/[: the next/previous line flagged `flag` in the pane (a find job, like n/N). */
void jump_flag(View* v, uint16_t flag, int dir);
/* Cancels the pending find job, if any. */
void find_cancel(View* v);

/* ---- pane.c: the output pane */

typedef struct LineCtx {
   int name_w; /* All view: width of the process-name column, else 0 */
   bool timestamps;
   bool wrap;
   const Regex* hl[2]; /* search and filter patterns to highlight */
   bool copy;          /* copy mode: draw_line marks the cursor and selection of line `pos` */
   uint64_t pos;
} LineCtx;

Scroll* cur_scroll(View* v);
int prefix_cols(const View* v, const LineCtx* lc);    /* gutter, time, name: before the text */
int line_rows(const LogLine* l, int cols, bool wrap); /* rows a line takes, `cols` for text */
void ctx_for(View* v, LineCtx* lc);
/* Draws one log line starting at its wrapped row `skip`, at most `max_rows` rows from y.
 * Returns the rows drawn. */
int draw_line(View* v, Canvas* c, const LineCtx* lc, int x, int y, int w, int max_rows, int skip,
              const LogLine* l, uint64_t proc, bool current);
/* Resolves a following scroll into an anchor: the top line and row that show the end. */
void anchor_bottom(View* v, const Seq* s, const LineCtx* lc, int w, int rows, Scroll* sc);
/* Moves an anchored scroll by `delta` rows (negative: up). Reaching the end resumes follow. */
void scroll_by(View* v, int delta);
void scroll_to(View* v, uint64_t pos, int context_rows);
void scroll_top(View* v);
void draw_pane(View* v, Canvas* c, int x, int y, int w, int rows);
void draw_pane_title(View* v, Canvas* c, int x, int y, int w);

/* ---- copy.c: copy mode and mouse selection */

/* What copy_act does (keys.c binds them). */
enum {
   COPY_ENTER,
   COPY_LEAVE,
   COPY_LEFT,
   COPY_RIGHT,
   COPY_HOME,
   COPY_END,
   COPY_UP,
   COPY_DOWN,
   COPY_WORD,
   COPY_BACK,
   COPY_FIRST,
   COPY_LAST,
   COPY_HALF_UP,
   COPY_HALF_DOWN,
   COPY_PAGE_UP,
   COPY_PAGE_DOWN,
   COPY_SELECT,
   COPY_SELECT_LINES,
   COPY_YANK,
};
/* The key actions of copy mode: `arg` is a COPY_*. */
bool copy_act(View* v, int key, int arg);
/* A mouse press, drag or release in a pane (a drag enters copy mode and selects). */
bool copy_mouse(View* v, int key, int arg);
bool copy_mouse_toggle(View* v, int key, int arg); /* M */
/* draw_line's hooks: the style of the character at byte `at` of line lc->pos, and a mark for
 * an empty line (the cursor or selection has no character to sit on). */
Style copy_style(const View* v, const LineCtx* lc, uint32_t at, Style st);
void copy_mark_empty(const View* v, Canvas* c, const LineCtx* lc, int x, int y);
/* draw_pane's hook: row `row` of the pane (at x, y, w, rows) shows wrapped row `sub` of `pos`. */
void copy_note_row(View* v, int x, int y, int w, int rows, int row, uint64_t pos, int sub);
/* find_hit's hook: in copy mode the cursor goes to the match. */
void copy_search_hit(View* v, const Seq* s, uint64_t pos, const Regex* re);
void copy_done(View* v);
extern const char copy_hint[]; /* the bottom line in copy mode */

/* ---- list.c: the list widget, the sidebar, the Errors and URLs tabs */

/* One list: `n` rows, row `sel` kept in view and drawn in the `selected` style. */
typedef struct List {
   size_t n, sel;
   Style normal, selected;
   bool marker; /* "▸" in the first column of the selected row */
   /* draws row i's content; the row is already cleared in `base` */
   void (*row)(View* v, Canvas* c, const void* ctx, size_t i, int y, int w, Style base, bool sel);
   const void* ctx; /* borrowed: what `row` draws from */
} List;

int list_top(size_t sel, int rows); /* first visible row of `rows` that keeps `sel` in view */
void list_draw(View* v, Canvas* c, const List* l, int y, int w, int rows);
/* The Errors tab (the list, the selected entry below it) or the URLs tab, by v->tab. */
void draw_items(View* v, Canvas* c, int y, int rows);

/* ---- sidebar.c: the Processes sidebar

 * Its rows: every process but the hidden ones (brum.yaml `hidden: true`; lifecycle scripts unless
 * View.show_lifecycle; pkg_lifecycle_flags), grouped when the project has workspaces or brum.yaml
 groups (a header per
 * group: the root package's first, then in project order; a collapsed group shows only its
 * header). Built once and cached until the registry, the project, a group's folding or the
 * lifecycle toggle changes, so a frame or a key costs what it shows, not the number of processes.
 * Process id = script index. */
bool proc_listed(const View* v, uint64_t id);
size_t sidebar_count(const View* v);   /* rows, headers included */
size_t sidebar_sel_row(const View* v); /* the selected row; the count when it is not shown */
bool sidebar_id(const View* v, size_t row, uint64_t* id); /* false: no row, or a header */
bool sidebar_is_header(const View* v, size_t row);
bool sidebar_nth(const View* v, size_t nth, uint64_t* id); /* the nth shown process (0: first) */
void sidebar_move(View* v, int dir); /* j/k: the next/previous row, headers included */
void sidebar_select_row(View* v, size_t row);
enum { FOLD_LEFT, FOLD_RIGHT, FOLD_COLLAPSE, FOLD_EXPAND, FOLD_TOGGLE };
bool sidebar_fold(View* v, int how); /* false: nothing to fold (no groups) */
/* Makes id's row shown: expands its group, shows lifecycle scripts if it is one. */
void sidebar_reveal(View* v, uint64_t id);
bool proc_is_lifecycle(const View* v, uint64_t id);
void sidebar_invalidate(View* v);
void sidebar_free(View* v);
int sidebar_width(const View* v);
int sidebar_top(const View* v, int rows);
void draw_sidebar(View* v, Canvas* c, int y, int w, int rows);

/* ---- finder.c: the process finder (Ctrl-P) */

/* fzf's scoring (its v2 algorithm: the best alignment, bonuses for word starts and consecutive
 * characters): the score of `query` in `text` (`lower`: text in lowercase, same length), or -1 when
 * it is not a subsequence. Smart case: a query with an uppercase letter matches case-sensitively.
 */
int fuzzy_score(const char* query, size_t qlen, const char* text, const char* lower, size_t len);
/* The same, and where each query character matched (byte offsets in text), for queries of at most
 * 32 bytes (longer: pos is left alone). */
int fuzzy_positions(const char* query, size_t qlen, const char* text, const char* lower, size_t len,
                    uint8_t* pos);
void finder_open(View* v);
void finder_close(View* v);
void finder_free(View* v);
/* FK_*, or a PROMPT_KEY_* to edit the query */
enum { FK_TEXT, FK_UP, FK_DOWN, FK_SELECT, FK_START, FK_CLOSE };
bool finder_key(View* v, int key, int fk);
void draw_finder(View* v, Canvas* c);
/* The results for `query` (for tests and the bench): sets the query as if typed. */
void finder_set_query(View* v, const char* query);
size_t finder_results(const View* v, const uint32_t** ids);

enum { LIST_UP = -1, LIST_DOWN = 1, LIST_FIRST = 2, LIST_LAST = 3 };
void list_move(size_t* sel, size_t n, int how);
/* On the current tab's list (Errors or URLs): */
void items_move(View* v, int how);
bool items_empty(View* v);
void error_open(View* v); /* Enter: the entry in its log */
void error_copy(View* v);
void url_open(View* v);
void url_copy(View* v);

/* ---- keys.c: the key table */

/* One row of the key table as Help and README.md show it: keys, what they do (markdown). */
typedef struct KeyRow {
   const char* label;
   char text[400];
} KeyRow;
size_t key_rows(KeyRow* rows, size_t max);

/* ---- term_ui.c: input mode, the `:` line, emulated screens */

bool input_enter(View* v); /* `i`: says why not when the process does not run */
void input_leave(View* v);
/* A key in input mode: sent to the child (QUIET: nothing to draw until it answers), taken by
 * the prefix (DONE), or to run as a brum key (NORMAL: prefix + key, or a mouse event the child
 * did not ask for). */
typedef enum InputResult { INPUT_QUIET, INPUT_DONE, INPUT_NORMAL } InputResult;
InputResult input_key(View* v, int key);
void send_line(View* v, const char* text); /* `:`: the line and Enter to the selected process */
void term_prefix_label(const View* v, char* buf, size_t size); /* "Ctrl-A" */
/* Once per frame (view_draw) and key: ends input mode when its process ended or is no longer
 * shown, and tells the supervisor which emulated screen the UI wants. */
void term_frame(View* v);
const TermScreen* pane_screen(View* v); /* the screen the pane shows, NULL: the log */
void draw_pane_screen(View* v, Canvas* c, int x, int y, int w, int rows, const TermScreen* s);
/* The pane title's input-mode or full-screen badge (`used`: columns the title took); false when
 * neither applies. */
bool term_badge(View* v, Canvas* c, int x, int y, int w, int used);
void draw_input_status(View* v, Canvas* c, int y); /* the status line in input mode */

/* ---- chrome.c: header, tabs, help, bottom line, dialogs */

const char* state_glyph(const View* v, ProcState st);
ThemeRole state_role(ProcState st);
int tab_at(const View* v, int col); /* the tab under a column of the tab line, -1: none */
unsigned running_count(const View* v);

#endif
