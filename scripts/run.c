/* Running a script: the command line and environment its package manager would give it, or
 * `sh -c` with what a script expects when the manager is missing. */
#include "scripts/pkg.h"
#include "scripts/pkg_impl.h"

#include "core/util.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef BRUM_VERSION
#define BRUM_VERSION "0"
#endif

extern char** environ;

/* The name of a script inside its own package.json: "dev" for "web:dev". */
static const char* bare_name(const Script* s) {
   size_t n = strlen(s->package);
   if (s->in_workspace && strncmp(s->name, s->package, n) == 0 && s->name[n] == ':')
      return s->name + n + 1;
   return s->name;
}

static const char* env_get(const StrVec* env, const char* key) {
   size_t n = strlen(key);
   for (size_t i = 0; i < env->n; i++)
      if (strncmp(env->v[i], key, n) == 0 && env->v[i][n] == '=') return env->v[i] + n + 1;
   return NULL;
}

static void env_set(StrVec* env, const char* key, const char* value) {
   size_t n = strlen(key);
   char* kv = xasprintf("%s=%s", key, value);
   for (size_t i = 0; i < env->n; i++) {
      if (strncmp(env->v[i], key, n) == 0 && env->v[i][n] == '=') {
         free(env->v[i]);
         env->v[i] = kv;
         return;
      }
   }
   pkg_sv_push(env, kv);
}

int pkg_run_prepare(const Project* p, const Script* s, bool force_shell, PkgRun* out) {
   *out = (PkgRun){0};
   if (!p || !s) return -EINVAL;
   StrVec env = {0}, argv = {0};
   for (char** e = environ; e && *e; e++) pkg_sv_push(&env, xstrdup(*e));
   /* Children run in a PTY, but some tools only colour when told to. */
   if (!env_get(&env, "FORCE_COLOR") && !env_get(&env, "NO_COLOR"))
      env_set(&env, "FORCE_COLOR", "1");

   if (p->pm_available && !force_shell) {
      pkg_sv_push(&argv, xstrdup(pkg_manager_name(p->pm)));
      pkg_sv_push(&argv, xstrdup("run"));
      /* "-h" would be an option to the manager: npm, yarn 1, pnpm and bun all take "--" first */
      if (bare_name(s)[0] == '-') pkg_sv_push(&argv, xstrdup("--"));
      pkg_sv_push(&argv, xstrdup(bare_name(s)));
   } else {
      pkg_sv_push(&argv, xstrdup("/bin/sh"));
      pkg_sv_push(&argv, xstrdup("-c"));
      pkg_sv_push(&argv, xstrdup(s->command));
      const char* old = env_get(&env, "PATH");
      if (!old) old = "/usr/local/bin:/usr/bin:/bin";
      char* path;
      if (strcmp(s->dir, p->dir) != 0)
         path = xasprintf("%s/node_modules/.bin:%s/node_modules/.bin:%s", s->dir, p->dir, old);
      else
         path = xasprintf("%s/node_modules/.bin:%s", p->dir, old);
      env_set(&env, "PATH", path);
      free(path);
      char* pj = pkg_join_path(s->dir, "package.json");
      char cwd[PATH_MAX];
      env_set(&env, "npm_lifecycle_event", bare_name(s));
      env_set(&env, "npm_lifecycle_script", s->command);
      env_set(&env, "npm_package_name", s->package);
      env_set(&env, "npm_package_version", s->version ? s->version : "");
      env_set(&env, "npm_package_json", pj);
      env_set(&env, "npm_config_user_agent", "brum/" BRUM_VERSION);
      /* npm's INIT_CWD is where the user started it, not the package directory. */
      env_set(&env, "INIT_CWD", getcwd(cwd, sizeof cwd) ? cwd : p->dir);
      free(pj);
      if (!force_shell)
         out->note = xasprintf("%s is not installed: running the script with sh -c",
                               pkg_manager_name(p->pm));
   }
   pkg_sv_push(&argv, NULL);
   pkg_sv_push(&env, NULL);
   out->argv = argv.v;
   out->env = env.v;
   out->cwd = xstrdup(s->dir);
   return 0;
}

void pkg_run_free(PkgRun* r) {
   if (!r) return;
   for (char** a = r->argv; a && *a; a++) free(*a);
   for (char** e = r->env; e && *e; e++) free(*e);
   free(r->argv);
   free(r->env);
   free(r->cwd);
   free(r->note);
   *r = (PkgRun){0};
}
