/* Frame time: 16 processes x 100,000 retained lines, rendered into a 200x50 curses screen on
 * /dev/null (newterm), the same view_draw + tui_blit + doupdate that a real frame does.
 * Usage: bench_frame [PROCS] [LINES] [FRAMES] */
#define _XOPEN_SOURCE_EXTENDED 1
#include <curses.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/filter.h"
#include "core/rcu.h"
#include "core/util.h"
#include "tui/tui.h"
#include "tui/view.h"

static void nop(void* ud) {
   (void)ud;
}

static int cmp_u64(const void* a, const void* b) {
   uint64_t x = *(const uint64_t*)a, y = *(const uint64_t*)b;
   return x < y ? -1 : x > y;
}

typedef struct Case {
   const char* name;
   void (*before)(View* v, int i); /* what changes between frames */
} Case;

static void steady(View* v, int i) {
   (void)v;
   (void)i;
}

static void scroll_each(View* v, int i) {
   view_key(v, i % 2 ? VK_PGUP : VK_CTRL('e')); /* most of the pane changes every frame */
}

static void switch_proc(View* v, int i) {
   view_key(v, '1' + i % 9); /* a new pane every frame */
}

int main(int argc, char** argv) {
   int nprocs = argc > 1 ? atoi(argv[1]) : 16;
   int nlines = argc > 2 ? atoi(argv[2]) : 100000;
   int frames = argc > 3 ? atoi(argv[3]) : 300;
   setlocale(LC_ALL, "C.UTF-8");
   rcu_register_thread();

   SupConfig cfg = {.use_pty = true,
                    .kill_timeout_s = 1,
                    .cols = 180,
                    .rows = 46,
                    .log = {.max_lines = (uint64_t)nlines}};
   Sup* sup;
   if (sup_new(&cfg, &sup, NULL) < 0) return 1;
   char script[512];
   snprintf(script, sizeof script,
            "awk 'BEGIN{for(i=0;i<%d;i++){if(i%%10==0)printf \"\\033[3%%dm\", i%%7+1; "
            "printf \"%%s [INFO] request %%d served in %%d ms from cache user=alice "
            "path=/api/v1/items\\033[0m\\n\", "
            "\"2024-01-01T10:00:00Z\", i, i%%97}}'",
            nlines);
   char sh[] = "/bin/sh", dc[] = "-c";
   char* av[] = {sh, dc, script, NULL};
   for (int i = 0; i < nprocs; i++) {
      char name[32];
      snprintf(name, sizeof name, "proc%02d", i);
      SupLaunch l = {.argv = av, .cwd = "/tmp"};
      sup_add(sup, name, &l);
      sup_start(sup, (uint64_t)i);
   }
   uint64_t t0 = util_mono_ns();
   for (;;) { /* wait until every process has ended and its output is stored */
      int done = 0;
      rcu_read_lock();
      const Registry* r = sup_registry(sup);
      for (size_t i = 0; i < r->n; i++) {
         const ProcSnap* s = sup_snap(r->slots[i]);
         if (s->state == PROC_EXITED && !s->output_open) done++;
      }
      rcu_read_unlock();
      if (done == nprocs) break;
      if (util_mono_ns() - t0 > 120000000000ull) {
         fprintf(stderr, "timed out filling the stores\n");
         return 1;
      }
      nanosleep(&(struct timespec){0, 20000000}, NULL);
   }

   FILE* devnull = fopen("/dev/null", "w");
   setenv("COLUMNS", "200", 1);
   setenv("LINES", "50", 1);
   SCREEN* scr = newterm("xterm-256color", devnull, stdin);
   set_term(scr);
   theme_curses_init();
   Theme* theme = theme_builtin("default");
   Project prj = {0};
   char pname[] = "bench";
   prj.name = pname;
   Filter* filt = NULL;
   if (filter_new(sup, nop, NULL, &filt, NULL) < 0) return 1;
   View v;
   view_init(&v, sup, filt, &prj, theme);
   view_resize(&v, 200, 50);
   Canvas cur = {0}, prev = {0};

   static const Case cases[] = {
       {"idle-redraw", steady}, {"scroll", scroll_each}, {"switch-process", switch_proc}};
   uint64_t* ns = calloc((size_t)frames, sizeof *ns);
   printf("frame time: %d processes x %d lines, 200x50, %d frames per case\n", nprocs, nlines,
          frames);
   for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
      for (int tab = 0; tab < 2; tab++) {
         v.tab = tab ? TAB_ALL : TAB_PROCS;
         for (int i = 0; i < frames; i++) {
            uint64_t a = util_mono_ns();
            rcu_read_lock();
            cases[k].before(&v, i);
            view_draw(&v, &cur);
            rcu_read_unlock();
            tui_blit(&cur, &prev, false);
            wnoutrefresh(stdscr);
            doupdate();
            ns[i] = util_mono_ns() - a;
         }
         qsort(ns, (size_t)frames, sizeof *ns, cmp_u64);
         printf("BenchmarkFrame/%s/%s  p50 %.3f ms  p95 %.3f ms  max %.3f ms\n", cases[k].name,
                tab ? "all" : "processes", ns[frames / 2] / 1e6, ns[frames * 95 / 100] / 1e6,
                ns[frames - 1] / 1e6);
      }
   }
   endwin();
   delscreen(scr);
   fclose(devnull);
   free(ns);
   filter_free(filt);
   view_done(&v);
   canvas_free(&cur);
   canvas_free(&prev);
   sup_quit(sup);
   while (!sup_finished(sup)) nanosleep(&(struct timespec){0, 10000000}, NULL);
   sup_free(sup);
   theme_free(theme);
   rcu_unregister_thread();
   return 0;
}
