/* The process finder's scoring and ranking, the lifecycle-script classifier, and the sidebar's
 * groups (layout, folding, counts), over a real supervisor whose processes are never started
 * unless a test says so. */
#include <criterion/criterion.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/rcu.h"
#include "core/util.h"
#include "tui/view_impl.h"

/* ---------------------------------------------------------------- the scorer alone */

static int score(const char* q, const char* text) {
   char lower[256];
   size_t n = strlen(text);
   for (size_t i = 0; i <= n; i++)
      lower[i] = text[i] >= 'A' && text[i] <= 'Z' ? (char)(text[i] + 32) : text[i];
   return fuzzy_score(q, strlen(q), text, lower, n);
}

Test(fuzzy, not_a_subsequence) {
   cr_expect_eq(score("xyz", "vite:dev"), -1);
   cr_expect_eq(score("dve", "dev"), -1, "order matters");
   cr_expect_geq(score("dev", "dev"), 0);
}

Test(fuzzy, consecutive_beats_scattered) {
   cr_expect_gt(score("abc", "xabcxxxx"), score("abc", "xaxbxcxx"));
   cr_expect_gt(score("build", "build:all"), score("build", "bxuxixlxd"));
}

Test(fuzzy, word_start_beats_middle) {
   cr_expect_gt(score("bar", "foo-bar"), score("bar", "foobarx"));
   cr_expect_gt(score("dev", "web:dev"), score("dev", "webxdev"));
   cr_expect_gt(score("dev", "a/dev"), score("dev", "axdev"));
   cr_expect_gt(score("dev", "a_dev"), score("dev", "axdev"));
   cr_expect_gt(score("dev", "a.dev"), score("dev", "axdev"));
   cr_expect_gt(score("dev", "a dev"), score("dev", "axdev"));
   cr_expect_gt(score("fb", "fooBar"), score("fb", "foobar"), "camelCase is a word start");
}

Test(fuzzy, smart_case) {
   cr_expect_geq(score("vite", "Vite:Dev"), 0, "a lowercase query matches any case");
   cr_expect_eq(score("Vite", "vite:dev"), -1, "an uppercase letter makes it case-sensitive");
   cr_expect_geq(score("Vite", "Vite:dev"), 0);
}

Test(fuzzy, best_alignment_not_first) {
   /* the first 'd' is in the middle of a word; the best alignment uses the word start */
   cr_expect_gt(score("dev", "xdxx:dev"), score("dev", "xdxxxdev"));
}

/* The matched characters: the best alignment's, for highlighting. */
Test(fuzzy, positions) {
   uint8_t pos[4];
   cr_assert_geq(fuzzy_positions("vdev", 4, "vite:dev", "vite:dev", 8, pos), 0);
   cr_expect(pos[0] == 0 && pos[1] == 5 && pos[2] == 6 && pos[3] == 7, "%d %d %d %d", pos[0],
             pos[1], pos[2], pos[3]);
   cr_assert_geq(fuzzy_positions("dev", 3, "xdxx:dev", "xdxx:dev", 8, pos), 0);
   cr_expect(pos[0] == 5 && pos[1] == 6 && pos[2] == 7, "the word start, not the first d");
   cr_assert_geq(fuzzy_positions("b", 1, "abc-b", "abc-b", 5, pos), 0);
   cr_expect_eq(pos[0], 4, "one character: its best occurrence");
   cr_expect_eq(fuzzy_score("vdev", 4, "vite:dev", "vite:dev", 8),
                fuzzy_positions("vdev", 4, "vite:dev", "vite:dev", 8, pos));
}

/* ---------------------------------------------------------------- lifecycle scripts */

