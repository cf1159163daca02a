/* package.json loading: package managers, workspaces, errors people will see, how scripts run. */
#include "scripts/pkg.h"

#include "core/util.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char tmp[64];

static void setup(void) {
   strcpy(tmp, "/tmp/brum-pkg-XXXXXX");
   cr_assert_not_null(mkdtemp(tmp));
}

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

static Project* load_ok(void) {
   Project* p = NULL;
   char* cause = NULL;
   int err = pkg_load(tmp, &p, &cause);
   cr_assert_eq(err, 0, "pkg_load: %d %s", err, cause ? cause : "");
   cr_assert_null(cause);
   cr_assert_not_null(p);
   return p;
}

/* Loads tmp, expecting an error; returns the cause (caller frees). */
static char* load_err(int want) {
   Project* p = NULL;
   char* cause = NULL;
   int err = pkg_load(tmp, &p, &cause);
   cr_assert_eq(err, want, "want %d, got %d (%s)", want, err, cause ? cause : "");
   cr_assert_null(p);
   cr_assert_not_null(cause);
   return cause;
}

static bool has_warning(const Project* p, const char* needle) {
   for (size_t i = 0; i < p->nwarnings; i++)
      if (strstr(p->warnings[i], needle)) return true;
   return false;
}

static const char* env_of(char** env, const char* key) {
   size_t n = strlen(key);
   for (; *env; env++)
      if (strncmp(*env, key, n) == 0 && (*env)[n] == '=') return *env + n + 1;
   return NULL;
}

TestSuite(pkg, .init = setup, .fini = teardown);

/* ---- package manager ---- */

static void check_lockfile(const char* lock, PkgManager want) {
   put("package.json", "{\"name\":\"x\"}");
   put(lock, "");
   Project* p = load_ok();
   cr_expect_eq(p->pm, want, "%s -> %s", lock, pkg_manager_name(p->pm));
   cr_expect_str_eq(p->pm_reason, lock);
   pkg_free(p);
   char* path = xasprintf("%s/%s", tmp, lock);
   unlink(path);
   free(path);
}

Test(pkg, lockfiles) {
   check_lockfile("bun.lock", PM_BUN);
   check_lockfile("bun.lockb", PM_BUN);
   check_lockfile("pnpm-lock.yaml", PM_PNPM);
   check_lockfile("yarn.lock", PM_YARN);
   check_lockfile("package-lock.json", PM_NPM);
   Project* p = load_ok();
   cr_expect_eq(p->pm, PM_NPM);
   cr_expect_str_eq(p->pm_reason, "default (no lockfile)");
   pkg_free(p);
}

Test(pkg, lockfile_order) {
   put("package.json", "{}");
   put("yarn.lock", "");
   put("package-lock.json", "");
   put("pnpm-lock.yaml", "");
   Project* p = load_ok();
   cr_expect_eq(p->pm, PM_PNPM);
   pkg_free(p);
}

Test(pkg, package_manager_field) {
   static const struct {
      const char* field;
      PkgManager pm;
   } cases[] = {{"yarn@4.1.0", PM_YARN},
                {"pnpm@9.1.0", PM_PNPM},
                {"bun@1.1.0", PM_BUN},
                {"npm@10.2.0", PM_NPM},
                {"pnpm@8.15.4+sha256.abcdef", PM_PNPM}};
   /* The field wins over a lockfile that says otherwise. */
   put("package-lock.json", "");
   put("yarn.lock", "");
   for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
      char* json = xasprintf("{\"packageManager\": \"%s\"}", cases[i].field);
      put("package.json", json);
      free(json);
      Project* p = load_ok();
      cr_expect_eq(p->pm, cases[i].pm, "%s", cases[i].field);
      char* reason = xasprintf("packageManager field (%s)", cases[i].field);
      cr_expect_str_eq(p->pm_reason, reason);
      free(reason);
      pkg_free(p);
   }
}

Test(pkg, unknown_package_manager_falls_back) {
   put("package.json", "{\"packageManager\": \"deno@1.0.0\"}");
   put("yarn.lock", "");
   Project* p = load_ok();
   cr_expect_eq(p->pm, PM_YARN);
   cr_expect(has_warning(p, "deno@1.0.0"));
   pkg_free(p);
}

