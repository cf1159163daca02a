#include "cli/cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

void cli_usage(FILE* f) {
   fputs(
       "usage: brum [-d DIR] [--run SCRIPT]... [SCRIPT...] [options]\n"
       "       brum ctl COMMAND ...   drive the brum running for a project (brum ctl --help)\n"
       "       brum mcp [-d DIR]      an MCP server for coding agents (brum mcp --help)\n"
       "\n"
       "Runs a project's package.json scripts and the processes of its brum.yaml, Procfile and\n"
       "process-compose.yaml as supervised processes and shows their output. From a\n"
       "subdirectory, brum finds the project above it, as npm does.\n"
       "\n"
       "options:\n"
       "  -d, --dir DIR            project directory (default: the current directory)\n"
       "  -r, --run SCRIPT         start SCRIPT at launch (repeatable; same as a positional "
       "SCRIPT)\n"
       "  -r, --run GLOB           a name with * ? or [ is a glob over PACKAGE:SCRIPT (`*` "
       "matches\n"
       "                           / and @ too): start the script in every package that has it\n"
       "                           ('*:build'), after the workspace packages it depends on, as\n"
       "                           one sidebar group with a combined result (`build 3/3 ok`);\n"
       "                           headless: the first failure stops the rest\n"
       "      --concurrency N      -r GLOB: at most N of its scripts at once (default: the CPUs)\n"
       "      --headless           no UI: print every line as [script] text, exit when the named\n"
       "                           scripts end (their dependencies start first, stop last)\n"
       "  -f, --filter REGEX       only lines matching REGEX (PCRE2, smart-case; TUI: the first "
       "pane)\n"
       "  -l, --list               print the package manager and the processes, then exit\n"
       "      --list-names         print the process names, one per line (shell completion)\n"
       "      --check              check the project files (package.json, brum.yaml, Procfile,\n"
       "                           process-compose.yaml) and exit: 0, or 2 with the errors\n"
       "      --max-lines N        lines kept per process (default 100000)\n"
       "      --max-bytes N[K|M|G] log memory kept per process (default 256M)\n"
       "      --no-pty             run scripts with pipes instead of a terminal\n"
       "      --stdin NAME         headless: brum's standard input goes to the script NAME\n"
       "                           (end of input: the terminal's EOF, or the pipe closed)\n"
       "      --via-pm             run scripts through the package manager (npm run NAME), not\n"
       "                           directly as it would\n"
       "      --shell              what the default does (an alias kept for old command lines)\n"
       "      --no-detect          no error, warning and URL detection\n"
       "      --kill-timeout SECS  grace period between SIGTERM and SIGKILL (default 5)\n"
       "      --theme NAME|PATH    colour theme (default, light, high-contrast, mono)\n"
       "      --prefix-key KEY     input mode's prefix key (default C-a; brum.yaml: prefix_key)\n"
       "      --log FILE           diagnostics log (default $XDG_STATE_HOME/brum/brum.log)\n"
       "      --log-dir DIR        write each process's output to DIR/NAME.log (plain text, a\n"
       "                           header line per run; brum.yaml: log_dir)\n"
       "      --log-raw            log files keep the raw output (escape sequences and all)\n"
       "      --log-max-size N[K|M|G]  rotate a log file at this size (default 10M)\n"
       "      --log-keep N         rotated files kept: NAME.log.1 ... NAME.log.N (default 3)\n"
       "      --no-notify          no bell or desktop notification when a process fails or its\n"
       "                           tests turn red while not shown (brum.yaml: notifications)\n"
       "  -V, --version            print the version and exit\n"
       "  -h, --help               print this help and exit\n"
       "\n"
       "in the UI: ? lists every key; Ctrl-P finds a process by name, package or command;\n"
       "workspace packages are sidebar groups (Left/Right fold them); H shows lifecycle scripts\n"
       "\n"
       "exit status: 0 ok; 2 usage or project error; headless: the code of the first script to\n"
       "fail (128+N when a signal N ended it; 1 when a dependency kept it from starting)\n",
       f);
}

