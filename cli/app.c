#include "cli/app.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/rcu.h"
#include "core/util.h"

extern char** environ;

/* A growable NULL-terminated array of heap strings. */
typedef struct Vec {
   char** v; /* owned */
   size_t n, cap;
} Vec;

static void vec_push(Vec* x, char* s) {
   if (x->n + 2 > x->cap) {
      x->cap = x->cap ? x->cap * 2 : 16;
      x->v = xrealloc(x->v, x->cap * sizeof *x->v);
   }
   x->v[x->n++] = s;
   x->v[x->n] = NULL;
}

/* Takes over a NULL-terminated array of heap strings. */
static Vec vec_take(char** v) {
   Vec x = {0};
   for (char** p = v; p && *p; p++) vec_push(&x, *p);
   free(v);
   return x;
}

static bool same_key(const char* entry, const char* key, size_t klen) {
   return strncmp(entry, key, klen) == 0 && entry[klen] == '=';
}

/* One Script.env entry: "KEY=VALUE" replaces KEY (or adds it), "KEY" removes it. */
static void env_apply(Vec* env, const char* entry) {
   const char* eq = strchr(entry, '=');
   size_t klen = eq ? (size_t)(eq - entry) : strlen(entry);
   size_t w = 0;
   bool set = false;
   for (size_t i = 0; i < env->n; i++) {
      if (!same_key(env->v[i], entry, klen)) {
         env->v[w++] = env->v[i];
      } else if (eq && !set) {
         free(env->v[i]);
         env->v[w++] = xstrdup(entry);
         set = true;
      } else {
         free(env->v[i]);
      }
   }
   env->n = w;
   if (env->v) env->v[w] = NULL;
   if (eq && !set) vec_push(env, xstrdup(entry));
}

static const char* env_find(char* const* env, const char* key) {
   size_t klen = strlen(key);
   for (; env && *env; env++)
      if (same_key(*env, key, klen)) return *env + klen + 1;
   return NULL;
}

/* Like `command -v` in the child's PATH: the executable's path, or NULL. */
static char* find_exe(const char* name, char* const* env) {
   struct stat st;
   if (strchr(name, '/'))
      return stat(name, &st) == 0 && S_ISREG(st.st_mode) && access(name, X_OK) == 0 ? xstrdup(name)
                                                                                    : NULL;
   const char* path = env_find(env, "PATH");
   if (!path) path = "/usr/local/bin:/usr/bin:/bin";
   for (const char* p = path;;) {
      size_t n = strcspn(p, ":");
      /* an empty PATH entry means the current directory */
      char* file = n ? xasprintf("%.*s/%s", (int)n, p, name) : xasprintf("./%s", name);
      if (stat(file, &st) == 0 && S_ISREG(st.st_mode) && access(file, X_OK) == 0) return file;
      free(file);
      if (!p[n]) return NULL;
      p += n + 1;
   }
}

/* Appends a line to the launch note (each line becomes a marker line). */
static void note_add(char** note, const char* text) {
   char* n = *note ? xasprintf("%s\n%s", *note, text) : xstrdup(text);
   free(*note);
   *note = n;
}

/* A command process: its argv, or its text with sh -c (or its shell, when installed). */
static void command_argv(AppLaunch* a, const Script* s, Vec* argv) {
   if (s->argv) {
      for (char** p = s->argv; *p; p++) vec_push(argv, xstrdup(*p));
      return;
   }
   char* shell = NULL;
   if (s->shell) {
      shell = find_exe(s->shell, a->env);
      if (!shell) {
         char* msg =
             xasprintf("%s is not installed: running the command with /bin/sh -c", s->shell);
         note_add(&a->note, msg);
         free(msg);
      }
   }
   vec_push(argv, shell ? shell : xstrdup("/bin/sh"));
   vec_push(argv, xstrdup("-c"));
   vec_push(argv, xstrdup(s->command ? s->command : ""));
}