Test(pkg, pm_available_follows_path) {
   put("package.json", "{\"packageManager\": \"pnpm@9.0.0\"}");
   put("bin/pnpm", "#!/bin/sh\n");
   char* bin = xasprintf("%s/bin", tmp);
   char* exe = xasprintf("%s/pnpm", bin);
   setenv("PATH", bin, 1);
   Project* p = load_ok();
   cr_expect_not(p->pm_available, "not executable yet");
   pkg_free(p);
   chmod(exe, 0755);
   p = load_ok();
   cr_expect(p->pm_available);
   pkg_free(p);
   free(exe);
   free(bin);
}

/* ---- scripts ---- */

Test(pkg, scripts_keep_file_order) {
   put("package.json", "{\"name\":\"app\",\"version\":\"2.0.0\",\"scripts\":{"
                       "\"zeta\":\"z\",\"alpha\":\"a\",\"mid\":\"m\",\"dev\":\"d\",\"build\":\"b\","
                       "\"x1\":\"1\",\"a2\":\"2\",\"q3\":\"3\",\"b4\":\"4\",\"test\":\"t\"}}");
   static const char* order[] = {"zeta", "alpha", "mid", "dev", "build",
                                 "x1",   "a2",    "q3",  "b4",  "test"};
   Project* p = load_ok();
   cr_assert_eq(p->nscripts, ARRAY_LEN(order));
   for (size_t i = 0; i < ARRAY_LEN(order); i++) {
      cr_expect_str_eq(p->scripts[i].name, order[i]);
      cr_expect_not(p->scripts[i].in_workspace);
      cr_expect_str_eq(p->scripts[i].package, "app");
      cr_expect_str_eq(p->scripts[i].dir, p->dir);
   }
   cr_expect_str_eq(p->name, "app");
   cr_expect_str_eq(p->version, "2.0.0");
   cr_expect_str_eq(pkg_find(p, "dev")->command, "d");
   cr_expect_null(pkg_find(p, "nope"));
   cr_expect_eq(p->nwarnings, 0);
   pkg_free(p);
}

Test(pkg, name_defaults_to_directory) {
   put("package.json", "{\"scripts\":{\"a\":\"b\"}}");
   Project* p = load_ok();
   cr_expect_str_eq(p->name, strrchr(tmp, '/') + 1);
   cr_expect_str_eq(p->version, "");
   pkg_free(p);
}

Test(pkg, non_string_script_skipped) {
   put("package.json", "{\"scripts\":{\"a\":\"echo a\",\"x\":42,\"b\":\"echo b\"}}");
   Project* p = load_ok();
   cr_assert_eq(p->nscripts, 2);
   cr_expect_str_eq(p->scripts[0].name, "a");
   cr_expect_str_eq(p->scripts[1].name, "b");
   cr_assert_eq(p->nwarnings, 1);
   cr_expect_str_eq(p->warnings[0], "package.json: script \"x\" is not a string (skipped)");
   pkg_free(p);
}

Test(pkg, scripts_not_an_object) {
   put("package.json", "{\"scripts\":[\"echo\"]}");
   Project* p = load_ok();
   cr_expect_eq(p->nscripts, 0);
   cr_expect(has_warning(p, "\"scripts\" is not an object"));
   pkg_free(p);
}

Test(pkg, bom) {
   put("package.json", "\xEF\xBB\xBF{\"scripts\":{\"dev\":\"vite\"}}");
   Project* p = load_ok();
   cr_assert_eq(p->nscripts, 1);
   cr_expect_str_eq(p->scripts[0].command, "vite");
   pkg_free(p);
}

/* ---- errors ---- */

Test(pkg, syntax_error_has_line_and_column) {
   put("package.json", "{\n  \"name\": \"x\",\n  \"scripts\": {\n    \"a\": \"b\",\n  }\n}\n");
   char* cause = load_err(-EINVAL);
   char* want = xasprintf("%s/package.json:5:3: ", tmp);
   cr_expect(strncmp(cause, want, strlen(want)) == 0, "cause: %s", cause);
   free(want);
   free(cause);
}

Test(pkg, syntax_error_uses_path_as_given) {
   put("proj/package.json", "{\n  \"name\" \"x\"\n}\n");
   char* cwd = getcwd(NULL, 0);
   cr_assert_eq(chdir(tmp), 0);
   Project* p = NULL;
   char* cause = NULL;
   cr_assert_eq(pkg_load("proj", &p, &cause), -EINVAL);
   cr_expect(strncmp(cause, "proj/package.json:2:", 20) == 0, "cause: %s", cause);
   free(cause);
   cr_assert_eq(chdir(cwd), 0);
   free(cwd);
}

