/* cli/app.c: how a project's process becomes a SupLaunch (argv, environment, dependencies,
 * probe, restart policy, notes), what starts at launch, and the dependency check. */
#include "cli/app.h"

#include "core/util.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

static const char* env_of(char* const* env, const char* key) {
   size_t n = strlen(key);
   for (; *env; env++)
      if (strncmp(*env, key, n) == 0 && (*env)[n] == '=') return *env + n + 1;
   return NULL;
}

/* -Wwrite-strings: string literals are const; the Script fields are not. A static pool keeps
 * writable copies (no leak for LSan to report). */
static char pool[8192];
static size_t pool_used;
static char* S(const char* lit) {
   size_t n = strlen(lit) + 1;
   cr_assert(pool_used + n <= sizeof pool);
   char* out = memcpy(pool + pool_used, lit, n);
   pool_used += n;
   return out;
}

/* A project of three command processes: db, api (after db is ready), web (after api starts). */
static Script scripts[3];
static ScriptDep api_deps[1], web_deps[1];
static Project prj;
static Options opts = {.kill_timeout_s = 5};

static void setup(void) {
   pool_used = 0;
   memset(scripts, 0, sizeof scripts);
   api_deps[0] = (ScriptDep){.name = S("db"), .cond = DEP_READY};
   web_deps[0] = (ScriptDep){.name = S("api"), .cond = DEP_STARTED};
   prj = (Project){
       .dir = S("/tmp"), .name = S("p"), .version = S(""), .scripts = scripts, .nscripts = 3};
   scripts[0] = (Script){
       .name = S("db"), .command = S("sleep 5"), .dir = S("/tmp"), .source = SRC_BRUM_YAML};
   scripts[1] = (Script){.name = S("api"),
                         .command = S("serve"),
                         .dir = S("/"),
                         .source = SRC_BRUM_YAML,
                         .deps = api_deps,
                         .ndeps = 1};
   scripts[2] = (Script){.name = S("web"),
                         .command = S("x"),
                         .dir = S("/"),
                         .source = SRC_PROCFILE,
                         .deps = web_deps,
                         .ndeps = 1};
   prj.default_run = NULL;
}

TestSuite(app, .init = setup);

Test(app, command_runs_with_sh_in_its_dir) {
   uint64_t ids[3] = {0, 1, 2};
   AppLaunch a;
   app_launch_init(&a, &prj, &scripts[0], &opts, ids);
   cr_assert_str_eq(a.l.argv[0], "/bin/sh");
   cr_assert_str_eq(a.l.argv[1], "-c");
   cr_assert_str_eq(a.l.argv[2], "sleep 5");
   cr_assert_null(a.l.argv[3]);
   cr_assert_str_eq(a.l.cwd, "/tmp");
   cr_assert_null(a.l.note);
   cr_assert_eq(a.l.ndeps, 0);
   app_launch_done(&a);
}

Test(app, argv_is_used_as_given) {
   char* argv[] = {S("python3"), S("-m"), S("http.server"), NULL};
   scripts[0].argv = argv;
   uint64_t ids[3] = {0, 1, 2};
   AppLaunch a;
   app_launch_init(&a, &prj, &scripts[0], &opts, ids);
   for (int i = 0; i < 3; i++) cr_assert_str_eq(a.l.argv[i], argv[i]);
   cr_assert_null(a.l.argv[3]);
   app_launch_done(&a);
}

Test(app, env_sets_and_unsets_in_order) {
   setenv("BRUM_APP_KEEP", "kept", 1);
   setenv("BRUM_APP_GONE", "x", 1);
   char* env[] = {S("A=1"), S("B=2"), S("A=3"), S("BRUM_APP_GONE"), S("C=with=equals"), NULL};
   scripts[0].env = env;
   uint64_t ids[3] = {0, 1, 2};
   AppLaunch a;
   app_launch_init(&a, &prj, &scripts[0], &opts, ids);
   cr_assert_str_eq(env_of(a.l.env, "A"), "3");
   cr_assert_str_eq(env_of(a.l.env, "B"), "2");
   cr_assert_str_eq(env_of(a.l.env, "C"), "with=equals");
   cr_assert_str_eq(env_of(a.l.env, "BRUM_APP_KEEP"), "kept");
   cr_assert_null(env_of(a.l.env, "BRUM_APP_GONE"));
   size_t as = 0;
   for (char* const* e = a.l.env; *e; e++) as += strncmp(*e, "A=", 2) == 0;
   cr_assert_eq(as, 1, "A set once, not appended twice");
   app_launch_done(&a);
}