/* A dependency names a process exactly: pkg_find would prefer the workspace package brum was
 * started in ("db" as "web:db"), which is right for the command line only. */
static size_t script_index(const Project* prj, const char* name) {
   for (size_t i = 0; i < prj->nscripts; i++)
      if (strcmp(prj->scripts[i].name, name) == 0) return i;
   return prj->nscripts;
}

static void map_deps(AppLaunch* a, const Project* prj, const Script* s, const uint64_t* ids) {
   static const SupDepCond conds[] = {[DEP_STARTED] = SUP_DEP_STARTED,
                                      [DEP_READY] = SUP_DEP_READY,
                                      [DEP_EXITED_OK] = SUP_DEP_EXITED_OK};
   a->deps = s->ndeps ? xcalloc(s->ndeps, sizeof *a->deps) : NULL;
   size_t n = 0;
   for (size_t k = 0; k < s->ndeps; k++) {
      size_t j = script_index(prj, s->deps[k].name);
      if (j >= prj->nscripts || ids[j] == APP_NONE) {
         char* msg = xasprintf("depends on '%s', which is not a process here: not waiting for it",
                               s->deps[k].name);
         note_add(&a->note, msg);
         free(msg);
         continue;
      }
      a->deps[n++] = (SupDep){.id = ids[j], .cond = conds[s->deps[k].cond]};
   }
   a->l.deps = a->deps;
   a->l.ndeps = n;
}

static void map_policy(AppLaunch* a, const Script* s) {
   static const SupProbeKind kinds[] = {[PROBE_DEFAULT] = SUP_PROBE_DEFAULT,
                                        [PROBE_LOG] = SUP_PROBE_LOG,
                                        [PROBE_TCP] = SUP_PROBE_TCP,
                                        [PROBE_HTTP] = SUP_PROBE_HTTP,
                                        [PROBE_EXEC] = SUP_PROBE_EXEC};
   static const SupRestart restarts[] = {[RESTART_NO] = SUP_RESTART_NO,
                                         [RESTART_ON_FAILURE] = SUP_RESTART_ON_FAILURE,
                                         [RESTART_ALWAYS] = SUP_RESTART_ALWAYS};
   a->l.ready = (SupProbe){.kind = kinds[s->ready.kind],
                           .target = s->ready.target,
                           .interval_s = s->ready.interval_s,
                           .timeout_s = s->ready.timeout_s,
                           .retries = s->ready.retries};
   a->l.restart = restarts[s->restart];
   a->l.backoff_s = s->backoff_s;
   a->l.max_restarts = s->max_restarts;
   a->l.stop_signal = s->stop_signal;
   a->l.kill_timeout_s = s->kill_timeout_s;
}

void app_launch_init(AppLaunch* a, const Project* prj, const Script* s, const Options* o,
                     const uint64_t* ids) {
   *a = (AppLaunch){0};
   Vec env = {0}, argv = {0};
   if (s->source == SRC_PACKAGE || s->script_ref) {
      /* A reference runs the package script it names, as that script runs: the loader copied
       * its command, package and directory; its name is the script's (`npm run dev`, not
       * `npm run web`). */
      Script ref = *s;
      if (s->script_ref) ref.name = s->script_ref;
      PkgRun run;
      pkg_run_prepare(prj, &ref, o->via_pm || s->via_pm, &run);
      argv = vec_take(run.argv);
      env = vec_take(run.env);
      a->cwd = run.cwd;
      a->note = run.note;
      run = (PkgRun){0};
   } else {
      for (char** e = environ; e && *e; e++) vec_push(&env, xstrdup(*e));
      a->cwd = xstrdup(s->dir ? s->dir : prj->dir);
   }
   /* In a PTY the child's terminal is brum's emulator, an xterm, whatever brum runs in; the
    * project's own TERM (applied next) wins. With pipes there is no terminal: TERM as inherited. */
   if (!o->no_pty) env_apply(&env, "TERM=xterm-256color");
   for (char** e = s->env; e && *e; e++) env_apply(&env, *e);
   if (!env.v) env.v = xcalloc(1, sizeof *env.v); /* an empty environment is still one */
   a->env = env.v;
   if (s->source != SRC_PACKAGE && !s->script_ref) command_argv(a, s, &argv);
   a->argv = argv.v;
   for (char** u = s->unknown; u && *u; u++) note_add(&a->note, *u);
   a->l.argv = a->argv;
   a->l.env = a->env;
   a->l.cwd = a->cwd;
   map_deps(a, prj, s, ids);
   map_policy(a, s);
   a->l.note = a->note;
   a->l.pooled = s->run_all;
   a->l.command = s->command;
}

