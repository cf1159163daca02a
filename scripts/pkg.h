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
   bool run_all;      /* started by `-r GLOB` (scripts/runall.h): counts against --concurrency,
                         and its group's row shows the combined result */
   char* version;     /* owned: the package's "version", "" when none (NULL is read as "") */
   size_t pkg;        /* its package: an index in Project.packages */
   char* pre;         /* owned: the text of "pre<name>" in the same package.json, or NULL (a
                         copy: the merge with brum.yaml may drop the script it came from) */
   char* post;        /* owned: the text of "post<name>", or NULL */
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

/* One package.json that holds scripts: what npm derives from it for a script's environment. */
typedef struct Package {
   char* dir;        /* owned: absolute directory */
   char* id;         /* owned: "name@version" (npm's _id) when both are set, else NULL */
   char** env;       /* owned, NULL-terminated: npm_package_name, _version, _config_*, _engines_*,
                        _bin_* as npm 7+ flattens them (bin normalized as npm does) */
   bool dev_engines; /* it has "devEngines", which npm checks before it runs a script */
   char* name;       /* owned: its name as its scripts say it (Script.package) */
   char** deps;      /* owned, NULL-terminated: every name in its dependencies, devDependencies,
                        optionalDependencies and peerDependencies, once each (for `-r GLOB`'s
                        workspace order: those naming another workspace package) */
} Package;

struct PkgRunCtx;

/* brum.yaml `notifications:` true (bell and desktop), false, bell, desktop. */
typedef enum NotifyMode {
   NOTIFY_UNSET,
   NOTIFY_OFF,
   NOTIFY_ON,
   NOTIFY_BELL,
   NOTIFY_DESKTOP
} NotifyMode;

typedef struct Project {
   char* dir;     /* owned: absolute project directory */
   char* name;    /* owned: root package name (the directory name when none) */
   char* version; /* owned: root package version, "" when none */
   PkgManager pm;
   char* pm_reason;   /* owned: why this manager, e.g. "packageManager field", "pnpm-lock.yaml" */
   bool pm_available; /* the manager's executable is on PATH */
   char* pm_version;  /* owned: the version in the packageManager field ("9.1.0"), or NULL */
   int pnpm_pre_post; /* pnpm-workspace.yaml's enablePrePostScripts: 1 true, 0 false, -1 unset */
   char* pnpm_shell;  /* owned: pnpm-workspace.yaml's scriptShell, or NULL */
   Script* scripts;   /* owned: root scripts in package.json order, then each workspace's */
   size_t nscripts;
   char** warnings; /* owned: skipped entries etc., "package.json: scripts.foo is not a string" */
   size_t nwarnings;
   Package* packages; /* owned: the root's package.json first, then each workspace package's */
   size_t npackages;
   struct PkgRunCtx* run_ctx; /* owned: what running needs to know about the manager, node and the
                                 .npmrc files; found at the first pkg_run_prepare, then reused */
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
   NotifyMode notifications; /* brum.yaml `notifications:` (NOTIFY_UNSET when absent) */
   char* log_dir;            /* owned: brum.yaml `log_dir`, made absolute (NULL: none) */
   bool log_raw;             /* brum.yaml `log_raw: true` */
   uint64_t log_max_size;    /* brum.yaml `log_max_size` in bytes (0: unset) */
   unsigned log_keep;        /* brum.yaml `log_keep` (0: unset) */
   bool has_package_json;    /* false for a project of brum.yaml / Procfile / process-compose.yaml
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
/* npm's lifecycle names: preinstall, install, postinstall, prepublish, preprepare, prepare,
 * postprepare, prepublishOnly, prepack, postpack, publish, postpublish, preversion, version,
 * postversion, dependencies. */
bool pkg_lifecycle_name(const char* name);
/* Per script of p: is it a lifecycle script (a package.json script with a lifecycle name, or
 * pre<x>/post<x> of a script <x> of the same package)? Owned by the caller: p->nscripts entries,
 * NULL when there are none. */
bool* pkg_lifecycle_flags(const Project* p);

/* How to run a script. By default directly, as the package manager would run it, without the
 * manager's own process: the script text as `sh -c TEXT` (or the .npmrc `script-shell`) in the
 * package's directory, the child being the shell itself. Its "pre<name>" and "post<name>" scripts
 * run around it when the manager would run them (npm and yarn 1; pnpm before 7 or with
 * enable-pre-post-scripts; not with ignore-scripts): then one `sh -c` program runs the stages in
 * order, each with its own npm_lifecycle_event and npm_lifecycle_script and npm's banner, stopping
 * at the first failure with its exit code. The environment is npm 7+'s (run-script's
 * make-spawn-args and set-path, config's set-envs): npm_package_* from the package.json,
 * npm_lifecycle_*, npm_command, npm_execpath, npm_node_execpath, NODE, INIT_CWD (brum's working
 * directory), COLOR, EDITOR, npm_config_* for the .npmrc settings in effect plus those npm computes
 * (user_agent with the manager's own value, cache, prefix, local_prefix, node_gyp, ...), and PATH
 * with node_modules/.bin of the package directory and of every ancestor up to /, then npm's
 * node-gyp-bin. Without hooks npm's banner ("> pkg@1.2.3 dev" / "> vite") is the launch note.
 *
 * Through the manager (`npm run NAME` in the package's directory; note says why) when running it
 * directly would be wrong: Yarn 2+ (its own shell and variables; .yarnrc.yml, packageManager
 * yarn@2+ or a Yarn 2 lockfile), Yarn Plug'n'Play (.pnp.cjs), bun, an .npmrc setting brum does not
 * implement (workspace, workspaces, include-workspace-root, shell-emulator), a package with
 * devEngines (npm checks them), or via_pm (--via-pm). A manager that is not installed cannot be
 * gone through: the script runs directly (with a note only when via_pm asked for the manager). */
typedef struct PkgRun {
   char** argv; /* owned, NULL-terminated */
   char** env;  /* owned, NULL-terminated: the full environment for execve */
   char* cwd;   /* owned */
   char* note;  /* owned or NULL: a launch note, one marker line per line of it */
} PkgRun;
/* The first call fills p->run_ctx (a cache, hence the const): call it from one thread. */
int pkg_run_prepare(const Project* p, const Script* s, bool via_pm, PkgRun* out);
void pkg_run_free(PkgRun* r);

#endif