Test(lifecycle, names) {
   const char* yes[] = {"preinstall", "install",  "postinstall", "prepublish",
                        "preprepare", "prepare",  "postprepare", "prepublishOnly",
                        "prepack",    "postpack", "publish",     "postpublish",
                        "preversion", "version",  "postversion", "dependencies"};
   for (size_t i = 0; i < sizeof yes / sizeof *yes; i++)
      cr_expect(pkg_lifecycle_name(yes[i]), "%s", yes[i]);
   cr_expect_not(pkg_lifecycle_name("dev"));
   cr_expect_not(pkg_lifecycle_name("prebuild"), "pre<x> depends on the package's scripts");
}

#define S(n, pk, p, ws)                                                                            \
   (Script) {                                                                                      \
      .name = (char*)(n), .package = (char*)(pk), .pkg = (p), .in_workspace = (ws)                 \
   }

Test(lifecycle, pre_and_post_of_existing_scripts) {
   Script sc[] = {
       S("preinstall", "root", 0, false), S("build", "root", 0, false),
       S("prebuild", "root", 0, false),   S("postbuild", "root", 0, false),
       S("prettier", "root", 0, false),   S("preview", "root", 0, false),
       S("web:dev", "web", 1, true),      S("web:predev", "web", 1, true),
       S("web:prebuild", "web", 1, true), S("web:postinstall", "web", 1, true),
       S("web:postdev", "web", 1, true),  S("dev", "root", 0, false),
   };
   bool want[] = {true, false, true, true, false, false, false, true, false, true, true, false};
   Project p = {.scripts = sc, .nscripts = sizeof sc / sizeof *sc};
   bool* got = pkg_lifecycle_flags(&p);
   for (size_t i = 0; i < p.nscripts; i++)
      cr_expect_eq(got[i], want[i], "%s: %d, want %d", sc[i].name, got[i], want[i]);
   free(got);
   /* a brum.yaml process named like a lifecycle script is not one */
   sc[0].source = SRC_BRUM_YAML;
   got = pkg_lifecycle_flags(&p);
   cr_expect_not(got[0]);
   free(got);
}

/* ---------------------------------------------------------------- over a view */

static Sup* sup;
static Theme* theme;
static Project prj;
static View v;
static Canvas cv;
static Script scripts[16];
static size_t nscripts;

/* A monorepo: the root package's scripts, then two workspace packages'. */
static const struct {
   const char *name, *pkg;
   size_t p;
   bool ws;
   const char* cmd;
} mono[] = {
    {"preinstall", "mono", 0, false, "node scripts/check.js"},
    {"dev", "mono", 0, false, "pnpm -r dev"},
    {"build", "mono", 0, false, "pnpm -r build"},
    {"vite:dev", "vite", 1, true, "rollup -c -w"},
    {"vite:build", "vite", 1, true, "rollup -c"},
    {"vite:postinstall", "vite", 1, true, "node postinstall.js"},
    {"vitepress:dev", "vitepress", 2, true, "vitepress dev docs"},
    {"create-vite:dev", "create-vite", 3, true, "unbuild --stub"},
    {"plugin-vue:dev", "plugin-vue", 4, true, "vite build --watch"},
    {"docs:dev", "docs", 5, true, "vitepress dev"},
};

static void setup(void) {
   setlocale(LC_ALL, "C.UTF-8");
   rcu_register_thread();
   SupConfig cfg = {.use_pty = true, .kill_timeout_s = 1, .cols = 80, .rows = 24};
   cr_assert_eq(sup_new(&cfg, &sup, NULL), 0);
   nscripts = sizeof mono / sizeof *mono;
   char sh[] = "/bin/sh", dc[] = "-c";
   for (size_t i = 0; i < nscripts; i++) {
      scripts[i] = (Script){.name = (char*)mono[i].name,
                            .package = (char*)mono[i].pkg,
                            .pkg = mono[i].p,
                            .in_workspace = mono[i].ws,
                            .command = (char*)mono[i].cmd};
      char* argv[] = {sh, dc, (char*)(i == 2 ? "exit 3" : "echo hi; exec sleep 1000"), NULL};
      SupLaunch l = {.argv = argv, .cwd = "/tmp"};
      sup_add(sup, mono[i].name, &l);
   }
   theme = theme_builtin("default");
   static char name[] = "mono";
   prj.name = name;
   prj.scripts = scripts;
   prj.nscripts = nscripts;
   view_init(&v, sup, NULL, &prj, theme);
   view_resize(&v, 100, 30);
   rcu_read_lock();
   view_select_first(&v, UINT64_MAX);
   rcu_read_unlock();
}