void app_launch_done(AppLaunch* a) {
   for (char** p = a->argv; p && *p; p++) free(*p);
   for (char** p = a->env; p && *p; p++) free(*p);
   free(a->argv);
   free(a->env);
   free(a->cwd);
   free(a->note);
   free(a->deps);
   *a = (AppLaunch){0};
}

void app_register(Sup* sup, const Project* prj, const Options* o, const bool* want, uint64_t* ids) {
   /* ids are given in sup_add order: known before the first registration, so that a process
    * may name one registered after it */
   rcu_read_lock();
   uint64_t next = sup_registry(sup)->n;
   rcu_read_unlock();
   for (size_t i = 0; i < prj->nscripts; i++) ids[i] = !want || want[i] ? next++ : APP_NONE;
   for (size_t i = 0; i < prj->nscripts; i++) {
      if (ids[i] == APP_NONE) continue;
      AppLaunch a;
      app_launch_init(&a, prj, &prj->scripts[i], o, ids);
      uint64_t id = sup_add(sup, prj->scripts[i].name, &a.l);
      assert(id == ids[i]);
      (void)id;
      app_launch_done(&a);
   }
}

void app_want_closure(const Project* prj, size_t i, bool* want) {
   if (i >= prj->nscripts || want[i]) return;
   want[i] = true;
   const Script* s = &prj->scripts[i];
   for (size_t k = 0; k < s->ndeps; k++)
      app_want_closure(prj, script_index(prj, s->deps[k].name), want);
}

static bool listed(const char* const* names, size_t n, const char* name) {
   for (size_t i = 0; i < n; i++)
      if (strcmp(names[i], name) == 0) return true;
   return false;
}

size_t app_launch_names(const Project* prj, const Options* o, const char*** names) {
   size_t cap = o->nruns + prj->nscripts, n = 0;
   for (char** d = prj->default_run; d && *d; d++) cap++;
   const char** out = xcalloc(cap + 1, sizeof *out);
   if (o->nruns) {
      for (size_t i = 0; i < o->nruns; i++)
         if (!listed(out, n, o->runs[i])) out[n++] = o->runs[i];
   } else if (prj->default_run && prj->default_run[0]) {
      for (char** d = prj->default_run; *d; d++)
         if (!listed(out, n, *d)) out[n++] = *d;
   } else {
      for (size_t i = 0; i < prj->nscripts; i++)
         if (prj->scripts[i].autostart) out[n++] = prj->scripts[i].name;
   }
   *names = out;
   return n;
}

SupConfig app_sup_config(const Options* o) {
   SupConfig c = {
       .use_pty = !o->no_pty,
       .no_detect = o->no_detect,
       .kill_timeout_s = o->kill_timeout_s,
       .log = {.max_lines = o->max_lines, .max_bytes = o->max_bytes},
       .cols = 80,
       .rows = 24,
       .max_pooled = o->concurrency,
       .logfile = {.dir = o->log_dir,
                   .raw = o->log_raw,
                   .max_size = o->log_max_size,
                   .keep = o->log_keep},
   };
   if (!c.max_pooled) { /* as pnpm -r: as many at once as there are CPUs */
      long n = sysconf(_SC_NPROCESSORS_ONLN);
      c.max_pooled = n > 0 ? (unsigned)n : 4;
   }
   return c;
}
