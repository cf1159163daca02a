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
} LineCtx;

Scroll* cur_scroll(View* v);
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

/* ---- list.c: the list widget, the sidebar, the Errors and URLs tabs */

int list_top(size_t sel, int rows); /* first visible row of `rows` that keeps `sel` in view */
/* The sidebar lists every process but the hidden ones (brum.yaml `hidden: true`; process id =
 * script index), with a header row above each run of processes of one group (brum.yaml `group`)
 * when the project names groups. */
bool proc_listed(const View* v, uint64_t id);
size_t sidebar_count(const View* v);            /* rows, headers included */
size_t sidebar_row(const View* v, uint64_t id); /* the row of a listed id; the count if hidden */
bool sidebar_id(const View* v, size_t row, uint64_t* id);  /* false: no row, or a header */
bool sidebar_nth(const View* v, size_t nth, uint64_t* id); /* the nth listed process (0: first) */
/* The next (dir > 0) or previous listed process from id; false when there is none. */
bool sidebar_step(const View* v, uint64_t id, int dir, uint64_t* out);
int sidebar_width(const View* v);
int sidebar_top(const View* v, int rows);
void draw_sidebar(View* v, Canvas* c, int y, int w, int rows);
/* The Errors tab (the list, the selected entry below it) or the URLs tab, by v->tab. */
void draw_items(View* v, Canvas* c, int y, int rows);
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

/* ---- chrome.c: header, tabs, help, bottom line, dialogs */

const char* state_glyph(const View* v, ProcState st);
ThemeRole state_role(ProcState st);
int tab_at(const View* v, int col); /* the tab under a column of the tab line, -1: none */
unsigned running_count(const View* v);

#endif
