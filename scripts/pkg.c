#include "scripts/pkg.h"
#include "scripts/pkg_impl.h"
#include "scripts/project_impl.h"

#include "core/util.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void pkg_sv_push(StrVec* sv, char* s) {
   if (sv->n == sv->cap) {
      sv->cap = sv->cap ? sv->cap * 2 : 8;
      sv->v = xrealloc(sv->v, sv->cap * sizeof *sv->v);
   }
   sv->v[sv->n++] = s;
}

void pkg_sv_done(StrVec* sv) {
   for (size_t i = 0; i < sv->n; i++) free(sv->v[i]);
   free(sv->v);
   *sv = (StrVec){0};
}

/* A set of strings, hashed: a jansson object's keys (any bytes but NUL). Owned by the caller. */
json_t* pkg_set_new(void) {
   json_t* set = json_object();
   if (!set) util_die_oom();
   return set;
}

void pkg_warn(Loader* l, const char* fmt, ...) {
   va_list ap;
   va_start(ap, fmt);
   int n = vsnprintf(NULL, 0, fmt, ap);
   va_end(ap);
   if (n < 0) return;
   char* s = xmalloc((size_t)n + 1);
   va_start(ap, fmt);
   vsnprintf(s, (size_t)n + 1, fmt, ap);
   va_end(ap);
   Project* p = l->p;
   if (p->nwarnings == l->warnings_cap) {
      l->warnings_cap = l->warnings_cap ? l->warnings_cap * 2 : 4;
      p->warnings = xrealloc(p->warnings, l->warnings_cap * sizeof *p->warnings);
   }
   p->warnings[p->nwarnings++] = s;
}

static Script* add_script(Loader* l) {
   Project* p = l->p;
   if (p->nscripts == l->scripts_cap) {
      l->scripts_cap = l->scripts_cap ? l->scripts_cap * 2 : 16;
      p->scripts = xrealloc(p->scripts, l->scripts_cap * sizeof *p->scripts);
   }
   Script* s = &p->scripts[p->nscripts++];
   *s = (Script){0};
   return s;
}

static const char* base_name(const char* path) {
   const char* slash = strrchr(path, '/');
   return slash && slash[1] ? slash + 1 : path;
}

char* pkg_join_path(const char* dir, const char* name) {
   size_t n = strlen(dir);
   return xasprintf("%s%s%s", dir, n && dir[n - 1] == '/' ? "" : "/", name);
}

/* Line and column (in characters, as jansson counts them) of text[off]. */
static void line_col(const char* text, size_t off, int* line, int* col) {
   *line = 1;
   *col = 1;
   for (size_t i = 0; i < off; i++) {
      if (text[i] == '\n') {
         ++*line;
         *col = 1;
      } else if (((unsigned char)text[i] & 0xC0) != 0x80) {
         ++*col;
      }
   }
}

/* Parses a package.json file into an object. shown: the path as messages print it. */
static int load_json(const char* path, const char* shown, json_t** out, char** cause) {
   char* buf = NULL;
   size_t len = 0;
   json_t* root = NULL;
   char* why = NULL;
   int err = util_read_file(path, PKG_MAX_FILE, &buf, &len, &why);
   if (err < 0) {
      *cause = xasprintf("cannot read %s: %s", shown, why);
      free(why);
      return err;
   }
   const char* text = buf;
   /* Editors on Windows save a BOM, which jansson rejects. */
   if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) text += 3, len -= 3;
   size_t i = 0;
   while (i < len && text[i] && strchr(" \t\r\n", text[i])) i++;
   if (i == len) {
      *cause = xasprintf("%s: the file is empty (a package.json holds an object: { ... })", shown);
      err = -EINVAL;
      goto out;
   }
   /* jansson calls it "control character 0x0": say what it is, and where. */
   const char* nul = memchr(text, '\0', len);
   if (nul) {
      int line, col;
      line_col(text, (size_t)(nul - text), &line, &col);
      *cause = xasprintf("%s:%d:%d: the file contains a NUL byte (a package.json is UTF-8 text; "
                         "was it saved as UTF-16?)",
                         shown, line, col);
      err = -EINVAL;
      goto out;
   }
   json_error_t je;
   root = json_loadb(text, len, 0, &je);
   if (root == NULL && strncmp(je.text, "\\u0000 is not allowed", 21) == 0) {
      *cause = xasprintf("%s:%d:%d: a string contains \\u0000, a NUL character, which a script, "
                         "a name or a command line cannot hold",
                         shown, je.line, je.column);
      err = -EINVAL;
      goto out;
   }
   if (!root) {
      /* Without JSON_DECODE_ANY a scalar top level fails to parse: say what is wrong with it. */
      bool scalar = strncmp(je.text, "'[' or '{' expected", 19) == 0;
      *cause = xasprintf("%s:%d:%d: %s%s", shown, je.line, je.column,
                         scalar ? "the top level must be an object: " : "", je.text);
      err = -EINVAL;
      goto out;
   }
   if (!json_is_object(root)) {
      *cause = xasprintf("%s: the top level is %s, but a package.json holds an object ({ ... })",
                         shown, json_is_array(root) ? "an array" : "not an object");
      json_decref(root);
      root = NULL;
      err = -EINVAL;
      goto out;
   }
   *out = root;
