/* The view without a terminal: key dispatch and what a frame draws, over a real supervisor. */
#include <criterion/criterion.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/rcu.h"
#include "core/util.h"
#include "tui/tui.h"
#include "tui/view.h"

static Sup* sup;
static Filter* filt;
static Theme* theme;
static Project prj;
static View v;
static Canvas cv;

/* ---- sup_intel, wrapped (tests/CMakeLists.txt): with fake_intel set, process 0's snapshot is a
 * ring of two error entries, and every read sees a newer one, whose ring has dropped the oldest
 * entry: generation g holds "entry g" and "entry g+1" (newer, later). */
const DetectSnap* __real_sup_intel(const ProcSlot* slot);
const DetectSnap* __wrap_sup_intel(const ProcSlot* slot);

#define FAKE_GENS 4096
static bool fake_intel;
static unsigned fake_gen, intel_reads; /* reads of process 0's snapshot */
static DetectSnap fake_snaps[FAKE_GENS];
static DetectEntry fake_entries[FAKE_GENS][2];
static char fake_titles[FAKE_GENS][2][32];

const DetectSnap* __wrap_sup_intel(const ProcSlot* slot) {
   bool first = slot == sup_registry(sup)->slots[0];
   intel_reads += first;
   if (!fake_intel) return __real_sup_intel(slot);
   if (!first) return NULL;
   unsigned g = fake_gen++ % FAKE_GENS;
   for (unsigned k = 0; k < 2; k++) {
      unsigned n = fake_gen - 1 + k;
      snprintf(fake_titles[g][k], sizeof fake_titles[g][k], "entry %u", n);
      fake_entries[g][k] = (DetectEntry){.kind = DETECT_ERROR,
                                         .first_line = n % 4,
                                         .last_line = n % 4,
                                         .time_ms = 1000ull * n,
                                         .title = fake_titles[g][k]};
   }
   fake_snaps[g] = (DetectSnap){.errors = 2, .nentries = 2, .entries = fake_entries[g]};
   return &fake_snaps[g];
}

static void nop_wake(void* ud) {
   (void)ud;
}

static void add(const char* name, const char* script) {
   char sh[] = "/bin/sh", dash_c[] = "-c";
   char* argv[] = {sh, dash_c, (char*)script, NULL};
   SupLaunch l = {.argv = argv, .cwd = "/tmp"};
   sup_add(sup, name, &l);
}

static void setup(void) {
   setlocale(LC_ALL, "C.UTF-8");
   rcu_register_thread();
   SupConfig cfg = {.use_pty = true, .kill_timeout_s = 1, .cols = 80, .rows = 24};
   cr_assert_eq(sup_new(&cfg, &sup, NULL), 0);
   add("levels", "printf '[INFO] starting\\n[ERR] disk full\\n[INFO] retry\\n[WARN] slow\\n'");
   add("count", "i=0; while [ $i -lt 300 ]; do echo \"count $i\"; i=$((i+1)); done");
   add("sleeper", "echo sleeping; exec sleep 1000");
   cr_assert_eq(filter_new(sup, nop_wake, NULL, &filt, NULL), 0);
   theme = theme_builtin("default");
   static char demo[] = "demo";
   prj.name = demo;
   prj.pm = PM_NPM;
   view_init(&v, sup, filt, &prj, theme);
   view_resize(&v, 100, 30);
}

static void teardown(void) {
   filter_free(filt);
   view_done(&v);
   sup_quit(sup);
   for (int i = 0; i < 500 && !sup_finished(sup); i++)
      nanosleep(&(struct timespec){0, 10000000}, NULL);
   sup_free(sup);
   theme_free(theme);
   canvas_free(&cv);
   rcu_unregister_thread();
}

TestSuite(view, .init = setup, .fini = teardown, .timeout = 60);

static bool key(int k) {
   rcu_read_lock();
   bool r = view_key(&v, k);
   rcu_read_unlock();
   return r;
}

