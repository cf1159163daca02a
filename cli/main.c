/* brum: a terminal UI development process manager. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <locale.h>
#include <sys/resource.h>
#include <unistd.h>

#include "core/ctl.h"
#include "core/rcu.h"
#include "core/regex.h"
#include "core/util.h"
#include "scripts/pkg.h"
#include "cli/app.h"
#include "cli/cli.h"
#include "cli/ctl.h"
#include "cli/mcp.h"
#include "tui/tui.h"
#include "tui/view.h"

/* Descriptors 0-2 closed by the caller would be taken by the next open (the log file would get
 * the scripts' output, libuv would assert on them): put /dev/null there first. */
static int fix_std_fds(void) {
   for (int fd = 0; fd <= 2; fd++) {
      if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF) continue;
      int n = open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
      if (n < 0) return -errno;
      if (n != fd) { /* cannot happen: open takes the lowest free descriptor */
         dup2(n, fd);
         close(n);
      }
   }
   return 0;
}

/* Descriptors brum needs before its first script starts (the log, both event loops, libuv's
 * signal pipes, wakeups, the filter worker, curses), and per running script (its terminal or
 * pipes and its pidfd). prlimit measured 14 + 2 per script for headless mode: with a margin. */
enum { FDS_BASE = 24, FDS_PER_SCRIPT = 3, FDS_LIST = 8 /* -l: package.json, workspace dirs */ };

/* Can `need` more descriptors be opened? 0 or -EMFILE. */
static int probe_fds(size_t need) {
   int* fds = xmalloc(need * sizeof *fds);
   size_t got = 0;
   int err = 0;
   while (got < need) {
      int fd = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
      if (fd < 0) {
         err = -errno;
         break;
      }
      fds[got++] = fd;
   }
   while (got) close(fds[--got]);
   free(fds);
   return err;
}

static size_t fds_needed(size_t nscripts) {
   return FDS_BASE + FDS_PER_SCRIPT * nscripts;
}

/* libuv aborts when it cannot create its signal pipe, and half-started loops crash: check that
 * brum itself and one script fit before anything is created, so that the answer is a message.
 * A soft limit below the hard one is raised to fit every script named on the command line (as
 * ulimit -n would); past the
 * hard limit, scripts that cannot start say so one by one and the others run. */
static int check_fds(size_t required, size_t wanted) {
   int err = probe_fds(wanted);
   struct rlimit rl;
   if (err == -EMFILE && getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
      rlim_t want = rl.rlim_cur + wanted;
      rl.rlim_cur = want < rl.rlim_max ? want : rl.rlim_max;
      if (setrlimit(RLIMIT_NOFILE, &rl) == 0) err = probe_fds(wanted);
   }
   if (err == -EMFILE && required < wanted) err = probe_fds(required);
   return err;
}

static const char* source_label(ScriptSource src) {
   switch (src) {
   case SRC_BRUM_YAML:
      return "brum.yaml";
   case SRC_PROCFILE:
      return "Procfile";
   case SRC_COMPOSE:
      return "process-compose.yaml";
   default:
      return "package.json";
   }
}

static const char* cond_label(DepCond c) {
   return c == DEP_READY ? "ready" : c == DEP_EXITED_OK ? "exited_ok" : "started";
}

/* The second lines of a listed process: where it comes from (package.json only when other files
 * define processes too: a plain npm project lists as it always did), what it waits for, what a
 * foreign file said that brum does not do. */
