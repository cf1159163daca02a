/* `brum ctl`: one request (or a follow loop) to the instance serving a directory, its reply
 * printed for people (aligned columns, colour on a terminal) or as raw JSON (--json). */
#include "cli/ctl.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/ctl_client.h"
#include "core/util.h"

enum { EXIT_FAIL = 1, EXIT_USAGE = 2 };
enum { MAX_LIMIT = 10000, MAX_WAIT_S = 600, FOLLOW_WAIT_S = 30, FOLLOW_LIMIT = 1000 };
/* Time for an answer beyond what the request itself may wait on the server. */
enum { MARGIN_MS = 15000 };

/* Options, as bits: each subcommand says which it takes. */
enum {
   O_FOLLOW = 1 << 0,
   O_CURSOR = 1 << 1,
   O_LIMIT = 1 << 2,
   O_FILTER = 1 << 3,
   O_FOR = 1 << 4,
   O_TIMEOUT = 1 << 5,
   O_FROM = 1 << 6,
   O_WAIT = 1 << 7,
};

typedef struct Args {
   const char* dir; /* borrowed from argv */
   bool json, help;
   unsigned given;                               /* O_* bits seen */
   const char *cursor, *filter, *pattern, *from; /* borrowed */
   long limit;
   double timeout_s;
   const char* cmd; /* borrowed */
   char** names;    /* borrowed from argv */
   size_t nnames;
} Args;

typedef struct Ctx {
   const Args* a;
   CtlClient* c;
   CtlInstance in;
   bool color;
   bool follow; /* the instance's end is the end of the output, not a failure */
   int next_id;
} Ctx;

typedef int (*CmdFn)(Ctx* x);
/* How many names a subcommand takes. */
typedef enum { NAMES_NONE, NAMES_ONE_OPT, NAMES_ONE, NAMES_SOME } NamesRule;
typedef struct Cmd {
   const char* name;
   CmdFn fn;
   unsigned opts;
   NamesRule names;
} Cmd;

static void usage(FILE* f) {
   fputs("usage: brum ctl [-d DIR] [--json] COMMAND [ARGS]\n"
         "\n"
         "Controls the brum running for a project from another shell (through its socket).\n"
         "\n"
         "commands:\n"
         "  ps                          the processes: state, pid, uptime, CPU, RSS, ports, URL\n"
         "  start NAME... [-w]          start processes (-w, --wait: until ready, --timeout S)\n"
         "  stop NAME...                stop processes (SIGTERM, then SIGKILL after the grace)\n"
         "  restart NAME... [-w]        stop and start again\n"
         "  kill NAME...                SIGKILL at once\n"
         "  logs [NAME] [-f] [-n N] [--cursor C] [--filter RE]\n"
         "                              the last N lines (default 100) of NAME, or of all\n"
         "                              processes as 'name | text'; -f, --follow keeps printing\n"
         "                              new lines; --cursor C (from --json's next_cursor): only\n"
         "                              the lines after C\n"
         "  errors                      the errors and warnings detected\n"
         "  urls                        the URLs the processes printed\n"
         "  wait NAME --for RE [--timeout S] [--from now|start|CURSOR]\n"
         "                              until a line of NAME's current run matches RE (default\n"
         "                              from start: lines already printed count; 30 s)\n"
         "  quit                        stop every process and quit that brum\n"
         "\n"
         "options:\n"
         "  -d, --dir DIR   the project (default: the current directory); the brum whose project\n"
         "                  is DIR or its nearest parent is used\n"
         "      --json      print the raw replies, one JSON object per line\n"
         "  -h, --help      print this help and exit\n"
         "\n"
         "exit status: 0 ok; 1 the operation failed (unknown process, wait timed out, the process\n"
         "exited); 2 usage error, or no brum running for DIR\n",
         f);
}

/* ---- options ---- */

static const char* opt_name(unsigned bit) {
   switch (bit) {
   case O_FOLLOW:
      return "--follow";
   case O_CURSOR:
      return "--cursor";
   case O_LIMIT:
      return "-n";
   case O_FILTER:
      return "--filter";
   case O_FOR:
      return "--for";
   case O_TIMEOUT:
      return "--timeout";
   case O_FROM:
      return "--from";
   default:
      return "--wait";
   }
}

/* Decimal seconds (util_parse_seconds); 0 < value <= max. */
static int parse_secs(const char* s, double max, double* out) {
   double v;
   int err = util_parse_seconds(s, max, &v);
   if (err < 0) return err;
   if (v <= 0) return -EINVAL;
   *out = v;
   return 0;
}

