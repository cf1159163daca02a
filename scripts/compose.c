/* process-compose.yaml: the common subset of process-compose's format. What brum does not do is
 * kept as a note per process (Script.unknown), not refused: the file is someone else's. */
#include "scripts/project_impl.h"

#include "core/util.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct Pc {
   YDoc d;
   Project* p;
   StrVec* warns;
   StrVec global_env; /* the top-level environment */
} Pc;

static bool key_is(const YPair* pr, const char* key) {
   return strcmp((const char*)pr->k->data.scalar.value, key) == 0;
}

/* Notes that `prefix.key` is not understood, on the process (or, without one, as a warning). */
static void unsupported(Pc* c, StrVec* notes, const YPair* pr, const char* prefix) {
   char* msg = xasprintf("%s:%zu: '%s%s%s' is not supported", c->d.file, pr->k->start_mark.line + 1,
                         prefix, *prefix ? "." : "", (const char*)pr->k->data.scalar.value);
   pkg_sv_push(notes ? notes : c->warns, msg);
}

static YPair* mapping(Pc* c, yaml_node_t* n, const char* what, size_t* np) {
   if (n->type != YAML_MAPPING_NODE) {
      ydoc_err(&c->d, n, "%s must be a mapping, not %s", what, ydoc_kind(n));
      return NULL;
   }
   return ydoc_pairs(&c->d, n, np);
}

/* environment: a list of "KEY=VALUE". */
static bool read_environment(Pc* c, yaml_node_t* n, StrVec* env) {
   if (n->type != YAML_SEQUENCE_NODE) {
      ydoc_err(&c->d, n, "environment must be a list of \"KEY=VALUE\" strings, not %s",
               ydoc_kind(n));
      return false;
   }
   size_t count = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
   if (!ydoc_count(&c->d, n, count)) return false;
   for (size_t i = 0; i < count; i++) {
      yaml_node_t* it = ydoc_node(&c->d, n->data.sequence.items.start[i]);
      char* kv = NULL;
      if (!ydoc_str(&c->d, it, "an environment entry", &kv)) return false;
      if (!strchr(kv, '=') || kv[0] == '=') {
         ydoc_err(&c->d, it, "an environment entry is \"KEY=VALUE\", not '%s'", kv);
         free(kv);
         return false;
      }
      pkg_sv_push(env, kv);
   }
   return true;
}

static bool read_depends(Pc* c, yaml_node_t* n, Proc* pc, StrVec* notes) {
   size_t np;
   YPair* pairs = mapping(c, n, "depends_on", &np);
   if (!pairs) return false;
   bool ok = true;
   for (size_t i = 0; i < np && ok; i++) {
      const char* name = (const char*)pairs[i].k->data.scalar.value;
      DepCond cond = DEP_STARTED;
      yaml_node_t* cn = NULL;
      if (pairs[i].v->type == YAML_MAPPING_NODE) {
         size_t nc;
         YPair* cp = ydoc_pairs(&c->d, pairs[i].v, &nc);
         if (!cp) return free(pairs), false;
         for (size_t k = 0; k < nc; k++) {
            if (key_is(&cp[k], "condition"))
               cn = cp[k].v;
            else
               unsupported(c, notes, &cp[k], "depends_on");
         }
         free(cp);
      } else if (!ydoc_is_null(pairs[i].v)) {
         ydoc_err(&c->d, pairs[i].v, "depends_on.%s must be a mapping (condition: ...)", name);
         ok = false;
         break;
      }
      const char* s = ydoc_scalar(cn);
      if (!cn || (s && strcmp(s, "process_started") == 0)) {
         cond = DEP_STARTED;
      } else if (s && strcmp(s, "process_healthy") == 0) {
         cond = DEP_READY;
      } else if (s && (strcmp(s, "process_completed_successfully") == 0 ||
                       strcmp(s, "process_completed") == 0)) {
         cond = DEP_EXITED_OK;
         /* brum waits for a successful exit only: say so where it differs. */
         if (strcmp(s, "process_completed") == 0)
            pkg_sv_push(c->warns, xasprintf("%s:%zu: condition process_completed is treated as "
                                            "process_completed_successfully",
                                            c->d.file, cn->start_mark.line + 1));
      } else {
         ydoc_err(&c->d, cn,
                  "condition must be process_started, process_healthy, process_completed or "
                  "process_completed_successfully, not %s%s%s",
                  s ? "'" : "", s ? s : ydoc_kind(cn), s ? "'" : "");
         ok = false;
         break;
      }
      Script* sc = &pc->s;
      sc->deps = xrealloc(sc->deps, (sc->ndeps + 1) * sizeof *sc->deps);
      pc->dep_where = xrealloc(pc->dep_where, (sc->ndeps + 1) * sizeof *pc->dep_where);
      sc->deps[sc->ndeps] = (ScriptDep){xstrdup(name), cond};
      pc->dep_where[sc->ndeps++] =
          xasprintf("%s:%zu:%zu", c->d.file, pairs[i].k->start_mark.line + 1,
                    pairs[i].k->start_mark.column + 1);
   }
   free(pairs);
   return ok;
}