static void print_details(const Project* p, const Script* s, size_t indent, bool mixed) {
   if (mixed && s->source == SRC_PACKAGE) {
      /* The package's file, relative to the project: "package.json", "packages/web/package.json".
       */
      size_t n = strlen(p->dir);
      const char* rel = strncmp(s->dir, p->dir, n) == 0 && s->dir[n] == '/' ? s->dir + n + 1 : "";
      char* dir = util_sanitize(rel);
      printf("%*s  from %s%spackage.json\n", (int)indent, "", dir, *dir ? "/" : "");
      free(dir);
   } else if (s->source != SRC_PACKAGE) {
      char* origin = util_sanitize(s->origin ? s->origin : source_label(s->source));
      char* ref = s->script_ref ? util_sanitize(s->script_ref) : NULL;
      printf("%*s  from %s%s%s%s\n", (int)indent, "", origin, ref ? " (package script " : "",
             ref ? ref : "", ref ? ")" : "");
      free(ref);
      free(origin);
   }
   if (s->ndeps) {
      printf("%*s  waits for", (int)indent, "");
      for (size_t d = 0; d < s->ndeps; d++) {
         char* dep = util_sanitize(s->deps[d].name);
         printf("%s %s (%s)", d ? "," : "", dep, cond_label(s->deps[d].cond));
         free(dep);
      }
      printf("\n");
   }
   for (char** u = s->unknown; u && *u; u++) {
      char* note = util_sanitize(*u);
      printf("%*s  note: %s\n", (int)indent, "", note);
      free(note);
   }
}

static void print_list(const Project* p, const Options* o) {
   char* name = util_sanitize(p->name);
   char* dir = util_sanitize(p->dir);
   printf("project: %s (%s)\n", name, dir);
   free(name);
   free(dir);
   if (p->has_package_json) {
      char* reason = util_sanitize(p->pm_reason);
      printf("package manager: %s (%s)%s\n", pkg_manager_name(p->pm), reason,
             p->pm_available ? "" : ", not installed");
      free(reason);
   }
   if (p->start_package) {
      char* pkg = util_sanitize(p->start_package);
      printf("started in package %s: its scripts come first (NAME means %s:NAME)\n", pkg, pkg);
      free(pkg);
   }
   for (size_t i = 0; i < o->nruns; i++) { /* what the command line (and -r GLOB) would start */
      char* n = util_sanitize(o->runs[i]);
      printf("%s%s%s", i ? ", " : "would start: ", n, i + 1 < o->nruns ? "" : "\n");
      free(n);
   }
   for (char** r = p->default_run; r && *r; r++) {
      char* n = util_sanitize(*r);
      printf("%s%s%s", r == p->default_run ? "starts at launch: " : ", ", n, r[1] ? "" : "\n");
      free(n);
   }
   char** names = xcalloc(p->nscripts, sizeof *names);
   size_t w = 0;
   bool mixed = false;
   for (size_t i = 0; i < p->nscripts; i++) mixed |= p->scripts[i].source != SRC_PACKAGE;
   for (size_t i = 0; i < p->nscripts; i++) {
      names[i] = util_sanitize(p->scripts[i].name);
      if (util_cols(names[i]) > w) w = util_cols(names[i]);
   }
   bool* life = pkg_lifecycle_flags(p);
   for (size_t i = 0; i < p->nscripts; i++) {
      char* cmd = util_sanitize(p->scripts[i].command);
      printf("  %s%*s  %s\n", names[i], (int)(w - util_cols(names[i])), "", cmd);
      print_details(p, &p->scripts[i], w + 2, mixed);
      if (life && life[i])
         printf("%*s  lifecycle script: hidden in the sidebar until H\n", (int)w + 2, "");
      free(cmd);
      free(names[i]);
   }
   free(life);
   free(names);
   if (!p->nscripts) printf("  (no scripts)\n");
}

/* Prints a load error; project files give one "FILE:LINE:COL: message" per line. */
static void print_cause(const char* cause) {
   for (const char* line = cause; line;) {
      const char* nl = strchr(line, '\n');
      char* one = nl ? xstrndup(line, (size_t)(nl - line)) : xstrdup(line);
      char* c = util_sanitize(one);
      fprintf(stderr, "brum: %s\n", c);
      free(c);
      free(one);
      line = nl ? nl + 1 : NULL;
   }
}

typedef struct AddAll {
   const Project* prj;
   const Options* o;
} AddAll;

/* Every script, in order: process id = script index (the TUI's sidebar relies on it). */
static void add_all(Sup* sup, void* ud) {
   const AddAll* a = ud;
   uint64_t* ids = xcalloc(a->prj->nscripts + 1, sizeof *ids);
   app_register(sup, a->prj, a->o, NULL, ids);
   free(ids);
}