static int parse_limit(const char* s, long* out) {
   if (!*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 6) return -EINVAL;
   long v = atol(s);
   if (v < 1 || v > MAX_LIMIT) return -EINVAL;
   *out = v;
   return 0;
}

enum { OPT_JSON = 256, OPT_CURSOR, OPT_FILTER, OPT_FOR, OPT_TIMEOUT, OPT_FROM };

/* One option's value into a; -EINVAL with *cause for a bad one. */
static int take_opt(int c, Args* a, char** cause) {
   switch (c) {
   case 'd':
      a->dir = optarg;
      return 0;
   case 'h':
      a->help = true;
      return 0;
   case OPT_JSON:
      a->json = true;
      return 0;
   case 'f':
      a->given |= O_FOLLOW;
      return 0;
   case 'w':
      a->given |= O_WAIT;
      return 0;
   case OPT_CURSOR:
      a->given |= O_CURSOR, a->cursor = optarg;
      return 0;
   case OPT_FILTER:
      a->given |= O_FILTER, a->filter = optarg;
      return 0;
   case OPT_FOR:
      a->given |= O_FOR, a->pattern = optarg;
      return 0;
   case OPT_FROM:
      a->given |= O_FROM, a->from = optarg;
      return 0;
   case 'n':
      a->given |= O_LIMIT;
      if (parse_limit(optarg, &a->limit) == 0) return 0;
      *cause = xasprintf("-n needs a whole number from 1 to %d, not '%s'", MAX_LIMIT, optarg);
      return -EINVAL;
   case OPT_TIMEOUT:
      a->given |= O_TIMEOUT;
      if (parse_secs(optarg, MAX_WAIT_S, &a->timeout_s) == 0) return 0;
      *cause =
          xasprintf("--timeout needs seconds above 0 and at most %d, not '%s'", MAX_WAIT_S, optarg);
      return -EINVAL;
   default:
      return -EINVAL;
   }
}

static int parse_args(int argc, char** argv, Args* a, char** cause) {
   static const struct option longopts[] = {
       {"dir", required_argument, NULL, 'd'},
       {"json", no_argument, NULL, OPT_JSON},
       {"help", no_argument, NULL, 'h'},
       {"follow", no_argument, NULL, 'f'},
       {"wait", no_argument, NULL, 'w'},
       {"lines", required_argument, NULL, 'n'},
       {"cursor", required_argument, NULL, OPT_CURSOR},
       {"filter", required_argument, NULL, OPT_FILTER},
       {"for", required_argument, NULL, OPT_FOR},
       {"timeout", required_argument, NULL, OPT_TIMEOUT},
       {"from", required_argument, NULL, OPT_FROM},
       {NULL, 0, NULL, 0},
   };
   memset(a, 0, sizeof *a);
   a->dir = ".";
   a->limit = 100;
   a->timeout_s = 30;
   opterr = 0;
   optind = 1;
   int c;
   while ((c = getopt_long(argc, argv, ":d:hfwn:", longopts, NULL)) != -1) {
      if (c == ':') {
         *cause = xasprintf("option '%s' needs a value", argv[optind - 1]);
         return -EINVAL;
      }
      if (c == '?') {
         *cause = xasprintf("unknown option '%s'", argv[optind - 1]);
         return -EINVAL;
      }
      if (take_opt(c, a, cause) < 0) return -EINVAL;
   }
   if (optind < argc) a->cmd = argv[optind++];
   a->names = argv + optind;
   a->nnames = (size_t)(argc - optind);
   return 0;
}