/* http_get: { host, port, path, scheme } becomes a URL. */
static bool read_http_get(Pc* c, yaml_node_t* n, ScriptProbe* pr, StrVec* notes) {
   size_t np;
   YPair* pairs = mapping(c, n, "readiness_probe.http_get", &np);
   if (!pairs) return false;
   char *host = NULL, *path = NULL, *scheme = NULL;
   unsigned long port = 0;
   bool ok = true;
   for (size_t i = 0; i < np && ok; i++) {
      YPair* p = &pairs[i];
      if (key_is(p, "host"))
         ok = ydoc_str(&c->d, p->v, "http_get.host", &host);
      else if (key_is(p, "path"))
         ok = ydoc_str(&c->d, p->v, "http_get.path", &path);
      else if (key_is(p, "scheme"))
         ok = ydoc_str(&c->d, p->v, "http_get.scheme", &scheme);
      else if (key_is(p, "port"))
         ok = ydoc_uint(&c->d, p->v, "http_get.port", 65535, &port);
      else
         unsupported(c, notes, p, "readiness_probe.http_get");
   }
   if (ok) {
      pr->kind = PROBE_HTTP;
      pr->target =
          xasprintf("%s://%s%s%.0lu%s%s", scheme ? scheme : "http", host ? host : "127.0.0.1",
                    port ? ":" : "", port, path && path[0] != '/' ? "/" : "", path ? path : "/");
      char* why = prj_probe_check(PROBE_HTTP, pr->target);
      if (why) {
         ydoc_err(&c->d, n, "%s", why);
         free(why);
         ok = false;
      }
   }
   free(host);
   free(path);
   free(scheme);
   free(pairs);
   return ok;
}

static bool read_probe(Pc* c, yaml_node_t* n, ScriptProbe* pr, StrVec* notes) {
   size_t np;
   YPair* pairs = mapping(c, n, "readiness_probe", &np);
   if (!pairs) return false;
   bool ok = true;
   unsigned long u;
   for (size_t i = 0; i < np && ok; i++) {
      YPair* p = &pairs[i];
      if (key_is(p, "exec")) {
         size_t ne;
         YPair* ep = mapping(c, p->v, "readiness_probe.exec", &ne);
         if (!(ok = ep != NULL)) break;
         for (size_t k = 0; k < ne && ok; k++) {
            if (key_is(&ep[k], "command")) {
               pr->kind = PROBE_EXEC;
               ok = ydoc_str(&c->d, ep[k].v, "exec.command", &pr->target);
            } else {
               unsupported(c, notes, &ep[k], "readiness_probe.exec");
            }
         }
         free(ep);
      } else if (key_is(p, "http_get")) {
         ok = read_http_get(c, p->v, pr, notes);
      } else if (key_is(p, "period_seconds")) {
         ok = ydoc_duration(&c->d, p->v, "period_seconds", &pr->interval_s);
      } else if (key_is(p, "timeout_seconds")) {
         ok = ydoc_duration(&c->d, p->v, "timeout_seconds", &pr->timeout_s);
      } else if (key_is(p, "failure_threshold")) {
         ok = ydoc_uint(&c->d, p->v, "failure_threshold", 1000000, &u);
         pr->retries = (unsigned)u;
      } else {
         unsupported(c, notes, p, "readiness_probe");
      }
   }
   free(pairs);
   return ok;
}

static bool read_availability(Pc* c, yaml_node_t* n, Script* s, StrVec* notes) {
   size_t np;
   YPair* pairs = mapping(c, n, "availability", &np);
   if (!pairs) return false;
   bool ok = true;
   unsigned long u;
   for (size_t i = 0; i < np && ok; i++) {
      YPair* p = &pairs[i];
      if (key_is(p, "restart")) {
         const char* r = ydoc_scalar(p->v);
         if (r && strcmp(r, "on_failure") == 0)
            s->restart = RESTART_ON_FAILURE;
         else if (r && strcmp(r, "always") == 0)
            s->restart = RESTART_ALWAYS;
         else if (r && strcmp(r, "no") == 0)
            s->restart = RESTART_NO;
         else
            unsupported(c, notes, p, "availability"); /* exit_on_failure... */
      } else if (key_is(p, "backoff_seconds")) {
         ok = ydoc_duration(&c->d, p->v, "backoff_seconds", &s->backoff_s);
      } else if (key_is(p, "max_restarts")) {
         ok = ydoc_uint(&c->d, p->v, "max_restarts", 1000000, &u);
         /* process-compose's 0 means no limit. */
         s->max_restarts = u ? (int)u : -1;
      } else {
         unsupported(c, notes, p, "availability");
      }
   }
   free(pairs);
   return ok;
}