out:
   free(buf);
   return err;
}

static char* json_str_or(json_t* obj, const char* key, const char* dflt) {
   const char* s = json_string_value(json_object_get(obj, key));
   return xstrdup(s ? s : dflt);
}

/* Points each script of one package (scripts first.. , their names after skip bytes of "PKG:")
 * at its "pre<name>" and "post<name>" scripts, as npm looks them up: running "predev" runs
 * "prepredev" first, when there is one. */
static void link_hooks(Loader* l, size_t first, size_t skip) {
   Project* p = l->p;
   json_t* index = pkg_set_new(); /* bare name -> position in p->scripts */
   for (size_t i = first; i < p->nscripts; i++)
      json_object_set_new_nocheck(index, p->scripts[i].name + skip, json_integer((json_int_t)i));
   for (size_t i = first; i < p->nscripts; i++) {
      Script* s = &p->scripts[i];
      char* pre = xasprintf("pre%s", s->name + skip);
      char* post = xasprintf("post%s", s->name + skip);
      json_t* a = json_object_get(index, pre);
      json_t* b = json_object_get(index, post);
      if (a) s->pre = xstrdup(p->scripts[json_integer_value(a)].command);
      if (b) s->post = xstrdup(p->scripts[json_integer_value(b)].command);
      free(pre);
      free(post);
   }
   json_decref(index);
}

/* Adds the "scripts" of one package.json in file order (jansson objects iterate in insertion
 * order since 2.8). shown: the file's path relative to the project, for warnings. */
static void add_scripts(Loader* l, json_t* pkg, const char* dir, const char* pkgname,
                        const char* version, bool in_workspace, const char* shown) {
   Project* p = l->p;
   if (p->npackages == l->packages_cap) {
      l->packages_cap = l->packages_cap ? l->packages_cap * 2 : 4;
      p->packages = xrealloc(p->packages, l->packages_cap * sizeof *p->packages);
   }
   pkg_package_init(&p->packages[p->npackages++], pkg, dir, pkgname);
   size_t first = p->nscripts;
   bool hooks = false;
   json_t* scripts = json_object_get(pkg, "scripts");
   if (!scripts) return;
   if (!json_is_object(scripts)) {
      pkg_warn(l, "%s: \"scripts\" is not an object (no scripts loaded from it)", shown);
      return;
   }
   const char* key;
   json_t* val;
   json_object_foreach(scripts, key, val) {
      if (!json_is_string(val)) {
         pkg_warn(l, "%s: script \"%s\" is not a string (skipped)", shown, key);
         continue;
      }
      if (!key[0]) { /* "npm run ''" lists the scripts instead; nothing names it on a command line
                      */
         pkg_warn(l, "%s: a script with an empty name cannot be run (skipped)", shown);
         continue;
      }
      char* name = in_workspace ? xasprintf("%s:%s", pkgname, key) : xstrdup(key);
      if (json_object_get(l->names, name)) {
         pkg_warn(l, "%s: script \"%s\" is defined twice (skipped)", shown, name);
         free(name);
         continue;
      }
      json_object_set_new_nocheck(l->names, name, json_true()); /* a dir name may not be UTF-8 */
      Script* s = add_script(l);
      s->name = name;
      s->command = xstrdup(json_string_value(val));
      s->package = xstrdup(pkgname);
      s->dir = xstrdup(dir);
      s->in_workspace = in_workspace;
      s->version = xstrdup(version);
      s->pkg = p->npackages - 1;
      hooks |= strncmp(key, "pre", 3) == 0 || strncmp(key, "post", 4) == 0;
   }
   if (hooks) link_hooks(l, first, in_workspace ? strlen(pkgname) + 1 : 0);
}

