/* The list widget (rows, a selection kept in view, the selected row marked) and the three lists
 * that use it: the Processes sidebar, the Errors tab (with the entry's detail) and the URLs tab. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/util.h"
#include "tui/view_impl.h"

/* ---------------------------------------------------------------- the list widget */

/* One list: `n` rows, row `sel` kept in view and drawn in the `selected` style. */
typedef struct List {
   size_t n, sel;
   Style normal, selected;
   bool marker; /* "▸" in the first column of the selected row */
   /* draws row i's content; the row is already cleared in `base` */
   void (*row)(View* v, Canvas* c, const void* ctx, size_t i, int y, int w, Style base, bool sel);
   const void* ctx; /* borrowed: what `row` draws from */
} List;

int list_top(size_t sel, int rows) {
   return (int)sel >= rows ? (int)sel - rows + 1 : 0;
}

static void list_draw(View* v, Canvas* c, const List* l, int y, int w, int rows) {
   int top = list_top(l->sel, rows);
   for (int row = 0; row < rows && (size_t)(top + row) < l->n; row++) {
      size_t i = (size_t)(top + row);
      bool sel = i == l->sel;
      Style base = sel ? l->selected : l->normal;
      canvas_fill(c, 0, y + row, w, 1, base);
      if (sel && l->marker)
         canvas_text(c, 0, y + row, 1, v->ascii ? ">" : "▸", v->ascii ? 1 : 3, base);
      l->row(v, c, l->ctx, i, y + row, w, base, sel);
   }
}

/* The "none yet" line of an empty list; true when the list is empty. */
static bool list_empty(View* v, Canvas* c, int y, size_t n, const char* what) {
   if (n) return false;
   canvas_text(c, 2, y + 1, c->w - 2, what, strlen(what), role(v, THEME_MARKER));
   return true;
}

/* A process name in its colour, on the row's background. */
static int name_cell(View* v, Canvas* c, int x, int y, uint64_t proc, Style base) {
   Style ns = role(v, (ThemeRole)(THEME_NAME0 + (int)(proc % THEME_NAME_COUNT)));
   ns.bg = base.bg;
   const ProcSlot* slot = slot_of(v, proc);
   return canvas_printf(c, x, y, 16, ns, "%-12.12s ", slot ? slot->name : "?");
}

/* Moves a list's selection: j/k, Up/Down, the wheel, g/G, Home/End. */
void list_move(size_t* sel, size_t n, int how) {
   if (how == LIST_FIRST || n == 0)
      *sel = 0;
   else if (how == LIST_LAST)
      *sel = n - 1;
   else if (how < 0)
      *sel = *sel > 0 ? *sel - 1 : 0;
   else if (*sel + 1 < n)
      (*sel)++;
}

/* ---------------------------------------------------------------- the sidebar */

bool proc_listed(const View* v, uint64_t id) {
   return !v->prj || id >= v->prj->nscripts || !v->prj->scripts[id].hidden;
}

static const char* group_of(const View* v, uint64_t id) {
   return v->prj && id < v->prj->nscripts ? v->prj->scripts[id].group : NULL;
}

static bool same_group(const char* a, const char* b) {
   return a == b || (a && b && strcmp(a, b) == 0);
}

/* A layout entry with this bit: the header of the group of the process (the other bits) after it.
 */
#define HEADER_BIT (UINT64_C(1) << 63)

/* The sidebar's rows: the listed processes in id order and, when the project names groups, a
 * header before each process whose group differs from the previous one's. Fills out (NULL: only
 * counts) and returns the count; *plain: row = id (nothing hidden, no headers). */
static size_t sidebar_layout(const View* v, uint64_t* out, bool* plain) {
   size_t all = nprocs(v), n = 0;
   bool groups = false;
   for (size_t i = 0; i < all && !groups; i++) groups = proc_listed(v, i) && group_of(v, i);
   const char* prev = NULL;
   bool first = true;
   for (uint64_t i = 0; i < all; i++) {
      if (!proc_listed(v, i)) continue;
      if (groups && (first || !same_group(prev, group_of(v, i)))) {
         if (out) out[n] = HEADER_BIT | i;
         n++;
      }
      prev = group_of(v, i);
      first = false;
      if (out) out[n] = i;
      n++;
   }
   if (plain) *plain = !groups && n == all;
   return n;
}

