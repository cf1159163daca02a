/* Key handling as one table: each binding names its keys, the mode and views it applies in, what
 * it does, and the help text that the Help view and the README's key table are made from. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "tui/save.h"
#include "tui/view_impl.h"

/* Who reads keys: the panes and lists, a prompt, the quit dialog; the others are coming. */
/* KM_INPUT and KM_COPY are the modes the terminal-mode issue adds; KM_FINDER: the Ctrl-P finder. */
typedef enum KeyMode { KM_NORMAL, KM_PROMPT, KM_CONFIRM, KM_INPUT, KM_COPY, KM_FINDER } KeyMode;

#define IN(t) (1u << (t))
#define V_PROCS IN(TAB_PROCS)
#define V_PANES (IN(TAB_PROCS) | IN(TAB_ALL))
#define V_LISTS (IN(TAB_ERRORS) | IN(TAB_URLS))
#define V_HELP IN(TAB_HELP)
#define V_ANY ((1u << TAB_COUNT) - 1)

enum {
   KF_TINY = 1, /* also on the "terminal too small" screen */
   KF_PROC = 2, /* in the Processes view, only when there is a process */
};

enum { KEY_DIGIT = -2, KEY_TEXT = -3, KEY_ANY = -4 }; /* '1'-'9'; any printable character; any */

typedef struct KeyBinding {
   int keys[4]; /* 0 ends the list early */
   KeyMode mode;
   unsigned views; /* IN(tab) bits, in KM_NORMAL */
   unsigned flags; /* KF_* */
   /* true when the screen may have changed */
   bool (*action)(View* v, int key, int arg);
   int arg;
   const char* label; /* the keys as Help and README.md show them: one row per label; NULL: none */
   const char* help;  /* NULL: the row's text is another binding's */
} KeyBinding;

/* ---------------------------------------------------------------- every view, dialogs, prompts */

static bool act_quit(View* v, int key, int arg) {
   (void)key, (void)arg;
   if (running_count(v))
      v->confirm_quit = true;
   else
      v->quit = true;
   return true;
}

static bool act_confirm(View* v, int key, int yes) {
   if (v->confirm_port) return res_confirm(v, key);
   v->confirm_quit = false;
   v->quit = yes;
   return true;
}

static bool act_tab(View* v, int key, int delta) {
   (void)key;
   switch_tab(v, (int)v->tab + delta);
   return true;
}

static bool act_help(View* v, int key, int arg) {
   (void)key, (void)arg;
   switch_tab(v, v->tab == TAB_HELP ? TAB_PROCS : TAB_HELP);
   return true;
}

static bool act_help_back(View* v, int key, int arg) {
   (void)key, (void)arg;
   switch_tab(v, TAB_PROCS);
   return true;
}

static bool act_click(View* v, int key, int arg) {
   (void)key, (void)arg;
   int x = v->mouse_x, y = v->mouse_y;
   if (y == 1) {
      int t = tab_at(v, x);
      if (t >= 0) switch_tab(v, t);
      return t >= 0;
   }
   if (v->tab == TAB_PROCS && y >= 2 && y < v->h - 1 && x < sidebar_width(v)) {
      size_t row = (size_t)(sidebar_top(v, v->h - 3) + (y - 2));
      if (row >= sidebar_count(v)) return false;
      sidebar_select_row(v, row);
      if (sidebar_is_header(v, row)) sidebar_fold(v, FOLD_TOGGLE); /* a click on a header */
      return true;
   }
   /* in a pane: where a drag would start selecting */
   return (v->tab == TAB_PROCS || v->tab == TAB_ALL) && copy_mouse(v, key, arg);
}

/* The mouse in copy mode: in the pane it moves the cursor or selects; elsewhere (a process, a
 * tab) it leaves copy mode and clicks there. */
static bool act_copy_mouse(View* v, int key, int arg) {
   if (copy_mouse(v, key, arg) || key != VK_CLICK) return true;
   copy_act(v, key, COPY_LEAVE);
   act_click(v, key, arg);
   return true;
}

static Prompt* prompt_of(View* v, PromptKind kind) {
   return kind == PK_SEARCH ? v->search_prompt
          : kind == PK_SEND ? v->send_prompt
                            : v->filter_prompt;
}

/* A key in the search, filter or `:` prompt: `pk` is a PROMPT_KEY_*, or 0 to type the key. */
static bool act_prompt(View* v, int key, int pk) {
   Prompt* pr = prompt_of(v, v->prompting);
   PromptResult res = prompt_key(pr, pk ? pk : key);
   if (res == PROMPT_SUBMIT) {
      char* text = xstrdup(prompt_text(pr));
      PromptKind kind = v->prompting;
      v->prompting = PK_NONE;
      v->msg[0] = '\0';
      if (kind == PK_FILTER)
         apply_filter(v, text);
      else if (kind == PK_SEND)
         send_line(v, text);
      else
         apply_search(v, text);
      free(text);
   } else if (res == PROMPT_CANCEL) {
      v->prompting = PK_NONE;
   }
   return true;
}

