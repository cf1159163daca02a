#include "scripts/pkg.h"
#include "scripts/pkg_impl.h"
#include "scripts/project_impl.h"

#include "core/util.h"

#include <errno.h>
#include <dirent.h>
#include <glob.h>
#include <jansson.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

/* A package.json bigger than this is not a package.json. */
#define PKG_MAX_FILE (64u << 20)
/* How deep a `**` workspace pattern descends. */
#define PKG_MAX_DEPTH 8
/* How many directories the `**` walks of one load visit at most (documented in pkg.h). */
#define PKG_MAX_WALK_DIRS 50000

void pkg_sv_push(StrVec* sv, char* s) {
   if (sv->n == sv->cap) {
      sv->cap = sv->cap ? sv->cap * 2 : 8;
      sv->v = xrealloc(sv->v, sv->cap * sizeof *sv->v);
   }
   sv->v[sv->n++] = s;
}

static void sv_done(StrVec* sv) {
   for (size_t i = 0; i < sv->n; i++) free(sv->v[i]);
   free(sv->v);
   *sv = (StrVec){0};
}

/* Orders walk entries by name, after their one-byte kind. */
static int cmp_name(const void* a, const void* b) {
   return strcmp(*(char* const*)a + 1, *(char* const*)b + 1);
}

/* A set of strings, hashed: a jansson object's keys (any bytes but NUL). Owned by the caller. */
static json_t* set_new(void) {
   json_t* set = json_object();
   if (!set) util_die_oom();
   return set;
}

static bool set_has(json_t* set, const char* key) {
   return json_object_get(set, key) != NULL;
}

/* Adds key; false when it was there already. */
static bool set_add(json_t* set, const char* key) {
   if (set_has(set, key)) return false;
   if (json_object_set_new_nocheck(set, key, json_true()) < 0) util_die_oom();
   return true;
}

/* Loading state: the project plus capacities of its arrays. */
typedef struct Loader {
   Project* p;    /* borrowed */
   json_t* names; /* owned: a set of the script names so far (a hash: 100,000 scripts load fast) */
   size_t scripts_cap;
   size_t warnings_cap;
   size_t packages_cap;
   const char* pattern; /* borrowed: the workspace pattern being expanded, for warnings */
   size_t walked;       /* directories visited by `**` walks so far (bounded) */
   bool walk_capped;    /* PKG_MAX_WALK_DIRS was reached (warned once) */
} Loader;