/* Each subcommand's options and names, checked before anything is sent. */
static int check_args(const Args* a, const Cmd* cmd, char** cause) {
   unsigned extra = a->given & ~cmd->opts;
   if (extra) {
      unsigned bit = extra & -extra;
      *cause = xasprintf("%s does not apply to '%s'", opt_name(bit), cmd->name);
      return -EINVAL;
   }
   if ((a->given & O_TIMEOUT) && cmd->opts & O_WAIT && !(a->given & O_WAIT)) {
      *cause = xasprintf("--timeout applies to '%s' only with --wait", cmd->name);
      return -EINVAL;
   }
   switch (cmd->names) {
   case NAMES_NONE:
      if (a->nnames == 0) return 0;
      *cause = xasprintf("'%s' takes no process names", cmd->name);
      return -EINVAL;
   case NAMES_ONE_OPT:
      if (a->nnames <= 1) return 0;
      *cause = xasprintf("'%s' takes at most one process name", cmd->name);
      return -EINVAL;
   case NAMES_ONE:
      if (a->nnames == 1) break;
      *cause = xasprintf("'%s' needs exactly one process name", cmd->name);
      return -EINVAL;
   case NAMES_SOME:
      if (a->nnames >= 1) return 0;
      *cause = xasprintf("'%s' needs at least one process name (see brum ctl ps)", cmd->name);
      return -EINVAL;
   }
   if (cmd->opts & O_FOR && !a->pattern) {
      *cause = xasprintf("'%s' needs --for REGEX: the line to wait for", cmd->name);
      return -EINVAL;
   }
   return 0;
}

/* ---- printing ---- */

enum { GREEN = 32, RED = 31, YELLOW = 33 };

static void print_json(const json_t* j) {
   char* s = json_dumps(j, JSON_COMPACT);
   if (s) puts(s);
   free(s);
}

/* Text from the server, safe for a terminal (it sanitises too; this does not trust it to). */
static char* safe(const char* s) {
   return util_sanitize(s ? s : "");
}

static const char* str_of(const json_t* o, const char* key) {
   return json_string_value(json_object_get(o, key));
}

static void pad(size_t cols, size_t width) {
   for (; cols < width; cols++) putchar(' ');
}

/* One cell, coloured when colour > 0, padded to width unless it is the last. */
static void cell(const Ctx* x, const char* s, int color, size_t width, bool last) {
   if (x->color && color > 0)
      printf("\033[%dm%s\033[0m", color, s);
   else
      fputs(s, stdout);
   if (!last) {
      pad(util_cols(s), width);
      fputs("  ", stdout);
   }
}

/* A table of sanitised heap strings (rows x ncols), with a colour per cell (0: none). */
typedef struct Table {
   size_t ncols, nrows;
   char** cells;
   int* colors;
} Table;

static void table_add(Table* t, char** row, const int* colors) {
   t->cells = xrealloc(t->cells, (t->nrows + 1) * t->ncols * sizeof *t->cells);
   t->colors = xrealloc(t->colors, (t->nrows + 1) * t->ncols * sizeof *t->colors);
   for (size_t i = 0; i < t->ncols; i++) {
      t->cells[t->nrows * t->ncols + i] = row[i];
      t->colors[t->nrows * t->ncols + i] = colors ? colors[i] : 0;
   }
   t->nrows++;
}

static void table_print(const Ctx* x, Table* t) {
   size_t* w = xcalloc(t->ncols, sizeof *w);
   for (size_t i = 0; i < t->nrows * t->ncols; i++) {
      size_t cols = util_cols(t->cells[i]);
      if (cols > w[i % t->ncols]) w[i % t->ncols] = cols;
   }
   for (size_t r = 0; r < t->nrows; r++) {
      for (size_t col = 0; col < t->ncols; col++) {
         size_t i = r * t->ncols + col;
         cell(x, t->cells[i], t->colors[i], w[col], col + 1 == t->ncols);
         free(t->cells[i]);
      }
      putchar('\n');
   }
   free(w);
   free(t->cells);
   free(t->colors);
}

static int state_color(const char* state) {
   if (!strcmp(state, "running")) return GREEN;
   if (!strcmp(state, "failed") || !strcmp(state, "killed")) return RED;
   if (!strcmp(state, "starting") || !strcmp(state, "stopping")) return YELLOW;
   return 0;
}

/* "running", "failed (1)", "killed (signal 9)". */
static char* state_text(const json_t* p) {
   char* st = safe(str_of(p, "state"));
   json_t* code = json_object_get(p, "exit_code");
   json_t* sig = json_object_get(p, "signal");
   char* out;
   if (json_is_integer(code))
      out = xasprintf("%s (%lld)", st, (long long)json_integer_value(code));
   else if (json_is_integer(sig))
      out = xasprintf("%s (signal %lld)", st, (long long)json_integer_value(sig));
   else
      out = xstrdup(st);
   free(st);
   return out;
}