Test(app, missing_shell_falls_back_to_sh_with_a_note) {
   scripts[0].shell = S("brum-no-such-shell");
   uint64_t ids[3] = {0, 1, 2};
   AppLaunch a;
   app_launch_init(&a, &prj, &scripts[0], &opts, ids);
   cr_assert_str_eq(a.l.argv[0], "/bin/sh");
   cr_assert_not_null(a.l.note);
   cr_assert(strstr(a.l.note, "brum-no-such-shell is not installed"), "%s", a.l.note);
   app_launch_done(&a);
}

Test(app, shell_found_in_the_childs_path) {
   /* sh exists everywhere: it stands for bash here */
   char* env[] = {S("PATH=/usr/bin:/bin"), NULL};
   scripts[0].shell = S("sh");
   scripts[0].env = env;
   uint64_t ids[3] = {0, 1, 2};
   AppLaunch a;
   app_launch_init(&a, &prj, &scripts[0], &opts, ids);
   cr_assert(strcmp(a.l.argv[0], "/usr/bin/sh") == 0 || strcmp(a.l.argv[0], "/bin/sh") == 0, "%s",
             a.l.argv[0]);
   cr_assert_null(a.l.note);
   app_launch_done(&a);
}

Test(app, deps_probe_restart_and_stop_mapped) {
   scripts[1].ready = (ScriptProbe){
       .kind = PROBE_HTTP, .target = S("http://127.0.0.1:1/"), .interval_s = 0.2, .retries = 3};
   scripts[1].restart = RESTART_ON_FAILURE;
   scripts[1].backoff_s = 0.5;
   scripts[1].max_restarts = 2;
   scripts[1].stop_signal = SIGINT;
   scripts[1].kill_timeout_s = 2;
   uint64_t ids[3] = {7, 8, 9};
   AppLaunch a;
   app_launch_init(&a, &prj, &scripts[1], &opts, ids);
   cr_assert_eq(a.l.ndeps, 1);
   cr_assert_eq(a.l.deps[0].id, 7);
   cr_assert_eq(a.l.deps[0].cond, SUP_DEP_READY);
   cr_assert_eq(a.l.ready.kind, SUP_PROBE_HTTP);
   cr_assert_str_eq(a.l.ready.target, "http://127.0.0.1:1/");
   cr_assert_float_eq(a.l.ready.interval_s, 0.2, 1e-9);
   cr_assert_eq(a.l.ready.retries, 3);
   cr_assert_eq(a.l.restart, SUP_RESTART_ON_FAILURE);
   cr_assert_float_eq(a.l.backoff_s, 0.5, 1e-9);
   cr_assert_eq(a.l.max_restarts, 2);
   cr_assert_eq(a.l.stop_signal, SIGINT);
   cr_assert_float_eq(a.l.kill_timeout_s, 2, 1e-9);
   cr_assert_str_eq(a.l.cwd, "/");
   app_launch_done(&a);
}

Test(app, dependency_not_registered_is_left_out_with_a_note) {
   uint64_t ids[3] = {APP_NONE, 0, APP_NONE};
   AppLaunch a;
   app_launch_init(&a, &prj, &scripts[1], &opts, ids);
   cr_assert_eq(a.l.ndeps, 0);
   cr_assert(a.l.note && strstr(a.l.note, "'db'"), "%s", a.l.note ? a.l.note : "(none)");
   app_launch_done(&a);
}