static bool act_open_prompt(View* v, int key, int kind) {
   (void)key;
   prompt_reset(prompt_of(v, (PromptKind)kind), kind == PK_FILTER ? v->filter_text : NULL);
   v->prompting = (PromptKind)kind;
   return true;
}

/* ---------------------------------------------------------------- the Processes view */

static bool act_select(View* v, int key, int delta) {
   (void)key;
   sidebar_move(v, delta);
   return true;
}

static bool act_fold(View* v, int key, int how) {
   (void)key;
   return sidebar_fold(v, how);
}

static bool act_lifecycle(View* v, int key, int arg) {
   (void)key, (void)arg;
   v->show_lifecycle = !v->show_lifecycle;
   size_t n = 0;
   for (size_t i = 0; i < nprocs(v); i++) n += proc_is_lifecycle(v, i);
   set_msg(v, false, "lifecycle scripts %s (%zu)", v->show_lifecycle ? "shown" : "hidden", n);
   return true;
}

static bool act_finder_open(View* v, int key, int arg) {
   (void)key, (void)arg;
   if (!nprocs(v)) return false;
   finder_open(v);
   return true;
}

static bool act_finder(View* v, int key, int fk) {
   return finder_key(v, key, fk);
}

static bool act_select_nth(View* v, int key, int arg) {
   (void)arg;
   uint64_t id;
   if (sidebar_nth(v, (size_t)(key - '1'), &id)) select_proc(v, id);
   return true;
}

/* Enter starts an idle or ended process, or one in backoff at once (and does nothing to a running
 * or waiting one); s says so. */
static bool act_start(View* v, int key, int say) {
   (void)key;
   if (v->on_header && key != 's') return sidebar_fold(v, FOLD_TOGGLE); /* Enter on a header */
   const ProcSnap* ps = sup_snap(slot_of(v, v->sel));
   if (snap_is_active(ps->state)) {
      if (say) set_msg(v, false, "%s is already running", slot_of(v, v->sel)->name);
      return say;
   }
   if (ps->state == PROC_WAITING) { /* it starts by itself once its dependencies are met */
      if (say) set_msg(v, false, "%s: %s", slot_of(v, v->sel)->name, ps->message);
      return say;
   }
   sup_start(v->sup, v->sel);
   cur_scroll(v)->follow = true;
   return true;
}

enum { OP_STOP, OP_KILL, OP_RESTART };

static bool act_proc(View* v, int key, int op) {
   (void)key;
   if (op == OP_STOP) sup_stop(v->sup, v->sel);
   if (op == OP_KILL) sup_kill(v->sup, v->sel);
   if (op == OP_RESTART) sup_restart(v->sup, v->sel), cur_scroll(v)->follow = true;
   return true;
}

static bool act_restart_all(View* v, int key, int arg) {
   (void)key, (void)arg;
   const Registry* r = sup_registry(v->sup);
   unsigned n = 0;
   for (size_t i = 0; i < r->n; i++)
      if (snap_is_active(sup_snap(r->slots[i])->state)) sup_restart(v->sup, i), n++;
   set_msg(v, false, "restarting %u process%s", n, n == 1 ? "" : "es");
   return true;
}

enum { T_ZOOM, T_ERRORS_ONLY, T_WRAP, T_TIMESTAMPS };

static bool act_res(View* v, int key, int kill) {
   (void)key;
   return kill ? res_kill_holder(v) : res_toggle(v);
}

static bool act_toggle(View* v, int key, int which) {
   (void)key;
   if (which == T_ZOOM) v->zoom = !v->zoom;
   if (which == T_ERRORS_ONLY) v->errors_only = !v->errors_only, cur_scroll(v)->follow = true;
   if (which == T_TIMESTAMPS) v->timestamps = !v->timestamps;
   if (which == T_WRAP) {
      v->wrap = !v->wrap;
      set_msg(v, false, "wrap %s", v->wrap ? "on" : "off");
   }
   return true;
}

/* arg: +1/-1 next/previous error, +2/-2 next/previous warning */
static bool act_jump(View* v, int key, int arg) {
   (void)key;
   jump_flag(v, arg == 1 || arg == -1 ? LINE_ERROR : LINE_WARNING, arg > 0 ? +1 : -1);
   return true;
}

static bool act_input(View* v, int key, int arg) {
   (void)key, (void)arg;
   return input_enter(v);
}

/* ---------------------------------------------------------------- output panes */

enum { PAGE = 1000, HALF_PAGE = 1001 };