static char* uptime_text(const json_t* p) {
   json_t* u = json_object_get(p, "uptime_s");
   const char* st = str_of(p, "state");
   bool live = st && (!strcmp(st, "running") || !strcmp(st, "starting") || !strcmp(st, "stopping"));
   if (!json_is_number(u) || !live) return xstrdup("-");
   double v = json_number_value(u);
   unsigned long s = v > 0 ? (unsigned long)v : 0;
   if (s < 60) return xasprintf("%lus", s);
   if (s < 3600) return xasprintf("%lum%02lus", s / 60, s % 60);
   if (s < 86400) return xasprintf("%luh%02lum", s / 3600, s % 3600 / 60);
   return xasprintf("%lud%02luh", s / 86400, s % 86400 / 3600);
}

static char* int_text(const json_t* v) {
   return json_is_integer(v) ? xasprintf("%lld", (long long)json_integer_value(v)) : xstrdup("-");
}

static char* cpu_text(const json_t* p) {
   json_t* c = json_object_get(p, "cpu");
   return json_is_number(c) ? xasprintf("%.1f%%", json_number_value(c)) : xstrdup("-");
}

static char* rss_text(const json_t* p) {
   json_t* r = json_object_get(p, "rss");
   if (!json_is_integer(r)) return xstrdup("-");
   return xasprintf("%lldM", (long long)(json_integer_value(r) >> 20));
}

static char* ports_text(const json_t* p) {
   json_t* ports = json_object_get(p, "ports");
   if (!json_array_size(ports)) return xstrdup("-");
   char buf[96] = "";
   size_t n = 0, i;
   json_t* v;
   json_array_foreach(ports, i, v) {
      if (n < sizeof buf)
         n += (size_t)snprintf(buf + n, sizeof buf - n, "%s:%lld", i ? "," : "",
                               (long long)json_integer_value(v));
   }
   return xstrdup(buf);
}

static char* url_text(const json_t* p) {
   json_t* urls = json_object_get(p, "urls");
   size_t n = json_array_size(urls);
   if (!n) return xstrdup("-");
   char* first = safe(json_string_value(json_array_get(urls, 0)));
   if (n == 1) return first;
   char* s = xasprintf("%s (+%zu)", first, n - 1);
   free(first);
   return s;
}

/* ---- talking to the instance ---- */

/* Sends req (consumed) and waits for its reply. 0 with *reply when the server said ok; else the
 * exit status, the error said on stderr (and the reply printed with --json). */
static int call(Ctx* x, json_t* req, int timeout_ms, json_t** reply) {
   *reply = NULL;
   json_object_set_new(req, "id", json_integer(++x->next_id));
   char* cause = NULL;
   json_t* r = NULL;
   int err = ctl_call(x->c, req, timeout_ms, &r, &cause);
   json_decref(req);
   if (err < 0 && x->follow && (err == -EPIPE || err == -ECONNRESET)) {
      free(cause);
      return -EPIPE;
   }
   if (err < 0) {
      char* c = safe(cause);
      fprintf(stderr, "brum ctl: %s\n", c);
      free(c);
      free(cause);
      return EXIT_FAIL;
   }
   if (x->a->json) print_json(r);
   if (json_is_true(json_object_get(r, "ok"))) {
      *reply = r;
      return 0;
   }
   json_t* e = json_object_get(r, "error");
   const char* code = str_of(e, "code");
   if (x->follow && code && !strcmp(code, "unavailable")) {
      json_decref(r);
      return -EPIPE;
   }
   char* msg = safe(str_of(e, "message") ? str_of(e, "message") : code);
   fprintf(stderr, "brum ctl: %s\n", msg);
   free(msg);
   /* A bad pattern, cursor or argument is the caller's to fix, like a bad option. */
   int rc = code && (!strcmp(code, "bad_regex") || !strcmp(code, "bad_cursor") ||
                     !strcmp(code, "bad_request"))
                ? EXIT_USAGE
                : EXIT_FAIL;
   json_decref(r);
   return rc;
}

/* A transport end (-EPIPE) outside a follow loop is a failure. */
static int status(int rc) {
   return rc < 0 ? EXIT_FAIL : rc;
}

