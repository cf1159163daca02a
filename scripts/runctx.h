/* The context of running scripts directly (runctx.c), shared by run.c. */
#ifndef BRUM_SCRIPTS_RUNCTX_H
#define BRUM_SCRIPTS_RUNCTX_H

#include <stdbool.h>
#include <stddef.h>

#include "scripts/pkg.h"

struct json_t;

typedef struct PkgRunCtx {
   char* exe;                 /* the manager's executable on PATH (real path); NULL: none */
   char* version;             /* the manager's version (packageManager, else its package.json) */
   char* npm_root;            /* npm's own package directory; NULL: unknown */
   char* node;                /* node on PATH (real path); NULL: none */
   char* node_version;        /* "v20.20.2"; NULL: unknown */
   char* prefix;              /* npm's global prefix */
   char* userconfig;          /* the user .npmrc path ("" without HOME) */
   char* globalconfig;        /* the global npmrc path */
   struct json_t* settings;   /* key ("script-shell") -> value in effect */
   struct json_t* from_files; /* key -> value, of the settings that came from .npmrc files */
   struct json_t* where;      /* key -> the file that set it */
   char* via;                 /* non-NULL: why the manager must run the scripts */
   char*** envs;              /* per package: the environment without the lifecycle variables */
   size_t npackages;
   char* cwd; /* brum's working directory: npm's INIT_CWD */
} PkgRunCtx;

/* The project's context, found at the first call (it runs node once, then reads a cache). */
PkgRunCtx* ctx_get(const Project* p);
const char* ctx_setting(const PkgRunCtx* c, const char* key); /* NULL: not set */
bool ctx_true(const PkgRunCtx* c, const char* key);

#endif