static const struct {
   const char* file;
   PkgManager pm;
} lockfiles[] = {
    {"bun.lock", PM_BUN},   {"bun.lockb", PM_BUN},         {"pnpm-lock.yaml", PM_PNPM},
    {"yarn.lock", PM_YARN}, {"package-lock.json", PM_NPM},
};

static bool pm_parse(const char* s, size_t n, PkgManager* pm) {
   static const char* names[] = {"npm", "yarn", "pnpm", "bun"};
   for (size_t i = 0; i < ARRAY_LEN(names); i++) {
      if (strlen(names[i]) == n && strncmp(s, names[i], n) == 0) {
         *pm = (PkgManager)i;
         return true;
      }
   }
   return false;
}

static void detect_pm(Loader* l, json_t* root) {
   Project* p = l->p;
   json_t* field = json_object_get(root, "packageManager");
   if (field) {
      const char* s = json_string_value(field);
      if (!s) {
         pkg_warn(l, "package.json: \"packageManager\" is not a string (ignored)");
      } else if (pm_parse(s, strcspn(s, "@"), &p->pm)) {
         p->pm_reason = xasprintf("packageManager field (%s)", s);
         /* "pnpm@9.1.0+sha512.abc": the version without its hash */
         if (s[strcspn(s, "@")] == '@') {
            const char* v = s + strcspn(s, "@") + 1;
            p->pm_version = xstrndup(v, strcspn(v, "+"));
         }
         return;
      } else {
         pkg_warn(l, "package.json: unknown packageManager \"%s\" (ignored)", s);
      }
   }
   for (size_t i = 0; i < ARRAY_LEN(lockfiles); i++) {
      char* path = pkg_join_path(p->dir, lockfiles[i].file);
      bool found = access(path, F_OK) == 0;
      free(path);
      if (found) {
         p->pm = lockfiles[i].pm;
         p->pm_reason = xstrdup(lockfiles[i].file);
         return;
      }
   }
   p->pm = PM_NPM;
   p->pm_reason = xstrdup("default (no lockfile)");
}

/* Like `command -v`: is an executable regular file called name on PATH? */
static bool on_path(const char* name) {
   const char* path = getenv("PATH");
   if (!path) path = "/usr/local/bin:/usr/bin:/bin";
   for (const char* p = path;;) {
      size_t n = strcspn(p, ":");
      /* An empty PATH entry means the current directory. */
      char* dir = n ? xstrndup(p, n) : xstrdup(".");
      char* file = pkg_join_path(dir, name);
      struct stat st;
      bool ok = stat(file, &st) == 0 && S_ISREG(st.st_mode) && access(file, X_OK) == 0;
      free(file);
      free(dir);
      if (ok) return true;
      if (!p[n]) return false;
      p += n + 1;
   }
}

/* The path of dir relative to the project root, for messages. */
static const char* rel_to(const char* root, const char* dir) {
   size_t n = strlen(root);
   if (strncmp(dir, root, n) == 0 && dir[n] == '/') return dir + n + 1;
   return dir;
}

static void load_workspace_package(Loader* l, const char* dir) {
   char* path = pkg_join_path(dir, "package.json");
   char* shown = xasprintf("%s/package.json", rel_to(l->p->dir, dir));
   char* cause = NULL;
   json_t* pkg = NULL;
   if (load_json(path, shown, &pkg, &cause) < 0) {
      pkg_warn(l, "%s (workspace package skipped)", cause);
      goto out;
   }
   json_t* jname = json_object_get(pkg, "name");
   const char* name = json_string_value(jname);
   if (!name || !*name) {
      if (jname) pkg_warn(l, "%s: \"name\" is not a string (using the directory name)", shown);
      name = base_name(dir);
   }
   for (size_t i = 0; i < l->p->nscripts; i++) {
      const Script* s = &l->p->scripts[i];
      if (s->in_workspace && strcmp(s->package, name) == 0 && strcmp(s->dir, dir) != 0) {
         pkg_warn(l, "%s: package name \"%s\" is also used by %s (skipped)", shown, name,
                  rel_to(l->p->dir, s->dir));
         goto out;
      }
   }
   char* version = json_str_or(pkg, "version", "");
   add_scripts(l, pkg, dir, name, version, true, shown);
   free(version);
out:
   json_decref(pkg);
   free(cause);
   free(shown);
   free(path);
}

