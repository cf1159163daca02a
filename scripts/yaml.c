/* brum.yaml: the project's own process file (see README, "brum.yaml"). */
#include "scripts/project_impl.h"

#include "core/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Loading state of one brum.yaml. */
typedef struct By {
   YDoc d;
   Project* p;
   StrVec base_ref; /* project env_file (when given) and env: for `script:` processes */
   StrVec base_cmd; /* project env_file (or .env when present) and env: for commands */
   ProcVec* out;
   StrVec* run_where;
} By;

static bool is_key(const YPair* pr, const char* key) {
   return strcmp((const char*)pr->k->data.scalar.value, key) == 0;
}

/* Refuses a key that is not in the known list (NULL-terminated), naming the known ones. */
static bool known_key(By* b, const YPair* pr, const char* where, const char* const* known) {
   for (const char* const* k = known; *k; k++)
      if (is_key(pr, *k)) return true;
   char list[512] = "";
   for (const char* const* k = known; *k; k++) {
      if (strlen(list) + strlen(*k) + 3 >= sizeof list) break;
      if (k != known) strcat(list, ", ");
      strcat(list, *k);
   }
   ydoc_err(&b->d, pr->k, "unknown key '%s' %s (known keys: %s)",
            (const char*)pr->k->data.scalar.value, where, list);
   return false;
}

static bool env_key_ok(const char* k) {
   return *k && !strchr(k, '=');
}

/* env: a mapping of KEY to a value, or null to unset it. */
static bool read_env(By* b, yaml_node_t* n, StrVec* env) {
   if (n->type != YAML_MAPPING_NODE) {
      ydoc_err(&b->d, n, "env must be a mapping of variable names to values, not %s", ydoc_kind(n));
      return false;
   }
   size_t np;
   YPair* pairs = ydoc_pairs(&b->d, n, &np);
   if (!pairs) return false;
   bool ok = true;
   for (size_t i = 0; i < np && ok; i++) {
      const char* k = (const char*)pairs[i].k->data.scalar.value;
      if (!env_key_ok(k)) {
         ydoc_err(&b->d, pairs[i].k, "'%s' is not a variable name (empty, or it holds '=')", k);
         ok = false;
      } else if (ydoc_is_null(pairs[i].v)) {
         pkg_sv_push(env, xstrdup(k));
      } else {
         char* v = NULL;
         ok = ydoc_str(&b->d, pairs[i].v, "an env value", &v);
         if (ok) pkg_sv_push(env, xasprintf("%s=%s", k, v));
         free(v);
      }
   }
   free(pairs);
   return ok;
}

/* env_file: a path or a list of paths (relative to the project), read in order into env. */
static bool read_env_files(By* b, yaml_node_t* n, StrVec* env) {
   yaml_node_t* one[1] = {n};
   yaml_node_t** items = one;
   size_t count = 1;
   if (n->type == YAML_SEQUENCE_NODE) {
      count = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
      if (!ydoc_count(&b->d, n, count)) return false;
      items = xcalloc(count ? count : 1, sizeof *items);
      for (size_t i = 0; i < count; i++)
         items[i] = ydoc_node(&b->d, n->data.sequence.items.start[i]);
   }
   bool ok = true;
   for (size_t i = 0; i < count && ok; i++) {
      char* rel = NULL;
      if (!(ok = ydoc_str(&b->d, items[i], "an env_file entry", &rel))) break;
      char* path = rel[0] == '/' ? xstrdup(rel) : pkg_join_path(b->p->dir, rel);
      char* cause = NULL;
      if (envfile_load(path, rel, env, &cause) < 0) {
         if (strncmp(cause, "cannot read", 11) == 0)
            ydoc_err(&b->d, items[i], "env_file: %s", cause);
         else
            pkg_sv_push(b->d.errs, xstrdup(cause)); /* already FILE:LINE:COL */
         free(cause);
         ok = false;
      }
      free(path);
      free(rel);
   }
   if (items != one) free(items);
   return ok;
}

