/* Workspaces: the package directories that package.json's "workspaces" and pnpm-workspace.yaml
 * name (globs with `*`, `**`, `!` exclusions, kept inside the project), and pnpm's settings in
 * that file. Part of loading a project (scripts/pkg.c). */
#include "scripts/pkg_impl.h"
#include "scripts/project_impl.h"

#include "core/util.h"

#include <dirent.h>
#include <errno.h>
#include <glob.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

/* How deep a `**` workspace pattern descends. */
#define PKG_MAX_DEPTH 8
/* How many directories the `**` walks of one load visit at most (documented in pkg.h). */
#define PKG_MAX_WALK_DIRS 50000

/* Orders walk entries by name, after their one-byte kind. */
static int cmp_name(const void* a, const void* b) {
   return strcmp(*(char* const*)a + 1, *(char* const*)b + 1);
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
         pkg_warn(l,
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
   pkg_sv_done(&subs);
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
      json_t* seen = pkg_set_new();
      walk(l, bases.v[i], is_inside(l->p->dir, bases.v[i]), rest, out, seen, depth);
      json_decref(seen);
   }
   pkg_sv_done(&bases);
}

/* The directories a pattern matches (real paths), each once. */
static void expand_real(Loader* l, const char* pat, StrVec* out) {
   StrVec raw = {0};
   json_t* have = pkg_set_new();
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
         pkg_warn(l, "package.json: %s[%zu] is not a string (skipped)", where, i);
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
      pkg_warn(l, "package.json: \"workspaces\" must be an array of patterns or "
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
      if (err != -ENOENT)
         pkg_warn(l, "cannot read pnpm-workspace.yaml: %s (workspaces ignored)", why);
      free(why);
      return;
   }
   yaml_parser_t parser;
   yaml_document_t doc;
   if (!yaml_parser_initialize(&parser)) util_die_oom();
   yaml_parser_set_input_string(&parser, (const unsigned char*)text, len);
   if (!yaml_parser_load(&parser, &doc)) {
      pkg_warn(l, "pnpm-workspace.yaml:%zu:%zu: %s%s%s (workspaces ignored)",
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
      pkg_warn(l, "pnpm-workspace.yaml: the top level is not a mapping (ignored)");
   } else if (seq && seq->type == YAML_SEQUENCE_NODE) {
      for (yaml_node_item_t* it = seq->data.sequence.items.start; it < seq->data.sequence.items.top;
           it++) {
         yaml_node_t* item = yaml_document_get_node(&doc, *it);
         if (item && item->type == YAML_SCALAR_NODE)
            pkg_sv_push(pats, xstrdup((char*)item->data.scalar.value));
         else
            pkg_warn(l, "pnpm-workspace.yaml:%zu: a package pattern is not a string (skipped)",
                     item ? item->start_mark.line + 1 : 0);
      }
   } else if (seq && !(seq->type == YAML_SCALAR_NODE && seq->data.scalar.length == 0)) {
      pkg_warn(l, "pnpm-workspace.yaml:%zu: \"packages\" is not a list (ignored)",
               seq->start_mark.line + 1);
   }
out_doc:
   yaml_document_delete(&doc);
out_parser:
   yaml_parser_delete(&parser);
   free(text);
}

/* The directories of the workspace's packages (real paths, in pattern order, each once, the
 * root and `!` exclusions left out) from package.json's "workspaces" and pnpm-workspace.yaml. */
void pkg_workspace_dirs(Loader* l, json_t* root, StrVec* dirs) {
   StrVec pats = {0};
   json_t* excluded = pkg_set_new(); /* real paths */
   json_t* taken = pkg_set_new();    /* real paths already in dirs */
   patterns_from_package_json(l, root, &pats);
   patterns_from_pnpm_yaml(l, &pats);
   for (size_t i = 0; i < pats.n; i++) {
      if (pats.v[i][0] != '!') continue;
      StrVec found = {0};
      expand_real(l, pats.v[i] + 1, &found);
      for (size_t j = 0; j < found.n; j++) set_add(excluded, found.v[j]);
      pkg_sv_done(&found);
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
         pkg_sv_push(dirs, xstrdup(found.v[j]));
      }
      if (packages == 0) pkg_warn(l, "workspace pattern \"%s\" matches no package", pats.v[i]);
      pkg_sv_done(&found);
   }
   json_decref(taken);
   json_decref(excluded);
   pkg_sv_done(&pats);
}

bool pkg_workspace_has(Loader* l, json_t* root, const char* dir) {
   StrVec pats = {0};
   if (root) patterns_from_package_json(l, root, &pats);
   patterns_from_pnpm_yaml(l, &pats);
   bool in = false, excluded = false;
   for (size_t i = 0; i < pats.n; i++) {
      bool neg = pats.v[i][0] == '!';
      StrVec found = {0};
      expand_real(l, pats.v[i] + neg, &found);
      for (size_t j = 0; j < found.n; j++) {
         if (strcmp(found.v[j], dir) != 0) continue;
         if (neg)
            excluded = true;
         else
            in = true;
      }
      pkg_sv_done(&found);
   }
   pkg_sv_done(&pats);
   return in && !excluded;
}