/* The layout, allocated (NULL when plain: row = id). */
static uint64_t* sidebar_rows(const View* v, size_t* n) {
   bool plain;
   *n = sidebar_layout(v, NULL, &plain);
   if (plain) return NULL;
   uint64_t* rows = xcalloc(*n + 1, sizeof *rows);
   sidebar_layout(v, rows, NULL);
   return rows;
}

size_t sidebar_count(const View* v) {
   return sidebar_layout(v, NULL, NULL);
}

size_t sidebar_row(const View* v, uint64_t id) {
   size_t n, row = 0;
   uint64_t* rows = sidebar_rows(v, &n);
   if (!rows) return id < n ? id : n;
   while (row < n && rows[row] != id) row++;
   free(rows);
   return row;
}

bool sidebar_id(const View* v, size_t row, uint64_t* id) {
   size_t n;
   uint64_t* rows = sidebar_rows(v, &n);
   bool ok = row < n && !(rows && (rows[row] & HEADER_BIT));
   if (ok) *id = rows ? rows[row] : row;
   free(rows);
   return ok;
}

bool sidebar_nth(const View* v, size_t nth, uint64_t* id) {
   size_t all = nprocs(v);
   for (size_t i = 0; i < all; i++) {
      if (!proc_listed(v, i)) continue;
      if (nth-- == 0) return (*id = i), true;
   }
   return false;
}

bool sidebar_step(const View* v, uint64_t id, int dir, uint64_t* out) {
   size_t all = nprocs(v);
   for (uint64_t i = id + (uint64_t)(int64_t)dir; i < all; i += (uint64_t)(int64_t)dir)
      if (proc_listed(v, i)) return (*out = i), true;
   return false;
}

int sidebar_width(const View* v) {
   if (v->zoom) return 0;
   const Registry* r = sup_registry(v->sup);
   int w = 12;
   for (size_t i = 0; i < r->n; i++) {
      if (!proc_listed(v, i)) continue;
      int n = canvas_str_width(r->slots[i]->name, strlen(r->slots[i]->name)) + 14 + res_width(v);
      const char* g = group_of(v, i);
      if (g && canvas_str_width(g, strlen(g)) + 2 > n) n = canvas_str_width(g, strlen(g)) + 2;
      if (n > w) w = n;
   }
   if (w > v->w / (v->show_res ? 2 : 3)) w = v->w / (v->show_res ? 2 : 3);
   return w;
}

int sidebar_top(const View* v, int rows) {
   return list_top(sidebar_row(v, v->sel), rows);
}

/* The right side of a sidebar row: test results, error and warning counts. */
static size_t sidebar_counts(const View* v, const ProcSnap* ps, const DetectSnap* d, char* right,
                             size_t size) {
   size_t rl = res_columns(v, ps, right, size);
   if (d && d->tests.seen)
      rl += (size_t)snprintf(right + rl, size - rl, "%s%u/%u ",
                             d->tests.failed ? (v->ascii ? "x" : "✗") : (v->ascii ? "+" : "✓"),
                             d->tests.failed ? d->tests.failed : d->tests.passed, d->tests.total);
   if (ps->errors)
      rl += (size_t)snprintf(right + rl, size - rl, "%s%llu ", v->ascii ? "E" : "✖",
                             (unsigned long long)ps->errors);
   if (ps->warnings)
      rl += (size_t)snprintf(right + rl, size - rl, "%s%llu ", v->ascii ? "W" : "▲",
                             (unsigned long long)ps->warnings);
   if (ps->restarts)
      rl += (size_t)snprintf(right + rl, size - rl, "%s%u ", v->ascii ? "r" : "↻", ps->restarts);
   return rl;
}

/* What the sidebar's rows draw from: the registry and the layout. */
typedef struct SidebarRows {
   const Registry* r;
   const uint64_t* ids; /* the layout; NULL: plain (row = id) */
} SidebarRows;