static void draw(void) {
   rcu_read_lock();
   view_tick(&v);
   view_draw(&v, &cv);
   rcu_read_unlock();
}

static void type(const char* s) {
   for (; *s; s++) key((unsigned char)*s);
}

/* Does any row of the frame contain `needle`? */
static bool screen_has(const char* needle) {
   draw();
   char row[1024];
   for (int y = 0; y < cv.h; y++) {
      canvas_row_text(&cv, y, row, sizeof row);
      if (strstr(row, needle)) return true;
   }
   return false;
}

static bool wait_screen(const char* needle) {
   for (int i = 0; i < 1000; i++) { /* 10 s */
      if (screen_has(needle)) return true;
      nanosleep(&(struct timespec){0, 10000000}, NULL);
   }
   return false;
}

static ProcState state_of(uint64_t id) {
   rcu_read_lock();
   ProcState s = sup_snap(sup_registry(sup)->slots[id])->state;
   rcu_read_unlock();
   return s;
}

Test(view, first_frame_lists_every_script) {
   cr_assert(screen_has("brum"));
   cr_assert(screen_has("demo"));
   cr_assert(screen_has("levels"));
   cr_assert(screen_has("count"));
   cr_assert(screen_has("sleeper"));
   cr_assert(screen_has("press Enter to start"));
}

Test(view, enter_starts_and_output_appears) {
   cr_assert(key(VK_ENTER));
   cr_assert(wait_screen("[ERR] disk full"));
   cr_assert(wait_screen("levels · exited ok"));
}

Test(view, number_and_jk_select) {
   key('2');
   cr_assert(screen_has("count · idle"));
   key('k');
   cr_assert(screen_has("levels · idle"));
   key('k'); /* at the top: stays */
   cr_assert(screen_has("levels · idle"));
   key('j');
   key('j');
   key('j'); /* past the end: stays on the last */
   cr_assert(screen_has("sleeper · idle"));
   key('9'); /* no ninth process: nothing happens */
   cr_assert(screen_has("sleeper · idle"));
}

Test(view, filter_hides_other_lines) {
   key(VK_ENTER);
   cr_assert(wait_screen("levels · exited ok"));
   key('f');
   cr_assert(screen_has("filter:"));
   type("^\\[(ERR|WARN)");
   key(VK_ENTER);
   cr_assert(wait_screen("filter: 2/"));
   cr_assert(screen_has("[ERR] disk full"));
   cr_assert(screen_has("[WARN] slow"));
   cr_assert_not(screen_has("[INFO] retry"));
}

Test(view, invalid_regex_keeps_previous_filter) {
   key(VK_ENTER);
   cr_assert(wait_screen("levels · exited ok"));
   key('f');
   type("ERR");
   key(VK_ENTER);
   cr_assert(wait_screen("filter: 1/"));
   key('f');
   key(VK_CTRL('u'));
   type("(");
   key(VK_ENTER);
   cr_assert(screen_has("invalid regex at offset 1"));
   cr_assert(screen_has("filter: 1/"));
   cr_assert_not(screen_has("[INFO] retry"));
   /* an empty pattern clears it */
   key('f');
   key(VK_CTRL('u'));
   key(VK_ENTER);
   cr_assert(screen_has("[INFO] retry"));
}

Test(view, search_moves_to_the_match) {
   key('2');
   key(VK_ENTER);
   cr_assert(wait_screen("count · exited ok"));
   key('/');
   type("count 12$");
   key(VK_ENTER);
   draw();
   cr_assert(wait_screen("paused"));
   cr_assert(screen_has("count 12"));
   cr_assert_not(screen_has("count 299"));
   key('G');
   cr_assert(screen_has("count 299"));
}

/* Runs `count` to its end, then searches its pane for `pattern`. */
static void search_in_count(const char* pattern) {
   key('2');
   key(VK_ENTER);
   cr_assert(wait_screen("count · exited ok"));
   key('/');
   type(pattern);
   key(VK_ENTER);
}

