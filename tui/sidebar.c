/* The Processes sidebar: which processes it lists (hidden and lifecycle scripts left out), their
 * groups (workspace packages, brum.yaml groups) with folding, and the rows as one cached layout,
 * rebuilt only when what it depends on changes (a frame at 100,000 processes must not walk them).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "tui/view_impl.h"

#define NONE UINT32_MAX
#define HEADER_BIT (UINT64_C(1) << 63) /* a row: the header of group (the other bits) */

typedef struct SbGroup {
   const char* name;  /* borrowed from the project, or a literal */
   uint32_t first, n; /* its shown members: mem[first .. first + n) */
   size_t row;        /* its header's row */
   bool collapsed;
} SbGroup;

struct Sidebar {
   /* what the layout was built from: any change rebuilds it */
   bool valid;
   size_t nreg;
   const Project* prj;
   const Script* scripts;
   size_t nscripts;
   bool show_lifecycle;
   bool rows_valid; /* false: only the folding changed (the groups stay) */
   /* the layout */
   bool grouped;
   uint32_t* gid;   /* owned, per process: its group, NONE when not listed */
   uint32_t* mem;   /* owned: listed processes, by group, in id order within each */
   SbGroup* groups; /* owned */
   size_t ngroups;
   uint64_t* rows; /* owned: process ids and HEADER_BIT | group */
   size_t nrows;
   size_t* row_of; /* owned, per process: its row, SIZE_MAX when not shown */
   int width;      /* the widest row */
   /* kept across rebuilds */
   char** collapsed; /* owned: names of the collapsed groups */
   size_t ncollapsed;
   bool* lifecycle; /* owned: pkg_lifecycle_flags of `life_of` */
   const Script* life_of;
   uint16_t* name_w; /* owned: per process, its name's width (names never change) */
   size_t nname_w;
};

/* ---------------------------------------------------------------- the layout */

bool proc_listed(const View* v, uint64_t id) {
   return !v->prj || id >= v->prj->nscripts || !v->prj->scripts[id].hidden;
}

static struct Sidebar* sb(const View* v) {
   return v->sidebar;
}

/* The group a process belongs to: its brum.yaml group, else (with workspaces) its package. */
static const char* group_key(const View* v, uint64_t id, bool workspaces) {
   if (!v->prj || id >= v->prj->nscripts) return NULL;
   const Script* s = &v->prj->scripts[id];
   if (s->group) return s->group;
   if (workspaces) return s->package ? s->package : v->prj->name;
   return NULL;
}

static bool is_collapsed(const struct Sidebar* L, const char* name) {
   for (size_t i = 0; i < L->ncollapsed; i++)
      if (strcmp(L->collapsed[i], name) == 0) return true;
   return false;
}

static const char* group_name(const SbGroup* g) {
   return g->name ? g->name : "ungrouped";
}

/* Groups in order of their first process (the root package's scripts come first in a Project):
 * fills L->gid and L->groups (names, sizes), through a name table. */
static void build_groups(const View* v, struct Sidebar* L, const bool* listed, bool workspaces) {
   size_t n = L->nreg, cap = util_table_size(n), gcap = 16;
   uint32_t* table = xcalloc(cap, sizeof *table); /* group + 1 */
   L->groups = xcalloc(gcap, sizeof *L->groups);
   for (size_t i = 0; i < n; i++) {
      L->gid[i] = NONE;
      if (!listed[i]) continue;
      const char* k = group_key(v, i, workspaces);
      size_t h = k ? (size_t)util_hash(k, strlen(k), UTIL_HASH_START) : 0;
      for (h &= cap - 1; table[h]; h = (h + 1) & (cap - 1)) {
         const char* gk = L->groups[table[h] - 1].name;
         if (gk == k || (gk && k && strcmp(gk, k) == 0)) break;
      }
      if (!table[h]) {
         if (L->ngroups == gcap) L->groups = xrealloc(L->groups, (gcap *= 2) * sizeof *L->groups);
         L->groups[L->ngroups] = (SbGroup){.name = k};
         table[h] = (uint32_t)++L->ngroups;
      }
      L->gid[i] = table[h] - 1;
      L->groups[L->gid[i]].n++;
   }
   free(table);
   uint32_t at = 0; /* the members, by group */
   for (size_t g = 0; g < L->ngroups; g++) {
      L->groups[g].first = at;
      at += L->groups[g].n;
      L->groups[g].n = 0;
   }
   for (size_t i = 0; i < n; i++) {
      if (L->gid[i] == NONE) continue;
      SbGroup* g = &L->groups[L->gid[i]];
      L->mem[g->first + g->n++] = (uint32_t)i;
   }
}