static void sidebar_draw_row(View* v, Canvas* c, const void* ctx, size_t row, int y, int w,
                             Style base, bool selected) {
   const SidebarRows* sr = ctx;
   size_t i = sr->ids ? sr->ids[row] : row;
   if (i & HEADER_BIT) { /* a group's name, dim, above its processes */
      const char* g = group_of(v, i & ~HEADER_BIT);
      Style hs = role(v, THEME_MARKER);
      hs.bg = base.bg;
      hs.attr |= ATTR_BOLD;
      if (!g) g = "ungrouped";
      canvas_text(c, 1, y, w - 1, g, strlen(g), hs);
      return;
   }
   const ProcSlot* slot = sr->r->slots[i];
   const ProcSnap* ps = sup_snap(slot);
   /* running but not ready yet (no URL, not a quiet second, its probe not passed) looks like
    * starting: the same ready the control socket and MCP report */
   ProcState shown = ps->state == PROC_RUNNING && !ps->ready_ms ? PROC_STARTING : ps->state;
   Style gs = role(v, state_role(shown));
   if (selected) gs.bg = base.bg;
   int x = 1;
   const char* g = state_glyph(v, shown);
   x += canvas_text(c, x, y, w - x, g, strlen(g), gs);
   x += 1;
   char right[128]; /* the four counts need at most 86 bytes, the figures 22 */
   const DetectSnap* d = intel_of(v, i);
   sidebar_counts(v, ps, d, right, sizeof right);
   int rw = canvas_str_width(right, strlen(right));
   int name_max = w - x - rw - 1;
   if (name_max < 4) name_max = w - x - 1, rw = 0;
   Style ns = base;
   if (selected) ns.attr |= ATTR_BOLD;
   canvas_text(c, x, y, name_max, slot->name, strlen(slot->name), ns);
   if (rw) {
      Style rs = role(v, ps->errors ? THEME_ERROR : THEME_WARNING);
      rs.bg = base.bg;
      if (d && d->tests.seen && !ps->errors && !ps->warnings)
         rs = role(v, d->tests.failed ? THEME_STATE_FAILED : THEME_STATE_EXITED), rs.bg = base.bg;
      if (v->show_res && !ps->errors && !ps->warnings && !(d && d->tests.seen)) rs = base; /* % */
      canvas_text(c, w - rw, y, rw, right, strlen(right), rs);
   }
}

void draw_sidebar(View* v, Canvas* c, int y, int w, int rows) {
   Style sb = role(v, THEME_SIDEBAR);
   canvas_fill(c, 0, y, w, rows, sb);
   size_t n;
   uint64_t* ids = sidebar_rows(v, &n);
   SidebarRows sr = {.r = sup_registry(v->sup), .ids = ids};
   /* a hidden process selected (named on the command line) leaves no row marked */
   List l = {.n = n,
             .sel = sidebar_row(v, v->sel),
             .normal = sb,
             .selected = role(v, THEME_SIDEBAR_SELECTED),
             .row = sidebar_draw_row,
             .ctx = &sr};
   list_draw(v, c, &l, y, w, rows);
   free(ids);
}

/* ---------------------------------------------------------------- Errors and URLs */

/* An item of a per-process list (an error entry, a URL): its process and index there. */
typedef struct ItemRef {
   uint64_t proc;
   uint32_t idx;
} ItemRef;

/* Items point into this frame's snapshots (intel_of), so they stay what collect() found. */
static const DetectEntry* err_entry(const View* v, const ItemRef* e) {
   return &intel_of(v, e->proc)->entries[e->idx];
}

static const DetectUrl* url_item(const View* v, const ItemRef* e) {
   return &intel_of(v, e->proc)->urls[e->idx];
}

static int cmp_err_newest(const void* a, const void* b, void* view) {
   const DetectEntry* x = err_entry(view, a);
   const DetectEntry* y = err_entry(view, b);
   if (x->time_ms != y->time_ms) return x->time_ms > y->time_ms ? -1 : 1;
   const ItemRef *ra = a, *rb = b;
   if (ra->proc != rb->proc) return ra->proc < rb->proc ? -1 : 1;
   return ra->idx > rb->idx ? -1 : ra->idx < rb->idx;
}

/* The Errors tab's entries of every process, newest first (by time), or the URLs tab's URLs, in
 * order of appearance per process. */
