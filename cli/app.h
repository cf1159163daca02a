/* What the TUI and headless mode share: turning the project's scripts into supervised processes. */
#ifndef BRUM_CLI_APP_H
#define BRUM_CLI_APP_H

#include "core/ctl.h"
#include "core/sup.h"
#include "scripts/pkg.h"
#include "cli/cli.h"

/* Registers one script with the supervisor (idle until started). Returns its process id. */
uint64_t app_register(Sup* sup, const Project* prj, const Script* s, const Options* o);
/* The supervisor configuration the options ask for. */
SupConfig app_sup_config(const Options* o);
/* Runs headless: starts o->runs, prints every line, returns brum's exit status. Serves the
 * control socket with ctl (NULL: without one). */
int headless_run(const Project* prj, const Options* o, const CtlConfig* ctl);

#endif
