/* What scripts/pkg.c (loading) and scripts/run.c (running) share. */
#ifndef BRUM_SCRIPTS_PKG_IMPL_H
#define BRUM_SCRIPTS_PKG_IMPL_H

#include <stddef.h>

#include "scripts/pkg.h"

struct json_t;

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

#endif
