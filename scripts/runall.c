/* `brum -r GLOB` (scripts/runall.h): which scripts a glob names, and the workspace order they
 * start in: the same order `pnpm -r run` keeps (a package after the workspace packages it depends
 * on), with a dependency cycle's members left unordered among themselves, as pnpm does. */
#include "scripts/runall.h"

#include <errno.h>
#include <fnmatch.h>
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

#define END SIZE_MAX /* ends the index lists below */

bool runall_is_glob(const char* arg) {
   return strpbrk(arg, "*?[") != NULL;
}

/* A workspace script's own name: "build" of "web:build" (a root script's name is its own). */
static const char* script_key(const Script* s) {
   if (!s->in_workspace || !s->package) return s->name;
   size_t n = strlen(s->package);
   return strncmp(s->name, s->package, n) == 0 && s->name[n] == ':' ? s->name + n + 1 : s->name;
}

bool runall_match(const Script* s, const char* glob) {
   if (fnmatch(glob, s->name, 0) == 0) return true;
   if (s->source != SRC_PACKAGE || !s->package) return false;
   char* full = xasprintf("%s:%s", s->package, script_key(s));
   bool m = fnmatch(glob, full, 0) == 0;
   free(full);
   return m;
}

/* A growable list of indexes, kept END-terminated. */
typedef struct IdxVec {
   size_t* v; /* owned */
   size_t n, cap;
} IdxVec;

static void iv_push(IdxVec* x, size_t i) {
   if (x->n + 2 > x->cap) {
      x->cap = x->cap ? x->cap * 2 : 4;
      x->v = xrealloc(x->v, x->cap * sizeof *x->v);
   }
   x->v[x->n++] = i;
   x->v[x->n] = END;
}

/* Per package with a match: the nearest packages with a match that it depends on, through
 * workspace packages without one (pnpm orders by the whole workspace graph, so a gap in the
 * chain still orders its ends). byname: package name -> index. */
static size_t** package_edges(const Project* p, json_t* byname, const bool* has) {
   size_t np = p->npackages;
   size_t** adj = xcalloc(np + 1, sizeof *adj);
   size_t* stamp = xcalloc(np + 1, sizeof *stamp); /* visited in the walk from src: src + 1 */
   size_t* stack = xcalloc(np + 1, sizeof *stack);
   for (size_t src = 0; src < np; src++) {
      if (!has[src]) continue;
      IdxVec out = {0};
      size_t sp = 0;
      stack[sp++] = src;
      stamp[src] = src + 1;
      while (sp) {
         const Package* k = &p->packages[stack[--sp]];
         for (char** d = k->deps; d && *d; d++) {
            json_t* j = json_object_get(byname, *d);
            if (!j) continue; /* from the registry, not the workspace */
            size_t q = (size_t)json_integer_value(j);
            if (stamp[q] == src + 1) continue;
            stamp[q] = src + 1;
            if (has[q])
               iv_push(&out, q);
            else
               stack[sp++] = q;
         }
      }
      adj[src] = out.v;
   }
   free(stack);
   free(stamp);
   return adj;
}

/* Tarjan's strongly connected components: a component of several packages is a cycle. */
typedef struct Tarjan {
   size_t** adj;
   size_t *index, *low, *comp, *stack; /* owned; index 0: not visited yet */
   bool* on;
   size_t sp, next, ncomp;
} Tarjan;

static void strong(Tarjan* t, size_t v) {
   t->index[v] = t->low[v] = ++t->next;
   t->stack[t->sp++] = v;
   t->on[v] = true;
   for (size_t* w = t->adj[v]; w && *w != END; w++) {
      if (!t->index[*w]) {
         strong(t, *w);
         if (t->low[*w] < t->low[v]) t->low[v] = t->low[*w];
      } else if (t->on[*w] && t->index[*w] < t->low[v]) {
         t->low[v] = t->index[*w];
      }
   }
   if (t->low[v] != t->index[v]) return;
   size_t w;
   do {
      w = t->stack[--t->sp];
      t->on[w] = false;
      t->comp[w] = t->ncomp;
   } while (w != v);
   t->ncomp++;
}