/* The rows: the listed processes in id order, or each group's header and (unless collapsed) its
 * members. */
static void build_rows(struct Sidebar* L) {
   size_t n = L->nreg;
   if (!L->rows) L->rows = xcalloc(n + L->ngroups + 1, sizeof *L->rows);
   L->nrows = 0;
   L->rows_valid = true;
   for (size_t i = 0; i < n; i++) L->row_of[i] = SIZE_MAX;
   if (!L->grouped) {
      for (size_t i = 0; i < n; i++)
         if (L->gid[i] != NONE) L->row_of[i] = L->nrows, L->rows[L->nrows++] = i;
      return;
   }
   for (size_t g = 0; g < L->ngroups; g++) {
      SbGroup* gr = &L->groups[g];
      gr->collapsed = is_collapsed(L, group_name(gr));
      gr->row = L->nrows;
      L->rows[L->nrows++] = HEADER_BIT | g;
      if (gr->collapsed) continue;
      for (uint32_t k = 0; k < gr->n; k++) {
         uint32_t id = L->mem[gr->first + k];
         L->row_of[id] = L->nrows;
         L->rows[L->nrows++] = id;
      }
   }
}

static void layout_clear(struct Sidebar* L) {
   free(L->gid);
   free(L->mem);
   free(L->groups);
   free(L->rows);
   free(L->row_of);
   L->gid = L->mem = NULL;
   L->groups = NULL;
   L->rows = NULL;
   L->row_of = NULL;
   L->ngroups = L->nrows = 0;
}

/* A `brum -r GLOB` group: its processes are the glob's matches (runall_apply). */
static bool run_all_group(const View* v, const struct Sidebar* L, const SbGroup* g) {
   if (!v->prj || !g->n) return false;
   uint32_t first = L->mem[g->first];
   return first < v->prj->nscripts && v->prj->scripts[first].run_all;
}

/* Its header says the combined result ("build 2/3 ok, 1 failed") in the colour of how it went. */
static void run_all_result(const View* v, const SbGroup* g, char* buf, size_t size, Style* hs) {
   const Registry* r = sup_registry(v->sup);
   const struct Sidebar* L = v->sidebar;
   SnapTally t = {0};
   for (uint32_t k = 0; k < g->n; k++) snap_tally_add(&t, sup_snap(r->slots[L->mem[g->first + k]]));
   snap_tally_describe(&t, group_name(g), buf, (unsigned)size);
   ThemeRole how = t.failed || t.stopped || t.not_run ? THEME_STATE_FAILED
                   : t.ok == t.total                  ? THEME_STATE_EXITED
                                                      : THEME_STATE_RUNNING;
   Style st = role(v, how);
   st.bg = hs->bg;
   st.attr |= ATTR_BOLD;
   *hs = st;
}

static int layout_width(const View* v, struct Sidebar* L) {
   const Registry* r = sup_registry(v->sup);
   if (L->nname_w < L->nreg) { /* measured once per process: wcwidth is not cheap */
      L->name_w = xrealloc(L->name_w, L->nreg * sizeof *L->name_w);
      for (size_t i = L->nname_w; i < L->nreg; i++) {
         int nw = canvas_str_width(r->slots[i]->name, strlen(r->slots[i]->name));
         L->name_w[i] = (uint16_t)(nw > 1000 ? 1000 : nw);
      }
      L->nname_w = L->nreg;
   }
   int w = 12;
   for (size_t i = 0; i < L->nreg; i++)
      if (L->gid[i] != NONE && L->name_w[i] + 14 > w) w = L->name_w[i] + 14;
   for (size_t g = 0; g < L->ngroups && L->grouped; g++) {
      const char* name = group_name(&L->groups[g]);
      /* "▾ name ● 12 ✗ 3"; a -r GLOB group's header says its result: "build 1 running, 2/4 done" */
      int n = canvas_str_width(name, strlen(name)) + (run_all_group(v, L, &L->groups[g]) ? 36 : 14);
      if (n > w) w = n;
   }
   return w;
}

