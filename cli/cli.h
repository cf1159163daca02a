/* Command-line options of the brum executable. */
#ifndef BRUM_CLI_CLI_H
#define BRUM_CLI_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct Options {
   const char* dir;   /* borrowed from argv; "." by default */
   const char** runs; /* owned array of borrowed strings: scripts (or `-r GLOB` globs, until main
                         expands them into the scripts they match) to start at launch */
   size_t nruns;
   bool headless, list, list_names, check, no_pty, via_pm, no_detect, help, version;
   const char* filter;     /* borrowed, NULL: none */
   const char* theme;      /* borrowed, NULL: default (or mono with NO_COLOR) */
   const char* log_path;   /* borrowed, NULL: $XDG_STATE_HOME/brum/brum.log */
   const char* prefix_key; /* borrowed, NULL: brum.yaml's prefix_key, else C-a */
   const char* stdin_to;   /* borrowed: --stdin NAME (headless: brum's stdin goes to NAME) */
   uint64_t max_lines;
   uint64_t max_bytes; /* log store memory per process */
   double kill_timeout_s;
   unsigned concurrency; /* --concurrency: `-r GLOB` scripts run at once (0: the CPU count) */
   bool max_lines_set, kill_timeout_set; /* given on the command line (over the project's) */
   const char* log_dir;   /* borrowed (argv or the Project): --log-dir, NULL: no log files */
   bool log_raw;          /* --log-raw */
   uint64_t log_max_size; /* --log-max-size (0: the project's, else 10 MiB) */
   unsigned log_keep;     /* --log-keep (0: the project's, else 3) */
   bool no_notify;        /* --no-notify */
} Options;

/* Parses argv. Returns 0, or -EINVAL with a heap message in *cause (usage error, exit 2). */
int cli_parse(int argc, char** argv, Options* o, char** cause);
void cli_done(Options* o);
void cli_usage(FILE* f);

#endif