static void teardown(void) {
   view_done(&v);
   sup_quit(sup);
   for (int i = 0; i < 500 && !sup_finished(sup); i++)
      nanosleep(&(struct timespec){0, 10000000}, NULL);
   sup_free(sup);
   theme_free(theme);
   canvas_free(&cv);
   rcu_unregister_thread();
}

TestSuite(groups, .init = setup, .fini = teardown, .timeout = 60);

static bool key(int k) {
   rcu_read_lock();
   bool r = view_key(&v, k);
   rcu_read_unlock();
   return r;
}

static void draw(void) {
   rcu_read_lock();
   view_draw(&v, &cv);
   rcu_read_unlock();
}

/* The sidebar's text (its rows, trimmed at the column rule), one row per line. */
static char* sidebar_text(void) {
   draw();
   static char out[4096];
   out[0] = '\0';
   for (int y = 2; y < cv.h - 1; y++) {
      char row[1024];
      canvas_row_text(&cv, y, row, sizeof row);
      char* rule = strstr(row, "│");
      if (rule) *rule = '\0';
      for (size_t n = strlen(row); n && row[n - 1] == ' ';) row[--n] = '\0';
      if (!row[0]) continue;
      strcat(out, row);
      strcat(out, "\n");
   }
   return out;
}

static bool wait_state(uint64_t id, ProcState st) {
   for (int i = 0; i < 1000; i++) {
      rcu_read_lock();
      bool ok = sup_snap(sup_registry(sup)->slots[id])->state == st;
      rcu_read_unlock();
      if (ok) return true;
      nanosleep(&(struct timespec){0, 10000000}, NULL);
   }
   return false;
}

Test(groups, packages_root_first_lifecycle_hidden) {
   char* s = sidebar_text();
   const char* want = " ▾ mono\n"
                      " ○ dev\n"
                      " ○ build\n"
                      " ▾ vite\n"
                      " ○ vite:dev\n"
                      " ○ vite:build\n"
                      " ▾ vitepress\n";
   cr_expect(strncmp(s, want, strlen(want)) == 0, "sidebar:\n%s", s);
   cr_expect(strstr(s, "preinstall") == NULL && strstr(s, "postinstall") == NULL, "%s", s);
   key('H');
   s = sidebar_text();
   cr_expect(strstr(s, " ○ preinstall\n ○ dev\n") != NULL, "H shows them:\n%s", s);
   cr_expect(strstr(s, " ○ vite:postinstall\n") != NULL, "%s", s);
   cr_expect(strstr(v.msg, "lifecycle scripts shown (2)") != NULL, "message: %s", v.msg);
   key('H');
   s = sidebar_text();
   cr_expect(strstr(s, "preinstall") == NULL, "H hides them again:\n%s", s);
}