static size_t collect(const View* v, ViewTab tab, ItemRef* out, size_t max) {
   const Registry* r = sup_registry(v->sup);
   size_t n = 0;
   for (size_t i = 0; i < r->n; i++) {
      const DetectSnap* d = intel_of(v, i);
      uint32_t k_end = !d ? 0 : tab == TAB_ERRORS ? d->nentries : d->nurls;
      for (uint32_t k = 0; k < k_end && n < max; k++) out[n++] = (ItemRef){.proc = i, .idx = k};
   }
   if (tab == TAB_ERRORS) qsort_r(out, n, sizeof *out, cmp_err_newest, (void*)v);
   return n;
}

static size_t* list_sel(View* v) {
   return v->tab == TAB_ERRORS ? &v->err_sel : &v->url_sel;
}

/* The current tab's items and its selected one (NULL when the list is empty). */
static const ItemRef* selected_item(View* v, size_t* n) {
   static ItemRef refs[MAX_LIST];
   *n = collect(v, v->tab, refs, MAX_LIST);
   size_t* sel = list_sel(v);
   return *n ? &refs[*sel < *n ? *sel : *n - 1] : NULL;
}

static void fmt_time(uint64_t ms, char* buf, size_t size) {
   time_t t = (time_t)(ms / 1000);
   struct tm tm;
   localtime_r(&t, &tm);
   strftime(buf, size, "%H:%M:%S", &tm);
}

/* The whole text of an entry (its line range), newline-separated, for copying and the detail. */
static char* entry_text(const View* v, uint64_t proc, const DetectEntry* e) {
   const ProcSlot* slot = slot_of(v, proc);
   size_t cap = 256, len = 0;
   char* s = xmalloc(cap);
   for (uint64_t ln = e->first_line; slot && ln <= e->last_line; ln++) {
      LogLine l;
      if (!logstore_get(slot->log, ln, &l)) continue;
      if (len + l.len + 2 > cap) {
         while (len + l.len + 2 > cap) cap *= 2;
         s = xrealloc(s, cap);
      }
      memcpy(s + len, l.text, l.len);
      len += l.len;
      s[len++] = '\n';
   }
   if (len == 0) {
      size_t tl = strlen(e->title);
      s = xrealloc(s, tl + 2);
      memcpy(s, e->title, tl);
      len = tl;
      s[len++] = '\n';
   }
   s[len] = '\0';
   return s;
}

static void error_row(View* v, Canvas* c, const void* ctx, size_t i, int y, int w, Style base,
                      bool sel) {
   (void)sel;
   const ItemRef* ref = (const ItemRef*)ctx + i;
   const DetectEntry* e = err_entry(v, ref);
   char ts[16];
   fmt_time(e->time_ms, ts, sizeof ts);
   Style ks = role(v, e->kind == DETECT_ERROR ? THEME_ERROR : THEME_WARNING);
   ks.bg = base.bg;
   const char* glyph = e->kind == DETECT_ERROR ? (v->ascii ? "E" : "✖") : (v->ascii ? "W" : "▲");
   int x = 1;
   x += canvas_text(c, x, y, 2, glyph, strlen(glyph), ks);
   x += 1;
   x += canvas_printf(c, x, y, w - x, base, "%s ", ts);
   x += name_cell(v, c, x, y, ref->proc, base);
   x += canvas_text(c, x, y, w - x - 1, e->title, strlen(e->title), base);
   if (e->location) {
      int lw = canvas_str_width(e->location, strlen(e->location));
      if (x + lw + 3 < w)
         canvas_text(c, w - lw - 1, y, lw, e->location, strlen(e->location), role(v, THEME_URL));
   }
}

/* Below the Errors list: the whole selected entry, stack included. */
static void draw_error_detail(View* v, Canvas* c, const ItemRef* ref, int dy, int end) {
   canvas_fill(c, 0, dy, c->w, 1, role(v, THEME_PANE_BORDER));
   const ProcSlot* slot = slot_of(v, ref->proc);
   const DetectEntry* e = err_entry(v, ref);
   const char* dot = v->ascii ? " - " : " · ";
   canvas_printf(c, 1, dy, c->w - 2, role(v, THEME_PANE_BORDER), "%s%slines %llu-%llu%s%s",
                 slot->name, dot, (unsigned long long)e->first_line + 1,
                 (unsigned long long)e->last_line + 1, e->location ? dot : "",
                 e->location ? e->location : "");
   LineCtx lc;
   memset(&lc, 0, sizeof lc);
   int row = dy + 1;
   for (uint64_t ln = e->first_line; ln <= e->last_line && row < end; ln++) {
      LogLine l;
      if (!logstore_get(slot->log, ln, &l)) continue;
      row += draw_line(v, c, &lc, 0, row, c->w, end - row, 0, &l, ref->proc, false);
   }
}