static void layout_build(const View* v, struct Sidebar* L) {
   layout_clear(L);
   const Project* p = v->prj;
   L->nreg = nprocs(v);
   L->prj = p;
   L->scripts = p ? p->scripts : NULL;
   L->nscripts = p ? p->nscripts : 0;
   L->show_lifecycle = v->show_lifecycle;
   if (L->life_of != L->scripts || !L->scripts) {
      free(L->lifecycle);
      L->lifecycle = pkg_lifecycle_flags(p);
      L->life_of = L->scripts;
   }
   bool* listed = xcalloc(L->nreg + 1, sizeof *listed);
   bool workspaces = false, groups = false;
   for (size_t i = 0; i < L->nreg; i++) {
      listed[i] = proc_listed(v, i) &&
                  (v->show_lifecycle || !L->lifecycle || i >= L->nscripts || !L->lifecycle[i]);
      if (i < L->nscripts) workspaces |= p->scripts[i].in_workspace;
      if (i < L->nscripts && listed[i]) groups |= p->scripts[i].group != NULL;
   }
   L->grouped = workspaces || groups;
   L->gid = xcalloc(L->nreg + 1, sizeof *L->gid);
   L->mem = xcalloc(L->nreg + 1, sizeof *L->mem);
   L->row_of = xcalloc(L->nreg + 1, sizeof *L->row_of);
   build_groups(v, L, listed, workspaces);
   build_rows(L);
   L->width = layout_width(v, L);
   free(listed);
   L->valid = true;
}

/* The layout, rebuilt when the registry grew, the project changed or a toggle invalidated it. */
static struct Sidebar* layout(const View* v) {
   struct Sidebar* L = sb(v);
   const Project* p = v->prj;
   if (!L->valid || L->nreg != nprocs(v) || L->prj != p || L->scripts != (p ? p->scripts : NULL) ||
       L->nscripts != (p ? p->nscripts : 0) || L->show_lifecycle != v->show_lifecycle)
      layout_build(v, L);
   else if (!L->rows_valid)
      build_rows(L);
   return L;
}

void sidebar_invalidate(View* v) {
   if (!v->sidebar) v->sidebar = xcalloc(1, sizeof *v->sidebar);
   v->sidebar->valid = false;
}

void sidebar_free(View* v) {
   struct Sidebar* L = v->sidebar;
   if (!L) return;
   layout_clear(L);
   for (size_t i = 0; i < L->ncollapsed; i++) free(L->collapsed[i]);
   free(L->collapsed);
   free(L->lifecycle);
   free(L->name_w);
   free(L);
   v->sidebar = NULL;
}

/* ---------------------------------------------------------------- rows */

bool proc_is_lifecycle(const View* v, uint64_t id) {
   struct Sidebar* L = layout(v);
   return L->lifecycle && id < L->nscripts && L->lifecycle[id];
}

size_t sidebar_count(const View* v) {
   return layout(v)->nrows;
}

size_t sidebar_sel_row(const View* v) {
   struct Sidebar* L = layout(v);
   if (v->sel >= L->nreg) return L->nrows;
   uint32_t g = L->gid[v->sel];
   /* a member of a collapsed group shows as its header */
   if (L->grouped && g != NONE && (v->on_header || L->row_of[v->sel] == SIZE_MAX))
      return L->groups[g].row;
   return L->row_of[v->sel] == SIZE_MAX ? L->nrows : L->row_of[v->sel];
}

bool sidebar_is_header(const View* v, size_t row) {
   struct Sidebar* L = layout(v);
   return row < L->nrows && (L->rows[row] & HEADER_BIT);
}

bool sidebar_id(const View* v, size_t row, uint64_t* id) {
   struct Sidebar* L = layout(v);
   if (row >= L->nrows || (L->rows[row] & HEADER_BIT)) return false;
   *id = L->rows[row];
   return true;
}