/* n/N, e/E and ]/[ scan on the filter worker: the key press only hands over a job. */
Test(view, search_runs_on_the_filter_worker) {
   search_in_count("count 7$");
   rcu_read_lock();
   const FindState* st = filter_find_state(filt);
   cr_assert(v.find_gen != 0, "the search went to the worker");
   cr_assert(st && st->gen == v.find_gen);
   rcu_read_unlock();
   cr_assert(wait_screen("/count 7$"));
   cr_assert(screen_has("count 7"));
   cr_assert_eq(v.find_gen, 0, "the finished job is forgotten");
}

/* Esc clears the search while its job still runs: the result must not use the cleared pattern
 * (it crashed the monkey test). */
Test(view, search_cleared_while_its_job_runs) {
   search_in_count("count 7$");
   key(VK_ESC);
   for (int i = 0; i < 50; i++) {
      draw();
      nanosleep(&(struct timespec){0, 2000000}, NULL);
   }
   cr_assert_eq(v.find_gen, 0);
   cr_assert_null(v.search);
}

/* A filter set while a search job runs: the job's line number is not a position in the filtered
 * pane, so the job is dropped rather than scrolling to a wrong place. */
Test(view, filter_set_while_a_search_runs) {
   search_in_count("count 250$");
   key('f');
   type("count 2");
   key(VK_ENTER);
   cr_assert(wait_screen("filter: 111/"));
   cr_assert_eq(v.find_gen, 0);
   cr_assert_not(v.search_has_hit, "no hit from the old pane");
}

Test(view, error_jumps_work_in_the_all_view_and_filtered) {
   key(VK_ENTER);
   cr_assert(wait_screen("levels · exited ok"));
   key(VK_TAB); /* All */
   key('g');
   key('e');
   cr_assert(wait_screen("levels: error at line 2"));
   key(VK_BTAB);
   key('f');
   type("ERR|WARN");
   key(VK_ENTER);
   cr_assert(wait_screen("filter: 2/"));
   key('g');
   key(']');
   cr_assert(wait_screen("warning at line 4"));
}

Test(view, scrolling_pauses_and_G_follows) {
   key('2');
   key(VK_ENTER);
   cr_assert(wait_screen("count · exited ok"));
   cr_assert(screen_has("follow"));
   key(VK_PGUP);
   cr_assert(screen_has("paused"));
   cr_assert_not(screen_has("count 299"));
   key('g');
   cr_assert(screen_has("count 0"));
   key('G');
   cr_assert(screen_has("follow"));
   cr_assert(screen_has("count 299"));
}

Test(view, zoom_wrap_help_tabs) {
   cr_assert(screen_has("sleeper"));
   key('z');
   cr_assert_not(screen_has("sleeper"));
   key('z');
   cr_assert(screen_has("sleeper"));
   key('w');
   cr_assert(screen_has("wrap off"));
   key('?');
   cr_assert(screen_has("restart all running"));
   cr_assert_not(key('x')); /* does nothing in Help */
   key(VK_ESC);
   cr_assert(screen_has("levels · idle"));
   key(VK_TAB);
   cr_assert(screen_has("all processes, in time order"));
   key(VK_TAB);
   cr_assert(screen_has("none yet"));
   key(VK_BTAB);
   key(VK_BTAB);
   cr_assert(screen_has("levels · idle"));
}

Test(view, quit_asks_when_running) {
   key('3');
   key(VK_ENTER);
   cr_assert(wait_screen("sleeper · running"));
   key('q');
   cr_assert(v.confirm_quit);
   cr_assert(screen_has("still running"));
   key('n');
   cr_assert_not(v.confirm_quit);
   cr_assert_not(v.quit);
   key(VK_CTRL('c'));
   cr_assert(v.confirm_quit);
   key('y');
   cr_assert(v.quit);
}