static bool read_shutdown(Pc* c, yaml_node_t* n, Script* s, StrVec* notes) {
   size_t np;
   YPair* pairs = mapping(c, n, "shutdown", &np);
   if (!pairs) return false;
   bool ok = true;
   for (size_t i = 0; i < np && ok; i++) {
      YPair* p = &pairs[i];
      if (key_is(p, "signal"))
         ok = ydoc_signal(&c->d, p->v, "shutdown.signal", &s->stop_signal);
      else if (key_is(p, "timeout_seconds"))
         ok = ydoc_duration(&c->d, p->v, "shutdown.timeout_seconds", &s->kill_timeout_s);
      else
         unsupported(c, notes, p, "shutdown");
   }
   free(pairs);
   return ok;
}

static bool read_key(Pc* c, YPair* p, Proc* pc, StrVec* env, StrVec* notes) {
   Script* s = &pc->s;
   bool disabled;
   if (key_is(p, "command")) return ydoc_str(&c->d, p->v, "command", &s->command);
   if (key_is(p, "environment")) return read_environment(c, p->v, env);
   if (key_is(p, "depends_on")) return read_depends(c, p->v, pc, notes);
   if (key_is(p, "readiness_probe")) return read_probe(c, p->v, &s->ready, notes);
   if (key_is(p, "availability")) return read_availability(c, p->v, s, notes);
   if (key_is(p, "shutdown")) return read_shutdown(c, p->v, s, notes);
   if (key_is(p, "namespace")) return ydoc_str(&c->d, p->v, "namespace", &s->group);
   if (key_is(p, "disabled")) {
      if (!ydoc_bool(&c->d, p->v, "disabled", &disabled)) return false;
      s->autostart = !disabled;
      return true;
   }
   if (key_is(p, "working_dir")) {
      char* rel = NULL;
      if (!ydoc_str(&c->d, p->v, "working_dir", &rel)) return false;
      free(s->dir);
      s->dir = rel[0] == '/' ? xstrdup(rel) : pkg_join_path(c->p->dir, rel);
      struct stat st;
      bool ok = stat(s->dir, &st) == 0 && S_ISDIR(st.st_mode);
      if (!ok) ydoc_err(&c->d, p->v, "working_dir '%s' is not a directory", rel);
      free(rel);
      return ok;
   }
   unsupported(c, notes, p, "");
   return true;
}

static bool bash_exists(void) {
   return access("/bin/bash", X_OK) == 0 || access("/usr/bin/bash", X_OK) == 0;
}

static bool read_process(Pc* c, YPair* entry, ProcVec* out) {
   const char* name = (const char*)entry->k->data.scalar.value;
   size_t np;
   YPair* pairs = mapping(c, entry->v, "a process", &np);
   if (!pairs) return false;
   Proc* pc = prj_proc_add(out);
   Script* s = &pc->s;
   s->name = xstrdup(name);
   s->source = SRC_COMPOSE;
   s->origin = xasprintf("%s:%zu", c->d.file, entry->k->start_mark.line + 1);
   s->max_restarts = -1;
   s->autostart = true; /* process-compose starts every process that is not disabled */
   s->package = xstrdup(c->p->name);
   s->version = xstrdup("");
   /* process-compose runs commands with bash -c. */
   if (bash_exists()) s->shell = xstrdup("bash");
   StrVec env = {0}, notes = {0};
   prj_sv_copy(&env, &c->global_env);
   bool ok = true;
   for (size_t i = 0; i < np && ok; i++) ok = read_key(c, &pairs[i], pc, &env, &notes);
   free(pairs);
   if (ok && (!s->command || !*s->command)) {
      ydoc_err(&c->d, entry->k, "process '%s' has no command", name);
      ok = false;
   }
   if (!s->dir) s->dir = xstrdup(c->p->dir);
   s->env = prj_sv_take(&env);
   s->unknown = prj_sv_take(&notes);
   return ok;
}

void compose_load(Project* p, const char* text, size_t len, const char* file, ProcVec* out,
                  StrVec* warns, StrVec* errs) {
   Pc c = {.p = p, .warns = warns};
   c.d.file = file;
   c.d.errs = errs;
   if (!ydoc_parse(&c.d, text, len)) return;
   yaml_node_t* root = yaml_document_get_root_node(&c.d.doc);
   size_t np = 0;
   YPair* pairs = NULL;
   if (root && !ydoc_is_null(root)) pairs = mapping(&c, root, "the top level", &np);
   yaml_node_t* procs = NULL;
   for (size_t i = 0; i < np; i++) {
      if (key_is(&pairs[i], "processes"))
         procs = pairs[i].v;
      else if (key_is(&pairs[i], "environment"))
         read_environment(&c, pairs[i].v, &c.global_env);
      else if (!key_is(&pairs[i], "version"))
         unsupported(&c, NULL, &pairs[i], "");
   }
   free(pairs);
   if (procs && !ydoc_is_null(procs)) {
      YPair* pp = mapping(&c, procs, "processes", &np);
      for (size_t i = 0; pp && i < np; i++) read_process(&c, &pp[i], out);
      free(pp);
   }
   prj_sv_done(&c.global_env);
   ydoc_done(&c.d);
}