static int cmd_ps(Ctx* x) {
   json_t* r;
   int rc = call(x, json_pack("{s:s}", "op", "ps"), MARGIN_MS, &r);
   if (rc || x->a->json) return json_decref(r), status(rc);
   Table t = {.ncols = 12};
   char* head[] = {xstrdup("NAME"),  xstrdup("STATE"), xstrdup("PID"),   xstrdup("UPTIME"),
                   xstrdup("CPU"),   xstrdup("RSS"),   xstrdup("PORTS"), xstrdup("RESTARTS"),
                   xstrdup("LINES"), xstrdup("ERR"),   xstrdup("WARN"),  xstrdup("URL")};
   table_add(&t, head, NULL);
   size_t i;
   json_t* p;
   json_array_foreach(json_object_get(r, "processes"), i, p) {
      char* row[] = {safe(str_of(p, "name")),
                     state_text(p),
                     int_text(json_object_get(p, "pid")),
                     uptime_text(p),
                     cpu_text(p),
                     rss_text(p),
                     ports_text(p),
                     int_text(json_object_get(p, "restarts")),
                     int_text(json_object_get(p, "lines")),
                     int_text(json_object_get(p, "errors")),
                     int_text(json_object_get(p, "warnings")),
                     url_text(p)};
      int colors[12] = {0, state_color(str_of(p, "state") ? str_of(p, "state") : "")};
      table_add(&t, row, colors);
   }
   table_print(x, &t);
   json_decref(r);
   return 0;
}

static json_t* names_array(const Args* a) {
   json_t* arr = json_array();
   for (size_t i = 0; i < a->nnames; i++) json_array_append_new(arr, json_string(a->names[i]));
   return arr;
}

/* start, stop, restart, kill: one line per process with its state (and the server's note). */
static int cmd_action(Ctx* x) {
   const Args* a = x->a;
   bool wait = a->given & O_WAIT;
   json_t* req = json_pack("{s:s, s:o}", "op", a->cmd, "names", names_array(a));
   if (wait) {
      json_object_set_new(req, "wait", json_true());
      json_object_set_new(req, "timeout_s", json_real(a->timeout_s));
   }
   int timeout = wait ? (int)(a->timeout_s * 1000) + MARGIN_MS : MARGIN_MS;
   json_t* r;
   int rc = call(x, req, timeout, &r);
   if (rc) return status(rc);
   size_t i;
   json_t* res;
   json_array_foreach(json_object_get(r, "results"), i, res) {
      if (json_is_true(json_object_get(res, "timed_out"))) rc = EXIT_FAIL;
   }
   if (a->json) return json_decref(r), rc;
   Table t = {.ncols = 3};
   json_array_foreach(json_object_get(r, "results"), i, res) {
      json_t* p = json_object_get(res, "process");
      bool late = json_is_true(json_object_get(res, "timed_out"));
      /* The server's note ("already running"), else the process's own message (why it could
       * not start, what it waits for). */
      const char* note = str_of(res, "note") ? str_of(res, "note") : str_of(p, "message");
      char* row[] = {safe(str_of(res, "name")), state_text(p),
                     late ? xstrdup("not ready in time") : safe(note)};
      int colors[3] = {0, state_color(str_of(p, "state") ? str_of(p, "state") : ""),
                       late ? RED : 0};
      table_add(&t, row, colors);
   }
   table_print(x, &t);
   json_decref(r);
   return rc;
}

static json_t* logs_req(const Args* a, const char* cursor, long limit, int wait_s) {
   json_t* req = json_pack("{s:s, s:i}", "op", "logs", "limit", (int)limit);
   if (a->nnames) json_object_set_new(req, "name", json_string(a->names[0]));
   if (cursor) json_object_set_new(req, "cursor", json_string(cursor));
   if (a->filter) json_object_set_new(req, "filter", json_string(a->filter));
   if (wait_s) json_object_set_new(req, "wait_s", json_integer(wait_s));
   return req;
}

static int kind_color(const json_t* l) {
   const char* k = str_of(l, "kind");
   if (k && !strcmp(k, "error")) return RED;
   if (k && !strcmp(k, "warning")) return YELLOW;
   return 0;
}

/* A logs reply's lines: `name | text` for the All view (names padded to the widest seen so
 * far), `text` for one process. */
static void print_lines(const Ctx* x, const json_t* r, size_t* namew) {
   bool all = x->a->nnames == 0;
   json_t* lines = json_object_get(r, "lines");
   size_t i;
   json_t* l;
   if (!x->a->json) {
      json_array_foreach(lines, i, l) {
         char* text = safe(str_of(l, "text"));
         if (all) {
            char* name = safe(str_of(l, "name"));
            size_t w = util_cols(name);
            if (w > *namew) *namew = w;
            fputs(name, stdout);
            pad(w, *namew);
            fputs(" | ", stdout);
            free(name);
         }
         cell(x, text, kind_color(l), 0, true);
         putchar('\n');
         free(text);
      }
   }
   json_t* ev = json_object_get(r, "evicted");
   if (json_is_integer(ev) && json_integer_value(ev) > 0)
      fprintf(stderr, "brum: %lld lines dropped by retention\n", (long long)json_integer_value(ev));
   fflush(stdout);
}