Test(view, quit_without_running_is_immediate) {
   key('q');
   cr_assert(v.quit);
   cr_assert_not(v.confirm_quit);
}

Test(view, stop_and_kill) {
   key('3');
   key(VK_ENTER);
   cr_assert(wait_screen("sleeper · running"));
   key('x');
   cr_assert(wait_screen("sleeper · stopped"));
   cr_assert_eq(state_of(2), PROC_STOPPED);
   key('s');
   cr_assert(wait_screen("sleeper · running"));
   key('X');
   cr_assert(wait_screen("sleeper · killed (9)"));
}

Test(view, tiny_terminal) {
   view_resize(&v, 30, 8);
   cr_assert(screen_has("terminal too small"));
   cr_assert_not(key('j')); /* keys other than quit do nothing */
   view_resize(&v, 100, 30);
   cr_assert(screen_has("levels"));
}

Test(view, mouse_selects_process_and_tab) {
   draw();
   v.mouse_x = 3;
   v.mouse_y = 3; /* second sidebar row */
   cr_assert(key(VK_CLICK));
   cr_assert(screen_has("count · idle"));
   /* the All tab: click on the cell where its label starts */
   int col = -1;
   for (int x = 0; x + 2 < cv.w && col < 0; x++)
      if (canvas_at(&cv, x, 1)->ch == 'A' && canvas_at(&cv, x + 1, 1)->ch == 'l') col = x;
   cr_assert_geq(col, 0);
   v.mouse_x = col;
   v.mouse_y = 1;
   cr_assert(key(VK_CLICK));
   cr_assert(screen_has("all processes, in time order"));
   /* the wheel scrolls the pane: up pauses follow */
   key(VK_BTAB);
   key(VK_ENTER);
   cr_assert(wait_screen("count · exited ok"));
   key(VK_WHEEL_UP);
   cr_assert(screen_has("paused"));
   for (int i = 0; i < 200 && !screen_has("follow"); i++) key(VK_WHEEL_DOWN);
   cr_assert(screen_has("follow"));
}

/* Help is the key table (Space paging included) and scrolls when it does not fit. */
Test(view, help_is_the_key_table_and_scrolls) {
   view_resize(&v, 80, 24);
   key('?');
   cr_assert(screen_has("PgUp/PgDn/Space"));
   cr_assert_not(screen_has("in a prompt: apply / cancel"));
   key('G');
   cr_assert(screen_has("in a prompt: apply / cancel"));
   key('g');
   cr_assert(screen_has("select process"));
   key(VK_ESC);
   cr_assert(screen_has("levels · idle"));
}

/* The number N of the "entry N" on row y, -1: none. */
static int entry_on_row(int y) {
   char row[1024];
   canvas_row_text(&cv, y, row, sizeof row);
   const char* e = strstr(row, "entry ");
   return e ? atoi(e + 6) : -1;
}

/* The Errors list, its detail and its keys each use one snapshot per frame, even when a newer one
 * (whose ring dropped an entry) is published between two reads. */
Test(view, errors_read_each_snapshot_once_per_frame) {
   key(VK_ENTER);
   cr_assert(wait_screen("levels · exited ok"));
   fake_intel = true;
   key(VK_TAB);
   key(VK_TAB);
   rcu_read_lock();
   intel_reads = 0;
   view_draw(&v, &cv);
   rcu_read_unlock();
   /* rows 2 and 3: one snapshot's two entries, newest first; the detail shows the first */
   int newest = entry_on_row(2), older = entry_on_row(3);
   cr_assert(newest >= 0 && older >= 0);
   cr_assert_eq(newest, older + 1, "rows show entry %d and entry %d", newest, older);
   char detail[64], row[1024];
   snprintf(detail, sizeof detail, "levels · lines %d-%d", newest % 4 + 1, newest % 4 + 1);
   bool found = false;
   for (int y = 0; y < cv.h && !found; y++) {
      canvas_row_text(&cv, y, row, sizeof row);
      found = strstr(row, detail) != NULL;
   }
   cr_assert(found, "no detail line \"%s\"", detail);
   cr_assert_eq(intel_reads, 1, "a frame read process 0's snapshot %u times", intel_reads);
   static const int keys[] = {'j', 'c', 'k', 'G', VK_ENTER};
   for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
      intel_reads = 0;
      key(keys[i]);
      cr_assert_leq(intel_reads, 1, "key %d read process 0's snapshot %u times", keys[i],
                    intel_reads);
   }
   fake_intel = false;
}