/* arg: rows, or +-PAGE, +-HALF_PAGE */
static bool act_scroll(View* v, int key, int arg) {
   (void)key;
   int page = v->pane_rows > 1 ? v->pane_rows - 1 : 1;
   int half = page / 2 ? page / 2 : 1;
   int n = abs(arg) == PAGE ? page : abs(arg) == HALF_PAGE ? half : abs(arg);
   scroll_by(v, arg < 0 ? -n : n);
   return true;
}

static bool act_top(View* v, int key, int arg) {
   (void)key, (void)arg;
   scroll_top(v);
   return true;
}

static bool act_bottom(View* v, int key, int arg) {
   (void)key, (void)arg;
   cur_scroll(v)->follow = true;
   v->search_has_hit = false;
   return true;
}

static bool act_search_next(View* v, int key, int dir) {
   (void)key;
   if (v->search) search_start(v, dir);
   return v->search != NULL;
}

static bool act_clear_search(View* v, int key, int arg) {
   (void)key, (void)arg;
   if (!v->search && !v->msg[0]) return false;
   apply_search(v, NULL);
   v->msg[0] = '\0';
   return true;
}

static bool act_save(View* v, int key, int arg) {
   (void)key, (void)arg;
   save_collect(v);
   return true;
}

/* ---------------------------------------------------------------- the lists and Help */

static bool act_list_move(View* v, int key, int how) {
   (void)key;
   items_move(v, how);
   return true;
}

enum { ERROR_OPEN, ERROR_COPY, URL_OPEN, URL_COPY };

/* Enter and c in Errors and URLs: nothing to do on an empty list. */
static bool act_item(View* v, int key, int arg) {
   (void)key;
   if (items_empty(v)) return false;
   static void (*const fns[])(View*) = {error_open, error_copy, url_open, url_copy};
   fns[arg](v);
   return true;
}

/* arg: rows, +-PAGE, or LIST_FIRST / LIST_LAST */
static bool act_help_scroll(View* v, int key, int arg) {
   (void)key;
   int page = v->h > 6 ? v->h - 5 : 1;
   if (arg == LIST_FIRST)
      v->help_top = 0;
   else if (arg == LIST_LAST)
      v->help_top = 1 << 20; /* draw_help clamps */
   else
      v->help_top += abs(arg) == PAGE ? (arg < 0 ? -page : page) : arg;
   if (v->help_top < 0) v->help_top = 0;
   return true;
}

/* Every key in input mode (keys_table's KM_INPUT row): to the child, or the prefix's. */
static bool act_input_key(View* v, int key, int arg);

/* ---------------------------------------------------------------- the table */

#define QUIT "`q`, Ctrl-C"
#define STARTSTOP "`s` / `x` / `X` / `r`"
#define SCROLL "Ctrl-E/Ctrl-Y, PgUp/PgDn/Space, Ctrl-U/Ctrl-D"
#define TOP "`g` / `G`, Home/End"
#define VIEWS "Tab / Shift-Tab, `?`"
#define SEL "`j`/`k`, Up/Down"
#define SEARCH "`/`"
#define TOGGLES "`w` / `t` / `z`"
#define JUMPS "`e` / `E`, `]` / `[`"
#define MOVE "Left/Right, Home/End, Ctrl-A/Ctrl-E"
#define EDIT "Backspace, Delete, Ctrl-W, Ctrl-U"
#define ENTER VK_ENTER, '\r', '\n'
#define COPYMOVE "copy mode: `h`/`j`/`k`/`l`, arrows"
#define COPYJUMP "copy mode: `w` / `b`, `0` / `$`, `g` / `G`"
#define COPYPAGE "copy mode: Ctrl-U/Ctrl-D, PgUp/PgDn"
#define COPYSEL "copy mode: `v` / `V`"
#define COPYYANK "copy mode: `y`, Enter"
#define COPYFIND "copy mode: `/`, `n` / `N`"
#define COPYLEAVE "copy mode: Esc, `q`"
#define FOLD "Left/Right, `-`/`+`"
#define FINDER_KEYS "Enter / Ctrl-O, Alt-Enter / Esc"
#define FMOVE "Up/Down, Ctrl-P/Ctrl-N"
#define N KM_NORMAL
#define P KM_PROMPT
#define F KM_FINDER
#define C KM_COPY