/* A list of strings (argv, default_run). */
static bool read_str_list(By* b, yaml_node_t* n, const char* what, StrVec* out, StrVec* where) {
   if (n->type != YAML_SEQUENCE_NODE) {
      ydoc_err(&b->d, n, "%s must be a list of strings, not %s", what, ydoc_kind(n));
      return false;
   }
   size_t count = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
   if (!ydoc_count(&b->d, n, count)) return false;
   for (size_t i = 0; i < count; i++) {
      yaml_node_t* it = ydoc_node(&b->d, n->data.sequence.items.start[i]);
      char* s = NULL;
      if (!ydoc_str(&b->d, it, what, &s)) return false;
      pkg_sv_push(out, s);
      if (where)
         pkg_sv_push(where, xasprintf("%s:%zu:%zu", b->d.file, it->start_mark.line + 1,
                                      it->start_mark.column + 1));
   }
   return true;
}

static bool read_probe(By* b, yaml_node_t* n, ScriptProbe* pr) {
   static const char* const known[] = {"log",      "tcp",     "http",    "exec",
                                       "interval", "timeout", "retries", NULL};
   static const char* const kinds[] = {"log", "tcp", "http", "exec"};
   if (n->type != YAML_MAPPING_NODE) {
      ydoc_err(&b->d, n,
               "ready must be a mapping with one of log, tcp, http or exec (like "
               "{ http: \"http://127.0.0.1:8080/\" }), not %s",
               ydoc_kind(n));
      return false;
   }
   size_t np;
   YPair* pairs = ydoc_pairs(&b->d, n, &np);
   if (!pairs) return false;
   bool ok = true;
   for (size_t i = 0; i < np && ok; i++) {
      YPair* p = &pairs[i];
      unsigned long retries;
      if (!(ok = known_key(b, p, "in ready", known))) break;
      if (is_key(p, "interval")) {
         ok = ydoc_duration(&b->d, p->v, "ready.interval", &pr->interval_s);
      } else if (is_key(p, "timeout")) {
         ok = ydoc_duration(&b->d, p->v, "ready.timeout", &pr->timeout_s);
      } else if (is_key(p, "retries")) {
         ok = ydoc_uint(&b->d, p->v, "ready.retries", 1000000, &retries);
         pr->retries = (unsigned)retries;
      } else {
         if (pr->kind != PROBE_DEFAULT) {
            ydoc_err(&b->d, p->k,
                     "ready has more than one probe: keep one of log, tcp, http, exec");
            ok = false;
            break;
         }
         for (int k = 0; k < 4; k++)
            if (is_key(p, kinds[k])) pr->kind = (ProbeKind)(PROBE_LOG + k);
         if (!(ok = ydoc_str(&b->d, p->v, "the probe", &pr->target))) break;
         char* why = prj_probe_check(pr->kind, pr->target);
         if (why) {
            ydoc_err(&b->d, p->v, "%s", why);
            free(why);
            ok = false;
         }
      }
   }
   if (ok && pr->kind == PROBE_DEFAULT) {
      ydoc_err(&b->d, n, "ready needs one of log, tcp, http or exec");
      ok = false;
   }
   free(pairs);
   return ok;
}

static bool read_cond(By* b, yaml_node_t* n, DepCond* c) {
   const char* s = ydoc_scalar(n);
   if (s && strcmp(s, "started") == 0)
      *c = DEP_STARTED;
   else if (s && strcmp(s, "ready") == 0)
      *c = DEP_READY;
   else if (s && strcmp(s, "exited_ok") == 0)
      *c = DEP_EXITED_OK;
   else {
      ydoc_err(&b->d, n, "a dependency's condition is started, ready or exited_ok, not %s%s%s",
               s ? "'" : "", s ? s : ydoc_kind(n), s ? "'" : "");
      return false;
   }
   return true;
}

static void add_dep(By* b, Proc* pc, yaml_node_t* at, const char* name, DepCond c) {
   Script* s = &pc->s;
   s->deps = xrealloc(s->deps, (s->ndeps + 1) * sizeof *s->deps);
   pc->dep_where = xrealloc(pc->dep_where, (s->ndeps + 1) * sizeof *pc->dep_where);
   s->deps[s->ndeps] = (ScriptDep){xstrdup(name), c};
   pc->dep_where[s->ndeps++] =
       xasprintf("%s:%zu:%zu", b->d.file, at->start_mark.line + 1, at->start_mark.column + 1);
}

