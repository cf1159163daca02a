/* What scripts/pkg.c (loading) and scripts/run.c (running) share. */
#ifndef BRUM_SCRIPTS_PKG_IMPL_H
#define BRUM_SCRIPTS_PKG_IMPL_H

#include <stddef.h>

/* A growable array of heap strings. */
typedef struct StrVec {
   char** v; /* owned */
   size_t n, cap;
} StrVec;

void pkg_sv_push(StrVec* sv, char* s); /* s: owned by the vector from now on */
/* dir + "/" + name, without a doubled slash. */
char* pkg_join_path(const char* dir, const char* name);

#endif
