/* Finding the project (the walk-up) and loading its files into one list of processes. */
#include "scripts/project_impl.h"

#include "core/util.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The files that make a directory a project, in the order the walk-up names them. */
static const char* const project_files[] = {"package.json",         "brum.yaml",
                                            "Procfile.dev",         "Procfile",
                                            "process-compose.yaml", "process-compose.yml"};

Proc* prj_proc_add(ProcVec* pv) {
   if (pv->n == pv->cap) {
      pv->cap = pv->cap ? pv->cap * 2 : 8;
      pv->v = xrealloc(pv->v, pv->cap * sizeof *pv->v);
   }
   Proc* p = &pv->v[pv->n++];
   *p = (Proc){0};
   return p;
}

static void free_strv(char** v) {
   if (!v) return;
   for (char** s = v; *s; s++) free(*s);
   free(v);
}

void prj_script_free(Script* s) {
   free(s->name);
   free(s->command);
   free(s->package);
   free(s->dir);
   free(s->version);
   free(s->origin);
   free_strv(s->argv);
   free(s->shell);
   free(s->script_ref);
   free_strv(s->env);
   for (size_t i = 0; i < s->ndeps; i++) free(s->deps[i].name);
   free(s->deps);
   free(s->ready.target);
   free(s->group);
   free_strv(s->unknown);
   *s = (Script){0};
}

/* Frees what the merge did not move into the project. */
static void proc_meta_free(Proc* p) {
   if (p->dep_where)
      for (size_t i = 0; i < p->s.ndeps; i++) free(p->dep_where[i]);
   free(p->dep_where);
   free(p->ref_where);
   p->dep_where = NULL;
   p->ref_where = NULL;
}

void prj_proc_free(Proc* p) {
   proc_meta_free(p);
   prj_script_free(&p->s);
}

void prj_procs_done(ProcVec* pv) {
   for (size_t i = 0; i < pv->n; i++) prj_proc_free(&pv->v[i]);
   free(pv->v);
   *pv = (ProcVec){0};
}

static bool exists_in(const char* dir, const char* name) {
   char* path = pkg_join_path(dir, name);
   bool ok = access(path, F_OK) == 0;
   free(path);
   return ok;
}

static bool is_project_dir(const char* dir) {
   for (size_t i = 0; i < ARRAY_LEN(project_files); i++)
      if (exists_in(dir, project_files[i])) return true;
   return false;
}

/* The parent of a real path, in place; false at "/". */
static bool up(char* dir) {
   char* slash = strrchr(dir, '/');
   if (!slash || (slash == dir && !dir[1])) return false;
   if (slash == dir)
      dir[1] = '\0';
   else
      *slash = '\0';
   return true;
}

/* The first directory from start up that holds a project file, or NULL. */
static char* find_project_dir(const char* start) {
   char* dir = xstrdup(start);
   do {
      if (is_project_dir(dir)) return dir;
   } while (up(dir));
   free(dir);
   return NULL;
}

/* The workspace root above the package directory pkg whose patterns include it, or NULL. */
static char* find_workspace_root(const char* pkg) {
   char* dir = xstrdup(pkg);
   while (up(dir)) {
      if ((exists_in(dir, "package.json") || exists_in(dir, "pnpm-workspace.yaml")) &&
          pkg_workspace_includes(dir, pkg))
         return dir;
   }
   free(dir);
   return NULL;
}