Test(pkg, syntax_error_after_bom_counts_from_text) {
   put("package.json", "\xEF\xBB\xBF{ nope }");
   char* cause = load_err(-EINVAL);
   /* jansson points at the end of the bad token; the BOM is not a column. */
   cr_expect(strstr(cause, "package.json:1:6: "), "cause: %s", cause);
   free(cause);
}

Test(pkg, missing_file) {
   char* cause = load_err(-ENOENT);
   /* The walk-up looked in tmp and every directory above it (/tmp holds no project file). */
   char* want = xasprintf("no project file (package.json, brum.yaml, Procfile.dev, Procfile or "
                          "process-compose.yaml) in %s or any directory above it; run brum in a "
                          "project directory or pass -d DIR",
                          tmp);
   cr_expect_str_eq(cause, want);
   free(want);
   free(cause);
}

Test(pkg, missing_directory) {
   char* dir = xasprintf("%s/nowhere", tmp);
   Project* p = NULL;
   char* cause = NULL;
   cr_assert_eq(pkg_load(dir, &p, &cause), -ENOENT);
   char* want = xasprintf("no such directory: %s", dir);
   cr_expect_str_eq(cause, want);
   free(want);
   free(cause);
   free(dir);
}

Test(pkg, not_an_object) {
   put("package.json", "[1, 2]");
   char* cause = load_err(-EINVAL);
   cr_expect(strstr(cause, "package.json: the top level is an array"), "cause: %s", cause);
   free(cause);
   put("package.json", "\"just a string\"");
   cause = load_err(-EINVAL);
   cr_expect(strstr(cause, "package.json:1:"), "cause: %s", cause);
   cr_expect(strstr(cause, "the top level must be an object"), "cause: %s", cause);
   free(cause);
}

Test(pkg, empty_file) {
   put("package.json", "");
   char* cause = load_err(-EINVAL);
   cr_expect(strstr(cause, "package.json: the file is empty"), "cause: %s", cause);
   free(cause);
   put("package.json", "\xEF\xBB\xBF \n\t\n");
   cause = load_err(-EINVAL);
   cr_expect(strstr(cause, "empty"), "cause: %s", cause);
   free(cause);
}

Test(pkg, unreadable) {
   put("package.json", "{}");
   char* path = xasprintf("%s/package.json", tmp);
   chmod(path, 0);
   chmod(tmp, 0755);
   /* Root reads everything: check from a child that gave that up. */
   pid_t pid = fork();
   if (pid == 0) {
      if (geteuid() == 0 && (setgid(65534) < 0 || setuid(65534) < 0)) _exit(2);
      Project* p = NULL;
      char* cause = NULL;
      int err = pkg_load(tmp, &p, &cause);
      _exit(err == -EACCES && cause && strstr(cause, path) ? 0 : 1);
   }
   int status;
   cr_assert_eq(waitpid(pid, &status, 0), pid);
   cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %x", status);
   free(path);
}

/* ---- files that are not plain files; messages in plain words ---- */

static void three_packages(void);

/* A FIFO at tmp/rel (with no writer: opening it for reading would block). */
static void put_fifo(const char* rel) {
   char* path = xasprintf("%s/%s", tmp, rel);
   cr_assert_eq(mkfifo(path, 0644), 0, "mkfifo %s", path);
   free(path);
}

/* The timeouts turn a blocking open() into a failure rather than a hang. */
Test(pkg, package_json_fifo_is_refused, .timeout = 10) {
   put_fifo("package.json");
   char* cause = load_err(-EINVAL);
   cr_expect(strstr(cause, "package.json") && strstr(cause, "FIFO"), "cause: %s", cause);
   cr_expect(strstr(cause, "regular file"), "cause: %s", cause);
   free(cause);
}

Test(pkg, pnpm_workspace_fifo_is_a_warning, .timeout = 10) {
   put("package.json", "{\"scripts\":{\"a\":\"echo a\"}}");
   put_fifo("pnpm-workspace.yaml");
   Project* p = load_ok();
   cr_expect_eq(p->nscripts, 1);
   cr_expect(has_warning(p, "pnpm-workspace.yaml") && has_warning(p, "FIFO"), "%s",
             p->nwarnings ? p->warnings[0] : "(no warning)");
   pkg_free(p);
}