Test(groups, fold_unfold_and_counts) {
   /* start vite:dev and build (which fails): the vite and mono headers count them */
   sup_start(sup, 3);
   sup_start(sup, 2);
   cr_assert(wait_state(3, PROC_RUNNING));
   cr_assert(wait_state(2, PROC_FAILED));
   char* s = sidebar_text();
   cr_expect(strstr(s, " ▾ mono ✗ 1\n") != NULL, "%s", s);
   cr_expect(strstr(s, " ▾ vite ● 1\n") != NULL, "%s", s);
   /* select vite:build (j from dev: build, header vite, vite:dev, vite:build) */
   cr_expect_eq(v.sel, 1);
   key('j'), key('j');
   cr_expect(v.on_header, "j reaches the vite header");
   cr_expect_eq(v.sel, 3, "a header selects its group's first process");
   key('j'), key('j');
   cr_expect_eq(v.sel, 4);
   cr_expect_not(v.on_header);
   /* Left on a member folds its group and selects the header */
   key(VK_LEFT);
   s = sidebar_text();
   cr_expect(strstr(s, " ▸ vite ● 1\n ▾ vitepress\n") != NULL, "folded with its counts:\n%s", s);
   cr_expect(v.on_header);
   cr_expect_eq(v.sel, 4, "the pane keeps its process");
   /* k from the folded header: the row above (mono's last shown process) */
   key('k');
   cr_expect_eq(v.sel, 2);
   key('j');
   cr_expect(v.on_header);
   /* Right unfolds; Right again goes into the group */
   key(VK_RIGHT);
   s = sidebar_text();
   cr_expect(strstr(s, " ▾ vite ● 1\n ○ vite:dev") != NULL || strstr(s, " ▾ vite ● 1\n") != NULL,
             "%s", s);
   cr_expect(strstr(s, "vite:build") != NULL, "unfolded:\n%s", s);
   key(VK_RIGHT);
   cr_expect_not(v.on_header);
   cr_expect_eq(v.sel, 3);
   /* - and + from a member */
   key('-');
   cr_expect(strstr(sidebar_text(), "vite:build") == NULL);
   key('+');
   cr_expect(strstr(sidebar_text(), "vite:build") != NULL);
   /* Enter on a header toggles it */
   key('-');
   key(VK_ENTER);
   cr_expect(strstr(sidebar_text(), "vite:build") != NULL);
   /* 1-9 count processes, not headers */
   key('3');
   cr_expect_eq(v.sel, 3, "3: the third shown process (dev, build, vite:dev)");
}

/* A single package (no workspaces, no groups): the sidebar stays flat. */
Test(groups, single_package_is_flat) {
   for (size_t i = 0; i < nscripts; i++) scripts[i].in_workspace = false, scripts[i].pkg = 0;
   sidebar_invalidate(&v);
   char* s = sidebar_text();
   cr_expect(strncmp(s, " ○ dev\n ○ build\n ○ vite:dev\n", 27) == 0, "flat:\n%s", s);
   cr_expect(strstr(s, "▾") == NULL);
}

static size_t rank_of(const char* name) {
   const uint32_t* ids;
   size_t n = finder_results(&v, &ids);
   for (size_t i = 0; i < n; i++)
      if (strcmp(mono[ids[i]].name, name) == 0) return i;
   return SIZE_MAX;
}

Test(groups, finder_ranks_vdev_first) {
   rcu_read_lock();
   finder_set_query(&v, "vdev");
   rcu_read_unlock();
   cr_expect_eq(rank_of("vite:dev"), 0, "vite:dev first");
   /* vite:dev, vitepress:dev, create-vite:dev, plugin-vue:dev match by name */
   cr_expect_geq(rank_of("docs:dev"), 4, "a match only in the command comes after the names");
   cr_expect_lt(rank_of("docs:dev"), SIZE_MAX, "but it matches: \"vitepress dev\"");
   cr_expect_eq(rank_of("vite:build"), SIZE_MAX, "no match");
   rcu_read_lock();
   finder_set_query(&v, "dev");
   rcu_read_unlock();
   cr_expect_eq(rank_of("dev"), 0, "an exact name first, shorter names on ties");
   rcu_read_lock();
   finder_set_query(&v, "rollup");
   rcu_read_unlock();
   cr_expect_eq(rank_of("vite:dev"), 0, "the command is searched too");
   cr_expect_eq(rank_of("vite:build"), 1);
}

