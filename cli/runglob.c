/* The command line's `-r GLOB` (scripts/runall.h): each glob becomes the scripts it matches,
 * ordered and grouped in the project before anything is registered. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "scripts/runall.h"
#include "cli/app.h"

/* Prints a message on stderr, its first line after "brum: PREFIX" (as the unknown script error
 * does: "brum: no script ...", then "available: ..."); each line sanitised. */
static void say(const char* prefix, const char* msg) {
   for (const char* line = msg; line;) {
      const char* nl = strchr(line, '\n');
      char* one = nl ? xstrndup(line, (size_t)(nl - line)) : xstrdup(line);
      char* c = util_sanitize(one);
      fprintf(stderr, "%s%s%s\n", line == msg ? "brum: " : "", line == msg ? prefix : "", c);
      free(c);
      free(one);
      line = nl ? nl + 1 : NULL;
   }
}

/* Launched inside a workspace package, a root script's bare name means that package's script
 * of the same name (pkg_find): a glob that matched such a root script needs exact names. */
static bool shadowed(const Project* p, const Script* s) {
   return p->start_package && !s->in_workspace && pkg_find(p, s->name) != s;
}

int app_expand_globs(Project* prj, Options* o) {
   size_t cap = o->nruns + 1, n = 0;
   const char** runs = xcalloc(cap, sizeof *runs);
   int err = 0;
   bool exact = false;
   for (size_t i = 0; i < o->nruns; i++) {
      const char* arg = o->runs[i];
      const Script* named = pkg_find(prj, arg);
      if (!runall_is_glob(arg) || named) { /* a script's own name wins */
         if (n + 1 >= cap) runs = xrealloc(runs, (cap *= 2) * sizeof *runs);
         runs[n++] = named ? named->name : arg; /* its full name: it means one script from now */
         continue;
      }
      RunAllPlan plan;
      char* cause = NULL;
      if ((err = runall_plan(prj, arg, &plan, &cause)) < 0) {
         say("", cause);
         free(cause);
         break;
      }
      for (char** w = plan.warnings; *w; w++) say("warning: ", *w);
      if (n + plan.n + 1 >= cap) {
         cap = n + plan.n + o->nruns + 1;
         runs = xrealloc(runs, cap * sizeof *runs);
      }
      for (size_t k = 0; k < plan.n; k++) {
         exact |= shadowed(prj, &prj->scripts[plan.idx[k]]);
         runs[n++] = prj->scripts[plan.idx[k]].name;
      }
      runall_apply(prj, &plan); /* moves scripts, not their names: the pointers above hold */
      runall_plan_free(&plan);
   }
   if (exact) { /* every name above is a full one already */
      free(prj->start_package);
      prj->start_package = NULL;
   }
   runs[n] = NULL;
   free(o->runs);
   o->runs = runs;
   o->nruns = n;
   return err;
}