Test(pkg, workspace_package_json_fifo_is_a_warning, .timeout = 10) {
   put("package.json", "{\"workspaces\":[\"packages/*\"]}");
   three_packages();
   put("packages/fifo/README.md", "");
   put_fifo("packages/fifo/package.json");
   Project* p = load_ok();
   cr_expect_eq(p->nscripts, 3);
   cr_expect(has_warning(p, "packages/fifo/package.json") && has_warning(p, "FIFO"), "%s",
             p->nwarnings ? p->warnings[0] : "(no warning)");
   pkg_free(p);
}

Test(pkg, nul_byte_says_where) {
   static const char text[] = "{\n  \"scripts\": {\"a\": \"echo a\0b\"}}";
   char* path = xasprintf("%s/package.json", tmp);
   FILE* f = fopen(path, "wb");
   cr_assert_not_null(f);
   fwrite(text, 1, sizeof text - 1, f);
   fclose(f);
   free(path);
   char* cause = load_err(-EINVAL);
   cr_expect(strstr(cause, "package.json:2:") && strstr(cause, "NUL byte"), "cause: %s", cause);
   cr_expect(!strstr(cause, "control character"), "cause: %s", cause);
   free(cause);
   put("package.json", "{\"scripts\": {\"a\": \"echo \\u0000b\"}}");
   cause = load_err(-EINVAL);
   cr_expect(strstr(cause, "package.json:1:") && strstr(cause, "NUL"), "cause: %s", cause);
   cr_expect(!strstr(cause, "JSON_ALLOW_NUL"), "cause: %s", cause);
   free(cause);
}

Test(pkg, too_large_states_size_and_limit) {
   put("package.json", "");
   char* path = xasprintf("%s/package.json", tmp);
   cr_assert_eq(truncate(path, 70l << 20), 0); /* sparse: no 70 MB written */
   free(path);
   char* cause = load_err(-EFBIG);
   cr_expect(strstr(cause, "70 MiB (73400320 bytes)") && strstr(cause, "64 MiB"), "cause: %s",
             cause);
   free(cause);
}

Test(pkg, package_json_directory_says_so) {
   char* path = xasprintf("%s/package.json", tmp);
   cr_assert_eq(mkdir(path, 0755), 0);
   free(path);
   char* cause = load_err(-EISDIR);
   cr_expect(strstr(cause, "package.json") && strstr(cause, "is a directory"), "cause: %s", cause);
   free(cause);
}

/* ---- workspaces ---- */

static void three_packages(void) {
   put("packages/a/package.json", "{\"name\":\"@acme/a\",\"version\":\"1.0.0\","
                                  "\"scripts\":{\"build\":\"tsc\",\"test\":\"jest\"}}");
   put("packages/b/package.json", "{\"name\":\"b\",\"scripts\":{\"build\":\"tsc -b\"}}");
   put("packages/not-a-package/README.md", "nothing here");
   put("apps/web/package.json", "{\"name\":\"web\",\"scripts\":{\"dev\":\"vite\"}}");
}

Test(pkg, workspaces_npm_array) {
   put("package.json", "{\"name\":\"root\",\"workspaces\":[\"packages/*\",\"apps/web\"],"
                       "\"scripts\":{\"dev\":\"turbo dev\"}}");
   three_packages();
   Project* p = load_ok();
   static const char* names[] = {"dev", "@acme/a:build", "@acme/a:test", "b:build", "web:dev"};
   cr_assert_eq(p->nscripts, ARRAY_LEN(names));
   for (size_t i = 0; i < ARRAY_LEN(names); i++) cr_expect_str_eq(p->scripts[i].name, names[i]);
   const Script* s = pkg_find(p, "@acme/a:build");
   cr_expect(s->in_workspace);
   cr_expect_str_eq(s->package, "@acme/a");
   cr_expect_str_eq(s->command, "tsc");
   cr_expect_str_eq(s->version, "1.0.0");
   char* dir = xasprintf("%s/packages/a", p->dir);
   cr_expect_str_eq(s->dir, dir);
   free(dir);
   cr_expect_eq(p->nwarnings, 0, "%s", p->nwarnings ? p->warnings[0] : "");
   pkg_free(p);
}

