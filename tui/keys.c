/* Key handling: what each key does in each mode and view. */
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "tui/view_impl.h"

static bool prompt_keys(View* v, int key) {
   int pk;
   switch (key) {
   case VK_LEFT:
      pk = PROMPT_KEY_LEFT;
      break;
   case VK_RIGHT:
      pk = PROMPT_KEY_RIGHT;
      break;
   case VK_HOME:
   case VK_CTRL('a'):
      pk = PROMPT_KEY_HOME;
      break;
   case VK_END:
   case VK_CTRL('e'):
      pk = PROMPT_KEY_END;
      break;
   case VK_BACKSPACE:
   case 0x7f:
   case VK_CTRL('h'):
      pk = PROMPT_KEY_BACKSPACE;
      break;
   case VK_DELETE:
      pk = PROMPT_KEY_DELETE;
      break;
   case VK_UP:
      pk = PROMPT_KEY_UP;
      break;
   case VK_DOWN:
      pk = PROMPT_KEY_DOWN;
      break;
   case VK_CTRL('w'):
      pk = PROMPT_KEY_CTRL_W;
      break;
   case VK_CTRL('u'):
      pk = PROMPT_KEY_CTRL_U;
      break;
   case VK_ENTER:
   case '\r':
   case '\n':
      pk = PROMPT_KEY_ENTER;
      break;
   case VK_ESC:
   case VK_CTRL('c'):
      pk = PROMPT_KEY_ESC;
      break;
   default:
      if (key < 0x20 || key >= 0x110000) return true; /* other controls do nothing here */
      pk = key;
   }
   Prompt* pr = v->prompting == PK_SEARCH ? v->search_prompt : v->filter_prompt;
   PromptResult res = prompt_key(pr, pk);
   if (res == PROMPT_SUBMIT) {
      char* text = xstrdup(prompt_text(pr));
      PromptKind kind = v->prompting;
      v->prompting = PK_NONE;
      v->msg[0] = '\0';
      if (kind == PK_FILTER)
         apply_filter(v, text);
      else
         apply_search(v, text);
      free(text);
   } else if (res == PROMPT_CANCEL) {
      v->prompting = PK_NONE;
   }
   return true;
}

static void open_prompt(View* v, PromptKind kind) {
   if (v->tab != TAB_PROCS && v->tab != TAB_ALL) return;
   prompt_reset(kind == PK_FILTER ? v->filter_prompt : v->search_prompt,
                kind == PK_FILTER ? v->filter_text : NULL);
   v->prompting = kind;
}

static void restart_all_running(View* v) {
   const Registry* r = sup_registry(v->sup);
   unsigned n = 0;
   for (size_t i = 0; i < r->n; i++)
      if (snap_is_active(sup_snap(r->slots[i])->state)) sup_restart(v->sup, i), n++;
   set_msg(v, false, "restarting %u process%s", n, n == 1 ? "" : "es");
}

static bool pane_keys(View* v, int key) {
   int page = v->pane_rows > 1 ? v->pane_rows - 1 : 1;
   Scroll* sc = cur_scroll(v);
   switch (key) {
   case VK_CTRL('e'):
      scroll_by(v, 1);
      return true;
   case VK_CTRL('y'):
      scroll_by(v, -1);
      return true;
   case VK_PGDN:
   case ' ':
      scroll_by(v, page);
      return true;
   case VK_PGUP:
      scroll_by(v, -page);
      return true;
   case VK_CTRL('d'):
      scroll_by(v, page / 2 ? page / 2 : 1);
      return true;
   case VK_CTRL('u'):
      scroll_by(v, -(page / 2 ? page / 2 : 1));
      return true;
   case VK_WHEEL_DOWN:
      scroll_by(v, 3);
      return true;
   case VK_WHEEL_UP:
      scroll_by(v, -3);
      return true;
   case 'g':
      scroll_top(v);
      return true;
   case 'G':
   case VK_END:
      sc->follow = true;
      v->search_has_hit = false;
      return true;
   case '/':
      open_prompt(v, PK_SEARCH);
      return true;
   case 'f':
   case '&':
      open_prompt(v, PK_FILTER);
      return true;
   case 'n':
      if (v->search) search_start(v, +1);
      return v->search != NULL;
   case 'N':
      if (v->search) search_start(v, -1);
      return v->search != NULL;
   case VK_ESC:
      if (v->search || v->msg[0]) {
         apply_search(v, NULL);
         v->msg[0] = '\0';
         return true;
      }
      return false;
   case 'w':
      v->wrap = !v->wrap;
      set_msg(v, false, "wrap %s", v->wrap ? "on" : "off");
      return true;
   case 't':
      v->timestamps = !v->timestamps;
      return true;
   }
   return false;
}

