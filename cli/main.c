/* brum: a terminal UI development process manager. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <locale.h>

#include "core/rcu.h"
#include "core/regex.h"
#include "core/util.h"
#include "scripts/pkg.h"
#include "cli/app.h"
#include "cli/cli.h"
#include "tui/tui.h"

static void print_list(const Project* p) {
   printf("project: %s (%s)\n", p->name, p->dir);
   printf("package manager: %s (%s)%s\n", pkg_manager_name(p->pm), p->pm_reason,
          p->pm_available ? "" : ", not installed: scripts run with sh -c");
   size_t w = 0;
   for (size_t i = 0; i < p->nscripts; i++)
      if (strlen(p->scripts[i].name) > w) w = strlen(p->scripts[i].name);
   for (size_t i = 0; i < p->nscripts; i++)
      printf("  %-*s  %s\n", (int)w, p->scripts[i].name, p->scripts[i].command);
   if (!p->nscripts) printf("  (no scripts)\n");
}

typedef struct AddAll {
   const Project* prj;
   const Options* o;
} AddAll;

static void add_all(Sup* sup, void* ud) {
   const AddAll* a = ud;
   for (size_t i = 0; i < a->prj->nscripts; i++)
      app_register(sup, a->prj, &a->prj->scripts[i], a->o);
}

static int run_tui(const Project* prj, const Options* o) {
   AddAll a = {prj, o};
   TuiConfig c = {
       .sup = app_sup_config(o),
       .theme = o->theme,
       .filter = o->filter,
       .runs = o->runs,
       .nruns = o->nruns,
       .add_processes = add_all,
       .ud = &a,
   };
   return tui_run(prj, &c);
}

/* Every requested script must exist before anything starts. */
static int check_runs(const Project* p, const Options* o) {
   for (size_t i = 0; i < o->nruns; i++) {
      if (pkg_find(p, o->runs[i])) continue;
      fprintf(stderr, "brum: no script named '%s' in %s/package.json\navailable:", o->runs[i],
              p->dir);
      for (size_t j = 0; j < p->nscripts; j++) fprintf(stderr, " %s", p->scripts[j].name);
      fprintf(stderr, "%s\n", p->nscripts ? "" : " (none)");
      return -ENOENT;
   }
   return 0;
}

int main(int argc, char** argv) {
   setlocale(LC_ALL, "");
   Options o;
   char* cause = NULL;
   if (cli_parse(argc, argv, &o, &cause) < 0) {
      fprintf(stderr, "brum: %s\n", cause);
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
   if (pkg_load(o.dir, &prj, &cause) < 0) {
      fprintf(stderr, "brum: %s\n", cause);
      free(cause);
      goto out;
   }
   for (size_t i = 0; i < prj->nwarnings; i++)
      fprintf(stderr, "brum: warning: %s\n", prj->warnings[i]);
   if (o.list) {
      print_list(prj);
      rc = 0;
      goto out;
   }
   if (check_runs(prj, &o) < 0) goto out;
   if (o.filter) { /* a bad pattern is a usage error, found before anything starts */
      Regex* re;
      if (regex_compile(o.filter, &re, &cause) < 0) {
         fprintf(stderr, "brum: --filter '%s': %s\n", o.filter, cause);
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
   rcu_register_thread();
   rc = o.headless ? headless_run(prj, &o) : run_tui(prj, &o);
   rcu_unregister_thread();
   util_log_close();
out:
   pkg_free(prj);
   cli_done(&o);
   return rc;
}