/* A project without scripts: every key is safe and the pane says what to do. */
static void setup_empty(void) {
   setlocale(LC_ALL, "C.UTF-8");
   rcu_register_thread();
   SupConfig cfg = {.use_pty = true, .kill_timeout_s = 1, .cols = 80, .rows = 24};
   cr_assert_eq(sup_new(&cfg, &sup, NULL), 0);
   cr_assert_eq(filter_new(sup, nop_wake, NULL, &filt, NULL), 0);
   theme = theme_builtin("default");
   static char empty[] = "empty";
   prj.name = empty;
   view_init(&v, sup, filt, &prj, theme);
   view_resize(&v, 100, 30);
}

Test(view_empty, every_key_is_safe, .init = setup_empty, .fini = teardown, .timeout = 60) {
   cr_assert(screen_has("no scripts in package.json"));
   static const int keys[] = {
       VK_ENTER,    's', 'x',      'X',    'r',    'R',      'j',         'k',     '1',
       'e',         'E', ']',      'p',    'g',    'G',      VK_PGUP,     VK_PGDN, VK_CTRL('e'),
       VK_WHEEL_UP, 'z', 'w',      't',    'n',    VK_CLICK, VK_TAB,      'c',     VK_ENTER,
       VK_TAB,      'c', VK_ENTER, VK_TAB, VK_TAB, 'g',      VK_CTRL('y')};
   for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
      key(keys[i]);
      draw();
   }
   key('q');
   cr_assert(v.quit);
}

/* The key table runs the first binding of a key: no key is bound twice in one mode and view. */
Test(keys, no_key_bound_twice) {
   char* cause = NULL;
   cr_assert_eq(view_keys_check(&cause), 0, "%s", cause ? cause : "");
   free(cause);
}

/* README.md's key table is rendered from the key table, so the two cannot drift apart. */
Test(keys, readme_table_is_the_key_table) {
   FILE* f = fopen(BRUM_SOURCE_DIR "/README.md", "r");
   cr_assert_not_null(f);
   char line[1024];
   size_t cap = 1 << 16, len = 0;
   char* table = calloc(1, cap);
   bool in_section = false, in_table = false;
   while (fgets(line, sizeof line, f)) {
      if (strncmp(line, "### ", 4) == 0) in_section = strcmp(line, "### The terminal UI\n") == 0;
      if (in_section && strcmp(line, "| keys | what they do |\n") == 0) in_table = true;
      if (in_table && line[0] != '|') break;
      if (in_table && len + strlen(line) < cap) len += (size_t)sprintf(table + len, "%s", line);
   }
   fclose(f);
   char* md = view_keys_markdown();
   cr_assert_str_eq(table, md,
                    "README.md's key table differs from the key table; it should be:\n%s", md);
   free(md);
   free(table);
}

/* brum.yaml's hidden and group: the sidebar leaves count out, puts a header above the grouped
 * processes, and the keys that select by row or by number skip both. */