/* Long options without a short form. */
enum {
   OPT_HEADLESS = 256,
   OPT_MAX_LINES,
   OPT_MAX_BYTES,
   OPT_NO_PTY,
   OPT_SHELL,
   OPT_VIA_PM,
   OPT_NO_DETECT,
   OPT_KILL,
   OPT_THEME,
   OPT_LOG,
   OPT_CHECK,
   OPT_LIST_NAMES,
   OPT_CONCURRENCY,
   OPT_PREFIX,
   OPT_STDIN,
   OPT_LOG_DIR,
   OPT_LOG_RAW,
   OPT_LOG_MAX_SIZE,
   OPT_LOG_KEEP,
   OPT_NO_NOTIFY
};

/* Digits only: strtoull alone would take " 5", "+5" and "-5" (as a huge number). */
static int parse_u64(const char* s, uint64_t* out) {
   if (!*s || strspn(s, "0123456789") != strlen(s)) return -EINVAL;
   char* end;
   errno = 0;
   unsigned long long v = strtoull(s, &end, 10);
   if (errno || *end || v == 0) return -EINVAL;
   *out = v;
   return 0;
}

/* A positive byte count with an optional K, M or G suffix (powers of 1024); digits as parse_u64. */
static int parse_size(const char* s, uint64_t* out) {
   size_t n = strlen(s);
   unsigned shift = 0;
   const char* units = "KkMmGg";
   const char* u = n ? strchr(units, s[n - 1]) : NULL;
   if (u && *u) shift = 10u * (unsigned)((u - units) / 2 + 1), n--;
   char digits[32];
   if (n == 0 || n >= sizeof digits) return -EINVAL;
   memcpy(digits, s, n);
   digits[n] = '\0';
   uint64_t v;
   if (parse_u64(digits, &v) < 0 || v > (UINT64_MAX >> shift)) return -EINVAL;
   *out = v << shift;
   return 0;
}

/* The options that take a number; a bad value is a usage error with the reason. */
static int parse_number(int opt, const char* arg, Options* o, char** cause) {
   double secs;
   uint64_t n;
   switch (opt) {
   case OPT_CONCURRENCY:
      if (parse_u64(arg, &n) == 0 && n <= 4096) return (o->concurrency = (unsigned)n), 0;
      *cause = xasprintf("--concurrency needs a whole number from 1 to 4096, not '%s'", arg);
      return -EINVAL;
   case OPT_MAX_LINES:
      if (parse_u64(arg, &o->max_lines) == 0) return (o->max_lines_set = true), 0;
      *cause = xasprintf("--max-lines needs a positive whole number, not '%s'", arg);
      return -EINVAL;
   case OPT_MAX_BYTES:
      if (parse_size(arg, &o->max_bytes) == 0) return 0;
      *cause = xasprintf("--max-bytes needs a positive size (like 4096, 64K, 16M), not '%s'", arg);
      return -EINVAL;
   case OPT_LOG_MAX_SIZE:
      if (parse_size(arg, &o->log_max_size) == 0) return 0;
      *cause = xasprintf("--log-max-size needs a positive size (like 512K, 10M), not '%s'", arg);
      return -EINVAL;
   case OPT_LOG_KEEP: {
      uint64_t k;
      if (parse_u64(arg, &k) == 0 && k <= 100) return (o->log_keep = (unsigned)k), 0;
      *cause = xasprintf("--log-keep needs a whole number from 1 to 100, not '%s'", arg);
      return -EINVAL;
   }
   default: /* --kill-timeout */
      if (util_parse_seconds(arg, 3600, &secs) == 0) {
         o->kill_timeout_s = secs > 0 ? secs : 0.001;
         o->kill_timeout_set = true;
         return 0;
      }
      *cause = xasprintf("--kill-timeout needs seconds between 0 and 3600, not '%s'", arg);
      return -EINVAL;
   }
}