static int run_tui(const Project* prj, const Options* o, const CtlConfig* ctl) {
   int prefix = 0;
   const char* pk = o->prefix_key ? o->prefix_key : prj->prefix_key;
   char* cause = NULL;
   if (pk && view_parse_prefix(pk, &prefix, &cause) < 0) {
      fprintf(stderr, "brum: %s%s\n", o->prefix_key ? "--prefix-key: " : "brum.yaml: ", cause);
      free(cause);
      return 2;
   }
   AddAll a = {prj, o};
   const char** names;
   size_t n = app_launch_names(prj, o, &names);
   /* brum.yaml's theme: a name, or a path relative to the project (not to where brum started) */
   char* theme = NULL;
   if (!o->theme && prj->theme && strchr(prj->theme, '/') && prj->theme[0] != '/')
      theme = xasprintf("%s/%s", prj->dir, prj->theme);
   TuiConfig c = {
       .ctl = ctl,
       .sup = app_sup_config(o),
       .theme = o->theme ? o->theme
                : theme  ? theme
                         : prj->theme,
       .filter = o->filter,
       .runs = names,
       .nruns = n,
       .add_processes = add_all,
       .ud = &a,
       .prefix_key = prefix,
       .notify = o->no_notify ? NOTIFY_OFF : prj->notifications,
   };
   int rc = tui_run(prj, &c);
   free(theme);
   free(names);
   return rc;
}

/* One instance per project root: its lock, taken before anything starts. 0 (with *lock NULL
 * when brum runs without a control socket, after a warning), or -EEXIST after saying which
 * instance runs and how to use it. */
static int take_lock(const Project* prj, const char* kind, CtlLock** lock, char** root) {
   *lock = NULL;
   char* cause = NULL;
   *root = realpath(prj->dir, NULL);
   int err = *root ? ctl_lock_take(*root, kind, lock, &cause) : -errno;
   if (!*root) cause = xasprintf("cannot resolve %s: %s", prj->dir, strerror(-err));
   char* c = err < 0 ? util_sanitize(cause) : NULL;
   if (err == -EEXIST) /* "brum is already running for ..." */
      fprintf(stderr, "%s\n", c);
   else if (err < 0)
      fprintf(stderr, "brum: warning: no control socket: %s; continuing\n", c);
   free(c);
   free(cause);
   return err == -EEXIST ? err : 0;
}

/* Every requested script (named on the command line, or by default_run) must exist before
 * anything starts (the loader has checked the dependencies: known names, no cycle). */
static int check_runs(const Project* p, const Options* o) {
   const char** names;
   size_t n = app_launch_names(p, o, &names);
   if (o->headless && n == 0) {
      fprintf(stderr, "brum: --headless needs at least one script to run (brum --headless "
                      "SCRIPT..., or default_run in brum.yaml)\n");
      free(names);
      return -EINVAL;
   }
   for (size_t i = 0; i < n; i++) {
      if (pkg_find(p, names[i])) continue;
      char* name = util_sanitize(names[i]);
      char* dir = util_sanitize(p->dir);
      fprintf(stderr, "brum: no script named '%s' in the project %s%s\navailable:", name, dir,
              o->nruns ? "" : " (brum.yaml: default_run)");
      free(name);
      free(dir);
      for (size_t j = 0; j < p->nscripts; j++) {
         name = util_sanitize(p->scripts[j].name);
         fprintf(stderr, " %s", name);
         free(name);
      }
      fprintf(stderr, "%s\n", p->nscripts ? "" : " (none)");
      free(names);
      return -ENOENT;
   }
   free(names);
   return 0;
}

