/* The view's state: lifecycle, the selection, tabs, the active filter and search. */
#include "tui/view.h"

#include <assert.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/util.h"
#include "tui/save.h"
#include "tui/view_impl.h"

Style role(const View* v, ThemeRole r) {
   return theme_role(v->theme, r);
}

const ProcSlot* slot_of(const View* v, uint64_t id) {
   const Registry* r = sup_registry(v->sup);
   return id < r->n ? r->slots[id] : NULL;
}

size_t nprocs(const View* v) {
   return sup_registry(v->sup)->n;
}

void set_msg(View* v, bool error, const char* fmt, ...) {
   va_list ap;
   va_start(ap, fmt);
   vsnprintf(v->msg, sizeof v->msg, fmt, ap);
   va_end(ap);
   v->msg_error = error;
}

void copy_text(View* v, char* text, const char* what) {
   free(v->copy);
   v->copy = text;
   set_msg(v, false, "copied %s", what);
}

void select_proc(View* v, uint64_t id) {
   v->on_header = false;
   size_t n = nprocs(v);
   if (!n) return;
   if (id >= n) id = n - 1;
   if (id != v->sel) {
      v->sel = id;
      v->search_has_hit = false;
      find_cancel(v);
      /* a filter typed in another process's pane follows the selection */
      if (v->filter && v->filter_text && v->tab == TAB_PROCS) {
         char* cause = NULL;
         Regex* re;
         if (regex_compile(v->filter_text, &re, &cause) == 0) filter_set(v->filter, re, v->sel);
         free(cause);
      }
   }
}

void apply_filter(View* v, const char* text) {
   if (!v->filter) return;
   if (!text || !*text) {
      find_cancel(v); /* positions of a pending find and of the hit belong to the old pane */
      v->search_has_hit = false;
      free(v->filter_text);
      v->filter_text = NULL;
      filter_set(v->filter, NULL, 0);
      set_msg(v, false, "filter cleared");
      return;
   }
   Regex* re;
   char* cause = NULL;
   if (regex_compile(text, &re, &cause) < 0) {
      set_msg(v, true, "%s%s", cause, v->filter_text ? " (keeping the previous filter)" : "");
      free(cause);
      return;
   }
   find_cancel(v);
   v->search_has_hit = false;
   free(v->filter_text);
   v->filter_text = xstrdup(text);
   filter_set(v->filter, re, view_source(v));
   cur_scroll(v)->follow = true;
   set_msg(v, false, "filter: %s", text);
}

void view_set_filter(View* v, const char* pattern) {
   frame_begin(v);
   apply_filter(v, pattern);
   frame_end(v);
}

void apply_search(View* v, const char* text) {
   find_cancel(v);
   if (!text || !*text) {
      regex_free(v->search);
      v->search = NULL;
      v->search_has_hit = false;
      return;
   }
   Regex* re;
   char* cause = NULL;
   if (regex_compile(text, &re, &cause) < 0) {
      set_msg(v, true, "%s", cause);
      free(cause);
      return;
   }
   regex_free(v->search);
   v->search = re;
   v->search_has_hit = false;
   search_start(v, -1);
}

void switch_tab(View* v, int t) {
   v->tab = (ViewTab)((t + TAB_COUNT) % TAB_COUNT);
   find_cancel(v);
   v->search_has_hit = false;
   /* the filter follows the view it is typed in */
   if (v->filter && v->filter_text && (v->tab == TAB_PROCS || v->tab == TAB_ALL)) {
      const FilterState* f = filter_state(v->filter);
      if (!f || f->source != view_source(v)) {
         Regex* re;
         char* cause = NULL;
         if (regex_compile(v->filter_text, &re, &cause) == 0)
            filter_set(v->filter, re, view_source(v));
         free(cause);
      }
   }
}

/* ================================================================ lifecycle */

/* ---------------------------------------------------------------- one frame's reads */

struct ViewFrame {
   const DetectSnap** intel; /* owned array of RCU pointers: per process, read once per frame */
   uint32_t* seen;           /* owned: per process, the frame that read intel[i] */
   uint32_t id;              /* the current frame (never 0: 0 means not read) */
   size_t n, cap;
   bool open;
};

/* O(1): a frame reads a process's DetectSnap when it first asks (intel_of), so a frame costs what
 * it draws, not the number of processes. */
void frame_begin(View* v) {
   struct ViewFrame* f = v->frame;
   const Registry* r = sup_registry(v->sup);
   if (r->n > f->cap) {
      f->intel = xrealloc(f->intel, r->n * sizeof *f->intel);
      f->seen = xrealloc(f->seen, r->n * sizeof *f->seen);
      memset(f->seen + f->cap, 0, (r->n - f->cap) * sizeof *f->seen);
      f->cap = r->n;
   }
   if (++f->id == 0) { /* wrapped: forget every stamp */
      memset(f->seen, 0, f->cap * sizeof *f->seen);
      f->id = 1;
   }
   f->n = r->n;
   f->open = true;
}

void frame_end(View* v) {
   v->frame->open = false;
}

const DetectSnap* intel_of(const View* v, uint64_t proc) {
   struct ViewFrame* f = v->frame;
   assert(f->open && "intel_of between frame_begin and frame_end");
   if (proc >= f->n) return NULL;
   if (f->seen[proc] != f->id) { /* the first read in this frame; later ones see the same */
      f->intel[proc] = sup_intel(sup_registry(v->sup)->slots[proc]);
      f->seen[proc] = f->id;
   }
   return f->intel[proc];
}

/* ---------------------------------------------------------------- lifecycle */

void view_init(View* v, Sup* sup, Filter* filter, const Project* prj, Theme* theme) {
   memset(v, 0, sizeof *v);
   v->sup = sup;
   v->filter = filter;
   v->prj = prj;
   v->theme = theme;
   v->no_color = !theme_has_color(theme);
   v->wrap = true;
   v->all_scroll.follow = true;
   v->scratch = regex_scratch_new();
   v->search_prompt = prompt_new(PROMPT_HISTORY_DEFAULT);
   v->filter_prompt = prompt_new(PROMPT_HISTORY_DEFAULT);
   v->send_prompt = prompt_new(PROMPT_HISTORY_DEFAULT);
   v->prefix = VK_CTRL('a');
   v->cursor_x = v->cursor_y = -1;
   v->frame = xcalloc(1, sizeof *v->frame);
   sidebar_invalidate(v);
   view_sync(v);
}

void view_sync(View* v) {
   size_t n = nprocs(v);
   if (n <= v->nscroll) return;
   v->scroll = xrealloc(v->scroll, n * sizeof *v->scroll);
   for (size_t i = v->nscroll; i < n; i++) v->scroll[i] = (Scroll){.follow = true};
   v->nscroll = n;
}

void view_done(View* v) {
   sidebar_free(v);
   finder_free(v);
   regex_free(v->search);
   regex_scratch_free(v->scratch);
   prompt_free(v->search_prompt);
   prompt_free(v->filter_prompt);
   prompt_free(v->send_prompt);
   free(v->scroll);
   free(v->filter_text);
   free(v->copy);
   copy_done(v);
   save_free(v->save);
   if (v->frame) {
      free(v->frame->intel);
      free(v->frame->seen);
   }
   free(v->frame);
}

void view_resize(View* v, int w, int h) {
   v->w = w;
   v->h = h;
}
