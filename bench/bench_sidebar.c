/* The sidebar and the process finder at monorepo scale: N processes registered (sup_add_begin/end,
 * never started) as the scripts of N/100 workspace packages, rendered into a 200x50 curses screen
 * on /dev/null as a real frame is (view_draw + tui_blit + doupdate). Each case runs at the
 * baseline size (100 processes) and at N in the same run, and prints the ratio.
 * Usage: bench_sidebar [N] [FRAMES] */
#define _XOPEN_SOURCE_EXTENDED 1
#include <curses.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/rcu.h"
#include "core/util.h"
#include "tui/tui.h"
#include "tui/view.h"

static const char* const kinds[] = {"dev",        "build",     "test",       "lint",
                                    "preview",    "typecheck", "format",     "vite:dev",
                                    "vite:build", "docs:dev",  "docs:build", "postinstall"};
#define NKINDS (sizeof kinds / sizeof *kinds)

typedef struct World {
   Sup* sup;
   Project prj;
   Script* scripts;
   char** strs; /* owned: every name, package and command */
   size_t nstrs;
   View v;
   Canvas cur, prev;
} World;

static char* keep(World* w, char* s) {
   w->strs[w->nstrs++] = s;
   return s;
}

static void world_new(World* w, size_t n, Theme* theme) {
   memset(w, 0, sizeof *w);
   SupConfig cfg = {.use_pty = true, .kill_timeout_s = 1, .cols = 150, .rows = 46};
   if (sup_new(&cfg, &w->sup, NULL) < 0) exit(1);
   w->scripts = xcalloc(n, sizeof *w->scripts);
   w->strs = xcalloc(3 * n, sizeof *w->strs);
   char sh[] = "/bin/sh", dc[] = "-c", cmd[] = "true";
   char* av[] = {sh, dc, cmd, NULL};
   sup_add_begin(w->sup);
   for (size_t i = 0; i < n; i++) {
      size_t pkg = i / 100, k = i % 100;
      char* p = keep(w, pkg ? xasprintf("@scope/pkg-%04zu", pkg) : xstrdup("root"));
      char* sname = k < NKINDS ? xasprintf("%s", kinds[k]) : xasprintf("task-%02zu", k);
      char* name = keep(w, pkg ? xasprintf("%s:%s", p, sname) : sname);
      if (pkg) free(sname);
      char* command = keep(w, xasprintf("node scripts/run.js --target %s --mode %zu", p, k));
      w->scripts[i] = (Script){
          .name = name, .package = p, .pkg = pkg, .in_workspace = pkg != 0, .command = command};
      SupLaunch l = {.argv = av, .cwd = "/tmp"};
      sup_add(w->sup, name, &l);
   }
   sup_add_end(w->sup);
   static char pname[] = "bench";
   w->prj.name = pname;
   w->prj.scripts = w->scripts;
   w->prj.nscripts = n;
   view_init(&w->v, w->sup, NULL, &w->prj, theme);
   view_resize(&w->v, 200, 50);
   view_sync(&w->v);
}

static void world_free(World* w) {
   view_done(&w->v);
   canvas_free(&w->cur);
   canvas_free(&w->prev);
   sup_quit(w->sup);
   while (!sup_finished(w->sup)) nanosleep(&(struct timespec){0, 10000000}, NULL);
   sup_free(w->sup);
   for (size_t i = 0; i < w->nstrs; i++) free(w->strs[i]);
   free(w->strs);
   free(w->scripts);
}