Test(pkg, workspaces_yarn_object) {
   put("package.json", "{\"workspaces\":{\"packages\":[\"packages/*\"],\"nohoist\":[]}}");
   three_packages();
   Project* p = load_ok();
   cr_expect_eq(p->nscripts, 3);
   cr_expect_not_null(pkg_find(p, "b:build"));
   cr_expect_null(pkg_find(p, "web:dev"));
   pkg_free(p);
}

Test(pkg, workspaces_pnpm_yaml) {
   put("package.json", "{\"name\":\"root\"}");
   put("pnpm-workspace.yaml", "# the monorepo\npackages:\n  - 'packages/*'\n  - \"apps/**\"\n"
                              "  - '!packages/b'\ncatalog:\n  react: ^18\n");
   put("pnpm-lock.yaml", "");
   three_packages();
   put("apps/web/node_modules/dep/package.json", "{\"name\":\"dep\",\"scripts\":{\"x\":\"y\"}}");
   Project* p = load_ok();
   cr_expect_eq(p->pm, PM_PNPM);
   static const char* names[] = {"@acme/a:build", "@acme/a:test", "web:dev"};
   cr_assert_eq(p->nscripts, ARRAY_LEN(names));
   for (size_t i = 0; i < ARRAY_LEN(names); i++) cr_expect_str_eq(p->scripts[i].name, names[i]);
   cr_expect_eq(p->nwarnings, 0, "%s", p->nwarnings ? p->warnings[0] : "");
   pkg_free(p);
}

Test(pkg, workspaces_pnpm_yaml_syntax_error) {
   put("package.json", "{}");
   put("pnpm-workspace.yaml", "packages:\n  - 'a\n  - [\n");
   Project* p = load_ok();
   cr_expect(has_warning(p, "pnpm-workspace.yaml:"), "%s", p->nwarnings ? p->warnings[0] : "");
   pkg_free(p);
}

Test(pkg, workspaces_negative_pattern) {
   put("package.json", "{\"workspaces\":[\"packages/*\",\"!packages/a\"]}");
   three_packages();
   Project* p = load_ok();
   cr_assert_eq(p->nscripts, 1);
   cr_expect_str_eq(p->scripts[0].name, "b:build");
   pkg_free(p);
}

Test(pkg, workspaces_pattern_matching_nothing) {
   put("package.json", "{\"workspaces\":[\"libs/*\",\"packages/*\"]}");
   three_packages();
   Project* p = load_ok();
   cr_expect_eq(p->nscripts, 3);
   cr_assert_eq(p->nwarnings, 1);
   cr_expect(strstr(p->warnings[0], "\"libs/*\" matches no package"), "%s", p->warnings[0]);
   pkg_free(p);
}

Test(pkg, workspaces_symlink_loop, .timeout = 10) {
   put("package.json", "{\"workspaces\":[\"packages/**\", \"packages/*\", \"packages/*/*\"]}");
   three_packages();
   char* link = xasprintf("%s/packages/a/loop", tmp);
   cr_assert_eq(symlink("..", link), 0);
   free(link);
   link = xasprintf("%s/packages/self", tmp);
   cr_assert_eq(symlink(".", link), 0);
   free(link);
   Project* p = load_ok();
   static const char* names[] = {"@acme/a:build", "@acme/a:test", "b:build"};
   cr_assert_eq(p->nscripts, ARRAY_LEN(names));
   for (size_t i = 0; i < ARRAY_LEN(names); i++) cr_expect_str_eq(p->scripts[i].name, names[i]);
   pkg_free(p);
}