bool sidebar_nth(const View* v, size_t nth, uint64_t* id) {
   struct Sidebar* L = layout(v);
   for (size_t r = 0; r < L->nrows; r++) {
      if (L->rows[r] & HEADER_BIT) continue;
      if (nth-- == 0) return (*id = L->rows[r]), true;
   }
   return false;
}

/* A header selects its group: the selection moves into the group (its first member) unless it is
 * there already, and the pane shows that process. */
void sidebar_select_row(View* v, size_t row) {
   struct Sidebar* L = layout(v);
   if (row >= L->nrows) return;
   uint64_t e = L->rows[row];
   if (!(e & HEADER_BIT)) {
      select_proc(v, e);
      return;
   }
   uint32_t g = (uint32_t)(e & ~HEADER_BIT);
   if (v->sel >= L->nreg || L->gid[v->sel] != g) select_proc(v, L->mem[L->groups[g].first]);
   v->on_header = true;
}

void sidebar_move(View* v, int dir) {
   struct Sidebar* L = layout(v);
   size_t cur = sidebar_sel_row(v);
   if (cur >= L->nrows) { /* the selection is not shown: the next shown process by id */
      for (size_t r = 0; r < L->nrows; r++) {
         size_t k = dir > 0 ? r : L->nrows - 1 - r;
         uint64_t e = L->rows[k];
         if (!(e & HEADER_BIT) && (dir > 0 ? e > v->sel : e < v->sel))
            return sidebar_select_row(v, k);
      }
      return;
   }
   if (dir < 0 && cur > 0) sidebar_select_row(v, cur - 1);
   if (dir > 0 && cur + 1 < L->nrows) sidebar_select_row(v, cur + 1);
}

static void set_collapsed(View* v, struct Sidebar* L, const SbGroup* g, bool on) {
   const char* name = group_name(g);
   if (is_collapsed(L, name) == on) return;
   if (on) {
      L->collapsed = xrealloc(L->collapsed, (L->ncollapsed + 1) * sizeof *L->collapsed);
      L->collapsed[L->ncollapsed++] = xstrdup(name);
   } else {
      for (size_t i = 0; i < L->ncollapsed; i++) {
         if (strcmp(L->collapsed[i], name) != 0) continue;
         free(L->collapsed[i]);
         L->collapsed[i] = L->collapsed[--L->ncollapsed];
         break;
      }
   }
   L->rows_valid = false;
   (void)v;
}

/* A tree view's keys: Left folds (from a member: its group, the header selected), Right unfolds
 * (on an open header: into its first member); - and + fold and unfold from anywhere in the group.
 */
bool sidebar_fold(View* v, int how) {
   struct Sidebar* L = layout(v);
   if (!L->grouped || v->sel >= L->nreg || L->gid[v->sel] == NONE) return false;
   SbGroup* g = &L->groups[L->gid[v->sel]];
   bool header = sidebar_is_header(v, sidebar_sel_row(v));
   switch (how) {
   case FOLD_LEFT:
   case FOLD_COLLAPSE:
      set_collapsed(v, L, g, true);
      v->on_header = true;
      break;
   case FOLD_RIGHT:
      if (header && !g->collapsed) {
         select_proc(v, L->mem[g->first]);
      } else {
         set_collapsed(v, L, g, false);
      }
      break;
   case FOLD_EXPAND:
      set_collapsed(v, L, g, false);
      break;
   case FOLD_TOGGLE:
      set_collapsed(v, L, g, !g->collapsed);
      v->on_header = true;
      break;
   }
   return true;
}

void sidebar_reveal(View* v, uint64_t id) {
   struct Sidebar* L = layout(v);
   if (id >= L->nreg) return;
   if (!v->show_lifecycle && L->lifecycle && id < L->nscripts && L->lifecycle[id]) {
      v->show_lifecycle = true;
      set_msg(v, false, "showing lifecycle scripts (H hides them)");
      L = layout(v);
   }
   if (L->grouped && L->gid[id] != NONE && L->groups[L->gid[id]].collapsed)
      set_collapsed(v, L, &L->groups[L->gid[id]], false);
}

int sidebar_width(const View* v) {
   if (v->zoom) return 0;
   int w = layout(v)->width + res_width(v); /* % adds the figures' columns */
   int most = v->w / (v->show_res ? 2 : 3);
   if (w > most) w = most;
   return w;
}

