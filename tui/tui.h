/* The terminal UI: the ncurses render loop over the supervisor's snapshots. */
#ifndef BRUM_TUI_TUI_H
#define BRUM_TUI_TUI_H

#include <stdbool.h>

#include "core/ctl.h"
#include "core/sup.h"
#include "scripts/pkg.h"
#include "tui/canvas.h"

/* What the UI needs from the command line; the caller owns every pointer. */
typedef struct TuiConfig {
   SupConfig sup;           /* the UI sets wake and wake_ud */
   const char* theme;       /* NULL: the default (mono with NO_COLOR) */
   const char* filter;      /* NULL: none; the first pane starts filtered */
   const char* const* runs; /* processes to start at launch; the first listed is selected */
   size_t nruns;
   /* Registers one process per script of the project, in order (ids = script indexes: the
    * sidebar leaves out those whose Script is hidden). */
   void (*add_processes)(Sup* sup, void* ud);
   void* ud;
   const CtlConfig* ctl; /* the control socket's (NULL: none; the caller holds the root's lock) */
   int prefix_key;       /* input mode's prefix (view_parse_prefix); 0: Ctrl-A */
   NotifyMode notify;    /* bell / desktop notifications (NOTIFY_UNSET: on) */
} TuiConfig;

/* Runs the UI until the user quits; returns brum's exit status. */
int tui_run(const Project* prj, const TuiConfig* c);
/* Writes the cells of `c` that differ from `prev` (all of them when `full`) to stdscr, then makes
 * `prev` a copy of `c`. The caller refreshes. */
void tui_blit(const Canvas* c, Canvas* prev, bool full);
/* The output frame pace (CLOCK_MONOTONIC ns): a frame drawn at frame_ns moves the pace's clock
 * to tui_frame_tat(clock, frame_ns); output may be drawn from tui_frame_due(last frame, clock):
 * at most ~60 frames a second under a flood, the first 3 after a quiet spell 2 ms apart. */
uint64_t tui_frame_tat(uint64_t tat_ns, uint64_t frame_ns);
uint64_t tui_frame_due(uint64_t last_ns, uint64_t tat_ns);

#endif