/* depends_on: { name: condition } (or a list of names, each `started`). */
static bool read_deps(By* b, yaml_node_t* n, Proc* pc) {
   if (n->type == YAML_SEQUENCE_NODE) {
      StrVec names = {0}, where = {0};
      bool ok = read_str_list(b, n, "a depends_on entry", &names, &where);
      for (size_t i = 0; ok && i < names.n; i++) {
         yaml_node_t* it = ydoc_node(&b->d, n->data.sequence.items.start[i]);
         add_dep(b, pc, it, names.v[i], DEP_STARTED);
      }
      prj_sv_done(&names);
      prj_sv_done(&where);
      return ok;
   }
   if (n->type != YAML_MAPPING_NODE) {
      ydoc_err(&b->d, n,
               "depends_on must be a mapping of process names to conditions (like "
               "{ db: ready }), not %s",
               ydoc_kind(n));
      return false;
   }
   size_t np;
   YPair* pairs = ydoc_pairs(&b->d, n, &np);
   if (!pairs) return false;
   bool ok = true;
   for (size_t i = 0; i < np && ok; i++) {
      DepCond c;
      if ((ok = read_cond(b, pairs[i].v, &c)))
         add_dep(b, pc, pairs[i].k, (const char*)pairs[i].k->data.scalar.value, c);
   }
   free(pairs);
   return ok;
}

static bool read_restart(By* b, yaml_node_t* n, RestartPolicy* r) {
   const char* s = ydoc_scalar(n);
   if (s && strcmp(s, "no") == 0)
      *r = RESTART_NO;
   else if (s && strcmp(s, "on-failure") == 0)
      *r = RESTART_ON_FAILURE;
   else if (s && strcmp(s, "always") == 0)
      *r = RESTART_ALWAYS;
   else {
      ydoc_err(&b->d, n, "restart is no, on-failure or always, not %s%s%s", s ? "'" : "",
               s ? s : ydoc_kind(n), s ? "'" : "");
      return false;
   }
   return true;
}

static bool read_cwd(By* b, yaml_node_t* n, Script* s) {
   char* rel = NULL;
   if (!ydoc_str(&b->d, n, "cwd", &rel)) return false;
   char* dir = rel[0] == '/' ? xstrdup(rel) : pkg_join_path(b->p->dir, rel);
   struct stat st;
   bool ok = stat(dir, &st) == 0 && S_ISDIR(st.st_mode);
   if (!ok)
      ydoc_err(&b->d, n, "cwd '%s' is not a directory (it is relative to %s)", rel, b->p->dir);
   free(rel);
   free(s->dir);
   s->dir = ok ? dir : NULL;
   if (!ok) free(dir);
   return ok;
}

/* What a process's keys hold until its environment is put together. */
typedef struct ProcKeys {
   yaml_node_t *env, *env_file, *run_via;
} ProcKeys;

/* One key of a process. */
static bool read_proc_key(By* b, YPair* p, Proc* pc, ProcKeys* pk) {
   static const char* const known[] = {"script",     "cmd",          "argv",        "cwd",
                                       "env",        "env_file",     "autostart",   "restart",
                                       "backoff",    "max_restarts", "stop_signal", "kill_timeout",
                                       "depends_on", "ready",        "group",       "hidden",
                                       "run_via",    "interactive",  NULL};
   Script* s = &pc->s;
   unsigned long u;
   if (!known_key(b, p, "in a process", known)) return false;
   if (is_key(p, "script")) {
      pc->ref_where = xasprintf("%s:%zu:%zu", b->d.file, p->v->start_mark.line + 1,
                                p->v->start_mark.column + 1);
      return ydoc_str(&b->d, p->v, "script", &s->script_ref);
   }
   if (is_key(p, "cmd")) return ydoc_str(&b->d, p->v, "cmd", &s->command);
   if (is_key(p, "argv")) {
      StrVec av = {0};
      bool ok = read_str_list(b, p->v, "argv", &av, NULL);
      if (ok && !av.n) {
         ydoc_err(&b->d, p->v, "argv needs at least the program");
         ok = false;
      }
      s->argv = prj_sv_take(&av);
      return ok;
   }
   if (is_key(p, "cwd")) return read_cwd(b, p->v, s);
   if (is_key(p, "env")) return pk->env = p->v, true;
   if (is_key(p, "env_file")) return pk->env_file = p->v, true;
   if (is_key(p, "run_via")) return pk->run_via = p->v, true;
   if (is_key(p, "autostart")) return ydoc_bool(&b->d, p->v, "autostart", &s->autostart);
   if (is_key(p, "hidden")) return ydoc_bool(&b->d, p->v, "hidden", &s->hidden);
   if (is_key(p, "interactive")) return ydoc_bool(&b->d, p->v, "interactive", &s->interactive);
   if (is_key(p, "restart")) return read_restart(b, p->v, &s->restart);
   if (is_key(p, "backoff")) return ydoc_duration(&b->d, p->v, "backoff", &s->backoff_s);
   if (is_key(p, "kill_timeout"))
      return ydoc_duration(&b->d, p->v, "kill_timeout", &s->kill_timeout_s);
   if (is_key(p, "stop_signal")) return ydoc_signal(&b->d, p->v, "stop_signal", &s->stop_signal);
   if (is_key(p, "max_restarts")) {
      bool ok = ydoc_uint(&b->d, p->v, "max_restarts", 1000000, &u);
      s->max_restarts = (int)u;
      return ok;
   }
   if (is_key(p, "depends_on")) return read_deps(b, p->v, pc);
   if (is_key(p, "ready")) return read_probe(b, p->v, &s->ready);
   return ydoc_str(&b->d, p->v, "group", &s->group);
}

