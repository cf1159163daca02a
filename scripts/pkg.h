/* What can be run: the project's package.json scripts, its package manager, its workspaces. */
#ifndef BRUM_SCRIPTS_PKG_H
#define BRUM_SCRIPTS_PKG_H

#include <stdbool.h>
#include <stddef.h>

typedef enum PkgManager { PM_NPM, PM_YARN, PM_PNPM, PM_BUN } PkgManager;

typedef struct Script {
   char* name;        /* owned: "dev", or "PKG:dev" for a workspace package's script */
   char* command;     /* owned: the script text from package.json */
   char* package;     /* owned: the package's "name" (the directory name when it has none) */
   char* dir;         /* owned: absolute directory of the package.json that holds it */
   bool in_workspace; /* true for scripts of workspace packages (not the root) */
   char* version;     /* owned: the package's "version", "" when none (NULL is read as "") */
} Script;

typedef struct Project {
   char* dir;     /* owned: absolute project directory */
   char* name;    /* owned: root package name (the directory name when none) */
   char* version; /* owned: root package version, "" when none */
   PkgManager pm;
   char* pm_reason;   /* owned: why this manager, e.g. "packageManager field", "pnpm-lock.yaml" */
   bool pm_available; /* the manager's executable is on PATH */
   Script* scripts;   /* owned: root scripts in package.json order, then each workspace's */
   size_t nscripts;
   char** warnings; /* owned: skipped entries etc., "package.json: scripts.foo is not a string" */
   size_t nwarnings;
} Project;

/* Loads DIR/package.json and its workspaces. Errors: -ENOENT (no package.json: cause says what was
 * looked for, and where), -EINVAL (syntax: cause is "PATH:LINE:COL: message"; not an object; a NUL
 * byte; not a regular file: a FIFO is refused, never waited on), -EISDIR, -EFBIG (over 64 MiB:
 * cause gives the size and the limit), and other negative errnos for I/O. *cause is a heap string
 * the caller frees.
 * Workspace patterns: `**` matches any number of levels (at most 8), skips hidden directories and
 * node_modules, matches a directory reached through a symlink out of the project but never walks
 * into it (a pattern naming a linked package directly loads it), and all `**` walks of one load
 * visit at most 50,000 directories: past that a warning says the pattern was cut short. */
int pkg_load(const char* dir, Project** out, char** cause);
void pkg_free(Project* p);

const Script* pkg_find(const Project* p, const char* name);
const char* pkg_manager_name(PkgManager pm); /* "npm", "yarn", "pnpm", "bun" */

/* How to run a script. Through the package manager when it is installed (`npm run NAME` in the
 * package's directory); otherwise `sh -c TEXT` with node_modules/.bin (package's, then root's)
 * first on PATH and the npm_* variables a script expects (npm_lifecycle_event,
 * npm_lifecycle_script, npm_package_name, npm_package_version, npm_package_json,
 * npm_config_user_agent, INIT_CWD), and a note that says so. */
typedef struct PkgRun {
   char** argv; /* owned, NULL-terminated */
   char** env;  /* owned, NULL-terminated: the full environment for execve */
   char* cwd;   /* owned */
   char* note;  /* owned or NULL: e.g. "pnpm is not installed: running the script with sh -c" */
} PkgRun;
/* force_shell: always use sh -c (the --shell option). */
int pkg_run_prepare(const Project* p, const Script* s, bool force_shell, PkgRun* out);
void pkg_run_free(PkgRun* r);

#endif