int cli_parse(int argc, char** argv, Options* o, char** cause) {
   static const struct option longopts[] = {
       {"dir", required_argument, NULL, 'd'},
       {"run", required_argument, NULL, 'r'},
       {"headless", no_argument, NULL, OPT_HEADLESS},
       {"filter", required_argument, NULL, 'f'},
       {"list", no_argument, NULL, 'l'},
       {"list-names", no_argument, NULL, OPT_LIST_NAMES},
       {"check", no_argument, NULL, OPT_CHECK},
       {"max-lines", required_argument, NULL, OPT_MAX_LINES},
       {"max-bytes", required_argument, NULL, OPT_MAX_BYTES},
       {"no-pty", no_argument, NULL, OPT_NO_PTY},
       {"shell", no_argument, NULL, OPT_SHELL},
       {"via-pm", no_argument, NULL, OPT_VIA_PM},
       {"no-detect", no_argument, NULL, OPT_NO_DETECT},
       {"kill-timeout", required_argument, NULL, OPT_KILL},
       {"theme", required_argument, NULL, OPT_THEME},
       {"log", required_argument, NULL, OPT_LOG},
       {"concurrency", required_argument, NULL, OPT_CONCURRENCY},
       {"prefix-key", required_argument, NULL, OPT_PREFIX},
       {"stdin", required_argument, NULL, OPT_STDIN},
       {"log-dir", required_argument, NULL, OPT_LOG_DIR},
       {"log-raw", no_argument, NULL, OPT_LOG_RAW},
       {"log-max-size", required_argument, NULL, OPT_LOG_MAX_SIZE},
       {"log-keep", required_argument, NULL, OPT_LOG_KEEP},
       {"no-notify", no_argument, NULL, OPT_NO_NOTIFY},
       {"version", no_argument, NULL, 'V'},
       {"help", no_argument, NULL, 'h'},
       {NULL, 0, NULL, 0},
   };
   memset(o, 0, sizeof *o);
   o->dir = ".";
   o->max_lines = 100000;
   o->max_bytes = 256u << 20;
   o->kill_timeout_s = 5.0;
   o->runs = xcalloc((size_t)argc + 1, sizeof *o->runs);
   opterr = 0;
   optind = 1;
   int c;
   while ((c = getopt_long(argc, argv, ":d:r:f:lVh", longopts, NULL)) != -1) {
      switch (c) {
      case 'd':
         o->dir = optarg;
         break;
      case 'r':
         o->runs[o->nruns++] = optarg;
         break;
      case 'f':
         o->filter = optarg;
         break;
      case 'l':
         o->list = true;
         break;
      case 'V':
         o->version = true;
         break;
      case 'h':
         o->help = true;
         break;
      case OPT_LIST_NAMES:
         o->list_names = true;
         break;
      case OPT_CHECK:
         o->check = true;
         break;
      case OPT_HEADLESS:
         o->headless = true;
         break;
      case OPT_NO_PTY:
         o->no_pty = true;
         break;
      case OPT_STDIN:
         o->stdin_to = optarg;
         break;
      case OPT_SHELL: /* scripts run directly by default now: nothing left to switch */
         break;
      case OPT_VIA_PM:
         o->via_pm = true;
         break;
      case OPT_NO_DETECT:
         o->no_detect = true;
         break;
      case OPT_THEME:
         o->theme = optarg;
         break;
      case OPT_LOG:
         o->log_path = optarg;
         break;
      case OPT_PREFIX: /* checked by the UI (view_parse_prefix), which owns what keys mean */
         o->prefix_key = optarg;
         break;
      case OPT_LOG_DIR:
         if (!*optarg) {
            *cause = xstrdup("--log-dir needs a directory, not an empty name");
            return -EINVAL;
         }
         o->log_dir = optarg;
         break;
      case OPT_LOG_RAW:
         o->log_raw = true;
         break;
      case OPT_NO_NOTIFY:
         o->no_notify = true;
         break;
      case OPT_MAX_LINES:
      case OPT_MAX_BYTES:
      case OPT_LOG_MAX_SIZE:
      case OPT_LOG_KEEP:
      case OPT_KILL:
      case OPT_CONCURRENCY:
         if (parse_number(c, optarg, o, cause) < 0) return -EINVAL;
         break;
      case ':':
         *cause = xasprintf("option '%s' needs a value", argv[optind - 1]);
         return -EINVAL;
      default:
         *cause = xasprintf("unknown option '%s' (see brum --help)", argv[optind - 1]);
         return -EINVAL;
      }
   }
   for (int i = optind; i < argc; i++) o->runs[o->nruns++] = argv[i];
   if (o->stdin_to && !o->headless) {
      char* name = util_sanitize(o->stdin_to);
      *cause = xasprintf("--stdin %s needs --headless (the UI sends keys with i and :)", name);
      free(name);
      return -EINVAL;
   }
   return 0;
}

void cli_done(Options* o) {
   free(o->runs);
   o->runs = NULL;
}