/* Typing narrows the previous matches; the result is the same as scoring everything again. */
Test(groups, finder_incremental_is_exact) {
   const char* qs[] = {"v", "vi", "vit", "vite", "vite:", "vite:d"};
   for (size_t k = 0; k < sizeof qs / sizeof *qs; k++) {
      uint32_t inc[16], full[16];
      const uint32_t* ids;
      rcu_read_lock();
      finder_set_query(&v, qs[k]);
      size_t ni = finder_results(&v, &ids);
      memcpy(inc, ids, ni * sizeof *ids);
      finder_set_query(&v, ""); /* forget the previous matches */
      finder_set_query(&v, qs[k]);
      size_t nf = finder_results(&v, &ids);
      memcpy(full, ids, nf * sizeof *ids);
      rcu_read_unlock();
      cr_expect_eq(ni, nf, "%s", qs[k]);
      cr_expect_arr_eq(inc, full, ni * sizeof *inc, "%s", qs[k]);
   }
}

/* Ctrl-P, a few letters, Enter: the process's pane, its group unfolded; Ctrl-O also starts it. */
Test(groups, finder_keys) {
   key(VK_LEFT); /* fold mono */
   key(VK_TAB);  /* the All view */
   key(VK_CTRL('p'));
   cr_assert(v.finder_open);
   draw();
   for (const char* p = "postinst"; *p; p++) key(*p);
   key(VK_DOWN); /* the second match: the root's preinstall ranks below vite:postinstall */
   key(VK_UP);
   key(VK_ENTER);
   cr_expect_not(v.finder_open);
   cr_expect_eq(v.tab, TAB_PROCS);
   cr_expect_eq(v.sel, 5, "vite:postinstall");
   cr_expect(v.show_lifecycle, "a hidden lifecycle script is shown");
   char* s = sidebar_text();
   cr_expect(strstr(s, " ○ vite:postinstall") != NULL, "%s", s);
   /* Ctrl-O starts the selected match; Esc closes without doing anything */
   key(VK_CTRL('p'));
   for (const char* p = "docsdev"; *p; p++) key(*p);
   key(VK_CTRL('o'));
   cr_expect_eq(v.sel, 9);
   cr_expect(wait_state(9, PROC_RUNNING));
   key(VK_CTRL('p'));
   key('b');
   key(VK_ESC);
   cr_expect_not(v.finder_open);
   cr_expect_eq(v.sel, 9);
   /* Alt-Enter (Esc + Enter) selects and starts */
   key(VK_CTRL('p'));
   for (const char* p = "plugvue"; *p; p++) key(*p);
   key(VK_ALT_ENTER);
   cr_expect_eq(v.sel, 8);
   cr_expect(wait_state(8, PROC_RUNNING));
   /* the mono group was folded; selecting its dev unfolds it */
   key(VK_CTRL('p'));
   key('d'), key('e'), key('v');
   key(VK_ENTER);
   cr_expect_eq(v.sel, 1);
   cr_expect(strstr(sidebar_text(), " ▾ mono") != NULL);
}

/* The cached layout follows the registry: a process registered later (no script) is listed, under
 * a group of its own, and the finder finds it. */
Test(groups, layout_follows_the_registry) {
   char* s = sidebar_text();
   cr_expect(strstr(s, "extra") == NULL);
   char sh[] = "/bin/sh", dc[] = "-c", cmd[] = "true";
   char* argv[] = {sh, dc, cmd, NULL};
   SupLaunch l = {.argv = argv, .cwd = "/tmp"};
   sup_add(sup, "extra", &l);
   view_sync(&v);
   s = sidebar_text();
   cr_expect(strstr(s, " ▾ ungrouped\n ○ extra\n") != NULL, "%s", s);
   rcu_read_lock();
   finder_set_query(&v, "xtr");
   const uint32_t* ids;
   size_t n = finder_results(&v, &ids);
   rcu_read_unlock();
   cr_expect(n == 1 && ids[0] == nscripts, "the finder has it too");
}
