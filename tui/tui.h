/* The terminal UI: the ncurses render loop over the supervisor's snapshots. */
#ifndef BRUM_TUI_TUI_H
#define BRUM_TUI_TUI_H

#include "scripts/pkg.h"
#include "tui/cli.h"

/* Runs the UI until the user quits; returns brum's exit status. */
int tui_run(const Project* prj, const Options* o);

#endif