/* The follow loop: long polls from `cursor` until the instance ends. */
static int follow(Ctx* x, const char* from, size_t* namew) {
   char* cursor = xstrdup(from);
   bool more = false;
   int rc;
   x->follow = true;
   for (;;) {
      json_t* r;
      rc = call(x, logs_req(x->a, cursor, FOLLOW_LIMIT, more ? 0 : FOLLOW_WAIT_S),
                FOLLOW_WAIT_S * 1000 + MARGIN_MS, &r);
      if (rc) break;
      print_lines(x, r, namew);
      const char* next = str_of(r, "next_cursor");
      if (next) {
         free(cursor);
         cursor = xstrdup(next);
      }
      more = json_is_true(json_object_get(r, "more"));
      json_decref(r);
   }
   free(cursor);
   if (rc != -EPIPE) return rc;
   fprintf(stderr, "brum: brum (pid %d) has ended: nothing more to follow\n", x->in.pid);
   return 0;
}

static int cmd_logs(Ctx* x) {
   const Args* a = x->a;
   json_t* r;
   int rc = call(x, logs_req(a, a->cursor, a->limit, 0), MARGIN_MS, &r);
   if (rc) return status(rc);
   size_t namew = 0;
   print_lines(x, r, &namew);
   const char* next = str_of(r, "next_cursor");
   if (a->given & O_FOLLOW && next) {
      char* from = xstrdup(next);
      json_decref(r);
      rc = follow(x, from, &namew);
      free(from);
      return rc;
   }
   if (json_is_true(json_object_get(r, "more")) && next && !a->json)
      fprintf(stderr, "brum: more lines are waiting: continue with --cursor %s\n", next);
   json_decref(r);
   return 0;
}

static int cmd_errors(Ctx* x) {
   json_t* req = json_pack("{s:s}", "op", "errors");
   if (x->a->nnames) json_object_set_new(req, "name", json_string(x->a->names[0]));
   json_t* r;
   int rc = call(x, req, MARGIN_MS, &r);
   if (rc || x->a->json) return json_decref(r), status(rc);
   json_t* errs = json_object_get(r, "errors");
   size_t i, namew = 0, locw = 0;
   json_t* e;
   json_array_foreach(errs, i, e) {
      char* name = safe(str_of(e, "name"));
      char* loc = safe(str_of(e, "location"));
      if (util_cols(name) > namew) namew = util_cols(name);
      if (util_cols(loc) > locw) locw = util_cols(loc);
      free(name);
      free(loc);
   }
   json_array_foreach(errs, i, e) {
      char* name = safe(str_of(e, "name"));
      char* kind = safe(str_of(e, "kind"));
      char* loc = safe(str_of(e, "location"));
      char* title = safe(str_of(e, "title"));
      cell(x, name, 0, namew, false);
      cell(x, kind, kind_color(e), sizeof "warning" - 1, false);
      if (locw) cell(x, loc, 0, locw, false);
      cell(x, title, 0, 0, true);
      putchar('\n');
      size_t j;
      json_t* l;
      json_array_foreach(json_object_get(e, "lines"), j, l) {
         char* text = safe(json_string_value(l));
         printf("    %s\n", text);
         free(text);
      }
      free(name), free(kind), free(loc), free(title);
   }
   long long ne = json_integer_value(json_object_get(r, "total_errors"));
   long long nw = json_integer_value(json_object_get(r, "total_warnings"));
   printf("%lld error%s, %lld warning%s\n", ne, ne == 1 ? "" : "s", nw, nw == 1 ? "" : "s");
   json_decref(r);
   return 0;
}

