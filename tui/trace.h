/* BRUM_TRACE=FILE: where the time between a key and the frame that shows it goes. The main thread
 * records, for every frame that answers a key, when the key was read, when the frame began, and how
 * long building the canvas, copying it to curses and writing the terminal took; at exit the
 * records go to FILE, one line each, after a summary of every frame drawn. Off (no cost but a
 * branch) when the variable is unset. */
#ifndef BRUM_TUI_TRACE_H
#define BRUM_TUI_TRACE_H

#include <stdbool.h>
#include <stdint.h>

/* The phases of one frame, CLOCK_MONOTONIC ns. */
typedef struct TraceFrame {
   uint64_t start, drawn, blitted, refreshed;
} TraceFrame;

extern bool trace_on;

/* Reads BRUM_TRACE; a file that cannot be created is reported on stderr and tracing stays off. */
void trace_open(void);
/* A key that changed the view was read at `ns`; the next frame answers it. */
void trace_key(uint64_t ns);
/* A frame was drawn. */
void trace_frame(const TraceFrame* f);
/* Writes the records and closes the file. */
void trace_close(void);

#endif