/* Rows of Help and README.md come in the order of their labels' first bindings. */
/* clang-format off */
static const KeyBinding keys_table[] = {
    {{'j', VK_DOWN}, N, V_PROCS, KF_PROC, act_select, 1, SEL, "select process"},
    {{'k', VK_UP}, N, V_PROCS, KF_PROC, act_select, -1, SEL, NULL},
    {{'j', VK_DOWN}, N, V_LISTS, 0, act_list_move, LIST_DOWN, SEL, "Errors/URLs: select entry"},
    {{'k', VK_UP}, N, V_LISTS, 0, act_list_move, LIST_UP, SEL, NULL},
    {{'j', VK_DOWN}, N, V_HELP, 0, act_help_scroll, 1, SEL, "Help: scroll"},
    {{'k', VK_UP}, N, V_HELP, 0, act_help_scroll, -1, SEL, NULL},
    {{KEY_DIGIT}, N, V_PROCS, KF_PROC, act_select_nth, 0, "`1`-`9`", "jump to the Nth process"},
    {{ENTER}, N, V_PROCS, KF_PROC, act_start, 0, "Enter",
     "start the selected script (restart it if it has ended)"},
    {{ENTER}, N, IN(TAB_ERRORS), 0, act_item, ERROR_OPEN, "Enter",
     "Errors: jump to the entry in its log"},
    {{ENTER}, N, IN(TAB_URLS), 0, act_item, URL_OPEN, "Enter",
     "URLs: open it (`$BROWSER` or xdg-open)"},
    {{'s'}, N, V_PROCS, KF_PROC, act_start, 1, STARTSTOP,
     "start / stop (SIGTERM, SIGKILL after the grace period) / kill now / restart"},
    {{'x'}, N, V_PROCS, KF_PROC, act_proc, OP_STOP, STARTSTOP, NULL},
    {{'X'}, N, V_PROCS, KF_PROC, act_proc, OP_KILL, STARTSTOP, NULL},
    {{'r'}, N, V_PROCS, KF_PROC, act_proc, OP_RESTART, STARTSTOP, NULL},
    {{'R', VK_CTRL('r')}, N, V_PROCS, KF_PROC, act_restart_all, 0, "`R`, Ctrl-R",
     "restart all running processes"},
    {{VK_CTRL('e')}, N, V_PANES, KF_PROC, act_scroll, 1, SCROLL,
     "scroll a line, a page, half a page (Space: a page down; scrolling up pauses follow mode)"},
    {{VK_CTRL('y')}, N, V_PANES, KF_PROC, act_scroll, -1, SCROLL, NULL},
    {{VK_PGDN, ' '}, N, V_PANES, KF_PROC, act_scroll, PAGE, SCROLL, NULL},
    {{VK_PGUP}, N, V_PANES, KF_PROC, act_scroll, -PAGE, SCROLL, NULL},
    {{VK_CTRL('d')}, N, V_PANES, KF_PROC, act_scroll, HALF_PAGE, SCROLL, NULL},
    {{VK_CTRL('u')}, N, V_PANES, KF_PROC, act_scroll, -HALF_PAGE, SCROLL, NULL},
    {{VK_PGDN, ' '}, N, V_HELP, 0, act_help_scroll, PAGE, SCROLL, NULL},
    {{VK_PGUP}, N, V_HELP, 0, act_help_scroll, -PAGE, SCROLL, NULL},
    {{'g', VK_HOME}, N, V_PANES, KF_PROC, act_top, 0, TOP,
     "top / bottom (`G` and End resume follow)"},
    {{'G', VK_END}, N, V_PANES, KF_PROC, act_bottom, 0, TOP, NULL},
    {{'g', VK_HOME}, N, V_LISTS, 0, act_list_move, LIST_FIRST, TOP,
     "Errors/URLs: first / last entry"},
    {{'G', VK_END}, N, V_LISTS, 0, act_list_move, LIST_LAST, TOP, NULL},
    {{'g', VK_HOME}, N, V_HELP, 0, act_help_scroll, LIST_FIRST, TOP, NULL},
    {{'G', VK_END}, N, V_HELP, 0, act_help_scroll, LIST_LAST, TOP, NULL},
    {{VK_CLICK}, N, V_ANY, 0, act_click, 0, "mouse",
     "click selects a process or a tab; the wheel scrolls"},
    {{VK_DRAG, VK_RELEASE}, N, V_PANES, KF_PROC, copy_mouse, 0, "mouse",
     "a drag in a pane selects text (copy mode: `y` copies it)"},
    {{VK_WHEEL_DOWN}, N, V_PANES, KF_PROC, act_scroll, 3, "mouse", NULL},
    {{VK_WHEEL_UP}, N, V_PANES, KF_PROC, act_scroll, -3, "mouse", NULL},
    {{VK_WHEEL_DOWN}, N, V_LISTS, 0, act_list_move, LIST_DOWN, "mouse", NULL},
    {{VK_WHEEL_UP}, N, V_LISTS, 0, act_list_move, LIST_UP, "mouse", NULL},
    {{VK_WHEEL_DOWN}, N, V_HELP, 0, act_help_scroll, 3, "mouse", NULL},
    {{VK_WHEEL_UP}, N, V_HELP, 0, act_help_scroll, -3, "mouse", NULL},
    {{'/'}, N, V_PANES, KF_PROC, act_open_prompt, PK_SEARCH, SEARCH,
     "search: highlight every match, `n`/`N` next/previous, Esc clears"},
    {{'n'}, N, V_PANES, KF_PROC, act_search_next, +1, SEARCH, NULL},
    {{'N'}, N, V_PANES, KF_PROC, act_search_next, -1, SEARCH, NULL},
    {{VK_ESC}, N, V_PANES, KF_PROC, act_clear_search, 0, SEARCH, NULL},
    {{'f', '&'}, N, V_PANES, KF_PROC, act_open_prompt, PK_FILTER, "`f`, `&`",
     "filter: show only matching lines (`filter: shown/total`); an empty pattern clears it"},
    {{'w'}, N, V_PANES, KF_PROC, act_toggle, T_WRAP, TOGGLES,
     "wrap long lines / timestamps / zoom the pane to the full screen"},
    {{'t'}, N, V_PANES, KF_PROC, act_toggle, T_TIMESTAMPS, TOGGLES, NULL},
    {{'z'}, N, V_PROCS, KF_PROC, act_toggle, T_ZOOM, TOGGLES, NULL},
    {{'e'}, N, V_PANES, KF_PROC, act_jump, +1, JUMPS,
     "next / previous error, next / previous warning"},
    {{'E'}, N, V_PANES, KF_PROC, act_jump, -1, JUMPS, NULL},
    {{']'}, N, V_PANES, KF_PROC, act_jump, +2, JUMPS, NULL},
    {{'['}, N, V_PANES, KF_PROC, act_jump, -2, JUMPS, NULL},
    {{'v'}, N, V_PANES, KF_PROC, copy_act, COPY_ENTER, "`v`",
     "copy mode: a cursor in the pane's lines, from its bottom line (keys below)"},
    {{'M'}, N, V_ANY, 0, copy_mouse_toggle, 0, "`M`",
     "mouse capture off (the terminal's own selection works) / on again"},
    {{'M'}, C, V_ANY, 0, copy_mouse_toggle, 0, "`M`", NULL},
    {{'h', VK_LEFT}, C, V_ANY, 0, copy_act, COPY_LEFT, COPYMOVE, "move the cursor"},
    {{'l', VK_RIGHT}, C, V_ANY, 0, copy_act, COPY_RIGHT, COPYMOVE, NULL},
    {{'k', VK_UP}, C, V_ANY, 0, copy_act, COPY_UP, COPYMOVE, NULL},
    {{'j', VK_DOWN}, C, V_ANY, 0, copy_act, COPY_DOWN, COPYMOVE, NULL},
    {{'w'}, C, V_ANY, 0, copy_act, COPY_WORD, COPYJUMP,
     "next / previous word, start / end of the line, first / last line"},
    {{'b'}, C, V_ANY, 0, copy_act, COPY_BACK, COPYJUMP, NULL},
    {{'0', VK_HOME}, C, V_ANY, 0, copy_act, COPY_HOME, COPYJUMP, NULL},
    {{'$', VK_END}, C, V_ANY, 0, copy_act, COPY_END, COPYJUMP, NULL},
    {{'g'}, C, V_ANY, 0, copy_act, COPY_FIRST, COPYJUMP, NULL},
    {{'G'}, C, V_ANY, 0, copy_act, COPY_LAST, COPYJUMP, NULL},
    {{VK_CTRL('u')}, C, V_ANY, 0, copy_act, COPY_HALF_UP, COPYPAGE,
     "half a page, a page up / down"},
    {{VK_CTRL('d')}, C, V_ANY, 0, copy_act, COPY_HALF_DOWN, COPYPAGE, NULL},
    {{VK_PGUP}, C, V_ANY, 0, copy_act, COPY_PAGE_UP, COPYPAGE, NULL},
    {{VK_PGDN}, C, V_ANY, 0, copy_act, COPY_PAGE_DOWN, COPYPAGE, NULL},
    {{'v'}, C, V_ANY, 0, copy_act, COPY_SELECT, COPYSEL,
     "select characters / whole lines from the cursor (again: no selection)"},
    {{'V'}, C, V_ANY, 0, copy_act, COPY_SELECT_LINES, COPYSEL, NULL},
    {{'y', ENTER}, C, V_ANY, 0, copy_act, COPY_YANK, COPYYANK,
     "copy the selection (else the cursor's line) as plain text (OSC 52) and leave"},
    {{'/'}, C, V_ANY, 0, act_open_prompt, PK_SEARCH, COPYFIND,
     "search; the cursor goes to the match"},
    {{'n'}, C, V_ANY, 0, act_search_next, +1, COPYFIND, NULL},
    {{'N'}, C, V_ANY, 0, act_search_next, -1, COPYFIND, NULL},
    {{VK_ESC, 'q', VK_CTRL('c')}, C, V_ANY, 0, copy_act, COPY_LEAVE, COPYLEAVE,
     "leave copy mode"},
    {{VK_CLICK, VK_DRAG, VK_RELEASE}, C, V_ANY, 0, act_copy_mouse, 0, NULL, NULL},
    {{VK_WHEEL_DOWN}, C, V_ANY, 0, act_scroll, 3, NULL, NULL},
    {{VK_WHEEL_UP}, C, V_ANY, 0, act_scroll, -3, NULL, NULL},
    {{'i'}, N, V_PROCS, KF_PROC, act_input, 0, "`i`",
     "input mode: every key goes to the selected process (arrows, Ctrl- and Alt- keys, F1-F12, "
     "text; the mouse when it asks for it); full-screen programs (vi, less, htop) show as on a "
     "terminal"},
    {{KEY_ANY}, KM_INPUT, V_ANY, 0, act_input_key, 0, "Ctrl-A Esc / Ctrl-A Ctrl-A / Ctrl-A key",
     "in input mode: leave / send Ctrl-A / leave and run that brum key (Ctrl-A j: next process); "
     "the prefix is set with --prefix-key or brum.yaml's prefix_key"},
    {{':'}, N, V_PROCS, KF_PROC, act_open_prompt, PK_SEND, "`:`",
     "send a line (the text and Enter) to the selected process, e.g. `rs` to nodemon"},
    {{'S'}, N, V_PANES, KF_PROC, act_save, 0, "`S`",
     "save the pane's lines (with a filter: the matching ones) to ./brum-NAME-DATE-TIME.log"},
    {{'%'}, N, V_PROCS, KF_PROC, act_res, 0, "`%`",
     "CPU, memory (RSS) and listening TCP ports of each running process (with its children) in the sidebar "
     "and the pane title (sampled every 2 s while shown)"},
    {{'K'}, N, V_PROCS, KF_PROC, act_res, 1, "`K`",
     "after a server failed with \"address already in use\": kill the process holding the port "
     "(asks first; one of brum's is stopped) and restart the script"},
    {{'p'}, N, V_PROCS, KF_PROC, act_toggle, T_ERRORS_ONLY, "`p`",
     "only errors and warnings, with their stack traces"},
    {{VK_CTRL('p')}, N, V_ANY, 0, act_finder_open, 0, "Ctrl-P",
     "find a process by name, package or command (fuzzy, ranked as fzf ranks)"},
    {{VK_LEFT, '-'}, N, V_PROCS, KF_PROC, act_fold, FOLD_COLLAPSE, FOLD,
     "groups: fold (from a process: its group, the header selected) / unfold (on an open header: "
     "go to its first process); Enter or a click on a header toggles it"},
    {{VK_RIGHT}, N, V_PROCS, KF_PROC, act_fold, FOLD_RIGHT, FOLD, NULL},
    {{'+', '='}, N, V_PROCS, KF_PROC, act_fold, FOLD_EXPAND, FOLD, NULL},
    {{'H'}, N, V_PROCS, KF_PROC, act_lifecycle, 0, "`H`",
     "show / hide lifecycle scripts (`preinstall`, `postinstall`, ..., and `pre<x>`/`post<x>` of a "
     "script `<x>`: hidden by default)"},
    {{'c'}, N, IN(TAB_ERRORS), 0, act_item, ERROR_COPY, "`c`",
     "Errors/URLs: copy the entry or URL to the clipboard (OSC 52: works through SSH and "
     "tmux with `set-clipboard on`)"},
    {{'c'}, N, IN(TAB_URLS), 0, act_item, URL_COPY, "`c`", NULL},
    {{VK_TAB}, N, V_ANY, 0, act_tab, +1, VIEWS, "next / previous view, help (F1; Esc leaves it)"},
    {{VK_BTAB}, N, V_ANY, 0, act_tab, -1, VIEWS, NULL},
    {{'?', VK_F1}, N, V_ANY, 0, act_help, 0, VIEWS, NULL},
    {{VK_ESC}, N, V_HELP, 0, act_help_back, 0, VIEWS, NULL},
    {{'q', VK_CTRL('c')}, N, V_ANY, KF_TINY, act_quit, 0, QUIT,
     "quit; asks when processes are running (`y` or `q` confirms, `n`/Esc cancels)"},
    {{'y', 'Y', 'q', VK_CTRL('c')}, KM_CONFIRM, V_ANY, 0, act_confirm, 1, QUIT, NULL},
    {{'n', 'N', VK_ESC}, KM_CONFIRM, V_ANY, 0, act_confirm, 0, QUIT, NULL},
    {{VK_LEFT}, P, V_ANY, 0, act_prompt, PROMPT_KEY_LEFT, MOVE, "in a prompt: move the cursor"},
    {{VK_RIGHT}, P, V_ANY, 0, act_prompt, PROMPT_KEY_RIGHT, MOVE, NULL},
    {{VK_HOME, VK_CTRL('a')}, P, V_ANY, 0, act_prompt, PROMPT_KEY_HOME, MOVE, NULL},
    {{VK_END, VK_CTRL('e')}, P, V_ANY, 0, act_prompt, PROMPT_KEY_END, MOVE, NULL},
    {{VK_BACKSPACE, 0x7f, VK_CTRL('h')}, P, V_ANY, 0, act_prompt, PROMPT_KEY_BACKSPACE, EDIT,
     "in a prompt: delete the character before / under the cursor, the word before it, the line"},
    {{VK_DELETE}, P, V_ANY, 0, act_prompt, PROMPT_KEY_DELETE, EDIT, NULL},
    {{VK_CTRL('w')}, P, V_ANY, 0, act_prompt, PROMPT_KEY_CTRL_W, EDIT, NULL},
    {{VK_CTRL('u')}, P, V_ANY, 0, act_prompt, PROMPT_KEY_CTRL_U, EDIT, NULL},
    {{VK_UP}, P, V_ANY, 0, act_prompt, PROMPT_KEY_UP, "Up/Down",
     "in a prompt: earlier / later patterns"},
    {{VK_DOWN}, P, V_ANY, 0, act_prompt, PROMPT_KEY_DOWN, "Up/Down", NULL},
    {{ENTER}, P, V_ANY, 0, act_prompt, PROMPT_KEY_ENTER, "Enter / Esc, Ctrl-C",
     "in a prompt: apply / cancel"},
    {{VK_ESC, VK_CTRL('c')}, P, V_ANY, 0, act_prompt, PROMPT_KEY_ESC, "Enter / Esc, Ctrl-C", NULL},
    {{KEY_TEXT}, P, V_ANY, 0, act_prompt, 0, NULL, NULL},
    {{VK_UP, VK_CTRL('p')}, F, V_ANY, 0, act_finder, FK_UP, FMOVE,
     "in the finder: previous / next match"},
    {{VK_DOWN, VK_CTRL('n')}, F, V_ANY, 0, act_finder, FK_DOWN, FMOVE, NULL},
    {{ENTER}, F, V_ANY, 0, act_finder, FK_SELECT, FINDER_KEYS,
     "in the finder: show the process (its group unfolded, lifecycle scripts shown if it is one) "
     "/ show and start it / close"},
    {{VK_CTRL('o'), VK_ALT_ENTER}, F, V_ANY, 0, act_finder, FK_START, FINDER_KEYS, NULL},
    {{VK_ESC, VK_CTRL('c')}, F, V_ANY, 0, act_finder, FK_CLOSE, FINDER_KEYS, NULL},
    {{VK_LEFT}, F, V_ANY, 0, act_finder, PROMPT_KEY_LEFT, NULL, NULL},
    {{VK_RIGHT}, F, V_ANY, 0, act_finder, PROMPT_KEY_RIGHT, NULL, NULL},
    {{VK_HOME, VK_CTRL('a')}, F, V_ANY, 0, act_finder, PROMPT_KEY_HOME, NULL, NULL},
    {{VK_END, VK_CTRL('e')}, F, V_ANY, 0, act_finder, PROMPT_KEY_END, NULL, NULL},
    {{VK_BACKSPACE, 0x7f, VK_CTRL('h')}, F, V_ANY, 0, act_finder, PROMPT_KEY_BACKSPACE, NULL, NULL},
    {{VK_DELETE}, F, V_ANY, 0, act_finder, PROMPT_KEY_DELETE, NULL, NULL},
    {{VK_CTRL('w')}, F, V_ANY, 0, act_finder, PROMPT_KEY_CTRL_W, NULL, NULL},
    {{VK_CTRL('u')}, F, V_ANY, 0, act_finder, PROMPT_KEY_CTRL_U, NULL, NULL},
    {{KEY_TEXT}, F, V_ANY, 0, act_finder, FK_TEXT, NULL, NULL},
};
/* clang-format on */
#undef N
#undef P
#undef C
#undef F