static int cmd_urls(Ctx* x) {
   json_t* r;
   int rc = call(x, json_pack("{s:s}", "op", "urls"), MARGIN_MS, &r);
   if (rc || x->a->json) return json_decref(r), status(rc);
   Table t = {.ncols = 3};
   char* head[] = {xstrdup("NAME"), xstrdup("URL"), xstrdup("LABEL")};
   table_add(&t, head, NULL);
   size_t i;
   json_t* u;
   json_array_foreach(json_object_get(r, "urls"), i, u) {
      char* label = safe(str_of(u, "label"));
      bool stale = json_is_true(json_object_get(u, "stale"));
      char* row[] = {safe(str_of(u, "name")), safe(str_of(u, "url")),
                     stale ? xasprintf("%s%s(stale: not running)", label, *label ? " " : "")
                           : xstrdup(label)};
      free(label);
      table_add(&t, row, NULL);
   }
   table_print(x, &t);
   json_decref(r);
   return 0;
}

static int cmd_wait(Ctx* x) {
   const Args* a = x->a;
   json_t* req =
       json_pack("{s:s, s:s, s:s, s:f, s:s}", "op", "wait", "name", a->names[0], "pattern",
                 a->pattern, "timeout_s", a->timeout_s, "from", a->from ? a->from : "start");
   json_t* r;
   int rc = call(x, req, (int)(a->timeout_s * 1000) + MARGIN_MS, &r);
   if (rc || a->json) return json_decref(r), status(rc);
   char* text = safe(str_of(json_object_get(r, "line"), "text"));
   puts(text);
   free(text);
   json_decref(r);
   return 0;
}

static int cmd_quit(Ctx* x) {
   json_t* r;
   int rc = call(x, json_pack("{s:s}", "op", "quit"), MARGIN_MS, &r);
   json_decref(r);
   return status(rc);
}

static const Cmd cmds[] = {
    {"ps", cmd_ps, 0, NAMES_NONE},
    {"start", cmd_action, O_WAIT | O_TIMEOUT, NAMES_SOME},
    {"stop", cmd_action, 0, NAMES_SOME},
    {"restart", cmd_action, O_WAIT | O_TIMEOUT, NAMES_SOME},
    {"kill", cmd_action, 0, NAMES_SOME},
    {"logs", cmd_logs, O_FOLLOW | O_CURSOR | O_LIMIT | O_FILTER, NAMES_ONE_OPT},
    {"errors", cmd_errors, 0, NAMES_ONE_OPT},
    {"urls", cmd_urls, 0, NAMES_NONE},
    {"wait", cmd_wait, O_FOR | O_TIMEOUT | O_FROM, NAMES_ONE},
    {"quit", cmd_quit, 0, NAMES_NONE},
};

static int usage_error(char* cause) {
   char* c = safe(cause);
   fprintf(stderr, "brum ctl: %s (see brum ctl --help)\n", c);
   free(c);
   free(cause);
   return EXIT_USAGE;
}

static const Cmd* find_cmd(const char* name) {
   for (size_t i = 0; i < ARRAY_LEN(cmds); i++)
      if (!strcmp(cmds[i].name, name)) return &cmds[i];
   return NULL;
}

/* Finds the instance and says hello: 0, or the exit status after saying why not. */
static int open_instance(Ctx* x) {
   char* cause = NULL;
   int err = ctl_find(x->a->dir, &x->in, &cause);
   if (err == 0) err = ctl_connect(&x->in, "ctl", &x->c, NULL, &cause);
   if (err == 0) return 0;
   char* c = safe(cause);
   fprintf(stderr, "brum ctl: %s\n", c);
   free(c);
   free(cause);
   /* No instance (or no usable directory to find one in) is a usage matter: where to run it. */
   return x->in.socket ? EXIT_FAIL : EXIT_USAGE;
}

int ctl_main(int argc, char** argv) {
   Args a;
   char* cause = NULL;
   if (parse_args(argc, argv, &a, &cause) < 0) return usage_error(cause);
   if (a.help) {
      usage(stdout);
      return 0;
   }
   if (!a.cmd) {
      usage(stderr);
      return EXIT_USAGE;
   }
   const Cmd* cmd = find_cmd(a.cmd);
   if (!cmd) {
      return usage_error(xasprintf("unknown command '%s' (ps, start, stop, restart, kill, logs, "
                                   "errors, urls, wait, quit)",
                                   a.cmd));
   }
   if (check_args(&a, cmd, &cause) < 0) return usage_error(cause);
   const char* nc = getenv("NO_COLOR");
   Ctx x = {.a = &a, .color = isatty(STDOUT_FILENO) && !(nc && *nc)};
   int rc = open_instance(&x);
   if (rc == 0) rc = cmd->fn(&x);
   ctl_close(x.c);
   ctl_instance_done(&x.in);
   fflush(stdout);
   return rc;
}
