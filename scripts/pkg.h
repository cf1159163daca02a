/* What can be run: the project's package.json scripts, its package manager, its workspaces. */
#ifndef BRUM_SCRIPTS_PKG_H
#define BRUM_SCRIPTS_PKG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum PkgManager { PM_NPM, PM_YARN, PM_PNPM, PM_BUN } PkgManager;

/* Where a process comes from. */
typedef enum ScriptSource { SRC_PACKAGE, SRC_BRUM_YAML, SRC_PROCFILE, SRC_COMPOSE } ScriptSource;

typedef enum DepCond { DEP_STARTED, DEP_READY, DEP_EXITED_OK } DepCond;
typedef struct ScriptDep {
   char* name; /* owned: another process of the project */
   DepCond cond;
} ScriptDep;

typedef enum ProbeKind { PROBE_DEFAULT, PROBE_LOG, PROBE_TCP, PROBE_HTTP, PROBE_EXEC } ProbeKind;
typedef struct ScriptProbe {
   ProbeKind kind;
   char* target; /* owned: pattern, "host:port", URL or command; NULL for PROBE_DEFAULT */
   double interval_s, timeout_s; /* 0: defaults (1 s each) */
   unsigned retries;             /* 0: keep trying while it runs */
} ScriptProbe;

typedef enum RestartPolicy { RESTART_NO, RESTART_ON_FAILURE, RESTART_ALWAYS } RestartPolicy;

/* One process the project defines: a package.json script, or a brum.yaml / Procfile /
 * process-compose.yaml process. The fields after `version` are the project files' (zero for a
 * plain package script). */
typedef struct Script {
   char* name;        /* owned: "dev", or "PKG:dev" for a workspace package's script */
   char* command;     /* owned: the script text (package.json), or the shell command (cmd:) */
   char* package;     /* owned: the package's "name" (the directory name when it has none) */
   char* dir;         /* owned: absolute directory of the package.json that holds it (for other
                         sources: the directory it runs in, after cwd:) */
   bool in_workspace; /* true for scripts of workspace packages (not the root) */
   char* version;     /* owned: the package's "version", "" when none (NULL is read as "") */
   ScriptSource source;
   char* origin;     /* owned or NULL: "brum.yaml:12" (where it was defined, for messages) */
   char** argv;      /* owned, NULL-terminated, or NULL: run `command` with the shell */
   char* shell;      /* owned or NULL: "bash" for process-compose commands (NULL: /bin/sh) */
   char* script_ref; /* owned or NULL: brum.yaml `script: web:dev`: run that package script (its
                        command, dir and package fields are copied from it) */
   char** env;       /* owned, NULL-terminated "KEY=VALUE" (set) or "KEY" (unset), applied in
                        order on top of brum's environment; env_file contents already merged in
                        (project env_file, project env, process env_file, process env) */
   ScriptDep* deps;  /* owned */
   size_t ndeps;
   ScriptProbe ready;
   RestartPolicy restart;
   double backoff_s;      /* 0: default 1 s */
   int max_restarts;      /* -1: no limit */
   int stop_signal;       /* 0: SIGTERM */
   double kill_timeout_s; /* 0: the global one */
   bool autostart, hidden;
   char* group;      /* owned or NULL: the sidebar group */
   bool via_pm;      /* run_via: package-manager (the default for `script:`) */
   bool interactive; /* brum.yaml `interactive: true`: the process reads the terminal */
   char** unknown;   /* owned, NULL-terminated or NULL: what a foreign file said that brum does not
                        understand ("process-compose.yaml:14: 'shutdown.command' is not supported"),
                        shown in the pane when it starts */
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
   /* project files (brum.yaml); zero/NULL when absent */
   char** default_run; /* owned, NULL-terminated or NULL: what starts at launch */
   double kill_timeout_s;
   uint64_t max_lines;
   char* theme;
   char* prefix_key;
   char* start_dir;     /* owned: where brum was launched (the walk-up's start); a package directory
                           inside a workspace selects that package's scripts first */
   char* start_package; /* owned or NULL: the workspace package (Script.package) whose directory
                           holds start_dir; pkg_find tries "<start_package>:<name>" first */
   bool notifications;  /* brum.yaml `notifications: true` */
   bool has_package_json; /* false for a project of brum.yaml / Procfile / process-compose.yaml
                             only: no package manager is involved */
} Project;

/* Finds and loads the project of DIR (the walk-up, like npm's): from DIR up to the first directory
 * holding a project file (package.json, brum.yaml, Procfile.dev, Procfile, process-compose.yaml);
 * when that directory is a workspace package, further up to the workspace root whose patterns
 * (package.json workspaces, pnpm-workspace.yaml) include it, which becomes Project.dir (for the
 * package manager and every workspace), with start_dir and start_package saying where brum was
 * launched. Then loads together package.json and its workspaces, brum.yaml, Procfile.dev (else
 * Procfile) and process-compose.yaml (or .yml) from Project.dir into one list (README, "Project
 * files": a brum.yaml `script:` process takes its package script's place; other name clashes
 * warn, and brum.yaml wins, then Procfile, then process-compose, then package.json).
 * Errors: -ENOENT (no project file in DIR or above: cause says what was looked for, and where),
 * -EINVAL (package.json syntax: cause is "PATH:LINE:COL: message"; not an object; a NUL byte; not
 * a regular file: a FIFO is refused, never waited on; and every error of the other project files,
 * one "FILE:LINE:COL: message" per line of cause: unknown keys, wrong types, unknown or cyclic
 * dependencies, bad durations, signals, regexes, https probes), -EISDIR, -EFBIG (over 64 MiB:
 * cause gives the size and the limit), and other negative errnos for I/O. *cause is a heap string
 * the caller frees.
 * Workspace patterns: `**` matches any number of levels (at most 8), skips hidden directories and
 * node_modules, matches a directory reached through a symlink out of the project but never walks
 * into it (a pattern naming a linked package directly loads it), and all `**` walks of one load
 * visit at most 50,000 directories: past that a warning says the pattern was cut short. */
int pkg_load(const char* dir, Project** out, char** cause);
void pkg_free(Project* p);

/* The process called name; launched inside a workspace package, "<start_package>:<name>" first (so
 * `brum dev` there means that package's dev). A package script that a brum.yaml process replaced
 * (`web: { script: dev }`) is found under its script name too. */
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
