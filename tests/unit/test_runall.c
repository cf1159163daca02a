/* scripts/runall.c: `brum -r GLOB`'s matcher over PACKAGE:SCRIPT, its workspace dependency order
 * (pnpm -r's), cycles, and how a plan changes the project; core/snap.c's combined result. */
#include "scripts/runall.h"

#include "core/snap.h"
#include "core/util.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char tmp[64];

static void setup(void) {
   strcpy(tmp, "/tmp/brum-runall-XXXXXX");
   cr_assert_not_null(mkdtemp(tmp));
}

static int rm_one(const char* path, const struct stat* st, int flag, struct FTW* ftw) {
   (void)st, (void)flag, (void)ftw;
   return remove(path);
}

static void teardown(void) {
   nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(runall, .init = setup, .fini = teardown);

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

/* A workspace package: its name, what it depends on (a JSON object's members) and its scripts. */
static void pkg(const char* name, const char* deps, const char* scripts) {
   char* rel = xasprintf("packages/%s/package.json", name);
   char* text =
       xasprintf("{\"name\":\"%s\",\"dependencies\":{%s},\"scripts\":{%s}}", name, deps, scripts);
   put(rel, text);
   free(text);
   free(rel);
}

static Project* load(void) {
   Project* p = NULL;
   char* cause = NULL;
   int err = pkg_load(tmp, &p, &cause);
   cr_assert_eq(err, 0, "pkg_load: %d %s", err, cause ? cause : "");
   return p;
}

/* The plan's scripts in start order, as "c:build b:build a:build". */
static char* order_of(const Project* p, const RunAllPlan* plan) {
   char* out = xstrdup("");
   for (size_t k = 0; k < plan->n; k++) {
      char* n = xasprintf("%s%s%s", out, k ? " " : "", p->scripts[plan->idx[k]].name);
      free(out);
      out = n;
   }
   return out;
}

/* The names plan position k waits for, as "b:build c:build". */
static char* waits_of(const Project* p, const RunAllPlan* plan, size_t k) {
   char* out = xstrdup("");
   for (size_t* a = plan->after[k]; *a != SIZE_MAX; a++) {
      char* n =
          xasprintf("%s%s%s", out, a == plan->after[k] ? "" : " ", p->scripts[plan->idx[*a]].name);
      free(out);
      out = n;
   }
   return out;
}

static Script script(char* name, char* package, bool in_workspace, ScriptSource src) {
   return (Script){.name = name, .package = package, .in_workspace = in_workspace, .source = src};
}

Test(runall, glob_matches_package_and_script) {
   char n1[] = "build", n2[] = "@vitejs/plugin-legacy:build", n3[] = "api", n4[] = "web:dev";
   char root[] = "vite-monorepo", scoped[] = "@vitejs/plugin-legacy", web[] = "web";
   Script rootb = script(n1, root, false, SRC_PACKAGE);
   Script legacy = script(n2, scoped, true, SRC_PACKAGE);
   Script api = script(n3, root, false, SRC_BRUM_YAML);
   Script dev = script(n4, web, true, SRC_PACKAGE);
   /* `*` crosses `/` and `@`; the root's scripts are ROOT:NAME too */
   cr_expect(runall_match(&rootb, "*:build"));
   cr_expect(runall_match(&legacy, "*:build"));
   cr_expect(runall_match(&legacy, "@vitejs/*:build"));
   cr_expect(runall_match(&legacy, "*legacy:*"));
   cr_expect(runall_match(&rootb, "vite-monorepo:build"));
   cr_expect(runall_match(&rootb, "build"), "the name as listed");
   cr_expect(!runall_match(&dev, "*:build"));
   cr_expect(runall_match(&dev, "w?b:*"));
   cr_expect(runall_match(&dev, "[vw]eb:dev"));
   cr_expect(!runall_match(&dev, "web"));
   /* a brum.yaml process is matched by its name only: it is no package's script */
   cr_expect(runall_match(&api, "a*"));
   cr_expect(!runall_match(&api, "*:api"));
   cr_expect(runall_is_glob("*:build") && runall_is_glob("a?") && runall_is_glob("[ab]:x"));
   cr_expect(!runall_is_glob("web:build") && !runall_is_glob("@scope/x:dev"));
}

/* a depends on b, b on c (a devDependency), as the e2e fixture; the root's build runs too. */
Test(runall, workspace_order) {
   put("package.json", "{\"name\":\"root\",\"workspaces\":[\"packages/*\"],"
                       "\"scripts\":{\"build\":\"true\",\"dev\":\"true\"}}");
   pkg("a", "\"b\":\"workspace:*\",\"left-pad\":\"1\"", "\"build\":\"true\",\"test\":\"true\"");
   put("packages/b/package.json", "{\"name\":\"b\",\"devDependencies\":{\"c\":\"*\"},"
                                  "\"scripts\":{\"build\":\"true\"}}");
   pkg("c", "", "\"build\":\"true\"");
   Project* p = load();
   RunAllPlan plan;
   char* cause = NULL;
   cr_assert_eq(runall_plan(p, "*:build", &plan, &cause), 0, "%s", cause);
   char* order = order_of(p, &plan);
   cr_expect_str_eq(order, "build c:build b:build a:build");
   cr_expect_str_eq(plan.group, "build");
   cr_expect_null(plan.warnings[0]);
   char* w = waits_of(p, &plan, 3);
   cr_expect_str_eq(w, "b:build");
   free(w);
   w = waits_of(p, &plan, 2);
   cr_expect_str_eq(w, "c:build");
   free(w);
   w = waits_of(p, &plan, 0);
   cr_expect_str_eq(w, "", "the root depends on no workspace package");
   free(w);
   free(order);

   /* applying: the matched scripts lead, in order, with their order as exited_ok dependencies */
   runall_apply(p, &plan);
   runall_plan_free(&plan);
   cr_expect_str_eq(p->scripts[0].name, "build");
   cr_expect_str_eq(p->scripts[1].name, "c:build");
   cr_expect_str_eq(p->scripts[3].name, "a:build");
   cr_expect_str_eq(p->scripts[4].name, "dev");
   for (size_t i = 0; i < 4; i++) {
      cr_expect(p->scripts[i].run_all);
      cr_expect_str_eq(p->scripts[i].group, "build");
   }
   cr_expect(!p->scripts[4].run_all && !p->scripts[4].group);
   cr_assert_eq(p->scripts[3].ndeps, 1);
   cr_expect_str_eq(p->scripts[3].deps[0].name, "b:build");
   cr_expect_eq(p->scripts[3].deps[0].cond, DEP_EXITED_OK);
   cr_expect_eq(pkg_find(p, "a:test"), &p->scripts[5]);

   /* a second glob: its scripts follow the first group's; one already taken stays as it is */
   cr_assert_eq(runall_plan(p, "a:*", &plan, &cause), 0);
   cr_expect_str_eq(plan.group, "a:*");
   runall_apply(p, &plan);
   runall_plan_free(&plan);
   cr_expect_str_eq(p->scripts[4].name, "a:test");
   cr_expect_str_eq(p->scripts[4].group, "a:*");
   cr_expect_str_eq(p->scripts[3].group, "build");
   pkg_free(p);
}

/* a -> m -> c where m has no build: a's build still waits for c's (pnpm orders the whole graph). */
Test(runall, order_through_a_package_without_the_script) {
   put("package.json", "{\"name\":\"root\",\"workspaces\":[\"packages/*\"]}");
   pkg("a", "\"m\":\"*\"", "\"build\":\"true\"");
   pkg("m", "\"c\":\"*\"", "\"lint\":\"true\"");
   pkg("c", "", "\"build\":\"true\"");
   Project* p = load();
   RunAllPlan plan;
   char* cause = NULL;
   cr_assert_eq(runall_plan(p, "*:build", &plan, &cause), 0);
   char* order = order_of(p, &plan);
   cr_expect_str_eq(order, "c:build a:build");
   char* w = waits_of(p, &plan, 1);
   cr_expect_str_eq(w, "c:build");
   free(w);
   free(order);
   runall_plan_free(&plan);
   pkg_free(p);
}

/* a <-> b is a cycle: said, and no order between them; d (after a) still waits for a. */
Test(runall, cycle_warns_and_drops_its_order) {
   put("package.json", "{\"name\":\"root\",\"workspaces\":[\"packages/*\"]}");
   pkg("a", "\"b\":\"*\"", "\"build\":\"true\"");
   pkg("b", "\"a\":\"*\"", "\"build\":\"true\"");
   pkg("d", "\"a\":\"*\"", "\"build\":\"true\"");
   Project* p = load();
   RunAllPlan plan;
   char* cause = NULL;
   cr_assert_eq(runall_plan(p, "*:build", &plan, &cause), 0);
   cr_assert_not_null(plan.warnings[0]);
   cr_expect(strstr(plan.warnings[0], "cycle between a, b"), "%s", plan.warnings[0]);
   cr_expect_null(plan.warnings[1]);
   char* order = order_of(p, &plan);
   cr_expect_str_eq(order, "a:build b:build d:build");
   for (size_t k = 0; k < 2; k++) cr_expect_eq(plan.after[k][0], SIZE_MAX, "no order in a cycle");
   char* w = waits_of(p, &plan, 2);
   cr_expect_str_eq(w, "a:build");
   free(w);
   free(order);
   runall_plan_free(&plan);
   pkg_free(p);
}

Test(runall, no_match_lists_the_scripts) {
   put("package.json", "{\"name\":\"root\",\"workspaces\":[\"packages/*\"]}");
   pkg("a", "", "\"build\":\"true\"");
   Project* p = load();
   RunAllPlan plan;
   char* cause = NULL;
   cr_expect_eq(runall_plan(p, "*:bild", &plan, &cause), -ENOENT);
   cr_assert_not_null(cause);
   cr_expect(strstr(cause, "no script matches '*:bild'"), "%s", cause);
   cr_expect(strstr(cause, "\navailable: a:build"), "%s", cause);
   free(cause);
   pkg_free(p);
}

static ProcSnap* snap(ProcState st, int code, const char* msg) {
   ProcSnap base = {.state = st, .exit_code = code};
   return snap_new(&base, msg);
}

Test(runall, combined_result) {
   char buf[128];
   SnapTally t = {0};
   ProcSnap* s[5] = {snap(PROC_EXITED, 0, ""), snap(PROC_RUNNING, -1, ""),
                     snap(PROC_WAITING, -1, "waiting for a slot (2 running)"),
                     snap(PROC_FAILED, 2, ""),
                     snap(PROC_FAILED, -1, "dependency b:build failed: failed (2)")};
   for (int i = 0; i < 3; i++) snap_tally_add(&t, s[i]);
   snap_tally_describe(&t, "build", buf, sizeof buf);
   cr_expect_str_eq(buf, "build 1 running, 1 waiting, 1/3 done");
   t = (SnapTally){0};
   snap_tally_add(&t, s[0]);
   snap_tally_add(&t, s[0]);
   snap_tally_describe(&t, "build", buf, sizeof buf);
   cr_expect_str_eq(buf, "build 2/2 ok");
   snap_tally_add(&t, s[3]);
   snap_tally_add(&t, s[4]);
   snap_tally_describe(&t, "build", buf, sizeof buf);
   cr_expect_str_eq(buf, "build 2/4 ok, 1 failed, 1 not run");
   for (int i = 0; i < 5; i++) free(s[i]);
}