int main(int argc, char** argv) {
   if (fix_std_fds() < 0) return 2; /* not even /dev/null: nowhere to say so */
   setlocale(LC_ALL, "");
   /* Before getopt_long, which reorders arguments: only a first argument of exactly "ctl" is the
    * subcommand (`brum -r ctl` still runs a script named ctl). */
   if (argc >= 2 && strcmp(argv[1], "ctl") == 0) return ctl_main(argc - 1, argv + 1);
   if (argc >= 2 && strcmp(argv[1], "mcp") == 0) return mcp_main(argc - 1, argv + 1);
   Options o;
   char* cause = NULL;
   if (cli_parse(argc, argv, &o, &cause) < 0) {
      char* c = util_sanitize(cause);
      fprintf(stderr, "brum: %s\n", c);
      free(c);
      free(cause);
      cli_done(&o);
      return 2;
   }
   if (o.help) {
      cli_usage(stdout);
      cli_done(&o);
      return 0;
   }
   if (o.version) {
      printf("brum %s\n", BRUM_VERSION);
      cli_done(&o);
      return 0;
   }
   int rc = 2;
   Project* prj = NULL;
   bool only_load = o.list || o.list_names || o.check;
   size_t need = only_load ? FDS_LIST : fds_needed(o.nruns ? 1 : 0);
   int err = check_fds(need, only_load ? FDS_LIST : fds_needed(o.nruns));
   if (err < 0) {
      char* msg = util_strerror(err);
      fprintf(stderr, "brum: %s (brum needs %zu free descriptors)\n", msg, need);
      free(msg);
      goto out;
   }
   if (pkg_load(o.dir, &prj, &cause) < 0) {
      print_cause(cause);
      free(cause);
      goto out;
   }
   if (o.list_names) { /* for shell completion: the names only, no warnings */
      for (size_t i = 0; i < prj->nscripts; i++) {
         char* n = util_sanitize(prj->scripts[i].name);
         puts(n);
         free(n);
      }
      rc = 0;
      goto out;
   }
   for (size_t i = 0; i < prj->nwarnings; i++) {
      char* w = util_sanitize(prj->warnings[i]);
      fprintf(stderr, "brum: warning: %s\n", w);
      free(w);
   }
   if (app_expand_globs(prj, &o) < 0) goto out;
   if (o.list) {
      print_list(prj, &o);
      rc = 0;
      goto out;
   }
   /* brum.yaml's settings, where the command line did not say */
   if (!o.kill_timeout_set && prj->kill_timeout_s > 0) o.kill_timeout_s = prj->kill_timeout_s;
   if (!o.max_lines_set && prj->max_lines > 0) o.max_lines = prj->max_lines;
   if (!o.log_dir) o.log_dir = prj->log_dir;
   o.log_raw |= prj->log_raw;
   if (!o.log_max_size) o.log_max_size = prj->log_max_size;
   if (!o.log_keep) o.log_keep = prj->log_keep;
   if (o.check) {
      char* dir = util_sanitize(prj->dir);
      printf("brum: %s: %zu processes, the project files are valid\n", dir, prj->nscripts);
      free(dir);
      rc = 0;
      goto out;
   }
   if (check_runs(prj, &o) < 0) goto out;
   if (o.filter) { /* a bad pattern is a usage error, found before anything starts */
      Regex* re;
      if (regex_compile(o.filter, &re, &cause) < 0) {
         char* pat = util_sanitize(o.filter);
         fprintf(stderr, "brum: --filter '%s': %s\n", pat, cause);
         free(pat);
         free(cause);
         goto out;
      }
      regex_free(re);
   }
   /* An explicit --log that cannot be written is said once; the default log is best effort. */
   if (util_log_open_cause(o.log_path, o.log_path ? &cause : NULL) < 0 && o.log_path) {
      fprintf(stderr, "brum: warning: %s; continuing without a log\n", cause);
      free(cause);
   }
   CtlConfig ctl = {.kind = o.headless ? "headless" : "tui"};
   char* root = NULL;
   CtlLock* lock = NULL;
   if (take_lock(prj, ctl.kind, &lock, &root) < 0) {
      free(root);
      util_log_close();
      goto out;
   }
   ctl.root = root;
   rcu_register_thread();
   rc = o.headless ? headless_run(prj, &o, lock ? &ctl : NULL)
                   : run_tui(prj, &o, lock ? &ctl : NULL);
   rcu_unregister_thread();
   ctl_lock_release(lock);
   free(root);
   util_log_close();
out:
   pkg_free(prj);
   cli_done(&o);
   return rc;
}