int sidebar_top(const View* v, int rows) {
   size_t sel = sidebar_sel_row(v);
   return list_top(sel < sidebar_count(v) ? sel : 0, rows);
}

/* ---------------------------------------------------------------- drawing */

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

/* running but not ready yet (no URL, not a quiet second, its probe not passed) looks like
 * starting: the same ready the control socket and MCP report */
static ProcState shown_state(const ProcSnap* ps) {
   return ps->state == PROC_RUNNING && !ps->ready_ms ? PROC_STARTING : ps->state;
}

/* A group's header: its fold marker, name, and how many of its processes run and failed. */
static void draw_header_row(View* v, Canvas* c, const SbGroup* g, int y, int w, Style base) {
   const Registry* r = sup_registry(v->sup);
   const struct Sidebar* L = sb(v);
   unsigned running = 0, failed = 0;
   for (uint32_t k = 0; k < g->n; k++) {
      ProcState st = sup_snap(r->slots[L->mem[g->first + k]])->state;
      running += snap_is_active(st);
      failed += st == PROC_FAILED || st == PROC_KILLED;
   }
   Style hs = role(v, THEME_MARKER);
   hs.bg = base.bg;
   hs.attr |= ATTR_BOLD;
   const char* mark = g->collapsed ? (v->ascii ? ">" : "▸") : (v->ascii ? "v" : "▾");
   int x = 1 + canvas_text(c, 1, y, w - 1, mark, strlen(mark), hs);
   x += 1;
   const char* name = group_name(g);
   char run[32] = "", fail[32] = "", result[160];
   if (run_all_group(v, L, g)) { /* the result line says how many run and failed */
      run_all_result(v, g, result, sizeof result, &hs);
      name = result;
      running = failed = 0;
   }
   if (running) snprintf(run, sizeof run, " %s %u", state_glyph(v, PROC_RUNNING), running);
   if (failed) snprintf(fail, sizeof fail, " %s %u", state_glyph(v, PROC_FAILED), failed);
   int cw = canvas_str_width(run, strlen(run)) + canvas_str_width(fail, strlen(fail));
   int nw = canvas_str_width(name, strlen(name));
   if (nw > w - x - cw) nw = w - x - cw;
   x += canvas_text(c, x, y, nw, name, strlen(name), hs);
   Style rs = role(v, THEME_STATE_RUNNING), fs = role(v, THEME_STATE_FAILED);
   rs.bg = fs.bg = base.bg;
   x += canvas_text(c, x, y, w - x, run, strlen(run), rs);
   canvas_text(c, x, y, w - x, fail, strlen(fail), fs);
}

static void draw_proc_row(View* v, Canvas* c, uint64_t i, int y, int w, Style base, bool selected) {
   const ProcSlot* slot = sup_registry(v->sup)->slots[i];
   const ProcSnap* ps = sup_snap(slot);
   ProcState shown = shown_state(ps);
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

static void sidebar_draw_row(View* v, Canvas* c, const void* ctx, size_t row, int y, int w,
                             Style base, bool selected) {
   const struct Sidebar* L = ctx;
   uint64_t e = L->rows[row];
   if (e & HEADER_BIT)
      draw_header_row(v, c, &L->groups[e & ~HEADER_BIT], y, w, base);
   else
      draw_proc_row(v, c, e, y, w, base, selected);
}

void draw_sidebar(View* v, Canvas* c, int y, int w, int rows) {
   Style sb_style = role(v, THEME_SIDEBAR);
   canvas_fill(c, 0, y, w, rows, sb_style);
   struct Sidebar* L = layout(v);
   /* a hidden process selected (named on the command line) leaves no row marked */
   List l = {.n = L->nrows,
             .sel = sidebar_sel_row(v),
             .normal = sb_style,
             .selected = role(v, THEME_SIDEBAR_SELECTED),
             .row = sidebar_draw_row,
             .ctx = L};
   list_draw(v, c, &l, y, w, rows);
}

void view_select_first(View* v, uint64_t id) {
   if (id == UINT64_MAX && !sidebar_nth(v, 0, &id)) return;
   sidebar_reveal(v, id);
   select_proc(v, id);
}
