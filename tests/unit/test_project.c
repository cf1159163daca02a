/* Project files (issue 12): the walk-up, brum.yaml, Procfile, process-compose.yaml, .env files,
 * and how they merge with package.json into one list of processes. */
#include "scripts/pkg.h"
#include "scripts/project_impl.h"

#include "core/util.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FIXTURES BRUM_SOURCE_DIR "/tests/fixtures/project"

static char tmp[64];

static void setup(void) {
   strcpy(tmp, "/tmp/brum-prj-XXXXXX");
   cr_assert_not_null(mkdtemp(tmp));
}

static int rm_one(const char* path, const struct stat* st, int flag, struct FTW* ftw) {
   (void)st, (void)flag, (void)ftw;
   return remove(path);
}

static void teardown(void) {
   nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(project, .init = setup, .fini = teardown);

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

static Project* load_dir(const char* dir) {
   Project* p = NULL;
   char* cause = NULL;
   int err = pkg_load(dir, &p, &cause);
   cr_assert_eq(err, 0, "pkg_load(%s): %d %s", dir, err, cause ? cause : "");
   cr_assert_not_null(p);
   return p;
}

static Project* load_ok(void) {
   return load_dir(tmp);
}

/* Loads tmp expecting -EINVAL; the cause holds needle. */
static void expect_error(const char* needle) {
   Project* p = NULL;
   char* cause = NULL;
   int err = pkg_load(tmp, &p, &cause);
   cr_assert_eq(err, -EINVAL, "want -EINVAL, got %d (%s)", err, cause ? cause : "");
   cr_assert_null(p);
   cr_expect(strstr(cause, needle), "want '%s' in:\n%s", needle, cause);
   free(cause);
}

static const Script* find(const Project* p, const char* name) {
   const Script* s = pkg_find(p, name);
   cr_assert_not_null(s, "no process %s", name);
   return s;
}

/* The value the environment list gives KEY (the last entry wins), NULL when unset or absent. */
static const char* env_get(char** env, const char* key) {
   const char* v = NULL;
   size_t n = strlen(key);
   for (char** e = env; e && *e; e++) {
      if (strncmp(*e, key, n) != 0) continue;
      if ((*e)[n] == '=') v = *e + n + 1;
      if ((*e)[n] == '\0') v = NULL;
   }
   return v;
}

static bool has_warning(const Project* p, const char* needle) {
   for (size_t i = 0; i < p->nwarnings; i++)
      if (strstr(p->warnings[i], needle)) return true;
   return false;
}

/* ---- brum.yaml ---- */

Test(project, issue_example) {
   Project* p = load_dir(FIXTURES "/example");
   cr_assert_eq(p->nscripts, 4);
   /* web replaced the package script dev in its place; db and api follow in file order */
   const char* order[] = {"build", "web", "db", "api"};
   for (size_t i = 0; i < 4; i++) cr_expect_str_eq(p->scripts[i].name, order[i]);
   const Script* web = find(p, "web");
   cr_expect_eq(web->source, SRC_BRUM_YAML);
   cr_expect_str_eq(web->script_ref, "dev");
   cr_expect_str_eq(web->command, "vite");
   cr_expect_not(web->via_pm, "a package script runs directly unless run_via says otherwise");
   cr_expect_str_eq(web->package, "example");
   cr_assert_eq(web->ndeps, 1);
   cr_expect_str_eq(web->deps[0].name, "api");
   cr_expect_eq(web->deps[0].cond, DEP_READY);
   cr_expect_str_eq(env_get(web->env, "PORT"), "5173");
   /* env_file: [.env] was asked for, so the package script gets it too */
   cr_expect_str_eq(env_get(web->env, "DATABASE_URL"), "postgres://localhost/example");
   cr_expect_eq(find(p, "dev"), web, "the replaced script is found under its own name");
   const Script* db = find(p, "db");
   cr_expect_eq(db->ready.kind, PROBE_LOG);
   cr_expect_str_eq(db->ready.target, "ready to accept connections");
   cr_expect_str_eq(db->origin, "brum.yaml:3");
   cr_expect_str_eq(db->dir, p->dir);
   cr_expect_null(db->argv);
   cr_expect_not(db->via_pm);
   const Script* api = find(p, "api");
   cr_expect_eq(api->ready.kind, PROBE_HTTP);
   cr_expect_str_eq(api->ready.target, "http://127.0.0.1:8123/");
   cr_expect_float_eq(api->ready.interval_s, 0.5, 1e-9);
   cr_expect_float_eq(api->ready.timeout_s, 30, 1e-9);
   cr_expect_eq(api->restart, RESTART_ON_FAILURE);
   cr_expect_eq(api->max_restarts, 5);
   cr_expect_eq(find(p, "build")->source, SRC_PACKAGE);
   cr_expect_null(find(p, "build")->env, "package scripts get no .env unless asked");
   pkg_free(p);
}

Test(project, every_field) {
   mkdir(tmp, 0755);
   put("sub/.keep", "");
   put("common.env", "SHARED=from-file\nLEVEL=project-file\n");
   put("proc.env", "LEVEL=process-file\nPROC_ONLY=1\n");
   put("brum.yaml",
       "env_file: common.env\n"
       "env: { LEVEL: project-env, GONE: x }\n"
       "default_run: [a]\n"
       "kill_timeout: 1500ms\n"
       "max_lines: 5000\n"
       "theme: light\n"
       "prefix_key: C-a\n"
       "notifications: true\n"
       "processes:\n"
       "  a:\n"
       "    argv: [printf, '%s\\n', hi]\n"
       "    cwd: sub\n"
       "    env_file: [proc.env]\n"
       "    env: { GONE: null, LEVEL: process-env }\n"
       "    autostart: true\n"
       "    restart: always\n"
       "    backoff: 2s\n"
       "    max_restarts: 0\n"
       "    stop_signal: SIGINT\n"
       "    kill_timeout: 1m\n"
       "    depends_on: { b: exited_ok }\n"
       "    ready: { tcp: \"127.0.0.1:5432\", interval: 250ms, timeout: 2, retries: 3 }\n"
       "    group: backend\n"
       "    hidden: false\n"
       "    interactive: true\n"
       "    run_via: direct\n"
       "  b:\n"
       "    cmd: 'true'\n"
       "    stop_signal: 1\n"
       "    hidden: true\n"
       "    ready: { exec: \"pg_isready\" }\n");
   Project* p = load_ok();
   cr_expect_not(p->has_package_json);
   cr_assert_not_null(p->default_run);
   cr_expect_str_eq(p->default_run[0], "a");
   cr_expect_null(p->default_run[1]);
   cr_expect_float_eq(p->kill_timeout_s, 1.5, 1e-9);
   cr_expect_eq(p->max_lines, 5000);
   cr_expect_str_eq(p->theme, "light");
   cr_expect_str_eq(p->prefix_key, "C-a");
   cr_expect(p->notifications);
   const Script* a = find(p, "a");
   cr_assert_not_null(a->argv);
   cr_expect_str_eq(a->argv[0], "printf");
   cr_expect_str_eq(a->argv[2], "hi");
   cr_expect_null(a->argv[3]);
   char* sub = xasprintf("%s/sub", p->dir);
   cr_expect_str_eq(a->dir, sub);
   free(sub);
   cr_expect_str_eq(env_get(a->env, "SHARED"), "from-file");
   cr_expect_str_eq(env_get(a->env, "LEVEL"), "process-env");
   cr_expect_str_eq(env_get(a->env, "PROC_ONLY"), "1");
   cr_expect_null(env_get(a->env, "GONE"));
   cr_expect(a->autostart);
   cr_expect_eq(a->restart, RESTART_ALWAYS);
   cr_expect_float_eq(a->backoff_s, 2, 1e-9);
   cr_expect_eq(a->max_restarts, 0);
   cr_expect_eq(a->stop_signal, SIGINT);
   cr_expect_float_eq(a->kill_timeout_s, 60, 1e-9);
   cr_assert_eq(a->ndeps, 1);
   cr_expect_eq(a->deps[0].cond, DEP_EXITED_OK);
   cr_expect_eq(a->ready.kind, PROBE_TCP);
   cr_expect_str_eq(a->ready.target, "127.0.0.1:5432");
   cr_expect_float_eq(a->ready.interval_s, 0.25, 1e-9);
   cr_expect_float_eq(a->ready.timeout_s, 2, 1e-9);
   cr_expect_eq(a->ready.retries, 3);
   cr_expect_str_eq(a->group, "backend");
   cr_expect_not(a->hidden);
   cr_expect(a->interactive);
   cr_expect_not(a->via_pm);
   const Script* b = find(p, "b");
   cr_expect_eq(b->stop_signal, SIGHUP);
   cr_expect(b->hidden);
   cr_expect_not(b->autostart);
   cr_expect_eq(b->max_restarts, -1);
   cr_expect_eq(b->ready.kind, PROBE_EXEC);
   pkg_free(p);
}

Test(project, precedence_order) {
   put("a.env", "K=project-file\n");
   put("b.env", "K=process-file\nREF=${K}\n");
   put("brum.yaml", "env_file: [a.env]\nenv: { K: project-env }\n"
                    "processes:\n  x: { cmd: 'true', env_file: [b.env], env: { K: process-env } }\n"
                    "  y: { cmd: 'true', env_file: [b.env] }\n  z: { cmd: 'true' }\n");
   Project* p = load_ok();
   char** env = find(p, "x")->env;
   /* the list is in precedence order: later entries win */
   const char* want[] = {"K=project-file",   "K=project-env", "K=process-file",
                         "REF=process-file", "K=process-env", NULL};
   for (size_t i = 0; want[i]; i++) {
      cr_assert_not_null(env[i]);
      cr_expect_str_eq(env[i], want[i]);
   }
   cr_expect_null(env[5]);
   cr_expect_str_eq(env_get(find(p, "y")->env, "K"), "process-file");
   cr_expect_str_eq(env_get(find(p, "z")->env, "K"), "project-env");
   pkg_free(p);
}

Test(project, default_dotenv_only_for_commands) {
   put(".env", "FROM_DOTENV=1\n");
   put("package.json", "{\"scripts\": {\"dev\": \"vite\", \"lint\": \"eslint\"}}");
   put("brum.yaml", "processes:\n  web: { script: dev }\n  api: { cmd: ./api }\n");
   Project* p = load_ok();
   cr_expect_null(env_get(find(p, "web")->env, "FROM_DOTENV"));
   cr_expect_null(find(p, "lint")->env);
   cr_expect_str_eq(env_get(find(p, "api")->env, "FROM_DOTENV"), "1");
   pkg_free(p);
}

Test(project, error_unknown_key) {
   put("brum.yaml", "processes:\n  a:\n    cmd: x\n    comand: y\n");
   expect_error("brum.yaml:4:5: unknown key 'comand' in a process");
}

Test(project, error_unknown_top_key) {
   put("brum.yaml", "proceses: {}\n");
   expect_error("brum.yaml:1:1: unknown key 'proceses' at the top of brum.yaml");
}

Test(project, error_wrong_type) {
   put("brum.yaml", "processes:\n  a:\n    cmd: [x]\n");
   expect_error("brum.yaml:3:10: cmd must be a string, not a list");
   put("brum.yaml", "processes:\n  a:\n    cmd: x\n    env: [A=1]\n");
   expect_error("brum.yaml:4:10: env must be a mapping");
}

Test(project, error_yes_is_not_a_boolean) {
   put("brum.yaml", "processes:\n  a:\n    cmd: x\n    autostart: yes\n");
   expect_error("brum.yaml:4:16: autostart must be true or false, not 'yes'");
}

Test(project, error_cycle) {
   put("brum.yaml", "processes:\n  a: { cmd: x, depends_on: { b: ready } }\n"
                    "  b: { cmd: y, depends_on: { a: started } }\n");
   expect_error("brum.yaml:3:30: dependency cycle: a -> b -> a");
   put("brum.yaml", "processes:\n  a: { cmd: x, depends_on: { a: ready } }\n");
   expect_error("brum.yaml:2:30: dependency cycle: a -> a");
}

Test(project, error_unknown_dependency) {
   put("brum.yaml", "processes:\n  a:\n    cmd: x\n    depends_on: { nope: ready }\n");
   expect_error("brum.yaml:4:19: depends_on names 'nope', which is not a process of the project");
   put("brum.yaml", "default_run: [a, zz]\nprocesses:\n  a: { cmd: x }\n");
   expect_error("brum.yaml:1:18: default_run names 'zz'");
}

Test(project, error_bad_duration) {
   put("brum.yaml", "processes:\n  a: { cmd: x, backoff: 2 sec }\n");
   expect_error("brum.yaml:2:25: backoff must be a duration");
   put("brum.yaml", "kill_timeout: -1\n");
   expect_error("brum.yaml:1:15: kill_timeout must be a duration");
}

Test(project, error_bad_signal) {
   put("brum.yaml", "processes:\n  a: { cmd: x, stop_signal: TERMINATE }\n");
   expect_error("brum.yaml:2:29: stop_signal must be a signal name");
   put("brum.yaml", "processes:\n  a: { cmd: x, stop_signal: 0 }\n");
   expect_error("brum.yaml:2:29: stop_signal must be a signal name");
}

Test(project, error_https_probe) {
   put("brum.yaml", "processes:\n  a: { cmd: x, ready: { http: \"https://localhost/\" } }\n");
   expect_error("brum.yaml:2:31: 'https://localhost/': https probes are not supported");
}

Test(project, error_bad_regex_and_probe_shapes) {
   put("brum.yaml", "processes:\n  a: { cmd: x, ready: { log: \"(\" } }\n");
   expect_error("brum.yaml:2:30: log pattern '(' is not a valid regular expression");
   put("brum.yaml", "processes:\n  a: { cmd: x, ready: { tcp: localhost } }\n");
   expect_error("a tcp probe is host:port");
   put("brum.yaml", "processes:\n  a: { cmd: x, ready: { tcp: \"h:1\", log: x } }\n");
   expect_error("ready has more than one probe");
}

Test(project, error_kind_of_process) {
   put("brum.yaml", "processes:\n  a: { env: {} }\n");
   expect_error("brum.yaml:2:3: process 'a' needs one of script");
   put("brum.yaml", "processes:\n  a: { cmd: x, script: dev }\n");
   expect_error("process 'a' has more than one of script, cmd and argv");
   put("brum.yaml", "processes:\n  a: { script: dev }\n");
   expect_error("brum.yaml:2:16: script 'dev' is not in package.json");
}

Test(project, errors_all_reported) {
   put("brum.yaml", "processes:\n  a: { cmd: x, hidden: 1, restart: sometimes }\n"
                    "  b: { cmd: y, autostart: on }\n");
   Project* p = NULL;
   char* cause = NULL;
   cr_assert_eq(pkg_load(tmp, &p, &cause), -EINVAL);
   cr_expect(strstr(cause, "brum.yaml:2:24: hidden must be true or false"), "%s", cause);
   cr_expect(strstr(cause, "brum.yaml:2:36: restart is no, on-failure or always"), "%s", cause);
   cr_expect(strstr(cause, "brum.yaml:3:27: autostart must be true or false"), "%s", cause);
   free(cause);
}

Test(project, syntax_error_has_line) {
   put("brum.yaml", "processes:\n  a: { cmd: x\n");
   expect_error("brum.yaml:3:1: ");
}

Test(project, merge_keys) {
   put("brum.yaml", "x-common: &common\n  restart: always\n  env: { A: \"1\" }\n"
                    "processes:\n  a:\n    <<: *common\n    cmd: x\n    env: { B: \"2\" }\n");
   expect_error("unknown key 'x-common'"); /* only known keys, even for anchors */
   put("brum.yaml", "processes:\n  base: &common { cmd: base, restart: always, group: g }\n"
                    "  a:\n    <<: *common\n    cmd: x\n");
   Project* p = load_ok();
   const Script* a = find(p, "a");
   cr_expect_str_eq(a->command, "x", "an explicit key wins over a merged one");
   cr_expect_eq(a->restart, RESTART_ALWAYS);
   cr_expect_str_eq(a->group, "g");
   pkg_free(p);
   put("brum.yaml", "processes:\n  a:\n    <<: 3\n    cmd: x\n");
   expect_error("brum.yaml:3:9: '<<' merges a mapping or a list of mappings");
}

Test(project, billion_laughs_bounded) {
   /* Nine levels of ten merges each: 10^9 pairs if expanded. */
   char* text =
       xstrdup("l0: &l0 { a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7, h: 8, i: 9, j: 10 }\n");
   for (int i = 1; i < 9; i++) {
      char* more = xasprintf("%sl%d: &l%d\n  <<: [*l%d, *l%d, *l%d, *l%d, *l%d, *l%d, *l%d, *l%d, "
                             "*l%d, *l%d]\n",
                             text, i, i, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1,
                             i - 1, i - 1);
      free(text);
      text = more;
   }
   StrVec errs = {0};
   YDoc d = {.file = "laughs.yaml", .errs = &errs};
   cr_assert(ydoc_parse(&d, text, strlen(text)));
   yaml_node_t* root = yaml_document_get_root_node(&d.doc);
   size_t np = 0;
   YPair* top = ydoc_pairs(&d, root, &np);
   cr_assert_not_null(top);
   size_t n = 0;
   YPair* last = ydoc_pairs(&d, top[np - 1].v, &n);
   /* Expanding l8 would visit 10^8 mappings: the cap refuses it, fast, with the line. */
   cr_expect_null(last);
   cr_assert_eq(errs.n, 1);
   cr_expect(strstr(errs.v[0], "laughs.yaml:") && strstr(errs.v[0], "the file is refused"), "%s",
             errs.v[0]);
   free(top);
   cr_expect_leq(d.visits, PRJ_MAX_NODES + 100);
   ydoc_done(&d);
   prj_sv_done(&errs);
   free(text);
}

Test(project, alias_cap_refuses) {
   /* A list aliased 1000 times over 200 items: more items than the cap once expanded. */
   char* items = xstrdup("[");
   for (int i = 0; i < 200; i++) {
      char* more = xasprintf("%s%sx", items, i ? ", " : "");
      free(items);
      items = more;
   }
   char* text = xasprintf("processes:\n  a:\n    argv: &v %s]\n", items);
   for (int i = 0; i < 1000; i++) {
      char* more = xasprintf("%s  p%d: { argv: *v }\n", text, i);
      free(text);
      text = more;
   }
   put("brum.yaml", text);
   expect_error("entries once aliases and merge keys are expanded: the file is refused");
   free(text);
   free(items);
}

/* ---- Procfile ---- */

Test(project, procfile_ports_and_env) {
   put(".env", "SECRET=s3\n");
   put("Procfile", "# comment\n\nweb: bundle exec rails s -p $PORT\nworker:  sidekiq\r\n"
                   "css-watch: yarn build:css --watch\n");
   Project* p = load_ok();
   cr_assert_eq(p->nscripts, 3);
   const char* ports[] = {"5000", "5100", "5200"};
   for (size_t i = 0; i < 3; i++) {
      cr_expect_eq(p->scripts[i].source, SRC_PROCFILE);
      cr_expect_str_eq(env_get(p->scripts[i].env, "PORT"), ports[i]);
      cr_expect_str_eq(env_get(p->scripts[i].env, "SECRET"), "s3");
      cr_expect(p->scripts[i].autostart);
   }
   cr_expect_str_eq(p->scripts[1].command, "sidekiq");
   cr_expect_str_eq(p->scripts[2].origin, "Procfile:5");
   pkg_free(p);
}

Test(project, procfile_dev_first) {
   put("Procfile", "web: prod\n");
   put("Procfile.dev", "web: dev-server\n");
   Project* p = load_ok();
   cr_expect_str_eq(find(p, "web")->command, "dev-server");
   pkg_free(p);
}

Test(project, procfile_bad_line) {
   put("Procfile", "web: ok\nbad line here\n");
   expect_error("Procfile:2:4: expected 'name: command'");
   put("Procfile", "web:\n");
   expect_error("Procfile:1:4: the process has no command after the colon");
   put("Procfile", "web: a\nweb: b\n");
   expect_error("Procfile:2:1: process 'web' is defined twice");
}

/* ---- process-compose.yaml ---- */

Test(project, compose_subset) {
   put("svc/.keep", "");
   put("process-compose.yaml",
       "version: \"0.5\"\n"
       "log_location: /tmp/pc.log\n"
       "processes:\n"
       "  db:\n"
       "    command: postgres -D data\n"
       "    readiness_probe:\n"
       "      exec: { command: pg_isready }\n"
       "      period_seconds: 2\n"
       "      timeout_seconds: 5\n"
       "      failure_threshold: 4\n"
       "      initial_delay_seconds: 1\n"
       "    shutdown: { signal: 2, timeout_seconds: 9, command: pg_ctl stop }\n"
       "  api:\n"
       "    command: ./api\n"
       "    working_dir: svc\n"
       "    environment: [\"A=1\", \"B=x=y\"]\n"
       "    namespace: backend\n"
       "    depends_on:\n"
       "      db: { condition: process_healthy }\n"
       "      mig: { condition: process_completed_successfully }\n"
       "    readiness_probe:\n"
       "      http_get: { host: 127.0.0.1, port: 8080, path: /health, scheme: http }\n"
       "    availability: { restart: on_failure, backoff_seconds: 3, max_restarts: 2 }\n"
       "    is_daemon: false\n"
       "  mig:\n"
       "    command: ./migrate\n"
       "    disabled: true\n"
       "    availability: { restart: exit_on_failure }\n");
   Project* p = load_ok();
   cr_assert_eq(p->nscripts, 3);
   const Script* db = find(p, "db");
   cr_expect_eq(db->source, SRC_COMPOSE);
   cr_expect_eq(db->ready.kind, PROBE_EXEC);
   cr_expect_str_eq(db->ready.target, "pg_isready");
   cr_expect_float_eq(db->ready.interval_s, 2, 1e-9);
   cr_expect_float_eq(db->ready.timeout_s, 5, 1e-9);
   cr_expect_eq(db->ready.retries, 4);
   cr_expect_eq(db->stop_signal, SIGINT);
   cr_expect_float_eq(db->kill_timeout_s, 9, 1e-9);
   cr_expect(db->autostart);
   if (access("/bin/bash", X_OK) == 0) cr_expect_str_eq(db->shell, "bash");
   cr_assert_not_null(db->unknown);
   cr_expect_str_eq(db->unknown[0],
                    "process-compose.yaml:11: 'readiness_probe.initial_delay_seconds' is not "
                    "supported");
   cr_expect_str_eq(db->unknown[1], "process-compose.yaml:12: 'shutdown.command' is not supported");
   cr_expect_null(db->unknown[2]);
   const Script* api = find(p, "api");
   cr_expect(strstr(api->dir, "/svc") != NULL);
   cr_expect_str_eq(env_get(api->env, "B"), "x=y");
   cr_expect_str_eq(api->group, "backend");
   cr_assert_eq(api->ndeps, 2);
   cr_expect_eq(api->deps[0].cond, DEP_READY);
   cr_expect_eq(api->deps[1].cond, DEP_EXITED_OK);
   cr_expect_eq(api->ready.kind, PROBE_HTTP);
   cr_expect_str_eq(api->ready.target, "http://127.0.0.1:8080/health");
   cr_expect_eq(api->restart, RESTART_ON_FAILURE);
   cr_expect_float_eq(api->backoff_s, 3, 1e-9);
   cr_expect_eq(api->max_restarts, 2);
   cr_expect_str_eq(api->unknown[0], "process-compose.yaml:24: 'is_daemon' is not supported");
   const Script* mig = find(p, "mig");
   cr_expect_not(mig->autostart);
   cr_expect_str_eq(mig->unknown[0],
                    "process-compose.yaml:28: 'availability.restart' is not supported");
   cr_expect(has_warning(p, "process-compose.yaml:2: 'log_location' is not supported"));
   pkg_free(p);
}

Test(project, compose_errors) {
   put("process-compose.yaml", "processes:\n  a:\n    command: x\n    environment: {A: 1}\n");
   expect_error("process-compose.yaml:4:18: environment must be a list");
   put("process-compose.yaml", "processes:\n  a:\n    command: x\n"
                               "    depends_on: { b: { condition: process_happy } }\n"
                               "  b: { command: y }\n");
   expect_error("process-compose.yaml:4:35: condition must be process_started");
   put("process-compose.yaml", "processes:\n  a: { working_dir: . }\n");
   expect_error("process-compose.yaml:2:3: process 'a' has no command");
}

/* ---- merging the sources ---- */

Test(project, name_collisions) {
   put("package.json", "{\"scripts\": {\"web\": \"vite\", \"test\": \"vitest\"}}");
   put("Procfile", "web: rails s\nworker: sidekiq\n");
   put("process-compose.yaml", "processes:\n  worker: { command: pc-worker }\n"
                               "  test: { command: pc-test }\n");
   put("brum.yaml", "processes:\n  worker: { cmd: yaml-worker }\n");
   Project* p = load_ok();
   cr_expect_str_eq(find(p, "web")->command, "rails s");
   cr_expect_str_eq(find(p, "worker")->command, "yaml-worker");
   cr_expect_str_eq(find(p, "test")->command, "pc-test");
   cr_expect_eq(p->nscripts, 3);
   cr_expect(has_warning(p, "'web' is defined by Procfile at Procfile:1 and by package.json: the "
                            "Procfile one is used"));
   cr_expect(has_warning(p, "'worker' is defined by brum.yaml at brum.yaml:2 and by Procfile"));
   pkg_free(p);
}

Test(project, compose_dependency_on_package_script) {
   put("package.json", "{\"scripts\": {\"build\": \"tsc\"}}");
   put("process-compose.yaml", "processes:\n  serve:\n    command: node dist\n"
                               "    depends_on: { build: { condition: process_completed } }\n");
   Project* p = load_ok();
   cr_expect_eq(find(p, "serve")->deps[0].cond, DEP_EXITED_OK);
   cr_expect(has_warning(p, "treated as process_completed_successfully"));
   pkg_free(p);
}

/* ---- .env ---- */

static StrVec parse_env(const char* text) {
   StrVec env = {0};
   char* cause = NULL;
   int err = envfile_parse(text, strlen(text), ".env", &env, &cause);
   cr_assert_eq(err, 0, "%s", cause ? cause : "");
   return env;
}

static void env_error(const char* text, const char* want) {
   StrVec env = {0};
   char* cause = NULL;
   cr_assert_eq(envfile_parse(text, strlen(text), ".env", &env, &cause), -EINVAL, "%s", text);
   cr_expect_str_eq(cause, want);
   free(cause);
   prj_sv_done(&env);
}

Test(envfile, syntax) {
   setenv("BRUM_TEST_HOME", "/home/t", 1);
   StrVec env = parse_env("# a comment\n"
                          "PLAIN=value with spaces   \n"
                          "export EXPORTED=yes\n"
                          "SINGLE='literal $PLAIN \\n # not a comment'\n"
                          "DOUBLE=\"line1\\nq\\\"b\\\\ ${PLAIN}!\"\n"
                          "COMMENTED=abc # trailing\n"
                          "HASH=abc#def\n"
                          "EXP=$BRUM_TEST_HOME/x ${EXPORTED}\n"
                          "EMPTY=\n"
                          "  SPACED = v\n"
                          "MULTI=\"a\nb\"\n"
                          "DOLLAR=5$ and $1\n"
                          "UNDEF=[${BRUM_TEST_UNDEFINED_VAR}]\n");
   char** v = env.v;
   const char* want[] = {"PLAIN=value with spaces",
                         "EXPORTED=yes",
                         "SINGLE=literal $PLAIN \\n # not a comment",
                         "DOUBLE=line1\nq\"b\\ value with spaces!",
                         "COMMENTED=abc",
                         "HASH=abc#def",
                         "EXP=/home/t/x yes",
                         "EMPTY=",
                         "SPACED=v",
                         "MULTI=a\nb",
                         "DOLLAR=5$ and $1",
                         "UNDEF=[]"};
   cr_assert_eq(env.n, ARRAY_LEN(want));
   for (size_t i = 0; i < ARRAY_LEN(want); i++) cr_expect_str_eq(v[i], want[i]);
   prj_sv_done(&env);
}

Test(envfile, errors) {
   env_error("A=1\n-x=1\n", ".env:2:1: expected KEY=VALUE, where KEY is a variable name "
                            "(letters, digits, '_', not starting with a digit)");
   env_error("not a pair\n", ".env:1:5: 'not' needs '=' and a value (KEY=VALUE)");
   env_error("A=1\nB\n", ".env:2:2: 'B' needs '=' and a value (KEY=VALUE)");
   env_error("A='open\n", ".env:1:3: the single quote is never closed");
   env_error("\nA=\"open\n", ".env:2:3: the double quote is never closed");
   env_error("A=\"x\" y\n", ".env:1:7: unexpected text after the closing quote (quote the whole "
                            "value)");
   env_error("A=${B\n", ".env:1:3: '${' must hold a variable name and end with '}' (like ${HOME})");
   env_error("1A=x\n", ".env:1:1: expected KEY=VALUE, where KEY is a variable name (letters, "
                       "digits, '_', not starting with a digit)");
}

Test(project, env_file_errors_point_at_the_file) {
   put("brum.yaml", "processes:\n  a: { cmd: x, env_file: [missing.env] }\n");
   expect_error("brum.yaml:2:27: env_file: cannot read missing.env");
   put("bad.env", "OK=1\nBROKEN\n");
   put("brum.yaml", "processes:\n  a: { cmd: x, env_file: bad.env }\n");
   expect_error("bad.env:2:7: 'BROKEN' needs '='");
}

/* ---- the walk-up ---- */

Test(project, walk_up_from_subdirectory) {
   put("package.json", "{\"name\": \"top\", \"scripts\": {\"dev\": \"vite\"}}");
   put("src/deep/er/.keep", "");
   char* sub = xasprintf("%s/src/deep/er", tmp);
   Project* p = load_dir(sub);
   char* real = realpath(tmp, NULL);
   cr_expect_str_eq(p->dir, real);
   char* real_sub = realpath(sub, NULL);
   cr_expect_str_eq(p->start_dir, real_sub);
   cr_expect_null(p->start_package);
   cr_expect_not_null(pkg_find(p, "dev"));
   free(real_sub);
   free(real);
   free(sub);
   pkg_free(p);
}

Test(project, walk_up_to_brum_yaml_only) {
   put("brum.yaml", "processes:\n  a: { cmd: x }\n");
   put("sub/.keep", "");
   char* sub = xasprintf("%s/sub", tmp);
   Project* p = load_dir(sub);
   cr_expect_not(p->has_package_json);
   cr_expect_eq(p->nscripts, 1);
   free(sub);
   pkg_free(p);
}

Test(project, workspace_package_manager_from_package) {
   Project* p = load_dir(FIXTURES "/ws/packages/x/src");
   cr_expect_eq(p->pm, PM_PNPM, "the workspace root's manager, not npm's default");
   cr_expect_str_eq(p->name, "ws-root");
   cr_expect_str_eq(p->start_package, "x");
   cr_expect(strstr(p->start_dir, "/ws/packages/x/src") != NULL);
   /* `brum dev` in packages/x means x's dev; the root's and y's stay available */
   cr_expect_str_eq(pkg_find(p, "dev")->name, "x:dev");
   cr_expect_str_eq(pkg_find(p, "test")->name, "x:test");
   cr_expect_str_eq(pkg_find(p, "lint")->name, "lint");
   cr_expect_str_eq(pkg_find(p, "y:dev")->name, "y:dev");
   pkg_free(p);
   p = load_dir(FIXTURES "/ws");
   cr_expect_null(p->start_package);
   cr_expect_str_eq(pkg_find(p, "dev")->name, "dev");
   pkg_free(p);
}

Test(project, package_outside_the_workspace_patterns) {
   put("package.json", "{\"name\": \"root\", \"workspaces\": [\"packages/*\"]}");
   put("pnpm-lock.yaml", "");
   put("tools/t/package.json", "{\"name\": \"t\", \"scripts\": {\"dev\": \"t-dev\"}}");
   char* dir = xasprintf("%s/tools/t", tmp);
   Project* p = load_dir(dir);
   cr_expect_str_eq(p->name, "t", "not a workspace package: its own project");
   cr_expect_str_eq(find(p, "dev")->command, "t-dev");
   free(dir);
   pkg_free(p);
}

Test(project, pnpm_workspace_yaml_root) {
   put("package.json", "{\"name\": \"root\"}");
   put("pnpm-workspace.yaml", "packages:\n  - 'packages/*'\n");
   put("pnpm-lock.yaml", "");
   put("packages/vite/package.json", "{\"name\": \"vite\", \"scripts\": {\"dev\": \"rollup -w\"}}");
   char* dir = xasprintf("%s/packages/vite", tmp);
   Project* p = load_dir(dir);
   cr_expect_eq(p->pm, PM_PNPM);
   cr_expect_str_eq(pkg_manager_name(p->pm), "pnpm");
   cr_expect_str_eq(p->pm_reason, "pnpm-lock.yaml");
   cr_expect_str_eq(pkg_find(p, "dev")->name, "vite:dev");
   free(dir);
   pkg_free(p);
}

Test(project, no_project_anywhere) {
   Project* p = NULL;
   char* cause = NULL;
   cr_assert_eq(pkg_load(tmp, &p, &cause), -ENOENT);
   cr_expect(strstr(cause, "or any directory above it"), "%s", cause);
   free(cause);
}

Test(project, replaced_script_found_from_its_package) {
   put("package.json", "{\"name\": \"root\", \"workspaces\": [\"packages/*\"], "
                       "\"scripts\": {\"dev\": \"root-dev\"}}");
   put("packages/x/package.json", "{\"name\": \"x\", \"scripts\": {\"dev\": \"x-dev\"}}");
   put("brum.yaml", "processes:\n  xweb: { script: \"x:dev\", env: { PORT: \"1\" } }\n");
   char* dir = xasprintf("%s/packages/x", tmp);
   Project* p = load_dir(dir);
   cr_expect_str_eq(pkg_find(p, "dev")->name, "xweb");
   cr_expect_str_eq(pkg_find(p, "dev")->command, "x-dev");
   cr_expect_str_eq(pkg_find(p, "xweb")->package, "x");
   cr_expect(pkg_find(p, "xweb")->in_workspace);
   cr_expect_str_eq(pkg_find(p, "x:dev")->name, "xweb", "found under the script's own name");
   cr_expect_eq(p->nscripts, 2, "root dev and xweb (x:dev was replaced)");
   free(dir);
   pkg_free(p);
}

Test(project, compose_global_environment_and_https) {
   put("process-compose.yaml", "environment: [\"G=1\", \"H=global\"]\nprocesses:\n"
                               "  a: { command: x, environment: [\"H=own\"] }\n");
   Project* p = load_ok();
   cr_expect_str_eq(env_get(find(p, "a")->env, "G"), "1");
   cr_expect_str_eq(env_get(find(p, "a")->env, "H"), "own");
   cr_expect_null(find(p, "a")->unknown);
   pkg_free(p);
   put("process-compose.yaml", "processes:\n  a:\n    command: x\n    readiness_probe:\n"
                               "      http_get: { host: localhost, port: 443, scheme: https }\n");
   expect_error("process-compose.yaml:5:17: 'https://localhost:443/': https probes are not "
                "supported");
}

Test(project, more_errors) {
   put("brum.yaml", "processes:\n  a: { cmd: x }\n  a: { cmd: y }\n");
   expect_error("brum.yaml:3:3: key 'a' is given twice in this mapping");
   put("brum.yaml", "processes:\n  a: { cmd: x, cwd: nowhere }\n");
   expect_error("brum.yaml:2:21: cwd 'nowhere' is not a directory");
   put("brum.yaml", "processes:\n  a: { cmd: x, run_via: package-manager }\n");
   expect_error("brum.yaml:2:25: run_via: package-manager is for a package script");
   put("brum.yaml", "processes:\n  a: { cmd: x, depends_on: { b: healthy } }\n  b: { cmd: y }\n");
   expect_error("brum.yaml:2:33: a dependency's condition is started, ready or exited_ok");
   put("brum.yaml", "processes:\n  \"a b\": { cmd: x }\n");
   expect_error("brum.yaml:2:3: process name 'a b' may hold only");
   put("brum.yaml", "- a\n");
   expect_error("brum.yaml:1:1: the top level of brum.yaml must be a mapping");
   put("brum.yaml", "max_lines: 0\n");
   expect_error("brum.yaml:1:12: max_lines must be at least 1");
}

Test(envfile, nul_byte) {
   StrVec env = {0};
   char* cause = NULL;
   cr_assert_eq(envfile_parse("A=1\nB=x\0y\n", 9, ".env", &env, &cause), -EINVAL);
   cr_expect_str_eq(cause, ".env:2:4: the file contains a NUL byte (a .env file is text)");
   free(cause);
   prj_sv_done(&env);
}

Test(project, log_files_and_notifications) {
   mkdir(tmp, 0755);
   put("brum.yaml", "log_dir: logs/dev\n"
                    "log_raw: true\n"
                    "log_max_size: 512K\n"
                    "log_keep: 5\n"
                    "notifications: bell\n"
                    "processes: { a: { cmd: 'true' } }\n");
   Project* p = load_ok();
   char* want = xasprintf("%s/logs/dev", p->dir);
   cr_expect_str_eq(p->log_dir, want, "relative to the project");
   free(want);
   cr_expect(p->log_raw);
   cr_expect_eq(p->log_max_size, 512u << 10);
   cr_expect_eq(p->log_keep, 5);
   cr_expect_eq(p->notifications, NOTIFY_BELL);
   pkg_free(p);
   put("brum.yaml", "notifications: loud\nlog_max_size: 10X\nlog_keep: 1000\n");
   expect_error("brum.yaml:1:16: notifications must be true, false, bell or desktop, not 'loud'");
   expect_error("brum.yaml:2:15: log_max_size must be a size in bytes");
   expect_error("brum.yaml:3:11: log_keep must be a whole number from 0 to 100");
}

Test(project, notifications_unset_and_false) {
   mkdir(tmp, 0755);
   put("brum.yaml", "processes: { a: { cmd: 'true' } }\n");
   Project* p = load_ok();
   cr_expect_eq(p->notifications, NOTIFY_UNSET);
   cr_expect_null(p->log_dir);
   pkg_free(p);
   put("brum.yaml", "notifications: false\nprocesses: { a: { cmd: 'true' } }\n");
   p = load_ok();
   cr_expect_eq(p->notifications, NOTIFY_OFF);
   pkg_free(p);
}
