/* The terminal UI: the ncurses render loop over the supervisor's snapshots. */
#ifndef BRUM_TUI_TUI_H
#define BRUM_TUI_TUI_H

#include <stdbool.h>

#include "scripts/pkg.h"
#include "tui/canvas.h"
#include "cli/cli.h"

/* Runs the UI until the user quits; returns brum's exit status. */
int tui_run(const Project* prj, const Options* o);
/* Writes the cells of `c` that differ from `prev` (all of them when `full`) to stdscr, then makes
 * `prev` a copy of `c`. The caller refreshes. */
void tui_blit(const Canvas* c, Canvas* prev, bool full);

#endif