/* How a process runs, once all its keys are read: one of script, cmd, argv. */
static bool check_kind(By* b, yaml_node_t* key, Proc* pc, ProcKeys* pk) {
   Script* s = &pc->s;
   int kinds = !!s->script_ref + !!s->command + !!s->argv;
   if (kinds != 1) {
      ydoc_err(&b->d, key,
               kinds ? "process '%s' has more than one of script, cmd and argv: keep one"
                     : "process '%s' needs one of script (a package.json script), cmd (a shell "
                       "command) or argv (a program and its arguments)",
               s->name);
      return false;
   }
   if (s->command && !*s->command) {
      ydoc_err(&b->d, key, "process '%s': cmd is empty", s->name);
      return false;
   }
   if (s->argv) {
      /* The command line as people read it, for lists and titles. */
      size_t n = 0;
      for (char** a = s->argv; *a; a++) n += strlen(*a) + 1;
      s->command = xcalloc(n + 1, 1);
      for (char** a = s->argv; *a; a++) {
         if (a != s->argv) strcat(s->command, " ");
         strcat(s->command, *a);
      }
   }
   s->via_pm = false; /* package scripts run directly, as their manager would (issue 14) */
   if (pk->run_via) {
      const char* v = ydoc_scalar(pk->run_via);
      if (v && strcmp(v, "direct") == 0) {
         s->via_pm = false;
      } else if (v && strcmp(v, "package-manager") == 0) {
         if (!s->script_ref) {
            ydoc_err(&b->d, pk->run_via,
                     "run_via: package-manager is for a package script (script:), not a command");
            return false;
         }
         s->via_pm = true;
      } else {
         ydoc_err(&b->d, pk->run_via, "run_via is direct or package-manager, not %s%s%s",
                  v ? "'" : "", v ? v : ydoc_kind(pk->run_via), v ? "'" : "");
         return false;
      }
   }
   return true;
}

static bool name_ok(const char* s) {
   if (!*s) return false;
   for (; *s; s++)
      if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
            strchr("_-.:@/", *s)))
         return false;
   return true;
}