Test(app, unknown_lines_become_the_note) {
   char* unknown[] = {S("process-compose.yaml:4: 'shutdown.command' is not supported"),
                      S("process-compose.yaml:9: 'namespace' is not supported"), NULL};
   scripts[2].unknown = unknown;
   uint64_t ids[3] = {0, 1, 2};
   AppLaunch a;
   app_launch_init(&a, &prj, &scripts[2], &opts, ids);
   cr_assert_not_null(a.l.note);
   /* one line each: every line of a note is its own marker line in the pane */
   cr_assert(strstr(a.l.note, "'shutdown.command' is not supported\nprocess-compose.yaml:9"), "%s",
             a.l.note);
   app_launch_done(&a);
}

Test(app, launch_names_cli_then_default_run_then_autostart) {
   const char** names;
   const char* runs[] = {"web", "web", "db"};
   Options o = opts;
   o.runs = runs;
   o.nruns = 3;
   cr_assert_eq(app_launch_names(&prj, &o, &names), 2, "duplicates dropped");
   cr_assert_str_eq(names[0], "web");
   cr_assert_str_eq(names[1], "db");
   free(names);
   char* dr[] = {S("api"), NULL};
   prj.default_run = dr;
   scripts[0].autostart = true;
   cr_assert_eq(app_launch_names(&prj, &opts, &names), 1);
   cr_assert_str_eq(names[0], "api");
   free(names);
   prj.default_run = NULL;
   cr_assert_eq(app_launch_names(&prj, &opts, &names), 1);
   cr_assert_str_eq(names[0], "db");
   free(names);
   scripts[0].autostart = false;
   cr_assert_eq(app_launch_names(&prj, &opts, &names), 0);
   free(names);
}

Test(app, closure_takes_dependencies_transitively) {
   bool want[3] = {0};
   app_want_closure(&prj, 2, want);
   cr_assert(want[0] && want[1] && want[2]);
   bool want2[3] = {0};
   app_want_closure(&prj, 1, want2);
   cr_assert(want2[0] && want2[1] && !want2[2]);
}

/* -r GLOB on the three-package fixture: expanded in workspace order, pooled, --concurrency. */
Test(app, run_glob_expands_in_workspace_order) {
   Project* p = NULL;
   char* cause = NULL;
   cr_assert_eq(pkg_load(BRUM_SOURCE_DIR "/tests/fixtures/runall/chain", &p, &cause), 0, "%s",
                cause);
   char* argv[] = {S("brum"), S("-r"), S("*:build"), S("--concurrency"), S("3"), S("dev"), NULL};
   Options o;
   cr_assert_eq(cli_parse(6, argv, &o, &cause), 0, "%s", cause);
   cr_expect_eq(o.concurrency, 3);
   cr_assert_eq(app_expand_globs(p, &o), 0);
   cr_assert_eq(o.nruns, 4);
   cr_expect_str_eq(o.runs[0], "c:build");
   cr_expect_str_eq(o.runs[1], "b:build");
   cr_expect_str_eq(o.runs[2], "a:build");
   cr_expect_str_eq(o.runs[3], "dev");
   cr_expect_eq(app_sup_config(&o).max_pooled, 3);
   AppLaunch a;
   uint64_t ids[8] = {0, 1, 2, 3, 4, 5, 6, 7};
   app_launch_init(&a, p, pkg_find(p, "b:build"), &o, ids);
   cr_expect(a.l.pooled);
   cr_assert_eq(a.l.ndeps, 1);
   cr_expect_eq(a.l.deps[0].id, 0, "after c:build, now script 0");
   cr_expect_eq(a.l.deps[0].cond, SUP_DEP_EXITED_OK);
   app_launch_done(&a);
   app_launch_init(&a, p, pkg_find(p, "dev"), &o, ids);
   cr_expect(!a.l.pooled);
   app_launch_done(&a);
   o.concurrency = 0;
   cr_expect_gt(app_sup_config(&o).max_pooled, 0, "the CPUs by default");
   cli_done(&o);
   pkg_free(p);

   char* bad[] = {S("brum"), S("--concurrency"), S("x"), NULL};
   cr_expect_eq(cli_parse(3, bad, &o, &cause), -EINVAL);
   cr_expect(strstr(cause, "--concurrency needs a whole number"), "%s", cause);
   free(cause);
   cli_done(&o);
}