static void load_workspaces(Loader* l, json_t* root) {
   StrVec dirs = {0};
   pkg_workspace_dirs(l, root, &dirs);
   for (size_t i = 0; i < dirs.n; i++) load_workspace_package(l, dirs.v[i]);
   pkg_sv_done(&dirs);
}

int pkg_load_json(const char* dir, const char* shown_dir, Project** out, char** cause) {
   *out = NULL;
   *cause = NULL;
   int err = 0;
   json_t* root = NULL;
   char* path = NULL;
   char* shown = NULL;
   Project* p = xcalloc(1, sizeof *p);
   p->pnpm_pre_post = -1;
   Loader l = {.p = p, .names = json_object()};
   if (!l.names) util_die_oom();

   struct stat st;
   if (stat(dir, &st) < 0) {
      err = -errno;
      *cause = err == -ENOENT ? xasprintf("no such directory: %s", dir)
                              : xasprintf("cannot open %s: %s", dir, strerror(-err));
      goto fail;
   }
   if (!S_ISDIR(st.st_mode)) {
      err = -ENOTDIR;
      *cause = xasprintf("not a directory: %s", dir);
      goto fail;
   }
   p->dir = realpath(dir, NULL);
   if (!p->dir) {
      err = -errno;
      *cause = xasprintf("cannot resolve %s: %s", dir, strerror(-err));
      goto fail;
   }
   path = pkg_join_path(p->dir, "package.json");
   shown = pkg_join_path(shown_dir, "package.json");
   if (access(path, F_OK) < 0 && errno == ENOENT) {
      err = -ENOENT;
      *cause = xasprintf("no package.json in %s (looked for %s); run brum in a project directory "
                         "or pass -d DIR",
                         p->dir, path);
      goto fail;
   }
   err = load_json(path, shown, &root, cause);
   if (err < 0) goto fail;

   json_t* jname = json_object_get(root, "name");
   if (jname && !json_is_string(jname))
      pkg_warn(&l, "package.json: \"name\" is not a string (using the directory name)");
   const char* name = json_string_value(jname);
   p->name = xstrdup(name && *name ? name : base_name(p->dir));
   p->version = json_str_or(root, "version", "");
   p->has_package_json = true;
   detect_pm(&l, root);
   p->pm_available = on_path(pkg_manager_name(p->pm));
   add_scripts(&l, root, p->dir, p->name, p->version, false, "package.json");
   load_workspaces(&l, root);
   *out = p;
   p = NULL;
fail:
   json_decref(l.names);
   json_decref(root);
   free(shown);
   free(path);
   pkg_free(p);
   return err;
}

bool pkg_workspace_includes(const char* root, const char* dir) {
   Project p = {.dir = xstrdup(root)};
   Loader l = {.p = &p};
   json_t* rj = NULL;
   char* cause = NULL;
   char* path = pkg_join_path(root, "package.json");
   if (access(path, F_OK) == 0) load_json(path, path, &rj, &cause);
   bool in = pkg_workspace_has(&l, rj, dir);
   for (size_t i = 0; i < p.nwarnings; i++) free(p.warnings[i]);
   free(p.warnings);
   free(p.dir);
   free(path);
   free(cause);
   json_decref(rj);
   return in;
}

void pkg_free(Project* p) {
   if (!p) return;
   for (size_t i = 0; i < p->nscripts; i++) prj_script_free(&p->scripts[i]);
   free(p->scripts);
   for (size_t i = 0; i < p->npackages; i++) pkg_package_done(&p->packages[i]);
   free(p->packages);
   pkg_run_ctx_free(p->run_ctx);
   free(p->pm_version);
   free(p->pnpm_shell);
   for (size_t i = 0; i < p->nwarnings; i++) free(p->warnings[i]);
   free(p->warnings);
   if (p->default_run)
      for (char** r = p->default_run; *r; r++) free(*r);
   free(p->default_run);
   free(p->theme);
   free(p->prefix_key);
   free(p->log_dir);
   free(p->start_dir);
   free(p->start_package);
   free(p->dir);
   free(p->name);
   free(p->version);
   free(p->pm_reason);
   free(p);
}

const char* pkg_manager_name(PkgManager pm) {
   switch (pm) {
   case PM_NPM:
      return "npm";
   case PM_YARN:
      return "yarn";
   case PM_PNPM:
      return "pnpm";
   case PM_BUN:
      return "bun";
   }
   return "npm";
}