/* ---------------------------------------------------------------- dispatch */

static bool key_in(const KeyBinding* b, int key) {
   for (size_t i = 0; i < ARRAY_LEN(b->keys) && b->keys[i]; i++) {
      int k = b->keys[i];
      if (k == key || k == KEY_ANY || (k == KEY_DIGIT && key >= '1' && key <= '9') ||
          (k == KEY_TEXT && key >= 0x20 && key != 0x7f && key < 0x110000))
         return true;
   }
   return false;
}

static const KeyBinding* key_binding(const View* v, KeyMode mode, int key) {
   bool tiny = v->w < MIN_W || v->h < MIN_H;
   for (size_t i = 0; i < ARRAY_LEN(keys_table); i++) {
      const KeyBinding* b = &keys_table[i];
      if (b->mode != mode || !key_in(b, key)) continue;
      if (mode == KM_NORMAL && !(b->views & IN(v->tab))) continue;
      if (mode == KM_NORMAL && tiny && !(b->flags & KF_TINY)) continue;
      if ((b->flags & KF_PROC) && v->tab == TAB_PROCS && nprocs(v) == 0) continue;
      return b;
   }
   return NULL;
}

static bool act_input_key(View* v, int key, int arg) {
   (void)arg;
   InputResult r = input_key(v, key);
   if (r != INPUT_NORMAL) return r == INPUT_DONE;
   const KeyBinding* b = key_binding(v, KM_NORMAL, key);
   bool changed = b ? b->action(v, key, b->arg) : false;
   return changed || !v->input; /* leaving input mode changes the chrome */
}

