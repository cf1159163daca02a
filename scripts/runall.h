/* `brum -r GLOB`: a script run across the packages of a workspace, as `pnpm -r run` does. The
 * glob picks scripts by "PACKAGE:SCRIPT"; each package's script waits for the same glob's scripts
 * of the workspace packages it depends on (exited ok), and the supervisor runs at most
 * --concurrency of them at a time (SupLaunch.pooled). */
#ifndef BRUM_SCRIPTS_RUNALL_H
#define BRUM_SCRIPTS_RUNALL_H

#include <stdbool.h>
#include <stddef.h>

#include "scripts/pkg.h"

/* Whether a command-line name is a glob (has *, ? or [) rather than a script's name. */
bool runall_is_glob(const char* arg);

/* Whether GLOB (fnmatch without FNM_PATHNAME: `*` matches any characters, `/` and `@` too) names
 * s: its name as listed ("dev", "web:dev", a brum.yaml process's), or, for a package.json script,
 * "PACKAGE:SCRIPT" (the root package's too: `*:build` matches the root's build). */
bool runall_match(const Script* s, const char* glob);

/* What one GLOB runs, in start order. */
typedef struct RunAllPlan {
   size_t* idx; /* owned: indexes in Project.scripts, dependencies before their dependents */
   size_t n;
   size_t** after;  /* owned, n entries: per idx[k], the positions in idx it waits for, ending
                       with SIZE_MAX */
   char* group;     /* owned: the sidebar group, the glob's script part ("build"), or the glob
                       when that part is a pattern itself */
   char** warnings; /* owned, NULL-terminated: the workspace dependency cycles (whose members
                       start without an order between them) */
} RunAllPlan;

/* Plans GLOB: the scripts it matches and their order (a package's script waits for the matched
 * scripts of the nearest workspace packages it depends on, through packages without a match;
 * the names in Package.deps that are workspace packages). -ENOENT when nothing matches, with
 * *cause (heap) saying so and listing the scripts there are. */
int runall_plan(const Project* p, const char* glob, RunAllPlan* out, char** cause);
void runall_plan_free(RunAllPlan* plan);

/* Applies a plan to the project before anything runs: each matched script gains its order as
 * exited_ok dependencies, run_all, and the plan's group (a script already run_all by an earlier
 * plan is left as it is); then they move in start order after the run_all scripts already at the
 * front (the sidebar shows a group as one run of rows). Script indexes change: plan the next glob
 * after applying this one. */
void runall_apply(Project* p, const RunAllPlan* plan);

#endif
