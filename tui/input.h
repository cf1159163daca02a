/* Reading the terminal's keys (tui/input.c). */
#ifndef BRUM_TUI_INPUT_H
#define BRUM_TUI_INPUT_H

#include <stdbool.h>
#include <stdint.h>

#include "tui/view.h"

/* Reads every key waiting on the terminal and gives each to the view (inside rcu_read_lock);
 * read_ns: when the read began (tracing). True when the screen may have changed. */
bool input_read(View* v, uint64_t read_ns);

#endif