/* `**` stays inside the project: a link to /proc used to walk /proc for ever. */
Test(pkg, workspaces_glob_does_not_leave_the_project, .timeout = 20) {
   put("package.json", "{\"workspaces\":[\"procl/**\", \"packages/**\", \"linked\"]}");
   three_packages();
   /* A package outside the project, linked in: named directly it loads; `**` does not enter. */
   char outside[] = "/tmp/brum-pkg-out-XXXXXX";
   cr_assert_not_null(mkdtemp(outside));
   char* ext = xasprintf("%s/ext", outside);
   char* sub = xasprintf("%s/ext/sub", outside);
   char* pj = xasprintf("%s/ext/package.json", outside);
   char* subpj = xasprintf("%s/ext/sub/package.json", outside);
   cr_assert_eq(mkdir(ext, 0755), 0);
   cr_assert_eq(mkdir(sub, 0755), 0);
   FILE* f = fopen(pj, "w");
   fputs("{\"name\":\"ext\",\"scripts\":{\"x\":\"echo x\"}}", f);
   fclose(f);
   f = fopen(subpj, "w");
   fputs("{\"name\":\"extsub\",\"scripts\":{\"y\":\"echo y\"}}", f);
   fclose(f);
   char* l1 = xasprintf("%s/procl", tmp);
   char* l2 = xasprintf("%s/linked", tmp);
   char* l3 = xasprintf("%s/packages/ext", tmp);
   cr_assert_eq(symlink("/proc", l1), 0);
   cr_assert_eq(symlink(ext, l2), 0);
   cr_assert_eq(symlink(ext, l3), 0);
   Project* p = load_ok();
   cr_expect(pkg_find(p, "ext:x"), "a package named directly through a link loads");
   cr_expect(pkg_find(p, "@acme/a:build") && pkg_find(p, "b:build"));
   cr_expect(!pkg_find(p, "extsub:y"), "`**` went through a link out of the project");
   cr_expect(has_warning(p, "\"procl/**\" matches no package"));
   pkg_free(p);
   char* cmd = xasprintf("rm -rf '%s'", outside);
   cr_expect_eq(system(cmd), 0);
   free(cmd), free(ext), free(sub), free(pj), free(subpj), free(l1), free(l2), free(l3);
}

Test(pkg, workspace_syntax_error_is_a_warning) {
   put("package.json", "{\"workspaces\":[\"packages/*\"]}");
   three_packages();
   put("packages/broken/package.json", "{\n \"name\": \"broken\",,\n}");
   Project* p = load_ok();
   cr_expect_eq(p->nscripts, 3);
   cr_expect(has_warning(p, "packages/broken/package.json:2:"), "%s",
             p->nwarnings ? p->warnings[0] : "");
   pkg_free(p);
}

Test(pkg, workspace_non_string_script) {
   put("package.json", "{\"workspaces\":[\"packages/b\"]}");
   put("packages/b/package.json", "{\"name\":\"b\",\"scripts\":{\"x\":null,\"y\":\"ok\"}}");
   Project* p = load_ok();
   cr_assert_eq(p->nscripts, 1);
   cr_expect_str_eq(p->scripts[0].name, "b:y");
   cr_expect(has_warning(p, "packages/b/package.json: script \"x\" is not a string (skipped)"));
   pkg_free(p);
}

/* ---- running ---- */