Test(view, sidebar_hidden_and_groups) {
   static char n0[] = "levels", n1[] = "count", n2[] = "sleeper", grp[] = "backend";
   static Script scripts[3];
   memset(scripts, 0, sizeof scripts);
   scripts[0] = (Script){.name = n0, .source = SRC_BRUM_YAML, .group = grp};
   scripts[1] = (Script){.name = n1, .source = SRC_BRUM_YAML, .hidden = true};
   scripts[2] = (Script){.name = n2, .source = SRC_BRUM_YAML, .group = grp};
   prj.scripts = scripts;
   prj.nscripts = 3;
   draw();
   char row[1024];
   canvas_row_text(&cv, 2, row, sizeof row);
   cr_expect(strncmp(row, " ▾ backend ", 13) == 0, "first sidebar row: the group's header: '%s'",
             row);
   canvas_row_text(&cv, 3, row, sizeof row);
   cr_expect(strstr(row, "levels") != NULL, "then levels: '%s'", row);
   canvas_row_text(&cv, 4, row, sizeof row);
   cr_expect(strstr(row, "sleeper") != NULL, "then sleeper, count hidden: '%s'", row);
   cr_expect(screen_has("levels · "), "levels selected");
   key('j');
   cr_expect(screen_has("sleeper · "), "j skips the hidden process");
   key('k');
   cr_expect(screen_has("levels · "), "k comes back over it");
   key('2');
   cr_expect(screen_has("sleeper · "), "2: the second listed process");
   prj.scripts = NULL;
   prj.nscripts = 0;
}

/* The output frame pace (tui_frame_due, tui_frame_tat): a flood gets one frame per 16 ms (3 at
 * its start), and after a quiet spell the first frames come 2 ms apart, not 16: a script's first
 * line right after the first frame and its "running", an answer right after a key's frame. */
static unsigned frames_drawn(uint64_t from, uint64_t until, uint64_t* tat, uint64_t* last) {
   unsigned frames = 0;
   for (uint64_t due; (due = tui_frame_due(*last, *tat)) < until; frames++) {
      if (due < from) due = from; /* output came at `from` */
      cr_assert_geq(due, *last + 2000000ull, "frames at least 2 ms apart");
      *last = due;
      *tat = tui_frame_tat(*tat, due);
   }
   return frames;
}

Test(pace, a_flood_is_paced_and_quiet_output_is_not) {
   const uint64_t ms = 1000000ull, t0 = 5000 * ms;
   /* the first frame, then its process's state and first line: 2 ms apart */
   uint64_t tat = tui_frame_tat(0, t0), last = t0;
   cr_expect_eq(tui_frame_due(last, tat), t0 + 2 * ms);
   tat = tui_frame_tat(tat, t0 + 2 * ms), last = t0 + 2 * ms;
   cr_expect_eq(tui_frame_due(last, tat), t0 + 4 * ms);
   tat = tui_frame_tat(tat, t0 + 4 * ms), last = t0 + 4 * ms;
   /* output without end from here: 16 ms apart; a second holds 62 frames and a few */
   unsigned frames = frames_drawn(last, t0 + 1000 * ms, &tat, &last);
   cr_expect_geq(frames, 61, "%u frames in a second of flood", frames);
   cr_expect_leq(frames, 63, "%u frames in a second of flood", frames);
   cr_expect_eq(tui_frame_due(last, tat), last + 16 * ms, "the flood is paced");
   /* quiet for 100 ms, then a key's frame: the answer to it 2 ms later */
   uint64_t key = last + 100 * ms;
   tat = tui_frame_tat(tat, key), last = key;
   cr_expect_eq(tui_frame_due(last, tat), key + 2 * ms);
   /* a second flood after a quiet spell: a burst of 3 (the key's and 2 more), then the pace */
   frames = frames_drawn(key + 2 * ms, key + 1000 * ms, &tat, &last);
   cr_expect_geq(frames, 62, "%u frames in a second of the second flood", frames);
   cr_expect_leq(frames, 64, "%u frames in a second of the second flood", frames);
   /* a mouse drag: 500 key frames 2 ms apart (keys are not paced); the output's next frame is
    * 16 ms after the drag's last, not 500 periods later */
   for (int i = 0; i < 500; i++) {
      last += 2 * ms;
      tat = tui_frame_tat(tat, last);
   }
   cr_expect_eq(tui_frame_due(last, tat), last + 16 * ms);
}