static bool procs_keys(View* v, int key) {
   size_t n = nprocs(v);
   if (n == 0) return false; /* no scripts: nothing to select, start or scroll */
   switch (key) {
   case 'j':
   case VK_DOWN:
      if (v->sel + 1 < n) select_proc(v, v->sel + 1);
      return true;
   case 'k':
   case VK_UP:
      if (v->sel > 0) select_proc(v, v->sel - 1);
      return true;
   case VK_ENTER:
   case '\r':
   case '\n':
   case 's': {
      const ProcSnap* ps = sup_snap(slot_of(v, v->sel));
      if (snap_is_active(ps->state)) {
         if (key == 's') set_msg(v, false, "%s is already running", slot_of(v, v->sel)->name);
         return key == 's';
      }
      sup_start(v->sup, v->sel);
      cur_scroll(v)->follow = true;
      return true;
   }
   case 'x':
      sup_stop(v->sup, v->sel);
      return true;
   case 'X':
      sup_kill(v->sup, v->sel);
      return true;
   case 'r':
      sup_restart(v->sup, v->sel);
      cur_scroll(v)->follow = true;
      return true;
   case 'R':
   case VK_CTRL('r'):
      restart_all_running(v);
      return true;
   case 'z':
      v->zoom = !v->zoom;
      return true;
   case 'p':
      v->errors_only = !v->errors_only;
      cur_scroll(v)->follow = true;
      return true;
   case 'e':
      jump_flag(v, LINE_ERROR, +1);
      return true;
   case 'E':
      jump_flag(v, LINE_ERROR, -1);
      return true;
   case ']':
      jump_flag(v, LINE_WARNING, +1);
      return true;
   case '[':
      jump_flag(v, LINE_WARNING, -1);
      return true;
   }
   if (key >= '1' && key <= '9') {
      if ((size_t)(key - '1') < n) select_proc(v, (uint64_t)(key - '1'));
      return true;
   }
   return pane_keys(v, key);
}

/* The Errors and URLs tabs: one list widget, Enter and c by tab. */
static bool list_keys(View* v, int key) {
   switch (key) {
   case 'j':
   case VK_DOWN:
   case VK_WHEEL_DOWN:
      items_move(v, LIST_DOWN);
      return true;
   case 'k':
   case VK_UP:
   case VK_WHEEL_UP:
      items_move(v, LIST_UP);
      return true;
   case 'g':
   case VK_HOME:
      items_move(v, LIST_FIRST);
      return true;
   case 'G':
   case VK_END:
      items_move(v, LIST_LAST);
      return true;
   case VK_ENTER:
   case '\r':
   case '\n':
      if (items_empty(v)) return false;
      v->tab == TAB_ERRORS ? error_open(v) : url_open(v);
      return true;
   case 'c':
      if (items_empty(v)) return false;
      v->tab == TAB_ERRORS ? error_copy(v) : url_copy(v);
      return true;
   }
   return false;
}

static bool mouse_click(View* v) {
   int x = v->mouse_x, y = v->mouse_y;
   if (y == 1) {
      int t = tab_at(v, x);
      if (t >= 0) switch_tab(v, t);
      return t >= 0;
   }
   if (v->tab == TAB_PROCS && y >= 2 && y < v->h - 1) {
      int sw = sidebar_width(v);
      if (x < sw) {
         int rows = v->h - 3;
         size_t id = (size_t)(sidebar_top(v, rows) + (y - 2));
         if (id < nprocs(v)) select_proc(v, id);
         return true;
      }
   }
   return false;
}

bool view_key(View* v, int key) {
   v->msg[0] = key == VK_CLICK || key == VK_WHEEL_UP || key == VK_WHEEL_DOWN ? v->msg[0] : '\0';
   if (v->quit) return false; /* stopping: keys wait */
   if (v->confirm_quit) {
      if (key == 'y' || key == 'Y' || key == 'q' || key == VK_CTRL('c')) {
         v->confirm_quit = false;
         v->quit = true;
         return true;
      }
      if (key == 'n' || key == 'N' || key == VK_ESC) {
         v->confirm_quit = false;
         return true;
      }
      return false;
   }
   if (v->prompting != PK_NONE) return prompt_keys(v, key);
   if (v->w < MIN_W || v->h < MIN_H) {
      if (key != 'q' && key != VK_CTRL('c')) return false;
   }
   switch (key) {
   case 'q':
   case VK_CTRL('c'):
      if (running_count(v))
         v->confirm_quit = true;
      else
         v->quit = true;
      return true;
   case VK_TAB:
      switch_tab(v, (int)v->tab + 1);
      return true;
   case VK_BTAB:
      switch_tab(v, (int)v->tab - 1);
      return true;
   case '?':
   case VK_F1:
      switch_tab(v, v->tab == TAB_HELP ? TAB_PROCS : TAB_HELP);
      return true;
   case VK_CLICK:
      return mouse_click(v);
   }
   switch (v->tab) {
   case TAB_PROCS:
      return procs_keys(v, key);
   case TAB_ALL:
      return pane_keys(v, key);
   case TAB_ERRORS:
      return list_keys(v, key);
   case TAB_URLS:
      return list_keys(v, key);
   case TAB_HELP:
      if (key == VK_ESC) {
         switch_tab(v, TAB_PROCS);
         return true;
      }
      return false;
   case TAB_COUNT:
      break;
   }
   return false;
}
