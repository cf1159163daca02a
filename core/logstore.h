/* Per-process log store: one writer thread (the supervisor), any number of lock-free readers.
 *
 * Lines live in fixed-size chunks (a slotted block: line records grow from the front, text and
 * style runs from the back). The writer fills a line, then publishes the new end with a release
 * store; readers load-acquire the end and may read any line below it. Global 64-bit line numbers
 * stay valid as old chunks are evicted: evicted chunks are reclaimed with call_rcu, so every
 * reader call below must run inside an RCU read-side section (rcu_read_lock) on a registered
 * thread, and a LogLine view is valid only until that section ends. */
#ifndef BRUM_CORE_LOGSTORE_H
#define BRUM_CORE_LOGSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/style.h"

#define LOGSTORE_MAX_LINE (64u * 1024u) /* longer lines are split, the rest flagged continued */
#define LOGSTORE_MAX_RUNS 1024u         /* more style runs than this in one line split it too */

enum {
   LINE_ERROR = 1u << 0,
   LINE_WARNING = 1u << 1,
   LINE_URL = 1u << 2,
   LINE_CONTINUED = 1u << 3, /* continues the previous line (it was split at LOGSTORE_MAX_LINE) */
   LINE_GROUPED = 1u << 4,   /* belongs to the error/warning entry started above (stack frame) */
   LINE_MARKER = 1u << 5,    /* written by brum itself (start/exit banners), not by the child */
   LINE_CLEAR = 1u << 6,     /* with LINE_MARKER: the child cleared its screen here (the separator
                                "── screen cleared HH:MM:SS ──"); a pane anchors its view on the
                                last one, as a terminal shows what follows a clear from its top */
}; /* the store keeps one byte of flags per line: new ones must stay below 1 << 8 */

typedef struct LogStoreConfig {
   uint64_t max_lines;   /* retention bound (default 100,000) */
   uint64_t max_bytes;   /* retention bound on chunk memory (default 256 MiB) */
   bool keep_unconsumed; /* one consumer (headless): never evict a line it has not taken; the
                            writer must pause while logstore_backlogged() says so */
   bool detect_later;    /* lines are appended unflagged and detected by another thread, which
                            advances logstore_detected(): never evict a line before it is
                            detected; logstore_backlogged() also counts the undetected lines */
} LogStoreConfig;

/* A read-only view of one line; valid until the reader's RCU read section ends. */
typedef struct LogLine {
   uint64_t lineno;  /* global line number */
   uint64_t time_ms; /* wall clock when the line was completed */
   const char* text; /* `len` bytes, SGR removed, not NUL-terminated, may be invalid UTF-8 */
   uint32_t len;
   uint16_t flags; /* LINE_* */
   uint16_t nruns;
   const StyleRun* runs; /* nruns entries, sorted by start */
} LogLine;

typedef struct LogStore LogStore;

LogStore* logstore_new(const LogStoreConfig* cfg); /* NULL cfg: defaults */
/* Frees everything at once: only when no reader can still be inside a read section on it
 * (after the threads that read it have left, or from a call_rcu callback). */
void logstore_free(LogStore* ls);

/* ---- writer side: one thread only ---- */
/* Appends one complete line (a longer one is split into LINE_CONTINUED pieces). Runs must be
 * sorted; runs starting at or past len are dropped. Returns the global number of its first piece.
 * LINE_CONTINUED in flags is kept (a piece the output parser cut, see ansi_line_continued). */
uint64_t logstore_append(LogStore* ls, const char* text, uint32_t len, const StyleRun* runs,
                         uint16_t nruns, uint16_t flags, uint64_t time_ms);
/* Sets flags on an already published line (detection that marks a line after the fact). Any
 * thread, inside rcu_read_lock (the detector's, with detect_later; a line evicted meanwhile is
 * skipped). Readers see the new flags with a relaxed load, and all of them once they have
 * loaded a logstore_detected() above the line. */
void logstore_add_flags(LogStore* ls, uint64_t lineno, uint16_t flags);
/* detect_later: the detector's mark, lines below `upto` are detected (release: their flags are
 * set before). One thread at a time (the caller serialises detection). */
void logstore_set_detected(LogStore* ls, uint64_t upto);
/* The unfinished last line (a prompt or a `\r` progress bar): readers see it after the committed
 * lines until a complete line replaces it. len 0 clears it. Copies the data. */
void logstore_set_partial(LogStore* ls, const char* text, uint32_t len, const StyleRun* runs,
                          uint16_t nruns, uint64_t time_ms);

/* With keep_unconsumed (or detect_later): true while the lines not yet consumed (or not yet
 * detected) reach half of max_lines, or their chunks half of max_bytes; the writer should stop
 * adding lines until it turns false again. It is false once every line is consumed, so pausing on
 * it and resuming when it clears cannot deadlock, and memory stays within the limits plus what the
 * writer adds after it turned true. */
bool logstore_backlogged(const LogStore* ls);

/* ---- the consumer of a keep_unconsumed store: one thread, no read section needed ---- */
/* Lines below `upto` are taken (printed): retention may evict them again. */
void logstore_consume(LogStore* ls, uint64_t upto);

/* ---- reader side: any thread, inside rcu_read_lock ---- */
uint64_t logstore_begin(const LogStore* ls); /* first retained line */
uint64_t logstore_end(const LogStore* ls);   /* one past the last committed line */
/* Fills *out for line `lineno`; false when it was evicted or is not committed yet. */
bool logstore_get(const LogStore* ls, uint64_t lineno, LogLine* out);
/* Lines below it carry their final detection flags (acquire): without detect_later, the end.
 * A reader of flags (a find for the next error) waits at it rather than skip a line. */
uint64_t logstore_detected(const LogStore* ls);
/* The unfinished last line, if any (lineno is logstore_end()). */
bool logstore_partial(const LogStore* ls, LogLine* out);
/* Counters for the UI and the benchmarks (relaxed loads). */
uint64_t logstore_bytes(const LogStore* ls);   /* chunk memory currently retained */
uint64_t logstore_evicted(const LogStore* ls); /* lines dropped by retention so far */

/* Sequential reads without a lookup per line (filter scans, headless printing, merged views).
 * Valid only inside one read section. */
typedef struct LogIter {
   const LogStore* ls;
   const void* chunk; /* current chunk, opaque */
   uint64_t next;     /* next line number to read */
} LogIter;
void logiter_init(LogIter* it, const LogStore* ls,
                  uint64_t from); /* from < begin: starts at begin */
/* False at end (the end loaded at each call). Lines evicted meanwhile are skipped: a caller that
 * must not miss one compares out->lineno with the number it expected. */
bool logiter_next(LogIter* it, LogLine* out);
/* logstore_add_flags for the line the last logiter_next returned, without looking it up again
 * (the detection thread's per-line path). Same rules: detection only, one thread at a time. */
void logiter_add_flags(LogIter* it, uint16_t flags);

#endif
