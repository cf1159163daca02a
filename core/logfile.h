/* Log files (--log-dir): each process's output appended to DIR/NAME.log, a header line per run,
 * rotated by size. The supervisor appends records to a bounded buffer (never waits for the disk);
 * a writer thread of its own writes them. What does not fit is dropped, counted, and said in the
 * file ("=== 1234 lines dropped: the disk was too slow ==="). */
#ifndef BRUM_CORE_LOGFILE_H
#define BRUM_CORE_LOGFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct LogFileConfig {
   const char* dir;   /* NULL: no log files (the rest is unused) */
   bool raw;          /* the bytes as read (escape sequences kept), not the plain lines */
   uint64_t max_size; /* rotate a file before it grows past this (0: 10 MiB) */
   unsigned keep;     /* rotated files kept: NAME.log.1 ... NAME.log.keep (0: 3) */
   size_t buffer;     /* bytes the supervisor may have waiting for the writer (0: 4 MiB) */
   /* called on the writer thread when a file fails ("log file DIR/NAME.log: ...: No space
    * left on device; NAME is not logged any more"); must not block. NULL: util_log only */
   void (*on_error)(void* ud, const char* text);
   void* ud;
} LogFileConfig;

typedef struct LogFiles LogFiles;
typedef struct LogSink LogSink; /* one process's file, owned by its LogFiles */

/* Creates the directory (and its parents) and starts the writer. -errno, *cause says why. */
int logfiles_new(const LogFileConfig* cfg, LogFiles** out, char** cause);
/* Writes what is buffered, joins the writer, closes the files. */
void logfiles_free(LogFiles* lf);

/* ---- one thread only (the supervisor) ---- */
/* The sink of a process called `name` (the same one for the same name). */
LogSink* logfiles_sink(LogFiles* lf, const char* name);
/* A run begins: "=== 2026-12-02 12:03:04 run 2: COMMAND ===". */
void logsink_run(LogSink* s, unsigned run, const char* command);
/* A complete line (plain mode; ignored in raw mode unless `marker`: brum's own lines are kept in
 * both). `continued`: it continues the previous piece of a long line. */
void logsink_line(LogSink* s, const char* text, size_t len, bool continued, bool marker);
/* Bytes as read from the child (raw mode only; ignored otherwise). */
void logsink_raw(LogSink* s, const char* bytes, size_t n);
bool logfiles_raw(const LogFiles* lf);

/* ---- helpers, and hooks for tests ---- */
/* NAME made safe for a file name: '/', '%' and control characters percent-encoded
 * ("@vitejs/plugin-legacy:build" -> "@vitejs%2Fplugin-legacy:build"), at most 200 bytes. */
char* logfile_safe_name(const char* name);
/* Tests: hold the writer (it writes nothing until released), to fill the buffer. */
void logfiles_hold(LogFiles* lf, bool hold);
/* Tests: waits until the writer has written everything appended so far. */
void logfiles_sync(LogFiles* lf);
uint64_t logfiles_dropped(LogFiles* lf); /* lines dropped so far, every sink */

#endif