bool view_key(View* v, int key) {
   bool mouse = key == VK_CLICK || key == VK_WHEEL_UP || key == VK_WHEEL_DOWN || key == VK_DRAG ||
                key == VK_RELEASE;
   v->msg[0] = mouse || v->input ? v->msg[0] : '\0'; /* input mode: keys are the child's */
   if (v->quit) return false;                        /* stopping: keys wait */
   frame_begin(v);
   bool was_input = v->input;
   term_frame(v); /* input mode ends with its process, before this key could go to it */
   if (v->w < MIN_W || v->h < MIN_H) { /* the too-small screen shows neither: leave them */
      if (v->finder_open) finder_close(v);
      v->cm.on = v->cm.sel = v->cm.press = false;
   }
   if (was_input && !v->input && !mouse) { /* typed for the child, not meant for brum (`s`, `q`) */
      frame_end(v);
      return true;
   }
   KeyMode mode = v->confirm_quit || v->confirm_port ? KM_CONFIRM
                  : v->prompting != PK_NONE          ? KM_PROMPT
                  : v->finder_open                   ? KM_FINDER
                  : v->input                         ? KM_INPUT
                  : v->cm.on                         ? KM_COPY
                                                     : KM_NORMAL;
   const KeyBinding* b = key_binding(v, mode, key);
   if (!b && key == VK_ALT_ENTER) { /* where Alt-Enter means nothing: the Esc and the Enter */
      frame_end(v);
      bool esc = view_key(v, VK_ESC);
      return view_key(v, VK_ENTER) || esc;
   }
   /* a prompt or the finder takes every key: other controls do nothing there */
   bool changed = mode == KM_PROMPT || mode == KM_FINDER;
   if (b) changed = b->action(v, key, b->arg);
   term_frame(v);
   frame_end(v);
   return changed;
}