static bool read_process(By* b, YPair* entry) {
   const char* name = (const char*)entry->k->data.scalar.value;
   if (!name_ok(name)) {
      ydoc_err(&b->d, entry->k, "process name '%s' may hold only letters, digits and _ - . : @ /",
               name);
      return false;
   }
   if (entry->v->type != YAML_MAPPING_NODE) {
      ydoc_err(&b->d, entry->v, "process '%s' must be a mapping (like { cmd: ... }), not %s", name,
               ydoc_kind(entry->v));
      return false;
   }
   size_t np;
   YPair* pairs = ydoc_pairs(&b->d, entry->v, &np);
   if (!pairs) return false;
   Proc* pc = prj_proc_add(b->out);
   Script* s = &pc->s;
   s->name = xstrdup(name);
   s->source = SRC_BRUM_YAML;
   s->origin = xasprintf("%s:%zu", b->d.file, entry->k->start_mark.line + 1);
   s->max_restarts = -1;
   ProcKeys pk = {0};
   bool ok = true;
   /* Every key is read, so that one --check shows all of the process's errors. */
   for (size_t i = 0; i < np; i++) ok = read_proc_key(b, &pairs[i], pc, &pk) && ok;
   free(pairs);
   ok = ok && check_kind(b, entry->k, pc, &pk);
   if (!ok) return false;
   if (!s->dir && !s->script_ref) s->dir = xstrdup(b->p->dir);
   if (!s->script_ref) {
      s->package = xstrdup(b->p->name);
      s->version = xstrdup("");
   }
   /* The environment, lowest to highest: the project's, then the process's env_file and env. */
   StrVec env = {0};
   prj_sv_copy(&env, s->script_ref ? &b->base_ref : &b->base_cmd);
   if (pk.env_file) ok = read_env_files(b, pk.env_file, &env);
   if (ok && pk.env) ok = read_env(b, pk.env, &env);
   s->env = prj_sv_take(&env);
   return ok;
}

static bool read_processes(By* b, yaml_node_t* n) {
   if (ydoc_is_null(n)) return true;
   if (n->type != YAML_MAPPING_NODE) {
      ydoc_err(&b->d, n, "processes must be a mapping of names to processes, not %s", ydoc_kind(n));
      return false;
   }
   size_t np;
   YPair* pairs = ydoc_pairs(&b->d, n, &np);
   if (!pairs) return false;
   bool ok = true;
   /* Every process is read, so that one run of --check shows all the errors. */
   for (size_t i = 0; i < np; i++) ok = read_process(b, &pairs[i]) && ok;
   free(pairs);
   return ok;
}

/* notifications: true | false | bell | desktop */
static bool read_notifications(By* b, yaml_node_t* v) {
   const char* s = ydoc_scalar(v);
   if (s && strcmp(s, "bell") == 0) return (b->p->notifications = NOTIFY_BELL), true;
   if (s && strcmp(s, "desktop") == 0) return (b->p->notifications = NOTIFY_DESKTOP), true;
   bool on = false;
   if (s && (strcmp(s, "true") == 0 || strcmp(s, "false") == 0) &&
       ydoc_bool(&b->d, v, "notifications", &on))
      return (b->p->notifications = on ? NOTIFY_ON : NOTIFY_OFF), true;
   ydoc_err(&b->d, v, "notifications must be true, false, bell or desktop, not %s%s%s",
            s ? "'" : "", s ? s : ydoc_kind(v), s ? "'" : "");
   return false;
}

/* A byte count: digits with an optional K, M or G (powers of 1024). */
static bool parse_size(const char* s, uint64_t* out) {
   size_t n = strspn(s, "0123456789");
   if (!n || n > 12) return false;
   const char* units = "KMG";
   const char* u = s[n] ? strchr(units, s[n] & ~0x20) : NULL;
   if (s[n] && (!u || s[n + 1])) return false;
   *out = strtoull(s, NULL, 10) << (u ? 10 * (u - units + 1) : 0);
   return *out > 0;
}

/* log_dir (relative to the project), log_raw, log_max_size, log_keep */
static bool read_log_key(By* b, YPair* p) {
   Project* prj = b->p;
   if (is_key(p, "log_raw")) return ydoc_bool(&b->d, p->v, "log_raw", &prj->log_raw);
   if (is_key(p, "log_keep")) {
      unsigned long u = 0;
      bool ok = ydoc_uint(&b->d, p->v, "log_keep", 100, &u);
      prj->log_keep = (unsigned)u;
      return ok;
   }
   if (is_key(p, "log_max_size")) {
      const char* s = ydoc_scalar(p->v);
      if (s && parse_size(s, &prj->log_max_size)) return true;
      ydoc_err(&b->d, p->v,
               "log_max_size must be a size in bytes (like 1048576, 512K, 10M), not %s",
               s ? s : ydoc_kind(p->v));
      return false;
   }
   char* dir = NULL;
   if (!ydoc_str(&b->d, p->v, "log_dir", &dir)) return false;
   free(prj->log_dir);
   prj->log_dir = dir[0] == '/' ? xstrdup(dir) : pkg_join_path(prj->dir, dir);
   free(dir);
   return true;
}

