/* Log intelligence on the supervisor thread: classifies each line as it arrives (error, warning,
 * URL, stack frame grouped under the error above), groups errors with their stack traces, collects
 * URLs and test/build results. One Detector per process; its findings are published as an
 * immutable DetectSnap (RCU) that the UI reads. */
#ifndef BRUM_CORE_DETECT_H
#define BRUM_CORE_DETECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/rcu.h"

typedef enum DetectKind { DETECT_ERROR = 1, DETECT_WARNING = 2 } DetectKind;

/* An error or warning with the lines that belong to it (stack frames, code frame, ...). */
typedef struct DetectEntry {
   DetectKind kind;
   uint64_t first_line, last_line; /* global line numbers in the process's log store */
   uint64_t time_ms;
   const char* title; /* e.g. "TypeError: x is not a function" */
   const char*
       location;     /* first in-project "path:line:col", preferring non-node_modules; or NULL */
   const char* rule; /* which rule matched, e.g. "ts", "jest", "python" */
} DetectEntry;

typedef struct DetectUrl {
   const char* url;   /* trailing punctuation trimmed */
   const char* label; /* "Local", "Network", "listening on", or "" */
   uint64_t lineno, time_ms;
} DetectUrl;

typedef enum BuildResult { BUILD_NONE, BUILD_OK, BUILD_FAILED } BuildResult;

typedef struct DetectTests {
   bool seen; /* a summary line was found */
   uint32_t passed, failed, skipped, total;
   const char* framework; /* "jest", "vitest", "mocha", "node:test", "go", "pytest", "cargo" */
} DetectTests;

/* Immutable once published. One allocation (strings inline) so call_rcu frees it at once. */
typedef struct DetectSnap {
   uint64_t errors, warnings; /* entries found so far (including ones dropped from the list) */
   uint32_t nentries;         /* newest last; at most DETECT_MAX_ENTRIES kept */
   uint32_t nurls;            /* first seen first; deduplicated */
   const DetectEntry* entries;
   const DetectUrl* urls;
   DetectTests tests;
   BuildResult build;
   struct rcu_head rcu;
} DetectSnap;

#define DETECT_MAX_ENTRIES 500
#define DETECT_MAX_URLS 32
/* An entry spans at most this many lines: a runaway group (an endless trace) stops. */
#define DETECT_GROUP_MAX_LINES 400

typedef struct Detector Detector;

Detector* detect_new(void);
void detect_free(Detector* d);
/* Classifies one complete line (SGR removed) that will be stored as `lineno`. Returns LINE_*
 * flags for it (LINE_ERROR, LINE_WARNING, LINE_URL, LINE_GROUPED). */
uint16_t detect_line(Detector* d, const char* text, uint32_t len, uint64_t lineno,
                     uint64_t time_ms);
/* A new run of the process starts (restart): ends open groups; keeps entries and URLs. */
void detect_restart(Detector* d);
/* (URLs stay after the process ends; the UI marks them stale by the process state.) */
bool detect_changed(const Detector* d);   /* something new since the last snapshot */
DetectSnap* detect_snapshot(Detector* d); /* a fresh immutable copy; clears `changed` */
void detect_snap_free_rcu(struct rcu_head* head);

/* A note brum adds about line `lineno` (who holds the port a server failed to bind): appended to
 * the title of the entry that holds the line, else an error entry of its own (rule "port"). */
void detect_note(Detector* d, uint64_t lineno, uint64_t time_ms, const char* note);

/* Introspection for tests and diagnostics: the built-in rules by unique id (e.g. "ts-paren"),
 * and the first rule the last detect_line call matched (NULL: none). */
size_t detect_rule_count(void);
const char* detect_rule_id(size_t i);
const char* detect_last_rule(const Detector* d);
/* Whether the last line detect_line classified may say "in use" (case-folded): the one screen
 * the port-in-use check (portuse_parse_line) needs, so other lines skip it. */
bool detect_last_in_use(const Detector* d);
/* For tests and benchmarks: which implementation of the trigger scan runs (all find the same).
 * Process-wide; call while no other thread detects. A level the CPU lacks, or -1, selects the
 * best it has. Returns the level in use. */
enum { DETECT_SCAN_PORTABLE = 0, DETECT_SCAN_SSSE3 = 1 };
int detect_set_scan(int level);

#endif