static void url_row(View* v, Canvas* c, const void* ctx, size_t i, int y, int w, Style base,
                    bool sel) {
   (void)sel;
   const ItemRef* ref = (const ItemRef*)ctx + i;
   const DetectUrl* u = url_item(v, ref);
   bool live = snap_is_active(sup_snap(slot_of(v, ref->proc))->state);
   Style us = role(v, THEME_URL);
   us.bg = base.bg;
   if (!live) us.attr |= ATTR_DIM;
   int x = 1;
   x += name_cell(v, c, x, y, ref->proc, base);
   x += canvas_printf(c, x, y, 12, base, "%-10.10s ", u->label[0] ? u->label : "-");
   x += canvas_text(c, x, y, w - x - 10, u->url, strlen(u->url), us);
   const char* state = live ? "live" : "stale";
   canvas_text(c, w - 7, y, 6, state, strlen(state), base);
}

/* The Errors tab (the list in the upper half, the selected entry below) or the URLs tab. */
void draw_items(View* v, Canvas* c, int y, int rows) {
   canvas_fill(c, 0, y, c->w, rows, role(v, THEME_PANE));
   bool errors = v->tab == TAB_ERRORS;
   static ItemRef refs[MAX_LIST];
   size_t n = collect(v, v->tab, refs, MAX_LIST);
   if (list_empty(v, c, y, n,
                  errors ? "none yet: errors and warnings from every process appear here"
                         : "none yet: URLs that processes print (dev servers) appear here"))
      return;
   size_t* sel = list_sel(v);
   if (*sel >= n) *sel = n - 1;
   int list_rows = errors && rows / 2 > 3 ? rows / 2 : rows;
   List l = {.n = n,
             .sel = *sel,
             .normal = role(v, THEME_PANE),
             .selected = role(v, THEME_SELECTION),
             .marker = true,
             .row = errors ? error_row : url_row,
             .ctx = refs};
   list_draw(v, c, &l, y, c->w, list_rows);
   if (list_rows < rows) draw_error_detail(v, c, &refs[*sel], y + list_rows, y + rows);
}

/* ---------------------------------------------------------------- what keys do to the lists */

void items_move(View* v, int how) {
   size_t n;
   selected_item(v, &n);
   list_move(list_sel(v), n, how);
}

/* Enter in Errors: the entry's first line in its process's log, the filter cleared. */
void error_open(View* v) {
   size_t n;
   const ItemRef* r = selected_item(v, &n);
   if (!r) return;
   const DetectEntry* e = err_entry(v, r);
   uint64_t line = e->first_line;
   switch_tab(v, TAB_PROCS);
   v->errors_only = false;
   select_proc(v, r->proc);
   if (v->filter_text) apply_filter(v, NULL);
   v->search_hit = line;
   v->search_has_hit = true;
   scroll_to(v, line, 2);
   set_msg(v, false, "%s: %s", slot_of(v, r->proc)->name, e->title);
}

void error_copy(View* v) {
   size_t n;
   const ItemRef* r = selected_item(v, &n);
   if (r) copy_text(v, entry_text(v, r->proc, err_entry(v, r)), "the error");
}

void url_open(View* v) {
   size_t n;
   const ItemRef* r = selected_item(v, &n);
   if (!r) return;
   const DetectUrl* u = url_item(v, r);
   if (v->open_url) v->open_url(u->url);
   set_msg(v, false, "opening %s", u->url);
}

void url_copy(View* v) {
   size_t n;
   const ItemRef* r = selected_item(v, &n);
   if (r) {
      const DetectUrl* u = url_item(v, r);
      copy_text(v, xstrdup(u->url), u->url);
   }
}

bool items_empty(View* v) {
   size_t n;
   return selected_item(v, &n) == NULL;
}