static uint64_t cpu_ns(void) {
   struct timespec ts;
   clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
   return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* CPU time of this thread in the last frame(): the machine may be shared, wall time inflated. */
static uint64_t last_cpu;

/* One key (or none: key 0) and the frame it causes, in ns of wall time. */
static uint64_t frame(World* w, int key) {
   uint64_t a = util_mono_ns(), c = cpu_ns();
   rcu_read_lock();
   if (key) view_key(&w->v, key);
   view_draw(&w->v, &w->cur);
   rcu_read_unlock();
   tui_blit(&w->cur, &w->prev, false);
   wnoutrefresh(stdscr);
   doupdate();
   last_cpu = cpu_ns() - c;
   return util_mono_ns() - a;
}

static int cmp_u64(const void* a, const void* b) {
   uint64_t x = *(const uint64_t*)a, y = *(const uint64_t*)b;
   return x < y ? -1 : x > y;
}

typedef struct Stat {
   double p50, p95, max; /* wall ms */
   double cpu50, cpu95;  /* ms of this thread's CPU time */
} Stat;

/* Samples of one case: wall and CPU time per frame. */
typedef struct Samples {
   uint64_t *wall, *cpu;
   int n;
} Samples;

static void take(Samples* sm, World* w, int key) {
   sm->wall[sm->n] = frame(w, key);
   sm->cpu[sm->n++] = last_cpu;
}

static Stat stat_of(Samples* sm) {
   int n = sm->n;
   qsort(sm->wall, (size_t)n, sizeof *sm->wall, cmp_u64);
   qsort(sm->cpu, (size_t)n, sizeof *sm->cpu, cmp_u64);
   Stat st = {sm->wall[n / 2] / 1e6, sm->wall[n * 95 / 100] / 1e6, sm->wall[n - 1] / 1e6,
              sm->cpu[n / 2] / 1e6, sm->cpu[n * 95 / 100] / 1e6};
   sm->n = 0;
   return st;
}

#define NCASES 8
static const char* const case_names[NCASES] = {
    "sidebar/first-frame(layout)", "sidebar/idle-redraw",   "sidebar/scroll-j",
    "sidebar/fold-toggle",         "finder/first-open",     "finder/open",
    "finder/keystroke(vdev)",      "finder/keystroke(d,bs)"};

/* Every case at one size: stats per case. */
static void run(size_t n, int frames, Theme* theme, Stat* out) {
   World w;
   world_new(&w, n, theme);
   Samples sm = {xcalloc((size_t)frames * 4 + 8, 8), xcalloc((size_t)frames * 4 + 8, 8), 0};
   take(&sm, &w, 0);
   out[0] = stat_of(&sm);
   for (int i = 0; i < frames; i++) take(&sm, &w, 0);
   out[1] = stat_of(&sm);
   for (int i = 0; i < frames; i++) take(&sm, &w, i % 400 < 200 ? 'j' : 'k');
   out[2] = stat_of(&sm);
   for (int i = 0; i < frames; i++) take(&sm, &w, i % 2 ? '+' : '-');
   out[3] = stat_of(&sm);
   take(&sm, &w, VK_CTRL('p')); /* builds the haystacks */
   frame(&w, VK_ESC);
   out[4] = stat_of(&sm);
   for (int r = 0; r < (frames / 10 > 5 ? frames / 10 : 5); r++) {
      take(&sm, &w, VK_CTRL('p'));
      frame(&w, VK_ESC);
   }
   out[5] = stat_of(&sm);
   for (int r = 0; r < frames / 4 + 1; r++) { /* type vdev */
      frame(&w, VK_CTRL('p'));
      for (const char* q = "vdev"; *q; q++) take(&sm, &w, *q);
      frame(&w, VK_ESC);
   }
   out[6] = stat_of(&sm);
   for (int r = 0; r < frames / 4 + 1; r++) { /* nearly every process matches d: the whole sort */
      frame(&w, VK_CTRL('p'));
      take(&sm, &w, 'd');
      take(&sm, &w, VK_BACKSPACE);
      frame(&w, VK_ESC);
   }
   out[7] = stat_of(&sm);
   free(sm.wall);
   free(sm.cpu);
   world_free(&w);
}

int main(int argc, char** argv) {
   size_t n = argc > 1 ? (size_t)atol(argv[1]) : 100000;
   int frames = argc > 2 ? atoi(argv[2]) : 200;
   setlocale(LC_ALL, "C.UTF-8");
   rcu_register_thread();
   FILE* devnull = fopen("/dev/null", "w");
   setenv("COLUMNS", "200", 1);
   setenv("LINES", "50", 1);
   SCREEN* scr = newterm("xterm-256color", devnull, stdin);
   set_term(scr);
   theme_curses_init();
   Theme* theme = theme_builtin("default");
   Stat base[NCASES], big[NCASES];
   run(100, frames, theme, base);
   run(n, frames, theme, big);
   endwin();
   delscreen(scr);
   fclose(devnull);
   printf("sidebar and finder: %zu processes (baseline 100) in %zu packages, 200x50, %d frames\n",
          n, (n + 99) / 100, frames);
   for (int c = 0; c < NCASES; c++)
      printf("BenchmarkSidebar/%-30s wall p50 %8.3f p95 %8.3f max %8.3f ms  cpu p50 %8.3f p95 "
             "%8.3f ms  (cpu p50 x%.1f of the baseline's %.3f ms)\n",
             case_names[c], big[c].p50, big[c].p95, big[c].max, big[c].cpu50, big[c].cpu95,
             base[c].cpu50 > 0 ? big[c].cpu50 / base[c].cpu50 : 0, base[c].cpu50);
   theme_free(theme);
   rcu_unregister_thread();
   return 0;
}