/* The project keys other than env, env_file and processes. */
static bool read_project_key(By* b, YPair* p) {
   Project* prj = b->p;
   unsigned long u;
   if (is_key(p, "default_run")) {
      StrVec names = {0};
      bool ok = read_str_list(b, p->v, "default_run", &names, b->run_where);
      prj->default_run = prj_sv_take(&names);
      return ok;
   }
   if (is_key(p, "kill_timeout"))
      return ydoc_duration(&b->d, p->v, "kill_timeout", &prj->kill_timeout_s);
   if (is_key(p, "max_lines")) {
      bool ok = ydoc_uint(&b->d, p->v, "max_lines", 100000000, &u);
      if (ok && u == 0) {
         ydoc_err(&b->d, p->v, "max_lines must be at least 1");
         ok = false;
      }
      prj->max_lines = u;
      return ok;
   }
   if (is_key(p, "theme")) return ydoc_str(&b->d, p->v, "theme", &prj->theme);
   if (is_key(p, "prefix_key")) return ydoc_str(&b->d, p->v, "prefix_key", &prj->prefix_key);
   if (is_key(p, "notifications")) return read_notifications(b, p->v);
   return read_log_key(b, p);
}

static void read_top(By* b, yaml_node_t* root) {
   static const char* const known[] = {"processes",     "env",       "env_file", "default_run",
                                       "kill_timeout",  "max_lines", "theme",    "prefix_key",
                                       "notifications", "log_dir",   "log_raw",  "log_max_size",
                                       "log_keep",      NULL};
   size_t np;
   YPair* pairs = ydoc_pairs(&b->d, root, &np);
   if (!pairs) return;
   yaml_node_t *env = NULL, *env_file = NULL, *procs = NULL;
   for (size_t i = 0; i < np; i++) {
      YPair* p = &pairs[i];
      if (!known_key(b, p, "at the top of brum.yaml", known)) continue;
      if (is_key(p, "env"))
         env = p->v;
      else if (is_key(p, "env_file"))
         env_file = p->v;
      else if (is_key(p, "processes"))
         procs = p->v;
      else
         read_project_key(b, p);
   }
   free(pairs);
   /* The project's environment first, whatever the order of the keys: processes build on it. */
   if (env_file) {
      if (read_env_files(b, env_file, &b->base_ref)) prj_sv_copy(&b->base_cmd, &b->base_ref);
   } else {
      prj_default_env(b->p->dir, &b->base_cmd, b->d.errs);
   }
   if (env) {
      StrVec e = {0};
      if (read_env(b, env, &e)) {
         prj_sv_copy(&b->base_ref, &e);
         prj_sv_copy(&b->base_cmd, &e);
      }
      prj_sv_done(&e);
   }
   if (procs) read_processes(b, procs);
}

void prj_default_env(const char* dir, StrVec* base, StrVec* errs) {
   char* path = pkg_join_path(dir, ".env");
   if (access(path, F_OK) == 0) {
      char* cause = NULL;
      if (envfile_load(path, ".env", base, &cause) < 0) {
         pkg_sv_push(errs, cause);
         cause = NULL;
      }
      free(cause);
   }
   free(path);
}

void brumyaml_load(Project* p, const char* text, size_t len, const char* file, ProcVec* out,
                   StrVec* base, StrVec* run_where, StrVec* errs) {
   By b = {.p = p, .out = out, .run_where = run_where};
   b.d.file = file;
   b.d.errs = errs;
   if (!ydoc_parse(&b.d, text, len)) return;
   yaml_node_t* root = yaml_document_get_root_node(&b.d.doc);
   if (!root || ydoc_is_null(root)) {
      prj_default_env(p->dir, base, errs); /* an empty brum.yaml says nothing */
   } else if (root->type != YAML_MAPPING_NODE) {
      ydoc_err(&b.d, root,
               "the top level of brum.yaml must be a mapping (like processes: ...), "
               "not %s",
               ydoc_kind(root));
   } else {
      read_top(&b, root);
      prj_sv_copy(base, &b.base_cmd);
   }
   prj_sv_done(&b.base_ref);
   prj_sv_done(&b.base_cmd);
   ydoc_done(&b.d);
}
