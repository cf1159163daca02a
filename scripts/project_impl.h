/* What the project files' loaders share: scripts/project.c (walk-up and merge), yaml.c
 * (brum.yaml and the YAML helpers), procfile.c, compose.c (process-compose.yaml), envfile.c. */
#ifndef BRUM_SCRIPTS_PROJECT_IMPL_H
#define BRUM_SCRIPTS_PROJECT_IMPL_H

#include "scripts/pkg.h"
#include "scripts/pkg_impl.h"

#include <stdbool.h>
#include <stddef.h>
#include <yaml.h>

/* A project file bigger than this is not a project file. */
#define PRJ_MAX_FILE (4u << 20)
/* Mapping pairs and list items the YAML loaders visit in one file at most: aliases and merge keys
 * share nodes, so a small file can expand to billions of them ("billion laughs"). */
#define PRJ_MAX_NODES 100000

/* One process as a project file defines it, before the merge. The *_where strings say where each
 * reference was written ("brum.yaml:12:7"), for the merge's errors. */
typedef struct Proc {
   Script s;
   char** dep_where; /* owned: one per s.deps */
   char* ref_where;  /* owned or NULL: where `script:` was written */
} Proc;

typedef struct ProcVec {
   Proc* v; /* owned */
   size_t n, cap;
} ProcVec;

Proc* prj_proc_add(ProcVec* pv);
void prj_proc_free(Proc* p);
void prj_script_free(Script* s);
void prj_procs_done(ProcVec* pv);

/* Appends a formatted message to a list of errors or warnings. */
void prj_msg(StrVec* sv, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
/* A NULL-terminated copy of a vector's strings (NULL for an empty vector); the vector is emptied.
 */
char** prj_sv_take(StrVec* sv);
void prj_sv_done(StrVec* sv);
void prj_sv_copy(StrVec* dst, const StrVec* src);

/* ---- .env files (envfile.c) ---- */

/* Parses .env text and appends its entries to env as "KEY=VALUE". `${VAR}` and `$VAR` expand from
 * env's entries (the last one wins; a "KEY" entry unsets) and then from brum's environment.
 * Returns 0, or -EINVAL with *cause "SHOWN:LINE:COL: message". */
int envfile_parse(const char* text, size_t len, const char* shown, StrVec* env, char** cause);
/* The same for a file; -ENOENT and other read errors say "cannot read SHOWN: why". */
int envfile_load(const char* path, const char* shown, StrVec* env, char** cause);

/* ---- YAML documents (yaml.c) ---- */

typedef struct YDoc {
   yaml_document_t doc;
   const char* file; /* borrowed: the name messages use ("brum.yaml") */
   StrVec* errs;     /* borrowed: where errors go */
   size_t visits;    /* bounded by PRJ_MAX_NODES */
   bool capped;
} YDoc;

typedef struct YPair {
   yaml_node_t *k, *v;
} YPair;

/* Parses text into d->doc. false: a syntax error was added to errs (d->doc is then not set). An
 * empty file gives a document without a root. */
bool ydoc_parse(YDoc* d, const char* text, size_t len);
void ydoc_done(YDoc* d);
/* Adds "FILE:LINE:COL: message" at node n (NULL: line 1). */
void ydoc_err(YDoc* d, const yaml_node_t* n, const char* fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A mapping's pairs in order, `<<` merge keys applied (explicit keys win over merged ones; earlier
 * merged mappings over later ones). NULL (with an error) when the mapping cannot be read: a bad
 * merge value, or past PRJ_MAX_NODES. *n: the count. The caller frees the array. */
YPair* ydoc_pairs(YDoc* d, yaml_node_t* map, size_t* n);
yaml_node_t* ydoc_node(YDoc* d, int id);
/* The items of a sequence, counted against PRJ_MAX_NODES; false past it (with an error). */
bool ydoc_count(YDoc* d, yaml_node_t* n, size_t items);
const char* ydoc_kind(const yaml_node_t* n); /* "a mapping", "a list", "a string", "null" */
bool ydoc_is_null(const yaml_node_t* n);
const char* ydoc_scalar(const yaml_node_t* n); /* NULL when not a scalar */
/* Typed readers: false (with an error at n naming `what`) when n is not of that type. */
bool ydoc_str(YDoc* d, yaml_node_t* n, const char* what, char** out);
bool ydoc_bool(YDoc* d, yaml_node_t* n, const char* what, bool* out);
bool ydoc_uint(YDoc* d, yaml_node_t* n, const char* what, unsigned long max, unsigned long* out);
bool ydoc_duration(YDoc* d, yaml_node_t* n, const char* what, double* out);
bool ydoc_signal(YDoc* d, yaml_node_t* n, const char* what, int* out);
/* Checks a ready probe's target: a `log` pattern compiles (PCRE2), `tcp` is host:port, `http` an
 * http:// URL (https: brum has no TLS). NULL when fine, else a heap message. */
char* prj_probe_check(ProbeKind kind, const char* target);

/* ---- the loaders: each adds its processes to out and its errors to errs ---- */

/* brum.yaml: project settings go into p (run_where: where each default_run name was written);
 * *base gets the environment Procfile processes start from
 * (the project's env_file, or .env when present, then its env). */
void brumyaml_load(Project* p, const char* text, size_t len, const char* file, ProcVec* out,
                   StrVec* base, StrVec* run_where, StrVec* errs);
/* The environment of a project without brum.yaml: .env when present. */
void prj_default_env(const char* dir, StrVec* base, StrVec* errs);
void procfile_load(Project* p, const char* text, size_t len, const char* file, const StrVec* base,
                   ProcVec* out, StrVec* errs);
/* What is not understood goes to the process's unknown list, or (top-level keys) to warns. */
void compose_load(Project* p, const char* text, size_t len, const char* file, ProcVec* out,
                  StrVec* warns, StrVec* errs);

/* ---- package.json (pkg.c) ---- */

/* Loads DIR/package.json (DIR a real path) and its workspaces into a new project, as pkg_load did
 * before the walk-up; -ENOENT when there is none. shown_dir: DIR as messages show it (as the user
 * gave it). */
int pkg_load_json(const char* dir, const char* shown_dir, Project** out, char** cause);
/* Do root's workspace patterns (package.json workspaces, pnpm-workspace.yaml) include the package
 * directory dir? Both are real paths. */
bool pkg_workspace_includes(const char* root, const char* dir);

#endif