static void warn(Loader* l, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(Loader* l, const char* fmt, ...) {
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
   json_t* index = set_new(); /* bare name -> position in p->scripts */
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
      warn(l, "%s: \"scripts\" is not an object (no scripts loaded from it)", shown);
      return;
   }
   const char* key;
   json_t* val;
   json_object_foreach(scripts, key, val) {
      if (!json_is_string(val)) {
         warn(l, "%s: script \"%s\" is not a string (skipped)", shown, key);
         continue;
      }
      if (!key[0]) { /* "npm run ''" lists the scripts instead; nothing names it on a command line
                      */
         warn(l, "%s: a script with an empty name cannot be run (skipped)", shown);
         continue;
      }
      char* name = in_workspace ? xasprintf("%s:%s", pkgname, key) : xstrdup(key);
      if (json_object_get(l->names, name)) {
         warn(l, "%s: script \"%s\" is defined twice (skipped)", shown, name);
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
         warn(l, "package.json: \"packageManager\" is not a string (ignored)");
      } else if (pm_parse(s, strcspn(s, "@"), &p->pm)) {
         p->pm_reason = xasprintf("packageManager field (%s)", s);
         /* "pnpm@9.1.0+sha512.abc": the version without its hash */
         if (s[strcspn(s, "@")] == '@') {
            const char* v = s + strcspn(s, "@") + 1;
            p->pm_version = xstrndup(v, strcspn(v, "+"));
         }
         return;
      } else {
         warn(l, "package.json: unknown packageManager \"%s\" (ignored)", s);
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

/* ---- workspaces ---- */

/* Escapes glob metacharacters so a real directory name is matched literally. */
static char* glob_escape(const char* s) {
   char* out = xmalloc(strlen(s) * 2 + 1);
   char* o = out;
   for (; *s; s++) {
      if (strchr("*?[]\\", *s)) *o++ = '\\';
      *o++ = *s;
   }
   *o = '\0';
   return out;
}

/* Real paths of the directories matching pattern under base (one glob, no `**`). */
static void glob_dirs(const char* base, const char* pat, StrVec* out) {
   char* eb = glob_escape(base);
   char* full = pkg_join_path(eb, pat);
   glob_t g;
   if (glob(full, GLOB_ONLYDIR, NULL, &g) == 0) {
      for (size_t i = 0; i < g.gl_pathc; i++) {
         struct stat st;
         char* real = NULL;
         /* GLOB_ONLYDIR is only a hint: check. */
         if (stat(g.gl_pathv[i], &st) == 0 && S_ISDIR(st.st_mode) &&
             (real = realpath(g.gl_pathv[i], NULL)))
            pkg_sv_push(out, real);
      }
      globfree(&g);
   }
   free(full);
   free(eb);
}

/* Is the real path real inside the real directory root (or root itself)? */
static bool is_inside(const char* root, const char* real) {
   size_t n = strlen(root);
   if (n > 0 && root[n - 1] == '/') n--; /* the project is "/" */
   return strncmp(real, root, n) == 0 && (real[n] == '/' || real[n] == '\0');
}

static void expand(Loader* l, const char* base, const char* pat, StrVec* out, int depth);

/* Visits dir (a real path) and its subdirectories for a `**`, applying rest in each. seen (a hashed
 * set of device:inode) ends symlink loops; a directory outside the project (reached through a
 * symlink) matches but is not descended into, or a link to /proc would walk for ever; every walk of
 * the load together visits at most PKG_MAX_WALK_DIRS directories. */
static void walk(Loader* l, const char* dir, bool inside, const char* rest, StrVec* out,
                 json_t* seen, int depth) {
   struct stat st;
   if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) return;
   char key[64];
   snprintf(key, sizeof key, "%jx:%jx", (uintmax_t)st.st_dev, (uintmax_t)st.st_ino);
   if (!set_add(seen, key)) return;
   if (l->walked >= PKG_MAX_WALK_DIRS) {
      if (!l->walk_capped)
         warn(l,
              "workspace pattern \"%s\": stopped after visiting %d directories (the limit for "
              "`**`); packages further on are not loaded: use a narrower pattern such as "
              "\"packages/*\"",
              l->pattern ? l->pattern : "", PKG_MAX_WALK_DIRS);
      l->walk_capped = true;
      return;
   }
   l->walked++;
   if (*rest)
      expand(l, dir, rest, out, depth + 1);
   else
      pkg_sv_push(out, xstrdup(dir));
   if (!inside || depth >= PKG_MAX_DEPTH) return;
   DIR* d = opendir(dir);
   if (!d) return;
   StrVec subs = {0};
   for (struct dirent* e; (e = readdir(d));) {
      /* Hidden directories are skipped as by glob's `*`; dependencies are never workspace
       * packages, and walking them is slow. */
      if (e->d_name[0] == '.' || strcmp(e->d_name, "node_modules") == 0) continue;
      /* The name after one byte: 'd' a directory, 'l' a symlink, '?' to be asked (lstat). */
      char kind = e->d_type == DT_DIR ? 'd' : e->d_type == DT_LNK ? 'l' : '?';
      if (e->d_type == DT_DIR || e->d_type == DT_LNK || e->d_type == DT_UNKNOWN)
         pkg_sv_push(&subs, xasprintf("%c%s", kind, e->d_name));
   }
   closedir(d);
   if (subs.n)
      qsort(subs.v, subs.n, sizeof *subs.v, cmp_name); /* as glob: the same order on every run */
   for (size_t i = 0; i < subs.n; i++) {
      /* Real paths all the way: realpath (a readlink per component) only for a symlink. */
      char* sub = pkg_join_path(dir, subs.v[i] + 1);
      char kind = subs.v[i][0];
      struct stat lst;
      if (kind == '?')
         kind = lstat(sub, &lst) < 0   ? '-'
                : S_ISDIR(lst.st_mode) ? 'd'
                : S_ISLNK(lst.st_mode) ? 'l'
                                       : '-';
      if (kind == 'l') {
         char* real = realpath(sub, NULL);
         if (real) walk(l, real, is_inside(l->p->dir, real), rest, out, seen, depth + 1);
         free(real);
      } else if (kind == 'd') {
         walk(l, sub, true, rest, out, seen, depth + 1);
      }
      free(sub);
   }
   sv_done(&subs);
}

/* Expands a workspace pattern relative to base (a real path) into real paths; `**` matches any
 * number of directory levels. */
static void expand(Loader* l, const char* base, const char* pat, StrVec* out, int depth) {
   while (pat[0] == '.' && pat[1] == '/') pat += 2;
   const char* star = NULL;
   for (const char* s = pat; *s; s = strchr(s, '/') ? strchr(s, '/') + 1 : s + strlen(s)) {
      if (strncmp(s, "**", 2) == 0 && (s[2] == '/' || s[2] == '\0')) {
         star = s;
         break;
      }
   }
   if (!star) {
      if (!*pat || strcmp(pat, ".") == 0)
         pkg_sv_push(out, xstrdup(base));
      else
         glob_dirs(base, pat, out);
      return;
   }
   const char* rest = star[2] == '/' ? star + 3 : star + 2;
   StrVec bases = {0};
   if (star == pat) {
      pkg_sv_push(&bases, xstrdup(base));
   } else {
      char* prefix = xstrndup(pat, (size_t)(star - pat - 1));
      glob_dirs(base, prefix, &bases);
      free(prefix);
   }
   for (size_t i = 0; i < bases.n; i++) {
      /* Each `**` gets its own visited set: the same directory may match at several levels. */
      json_t* seen = set_new();
      walk(l, bases.v[i], is_inside(l->p->dir, bases.v[i]), rest, out, seen, depth);
      json_decref(seen);
   }
   sv_done(&bases);
}

/* The directories a pattern matches (real paths), each once. */
static void expand_real(Loader* l, const char* pat, StrVec* out) {
   StrVec raw = {0};
   json_t* have = set_new();
   l->pattern = pat;
   expand(l, l->p->dir, pat, &raw, 0);
   l->pattern = NULL;
   for (size_t i = 0; i < raw.n; i++) {
      if (set_add(have, raw.v[i]))
         pkg_sv_push(out, raw.v[i]);
      else
         free(raw.v[i]);
   }
   json_decref(have);
   free(raw.v);
}

/* Appends the pattern strings of a JSON array; where says which field for warnings. */
static void patterns_from_json(Loader* l, json_t* arr, const char* where, StrVec* pats) {
   size_t i;
   json_t* v;
   json_array_foreach(arr, i, v) {
      const char* s = json_string_value(v);
      if (s)
         pkg_sv_push(pats, xstrdup(s));
      else
         warn(l, "package.json: %s[%zu] is not a string (skipped)", where, i);
   }
}

static void patterns_from_package_json(Loader* l, json_t* root, StrVec* pats) {
   json_t* ws = json_object_get(root, "workspaces");
   if (!ws) return;
   if (json_is_array(ws)) {
      patterns_from_json(l, ws, "workspaces", pats);
   } else if (json_is_object(ws) && json_is_array(json_object_get(ws, "packages"))) {
      patterns_from_json(l, json_object_get(ws, "packages"), "workspaces.packages", pats);
   } else if (!json_is_object(ws) || json_object_get(ws, "packages")) {
      warn(l, "package.json: \"workspaces\" must be an array of patterns or "
              "{ \"packages\": [...] } (ignored)");
   }
}

static yaml_node_t* yaml_map_get(yaml_document_t* doc, yaml_node_t* map, const char* key) {
   for (yaml_node_pair_t* pr = map->data.mapping.pairs.start; pr < map->data.mapping.pairs.top;
        pr++) {
      yaml_node_t* k = yaml_document_get_node(doc, pr->key);
      if (k && k->type == YAML_SCALAR_NODE && strcmp((char*)k->data.scalar.value, key) == 0)
         return yaml_document_get_node(doc, pr->value);
   }
   return NULL;
}

/* pnpm 10 reads its settings from pnpm-workspace.yaml too: the two that change how a script runs.
 */
static void pnpm_settings(Loader* l, yaml_document_t* doc, yaml_node_t* root) {
   yaml_node_t* v = yaml_map_get(doc, root, "enablePrePostScripts");
   if (v && v->type == YAML_SCALAR_NODE)
      l->p->pnpm_pre_post = strcmp((char*)v->data.scalar.value, "true") == 0;
   v = yaml_map_get(doc, root, "scriptShell");
   if (v && v->type == YAML_SCALAR_NODE && v->data.scalar.length) {
      free(l->p->pnpm_shell);
      l->p->pnpm_shell = xstrdup((char*)v->data.scalar.value);
   }
}

/* pnpm-workspace.yaml: the `packages:` sequence of patterns. */
static void patterns_from_pnpm_yaml(Loader* l, StrVec* pats) {
   char* path = pkg_join_path(l->p->dir, "pnpm-workspace.yaml");
   char* text = NULL;
   size_t len = 0;
   char* why = NULL;
   int err = util_read_file(path, PKG_MAX_FILE, &text, &len, &why);
   free(path);
   if (err < 0) {
      if (err != -ENOENT) warn(l, "cannot read pnpm-workspace.yaml: %s (workspaces ignored)", why);
      free(why);
      return;
   }
   yaml_parser_t parser;
   yaml_document_t doc;
   if (!yaml_parser_initialize(&parser)) util_die_oom();
   yaml_parser_set_input_string(&parser, (const unsigned char*)text, len);
   if (!yaml_parser_load(&parser, &doc)) {
      warn(l, "pnpm-workspace.yaml:%zu:%zu: %s%s%s (workspaces ignored)",
           parser.problem_mark.line + 1, parser.problem_mark.column + 1,
           parser.context ? parser.context : "", parser.context ? ": " : "",
           parser.problem ? parser.problem : "syntax error");
      goto out_parser;
   }
   yaml_node_t* root = yaml_document_get_root_node(&doc);
   if (!root) goto out_doc; /* an empty file */
   yaml_node_t* seq = root->type == YAML_MAPPING_NODE ? yaml_map_get(&doc, root, "packages") : NULL;
   if (root->type == YAML_MAPPING_NODE) pnpm_settings(l, &doc, root);
   if (root->type != YAML_MAPPING_NODE) {
      warn(l, "pnpm-workspace.yaml: the top level is not a mapping (ignored)");
   } else if (seq && seq->type == YAML_SEQUENCE_NODE) {
      for (yaml_node_item_t* it = seq->data.sequence.items.start; it < seq->data.sequence.items.top;
           it++) {
         yaml_node_t* item = yaml_document_get_node(&doc, *it);
         if (item && item->type == YAML_SCALAR_NODE)
            pkg_sv_push(pats, xstrdup((char*)item->data.scalar.value));
         else
            warn(l, "pnpm-workspace.yaml:%zu: a package pattern is not a string (skipped)",
                 item ? item->start_mark.line + 1 : 0);
      }
   } else if (seq && !(seq->type == YAML_SCALAR_NODE && seq->data.scalar.length == 0)) {
      warn(l, "pnpm-workspace.yaml:%zu: \"packages\" is not a list (ignored)",
           seq->start_mark.line + 1);
   }
out_doc:
   yaml_document_delete(&doc);
out_parser:
   yaml_parser_delete(&parser);
   free(text);
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
      warn(l, "%s (workspace package skipped)", cause);
      goto out;
   }
   json_t* jname = json_object_get(pkg, "name");
   const char* name = json_string_value(jname);
   if (!name || !*name) {
      if (jname) warn(l, "%s: \"name\" is not a string (using the directory name)", shown);
      name = base_name(dir);
   }
   for (size_t i = 0; i < l->p->nscripts; i++) {
      const Script* s = &l->p->scripts[i];
      if (s->in_workspace && strcmp(s->package, name) == 0 && strcmp(s->dir, dir) != 0) {
         warn(l, "%s: package name \"%s\" is also used by %s (skipped)", shown, name,
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
   StrVec pats = {0}, dirs = {0};
   json_t* excluded = set_new(); /* real paths */
   json_t* taken = set_new();    /* real paths already in dirs */
   patterns_from_package_json(l, root, &pats);
   patterns_from_pnpm_yaml(l, &pats);
   for (size_t i = 0; i < pats.n; i++) {
      if (pats.v[i][0] != '!') continue;
      StrVec found = {0};
      expand_real(l, pats.v[i] + 1, &found);
      for (size_t j = 0; j < found.n; j++) set_add(excluded, found.v[j]);
      sv_done(&found);
   }
   for (size_t i = 0; i < pats.n; i++) {
      if (pats.v[i][0] == '!') continue;
      StrVec found = {0};
      expand_real(l, pats.v[i], &found);
      size_t packages = 0;
      for (size_t j = 0; j < found.n; j++) {
         char* pj = pkg_join_path(found.v[j], "package.json");
         bool is_pkg = access(pj, F_OK) == 0;
         free(pj);
         if (!is_pkg || strcmp(found.v[j], l->p->dir) == 0) continue;
         packages++;
         if (set_has(excluded, found.v[j]) || !set_add(taken, found.v[j])) continue;
         pkg_sv_push(&dirs, xstrdup(found.v[j]));
      }
      if (packages == 0) warn(l, "workspace pattern \"%s\" matches no package", pats.v[i]);
      sv_done(&found);
   }
   for (size_t i = 0; i < dirs.n; i++) load_workspace_package(l, dirs.v[i]);
   json_decref(taken);
   json_decref(excluded);
   sv_done(&dirs);
   sv_done(&pats);
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
      warn(&l, "package.json: \"name\" is not a string (using the directory name)");
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
   StrVec pats = {0};
   if (rj) patterns_from_package_json(&l, rj, &pats);
   patterns_from_pnpm_yaml(&l, &pats);
   bool in = false, excluded = false;
   for (size_t i = 0; i < pats.n; i++) {
      bool neg = pats.v[i][0] == '!';
      StrVec found = {0};
      expand_real(&l, pats.v[i] + neg, &found);
      for (size_t j = 0; j < found.n; j++) {
         if (strcmp(found.v[j], dir) != 0) continue;
         if (neg)
            excluded = true;
         else
            in = true;
      }
      sv_done(&found);
   }
   sv_done(&pats);
   for (size_t i = 0; i < p.nwarnings; i++) free(p.warnings[i]);
   free(p.warnings);
   free(p.dir);
   free(path);
   free(cause);
   json_decref(rj);
   return in && !excluded;
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