/* Each package's component; a warning per cycle, naming its packages. */
static size_t* components(const Project* p, size_t** adj, const bool* has, const char* glob,
                          char*** warnings) {
   size_t np = p->npackages;
   Tarjan t = {.adj = adj,
               .index = xcalloc(np + 1, sizeof(size_t)),
               .low = xcalloc(np + 1, sizeof(size_t)),
               .comp = xcalloc(np + 1, sizeof(size_t)),
               .stack = xcalloc(np + 1, sizeof(size_t)),
               .on = xcalloc(np + 1, sizeof(bool))};
   for (size_t v = 0; v < np; v++)
      if (has[v] && !t.index[v]) strong(&t, v);
   size_t* size = xcalloc(t.ncomp + 1, sizeof *size);
   for (size_t v = 0; v < np; v++)
      if (has[v]) size[t.comp[v]]++;
   size_t nw = 0;
   *warnings = xcalloc(t.ncomp + 1, sizeof **warnings);
   for (size_t c = 0; c < t.ncomp; c++) {
      if (size[c] < 2) continue;
      char* names = NULL;
      for (size_t v = 0; v < np; v++) {
         if (!has[v] || t.comp[v] != c) continue;
         char* n =
             names ? xasprintf("%s, %s", names, p->packages[v].name) : xstrdup(p->packages[v].name);
         free(names);
         names = n;
      }
      (*warnings)[nw++] = xasprintf("workspace dependency cycle between %s: their '%s' scripts "
                                    "start without an order between them",
                                    names, glob);
      free(names);
   }
   free(size);
   free(t.index);
   free(t.low);
   free(t.stack);
   free(t.on);
   return t.comp;
}

/* The package of a matched script, or END for a process that is no package's script. */
static size_t package_of(const Project* p, const Script* s) {
   return s->source == SRC_PACKAGE && s->pkg < p->npackages ? s->pkg : END;
}

/* Per match (position in m): the positions it waits for. */
static IdxVec* match_waits(const Project* p, const size_t* m, size_t nm, size_t** adj,
                           const size_t* comp) {
   size_t np = p->npackages;
   IdxVec* of_pkg = xcalloc(np + 1, sizeof *of_pkg); /* per package: its matches' positions */
   for (size_t k = 0; k < nm; k++) {
      size_t pk = package_of(p, &p->scripts[m[k]]);
      if (pk != END) iv_push(&of_pkg[pk], k);
   }
   IdxVec* waits = xcalloc(nm + 1, sizeof *waits);
   for (size_t k = 0; k < nm; k++) {
      size_t pk = package_of(p, &p->scripts[m[k]]);
      if (pk == END) continue;
      for (size_t* q = adj[pk]; q && *q != END; q++) {
         if (comp[*q] == comp[pk]) continue; /* a cycle: no order inside it */
         for (size_t j = 0; j < of_pkg[*q].n; j++) iv_push(&waits[k], of_pkg[*q].v[j]);
      }
   }
   for (size_t i = 0; i < np; i++) free(of_pkg[i].v);
   free(of_pkg);
   return waits;
}

/* Kahn's order (the loader's order among what is ready at once); fills the plan. */
static void order(RunAllPlan* out, const size_t* m, size_t nm, IdxVec* waits) {
   size_t* indeg = xcalloc(nm + 1, sizeof *indeg);
   IdxVec* dependents = xcalloc(nm + 1, sizeof *dependents);
   for (size_t k = 0; k < nm; k++) {
      indeg[k] = waits[k].n;
      for (size_t j = 0; j < waits[k].n; j++) iv_push(&dependents[waits[k].v[j]], k);
   }
   size_t* queue = xcalloc(nm + 1, sizeof *queue);
   size_t* pos = xcalloc(nm + 1, sizeof *pos); /* match position -> place in the order */
   size_t head = 0, tail = 0;
   for (size_t k = 0; k < nm; k++)
      if (!indeg[k]) queue[tail++] = k;
   while (head < tail) {
      size_t k = queue[head];
      pos[k] = head++;
      for (size_t j = 0; j < dependents[k].n; j++)
         if (--indeg[dependents[k].v[j]] == 0) queue[tail++] = dependents[k].v[j];
   }
   /* the cycles' edges are gone: every match is placed */
   out->n = tail;
   out->idx = xcalloc(nm + 1, sizeof *out->idx);
   out->after = xcalloc(nm + 1, sizeof *out->after);
   for (size_t o = 0; o < tail; o++) {
      size_t k = queue[o];
      out->idx[o] = m[k];
      out->after[o] = xcalloc(waits[k].n + 1, sizeof **out->after);
      for (size_t j = 0; j < waits[k].n; j++) out->after[o][j] = pos[waits[k].v[j]];
      out->after[o][waits[k].n] = END;
   }
   for (size_t k = 0; k < nm; k++) free(dependents[k].v);
   free(dependents);
   free(queue);
   free(pos);
   free(indeg);
}

