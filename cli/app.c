#include "cli/app.h"

#include <stdlib.h>

uint64_t app_register(Sup* sup, const Project* prj, const Script* s, const Options* o) {
   PkgRun run;
   pkg_run_prepare(prj, s, o->via_pm, &run);
   SupLaunch l = {.argv = run.argv, .env = run.env, .cwd = run.cwd, .note = run.note};
   uint64_t id = sup_add(sup, s->name, &l);
   pkg_run_free(&run);
   return id;
}

SupConfig app_sup_config(const Options* o) {
   SupConfig c = {
       .use_pty = !o->no_pty,
       .no_detect = o->no_detect,
       .kill_timeout_s = o->kill_timeout_s,
       .log = {.max_lines = o->max_lines, .max_bytes = o->max_bytes},
       .cols = 80,
       .rows = 24,
   };
   return c;
}
