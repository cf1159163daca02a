/* How a script runs (pkg_run_prepare): directly, with the argv, environment, hooks and banner its
 * package manager would give it, or through the manager, with the reason. The host's own npm and
 * node are never used: each test puts a fake npm package (bin/npm-cli.js + package.json) and a
 * fake node (it prints a version and counts its runs) first on PATH, and its own HOME. */
#include "scripts/pkg.h"

#include "core/util.h"

#include <criterion/criterion.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char tmp[64];
static char real[PATH_MAX]; /* tmp as a real path (what the project's dir is) */

static int rm_one(const char* path, const struct stat* st, int flag, struct FTW* ftw) {
   (void)st, (void)flag, (void)ftw;
   return remove(path);
}

static void teardown(void) {
   nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Writes tmp/rel, creating its parent directories. */
static void put(const char* rel, const char* text) {
   char* path = xasprintf("%s/%s", tmp, rel);
   for (char* p = path + strlen(tmp) + 1; *p; p++) {
      if (*p != '/') continue;
      *p = '\0';
      mkdir(path, 0755);
      *p = '/';
   }
   FILE* f = fopen(path, "wb");
   cr_assert_not_null(f, "cannot write %s", path);
   fputs(text, f);
   fclose(f);
   free(path);
}

static void put_exe(const char* rel, const char* text) {
   put(rel, text);
   char* path = xasprintf("%s/%s", tmp, rel);
   chmod(path, 0755);
   free(path);
}

static char* at(const char* rel) {
   return xasprintf("%s/%s", real, rel);
}

/* A fake manager called name, version version, installed as npm is: NAME/bin/cli.js linked from
 * bin/NAME. */
static void install(const char* name, const char* version) {
   char* pj = xasprintf("pm-%s/package.json", name);
   char* text = xasprintf("{\"name\":\"%s\",\"version\":\"%s\"}", name, version);
   char* cli = xasprintf("pm-%s/bin/cli.js", name);
   put(pj, text);
   put_exe(cli, "#!/bin/sh\nexit 0\n");
   char* link = xasprintf("%s/bin/%s", tmp, name);
   char* target = xasprintf("../pm-%s/bin/cli.js", name);
   cr_assert_eq(symlink(target, link), 0);
   free(target);
   free(link);
   free(cli);
   free(text);
   free(pj);
}

static void setup(void) {
   strcpy(tmp, "/tmp/brum-run-XXXXXX");
   cr_assert_not_null(mkdtemp(tmp));
   cr_assert_not_null(realpath(tmp, real));
   put_exe("bin/node", "#!/bin/sh\necho x >>\"${0%/*}/../node-runs\"\necho v99.1.2\n");
   put("home/.keep", "");
   /* PATH: the fakes, and a shell; never the host's npm, yarn, pnpm or bun */
   put("sys/.keep", "");
   char* sh = xasprintf("%s/sys/sh", tmp);
   cr_assert_eq(symlink("/bin/sh", sh), 0);
   free(sh);
   char* bin = xasprintf("%s/bin:%s/sys", tmp, tmp);
   char* home = xasprintf("%s/home", tmp);
   char* cache = xasprintf("%s/cache", tmp);
   setenv("PATH", bin, 1);
   setenv("HOME", home, 1);
   setenv("XDG_CACHE_HOME", cache, 1);
   /* Nothing of the host's npm configuration or CI may leak in. */
   for (char** e = environ; *e;) {
      if (strncasecmp(*e, "npm_", 4) == 0 || strncmp(*e, "GITHUB_ACTIONS=", 15) == 0 ||
          strncmp(*e, "PREFIX=", 7) == 0) {
         char* name = xstrndup(*e, strcspn(*e, "="));
         unsetenv(name);
         free(name);
      } else {
         e++;
      }
   }
   unsetenv("NO_COLOR");
   unsetenv("FORCE_COLOR");
   setenv("EDITOR", "nano", 1);
   free(cache);
   free(home);
   free(bin);
}

TestSuite(run, .init = setup, .fini = teardown);

static Project* load_ok(void) {
   Project* p = NULL;
   char* cause = NULL;
   int err = pkg_load(tmp, &p, &cause);
   cr_assert_eq(err, 0, "pkg_load: %d %s", err, cause ? cause : "");
   return p;
}

static const char* env_of(char** env, const char* key) {
   size_t n = strlen(key);
   for (; *env; env++)
      if (strncmp(*env, key, n) == 0 && (*env)[n] == '=') return *env + n + 1;
   return NULL;
}

static size_t count_of(char** env, const char* key) {
   size_t n = strlen(key), c = 0;
   for (; *env; env++) c += strncmp(*env, key, n) == 0 && (*env)[n] == '=';
   return c;
}

static PkgRun prepare(const Project* p, const char* name, bool via_pm) {
   const Script* s = pkg_find(p, name);
   cr_assert_not_null(s, "no script %s", name);
   PkgRun r;
   cr_assert_eq(pkg_run_prepare(p, s, via_pm, &r), 0);
   return r;
}

/* Runs a prepared script, stdout to a file; returns its exit status, *out what it printed. */
static int execute(const PkgRun* r, char** out) {
   char* file = xasprintf("%s/out", tmp);
   pid_t pid = fork();
   if (pid == 0) {
      if (!freopen(file, "w", stdout) || chdir(r->cwd) < 0) _exit(126);
      /* argv[0] is looked up in the script's PATH, as the supervisor does */
      const char* path = env_of(r->env, "PATH");
      setenv("PATH", path ? path : "/usr/bin:/bin", 1);
      execvpe(r->argv[0], r->argv, r->env);
      _exit(127);
   }
   int status;
   cr_assert_eq(waitpid(pid, &status, 0), pid);
   char* text = NULL;
   size_t len = 0;
   FILE* f = fopen(file, "r");
   cr_assert_not_null(f);
   cr_assert_geq(getdelim(&text, &len, '\0', f), 0);
   fclose(f);
   free(file);
   *out = text;
   return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int node_runs(void) {
   char* f = xasprintf("%s/node-runs", tmp);
   FILE* in = fopen(f, "r");
   free(f);
   int n = 0;
   for (int ch; in && (ch = fgetc(in)) != EOF;) n += ch == '\n';
   if (in) fclose(in);
   return n;
}

/* ---- direct execution ---- */

Test(run, no_hooks_is_one_shell) {
   put("package.json", "{\"name\":\"demo\",\"version\":\"3.1.4\",\"scripts\":{\"dev\":\"vite "
                       "--port 3000\"}}");
   install("npm", "11.2.3");
   setenv("npm_lifecycle_event", "stale", 1);
   Project* p = load_ok();
   PkgRun r = prepare(p, "dev", false);
   cr_expect_str_eq(r.argv[0], "sh");
   cr_expect_str_eq(r.argv[1], "-c");
   cr_expect_str_eq(r.argv[2], "vite --port 3000");
   cr_expect_null(r.argv[3]);
   cr_expect_str_eq(r.note, "> demo@3.1.4 dev\n> vite --port 3000", "npm's banner");
   cr_expect_str_eq(r.cwd, real);
   cr_expect_str_eq(env_of(r.env, "npm_lifecycle_event"), "dev");
   cr_expect_eq(count_of(r.env, "npm_lifecycle_event"), 1, "replaced, not duplicated");
   cr_expect_str_eq(env_of(r.env, "npm_lifecycle_script"), "vite --port 3000");
   cr_expect_str_eq(env_of(r.env, "npm_package_name"), "demo");
   cr_expect_str_eq(env_of(r.env, "npm_package_version"), "3.1.4");
   char* pj = at("package.json");
   cr_expect_str_eq(env_of(r.env, "npm_package_json"), pj);
   char* cli = at("pm-npm/bin/cli.js");
   cr_expect_str_eq(env_of(r.env, "npm_execpath"), cli);
   char* node = at("bin/node");
   cr_expect_str_eq(env_of(r.env, "npm_node_execpath"), node);
   cr_expect_str_eq(env_of(r.env, "NODE"), node);
   cr_expect_str_eq(env_of(r.env, "npm_command"), "run");
   cr_expect_str_eq(env_of(r.env, "COLOR"), "1");
   cr_expect_str_eq(env_of(r.env, "EDITOR"), "nano");
   cr_expect_str_eq(env_of(r.env, "FORCE_COLOR"), "1");
   cr_expect_str_eq(env_of(r.env, "npm_config_npm_version"), "11.2.3");
   cr_expect_str_eq(env_of(r.env, "npm_config_local_prefix"), real);
   cr_expect_str_eq(env_of(r.env, "npm_config_allow_scripts"), "", "npm 11 exports it empty");
   const char* ua = env_of(r.env, "npm_config_user_agent");
   cr_expect(strncmp(ua, "npm/11.2.3 node/v99.1.2 ", 24) == 0, "%s", ua);
   cr_expect(strstr(ua, " workspaces/false") && !strstr(ua, "brum"), "%s", ua);
   char cwd[PATH_MAX];
   cr_expect_str_eq(env_of(r.env, "INIT_CWD"), getcwd(cwd, sizeof cwd));
   /* prefix: where node is installed (bin/..); the files npm reads there and in HOME */
   cr_expect_str_eq(env_of(r.env, "npm_config_prefix"), real);
   char* gconf = at("etc/npmrc");
   cr_expect_str_eq(env_of(r.env, "npm_config_globalconfig"), gconf);
   char* uconf = xasprintf("%s/home/.npmrc", tmp);
   cr_expect_str_eq(env_of(r.env, "npm_config_userconfig"), uconf);
   /* every ancestor's node_modules/.bin up to /, then the PATH brum had */
   char* path = xasprintf("%s/node_modules/.bin:/tmp/node_modules/.bin:/node_modules/.bin:%s/bin:"
                          "%s/sys",
                          real, tmp, tmp);
   cr_expect_str_eq(env_of(r.env, "PATH"), path);
   pkg_run_free(&r);
   pkg_free(p);
   /* node ran once for its version; the next project reads the cache */
   cr_expect_eq(node_runs(), 1);
   p = load_ok();
   r = prepare(p, "dev", false);
   cr_expect(strstr(env_of(r.env, "npm_config_user_agent"), "node/v99.1.2 "));
   cr_expect_eq(node_runs(), 1, "the version came from the cache");
   pkg_run_free(&r);
   pkg_free(p);
   free(path);
   free(uconf);
   free(gconf);
   free(node);
   free(cli);
   free(pj);
}

Test(run, package_fields_as_npm_flattens_them) {
   put("package.json",
       "{\"name\":\"@sc/tool\",\"version\":\"1.0.0\",\"config\":{\"port\":8080,\"ratio\":0.5,"
       "\"on\":true,\"off\":false,\"none\":null,\"list\":[\"a\",{\"b\":\"c\"}],\"deep\":{\"x\":"
       "{\"y\":\"z\"}}},\"engines\":{\"node\":\">=18\"},\"bin\":\"./bin/../cli.js\","
       "\"scripts\":{\"x\":\"true\"}}");
   Project* p = load_ok();
   PkgRun r = prepare(p, "x", false);
   static const char* const want[][2] = {
       {"npm_package_name", "@sc/tool"},     {"npm_package_version", "1.0.0"},
       {"npm_package_config_port", "8080"},  {"npm_package_config_ratio", "0.5"},
       {"npm_package_config_on", "true"},    {"npm_package_config_off", ""},
       {"npm_package_config_none", ""},      {"npm_package_config_list_0", "a"},
       {"npm_package_config_list_1_b", "c"}, {"npm_package_config_deep_x_y", "z"},
       {"npm_package_engines_node", ">=18"}, {"npm_package_bin_tool", "cli.js"},
   };
   for (size_t i = 0; i < ARRAY_LEN(want); i++) {
      const char* v = env_of(r.env, want[i][0]);
      cr_expect(v && strcmp(v, want[i][1]) == 0, "%s=%s, want %s", want[i][0], v ? v : "(unset)",
                want[i][1]);
   }
   cr_expect_null(env_of(r.env, "npm_execpath"), "npm is not installed here");
   cr_expect_str_eq(r.argv[0], "sh", "no manager: direct, as always");
   cr_expect(strncmp(env_of(r.env, "npm_config_user_agent"), "npm/unknown node/v99.1.2", 24) == 0);
   pkg_run_free(&r);
   pkg_free(p);
}

/* pre and post around the script in one shell; quotes, $, newlines and && survive; the banners
 * are npm's; the first failure ends it with its code. */
Test(run, pre_post_in_order) {
   put("package.json", "{\"name\":\"h\",\"version\":\"1.0.0\",\"scripts\":{"
                       "\"predev\":\"echo \\\"pre $npm_lifecycle_event\\\" 'it''s'\","
                       "\"dev\":\"echo \\\"main $npm_lifecycle_event $npm_lifecycle_script\\\" && "
                       "echo 'a \\\"b\\\"'"
                       "\\necho second\","
                       "\"postdev\":\"echo post $npm_lifecycle_event; exit 3\","
                       "\"prebuild\":\"exit 4\",\"build\":\"echo never\"}}");
   install("npm", "10.0.0");
   Project* p = load_ok();
   PkgRun r = prepare(p, "dev", false);
   cr_expect_str_eq(r.argv[0], "/bin/sh");
   cr_expect_null(r.note, "the banners are printed by the shell, in order with the output");
   cr_expect_str_eq(env_of(r.env, "npm_lifecycle_event"), "dev");
   cr_expect_null(env_of(r.env, "npm_config_allow_scripts"), "npm 10 has no allow-scripts");
   char* out = NULL;
   int rc = execute(&r, &out);
   cr_expect_eq(rc, 3, "the failing stage's code");
   const char* want =
       "\n> h@1.0.0 predev\n> echo \"pre $npm_lifecycle_event\" 'it''s'\n\n"
       "pre predev its\n"
       "\n> h@1.0.0 dev\n> echo \"main $npm_lifecycle_event $npm_lifecycle_script\""
       " && echo 'a \"b\"'\n> echo second\n\n"
       "main dev echo \"main $npm_lifecycle_event $npm_lifecycle_script\" && echo 'a "
       "\"b\"'\necho second\na \"b\"\nsecond\n"
       "\n> h@1.0.0 postdev\n> echo post $npm_lifecycle_event; exit 3\n\n"
       "post postdev\n";
   cr_expect_str_eq(out, want);
   free(out);
   pkg_run_free(&r);

   r = prepare(p, "build", false);
   rc = execute(&r, &out);
   cr_expect_eq(rc, 4);
   cr_expect_null(strstr(out, "never"), "a failed pre stops the script: %s", out);
   free(out);
   pkg_run_free(&r);
   pkg_free(p);
}

Test(run, ignore_scripts_skips_hooks) {
   put("package.json", "{\"scripts\":{\"predev\":\"echo pre\",\"dev\":\"echo dev\"}}");
   put(".npmrc", "ignore-scripts=true\n");
   Project* p = load_ok();
   PkgRun r = prepare(p, "dev", false);
   cr_expect_str_eq(r.argv[0], "sh");
   cr_expect_str_eq(r.argv[2], "echo dev");
   cr_expect_str_eq(r.note, "> dev\n> echo dev", "no name and version: the event alone");
   pkg_run_free(&r);
   pkg_free(p);
}

Test(run, workspace_package_path_order) {
   put("package.json", "{\"name\":\"root\",\"workspaces\":[\"packages/*\"],\"scripts\":{}}");
   put("packages/a/package.json", "{\"name\":\"@acme/a\",\"version\":\"1.0.0\","
                                  "\"scripts\":{\"test\":\"jest\"}}");
   install("npm", "11.0.0");
   Project* p = load_ok();
   PkgRun r = prepare(p, "@acme/a:test", false);
   char* path = xasprintf("%s/packages/a/node_modules/.bin:%s/packages/node_modules/.bin:"
                          "%s/node_modules/.bin:/tmp/node_modules/.bin:/node_modules/.bin:%s/bin:",
                          real, real, real, tmp);
   cr_expect(strncmp(env_of(r.env, "PATH"), path, strlen(path)) == 0, "%s", env_of(r.env, "PATH"));
   cr_expect_str_eq(env_of(r.env, "npm_lifecycle_event"), "test");
   cr_expect_str_eq(env_of(r.env, "npm_package_name"), "@acme/a");
   char* pj = at("packages/a/package.json");
   cr_expect_str_eq(env_of(r.env, "npm_package_json"), pj);
   char* dir = at("packages/a");
   cr_expect_str_eq(r.cwd, dir);
   cr_expect_str_eq(env_of(r.env, "npm_config_local_prefix"), real, "the workspace root");
   cr_expect(strstr(env_of(r.env, "npm_config_user_agent"), " workspaces/true"));
   cr_expect_str_eq(r.note, "> @acme/a@1.0.0 test\n> jest");
   pkg_run_free(&r);
   pkg_free(p);
   free(dir);
   free(pj);
   free(path);
}

Test(run, npmrc_script_shell_and_settings) {
   put("package.json", "{\"scripts\":{\"dev\":\"echo hi\"}}");
   put(".npmrc", "script-shell=/bin/bash\nfoo-bar = \"quoted\"\nflag=false\nlist[]=a\nlist[]=b\n"
                 "_auth=secret\n//registry.example/:_authToken=t\nfrom-env=${BRUM_T}/x\n"
                 "cache=~/c\n");
   put("home/.npmrc", "script-shell=/bin/zsh\nuser-only=1\n");
   setenv("BRUM_T", "val", 1);
   Project* p = load_ok();
   PkgRun r = prepare(p, "dev", false);
   cr_expect_str_eq(r.argv[0], "/bin/bash", "the project's .npmrc before the user's");
   cr_expect_str_eq(env_of(r.env, "npm_config_script_shell"), "/bin/bash");
   cr_expect_str_eq(env_of(r.env, "npm_config_foo_bar"), "quoted");
   cr_expect_str_eq(env_of(r.env, "npm_config_flag"), "");
   cr_expect_str_eq(env_of(r.env, "npm_config_list"), "a\n\nb");
   cr_expect_str_eq(env_of(r.env, "npm_config_user_only"), "1");
   cr_expect_str_eq(env_of(r.env, "npm_config_from_env"), "val/x");
   char* cache = xasprintf("%s/home/c", tmp);
   cr_expect_str_eq(env_of(r.env, "npm_config_cache"), cache);
   free(cache);
   cr_expect_null(env_of(r.env, "npm_config__auth"), "private settings stay private");
   for (char** e = r.env; *e; e++) cr_expect_null(strstr(*e, "_authToken"), "%s", *e);
   pkg_run_free(&r);
   pkg_free(p);

   /* An npm_config_ variable beats every file, and stays as it was. */
   setenv("NPM_CONFIG_SCRIPT_SHELL", "/bin/dash", 1);
   p = load_ok();
   r = prepare(p, "dev", false);
   cr_expect_str_eq(r.argv[0], "/bin/dash");
   cr_expect_null(env_of(r.env, "npm_config_script_shell"));
   cr_expect_str_eq(env_of(r.env, "NPM_CONFIG_SCRIPT_SHELL"), "/bin/dash");
   pkg_run_free(&r);
   pkg_free(p);
}

/* ---- through the manager ---- */

static void expect_via(const Project* p, const char* pm, const char* reason) {
   PkgRun r = prepare(p, "dev", false);
   cr_expect_str_eq(r.argv[0], pm);
   cr_expect_str_eq(r.argv[1], "run");
   cr_expect_str_eq(r.argv[2], "dev");
   cr_expect_null(r.argv[3]);
   cr_expect(r.note && strstr(r.note, reason), "note: %s", r.note ? r.note : "(none)");
   cr_expect_null(env_of(r.env, "npm_lifecycle_event"), "the manager sets its own");
   pkg_run_free(&r);
}

Test(run, yarn_berry_through_yarn) {
   put("package.json", "{\"packageManager\":\"yarn@4.1.0\",\"scripts\":{\"dev\":\"vite\"}}");
   install("yarn", "4.1.0");
   Project* p = load_ok();
   expect_via(p, "yarn", "running through yarn: Yarn 2+ runs scripts in its own shell");
   pkg_free(p);

   /* no packageManager: .yarnrc.yml says Yarn 2+ */
   put("package.json", "{\"scripts\":{\"dev\":\"vite\"}}");
   put("yarn.lock", "");
   put(".yarnrc.yml", "nodeLinker: node-modules\n");
   p = load_ok();
   cr_assert_eq(p->pm, PM_YARN);
   expect_via(p, "yarn", "Yarn 2+");
   pkg_free(p);

   /* nor that: a Yarn 2+ lockfile */
   char* rc = xasprintf("%s/.yarnrc.yml", tmp);
   unlink(rc);
   free(rc);
   put("yarn.lock", "# This file is generated by running \"yarn install\"\n\n__metadata:\n"
                    "  version: 8\n");
   p = load_ok();
   expect_via(p, "yarn", "Yarn 2+");
   pkg_free(p);
}

Test(run, yarn_classic_runs_directly) {
   put("package.json", "{\"scripts\":{\"predev\":\"echo pre\",\"dev\":\"vite\"}}");
   put("yarn.lock", "# yarn lockfile v1\n\n");
   install("yarn", "1.22.19");
   Project* p = load_ok();
   PkgRun r = prepare(p, "dev", false);
   cr_expect_str_eq(r.argv[0], "/bin/sh", "yarn 1 runs pre and post hooks");
   cr_expect(strstr(r.argv[2], "export npm_lifecycle_event='predev'"), "%s", r.argv[2]);
   const char* ua = env_of(r.env, "npm_config_user_agent");
   cr_expect(strncmp(ua, "yarn/1.22.19 npm/? node/v99.1.2 ", 32) == 0, "%s", ua);
   pkg_run_free(&r);
   pkg_free(p);
}

Test(run, plug_n_play_through_yarn) {
   put("package.json", "{\"packageManager\":\"yarn@1.22.19\",\"scripts\":{\"dev\":\"vite\"}}");
   put(".pnp.cjs", "");
   install("yarn", "1.22.19");
   Project* p = load_ok();
   expect_via(p, "yarn", "Plug'n'Play (.pnp.cjs)");
   pkg_free(p);
}

Test(run, bun_through_bun) {
   put("package.json", "{\"scripts\":{\"dev\":\"vite\"}}");
   put("bun.lock", "");
   Project* p = load_ok();
   PkgRun r = prepare(p, "dev", false);
   cr_expect_str_eq(r.argv[0], "sh", "bun is not installed: direct, without a fuss");
   cr_expect_str_eq(r.note, "> dev\n> vite");
   pkg_run_free(&r);
   pkg_free(p);
   install("bun", "1.1.0");
   p = load_ok();
   expect_via(p, "bun", "running through bun: bun runs package scripts");
   pkg_free(p);
}

Test(run, unsupported_setting_through_npm) {
   put("package.json", "{\"scripts\":{\"dev\":\"vite\"}}");
   put(".npmrc", "workspace=packages/a\n");
   install("npm", "11.0.0");
   Project* p = load_ok();
   char* why = xasprintf("%s/.npmrc sets workspace, which brum does not implement", real);
   expect_via(p, "npm", why);
   free(why);
   pkg_free(p);
}

Test(run, dev_engines_through_npm) {
   put("package.json", "{\"devEngines\":{\"runtime\":{\"name\":\"node\"}},\"scripts\":{\"dev\":"
                       "\"vite\"}}");
   install("npm", "11.0.0");
   Project* p = load_ok();
   expect_via(p, "npm", "devEngines");
   pkg_free(p);
}

Test(run, via_pm_flag) {
   put("package.json", "{\"scripts\":{\"dev\":\"vite\",\"-h\":\"echo h\"}}");
   Project* p = load_ok();
   PkgRun r = prepare(p, "dev", true);
   cr_expect_str_eq(r.argv[0], "sh");
   cr_expect_str_eq(r.note, "--via-pm: npm is not installed: running the script directly\n"
                            "> dev\n> vite");
   pkg_run_free(&r);
   pkg_free(p);
   install("npm", "11.0.0");
   setenv("FORCE_COLOR", "0", 1);
   p = load_ok();
   r = prepare(p, "dev", true);
   cr_expect_str_eq(r.argv[0], "npm");
   cr_expect_str_eq(r.argv[2], "dev");
   cr_expect_str_eq(r.note, "running through npm (--via-pm)");
   cr_expect_str_eq(env_of(r.env, "FORCE_COLOR"), "0", "the user's setting stays");
   pkg_run_free(&r);
   /* Issue 15: a name like an option reaches the manager after "--". */
   r = prepare(p, "-h", true);
   cr_expect_str_eq(r.argv[2], "--");
   cr_expect_str_eq(r.argv[3], "-h");
   cr_expect_null(r.argv[4]);
   pkg_run_free(&r);
   pkg_free(p);
}

/* ---- pnpm's hooks follow its version and settings ---- */

static bool pnpm_hooks(void) {
   Project* p = load_ok();
   PkgRun r = prepare(p, "dev", false);
   bool on = strcmp(r.argv[0], "/bin/sh") == 0;
   pkg_run_free(&r);
   pkg_free(p);
   return on;
}

Test(run, pnpm_pre_post) {
   put("pnpm-lock.yaml", "");
   put("package.json", "{\"packageManager\":\"pnpm@9.1.0+sha512.abc\",\"scripts\":{\"predev\":"
                       "\"echo pre\",\"dev\":\"vite\"}}");
   cr_expect_not(pnpm_hooks(), "off since pnpm 7");
   Project* p = load_ok();
   PkgRun r = prepare(p, "dev", false);
   cr_expect_str_eq(env_of(r.env, "PNPM_SCRIPT_SRC_DIR"), real);
   const char* ua = env_of(r.env, "npm_config_user_agent");
   cr_expect(strncmp(ua, "pnpm/9.1.0 npm/? node/v99.1.2 ", 30) == 0, "%s", ua);
   char* note = xasprintf("> dev %s\n> vite", real);
   cr_expect_str_eq(r.note, note, "pnpm's banner names the directory");
   free(note);
   pkg_run_free(&r);
   pkg_free(p);
   put(".npmrc", "enable-pre-post-scripts=true\n");
   cr_expect(pnpm_hooks(), ".npmrc turns them on");
   put(".npmrc", "");
   put("pnpm-workspace.yaml", "enablePrePostScripts: true\n");
   cr_expect(pnpm_hooks(), "so does pnpm-workspace.yaml");
   put("pnpm-workspace.yaml", "");
   put("package.json", "{\"packageManager\":\"pnpm@6.35.1\",\"scripts\":{\"predev\":"
                       "\"echo pre\",\"dev\":\"vite\"}}");
   cr_expect(pnpm_hooks(), "on before pnpm 7");
}

/* npm 11's user agent on GitHub Actions ends with where the runner is hosted. */
Test(run, user_agent_on_github_actions) {
   put("package.json", "{\"scripts\":{\"dev\":\"vite\"}}");
   install("npm", "11.6.0");
   setenv("GITHUB_ACTIONS", "true", 1);
   setenv("GITHUB_SERVER_URL", "https://github.com", 1);
   setenv("RUNNER_ENVIRONMENT", "github-hosted", 1);
   Project* p = load_ok();
   PkgRun r = prepare(p, "dev", false);
   const char* ua = env_of(r.env, "npm_config_user_agent");
   const char* tail = " workspaces/false ci/github-actions/dotcom-hosted";
   cr_expect(strlen(ua) > strlen(tail) && strcmp(ua + strlen(ua) - strlen(tail), tail) == 0, "%s",
             ua);
   pkg_run_free(&r);
   pkg_free(p);
}

/* A Script made by hand (as a control client might add one) is not taken for the root package's:
 * its own name, version and directory. */
Test(run, script_made_by_hand) {
   put("package.json", "{\"name\":\"root\",\"version\":\"1.0.0\",\"scripts\":{\"dev\":\"vite\"}}");
   put("other/.keep", "");
   Project* p = load_ok();
   char* dir = at("other");
   char name[] = "x", command[] = "echo x", package[] = "other", version[] = "2";
   Script s = {
       .name = name, .command = command, .package = package, .dir = dir, .version = version};
   PkgRun r;
   cr_assert_eq(pkg_run_prepare(p, &s, false, &r), 0);
   cr_expect_str_eq(env_of(r.env, "npm_package_name"), "other");
   cr_expect_str_eq(env_of(r.env, "npm_package_version"), "2");
   cr_expect_str_eq(r.cwd, dir);
   cr_expect_str_eq(r.note, "> x\n> echo x");
   pkg_run_free(&r);
   /* twice: nothing of the first run was kept for it */
   cr_assert_eq(pkg_run_prepare(p, &s, false, &r), 0);
   cr_expect_str_eq(env_of(r.env, "npm_package_name"), "other");
   pkg_run_free(&r);
   pkg_free(p);
   free(dir);
}

/* A script of 100 KB with a pre hook runs (the kernel takes 128 KiB per string: the texts must
 * not share one), and nothing of how the stages were passed reaches the scripts. */
Test(run, long_script_with_hooks) {
   size_t n = 100000;
   char* pad = xmalloc(n + 1);
   memset(pad, 'x', n);
   pad[n] = '\0';
   char* json = xasprintf("{\"scripts\":{\"prebig\":\"env | grep -c ^BRUM_HOOK || true\","
                          "\"big\":\": %s; echo big-ok; env | grep -c ^BRUM_HOOK || true\"}}",
                          pad);
   put("package.json", json);
   put_exe("sys/env", "#!/bin/sh\nexec /usr/bin/env \"$@\"\n");
   put_exe("sys/grep", "#!/bin/sh\nexec /bin/grep \"$@\"\n");
   Project* p = load_ok();
   PkgRun r = prepare(p, "big", false);
   cr_expect_str_eq(r.argv[0], "/bin/sh");
   char* out = NULL;
   cr_expect_eq(execute(&r, &out), 0);
   cr_expect(strstr(out, "\n\n0\n"), "the pre stage saw no BRUM_HOOK_ variable");
   cr_expect(strstr(out, "big-ok\n0\n"), "the script ran, without BRUM_HOOK_ variables");
   free(out);
   pkg_run_free(&r);
   pkg_free(p);
   free(json);
   free(pad);
}