Test(pkg, run_shell_mode) {
   put("package.json", "{\"name\":\"demo\",\"version\":\"3.1.4\",\"workspaces\":[\"packages/*\"],"
                       "\"scripts\":{\"dev\":\"vite --port 3000\"}}");
   three_packages();
   setenv("PATH", "/usr/bin:/bin", 1);
   unsetenv("FORCE_COLOR");
   unsetenv("NO_COLOR");
   setenv("npm_lifecycle_event", "stale", 1);
   Project* p = load_ok();
   const Script* s = pkg_find(p, "dev");
   PkgRun r;
   cr_assert_eq(pkg_run_prepare(p, s, true, &r), 0);
   cr_expect_str_eq(r.argv[0], "/bin/sh");
   cr_expect_str_eq(r.argv[1], "-c");
   cr_expect_str_eq(r.argv[2], "vite --port 3000");
   cr_expect_null(r.argv[3]);
   cr_expect_null(r.note, "--shell was asked for: nothing to explain");
   cr_expect_str_eq(r.cwd, p->dir);
   char* path = xasprintf("%s/node_modules/.bin:/usr/bin:/bin", p->dir);
   cr_expect_str_eq(env_of(r.env, "PATH"), path);
   free(path);
   cr_expect_str_eq(env_of(r.env, "npm_lifecycle_event"), "dev");
   cr_expect_str_eq(env_of(r.env, "npm_lifecycle_script"), "vite --port 3000");
   cr_expect_str_eq(env_of(r.env, "npm_package_name"), "demo");
   cr_expect_str_eq(env_of(r.env, "npm_package_version"), "3.1.4");
   cr_expect_str_eq(env_of(r.env, "npm_config_user_agent"), "brum/" BRUM_VERSION);
   cr_expect_str_eq(env_of(r.env, "FORCE_COLOR"), "1");
   cr_expect_not_null(env_of(r.env, "INIT_CWD"));
   cr_expect_not_null(env_of(r.env, "HOME") || !getenv("HOME"));
   size_t events = 0;
   for (char** e = r.env; *e; e++) events += strncmp(*e, "npm_lifecycle_event=", 20) == 0;
   cr_expect_eq(events, 1, "replaced, not duplicated");
   pkg_run_free(&r);

   /* A workspace script: the package's .bin, then the root's. */
   s = pkg_find(p, "@acme/a:test");
   cr_assert_eq(pkg_run_prepare(p, s, true, &r), 0);
   path = xasprintf("%s/packages/a/node_modules/.bin:%s/node_modules/.bin:/usr/bin:/bin", p->dir,
                    p->dir);
   cr_expect_str_eq(env_of(r.env, "PATH"), path);
   free(path);
   cr_expect_str_eq(env_of(r.env, "npm_lifecycle_event"), "test");
   cr_expect_str_eq(env_of(r.env, "npm_package_name"), "@acme/a");
   cr_expect_str_eq(env_of(r.env, "npm_package_version"), "1.0.0");
   char* pj = xasprintf("%s/packages/a/package.json", p->dir);
   cr_expect_str_eq(env_of(r.env, "npm_package_json"), pj);
   free(pj);
   cr_expect_str_eq(r.cwd, s->dir);
   pkg_run_free(&r);
   pkg_free(p);
}

Test(pkg, run_without_manager_explains) {
   put("package.json", "{\"packageManager\":\"pnpm@9.0.0\",\"scripts\":{\"dev\":\"vite\"}}");
   setenv("PATH", tmp, 1);
   setenv("NO_COLOR", "1", 1);
   unsetenv("FORCE_COLOR");
   Project* p = load_ok();
   cr_assert_not(p->pm_available);
   PkgRun r;
   cr_assert_eq(pkg_run_prepare(p, pkg_find(p, "dev"), false, &r), 0);
   cr_expect_str_eq(r.argv[0], "/bin/sh");
   cr_expect_str_eq(r.note, "pnpm is not installed: running the script with sh -c");
   cr_expect_null(env_of(r.env, "FORCE_COLOR"), "NO_COLOR wins");
   pkg_run_free(&r);
   pkg_free(p);
}

Test(pkg, run_through_manager) {
   put("package.json", "{\"workspaces\":[\"packages/*\"],\"scripts\":{\"dev\":\"vite\"}}");
   three_packages();
   put("bin/npm", "#!/bin/sh\n");
   char* bin = xasprintf("%s/bin", tmp);
   char* exe = xasprintf("%s/npm", bin);
   chmod(exe, 0755);
   setenv("PATH", bin, 1);
   setenv("FORCE_COLOR", "0", 1);
   Project* p = load_ok();
   cr_assert(p->pm_available);
   PkgRun r;
   cr_assert_eq(pkg_run_prepare(p, pkg_find(p, "b:build"), false, &r), 0);
   cr_expect_str_eq(r.argv[0], "npm");
   cr_expect_str_eq(r.argv[1], "run");
   cr_expect_str_eq(r.argv[2], "build");
   cr_expect_null(r.argv[3]);
   cr_expect_null(r.note);
   cr_expect_str_eq(r.cwd, pkg_find(p, "b:build")->dir);
   cr_expect_str_eq(env_of(r.env, "FORCE_COLOR"), "0", "the user's setting stays");
   cr_expect_str_eq(env_of(r.env, "PATH"), bin, "PATH is npm's business here");
   pkg_run_free(&r);

   /* --shell overrides an installed manager. */
   cr_assert_eq(pkg_run_prepare(p, pkg_find(p, "dev"), true, &r), 0);
   cr_expect_str_eq(r.argv[0], "/bin/sh");
   cr_expect_null(r.note);
   pkg_run_free(&r);
   pkg_free(p);
   free(exe);
   free(bin);
}

