/* Private to the supervisor: one process's terminal (core/term.c: raw-output tail, emulator,
 * screen snapshots; core/term_io.c: the write queue and input). Supervisor thread only. */
#ifndef BRUM_CORE_TERM_INT_H
#define BRUM_CORE_TERM_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>
#include <vterm.h>

#include "core/sup_int.h"

#define TERM_RING (256u * 1024) /* raw-output tail kept per process (replay, emulator backlog) */
#define TERM_WQ (64u * 1024)    /* bytes queued for a child that does not read its input */
#define TERM_IDLE_MS 5000       /* an unwanted emulator on the primary screen lives this long */
#define TERM_FRAME_MS 16        /* screens are published at most this often */
#define TERM_FEED_BYTES (256u * 1024) /* fed to libvterm per child per loop turn at most */
#define TERM_FEED_NS 4000000ull       /* ... and for at most this long */

typedef struct TermState {
   /* the raw-output tail: the last TERM_RING bytes the child wrote (allocated at its first
    * output); offsets are counted since the process was registered */
   char* ring;        /* owned */
   uint64_t total;    /* bytes appended so far */
   uint64_t run_from; /* where the current run's output begins (replay never starts before) */
   /* the emulator (NULL: none) */
   VTerm* vt; /* owned */
   VTermScreen* vs;
   uint64_t fed;   /* ring offset fed to vt so far; total - fed is its backlog */
   bool replaying; /* what vt writes back is dropped (queries already answered) */
   bool vt_alt;    /* vt's ALTSCREEN property */
   bool cursor_visible;
   uint16_t rows, cols; /* vt's size */
   uint8_t* dirty;      /* owned, rows: rows damaged since the last snapshot */
   bool any_dirty;
   uint64_t pub_ms;       /* when a screen was last published */
   unsigned want;         /* sup_term_want(true) minus (false) */
   bool restore_size;     /* a forced redraw shrank the PTY: give the size back on the next tick */
   uint64_t parser_modes; /* last ansi_modes seen */
   uv_timer_t* tick;      /* owned: feeding the backlog, publishing held-back damage */
   uv_timer_t* idle;      /* owned: drops an emulator no longer needed */
   /* its own size (sup_resize_proc); 0: the supervisor's */
   uint16_t own_cols, own_rows;
   /* input */
   char* wq; /* owned, TERM_WQ, at the first queued byte */
   size_t wq_head, wq_len;
   bool wq_warned;     /* a drop was reported (once per run) */
   bool eof_after;     /* pipe: close it once the queue is written */
   char last_sent;     /* the last byte written or queued for the child (0: none this run) */
   int in_fd;          /* --no-pty: the write end of the child's stdin pipe; -1: none */
   uv_poll_t* in_poll; /* owned: in_fd writable */
} TermState;

/* core/term_io.c */
void term_write(Proc* p, const char* b, size_t n); /* to the child's input, through the queue */
void term_flush(Proc* p);                          /* its terminal is writable */
bool term_wants_write(const Proc* p);              /* bytes wait for a PTY that is writable */
void term_io_free(TermState* t);

/* core/term.c */
uint16_t term_cols(const Proc* p);
uint16_t term_rows(const Proc* p);
void term_publish(Proc* p, bool now); /* a new screen snapshot (now, or within TERM_FRAME_MS) */
void term_evaluate(Proc* p);          /* creates or schedules the drop of the emulator as needed */
void term_poll_modes(Proc* p);        /* the parser's modes changed? */
void term_catch_up(Proc* p);          /* the output ended: feed the whole backlog, publish now */
/* Row r of a libvterm screen as TermCells (colours mapped to core/style.h); unit-tested. */
void term_read_row(VTermScreen* vs, TermCell* row, int r, int cols);

#endif
