/* What the TUI and headless mode share: turning the project's scripts into supervised processes. */
#ifndef BRUM_CLI_APP_H
#define BRUM_CLI_APP_H

#include "core/ctl.h"
#include "core/sup.h"
#include "scripts/pkg.h"
#include "cli/cli.h"

#define APP_NONE UINT64_MAX /* in an ids map: the script is not registered */

/* How one script is launched: the SupLaunch and the storage it points into. */
typedef struct AppLaunch {
   SupLaunch l;  /* points into the fields below and into the Script (probe target) */
   char** argv;  /* owned, NULL-terminated */
   char** env;   /* owned, NULL-terminated: the full environment */
   char* cwd;    /* owned */
   char* note;   /* owned or NULL: the package manager's note and what was not understood */
   SupDep* deps; /* owned */
} AppLaunch;

/* Maps a script to its launch. Package scripts (and brum.yaml `script:` references) run as
 * pkg_run_prepare says; commands run with `sh -c` (or their shell: bash when it is installed, sh
 * with a note when not) or as their argv. The environment is brum's with Script.env applied in
 * order (KEY=VALUE sets, KEY unsets); dependencies are named by the ids map (ids[i]: process id of
 * script i, APP_NONE: not registered; a dependency on an unregistered script is left out, and the
 * note says so). */
void app_launch_init(AppLaunch* a, const Project* prj, const Script* s, const Options* o,
                     const uint64_t* ids);
void app_launch_done(AppLaunch* a);

/* Registers the scripts `want` marks (NULL: every one) in project order; ids (nscripts entries)
 * receives each one's process id, APP_NONE for those left out. Without other registrations
 * before, the ids are 0, 1, 2... in that order (all scripts: id = script index). */
void app_register(Sup* sup, const Project* prj, const Options* o, const bool* want, uint64_t* ids);
/* Marks script i and every process it depends on, transitively. */
void app_want_closure(const Project* prj, size_t i, bool* want);

/* What starts at launch: the names on the command line, else the project's default_run, else
 * every process with autostart (none: an empty list). *names is an owned array of borrowed
 * strings, without duplicates; returns the count. */
size_t app_launch_names(const Project* prj, const Options* o, const char*** names);

/* Expands the `-r GLOB` names of o->runs (cli/runglob.c): each becomes the scripts it matches,
 * in start order, after runall_apply has given them their workspace order, group and pool (the
 * project's scripts move: take indexes after this). A name with glob characters that is a
 * script's own name stays a name. Prints cycle warnings; 0, or -ENOENT after printing which glob
 * matched nothing and the scripts there are. */
int app_expand_globs(Project* prj, Options* o);

/* The supervisor configuration the options ask for. */
SupConfig app_sup_config(const Options* o);
/* Runs headless: starts what app_launch_names says, prints every line, returns brum's exit
 * status. Serves the control socket with ctl (NULL: without one). */
int headless_run(const Project* prj, const Options* o, const CtlConfig* ctl);

#endif