Test(pkg, run_prepared_shell_script_sees_env) {
   put("package.json", "{\"name\":\"envy\",\"scripts\":{\"show\":\"echo $npm_lifecycle_event "
                       "$npm_package_name; command -v tool\"}}");
   put("node_modules/.bin/tool", "#!/bin/sh\n");
   char* tool = xasprintf("%s/node_modules/.bin/tool", tmp);
   chmod(tool, 0755);
   Project* p = load_ok();
   PkgRun r;
   cr_assert_eq(pkg_run_prepare(p, pkg_find(p, "show"), true, &r), 0);
   char* out = xasprintf("%s/out", tmp);
   pid_t pid = fork();
   if (pid == 0) {
      if (!freopen(out, "w", stdout) || chdir(r.cwd) < 0) _exit(127);
      execve(r.argv[0], r.argv, r.env);
      _exit(127);
   }
   int status;
   cr_assert_eq(waitpid(pid, &status, 0), pid);
   cr_expect_eq(status, 0);
   FILE* f = fopen(out, "r");
   char line[512] = "", line2[512] = "";
   cr_assert(fgets(line, sizeof line, f));
   cr_assert(fgets(line2, sizeof line2, f));
   fclose(f);
   cr_expect_str_eq(line, "show envy\n");
   char* want = xasprintf("%s/node_modules/.bin/tool\n", p->dir);
   cr_expect_str_eq(line2, want);
   free(want);
   free(out);
   free(tool);
   pkg_run_free(&r);
   pkg_free(p);
}

/* ---- the demo project ---- */

Test(pkg, demo_project) {
   Project* p = NULL;
   char* cause = NULL;
   int err = pkg_load(BRUM_SOURCE_DIR "/examples/demo", &p, &cause);
   cr_assert_eq(err, 0, "%s", cause ? cause : "");
   static const char* names[] = {"dev", "build", "test", "lint", "watch", "flood"};
   cr_assert_eq(p->nscripts, ARRAY_LEN(names));
   for (size_t i = 0; i < ARRAY_LEN(names); i++) cr_expect_str_eq(p->scripts[i].name, names[i]);
   cr_expect_str_eq(p->name, "demo");
   cr_expect_eq(p->pm, PM_NPM);
   cr_expect_str_eq(p->pm_reason, "default (no lockfile)");
   cr_expect_eq(p->nwarnings, 0);
   pkg_free(p);
}

/* Issue 15: a script named like an option reaches the manager after "--", not as its option. */
Test(pkg, dash_name_after_double_dash) {
   put("package.json", "{\"scripts\":{\"-h\":\"echo h\",\"--version\":\"echo v\",\"a-b\":\"x\"}}");
   put("bin/npm", "#!/bin/sh\n");
   char* bin = xasprintf("%s/bin", tmp);
   char* exe = xasprintf("%s/npm", bin);
   chmod(exe, 0755);
   setenv("PATH", bin, 1);
   Project* p = load_ok();
   cr_assert(p->pm_available);
   static const char* names[] = {"-h", "--version"};
   for (size_t i = 0; i < 2; i++) {
      PkgRun r;
      cr_assert_eq(pkg_run_prepare(p, pkg_find(p, names[i]), false, &r), 0);
      cr_expect_str_eq(r.argv[0], "npm");
      cr_expect_str_eq(r.argv[1], "run");
      cr_expect_str_eq(r.argv[2], "--");
      cr_expect_str_eq(r.argv[3], names[i]);
      cr_expect_null(r.argv[4]);
      pkg_run_free(&r);
   }
   PkgRun r; /* an ordinary name is passed as before */
   cr_assert_eq(pkg_run_prepare(p, pkg_find(p, "a-b"), false, &r), 0);
   cr_expect_str_eq(r.argv[2], "a-b");
   cr_expect_null(r.argv[3]);
   pkg_run_free(&r);
   pkg_free(p);
   free(exe);
   free(bin);
}

/* Issue 15: an empty script name cannot be run by any manager: skipped with a warning. */
Test(pkg, empty_name_skipped) {
   put("package.json", "{\"scripts\":{\"\":\"echo empty\",\"dev\":\"vite\"}}");
   Project* p = load_ok();
   cr_expect_eq(p->nscripts, 1);
   cr_expect_str_eq(p->scripts[0].name, "dev");
   cr_expect_null(pkg_find(p, ""));
   cr_expect(has_warning(p, "a script with an empty name cannot be run (skipped)"));
   pkg_free(p);
}
