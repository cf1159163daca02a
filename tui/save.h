/* S: saves what the pane shows (the process's lines, its filter's matches, the errors-only view,
 * the All view with process names) to ./brum-NAME-YYYYMMDD-HHMMSS.log. The text is copied inside
 * the frame's read section (save_collect); the file is written after it (save_write, tui.c), and
 * the status line says where. */
#ifndef BRUM_TUI_SAVE_H
#define BRUM_TUI_SAVE_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "tui/view.h"

typedef struct SaveJob {
   char* text; /* owned */
   size_t len;
   uint64_t lines;
   char* name;          /* owned: safe for a file name ("web", "all") */
   bool filtered;       /* only the lines a filter matched */
   uint64_t collect_ns; /* how long the copy took (in the diagnostics log) */
   /* the write, on libuv's threadpool (~60 ms for 100,000 lines: too long for a frame) */
   uv_work_t work;
   View* view; /* borrowed: the status line to tell */
   const char* dir;
   char* path; /* owned: the file written (NULL: none) */
   int err;
   uint64_t write_ns;
   void (*done)(void* ud); /* on the loop's thread, after the message is set (a new frame) */
   void* ud;
} SaveJob;

/* Inside rcu_read_lock: v->save becomes the current view's text (false: nothing to save, the
 * status line says so). */
bool save_collect(View* v);
/* Outside the read section: writes v->save in `dir` on libuv's threadpool; once written, the
 * status line says where, and done(ud) runs on the loop's thread. v must outlive the loop's run
 * (a pending write keeps the loop alive). */
void save_start(View* v, uv_loop_t* loop, const char* dir, void (*done)(void* ud), void* ud);
void save_free(SaveJob* j);

#endif