/* Two bindings that share a key in one mode and view: the second would never run. */
int view_keys_check(char** cause) {
   for (size_t i = 0; i < ARRAY_LEN(keys_table); i++) {
      const KeyBinding* a = &keys_table[i];
      for (size_t j = i + 1; j < ARRAY_LEN(keys_table); j++) {
         const KeyBinding* b = &keys_table[j];
         if (a->mode != b->mode || (a->mode == KM_NORMAL && !(a->views & b->views))) continue;
         for (size_t k = 0; k < ARRAY_LEN(b->keys) && b->keys[k]; k++) {
            int key = b->keys[k] == KEY_DIGIT ? '1' : b->keys[k] == KEY_TEXT ? 'a' : b->keys[k];
            if (!key_in(a, key)) continue;
            *cause = xasprintf("key %d: bindings %zu and %zu (%s)", b->keys[k], i, j,
                               a->label ? a->label : "?");
            return -EINVAL;
         }
      }
   }
   return 0;
}

/* ---------------------------------------------------------------- the table as text */

size_t key_rows(KeyRow* rows, size_t max) {
   size_t n = 0;
   for (size_t i = 0; i < ARRAY_LEN(keys_table); i++) {
      const KeyBinding* b = &keys_table[i];
      if (!b->label) continue;
      size_t r = 0;
      while (r < n && strcmp(rows[r].label, b->label) != 0) r++;
      if (r == n) {
         if (n == max) continue;
         rows[n].label = b->label;
         rows[n++].text[0] = '\0';
      }
      if (!b->help) continue;
      size_t len = strlen(rows[r].text);
      snprintf(rows[r].text + len, sizeof rows[r].text - len, "%s%s", len ? "; " : "", b->help);
   }
   return n;
}

char* view_keys_markdown(void) {
   KeyRow rows[64];
   size_t n = key_rows(rows, ARRAY_LEN(rows));
   char* md = xstrdup("| keys | what they do |\n|---|---|\n");
   for (size_t i = 0; i < n; i++) {
      char* next = xasprintf("%s| %s | %s |\n", md, rows[i].label, rows[i].text);
      free(md);
      md = next;
   }
   return md;
}