/* "build" for "*:build"; the whole glob when its script part is a pattern too ("web:*"). */
static char* group_name(const char* glob) {
   const char* colon = strrchr(glob, ':');
   const char* part = colon ? colon + 1 : glob;
   return xstrdup(*part && !runall_is_glob(part) ? part : glob);
}

/* Two lines: what matched nothing, and the names there are (the caller sanitises each line). */
static char* no_match(const Project* p, const char* glob) {
   char* head = xasprintf("no script matches '%s' (a glob over PACKAGE:SCRIPT) in the project "
                          "%s\navailable:",
                          glob, p->dir);
   size_t len = strlen(head) + sizeof " (none)";
   for (size_t i = 0; i < p->nscripts; i++) len += 1 + strlen(p->scripts[i].name);
   char* msg = xmalloc(len);
   char* w = stpcpy(msg, head);
   for (size_t i = 0; i < p->nscripts; i++) w = stpcpy(stpcpy(w, " "), p->scripts[i].name);
   if (!p->nscripts) stpcpy(w, " (none)");
   free(head);
   return msg;
}

int runall_plan(const Project* p, const char* glob, RunAllPlan* out, char** cause) {
   *out = (RunAllPlan){0};
   size_t* m = xcalloc(p->nscripts + 1, sizeof *m);
   size_t nm = 0;
   for (size_t i = 0; i < p->nscripts; i++)
      if (runall_match(&p->scripts[i], glob)) m[nm++] = i;
   if (!nm) {
      free(m);
      *cause = no_match(p, glob);
      return -ENOENT;
   }
   size_t np = p->npackages;
   bool* has = xcalloc(np + 1, sizeof *has);
   for (size_t k = 0; k < nm; k++) {
      size_t pk = package_of(p, &p->scripts[m[k]]);
      if (pk != END) has[pk] = true;
   }
   json_t* byname = json_object();
   for (size_t k = 0; k < np; k++) /* the loader keeps names unique; the first one wins anyway */
      if (p->packages[k].name && !json_object_get(byname, p->packages[k].name))
         json_object_set_new_nocheck(byname, p->packages[k].name, json_integer((json_int_t)k));
   size_t** adj = package_edges(p, byname, has);
   size_t* comp = components(p, adj, has, glob, &out->warnings);
   IdxVec* waits = match_waits(p, m, nm, adj, comp);
   order(out, m, nm, waits);
   out->group = group_name(glob);
   for (size_t k = 0; k < nm; k++) free(waits[k].v);
   free(waits);
   for (size_t k = 0; k < np; k++) free(adj[k]);
   free(adj);
   free(comp);
   json_decref(byname);
   free(has);
   free(m);
   return 0;
}

void runall_plan_free(RunAllPlan* plan) {
   for (size_t k = 0; plan->after && k < plan->n; k++) free(plan->after[k]);
   free(plan->after);
   free(plan->idx);
   free(plan->group);
   for (char** w = plan->warnings; w && *w; w++) free(*w);
   free(plan->warnings);
   *plan = (RunAllPlan){0};
}

static void add_dep(Script* s, const char* name) {
   for (size_t i = 0; i < s->ndeps; i++)
      if (strcmp(s->deps[i].name, name) == 0) return;
   s->deps = xrealloc(s->deps, (s->ndeps + 1) * sizeof *s->deps);
   s->deps[s->ndeps++] = (ScriptDep){.name = xstrdup(name), .cond = DEP_EXITED_OK};
}

void runall_apply(Project* p, const RunAllPlan* plan) {
   size_t n = p->nscripts, front = 0, w = 0;
   while (front < n && p->scripts[front].run_all) front++;
   bool* take = xcalloc(n + 1, sizeof *take);
   for (size_t k = 0; k < plan->n; k++) {
      Script* s = &p->scripts[plan->idx[k]];
      if (s->run_all) continue;
      take[plan->idx[k]] = true;
      for (size_t* a = plan->after[k]; *a != END; a++) add_dep(s, p->scripts[plan->idx[*a]].name);
   }
   for (size_t k = 0; k < plan->n; k++) {
      Script* s = &p->scripts[plan->idx[k]];
      if (!take[plan->idx[k]]) continue;
      s->run_all = true;
      free(s->group);
      s->group = xstrdup(plan->group);
   }
   Script* v = xcalloc(n + 1, sizeof *v);
   for (size_t i = 0; i < front; i++) v[w++] = p->scripts[i];
   for (size_t k = 0; k < plan->n; k++)
      if (take[plan->idx[k]]) v[w++] = p->scripts[plan->idx[k]];
   for (size_t i = front; i < n; i++)
      if (!take[i]) v[w++] = p->scripts[i];
   free(p->scripts);
   p->scripts = v;
   free(take);
}
