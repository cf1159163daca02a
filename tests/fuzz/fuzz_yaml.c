/* libFuzzer target: the project file loaders (scripts/yaml.c, compose.c, procfile.c, envfile.c).
 * The input is read as a brum.yaml, a process-compose.yaml, a Procfile and a .env file of a project
 * whose directory does not exist (so env_file and cwd entries only fail). Invariants: every loader
 * returns, errors are "FILE:LINE..." strings, alias and merge-key bombs stay within the node cap,
 * and nothing leaks or crashes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scripts/project_impl.h"

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

/* Every error names its file and a place: "FILE:LINE:COL: ..." or "cannot read FILE: ...". */
static void check_errs(StrVec* errs) {
   for (size_t i = 0; i < errs->n; i++)
      if (!strchr(errs->v[i], ':')) abort();
   prj_sv_done(errs);
}

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
   char* text = malloc(size + 1);
   if (!text) return 0;
   memcpy(text, data, size);
   text[size] = '\0';
   Project p = {.dir = (char*)"/nonexistent-brum-fuzz", .name = (char*)"fuzz"};
   StrVec errs = {0}, base = {0}, run_where = {0}, warns = {0};
   ProcVec procs = {0};
   brumyaml_load(&p, text, size, "brum.yaml", &procs, &base, &run_where, &errs);
   check_errs(&errs);
   compose_load(&p, text, size, "process-compose.yaml", &procs, &warns, &errs);
   check_errs(&errs);
   procfile_load(&p, text, size, "Procfile", &base, &procs, &errs);
   check_errs(&errs);
   StrVec env = {0};
   char* cause = NULL;
   if (envfile_parse(text, size, ".env", &env, &cause) < 0 && strncmp(cause, ".env:", 5) != 0)
      abort();
   free(cause);
   prj_sv_done(&env);
   for (char** r = p.default_run; r && *r; r++) free(*r);
   free(p.default_run);
   free(p.theme);
   free(p.prefix_key);
   free(p.log_dir);
   prj_procs_done(&procs);
   prj_sv_done(&base);
   prj_sv_done(&run_where);
   prj_sv_done(&warns);
   free(text);
   return 0;
}