static bool is_inside(const char* root, const char* path) {
   size_t n = strlen(root);
   if (n > 0 && root[n - 1] == '/') n--;
   return strncmp(path, root, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

/* Reads one optional project file into a buffer; false when it is absent (or unreadable: then an
 * error says so). */
static bool read_optional(const Project* p, const char* name, char** text, size_t* len,
                          StrVec* errs) {
   char* path = pkg_join_path(p->dir, name);
   bool found = access(path, F_OK) == 0;
   if (found) {
      char* why = NULL;
      if (util_read_file(path, PRJ_MAX_FILE, text, len, &why) < 0) {
         prj_msg(errs, "cannot read %s: %s", name, why);
         free(why);
         found = false;
      }
   }
   free(path);
   return found;
}

static void load_files(Project* p, ProcVec* yaml, ProcVec* procfile, ProcVec* compose,
                       StrVec* run_where, StrVec* warns, StrVec* errs) {
   char* text = NULL;
   size_t len = 0;
   StrVec base = {0};
   if (read_optional(p, "brum.yaml", &text, &len, errs)) {
      brumyaml_load(p, text, len, "brum.yaml", yaml, &base, run_where, errs);
      free(text);
   } else {
      prj_default_env(p->dir, &base, errs);
   }
   const char* pf = exists_in(p->dir, "Procfile.dev") ? "Procfile.dev" : "Procfile";
   if (read_optional(p, pf, &text, &len, errs)) {
      procfile_load(p, text, len, pf, &base, procfile, errs);
      free(text);
   }
   const char* pc =
       exists_in(p->dir, "process-compose.yaml") ? "process-compose.yaml" : "process-compose.yml";
   if (read_optional(p, pc, &text, &len, errs)) {
      compose_load(p, text, len, pc, compose, warns, errs);
      free(text);
   }
   prj_sv_done(&base);
}

static const char* source_name(const Script* s) {
   switch (s->source) {
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

/* Which source wins a name clash: lower wins. */
static int rank(ScriptSource src) {
   return src == SRC_BRUM_YAML ? 0 : src == SRC_PROCFILE ? 1 : src == SRC_COMPOSE ? 2 : 3;
}

/* Fills a brum.yaml `script:` process from its package script. -1 when there is none. */
static long resolve_ref(const Project* p, Proc* y, StrVec* errs) {
   for (size_t i = 0; i < p->nscripts; i++) {
      const Script* s = &p->scripts[i];
      if (strcmp(s->name, y->s.script_ref) != 0) continue;
      free(y->s.command);
      y->s.command = xstrdup(s->command);
      y->s.package = xstrdup(s->package);
      y->s.version = xstrdup(s->version ? s->version : "");
      y->s.in_workspace = s->in_workspace;
      if (!y->s.dir) y->s.dir = xstrdup(s->dir);
      return (long)i;
   }
   prj_msg(errs, "%s: script '%s' is not in package.json%s", y->ref_where, y->s.script_ref,
           p->has_package_json ? " (brum --list shows the scripts; a workspace package's is "
                                 "\"PKG:NAME\")"
                               : ": the project has no package.json");
   return -1;
}

/* All processes in their final order: package scripts (a replaced one gives its place to the
 * brum.yaml processes naming it), the other brum.yaml processes, Procfile, process-compose. */
static void order(Project* p, ProcVec* yaml, ProcVec* procfile, ProcVec* compose, ProcVec* all,
                  StrVec* errs) {
   long* ref = xcalloc(yaml->n + 1, sizeof *ref);
   bool* taken = xcalloc(yaml->n + 1, sizeof *taken);
   for (size_t j = 0; j < yaml->n; j++)
      ref[j] = yaml->v[j].s.script_ref ? resolve_ref(p, &yaml->v[j], errs) : -1;
   for (size_t i = 0; i < p->nscripts; i++) {
      bool replaced = false;
      for (size_t j = 0; j < yaml->n; j++) {
         if (ref[j] != (long)i) continue;
         *prj_proc_add(all) = yaml->v[j];
         taken[j] = replaced = true;
      }
      if (replaced)
         prj_script_free(&p->scripts[i]);
      else
         prj_proc_add(all)->s = p->scripts[i];
   }
   free(p->scripts);
   p->scripts = NULL;
   p->nscripts = 0;
   for (size_t j = 0; j < yaml->n; j++)
      if (!taken[j]) *prj_proc_add(all) = yaml->v[j];
   for (size_t j = 0; j < procfile->n; j++) *prj_proc_add(all) = procfile->v[j];
   for (size_t j = 0; j < compose->n; j++) *prj_proc_add(all) = compose->v[j];
   free(yaml->v);
   free(procfile->v);
   free(compose->v);
   *yaml = *procfile = *compose = (ProcVec){0};
   free(ref);
   free(taken);
}

/* Drops the losers of name clashes (with a warning); names maps each name to its index in all. */
static void settle_names(ProcVec* all, json_t* names, StrVec* warns) {
   for (size_t i = 0; i < all->n; i++) {
      Script* s = &all->v[i].s;
      json_t* have = json_object_get(names, s->name);
      if (!have) {
         json_object_set_new_nocheck(names, s->name, json_integer((json_int_t)i));
         continue;
      }
      Script* o = &all->v[json_integer_value(have)].s;
      bool mine = rank(s->source) < rank(o->source);
      Script* win = mine ? s : o;
      Script* lose = mine ? o : s;
      prj_msg(warns, "'%s' is defined by %s%s%s and by %s%s%s: the %s one is used", s->name,
              source_name(win), win->origin ? " at " : "", win->origin ? win->origin : "",
              source_name(lose), lose->origin ? " at " : "", lose->origin ? lose->origin : "",
              source_name(win));
      if (mine) json_object_set_new_nocheck(names, s->name, json_integer((json_int_t)i));
      lose->source = (ScriptSource)-1; /* marked for removal */
   }
   size_t w = 0;
   for (size_t i = 0; i < all->n; i++) {
      if ((int)all->v[i].s.source == -1) {
         all->v[i].s.source = SRC_PACKAGE;
         prj_proc_free(&all->v[i]);
         continue;
      }
      all->v[w++] = all->v[i];
   }
   bool removed = w != all->n;
   all->n = w;
   if (!removed) return; /* the indexes stand */
   json_object_clear(names);
   for (size_t i = 0; i < all->n; i++)
      json_object_set_new_nocheck(names, all->v[i].s.name, json_integer((json_int_t)i));
}

/* Reports one dependency cycle found at the back edge from->to (on the DFS stack). */
static void report_cycle(ProcVec* all, const size_t* stack, size_t depth, size_t to, size_t dep,
                         StrVec* errs) {
   size_t first = 0;
   while (stack[first] != to) first++;
   size_t n = 0;
   for (size_t i = first; i < depth; i++) n += strlen(all->v[stack[i]].s.name) + 4;
   char* path = xcalloc(n + strlen(all->v[to].s.name) + 1, 1);
   for (size_t i = first; i < depth; i++) {
      strcat(path, all->v[stack[i]].s.name);
      strcat(path, " -> ");
   }
   strcat(path, all->v[to].s.name);
   Proc* from = &all->v[stack[depth - 1]];
   prj_msg(errs, "%s: dependency cycle: %s (a process cannot wait for itself)",
           from->dep_where ? from->dep_where[dep] : source_name(&from->s), path);
   free(path);
}

/* Every dependency names a process, and none waits for itself (iterative DFS: no recursion). */
static void check_deps(ProcVec* all, json_t* names, StrVec* errs) {
   size_t* target = NULL; /* per process, per dep: the index, flattened */
   size_t* first = xcalloc(all->n + 1, sizeof *first);
   size_t total = 0;
   for (size_t i = 0; i < all->n; i++) first[i] = total, total += all->v[i].s.ndeps;
   first[all->n] = total;
   target = xcalloc(total + 1, sizeof *target);
   bool ok = true;
   for (size_t i = 0; i < all->n; i++) {
      Proc* pc = &all->v[i];
      for (size_t d = 0; d < pc->s.ndeps; d++) {
         json_t* t = json_object_get(names, pc->s.deps[d].name);
         if (t) {
            target[first[i] + d] = (size_t)json_integer_value(t);
            continue;
         }
         prj_msg(errs, "%s: depends_on names '%s', which is not a process of the project",
                 pc->dep_where ? pc->dep_where[d] : source_name(&pc->s), pc->s.deps[d].name);
         ok = false;
      }
   }
   unsigned char* color = xcalloc(all->n + 1, 1); /* 0 new, 1 on the stack, 2 done */
   size_t* stack = xcalloc(all->n + 1, sizeof *stack);
   size_t* next = xcalloc(all->n + 1, sizeof *next);
   for (size_t root = 0; ok && root < all->n; root++) {
      if (color[root]) continue;
      size_t depth = 0;
      stack[depth++] = root;
      color[root] = 1;
      next[root] = 0;
      while (ok && depth) {
         size_t v = stack[depth - 1];
         if (next[v] == all->v[v].s.ndeps) {
            color[v] = 2;
            depth--;
            continue;
         }
         size_t d = next[v]++;
         size_t t = target[first[v] + d];
         if (color[t] == 1) {
            report_cycle(all, stack, depth, t, d, errs);
            ok = false;
         } else if (!color[t]) {
            color[t] = 1;
            next[t] = 0;
            stack[depth++] = t;
         }
      }
   }
   free(color);
   free(stack);
   free(next);
   free(first);
   free(target);
}

static void check_default_run(const Project* p, const StrVec* run_where, json_t* names,
                              StrVec* errs) {
   if (!p->default_run) return;
   for (size_t i = 0; p->default_run[i]; i++)
      if (!json_object_get(names, p->default_run[i]))
         prj_msg(errs, "%s: default_run names '%s', which is not a process of the project",
                 i < run_where->n ? run_where->v[i] : "brum.yaml", p->default_run[i]);
}

/* The merge: one ordered list, names settled, references checked. */
static void merge(Project* p, ProcVec* yaml, ProcVec* procfile, ProcVec* compose,
                  const StrVec* run_where, StrVec* warns, StrVec* errs) {
   ProcVec all = {0};
   order(p, yaml, procfile, compose, &all, errs);
   json_t* names = json_object();
   if (!names) util_die_oom();
   settle_names(&all, names, warns);
   check_deps(&all, names, errs);
   check_default_run(p, run_where, names, errs);
   json_decref(names);
   p->scripts = xcalloc(all.n + 1, sizeof *p->scripts);
   for (size_t i = 0; i < all.n; i++) {
      proc_meta_free(&all.v[i]);
      p->scripts[i] = all.v[i].s;
   }
   p->nscripts = all.n;
   free(all.v);
}

/* The workspace package whose directory holds start (the deepest), or NULL. */
static char* start_package(const Project* p) {
   const Script* best = NULL;
   for (size_t i = 0; i < p->nscripts; i++) {
      const Script* s = &p->scripts[i];
      if (!s->in_workspace || !s->dir || !is_inside(s->dir, p->start_dir)) continue;
      if (!best || strlen(s->dir) > strlen(best->dir)) best = s;
   }
   return best ? xstrdup(best->package) : NULL;
}

/* A project of brum.yaml, Procfile or process-compose.yaml files only. */
static Project* project_without_package(const char* dir) {
   Project* p = xcalloc(1, sizeof *p);
   p->dir = xstrdup(dir);
   const char* slash = strrchr(dir, '/');
   p->name = xstrdup(slash && slash[1] ? slash + 1 : dir);
   p->version = xstrdup("");
   p->pm = PM_NPM;
   p->pm_reason = xstrdup("no package.json");
   return p;
}

static char* join_lines(const StrVec* sv) {
   size_t n = 1;
   for (size_t i = 0; i < sv->n; i++) n += strlen(sv->v[i]) + 1;
   char* s = xcalloc(n, 1);
   for (size_t i = 0; i < sv->n; i++) {
      if (i) strcat(s, "\n");
      strcat(s, sv->v[i]);
   }
   return s;
}

static void add_warnings(Project* p, StrVec* warns) {
   if (!warns->n) return;
   p->warnings = xrealloc(p->warnings, (p->nwarnings + warns->n) * sizeof *p->warnings);
   for (size_t i = 0; i < warns->n; i++) p->warnings[p->nwarnings++] = warns->v[i];
   free(warns->v);
   *warns = (StrVec){0};
}

/* Project files in a workspace package are not read: the project is the workspace's root. */
static void warn_skipped(const char* found, const Project* p, StrVec* warns) {
   for (size_t i = 1; i < ARRAY_LEN(project_files); i++)
      if (exists_in(found, project_files[i]))
         prj_msg(warns, "%s/%s is not read: brum reads project files from the workspace root %s",
                 found + strlen(p->dir) + 1, project_files[i], p->dir);
}

static int locate(const char* dir, char** start, char** found, char** cause) {
   struct stat st;
   if (stat(dir, &st) < 0) {
      int err = -errno;
      *cause = err == -ENOENT ? xasprintf("no such directory: %s", dir)
                              : xasprintf("cannot open %s: %s", dir, strerror(-err));
      return err;
   }
   if (!S_ISDIR(st.st_mode)) {
      *cause = xasprintf("not a directory: %s", dir);
      return -ENOTDIR;
   }
   *start = realpath(dir, NULL);
   if (!*start) {
      int err = -errno;
      *cause = xasprintf("cannot resolve %s: %s", dir, strerror(-err));
      return err;
   }
   *found = find_project_dir(*start);
   if (!*found) {
      *cause = xasprintf("no project file (package.json, brum.yaml, Procfile.dev, Procfile or "
                         "process-compose.yaml) in %s or any directory above it; run brum in a "
                         "project directory or pass -d DIR",
                         *start);
      return -ENOENT;
   }
   return 0;
}

int pkg_load(const char* dir, Project** out, char** cause) {
   *out = NULL;
   *cause = NULL;
   char *start = NULL, *found = NULL, *root = NULL;
   Project* p = NULL;
   int err = locate(dir, &start, &found, cause);
   if (err < 0) goto out;
   if (exists_in(found, "package.json")) root = find_workspace_root(found);
   if (!root) root = xstrdup(found);
   if (exists_in(root, "package.json")) {
      /* Messages name the file as the user would: by the directory given, when it is the root. */
      const char* shown = strcmp(root, start) == 0 ? dir : root;
      if ((err = pkg_load_json(root, shown, &p, cause)) < 0) goto out;
   } else {
      p = project_without_package(root);
   }
   p->start_dir = start;
   start = NULL;
   p->start_package = start_package(p);
   StrVec warns = {0}, errs = {0}, run_where = {0};
   if (strcmp(found, root) != 0) warn_skipped(found, p, &warns);
   ProcVec yaml = {0}, procfile = {0}, compose = {0};
   load_files(p, &yaml, &procfile, &compose, &run_where, &warns, &errs);
   if (!errs.n) merge(p, &yaml, &procfile, &compose, &run_where, &warns, &errs);
   prj_procs_done(&yaml);
   prj_procs_done(&procfile);
   prj_procs_done(&compose);
   prj_sv_done(&run_where);
   add_warnings(p, &warns);
   if (errs.n) {
      *cause = join_lines(&errs);
      err = -EINVAL;
      pkg_free(p);
      p = NULL;
   }
   prj_sv_done(&errs);
out:
   *out = p;
   free(start);
   free(found);
   free(root);
   return err;
}

static const Script* find_exact(const Project* p, const char* name, bool by_ref) {
   for (size_t i = 0; i < p->nscripts; i++) {
      const Script* s = &p->scripts[i];
      const char* key = by_ref ? s->script_ref : s->name;
      if (key && strcmp(key, name) == 0) return s;
   }
   return NULL;
}

const Script* pkg_find(const Project* p, const char* name) {
   char* qualified = p->start_package ? xasprintf("%s:%s", p->start_package, name) : NULL;
   /* The start package's script (or what replaced it) before the root's of the same name. */
   const Script* s = NULL;
   if (qualified) s = find_exact(p, qualified, false);
   if (!s && qualified) s = find_exact(p, qualified, true);
   if (!s) s = find_exact(p, name, false);
   if (!s) s = find_exact(p, name, true);
   free(qualified);
   return s;
}
