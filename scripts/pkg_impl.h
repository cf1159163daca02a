/* What scripts/pkg.c and scripts/workspace.c (loading) and scripts/run.c (running) share. */
#ifndef BRUM_SCRIPTS_PKG_IMPL_H
#define BRUM_SCRIPTS_PKG_IMPL_H

#include <stdbool.h>
#include <stddef.h>

#include "scripts/pkg.h"

struct json_t;

/* A package.json (or pnpm-workspace.yaml) bigger than this is not one. */
#define PKG_MAX_FILE (64u << 20)

/* A growable array of heap strings. */
typedef struct StrVec {
   char** v; /* owned */
   size_t n, cap;
} StrVec;

void pkg_sv_push(StrVec* sv, char* s); /* s: owned by the vector from now on */
/* dir + "/" + name, without a doubled slash. */
char* pkg_join_path(const char* dir, const char* name);

/* Fills pk from a parsed package.json (pkgenv.c); pkg_package_done frees what it holds. */
void pkg_package_init(Package* pk, struct json_t* pkg, const char* dir, const char* name);
void pkg_package_done(Package* pk);

/* Frees the run context of a project (run.c). */
void pkg_run_ctx_free(struct PkgRunCtx* c);

/* ---- loading a project: scripts/pkg.c, with the workspaces in scripts/workspace.c ---- */
/* Loading state: the project plus capacities of its arrays. */
typedef struct Loader {
   Project* p; /* borrowed */
   /* owned: a set of the script names so far (a hash: 100,000 scripts load fast) */
   struct json_t* names;
   size_t scripts_cap;
   size_t warnings_cap;
   size_t packages_cap;
   const char* pattern; /* borrowed: the workspace pattern being expanded, for warnings */
   size_t walked;       /* directories visited by `**` walks so far (bounded) */
   bool walk_capped;    /* PKG_MAX_WALK_DIRS was reached (warned once) */
} Loader;

void pkg_warn(Loader* l, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
void pkg_sv_done(StrVec* sv);     /* frees the strings and the array */
struct json_t* pkg_set_new(void); /* a set of strings: a jansson object's keys */
void pkg_workspace_dirs(Loader* l, struct json_t* root, StrVec* dirs);
/* Whether the patterns of the workspace at l->p->dir (root: its package.json, may be NULL)
 * include `dir` (a real path). */
bool pkg_workspace_has(Loader* l, struct json_t* root, const char* dir);

#endif
